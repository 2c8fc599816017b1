/*
 * xap — the only door to Xapian: a thin C interface over the C++ API
 * (xap.cc), so the rest of consort stays C.
 *
 * Every Xapian exception is caught inside the shim and returned as an
 * enum err with the exception's message as the detail. Handles are
 * opaque and never shared between threads: the indexer thread owns the
 * one writer, each worker thread owns one reader.
 *
 * The index lives in DATA/index/: `current` is a symlink to the
 * generation directory in use (gen-N). Readers resolve the link before
 * each search and reopen when it points elsewhere, which is how a
 * rebuilt index (consort reindex) reaches a running server.
 *
 * What a document carries (so that queries, facets and the permission
 * filter all happen inside Xapian):
 *   terms   unprefixed body words with positions, S title words (with
 *           positions, boosted), Z stems of both in the document's
 *           language, A author words, N file-name words;
 *           boolean Q<node> (unique id), XW<wp id> (permission filter),
 *           XP<wp code>, XT<type>, XS<status>, XD<deliverable>,
 *           XA<author>, XN<ancestor folder>, L<language>
 *   values  the date (YYYYMMDD and a sortable number), size, wp id and
 *           type (for facets), and the version + metadata fingerprint
 *   data    a JSON object describing the hit, then a NUL, then the
 *           first XAP_SNIPPET_SOURCE bytes of text, used for snippets
 */
#ifndef CONSORT_XAP_H
#define CONSORT_XAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "err.h"

/* How much extracted text each document keeps for snippets. */
#define XAP_SNIPPET_SOURCE (64 * 1024)
/* Caps on what a query may ask for. */
#define XAP_MAX_LIMIT 100
#define XAP_MAX_OFFSET 10000
#define XAP_MAX_QUERY 1024
/* Wildcards expand to at most this many terms (the most frequent). */
#define XAP_WILDCARD_EXPANSION 100
/* A query may hold at most this many wildcards: each one is an OR of up
 * to XAP_WILDCARD_EXPANSION terms, per stemming language, and 300 of
 * them took seconds on a tiny index. */
#define XAP_MAX_WILDCARDS 8

struct xap_writer;
struct xap_reader;

/* One document as the indexer hands it over. Strings are UTF-8; NULL
 * and "" mean absent. `text` need not be NUL-terminated. */
struct xap_doc {
	int64_t node_id;
	int64_t version; /* version number */
	int64_t wp_id;
	const char *wp_code;
	const char *path;       /* inside the WP, no leading slash */
	const char *name;       /* file name */
	const int64_t *folders; /* ancestor folder node ids */
	size_t nfolders;
	const char *title;
	const char *author;   /* from the document's properties */
	const char *uploader; /* display name of who uploaded the version */
	const char *type;     /* short type: pdf, docx, ..., other */
	const char *mime;
	const char *status; /* draft, review, final */
	const char *deliverable;
	const char *language; /* ISO 639-1, "" when unknown */
	int64_t date;         /* upload time of the version, Unix seconds */
	int64_t created;      /* from the document's properties, 0 unknown */
	int64_t size;
	int pages;
	const char *index_status; /* indexed, truncated, failed */
	const char *reason;
	const char *fingerprint; /* metadata fingerprint, see xap_writer_lookup */
	const char *text;
	size_t text_len;
};

/* --- writer ------------------------------------------------------------- */

/* Open (creating if needed) the Xapian database in directory `dir`. On
 * success *out owns the writer (xap_writer_close). ERR_LOCKED when
 * another writer holds it. */
enum err xap_writer_open(const char *dir, struct xap_writer **out);

/* What the index already holds for a node, so the indexer can skip work
 * it has done: found is false when the node has no document. Strings
 * are malloc'd (caller frees with xap_existing_clear). */
struct xap_existing {
	bool found;
	int64_t version;
	char *fingerprint;
	char *index_status;
	char *reason;
	char *language;
};
enum err xap_writer_lookup(struct xap_writer *w, int64_t node_id, struct xap_existing *out);
void xap_existing_clear(struct xap_existing *e);

/* Add or replace the node's document (by its unique id term). */
enum err xap_writer_put(struct xap_writer *w, const struct xap_doc *doc);

/* Replace only what metadata decides (path, name, WP, status,
 * deliverable, folders; the title when it came from the file name) and
 * keep the indexed text of the same version: a rename must not extract
 * again. `doc->text` is ignored. ERR_NOTFOUND when the node has no
 * document. */
enum err xap_writer_update_meta(struct xap_writer *w, const struct xap_doc *doc);

/* Remove the node's document; not an error when there is none. */
enum err xap_writer_delete(struct xap_writer *w, int64_t node_id);

/* Node ids of the documents indexed below folder `folder_id`, or of
 * every document when folder_id < 0. *ids is malloc'd (may be NULL when
 * *n is 0). */
enum err xap_writer_under(struct xap_writer *w, int64_t folder_id, int64_t **ids, size_t *n);

/* Make every change so far durable and visible to readers. */
enum err xap_writer_commit(struct xap_writer *w);

uint64_t xap_writer_doccount(struct xap_writer *w);

/* Closes without committing what was not committed. Accepts NULL. */
void xap_writer_close(struct xap_writer *w);

/* --- reader ------------------------------------------------------------- */

/* A reader of the index that the symlink `link` (DATA/index/current)
 * points at. Opening is lazy: a missing index searches as empty. */
enum err xap_reader_new(const char *link, struct xap_reader **out);
void xap_reader_free(struct xap_reader *r);

struct xap_query {
	const char *q;      /* the user's query text */
	const int64_t *wps; /* work packages the caller may read: the  */
	size_t nwps;        /*   permission filter; none → no results */
	const char *type;   /* optional type filter ("pdf") */
	unsigned offset, limit;
	unsigned snippet_len; /* characters, 0: 200 */
};

struct xap_facet {
	char *value;
	uint64_t count;
};

struct xap_hit {
	int64_t node_id;
	int64_t wp_id;
	int percent;
	char *meta;    /* the JSON object stored at indexing time */
	char *snippet; /* HTML-escaped; matches wrapped in <mark>…</mark> */
	int page;      /* page of the snippet's first match; 0 unknown */
};

struct xap_result {
	uint64_t total;
	bool total_exact;
	struct xap_hit *hits;
	size_t nhits;
	struct xap_facet *wp_facets; /* value: wp id in decimal */
	size_t nwp_facets;
	struct xap_facet *type_facets;
	size_t ntype_facets;
	char *suggestion; /* NULL unless nothing matched */
};

/* Run a search. A query the parser refuses gives ERR_INVALID with the
 * parser's message. On success *out is owned by the caller
 * (xap_result_free). */
enum err xap_search(struct xap_reader *r, const struct xap_query *q, struct xap_result **out);
void xap_result_free(struct xap_result *res);

/* Xapian's version string, for logs. */
const char *xap_version(void);

#ifdef __cplusplus
}
#endif

#endif
