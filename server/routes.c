/*
 * routes — the route table: every endpoint of consort, with the access
 * it needs and how it takes a body. A route is added here and nowhere
 * else; the authorization matrix test walks this table.
 */
#include "router.h"

#include "handlers.h"

const struct route routes[] = {
	{"GET", "/healthz", h_healthz, ACCESS_PUBLIC, RBODY_NONE},
	{"GET", "/api/v1/search", h_search, ACCESS_USER, RBODY_NONE},
};

const size_t nroutes = sizeof routes / sizeof routes[0];
