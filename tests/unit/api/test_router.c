/* Unit tests for server/api/router.c: router_check on small tables,
 * router_match (the pure matching), and router_dispatch's answers
 * before a handler runs (404, 405 with Allow, 400 for a bad escape,
 * 413/415 body rules, JSON bodies), over an in-memory connection
 * (http_fixture.h) with public routes only, so no store is needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http_fixture.h"

/* app.c for struct worker and struct app: a worker with only a config
 * is all router_dispatch and public routes need. */
#include "../../../server/api/app.c"

static struct {
	int calls;
	char params[ROUTE_MAX_PARAMS][128];
	bool had_json;
} seen;

static void h_seen(struct call *call)
{
	seen.calls++;
	for (int i = 0; i < call->nparams && i < ROUTE_MAX_PARAMS; i++)
		snprintf(seen.params[i], sizeof seen.params[i], "%s", call->params[i]);
	seen.had_json = call->json != NULL;
	http_resp_send(call->req, 200, "ok", 2);
}

static const struct route table[] = {
	{"GET", "/", h_seen, ACCESS_PUBLIC, RBODY_NONE},
	{"GET", "/things/{id}", h_seen, ACCESS_PUBLIC, RBODY_NONE},
	{"DELETE", "/things/{id}", h_seen, ACCESS_PUBLIC, RBODY_NONE},
	{"GET", "/files/{bundle}/{path*}", h_seen, ACCESS_PUBLIC, RBODY_NONE},
	{"POST", "/json", h_seen, ACCESS_PUBLIC, RBODY_JSON},
	{"POST", "/maybe", h_seen, ACCESS_PUBLIC, RBODY_OPTIONAL_JSON},
	{"PUT", "/stream", h_seen, ACCESS_PUBLIC, RBODY_STREAM},
	{"GET", "/wps/{wp}", h_seen, ACCESS_WP_READ, RBODY_NONE},
};
#define NTABLE (sizeof table / sizeof table[0])

/* --- router_check ------------------------------------------------------------ */

static enum err check1(const char *method, const char *pattern, enum access a)
{
	const struct route r[] = {{method, pattern, h_seen, a, RBODY_NONE}};

	return router_check(r, 1);
}

static void check_accepts_the_test_table(void **state)
{
	(void)state;
	assert_int_equal(router_check(table, NTABLE), ERR_OK);
}

static void check_refuses_undeclared_access(void **state)
{
	(void)state;
	assert_int_equal(check1("GET", "/x", ACCESS_UNDECLARED), ERR_INTERNAL);
	assert_non_null(strstr(err_detail(), "declares no access"));
	assert_int_equal(check1("GET", "/x", ACCESS__COUNT), ERR_INTERNAL);
	/* a WP level needs a {wp} to take it from */
	assert_int_equal(check1("GET", "/x/{id}", ACCESS_WP_WRITE), ERR_INTERNAL);
}

static void check_refuses_duplicates(void **state)
{
	const struct route twice[] = {
		{"GET", "/a/{x}", h_seen, ACCESS_PUBLIC, RBODY_NONE},
		{"POST", "/a/{x}", h_seen, ACCESS_PUBLIC, RBODY_NONE},
		{"GET", "/a/{x}", h_seen, ACCESS_USER, RBODY_NONE},
	};

	(void)state;
	assert_int_equal(router_check(twice, 2), ERR_OK);
	assert_int_equal(router_check(twice, 3), ERR_INTERNAL);
	assert_non_null(strstr(err_detail(), "declared twice"));
}

/* Patterns that matched nothing, or more than they say, and started
 * without a word before router_check looked at them. */
