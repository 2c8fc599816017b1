/* demodoc — see demodoc.h. */
#include "cli/demodoc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- buffer ---------------------------------------------------------------------- */

struct out {
	struct demodoc_buf *b;
	bool failed;
};

void demodoc_buf_free(struct demodoc_buf *b)
{
	if (!b)
		return;
	free(b->data);
	memset(b, 0, sizeof *b);
}

static void put(struct out *o, const void *p, size_t n)
{
	struct demodoc_buf *b = o->b;

	if (o->failed)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		unsigned char *grown;

		while (cap < b->len + n)
			cap *= 2;
		grown = realloc(b->data, cap);
		if (!grown) {
			o->failed = true;
			return;
		}
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void puts_(struct out *o, const char *s) { put(o, s, strlen(s)); }

static void putf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct out *o, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof buf) {
		o->failed = true; /* only short fixed texts go through here */
		return;
	}
	put(o, buf, (size_t)n);
}

/* Text for XML and HTML: the five special characters escaped. */
static void put_xml(struct out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '&': puts_(o, "&amp;"); break;
		case '<': puts_(o, "&lt;"); break;
		case '>': puts_(o, "&gt;"); break;
		case '"': puts_(o, "&quot;"); break;
		case '\'': puts_(o, "&apos;"); break;
		default: put(o, &s[i], 1);
		}
	}
}

static void xml(struct out *o, const char *s) { put_xml(o, s, strlen(s)); }

/* Paragraphs of a text, one per '\n'-separated line:
 *   for (struct para pa = {text}; next_para(&pa);) use pa.s, pa.n */
struct para {
	const char *rest;
	const char *s;
	size_t n;
};

static bool next_para(struct para *pa)
{
	if (!pa->rest || !*pa->rest)
		return false;
	pa->s = pa->rest;
	pa->n = strcspn(pa->rest, "\n");
	pa->rest += pa->n;
	if (*pa->rest)
		pa->rest++;
	return true;
}

static void le16(struct out *o, uint16_t v)
{
	unsigned char b[2] = {(unsigned char)v, (unsigned char)(v >> 8)};

	put(o, b, 2);
}

static void le32(struct out *o, uint32_t v)
{
	unsigned char b[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
			      (unsigned char)(v >> 24)};

	put(o, b, 4);
}

/* --- CRC-32 and zip ---------------------------------------------------------------- */

uint32_t demodoc_crc32(uint32_t crc, const void *data, size_t len)
{
	static uint32_t table[256];
	static bool ready;
	const unsigned char *p = data;

	/* Built on first use; the demo runs single-threaded. */
	if (!ready) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
		ready = true;
	}
	crc = ~crc;
	for (size_t i = 0; i < len; i++)
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

#define ZIP_MAX 12
/* 2026-01-01 00:00 in MS-DOS form: the date documents carry. */
#define DOS_DATE (((2026 - 1980) << 9) | (1 << 5) | 1)
#define DOS_TIME 0

struct zip {
	struct out *o;
	size_t n;
	struct {
		const char *name;
		uint32_t crc, size, offset;
	} e[ZIP_MAX];
};

static void zip_add(struct zip *z, const char *name, const struct demodoc_buf *data)
{
	struct out *o = z->o;
	uint32_t crc = demodoc_crc32(0, data->data, data->len);

	if (z->n == ZIP_MAX) {
		o->failed = true;
		return;
	}
	z->e[z->n].name = name;
	z->e[z->n].crc = crc;
	z->e[z->n].size = (uint32_t)data->len;
	z->e[z->n].offset = (uint32_t)o->b->len;
	z->n++;
	le32(o, 0x04034b50); /* local file header */
	le16(o, 20);         /* version needed: 2.0 */
	le16(o, 0);          /* flags */
	le16(o, 0);          /* method: stored */
	le16(o, DOS_TIME);
	le16(o, DOS_DATE);
	le32(o, crc);
	le32(o, (uint32_t)data->len);
	le32(o, (uint32_t)data->len);
	le16(o, (uint16_t)strlen(name));
	le16(o, 0);
	puts_(o, name);
	put(o, data->data, data->len);
}

