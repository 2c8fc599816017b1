/* audit — see audit.h. */
#include "audit.h"

#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

enum err audit_append(struct db *db, int64_t user_id, const char *actor, const char *peer,
		      const char *action, int64_t wp_id, const char *object, const char *detail)
{
	static const char sql[] =
		"INSERT INTO audit (at, user_id, actor, peer, action, wp_id, object, detail)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st;
	enum err rc;

	if (!action || !*action)
		return err_set(ERR_INTERNAL, "audit record without an action");
	rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, db_now());
	if (user_id)
		db_bind_int64(db, st, 2, user_id);
	db_bind_text(db, st, 3, actor ? actor : "");
	db_bind_text(db, st, 4, peer ? peer : "");
	db_bind_text(db, st, 5, action);
	if (wp_id)
		db_bind_int64(db, st, 6, wp_id);
	db_bind_text(db, st, 7, object ? object : "");
	db_bind_text(db, st, 8, detail ? detail : "");
	return db_exec_stmt(db, st, "append audit record");
}

/* Every filter is optional: a NULL parameter turns its condition into
 * true. The set of filters is small, so one statement (and one plan)
 * serves all combinations; the indexes on (user_id, at), (wp_id, at) and
 * (action, at) still apply when SQLite can use them. */
#define AUDIT_WHERE                                                                                \
	" WHERE (?1 IS NULL OR a.user_id = ?1)"                                                    \
	" AND (?2 IS NULL OR a.wp_id = ?2)"                                                        \
	" AND (?3 IS NULL OR a.action = ?3)"                                                       \
	" AND (?4 IS NULL OR a.at >= ?4)"                                                          \
	" AND (?5 IS NULL OR a.at < ?5)"                                                           \
	" AND a.id > ?6"

static void bind_filter(struct db *db, sqlite3_stmt *st, const struct audit_filter *f)
{
	if (f->user_id)
		db_bind_int64(db, st, 1, f->user_id);
	if (f->wp_id)
		db_bind_int64(db, st, 2, f->wp_id);
	if (f->action)
		db_bind_text(db, st, 3, f->action);
	if (f->since)
		db_bind_int64(db, st, 4, f->since);
	if (f->until)
		db_bind_int64(db, st, 5, f->until);
	db_bind_int64(db, st, 6, f->after_id);
}

static void read_row(sqlite3_stmt *st, void *rec, enum err *rc)
{
	struct audit_row *r = rec;

	r->id = sqlite3_column_int64(st, 0);
	r->at = sqlite3_column_int64(st, 1);
	r->user_id = sqlite3_column_int64(st, 2);
	r->actor = db_column_strdup(st, 3, rc);
	r->peer = db_column_strdup(st, 4, rc);
	r->action = db_column_strdup(st, 5, rc);
	r->wp_id = sqlite3_column_int64(st, 6);
	r->wp_code = db_column_strdup(st, 7, rc);
	r->object = db_column_strdup(st, 8, rc);
	r->detail = db_column_strdup(st, 9, rc);
}

static void clear_row(void *rec)
{
	struct audit_row *r = rec;

	free(r->actor);
	free(r->peer);
	free(r->action);
	free(r->wp_code);
	free(r->object);
	free(r->detail);
}

enum err audit_query(struct db *db, const struct audit_filter *f, bool oldest_first, size_t limit,
		     size_t offset, struct audit_row **rows, size_t *n, int64_t *total)
{
	static const char sql_count[] = "SELECT count(*) FROM audit a" AUDIT_WHERE;
	static const char sql_newest[] =
		"SELECT a.id, a.at, coalesce(a.user_id, 0), a.actor, a.peer, a.action,"
		" coalesce(a.wp_id, 0), w.code, a.object, a.detail"
		" FROM audit a LEFT JOIN wps w ON w.id = a.wp_id" AUDIT_WHERE
		" ORDER BY a.id DESC LIMIT ?7 OFFSET ?8";
	static const char sql_oldest[] =
		"SELECT a.id, a.at, coalesce(a.user_id, 0), a.actor, a.peer, a.action,"
		" coalesce(a.wp_id, 0), w.code, a.object, a.detail"
		" FROM audit a LEFT JOIN wps w ON w.id = a.wp_id" AUDIT_WHERE
		" ORDER BY a.id LIMIT ?7 OFFSET ?8";
	sqlite3_stmt *st;
	enum err rc = ERR_OK;
	bool row;

	*rows = NULL;
	*n = 0;
	if (total) {
		rc = db_stmt(db, sql_count, &st);
		if (rc)
			return rc;
		bind_filter(db, st, f);
		rc = db_step(db, st, "count audit records", &row);
		if (!rc && row)
			*total = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (rc)
			return rc;
	}
	rc = db_stmt(db, oldest_first ? sql_oldest : sql_newest, &st);
	if (rc)
		return rc;
	bind_filter(db, st, f);
	db_bind_int64(db, st, 7, (sqlite3_int64)limit);
	db_bind_int64(db, st, 8, (sqlite3_int64)offset);
	return db_rows(db, st, "read audit records", sizeof **rows, read_row, clear_row,
		       (void **)rows, n);
}

void audit_rows_free(struct audit_row *rows, size_t n)
{
	db_rows_free(rows, n, sizeof *rows, clear_row);
}
