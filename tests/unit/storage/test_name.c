/* Unit tests for storage/name.c: every name rule, keys, path parsing,
 * hostile names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "name.h"

/* Check a name that must be refused, and that the detail names the rule. */
static void refused(const char *name, size_t len, const char *rule)
{
	char *nfc = (char *)1, *key = (char *)1;

	err_clear();
	assert_int_equal(name_check(name, len, &nfc, &key), ERR_INVALID);
	assert_null(nfc);
	assert_null(key);
	if (!strstr(err_detail(), rule))
		fail_msg("detail '%s' does not mention '%s'", err_detail(), rule);
}

static void accepted(const char *name, const char *want_nfc)
{
	char *nfc = NULL, *key = NULL;

	if (name_check(name, strlen(name), &nfc, &key) != ERR_OK)
		fail_msg("'%s' refused: %s", name, err_detail());
	assert_string_equal(nfc, want_nfc);
	assert_non_null(key);
	free(nfc);
	free(key);
}

static char *key_of(const char *name)
{
	char *nfc = NULL, *key = NULL;

	if (name_check(name, strlen(name), &nfc, &key) != ERR_OK)
		fail_msg("'%s' refused: %s", name, err_detail());
	free(nfc);
	return key;
}

static void ordinary_names_pass(void **state)
{
	(void)state;
	accepted("report.pdf", "report.pdf");
	accepted("D5.2 final (v3).docx", "D5.2 final (v3).docx");
	accepted(".hidden", ".hidden");
	accepted(" leading space", " leading space");
	accepted("a\\b:c*d?e", "a\\b:c*d?e"); /* only the listed rules apply */
	accepted("Ärger über Öl", "Ärger über Öl");
	accepted("日本語の文書", "日本語の文書");
	accepted("emoji 😀", "emoji 😀");
}

static void empty_and_reserved(void **state)
{
	(void)state;
	refused("", 0, "empty");
	refused(".", 1, "reserved");
	refused("..", 2, "reserved");
}

static void slash_nul_and_controls(void **state)
{
	(void)state;
	refused("a/b", 3, "'/'");
	refused("/", 1, "'/'");
	refused("a\0b", 3, "NUL");
	refused("\0", 1, "NUL");
	refused("a\nb", 3, "control character (U+000A)");
	refused("tab\there", 8, "control character (U+0009)");
	refused("del\x7f", 4, "control character (U+007F)");
	refused("c1\xc2\x85", 4, "control character (U+0085)");
	refused("esc\x1b[31m", 8, "control character (U+001B)");
}

static void bidi_overrides_refused(void **state)
{
	(void)state;
	/* "invoice<RLO>fdp.exe" displays as "invoiceexe.pdf" */
	refused("invoice\xe2\x80\xae"
		"fdp.exe",
		17, "bidirectional");
	refused("a\xe2\x81\xa6"
		"b",
		5, "bidirectional"); /* U+2066 */
}

static void trailing_dot_or_space(void **state)
{
	(void)state;
	refused("report.", 7, "ends with a dot");
	refused("report ", 7, "ends with a space");
	refused("...", 3, "ends with a dot");
	refused("a. ", 3, "ends with a space");
}

static void invalid_utf8(void **state)
{
	(void)state;
	refused("\xff", 1, "not valid UTF-8");
	refused("a\xc0\xaf"
		"b",
		4, "not valid UTF-8");                     /* overlong '/' */
	refused("\xed\xa0\x80", 3, "not valid UTF-8");     /* surrogate */
	refused("euro\xe2\x82", 6, "not valid UTF-8");     /* truncated */
	refused("\xf4\x90\x80\x80", 4, "not valid UTF-8"); /* > U+10FFFF */
	refused("\x80"
		"abc",
		4, "not valid UTF-8");
}

