/* Unit tests for server/cli/demodoc.c: every format is produced, containers
 * are well formed (zip entries with matching CRCs and a central
 * directory that points at them; a PDF whose xref offsets point at its
 * objects), and text survives escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/demodoc.h"

static void sample(struct demodoc *d)
{
	memset(d, 0, sizeof *d);
	d->title = "D5.2 Access to treatment: <survey> & \"results\"";
	d->author = "Zoë Müller-Łukasiewicz";
	d->date = "2026-03-14";
	d->nsections = 2;
	d->sections[0].heading = "Summary";
	d->sections[0].text =
		"First paragraph (with parentheses) and a backslash \\.\nSecond paragraph.";
	d->sections[1].heading = "Method";
	d->sections[1].text = "We asked 17 countries, a, b | c.";
	d->nrows = 3;
	d->ncols = 3;
	d->cells[0][0] = "Country";
	d->cells[0][1] = "Centres";
	d->cells[0][2] = "Note";
	d->cells[1][0] = "AT";
	d->cells[1][1] = "12";
	d->cells[1][2] = "says \"yes\", mostly";
	d->cells[2][0] = "PT";
	d->cells[2][1] = "7.5";
	d->cells[2][2] = "";
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t rd16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* Walk the central directory; check each entry's local header and CRC.
 * Returns the number of entries; *first gets the first name. */
static size_t check_zip(const struct demodoc_buf *b, char *first, size_t cap, const char *need)
{
	const unsigned char *d = b->data;
	size_t eocd = b->len - 22, n, at;
	bool found = need == NULL;

	assert_true(b->len > 22);
	assert_int_equal(rd32(d + eocd), 0x06054b50);
	n = rd16(d + eocd + 10);
	at = rd32(d + eocd + 16);
	assert_int_equal(rd32(d + eocd + 12), eocd - at);
	for (size_t i = 0; i < n; i++) {
		uint32_t crc = rd32(d + at + 16), size = rd32(d + at + 20), off = rd32(d + at + 42);
		uint16_t nlen = rd16(d + at + 28);
		const unsigned char *local = d + off;

		assert_int_equal(rd32(d + at), 0x02014b50);
		assert_int_equal(rd32(local), 0x04034b50);
		assert_int_equal(rd16(local + 8), 0); /* stored */
		assert_int_equal(rd16(local + 26), nlen);
		assert_memory_equal(local + 30, d + at + 46, nlen);
		assert_int_equal(demodoc_crc32(0, local + 30 + nlen, size), crc);
		if (i == 0)
			snprintf(first, cap, "%.*s", (int)nlen, (const char *)local + 30);
		if (need && nlen == strlen(need) && !memcmp(local + 30, need, nlen))
			found = true;
		at += 46 + nlen;
	}
	assert_true(found);
	return n;
}

static bool contains(const struct demodoc_buf *b, const char *s)
{
	return memmem(b->data, b->len, s, strlen(s)) != NULL;
}

static void crc32_known_value(void **state)
{
	(void)state;
	assert_int_equal(demodoc_crc32(0, "123456789", 9), 0xcbf43926);
	assert_int_equal(demodoc_crc32(demodoc_crc32(0, "1234", 4), "56789", 5), 0xcbf43926);
}

static void text_formats(void **state)
{
	struct demodoc d;
	struct demodoc_buf b = {0};

	(void)state;
	sample(&d);
	assert_int_equal(demodoc_render(&d, DEMODOC_MD, &b), ERR_OK);
	assert_true(contains(&b, "# D5.2 Access to treatment"));
	assert_true(contains(&b, "| Country | Centres | Note |\n|---|---|---|\n"));
	assert_true(contains(&b, "a, b | c."));
	demodoc_buf_free(&b);
	assert_int_equal(demodoc_render(&d, DEMODOC_CSV, &b), ERR_OK);
	assert_int_equal(
		b.len,
		strlen("Country,Centres,Note\r\nAT,12,\"says \"\"yes\"\", mostly\"\r\nPT,7.5,\r\n"));
	assert_memory_equal(
		b.data, "Country,Centres,Note\r\nAT,12,\"says \"\"yes\"\", mostly\"\r\nPT,7.5,\r\n",
		b.len);
	demodoc_buf_free(&b);
	assert_int_equal(demodoc_render(&d, DEMODOC_HTML, &b), ERR_OK);
	assert_true(contains(
		&b,
		"<title>D5.2 Access to treatment: &lt;survey&gt; &amp; &quot;results&quot;</title>"));
	assert_true(contains(&b, "<td>says &quot;yes&quot;, mostly</td>"));
	demodoc_buf_free(&b);
	assert_int_equal(demodoc_render(&d, DEMODOC_TXT, &b), ERR_OK);
	assert_true(contains(&b, "Summary\n-------\n"));
	demodoc_buf_free(&b);
	/* table formats need a table */
	d.nrows = 0;
	assert_int_equal(demodoc_render(&d, DEMODOC_CSV, &b), ERR_INVALID);
	assert_int_equal(demodoc_render(&d, DEMODOC_XLSX, &b), ERR_INVALID);
	assert_null(b.data);
}

