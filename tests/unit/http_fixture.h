/*
 * http_fixture — one HTTP/1.1 connection (server/http/http.c) on a plain
 * event loop, with an in-memory bufferevent pair in place of TLS and a
 * socket: the test writes what a client sends into the client end and
 * reads what the server answered from it. No threads, no timers unless
 * the test waits for them (hf_pump_ms).
 *
 * Shared by the unit tests that drive a connection (http/test_http.c,
 * api/test_router.c). Header-only: every function is static inline.
 */
#ifndef CONSORT_HTTP_FIXTURE_H
#define CONSORT_HTTP_FIXTURE_H

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/http.h"

struct hf {
	struct event_base *base;
	struct bufferevent *client; /* the client's end */
	struct http_conn *conn;
	struct http_limits limits;
	int closed; /* on_closed calls */
	char *out;  /* everything the server sent, NUL-terminated */
	size_t out_len;
};

/* Move what the server sent so far into f->out. */
static inline void hf_collect(struct hf *f)
{
	struct evbuffer *in;
	size_t n;

	if (!f->client)
		return;
	in = bufferevent_get_input(f->client);
	n = evbuffer_get_length(in);
	if (!n)
		return;
	f->out = realloc(f->out, f->out_len + n + 1);
	if (!f->out)
		abort();
	evbuffer_remove(in, f->out + f->out_len, n);
	f->out_len += n;
	f->out[f->out_len] = '\0';
}

/* Run the loop until nothing is left to do right now. */
static inline void hf_pump(struct hf *f)
{
	for (int i = 0; i < 50; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	hf_collect(f);
}

/* Run the loop for `ms` of real time (timers: linger, timeouts). */
static inline void hf_pump_ms(struct hf *f, unsigned ms)
{
	struct timespec start, now, nap = {0, 1000 * 1000};

	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		hf_pump(f);
		nanosleep(&nap, NULL);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000 <
		 (long)ms);
	hf_pump(f);
}

static inline void hf_closed(void *app) { ((struct hf *)app)->closed++; }

/* Open a connection whose requests go to `on_request` with `f` as the
 * application pointer. f->limits may be set before (zero: defaults with a
 * short linger). Returns false when the fixture could not be built. */
static inline bool hf_open(struct hf *f, http_request_fn on_request)
{
	struct bufferevent *pair[2];

	if (!f->limits.max_head) {
		http_limits_default(&f->limits);
		f->limits.linger_ms = 5;
	}
	f->base = event_base_new();
	if (!f->base || bufferevent_pair_new(f->base, BEV_OPT_CLOSE_ON_FREE, pair) != 0)
		return false;
	f->client = pair[1];
	bufferevent_enable(f->client, EV_READ | EV_WRITE);
	f->conn = http_conn_new(pair[0], "192.0.2.1", &f->limits, on_request, hf_closed, f);
	return f->conn != NULL;
}

static inline void hf_send(struct hf *f, const char *bytes)
{
	bufferevent_write(f->client, bytes, strlen(bytes));
	hf_pump(f);
}

/* The client hangs up: the server sees EOF (a pair tells its partner
 * only on a BEV_FINISHED flush; freeing one end says nothing). The
 * client's end stays readable. */
static inline void hf_hangup(struct hf *f)
{
	bufferevent_flush(f->client, EV_WRITE, BEV_FINISHED);
	hf_pump(f);
}

/* How often `needle` occurs in what the server sent. */
static inline int hf_count(const struct hf *f, const char *needle)
{
	int n = 0;

	for (const char *p = f->out; p && (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* The n-th (0-based) response the server sent, from its status line on;
 * NULL when there are fewer. */
static inline const char *hf_response(const struct hf *f, int nth)
{
	const char *p = f->out;

	for (int i = 0; p && (p = strstr(p, "HTTP/1.1 ")); i++, p++)
		if (i == nth)
			return p;
	return NULL;
}

/* Cut the connection if still open and free everything. */
static inline void hf_close(struct hf *f)
{
	if (f->conn && !f->closed)
		http_conn_abort(f->conn);
	if (f->client)
		bufferevent_free(f->client);
	if (f->base)
		event_base_free(f->base);
	free(f->out);
	memset(f, 0, sizeof *f);
}

#endif
