/*
 * routes — the route table of consort (routes.c): the one place that
 * joins the API (api/) and the network drive (dav/). Given to app_run
 * by `consort serve` and listed by `consort routes`.
 */
#ifndef CONSORT_ROUTES_H
#define CONSORT_ROUTES_H

#include <stddef.h>

#include "api/router.h"

extern const struct route routes[];
extern const size_t nroutes;

#endif
