/* Unit tests for storage/uploads.c: ids, per-user limits, offsets,
 * finishing inside a transaction, a row inserted finished, and the
 * sweep of expired uploads and orphan files (a file a writer holds is
 * never removed). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "storage_fixture.h"
#include "uploads.h"

#define ID1 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1"
#define ID2 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA2"
#define ID3 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA3"

static enum err create(struct fx *f, const char *id, int64_t user, uint64_t length, int64_t expires,
		       unsigned max_open, uint64_t max_bytes)
{
	struct upload u = {0};

	memcpy(u.id, id, UPLOADS_ID_LEN + 1);
	u.user_id = user;
	u.wp_id = f->wp;
	u.path = "a/b.txt";
	u.comment = "c";
	u.metadata = "wp V1Ax";
	u.length = length;
	u.created_at = 100;
	u.expires_at = expires;
	return uploads_create(f->db, &u, max_open, max_bytes);
}

static void test_ids(void **state)
{
	(void)state;
	assert_true(uploads_id_valid(ID1));
	assert_true(uploads_id_valid("abcdefghijklmnopqrstuvwxyz-_0123456789ABCDE"));
	assert_false(uploads_id_valid(""));
	assert_false(uploads_id_valid("AAAA"));
	assert_false(uploads_id_valid("../AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	assert_false(uploads_id_valid("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/"));
	assert_false(uploads_id_valid("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1"));
}

static void test_create_get_offset_finish(void **state)
{
	struct fx *f = *state;
	struct upload u;

	assert_int_equal(create(f, ID1, f->alice, 1000, 5000, 10, 1 << 20), ERR_OK);
	assert_int_equal(uploads_get(f->db, ID1, &u), ERR_OK);
	assert_int_equal(u.user_id, f->alice);
	assert_int_equal(u.wp_id, f->wp);
	assert_string_equal(u.path, "a/b.txt");
	assert_string_equal(u.comment, "c");
	assert_string_equal(u.metadata, "wp V1Ax");
	assert_int_equal(u.length, 1000);
	assert_int_equal(u.offset, 0);
	assert_int_equal(u.expires_at, 5000);
	assert_int_equal(u.version, 0);
	assert_string_equal(u.blob, "");
	upload_clear(&u);

	assert_int_equal(uploads_set_offset(f->db, ID1, 400), ERR_OK);
	assert_int_equal(uploads_get(f->db, ID1, &u), ERR_OK);
	assert_int_equal(u.offset, 400);
	upload_clear(&u);

	/* Finishing joins the caller's transaction: a rollback undoes it. */
	assert_int_equal(db_begin(f->db), ERR_OK);
	assert_int_equal(uploads_finish(f->db, ID1, 3, "ab"), ERR_OK);
	db_rollback(f->db);
	assert_int_equal(uploads_get(f->db, ID1, &u), ERR_OK);
	assert_int_equal(u.version, 0);
	upload_clear(&u);
	assert_int_equal(db_begin(f->db), ERR_OK);
	assert_int_equal(uploads_finish(f->db, ID1, 3, "ab"), ERR_OK);
	assert_int_equal(db_commit(f->db), ERR_OK);
	assert_int_equal(uploads_get(f->db, ID1, &u), ERR_OK);
	assert_int_equal(u.version, 3);
	assert_int_equal(u.offset, 1000);
	upload_clear(&u);
	/* A finished upload's offset does not move again. */
	assert_int_equal(uploads_set_offset(f->db, ID1, 10), ERR_OK);
	assert_int_equal(uploads_get(f->db, ID1, &u), ERR_OK);
	assert_int_equal(u.offset, 1000);
	upload_clear(&u);

	assert_int_equal(uploads_delete(f->db, ID1), ERR_OK);
	assert_int_equal(uploads_get(f->db, ID1, &u), ERR_NOTFOUND);
	assert_int_equal(uploads_get(f->db, "../x", &u), ERR_NOTFOUND);
	assert_int_equal(uploads_delete(f->db, ID1), ERR_OK);
}

static void test_limits(void **state)
{
	struct fx *f = *state;
	struct upload u;

	assert_int_equal(create(f, ID1, f->alice, 600, 5000, 2, 1000), ERR_OK);
	/* Over the bytes, then over the count; per user. */
	assert_int_equal(create(f, ID2, f->alice, 401, 5000, 2, 1000), ERR_LIMIT);
	assert_non_null(strstr(err_detail(), "total 1001 bytes"));
	assert_int_equal(create(f, ID2, f->alice, 400, 5000, 2, 1000), ERR_OK);
	assert_int_equal(create(f, ID3, f->alice, 1, 5000, 2, 1000), ERR_LIMIT);
	assert_non_null(strstr(err_detail(), "2 unfinished uploads"));
	assert_int_equal(uploads_get(f->db, ID3, &u), ERR_NOTFOUND);
	assert_int_equal(create(f, ID3, f->bob, 1000, 5000, 2, 1000), ERR_OK);
	/* A finished upload no longer counts. */
	assert_int_equal(uploads_finish(f->db, ID1, 1, "ab"), ERR_OK);
	assert_int_equal(uploads_delete(f->db, ID3), ERR_OK);
	assert_int_equal(create(f, ID3, f->alice, 600, 5000, 2, 1000), ERR_OK);
	/* The same id twice is a clash, not a second row. */
	assert_int_not_equal(create(f, ID3, f->bob, 1, 5000, 9, 1000), ERR_OK);
}

#define BLOB "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* A creation that carried the whole upload: its row goes in finished,
 * inside the version's transaction, under the same limits. */
