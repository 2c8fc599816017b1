/* auth — see auth.h. */
#include "api/auth.h"

#include <arpa/inet.h>
#include <argon2.h>
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "accounts.h"
#include "audit.h"
#include "api/config.h"
#include "db.h"
#include "digest.h"
#include "http/http.h"
#include "http/log.h"
#include "api/router.h"
#include "api/app.h"

#define SALT_LEN 16
#define HASH_LEN 32

/* --- process-wide state -------------------------------------------------------- */

static struct auth_argon2 argon2_params = {19456, 2, 1};
static char *dummy_hash;

/* --- passwords ------------------------------------------------------------------ */

void auth_argon2_defaults(struct auth_argon2 *out)
{
	/* OWASP's minimum for Argon2id: 19 MiB, 2 passes, 1 lane. */
	out->m_kib = 19456;
	out->t_cost = 2;
	out->lanes = 1;
}

void auth_argon2_current(struct auth_argon2 *out) { *out = argon2_params; }

enum err auth_password_hash(const char *pw, const struct auth_argon2 *p, char **encoded)
{
	unsigned char salt[SALT_LEN];
	size_t len =
		argon2_encodedlen(p->t_cost, p->m_kib, p->lanes, SALT_LEN, HASH_LEN, Argon2_id);
	char *out = malloc(len);
	enum err rc;
	int arc;

	*encoded = NULL;
	if (!out)
		return err_set(ERR_NOMEM, "out of memory");
	rc = digest_random(salt, sizeof salt);
	if (rc) {
		free(out);
		return rc;
	}
	arc = argon2id_hash_encoded(p->t_cost, p->m_kib, p->lanes, pw, strlen(pw), salt, SALT_LEN,
				    HASH_LEN, out, len);
	if (arc != ARGON2_OK) {
		free(out);
		return err_set(arc == ARGON2_MEMORY_ALLOCATION_ERROR ? ERR_NOMEM : ERR_INTERNAL,
			       "password hashing failed: %s", argon2_error_message(arc));
	}
	*encoded = out;
	return ERR_OK;
}

bool auth_password_verify(const char *encoded, const char *pw)
{
	if (!encoded || strncmp(encoded, "$argon2id$", 10) != 0)
		return false;
	return argon2id_verify(encoded, pw, strlen(pw)) == ARGON2_OK;
}

bool auth_password_outdated(const char *encoded, const struct auth_argon2 *p)
{
	unsigned v, m, t, l;

	if (!encoded || sscanf(encoded, "$argon2id$v=%u$m=%u,t=%u,p=%u$", &v, &m, &t, &l) != 4)
		return true;
	return v != ARGON2_VERSION_13 || m < p->m_kib || t < p->t_cost || l < p->lanes;
}

const char *auth_dummy_hash(void) { return dummy_hash; }

enum err auth_password_policy(const char *pw, const char *email)
{
	size_t chars = 0, bytes = strlen(pw);

	for (const unsigned char *p = (const unsigned char *)pw; *p; p++)
		if ((*p & 0xc0) != 0x80)
			chars++;
	if (chars < AUTH_PASSWORD_MIN)
		return err_set(ERR_INVALID, "the password must have at least %d characters",
			       AUTH_PASSWORD_MIN);
	if (bytes > AUTH_PASSWORD_MAX)
		return err_set(ERR_INVALID, "the password must have at most %d bytes",
			       AUTH_PASSWORD_MAX);
	if (email && !strcasecmp(pw, email))
		return err_set(ERR_INVALID, "the password must not be the email address");
	return ERR_OK;
}

/* --- secrets -------------------------------------------------------------------- */

enum err auth_secret_new(char *out)
{
	unsigned char raw[32];
	enum err rc = digest_random(raw, sizeof raw);

	if (rc)
		return rc;
	digest_base64url(raw, sizeof raw, out);
	return ERR_OK;
}

void auth_secret_hash(const char *secret, unsigned char out[32])
{
	digest_sha256(secret, strlen(secret), out);
}

