/*
 * router — the table of routes, matching, and the path every request
 * takes before its handler runs:
 *
 *   match method + path → 404 / 405
 *   Host names another host than public-url → 421 (publicurl.h)
 *   body rules of the route (no body / JSON / stream) → 413, 415
 *   authenticate and authorize (acl_authorize: the policy module decides)
 *   read and parse a JSON body (capped) → 400, 413
 *   handler
 *
 * Every route declares the access it needs; router_check() refuses to
 * start a table with an undeclared route.
 */
#ifndef CONSORT_ROUTER_H
#define CONSORT_ROUTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct http_req;
struct worker;
struct caller;

/* What a route needs, checked by acl_authorize before the handler. */
enum access {
	ACCESS_UNDECLARED = 0, /* a route with this does not start */
	ACCESS_PUBLIC,         /* anyone, no authentication */
	ACCESS_USER,           /* any signed-in, enabled account */
	ACCESS_WP_READ,        /* level on the route's {wp} at least ... */
	ACCESS_WP_WRITE,
	ACCESS_WP_MANAGE,
	ACCESS_COORDINATOR, /* coordinators only */
	ACCESS_SCRAPER,     /* a metrics scraper: an allowed address or the
			       metrics token (metrics-allow, metrics-token-file) */
	ACCESS_SESSION,     /* a signed-in account by session cookie, not an
			       API token: managing one's own credentials */
	/* Routes whose work package is not (only) in the path; the policy
	 * still decides before the handler, so a dry run answers the truth. */
	ACCESS_WP_WRITE_BY_METADATA, /* write on the WP named by the `wp` key of
					Upload-Metadata (tus creation) */
	ACCESS_DAV_COPY,             /* read on {wp}, write on the Destination's WP */
	ACCESS_DAV_MOVE,             /* write on {wp} and on the Destination's WP */
	ACCESS_UPLOAD_OWNER,         /* the creator of the tus upload {id}, with write
					on its WP */
	/* Sudo mode: changes to credentials and privileges. A session
	 * cookie (never a token) whose sign-in or confirm is at most
	 * AUTH_SUDO_SECONDS old; an older one gets 403
	 * reauthentication_required and confirms (docs/accounts.md). */
	ACCESS_SUDO,             /* the caller's own credentials (tokens, 2FA) */
	ACCESS_COORDINATOR_SUDO, /* a coordinator, on someone's account */
	ACCESS__COUNT
};

enum route_body {
	RBODY_NONE,          /* a request body is refused (413) */
	RBODY_JSON,          /* a JSON object, read whole up to max-json-body */
	RBODY_STREAM,        /* the handler reads the body itself */
	RBODY_OPTIONAL_JSON, /* JSON if present, else none */
	RBODY_TEXT,          /* text/csv or text/plain, read whole up to
				max-json-body into call->text (NUL-terminated) */
};

#define ROUTE_MAX_PARAMS 4

struct call;
typedef void (*route_fn)(struct call *call);

struct route {
	const char *method;
	const char *pattern; /* "/api/v1/wps/{wp}/content/{path*}" */
	route_fn fn;
	enum access access;
	enum route_body body;
};

/* Everything a handler gets. Request-scoped: lives in the request arena. */
struct call {
	struct http_req *req;
	struct worker *worker;
	const struct route *route;
	int nparams;
	const char *param_names[ROUTE_MAX_PARAMS];
	size_t param_name_lens[ROUTE_MAX_PARAMS];
	const char *params[ROUTE_MAX_PARAMS]; /* single segments decoded; {x*} raw */
	const struct caller *caller;          /* NULL when anonymous */
	bool by_cookie;                       /* authenticated by session cookie */
	int64_t wp_id;                        /* set when the route has {wp} */
	int wp_level;                         /* caller's level on that WP (0-3) */
	int64_t dest_wp_id; /* ACCESS_DAV_COPY, _MOVE: the Destination's WP, decided */
	json_t *json;       /* RBODY_JSON: the parsed object */
	const char *text;   /* RBODY_TEXT: the body, in the request arena */
	size_t text_len;
};

/* Validate a table: every route declares access, patterns are well
 * formed ('/' and segments: literals, {name}, {name*} only last; names
 * [a-z0-9_], unique, at most ROUTE_MAX_PARAMS), no two routes share
 * method and pattern, {wp} routes exist for WP levels. */
enum err router_check(const struct route *table, size_t n);

/* The route of `table` for `method` and `path` (HEAD takes a GET
 * route), filling call's params raw (router_dispatch decodes single
 * segments afterwards), or NULL. *path_matched tells 405 (some route has
 * the path) from 404. The first route that matches wins. */
const struct route *router_match(const struct route *table, size_t n, const char *method,
				 const char *path, struct call *call, bool *path_matched);

/* Every request, on worker `w`: match it in `table` (checked by
 * router_check), apply the route's body rules, authorize, read a JSON
 * body, and run the handler; or answer 404/405/400/413/415 or the
 * policy's refusal. */
void router_dispatch(const struct route *table, size_t n, struct http_req *req, struct worker *w);

/* Named parameter of the matched pattern, or NULL. */
const char *call_param(const struct call *call, const char *name);

/* Human label for an access level ("wp:read", ...). */
const char *access_name(enum access a);

#endif
