/* blobcache — see blobcache.h and docs/storage.md ("Blobs on S3"). */
#include "blobcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"

#define FILL_PREFIX ".fill-"
#define HASH_CHUNK (1024 * 1024)

/* One cached file. The index is an array searched from the end: the
 * cache holds blobs above the small-content tier (64 KiB), so even a
 * large cache has thousands, not millions, of entries. */
struct entry {
	char hash[DIGEST_SHA256_HEX_LEN + 1];
	uint64_t size;
	uint64_t used; /* tick of the last use: the smallest goes first */
	bool verified; /* published or re-hashed by this process */
	ino_t ino;
	struct timespec mtime;
};

struct blobcache {
	int dir_fd;
	uint64_t max_bytes, bytes, tick;
	struct entry *v;
	size_t n, cap;
	pthread_mutex_t mu;
	uint64_t hits, misses, fills, evictions, dropped, fill_seq;
	/* Blobs being filled: one fill per blob at a time, so that many
	 * readers of a cold blob do not each write a copy. */
	struct blobcache_fill *filling;
};

struct blobcache_fill {
	struct blobcache *c;
	struct blobcache_fill *next_filling;
	char hash[DIGEST_SHA256_HEX_LEN + 1];
	char name[128];
	int fd;
	uint64_t size, next;
	bool failed;
	struct digest *sha;
};

static struct entry *find(struct blobcache *c, const char *hash)
{
	for (size_t i = c->n; i-- > 0;)
		if (!strcmp(c->v[i].hash, hash))
			return &c->v[i];
	return NULL;
}

/* Remove entry e and its file (the caller holds mu). Open descriptors
 * of the file stay readable. */
static void drop(struct blobcache *c, struct entry *e)
{
	unlinkat(c->dir_fd, e->hash, 0);
	c->bytes -= e->size;
	*e = c->v[--c->n];
}

/* Evict least recently used entries until `room` more bytes fit. */
static void make_room(struct blobcache *c, uint64_t room)
{
	while (c->n && c->bytes + room > c->max_bytes) {
		size_t lru = 0;

		for (size_t i = 1; i < c->n; i++)
			if (c->v[i].used < c->v[lru].used)
				lru = i;
		drop(c, &c->v[lru]);
		c->evictions++;
	}
}

static bool add(struct blobcache *c, const struct entry *e)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct entry *v = realloc(c->v, cap * sizeof *v);

		if (!v)
			return false;
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = *e;
	c->bytes += e->size;
	return true;
}

static int by_mtime(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : x->mtime.tv_nsec > y->mtime.tv_nsec;
}

static bool is_hash(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == DIGEST_SHA256_HEX_LEN;
}

enum err blobcache_open(const char *data_dir, uint64_t max_bytes, struct blobcache **out)
{
	struct blobcache *c;
	char path[4096];
	DIR *d;
	struct dirent *de;
	enum err rc = ERR_OK;