static bool is_secret(const char *s, size_t len)
{
	if (len != AUTH_SECRET_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
			return false;
	return true;
}

/* Crockford's base32: no I, L, O or U, so codes read aloud or copied
 * from paper survive. */
static const char crockford[] = "0123456789abcdefghjkmnpqrstvwxyz";

enum err auth_recovery_new(char codes[AUTH_RECOVERY_CODES][AUTH_RECOVERY_LEN + 1],
			   unsigned char hashes[AUTH_RECOVERY_CODES][32])
{
	unsigned char raw[AUTH_RECOVERY_CODES][10];
	enum err rc = digest_random(raw, sizeof raw);

	if (rc)
		return rc;
	for (int i = 0; i < AUTH_RECOVERY_CODES; i++) {
		char *c = codes[i];

		for (int k = 0, o = 0; k < 10; k++) {
			if (k == 5)
				c[o++] = '-';
			c[o++] = crockford[raw[i][k] & 31];
		}
		c[AUTH_RECOVERY_LEN] = '\0';
		if (!auth_recovery_hash(c, hashes[i]))
			return err_set(ERR_INTERNAL, "recovery code generation failed");
	}
	return ERR_OK;
}

bool auth_recovery_hash(const char *typed, unsigned char out[32])
{
	char norm[11];
	size_t n = 0;

	for (const char *p = typed; *p; p++) {
		char c = (char)tolower((unsigned char)*p);

		if (c == '-' || c == ' ')
			continue;
		if (c == 'i' || c == 'l')
			c = '1';
		else if (c == 'o')
			c = '0';
		if (!strchr(crockford, c) || n == 10)
			return false;
		norm[n++] = c;
	}
	if (n != 10)
		return false;
	norm[n] = '\0';
	digest_sha256(norm, n, out);
	return true;
}

/* --- login throttling -------------------------------------------------------------- */

/* Two fixed-size tables (accounts, addresses) under one mutex: an
 * attacker cycling through made-up emails or addresses evicts the
 * stalest entries instead of growing memory. State is per process;
 * several nodes behind a balancer each throttle on their own. */
#define THROTTLE_SLOTS 8192
#define THROTTLE_PROBE 16
#define THROTTLE_FORGET 3600 /* seconds without failure before failures are forgotten */
#define THROTTLE_INFLIGHT 4  /* concurrent attempts on one account */

struct tslot {
	unsigned char key[16];
	bool used;
	uint32_t failures;
	uint32_t inflight;
	int64_t last; /* last failure (or first use) */
};

struct throttle {
	struct tslot *slots;
	unsigned free_failures;
};

static pthread_mutex_t throttle_lock = PTHREAD_MUTEX_INITIALIZER;
static struct throttle t_account, t_address;
static int64_t lockout_base = 30, lockout_max = 900;

static size_t slot_index(const unsigned char key[16])
{
	size_t h;

	memcpy(&h, key, sizeof h);
	return h % THROTTLE_SLOTS;
}

static bool slot_idle(const struct tslot *s, int64_t now)
{
	return !s->used ||
	       (s->inflight == 0 && (s->failures == 0 || now - s->last >= THROTTLE_FORGET));
}

/* Find the slot for `key`, claiming one when `create`: a free or idle
 * slot in the probe window, else the stalest one in it. */
static struct tslot *slot_find(struct throttle *t, const unsigned char key[16], bool create,
			       int64_t now)
{
	size_t i = slot_index(key);
	struct tslot *victim = NULL;

	if (!t->slots)
		return NULL;
	for (int n = 0; n < THROTTLE_PROBE; n++, i = (i + 1) % THROTTLE_SLOTS) {
		struct tslot *s = &t->slots[i];

		if (s->used && !memcmp(s->key, key, 16)) {
			if (s->failures && now - s->last >= THROTTLE_FORGET)
				s->failures = 0;
			return s;
		}
		if (!victim || slot_idle(victim, now))
			victim = victim ? victim : s;
		else if (slot_idle(s, now))
			victim = s;
		else if (s->inflight == 0 && (victim->inflight > 0 || s->last < victim->last))
			victim = s;
	}
	if (!create)
		return NULL;
	memset(victim, 0, sizeof *victim);
	memcpy(victim->key, key, 16);
	victim->used = true;
	victim->last = now;
	return victim;
}

/* Seconds until `s` may try again (0: now). */
static int64_t locked_for(const struct throttle *t, const struct tslot *s, int64_t now)
{
	int64_t delay;
	uint32_t over;

	if (!s || s->failures < t->free_failures)
		return 0;
	over = s->failures - t->free_failures;
	delay = over >= 20 ? lockout_max : lockout_base << over;
	if (delay > lockout_max)
		delay = lockout_max;
	return s->last + delay > now ? s->last + delay - now : 0;
}

static void throttle_key(const char *kind, const char *text, size_t len, unsigned char key[16])
{
	unsigned char h[DIGEST_SHA256_LEN];
	struct digest *d = digest_new(DIGEST_SHA256);

	if (!d) {
		/* Without memory for a hash context, fold the text in by hand:
		 * the key only needs to be stable, not secret. */
		memset(key, 0, 16);
		for (size_t i = 0; i < len; i++)
			key[i % 16] = (unsigned char)(key[i % 16] * 31 + (unsigned char)text[i]);
		key[0] ^= (unsigned char)kind[0];
		return;
	}
	digest_update(d, kind, strlen(kind));
	digest_update(d, text, len);
	digest_final(d, h);
	digest_free(d);
	memcpy(key, h, 16);
}

static void account_key(const char *email, unsigned char key[16])
{
	char folded[320];
	size_t n = 0;

	for (const char *p = email; *p && n < sizeof folded - 1; p++)
		folded[n++] = (char)tolower((unsigned char)*p);
	throttle_key("account:", folded, n, key);
}

/* An IPv6 client controls its whole /64, so that is the unit. */
static void address_key(const char *peer, unsigned char key[16])
{
	struct in6_addr a6;

	if (inet_pton(AF_INET6, peer, &a6) == 1) {
		memset(a6.s6_addr + 8, 0, 8);
		throttle_key("address6:", (const char *)a6.s6_addr, 16, key);
		return;
	}
	throttle_key("address:", peer, strlen(peer), key);
}

enum err auth_throttle_begin(const char *email, const char *peer, struct auth_ticket *t,
			     unsigned *retry_after)
{
	struct tslot *acc, *addr;
	int64_t now = db_now(), wait;
	enum err rc = ERR_OK;

	memset(t, 0, sizeof *t);
	*retry_after = 0;
	account_key(email, t->account);
	address_key(peer ? peer : "", t->address);
	pthread_mutex_lock(&throttle_lock);
	acc = slot_find(&t_account, t->account, true, now);
	addr = slot_find(&t_address, t->address, true, now);
	wait = locked_for(&t_account, acc, now);
	if (locked_for(&t_address, addr, now) > wait)
		wait = locked_for(&t_address, addr, now);
	if (wait > 0) {
		*retry_after = (unsigned)wait;
		rc = err_set(ERR_LIMIT, "too many failed logins; try again in %u s", *retry_after);
	} else if (acc && acc->inflight >= THROTTLE_INFLIGHT) {
		*retry_after = 1;
		rc = err_set(ERR_LIMIT, "too many concurrent logins; try again in 1 s");
	} else {
		if (acc)
			acc->inflight++;
		t->active = true;
	}
	pthread_mutex_unlock(&throttle_lock);
	return rc;
}

void auth_throttle_end(struct auth_ticket *t, bool success, unsigned *locked)
{
	struct tslot *acc, *addr;
	int64_t now = db_now();

	if (locked)
		*locked = 0;
	if (!t->active)
		return;
	t->active = false;
	pthread_mutex_lock(&throttle_lock);
	acc = slot_find(&t_account, t->account, true, now);
	addr = slot_find(&t_address, t->address, true, now);
	if (acc && acc->inflight > 0)
		acc->inflight--;
	if (success) {
		if (acc)
			acc->failures = 0;
	} else {
		if (acc) {
			acc->failures++;
			acc->last = now;
		}
		if (addr) {
			addr->failures++;
			addr->last = now;
		}
		if (locked) {
			int64_t a = locked_for(&t_account, acc, now),
				b = locked_for(&t_address, addr, now);

			*locked = (unsigned)(a > b ? a : b);
		}
	}
	pthread_mutex_unlock(&throttle_lock);
}

void auth_throttle_release(struct auth_ticket *t)
{
	struct tslot *acc;

	if (!t->active)
		return;
	t->active = false;
	pthread_mutex_lock(&throttle_lock);
	acc = slot_find(&t_account, t->account, false, db_now());
	if (acc && acc->inflight > 0)
		acc->inflight--;
	pthread_mutex_unlock(&throttle_lock);
}

/* --- start / stop ------------------------------------------------------------------- */

enum err auth_start(const struct config *cfg)
{
	char pw[AUTH_SECRET_LEN + 1];
	enum err rc;

	argon2_params.m_kib = cfg->argon2_memory_kib;
	argon2_params.t_cost = cfg->argon2_iterations;
	argon2_params.lanes = cfg->argon2_parallelism;
	lockout_base = cfg->login_lockout_ms / 1000 ? cfg->login_lockout_ms / 1000 : 1;
	lockout_max = cfg->login_lockout_max_ms / 1000 ? cfg->login_lockout_max_ms / 1000 : 1;
	t_account.free_failures = cfg->login_account_failures;
	t_address.free_failures = cfg->login_address_failures;
	t_account.slots = calloc(THROTTLE_SLOTS, sizeof *t_account.slots);
	t_address.slots = calloc(THROTTLE_SLOTS, sizeof *t_address.slots);
	if (!t_account.slots || !t_address.slots) {
		auth_stop();
		return err_set(ERR_NOMEM, "out of memory");
	}
	rc = auth_secret_new(pw);
	if (!rc)
		rc = auth_password_hash(pw, &argon2_params, &dummy_hash);
	if (rc)
		auth_stop();
	return rc;
}

void auth_stop(void)
{
	free(t_account.slots);
	free(t_address.slots);
	t_account.slots = t_address.slots = NULL;
	free(dummy_hash);
	dummy_hash = NULL;
}

/* --- sessions ------------------------------------------------------------------------- */

enum err auth_session_start(struct call *call, int64_t user_id, char *token, char *csrf,
			    int64_t *session_id)
{
	const struct config *cfg = worker_config(call->worker);
	struct db *db = worker_db(call->worker);
	unsigned char hash[32];
	int64_t now = db_now(), max_s = cfg->session_max_ms / 1000;
	enum err rc;

	rc = auth_secret_new(token);
	if (!rc)
		rc = auth_secret_new(csrf);
	if (rc)
		return rc;
	auth_secret_hash(token, hash);
	/* Sessions that ran out are deleted when their owner logs in again,
	 * and a user keeps at most 20: a login loop cannot grow the table. */
	rc = acct_session_prune(db, user_id, now, cfg->session_idle_ms / 1000, 19);
	if (!rc)
		rc = acct_session_create(db, user_id, hash, csrf, http_req_peer(call->req),
					 now + max_s, session_id);
	return rc;
}

void auth_cookie_set(struct call *call, const char *token)
{
	const struct config *cfg = worker_config(call->worker);

	http_resp_headerf(call->req, "Set-Cookie",
			  AUTH_COOKIE "=%s; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=%u",
			  token, cfg->session_max_ms / 1000);
}

void auth_cookie_clear(struct http_req *req)
{
	http_resp_header(req, "Set-Cookie",
			 AUTH_COOKIE "=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
}

/* --- identification --------------------------------------------------------------------- */

const char *auth_cookie_find(const char *header, size_t *len)
{
	const char *p = header;
	size_t nlen = strlen(AUTH_COOKIE);

	while (p && *p) {
		while (*p == ' ' || *p == ';')
			p++;
		if (!strncmp(p, AUTH_COOKIE, nlen) && p[nlen] == '=') {
			const char *v = p + nlen + 1, *end = strchr(v, ';');

			*len = end ? (size_t)(end - v) : strlen(v);
			while (*len && v[*len - 1] == ' ')
				(*len)--;
			return v;
		}
		p = strchr(p, ';');
	}
	return NULL;
}

static char *arena_dup(struct http_req *req, const char *s)
{
	return s ? http_req_strndup(req, s, strlen(s)) : NULL;
}

static enum err make_caller(struct call *call, const struct acct_principal *p)
{
	struct caller *c = http_req_alloc(call->req, sizeof *c);

	if (!c)
		return err_set(ERR_NOMEM, "out of memory");
	memset(c, 0, sizeof *c);
	c->user_id = p->user_id;
	c->partner_id = p->partner_id;
	c->email = arena_dup(call->req, p->email);
	c->name = arena_dup(call->req, p->name);
	c->coordinator = p->coordinator;
	c->totp_enabled = p->totp_enabled;
	/* A provider's asserted MFA satisfies the requirement too. */
	c->totp_pending = p->totp_required && !p->totp_enabled && !p->session_mfa;
	c->session_id = p->session_id;
	c->csrf = p->session_id ? arena_dup(call->req, p->csrf) : NULL;
	c->reauth_at = p->reauth_at;
	c->token_id = p->token_id;
	c->read_only = p->token_id && p->read_only;
	c->wp_limited = p->token_id && p->wp_limited;
	if (!c->email || !c->name || (p->session_id && !c->csrf))
		return err_set(ERR_NOMEM, "out of memory");
	call->caller = c;
	return ERR_OK;
}

/* The work packages a WP-limited token reaches, into the caller (the
 * request arena holds them). */
static enum err caller_token_wps(struct call *call, int64_t token_id)
{
	struct caller *c = (struct caller *)call->caller;
	int64_t *ids = NULL, *copy;
	size_t n = 0;
	enum err rc = acct_token_wps(worker_db(call->worker), token_id, &ids, &n);

	if (!rc && n) {
		copy = http_req_alloc(call->req, n * sizeof *copy);
		if (copy) {
			memcpy(copy, ids, n * sizeof *copy);
			c->wp_ids = copy;
			c->nwps = n;
		} else {
			rc = err_set(ERR_NOMEM, "out of memory");
		}
	}
	free(ids);
	return rc;
}

static enum err identify_session(struct call *call, const char *value, size_t len)
{
	const struct config *cfg = worker_config(call->worker);
	struct db *db = worker_db(call->worker);
	struct acct_principal p;
	char token[AUTH_SECRET_LEN + 1];
	unsigned char hash[32];
	int64_t now = db_now(), idle = cfg->session_idle_ms / 1000, touch_after;
	enum err rc;

	if (!is_secret(value, len))
		return err_set(ERR_UNAUTHENTICATED, "the session has ended; sign in again");
	memcpy(token, value, len);
	token[len] = '\0';
	auth_secret_hash(token, hash);
	rc = acct_session_lookup(db, hash, &p);
	if (rc == ERR_NOTFOUND)
		return err_set(ERR_UNAUTHENTICATED, "the session has ended; sign in again");
	if (rc)
		return rc;
	if (now >= p.expires_at || now - p.last_seen >= idle) {
		/* Best effort: an expired row is refused either way. */
		acct_session_delete(db, p.session_id);
		acct_principal_clear(&p);
		return err_set(ERR_UNAUTHENTICATED, "the session has expired; sign in again");
	}
	if (p.disabled) {
		acct_principal_clear(&p);
		return err_set(ERR_UNAUTHENTICATED, "this account is disabled");
	}
	/* last_seen is written at most once a minute (or a quarter of the
	 * idle time): a busy session must not turn every read into a write. */
	touch_after = idle / 4 < 60 ? idle / 4 : 60;
	if (now - p.last_seen >= touch_after && acct_session_touch(db, p.session_id, now))
		log_event(LOG_WARN, "session", "cannot record session activity: %s", err_detail());
	rc = make_caller(call, &p);
	call->by_cookie = true;
	acct_principal_clear(&p);
	return rc;
}

static enum err identify_token(struct call *call, const char *token, const char *basic_user)
{
	struct db *db = worker_db(call->worker);
	struct acct_principal p;
	unsigned char hash[32];
	int64_t now = db_now();
	size_t plen = strlen(AUTH_TOKEN_PREFIX);
	enum err rc;

	if (strlen(token) != AUTH_TOKEN_LEN || strncmp(token, AUTH_TOKEN_PREFIX, plen) ||
	    !is_secret(token + plen, AUTH_SECRET_LEN))
		return err_set(ERR_UNAUTHENTICATED, "invalid API token");
	auth_secret_hash(token, hash);
	rc = acct_token_lookup(db, hash, &p);
	if (rc == ERR_NOTFOUND)
		return err_set(ERR_UNAUTHENTICATED, "invalid API token");
	if (rc)
		return rc;
	if (p.revoked_at)
		rc = err_set(ERR_UNAUTHENTICATED, "this API token was revoked");
	else if (p.expires_at && now >= p.expires_at)
		rc = err_set(ERR_UNAUTHENTICATED, "this API token has expired");
	else if (p.disabled)
		rc = err_set(ERR_UNAUTHENTICATED, "this account is disabled");
	else if (basic_user && strcasecmp(basic_user, p.email))
		rc = err_set(ERR_UNAUTHENTICATED, "the user name does not match the token");
	if (!rc && now - p.last_used_at >= 60 && acct_token_touch(db, p.token_id, now))
		log_event(LOG_WARN, "token", "cannot record token use: %s", err_detail());
	if (!rc)
		rc = make_caller(call, &p);
	if (!rc && p.wp_limited)
		rc = caller_token_wps(call, p.token_id);
	acct_principal_clear(&p);
	return rc;
}

/* Authorization: Basic base64(user ":" token), for WebDAV clients that
 * know no other scheme; the password is an API token, never the
 * account's password. */
enum err auth_basic_decode(const char *b64, char buf[AUTH_BASIC_MAX], const char **user,
			   const char **secret)
{
	long n = digest_unbase64(b64, strlen(b64), (unsigned char *)buf, AUTH_BASIC_MAX - 1);
	char *colon;

	if (n < 0)
		return err_set(ERR_UNAUTHENTICATED, "malformed Basic credentials");
	buf[n] = '\0';
	if (memchr(buf, '\0', (size_t)n))
		return err_set(ERR_UNAUTHENTICATED, "malformed Basic credentials");
	colon = strchr(buf, ':');
	if (!colon)
		return err_set(ERR_UNAUTHENTICATED, "malformed Basic credentials");
	*colon = '\0';
	*user = buf;
	*secret = colon + 1;
	return ERR_OK;
}

static enum err identify_basic(struct call *call, const char *b64)
{
	char buf[AUTH_BASIC_MAX];
	const char *user, *secret;
	enum err rc = auth_basic_decode(b64, buf, &user, &secret);

	return rc ? rc : identify_token(call, secret, user);
}

enum err auth_identify(struct call *call)
{
	const char *authz = http_req_header(call->req, "Authorization");
	const char *cookie, *value;
	size_t len;

	call->caller = NULL;
	call->by_cookie = false;
	if (authz) {
		if (http_req_header_count(call->req, "Authorization") != 1)
			return err_set(ERR_UNAUTHENTICATED, "more than one Authorization header");
		if (!strncasecmp(authz, "Bearer ", 7))
			return identify_token(call, authz + 7 + strspn(authz + 7, " "), NULL);
		if (!strncasecmp(authz, "Basic ", 6))
			return identify_basic(call, authz + 6 + strspn(authz + 6, " "));
		return err_set(ERR_UNAUTHENTICATED,
			       "unsupported Authorization scheme (use Bearer)");
	}
	cookie = http_req_header(call->req, "Cookie");
	value = cookie ? auth_cookie_find(cookie, &len) : NULL;
	if (value)
		return identify_session(call, value, len);
	return err_set(ERR_UNAUTHENTICATED, "authentication required");
}

/* --- audit --------------------------------------------------------------------------------- */

__attribute__((format(printf, 7, 0))) static enum err audit_v(struct call *call, int64_t user_id,
							      const char *email, const char *action,
							      int64_t wp_id, const char *object,
							      const char *fmt, va_list ap)
{
	char detail[1024] = "";
	enum err rc;

	if (fmt)
		vsnprintf(detail, sizeof detail, fmt, ap);
	rc = audit_append(worker_db(call->worker), user_id, email, http_req_peer(call->req), action,
			  wp_id, object, detail);
	if (rc)
		log_event(LOG_ERROR, "audit", "cannot record %s: %s", action, err_detail());
	return rc;
}

enum err auth_audit(struct call *call, const char *action, int64_t wp_id, const char *object,
		    const char *fmt, ...)
{
	const struct caller *c = call->caller;
	va_list ap;
	enum err rc;

	va_start(ap, fmt);
	rc = audit_v(call, c ? c->user_id : 0, c ? c->email : "", action, wp_id, object, fmt, ap);
	va_end(ap);
	return rc;
}

enum err auth_audit_as(struct call *call, int64_t user_id, const char *email, const char *action,
		       int64_t wp_id, const char *object, const char *fmt, ...)
{
	va_list ap;
	enum err rc;

	va_start(ap, fmt);
	rc = audit_v(call, user_id, email, action, wp_id, object, fmt, ap);
	va_end(ap);
	return rc;
}

enum err auth_notice(struct call *call, int64_t user_id, const char *email, const char *fmt, ...)
{
	const struct caller *c = call->caller;
	char what[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	return auth_audit_as(call, user_id, email, "account_notice", 0, email, "%s (by %s)", what,
			     c && c->user_id != user_id ? c->email : "yourself");
}
