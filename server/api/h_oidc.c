/*
 * h_oidc — signing in through an OpenID provider (api/oidc.h does the
 * protocol) and the coordinators' queue of people a provider vouched
 * for who have no account yet.
 *
 * The browser navigates: GET /api/v1/auth/oidc/{provider} redirects to
 * the provider with a fresh state, nonce and PKCE challenge, kept in
 * oidc_flows and bound to this browser by a cookie (SameSite=Lax, so it
 * comes back with the provider's top-level redirect); the callback takes
 * the flow out (a state works once), checks the cookie, and a job
 * exchanges the code and validates the ID token off the event loop. The
 * jobs that talk to a provider run on the I/O pool (io-threads), whose
 * threads are made for waiting: a slow provider cannot hold up password
 * hashing on the CPU pool.
 * Every outcome that is not a session ends on the app with a reason in
 * the fragment (#signin-error=..., #signin-pending, #signin-totp=...),
 * which the app words; the details go to the audit and the log.
 *
 * A session started here is answered with a tiny page that moves on to
 * the app: the session cookie is SameSite=Strict, and a redirect chain
 * that began on the provider's site would not send it yet.
 */
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "accounts.h"
#include "api/apijson.h"
#include "api/app.h"
#include "api/auth.h"
#include "api/config.h"
#include "api/handlers.h"
#include "api/mail.h"
#include "api/oidc.h"
#include "api/router.h"
#include "api/totp.h"
#include "db.h"
#include "http/http.h"
#include "http/jobs.h"
#include "http/jsonin.h"
#include "http/log.h"
#include "http/reply.h"
#include "oidcstore.h"

#define BROWSER_COOKIE "__Host-consort-oidc"
#define FLOW_TTL_S 600   /* from the redirect to the provider to the callback */
#define TICKET_TTL_S 300 /* to type the one-time code after the provider */

/* --- small helpers ----------------------------------------------------------------------- */

static void back_to_app(struct call *call, const char *fragment)
{
	http_resp_headerf(call->req, "Location", "/#%s", fragment);
	http_resp_header(call->req, "Cache-Control", "no-store");
	http_resp_send(call->req, 302, NULL, 0);
}

static void hash_secret(const char *s, unsigned char out[OIDC_HASH_LEN])
{
	auth_secret_hash(s, out);
}

/* Our browser-binding cookie in the request, or NULL. */
static const char *browser_cookie(struct call *call)
{
	const char *h = http_req_header(call->req, "Cookie");
	size_t nlen = strlen(BROWSER_COOKIE);

	while (h && *h) {
		while (*h == ' ' || *h == ';')
			h++;
		if (!strncmp(h, BROWSER_COOKIE, nlen) && h[nlen] == '=') {
			const char *v = h + nlen + 1;
			size_t len = strcspn(v, "; ");

			return len == AUTH_SECRET_LEN ? http_req_strndup(call->req, v, len) : NULL;
		}
		h = strchr(h, ';');
	}
	return NULL;
}

/* The partner short name `org` maps to by "value=SHORT, ...", or NULL. */
static char *map_partner(const char *map, const char *org)
{
	size_t olen;

	if (!map || !org)
		return NULL;
	olen = strlen(org);
	while (*map) {
		const char *end = strchr(map, ','), *eq;
		size_t len;

		while (*map == ' ')
			map++;
		len = end ? (size_t)(end - map) : strlen(map);
		eq = memchr(map, '=', len);
		if (eq) {
			size_t klen = (size_t)(eq - map), vlen;
			const char *v = eq + 1;

			while (klen && map[klen - 1] == ' ')
				klen--;
			while (*v == ' ' && v < map + len)
				v++;
			vlen = (size_t)(map + len - v);
			while (vlen && v[vlen - 1] == ' ')
				vlen--;
			if (klen == olen && !strncasecmp(map, org, olen) && vlen)
				return strndup(v, vlen);
		}
		if (!end)
			break;
		map = end + 1;
	}
	return NULL;
}

