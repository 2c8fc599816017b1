/* oidcstore — see oidcstore.h. */
#include "oidcstore.h"

#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

static int64_t col_i64(sqlite3_stmt *st, int col) { return sqlite3_column_int64(st, col); }

void oidc_flow_clear(struct oidc_flow *f)
{
	if (!f)
		return;
	free(f->provider);
	free(f->nonce);
	if (f->verifier) {
		explicit_bzero(f->verifier, strlen(f->verifier));
		free(f->verifier);
	}
	memset(f, 0, sizeof *f);
}

/* Rows past their expiry are removed before a new one is stored, so the
 * table holds only what can still be used. `sql` deletes where
 * expires_at <= ?. */
static enum err prune_expired(struct db *db, const char *sql, const char *what)
{
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, db_now());
	return db_exec_stmt(db, st, what);
}

enum err oidc_flow_put(struct db *db, const unsigned char state_hash[OIDC_HASH_LEN],
		       const struct oidc_flow *f)
{
	static const char sql[] =
		"INSERT INTO oidc_flows (state_hash, provider, nonce, verifier, browser_hash,"
		" expires_at) VALUES (?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st;
	enum err rc = prune_expired(db, "DELETE FROM oidc_flows WHERE expires_at <= ?",
				    "prune sign-in flows");

	if (!rc)
		rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_blob(db, st, 1, state_hash, OIDC_HASH_LEN);
	db_bind_text(db, st, 2, f->provider);
	db_bind_text(db, st, 3, f->nonce);
	db_bind_text(db, st, 4, f->verifier);
	db_bind_blob(db, st, 5, f->browser_hash, OIDC_HASH_LEN);
	db_bind_int64(db, st, 6, f->expires_at);
	return db_exec_stmt(db, st, "store sign-in flow");
}

enum err oidc_flow_take(struct db *db, const unsigned char state_hash[OIDC_HASH_LEN],
			struct oidc_flow *out)
{
	static const char sql[] = "DELETE FROM oidc_flows WHERE state_hash = ?"
				  " RETURNING provider, nonce, verifier, browser_hash, expires_at";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	memset(out, 0, sizeof *out);
	if (rc)
		return rc;
	db_bind_blob(db, st, 1, state_hash, OIDC_HASH_LEN);
	rc = db_step(db, st, "take sign-in flow", &row);
	if (!rc && row) {
		out->provider = db_column_strdup(st, 0, &rc);
		out->nonce = db_column_strdup(st, 1, &rc);
		out->verifier = db_column_strdup(st, 2, &rc);
		if (sqlite3_column_bytes(st, 3) == OIDC_HASH_LEN)
			memcpy(out->browser_hash, sqlite3_column_blob(st, 3), OIDC_HASH_LEN);
		out->expires_at = col_i64(st, 4);
	}
	/* RETURNING: the delete is done when the statement runs to its end. */
	if (!rc && row) {
		bool more;

		rc = db_step(db, st, "take sign-in flow", &more);
	}
	sqlite3_reset(st);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no such sign-in");
	if (!rc && out->expires_at <= db_now())
		rc = err_set(ERR_NOTFOUND, "the sign-in took too long");
	if (rc)
		oidc_flow_clear(out);
	return rc;
}

enum err oidc_link_find(struct db *db, const char *provider, const char *subject, int64_t *user_id)
{
	static const char sql[] =
		"SELECT user_id FROM oidc_links WHERE provider = ? AND subject = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	if (rc)
		return rc;
	db_bind_text(db, st, 1, provider);
	db_bind_text(db, st, 2, subject);
	rc = db_step(db, st, "find provider link", &row);
	if (!rc && row)
		*user_id = col_i64(st, 0);
	sqlite3_reset(st);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no account linked");
	return rc;
}

enum err oidc_link_add(struct db *db, const char *provider, const char *subject, int64_t user_id)
{
	static const char sql[] = "INSERT INTO oidc_links (provider, subject, user_id, created_at,"
				  " last_login) VALUES (?, ?, ?, ?, ?)";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_text(db, st, 1, provider);
	db_bind_text(db, st, 2, subject);
	db_bind_int64(db, st, 3, user_id);
	db_bind_int64(db, st, 4, db_now());
	db_bind_int64(db, st, 5, db_now());
	return db_exec_stmt(db, st, "link provider subject");
}

