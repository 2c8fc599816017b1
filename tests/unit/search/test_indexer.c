/* Unit tests for search/indexer.c against a real data directory: the
 * queue, metadata changes, failures, crash recovery and rebuilds. This
 * binary is its own extraction helper (see test_exworker.c). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "db_internal.h"
#include "docgen.h"
#include "exworker.h"
#include "indexer.h"
#include "indexq.h"
#include "store.h"
#include "xap.h"

static char *const helper[] = {"/proc/self/exe", "extract-worker", NULL};
static char dir[256], data[300], files[300];
static struct db *db;
static int64_t user, wp1, wp2, root1, root2, folder;

static void opts_for(struct indexer_opts *o)
{
	indexer_opts_default(o);
	o->data_dir = data;
	o->helper_argv = helper;
}

static const char *file(const char *name, int (*gen)(const char *, const struct docgen *),
			const struct docgen *d)
{
	static char path[400];

	snprintf(path, sizeof path, "%s/%s", files, name);
	assert_int_equal(gen(path, d), 0);
	return path;
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/consort-test-indexer-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(data, sizeof data, "%s/data", dir);
	snprintf(files, sizeof files, "%s/files", dir);
	mkdir(files, 0700);
	db = fx_store_open(data);
	if (!db)
		return -1;
	user = fx_store_partner_user(db, "alice");
	wp1 = fx_store_wp(db, "WP1", &root1);
	wp2 = fx_store_wp(db, "WP2", &root2);
	folder = fx_store_folder(db, wp1, root1, "reports");
	return user > 0 && wp1 > 0 && wp2 > 0 && folder > 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	db_close(db);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

static uint64_t hits(const char *q, const int64_t *wps, size_t n)
{
	char link[400];
	struct xap_reader *r;
	struct xap_result *res;
	struct xap_query xq = {.q = q, .wps = wps, .nwps = n, .limit = 10};
	uint64_t total;

	indexer_link_path(data, link, sizeof link);
	assert_int_equal(xap_reader_new(link, &r), ERR_OK);
	assert_int_equal(xap_search(r, &xq, &res), ERR_OK);
	total = res->total;
	xap_result_free(res);
	xap_reader_free(r);
	return total;
}

static void drain(struct indexer_stats *st)
{
	struct indexer_opts o;
	struct indexer *ix;
	size_t docs;

	opts_for(&o);
	assert_int_equal(indexer_open(&o, &ix), ERR_OK);
	assert_int_equal(indexer_drain(ix, 0, &docs), ERR_OK);
	indexer_stats(ix, st);
	indexer_close(ix);
}

static int64_t scalar(const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(db_sqlite(db), sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int64_t n_docx, n_pdf, n_broken, n_wp2;

static void indexes_every_format_with_permissions(void **state)
{
	struct docgen d = {
		.title = "Germline guidelines",
		.author = "Jane Doe",
		.body = "The germline testing guidelines for the oncology network.\nSecond part."};
	struct docgen de = {
		.body = "Die genetischen Untersuchungen der Patienten wurden in den Kliniken "
			"durchgeführt und mit den Leitlinien verglichen."};
	struct docgen wp2doc = {.title = "Budget",
				.body = "Germline budget of the second work package."};
	struct indexer_stats st;
	const int64_t only1[] = {1}, both[] = {1, 2};

	(void)state;
	n_docx = fx_store_doc(db, data, wp1, folder, "guide.docx", file("g.docx", docgen_docx, &d),
			      user);
	n_pdf = fx_store_doc(db, data, wp1, folder, "guide.pdf", file("g.pdf", docgen_pdf, &d),
			     user);
	fx_store_doc(db, data, wp1, root1, "bericht.odt", file("b.odt", docgen_odt, &de), user);
	n_wp2 = fx_store_doc(db, data, wp2, root2, "budget.xlsx",
			     file("b.xlsx", docgen_xlsx, &wp2doc), user);
	{
		char p[400];

		snprintf(p, sizeof p, "%s/broken.pdf", files);
		assert_int_equal(docgen_text(p, "%PDF-1.4\nnot really", 18), 0);
		n_broken = fx_store_doc(db, data, wp1, root1, "scanned-minutes.pdf", p, user);
	}
	assert_true(n_docx > 0 && n_pdf > 0 && n_wp2 > 0 && n_broken > 0);
	drain(&st);
	assert_int_equal(st.extracted, 5);
	assert_int_equal(st.failed, 1);
	assert_int_equal(scalar("SELECT count(*) FROM index_queue"), 0);
	assert_int_equal(scalar("SELECT count(*) FROM index_state"), 5);
	assert_int_equal(
		scalar("SELECT count(*) FROM index_state WHERE status = 'failed' AND reason LIKE '%pdftotext%'"),
		1);
	assert_int_equal(hits("germline", only1, 1), 2);
	assert_int_equal(hits("germline", both, 2), 3);
	assert_int_equal(hits("untersuchung", both, 2), 1);  /* German stem */
	assert_int_equal(hits("name:minutes", only1, 1), 1); /* failed, still found by name */
	/* nothing left to do: a second run extracts nothing */
	drain(&st);
	assert_int_equal(st.extracted, 0);
}

