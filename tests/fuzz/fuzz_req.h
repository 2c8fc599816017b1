/*
 * fuzz_req — one request through a real connection (server/http/http.c
 * over a bufferevent pair), for drivers whose parser needs a struct
 * http_req (its arena) or reads headers the way handlers do. Header-only.
 */
#ifndef CONSORT_FUZZ_REQ_H
#define CONSORT_FUZZ_REQ_H

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

typedef void (*fuzz_req_fn)(struct http_req *req, void *arg);

struct fuzz_req {
	fuzz_req_fn fn;
	void *arg;
	int calls, closed;
};

static inline void fuzz_req_on_request(struct http_req *req, void *app)
{
	struct fuzz_req *f = app;

	f->calls++;
	f->fn(req, f->arg);
	http_resp_send(req, 200, "ok", 2);
}

static inline void fuzz_req_on_closed(void *app) { ((struct fuzz_req *)app)->closed++; }

/* Copy `data` into `out` as one header value: bytes a header cannot hold
 * (CR, LF, NUL and other controls but tab) become spaces. */
static inline void fuzz_req_value(struct evbuffer *out, const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		uint8_t c = data[i];

		evbuffer_add(out, (c < 0x20 && c != '\t') || c == 0x7f ? " " : (const char *)&c, 1);
	}
}

/* Send `head` (a complete request head, CRLF CRLF included) and call
 * fn(req, arg) for each request the connection reads from it. Returns
 * the number of calls. */
static inline int fuzz_req_run(struct evbuffer *head, fuzz_req_fn fn, void *arg)
{
	struct fuzz_req f = {fn, arg, 0, 0};
	struct event_base *base = event_base_new();
	struct bufferevent *pair[2];
	struct http_limits limits;
	struct http_conn *conn;

	if (!base)
		return 0;
	if (bufferevent_pair_new(base, BEV_OPT_CLOSE_ON_FREE, pair) != 0) {
		event_base_free(base);
		return 0;
	}
	http_limits_default(&limits);
	limits.linger_ms = 1;
	conn = http_conn_new(pair[0], "fuzz", &limits, fuzz_req_on_request, fuzz_req_on_closed, &f);
	if (!conn) {
		bufferevent_free(pair[1]);
		event_base_free(base);
		return 0;
	}
	bufferevent_enable(pair[1], EV_READ | EV_WRITE);
	bufferevent_write_buffer(pair[1], head);
	for (int i = 0; i < 20 && !f.closed; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	if (!f.closed)
		http_conn_abort(conn);
	bufferevent_free(pair[1]);
	event_base_free(base);
	return f.calls;
}

/* Split data at the first '\n' after *pos: the piece in [*start, *len). */
static inline void fuzz_req_piece(const uint8_t *data, size_t size, size_t *pos,
				  const uint8_t **start, size_t *len)
{
	const uint8_t *nl = *pos < size ? memchr(data + *pos, '\n', size - *pos) : NULL;

	*start = data + *pos;
	*len = nl ? (size_t)(nl - *start) : size - (*pos < size ? *pos : size);
	*pos += *len + (nl ? 1 : 0);
	if (*pos > size)
		*pos = size;
}

#endif
