/* davstore — see davstore.h. */
#include "davstore.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"
#include "digest.h"

static enum err txn_end(struct db *db, enum err rc)
{
	if (!rc)
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
	return rc;
}

/* ---- dead properties ---- */

static void read_prop(sqlite3_stmt *st, void *rec, enum err *rc)
{
	struct davstore_prop *p = rec;

	p->ns = db_column_strdup(st, 0, rc);
	p->name = db_column_strdup(st, 1, rc);
	p->xml = db_column_strdup(st, 2, rc);
}

static void clear_prop(void *rec)
{
	struct davstore_prop *p = rec;

	free(p->ns);
	free(p->name);
	free(p->xml);
}

void davstore_props_free(struct davstore_prop *p, size_t n)
{
	db_rows_free(p, n, sizeof *p, clear_prop);
}

enum err davstore_props_list(struct db *db, int64_t node_id, struct davstore_prop **out, size_t *n)
{
	static const char sql[] =
		"SELECT ns, name, xml FROM dav_props WHERE node_id = ?1 ORDER BY ns, name";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, node_id);
	return db_rows(db, st, "read properties", sizeof **out, read_prop, clear_prop, (void **)out,
		       n);
}

static enum err apply_one(struct db *db, int64_t node_id, const struct davstore_change *c)
{
	static const char set_sql[] =
		"INSERT INTO dav_props(node_id, ns, name, xml) VALUES (?1, ?2, ?3, ?4)"
		" ON CONFLICT(node_id, ns, name) DO UPDATE SET xml = excluded.xml";
	static const char del_sql[] = "DELETE FROM dav_props WHERE node_id = ?1 AND ns = ?2"
				      " AND name = ?3";
	sqlite3_stmt *st;
	enum err rc;

	if (!c->ns || !c->name || !*c->name)
		return err_set(ERR_INVALID, "a property needs a name");
	if (strlen(c->ns) > DAVSTORE_NAME_BYTES || strlen(c->name) > DAVSTORE_NAME_BYTES)
		return err_set(ERR_LIMIT, "property names and namespaces have at most %d bytes",
			       DAVSTORE_NAME_BYTES);
	if (c->xml && strlen(c->xml) > DAVSTORE_PROP_BYTES)
		return err_set(ERR_LIMIT, "a property value may have at most %d bytes",
			       DAVSTORE_PROP_BYTES);
	rc = db_stmt(db, c->xml ? set_sql : del_sql, &st);
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, node_id);
	db_bind_text(db, st, 2, c->ns);
	db_bind_text(db, st, 3, c->name);
	if (c->xml)
		db_bind_text(db, st, 4, c->xml);
	return db_exec_stmt(db, st, c->xml ? "set property" : "remove property");
}

enum err davstore_props_apply(struct db *db, int64_t node_id, const struct davstore_change *c,
			      size_t n)
{
	static const char count_sql[] = "SELECT count(*) FROM dav_props WHERE node_id = ?1";
	sqlite3_stmt *st;
	bool row;
	enum err rc = db_begin(db);

	if (rc)
		return rc;
	for (size_t i = 0; !rc && i < n; i++)
		rc = apply_one(db, node_id, &c[i]);
	if (!rc)
		rc = db_stmt(db, count_sql, &st);
	if (!rc) {
		db_bind_int64(db, st, 1, node_id);
		rc = db_step(db, st, "count properties", &row);
		if (!rc && row && sqlite3_column_int64(st, 0) > DAVSTORE_PROPS_MAX)
			rc = err_set(ERR_LIMIT, "a resource may have at most %d properties",
				     DAVSTORE_PROPS_MAX);
		sqlite3_reset(st);
	}
	return txn_end(db, rc);
}

enum err davstore_props_copy(struct db *db, int64_t from, int64_t to)
{
	static const char del_sql[] = "DELETE FROM dav_props WHERE node_id = ?1";
	static const char copy_sql[] =
		"INSERT INTO dav_props(node_id, ns, name, xml)"
		" SELECT ?2, ns, name, xml FROM dav_props WHERE node_id = ?1";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, del_sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, to);
	rc = db_exec_stmt(db, st, "replace properties");
	if (!rc)
		rc = db_stmt(db, copy_sql, &st);
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, from);
	db_bind_int64(db, st, 2, to);
	return db_exec_stmt(db, st, "copy properties");
}

/* ---- locks ---- */

bool davstore_path_within(const char *path, const char *anc)
{
	size_t n = strlen(anc);

	if (n == 0)
		return true;
	return !strncmp(path, anc, n) && (path[n] == '\0' || path[n] == '/');
}

bool davstore_lock_covers(const struct davstore_lock *l, const char *path)
{
	return !strcmp(l->path, path) || (l->infinite && davstore_path_within(path, l->path));
}