/* Whether `email`'s domain is one of the provider's (any when unset). */
static bool domain_allowed(const struct oidc_provider_conf *p, const char *email)
{
	const char *at, *list = p->email_domains;

	if (!list)
		return true;
	at = email ? strrchr(email, '@') : NULL;
	if (!at)
		return false;
	at++;
	while (*list) {
		const char *end = strchr(list, ',');
		size_t len;

		while (*list == ' ')
			list++;
		len = end ? (size_t)(end - list) : strlen(list);
		while (len && list[len - 1] == ' ')
			len--;
		if (len && strlen(at) == len && !strncasecmp(at, list, len))
			return true;
		if (!end)
			break;
		list = end + 1;
	}
	return false;
}

/* --- GET /api/v1/auth/oidc -------------------------------------------------------------- */

void h_oidc_providers(struct call *call)
{
	json_t *list = json_array();
	const struct oidc_provider_conf *p;

	for (size_t i = 0; (p = oidc_provider_at(i)); i++)
		json_array_append_new(list, json_pack("{s:s, s:s}", "name", p->name, "title",
						      p->title ? p->title : p->name));
	reply_json(call->req, 200, json_pack("{s:o}", "providers", list));
}

/* --- GET /api/v1/auth/oidc/{provider} ------------------------------------------------------ */

struct startjob {
	struct call *call;
	const struct oidc_provider_conf *p;
	char state[AUTH_SECRET_LEN + 1];
	char nonce[AUTH_SECRET_LEN + 1];
	char verifier[AUTH_SECRET_LEN + 1];
	char browser[AUTH_SECRET_LEN + 1];
	char challenge[44];
	char *url;
	enum err rc;
	char detail[256];
};

static void start_run(void *arg)
{
	struct startjob *j = arg;

	j->rc = oidc_authorize_url(j->p, j->state, j->nonce, j->challenge, &j->url);
	if (j->rc)
		snprintf(j->detail, sizeof j->detail, "%s", err_detail());
}

static void start_done(struct http_req *req, bool alive, void *arg)
{
	struct startjob *j = arg;
	struct call *call = j->call;
	struct oidc_flow f = {0};
	unsigned char state_hash[OIDC_HASH_LEN];
	enum err rc = j->rc;

	(void)req;
	if (rc) {
		log_event(LOG_WARN, "oidc_unavailable", "provider %s: %s", j->p->name, j->detail);
		if (alive)
			back_to_app(call, "signin-error=unavailable");
		goto out;
	}
	if (!alive)
		goto out;
	f.provider = (char *)j->p->name;
	f.nonce = j->nonce;
	f.verifier = j->verifier;
	f.expires_at = db_now() + FLOW_TTL_S;
	hash_secret(j->browser, f.browser_hash);
	hash_secret(j->state, state_hash);
	rc = oidc_flow_put(worker_db(call->worker), state_hash, &f);
	if (rc) {
		reply_err(call->req, rc);
		goto out;
	}
	http_resp_headerf(call->req, "Set-Cookie",
			  BROWSER_COOKIE "=%s; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=%d",
			  j->browser, FLOW_TTL_S);
	http_resp_headerf(call->req, "Location", "%s", j->url);
	http_resp_header(call->req, "Cache-Control", "no-store");
	http_resp_send(call->req, 302, NULL, 0);
out:
	explicit_bzero(j->verifier, sizeof j->verifier);
	free(j->url);
	free(j);
}

void h_oidc_start(struct call *call)
{
	const struct oidc_provider_conf *p = oidc_provider_find(call_param(call, "provider"));
	struct startjob *j;
	enum err rc;

	if (!p) {
		reply_err(call->req, err_set(ERR_NOTFOUND, "no such sign-in provider"));
		return;
	}
	j = calloc(1, sizeof *j);
	if (!j) {
		reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
		return;
	}
	j->call = call;
	j->p = p;
	rc = auth_secret_new(j->state);
	if (!rc)
		rc = auth_secret_new(j->nonce);
	if (!rc)
		rc = auth_secret_new(j->verifier);
	if (!rc)
		rc = auth_secret_new(j->browser);
	if (!rc) {
		oidc_pkce_challenge(j->verifier, j->challenge);
		rc = jobs_submit_req_on(worker_io(call->worker), worker_jobs(call->worker),
					call->req, start_run, start_done, j);
	}
	if (rc) {
		if (rc == ERR_LIMIT)
			rc = err_set(ERR_BUSY, "the server is busy; try again shortly");
		reply_err(call->req, rc);
		free(j);
	}
}

