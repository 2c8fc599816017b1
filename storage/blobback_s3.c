/* blobback_s3 — blobs as objects "blobs/<hash>" in a bucket; see
 * blobback.h and docs/storage.md ("Blobs on S3"). */
#include "blobback.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "s3.h"

#define PREFIX "blobs/"

struct blobback {
	struct s3 *s3;
};

static void trim(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = 0;
}

/* Call fn(key, value) for each `key = value` line of path. */
static enum err read_kv(const char *path, bool (*fn)(void *, const char *, const char *), void *ctx)
{
	FILE *f = fopen(path, "re");
	char line[2048];
	int n = 0;

	if (!f)
		return errno == ENOENT ? ERR_NOTFOUND : err_from_errno(errno, path);
	while (fgets(line, sizeof line, f)) {
		char *eq, *k = line, *v;

		n++;
		trim(line);
		while (*k == ' ' || *k == '\t')
			k++;
		if (!*k || *k == '#')
			continue;
		eq = strchr(k, '=');
		if (!eq) {
			fclose(f);
			return err_set(ERR_INVALID, "%s line %d: expected key = value", path, n);
		}
		*eq = 0;
		v = eq + 1;
		trim(k);
		while (*v == ' ' || *v == '\t')
			v++;
		if (!fn(ctx, k, v)) {
			fclose(f);
			return err_set(ERR_INVALID, "%s line %d: unknown or too long '%s'", path, n,
				       k);
		}
	}
	fclose(f);
	return ERR_OK;
}

#define SETF(field)                                                                                \
	if (!strcmp(k, #field)) {                                                                  \
		if (strlen(v) >= sizeof c->field)                                                  \
			return false;                                                              \
		memcpy(c->field, v, strlen(v) + 1);                                                \
		return true;                                                                       \
	}

static bool config_kv(void *ctx, const char *k, const char *v)
{
	struct blobback_config *c = ctx;

	SETF(store)
	SETF(endpoint)
	SETF(region)
	SETF(bucket)
	SETF(addressing)
	if (!strcmp(k, "credentials-file")) {
		if (strlen(v) >= sizeof c->credentials_file)
			return false;
		memcpy(c->credentials_file, v, strlen(v) + 1);
		return true;
	}
	if (!strcmp(k, "ca-file")) {
		if (strlen(v) >= sizeof c->ca_file)
			return false;
		memcpy(c->ca_file, v, strlen(v) + 1);
		return true;
	}
	return false;
}

enum err blobback_config_read(const char *data_dir, struct blobback_config *cfg)
{
	char path[4096];
	enum err rc;

	memset(cfg, 0, sizeof *cfg);
	strcpy(cfg->store, "local");
	snprintf(path, sizeof path, "%s/blob-store", data_dir);
	rc = read_kv(path, config_kv, cfg);
	if (rc == ERR_NOTFOUND)
		return ERR_OK;
	if (rc)
		return rc;
	if (strcmp(cfg->store, "local") && strcmp(cfg->store, "s3"))
		return err_set(ERR_INVALID, "%s: store must be local or s3", path);
	if (cfg->addressing[0] && strcmp(cfg->addressing, "path") &&
	    strcmp(cfg->addressing, "virtual"))
		return err_set(ERR_INVALID, "%s: addressing must be path or virtual", path);
	return ERR_OK;
}

enum err blobback_config_write(const char *data_dir, const struct blobback_config *c)
{
	char path[4096], tmp[4112];
	FILE *f;
	int ok;

	snprintf(path, sizeof path, "%s/blob-store", data_dir);
	snprintf(tmp, sizeof tmp, "%s.partial", path);
	f = fopen(tmp, "we");
	if (!f)
		return err_from_errno(errno, tmp);
	fprintf(f,
		"# Where this data directory's blobs are (written by consort; see "
		"docs/storage.md).\nstore = %s\n",
		c->store);
	if (!strcmp(c->store, "s3"))
		fprintf(f,
			"endpoint = %s\nregion = %s\nbucket = %s\naddressing = %s\n"
			"credentials-file = %s\nca-file = %s\n",
			c->endpoint, c->region, c->bucket,
			c->addressing[0] ? c->addressing : "path", c->credentials_file, c->ca_file);
	ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok || rename(tmp, path) != 0) {
		enum err rc = err_from_errno(errno, path);

		unlink(tmp);
		return rc;
	}
	return ERR_OK;
}

struct creds {
	char access[256], secret[256];
};

static bool creds_kv(void *ctx, const char *k, const char *v)
{
	struct creds *c = ctx;

	if ((!strcmp(k, "access_key") || !strcmp(k, "aws_access_key_id")) &&
	    strlen(v) < sizeof c->access) {
		strcpy(c->access, v);
		return true;
	}
	if ((!strcmp(k, "secret_key") || !strcmp(k, "aws_secret_access_key")) &&
	    strlen(v) < sizeof c->secret) {
		strcpy(c->secret, v);
		return true;
	}
	/* Other lines (region, profile headers of an AWS file) are not ours. */
	return k[0] == '[' || !strcmp(k, "region");
}

enum err blobback_s3_open(const struct blobback_config *cfg, struct blobback **out)
{
	struct creds cr = {0};
	struct s3_config sc = {0};
	struct blobback *b;
	enum err rc;

