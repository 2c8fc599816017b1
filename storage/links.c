/* links — see links.h. */
#include "links.h"

#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

const char *const link_kind_names[] = {"download", "drop", NULL};
const char *const link_mode_names[] = {"off", "download", "drop", NULL};

static int64_t col_i64(sqlite3_stmt *st, int col) { return sqlite3_column_int64(st, col); }

static int name_index(const char *const *names, const char *s)
{
	for (int i = 0; s && names[i]; i++)
		if (!strcmp(names[i], s))
			return i;
	return 0;
}

void link_clear(struct link *l)
{
	if (!l)
		return;
	free(l->password_hash);
	free(l->note);
	free(l->wp_code);
	free(l->creator_email);
	free(l->creator_name);
	memset(l, 0, sizeof *l);
}

static void link_clear_rec(void *rec) { link_clear(rec); }

void links_free(struct link *l, size_t n) { db_rows_free(l, n, sizeof *l, link_clear_rec); }

enum err link_policy_get(struct db *db, int64_t wp_id, struct link_policy *out)
{
	static const char sql[] =
		"SELECT mode, max_days, password_required FROM link_policies WHERE wp_id = ?";
	sqlite3_stmt *st;
	bool row = false;
	enum err rc = db_stmt(db, sql, &st);

	out->mode = LINK_MODE_OFF;
	out->max_days = LINK_DEFAULT_DAYS;
	out->password_required = false;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, wp_id);
	rc = db_step(db, st, "read link policy", &row);
	if (!rc && row) {
		out->mode = (enum link_mode)name_index(link_mode_names,
						       (const char *)sqlite3_column_text(st, 0));
		out->max_days = col_i64(st, 1);
		out->password_required = col_i64(st, 2) != 0;
	}
	sqlite3_reset(st);
	return rc;
}

enum err link_policy_set(struct db *db, int64_t wp_id, const struct link_policy *p)
{
	static const char sql[] =
		"INSERT INTO link_policies (wp_id, mode, max_days, password_required)"
		" VALUES (?, ?, ?, ?) ON CONFLICT (wp_id) DO UPDATE SET mode = excluded.mode,"
		" max_days = excluded.max_days, password_required = excluded.password_required";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, wp_id);
	db_bind_text(db, st, 2, link_mode_names[p->mode]);
	db_bind_int64(db, st, 3, p->max_days);
	db_bind_int64(db, st, 4, p->password_required);
	return db_exec_stmt(db, st, "store link policy");
}

enum err link_add(struct db *db, const unsigned char secret_hash[32], const struct link *l,
		  int64_t *id)
{
	static const char sql[] =
		"INSERT INTO links (secret_hash, kind, wp_id, node_id, version, creator_id,"
		" created_at, expires_at, password_hash, max_uses, note, max_file_size)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	*id = 0;
	if (rc)
		return rc;
	db_bind_blob(db, st, 1, secret_hash, 32);
	db_bind_text(db, st, 2, link_kind_names[l->kind]);
	db_bind_int64(db, st, 3, l->wp_id);
	db_bind_int64(db, st, 4, l->node_id);
	db_bind_int64(db, st, 5, l->version);
	db_bind_int64(db, st, 6, l->creator_id);
	db_bind_int64(db, st, 7, l->created_at);
	db_bind_int64(db, st, 8, l->expires_at);
	db_bind_text(db, st, 9, l->password_hash);
	db_bind_id(db, st, 10, l->max_uses);
	db_bind_text(db, st, 11, l->note ? l->note : "");
	db_bind_id(db, st, 12, l->max_file_size);
	rc = db_exec_stmt(db, st, "store link");
	if (!rc)
		*id = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
	return rc;
}

#define LINK_COLS                                                                                  \
	"SELECT l.id, l.kind, l.wp_id, l.node_id, l.version, l.creator_id, l.created_at,"          \
	" l.expires_at, l.password_hash, coalesce(l.max_uses, 0), l.uses,"                         \
	" coalesce(l.last_used_at, 0), l.note, coalesce(l.revoked_at, 0), w.code, u.email,"        \
	" u.name, coalesce(l.max_file_size, 0) FROM links l JOIN wps w ON w.id = l.wp_id JOIN users u ON u.id = l.creator_id "

