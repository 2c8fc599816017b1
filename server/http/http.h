/*
 * http — HTTP/1.1 connections over libevent bufferevents.
 *
 * One struct http_conn per accepted connection (TLS underneath, see
 * tls.h), living on the event loop of the worker that accepted it. Each
 * request is handed to the application as soon as its head is parsed;
 * the body has not been read yet. The application then either
 *
 *   - answers at once (a refusal such as 401/403/413: the connection is
 *     closed after the answer if a body was announced, and no
 *     100 Continue is ever sent), or
 *   - calls http_req_read_body() with a sink; the body then arrives in
 *     pieces (Content-Length or chunked, decoded), read from the socket
 *     only as fast as the sink takes it, and the sink's on_end answers.
 *
 * Responses are written with http_resp_*: a complete body in memory, or
 * a streamed body pulled from a source in bounded windows as the socket
 * drains (downloads of any size use constant memory).
 *
 * Pipelined requests are answered in order: the next request is parsed
 * only after the current response is complete.
 *
 * Lifetime: a struct http_req stays valid until its response is complete
 * or its connection dies. A handler that answers later (after a job on
 * another thread) takes a hold with http_req_hold(); the request then
 * stays allocated until http_req_release(), and http_req_alive() tells
 * whether the connection is still there to answer on.
 */
#ifndef CONSORT_HTTP_H
#define CONSORT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct bufferevent;
struct event_base;
struct evbuffer;
struct http_conn;
struct http_req;

/* Limits and timeouts, shared by every connection of a server. */
struct http_limits {
	size_t max_head;              /* request line + headers, bytes (431) */
	size_t max_target;            /* request target, bytes (414) */
	unsigned head_timeout_ms;     /* first byte to end of head */
	unsigned idle_timeout_ms;     /* keep-alive wait for the next request */
	unsigned write_timeout_ms;    /* a stalled reader of our response */
	unsigned body_rate_window_ms; /* minimum body rate checked per window */
	uint64_t body_min_rate;       /* bytes per second, averaged per window */
	unsigned linger_ms;           /* draining an unread body before close */
	unsigned max_requests_per_conn;
};

void http_limits_default(struct http_limits *l);

/* Called when a request head has been parsed and checked. `app` is the
 * pointer given to http_conn_new. */
typedef void (*http_request_fn)(struct http_req *req, void *app);

/* Called once when a connection is freed, so the owner can count it. */
typedef void (*http_closed_fn)(void *app);

/* Takes ownership of `bev` (a bufferevent already set up for TLS, see
 * tls.h) and starts reading requests. `peer` is the textual address of
 * the remote end. Returns NULL on allocation failure, having freed bev. */
struct http_conn *http_conn_new(struct bufferevent *bev, const char *peer,
				const struct http_limits *limits, http_request_fn on_request,
				http_closed_fn on_closed, void *app);

/* Stop the connection gracefully: close now if idle between requests,
 * otherwise answer the current request with Connection: close. */
void http_conn_shutdown(struct http_conn *c);

/* Close and free the connection now, whatever its state. Only for the
 * end of a worker's life, when no job can still hold a request. */
void http_conn_abort(struct http_conn *c);

/* --- request ---------------------------------------------------------- */

const char *http_req_method(const struct http_req *req);
/* The request target's path, still percent-encoded, without the query. */
const char *http_req_path(const struct http_req *req);
/* The query string without '?', or "" */
const char *http_req_query(const struct http_req *req);
/* First value of a header (case-insensitive name), or NULL. */
const char *http_req_header(const struct http_req *req, const char *name);
/* Number of occurrences of a header. */
int http_req_header_count(const struct http_req *req, const char *name);
/* Textual peer address. */
const char *http_req_peer(const struct http_req *req);
/* Declared body length; -1 for chunked; 0 when there is no body. */
int64_t http_req_body_length(const struct http_req *req);
bool http_req_has_body(const struct http_req *req);
bool http_req_is_head(const struct http_req *req);
/* Milliseconds since the request head was complete (for logs/metrics). */
uint64_t http_req_elapsed_us(const struct http_req *req);
/* The connection's application pointer. */
void *http_req_app(const struct http_req *req);

/* Request-scoped storage: freed when the request ends. Returns NULL on
 * allocation failure. */
void *http_req_alloc(struct http_req *req, size_t n);
char *http_req_strndup(struct http_req *req, const char *s, size_t n);

