/* Unit tests for storage/tree.c: documents and versions, preconditions,
 * folders, listing (and its speed at 10,000 entries), rename and move,
 * trash, purge, metadata, quota and retention, and the index queue
 * rows each change leaves. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

/* included for LIST_SQL, to check the listing's query plan */
#include "../../../storage/tree.c"
#include "settings.h"
#include "storage_fixture.h"

#define HASH_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HASH_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define HASH_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

/* Put content (hash, size) at `path` as `user`, expecting `want`. */
static enum err put_as(struct fx *f, int64_t wp, const char *path, const char *hash, uint64_t size,
		       int64_t user, struct tree_put_result *res)
{
	struct name_path p = fx_path(path);
	struct tree_put req = {.user_id = user, .blob = hash, .size = size, .mime = "text/plain"};
	struct tree_put_result ignore;
	enum err rc = tree_put(f->db, wp, &p, &req, res ? res : &ignore);

	name_path_free(&p);
	return rc;
}

static enum err put(struct fx *f, const char *path, const char *hash, uint64_t size)
{
	return put_as(f, f->wp, path, hash, size, f->alice, NULL);
}

static enum err put_req(struct fx *f, const char *path, const struct tree_put *req,
			struct tree_put_result *res)
{
	struct name_path p = fx_path(path);
	enum err rc = tree_put(f->db, f->wp, &p, req, res);

	name_path_free(&p);
	return rc;
}

static enum err resolve(struct fx *f, const char *path, struct tree_node *n)
{
	struct name_path p = fx_path(path);
	enum err rc = tree_resolve(f->db, f->wp, &p, n);

	name_path_free(&p);
	return rc;
}

static int64_t node_id(struct fx *f, const char *path)
{
	struct tree_node n;
	int64_t id;

	if (resolve(f, path, &n) != ERR_OK)
		fail_msg("'%s' not found: %s", path, err_detail());
	id = n.id;
	tree_node_clear(&n);
	return id;
}

static bool exists(struct fx *f, const char *path)
{
	struct tree_node n;
	enum err rc = resolve(f, path, &n);

	tree_node_clear(&n);
	assert_true(rc == ERR_OK || rc == ERR_NOTFOUND);
	return rc == ERR_OK;
}

static enum err mkdir_p(struct fx *f, const char *path, bool parents)
{
	struct name_path p = fx_path(path);
	enum err rc = tree_mkdir(f->db, f->wp, &p, f->alice, parents, NULL);

	name_path_free(&p);
	return rc;
}

static enum err move(struct fx *f, const char *from, const char *to, unsigned flags)
{
	struct name_path a = fx_path(from), b = fx_path(to);
	enum err rc = tree_move(f->db, f->wp, &a, &b, f->bob, flags, NULL);

	name_path_free(&a);
	name_path_free(&b);
	return rc;
}

static enum err trash(struct fx *f, const char *path, int64_t *id)
{
	struct name_path p = fx_path(path);
	enum err rc = tree_trash(f->db, f->wp, &p, f->bob, id);

	name_path_free(&p);
	return rc;
}

static int64_t versions_of(struct fx *f, int64_t node)
{
	char sql[128];

	snprintf(sql, sizeof sql, "SELECT count(*) FROM versions WHERE node_id = %" PRId64, node);
	return fx_int(f, sql);
}

/* Index queue rows for a node and op since the queue was last emptied. */
static int64_t queued(struct fx *f, int64_t node, const char *op)
{
	char sql[160];

	snprintf(sql, sizeof sql,
		 "SELECT count(*) FROM index_queue WHERE node_id = %" PRId64 " AND op = '%s'", node,
		 op);
	return fx_int(f, sql);
}

static void expect_detail(const char *part)
{
	if (!strstr(err_detail(), part))
		fail_msg("detail '%s' does not mention '%s'", err_detail(), part);
}

/* ---- documents and versions ---- */

static void put_creates_then_adds_versions(void **state)
{
	struct fx *f = *state;
	struct cas_blob blob = fx_store(f, "version one", 11);
	struct tree_put req = {.user_id = f->alice,
			       .blob = blob.hash,
			       .size = blob.size,
			       .mime = "text/plain",
			       .comment = "first draft"};
	struct tree_put_result res;
	struct tree_node n;

	assert_int_equal(put_req(f, "Report.docx", &req, &res), ERR_OK);
	assert_true(res.created);
	assert_int_equal(res.version, 1);
	assert_int_equal(queued(f, res.node_id, "index"), 1);

	assert_int_equal(resolve(f, "report.DOCX", &n), ERR_OK); /* any case finds it */
	assert_string_equal(n.name, "Report.docx");
	assert_false(n.is_folder);
	assert_int_equal(n.version, 1);
	assert_int_equal(n.size, 11);
	assert_string_equal(n.blob, blob.hash);
	assert_string_equal(n.mime, "text/plain");
	assert_int_equal(n.modified_by, f->alice);
	assert_string_equal(n.modified_by_name, "Alice");
	assert_int_equal(n.parent_id, f->root);
	assert_int_equal(n.wp_id, f->wp);
	assert_int_equal(n.trashed_at, 0);
	tree_node_clear(&n);

	assert_int_equal(put_as(f, f->wp, "REPORT.docx", HASH_B, 5, f->bob, &res), ERR_OK);
	assert_false(res.created);
	assert_int_equal(res.version, 2);
	assert_int_equal(resolve(f, "Report.docx", &n), ERR_OK);
	assert_string_equal(n.name, "Report.docx"); /* keeps its spelling */
	assert_int_equal(n.version, 2);
	assert_int_equal(n.size, 5);
	assert_string_equal(n.modified_by_name, "Bob");
	assert_int_equal(n.created_by, f->alice);
	tree_node_clear(&n);
	assert_int_equal(queued(f, res.node_id, "index"), 2);
}

static void nfc_and_nfd_names_are_one_document(void **state)
{
	struct fx *f = *state;
	struct tree_put_result res;

	assert_int_equal(put_as(f, f->wp, "caf\xc3\xa9.txt", HASH_A, 1, f->alice, &res), ERR_OK);
	assert_true(res.created);
	assert_int_equal(put_as(f, f->wp, "CAFE\xcc\x81.TXT", HASH_B, 1, f->alice, &res), ERR_OK);
	assert_false(res.created);
	assert_int_equal(res.version, 2);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM nodes WHERE is_folder = 0"), 1);
}

static void put_preconditions(void **state)
{
	struct fx *f = *state;
	struct tree_put req = {
		.user_id = f->alice, .blob = HASH_A, .size = 3, .mime = "text/plain"};
	struct tree_put_result res;
	int64_t id;

	/* create only: fine while absent */
	req.cond = TREE_COND_ABSENT;
	assert_int_equal(put_req(f, "d.txt", &req, &res), ERR_OK);
	id = res.node_id;
	assert_int_equal(put_req(f, "D.TXT", &req, &res), ERR_PRECONDITION);
	expect_detail("already exists");
	/* update only */
	req.cond = TREE_COND_EXISTS;
	assert_int_equal(put_req(f, "other.txt", &req, &res), ERR_PRECONDITION);
	expect_detail("does not exist");
	assert_false(exists(f, "other.txt"));
	assert_int_equal(put_req(f, "d.txt", &req, &res), ERR_OK);
	assert_int_equal(res.version, 2);
	/* lost update: someone saved version 3 after we read version 2 */
	req.cond = TREE_COND_NONE;
	req.blob = HASH_B;
	req.if_version = 2;
	assert_int_equal(put_req(f, "d.txt", &req, &res), ERR_OK);
	assert_int_equal(res.version, 3);
	err_clear();
	assert_int_equal(put_req(f, "d.txt", &req, &res), ERR_PRECONDITION);
	expect_detail("current version is 3, not 2");
	assert_int_equal(versions_of(f, id), 3);
	/* ETag: the expected content */
	req.if_version = 0;
	req.if_blob = HASH_A;
	assert_int_equal(put_req(f, "d.txt", &req, &res), ERR_PRECONDITION);
	expect_detail("other content");
	req.if_blob = HASH_B;
	assert_int_equal(put_req(f, "d.txt", &req, &res), ERR_OK);
	assert_int_equal(res.version, 4);
	req.if_blob = "not-a-hash";
	assert_int_equal(put_req(f, "d.txt", &req, &res), ERR_PRECONDITION);
	/* an expectation about a document that does not exist */
	req.if_blob = NULL;
	req.if_version = 1;
	assert_int_equal(put_req(f, "nope.txt", &req, &res), ERR_PRECONDITION);
	assert_false(exists(f, "nope.txt"));
	assert_int_equal(versions_of(f, id), 4);
}

