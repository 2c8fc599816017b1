/*
 * server — the serving process, without an application: listener,
 * worker threads, signals, graceful shutdown, connection bookkeeping.
 *
 * The main thread accepts connections and hands each to the worker with
 * the fewest open connections. A worker is a thread with its own event
 * loop; a connection stays on its worker for life. SIGHUP reloads the
 * TLS certificate; SIGTERM/SIGINT stop accepting, let open requests
 * finish within the grace period, and return.
 *
 * What runs on top (consort's API, api/app.c) is a table of hooks: the
 * server calls them at fixed points of its life and knows nothing else
 * of the application. The order, for one run:
 *
 *   start          main thread, listener bound, before any worker
 *   worker_start   main thread, once per worker, before its thread runs
 *   request        worker thread, a request head was parsed
 *   request_done   worker thread, a request ended
 *   worker_drain   worker thread, its loop ended, before the connections
 *                  still open are cut
 *   stopped        main thread, every worker thread has ended
 *   worker_stop    main thread, once per worker whose worker_start ran
 *
 * start may fail (server_run then returns its error after undoing what
 * it made); stopped is called whenever start was called, failed or not.
 */
#ifndef CONSORT_SERVER_H
#define CONSORT_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "http/http.h"

struct event_base;
struct http_req;
struct server;
struct server_worker;

/* What the process needs to know; strings must outlive server_run. */
struct server_opts {
	const char *name;           /* for the log: "consort" */
	const char *about;          /* appended to the start line, or NULL */
	const char *listen;         /* HOST:PORT, IPv6 as [::1]:8443 */
	unsigned workers;           /* 0: number of cores */
	unsigned max_connections;   /* beyond it a connection is closed at once */
	unsigned shutdown_grace_ms; /* open requests' time to finish at a stop */
	const char *cert;           /* NULL: self-signed in tls_dir */
	const char *key;
	const char *tls_dir;     /* where a self-signed certificate lives */
	struct http_limits http; /* every connection's limits */
};

/* The application, as the server sees it; see the order above. Every
 * hook may be NULL except request. `app` is server_run's argument,
 * `wapp` a worker's state as worker_start made it. */
struct server_hooks {
	enum err (*start)(struct server *s, void *app);
	enum err (*worker_start)(struct server_worker *w, void *app, void **wapp);
	void (*request)(struct http_req *req, void *wapp);
	void (*request_done)(struct http_req *req, bool completed, void *wapp);
	void (*worker_drain)(void *wapp);
	void (*stopped)(void *app);
	void (*worker_stop)(void *wapp);
};

/* Run until a stop signal; ERR_OK after a clean shutdown. `o`, `hooks`
 * and `app` must outlive the call. One server per process (signals and
 * the http done hook are process-wide). */
enum err server_run(const struct server_opts *o, const struct server_hooks *hooks, void *app);

/* The state of the worker a request is served on (its worker_start's
 * *wapp). */
void *server_req_worker(const struct http_req *req);

/* A worker's index (0 .. server_nworkers - 1) and event loop. */
unsigned server_worker_index(const struct server_worker *w);
struct event_base *server_worker_base(struct server_worker *w);

/* Figures for /metrics and /healthz; the worker count is known from the
 * start hook on. */
unsigned server_nworkers(const struct server *s);
unsigned server_open_connections(const struct server *s);
uint64_t server_tls_handshakes(const struct server *s);

#endif
