/*
 * h_auth — signing in and out, the caller's own account (password,
 * second factor, recovery codes), API tokens, and redeeming a
 * set-password link.
 *
 * Every password check or hash runs as a job on the pool (jobs.h): the
 * handler validates, copies what the job needs, and returns; the job's
 * completion answers on the worker's loop. Every password verification,
 * wherever it happens, passes through the login throttle, so no route
 * is a faster password oracle than the login itself.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "api/acl.h"
#include "api/apijson.h"
#include "api/auth.h"
#include "api/mail.h"
#include "api/config.h"
#include "db.h"
#include "digest.h"
#include "api/handlers.h"
#include "http/http.h"
#include "http/jobs.h"
#include "http/jsonin.h"
#include "http/log.h"
#include "http/reply.h"
#include "api/router.h"
#include "api/app.h"
#include "api/totp.h"

#define TOKEN_DEFAULT_DAYS 90
#define TOKEN_MAX_DAYS 365
#define TOKEN_MAX_LIVE 100
#define TOKEN_MAX_WPS 50

/* --- the password job ------------------------------------------------------------- */

struct pwjob;
typedef void (*pwjob_finish_fn)(struct pwjob *j, bool alive);

struct pwjob {
	struct call *call;
	/* in */
	char *password;     /* to verify against `hash` */
	char *hash;         /* stored hash (or the dummy); NULL: hash only */
	char *new_password; /* to hash (after a successful verify, if any) */
	bool rehash;        /* hash `password` anew if `hash` is outdated */
	struct auth_argon2 params;
	/* out */
	bool verified;
	char *new_hash;
	enum err rc;
	char detail[256];
	/* the handler's */
	pwjob_finish_fn finish;
	struct auth_ticket ticket;
	int64_t user_id;
	char *email;
	char *totp;
	char *recovery;
	char *link; /* set-password: the link's secret */
	bool user_known, disabled, totp_enabled;
};

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static void pwjob_free(struct pwjob *j)
{
	wipe_free(j->password);
	free(j->hash);
	wipe_free(j->new_password);
	free(j->new_hash);
	free(j->email);
	wipe_free(j->totp);
	wipe_free(j->recovery);
	wipe_free(j->link);
	free(j);
}

/* On a pool thread: no database, no connection. */
static void pwjob_run(void *arg)
{
	struct pwjob *j = arg;

	if (j->hash)
		j->verified = auth_password_verify(j->hash, j->password);
	if (j->new_password && (!j->hash || j->verified))
		j->rc = auth_password_hash(j->new_password, &j->params, &j->new_hash);
	else if (j->rehash && j->verified && auth_password_outdated(j->hash, &j->params))
		j->rc = auth_password_hash(j->password, &j->params, &j->new_hash);
	if (j->rc)
		snprintf(j->detail, sizeof j->detail, "%s", err_detail());
}

static void pwjob_done(struct http_req *req, bool alive, void *arg)
{
	struct pwjob *j = arg;

	(void)req;
	if (j->rc)
		err_set(j->rc, "%s", j->detail);
	j->finish(j, alive);
	pwjob_free(j);
}

static struct pwjob *pwjob_new(struct call *call, pwjob_finish_fn finish)
{
	struct pwjob *j = calloc(1, sizeof *j);

	if (j) {
		j->call = call;
		j->finish = finish;
		auth_argon2_current(&j->params);
	}
	return j;
}

/* Queue the job; on failure answer the request and free the job. */
static void pwjob_submit(struct pwjob *j)
{
	struct call *call = j->call;
	enum err rc =
		jobs_submit_req(worker_jobs(call->worker), call->req, pwjob_run, pwjob_done, j);

	if (rc) {
		auth_throttle_release(&j->ticket);
		if (rc == ERR_LIMIT) {
			http_resp_header(call->req, "Retry-After", "1");
			reply_err(call->req,
				  err_set(ERR_BUSY, "the server is busy; try again shortly"));
		} else {
			reply_err(call->req, rc);
		}
		pwjob_free(j);
	}
}

static void reply_oom(struct call *call)
{
	reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
}

/* 429 with Retry-After, the same for every account and address. */
static void reply_throttled(struct call *call, unsigned retry_after)
{
	http_resp_headerf(call->req, "Retry-After", "%u", retry_after ? retry_after : 1);
	reply_err(call->req, ERR_LIMIT);
}

/* Check `password` against the caller's own account on a pool thread,
 * throttled like a login, and hash `new_password` (may be NULL) when it
 * matches; `finish` answers. The one setup of a password job for a
 * signed-in caller (password change, second-factor changes). Answers
 * the request itself when the job cannot start. */
