/*
 * accounts — partners, users, work packages, grants, and the secrets
 * that let a user in (HTTP sessions, API tokens, one-time set-password
 * links, TOTP secrets and recovery codes). All SQL about identity and
 * access lives here; deciding what a request may do is server/acl.c's
 * job, on the facts these functions return.
 *
 * Secrets handed out to clients (session cookies, API tokens, links,
 * recovery codes) are only ever stored as SHA-256 hashes: callers pass
 * the 32-byte hash, never the secret.
 *
 * Conventions: functions return enum err (ERR_NOTFOUND when the object
 * does not exist, ERR_EXISTS for a duplicate, ERR_INVALID with a detail
 * naming the field for a value the schema refuses). Records returned
 * through out-parameters own their strings; release them with the
 * matching *_free / *_clear function (which accept NULL / zeroed
 * records). Functions that change several rows run in their own
 * transaction unless documented as "joins the caller's transaction".
 */
#ifndef CONSORT_ACCOUNTS_H
#define CONSORT_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "err.h"

#define ACCT_HASH_LEN 32 /* SHA-256 of a secret */

/* Levels on a work package; 'none' is the absence of a grant. */
enum acct_level {
	ACCT_NONE = 0,
	ACCT_READ = 1,
	ACCT_WRITE = 2,
	ACCT_MANAGE = 3,
};

/* "none", "read", "write", "manage"; "invalid" outside the range. */
const char *acct_level_name(int level);
/* Parse a level name; false when `s` is not one of the four. */
bool acct_level_parse(const char *s, int *level);

/* Format rules shared by the API and the command line. Each returns
 * ERR_INVALID with a detail starting with `what` (e.g. "field 'email'"
 * or "--email"). Emails: 3-254 ASCII characters, one '@', a dotted
 * domain of letters, digits and '-'. Partner short names and WP codes
 * (which appear in URLs): 1-32 of A-Z a-z 0-9 . _ -, starting with a
 * letter or digit. Countries: two letters (ISO 3166-1 alpha-2). */
enum err acct_check_email(const char *what, const char *s);
enum err acct_check_code(const char *what, const char *s);
enum err acct_check_country(const char *what, const char *s);

/* --- partners ---------------------------------------------------------- */

struct acct_partner {
	int64_t id;
	char *short_name;
	char *name;
	char *country;
	int64_t created_at;
};

/* Add a partner. ERR_EXISTS when the short name is taken (case-
 * insensitively). *id receives the new id (may be NULL). */
enum err acct_partner_add(struct db *db, const char *short_name, const char *name,
			  const char *country, int64_t *id);
/* Id of the partner with this short name; ERR_NOTFOUND if none. */
enum err acct_partner_id(struct db *db, const char *short_name, int64_t *id);
/* All partners ordered by short name; *out is an array of *n records,
 * freed with acct_partners_free. */
enum err acct_partner_list(struct db *db, struct acct_partner **out, size_t *n);
void acct_partners_free(struct acct_partner *p, size_t n);

/* --- users ------------------------------------------------------------- */

struct acct_user {
	int64_t id;
	char *email;
	char *name;
	int64_t partner_id;
	char *partner_short;
	bool coordinator;
	bool disabled;
	bool has_password;
	bool totp_enabled;
	bool totp_required;
	int recovery_left; /* unused recovery codes */
	int64_t created_at;
	int64_t password_changed_at; /* 0: never set */
};

/* Add a user. `password_hash` (an Argon2id encoded string) may be NULL:
 * the user then signs in only after a set-password link was used.
 * ERR_EXISTS when the email is taken; ERR_NOTFOUND for a missing partner. */
enum err acct_user_add(struct db *db, const char *email, const char *name, int64_t partner_id,
		       bool coordinator, const char *password_hash, int64_t *id);
enum err acct_user_get(struct db *db, int64_t id, struct acct_user *out);
enum err acct_user_by_email(struct db *db, const char *email, struct acct_user *out);
/* All users ordered by email; free with acct_users_free. */
enum err acct_user_list(struct db *db, struct acct_user **out, size_t *n);
void acct_user_clear(struct acct_user *u);
void acct_users_free(struct acct_user *u, size_t n);

