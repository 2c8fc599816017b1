/*
 * notify — the store of notifications: who follows what, each person's
 * mail preferences and cursor, and the outbox of mail to send.
 *
 * Events themselves are audit rows (audit.h): every change that is
 * announced was recorded in the transaction that made it, so nothing is
 * announced that did not commit and nothing committed goes unannounced.
 * NOTIFY_EVENT_ACTIONS names the audit actions that are events.
 *
 * A person follows a scope: a whole work package (path ""), a folder or a
 * document (its path, name keys joined by '/'); an event on `object`
 * falls in a scope when object == path or starts with path + "/". An
 * explicit "do not follow" (active 0) outlives automatic follows and a
 * work package's default; no decision on who may read is made here (that
 * is server/api/acl.c's).
 */
#ifndef CONSORT_NOTIFY_H
#define CONSORT_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "db.h"
#include "err.h"

/* The audit actions that are events in feeds and mail, as an SQL list. */
#define NOTIFY_EVENT_ACTIONS                                                                       \
	"'upload', 'restore', 'move', 'rename', 'delete', 'restore_trash', 'purge',"               \
	" 'folder_create', 'copy', 'grant', 'checkout', 'checkin', 'lock_break', 'malware_found'"

/* Consortium-wide events (news and the event calendar, issue 20): audit
 * rows without a work package of their own to follow; who sees one is
 * acl_site_event_visible's, who is mailed it the person's `news` switch
 * (notify_news_get). The detail names the item: "news ID", "event ID". */
#define NOTIFY_SITE_ACTIONS "'news_create', 'event_create'"

enum notify_mode { NOTIFY_OFF, NOTIFY_IMMEDIATE, NOTIFY_HOURLY, NOTIFY_DAILY };

const char *notify_mode_name(enum notify_mode m);
/* false for an unknown name. */
bool notify_mode_parse(const char *s, enum notify_mode *m);

/* --- following ---------------------------------------------------------------- */

struct notify_follow {
	int64_t wp_id;
	char *wp_code;
	char *path;      /* "" for the whole work package */
	bool active;     /* false: an explicit "do not follow" */
	bool automatic;  /* made by an upload or an edit */
	bool by_default; /* not a row: the work package's default (lists only) */
};

/* Follow (`active`) or explicitly stop following a scope; replaces what
 * the person said about the same scope before. */
enum err notify_follow_set(struct db *db, int64_t user_id, int64_t wp_id, const char *path,
			   bool active);
/* The automatic follow of a document one uploaded or edited: made only
 * when the person has auto-follow on and has said nothing about that
 * scope yet. Joins the caller's transaction (the upload's). */
enum err notify_follow_auto(struct db *db, int64_t user_id, int64_t wp_id, const char *path);
/* Forget what the person said about a scope (back to the defaults). */
enum err notify_follow_clear(struct db *db, int64_t user_id, int64_t wp_id, const char *path);
/* `user_id`'s follow rows (active and not), and a by_default entry for
 * each work package followed by default that the person said nothing
 * about (readable or not: the caller filters). Ordered by code, path.
 * Free with notify_follows_free. */
enum err notify_follow_list(struct db *db, int64_t user_id, struct notify_follow **out, size_t *n);
void notify_follows_free(struct notify_follow *f, size_t n);

/* What people said about a scope goes with it when it moves: every row
 * about `from_path` or below it in `from_wp` is re-keyed to `to_path`
 * (same position below it) in `to_wp`. Where a person already said
 * something about the new path, what they said about the moved thing
 * wins (the old row there named something else). Joins the caller's
 * transaction (the move's). */
enum err notify_follows_move(struct db *db, int64_t from_wp, const char *from_path, int64_t to_wp,
			     const char *to_path);
/* The thing at `path` (and below) is gone (to the trash, or purged):
 * every row about it goes with it, so a later document of the same name
 * is not followed by people who followed the old one. Joins the caller's
 * transaction. */
enum err notify_follows_drop(struct db *db, int64_t wp_id, const char *path);

/* A work package's readers follow it by default (`on`), or not. */
enum err notify_wp_default_set(struct db *db, int64_t wp_id, bool on, int64_t by);
enum err notify_wp_default_get(struct db *db, int64_t wp_id, bool *on);

/* --- preferences and the digest cursor --------------------------------------- */

struct notify_prefs {
	int64_t user_id;
	enum notify_mode mode;
	bool auto_follow;
	int64_t cursor;       /* audit id up to which events were considered */
	int64_t last_mail_at; /* the last digest's making (at first: the row's) */
	char *unsub;          /* the unsubscribe secret */
	char *email;          /* the account's address (digest runs only) */
	bool disabled;        /* the account is disabled (digest runs only) */
};