static void caller_pwjob_with(struct call *call, pwjob_finish_fn finish, const char *password,
			      const char *new_password, const char *totp)
{
	struct pwjob *j = pwjob_new(call, finish);
	unsigned retry;
	bool oom = false;
	enum err rc;

	if (!j) {
		reply_oom(call);
		return;
	}
	if (auth_throttle_begin(call->caller->email, http_req_peer(call->req), &j->ticket,
				&retry)) {
		reply_throttled(call, retry);
		pwjob_free(j);
		return;
	}
	rc = acct_password_hash(worker_db(call->worker), call->caller->user_id, &j->hash);
	/* No password yet: checked against the dummy, so it takes as long. */
	if (!rc && !j->hash)
		j->hash = jobs_strdup(auth_dummy_hash(), &oom);
	j->password = jobs_strdup(password, &oom);
	j->new_password = jobs_strdup(new_password, &oom);
	j->totp = jobs_strdup(totp, &oom);
	j->totp_enabled = totp != NULL;
	if (rc || oom) {
		auth_throttle_release(&j->ticket);
		pwjob_free(j);
		if (rc)
			reply_err(call->req, rc);
		else
			reply_oom(call);
		return;
	}
	pwjob_submit(j);
}

static void caller_pwjob(struct call *call, pwjob_finish_fn finish, const char *password,
			 const char *new_password)
{
	caller_pwjob_with(call, finish, password, new_password, NULL);
}

/* The caller's user record as JSON for the caller. */
static json_t *self_json(struct call *call)
{
	struct acct_user u;
	json_t *o;

	if (acct_user_get(worker_db(call->worker), call->caller->user_id, &u))
		return NULL;
	o = apijson_user(&u, true);
	acct_user_clear(&u);
	return o;
}

/* --- POST /api/v1/session ------------------------------------------------------------- */

/* Every failed login answers 401 invalid_credentials; `why` goes only to
 * the audit, `detail` to the client. */
static void login_fail(struct pwjob *j, const char *why, const char *detail)
{
	struct call *call = j->call;
	unsigned locked = 0;

	auth_throttle_end(&j->ticket, false, &locked);
	if (locked)
		auth_audit_as(call, j->user_id, j->email, "login_failed", 0, "",
			      "%s; locked for %u s", why, locked);
	else
		auth_audit_as(call, j->user_id, j->email, "login_failed", 0, "", "%s", why);
	reply_err(call->req, err_set(ERR_CREDENTIALS, "%s", detail));
}

/* Check the second factor of a login whose password was right. Returns
 * the way it was passed ("totp", "recovery code"), or NULL after
 * answering. */
static const char *login_second_factor(struct pwjob *j)
{
	struct db *db = worker_db(j->call->worker);
	struct acct_totp t;
	unsigned char h[32];
	int64_t step;

	if (!j->totp && !j->recovery) {
		/* The password was right; the client asks for the code and
		 * sends both again. Neither a failure nor a success. */
		auth_throttle_release(&j->ticket);
		reply_err(j->call->req,
			  err_set(ERR_TOTP_REQUIRED,
				  "enter the one-time code from your authenticator app"));
		return NULL;
	}
	if (j->totp) {
		if (!acct_totp_get(db, j->user_id, &t) &&
		    totp_verify(t.secret, t.secret_len, j->totp, db_now(), t.last_step, &step) &&
		    !acct_totp_use_step(db, j->user_id, step)) {
			explicit_bzero(&t, sizeof t);
			return "password and one-time code";
		}
		explicit_bzero(&t, sizeof t);
		login_fail(j, "wrong or reused one-time code",
			   "wrong or already used one-time code");
		return NULL;
	}
	if (auth_recovery_hash(j->recovery, h) && !acct_recovery_use(db, j->user_id, h, db_now()))
		return "password and recovery code";
	login_fail(j, "wrong recovery code", "wrong or already used recovery code");
	return NULL;
}