static void zip_finish(struct zip *z)
{
	struct out *o = z->o;
	uint32_t start = (uint32_t)o->b->len, size;

	for (size_t i = 0; i < z->n; i++) {
		le32(o, 0x02014b50); /* central directory entry */
		le16(o, 20);         /* made by */
		le16(o, 20);         /* needed */
		le16(o, 0);
		le16(o, 0);
		le16(o, DOS_TIME);
		le16(o, DOS_DATE);
		le32(o, z->e[i].crc);
		le32(o, z->e[i].size);
		le32(o, z->e[i].size);
		le16(o, (uint16_t)strlen(z->e[i].name));
		le16(o, 0); /* extra */
		le16(o, 0); /* comment */
		le16(o, 0); /* disk */
		le16(o, 0); /* internal attributes */
		le32(o, 0); /* external attributes */
		le32(o, z->e[i].offset);
		puts_(o, z->e[i].name);
	}
	size = (uint32_t)o->b->len - start;
	le32(o, 0x06054b50); /* end of central directory */
	le16(o, 0);
	le16(o, 0);
	le16(o, (uint16_t)z->n);
	le16(o, (uint16_t)z->n);
	le32(o, size);
	le32(o, start);
	le16(o, 0);
}

/* Parts are built in their own buffers, then stored. */
struct parts {
	struct demodoc_buf b[ZIP_MAX];
	size_t n;
};

static struct out part(struct parts *p)
{
	struct out o = {&p->b[p->n++], false};

	return o;
}

static void parts_free(struct parts *p)
{
	for (size_t i = 0; i < p->n; i++)
		demodoc_buf_free(&p->b[i]);
}

/* --- text formats ------------------------------------------------------------------ */

static bool looks_numeric(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (!*p)
		return false;
	for (; *p; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '.'))
			return false;
	return true;
}

static void render_md(const struct demodoc *d, struct out *o)
{
	putf(o, "# ");
	puts_(o, d->title);
	puts_(o, "\n\n_");
	puts_(o, d->author);
	puts_(o, ", ");
	puts_(o, d->date);
	puts_(o, "_\n");
	for (size_t i = 0; i < d->nsections; i++) {
		puts_(o, "\n## ");
		puts_(o, d->sections[i].heading);
		puts_(o, "\n");
		for (struct para pa = {d->sections[i].text, NULL, 0}; next_para(&pa);) {
			puts_(o, "\n");
			put(o, pa.s, pa.n);
			puts_(o, "\n");
		}
	}
	if (d->nrows) {
		puts_(o, "\n");
		for (size_t r = 0; r < d->nrows; r++) {
			puts_(o, "|");
			for (size_t c = 0; c < d->ncols; c++) {
				const char *s = d->cells[r][c] ? d->cells[r][c] : "";

				puts_(o, " ");
				for (; *s; s++)
					if (*s == '|')
						puts_(o, "\\|");
					else
						put(o, s, 1);
				puts_(o, " |");
			}
			puts_(o, "\n");
			if (r == 0) {
				puts_(o, "|");
				for (size_t c = 0; c < d->ncols; c++)
					puts_(o, "---|");
				puts_(o, "\n");
			}
		}
	}
}

static void underline(struct out *o, const char *s, char ch)
{
	size_t chars = 0;

	/* One mark per character, not per byte of UTF-8. */
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p & 0xc0) != 0x80)
			chars++;
	for (size_t i = 0; i < chars; i++)
		put(o, &ch, 1);
	puts_(o, "\n");
}

static void render_txt(const struct demodoc *d, struct out *o)
{
	puts_(o, d->title);
	puts_(o, "\n");
	underline(o, d->title, '=');
	puts_(o, d->author);
	puts_(o, ", ");
	puts_(o, d->date);
	puts_(o, "\n");
	for (size_t i = 0; i < d->nsections; i++) {
		puts_(o, "\n");
		puts_(o, d->sections[i].heading);
		puts_(o, "\n");
		underline(o, d->sections[i].heading, '-');
		for (struct para pa = {d->sections[i].text, NULL, 0}; next_para(&pa);) {
			put(o, pa.s, pa.n);
			puts_(o, "\n\n");
		}
	}
	for (size_t r = 0; r < d->nrows; r++) {
		for (size_t c = 0; c < d->ncols; c++) {
			if (c)
				puts_(o, "\t");
			puts_(o, d->cells[r][c] ? d->cells[r][c] : "");
		}
		puts_(o, "\n");
	}
}

