/* reply — see reply.h. */
#include "http/reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

int reply_status_for(enum err code)
{
	switch (code) {
	case ERR_OK: return 200;
	case ERR_INVALID: return 400;
	case ERR_UNAUTHENTICATED: return 401;
	case ERR_FORBIDDEN: return 403;
	case ERR_NOTFOUND: return 404;
	case ERR_EXISTS: return 409;
	case ERR_CONFLICT: return 409;
	case ERR_PRECONDITION: return 412;
	case ERR_TOOLARGE: return 413;
	case ERR_UNSUPPORTED: return 415;
	case ERR_LOCKED: return 423;
	case ERR_LIMIT: return 429;
	case ERR_NOSPACE: return 507;
	case ERR_QUOTA: return 507;
	case ERR_NOMEM: return 503;
	default: return 500;
	}
}

void reply_api_headers(struct http_req *req)
{
	http_resp_header(req, "X-Content-Type-Options", "nosniff");
	http_resp_header(req, "Cache-Control", "no-store");
}

void reply_err(struct http_req *req, enum err code)
{
	const char *detail = err_detail();

	http_resp_error(req, reply_status_for(code), err_name(code),
			*detail ? detail : err_name(code));
}

void reply_error(struct http_req *req, int status, const char *code,
		 const char *fmt, ...)
{
	char detail[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	http_resp_error(req, status, code, detail);
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
		reply_error(req, 503, "out_of_memory", "out of memory");
		return;
	}
	len = strlen(text);
	reply_api_headers(req);
	http_resp_header(req, "Content-Type", "application/json; charset=utf-8");
	http_resp_send(req, status, text, len);
	free(text);
}