	*out = NULL;
	if (cfg->credentials_file[0]) {
		rc = read_kv(cfg->credentials_file, creds_kv, &cr);
		if (rc == ERR_NOTFOUND)
			return err_set(ERR_INVALID, "s3-credentials-file %s does not exist",
				       cfg->credentials_file);
		if (rc)
			return rc;
	} else {
		const char *a = getenv("AWS_ACCESS_KEY_ID"), *s = getenv("AWS_SECRET_ACCESS_KEY");

		snprintf(cr.access, sizeof cr.access, "%s", a ? a : "");
		snprintf(cr.secret, sizeof cr.secret, "%s", s ? s : "");
	}
	sc.endpoint = cfg->endpoint;
	sc.region = cfg->region;
	sc.bucket = cfg->bucket;
	sc.virtual_host = !strcmp(cfg->addressing, "virtual");
	sc.access_key = cr.access;
	sc.secret_key = cr.secret;
	sc.ca_file = cfg->ca_file[0] ? cfg->ca_file : NULL;
	b = calloc(1, sizeof *b);
	if (!b)
		return err_set(ERR_NOMEM, "out of memory");
	rc = s3_open(&sc, &b->s3);
	explicit_bzero(&cr, sizeof cr);
	if (rc) {
		free(b);
		return rc;
	}
	*out = b;
	return ERR_OK;
}

void blobback_close(struct blobback *b)
{
	if (!b)
		return;
	s3_close(b->s3);
	free(b);
}

void blobback_set_parallel_parts(struct blobback *b, unsigned n)
{
	s3_set_parallel_parts(b->s3, n);
}

static void key_of(const char *hash, char *key, size_t cap)
{
	snprintf(key, cap, PREFIX "%s", hash);
}

enum err blobback_stat(struct blobback *b, const char *hash, uint64_t *size, int64_t *mtime)
{
	char key[96];
	enum err rc;

	key_of(hash, key, sizeof key);
	rc = s3_head(b->s3, key, size, mtime);
	if (rc == ERR_NOTFOUND)
		return err_set(ERR_NOTFOUND, "blob %s is missing", hash);
	return rc;
}

enum err blobback_store(struct blobback *b, const char *hash, int fd, uint64_t size,
			bool *deduplicated)
{
	char key[96];
	uint64_t have = 0;
	enum err rc;

	*deduplicated = false;
	key_of(hash, key, sizeof key);
	/* Deduplication is "the key exists": the name is the content's
	 * hash, and the store only ever has complete objects under a key
	 * (a multipart upload appears when it is completed). A copy of the
	 * wrong size is damaged: ours replaces it. */
	rc = s3_head(b->s3, key, &have, NULL);
	if (rc == ERR_OK && have == size) {
		*deduplicated = true;
		return ERR_OK;
	}
	if (rc && rc != ERR_NOTFOUND)
		return rc;
	return s3_put_fd(b->s3, key, fd, size);
}

enum err blobback_confirm(struct blobback *b, const char *hash, int fd, uint64_t size)
{
	char key[96];
	uint64_t have = 0;
	enum err rc;

	key_of(hash, key, sizeof key);
	rc = s3_head(b->s3, key, &have, NULL);
	if (rc == ERR_OK && have == size)
		return ERR_OK;
	if (rc && rc != ERR_NOTFOUND)
		return rc;
	return s3_put_fd(b->s3, key, fd, size);
}

enum err blobback_read(struct blobback *b, const char *hash, uint64_t off, void *buf, size_t len,
		       size_t *got)
{
	char key[96];

	key_of(hash, key, sizeof key);
	return s3_get_range(b->s3, key, off, buf, len, got);
}

enum err blobback_copy_in(struct blobback *b, const char *src_bucket, const char *hash,
			  bool *copied)
{
	char key[96];
	uint64_t have = 0, got = 0;
	enum err rc;

	*copied = false;
	key_of(hash, key, sizeof key);
	rc = s3_head(b->s3, key, &have, NULL);
	if (rc != ERR_NOTFOUND)
		return rc; /* there already (an object is complete or absent) */
	rc = s3_copy_object(b->s3, src_bucket, key);
	if (rc == ERR_NOTFOUND)
		return err_set(ERR_NOTFOUND, "blob %s is missing in bucket %s", hash, src_bucket);
	if (!rc)
		rc = s3_head(b->s3, key, &got, NULL);
	*copied = !rc;
	return rc;
}

enum err blobback_remove(struct blobback *b, const char *hash)
{
	char key[96];

	key_of(hash, key, sizeof key);
	return s3_delete(b->s3, key);
}

struct walk_ctx {
	blobback_walk_fn fn;
	void *ctx;
};

static enum err walk_one(void *ctx, const char *key, uint64_t size, int64_t mtime)
{
	struct walk_ctx *w = ctx;
	const char *name = key + strlen(PREFIX);
	char rel[1200];
	struct stat st;

	memset(&st, 0, sizeof st);
	st.st_mode = S_IFREG | 0444;
	st.st_size = (off_t)size;
	st.st_mtime = (time_t)mtime;
	st.st_nlink = 1;
	if (strlen(name) >= 4)
		snprintf(rel, sizeof rel, "%.2s/%.2s/%s", name, name + 2, name);
	else
		snprintf(rel, sizeof rel, "%s", name);
	return w->fn(w->ctx, rel, name, &st);
}

enum err blobback_walk(struct blobback *b, blobback_walk_fn fn, void *ctx)
{
	struct walk_ctx w = {fn, ctx};

	return s3_list(b->s3, PREFIX, walk_one, &w);
}

enum err blobback_clean(struct blobback *b, int64_t min_age, uint64_t *removed)
{
	return s3_abort_stale(b->s3, PREFIX, min_age, removed);
}

void blobback_stats(const struct blobback *b, uint64_t *requests, uint64_t *errors,
		    uint64_t *retries, uint64_t *up, uint64_t *down, double *seconds, bool *failing)
{
	struct s3_stats st;

	s3_get_stats(b->s3, &st);
	*requests = st.requests;
	*errors = st.errors;
	*retries = st.retries;
	*up = st.bytes_up;
	*down = st.bytes_down;
	*seconds = st.seconds;
	*failing = st.failing;
}
