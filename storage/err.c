/* err — see err.h. */
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DETAIL_CAP 512

static _Thread_local char detail[DETAIL_CAP];

static const char *const names[ERR__COUNT] = {
	[ERR_OK] = "ok",
	[ERR_NOMEM] = "out_of_memory",
	[ERR_IO] = "io_error",
	[ERR_NOSPACE] = "insufficient_storage",
	[ERR_INVALID] = "invalid_request",
	[ERR_NOTFOUND] = "not_found",
	[ERR_EXISTS] = "already_exists",
	[ERR_CONFLICT] = "conflict",
	[ERR_PRECONDITION] = "precondition_failed",
	[ERR_TOOLARGE] = "too_large",
	[ERR_QUOTA] = "quota_exceeded",
	[ERR_LIMIT] = "rate_limited",
	[ERR_UNAUTHENTICATED] = "unauthenticated",
	[ERR_FORBIDDEN] = "forbidden",
	[ERR_UNSUPPORTED] = "unsupported_media_type",
	[ERR_LOCKED] = "locked",
	[ERR_CORRUPT] = "corrupt",
	[ERR_DB] = "database_error",
	[ERR_INTERNAL] = "internal_error",
	[ERR_JSON] = "invalid_json",
	[ERR_CREDENTIALS] = "invalid_credentials",
	[ERR_TOTP_REQUIRED] = "totp_required",
	[ERR_METHOD] = "method_not_allowed",
	[ERR_GONE] = "gone",
	[ERR_RANGE] = "range_not_satisfiable",
	[ERR_CHECKSUM] = "checksum_mismatch",
	[ERR_BAD_GATEWAY] = "bad_gateway",
	[ERR_BUSY] = "busy",
	[ERR_TIMEOUT] = "request_timeout",
	[ERR_HEAD_TOO_LARGE] = "headers_too_large",
	[ERR_URI_TOO_LONG] = "uri_too_long",
	[ERR_EXPECTATION] = "expectation_failed",
	[ERR_NOT_IMPLEMENTED] = "not_implemented",
	[ERR_VERSION] = "http_version_not_supported",
	[ERR_REAUTH] = "reauthentication_required",
	[ERR_MISDIRECTED] = "misdirected_request",
	[ERR_INFECTED] = "infected",
	[ERR_UNSCANNABLE] = "unscannable",
	[ERR_SCANNER_UNAVAILABLE] = "scanner_unavailable",
	[ERR_STORE_UNAVAILABLE] = "store_unavailable",
};

const char *err_name(enum err code)
{
	if ((unsigned)code >= ERR__COUNT || !names[code])
		return "internal_error";
	return names[code];
}

enum err err_set(enum err code, const char *fmt, ...)
{
	/* Formatted into a scratch buffer first: a caller may pass
	 * err_detail() itself as an argument ("load key %s: %s", ...,
	 * err_detail()), and vsnprintf into the buffer it reads from is
	 * undefined behaviour. */
	char tmp[DETAIL_CAP];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		tmp[0] = '\0';
	memcpy(detail, tmp, sizeof detail);
	return code;
}

const char *err_detail(void) { return detail; }

void err_clear(void) { detail[0] = '\0'; }

enum err err_from_errno(int errnum, const char *what)
{
	enum err code;

	switch (errnum) {
	case ENOSPC:
	case EDQUOT: code = ERR_NOSPACE; break;
	case ENOMEM: code = ERR_NOMEM; break;
	case ENOENT: code = ERR_NOTFOUND; break;
	case EEXIST: code = ERR_EXISTS; break;
	default: code = ERR_IO; break;
	}
	return err_set(code, "%s: %s", what, strerror(errnum));
}
