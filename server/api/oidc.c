/* oidc — see oidc.h. */
#include "api/oidc.h"

#include <cjose/cjose.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/config.h"
#include "api/publicurl.h"
#include "db.h"
#include "http/log.h"

#define FETCH_MAX (1024 * 1024) /* bytes of any answer from a provider */
#define FETCH_TIMEOUT_S 10
#define DISCOVERY_TTL_S 3600 /* discovery and keys are refetched after this */
#define CLOCK_SKEW_S 120
#define IAT_MAX_AGE_S 600 /* an ID token issued longer ago is stale */

/* What we know of one provider; `lock` guards the caches. */
struct provider {
	const struct oidc_provider_conf *conf;
	char *secret; /* client secret, or NULL */
	pthread_mutex_t lock;
	json_t *discovery;
	int64_t discovery_at;
	json_t *jwks;
	int64_t jwks_at;
};

static struct {
	struct provider *p;
	size_t n;
	char *ca_file;
	char *public_url;
	int64_t jwks_refetch_s;
	bool curl_on;
} rp;

/* --- set-up ----------------------------------------------------------------------- */

static enum err read_secret(const char *path, char **out)
{
	FILE *f = fopen(path, "re");
	char buf[1024];
	size_t len;

	if (!f)
		return err_from_errno(errno, path);
	if (!fgets(buf, sizeof buf, f))
		buf[0] = '\0';
	fclose(f);
	len = strcspn(buf, "\r\n");
	buf[len] = '\0';
	if (!len) {
		explicit_bzero(buf, sizeof buf);
		return err_set(ERR_INVALID, "%s: the client secret file is empty", path);
	}
	*out = strdup(buf);
	explicit_bzero(buf, sizeof buf);
	return *out ? ERR_OK : err_set(ERR_NOMEM, "out of memory");
}

enum err oidc_start(const struct config *cfg)
{
	enum err rc = ERR_OK;

	memset(&rp, 0, sizeof rp);
	rp.jwks_refetch_s = cfg->oidc_jwks_refetch_ms / 1000;
	if (!cfg->n_oidc)
		return ERR_OK;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		return err_set(ERR_INTERNAL, "libcurl would not start");
	rp.curl_on = true;
	rp.p = calloc(cfg->n_oidc, sizeof *rp.p);
	rp.ca_file = cfg->oidc_ca_file ? strdup(cfg->oidc_ca_file) : NULL;
	if (!rp.p || (cfg->oidc_ca_file && !rp.ca_file)) {
		oidc_stop();
		return err_set(ERR_NOMEM, "out of memory");
	}
	/* The redirect URI starts with the same base as every absolute link. */
	rc = publicurl_resolve(cfg, &rp.public_url);
	if (rc) {
		oidc_stop();
		return rc;
	}
	for (size_t i = 0; i < cfg->n_oidc && !rc; i++) {
		struct provider *p = &rp.p[i];

		p->conf = &cfg->oidc[i];
		pthread_mutex_init(&p->lock, NULL);
		rp.n++;
		if (p->conf->client_secret_file)
			rc = read_secret(p->conf->client_secret_file, &p->secret);
	}
	if (rc)
		oidc_stop();
	return rc;
}

void oidc_stop(void)
{
	for (size_t i = 0; i < rp.n; i++) {
		struct provider *p = &rp.p[i];

		if (p->secret) {
			explicit_bzero(p->secret, strlen(p->secret));
			free(p->secret);
		}
		json_decref(p->discovery);
		json_decref(p->jwks);
		pthread_mutex_destroy(&p->lock);
	}
	free(rp.p);
	free(rp.ca_file);
	free(rp.public_url);
	if (rp.curl_on)
		curl_global_cleanup();
	memset(&rp, 0, sizeof rp);
}

const struct oidc_provider_conf *oidc_provider_at(size_t i)
{
	return i < rp.n ? rp.p[i].conf : NULL;
}

