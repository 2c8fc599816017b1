/* Unit tests for search/xap.cc: indexing, queries, the permission
 * filter, facets, snippets, hostile terms and queries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "xap.h"

static char dir[256], gen[300], link_path[300];

static void put(struct xap_writer *w, int64_t node, int64_t wp, const char *wpcode,
		const char *type, const char *lang, const char *title, const char *text)
{
	int64_t folders[] = {1000 + wp};
	struct xap_doc d = {
		.node_id = node,
		.version = 1,
		.wp_id = wp,
		.wp_code = wpcode,
		.path = "reports/x",
		.name = "x.txt",
		.folders = folders,
		.nfolders = 1,
		.title = title,
		.author = "Jane Doe",
		.uploader = "Max Mustermann",
		.type = type,
		.mime = "text/plain",
		.status = "draft",
		.deliverable = "D5.2",
		.language = lang,
		.date = 1709287200 /* 2024-03-01 */,
		.size = 1234,
		.index_status = "indexed",
		.fingerprint = "fp",
		.text = text,
		.text_len = strlen(text),
	};

	assert_int_equal(xap_writer_put(w, &d), ERR_OK);
}

static int setup(void **state)
{
	struct xap_writer *w;

	(void)state;
	snprintf(dir, sizeof dir, "/tmp/consort-test-xap-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(gen, sizeof gen, "%s/gen-1", dir);
	snprintf(link_path, sizeof link_path, "%s/current", dir);
	assert_int_equal(symlink("gen-1", link_path), 0);
	assert_int_equal(xap_writer_open(gen, &w), ERR_OK);
	put(w, 1, 1, "WP1", "pdf", "en", "Germline testing guidelines",
	    "The latest guidelines on germline testing in oncology in the E.U. Testers test tests.");
	put(w, 2, 2, "WP2", "docx", "en", "Secret WP2 plan",
	    "Germline testing budget for work package two, confidential zebra.");
	put(w, 3, 1, "WP1", "docx", "de", "Untersuchungen",
	    "Die genetischen Untersuchungen wurden in den Kliniken durchgeführt und ausgewertet.");
	put(w, 4, 1, "WP1", "txt", "fr", "Rapport",
	    "Les recommandations nationales pour les patients atteints de cancer <script>alert(1)</script> & co.");
	assert_int_equal(xap_writer_commit(w), ERR_OK);
	xap_writer_close(w);
	return 0;
}

static int teardown(void **state)
{
	char cmd[400];

	(void)state;
	if (getenv("KEEP_TEST_DIR"))
		return 0;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

static struct xap_result *search(const char *q, const int64_t *wps, size_t nwps, enum err want)
{
	struct xap_reader *r;
	struct xap_result *res = NULL;
	struct xap_query xq = {.q = q, .wps = wps, .nwps = nwps, .limit = 10};

	assert_int_equal(xap_reader_new(link_path, &r), ERR_OK);
	assert_int_equal(xap_search(r, &xq, &res), want);
	xap_reader_free(r);
	return res;
}

static const int64_t both[] = {1, 2}, only1[] = {1};

static bool has_node(const struct xap_result *res, int64_t node)
{
	for (size_t i = 0; i < res->nhits; i++)
		if (res->hits[i].node_id == node)
			return true;
	return false;
}

static void finds_body_words_and_phrases(void **state)
{
	struct xap_result *res;

	(void)state;
	res = search("oncology", both, 2, ERR_OK);
	assert_int_equal(res->total, 1);
	assert_true(has_node(res, 1));
	xap_result_free(res);
	res = search("\"germline testing\"", both, 2, ERR_OK);
	assert_int_equal(res->total, 2);
	xap_result_free(res);
	/* a phrase does not match across title and body */
	res = search("\"guidelines the\"", both, 2, ERR_OK);
	assert_int_equal(res->total, 0);
	xap_result_free(res);
}

static void permission_filter_hides_other_wps_everywhere(void **state)
{
	struct xap_result *res;

	(void)state;
	res = search("germline", only1, 1, ERR_OK);
	assert_int_equal(res->total, 1);
	assert_true(res->total_exact);
	assert_int_equal(res->nhits, 1);
	assert_int_equal(res->hits[0].node_id, 1);
	for (size_t i = 0; i < res->nwp_facets; i++)
		assert_string_equal(res->wp_facets[i].value, "1");
	xap_result_free(res);
	/* a word only in WP2: nothing, not even a suggestion */
	res = search("zebra", only1, 1, ERR_OK);
	assert_int_equal(res->total, 0);
	assert_null(res->suggestion);
	xap_result_free(res);
	/* explicit wp: for a WP the caller cannot read changes nothing */
	res = search("germline wp:WP2", only1, 1, ERR_OK);
	assert_int_equal(res->total, 0);
	xap_result_free(res);
	/* no readable WP at all: no count */
	res = search("germline", NULL, 0, ERR_OK);
	assert_int_equal(res->total, 0);
	assert_int_equal(res->nhits, 0);
	xap_result_free(res);
}

static void facets_count_wps_and_types(void **state)
{
	struct xap_result *res;
	bool pdf = false, docx = false;

	(void)state;
	res = search("germline", both, 2, ERR_OK);
	assert_int_equal(res->nwp_facets, 2);
	for (size_t i = 0; i < res->ntype_facets; i++) {
		if (!strcmp(res->type_facets[i].value, "pdf"))
			pdf = res->type_facets[i].count == 1;
		if (!strcmp(res->type_facets[i].value, "docx"))
			docx = res->type_facets[i].count == 1;
	}
	assert_true(pdf && docx);
	xap_result_free(res);
}

static void field_prefixes_and_ranges(void **state)
{
	struct xap_result *res;

	(void)state;
	res = search("title:guidelines", both, 2, ERR_OK);
	assert_int_equal(res->total, 1);
	xap_result_free(res);
	res = search("title:oncology", both, 2, ERR_OK); /* body word, not title */
	assert_int_equal(res->total, 0);
	xap_result_free(res);
	res = search("germline type:docx", both, 2, ERR_OK);
	assert_int_equal(res->total, 1);
	assert_int_equal(res->hits[0].node_id, 2);
	xap_result_free(res);
	res = search("wp:wp1 deliverable:d5.2 status:draft", both, 2, ERR_OK);
	assert_int_equal(res->total, 3);
	xap_result_free(res);
	res = search("author:doe germline", both, 2, ERR_OK);
	assert_int_equal(res->total, 2);
	xap_result_free(res);
	res = search("germline date:2024-01-01..2024-12-31", both, 2, ERR_OK);
	assert_int_equal(res->total, 2);
	xap_result_free(res);
	res = search("germline date:2020-01-01..2020-12-31", both, 2, ERR_OK);
	assert_int_equal(res->total, 0);
	xap_result_free(res);
	res = search("germline AND NOT oncology", both, 2, ERR_OK);
	assert_int_equal(res->total, 1);
	xap_result_free(res);
	res = search("germ*", both, 2, ERR_OK);
	assert_int_equal(res->total, 2);
	xap_result_free(res);
}

static void stems_in_the_documents_language(void **state)
{
	struct xap_result *res;

	(void)state;
	res = search("Untersuchung", both, 2, ERR_OK); /* German plural in the text */
	assert_int_equal(res->total, 1);
	assert_int_equal(res->hits[0].node_id, 3);
	xap_result_free(res);
	res = search("recommandation", both, 2, ERR_OK); /* French plural in the text */
	assert_int_equal(res->total, 1);
	xap_result_free(res);
	res = search("guideline", both, 2, ERR_OK); /* English plural */
	assert_int_equal(res->total, 1);
	xap_result_free(res);
}

static void snippets_are_escaped_and_marked(void **state)
{
	struct xap_result *res;
	const char *s;

	(void)state;
	res = search("patients", both, 2, ERR_OK);
	assert_int_equal(res->nhits, 1);
	s = res->hits[0].snippet;
	assert_non_null(strstr(s, "<mark>patients</mark>"));
	assert_null(strstr(s, "<script>"));
	assert_non_null(strstr(s, "&lt;script&gt;"));
	xap_result_free(res);
}

static void malformed_queries_are_invalid(void **state)
{
	struct xap_result *res;

	(void)state;
	res = search("germline AND", both, 2, ERR_INVALID);
	assert_null(res);
	assert_non_null(strstr(err_detail(), "Syntax"));
	search("a..b", both, 2, ERR_INVALID);
	{
		char big[XAP_MAX_QUERY + 10];

		memset(big, 'a', sizeof big - 1);
		big[sizeof big - 1] = '\0';
		search(big, both, 2, ERR_INVALID);
	}
}

/* Xapian reparsed "-germline" without love/hate when nothing was left
 * to exclude from, so it found exactly the documents it should leave
 * out. */
static void a_query_of_only_excluded_words_excludes_them(void **state)
{
	struct xap_result *res;

	(void)state;
	res = search("-germline", both, 2, ERR_OK);
	assert_int_equal(res->total, 2);
	assert_true(has_node(res, 3) && has_node(res, 4));
	xap_result_free(res);
	res = search("-germline -recommandation", both, 2, ERR_OK);
	assert_int_equal(res->total, 1);
	assert_true(has_node(res, 3));
	xap_result_free(res);
	res = search("-\"germline testing\" -title:untersuchungen", both, 2, ERR_OK);
	assert_int_equal(res->total, 1);
	assert_true(has_node(res, 4));
	xap_result_free(res);
	/* the same as NOT, and as love and hate together */
	res = search("NOT germline", only1, 1, ERR_OK);
	assert_int_equal(res->total, 2);
	xap_result_free(res);
	res = search("guidelines -zebra", both, 2, ERR_OK);
	assert_int_equal(res->total, 1);
	xap_result_free(res);
	/* a lone minus sign is no exclusion */
	res = search("- germline", both, 2, ERR_OK);
	assert_int_equal(res->total, 2);
	xap_result_free(res);
}

/* Queries were lower-cased before parsing, and the parser recognises
 * acronyms only in capitals: "E.U." found nothing. */
static void acronyms_are_found_as_typed(void **state)
{
	static const char *const qs[] = {"E.U.", "eu", "EU", "E.U. Guidelines"};
	struct xap_result *res;

	(void)state;
	for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
		res = search(qs[i], both, 2, ERR_OK);
		assert_int_equal(res->total, 1);
		assert_true(has_node(res, 1));
		xap_result_free(res);
	}
}

static void wildcards_are_capped(void **state)
{
	struct xap_result *res;
	char q[200];
	size_t len = 0;

	(void)state;
	for (int i = 0; i < XAP_MAX_WILDCARDS; i++)
		len += (size_t)snprintf(q + len, sizeof q - len, "germ* ");
	res = search(q, both, 2, ERR_OK);
	assert_int_equal(res->total, 2);
	xap_result_free(res);
	snprintf(q + len, sizeof q - len, "t*");
	assert_null(search(q, both, 2, ERR_INVALID));
	assert_non_null(strstr(err_detail(), "at most 8 wildcards"));
	/* a star that follows no word is not a wildcard */
	res = search("germline * * * * * * * * * *", both, 2, ERR_OK);
	xap_result_free(res);
}

static void suggestion_when_nothing_matches(void **state)
{
	struct xap_result *res;

	(void)state;
	res = search("germlnie", both, 2, ERR_OK);
	assert_int_equal(res->total, 0);
	assert_non_null(res->suggestion);
	assert_string_equal(res->suggestion, "germline");
	xap_result_free(res);
}

/* A correction that finds readable documents thanks to one word may
 * still have taken another word from a work package the caller cannot
 * read: "zebar OR oncolgy" was corrected to "zebra OR oncology". */
static void suggestion_never_holds_a_word_of_another_wp(void **state)
{
	struct xap_result *res;

	(void)state;
	res = search("zebar OR oncolgy", both, 2, ERR_OK);
	assert_int_equal(res->total, 0);
	assert_non_null(res->suggestion);
	assert_string_equal(res->suggestion, "zebra OR oncology");
	xap_result_free(res);
	/* WP1's spelling data alone corrects only the word it knows */
	res = search("zebar OR oncolgy", only1, 1, ERR_OK);
	assert_int_equal(res->total, 0);
	assert_non_null(res->suggestion);
	assert_string_equal(res->suggestion, "zebar OR oncology");
	xap_result_free(res);
	/* words of its own work packages are still corrected */
	res = search("zebra OR oncolgy", only1, 1, ERR_OK);
	assert_int_equal(res->total, 0);
	assert_non_null(res->suggestion);
	assert_string_equal(res->suggestion, "zebra OR oncology");
	xap_result_free(res);
}

static void long_terms_never_fail(void **state)
{
	struct xap_writer *w;
	char *text = malloc(20000), *longval = malloc(2000);
	struct xap_result *res;

	(void)state;
	memset(text, 'x', 19999);
	text[19999] = '\0';
	memcpy(text, "findme ", 7);
	memset(longval, 'd', 1999);
	longval[1999] = '\0';
	assert_int_equal(xap_writer_open(gen, &w), ERR_OK);
	{
		struct xap_doc d = {.node_id = 9,
				    .version = 1,
				    .wp_id = 1,
				    .wp_code = "WP1",
				    .name = "long",
				    .title = text,
				    .author = longval,
				    .uploader = longval,
				    .deliverable = longval,
				    .type = "txt",
				    .text = text,
				    .text_len = strlen(text)};

		assert_int_equal(xap_writer_put(w, &d), ERR_OK);
	}
	assert_int_equal(xap_writer_commit(w), ERR_OK);
	xap_writer_close(w);
	res = search("findme", both, 2, ERR_OK);
	assert_int_equal(res->total, 1);
	xap_result_free(res);
	assert_int_equal(xap_writer_open(gen, &w), ERR_OK);
	assert_int_equal(xap_writer_delete(w, 9), ERR_OK);
	assert_int_equal(xap_writer_commit(w), ERR_OK);
	xap_writer_close(w);
	free(text);
	free(longval);
}

static void update_meta_keeps_text_and_delete_removes(void **state)
{
	struct xap_writer *w;
	struct xap_result *res;
	struct xap_existing ex;
	int64_t folders[] = {77};
	struct xap_doc d = {.node_id = 4,
			    .version = 1,
			    .wp_id = 2,
			    .wp_code = "WP2",
			    .path = "moved/r.txt",
			    .name = "r.txt",
			    .folders = folders,
			    .nfolders = 1,
			    .status = "final",
			    .fingerprint = "fp2"};
	int64_t *ids;
	size_t n;

	(void)state;
	assert_int_equal(xap_writer_open(gen, &w), ERR_OK);
	assert_int_equal(xap_writer_update_meta(w, &d), ERR_OK);
	assert_int_equal(xap_writer_lookup(w, 4, &ex), ERR_OK);
	assert_true(ex.found);
	assert_string_equal(ex.fingerprint, "fp2");
	assert_string_equal(ex.language, "fr");
	xap_existing_clear(&ex);
	assert_int_equal(xap_writer_under(w, 77, &ids, &n), ERR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], 4);
	free(ids);
	assert_int_equal(xap_writer_commit(w), ERR_OK);
	/* the text is still searchable, now in WP2 only */
	res = search("patients status:final", both, 2, ERR_OK);
	assert_int_equal(res->total, 1);
	xap_result_free(res);
	res = search("patients", only1, 1, ERR_OK);
	assert_int_equal(res->total, 0);
	xap_result_free(res);
	assert_int_equal(xap_writer_delete(w, 4), ERR_OK);
	assert_int_equal(xap_writer_commit(w), ERR_OK);
	xap_writer_close(w);
	res = search("patients", both, 2, ERR_OK);
	assert_int_equal(res->total, 0);
	xap_result_free(res);
}

