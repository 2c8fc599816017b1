/*
 * clamd — a client of ClamAV's scanning daemon over its socket (unix or
 * TCP), for the commands consort needs: VERSION (the engine and
 * signature database version, which names what a verdict was reached
 * with) and INSTREAM (content sent in chunks of CLAMD_CHUNK bytes read
 * from a file descriptor: no second copy on disk, memory bounded by the
 * chunk). The "z" (NUL-terminated) form of each command is used.
 *
 * Every call opens its own connection and blocks (run it on a pool
 * thread, never on an event loop); `timeout_ms` bounds each send and
 * receive. Thread-safe.
 */
#ifndef CONSORT_CLAMD_H
#define CONSORT_CLAMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define CLAMD_CHUNK (64 * 1024)
#define CLAMD_REPLY_MAX 512

enum clamd_result {
	CLAMD_CLEAN,       /* "stream: OK" */
	CLAMD_FOUND,       /* "stream: NAME FOUND": `name` holds NAME */
	CLAMD_TOO_LARGE,   /* "INSTREAM size limit exceeded" (StreamMaxLength) */
	CLAMD_SCAN_ERROR,  /* another "... ERROR": `name` holds clamd's words */
	CLAMD_UNREACHABLE, /* no connection, or it broke before an answer */
};

/* `address` is a unix socket path (starting with '/') or HOST:PORT. */
struct clamd_addr {
	const char *address;
	unsigned timeout_ms;
};

/* The VERSION line into `out` (cap bytes). ERR_IO with a detail when
 * clamd cannot be reached or answers nothing. */
enum err clamd_version(const struct clamd_addr *a, char *out, size_t cap);

/* Stream `size` bytes of `fd` (from offset 0, pread) to clamd and
 * return its verdict; `name` (CLAMD_REPLY_MAX + 1 bytes) receives the
 * signature or error text. Never fails otherwise: a broken connection
 * is CLAMD_UNREACHABLE with a reason in `name`. */
enum clamd_result clamd_instream(const struct clamd_addr *a, int fd, uint64_t size, char *name);

/* Send "zRELOAD" (tests and operators after a signature update). */
enum err clamd_reload(const struct clamd_addr *a);

#endif