static void login_finish(struct pwjob *j, bool alive)
{
	struct call *call = j->call;
	struct db *db = worker_db(call->worker);
	char token[AUTH_SECRET_LEN + 1], csrf[AUTH_SECRET_LEN + 1];
	const char *how = "password";
	struct acct_user u = {0};
	json_t *user;
	enum err rc;

	if (j->rc) {
		auth_throttle_release(&j->ticket);
		reply_err(call->req, j->rc);
		return;
	}
	/* One message for every way a password login fails, so the answer
	 * does not tell whether the email exists. */
	if (!j->user_known || !j->verified) {
		login_fail(j,
			   j->user_known ? "wrong password"
			   : j->user_id  ? "no password set yet"
					 : "unknown email",
			   "wrong email or password");
		return;
	}
	if (j->disabled) {
		login_fail(j, "account disabled", "wrong email or password");
		return;
	}
	if (j->totp_enabled) {
		how = login_second_factor(j);
		if (!how)
			return;
	}
	if (!alive) {
		auth_throttle_release(&j->ticket);
		return;
	}
	/* The session, the audit record and a rehashed password (the
	 * parameters were raised since this hash was made) commit together:
	 * one disk flush per login. */
	rc = db_begin(db);
	if (!rc && j->new_hash)
		rc = acct_password_set(db, j->user_id, j->new_hash, false, 0);
	if (!rc)
		rc = auth_session_start(call, j->user_id, token, csrf, NULL);
	if (!rc)
		rc = auth_audit_as(call, j->user_id, j->email, "login", 0, "", "%s%s", how,
				   j->new_hash ? "; password rehashed" : "");
	if (!rc)
		rc = acct_user_get(db, j->user_id, &u);
	if (!rc)
		rc = db_commit(db);
	if (rc)
		auth_throttle_release(&j->ticket);
	else
		auth_throttle_end(&j->ticket, true, NULL);
	if (rc) {
		db_rollback(db);
		acct_user_clear(&u);
		reply_err(call->req, rc);
		return;
	}
	auth_cookie_set(call, token);
	explicit_bzero(token, sizeof token);
	user = apijson_user(&u, true);
	reply_json(call->req, 200,
		   json_pack("{s:o, s:s, s:b}", "user", user, "csrf", csrf,
			     "totp_enrolment_required", u.totp_required && !u.totp_enabled));
	acct_user_clear(&u);
}

void h_session_create(struct call *call)
{
	const char *email = NULL, *password = NULL, *totp = NULL, *recovery = NULL;
	struct jsonin_field f[] = {
		{"email", JSONIN_STRING, JSONIN_REQUIRED, 1, 254, .out = &email},
		{"password", JSONIN_STRING, JSONIN_REQUIRED, 1, AUTH_PASSWORD_MAX,
		 .out = &password},
		{"totp", JSONIN_STRING, JSONIN_NULLABLE, 1, 16, .out = &totp},
		{"recovery_code", JSONIN_STRING, JSONIN_NULLABLE, 1, 32, .out = &recovery},
	};
	struct acct_login l;
	struct pwjob *j;
	unsigned retry;
	bool oom = false;
	enum err rc = jsonin_parse(call->json, f, sizeof f / sizeof f[0]);

	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	if (strlen(password) > AUTH_PASSWORD_MAX) {
		reply_err(call->req, err_set(ERR_INVALID, "field 'password' is too long"));
		return;
	}
	j = pwjob_new(call, login_finish);
	if (!j) {
		reply_oom(call);
		return;
	}
	if (auth_throttle_begin(email, http_req_peer(call->req), &j->ticket, &retry)) {
		reply_throttled(call, retry);
		pwjob_free(j);
		return;
	}
	rc = acct_login_lookup(worker_db(call->worker), email, &l);
	if (rc && rc != ERR_NOTFOUND) {
		auth_throttle_release(&j->ticket);
		reply_err(call->req, rc);
		pwjob_free(j);
		return;
	}
	j->user_known = rc == ERR_OK && l.password_hash;
	j->user_id = rc == ERR_OK ? l.user_id : 0;
	j->disabled = l.disabled;
	j->totp_enabled = l.totp_enabled;
	/* An unknown email (or an account without a password yet) is
	 * checked against a dummy hash: the answer takes as long. */
	j->hash = jobs_strdup(j->user_known ? l.password_hash : auth_dummy_hash(), &oom);
	j->rehash = j->user_known;
	/* The audit record names the email tried; a string that is no email
	 * at all may be a password typed into the wrong field, so it is not
	 * kept. */
	j->email = jobs_strdup(rc == ERR_OK                       ? l.email
			       : acct_check_email("email", email) ? "(not an email address)"
								  : email,
			       &oom);
	j->password = jobs_strdup(password, &oom);
	j->totp = jobs_strdup(totp, &oom);
	j->recovery = jobs_strdup(recovery, &oom);
	acct_login_clear(&l);
	if (oom || !j->hash) {
		auth_throttle_release(&j->ticket);
		pwjob_free(j);
		reply_oom(call);
		return;
	}
	pwjob_submit(j);
}

/* --- DELETE /api/v1/session ------------------------------------------------------------ */

void h_session_delete(struct call *call)
{
	enum err rc = acct_session_delete(worker_db(call->worker), call->caller->session_id);

	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	auth_audit(call, "logout", 0, "", NULL);
	auth_cookie_clear(call->req);
	reply_api_headers(call->req);
	http_resp_send(call->req, 204, NULL, 0);
}

/* --- POST /api/v1/session/confirm ---------------------------------------------------------- */

