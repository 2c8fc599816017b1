/*
 * http — see http.h.
 *
 * Threading: a connection and its requests belong to the event loop of
 * one worker thread; every function here must be called on that thread.
 *
 * Freeing: callbacks into the application may close the connection or
 * finish the response. Nothing is freed while a callback of ours is on
 * the stack (c->depth) or while the application holds the request
 * (c->holds); the connection is only marked and freed at a safe point.
 * Finishing a request (access log, freeing its memory, starting the next
 * pipelined request) happens from a deferred event, never inside the
 * call that completed the response.
 */
#include "digest.h"
#include "http/http.h"
#include "http/httpparse.h"
#include "http/log.h"
#include "http/reply.h"
#include "http/tls.h"

#include <assert.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Bytes of input buffered before the socket stops being read. This is
 * done by disabling EV_READ from our read callback rather than with a
 * read high-watermark: libevent 2.1's OpenSSL bufferevent stops in the
 * middle of a decrypted record when a watermark suspends reading, and
 * never resumes if the rest of the data is already inside OpenSSL (no
 * socket event will come). From the callback, OpenSSL holds nothing. */
#define INPUT_PAUSE_AT (256 * 1024)
/* A streamed body is refilled when output drops below this... */
#define WRITE_LOW_WATER (512 * 1024)
/* ...with a window of at most this many bytes. */
#define FILL_WINDOW (1024 * 1024)
/* Longest chunk-size line (with extensions) accepted. */
#define MAX_CHUNK_LINE 4096
/* Bytes discarded while lingering before the connection is cut. */
#define LINGER_MAX_BYTES (4 * 1024 * 1024)

enum conn_state {
	CS_HEAD,    /* waiting for / reading a request head */
	CS_REQUEST, /* the request is with the application */
	CS_LINGER,  /* response sent; draining an unread body before close */
	CS_CLOSING, /* flushing the last response, then close */
	CS_DEAD,    /* socket gone; waiting for a safe point to free */
};

enum body_state {
	BODY_NONE,   /* no body, or fully read */
	BODY_UNREAD, /* announced, not (yet) accepted by the application */
	BODY_READING,
	BODY_PAUSED,
	BODY_FAILED, /* malformed or aborted; connection will close */
};

enum chunk_state { CH_SIZE, CH_DATA, CH_DATA_END, CH_TRAILER };

struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	max_align_t data[];
};

struct http_req {
	struct http_conn *conn;
	struct arena_block *arena;
	struct httpparse_head head;
	char *method, *path, *query;
	bool is_head;
	bool keepalive;
	bool http10;
	bool expect_continue;
	uint64_t start_us;
	void *data;
	uint64_t bytes_in; /* head plus decoded body bytes read */

	/* body */
	enum body_state body;
	bool chunked;
	enum chunk_state chunk;
	uint64_t body_left;  /* Content-Length left, or bytes left in chunk */
	int64_t body_length; /* as announced: -1 chunked */
	size_t trailer_bytes;
	const struct http_body_sink *sink;
	void *sink_arg;
	bool body_end_pending; /* on_end due from the deferred event */

	/* response */
	int status;
	struct evbuffer *resp_head; /* header lines gathered so far */
	const char *resp_head_bad;  /* why a header was refused (static text), or NULL */
	bool resp_started;
	bool resp_complete;
	bool resp_chunked;
	bool resp_close_delimited;
	int64_t resp_left;        /* bytes the stream still owes (length known) */
	uint64_t resp_bytes;      /* body bytes sent */
	uint64_t resp_head_bytes; /* status line and headers */
	const struct http_body_source *src;
	void *src_arg;
};

struct http_conn {
	struct bufferevent *bev;
	struct event *timer;
	struct event *kick;
	const struct http_limits *limits;
	http_request_fn on_request;
	http_closed_fn on_closed;
	void *app;
	char peer[64];

	enum conn_state state;
	struct http_req req; /* one request at a time; pipelined ones wait in input */
	bool req_active;
	size_t head_scanned;
	unsigned nrequests;
	bool shutdown;
	bool read_off; /* EV_READ disabled for backpressure */

	int depth; /* our callbacks on the stack */
	int holds; /* application holds on the current request */
	bool kicked;

	uint64_t rate_bytes; /* body bytes in the current rate window */
	size_t linger_bytes;
};

static http_done_fn done_hook;

void http_set_done_hook(http_done_fn fn) { done_hook = fn; }

