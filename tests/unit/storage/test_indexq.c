/* Unit tests for storage/indexq.c: the persistent index queue (push,
 * take in order, finish up to an id, rows pushed meanwhile survive, the
 * queue survives a restart), the facts indexing needs about a document,
 * the documents below a folder, and the per-node index state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "indexq.h"
#include "storage_fixture.h"

static int64_t pending(struct fx *f)
{
	int64_t n = -1;

	assert_int_equal(indexq_pending(f->db, &n), ERR_OK);
	return n;
}

/* A node below `parent` made by SQL, so the queue tests see only the
 * rows they push themselves. */
static int64_t add_node(struct fx *f, int64_t parent, bool folder, const char *name)
{
	char sql[512];

	snprintf(sql, sizeof sql,
		 "INSERT INTO nodes (wp_id, parent_id, is_folder, name, name_key, created_at,"
		 " modified_at) VALUES (%lld, %lld, %d, '%s', '%s', 1, 1)",
		 (long long)f->wp, (long long)parent, folder, name, name);
	fx_exec(f, sql);
	return sqlite3_last_insert_rowid(db_sqlite(f->db));
}

static void add_version(struct fx *f, int64_t node, int number, const char *blob)
{
	char sql[512];

	snprintf(sql, sizeof sql,
		 "INSERT INTO versions (node_id, number, blob, size, mime, uploaded_by,"
		 " uploaded_at) VALUES (%lld, %d, '%s', 5, 'text/plain', %lld, 77);"
		 "UPDATE nodes SET current_version = %d WHERE id = %lld",
		 (long long)node, number, blob, (long long)f->alice, number, (long long)node);
	fx_exec(f, sql);
}

static void test_push_take_finish(void **state)
{
	struct fx *f = *state;
	struct indexq_item items[8];
	size_t n;

	assert_int_equal(pending(f), 0);
	assert_int_equal(indexq_take(f->db, 8, items, &n), ERR_OK);
	assert_int_equal(n, 0);

	assert_int_equal(indexq_push(f->db, 11, false), ERR_OK);
	assert_int_equal(indexq_push(f->db, 12, true), ERR_OK);
	/* Rows are hints, not deduplicated: the same node twice is two rows
	 * and the indexer looks at the node's state either time. */
	assert_int_equal(indexq_push(f->db, 11, false), ERR_OK);
	assert_int_equal(pending(f), 3);

	/* Oldest first, at most `max`; taking does not remove. */
	assert_int_equal(indexq_take(f->db, 2, items, &n), ERR_OK);
	assert_int_equal(n, 2);
	assert_int_equal(items[0].node_id, 11);
	assert_false(items[0].del);
	assert_int_equal(items[1].node_id, 12);
	assert_true(items[1].del);
	assert_true(items[0].id < items[1].id);
	assert_int_equal(pending(f), 3);

	/* A row pushed while a batch is being indexed survives its finish. */
	assert_int_equal(indexq_push(f->db, 13, false), ERR_OK);
	assert_int_equal(indexq_finish(f->db, items[1].id), ERR_OK);
	assert_int_equal(pending(f), 2);
	assert_int_equal(indexq_take(f->db, 8, items, &n), ERR_OK);
	assert_int_equal(n, 2);
	assert_int_equal(items[0].node_id, 11);
	assert_int_equal(items[1].node_id, 13);
	assert_int_equal(indexq_finish(f->db, items[1].id), ERR_OK);
	assert_int_equal(pending(f), 0);
}

/* Fair turns: ten rows of alice's documents, then one of bob's and a
 * folder's row. Each turn takes one row per uploader, the one with fewer
 * rows waiting first, so bob's row (and the folder's) come before
 * alice's second; rows of skipped nodes are left out; finishing by id
 * leaves the others. */