/* Application data for the duration of the request (e.g. the caller). */
void http_req_set_data(struct http_req *req, void *data);
void *http_req_data(const struct http_req *req);

/* --- request body ------------------------------------------------------- */

struct http_body_sink {
	/* A piece of the decoded body. Returning non-zero aborts the body:
	 * the sink must then have answered (or will answer) the request, and
	 * the connection closes after that answer. on_abort is not called
	 * after a refusal: the sink releases what it holds before returning
	 * it. */
	enum err (*on_data)(struct http_req *req, const void *data, size_t len, void *arg);
	/* The whole body has arrived; the sink answers the request. */
	void (*on_end)(struct http_req *req, void *arg);
	/* The body will never complete (client gone, timeout, malformed
	 * chunking). Release resources; do not answer. May be NULL. */
	void (*on_abort)(struct http_req *req, void *arg);
};

/* Accept the body: send 100 Continue if the client asked for it and
 * start delivering pieces to `sink`. A request without a body gets
 * on_end at once (from the event loop, not from inside this call). */
void http_req_read_body(struct http_req *req, const struct http_body_sink *sink, void *arg);

/* Backpressure for sinks that complete work asynchronously. */
void http_req_pause_body(struct http_req *req);
void http_req_resume_body(struct http_req *req);

/* --- holds ---------------------------------------------------------------- */

void http_req_hold(struct http_req *req);
void http_req_release(struct http_req *req);
bool http_req_alive(const struct http_req *req);

/* --- response ------------------------------------------------------------- */

/* Add a response header. Headers are sent with the status line when the
 * body starts. The value is formatted straight into the response head,
 * with no cap but the head limit (max_head). A name that is not a token,
 * a value holding CR, LF or NUL, or a head past the limit is refused in
 * every build: it is logged, and the response becomes a 500 JSON error
 * instead of a split or cut header. */
void http_resp_header(struct http_req *req, const char *name, const char *value);
void http_resp_headerf(struct http_req *req, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Send a complete response with a body in memory (copied). For HEAD the
 * body is omitted but Content-Length is kept. */
void http_resp_send(struct http_req *req, int status, const void *body, size_t len);

/* Send `status` with a JSON error body {"error":code,"detail":detail}.
 * The one place error bodies are written. */
void http_resp_error(struct http_req *req, int status, const char *code, const char *detail);

/* A source for a streamed body. fill() appends up to `max` bytes to
 * `out` and returns ERR_OK; it sets *done when the body is complete. On
 * failure the connection is closed (the status line has gone out). */
struct http_body_source {
	enum err (*fill)(struct http_req *req, struct evbuffer *out, size_t max, bool *done,
			 void *arg);
	void (*release)(void *arg); /* always called once; may be NULL */
};

/* Start a streamed response. length >= 0 sends Content-Length and the
 * source must produce exactly that many bytes; length < 0 uses chunked
 * transfer coding (HTTP/1.1) or close-delimited (HTTP/1.0). */
void http_resp_stream(struct http_req *req, int status, int64_t length,
		      const struct http_body_source *src, void *arg);

/* True once a response has been started for this request. */
bool http_resp_started(const struct http_req *req);
int http_resp_status(const struct http_req *req);
/* Response body bytes sent (the access log's figure). */
uint64_t http_resp_bytes(const struct http_req *req);
/* Wire figures for metrics: request head plus decoded body bytes read
 * so far; response status line, headers and body bytes queued. */
uint64_t http_req_bytes_in(const struct http_req *req);
uint64_t http_resp_bytes_out(const struct http_req *req);

/* Hook called when each request ends (response complete or connection
 * died), for access logs and metrics. */
typedef void (*http_done_fn)(struct http_req *req, bool completed);
void http_set_done_hook(http_done_fn fn);

/* Standard reason phrase for a status code. */
const char *http_reason(int status);

/* Percent-decode [s, s+len) into a new request-scoped NUL-terminated
 * string. Refuses malformed escapes and encoded NUL; `plus_is_space` for
 * query strings. Returns NULL on error. */
char *http_pct_decode(struct http_req *req, const char *s, size_t len, bool plus_is_space);

/* Look up a query parameter (decoded, request-scoped) or NULL. */
const char *http_req_query_param(struct http_req *req, const char *name);

#endif