static void confirm_finish(struct pwjob *j, bool alive)
{
	struct call *call = j->call;
	struct db *db = worker_db(call->worker);
	int64_t now = db_now(), step;
	struct acct_totp t;
	bool code_ok;
	enum err rc;

	(void)alive;
	if (j->rc) {
		auth_throttle_release(&j->ticket);
		reply_err(call->req, j->rc);
		return;
	}
	if (!j->verified) {
		auth_throttle_end(&j->ticket, false, NULL);
		auth_audit(call, "reauth_failed", 0, "", "wrong password");
		reply_err(call->req, err_set(ERR_FORBIDDEN, "the password is wrong"));
		return;
	}
	if (j->totp_enabled) {
		code_ok = !acct_totp_get(db, call->caller->user_id, &t) &&
			  totp_verify(t.secret, t.secret_len, j->totp, now, t.last_step, &step) &&
			  !acct_totp_use_step(db, call->caller->user_id, step);
		explicit_bzero(&t, sizeof t);
		if (!code_ok) {
			auth_throttle_end(&j->ticket, false, NULL);
			auth_audit(call, "reauth_failed", 0, "", "wrong or reused one-time code");
			reply_err(call->req,
				  err_set(ERR_FORBIDDEN, "wrong or already used one-time code"));
			return;
		}
	}
	auth_throttle_end(&j->ticket, true, NULL);
	rc = db_begin(db);
	if (!rc)
		rc = acct_session_reauth(db, call->caller->session_id, now);
	if (!rc)
		rc = auth_audit(call, "reauth", 0, "",
				j->totp_enabled ? "password and one-time code" : "password");
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db);
		reply_err(call->req, rc);
		return;
	}
	reply_json(call->req, 200,
		   json_pack("{s:o}", "sudo_until", apijson_time(now + AUTH_SUDO_SECONDS)));
}

/* POST /api/v1/session/confirm {"password"[, "totp"]}: "confirm it is
 * you". The session may change credentials and privileges for
 * AUTH_SUDO_SECONDS from now (sudo mode, acl.c). Throttled like a
 * sign-in, on the same counters; every attempt is audited. */
void h_session_confirm(struct call *call)
{
	const char *password = NULL, *totp = NULL;
	struct jsonin_field f[] = {
		{"password", JSONIN_STRING, JSONIN_REQUIRED, 1, AUTH_PASSWORD_MAX,
		 .out = &password},
		{"totp", JSONIN_STRING, JSONIN_NULLABLE, 6, 6, .out = &totp},
	};
	enum err rc = jsonin_parse(call->json, f, 2);

	if (!rc && call->caller->totp_enabled && !totp)
		rc = err_set(ERR_INVALID, "field 'totp' is required: this account has a second "
					  "factor");
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	caller_pwjob_with(call, confirm_finish, password, NULL,
			  call->caller->totp_enabled ? totp : NULL);
}

/* --- GET /api/v1/me ----------------------------------------------------------------------- */

void h_me(struct call *call)
{
	json_t *user = self_json(call), *o;

	if (!user) {
		reply_err(call->req, ERR_DB);
		return;
	}
	o = json_pack("{s:o, s:s, s:b}", "user", user, "auth",
		      call->by_cookie ? "session" : "token", "totp_enrolment_required",
		      call->caller->totp_pending);
	/* The page reloads, the cookie stays, the CSRF token is gone from
	 * the app's memory: it asks here. Same-origin only (no CORS). */
	if (o && call->caller->csrf)
		json_object_set_new(o, "csrf", json_string(call->caller->csrf));
	/* Until when this session may change credentials (sudo mode). */
	if (o && call->by_cookie)
		json_object_set_new(o, "sudo_until",
				    apijson_time(call->caller->reauth_at + AUTH_SUDO_SECONDS));
	reply_json(call->req, 200, o);
}

/* --- POST /api/v1/me/password ---------------------------------------------------------------- */

static void password_finish(struct pwjob *j, bool alive)
{
	struct call *call = j->call;
	struct db *db = worker_db(call->worker);
	char token[AUTH_SECRET_LEN + 1], csrf[AUTH_SECRET_LEN + 1];
	enum err rc;

	if (j->rc) {
		auth_throttle_release(&j->ticket);
		reply_err(call->req, j->rc);
		return;
	}
	if (!j->verified) {
		auth_throttle_end(&j->ticket, false, NULL);
		auth_audit(call, "password_change_failed", 0, "", "wrong current password");
		reply_err(call->req, err_set(ERR_FORBIDDEN, "the current password is wrong"));
		return;
	}
	auth_throttle_end(&j->ticket, true, NULL);
	/* Every session ends, this one included; the caller gets a fresh
	 * one in the answer. All in one transaction with the audit record. */
	rc = db_begin(db);
	if (!rc)
		rc = acct_password_set(db, call->caller->user_id, j->new_hash, true, 0);
	if (!rc)
		rc = auth_audit(call, "password_change", 0, "", "all sessions ended");
	if (!rc && alive)
		rc = auth_session_start(call, call->caller->user_id, token, csrf, NULL);
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db);
		reply_err(call->req, rc);
		return;
	}
	if (alive) {
		auth_cookie_set(call, token);
		explicit_bzero(token, sizeof token);
		reply_json(call->req, 200,
			   json_pack("{s:o*, s:s}", "user", self_json(call), "csrf", csrf));
	}
}

