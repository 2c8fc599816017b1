/* Unit tests for server/api/apijson.c: the times the API accepts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "api/apijson.h"

static int64_t parsed(const char *s)
{
	int64_t t = -1;

	assert_true(apijson_parse_time(s, &t));
	return t;
}

static void test_forms(void **state)
{
	(void)state;
	assert_int_equal(parsed("1714564800"), 1714564800);
	assert_int_equal(parsed("2024-05-01"), 1714521600);
	assert_int_equal(parsed("2024-05-01T12:00:00Z"), 1714564800);
	assert_int_equal(parsed("2024-05-01t12:00:00z"), 1714564800);
	assert_int_equal(parsed("2024-05-01T12:00Z"), 1714564800);
	/* What JavaScript's toISOString gives: the fraction is dropped. */
	assert_int_equal(parsed("2024-05-01T12:00:00.999Z"), 1714564800);
	assert_int_equal(parsed("2024-05-01T14:00:00+02:00"), 1714564800);
	assert_int_equal(parsed("2024-05-01T06:30:00.5-05:30"), 1714564800);
	assert_int_equal(parsed("2024-02-29"), 1709164800);
	/* A leap second is the second before it. */
	assert_int_equal(parsed("2016-12-31T23:59:60Z"), parsed("2016-12-31T23:59:59Z"));
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"yesterday",
		"2024-5-1",
		"2024-05-1",
		"2023-02-29",
		"2024-04-31",
		"2024-13-01",
		"2024-00-10",
		"2024-05-00",
		"2024-05-01T",
		"2024-05-01T12:00:00",      /* no zone */
		"2024-05-01T12:00:00+0200", /* RFC 3339 has the colon */
		"2024-05-01T24:00:00Z",
		"2024-05-01T12:60:00Z",
		"2024-05-01T12:00:61Z",
		"2024-05-01T12:00:00.Z",
		"2024-05-01T12:00:00.1234567890Z",
		"2024-05-01T12:00:00+24:00",
		"2024-05-01T12:00:00Zjunk",
		"2024-05-01 12:00:00Z",
		" 2024-05-01",
		"2024-05-01x",
		"1234567890123", /* Unix seconds past year 33,000 */
	};
	int64_t t = 42;

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (apijson_parse_time(bad[i], &t))
			fail_msg("accepted '%s'", bad[i]);
		assert_int_equal(t, 42);
	}
	/* A date and time needs its time and zone; a day alone is not one. */
	assert_false(apijson_parse_datetime("2024-05-01", &t));
	assert_false(apijson_parse_datetime("1714564800", &t));
	assert_true(apijson_parse_datetime("2024-05-01T12:00:00Z", &t));
	assert_int_equal(t, 1714564800);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
