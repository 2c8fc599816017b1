/* Unit tests for server/http/httpparse.c: the strict request-head parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http/httpparse.h"

/* Runs find_end then head on a NUL-terminated request. */
static enum httpparse_status parse(const char *s, struct httpparse_head *h)
{
	size_t scanned = 0, head_len = 0, len = strlen(s);
	const char *why;
	enum httpparse_status st = httpparse_find_end(s, len, &scanned, &head_len);

	if (st != HTTPPARSE_OK)
		return st;
	return httpparse_head(s, head_len, 8192, h, &why);
}

static void parses_a_simple_request(void **state)
{
	struct httpparse_head h;

	(void)state;
	assert_int_equal(parse("GET /a/b?x=1 HTTP/1.1\r\nHost: example\r\nX-Empty:\r\n"
			       "X-Pad:   v  \r\n\r\n",
			       &h),
			 HTTPPARSE_OK);
	assert_int_equal(h.method_len, 3);
	assert_memory_equal(h.method, "GET", 3);
	assert_int_equal(h.target_len, 8);
	assert_memory_equal(h.target, "/a/b?x=1", 8);
	assert_int_equal(h.minor_version, 1);
	assert_int_equal(h.nfields, 3);
	assert_int_equal(h.fields[1].value_len, 0);
	assert_int_equal(h.fields[2].value_len, 1);
	assert_memory_equal(h.fields[2].value, "v", 1);
}

static void finds_end_incrementally(void **state)
{
	const char *req = "GET / HTTP/1.1\r\nHost: a\r\n\r\nNEXT";
	size_t scanned = 0, head_len = 0;

	(void)state;
	for (size_t n = 1; n < 27; n++)
		assert_int_equal(httpparse_find_end(req, n, &scanned, &head_len),
				 HTTPPARSE_INCOMPLETE);
	assert_int_equal(httpparse_find_end(req, strlen(req), &scanned, &head_len), HTTPPARSE_OK);
	assert_int_equal(head_len, 27);
}

static void accepts_a_few_leading_empty_lines(void **state)
{
	struct httpparse_head h;

	(void)state;
	assert_int_equal(parse("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", &h), HTTPPARSE_OK);
	assert_int_equal(parse("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", &h),
			 HTTPPARSE_BAD);
}

static void refuses_smuggling_shapes(void **state)
{
	struct httpparse_head h;
	static const char *const bad[] = {
		"GET / HTTP/1.1\nHost: a\r\n\r\n",               /* bare LF */
		"GET / HTTP/1.1\r\nHost: a\n\r\n",               /* bare LF */
		"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",  /* obs-fold */
		"GET / HTTP/1.1\r\nHost: a\r\n\tfolded\r\n\r\n", /* obs-fold */
		"GET / HTTP/1.1\r\nHost : a\r\n\r\n",            /* space before colon */
		"GET / HTTP/1.1\r\nHost\t: a\r\n\r\n",           /* tab before colon */
		"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",             /* CR in value */
		"GET / HTTP/1.1\r\nX: a\001b\r\n\r\n",           /* control in value */
		"GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n",            /* DEL in value */
		"GET / HTTP/1.1\r\n: novalue\r\n\r\n",           /* empty name */
		"GET / HTTP/1.1\r\nX(y): a\r\n\r\n",             /* separator in name */
		"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n",          /* space in target */
		"GET  / HTTP/1.1\r\nHost: a\r\n\r\n",            /* double space */
		"GET / HTTP/1.1 \r\nHost: a\r\n\r\n",            /* trailing space */
		"G\x01T / HTTP/1.1\r\nHost: a\r\n\r\n",          /* control in method */
		"GET / HTTP/1.1x\r\nHost: a\r\n\r\n",            /* junk version */
		"GET / http/1.1\r\nHost: a\r\n\r\n",             /* lower-case version */
		"GET /\x80 HTTP/1.1\r\nHost: a\r\n\r\n",         /* non-ASCII target */
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		enum httpparse_status st = parse(bad[i], &h);

		if (st != HTTPPARSE_BAD)
			fail_msg("case %zu accepted (status %d)", i, st);
	}
}