static void zip_formats(void **state)
{
	struct demodoc d;
	struct demodoc_buf b = {0};
	char first[64];

	(void)state;
	sample(&d);
	assert_int_equal(demodoc_render(&d, DEMODOC_DOCX, &b), ERR_OK);
	assert_int_equal(check_zip(&b, first, sizeof first, "word/document.xml"), 4);
	assert_string_equal(first, "[Content_Types].xml");
	assert_true(contains(&b, "&lt;survey&gt; &amp; &quot;results&quot;"));
	assert_true(contains(&b, "Zoë Müller-Łukasiewicz"));
	demodoc_buf_free(&b);

	assert_int_equal(demodoc_render(&d, DEMODOC_ODT, &b), ERR_OK);
	assert_int_equal(check_zip(&b, first, sizeof first, "content.xml"), 4);
	/* the ODF signature: "mimetype" first, stored, at offset 30 + 8 */
	assert_string_equal(first, "mimetype");
	assert_memory_equal(b.data + 38, "application/vnd.oasis.opendocument.text", 39);
	demodoc_buf_free(&b);

	assert_int_equal(demodoc_render(&d, DEMODOC_XLSX, &b), ERR_OK);
	assert_int_equal(check_zip(&b, first, sizeof first, "xl/worksheets/sheet1.xml"), 6);
	assert_true(contains(&b, "<c r=\"B2\"><v>12</v></c>"));
	assert_true(contains(&b, "<c r=\"B1\" t=\"inlineStr\"><is><t>Centres</t></is></c>"));
	demodoc_buf_free(&b);
}

static void pdf_xref_points_at_objects(void **state)
{
	struct demodoc d;
	struct demodoc_buf b = {0};
	char *text, *x, *sx;
	size_t n, xref;
	static char big[20000];

	(void)state;
	sample(&d);
	/* long enough for three pages */
	for (size_t i = 0; i + 1 < sizeof big; i++)
		big[i] = i % 700 == 699 ? '\n' : "lorem ipsum "[i % 12];
	d.sections[1].text = big;
	assert_int_equal(demodoc_render(&d, DEMODOC_PDF, &b), ERR_OK);
	text = malloc(b.len + 1);
	memcpy(text, b.data, b.len);
	text[b.len] = '\0';
	assert_memory_equal(text, "%PDF-1.4\n", 9);
	sx = strstr(text, "startxref\n");
	assert_non_null(sx);
	xref = strtoul(sx + 10, NULL, 10);
	assert_memory_equal(text + xref, "xref\n0 ", 7);
	n = strtoul(text + xref + 7, &x, 10);
	assert_true(n > 8);           /* 5 fixed objects and two per page */
	x = strchr(x, '\n') + 1 + 20; /* past the free entry */
	for (size_t i = 1; i < n; i++) {
		char want[32];
		size_t off = strtoul(x + 20 * (i - 1), NULL, 10);

		snprintf(want, sizeof want, "%zu 0 obj\n", i);
		assert_memory_equal(text + off, want, strlen(want));
	}
	/* Latin-1 in, the rest as '?', and string syntax escaped */
	{
		static const char want[] = "(Zo\xeb M\xfcller-?ukasiewicz, 2026-03-14)";

		assert_non_null(memmem(b.data, b.len, want, sizeof want - 1));
	}
	assert_non_null(strstr(text, "\\(with parentheses\\) and a backslash \\\\."));
	{
		/* as many pages as the page tree counts, and more than one */
		size_t pages = 0;
		char want[32];

		for (const char *q = text; (q = strstr(q, "/Type /Page ")); q++)
			pages++;
		assert_true(pages > 1);
		snprintf(want, sizeof want, "/Count %zu ", pages);
		assert_non_null(strstr(text, want));
	}
	free(text);
	demodoc_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crc32_known_value),
		cmocka_unit_test(text_formats),
		cmocka_unit_test(zip_formats),
		cmocka_unit_test(pdf_xref_points_at_objects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