static void check_refuses_malformed_patterns(void **state)
{
	static const char *const bad[] = {
		"x", /* not absolute */
		"",
		"/a//b", /* empty segment */
		"/a/{x", /* unclosed */
		"/a/x}",
		"/a/{}", /* no name */
		"/a/{*}",
		"/a/{X}", /* names are [a-z0-9_] */
		"/a/{x-y}",
		"/a/{x}/{x}",   /* twice the same name */
		"/a/{rest*}/b", /* the rest, then more */
		"/a/b*",
		"/a/{p}{q}",
		"/{a}/{b}/{c}/{d}/{e}", /* more than ROUTE_MAX_PARAMS */
	};
	static const char *const good[] = {
		"/",
		"/dav",
		"/dav/",
		"/a/{x}",
		"/a/{x}/b/{rest*}",
		"/a/{path*}",
		"/{a}/{b}/{c}/{d}",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (check1("GET", bad[i], ACCESS_PUBLIC) != ERR_INTERNAL)
			fail_msg("pattern '%s' was accepted", bad[i]);
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		if (check1("GET", good[i], ACCESS_PUBLIC) != ERR_OK)
			fail_msg("pattern '%s' was refused: %s", good[i], err_detail());
	/* no method, no handler */
	{
		const struct route r[] = {{NULL, "/a", h_seen, ACCESS_PUBLIC, RBODY_NONE},
					  {"GET", "/a", NULL, ACCESS_PUBLIC, RBODY_NONE}};

		assert_int_equal(router_check(&r[0], 1), ERR_INTERNAL);
		assert_int_equal(router_check(&r[1], 1), ERR_INTERNAL);
	}
}

/* --- router_match ---------------------------------------------------------------- */

static const struct route *match(const char *method, const char *path, struct call *call,
				 bool *path_matched)
{
	memset(call, 0, sizeof *call);
	return router_match(table, NTABLE, method, path, call, path_matched);
}

static void match_params_and_rest(void **state)
{
	struct call call;
	bool pm;
	const struct route *r;

	(void)state;
	r = match("GET", "/things/42", &call, &pm);
	assert_ptr_equal(r, &table[1]);
	assert_true(pm);
	assert_int_equal(call.nparams, 1);
	assert_string_equal(call_param(&call, "id"), "42");
	assert_null(call_param(&call, "i"));

	r = match("DELETE", "/things/42", &call, &pm);
	assert_ptr_equal(r, &table[2]);

	/* {x} is one non-empty segment */
	assert_null(match("GET", "/things/", &call, &pm));
	assert_null(match("GET", "/things/1/2", &call, &pm));
	assert_false(pm);

	/* {path*} takes the rest, raw, possibly empty */
	r = match("GET", "/files/b1/a/b%20c/d", &call, &pm);
	assert_ptr_equal(r, &table[3]);
	assert_string_equal(call_param(&call, "bundle"), "b1/a/b%20c/d"); /* cut by dispatch */
	assert_string_equal(call_param(&call, "path"), "a/b%20c/d");
	r = match("GET", "/files/b1", &call, &pm);
	assert_ptr_equal(r, &table[3]);
	assert_string_equal(call_param(&call, "path"), "");
	r = match("GET", "/files/b1/", &call, &pm);
	assert_ptr_equal(r, &table[3]);
	assert_string_equal(call_param(&call, "path"), "");

	/* the root is only itself */
	assert_ptr_equal(match("GET", "/", &call, &pm), &table[0]);
	assert_null(match("GET", "/nothing", &call, &pm));
	assert_false(pm);
}

static void match_404_405_and_head(void **state)
{
	struct call call;
	bool pm;

	(void)state;
	/* the path exists with other methods: 405, not 404 */
	assert_null(match("PUT", "/things/1", &call, &pm));
	assert_true(pm);
	assert_null(match("GET", "/nope/1", &call, &pm));
	assert_false(pm);
	/* HEAD is served by the GET route */
	assert_ptr_equal(match("HEAD", "/things/1", &call, &pm), &table[1]);
	/* methods are case-sensitive (RFC 9110) */
	assert_null(match("get", "/things/1", &call, &pm));
	assert_true(pm);
}

/* --- router_dispatch over a connection -------------------------------------- */

static struct config cfg;
static struct app the_app = {.cfg = &cfg};
static struct worker the_worker = {.app = &the_app};

static void on_request(struct http_req *req, void *arg)
{
	(void)arg;
	router_dispatch(table, NTABLE, req, &the_worker);
}

static int setup(void **state)
{
	memset(&seen, 0, sizeof seen);
	config_defaults(&cfg);
	cfg.max_json_body = 64;
	*state = calloc(1, sizeof(struct hf));
	return *state && hf_open(*state, on_request) ? 0 : -1;
}

static int teardown(void **state)
{
	hf_close(*state);
	free(*state);
	config_free(&cfg);
	return 0;
}

/* Send one request; the status of the (last) response. */
static int ask(struct hf *f, const char *request)
{
	const char *last = NULL, *p;
	int n;

	free(f->out);
	f->out = NULL;
	f->out_len = 0;
	hf_send(f, request);
	for (n = 0; (p = hf_response(f, n)); n++)
		last = p;
	return last ? (int)strtol(last + 9, NULL, 10) : 0;
}

static void dispatch_404_405(void **state)
{
	struct hf *f = *state;

	assert_int_equal(ask(f, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"), 404);
	assert_non_null(strstr(f->out, "{\"error\":\"not_found\""));
	assert_int_equal(ask(f, "PATCH /things/1 HTTP/1.1\r\nHost: x\r\n\r\n"), 405);
	assert_non_null(strstr(f->out, "Allow: GET, DELETE\r\n"));
	assert_non_null(strstr(f->out, "{\"error\":\"method_not_allowed\""));
	assert_int_equal(seen.calls, 0);
}

static void dispatch_decodes_single_segments(void **state)
{
	struct hf *f = *state;

	assert_int_equal(ask(f, "GET /things/a%20b HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
	assert_string_equal(seen.params[0], "a b");
	/* {bundle} is cut at its '/' and decoded; the rest stays raw */
	assert_int_equal(ask(f, "GET /files/b%31/x%2Fy/z HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
	assert_string_equal(seen.params[0], "b1");
	assert_string_equal(seen.params[1], "x%2Fy/z");
	/* a malformed escape or an encoded NUL is refused before the handler */
	assert_int_equal(ask(f, "GET /things/a%zz HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
	assert_non_null(strstr(f->out, "malformed percent-encoding"));
	assert_int_equal(seen.calls, 2);
}

static void dispatch_body_rules(void **state)
{
	struct hf *f = *state;

	/* RBODY_NONE takes no body */
	assert_int_equal(
		ask(f, "DELETE /things/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab"), 413);
	assert_int_equal(seen.calls, 0);
}

static void dispatch_json_rules(void **state)
{
	struct hf *f = *state;

	assert_int_equal(ask(f, "POST /json HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
				"Content-Length: 2\r\n\r\n{}"),
			 415);
	assert_non_null(strstr(f->out, "unsupported_media_type"));
	hf_close(f);
	assert_true(hf_open(f, on_request));
	/* over max-json-body by its Content-Length: refused before reading */
	assert_int_equal(ask(f,
			     "POST /json HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
			     "Content-Length: 100\r\n\r\n"),
			 413);
	hf_close(f);
	assert_true(hf_open(f, on_request));
	/* over it by a chunked body: refused while reading */
	assert_int_equal(
		ask(f,
		    "POST /json HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n"
		    "50\r\n{\"a\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}"
		    "\r\n0\r\n\r\n"),
		413);
	hf_close(f);
	assert_true(hf_open(f, on_request));
	assert_int_equal(ask(f,
			     "POST /json HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
			     "Content-Length: 3\r\n\r\n{a:"),
			 400);
	assert_non_null(strstr(f->out, "invalid_json"));
	assert_int_equal(ask(f,
			     "POST /json HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
			     "Content-Length: 2\r\n\r\n[]"),
			 400);
	assert_int_equal(ask(f, "POST /json HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
	assert_non_null(strstr(f->out, "a JSON object body is required"));
	assert_int_equal(seen.calls, 0);
	assert_int_equal(ask(f, "POST /json HTTP/1.1\r\nHost: x\r\n"
				"Content-Type: application/json; charset=utf-8\r\n"
				"Content-Length: 8\r\n\r\n{\"a\":1}\n"),
			 200);
	assert_true(seen.had_json);
	/* optional JSON: none is fine */
	assert_int_equal(ask(f, "POST /maybe HTTP/1.1\r\nHost: x\r\n\r\n"), 200);
	assert_false(seen.had_json);
	/* a stream route gets its body unread, whatever its type */
	assert_int_equal(ask(f, "PUT /stream HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
				"Content-Length: 0\r\n\r\n"),
			 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(check_accepts_the_test_table),
		cmocka_unit_test(check_refuses_undeclared_access),
		cmocka_unit_test(check_refuses_duplicates),
		cmocka_unit_test(check_refuses_malformed_patterns),
		cmocka_unit_test(match_params_and_rest),
		cmocka_unit_test(match_404_405_and_head),
		cmocka_unit_test_setup_teardown(dispatch_404_405, setup, teardown),
		cmocka_unit_test_setup_teardown(dispatch_decodes_single_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(dispatch_body_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(dispatch_json_rules, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
