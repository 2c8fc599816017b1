/* Unit tests for server/api/metrics.c: who may scrape, counting per route
 * across shards, and the shape of the exposition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/buffer.h>

#include "api/metrics.c"

static void h_dummy(struct call *call) { (void)call; }

static const struct route table[] = {
	{"GET", "/healthz", h_dummy, ACCESS_PUBLIC, RBODY_NONE},
	{"PUT", "/api/v1/wps/{wp}/content/{path*}", h_dummy, ACCESS_WP_WRITE, RBODY_STREAM},
};

static char *render(void)
{
	struct metrics_live live = {.open_connections = 3, .tls_handshakes = 7};
	struct evbuffer *b = evbuffer_new();
	char *text;
	size_t len;

	assert_int_equal(metrics_render(&live, b), ERR_OK);
	len = evbuffer_get_length(b);
	text = malloc(len + 1);
	evbuffer_remove(b, text, len);
	text[len] = '\0';
	evbuffer_free(b);
	return text;
}

static void start(const char *allow, const char *token_file)
{
	struct metrics_opts o = {
		.routes = table,
		.nroutes = 2,
		.nshards = 3,
		.allow = allow,
		.token_file = token_file,
	};

	assert_int_equal(metrics_start(&o), ERR_OK);
}

static void allow_list_parses_and_refuses(void **state)
{
	(void)state;
	assert_int_equal(metrics_allow_check("10.0.0.0/8, 192.168.1.7,::1, fd00::/8"), ERR_OK);
	assert_int_equal(metrics_allow_check("none"), ERR_OK);
	assert_int_equal(metrics_allow_check("10.0.0.0/33"), ERR_INVALID);
	assert_non_null(strstr(err_detail(), "10.0.0.0/33"));
	assert_int_equal(metrics_allow_check("::1/129"), ERR_INVALID);
	assert_int_equal(metrics_allow_check("example.org"), ERR_INVALID);
	assert_int_equal(metrics_allow_check("10.0.0.0/"), ERR_INVALID);
	assert_int_equal(metrics_allow_check("10.0.0.0/-1"), ERR_INVALID);
}

static void default_allows_loopback_only(void **state)
{
	(void)state;
	start(NULL, NULL);
	assert_int_equal(metrics_scraper_allowed("127.0.0.1", NULL), ERR_OK);
	assert_int_equal(metrics_scraper_allowed("127.9.8.7", NULL), ERR_OK);
	assert_int_equal(metrics_scraper_allowed("::1", NULL), ERR_OK);
	assert_int_equal(metrics_scraper_allowed("::ffff:127.0.0.1", NULL), ERR_OK);
	assert_int_equal(metrics_scraper_allowed("10.1.2.3", NULL), ERR_FORBIDDEN);
	assert_int_equal(metrics_scraper_allowed("2001:db8::1", NULL), ERR_FORBIDDEN);
	/* No token configured: a bearer header does not open anything. */
	assert_int_equal(metrics_scraper_allowed("10.1.2.3", "Bearer whatever-whatever"),
			 ERR_FORBIDDEN);
	metrics_stop();
}

static void prefixes_match_by_bits(void **state)
{
	(void)state;
	start("10.20.0.0/14, 2001:db8:ab00::/40", NULL);
	assert_int_equal(metrics_scraper_allowed("10.23.255.1", NULL), ERR_OK);
	assert_int_equal(metrics_scraper_allowed("10.24.0.1", NULL), ERR_FORBIDDEN);
	assert_int_equal(metrics_scraper_allowed("2001:db8:abff::5", NULL), ERR_OK);
	assert_int_equal(metrics_scraper_allowed("2001:db8:ac00::5", NULL), ERR_FORBIDDEN);
	assert_int_equal(metrics_scraper_allowed("127.0.0.1", NULL), ERR_FORBIDDEN);
	metrics_stop();
}

static void token_opens_from_anywhere(void **state)
{
	char path[] = "/tmp/consort-metrics-token-XXXXXX";
	int fd = mkstemp(path);
	const char *tok = "s3cret-metrics-token-0123456789\n";

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, tok, strlen(tok)), (ssize_t)strlen(tok));
	close(fd);
	start("none", path);
	assert_int_equal(metrics_scraper_allowed("127.0.0.1", NULL), ERR_FORBIDDEN);
	assert_int_equal(
		metrics_scraper_allowed("203.0.113.9", "Bearer s3cret-metrics-token-0123456789"),
		ERR_OK);
	assert_int_equal(
		metrics_scraper_allowed("203.0.113.9", "bearer s3cret-metrics-token-0123456789"),
		ERR_OK);
	assert_int_equal(
		metrics_scraper_allowed("127.0.0.1", "Bearer s3cret-metrics-token-012345678"),
		ERR_UNAUTHENTICATED);
	assert_int_equal(
		metrics_scraper_allowed("127.0.0.1", "Bearer s3cret-metrics-token-01234567890"),
		ERR_UNAUTHENTICATED);
	assert_int_equal(metrics_scraper_allowed("127.0.0.1", "Basic czNjcmV0"),
			 ERR_UNAUTHENTICATED);
	/* The detail never echoes what was sent. */
	assert_null(strstr(err_detail(), "czNjcmV0"));
	metrics_stop();

	/* Too short a token refuses to start, naming the option. */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "tiny9\n", 6), 6);
	close(fd);
	{
		struct metrics_opts o = {
			.routes = table, .nroutes = 2, .nshards = 1, .token_file = path};

		assert_int_equal(metrics_start(&o), ERR_INVALID);
		assert_non_null(strstr(err_detail(), "metrics-token-file"));
		assert_null(strstr(err_detail(), "tiny9"));
	}
	unlink(path);
	{
		struct metrics_opts o = {
			.routes = table, .nroutes = 2, .nshards = 1, .token_file = path};

		assert_int_equal(metrics_start(&o), ERR_INVALID);
	}
	metrics_stop();
}

