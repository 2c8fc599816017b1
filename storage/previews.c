/* previews — see previews.h. */
#include "previews.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cas.h"
#include "digest.h"
#include "smallblob.h"

#define MEASURE_EVERY 600 /* seconds between measures of the blob store */

struct previews {
	char *dir; /* DATA/previews */
	struct cas *cas;
	uint64_t fixed_limit; /* 0: a share of the blob store */
	_Atomic uint64_t limit, bytes, files, hits, misses, evicted;
	_Atomic uint64_t tmp_seq;
	pthread_mutex_t evict_lock;
	time_t measured_at;
};

static bool hash_of(const char *name, char *hash)
{
	if (strlen(name) < DIGEST_SHA256_HEX_LEN)
		return false;
	memcpy(hash, name, DIGEST_SHA256_HEX_LEN);
	hash[DIGEST_SHA256_HEX_LEN] = '\0';
	return cas_hash_valid(hash);
}

struct entry {
	char *path;
	time_t mtime;
	uint64_t size;
};

struct walk {
	struct entry *e;
	size_t n, cap;
	uint64_t bytes;
	bool keep; /* collect entries, not only sum */
};

/* Every file in DATA/previews/??/ (the temp directory is not walked). */
static enum err walk_cache(const char *dir, struct walk *w)
{
	DIR *top = opendir(dir);
	struct dirent *d;

	if (!top)
		return errno == ENOENT ? ERR_OK : err_from_errno(errno, "opendir");
	while ((d = readdir(top))) {
		char sub[PATH_MAX];
		DIR *sd;
		struct dirent *f;

		if (strlen(d->d_name) != 2 || !strcmp(d->d_name, ".."))
			continue;
		if (snprintf(sub, sizeof sub, "%s/%s", dir, d->d_name) >= (int)sizeof sub ||
		    !(sd = opendir(sub)))
			continue;
		while ((f = readdir(sd))) {
			char path[PATH_MAX];
			struct stat st;

			if (f->d_name[0] == '.')
				continue;
			if (snprintf(path, sizeof path, "%s/%s", sub, f->d_name) >=
				    (int)sizeof path ||
			    stat(path, &st) != 0 || !S_ISREG(st.st_mode))
				continue;
			w->bytes += (uint64_t)st.st_size;
			if (!w->keep) {
				w->n++;
				continue;
			}
			if (w->n == w->cap) {
				size_t cap = w->cap ? w->cap * 2 : 256;
				struct entry *e = realloc(w->e, cap * sizeof *e);

				if (!e) {
					closedir(sd);
					closedir(top);
					return err_set(ERR_NOMEM, "out of memory");
				}
				w->e = e;
				w->cap = cap;
			}
			w->e[w->n].path = strdup(path);
			if (!w->e[w->n].path) {
				closedir(sd);
				closedir(top);
				return err_set(ERR_NOMEM, "out of memory");
			}
			w->e[w->n].mtime = st.st_mtime;
			w->e[w->n].size = (uint64_t)st.st_size;
			w->n++;
		}
		closedir(sd);
	}
	closedir(top);
	return ERR_OK;
}

static void walk_free(struct walk *w)
{
	if (w->keep)
		for (size_t i = 0; i < w->n; i++)
			free(w->e[i].path);
	free(w->e);
}

static enum err sum_blobs(void *ctx, const char *rel, const char *name, const struct stat *st)
{
	(void)rel;
	(void)name;
	if (S_ISREG(st->st_mode))
		*(uint64_t *)ctx += (uint64_t)st->st_size;
	return ERR_OK;
}

static void measure_limit(struct previews *p)
{
	uint64_t blobs = 0, lim;

	if (p->fixed_limit) {
		atomic_store(&p->limit, p->fixed_limit);
		return;
	}
	if (p->cas)
		cas_walk(p->cas, sum_blobs, &blobs);
	lim = blobs / 100 * PREVIEWS_SHARE_PERCENT;
	atomic_store(&p->limit, lim < PREVIEWS_MIN_LIMIT ? PREVIEWS_MIN_LIMIT : lim);
	p->measured_at = time(NULL);
}

static void clean_tmp(const char *dir)
{
	char tmp[PATH_MAX];
	DIR *d;
	struct dirent *f;

	snprintf(tmp, sizeof tmp, "%s/tmp", dir);
	if (!(d = opendir(tmp)))
		return;
	while ((f = readdir(d)))
		if (f->d_name[0] != '.')
			unlinkat(dirfd(d), f->d_name, 0);
	closedir(d);
}