static struct provider *provider_of(const struct oidc_provider_conf *c)
{
	for (size_t i = 0; i < rp.n; i++)
		if (rp.p[i].conf == c)
			return &rp.p[i];
	return NULL;
}

const struct oidc_provider_conf *oidc_provider_find(const char *name)
{
	for (size_t i = 0; i < rp.n; i++)
		if (!strcmp(rp.p[i].conf->name, name))
			return rp.p[i].conf;
	return NULL;
}

void oidc_redirect_uri(char *buf, size_t n)
{
	snprintf(buf, n, "%s/api/v1/auth/oidc/callback", rp.public_url ? rp.public_url : "");
}

static void b64url(const unsigned char *in, size_t len, char *out, size_t outcap)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	size_t o = 0;

	if (outcap < (len * 4 + 2) / 3 + 1) {
		if (outcap)
			out[0] = '\0';
		return;
	}
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = a[(v >> 18) & 63];
		out[o++] = a[(v >> 12) & 63];
		if (i + 1 < len)
			out[o++] = a[(v >> 6) & 63];
		if (i + 2 < len)
			out[o++] = a[v & 63];
	}
	out[o] = '\0';
}

void oidc_pkce_challenge(const char *verifier, char out[44])
{
	unsigned char h[32];

	EVP_Digest(verifier, strlen(verifier), h, NULL, EVP_sha256(), NULL);
	b64url(h, sizeof h, out, 44);
}

/* --- HTTP to the provider ------------------------------------------------------------ */

struct fetched {
	char *data;
	size_t len;
	bool too_big;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct fetched *f = arg;
	size_t n = size * nmemb;
	char *grown;

	if (f->len + n > FETCH_MAX) {
		f->too_big = true;
		return 0;
	}
	grown = realloc(f->data, f->len + n + 1);
	if (!grown)
		return 0;
	f->data = grown;
	memcpy(f->data + f->len, ptr, n);
	f->len += n;
	f->data[f->len] = '\0';
	return n;
}

/* GET (form == NULL) or POST a form to `url`; the JSON object answered
 * with a 2xx, or ERR_BAD_GATEWAY with a detail naming `what`. A 4xx
 * from the token endpoint carries an OAuth error: *status tells. */
static enum err fetch_json(const char *url, const char *form, const char *user,
			   const char *password, const char *bearer, const char *what, json_t **out,
			   long *status)
{
	CURL *c = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	struct fetched f = {0};
	char auth[4200];
	long code = 0;
	CURLcode cc;
	json_error_t je;
	enum err rc = ERR_OK;

	*out = NULL;
	if (!c)
		return err_set(ERR_NOMEM, "out of memory");
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (bearer) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", bearer);
		hdrs = curl_slist_append(hdrs, auth);
		explicit_bzero(auth, sizeof auth);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (rp.ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, rp.ca_file);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)FETCH_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "consort");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &f);
	if (form) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
		if (user) {
			curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
			curl_easy_setopt(c, CURLOPT_USERNAME, user);
			curl_easy_setopt(c, CURLOPT_PASSWORD, password);
		}
	}
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (status)
		*status = code;
	if (cc != CURLE_OK)
		rc = err_set(ERR_BAD_GATEWAY, "%s: %s", what,
			     f.too_big ? "answer too large" : curl_easy_strerror(cc));
	else if ((code < 200 || code > 299) && !(status && code >= 400 && code < 500))
		rc = err_set(ERR_BAD_GATEWAY, "%s: HTTP status %ld", what, code);
	else if (!f.data || !(*out = json_loadb(f.data, f.len, 0, &je)) || !json_is_object(*out))
		rc = err_set(ERR_BAD_GATEWAY, "%s: the answer is not a JSON object", what);
	if (rc) {
		json_decref(*out);
		*out = NULL;
	}
	free(f.data);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return rc;
}

/* The provider's discovery document (a new reference), fetched when not
 * cached or stale. The issuer it names must be the configured one. */
