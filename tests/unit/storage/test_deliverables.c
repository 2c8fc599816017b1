/* Unit tests for storage/deliverables.c: due dates from project months,
 * the CSV import (header names, GA cell shapes, all-or-nothing with the
 * line named, duplicates, a code in the wrong work package, re-import
 * updates), the export read back, linking a document, and a review's
 * decisions bound to its version. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

#include "deliverables.h"
#include "storage_fixture.h"

static void test_due_date(void **state)
{
	char d[11];

	(void)state;
	assert_int_equal(dlv_due_date("2025-01-01", 1, d), ERR_OK);
	assert_string_equal(d, "2025-01-31");
	assert_int_equal(dlv_due_date("2025-01-01", 6, d), ERR_OK);
	assert_string_equal(d, "2025-06-30");
	assert_int_equal(dlv_due_date("2025-01-01", 48, d), ERR_OK);
	assert_string_equal(d, "2028-12-31");
	assert_int_equal(dlv_due_date("2024-09-15", 6, d), ERR_OK);
	assert_string_equal(d, "2025-03-14");
	assert_int_equal(dlv_due_date("2023-08-31", 6, d), ERR_OK);
	assert_string_equal(d, "2024-02-29"); /* Feb 2024 has 29 days: clamp */
	assert_int_equal(dlv_due_date("2025-02-30", 1, d), ERR_INVALID);
	assert_int_equal(dlv_due_date("2025-01-01", 0, d), ERR_INVALID);
	assert_int_equal(dlv_due_date("2025-01-01", 241, d), ERR_INVALID);
	assert_true(dlv_date_valid("2024-02-29"));
	assert_false(dlv_date_valid("2023-02-29"));
	assert_false(dlv_date_valid("2023-2-01"));
}

static int setup(void **state)
{
	struct fx *f;

	if (fx_setup(state))
		return -1;
	f = *state;
	fx_add_wp(f, "WP2");
	fx_exec(f, "INSERT INTO partners(short, name, country, created_at)"
		   " VALUES ('ACME', 'Acme Labs', 'FR', 1)");
	return 0;
}

static const char header[] = "Deliverable No,Deliverable Name,WP No,Lead Beneficiary,Type,"
			     "Dissemination Level,Due Date (in months),Description\n";

static enum err import(struct fx *f, const char *body, size_t *created, size_t *updated)
{
	char buf[4096];

	snprintf(buf, sizeof buf, "%s%s", header, body);
	return dlv_import_csv(f->db, buf, strlen(buf), created, updated);
}

static void test_import_and_export(void **state)
{
	struct fx *f = *state;
	struct dlv_filter all = {0};
	int64_t ids[] = {f->wp};
	struct dlv *l;
	size_t c, u, n, len;
	char *csv;

	assert_int_equal(import(f,
				"D1.1,Data management plan,WP1,1 - UNI,R — Document report,"
				"PU - Public,M6,ignored\n"
				"D1.10,\"Final report, with annex\",1,ACME,R,SEN,48,\n"
				"D2.1,Demonstrator,WP2,,DEM,PU,12,\n"
				"D1.2,\"=cmd\",WP1,uni,other,CO,7,\n",
				&c, &u),
			 ERR_OK);
	assert_int_equal(c, 4);
	assert_int_equal(u, 0);
	all.wp_ids = ids;
	all.n_wp_ids = 1;
	assert_int_equal(dlv_list(f->db, &all, &l, &n), ERR_OK);
	assert_int_equal(n, 3); /* WP1 only, natural order */
	assert_string_equal(l[0].code, "D1.1");
	assert_string_equal(l[1].code, "D1.2");
	assert_string_equal(l[2].code, "D1.10");
	assert_string_equal(l[0].lead_short, "UNI");
	assert_string_equal(l[0].type, "R");
	assert_string_equal(l[0].dissemination, "PU");
	assert_string_equal(l[0].status, "planned");
	assert_int_equal(l[0].due_month, 6);
	assert_string_equal(l[1].type, "OTHER");
	assert_string_equal(l[2].title, "Final report, with annex");
	assert_string_equal(l[2].lead_short, "ACME");
	{
		/* nothing readable: an empty list (qsort of NULL, caught by UBSan) */
		struct dlv_filter none = {0};
		struct dlv *e;
		size_t ne = 9;

		assert_int_equal(dlv_list(f->db, &none, &e, &ne), ERR_OK);
		assert_int_equal(ne, 0);
		assert_null(e);
	}

	assert_int_equal(dlv_export_csv(l, n, &csv, &len), ERR_OK);
	assert_non_null(strstr(csv, "D1.10,\"Final report, with annex\",WP1,ACME,R,SEN,48,\r\n"));
	assert_non_null(strstr(csv, "\"'=cmd\""));
	/* the export imports again, as updates of the same records */
	assert_int_equal(dlv_import_csv(f->db, csv, len, &c, &u), ERR_OK);
	assert_int_equal(c, 0);
	assert_int_equal(u, 3);
	free(csv);
	dlv_list_free(l, n);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM deliverables WHERE title = '=cmd'"), 1);
}

