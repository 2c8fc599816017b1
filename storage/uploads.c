/* uploads — see uploads.h. */
#include "uploads.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db_internal.h"

void upload_clear(struct upload *u)
{
	if (!u)
		return;
	free(u->path);
	free(u->comment);
	free(u->metadata);
	memset(u, 0, sizeof *u);
}

bool uploads_id_valid(const char *id)
{
	size_t n = 0;

	for (; id[n]; n++) {
		char c = id[n];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return n == UPLOADS_ID_LEN;
}

static enum err txn_end(struct db *db, enum err rc)
{
	if (!rc)
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
	return rc;
}

/* Insert `u` under the per-user limits, in the caller's transaction:
 * unfinished (offset 0), or finished when u->version is set (its
 * version and blob, the offset at its length). Either way it counts as
 * one more unfinished upload for the limits, as it was one until now. */
static enum err insert_checked(struct db *db, const struct upload *u, unsigned max_open,
			       uint64_t max_bytes)
{
	/* The covering index uploads_user (user_id, version, length) gives
	 * the unfinished rows alone: finished ones stay until they expire. */
	static const char sql_count[] = "SELECT count(*), coalesce(sum(length), 0) FROM uploads"
					" WHERE user_id = ? AND version IS NULL";
	static const char sql_insert[] =
		"INSERT INTO uploads (id, user_id, wp_id, path, comment, metadata, length,"
		" offset, created_at, expires_at, link_id, version, blob)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st;
	int64_t open_count, open_bytes;
	enum err rc;
	bool row;

	rc = db_stmt(db, sql_count, &st);
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, u->user_id);
	rc = db_step(db, st, "count uploads", &row);
	if (!rc && !row)
		rc = err_set(ERR_DB, "count uploads: no result");
	if (rc) {
		sqlite3_reset(st);
		return rc;
	}
	open_count = sqlite3_column_int64(st, 0);
	open_bytes = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	if ((uint64_t)open_count + 1 > max_open)
		return err_set(ERR_LIMIT,
			       "you have %" PRId64 " unfinished uploads, the most allowed is %u: "
			       "finish or cancel one first",
			       open_count, max_open);
	if ((uint64_t)open_bytes + u->length > max_bytes || u->length > max_bytes)
		return err_set(ERR_LIMIT,
			       "your unfinished uploads would total %" PRIu64
			       " bytes, the most allowed "
			       "is %" PRIu64 ": finish or cancel one first",
			       (uint64_t)open_bytes + u->length, max_bytes);
	rc = db_stmt(db, sql_insert, &st);
	if (rc)
		return rc;
	db_bind_text(db, st, 1, u->id);
	db_bind_int64(db, st, 2, u->user_id);
	db_bind_int64(db, st, 3, u->wp_id);
	db_bind_text(db, st, 4, u->path);
	db_bind_text(db, st, 5, u->comment ? u->comment : "");
	db_bind_text(db, st, 6, u->metadata ? u->metadata : "");
	db_bind_int64(db, st, 7, (int64_t)u->length);
	db_bind_int64(db, st, 8, u->version ? (int64_t)u->length : 0);
	db_bind_int64(db, st, 9, u->created_at);
	db_bind_int64(db, st, 10, u->expires_at);
	db_bind_id(db, st, 11, u->link_id);
	db_bind_id(db, st, 12, u->version);
	db_bind_text(db, st, 13, u->version ? u->blob : NULL);
	return db_exec_stmt(db, st, "insert upload");
}

enum err uploads_create(struct db *db, const struct upload *u, unsigned max_open,
			uint64_t max_bytes)
{
	enum err rc;

	if (!uploads_id_valid(u->id))
		return err_set(ERR_INVALID, "malformed upload id");
	rc = db_begin(db);
	if (rc)
		return rc;
	return txn_end(db, insert_checked(db, u, max_open, max_bytes));
}

enum err uploads_create_finished(struct db *db, const struct upload *u, unsigned max_open,
				 uint64_t max_bytes)
{
	if (!uploads_id_valid(u->id))
		return err_set(ERR_INVALID, "malformed upload id");
	if (u->version <= 0 || strlen(u->blob) != DIGEST_SHA256_HEX_LEN)
		return err_set(ERR_INTERNAL, "a finished upload needs its version and blob");
	return insert_checked(db, u, max_open, max_bytes);
}

enum err uploads_get(struct db *db, const char *id, struct upload *out)
{
	static const char sql[] =
		"SELECT user_id, wp_id, path, comment, metadata, coalesce(length, 0), offset,"
		" created_at, expires_at, coalesce(version, 0), coalesce(blob, ''),"
		" coalesce(link_id, 0) FROM uploads WHERE id = ?";
	sqlite3_stmt *st;
	enum err rc;
	bool row;

	memset(out, 0, sizeof *out);
	if (!uploads_id_valid(id))
		return err_set(ERR_NOTFOUND, "no such upload");
	rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_text(db, st, 1, id);
	rc = db_step(db, st, "read upload", &row);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no such upload");
	if (rc) {
		sqlite3_reset(st);
		return rc;
	}
	memcpy(out->id, id, UPLOADS_ID_LEN + 1);
	out->user_id = sqlite3_column_int64(st, 0);
	out->wp_id = sqlite3_column_int64(st, 1);
	out->path = db_column_strdup(st, 2, &rc);
	out->comment = db_column_strdup(st, 3, &rc);
	out->metadata = db_column_strdup(st, 4, &rc);
	out->length = (uint64_t)sqlite3_column_int64(st, 5);
	out->offset = (uint64_t)sqlite3_column_int64(st, 6);
	out->created_at = sqlite3_column_int64(st, 7);
	out->expires_at = sqlite3_column_int64(st, 8);
	out->version = sqlite3_column_int64(st, 9);
	out->link_id = sqlite3_column_int64(st, 11);
	{
		const unsigned char *b = sqlite3_column_text(st, 10);

		if (b && strlen((const char *)b) == DIGEST_SHA256_HEX_LEN)
			memcpy(out->blob, b, DIGEST_SHA256_HEX_LEN + 1);
	}
	sqlite3_reset(st);
	if (rc)
		upload_clear(out);
	return rc;
}

