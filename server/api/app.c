/* app — see app.h. */
#include "api/app.h"
#include "api/scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/auth.h"
#include "api/oidc.h"
#include "api/commitq.h"
#include "api/config.h"
#include "api/dlvremind.h"
#include "api/gcsched.h"
#include "api/preview.h"
#include "api/handlers.h"
#include "api/mail.h"
#include "api/metrics.h"
#include "api/router.h"
#include "blobback.h"
#include "cas.h"
#include "db.h"
#include "api/publicurl.h"
#include "http/http.h"
#include "http/jobs.h"
#include "http/log.h"
#include "http/server.h"
#include "indexer.h"
#include "maint.h"
#include "settings.h"
#include "tree.h"
#include "xap.h"

struct app {
	const struct config *cfg;
	const struct route *routes;
	size_t nroutes;
	struct server *srv; /* from the start hook on */
	char *db_path;
	struct cas *cas;
	struct indexer *indexer;
	struct jobs *jobs;       /* blocking work answered on a worker (Argon2) */
	struct jobs *io;         /* disk work: storing uploads */
	struct commitq *commitq; /* group commit of new versions */
	struct gcsched *gc;      /* NULL: gc-interval 0 */
	char *public_url;        /* base of absolute links (publicurl.h) */
	bool metrics_on;
};

struct worker {
	struct app *app;
	unsigned index;
	struct event_base *base;
	struct db *db;
	struct jobs_loop *jobs;
	struct xap_reader *search; /* this thread's index reader */
};

struct db *worker_db(struct worker *w) { return w->db; }
struct xap_reader *worker_search(struct worker *w) { return w->search; }
const struct config *worker_config(const struct worker *w) { return w->app->cfg; }
struct app *worker_app(struct worker *w) { return w->app; }
unsigned worker_index(const struct worker *w) { return w->index; }
struct event_base *worker_base(struct worker *w) { return w->base; }
struct jobs_loop *worker_jobs(struct worker *w) { return w->jobs; }
struct jobs *worker_io(struct worker *w) { return w->app->io; }
struct commitq *worker_commitq(struct worker *w) { return w->app->commitq; }
const char *worker_public_url(const struct worker *w) { return w->app->public_url; }
struct server *app_server(const struct app *a) { return a->srv; }
struct cas *app_cas(const struct app *a) { return a->cas; }
struct indexer *app_indexer(const struct app *a) { return a->indexer; }
struct gcsched *app_gc(const struct app *a) { return a->gc; }
const char *app_data_dir(const struct app *a) { return a->cfg->data_dir; }

/* Modules that keep state across requests (writers held open between
 * tus chunks): closed once no worker runs and the pools have finished,
 * so nothing can use that state any more. */
static void (*const stop_modules[])(void) = {
	tus_close_all,
	scan_stop,
	preview_stop,
};

enum err app_prepare_data_dir(const char *dir)
{
	static const char *const subdirs[] = {"blobs", "uploads", "index", "tls", "tmp"};
	char path[4096];
	struct stat st;

	int fd;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return err_set(ERR_INVALID, "data directory %s cannot be created: %s", dir,
			       strerror(errno));
	if (stat(dir, &st) != 0)
		return err_set(ERR_INVALID, "data directory %s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return err_set(ERR_INVALID, "data directory %s is not a directory", dir);
	/* A real write, not access(): root passes access() on a directory it
	 * cannot write (read-only filesystem, immutable, procfs). */
	snprintf(path, sizeof path, "%s/.write-test", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_set(ERR_INVALID, "data directory %s is not writable: %s", dir,
			       strerror(errno));
	close(fd);
	unlink(path);
	for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, subdirs[i]);
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return err_set(ERR_INVALID, "data directory: cannot create %s: %s", path,
				       strerror(errno));
	}
	return ERR_OK;
}

static void indexer_log(enum indexer_log_level level, const char *msg)
{
	log_event(level == INDEXER_ERROR  ? LOG_ERROR
		  : level == INDEXER_WARN ? LOG_WARN
					  : LOG_INFO,
		  "index", "%s", msg);
}

/* Text extraction runs in `consort extract-worker` started from this
 * very binary (/proc/self/exe stays valid when the file is replaced by
 * an upgrade). */
void app_indexer_opts(const struct config *cfg, struct indexer_opts *opts)
{
	static char *const helper[] = {"/proc/self/exe", "extract-worker", NULL};

	indexer_opts_default(opts);
	opts->data_dir = cfg->data_dir;
	opts->helper_argv = helper;
	opts->limits = cfg->extract;
	opts->poll_ms = cfg->index_poll_ms;
	opts->gap_ms = cfg->index_gap_ms;
	opts->first_cpu_seconds = cfg->extract_first_seconds;
	opts->fallback_lang = cfg->index_language;
}