static enum err discovery(struct provider *p, json_t **out)
{
	char url[2048];
	const char *iss;
	json_t *d;
	enum err rc;
	int64_t now = db_now();

	pthread_mutex_lock(&p->lock);
	if (p->discovery && now - p->discovery_at < DISCOVERY_TTL_S) {
		*out = json_incref(p->discovery);
		pthread_mutex_unlock(&p->lock);
		return ERR_OK;
	}
	pthread_mutex_unlock(&p->lock);
	snprintf(url, sizeof url, "%s%s.well-known/openid-configuration", p->conf->issuer,
		 p->conf->issuer[strlen(p->conf->issuer) - 1] == '/' ? "" : "/");
	rc = fetch_json(url, NULL, NULL, NULL, NULL, "the provider's discovery document", &d, NULL);
	if (rc)
		return rc;
	iss = json_string_value(json_object_get(d, "issuer"));
	if (!iss || strcmp(iss, p->conf->issuer) != 0 ||
	    !json_is_string(json_object_get(d, "authorization_endpoint")) ||
	    !json_is_string(json_object_get(d, "token_endpoint")) ||
	    !json_is_string(json_object_get(d, "jwks_uri"))) {
		json_decref(d);
		return err_set(ERR_BAD_GATEWAY,
			       "the discovery document names another issuer or lacks endpoints");
	}
	pthread_mutex_lock(&p->lock);
	json_decref(p->discovery);
	p->discovery = json_incref(d);
	p->discovery_at = now;
	pthread_mutex_unlock(&p->lock);
	*out = d;
	return ERR_OK;
}

/* The provider's key set (a new reference). `refetch`: the cached set
 * lacked a token's kid; fetched again unless that was done less than
 * oidc-jwks-refetch ago (a stream of made-up kids costs one fetch per
 * interval). */
static enum err jwks(struct provider *p, const json_t *disc, bool refetch, json_t **out)
{
	int64_t now = db_now();
	json_t *k;
	enum err rc;

	pthread_mutex_lock(&p->lock);
	if (p->jwks && ((!refetch && now - p->jwks_at < DISCOVERY_TTL_S) ||
			(refetch && now - p->jwks_at < rp.jwks_refetch_s))) {
		*out = json_incref(p->jwks);
		pthread_mutex_unlock(&p->lock);
		return refetch ? ERR_LIMIT : ERR_OK;
	}
	pthread_mutex_unlock(&p->lock);
	rc = fetch_json(json_string_value(json_object_get(disc, "jwks_uri")), NULL, NULL, NULL,
			NULL, "the provider's keys", &k, NULL);
	if (rc)
		return rc;
	if (!json_is_array(json_object_get(k, "keys"))) {
		json_decref(k);
		return err_set(ERR_BAD_GATEWAY, "the provider's keys are not a JWK Set");
	}
	pthread_mutex_lock(&p->lock);
	json_decref(p->jwks);
	p->jwks = json_incref(k);
	p->jwks_at = now;
	pthread_mutex_unlock(&p->lock);
	*out = k;
	return ERR_OK;
}

/* --- the authorization request ---------------------------------------------------------- */

static char *escape(CURL *c, const char *s) { return curl_easy_escape(c, s, 0); }

