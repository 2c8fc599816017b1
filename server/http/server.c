/* server — see server.h. */
#include "http/server.h"

#include <errno.h>
#include <fcntl.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cas.h"
#include "api/auth.h"
#include "api/commitq.h"
#include "api/config.h"
#include "db.h"
#include "api/handlers.h"
#include "http/http.h"
#include "http/jobs.h"
#include "indexer.h"
#include "http/log.h"
#include "api/metrics.h"
#include "api/router.h"
#include "settings.h"
#include "http/tls.h"
#include "tree.h"
#include "xap.h"

#include <systemd/sd-daemon.h>

struct pending_conn {
	int fd;
	char peer[64];
};

/* A connection as its worker knows it: the list lets shutdown reach
 * every connection. */
struct conn_slot {
	struct worker *w;
	struct http_conn *conn;
	struct conn_slot *prev, *next;
};

struct worker {
	struct server *srv;
	unsigned index;
	pthread_t thread;
	struct event_base *base;
	struct event *wake;
	struct event *grace;
	struct db *db;
	struct jobs_loop *jobs;
	struct xap_reader *search; /* this thread's index reader */

	pthread_mutex_t lock; /* guards pending and stop_requested */
	struct pending_conn *pending;
	size_t npending, cap_pending;
	bool stop_requested;

	bool stopping;
	_Atomic unsigned nconns;
	struct conn_slot *conns;
};

struct server {
	const struct config *cfg;
	struct tls *tls;
	struct event_base *base;
	struct evconnlistener *listener;
	struct event *sig_term, *sig_int, *sig_hup;
	unsigned nworkers;
	struct worker *workers;
	_Atomic unsigned open_conns;
	char *db_path;
	struct cas *cas;
	struct jobs *jobs;
	struct jobs *io;         /* disk work: storing uploads */
	struct commitq *commitq; /* group commit of new versions */
	struct indexer *indexer;
};

struct worker *server_worker_of(const struct http_req *req)
{
	return ((struct conn_slot *)http_req_app(req))->w;
}

struct db *worker_db(struct worker *w) { return w->db; }
struct event_base *worker_event_base(struct worker *w) { return w->base; }
struct xap_reader *worker_search(struct worker *w) { return w->search; }
struct indexer *server_indexer(struct server *s) { return s->indexer; }
const struct config *worker_config(const struct worker *w) { return w->srv->cfg; }
struct server *worker_server(struct worker *w) { return w->srv; }
unsigned worker_index(const struct worker *w) { return w->index; }
struct event_base *worker_base(struct worker *w) { return w->base; }
struct jobs_loop *worker_jobs(struct worker *w) { return w->jobs; }
struct jobs *worker_io(struct worker *w) { return w->srv->io; }
struct commitq *worker_commitq(struct worker *w) { return w->srv->commitq; }
unsigned server_open_connections(const struct server *s) { return atomic_load(&((struct server *)s)->open_conns); }
uint64_t server_tls_handshakes(const struct server *s) { return tls_handshakes(s->tls); }
const char *server_data_dir(const struct server *s) { return s->cfg->data_dir; }
struct cas *server_cas(const struct server *s) { return s->cas; }

/* --- worker side ------------------------------------------------------------- */

static void on_request(struct http_req *req, void *app)
{
	struct conn_slot *slot = app;

	router_dispatch(req, slot->w);
}

static void on_closed(void *app)
{
	struct conn_slot *slot = app;
	struct worker *w = slot->w;

	if (slot->prev)
		slot->prev->next = slot->next;
	else
		w->conns = slot->next;
	if (slot->next)
		slot->next->prev = slot->prev;
	free(slot);
	atomic_fetch_sub(&w->nconns, 1);
	atomic_fetch_sub(&w->srv->open_conns, 1);
	if (w->stopping && atomic_load(&w->nconns) == 0)
		event_base_loopexit(w->base, NULL);
}