/* The indexer thread. */
static enum err start_indexer(struct app *a)
{
	struct indexer_opts opts;
	enum err rc;

	app_indexer_opts(a->cfg, &opts);
	opts.log = indexer_log;
	opts.cas = a->cas;
	rc = indexer_open(&opts, &a->indexer);
	if (!rc)
		rc = indexer_start(a->indexer);
	return rc;
}

/* The configured quota and retention defaults go into the store, where
 * storage/tree.c reads them: `consort gc` then applies the same rules as
 * the server without reading its configuration. */
/* Does DATA/blobs hold any blob directory? */
static bool local_blobs_present(const char *data_dir)
{
	char path[4096];
	struct dirent *de;
	bool any = false;
	DIR *d;

	snprintf(path, sizeof path, "%s/blobs", data_dir);
	d = opendir(path);
	if (!d)
		return false;
	while (!any && (de = readdir(d)))
		any = de->d_name[0] != '.';
	closedir(d);
	return any;
}

/* The blob-store options, recorded in DATA/blob-store for every command
 * run on this directory (storage/blobback.h). Switching a directory
 * that has blobs to another store would lose them: refused. */
static enum err record_blob_store(const struct config *cfg)
{
	struct blobback_config now, want;
	enum err rc;

	if (!cfg->blob_store)
		return ERR_OK;
	rc = blobback_config_read(cfg->data_dir, &now);
	if (rc)
		return rc;
	memset(&want, 0, sizeof want);
	snprintf(want.store, sizeof want.store, "%s", cfg->blob_store);
	if (!strcmp(want.store, "local")) {
		if (strcmp(now.store, "local"))
			return err_set(
				ERR_INVALID,
				"blob-store = local, but this data directory's blobs are in the "
				"object store %s bucket %s (DATA/blob-store)",
				now.endpoint, now.bucket);
		return ERR_OK;
	}
	if (!strcmp(now.store, "local") && local_blobs_present(cfg->data_dir))
		return err_set(ERR_INVALID,
			       "blob-store = s3, but DATA/blobs holds this data "
			       "directory's blobs: run `consort blobs migrate --to s3` first");
#define COPY(dst, src)                                                                             \
	do {                                                                                       \
		if ((src) && strlen(src) >= sizeof(dst))                                           \
			return err_set(ERR_INVALID, "%s is too long", #src);                       \
		snprintf(dst, sizeof(dst), "%s", (src) ? (src) : "");                              \
	} while (0)
	COPY(want.endpoint, cfg->s3_endpoint);
	COPY(want.region, cfg->s3_region);
	COPY(want.bucket, cfg->s3_bucket);
	COPY(want.addressing, cfg->s3_addressing);
	COPY(want.credentials_file, cfg->s3_credentials_file);
	COPY(want.ca_file, cfg->s3_ca_file);
#undef COPY
	return blobback_config_write(cfg->data_dir, &want);
}

static enum err apply_store_defaults(struct db *db, const struct config *cfg)
{
	enum err rc = settings_put_u64(db, TREE_DEFAULT_QUOTA_KEY, cfg->default_quota);

	if (!rc)
		rc = settings_put_u64(db, TREE_DEFAULT_KEEP_VERSIONS_KEY,
				      cfg->default_keep_versions);
	if (!rc)
		rc = settings_put_u64(db, TREE_DEFAULT_KEEP_DAYS_KEY, cfg->default_keep_days);
	return rc;
}

/* --- the server's hooks ------------------------------------------------------ */

/* Listener bound, workers not started yet: what needs the worker count
 * (metric shards) and the pools the workers submit to. The server
 * calls app_stopped afterwards whether this fails or not. */
static enum err app_start(struct server *srv, void *arg)
{
	struct app *a = arg;
	const struct config *cfg = a->cfg;
	struct metrics_opts mo = {
		.routes = a->routes,
		.nroutes = a->nroutes,
		.nshards = server_nworkers(srv),
		.data_dir = cfg->data_dir,
		.cas = a->cas,
		.db_path = a->db_path,
		.blob_scan_ms = cfg->metrics_blob_walk_ms,
		.allow = cfg->metrics_allow,
		.token_file = cfg->metrics_token_file,
	};
	enum err rc;

