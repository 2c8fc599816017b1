/* Unit tests for search/extract.c: every format from small real files,
 * metadata, encodings and limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <zip.h>

#include "docgen.h"
#include "extract.h"

static char dir[256];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/consort-test-extract-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

static const struct docgen doc = {
	.title = "Guidelines on Germline Testing",
	.author = "Jane Doe",
	.heading = "Introduction heading",
	.body = "First paragraph about oncogenetics & <tags> and the results of the study.\n"
		"Second paragraph mentions zeppelin, which is in the report that was written for this.",
	.header = "Confidential headerword",
	.footer = "Page footerword",
	.notes = "Speaker notesword here",
};

static void run(const char *name, struct extract_result *res)
{
	char path[400];
	struct extract_limits lim;

	extract_limits_default(&lim);
	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_int_equal(extract_file(path, name, NULL, &lim, res), ERR_OK);
}

static void check_common(const struct extract_result *res, const char *type)
{
	assert_string_equal(res->type, type);
	assert_int_equal(res->status, EXTRACT_OK);
	assert_non_null(strstr(res->text, "oncogenetics"));
	assert_non_null(strstr(res->text, "zeppelin"));
}

static void docx(void **state)
{
	struct extract_result res;
	char p[400];

	(void)state;
	snprintf(p, sizeof p, "%s/a.docx", dir);
	assert_int_equal(docgen_docx(p, &doc), 0);
	run("a.docx", &res);
	check_common(&res, "docx");
	assert_string_equal(
		res.mime,
		"application/vnd.openxmlformats-officedocument.wordprocessingml.document");
	assert_non_null(strstr(res.text, "headerword"));
	assert_non_null(strstr(res.text, "footerword"));
	assert_non_null(strstr(res.text, "& <tags>"));
	assert_string_equal(res.title, "Guidelines on Germline Testing");
	assert_string_equal(res.author, "Jane Doe");
	assert_int_equal(res.created, 1709287200);
	assert_string_equal(res.lang, "en");
	extract_result_free(&res);
}

static void docx_title_falls_back_to_heading(void **state)
{
	struct extract_result res;
	struct docgen d = doc;
	char p[400];

	(void)state;
	d.title = NULL;
	snprintf(p, sizeof p, "%s/h.docx", dir);
	assert_int_equal(docgen_docx(p, &d), 0);
	run("h.docx", &res);
	assert_string_equal(res.title, "Introduction heading");
	extract_result_free(&res);
}

static void xlsx(void **state)
{
	struct extract_result res;
	struct docgen d = doc;
	char p[400];

	(void)state;
	d.body = "Item;Cost\noncogenetics reagents;1200\nzeppelin rental;99.5";
	snprintf(p, sizeof p, "%s/a.xlsx", dir);
	assert_int_equal(docgen_xlsx(p, &d), 0);
	run("a.xlsx", &res);
	check_common(&res, "xlsx");
	assert_non_null(strstr(res.text, "1200"));
	assert_non_null(strstr(res.text, "Budget")); /* sheet name */
	assert_string_equal(res.title, "Guidelines on Germline Testing");
	extract_result_free(&res);
}

static void pptx(void **state)
{
	struct extract_result res;
	struct docgen d = doc;
	char p[400];

	(void)state;
	d.title = NULL;
	snprintf(p, sizeof p, "%s/a.pptx", dir);
	assert_int_equal(docgen_pptx(p, &d), 0);
	run("a.pptx", &res);
	check_common(&res, "pptx");
	assert_non_null(strstr(res.text, "notesword"));
	assert_int_equal(res.pages, 2);
	assert_string_equal(res.title, "Introduction heading");
	extract_result_free(&res);
}

