/*
 * blobback — where the blob store keeps blobs, below cas.h's writer and
 * reader API. cas.c keeps the writer (hashing into a temp file in
 * DATA/tmp), and hands a finished temp file to a backend:
 *
 *   local  DATA/blobs/ab/cd/<hash> (cas.c itself: rename, flock holds)
 *   s3     objects "blobs/<hash>" in a bucket (blobback_s3.c)
 *
 * Which one a data directory uses is written in DATA/blob-store (lines
 * `key = value`: store, endpoint, region, bucket, addressing,
 * credentials-file, ca-file), so the server and every command run on
 * that directory (gc, fsck, backup) use the same store. No file, or
 * `store = local`: local. Keys come from credentials-file (lines
 * `access_key = …`, `secret_key = …`) or from AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY; they are never written into DATA.
 */
#ifndef CONSORT_BLOBBACK_H
#define CONSORT_BLOBBACK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "err.h"

struct blobback;

/* DATA/blob-store, parsed (strings owned by the struct). */
struct blobback_config {
	char store[16]; /* "local" or "s3" */
	char endpoint[512], region[64], bucket[64], addressing[16];
	char credentials_file[1024], ca_file[1024];
};

/* Read DATA/blob-store; a missing file is `store = local`. ERR_INVALID
 * names a bad line. */
enum err blobback_config_read(const char *data_dir, struct blobback_config *cfg);

/* Write DATA/blob-store durably (temp file, fsync, rename). */
enum err blobback_config_write(const char *data_dir, const struct blobback_config *cfg);

/* Open the S3 backend of `cfg` (reaches the store; creates the bucket
 * when missing). */
enum err blobback_s3_open(const struct blobback_config *cfg, struct blobback **out);
void blobback_close(struct blobback *b);

/* Parts of one large upload sent at once (s3_set_parallel_parts). */
void blobback_set_parallel_parts(struct blobback *b, unsigned n);

/* ERR_OK with size and last change (seconds), or ERR_NOTFOUND. */
enum err blobback_stat(struct blobback *b, const char *hash, uint64_t *size, int64_t *mtime);

/* Store the `size` bytes of fd (offset 0) as blob `hash`, unless a blob
 * of that name and size is stored: then *deduplicated. */
enum err blobback_store(struct blobback *b, const char *hash, int fd, uint64_t size,
			bool *deduplicated);

/* After the referencing commit: the blob must still be there (gc may
 * have deleted a deduplicated, unreferenced copy meanwhile: the object
 * store has no locks); if not, store it again from fd. */
enum err blobback_confirm(struct blobback *b, const char *hash, int fd, uint64_t size);

enum err blobback_read(struct blobback *b, const char *hash, uint64_t off, void *buf, size_t len,
		       size_t *got);

enum err blobback_remove(struct blobback *b, const char *hash);
/* Copy a blob from src_bucket, on the same store, into this one's
 * bucket, inside the store; one already there is left (*copied false).
 * ERR_NOTFOUND when src_bucket lacks it. */
enum err blobback_copy_in(struct blobback *b, const char *src_bucket, const char *hash,
			  bool *copied);

/* Every stored blob, as cas_walk passes them ("ab/cd/<hash>", a
 * regular read-only file of the object's size and time). */
typedef enum err (*blobback_walk_fn)(void *ctx, const char *rel, const char *name,
				     const struct stat *st);
enum err blobback_walk(struct blobback *b, blobback_walk_fn fn, void *ctx);

/* Abort multipart uploads a crashed server left, older than min_age. */
enum err blobback_clean(struct blobback *b, int64_t min_age, uint64_t *removed);

/* For /metrics: requests, errors, retries, bytes up and down, seconds. */
void blobback_stats(const struct blobback *b, uint64_t *requests, uint64_t *errors,
		    uint64_t *retries, uint64_t *up, uint64_t *down, double *seconds,
		    bool *failing);

#endif
