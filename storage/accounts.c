/* accounts — see accounts.h. */
#include "accounts.h"

#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

/* The one statement of the rule "a user's level on a WP", which every
 * query that needs a level starts with, so the rule cannot drift: a
 * disabled or missing user has no rows (level none everywhere), a
 * coordinator manages every WP, anyone else has the higher of their own
 * grant and their partner's, and a WP without a row is level none.
 * Binds ?1 to the user id. Joins rather than correlated subqueries: two
 * index lookups per WP instead of four (the WP list, run on every page
 * load of the app, measured 3x faster). */
#define LEVELS_CTE                                                                                 \
	"WITH levels(wp_id, level) AS ("                                                           \
	" SELECT w.id, CASE WHEN u.coordinator THEN 3"                                             \
	"  ELSE max(coalesce(gu.level, 0), coalesce(gp.level, 0)) END"                             \
	" FROM users u JOIN wps w"                                                                 \
	" LEFT JOIN grants gu ON gu.wp_id = w.id AND gu.user_id = u.id"                            \
	" LEFT JOIN grants gp ON gp.wp_id = w.id AND gp.partner_id = u.partner_id"                 \
	" WHERE u.id = ?1 AND NOT u.disabled"                                                      \
	"  AND (u.coordinator OR gu.level IS NOT NULL OR gp.level IS NOT NULL)) "

/* The level on the one WP `w` in scope. A correlated lookup, not a join:
 * SQLite then looks up that WP's two grants instead of materialising the
 * levels of every WP. */
#define LEVEL_OF_W "coalesce((SELECT l.level FROM levels l WHERE l.wp_id = w.id), 0)"

const char *acct_level_name(int level)
{
	static const char *const names[] = {"none", "read", "write", "manage"};

	return level >= 0 && level <= 3 ? names[level] : "invalid";
}

bool acct_level_parse(const char *s, int *level)
{
	for (int i = 0; i <= 3; i++) {
		if (!strcmp(s, acct_level_name(i))) {
			*level = i;
			return true;
		}
	}
	return false;
}

enum err acct_check_email(const char *what, const char *s)
{
	const char *at = strchr(s, '@');
	size_t len = strlen(s);

	if (len < 3 || len > 254 || !at || at == s || strchr(at + 1, '@') || at - s > 64)
		return err_set(ERR_INVALID, "%s is not an email address", what);
	for (const char *p = s; p < at; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("()<>[]\\,;:\"", *p))
			return err_set(ERR_INVALID, "%s is not an email address", what);
	/* Domain: dot-separated labels of letters, digits and hyphens. */
	for (const char *p = at + 1, *label = p;; p++) {
		if (*p == '.' || *p == '\0') {
			if (p == label || *label == '-' || p[-1] == '-')
				return err_set(ERR_INVALID, "%s is not an email address", what);
			if (!*p)
				break;
			label = p + 1;
		} else if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || *p == '-')) {
			return err_set(ERR_INVALID, "%s is not an email address", what);
		}
	}
	return ERR_OK;
}

enum err acct_check_code(const char *what, const char *s)
{
	size_t len = strlen(s);

	if (len < 1 || len > 32)
		return err_set(ERR_INVALID, "%s must have 1 to 32 characters", what);
	for (const char *p = s; *p; p++) {
		bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9');

		if (!alnum && (p == s || !strchr("._-", *p)))
			return err_set(
				ERR_INVALID,
				"%s may hold only letters, digits, '.', '_' and '-' and must "
				"start with a letter or digit",
				what);
	}
	return ERR_OK;
}

