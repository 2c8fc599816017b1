/*
 * fuzz_name — libFuzzer driver for names and URL paths. Invariants: an
 * accepted path's names are each accepted again by name_check and are
 * already NFC (normalising is idempotent), and never "." / "..", never
 * with '/', never longer than NAME_MAX_BYTES; and what an accepted name
 * reads as (its look-alike key) is never empty, "." or ".." and has no
 * '/'.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct name_path p;
	char *nfc = NULL, *key = NULL;

	if (name_path_from_url((const char *)data, size, &p) == ERR_OK) {
		for (size_t i = 0; i < p.n; i++) {
			size_t len = strlen(p.names[i]);
			char *again = NULL;

			assert(len >= 1 && len <= NAME_MAX_BYTES);
			assert(!strchr(p.names[i], '/'));
			assert(strcmp(p.names[i], ".") != 0 && strcmp(p.names[i], "..") != 0);
			assert(name_check(p.names[i], len, &again, NULL) == ERR_OK);
			assert(strcmp(again, p.names[i]) == 0);
			free(again);
		}
		name_path_free(&p);
	}
	if (name_check((const char *)data, size, &nfc, &key) == ERR_OK) {
		char *look = NULL;

		assert(nfc && key);
		/* what an accepted name reads as is still a name (issue 13) */
		assert(name_look_key(nfc, &look) == ERR_OK);
		assert(*look && strcmp(look, ".") && strcmp(look, "..") && !strchr(look, '/'));
		free(look);
	}
	free(nfc);
	free(key);
	return 0;
}