static void reader_follows_commits_and_switches(void **state)
{
	struct xap_reader *r;
	struct xap_result *res;
	struct xap_writer *w;
	struct xap_query xq = {.q = "quokka", .wps = both, .nwps = 2, .limit = 10};
	char gen2[320], tmp[320];

	(void)state;
	assert_int_equal(xap_reader_new(link_path, &r), ERR_OK);
	assert_int_equal(xap_search(r, &xq, &res), ERR_OK);
	assert_int_equal(res->total, 0);
	xap_result_free(res);
	assert_int_equal(xap_writer_open(gen, &w), ERR_OK);
	put(w, 20, 1, "WP1", "txt", "en", "Quokka", "a quokka appears");
	assert_int_equal(xap_writer_commit(w), ERR_OK);
	xap_writer_close(w);
	assert_int_equal(xap_search(r, &xq, &res), ERR_OK);
	assert_int_equal(res->total, 1);
	xap_result_free(res);
	/* a new generation behind the link: the same reader follows */
	snprintf(gen2, sizeof gen2, "%s/gen-2", dir);
	assert_int_equal(xap_writer_open(gen2, &w), ERR_OK);
	put(w, 21, 1, "WP1", "txt", "en", "Quokka", "two quokka here");
	put(w, 22, 1, "WP1", "txt", "en", "Quokka", "three quokka here");
	assert_int_equal(xap_writer_commit(w), ERR_OK);
	xap_writer_close(w);
	snprintf(tmp, sizeof tmp, "%s/current.tmp", dir);
	assert_int_equal(symlink("gen-2", tmp), 0);
	assert_int_equal(rename(tmp, link_path), 0);
	assert_int_equal(xap_search(r, &xq, &res), ERR_OK);
	assert_int_equal(res->total, 2);
	xap_result_free(res);
	xap_reader_free(r);
	/* back to gen-1 for the other tests */
	assert_int_equal(symlink("gen-1", tmp), 0);
	assert_int_equal(rename(tmp, link_path), 0);
}

