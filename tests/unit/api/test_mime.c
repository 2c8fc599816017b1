/* Unit tests for server/api/mime.c: types come from the bytes, and what is
 * served back never renders active content. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "api/mime.h"

static void test_detect(void **state)
{
	static const char pdf[] = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n";
	static const char html[] = "<!DOCTYPE html><html><body><script>x()</script></body></html>";
	static const unsigned char png[] = {
		0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I',  'H',  'D',  'R', 0,
		0,    0,   1,   0,   0,    0,    1,    8,    6, 0, 0, 0,  0x1f, 0x15, 0xc4, 0x89};
	char out[MIME_MAX + 1];

	(void)state;
	mime_detect(pdf, sizeof pdf - 1, out);
	assert_string_equal(out, "application/pdf");
	mime_detect(html, sizeof html - 1, out);
	assert_string_equal(out, "text/html");
	mime_detect(png, sizeof png, out);
	assert_string_equal(out, "image/png");
	mime_detect("plain words\n", 12, out);
	assert_string_equal(out, "text/plain");
	/* Nothing to go on: opaque bytes, never libmagic's pseudo-types. */
	mime_detect("", 0, out);
	assert_string_equal(out, "application/octet-stream");
	mime_detect(NULL, 0, out);
	assert_string_equal(out, "application/octet-stream");
}

static void test_for_download(void **state)
{
	(void)state;
	assert_string_equal(mime_for_download("application/pdf"), "application/pdf");
	assert_string_equal(mime_for_download("image/png"), "image/png");
	assert_string_equal(mime_for_download("TEXT/PLAIN"), "text/plain");
	assert_string_equal(mime_for_download("text/html"), "application/octet-stream");
	assert_string_equal(mime_for_download("image/svg+xml"), "application/octet-stream");
	assert_string_equal(mime_for_download("application/xhtml+xml"), "application/octet-stream");
	assert_string_equal(mime_for_download("text/xml"), "application/octet-stream");
	assert_string_equal(mime_for_download("application/javascript"),
			    "application/octet-stream");
	assert_string_equal(mime_for_download("text/x-shellscript"), "application/octet-stream");
	assert_string_equal(mime_for_download("application/x-made-up"), "application/octet-stream");
	assert_string_equal(mime_for_download(NULL), "application/octet-stream");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_for_download),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