static void start_conn(struct worker *w, const struct pending_conn *p)
{
	struct conn_slot *slot = calloc(1, sizeof *slot);
	struct bufferevent *bev;

	if (!slot) {
		close(p->fd);
		goto dropped;
	}
	bev = tls_accept_bev(w->srv->tls, w->base, p->fd);
	if (!bev) {
		free(slot);
		goto dropped;
	}
	slot->w = w;
	slot->next = w->conns;
	if (w->conns)
		w->conns->prev = slot;
	w->conns = slot;
	slot->conn = http_conn_new(bev, p->peer, &w->srv->cfg->http, on_request, on_closed, slot);
	if (!slot->conn)
		on_closed(slot);
	return;
dropped:
	atomic_fetch_sub(&w->nconns, 1);
	atomic_fetch_sub(&w->srv->open_conns, 1);
}

static void grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	(void)fd;
	(void)what;
	log_event(LOG_WARN, "shutdown", "worker %u: grace period over, closing %u connection(s)",
		  w->index, atomic_load(&w->nconns));
	event_base_loopexit(w->base, NULL);
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct pending_conn *batch;
	size_t n;
	bool stop;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&w->lock);
	batch = w->pending;
	n = w->npending;
	w->pending = NULL;
	w->npending = w->cap_pending = 0;
	stop = w->stop_requested;
	pthread_mutex_unlock(&w->lock);

	for (size_t i = 0; i < n; i++)
		start_conn(w, &batch[i]);
	free(batch);

	if (stop && !w->stopping) {
		struct timeval tv = {
			.tv_sec = w->srv->cfg->shutdown_grace_ms / 1000,
			.tv_usec = (w->srv->cfg->shutdown_grace_ms % 1000) * 1000,
		};

		w->stopping = true;
		for (struct conn_slot *s = w->conns, *next; s; s = next) {
			next = s->next;
			http_conn_shutdown(s->conn);
		}
		if (atomic_load(&w->nconns) == 0)
			event_base_loopexit(w->base, NULL);
		else
			evtimer_add(w->grace, &tv);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	/* The loop must keep running while it has no connections: it is woken
	 * by event_active on `wake` from the accept thread. */
	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	/* Jobs still running hold requests of this loop: let them finish
	 * (password hashes take milliseconds) before connections go. */
	jobs_loop_drain(w->jobs);
	/* Whatever is left after the grace period is cut now. */
	while (w->conns)
		http_conn_abort(w->conns->conn);
	return NULL;
}

static enum err worker_init(struct server *s, struct worker *w, unsigned index)
{
	char link[4096];
	enum err rc;

	w->srv = s;
	w->index = index;
	pthread_mutex_init(&w->lock, NULL);
	w->base = event_base_new();
	if (!w->base)
		return err_set(ERR_NOMEM, "cannot create event loop");
	w->wake = event_new(w->base, -1, 0, wake_cb, w);
	w->grace = evtimer_new(w->base, grace_cb, w);
	if (!w->wake || !w->grace)
		return err_set(ERR_NOMEM, "cannot create events");
	rc = db_open(s->db_path, &w->db);
	if (rc)
		return rc;
	w->jobs = jobs_loop_new(s->jobs, w->base);
	if (!w->jobs)
		return err_set(ERR_NOMEM, "out of memory");
	indexer_link_path(s->cfg->data_dir, link, sizeof link);
	return xap_reader_new(link, &w->search);
}

static void worker_destroy(struct worker *w)
{
	if (w->wake)
		event_free(w->wake);
	if (w->grace)
		event_free(w->grace);
	for (size_t i = 0; i < w->npending; i++)
		close(w->pending[i].fd);
	free(w->pending);
	jobs_loop_free(w->jobs);
	db_close(w->db);
	xap_reader_free(w->search);
	if (w->base)
		event_base_free(w->base);
	pthread_mutex_destroy(&w->lock);
}

/* --- main thread --------------------------------------------------------------- */

static void peer_text(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET)
		evutil_inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof host);
	else if (sa->sa_family == AF_INET6)
		evutil_inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host, sizeof host);
	snprintf(buf, len, "%s", host);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd,
		      struct sockaddr *sa, int salen, void *arg)
{
	struct server *s = arg;
	struct worker *w = &s->workers[0];
	struct pending_conn p = {.fd = fd};
	int one = 1;