/* A change to a user: only the fields whose `set_` flag is true change. */
struct acct_user_change {
	bool set_name, set_partner, set_coordinator, set_disabled, set_totp_required;
	const char *name;
	int64_t partner_id;
	bool coordinator, disabled, totp_required;
	bool totp_reset; /* remove the second factor and its recovery codes */
};

/* Apply `ch` to user `id` in one transaction. Disabling a user also
 * deletes its sessions (its tokens stop working because every request
 * checks the disabled flag). Refuses (ERR_CONFLICT) to leave the
 * consortium without an enabled coordinator. */
enum err acct_user_update(struct db *db, int64_t id, const struct acct_user_change *ch);

/* What a login needs to know about an email. */
struct acct_login {
	int64_t user_id;
	char *email;
	char *password_hash; /* NULL when no password was ever set */
	bool disabled;
	bool totp_enabled;
	bool totp_required;
};

/* ERR_NOTFOUND when no user has this email (case-insensitive). */
enum err acct_login_lookup(struct db *db, const char *email, struct acct_login *out);
void acct_login_clear(struct acct_login *l);

/* The user's password hash (NULL when none); *hash is malloc'd. */
enum err acct_password_hash(struct db *db, int64_t user_id, char **hash);

/* Set a user's password hash. `end_sessions`: delete every session of
 * the user except `keep_session` (0: all). Joins the caller's
 * transaction. */
enum err acct_password_set(struct db *db, int64_t user_id, const char *hash, bool end_sessions,
			   int64_t keep_session);

/* --- who a session or token authenticates -------------------------------- */

struct acct_principal {
	int64_t user_id;
	int64_t partner_id;
	char *email;
	char *name;
	bool coordinator;
	bool disabled;
	bool totp_enabled;
	bool totp_required;
	/* session */
	int64_t session_id;
	bool session_mfa; /* signed in through a provider's second factor */
	char *csrf;
	int64_t created_at;
	int64_t last_seen;
	int64_t expires_at; /* absolute end of the session / token (0: none) */
	int64_t reauth_at;  /* session: when its person last proved who they
			       are (sign-in or confirm); 0: never */
	/* token */
	int64_t token_id;
	int64_t last_used_at;
	int64_t revoked_at;
	bool read_only;  /* scope "read" */
	bool wp_limited; /* only the work packages of acct_token_wps */
};

void acct_principal_clear(struct acct_principal *p);

/* --- sessions ------------------------------------------------------------- */

/* Record a new session. */
enum err acct_session_create(struct db *db, int64_t user_id,
			     const unsigned char hash[ACCT_HASH_LEN], const char *csrf,
			     const char *peer, int64_t expires_at, int64_t *id);
/* The session with this hash and its user; ERR_NOTFOUND if none. Expiry
 * is the caller's decision (idle time depends on configuration). */
enum err acct_session_lookup(struct db *db, const unsigned char hash[ACCT_HASH_LEN],
			     struct acct_principal *out);
enum err acct_session_touch(struct db *db, int64_t session_id, int64_t now);
/* Record that the session's person re-authenticated at `now` (sudo
 * mode). ERR_NOTFOUND when the session is gone. */
enum err acct_session_reauth(struct db *db, int64_t session_id, int64_t now);
enum err acct_session_delete(struct db *db, int64_t session_id);
/* Delete the user's expired sessions (idle longer than `idle` seconds or
 * past their end), then the oldest beyond `keep` live ones. */
enum err acct_session_prune(struct db *db, int64_t user_id, int64_t now, int64_t idle,
			    unsigned keep);

/* --- API tokens ----------------------------------------------------------- */

struct acct_token {
	int64_t id;
	char *name;
	int64_t created_at;
	int64_t expires_at;
	int64_t last_used_at; /* 0: never used */
	int64_t revoked_at;   /* 0: live */
	bool read_only;       /* scope "read" (else "write") */
	bool wp_limited;      /* only the work packages in `wps` */
	char *wps;            /* their codes, comma-separated, by code; NULL: none */
};

/* What a token may do: scope read (`read_only`) or write, and when
 * `wp_limited` only the `nwps` work packages `wp_ids` (may be 0: none). */
