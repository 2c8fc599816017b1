/* h_system — health and operational endpoints. */
#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "handlers.h"
#include "http.h"
#include "reply.h"
#include "router.h"
#include "server.h"

/* GET /healthz: 200 when the database answers and the blob store is
 * writable, 503 otherwise; the body says which part is unwell. Cheap
 * enough to be polled by a load balancer. */
void h_healthz(struct call *call)
{
	const struct config *cfg = worker_config(call->worker);
	char blobs[4096];
	bool db_ok, blobs_ok;

	db_ok = db_ping(worker_db(call->worker)) == ERR_OK;
	snprintf(blobs, sizeof blobs, "%s/blobs", cfg->data_dir);
	blobs_ok = access(blobs, W_OK | X_OK) == 0;
	reply_json(call->req, db_ok && blobs_ok ? 200 : 503,
		   json_pack("{s:s, s:s, s:s}",
			     "status", db_ok && blobs_ok ? "ok" : "unavailable",
			     "database", db_ok ? "ok" : "error",
			     "blobs", blobs_ok ? "ok" : "error"));
}
