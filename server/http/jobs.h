/*
 * jobs — thread pools for blocking work that must not stall a worker's
 * event loop: one for CPU work (Argon2 password hashing takes tens of
 * milliseconds and tens of MiB), as many threads as cores; one for disk
 * work (writing and fsyncing uploads), with more threads than cores,
 * since they mostly wait and the disk serves several flushes at once.
 *
 * A job's `run` executes on a pool thread; its `done` then executes on
 * the event loop that submitted it, so `done` may touch that worker's
 * connections and database freely. `run` must not touch either: it gets
 * copies of what it needs and leaves its results in its argument.
 *
 * Each event loop that submits jobs owns a struct jobs_loop. Before a
 * loop is torn down, jobs_loop_drain() runs it until every job it
 * submitted has completed; jobs_stop() comes after all loops drained.
 */
#ifndef CONSORT_JOBS_H
#define CONSORT_JOBS_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct event_base;
struct http_req;
struct jobs;
struct jobs_loop;

typedef void (*jobs_run_fn)(void *arg);
typedef void (*jobs_done_fn)(void *arg);
/* `alive`: the request's connection is still there to answer on. */
typedef void (*jobs_req_done_fn)(struct http_req *req, bool alive, void *arg);

/* Start `threads` pool threads (at least 1) accepting at most
 * `max_queued` waiting jobs. libevent's pthread support must be on
 * (evthread_use_pthreads) before the submitting loops were created. */
enum err jobs_start(unsigned threads, size_t max_queued, struct jobs **out);
/* Join the pool threads after the jobs queued so far ran. Accepts NULL. */
void jobs_stop(struct jobs *j);

struct jobs_loop *jobs_loop_new(struct jobs *j, struct event_base *base);
/* Run the loop until every job submitted through `l` has completed. */
void jobs_loop_drain(struct jobs_loop *l);
/* Accepts NULL. The loop must have been drained. */
void jobs_loop_free(struct jobs_loop *l);
/* Jobs submitted through `l` and not yet completed. */
size_t jobs_loop_pending(const struct jobs_loop *l);

/* Queue `run(arg)`, then `done(arg)` on l's loop. ERR_LIMIT when the
 * queue is full (the caller answers 503), ERR_NOMEM. On failure nothing
 * runs and `arg` stays the caller's. */
enum err jobs_submit(struct jobs_loop *l, jobs_run_fn run, jobs_done_fn done, void *arg);

/* The same for a handler: holds `req` (http_req_hold) until `done` has
 * run, so the request and its arena stay valid even if the client goes
 * away meanwhile. */
enum err jobs_submit_req(struct jobs_loop *l, struct http_req *req, jobs_run_fn run,
			 jobs_req_done_fn done, void *arg);
/* The same with `run` on another pool's thread (the disk pool). */
enum err jobs_submit_req_on(struct jobs *pool, struct jobs_loop *l, struct http_req *req,
			    jobs_run_fn run, jobs_req_done_fn done, void *arg);

/* Work that passes through several threads before it completes (an
 * upload: a pool thread stores the blob, the commit queue commits the
 * version) carries a ticket: made on l's loop, where it holds `req`
 * (may be NULL: then `alive` is true) like jobs_submit_req and counts
 * for jobs_loop_drain; completed once,
 * from any thread, after which `done` runs on the loop. NULL when out
 * of memory. */
struct jobs_ticket;
struct jobs_ticket *jobs_ticket_new(struct jobs_loop *l, struct http_req *req,
				    jobs_req_done_fn done, void *arg);
void jobs_ticket_complete(struct jobs_ticket *t);

/* Queue `run(arg)` on a pool thread with nothing coming back (the work
 * completes a ticket itself). ERR_LIMIT when the queue is full,
 * ERR_NOMEM; on failure nothing runs. */
enum err jobs_post(struct jobs *j, jobs_run_fn run, void *arg);

/* A job's own copy of a string from the request (which may be freed
 * while the job runs): NULL stays NULL; when the copy fails *nomem is
 * set, so a job's strings are copied in a row and checked once. */
char *jobs_strdup(const char *s, bool *nomem);

#endif
