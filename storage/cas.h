/*
 * cas — the content-addressed blob store: one immutable, read-only file
 * per distinct content, named by its SHA-256, at
 * DATA/blobs/ab/cd/abcd…(64 hex).
 *
 * Writing (a PUT body or a finished tus upload) goes through a writer
 * that takes the bytes in pieces as they arrive, hashes them on the way
 * and writes a temp file on the same filesystem. Storing makes the
 * content durable and visible in this order:
 *
 *   fdatasync(temp) → rename into place, or drop the temp when that
 *   content is already stored → fsync the blob's directory (and its
 *   parents when they were created)
 *
 * and the caller then references the blob in a committed transaction.
 * Until then the stored file is *held*: the writer keeps a shared
 * flock() on it (struct cas_blob), and gc only unlinks a blob under an
 * exclusive lock that it cannot get while the blob is held. Holding
 * matters because of deduplication: an existing, unreferenced blob
 * could otherwise be swept by gc between "it exists, drop the temp" and
 * the referencing commit. gc checks references inside one write
 * transaction and unlinks under the lock, and a writer that finds the
 * file unlinked after waiting for its lock stores its own copy. A hold
 * dies with its process, so a crash leaves nothing to clean up. On an
 * object store, which has no locks, the hold is a read lock on the
 * blob's stripe of DATA/blob-holds, and gc deletes an object only under
 * that stripe's write lock (cas_remove): the same guarantee.
 *
 * Temp files live in DATA/tmp and are flock()ed by their writer, so
 * cleaning up never removes a file a live writer (in this or another
 * process) still holds; an abandoned one (crash, SIGKILL) is unlocked
 * and removed by cas_open(CAS_OPEN_CLEAN) at start and by gc.
 *
 * A struct cas holds only directory handles and may be shared by all
 * threads. A writer or reader belongs to one thread at a time.
 */
#ifndef CONSORT_CAS_H
#define CONSORT_CAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "db.h"
#include "digest.h"
#include "err.h"

struct cas;
struct cas_writer;
struct cas_reader;

/* A reader never needs to be asked for more than this per call; it is
 * the window the HTTP layer pulls for a download. */
#define CAS_READ_WINDOW (1024 * 1024)

enum cas_open_flags {
	CAS_OPEN_CREATE = 1, /* create DATA/blobs and DATA/tmp when missing */
	CAS_OPEN_CLEAN = 2,  /* remove abandoned temp files (at server start) */
};

/* Open the store under `data_dir` (which must exist). With
 * CAS_OPEN_CLEAN every unlocked temp file in DATA/tmp is removed.
 * On success *out is a new store to close with cas_close(); on failure
 * NULL. */
enum err cas_open(const char *data_dir, unsigned flags, struct cas **out);

/* Accepts NULL. Every writer and reader must be gone. */
void cas_close(struct cas *cas);

/* True when `hash` is 64 lower-case hex digits, the only blob names. */
bool cas_hash_valid(const char *hash);

/* Write "DATA/blobs/ab/cd/<hash>" into buf. Returns false when it does not
 * fit or the hash is malformed. */
bool cas_blob_path(const struct cas *cas, const char *hash, char *buf, size_t cap);

/* ERR_OK when the blob is stored, ERR_NOTFOUND when not, ERR_IO else.
 * When `size` is not NULL it receives the blob's size. */
enum err cas_stat(const struct cas *cas, const char *hash, uint64_t *size);

/* ---- writing ---- */

/* A stored blob, held against gc until cas_blob_release. */
struct cas_blob {
	char hash[DIGEST_SHA256_HEX_LEN + 1];
	uint64_t size;
	bool deduplicated; /* the content was already stored */
	bool held;         /* fd is open with a shared lock on the stored file */
	int fd;            /* on S3: the unlinked temp file, for cas_blob_release */
	struct cas *cas;   /* set when the blob is in an object store */
	int hold_fd;       /* on S3: the read lock on its stripe of DATA/blob-holds */
};

/* Start writing a new blob into a fresh temp file in DATA/tmp.
 * `size_hint` is the declared size when known (0: unknown); space for
 * a large one (over 1 MiB) is reserved up front, so a body that cannot
 * fit fails with ERR_NOSPACE before it is read. Without that, the file
 * is only created when the first bytes go to disk (small content: when
 * it is stored), so creating a writer does no I/O. On success *out owns
 * a writer that must end in cas_writer_store or cas_writer_abort. */
enum err cas_writer_new(struct cas *cas, uint64_t size_hint, struct cas_writer **out);