static void refuses_nul(void **state)
{
	static const char req[] = "GET / HTTP/1.1\r\nX: a\0b\r\n\r\n";
	size_t scanned = 0, head_len;

	(void)state;
	assert_int_equal(httpparse_find_end(req, sizeof req - 1, &scanned, &head_len),
			 HTTPPARSE_BAD);
}

static void version_and_size_limits(void **state)
{
	struct httpparse_head h;
	char *req;
	size_t n = 0;
	const char *why;
	size_t scanned = 0, head_len;

	(void)state;
	assert_int_equal(parse("GET / HTTP/2.0\r\nHost: a\r\n\r\n", &h), HTTPPARSE_VERSION);
	assert_int_equal(parse("GET / HTTP/1.2\r\nHost: a\r\n\r\n", &h), HTTPPARSE_VERSION);
	assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n", &h), HTTPPARSE_OK);
	assert_int_equal(h.minor_version, 0);

	/* 101 fields */
	req = malloc(8192);
	n += (size_t)sprintf(req + n, "GET / HTTP/1.1\r\n");
	for (int i = 0; i < HTTPPARSE_MAX_HEADERS + 1; i++)
		n += (size_t)sprintf(req + n, "X%d: v\r\n", i);
	n += (size_t)sprintf(req + n, "\r\n");
	assert_int_equal(parse(req, &h), HTTPPARSE_TOO_LARGE);

	/* long target */
	sprintf(req, "GET /%0300d HTTP/1.1\r\nHost: a\r\n\r\n", 0);
	assert_int_equal(httpparse_find_end(req, strlen(req), &scanned, &head_len), HTTPPARSE_OK);
	assert_int_equal(httpparse_head(req, head_len, 100, &h, &why), HTTPPARSE_URI_TOO_LONG);
	free(req);
}

static void chunk_sizes(void **state)
{
	uint64_t v;
	const char *why;

	(void)state;
	assert_true(httpparse_chunk_size("1a", 2, &v, &why));
	assert_int_equal(v, 26);
	assert_true(httpparse_chunk_size("FF;name=value", 13, &v, &why));
	assert_int_equal(v, 255);
	assert_true(httpparse_chunk_size("0", 1, &v, &why));
	assert_int_equal(v, 0);
	assert_true(httpparse_chunk_size("7fffffffffffffff", 16, &v, &why));
	assert_false(httpparse_chunk_size("8000000000000000", 16, &v, &why));
	assert_false(httpparse_chunk_size("10000000000000000", 17, &v, &why));
	assert_false(httpparse_chunk_size("", 0, &v, &why));
	assert_false(httpparse_chunk_size("0x10", 4, &v, &why));
	assert_false(httpparse_chunk_size("-1", 2, &v, &why));
	assert_false(httpparse_chunk_size(" 1", 2, &v, &why));
	assert_false(httpparse_chunk_size("1;a\nb", 5, &v, &why));
	assert_false(httpparse_chunk_size("1;a\rb", 5, &v, &why));
	assert_false(httpparse_chunk_size("1 x", 3, &v, &why));
	/* issue 13: white space is allowed only before an extension */
	assert_true(httpparse_chunk_size("1a ;x", 5, &v, &why));
	assert_int_equal(v, 0x1a);
	assert_false(httpparse_chunk_size("5 ", 2, &v, &why));
	assert_string_equal(why, "white space after chunk size without an extension");
	assert_false(httpparse_chunk_size("5\t", 2, &v, &why));
}

