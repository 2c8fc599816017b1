/* cas — see cas.h. */
#include "cas.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "blobback.h"
#include "blobcache.h"
#include "db_internal.h"

/* Small pieces (a TLS record is at most 16 KiB) are gathered into writes
 * of this size; pieces at least this large go straight to write(). */
#define WRITE_BUF (1u << 20)
/* Writeback is started every WRITEBACK_WINDOW bytes and the window before
 * is waited for, so a large upload streams to disk while it is hashed
 * instead of piling up dirty pages for one long fdatasync at the end. */
#define WRITEBACK_WINDOW (8u << 20)
#define HASH_CHUNK (1u << 20)
#define TMP_PREFIX "cas-"
#define TMP_SUFFIX ".tmp"

struct cas {
	char *root;
	int blobs_fd;
	int tmp_fd;
	/* New blobs this process placed (not deduplicated): /metrics adds
	 * them to its last walk of DATA/blobs. */
	_Atomic uint64_t added, added_bytes;
	/* Where blobs go when not DATA/blobs (DATA/blob-store says): the
	 * writer still hashes into a temp file here, then hands it over. */
	struct blobback *back;
	struct blobcache *cache; /* local copies of hot blobs; NULL: none */
};

struct cas_writer {
	struct cas *cas;
	int fd;
	int dir_fd;      /* directory holding the file */
	bool own_dir_fd; /* resumable: we opened dir_fd */
	bool resumable;
	char *name; /* file name in dir_fd */
	struct digest *sha;
	struct digest *side;
	enum digest_alg side_alg;
	unsigned char *buf;
	size_t buf_cap; /* WRITE_BUF, or the announced size when smaller */
	size_t used;
	uint64_t size;     /* bytes accepted */
	uint64_t flushed;  /* bytes handed to write() */
	uint64_t reserved; /* bytes fallocate()d */
	uint64_t wb_prev;  /* start of the window being waited for */
	uint64_t wb_start; /* start of the window being written back */
	enum err failed;
	char failed_detail[256];
	unsigned char *small; /* cas_writer_small's copy of a partial file */
};

struct cas_reader {
	int fd;
	uint64_t size;
	struct blobback *back;       /* reading from an object store: no fd */
	struct blobcache_fill *fill; /* keeping a copy of what is read */
	char hash[DIGEST_SHA256_HEX_LEN + 1];
};

bool cas_hash_valid(const char *hash)
{
	size_t i;

	if (!hash)
		return false;
	for (i = 0; hash[i]; i++)
		if (!((hash[i] >= '0' && hash[i] <= '9') || (hash[i] >= 'a' && hash[i] <= 'f')))
			return false;
	return i == DIGEST_SHA256_HEX_LEN;
}

/* "ab/cd/<hash>" relative to DATA/blobs. */
static bool rel_path(const char *hash, char *buf, size_t cap)
{
	if (!cas_hash_valid(hash))
		return false;
	return (size_t)snprintf(buf, cap, "%.2s/%.2s/%s", hash, hash + 2, hash) < cap;
}

bool cas_blob_path(const struct cas *cas, const char *hash, char *buf, size_t cap)
{
	if (!cas_hash_valid(hash))
		return false;
	return (size_t)snprintf(buf, cap, "%s/blobs/%.2s/%.2s/%s", cas->root, hash, hash + 2,
				hash) < cap;
}

int cas_blobs_fd(const struct cas *cas) { return cas->blobs_fd; }

static enum err open_dir(int at, const char *path, bool create, int *out)
{
	int fd;

	if (create && mkdirat(at, path, 0700) != 0 && errno != EEXIST)
		return err_from_errno(errno, path);
	fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_from_errno(errno, path);
	*out = fd;
	return ERR_OK;
}

enum err cas_open(const char *data_dir, unsigned flags, struct cas **out)
{
	struct cas *cas;
	char path[4096];
	enum err rc;

	*out = NULL;
	cas = calloc(1, sizeof *cas);
	if (!cas)
		return err_set(ERR_NOMEM, "out of memory");
	cas->blobs_fd = cas->tmp_fd = -1;
	cas->root = strdup(data_dir);
	if (!cas->root) {
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	snprintf(path, sizeof path, "%s/blobs", data_dir);
	rc = open_dir(AT_FDCWD, path, flags & CAS_OPEN_CREATE, &cas->blobs_fd);
	if (rc)
		goto out;
	snprintf(path, sizeof path, "%s/tmp", data_dir);
	rc = open_dir(AT_FDCWD, path, flags & CAS_OPEN_CREATE, &cas->tmp_fd);
	if (rc)
		goto out;
	{
		struct blobback_config bc;

		rc = blobback_config_read(data_dir, &bc);
		if (!rc && !strcmp(bc.store, "s3"))
			rc = blobback_s3_open(&bc, &cas->back);
		if (rc)
			goto out;
	}
	if (flags & CAS_OPEN_CLEAN)
		rc = cas_clean_tmp(cas, 0, NULL);
out:
	if (rc) {
		cas_close(cas);
		return rc;
	}
	*out = cas;
	return ERR_OK;
}

void cas_close(struct cas *cas)
{
	if (!cas)
		return;
	if (cas->blobs_fd >= 0)
		close(cas->blobs_fd);
	if (cas->tmp_fd >= 0)
		close(cas->tmp_fd);
	blobcache_close(cas->cache);
	blobback_close(cas->back);
	free(cas->root);
	free(cas);
}

enum err cas_stat(const struct cas *cas, const char *hash, uint64_t *size)
{
	char rel[80];
	struct stat st;

