/*
 * fuzz_query — libFuzzer driver for query strings and percent-decoding
 * (server/http/http.c: http_req_query_param, http_pct_decode). The first
 * line of the input is the request target's query (bytes a target cannot
 * hold are dropped by the parser's refusal, as from a client); the rest
 * is decoded as raw bytes. Invariants: a decoded value is never longer
 * than its source and never holds a NUL that the source did not.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct input {
	const uint8_t *rest;
	size_t rest_len;
};

static void check_query(struct http_req *req, void *arg)
{
	static const char *const names[] = {"q", "wp", "path", "limit", "offset", "", "a=b"};
	struct input *in = arg;
	const char *q = http_req_query(req);

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		const char *v = http_req_query_param(req, names[i]);

		if (v)
			assert(strlen(v) <= strlen(q));
	}
	for (int plus = 0; plus < 2; plus++) {
		char *d = http_pct_decode(req, (const char *)in->rest, in->rest_len, plus);

		if (d && !memchr(in->rest, '\0', in->rest_len))
			assert(strlen(d) <= in->rest_len);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evbuffer *head = evbuffer_new();
	struct input in;
	const uint8_t *q;
	size_t pos = 0, qlen;

	if (!head)
		return 0;
	fuzz_req_piece(data, size, &pos, &q, &qlen);
	in.rest = data + pos;
	in.rest_len = size - pos;
	evbuffer_add_printf(head, "GET /api/v1/search?");
	for (size_t i = 0; i < qlen; i++)
		if (q[i] > 0x20 && q[i] < 0x7f)
			evbuffer_add(head, q + i, 1);
	evbuffer_add_printf(head, " HTTP/1.1\r\nHost: fuzz\r\n\r\n");
	fuzz_req_run(head, check_query, &in);
	evbuffer_free(head);
	return 0;
}
