/*
 * httpparse — strict parser for an HTTP/1.1 request head (RFC 9112).
 *
 * Pure functions over bytes, no I/O, so the parser can be fuzzed and unit
 * tested on its own. It refuses what lenient parsers let through and
 * request smuggling relies on: bare LF line endings, obs-fold
 * continuation lines, whitespace between a field name and its colon,
 * control characters in values, and request targets with spaces or
 * controls. The connection layer (http.c) adds the message-level rules
 * (Host, Content-Length, Transfer-Encoding).
 */
#ifndef CONSORT_HTTPPARSE_H
#define CONSORT_HTTPPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTPPARSE_MAX_HEADERS 100

struct httpparse_field {
	const char *name;
	size_t name_len;
	const char *value; /* leading and trailing whitespace removed */
	size_t value_len;
};

struct httpparse_head {
	const char *method;
	size_t method_len;
	const char *target;
	size_t target_len;
	int minor_version; /* 0 or 1 */
	size_t nfields;
	struct httpparse_field fields[HTTPPARSE_MAX_HEADERS];
};

enum httpparse_status {
	HTTPPARSE_OK = 0,
	HTTPPARSE_INCOMPLETE,   /* need more bytes */
	HTTPPARSE_BAD,          /* 400 */
	HTTPPARSE_URI_TOO_LONG, /* 414 */
	HTTPPARSE_TOO_LARGE,    /* 431: header block or count too large */
	HTTPPARSE_VERSION,      /* 505 */
};

/* Scans `len` bytes starting at `buf` for the end of a request head.
 * `*scanned` carries how far a previous call got, so a head arriving a
 * byte at a time is scanned once in total. Returns HTTPPARSE_OK with
 * *head_len set to the length including the final CRLFCRLF,
 * HTTPPARSE_INCOMPLETE, or HTTPPARSE_BAD on a bare LF or a NUL. Leading
 * empty lines (CRLF) before a request line are allowed (RFC 9112 2.2). */
enum httpparse_status httpparse_find_end(const char *buf, size_t len, size_t *scanned,
					 size_t *head_len);

/* Parses a complete head of `len` bytes (as found by httpparse_find_end)
 * into `out`, whose pointers point into `buf`. `max_target` bounds the
 * request target (414 past it). On failure *why names the broken rule
 * (a static string). */
enum httpparse_status httpparse_head(const char *buf, size_t len, size_t max_target,
				     struct httpparse_head *out, const char **why);

/* Parses a chunk-size line without its CRLF: 1*HEXDIG, optional chunk
 * extensions (validated, ignored). Refuses overflow past INT64_MAX, a
 * missing size, and control characters. */
bool httpparse_chunk_size(const char *line, size_t len, uint64_t *size, const char **why);

/* Validates one trailer field line (without CRLF) with the same rules as
 * a header field. */
bool httpparse_trailer_field(const char *line, size_t len, const char **why);

/* Parses a Content-Length value: 1*DIGIT only, no sign, no list, no
 * overflow. */
bool httpparse_content_length(const char *v, size_t len, uint64_t *out);

/* Outcome of interpreting a Range header against a representation of
 * `size` bytes (RFC 9110 14). Only a single byte range is served; a
 * multi-range request, another unit or a syntactically invalid range is
 * answered with the whole representation, as the RFC allows. */
enum httpparse_range {
	HTTPPARSE_RANGE_NONE,          /* send 200 and everything */
	HTTPPARSE_RANGE_PARTIAL,       /* send 206 with [*first, *last] */
	HTTPPARSE_RANGE_UNSATISFIABLE, /* send 416, Content-Range: bytes STAR/size */
};

enum httpparse_range httpparse_range(const char *header, uint64_t size, uint64_t *first,
				     uint64_t *last);

/* True if `c` may appear in a token (RFC 9110 5.6.2). */
bool httpparse_is_tchar(unsigned char c);

/* Case-insensitive comparison of a counted string with a C string. */
bool httpparse_ieq(const char *s, size_t len, const char *lit);

#endif