	if (!rel_path(hash, rel, sizeof rel))
		return err_set(ERR_INVALID, "'%.80s' is not a blob name", hash ? hash : "");
	if (cas->back)
		return blobback_stat(cas->back, hash, size, NULL);
	if (fstatat(cas->blobs_fd, rel, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno == ENOENT)
			return err_set(ERR_NOTFOUND, "blob %s is missing", hash);
		return err_from_errno(errno, rel);
	}
	if (!S_ISREG(st.st_mode))
		return err_set(ERR_CORRUPT, "blob %s is not a regular file", hash);
	if (size)
		*size = (uint64_t)st.st_size;
	return ERR_OK;
}

/* ---- writer ---- */

/* Record the first failure; later calls return it again. */
static enum err writer_fail(struct cas_writer *w, enum err code)
{
	w->failed = code;
	snprintf(w->failed_detail, sizeof w->failed_detail, "%s", err_detail());
	/* A temp file is useless now, and on a full disk its blocks are
	 * exactly what others need back. */
	if (!w->resumable && w->fd >= 0) {
		unlinkat(w->dir_fd, w->name, 0);
		close(w->fd);
		w->fd = -1;
	}
	return code;
}

static enum err writer_errno(struct cas_writer *w, int errnum, const char *what)
{
	if (errnum == ENOSPC || errnum == EDQUOT)
		return writer_fail(w, err_set(ERR_NOSPACE,
					      "not enough disk space to store the content "
					      "(%s after %llu bytes: %s)",
					      what, (unsigned long long)w->size, strerror(errnum)));
	return writer_fail(w, err_set(errnum == ENOMEM ? ERR_NOMEM : ERR_IO,
				      "storing content: %s: %s", what, strerror(errnum)));
}

static enum err writer_dead(struct cas_writer *w)
{
	return err_set(w->failed, "%s", w->failed_detail);
}

/* Create the temp file of a cas_writer_new writer. Deferred until the
 * first bytes go to disk, so that a small upload creates its file on
 * the thread that stores it rather than on the event loop that
 * receives it. */
static enum err temp_create(struct cas_writer *w)
{
	enum err rc;

	if (w->fd >= 0)
		return ERR_OK;
	w->fd = openat(w->dir_fd, w->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		rc = err_from_errno(errno, "create temp file");
		if (rc == ERR_NOSPACE)
			rc = err_set(ERR_NOSPACE, "not enough disk space to store the content");
		return rc;
	}
	/* The lock tells cleaners (cas_clean_tmp, in any process) that this
	 * file is alive; it goes away with the descriptor, even on SIGKILL.
	 * Shared, because after the rename it is the hold on the blob
	 * (cas_blob.held), which other writers storing the same content
	 * share. */
	if (flock(w->fd, LOCK_SH | LOCK_NB) != 0) {
		rc = err_from_errno(errno, "lock temp file");
		unlinkat(w->dir_fd, w->name, 0);
		close(w->fd);
		w->fd = -1;
		return rc;
	}
	return ERR_OK;
}

static void writeback(struct cas_writer *w)
{
	if (w->flushed - w->wb_start < WRITEBACK_WINDOW)
		return;
	/* Failures here are not fatal: fdatasync at commit reports them. */
	sync_file_range(w->fd, (off64_t)w->wb_start, (off64_t)(w->flushed - w->wb_start),
			SYNC_FILE_RANGE_WRITE);
	if (w->wb_start > w->wb_prev) {
		sync_file_range(w->fd, (off64_t)w->wb_prev, (off64_t)(w->wb_start - w->wb_prev),
				SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
					SYNC_FILE_RANGE_WAIT_AFTER);
		/* Drop-behind: the window is on disk, so its pages are clean and
		 * can go. The next windows then reuse freshly freed pages
		 * instead of taking new ones from the free pool, which costs
		 * several times the copy itself (measured: writing 1 GiB took
		 * 2.2 s of CPU, 0.6 s with this), and a large upload does not
		 * push the documents people read out of the page cache. */
		posix_fadvise(w->fd, (off_t)w->wb_prev, (off_t)(w->wb_start - w->wb_prev),
			      POSIX_FADV_DONTNEED);
	}
	w->wb_prev = w->wb_start;
	w->wb_start = w->flushed;
}

static enum err write_out(struct cas_writer *w, const unsigned char *p, size_t n)
{
	enum err rc = temp_create(w);

	if (rc)
		return writer_fail(w, rc);
	while (n > 0) {
		ssize_t k = write(w->fd, p, n);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return writer_errno(w, errno, "write");
		}
		p += k;
		n -= (size_t)k;
		w->flushed += (uint64_t)k;
	}
	writeback(w);
	return ERR_OK;
}

static enum err writer_flush(struct cas_writer *w)
{
	enum err rc;

	if (w->failed)
		return writer_dead(w);
	if (w->used == 0)
		return ERR_OK;
	rc = write_out(w, w->buf, w->used);
	w->used = 0;
	return rc;
}

static struct cas_writer *writer_alloc(struct cas *cas)
{
	struct cas_writer *w = calloc(1, sizeof *w);

	if (!w)
		return NULL;
	w->cas = cas;
	w->fd = -1;
	w->dir_fd = -1;
	w->buf_cap = WRITE_BUF;
	w->sha = digest_new(DIGEST_SHA256);
	if (!w->sha) {
		free(w);
		return NULL;
	}
	return w;
}

static void writer_free(struct cas_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	if (w->own_dir_fd && w->dir_fd >= 0)
		close(w->dir_fd);
	digest_free(w->sha);
	digest_free(w->side);
	free(w->buf);
	free(w->small);
	free(w->name);
	free(w);
}

enum err cas_writer_new(struct cas *cas, uint64_t size_hint, struct cas_writer **out)
{
	struct cas_writer *w;
	unsigned char rnd[12];
	char hex[2 * sizeof rnd + 1];
	enum err rc;
	int e;