void h_me_password(struct call *call)
{
	const char *current = NULL, *next = NULL;
	struct jsonin_field f[] = {
		{"current", JSONIN_STRING, JSONIN_REQUIRED, 1, AUTH_PASSWORD_MAX, .out = &current},
		{"new", JSONIN_STRING, JSONIN_REQUIRED, 1, AUTH_PASSWORD_MAX, .out = &next},
	};
	enum err rc = jsonin_parse(call->json, f, 2);

	if (!rc)
		rc = auth_password_policy(next, call->caller->email);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	caller_pwjob(call, password_finish, current, next);
}

/* --- second factor -------------------------------------------------------------------------- */

/* POST /api/v1/me/totp: a new secret to scan; enabled by confirm. */
void h_totp_begin(struct call *call)
{
	struct db *db = worker_db(call->worker);
	unsigned char secret[TOTP_SECRET_LEN];
	char *b32 = NULL, *uri = NULL;
	enum err rc;

	if (call->caller->totp_enabled) {
		reply_err(call->req,
			  err_set(ERR_CONFLICT,
				  "a second factor is already enabled; disable it first"));
		return;
	}
	rc = digest_random(secret, sizeof secret);
	if (!rc)
		rc = acct_totp_begin(db, call->caller->user_id, secret, sizeof secret);
	if (rc) {
		reply_err(call->req, rc);
		goto out;
	}
	b32 = totp_base32(secret, sizeof secret);
	uri = totp_uri("consort", call->caller->email, secret, sizeof secret);
	if (!b32 || !uri) {
		reply_oom(call);
		goto out;
	}
	reply_json(call->req, 200,
		   json_pack("{s:s, s:s, s:i, s:i}", "secret", b32, "uri", uri, "digits",
			     TOTP_DIGITS, "period", TOTP_PERIOD));
out:
	explicit_bzero(secret, sizeof secret);
	free(b32);
	free(uri);
}

static json_t *codes_json(char codes[AUTH_RECOVERY_CODES][AUTH_RECOVERY_LEN + 1])
{
	json_t *a = json_array();

	for (int i = 0; a && i < AUTH_RECOVERY_CODES; i++)
		json_array_append_new(a, json_string(codes[i]));
	return a;
}

/* POST /api/v1/me/totp/confirm {"code"}: the first code from the app
 * proves the secret was stored; the second factor is on from now and
 * the recovery codes are shown once. */
void h_totp_confirm(struct call *call)
{
	struct db *db = worker_db(call->worker);
	const char *code = NULL;
	struct jsonin_field f[] = {
		{"code", JSONIN_STRING, JSONIN_REQUIRED, 6, 6, .out = &code},
	};
	char codes[AUTH_RECOVERY_CODES][AUTH_RECOVERY_LEN + 1];
	unsigned char hashes[AUTH_RECOVERY_CODES][32];
	struct acct_totp t;
	int64_t step;
	enum err rc = jsonin_parse(call->json, f, 1);

	if (!rc)
		rc = acct_totp_get(db, call->caller->user_id, &t);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	if (!t.pending_len) {
		reply_err(call->req,
			  err_set(ERR_CONFLICT,
				  "no enrolment is under way (POST /api/v1/me/totp first)"));
		goto out;
	}
	if (!totp_verify(t.pending, t.pending_len, code, db_now(), 0, &step)) {
		reply_err(call->req,
			  err_set(ERR_INVALID,
				  "field 'code' does not match; check the device's clock"));
		goto out;
	}
	rc = auth_recovery_new(codes, hashes);
	if (!rc)
		rc = db_begin(db);
	if (!rc) {
		rc = acct_totp_enable(db, call->caller->user_id, step,
				      (const unsigned char(*)[ACCT_HASH_LEN])hashes,
				      AUTH_RECOVERY_CODES);
		if (!rc)
			rc = auth_audit(call, "totp_enable", 0, "", NULL);
		if (!rc)
			rc = auth_notice(call, call->caller->user_id, call->caller->email,
					 "second factor enabled");
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	if (rc)
		reply_err(call->req, rc);
	else
		reply_json(call->req, 200, json_pack("{s:o}", "recovery_codes", codes_json(codes)));
	explicit_bzero(codes, sizeof codes);
out:
	explicit_bzero(&t, sizeof t);
}

static void totp_disable_finish(struct pwjob *j, bool alive)
{
	struct call *call = j->call;
	struct db *db = worker_db(call->worker);
	enum err rc;

	(void)alive;
	auth_throttle_end(&j->ticket, j->verified, NULL);
	if (!j->verified) {
		auth_audit(call, "totp_disable_failed", 0, "", "wrong password");
		reply_err(call->req, err_set(ERR_FORBIDDEN, "the password is wrong"));
		return;
	}
	rc = db_begin(db);
	if (!rc)
		rc = acct_totp_disable(db, call->caller->user_id);
	if (!rc)
		rc = auth_audit(call, "totp_disable", 0, "", NULL);
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db);
		reply_err(call->req, rc);
		return;
	}
	reply_api_headers(call->req);
	http_resp_send(call->req, 204, NULL, 0);
}

