/*
 * acl — the one policy function. Every request passes through
 * acl_authorize() after routing and before its handler; no handler
 * decides access on its own.
 */
#ifndef CONSORT_ACL_H
#define CONSORT_ACL_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct call;

/* Authenticate the caller (session cookie with CSRF for unsafe methods,
 * or bearer token) when the route needs it, then decide whether the
 * route's declared access allows the call. Fills call->caller,
 * call->wp_id and call->wp_level. Returns ERR_OK to proceed, or
 * ERR_UNAUTHENTICATED / ERR_FORBIDDEN / ERR_NOTFOUND with a detail. */
enum err acl_authorize(struct call *call);

/* The work packages the authenticated caller may read (level read or
 * higher, own grants and the partner's; every WP for a coordinator):
 * the permission filter of search. *ids is malloc'd (caller frees; NULL
 * when *n is 0). */
enum err acl_readable_wps(struct call *call, int64_t **ids, size_t *n);

#endif
