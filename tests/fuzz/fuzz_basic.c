/*
 * fuzz_basic — libFuzzer driver for Basic authentication
 * (server/api/auth.c: auth_basic_decode, what a WebDAV client sends as
 * "Authorization: Basic ..."). Invariants: accepted credentials are two
 * NUL-free strings, the user name without a colon, that fit the buffer.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), buf[AUTH_BASIC_MAX];
	const char *user = NULL, *secret = NULL;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (auth_basic_decode(s, buf, &user, &secret) == ERR_OK) {
		assert(user == buf && secret > user);
		assert(!strchr(user, ':'));
		assert(strlen(user) + 1 + strlen(secret) < AUTH_BASIC_MAX);
	}
	free(s);
	return 0;
}