/* --- GET /api/v1/auth/oidc/callback ---------------------------------------------------------- */

struct cbjob {
	struct call *call;
	const struct oidc_provider_conf *p;
	char *code;
	struct oidc_flow flow;
	struct oidc_identity id;
	struct auth_ticket ticket;
	enum err rc;
	char detail[256];
};

static void cb_run(void *arg)
{
	struct cbjob *j = arg;

	j->rc = oidc_exchange(j->p, j->code, j->flow.verifier, j->flow.nonce, &j->id);
	if (j->rc)
		snprintf(j->detail, sizeof j->detail, "%s", err_detail());
}

/* Refuse a sign-in: audit it (about `user_id`/`email` when known) and
 * send the browser back to the app with `reason`. */
static void cb_refuse(struct cbjob *j, int64_t user_id, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void cb_refuse(struct cbjob *j, int64_t user_id, const char *reason, const char *fmt, ...)
{
	char why[512], frag[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	auth_audit_as(j->call, user_id, j->id.email ? j->id.email : "", "login_failed", 0, "",
		      "oidc %s subject %s: %s", j->p->name, j->id.subject ? j->id.subject : "-",
		      why);
	snprintf(frag, sizeof frag, "signin-error=%s", reason);
	back_to_app(j->call, frag);
}

/* The tiny page that moves on to the app once the session cookie is set. */
static void reply_continue(struct call *call)
{
	static const char page[] = "<!doctype html><html><head><meta charset=\"utf-8\">"
				   "<meta http-equiv=\"refresh\" content=\"0;url=/\">"
				   "<title>consort</title></head><body>"
				   "<p><a href=\"/\">Continue to consort</a></p></body></html>\n";

	http_resp_header(call->req, "Content-Type", "text/html; charset=utf-8");
	http_resp_header(call->req, "Content-Security-Policy", "default-src 'none'");
	http_resp_header(call->req, "Cache-Control", "no-store");
	http_resp_header(call->req, "Referrer-Policy", "no-referrer");
	http_resp_send(call->req, 200, page, sizeof page - 1);
}

/* Start the session of a sign-in that passed (the provider's MFA, or
 * the local code after it) and answer. JSON for the code step, else
 * the continue page. */
static enum err oidc_session(struct call *call, int64_t user_id, const char *email,
			     const char *provider, const char *subject, const char *sid,
			     const char *how, bool mfa, bool json)
{
	struct db *db = worker_db(call->worker);
	char token[AUTH_SECRET_LEN + 1], csrf[AUTH_SECRET_LEN + 1];
	struct acct_user u = {0};
	int64_t session_id = 0;
	enum err rc = db_begin(db);

	if (!rc)
		rc = auth_session_start(call, user_id, token, csrf, &session_id);
	if (!rc)
		rc = oidc_session_mark(db, session_id, provider, sid, mfa);
	if (!rc)
		rc = oidc_link_touch(db, provider, subject);
	if (!rc)
		rc = auth_audit_as(call, user_id, email, "login", 0, "", "oidc %s subject %s; %s",
				   provider, subject, how);
	if (!rc && json)
		rc = acct_user_get(db, user_id, &u);
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db);
		acct_user_clear(&u);
		return rc;
	}
	auth_cookie_set(call, token);
	explicit_bzero(token, sizeof token);
	if (json) {
		json_t *user = apijson_user(&u, true);

		reply_json(call->req, 200,
			   json_pack("{s:o, s:s, s:b}", "user", user, "csrf", csrf,
				     "totp_enrolment_required",
				     u.totp_required && !u.totp_enabled));
	} else {
		reply_continue(call);
	}
	acct_user_clear(&u);
	return ERR_OK;
}

