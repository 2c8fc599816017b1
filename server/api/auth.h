/*
 * auth — who is calling: passwords (Argon2id), login throttling, HTTP
 * sessions (cookie + CSRF token), API tokens, recovery codes, and the
 * audit helper that records what a caller did.
 *
 * Deciding what a caller may do is not here: server/api/acl.c is the one
 * policy function. auth_identify() only establishes who the caller is.
 *
 * Secrets (session cookies, API tokens, set-password links, recovery
 * codes) are random values handed out once; only their SHA-256 is kept.
 * None of them ever appears in a log line or an error detail.
 */
#ifndef CONSORT_AUTH_H
#define CONSORT_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct call;
struct config;
struct http_req;

/* The authenticated caller of a request (call->caller). Request-scoped:
 * strings live in the request arena. */
struct caller {
	int64_t user_id;
	int64_t partner_id;
	const char *email;
	const char *name;
	bool coordinator;
	bool totp_enabled;
	/* A coordinator requires a second factor that is not enrolled yet:
	 * the policy lets such a caller do little besides enrolling. */
	bool totp_pending;
	int64_t session_id; /* 0 when authenticated by API token */
	const char *csrf;   /* the session's CSRF token; NULL for tokens */
	int64_t reauth_at;  /* session: last sign-in or confirm (sudo mode) */
	int64_t token_id;   /* 0 when authenticated by session */
	/* A token's scope, which the policy applies (acl.h): read-only,
	 * and limited to the work packages wp_ids[0..nwps) (ascending). */
	bool read_only;
	bool wp_limited;
	const int64_t *wp_ids;
	size_t nwps;
};

/* Name of the session cookie. The __Host- prefix makes browsers insist
 * on Secure, Path=/ and no Domain, so no sibling host can set it. */
#define AUTH_COOKIE "__Host-consort"
/* Sudo mode: how long a sign-in or a confirm (POST
 * /api/v1/session/confirm) lets a session change credentials and
 * privileges. */
#define AUTH_SUDO_SECONDS 600
/* Random secrets: 32 bytes as unpadded base64url (43 characters). */
#define AUTH_SECRET_LEN 43
/* API tokens carry a prefix so secret scanners and people recognise them. */
#define AUTH_TOKEN_PREFIX "consort_"
#define AUTH_TOKEN_LEN (sizeof AUTH_TOKEN_PREFIX - 1 + AUTH_SECRET_LEN)
#define AUTH_RECOVERY_CODES 10
#define AUTH_RECOVERY_LEN 11   /* "xxxxx-xxxxx" */
#define AUTH_PASSWORD_MIN 12   /* characters */
#define AUTH_PASSWORD_MAX 1024 /* bytes */

/* Process-wide set-up for `consort serve`: Argon2 parameters, throttle
 * tables and the dummy hash used for unknown emails. */
enum err auth_start(const struct config *cfg);
void auth_stop(void);

/* --- passwords ----------------------------------------------------------- */

struct auth_argon2 {
	uint32_t m_kib;  /* memory */
	uint32_t t_cost; /* iterations */
	uint32_t lanes;  /* parallelism */
};

/* Parameters new hashes get (the configured ones after auth_start, the
 * defaults before). */
void auth_argon2_current(struct auth_argon2 *out);
void auth_argon2_defaults(struct auth_argon2 *out);

/* Hash a password with Argon2id and a fresh 16-byte salt into the
 * standard encoded form ($argon2id$v=19$m=..,t=..,p=..$salt$hash), which
 * carries its parameters. *encoded is malloc'd. Slow: call from a job
 * thread or the command line, never on an event loop. */
enum err auth_password_hash(const char *pw, const struct auth_argon2 *p, char **encoded);
/* True when `pw` matches `encoded`; false on mismatch or a malformed
 * hash. As slow as hashing. */
bool auth_password_verify(const char *encoded, const char *pw);
/* True when `encoded` was made with weaker parameters than `p` (or is
 * not Argon2id v19): the login that just verified it rehashes. */
bool auth_password_outdated(const char *encoded, const struct auth_argon2 *p);
/* An encoded hash of a random password with the current parameters:
 * verifying an unknown email against it takes as long as a real one. */
const char *auth_dummy_hash(void);
/* The rules for a new password; ERR_INVALID with a detail. `email` may
 * be NULL. */
enum err auth_password_policy(const char *pw, const char *email);

/* --- secrets --------------------------------------------------------------- */

/* A new random secret as base64url into out[AUTH_SECRET_LEN + 1]. */
enum err auth_secret_new(char *out);
/* SHA-256 of a secret as stored. */
void auth_secret_hash(const char *secret, unsigned char out[32]);