void davstore_lock_clear(struct davstore_lock *l)
{
	if (!l)
		return;
	free(l->path);
	free(l->root);
	free(l->owner);
	memset(l, 0, sizeof *l);
}

void davstore_locks_free(struct davstore_lock *l, size_t n)
{
	for (size_t i = 0; l && i < n; i++)
		davstore_lock_clear(&l[i]);
	free(l);
}

void davstore_new_token(char out[DAVSTORE_TOKEN_MAX + 1])
{
	static const char prefix[] = "urn:consort:";
	unsigned char u[16];

	_Static_assert(sizeof prefix - 1 + DIGEST_BASE64URL_LEN(sizeof u) <= DAVSTORE_TOKEN_MAX,
		       "a lock token fits DAVSTORE_TOKEN_MAX");
	out[0] = '\0';
	if (digest_random(u, sizeof u))
		return;
	memcpy(out, prefix, sizeof prefix - 1);
	digest_base64url(u, sizeof u, out + sizeof prefix - 1);
}

#define LOCK_COLS                                                                                  \
	"token, wp_id, path, root, exclusive, infinite, owner, user_id, timeout, created_at,"      \
	" expires_at, checkout"

static enum err read_lock(sqlite3_stmt *st, struct davstore_lock *l)
{
	const char *token = (const char *)sqlite3_column_text(st, 0);
	enum err rc = ERR_OK;

	memset(l, 0, sizeof *l);
	snprintf(l->token, sizeof l->token, "%s", token ? token : "");
	l->wp_id = sqlite3_column_int64(st, 1);
	l->path = db_column_strdup(st, 2, &rc);
	l->root = db_column_strdup(st, 3, &rc);
	l->exclusive = sqlite3_column_int(st, 4) != 0;
	l->infinite = sqlite3_column_int(st, 5) != 0;
	l->owner = db_column_strdup(st, 6, &rc);
	l->user_id = sqlite3_column_int64(st, 7);
	l->timeout = sqlite3_column_int64(st, 8);
	l->created_at = sqlite3_column_int64(st, 9);
	l->expires_at = sqlite3_column_int64(st, 10);
	l->checkout = sqlite3_column_int(st, 11) != 0;
	if (!rc && (!l->path || !l->root || !l->owner))
		rc = err_set(ERR_CORRUPT, "a lock row has a NULL column");
	if (rc)
		davstore_lock_clear(l);
	return rc;
}

static enum err list_locked(struct db *db, int64_t wp_id, struct davstore_lock **out, size_t *n)
{
	static const char sql[] =
		"SELECT " LOCK_COLS " FROM dav_locks"
		" WHERE wp_id = ?1 AND expires_at > ?2 ORDER BY created_at, token";
	struct davstore_lock *items = NULL;
	size_t len = 0, cap = 0;
	sqlite3_stmt *st;
	bool row;
	enum err rc = db_stmt(db, sql, &st);

	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, wp_id);
	db_bind_int64(db, st, 2, db_now());
	while (!(rc = db_step(db, st, "read locks", &row)) && row) {
		struct davstore_lock *l = db_grow((void **)&items, &len, &cap, sizeof *items, &rc);

		if (!l)
			break;
		rc = read_lock(st, l);
		if (rc) {
			len--;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc) {
		davstore_locks_free(items, len);
		return rc;
	}
	*out = items;
	*n = len;
	return ERR_OK;
}

enum err davstore_locks_list(struct db *db, int64_t wp_id, struct davstore_lock **out, size_t *n)
{
	enum err rc = db_begin_read(db);

	if (rc)
		return rc;
	rc = list_locked(db, wp_id, out, n);
	return txn_end(db, rc);
}

static bool conflicts(const struct davstore_lock *old, const struct davstore_lock *l)
{
	if (!old->exclusive && !l->exclusive)
		return false;
	return davstore_lock_covers(old, l->path) ||
	       (l->infinite && davstore_path_within(old->path, l->path));
}

enum err davstore_lock_take(struct db *db, struct davstore_lock *l, char **conflict)
{
	static const char purge_sql[] =
		"DELETE FROM dav_locks WHERE wp_id = ?1 AND expires_at <= ?2";
	static const char count_sql[] = "SELECT count(*) FROM dav_locks"
					" WHERE user_id = ?1 AND expires_at > ?2";
	static const char ins_sql[] = "INSERT INTO dav_locks(" LOCK_COLS ")"
				      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
	struct davstore_lock *live = NULL;
	size_t nlive = 0;
	int64_t now = db_now();
	sqlite3_stmt *st;
	bool row;
	enum err rc;