enum err acct_check_country(const char *what, const char *s)
{
	if (strlen(s) != 2 || !((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z') ||
	    !((s[1] | 0x20) >= 'a' && (s[1] | 0x20) <= 'z'))
		return err_set(ERR_INVALID, "%s must be a two-letter country code", what);
	return ERR_OK;
}

/* --- helpers ---------------------------------------------------------------- */

/* Begin a transaction unless the caller already has one open, so a
 * function is atomic on its own and also composes into a caller's larger
 * transaction (e.g. a change and its audit row). */
static enum err txn_begin(struct db *db, bool *own)
{
	*own = sqlite3_get_autocommit(db_sqlite(db)) != 0;
	return *own ? db_begin(db) : ERR_OK;
}

static enum err txn_end(struct db *db, bool own, enum err rc)
{
	if (!own)
		return rc;
	if (!rc)
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
	return rc;
}

static int64_t col_i64(sqlite3_stmt *st, int col) { return sqlite3_column_int64(st, col); }

/* --- partners ---------------------------------------------------------------- */

enum err acct_partner_add(struct db *db, const char *short_name, const char *name,
			  const char *country, int64_t *id)
{
	static const char sql[] =
		"INSERT INTO partners (short, name, country, created_at) VALUES (?, ?, ?, ?)";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_text(db, st, 1, short_name);
	db_bind_text(db, st, 2, name);
	db_bind_text(db, st, 3, country);
	db_bind_int64(db, st, 4, db_now());
	rc = db_exec_stmt(db, st, "add partner");
	if (rc == ERR_EXISTS)
		return err_set(ERR_EXISTS, "a partner with short name '%s' exists", short_name);
	if (!rc && id)
		*id = sqlite3_last_insert_rowid(db_sqlite(db));
	return rc;
}

enum err acct_partner_id(struct db *db, const char *short_name, int64_t *id)
{
	static const char sql[] = "SELECT id FROM partners WHERE short = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	if (rc)
		return rc;
	db_bind_text(db, st, 1, short_name);
	rc = db_step(db, st, "find partner", &row);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no partner with short name '%s'", short_name);
	if (!rc)
		*id = col_i64(st, 0);
	sqlite3_reset(st);
	return rc;
}

static void read_partner(sqlite3_stmt *st, void *rec, enum err *rc)
{
	struct acct_partner *p = rec;

	p->id = col_i64(st, 0);
	p->short_name = db_column_strdup(st, 1, rc);
	p->name = db_column_strdup(st, 2, rc);
	p->country = db_column_strdup(st, 3, rc);
	p->created_at = col_i64(st, 4);
}

static void clear_partner(void *rec)
{
	struct acct_partner *p = rec;

	free(p->short_name);
	free(p->name);
	free(p->country);
}

enum err acct_partner_list(struct db *db, struct acct_partner **out, size_t *n)
{
	static const char sql[] =
		"SELECT id, short, name, country, created_at FROM partners ORDER BY short";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	return db_rows(db, st, "list partners", sizeof **out, read_partner, clear_partner,
		       (void **)out, n);
}

void acct_partners_free(struct acct_partner *p, size_t n)
{
	db_rows_free(p, n, sizeof *p, clear_partner);
}

/* --- users ------------------------------------------------------------------- */

static enum err partner_exists(struct db *db, int64_t partner_id)
{
	static const char sql[] = "SELECT 1 FROM partners WHERE id = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, partner_id);
	rc = db_step(db, st, "find partner", &row);
	sqlite3_reset(st);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no such partner");
	return rc;
}

enum err acct_user_add(struct db *db, const char *email, const char *name, int64_t partner_id,
		       bool coordinator, const char *password_hash, int64_t *id)
{
	static const char sql[] =
		"INSERT INTO users (email, name, partner_id, coordinator, password_hash,"
		" password_changed_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st;
	enum err rc = partner_exists(db, partner_id);
	int64_t now = db_now();

	if (rc)
		return rc;
	rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_text(db, st, 1, email);
	db_bind_text(db, st, 2, name);
	db_bind_int64(db, st, 3, partner_id);
	db_bind_int64(db, st, 4, coordinator);
	db_bind_text(db, st, 5, password_hash);
	if (password_hash)
		db_bind_int64(db, st, 6, now);
	db_bind_int64(db, st, 7, now);
	rc = db_exec_stmt(db, st, "add user");
	if (rc == ERR_EXISTS)
		return err_set(ERR_EXISTS, "a user with email '%s' exists", email);
	if (!rc && id)
		*id = sqlite3_last_insert_rowid(db_sqlite(db));
	return rc;
}

#define USER_COLS                                                                                  \
	"u.id, u.email, u.name, u.partner_id, p.short, u.coordinator, u.disabled,"                 \
	" u.password_hash IS NOT NULL, u.totp_secret IS NOT NULL, u.totp_required,"                \
	" (SELECT count(*) FROM recovery_codes r WHERE r.user_id = u.id AND r.used_at IS NULL),"   \
	" u.created_at, coalesce(u.password_changed_at, 0)"

static void read_user(sqlite3_stmt *st, struct acct_user *u, enum err *rc)
{
	u->id = col_i64(st, 0);
	u->email = db_column_strdup(st, 1, rc);
	u->name = db_column_strdup(st, 2, rc);
	u->partner_id = col_i64(st, 3);
	u->partner_short = db_column_strdup(st, 4, rc);
	u->coordinator = sqlite3_column_int(st, 5);
	u->disabled = sqlite3_column_int(st, 6);
	u->has_password = sqlite3_column_int(st, 7);
	u->totp_enabled = sqlite3_column_int(st, 8);
	u->totp_required = sqlite3_column_int(st, 9);
	u->recovery_left = sqlite3_column_int(st, 10);
	u->created_at = col_i64(st, 11);
	u->password_changed_at = col_i64(st, 12);
}

static enum err user_one(struct db *db, const char *sql, int64_t id, const char *email,
			 struct acct_user *out)
{
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	memset(out, 0, sizeof *out);
	if (rc)
		return rc;
	if (email)
		db_bind_text(db, st, 1, email);
	else
		db_bind_int64(db, st, 1, id);
	rc = db_step(db, st, "find user", &row);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no such user");
	if (!rc)
		read_user(st, out, &rc);
	sqlite3_reset(st);
	if (rc)
		acct_user_clear(out);
	return rc;
}

enum err acct_user_get(struct db *db, int64_t id, struct acct_user *out)
{
	static const char sql[] =
		"SELECT " USER_COLS
		" FROM users u JOIN partners p ON p.id = u.partner_id WHERE u.id = ?";

	return user_one(db, sql, id, NULL, out);
}

enum err acct_user_by_email(struct db *db, const char *email, struct acct_user *out)
{
	static const char sql[] =
		"SELECT " USER_COLS
		" FROM users u JOIN partners p ON p.id = u.partner_id WHERE u.email = ?";

	return user_one(db, sql, 0, email, out);
}

static void user_row(sqlite3_stmt *st, void *rec, enum err *rc) { read_user(st, rec, rc); }

static void user_clear(void *rec) { acct_user_clear(rec); }

enum err acct_user_list(struct db *db, struct acct_user **out, size_t *n)
{
	static const char sql[] =
		"SELECT " USER_COLS
		" FROM users u JOIN partners p ON p.id = u.partner_id ORDER BY u.email";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	return db_rows(db, st, "list users", sizeof **out, user_row, user_clear, (void **)out, n);
}

void acct_user_clear(struct acct_user *u)
{
	if (!u)
		return;
	free(u->email);
	free(u->name);
	free(u->partner_short);
	memset(u, 0, sizeof *u);
}

void acct_users_free(struct acct_user *u, size_t n) { db_rows_free(u, n, sizeof *u, user_clear); }

/* Enabled coordinators other than `user_id`. */
static enum err other_coordinators(struct db *db, int64_t user_id, int *count)
{
	static const char sql[] =
		"SELECT count(*) FROM users WHERE coordinator AND NOT disabled AND id <> ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	rc = db_step(db, st, "count coordinators", &row);
	*count = row ? sqlite3_column_int(st, 0) : 0;
	sqlite3_reset(st);
	return rc;
}

static enum err delete_sessions(struct db *db, int64_t user_id, int64_t keep)
{
	static const char sql[] = "DELETE FROM sessions WHERE user_id = ? AND id <> ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	db_bind_int64(db, st, 2, keep);
	return db_exec_stmt(db, st, "end sessions");
}

enum err acct_user_update(struct db *db, int64_t id, const struct acct_user_change *ch)
{
	static const char sql[] = "UPDATE users SET"
				  " name = CASE WHEN ?2 THEN ?3 ELSE name END,"
				  " partner_id = CASE WHEN ?4 THEN ?5 ELSE partner_id END,"
				  " coordinator = CASE WHEN ?6 THEN ?7 ELSE coordinator END,"
				  " disabled = CASE WHEN ?8 THEN ?9 ELSE disabled END,"
				  " totp_required = CASE WHEN ?10 THEN ?11 ELSE totp_required END,"
				  " totp_secret = CASE WHEN ?12 THEN NULL ELSE totp_secret END,"
				  " totp_pending = CASE WHEN ?12 THEN NULL ELSE totp_pending END"
				  " WHERE id = ?1";
	static const char sql_codes[] = "DELETE FROM recovery_codes WHERE user_id = ?";
	struct acct_user cur = {0};
	sqlite3_stmt *st;
	bool own;
	int others, changes = 0;
	enum err rc = txn_begin(db, &own);

	if (rc)
		return rc;
	rc = acct_user_get(db, id, &cur);
	if (rc)
		goto out;
	if (ch->set_partner) {
		rc = partner_exists(db, ch->partner_id);
		if (rc)
			goto out;
	}
	/* The last enabled coordinator can neither be disabled nor demoted:
	 * nobody could then manage accounts without the command line. */
	if (cur.coordinator && !cur.disabled &&
	    ((ch->set_disabled && ch->disabled) || (ch->set_coordinator && !ch->coordinator))) {
		rc = other_coordinators(db, id, &others);
		if (!rc && others == 0)
			rc = err_set(ERR_CONFLICT, "%s is the only enabled coordinator", cur.email);
		if (rc)
			goto out;
	}
	rc = db_stmt(db, sql, &st);
	if (rc)
		goto out;
	db_bind_int64(db, st, 1, id);
	db_bind_int64(db, st, 2, ch->set_name);
	db_bind_text(db, st, 3, ch->set_name ? ch->name : NULL);
	db_bind_int64(db, st, 4, ch->set_partner);
	db_bind_int64(db, st, 5, ch->partner_id);
	db_bind_int64(db, st, 6, ch->set_coordinator);
	db_bind_int64(db, st, 7, ch->coordinator);
	db_bind_int64(db, st, 8, ch->set_disabled);
	db_bind_int64(db, st, 9, ch->disabled);
	db_bind_int64(db, st, 10, ch->set_totp_required);
	db_bind_int64(db, st, 11, ch->totp_required);
	db_bind_int64(db, st, 12, ch->totp_reset);
	rc = db_exec_changes(db, st, "update user", &changes);
	if (!rc && changes != 1)
		rc = err_set(ERR_NOTFOUND, "no such user");
	if (!rc && ch->totp_reset) {
		rc = db_stmt(db, sql_codes, &st);
		if (!rc) {
			db_bind_int64(db, st, 1, id);
			rc = db_exec_stmt(db, st, "remove recovery codes");
		}
	}
	if (!rc && ch->set_disabled && ch->disabled)
		rc = delete_sessions(db, id, 0);
out:
	acct_user_clear(&cur);
	return txn_end(db, own, rc);
}

enum err acct_login_lookup(struct db *db, const char *email, struct acct_login *out)
{
	static const char sql[] =
		"SELECT id, email, password_hash, disabled, totp_secret IS NOT NULL, totp_required"
		" FROM users WHERE email = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	memset(out, 0, sizeof *out);
	if (rc)
		return rc;
	db_bind_text(db, st, 1, email);
	rc = db_step(db, st, "find user", &row);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no such user");
	if (!rc) {
		out->user_id = col_i64(st, 0);
		out->email = db_column_strdup(st, 1, &rc);
		out->password_hash = db_column_strdup(st, 2, &rc);
		out->disabled = sqlite3_column_int(st, 3);
		out->totp_enabled = sqlite3_column_int(st, 4);
		out->totp_required = sqlite3_column_int(st, 5);
	}
	sqlite3_reset(st);
	if (rc)
		acct_login_clear(out);
	return rc;
}

void acct_login_clear(struct acct_login *l)
{
	if (!l)
		return;
	free(l->email);
	free(l->password_hash);
	memset(l, 0, sizeof *l);
}

enum err acct_password_hash(struct db *db, int64_t user_id, char **hash)
{
	static const char sql[] = "SELECT password_hash FROM users WHERE id = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	*hash = NULL;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	rc = db_step(db, st, "read password", &row);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no such user");
	if (!rc)
		*hash = db_column_strdup(st, 0, &rc);
	sqlite3_reset(st);
	return rc;
}

enum err acct_password_set(struct db *db, int64_t user_id, const char *hash, bool end_sessions,
			   int64_t keep_session)
{
	static const char sql[] =
		"UPDATE users SET password_hash = ?, password_changed_at = ? WHERE id = ?";
	sqlite3_stmt *st;
	int changes = 0;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_text(db, st, 1, hash);
	db_bind_int64(db, st, 2, db_now());
	db_bind_int64(db, st, 3, user_id);
	rc = db_exec_changes(db, st, "set password", &changes);
	if (!rc && changes != 1)
		rc = err_set(ERR_NOTFOUND, "no such user");
	if (!rc && end_sessions)
		rc = delete_sessions(db, user_id, keep_session);
	return rc;
}

/* --- principals ----------------------------------------------------------------- */

void acct_principal_clear(struct acct_principal *p)
{
	if (!p)
		return;
	free(p->email);
	free(p->name);
	free(p->csrf);
	memset(p, 0, sizeof *p);
}

#define PRINCIPAL_USER_COLS                                                                        \
	"u.id, u.partner_id, u.email, u.name, u.coordinator, u.disabled,"                          \
	" u.totp_secret IS NOT NULL, u.totp_required"

static void read_principal_user(sqlite3_stmt *st, int col, struct acct_principal *p, enum err *rc)
{
	p->user_id = col_i64(st, col);
	p->partner_id = col_i64(st, col + 1);
	p->email = db_column_strdup(st, col + 2, rc);
	p->name = db_column_strdup(st, col + 3, rc);
	p->coordinator = sqlite3_column_int(st, col + 4);
	p->disabled = sqlite3_column_int(st, col + 5);
	p->totp_enabled = sqlite3_column_int(st, col + 6);
	p->totp_required = sqlite3_column_int(st, col + 7);
}

/* --- sessions -------------------------------------------------------------------- */

enum err acct_session_create(struct db *db, int64_t user_id,
			     const unsigned char hash[ACCT_HASH_LEN], const char *csrf,
			     const char *peer, int64_t expires_at, int64_t *id)
{
	static const char sql[] =
		"INSERT INTO sessions (token_hash, user_id, csrf, peer, created_at, last_seen,"
		" expires_at, reauth_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	int64_t now = db_now();

	if (rc)
		return rc;
	db_bind_blob(db, st, 1, hash, ACCT_HASH_LEN);
	db_bind_int64(db, st, 2, user_id);
	db_bind_text(db, st, 3, csrf);
	db_bind_text(db, st, 4, peer ? peer : "");
	db_bind_int64(db, st, 5, now);
	db_bind_int64(db, st, 6, now);
	db_bind_int64(db, st, 7, expires_at);
	/* A session starts with its sign-in: that is a re-authentication. */
	db_bind_int64(db, st, 8, now);
	rc = db_exec_stmt(db, st, "create session");
	if (!rc && id)
		*id = sqlite3_last_insert_rowid(db_sqlite(db));
	return rc;
}

enum err acct_session_lookup(struct db *db, const unsigned char hash[ACCT_HASH_LEN],
			     struct acct_principal *out)
{
	static const char sql[] =
		"SELECT s.id, s.csrf, s.created_at, s.last_seen, s.expires_at, s.reauth_at, " PRINCIPAL_USER_COLS
		", s.mfa_provider IS NOT NULL"
		" FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	memset(out, 0, sizeof *out);
	if (rc)
		return rc;
	db_bind_blob(db, st, 1, hash, ACCT_HASH_LEN);
	rc = db_step(db, st, "find session", &row);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no such session");
	if (!rc) {
		out->session_id = col_i64(st, 0);
		out->csrf = db_column_strdup(st, 1, &rc);
		out->created_at = col_i64(st, 2);
		out->last_seen = col_i64(st, 3);
		out->expires_at = col_i64(st, 4);
		out->reauth_at = col_i64(st, 5);
		read_principal_user(st, 6, out, &rc);
		out->session_mfa = sqlite3_column_int(st, 14);
	}
	sqlite3_reset(st);
	if (rc)
		acct_principal_clear(out);
	return rc;
}

enum err acct_session_touch(struct db *db, int64_t session_id, int64_t now)
{
	static const char sql[] = "UPDATE sessions SET last_seen = ? WHERE id = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, now);
	db_bind_int64(db, st, 2, session_id);
	return db_exec_stmt(db, st, "touch session");
}

enum err acct_session_reauth(struct db *db, int64_t session_id, int64_t now)
{
	static const char sql[] = "UPDATE sessions SET reauth_at = ? WHERE id = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, now);
	db_bind_int64(db, st, 2, session_id);
	rc = db_exec_stmt(db, st, "confirm session");
	if (!rc && sqlite3_changes(db_sqlite(db)) == 0)
		rc = err_set(ERR_NOTFOUND, "the session has ended; sign in again");
	return rc;
}

enum err acct_session_delete(struct db *db, int64_t session_id)
{
	static const char sql[] = "DELETE FROM sessions WHERE id = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, session_id);
	return db_exec_stmt(db, st, "end session");
}

enum err acct_session_prune(struct db *db, int64_t user_id, int64_t now, int64_t idle,
			    unsigned keep)
{
	static const char sql_expired[] =
		"DELETE FROM sessions WHERE user_id = ?1 AND (expires_at <= ?2 OR last_seen + ?3 <= ?2)";
	static const char sql_excess[] =
		"DELETE FROM sessions WHERE user_id = ?1 AND id NOT IN"
		" (SELECT id FROM sessions WHERE user_id = ?1 ORDER BY last_seen DESC, id DESC"
		"  LIMIT ?2)";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql_expired, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	db_bind_int64(db, st, 2, now);
	db_bind_int64(db, st, 3, idle);
	rc = db_exec_stmt(db, st, "prune sessions");
	if (rc)
		return rc;
	rc = db_stmt(db, sql_excess, &st);
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	db_bind_int64(db, st, 2, keep);
	return db_exec_stmt(db, st, "prune sessions");
}

/* --- API tokens -------------------------------------------------------------------- */

enum err acct_token_create(struct db *db, int64_t user_id, const char *name,
			   const unsigned char hash[ACCT_HASH_LEN], int64_t expires_at,
			   const struct acct_token_scope *scope, int64_t *id)
{
	static const char sql[] =
		"INSERT INTO tokens (token_hash, user_id, name, created_at, expires_at, scope,"
		" wp_limited) VALUES (?, ?, ?, ?, ?, ?, ?)";
	static const char sql_wp[] =
		"INSERT OR IGNORE INTO token_wps (token_id, wp_id) VALUES (?, ?)";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	int64_t tid;

	if (rc)
		return rc;
	db_bind_blob(db, st, 1, hash, ACCT_HASH_LEN);
	db_bind_int64(db, st, 2, user_id);
	db_bind_text(db, st, 3, name);
	db_bind_int64(db, st, 4, db_now());
	db_bind_int64(db, st, 5, expires_at);
	db_bind_text(db, st, 6, scope && scope->read_only ? "read" : "write");
	db_bind_int64(db, st, 7, scope && scope->wp_limited);
	rc = db_exec_stmt(db, st, "create token");
	if (rc)
		return rc;
	tid = sqlite3_last_insert_rowid(db_sqlite(db));
	for (size_t i = 0; !rc && scope && scope->wp_limited && i < scope->nwps; i++) {
		rc = db_stmt(db, sql_wp, &st);
		if (rc)
			break;
		db_bind_int64(db, st, 1, tid);
		db_bind_int64(db, st, 2, scope->wp_ids[i]);
		rc = db_exec_stmt(db, st, "limit token");
	}
	if (!rc && id)
		*id = tid;
	return rc;
}

static void read_wp_id(sqlite3_stmt *st, void *rec, enum err *rc)
{
	(void)rc;
	*(int64_t *)rec = col_i64(st, 0);
}

enum err acct_token_wps(struct db *db, int64_t token_id, int64_t **ids, size_t *n)
{
	static const char sql[] = "SELECT wp_id FROM token_wps WHERE token_id = ? ORDER BY wp_id";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	*ids = NULL;
	*n = 0;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, token_id);
	return db_rows(db, st, "token work packages", sizeof **ids, read_wp_id, NULL, (void **)ids,
		       n);
}

