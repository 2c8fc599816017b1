/*
 * commitq — group commit. Changes handed in from any number of threads
 * are committed in batches: all the changes waiting at one moment in
 * ONE write transaction. With synchronous=FULL every commit costs a WAL
 * fsync (several milliseconds on a real disk), so N uploads finishing
 * together cost one instead of N.
 *
 * There is no commit thread: the thread that submits a change when no
 * commit is running becomes the leader and commits batches, on the
 * queue's own database connection, until the queue is empty; a change
 * submitted meanwhile is only queued, and the leader takes it in its
 * next batch. So a lone upload is committed by the thread that stored
 * it, without waking another thread, and under load one thread runs the
 * transactions back to back while the others go on storing. Submit
 * therefore only from threads that may block (the disk pool), never from
 * an event loop.
 *
 * Each change runs in a savepoint of the batch (db.h): one that fails is
 * undone alone and the others commit. When the batch as a whole cannot
 * commit (disk full, I/O error, SQLite abandoned it), every change that
 * had succeeded is run again in a transaction of its own, so each gets
 * its own verdict; a change's `run` must therefore produce its outputs
 * afresh on every call.
 *
 * `done` is called on the leader's thread once the change's fate is
 * durable (after the COMMIT returned), in submission order within a
 * batch; it must be quick (it typically completes a jobs ticket, or
 * releases what had to stay held until the commit).
 */
#ifndef CONSORT_COMMITQ_H
#define CONSORT_COMMITQ_H

#include <stddef.h>

#include "db.h"
#include "err.h"

struct commitq;

/* On the leader's thread, inside the batch's transaction. Returning
 * non-zero rolls back this change only. */
typedef enum err (*commitq_run_fn)(struct db *db, void *arg);
/* On the leader's thread, after the commit: rc is run's error, or the
 * commit's, and err_detail() its detail. */
typedef void (*commitq_done_fn)(enum err rc, void *arg);

/* Open the queue's connection to the database at `db_path`; batches
 * hold at most `max_batch` changes (0: 256). */
enum err commitq_start(const char *db_path, size_t max_batch, struct commitq **out);

/* Wait for a running leader to finish (everything queued is then
 * committed) and close. Nothing may be submitted any more. Accepts
 * NULL. */
void commitq_stop(struct commitq *q);

/* Queue a change, and commit it (with whatever else is queued) unless
 * another thread is committing: may block for as long as batches keep
 * coming. ERR_NOMEM, or ERR_INTERNAL once stopping; on failure nothing
 * runs. */
enum err commitq_submit(struct commitq *q, commitq_run_fn run, commitq_done_fn done, void *arg);

/* Figures for /metrics and tests: transactions committed, and changes
 * in them. */
void commitq_stats(struct commitq *q, unsigned long long *batches, unsigned long long *changes);

#endif
