/* Unit tests for server/api/totp.c: RFC 6238 appendix B vectors (SHA-1),
 * drift window, replay guard, RFC 4648 base32 vectors, otpauth URI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/totp.h"

static const unsigned char rfc_key[] = "12345678901234567890";

static void rfc6238_sha1_vectors(void **state)
{
	static const struct {
		int64_t t;
		uint32_t code;
	} v[] = {
		{59, 94287082},         {1111111109, 7081804},  {1111111111, 14050471},
		{1234567890, 89005924}, {2000000000, 69279037}, {20000000000, 65353130},
	};

	(void)state;
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		uint64_t step = (uint64_t)totp_step(v[i].t);

		assert_int_equal(totp_code(rfc_key, 20, step, 8), v[i].code);
		/* Six digits are the last six of the same value. */
		assert_int_equal(totp_code(rfc_key, 20, step, 6), v[i].code % 1000000);
	}
	assert_int_equal(totp_step(59), 1);
	assert_int_equal(totp_step(60), 2);
	assert_int_equal(totp_step(-1), -1);
}

static void verify_accepts_one_step_of_drift_and_never_twice(void **state)
{
	int64_t now = 1111111111, step = 0, cur = totp_step(now);
	char code[8];

	(void)state;
	for (int d = -2; d <= 2; d++) {
		snprintf(code, sizeof code, "%06u", totp_code(rfc_key, 20, (uint64_t)(cur + d), 6));
		assert_int_equal(totp_verify(rfc_key, 20, code, now, 0, &step), d >= -1 && d <= 1);
		if (d >= -1 && d <= 1)
			assert_int_equal(step, cur + d);
	}
	snprintf(code, sizeof code, "%06u", totp_code(rfc_key, 20, (uint64_t)cur, 6));
	/* Replay guard: the step must be newer than the last used one. */
	assert_false(totp_verify(rfc_key, 20, code, now, cur, &step));
	assert_true(totp_verify(rfc_key, 20, code, now, cur - 1, &step));
	/* Malformed codes. */
	assert_false(totp_verify(rfc_key, 20, "12345", now, 0, &step));
	assert_false(totp_verify(rfc_key, 20, "1234567", now, 0, &step));
	assert_false(totp_verify(rfc_key, 20, "12a456", now, 0, &step));
	assert_false(totp_verify(rfc_key, 20, "", now, 0, &step));
	/* A different key does not verify. */
	assert_false(totp_verify((const unsigned char *)"another key 12345678", 20, code, now, 0,
				 &step));
}

static void base32_rfc4648_vectors(void **state)
{
	static const char *const v[][2] = {
		{"", ""},
		{"f", "MY"},
		{"fo", "MZXQ"},
		{"foo", "MZXW6"},
		{"foob", "MZXW6YQ"},
		{"fooba", "MZXW6YTB"},
		{"foobar", "MZXW6YTBOI"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		char *b = totp_base32((const unsigned char *)v[i][0], strlen(v[i][0]));

		assert_string_equal(b, v[i][1]);
		free(b);
	}
}

static void otpauth_uri_encodes_label(void **state)
{
	char *uri = totp_uri("consort", "a+b@example.org", rfc_key, 20);

	(void)state;
	assert_string_equal(uri, "otpauth://totp/consort:a%2Bb%40example.org?"
				 "secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=consort"
				 "&algorithm=SHA1&digits=6&period=30");
	free(uri);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc6238_sha1_vectors),
		cmocka_unit_test(verify_accepts_one_step_of_drift_and_never_twice),
		cmocka_unit_test(base32_rfc4648_vectors),
		cmocka_unit_test(otpauth_uri_encodes_label),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
