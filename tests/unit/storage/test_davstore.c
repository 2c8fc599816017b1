/* Unit tests for storage/davstore.c (WebDAV dead properties and locks)
 * and the parts of storage/tree.c that WebDAV added: tree_copy and
 * TREE_MOVE_VERSION. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "davstore.h"
#include "storage_fixture.h"
#include "tree.h"

#define HASH_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HASH_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static void put(struct fx *f, int64_t wp, const char *path, const char *hash, uint64_t size)
{
	struct name_path p = fx_path(path);
	struct tree_put req = {.user_id = f->alice,
			       .blob = hash,
			       .size = size,
			       .mime = "text/plain",
			       .parents = true};
	struct tree_put_result res;

	assert_int_equal(tree_put(f->db, wp, &p, &req, &res), ERR_OK);
	name_path_free(&p);
}

static int64_t id_of(struct fx *f, int64_t wp, const char *path)
{
	struct name_path p = fx_path(path);
	struct tree_node n = {0};
	int64_t id = 0;

	if (tree_resolve(f->db, wp, &p, &n) == ERR_OK)
		id = n.id;
	tree_node_clear(&n);
	name_path_free(&p);
	return id;
}

static int64_t versions_of(struct fx *f, int64_t node)
{
	char sql[128];

	snprintf(sql, sizeof sql, "SELECT count(*) FROM versions WHERE node_id = %" PRId64, node);
	return fx_int(f, sql);
}

/* ---- dead properties ---- */

static void test_props_set_list_remove(void **state)
{
	struct fx *f = *state;
	struct davstore_prop *p;
	size_t n;
	int64_t doc;
	struct davstore_change set[] = {
		{"urn:x", "b", "<x:b xmlns:x=\"urn:x\">2</x:b>"},
		{"urn:x", "a", "<x:a xmlns:x=\"urn:x\">1</x:a>"},
		{"", "plain", "<plain>3</plain>"},
	};
	struct davstore_change rm[] = {{"urn:x", "b", NULL}, {"urn:x", "nothere", NULL}};

	put(f, f->wp, "d.txt", HASH_A, 1);
	doc = id_of(f, f->wp, "d.txt");
	assert_int_equal(davstore_props_apply(f->db, doc, set, 3), ERR_OK);
	assert_int_equal(davstore_props_list(f->db, doc, &p, &n), ERR_OK);
	assert_int_equal(n, 3);
	assert_string_equal(p[0].ns, "");
	assert_string_equal(p[1].name, "a");
	assert_string_equal(p[2].xml, "<x:b xmlns:x=\"urn:x\">2</x:b>");
	davstore_props_free(p, n);
	/* removing an absent property is not an error */
	assert_int_equal(davstore_props_apply(f->db, doc, rm, 2), ERR_OK);
	assert_int_equal(davstore_props_list(f->db, doc, &p, &n), ERR_OK);
	assert_int_equal(n, 2);
	davstore_props_free(p, n);
}

static void test_props_all_or_nothing(void **state)
{
	struct fx *f = *state;
	char *big = malloc(DAVSTORE_PROP_BYTES + 2);
	struct davstore_prop *p;
	size_t n;
	int64_t doc;

	put(f, f->wp, "d.txt", HASH_A, 1);
	doc = id_of(f, f->wp, "d.txt");
	memset(big, 'x', DAVSTORE_PROP_BYTES + 1);
	big[DAVSTORE_PROP_BYTES + 1] = '\0';
	struct davstore_change c[] = {{"urn:x", "ok", "<x:ok xmlns:x=\"urn:x\"/>"},
				      {"urn:x", "big", big}};
	assert_int_equal(davstore_props_apply(f->db, doc, c, 2), ERR_LIMIT);
	assert_int_equal(davstore_props_list(f->db, doc, &p, &n), ERR_OK);
	assert_int_equal(n, 0); /* the first change was rolled back too */
	free(big);
}

