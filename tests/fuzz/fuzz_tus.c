/*
 * fuzz_tus — libFuzzer driver for the tus headers (server/api/tusmeta.c):
 * Upload-Metadata, Upload-Checksum, Upload-Length and Upload-Offset. The
 * input's lines are the four values, sent as a request's headers so the
 * metadata is parsed into a real request arena. Invariants: an accepted
 * metadata value is a NUL-free string; a number is what its digits say;
 * a checksum has the length of its algorithm.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/tusmeta.h"
#include "fuzz_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_meta(struct http_req *req, void *arg)
{
	const char *h = http_req_header(req, "Upload-Metadata");
	const char *sum = http_req_header(req, "Upload-Checksum");
	struct tusmeta m;
	unsigned char want[DIGEST_SHA256_LEN];
	enum digest_alg alg;
	uint64_t n;

	(void)arg;
	if (h && tusmeta_parse(req, h, &m) == ERR_OK) {
		/* the values are C strings in the arena: reading them is the test */
		if (m.wp)
			assert(strlen(m.wp) <= strlen(h));
		if (m.path)
			assert(strlen(m.path) <= strlen(h));
		if (m.comment)
			assert(strlen(m.comment) <= strlen(h));
	}
	if (sum && tusmeta_checksum(sum, &alg, want) == ERR_OK)
		assert(alg == DIGEST_SHA1 || alg == DIGEST_SHA256);
	for (int i = 0; i < 2; i++) {
		const char *v = http_req_header(req, i ? "Upload-Offset" : "Upload-Length");

		if (tusmeta_u64(v, &n)) {
			char back[24];

			snprintf(back, sizeof back, "%llu", (unsigned long long)n);
			/* leading zeros aside, the digits are the number */
			assert(!strcmp(back, v + strspn(v, "0")) || (n == 0 && !v[strspn(v, "0")]));
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {"Upload-Metadata", "Upload-Checksum", "Upload-Length",
					    "Upload-Offset"};
	struct evbuffer *head = evbuffer_new();
	size_t pos = 0;

	if (!head)
		return 0;
	evbuffer_add_printf(head, "POST /tus/ HTTP/1.1\r\nHost: fuzz\r\nTus-Resumable: 1.0.0\r\n");
	for (size_t i = 0; i < 4; i++) {
		const uint8_t *v;
		size_t len;

		fuzz_req_piece(data, size, &pos, &v, &len);
		evbuffer_add_printf(head, "%s: ", names[i]);
		fuzz_req_value(head, v, len);
		evbuffer_add(head, "\r\n", 2);
	}
	evbuffer_add(head, "\r\n", 2);
	fuzz_req_run(head, check_meta, NULL);
	evbuffer_free(head);
	return 0;
}