static void expect_refused(struct fx *f, const char *body, enum err code, const char *detail)
{
	size_t c = 9, u = 9;

	assert_int_equal(import(f, body, &c, &u), code);
	if (!strstr(err_detail(), detail))
		fail_msg("detail '%s' lacks '%s'", err_detail(), detail);
	assert_int_equal(c + u, 0);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM deliverables"), 0);
}

static void test_bad_lines_import_nothing(void **state)
{
	struct fx *f = *state;
	static const char ok[] = "D1.1,Plan,WP1,UNI,R,PU,6,\n";
	char buf[512];

	snprintf(buf, sizeof buf, "%s%s", ok, "D1.1,Again,WP1,UNI,R,PU,6,\n");
	expect_refused(f, buf, ERR_EXISTS, "line 3: D1.1 is given twice (also on line 2)");
	snprintf(buf, sizeof buf, "%s%s", ok, "D7.1,Elsewhere,WP1,UNI,R,PU,6,\n");
	expect_refused(f, buf, ERR_INVALID,
		       "line 3: D7.1 belongs to WP7 by its number, not to WP1");
	snprintf(buf, sizeof buf, "%s%s", ok, "D1.2,X,WP9,UNI,R,PU,6,\n");
	expect_refused(f, buf, ERR_INVALID, "line 3: work package 'WP9' does not exist");
	snprintf(buf, sizeof buf, "%s%s", ok, "D1.2,X,WP1,NOPE,R,PU,6,\n");
	expect_refused(f, buf, ERR_INVALID, "line 3: lead beneficiary 'NOPE' is not a partner");
	snprintf(buf, sizeof buf, "%s%s", ok, "D1.2,X,WP1,UNI,Report,PU,6,\n");
	expect_refused(f, buf, ERR_INVALID, "line 3: type 'Report'");
	snprintf(buf, sizeof buf, "%s%s", ok, "D1.2,X,WP1,UNI,R,Secret,6,\n");
	expect_refused(f, buf, ERR_INVALID, "line 3: dissemination level 'Secret'");
	snprintf(buf, sizeof buf, "%s%s", ok, "D1.2,X,WP1,UNI,R,PU,soon,\n");
	expect_refused(f, buf, ERR_INVALID, "line 3: due month 'soon'");
	snprintf(buf, sizeof buf, "%s%s", ok, "Deliverable 3,X,WP1,UNI,R,PU,6,\n");
	expect_refused(f, buf, ERR_INVALID, "line 3: deliverable number 'Deliverable 3'");
	snprintf(buf, sizeof buf, "%s%s", ok, "D1.2,\"X,WP1,UNI,R,PU,6,\n");
	expect_refused(f, buf, ERR_INVALID, "line 3: a quoted field is not closed");
	snprintf(buf, sizeof buf, "%s%s", ok, "D1.2,,WP1,UNI,R,PU,6,\n");
	expect_refused(f, buf, ERR_INVALID, "line 3: D1.2 has no name");
	expect_refused(f, "", ERR_INVALID, "no deliverables after the header");
	{
		size_t c, u;
		static const char nohead[] = "No,Name,WP\nD1.1,x,WP1\n";

		assert_int_equal(dlv_import_csv(f->db, nohead, strlen(nohead), &c, &u),
				 ERR_INVALID);
		assert_non_null(strstr(err_detail(), "line 1: no column 'Lead Beneficiary'"));
	}
}