	a->srv = srv;
	rc = metrics_start(&mo);
	if (rc)
		return rc;
	a->metrics_on = true;
	/* The job queue is bounded so a flood of logins queues at most this
	 * much Argon2 work; beyond it requests get 503 at once. */
	rc = jobs_start(cfg->job_threads ? cfg->job_threads
					 : (unsigned)sysconf(_SC_NPROCESSORS_ONLN),
			1024, &a->jobs);
	/* Disk work queues without a practical bound: each entry is an
	 * upload whose bytes have all arrived. */
	if (!rc)
		rc = jobs_start(cfg->io_threads, 1u << 20, &a->io);
	if (!rc)
		rc = commitq_start(a->db_path, 0, &a->commitq);
	/* Digests and the outbox (mail.h); stopped in app_stopped. */
	if (!rc)
		rc = mail_start(cfg, a->public_url);
	/* It feeds /metrics, so after metrics_start. */
	if (!rc)
		rc = gcsched_start(cfg->data_dir, cfg->gc_interval_ms, MAINT_GC_GRACE_DEFAULT,
				   &a->gc);
	/* Deliverable reminders (dlvremind.h); stopped in app_stopped. */
	if (!rc)
		rc = dlvremind_start(cfg);
	if (!rc) {
		struct scan_opts so = {
			.address = cfg->clamd_socket ? cfg->clamd_socket : cfg->clamd_address,
			.db_path = a->db_path,
			.timeout_ms = cfg->clamd_timeout_ms,
			.wait_ms = cfg->clamd_wait_ms,
		};

		scan_policy_parse(cfg->scan_unscannable, &so.unscannable);
		scan_policy_parse(cfg->scan_unreachable, &so.unreachable);
		rc = scan_start(&so);
		if (!rc && so.address)
			log_event(LOG_INFO, "scan", "scanning uploads with clamd at %s (%s)",
				  so.address, scan_state());
	}
	/* Page images (preview.h); stopped in app_stopped. */
	if (!rc)
		rc = preview_start(cfg, a->cas);
	return rc;
}

static void worker_free(struct worker *w)
{
	if (!w)
		return;
	jobs_loop_free(w->jobs);
	db_close(w->db);
	xap_reader_free(w->search);
	free(w);
}

static enum err app_worker_start(struct server_worker *sw, void *arg, void **out)
{
	struct app *a = arg;
	struct worker *w = calloc(1, sizeof *w);
	char link[4096];
	enum err rc;

