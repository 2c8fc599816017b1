/* Unit tests for server/api/oidc.c: the ID token checks of
 * oidc_check_id_token with keys and tokens made here with libcjose (the
 * e2e test drives the same against real providers), the PKCE S256
 * challenge of RFC 7636 appendix B, and at_hash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/oidc.c"

#define ISS "https://op.example"
#define CID "consort"
#define NOW 1700000000

static cjose_jwk_t *rsa, *rsa2, *ec;

static int keys_up(void **state)
{
	static const uint8_t e[] = {1, 0, 1};
	cjose_err ce;

	(void)state;
	rsa = cjose_jwk_create_RSA_random(2048, e, sizeof e, &ce);
	rsa2 = cjose_jwk_create_RSA_random(2048, e, sizeof e, &ce);
	ec = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &ce);
	cjose_jwk_set_kid(rsa, "r1", 2, &ce);
	cjose_jwk_set_kid(rsa2, "r2", 2, &ce);
	cjose_jwk_set_kid(ec, "e1", 2, &ce);
	return rsa && rsa2 && ec ? 0 : -1;
}

static int keys_down(void **state)
{
	(void)state;
	cjose_jwk_release(rsa);
	cjose_jwk_release(rsa2);
	cjose_jwk_release(ec);
	return 0;
}

/* The public JWK Set of the given keys. */
static json_t *jwks_of(cjose_jwk_t *const *k, size_t n)
{
	json_t *keys = json_array();
	cjose_err ce;

	for (size_t i = 0; i < n; i++) {
		char *text = cjose_jwk_to_json(k[i], false, &ce);

		json_array_append_new(keys, json_loads(text, 0, NULL));
		free(text);
	}
	return json_pack("{s:o}", "keys", keys);
}

/* A compact JWS of `claims` signed by `key` with `alg` and `kid`. */
static char *sign(cjose_jwk_t *key, const char *alg, const char *kid, json_t *claims)
{
	cjose_err ce;
	cjose_header_t *h = cjose_header_new(&ce);
	char *payload = json_dumps(claims, JSON_COMPACT);
	cjose_jws_t *jws;
	const char *ser = NULL;
	char *out = NULL;

	cjose_header_set(h, CJOSE_HDR_ALG, alg, &ce);
	if (kid)
		cjose_header_set(h, CJOSE_HDR_KID, kid, &ce);
	jws = cjose_jws_sign(key, h, (const uint8_t *)payload, strlen(payload), &ce);
	if (jws && cjose_jws_export(jws, &ser, &ce))
		out = strdup(ser);
	cjose_jws_release(jws);
	cjose_header_release(h);
	free(payload);
	json_decref(claims);
	return out;
}

static json_t *good_claims(void)
{
	return json_pack("{s:s, s:s, s:s, s:i, s:i, s:s}", "iss", ISS, "aud", CID, "sub", "u1",
			 "iat", NOW - 5, "exp", NOW + 300, "nonce", "n1");
}

static const struct oidc_expect expect = {ISS, CID, "n1", NULL, NULL, NOW, 60};

/* 0: passes; else the detail must contain `why`. */
static void check(const char *jwt, const json_t *jwks, const struct oidc_expect *e, enum err want,
		  const char *why)
{
	json_t *claims = NULL;
	enum err rc;

	assert_non_null(jwt);
	rc = oidc_check_id_token(jwt, jwks, e, &claims);
	if (rc != want)
		fail_msg("wanted %d, got %d: %s", want, rc, err_detail());
	if (why)
		assert_non_null(strstr(err_detail(), why));
	if (!rc) {
		assert_string_equal(json_string_value(json_object_get(claims, "sub")), "u1");
		json_decref(claims);
	} else {
		assert_null(claims);
	}
}

static void signature_and_key_types(void **state)
{
	cjose_jwk_t *both[] = {rsa, ec};
	json_t *jwks = jwks_of(both, 2);
	char *t;

	(void)state;
	t = sign(rsa, "RS256", "r1", good_claims());
	check(t, jwks, &expect, ERR_OK, NULL);
	free(t);
	t = sign(ec, "ES256", "e1", good_claims());
	check(t, jwks, &expect, ERR_OK, NULL);
	free(t);
	/* Another key under a published kid. */
	t = sign(rsa2, "RS256", "r1", good_claims());
	check(t, jwks, &expect, ERR_CREDENTIALS, "does not verify");
	free(t);
	/* A kid the set lacks: the caller may refetch. */
	t = sign(rsa2, "RS256", "r2", good_claims());
	check(t, jwks, &expect, ERR_NOTFOUND, "kid");
	free(t);
	/* No kid: any key of the set that fits may verify. */
	t = sign(rsa, "PS256", NULL, good_claims());
	check(t, jwks, &expect, ERR_OK, NULL);
	free(t);
	/* An algorithm the discovery document does not list. */
	{
		struct oidc_expect e = expect;
		json_t *algs = json_pack("[s]", "ES256");

		e.algs = algs;
		t = sign(rsa, "RS256", "r1", good_claims());
		check(t, jwks, &e, ERR_CREDENTIALS, "does not announce");
		free(t);
		json_decref(algs);
	}
	json_decref(jwks);
}