static void odt_ods_odp(void **state)
{
	struct extract_result res;
	struct docgen d = doc;
	char p[400];

	(void)state;
	snprintf(p, sizeof p, "%s/a.odt", dir);
	assert_int_equal(docgen_odt(p, &doc), 0);
	run("a.odt", &res);
	check_common(&res, "odt");
	assert_non_null(strstr(res.text, "headerword"));
	assert_non_null(strstr(res.text, "footerword"));
	assert_string_equal(res.title, "Guidelines on Germline Testing");
	assert_string_equal(res.author, "Jane Doe");
	assert_true(res.created > 0);
	extract_result_free(&res);

	d.body = "Item;Cost\noncogenetics reagents;1200\nzeppelin rental;99";
	snprintf(p, sizeof p, "%s/a.ods", dir);
	assert_int_equal(docgen_ods(p, &d), 0);
	run("a.ods", &res);
	check_common(&res, "ods");
	extract_result_free(&res);

	snprintf(p, sizeof p, "%s/a.odp", dir);
	assert_int_equal(docgen_odp(p, &doc), 0);
	run("a.odp", &res);
	check_common(&res, "odp");
	assert_non_null(strstr(res.text, "notesword"));
	assert_int_equal(res.pages, 2);
	extract_result_free(&res);
}

static void pdf(void **state)
{
	struct extract_result res;
	struct docgen d = doc;
	char p[400];

	(void)state;
	d.body =
		"Les recommandations françaises sur la oncogenetics.\nDeuxième page: zeppelin über alles.";
	snprintf(p, sizeof p, "%s/a.pdf", dir);
	assert_int_equal(docgen_pdf(p, &d), 0);
	run("a.pdf", &res);
	check_common(&res, "pdf");
	assert_non_null(strstr(res.text, "françaises"));
	assert_string_equal(res.title, "Guidelines on Germline Testing");
	assert_string_equal(res.author, "Jane Doe");
	assert_int_equal(res.pages, 2);
	assert_int_equal(res.created, 1709287200);
	extract_result_free(&res);
}

static void html_drops_scripts_and_styles(void **state)
{
	struct extract_result res;
	char p[400];

	(void)state;
	snprintf(p, sizeof p, "%s/a.html", dir);
	assert_int_equal(docgen_html(p, &doc), 0);
	run("a.html", &res);
	check_common(&res, "html");
	assert_null(strstr(res.text, "scriptword"));
	assert_null(strstr(res.text, "stylesheetword"));
	assert_non_null(strstr(res.text, "& <tags>"));
	assert_string_equal(res.title, "Guidelines on Germline Testing");
	assert_string_equal(res.author, "Jane Doe");
	extract_result_free(&res);
}

static void markdown_csv_text(void **state)
{
	struct extract_result res;
	char p[400];
	static const char csv[] = "name;value\noncogenetics;1\nzeppelin;2\n";

	(void)state;
	snprintf(p, sizeof p, "%s/a.md", dir);
	assert_int_equal(docgen_md(p, &doc), 0);
	run("a.md", &res);
	check_common(&res, "md");
	assert_string_equal(res.title, "Introduction heading");
	assert_null(strchr(res.text, '#'));
	extract_result_free(&res);

	snprintf(p, sizeof p, "%s/a.csv", dir);
	assert_int_equal(docgen_text(p, csv, sizeof csv - 1), 0);
	run("a.csv", &res);
	check_common(&res, "csv");
	extract_result_free(&res);
}

/* libmagic says text/html for Markdown with inline HTML: it used to be
 * extracted as HTML, losing the text inside the tags and the title. */
static void markdown_and_text_with_html_inside_keep_their_kind(void **state)
{
	struct extract_result res;
	char p[400];
	static const char md[] = "# Markup heading\n\n<script>alert(\"oncogenetics\")</script>\n"
				 "<table><tr><td>zeppelin</td></tr></table>\n";

	(void)state;
	snprintf(p, sizeof p, "%s/inline.md", dir);
	assert_int_equal(docgen_text(p, md, sizeof md - 1), 0);
	run("inline.md", &res);
	assert_string_equal(res.mime, "text/html");
	check_common(&res, "md");
	assert_string_equal(res.title, "Markup heading");
	assert_non_null(strstr(res.text, "script"));
	assert_non_null(strstr(res.text, "alert("));
	extract_result_free(&res);

	snprintf(p, sizeof p, "%s/inline.txt", dir);
	assert_int_equal(docgen_text(p, md, sizeof md - 1), 0);
	run("inline.txt", &res);
	check_common(&res, "txt");
	extract_result_free(&res);

	/* Without a telling name, HTML is HTML. */
	snprintf(p, sizeof p, "%s/inline", dir);
	assert_int_equal(docgen_text(p, md, sizeof md - 1), 0);
	run("inline", &res);
	assert_string_equal(res.type, "html");
	assert_null(strstr(res.text, "alert"));
	extract_result_free(&res);
	assert_string_equal(extract_type_for("text/html", "x.HTM"), "html");
	assert_string_equal(extract_type_for("text/plain", "x.csv"), "csv");
	assert_string_equal(extract_type_for("application/pdf", "x.md"), "pdf");
}