	*out = NULL;
	w = writer_alloc(cas);
	if (!w)
		return err_set(ERR_NOMEM, "out of memory");
	w->dir_fd = cas->tmp_fd;
	/* A small body gets a buffer of its size: a megabyte per upload
	 * cost each pool thread's heap page faults and mprotect calls. */
	if (size_hint > 0 && size_hint < WRITE_BUF)
		w->buf_cap = (size_t)size_hint;
	rc = digest_random(rnd, sizeof rnd);
	if (rc)
		goto out;
	digest_hex(rnd, sizeof rnd, hex);
	if (asprintf(&w->name, TMP_PREFIX "%s" TMP_SUFFIX, hex) < 0) {
		w->name = NULL;
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	/* Small bodies fit in what the filesystem has anyway; reserving is
	 * for the large ones, where failing before the body is read saves
	 * the client from sending it. */
	if (size_hint > WRITE_BUF) {
		rc = temp_create(w);
		if (rc)
			goto out;
		/* fallocate(2), not posix_fallocate: glibc would emulate the
		 * latter by writing every block where the filesystem lacks it. */
		e = fallocate(w->fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)size_hint) == 0 ? 0 : errno;
		if (e == ENOSPC || e == EDQUOT || e == EFBIG) {
			rc = err_set(ERR_NOSPACE, "not enough disk space to store %llu bytes",
				     (unsigned long long)size_hint);
			goto out;
		}
		/* Other failures (EOPNOTSUPP...) only lose the early refusal. */
		if (e == 0)
			w->reserved = size_hint;
	}
out:
	if (rc) {
		if (w->fd >= 0)
			unlinkat(cas->tmp_fd, w->name, 0);
		writer_free(w);
		return rc;
	}
	*out = w;
	return ERR_OK;
}

/* Hash fd[0..size) into w->sha (a fresh state). */
static enum err rehash(struct cas_writer *w, uint64_t size)
{
	unsigned char *chunk = malloc(HASH_CHUNK);
	uint64_t off = 0;
	enum err rc = ERR_OK;

	if (!chunk)
		return err_set(ERR_NOMEM, "out of memory");
	digest_free(w->sha);
	w->sha = digest_new(DIGEST_SHA256);
	if (!w->sha) {
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	while (off < size) {
		size_t want = size - off < HASH_CHUNK ? (size_t)(size - off) : HASH_CHUNK;
		ssize_t k = pread(w->fd, chunk, want, (off_t)off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			rc = err_from_errno(errno, "read partial upload");
			goto out;
		}
		if (k == 0) {
			rc = err_set(ERR_IO, "partial upload shrank while being read");
			goto out;
		}
		digest_update(w->sha, chunk, (size_t)k);
		off += (uint64_t)k;
	}
out:
	free(chunk);
	return rc;
}

enum err cas_writer_resume(struct cas *cas, const char *path, struct cas_writer **out)
{
	struct cas_writer *w;
	const char *slash = strrchr(path, '/');
	char *dir = NULL;
	struct stat st;
	enum err rc = ERR_OK;

	*out = NULL;
	if (path[0] != '/' || !slash || !slash[1])
		return err_set(ERR_INVALID, "partial upload path must be absolute");
	w = writer_alloc(cas);
	if (!w)
		return err_set(ERR_NOMEM, "out of memory");
	w->resumable = true;
	dir = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
	w->name = strdup(slash + 1);
	if (!dir || !w->name) {
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = open_dir(AT_FDCWD, dir, false, &w->dir_fd);
	if (rc)
		goto out;
	w->own_dir_fd = true;
	w->fd = openat(w->dir_fd, w->name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (w->fd < 0) {
		rc = err_from_errno(errno, "open partial upload");
		goto out;
	}
	if (flock(w->fd, LOCK_EX | LOCK_NB) != 0) {
		rc = errno == EWOULDBLOCK
			     ? err_set(ERR_LOCKED,
				       "this upload is being written by another request")
			     : err_from_errno(errno, "lock partial upload");
		goto out;
	}
	if (fstat(w->fd, &st) != 0) {
		rc = err_from_errno(errno, "stat partial upload");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = err_set(ERR_CORRUPT, "partial upload is not a regular file");
		goto out;
	}
	rc = rehash(w, (uint64_t)st.st_size);
	if (rc)
		goto out;
	if (lseek(w->fd, st.st_size, SEEK_SET) < 0) {
		rc = err_from_errno(errno, "seek partial upload");
		goto out;
	}
	w->size = w->flushed = w->wb_prev = w->wb_start = (uint64_t)st.st_size;
out:
	free(dir);
	if (rc) {
		writer_free(w);
		return rc;
	}
	*out = w;
	return ERR_OK;
}

enum err cas_writer_write(struct cas_writer *w, const void *data, size_t len)
{
	const unsigned char *p = data;

	if (w->failed)
		return writer_dead(w);
	if (len == 0)
		return ERR_OK;
	digest_update(w->sha, p, len);
	if (w->side)
		digest_update(w->side, p, len);
	w->size += len;
	if (w->used == 0 && len >= WRITE_BUF)
		return write_out(w, p, len);
	if (!w->buf) {
		w->buf = malloc(w->buf_cap);
		if (!w->buf)
			return writer_fail(w, err_set(ERR_NOMEM, "out of memory"));
	}
	while (len > 0) {
		size_t n;
		enum err rc;

		/* A full buffer is written out only when more comes: content
		 * of exactly the announced size stays in memory, so it can
		 * still go to the small tier (cas_writer_small). More than was
		 * announced gets the full buffer. */
		if (w->used == w->buf_cap && w->buf_cap < WRITE_BUF) {
			unsigned char *grown = realloc(w->buf, WRITE_BUF);

			if (!grown)
				return writer_fail(w, err_set(ERR_NOMEM, "out of memory"));
			w->buf = grown;
			w->buf_cap = WRITE_BUF;
		}
		if (w->used == w->buf_cap) {
			rc = writer_flush(w);
			if (rc)
				return rc;
		}
		n = w->buf_cap - w->used < len ? w->buf_cap - w->used : len;
		memcpy(w->buf + w->used, p, n);
		w->used += n;
		p += n;
		len -= n;
	}
	return ERR_OK;
}

uint64_t cas_writer_size(const struct cas_writer *w) { return w->size; }

enum err cas_writer_side_begin(struct cas_writer *w, enum digest_alg alg)
{
	if (w->failed)
		return writer_dead(w);
	digest_free(w->side);
	w->side = digest_new(alg);
	w->side_alg = alg;
	if (!w->side)
		return err_set(ERR_NOMEM, "out of memory");
	return ERR_OK;
}

size_t cas_writer_side_end(struct cas_writer *w, unsigned char *out)
{
	size_t n;

	if (!w->side)
		return 0;
	digest_final(w->side, out);
	n = w->side_alg == DIGEST_SHA1 ? DIGEST_SHA1_LEN : DIGEST_SHA256_LEN;
	digest_free(w->side);
	w->side = NULL;
	return n;
}

enum err cas_writer_sync(struct cas_writer *w)
{
	enum err rc = w->failed ? writer_dead(w) : temp_create(w);

	if (!rc)
		rc = writer_flush(w);
	if (rc)
		return rc;
	if (fdatasync(w->fd) != 0)
		return writer_errno(w, errno, "fdatasync");
	return ERR_OK;
}

enum err cas_writer_start_sync(struct cas_writer *w)
{
	enum err rc = w->failed ? writer_dead(w) : temp_create(w);

	if (!rc)
		rc = writer_flush(w);
	if (rc)
		return rc;
	/* Only a head start: errors are fdatasync's to report. */
	sync_file_range(w->fd, (off64_t)w->wb_start, 0, SYNC_FILE_RANGE_WRITE);
	return ERR_OK;
}

bool cas_writer_small(struct cas_writer *w, size_t max, const unsigned char **data, size_t *len)
{
	size_t done = 0;

	if (w->failed || w->size > max)
		return false;
	if (w->flushed == 0) {
		*data = w->buf ? w->buf : (const unsigned char *)"";
		*len = w->used;
		return true;
	}
	/* A resumable upload's earlier requests are in its partial file. */
	if (!w->resumable || w->small)
		return false;
	w->small = malloc(w->size ? w->size : 1);
	if (!w->small)
		return false;
	while (done < w->flushed) {
		ssize_t k = pread(w->fd, w->small + done, w->flushed - done, (off_t)done);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			free(w->small);
			w->small = NULL;
			return false;
		}
		done += (size_t)k;
	}
	if (w->used)
		memcpy(w->small + done, w->buf, w->used);
	*data = w->small;
	*len = w->size;
	return true;
}

bool cas_writer_hash(const struct cas_writer *w, char hex[DIGEST_SHA256_HEX_LEN + 1])
{
	unsigned char md[DIGEST_SHA256_LEN];

	if (w->failed || !digest_peek(w->sha, md))
		return false;
	digest_hex(md, sizeof md, hex);
	return true;
}

enum err cas_writer_truncate(struct cas_writer *w, uint64_t size)
{
	enum err rc = writer_flush(w);