static void test_props_count_cap(void **state)
{
	struct fx *f = *state;
	struct davstore_change c[DAVSTORE_PROPS_MAX + 1];
	char names[DAVSTORE_PROPS_MAX + 1][16];
	int64_t doc;

	put(f, f->wp, "d.txt", HASH_A, 1);
	doc = id_of(f, f->wp, "d.txt");
	for (int i = 0; i <= DAVSTORE_PROPS_MAX; i++) {
		snprintf(names[i], sizeof names[i], "p%d", i);
		c[i] = (struct davstore_change){"urn:x", names[i], "<v/>"};
	}
	assert_int_equal(davstore_props_apply(f->db, doc, c, DAVSTORE_PROPS_MAX), ERR_OK);
	assert_int_equal(davstore_props_apply(f->db, doc, c + DAVSTORE_PROPS_MAX, 1), ERR_LIMIT);
	/* replacing an existing one is fine at the cap */
	assert_int_equal(davstore_props_apply(f->db, doc, c, 1), ERR_OK);
}

static void test_props_gone_with_purge(void **state)
{
	struct fx *f = *state;
	struct name_path p = fx_path("d.txt");
	struct davstore_change c = {"urn:x", "a", "<a/>"};
	int64_t doc;

	put(f, f->wp, "d.txt", HASH_A, 1);
	doc = id_of(f, f->wp, "d.txt");
	assert_int_equal(davstore_props_apply(f->db, doc, &c, 1), ERR_OK);
	assert_int_equal(tree_trash(f->db, f->wp, &p, f->alice, NULL), ERR_OK);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM dav_props"), 1); /* kept in the trash */
	assert_int_equal(tree_purge(f->db, f->wp, doc, NULL), ERR_OK);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM dav_props"), 0);
	name_path_free(&p);
}

/* ---- locks ---- */

static void lock_init(struct davstore_lock *l, const char *token, int64_t wp, const char *path,
		      bool exclusive, bool infinite, int64_t user)
{
	memset(l, 0, sizeof *l);
	snprintf(l->token, sizeof l->token, "%s", token);
	l->wp_id = wp;
	l->path = (char *)path;
	l->root = (char *)path;
	l->exclusive = exclusive;
	l->infinite = infinite;
	l->owner = (char *)"";
	l->user_id = user;
	l->timeout = 60;
}

static void test_path_relations(void **state)
{
	struct davstore_lock l;

	(void)state;
	assert_true(davstore_path_within("a/b", "a"));
	assert_true(davstore_path_within("a", "a"));
	assert_true(davstore_path_within("a", ""));
	assert_false(davstore_path_within("ab", "a"));
	assert_false(davstore_path_within("a", "a/b"));
	lock_init(&l, "t", 1, "a", true, false, 1);
	assert_true(davstore_lock_covers(&l, "a"));
	assert_false(davstore_lock_covers(&l, "a/b"));
	l.infinite = true;
	assert_true(davstore_lock_covers(&l, "a/b/c"));
	assert_false(davstore_lock_covers(&l, "ab"));
}

static void test_lock_conflicts(void **state)
{
	struct fx *f = *state;
	struct davstore_lock l;
	char *conflict = NULL;

	lock_init(&l, "urn:t1", f->wp, "a", false, true, f->alice);
	assert_int_equal(davstore_lock_take(f->db, &l, NULL), ERR_OK);
	assert_true(l.expires_at > l.created_at);
	/* shared beside shared */
	lock_init(&l, "urn:t2", f->wp, "a/b", false, false, f->bob);
	assert_int_equal(davstore_lock_take(f->db, &l, NULL), ERR_OK);
	/* exclusive below an infinite shared lock */
	lock_init(&l, "urn:t3", f->wp, "a/c", true, false, f->bob);
	assert_int_equal(davstore_lock_take(f->db, &l, &conflict), ERR_LOCKED);
	assert_string_equal(conflict, "a");
	free(conflict);
	/* an infinite exclusive lock above existing ones */
	lock_init(&l, "urn:t4", f->wp, "", true, true, f->bob);
	assert_int_equal(davstore_lock_take(f->db, &l, NULL), ERR_LOCKED);
	/* elsewhere is free; a sibling with the same prefix is elsewhere */
	lock_init(&l, "urn:t5", f->wp, "ab", true, false, f->bob);
	assert_int_equal(davstore_lock_take(f->db, &l, NULL), ERR_OK);
	/* a duplicate token is refused by the primary key */
	lock_init(&l, "urn:t5", f->wp, "zz", true, false, f->bob);
	assert_int_not_equal(davstore_lock_take(f->db, &l, NULL), ERR_OK);
}