static void test_link_document_and_review(void **state)
{
	struct fx *f = *state;
	struct dlv_change ch = {0};
	struct dlv d;
	struct dlv_review r, *tasks;
	size_t c, u, n;
	int64_t doc, folder, other_wp_doc, rid, revs[2];

	assert_int_equal(import(f, "D1.1,Plan,WP1,UNI,R,PU,6,\nD1.2,Two,WP1,UNI,R,PU,6,\n", &c, &u),
			 ERR_OK);
	fx_exec(f, "INSERT INTO nodes(wp_id, parent_id, is_folder, name, name_key, current_version,"
		   " created_at, modified_at) VALUES (1, 1, 0, 'plan.docx', 'plan.docx', 1, 1, 1)");
	doc = fx_int(f, "SELECT max(id) FROM nodes");
	fx_exec(f, "INSERT INTO versions(node_id, number, blob, size, mime, uploaded_at)"
		   " SELECT max(id), 1, 'aa', 1, 'text/plain', 1 FROM nodes");
	fx_exec(f, "INSERT INTO nodes(wp_id, parent_id, is_folder, name, name_key,"
		   " created_at, modified_at) VALUES (1, 1, 1, 'sub', 'sub', 1, 1)");
	folder = fx_int(f, "SELECT max(id) FROM nodes");
	fx_exec(f, "INSERT INTO nodes(wp_id, parent_id, is_folder, name, name_key,"
		   " created_at, modified_at) VALUES (2, 2, 0, 'x.txt', 'x.txt', 1, 1)");
	other_wp_doc = fx_int(f, "SELECT max(id) FROM nodes");

	assert_int_equal(dlv_get(f->db, "d1.1", &d), ERR_OK);
	ch.set_node = true;
	ch.node_id = other_wp_doc;
	assert_int_equal(dlv_update(f->db, d.id, &ch), ERR_INVALID);
	ch.node_id = folder;
	assert_int_equal(dlv_update(f->db, d.id, &ch), ERR_INVALID);
	ch.node_id = doc;
	assert_int_equal(dlv_update(f->db, d.id, &ch), ERR_OK);
	assert_int_equal(
		fx_int(f, "SELECT deliverable = 'D1.1' FROM nodes WHERE name = 'plan.docx'"), 1);
	/* one document holds one deliverable */
	assert_int_equal(dlv_update(f->db, d.id + 1, &ch), ERR_EXISTS);
	/* unlinking takes the label off; linking again puts it back */
	ch.node_id = 0;
	assert_int_equal(dlv_update(f->db, d.id, &ch), ERR_OK);
	assert_int_equal(
		fx_int(f, "SELECT deliverable IS NULL FROM nodes WHERE name = 'plan.docx'"), 1);
	ch.node_id = doc;
	assert_int_equal(dlv_update(f->db, d.id, &ch), ERR_OK);
	dlv_clear(&d);
	assert_int_equal(dlv_get(f->db, "D1.1", &d), ERR_OK);
	assert_int_equal(d.node_version, 1);
	assert_string_equal(d.node_blob, "aa");

	revs[0] = f->alice;
	revs[1] = f->alice;
	assert_int_equal(dlv_review_start(f->db, d.id, doc, 1, "aa", NULL, f->bob, revs, 2, &rid),
			 ERR_INVALID);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM deliverable_reviews"), 0);
	revs[1] = f->bob;
	assert_int_equal(
		dlv_review_start(f->db, d.id, doc, 1, "aa", "2025-03-01", f->bob, revs, 2, &rid),
		ERR_OK);
	assert_int_equal(dlv_tasks(f->db, f->alice, &tasks, &n), ERR_OK);
	assert_int_equal(n, 1);
	assert_string_equal(tasks[0].code, "D1.1");
	dlv_reviews_free(tasks, n);
	assert_int_equal(dlv_review_decide(f->db, rid, f->alice, "maybe", ""), ERR_INVALID);
	assert_int_equal(dlv_review_decide(f->db, rid, f->alice, "approve", "fine"), ERR_OK);
	assert_int_equal(dlv_tasks(f->db, f->alice, &tasks, &n), ERR_OK);
	assert_int_equal(n, 0);
	assert_int_equal(dlv_review_decide(f->db, rid, f->bob, "changes", "fix 2.3"), ERR_OK);
	assert_int_equal(dlv_review_get(f->db, d.id, rid, &r), ERR_OK);
	assert_string_equal(r.blob, "aa");
	assert_int_equal(r.n_decisions, 2);
	assert_string_equal(r.decisions[0].decision, "approve");
	assert_string_equal(r.decisions[1].comment, "fix 2.3");
	dlv_review_clear(&r);
	dlv_clear(&d);
	assert_int_equal(dlv_get(f->db, "D1.1", &d), ERR_OK);
	assert_string_equal(d.status, "drafting");
	assert_int_equal(d.review_approvals, 1);
	assert_int_equal(d.review_changes, 1);
	/* a newer review supersedes the old one: no more decisions there */
	assert_int_equal(
		dlv_review_start(f->db, d.id, doc, 1, "aa", NULL, f->bob, revs, 1, &revs[1]),
		ERR_OK);
	assert_int_equal(dlv_review_decide(f->db, rid, f->alice, "approve", ""), ERR_CONFLICT);
	assert_int_equal(dlv_review_decide(f->db, revs[1], f->bob, "approve", ""), ERR_NOTFOUND);
	dlv_clear(&d);
	/* purging the document (as tree_purge does) unlinks it; reviews stay */
	fx_exec(f, "DELETE FROM versions WHERE node_id = (SELECT node_id FROM deliverables"
		   " WHERE code = 'D1.1');"
		   "DELETE FROM nodes WHERE name = 'plan.docx'");
	assert_int_equal(dlv_get(f->db, "D1.1", &d), ERR_OK);
	assert_int_equal(d.node_id, 0);
	assert_int_equal(d.review_version, 1);
	assert_string_equal(d.review_blob, "aa");
	dlv_clear(&d);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM deliverable_reviews"), 2);
}

