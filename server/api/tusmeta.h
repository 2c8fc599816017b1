/*
 * tusmeta — the Upload-Metadata header of a tus upload creation
 * ("key base64,key base64,key"). Read by the policy (acl: the work
 * package a new upload goes to is named here, not in the path) and by
 * h_tus (the path and comment), so both read it the same way.
 */
#ifndef CONSORT_TUSMETA_H
#define CONSORT_TUSMETA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "err.h"

struct http_req;

/* The keys consort uses; filetype (tus-js-client's) and anything else
 * are ignored, never trusted for the type. filename and uploader are
 * read for drop links only (docs/links.md). Strings are
 * request-scoped (the request's arena); NULL when the key is absent. */
struct tusmeta {
	const char *wp;
	const char *path;
	const char *comment;
	const char *filename;
	const char *uploader;
};

/* Parse `header` (not NULL). ERR_INVALID with a detail for an empty key
 * or a value that is not base64 text (or holds a NUL); ERR_NOMEM. */
enum err tusmeta_parse(struct http_req *req, const char *header, struct tusmeta *m);

/* Upload-Length / Upload-Offset: 1 to 19 decimal digits, nothing else
 * (no sign, no space, so no overflow). false when `v` is NULL or not so. */
bool tusmeta_u64(const char *v, uint64_t *out);

/* Upload-Checksum ("sha1 BASE64" or "sha256 BASE64", the algorithm name
 * case-insensitive): the algorithm and the digest in `want` (room for
 * DIGEST_SHA256_LEN bytes). ERR_INVALID with a detail otherwise. */
enum err tusmeta_checksum(const char *header, enum digest_alg *alg,
			  unsigned char want[DIGEST_SHA256_LEN]);

#endif