struct acct_token_scope {
	bool read_only;
	bool wp_limited;
	const int64_t *wp_ids;
	size_t nwps;
};

/* Record a token with its scope (NULL: write on every work package).
 * Joins the caller's transaction. */
enum err acct_token_create(struct db *db, int64_t user_id, const char *name,
			   const unsigned char hash[ACCT_HASH_LEN], int64_t expires_at,
			   const struct acct_token_scope *scope, int64_t *id);
/* Ids of the work packages a WP-limited token is limited to, ascending;
 * *ids malloc'd, NULL when *n is 0. */
enum err acct_token_wps(struct db *db, int64_t token_id, int64_t **ids, size_t *n);
/* The token with this hash and its user (revoked and expired ones too:
 * the caller refuses them). ERR_NOTFOUND if none. */
enum err acct_token_lookup(struct db *db, const unsigned char hash[ACCT_HASH_LEN],
			   struct acct_principal *out);
enum err acct_token_touch(struct db *db, int64_t token_id, int64_t now);
/* The user's tokens, newest first; free with acct_tokens_free. */
enum err acct_token_list(struct db *db, int64_t user_id, struct acct_token **out, size_t *n);
void acct_tokens_free(struct acct_token *t, size_t n);
/* Revoke one of the user's tokens. ERR_NOTFOUND when the token is not
 * the user's or already revoked. *name receives its name (malloc'd,
 * may be NULL). */
enum err acct_token_revoke(struct db *db, int64_t user_id, int64_t token_id, int64_t now,
			   char **name);

/* --- one-time set-password links ------------------------------------------ */

/* Record a link for `user_id`, replacing any unused one. */
enum err acct_link_create(struct db *db, int64_t user_id, int64_t created_by,
			  const unsigned char hash[ACCT_HASH_LEN], int64_t expires_at);
/* The user a live (unused, unexpired) link belongs to; ERR_NOTFOUND
 * otherwise. With `consume` the link is marked used (joins the caller's
 * transaction, and a second consume of the same link fails). */
enum err acct_link_check(struct db *db, const unsigned char hash[ACCT_HASH_LEN], int64_t now,
			 bool consume, int64_t *user_id);

/* --- TOTP ------------------------------------------------------------------- */

#define ACCT_TOTP_SECRET_MAX 64

struct acct_totp {
	unsigned char secret[ACCT_TOTP_SECRET_MAX];
	size_t secret_len; /* 0: no second factor */
	unsigned char pending[ACCT_TOTP_SECRET_MAX];
	size_t pending_len; /* 0: no enrolment under way */
	int64_t last_step;
	bool required;
};

enum err acct_totp_get(struct db *db, int64_t user_id, struct acct_totp *out);
/* Start (or restart) enrolment with a new secret. */
enum err acct_totp_begin(struct db *db, int64_t user_id, const unsigned char *secret, size_t len);
/* Finish enrolment: the pending secret becomes the second factor, `step`
 * the last used step, and `codes` (n hashes) the recovery codes. */
enum err acct_totp_enable(struct db *db, int64_t user_id, int64_t step,
			  const unsigned char (*codes)[ACCT_HASH_LEN], size_t n);
/* Remove the second factor, a pending enrolment and recovery codes. */
enum err acct_totp_disable(struct db *db, int64_t user_id);
/* Record that `step` was used; ERR_CONFLICT when it is not newer than
 * the last used step (a replayed code). */
enum err acct_totp_use_step(struct db *db, int64_t user_id, int64_t step);
/* Replace the user's recovery codes. */
enum err acct_recovery_set(struct db *db, int64_t user_id,
			   const unsigned char (*codes)[ACCT_HASH_LEN], size_t n);
/* Use one recovery code; ERR_NOTFOUND when it is not an unused code of
 * the user. */
enum err acct_recovery_use(struct db *db, int64_t user_id, const unsigned char hash[ACCT_HASH_LEN],
			   int64_t now);

/* --- work packages ------------------------------------------------------------ */

