/*
 * reply — how handlers answer: JSON bodies, and errors mapped from
 * enum err to a status and an "error" code in one table; there is no
 * way to answer an error with a status written by hand.
 */
#ifndef CONSORT_REPLY_H
#define CONSORT_REPLY_H

#include <jansson.h>

#include "err.h"

struct http_req;

/* Status code and "error" string for an error code (ERR_NOTFOUND → 404
 * "not_found", ...), from the one table in reply.c. Total: a value
 * outside the enum answers as ERR_INTERNAL. */
int reply_status_for(enum err code);
const char *reply_code_for(enum err code);

/* Answer with the error `code` and the current thread's err_detail()
 * (the code string when there is none). A handler with a detail of its
 * own writes `reply_err(req, err_set(ERR_INVALID, "...", ...))`. */
void reply_err(struct http_req *req, enum err code);

/* Answer with `body` serialised; takes ownership of body (may be NULL
 * for an empty object). */
void reply_json(struct http_req *req, int status, json_t *body);

/* Headers every API response carries (nosniff, no-store). */
void reply_api_headers(struct http_req *req);

#endif