enum err previews_open(const char *data_dir, uint64_t limit, struct cas *cas, struct previews **out)
{
	struct previews *p = calloc(1, sizeof *p);
	char tmp[PATH_MAX];
	struct walk w = {0};
	enum err rc;

	*out = NULL;
	if (!p || asprintf(&p->dir, "%s/previews", data_dir) < 0) {
		free(p);
		return err_set(ERR_NOMEM, "out of memory");
	}
	snprintf(tmp, sizeof tmp, "%s/tmp", p->dir);
	if ((mkdir(p->dir, 0700) != 0 && errno != EEXIST) ||
	    (mkdir(tmp, 0700) != 0 && errno != EEXIST)) {
		rc = err_from_errno(errno, "mkdir");
		free(p->dir);
		free(p);
		return rc;
	}
	pthread_mutex_init(&p->evict_lock, NULL);
	p->cas = cas;
	p->fixed_limit = limit;
	clean_tmp(p->dir);
	rc = walk_cache(p->dir, &w);
	if (rc) {
		previews_close(p);
		return rc;
	}
	atomic_store(&p->bytes, w.bytes);
	atomic_store(&p->files, w.n);
	measure_limit(p);
	*out = p;
	return ERR_OK;
}

void previews_close(struct previews *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->evict_lock);
	free(p->dir);
	free(p);
}

bool previews_path(const struct previews *p, const char *hash, const char *suffix, char *buf,
		   size_t cap)
{
	int n;

	if (!cas_hash_valid(hash) || strchr(suffix, '/'))
		return false;
	n = snprintf(buf, cap, "%s/%.2s/%s%s", p->dir, hash, hash, suffix);
	return n > 0 && (size_t)n < cap;
}

bool previews_tmp_path(struct previews *p, const char *ext, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s/tmp/%d-%llu%s", p->dir, (int)getpid(),
			 (unsigned long long)atomic_fetch_add(&p->tmp_seq, 1), ext);

	return n > 0 && (size_t)n < cap && !strchr(ext, '/');
}

static void touch(const char *path) { utimensat(AT_FDCWD, path, NULL, 0); }

enum err previews_get(struct previews *p, const char *hash, const char *suffix, size_t max,
		      bool count, char **data, size_t *len)
{
	char path[PATH_MAX];
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd;

	*data = NULL;
	*len = 0;
	if (!previews_path(p, hash, suffix, path, sizeof path))
		return err_set(ERR_INVALID, "bad preview name");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (count)
			atomic_fetch_add(&p->misses, 1);
		return errno == ENOENT ? ERR_NOTFOUND : err_from_errno(errno, "open");
	}
	if (fstat(fd, &st) != 0 || (uint64_t)st.st_size > max) {
		close(fd);
		return err_set(ERR_CORRUPT, "cached preview too large");
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return err_set(ERR_NOMEM, "out of memory");
	}
	while (got < (size_t)st.st_size) {
		ssize_t k = read(fd, buf + got, (size_t)st.st_size - got);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	close(fd);
	buf[got] = '\0';
	touch(path);
	if (count)
		atomic_fetch_add(&p->hits, 1);
	*data = buf;
	*len = got;
	return ERR_OK;
}

bool previews_has(struct previews *p, const char *hash, const char *suffix)
{
	char path[PATH_MAX];

	if (!previews_path(p, hash, suffix, path, sizeof path) || access(path, F_OK) != 0)
		return false;
	touch(path);
	return true;
}

static int by_mtime(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->mtime < y->mtime ? -1 : x->mtime > y->mtime;
}

/* Least recently used first, down to 90% of the limit; `keep` (the file
 * just stored) goes last. */
