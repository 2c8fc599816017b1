/*
 * jsonin — strict validation of JSON request bodies.
 *
 * A handler describes the object it accepts as a table of fields and
 * calls jsonin_parse() once; anything else is refused with ERR_INVALID
 * and a detail naming the field: a member not in the table, a missing
 * required member, a wrong JSON type (1.0 is not an integer, "true" is
 * not a boolean), a string that is too short or too long (counted in
 * Unicode characters), a string with control characters or bidi
 * overrides, an integer out of range, a value not among the choices.
 * Nothing is written to the out-pointers of a table that fails.
 *
 *     const char *email = NULL, *password = NULL;
 *     struct jsonin_field f[] = {
 *         {"email", JSONIN_STRING, JSONIN_REQUIRED, 3, 254, .out = &email},
 *         {"password", JSONIN_STRING, JSONIN_REQUIRED, 1, 1024, .out = &password},
 *     };
 *     rc = jsonin_parse(call->json, f, 2);
 *
 * Strings handed out point into the JSON object and live as long as it.
 */
#ifndef CONSORT_JSONIN_H
#define CONSORT_JSONIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum jsonin_kind {
	JSONIN_STRING, /* out: const char ** */
	JSONIN_INT,    /* out: int64_t * */
	JSONIN_BOOL,   /* out: bool * */
	JSONIN_ENUM,   /* out: int *, the index of the string in `choices` */
};

enum {
	JSONIN_REQUIRED = 1 << 0,  /* the member must be present */
	JSONIN_NULLABLE = 1 << 1,  /* null is accepted and means "absent" */
	JSONIN_MULTILINE = 1 << 2, /* strings may hold newlines and tabs */
};

struct jsonin_field {
	const char *name;
	enum jsonin_kind kind;
	unsigned flags;
	int64_t min, max;           /* strings: length in characters; ints: value */
	const char *const *choices; /* JSONIN_ENUM: NULL-terminated list */
	void *out;
	bool *present; /* optional: set to whether the member was given */
};

/* Validate `obj` (a JSON object) against `fields`. ERR_OK with every
 * given member stored; ERR_INVALID with a detail naming the first
 * offending field otherwise. */
enum err jsonin_parse(const json_t *obj, const struct jsonin_field *fields, size_t n);

/* Checks a string the way JSONIN_STRING does (length in characters,
 * controls unless `multiline`), for values that do not come from JSON
 * (query parameters, command-line arguments). `what` names it in the
 * detail. */
enum err jsonin_check_text(const char *what, const char *s, int64_t min, int64_t max,
			   bool multiline);

#endif