static void link_row(sqlite3_stmt *st, void *rec, enum err *rc)
{
	struct link *l = rec;

	l->id = col_i64(st, 0);
	l->kind = (enum link_kind)name_index(link_kind_names,
					     (const char *)sqlite3_column_text(st, 1));
	l->wp_id = col_i64(st, 2);
	l->node_id = col_i64(st, 3);
	l->version = col_i64(st, 4);
	l->creator_id = col_i64(st, 5);
	l->created_at = col_i64(st, 6);
	l->expires_at = col_i64(st, 7);
	l->password_hash = db_column_strdup(st, 8, rc);
	l->max_uses = col_i64(st, 9);
	l->uses = col_i64(st, 10);
	l->last_used_at = col_i64(st, 11);
	l->note = db_column_strdup(st, 12, rc);
	l->revoked_at = col_i64(st, 13);
	l->wp_code = db_column_strdup(st, 14, rc);
	l->creator_email = db_column_strdup(st, 15, rc);
	l->creator_name = db_column_strdup(st, 16, rc);
	l->max_file_size = col_i64(st, 17);
}

static enum err one_link(struct db *db, sqlite3_stmt *st, struct link *out)
{
	struct link *arr = NULL;
	size_t n = 0;
	enum err rc = db_rows(db, st, "read link", sizeof *arr, link_row, link_clear_rec,
			      (void **)&arr, &n);

	memset(out, 0, sizeof *out);
	if (rc)
		return rc;
	if (!n)
		return err_set(ERR_NOTFOUND, "no such link");
	*out = arr[0];
	free(arr);
	return ERR_OK;
}

enum err link_by_secret(struct db *db, const unsigned char hash[32], struct link *out)
{
	static const char sql[] = LINK_COLS "WHERE l.secret_hash = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc) {
		memset(out, 0, sizeof *out);
		return rc;
	}
	db_bind_blob(db, st, 1, hash, 32);
	return one_link(db, st, out);
}

enum err link_get(struct db *db, int64_t id, struct link *out)
{
	static const char sql[] = LINK_COLS "WHERE l.id = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc) {
		memset(out, 0, sizeof *out);
		return rc;
	}
	db_bind_int64(db, st, 1, id);
	return one_link(db, st, out);
}

enum err links_list(struct db *db, bool live, int64_t now, int64_t wp_id, struct link **out,
		    size_t *n)
{
	static const char sql[] =
		LINK_COLS "WHERE (NOT ?1 OR (l.revoked_at IS NULL AND l.expires_at > ?2"
			  " AND (l.max_uses IS NULL OR l.uses < l.max_uses)))"
			  " AND (?3 = 0 OR l.wp_id = ?3) ORDER BY l.id DESC";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, live);
	db_bind_int64(db, st, 2, now);
	db_bind_int64(db, st, 3, wp_id);
	return db_rows(db, st, "list links", sizeof **out, link_row, link_clear_rec, (void **)out,
		       n);
}

enum err link_revoke(struct db *db, int64_t id, int64_t by, int64_t now)
{
	static const char sql[] = "UPDATE links SET revoked_at = ?, revoked_by = ?"
				  " WHERE id = ? AND revoked_at IS NULL";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, now);
	db_bind_id(db, st, 2, by);
	db_bind_int64(db, st, 3, id);
	return db_exec_stmt(db, st, "revoke link");
}

enum err link_use(struct db *db, int64_t id, int64_t now)
{
	static const char sql[] = "UPDATE links SET uses = uses + 1, last_used_at = ?1"
				  " WHERE id = ?2 AND revoked_at IS NULL AND expires_at > ?1"
				  " AND (max_uses IS NULL OR uses < max_uses)";
	sqlite3_stmt *st;
	int changes = 0;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, now);
	db_bind_int64(db, st, 2, id);
	rc = db_exec_changes(db, st, "count a link use", &changes);
	if (!rc && !changes)
		rc = err_set(ERR_NOTFOUND, "no such link");
	return rc;
}

enum err link_touch(struct db *db, int64_t id, int64_t now)
{
	static const char sql[] = "UPDATE links SET last_used_at = ? WHERE id = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, now);
	db_bind_int64(db, st, 2, id);
	return db_exec_stmt(db, st, "touch link");
}