static void put_refuses_bad_input(void **state)
{
	struct fx *f = *state;
	struct tree_put req = {
		.user_id = f->alice, .blob = HASH_A, .size = 3, .mime = "text/plain"};
	struct tree_put_result res;
	struct name_path root = {0};
	char long_comment[TREE_COMMENT_MAX + 2];

	assert_int_equal(tree_put(f->db, f->wp, &root, &req, &res), ERR_INVALID);
	req.blob = "ABC";
	assert_int_equal(put_req(f, "x", &req, &res), ERR_INVALID);
	req.blob = HASH_A;
	req.mime = "";
	assert_int_equal(put_req(f, "x", &req, &res), ERR_INVALID);
	req.mime = "text/plain\r\nX-Evil: 1";
	assert_int_equal(put_req(f, "x", &req, &res), ERR_INVALID);
	req.mime = "text/plain";
	memset(long_comment, 'c', sizeof long_comment - 1);
	long_comment[sizeof long_comment - 1] = '\0';
	req.comment = long_comment;
	assert_int_equal(put_req(f, "x", &req, &res), ERR_INVALID);
	req.comment = "bad \xff utf-8";
	assert_int_equal(put_req(f, "x", &req, &res), ERR_INVALID);
	req.comment = NULL;
	req.size = UINT64_MAX;
	assert_int_equal(put_req(f, "x", &req, &res), ERR_INVALID);
	req.size = 3;
	assert_int_equal(put_as(f, 999, "x", HASH_A, 3, f->alice, &res), ERR_NOTFOUND);
	expect_detail("no work package");
	assert_int_equal(fx_int(f, "SELECT count(*) FROM nodes WHERE is_folder = 0"), 0);
}

static void put_paths_and_folders(void **state)
{
	struct fx *f = *state;
	struct tree_put req = {
		.user_id = f->alice, .blob = HASH_A, .size = 3, .mime = "text/plain"};
	struct tree_put_result res;

	/* missing folder */
	assert_int_equal(put(f, "a/b/doc.txt", HASH_A, 3), ERR_NOTFOUND);
	expect_detail("'a' does not exist");
	assert_false(exists(f, "a"));
	/* mkdir -p on the way */
	req.parents = true;
	assert_int_equal(put_req(f, "a/b/doc.txt", &req, &res), ERR_OK);
	assert_true(exists(f, "a/b"));
	/* a folder is never replaced by a document */
	assert_int_equal(put(f, "a/B", HASH_A, 3), ERR_EXISTS);
	expect_detail("is a folder");
	/* a document is not a folder */
	assert_int_equal(put(f, "a/b/doc.txt/inner", HASH_A, 3), ERR_NOTFOUND);
	expect_detail("is a document, not a folder");
	req.parents = true;
	assert_int_equal(put_req(f, "a/b/doc.txt/inner", &req, &res), ERR_NOTFOUND);
}

static void versions_list_and_get(void **state)
{
	struct fx *f = *state;
	struct tree_version_list vl;
	struct tree_version v;
	struct tree_put req = {.user_id = f->bob,
			       .blob = HASH_B,
			       .size = 22,
			       .mime = "application/pdf",
			       .comment = "second"};
	struct tree_put_result res;
	int64_t id;

	assert_int_equal(put(f, "doc.pdf", HASH_A, 11), ERR_OK);
	assert_int_equal(put_req(f, "doc.pdf", &req, &res), ERR_OK);
	assert_int_equal(put(f, "doc.pdf", HASH_C, 33), ERR_OK);
	id = node_id(f, "doc.pdf");
	assert_int_equal(tree_versions(f->db, f->wp, id, 0, 0, &vl), ERR_OK);
	assert_int_equal(vl.total, 3);
	assert_int_equal(vl.n, 3);
	assert_int_equal(vl.items[0].number, 3); /* newest first */
	assert_int_equal(vl.items[1].number, 2);
	assert_int_equal(vl.items[1].size, 22);
	assert_string_equal(vl.items[1].blob, HASH_B);
	assert_string_equal(vl.items[1].mime, "application/pdf");
	assert_string_equal(vl.items[1].comment, "second");
	assert_int_equal(vl.items[1].uploaded_by, f->bob);
	assert_string_equal(vl.items[1].uploaded_by_name, "Bob");
	assert_true(vl.items[1].uploaded_at > 0);
	assert_string_equal(vl.items[2].comment, "");
	tree_version_list_free(&vl);
	/* paging */
	assert_int_equal(tree_versions(f->db, f->wp, id, 1, 1, &vl), ERR_OK);
	assert_int_equal(vl.n, 1);
	assert_int_equal(vl.total, 3);
	assert_int_equal(vl.items[0].number, 2);
	tree_version_list_free(&vl);
	assert_int_equal(tree_versions(f->db, f->wp, id, 0, TREE_LIST_MAX + 1, &vl), ERR_INVALID);
	/* one version; 0 is the current */
	assert_int_equal(tree_version_get(f->db, f->wp, id, 0, &v), ERR_OK);
	assert_int_equal(v.number, 3);
	assert_string_equal(v.blob, HASH_C);
	tree_version_clear(&v);
	assert_int_equal(tree_version_get(f->db, f->wp, id, 1, &v), ERR_OK);
	assert_string_equal(v.blob, HASH_A);
	tree_version_clear(&v);
	assert_int_equal(tree_version_get(f->db, f->wp, id, 9, &v), ERR_NOTFOUND);
	assert_int_equal(tree_version_get(f->db, f->wp, id, -1, &v), ERR_INVALID);
	/* folders have none; other work packages cannot reach it */
	assert_int_equal(tree_versions(f->db, f->wp, f->root, 0, 0, &vl), ERR_NOTFOUND);
	assert_int_equal(tree_versions(f->db, fx_add_wp(f, "WP2"), id, 0, 0, &vl), ERR_NOTFOUND);
}

static void restore_version_makes_new_version(void **state)
{
	struct fx *f = *state;
	struct tree_put_result res;
	struct name_path p = fx_path("doc.txt");
	struct tree_version v;
	int64_t id;

	assert_int_equal(put(f, "doc.txt", HASH_A, 1), ERR_OK);
	assert_int_equal(put(f, "doc.txt", HASH_B, 2), ERR_OK);
	id = node_id(f, "doc.txt");
	fx_exec(f, "DELETE FROM index_queue");
	assert_int_equal(tree_restore_version(f->db, f->wp, &p, 1, f->bob, NULL, 2, &res), ERR_OK);
	assert_int_equal(res.version, 3);
	assert_int_equal(tree_version_get(f->db, f->wp, id, 0, &v), ERR_OK);
	assert_int_equal(v.number, 3);
	assert_string_equal(v.blob, HASH_A);
	assert_int_equal(v.size, 1);
	assert_int_equal(v.restored_from, 1);
	assert_string_equal(v.comment, "restored from version 1");
	assert_int_equal(v.uploaded_by, f->bob);
	tree_version_clear(&v);
	assert_int_equal(queued(f, id, "index"), 1);
	/* with a comment; a stale expected version; a missing version */
	assert_int_equal(tree_restore_version(f->db, f->wp, &p, 2, f->bob, "back to B", 0, &res),
			 ERR_OK);
	assert_int_equal(res.version, 4);
	assert_int_equal(tree_restore_version(f->db, f->wp, &p, 1, f->bob, NULL, 3, &res),
			 ERR_PRECONDITION);
	assert_int_equal(tree_restore_version(f->db, f->wp, &p, 7, f->bob, NULL, 0, &res),
			 ERR_NOTFOUND);
	expect_detail("no version 7");
	assert_int_equal(tree_restore_version(f->db, f->wp, &p, 0, f->bob, NULL, 0, &res),
			 ERR_INVALID);
	assert_int_equal(versions_of(f, id), 4);
	name_path_free(&p);
}