enum err acct_token_lookup(struct db *db, const unsigned char hash[ACCT_HASH_LEN],
			   struct acct_principal *out)
{
	static const char sql[] =
		"SELECT t.id, t.created_at, coalesce(t.expires_at, 0), coalesce(t.last_used_at, 0),"
		" coalesce(t.revoked_at, 0), t.scope = 'read', t.wp_limited, " PRINCIPAL_USER_COLS
		" FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	memset(out, 0, sizeof *out);
	if (rc)
		return rc;
	db_bind_blob(db, st, 1, hash, ACCT_HASH_LEN);
	rc = db_step(db, st, "find token", &row);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no such token");
	if (!rc) {
		out->token_id = col_i64(st, 0);
		out->created_at = col_i64(st, 1);
		out->expires_at = col_i64(st, 2);
		out->last_used_at = col_i64(st, 3);
		out->revoked_at = col_i64(st, 4);
		out->read_only = sqlite3_column_int(st, 5);
		out->wp_limited = sqlite3_column_int(st, 6);
		read_principal_user(st, 7, out, &rc);
	}
	sqlite3_reset(st);
	if (rc)
		acct_principal_clear(out);
	return rc;
}

enum err acct_token_touch(struct db *db, int64_t token_id, int64_t now)
{
	static const char sql[] = "UPDATE tokens SET last_used_at = ? WHERE id = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, now);
	db_bind_int64(db, st, 2, token_id);
	return db_exec_stmt(db, st, "touch token");
}

