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
