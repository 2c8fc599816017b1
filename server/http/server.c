/* server — see server.h. */
#include "http/server.h"

#include <errno.h>
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
#include <time.h>
#include <unistd.h>

#include "http/http.h"
#include "http/log.h"
#include "http/tls.h"

#include <systemd/sd-daemon.h>

struct pending_conn {
	int fd;
	char peer[64];
};

/* A connection as its worker knows it: the list lets shutdown reach
 * every connection. */
struct conn_slot {
	struct server_worker *w;
	struct http_conn *conn;
	struct conn_slot *prev, *next;
};

struct server_worker {
	struct server *srv;
	unsigned index;
	pthread_t thread;
	struct event_base *base;
	struct event *wake;
	struct event *grace;
	void *app;        /* the hooks' per-worker state */
	bool app_started; /* worker_start succeeded: worker_stop is owed */

	pthread_mutex_t lock; /* guards pending and stop_requested */
	struct pending_conn *pending;
	size_t npending, cap_pending;
	bool stop_requested;

	bool stopping;
	_Atomic unsigned nconns;
	struct conn_slot *conns;
};

struct server {
	const struct server_opts *o;
	const struct server_hooks *hooks;
	void *app;
	struct tls *tls;
	struct event_base *base;
	struct evconnlistener *listener;
	struct event *sig_term, *sig_int, *sig_hup;
	unsigned nworkers;
	struct server_worker *workers;
	_Atomic unsigned open_conns;
};

void *server_req_worker(const struct http_req *req)
{
	return ((struct conn_slot *)http_req_app(req))->w->app;
}

unsigned server_worker_index(const struct server_worker *w) { return w->index; }
struct event_base *server_worker_base(struct server_worker *w) { return w->base; }
unsigned server_nworkers(const struct server *s) { return s->nworkers; }
unsigned server_open_connections(const struct server *s)
{
	return atomic_load(&((struct server *)s)->open_conns);
}
uint64_t server_tls_handshakes(const struct server *s) { return tls_handshakes(s->tls); }

/* --- worker side ------------------------------------------------------------- */

static void on_request(struct http_req *req, void *app)
{
	struct conn_slot *slot = app;

	slot->w->srv->hooks->request(req, slot->w->app);
}

static void on_done(struct http_req *req, bool completed)
{
	struct conn_slot *slot = http_req_app(req);
	const struct server_hooks *hooks = slot->w->srv->hooks;

	if (hooks->request_done)
		hooks->request_done(req, completed, slot->w->app);
}

static void on_closed(void *app)
{
	struct conn_slot *slot = app;
	struct server_worker *w = slot->w;

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

static void start_conn(struct server_worker *w, const struct pending_conn *p)
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
	slot->conn = http_conn_new(bev, p->peer, &w->srv->o->http, on_request, on_closed, slot);
	if (!slot->conn)
		on_closed(slot);
	return;
dropped:
	atomic_fetch_sub(&w->nconns, 1);
	atomic_fetch_sub(&w->srv->open_conns, 1);
}

static void grace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server_worker *w = arg;

	(void)fd;
	(void)what;
	log_event(LOG_WARN, "shutdown", "worker %u: grace period over, closing %u connection(s)",
		  w->index, atomic_load(&w->nconns));
	event_base_loopexit(w->base, NULL);
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server_worker *w = arg;
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
			.tv_sec = w->srv->o->shutdown_grace_ms / 1000,
			.tv_usec = (w->srv->o->shutdown_grace_ms % 1000) * 1000,
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
	struct server_worker *w = arg;

	/* The loop must keep running while it has no connections: it is woken
	 * by event_active on `wake` from the accept thread. */
	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	/* Work the application still runs holds requests of this loop (jobs
	 * on other threads): it finishes before connections go. */
	if (w->srv->hooks->worker_drain)
		w->srv->hooks->worker_drain(w->app);
	/* Whatever is left after the grace period is cut now. */
	while (w->conns)
		http_conn_abort(w->conns->conn);
	return NULL;
}

static enum err worker_init(struct server *s, struct server_worker *w, unsigned index)
{
	enum err rc = ERR_OK;

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
	if (s->hooks->worker_start) {
		rc = s->hooks->worker_start(w, s->app, &w->app);
		w->app_started = !rc;
	}
	return rc;
}

/* The application's state first (it may still refer to the loop), then
 * the worker's own. */