static void test_lock_refresh_remove_expire(void **state)
{
	struct fx *f = *state;
	struct davstore_lock l, got;
	struct davstore_lock *all;
	size_t n;

	lock_init(&l, "urn:t1", f->wp, "a", true, false, f->alice);
	l.timeout = 10;
	assert_int_equal(davstore_lock_take(f->db, &l, NULL), ERR_OK);
	/* someone else cannot refresh it */
	assert_int_equal(davstore_lock_refresh(f->db, "urn:t1", f->bob, 100, NULL), ERR_NOTFOUND);
	assert_int_equal(davstore_lock_refresh(f->db, "urn:t1", f->alice, 100, &got), ERR_OK);
	assert_int_equal(got.timeout, 100);
	assert_string_equal(got.path, "a");
	davstore_lock_clear(&got);
	/* after it expires it is gone for every purpose */
	db_clock_offset(101);
	assert_int_equal(davstore_locks_list(f->db, f->wp, &all, &n), ERR_OK);
	assert_int_equal(n, 0);
	assert_int_equal(davstore_lock_refresh(f->db, "urn:t1", f->alice, 100, NULL), ERR_NOTFOUND);
	lock_init(&l, "urn:t2", f->wp, "a", true, false, f->bob);
	assert_int_equal(davstore_lock_take(f->db, &l, NULL), ERR_OK);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM dav_locks WHERE token = 'urn:t1'"), 0);
	assert_int_equal(davstore_lock_remove(f->db, "urn:t2"), ERR_OK);
	assert_int_equal(davstore_lock_remove(f->db, "urn:t2"), ERR_NOTFOUND);
}

static void test_locks_remove_within(void **state)
{
	struct fx *f = *state;
	struct davstore_lock l;
	const char *paths[] = {"a", "a/b", "ab", "a%", "c"};

	for (size_t i = 0; i < 5; i++) {
		char token[32];

		snprintf(token, sizeof token, "urn:t%zu", i);
		lock_init(&l, token, f->wp, paths[i], false, false, f->alice);
		assert_int_equal(davstore_lock_take(f->db, &l, NULL), ERR_OK);
	}
	assert_int_equal(davstore_locks_remove_within(f->db, f->wp, "a"), ERR_OK);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM dav_locks"), 3);
	assert_int_equal(davstore_locks_remove_within(f->db, f->wp, ""), ERR_OK);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM dav_locks"), 0);
}

static void test_locks_per_user_cap(void **state)
{
	struct fx *f = *state;
	struct davstore_lock l;

	fx_exec(f, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)"
		   " INSERT INTO dav_locks SELECT 'urn:x' || i, 1, 'p' || i, 'p' || i, 1, 0, '', 1,"
		   " 60, 1, 9999999999, 0 FROM n");
	lock_init(&l, "urn:one-more", f->wp, "q", true, false, f->alice);
	assert_int_equal(davstore_lock_take(f->db, &l, NULL), ERR_LIMIT);
	lock_init(&l, "urn:bobs", f->wp, "q", true, false, f->bob);
	assert_int_equal(davstore_lock_take(f->db, &l, NULL), ERR_OK);
}

/* ---- tree_copy and TREE_MOVE_VERSION ---- */