static void missing_index_searches_empty(void **state)
{
	struct xap_reader *r;
	struct xap_result *res;
	struct xap_query xq = {.q = "anything", .wps = both, .nwps = 2, .limit = 10};

	(void)state;
	assert_int_equal(xap_reader_new("/nonexistent/consort/index/current", &r), ERR_OK);
	assert_int_equal(xap_search(r, &xq, &res), ERR_OK);
	assert_int_equal(res->total, 0);
	xap_result_free(res);
	xq.q = "foo AND";
	assert_int_equal(xap_search(r, &xq, &res), ERR_INVALID);
	xap_reader_free(r);
}

/* A work package with nothing indexed yet has no database: a caller who
 * reads only such work packages gets an empty answer, not an error. */
static void work_packages_without_documents_search_empty(void **state)
{
	const int64_t none[] = {7, 8};
	struct xap_result *res;

	(void)state;
	res = search("germline", none, 2, ERR_OK);
	assert_int_equal(res->total, 0);
	assert_int_equal(res->nhits, 0);
	assert_null(res->suggestion);
	xap_result_free(res);
	res = search("foo AND", none, 2, ERR_INVALID);
	assert_null(res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(finds_body_words_and_phrases),
		cmocka_unit_test(permission_filter_hides_other_wps_everywhere),
		cmocka_unit_test(facets_count_wps_and_types),
		cmocka_unit_test(field_prefixes_and_ranges),
		cmocka_unit_test(stems_in_the_documents_language),
		cmocka_unit_test(snippets_are_escaped_and_marked),
		cmocka_unit_test(malformed_queries_are_invalid),
		cmocka_unit_test(a_query_of_only_excluded_words_excludes_them),
		cmocka_unit_test(acronyms_are_found_as_typed),
		cmocka_unit_test(wildcards_are_capped),
		cmocka_unit_test(suggestion_when_nothing_matches),
		cmocka_unit_test(suggestion_never_holds_a_word_of_another_wp),
		cmocka_unit_test(long_terms_never_fail),
		cmocka_unit_test(update_meta_keeps_text_and_delete_removes),
		cmocka_unit_test(reader_follows_commits_and_switches),
		cmocka_unit_test(missing_index_searches_empty),
		cmocka_unit_test(work_packages_without_documents_search_empty),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