/* The annotated file, the submission and the reminders' record. */
static void test_files_submission_reminders(void **state)
{
	struct fx *f = *state;
	struct dlv_change ch = {0};
	struct dlv_review r;
	struct dlv_notice *l;
	struct dlv d;
	size_t c, u, n;
	int64_t doc, notes, rid, rid2, revs[2];
	bool fresh;

	assert_int_equal(import(f, "D1.1,Plan,WP1,UNI,R,PU,6,\n", &c, &u), ERR_OK);
	fx_exec(f, "INSERT INTO nodes(wp_id, parent_id, is_folder, name, name_key, current_version,"
		   " created_at, modified_at) VALUES (1, 1, 0, 'plan.docx', 'plan.docx', 1, 1, 1)");
	doc = fx_int(f, "SELECT max(id) FROM nodes");
	fx_exec(f, "INSERT INTO versions(node_id, number, blob, size, mime, uploaded_at)"
		   " SELECT max(id), 1, 'aa', 1, 'text/plain', 1 FROM nodes");
	fx_exec(f, "INSERT INTO nodes(wp_id, parent_id, is_folder, name, name_key, current_version,"
		   " created_at, modified_at) VALUES (1, 1, 0, 'notes.pdf', 'notes.pdf', 1, 1, 1)");
	notes = fx_int(f, "SELECT max(id) FROM nodes");
	assert_int_equal(dlv_get(f->db, "D1.1", &d), ERR_OK);
	ch.set_node = true;
	ch.node_id = doc;
	assert_int_equal(dlv_update(f->db, d.id, &ch), ERR_OK);
	revs[0] = f->alice;
	revs[1] = f->bob;
	assert_int_equal(
		dlv_review_start(f->db, d.id, doc, 1, "aa", "2025-03-01", f->bob, revs, 2, &rid),
		ERR_OK);

	/* pending reviewers, then the attachment linked to one answer */
	assert_int_equal(dlv_pending_reviewers(f->db, rid, &l, &n), ERR_OK);
	assert_int_equal(n, 2);
	assert_string_equal(l[0].code, "D1.1");
	assert_string_equal(l[0].due_date, "2025-03-01");
	dlv_notices_free(l, n);
	assert_int_equal(dlv_decision_attach(f->db, rid, f->alice, notes, 1, "bb"), ERR_OK);
	assert_int_equal(dlv_decision_attach(f->db, rid, 999, notes, 1, "bb"), ERR_NOTFOUND);
	assert_int_equal(dlv_decision_attach(f->db, rid, f->alice, notes, 0, "bb"), ERR_INVALID);
	assert_int_equal(dlv_review_get(f->db, d.id, rid, &r), ERR_OK);
	assert_int_equal(r.decisions[0].attachment_node, notes);
	assert_string_equal(r.decisions[0].attachment_blob, "bb");
	assert_null(r.decisions[1].attachment_blob);
	dlv_review_clear(&r);
	/* purged: the link goes, the hash stays */
	fx_exec(f, "DELETE FROM versions WHERE node_id = (SELECT id FROM nodes WHERE name ="
		   " 'notes.pdf'); DELETE FROM nodes WHERE name = 'notes.pdf'");
	assert_int_equal(dlv_review_get(f->db, d.id, rid, &r), ERR_OK);
	assert_int_equal(r.decisions[0].attachment_node, 0);
	assert_string_equal(r.decisions[0].attachment_blob, "bb");
	dlv_review_clear(&r);
	/* a newer review closes the old one to files too */
	assert_int_equal(dlv_review_start(f->db, d.id, doc, 1, "aa", NULL, f->bob, revs, 1, &rid2),
			 ERR_OK);
	assert_int_equal(dlv_decision_attach(f->db, rid, f->alice, doc, 1, "aa"), ERR_CONFLICT);
	assert_int_equal(dlv_review_latest(f->db, rid2), ERR_OK);
	assert_int_equal(dlv_review_latest(f->db, 12345), ERR_NOTFOUND);

	/* submission: from approved (or revision_requested) only */
	assert_int_equal(dlv_submit(f->db, d.id, "2025-06-30", doc, 1, "aa"), ERR_CONFLICT);
	assert_int_equal(dlv_submit(f->db, d.id, "2025-06-31", doc, 1, "aa"), ERR_INVALID);
	fx_exec(f, "UPDATE deliverables SET status = 'approved'");
	assert_int_equal(dlv_submit(f->db, d.id, "2025-06-30", doc, 1, "aa"), ERR_OK);
	dlv_clear(&d);
	assert_int_equal(dlv_get(f->db, "D1.1", &d), ERR_OK);
	assert_string_equal(d.status, "submitted");
	assert_string_equal(d.submitted_on, "2025-06-30");
	assert_int_equal(d.submitted_node_id, doc);
	assert_string_equal(d.submitted_blob, "aa");
	/* submitted: no reminders of it any more */
	assert_int_equal(dlv_pending_reviewers(f->db, 0, &l, &n), ERR_OK);
	assert_int_equal(n, 0);
	dlv_notices_free(l, n);
	assert_int_equal(dlv_due_people(f->db, &l, &n), ERR_OK);
	assert_int_equal(n, 0);
	dlv_notices_free(l, n);

	/* each step once per person */
	assert_int_equal(dlv_reminder_mark(f->db, "review_due 2025-03-01", rid, f->alice, &fresh),
			 ERR_OK);
	assert_true(fresh);
	assert_int_equal(dlv_reminder_mark(f->db, "review_due 2025-03-01", rid, f->alice, &fresh),
			 ERR_OK);
	assert_false(fresh);
	assert_int_equal(dlv_reminder_mark(f->db, "review_due 2025-03-02", rid, f->alice, &fresh),
			 ERR_OK);
	assert_true(fresh);
	dlv_clear(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_due_date),
		cmocka_unit_test_setup_teardown(test_import_and_export, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_bad_lines_import_nothing, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_link_document_and_review, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_files_submission_reminders, setup,
						fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