enum err oidc_authorize_url(const struct oidc_provider_conf *conf, const char *state,
			    const char *nonce, const char *challenge, char **url)
{
	struct provider *p = provider_of(conf);
	char redirect[1024];
	const char *ep;
	json_t *d;
	CURL *c;
	char *e_client, *e_redirect, *e_scope;
	enum err rc;
	int n;

	if (!p)
		return err_set(ERR_NOTFOUND, "no such provider");
	rc = discovery(p, &d);
	if (rc)
		return rc;
	ep = json_string_value(json_object_get(d, "authorization_endpoint"));
	oidc_redirect_uri(redirect, sizeof redirect);
	c = curl_easy_init();
	e_client = c ? escape(c, conf->client_id) : NULL;
	e_redirect = c ? escape(c, redirect) : NULL;
	e_scope = c ? escape(c, conf->scopes ? conf->scopes : "openid email profile") : NULL;
	*url = NULL;
	if (e_client && e_redirect && e_scope) {
		size_t cap = strlen(ep) + strlen(e_client) + strlen(e_redirect) + strlen(e_scope) +
			     strlen(state) + strlen(nonce) + strlen(challenge) + 256;

		*url = malloc(cap);
		if (*url) {
			n = snprintf(*url, cap,
				     "%s%cresponse_type=code&client_id=%s&redirect_uri=%s&scope=%s"
				     "&state=%s&nonce=%s&code_challenge=%s"
				     "&code_challenge_method=S256",
				     ep, strchr(ep, '?') ? '&' : '?', e_client, e_redirect, e_scope,
				     state, nonce, challenge);
			if (n < 0 || (size_t)n >= cap) {
				free(*url);
				*url = NULL;
			}
		}
	}
	curl_free(e_client);
	curl_free(e_redirect);
	curl_free(e_scope);
	if (c)
		curl_easy_cleanup(c);
	json_decref(d);
	return *url ? ERR_OK : err_set(ERR_NOMEM, "out of memory");
}

/* --- the ID token ------------------------------------------------------------------------ */

/* The algorithms a key type verifies. HMAC (oct keys) is refused: a
 * provider's keys are public, and a shared secret would make the token
 * forgeable by anyone who holds it. */
static bool alg_fits(const char *alg, cjose_jwk_kty_t kty)
{
	static const char *const rsa[] = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"};
	static const char *const ec[] = {"ES256", "ES384", "ES512"};

	if (kty == CJOSE_JWK_KTY_RSA) {
		for (size_t i = 0; i < sizeof rsa / sizeof rsa[0]; i++)
			if (!strcmp(alg, rsa[i]))
				return true;
	} else if (kty == CJOSE_JWK_KTY_EC) {
		for (size_t i = 0; i < sizeof ec / sizeof ec[0]; i++)
			if (!strcmp(alg, ec[i]))
				return true;
	}
	return false;
}

static bool in_string_array(const json_t *a, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
	{
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return true;
	}
	return false;
}

/* at_hash: the left half of the access token's hash with the hash of
 * the token's alg, base64url. */
static bool at_hash_ok(const char *alg, const char *access_token, const char *at_hash)
{
	const EVP_MD *md = strstr(alg, "384")   ? EVP_sha384()
			   : strstr(alg, "512") ? EVP_sha512()
						: EVP_sha256();
	unsigned char h[64];
	unsigned int len = 0;
	char enc[96];

	if (!EVP_Digest(access_token, strlen(access_token), h, &len, md, NULL))
		return false;
	b64url(h, len / 2, enc, sizeof enc);
	return !strcmp(enc, at_hash);
}

static enum err bad(const char *why) { return err_set(ERR_CREDENTIALS, "ID token: %s", why); }

static enum err check_claims(const json_t *c, const struct oidc_expect *e, const char *alg)
{
	const json_t *aud = json_object_get(c, "aud"), *azp = json_object_get(c, "azp");
	const json_t *exp = json_object_get(c, "exp"), *iat = json_object_get(c, "iat");
	const char *iss = json_string_value(json_object_get(c, "iss"));
	const char *nonce = json_string_value(json_object_get(c, "nonce"));
	const char *at_hash = json_string_value(json_object_get(c, "at_hash"));
	const char *sub = json_string_value(json_object_get(c, "sub"));