static void metadata_changes_do_not_extract_again(void **state)
{
	struct indexer_stats st;
	const int64_t only1[] = {1};

	(void)state;
	assert_int_equal(fx_store_rename(db, n_docx, "renamed-zanzibar.docx"), 0);
	assert_int_equal(fx_store_status(db, n_pdf, "final", "D5.2"), 0);
	assert_int_equal(fx_store_rename(db, n_broken, "minutes-2024.pdf"), 0);
	drain(&st);
	assert_int_equal(st.extracted, 0); /* the failed one is not retried either */
	assert_int_equal(st.meta_updates, 3);
	assert_int_equal(hits("name:zanzibar", only1, 1), 1);
	assert_int_equal(hits("germline", only1, 1), 2);
	assert_int_equal(hits("deliverable:d5.2 status:final", only1, 1), 1);
	assert_int_equal(scalar("SELECT count(*) FROM index_state WHERE status = 'failed'"), 1);
}

static void new_version_and_trash(void **state)
{
	struct indexer_stats st;
	struct docgen d = {.body = "A completely new quetzal text about nothing else."};
	const int64_t only1[] = {1};

	(void)state;
	assert_int_equal(fx_store_version(db, data, n_pdf, file("v2.md", docgen_md, &d), user), 0);
	drain(&st);
	assert_int_equal(st.extracted, 1);
	assert_int_equal(hits("quetzal", only1, 1), 1);
	assert_int_equal(hits("germline", only1, 1), 1);
	assert_int_equal(
		scalar("SELECT version FROM index_state WHERE node_id = (SELECT max(node_id) FROM index_state WHERE version = 2)"),
		2);
	/* trash the folder: one row, every document below it goes */
	assert_int_equal(fx_store_trash(db, folder, 1), 0);
	drain(&st);
	assert_int_equal(st.deleted, 2);
	assert_int_equal(hits("quetzal", only1, 1), 0);
	assert_int_equal(hits("name:zanzibar", only1, 1), 0);
	assert_int_equal(fx_store_trash(db, folder, 0), 0);
	drain(&st);
	assert_int_equal(hits("quetzal", only1, 1), 1);
}

