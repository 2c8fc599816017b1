/*
 * audit — the append-only record of who did what, when, from where.
 *
 * Rows are only ever inserted: triggers in the schema refuse UPDATE and
 * DELETE, so not even a bug in consort can rewrite history through
 * SQLite. audit_append joins the caller's transaction when one is open,
 * so a change and its record commit together (or neither does).
 *
 * Actions are short fixed words: login, login_failed, logout,
 * password_change, password_set, password_link, totp_enable,
 * totp_disable, recovery_codes, token_create, token_revoke, user_create,
 * user_update, partner_create, wp_create, grant, reauth, reauth_failed,
 * account_notice (the person concerned, server/api/auth.h auth_notice),
 * and from the document
 * side upload, download, delete, restore, ... (docs/api.md lists them).
 */
#ifndef CONSORT_AUDIT_H
#define CONSORT_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "err.h"

/* Append one record. `user_id` 0: no account (a failed login for an
 * unknown email, the command line). `actor` is the account's email at
 * the time (kept even if the account changes later), `peer` the source
 * address ("" when local), `wp_id` 0 when no work package is involved,
 * `object` what was acted on (a path, "user:alice@example.org"...),
 * `detail` free text. NULL strings are stored as "". */
enum err audit_append(struct db *db, int64_t user_id, const char *actor, const char *peer,
		      const char *action, int64_t wp_id, const char *object, const char *detail);

/* Which records a query returns; zero / NULL fields do not filter. */
struct audit_filter {
	int64_t user_id;
	int64_t wp_id;
	const char *action;
	int64_t since;    /* at >= since */
	int64_t until;    /* at < until (0: no upper bound) */
	int64_t after_id; /* id > after_id: keyset paging for exports */
};

struct audit_row {
	int64_t id;
	int64_t at;
	int64_t user_id; /* 0: none */
	char *actor;
	char *peer;
	char *action;
	int64_t wp_id; /* 0: none */
	char *wp_code; /* NULL when none (or the WP is gone) */
	char *object;
	char *detail;
};

/* Records matching `f`: newest first with `offset`, or with
 * `oldest_first` in id order (for exports, paged by f->after_id). At most
 * `limit` rows. *total (may be NULL) receives the number of matching
 * records regardless of paging. *rows is freed with audit_rows_free. */
enum err audit_query(struct db *db, const struct audit_filter *f, bool oldest_first, size_t limit,
		     size_t offset, struct audit_row **rows, size_t *n, int64_t *total);
void audit_rows_free(struct audit_row *rows, size_t n);

#endif
