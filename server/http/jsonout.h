/*
 * jsonout — a small streaming JSON writer for responses on hot paths
 * (listings the app loads on every page: work packages, and the same
 * shape suits folder listings and search hits).
 *
 * jansson builds a tree of allocated nodes and then serialises it
 * through callbacks; for a list of a few hundred bytes that costs more
 * than the database query behind it (measured: ~15 us for ten work
 * packages). This writer appends straight into one growing buffer, tracks
 * where commas go, and escapes strings to valid JSON (controls and
 * quotes escaped, invalid UTF-8 replaced by U+FFFD, U+2028/2029 escaped
 * for JavaScript consumers). It is a writer only: structure errors are
 * the caller's bug and are caught by asserts in debug builds.
 *
 *     struct jsonout *j = jsonout_new();
 *     jsonout_obj(j); jsonout_key(j, "wps"); jsonout_arr(j);
 *     ... jsonout_end(j); jsonout_end(j);
 *     jsonout_reply(req, 200, j);
 */
#ifndef CONSORT_JSONOUT_H
#define CONSORT_JSONOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jsonout;
struct http_req;

/* NULL on allocation failure. */
struct jsonout *jsonout_new(void);
/* Accepts NULL. */
void jsonout_free(struct jsonout *j);

void jsonout_obj(struct jsonout *j); /* { */
void jsonout_arr(struct jsonout *j); /* [ */
void jsonout_end(struct jsonout *j); /* } or ] */
/* A member name inside an object; the next value is its value. */
void jsonout_key(struct jsonout *j, const char *key);
void jsonout_str(struct jsonout *j, const char *s); /* NULL writes null */
void jsonout_int(struct jsonout *j, int64_t v);
void jsonout_bool(struct jsonout *j, bool v);
void jsonout_null(struct jsonout *j);
/* A time as ISO 8601 UTC ("2024-05-01T12:00:00Z"); 0 writes null. */
void jsonout_time(struct jsonout *j, int64_t t);

/* Convenience: key and value in one call. */
void jsonout_kstr(struct jsonout *j, const char *key, const char *s);
void jsonout_kint(struct jsonout *j, const char *key, int64_t v);
void jsonout_kbool(struct jsonout *j, const char *key, bool v);
void jsonout_ktime(struct jsonout *j, const char *key, int64_t t);

/* False when an allocation failed along the way (the output is then
 * incomplete and must not be sent). */
bool jsonout_ok(const struct jsonout *j);

/* Answer `req` with the document (API headers, application/json) and
 * free the writer; 503 if the writer ran out of memory. */
void jsonout_reply(struct http_req *req, int status, struct jsonout *j);

#endif