static void length_limit_after_nfc(void **state)
{
	char name[1200];

	(void)state;
	memset(name, 'a', 255);
	name[255] = '\0';
	accepted(name, name);
	memset(name, 'a', 256);
	refused(name, 256, "longer than 255 bytes");
	memset(name, 'x', 300);
	refused(name, 300, "longer than 255 bytes");
	memset(name, 'x', 1100);
	refused(name, 1100, "longer than 255 bytes");
	/* 100 x "e" + U+0301 is 300 bytes in NFD but 200 in NFC: allowed,
	 * since the rule is about the stored (NFC) name. */
	for (int i = 0; i < 100; i++)
		memcpy(name + 3 * i, "e\xcc\x81", 3);
	name[300] = '\0';
	{
		char *nfc = NULL;

		assert_int_equal(name_check(name, 300, &nfc, NULL), ERR_OK);
		assert_int_equal(strlen(nfc), 200);
		free(nfc);
	}
	/* 128 x U+00E9 (2 bytes each) = 256 bytes: refused */
	for (int i = 0; i < 128; i++)
		memcpy(name + 2 * i, "\xc3\xa9", 2);
	refused(name, 256, "longer than 255 bytes");
}

static void nfc_normalisation(void **state)
{
	(void)state;
	/* NFD e + combining acute becomes U+00E9 */
	accepted("caf\x65\xcc\x81.txt", "caf\xc3\xa9.txt");
	/* Hangul jamo compose */
	accepted("\xe1\x84\x92\xe1\x85\xa1\xe1\x86\xab", "\xed\x95\x9c");
}

static void keys_fold_case_and_normalisation(void **state)
{
	char *a, *b;

	(void)state;
	a = key_of("Report.PDF");
	b = key_of("report.pdf");
	assert_string_equal(a, b);
	free(a);
	free(b);
	/* NFC vs NFD "é", and upper case "É" */
	a = key_of("caf\xc3\xa9");
	b = key_of("CAF\x45\xcc\x81");
	assert_string_equal(a, b);
	free(a);
	free(b);
	/* full case folding: ß clashes with SS */
	a = key_of("Stra\xc3\x9f"
		   "e");
	b = key_of("STRASSE");
	assert_string_equal(a, b);
	free(a);
	free(b);
	/* different names keep different keys */
	a = key_of("report-1");
	b = key_of("report-2");
	assert_string_not_equal(a, b);
	free(a);
	free(b);
	/* U+0130 folds to "i" + U+0307: the key stays NFC and valid */
	a = key_of("\xc4\xb0stanbul");
	assert_string_equal(a, "i\xcc\x87stanbul");
	free(a);
}

static void url_paths_decode(void **state)
{
	struct name_path p;
	char *joined;

	(void)state;
	assert_int_equal(name_path_from_url("Reports/D5.2%20final.pdf", 24, &p), ERR_OK);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.names[0], "Reports");
	assert_string_equal(p.names[1], "D5.2 final.pdf");
	joined = name_path_join(&p);
	assert_string_equal(joined, "Reports/D5.2 final.pdf");
	free(joined);
	name_path_free(&p);
	assert_int_equal(p.n, 0);

	/* trailing slash, percent-encoded UTF-8 (NFD) */
	assert_int_equal(name_path_from_url("a/caf%65%CC%81/", 15, &p), ERR_OK);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.names[1], "caf\xc3\xa9");
	name_path_free(&p);

	/* the root */
	assert_int_equal(name_path_from_url("", 0, &p), ERR_OK);
	assert_int_equal(p.n, 0);
	joined = name_path_join(&p);
	assert_string_equal(joined, "");
	free(joined);
	/* issue 13: a leading '/' is an empty name in a URL ("content//a.txt") */
	assert_int_equal(name_path_from_url("/", 1, &p), ERR_INVALID);
	assert_int_equal(name_path_from_url("/a.txt", 6, &p), ERR_INVALID);
	assert_non_null(strstr(err_detail(), "empty name"));
	assert_int_equal(p.n, 0);
	/* a text path may still start with one '/', not two */
	assert_int_equal(name_path_from_text("/a/b.txt", &p), ERR_OK);
	assert_int_equal(p.n, 2);
	name_path_free(&p);
	assert_int_equal(name_path_from_text("//a", &p), ERR_INVALID);
}

/* issue 13: names that look like other names */
static void refused_s(const char *name, const char *rule) { refused(name, strlen(name), rule); }

static void accepted_s(const char *name) { accepted(name, name); }

