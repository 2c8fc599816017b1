/*
 * commitq — group commit. One thread with its own database connection
 * runs the changes handed to it from any thread, and commits all the
 * changes waiting at one moment in ONE write transaction: with
 * synchronous=FULL every commit costs a WAL fsync (several milliseconds
 * on a real disk), so N uploads finishing together cost one instead of
 * N, and the workers' event loops never wait for it.
 *
 * Each change runs in a savepoint of the batch (db.h): one that fails is
 * undone alone and the others commit. When the batch as a whole cannot
 * commit (disk full, I/O error, SQLite abandoned it), every change that
 * had succeeded is run again in a transaction of its own, so each gets
 * its own verdict; a change's `run` must therefore produce its outputs
 * afresh on every call.
 *
 * `done` is called on the commit thread once the change's fate is
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

/* On the commit thread, inside the batch's transaction. Returning
 * non-zero rolls back this change only. */
typedef enum err (*commitq_run_fn)(struct db *db, void *arg);
/* On the commit thread, after the commit: rc is run's error, or the
 * commit's, and err_detail() its detail. */
typedef void (*commitq_done_fn)(enum err rc, void *arg);

/* Open a connection to the database at `db_path` and start the thread;
 * batches hold at most `max_batch` changes (0: 256). */
enum err commitq_start(const char *db_path, size_t max_batch, struct commitq **out);

/* Commit what is queued, then stop the thread and close. Nothing may be
 * submitted any more. Accepts NULL. */
void commitq_stop(struct commitq *q);

/* Queue a change; from any thread. ERR_NOMEM, or ERR_INTERNAL once
 * stopping; on failure nothing runs. */
enum err commitq_submit(struct commitq *q, commitq_run_fn run, commitq_done_fn done, void *arg);

/* Figures for /metrics and tests: transactions committed, and changes
 * in them. */
void commitq_stats(struct commitq *q, unsigned long long *batches, unsigned long long *changes);

#endif
