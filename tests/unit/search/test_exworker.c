/* Unit tests for search/exworker.c: the helper process, its protocol
 * and its limits. This test binary is its own helper: run with
 * "extract-worker" it serves requests like `consort extract-worker`. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "docgen.h"
#include "exworker.h"

static char dir[256], pdf[300], docx[300];
static char *const helper[] = {"/proc/self/exe", "extract-worker", NULL};

static void script(const char *name, const char *body, char *out, size_t len)
{
	FILE *f;

	snprintf(out, len, "%s/%s", dir, name);
	f = fopen(out, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	chmod(out, 0755);
}

static int setup(void **state)
{
	const struct docgen d = {.title = "T", .body = "hello oncogenetics\nsecond page"};

	(void)state;
	snprintf(dir, sizeof dir, "/tmp/consort-test-exworker-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(pdf, sizeof pdf, "%s/a.pdf", dir);
	snprintf(docx, sizeof docx, "%s/a.docx", dir);
	return docgen_pdf(pdf, &d) || docgen_docx(docx, &d);
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

static struct exworker *start(struct extract_limits *lim)
{
	struct exworker *w;

	assert_int_equal(exworker_new(helper, lim, &w), ERR_OK);
	return w;
}

static void round_trip_and_reuse(void **state)
{
	struct extract_limits lim;
	struct exworker *w;
	struct extract_result res;

	(void)state;
	extract_limits_default(&lim);
	w = start(&lim);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(exworker_extract(w, i % 2 ? pdf : docx, "a", NULL, &res), ERR_OK);
		assert_int_equal(res.status, EXTRACT_OK);
		assert_non_null(strstr(res.text, "oncogenetics"));
		assert_string_equal(res.title, "T");
		extract_result_free(&res);
	}
	assert_int_equal(exworker_starts(w), 1); /* one long-lived helper */
	exworker_free(w);
}

/* The MIME type the server stored at upload reaches the helper, which
 * then trusts it instead of running libmagic again, even octet-stream
 * for content the server typed whole (test_extract has the longer
 * case); an unknown type gets a look of the helper's own. */
static void a_known_mime_type_is_used(void **state)
{
	struct extract_limits lim;
	struct exworker *w;
	struct extract_result res;

	(void)state;
	extract_limits_default(&lim);
	w = start(&lim);
	assert_int_equal(exworker_extract(w, pdf, "a", "text/plain", &res), ERR_OK);
	assert_string_equal(res.mime, "text/plain");
	assert_string_equal(res.type, "txt");
	assert_int_equal(res.pages, 0); /* the PDF's bytes were read as text */
	extract_result_free(&res);
	assert_int_equal(exworker_extract(w, pdf, "a", "application/octet-stream", &res), ERR_OK);
	assert_string_equal(res.mime, "application/octet-stream");
	assert_string_equal(res.type, "other");
	extract_result_free(&res);
	assert_int_equal(exworker_extract(w, pdf, "a", "", &res), ERR_OK);
	assert_string_equal(res.mime, "application/pdf");
	assert_string_equal(res.type, "pdf");
	assert_true(res.pages > 0);
	extract_result_free(&res);
	exworker_free(w);
}

static void a_hanging_extraction_is_killed_and_the_next_works(void **state)
{
	struct extract_limits lim;
	struct exworker *w;
	struct extract_result res;
	char hang[300];
	time_t t0 = time(NULL);

	(void)state;
	script("hang-pdftotext", "exec sleep 30", hang, sizeof hang);
	extract_limits_default(&lim);
	lim.pdftotext = hang;
	lim.wall_seconds = 2;
	w = start(&lim);
	assert_int_equal(exworker_extract(w, pdf, "a.pdf", NULL, &res), ERR_OK);
	assert_int_equal(res.status, EXTRACT_FAILED);
	assert_non_null(strstr(res.reason, "within 2 s"));
	assert_true(time(NULL) - t0 < 10);
	extract_result_free(&res);
	assert_int_equal(exworker_extract(w, docx, "a.docx", NULL, &res), ERR_OK);
	assert_int_equal(res.status, EXTRACT_OK);
	extract_result_free(&res);
	assert_int_equal(exworker_starts(w), 2);
	exworker_free(w);
}

static void a_crashing_helper_costs_one_document(void **state)
{
	struct extract_limits lim;
	struct exworker *w;
	struct extract_result res;
	char slow[300];
	pid_t pid, killer;

	(void)state;
	script("slow-pdftotext", "sleep 3; exit 1", slow, sizeof slow);
	extract_limits_default(&lim);
	lim.pdftotext = slow;
	w = start(&lim);
	/* start the helper, then have it crash while it works */
	assert_int_equal(exworker_extract(w, docx, "a.docx", NULL, &res), ERR_OK);
	extract_result_free(&res);
	pid = exworker_pid(w);
	killer = fork();
	if (killer == 0) {
		usleep(500 * 1000);
		kill(pid, SIGSEGV);
		_exit(0);
	}
	assert_int_equal(exworker_extract(w, pdf, "a.pdf", NULL, &res), ERR_OK);
	assert_int_equal(res.status, EXTRACT_FAILED);
	assert_non_null(strstr(res.reason, "crashed"));
	extract_result_free(&res);
	assert_int_equal(exworker_extract(w, docx, "a.docx", NULL, &res), ERR_OK);
	assert_int_equal(res.status, EXTRACT_OK);
	extract_result_free(&res);
	exworker_free(w);
}

