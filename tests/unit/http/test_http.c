/* Unit tests for server/http/http.c: the HTTP/1.1 connection state
 * machine, driven over an in-memory bufferevent pair (http_fixture.h)
 * on a plain event loop: no TLS, no sockets, no threads.
 *
 * The application here answers GET with the path as the body, reads
 * bodies on /sink into a counting sink that answers with the count,
 * refuses /refuse with 413 without reading the body, and holds /slow
 * until the test answers it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http_fixture.h"

static struct {
	int requests;
	int ends, aborts, done_ok, done_cut;
	size_t body_bytes, body_pieces;
	struct http_req *slow;
} app;

static enum err sink_data(struct http_req *req, const void *d, size_t len, void *arg)
{
	(void)req;
	(void)d;
	(void)arg;
	app.body_bytes += len;
	app.body_pieces++;
	return ERR_OK;
}

static void sink_end(struct http_req *req, void *arg)
{
	char n[32];

	(void)arg;
	app.ends++;
	snprintf(n, sizeof n, "%zu", app.body_bytes);
	http_resp_send(req, 200, n, strlen(n));
}

static void sink_abort(struct http_req *req, void *arg)
{
	(void)req;
	(void)arg;
	app.aborts++;
}

static const struct http_body_sink sink = {sink_data, sink_end, sink_abort};

static void on_request(struct http_req *req, void *arg)
{
	const char *path = http_req_path(req);

	(void)arg;
	app.requests++;
	if (!strcmp(path, "/sink"))
		http_req_read_body(req, &sink, NULL);
	else if (!strcmp(path, "/refuse"))
		http_resp_error(req, 413, "too_large", "not here");
	else if (!strcmp(path, "/slow"))
		app.slow = req;
	else
		http_resp_send(req, 200, path, strlen(path));
}

static void on_done(struct http_req *req, bool completed)
{
	(void)req;
	if (completed)
		app.done_ok++;
	else
		app.done_cut++;
}

static int setup(void **state)
{
	memset(&app, 0, sizeof app);
	http_set_done_hook(on_done);
	*state = calloc(1, sizeof(struct hf));
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	hf_close(*state);
	free(*state);
	http_set_done_hook(NULL);
	return 0;
}

static void pipelined_requests_are_answered_in_order(void **state)
{
	struct hf *f = *state;

	assert_true(hf_open(f, on_request));
	/* Three requests in one write: each is parsed only after the answer
	 * to the one before it is complete. */
	hf_send(f, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
		   "GET /bb HTTP/1.1\r\nHost: x\r\n\r\n"
		   "GET /ccc HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(app.requests, 3);
	assert_int_equal(hf_count(f, "HTTP/1.1 200 "), 3);
	const char *a = strstr(f->out, "\r\n\r\n/a"), *b = strstr(f->out, "\r\n\r\n/bb"),
		   *c = strstr(f->out, "\r\n\r\n/ccc");
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	assert_true(a < b && b < c);
	assert_int_equal(app.done_ok, 3);
	assert_int_equal(f->closed, 0);
}

