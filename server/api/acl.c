/* acl — see acl.h. */
#include "api/acl.h"

#include <string.h>

#include "accounts.h"
#include "api/auth.h"
#include "digest.h"
#include "http/http.h"
#include "api/metrics.h"
#include "api/router.h"
#include "api/app.h"

static bool is_safe_method(const char *m)
{
	return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "OPTIONS");
}

static bool csrf_ok(const struct call *call)
{
	const char *sent = http_req_header(call->req, "X-CSRF-Token");
	size_t len = strlen(call->caller->csrf);

	return sent && http_req_header_count(call->req, "X-CSRF-Token") == 1 &&
	       strlen(sent) == len && digest_equal(sent, call->caller->csrf, len);
}

/* What a caller whose coordinator requires a second factor may do before
 * enrolling one: manage their own credentials through the session (which
 * includes enrolling and signing out), and see who they are. */
static bool allowed_before_enrolment(const struct call *call)
{
	return call->route->access == ACCESS_SESSION ||
	       (!strcmp(call->route->method, "GET") && !strcmp(call->route->pattern, "/api/v1/me"));
}

static int level_needed(enum access a)
{
	switch (a) {
	case ACCESS_WP_READ: return ACCT_READ;
	case ACCESS_WP_WRITE: return ACCT_WRITE;
	case ACCESS_WP_MANAGE: return ACCT_MANAGE;
	default: return ACCT_NONE;
	}
}

enum err acl_authorize(struct call *call)
{
	enum access need = call->route->access;
	const struct caller *c;
	const char *wp;
	enum err rc;

	call->caller = NULL;
	call->wp_id = 0;
	call->wp_level = ACCT_NONE;
	if (need == ACCESS_PUBLIC)
		return ERR_OK;
	if (need == ACCESS_SCRAPER)
		/* Not an account: an allowed address or the metrics token. */
		return metrics_scraper_allowed(http_req_peer(call->req),
					       http_req_header(call->req, "Authorization"));
	if (need <= ACCESS_UNDECLARED || need >= ACCESS__COUNT)
		return err_set(ERR_INTERNAL, "route declares no access"); /* router_check prevents it */

	rc = auth_identify(call);
	if (rc)
		return rc;
	c = call->caller;
	if (call->by_cookie && !is_safe_method(http_req_method(call->req)) && !csrf_ok(call))
		return err_set(ERR_FORBIDDEN, "missing or wrong X-CSRF-Token header");
	if (c->totp_pending && !(call->by_cookie && allowed_before_enrolment(call)))
		return err_set(ERR_FORBIDDEN, "a second factor must be enrolled first "
					      "(POST /api/v1/me/totp)");
	if (need == ACCESS_SESSION && !call->by_cookie)
		return err_set(ERR_FORBIDDEN, "this needs a signed-in session; "
					      "API tokens cannot manage credentials");

	wp = call_param(call, "wp");
	if (wp) {
		rc = acct_wp_resolve(worker_db(call->worker), wp, c->user_id, &call->wp_id,
				     &call->wp_level);
		/* Unreadable is reported exactly like missing, so probing
		 * codes tells an outsider nothing. */
		if (rc == ERR_NOTFOUND || (!rc && call->wp_level == ACCT_NONE)) {
			call->wp_id = 0;
			return err_set(ERR_NOTFOUND, "no such work package");
		}
		if (rc)
			return rc;
	}

	switch (need) {
	case ACCESS_USER:
	case ACCESS_SESSION:
		return ERR_OK;
	case ACCESS_WP_READ:
	case ACCESS_WP_WRITE:
	case ACCESS_WP_MANAGE:
		if (!wp)
			return err_set(ERR_INTERNAL, "route needs a WP level but has no {wp}");
		if (call->wp_level < level_needed(need))
			return err_set(ERR_FORBIDDEN, "this needs %s access to %s",
				       acct_level_name(level_needed(need)), wp);
		return ERR_OK;
	case ACCESS_COORDINATOR:
		if (!c->coordinator)
			return err_set(ERR_FORBIDDEN, "only coordinators may do this");
		return ERR_OK;
	default:
		return err_set(ERR_INTERNAL, "unknown access level");
	}
}

enum err acl_authorize_wp(struct call *call, const char *code, int64_t wp_id, int need)
{
	struct db *db = worker_db(call->worker);
	enum err rc;

	call->wp_id = 0;
	call->wp_level = ACCT_NONE;
	if (!call->caller)
		return err_set(ERR_UNAUTHENTICATED, "authentication required");
	if (need != ACCESS_WP_READ && need != ACCESS_WP_WRITE && need != ACCESS_WP_MANAGE)
		return err_set(ERR_INTERNAL, "not a work package level");
	if (code)
		rc = acct_wp_resolve(db, code, call->caller->user_id, &wp_id, &call->wp_level);
	else
		rc = acct_level(db, call->caller->user_id, wp_id, &call->wp_level);
	if (rc == ERR_NOTFOUND || (!rc && call->wp_level == ACCT_NONE))
		return err_set(ERR_NOTFOUND, "no such work package");
	if (rc)
		return rc;
	if (call->wp_level < level_needed((enum access)need))
		return err_set(ERR_FORBIDDEN, "this needs %s access to the work package",
			       acct_level_name(level_needed((enum access)need)));
	call->wp_id = wp_id;
	return ERR_OK;
}

enum err acl_readable_wps(struct call *call, int64_t **ids, size_t *n)
{
	*ids = NULL;
	*n = 0;
	if (!call->caller)
		return err_set(ERR_UNAUTHENTICATED, "authentication required");
	return acct_readable_wps(worker_db(call->worker), call->caller->user_id, ids, n);
}