static void counts_add_up_over_shards(void **state)
{
	char *text;

	(void)state;
	start(NULL, NULL);
	metrics_request(0, &table[0], 200, 80, 300, 400);
	metrics_request(1, &table[0], 200, 80, 300, 2000);
	metrics_request(2, &table[0], 503, 80, 100, 70000000);
	metrics_request(1, &table[1], 201, 1000080, 200, 30000);
	metrics_request(0, NULL, 404, 50, 150, 10);
	metrics_request(0, NULL, 0, 0, 0, 10);
	metrics_request(1, &table[0], 999, 1, 1, 1);
	metrics_request(7, &table[0], 200, 1, 1, 1); /* no such shard: ignored */
	text = render();
	assert_non_null(strstr(
		text,
		"consort_http_requests_total{method=\"GET\",route=\"/healthz\",code=\"200\"} 2\n"));
	assert_non_null(strstr(
		text,
		"consort_http_requests_total{method=\"GET\",route=\"/healthz\",code=\"503\"} 1\n"));
	assert_non_null(strstr(
		text,
		"consort_http_requests_total{method=\"GET\",route=\"/healthz\",code=\"other\"} 1\n"));
	assert_non_null(strstr(
		text,
		"consort_http_requests_total{method=\"PUT\",route=\"/api/v1/wps/{wp}/content/{path*}\",code=\"201\"} 1\n"));
	assert_non_null(strstr(
		text,
		"consort_http_requests_total{method=\"\",route=\"unmatched\",code=\"404\"} 1\n"));
	assert_non_null(strstr(
		text,
		"consort_http_requests_total{method=\"\",route=\"unmatched\",code=\"0\"} 1\n"));
	/* Buckets are cumulative; 400 us and 1 us fall in the first, 2 ms in
	 * the second, 70 s only in +Inf. */
	assert_non_null(strstr(
		text,
		"consort_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"0.001\"} 2\n"));
	assert_non_null(strstr(
		text,
		"consort_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"0.0025\"} 3\n"));
	assert_non_null(strstr(
		text,
		"consort_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"60\"} 3\n"));
	assert_non_null(strstr(
		text,
		"consort_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",le=\"+Inf\"} 4\n"));
	assert_non_null(strstr(
		text,
		"consort_http_request_duration_seconds_count{method=\"GET\",route=\"/healthz\"} 4\n"));
	assert_non_null(strstr(
		text,
		"consort_http_request_bytes_total{method=\"PUT\",route=\"/api/v1/wps/{wp}/content/{path*}\"} 1000080\n"));
	assert_non_null(strstr(
		text,
		"consort_http_response_bytes_total{method=\"GET\",route=\"/healthz\"} 701\n"));
	assert_non_null(strstr(text, "consort_http_connections_open 3\n"));
	assert_non_null(strstr(text, "consort_tls_handshakes_total 7\n"));
	/* Nobody fed these yet: they are absent, not 0. */
	assert_null(strstr(text, "consort_uploads_in_progress"));
	assert_null(strstr(text, "consort_blobs "));
	/* No database given (db_path NULL): no small-content figures. */
	assert_null(strstr(text, "consort_small_blobs"));
	free(text);

	metrics_add(METRICS_UPLOADS_ACTIVE, 2);
	metrics_add(METRICS_UPLOADS_ACTIVE, -1);
	metrics_set(METRICS_INDEX_QUEUE, 42);
	text = render();
	assert_non_null(strstr(
		text, "# TYPE consort_uploads_in_progress gauge\nconsort_uploads_in_progress 1\n"));
	assert_non_null(strstr(text, "consort_index_queue_depth 42\n"));
	free(text);
	metrics_stop();
	/* After stop, requests are ignored and rendering refuses. */
	metrics_request(0, &table[0], 200, 1, 1, 1);
	{
		struct metrics_live live = {0};
		struct evbuffer *b = evbuffer_new();

		assert_int_equal(metrics_render(&live, b), ERR_INTERNAL);
		evbuffer_free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(allow_list_parses_and_refuses),
		cmocka_unit_test(default_allows_loopback_only),
		cmocka_unit_test(prefixes_match_by_bits),
		cmocka_unit_test(token_opens_from_anywhere),
		cmocka_unit_test(counts_add_up_over_shards),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