void http_limits_default(struct http_limits *l)
{
	l->max_head = 16 * 1024;
	l->max_target = 8 * 1024;
	l->head_timeout_ms = 10000;
	l->idle_timeout_ms = 60000;
	l->write_timeout_ms = 60000;
	l->body_rate_window_ms = 10000;
	l->body_min_rate = 1024;
	l->linger_ms = 2000;
	l->max_requests_per_conn = 10000;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* --- request arena ------------------------------------------------------- */

void *http_req_alloc(struct http_req *req, size_t n)
{
	struct arena_block *b = req->arena;
	size_t need = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	void *p;

	if (!b || b->cap - b->used < need) {
		size_t cap = need > 8192 ? need : 8192;

		b = malloc(sizeof *b + cap);
		if (!b)
			return NULL;
		b->used = 0;
		b->cap = cap;
		b->next = req->arena;
		req->arena = b;
	}
	p = (char *)b->data + b->used;
	b->used += need;
	return p;
}

char *http_req_strndup(struct http_req *req, const char *s, size_t n)
{
	char *p = http_req_alloc(req, n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static void arena_free(struct http_req *req)
{
	while (req->arena) {
		struct arena_block *next = req->arena->next;

		free(req->arena);
		req->arena = next;
	}
}

/* --- small accessors ------------------------------------------------------ */

const char *http_req_method(const struct http_req *req) { return req->method ? req->method : "-"; }
const char *http_req_path(const struct http_req *req) { return req->path ? req->path : "-"; }
const char *http_req_query(const struct http_req *req) { return req->query ? req->query : ""; }
const char *http_req_peer(const struct http_req *req) { return req->conn->peer; }
int64_t http_req_body_length(const struct http_req *req) { return req->body_length; }
bool http_req_has_body(const struct http_req *req) { return req->body_length != 0; }
bool http_req_is_head(const struct http_req *req) { return req->is_head; }
void *http_req_app(const struct http_req *req) { return req->conn->app; }
void http_req_set_data(struct http_req *req, void *data) { req->data = data; }
void *http_req_data(const struct http_req *req) { return req->data; }
bool http_resp_started(const struct http_req *req) { return req->resp_started; }
int http_resp_status(const struct http_req *req) { return req->status; }
uint64_t http_resp_bytes(const struct http_req *req) { return req->resp_bytes; }
uint64_t http_req_bytes_in(const struct http_req *req) { return req->bytes_in; }
uint64_t http_resp_bytes_out(const struct http_req *req)
{
	return req->resp_head_bytes + req->resp_bytes;
}

uint64_t http_req_elapsed_us(const struct http_req *req) { return now_us() - req->start_us; }

const char *http_req_header(const struct http_req *req, const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < req->head.nfields; i++) {
		const struct httpparse_field *f = &req->head.fields[i];

		if (f->name_len == n && strncasecmp(f->name, name, n) == 0)
			return f->value;
	}
	return NULL;
}

int http_req_header_count(const struct http_req *req, const char *name)
{
	size_t n = strlen(name);
	int count = 0;

	for (size_t i = 0; i < req->head.nfields; i++) {
		const struct httpparse_field *f = &req->head.fields[i];

		if (f->name_len == n && strncasecmp(f->name, name, n) == 0)
			count++;
	}
	return count;
}

char *http_pct_decode(struct http_req *req, const char *s, size_t len, bool plus_is_space)
{
	char *out = http_req_alloc(req, len + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return NULL;
			hi = digest_hexval((unsigned char)s[i + 1]);
			lo = digest_hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return NULL;
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else if (plus_is_space && s[i] == '+') {
			*o++ = ' ';
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

const char *http_req_query_param(struct http_req *req, const char *name)
{
	const char *q = http_req_query(req);
	size_t n = strlen(name);

	while (*q) {
		const char *amp = strchr(q, '&');
		size_t plen = amp ? (size_t)(amp - q) : strlen(q);
		const char *eq = memchr(q, '=', plen);
		size_t klen = eq ? (size_t)(eq - q) : plen;

		if (klen == n && memcmp(q, name, n) == 0) {
			if (!eq)
				return "";
			return http_pct_decode(req, eq + 1, plen - klen - 1, true);
		}
		if (!amp)
			break;
		q = amp + 1;
	}
	return NULL;
}

/* --- status texts ------------------------------------------------------ */

const char *http_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 207: return "Multi-Status";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 421: return "Misdirected Request";
	case 422: return "Unprocessable Content";
	case 423: return "Locked";
	case 424: return "Failed Dependency";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 460: return "Checksum Mismatch";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	case 507: return "Insufficient Storage";
	default: return status < 300 ? "OK" : status < 500 ? "Client Error" : "Server Error";
	}
}

/* --- connection plumbing -------------------------------------------------- */

static void conn_process(struct http_conn *c);
static void conn_arm_timer(struct http_conn *c);

static void conn_free(struct http_conn *c)
{
	http_closed_fn closed = c->on_closed;
	void *app = c->app;

	if (c->bev)
		bufferevent_free(c->bev);
	event_free(c->timer);
	event_free(c->kick);
	if (c->req.resp_head)
		evbuffer_free(c->req.resp_head);
	arena_free(&c->req);
	free(c);
	if (closed)
		closed(app);
}

/* Free the connection if nothing still refers to it. */
static void conn_maybe_free(struct http_conn *c)
{
	if (c->state == CS_DEAD && c->depth == 0 && c->holds == 0)
		conn_free(c);
}

static void kick(struct http_conn *c)
{
	if (!c->kicked) {
		c->kicked = true;
		event_active(c->kick, EV_TIMEOUT, 0);
	}
}

/* Tell the application the request will not complete, then forget it. */
static void req_end(struct http_conn *c, bool completed)
{
	struct http_req *req = &c->req;

	if (!c->req_active)
		return;
	c->req_active = false;
	if (!completed && req->sink && req->body != BODY_NONE && req->sink->on_abort) {
		const struct http_body_sink *sink = req->sink;

		req->sink = NULL;
		sink->on_abort(req, req->sink_arg);
	}
	if (req->src) {
		const struct http_body_source *src = req->src;

		req->src = NULL;
		if (src->release)
			src->release(req->src_arg);
	}
	if (done_hook && (req->resp_started || req->method))
		done_hook(req, completed);
}

/* Drop the socket now; memory goes at the next safe point. */
static void conn_kill(struct http_conn *c)
{
	if (c->state == CS_DEAD)
		return;
	c->state = CS_DEAD;
	event_del(c->timer);
	if (c->bev) {
		tls_close_notify(c->bev);
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	req_end(c, c->req.resp_complete && c->req.body == BODY_NONE);
	kick(c);
}

static void req_reset(struct http_conn *c)
{
	struct http_req *req = &c->req;
	struct evbuffer *rh = req->resp_head;

	arena_free(req);
	memset(req, 0, sizeof *req);
	req->conn = c;
	req->resp_head = rh;
	if (rh)
		evbuffer_drain(rh, evbuffer_get_length(rh));
	req->keepalive = true;
	req->start_us = now_us();
}

/* --- response writing ---------------------------------------------------- */

static void date_header(char *buf, size_t n)
{
	static _Thread_local time_t cached_at;
	static _Thread_local char cached[40];
	time_t t = time(NULL);

	if (t != cached_at) {
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(cached, sizeof cached, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		cached_at = t;
	}
	snprintf(buf, n, "%s", cached);
}

/* A header name is an RFC 9110 token. */
static bool header_name_ok(const char *name)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~";

	if (!*name)
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (!(*p >= '0' && *p <= '9') && !((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') &&
		    !strchr(tchar, *p))
			return false;
	return true;
}

/* Refuse the response's headers: nothing gathered so far is sent, and
 * the response becomes a 500 when it starts (see head_refused). The
 * value is not logged: it may be a cookie. */
static void header_refuse(struct http_req *req, const char *name, const char *why)
{
	if (!req->resp_head_bad)
		log_event(LOG_ERROR, "header", "%s %s: response header '%.64s' refused: %s",
			  req->method ? req->method : "-", req->path ? req->path : "-", name, why);
	req->resp_head_bad = why;
}

/* Append "name: value\r\n" to the response head, the value formatted
 * straight into it: there is no cap but the head limit (max_head, the
 * same as for request heads), so a long file name or path comes out
 * whole or not at all. CR, LF or NUL in the value would split the header
 * or cut it: the whole response is refused instead (in every build, not
 * only under assert). */
__attribute__((format(printf, 3, 0))) static void
header_vadd(struct http_req *req, const char *name, const char *fmt, va_list ap)
{
	struct evbuffer *rh;
	size_t vstart, end;
	const unsigned char *p;

	if (req->resp_head_bad || req->resp_started)
		return;
	if (!header_name_ok(name)) {
		header_refuse(req, "-", "malformed header name");
		return;
	}
	if (!req->resp_head)
		req->resp_head = evbuffer_new();
	rh = req->resp_head;
	if (!rh) {
		header_refuse(req, name, "out of memory");
		return;
	}
	if (evbuffer_add_printf(rh, "%s: ", name) < 0) {
		header_refuse(req, name, "out of memory");
		return;
	}
	vstart = evbuffer_get_length(rh);
	if (evbuffer_add_vprintf(rh, fmt, ap) < 0) {
		header_refuse(req, name, "out of memory");
		return;
	}
	end = evbuffer_get_length(rh);
	if (end + 2 > req->conn->limits->max_head) {
		header_refuse(req, name, "the response head exceeds max-head");
		return;
	}
	p = evbuffer_pullup(rh, -1);
	if (!p) {
		header_refuse(req, name, "out of memory");
		return;
	}
	for (size_t i = vstart; i < end; i++)
		if (p[i] == '\r' || p[i] == '\n' || p[i] == '\0') {
			header_refuse(req, name, "CR, LF or NUL in the value");
			return;
		}
	evbuffer_add(rh, "\r\n", 2);
}

void http_resp_header(struct http_req *req, const char *name, const char *value)
{
	http_resp_headerf(req, name, "%s", value);
}

void http_resp_headerf(struct http_req *req, const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	header_vadd(req, name, fmt, ap);
	va_end(ap);
}

/* True when a header was refused: the gathered headers are dropped and
 * a 500 goes out in place of the response the handler meant. */
static bool head_refused(struct http_req *req)
{
	if (!req->resp_head_bad)
		return false;
	req->resp_head_bad = NULL;
	if (req->resp_head)
		evbuffer_drain(req->resp_head, evbuffer_get_length(req->resp_head));
	reply_err(req, err_set(ERR_INTERNAL, "the server could not form a response header "
					     "(the log has the detail)"));
	return true;
}

static bool status_has_body(int status) { return status >= 200 && status != 204 && status != 304; }

/* Status line and headers into the output. `length` < 0: no
 * Content-Length (chunked or close-delimited, decided here). */
static void write_head(struct http_req *req, int status, int64_t length, size_t body_hint)
{
	struct http_conn *c = req->conn;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	size_t before = evbuffer_get_length(out);
	size_t extra = req->resp_head ? evbuffer_get_length(req->resp_head) : 0;
	char date[40];

	/* One contiguous chain for head and a small body: the TLS layer
	 * writes a record per chain, so this makes one record instead of
	 * four for a typical API response. */
	evbuffer_expand(out, 256 + extra + body_hint);

	/* A response that goes out before the whole body was read ends the
	 * connection: the rest of the body is not worth reading. */
	if (c->shutdown || c->nrequests >= c->limits->max_requests_per_conn ||
	    req->body != BODY_NONE)
		req->keepalive = false;
	if (length < 0 && status_has_body(status) && !req->is_head) {
		if (req->http10) {
			req->resp_close_delimited = true;
			req->keepalive = false;
		} else {
			req->resp_chunked = true;
		}
	}
	req->status = status;
	req->resp_started = true;
	date_header(date, sizeof date);
	evbuffer_add_printf(out,
			    "HTTP/1.1 %d %s\r\nDate: %s\r\n"
			    "Strict-Transport-Security: max-age=63072000\r\n",
			    status, http_reason(status), date);
	if (length >= 0 && status_has_body(status))
		evbuffer_add_printf(out, "Content-Length: %lld\r\n", (long long)length);
	else if (req->resp_chunked)
		evbuffer_add_printf(out, "Transfer-Encoding: chunked\r\n");
	if (!req->keepalive)
		evbuffer_add_printf(out, "Connection: close\r\n");
	else if (req->http10)
		evbuffer_add_printf(out, "Connection: keep-alive\r\n");
	if (extra) {
		evbuffer_add(out, evbuffer_pullup(req->resp_head, -1), extra);
		evbuffer_drain(req->resp_head, extra);
	}
	evbuffer_add(out, "\r\n", 2);
	req->resp_head_bytes = evbuffer_get_length(out) - before;
}

static void resp_finished(struct http_req *req)
{
	req->resp_complete = true;
	kick(req->conn);
}

void http_resp_send(struct http_req *req, int status, const void *body, size_t len)
{
	struct http_conn *c = req->conn;

	if (req->resp_started || c->state == CS_DEAD || !c->req_active || head_refused(req))
		return;
	write_head(req, status, (int64_t)len, len <= 64 * 1024 ? len : 0);
	if (!req->is_head && status_has_body(status) && len) {
		evbuffer_add(bufferevent_get_output(c->bev), body, len);
		req->resp_bytes = len;
	}
	resp_finished(req);
}

/* Append `s` to `buf` as JSON string content. */
static void json_escape(struct evbuffer *buf, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			evbuffer_add_printf(buf, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			evbuffer_add_printf(buf, "\\u%04x", *p);
		else
			evbuffer_add(buf, p, 1);
	}
}

void http_resp_error(struct http_req *req, int status, const char *code, const char *detail)
{
	struct evbuffer *b = evbuffer_new();
	size_t len;

	if (!b)
		return;
	evbuffer_add_printf(b, "{\"error\":\"");
	json_escape(b, code);
	evbuffer_add_printf(b, "\",\"detail\":\"");
	json_escape(b, detail ? detail : "");
	evbuffer_add_printf(b, "\"}\n");
	len = evbuffer_get_length(b);
	http_resp_header(req, "Content-Type", "application/json; charset=utf-8");
	http_resp_header(req, "Cache-Control", "no-store");
	http_resp_header(req, "X-Content-Type-Options", "nosniff");
	http_resp_send(req, status, evbuffer_pullup(b, -1), len);
	evbuffer_free(b);
}

/* Pull the next window from the source. Returns false when the
 * connection had to be killed. */
static bool stream_fill(struct http_conn *c)
{
	struct http_req *req = &c->req;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct evbuffer *piece;
	size_t max = FILL_WINDOW, got;
	bool done = false;
	enum err rc;

	if (!req->src || req->resp_complete)
		return true;
	if (req->resp_left >= 0 && (uint64_t)req->resp_left < max)
		max = (size_t)req->resp_left;
	piece = evbuffer_new();
	if (!piece) {
		conn_kill(c);
		return false;
	}
	rc = max ? req->src->fill(req, piece, max, &done, req->src_arg) : ERR_OK;
	got = evbuffer_get_length(piece);
	if (max == 0)
		done = true;
	if (rc || got > max || (done && req->resp_left > 0 && (uint64_t)req->resp_left != got)) {
		/* The status line is out: all we can do is cut the stream so the
		 * client sees a truncated body, never a wrong one. */
		evbuffer_free(piece);
		conn_kill(c);
		return false;
	}
	if (got) {
		if (req->resp_chunked)
			evbuffer_add_printf(out, "%zx\r\n", got);
		evbuffer_add_buffer(out, piece);
		if (req->resp_chunked)
			evbuffer_add(out, "\r\n", 2);
		req->resp_bytes += got;
		if (req->resp_left > 0)
			req->resp_left -= (int64_t)got;
	}
	evbuffer_free(piece);
	if (done || req->resp_left == 0) {
		if (req->resp_chunked)
			evbuffer_add(out, "0\r\n\r\n", 5);
		resp_finished(req);
		bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	}
	return true;
}

void http_resp_stream(struct http_req *req, int status, int64_t length,
		      const struct http_body_source *src, void *arg)
{
	struct http_conn *c = req->conn;

	if (req->resp_started || c->state == CS_DEAD || !c->req_active || head_refused(req)) {
		if (src->release)
			src->release(arg);
		return;
	}
	write_head(req, status, length, 0);
	if (req->is_head || !status_has_body(status) || length == 0) {
		if (src->release)
			src->release(arg);
		resp_finished(req);
		return;
	}
	req->src = src;
	req->src_arg = arg;
	req->resp_left = length >= 0 ? length : -1;
	bufferevent_setwatermark(c->bev, EV_WRITE, WRITE_LOW_WATER, 0);
	c->depth++;
	stream_fill(c);
	c->depth--;
	conn_maybe_free(c);
}

/* --- holds --------------------------------------------------------------- */

void http_req_hold(struct http_req *req) { req->conn->holds++; }

void http_req_release(struct http_req *req)
{
	struct http_conn *c = req->conn;

	assert(c->holds > 0);
	c->holds--;
	conn_maybe_free(c);
}

bool http_req_alive(const struct http_req *req)
{
	return req->conn->state != CS_DEAD && req->conn->req_active;
}

/* --- request body ---------------------------------------------------------- */

void http_req_read_body(struct http_req *req, const struct http_body_sink *sink, void *arg)
{
	struct http_conn *c = req->conn;

	if (c->state == CS_DEAD || req->resp_started)
		return;
	req->sink = sink;
	req->sink_arg = arg;
	if (req->body == BODY_NONE) {
		req->body_end_pending = true;
		kick(c);
		return;
	}
	if (req->body != BODY_UNREAD)
		return;
	req->body = BODY_READING;
	if (req->expect_continue)
		evbuffer_add_printf(bufferevent_get_output(c->bev),
				    "HTTP/1.1 100 Continue\r\n\r\n");
	c->rate_bytes = 0;
	conn_arm_timer(c);
	kick(c);
}

void http_req_pause_body(struct http_req *req)
{
	if (req->body == BODY_READING) {
		req->body = BODY_PAUSED;
		event_del(req->conn->timer);
	}
}

void http_req_resume_body(struct http_req *req)
{
	struct http_conn *c = req->conn;

	if (req->body == BODY_PAUSED && c->state != CS_DEAD) {
		req->body = BODY_READING;
		c->rate_bytes = 0;
		conn_arm_timer(c);
		kick(c);
	}
}

/* The body could not be read (malformed or too slow): tell the sink,
 * answer if nobody has, and close after that. */
static void body_fail(struct http_conn *c, enum err rc, const char *detail)
{
	struct http_req *req = &c->req;
	const struct http_body_sink *sink = req->sink;

	req->body = BODY_FAILED;
	req->keepalive = false;
	req->sink = NULL;
	if (sink && sink->on_abort)
		sink->on_abort(req, req->sink_arg);
	/* Status and code from the one table of reply.c, like every error. */
	if (!req->resp_started)
		reply_err(req, err_set(rc, "%s", detail));
	else if (!req->resp_complete)
		conn_kill(c);
}

static void body_done(struct http_conn *c)
{
	struct http_req *req = &c->req;

	req->body = BODY_NONE;
	event_del(c->timer);
	if (req->sink && req->sink->on_end) {
		const struct http_body_sink *sink = req->sink;

		req->sink = NULL;
		sink->on_end(req, req->sink_arg);
	}
}

/* Hand up to `n` bytes at the head of `in` to the sink. Returns false
 * if the sink refused them. */
static bool deliver(struct http_conn *c, struct evbuffer *in, size_t n)
{
	struct http_req *req = &c->req;
	struct evbuffer_iovec vec[8];
	int nvec;

	while (n > 0 && req->body == BODY_READING) {
		size_t took = 0;

		nvec = evbuffer_peek(in, (ev_ssize_t)n, NULL, vec, 8);
		if (nvec > 8)
			nvec = 8;
		for (int i = 0; i < nvec && took < n; i++) {
			size_t len = vec[i].iov_len;
			enum err rc;

			if (len > n - took)
				len = n - took;
			rc = req->sink->on_data(req, vec[i].iov_base, len, req->sink_arg);
			took += len;
			if (rc) {
				evbuffer_drain(in, took);
				req->body = BODY_FAILED;
				req->keepalive = false;
				req->sink = NULL;
				if (!req->resp_started)
					reply_err(req, rc);
				return false;
			}
			if (req->body != BODY_READING || c->state == CS_DEAD)
				break;
		}
		evbuffer_drain(in, took);
		c->rate_bytes += took;
		req->bytes_in += took;
		n -= took;
		req->body_left -= took;
	}
	return true;
}

/* Read a CRLF-terminated line of at most `cap` bytes from `in` into the
 * request arena. Returns 1 with *line set, 0 when more bytes are needed,
 * -1 on a malformed or oversize line. */
static int read_line(struct http_conn *c, struct evbuffer *in, size_t cap, char **line, size_t *len)
{
	struct evbuffer_ptr p = evbuffer_search(in, "\n", 1, NULL);
	char *buf;

	if (p.pos < 0)
		return evbuffer_get_length(in) > cap ? -1 : 0;
	if ((size_t)p.pos > cap || p.pos == 0)
		return -1;
	buf = http_req_alloc(&c->req, (size_t)p.pos + 1);
	if (!buf)
		return -1;
	evbuffer_remove(in, buf, (size_t)p.pos + 1);
	if (buf[p.pos - 1] != '\r')
		return -1;
	buf[p.pos - 1] = '\0';
	*line = buf;
	*len = (size_t)p.pos - 1;
	return 1;
}

/* Move body bytes from the input to the sink as far as possible. */
static void body_pump(struct http_conn *c)
{
	struct http_req *req = &c->req;
	struct evbuffer *in = bufferevent_get_input(c->bev);

	while (req->body == BODY_READING && c->state != CS_DEAD) {
		size_t avail = evbuffer_get_length(in);

		if (!req->chunked) {
			size_t n = avail < req->body_left ? avail : (size_t)req->body_left;

			if (n && !deliver(c, in, n))
				return;
			if (req->body == BODY_READING && req->body_left == 0)
				body_done(c);
			return;
		}
		switch (req->chunk) {
		case CH_SIZE:
		case CH_DATA_END:
		case CH_TRAILER: {
			char *line;
			size_t len;
			const char *why = "malformed chunked body";
			int r = read_line(c, in,
					  req->chunk == CH_TRAILER ? c->limits->max_head
								   : MAX_CHUNK_LINE,
					  &line, &len);

			if (r == 0)
				return;
			if (r < 0) {
				body_fail(
					c, ERR_INVALID,
					"malformed chunked body: bad line ending or oversize line");
				return;
			}
			if (req->chunk == CH_DATA_END) {
				if (len != 0) {
					body_fail(c, ERR_INVALID,
						  "chunk data longer than its size");
					return;
				}
				req->chunk = CH_SIZE;
			} else if (req->chunk == CH_SIZE) {
				uint64_t size;

				if (!httpparse_chunk_size(line, len, &size, &why)) {
					body_fail(c, ERR_INVALID, why);
					return;
				}
				if (size == 0) {
					req->chunk = CH_TRAILER;
				} else {
					req->body_left = size;
					req->chunk = CH_DATA;
				}
			} else {
				req->trailer_bytes += len + 2;
				if (len == 0) {
					body_done(c);
					return;
				}
				if (req->trailer_bytes > c->limits->max_head) {
					body_fail(c, ERR_HEAD_TOO_LARGE,
						  "trailer section too large");
					return;
				}
				if (!httpparse_trailer_field(line, len, &why)) {
					body_fail(c, ERR_INVALID, why);
					return;
				}
			}
			break;
		}
		case CH_DATA: {
			size_t n = avail < req->body_left ? avail : (size_t)req->body_left;

			if (n == 0)
				return;
			if (!deliver(c, in, n))
				return;
			if (req->body_left == 0)
				req->chunk = CH_DATA_END;
			break;
		}
		}
	}
}

/* --- request head ----------------------------------------------------------- */

/* Answer a request that never reached the application, and close. */
static void head_fail(struct http_conn *c, enum err rc, const char *detail)
{
	struct http_req *req = &c->req;

	c->req_active = true;
	c->state = CS_REQUEST;
	req->keepalive = false;
	req->body = BODY_FAILED;
	reply_err(req, err_set(rc, "%s", detail));
}

static bool has_token(const char *list, const char *token)
{
	size_t n = strlen(token);
	const char *p = list;

	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *e = p;
		while (*e && *e != ',')
			e++;
		const char *t = e;
		while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if ((size_t)(t - p) == n && strncasecmp(p, token, n) == 0)
			return true;
		p = e;
	}
	return false;
}

/* Message-level rules of RFC 9112 on top of the parsed head: the framing
 * of the body must be unambiguous, or the request is refused. */
static bool check_head(struct http_conn *c)
{
	struct http_req *req = &c->req;
	const struct httpparse_head *h = &req->head;
	int n_cl = http_req_header_count(req, "Content-Length");
	int n_te = http_req_header_count(req, "Transfer-Encoding");
	const char *conn = http_req_header(req, "Connection");
	const char *expect = http_req_header(req, "Expect");
	const char *target = h->target;
	size_t tlen = h->target_len;
	const char *q;

	req->http10 = h->minor_version == 0;
	req->method = http_req_strndup(req, h->method, h->method_len);
	if (!req->method) {
		head_fail(c, ERR_NOMEM, "out of memory");
		return false;
	}
	req->is_head = strcmp(req->method, "HEAD") == 0;

	if (!req->http10 && http_req_header_count(req, "Host") != 1) {
		head_fail(c, ERR_INVALID, "exactly one Host header is required");
		return false;
	}
	/* absolute-form targets are reduced to their path */
	if (tlen > 8 &&
	    (strncasecmp(target, "https://", 8) == 0 || strncasecmp(target, "http://", 7) == 0)) {
		const char *slash = memchr(target + 8, '/', tlen - 8);

		if (!slash) {
			target = "/";
			tlen = 1;
		} else {
			tlen -= (size_t)(slash - target);
			target = slash;
		}
	}
	if (!(tlen == 1 && target[0] == '*' && strcmp(req->method, "OPTIONS") == 0) &&
	    target[0] != '/') {
		head_fail(c, ERR_INVALID, "request target must be an absolute path");
		return false;
	}
	if (memchr(target, '#', tlen)) {
		head_fail(c, ERR_INVALID, "fragment in request target");
		return false;
	}
	q = memchr(target, '?', tlen);
	req->path = http_req_strndup(req, target, q ? (size_t)(q - target) : tlen);
	req->query = q ? http_req_strndup(req, q + 1, tlen - (size_t)(q - target) - 1)
		       : http_req_strndup(req, "", 0);
	if (!req->path || !req->query) {
		head_fail(c, ERR_NOMEM, "out of memory");
		return false;
	}

	if (conn) {
		if (has_token(conn, "close"))
			req->keepalive = false;
		else if (req->http10 && !has_token(conn, "keep-alive"))
			req->keepalive = false;
	} else if (req->http10) {
		req->keepalive = false;
	}

	if (n_te > 0 && n_cl > 0) {
		head_fail(c, ERR_INVALID, "both Content-Length and Transfer-Encoding present");
		return false;
	}
	if (n_cl > 1) {
		head_fail(c, ERR_INVALID, "duplicate Content-Length");
		return false;
	}
	if (n_te > 1) {
		head_fail(c, ERR_INVALID, "duplicate Transfer-Encoding");
		return false;
	}
	req->body = BODY_NONE;
	req->body_length = 0;
	if (n_te == 1) {
		const char *te = http_req_header(req, "Transfer-Encoding");

		if (req->http10) {
			head_fail(c, ERR_INVALID, "Transfer-Encoding in an HTTP/1.0 request");
			return false;
		}
		if (strcasecmp(te, "chunked") != 0) {
			head_fail(c, ERR_NOT_IMPLEMENTED,
				  "only the chunked transfer coding is supported");
			return false;
		}
		req->chunked = true;
		req->chunk = CH_SIZE;
		req->body_length = -1;
		req->body = BODY_UNREAD;
	} else if (n_cl == 1) {
		const char *cl = http_req_header(req, "Content-Length");
		uint64_t len;

		if (!httpparse_content_length(cl, strlen(cl), &len)) {
			head_fail(c, ERR_INVALID, "invalid Content-Length");
			return false;
		}
		req->body_length = (int64_t)len;
		req->body_left = len;
		req->body = len ? BODY_UNREAD : BODY_NONE;
	}
	if (expect) {
		if (strcasecmp(expect, "100-continue") != 0) {
			head_fail(c, ERR_EXPECTATION, "only Expect: 100-continue is supported");
			return false;
		}
		req->expect_continue = !req->http10 && req->body == BODY_UNREAD;
	}
	return true;
}

static void head_parse(struct http_conn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct http_req *req = &c->req;
	size_t avail = evbuffer_get_length(in), look, head_len = 0;
	enum httpparse_status st;
	const char *why = "";
	char *buf, *copy;

	if (avail == 0)
		return;
	if (c->head_scanned == 0) {
		req_reset(c);
		conn_arm_timer(c); /* the head deadline runs from the first byte */
	}
	look = avail < c->limits->max_head ? avail : c->limits->max_head;
	buf = (char *)evbuffer_pullup(in, (ev_ssize_t)look);
	st = httpparse_find_end(buf, look, &c->head_scanned, &head_len);
	if (st == HTTPPARSE_INCOMPLETE) {
		if (avail >= c->limits->max_head)
			head_fail(c, ERR_HEAD_TOO_LARGE, "request head exceeds the size limit");
		return;
	}
	c->head_scanned = 0;
	if (st != HTTPPARSE_OK) {
		head_fail(c, ERR_INVALID, "malformed request head (bare LF or NUL)");
		return;
	}
	copy = http_req_strndup(req, buf, head_len);
	evbuffer_drain(in, head_len);
	req->bytes_in = head_len;
	if (!copy) {
		head_fail(c, ERR_NOMEM, "out of memory");
		return;
	}
	st = httpparse_head(copy, head_len, c->limits->max_target, &req->head, &why);
	switch (st) {
	case HTTPPARSE_OK: break;
	case HTTPPARSE_URI_TOO_LONG: head_fail(c, ERR_URI_TOO_LONG, why); return;
	case HTTPPARSE_TOO_LARGE: head_fail(c, ERR_HEAD_TOO_LARGE, why); return;
	case HTTPPARSE_VERSION: head_fail(c, ERR_VERSION, why); return;
	default: head_fail(c, ERR_INVALID, why); return;
	}
	/* Terminate names and values in place (over the ':' and the CR or
	 * whitespace after them) so accessors hand out C strings. */
	for (size_t i = 0; i < req->head.nfields; i++) {
		struct httpparse_field *f = &req->head.fields[i];

		((char *)f->name)[f->name_len] = '\0';
		((char *)f->value)[f->value_len] = '\0';
	}
	c->req_active = true;
	c->nrequests++;
	if (!check_head(c))
		return;
	c->state = CS_REQUEST;
	event_del(c->timer);
	req->start_us = now_us();
	c->on_request(req, c->app);
}

/* --- the state machine -------------------------------------------------------- */

/* The current request is done (response queued, body consumed or given
 * up). Decide between the next request, lingering and closing. */
static void req_finish(struct http_conn *c)
{
	struct http_req *req = &c->req;
	bool unread =
		req->body == BODY_UNREAD || req->body == BODY_READING || req->body == BODY_PAUSED;

	if (unread || req->body == BODY_FAILED)
		req->keepalive = false;
	/* Bytes the client sent that we will never read (a refused body, the
	 * rest of a malformed request) make us linger before closing. */
	if ((!req->keepalive || c->shutdown) && evbuffer_get_length(bufferevent_get_input(c->bev)))
		unread = true;
	/* A body refused while it streamed (past a quota or a size cap) is
	 * still on its way even when none of it is buffered right now:
	 * closing at once would answer the client with a reset instead of
	 * our refusal. */
	if (req->body == BODY_FAILED)
		unread = true;
	req_end(c, req->body != BODY_FAILED);
	if (req->keepalive && !c->shutdown) {
		req_reset(c);
		c->state = CS_HEAD;
		conn_arm_timer(c);
		return;
	}
	/* Close once the output has drained. An unread body is drained for a
	 * while first, so the client reads our answer rather than a reset. */
	c->state = unread ? CS_LINGER : CS_CLOSING;
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	if (c->state == CS_LINGER) {
		bufferevent_enable(c->bev, EV_READ);
		c->read_off = false;
	} else {
		bufferevent_disable(c->bev, EV_READ);
		c->read_off = true;
	}
	conn_arm_timer(c);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0 && c->state == CS_CLOSING)
		conn_kill(c);
}

/* Backpressure: stop reading the socket while enough input waits. */
static void conn_flow(struct http_conn *c)
{
	bool want;

	if (c->state == CS_DEAD || c->state == CS_CLOSING)
		return;
	want = evbuffer_get_length(bufferevent_get_input(c->bev)) < INPUT_PAUSE_AT;
	if (want && c->read_off)
		bufferevent_enable(c->bev, EV_READ);
	else if (!want && !c->read_off)
		bufferevent_disable(c->bev, EV_READ);
	c->read_off = !want;
}

static void conn_process(struct http_conn *c)
{
	struct evbuffer *in;

	for (int guard = 0; guard < 64 && c->state != CS_DEAD; guard++) {
		struct http_req *req = &c->req;

		in = bufferevent_get_input(c->bev);
		switch (c->state) {
		case CS_HEAD:
			head_parse(c);
			if (c->state == CS_HEAD && !c->req_active)
				return; /* need more bytes */
			continue;
		case CS_REQUEST:
			if (req->body_end_pending) {
				req->body_end_pending = false;
				body_done(c);
				continue;
			}
			if (req->body == BODY_READING) {
				/* Also with no input: the last piece may have been
				 * taken by a sink that paused, and the body still has
				 * to end. */
				size_t before = evbuffer_get_length(in);

				body_pump(c);
				if (c->state != CS_DEAD &&
				    (evbuffer_get_length(in) != before || req->body == BODY_NONE))
					continue;
			}
			if (req->resp_complete &&
			    (req->body == BODY_NONE || req->body == BODY_FAILED ||
			     req->body == BODY_UNREAD || req->body == BODY_READING ||
			     req->body == BODY_PAUSED)) {
				/* A response before the whole body: close after it. */
				if (req->body != BODY_NONE && req->body != BODY_FAILED &&
				    req->sink && req->sink->on_abort) {
					const struct http_body_sink *sink = req->sink;

					req->sink = NULL;
					sink->on_abort(req, req->sink_arg);
				}
				req_finish(c);
				continue;
			}
			return;
		case CS_LINGER:
			if (evbuffer_get_length(in)) {
				c->linger_bytes += evbuffer_get_length(in);
				evbuffer_drain(in, evbuffer_get_length(in));
				if (c->linger_bytes > LINGER_MAX_BYTES &&
				    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
					conn_kill(c);
			}
			return;
		default: return;
		}
	}
	/* More work is left (many pipelined requests): yield to other
	 * connections and continue on the next loop iteration. */
	if (c->state != CS_DEAD)
		kick(c);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
	struct http_conn *c = arg;

	(void)bev;
	c->depth++;
	conn_process(c);
	conn_flow(c);
	c->depth--;
	conn_maybe_free(c);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	struct http_conn *c = arg;
	size_t pending = evbuffer_get_length(bufferevent_get_output(bev));

	c->depth++;
	if (c->state == CS_REQUEST && c->req.src && !c->req.resp_complete) {
		stream_fill(c);
	} else if (pending == 0 && c->state == CS_CLOSING) {
		conn_kill(c);
	} else if (pending == 0 && c->state == CS_LINGER && c->linger_bytes > LINGER_MAX_BYTES) {
		conn_kill(c);
	}
	c->depth--;
	conn_maybe_free(c);
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct http_conn *c = arg;

	(void)bev;
	c->depth++;
	if (what & BEV_EVENT_EOF) {
		/* Half-close: answer what has arrived in full, then go. A peer
		 * that leaves mid-body has abandoned the request. */
		struct http_req *req = &c->req;

		if (c->state == CS_REQUEST &&
		    (req->body == BODY_READING || req->body == BODY_PAUSED))
			body_fail(c, ERR_INVALID, "connection closed before the body was complete");
		conn_kill(c);
	} else if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
		conn_kill(c);
	}
	c->depth--;
	conn_maybe_free(c);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;
	struct http_req *req = &c->req;

	(void)fd;
	(void)what;
	c->depth++;
	switch (c->state) {
	case CS_HEAD:
		if (c->head_scanned > 0 ||
		    (c->bev && evbuffer_get_length(bufferevent_get_input(c->bev)))) {
			head_fail(c, ERR_TIMEOUT, "request head not received in time");
			c->head_scanned = 0;
		} else {
			conn_kill(c);
		}
		break;
	case CS_REQUEST: {
		uint64_t need = c->limits->body_min_rate * c->limits->body_rate_window_ms / 1000;

		if (req->body == BODY_READING && c->rate_bytes < need) {
			body_fail(c, ERR_TIMEOUT, "request body arriving too slowly");
		} else if (req->body == BODY_READING) {
			c->rate_bytes = 0;
			conn_arm_timer(c);
		}
		break;
	}
	default: conn_kill(c); break;
	}
	c->depth--;
	conn_maybe_free(c);
}

static void kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *c = arg;

	(void)fd;
	(void)what;
	c->kicked = false;
	c->depth++;
	if (c->state != CS_DEAD) {
		conn_process(c);
		conn_flow(c);
	}
	c->depth--;
	conn_maybe_free(c);
}

static void conn_arm_timer(struct http_conn *c)
{
	unsigned ms = 0;
	struct timeval tv;

	switch (c->state) {
	case CS_HEAD:
		ms = (c->nrequests == 0 || c->head_scanned > 0 ||
		      evbuffer_get_length(bufferevent_get_input(c->bev)) > 0)
			     ? c->limits->head_timeout_ms
			     : c->limits->idle_timeout_ms;
		break;
	case CS_REQUEST:
		if (c->req.body == BODY_READING)
			ms = c->limits->body_rate_window_ms;
		break;
	case CS_LINGER:
	case CS_CLOSING: ms = c->limits->linger_ms; break;
	default: break;
	}
	if (!ms) {
		event_del(c->timer);
		return;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(c->timer, &tv);
}

struct http_conn *http_conn_new(struct bufferevent *bev, const char *peer,
				const struct http_limits *limits, http_request_fn on_request,
				http_closed_fn on_closed, void *app)
{
	struct http_conn *c = calloc(1, sizeof *c);
	struct event_base *base = bufferevent_get_base(bev);
	struct timeval wt;

	if (!c) {
		bufferevent_free(bev);
		return NULL;
	}
	c->bev = bev;
	c->limits = limits;
	c->on_request = on_request;
	c->on_closed = on_closed;
	c->app = app;
	snprintf(c->peer, sizeof c->peer, "%s", peer);
	c->timer = evtimer_new(base, timer_cb, c);
	c->kick = event_new(base, -1, 0, kick_cb, c);
	c->req.conn = c;
	if (!c->timer || !c->kick) {
		c->on_closed = NULL;
		conn_free(c);
		return NULL;
	}
	c->state = CS_HEAD;
	bufferevent_setcb(bev, read_cb, write_cb, event_cb, c);
	wt.tv_sec = limits->write_timeout_ms / 1000;
	wt.tv_usec = (limits->write_timeout_ms % 1000) * 1000;
	bufferevent_set_timeouts(bev, NULL, &wt);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	conn_arm_timer(c);
	return c;
}

void http_conn_shutdown(struct http_conn *c)
{
	c->shutdown = true;
	if (c->state == CS_HEAD && c->head_scanned == 0 && !c->req_active &&
	    evbuffer_get_length(bufferevent_get_input(c->bev)) == 0) {
		c->depth++;
		conn_kill(c);
		c->depth--;
		conn_maybe_free(c);
	}
}

void http_conn_abort(struct http_conn *c)
{
	conn_kill(c);
	conn_free(c);
}