/* Tell every enabled coordinator that `p` waits, in the caller's
 * transaction: the mail goes only if the queue entry is kept. */
static enum err mail_coordinators(struct db *db, const struct oidc_pending *p,
				  const char *provider_title)
{
	struct acct_user *users = NULL;
	size_t n = 0;
	char who[1024];
	enum err rc = acct_user_list(db, &users, &n);

	if (rc)
		return rc;
	if (p->name && strcmp(p->name, p->email))
		snprintf(who, sizeof who, "%s <%s> via %s", p->name, p->email, provider_title);
	else
		snprintf(who, sizeof who, "<%s> via %s", p->email, provider_title);
	for (size_t i = 0; i < n && !rc; i++)
		if (users[i].coordinator && !users[i].disabled)
			rc = mail_account(db, users[i].id, MAIL_SIGNUP, who);
	acct_users_free(users, n);
	return rc;
}

/* A person with no account: into the coordinators' queue. */
static void cb_pending(struct cbjob *j)
{
	struct db *db = worker_db(j->call->worker);
	struct oidc_pending p = {0};
	int64_t id = 0;
	bool is_new = false;
	enum err rc;

	p.provider = (char *)j->p->name;
	p.subject = j->id.subject;
	p.email = j->id.email;
	p.name = j->id.name ? j->id.name : j->id.email;
	p.org = j->id.org;
	p.partner_hint = map_partner(j->p->partner_map, j->id.org);
	rc = db_begin(db);
	if (!rc)
		rc = oidc_pending_put(db, &p, &id, &is_new);
	if (!rc && is_new)
		rc = auth_audit_as(j->call, 0, j->id.email, "signup_request", 0, j->id.email,
				   "oidc %s subject %s%s%s", j->p->name, j->id.subject,
				   j->id.org ? "; organisation " : "", j->id.org ? j->id.org : "");
	if (!rc && is_new)
		rc = mail_coordinators(db, &p, j->p->title ? j->p->title : j->p->name);
	if (!rc)
		rc = db_commit(db);
	free(p.partner_hint);
	if (rc) {
		db_rollback(db);
		reply_err(j->call->req, rc);
		return;
	}
	back_to_app(j->call, "signin-pending");
}