static void recovery_finish(struct pwjob *j, bool alive)
{
	struct call *call = j->call;
	struct db *db = worker_db(call->worker);
	char codes[AUTH_RECOVERY_CODES][AUTH_RECOVERY_LEN + 1];
	unsigned char hashes[AUTH_RECOVERY_CODES][32];
	enum err rc;

	auth_throttle_end(&j->ticket, j->verified, NULL);
	if (!j->verified) {
		auth_audit(call, "recovery_codes_failed", 0, "", "wrong password");
		reply_err(call->req, err_set(ERR_FORBIDDEN, "the password is wrong"));
		return;
	}
	if (!alive)
		return; /* the new codes could not be shown: keep the old ones */
	rc = auth_recovery_new(codes, hashes);
	if (!rc)
		rc = db_begin(db);
	if (!rc) {
		rc = acct_recovery_set(db, call->caller->user_id,
				       (const unsigned char(*)[ACCT_HASH_LEN])hashes,
				       AUTH_RECOVERY_CODES);
		if (!rc)
			rc = auth_audit(call, "recovery_codes", 0, "", "new set of %d",
					AUTH_RECOVERY_CODES);
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	if (rc)
		reply_err(call->req, rc);
	else
		reply_json(call->req, 200, json_pack("{s:o}", "recovery_codes", codes_json(codes)));
	explicit_bzero(codes, sizeof codes);
}

/* Shared by disable and new recovery codes: {"password"} re-proves the
 * person at the keyboard before the second factor changes. */
static void reauth(struct call *call, pwjob_finish_fn finish)
{
	const char *password = NULL;
	struct jsonin_field f[] = {
		{"password", JSONIN_STRING, JSONIN_REQUIRED, 1, AUTH_PASSWORD_MAX,
		 .out = &password},
	};
	enum err rc = jsonin_parse(call->json, f, 1);

	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	if (!call->caller->totp_enabled) {
		reply_err(call->req, err_set(ERR_CONFLICT, "no second factor is enabled"));
		return;
	}
	if (finish == totp_disable_finish) {
		struct acct_totp t;

		rc = acct_totp_get(worker_db(call->worker), call->caller->user_id, &t);
		explicit_bzero(t.secret, sizeof t.secret);
		if (!rc && t.required) {
			reply_err(
				call->req,
				err_set(ERR_FORBIDDEN,
					"a coordinator requires a second factor for this account"));
			return;
		}
	}
	caller_pwjob(call, finish, password, NULL);
}

void h_totp_disable(struct call *call) { reauth(call, totp_disable_finish); }

void h_recovery_codes(struct call *call) { reauth(call, recovery_finish); }

/* --- API tokens ---------------------------------------------------------------------------- */

static const char *token_state(const struct acct_token *t, int64_t now)
{
	if (t->revoked_at)
		return "revoked";
	if (t->expires_at && now >= t->expires_at)
		return "expired";
	return "active";
}

/* A token's work packages as the API shows them: null for every work
 * package, else the codes (an empty list once they are all gone). */
static json_t *wps_json(const struct acct_token *t)
{
	json_t *a;
	const char *p, *comma;

	if (!t->wp_limited)
		return json_null();
	a = json_array();
	for (p = t->wps; a && p && *p; p = comma ? comma + 1 : p + strlen(p)) {
		comma = strchr(p, ',');
		json_array_append_new(a, json_stringn(p, comma ? (size_t)(comma - p) : strlen(p)));
	}
	return a;
}

/* The "wps" member of a token request: the work packages the token is
 * limited to, each one the caller can read (one it cannot is reported
 * exactly like one that does not exist). Fills scope->wp_ids (malloc'd,
 * the caller frees) and scope->nwps. */
static enum err token_wps_parse(struct call *call, const json_t *wps,
				struct acct_token_scope *scope, int64_t **ids)
{
	size_t n = json_array_size(wps), i;
	enum err rc = ERR_OK;

	*ids = NULL;
	if (!json_is_array(wps))
		return err_set(ERR_INVALID, "field 'wps' must be a list of work package codes");
	if (n == 0 || n > TOKEN_MAX_WPS)
		return err_set(ERR_INVALID,
			       "field 'wps' must name 1 to %d work packages (leave it out for all)",
			       TOKEN_MAX_WPS);
	*ids = calloc(n, sizeof **ids);
	if (!*ids)
		return err_set(ERR_NOMEM, "out of memory");
	for (i = 0; !rc && i < n; i++) {
		const char *code = json_string_value(json_array_get(wps, i));

		if (!code || !*code || strlen(code) > 32)
			rc = err_set(ERR_INVALID,
				     "field 'wps': item %zu is not a work package code", i + 1);
		else if (acl_wp_decide(worker_db(call->worker), call->caller, code, 0, ACCT_READ,
				       &(*ids)[i], NULL))
			rc = err_set(ERR_INVALID, "field 'wps': no work package '%s'", code);
	}
	if (rc) {
		free(*ids);
		*ids = NULL;
		return rc;
	}
	scope->wp_limited = true;
	scope->wp_ids = *ids;
	scope->nwps = n;
	return ERR_OK;
}

/* GET /api/v1/tokens: the caller's tokens with their last use. */
void h_tokens_list(struct call *call)
{
	struct acct_token *ts;
	size_t n;
	int64_t now = db_now();
	json_t *arr;
	enum err rc = acct_token_list(worker_db(call->worker), call->caller->user_id, &ts, &n);

	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(
			arr,
			json_pack("{s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:b, s:s, s:o}", "id",
				  (json_int_t)ts[i].id, "name", ts[i].name, "state",
				  token_state(&ts[i], now), "created_at",
				  apijson_time(ts[i].created_at), "expires_at",
				  apijson_time(ts[i].expires_at), "last_used_at",
				  apijson_time(ts[i].last_used_at), "revoked_at",
				  apijson_time(ts[i].revoked_at), "current",
				  ts[i].id == call->caller->token_id, "scope",
				  ts[i].read_only ? "read" : "write", "wps", wps_json(&ts[i])));
	acct_tokens_free(ts, n);
	reply_json(call->req, 200, json_pack("{s:o}", "tokens", arr));
}

/* POST /api/v1/tokens {"name"[, "expires_days"][, "scope"][, "wps"]}:
 * the token is in this answer and nowhere else, ever. "scope" is "read"
 * or "write" (the default, as tokens were before scopes); "wps" limits
 * it to those work packages. Sudo mode (acl.c): a stolen session cookie
 * alone cannot mint a lasting credential. */
void h_token_create(struct call *call)
{
	static const char *const scopes[] = {"read", "write", NULL};
	struct db *db = worker_db(call->worker);
	const char *name = NULL;
	int64_t days = TOKEN_DEFAULT_DAYS, id, expires, *wp_ids = NULL;
	int scope_ix = 1;
	struct jsonin_field f[] = {
		{"name", JSONIN_STRING, JSONIN_REQUIRED, 1, 100, .out = &name},
		{"expires_days", JSONIN_INT, JSONIN_NULLABLE, 1, TOKEN_MAX_DAYS, .out = &days},
		{"scope", JSONIN_ENUM, JSONIN_NULLABLE, 0, 0, .choices = scopes, .out = &scope_ix},
	};
	struct acct_token_scope scope = {0};
	json_t *rest = json_copy(call->json), *wps = json_object_get(call->json, "wps");
	char token[AUTH_TOKEN_LEN + 1];
	unsigned char hash[32];
	struct acct_token *ts;
	size_t n, live = 0;
	enum err rc = rest ? ERR_OK : err_set(ERR_NOMEM, "out of memory");

	/* "wps" is a list, which the field table does not describe. */
	if (!rc) {
		json_object_del(rest, "wps");
		rc = jsonin_parse(rest, f, 3);
	}
	json_decref(rest);
	scope.read_only = scope_ix == 0;
	if (!rc && wps && !json_is_null(wps))
		rc = token_wps_parse(call, wps, &scope, &wp_ids);
	if (!rc)
		rc = acct_token_list(db, call->caller->user_id, &ts, &n);
	if (rc) {
		free(wp_ids);
		reply_err(call->req, rc);
		return;
	}
	for (size_t i = 0; i < n; i++)
		live += !strcmp(token_state(&ts[i], db_now()), "active");
	acct_tokens_free(ts, n);
	if (live >= TOKEN_MAX_LIVE) {
		free(wp_ids);
		reply_err(call->req,
			  err_set(ERR_CONFLICT, "at most %d active tokens; revoke some first",
				  TOKEN_MAX_LIVE));
		return;
	}
	memcpy(token, AUTH_TOKEN_PREFIX, sizeof AUTH_TOKEN_PREFIX - 1);
	rc = auth_secret_new(token + sizeof AUTH_TOKEN_PREFIX - 1);
	if (rc) {
		free(wp_ids);
		reply_err(call->req, rc);
		return;
	}
	auth_secret_hash(token, hash);
	expires = db_now() + days * 86400;
	rc = db_begin(db);
	if (!rc)
		rc = acct_token_create(db, call->caller->user_id, name, hash, expires, &scope, &id);
	if (!rc)
		rc = auth_audit(call, "token_create", 0, name, "expires in %lld days; scope %s; %s",
				(long long)days, scopes[scope_ix],
				scope.wp_limited ? "limited to some work packages"
						 : "every work package");
	if (!rc)
		rc = auth_notice(call, call->caller->user_id, call->caller->email,
				 "API token '%s' created (scope %s)", name, scopes[scope_ix]);
	if (!rc)
		rc = mail_account(db, call->caller->user_id, MAIL_NEW_TOKEN, name);
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db);
		reply_err(call->req, rc);
	} else {
		reply_json(call->req, 201,
			   json_pack("{s:I, s:s, s:s, s:o, s:s, s:o}", "id", (json_int_t)id, "name",
				     name, "token", token, "expires_at", apijson_time(expires),
				     "scope", scopes[scope_ix], "wps",
				     scope.wp_limited ? json_deep_copy(wps) : json_null()));
	}
	free(wp_ids);
	explicit_bzero(token, sizeof token);
}