enum err uploads_set_offset(struct db *db, const char *id, uint64_t offset)
{
	static const char sql[] =
		"UPDATE uploads SET offset = ?, touched_at = ? WHERE id = ? AND version IS NULL";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, (int64_t)offset);
	db_bind_int64(db, st, 2, db_now());
	db_bind_text(db, st, 3, id);
	return db_exec_stmt(db, st, "record upload offset");
}

enum err uploads_finish(struct db *db, const char *id, int64_t version, const char *blob)
{
	static const char sql[] =
		"UPDATE uploads SET version = ?, blob = ?, offset = length WHERE id = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, version);
	db_bind_text(db, st, 2, blob);
	db_bind_text(db, st, 3, id);
	return db_exec_stmt(db, st, "finish upload");
}

enum err uploads_delete(struct db *db, const char *id)
{
	static const char sql[] = "DELETE FROM uploads WHERE id = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_text(db, st, 1, id);
	return db_exec_stmt(db, st, "delete upload");
}

/* Unlink `name` in `dir_fd` unless a writer holds it. Missing is fine. */
static enum err remove_unlocked(int dir_fd, const char *name, bool *removed)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	*removed = false;
	if (fd < 0)
		return errno == ENOENT ? ERR_OK : err_from_errno(errno, "open partial upload");
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		return ERR_OK; /* in use: a later sweep gets it */
	}
	if (unlinkat(dir_fd, name, 0) != 0 && errno != ENOENT) {
		enum err rc = err_from_errno(errno, "remove partial upload");

		close(fd);
		return rc;
	}
	close(fd);
	*removed = true;
	return ERR_OK;
}

static bool row_exists(struct db *db, const char *id, enum err *rc)
{
	static const char sql[] = "SELECT 1 FROM uploads WHERE id = ?";
	sqlite3_stmt *st;
	bool row = true;

	*rc = db_stmt(db, sql, &st);
	if (*rc)
		return true;
	db_bind_text(db, st, 1, id);
	*rc = db_step(db, st, "look up upload", &row);
	sqlite3_reset(st);
	return *rc || row;
}

enum err uploads_sweep(struct db *db, const char *uploads_dir, int64_t now, int64_t grace,
		       uint64_t *removed)
{
	static const char sql_expired[] =
		"SELECT id FROM uploads WHERE expires_at < ? ORDER BY expires_at LIMIT 256";
	char ids[256][UPLOADS_ID_LEN + 1];
	size_t n = 0;
	uint64_t count = 0;
	sqlite3_stmt *st;
	DIR *d = NULL;
	int dir_fd = -1;
	enum err rc;
	bool row;

	dir_fd = open(uploads_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		return err_from_errno(errno, "open the uploads directory");
	rc = db_stmt(db, sql_expired, &st);
	if (rc)
		goto out;
	db_bind_int64(db, st, 1, now);
	while (!(rc = db_step(db, st, "list expired uploads", &row)) && row && n < 256) {
		const char *id = (const char *)sqlite3_column_text(st, 0);

		if (id && uploads_id_valid(id))
			memcpy(ids[n++], id, UPLOADS_ID_LEN + 1);
	}
	sqlite3_reset(st);
	if (rc)
		goto out;
	for (size_t i = 0; i < n; i++) {
		bool gone;

		/* File first: a row without a file is an upload at offset 0,
		 * while a file without a row is only garbage for the next sweep. */
		rc = remove_unlocked(dir_fd, ids[i], &gone);
		if (rc)
			goto out;
		if (!gone && faccessat(dir_fd, ids[i], F_OK, AT_SYMLINK_NOFOLLOW) == 0)
			continue; /* a request is writing it right now */
		rc = uploads_delete(db, ids[i]);
		if (rc)
			goto out;
		count++;
	}

	d = fdopendir(dup(dir_fd));
	if (!d) {
		rc = err_from_errno(errno, "read the uploads directory");
		goto out;
	}
	for (struct dirent *e; (e = readdir(d));) {
		struct stat sb;
		bool gone;

		if (!uploads_id_valid(e->d_name))
			continue;
		if (fstatat(dir_fd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
		    sb.st_mtime > now - grace)
			continue;
		if (row_exists(db, e->d_name, &rc) || rc) {
			if (rc)
				goto out;
			continue;
		}
		rc = remove_unlocked(dir_fd, e->d_name, &gone);
		if (rc)
			goto out;
	}
out:
	if (d)
		closedir(d);
	close(dir_fd);
	if (removed)
		*removed = count;
	return rc;
}

enum err uploads_link_open(struct db *db, int64_t link_id, int64_t now, int64_t *n)
{
	static const char sql[] =
		"SELECT count(*) FROM uploads WHERE link_id = ?1 AND version IS NULL"
		" AND expires_at > ?2 AND coalesce(touched_at, created_at) > ?2 - " UPLOADS_LINK_IDLE;
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	*n = 0;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, link_id);
	db_bind_int64(db, st, 2, now);
	rc = db_step(db, st, "count link uploads", &row);
	if (!rc && row)
		*n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc;
}
