/*
 * smallblob — the small-content tier of the blob store: content of at
 * most SMALLBLOB_MAX bytes never becomes a file. The writer keeps it in
 * memory (cas_writer_small) and it is inserted into the table
 * small_blobs, keyed by the same SHA-256 a blob file would be named by,
 * in the same transaction (the group commit, api/commitq.h) as the
 * version that references it. One WAL flush then makes a whole batch of
 * small uploads durable, content and reference together, where a blob
 * file needs its own fdatasync, rename and directory fsync before the
 * commit (docs/storage.md, "The small-content tier").
 *
 * A hash lives in one tier: a writer stores small content here only when
 * no blob file of that hash exists (content stored before this tier, or
 * larger than a former threshold), else it deduplicates against the file
 * as before. Insertion and reference commit together, so gc needs no
 * hold here: smallblob_gc deletes, in one write transaction, the rows no
 * version references.
 *
 * Readers ask this module first and fall back to the file store
 * (smallblob_open); helpers that take a path get a private copy
 * (smallblob_export). Backups carry the table inside consort.db.
 */
#ifndef CONSORT_SMALLBLOB_H
#define CONSORT_SMALLBLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cas.h"
#include "db.h"
#include "err.h"

/* Content up to this size goes to the database. SQLite reads and
 * writes blobs under ~100 KiB faster than the filesystem does; at 64 KiB
 * a row spans 16 overflow pages of 4 KiB, still a single WAL append. */
#define SMALLBLOB_MAX (64 * 1024)

/* Store content `hash` (lower-case hex SHA-256 of data) in the open
 * transaction; already stored is fine (deduplication). The caller
 * vouches for the hash. */
enum err smallblob_put(struct db *db, const char *hash, const void *data, size_t len);

/* ERR_OK when stored here (size into *size when not NULL), ERR_NOTFOUND
 * when not. */
enum err smallblob_stat(struct db *db, const char *hash, uint64_t *size);

/* The content, malloc'd (free it); ERR_NOTFOUND when not stored here. */
enum err smallblob_get(struct db *db, const char *hash, unsigned char **data, size_t *len);

/* An anonymous in-memory file (memfd) holding data, positioned at 0:
 * for code that reads content through a descriptor (the scanner). */
enum err smallblob_memfd(const void *data, size_t len, int *fd);

/* Open blob `hash` in either tier: this table first, then the file
 * store (cas_reader_open, same errors: ERR_NOTFOUND when in neither). */
enum err smallblob_open(struct db *db, const struct cas *cas, const char *hash,
			struct cas_reader **out);

/* A path to blob `hash` for a helper process that opens a path: the
 * blob file itself, or for small content a private copy written to
 * DATA/tmp ("cas-export-*.tmp", a temp-file name the store cleans when
 * abandoned); *temp says which, and the caller unlinks a copy when
 * done. */
enum err smallblob_export(struct db *db, const char *data_dir, const char *hash, char *path,
			  size_t cap, bool *temp);

/* /metrics (the blob walker, api/metrics.h): how many contents this
 * tier holds and their bytes (each distinct, as rows are keyed by hash),
 * as *count and *bytes; both 0 on failure. One pass over the table's
 * pages that skips the overflow pages of larger content (length() of a
 * BLOB comes from the row's header; figures in smallblob.c). A read of
 * its own, or a step of the caller's transaction. */
enum err smallblob_stats(struct db *db, uint64_t *count, uint64_t *bytes);

/* gc: delete the rows no version references, in one write transaction;
 * adds their number and bytes to *removed and *bytes. */
enum err smallblob_gc(struct db *db, uint64_t *removed, uint64_t *bytes);

/* fsck: every row (hash, size as recorded by its length, content;
 * content NULL when `with_content` is false), in hash order. fn
 * returning non-zero stops the walk with that value. */
typedef enum err (*smallblob_walk_fn)(void *ctx, const char *hash, const unsigned char *data,
				      size_t len);
enum err smallblob_walk(struct db *db, bool with_content, smallblob_walk_fn fn, void *ctx);

#endif
