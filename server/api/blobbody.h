/*
 * blobbody — stored content as a streamed response body, read through a
 * cas reader in windows as the connection drains (a document download,
 * a share link's file, a Range of either).
 */
#ifndef CONSORT_API_BLOBBODY_H
#define CONSORT_API_BLOBBODY_H

#include <stdint.h>

#include "http/http.h"

struct cas_reader;

/* The bytes [pos, end) of the content `r` reads. */
struct blob_body {
	struct cas_reader *r;
	uint64_t pos, end;
};

/* For http_resp_stream with a calloc'd struct blob_body as its arg; the
 * release closes the reader and frees the struct. A reader that ends
 * before `end` fails the response as corrupt. */
extern const struct http_body_source blob_body_ops;

/* Content-Disposition: attachment for a file called `name` (RFC 6266 /
 * 8187): an ASCII fallback (anything outside printable ASCII, quotes,
 * backslashes and '%' become '_') and filename* with UTF-8
 * percent-encoded, so accents and spaces survive in every browser. */
void blob_body_attachment(struct http_req *req, const char *name);

#endif
