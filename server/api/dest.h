/*
 * dest — the Destination header of WebDAV's COPY and MOVE: the second
 * resource such a request names, outside its path. It lives in api/, not
 * dav/, because the policy decides on it before the handler runs
 * (ACCESS_DAV_COPY, ACCESS_DAV_MOVE), and the policy is below dav/.
 */
#ifndef CONSORT_DEST_H
#define CONSORT_DEST_H

#include <stddef.h>

#include "err.h"

/* A Destination header (COPY, MOVE) split into the work package it
 * names and the path inside it, both raw (percent-encoded) and pointing
 * into the header's value. */
struct dest_header {
	const char *wp;
	size_t wp_len;
	const char *path; /* after "/dav/WP/", possibly "" */
};
/* Split Destination `value`: an absolute URL on `host` or an absolute
 * path, under /dav/. ERR_INVALID when it has a query or fragment;
 * ERR_UNSUPPORTED when it is on another server or outside /dav/ (WebDAV
 * answers 502); ERR_FORBIDDEN when it is the list of work packages.
 * The policy (acl: which WP must the caller write?) and the WebDAV
 * handlers read the header through this one function. */
enum err dest_parse(const char *value, const char *host, struct dest_header *out);

#endif
