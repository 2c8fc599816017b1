/*
 * fuzz_exanswer — libFuzzer driver for the decoder of what the
 * extraction helper answers (search/exworker.c: exworker_decode). The
 * helper parses hostile documents, so a subverted helper can write
 * anything. Invariants: an accepted answer has a known status, a text
 * that is a NUL-terminated string of text_len bytes, a title and author,
 * and NUL-terminated fixed fields.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "exworker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct extract_result res;

	memset(&res, 0, sizeof res);
	if (exworker_decode((const char *)data, size, &res) == ERR_OK) {
		assert(res.status == EXTRACT_OK || res.status == EXTRACT_TRUNCATED ||
		       res.status == EXTRACT_FAILED);
		assert(res.text && res.title && res.author);
		assert(strlen(res.text) == res.text_len);
		assert(memchr(res.mime, 0, sizeof res.mime) &&
		       memchr(res.type, 0, sizeof res.type));
		assert(memchr(res.lang, 0, sizeof res.lang) &&
		       memchr(res.reason, 0, sizeof res.reason));
	}
	extract_result_free(&res);
	return 0;
}
