/*
 * uploads — the repository of resumable (tus) uploads that are not
 * committed yet: one row of the `uploads` table per upload, its bytes in
 * DATA/uploads/<id> (written through cas_writer_resume, see cas.h).
 *
 * The row's `offset` is the number of bytes the client has been told are
 * stored; the partial file may hold more after a crash (bytes written
 * but never acknowledged) and is cut back to the offset when the upload
 * resumes. A finished upload keeps its row, with the version it made,
 * until it expires, so a client that lost the answer to its last PATCH
 * learns from HEAD that everything arrived.
 *
 * Ids are random URL-safe strings made by the caller (43 characters of
 * base64url); uploads_id_valid() is what makes them safe as file names.
 *
 * Errors: ERR_NOTFOUND no such upload; ERR_LIMIT a per-user limit
 * (detail gives the figures); ERR_DB, ERR_NOSPACE from SQLite.
 */
#ifndef CONSORT_UPLOADS_H
#define CONSORT_UPLOADS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "digest.h"
#include "err.h"

#define UPLOADS_ID_LEN 43
#define UPLOADS_METADATA_MAX 4096 /* bytes of the raw Upload-Metadata kept */

struct upload {
	char id[UPLOADS_ID_LEN + 1];
	int64_t user_id;
	int64_t wp_id;
	char *path;      /* '/'-separated, as name_path_from_text takes it */
	char *comment;   /* "" when none */
	char *metadata;  /* the Upload-Metadata header as received */
	uint64_t length; /* Upload-Length */
	uint64_t offset;
	int64_t created_at;
	int64_t expires_at;
	int64_t version;                      /* 0 until committed: then the version it made */
	char blob[DIGEST_SHA256_HEX_LEN + 1]; /* "" until committed */
	int64_t link_id; /* 0, or the drop link it came through (docs/links.md) */
};

/* Releases the strings; leaves *u zeroed. Accepts an empty one. */
void upload_clear(struct upload *u);

/* True when `id` has the form of an upload id (so it is safe in a path). */
bool uploads_id_valid(const char *id);

/* Insert `u` (id, user, wp, path, comment, metadata, length, times; the
 * offset starts at 0) unless the user would then have more than
 * `max_open` unfinished uploads or more than `max_bytes` announced by
 * them together (ERR_LIMIT). One transaction. */
enum err uploads_create(struct db *db, const struct upload *u, unsigned max_open,
			uint64_t max_bytes);

/* Insert `u` finished: a creation request carried all of it, and it
 * made u->version with content u->blob (the offset is its length).
 * Under the same limits as uploads_create, counting `u` as one more
 * unfinished upload (ERR_LIMIT). Meant to run inside the transaction
 * that adds the version (tree_put's hook), so both commit together;
 * joins the open transaction. */
enum err uploads_create_finished(struct db *db, const struct upload *u, unsigned max_open,
				 uint64_t max_bytes);

/* The upload `id`. *out is cleared with upload_clear. */
enum err uploads_get(struct db *db, const char *id, struct upload *out);

/* Record that the first `offset` bytes are stored durably. */
enum err uploads_set_offset(struct db *db, const char *id, uint64_t offset);

/* Mark the upload finished: it made `version` with content `blob`. Meant
 * to run inside the transaction that adds the version (tree_put's hook),
 * so both commit together; joins the open transaction. */
enum err uploads_finish(struct db *db, const char *id, int64_t version, const char *blob);

/* How many unfinished, unexpired uploads came through link `link_id`
 * and moved in the last hour (created, or their offset recorded): one
 * its uploader left, in a browser closed for good, stops holding one of
 * the link's files. Should it come back after the link filled up, its
 * commit is refused (link_use). */
#define UPLOADS_LINK_IDLE "3600"
enum err uploads_link_open(struct db *db, int64_t link_id, int64_t now, int64_t *n);

/* Delete the row (not the file). Missing is fine. */
enum err uploads_delete(struct db *db, const char *id);

/* Remove every upload that expired before `now`: its row and its file in
 * `uploads_dir`, and files in `uploads_dir` that no row names and that
 * are older than `grace` seconds (left by a crash between creating a
 * file and its row, or by an interrupted removal). Files a writer holds
 * are skipped. *removed (may be NULL) gets the number of uploads
 * removed. */
enum err uploads_sweep(struct db *db, const char *uploads_dir, int64_t now, int64_t grace,
		       uint64_t *removed);

#endif