static void latin1_text_is_converted(void **state)
{
	struct extract_result res;
	char p[400];
	/* ISO-8859-1: "Les résultats de l'étude montrent que les données ..." */
	static const char t[] =
		"Les r\xe9sultats de l'\xe9tude montrent que les donn\xe9"
		"es sont "
		"utiles pour le d\xe9pistage et que la qualit\xe9 est dans la norme.\n";

	(void)state;
	snprintf(p, sizeof p, "%s/latin1.txt", dir);
	assert_int_equal(docgen_text(p, t, sizeof t - 1), 0);
	run("latin1.txt", &res);
	assert_string_equal(res.type, "txt");
	assert_non_null(strstr(res.text, "r\xc3\xa9sultats"));
	assert_int_equal(res.status, EXTRACT_OK);
	assert_string_equal(res.lang, "fr");
	extract_result_free(&res);
}

static void invalid_utf8_is_marked_and_repaired(void **state)
{
	struct extract_result res;
	char p[400];
	char t[4000];

	(void)state;
	/* mostly UTF-8 with stray bytes */
	snprintf(t, sizeof t, "%s",
		 "na\xc3\xafve caf\xc3\xa9 words here \xff\xfe and more valid text ");
	for (int i = 0; i < 40; i++)
		strncat(t, "filler text words ", sizeof t - strlen(t) - 1);
	snprintf(p, sizeof p, "%s/bad.txt", dir);
	assert_int_equal(docgen_text(p, t, strlen(t)), 0);
	run("bad.txt", &res);
	assert_int_equal(res.status, EXTRACT_TRUNCATED);
	assert_non_null(strstr(res.reason, "invalid UTF-8"));
	assert_non_null(strstr(res.text, "\xef\xbf\xbd"));
	assert_non_null(strstr(res.text, "more valid"));
	extract_result_free(&res);
}

static void huge_text_is_truncated(void **state)
{
	struct extract_result res;
	struct extract_limits lim;
	char p[400];
	FILE *f;

	(void)state;
	snprintf(p, sizeof p, "%s/huge.txt", dir);
	f = fopen(p, "w");
	assert_non_null(f);
	for (int i = 0; i < 200000; i++)
		fputs("lorem ipsum dolor sit amet ", f);
	fclose(f);
	extract_limits_default(&lim);
	lim.max_text = 1 << 20;
	assert_int_equal(extract_file(p, "huge.txt", NULL, &lim, &res), ERR_OK);
	assert_int_equal(res.status, EXTRACT_TRUNCATED);
	assert_true(res.text_len <= lim.max_text);
	assert_non_null(strstr(res.reason, "truncated"));
	extract_result_free(&res);
}

static void zip_bombs_and_member_floods_fail(void **state)
{
	struct extract_result res;
	struct extract_limits lim;
	char p[400];

	(void)state;
	extract_limits_default(&lim);
	lim.max_expanded = 16 << 20;
	lim.max_members = 100;
	snprintf(p, sizeof p, "%s/bomb.docx", dir);
	assert_int_equal(docgen_docx_bomb(p, 64u << 20), 0);
	assert_int_equal(extract_file(p, "bomb.docx", NULL, &lim, &res), ERR_OK);
	assert_int_equal(res.status, EXTRACT_FAILED);
	assert_non_null(strstr(res.reason, "zip bomb"));
	extract_result_free(&res);

	snprintf(p, sizeof p, "%s/many.docx", dir);
	assert_int_equal(docgen_docx_members(p, 150), 0);
	assert_int_equal(extract_file(p, "many.docx", NULL, &lim, &res), ERR_OK);
	assert_int_equal(res.status, EXTRACT_FAILED);
	assert_non_null(strstr(res.reason, "members"));
	extract_result_free(&res);
}

