/* notify — see notify.h. */
#include "notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

static const char *const mode_names[] = {"off", "immediate", "hourly", "daily"};

const char *notify_mode_name(enum notify_mode m)
{
	return (unsigned)m < sizeof mode_names / sizeof mode_names[0] ? mode_names[m] : "daily";
}

bool notify_mode_parse(const char *s, enum notify_mode *m)
{
	for (size_t i = 0; s && i < sizeof mode_names / sizeof mode_names[0]; i++)
		if (!strcmp(s, mode_names[i])) {
			*m = (enum notify_mode)i;
			return true;
		}
	return false;
}

/* --- following ---------------------------------------------------------------- */

enum err notify_follow_set(struct db *db, int64_t user_id, int64_t wp_id, const char *path,
			   bool active)
{
	static const char sql[] =
		"INSERT INTO follows (user_id, wp_id, path, active, auto, created_at)"
		" VALUES (?, ?, ?, ?, 0, ?) ON CONFLICT (user_id, wp_id, path)"
		" DO UPDATE SET active = excluded.active, auto = 0";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	db_bind_int64(db, st, 2, wp_id);
	db_bind_text(db, st, 3, path ? path : "");
	db_bind_int64(db, st, 4, active);
	db_bind_int64(db, st, 5, db_now());
	return db_exec_stmt(db, st, "set a follow");
}

enum err notify_follow_auto(struct db *db, int64_t user_id, int64_t wp_id, const char *path)
{
	/* No row is made for a person with auto-follow off; a person without
	 * a preferences row has the default (on). */
	static const char sql[] =
		"INSERT OR IGNORE INTO follows (user_id, wp_id, path, active, auto, created_at)"
		" SELECT ?1, ?2, ?3, 1, 1, ?4 WHERE coalesce((SELECT auto_follow FROM"
		" notify_prefs WHERE user_id = ?1), 1)";
	sqlite3_stmt *st;
	enum err rc;

	if (!user_id || !path || !*path)
		return ERR_OK;
	rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	db_bind_int64(db, st, 2, wp_id);
	db_bind_text(db, st, 3, path);
	db_bind_int64(db, st, 4, db_now());
	return db_exec_stmt(db, st, "follow automatically");
}

enum err notify_follow_clear(struct db *db, int64_t user_id, int64_t wp_id, const char *path)
{
	static const char sql[] =
		"DELETE FROM follows WHERE user_id = ? AND wp_id = ? AND path = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	db_bind_int64(db, st, 2, wp_id);
	db_bind_text(db, st, 3, path ? path : "");
	return db_exec_stmt(db, st, "clear a follow");
}

static void follow_row(sqlite3_stmt *st, void *rec, enum err *rc)
{
	struct notify_follow *f = rec;

	f->wp_id = sqlite3_column_int64(st, 0);
	f->wp_code = db_column_strdup(st, 1, rc);
	f->path = db_column_strdup(st, 2, rc);
	f->active = sqlite3_column_int(st, 3) != 0;
	f->automatic = sqlite3_column_int(st, 4) != 0;
	f->by_default = sqlite3_column_int(st, 5) != 0;
}

static void follow_clear(void *rec)
{
	struct notify_follow *f = rec;

	free(f->wp_code);
	free(f->path);
}

enum err notify_follow_list(struct db *db, int64_t user_id, struct notify_follow **out, size_t *n)
{
	static const char sql[] =
		"SELECT f.wp_id, w.code, f.path, f.active, f.auto, 0 FROM follows f"
		" JOIN wps w ON w.id = f.wp_id WHERE f.user_id = ?1"
		" UNION ALL SELECT d.wp_id, w.code, '', 1, 0, 1 FROM follow_defaults d"
		" JOIN wps w ON w.id = d.wp_id WHERE NOT EXISTS (SELECT 1 FROM follows f"
		" WHERE f.user_id = ?1 AND f.wp_id = d.wp_id AND f.path = '')"
		" ORDER BY 2, 3";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	return db_rows(db, st, "list follows", sizeof **out, follow_row, follow_clear, (void **)out,
		       n);
}