static void cb_done(struct http_req *req, bool alive, void *arg)
{
	struct cbjob *j = arg;
	struct call *call = j->call;
	struct db *db = worker_db(call->worker);
	struct acct_user u = {0};
	int64_t user_id = 0;
	bool linked = false;
	enum err rc;

	(void)req;
	if (!alive) {
		auth_throttle_release(&j->ticket);
		goto out;
	}
	if (j->rc) {
		bool down = j->rc == ERR_BAD_GATEWAY || j->rc == ERR_NOMEM;

		if (down) {
			auth_throttle_release(&j->ticket);
			log_event(LOG_WARN, "oidc_unavailable", "provider %s: %s", j->p->name,
				  j->detail);
		} else {
			auth_throttle_end(&j->ticket, false, NULL);
		}
		cb_refuse(j, 0, down ? "unavailable" : "invalid", "%s", j->detail);
		goto out;
	}
	if (!domain_allowed(j->p, j->id.email)) {
		auth_throttle_end(&j->ticket, false, NULL);
		cb_refuse(j, 0, "domain", "email domain not allowed for this provider");
		goto out;
	}
	rc = oidc_link_find(db, j->p->name, j->id.subject, &user_id);
	if (!rc) {
		linked = true;
	} else if (rc != ERR_NOTFOUND) {
		auth_throttle_release(&j->ticket);
		reply_err(call->req, rc);
		goto out;
	} else if (!j->id.email || acct_check_email("email", j->id.email)) {
		auth_throttle_end(&j->ticket, false, NULL);
		cb_refuse(j, 0, "no-email", "the provider gave no usable email");
		goto out;
	} else if (!j->id.email_verified) {
		/* Linking or queueing on an email the provider has not
		 * checked would let anyone claim anyone's account. */
		auth_throttle_end(&j->ticket, false, NULL);
		cb_refuse(j, 0, "unverified", "email %s not verified by the provider", j->id.email);
		goto out;
	}
	if (!linked) {
		rc = acct_user_by_email(db, j->id.email, &u);
		if (rc == ERR_NOTFOUND) {
			auth_throttle_release(&j->ticket);
			cb_pending(j);
			goto out;
		}
		if (rc) {
			auth_throttle_release(&j->ticket);
			reply_err(call->req, rc);
			goto out;
		}
		user_id = u.id;
		acct_user_clear(&u);
	}
	rc = acct_user_get(db, user_id, &u);
	if (rc || u.disabled) {
		auth_throttle_end(&j->ticket, false, NULL);
		cb_refuse(j, user_id, "disabled", "%s", rc ? "account gone" : "account disabled");
		goto out;
	}
	if (!linked) {
		rc = db_begin(db);
		if (!rc)
			rc = oidc_link_add(db, j->p->name, j->id.subject, user_id);
		if (!rc)
			rc = auth_audit_as(call, user_id, u.email, "oidc_link", 0, u.email,
					   "oidc %s subject %s, by verified email", j->p->name,
					   j->id.subject);
		if (!rc)
			rc = db_commit(db);
		if (rc) {
			db_rollback(db);
			auth_throttle_release(&j->ticket);
			reply_err(call->req, rc);
			goto out;
		}
	}
	if (!j->id.mfa && u.totp_enabled) {
		/* As today: the account's own one-time code. */
		char ticket[AUTH_SECRET_LEN + 1], frag[128];
		unsigned char h[OIDC_HASH_LEN];
		struct oidc_ticket t = {user_id, (char *)j->p->name, j->id.subject, j->id.sid};

		rc = auth_secret_new(ticket);
		if (!rc) {
			hash_secret(ticket, h);
			rc = oidc_ticket_put(db, h, &t, db_now() + TICKET_TTL_S);
		}
		auth_throttle_release(&j->ticket);
		if (rc) {
			reply_err(call->req, rc);
			goto out;
		}
		snprintf(frag, sizeof frag, "signin-totp=%s", ticket);
		explicit_bzero(ticket, sizeof ticket);
		back_to_app(call, frag);
		goto out;
	}
	{
		char how[384];

		if (j->id.mfa)
			snprintf(how, sizeof how, "second factor at the provider (amr %s)",
				 *j->id.amr ? j->id.amr : "-");
		else
			snprintf(how, sizeof how, "single factor");
		rc = oidc_session(call, user_id, u.email, j->p->name, j->id.subject, j->id.sid, how,
				  j->id.mfa, false);
	}
	if (rc) {
		auth_throttle_release(&j->ticket);
		reply_err(call->req, rc);
	} else {
		auth_throttle_end(&j->ticket, true, NULL);
	}
out:
	acct_user_clear(&u);
	oidc_flow_clear(&j->flow);
	oidc_identity_clear(&j->id);
	if (j->code) {
		explicit_bzero(j->code, strlen(j->code));
		free(j->code);
	}
	free(j);
}

