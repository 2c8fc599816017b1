/* dlvremind — see dlvremind.h. */
#include "api/dlvremind.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/acl.h"
#include "api/config.h"
#include "api/mail.h"
#include "db.h"
#include "deliverables.h"
#include "http/log.h"

static void today_of(char out[11])
{
	time_t t = (time_t)db_now();
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Whole days from `from` to `to` (both YYYY-MM-DD, valid). */
static int64_t days_between(const char *from, const char *to)
{
	struct tm a = {0}, b = {0};

	sscanf(from, "%4d-%2d-%2d", &a.tm_year, &a.tm_mon, &a.tm_mday);
	sscanf(to, "%4d-%2d-%2d", &b.tm_year, &b.tm_mon, &b.tm_mday);
	a.tm_year -= 1900;
	b.tm_year -= 1900;
	a.tm_mon--;
	b.tm_mon--;
	return ((int64_t)timegm(&b) - (int64_t)timegm(&a)) / 86400;
}

/* Mark `step` for the person of `x` and, if it is new, queue its mail. */
static enum err notice(struct db *db, const struct config *cfg, const struct dlv_notice *x,
		       const char *step, const char *subject_key, const char *body_key,
		       const char *due, size_t *count)
{
	char id_left[160], link[64], version[24];
	bool fresh = false;
	enum err rc = dlv_reminder_mark(db, step, x->ref, x->user_id, &fresh);

	if (rc || !fresh)
		return rc;
	/* the step's name without its date, for the Message-ID */
	snprintf(id_left, sizeof id_left, "consort.%.*s.%lld.%lld.%s", (int)strcspn(step, " "),
		 step, (long long)x->ref, (long long)x->user_id,
		 strchr(step, ' ') ? strchr(step, ' ') + 1 : "0");
	snprintf(link, sizeof link, "/#/deliverables/%s", x->code);
	snprintf(version, sizeof version, "%lld", (long long)x->version);
	rc = mail_notice(db, cfg, x->user_id, x->email, "deliverable_notice", id_left, subject_key,
			 body_key,
			 (const char *const[]){"code", x->code, "title", x->title, "version",
					       version, "due", due ? due : "", NULL},
			 link);
	if (!rc && count)
		(*count)++;
	return rc;
}

static enum err review_task(struct db *db, const struct config *cfg, const struct dlv_notice *x,
			    size_t *count)
{
	return notice(db, cfg, x, "review_task", "review_task.subject",
		      x->due_date ? "review_task_due.body" : "review_task.body", x->due_date,
		      count);
}

enum err dlvremind_review_started(struct db *db, const struct config *cfg, int64_t review_id,
				  size_t *queued)
{
	struct dlv_notice *l = NULL;
	size_t n = 0;
	enum err rc = dlv_pending_reviewers(db, review_id ? review_id : -1, &l, &n);

	for (size_t i = 0; i < n && !rc; i++)
		if (acl_deliverable_notice(db, l[i].user_id, l[i].wp_id, true))
			rc = review_task(db, cfg, &l[i], queued);
	dlv_notices_free(l, n);
	return rc;
}

static enum err run_reviews(struct db *db, const struct config *cfg, const char *today,
			    struct dlvremind_run *out)
{
	struct dlv_notice *l = NULL;
	size_t n = 0;
	enum err rc = dlv_pending_reviewers(db, 0, &l, &n);

	for (size_t i = 0; i < n && !rc; i++) {
		const struct dlv_notice *x = &l[i];
		char step[64];
		int64_t left;

		if (!acl_deliverable_notice(db, x->user_id, x->wp_id, true))
			continue;
		rc = review_task(db, cfg, x, &out->review_tasks);
		if (rc || !x->due_date || !dlv_date_valid(x->due_date))
			continue;
		left = days_between(today, x->due_date);
		if (left > (int64_t)cfg->reminder_days)
			continue;
		snprintf(step, sizeof step, "%s %s", left < 0 ? "review_overdue" : "review_due",
			 x->due_date);
		rc = notice(db, cfg, x, step,
			    left < 0 ? "review_overdue.subject" : "review_due.subject",
			    left < 0 ? "review_overdue.body" : "review_due.body", x->due_date,
			    &out->review_reminders);
	}
	dlv_notices_free(l, n);
	return rc;
}

static enum err run_deliverables(struct db *db, const struct config *cfg, const char *today,
				 struct dlvremind_run *out)
{
	struct dlv_notice *l = NULL;
	size_t n = 0;
	enum err rc = dlv_due_people(db, &l, &n);

	for (size_t i = 0; i < n && !rc; i++) {
		const struct dlv_notice *x = &l[i];
		char due[11] = "", step[64];
		int64_t left;

		if (x->due_date && dlv_date_valid(x->due_date))
			snprintf(due, sizeof due, "%s", x->due_date);
		else if (!x->due_date && x->due_month && cfg->project_start &&
			 dlv_due_date(cfg->project_start, x->due_month, due))
			due[0] = '\0';
		err_clear();
		if (!*due || !acl_deliverable_notice(db, x->user_id, x->wp_id, false))
			continue;
		left = days_between(today, due);
		if (left > (int64_t)cfg->reminder_days)
			continue;
		snprintf(step, sizeof step, "%s %s",
			 left < 0 ? "deliverable_overdue" : "deliverable_due", due);
		rc = notice(db, cfg, x, step,
			    left < 0 ? "deliverable_overdue.subject" : "deliverable_due.subject",
			    left < 0 ? "deliverable_overdue.body" : "deliverable_due.body", due,
			    &out->deliverable_reminders);
	}
	dlv_notices_free(l, n);
	return rc;
}

enum err dlvremind_run(struct db *db, const struct config *cfg, struct dlvremind_run *out)
{
	char today[11];
	enum err rc;

	memset(out, 0, sizeof *out);
	today_of(today);
	rc = db_begin(db);
	if (rc)
		return rc;
	rc = run_reviews(db, cfg, today, out);
	if (!rc)
		rc = run_deliverables(db, cfg, today, out);
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db);
		memset(out, 0, sizeof *out);
	}
	return rc;
}

