/* Unit tests for server/http/reply.c and the response headers of
 * server/http/http.c: the error table is total, reply_err answers from
 * it, and a header comes out whole or the response becomes a 500 (never
 * a header cut at a fixed size or split by CR/LF). A real http_conn runs
 * over a bufferevent pair (http_fixture.h): the test writes a request
 * into one end and reads the response from the other. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/buffer.h>

#include "err.h"
#include "http/http.h"
#include "http/reply.h"
#include "http_fixture.h"

/* --- one request through a connection (tests/unit/http_fixture.h) ---------- */

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
	struct hf f = {0};
	char *out;

	if (limits)
		f.limits = *limits;
	respond = fn;
	assert_true(hf_open(&f, on_request));
	hf_send(&f, "GET /x HTTP/1.1\r\nHost: test\r\n\r\n");
	out = strdup(f.out ? f.out : "");
	assert_non_null(out);
	hf_close(&f);
	return out;
}

/* The value of header `name` in a raw response, up to its CRLF, or NULL. */
static char *header_of(const char *resp, const char *name)
{
	char pat[128];
	const char *p, *end;

	snprintf(pat, sizeof pat, "\r\n%s: ", name);
	p = strstr(resp, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	end = strstr(p, "\r\n");
	assert_non_null(end);
	return strndup(p, (size_t)(end - p));
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
	assert_string_equal(reply_code_for((enum err) - 1), "internal_error");
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
		/* the connection's own refusals */
		{ERR_TIMEOUT, 408, "request_timeout"},
		{ERR_URI_TOO_LONG, 414, "uri_too_long"},
		{ERR_EXPECTATION, 417, "expectation_failed"},
		{ERR_HEAD_TOO_LARGE, 431, "headers_too_large"},
		{ERR_NOT_IMPLEMENTED, 501, "not_implemented"},
		{ERR_VERSION, 505, "http_version_not_supported"},
		/* sudo mode, public-url */
		{ERR_REAUTH, 403, "reauthentication_required"},
		{ERR_MISDIRECTED, 421, "misdirected_request"},
		{ERR_INFECTED, 422, "infected"},
		{ERR_UNSCANNABLE, 422, "unscannable"},
		{ERR_SCANNER_UNAVAILABLE, 503, "scanner_unavailable"},
		{ERR_STORE_UNAVAILABLE, 503, "store_unavailable"},
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
	assert_string_equal(
		body_of(r),
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

/* --- response headers -------------------------------------------------------- */

static char long_value[6001];

static void answer_long_header(struct http_req *req)
{
	http_resp_headerf(req, "Content-Disposition", "attachment; filename*=UTF-8''%s",
			  long_value);
	http_resp_send(req, 200, "ok", 2);
}

/* The 1 KiB formatting buffer cut this mid-escape. */
static void long_header_value_comes_out_whole(void **state)
{
	char *r, *v, want[sizeof long_value + 64];

	(void)state;
	/* 255 x 'Δ' percent-encoded is 1530 bytes; take four times that */
	for (size_t i = 0; i + 6 <= 6000; i += 6)
		memcpy(long_value + i, "%CE%94", 6);
	long_value[6000] = '\0';
	r = exchange(answer_long_header, NULL);
	assert_int_equal(status_of(r), 200);
	v = header_of(r, "Content-Disposition");
	assert_non_null(v);
	snprintf(want, sizeof want, "attachment; filename*=UTF-8''%s", long_value);
	assert_string_equal(v, want);
	assert_string_equal(body_of(r), "ok");
	free(v);
	free(r);
}

static void answer_crlf(struct http_req *req)
{
	http_resp_header(req, "X-Before", "kept?");
	http_resp_header(req, "Location", "/a\r\nSet-Cookie: session=stolen");
	http_resp_header(req, "X-After", "kept?");
	http_resp_send(req, 201, "created", 7);
}

/* An assert in debug builds, a split header in release builds. */
static void crlf_in_a_value_makes_a_500_not_a_split_header(void **state)
{
	char *r = exchange(answer_crlf, NULL);

	(void)state;
	assert_int_equal(status_of(r), 500);
	assert_null(strstr(r, "Set-Cookie"));
	assert_null(strstr(r, "X-Before"));
	assert_null(strstr(r, "X-After"));
	assert_non_null(strstr(body_of(r), "\"error\":\"internal_error\""));
	free(r);
}

static void answer_lf_only(struct http_req *req)
{
	http_resp_headerf(req, "X-Name", "%s", "a\nb");
	http_resp_send(req, 200, "ok", 2);
}

static void answer_nul(struct http_req *req)
{
	http_resp_headerf(req, "X-Name", "a%cb", 0);
	http_resp_send(req, 200, "ok", 2);
}

static void answer_bad_name(struct http_req *req)
{
	http_resp_header(req, "X Name:", "v");
	http_resp_send(req, 200, "ok", 2);
}

static void lf_nul_and_bad_names_are_refused(void **state)
{
	respond_fn fns[] = {answer_lf_only, answer_nul, answer_bad_name};

	(void)state;
	for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
		char *r = exchange(fns[i], NULL);

		assert_int_equal(status_of(r), 500);
		assert_null(strstr(r, "X-Name"));
		assert_null(strstr(r, "X Name"));
		free(r);
	}
}

static void answer_past_limit(struct http_req *req)
{
	http_resp_header(req, "X-Small", "fits");
	http_resp_headerf(req, "Location", "/%s", long_value);
	http_resp_send(req, 201, NULL, 0);
}

/* The only cap is the configured head limit; past it, no cut header. */
static void head_past_max_head_is_refused(void **state)
{
	struct http_limits l;
	char *r;

	(void)state;
	http_limits_default(&l);
	l.max_head = 4096;
	memset(long_value, 'a', 6000);
	long_value[6000] = '\0';
	r = exchange(answer_past_limit, &l);
	assert_int_equal(status_of(r), 500);
	assert_null(strstr(r, "Location"));
	free(r);
	/* the same head fits a larger limit whole */
	l.max_head = 16 * 1024;
	r = exchange(answer_past_limit, &l);
	assert_int_equal(status_of(r), 201);
	assert_non_null(strstr(r, long_value));
	free(r);
}

static int released;

static enum err never_fill(struct http_req *req, struct evbuffer *out, size_t max, bool *done,
			   void *arg)
{
	(void)req;
	(void)out;
	(void)max;
	(void)done;
	(void)arg;
	fail_msg("a refused response must not stream its body");
	return ERR_INTERNAL;
}

static void count_release(void *arg)
{
	(void)arg;
	released++;
}

static const struct http_body_source never_src = {never_fill, count_release};

static void answer_stream_with_bad_header(struct http_req *req)
{
	http_resp_header(req, "Content-Disposition", "attachment; filename=\"a\r\nb\"");
	http_resp_stream(req, 200, 100, &never_src, NULL);
}

static void refused_stream_releases_its_source(void **state)
{
	char *r;

	(void)state;
	released = 0;
	r = exchange(answer_stream_with_bad_header, NULL);
	assert_int_equal(status_of(r), 500);
	assert_int_equal(released, 1);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_is_total),
		cmocka_unit_test(table_gives_the_documented_pairs),
		cmocka_unit_test(reply_err_answers_from_the_table),
		cmocka_unit_test(reply_err_without_detail_names_the_code),
		cmocka_unit_test(long_header_value_comes_out_whole),
		cmocka_unit_test(crlf_in_a_value_makes_a_500_not_a_split_header),
		cmocka_unit_test(lf_nul_and_bad_names_are_refused),
		cmocka_unit_test(head_past_max_head_is_refused),
		cmocka_unit_test(refused_stream_releases_its_source),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
