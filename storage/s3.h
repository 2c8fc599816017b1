/*
 * s3 — a small client for S3-compatible object stores (Ceph RADOS
 * Gateway, MinIO, AWS), used by the blob store's S3 backend
 * (blobback.h). libcurl does the HTTP and the request signing
 * (CURLOPT_AWS_SIGV4); nothing here signs by hand.
 *
 * Every request is retried with exponential backoff (5 tries, from
 * 100 ms) when the store is unreachable, answers 500/502/503/504 or
 * throttles (SlowDown): every request this client makes is idempotent
 * (objects are named by their content, a part is re-sent whole, a
 * delete of nothing succeeds). What still fails after the retries is
 * ERR_STORE_UNAVAILABLE (HTTP 503 for the client of consort).
 *
 * Integrity: every PUT of content carries Content-MD5, so the store
 * refuses a body that was damaged on the way (Ceph 16 has no
 * x-amz-checksum-sha256). A struct s3 may be shared by all threads.
 */
#ifndef CONSORT_S3_H
#define CONSORT_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct s3;

struct s3_config {
	const char *endpoint;   /* https://host[:port] (http only on loopback) */
	const char *region;     /* for the signature, e.g. us-east-1 */
	const char *bucket;     /* must exist, or is created by s3_open */
	bool virtual_host;      /* bucket.host/key instead of host/bucket/key */
	const char *access_key; /* AWS_ACCESS_KEY_ID */
	const char *secret_key; /* AWS_SECRET_ACCESS_KEY */
	const char *ca_file;    /* extra CA for TLS verification; NULL: system */
};

/* Parts of a multipart upload; bodies up to this size go in one PUT. */
#define S3_PART_SIZE (16u * 1024 * 1024)
/* Parts of one multipart upload in flight at once (threads, each with
 * its own connection), by default and at most. */
#define S3_PARALLEL_PARTS 4
#define S3_MAX_PARALLEL_PARTS 16

/* Check the configuration, reach the store and create the bucket when
 * it does not exist. ERR_INVALID for a bad configuration (detail says
 * which setting), ERR_STORE_UNAVAILABLE when the store cannot be
 * reached, ERR_UNAUTHENTICATED when it refuses the keys. */
enum err s3_open(const struct s3_config *cfg, struct s3 **out);
void s3_close(struct s3 *s);

/* Parts of one upload in flight at once (1..S3_MAX_PARALLEL_PARTS;
 * S3_PARALLEL_PARTS until set). Set before the first upload. */
void s3_set_parallel_parts(struct s3 *s, unsigned n);

/* Copy `key` of src_bucket (on the same store) to the same key in this
 * store's bucket, inside the store: no byte passes through consort. */
enum err s3_copy_object(struct s3 *s, const char *src_bucket, const char *key);

/* ERR_OK with size and last-modified time (seconds), or ERR_NOTFOUND. */
enum err s3_head(struct s3 *s, const char *key, uint64_t *size, int64_t *mtime);

/* Store `size` bytes read from `fd` (from offset 0) under `key`: one PUT
 * up to S3_PART_SIZE, else a multipart upload of S3_PART_SIZE parts,
 * completed only when every part is stored and aborted on any failure.
 * Up to parallel_parts parts are sent at once, each streamed from fd by
 * offset with its own Content-MD5 and retries; no part is held in
 * memory. */
enum err s3_put_fd(struct s3 *s, const char *key, int fd, uint64_t size);

/* Store a small body from memory. */
enum err s3_put_mem(struct s3 *s, const char *key, const void *data, size_t len);

/* Read up to `len` bytes at `off` into buf (a ranged GET). *got is
 * less than len only at the end of the object. */
enum err s3_get_range(struct s3 *s, const char *key, uint64_t off, void *buf, size_t len,
		      size_t *got);

/* Delete; a missing key is fine. */
enum err s3_delete(struct s3 *s, const char *key);

/* Call fn for every key under `prefix` (ListObjectsV2, 1000 a page);
 * fn returning non-zero stops with that value. */
typedef enum err (*s3_list_fn)(void *ctx, const char *key, uint64_t size, int64_t mtime);
enum err s3_list(struct s3 *s, const char *prefix, s3_list_fn fn, void *ctx);

/* Abort every multipart upload under `prefix` initiated more than
 * `min_age` seconds ago (a crashed server's); *aborted counts them. */
enum err s3_abort_stale(struct s3 *s, const char *prefix, int64_t min_age, uint64_t *aborted);

/* Totals since start, for /metrics. Thread-safe. */
struct s3_stats {
	uint64_t requests, errors, retries, bytes_up, bytes_down;
	double seconds; /* summed request latency */
	bool failing;   /* the last request failed after its retries */
};
void s3_get_stats(const struct s3 *s, struct s3_stats *out);

#endif