/* ---- folders and listing ---- */

static void mkdir_rules(void **state)
{
	struct fx *f = *state;
	struct name_path p = fx_path("x/y/z");
	struct name_path root = {0};
	struct tree_node n;

	assert_int_equal(mkdir_p(f, "Reports", false), ERR_OK);
	assert_int_equal(mkdir_p(f, "reports", false), ERR_EXISTS);
	expect_detail("already exists");
	assert_int_equal(mkdir_p(f, "Reports", true), ERR_OK); /* -p accepts it */
	assert_int_equal(mkdir_p(f, "a/b", false), ERR_NOTFOUND);
	assert_int_equal(tree_mkdir(f->db, f->wp, &p, f->bob, true, &n), ERR_OK);
	assert_true(n.is_folder);
	assert_string_equal(n.name, "z");
	assert_int_equal(n.created_by, f->bob);
	tree_node_clear(&n);
	assert_int_equal(put(f, "doc", HASH_A, 1), ERR_OK);
	assert_int_equal(mkdir_p(f, "DOC", false), ERR_EXISTS);
	expect_detail("is a document");
	assert_int_equal(mkdir_p(f, "doc/sub", true), ERR_NOTFOUND);
	assert_int_equal(tree_mkdir(f->db, f->wp, &root, f->bob, true, NULL), ERR_EXISTS);
	name_path_free(&p);
}

static void listing_sorted_and_paged(void **state)
{
	struct fx *f = *state;
	struct tree_node_list l;
	struct tree_list_opts o = {0};

	assert_int_equal(put(f, "b.txt", HASH_A, 300), ERR_OK);
	assert_int_equal(put(f, "A.txt", HASH_B, 100), ERR_OK);
	assert_int_equal(put(f, "c.txt", HASH_C, 200), ERR_OK);
	assert_int_equal(mkdir_p(f, "zeta", false), ERR_OK);
	assert_int_equal(mkdir_p(f, "Alpha", false), ERR_OK);
	/* a trashed entry is not listed */
	assert_int_equal(put(f, "gone.txt", HASH_A, 1), ERR_OK);
	assert_int_equal(trash(f, "gone.txt", NULL), ERR_OK);

	assert_int_equal(tree_list(f->db, f->wp, f->root, NULL, &l), ERR_OK);
	assert_int_equal(l.total, 5);
	assert_int_equal(l.n, 5);
	assert_string_equal(l.items[0].name, "Alpha"); /* folders first, by name key */
	assert_string_equal(l.items[1].name, "zeta");
	assert_string_equal(l.items[2].name, "A.txt");
	assert_string_equal(l.items[3].name, "b.txt");
	assert_string_equal(l.items[4].name, "c.txt");
	assert_int_equal(l.items[3].size, 300);
	assert_int_equal(l.items[3].version, 1);
	assert_string_equal(l.items[3].modified_by_name, "Alice");
	assert_true(l.items[0].is_folder);
	assert_null(l.items[0].mime);
	tree_node_list_free(&l);

	o.reverse = true;
	assert_int_equal(tree_list(f->db, f->wp, f->root, &o, &l), ERR_OK);
	assert_string_equal(l.items[0].name, "zeta");
	assert_string_equal(l.items[2].name, "c.txt");
	tree_node_list_free(&l);

	o.sort = TREE_SORT_SIZE;
	o.reverse = false;
	assert_int_equal(tree_list(f->db, f->wp, f->root, &o, &l), ERR_OK);
	assert_string_equal(l.items[2].name, "b.txt");
	assert_string_equal(l.items[3].name, "c.txt");
	assert_string_equal(l.items[4].name, "A.txt");
	tree_node_list_free(&l);

	fx_exec(f, "UPDATE nodes SET modified_at = 100 WHERE name = 'c.txt'");
	fx_exec(f, "UPDATE nodes SET modified_at = 50 WHERE name = 'b.txt'");
	o.sort = TREE_SORT_MODIFIED;
	o.reverse = true; /* oldest first */
	assert_int_equal(tree_list(f->db, f->wp, f->root, &o, &l), ERR_OK);
	assert_string_equal(l.items[2].name, "b.txt");
	assert_string_equal(l.items[3].name, "c.txt");
	tree_node_list_free(&l);

	o = (struct tree_list_opts){.offset = 2, .limit = 2};
	assert_int_equal(tree_list(f->db, f->wp, f->root, &o, &l), ERR_OK);
	assert_int_equal(l.total, 5);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.items[0].name, "A.txt");
	assert_string_equal(l.items[1].name, "b.txt");
	tree_node_list_free(&l);
	o.offset = 10;
	assert_int_equal(tree_list(f->db, f->wp, f->root, &o, &l), ERR_OK);
	assert_int_equal(l.n, 0);
	tree_node_list_free(&l);

	o.limit = TREE_LIST_MAX + 1;
	assert_int_equal(tree_list(f->db, f->wp, f->root, &o, &l), ERR_INVALID);
	assert_int_equal(tree_list(f->db, f->wp, node_id(f, "b.txt"), NULL, &l), ERR_NOTFOUND);
	assert_int_equal(tree_list(f->db, fx_add_wp(f, "WP2"), f->root, NULL, &l), ERR_NOTFOUND);
	/* a folder below a trashed folder is not listable */
	assert_int_equal(mkdir_p(f, "zeta/inner", false), ERR_OK);
	{
		int64_t inner = node_id(f, "zeta/inner");

		assert_int_equal(trash(f, "zeta", NULL), ERR_OK);
		assert_int_equal(tree_list(f->db, f->wp, inner, NULL, &l), ERR_NOTFOUND);
	}
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* 10,000 entries in one folder: the name-ordered page comes straight
 * from the nodes_children index (no sort step), and every kind of page
 * stays fast. */
static void listing_ten_thousand(void **state)
{
	struct fx *f = *state;
	struct tree_node_list l;
	struct tree_list_opts o = {.limit = 100};
	char name[32], plan[4096] = "";
	sqlite3_stmt *st;
	double t0, worst = 0;

	fx_exec(f, "PRAGMA synchronous=OFF"); /* setup speed only */
	for (int i = 0; i < 10000; i++) {
		snprintf(name, sizeof name, "doc-%05d.txt", i);
		assert_int_equal(put(f, name, i % 2 ? HASH_A : HASH_B, (uint64_t)i), ERR_OK);
	}
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof name, "folder-%03d", i);
		assert_int_equal(mkdir_p(f, name, false), ERR_OK);
	}
	fx_exec(f, "PRAGMA synchronous=FULL");

	assert_int_equal(sqlite3_prepare_v2(db_sqlite(f->db),
					    "EXPLAIN QUERY PLAN " LIST_PAGE_SQL("n.name_key"), -1,
					    &st, NULL),
			 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		strncat(plan, (const char *)sqlite3_column_text(st, 3),
			sizeof plan - strlen(plan) - 2);
		strcat(plan, ";");
	}
	sqlite3_finalize(st);
	if (!strstr(plan, "nodes_children") || strstr(plan, "TEMP B-TREE"))
		fail_msg("listing by name does not read the index in order: %s", plan);

	if (getenv("TREE_LIST_VERBOSE")) {
		static const char *const plans[] = {LIST_SQL("n.name_key DESC"),
						    LIST_SQL("n.modified_at DESC, n.name_key"),
						    LIST_SQL("v.size DESC, n.name_key")};

		for (size_t i = 0; i < 3; i++) {
			char q[2048];

			snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", plans[i]);
			assert_int_equal(sqlite3_prepare_v2(db_sqlite(f->db), q, -1, &st, NULL),
					 SQLITE_OK);
			while (sqlite3_step(st) == SQLITE_ROW)
				print_message("  %s\n", sqlite3_column_text(st, 3));
			sqlite3_finalize(st);
		}
	}
	for (int sort = TREE_SORT_NAME; sort <= TREE_SORT_SIZE; sort++) {
		for (int rev = 0; rev < 2; rev++) {
			for (uint64_t off = 0; off <= 9900; off += 4950) {
				double ms;

				o.sort = (enum tree_sort)sort;
				o.reverse = rev;
				o.offset = off;
				t0 = now_ms();
				assert_int_equal(tree_list(f->db, f->wp, f->root, &o, &l), ERR_OK);
				ms = now_ms() - t0;
				if (ms > worst)
					worst = ms;
				if (getenv("TREE_LIST_VERBOSE"))
					print_message("sort %d rev %d offset %d: %.1f ms\n", sort,
						      rev, (int)off, ms);
				assert_int_equal(l.total, 10100);
				assert_int_equal(l.n, 100);
				tree_node_list_free(&l);
			}
		}
	}
	o = (struct tree_list_opts){.limit = 100};
	assert_int_equal(tree_list(f->db, f->wp, f->root, &o, &l), ERR_OK);
	assert_string_equal(l.items[0].name, "folder-000");
	tree_node_list_free(&l);
	o.offset = 100;
	assert_int_equal(tree_list(f->db, f->wp, f->root, &o, &l), ERR_OK);
	assert_string_equal(l.items[0].name, "doc-00000.txt");
	tree_node_list_free(&l);
	print_message("listing 10,100 entries: slowest page %.1f ms\n", worst);
	/* generous: sanitizer builds are several times slower */
	assert_true(worst < 500);
}