	(void)l;
	(void)salen;
	if (atomic_load(&s->open_conns) >= s->cfg->max_connections) {
		/* Over the cap: refuse at once rather than queue unboundedly. */
		close(fd);
		return;
	}
	for (unsigned i = 1; i < s->nworkers; i++)
		if (atomic_load(&s->workers[i].nconns) < atomic_load(&w->nconns))
			w = &s->workers[i];
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	evutil_make_socket_nonblocking(fd);
	peer_text(sa, p.peer, sizeof p.peer);
	atomic_fetch_add(&s->open_conns, 1);
	atomic_fetch_add(&w->nconns, 1);
	pthread_mutex_lock(&w->lock);
	if (w->npending == w->cap_pending) {
		size_t cap = w->cap_pending ? w->cap_pending * 2 : 16;
		struct pending_conn *grown = realloc(w->pending, cap * sizeof *grown);

		if (!grown) {
			pthread_mutex_unlock(&w->lock);
			close(fd);
			atomic_fetch_sub(&s->open_conns, 1);
			atomic_fetch_sub(&w->nconns, 1);
			return;
		}
		w->pending = grown;
		w->cap_pending = cap;
	}
	w->pending[w->npending++] = p;
	pthread_mutex_unlock(&w->lock);
	event_active(w->wake, EV_READ, 0);
}

static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	int e = EVUTIL_SOCKET_ERROR();

	(void)l;
	(void)arg;
	/* EMFILE and friends: log and keep going; the listener retries. */
	log_event(LOG_WARN, "accept", "accept failed: %s", evutil_socket_error_to_string(e));
}

static void stop_workers(struct server *s)
{
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct worker *w = &s->workers[i];

		pthread_mutex_lock(&w->lock);
		w->stop_requested = true;
		pthread_mutex_unlock(&w->lock);
		event_active(w->wake, EV_READ, 0);
	}
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server *s = arg;
	enum err rc;

	(void)what;
	if (sig == SIGHUP) {
		/* systemd waits for READY=1 after RELOADING=1 before it calls
		 * the reload done (systemctl reload returns then). */
		struct timespec now;

		/* MONOTONIC_USEC: what Type=notify-reload (systemd 253) wants
		 * with RELOADING=1; systemd 252 ignores it. */
		clock_gettime(CLOCK_MONOTONIC, &now);
		sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu\nSTATUS=reloading the certificate",
			   (unsigned long long)now.tv_sec * 1000000ULL +
				   (unsigned long long)now.tv_nsec / 1000ULL);
		rc = tls_reload(s->tls);
		if (rc)
			log_event(LOG_ERROR, "reload", "certificate reload failed, keeping the old one: %s",
				  err_detail());
		else
			log_event(LOG_INFO, "reload", "certificate reloaded from %s", tls_cert_path(s->tls));
		sd_notifyf(0, "READY=1\nSTATUS=%s", rc ? "serving; the last certificate reload failed"
						    : "serving");
		return;
	}
	sd_notify(0, "STOPPING=1\nSTATUS=finishing open requests");
	log_event(LOG_INFO, "shutdown", "signal %d: no longer accepting; finishing open requests",
		  (int)sig);
	if (s->listener)
		evconnlistener_disable(s->listener);
	stop_workers(s);
	event_base_loopexit(s->base, NULL);
}

enum err server_prepare_data_dir(const char *dir)
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

static enum err open_listener(struct server *s)
{
	struct sockaddr_storage ss;
	int sslen = sizeof ss;

	if (evutil_parse_sockaddr_port(s->cfg->listen, (struct sockaddr *)&ss, &sslen) != 0)
		return err_set(ERR_INVALID, "listen address '%s' is not HOST:PORT", s->cfg->listen);
	s->listener = evconnlistener_new_bind(s->base, accept_cb, s,
					      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
						      LEV_OPT_CLOSE_ON_EXEC,
					      1024, (struct sockaddr *)&ss, sslen);
	if (!s->listener)
		return err_from_errno(errno, s->cfg->listen);
	evconnlistener_set_error_cb(s->listener, accept_error_cb);
	return ERR_OK;
}

static void indexer_log(enum indexer_log_level level, const char *msg)
{
	log_event(level == INDEXER_ERROR ? LOG_ERROR : level == INDEXER_WARN ? LOG_WARN : LOG_INFO,
		  "index", "%s", msg);
}

/* Text extraction runs in `consort extract-worker` started from this
 * very binary (/proc/self/exe stays valid when the file is replaced by
 * an upgrade). */
