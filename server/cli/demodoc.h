/*
 * demodoc — real documents for the demo consortium, written in memory:
 * Markdown, plain text, CSV, HTML, PDF, DOCX, ODT and XLSX, from one
 * description (title, author, sections, an optional table). They are
 * what an office suite or a PDF viewer opens, and what text extraction
 * reads: valid containers (zip with content types and manifests, a PDF
 * with a correct cross-reference table), kept minimal.
 *
 * All text is UTF-8 in and out, except PDF, whose standard fonts know
 * only Latin-1 (WinAnsi): other characters become '?'.
 *
 * Zip containers are written with the "stored" method (no compression):
 * the demo's documents are small, and this keeps the writer a page long.
 */
#ifndef CONSORT_DEMODOC_H
#define CONSORT_DEMODOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum demodoc_format {
	DEMODOC_MD,
	DEMODOC_TXT,
	DEMODOC_CSV, /* the table only */
	DEMODOC_HTML,
	DEMODOC_PDF,
	DEMODOC_DOCX,
	DEMODOC_ODT,
	DEMODOC_XLSX, /* the table only, one sheet */
	DEMODOC__COUNT
};

struct demodoc_section {
	const char *heading;
	const char *text; /* paragraphs separated by '\n' */
};

#define DEMODOC_MAX_SECTIONS 12
#define DEMODOC_MAX_ROWS 64
#define DEMODOC_MAX_COLS 8

struct demodoc {
	const char *title;
	const char *author;
	const char *date; /* "2026-03-14" */
	size_t nsections;
	struct demodoc_section sections[DEMODOC_MAX_SECTIONS];
	size_t nrows, ncols; /* table; row 0 is the header */
	const char *cells[DEMODOC_MAX_ROWS][DEMODOC_MAX_COLS];
};

/* A growing byte buffer. */
struct demodoc_buf {
	unsigned char *data;
	size_t len, cap;
};

void demodoc_buf_free(struct demodoc_buf *b);

/* File name extension (".md") and MIME type of a format. */
const char *demodoc_ext(enum demodoc_format f);
const char *demodoc_mime(enum demodoc_format f);

/* Write `d` as format `f` into `out` (which must be empty, zeroed).
 * ERR_NOMEM; ERR_INVALID for a table format without a table. On
 * failure out is freed. */
enum err demodoc_render(const struct demodoc *d, enum demodoc_format f, struct demodoc_buf *out);

/* CRC-32 (IEEE 802.3) of `len` bytes, continuing from `crc` (0 to start). */
uint32_t demodoc_crc32(uint32_t crc, const void *data, size_t len);

#endif