static void worker_destroy(struct server_worker *w)
{
	if (w->app_started && w->srv->hooks->worker_stop)
		w->srv->hooks->worker_stop(w->app);
	w->app_started = false;
	if (w->wake)
		event_free(w->wake);
	if (w->grace)
		event_free(w->grace);
	for (size_t i = 0; i < w->npending; i++)
		close(w->pending[i].fd);
	free(w->pending);
	if (w->base)
		event_base_free(w->base);
	pthread_mutex_destroy(&w->lock);
}

/* --- main thread --------------------------------------------------------------- */

static void peer_text(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET)
		evutil_inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host,
				 sizeof host);
	else if (sa->sa_family == AF_INET6)
		evutil_inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host,
				 sizeof host);
	snprintf(buf, len, "%s", host);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	struct server *s = arg;
	struct server_worker *w = &s->workers[0];
	struct pending_conn p = {.fd = fd};
	int one = 1;

	(void)l;
	(void)salen;
	if (atomic_load(&s->open_conns) >= s->o->max_connections) {
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
		struct server_worker *w = &s->workers[i];

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
			log_event(LOG_ERROR, "reload",
				  "certificate reload failed, keeping the old one: %s",
				  err_detail());
		else
			log_event(LOG_INFO, "reload", "certificate reloaded from %s",
				  tls_cert_path(s->tls));
		sd_notifyf(0, "READY=1\nSTATUS=%s",
			   rc ? "serving; the last certificate reload failed" : "serving");
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

static enum err open_listener(struct server *s)
{
	struct sockaddr_storage ss;
	int sslen = sizeof ss;

	if (evutil_parse_sockaddr_port(s->o->listen, (struct sockaddr *)&ss, &sslen) != 0)
		return err_set(ERR_INVALID, "listen address '%s' is not HOST:PORT", s->o->listen);
	s->listener = evconnlistener_new_bind(s->base, accept_cb, s,
					      LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
						      LEV_OPT_CLOSE_ON_EXEC,
					      1024, (struct sockaddr *)&ss, sslen);
	if (!s->listener)
		return err_from_errno(errno, s->o->listen);
	evconnlistener_set_error_cb(s->listener, accept_error_cb);
	return ERR_OK;
}

enum err server_run(const struct server_opts *o, const struct server_hooks *hooks, void *app)
{
	struct server s = {.o = o, .hooks = hooks, .app = app};
	sigset_t block, old;
	unsigned started = 0;
	enum err rc;

	signal(SIGPIPE, SIG_IGN);
	evthread_use_pthreads();
	http_set_done_hook(on_done);

	rc = tls_new(o->cert, o->key, o->tls_dir, &s.tls);
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

	s.nworkers = o->workers ? o->workers : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
	if (s.nworkers == 0)
		s.nworkers = 1;
	s.workers = calloc(s.nworkers, sizeof *s.workers);
	if (!s.workers) {
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	/* Workers, and the threads the application starts, inherit a mask
	 * without the stop/reload signals, so only the main thread's loop
	 * sees them. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	if (hooks->start)
		rc = hooks->start(&s, app);
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

	log_event(LOG_INFO, "start", "%s listening on https://%s/ with %u worker(s)%s%s", o->name,
		  o->listen, s.nworkers, o->about ? ", " : "", o->about ? o->about : "");
	/* Listening and every worker up: a unit of Type=notify is started.
	 * Without NOTIFY_SOCKET (not under systemd) this does nothing. */
	sd_notifyf(0, "READY=1\nSTATUS=serving on https://%s/", o->listen);
	event_base_dispatch(s.base);
	goto join;
stop:
	/* Only the workers that started have a loop to wake (a failed start,
	 * of the application or of worker k, leaves the rest zeroed). */
	s.nworkers = started;
	stop_workers(&s);
join:
	for (unsigned i = 0; i < started; i++)
		pthread_join(s.workers[i].thread, NULL);
	/* Every worker drained what held its requests before its thread
	 * ended; the application stops the rest while worker states exist. */
	if (hooks->stopped)
		hooks->stopped(app);
	for (unsigned i = 0; i < started; i++)
		worker_destroy(&s.workers[i]);
	if (!rc)
		log_event(LOG_INFO, "stop", "%s stopped", o->name);
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
	tls_free(s.tls);
	http_set_done_hook(NULL);
	return rc;
}