void notify_follows_free(struct notify_follow *f, size_t n)
{
	db_rows_free(f, n, sizeof *f, follow_clear);
}

/* Rows about the scope ?3 or below it (substr and length count
 * characters, on both sides). */
#define FOLLOW_UNDER "(path = ?3 OR substr(path, 1, length(?3) + 1) = ?3 || '/')"

enum err notify_follows_move(struct db *db, int64_t from_wp, const char *from_path, int64_t to_wp,
			     const char *to_path)
{
	/* UPDATE OR REPLACE drops a row the re-keyed one collides with. */
	static const char sql[] =
		"UPDATE OR REPLACE follows SET wp_id = ?2, path = ?4 || substr(path, length(?3) + 1)"
		" WHERE wp_id = ?1 AND " FOLLOW_UNDER;
	sqlite3_stmt *st;
	enum err rc;

	if (!from_path || !*from_path || !to_path || !*to_path)
		return err_set(ERR_INVALID, "a work package's root does not move");
	if (from_wp == to_wp && !strcmp(from_path, to_path))
		return ERR_OK;
	rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, from_wp);
	db_bind_int64(db, st, 2, to_wp);
	db_bind_text(db, st, 3, from_path);
	db_bind_text(db, st, 4, to_path);
	return db_exec_stmt(db, st, "move follows");
}

enum err notify_follows_drop(struct db *db, int64_t wp_id, const char *path)
{
	static const char sql[] = "DELETE FROM follows WHERE wp_id = ?1 AND " FOLLOW_UNDER;
	sqlite3_stmt *st;
	enum err rc;

	/* The root is never trashed; a work package's follows go with it
	 * (ON DELETE CASCADE). */
	if (!path || !*path)
		return ERR_OK;
	rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, wp_id);
	db_bind_text(db, st, 3, path);
	return db_exec_stmt(db, st, "drop follows");
}

enum err notify_wp_default_set(struct db *db, int64_t wp_id, bool on, int64_t by)
{
	static const char sql_on[] =
		"INSERT OR REPLACE INTO follow_defaults (wp_id, set_by, set_at) VALUES (?, ?, ?)";
	static const char sql_off[] = "DELETE FROM follow_defaults WHERE wp_id = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, on ? sql_on : sql_off, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, wp_id);
	if (on) {
		db_bind_id(db, st, 2, by);
		db_bind_int64(db, st, 3, db_now());
	}
	return db_exec_stmt(db, st, "set a work package's default follow");
}

enum err notify_wp_default_get(struct db *db, int64_t wp_id, bool *on)
{
	static const char sql[] = "SELECT 1 FROM follow_defaults WHERE wp_id = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row = false;

	*on = false;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, wp_id);
	rc = db_step(db, st, "read a work package's default follow", &row);
	sqlite3_reset(st);
	*on = !rc && row;
	return rc;
}

/* --- preferences ------------------------------------------------------------- */

void notify_prefs_clear(struct notify_prefs *p)
{
	if (!p)
		return;
	free(p->unsub);
	free(p->email);
	memset(p, 0, sizeof *p);
}

static void prefs_clear(void *rec) { notify_prefs_clear(rec); }

void notify_prefs_free(struct notify_prefs *p, size_t n)
{
	db_rows_free(p, n, sizeof *p, prefs_clear);
}

/* The secret is 32 random bytes from SQLite's generator (seeded from
 * the operating system's randomness), hex. A new person's first hourly
 * or daily digest comes an hour or a day after the row is made. */