/* --- the thread ---------------------------------------------------------------- */

static struct {
	const struct config *cfg;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv; /* CLOCK_MONOTONIC */
	bool started, stop;
} s = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void *thread_main(void *arg)
{
	struct db *db = NULL;
	char path[4200];

	(void)arg;
	snprintf(path, sizeof path, "%s/consort.db", s.cfg->data_dir);
	if (db_open(path, &db)) {
		log_event(LOG_ERROR, "reminders", "cannot open the database: %s", err_detail());
		return NULL;
	}
	pthread_mutex_lock(&s.mu);
	while (!s.stop) {
		struct timespec until;
		struct dlvremind_run run;

		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += s.cfg->reminder_interval_ms / 1000;
		until.tv_nsec += (long)(s.cfg->reminder_interval_ms % 1000) * 1000000;
		if (until.tv_nsec >= 1000000000) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000;
		}
		while (!s.stop && pthread_cond_timedwait(&s.cv, &s.mu, &until) != ETIMEDOUT)
			;
		if (s.stop)
			break;
		pthread_mutex_unlock(&s.mu);
		if (dlvremind_run(db, s.cfg, &run))
			log_event(LOG_ERROR, "reminders", "failed: %s", err_detail());
		else if (run.review_tasks + run.review_reminders + run.deliverable_reminders)
			mail_wake();
		pthread_mutex_lock(&s.mu);
	}
	pthread_mutex_unlock(&s.mu);
	db_close(db);
	return NULL;
}

enum err dlvremind_start(const struct config *cfg)
{
	pthread_condattr_t ca;

	if (!cfg->reminder_interval_ms || s.started)
		return ERR_OK;
	s.cfg = cfg;
	s.stop = false;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s.cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&s.thread, NULL, thread_main, NULL) != 0) {
		pthread_cond_destroy(&s.cv);
		return err_set(ERR_INTERNAL, "cannot start the reminder thread");
	}
	s.started = true;
	return ERR_OK;
}

void dlvremind_stop(void)
{
	if (!s.started)
		return;
	pthread_mutex_lock(&s.mu);
	s.stop = true;
	pthread_cond_signal(&s.cv);
	pthread_mutex_unlock(&s.mu);
	pthread_join(s.thread, NULL);
	pthread_cond_destroy(&s.cv);
	s.started = false;
}
