/* Unit tests for storage/scans.c: verdicts per blob hash (put, replace,
 * read back with the database version), the names, references, and the
 * hash-ordered walk of referenced blobs that `consort rescan` resumes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scans.h"
#include "storage_fixture.h"

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"
#define H3 "3333333333333333333333333333333333333333333333333333333333333333"

static void test_put_get_replace(void **state)
{
	struct fx *f = *state;
	struct scan_record r;

	assert_int_equal(scans_get(f->db, H1, &r), ERR_NOTFOUND);
	assert_int_equal(r.verdict, SCAN_NONE);
	assert_int_equal(scans_put(f->db, H1, SCAN_CLEAN, "ClamAV 1.4.6/27300", ""), ERR_OK);
	assert_int_equal(scans_get(f->db, H1, &r), ERR_OK);
	assert_int_equal(r.verdict, SCAN_CLEAN);
	assert_string_equal(r.db_version, "ClamAV 1.4.6/27300");
	assert_true(r.scanned_at > 0);
	/* A later verdict (a rescan with a newer database) replaces it. */
	assert_int_equal(
		scans_put(f->db, H1, SCAN_INFECTED, "ClamAV 1.4.6/27301", "Eicar-Test-Signature"),
		ERR_OK);
	assert_int_equal(scans_get(f->db, H1, &r), ERR_OK);
	assert_int_equal(r.verdict, SCAN_INFECTED);
	assert_string_equal(r.signature, "Eicar-Test-Signature");
	assert_int_equal(fx_int(f, "SELECT count(*) FROM blob_scans"), 1);
	assert_int_equal(scans_put(f->db, H2, SCAN_NONE, "", ""), ERR_INTERNAL);
	assert_string_equal(scans_verdict_name(SCAN_UNSCANNED), "unscanned");
	assert_string_equal(scans_verdict_name(SCAN_CLEAN), "clean");
}

static void test_referenced_and_walk(void **state)
{
	struct fx *f = *state;
	char next[DIGEST_SHA256_HEX_LEN + 1];
	char sql[1024];
	bool yes;

	assert_int_equal(scans_blob_referenced(f->db, H1, &yes), ERR_OK);
	assert_false(yes);
	assert_int_equal(scans_next_blob(f->db, "", next), ERR_NOTFOUND);
	fx_exec(f, "INSERT INTO nodes (wp_id, parent_id, is_folder, name, name_key, created_at,"
		   " modified_at) SELECT id, NULL, 0, 'd', 'd', 1, 1 FROM wps LIMIT 1");
	/* Two versions share H3; H1 is referenced once. */
	snprintf(
		sql, sizeof sql,
		"INSERT INTO versions (node_id, number, blob, size, mime, uploaded_by, uploaded_at)"
		" SELECT max(id), 1, '%s', 1, 'text/plain', %lld, 1 FROM nodes;"
		"INSERT INTO versions (node_id, number, blob, size, mime, uploaded_by, uploaded_at)"
		" SELECT max(id), 2, '%s', 1, 'text/plain', %lld, 1 FROM nodes;"
		"INSERT INTO versions (node_id, number, blob, size, mime, uploaded_by, uploaded_at)"
		" SELECT max(id), 3, '%s', 1, 'text/plain', %lld, 1 FROM nodes;",
		H3, (long long)f->alice, H1, (long long)f->alice, H3, (long long)f->alice);
	fx_exec(f, sql);
	assert_int_equal(scans_blob_referenced(f->db, H1, &yes), ERR_OK);
	assert_true(yes);
	assert_int_equal(scans_blob_referenced(f->db, H2, &yes), ERR_OK);
	assert_false(yes);
	/* In hash order, each once, resumable after any hash. */
	assert_int_equal(scans_next_blob(f->db, "", next), ERR_OK);
	assert_string_equal(next, H1);
	assert_int_equal(scans_next_blob(f->db, next, next), ERR_OK);
	assert_string_equal(next, H3);
	assert_int_equal(scans_next_blob(f->db, next, next), ERR_NOTFOUND);
	assert_int_equal(scans_next_blob(f->db, H2, next), ERR_OK);
	assert_string_equal(next, H3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_put_get_replace, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_referenced_and_walk, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
