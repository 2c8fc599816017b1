/*
 * h_test — instrumentation for the test suite, answered only when the
 * server runs with --test-hooks (404 otherwise, exactly like an unknown
 * path). They exercise the HTTP layer's streaming without the store:
 *
 *   POST /_test/sink[?pause_ms=N]   reads the body (any size, chunked or
 *       not), hashes it, answers {"bytes","sha256"}; pause_ms makes the
 *       sink slow so backpressure can be observed.
 *   POST /_test/notify[?force=1]   builds due digests now (all pending
 *       ones with force=1) and wakes the mail thread.
 *   GET /_test/source?size=N[&chunked=1]   a virtual file of N bytes,
 *       byte i = i mod 251, with single-range support; chunked=1 sends
 *       it with chunked transfer coding.
 */
#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "api/config.h"
#include "digest.h"
#include "api/handlers.h"
#include "http/http.h"
#include "http/httpparse.h"
#include "http/reply.h"
#include "api/router.h"
#include "api/app.h"
#include "api/mail.h"
#include "api/dlvremind.h"

static bool hooks_enabled(struct call *call)
{
	if (worker_config(call->worker)->test_hooks)
		return true;
	reply_err(call->req, err_set(ERR_NOTFOUND, "no such resource"));
	return false;
}

static bool query_u64(struct call *call, const char *name, uint64_t *out)
{
	const char *v = http_req_query_param(call->req, name);
	char *end;

	if (!v)
		return false;
	*out = strtoull(v, &end, 10);
	return *v && !*end;
}

/* --- sink --------------------------------------------------------------------- */

struct sink {
	struct digest *sha;
	uint64_t bytes;
	uint64_t pause_ms;
	struct event *resume;
	struct http_req *req;
};

static void sink_free(struct sink *s)
{
	digest_free(s->sha);
	if (s->resume)
		event_free(s->resume);
	free(s);
}

static void sink_resume(evutil_socket_t fd, short what, void *arg)
{
	struct sink *s = arg;

	(void)fd;
	(void)what;
	http_req_resume_body(s->req);
}

static enum err sink_data(struct http_req *req, const void *data, size_t len, void *arg)
{
	struct sink *s = arg;

	digest_update(s->sha, data, len);
	s->bytes += len;
	if (s->pause_ms) {
		struct timeval tv = {.tv_sec = (time_t)(s->pause_ms / 1000),
				     .tv_usec = (suseconds_t)(s->pause_ms % 1000) * 1000};

		http_req_pause_body(req);
		evtimer_add(s->resume, &tv);
	}
	return ERR_OK;
}

static void sink_end(struct http_req *req, void *arg)
{
	struct sink *s = arg;
	unsigned char sum[DIGEST_SHA256_LEN];
	char hex[DIGEST_SHA256_HEX_LEN + 1];

	digest_final(s->sha, sum);
	digest_hex(sum, sizeof sum, hex);
	reply_json(req, 200, json_pack("{s:I, s:s}", "bytes", (json_int_t)s->bytes, "sha256", hex));
	sink_free(s);
}

static void sink_abort(struct http_req *req, void *arg)
{
	(void)req;
	sink_free(arg);
}

static const struct http_body_sink sink_ops = {sink_data, sink_end, sink_abort};

void h_test_sink(struct call *call)
{
	const struct config *cfg = worker_config(call->worker);
	int64_t declared = http_req_body_length(call->req);
	struct sink *s;

	if (!hooks_enabled(call))
		return;
	if (declared > 0 && (uint64_t)declared > cfg->max_upload) {
		reply_err(call->req,
			  err_set(ERR_TOOLARGE, "body of %lld bytes exceeds the limit of %llu",
				  (long long)declared, (unsigned long long)cfg->max_upload));
		return;
	}
	s = calloc(1, sizeof *s);
	if (!s || !(s->sha = digest_new(DIGEST_SHA256))) {
		free(s);
		reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
		return;
	}
	s->req = call->req;
	query_u64(call, "pause_ms", &s->pause_ms);
	if (s->pause_ms) {
		struct event_base *base = worker_base(call->worker);

		s->resume = evtimer_new(base, sink_resume, s);
		if (!s->resume) {
			sink_free(s);
			reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
			return;
		}
	}
	http_req_read_body(call->req, &sink_ops, s);
}

/* --- source ---------------------------------------------------------------- */

struct source {
	uint64_t pos, end; /* next byte, one past the last */
};