static void broken_and_unknown_files(void **state)
{
	struct extract_result res;
	char p[400];
	static const char junk[] = "PK\x03\x04 this is not really a zip archive at all";
	static const char bin[] = "\x00\x01\x02\x03\x04\x05\x06\x07\xff\xfe\x00\x00";

	(void)state;
	snprintf(p, sizeof p, "%s/broken.docx", dir);
	assert_int_equal(docgen_text(p, junk, sizeof junk - 1), 0);
	run("broken.docx", &res);
	assert_int_equal(res.status, EXTRACT_FAILED);
	assert_true(res.reason[0] != '\0');
	extract_result_free(&res);

	snprintf(p, sizeof p, "%s/blob.bin", dir);
	assert_int_equal(docgen_text(p, bin, sizeof bin - 1), 0);
	run("blob.bin", &res);
	assert_int_equal(res.status, EXTRACT_OK);
	assert_string_equal(res.type, "other");
	assert_int_equal(res.text_len, 0);
	extract_result_free(&res);

	snprintf(p, sizeof p, "%s/broken.pdf", dir);
	assert_int_equal(docgen_text(p, "%PDF-1.4\ngarbage", 16), 0);
	run("broken.pdf", &res);
	assert_int_equal(res.status, EXTRACT_FAILED);
	assert_non_null(strstr(res.reason, "pdftotext"));
	extract_result_free(&res);
}

/* A zip at dir/name of (member, content) pairs, NULL-terminated. */
static void zip_of(const char *name, const char *const *members)
{
	char path[400];
	int zerr;
	zip_t *za;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
	assert_non_null(za);
	for (size_t i = 0; members[i]; i += 2) {
		zip_source_t *src =
			zip_source_buffer(za, members[i + 1], strlen(members[i + 1]), 0);

		assert_non_null(src);
		assert_true(zip_file_add(za, members[i], src, ZIP_FL_OVERWRITE) >= 0);
	}
	assert_int_equal(zip_close(za), 0);
}

static void lang_of(const char *name, const char *want)
{
	struct extract_result res;

	run(name, &res);
	if (strcmp(res.lang, want))
		fail_msg("%s: language '%s', want '%s' (%s)", name, res.lang, want, res.reason);
	extract_result_free(&res);
}

#define W_NS "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\""
#define ENGLISH "The results of the study show that the guidelines should be updated soon."
#define ODF_NS                                                                                     \
	"xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" "                       \
	"xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" "                           \
	"xmlns:style=\"urn:oasis:names:tc:opendocument:xmlns:style:1.0\" "                         \
	"xmlns:fo=\"urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0\" "                \
	"xmlns:dc=\"http://purl.org/dc/elements/1.1/\" "                                           \
	"xmlns:meta=\"urn:oasis:names:tc:opendocument:xmlns:meta:1.0\""
#define ODT_MIME "application/vnd.oasis.opendocument.text"

/* issue 14: the language a document declares comes first; the text
 * decides only when there is none (or "no language"). */
