/* acl — see acl.h. */
#include "acl.h"

#include "router.h"

enum err acl_authorize(struct call *call)
{
	switch (call->route->access) {
	case ACCESS_PUBLIC:
		return ERR_OK;
	default:
		/* Accounts arrive with the auth module; until then no caller
		 * can prove who they are. */
		return err_set(ERR_UNAUTHENTICATED, "authentication required");
	}
}

/* Accounts land with the auth module, which owns this function; until
 * then no caller is ever authenticated (acl_authorize above), so no one
 * may read anything. */
enum err acl_readable_wps(struct call *call, int64_t **ids, size_t *n)
{
	*ids = NULL;
	*n = 0;
	if (!call->caller)
		return err_set(ERR_UNAUTHENTICATED, "authentication required");
	return ERR_OK;
}
