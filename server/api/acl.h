/*
 * acl — the one policy function. Every request passes through
 * acl_authorize() after routing and before its handler; no handler
 * decides access on its own.
 *
 * The decision, in order (docs/api.md "Access"):
 *   public route                         → allowed, nobody is identified
 *   no/unknown/expired/revoked credentials, disabled account → 401
 *   session cookie on an unsafe method without the right X-CSRF-Token → 403
 *   second factor required but not enrolled → 403 except for enrolling
 *   session-only route called with an API token → 403
 *   {wp} in the route: a WP the caller cannot read is 404, exactly like
 *   a WP that does not exist, so existence is not revealed; a WP the
 *   caller can read but not at the route's level is 403
 *   coordinator route for a non-coordinator → 403
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

/* The {wp} part of the decision for routes whose work package is not in
 * the path: a tus upload names it in Upload-Metadata when it is created
 * (`code`), and later requests find its id in the upload (`wp_id`, with
 * `code` NULL). Call after acl_authorize has identified the caller.
 * `need` is ACCESS_WP_READ, _WRITE or _MANAGE (enum access). Same
 * answers as for a {wp} route: ERR_NOTFOUND when the caller cannot read
 * the work package (or it does not exist), ERR_FORBIDDEN when the level
 * is too low. Fills call->wp_id and call->wp_level. */
enum err acl_authorize_wp(struct call *call, const char *code, int64_t wp_id, int need);

/* Ids of the work packages the authenticated caller may read (level read
 * or higher, own grants and the partner's; every WP for a coordinator):
 * the permission filter of search. *ids is malloc'd, ascending, NULL when
 * *n is 0; the caller frees it. ERR_UNAUTHENTICATED without a caller. */
enum err acl_readable_wps(struct call *call, int64_t **ids, size_t *n);

#endif