	if (rc)
		return rc;
	if (size > w->size)
		return err_set(ERR_INVALID, "cannot truncate %llu bytes of content to %llu",
			       (unsigned long long)w->size, (unsigned long long)size);
	if (ftruncate(w->fd, (off_t)size) != 0)
		return writer_errno(w, errno, "truncate");
	if (lseek(w->fd, (off_t)size, SEEK_SET) < 0)
		return writer_errno(w, errno, "seek");
	rc = rehash(w, size);
	if (rc)
		return writer_fail(w, rc);
	digest_free(w->side);
	w->side = NULL;
	w->size = w->flushed = size;
	w->wb_prev = w->wb_start = size;
	if (w->reserved > size)
		w->reserved = size;
	return ERR_OK;
}

static enum err fsync_dir_at(int at, const char *path)
{
	int fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	enum err rc = ERR_OK;

	if (fd < 0)
		return err_from_errno(errno, "open blob directory");
	if (fsync(fd) != 0)
		rc = err_from_errno(errno, "fsync blob directory");
	close(fd);
	return rc;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Give the writer's file the name blobs/<rel> unless that name exists:
 * 0, or the errno (EEXIST when the name is taken). */
static int publish(struct cas_writer *w, const char *rel)
{
	int blobs = w->cas->blobs_fd;

	if (renameat2(w->dir_fd, w->name, blobs, rel, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return errno;
	/* No RENAME_NOREPLACE on this filesystem: link() never replaces. */
	if (linkat(w->dir_fd, w->name, blobs, rel, 0) != 0)
		return errno;
	unlinkat(w->dir_fd, w->name, 0);
	return 0;
}

/* Open the file at blobs/<rel> and lock it (`how`: LOCK_SH or LOCK_EX,
 * waiting) while it still has that name: *fd is the locked file, or -1
 * when the name is free (again). gc unlinks a blob only while holding
 * an exclusive lock on it and after checking that it is still the file
 * at the name, so a file locked here and found still linked cannot be
 * removed until the lock is dropped. */
static enum err lock_existing(int blobs, const char *rel, int how, int *fd, struct stat *st)
{
	struct stat at;

	*fd = openat(blobs, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (*fd < 0)
		return errno == ENOENT ? ERR_OK : err_from_errno(errno, "open stored blob");
	while (flock(*fd, how) != 0) {
		if (errno != EINTR) {
			enum err rc = err_from_errno(errno, "lock stored blob");

			close(*fd);
			*fd = -1;
			return rc;
		}
	}
	if (fstat(*fd, st) != 0 || st->st_nlink == 0 ||
	    fstatat(blobs, rel, &at, AT_SYMLINK_NOFOLLOW) != 0 || !same_file(st, &at)) {
		/* Removed or replaced while we waited: look again. */
		close(*fd);
		*fd = -1;
	}
	return ERR_OK;
}

/* Move the finished file to blobs/ab/cd/<hash>, or find that content
 * already there (deduplication), and hold the stored file against gc
 * (out->fd, a shared lock). Then make the directory entries durable. */
static enum err place(struct cas_writer *w, const char *hash, struct cas_blob *out)
{
	int blobs = w->cas->blobs_fd;
	char d1[3], d2[6], rel[80];
	bool made1 = false, made2 = false;
	struct stat st;
	enum err rc = ERR_OK;
	int e, fd = -1;

	snprintf(d1, sizeof d1, "%.2s", hash);
	snprintf(d2, sizeof d2, "%.2s/%.2s", hash, hash + 2);
	rel_path(hash, rel, sizeof rel);
	if (mkdirat(blobs, d1, 0700) == 0)
		made1 = true;
	else if (errno != EEXIST)
		return err_from_errno(errno, "create blob directory");
	if (mkdirat(blobs, d2, 0700) == 0)
		made2 = true;
	else if (errno != EEXIST)
		return err_from_errno(errno, "create blob directory");

	/* Each turn either settles or finds the name changed by another
	 * writer or gc meanwhile; a few turns always suffice in practice. */
	for (int turn = 0;; turn++) {
		if (turn == 16)
			return err_set(ERR_CONFLICT, "storing content: blob %s keeps changing",
				       hash);
		e = publish(w, rel);
		if (e == 0) {
			/* Ours is the stored file; its descriptor keeps the lock. */
			fd = w->fd;
			w->fd = -1;
			break;
		}
		if (e != EEXIST)
			return e == ENOSPC || e == EDQUOT
				       ? err_set(ERR_NOSPACE,
						 "not enough disk space to store the content")
				       : err_from_errno(e, "move blob into place");
		rc = lock_existing(blobs, rel, LOCK_SH, &fd, &st);
		if (rc)
			return rc;
		if (fd < 0)
			continue;
		if (S_ISREG(st.st_mode) && (uint64_t)st.st_size == w->size) {
			/* Same name, so same content: ours is not needed. */
			out->deduplicated = true;
			unlinkat(w->dir_fd, w->name, 0);
			break;
		}
		/* A damaged copy (wrong size): replace it with ours, under an
		 * exclusive lock so gc cannot unlink the name meanwhile. */
		close(fd);
		rc = lock_existing(blobs, rel, LOCK_EX, &fd, &st);
		if (rc)
			return rc;
		if (fd < 0)
			continue;
		if (renameat(w->dir_fd, w->name, blobs, rel) != 0) {
			rc = err_from_errno(errno, "replace damaged blob");
			close(fd);
			return rc;
		}
		close(fd);
		fd = w->fd;
		w->fd = -1;
		break;
	}
	out->fd = fd;
	out->held = true;
	/* Even a deduplicated blob's entry is fsynced: its writer may have
	 * died between its rename and its own directory fsync. */
	rc = fsync_dir_at(blobs, d2);
	if (!rc && made2)
		rc = fsync_dir_at(blobs, d1);
	if (!rc && made1)
		rc = fsync_dir_at(blobs, ".");
	return rc;
}

/* On an object store the hold of a blob (locally a shared flock on its
 * file) is a read lock on one byte of DATA/blob-holds, the blob's stripe
 * (its first four hex digits), on an open description of its own. The
 * writer takes it before it looks for the object and keeps it until
 * cas_blob_release, after the referencing commit; gc deletes an object
 * only under the stripe's write lock, tried without waiting inside its
 * write transaction (cas_remove: ERR_LOCKED while held). So no upload
 * finds an object present and then commits a reference to it after gc
 * deleted it, crash or not. OFD locks: threads of one process exclude
 * each other too, and a lock goes with its process. */
static enum err hold_stripe(const struct cas *cas, const char *hash, short type, int *fd_out)
{
	char path[4096], digits[5];
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_len = 1};
	int fd;

	*fd_out = -1;
	memcpy(digits, hash, 4);
	digits[4] = 0;
	fl.l_start = (off_t)strtol(digits, NULL, 16);
	snprintf(path, sizeof path, "%s/blob-holds", cas->root);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_from_errno(errno, "open DATA/blob-holds");
	while (fcntl(fd, type == F_RDLCK ? F_OFD_SETLKW : F_OFD_SETLK, &fl) != 0) {
		int e = errno;

		if (e == EINTR)
			continue;
		close(fd);
		if (e == EAGAIN || e == EACCES)
			return err_set(ERR_LOCKED, "blob %s is being stored", hash);
		return err_from_errno(e, "lock DATA/blob-holds");
	}
	*fd_out = fd;
	return ERR_OK;
}

/* The object store's turn: the temp file is complete and hashed; the
 * store's own replication makes it durable, so no fdatasync here. The
 * hold is the stripe's read lock (hold_stripe), taken before the dedup
 * HEAD. The temp file's name goes, its descriptor stays open:
 * cas_blob_release confirms the object after the referencing commit and
 * stores it again from this descriptor if it went behind consort's back
 * (docs/storage.md). */
static enum err store_remote(struct cas_writer *w, struct cas_blob *out)
{
	unsigned char md[DIGEST_SHA256_LEN];
	bool dedup = false;
	enum err rc;
	int hold;

	digest_final(w->sha, md);
	digest_hex(md, sizeof md, out->hash);
	out->size = w->size;
	rc = hold_stripe(w->cas, out->hash, F_RDLCK, &hold);
	if (!rc)
		rc = blobback_store(w->cas->back, out->hash, w->fd, w->size, &dedup);
	if (rc) {
		if (hold >= 0)
			close(hold);
		return rc;
	}
	unlinkat(w->dir_fd, w->name, 0);
	out->hold_fd = hold;
	out->deduplicated = dedup;
	out->fd = w->fd;
	out->held = true;
	out->cas = w->cas;
	w->fd = -1;
	if (!dedup) {
		atomic_fetch_add(&w->cas->added, 1);
		atomic_fetch_add(&w->cas->added_bytes, out->size);
	}
	return ERR_OK;
}

enum err cas_writer_store(struct cas_writer *w, struct cas_blob *out)
{
	unsigned char md[DIGEST_SHA256_LEN];
	enum err rc;

	memset(out, 0, sizeof *out);
	out->fd = -1;
	rc = w->failed ? writer_dead(w) : temp_create(w);
	if (!rc)
		rc = writer_flush(w);
	if (rc)
		goto out;
	/* Blocks reserved past the end stay allocated until a truncate. */
	if (w->reserved > w->flushed && ftruncate(w->fd, (off_t)w->flushed) != 0) {
		rc = writer_errno(w, errno, "truncate");
		goto out;
	}
	if (w->cas->back) {
		rc = store_remote(w, out);
		goto out;
	}
	/* The content is on disk before it has its name: a name, once
	 * durable, always means the whole content (deduplication trusts
	 * it). */
	if (fdatasync(w->fd) != 0) {
		rc = writer_errno(w, errno, "fdatasync");
		goto out;
	}
	digest_final(w->sha, md);
	digest_hex(md, sizeof md, out->hash);
	out->size = w->size;
	/* A resumable writer's exclusive lock (one writer per upload)
	 * becomes the shared hold every writer of a blob takes. */
	if (w->resumable && flock(w->fd, LOCK_SH) != 0) {
		rc = err_from_errno(errno, "lock partial upload");
		goto out;
	}
	/* Read-only before it gets its final name: a blob is never writable. */
	if (fchmod(w->fd, 0444) != 0) {
		rc = err_from_errno(errno, "make blob read-only");
		goto out;
	}
	rc = place(w, out->hash, out);
	if (rc)
		goto out;
	if (!out->deduplicated) {
		atomic_fetch_add(&w->cas->added, 1);
		atomic_fetch_add(&w->cas->added_bytes, out->size);
	}
out:
	if (rc) {
		enum err keep = rc;
		char detail[512];

		snprintf(detail, sizeof detail, "%s", err_detail());
		/* A partial upload stays where it was (its client was told
		 * of those bytes): writable again, for its caller to rewind. */
		if (w->fd >= 0 && w->resumable)
			(void)fchmod(w->fd, 0600);
		else if (w->fd >= 0)
			unlinkat(w->dir_fd, w->name, 0);
		cas_blob_release(out);
		memset(out, 0, sizeof *out);
		out->fd = -1;
		rc = err_set(keep, "%s", detail);
	}
	writer_free(w);
	return rc;
}

/* Copy from[0..len) to `to` at the same offsets. A rare path (a failed
 * commit), so plain reads and writes. */
static enum err copy_prefix(int from, int to, uint64_t len)
{
	unsigned char *buf = malloc(HASH_CHUNK);
	uint64_t off = 0;
	enum err rc = buf ? ERR_OK : err_set(ERR_NOMEM, "out of memory");

	while (!rc && off < len) {
		size_t want = len - off < HASH_CHUNK ? (size_t)(len - off) : HASH_CHUNK;
		ssize_t k = pread(from, buf, want, (off_t)off), put = 0;

		while (k > 0 && put < k) {
			ssize_t n = pwrite(to, buf + put, (size_t)(k - put), (off_t)off + put);

			if (n < 0 && errno != EINTR)
				k = -1;
			else if (n > 0)
				put += n;
		}
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			rc = errno == ENOSPC || errno == EDQUOT
				     ? err_set(ERR_NOSPACE, "not enough disk space to keep the "
							    "partial upload")
				     : err_from_errno(errno, "copy into partial upload");
		else if (k == 0)
			rc = err_set(ERR_IO, "stored blob shorter than %llu bytes",
				     (unsigned long long)len);
		else
			off += (uint64_t)k;
	}
	free(buf);
	return rc;
}

enum err cas_partial_from_blob(const struct cas_blob *b, const char *path, uint64_t len)
{
	const char *slash = strrchr(path, '/');
	char *dir = NULL;
	enum err rc = ERR_OK;
	int fd;

	if (!b->held || b->fd < 0 || len > b->size)
		return err_set(ERR_INVALID, "no held blob of at least %llu bytes to copy",
			       (unsigned long long)len);
	if (path[0] != '/' || !slash || !slash[1])
		return err_set(ERR_INVALID, "partial upload path must be absolute");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_from_errno(errno, "create partial upload");
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		rc = errno == EWOULDBLOCK
			     ? err_set(ERR_LOCKED,
				       "this upload is being written by another request")
			     : err_from_errno(errno, "lock partial upload");
		goto out;
	}
	if (ftruncate(fd, 0) != 0) {
		rc = err_from_errno(errno, "truncate partial upload");
		goto out;
	}
	rc = copy_prefix(b->fd, fd, len);
	if (!rc && fdatasync(fd) != 0)
		rc = err_from_errno(errno, "fdatasync partial upload");
	if (!rc) {
		dir = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
		rc = dir ? fsync_dir_at(AT_FDCWD, dir) : err_set(ERR_NOMEM, "out of memory");
	}
out:
	free(dir);
	close(fd);
	return rc;
}

bool cas_blob_release_asks_store(const struct cas_blob *b)
{
	return b && b->held && b->cas && b->cas->back && b->fd >= 0;
}

void cas_blob_release(struct cas_blob *b)
{
	if (!b || !b->held)
		return;
	if (cas_blob_release_asks_store(b) &&
	    blobback_confirm(b->cas->back, b->hash, b->fd, b->size) != ERR_OK)
		fprintf(stderr, "consort: blob %s could not be confirmed in the object store: %s\n",
			b->hash, err_detail());
	close(b->fd);
	b->fd = -1;
	if (b->cas && b->cas->back) {
		close(b->hold_fd); /* gc may delete it again once unreferenced */
		b->hold_fd = -1;
	}
	b->held = false;
}

void cas_writer_abort(struct cas_writer *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		unlinkat(w->dir_fd, w->name, 0);
	writer_free(w);
}

enum err cas_writer_close(struct cas_writer *w)
{
	enum err rc = ERR_OK;

	if (!w)
		return ERR_OK;
	if (!w->resumable) {
		cas_writer_abort(w);
		return ERR_OK;
	}
	if (!w->failed)
		rc = writer_flush(w);
	writer_free(w);
	return rc;
}

/* ---- reader ---- */

enum err cas_reader_open(const struct cas *cas, const char *hash, struct cas_reader **out)
{
	struct cas_reader *r;
	char rel[80];
	struct stat st;
	enum err rc = ERR_OK;

	*out = NULL;
	if (!rel_path(hash, rel, sizeof rel))
		return err_set(ERR_INVALID, "'%.80s' is not a blob name", hash ? hash : "");
	r = calloc(1, sizeof *r);
	if (!r)
		return err_set(ERR_NOMEM, "out of memory");
	if (cas->back) {
		int fd;

		/* A cached copy is read like a local blob: no request. */
		if (cas->cache && blobcache_get(cas->cache, hash, &fd, &r->size) == ERR_OK) {
			r->fd = fd;
			goto out;
		}
		r->fd = -1;
		r->back = cas->back;
		snprintf(r->hash, sizeof r->hash, "%s", hash);
		rc = blobback_stat(cas->back, hash, &r->size, NULL);
		if (!rc && cas->cache)
			r->fill = blobcache_fill_begin(cas->cache, hash, r->size);
		goto out;
	}
	r->fd = openat(cas->blobs_fd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (r->fd < 0) {
		rc = errno == ENOENT ? err_set(ERR_NOTFOUND, "blob %s is missing", hash)
				     : err_from_errno(errno, "open blob");
		goto out;
	}
	if (fstat(r->fd, &st) != 0) {
		rc = err_from_errno(errno, "stat blob");
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = err_set(ERR_CORRUPT, "blob %s is not a regular file", hash);
		goto out;
	}
	r->size = (uint64_t)st.st_size;
	posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
out:
	if (rc) {
		cas_reader_close(r);
		return rc;
	}
	*out = r;
	return ERR_OK;
}

enum err cas_reader_from_fd(int fd, struct cas_reader **out)
{
	struct cas_reader *r;
	struct stat st;

	*out = NULL;
	if (fstat(fd, &st) != 0) {
		enum err rc = err_from_errno(errno, "stat content");

		close(fd);
		return rc;
	}
	r = calloc(1, sizeof *r);
	if (!r) {
		close(fd);
		return err_set(ERR_NOMEM, "out of memory");
	}
	r->fd = fd;
	r->size = (uint64_t)st.st_size;
	*out = r;
	return ERR_OK;
}

uint64_t cas_reader_size(const struct cas_reader *r) { return r->size; }

enum err cas_reader_read(struct cas_reader *r, uint64_t offset, void *buf, size_t len, size_t *got)
{
	unsigned char *p = buf;
	size_t done = 0;

	*got = 0;
	if (offset >= r->size)
		return ERR_OK;
	if (len > r->size - offset)
		len = (size_t)(r->size - offset);
	if (r->back) {
		enum err rc = blobback_read(r->back, r->hash, offset, buf, len, got);

		if (!rc)
			blobcache_fill_add(r->fill, offset, buf, *got);
		if (!rc && *got < len)
			return err_set(ERR_CORRUPT, "blob is shorter than when it was opened");
		return rc;
	}
	while (done < len) {
		ssize_t k = pread(r->fd, p + done, len - done, (off_t)(offset + done));

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return err_from_errno(errno, "read blob");
		if (k == 0)
			return err_set(ERR_CORRUPT, "blob is shorter than when it was opened");
		done += (size_t)k;
	}
	*got = done;
	return ERR_OK;
}

int cas_reader_fd(const struct cas_reader *r) { return r->fd; }

void cas_reader_close(struct cas_reader *r)
{
	if (!r)
		return;
	blobcache_fill_end(r->fill);
	if (r->fd >= 0)
		close(r->fd);
	free(r);
}

/* ---- maintenance ---- */

static bool is_temp_name(const char *name)
{
	size_t n = strlen(name);

	return n > strlen(TMP_PREFIX TMP_SUFFIX) &&
	       !strncmp(name, TMP_PREFIX, strlen(TMP_PREFIX)) &&
	       !strcmp(name + n - strlen(TMP_SUFFIX), TMP_SUFFIX);
}

enum err cas_clean_tmp(struct cas *cas, int64_t min_age, uint64_t *removed)
{
	int dfd = dup(cas->tmp_fd);
	DIR *d;
	struct dirent *de;
	int64_t now = db_now();
	enum err rc = ERR_OK;

	if (dfd < 0)
		return err_from_errno(errno, "open DATA/tmp");
	/* Multipart uploads a dead writer left in the object store. */
	if (cas->back && blobback_clean(cas->back, min_age, removed) != ERR_OK)
		fprintf(stderr, "consort: aborting stale multipart uploads: %s\n", err_detail());
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return err_from_errno(errno, "open DATA/tmp");
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		struct stat st;
		int fd;

		if (!is_temp_name(de->d_name))
			continue;
		fd = openat(cas->tmp_fd, de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue; /* gone meanwhile */
		/* A live writer holds the lock; a dead one's went with it. */
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &st) == 0 &&
		    S_ISREG(st.st_mode) && (min_age <= 0 || (int64_t)st.st_mtime < now - min_age)) {
			if (unlinkat(cas->tmp_fd, de->d_name, 0) == 0) {
				if (removed)
					(*removed)++;
			} else if (errno != ENOENT) {
				rc = err_from_errno(errno, "remove abandoned temp file");
			}
		}
		close(fd);
	}
	closedir(d);
	return rc;
}

void cas_added(const struct cas *cas, uint64_t *count, uint64_t *bytes)
{
	struct cas *c = (struct cas *)cas;

	*count = atomic_load(&c->added);
	*bytes = atomic_load(&c->added_bytes);
}

enum err cas_remove(struct cas *cas, const char *hash)
{
	char rel[80];
	struct stat st, at;
	enum err rc = ERR_OK;
	int fd;