static void evict(struct previews *p, const char *keep)
{
	struct walk w = {.keep = true};
	uint64_t limit, target, bytes;

	pthread_mutex_lock(&p->evict_lock);
	if (!p->fixed_limit && time(NULL) - p->measured_at > MEASURE_EVERY)
		measure_limit(p);
	limit = atomic_load(&p->limit);
	if (atomic_load(&p->bytes) <= limit || walk_cache(p->dir, &w) != ERR_OK) {
		pthread_mutex_unlock(&p->evict_lock);
		walk_free(&w);
		return;
	}
	qsort(w.e, w.n, sizeof *w.e, by_mtime);
	target = limit / 10 * 9;
	bytes = w.bytes;
	for (int pass = 0; pass < 2 && bytes > target; pass++)
		for (size_t i = 0; i < w.n && bytes > target; i++) {
			if (!w.e[i].path || (pass == 0 && !strcmp(w.e[i].path, keep)))
				continue;
			if (unlink(w.e[i].path) == 0 || errno == ENOENT) {
				bytes -= w.e[i].size;
				atomic_fetch_add(&p->evicted, 1);
			}
			free(w.e[i].path);
			w.e[i].path = NULL;
		}
	{
		uint64_t files = 0;

		for (size_t i = 0; i < w.n; i++)
			files += w.e[i].path != NULL;
		atomic_store(&p->files, files);
	}
	atomic_store(&p->bytes, bytes);
	pthread_mutex_unlock(&p->evict_lock);
	walk_free(&w);
}

enum err previews_put_file(struct previews *p, const char *tmp, const char *hash,
			   const char *suffix)
{
	char path[PATH_MAX], sub[PATH_MAX];
	struct stat st, old;
	bool had;

	if (!previews_path(p, hash, suffix, path, sizeof path)) {
		unlink(tmp);
		return err_set(ERR_INVALID, "bad preview name");
	}
	snprintf(sub, sizeof sub, "%s/%.2s", p->dir, hash);
	if (mkdir(sub, 0700) != 0 && errno != EEXIST) {
		enum err rc = err_from_errno(errno, "mkdir");

		unlink(tmp);
		return rc;
	}
	if (stat(tmp, &st) != 0) {
		enum err rc = err_from_errno(errno, "stat");

		unlink(tmp);
		return rc;
	}
	had = stat(path, &old) == 0;
	if (rename(tmp, path) != 0) {
		enum err rc = err_from_errno(errno, "rename");

		unlink(tmp);
		return rc;
	}
	if (had) {
		atomic_fetch_sub(&p->bytes, (uint64_t)old.st_size);
		atomic_fetch_sub(&p->files, 1);
	}
	atomic_fetch_add(&p->bytes, (uint64_t)st.st_size);
	atomic_fetch_add(&p->files, 1);
	evict(p, path);
	return ERR_OK;
}

enum err previews_put(struct previews *p, const char *hash, const char *suffix, const void *data,
		      size_t len)
{
	char tmp[PATH_MAX];
	const char *c = data;
	size_t done = 0;
	int fd;

	if (!previews_tmp_path(p, ".part", tmp, sizeof tmp))
		return err_set(ERR_INVALID, "bad preview name");
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_from_errno(errno, "open");
	while (done < len) {
		ssize_t k = write(fd, c + done, len - done);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			enum err rc = err_from_errno(errno ? errno : EIO, "write");

			close(fd);
			unlink(tmp);
			return rc;
		}
		done += (size_t)k;
	}
	close(fd);
	return previews_put_file(p, tmp, hash, suffix);
}

void previews_stats(struct previews *p, struct previews_stats *s)
{
	s->bytes = atomic_load(&p->bytes);
	s->files = atomic_load(&p->files);
	s->limit = atomic_load(&p->limit);
	s->hits = atomic_load(&p->hits);
	s->misses = atomic_load(&p->misses);
	s->evicted = atomic_load(&p->evicted);
}

/* Content `hash` is stored nowhere (a failed lookup keeps the preview). */
static bool content_gone(struct db *db, struct cas *cas, const char *hash)
{
	if (cas_stat(cas, hash, NULL) != ERR_NOTFOUND)
		return false;
	if (smallblob_stat(db, hash, NULL) == ERR_NOTFOUND)
		return true;
	err_clear();
	return false;
}

enum err previews_prune(const char *data_dir, struct db *db, struct cas *cas, uint64_t *removed)
{
	char dir[PATH_MAX];
	struct walk w = {.keep = true};
	enum err rc;

	snprintf(dir, sizeof dir, "%s/previews", data_dir);
	rc = walk_cache(dir, &w);
	for (size_t i = 0; !rc && i < w.n; i++) {
		const char *name = strrchr(w.e[i].path, '/') + 1;
		char hash[DIGEST_SHA256_HEX_LEN + 1];

		/* A name that is no cache file's, or whose blob is gone. */
		if (!hash_of(name, hash) || content_gone(db, cas, hash)) {
			if (unlink(w.e[i].path) == 0)
				(*removed)++;
		}
	}
	walk_free(&w);
	return rc;
}