static void test_take_fair_turns(void **state)
{
	struct fx *f = *state;
	struct indexq_item items[16];
	int64_t a[10], b, dir, ids[2];
	size_t n;
	char blob[65], sql[256];

	memset(blob, 'b', 64);
	blob[64] = '\0';
	for (int i = 0; i < 10; i++) {
		char name[16];

		snprintf(name, sizeof name, "a%d.pdf", i);
		a[i] = add_node(f, f->root, false, name);
		add_version(f, a[i], 1, blob);
		assert_int_equal(indexq_push(f->db, a[i], false), ERR_OK);
	}
	b = add_node(f, f->root, false, "b.txt");
	add_version(f, b, 1, blob);
	snprintf(sql, sizeof sql, "UPDATE versions SET uploaded_by = %lld WHERE node_id = %lld",
		 (long long)f->bob, (long long)b);
	fx_exec(f, sql);
	assert_int_equal(indexq_push(f->db, b, false), ERR_OK);
	dir = add_node(f, f->root, true, "moved");
	assert_int_equal(indexq_push(f->db, dir, false), ERR_OK);

	assert_int_equal(indexq_take_fair(f->db, 16, NULL, 0, items, &n), ERR_OK);
	assert_int_equal(n, 12);
	/* turn 1: bob and the folder (one row waiting each), then alice */
	assert_int_equal(items[0].node_id, b);
	assert_int_equal(items[1].node_id, dir);
	assert_int_equal(items[2].node_id, a[0]);
	for (int i = 1; i < 10; i++)
		assert_int_equal(items[2 + i].node_id, a[i]);
	/* at most max, skipping nodes set aside */
	assert_int_equal(indexq_take_fair(f->db, 2, (int64_t[]){b, a[0]}, 2, items, &n), ERR_OK);
	assert_int_equal(n, 2);
	assert_int_equal(items[0].node_id, dir);
	assert_int_equal(items[1].node_id, a[1]);
	ids[0] = items[0].id;
	ids[1] = items[1].id;
	assert_int_equal(indexq_finish_ids(f->db, ids, 2), ERR_OK);
	assert_int_equal(pending(f), 10);
	assert_int_equal(indexq_take_fair(f->db, 16, NULL, 0, items, &n), ERR_OK);
	assert_int_equal(n, 10);
	assert_int_equal(items[0].node_id, b);
	assert_int_equal(items[1].node_id, a[0]);
	assert_int_equal(items[2].node_id, a[2]);
}

