/*
 * extract — plain text and metadata out of a document file.
 *
 * Runs only inside the extraction helper process (see exworker.h),
 * never in the server: documents are hostile input, and whatever a
 * parser does with them costs at most the helper.
 *
 * The format comes from the content (libmagic), refined by looking into
 * zip containers and by the file name for Markdown and CSV. Supported:
 * PDF (pdftotext, run as a limited child), DOCX, XLSX, PPTX (body,
 * headers, footers, notes, shared strings), ODT, ODS, ODP, HTML (scripts
 * and styles dropped), Markdown, plain text and CSV (encoding detected
 * with ICU and converted to UTF-8). Anything else yields no text, which
 * is not an error: the document is still found by its name.
 *
 * Every size is capped: the text kept, the bytes read, the bytes an
 * archive expands to and its number of members. Past a text cap the
 * result is truncated (status EXTRACT_TRUNCATED with the reason); past
 * an archive cap it fails.
 */
#ifndef CONSORT_EXTRACT_H
#define CONSORT_EXTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct extract_limits {
	uint64_t max_text;     /* bytes of UTF-8 text kept */
	uint64_t max_expanded; /* bytes an archive may expand to, all members */
	unsigned max_members;  /* entries an archive may have */
	unsigned cpu_seconds;  /* per document (helper and its children) */
	unsigned wall_seconds; /* per document, enforced by the parent */
	uint64_t max_memory;   /* address space of the helper, bytes */
	const char *pdftotext; /* program to run for PDF */
};

void extract_limits_default(struct extract_limits *lim);

enum extract_status { EXTRACT_OK = 0, EXTRACT_TRUNCATED = 1, EXTRACT_FAILED = 2 };

/* The index_state word for a status: indexed, truncated, failed. */
const char *extract_status_name(enum extract_status s);

struct extract_result {
	enum extract_status status;
	char reason[256]; /* why truncated or failed; "" when OK */
	char mime[128];   /* detected MIME type */
	char type[16];    /* pdf docx xlsx pptx odt ods odp html md csv txt other */
	char *title;      /* properties, else first heading; may be "" */
	char *author;
	int64_t created; /* Unix seconds, 0 unknown */
	int pages;       /* 0 unknown */
	char lang[8];    /* ISO 639-1 or "" */
	char *text;      /* valid UTF-8, NUL-terminated; \f ends a page */
	size_t text_len;
};

/* The server types every upload by libmagic on its first 64 KiB
 * (server/api/mime.h): content no longer than this was seen whole, and
 * its verdict stands even when it is application/octet-stream. */
#define EXTRACT_TYPED_WHOLE (64 * 1024)

/* Extract the file at `path`; `name` is the document's file name (for
 * the extension and nothing else). `mime` is the content's MIME type
 * when it is already known (the server stored what libmagic said at
 * upload); NULL or "" ask libmagic here, and so does
 * application/octet-stream for content longer than EXTRACT_TYPED_WHOLE
 * (libmagic saw only its head). Always fills `res` (the
 * caller frees it with extract_result_free) and returns ERR_OK unless
 * memory for the result itself ran out: a document that cannot be read
 * is a result with status EXTRACT_FAILED, not an error. */
enum err extract_file(const char *path, const char *name, const char *mime,
		      const struct extract_limits *lim, struct extract_result *res);

void extract_result_free(struct extract_result *res);

/* True when extract_file would find no text in `size` bytes of this
 * type and name without reading them (pictures, archives, content the
 * server found nothing in): the indexer then needs no copy of the
 * content and no helper, and extract_nothing gives the result
 * extract_file would. */
bool extract_textless(const char *mime, const char *name, uint64_t size);
enum err extract_nothing(const char *mime, const struct extract_limits *lim,
			 struct extract_result *res);

/* Short type for a MIME type and file name, as extract_file decides it
 * without looking into zip containers. */
const char *extract_type_for(const char *mime, const char *name);

#endif
