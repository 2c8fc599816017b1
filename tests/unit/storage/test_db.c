/* Unit tests for storage/db.c: opening and migrating a database, the
 * connection settings (WAL, foreign keys), the bind helpers carrying a
 * failed bind into the statement's result (so nothing runs with a
 * parameter left NULL), the step helpers, nested transactions, and
 * db_grow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "migrations.h"
#include "storage_fixture.h"

/* A table of its own, so the tests do not depend on the schema. */
static const char sql_insert[] = "INSERT INTO t (a, b) VALUES (?1, ?2)";
static const char sql_select[] = "SELECT b FROM t WHERE a = ?1";
static const char sql_update[] = "UPDATE t SET b = ?2 WHERE a = ?1";

static int setup(void **state)
{
	int rc = fx_setup(state);
	struct fx *f = *state;

	if (!rc)
		fx_exec(f, "CREATE TABLE t (a TEXT UNIQUE, b BLOB)");
	return rc;
}

static int64_t rows_in_t(struct fx *f) { return fx_int(f, "SELECT count(*) FROM t"); }

static void test_open_migrate_settings(void **state)
{
	struct fx *f = *state;
	sqlite3_stmt *st;

	assert_int_equal(db_schema_version(f->db), (int)db_migration_count);
	/* Migrating again is a no-op. */
	assert_int_equal(db_migrate(f->db), ERR_OK);
	assert_int_equal(db_schema_version(f->db), (int)db_migration_count);
	assert_int_equal(db_ping(f->db), ERR_OK);

	assert_int_equal(sqlite3_prepare_v2(db_sqlite(f->db), "PRAGMA journal_mode", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	assert_int_equal(fx_int(f, "PRAGMA foreign_keys"), 1);
}

static void test_newer_schema_refused(void **state)
{
	struct fx *f = *state;
	char sql[64];

	snprintf(sql, sizeof sql, "PRAGMA user_version = %zu", db_migration_count + 1);
	fx_exec(f, sql);
	assert_int_equal(db_migrate(f->db), ERR_CORRUPT);
	assert_non_null(strstr(err_detail(), "newer"));
	/* Nothing was touched: the version is still the newer one. */
	assert_int_equal(db_schema_version(f->db), (int)db_migration_count + 1);
}

static void test_open_fails_cleanly(void **state)
{
	struct db *db = (struct db *)1;

	(void)state;
	assert_int_not_equal(db_open("/nonexistent-dir/consort.db", &db), ERR_OK);
	assert_null(db);
}

static void test_bind_and_step(void **state)
{
	struct fx *f = *state;
	sqlite3_stmt *st;
	bool row;
	int changes = -1;

	assert_int_equal(db_stmt(f->db, sql_insert, &st), ERR_OK);
	db_bind_text(f->db, st, 1, "k");
	db_bind_blob(f->db, st, 2, "\x01\x02", 2);
	assert_int_equal(db_exec_stmt(f->db, st, "insert"), ERR_OK);

	assert_int_equal(db_stmt(f->db, sql_select, &st), ERR_OK);
	db_bind_text(f->db, st, 1, "k");
	assert_int_equal(db_step(f->db, st, "select", &row), ERR_OK);
	assert_true(row);
	assert_int_equal(sqlite3_column_bytes(st, 0), 2);
	assert_int_equal(db_step(f->db, st, "select", &row), ERR_OK);
	assert_false(row);
	sqlite3_reset(st);

	assert_int_equal(db_stmt(f->db, sql_select, &st), ERR_OK);
	db_bind_text(f->db, st, 1, "missing");
	assert_int_equal(db_step(f->db, st, "select", &row), ERR_OK);
	assert_false(row);
	sqlite3_reset(st);

	assert_int_equal(db_stmt(f->db, sql_update, &st), ERR_OK);
	db_bind_text(f->db, st, 1, "k");
	db_bind_int64(f->db, st, 2, 7);
	assert_int_equal(db_exec_changes(f->db, st, "update", &changes), ERR_OK);
	assert_int_equal(changes, 1);
	assert_int_equal(db_stmt(f->db, sql_update, &st), ERR_OK);
	db_bind_text(f->db, st, 1, "missing");
	db_bind_null(f->db, st, 2);
	assert_int_equal(db_exec_changes(f->db, st, "update", &changes), ERR_OK);
	assert_int_equal(changes, 0);

	/* A NULL string and an id <= 0 bind SQL NULL. */
	assert_int_equal(db_stmt(f->db, sql_insert, &st), ERR_OK);
	db_bind_text(f->db, st, 1, "n");
	db_bind_id(f->db, st, 2, 0);
	assert_int_equal(db_exec_stmt(f->db, st, "insert"), ERR_OK);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM t WHERE a = 'n' AND b IS NULL"), 1);

	/* SQLite's codes come back as enum err: a unique violation. */
	assert_int_equal(db_stmt(f->db, sql_insert, &st), ERR_OK);
	db_bind_text(f->db, st, 1, "k");
	assert_int_equal(db_exec_stmt(f->db, st, "insert"), ERR_EXISTS);
	assert_non_null(strstr(err_detail(), "insert"));
	assert_int_equal(rows_in_t(f), 2);
}

/* The bug: sqlite3_bind_* results were dropped, so a failed bind left its
 * parameter NULL and the statement ran anyway, writing a row with a hole.
 * Now the failure is the statement's result and nothing is written. */
static void test_bind_out_of_range_writes_nothing(void **state)
{
	struct fx *f = *state;
	sqlite3_stmt *st;

	assert_int_equal(db_stmt(f->db, sql_insert, &st), ERR_OK);
	db_bind_text(f->db, st, 1, "k");
	db_bind_int64(f->db, st, 3, 42); /* meant for ?2: out of range */
	assert_int_equal(db_exec_stmt(f->db, st, "insert row"), ERR_INTERNAL);
	assert_non_null(strstr(err_detail(), "insert row: parameter 3"));
	assert_int_equal(rows_in_t(f), 0);

	/* Stepping again does not run it either: the failure stays with
	 * the statement until db_stmt hands it out again. */
	assert_int_equal(db_exec_stmt(f->db, st, "insert row"), ERR_INTERNAL);
	assert_int_equal(rows_in_t(f), 0);

	/* Handed out again, the statement is clean and runs. */
	assert_int_equal(db_stmt(f->db, sql_insert, &st), ERR_OK);
	db_bind_text(f->db, st, 1, "k");
	db_bind_int64(f->db, st, 2, 42);
	assert_int_equal(db_exec_stmt(f->db, st, "insert row"), ERR_OK);
	assert_int_equal(fx_int(f, "SELECT b FROM t WHERE a = 'k'"), 42);
}

static void test_bind_too_long_writes_nothing(void **state)
{
	struct fx *f = *state;
	char big[200];
	sqlite3_stmt *st;

	memset(big, 'x', sizeof big);
	sqlite3_limit(db_sqlite(f->db), SQLITE_LIMIT_LENGTH, 100);
	assert_int_equal(db_stmt(f->db, sql_insert, &st), ERR_OK);
	db_bind_text(f->db, st, 1, "k");
	db_bind_blob(f->db, st, 2, big, sizeof big);
	assert_int_equal(db_exec_stmt(f->db, st, "store blob"), ERR_TOOLARGE);
	assert_int_equal(rows_in_t(f), 0);
}

static void test_bind_first_failure_kept(void **state)
{
	struct fx *f = *state;
	sqlite3_stmt *st;
	bool row = true;

	assert_int_equal(db_stmt(f->db, sql_select, &st), ERR_OK);
	db_bind_text(f->db, st, 5, "x");
	db_bind_text(f->db, st, 9, "y");
	assert_int_equal(db_step(f->db, st, "select", &row), ERR_INTERNAL);
	assert_false(row);
	assert_non_null(strstr(err_detail(), "parameter 5"));
	sqlite3_reset(st);
}

/* One statement's failed bind is its own: another statement runs. */
static void test_bind_failure_stays_with_its_statement(void **state)
{
	struct fx *f = *state;
	sqlite3_stmt *bad, *good;

	assert_int_equal(db_stmt(f->db, sql_update, &bad), ERR_OK);
	db_bind_text(f->db, bad, 4, "x");
	assert_int_equal(db_stmt(f->db, sql_insert, &good), ERR_OK);
	db_bind_text(f->db, good, 1, "k");
	db_bind_int64(f->db, good, 2, 1);
	assert_int_equal(db_exec_stmt(f->db, good, "insert"), ERR_OK);
	assert_int_equal(db_exec_stmt(f->db, bad, "update"), ERR_INTERNAL);
	assert_int_equal(rows_in_t(f), 1);
}

static void test_nested_transactions(void **state)
{
	struct fx *f = *state;

	assert_int_equal(db_begin(f->db), ERR_OK);
	fx_exec(f, "INSERT INTO t (a) VALUES ('outer')");
	assert_int_equal(db_begin(f->db), ERR_OK);
	fx_exec(f, "INSERT INTO t (a) VALUES ('inner')");
	db_rollback(f->db); /* only the inner step */
	assert_true(db_in_txn(f->db));
	assert_int_equal(db_commit(f->db), ERR_OK);
	assert_false(db_in_txn(f->db));
	assert_int_equal(fx_int(f, "SELECT count(*) FROM t WHERE a = 'outer'"), 1);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM t WHERE a = 'inner'"), 0);
	db_rollback(f->db); /* no transaction: harmless */
}

static void test_grow_and_strdup(void **state)
{
	struct fx *f = *state;
	int64_t *arr = NULL;
	size_t n = 0, cap = 0;
	enum err rc = ERR_OK;
	sqlite3_stmt *st;
	bool row;
	char *s;

	for (int i = 0; i < 100; i++) {
		int64_t *p = db_grow((void **)&arr, &n, &cap, sizeof *arr, &rc);

		assert_non_null(p);
		assert_int_equal(*p, 0);
		*p = i;
	}
	assert_int_equal(rc, ERR_OK);
	assert_int_equal(n, 100);
	assert_true(cap >= 100);
	for (int i = 0; i < 100; i++)
		assert_int_equal(arr[i], i);
	free(arr);

	fx_exec(f, "INSERT INTO t (a, b) VALUES ('text', 'value'), ('null', NULL)");
	assert_int_equal(db_stmt(f->db, sql_select, &st), ERR_OK);
	db_bind_text(f->db, st, 1, "text");
	assert_int_equal(db_step(f->db, st, "select", &row), ERR_OK);
	assert_true(row);
	s = db_column_strdup(st, 0, &rc);
	assert_string_equal(s, "value");
	free(s);
	assert_int_equal(db_stmt(f->db, sql_select, &st), ERR_OK);
	db_bind_text(f->db, st, 1, "null");
	assert_int_equal(db_step(f->db, st, "select", &row), ERR_OK);
	assert_null(db_column_strdup(st, 0, &rc));
	assert_int_equal(rc, ERR_OK);
	sqlite3_reset(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_migrate_settings, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, fx_teardown),
		cmocka_unit_test(test_open_fails_cleanly),
		cmocka_unit_test_setup_teardown(test_bind_and_step, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_bind_out_of_range_writes_nothing, setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_bind_too_long_writes_nothing, setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_bind_first_failure_kept, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_bind_failure_stays_with_its_statement, setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_nested_transactions, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_grow_and_strdup, setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