/* Ten new recovery codes ("xxxxx-xxxxx", Crockford base32) and their
 * hashes. */
enum err auth_recovery_new(char codes[AUTH_RECOVERY_CODES][AUTH_RECOVERY_LEN + 1],
			   unsigned char hashes[AUTH_RECOVERY_CODES][32]);
/* Hash of a recovery code as typed (case, dashes and spaces do not
 * matter; I/L read as 1, O as 0). False when it cannot be a code. */
bool auth_recovery_hash(const char *typed, unsigned char out[32]);

/* --- login throttling -------------------------------------------------------- */

/* A login attempt in progress, from auth_throttle_begin to _end. */
struct auth_ticket {
	unsigned char account[16];
	unsigned char address[16];
	bool active;
};

/* Admit an attempt to verify a password for `email` from `peer`:
 * ERR_LIMIT with *retry_after (seconds) when the account or the address
 * is locked out or too many attempts on the account are in flight. The
 * key is the email as typed (case-folded), so unknown emails are
 * throttled exactly like real ones. */
enum err auth_throttle_begin(const char *email, const char *peer, struct auth_ticket *t,
			     unsigned *retry_after);
/* The attempt's outcome: a failure counts against the account and the
 * address; a success clears the account's failures. Accepts an inactive
 * ticket. `locked_for` (may be NULL) receives the lockout a failure has
 * just started, in seconds (0: none). */
void auth_throttle_end(struct auth_ticket *t, bool success, unsigned *locked_for);
/* End an attempt that neither failed nor succeeded (the server could not
 * check, or the right password still awaits its second factor): no
 * count changes. A success would clear the account's failures, which
 * must not happen without the whole login succeeding. */
void auth_throttle_release(struct auth_ticket *t);

/* --- sessions and identification ------------------------------------------------ */

/* Start a session for `user_id`: store it (joins an open transaction)
 * and write its cookie value into token[AUTH_SECRET_LEN + 1] and its
 * CSRF token into csrf[AUTH_SECRET_LEN + 1]. *session_id (may be NULL)
 * receives its id. The caller sends the cookie with auth_cookie_set once
 * the session is committed. */
enum err auth_session_start(struct call *call, int64_t user_id, char *token, char *csrf,
			    int64_t *session_id);
/* Add the Set-Cookie header carrying a session token. */
void auth_cookie_set(struct call *call, const char *token);
/* Add a Set-Cookie header that removes the session cookie. */
void auth_cookie_clear(struct http_req *req);

/* Establish who is calling from the Authorization header (Bearer token,
 * or Basic with the token as password for WebDAV clients) or else the
 * session cookie. Fills call->caller and call->by_cookie. Refuses
 * (ERR_UNAUTHENTICATED) missing, unknown, expired or revoked credentials
 * and disabled accounts. Does not check CSRF: that is policy (acl.c). */
enum err auth_identify(struct call *call);

/* The value of consort's session cookie in a Cookie header (its length
 * in *len, trailing spaces cut), or NULL. Exposed for the fuzz driver. */
const char *auth_cookie_find(const char *header, size_t *len);

/* Authorization: Basic base64(user ":" token), for WebDAV clients that
 * know no other scheme; the password is an API token, never the
 * account's password. Decodes `b64` into `buf`: *user and *secret point
 * into it. ERR_UNAUTHENTICATED for anything malformed (not base64, a
 * NUL, no colon, longer than the buffer). */
#define AUTH_BASIC_MAX 512
enum err auth_basic_decode(const char *b64, char buf[AUTH_BASIC_MAX], const char **user,
			   const char **secret);

/* --- audit ------------------------------------------------------------------------ */

/* Append an audit record for the call: its caller, source address and
 * time, and what was done (`action`, see storage/audit.h) to which
 * `object` in which WP (`wp_id` 0: none). `fmt` (may be NULL) formats
 * the detail. Joins an open transaction, so a change and its record can
 * commit together. Never put a secret in `object` or the detail. */
enum err auth_audit(struct call *call, const char *action, int64_t wp_id, const char *object,
		    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The same for a call without a caller (a login): `user_id` (0: no such
 * account) and `email` name who it was about. */
enum err auth_audit_as(struct call *call, int64_t user_id, const char *email, const char *action,
		       int64_t wp_id, const char *object, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/* Tell the person whose credentials or privileges changed: `user_id`,
 * `email` (at the time), and what changed (`fmt`). Today an audit record
 * in their name (action "account_notice", object their email, the
 * detail saying what and who did it), so their own history shows it;
 * this is the one place where notifications (mail) hook in. Joins an
 * open transaction, like auth_audit. */
enum err auth_notice(struct call *call, int64_t user_id, const char *email, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