/* ---- rename and move ---- */

static void rename_rules(void **state)
{
	struct fx *f = *state;
	struct name_path p = fx_path("draft.txt"), q;
	struct tree_node n;
	int64_t id;

	assert_int_equal(put(f, "draft.txt", HASH_A, 1), ERR_OK);
	assert_int_equal(put(f, "other.txt", HASH_A, 1), ERR_OK);
	id = node_id(f, "draft.txt");
	fx_exec(f, "DELETE FROM index_queue");
	assert_int_equal(tree_rename(f->db, f->wp, &p, "final.txt", f->bob, &n), ERR_OK);
	assert_string_equal(n.name, "final.txt");
	assert_int_equal(n.id, id);
	assert_int_equal(n.modified_by, f->bob);
	tree_node_clear(&n);
	assert_int_equal(queued(f, id, "index"), 1);
	assert_false(exists(f, "draft.txt"));
	name_path_free(&p);

	p = fx_path("final.txt");
	/* case-only rename of the same node */
	assert_int_equal(tree_rename(f->db, f->wp, &p, "FINAL.txt", f->bob, NULL), ERR_OK);
	name_path_free(&p);
	p = fx_path("FINAL.txt");
	assert_int_equal(resolve(f, "final.txt", &n), ERR_OK);
	assert_string_equal(n.name, "FINAL.txt");
	tree_node_clear(&n);
	assert_int_equal(tree_rename(f->db, f->wp, &p, "Other.TXT", f->bob, NULL), ERR_EXISTS);
	assert_int_equal(tree_rename(f->db, f->wp, &p, "..", f->bob, NULL), ERR_INVALID);
	assert_int_equal(tree_rename(f->db, f->wp, &p, "a/b", f->bob, NULL), ERR_INVALID);
	assert_int_equal(tree_rename(f->db, f->wp, &p, "trailing.", f->bob, NULL), ERR_INVALID);
	assert_int_equal(tree_rename(f->db, f->wp, &p, NULL, f->bob, NULL), ERR_INVALID);
	q = (struct name_path){0};
	assert_int_equal(tree_rename(f->db, f->wp, &q, "x", f->bob, NULL), ERR_INVALID);
	name_path_free(&p);
	assert_true(exists(f, "FINAL.txt"));
}

/* issue 13: a name that only looks like a sibling's is refused on every
 * way into a folder, naming the sibling; the same name spelled the same
 * (another version) and the node itself (a rename) are not clashes. */
static void look_alike_siblings_refused(void **state)
{
	struct fx *f = *state;
	/* "ｒｅｐｏｒｔ.pdf" (fullwidth letters) and "report．pdf" (fullwidth dot) */
	static const char wide[] = "\uFF52\uFF45\uFF50\uFF4F\uFF52\uFF54.pdf";
	static const char wdot[] = "report\uFF0Epdf";
	struct tree_copy creq = {.user_id = f->bob};
	struct name_path p, q;
	int64_t id, before;

	assert_int_equal(put(f, "report.pdf", HASH_A, 1), ERR_OK);
	assert_int_equal(put(f, "Report.PDF", HASH_B, 1), ERR_OK); /* a new version */
	before = fx_int(f, "SELECT count(*) FROM nodes");
	assert_int_equal(put(f, wide, HASH_A, 1), ERR_CONFLICT);
	expect_detail("looks the same as 'report.pdf'");
	assert_int_equal(put(f, wdot, HASH_A, 1), ERR_CONFLICT);
	assert_int_equal(mkdir_p(f, "Files\u2168", false), ERR_OK); /* roman numeral nine */
	assert_int_equal(mkdir_p(f, "filesIX", false), ERR_CONFLICT);
	expect_detail("'Files\u2168'");
	/* rename and move onto a look-alike */
	assert_int_equal(put(f, "other.pdf", HASH_A, 1), ERR_OK);
	p = fx_path("other.pdf");
	assert_int_equal(tree_rename(f->db, f->wp, &p, wide, f->bob, NULL), ERR_CONFLICT);
	assert_int_equal(move(f, "other.pdf", wdot, 0), ERR_CONFLICT);
	/* copy onto a look-alike */
	q = fx_path(wdot);
	assert_int_equal(tree_copy(f->db, f->wp, &p, f->wp, &q, &creq, NULL), ERR_CONFLICT);
	name_path_free(&q);
	name_path_free(&p);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM nodes"), before + 2);
	/* the node itself may change its spelling */
	p = fx_path("report.pdf");
	assert_int_equal(tree_rename(f->db, f->wp, &p, "REPORT.pdf", f->bob, NULL), ERR_OK);
	name_path_free(&p);
	/* in another folder the name is free */
	assert_int_equal(mkdir_p(f, "sub", false), ERR_OK);
	assert_int_equal(put(f, "sub/report.pdf", HASH_A, 1), ERR_OK);
	/* restore from the trash onto a look-alike */
	assert_int_equal(trash(f, "sub/report.pdf", &id), ERR_OK);
	assert_int_equal(put(f, "sub/\uFF52eport.pdf", HASH_C, 1), ERR_OK);
	assert_int_equal(tree_trash_restore(f->db, f->wp, id, f->bob, NULL, NULL), ERR_CONFLICT);
	expect_detail("looks the same as");
	assert_int_equal(tree_trash_restore(f->db, f->wp, id, f->bob, "report (2).pdf", NULL),
			 ERR_OK);
	/* every live node has its look-alike key */
	assert_int_equal(
		fx_int(f,
		       "SELECT count(*) FROM nodes WHERE parent_id IS NOT NULL AND look_key IS NULL"),
		0);
}