static void declared_language_first(void **state)
{
	static const char docx_body[] =
		"<w:document " W_NS "><w:body><w:p><w:r><w:rPr><w:lang "
		"w:val=\"sv-SE\"/></w:rPr><w:t>" ENGLISH "</w:t></w:r></w:p></w:body></w:document>";
	static const char docx_plain[] =
		"<w:document " W_NS "><w:body><w:p><w:r><w:t>"
		"Die Krebsfrüherkennungsuntersuchungen wurden in allen "
		"Partnerländern durchgeführt.</w:t></w:r></w:p></w:body></w:document>";
	static const char core_fi[] =
		"<cp:coreProperties xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/"
		"metadata/core-properties\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
		"<dc:language>fi-FI</dc:language></cp:coreProperties>";
	static const char slide_nl[] =
		"<p:sld xmlns:p=\"http://schemas.openxmlformats.org/presentationml/2006/main\" "
		"xmlns:a=\"http://schemas.openxmlformats.org/drawingml/2006/main\"><p:cSld><p:spTree>"
		"<p:sp><p:txBody><a:p><a:r><a:rPr lang=\"nl-NL\"/><a:t>" ENGLISH
		"</a:t></a:r></a:p>"
		"</p:txBody></p:sp></p:spTree></p:cSld></p:sld>";
	static const char odt_pl[] =
		"<office:document-content " ODF_NS "><office:automatic-styles><style:style "
		"style:name=\"P1\"><style:text-properties fo:language=\"pl\" fo:country=\"PL\"/>"
		"</style:style></office:automatic-styles><office:body><office:text><text:p>" ENGLISH
		"</text:p></office:text></office:body></office:document-content>";
	static const char odt_zxx[] =
		"<office:document-content " ODF_NS "><office:automatic-styles><style:style "
		"style:name=\"P1\"><style:text-properties fo:language=\"zxx\"/></style:style>"
		"</office:automatic-styles><office:body><office:text><text:p>Die "
		"Krebsfrüherkennungsuntersuchungen wurden in allen Partnerländern durchgeführt."
		"</text:p></office:text></office:body></office:document-content>";
	static const char meta_it[] = "<office:document-meta " ODF_NS "><office:meta>"
				      "<dc:language>it-IT</dc:language></office:meta>"
				      "</office:document-meta>";
	char p[400];
	FILE *f;
	struct docgen d = doc;

	(void)state;
	zip_of("sv.docx", (const char *const[]){"word/document.xml", docx_body, NULL});
	lang_of("sv.docx", "sv");
	zip_of("fi.docx", (const char *const[]){"word/document.xml", docx_body, "docProps/core.xml",
						core_fi, NULL});
	lang_of("fi.docx", "fi"); /* the document's property before a run's */
	zip_of("de.docx", (const char *const[]){"word/document.xml", docx_plain, NULL});
	lang_of("de.docx", "de"); /* none declared: identified */
	zip_of("nl.pptx", (const char *const[]){"ppt/presentation.xml", "<p/>",
						"ppt/slides/slide1.xml", slide_nl, NULL});
	lang_of("nl.pptx", "nl");
	zip_of("pl.odt", (const char *const[]){"mimetype", ODT_MIME, "content.xml", odt_pl, NULL});
	lang_of("pl.odt", "pl");
	zip_of("it.odt", (const char *const[]){"mimetype", ODT_MIME, "meta.xml", meta_it,
					       "content.xml", odt_pl, NULL});
	lang_of("it.odt", "it");
	zip_of("zxx.odt",
	       (const char *const[]){"mimetype", ODT_MIME, "content.xml", odt_zxx, NULL});
	lang_of("zxx.odt", "de");

	snprintf(p, sizeof p, "%s/fr.html", dir);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("<!doctype html><html lang=\"fr-BE\"><body><p>" ENGLISH "</p></body></html>", f);
	fclose(f);
	lang_of("fr.html", "fr");
	snprintf(p, sizeof p, "%s/es.html", dir);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("<html><head><meta http-equiv=\"Content-Language\" content=\"es\"></head><body><p>" ENGLISH
	      "</p></body></html>",
	      f);
	fclose(f);
	lang_of("es.html", "es");
	snprintf(p, sizeof p, "%s/x.html", dir);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("<html lang=\"x-klingon\"><body><p>" ENGLISH "</p></body></html>", f);
	fclose(f);
	lang_of("x.html", "en"); /* a tag it does not know: identified */

	/* PDF: the catalog's /Lang, literal or UTF-16 hex */
	snprintf(p, sizeof p, "%s/es.pdf", dir);
	assert_int_equal(docgen_pdf(p, &d), 0);
	f = fopen(p, "a");
	assert_non_null(f);
	fputs("\n9 0 obj\n<< /Type /Catalog /Lang (es-ES) >>\nendobj\n", f);
	fclose(f);
	lang_of("es.pdf", "es");
	snprintf(p, sizeof p, "%s/hu.pdf", dir);
	assert_int_equal(docgen_pdf(p, &d), 0);
	f = fopen(p, "a");
	assert_non_null(f);
	fputs("\n9 0 obj\n<< /Type /Catalog /Lang <FEFF00680075> >>\nendobj\n", f);
	fclose(f);
	lang_of("hu.pdf", "hu");
}

/* The server's verdict on content it typed whole stands, even "nothing
 * known": libmagic is not asked again (it cost a third of the CPU of a
 * burst of small uploads). Longer content was typed by its head only. */