static void invisible_and_bidi_refused(void **state)
{
	(void)state;
	refused_s("Rep\u200Bort.pdf", "invisible character (U+200B)");
	refused_s("Rep\u200Cort.pdf", "invisible");
	refused_s("Rep\u200Dort.pdf", "invisible");
	refused_s("a\u200Eb.pdf", "bidirectional control character (U+200E)");
	refused_s("a\u200Fb.pdf", "bidirectional");
	refused_s("a\u061Cb.pdf", "bidirectional control character (U+061C)");
	refused_s("a\u202Ab", "bidirectional");
	refused_s("a\u2069b", "bidirectional");
	refused_s("Re\u00ADport.pdf", "invisible character (U+00AD)");
	refused_s("\uFEFFreport.pdf", "invisible character (U+FEFF)");
	refused_s("a\u2060b", "invisible");
	refused_s("a\u2028b", "invisible");
	refused_s("flag\U000E0067.txt", "invisible");
	refused_s("x\uFFFF.txt", "invisible");
	refused_s("\uFE0F", "no visible character");
	/* shown escaped in the detail */
	refused_s("Rep\u200Bort.pdf", "Rep\\u{200B}ort.pdf");
	/* variation selectors after a visible character stay allowed */
	accepted_s("notes \u2764\uFE0F.txt");
}

static void slash_alikes_refused(void **state)
{
	(void)state;
	refused_s("Reports\u2044D5.pdf", "U+2044, which looks like '/'");
	refused_s("Reports\u2215D5.pdf", "U+2215, which looks like '/'");
	refused_s("Reports\u29F8D5.pdf", "looks like '/'");
	refused_s("Reports\uFF0FD5.pdf", "looks like '/'");
	refused_s("\uFF0E\uFF0E", "looks like '..'");
	refused_s("\uFF0E", "looks like '.'");
	/* fullwidth dots elsewhere are only a clash concern */
	accepted_s("report\uFF0Epdf");
	accepted_s("\uFF0Ehidden");
}

static void windows_reserved_refused(void **state)
{
	static const char *const names[] = {
		"CON",         "con",    "Con.txt",   "nul.txt",  "NUL.tar.gz", "prn",
		"aux.doc",     "COM1",   "com9.log",  "LPT1",     "lpt9.txt",   "COM\u00B9",
		"lpt\u00B3.x", "CONIN$", "conout$.x", "nul .txt",
	};

	(void)state;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		refused_s(names[i], "reserved on Windows");
	refused_s("nul.txt", "device name nul");
	refused_s("report.", "ends with a dot (Windows drops it");
	refused_s("report ", "ends with a space");
	accepted_s("CONSORT.txt");
	accepted_s("console");
	accepted_s("COM10");
	accepted_s("LPT0.txt");
	accepted_s("nul-report.txt");
	accepted_s("AUX2.pdf");
	accepted_s(".con");
}

static void look_alike_keys(void **state)
{
	static const char *const same[][2] = {
		{"report.pdf", "\uFF52\uFF45\uFF50\uFF4F\uFF52\uFF54.pdf"},
		{"report.pdf", "report\uFF0Epdf"},
		{"file.txt", "\uFB01le.txt"},
		{"Report.PDF", "report.pdf"},
		{"x2.txt", "x\u00B2.txt"},
	};
	char *a, *b;

	(void)state;
	for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
		assert_int_equal(name_look_key(same[i][0], &a), ERR_OK);
		assert_int_equal(name_look_key(same[i][1], &b), ERR_OK);
		if (strcmp(a, b))
			fail_msg("'%s' and '%s' have different look-alike keys", same[i][0],
				 same[i][1]);
		free(a);
		free(b);
	}
	assert_int_equal(name_look_key("report.pdf", &a), ERR_OK);
	assert_int_equal(name_look_key("rapport.pdf", &b), ERR_OK);
	assert_string_not_equal(a, b);
	free(a);
	free(b);
}

/* name_check with no place for the NFC name (the WebDAV listing wants
 * only the key): this crashed before issue 13. */
static void key_without_nfc(void **state)
{
	char *key = NULL;

	(void)state;
	assert_int_equal(name_check("Report.pdf", 10, NULL, &key), ERR_OK);
	assert_string_equal(key, "report.pdf");
	free(key);
}

