/*
 * fuzz_http — libFuzzer driver for a whole HTTP/1.1 connection: the
 * input is everything a client sends (pipelined requests, chunked and
 * Content-Length bodies, trailers, garbage), fed through a bufferevent
 * pair instead of TLS in two pieces. The application answers GETs and
 * reads bodies on /sink into a counting sink that sometimes pauses.
 * Invariants: no crash, no leak, every byte a body sink receives belongs
 * to a body it accepted, and the output is a sequence of well-formed
 * status lines.
 */
#include <assert.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct app {
	struct event_base *base;
	uint64_t body_bytes;
	int closed;
	int pauses;
};

static enum err on_data(struct http_req *req, const void *d, size_t len, void *arg)
{
	struct app *app = arg;

	(void)d;
	app->body_bytes += len;
	if (len % 7 == 3 && app->pauses < 3) {
		/* exercise pause/resume from inside the callback */
		app->pauses++;
		http_req_pause_body(req);
		http_req_resume_body(req);
	}
	return len % 97 == 13 ? ERR_INVALID : ERR_OK;
}

static void on_end(struct http_req *req, void *arg)
{
	(void)arg;
	http_resp_send(req, 200, "done", 4);
}

static const struct http_body_sink sink = {on_data, on_end, NULL};

static void on_request(struct http_req *req, void *arg)
{
	if (!strcmp(http_req_path(req), "/sink")) {
		http_req_read_body(req, &sink, arg);
		return;
	}
	http_resp_header(req, "X-Test", "1");
	http_resp_send(req, 200, "hello", 5);
}

static void on_closed(void *arg) { ((struct app *)arg)->closed++; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct app app = {0};
	struct bufferevent *pair[2];
	struct http_limits limits;
	struct evbuffer *got;
	struct http_conn *conn;

	http_limits_default(&limits);
	limits.max_head = 2048;
	limits.linger_ms = 1;
	app.base = event_base_new();
	if (!app.base)
		return 0;
	if (bufferevent_pair_new(app.base, BEV_OPT_CLOSE_ON_FREE, pair) != 0) {
		event_base_free(app.base);
		return 0;
	}
	conn = http_conn_new(pair[0], "fuzz", &limits, on_request, on_closed, &app);
	if (!conn) {
		bufferevent_free(pair[1]);
		event_base_free(app.base);
		return 0;
	}
	bufferevent_enable(pair[1], EV_READ | EV_WRITE);
	bufferevent_write(pair[1], data, size / 2);
	for (int i = 0; i < 20; i++)
		event_base_loop(app.base, EVLOOP_NONBLOCK);
	bufferevent_write(pair[1], data + size / 2, size - size / 2);
	for (int i = 0; i < 50 && !app.closed; i++)
		event_base_loop(app.base, EVLOOP_NONBLOCK);
	got = bufferevent_get_input(pair[1]);
	if (evbuffer_get_length(got) > 0) {
		const char *out = (const char *)evbuffer_pullup(got, 9);

		assert(out && (!memcmp(out, "HTTP/1.1 ", 9)));
	}
	assert(app.body_bytes <= size);
	/* A connection still open (keep-alive, or waiting for more) is cut
	 * the way a worker does at the end of its life. */
	if (!app.closed)
		http_conn_abort(conn);
	assert(app.closed == 1);
	bufferevent_free(pair[1]);
	event_base_free(app.base);
	return 0;
}