static void move_documents_and_folders(void **state)
{
	struct fx *f = *state;
	struct tree_put req = {.user_id = f->alice,
			       .blob = HASH_A,
			       .size = 3,
			       .mime = "text/plain",
			       .parents = true};
	struct tree_put_result res;
	int64_t d1, d2, d3;

	assert_int_equal(put_req(f, "src/a/one.txt", &req, &res), ERR_OK);
	d1 = res.node_id;
	assert_int_equal(put_req(f, "src/a/deep/two.txt", &req, &res), ERR_OK);
	d2 = res.node_id;
	assert_int_equal(put_req(f, "src/three.txt", &req, &res), ERR_OK);
	d3 = res.node_id;
	assert_int_equal(mkdir_p(f, "dst", false), ERR_OK);
	fx_exec(f, "DELETE FROM index_queue");

	/* a document */
	assert_int_equal(move(f, "src/three.txt", "dst/3.txt", 0), ERR_OK);
	assert_true(exists(f, "dst/3.txt"));
	assert_false(exists(f, "src/three.txt"));
	assert_int_equal(queued(f, d3, "index"), 1);
	/* a folder with everything below it, each document queued */
	assert_int_equal(move(f, "src/a", "dst/a", 0), ERR_OK);
	assert_true(exists(f, "dst/a/deep/two.txt"));
	assert_int_equal(queued(f, d1, "index"), 1);
	assert_int_equal(queued(f, d2, "index"), 1);
	/* no cycles */
	assert_int_equal(move(f, "dst/a", "dst/a/deep/a", 0), ERR_INVALID);
	expect_detail("into itself");
	assert_int_equal(move(f, "dst/a", "dst/a/x", 0), ERR_INVALID);
	/* clashes */
	assert_int_equal(put_req(f, "dst/other.txt", &req, &res), ERR_OK);
	assert_int_equal(move(f, "dst/3.txt", "dst/OTHER.txt", 0), ERR_EXISTS);
	assert_int_equal(move(f, "dst/3.txt", "missing/3.txt", 0), ERR_NOTFOUND);
	assert_int_equal(move(f, "dst/3.txt", "dst/other.txt/x", 0), ERR_NOTFOUND);
	assert_int_equal(move(f, "nope", "dst/nope", 0), ERR_NOTFOUND);
	assert_int_equal(move(f, "", "dst/root", 0), ERR_INVALID);
	assert_int_equal(move(f, "dst/3.txt", "", 0), ERR_INVALID);
	/* replace: the target goes to the trash, recoverable */
	assert_int_equal(move(f, "dst/3.txt", "dst/other.txt", TREE_MOVE_REPLACE), ERR_OK);
	assert_int_equal(node_id(f, "dst/other.txt"), d3);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM nodes WHERE trashed_at IS NOT NULL"), 1);
	/* ...but never a folder that holds the source */
	assert_int_equal(move(f, "dst/a/deep", "dst/a", TREE_MOVE_REPLACE), ERR_INVALID);
	/* moving onto itself changes nothing */
	assert_int_equal(move(f, "dst/a", "dst/a", 0), ERR_OK);
	assert_true(exists(f, "dst/a/one.txt"));
}

static void move_depth_limit(void **state)
{
	struct fx *f = *state;
	char deep[512] = "", sub[64];
	size_t o = 0;

	/* 60 levels, and a subtree 5 high: 61 + 5 > 64 */
	for (int i = 0; i < 60; i++)
		o += (size_t)snprintf(deep + o, sizeof deep - o, "%sd", i ? "/" : "");
	assert_int_equal(mkdir_p(f, deep, true), ERR_OK);
	assert_int_equal(mkdir_p(f, "s/1/2/3/4/5", true), ERR_OK);
	snprintf(sub, sizeof sub, "/s");
	strncat(deep, sub, sizeof deep - strlen(deep) - 1);
	assert_int_equal(move(f, "s", deep, 0), ERR_INVALID);
	expect_detail("deeper than");
	assert_true(exists(f, "s/1/2/3/4/5"));
}

/* ---- trash ---- */

static void trash_and_list(void **state)
{
	struct fx *f = *state;
	struct tree_put req = {.user_id = f->alice,
			       .blob = HASH_A,
			       .size = 10,
			       .mime = "text/plain",
			       .parents = true};
	struct tree_put_result res;
	struct tree_node_list l;
	struct tree_node n;
	struct name_path root = {0};
	int64_t folder, d1, d2, doc;

	assert_int_equal(put_req(f, "f/sub/one.txt", &req, &res), ERR_OK);
	d1 = res.node_id;
	assert_int_equal(put_req(f, "f/two.txt", &req, &res), ERR_OK);
	d2 = res.node_id;
	assert_int_equal(put_req(f, "loose.txt", &req, &res), ERR_OK);
	fx_exec(f, "DELETE FROM index_queue");

	assert_int_equal(trash(f, "loose.txt", &doc), ERR_OK);
	assert_int_equal(queued(f, doc, "delete"), 1);
	db_clock_offset(5);
	assert_int_equal(trash(f, "f", &folder), ERR_OK);
	/* the top node only is marked; below it is unreachable */
	assert_int_equal(fx_int(f, "SELECT count(*) FROM nodes WHERE trashed_at IS NOT NULL"), 2);
	assert_false(exists(f, "f"));
	assert_false(exists(f, "f/sub/one.txt"));
	assert_int_equal(queued(f, d1, "delete"), 1);
	assert_int_equal(queued(f, d2, "delete"), 1);
	/* trashed versions still count for the quota */
	{
		struct tree_usage u;

		assert_int_equal(tree_usage(f->db, f->wp, &u), ERR_OK);
		assert_int_equal(u.used, 30);
	}
	assert_int_equal(tree_trash_list(f->db, f->wp, 0, 0, &l), ERR_OK);
	assert_int_equal(l.total, 2);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.items[0].id, folder); /* most recent first */
	assert_string_equal(l.items[0].path, "f");
	assert_true(l.items[0].is_folder);
	assert_int_equal(l.items[0].trashed_by, f->bob);
	assert_string_equal(l.items[1].path, "loose.txt");
	assert_int_equal(l.items[1].size, 10);
	tree_node_list_free(&l);
	/* a node in the trash is still readable by id, with its path */
	assert_int_equal(tree_get(f->db, f->wp, d1, &n), ERR_OK);
	assert_string_equal(n.path, "f/sub/one.txt");
	tree_node_clear(&n);
	assert_int_equal(trash(f, "nope", NULL), ERR_NOTFOUND);
	assert_int_equal(tree_trash(f->db, f->wp, &root, f->bob, NULL), ERR_INVALID);
	/* the name is free again */
	assert_int_equal(put(f, "loose.txt", HASH_B, 1), ERR_OK);
}

static void trash_restore_rules(void **state)
{
	struct fx *f = *state;
	struct tree_put req = {.user_id = f->alice,
			       .blob = HASH_A,
			       .size = 10,
			       .mime = "text/plain",
			       .parents = true};
	struct tree_put_result res;
	struct tree_node n;
	int64_t doc, folder, inner, wp2;

	assert_int_equal(put_req(f, "f/doc.txt", &req, &res), ERR_OK);
	inner = res.node_id;
	assert_int_equal(trash(f, "f/doc.txt", &doc), ERR_OK);
	assert_int_equal(trash(f, "f", &folder), ERR_OK);
	/* its folder is in the trash too */
	assert_int_equal(tree_trash_restore(f->db, f->wp, doc, f->bob, NULL, NULL), ERR_CONFLICT);
	expect_detail("'f'");
	expect_detail("restore that first");
	assert_int_equal(tree_trash_restore(f->db, f->wp, folder, f->bob, NULL, &n), ERR_OK);
	assert_int_equal(n.trashed_at, 0);
	tree_node_clear(&n);
	fx_exec(f, "DELETE FROM index_queue");
	/* the clash: someone made a new f/doc.txt meanwhile */
	assert_int_equal(put(f, "f/DOC.txt", HASH_B, 1), ERR_OK);
	assert_int_equal(tree_trash_restore(f->db, f->wp, doc, f->bob, NULL, NULL), ERR_EXISTS);
	expect_detail("already exists in 'f'");
	assert_int_equal(tree_trash_restore(f->db, f->wp, doc, f->bob, "..", NULL), ERR_INVALID);
	assert_int_equal(tree_trash_restore(f->db, f->wp, doc, f->bob, "doc (restored).txt", &n),
			 ERR_OK);
	assert_string_equal(n.name, "doc (restored).txt");
	tree_node_clear(&n);
	assert_int_equal(node_id(f, "f/doc (restored).txt"), inner);
	assert_int_equal(queued(f, inner, "index"), 1);
	/* not (or no longer) a trash entry */
	assert_int_equal(tree_trash_restore(f->db, f->wp, doc, f->bob, NULL, NULL), ERR_NOTFOUND);
	assert_int_equal(tree_trash_restore(f->db, f->wp, 12345, f->bob, NULL, NULL), ERR_NOTFOUND);
	/* another work package's trash is not reachable */
	wp2 = fx_add_wp(f, "WP2");
	assert_int_equal(trash(f, "f", &folder), ERR_OK);
	assert_int_equal(tree_trash_restore(f->db, wp2, folder, f->bob, NULL, NULL), ERR_NOTFOUND);
	assert_int_equal(tree_purge(f->db, wp2, folder, NULL), ERR_NOTFOUND);
}

