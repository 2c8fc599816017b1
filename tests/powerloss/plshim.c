/*
 * plshim — an LD_PRELOAD library that records what a power loss would
 * leave of a directory tree, for tests/e2e/store_powerloss.test.mjs.
 *
 * The model is the strict POSIX one: a file's content survives only as
 * of its last fsync/fdatasync, and a name (creation, rename, unlink)
 * only once its directory has been fsynced. PL_DATA is the tree watched
 * (the server's DATA), PL_SHADOW a copy of it taken before the server
 * started (nothing unsynced at that point). The shim keeps PL_SHADOW as
 * the tree would be after a power cut at this instant:
 *
 *   fsync/fdatasync(file) under PL_DATA: its whole content is copied to
 *     PL_SHADOW/.inodes/<inode>, and every durable name of that inode
 *     in the shadow is pointed at the new copy;
 *   fsync/fdatasync(directory) under PL_DATA: the directory's entries in
 *     the shadow become what they are now: a regular file entry names
 *     its inode's last synced copy (empty if never synced), entries gone
 *     are removed, subdirectories are created.
 *
 * So after SIGKILL, PL_SHADOW is DATA after the power loss, with every
 * unflushed write dropped. PL_IGNORE (optional) is a file name whose
 * syncs are ignored, to show the test notices a missing flush.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] ? v : NULL;
}

/* The path of fd relative to PL_DATA, or NULL when outside it. */
static const char *rel_of(int fd, char *buf, size_t cap)
{
	char proc[64];
	const char *data = env("PL_DATA");
	size_t n;
	ssize_t k;

	if (!data || !env("PL_SHADOW"))
		return NULL;
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	k = readlink(proc, buf, cap - 1);
	if (k <= 0)
		return NULL;
	buf[k] = '\0';
	n = strlen(data);
	if (strncmp(buf, data, n) != 0)
		return NULL;
	if (buf[n] == '\0')
		return "";
	if (buf[n] != '/')
		return NULL;
	return buf + n + 1;
}

/* Copy the file's content into `to` in place: the names linked to it
 * see the new content, and a kill in the middle leaves a torn copy, as
 * a power cut during the flush would. */
static int copy_fd(int from, const char *to)
{
	char b[65536];
	off_t off = 0;
	ssize_t k;
	int out = open(to, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	if (out < 0)
		return -1;
	while ((k = pread(from, b, sizeof b, off)) > 0) {
		if (pwrite(out, b, (size_t)k, off) != k) {
			close(out);
			return -1;
		}
		off += k;
	}
	if (ftruncate(out, off) != 0) {
		close(out);
		return -1;
	}
	close(out);
	return 0;
}

static void inode_path(ino_t ino, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/.inodes/%llu", env("PL_SHADOW"), (unsigned long long)ino);
}

/* Point shadow name `path` at inode copy `ipath` (created empty when the
 * inode was never synced). */
static void point(const char *path, const char *ipath)
{
	char tmp[PATH_MAX + 8];

	if (access(ipath, F_OK) != 0) {
		int fd = open(ipath, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

		if (fd >= 0)
			close(fd);
	}
	snprintf(tmp, sizeof tmp, "%s.lnk", path);
	unlink(tmp);
	if (link(ipath, tmp) == 0)
		rename(tmp, path);
}

static void file_synced(int fd, const char *rel)
{
	struct stat st, a, b;
	char ipath[PATH_MAX], spath[PATH_MAX + 256];
	const char *ignore = env("PL_IGNORE");
	const char *base = strrchr(rel, '/');
	bool first;

	base = base ? base + 1 : rel;
	if (ignore && !strcmp(base, ignore))
		return;
	if (fstat(fd, &st) != 0)
		return;
	inode_path(st.st_ino, ipath, sizeof ipath);
	first = access(ipath, F_OK) != 0;
	if (copy_fd(fd, ipath) != 0)
		return;
	/* A name that was durable before the run (in the initial copy, not
	 * linked to any inode copy yet) is this file's: it adopts the copy. */
	snprintf(spath, sizeof spath, "%s/%s", env("PL_SHADOW"), rel);
	if (first && stat(spath, &a) == 0 && S_ISREG(a.st_mode) && stat(ipath, &b) == 0 &&
	    a.st_ino != b.st_ino && a.st_nlink == 1)
		point(spath, ipath);
}

static void dir_synced(int fd, const char *rel)
{
	char sdir[PATH_MAX + 256], path[PATH_MAX + 512], ipath[PATH_MAX];
	int dfd = dup(fd);
	DIR *d, *s;
	struct dirent *e;

	snprintf(sdir, sizeof sdir, "%s/%s", env("PL_SHADOW"), rel);
	/* The directory's own name is its parent's business (fsynced
	 * after it, as a new blob directory's parent is); its entries are
	 * recorded now, so the shadow path is made whole. */
	for (char *p = sdir + strlen(env("PL_SHADOW")) + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			mkdir(sdir, 0700);
			*p = '/';
		}
	}
	mkdir(sdir, 0700);
	if (dfd < 0)
		return;
	lseek(dfd, 0, SEEK_SET);
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return;
	}
	while ((e = readdir(d))) {
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", sdir, e->d_name);
		if (S_ISDIR(st.st_mode)) {
			mkdir(path, 0700);
		} else if (S_ISREG(st.st_mode)) {
			struct stat cur, ist;

			inode_path(st.st_ino, ipath, sizeof ipath);
			/* Already this inode's copy: nothing changes. */
			if (stat(path, &cur) == 0 && stat(ipath, &ist) == 0 &&
			    cur.st_ino == ist.st_ino)
				continue;
			/* A name from before the run keeps its content until
			 * its file is synced. */
			if (stat(path, &cur) == 0 && access(ipath, F_OK) != 0 && cur.st_nlink == 1)
				continue;
			point(path, ipath);
			/* The inode's mode goes with the journal commit that a
			 * directory fsync makes on ext4 (a blob's 0444). */
			chmod(path, st.st_mode & 07777);
		}
	}
	closedir(d);
	/* Names gone from DATA are gone from the shadow. */
	s = opendir(sdir);
	if (!s)
		return;
	while ((e = readdir(s))) {
		struct stat st;

		if (e->d_name[0] == '.' &&
		    (!e->d_name[1] || !strcmp(e->d_name, "..") || !strcmp(e->d_name, ".inodes")))
			continue;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT) {
			snprintf(path, sizeof path, "%s/%s", sdir, e->d_name);
			unlink(path);
		}
	}
	closedir(s);
}

static void synced(int fd)
{
	char buf[PATH_MAX];
	const char *rel = rel_of(fd, buf, sizeof buf);
	struct stat st;

	if (!rel || fstat(fd, &st) != 0)
		return;
	pthread_mutex_lock(&lock);
	if (S_ISDIR(st.st_mode))
		dir_synced(fd, rel);
	else if (S_ISREG(st.st_mode))
		file_synced(fd, rel);
	pthread_mutex_unlock(&lock);
}

int fsync(int fd)
{
	int rc;

	if (!real_fsync)
		real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
	rc = real_fsync(fd);
	if (rc == 0)
		synced(fd);
	return rc;
}

int fdatasync(int fd)
{
	int rc;

	if (!real_fdatasync)
		real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
	rc = real_fdatasync(fd);
	if (rc == 0)
		synced(fd);
	return rc;
}