static void test_create_finished(void **state)
{
	struct fx *f = *state;
	struct upload u = {0}, got;

	memcpy(u.id, ID3, UPLOADS_ID_LEN + 1);
	u.user_id = f->alice;
	u.wp_id = f->wp;
	u.path = "a/c.txt";
	u.metadata = "wp V1Ax";
	u.length = 300;
	u.created_at = 100;
	u.expires_at = 5000;
	u.version = 7;
	memcpy(u.blob, BLOB, sizeof u.blob);

	/* It counts as one more unfinished upload, as before it was one. */
	assert_int_equal(create(f, ID1, f->alice, 600, 5000, 2, 1000), ERR_OK);
	assert_int_equal(db_begin(f->db), ERR_OK);
	assert_int_equal(uploads_create_finished(f->db, &u, 2, 800), ERR_LIMIT);
	assert_non_null(strstr(err_detail(), "total 900 bytes"));
	assert_int_equal(create(f, ID2, f->alice, 100, 5000, 3, 1000), ERR_OK);
	assert_int_equal(uploads_create_finished(f->db, &u, 2, 1000), ERR_LIMIT);
	assert_non_null(strstr(err_detail(), "2 unfinished uploads"));
	/* Joins the caller's transaction: a rollback undoes it. */
	assert_int_equal(uploads_create_finished(f->db, &u, 3, 1000), ERR_OK);
	db_rollback(f->db);
	assert_int_equal(uploads_get(f->db, ID3, &got), ERR_NOTFOUND);

	assert_int_equal(db_begin(f->db), ERR_OK);
	assert_int_equal(uploads_create_finished(f->db, &u, 3, 1000), ERR_OK);
	assert_int_equal(db_commit(f->db), ERR_OK);
	assert_int_equal(uploads_get(f->db, ID3, &got), ERR_OK);
	assert_int_equal(got.version, 7);
	assert_string_equal(got.blob, BLOB);
	assert_int_equal(got.offset, 300);
	assert_int_equal(got.length, 300);
	assert_string_equal(got.path, "a/c.txt");
	assert_string_equal(got.comment, "");
	assert_string_equal(got.metadata, "wp V1Ax");
	upload_clear(&got);
	/* Finished, it no longer counts: room for a third unfinished one. */
	assert_int_equal(create(f, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA4", f->alice, 300,
				5000, 3, 1000),
			 ERR_OK);
	/* Without its version it is no finished upload. */
	u.version = 0;
	memcpy(u.id, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA5", UPLOADS_ID_LEN + 1);
	assert_int_equal(uploads_create_finished(f->db, &u, 9, 9000), ERR_INTERNAL);
}

static void touch(const char *path, time_t mtime)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0600);
	struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "xyz", 3), 3);
	close(fd);
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

static void test_sweep(void **state)
{
	struct fx *f = *state;
	char dir[128], p1[192], p2[192], p3[192], orphan[192], young[192], other[192];
	struct upload u;
	uint64_t removed = 0;
	int held;

	snprintf(dir, sizeof dir, "%s/uploads", f->dir);
	mkdir(dir, 0700);
	snprintf(p1, sizeof p1, "%s/%s", dir, ID1);
	snprintf(p2, sizeof p2, "%s/%s", dir, ID2);
	snprintf(p3, sizeof p3, "%s/%s", dir, ID3);
	snprintf(orphan, sizeof orphan, "%s/%s", dir,
		 "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB1");
	snprintf(young, sizeof young, "%s/%s", dir, "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB2");
	snprintf(other, sizeof other, "%s/%s", dir, "not-an-upload");
	assert_int_equal(create(f, ID1, f->alice, 10, 1000, 10, 1000), ERR_OK); /* expired */
	assert_int_equal(create(f, ID2, f->alice, 10, 9000, 10, 1000), ERR_OK); /* live */
	assert_int_equal(create(f, ID3, f->alice, 10, 1000, 10, 1000), ERR_OK); /* expired, held */
	touch(p1, 100);
	touch(p2, 100);
	touch(p3, 100);
	touch(orphan, 100);
	touch(young, 4900);
	touch(other, 100);
	held = open(p3, O_RDWR);
	assert_true(held >= 0);
	assert_int_equal(flock(held, LOCK_EX), 0);

	assert_int_equal(uploads_sweep(f->db, dir, 5000, 3600, &removed), ERR_OK);
	assert_int_equal(removed, 1);
	assert_int_equal(access(p1, F_OK), -1);
	assert_int_equal(uploads_get(f->db, ID1, &u), ERR_NOTFOUND);
	assert_int_equal(access(p2, F_OK), 0);
	assert_int_equal(uploads_get(f->db, ID2, &u), ERR_OK);
	upload_clear(&u);
	/* Held by a writer: file and row stay until a later sweep. */
	assert_int_equal(access(p3, F_OK), 0);
	assert_int_equal(uploads_get(f->db, ID3, &u), ERR_OK);
	upload_clear(&u);
	assert_int_equal(access(orphan, F_OK), -1);
	assert_int_equal(access(young, F_OK), 0);
	assert_int_equal(access(other, F_OK), 0);

	close(held);
	assert_int_equal(uploads_sweep(f->db, dir, 5000, 3600, &removed), ERR_OK);
	assert_int_equal(removed, 1);
	assert_int_equal(access(p3, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ids),
		cmocka_unit_test_setup_teardown(test_create_get_offset_finish, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_limits, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_create_finished, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_sweep, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