static void purge_deletes_subtree_and_versions(void **state)
{
	struct fx *f = *state;
	struct tree_put req = {.user_id = f->alice,
			       .blob = HASH_A,
			       .size = 10,
			       .mime = "text/plain",
			       .parents = true};
	struct tree_put_result res;
	struct tree_purge_result pr;
	struct tree_usage u;
	int64_t folder, d1, d2, nested;

	assert_int_equal(put_req(f, "f/a.txt", &req, &res), ERR_OK);
	d1 = res.node_id;
	assert_int_equal(put_req(f, "f/a.txt", &req, &res), ERR_OK);
	assert_int_equal(put_req(f, "f/g/b.txt", &req, &res), ERR_OK);
	d2 = res.node_id;
	assert_int_equal(put_req(f, "keep.txt", &req, &res), ERR_OK);
	/* a node trashed on its own inside the folder goes with it */
	assert_int_equal(trash(f, "f/g/b.txt", &nested), ERR_OK);
	assert_int_equal(tree_purge(f->db, f->wp, node_id(f, "f"), NULL), ERR_NOTFOUND);
	expect_detail("no trash entry");
	assert_int_equal(trash(f, "f", &folder), ERR_OK);
	fx_exec(f, "DELETE FROM index_queue");
	assert_int_equal(tree_purge(f->db, f->wp, folder, &pr), ERR_OK);
	assert_int_equal(pr.nodes, 4); /* f, a.txt, g, b.txt */
	assert_int_equal(pr.versions, 3);
	assert_int_equal(pr.bytes, 30);
	assert_int_equal(queued(f, d1, "delete"), 1);
	assert_int_equal(queued(f, d2, "delete"), 1);
	assert_int_equal(versions_of(f, d1), 0);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM nodes WHERE parent_id IS NOT NULL"), 1);
	assert_int_equal(tree_usage(f->db, f->wp, &u), ERR_OK);
	assert_int_equal(u.used, 10);
	assert_int_equal(tree_purge(f->db, f->wp, folder, NULL), ERR_NOTFOUND);
	assert_int_equal(tree_purge(f->db, f->wp, nested, NULL), ERR_NOTFOUND);
}

/* ---- metadata ---- */

static void deliverable_codes_and_status(void **state)
{
	static const char *const good[] = {"D5.2", "d5.2", "D10.1", "D1.2.3", "D123.456"};
	static const char *const bad[] = {"",      "D",        "D5",      "5.2",  "D5.",
					  "D.2",   "D5.2.3.4", "D1234.1", "X5.2", "D5,2",
					  "D5.2 ", "D-5.2",    "D5.2a"};
	char out[TREE_DELIVERABLE_MAX];
	enum tree_status s;

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		if (tree_deliverable_check(good[i], out) != ERR_OK)
			fail_msg("'%s' refused", good[i]);
		assert_int_equal(out[0], 'D');
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (tree_deliverable_check(bad[i], out) != ERR_INVALID)
			fail_msg("'%s' accepted", bad[i]);
		expect_detail("D<wp>.<n>");
	}
	assert_int_equal(tree_status_parse("draft", &s), ERR_OK);
	assert_int_equal(s, TREE_STATUS_DRAFT);
	assert_int_equal(tree_status_parse("in review", &s), ERR_OK);
	assert_int_equal(s, TREE_STATUS_REVIEW);
	assert_int_equal(tree_status_parse("final", &s), ERR_OK);
	assert_string_equal(tree_status_name(s), "final");
	assert_int_equal(tree_status_parse("", &s), ERR_OK);
	assert_int_equal(s, TREE_STATUS_NONE);
	assert_int_equal(tree_status_parse("approved", &s), ERR_INVALID);
}

static void set_meta(void **state)
{
	struct fx *f = *state;
	struct name_path p = fx_path("d.pdf"), dir;
	struct tree_meta m = {.set_deliverable = true,
			      .deliverable = "d5.2",
			      .set_status = true,
			      .status = TREE_STATUS_REVIEW};
	struct tree_node n;
	int64_t id;

	assert_int_equal(put(f, "d.pdf", HASH_A, 1), ERR_OK);
	id = node_id(f, "d.pdf");
	fx_exec(f, "DELETE FROM index_queue");
	assert_int_equal(tree_set_meta(f->db, f->wp, &p, &m, f->bob, &n), ERR_OK);
	assert_string_equal(n.deliverable, "D5.2");
	assert_int_equal(n.status, TREE_STATUS_REVIEW);
	assert_int_equal(n.modified_by, f->bob);
	tree_node_clear(&n);
	assert_int_equal(queued(f, id, "index"), 1);
	/* only status: the code stays */
	m = (struct tree_meta){.set_status = true, .status = TREE_STATUS_FINAL};
	assert_int_equal(tree_set_meta(f->db, f->wp, &p, &m, f->bob, &n), ERR_OK);
	assert_string_equal(n.deliverable, "D5.2");
	assert_int_equal(n.status, TREE_STATUS_FINAL);
	tree_node_clear(&n);
	/* clear both */
	m = (struct tree_meta){.set_deliverable = true, .deliverable = "", .set_status = true};
	assert_int_equal(tree_set_meta(f->db, f->wp, &p, &m, f->bob, &n), ERR_OK);
	assert_null(n.deliverable);
	assert_int_equal(n.status, TREE_STATUS_NONE);
	tree_node_clear(&n);
	/* refusals change nothing */
	m = (struct tree_meta){.set_deliverable = true, .deliverable = "WP5 deliverable 2"};
	assert_int_equal(tree_set_meta(f->db, f->wp, &p, &m, f->bob, NULL), ERR_INVALID);
	m = (struct tree_meta){.set_status = true, .status = (enum tree_status)9};
	assert_int_equal(tree_set_meta(f->db, f->wp, &p, &m, f->bob, NULL), ERR_INVALID);
	assert_int_equal(mkdir_p(f, "dir", false), ERR_OK);
	dir = fx_path("dir");
	m = (struct tree_meta){.set_deliverable = true, .deliverable = "D1.1"};
	assert_int_equal(tree_set_meta(f->db, f->wp, &dir, &m, f->bob, NULL), ERR_INVALID);
	expect_detail("is a folder");
	assert_int_equal(fx_int(f, "SELECT count(*) FROM nodes WHERE deliverable IS NOT NULL"), 0);
	name_path_free(&p);
	name_path_free(&dir);
}

/* ---- quota and retention ---- */

static void quota_counts_every_version(void **state)
{
	struct fx *f = *state;
	struct tree_usage u;
	int64_t id;

	assert_int_equal(tree_usage(f->db, f->wp, &u), ERR_OK);
	assert_int_equal(u.used, 0);
	assert_false(u.limited);
	assert_int_equal(tree_quota_check(f->db, f->wp, UINT64_C(1) << 50), ERR_OK);
	/* the same content twice (deduplicated on disk) counts twice */
	assert_int_equal(put(f, "a.txt", HASH_A, 400), ERR_OK);
	assert_int_equal(put(f, "b.txt", HASH_A, 400), ERR_OK);
	assert_int_equal(put(f, "a.txt", HASH_B, 100), ERR_OK);
	assert_int_equal(tree_usage(f->db, f->wp, &u), ERR_OK);
	assert_int_equal(u.used, 900);

	fx_exec(f, "UPDATE wps SET quota_bytes = 1000 WHERE code = 'WP1'");
	assert_int_equal(tree_usage(f->db, f->wp, &u), ERR_OK);
	assert_true(u.limited);
	assert_int_equal(u.quota, 1000);
	/* before an upload starts, from its declared size */
	assert_int_equal(tree_quota_check(f->db, f->wp, 100), ERR_OK);
	err_clear();
	assert_int_equal(tree_quota_check(f->db, f->wp, 101), ERR_QUOTA);
	expect_detail("WP1");
	expect_detail("quota");
	/* and at commit: nothing changes */
	id = node_id(f, "a.txt");
	assert_int_equal(put(f, "a.txt", HASH_C, 101), ERR_QUOTA);
	assert_int_equal(versions_of(f, id), 2);
	assert_int_equal(put(f, "c.txt", HASH_C, 101), ERR_QUOTA);
	assert_false(exists(f, "c.txt"));
	assert_int_equal(put(f, "c.txt", HASH_C, 100), ERR_OK);
	/* restoring a version also stores a version */
	{
		struct name_path p = fx_path("a.txt");
		struct tree_put_result r;

		assert_int_equal(tree_restore_version(f->db, f->wp, &p, 1, f->bob, NULL, 0, &r),
				 ERR_QUOTA);
		name_path_free(&p);
	}
	/* purging frees quota */
	{
		int64_t t;

		assert_int_equal(trash(f, "b.txt", &t), ERR_OK);
		assert_int_equal(tree_quota_check(f->db, f->wp, 1), ERR_QUOTA);
		assert_int_equal(tree_purge(f->db, f->wp, t, NULL), ERR_OK);
		assert_int_equal(tree_quota_check(f->db, f->wp, 400), ERR_OK);
	}
	/* the default quota for work packages without their own */
	fx_exec(f, "UPDATE wps SET quota_bytes = NULL");
	fx_exec(f, "INSERT INTO settings(key, value) VALUES ('" TREE_DEFAULT_QUOTA_KEY "', '600')");
	assert_int_equal(tree_usage(f->db, f->wp, &u), ERR_OK);
	assert_true(u.limited);
	assert_int_equal(u.quota, 600);
	assert_int_equal(tree_quota_check(f->db, f->wp, 1), ERR_QUOTA);
	/* quota 0 (under current use): nothing that grows usage may be
	 * stored; an empty file does not */
	fx_exec(f, "UPDATE wps SET quota_bytes = 0");
	assert_int_equal(put(f, "one", HASH_A, 1), ERR_QUOTA);
	assert_int_equal(put(f, "empty", HASH_A, 0), ERR_OK);
}