void server_indexer_opts(const struct config *cfg, struct indexer_opts *opts)
{
	static char *const helper[] = {"/proc/self/exe", "extract-worker", NULL};

	indexer_opts_default(opts);
	opts->data_dir = cfg->data_dir;
	opts->helper_argv = helper;
	opts->limits = cfg->extract;
	opts->poll_ms = cfg->index_poll_ms;
}

/* The indexer thread. */
static enum err start_indexer(struct server *s)
{
	struct indexer_opts opts;
	enum err rc;

	server_indexer_opts(s->cfg, &opts);
	opts.log = indexer_log;
	rc = indexer_open(&opts, &s->indexer);
	if (!rc)
		rc = indexer_start(s->indexer);
	return rc;
}

static void log_done(struct http_req *req, bool completed)
{
	const struct call *call = http_req_data(req);

	(void)completed;
	log_access(http_req_peer(req), http_req_method(req), http_req_path(req),
		   http_resp_started(req) ? http_resp_status(req) : 0,
		   http_resp_bytes(req), http_req_elapsed_us(req),
		   call && call->caller ? call->caller->email : NULL);
}

/* The configured quota and retention defaults go into the store, where
 * storage/tree.c reads them: `consort gc` then applies the same rules as
 * the server without reading its configuration. */
static enum err apply_store_defaults(struct db *db, const struct config *cfg)
{
	enum err rc = settings_put_u64(db, TREE_DEFAULT_QUOTA_KEY, cfg->default_quota);

	if (!rc)
		rc = settings_put_u64(db, TREE_DEFAULT_KEEP_VERSIONS_KEY, cfg->default_keep_versions);
	if (!rc)
		rc = settings_put_u64(db, TREE_DEFAULT_KEEP_DAYS_KEY, cfg->default_keep_days);
	return rc;
}

static bool access_log_on;

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
static void request_done(struct http_req *req, bool completed)
{
	const struct call *call = http_req_data(req);
	const char *method = http_req_method(req);
	int status = http_resp_started(req) ? http_resp_status(req) : 0;

	metrics_request(worker_index(server_worker_of(req)), call ? call->route : NULL, status,
			http_req_bytes_in(req), http_resp_bytes_out(req), http_req_elapsed_us(req));
	if (call && call->worker && status >= 200 && status < 300 && !read_only_method(method))
		indexer_kick(server_indexer(worker_server(call->worker)));
	if (access_log_on)
		log_done(req, completed);
}

enum err server_run(const struct config *cfg)
{
	struct server s = {.cfg = cfg};
	char tls_dir[4096];
	struct db *db = NULL;
	sigset_t block, old;
	unsigned started = 0;
	enum err rc;

	signal(SIGPIPE, SIG_IGN);
	evthread_use_pthreads();
	log_set_json(cfg->log_format == LOG_JSON);
	access_log_on = cfg->access_log;
	http_set_done_hook(request_done);

	rc = router_check(routes, nroutes);
	if (rc)
		return rc;
	rc = server_prepare_data_dir(cfg->data_dir);
	if (rc)
		return rc;
	if (asprintf(&s.db_path, "%s/consort.db", cfg->data_dir) < 0)
		return err_set(ERR_NOMEM, "out of memory");
	rc = db_open(s.db_path, &db);
	if (!rc)
		rc = db_migrate(db);
	if (!rc)
		rc = apply_store_defaults(db, cfg);
	db_close(db);
	if (rc)
		goto out;
	/* Before any worker writes: temp files left by a previous process
	 * (killed mid-upload) are removed here. */
	rc = cas_open(cfg->data_dir, CAS_OPEN_CREATE | CAS_OPEN_CLEAN, &s.cas);
	if (rc)
		goto out;
	snprintf(tls_dir, sizeof tls_dir, "%s/tls", cfg->data_dir);
	rc = tls_new(cfg->cert, cfg->key, tls_dir, &s.tls);
	if (rc)
		goto out;
	rc = start_indexer(&s);
	if (rc)
		goto out;

	s.base = event_base_new();
	if (!s.base) {
		rc = err_set(ERR_NOMEM, "cannot create event loop");
		goto out;
	}
	rc = open_listener(&s);
	if (rc)
		goto out;

