/* Unit tests for storage/audit.c: records keep who, what, when and from
 * where; the filters and both orders of audit_query with paging and the
 * total; and the log is append-only (the schema refuses UPDATE and
 * DELETE, so not even SQL from inside consort rewrites it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

#include "audit.h"
#include "storage_fixture.h"

static void query(struct fx *f, const struct audit_filter *flt, bool oldest, size_t limit,
		  size_t offset, struct audit_row **rows, size_t *n, int64_t *total)
{
	assert_int_equal(audit_query(f->db, flt, oldest, limit, offset, rows, n, total), ERR_OK);
}

static void test_append_keeps_who_what_when_where(void **state)
{
	struct fx *f = *state;
	struct audit_filter all = {0};
	struct audit_row *r;
	size_t n;
	int64_t total = -1;

	db_clock_offset(1000);
	assert_int_equal(audit_append(f->db, f->alice, "alice@example.org", "192.0.2.7", "upload",
				      f->wp, "WP1/a.txt", "version 1"),
			 ERR_OK);
	/* No account, no WP, NULL strings: stored as 0 and "". */
	assert_int_equal(audit_append(f->db, 0, NULL, NULL, "login_failed", 0, NULL, NULL), ERR_OK);

	query(f, &all, true, 10, 0, &r, &n, &total);
	assert_int_equal(n, 2);
	assert_int_equal(total, 2);
	assert_int_equal(r[0].user_id, f->alice);
	assert_string_equal(r[0].actor, "alice@example.org");
	assert_string_equal(r[0].peer, "192.0.2.7");
	assert_string_equal(r[0].action, "upload");
	assert_int_equal(r[0].wp_id, f->wp);
	assert_string_equal(r[0].wp_code, "WP1");
	assert_string_equal(r[0].object, "WP1/a.txt");
	assert_string_equal(r[0].detail, "version 1");
	assert_true(r[0].at >= db_now() - 5 && r[0].at <= db_now());

	assert_int_equal(r[1].user_id, 0);
	assert_int_equal(r[1].wp_id, 0);
	assert_null(r[1].wp_code);
	assert_string_equal(r[1].actor, "");
	assert_string_equal(r[1].peer, "");
	assert_string_equal(r[1].object, "");
	assert_true(r[1].id > r[0].id);
	audit_rows_free(r, n);
}

static void test_action_required(void **state)
{
	struct fx *f = *state;

	assert_int_equal(audit_append(f->db, f->alice, "a", "", NULL, 0, "", ""), ERR_INTERNAL);
	assert_int_equal(audit_append(f->db, f->alice, "a", "", "", 0, "", ""), ERR_INTERNAL);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM audit"), 0);
}

static void test_filters_order_paging(void **state)
{
	struct fx *f = *state;
	int64_t wp2 = fx_add_wp(f, "WP2");
	struct audit_filter flt = {0};
	struct audit_row *r;
	size_t n;
	int64_t total;

	/* 10 records at t = 100, 110, ... 190 (or a second later when the
	 * clock ticks in between, hence at / 10); alternating users and
	 * WPs. */
	for (int i = 0; i < 10; i++) {
		db_clock_offset(100 + 10 * i - (int64_t)time(NULL));
		assert_int_equal(audit_append(f->db, i % 2 ? f->bob : f->alice,
					      i % 2 ? "bob@example.org" : "alice@example.org", "",
					      i < 5 ? "download" : "upload", i % 2 ? wp2 : f->wp,
					      "x", ""),
				 ERR_OK);
	}
	db_clock_offset(0);

	/* Newest first, paged by offset; total ignores paging. */
	query(f, &flt, false, 3, 0, &r, &n, &total);
	assert_int_equal(total, 10);
	assert_int_equal(n, 3);
	assert_int_equal(r[0].at / 10, 19);
	assert_int_equal(r[2].at / 10, 17);
	audit_rows_free(r, n);
	query(f, &flt, false, 3, 9, &r, &n, NULL);
	assert_int_equal(n, 1);
	assert_int_equal(r[0].at / 10, 10);
	audit_rows_free(r, n);

	/* Oldest first, keyset paging for exports. */
	query(f, &flt, true, 4, 0, &r, &n, NULL);
	assert_int_equal(n, 4);
	assert_int_equal(r[0].at / 10, 10);
	flt.after_id = r[3].id;
	audit_rows_free(r, n);
	query(f, &flt, true, 100, 0, &r, &n, &total);
	assert_int_equal(n, 6);
	assert_int_equal(total, 6);
	assert_int_equal(r[0].at / 10, 14);
	audit_rows_free(r, n);
	flt.after_id = 0;

	flt.user_id = f->bob;
	query(f, &flt, true, 100, 0, &r, &n, &total);
	assert_int_equal(total, 5);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(r[i].actor, "bob@example.org");
	audit_rows_free(r, n);

	flt.user_id = 0;
	flt.wp_id = wp2;
	flt.action = "upload";
	query(f, &flt, true, 100, 0, &r, &n, &total);
	assert_int_equal(total, 3); /* i = 5, 7, 9 */
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(r[i].wp_code, "WP2");
		assert_string_equal(r[i].action, "upload");
	}
	audit_rows_free(r, n);

	/* since is inclusive, until exclusive. */
	memset(&flt, 0, sizeof flt);
	flt.since = 115;
	flt.until = 145;
	query(f, &flt, true, 100, 0, &r, &n, &total);
	assert_int_equal(total, 3);
	assert_int_equal(r[0].at / 10, 12);
	assert_int_equal(r[2].at / 10, 14);
	audit_rows_free(r, n);

	flt.action = "no-such-action";
	query(f, &flt, true, 100, 0, &r, &n, &total);
	assert_int_equal(n, 0);
	assert_int_equal(total, 0);
	assert_null(r);
}

static void test_append_only(void **state)
{
	struct fx *f = *state;
	sqlite3 *sq = db_sqlite(f->db);

	assert_int_equal(audit_append(f->db, f->alice, "alice@example.org", "", "login", 0, "", ""),
			 ERR_OK);
	assert_int_not_equal(
		sqlite3_exec(sq, "UPDATE audit SET actor = 'mallory'", NULL, NULL, NULL),
		SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(sq, "DELETE FROM audit", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM audit WHERE actor = 'alice@example.org'"),
			 1);
}

/* A record joins the caller's transaction: rolled back with the change. */
static void test_joins_callers_transaction(void **state)
{
	struct fx *f = *state;

	assert_int_equal(db_begin(f->db), ERR_OK);
	assert_int_equal(audit_append(f->db, f->alice, "a", "", "grant", f->wp, "", ""), ERR_OK);
	db_rollback(f->db);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM audit"), 0);

	assert_int_equal(db_begin(f->db), ERR_OK);
	assert_int_equal(audit_append(f->db, f->alice, "a", "", "grant", f->wp, "", ""), ERR_OK);
	assert_int_equal(db_commit(f->db), ERR_OK);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM audit"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_keeps_who_what_when_where, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_action_required, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_filters_order_paging, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_append_only, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_joins_callers_transaction, fx_setup,
						fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
