/*
 * oidc — the relying party of OpenID Connect sign-in: the providers of
 * the config file, their discovery documents and keys, the
 * authorization request (code flow with PKCE S256) and the callback's
 * code exchange with the validation of the ID token.
 *
 * HTTP to a provider goes through libcurl with certificate checks on
 * (oidc-ca-file may name the authorities), https only, no redirects,
 * bounded in time and size. It blocks, so oidc_authorize_url and
 * oidc_exchange run on a job thread, never on an event loop; the caches
 * they share are behind a mutex. JOSE is libcjose's: the ID token's
 * signature is checked with a key of the provider's JWKS whose type fits
 * the token's `alg`, and `alg` must be an asymmetric one (RS*, PS*, ES*),
 * so `none` and HMAC with a guessed secret never pass. An unknown `kid`
 * refetches the JWKS (key rotation), at most once per oidc-jwks-refetch.
 *
 * Who the identity then is (a linked account, a matching verified email,
 * a person waiting for approval) is decided by h_oidc.c.
 */
#ifndef CONSORT_OIDC_H
#define CONSORT_OIDC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct config;
struct oidc_provider_conf;

/* Process-wide set-up for `consort serve` (libcurl, the provider list,
 * client secrets read from their files). */
enum err oidc_start(const struct config *cfg);
void oidc_stop(void);

/* The configured providers, in config order; NULL past the end. */
const struct oidc_provider_conf *oidc_provider_at(size_t i);
const struct oidc_provider_conf *oidc_provider_find(const char *name);

/* PUBLIC-URL/api/v1/auth/oidc/callback into buf. */
void oidc_redirect_uri(char *buf, size_t n);

/* base64url(SHA-256(verifier)) into out[44]: the PKCE S256 challenge. */
void oidc_pkce_challenge(const char *verifier, char out[44]);

/* Blocking: the provider's authorization URL for a new sign-in
 * (discovery is fetched when not cached). *url is malloc'd. */
enum err oidc_authorize_url(const struct oidc_provider_conf *p, const char *state,
			    const char *nonce, const char *challenge, char **url);

/* Who a provider says signed in. */
struct oidc_identity {
	char *subject;
	char *email; /* NULL: none given */
	bool email_verified;
	char *name;
	char *org; /* the partner claim's value */
	bool mfa;  /* amr/acr says a second factor was used */
	char *amr; /* amr values joined by ' ', for the audit */
	char *sid; /* the provider's session id (front-channel logout), or NULL */
};

void oidc_identity_clear(struct oidc_identity *id);

/* Blocking: exchange `code` (with the PKCE verifier) at the token
 * endpoint, validate the ID token against `nonce`, ask UserInfo when
 * configured, and fill *out. ERR_CREDENTIALS with a detail for a token
 * that does not validate; ERR_BAD_GATEWAY when the provider cannot be
 * reached or answers nonsense. */
enum err oidc_exchange(const struct oidc_provider_conf *p, const char *code, const char *verifier,
		       const char *nonce, struct oidc_identity *out);

/* What an ID token is checked against. */
struct oidc_expect {
	const char *issuer;
	const char *client_id;
	const char *nonce;
	const char *access_token; /* for at_hash; NULL: none was issued */
	const json_t *algs;       /* id_token_signing_alg_values_supported, or NULL */
	int64_t now;
	int64_t skew; /* seconds of clock difference allowed */
};

/* Validate a compact ID token with the keys of `jwks` (a JWK Set).
 * *claims receives the payload. ERR_CREDENTIALS with a detail on any
 * failure; ERR_NOTFOUND when no key has the token's `kid` (the caller
 * may refetch the keys once). */
enum err oidc_check_id_token(const char *jwt, const json_t *jwks, const struct oidc_expect *e,
			     json_t **claims);

#endif
