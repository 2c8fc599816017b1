/*
 * dav — the WebDAV request parsers (RFC 4918): XML request bodies
 * (PROPFIND, PROPPATCH, LOCK) and the headers WebDAV adds (If, Depth,
 * Overwrite, Timeout). Pure functions over bytes: no HTTP, no storage,
 * so the libFuzzer driver (tests/fuzz/fuzz_dav.c) runs them alone. The
 * handlers are in h_dav.c.
 *
 * XML bodies are parsed with libxml2 under hard limits, because they are
 * hostile input: at most DAV_BODY_MAX bytes (the handler refuses more
 * before reading), no DOCTYPE at all (so no entity can be declared: no
 * "billion laughs", no external entity, no network access), at most
 * DAV_XML_MAX_DEPTH levels of elements and DAV_MAX_PROPS properties. Any
 * breach is ERR_INVALID with a detail naming it (the handler answers
 * 400) and nothing has been changed yet.
 *
 * Ownership: a parse fills a struct whose strings are malloc'd; release
 * it with the matching _free (which accepts an empty struct). On failure
 * the struct is left empty.
 */
#ifndef CONSORT_DAV_H
#define CONSORT_DAV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define DAV_NS "DAV:"
/* Properties of our own (document version, deliverable metadata). */
#define DAV_CONSORT_NS "urn:consort:dav"

#define DAV_BODY_MAX (256 * 1024) /* bytes of an XML request body */
#define DAV_XML_MAX_DEPTH 24      /* element nesting in a request body */
#define DAV_MAX_PROPS 256         /* properties named in one request */
#define DAV_IF_MAX 8192           /* bytes of an If header */
#define DAV_IF_MAX_CONDS 64       /* conditions in an If header */

/* Depth header: 0, 1 or infinity. */
#define DAV_DEPTH_INFINITY (-1)

/* A property name: namespace URI ("" for none) and local name. */
struct dav_pname {
	char *ns;
	char *name;
};

enum dav_propfind_kind {
	DAV_PROPFIND_ALLPROP, /* also an empty body (RFC 4918 9.1) */
	DAV_PROPFIND_PROPNAME,
	DAV_PROPFIND_PROP,
};

struct dav_propfind {
	enum dav_propfind_kind kind;
	struct dav_pname *props; /* PROP: the names asked; ALLPROP: DAV:include */
	size_t n;
};

/* Parse a PROPFIND body; len 0 means allprop. */
enum err dav_parse_propfind(const char *body, size_t len, struct dav_propfind *out);
void dav_propfind_free(struct dav_propfind *pf);

struct dav_propop {
	bool remove;
	struct dav_pname pn;
	/* set: the property element serialised as self-contained XML (it
	 * declares the namespaces it uses), ready to store and send back. */
	char *xml;
};

struct dav_proppatch {
	struct dav_propop *ops; /* in document order */
	size_t n;
};

enum err dav_parse_proppatch(const char *body, size_t len, struct dav_proppatch *out);
void dav_proppatch_free(struct dav_proppatch *pp);

struct dav_lockinfo {
	bool exclusive;
	char *owner; /* the DAV:owner element as self-contained XML; "" when absent */
};

/* Parse a LOCK body (DAV:lockinfo). Only write locks exist
 * (ERR_UNSUPPORTED for another locktype). */
enum err dav_parse_lockinfo(const char *body, size_t len, struct dav_lockinfo *out);
void dav_lockinfo_free(struct dav_lockinfo *li);

/* ---- If header (RFC 4918 10.4) ---- */

struct dav_if_cond {
	bool negated; /* "Not" */
	bool etag;    /* true: [entity-tag]; false: <state token> */
	char *value;  /* the token without <>, or the entity tag as written
			 (with its quotes, W/ kept) */
};

struct dav_if_list {
	char *resource; /* Tagged-list: the resource URI without <>; NULL: no tag */
	struct dav_if_cond *conds;
	size_t n;
};

struct dav_if {
	struct dav_if_list *lists;
	size_t n;
};

/* Parse an If header value. Untagged lists apply to the request URI,
 * tagged ones to their resource; clients mix them, so both are taken.
 * Every list has at least one condition. ERR_INVALID for anything else
 * (the handler answers 400). */
enum err dav_if_parse(const char *value, struct dav_if *out);
void dav_if_free(struct dav_if *f);

/* ---- other headers ---- */

/* Depth: "0", "1" or "infinity" (case-insensitive). NULL: `dflt`. */
enum err dav_depth_parse(const char *value, int dflt, int *depth);
/* Overwrite: "T" or "F"; NULL: true. */
enum err dav_overwrite_parse(const char *value, bool *overwrite);
/* Timeout: "Second-N" or "Infinite", possibly a comma-separated list of
 * which the first understood wins; the result is clamped to [1, max]
 * seconds; NULL or nothing understood: `dflt`. */
int64_t dav_timeout_parse(const char *value, int64_t dflt, int64_t max);

/* Process-wide libxml2 set-up; call once before threads parse
 * (idempotent, thread-safe). */
void dav_init(void);

#endif