/* DELETE /api/v1/tokens/{id}: revoke one of the caller's tokens. */
void h_token_revoke(struct call *call)
{
	struct db *db = worker_db(call->worker);
	int64_t id;
	char *name = NULL;
	enum err rc;

	if (!apijson_parse_id(call_param(call, "id"), &id)) {
		reply_err(call->req, err_set(ERR_NOTFOUND, "no such token"));
		return;
	}
	rc = db_begin(db);
	if (!rc)
		rc = acct_token_revoke(db, call->caller->user_id, id, db_now(), &name);
	if (!rc)
		rc = auth_audit(call, "token_revoke", 0, name, NULL);
	if (!rc)
		rc = db_commit(db);
	free(name);
	if (rc) {
		db_rollback(db);
		reply_err(call->req, rc);
		return;
	}
	reply_api_headers(call->req);
	http_resp_send(call->req, 204, NULL, 0);
}

/* --- POST /api/v1/set-password -------------------------------------------------------------- */

static void set_password_finish(struct pwjob *j, bool alive)
{
	struct call *call = j->call;
	struct db *db = worker_db(call->worker);
	unsigned char hash[32];
	int64_t uid;
	enum err rc;

	(void)alive;
	if (j->rc) {
		reply_err(call->req, j->rc);
		return;
	}
	/* The link is consumed in the same transaction that sets the
	 * password, so two racing uses cannot both succeed. */
	auth_secret_hash(j->link, hash);
	rc = db_begin(db);
	if (!rc)
		rc = acct_link_check(db, hash, db_now(), true, &uid);
	if (!rc && uid != j->user_id)
		rc = err_set(ERR_NOTFOUND, "the link is unknown, used or expired");
	if (!rc)
		rc = acct_password_set(db, uid, j->new_hash, true, 0);
	if (!rc)
		rc = auth_audit_as(call, uid, j->email, "password_set", 0, "", "by one-time link");
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db);
		reply_err(call->req, rc);
		return;
	}
	reply_json(call->req, 200, json_pack("{s:s}", "email", j->email));
}