	*out = NULL;
	c = calloc(1, sizeof *c);
	if (!c)
		return err_set(ERR_NOMEM, "out of memory");
	pthread_mutex_init(&c->mu, NULL);
	c->dir_fd = -1;
	c->max_bytes = max_bytes;
	snprintf(path, sizeof path, "%s/cache", data_dir);
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		rc = err_from_errno(errno, path);
		goto out;
	}
	c->dir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->dir_fd < 0) {
		rc = err_from_errno(errno, path);
		goto out;
	}
	d = fdopendir(dup(c->dir_fd));
	if (!d) {
		rc = err_from_errno(errno, path);
		goto out;
	}
	while (!rc && (de = readdir(d))) {
		struct stat st;
		struct entry e = {0};

		if (de->d_name[0] == '.' && (!de->d_name[1] || !strcmp(de->d_name, "..")))
			continue;
		if (fstatat(c->dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		/* Unfinished fills of a stopped process, and anything that is
		 * not a blob file: not ours to keep. */
		if (!S_ISREG(st.st_mode) || !is_hash(de->d_name)) {
			if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
				unlinkat(c->dir_fd, de->d_name, 0);
			continue;
		}
		memcpy(e.hash, de->d_name, sizeof e.hash);
		e.size = (uint64_t)st.st_size;
		e.ino = st.st_ino;
		e.mtime = st.st_mtim;
		if (!add(c, &e))
			rc = err_set(ERR_NOMEM, "out of memory");
	}
	closedir(d);
	if (rc)
		goto out;
	/* Oldest fill first to go; the ticks keep that order. */
	if (c->n)
		qsort(c->v, c->n, sizeof *c->v, by_mtime);
	for (size_t i = 0; i < c->n; i++)
		c->v[i].used = ++c->tick;
	make_room(c, 0);
out:
	if (rc) {
		blobcache_close(c);
		return rc;
	}
	*out = c;
	return ERR_OK;
}

void blobcache_close(struct blobcache *c)
{
	if (!c)
		return;
	if (c->dir_fd >= 0)
		close(c->dir_fd);
	pthread_mutex_destroy(&c->mu);
	free(c->v);
	free(c);
}

/* Does the open file hold the content `hash` names? */
static bool rehash(int fd, const char *hash, uint64_t size)
{
	unsigned char *buf = malloc(HASH_CHUNK), md[DIGEST_SHA256_LEN];
	char hex[DIGEST_SHA256_HEX_LEN + 1];
	struct digest *sha = digest_new(DIGEST_SHA256);
	uint64_t off = 0;
	bool ok = buf && sha;

	while (ok && off < size) {
		ssize_t k = pread(fd, buf, HASH_CHUNK, (off_t)off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			ok = false;
			break;
		}
		digest_update(sha, buf, (size_t)k);
		off += (uint64_t)k;
	}
	if (ok) {
		digest_final(sha, md);
		digest_hex(md, sizeof md, hex);
		ok = off == size && !strcmp(hex, hash);
	}
	if (sha)
		digest_free(sha);
	free(buf);
	return ok;
}

static bool same_file(const struct entry *e, const struct stat *st)
{
	return S_ISREG(st->st_mode) && (uint64_t)st->st_size == e->size && st->st_ino == e->ino &&
	       st->st_mtim.tv_sec == e->mtime.tv_sec && st->st_mtim.tv_nsec == e->mtime.tv_nsec;
}

enum err blobcache_get(struct blobcache *c, const char *hash, int *fd, uint64_t *size)
{
	struct entry *e, snap;
	struct stat st;
	int f;

	*fd = -1;
	pthread_mutex_lock(&c->mu);
	e = find(c, hash);
	if (!e) {
		c->misses++;
		pthread_mutex_unlock(&c->mu);
		return ERR_NOTFOUND;
	}
	f = openat(c->dir_fd, hash, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (f < 0 || fstat(f, &st) != 0 || !same_file(e, &st)) {
		if (f >= 0)
			close(f);
		drop(c, e);
		c->dropped++;
		c->misses++;
		pthread_mutex_unlock(&c->mu);
		return ERR_NOTFOUND;
	}
	e->used = ++c->tick;
	snap = *e;
	pthread_mutex_unlock(&c->mu);
	/* A previous process's file: its content is checked once, outside
	 * the lock (other blobs stay usable meanwhile). */
	if (!snap.verified) {
		bool ok = rehash(f, hash, snap.size);

		pthread_mutex_lock(&c->mu);
		e = find(c, hash);
		if (e && e->ino == snap.ino) {
			if (ok)
				e->verified = true;
			else {
				drop(c, e);
				c->dropped++;
			}
		}
		pthread_mutex_unlock(&c->mu);
		if (!ok) {
			close(f);
			pthread_mutex_lock(&c->mu);
			c->misses++;
			pthread_mutex_unlock(&c->mu);
			return ERR_NOTFOUND;
		}
	}
	pthread_mutex_lock(&c->mu);
	c->hits++;
	pthread_mutex_unlock(&c->mu);
	posix_fadvise(f, 0, 0, POSIX_FADV_SEQUENTIAL);
	*fd = f;
	*size = snap.size;
	return ERR_OK;
}

enum err blobcache_link(struct blobcache *c, const char *hash, const char *path)
{
	struct entry *e;
	struct stat st;
	enum err rc = ERR_NOTFOUND;

	pthread_mutex_lock(&c->mu);
	e = find(c, hash);
	if (e && e->verified && linkat(c->dir_fd, hash, AT_FDCWD, path, 0) == 0) {
		/* The name may have been replaced since the check: the link
		 * must be the verified file. */
		if (stat(path, &st) == 0 && same_file(e, &st))
			rc = ERR_OK;
		else
			unlink(path);
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

struct blobcache_fill *blobcache_fill_begin(struct blobcache *c, const char *hash, uint64_t size)
{
	struct blobcache_fill *f;
	uint64_t seq;

	if (size > c->max_bytes || !is_hash(hash))
		return NULL;
	f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	pthread_mutex_lock(&c->mu);
	for (struct blobcache_fill *o = c->filling; o; o = o->next_filling)
		if (!strcmp(o->hash, hash)) {
			pthread_mutex_unlock(&c->mu);
			free(f);
			return NULL;
		}
	seq = ++c->fill_seq;
	memcpy(f->hash, hash, sizeof f->hash);
	f->next_filling = c->filling;
	c->filling = f;
	pthread_mutex_unlock(&c->mu);
	f->c = c;
	f->size = size;
	snprintf(f->name, sizeof f->name, FILL_PREFIX "%.16s-%llu-%ld", hash,
		 (unsigned long long)seq, (long)getpid());
	f->sha = digest_new(DIGEST_SHA256);
	f->fd = openat(c->dir_fd, f->name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
	if (f->fd < 0 || !f->sha) {
		if (f->fd >= 0) {
			close(f->fd);
			unlinkat(c->dir_fd, f->name, 0);
		}
		if (f->sha)
			digest_free(f->sha);
		f->fd = -1;
		f->sha = NULL;
		f->failed = true;
		blobcache_fill_end(f);
		return NULL;
	}
	return f;
}

static void unlist(struct blobcache *c, struct blobcache_fill *f)
{
	for (struct blobcache_fill **p = &c->filling; *p; p = &(*p)->next_filling)
		if (*p == f) {
			*p = f->next_filling;
			return;
		}
}

void blobcache_fill_add(struct blobcache_fill *f, uint64_t off, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t done = 0;

	if (!f || f->failed)
		return;
	if (off != f->next || len > f->size - f->next) {
		f->failed = true;
		return;
	}
	digest_update(f->sha, data, len);
	while (done < len) {
		ssize_t k = write(f->fd, p + done, len - done);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			f->failed = true;
			return;
		}
		done += (size_t)k;
	}
	f->next += len;
}

void blobcache_fill_end(struct blobcache_fill *f)
{
	struct blobcache *c;
	unsigned char md[DIGEST_SHA256_LEN];
	char hex[DIGEST_SHA256_HEX_LEN + 1];
	struct stat st;
	struct entry e = {0}, *old;
	bool keep;

	if (!f)
		return;
	c = f->c;
	if (f->sha) {
		digest_final(f->sha, md);
		digest_hex(md, sizeof md, hex);
	} else {
		hex[0] = 0;
	}
	/* Only content whose hash is its name, whole. No fsync: a file a
	 * crash damaged is dropped on use (re-hashed after a restart). */
	keep = !f->failed && f->next == f->size && !strcmp(hex, f->hash) &&
	       fstat(f->fd, &st) == 0 && (uint64_t)st.st_size == f->size;
	if (keep) {
		memcpy(e.hash, f->hash, sizeof e.hash);
		e.size = f->size;
		e.verified = true;
		e.ino = st.st_ino;
		e.mtime = st.st_mtim;
		pthread_mutex_lock(&c->mu);
		old = find(c, f->hash);
		if (old)
			drop(c, old);
		make_room(c, f->size);
		e.used = ++c->tick;
		keep = renameat(c->dir_fd, f->name, c->dir_fd, f->hash) == 0 && add(c, &e);
		if (keep)
			c->fills++;
		else
			unlinkat(c->dir_fd, f->hash, 0);
		pthread_mutex_unlock(&c->mu);
	}
	if (!keep && f->fd >= 0)
		unlinkat(c->dir_fd, f->name, 0);
	pthread_mutex_lock(&c->mu);
	unlist(c, f);
	pthread_mutex_unlock(&c->mu);
	if (f->fd >= 0)
		close(f->fd);
	if (f->sha)
		digest_free(f->sha);
	free(f);
}

void blobcache_get_stats(struct blobcache *c, struct blobcache_stats *out)
{
	pthread_mutex_lock(&c->mu);
	out->hits = c->hits;
	out->misses = c->misses;
	out->fills = c->fills;
	out->evictions = c->evictions;
	out->dropped = c->dropped;
	out->entries = c->n;
	out->bytes = c->bytes;
	out->max_bytes = c->max_bytes;
	pthread_mutex_unlock(&c->mu);
}
