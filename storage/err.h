/*
 * err — the one error type of consort.
 *
 * Every function that can fail returns an `enum err`; ERR_OK (0) means
 * success. Each layer translates its native failures at its edge: SQLite
 * result codes in storage/, errno in file code, C++ exceptions in the
 * Xapian shim. The HTTP layer maps an enum err to a status code in one
 * place (server/reply.c).
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
	ERR_NOMEM,       /* allocation failed */
	ERR_IO,          /* file or socket I/O failed */
	ERR_NOSPACE,     /* disk full (ENOSPC, EDQUOT, SQLITE_FULL) */
	ERR_INVALID,     /* bad input from a caller */
	ERR_NOTFOUND,    /* no such object */
	ERR_EXISTS,      /* object already exists */
	ERR_CONFLICT,    /* state changed underneath (lost update, busy) */
	ERR_PRECONDITION,/* a conditional request's precondition failed */
	ERR_TOOLARGE,    /* a size limit was exceeded */
	ERR_QUOTA,       /* a quota would be exceeded */
	ERR_LIMIT,       /* a rate or count limit was reached */
	ERR_UNAUTHENTICATED, /* no or bad credentials */
	ERR_FORBIDDEN,   /* authenticated but not allowed */
	ERR_UNSUPPORTED, /* valid request for something not supported */
	ERR_LOCKED,      /* resource locked (WebDAV) */
	ERR_CORRUPT,     /* stored data failed a consistency check */
	ERR_DB,          /* database error that is not the caller's fault */
	ERR_INTERNAL,    /* a bug or an impossible state */
	ERR__COUNT
};

/* Short stable name of a code, e.g. "not_found"; used as the "error"
 * field of JSON error bodies. Never NULL. */
const char *err_name(enum err code);

/* Record a detail message for the current thread and return `code`, so a
 * failing path reads `return err_set(ERR_INVALID, "name too long");`.
 * The message is truncated to an internal cap (512 bytes). An argument may
 * be err_detail() itself, to wrap the detail of a failed call:
 * `err_set(rc, "migration %d: %s", n, err_detail())`. */
enum err err_set(enum err code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

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
