/* Unit tests for storage/csv.c: RFC 4180 records (quotes, doubled
 * quotes, separators and line breaks inside quotes, CRLF and LF, a BOM,
 * ';' detected), the line numbers of records and errors as an editor
 * shows them, every refusal, and csv_put's quoting (formula guard
 * included) read back by csv_next. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "csv.h"

static void expect_record(struct csv *c, size_t line, size_t n, const char *const *want)
{
	char **f;
	size_t got, at;

	assert_int_equal(csv_next(c, &f, &got, &at), ERR_OK);
	assert_int_equal(got, n);
	assert_int_equal(at, line);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(f[i], want[i]);
}

static void expect_end(struct csv *c)
{
	char **f;
	size_t n, at;

	assert_int_equal(csv_next(c, &f, &n, &at), ERR_OK);
	assert_int_equal(n, 0);
}

static void test_quotes_and_lines(void **state)
{
	static const char in[] = "\xef\xbb\xbf"
				 "a,b,c\r\n"
				 "\"x, y\",\"say \"\"hi\"\"\",\r\n"
				 "\n"
				 "\"two\nlines\",2,\"\"\n"
				 "last,,end";
	struct csv *c = csv_new(in, sizeof in - 1);

	(void)state;
	expect_record(c, 1, 3, (const char *const[]){"a", "b", "c"});
	expect_record(c, 2, 3, (const char *const[]){"x, y", "say \"hi\"", ""});
	expect_record(c, 4, 3, (const char *const[]){"two\nlines", "2", ""});
	expect_record(c, 6, 3, (const char *const[]){"last", "", "end"});
	expect_end(c);
	expect_end(c);
	csv_free(c);
}

static void test_semicolon_detected(void **state)
{
	static const char in[] = "No;Name;Due\nD1.1;\"A; b\";6\n";
	struct csv *c = csv_new(in, sizeof in - 1);

	(void)state;
	expect_record(c, 1, 3, (const char *const[]){"No", "Name", "Due"});
	expect_record(c, 2, 3, (const char *const[]){"D1.1", "A; b", "6"});
	expect_end(c);
	csv_free(c);
}

static void expect_error(const char *in, size_t len, const char *detail)
{
	struct csv *c = csv_new(in, len);
	enum err rc = ERR_OK;
	char **f;
	size_t n, at;

	do
		rc = csv_next(c, &f, &n, &at);
	while (!rc && n);
	assert_int_equal(rc, ERR_INVALID);
	if (!strstr(err_detail(), detail))
		fail_msg("detail '%s' lacks '%s'", err_detail(), detail);
	/* the reader is done after an error */
	assert_int_equal(csv_next(c, &f, &n, &at), ERR_OK);
	assert_int_equal(n, 0);
	csv_free(c);
}

static void test_refusals(void **state)
{
	char big[CSV_MAX_FIELD + 16];
	char many[4 * CSV_MAX_FIELDS];

	(void)state;
	expect_error("a,b\nc,d\"e\n", 10, "line 2: a quote inside an unquoted field");
	expect_error("a\n\"open,\nmore\n", 14, "line 2: a quoted field is not closed");
	expect_error("a\n\"x\"y,z\n", 9, "line 2: text after the closing quote");
	expect_error("a\nb\0c\n", 6, "line 2: NUL byte");
	expect_error("a\n\"x\n\xff\"\n", 8, "line 3: not valid UTF-8");
	expect_error("\xc0\xaf", 2, "line 1: not valid UTF-8");     /* overlong */
	expect_error("\xed\xa0\x80", 3, "line 1: not valid UTF-8"); /* surrogate */
	memset(big, 'x', sizeof big);
	expect_error(big, sizeof big, "longer than 4096");
	memset(many, ',', sizeof many);
	expect_error(many, sizeof many, "more than 64 fields");
}

static void test_put_round_trip(void **state)
{
	static const char *const vals[] = {
		"plain", "with, comma", "say \"hi\"", "two\nlines", "=1+2", "", "ünïcode", NULL};
	char *buf = NULL, **f;
	size_t len = 0, cap = 0, n, at;
	struct csv *c;

	(void)state;
	for (int i = 0; i < 7; i++)
		assert_int_equal(csv_put(&buf, &len, &cap, vals[i], i == 6), ERR_OK);
	assert_int_equal(csv_put(&buf, &len, &cap, NULL, 1), ERR_OK);
	assert_non_null(strstr(buf, "\"'=1+2\""));
	assert_int_equal(strlen(buf), len);
	c = csv_new(buf, len);
	assert_int_equal(csv_next(c, &f, &n, &at), ERR_OK);
	assert_int_equal(n, 7);
	for (int i = 0; i < 7; i++)
		assert_string_equal(f[i], i == 4 ? "'=1+2" : vals[i]);
	csv_free(c);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quotes_and_lines),
		cmocka_unit_test(test_semicolon_detected),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_put_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