static void alg_none_and_hmac_are_refused(void **state)
{
	cjose_jwk_t *one[] = {rsa};
	json_t *jwks = jwks_of(one, 1);
	json_t *claims = good_claims();
	char *payload = json_dumps(claims, JSON_COMPACT);
	const char *hdr = "{\"alg\":\"none\",\"kid\":\"r1\"}";
	char h64[128], p64[512], none[700];
	cjose_err ce;
	cjose_jwk_t *oct = cjose_jwk_create_oct_random(32, &ce);
	char *t;

	(void)state;
	json_decref(claims);
	b64url((const unsigned char *)hdr, strlen(hdr), h64, sizeof h64);
	b64url((const unsigned char *)payload, strlen(payload), p64, sizeof p64);
	snprintf(none, sizeof none, "%s.%s.", h64, p64);
	check(none, jwks, &expect, ERR_CREDENTIALS, NULL);
	/* HS256 under the RSA key's kid: an RSA key verifies no HMAC. */
	cjose_jwk_set_kid(oct, "r1", 2, &ce);
	t = sign(oct, "HS256", "r1", good_claims());
	check(t, jwks, &expect, ERR_CREDENTIALS, "does not verify");
	json_decref(jwks);
	/* Not even when the provider publishes the symmetric key itself. */
	{
		cjose_jwk_t *sym[] = {oct};
		json_t *bad = jwks_of(sym, 1);
		char *text = cjose_jwk_to_json(oct, true, &ce);

		json_decref(bad);
		bad = json_pack("{s:[o]}", "keys", json_loads(text, 0, NULL));
		check(t, bad, &expect, ERR_CREDENTIALS, "does not verify");
		free(text);
		json_decref(bad);
	}
	free(t);
	free(payload);
	cjose_jwk_release(oct);
}

/* Sign `c` with the RSA key and check it against `e`. */
static void claims_case(json_t *c, const struct oidc_expect *e, enum err want, const char *why)
{
	cjose_jwk_t *one[] = {rsa};
	json_t *jwks = jwks_of(one, 1);
	char *t = sign(rsa, "RS256", "r1", c);

	check(t, jwks, e, want, why);
	free(t);
	json_decref(jwks);
}

static json_t *with(const char *key, json_t *v)
{
	json_t *c = good_claims();

	if (v)
		json_object_set_new(c, key, v);
	else
		json_object_del(c, key);
	return c;
}

static void claims_are_checked(void **state)
{
	(void)state;
	claims_case(with("iss", json_string("https://evil.example")), &expect, ERR_CREDENTIALS,
		    "(iss)");
	claims_case(with("aud", json_string("other")), &expect, ERR_CREDENTIALS, "(aud)");
	claims_case(with("aud", NULL), &expect, ERR_CREDENTIALS, "(aud)");
	claims_case(with("aud", json_pack("[s]", CID)), &expect, ERR_OK, NULL);
	claims_case(with("aud", json_pack("[s, s]", CID, "other")), &expect, ERR_CREDENTIALS,
		    "no azp");
	{
		json_t *c = with("aud", json_pack("[s, s]", CID, "other"));

		json_object_set_new(c, "azp", json_string(CID));
		claims_case(c, &expect, ERR_OK, NULL);
	}
	claims_case(with("azp", json_string("other")), &expect, ERR_CREDENTIALS, "(azp)");
	/* exp and iat with the allowed skew (60 s here). */
	claims_case(with("exp", json_integer(NOW - 30)), &expect, ERR_OK, NULL);
	claims_case(with("exp", json_integer(NOW - 60)), &expect, ERR_CREDENTIALS, "expired");
	claims_case(with("exp", NULL), &expect, ERR_CREDENTIALS, "(exp)");
	claims_case(with("iat", json_integer(NOW + 59)), &expect, ERR_OK, NULL);
	claims_case(with("iat", json_integer(NOW + 61)), &expect, ERR_CREDENTIALS, "future");
	claims_case(with("iat", json_integer(NOW - IAT_MAX_AGE_S - 61)), &expect, ERR_CREDENTIALS,
		    "too long ago");
	claims_case(with("nonce", json_string("n0")), &expect, ERR_CREDENTIALS, "nonce");
	claims_case(with("nonce", NULL), &expect, ERR_CREDENTIALS, "nonce");
	claims_case(with("sub", NULL), &expect, ERR_CREDENTIALS, "(sub)");
}

/* OpenID Connect Core 1.0 appendix A.3: the access token and its at_hash. */
static void at_hash_is_checked(void **state)
{
	struct oidc_expect e = expect;

	(void)state;
	e.access_token = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
	claims_case(with("at_hash", json_string("77QmUPtjPfzWtF2AnpK9RQ")), &e, ERR_OK, NULL);
	claims_case(with("at_hash", json_string("77QmUPtjPfzWtF2AnpK9RR")), &e, ERR_CREDENTIALS,
		    "at_hash");
}

/* RFC 7636 appendix B. */
static void pkce_s256_challenge(void **state)
{
	char c[44];

	(void)state;
	oidc_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", c);
	assert_string_equal(c, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

static void mfa_lists(void **state)
{
	(void)state;
	assert_true(listed("mfa, otp", "otp"));
	assert_true(listed("mfa", "mfa"));
	assert_false(listed("mfa", "mf"));
	assert_false(listed("mfa,otp", "pwd"));
	assert_false(listed(NULL, "mfa"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(signature_and_key_types),
		cmocka_unit_test(alg_none_and_hmac_are_refused),
		cmocka_unit_test(claims_are_checked),
		cmocka_unit_test(at_hash_is_checked),
		cmocka_unit_test(pkce_s256_challenge),
		cmocka_unit_test(mfa_lists),
	};

	return cmocka_run_group_tests(tests, keys_up, keys_down);
}