static void read_token(sqlite3_stmt *st, void *rec, enum err *rc)
{
	struct acct_token *t = rec;

	t->id = col_i64(st, 0);
	t->name = db_column_strdup(st, 1, rc);
	t->created_at = col_i64(st, 2);
	t->expires_at = col_i64(st, 3);
	t->last_used_at = col_i64(st, 4);
	t->revoked_at = col_i64(st, 5);
	t->read_only = sqlite3_column_int(st, 6);
	t->wp_limited = sqlite3_column_int(st, 7);
	if (sqlite3_column_type(st, 8) != SQLITE_NULL)
		t->wps = db_column_strdup(st, 8, rc);
}

static void clear_token(void *rec)
{
	struct acct_token *t = rec;

	free(t->name);
	free(t->wps);
}

enum err acct_token_list(struct db *db, int64_t user_id, struct acct_token **out, size_t *n)
{
	static const char sql[] =
		"SELECT t.id, t.name, t.created_at, coalesce(t.expires_at, 0),"
		" coalesce(t.last_used_at, 0), coalesce(t.revoked_at, 0), t.scope = 'read',"
		" t.wp_limited, (SELECT group_concat(code, ',') FROM"
		"  (SELECT w.code FROM token_wps tw JOIN wps w ON w.id = tw.wp_id"
		"   WHERE tw.token_id = t.id ORDER BY w.code))"
		" FROM tokens t WHERE t.user_id = ? ORDER BY t.id DESC";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	return db_rows(db, st, "list tokens", sizeof **out, read_token, clear_token, (void **)out,
		       n);
}