void h_oidc_callback(struct call *call)
{
	const char *state = http_req_query_param(call->req, "state");
	const char *code = http_req_query_param(call->req, "code");
	const char *error = http_req_query_param(call->req, "error");
	const char *browser = browser_cookie(call);
	struct db *db = worker_db(call->worker);
	unsigned char h[OIDC_HASH_LEN], bh[OIDC_HASH_LEN];
	char key[128];
	unsigned retry;
	struct cbjob *j;
	enum err rc;

	/* The binding has done its work whatever happens now. */
	http_resp_header(call->req, "Set-Cookie",
			 BROWSER_COOKIE "=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0");
	if (!state || strlen(state) != AUTH_SECRET_LEN) {
		back_to_app(call, "signin-error=expired");
		return;
	}
	j = calloc(1, sizeof *j);
	if (!j) {
		reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
		return;
	}
	j->call = call;
	hash_secret(state, h);
	rc = oidc_flow_take(db, h, &j->flow);
	if (rc) {
		free(j);
		if (rc != ERR_NOTFOUND) {
			reply_err(call->req, rc);
			return;
		}
		/* Unknown, already used or too old: a replayed callback. */
		auth_audit_as(call, 0, "", "login_failed", 0, "", "oidc: unknown or used state");
		back_to_app(call, "signin-error=expired");
		return;
	}
	j->p = oidc_provider_find(j->flow.provider);
	if (browser)
		hash_secret(browser, bh);
	if (!j->p || !browser || CRYPTO_memcmp(bh, j->flow.browser_hash, OIDC_HASH_LEN) != 0) {
		auth_audit_as(call, 0, "", "login_failed", 0, "", "oidc %s: %s", j->flow.provider,
			      j->p ? "the callback came to another browser" : "provider gone");
		oidc_flow_clear(&j->flow);
		free(j);
		back_to_app(call, "signin-error=expired");
		return;
	}
	if (error || !code || !*code || strlen(code) > 4096) {
		auth_audit_as(call, 0, "", "login_failed", 0, "", "oidc %s: provider said %.64s",
			      j->p->name, error ? error : "no code");
		oidc_flow_clear(&j->flow);
		free(j);
		back_to_app(call, "signin-error=denied");
		return;
	}
	/* Throttled like password logins. The subject is not known before
	 * the exchange and the state is new each time, so what counts is the
	 * address's budget (login-address-failures). */
	snprintf(key, sizeof key, "oidc:%.43s", state);
	if (auth_throttle_begin(key, http_req_peer(call->req), &j->ticket, &retry)) {
		oidc_flow_clear(&j->flow);
		free(j);
		back_to_app(call, "signin-error=throttled");
		return;
	}
	j->code = strdup(code);
	rc = j->code ? jobs_submit_req_on(worker_io(call->worker), worker_jobs(call->worker),
					  call->req, cb_run, cb_done, j)
		     : err_set(ERR_NOMEM, "out of memory");
	if (rc) {
		auth_throttle_release(&j->ticket);
		oidc_flow_clear(&j->flow);
		free(j->code);
		free(j);
		if (rc == ERR_LIMIT)
			rc = err_set(ERR_BUSY, "the server is busy; try again shortly");
		reply_err(call->req, rc);
	}
}

/* --- GET /api/v1/auth/oidc/logout ------------------------------------------------------------ */

/* OpenID Connect Front-Channel Logout 1.0: the provider, as the person
 * logs out there, loads this in an invisible iframe with its issuer and
 * the session id (`sid`) of the ID token. The session cookie does not
 * come along (SameSite=Strict, a third-party frame), so the pair names
 * the sessions to end. Knowing a sid is the credential: it is random
 * and only in ID tokens, which go from the provider to consort. */
void h_oidc_logout(struct call *call)
{
	static const char page[] = "<!doctype html><title>consort</title>\n";
	const char *iss = http_req_query_param(call->req, "iss");
	const char *sid = http_req_query_param(call->req, "sid");
	struct db *db = worker_db(call->worker);
	const char *names[32];
	const struct oidc_provider_conf *p;
	int64_t users[64];
	size_t n = 0, ended = 0;
	enum err rc;

	if (!iss || !sid || !*sid || strlen(sid) > 255) {
		reply_err(call->req, err_set(ERR_INVALID, "iss and sid are required"));
		return;
	}
	for (size_t i = 0; (p = oidc_provider_at(i)) && n < 32; i++)
		if (!strcmp(p->issuer, iss))
			names[n++] = p->name;
	rc = db_begin(db);
	if (!rc)
		rc = oidc_sessions_end(db, names, n, sid, users, 64, &ended);
	for (size_t i = 0; !rc && i < ended && i < 64; i++)
		rc = auth_audit_as(call, users[i], "", "logout", 0, "",
				   "front-channel logout from the provider (%s)", iss);
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db);
		reply_err(call->req, rc);
		return;
	}
	/* Framed by the provider: no frame-ancestors here. */
	http_resp_header(call->req, "Content-Type", "text/html; charset=utf-8");
	http_resp_header(call->req, "Content-Security-Policy", "default-src 'none'");
	http_resp_header(call->req, "Cache-Control", "no-store");
	http_resp_send(call->req, 200, page, sizeof page - 1);
}