	if (!w)
		return err_set(ERR_NOMEM, "out of memory");
	w->app = a;
	w->index = server_worker_index(sw);
	w->base = server_worker_base(sw);
	rc = db_open(a->db_path, &w->db);
	if (rc)
		goto out;
	w->jobs = jobs_loop_new(a->jobs, w->base);
	if (!w->jobs) {
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	indexer_link_path(a->cfg->data_dir, link, sizeof link);
	rc = xap_reader_new(link, &w->search);
out:
	if (rc) {
		worker_free(w);
		return rc;
	}
	*out = w;
	return ERR_OK;
}

static void app_request(struct http_req *req, void *wapp)
{
	struct worker *w = wapp;

	router_dispatch(w->app->routes, w->app->nroutes, req, w);
}

static bool access_log_on;

/* The path as the access log shows it: a calendar feed's URL is its
 * credential (calendar clients cannot sign in), so its secret stays out. */
static void log_done(struct http_req *req, bool completed)
{
	const struct call *call = http_req_data(req);

	(void)completed;
	/* A route whose path carries a {secret} (the unsubscribe link, a
	 * calendar feed) is logged by its pattern: the secret is the
	 * authority. */
	log_access(http_req_peer(req), http_req_method(req),
		   call && call->route && strstr(call->route->pattern, "{secret}")
			   ? call->route->pattern
			   : http_req_path(req),
		   http_resp_started(req) ? http_resp_status(req) : 0, http_resp_bytes(req),
		   http_req_elapsed_us(req), call && call->caller ? call->caller->email : NULL);
}

/* Methods that never change documents; WebDAV clients send PROPFIND
 * all the time. */
static bool read_only_method(const char *method)
{
	return !strcmp(method, "GET") || !strcmp(method, "HEAD") || !strcmp(method, "OPTIONS") ||
	       !strcmp(method, "PROPFIND");
}

/* Every finished request: counted for /metrics, a nudge to the indexer
 * when a request that may have changed documents succeeded, then (when
 * configured) logged. The route comes from the router's call; requests
 * that never matched a route have none. The change and its index_queue
 * row are committed by now; without the nudge the indexer would see
 * them only at its next poll, and a search right after a rename or a
 * trash would still show the old state. */
static void app_request_done(struct http_req *req, bool completed, void *wapp)
{
	struct worker *w = wapp;
	const struct call *call = http_req_data(req);
	const char *method = http_req_method(req);
	int status = http_resp_started(req) ? http_resp_status(req) : 0;

	metrics_request(w->index, call ? call->route : NULL, status, http_req_bytes_in(req),
			http_resp_bytes_out(req), http_req_elapsed_us(req));
	if (call && call->worker && status >= 200 && status < 300 && !read_only_method(method))
		indexer_kick(w->app->indexer);
	if (access_log_on)
		log_done(req, completed);
}

/* Jobs still running hold requests of this loop: let them finish
 * (password hashes take milliseconds) before connections go. */
static void app_worker_drain(void *wapp) { jobs_loop_drain(((struct worker *)wapp)->jobs); }

/* Every worker drained its jobs (and the uploads it had handed to the
 * disk pool and the commit queue) before its thread ended. */
static void app_stopped(void *arg)
{
	struct app *a = arg;

	gcsched_stop(a->gc);
	a->gc = NULL;
	dlvremind_stop();
	jobs_stop(a->io);
	a->io = NULL;
	commitq_stop(a->commitq);
	a->commitq = NULL;
	jobs_stop(a->jobs);
	a->jobs = NULL;
	/* After the workers: a digest the test hook started has ended. */
	mail_stop();
	for (size_t i = 0; i < sizeof stop_modules / sizeof stop_modules[0]; i++)
		stop_modules[i]();
	/* After the workers: no request can count any more. */
	if (a->metrics_on)
		metrics_stop();
	a->metrics_on = false;
}

static void app_worker_stop(void *wapp) { worker_free(wapp); }

static const struct server_hooks app_hooks = {
	.start = app_start,
	.worker_start = app_worker_start,
	.request = app_request,
	.request_done = app_request_done,
	.worker_drain = app_worker_drain,
	.stopped = app_stopped,
	.worker_stop = app_worker_stop,
};

enum err app_run(const struct config *cfg, const struct route *routes, size_t nroutes)
{
	struct app a = {.cfg = cfg, .routes = routes, .nroutes = nroutes};
	char tls_dir[4096], about[4200];
	struct server_opts so = {
		.name = "consort",
		.listen = cfg->listen,
		.workers = cfg->workers,
		.max_connections = cfg->max_connections,
		.shutdown_grace_ms = cfg->shutdown_grace_ms,
		.cert = cfg->cert,
		.key = cfg->key,
		.tls_dir = tls_dir,
		.http = cfg->http,
		.about = about,
	};
	struct db *db = NULL;
	bool auth_on = false;
	enum err rc;

	log_set_json(cfg->log_format == LOG_JSON);
	access_log_on = cfg->access_log;
	snprintf(tls_dir, sizeof tls_dir, "%s/tls", cfg->data_dir);
	snprintf(about, sizeof about, "data in %s", cfg->data_dir);

	rc = router_check(routes, nroutes);
	if (rc)
		return rc;
	rc = app_prepare_data_dir(cfg->data_dir);
	if (rc)
		return rc;
	if (asprintf(&a.db_path, "%s/consort.db", cfg->data_dir) < 0)
		return err_set(ERR_NOMEM, "out of memory");
	/* From here on every failure goes through `out`, which frees both. */
	rc = publicurl_resolve(cfg, &a.public_url);
	if (!rc)
		rc = db_open(a.db_path, &db);
	if (!rc)
		rc = db_migrate(db);
	if (!rc)
		rc = apply_store_defaults(db, cfg);
	db_close(db);
	if (rc)
		goto out;
	rc = record_blob_store(cfg);
	if (rc)
		goto out;
	/* Before any worker writes: temp files left by a previous process
	 * (killed mid-upload) are removed here. */
	rc = cas_open(cfg->data_dir, CAS_OPEN_CREATE | CAS_OPEN_CLEAN, &a.cas);
	if (!rc)
		rc = cas_remote_tune(a.cas, cfg->s3_parallel_parts, cfg->s3_cache_size);
	if (rc)
		goto out;
	rc = start_indexer(&a);
	if (rc)
		goto out;
	rc = auth_start(cfg);
	if (rc)
		goto out;
	auth_on = true;
	rc = oidc_start(cfg);
	if (rc)
		goto out;
	rc = server_run(&so, &app_hooks, &a);
out:
	if (auth_on)
		auth_stop();
	oidc_stop();
	/* After the workers: no request can kick it any more. */
	indexer_close(a.indexer);
	cas_close(a.cas);
	free(a.db_path);
	free(a.public_url);
	return rc;
}