static void octet_stream_is_trusted_when_typed_whole(void **state)
{
	struct extract_result res;
	struct extract_limits lim;
	char p[400];
	FILE *f;

	(void)state;
	extract_limits_default(&lim);
	snprintf(p, sizeof p, "%s/typed.dat", dir);
	f = fopen(p, "w");
	assert_non_null(f);
	for (int i = 0; i < 7000; i++) /* 70,000 bytes: over 64 KiB */
		fputs("zeppelin. ", f);
	fclose(f);
	assert_int_equal(extract_file(p, "typed.dat", "application/octet-stream", &lim, &res),
			 ERR_OK);
	assert_string_equal(res.mime, "text/plain");
	assert_non_null(strstr(res.text, "zeppelin"));
	extract_result_free(&res);

	assert_int_equal(truncate(p, EXTRACT_TYPED_WHOLE), 0);
	assert_int_equal(extract_file(p, "typed.dat", "application/octet-stream", &lim, &res),
			 ERR_OK);
	assert_string_equal(res.mime, "application/octet-stream");
	assert_string_equal(res.type, "other");
	assert_int_equal(res.text_len, 0);
	extract_result_free(&res);

	assert_int_equal(extract_file(p, "typed.dat", NULL, &lim, &res), ERR_OK);
	assert_string_equal(res.mime, "text/plain");
	extract_result_free(&res);
}

/* What the indexer may know without a copy of the content or the
 * helper, and the result it then records: the one extract_file gives. */
static void textless_content_needs_no_look(void **state)
{
	struct extract_result res, want;
	struct extract_limits lim;
	char p[400];
	FILE *f;

	(void)state;
	assert_true(extract_textless("image/png", "a.png", 1u << 30));
	assert_true(extract_textless("application/x-7z-compressed", "a.7z", 10));
	assert_true(extract_textless("application/octet-stream", "a.bin", EXTRACT_TYPED_WHOLE));
	assert_false(
		extract_textless("application/octet-stream", "a.bin", EXTRACT_TYPED_WHOLE + 1));
	assert_false(extract_textless("application/octet-stream", "a.docx", 100));
	assert_false(extract_textless("application/pdf", "a.pdf", 100));
	assert_false(extract_textless("text/plain", "a.bin", 100));
	assert_false(extract_textless("application/zip", "a.zip", 100));
	assert_false(extract_textless("", "a.bin", 100));
	assert_false(extract_textless(NULL, "a.bin", 100));

	extract_limits_default(&lim);
	snprintf(p, sizeof p, "%s/random.bin", dir);
	f = fopen(p, "w");
	assert_non_null(f);
	for (int i = 0; i < 4096; i++)
		fputc((i * 7919) & 0xff, f);
	fclose(f);
	assert_int_equal(extract_file(p, "random.bin", "application/octet-stream", &lim, &want),
			 ERR_OK);
	assert_int_equal(extract_nothing("application/octet-stream", &lim, &res), ERR_OK);
	assert_string_equal(res.mime, want.mime);
	assert_string_equal(res.type, want.type);
	assert_int_equal(res.status, want.status);
	assert_string_equal(res.text, want.text);
	assert_string_equal(res.title, want.title);
	assert_string_equal(res.author, want.author);
	assert_string_equal(res.lang, want.lang);
	assert_int_equal(res.pages, want.pages);
	extract_result_free(&res);
	extract_result_free(&want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(docx),
		cmocka_unit_test(declared_language_first),
		cmocka_unit_test(docx_title_falls_back_to_heading),
		cmocka_unit_test(xlsx),
		cmocka_unit_test(pptx),
		cmocka_unit_test(odt_ods_odp),
		cmocka_unit_test(pdf),
		cmocka_unit_test(html_drops_scripts_and_styles),
		cmocka_unit_test(markdown_csv_text),
		cmocka_unit_test(markdown_and_text_with_html_inside_keep_their_kind),
		cmocka_unit_test(latin1_text_is_converted),
		cmocka_unit_test(invalid_utf8_is_marked_and_repaired),
		cmocka_unit_test(huge_text_is_truncated),
		cmocka_unit_test(zip_bombs_and_member_floods_fail),
		cmocka_unit_test(broken_and_unknown_files),
		cmocka_unit_test(octet_stream_is_trusted_when_typed_whole),
		cmocka_unit_test(textless_content_needs_no_look),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
