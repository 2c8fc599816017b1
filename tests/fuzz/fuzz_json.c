/*
 * fuzz_json — libFuzzer driver for the JSON reader: the body as the
 * router reads it (jansson, duplicates refused) checked by jsonin
 * (server/http/jsonin.c) against a table with every kind of field, and
 * each string member by jsonin_check_text. Invariants: an accepted table
 * gives strings within their limits in characters and integers in range.
 */
#include <assert.h>
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "http/jsonin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const roles[] = {"reader", "writer", "manager", NULL};
	json_error_t jerr;
	json_t *v = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	const char *name = NULL, *note = NULL;
	int64_t count = -1;
	bool flag = false, note_given = false;
	int role = -1;
	struct jsonin_field f[] = {
		{"name", JSONIN_STRING, JSONIN_REQUIRED, 1, 20, .out = &name},
		{"note", JSONIN_STRING, JSONIN_NULLABLE | JSONIN_MULTILINE, 0, 200, .out = &note,
		 .present = &note_given},
		{"count", JSONIN_INT, 0, -5, 1000, .out = &count},
		{"flag", JSONIN_BOOL, 0, 0, 0, .out = &flag},
		{"role", JSONIN_ENUM, 0, 0, 0, .choices = roles, .out = &role},
	};
	const char *key;
	json_t *member;

	if (!v)
		return 0;
	if (json_is_object(v)) {
		if (jsonin_parse(v, f, sizeof f / sizeof f[0]) == ERR_OK) {
			size_t n = utf8_chars(name);

			assert(n >= 1 && n <= 20 && !strpbrk(name, "\n\t"));
			assert(!note || utf8_chars(note) <= 200);
			assert(count == -1 || (count >= -5 && count <= 1000));
			assert(role >= -1 && role <= 2);
		}
		json_object_foreach(v, key, member)
		{
			if (json_is_string(member))
				jsonin_check_text(key, json_string_value(member), 0, 64, false);
		}
	}
	json_decref(v);
	return 0;
}
