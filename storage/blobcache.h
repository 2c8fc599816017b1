/*
 * blobcache — a bounded local read cache of blobs kept in an object
 * store (blobback.h), in DATA/cache: one file per blob, named by its
 * SHA-256, least recently used ones removed to stay under the bound.
 *
 * A file is only ever served as what its name says:
 *   - it is filled by a whole, in-order read of the blob, hashed on the
 *     way, and published (renamed to its name) only when the hash and
 *     size match;
 *   - on use its size, inode and modification time must be the ones it
 *     had when it was published or last verified; anything else (a
 *     write, a truncation, a replaced file) drops it;
 *   - files found at start (a previous process's) are re-hashed on
 *     their first use.
 * What is dropped is simply read from the object store again. Nothing
 * else (gc, fsck, backup) reads DATA/cache; deleting it is always safe.
 * Thread-safe.
 */
#ifndef CONSORT_BLOBCACHE_H
#define CONSORT_BLOBCACHE_H

#include <stdint.h>

#include "err.h"

struct blobcache;
struct blobcache_fill;

/* Open (creating) DATA/cache bounded to max_bytes: unfinished fills are
 * removed, the files there indexed (oldest first to go), and the
 * excess over the bound evicted. */
enum err blobcache_open(const char *data_dir, uint64_t max_bytes, struct blobcache **out);
void blobcache_close(struct blobcache *c);

/* An open read-only descriptor of blob `hash` and its size, or
 * ERR_NOTFOUND (not cached, or dropped as damaged). Counts as a use. */
enum err blobcache_get(struct blobcache *c, const char *hash, int *fd, uint64_t *size);

/* Link the cached file of `hash` at `path` (same file system), for a
 * helper that reads files; ERR_NOTFOUND when it is not (or no longer)
 * there. The caller verified it with blobcache_get just before. */
enum err blobcache_link(struct blobcache *c, const char *hash, const char *path);

/* Start keeping a blob of `size` bytes that is about to be read whole;
 * NULL when it does not fit the cache (or the file cannot be made). */
struct blobcache_fill *blobcache_fill_begin(struct blobcache *c, const char *hash, uint64_t size);

/* The bytes at `off` of the blob. Anything but the next bytes in order
 * makes the fill give up (a Range read: nothing is kept). */
void blobcache_fill_add(struct blobcache_fill *f, uint64_t off, const void *data, size_t len);

/* Publish the file when every byte came and the hash matches, else
 * throw it away; frees f. Accepts NULL. */
void blobcache_fill_end(struct blobcache_fill *f);

struct blobcache_stats {
	uint64_t hits, misses, fills, evictions, dropped;
	uint64_t entries, bytes, max_bytes;
};
void blobcache_get_stats(struct blobcache *c, struct blobcache_stats *out);

#endif
