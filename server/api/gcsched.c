/* gcsched — see gcsched.h. */
#include "api/gcsched.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "api/metrics.h"
#include "http/log.h"
#include "maint.h"

struct gcsched {
	const char *data_dir;
	unsigned interval_ms;
	int64_t grace;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* CLOCK_MONOTONIC */
	bool stop;
	int64_t last_ok; /* monotonic seconds of the last successful run; start time before */
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void run_once(struct gcsched *g)
{
	struct maint_gc_stats st;
	struct timespec wall;
	int64_t t0 = mono_ms(), ms;
	enum err rc = maint_gc(g->data_dir, g->grace, &st);

	ms = mono_ms() - t0;
	if (rc == ERR_LOCKED) {
		log_event(LOG_INFO, "gc", "skipped: %s", err_detail());
		return;
	}
	if (rc) {
		metrics_add(METRICS_GC_FAILURES, 1);
		log_event(LOG_ERROR, "gc", "failed: %s", err_detail());
		return;
	}
	clock_gettime(CLOCK_REALTIME, &wall);
	pthread_mutex_lock(&g->mu);
	g->last_ok = mono_ms() / 1000;
	pthread_mutex_unlock(&g->mu);
	metrics_add(METRICS_GC_RUNS, 1);
	metrics_add(METRICS_GC_BYTES_RECLAIMED, (int64_t)st.bytes_freed);
	metrics_set(METRICS_GC_LAST_RUN, (int64_t)wall.tv_sec);
	metrics_set(METRICS_GC_LAST_DURATION_MS, ms);
	if (st.deleted || st.pruned || st.temps_removed || st.uploads_expired)
		log_event(LOG_INFO, "gc",
			  "%llu versions pruned, %llu blobs deleted (%llu bytes), %llu temp files, "
			  "%llu expired uploads, %lld ms",
			  (unsigned long long)st.pruned, (unsigned long long)st.deleted,
			  (unsigned long long)st.bytes_freed, (unsigned long long)st.temps_removed,
			  (unsigned long long)st.uploads_expired, (long long)ms);
}

static void *thread_main(void *arg)
{
	struct gcsched *g = arg;

	pthread_mutex_lock(&g->mu);
	while (!g->stop) {
		struct timespec until;
		int64_t due = mono_ms() + g->interval_ms;

		until.tv_sec = due / 1000;
		until.tv_nsec = (long)(due % 1000) * 1000000;
		while (!g->stop && mono_ms() < due)
			if (pthread_cond_timedwait(&g->cv, &g->mu, &until) == ETIMEDOUT)
				break;
		if (g->stop)
			break;
		pthread_mutex_unlock(&g->mu);
		run_once(g);
		pthread_mutex_lock(&g->mu);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

enum err gcsched_start(const char *data_dir, unsigned interval_ms, int64_t grace,
		       struct gcsched **out)
{
	struct gcsched *g;
	pthread_condattr_t ca;

	*out = NULL;
	if (!interval_ms)
		return ERR_OK;
	g = calloc(1, sizeof *g);
	if (!g)
		return err_set(ERR_NOMEM, "out of memory");
	g->data_dir = data_dir;
	g->interval_ms = interval_ms;
	g->grace = grace;
	g->last_ok = mono_ms() / 1000;
	pthread_mutex_init(&g->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&g->thread, NULL, thread_main, g) != 0) {
		pthread_cond_destroy(&g->cv);
		pthread_mutex_destroy(&g->mu);
		free(g);
		return err_set(ERR_INTERNAL, "cannot start the gc thread");
	}
	*out = g;
	return ERR_OK;
}

void gcsched_stop(struct gcsched *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = true;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->thread, NULL);
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

const char *gcsched_health(struct gcsched *g)
{
	int64_t since;

	if (!g)
		return "off";
	pthread_mutex_lock(&g->mu);
	since = mono_ms() / 1000 - g->last_ok;
	pthread_mutex_unlock(&g->mu);
	return since * 1000 > 3 * (int64_t)g->interval_ms + 10000 ? "overdue" : "ok";
}
