/*
 * docput — the end of every upload: the content is in a cas writer, and
 * it becomes a new version of a document. Shared by PUT .../content and
 * by the last PATCH of a tus upload, so both make versions the same way:
 *
 *   disk pool:   the last bytes written, MIME type from the first bytes
 *                (libmagic), cas_writer_store (fdatasync, rename,
 *                directory fsync; the blob is then held against gc)
 *   disk pool:   the malware scan (api/scan.h, scan_content) of the
 *                stored blob; a refusal (infected, unscannable, scanner
 *                unavailable) is audited in the commit queue and the
 *                blob removed there unless a version references it
 *   commit queue (commitq.h): tree_put with its preconditions, as one
 *                savepoint of a group transaction that commits every
 *                upload ready at that moment with one WAL fsync; inside
 *                it the audit record "upload" and, for tus, the upload
 *                marked finished (its row inserted finished when the
 *                creation request carried all of it); after the commit the hold is released
 *   event loop:  the answer
 *
 * Content of at most SMALLBLOB_MAX bytes (storage/smallblob.h) skips
 * the file: MIME type and scan from memory, and its small_blobs row is
 * inserted in the same savepoint as the version, so the group commit's
 * one WAL fsync makes content and version durable together.
 *
 * No step blocks the event loop on the disk. On any failure the writer's
 * file is removed (or, stored, left unreferenced for gc); the store is
 * as before. A chunked tus upload is the exception (keep_file): unless
 * the failure is final (docput_final), its partial file is left holding
 * the bytes its row records, so that its client can resume. The outcome goes to the caller's
 * `answer`, on the event loop, only if the request is still alive (a client that went away still
 * gets its version committed: every byte had arrived).
 */
#ifndef CONSORT_DOCPUT_H
#define CONSORT_DOCPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "err.h"
#include "api/mime.h"
#include "name.h"
#include "tree.h"

struct call;
struct cas_writer;
struct upload;

struct docput_result {
	int64_t node_id;
	int64_t version;
	bool created;
	uint64_t size;
	char hash[DIGEST_SHA256_HEX_LEN + 1];
	char mime[MIME_MAX + 1];
	/* "clean", "unscanned" (accepted by policy), or NULL when scanning
	 * is off (api/scan.h) */
	const char *scan;
};

typedef void (*docput_answer_fn)(struct call *call, enum err rc, const struct docput_result *res,
				 void *arg);

struct docput_req {
	struct call *call;
	struct cas_writer *w; /* consumed by docput_commit */
	/* Bytes that still go to `w` before it is stored (malloc'd; consumed):
	 * written on the disk thread, not the event loop. */
	unsigned char *tail;
	size_t tail_len;
	int64_t wp_id;
	struct name_path path; /* moved into docput_commit (left empty) */
	const char *comment;   /* NULL or request-scoped */
	enum tree_cond cond;
	const char *if_blob; /* NULL or request-scoped ETag hash */
	/* The first bytes of the content for MIME detection: either in
	 * memory (head, head_len; copied) or read from `head_file`. */
	const unsigned char *head;
	size_t head_len;
	const char *head_file;
	const char *upload_id; /* tus: marked finished with the version */
	/* tus, a chunked upload (w is resumable over this partial file,
	 * DATA/uploads/<id>; copied): on a failure that is not final the
	 * file is left holding its first keep_offset bytes, the offset its
	 * row records, rather than removed (from the stored blob when the
	 * store had already taken the file). NULL: nothing is kept. */
	const char *keep_file;
	uint64_t keep_offset;
	/* tus, when the upload's row does not exist yet (a creation request
	 * that carried all of it, h_tus.c): inserted already finished with
	 * the version, in the commit's transaction and under the per-user
	 * limits (uploads_create_finished), so the upload costs no
	 * transaction of its own. Copied. NULL: the row of upload_id exists. */
	const struct upload *new_upload;
	unsigned upload_max_open;
	uint64_t upload_max_bytes;
	/* A drop link's upload: audited as "link #ID" (no account), counted
	 * as one of the link's files in the same transaction; ERR_CONFLICT
	 * when the link has no file left or died meanwhile. */
	int64_t link_id;
	docput_answer_fn answer;
	void *arg;
	/* Called on the event loop once the job has ended, after `answer`
	 * or without it (the request went away): what the caller holds for
	 * the commit's whole length is given back here. NULL: none. */
	void (*ended)(void *ended_arg);
	void *ended_arg;
};

/* True when `rc`, an outcome of docput_commit, ends the upload for good:
 * the malware scan refused the content (infected, or unscannable under
 * the refuse policy: api/scan.h); it was audited, its blob removed, and
 * a tus upload's row deleted. Every other failure (a quota, a conflict,
 * the disk or the database, a scanner that could not be asked) leaves a
 * chunked tus upload resumable at its recorded offset (keep_file). */
bool docput_final(enum err rc);

/* Start the commit. Ownership of r->w, r->tail and r->path passes to
 * docput in every case; `answer` is called exactly once if the request is still
 * alive at the end (possibly before this returns, on failure). */
void docput_commit(struct docput_req *r);

#endif