/* --- POST /api/v1/auth/oidc/totp ------------------------------------------------------------ */

void h_oidc_totp(struct call *call)
{
	const char *ticket = NULL, *totp = NULL, *recovery = NULL;
	struct jsonin_field f[] = {
		{"ticket", JSONIN_STRING, JSONIN_REQUIRED, 1, 64, .out = &ticket},
		{"totp", JSONIN_STRING, JSONIN_NULLABLE, 1, 16, .out = &totp},
		{"recovery_code", JSONIN_STRING, JSONIN_NULLABLE, 1, 32, .out = &recovery},
	};
	struct db *db = worker_db(call->worker);
	struct oidc_ticket t = {0};
	struct acct_user u = {0};
	struct auth_ticket th;
	struct acct_totp tt;
	unsigned char h[OIDC_HASH_LEN], rh[32];
	unsigned retry, locked = 0;
	int64_t step;
	const char *how = NULL;
	enum err rc = jsonin_parse(call->json, f, 3);

	if (!rc && !totp && !recovery)
		rc = err_set(ERR_INVALID, "give 'totp' or 'recovery_code'");
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	hash_secret(ticket, h);
	rc = oidc_ticket_get(db, h, &t);
	if (!rc)
		rc = acct_user_get(db, t.user_id, &u);
	if (rc) {
		oidc_ticket_clear(&t);
		acct_user_clear(&u);
		reply_err(call->req, rc == ERR_NOTFOUND
					     ? err_set(ERR_UNAUTHENTICATED,
						       "the sign-in has ended; sign in again")
					     : rc);
		return;
	}
	if (auth_throttle_begin(u.email, http_req_peer(call->req), &th, &retry)) {
		http_resp_headerf(call->req, "Retry-After", "%u", retry ? retry : 1);
		reply_err(call->req, ERR_LIMIT);
		goto out;
	}
	if (totp) {
		if (!acct_totp_get(db, u.id, &tt) &&
		    totp_verify(tt.secret, tt.secret_len, totp, db_now(), tt.last_step, &step) &&
		    !acct_totp_use_step(db, u.id, step))
			how = "and one-time code";
		explicit_bzero(&tt, sizeof tt);
	} else if (auth_recovery_hash(recovery, rh) && !acct_recovery_use(db, u.id, rh, db_now())) {
		how = "and recovery code";
	}
	if (!how || u.disabled) {
		auth_throttle_end(&th, false, &locked);
		auth_audit_as(call, u.id, u.email, "login_failed", 0, "",
			      "oidc %s subject %s: %s%s", t.provider, t.subject,
			      u.disabled ? "account disabled" : "wrong or reused code",
			      locked ? "; locked" : "");
		reply_err(call->req, err_set(ERR_CREDENTIALS, "wrong or already used code"));
		goto out;
	}
	rc = oidc_ticket_delete(db, h);
	if (!rc)
		rc = oidc_session(call, u.id, u.email, t.provider, t.subject, t.sid, how, false,
				  true);
	if (rc) {
		auth_throttle_release(&th);
		reply_err(call->req, rc);
	} else {
		auth_throttle_end(&th, true, NULL);
	}
out:
	oidc_ticket_clear(&t);
	acct_user_clear(&u);
}

/* --- the coordinators' queue ---------------------------------------------------------------- */