static void render_csv(const struct demodoc *d, struct out *o)
{
	for (size_t r = 0; r < d->nrows; r++) {
		for (size_t c = 0; c < d->ncols; c++) {
			const char *s = d->cells[r][c] ? d->cells[r][c] : "";

			if (c)
				puts_(o, ",");
			if (strpbrk(s, ",\"\r\n")) {
				puts_(o, "\"");
				for (; *s; s++)
					if (*s == '"')
						puts_(o, "\"\"");
					else
						put(o, s, 1);
				puts_(o, "\"");
			} else {
				puts_(o, s);
			}
		}
		puts_(o, "\r\n");
	}
}

static void render_html(const struct demodoc *d, struct out *o)
{
	puts_(o, "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
	xml(o, d->title);
	puts_(o, "</title>\n<meta name=\"author\" content=\"");
	xml(o, d->author);
	puts_(o,
	      "\">\n<style>body{font-family:sans-serif;max-width:48em;margin:2em auto}"
	      "table{border-collapse:collapse}td,th{border:1px solid #888;padding:.2em .5em}</style>\n"
	      "</head>\n<body>\n<h1>");
	xml(o, d->title);
	puts_(o, "</h1>\n<p><em>");
	xml(o, d->author);
	puts_(o, ", ");
	xml(o, d->date);
	puts_(o, "</em></p>\n");
	for (size_t i = 0; i < d->nsections; i++) {
		puts_(o, "<h2>");
		xml(o, d->sections[i].heading);
		puts_(o, "</h2>\n");
		for (struct para pa = {d->sections[i].text, NULL, 0}; next_para(&pa);) {
			puts_(o, "<p>");
			put_xml(o, pa.s, pa.n);
			puts_(o, "</p>\n");
		}
	}
	if (d->nrows) {
		puts_(o, "<table>\n");
		for (size_t r = 0; r < d->nrows; r++) {
			puts_(o, "<tr>");
			for (size_t c = 0; c < d->ncols; c++) {
				puts_(o, r ? "<td>" : "<th>");
				xml(o, d->cells[r][c] ? d->cells[r][c] : "");
				puts_(o, r ? "</td>" : "</th>");
			}
			puts_(o, "</tr>\n");
		}
		puts_(o, "</table>\n");
	}
	puts_(o, "</body>\n</html>\n");
}

/* --- PDF ------------------------------------------------------------------------------ */

#define PDF_MAX_LINES 4096
#define PDF_LINES_PER_PAGE 54
#define PDF_WRAP 92 /* characters per line at 10 pt Helvetica on A4 */

struct pdf_line {
	char text[PDF_WRAP * 2 + 1]; /* Latin-1 */
	bool bold;
	bool gap; /* an empty line */
};

/* UTF-8 to Latin-1; characters outside it become '?'. */
static size_t latin1(const char *s, size_t n, char *out, size_t cap)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k + 1 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x80) {
			out[k++] = (char)c;
		} else if ((c & 0xe0) == 0xc0 && i + 1 < n) {
			unsigned cp = ((c & 0x1fu) << 6) | ((unsigned char)s[i + 1] & 0x3fu);

			out[k++] = cp <= 0xff ? (char)cp : '?';
			i++;
		} else {
			while (i + 1 < n && ((unsigned char)s[i + 1] & 0xc0) == 0x80)
				i++;
			out[k++] = '?';
		}
	}
	out[k] = '\0';
	return k;
}

/* Word-wrap Latin-1 `text` into lines. */
static void pdf_wrap(struct pdf_line *lines, size_t *nl, const char *utf8, size_t n, bool bold)
{
	char text[8192];
	size_t len = latin1(utf8, n, text, sizeof text), at = 0;

	while (at < len && *nl < PDF_MAX_LINES) {
		size_t take = len - at;

		if (take > PDF_WRAP) {
			take = PDF_WRAP;
			while (take > 0 && text[at + take] != ' ')
				take--;
			if (take == 0)
				take = PDF_WRAP;
		}
		memset(&lines[*nl], 0, sizeof lines[*nl]);
		memcpy(lines[*nl].text, text + at, take);
		lines[*nl].bold = bold;
		(*nl)++;
		at += take;
		while (at < len && text[at] == ' ')
			at++;
	}
}