static void keep_alive_serves_the_next_request(void **state)
{
	struct hf *f = *state;

	assert_true(hf_open(f, on_request));
	hf_send(f, "GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(hf_count(f, "HTTP/1.1 200 "), 1);
	assert_null(strstr(f->out, "Connection: close"));
	hf_send(f, "GET /two HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(hf_count(f, "HTTP/1.1 200 "), 2);
	assert_non_null(strstr(f->out, "/two"));
	assert_int_equal(f->closed, 0);
	/* HTTP/1.0 keeps the connection only when asked, and says so. */
	hf_send(f, "GET /three HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	assert_int_equal(hf_count(f, "HTTP/1.1 200 "), 3);
	assert_non_null(strstr(hf_response(f, 2), "Connection: keep-alive\r\n"));
	assert_int_equal(f->closed, 0);
}

static void connection_close_ends_after_the_answer(void **state)
{
	struct hf *f = *state;

	assert_true(hf_open(f, on_request));
	/* The request after the one with Connection: close is never read. */
	hf_send(f, "GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
		   "GET /never HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(app.requests, 1);
	assert_int_equal(hf_count(f, "HTTP/1.1 "), 1);
	assert_non_null(strstr(f->out, "Connection: close\r\n"));
	hf_pump_ms(f, 20); /* the unread rest lingers briefly */
	assert_int_equal(f->closed, 1);
}

static void body_arrives_as_a_stream(void **state)
{
	struct hf *f = *state;
	char piece[1000];

	assert_true(hf_open(f, on_request));
	hf_send(f, "POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n");
	assert_int_equal(app.requests, 1);
	memset(piece, 'x', sizeof piece);
	/* Ten writes, delivered as they come: no answer before the end. */
	for (int i = 0; i < 10; i++) {
		assert_int_equal(app.ends, 0);
		bufferevent_write(f->client, piece, sizeof piece);
		hf_pump(f);
	}
	assert_int_equal(app.ends, 1);
	assert_int_equal(app.body_bytes, 10000);
	assert_true(app.body_pieces >= 10);
	assert_non_null(strstr(f->out, "\r\n\r\n10000"));

	/* chunked, decoded, and the connection is still good afterwards */
	app.body_bytes = 0;
	hf_send(f, "POST /sink HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
		   "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
	assert_int_equal(app.ends, 2);
	assert_int_equal(app.body_bytes, 11);
	assert_non_null(strstr(f->out, "\r\n\r\n11"));
	assert_int_equal(f->closed, 0);
}

static void expect_continue_only_once_the_body_is_wanted(void **state)
{
	struct hf *f = *state;

	assert_true(hf_open(f, on_request));
	hf_send(f, "POST /sink HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
		   "Content-Length: 5\r\n\r\n");
	assert_non_null(f->out);
	assert_string_equal(f->out, "HTTP/1.1 100 Continue\r\n\r\n");
	hf_send(f, "hello");
	assert_int_equal(app.ends, 1);
	assert_non_null(strstr(f->out, "HTTP/1.1 200 "));
	assert_int_equal(f->closed, 0);
}

static void refusal_before_the_body_sends_no_continue_and_closes(void **state)
{
	struct hf *f = *state;

	assert_true(hf_open(f, on_request));
	hf_send(f, "PUT /refuse HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
		   "Content-Length: 1000000\r\n\r\n");
	assert_null(strstr(f->out, "100 Continue"));
	assert_non_null(strstr(f->out, "HTTP/1.1 413 "));
	assert_non_null(strstr(f->out, "Connection: close\r\n"));
	assert_non_null(strstr(f->out, "{\"error\":\"too_large\",\"detail\":\"not here\"}"));
	hf_pump_ms(f, 30); /* past the linger */
	assert_int_equal(f->closed, 1);
}

static void expect_other_than_continue_is_417(void **state)
{
	struct hf *f = *state;

	assert_true(hf_open(f, on_request));
	hf_send(f, "POST /sink HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nContent-Length: 1\r\n\r\n");
	assert_non_null(strstr(f->out, "HTTP/1.1 417 "));
	assert_int_equal(app.requests, 0);
}

static void malformed_head_is_400_and_close(void **state)
{
	static const char *const heads[] = {
		"GARBAGE\r\n\r\n",
		"GET /x HTTP/1.1\r\n\r\n", /* no Host */
		"GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
		"GET x HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
		"Transfer-Encoding: chunked\r\n\r\n",
		"GET /x HTTP/1.1\nHost: x\n\n", /* bare LF */
	};

	for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
		struct hf *f = *state;

		assert_true(hf_open(f, on_request));
		hf_send(f, heads[i]);
		hf_pump_ms(f, 20);
		if (!strstr(f->out ? f->out : "", "HTTP/1.1 400 "))
			fail_msg("head %zu: %s", i, f->out ? f->out : "(nothing)");
		assert_non_null(strstr(f->out, "Connection: close\r\n"));
		assert_non_null(strstr(f->out, "{\"error\":\"invalid_request\",\"detail\":\""));
		assert_int_equal(f->closed, 1);
		assert_int_equal(app.requests, 0);
		hf_close(f);
	}
}

static void limits_431_and_414(void **state)
{
	struct hf *f = *state;
	char big[4096], head[8192];

	http_limits_default(&f->limits);
	f->limits.max_head = 1024;
	f->limits.max_target = 256;
	f->limits.linger_ms = 5;
	assert_true(hf_open(f, on_request));
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	snprintf(head, sizeof head, "GET / HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", big);
	hf_send(f, head);
	assert_non_null(strstr(f->out, "HTTP/1.1 431 "));
	assert_non_null(strstr(f->out, "\"error\":\"headers_too_large\""));
	hf_pump_ms(f, 20);
	assert_int_equal(f->closed, 1);
	assert_int_equal(app.requests, 0);
	hf_close(f);

	http_limits_default(&f->limits);
	f->limits.max_head = 2048;
	f->limits.max_target = 256;
	f->limits.linger_ms = 5;
	assert_true(hf_open(f, on_request));
	big[300] = '\0';
	snprintf(head, sizeof head, "GET /%s HTTP/1.1\r\nHost: x\r\n\r\n", big);
	hf_send(f, head);
	assert_non_null(strstr(f->out, "HTTP/1.1 414 "));
	hf_pump_ms(f, 20);
	assert_int_equal(f->closed, 1);
	assert_int_equal(app.requests, 0);
}

static void client_gone_mid_body_aborts_the_sink(void **state)
{
	struct hf *f = *state;

	assert_true(hf_open(f, on_request));
	hf_send(f, "POST /sink HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789");
	assert_int_equal(app.body_bytes, 10);
	hf_hangup(f);
	hf_pump_ms(f, 20);
	assert_int_equal(app.aborts, 1);
	assert_int_equal(app.ends, 0);
	assert_int_equal(app.done_cut + app.done_ok, 1);
	assert_int_equal(f->closed, 1);
}

static void shutdown_closes_an_idle_connection_at_once(void **state)
{
	struct hf *f = *state;

	assert_true(hf_open(f, on_request));
	hf_send(f, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(f->closed, 0);
	http_conn_shutdown(f->conn);
	hf_pump(f);
	assert_int_equal(f->closed, 1);
	assert_int_equal(hf_count(f, "HTTP/1.1 "), 1);
}

static void shutdown_lets_the_current_request_finish(void **state)
{
	struct hf *f = *state;

	assert_true(hf_open(f, on_request));
	hf_send(f, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_non_null(app.slow);
	http_conn_shutdown(f->conn);
	hf_pump(f);
	assert_int_equal(f->closed, 0);
	/* answered with Connection: close, then closed */
	http_resp_send(app.slow, 200, "late", 4);
	hf_pump_ms(f, 20);
	assert_non_null(strstr(f->out, "HTTP/1.1 200 "));
	assert_non_null(strstr(f->out, "Connection: close\r\n"));
	assert_non_null(strstr(f->out, "\r\n\r\nlate"));
	assert_int_equal(f->closed, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(pipelined_requests_are_answered_in_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(keep_alive_serves_the_next_request, setup,
						teardown),
		cmocka_unit_test_setup_teardown(connection_close_ends_after_the_answer, setup,
						teardown),
		cmocka_unit_test_setup_teardown(body_arrives_as_a_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(expect_continue_only_once_the_body_is_wanted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			refusal_before_the_body_sends_no_continue_and_closes, setup, teardown),
		cmocka_unit_test_setup_teardown(expect_other_than_continue_is_417, setup, teardown),
		cmocka_unit_test_setup_teardown(malformed_head_is_400_and_close, setup, teardown),
		cmocka_unit_test_setup_teardown(limits_431_and_414, setup, teardown),
		cmocka_unit_test_setup_teardown(client_gone_mid_body_aborts_the_sink, setup,
						teardown),
		cmocka_unit_test_setup_teardown(shutdown_closes_an_idle_connection_at_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(shutdown_lets_the_current_request_finish, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