/* 251 * 256 bytes of the pattern, copied instead of computed per byte. */
static unsigned char pattern[251 * 256];

static void pattern_init(void)
{
	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = (unsigned char)(i % 251);
}

static enum err source_fill(struct http_req *req, struct evbuffer *out, size_t max, bool *done,
			    void *arg)
{
	struct source *src = arg;
	struct evbuffer_iovec vec;
	uint64_t left = src->end - src->pos;
	size_t n = left < max ? (size_t)left : max;
	unsigned char *p;

	(void)req;
	if (evbuffer_reserve_space(out, (ev_ssize_t)n, &vec, 1) < 1)
		return err_set(ERR_NOMEM, "out of memory");
	p = vec.iov_base;
	for (size_t done_bytes = 0; done_bytes < n;) {
		size_t off = (size_t)((src->pos + done_bytes) % 251);
		size_t take = sizeof pattern - off;

		if (take > n - done_bytes)
			take = n - done_bytes;
		memcpy(p + done_bytes, pattern + off, take);
		done_bytes += take;
	}
	vec.iov_len = n;
	evbuffer_commit_space(out, &vec, 1);
	src->pos += n;
	*done = src->pos == src->end;
	return ERR_OK;
}

static const struct http_body_source source_ops = {source_fill, free};

void h_test_source(struct call *call)
{
	uint64_t size = 0, first = 0, last = 0;
	struct source *src;
	enum httpparse_range range;

	if (!hooks_enabled(call))
		return;
	if (pattern[1] == 0)
		pattern_init(); /* idempotent, so a race between workers is harmless */
	if (!query_u64(call, "size", &size)) {
		reply_err(call->req, err_set(ERR_INVALID, "size=N is required"));
		return;
	}
	range = httpparse_range(http_req_header(call->req, "Range"), size, &first, &last);
	http_resp_header(call->req, "Accept-Ranges", "bytes");
	if (range == HTTPPARSE_RANGE_UNSATISFIABLE) {
		http_resp_headerf(call->req, "Content-Range", "bytes */%llu",
				  (unsigned long long)size);
		reply_err(call->req, err_set(ERR_RANGE, "range outside of %llu bytes",
					     (unsigned long long)size));
		return;
	}
	src = calloc(1, sizeof *src);
	if (!src) {
		reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
		return;
	}
	http_resp_header(call->req, "Content-Type", "application/octet-stream");
	if (range == HTTPPARSE_RANGE_PARTIAL) {
		src->pos = first;
		src->end = last + 1;
		http_resp_headerf(call->req, "Content-Range", "bytes %llu-%llu/%llu",
				  (unsigned long long)first, (unsigned long long)last,
				  (unsigned long long)size);
		http_resp_stream(call->req, 206, (int64_t)(src->end - src->pos), &source_ops, src);
	} else {
		uint64_t chunked = 0;

		src->end = size;
		query_u64(call, "chunked", &chunked);
		http_resp_stream(call->req, 200, chunked ? -1 : (int64_t)size, &source_ops, src);
	}
}

/* --- notifications -------------------------------------------------------------- */

/* POST /_test/notify[?force=1]: build the digests that are due now (every
 * pending one with force=1: a daily digest without waiting a day), then
 * wake the mail thread to send them. The same code as the thread's
 * round, on this worker's connection. */
void h_test_notify(struct call *call)
{
	const char *force = http_req_query_param(call->req, "force");
	struct mail_run run;
	enum err rc;

	if (!hooks_enabled(call))
		return;
	rc = mail_digest_run(worker_db(call->worker), worker_config(call->worker),
			     force && !strcmp(force, "1"), &run);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	mail_wake();
	reply_json(call->req, 200,
		   json_pack("{s:I, s:I, s:I}", "people", (json_int_t)run.people, "mails",
			     (json_int_t)run.mails, "events", (json_int_t)run.events));
}

/* POST /_test/reminders: one run of the deliverable reminder job now
 * (dlvremind.h), then the mail thread looks at the outbox. */
void h_test_reminders(struct call *call)
{
	struct dlvremind_run run;
	enum err rc;

	if (!hooks_enabled(call))
		return;
	rc = dlvremind_run(worker_db(call->worker), worker_config(call->worker), &run);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	mail_wake();
	reply_json(call->req, 200,
		   json_pack("{s:I, s:I, s:I}", "review_tasks", (json_int_t)run.review_tasks,
			     "review_reminders", (json_int_t)run.review_reminders,
			     "deliverable_reminders", (json_int_t)run.deliverable_reminders));
}