	if (!iss || strcmp(iss, e->issuer) != 0)
		return bad("issued by another issuer (iss)");
	if (json_is_string(aud)) {
		if (strcmp(json_string_value(aud), e->client_id) != 0)
			return bad("meant for another client (aud)");
	} else if (json_is_array(aud)) {
		if (!in_string_array(aud, e->client_id))
			return bad("meant for another client (aud)");
		if (json_array_size(aud) > 1 && !azp)
			return bad("several audiences and no azp");
	} else {
		return bad("no audience (aud)");
	}
	if (azp && (!json_is_string(azp) || strcmp(json_string_value(azp), e->client_id) != 0))
		return bad("authorized for another party (azp)");
	if (!json_is_integer(exp) && !json_is_real(exp))
		return bad("no expiry (exp)");
	if ((int64_t)json_number_value(exp) + e->skew <= e->now)
		return bad("expired (exp)");
	if (!json_is_integer(iat) && !json_is_real(iat))
		return bad("no issue time (iat)");
	if ((int64_t)json_number_value(iat) > e->now + e->skew)
		return bad("issued in the future (iat)");
	if ((int64_t)json_number_value(iat) < e->now - IAT_MAX_AGE_S - e->skew)
		return bad("issued too long ago (iat)");
	if (!nonce || !e->nonce || strcmp(nonce, e->nonce) != 0)
		return bad("the nonce is not this sign-in's");
	if (!sub || !*sub || strlen(sub) > 255)
		return bad("no subject (sub)");
	if (at_hash && e->access_token && !at_hash_ok(alg, e->access_token, at_hash))
		return bad("at_hash does not match the access token");
	return ERR_OK;
}

enum err oidc_check_id_token(const char *jwt, const json_t *keys, const struct oidc_expect *e,
			     json_t **claims)
{
	cjose_err ce;
	cjose_jws_t *jws;
	cjose_header_t *hdr;
	const char *alg, *kid;
	const json_t *jk;
	uint8_t *plain = NULL;
	size_t plain_len = 0, i;
	bool kid_found = false, verified = false;
	json_t *c;
	json_error_t je;
	enum err rc;

	*claims = NULL;
	jws = cjose_jws_import(jwt, strlen(jwt), &ce);
	if (!jws)
		return bad("not a signed JWT of a known algorithm");
	hdr = cjose_jws_get_protected(jws);
	alg = hdr ? cjose_header_get(hdr, CJOSE_HDR_ALG, &ce) : NULL;
	kid = hdr ? cjose_header_get(hdr, CJOSE_HDR_KID, &ce) : NULL;
	if (!alg || !strcmp(alg, "none")) {
		cjose_jws_release(jws);
		return bad("unsigned (alg none)");
	}
	if (e->algs && !in_string_array(e->algs, alg)) {
		cjose_jws_release(jws);
		return bad("an algorithm the provider does not announce");
	}
	json_array_foreach(json_object_get(keys, "keys"), i, jk)
	{
		const char *k_kid = json_string_value(json_object_get(jk, "kid"));
		const char *k_use = json_string_value(json_object_get(jk, "use"));
		const char *k_alg = json_string_value(json_object_get(jk, "alg"));
		cjose_jwk_t *key;
		char *text;

		if (kid && (!k_kid || strcmp(kid, k_kid) != 0))
			continue;
		if (k_use && strcmp(k_use, "sig") != 0)
			continue;
		if (k_alg && strcmp(k_alg, alg) != 0)
			continue;
		kid_found = true;
		text = json_dumps(jk, JSON_COMPACT);
		key = text ? cjose_jwk_import(text, strlen(text), &ce) : NULL;
		free(text);
		if (!key)
			continue;
		/* Only the algorithms of the key's own type. */
		if (alg_fits(alg, cjose_jwk_get_kty(key, &ce)) && cjose_jws_verify(jws, key, &ce))
			verified = true;
		cjose_jwk_release(key);
		if (verified)
			break;
	}
	if (!verified) {
		cjose_jws_release(jws);
		if (!kid_found)
			return err_set(ERR_NOTFOUND,
				       "ID token: signed with a key the provider does "
				       "not publish (kid)");
		return bad("the signature does not verify with the provider's keys");
	}
	if (!cjose_jws_get_plaintext(jws, &plain, &plain_len, &ce)) {
		cjose_jws_release(jws);
		return bad("no payload");
	}
	c = json_loadb((const char *)plain, plain_len, 0, &je);
	if (!c || !json_is_object(c)) {
		json_decref(c);
		cjose_jws_release(jws);
		return bad("the payload is not a JSON object");
	}
	rc = check_claims(c, e, alg);
	cjose_jws_release(jws);
	if (rc) {
		json_decref(c);
		return rc;
	}
	*claims = c;
	return ERR_OK;
}