enum err notify_prefs_ensure(struct db *db)
{
	static const char sql[] =
		"INSERT OR IGNORE INTO notify_prefs (user_id, cursor, last_mail_at, unsub)"
		" SELECT u.id, (SELECT coalesce(max(id), 0) FROM audit), ?,"
		" lower(hex(randomblob(32))) FROM users u"
		" WHERE NOT EXISTS (SELECT 1 FROM notify_prefs p WHERE p.user_id = u.id)";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, db_now());
	return db_exec_stmt(db, st, "make notification preferences");
}

static void prefs_row(sqlite3_stmt *st, void *rec, enum err *rc)
{
	struct notify_prefs *p = rec;
	enum notify_mode m = NOTIFY_DAILY;

	p->user_id = sqlite3_column_int64(st, 0);
	notify_mode_parse((const char *)sqlite3_column_text(st, 1), &m);
	p->mode = m;
	p->auto_follow = sqlite3_column_int(st, 2) != 0;
	p->cursor = sqlite3_column_int64(st, 3);
	p->last_mail_at = sqlite3_column_int64(st, 4);
	p->unsub = db_column_strdup(st, 5, rc);
	p->email = db_column_strdup(st, 6, rc);
	p->disabled = sqlite3_column_int(st, 7) != 0;
}

#define PREFS_COLS                                                                                 \
	"SELECT p.user_id, p.mode, p.auto_follow, p.cursor, p.last_mail_at, p.unsub, u.email,"     \
	" u.disabled FROM notify_prefs p JOIN users u ON u.id = p.user_id"

enum err notify_prefs_get(struct db *db, int64_t user_id, struct notify_prefs *out)
{
	static const char sql[] = PREFS_COLS " WHERE p.user_id = ?";
	struct notify_prefs *rows = NULL;
	sqlite3_stmt *st;
	size_t n = 0;
	enum err rc;

	memset(out, 0, sizeof *out);
	rc = notify_prefs_ensure(db);
	if (!rc)
		rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	rc = db_rows(db, st, "read notification preferences", sizeof *rows, prefs_row, prefs_clear,
		     (void **)&rows, &n);
	if (!rc && n == 0)
		rc = err_set(ERR_NOTFOUND, "no such account");
	if (!rc) {
		*out = rows[0];
		memset(&rows[0], 0, sizeof rows[0]);
	}
	notify_prefs_free(rows, n);
	return rc;
}

enum err notify_prefs_set(struct db *db, int64_t user_id, enum notify_mode mode, bool auto_follow)
{
	static const char sql[] =
		"UPDATE notify_prefs SET mode = ?, auto_follow = ? WHERE user_id = ?";
	sqlite3_stmt *st;
	enum err rc = notify_prefs_ensure(db);

	if (!rc)
		rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_text(db, st, 1, notify_mode_name(mode));
	db_bind_int64(db, st, 2, auto_follow);
	db_bind_int64(db, st, 3, user_id);
	return db_exec_stmt(db, st, "set notification preferences");
}

enum err notify_prefs_all(struct db *db, struct notify_prefs **out, size_t *n)
{
	static const char sql[] = PREFS_COLS " ORDER BY p.user_id";
	sqlite3_stmt *st;
	enum err rc;

	*out = NULL;
	*n = 0;
	rc = notify_prefs_ensure(db);
	if (!rc)
		rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	return db_rows(db, st, "read notification preferences", sizeof **out, prefs_row,
		       prefs_clear, (void **)out, n);
}

enum err notify_unsubscribe(struct db *db, const char *secret, int64_t *user_id)
{
	static const char sql[] =
		"UPDATE notify_prefs SET mode = 'off' WHERE unsub = ? RETURNING user_id";
	sqlite3_stmt *st;
	enum err rc;
	bool row = false;

	*user_id = 0;
	if (!secret || strlen(secret) != 64)
		return err_set(ERR_NOTFOUND, "no such unsubscribe link");
	rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_text(db, st, 1, secret);
	rc = db_step(db, st, "unsubscribe", &row);
	if (!rc && row)
		*user_id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no such unsubscribe link");
	return rc;
}

