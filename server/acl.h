/*
 * acl — the one policy function. Every request passes through
 * acl_authorize() after routing and before its handler; no handler
 * decides access on its own.
 */
#ifndef CONSORT_ACL_H
#define CONSORT_ACL_H

#include "err.h"

struct call;

/* Authenticate the caller (session cookie with CSRF for unsafe methods,
 * or bearer token) when the route needs it, then decide whether the
 * route's declared access allows the call. Fills call->caller,
 * call->wp_id and call->wp_level. Returns ERR_OK to proceed, or
 * ERR_UNAUTHENTICATED / ERR_FORBIDDEN / ERR_NOTFOUND with a detail. */
enum err acl_authorize(struct call *call);

#endif