static enum err count_copy(struct db *db, int64_t from, int64_t to, void *arg)
{
	(void)db;
	(void)from;
	(void)to;
	(*(int *)arg)++;
	return davstore_props_copy(db, from, to);
}

static enum err copy(struct fx *f, int64_t src_wp, const char *from, int64_t dst_wp, const char *to,
		     unsigned flags, struct tree_copy_result *res)
{
	struct name_path a = fx_path(from), b = fx_path(to);
	int calls = 0;
	struct tree_copy req = {
		.user_id = f->bob, .flags = flags, .on_node = count_copy, .on_node_arg = &calls};
	enum err rc = tree_copy(f->db, src_wp, &a, dst_wp, &b, &req, res);

	name_path_free(&a);
	name_path_free(&b);
	if (!rc && res)
		assert_int_equal((uint64_t)calls, res->nodes);
	return rc;
}

static void test_copy_tree(void **state)
{
	struct fx *f = *state;
	struct tree_copy_result res;
	struct davstore_change c = {"urn:x", "a", "<a/>"};
	struct tree_version v = {0};
	struct name_path dst = fx_path("dst");

	put(f, f->wp, "src/one.txt", HASH_A, 10);
	put(f, f->wp, "src/one.txt", HASH_B, 20); /* version 2 */
	put(f, f->wp, "src/sub/two.txt", HASH_A, 10);
	assert_int_equal(davstore_props_apply(f->db, id_of(f, f->wp, "src/one.txt"), &c, 1),
			 ERR_OK);
	assert_int_equal(tree_mkdir(f->db, f->wp, &dst, f->alice, false, NULL), ERR_OK);
	name_path_free(&dst);
	assert_int_equal(copy(f, f->wp, "src", f->wp, "dst/copy", 0, &res), ERR_OK);
	assert_false(res.replaced);
	assert_int_equal(res.nodes, 4);
	/* the copy has the current content as its only version */
	int64_t one = id_of(f, f->wp, "dst/copy/one.txt");
	assert_true(one > 0);
	assert_int_equal(versions_of(f, one), 1);
	assert_int_equal(tree_version_get(f->db, f->wp, one, 0, &v), ERR_OK);
	assert_string_equal(v.blob, HASH_B);
	assert_non_null(strstr(v.comment, "copied from src/one.txt, version 2"));
	tree_version_clear(&v);
	assert_true(id_of(f, f->wp, "dst/copy/sub/two.txt") > 0);
	/* dead properties came along */
	assert_int_equal(fx_int(f, "SELECT count(*) FROM dav_props"), 2);
	/* the copies are queued for indexing */
	assert_true(fx_int(f, "SELECT count(*) FROM index_queue WHERE op = 'index'") >= 5);
	/* a clash without replace */
	assert_int_equal(copy(f, f->wp, "src", f->wp, "dst/copy", 0, NULL), ERR_EXISTS);
	/* into itself */
	assert_int_equal(copy(f, f->wp, "src", f->wp, "src/sub/x", 0, NULL), ERR_INVALID);
	/* a missing destination folder */
	assert_int_equal(copy(f, f->wp, "src", f->wp, "nope/x", 0, NULL), ERR_NOTFOUND);
	/* shallow: the folder alone */
	assert_int_equal(copy(f, f->wp, "src", f->wp, "shallow", TREE_COPY_SHALLOW, &res), ERR_OK);
	assert_int_equal(res.nodes, 1);
	assert_int_equal(id_of(f, f->wp, "shallow/one.txt"), 0);
}