void acct_tokens_free(struct acct_token *t, size_t n)
{
	db_rows_free(t, n, sizeof *t, clear_token);
}

enum err acct_token_revoke(struct db *db, int64_t user_id, int64_t token_id, int64_t now,
			   char **name)
{
	static const char sql[] = "UPDATE tokens SET revoked_at = ?3 WHERE id = ?1 AND user_id = ?2"
				  " AND revoked_at IS NULL RETURNING name";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	if (name)
		*name = NULL;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, token_id);
	db_bind_int64(db, st, 2, user_id);
	db_bind_int64(db, st, 3, now);
	rc = db_step(db, st, "revoke token", &row);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no such live token");
	if (!rc && name)
		*name = db_column_strdup(st, 0, &rc);
	/* Step to the end so the UPDATE completes before the reset. */
	if (row) {
		enum err end = db_step(db, st, "revoke token", &row);

		rc = rc ? rc : end;
	}
	sqlite3_reset(st);
	return rc;
}

/* --- set-password links ------------------------------------------------------------ */

enum err acct_link_create(struct db *db, int64_t user_id, int64_t created_by,
			  const unsigned char hash[ACCT_HASH_LEN], int64_t expires_at)
{
	static const char sql_old[] =
		"DELETE FROM password_links WHERE user_id = ? AND used_at IS NULL";
	static const char sql[] =
		"INSERT INTO password_links (token_hash, user_id, created_by, created_at, expires_at)"
		" VALUES (?, ?, ?, ?, ?)";
	sqlite3_stmt *st;
	bool own;
	enum err rc = txn_begin(db, &own);

	if (rc)
		return rc;
	rc = db_stmt(db, sql_old, &st);
	if (!rc) {
		db_bind_int64(db, st, 1, user_id);
		rc = db_exec_stmt(db, st, "replace link");
	}
	if (!rc)
		rc = db_stmt(db, sql, &st);
	if (!rc) {
		db_bind_blob(db, st, 1, hash, ACCT_HASH_LEN);
		db_bind_int64(db, st, 2, user_id);
		if (created_by)
			db_bind_int64(db, st, 3, created_by);
		db_bind_int64(db, st, 4, db_now());
		db_bind_int64(db, st, 5, expires_at);
		rc = db_exec_stmt(db, st, "create link");
	}
	return txn_end(db, own, rc);
}

enum err acct_link_check(struct db *db, const unsigned char hash[ACCT_HASH_LEN], int64_t now,
			 bool consume, int64_t *user_id)
{
	static const char sql_peek[] =
		"SELECT user_id FROM password_links"
		" WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2";
	static const char sql_use[] =
		"UPDATE password_links SET used_at = ?2"
		" WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2 RETURNING user_id";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, consume ? sql_use : sql_peek, &st);
	bool row;

	if (rc)
		return rc;
	db_bind_blob(db, st, 1, hash, ACCT_HASH_LEN);
	db_bind_int64(db, st, 2, now);
	rc = db_step(db, st, "check link", &row);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "the link is unknown, used or expired");
	if (!rc)
		*user_id = col_i64(st, 0);
	if (row) {
		enum err end = db_step(db, st, "check link", &row);

		rc = rc ? rc : end;
	}
	sqlite3_reset(st);
	return rc;
}

/* --- TOTP ------------------------------------------------------------------------------ */

static void copy_blob(sqlite3_stmt *st, int col, unsigned char *out, size_t *len)
{
	const void *b = sqlite3_column_blob(st, col);
	int n = sqlite3_column_bytes(st, col);

	*len = 0;
	if (b && n > 0 && (size_t)n <= ACCT_TOTP_SECRET_MAX) {
		memcpy(out, b, (size_t)n);
		*len = (size_t)n;
	}
}

enum err acct_totp_get(struct db *db, int64_t user_id, struct acct_totp *out)
{
	static const char sql[] =
		"SELECT totp_secret, totp_pending, totp_last_step, totp_required FROM users WHERE id = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	memset(out, 0, sizeof *out);
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	rc = db_step(db, st, "read second factor", &row);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no such user");
	if (!rc) {
		copy_blob(st, 0, out->secret, &out->secret_len);
		copy_blob(st, 1, out->pending, &out->pending_len);
		out->last_step = col_i64(st, 2);
		out->required = sqlite3_column_int(st, 3);
	}
	sqlite3_reset(st);
	return rc;
}

