/*
 * maint — whole-store maintenance behind `consort gc`, `fsck`, `backup`
 * and `restore`. Each function takes a data directory and opens its own
 * database connection and store handle.
 *
 * gc, fsck and backup may run while the server runs. gc excludes
 * backup and fsck through a lock on DATA/gc.lock (flock: gone with the
 * process; shared for backup and fsck, exclusive for gc), because both
 * look at blobs after reading which versions reference them, and gc
 * must not delete one of those in between. restore writes a new data directory and must
 * not be pointed at one a server uses.
 */
#ifndef CONSORT_MAINT_H
#define CONSORT_MAINT_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

/* Default age below which gc leaves an unreferenced blob alone. */
#define MAINT_GC_GRACE_DEFAULT 3600

/* Receives one line (no newline) per problem or note. */
typedef void (*maint_report_fn)(void *ctx, const char *line);

struct maint_gc_stats {
	uint64_t pruned;  /* versions removed by retention */
	uint64_t blobs;   /* blobs looked at */
	uint64_t deleted; /* blobs deleted */
	uint64_t bytes_freed;
	uint64_t temps_removed;    /* abandoned temp files */
	uint64_t uploads_expired;  /* resumable uploads past their expiry */
	uint64_t previews_removed; /* preview cache files of deleted blobs */
};

/* Mark and sweep: apply retention to every work package, then delete
 * every blob that no version references, that no upload holds (cas.h)
 * and that is older than `grace` seconds; remove abandoned temp files
 * older than `grace`; remove the previews (previews.h) of blobs no
 * longer stored; remove expired resumable uploads with their
 * partial files (uploads.h). Deletions happen inside write transactions
 * that first re-check references, and a held blob is left alone, so an
 * upload about to reference a blob is never robbed of it. ERR_LOCKED
 * when a backup (or another gc) holds the lock, or an fsck. */
enum err maint_gc(const char *data_dir, int64_t grace, struct maint_gc_stats *out);

struct maint_fsck_stats {
	uint64_t blobs;        /* blob files checked */
	uint64_t rehashed;     /* of those, re-hashed */
	uint64_t bytes;        /* bytes re-hashed */
	uint64_t unreferenced; /* blobs no version references (gc's work, not a problem) */
	uint64_t versions;     /* versions checked */
	uint64_t problems;
};

/* Check the store: SQLite integrity and foreign keys; every blob file
 * (name, place, read-only, and with `rehash` its content against its
 * name); every referenced blob present with the size its versions give;
 * the tree (current versions exist, parents in the same work package,
 * roots, reachability, name rules and keys); the quota counters.
 * Reports one line per problem through `report` and counts them in
 * out->problems. Returns an error only when the check itself could not
 * run. */
enum err maint_fsck(const char *data_dir, bool rehash, maint_report_fn report, void *ctx,
		    struct maint_fsck_stats *out);

/* maint_fsck re-hashing a sample of the stored blobs: each with the
 * probability `percent` / 100, drawn afresh every run, so repeated runs
 * cover a large bucket over time at a fraction of the reads (0: none, as
 * with rehash false; 100: all). Small content in the database is
 * re-hashed whenever percent > 0: it costs no store reads. */
enum err maint_fsck_sampled(const char *data_dir, double percent, maint_report_fn report, void *ctx,
			    struct maint_fsck_stats *out);

struct maint_copy_stats {
	uint64_t blobs;  /* blobs the database references */
	uint64_t linked; /* hard-linked (same filesystem) */
	uint64_t copied; /* copied (and verified by hash while copying) */
	uint64_t bytes;  /* bytes copied */
};

/* A consistent copy of the store in `dest` (an empty or new directory),
 * taken while the server may run: consort.db through the SQLite online
 * backup API (one snapshot), then every blob that snapshot references,
 * hard-linked when DEST is on the same filesystem, else copied and
 * verified; DATA/tls too. consort.db appears in DEST last, after
 * everything is synced, so a DEST with consort.db is complete. On
 * failure DEST is emptied again. ERR_CORRUPT when DATA lacks (or has a
 * damaged copy of) a referenced blob: the backup is still written with
 * everything else and the detail says how many are missing. */
enum err maint_backup(const char *data_dir, const char *dest, struct maint_copy_stats *out);
/* The same for blobs on S3, copied inside the object store to `bucket`
 * (on the same store; created when missing; one already there is not
 * copied again), which DEST/blob-store then names: gc of the live
 * bucket cannot take a backup's blobs. NULL: the blobs stay in the live
 * bucket, as maint_backup leaves them. `copied` counts what was copied. */
enum err maint_backup_to_bucket(const char *data_dir, const char *dest, const char *bucket,
				struct maint_copy_stats *out);

/* Make `data_dir` (empty or new) a store from backup `src`: database
 * (migrated to this program's schema), every referenced blob (hard link
 * or copy, each verified by hash), DATA/tls; partial uploads and
 * the search index state are dropped and every live document is queued
 * for indexing, since DATA/index is rebuilt. Then runs fsck (without
 * re-hashing) and fails when it finds a problem, reported through
 * `report`. On failure `data_dir` is emptied again. */
enum err maint_restore(const char *src, const char *data_dir, maint_report_fn report, void *ctx,
		       struct maint_copy_stats *out);

/* Copy every blob of DATA/blobs into the object store `to` (one that
 * already has it is skipped), then record it in DATA/blob-store, so the
 * directory's blobs are read from there from now on. The server must
 * be stopped (uploads meanwhile would stay local); gc is locked out.
 * DATA/blobs is left as it was: remove it after `consort fsck` passes.
 * *copied and *skipped count the blobs. */
struct blobback_config;
enum err maint_migrate_blobs(const char *data_dir, const struct blobback_config *to,
			     uint64_t *copied, uint64_t *skipped);

#endif
