/* h_system — health and operational endpoints. */
#include <errno.h>
#include <event2/buffer.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/commitq.h"
#include "api/config.h"
#include "api/gcsched.h"
#include "api/scan.h"
#include "db.h"
#include "api/handlers.h"
#include "http/http.h"
#include "indexer.h"
#include "indexq.h"
#include "api/mail.h"
#include "api/metrics.h"
#include "notify.h"
#include "http/reply.h"
#include "api/router.h"
#include "api/app.h"
#include "cas.h"
#include "api/scan.h"
#include "http/server.h"

/* The search index lives at DATA/index/current (a link to the live
 * generation, indexer.h). Derived data: when it is missing the server
 * still serves everything but search, and it is rebuilt from the store. */
static const char *index_state(const char *data_dir)
{
	char path[4096];
	struct stat st;

	indexer_link_path(data_dir, path, sizeof path);
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? "absent" : "error";
	/* A link whose target is gone, or an unreadable directory, is a
	 * broken index rather than a missing one. */
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode) || access(path, R_OK | X_OK) != 0)
		return "error";
	return "ok";
}

static bool dir_writable(const char *data_dir, const char *sub)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/%s", data_dir, sub);
	return access(path, W_OK | X_OK) == 0;
}

/* GET /healthz: 200 when the database answers and the blob store is
 * writable, 503 otherwise; the body says which part is unwell. A broken
 * search index makes the status "degraded" but keeps 200: documents
 * are still served, and a load balancer should not take the node out
 * for it. Cheap enough to be polled every second. */
void h_healthz(struct call *call)
{
	const struct config *cfg = worker_config(call->worker);
	const char *index, *gc, *scanner;
	json_t *body;
	bool db_ok, blobs_ok;
	struct notify_outbox_stats ob;
	struct mail_stats ms;
	json_t *mail;

	db_ok = db_ping(worker_db(call->worker)) == ERR_OK;
	/* Writing a blob needs both: temp files in tmp/, then blobs/. */
	blobs_ok = dir_writable(cfg->data_dir, "blobs") && dir_writable(cfg->data_dir, "tmp");
	/* On S3: unavailable while the store's last request failed after its
	 * retries (no request from here: this runs on the event loop). */
	{
		struct cas_remote_stats rs;

		if (cas_remote_stats(app_cas(worker_app(call->worker)), &rs) && rs.failing)
			blobs_ok = false;
	}
	index = index_state(cfg->data_dir);
	/* Mail that cannot go out and overdue gc make the node "degraded",
	 * not unhealthy: mail is kept and retried (mail.h), and everything is
	 * still served while space stops coming back. */
	mail_stats(&ms);
	if (!db_ok || notify_outbox_stats(worker_db(call->worker), &ob))
		memset(&ob, 0, sizeof ob);
	mail = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s}", "state", ob.retrying ? "retrying" : "ok",
			 "transport", ms.smtp ? "smtp" : "folder", "queued", (json_int_t)ob.queued,
			 "retrying", (json_int_t)ob.retrying, "failed", (json_int_t)ob.failed,
			 "last_error", ms.last_error);
	gc = gcsched_health(app_gc(worker_app(call->worker)));
	/* An unreachable scanner stops uploads, not reads: degraded. */
	scanner = scan_state();
	body = json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "status",
			 !(db_ok && blobs_ok) ? "unavailable"
			 : !strcmp(index, "error") || !strcmp(gc, "overdue") || ob.retrying ||
					 !strcmp(scanner, "unreachable")
				 ? "degraded"
				 : "ok",
			 "database", db_ok ? "ok" : "error", "blobs", blobs_ok ? "ok" : "error",
			 "index", index, "gc", gc, "mail", mail);
	/* Shown only when scanning is on: with it off, as before. */
	if (body && scan_enabled())
		json_object_set_new(body, "scanner", json_string(scanner));
	reply_json(call->req, db_ok && blobs_ok ? 200 : 503, body);
}

struct metrics_body {
	struct evbuffer *buf;
};

static enum err metrics_fill(struct http_req *req, struct evbuffer *out, size_t max, bool *done,
			     void *arg)
{
	struct metrics_body *mb = arg;

	(void)req;
	evbuffer_remove_buffer(mb->buf, out, max);
	*done = evbuffer_get_length(mb->buf) == 0;
	return ERR_OK;
}

static void metrics_release(void *arg)
{
	struct metrics_body *mb = arg;

	evbuffer_free(mb->buf);
	free(mb);
}

/* GET /metrics: the Prometheus text format (metrics.h). Who may scrape
 * is decided by the policy before this runs (ACCESS_SCRAPER). */
void h_metrics(struct call *call)
{
	static const struct http_body_source src = {metrics_fill, metrics_release};
	struct app *app = worker_app(call->worker);
	struct metrics_live live = {
		.open_connections = server_open_connections(app_server(app)),
		.tls_handshakes = server_tls_handshakes(app_server(app)),
	};
	struct metrics_body *mb = calloc(1, sizeof *mb);
	struct indexer *ix = app_indexer(app);
	int64_t pending;
	enum err rc;

	/* Figures owned elsewhere, read cheaply now: the queue is one
	 * count over index_queue, the indexer keeps its own counters. */
	if (indexq_pending(worker_db(call->worker), &pending) == ERR_OK)
		metrics_set(METRICS_INDEX_QUEUE, pending);
	if (worker_commitq(call->worker)) {
		unsigned long long batches, changes;

		commitq_stats(worker_commitq(call->worker), &batches, &changes);
		metrics_set(METRICS_COMMIT_BATCHES, (int64_t)batches);
		metrics_set(METRICS_COMMIT_CHANGES, (int64_t)changes);
	}
	{
		struct notify_outbox_stats ob;
		struct mail_stats ms;

		mail_stats(&ms);
		metrics_set(METRICS_MAIL_SENT, (int64_t)ms.sent);
		metrics_set(METRICS_MAIL_SEND_ERRORS, (int64_t)ms.send_failures);
		if (notify_outbox_stats(worker_db(call->worker), &ob) == ERR_OK) {
			metrics_set(METRICS_MAIL_QUEUED, ob.queued);
			metrics_set(METRICS_MAIL_RETRYING, ob.retrying);
			metrics_set(METRICS_MAIL_FAILED, ob.failed);
			metrics_set(METRICS_MAIL_OLDEST,
				    ob.oldest_queued_at ? db_now() - ob.oldest_queued_at : 0);
		}
	}
	if (ix) {
		struct indexer_stats st;

		indexer_stats(ix, &st);
		metrics_set(METRICS_EXTRACT_FAILURES, (int64_t)st.failed);
		metrics_set(METRICS_INDEX_DOCS, (int64_t)st.doccount);
		metrics_set(METRICS_INDEX_COMMITS, (int64_t)st.commits);
	}
	if (!mb || !(mb->buf = evbuffer_new())) {
		free(mb);
		reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
		return;
	}
	rc = metrics_render(&live, mb->buf);
	if (!rc)
		scan_metrics(mb->buf);
	if (rc) {
		metrics_release(mb);
		reply_err(call->req, rc);
		return;
	}
	reply_api_headers(call->req);
	http_resp_header(call->req, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	http_resp_stream(call->req, 200, (int64_t)evbuffer_get_length(mb->buf), &src, mb);
}