	if (conflict)
		*conflict = NULL;
	if (!*l->token || strlen(l->owner ? l->owner : "") > DAVSTORE_OWNER_BYTES)
		return err_set(ERR_INVALID, "a lock needs a token and an owner of at most %d bytes",
			       DAVSTORE_OWNER_BYTES);
	rc = db_begin(db);
	if (rc)
		return rc;
	rc = db_stmt(db, purge_sql, &st);
	if (!rc) {
		db_bind_int64(db, st, 1, l->wp_id);
		db_bind_int64(db, st, 2, now);
		rc = db_exec_stmt(db, st, "remove expired locks");
	}
	if (!rc)
		rc = list_locked(db, l->wp_id, &live, &nlive);
	for (size_t i = 0; !rc && i < nlive; i++) {
		if (!conflicts(&live[i], l))
			continue;
		rc = err_set(ERR_LOCKED, "'%s' is locked", live[i].root);
		if (conflict)
			*conflict = strdup(live[i].root);
	}
	if (!rc)
		rc = db_stmt(db, count_sql, &st);
	if (!rc) {
		db_bind_int64(db, st, 1, l->user_id);
		db_bind_int64(db, st, 2, now);
		rc = db_step(db, st, "count locks", &row);
		if (!rc && row && sqlite3_column_int64(st, 0) >= DAVSTORE_LOCKS_PER_USER)
			rc = err_set(ERR_LIMIT, "an account may hold at most %d locks",
				     DAVSTORE_LOCKS_PER_USER);
		sqlite3_reset(st);
	}
	if (!rc)
		rc = db_stmt(db, ins_sql, &st);
	if (!rc) {
		l->created_at = now;
		l->expires_at = now + l->timeout;
		db_bind_text(db, st, 1, l->token);
		db_bind_int64(db, st, 2, l->wp_id);
		db_bind_text(db, st, 3, l->path);
		db_bind_text(db, st, 4, l->root);
		db_bind_int64(db, st, 5, l->exclusive);
		db_bind_int64(db, st, 6, l->infinite);
		db_bind_text(db, st, 7, l->owner ? l->owner : "");
		db_bind_int64(db, st, 8, l->user_id);
		db_bind_int64(db, st, 9, l->timeout);
		db_bind_int64(db, st, 10, l->created_at);
		db_bind_int64(db, st, 11, l->expires_at);
		db_bind_int64(db, st, 12, l->checkout);
		rc = db_exec_stmt(db, st, "take lock");
	}
	davstore_locks_free(live, nlive);
	return txn_end(db, rc);
}

enum err davstore_lock_refresh(struct db *db, const char *token, int64_t user_id, int64_t timeout,
			       struct davstore_lock *out)
{
	static const char upd_sql[] = "UPDATE dav_locks SET timeout = ?3, expires_at = ?4"
				      " WHERE token = ?1 AND user_id = ?2 AND expires_at > ?5";
	static const char get_sql[] = "SELECT " LOCK_COLS " FROM dav_locks WHERE token = ?1";
	int64_t now = db_now();
	sqlite3_stmt *st;
	bool row;
	enum err rc;

	if (out)
		memset(out, 0, sizeof *out);
	rc = db_begin(db);
	if (rc)
		return rc;
	rc = db_stmt(db, upd_sql, &st);
	if (!rc) {
		db_bind_text(db, st, 1, token);
		db_bind_int64(db, st, 2, user_id);
		db_bind_int64(db, st, 3, timeout);
		db_bind_int64(db, st, 4, now + timeout);
		db_bind_int64(db, st, 5, now);
		rc = db_exec_stmt(db, st, "refresh lock");
	}
	if (!rc && sqlite3_changes(db_sqlite(db)) == 0)
		rc = err_set(ERR_NOTFOUND, "no such lock of yours");
	if (!rc && out) {
		rc = db_stmt(db, get_sql, &st);
		if (!rc) {
			db_bind_text(db, st, 1, token);
			rc = db_step(db, st, "read lock", &row);
			if (!rc && row)
				rc = read_lock(st, out);
			sqlite3_reset(st);
		}
	}
	rc = txn_end(db, rc);
	if (rc && out)
		davstore_lock_clear(out);
	return rc;
}

enum err davstore_lock_remove(struct db *db, const char *token)
{
	static const char sql[] = "DELETE FROM dav_locks WHERE token = ?1 AND expires_at > ?2";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_text(db, st, 1, token);
	db_bind_int64(db, st, 2, db_now());
	rc = db_exec_stmt(db, st, "remove lock");
	if (!rc && sqlite3_changes(db_sqlite(db)) == 0)
		rc = err_set(ERR_NOTFOUND, "no such lock");
	return rc;
}

enum err davstore_locks_remove_within(struct db *db, int64_t wp_id, const char *path)
{
	/* substr() rather than LIKE: names may contain '%' and '_'. */
	static const char sql[] = "DELETE FROM dav_locks WHERE wp_id = ?1 AND (?2 = '' OR path = ?2"
				  " OR substr(path, 1, length(?2) + 1) = ?2 || '/')";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, wp_id);
	db_bind_text(db, st, 2, path);
	return db_exec_stmt(db, st, "remove locks");
}