/* --- the code exchange -------------------------------------------------------------------- */

void oidc_identity_clear(struct oidc_identity *id)
{
	if (!id)
		return;
	free(id->subject);
	free(id->email);
	free(id->name);
	free(id->org);
	free(id->amr);
	free(id->sid);
	memset(id, 0, sizeof *id);
}

/* True when `value` is one of the comma-separated `list`. */
static bool listed(const char *list, const char *value)
{
	size_t vlen = strlen(value);

	while (list && *list) {
		const char *end = strchr(list, ',');
		size_t len;

		while (*list == ' ')
			list++;
		len = end ? (size_t)(end - list) : strlen(list);
		while (len && list[len - 1] == ' ')
			len--;
		if (len == vlen && !strncmp(list, value, len))
			return true;
		list = end ? end + 1 : NULL;
	}
	return false;
}

static char *dup_claim(const json_t *claims, const char *name)
{
	const char *v = json_string_value(json_object_get(claims, name));

	return v && *v ? strdup(v) : NULL;
}

static enum err fill_identity(const struct oidc_provider_conf *conf, const json_t *c,
			      struct oidc_identity *out)
{
	const json_t *v = json_object_get(c, "email_verified"), *amr = json_object_get(c, "amr");
	const char *acr = json_string_value(json_object_get(c, "acr"));
	size_t i, used = 0;
	json_t *a;

	out->subject = dup_claim(c, "sub");
	out->email = dup_claim(c, conf->email_claim ? conf->email_claim : "email");
	out->name = dup_claim(c, conf->name_claim ? conf->name_claim : "name");
	out->org = conf->partner_claim ? dup_claim(c, conf->partner_claim) : NULL;
	out->sid = dup_claim(c, "sid");
	/* Some providers send the flag as a string. */
	out->email_verified =
		json_is_true(v) || (json_is_string(v) && !strcmp(json_string_value(v), "true"));
	out->amr = calloc(1, 256);
	if (!out->subject || !out->amr)
		return err_set(ERR_NOMEM, "out of memory");
	json_array_foreach(amr, i, a)
	{
		const char *s = json_string_value(a);

		if (!s)
			continue;
		if (listed(conf->mfa_amr ? conf->mfa_amr : "mfa", s))
			out->mfa = true;
		if (used + strlen(s) + 2 < 256)
			used += (size_t)snprintf(out->amr + used, 256 - used, "%s%s",
						 used ? " " : "", s);
	}
	if (acr && conf->mfa_acr && listed(conf->mfa_acr, acr))
		out->mfa = true;
	return ERR_OK;
}