enum err notify_cursor_get(struct db *db, int64_t user_id, int64_t *cursor)
{
	static const char sql[] = "SELECT cursor FROM notify_prefs WHERE user_id = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row = false;

	*cursor = -1;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	rc = db_step(db, st, "read the notification cursor", &row);
	if (!rc && row)
		*cursor = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no such account");
	return rc;
}

enum err notify_cursor_set(struct db *db, int64_t user_id, int64_t upto, int64_t mailed_at)
{
	static const char sql[] =
		"UPDATE notify_prefs SET cursor = max(cursor, ?2),"
		" last_mail_at = CASE WHEN ?3 > 0 THEN ?3 ELSE last_mail_at END WHERE user_id = ?1";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	db_bind_int64(db, st, 2, upto);
	db_bind_int64(db, st, 3, mailed_at);
	return db_exec_stmt(db, st, "move the notification cursor");
}

enum err notify_news_get(struct db *db, int64_t user_id, bool *on)
{
	static const char sql[] =
		"SELECT coalesce((SELECT news FROM notify_prefs WHERE user_id = ?), 1)";
	sqlite3_stmt *st;
	bool row = false;
	enum err rc = db_stmt(db, sql, &st);

	*on = true;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	rc = db_step(db, st, "read the news switch", &row);
	if (!rc && row)
		*on = sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return rc;
}

enum err notify_news_set(struct db *db, int64_t user_id, bool on)
{
	static const char sql[] = "UPDATE notify_prefs SET news = ? WHERE user_id = ?";
	struct notify_prefs p = {0};
	sqlite3_stmt *st;
	enum err rc = notify_prefs_get(db, user_id, &p); /* makes the row */

	notify_prefs_clear(&p);
	if (!rc)
		rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, on);
	db_bind_int64(db, st, 2, user_id);
	return db_exec_stmt(db, st, "set the news switch");
}

enum err notify_language_get(struct db *db, int64_t user_id, char *out, size_t len)
{
	static const char sql[] = "SELECT coalesce(language, '') FROM users WHERE id = ?";
	sqlite3_stmt *st;
	bool row = false;
	enum err rc = db_stmt(db, sql, &st);

	if (len)
		out[0] = '\0';
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	rc = db_step(db, st, "read the language", &row);
	if (!rc && row && len) {
		const unsigned char *s = sqlite3_column_text(st, 0);

		snprintf(out, len, "%s", s ? (const char *)s : "");
	}
	sqlite3_reset(st);
	return rc;
}

enum err notify_language_set(struct db *db, int64_t user_id, const char *lang)
{
	static const char sql[] = "UPDATE users SET language = ? WHERE id = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_text(db, st, 1, lang);
	db_bind_int64(db, st, 2, user_id);
	return db_exec_stmt(db, st, "set the language");
}

/* --- events ------------------------------------------------------------------- */

enum err notify_last_event(struct db *db, int64_t *id)
{
	static const char sql[] = "SELECT coalesce(max(id), 0) FROM audit";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row = false;

	*id = 0;
	if (rc)
		return rc;
	rc = db_step(db, st, "read the newest event", &row);
	if (!rc && row)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc;
}

/* Same columns and order as audit.c's reader. */
static void event_row(sqlite3_stmt *st, void *rec, enum err *rc)
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

static void event_clear(void *rec)
{
	struct audit_row *r = rec;

	free(r->actor);
	free(r->peer);
	free(r->action);
	free(r->wp_code);
	free(r->object);
	free(r->detail);
}

/* The actor is shown by name where the account still exists. */
#define EVENT_COLS                                                                                 \
	"SELECT a.id, a.at, coalesce(a.user_id, 0), coalesce(u.name, a.actor), a.peer, a.action,"  \
	" coalesce(a.wp_id, 0), w.code, a.object, a.detail FROM audit a"                           \
	" LEFT JOIN wps w ON w.id = a.wp_id LEFT JOIN users u ON u.id = a.user_id"