static void content_lengths(void **state)
{
	uint64_t v;

	(void)state;
	assert_true(httpparse_content_length("0", 1, &v));
	assert_true(httpparse_content_length("123", 3, &v));
	assert_int_equal(v, 123);
	assert_false(httpparse_content_length("", 0, &v));
	assert_false(httpparse_content_length("+5", 2, &v));
	assert_false(httpparse_content_length("-5", 2, &v));
	assert_false(httpparse_content_length("5,5", 3, &v));
	assert_false(httpparse_content_length("5 ", 2, &v));
	assert_false(httpparse_content_length("0x5", 3, &v));
	assert_false(httpparse_content_length("1234567890123456789", 19, &v));
}

static void trailer_fields(void **state)
{
	const char *why;

	(void)state;
	assert_true(httpparse_trailer_field("X-Sum: abc", 10, &why));
	assert_false(httpparse_trailer_field(" X: a", 5, &why));
	assert_false(httpparse_trailer_field("X : a", 5, &why));
}

static void ranges(void **state)
{
	uint64_t a, b;

	(void)state;
	assert_int_equal(httpparse_range(NULL, 100, &a, &b), HTTPPARSE_RANGE_NONE);
	assert_int_equal(httpparse_range("bytes=0-9", 100, &a, &b), HTTPPARSE_RANGE_PARTIAL);
	assert_true(a == 0 && b == 9);
	assert_int_equal(httpparse_range("bytes=90-", 100, &a, &b), HTTPPARSE_RANGE_PARTIAL);
	assert_true(a == 90 && b == 99);
	assert_int_equal(httpparse_range("bytes=90-1000", 100, &a, &b), HTTPPARSE_RANGE_PARTIAL);
	assert_true(a == 90 && b == 99);
	assert_int_equal(httpparse_range("bytes=-10", 100, &a, &b), HTTPPARSE_RANGE_PARTIAL);
	assert_true(a == 90 && b == 99);
	assert_int_equal(httpparse_range("bytes=-1000", 100, &a, &b), HTTPPARSE_RANGE_PARTIAL);
	assert_true(a == 0 && b == 99);
	assert_int_equal(httpparse_range("bytes=100-", 100, &a, &b), HTTPPARSE_RANGE_UNSATISFIABLE);
	assert_int_equal(httpparse_range("bytes=-0", 100, &a, &b), HTTPPARSE_RANGE_UNSATISFIABLE);
	assert_int_equal(httpparse_range("bytes=0-", 0, &a, &b), HTTPPARSE_RANGE_UNSATISFIABLE);
	/* ignored: other units, lists, garbage, reversed, overflow */
	assert_int_equal(httpparse_range("items=0-9", 100, &a, &b), HTTPPARSE_RANGE_NONE);
	assert_int_equal(httpparse_range("bytes=0-1,5-6", 100, &a, &b), HTTPPARSE_RANGE_NONE);
	assert_int_equal(httpparse_range("bytes=x-9", 100, &a, &b), HTTPPARSE_RANGE_NONE);
	assert_int_equal(httpparse_range("bytes=9-1", 100, &a, &b), HTTPPARSE_RANGE_NONE);
	assert_int_equal(httpparse_range("bytes=0-9x", 100, &a, &b), HTTPPARSE_RANGE_NONE);
	assert_int_equal(httpparse_range("bytes=99999999999999999999-", 100, &a, &b),
			 HTTPPARSE_RANGE_NONE);
	assert_int_equal(httpparse_range("bytes=-", 100, &a, &b), HTTPPARSE_RANGE_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_a_simple_request),
		cmocka_unit_test(finds_end_incrementally),
		cmocka_unit_test(accepts_a_few_leading_empty_lines),
		cmocka_unit_test(refuses_smuggling_shapes),
		cmocka_unit_test(refuses_nul),
		cmocka_unit_test(version_and_size_limits),
		cmocka_unit_test(chunk_sizes),
		cmocka_unit_test(content_lengths),
		cmocka_unit_test(trailer_fields),
		cmocka_unit_test(ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