static void resumes_after_sigkill_indexing_each_document_once(void **state)
{
	struct indexer_stats st;
	struct docgen d = {0};
	char body[200], name[64];
	const int64_t all[] = {1, 2};
	pid_t pid;
	int status;
	uint64_t before;
	const int N = 60;

	(void)state;
	for (int i = 0; i < N; i++) {
		snprintf(body, sizeof body, "crashtest document number%d with the word kiwifruit",
			 i);
		d.body = body;
		snprintf(name, sizeof name, "crash-%d.html", i);
		assert_true(fx_store_doc(db, data, wp2, root2, name,
					 file("c.html", docgen_html, &d), user) > 0);
	}
	pid = fork();
	if (pid == 0) {
		struct indexer_opts o;
		struct indexer *ix;
		size_t docs;

		opts_for(&o);
		o.batch_docs = 4;
		if (indexer_open(&o, &ix))
			_exit(1);
		indexer_drain(ix, 0, &docs);
		_exit(0);
	}
	/* let it commit a few batches, then kill it mid-way */
	for (int i = 0; i < 400; i++) {
		usleep(10 * 1000);
		if (scalar("SELECT count(*) FROM index_queue") < N / 2)
			break;
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	assert_true(WIFSIGNALED(status));
	before = hits("kiwifruit", all, 2);
	assert_true(before > 0);
	assert_true(before < (uint64_t)N);
	drain(&st);
	/* what the killed run committed is not extracted again */
	assert_int_equal(st.extracted, N - (int)before);
	assert_int_equal(hits("kiwifruit", all, 2), N);
	assert_int_equal(scalar("SELECT count(*) FROM index_queue"), 0);
	assert_int_equal(scalar("SELECT count(*) FROM index_state WHERE node_id IN "
				"(SELECT id FROM nodes WHERE name LIKE 'crash-%')"),
			 N);
}

static void rebuild_switches_generations(void **state)
{
	struct indexer_opts o;
	struct indexer_stats st;
	char link[400], before[4096], after[4096];
	const int64_t all[] = {1, 2};
	struct stat sb;

	(void)state;
	indexer_link_path(data, link, sizeof link);
	assert_non_null(realpath(link, before));
	opts_for(&o);
	o.batch_docs = 7; /* several batches in every pass, and in the locked one */
	assert_int_equal(indexer_rebuild(&o, &st), ERR_OK);
	assert_non_null(realpath(link, after));
	assert_string_not_equal(before, after);
	assert_int_not_equal(stat(before, &sb), 0); /* the old generation is gone */
	assert_int_equal(hits("kiwifruit", all, 2), 60);
	assert_int_equal(hits("germline", all, 2), 2); /* guide.pdf's version 2 has none */
	/* the indexer of a running server follows the switch */
	assert_int_equal(fx_store_rename(db, n_wp2, "budget-flamingo.xlsx"), 0);
	drain(&st);
	assert_int_equal(hits("name:flamingo", all, 2), 1);
}

/* A helper killed for lateness (or crashing) answers nothing, not even
 * the type: the document was indexed as type "other", invisible to
 * type:pdf and counted under "other" in facets. */
static void a_document_whose_helper_hung_keeps_its_type(void **state)
{
	struct docgen d = {.title = "Late", .body = "A document the helper never finishes."};
	struct indexer_opts o;
	struct indexer *ix;
	char hang[400];
	FILE *f;
	int64_t node;
	size_t docs;
	const int64_t all[] = {1, 2};

	(void)state;
	snprintf(hang, sizeof hang, "%s/hang-pdftotext", files);
	f = fopen(hang, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\nexec sleep 30\n", f);
	fclose(f);
	chmod(hang, 0755);
	node = fx_store_doc(db, data, wp1, root1, "late-report.pdf",
			    file("late.pdf", docgen_pdf, &d), user);
	assert_true(node > 0);
	/* stored as an upload stores it, with libmagic's type */
	assert_int_equal(scalar("SELECT count(*) FROM versions JOIN nodes ON nodes.id = node_id"
				" WHERE name = 'late-report.pdf' AND mime = 'application/pdf'"),
			 1);
	opts_for(&o);
	o.limits.pdftotext = hang;
	o.limits.wall_seconds = 1;
	assert_int_equal(indexer_open(&o, &ix), ERR_OK);
	assert_int_equal(indexer_drain(ix, 0, &docs), ERR_OK);
	indexer_close(ix);
	assert_int_equal(
		scalar("SELECT count(*) FROM index_state WHERE status = 'failed'"
		       " AND reason = 'extraction did not finish within 1 s'"
		       " AND node_id = (SELECT id FROM nodes WHERE name = 'late-report.pdf')"),
		1);
	assert_int_equal(hits("name:late type:pdf", all, 2), 1);
}

/* Fair share: a document whose first try runs out of time is set aside
 * (its queue row stays, it is not marked failed); a later document of
 * another uploader is indexed before it; the slow lane then extracts it
 * with the full limits, and it is indexed, not failed. */
static void a_slow_document_waits_for_the_slow_lane(void **state)
{
	struct docgen d = {.title = "Slow", .body = "A slow pangolinword document."};
	struct docgen q = {.title = "Quick", .body = "A quick numbatword note."};
	struct indexer_opts o;
	struct indexer_stats st;
	struct indexer *ix;
	char slow[400];
	FILE *f;
	int64_t bob, n_slow, n_quick;
	size_t docs;
	const int64_t all[] = {1, 2};

	(void)state;
	snprintf(slow, sizeof slow, "%s/slow-pdftotext", files);
	f = fopen(slow, "w");
	assert_non_null(f);
	fputs("#!/bin/sh\nsleep 5\nexec pdftotext \"$@\"\n", f);
	fclose(f);
	chmod(slow, 0755);
	bob = fx_store_partner_user(db, "bob");
	assert_true(bob > 0);
	n_slow = fx_store_doc(db, data, wp1, root1, "slow.pdf", file("slow.pdf", docgen_pdf, &d),
			      user);
	n_quick = fx_store_doc(db, data, wp1, root1, "quick.docx",
			       file("quick.docx", docgen_docx, &q), bob);
	assert_true(n_slow > 0 && n_quick > n_slow);
	opts_for(&o);
	o.limits.pdftotext = slow;
	o.limits.wall_seconds = 30;
	o.first_cpu_seconds = 1; /* first try: 1 s CPU, 4 s wall */
	assert_int_equal(indexer_open(&o, &ix), ERR_OK);
	/* first batch: the slow one's first try, set aside */
	assert_int_equal(indexer_drain(ix, 1, &docs), ERR_OK);
	indexer_stats(ix, &st);
	assert_int_equal(st.deferred, 1);
	assert_int_equal(hits("pangolinword", all, 2), 0);
	/* next: the other uploader's document, while the slow one waits */
	assert_int_equal(indexer_drain(ix, 1, &docs), ERR_OK);
	assert_int_equal(hits("numbatword", all, 2), 1);
	assert_int_equal(hits("pangolinword", all, 2), 0);
	assert_int_equal(scalar("SELECT count(*) FROM index_state WHERE node_id = (SELECT id FROM "
				"nodes WHERE name = 'slow.pdf')"),
			 0);
	assert_int_equal(scalar("SELECT count(*) FROM index_queue WHERE node_id = (SELECT id FROM "
				"nodes WHERE name = 'slow.pdf')"),
			 1);
	/* then the slow lane, with the full limits */
	assert_int_equal(indexer_drain(ix, 0, &docs), ERR_OK);
	indexer_stats(ix, &st);
	indexer_close(ix);
	assert_int_equal(st.deferred, 1);
	assert_int_equal(hits("pangolinword", all, 2), 1);
	assert_int_equal(scalar("SELECT count(*) FROM index_state WHERE status = 'indexed' AND "
				"node_id = (SELECT id FROM nodes WHERE name = 'slow.pdf')"),
			 1);
	assert_int_equal(scalar("SELECT count(*) FROM index_queue"), 0);
}

/* A rebuild killed half-way left its generation directory behind for
 * good. Leftovers go; one that a writer holds (a rebuild at work) stays. */
static void leftover_generations_are_removed_unless_in_use(void **state)
{
	struct indexer_opts o;
	struct indexer_stats st;
	struct xap_writer *w;
	char busy[400], dead[400], half[400];
	struct stat sb;
	FILE *f;

	(void)state;
	snprintf(busy, sizeof busy, "%s/index/gen-1-1-busy", data);
	snprintf(dead, sizeof dead, "%s/index/gen-1-1-dead", data);
	snprintf(half, sizeof half, "%s/index/gen-1-1-half", data);
	assert_int_equal(xap_writer_open(busy, &w), ERR_OK);
	assert_int_equal(mkdir(dead, 0700), 0);
	assert_int_equal(mkdir(half, 0700), 0);
	{
		/* what a rebuild killed while Xapian created the database leaves */
		char p[500];

		snprintf(p, sizeof p, "%s/postlist.glass", half);
		f = fopen(p, "w");
		assert_non_null(f);
		fclose(f);
		snprintf(p, sizeof p, "%s/v.tmp", half);
		f = fopen(p, "w");
		assert_non_null(f);
		fputs("partial version file", f);
		fclose(f);
	}
	opts_for(&o);
	assert_int_equal(indexer_rebuild(&o, &st), ERR_OK);
	assert_int_equal(stat(busy, &sb), 0);
	assert_int_not_equal(stat(dead, &sb), 0);
	assert_int_not_equal(stat(half, &sb), 0);
	xap_writer_close(w);
	/* the server's indexer cleans up at start too */
	drain(&st);
	assert_int_not_equal(stat(busy, &sb), 0);
}

/* An index of the old layout (one database for every work package, its
 * statistics spanning them) is replaced at start by one database per
 * work package, and every document is indexed again. */
static void an_old_single_index_is_rebuilt_per_work_package(void **state)
{
	struct indexer_stats st;
	char link[400], old[400], now[4096], p[4200];
	const int64_t all[] = {1, 2}, only2[] = {2};
	struct stat sb;
	int64_t docs = scalar("SELECT count(*) FROM index_state");
	FILE *f;

	(void)state;
	indexer_link_path(data, link, sizeof link);
	snprintf(old, sizeof old, "%s/index/gen-0-0-old", data);
	assert_int_equal(mkdir(old, 0700), 0);
	snprintf(p, sizeof p, "%s/iamglass", old);
	f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(unlink(link), 0);
	assert_int_equal(symlink("gen-0-0-old", link), 0);
	drain(&st);
	assert_true(docs > 0);
	assert_int_equal(st.extracted, docs);
	assert_non_null(realpath(link, now));
	assert_string_not_equal(now, old);
	assert_int_not_equal(stat(old, &sb), 0); /* the old layout is gone */
	snprintf(p, sizeof p, "%s/wp-%lld", now, (long long)wp2);
	assert_int_equal(stat(p, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(hits("name:flamingo", all, 2), 1);
	assert_int_equal(hits("name:flamingo", only2, 1), 1);
	assert_int_equal(hits("kiwifruit", all, 2), 60);
	assert_int_equal(hits("germline", all, 2), 2);
	assert_int_equal(hits("germline", only2, 1), 1);
	assert_int_equal(scalar("SELECT count(*) FROM index_queue"), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(indexes_every_format_with_permissions),
		cmocka_unit_test(metadata_changes_do_not_extract_again),
		cmocka_unit_test(new_version_and_trash),
		cmocka_unit_test(resumes_after_sigkill_indexing_each_document_once),
		cmocka_unit_test(rebuild_switches_generations),
		cmocka_unit_test(a_document_whose_helper_hung_keeps_its_type),
		cmocka_unit_test(a_slow_document_waits_for_the_slow_lane),
		cmocka_unit_test(leftover_generations_are_removed_unless_in_use),
		cmocka_unit_test(an_old_single_index_is_rebuilt_per_work_package),
	};

	if (argc == 2 && !strcmp(argv[1], "extract-worker"))
		return exworker_main();
	return cmocka_run_group_tests(tests, setup, teardown);
}