enum err notify_events(struct db *db, int64_t after, int64_t upto, size_t limit,
		       struct audit_row **rows, size_t *n)
{
	static const char sql[] = EVENT_COLS " WHERE a.id > ? AND a.id <= ?"
					     " AND (a.action IN (" NOTIFY_EVENT_ACTIONS ")"
					     "  AND w.id IS NOT NULL"
					     "  OR a.action IN (" NOTIFY_SITE_ACTIONS "))"
					     " ORDER BY a.id LIMIT ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	*rows = NULL;
	*n = 0;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, after);
	db_bind_int64(db, st, 2, upto);
	db_bind_int64(db, st, 3, (sqlite3_int64)limit);
	return db_rows(db, st, "read events", sizeof **rows, event_row, event_clear, (void **)rows,
		       n);
}

enum err notify_feed(struct db *db, const char *wps_json, const char *path, int64_t before,
		     size_t limit, struct audit_row **rows, size_t *n)
{
	static const char sql[] =
		EVENT_COLS " WHERE a.wp_id IN (SELECT value FROM json_each(?1))"
			   " AND a.action IN (" NOTIFY_EVENT_ACTIONS ")"
			   " AND (?2 IS NULL OR ?2 = '' OR a.object = ?2"
			   "  OR substr(a.object, 1, length(?2) + 1) = ?2 || '/')"
			   " AND (?3 = 0 OR a.id < ?3) ORDER BY a.id DESC LIMIT ?4";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	*rows = NULL;
	*n = 0;
	if (rc)
		return rc;
	db_bind_text(db, st, 1, wps_json);
	db_bind_text(db, st, 2, path);
	db_bind_int64(db, st, 3, before);
	db_bind_int64(db, st, 4, (sqlite3_int64)limit);
	return db_rows(db, st, "read the activity feed", sizeof **rows, event_row, event_clear,
		       (void **)rows, n);
}

enum err notify_feed_home(struct db *db, const char *wps_json, int64_t before, size_t limit,
			  struct audit_row **rows, size_t *n)
{
	static const char sql[] =
		EVENT_COLS " WHERE (a.wp_id IN (SELECT value FROM json_each(?1))"
			   "  AND a.action IN (" NOTIFY_EVENT_ACTIONS ")"
			   "  OR a.action IN (" NOTIFY_SITE_ACTIONS "))"
			   " AND (?2 = 0 OR a.id < ?2) ORDER BY a.id DESC LIMIT ?3";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	*rows = NULL;
	*n = 0;
	if (rc)
		return rc;
	db_bind_text(db, st, 1, wps_json);
	db_bind_int64(db, st, 2, before);
	db_bind_int64(db, st, 3, (sqlite3_int64)limit);
	return db_rows(db, st, "read the home feed", sizeof **rows, event_row, event_clear,
		       (void **)rows, n);
}

/* --- the outbox --------------------------------------------------------------- */

static void mail_row(sqlite3_stmt *st, void *rec, enum err *rc)
{
	struct notify_mail *m = rec;

	m->id = sqlite3_column_int64(st, 0);
	m->user_id = sqlite3_column_int64(st, 1);
	m->kind = db_column_strdup(st, 2, rc);
	m->rcpt = db_column_strdup(st, 3, rc);
	m->arg = db_column_strdup(st, 4, rc);
	m->message = db_column_strdup(st, 5, rc);
	m->attempts = sqlite3_column_int(st, 6);
	m->created_at = sqlite3_column_int64(st, 7);
}

static void mail_clear(void *rec)
{
	struct notify_mail *m = rec;

	free(m->kind);
	free(m->rcpt);
	free(m->arg);
	free(m->message);
}

void notify_mails_free(struct notify_mail *m, size_t n)
{
	db_rows_free(m, n, sizeof *m, mail_clear);
}