	if (!rel_path(hash, rel, sizeof rel))
		return err_set(ERR_INVALID, "'%.80s' is not a blob name", hash ? hash : "");
	if (cas->back) {
		rc = hold_stripe(cas, hash, F_WRLCK, &fd);
		if (!rc)
			rc = blobback_remove(cas->back, hash);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	fd = openat(cas->blobs_fd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOENT ? ERR_OK : err_from_errno(errno, "open blob");
	/* A writer about to reference this blob holds a shared lock on it
	 * (cas_blob.held); the exclusive lock is held across the unlink, and
	 * a writer that finds the file unlinked after waiting for it looks
	 * again (place). The name must still be this file: a writer may have
	 * replaced a damaged copy meanwhile. */
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		rc = errno == EWOULDBLOCK ? err_set(ERR_LOCKED, "blob %s is being stored", hash)
					  : err_from_errno(errno, "lock blob");
	} else if (fstat(fd, &st) != 0 ||
		   fstatat(cas->blobs_fd, rel, &at, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno != ENOENT)
			rc = err_from_errno(errno, "stat blob");
	} else if (!same_file(&st, &at)) {
		rc = err_set(ERR_LOCKED, "blob %s was replaced meanwhile", hash);
	} else if (unlinkat(cas->blobs_fd, rel, 0) != 0 && errno != ENOENT) {
		rc = err_from_errno(errno, "remove blob");
	}
	close(fd);
	return rc;
}

/* Open a directory relative to `at` for reading its entries. */
static DIR *open_dir_stream(int at, const char *name)
{
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	DIR *d;

	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (!d)
		close(fd);
	return d;
}

enum err cas_walk(struct cas *cas, cas_walk_fn fn, void *ctx)
{
	DIR *d1 = open_dir_stream(cas->blobs_fd, "."), *d2 = NULL, *d3 = NULL;
	struct dirent *e1, *e2, *e3;
	char rel[3 * 256 + 4];
	struct stat st;
	enum err rc = ERR_OK;

