/*
 * reply — how handlers answer: JSON bodies, and errors mapped from
 * enum err to a status code in one place.
 */
#ifndef CONSORT_REPLY_H
#define CONSORT_REPLY_H

#include <jansson.h>

#include "err.h"

struct http_req;

/* Status code for an error code (ERR_NOTFOUND → 404, ...). */
int reply_status_for(enum err code);

/* Answer with the error `code` and the current thread's err_detail(). */
void reply_err(struct http_req *req, enum err code);

/* Answer with an explicit status, error code string and detail. */
void reply_error(struct http_req *req, int status, const char *code,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Answer with `body` serialised; takes ownership of body (may be NULL
 * for an empty object). */
void reply_json(struct http_req *req, int status, json_t *body);

/* Headers every API response carries (nosniff, no-store). */
void reply_api_headers(struct http_req *req);

#endif
