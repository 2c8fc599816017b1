/*
 * fuzz_time — libFuzzer driver for the times the API accepts
 * (server/api/apijson.c: apijson_parse_time, apijson_parse_datetime).
 * Invariants: a date and time is also a time; what either accepts lies
 * within years 0000–9999 (give or take a zone offset), and the UTC text
 * of a parsed date and time parses back to the same second.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/apijson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), text[32];
	int64_t t, t2, back;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (apijson_parse_datetime(s, &t)) {
		assert(apijson_parse_time(s, &t2) && t2 == t);
		assert(t >= -62167219200 - 86400 && t <= 253402300799 + 86400);
		if (t > 0 && t < 253402300800) {
			apijson_time_text(t, text);
			assert(apijson_parse_datetime(text, &back) && back == t);
		}
	} else if (apijson_parse_time(s, &t)) {
		assert(t >= -62167219200 && t <= 999999999999);
	}
	free(s);
	return 0;
}
