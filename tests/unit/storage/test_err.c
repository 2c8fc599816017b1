/* Unit tests for storage/err.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "err.h"

static void set_returns_code_and_keeps_detail(void **state)
{
	(void)state;
	assert_int_equal(err_set(ERR_INVALID, "name %s", "x"), ERR_INVALID);
	assert_string_equal(err_detail(), "name x");
	err_clear();
	assert_string_equal(err_detail(), "");
}

static void detail_is_truncated_not_overflowed(void **state)
{
	char big[2000];

	(void)state;
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	err_set(ERR_INVALID, "%s", big);
	assert_true(strlen(err_detail()) < 512);
}

/* tls.c and db.c wrap the detail of a failed call in their own:
 * err_set(rc, "...: %s", err_detail()) formatted into the buffer it read. */
static void detail_may_include_itself(void **state)
{
	(void)state;
	err_set(ERR_IO, "no such file");
	err_set(ERR_IO, "load certificate %s: %s", "/etc/c.pem", err_detail());
	assert_string_equal(err_detail(), "load certificate /etc/c.pem: no such file");
	/* twice, and with the wrapped detail first */
	err_set(ERR_DB, "%s (migration %d)", err_detail(), 3);
	assert_string_equal(err_detail(),
			    "load certificate /etc/c.pem: no such file (migration 3)");
}

/* A long detail wrapped in itself stays within the cap and keeps its
 * prefix (it is truncated, never overrun). */
static void long_detail_including_itself_is_truncated(void **state)
{
	char big[600];

	(void)state;
	memset(big, 'b', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	err_set(ERR_INVALID, "%s", big);
	err_set(ERR_INVALID, "outer: %s", err_detail());
	assert_true(strlen(err_detail()) == 511);
	assert_memory_equal(err_detail(), "outer: bbbb", 11);
}

/* What the router relies on to start each request clean. */
static void cleared_detail_is_empty(void **state)
{
	(void)state;
	err_set(ERR_FORBIDDEN, "a detail from an earlier request");
	err_clear();
	assert_string_equal(err_detail(), "");
}

static void errno_maps_to_codes(void **state)
{
	(void)state;
	assert_int_equal(err_from_errno(ENOSPC, "write"), ERR_NOSPACE);
	assert_int_equal(err_from_errno(ENOENT, "open"), ERR_NOTFOUND);
	assert_int_equal(err_from_errno(EIO, "read"), ERR_IO);
	assert_non_null(strstr(err_detail(), "read"));
}

static void every_code_has_a_name(void **state)
{
	(void)state;
	for (int i = 0; i < ERR__COUNT; i++)
		assert_true(strlen(err_name((enum err)i)) > 0);
	assert_string_equal(err_name((enum err)999), "internal_error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(set_returns_code_and_keeps_detail),
		cmocka_unit_test(detail_is_truncated_not_overflowed),
		cmocka_unit_test(detail_may_include_itself),
		cmocka_unit_test(long_detail_including_itself_is_truncated),
		cmocka_unit_test(cleared_detail_is_empty),
		cmocka_unit_test(errno_maps_to_codes),
		cmocka_unit_test(every_code_has_a_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