static void pdf_tool_crash_and_cpu_limit(void **state)
{
	struct extract_limits lim;
	struct exworker *w;
	struct extract_result res;
	char crash[300], spin[300];

	(void)state;
	script("crash-pdftotext", "kill -SEGV $$", crash, sizeof crash);
	script("spin-pdftotext", "while :; do :; done", spin, sizeof spin);
	extract_limits_default(&lim);
	lim.pdftotext = crash;
	w = start(&lim);
	assert_int_equal(exworker_extract(w, pdf, "a.pdf", NULL, &res), ERR_OK);
	assert_int_equal(res.status, EXTRACT_FAILED);
	assert_non_null(strstr(res.reason, "pdftotext crashed"));
	extract_result_free(&res);
	exworker_free(w);

	lim.pdftotext = spin;
	lim.cpu_seconds = 1;
	w = start(&lim);
	assert_int_equal(exworker_extract(w, pdf, "a.pdf", NULL, &res), ERR_OK);
	assert_int_equal(res.status, EXTRACT_FAILED);
	assert_non_null(strstr(res.reason, "CPU limit"));
	extract_result_free(&res);
	exworker_free(w);
}

static void output_is_capped(void **state)
{
	struct extract_limits lim;
	struct exworker *w;
	struct extract_result res;
	char big[300];
	FILE *f;

	(void)state;
	snprintf(big, sizeof big, "%s/big.txt", dir);
	f = fopen(big, "w");
	assert_non_null(f);
	for (int i = 0; i < 100000; i++)
		fputs("lorem ipsum dolor sit amet\n", f);
	fclose(f);
	extract_limits_default(&lim);
	lim.max_text = 100 * 1024;
	w = start(&lim);
	assert_int_equal(exworker_extract(w, big, "big.txt", NULL, &res), ERR_OK);
	assert_int_equal(res.status, EXTRACT_TRUNCATED);
	assert_true(res.text_len <= lim.max_text);
	extract_result_free(&res);
	exworker_free(w);
}

static void interrupt_ends_a_wait(void **state)
{
	struct extract_limits lim;
	struct exworker *w;
	struct extract_result res;
	char hang[300];
	time_t t0 = time(NULL);
	pid_t self = getpid();

	(void)state;
	(void)self;
	script("hang2-pdftotext", "exec sleep 30", hang, sizeof hang);
	extract_limits_default(&lim);
	lim.pdftotext = hang;
	w = start(&lim);
	exworker_interrupt(w);
	assert_int_equal(exworker_extract(w, pdf, "a.pdf", NULL, &res), ERR_CONFLICT);
	extract_result_free(&res);
	assert_true(time(NULL) - t0 < 5);
	exworker_free(w);
}

/* issue 13: the answer decoder reads what a process that parses hostile
 * documents wrote. A status outside the enum and text with a NUL or
 * invalid UTF-8 were taken as they came (text_len then disagreed with
 * strlen, and the status was an invalid enum value). */
static size_t field(char *out, int tag, const char *data, size_t len)
{
	out[0] = (char)tag;
	out[1] = (char)(len >> 24);
	out[2] = (char)(len >> 16);
	out[3] = (char)(len >> 8);
	out[4] = (char)len;
	memcpy(out + 5, data, len);
	return 5 + len;
}

static enum err decode_one(int tag, const char *data, size_t len)
{
	char buf[256];
	size_t n = 0;
	struct extract_result res;
	enum err rc;

	memset(&res, 0, sizeof res);
	n += field(buf + n, 1, "0", 1);
	n += field(buf + n, 5, "t", 1);
	n += field(buf + n, 6, "a", 1);
	n += field(buf + n, 10, "text", 4);
	n += field(buf + n, tag, data, len);
	rc = exworker_decode(buf, n, &res);
	extract_result_free(&res);
	return rc;
}

static void hostile_answers_are_refused(void **state)
{
	(void)state;
	assert_int_equal(decode_one(9, "de", 2), ERR_OK);
	assert_int_equal(decode_one(1, "2", 1), ERR_OK);
	assert_int_equal(decode_one(1, "-1", 2), ERR_CORRUPT);
	assert_int_equal(decode_one(1, "3", 1), ERR_CORRUPT);
	assert_int_equal(decode_one(1, "", 0), ERR_CORRUPT);
	assert_int_equal(decode_one(10, "a\0b", 3), ERR_CORRUPT);
	assert_int_equal(decode_one(5, "\xff", 1), ERR_CORRUPT);
	assert_int_equal(decode_one(6, "\xc3", 1), ERR_CORRUPT);
	assert_int_equal(decode_one(10, "caf\xc3\xa9", 5), ERR_OK);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip_and_reuse),
		cmocka_unit_test(hostile_answers_are_refused),
		cmocka_unit_test(a_known_mime_type_is_used),
		cmocka_unit_test(a_hanging_extraction_is_killed_and_the_next_works),
		cmocka_unit_test(a_crashing_helper_costs_one_document),
		cmocka_unit_test(pdf_tool_crash_and_cpu_limit),
		cmocka_unit_test(output_is_capped),
		cmocka_unit_test(interrupt_ends_a_wait),
	};

	if (argc == 2 && !strcmp(argv[1], "extract-worker"))
		return exworker_main();
	return cmocka_run_group_tests(tests, setup, teardown);
}
