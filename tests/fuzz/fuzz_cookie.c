/*
 * fuzz_cookie — libFuzzer driver for the Cookie header
 * (server/api/auth.c: auth_cookie_find). Invariants: a value found lies
 * inside the header, follows the cookie's name and '=', and holds no ';'.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	const char *v;
	size_t len = 0;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	v = auth_cookie_find(s, &len);
	if (v) {
		size_t n = strlen(s);

		assert(v > s && v[-1] == '=');
		assert((size_t)(v - s) + len <= n);
		assert(!memchr(v, ';', len));
		assert(!len || v[len - 1] != ' ');
	}
	free(s);
	return 0;
}
