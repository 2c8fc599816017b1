/* Unit tests for storage/digest.c against published test vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "digest.h"

static void sha256_vectors(void **state)
{
	unsigned char out[DIGEST_SHA256_LEN];
	char hex[DIGEST_SHA256_HEX_LEN + 1];
	struct digest *d = digest_new(DIGEST_SHA256);

	(void)state;
	digest_sha256("abc", 3, out);
	digest_hex(out, sizeof out, hex);
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* incremental over pieces equals one shot */
	digest_update(d, "a", 1);
	digest_update(d, "bc", 2);
	digest_final(d, out);
	digest_hex(out, sizeof out, hex);
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* a peek leaves the hash going: "ab" so far, then "abc" */
	digest_update(d, "ab", 2);
	assert_true(digest_peek(d, out));
	digest_hex(out, sizeof out, hex);
	assert_string_equal(hex,
			    "fb8e20fc2e4c3f248c60c39bd652f3c1347298bb977b8b4d5903b85055620603");
	digest_update(d, "c", 1);
	digest_final(d, out);
	digest_hex(out, sizeof out, hex);
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* final resets: the empty string next */
	digest_final(d, out);
	digest_hex(out, sizeof out, hex);
	assert_string_equal(hex,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	digest_free(d);
}

static void sha1_and_hmac_vectors(void **state)
{
	unsigned char out[DIGEST_SHA1_LEN];
	char hex[2 * DIGEST_SHA1_LEN + 1];
	struct digest *d = digest_new(DIGEST_SHA1);

	(void)state;
	digest_update(d, "abc", 3);
	digest_final(d, out);
	digest_hex(out, sizeof out, hex);
	assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
	digest_free(d);
	/* RFC 2202 test case 2 */
	digest_hmac_sha1("Jefe", 4, "what do ya want for nothing?", 28, out);
	digest_hex(out, sizeof out, hex);
	assert_string_equal(hex, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
}

static void hex_round_trip_and_rejects(void **state)
{
	unsigned char in[3] = {0x00, 0xab, 0xff}, out[3];
	char hex[7];

	(void)state;
	digest_hex(in, 3, hex);
	assert_string_equal(hex, "00abff");
	assert_true(digest_unhex("00ABff", out, 3));
	assert_memory_equal(in, out, 3);
	assert_false(digest_unhex("00abfg", out, 3));
	assert_false(digest_unhex("00ab", out, 3));
	assert_false(digest_unhex("00abff00", out, 3));
}

static void base64_vectors(void **state)
{
	unsigned char out[16];
	char *s;

	(void)state;
	s = digest_base64((const unsigned char *)"foobar", 6);
	assert_string_equal(s, "Zm9vYmFy");
	free(s);
	s = digest_base64((const unsigned char *)"fo", 2);
	assert_string_equal(s, "Zm8=");
	free(s);
	assert_int_equal(digest_unbase64("Zm8=", 4, out, sizeof out), 2);
	assert_memory_equal(out, "fo", 2);
	assert_int_equal(digest_unbase64("Zm8", 3, out, sizeof out), 2);
	assert_int_equal(digest_unbase64("Zm9vYmFy", 8, out, sizeof out), 6);
	assert_int_equal(digest_unbase64("Zm9v!mFy", 8, out, sizeof out), -1);
	assert_int_equal(digest_unbase64("Z===", 4, out, sizeof out), -1);
	assert_int_equal(digest_unbase64("Zm9vYmFy", 8, out, 5), -1);
}

static void equal_and_random(void **state)
{
	unsigned char a[32], b[32];

	(void)state;
	assert_int_equal(digest_random(a, sizeof a), ERR_OK);
	memcpy(b, a, sizeof a);
	assert_true(digest_equal(a, b, sizeof a));
	b[31] ^= 1;
	assert_false(digest_equal(a, b, sizeof a));
}

/* The one hex digit decoder (percent-escapes, chunk sizes, digests). */
static void hexval_digits(void **state)
{
	(void)state;
	assert_int_equal(digest_hexval('0'), 0);
	assert_int_equal(digest_hexval('9'), 9);
	assert_int_equal(digest_hexval('a'), 10);
	assert_int_equal(digest_hexval('F'), 15);
	assert_int_equal(digest_hexval('g'), -1);
	assert_int_equal(digest_hexval('/'), -1);
	assert_int_equal(digest_hexval(':'), -1);
	assert_int_equal(digest_hexval('\0'), -1);
	assert_int_equal(digest_hexval((unsigned char)0xe0), -1);
	assert_int_equal(digest_hexval((char)0xe0), -1);
}

/* RFC 4648 10 vectors, in the URL alphabet and without padding. */
static void base64url_vectors(void **state)
{
	static const struct {
		const char *in;
		const char *out;
	} v[] = {
		{"", ""},
		{"f", "Zg"},
		{"fo", "Zm8"},
		{"foo", "Zm9v"},
		{"foob", "Zm9vYg"},
		{"fooba", "Zm9vYmE"},
		{"foobar", "Zm9vYmFy"},
		{"\xfb\xff", "-_8"},
		{"\xff\xff\xfe", "___-"},
	};
	unsigned char raw[32];
	char out[DIGEST_BASE64URL_LEN(32) + 1];

	(void)state;
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		size_t len = strlen(v[i].in);

		digest_base64url((const unsigned char *)v[i].in, len, out);
		assert_string_equal(out, v[i].out);
		assert_int_equal(strlen(out), DIGEST_BASE64URL_LEN(len));
	}
	/* 32 bytes: the 43 characters of a session or API secret. */
	memset(raw, 0xff, sizeof raw);
	digest_base64url(raw, sizeof raw, out);
	assert_int_equal(strlen(out), 43);
	assert_null(strpbrk(out, "+/="));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sha256_vectors),
		cmocka_unit_test(sha1_and_hmac_vectors),
		cmocka_unit_test(hex_round_trip_and_rejects),
		cmocka_unit_test(base64_vectors),
		cmocka_unit_test(hexval_digits),
		cmocka_unit_test(base64url_vectors),
		cmocka_unit_test(equal_and_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