enum err acct_totp_begin(struct db *db, int64_t user_id, const unsigned char *secret, size_t len)
{
	static const char sql[] = "UPDATE users SET totp_pending = ? WHERE id = ?";
	sqlite3_stmt *st;
	int changes = 0;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_blob(db, st, 1, secret, len);
	db_bind_int64(db, st, 2, user_id);
	rc = db_exec_changes(db, st, "begin enrolment", &changes);
	if (!rc && changes != 1)
		rc = err_set(ERR_NOTFOUND, "no such user");
	return rc;
}

static enum err recovery_replace(struct db *db, int64_t user_id,
				 const unsigned char (*codes)[ACCT_HASH_LEN], size_t n)
{
	static const char sql_del[] = "DELETE FROM recovery_codes WHERE user_id = ?";
	static const char sql_ins[] =
		"INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql_del, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	rc = db_exec_stmt(db, st, "replace recovery codes");
	for (size_t i = 0; !rc && i < n; i++) {
		rc = db_stmt(db, sql_ins, &st);
		if (rc)
			break;
		db_bind_int64(db, st, 1, user_id);
		db_bind_blob(db, st, 2, codes[i], ACCT_HASH_LEN);
		rc = db_exec_stmt(db, st, "store recovery code");
	}
	return rc;
}

enum err acct_totp_enable(struct db *db, int64_t user_id, int64_t step,
			  const unsigned char (*codes)[ACCT_HASH_LEN], size_t n)
{
	static const char sql[] =
		"UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = ?"
		" WHERE id = ? AND totp_pending IS NOT NULL";
	sqlite3_stmt *st;
	int changes = 0;
	bool own;
	enum err rc = txn_begin(db, &own);

	if (rc)
		return rc;
	rc = db_stmt(db, sql, &st);
	if (!rc) {
		db_bind_int64(db, st, 1, step);
		db_bind_int64(db, st, 2, user_id);
		rc = db_exec_changes(db, st, "enable second factor", &changes);
	}
	if (!rc && changes != 1)
		rc = err_set(ERR_CONFLICT, "no enrolment is under way");
	if (!rc)
		rc = recovery_replace(db, user_id, codes, n);
	return txn_end(db, own, rc);
}

enum err acct_totp_disable(struct db *db, int64_t user_id)
{
	static const char sql[] =
		"UPDATE users SET totp_secret = NULL, totp_pending = NULL WHERE id = ?";
	sqlite3_stmt *st;
	bool own;
	enum err rc = txn_begin(db, &own);

	if (rc)
		return rc;
	rc = db_stmt(db, sql, &st);
	if (!rc) {
		db_bind_int64(db, st, 1, user_id);
		rc = db_exec_stmt(db, st, "disable second factor");
	}
	if (!rc)
		rc = recovery_replace(db, user_id, NULL, 0);
	return txn_end(db, own, rc);
}

enum err acct_totp_use_step(struct db *db, int64_t user_id, int64_t step)
{
	static const char sql[] =
		"UPDATE users SET totp_last_step = ?2 WHERE id = ?1 AND totp_last_step < ?2";
	sqlite3_stmt *st;
	int changes = 0;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	db_bind_int64(db, st, 2, step);
	rc = db_exec_changes(db, st, "record code use", &changes);
	if (!rc && changes != 1)
		rc = err_set(ERR_CONFLICT, "this code was already used");
	return rc;
}

enum err acct_recovery_set(struct db *db, int64_t user_id,
			   const unsigned char (*codes)[ACCT_HASH_LEN], size_t n)
{
	bool own;
	enum err rc = txn_begin(db, &own);

	if (rc)
		return rc;
	rc = recovery_replace(db, user_id, codes, n);
	return txn_end(db, own, rc);
}

enum err acct_recovery_use(struct db *db, int64_t user_id, const unsigned char hash[ACCT_HASH_LEN],
			   int64_t now)
{
	static const char sql[] = "UPDATE recovery_codes SET used_at = ?3"
				  " WHERE user_id = ?1 AND code_hash = ?2 AND used_at IS NULL";
	sqlite3_stmt *st;
	int changes = 0;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	db_bind_blob(db, st, 2, hash, ACCT_HASH_LEN);
	db_bind_int64(db, st, 3, now);
	rc = db_exec_changes(db, st, "use recovery code", &changes);
	if (!rc && changes != 1)
		rc = err_set(ERR_NOTFOUND, "not an unused recovery code");
	return rc;
}

/* --- work packages --------------------------------------------------------------------- */

enum err acct_wp_add(struct db *db, const char *code, const char *title, int64_t lead_partner_id,
		     int64_t created_by, int64_t *id)
{
	static const char sql_wp[] =
		"INSERT INTO wps (code, title, lead_partner_id, created_at) VALUES (?, ?, ?, ?)";
	static const char sql_root[] =
		"INSERT INTO nodes (wp_id, parent_id, is_folder, name, name_key, created_at,"
		" created_by, modified_at, modified_by) VALUES (?1, NULL, 1, '', '', ?2, ?3, ?2, ?3)";
	static const char sql_link[] = "UPDATE wps SET root_id = ? WHERE id = ?";
	sqlite3_stmt *st;
	int64_t wp_id = 0, root_id, now = db_now();
	bool own;
	enum err rc = txn_begin(db, &own);

	if (rc)
		return rc;
	if (lead_partner_id) {
		rc = partner_exists(db, lead_partner_id);
		if (rc)
			goto out;
	}
	rc = db_stmt(db, sql_wp, &st);
	if (rc)
		goto out;
	db_bind_text(db, st, 1, code);
	db_bind_text(db, st, 2, title);
	if (lead_partner_id)
		db_bind_int64(db, st, 3, lead_partner_id);
	db_bind_int64(db, st, 4, now);
	rc = db_exec_stmt(db, st, "add work package");
	if (rc == ERR_EXISTS)
		rc = err_set(ERR_EXISTS, "a work package with code '%s' exists", code);
	if (rc)
		goto out;
	wp_id = sqlite3_last_insert_rowid(db_sqlite(db));
	rc = db_stmt(db, sql_root, &st);
	if (rc)
		goto out;
	db_bind_int64(db, st, 1, wp_id);
	db_bind_int64(db, st, 2, now);
	if (created_by)
		db_bind_int64(db, st, 3, created_by);
	rc = db_exec_stmt(db, st, "add root folder");
	if (rc)
		goto out;
	root_id = sqlite3_last_insert_rowid(db_sqlite(db));
	rc = db_stmt(db, sql_link, &st);
	if (rc)
		goto out;
	db_bind_int64(db, st, 1, root_id);
	db_bind_int64(db, st, 2, wp_id);
	rc = db_exec_stmt(db, st, "link root folder");
out:
	rc = txn_end(db, own, rc);
	if (!rc && id)
		*id = wp_id;
	return rc;
}

