/* reply — see reply.h. */
#include "http/reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

/* The one map from enum err to an HTTP answer. Handlers never write a
 * status and code by hand: a failure that needs a status of its own
 * gets an enum err value and a row here. The codes are the stable
 * "error" strings of docs/api.md; the web app and the tests match on
 * them. */
static const struct reply_row {
	int status;
	const char *code;
} rows[ERR__COUNT] = {
	/* answering an error with "no error" is a bug in the caller */
	[ERR_OK] = {500, "internal_error"},
	[ERR_NOMEM] = {503, "out_of_memory"},
	[ERR_IO] = {500, "io_error"},
	[ERR_NOSPACE] = {507, "insufficient_storage"},
	[ERR_INVALID] = {400, "invalid_request"},
	[ERR_NOTFOUND] = {404, "not_found"},
	[ERR_EXISTS] = {409, "already_exists"},
	[ERR_CONFLICT] = {409, "conflict"},
	[ERR_PRECONDITION] = {412, "precondition_failed"},
	[ERR_TOOLARGE] = {413, "too_large"},
	[ERR_QUOTA] = {507, "quota_exceeded"},
	[ERR_LIMIT] = {429, "rate_limited"},
	[ERR_UNAUTHENTICATED] = {401, "unauthenticated"},
	[ERR_FORBIDDEN] = {403, "forbidden"},
	[ERR_UNSUPPORTED] = {415, "unsupported_media_type"},
	[ERR_LOCKED] = {423, "locked"},
	[ERR_CORRUPT] = {500, "corrupt"},
	[ERR_DB] = {500, "database_error"},
	[ERR_INTERNAL] = {500, "internal_error"},
	[ERR_JSON] = {400, "invalid_json"},
	[ERR_CREDENTIALS] = {401, "invalid_credentials"},
	[ERR_TOTP_REQUIRED] = {401, "totp_required"},
	[ERR_METHOD] = {405, "method_not_allowed"},
	[ERR_GONE] = {410, "gone"},
	[ERR_RANGE] = {416, "range_not_satisfiable"},
	[ERR_CHECKSUM] = {460, "checksum_mismatch"}, /* tus checksum extension */
	[ERR_BAD_GATEWAY] = {502, "bad_gateway"},
	[ERR_BUSY] = {503, "busy"},
	[ERR_TIMEOUT] = {408, "request_timeout"},
	[ERR_HEAD_TOO_LARGE] = {431, "headers_too_large"},
	[ERR_URI_TOO_LONG] = {414, "uri_too_long"},
	[ERR_EXPECTATION] = {417, "expectation_failed"},
	[ERR_NOT_IMPLEMENTED] = {501, "not_implemented"},
	[ERR_VERSION] = {505, "http_version_not_supported"},
	[ERR_REAUTH] = {403, "reauthentication_required"},
	[ERR_MISDIRECTED] = {421, "misdirected_request"},
	[ERR_INFECTED] = {422, "infected"},
	[ERR_UNSCANNABLE] = {422, "unscannable"},
	[ERR_SCANNER_UNAVAILABLE] = {503, "scanner_unavailable"},
	[ERR_STORE_UNAVAILABLE] = {503, "store_unavailable"},
};

static const struct reply_row *row_for(enum err code)
{
	if ((unsigned)code >= ERR__COUNT || !rows[code].code)
		return &rows[ERR_INTERNAL];
	return &rows[code];
}

int reply_status_for(enum err code) { return row_for(code)->status; }

const char *reply_code_for(enum err code) { return row_for(code)->code; }

void reply_api_headers(struct http_req *req)
{
	http_resp_header(req, "X-Content-Type-Options", "nosniff");
	http_resp_header(req, "Cache-Control", "no-store");
}

void reply_err(struct http_req *req, enum err code)
{
	const struct reply_row *row = row_for(code);
	const char *detail = err_detail();

	http_resp_error(req, row->status, row->code, *detail ? detail : row->code);
}

void reply_json(struct http_req *req, int status, json_t *body)
{
	char *text;
	size_t len;

	if (!body)
		body = json_object();
	text = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(body);
	if (!text) {
		reply_err(req, err_set(ERR_NOMEM, "out of memory"));
		return;
	}
	len = strlen(text);
	reply_api_headers(req);
	http_resp_header(req, "Content-Type", "application/json; charset=utf-8");
	http_resp_send(req, status, text, len);
	free(text);
}
