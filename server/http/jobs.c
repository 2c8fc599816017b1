/* jobs — see jobs.h. */
#include "http/jobs.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

/* A completion owed to a loop: `done` runs there when someone calls
 * jobs_ticket_complete, from any thread. */
struct jobs_ticket {
	struct jobs_loop *loop;
	struct event *ev; /* on the loop's base; activated on completion */
	jobs_done_fn done;
	void *arg;
	/* jobs_submit_req / a ticket for a request */
	struct http_req *req;
	jobs_req_done_fn req_done;
};

struct job {
	struct job *next;
	jobs_run_fn run;
	void *arg;
	struct jobs_ticket *ticket; /* completed after run; NULL for jobs_post */
};

struct jobs {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct job *head, *tail;
	size_t queued, max_queued;
	bool stopping;
	unsigned nthreads;
	pthread_t *threads;
};

struct jobs_loop {
	struct jobs *pool;
	struct event_base *base;
	size_t pending; /* touched only on the loop's thread */
};

static void *pool_main(void *arg)
{
	struct jobs *j = arg;
	struct job *job;

	for (;;) {
		pthread_mutex_lock(&j->lock);
		while (!j->head && !j->stopping)
			pthread_cond_wait(&j->cond, &j->lock);
		job = j->head;
		if (job) {
			j->head = job->next;
			if (!j->head)
				j->tail = NULL;
			j->queued--;
		}
		pthread_mutex_unlock(&j->lock);
		if (!job)
			return NULL; /* stopping and the queue is empty */
		job->run(job->arg);
		if (job->ticket)
			jobs_ticket_complete(job->ticket);
		free(job);
	}
}

enum err jobs_start(unsigned threads, size_t max_queued, struct jobs **out)
{
	struct jobs *j = calloc(1, sizeof *j);

	*out = NULL;
	if (!j)
		return err_set(ERR_NOMEM, "out of memory");
	if (threads == 0)
		threads = 1;
	j->max_queued = max_queued ? max_queued : 1;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->cond, NULL);
	j->threads = calloc(threads, sizeof *j->threads);
	if (!j->threads) {
		jobs_stop(j);
		return err_set(ERR_NOMEM, "out of memory");
	}
	for (; j->nthreads < threads; j->nthreads++) {
		if (pthread_create(&j->threads[j->nthreads], NULL, pool_main, j) != 0) {
			jobs_stop(j);
			return err_set(ERR_INTERNAL, "cannot start job threads");
		}
	}
	*out = j;
	return ERR_OK;
}

void jobs_stop(struct jobs *j)
{
	if (!j)
		return;
	pthread_mutex_lock(&j->lock);
	j->stopping = true;
	pthread_cond_broadcast(&j->cond);
	pthread_mutex_unlock(&j->lock);
	for (unsigned i = 0; i < j->nthreads; i++)
		pthread_join(j->threads[i], NULL);
	free(j->threads);
	pthread_cond_destroy(&j->cond);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

struct jobs_loop *jobs_loop_new(struct jobs *j, struct event_base *base)
{
	struct jobs_loop *l = calloc(1, sizeof *l);

	if (l) {
		l->pool = j;
		l->base = base;
	}
	return l;
}

void jobs_loop_drain(struct jobs_loop *l)
{
	while (l && l->pending > 0)
		event_base_loop(l->base, EVLOOP_ONCE);
}

void jobs_loop_free(struct jobs_loop *l) { free(l); }

size_t jobs_loop_pending(const struct jobs_loop *l) { return l->pending; }

static void ticket_cb(evutil_socket_t fd, short what, void *arg)
{
	struct jobs_ticket *t = arg;

	(void)fd;
	(void)what;
	t->loop->pending--;
	event_free(t->ev);
	if (t->req_done) {
		t->req_done(t->req, t->req ? http_req_alive(t->req) : true, t->arg);
		if (t->req)
			http_req_release(t->req);
	} else {
		t->done(t->arg);
	}
	free(t);
}

static struct jobs_ticket *ticket_new(struct jobs_loop *l, struct http_req *req,
				      jobs_req_done_fn req_done, jobs_done_fn done, void *arg)
{
	struct jobs_ticket *t = calloc(1, sizeof *t);

	if (!t)
		return NULL;
	t->loop = l;
	t->ev = event_new(l->base, -1, 0, ticket_cb, t);
	if (!t->ev) {
		free(t);
		return NULL;
	}
	t->req = req;
	t->req_done = req_done;
	t->done = done;
	t->arg = arg;
	if (req)
		http_req_hold(req);
	l->pending++;
	return t;
}

/* Take back a ticket that was never handed on (its work could not be
 * queued): nothing runs. */
static void ticket_cancel(struct jobs_ticket *t)
{
	t->loop->pending--;
	event_free(t->ev);
	if (t->req)
		http_req_release(t->req);
	free(t);
}

struct jobs_ticket *jobs_ticket_new(struct jobs_loop *l, struct http_req *req,
				    jobs_req_done_fn done, void *arg)
{
	return ticket_new(l, req, done, NULL, arg);
}

void jobs_ticket_complete(struct jobs_ticket *t)
{
	/* Thread-safe with libevent's pthread support: wakes the loop. */
	event_active(t->ev, EV_TIMEOUT, 0);
}

static enum err enqueue(struct jobs *j, jobs_run_fn run, void *arg, struct jobs_ticket *ticket)
{
	struct job *job = calloc(1, sizeof *job);

	if (!job)
		return err_set(ERR_NOMEM, "out of memory");
	job->run = run;
	job->arg = arg;
	job->ticket = ticket;
	pthread_mutex_lock(&j->lock);
	if (j->queued >= j->max_queued || j->stopping) {
		pthread_mutex_unlock(&j->lock);
		free(job);
		return err_set(ERR_LIMIT, "the server is busy; try again shortly");
	}
	if (j->tail)
		j->tail->next = job;
	else
		j->head = job;
	j->tail = job;
	j->queued++;
	pthread_cond_signal(&j->cond);
	pthread_mutex_unlock(&j->lock);
	return ERR_OK;
}

enum err jobs_post(struct jobs *j, jobs_run_fn run, void *arg)
{
	return enqueue(j, run, arg, NULL);
}

static enum err submit(struct jobs *pool, jobs_run_fn run, struct jobs_ticket *t)
{
	enum err rc;

	if (!t)
		return err_set(ERR_NOMEM, "out of memory");
	rc = enqueue(pool, run, t->arg, t);
	if (rc)
		ticket_cancel(t);
	return rc;
}

enum err jobs_submit(struct jobs_loop *l, jobs_run_fn run, jobs_done_fn done, void *arg)
{
	return submit(l->pool, run, ticket_new(l, NULL, NULL, done, arg));
}

enum err jobs_submit_req(struct jobs_loop *l, struct http_req *req, jobs_run_fn run,
			 jobs_req_done_fn done, void *arg)
{
	return submit(l->pool, run, ticket_new(l, req, done, NULL, arg));
}

enum err jobs_submit_req_on(struct jobs *pool, struct jobs_loop *l, struct http_req *req,
			    jobs_run_fn run, jobs_req_done_fn done, void *arg)
{
	return submit(pool, run, ticket_new(l, req, done, NULL, arg));
}

char *jobs_strdup(const char *s, bool *nomem)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*nomem = true;
	return d;
}
