/*
 * app — consort's application on top of the serving process
 * (http/server.h): what `consort serve` runs.
 *
 * Before the server starts it prepares the data directory, migrates the
 * store and writes the configured store defaults into it, opens the blob
 * store and starts the indexer and the sign-in machinery. Through the
 * server's hooks it then starts the metrics, the job pools and the
 * commit queue, gives each worker its own database connection and
 * search reader, routes every request (router.h), and counts and logs
 * each one when it ends. At a stop it lets the pools finish, then closes
 * the modules that keep state across requests (see stop_modules in
 * app.c: a module with such state is added there).
 *
 * Handlers reach all of this through their call's worker (struct call in
 * router.h): worker_db(call->worker) and the accessors below.
 */
#ifndef CONSORT_APP_H
#define CONSORT_APP_H

#include <stddef.h>

#include "err.h"

struct app;
struct cas;
struct commitq;
struct config;
struct db;
struct event_base;
struct indexer;
struct gcsched;
struct indexer_opts;
struct jobs;
struct jobs_loop;
struct route;
struct server;
struct worker;
struct xap_reader;

/* Serve `cfg` with the route table `routes` until a stop signal;
 * ERR_OK after a clean shutdown. `cfg` and the table must outlive the
 * call; router_check refuses a bad table before anything starts. */
enum err app_run(const struct config *cfg, const struct route *routes, size_t nroutes);

/* Create the data directory (mode 0700) and its subdirectories if
 * missing; used by `serve` and the account commands. */
enum err app_prepare_data_dir(const char *dir);

/* Indexer options for the data directory and extraction limits of
 * `cfg` (`serve` and `reindex` extract alike). */
void app_indexer_opts(const struct config *cfg, struct indexer_opts *opts);

/* --- a worker: one thread of the server, its own loop and connections --- */

/* The worker's own database connection and search index reader (never
 * shared with another thread). */
struct db *worker_db(struct worker *w);
struct xap_reader *worker_search(struct worker *w);
const struct config *worker_config(const struct worker *w);
/* The base of every absolute link the server makes, `https://HOST[:PORT]`
 * (public-url or its default, api/publicurl.h). */
const char *worker_public_url(const struct worker *w);
struct app *worker_app(struct worker *w);
/* 0 .. workers - 1: the worker's metric shard. */
unsigned worker_index(const struct worker *w);
/* The worker's event loop, and its handle on the job pool (jobs.h) for
 * blocking work that completes back on this loop. */
struct event_base *worker_base(struct worker *w);
struct jobs_loop *worker_jobs(struct worker *w);
/* The pool for disk work (jobs_post; completions through a ticket on
 * worker_jobs) and the group commit of new versions (commitq.h). */
struct jobs *worker_io(struct worker *w);
struct commitq *worker_commitq(struct worker *w);

/* --- the application, shared by all workers ------------------------------ */

/* The serving process, for its figures (server_open_connections...). */
struct server *app_server(const struct app *a);
/* The blob store (thread-safe, see cas.h). */
struct cas *app_cas(const struct app *a);
/* The indexer (to kick it after a change), or NULL. */
struct indexer *app_indexer(const struct app *a);
/* The gc scheduler (gcsched.h); NULL when gc-interval is 0. */
struct gcsched *app_gc(const struct app *a);
const char *app_data_dir(const struct app *a);

#endif
