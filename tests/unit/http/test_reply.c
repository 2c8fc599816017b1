/* Unit tests for server/http/reply.c: the error table is total and
 * reply_err answers from it. A real http_conn runs
 * over a bufferevent pair: the test writes a request into one end and
 * reads the response from the other. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "err.h"
#include "http/http.h"
#include "http/reply.h"

/* --- a connection over a socket pair -------------------------------------- */

typedef void (*respond_fn)(struct http_req *req);

static respond_fn respond;

static void on_request(struct http_req *req, void *app)
{
	(void)app;
	respond(req);
}

/* Run one GET through a fresh connection with `limits` (defaults when
 * NULL), answering with `fn`; returns the raw response (malloc'd). */
static char *exchange(respond_fn fn, const struct http_limits *limits)
{
	static const char request[] = "GET /x HTTP/1.1\r\nHost: test\r\n\r\n";
	struct http_limits def;
	struct event_base *base = event_base_new();
	struct bufferevent *pair[2];
	struct http_conn *c;
	struct evbuffer *in;
	char *out;
	size_t len = 0, stable = 0;

	assert_non_null(base);
	if (!limits) {
		http_limits_default(&def);
		limits = &def;
	}
	respond = fn;
	assert_int_equal(bufferevent_pair_new(base, 0, pair), 0);
	c = http_conn_new(pair[0], "test", limits, on_request, NULL, NULL);
	assert_non_null(c);
	bufferevent_enable(pair[1], EV_READ | EV_WRITE);
	bufferevent_write(pair[1], request, sizeof request - 1);
	in = bufferevent_get_input(pair[1]);
	/* Until the output has stopped growing for a few rounds. */
	for (int i = 0; i < 1000 && stable < 20; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (evbuffer_get_length(in) == len && len)
			stable++;
		else
			stable = 0;
		len = evbuffer_get_length(in);
	}
	out = malloc(len + 1);
	assert_non_null(out);
	evbuffer_remove(in, out, len);
	out[len] = '\0';
	http_conn_abort(c);
	bufferevent_free(pair[1]);
	event_base_free(base);
	return out;
}

static int status_of(const char *resp)
{
	assert_memory_equal(resp, "HTTP/1.1 ", 9);
	return (int)strtol(resp + 9, NULL, 10);
}

static const char *body_of(const char *resp)
{
	const char *p = strstr(resp, "\r\n\r\n");

	assert_non_null(p);
	return p + 4;
}

/* --- the table -------------------------------------------------------------- */

static void table_is_total(void **state)
{
	(void)state;
	for (int i = 0; i < ERR__COUNT; i++) {
		int st = reply_status_for((enum err)i);
		const char *code = reply_code_for((enum err)i);

		assert_true(st >= 400 && st <= 599);
		assert_non_null(code);
		assert_true(strlen(code) > 0);
		assert_int_equal(strspn(code, "abcdefghijklmnopqrstuvwxyz_"), strlen(code));
		/* a log line and an HTTP answer name a failure the same way */
		if (i != ERR_OK)
			assert_string_equal(code, err_name((enum err)i));
	}
	/* an answer with "no error", or a value outside the enum, is a bug */
	assert_int_equal(reply_status_for(ERR_OK), 500);
	assert_int_equal(reply_status_for((enum err)999), 500);
	assert_string_equal(reply_code_for((enum err)-1), "internal_error");
}

/* The pairs that used to be written by hand, and drifted ("exists" next
 * to "already_exists", "internal" next to "internal_error"). */
static void table_gives_the_documented_pairs(void **state)
{
	static const struct {
		enum err e;
		int status;
		const char *code;
	} want[] = {
		{ERR_INVALID, 400, "invalid_request"},
		{ERR_JSON, 400, "invalid_json"},
		{ERR_UNAUTHENTICATED, 401, "unauthenticated"},
		{ERR_CREDENTIALS, 401, "invalid_credentials"},
		{ERR_TOTP_REQUIRED, 401, "totp_required"},
		{ERR_FORBIDDEN, 403, "forbidden"},
		{ERR_NOTFOUND, 404, "not_found"},
		{ERR_METHOD, 405, "method_not_allowed"},
		{ERR_EXISTS, 409, "already_exists"},
		{ERR_CONFLICT, 409, "conflict"},
		{ERR_GONE, 410, "gone"},
		{ERR_PRECONDITION, 412, "precondition_failed"},
		{ERR_TOOLARGE, 413, "too_large"},
		{ERR_UNSUPPORTED, 415, "unsupported_media_type"},
		{ERR_RANGE, 416, "range_not_satisfiable"},
		{ERR_LOCKED, 423, "locked"},
		{ERR_LIMIT, 429, "rate_limited"},
		{ERR_CHECKSUM, 460, "checksum_mismatch"},
		{ERR_INTERNAL, 500, "internal_error"},
		{ERR_BAD_GATEWAY, 502, "bad_gateway"},
		{ERR_NOMEM, 503, "out_of_memory"},
		{ERR_BUSY, 503, "busy"},
		{ERR_NOSPACE, 507, "insufficient_storage"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		assert_int_equal(reply_status_for(want[i].e), want[i].status);
		assert_string_equal(reply_code_for(want[i].e), want[i].code);
	}
}

/* --- reply_err ---------------------------------------------------------------- */

static void answer_exists(struct http_req *req)
{
	reply_err(req, err_set(ERR_EXISTS, "work package 'WP1' exists"));
}

static void reply_err_answers_from_the_table(void **state)
{
	char *r = exchange(answer_exists, NULL);

	(void)state;
	assert_int_equal(status_of(r), 409);
	assert_string_equal(body_of(r),
			    "{\"error\":\"already_exists\",\"detail\":\"work package 'WP1' exists\"}\n");
	free(r);
}

static void answer_bare_notfound(struct http_req *req)
{
	err_clear();
	reply_err(req, ERR_NOTFOUND);
}

static void reply_err_without_detail_names_the_code(void **state)
{
	char *r = exchange(answer_bare_notfound, NULL);

	(void)state;
	assert_int_equal(status_of(r), 404);
	assert_string_equal(body_of(r), "{\"error\":\"not_found\",\"detail\":\"not_found\"}\n");
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_is_total),
		cmocka_unit_test(table_gives_the_documented_pairs),
		cmocka_unit_test(reply_err_answers_from_the_table),
		cmocka_unit_test(reply_err_without_detail_names_the_code),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
