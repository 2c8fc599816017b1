/* acl — see acl.h. */
#include "acl.h"

#include "http.h"
#include "metrics.h"
#include "router.h"

enum err acl_authorize(struct call *call)
{
	switch (call->route->access) {
	case ACCESS_PUBLIC:
		return ERR_OK;
	case ACCESS_SCRAPER:
		/* Not an account: an address or the metrics token. */
		return metrics_scraper_allowed(http_req_peer(call->req),
					       http_req_header(call->req, "Authorization"));
	default:
		/* Accounts arrive with the auth module; until then no caller
		 * can prove who they are. */
		return err_set(ERR_UNAUTHENTICATED, "authentication required");
	}
}