enum err notify_outbox_add(struct db *db, int64_t user_id, const char *kind, const char *arg,
			   const char *message, int64_t *id)
{
	static const char sql[] =
		"INSERT INTO outbox (user_id, kind, rcpt, arg, message, next_at, created_at)"
		" SELECT id, ?2, email, ?3, ?4, ?5, ?5 FROM users WHERE id = ?1";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	int changes = 0;

	if (id)
		*id = 0;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	db_bind_text(db, st, 2, kind);
	db_bind_text(db, st, 3, arg ? arg : "");
	db_bind_text(db, st, 4, message);
	db_bind_int64(db, st, 5, db_now());
	rc = db_exec_changes(db, st, "queue mail", &changes);
	if (!rc && changes == 0)
		rc = err_set(ERR_NOTFOUND, "no such account");
	if (!rc && id)
		*id = sqlite3_last_insert_rowid(db_sqlite(db));
	return rc;
}

enum err notify_outbox_due(struct db *db, int64_t now, size_t limit, struct notify_mail **out,
			   size_t *n)
{
	static const char sql[] =
		"SELECT id, coalesce(user_id, 0), kind, rcpt, arg, message, attempts, created_at"
		" FROM outbox WHERE state = 'queued' AND next_at <= ? ORDER BY id LIMIT ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, now);
	db_bind_int64(db, st, 2, (sqlite3_int64)limit);
	return db_rows(db, st, "read the outbox", sizeof **out, mail_row, mail_clear, (void **)out,
		       n);
}

enum err notify_outbox_set_message(struct db *db, int64_t id, const char *message)
{
	static const char sql[] = "UPDATE outbox SET message = ? WHERE id = ? AND message IS NULL";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_text(db, st, 1, message);
	db_bind_int64(db, st, 2, id);
	return db_exec_stmt(db, st, "store a made message");
}

enum err notify_outbox_sent(struct db *db, int64_t id, int64_t now)
{
	/* A set-password link is a secret: once handed over it is not kept. */
	static const char sql[] =
		"UPDATE outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1,"
		" last_error = '',"
		" arg = CASE WHEN kind = 'set_password' THEN '' ELSE arg END,"
		" message = CASE WHEN kind = 'set_password' THEN '(not kept)' ELSE message END"
		" WHERE id = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, now);
	db_bind_int64(db, st, 2, id);
	return db_exec_stmt(db, st, "mark mail sent");
}

enum err notify_outbox_retry(struct db *db, int64_t id, int64_t next_at, const char *error,
			     bool failed)
{
	static const char sql[] =
		"UPDATE outbox SET attempts = attempts + 1, next_at = ?, last_error = ?,"
		" state = CASE WHEN ? THEN 'failed' ELSE 'queued' END WHERE id = ?";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, next_at);
	db_bind_text(db, st, 2, error ? error : "");
	db_bind_int64(db, st, 3, failed);
	db_bind_int64(db, st, 4, id);
	return db_exec_stmt(db, st, "mark a failed attempt");
}

enum err notify_outbox_stats(struct db *db, struct notify_outbox_stats *s)
{
	static const char sql[] =
		"SELECT coalesce(sum(state = 'queued'), 0), coalesce(sum(state = 'sent'), 0),"
		" coalesce(sum(state = 'failed'), 0),"
		" coalesce(min(CASE WHEN state = 'queued' THEN created_at END), 0),"
		" coalesce(sum(state = 'queued' AND attempts > 0), 0) FROM outbox";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row = false;

	memset(s, 0, sizeof *s);
	if (rc)
		return rc;
	rc = db_step(db, st, "count the outbox", &row);
	if (!rc && row) {
		s->queued = sqlite3_column_int64(st, 0);
		s->sent = sqlite3_column_int64(st, 1);
		s->failed = sqlite3_column_int64(st, 2);
		s->oldest_queued_at = sqlite3_column_int64(st, 3);
		s->retrying = sqlite3_column_int64(st, 4);
	}
	sqlite3_reset(st);
	return rc;
}