static json_t *pending_json(const struct oidc_pending *p)
{
	const struct oidc_provider_conf *c = oidc_provider_find(p->provider);

	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s?, s:s?, s:o, s:o}", "id",
			 (json_int_t)p->id, "provider", p->provider, "provider_title",
			 c && c->title ? c->title : p->provider, "subject", p->subject, "email",
			 p->email, "name", p->name, "organisation", p->org, "partner",
			 p->partner_hint, "requested", apijson_time(p->created_at), "last_seen",
			 apijson_time(p->last_seen));
}

void h_signups_list(struct call *call)
{
	struct oidc_pending *p = NULL;
	size_t n = 0;
	json_t *list;
	enum err rc = oidc_pending_list(worker_db(call->worker), &p, &n);

	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, pending_json(&p[i]));
	oidc_pendings_free(p, n);
	reply_json(call->req, 200, json_pack("{s:o}", "signups", list));
}

static bool signup_param(struct call *call, int64_t *id)
{
	if (apijson_parse_id(call_param(call, "id"), id))
		return true;
	reply_err(call->req, err_set(ERR_NOTFOUND, "no such person waiting for approval"));
	return false;
}

/* POST /api/v1/signups/{id}/approve {"partner"[, "name"]}: the account,
 * linked to the provider's subject; it signs in through the provider. */
void h_signup_approve(struct call *call)
{
	struct db *db = worker_db(call->worker);
	const char *partner = NULL, *name = NULL;
	struct jsonin_field f[] = {
		{"partner", JSONIN_STRING, JSONIN_REQUIRED, 1, 32, .out = &partner},
		{"name", JSONIN_STRING, 0, 1, 200, .out = &name},
	};
	struct oidc_pending p = {0};
	int64_t id, partner_id, user_id = 0;
	struct acct_user u = {0};
	enum err rc;

	if (!signup_param(call, &id))
		return;
	rc = jsonin_parse(call->json, f, 2);
	if (!rc) {
		rc = acct_partner_id(db, partner, &partner_id);
		if (rc == ERR_NOTFOUND)
			rc = err_set(ERR_INVALID, "field 'partner': no partner '%s'", partner);
	}
	if (!rc)
		rc = db_begin(db);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	rc = oidc_pending_get(db, id, &p);
	if (!rc) {
		rc = acct_user_add(db, p.email, name ? name : p.name, partner_id, false, NULL,
				   &user_id);
		if (rc == ERR_EXISTS)
			rc = err_set(ERR_CONFLICT,
				     "an account with the email %s exists; the person signs in "
				     "with it once the provider has verified the email",
				     p.email);
	}
	if (!rc)
		rc = oidc_link_add(db, p.provider, p.subject, user_id);
	if (!rc)
		rc = oidc_pending_delete(db, id);
	if (!rc)
		rc = auth_audit(call, "signup_approve", 0, p.email,
				"oidc %s subject %s; partner %s", p.provider, p.subject, partner);
	if (!rc)
		rc = acct_user_get(db, user_id, &u);
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db);
		reply_err(call->req, rc);
	} else {
		reply_json(call->req, 201, apijson_user(&u, true));
	}
	acct_user_clear(&u);
	oidc_pending_clear(&p);
}

void h_signup_refuse(struct call *call)
{
	struct db *db = worker_db(call->worker);
	struct oidc_pending p = {0};
	int64_t id;
	enum err rc;

	if (!signup_param(call, &id))
		return;
	rc = db_begin(db);
	if (!rc)
		rc = oidc_pending_get(db, id, &p);
	if (!rc)
		rc = oidc_pending_delete(db, id);
	if (!rc)
		rc = auth_audit(call, "signup_refuse", 0, p.email, "oidc %s subject %s", p.provider,
				p.subject);
	if (!rc)
		rc = db_commit(db);
	oidc_pending_clear(&p);
	if (rc) {
		db_rollback(db);
		reply_err(call->req, rc);
		return;
	}
	reply_api_headers(call->req);
	http_resp_send(call->req, 204, NULL, 0);
}