void h_set_password(struct call *call)
{
	struct db *db = worker_db(call->worker);
	const char *token = NULL, *password = NULL;
	struct jsonin_field f[] = {
		{"token", JSONIN_STRING, JSONIN_REQUIRED, AUTH_SECRET_LEN, AUTH_SECRET_LEN,
		 .out = &token},
		{"password", JSONIN_STRING, JSONIN_REQUIRED, 1, AUTH_PASSWORD_MAX,
		 .out = &password},
	};
	unsigned char hash[32];
	struct acct_user u = {0};
	struct pwjob *j;
	int64_t uid;
	bool oom = false;
	enum err rc = jsonin_parse(call->json, f, 2);

	if (!rc) {
		auth_secret_hash(token, hash);
		rc = acct_link_check(db, hash, db_now(), false, &uid);
	}
	if (!rc)
		rc = acct_user_get(db, uid, &u);
	if (!rc)
		rc = auth_password_policy(password, u.email);
	if (rc) {
		acct_user_clear(&u);
		reply_err(call->req, rc);
		return;
	}
	j = pwjob_new(call, set_password_finish);
	if (!j) {
		acct_user_clear(&u);
		reply_oom(call);
		return;
	}
	j->user_id = uid;
	j->email = jobs_strdup(u.email, &oom);
	j->link = jobs_strdup(token, &oom);
	j->new_password = jobs_strdup(password, &oom);
	acct_user_clear(&u);
	if (oom) {
		pwjob_free(j);
		reply_oom(call);
		return;
	}
	pwjob_submit(j);
}