/* Open or create a resumable writer over a partial file at `path`
 * (absolute; it must be on the same filesystem as DATA, e.g.
 * DATA/uploads/<id>). Bytes already in the file are re-hashed (a hash
 * state cannot be saved) and writing continues at its end. Only one
 * writer may hold a file: a second gets ERR_LOCKED, in this or any
 * other process. End in cas_writer_store, cas_writer_abort (file
 * removed) or cas_writer_close (file kept for later). */
enum err cas_writer_resume(struct cas *cas, const char *path, struct cas_writer **out);

/* Append `len` bytes. Pieces of any size are fine: the writer hashes
 * each and buffers small ones into large write() calls. Disk full or
 * over the filesystem quota: ERR_NOSPACE. After any failure the writer
 * is dead: every later call returns the same error and the caller still
 * ends it (abort, or close for a resumable one). A temp writer's file is
 * removed at once, so a full disk is relieved immediately; a resumable
 * writer's partial file is kept and holds a prefix of what was written
 * (cas_writer_resume re-reads its size). */
enum err cas_writer_write(struct cas_writer *w, const void *buf, size_t len);

/* Bytes written so far (for a resumed writer, including what the file
 * held). */
uint64_t cas_writer_size(const struct cas_writer *w);

/* Start a side digest of the bytes written from now on, besides the
 * SHA-256 of the whole blob: tus checksums cover one request's bytes,
 * in SHA-1 or SHA-256. Replaces a running side digest. */
enum err cas_writer_side_begin(struct cas_writer *w, enum digest_alg alg);

/* Finish the side digest into `out` (20 bytes for SHA-1, 32 for
 * SHA-256) and stop it. Returns the digest length, 0 when none ran. */
size_t cas_writer_side_end(struct cas_writer *w, unsigned char *out);

/* Make everything written so far durable in the partial file (flush and
 * fdatasync), e.g. before telling a tus client its new offset. */
enum err cas_writer_sync(struct cas_writer *w);

/* Hand everything written so far to the disk without waiting for it,
 * so that a cas_writer_store (or cas_writer_sync) that follows other
 * work finds its flush mostly done. Nothing is durable yet. */
enum err cas_writer_start_sync(struct cas_writer *w);

/* Content of at most `max` bytes, for a store that keeps small content
 * elsewhere (storage/smallblob.h): true with *data and *len set to all
 * the bytes written so far, in memory (a resumable writer's partial
 * file is read back once). Nothing goes to disk and the writer is not
 * consumed: *data stays valid until the writer ends, which must then be
 * cas_writer_abort (a resumable writer's partial file is removed, so
 * call it once the content is stored elsewhere). False when the writer
 * failed, holds more than `max` bytes, or the file cannot be read: the
 * writer is unchanged and cas_writer_store still works. */
bool cas_writer_small(struct cas_writer *w, size_t max, const unsigned char **data, size_t *len);

/* The SHA-256 of everything written so far, in hex, from the hash the
 * writer keeps as it goes (content stored elsewhere needs no second
 * pass). The writer is unchanged. False when it failed or memory ran
 * out. */
bool cas_writer_hash(const struct cas_writer *w, char hex[DIGEST_SHA256_HEX_LEN + 1]);

/* Cut a resumable writer back to `size` bytes (≤ its size) and re-hash
 * what remains: a tus request whose checksum failed leaves the offset
 * where it was. */
enum err cas_writer_truncate(struct cas_writer *w, uint64_t size);

/* Store the content: the durability sequence in the header comment;
 * blocks on the disk (run it off the event loop). The writer is
 * consumed whatever the outcome: on success *out describes the stored
 * blob, durable and held; the caller references it in a committed
 * transaction (or decides not to) and then calls cas_blob_release. On
 * failure nothing is held and the temp file is removed; a resumable
 * writer's partial file stays at its path, writable, holding at least
 * what was written before (cas_writer_resume and cas_writer_truncate
 * bring it back to an offset), unless the failure came after its
 * rename into the store. */
enum err cas_writer_store(struct cas_writer *w, struct cas_blob *out);

/* Drop the hold of a stored blob. Accepts NULL and a blob not held. */
void cas_blob_release(struct cas_blob *b);
/* True when cas_blob_release first asks the object store whether the
 * blob is still there (a round trip): a thread that must be quick
 * releases such a blob elsewhere. */
bool cas_blob_release_asks_store(const struct cas_blob *b);

/* Make the file at `path` (absolute, e.g. DATA/uploads/<id>) a partial
 * upload holding the first `len` bytes of the held blob `b`, synced:
 * what a resumable writer's file held before cas_writer_store took it
 * into the store, for an upload whose version was then not committed.
 * Whatever the file held is replaced, under its writer lock (ERR_LOCKED
 * while a writer has it). Blocks on the disk. On failure the file may
 * hold fewer bytes (never others). */
enum err cas_partial_from_blob(const struct cas_blob *b, const char *path, uint64_t len);