struct acct_wp {
	int64_t id;
	char *code;
	char *title;
	int64_t lead_partner_id; /* 0: none */
	char *lead_short;        /* NULL: none */
	int64_t root_id;
	int64_t created_at;
	int level; /* the asking user's level (lists only) */
	/* Its own storage settings; -1: not set, the server's default
	 * applies. quota_bytes 0: no quota; keep_* 0: no such rule. */
	int64_t quota_bytes;
	int64_t keep_versions;
	int64_t keep_days;
	int64_t archived_at; /* 0: not archived */
	char *language;      /* ISO 639-1; NULL: the server's index-language */
};

/* A change to a work package's settings: only the members whose set_*
 * is true change. For the int64 members -1 stores NULL (the server's
 * default applies again); lead_partner_id 0 removes the lead. */
struct acct_wp_change {
	bool set_title, set_lead, set_quota, set_keep_versions, set_keep_days, set_archived,
		set_language;
	const char *title;
	const char *language; /* NULL: back to the server's index-language */
	int64_t lead_partner_id;
	int64_t quota_bytes;
	int64_t keep_versions;
	int64_t keep_days;
	bool archived;
};

/* Whether work package `id` is archived. ERR_NOTFOUND when missing. */
enum err acct_wp_archived(struct db *db, int64_t id, bool *archived);

/* Apply `c` to work package `id` (archiving stamps `now`; archiving an
 * archived one keeps its first time). Joins the caller's transaction.
 * ERR_NOTFOUND when there is no such work package. */
enum err acct_wp_update(struct db *db, int64_t id, const struct acct_wp_change *c, int64_t now);

/* Create a work package and its root folder (a nodes row with parent
 * NULL, is_folder 1, empty name) in one transaction; wps.root_id points
 * at the folder. `lead_partner_id` 0: no lead. `created_by` 0: created
 * from the command line. ERR_EXISTS when the code is taken. */
enum err acct_wp_add(struct db *db, const char *code, const char *title, int64_t lead_partner_id,
		     int64_t created_by, int64_t *id);
enum err acct_wp_get(struct db *db, int64_t id, struct acct_wp *out);
/* Find a WP by code (case-insensitive) and compute `user_id`'s level on
 * it in one query. ERR_NOTFOUND when no WP has the code. `user_id` 0
 * (just finding the id: the command line, the audit filter) gets level
 * none. */
enum err acct_wp_resolve(struct db *db, const char *code, int64_t user_id, int64_t *wp_id,
			 int *level);
/* The WPs `user_id` can read (all of them for a coordinator), ordered by
 * code, each with the user's level. A missing caller (`user_id` 0), an
 * unknown or a disabled user can read none: the list is empty, never
 * "every WP". */
enum err acct_wp_list(struct db *db, int64_t user_id, struct acct_wp **out, size_t *n);
void acct_wp_clear(struct acct_wp *w);
void acct_wps_free(struct acct_wp *w, size_t n);

/* `user_id`'s level on `wp_id`: the highest of the user's own grant and
 * their partner's; ACCT_MANAGE for coordinators; ACCT_NONE for a
 * disabled or unknown user. */
enum err acct_level(struct db *db, int64_t user_id, int64_t wp_id, int *level);

/* Ids of the WPs `user_id` can read (level >= read), ascending; none for
 * user 0, an unknown or a disabled user. *ids is malloc'd (NULL when *n
 * is 0); the caller frees it. */
enum err acct_readable_wps(struct db *db, int64_t user_id, int64_t **ids, size_t *n);

/* --- grants ------------------------------------------------------------------ */

struct acct_grant {
	int64_t user_id; /* exactly one of user_id and partner_id */
	char *email;
	char *user_name;
	int64_t partner_id;
	char *partner_short;
	char *partner_name;
	int level;
	char *granted_by; /* email, NULL when from the command line */
	int64_t granted_at;
};

/* Set the grant of a user (user_id != 0) or a whole partner (partner_id
 * != 0) on a WP; ACCT_NONE removes it. *old_level receives the level
 * before (may be NULL). Joins the caller's transaction. */
enum err acct_grant_set(struct db *db, int64_t wp_id, int64_t user_id, int64_t partner_id,
			int level, int64_t granted_by, int *old_level);
/* Grants on a WP: partners first, then users, each by name. */
enum err acct_grant_list(struct db *db, int64_t wp_id, struct acct_grant **out, size_t *n);
void acct_grants_free(struct acct_grant *g, size_t n);

#endif
