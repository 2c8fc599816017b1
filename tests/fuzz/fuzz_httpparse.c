/*
 * fuzz_httpparse — libFuzzer driver for the request-head parser and the
 * small header-value parsers. Checks invariants beyond "no crash": the
 * parsed pieces lie inside the input and the head ends where find_end
 * said.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/httpparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct httpparse_head *h = malloc(sizeof *h);
	size_t scanned = 0, head_len = 0;
	const char *why;
	uint64_t v, a, b;
	char *z;

	if (!h)
		return 0;
	/* Feed in two steps to exercise the incremental scan. */
	if (httpparse_find_end(buf, size / 2, &scanned, &head_len) == HTTPPARSE_OK ||
	    httpparse_find_end(buf, size, &scanned, &head_len) == HTTPPARSE_OK) {
		assert(head_len <= size);
		if (httpparse_head(buf, head_len, 8192, h, &why) == HTTPPARSE_OK) {
			assert(h->method >= buf && h->method + h->method_len <= buf + head_len);
			assert(h->target >= buf && h->target + h->target_len <= buf + head_len);
			for (size_t i = 0; i < h->nfields; i++) {
				const struct httpparse_field *f = &h->fields[i];

				assert(f->name_len > 0);
				assert(f->value + f->value_len <= buf + head_len);
				assert(!memchr(f->value, '\n', f->value_len));
				assert(!memchr(f->value, '\r', f->value_len));
			}
		}
	}
	httpparse_chunk_size(buf, size, &v, &why);
	httpparse_content_length(buf, size, &v);
	httpparse_trailer_field(buf, size, &why);
	z = malloc(size + 1);
	if (z) {
		memcpy(z, data, size);
		z[size] = '\0';
		if (httpparse_range(z, 1000, &a, &b) == HTTPPARSE_RANGE_PARTIAL)
			assert(a <= b && b < 1000);
		free(z);
	}
	free(h);
	return 0;
}
