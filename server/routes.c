/*
 * routes — the route table: every endpoint of consort, with the access
 * it needs and how it takes a body. A route is added here and nowhere
 * else; the authorization matrix test walks this table.
 */
#include "router.h"

#include "handlers.h"

const struct route routes[] = {
	{"GET", "/", h_app, ACCESS_PUBLIC, RBODY_NONE},
	{"GET", "/assets/{bundle}/{file*}", h_asset, ACCESS_PUBLIC, RBODY_NONE},
	{"GET", "/healthz", h_healthz, ACCESS_PUBLIC, RBODY_NONE},
	{"GET", "/metrics", h_metrics, ACCESS_SCRAPER, RBODY_NONE},
	/* answered only with --test-hooks */
	{"POST", "/_test/sink", h_test_sink, ACCESS_PUBLIC, RBODY_STREAM},
	{"GET", "/_test/source", h_test_source, ACCESS_PUBLIC, RBODY_NONE},
};

const size_t nroutes = sizeof routes / sizeof routes[0];