/* Drop the writer and remove its file. Accepts NULL. */
void cas_writer_abort(struct cas_writer *w);

/* Release a resumable writer and keep its file (bytes written are
 * flushed but not fsynced: call cas_writer_sync first to make them
 * durable). For a temp writer this is cas_writer_abort. Accepts NULL. */
enum err cas_writer_close(struct cas_writer *w);

/* ---- reading ---- */

/* Open a stored blob. ERR_NOTFOUND when it is not stored (for a blob a
 * version references, that is corruption fsck reports). On success *out
 * owns a reader to close with cas_reader_close. */
enum err cas_reader_open(const struct cas *cas, const char *hash, struct cas_reader **out);

/* A reader over an open regular file (e.g. a memfd holding content the
 * store keeps in memory or in the database): the reader owns fd, which
 * is closed on failure too. */
enum err cas_reader_from_fd(int fd, struct cas_reader **out);

uint64_t cas_reader_size(const struct cas_reader *r);

/* Read up to `len` bytes at `offset` into buf; *got is what was read,
 * less than len only at the end of the blob (0 at or past it). Reads at
 * any offset in any order (HTTP Range). */
enum err cas_reader_read(struct cas_reader *r, uint64_t offset, void *buf, size_t len, size_t *got);

/* The open file descriptor, read-only, owned by the reader (e.g. for
 * evbuffer_add_file_segment). */
int cas_reader_fd(const struct cas_reader *r);

/* Accepts NULL. */
void cas_reader_close(struct cas_reader *r);

/* ---- maintenance (gc, fsck, backup) ---- */

/* Remove temp files in DATA/tmp that no writer holds and whose last
 * change is older than `min_age` seconds (0: all unlocked ones). Adds
 * the number removed to *removed. */
enum err cas_clean_tmp(struct cas *cas, int64_t min_age, uint64_t *removed);

/* Call fn for every file under DATA/blobs (two levels of directories),
 * with its name relative to DATA/blobs ("ab/cd/<name>"), the name alone,
 * and its stat. Anything unexpected (a wrong name, a non-file) is passed
 * too: fn decides. fn returning non-zero stops the walk with that
 * value as the result. */
typedef enum err (*cas_walk_fn)(void *ctx, const char *rel, const char *name,
				const struct stat *st);
enum err cas_walk(struct cas *cas, cas_walk_fn fn, void *ctx);

/* Remove blob `hash` (gc only: the caller holds the write transaction in
 * which it found the blob unreferenced). ERR_LOCKED, and the blob stays,
 * when a writer holds it (struct cas_blob). Missing is fine. */
enum err cas_remove(struct cas *cas, const char *hash);

/* Blobs this handle placed since it was opened (deduplicated content
 * not counted), and their bytes: the running total that /metrics adds
 * to its periodic walk of DATA/blobs. Thread-safe. */
void cas_added(const struct cas *cas, uint64_t *count, uint64_t *bytes);

/* "local" (DATA/blobs) or "s3" (DATA/blob-store names a bucket;
 * storage/blobback.h). On S3, cas_reader_fd is -1 (read with
 * cas_reader_read), cas_walk lists the bucket, and cas_blob_release
 * confirms the object after the referencing commit. */
const char *cas_store_kind(const struct cas *cas);

/* The object store's request totals, for /metrics; false when local. */
struct cas_remote_stats {
	uint64_t requests, errors, retries, bytes_up, bytes_down;
	double seconds;
	bool failing; /* the last request failed after its retries */
};
bool cas_remote_stats(const struct cas *cas, struct cas_remote_stats *out);

/* With the blobs in an object store: send up to `parallel_parts` parts
 * of a large upload at once (0: the default), and keep a local read
 * cache of `cache_bytes` in DATA/cache (0: none; storage/blobcache.h).
 * Nothing to do for local blobs. Before the store is used. */
enum err cas_remote_tune(struct cas *cas, unsigned parallel_parts, uint64_t cache_bytes);

/* The read cache's totals, for /metrics; false without a cache. */
struct cas_cache_stats {
	uint64_t hits, misses, fills, evictions, dropped;
	uint64_t entries, bytes, max_bytes;
};
bool cas_cache_stats(const struct cas *cas, struct cas_cache_stats *out);

/* A file that holds blob `hash`, for a helper that reads files (search
 * extraction, version diff): the blob file itself, or with the blobs in
 * an object store a link to the read cache's file or a copy made in
 * DATA/tmp (which fills the cache) (*temp: the caller unlinks
 * it; a crash leaves it to the cleaning at start). Blocks on the store. */
enum err cas_local_file(struct cas *cas, const char *hash, char *path, size_t cap, bool *temp);

/* The directory handle of DATA/blobs (owned by the store). */
int cas_blobs_fd(const struct cas *cas);

#endif