enum err oidc_link_touch(struct db *db, const char *provider, const char *subject)
{
	static const char sql[] =
		"UPDATE oidc_links SET last_login = ? WHERE provider = ? AND subject = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, db_now());
	db_bind_text(db, st, 2, provider);
	db_bind_text(db, st, 3, subject);
	return db_exec_stmt(db, st, "touch provider link");
}

void oidc_pending_clear(struct oidc_pending *p)
{
	if (!p)
		return;
	free(p->provider);
	free(p->subject);
	free(p->email);
	free(p->name);
	free(p->partner_hint);
	free(p->org);
	memset(p, 0, sizeof *p);
}

static void pending_clear_fn(void *rec) { oidc_pending_clear(rec); }

void oidc_pendings_free(struct oidc_pending *p, size_t n)
{
	db_rows_free(p, n, sizeof *p, pending_clear_fn);
}

enum err oidc_pending_put(struct db *db, const struct oidc_pending *p, int64_t *id, bool *is_new)
{
	static const char find[] = "SELECT id FROM oidc_pending WHERE provider = ? AND subject = ?";
	static const char upd[] = "UPDATE oidc_pending SET email = ?, name = ?, partner_hint = ?,"
				  " org = ?, last_seen = ? WHERE id = ?";
	static const char ins[] = "INSERT INTO oidc_pending (provider, subject, email, name,"
				  " partner_hint, org, created_at, last_seen)"
				  " VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, find, &st);
	bool row;

	if (rc)
		return rc;
	db_bind_text(db, st, 1, p->provider);
	db_bind_text(db, st, 2, p->subject);
	rc = db_step(db, st, "find pending person", &row);
	if (!rc && row)
		*id = col_i64(st, 0);
	sqlite3_reset(st);
	if (rc)
		return rc;
	*is_new = !row;
	if (row) {
		rc = db_stmt(db, upd, &st);
		if (rc)
			return rc;
		db_bind_text(db, st, 1, p->email);
		db_bind_text(db, st, 2, p->name);
		db_bind_text(db, st, 3, p->partner_hint);
		db_bind_text(db, st, 4, p->org);
		db_bind_int64(db, st, 5, db_now());
		db_bind_int64(db, st, 6, *id);
		return db_exec_stmt(db, st, "refresh pending person");
	}
	rc = db_stmt(db, ins, &st);
	if (rc)
		return rc;
	db_bind_text(db, st, 1, p->provider);
	db_bind_text(db, st, 2, p->subject);
	db_bind_text(db, st, 3, p->email);
	db_bind_text(db, st, 4, p->name);
	db_bind_text(db, st, 5, p->partner_hint);
	db_bind_text(db, st, 6, p->org);
	db_bind_int64(db, st, 7, db_now());
	db_bind_int64(db, st, 8, db_now());
	rc = db_exec_stmt(db, st, "add pending person");
	if (!rc)
		*id = sqlite3_last_insert_rowid(db_sqlite(db));
	return rc;
}

#define PENDING_COLS "id, provider, subject, email, name, partner_hint, org, created_at, last_seen"

static void read_pending(sqlite3_stmt *st, void *rec, enum err *rc)
{
	struct oidc_pending *p = rec;

	p->id = col_i64(st, 0);
	p->provider = db_column_strdup(st, 1, rc);
	p->subject = db_column_strdup(st, 2, rc);
	p->email = db_column_strdup(st, 3, rc);
	p->name = db_column_strdup(st, 4, rc);
	p->partner_hint = db_column_strdup(st, 5, rc);
	p->org = db_column_strdup(st, 6, rc);
	p->created_at = col_i64(st, 7);
	p->last_seen = col_i64(st, 8);
}

enum err oidc_pending_get(struct db *db, int64_t id, struct oidc_pending *out)
{
	static const char sql[] = "SELECT " PENDING_COLS " FROM oidc_pending WHERE id = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	memset(out, 0, sizeof *out);
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, id);
	rc = db_step(db, st, "get pending person", &row);
	if (!rc && row)
		read_pending(st, out, &rc);
	sqlite3_reset(st);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no such person waiting for approval");
	if (rc)
		oidc_pending_clear(out);
	return rc;
}

enum err oidc_pending_list(struct db *db, struct oidc_pending **out, size_t *n)
{
	static const char sql[] =
		"SELECT " PENDING_COLS " FROM oidc_pending ORDER BY created_at, id";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	return db_rows(db, st, "list pending people", sizeof **out, read_pending, pending_clear_fn,
		       (void **)out, n);
}