static void url_paths_hostile(void **state)
{
	static const struct {
		const char *raw;
		const char *rule;
	} cases[] = {
		{"%2e%2e", "reserved"},
		{"%2E%2E/etc/passwd", "reserved"},
		{"a/%2e%2e/b", "reserved"},
		{"a/../b", "reserved"},
		{"..", "reserved"},
		{"%2e", "reserved"},
		{"a%2Fb", "encoded '/'"},
		{"a%2fb/c", "encoded '/'"},
		{"a%00b", "NUL"},
		{"a%0Ab", "control character"},
		{"a//b", "empty name"},
		{"%", "percent-escape"},
		{"a%4", "percent-escape"},
		{"a%zz", "percent-escape"},
		{"a%4g", "percent-escape"},
		{"%C0%AF", "not valid UTF-8"},
		{"a/b.", "ends with a dot"},
		{"a%20", "ends with a space"},
		{"%E2%80%AEexe.pdf", "bidirectional"},
	};
	struct name_path p;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		err_clear();
		if (name_path_from_url(cases[i].raw, strlen(cases[i].raw), &p) != ERR_INVALID)
			fail_msg("'%s' was accepted", cases[i].raw);
		assert_int_equal(p.n, 0);
		assert_null(p.names);
		if (!strstr(err_detail(), cases[i].rule))
			fail_msg("'%s': detail '%s' does not mention '%s'", cases[i].raw,
				 err_detail(), cases[i].rule);
	}
}

static void url_path_depth_cap(void **state)
{
	char raw[400];
	size_t o = 0;
	struct name_path p;

	(void)state;
	for (int i = 0; i < NAME_MAX_DEPTH; i++)
		o += (size_t)snprintf(raw + o, sizeof raw - o, "%sd", i ? "/" : "");
	assert_int_equal(name_path_from_url(raw, o, &p), ERR_OK);
	assert_int_equal(p.n, NAME_MAX_DEPTH);
	name_path_free(&p);
	o += (size_t)snprintf(raw + o, sizeof raw - o, "/d");
	assert_int_equal(name_path_from_url(raw, o, &p), ERR_INVALID);
	assert_non_null(strstr(err_detail(), "deeper than"));
}

static void text_paths_do_not_decode(void **state)
{
	struct name_path p;

	(void)state;
	assert_int_equal(name_path_from_text("a/b%20c", &p), ERR_OK);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.names[1], "b%20c");
	name_path_free(&p);
	assert_int_equal(name_path_from_text("a/../b", &p), ERR_INVALID);
	assert_int_equal(name_path_from_text("a/./b", &p), ERR_INVALID);
	assert_int_equal(name_path_from_text("/a/b/", &p), ERR_OK);
	assert_int_equal(p.n, 2);
	name_path_free(&p);
}

static void utf8_validity_helper(void **state)
{
	(void)state;
	assert_true(name_utf8_valid("", 0));
	assert_true(name_utf8_valid("caf\xc3\xa9", 5));
	assert_false(name_utf8_valid("a\0b", 3));
	assert_false(name_utf8_valid("\xc3", 1));
	assert_false(name_utf8_valid("\xed\xa0\x80", 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ordinary_names_pass),
		cmocka_unit_test(empty_and_reserved),
		cmocka_unit_test(slash_nul_and_controls),
		cmocka_unit_test(bidi_overrides_refused),
		cmocka_unit_test(trailing_dot_or_space),
		cmocka_unit_test(invalid_utf8),
		cmocka_unit_test(length_limit_after_nfc),
		cmocka_unit_test(nfc_normalisation),
		cmocka_unit_test(keys_fold_case_and_normalisation),
		cmocka_unit_test(url_paths_decode),
		cmocka_unit_test(url_paths_hostile),
		cmocka_unit_test(invisible_and_bidi_refused),
		cmocka_unit_test(slash_alikes_refused),
		cmocka_unit_test(windows_reserved_refused),
		cmocka_unit_test(look_alike_keys),
		cmocka_unit_test(key_without_nfc),
		cmocka_unit_test(url_path_depth_cap),
		cmocka_unit_test(text_paths_do_not_decode),
		cmocka_unit_test(utf8_validity_helper),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
