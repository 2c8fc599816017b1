/*
 * server — the `consort serve` process: listener, worker threads,
 * signals, graceful shutdown.
 *
 * The main thread accepts connections and hands each to the worker with
 * the fewest open connections. A worker is a thread with its own event
 * loop and its own database connection; a connection stays on its
 * worker for life. SIGHUP reloads the TLS certificate; SIGTERM/SIGINT
 * stop accepting, let open requests finish within the grace period, and
 * return.
 */
#ifndef CONSORT_SERVER_H
#define CONSORT_SERVER_H

#include <stdint.h>

#include "err.h"

struct cas;
struct config;
struct event_base;
struct db;
struct event_base;
struct http_req;
struct jobs;
struct jobs_loop;
struct commitq;
struct server;
struct worker;

/* Run the server until a stop signal; returns ERR_OK after a clean
 * shutdown. `cfg` must outlive the call. */
enum err server_run(const struct config *cfg);

/* The worker a request is served on (from http_req_app). */
struct worker *server_worker_of(const struct http_req *req);

struct xap_reader;
struct indexer;

/* The worker's own reader of the search index (never shared). */
struct xap_reader *worker_search(struct worker *w);
/* The server's indexer (to kick it after a change), or NULL. */
struct indexer *server_indexer(struct server *s);

struct indexer_opts;
/* Indexer options for the data directory and extraction limits of
 * `cfg` (`serve` and `reindex` extract alike). */
void server_indexer_opts(const struct config *cfg, struct indexer_opts *opts);

struct db *worker_db(struct worker *w);
struct event_base *worker_event_base(struct worker *w);
const struct config *worker_config(const struct worker *w);
struct server *worker_server(struct worker *w);
unsigned worker_index(const struct worker *w);
/* The worker's event loop, and its handle on the job pool (jobs.h) for
 * blocking work that completes back on this loop. */
struct event_base *worker_base(struct worker *w);
struct jobs_loop *worker_jobs(struct worker *w);
/* The pool for disk work (jobs_post; completions through a ticket on
 * worker_jobs) and the group commit of new versions (commitq.h). */
struct jobs *worker_io(struct worker *w);
struct commitq *worker_commitq(struct worker *w);

/* Create the data directory (mode 0700) and its subdirectories if
 * missing; used by `serve` and the account commands. */
enum err server_prepare_data_dir(const char *dir);

/* Figures for /metrics and /healthz. */
unsigned server_open_connections(const struct server *s);
uint64_t server_tls_handshakes(const struct server *s);
const char *server_data_dir(const struct server *s);
/* The blob store, shared by all workers (thread-safe, see cas.h). */
struct cas *server_cas(const struct server *s);

#endif
