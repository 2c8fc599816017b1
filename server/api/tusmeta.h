/*
 * tusmeta — the Upload-Metadata header of a tus upload creation
 * ("key base64,key base64,key"). Read by the policy (acl: the work
 * package a new upload goes to is named here, not in the path) and by
 * h_tus (the path and comment), so both read it the same way.
 */
#ifndef CONSORT_TUSMETA_H
#define CONSORT_TUSMETA_H

#include "err.h"

struct http_req;

/* The keys consort uses; filename and filetype (tus-js-client's) and
 * anything else are ignored, never trusted for the type. Strings are
 * request-scoped (the request's arena); NULL when the key is absent. */
struct tusmeta {
	const char *wp;
	const char *path;
	const char *comment;
};

/* Parse `header` (not NULL). ERR_INVALID with a detail for an empty key
 * or a value that is not base64 text (or holds a NUL); ERR_NOMEM. */
enum err tusmeta_parse(struct http_req *req, const char *header, struct tusmeta *m);

#endif