void notify_prefs_clear(struct notify_prefs *p);
void notify_prefs_free(struct notify_prefs *p, size_t n);

/* Make the preferences row of every account that lacks one: defaults,
 * a fresh unsubscribe secret, cursor at the newest audit id (a new
 * person is told about what happens from now on). */
enum err notify_prefs_ensure(struct db *db);
/* One person's preferences (made first when missing). */
enum err notify_prefs_get(struct db *db, int64_t user_id, struct notify_prefs *out);
enum err notify_prefs_set(struct db *db, int64_t user_id, enum notify_mode mode, bool auto_follow);
/* Every person's preferences with their address, for a digest run. */
enum err notify_prefs_all(struct db *db, struct notify_prefs **out, size_t *n);
/* The one-click unsubscribe: mode off for the person whose secret is
 * `secret`. ERR_NOTFOUND for an unknown secret. */
enum err notify_unsubscribe(struct db *db, const char *secret, int64_t *user_id);
/* The person's cursor (ERR_NOTFOUND without a preferences row). */
enum err notify_cursor_get(struct db *db, int64_t user_id, int64_t *cursor);
/* Move the person's cursor to `upto` (only forwards); `mailed_at` not 0
 * also records when a digest was built. Inside the digest's
 * transaction. */
enum err notify_cursor_set(struct db *db, int64_t user_id, int64_t upto, int64_t mailed_at);

/* Does the person get consortium news and events (default: yes)? */
enum err notify_news_get(struct db *db, int64_t user_id, bool *on);
enum err notify_news_set(struct db *db, int64_t user_id, bool on);

/* The person's language code ("" when not chosen yet) into out[len]. */
enum err notify_language_get(struct db *db, int64_t user_id, char *out, size_t len);
/* Set it (the caller checks the code is one the app has). */
enum err notify_language_set(struct db *db, int64_t user_id, const char *lang);

/* --- events ------------------------------------------------------------------- */

/* The newest audit id (0 with no records). */
enum err notify_last_event(struct db *db, int64_t *id);
/* Event rows with after < id <= upto, oldest first, at most `limit`.
 * Free with audit_rows_free. */
enum err notify_events(struct db *db, int64_t after, int64_t upto, size_t limit,
		       struct audit_row **rows, size_t *n);
/* Event rows for a feed, newest first, id < before (0: no bound), at most
 * `limit`: in the work packages of the JSON array text `wps_json` (ids),
 * under `path` when not NULL (the scope rule above; "" = everything). */
enum err notify_feed(struct db *db, const char *wps_json, const char *path, int64_t before,
		     size_t limit, struct audit_row **rows, size_t *n);

/* The home feed's rows: notify_feed's for the whole of `wps_json`, and
 * the consortium-wide events (NOTIFY_SITE_ACTIONS), newest first. */
enum err notify_feed_home(struct db *db, const char *wps_json, int64_t before, size_t limit,
			  struct audit_row **rows, size_t *n);

/* --- the outbox --------------------------------------------------------------- */

struct notify_mail {
	int64_t id;
	int64_t user_id;
	char *kind;
	char *rcpt;
	char *arg;
	char *message; /* NULL: not made yet */
	int attempts;
	int64_t created_at;
};

void notify_mails_free(struct notify_mail *m, size_t n);

/* Queue mail for `user_id` (to the account's current address) of `kind`
 * with `arg`; `message` NULL lets the sender make it. Joins the caller's
 * transaction. ERR_NOTFOUND for an unknown account. *id may be NULL. */
enum err notify_outbox_add(struct db *db, int64_t user_id, const char *kind, const char *arg,
			   const char *message, int64_t *id);
/* Queued mail due at `now`, oldest first, at most `limit`. */
enum err notify_outbox_due(struct db *db, int64_t now, size_t limit, struct notify_mail **out,
			   size_t *n);
enum err notify_outbox_set_message(struct db *db, int64_t id, const char *message);
/* Sent: a set-password link's secret is dropped from the row then. */
enum err notify_outbox_sent(struct db *db, int64_t id, int64_t now);
/* A failed attempt: try again at `next_at`, or give up (`failed`). */
enum err notify_outbox_retry(struct db *db, int64_t id, int64_t next_at, const char *error,
			     bool failed);

struct notify_outbox_stats {
	int64_t queued, sent, failed;
	int64_t oldest_queued_at; /* 0: none queued */
	int64_t retrying;         /* queued with at least one failed attempt */
};
enum err notify_outbox_stats(struct db *db, struct notify_outbox_stats *s);

#endif