enum err oidc_exchange(const struct oidc_provider_conf *conf, const char *code,
		       const char *verifier, const char *nonce, struct oidc_identity *out)
{
	struct provider *p = provider_of(conf);
	char redirect[1024];
	json_t *d = NULL, *tok = NULL, *keys = NULL, *claims = NULL, *ui = NULL;
	const char *id_token, *access_token;
	struct oidc_expect e = {0};
	char *form = NULL;
	CURL *c = NULL;
	long status = 0;
	enum err rc;

	memset(out, 0, sizeof *out);
	if (!p)
		return err_set(ERR_NOTFOUND, "no such provider");
	rc = discovery(p, &d);
	if (rc)
		return rc;
	oidc_redirect_uri(redirect, sizeof redirect);
	c = curl_easy_init();
	if (!c) {
		json_decref(d);
		return err_set(ERR_NOMEM, "out of memory");
	}
	{
		char *e_code = escape(c, code), *e_red = escape(c, redirect),
		     *e_ver = escape(c, verifier), *e_cid = escape(c, conf->client_id);
		size_t cap = 256 + (e_code ? strlen(e_code) : 0) + (e_red ? strlen(e_red) : 0) +
			     (e_ver ? strlen(e_ver) : 0) + (e_cid ? strlen(e_cid) : 0);

		form = e_code && e_red && e_ver && e_cid ? malloc(cap) : NULL;
		if (form)
			snprintf(form, cap,
				 "grant_type=authorization_code&code=%s&redirect_uri=%s"
				 "&code_verifier=%s%s%s",
				 e_code, e_red, e_ver,
				 p->secret ? "" : "&client_id=", p->secret ? "" : e_cid);
		curl_free(e_code);
		curl_free(e_red);
		curl_free(e_ver);
		curl_free(e_cid);
	}
	if (!form) {
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	{
		/* client_secret_basic: id and secret form-encoded first (RFC 6749 2.3.1). */
		char *u = p->secret ? escape(c, conf->client_id) : NULL;
		char *pw = p->secret ? escape(c, p->secret) : NULL;

		rc = fetch_json(json_string_value(json_object_get(d, "token_endpoint")), form, u,
				pw, NULL, "the provider's token endpoint", &tok, &status);
		curl_free(u);
		if (pw) {
			explicit_bzero(pw, strlen(pw));
			curl_free(pw);
		}
	}
	if (rc)
		goto out;
	if (status >= 400) {
		const char *err = json_string_value(json_object_get(tok, "error"));

		rc = err_set(ERR_CREDENTIALS, "the provider refused the code: %.64s",
			     err ? err : "unknown error");
		goto out;
	}
	id_token = json_string_value(json_object_get(tok, "id_token"));
	access_token = json_string_value(json_object_get(tok, "access_token"));
	if (!id_token) {
		rc = err_set(ERR_CREDENTIALS, "the provider sent no ID token");
		goto out;
	}
	e.issuer = conf->issuer;
	e.client_id = conf->client_id;
	e.nonce = nonce;
	e.access_token = access_token;
	e.algs = json_object_get(d, "id_token_signing_alg_values_supported");
	e.now = db_now();
	e.skew = CLOCK_SKEW_S;
	rc = jwks(p, d, false, &keys);
	if (!rc)
		rc = oidc_check_id_token(id_token, keys, &e, &claims);
	if (rc == ERR_NOTFOUND) {
		/* A kid we do not know: the provider may have rotated its keys. */
		json_decref(keys);
		keys = NULL;
		rc = jwks(p, d, true, &keys);
		if (rc == ERR_LIMIT)
			rc = err_set(
				ERR_CREDENTIALS,
				"ID token: signed with an unknown key (keys refetched recently)");
		else if (!rc)
			rc = oidc_check_id_token(id_token, keys, &e, &claims);
		if (rc == ERR_NOTFOUND)
			rc = err_set(ERR_CREDENTIALS, "%s", err_detail());
	}
	if (rc)
		goto out;
	if (conf->userinfo && access_token &&
	    json_is_string(json_object_get(d, "userinfo_endpoint"))) {
		const char *sub;

		rc = fetch_json(json_string_value(json_object_get(d, "userinfo_endpoint")), NULL,
				NULL, NULL, access_token, "the provider's UserInfo endpoint", &ui,
				NULL);
		if (rc)
			goto out;
		sub = json_string_value(json_object_get(ui, "sub"));
		if (!sub || strcmp(sub, json_string_value(json_object_get(claims, "sub"))) != 0) {
			rc = err_set(ERR_CREDENTIALS, "UserInfo is about another subject");
			goto out;
		}
		/* The ID token's own claims win; UserInfo fills gaps. */
		json_object_update_missing(claims, ui);
	}
	rc = fill_identity(conf, claims, out);
out:
	if (rc)
		oidc_identity_clear(out);
	free(form);
	curl_easy_cleanup(c);
	json_decref(d);
	json_decref(tok);
	json_decref(keys);
	json_decref(claims);
	json_decref(ui);
	return rc;
}