static void test_copy_replace_makes_version(void **state)
{
	struct fx *f = *state;
	struct tree_copy_result res;
	int64_t target;

	put(f, f->wp, "a.txt", HASH_A, 10);
	put(f, f->wp, "b.txt", HASH_B, 20);
	target = id_of(f, f->wp, "b.txt");
	assert_int_equal(copy(f, f->wp, "a.txt", f->wp, "B.TXT", TREE_COPY_REPLACE, &res), ERR_OK);
	assert_true(res.replaced);
	assert_int_equal(res.node_id, target); /* same document, history kept */
	assert_int_equal(versions_of(f, target), 2);
	/* a document onto a folder: the folder goes to the trash */
	put(f, f->wp, "folder/x.txt", HASH_A, 10);
	assert_int_equal(copy(f, f->wp, "a.txt", f->wp, "folder", TREE_COPY_REPLACE, &res), ERR_OK);
	assert_true(res.replaced);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM nodes WHERE name = 'folder'"
				   " AND trashed_at IS NOT NULL"),
			 1);
}

static void test_copy_between_wps_and_quota(void **state)
{
	struct fx *f = *state;
	int64_t wp2 = fx_add_wp(f, "WP2");
	char sql[128];

	put(f, f->wp, "a.txt", HASH_A, 1000);
	assert_int_equal(copy(f, f->wp, "a.txt", wp2, "a.txt", 0, NULL), ERR_OK);
	assert_true(id_of(f, wp2, "a.txt") > 0);
	snprintf(sql, sizeof sql, "UPDATE wps SET quota_bytes = 1500 WHERE id = %" PRId64, wp2);
	fx_exec(f, sql);
	assert_int_equal(copy(f, f->wp, "a.txt", wp2, "b.txt", 0, NULL), ERR_QUOTA);
	assert_int_equal(id_of(f, wp2, "b.txt"), 0);
}

static void test_copy_limit(void **state)
{
	struct fx *f = *state;
	char sql[512];

	/* TREE_COPY_MAX + 1 folders under "big", made directly */
	put(f, f->wp, "big/x.txt", HASH_A, 1);
	snprintf(sql, sizeof sql,
		 "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
		 " INSERT INTO nodes(wp_id, parent_id, is_folder, name, name_key, created_at,"
		 " modified_at) SELECT %" PRId64 ", %" PRId64
		 ", 1, 'f' || i, 'f' || i, 1, 1 FROM n",
		 TREE_COPY_MAX, f->wp, id_of(f, f->wp, "big"));
	fx_exec(f, sql);
	int64_t before = fx_int(f, "SELECT count(*) FROM nodes");
	assert_int_equal(copy(f, f->wp, "big", f->wp, "big2", 0, NULL), ERR_LIMIT);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM nodes"), before);
}

static void test_move_version_over(void **state)
{
	struct fx *f = *state;
	struct name_path from = fx_path("~tmp123.tmp"), to = fx_path("report.docx");
	struct tree_node n = {0};
	int64_t report, tmp;

	put(f, f->wp, "report.docx", HASH_A, 10);
	put(f, f->wp, "~tmp123.tmp", HASH_B, 20);
	report = id_of(f, f->wp, "report.docx");
	tmp = id_of(f, f->wp, "~tmp123.tmp");
	/* without the flag the destination goes to the trash */
	assert_int_equal(tree_move(f->db, f->wp, &from, &to, f->bob,
				   TREE_MOVE_REPLACE | TREE_MOVE_VERSION, &n),
			 ERR_OK);
	assert_int_equal(n.id, report);
	assert_int_equal(n.version, 2);
	assert_string_equal(n.blob, HASH_B);
	tree_node_clear(&n);
	assert_int_equal(id_of(f, f->wp, "~tmp123.tmp"), 0);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM nodes WHERE trashed_at IS NOT NULL"), 1);
	(void)tmp;
	name_path_free(&from);
	name_path_free(&to);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_props_set_list_remove),
		T(test_props_all_or_nothing),
		T(test_props_count_cap),
		T(test_props_gone_with_purge),
		T(test_path_relations),
		T(test_lock_conflicts),
		T(test_lock_refresh_remove_expire),
		T(test_locks_remove_within),
		T(test_locks_per_user_cap),
		T(test_copy_tree),
		T(test_copy_replace_makes_version),
		T(test_copy_between_wps_and_quota),
		T(test_copy_limit),
		T(test_move_version_over),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