	if (cas->back) {
		if (d1)
			closedir(d1);
		return blobback_walk(cas->back, fn, ctx);
	}
	if (!d1)
		return err_from_errno(errno, "open DATA/blobs");
	while (!rc && (e1 = readdir(d1))) {
		if (e1->d_name[0] == '.' && (!e1->d_name[1] || !strcmp(e1->d_name, "..")))
			continue;
		if (fstatat(dirfd(d1), e1->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (!S_ISDIR(st.st_mode)) {
			snprintf(rel, sizeof rel, "%s", e1->d_name);
			rc = fn(ctx, rel, e1->d_name, &st);
			continue;
		}
		d2 = open_dir_stream(dirfd(d1), e1->d_name);
		if (!d2) {
			rc = err_from_errno(errno, "open blob directory");
			break;
		}
		while (!rc && (e2 = readdir(d2))) {
			if (e2->d_name[0] == '.' && (!e2->d_name[1] || !strcmp(e2->d_name, "..")))
				continue;
			if (fstatat(dirfd(d2), e2->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
				continue;
			snprintf(rel, sizeof rel, "%s/%s", e1->d_name, e2->d_name);
			if (!S_ISDIR(st.st_mode)) {
				rc = fn(ctx, rel, e2->d_name, &st);
				continue;
			}
			d3 = open_dir_stream(dirfd(d2), e2->d_name);
			if (!d3) {
				rc = err_from_errno(errno, "open blob directory");
				break;
			}
			while (!rc && (e3 = readdir(d3))) {
				if (e3->d_name[0] == '.' &&
				    (!e3->d_name[1] || !strcmp(e3->d_name, "..")))
					continue;
				if (fstatat(dirfd(d3), e3->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
					continue;
				snprintf(rel, sizeof rel, "%s/%s/%s", e1->d_name, e2->d_name,
					 e3->d_name);
				rc = fn(ctx, rel, e3->d_name, &st);
			}
			closedir(d3);
			d3 = NULL;
		}
		closedir(d2);
		d2 = NULL;
	}
	closedir(d1);
	return rc;
}

enum err cas_remote_tune(struct cas *cas, unsigned parallel_parts, uint64_t cache_bytes)
{
	enum err rc = ERR_OK;

	if (!cas->back)
		return ERR_OK;
	if (parallel_parts)
		blobback_set_parallel_parts(cas->back, parallel_parts);
	if (cache_bytes && !cas->cache)
		rc = blobcache_open(cas->root, cache_bytes, &cas->cache);
	return rc;
}

bool cas_cache_stats(const struct cas *cas, struct cas_cache_stats *out)
{
	struct blobcache_stats st;

	if (!cas->cache)
		return false;
	blobcache_get_stats(cas->cache, &st);
	out->hits = st.hits;
	out->misses = st.misses;
	out->fills = st.fills;
	out->evictions = st.evictions;
	out->dropped = st.dropped;
	out->entries = st.entries;
	out->bytes = st.bytes;
	out->max_bytes = st.max_bytes;
	return true;
}

const char *cas_store_kind(const struct cas *cas) { return cas->back ? "s3" : "local"; }

bool cas_remote_stats(const struct cas *cas, struct cas_remote_stats *out)
{
	if (!cas->back)
		return false;
	blobback_stats(cas->back, &out->requests, &out->errors, &out->retries, &out->bytes_up,
		       &out->bytes_down, &out->seconds, &out->failing);
	return true;
}

enum err cas_local_file(struct cas *cas, const char *hash, char *path, size_t cap, bool *temp)
{
	struct cas_reader *r = NULL;
	unsigned char *buf = NULL;
	unsigned char rnd[6];
	char hex[13];
	uint64_t off = 0;
	enum err rc;
	int fd = -1;

	*temp = false;
	if (!cas_hash_valid(hash))
		return err_set(ERR_INVALID, "'%.80s' is not a blob name", hash ? hash : "");
	if (!cas->back)
		return cas_blob_path(cas, hash, path, cap) ? ERR_OK
							   : err_set(ERR_INVALID, "path too long");
	rc = digest_random(rnd, sizeof rnd);
	if (rc)
		return rc;
	digest_hex(rnd, sizeof rnd, hex);
	if ((size_t)snprintf(path, cap, "%s/tmp/" TMP_PREFIX "copy-%s" TMP_SUFFIX, cas->root,
			     hex) >= cap)
		return err_set(ERR_INVALID, "path too long");
	buf = malloc(CAS_READ_WINDOW);
	if (!buf)
		return err_set(ERR_NOMEM, "out of memory");
	rc = cas_reader_open(cas, hash, &r);
	/* Cached: a link to the cache's file, no copy. */
	if (!rc && r->fd >= 0 && cas->cache && blobcache_link(cas->cache, hash, path) == ERR_OK) {
		*temp = true;
		cas_reader_close(r);
		free(buf);
		return ERR_OK;
	}
	if (!rc) {
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			rc = err_from_errno(errno, "create a copy of a blob");
		else
			*temp = true;
	}
	while (!rc && off < cas_reader_size(r)) {
		size_t got = 0;

		rc = cas_reader_read(r, off, buf, CAS_READ_WINDOW, &got);
		if (!rc && got == 0)
			break;
		if (!rc && write(fd, buf, got) != (ssize_t)got)
			rc = err_from_errno(errno, "write a copy of a blob");
		off += got;
	}
	if (fd >= 0)
		close(fd);
	cas_reader_close(r);
	free(buf);
	if (rc && *temp) {
		unlink(path);
		*temp = false;
	}
	return rc;
}
