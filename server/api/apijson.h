/*
 * apijson — how account objects and times look in API responses, shared
 * by the handlers so a user or a time reads the same everywhere.
 */
#ifndef CONSORT_APIJSON_H
#define CONSORT_APIJSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct acct_user;
struct acct_wp;

/* ISO 8601 UTC ("2024-05-01T12:00:00Z"); JSON null for 0. */
json_t *apijson_time(int64_t t);
/* The same as text into buf[32]; "" for 0. */
const char *apijson_time_text(int64_t t, char *buf);
/* An RFC 3339 date and time: "2024-05-01T12:00:00Z",
 * "2024-05-01T14:00:00.250+02:00" (the fraction dropped), or without
 * seconds "2024-05-01T12:00Z". A zone is required; the day must exist. */
bool apijson_parse_datetime(const char *s, int64_t *out);
/* That, a day "2024-05-01" (its first second, UTC), or Unix seconds. */
bool apijson_parse_time(const char *s, int64_t *out);

/* A user. `full` adds what only coordinators and the user themself see
 * (second factor state, recovery codes left, password state). */
json_t *apijson_user(const struct acct_user *u, bool full);
/* A work package; `level` >= 0 adds the caller's level. */
json_t *apijson_wp(const struct acct_wp *w, int level);

/* A positive decimal id from a path segment. */
bool apijson_parse_id(const char *s, int64_t *id);

#endif
