/* commitq — see commitq.h. */
#include "api/commitq.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "http/log.h"

struct change {
	struct change *next;
	commitq_run_fn run;
	commitq_done_fn done;
	void *arg;
	enum err rc;
	char detail[512]; /* err_detail() of rc, which later changes overwrite */
	bool ran;
};

struct commitq {
	pthread_mutex_t lock;
	pthread_cond_t idle; /* signalled when the leader resigns */
	struct change *head, *tail;
	bool leading; /* a thread is committing batches */
	bool stopping;
	size_t max_batch;
	struct db *db;                       /* used by the leader only */
	unsigned long long batches, changes; /* guarded by lock */
};

/* Run one change in a savepoint of the open transaction. */
static void run_one(struct db *db, struct change *c)
{
	enum err rc = db_begin(db);

	if (!rc) {
		rc = c->run(db, c->arg);
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	c->rc = rc;
	c->ran = true;
	if (rc)
		snprintf(c->detail, sizeof c->detail, "%s", err_detail());
}

/* The batch could not commit as a whole: each change that had not
 * failed on its own gets a transaction of its own (run_one outside a
 * transaction is one). */
static void run_alone(struct db *db, struct change *batch)
{
	log_event(LOG_WARN, "commit",
		  "a group commit failed (%s); committing its changes one by one", err_detail());
	for (struct change *c = batch; c; c = c->next) {
		if (c->ran && c->rc)
			continue;
		run_one(db, c);
		db_rollback(db); /* nothing is open unless SQLite left it so */
	}
}

static void run_batch(struct commitq *q, struct change *batch, size_t n)
{
	struct db *db = q->db;
	enum err rc = db_begin(db);

	if (!rc) {
		for (struct change *c = batch; c; c = c->next) {
			run_one(db, c);
			if (!db_in_txn(db)) {
				/* SQLite abandoned the batch (disk full, I/O): what
				 * ran before is gone too. */
				rc = c->rc ? c->rc : err_set(ERR_DB, "the batch was rolled back");
				break;
			}
		}
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	if (rc)
		run_alone(db, batch);
	pthread_mutex_lock(&q->lock);
	q->batches++;
	q->changes += n;
	pthread_mutex_unlock(&q->lock);
	while (batch) {
		struct change *c = batch;

		batch = c->next;
		if (c->rc)
			err_set(c->rc, "%s", c->detail);
		c->done(c->rc, c->arg);
		free(c);
	}
}

/* The leader commits batch after batch until the queue is empty, then
 * resigns. Both the check for more work and the resignation happen
 * under the lock that submitters take to queue, so a change is never
 * left behind: whoever queues it either sees a leader that will see it,
 * or becomes the leader. Called with the lock held; returns with it
 * held. */
static void lead(struct commitq *q)
{
	q->leading = true;
	while (q->head) {
		struct change *batch, *last;
		size_t n = 1;

		batch = last = q->head;
		while (last->next && n < q->max_batch) {
			last = last->next;
			n++;
		}
		q->head = last->next;
		if (!q->head)
			q->tail = NULL;
		last->next = NULL;
		pthread_mutex_unlock(&q->lock);
		run_batch(q, batch, n);
		pthread_mutex_lock(&q->lock);
	}
	q->leading = false;
	pthread_cond_broadcast(&q->idle);
}

enum err commitq_start(const char *db_path, size_t max_batch, struct commitq **out)
{
	struct commitq *q = calloc(1, sizeof *q);
	enum err rc;

	*out = NULL;
	if (!q)
		return err_set(ERR_NOMEM, "out of memory");
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->idle, NULL);
	q->max_batch = max_batch ? max_batch : 256;
	rc = db_open(db_path, &q->db);
	if (rc) {
		commitq_stop(q);
		return rc;
	}
	*out = q;
	return ERR_OK;
}

void commitq_stop(struct commitq *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->stopping = true;
	while (q->leading)
		pthread_cond_wait(&q->idle, &q->lock);
	pthread_mutex_unlock(&q->lock);
	db_close(q->db);
	pthread_cond_destroy(&q->idle);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

enum err commitq_submit(struct commitq *q, commitq_run_fn run, commitq_done_fn done, void *arg)
{
	struct change *c = calloc(1, sizeof *c);

	if (!c)
		return err_set(ERR_NOMEM, "out of memory");
	c->run = run;
	c->done = done;
	c->arg = arg;
	pthread_mutex_lock(&q->lock);
	if (q->stopping) {
		pthread_mutex_unlock(&q->lock);
		free(c);
		return err_set(ERR_INTERNAL, "the server is stopping");
	}
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
	if (!q->leading)
		lead(q);
	pthread_mutex_unlock(&q->lock);
	return ERR_OK;
}

void commitq_stats(struct commitq *q, unsigned long long *batches, unsigned long long *changes)
{
	pthread_mutex_lock(&q->lock);
	*batches = q->batches;
	*changes = q->changes;
	pthread_mutex_unlock(&q->lock);
}
