/* Unit tests for storage/previews.c: names, put/get with hit and miss
 * counts, least-recently-used eviction down to 90% of the limit (a file
 * read counts as used), the default limit's floor, and prune removing
 * the files of blobs no longer stored. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cas.h"
#include "db.h"
#include "digest.h"
#include "previews.h"
#include "smallblob.h"

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/consort-previews-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void age(struct previews *p, const char *hash, const char *suffix, time_t when)
{
	char path[512];
	struct timespec ts[2] = {{.tv_sec = when}, {.tv_sec = when}};

	assert_true(previews_path(p, hash, suffix, path, sizeof path));
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void test_put_get_names(void **state)
{
	struct previews *p;
	struct previews_stats st;
	char buf[4096], *data;
	size_t len;

	(void)state;
	assert_int_equal(previews_open(dir, 0, NULL, &p), ERR_OK);
	previews_stats(p, &st);
	assert_int_equal(st.limit, PREVIEWS_MIN_LIMIT); /* no blobs: the floor */
	assert_false(previews_path(p, "nothex", ".meta", buf, sizeof buf));
	assert_false(previews_path(p, H1, "/../x", buf, sizeof buf));
	assert_true(previews_path(p, H1, "-p1-w800.png", buf, sizeof buf));
	assert_non_null(strstr(buf, "/previews/11/" H1 "-p1-w800.png"));
	assert_int_equal(previews_get(p, H1, ".meta", 100, true, &data, &len), ERR_NOTFOUND);
	assert_int_equal(previews_put(p, H1, ".meta", "pages 3\n", 8), ERR_OK);
	assert_int_equal(previews_get(p, H1, ".meta", 100, true, &data, &len), ERR_OK);
	assert_string_equal(data, "pages 3\n");
	free(data);
	assert_int_equal(previews_get(p, H1, ".meta", 4, false, &data, &len), ERR_CORRUPT);
	assert_true(previews_has(p, H1, ".meta"));
	previews_stats(p, &st);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.files, 1);
	assert_int_equal(st.bytes, 8);
	/* replacing a file does not count it twice */
	assert_int_equal(previews_put(p, H1, ".meta", "pages 4\n", 8), ERR_OK);
	previews_stats(p, &st);
	assert_int_equal(st.files, 1);
	assert_int_equal(st.bytes, 8);
	previews_close(p);
	/* reopened: the walk finds what is there */
	assert_int_equal(previews_open(dir, 0, NULL, &p), ERR_OK);
	previews_stats(p, &st);
	assert_int_equal(st.files, 1);
	previews_close(p);
}

static void test_eviction_lru(void **state)
{
	struct previews *p;
	struct previews_stats st;
	char blob[1000], *data, suffix[32];
	size_t len;
	time_t now = time(NULL);

	(void)state;
	memset(blob, 'x', sizeof blob);
	assert_int_equal(previews_open(dir, 5000, NULL, &p), ERR_OK);
	for (int i = 1; i <= 4; i++) {
		snprintf(suffix, sizeof suffix, "-p%d-w200.png", i);
		assert_int_equal(previews_put(p, H2, suffix, blob, sizeof blob), ERR_OK);
		age(p, H2, suffix, now - 100 + i);
	}
	/* page 1 is read: it becomes the most recently used */
	assert_int_equal(previews_get(p, H2, "-p1-w200.png", 4096, true, &data, &len), ERR_OK);
	free(data);
	/* two more: 6000 bytes > 5000, down to 4500: the two oldest go */
	assert_int_equal(previews_put(p, H2, "-p5-w200.png", blob, sizeof blob), ERR_OK);
	assert_int_equal(previews_put(p, H2, "-p6-w200.png", blob, sizeof blob), ERR_OK);
	previews_stats(p, &st);
	assert_true(st.bytes <= 4500);
	assert_int_equal(st.evicted, 2);
	assert_true(previews_has(p, H2, "-p1-w200.png"));
	assert_false(previews_has(p, H2, "-p2-w200.png"));
	assert_false(previews_has(p, H2, "-p3-w200.png"));
	assert_true(previews_has(p, H2, "-p6-w200.png"));
	previews_close(p);
}

static void test_prune(void **state)
{
	struct previews *p;
	struct cas *cas;
	struct cas_writer *w;
	struct cas_blob b;
	uint64_t removed = 0;
	struct db *db;
	char db_path[512], small[DIGEST_SHA256_HEX_LEN + 1];
	unsigned char md[DIGEST_SHA256_LEN];

	(void)state;
	/* Content of the small tier lives in the database, not the store:
	 * its previews are kept too. */
	snprintf(db_path, sizeof db_path, "%s/consort.db", dir);
	assert_int_equal(db_open(db_path, &db), ERR_OK);
	assert_int_equal(db_migrate(db), ERR_OK);
	digest_sha256("small", 5, md);
	digest_hex(md, sizeof md, small);
	assert_int_equal(smallblob_put(db, small, "small", 5), ERR_OK);
	assert_int_equal(cas_open(dir, CAS_OPEN_CREATE, &cas), ERR_OK);
	assert_int_equal(cas_writer_new(cas, 0, &w), ERR_OK);
	assert_int_equal(cas_writer_write(w, "kept", 4), ERR_OK);
	assert_int_equal(cas_writer_store(w, &b), ERR_OK);
	cas_blob_release(&b);
	assert_int_equal(previews_open(dir, 0, cas, &p), ERR_OK);
	assert_int_equal(previews_put(p, b.hash, ".meta", "pages 1\n", 8), ERR_OK);
	assert_int_equal(previews_put(p, H1, "-p1-w800.png", "png", 3), ERR_OK);
	assert_int_equal(previews_put(p, small, "-p1-w200.png", "png", 3), ERR_OK);
	assert_int_equal(previews_prune(dir, db, cas, &removed), ERR_OK);
	assert_true(removed >= 1);
	assert_true(previews_has(p, b.hash, ".meta"));
	assert_true(previews_has(p, small, "-p1-w200.png"));
	assert_false(previews_has(p, H1, "-p1-w800.png"));
	previews_close(p);
	cas_close(cas);
	db_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_get_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eviction_lru, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
