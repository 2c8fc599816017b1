/*
 * previews — the cache of preview files (page images, the PDF an office
 * document was converted to, what is known about a content's pages), at
 * DATA/previews/ab/<hash><suffix>, keyed by the blob's SHA-256: versions
 * and copies that share content share their previews.
 *
 * The cache has a size limit; when a new file takes it over the limit,
 * the least recently used files are removed until it is at 90% of it
 * ("used" is the file's mtime, set when it is stored and when it is
 * read). Files of a blob that gc collected are removed by
 * previews_prune (maint_gc calls it). Everything in the cache can be
 * made again from its blob, so losing any of it is harmless.
 *
 * A struct previews may be shared by all threads.
 */
#ifndef CONSORT_PREVIEWS_H
#define CONSORT_PREVIEWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct cas;
struct db;
struct previews;

/* Without an absolute limit the cache may take this share of the blob
 * store, but at least PREVIEWS_MIN_LIMIT. */
#define PREVIEWS_SHARE_PERCENT 3
#define PREVIEWS_MIN_LIMIT (16ull << 20)

/* Open (creating DATA/previews and DATA/previews/tmp) the cache of
 * `data_dir`. `limit` is the size limit in bytes; 0 means
 * PREVIEWS_SHARE_PERCENT of the blob store (measured at open and again
 * at most every ten minutes, when the cache is over its limit). `cas`
 * (not owned, may be NULL) is used for that measure. Temp files left
 * behind are removed. */
enum err previews_open(const char *data_dir, uint64_t limit, struct cas *cas,
		       struct previews **out);
void previews_close(struct previews *p);

/* The path of the cache file of `hash` with `suffix` (".meta", ".pdf",
 * "-p3-w800.png"...). False when it does not fit or the hash is bad. */
bool previews_path(const struct previews *p, const char *hash, const char *suffix, char *buf,
		   size_t cap);

/* A fresh temp path in DATA/previews/tmp for a helper to write into,
 * ending in `ext`. */
bool previews_tmp_path(struct previews *p, const char *ext, char *buf, size_t cap);

/* Read a cache file whole (at most `max` bytes) into *data (malloc'd,
 * NUL-terminated, *len bytes) and mark it used. ERR_NOTFOUND when it is
 * not cached. With `count`, the lookup counts as a hit or a miss. */
enum err previews_get(struct previews *p, const char *hash, const char *suffix, size_t max,
		      bool count, char **data, size_t *len);

/* True when the file is cached (marks it used; not counted). */
bool previews_has(struct previews *p, const char *hash, const char *suffix);

/* Move the finished temp file `tmp` into the cache as hash+suffix, then
 * evict down to the limit when over it (never the file just stored
 * unless it alone is over the limit). */
enum err previews_put_file(struct previews *p, const char *tmp, const char *hash,
			   const char *suffix);

/* Store `len` bytes as hash+suffix (through a temp file). */
enum err previews_put(struct previews *p, const char *hash, const char *suffix, const void *data,
		      size_t len);

struct previews_stats {
	uint64_t bytes, files, limit;
	uint64_t hits, misses, evicted;
};
void previews_stats(struct previews *p, struct previews_stats *s);

/* Remove the cache files of content no longer stored: neither a blob of
 * `cas` nor a row of the small-content tier in `db` (for gc). Works on a
 * data directory without a running server, too. Adds the files removed
 * to *removed. */
enum err previews_prune(const char *data_dir, struct db *db, struct cas *cas, uint64_t *removed);

#endif