#define WP_COLS                                                                                    \
	"w.id, w.code, w.title, coalesce(w.lead_partner_id, 0), p.short,"                          \
	" coalesce(w.root_id, 0), w.created_at, coalesce(w.quota_bytes, -1),"                      \
	" coalesce(w.keep_versions, -1), coalesce(w.keep_days, -1), coalesce(w.archived_at, 0),"   \
	" w.language"

static void read_wp(sqlite3_stmt *st, struct acct_wp *w, enum err *rc)
{
	w->id = col_i64(st, 0);
	w->code = db_column_strdup(st, 1, rc);
	w->title = db_column_strdup(st, 2, rc);
	w->lead_partner_id = col_i64(st, 3);
	w->lead_short = db_column_strdup(st, 4, rc);
	w->root_id = col_i64(st, 5);
	w->created_at = col_i64(st, 6);
	w->quota_bytes = col_i64(st, 7);
	w->keep_versions = col_i64(st, 8);
	w->keep_days = col_i64(st, 9);
	w->archived_at = col_i64(st, 10);
	w->language = db_column_strdup(st, 11, rc);
}

enum err acct_wp_get(struct db *db, int64_t id, struct acct_wp *out)
{
	static const char sql[] =
		"SELECT " WP_COLS " FROM wps w LEFT JOIN partners p ON p.id = w.lead_partner_id"
		" WHERE w.id = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	memset(out, 0, sizeof *out);
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, id);
	rc = db_step(db, st, "find work package", &row);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no such work package");
	if (!rc)
		read_wp(st, out, &rc);
	sqlite3_reset(st);
	if (rc)
		acct_wp_clear(out);
	return rc;
}

enum err acct_wp_archived(struct db *db, int64_t id, bool *archived)
{
	static const char sql[] = "SELECT archived_at IS NOT NULL FROM wps WHERE id = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	*archived = false;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, id);
	rc = db_step(db, st, "find work package", &row);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no such work package");
	if (!rc)
		*archived = sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return rc;
}

static void bind_or_null(struct db *db, sqlite3_stmt *st, int i, int64_t v)
{
	if (v < 0)
		db_bind_null(db, st, i);
	else
		db_bind_int64(db, st, i, v);
}

enum err acct_wp_update(struct db *db, int64_t id, const struct acct_wp_change *c, int64_t now)
{
	/* One statement; each ?N pair is "change it?" and the new value. */
	static const char sql[] =
		"UPDATE wps SET"
		" title = CASE WHEN ?2 THEN ?3 ELSE title END,"
		" lead_partner_id = CASE WHEN ?4 THEN ?5 ELSE lead_partner_id END,"
		" quota_bytes = CASE WHEN ?6 THEN ?7 ELSE quota_bytes END,"
		" keep_versions = CASE WHEN ?8 THEN ?9 ELSE keep_versions END,"
		" keep_days = CASE WHEN ?10 THEN ?11 ELSE keep_days END,"
		" archived_at = CASE WHEN NOT ?12 THEN archived_at"
		"  WHEN ?13 THEN coalesce(archived_at, ?14) ELSE NULL END,"
		" language = CASE WHEN ?15 THEN ?16 ELSE language END"
		" WHERE id = ?1";
	sqlite3_stmt *st;
	int changes = 0;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, id);
	db_bind_int64(db, st, 2, c->set_title);
	if (c->title)
		db_bind_text(db, st, 3, c->title);
	else
		db_bind_null(db, st, 3);
	db_bind_int64(db, st, 4, c->set_lead);
	bind_or_null(db, st, 5, c->lead_partner_id > 0 ? c->lead_partner_id : -1);
	db_bind_int64(db, st, 6, c->set_quota);
	bind_or_null(db, st, 7, c->quota_bytes);
	db_bind_int64(db, st, 8, c->set_keep_versions);
	bind_or_null(db, st, 9, c->keep_versions);
	db_bind_int64(db, st, 10, c->set_keep_days);
	bind_or_null(db, st, 11, c->keep_days);
	db_bind_int64(db, st, 12, c->set_archived);
	db_bind_int64(db, st, 13, c->archived);
	db_bind_int64(db, st, 14, now);
	db_bind_int64(db, st, 15, c->set_language);
	if (c->language)
		db_bind_text(db, st, 16, c->language);
	else
		db_bind_null(db, st, 16);
	rc = db_exec_changes(db, st, "update work package", &changes);
	if (!rc && changes != 1)
		rc = err_set(ERR_NOTFOUND, "no such work package");
	return rc;
}

enum err acct_wp_resolve(struct db *db, const char *code, int64_t user_id, int64_t *wp_id,
			 int *level)
{
	static const char sql[] =
		LEVELS_CTE "SELECT w.id, " LEVEL_OF_W " FROM wps w WHERE w.code = ?2";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	db_bind_text(db, st, 2, code);
	rc = db_step(db, st, "find work package", &row);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no such work package");
	if (!rc) {
		*wp_id = col_i64(st, 0);
		*level = sqlite3_column_int(st, 1);
	}
	sqlite3_reset(st);
	return rc;
}

/* A row of WP_COLS followed by the caller's level. */
static void wp_level_row(sqlite3_stmt *st, void *rec, enum err *rc)
{
	struct acct_wp *w = rec;

	read_wp(st, w, rc);
	w->level = sqlite3_column_int(st, 12);
}

static void wp_clear(void *rec) { acct_wp_clear(rec); }

enum err acct_wp_list(struct db *db, int64_t user_id, struct acct_wp **out, size_t *n)
{
	/* No "every WP" default: user 0 matches no user, so no rows. */
	static const char sql[] = LEVELS_CTE "SELECT " WP_COLS ", l.level"
					     " FROM levels l JOIN wps w ON w.id = l.wp_id"
					     " LEFT JOIN partners p ON p.id = w.lead_partner_id"
					     " WHERE l.level >= 1 ORDER BY w.code";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	return db_rows(db, st, "list work packages", sizeof **out, wp_level_row, wp_clear,
		       (void **)out, n);
}