static void pdf_gap(struct pdf_line *lines, size_t *nl)
{
	if (*nl < PDF_MAX_LINES) {
		memset(&lines[*nl], 0, sizeof lines[*nl]);
		lines[(*nl)++].gap = true;
	}
}

static void pdf_string(struct out *o, const char *latin)
{
	puts_(o, "(");
	for (const char *p = latin; *p; p++) {
		if (*p == '(' || *p == ')' || *p == '\\')
			puts_(o, "\\");
		put(o, p, 1);
	}
	puts_(o, ")");
}

static void render_pdf(const struct demodoc *d, struct out *o)
{
	struct pdf_line *lines = calloc(PDF_MAX_LINES, sizeof *lines);
	size_t nl = 0, npages, nobj, *offsets;
	char meta[512];

	if (!lines) {
		o->failed = true;
		return;
	}
	pdf_wrap(lines, &nl, d->title, strlen(d->title), true);
	snprintf(meta, sizeof meta, "%s, %s", d->author, d->date);
	pdf_wrap(lines, &nl, meta, strlen(meta), false);
	for (size_t i = 0; i < d->nsections; i++) {
		pdf_gap(lines, &nl);
		pdf_wrap(lines, &nl, d->sections[i].heading, strlen(d->sections[i].heading), true);
		for (struct para pa = {d->sections[i].text, NULL, 0}; next_para(&pa);) {
			pdf_wrap(lines, &nl, pa.s, pa.n, false);
			pdf_gap(lines, &nl);
		}
	}
	for (size_t r = 0; r < d->nrows; r++) {
		char row[1024];
		size_t len = 0;

		for (size_t c = 0; c < d->ncols && len < sizeof row; c++)
			len += (size_t)snprintf(row + len, sizeof row - len, "%s%s", c ? " | " : "",
						d->cells[r][c] ? d->cells[r][c] : "");
		if (len >= sizeof row)
			len = sizeof row - 1;
		pdf_wrap(lines, &nl, row, len, r == 0);
	}
	npages = (nl + PDF_LINES_PER_PAGE - 1) / PDF_LINES_PER_PAGE;
	if (npages == 0)
		npages = 1;
	/* 1 catalog, 2 pages, 3 Helvetica, 4 Helvetica-Bold, 5 info, then a
	 * page and its content stream for each page. */
	nobj = 5 + 2 * npages;
	offsets = calloc(nobj + 1, sizeof *offsets);
	if (!offsets) {
		free(lines);
		o->failed = true;
		return;
	}
	puts_(o, "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n");
	offsets[1] = o->b->len;
	puts_(o, "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
	offsets[2] = o->b->len;
	putf(o, "2 0 obj\n<< /Type /Pages /Count %zu /Kids [", npages);
	for (size_t i = 0; i < npages; i++)
		putf(o, " %zu 0 R", 6 + 2 * i);
	puts_(o, " ] >>\nendobj\n");
	offsets[3] = o->b->len;
	puts_(o, "3 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
		 "/Encoding /WinAnsiEncoding >>\nendobj\n");
	offsets[4] = o->b->len;
	puts_(o, "4 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold "
		 "/Encoding /WinAnsiEncoding >>\nendobj\n");
	offsets[5] = o->b->len;
	{
		char t[1024];

		puts_(o, "5 0 obj\n<< /Title ");
		latin1(d->title, strlen(d->title), t, sizeof t);
		pdf_string(o, t);
		puts_(o, " /Author ");
		latin1(d->author, strlen(d->author), t, sizeof t);
		pdf_string(o, t);
		puts_(o, " /Producer (consort demo) >>\nendobj\n");
	}
	for (size_t pg = 0; pg < npages; pg++) {
		struct demodoc_buf sb = {0};
		struct out s = {&sb, false};
		size_t first = pg * PDF_LINES_PER_PAGE;
		size_t last = first + PDF_LINES_PER_PAGE < nl ? first + PDF_LINES_PER_PAGE : nl;
		bool bold = false;

		puts_(&s, "BT\n/F1 10 Tf\n13 TL\n56 786 Td\n");
		for (size_t i = first; i < last; i++) {
			if (lines[i].bold != bold) {
				puts_(&s, lines[i].bold ? "/F2 10 Tf\n" : "/F1 10 Tf\n");
				bold = lines[i].bold;
			}
			if (!lines[i].gap) {
				pdf_string(&s, lines[i].text);
				puts_(&s, " Tj\n");
			}
			puts_(&s, "T*\n");
		}
		putf(&s, "ET\nBT /F1 8 Tf 290 30 Td (%zu / %zu) Tj ET\n", pg + 1, npages);
		if (s.failed)
			o->failed = true;
		offsets[6 + 2 * pg] = o->b->len;
		putf(o,
		     "%zu 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
		     "/Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents %zu 0 R >>\nendobj\n",
		     6 + 2 * pg, 7 + 2 * pg);
		offsets[7 + 2 * pg] = o->b->len;
		putf(o, "%zu 0 obj\n<< /Length %zu >>\nstream\n", 7 + 2 * pg, sb.len);
		if (sb.len)
			put(o, sb.data, sb.len);
		puts_(o, "\nendstream\nendobj\n");
		demodoc_buf_free(&sb);
	}
	{
		size_t xref = o->b->len;

		putf(o, "xref\n0 %zu\n0000000000 65535 f \n", nobj + 1);
		for (size_t i = 1; i <= nobj; i++)
			putf(o, "%010zu 00000 n \n", offsets[i]);
		putf(o,
		     "trailer\n<< /Size %zu /Root 1 0 R /Info 5 0 R >>\nstartxref\n%zu\n%%%%EOF\n",
		     nobj + 1, xref);
	}
	free(offsets);
	free(lines);
}

/* --- DOCX ------------------------------------------------------------------------------ */

#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
#define OOXML_CT "http://schemas.openxmlformats.org/package/2006/content-types"
#define OOXML_REL "http://schemas.openxmlformats.org/package/2006/relationships"
#define OOXML_DOCREL "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

static void ooxml_core(const struct demodoc *d, struct out *o)
{
	puts_(o, XML_DECL
	      "<cp:coreProperties "
	      "xmlns:cp=\"http://schemas.openxmlformats.org/package/2006/metadata/core-properties\" "
	      "xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:dcterms=\"http://purl.org/dc/terms/\" "
	      "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><dc:title>");
	xml(o, d->title);
	puts_(o, "</dc:title><dc:creator>");
	xml(o, d->author);
	puts_(o, "</dc:creator><dcterms:created xsi:type=\"dcterms:W3CDTF\">");
	xml(o, d->date);
	puts_(o, "T09:00:00Z</dcterms:created></cp:coreProperties>");
}

static void docx_para(struct out *o, const char *text, size_t n, bool bold, unsigned size)
{
	puts_(o, "<w:p><w:r>");
	if (bold || size)
		putf(o, "<w:rPr>%s<w:sz w:val=\"%u\"/></w:rPr>", bold ? "<w:b/>" : "",
		     size ? size : 22);
	puts_(o, "<w:t xml:space=\"preserve\">");
	put_xml(o, text, n);
	puts_(o, "</w:t></w:r></w:p>");
}

static void render_docx(const struct demodoc *d, struct out *o)
{
	struct parts ps = {0};
	struct zip z = {.o = o};
	struct out ct = part(&ps), rels = part(&ps), core = part(&ps), doc = part(&ps);
	char meta[512];

	puts_(&ct, XML_DECL
	      "<Types xmlns=\"" OOXML_CT "\">"
	      "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
	      "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
	      "<Override PartName=\"/word/document.xml\" ContentType=\"application/"
	      "vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>"
	      "<Override PartName=\"/docProps/core.xml\" ContentType=\"application/"
	      "vnd.openxmlformats-package.core-properties+xml\"/></Types>");
	puts_(&rels,
	      XML_DECL "<Relationships xmlns=\"" OOXML_REL "\">"
		       "<Relationship Id=\"rId1\" Type=\"" OOXML_DOCREL "/officeDocument\" "
		       "Target=\"word/document.xml\"/>"
		       "<Relationship Id=\"rId2\" Type=\"" OOXML_REL "/metadata/core-properties\" "
		       "Target=\"docProps/core.xml\"/></Relationships>");
	ooxml_core(d, &core);
	puts_(&doc, XML_DECL "<w:document xmlns:w=\"http://schemas.openxmlformats.org/"
			     "wordprocessingml/2006/main\"><w:body>");
	docx_para(&doc, d->title, strlen(d->title), true, 36);
	snprintf(meta, sizeof meta, "%s, %s", d->author, d->date);
	docx_para(&doc, meta, strlen(meta), false, 0);
	for (size_t i = 0; i < d->nsections; i++) {
		docx_para(&doc, d->sections[i].heading, strlen(d->sections[i].heading), true, 28);
		for (struct para pa = {d->sections[i].text, NULL, 0}; next_para(&pa);)
			docx_para(&doc, pa.s, pa.n, false, 0);
	}
	if (d->nrows) {
		puts_(&doc,
		      "<w:tbl><w:tblPr><w:tblW w:w=\"0\" w:type=\"auto\"/><w:tblBorders>"
		      "<w:top w:val=\"single\" w:sz=\"4\"/><w:left w:val=\"single\" w:sz=\"4\"/>"
		      "<w:bottom w:val=\"single\" w:sz=\"4\"/><w:right w:val=\"single\" w:sz=\"4\"/>"
		      "<w:insideH w:val=\"single\" w:sz=\"4\"/><w:insideV w:val=\"single\" w:sz=\"4\"/>"
		      "</w:tblBorders></w:tblPr><w:tblGrid>");
		for (size_t c = 0; c < d->ncols; c++)
			puts_(&doc, "<w:gridCol w:w=\"2000\"/>");
		puts_(&doc, "</w:tblGrid>");
		for (size_t r = 0; r < d->nrows; r++) {
			puts_(&doc, "<w:tr>");
			for (size_t c = 0; c < d->ncols; c++) {
				const char *s = d->cells[r][c] ? d->cells[r][c] : "";

				puts_(&doc,
				      "<w:tc><w:tcPr><w:tcW w:w=\"2000\" w:type=\"dxa\"/></w:tcPr>");
				docx_para(&doc, s, strlen(s), r == 0, 0);
				puts_(&doc, "</w:tc>");
			}
			puts_(&doc, "</w:tr>");
		}
		puts_(&doc, "</w:tbl><w:p/>");
	}
	puts_(&doc,
	      "<w:sectPr><w:pgSz w:w=\"11906\" w:h=\"16838\"/></w:sectPr></w:body></w:document>");
	if (ct.failed || rels.failed || core.failed || doc.failed)
		o->failed = true;
	zip_add(&z, "[Content_Types].xml", ct.b);
	zip_add(&z, "_rels/.rels", rels.b);
	zip_add(&z, "docProps/core.xml", core.b);
	zip_add(&z, "word/document.xml", doc.b);
	zip_finish(&z);
	parts_free(&ps);
}

/* --- ODT ------------------------------------------------------------------------------- */

#define ODF_OFFICE "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
#define ODT_MIME "application/vnd.oasis.opendocument.text"

static void render_odt(const struct demodoc *d, struct out *o)
{
	struct parts ps = {0};
	struct zip z = {.o = o};
	struct out mt = part(&ps), man = part(&ps), meta = part(&ps), con = part(&ps);

	/* First and stored, so that `file` and office suites recognise the
	 * type from the first bytes (ODF 1.2 part 3, 3.3). */
	puts_(&mt, ODT_MIME);
	puts_(&man, XML_DECL
	      "<manifest:manifest xmlns:manifest=\"urn:oasis:names:tc:opendocument:"
	      "xmlns:manifest:1.0\" manifest:version=\"1.2\">"
	      "<manifest:file-entry manifest:full-path=\"/\" manifest:version=\"1.2\" "
	      "manifest:media-type=\"" ODT_MIME "\"/>"
	      "<manifest:file-entry manifest:full-path=\"content.xml\" manifest:media-type=\"text/xml\"/>"
	      "<manifest:file-entry manifest:full-path=\"meta.xml\" manifest:media-type=\"text/xml\"/>"
	      "</manifest:manifest>");
	puts_(&meta,
	      XML_DECL "<office:document-meta xmlns:office=\"" ODF_OFFICE "\" "
		       "xmlns:meta=\"urn:oasis:names:tc:opendocument:xmlns:meta:1.0\" "
		       "xmlns:dc=\"http://purl.org/dc/elements/1.1/\" office:version=\"1.2\">"
		       "<office:meta><dc:title>");
	xml(&meta, d->title);
	puts_(&meta, "</dc:title><dc:creator>");
	xml(&meta, d->author);
	puts_(&meta, "</dc:creator><meta:creation-date>");
	xml(&meta, d->date);
	puts_(&meta, "T09:00:00</meta:creation-date></office:meta></office:document-meta>");
	puts_(&con, XML_DECL "<office:document-content xmlns:office=\"" ODF_OFFICE "\" "
			     "xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\" "
			     "xmlns:table=\"urn:oasis:names:tc:opendocument:xmlns:table:1.0\" "
			     "office:version=\"1.2\"><office:body><office:text>"
			     "<text:h text:outline-level=\"1\">");
	xml(&con, d->title);
	puts_(&con, "</text:h><text:p>");
	xml(&con, d->author);
	puts_(&con, ", ");
	xml(&con, d->date);
	puts_(&con, "</text:p>");
	for (size_t i = 0; i < d->nsections; i++) {
		puts_(&con, "<text:h text:outline-level=\"2\">");
		xml(&con, d->sections[i].heading);
		puts_(&con, "</text:h>");
		for (struct para pa = {d->sections[i].text, NULL, 0}; next_para(&pa);) {
			puts_(&con, "<text:p>");
			put_xml(&con, pa.s, pa.n);
			puts_(&con, "</text:p>");
		}
	}
	if (d->nrows) {
		putf(&con,
		     "<table:table table:name=\"Table1\"><table:table-column "
		     "table:number-columns-repeated=\"%zu\"/>",
		     d->ncols);
		for (size_t r = 0; r < d->nrows; r++) {
			puts_(&con, "<table:table-row>");
			for (size_t c = 0; c < d->ncols; c++) {
				puts_(&con,
				      "<table:table-cell office:value-type=\"string\"><text:p>");
				xml(&con, d->cells[r][c] ? d->cells[r][c] : "");
				puts_(&con, "</text:p></table:table-cell>");
			}
			puts_(&con, "</table:table-row>");
		}
		puts_(&con, "</table:table>");
	}
	puts_(&con, "</office:text></office:body></office:document-content>");
	if (mt.failed || man.failed || meta.failed || con.failed)
		o->failed = true;
	zip_add(&z, "mimetype", mt.b);
	zip_add(&z, "META-INF/manifest.xml", man.b);
	zip_add(&z, "meta.xml", meta.b);
	zip_add(&z, "content.xml", con.b);
	zip_finish(&z);
	parts_free(&ps);
}

/* --- XLSX ------------------------------------------------------------------------------ */

static void render_xlsx(const struct demodoc *d, struct out *o)
{
	struct parts ps = {0};
	struct zip z = {.o = o};
	struct out ct = part(&ps), rels = part(&ps), core = part(&ps), wb = part(&ps),
		   wbrels = part(&ps), sheet = part(&ps);

	puts_(&ct, XML_DECL
	      "<Types xmlns=\"" OOXML_CT "\">"
	      "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
	      "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
	      "<Override PartName=\"/xl/workbook.xml\" ContentType=\"application/"
	      "vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>"
	      "<Override PartName=\"/xl/worksheets/sheet1.xml\" ContentType=\"application/"
	      "vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>"
	      "<Override PartName=\"/docProps/core.xml\" ContentType=\"application/"
	      "vnd.openxmlformats-package.core-properties+xml\"/></Types>");
	puts_(&rels,
	      XML_DECL "<Relationships xmlns=\"" OOXML_REL "\">"
		       "<Relationship Id=\"rId1\" Type=\"" OOXML_DOCREL "/officeDocument\" "
		       "Target=\"xl/workbook.xml\"/>"
		       "<Relationship Id=\"rId2\" Type=\"" OOXML_REL "/metadata/core-properties\" "
		       "Target=\"docProps/core.xml\"/></Relationships>");
	ooxml_core(d, &core);
	puts_(&wb, XML_DECL
	      "<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "
	      "xmlns:r=\"" OOXML_DOCREL "\"><sheets>"
	      "<sheet name=\"Data\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>");
	puts_(&wbrels, XML_DECL "<Relationships xmlns=\"" OOXML_REL "\">"
				"<Relationship Id=\"rId1\" Type=\"" OOXML_DOCREL "/worksheet\" "
				"Target=\"worksheets/sheet1.xml\"/></Relationships>");
	puts_(&sheet, XML_DECL
	      "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">"
	      "<sheetData>");
	for (size_t r = 0; r < d->nrows; r++) {
		putf(&sheet, "<row r=\"%zu\">", r + 1);
		for (size_t c = 0; c < d->ncols; c++) {
			const char *s = d->cells[r][c] ? d->cells[r][c] : "";

			if (r > 0 && looks_numeric(s)) {
				putf(&sheet, "<c r=\"%c%zu\"><v>", (char)('A' + c), r + 1);
				xml(&sheet, s);
				puts_(&sheet, "</v></c>");
			} else {
				putf(&sheet, "<c r=\"%c%zu\" t=\"inlineStr\"><is><t>",
				     (char)('A' + c), r + 1);
				xml(&sheet, s);
				puts_(&sheet, "</t></is></c>");
			}
		}
		puts_(&sheet, "</row>");
	}
	puts_(&sheet, "</sheetData></worksheet>");
	if (ct.failed || rels.failed || core.failed || wb.failed || wbrels.failed || sheet.failed)
		o->failed = true;
	zip_add(&z, "[Content_Types].xml", ct.b);
	zip_add(&z, "_rels/.rels", rels.b);
	zip_add(&z, "docProps/core.xml", core.b);
	zip_add(&z, "xl/workbook.xml", wb.b);
	zip_add(&z, "xl/_rels/workbook.xml.rels", wbrels.b);
	zip_add(&z, "xl/worksheets/sheet1.xml", sheet.b);
	zip_finish(&z);
	parts_free(&ps);
}

/* --- the table of formats ------------------------------------------------------------ */

static const struct {
	const char *ext, *mime;
	void (*render)(const struct demodoc *d, struct out *o);
	bool table_only;
} formats[DEMODOC__COUNT] = {
	[DEMODOC_MD] = {".md", "text/markdown", render_md, false},
	[DEMODOC_TXT] = {".txt", "text/plain", render_txt, false},
	[DEMODOC_CSV] = {".csv", "text/csv", render_csv, true},
	[DEMODOC_HTML] = {".html", "text/html", render_html, false},
	[DEMODOC_PDF] = {".pdf", "application/pdf", render_pdf, false},
	[DEMODOC_DOCX] = {".docx",
			  "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
			  render_docx, false},
	[DEMODOC_ODT] = {".odt", ODT_MIME, render_odt, false},
	[DEMODOC_XLSX] = {".xlsx",
			  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
			  render_xlsx, true},
};

const char *demodoc_ext(enum demodoc_format f)
{
	return (unsigned)f < DEMODOC__COUNT ? formats[f].ext : "";
}

const char *demodoc_mime(enum demodoc_format f)
{
	return (unsigned)f < DEMODOC__COUNT ? formats[f].mime : "application/octet-stream";
}

enum err demodoc_render(const struct demodoc *d, enum demodoc_format f, struct demodoc_buf *out)
{
	struct out o = {out, false};

	if ((unsigned)f >= DEMODOC__COUNT)
		return err_set(ERR_INVALID, "no such document format");
	if (formats[f].table_only && (d->nrows == 0 || d->ncols == 0))
		return err_set(ERR_INVALID, "%s needs a table", formats[f].ext);
	if (d->nrows > DEMODOC_MAX_ROWS || d->ncols > DEMODOC_MAX_COLS ||
	    d->nsections > DEMODOC_MAX_SECTIONS)
		return err_set(ERR_INVALID, "document too large for the demo generator");
	formats[f].render(d, &o);
	if (o.failed) {
		demodoc_buf_free(out);
		return err_set(ERR_NOMEM, "out of memory writing a %s document", formats[f].ext);
	}
	return ERR_OK;
}
