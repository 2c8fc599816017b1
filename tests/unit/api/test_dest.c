/* Unit tests for server/api/dest.c: the Destination header of COPY and
 * MOVE, split the same way for the policy and the WebDAV handlers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "api/dest.h"

static void test_destination(void **state)
{
	struct dest_header d;

	(void)state;
	assert_int_equal(dest_parse("/dav/WP1/a/b.txt", "h:1", &d), ERR_OK);
	assert_int_equal(d.wp_len, 3);
	assert_memory_equal(d.wp, "WP1", 3);
	assert_string_equal(d.path, "a/b.txt");
	assert_int_equal(dest_parse("https://H:1/dav/W%20P", "h:1", &d), ERR_OK);
	assert_int_equal(d.wp_len, 5);
	assert_string_equal(d.path, "");
	assert_int_equal(dest_parse("https://other/dav/WP1/x", "h:1", &d), ERR_UNSUPPORTED);
	assert_null(d.wp);
	assert_int_equal(dest_parse("https://h:1/dav/WP1/x", NULL, &d), ERR_UNSUPPORTED);
	assert_int_equal(dest_parse("/api/v1/wps/WP1", "h:1", &d), ERR_UNSUPPORTED);
	assert_int_equal(dest_parse("/dav/WP1/x?y", "h:1", &d), ERR_INVALID);
	assert_int_equal(dest_parse("/dav/", "h:1", &d), ERR_FORBIDDEN);
	assert_int_equal(dest_parse("/dav//x", "h:1", &d), ERR_FORBIDDEN);
	assert_int_equal(dest_parse("", "h:1", &d), ERR_UNSUPPORTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_destination),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
