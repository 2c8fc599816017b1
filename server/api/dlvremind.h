/*
 * dlvremind — review tasks and reminders of the deliverable register by
 * mail (docs/deliverables.md, "Tasks and reminders").
 *
 * Steps, each mailed once to each person (a row of
 * deliverable_reminders, inserted in the transaction that queues the
 * mail, so a step is sent once across restarts, runs on several threads
 * and the test hook):
 *
 *   review_task             a reviewer of the latest review, not answered
 *                           yet: when the review starts (in its
 *                           transaction), and by the job for any missed
 *   review_due DATE         not answered, due within reminder-days
 *   review_overdue DATE     not answered, past its due date
 *   deliverable_due DATE    not submitted, due within reminder-days: to
 *                           the members of its lead partner and of its
 *                           work package's lead partner who can write it
 *   deliverable_overdue DATE  the same, past its due date
 *
 * The date is part of the step: a moved due date is reminded again.
 * Whether the person may be told is asked when the mail is made
 * (acl_deliverable_notice), so access taken away meanwhile means no mail.
 * The job runs every reminder-interval on a thread of its own, with its
 * own database connection, never on an event loop.
 */
#ifndef CONSORT_DLVREMIND_H
#define CONSORT_DLVREMIND_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct config;
struct db;

struct dlvremind_run {
	size_t review_tasks, review_reminders, deliverable_reminders; /* mails queued */
};

/* Queue the review_task mail of review `review_id` to its pending
 * reviewers. Joins the caller's transaction. *queued may be NULL. */
enum err dlvremind_review_started(struct db *db, const struct config *cfg, int64_t review_id,
				  size_t *queued);

/* One run of every step for today (db_now, UTC), in one transaction. */
enum err dlvremind_run(struct db *db, const struct config *cfg, struct dlvremind_run *out);

/* Start the thread (reminder-interval 0: nothing starts). */
enum err dlvremind_start(const struct config *cfg);

/* Stop it (a run in progress finishes). Safe without start. */
void dlvremind_stop(void);

#endif
