/* Unit tests for server/api/h_system.c's view of the search index, which
 * /healthz reports: absent, ok, or error (a broken link, not a
 * directory). A running indexer repairs the last two within its poll
 * interval, so the end-to-end test cannot hold them still; here they
 * are. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../../server/api/h_system.c"

static void index_states(void **state)
{
	char dir[] = "/tmp/consort-health-XXXXXX", path[256], link[256];

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(link, sizeof link, "%s/index/current", dir);
	/* no index directory at all, then an empty one */
	assert_string_equal(index_state(dir), "absent");
	snprintf(path, sizeof path, "%s/index", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_string_equal(index_state(dir), "absent");
	/* the link to a live generation */
	snprintf(path, sizeof path, "%s/index/gen-1", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(symlink("gen-1", link), 0);
	assert_string_equal(index_state(dir), "ok");
	/* a generation that is gone */
	assert_int_equal(rmdir(path), 0);
	assert_string_equal(index_state(dir), "error");
	/* a link to a file */
	{
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		fclose(f);
	}
	assert_string_equal(index_state(dir), "error");
	unlink(path);
	unlink(link);
	snprintf(path, sizeof path, "%s/index", dir);
	rmdir(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(index_states),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