/* The queue is rows in the database: a restart resumes where it was. */
static void test_survives_restart(void **state)
{
	struct fx *f = *state;
	struct indexq_item items[4];
	size_t n;

	assert_int_equal(indexq_push(f->db, 21, false), ERR_OK);
	assert_int_equal(indexq_push(f->db, 22, false), ERR_OK);
	assert_int_equal(indexq_take(f->db, 1, items, &n), ERR_OK);
	assert_int_equal(indexq_finish(f->db, items[0].id), ERR_OK);
	fx_close(f);
	fx_open(f);
	assert_int_equal(pending(f), 1);
	assert_int_equal(indexq_take(f->db, 4, items, &n), ERR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(items[0].node_id, 22);
}

/* A push joins the caller's transaction: a rolled-back change leaves no row. */
static void test_push_in_callers_transaction(void **state)
{
	struct fx *f = *state;

	assert_int_equal(db_begin(f->db), ERR_OK);
	assert_int_equal(indexq_push(f->db, 31, false), ERR_OK);
	db_rollback(f->db);
	assert_int_equal(pending(f), 0);
}

static void test_push_all_and_documents(void **state)
{
	struct fx *f = *state;
	int64_t dir = add_node(f, f->root, true, "dir");
	int64_t sub = add_node(f, dir, true, "sub");
	int64_t a = add_node(f, f->root, false, "a.txt");
	int64_t b = add_node(f, dir, false, "b.txt");
	int64_t c = add_node(f, sub, false, "c.txt");
	struct indexq_item items[8];
	int64_t *ids;
	size_t n;

	assert_int_equal(indexq_push_all(f->db), ERR_OK);
	assert_int_equal(indexq_take(f->db, 8, items, &n), ERR_OK);
	assert_int_equal(n, 3); /* documents only, in id order */
	assert_int_equal(items[0].node_id, a);
	assert_int_equal(items[1].node_id, b);
	assert_int_equal(items[2].node_id, c);

	assert_int_equal(indexq_documents_under(f->db, dir, &ids, &n), ERR_OK);
	assert_int_equal(n, 2);
	assert_int_equal(ids[0], b);
	assert_int_equal(ids[1], c);
	free(ids);
	assert_int_equal(indexq_documents_under(f->db, c, &ids, &n), ERR_OK);
	assert_int_equal(n, 0);
	free(ids);
	assert_int_equal(indexq_all_documents(f->db, &ids, &n), ERR_OK);
	assert_int_equal(n, 3);
	free(ids);
}

static void test_doc_facts(void **state)
{
	struct fx *f = *state;
	int64_t dir = add_node(f, f->root, true, "Reports");
	int64_t doc = add_node(f, dir, false, "D1.1.txt");
	char blob[65];
	struct indexq_doc d;

	memset(blob, 'a', 64);
	blob[64] = '\0';
	add_version(f, doc, 1, blob);
	fx_exec(f, "UPDATE nodes SET deliverable = 'D1.1', status = 'final'"
		   " WHERE name = 'D1.1.txt'");

	assert_int_equal(indexq_doc_facts(f->db, doc, &d), ERR_OK);
	assert_true(d.found);
	assert_false(d.is_folder);
	assert_false(d.trashed);
	assert_true(d.has_version);
	assert_int_equal(d.wp_id, f->wp);
	assert_string_equal(d.wp_code, "WP1");
	assert_string_equal(d.path, "Reports/D1.1.txt");
	assert_string_equal(d.name, "D1.1.txt");
	assert_string_equal(d.deliverable, "D1.1");
	assert_string_equal(d.status, "final");
	assert_int_equal(d.version, 1);
	assert_string_equal(d.blob, blob);
	assert_string_equal(d.mime, "text/plain");
	assert_int_equal(d.size, 5);
	assert_string_equal(d.uploader, "Alice");
	assert_int_equal(d.uploaded_at, 77);
	assert_int_equal(d.nfolders, 2); /* root first */
	assert_int_equal(d.folders[0], f->root);
	assert_int_equal(d.folders[1], dir);
	indexq_doc_clear(&d);

	/* Trashed with its folder. */
	fx_exec(f, "UPDATE nodes SET trashed_at = 5 WHERE name = 'Reports'");
	assert_int_equal(indexq_doc_facts(f->db, doc, &d), ERR_OK);
	assert_true(d.trashed);
	indexq_doc_clear(&d);

	/* Purged: not found, and no error. */
	assert_int_equal(indexq_doc_facts(f->db, 99999, &d), ERR_OK);
	assert_false(d.found);
	indexq_doc_clear(&d);
}

static void test_state_and_wp(void **state)
{
	struct fx *f = *state;
	struct indexq_state s = {.node_id = 5, .version = 2, .status = "indexed", .language = "en"};
	char *status, *reason, *language, code[16];
	int64_t version = 0, id = 0;

	assert_int_equal(indexq_state_get(f->db, 5, &version, &status, &reason, &language),
			 ERR_NOTFOUND);
	assert_null(status);
	assert_int_equal(indexq_state_put(f->db, &s), ERR_OK);
	s.version = 3;
	s.status = "failed";
	s.reason = "the helper timed out";
	assert_int_equal(indexq_state_put(f->db, &s), ERR_OK); /* replaces */
	assert_int_equal(indexq_state_get(f->db, 5, &version, &status, &reason, &language), ERR_OK);
	assert_int_equal(version, 3);
	assert_string_equal(status, "failed");
	assert_string_equal(reason, "the helper timed out");
	assert_string_equal(language, "en");
	free(status);
	free(reason);
	free(language);
	/* The schema's check refuses a status it does not know. */
	s.status = "bogus";
	assert_int_not_equal(indexq_state_put(f->db, &s), ERR_OK);

	assert_int_equal(indexq_state_delete(f->db, 5), ERR_OK);
	assert_int_equal(indexq_state_get(f->db, 5, &version, &status, &reason, &language),
			 ERR_NOTFOUND);
	s.status = "indexed";
	assert_int_equal(indexq_state_put(f->db, &s), ERR_OK);
	assert_int_equal(indexq_state_clear(f->db), ERR_OK);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM index_state"), 0);

	assert_int_equal(indexq_wp_code(f->db, f->wp, code, sizeof code), ERR_OK);
	assert_string_equal(code, "WP1");
	assert_int_equal(indexq_wp_code(f->db, 999, code, sizeof code), ERR_NOTFOUND);
	assert_int_equal(indexq_wp_id(f->db, "WP1", &id), ERR_OK);
	assert_int_equal(id, f->wp);
	assert_int_equal(indexq_wp_id(f->db, "WP9", &id), ERR_NOTFOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_push_take_finish, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_survives_restart, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_take_fair_turns, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_push_in_callers_transaction, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_push_all_and_documents, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_doc_facts, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_state_and_wp, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
