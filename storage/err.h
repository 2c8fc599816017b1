/*
 * err — the one error type of consort.
 *
 * Every function that can fail returns an `enum err`; ERR_OK (0) means
 * success. Each layer translates its native failures at its edge: SQLite
 * result codes in storage/, errno in file code, C++ exceptions in the
 * Xapian shim. The HTTP layer maps an enum err to a status code and the
 * "error" code of a JSON body in one table (server/http/reply.c); a new
 * value here gets its row there (the reply unit test checks).
 *
 * Alongside the code, a failing function may leave a human-readable
 * detail in a thread-local buffer (err_set). The detail is what a client
 * sees in {"error": ..., "detail": ...}, so it must never contain a
 * secret: no passwords, tokens or session cookies.
 */
#ifndef CONSORT_ERR_H
#define CONSORT_ERR_H

#include <stddef.h>

enum err {
	ERR_OK = 0,
	ERR_NOMEM,           /* allocation failed */
	ERR_IO,              /* file or socket I/O failed */
	ERR_NOSPACE,         /* disk full (ENOSPC, EDQUOT, SQLITE_FULL) */
	ERR_INVALID,         /* bad input from a caller */
	ERR_NOTFOUND,        /* no such object */
	ERR_EXISTS,          /* object already exists */
	ERR_CONFLICT,        /* state changed underneath (lost update, busy) */
	ERR_PRECONDITION,    /* a conditional request's precondition failed */
	ERR_TOOLARGE,        /* a size limit was exceeded */
	ERR_QUOTA,           /* a quota would be exceeded */
	ERR_LIMIT,           /* a rate or count limit was reached */
	ERR_UNAUTHENTICATED, /* no or bad credentials */
	ERR_FORBIDDEN,       /* authenticated but not allowed */
	ERR_UNSUPPORTED,     /* a body or content type that is not taken here */
	ERR_LOCKED,          /* resource locked (WebDAV) */
	ERR_CORRUPT,         /* stored data failed a consistency check */
	ERR_DB,              /* database error that is not the caller's fault */
	ERR_INTERNAL,        /* a bug or an impossible state */
	ERR_JSON,            /* a body that is not well-formed JSON */
	ERR_CREDENTIALS,     /* a login failed (wrong email, password or code) */
	ERR_TOTP_REQUIRED,   /* the password was right; a second factor is due */
	ERR_METHOD,          /* the method is not allowed on this resource */
	ERR_GONE,            /* the object existed and was removed (expired upload) */
	ERR_RANGE,           /* a byte range outside the content */
	ERR_CHECKSUM,        /* content does not match the checksum sent with it */
	ERR_BAD_GATEWAY,     /* a target on another server (WebDAV Destination) */
	ERR_BUSY,            /* a queue is full; try again shortly */
	/* the HTTP layer's own refusals, before a request reaches a route */
	ERR_TIMEOUT,         /* a request did not arrive in time */
	ERR_HEAD_TOO_LARGE,  /* a request head or trailer past its cap */
	ERR_URI_TOO_LONG,    /* a request target past its cap */
	ERR_EXPECTATION,     /* an Expect other than 100-continue */
	ERR_NOT_IMPLEMENTED, /* a transfer coding that is not taken */
	ERR_VERSION,         /* an HTTP version other than 1.x */
	/* sudo mode and public-url (docs/accounts.md, docs/config.md) */
	ERR_REAUTH,      /* a change to credentials or privileges needs a recent
			    re-authentication of the session */
	ERR_MISDIRECTED, /* the request names another host than public-url */
	/* malware scanning (docs/scanning.md) */
	ERR_INFECTED,            /* the scanner found a signature in the content */
	ERR_UNSCANNABLE,         /* the scanner could not scan it, policy refuse */
	ERR_SCANNER_UNAVAILABLE, /* the scanner cannot be reached, policy refuse */
	/* blobs on S3 (docs/storage.md) */
	ERR_STORE_UNAVAILABLE, /* the object store failed or cannot be reached */
	ERR__COUNT
};

/* Short stable name of a code, e.g. "not_found", for logs and the
 * command line (HTTP answers take theirs from reply.c). Never NULL. */
const char *err_name(enum err code);

/* Record a detail message for the current thread and return `code`, so a
 * failing path reads `return err_set(ERR_INVALID, "name too long");`.
 * The message is truncated to an internal cap (512 bytes). An argument may
 * be err_detail() itself, to wrap the detail of a failed call:
 * `err_set(rc, "migration %d: %s", n, err_detail())`. */
enum err err_set(enum err code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The current thread's detail message; "" when none was set since the
 * last err_clear(). The pointer stays valid until the next err_set. */
const char *err_detail(void);

/* Forget the current thread's detail. The router calls this at the start
 * of every request, so a detail can never leak from an earlier request
 * that ran on the same worker thread. */
void err_clear(void);

/* Translate an errno value from file or socket code into an enum err and
 * set the detail to "<what>: <strerror>". */
enum err err_from_errno(int errnum, const char *what);

#endif