enum err oidc_pending_delete(struct db *db, int64_t id)
{
	static const char sql[] = "DELETE FROM oidc_pending WHERE id = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	int changes = 0;

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, id);
	rc = db_exec_changes(db, st, "remove pending person", &changes);
	if (!rc && !changes)
		rc = err_set(ERR_NOTFOUND, "no such person waiting for approval");
	return rc;
}

void oidc_ticket_clear(struct oidc_ticket *t)
{
	if (!t)
		return;
	free(t->provider);
	free(t->subject);
	free(t->sid);
	memset(t, 0, sizeof *t);
}

enum err oidc_ticket_put(struct db *db, const unsigned char hash[OIDC_HASH_LEN],
			 const struct oidc_ticket *t, int64_t expires_at)
{
	static const char sql[] = "INSERT INTO oidc_tickets (ticket_hash, user_id, provider,"
				  " subject, sid, expires_at) VALUES (?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st;
	enum err rc = prune_expired(db, "DELETE FROM oidc_tickets WHERE expires_at <= ?",
				    "prune second-factor tickets");

	if (!rc)
		rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_blob(db, st, 1, hash, OIDC_HASH_LEN);
	db_bind_int64(db, st, 2, t->user_id);
	db_bind_text(db, st, 3, t->provider);
	db_bind_text(db, st, 4, t->subject);
	db_bind_text(db, st, 5, t->sid);
	db_bind_int64(db, st, 6, expires_at);
	return db_exec_stmt(db, st, "store second-factor ticket");
}

enum err oidc_ticket_get(struct db *db, const unsigned char hash[OIDC_HASH_LEN],
			 struct oidc_ticket *out)
{
	static const char sql[] = "SELECT user_id, provider, subject, sid FROM oidc_tickets"
				  " WHERE ticket_hash = ? AND expires_at > ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	memset(out, 0, sizeof *out);
	if (rc)
		return rc;
	db_bind_blob(db, st, 1, hash, OIDC_HASH_LEN);
	db_bind_int64(db, st, 2, db_now());
	rc = db_step(db, st, "find second-factor ticket", &row);
	if (!rc && row) {
		out->user_id = col_i64(st, 0);
		out->provider = db_column_strdup(st, 1, &rc);
		out->subject = db_column_strdup(st, 2, &rc);
		out->sid = db_column_strdup(st, 3, &rc);
	}
	sqlite3_reset(st);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "the sign-in has ended; start again");
	if (rc)
		oidc_ticket_clear(out);
	return rc;
}

enum err oidc_ticket_delete(struct db *db, const unsigned char hash[OIDC_HASH_LEN])
{
	static const char sql[] = "DELETE FROM oidc_tickets WHERE ticket_hash = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_blob(db, st, 1, hash, OIDC_HASH_LEN);
	return db_exec_stmt(db, st, "remove second-factor ticket");
}

enum err oidc_session_mark(struct db *db, int64_t session_id, const char *provider, const char *sid,
			   bool mfa)
{
	static const char sql[] =
		"UPDATE sessions SET oidc_provider = ?, oidc_sid = ?, mfa_provider = ? WHERE id = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_text(db, st, 1, provider);
	db_bind_text(db, st, 2, sid);
	db_bind_text(db, st, 3, mfa ? provider : NULL);
	db_bind_int64(db, st, 4, session_id);
	return db_exec_stmt(db, st, "mark provider session");
}

enum err oidc_sessions_end(struct db *db, const char *const *providers, size_t n, const char *sid,
			   int64_t *users, size_t cap, size_t *ended)
{
	static const char sql[] = "DELETE FROM sessions WHERE oidc_sid = ? AND oidc_provider = ?"
				  " RETURNING user_id";
	enum err rc = ERR_OK;

	*ended = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		sqlite3_stmt *st;
		bool row = true;

		rc = db_stmt(db, sql, &st);
		if (rc)
			break;
		db_bind_text(db, st, 1, sid);
		db_bind_text(db, st, 2, providers[i]);
		while (!rc && row) {
			rc = db_step(db, st, "end provider sessions", &row);
			if (!rc && row) {
				if (*ended < cap)
					users[*ended] = sqlite3_column_int64(st, 0);
				(*ended)++;
			}
		}
		sqlite3_reset(st);
	}
	return rc;
}
