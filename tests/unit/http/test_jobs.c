/* Unit tests for server/http/jobs.c: work runs on pool threads, completions
 * on the submitting loop, the queue is bounded, draining waits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <cmocka.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "http/jobs.h"

struct item {
	pthread_t loop_thread;
	pthread_t ran_on;
	bool done_on_loop;
	int *completed;
	useconds_t sleep_us;
};

static void run(void *arg)
{
	struct item *it = arg;

	it->ran_on = pthread_self();
	if (it->sleep_us)
		usleep(it->sleep_us);
}

static void done(void *arg)
{
	struct item *it = arg;

	it->done_on_loop = pthread_equal(pthread_self(), it->loop_thread);
	(*it->completed)++;
}

static void runs_off_loop_and_completes_on_it(void **state)
{
	struct event_base *base = event_base_new();
	struct jobs *pool;
	struct jobs_loop *loop;
	struct item items[40];
	int completed = 0;

	(void)state;
	assert_int_equal(jobs_start(3, 100, &pool), ERR_OK);
	loop = jobs_loop_new(pool, base);
	for (int i = 0; i < 40; i++) {
		items[i] = (struct item){
			.loop_thread = pthread_self(), .completed = &completed, .sleep_us = 1000};
		assert_int_equal(jobs_submit(loop, run, done, &items[i]), ERR_OK);
	}
	assert_int_equal(jobs_loop_pending(loop), 40);
	assert_int_equal(completed, 0); /* nothing completes outside the loop */
	jobs_loop_drain(loop);
	assert_int_equal(completed, 40);
	assert_int_equal(jobs_loop_pending(loop), 0);
	for (int i = 0; i < 40; i++) {
		assert_false(pthread_equal(items[i].ran_on, pthread_self()));
		assert_true(items[i].done_on_loop);
	}
	jobs_loop_free(loop);
	jobs_stop(pool);
	event_base_free(base);
}

static void queue_is_bounded(void **state)
{
	struct event_base *base = event_base_new();
	struct jobs *pool;
	struct jobs_loop *loop;
	struct item items[8];
	int completed = 0, accepted = 0;

	(void)state;
	assert_int_equal(jobs_start(1, 2, &pool), ERR_OK);
	loop = jobs_loop_new(pool, base);
	for (int i = 0; i < 8; i++) {
		items[i] = (struct item){
			.loop_thread = pthread_self(), .completed = &completed, .sleep_us = 50000};
		enum err rc = jobs_submit(loop, run, done, &items[i]);

		assert_true(rc == ERR_OK || rc == ERR_LIMIT);
		accepted += rc == ERR_OK;
	}
	/* One running plus two queued at most; the rest were refused. */
	assert_true(accepted >= 2 && accepted <= 3);
	jobs_loop_drain(loop);
	assert_int_equal(completed, accepted);
	jobs_loop_free(loop);
	jobs_stop(pool);
	event_base_free(base);
}

/* A ticket's work hops from the loop to a pool thread (jobs_post) and
 * from there to another thread of its own, which completes it: done
 * still runs on the loop, and draining waits for it. */
struct hop {
	struct item *it;
	struct jobs_ticket *t;
	pthread_t other;
};

static void *hop_other(void *arg)
{
	struct hop *h = arg;

	usleep(20000);
	h->it->ran_on = pthread_self();
	jobs_ticket_complete(h->t);
	return NULL;
}

static void hop_run(void *arg)
{
	struct hop *h = arg;

	assert_int_equal(pthread_create(&h->other, NULL, hop_other, h), 0);
}

static void ticket_done(struct http_req *req, bool alive, void *arg)
{
	struct hop *h = arg;

	assert_null(req);
	assert_true(alive);
	done(h->it);
}

static void tickets_complete_from_any_thread_on_the_loop(void **state)
{
	struct event_base *base = event_base_new();
	struct jobs *pool, *io;
	struct jobs_loop *loop;
	struct item items[10];
	struct hop hops[10];
	int completed = 0;

	(void)state;
	assert_int_equal(jobs_start(1, 100, &pool), ERR_OK);
	assert_int_equal(jobs_start(4, 100, &io), ERR_OK);
	loop = jobs_loop_new(pool, base);
	for (int i = 0; i < 10; i++) {
		items[i] = (struct item){.loop_thread = pthread_self(), .completed = &completed};
		hops[i].it = &items[i];
		hops[i].t = jobs_ticket_new(loop, NULL, ticket_done, &hops[i]);
		assert_non_null(hops[i].t);
		assert_int_equal(jobs_post(io, hop_run, &hops[i]), ERR_OK);
	}
	assert_int_equal(jobs_loop_pending(loop), 10);
	jobs_loop_drain(loop);
	assert_int_equal(completed, 10);
	for (int i = 0; i < 10; i++) {
		pthread_join(hops[i].other, NULL);
		assert_true(items[i].done_on_loop);
		assert_false(pthread_equal(items[i].ran_on, pthread_self()));
	}
	jobs_loop_free(loop);
	jobs_stop(io);
	jobs_stop(pool);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(runs_off_loop_and_completes_on_it),
		cmocka_unit_test(queue_is_bounded),
		cmocka_unit_test(tickets_complete_from_any_thread_on_the_loop),
	};

	evthread_use_pthreads();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