	s.nworkers = cfg->workers ? cfg->workers : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	if (s.nworkers == 0)
		s.nworkers = 1;
	rc = auth_start(cfg);
	if (rc)
		goto out;
	s.workers = calloc(s.nworkers, sizeof *s.workers);
	if (!s.workers) {
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	/* Workers inherit a mask without the stop/reload signals, so only
	 * the main thread's loop sees them. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	{
		struct metrics_opts mo = {
			.routes = routes,
			.nroutes = nroutes,
			.nshards = s.nworkers,
			.data_dir = cfg->data_dir,
			.cas = s.cas,
			.blob_scan_ms = cfg->metrics_blob_walk_ms,
			.allow = cfg->metrics_allow,
			.token_file = cfg->metrics_token_file,
		};

		rc = metrics_start(&mo);
	}
	/* The job queue is bounded so a flood of logins queues at most this
	 * much Argon2 work; beyond it requests get 503 at once. */
	if (!rc)
		rc = jobs_start(cfg->job_threads ? cfg->job_threads
						 : (unsigned)sysconf(_SC_NPROCESSORS_ONLN),
				1024, &s.jobs);
	/* Disk work queues without a practical bound: each entry is an
	 * upload whose bytes have all arrived. */
	if (!rc)
		rc = jobs_start(cfg->io_threads, 1u << 20, &s.io);
	if (!rc)
		rc = commitq_start(s.db_path, 0, &s.commitq);
	for (; !rc && started < s.nworkers; started++) {
		rc = worker_init(&s, &s.workers[started], started);
		if (!rc && pthread_create(&s.workers[started].thread, NULL, worker_main,
					  &s.workers[started]) != 0)
			rc = err_set(ERR_INTERNAL, "cannot start worker thread");
		if (rc) {
			worker_destroy(&s.workers[started]);
			break;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc)
		goto stop;

	s.sig_term = evsignal_new(s.base, SIGTERM, signal_cb, &s);
	s.sig_int = evsignal_new(s.base, SIGINT, signal_cb, &s);
	s.sig_hup = evsignal_new(s.base, SIGHUP, signal_cb, &s);
	if (!s.sig_term || !s.sig_int || !s.sig_hup) {
		rc = err_set(ERR_NOMEM, "cannot install signal handlers");
		goto stop;
	}
	evsignal_add(s.sig_term, NULL);
	evsignal_add(s.sig_int, NULL);
	evsignal_add(s.sig_hup, NULL);

	log_event(LOG_INFO, "start", "consort listening on https://%s/ with %u worker(s), data in %s",
		  cfg->listen, s.nworkers, cfg->data_dir);
	/* Listening and every worker up: a unit of Type=notify is started.
	 * Without NOTIFY_SOCKET (not under systemd) this does nothing. */
	sd_notifyf(0, "READY=1\nSTATUS=serving on https://%s/", cfg->listen);
	event_base_dispatch(s.base);
	goto join;
stop:
	/* Only the workers that started have a loop to wake (a failed start,
	 * of metrics or of worker k, leaves the rest zeroed). */
	s.nworkers = started;
	stop_workers(&s);
join:
	for (unsigned i = 0; i < started; i++)
		pthread_join(s.workers[i].thread, NULL);
	/* Every worker drained its jobs (and the uploads it had handed to
	 * the disk pool and the commit queue) before its thread ended. */
	jobs_stop(s.io);
	s.io = NULL;
	commitq_stop(s.commitq);
	s.commitq = NULL;
	jobs_stop(s.jobs);
	s.jobs = NULL;
	tus_close_all();
	for (unsigned i = 0; i < started; i++)
		worker_destroy(&s.workers[i]);
	if (!rc)
		log_event(LOG_INFO, "stop", "consort stopped");
out:
	if (s.sig_term)
		event_free(s.sig_term);
	if (s.sig_int)
		event_free(s.sig_int);
	if (s.sig_hup)
		event_free(s.sig_hup);
	if (s.listener)
		evconnlistener_free(s.listener);
	if (s.base)
		event_base_free(s.base);
	free(s.workers);
	jobs_stop(s.io);
	commitq_stop(s.commitq);
	/* After the workers: no request can count any more. */
	metrics_stop();
	jobs_stop(s.jobs);
	auth_stop();
	/* After the workers: no request can kick it any more. */
	indexer_close(s.indexer);
	tls_free(s.tls);
	cas_close(s.cas);
	free(s.db_path);
	return rc;
}
