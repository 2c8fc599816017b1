/* jobs — see jobs.h. */
#include "jobs.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>

#include "http.h"

struct job {
	struct job *next;
	struct jobs_loop *loop;
	struct event *ev; /* on the loop's base; activated by the pool */
	jobs_run_fn run;
	jobs_done_fn done;
	void *arg;
	/* jobs_submit_req */
	struct http_req *req;
	jobs_req_done_fn req_done;
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
		/* Thread-safe with libevent's pthread support: wakes the loop. */
		event_active(job->ev, EV_TIMEOUT, 0);
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

void jobs_loop_free(struct jobs_loop *l)
{
	free(l);
}

size_t jobs_loop_pending(const struct jobs_loop *l)
{
	return l->pending;
}

static void job_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct job *job = arg;

	(void)fd;
	(void)what;
	job->loop->pending--;
	event_free(job->ev);
	if (job->req) {
		job->req_done(job->req, http_req_alive(job->req), job->arg);
		http_req_release(job->req);
	} else {
		job->done(job->arg);
	}
	free(job);
}

static enum err submit(struct jobs_loop *l, struct job *job)
{
	struct jobs *j = l->pool;

	job->loop = l;
	job->ev = event_new(l->base, -1, 0, job_done_cb, job);
	if (!job->ev) {
		free(job);
		return err_set(ERR_NOMEM, "out of memory");
	}
	pthread_mutex_lock(&j->lock);
	if (j->queued >= j->max_queued || j->stopping) {
		pthread_mutex_unlock(&j->lock);
		event_free(job->ev);
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
	l->pending++;
	return ERR_OK;
}

enum err jobs_submit(struct jobs_loop *l, jobs_run_fn run, jobs_done_fn done, void *arg)
{
	struct job *job = calloc(1, sizeof *job);

	if (!job)
		return err_set(ERR_NOMEM, "out of memory");
	job->run = run;
	job->done = done;
	job->arg = arg;
	return submit(l, job);
}

enum err jobs_submit_req(struct jobs_loop *l, struct http_req *req, jobs_run_fn run,
			 jobs_req_done_fn done, void *arg)
{
	struct job *job = calloc(1, sizeof *job);
	enum err rc;

	if (!job)
		return err_set(ERR_NOMEM, "out of memory");
	job->run = run;
	job->req = req;
	job->req_done = done;
	job->arg = arg;
	http_req_hold(req);
	rc = submit(l, job);
	if (rc)
		http_req_release(req);
	return rc;
}