static void over_quota_may_save_what_retention_pays_for(void **state)
{
	struct fx *f = *state;
	struct tree_put_result res;

	fx_exec(f, "UPDATE wps SET keep_versions = 1");
	assert_int_equal(put(f, "a.txt", HASH_A, 500), ERR_OK);
	fx_exec(f, "UPDATE wps SET quota_bytes = 300"); /* lowered under current use */
	/* the new version replaces a bigger one: usage shrinks, allowed */
	assert_int_equal(put_as(f, f->wp, "a.txt", HASH_B, 400, f->alice, &res), ERR_OK);
	assert_int_equal(res.pruned, 1);
	/* growing is not */
	assert_int_equal(put(f, "a.txt", HASH_C, 450), ERR_QUOTA);
}

static void retention_keep_versions(void **state)
{
	struct fx *f = *state;
	struct tree_put_result res;
	struct tree_version_list vl;
	struct tree_usage u;
	int64_t id;

	fx_exec(f, "UPDATE wps SET keep_versions = 2");
	for (int i = 0; i < 4; i++)
		assert_int_equal(put_as(f, f->wp, "doc", HASH_A, 10, f->alice, &res), ERR_OK);
	assert_int_equal(res.pruned, 1);
	id = res.node_id;
	assert_int_equal(tree_versions(f->db, f->wp, id, 0, 0, &vl), ERR_OK);
	assert_int_equal(vl.n, 2);
	assert_int_equal(vl.items[0].number, 4); /* numbers are never reused */
	assert_int_equal(vl.items[1].number, 3);
	tree_version_list_free(&vl);
	assert_int_equal(tree_usage(f->db, f->wp, &u), ERR_OK);
	assert_int_equal(u.used, 20);
	/* a pruned version cannot be restored */
	{
		struct name_path p = fx_path("doc");

		assert_int_equal(tree_restore_version(f->db, f->wp, &p, 1, f->bob, NULL, 0, &res),
				 ERR_NOTFOUND);
		name_path_free(&p);
	}
	/* another work package without rules keeps everything */
	{
		int64_t wp2 = fx_add_wp(f, "WP2");

		for (int i = 0; i < 4; i++)
			assert_int_equal(put_as(f, wp2, "doc", HASH_A, 10, f->alice, &res), ERR_OK);
		assert_int_equal(res.pruned, 0);
		assert_int_equal(versions_of(f, res.node_id), 4);
	}
}

static void retention_keep_days_and_union(void **state)
{
	struct fx *f = *state;
	struct tree_put_result res;
	uint64_t pruned;
	int64_t id;

	/* versions 1..3, 10 days old; 4..5 today */
	db_clock_offset(-10 * 86400);
	for (int i = 0; i < 3; i++)
		assert_int_equal(put_as(f, f->wp, "doc", HASH_A, 1, f->alice, &res), ERR_OK);
	db_clock_offset(0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(put_as(f, f->wp, "doc", HASH_A, 1, f->alice, &res), ERR_OK);
	id = res.node_id;
	/* keep 7 days: the three old ones go (gc applies rules to all) */
	fx_exec(f, "UPDATE wps SET keep_days = 7");
	assert_int_equal(tree_retention_apply(f->db, 0, NULL, NULL, &pruned), ERR_OK);
	assert_int_equal(pruned, 3);
	assert_int_equal(versions_of(f, id), 2);
	/* the current version is kept however old */
	db_clock_offset(30 * 86400);
	assert_int_equal(tree_retention_apply(f->db, f->wp, NULL, NULL, &pruned), ERR_OK);
	assert_int_equal(pruned, 1);
	assert_int_equal(versions_of(f, id), 1);
	/* both rules: a version stays when either keeps it */
	db_clock_offset(0);
	fx_exec(f, "UPDATE wps SET keep_days = NULL, keep_versions = NULL");
	for (int i = 0; i < 3; i++)
		assert_int_equal(put_as(f, f->wp, "doc", HASH_A, 1, f->alice, &res), ERR_OK);
	fx_exec(f, "UPDATE wps SET keep_days = 7, keep_versions = 2");
	assert_int_equal(tree_retention_apply(f->db, 0, NULL, NULL, &pruned), ERR_OK);
	assert_int_equal(pruned, 0); /* all four are younger than 7 days */
	db_clock_offset(8 * 86400);
	assert_int_equal(tree_retention_apply(f->db, 0, NULL, NULL, &pruned), ERR_OK);
	assert_int_equal(pruned, 2); /* now only the newest two */
	assert_int_equal(versions_of(f, id), 2);
	/* trashed documents are subject to retention too */
	fx_exec(f, "UPDATE wps SET keep_days = NULL, keep_versions = 1");
	assert_int_equal(trash(f, "doc", NULL), ERR_OK);
	assert_int_equal(tree_retention_apply(f->db, 0, NULL, NULL, &pruned), ERR_OK);
	assert_int_equal(pruned, 1);
	db_clock_offset(0);
}

/* What tree_retention_apply reports, per work package. */
struct retention_seen {
	int64_t wp[4];
	uint64_t versions[4];
	size_t n;
};

static enum err seen_retention(struct db *db, int64_t wp_id, uint64_t versions, void *arg)
{
	struct retention_seen *seen = arg;

	(void)db;
	assert_true(seen->n < 4);
	seen->wp[seen->n] = wp_id;
	seen->versions[seen->n++] = versions;
	return ERR_OK;
}

static enum err refuse_retention(struct db *db, int64_t wp_id, uint64_t versions, void *arg)
{
	(void)db;
	(void)wp_id;
	(void)versions;
	(void)arg;
	return err_set(ERR_IO, "the record could not be written");
}

/* The store-wide defaults (written by the server from its
 * configuration) apply to work packages without rules of their own, and
 * a work package's own rule wins over them. */
static void retention_defaults_from_settings(void **state)
{
	struct fx *f = *state;
	struct tree_put_result res;
	struct retention_seen seen = {0};
	uint64_t pruned, v;
	int64_t wp2 = fx_add_wp(f, "WP2"), id, id2;

	for (int i = 0; i < 5; i++)
		assert_int_equal(put_as(f, f->wp, "doc", HASH_A, 1, f->alice, &res), ERR_OK);
	id = res.node_id;
	for (int i = 0; i < 5; i++)
		assert_int_equal(put_as(f, wp2, "doc", HASH_A, 1, f->alice, &res), ERR_OK);
	id2 = res.node_id;
	fx_exec(f, "UPDATE wps SET keep_versions = 4 WHERE code = 'WP2'");
	assert_int_equal(settings_put_u64(f->db, TREE_DEFAULT_KEEP_VERSIONS_KEY, 2), ERR_OK);
	assert_int_equal(settings_get_u64(f->db, TREE_DEFAULT_KEEP_VERSIONS_KEY, &v), ERR_OK);
	assert_int_equal(v, 2);
	/* A report that fails rolls the removal back with it. */
	assert_int_equal(tree_retention_apply(f->db, 0, refuse_retention, NULL, &pruned), ERR_IO);
	assert_int_equal(versions_of(f, id), 5);
	assert_int_equal(versions_of(f, id2), 5);
	assert_int_equal(tree_retention_apply(f->db, 0, seen_retention, &seen, &pruned), ERR_OK);
	assert_int_equal(pruned, 3 + 1);
	assert_int_equal(versions_of(f, id), 2);
	assert_int_equal(versions_of(f, id2), 4);
	/* told per work package, before the removal, in its transaction */
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.wp[0], f->wp);
	assert_int_equal(seen.versions[0], 3);
	assert_int_equal(seen.wp[1], wp2);
	assert_int_equal(seen.versions[1], 1);
	/* also when a version is added */
	assert_int_equal(put_as(f, f->wp, "doc", HASH_A, 1, f->alice, &res), ERR_OK);
	assert_int_equal(res.pruned, 1);
	/* the age default, ten days on */
	assert_int_equal(settings_put_u64(f->db, TREE_DEFAULT_KEEP_VERSIONS_KEY, 0), ERR_OK);
	assert_int_equal(settings_get_u64(f->db, TREE_DEFAULT_KEEP_VERSIONS_KEY, &v), ERR_NOTFOUND);
	assert_int_equal(settings_put_u64(f->db, TREE_DEFAULT_KEEP_DAYS_KEY, 7), ERR_OK);
	db_clock_offset(10 * 86400);
	assert_int_equal(tree_retention_apply(f->db, 0, NULL, NULL, &pruned), ERR_OK);
	db_clock_offset(0);
	/* WP1 keeps only its current version; WP2's own count rule still
	 * keeps its newest 4 (a version stays when any rule keeps it) */
	assert_int_equal(pruned, 1);
	assert_int_equal(versions_of(f, id), 1);
	assert_int_equal(versions_of(f, id2), 4);
}