void acct_wp_clear(struct acct_wp *w)
{
	if (!w)
		return;
	free(w->code);
	free(w->title);
	free(w->lead_short);
	free(w->language);
	memset(w, 0, sizeof *w);
}

void acct_wps_free(struct acct_wp *w, size_t n) { db_rows_free(w, n, sizeof *w, wp_clear); }

enum err acct_level(struct db *db, int64_t user_id, int64_t wp_id, int *level)
{
	static const char sql[] = LEVELS_CTE "SELECT " LEVEL_OF_W " FROM wps w WHERE w.id = ?2";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	*level = ACCT_NONE;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	db_bind_int64(db, st, 2, wp_id);
	rc = db_step(db, st, "compute level", &row);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no such work package");
	if (!rc)
		*level = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return rc;
}

static void id_row(sqlite3_stmt *st, void *rec, enum err *rc)
{
	(void)rc;
	*(int64_t *)rec = col_i64(st, 0);
}

enum err acct_readable_wps(struct db *db, int64_t user_id, int64_t **ids, size_t *n)
{
	static const char sql[] =
		LEVELS_CTE "SELECT wp_id FROM levels WHERE level >= 1 ORDER BY wp_id";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	*ids = NULL;
	*n = 0;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	return db_rows(db, st, "list readable work packages", sizeof **ids, id_row, NULL,
		       (void **)ids, n);
}

/* --- grants -------------------------------------------------------------------------- */

enum err acct_grant_set(struct db *db, int64_t wp_id, int64_t user_id, int64_t partner_id,
			int level, int64_t granted_by, int *old_level)
{
	static const char sql_wp[] = "SELECT 1 FROM wps WHERE id = ?";
	static const char sql_user[] = "SELECT 1 FROM users WHERE id = ?";
	static const char sql_old[] = "SELECT level FROM grants WHERE wp_id = ?1"
				      " AND (user_id = ?2 OR partner_id = ?3)";
	static const char sql_del[] =
		"DELETE FROM grants WHERE wp_id = ?1 AND (user_id = ?2 OR partner_id = ?3)";
	static const char sql_upd[] =
		"UPDATE grants SET level = ?4, granted_by = ?5, granted_at = ?6"
		" WHERE wp_id = ?1 AND (user_id = ?2 OR partner_id = ?3)";
	static const char sql_ins[] =
		"INSERT INTO grants (wp_id, user_id, partner_id, level, granted_by, granted_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
	sqlite3_stmt *st;
	int old = ACCT_NONE;
	bool row;
	enum err rc;

	if ((user_id != 0) == (partner_id != 0))
		return err_set(ERR_INVALID, "a grant is for a user or a partner");
	if (level < ACCT_NONE || level > ACCT_MANAGE)
		return err_set(ERR_INVALID, "invalid level");
	rc = db_stmt(db, sql_wp, &st);
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, wp_id);
	rc = db_step(db, st, "find work package", &row);
	sqlite3_reset(st);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no such work package");
	if (rc)
		return rc;
	if (user_id) {
		rc = db_stmt(db, sql_user, &st);
		if (rc)
			return rc;
		db_bind_int64(db, st, 1, user_id);
		rc = db_step(db, st, "find user", &row);
		sqlite3_reset(st);
		if (!rc && !row)
			rc = err_set(ERR_NOTFOUND, "no such user");
	} else {
		rc = partner_exists(db, partner_id);
	}
	if (rc)
		return rc;

	rc = db_stmt(db, sql_old, &st);
	if (rc)
		return rc;
	/* NULL never equals anything, so binding NULL for the unused
	 * subject keeps one statement for both kinds of grant. */
	db_bind_int64(db, st, 1, wp_id);
	if (user_id)
		db_bind_int64(db, st, 2, user_id);
	if (partner_id)
		db_bind_int64(db, st, 3, partner_id);
	rc = db_step(db, st, "read grant", &row);
	if (row)
		old = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	if (rc)
		return rc;

	if (level == ACCT_NONE && old == ACCT_NONE)
		goto done;
	rc = db_stmt(db, level == ACCT_NONE ? sql_del : old ? sql_upd : sql_ins, &st);
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, wp_id);
	if (user_id)
		db_bind_int64(db, st, 2, user_id);
	if (partner_id)
		db_bind_int64(db, st, 3, partner_id);
	if (level != ACCT_NONE) {
		db_bind_int64(db, st, 4, level);
		if (granted_by)
			db_bind_int64(db, st, 5, granted_by);
		db_bind_int64(db, st, 6, db_now());
	}
	rc = db_exec_stmt(db, st, "set grant");
	if (rc)
		return rc;
done:
	if (old_level)
		*old_level = old;
	return ERR_OK;
}

static void grant_row(sqlite3_stmt *st, void *rec, enum err *rc)
{
	struct acct_grant *g = rec;

	g->user_id = col_i64(st, 0);
	g->email = db_column_strdup(st, 1, rc);
	g->user_name = db_column_strdup(st, 2, rc);
	g->partner_id = col_i64(st, 3);
	g->partner_short = db_column_strdup(st, 4, rc);
	g->partner_name = db_column_strdup(st, 5, rc);
	g->level = sqlite3_column_int(st, 6);
	g->granted_by = db_column_strdup(st, 7, rc);
	g->granted_at = col_i64(st, 8);
}

static void grant_clear(void *rec)
{
	struct acct_grant *g = rec;

	free(g->email);
	free(g->user_name);
	free(g->partner_short);
	free(g->partner_name);
	free(g->granted_by);
}

enum err acct_grant_list(struct db *db, int64_t wp_id, struct acct_grant **out, size_t *n)
{
	static const char sql[] =
		"SELECT coalesce(g.user_id, 0), u.email, u.name, coalesce(g.partner_id, 0), p.short,"
		" p.name, g.level, b.email, g.granted_at"
		" FROM grants g LEFT JOIN users u ON u.id = g.user_id"
		" LEFT JOIN partners p ON p.id = coalesce(g.partner_id, u.partner_id)"
		" LEFT JOIN users b ON b.id = g.granted_by"
		" WHERE g.wp_id = ?"
		" ORDER BY g.user_id IS NOT NULL, p.short, u.email";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, wp_id);
	return db_rows(db, st, "list grants", sizeof **out, grant_row, grant_clear, (void **)out,
		       n);
}

void acct_grants_free(struct acct_grant *g, size_t n)
{
	db_rows_free(g, n, sizeof *g, grant_clear);
}