static void paths_and_get(void **state)
{
	struct fx *f = *state;
	struct tree_put req = {.user_id = f->alice,
			       .blob = HASH_A,
			       .size = 10,
			       .mime = "text/plain",
			       .parents = true};
	struct tree_put_result res;
	struct tree_node n;
	char *path;

	assert_int_equal(put_req(f, "a/b c/d\xc3\xa9.txt", &req, &res), ERR_OK);
	assert_int_equal(tree_path(f->db, res.node_id, &path), ERR_OK);
	assert_string_equal(path, "a/b c/d\xc3\xa9.txt");
	free(path);
	assert_int_equal(tree_path(f->db, f->root, &path), ERR_OK);
	assert_string_equal(path, "");
	free(path);
	assert_int_equal(tree_path(f->db, 99999, &path), ERR_NOTFOUND);
	assert_null(path);
	assert_int_equal(tree_get(f->db, f->wp, res.node_id, &n), ERR_OK);
	assert_string_equal(n.name, "d\xc3\xa9.txt");
	tree_node_clear(&n);
	assert_int_equal(tree_get(f->db, fx_add_wp(f, "WP2"), res.node_id, &n), ERR_NOTFOUND);
	assert_int_equal(resolve(f, "", &n), ERR_OK);
	assert_int_equal(n.id, f->root);
	assert_true(n.is_folder);
	tree_node_clear(&n);
}

static void wp_without_root_is_reported(void **state)
{
	struct fx *f = *state;

	fx_exec(f, "INSERT INTO wps(code, title, created_at) VALUES ('WPX', 'no root', 1)");
	assert_int_equal(put_as(f, sqlite3_last_insert_rowid(db_sqlite(f->db)), "x", HASH_A, 1,
				f->alice, NULL),
			 ERR_CORRUPT);
	expect_detail("no root folder");
}

/* Inside an open transaction a put is a savepoint (the group commit of
 * uploads): one that fails leaves no trace, even of the folders it had
 * made, and the others stay; nothing is visible to other connections
 * before the commit. */
static void put_inside_a_transaction_is_a_savepoint(void **state)
{
	struct fx *f = *state;
	struct tree_put_result r1, r2, r3;
	struct tree_put small = {.user_id = f->alice,
				 .blob = HASH_A,
				 .size = 10,
				 .mime = "text/plain",
				 .parents = true};
	struct tree_put big = {.user_id = f->alice,
			       .blob = HASH_B,
			       .size = 1000,
			       .mime = "text/plain",
			       .parents = true};
	struct tree_node n;
	struct db *other;
	char path[128];
	int64_t versions = fx_int(f, "SELECT count(*) FROM versions");
	int64_t nodes = fx_int(f, "SELECT count(*) FROM nodes");

	snprintf(path, sizeof path, "%s/consort.db", f->dir);
	assert_int_equal(db_open(path, &other), ERR_OK);
	fx_exec(f, "UPDATE wps SET quota_bytes = 100");

	assert_int_equal(db_begin(f->db), ERR_OK);
	assert_int_equal(put_req(f, "batch/one.txt", &small, &r1), ERR_OK);
	/* over quota, found after its folder, node and version were made */
	assert_int_equal(put_req(f, "made/for/nothing.txt", &big, &r2), ERR_QUOTA);
	assert_true(db_in_txn(f->db));
	assert_int_equal(put_req(f, "batch/two.txt", &small, &r3), ERR_OK);
	/* another connection sees none of it yet */
	{
		struct name_path p = fx_path("batch/one.txt");

		assert_int_equal(tree_resolve(other, f->wp, &p, &n), ERR_NOTFOUND);
		name_path_free(&p);
	}
	assert_int_equal(db_commit(f->db), ERR_OK);
	assert_false(db_in_txn(f->db));
	assert_int_equal(fx_int(f, "SELECT count(*) FROM versions"), versions + 2);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM nodes"), nodes + 3); /* batch/ + 2 */
	assert_int_equal(resolve(f, "made", &n), ERR_NOTFOUND);
	{
		struct name_path p = fx_path("batch/two.txt");

		assert_int_equal(tree_resolve(other, f->wp, &p, &n), ERR_OK);
		tree_node_clear(&n);
		name_path_free(&p);
	}
	/* a rolled-back outer transaction takes its savepoints with it */
	assert_int_equal(db_begin(f->db), ERR_OK);
	assert_int_equal(put_req(f, "gone.txt", &small, &r1), ERR_OK);
	db_rollback(f->db);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM versions"), versions + 2);
	/* and SQLite ending the transaction under us is noticed, not
	 * committed as if nothing happened */
	assert_int_equal(db_begin(f->db), ERR_OK);
	assert_int_equal(put_req(f, "lost.txt", &small, &r1), ERR_OK);
	fx_exec(f, "ROLLBACK");
	assert_false(db_in_txn(f->db));
	assert_int_not_equal(db_commit(f->db), ERR_OK);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM versions"), versions + 2);
	/* the connection is usable as before */
	assert_int_equal(put_req(f, "after.txt", &small, &r1), ERR_OK);
	db_close(other);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(put_creates_then_adds_versions),
		T(put_inside_a_transaction_is_a_savepoint),
		T(nfc_and_nfd_names_are_one_document),
		T(put_preconditions),
		T(put_refuses_bad_input),
		T(put_paths_and_folders),
		T(versions_list_and_get),
		T(restore_version_makes_new_version),
		T(mkdir_rules),
		T(listing_sorted_and_paged),
		T(listing_ten_thousand),
		T(look_alike_siblings_refused),
		T(rename_rules),
		T(move_documents_and_folders),
		T(move_depth_limit),
		T(trash_and_list),
		T(trash_restore_rules),
		T(purge_deletes_subtree_and_versions),
		T(deliverable_codes_and_status),
		T(set_meta),
		T(quota_counts_every_version),
		T(over_quota_may_save_what_retention_pays_for),
		T(retention_keep_versions),
		T(retention_keep_days_and_union),
		T(retention_defaults_from_settings),
		T(paths_and_get),
		T(wp_without_root_is_reported),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
