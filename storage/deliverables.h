/*
 * deliverables — the register of a consortium's deliverables and their
 * internal reviews (docs/deliverables.md).
 *
 * A deliverable is a record of its own: a unique code (D<wp>.<n>, the
 * number after D is its work package's), title, work package, lead
 * partner, due month of the project (from the grant agreement) and/or a
 * due date, type, dissemination level, status, the one document that
 * holds it (in its work package) and the submission date.
 *
 * A review is started on one version of that document: the content
 * hash (SHA-256 of the blob) is recorded with the review, and every
 * reviewer's decision is bound to that hash. Whether an approval still
 * holds is a comparison of that hash with the document's current
 * version, made when the register is read.
 *
 * Conventions as in accounts.h: enum err results, records own their
 * strings and are released with the matching *_free / *_clear. Writes
 * run in their own transaction (nested into the caller's when one is
 * open, so a handler adds its audit record to the same commit).
 */
#ifndef CONSORT_DELIVERABLES_H
#define CONSORT_DELIVERABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "err.h"

#define DLV_CODE_MAX 16 /* bytes of a code, with NUL */

/* The names, as stored and as the API and the CSV write them. */
extern const char *const dlv_types[];          /* R DEM DEC DATA ETHICS OTHER */
extern const char *const dlv_disseminations[]; /* PU SEN R-UE/EU-R C-UE/EU-C S-UE/EU-S CO */
extern const char *const dlv_statuses[];       /* planned drafting in_review approved
						   submitted accepted revision_requested */

/* Index of `s` in a NULL-terminated list of names (case-insensitive), or -1. */
int dlv_name_index(const char *const *names, const char *s);

/* The due date of project month `month` (1-based, as in a grant
 * agreement: month 1 is the first month) for a project starting on
 * `start` (YYYY-MM-DD): the last day of that month of the project, i.e.
 * start + month months - 1 day. `out` gets YYYY-MM-DD. ERR_INVALID for
 * a malformed start or a month outside 1..240. */
enum err dlv_due_date(const char *start, int64_t month, char out[11]);

/* A well-formed calendar date YYYY-MM-DD? */
bool dlv_date_valid(const char *s);

struct dlv {
	int64_t id;
	char *code;
	char *title;
	int64_t wp_id;
	char *wp_code;
	int64_t lead_partner_id; /* 0: none */
	char *lead_short;        /* NULL: none */
	int64_t due_month;       /* 0: none */
	char *due_date;          /* YYYY-MM-DD or NULL */
	char *type;
	char *dissemination;
	char *status;
	int64_t node_id;      /* the document; 0: none yet */
	int64_t node_version; /* its current version (0: none or trashed) */
	char *node_blob;      /* its current content hash, or NULL */
	char *submitted_on;   /* YYYY-MM-DD or NULL */
	int64_t created_at;
	/* the latest review, if any */
	int64_t review_id;
	int64_t review_version;
	char *review_blob;
	int review_pending, review_approvals, review_changes;
	/* the submitted file ("<code> submitted.pdf"), if one was uploaded */
	int64_t submitted_node_id; /* 0: none (or purged) */
	int64_t submitted_version;
	char *submitted_blob;
};

void dlv_clear(struct dlv *d);
void dlv_list_free(struct dlv *d, size_t n);

struct dlv_filter {
	const int64_t *wp_ids; /* only these work packages (the readable ones) */
	size_t n_wp_ids;
	int64_t wp_id;      /* 0: any */
	int64_t partner_id; /* lead partner; 0: any */
	const char *status; /* NULL: any */
};

/* Deliverables matching `f`, ordered by work package number then code
 * number (D1.2 before D1.10). */
enum err dlv_list(struct db *db, const struct dlv_filter *f, struct dlv **out, size_t *n);

/* By code (case-insensitive). ERR_NOTFOUND when none. */
enum err dlv_get(struct db *db, const char *code, struct dlv *out);

/* Import the grant agreement's deliverable table as CSV (csv.h): a
 * header line naming the columns (docs/deliverables.md lists the names
 * taken, e.g. "Deliverable No", "Deliverable Name", "WP No", "Lead
 * Beneficiary", "Type", "Dissemination Level", "Due Date (in months)";
 * other columns are ignored), then one line per deliverable. A code
 * already in the register is updated (title, WP, lead, type, level,
 * due), its status, document and reviews kept; a new code is created
 * as planned. All or nothing: one transaction, and the first bad line
 * is named in an ERR_INVALID detail "line N: ..." (ERR_EXISTS for a code
 * given twice). *created and *updated count the lines. */
enum err dlv_import_csv(struct db *db, const char *data, size_t len, size_t *created,
			size_t *updated);

/* The register as CSV in the same shape (the columns above), for the
 * records `list` (of `n`). *out is malloc'd and NUL-terminated. */
enum err dlv_export_csv(const struct dlv *list, size_t n, char **out, size_t *len);

/* A change to a deliverable; only the set_ fields change. */
struct dlv_change {
	bool set_status, set_node, set_submitted_on, set_title, set_due_date;
	const char *status;
	int64_t node_id; /* 0: unlink */
	const char *submitted_on;
	const char *title;
	const char *due_date;
};

/* Apply `ch` to deliverable `id`. A linked document must be a live
 * document of the deliverable's own work package and hold no other
 * deliverable (ERR_INVALID, ERR_EXISTS); linking writes the code on the
 * document (nodes.deliverable), and takes it off a document the
 * deliverable leaves. A purged document leaves its deliverable without a
 * document (the schema sets the link NULL); its reviews keep their
 * version and content hash. */
enum err dlv_update(struct db *db, int64_t id, const struct dlv_change *ch);

/* --- reviews --------------------------------------------------------------- */

struct dlv_decision {
	int64_t reviewer_id;
	char *reviewer_email;
	char *reviewer_name;
	char *reviewer_partner;
	char *decision; /* "approve", "changes", or NULL while pending */
	char *comment;
	int64_t decided_at; /* 0: pending */
	/* the reviewer's annotated file, a document of the work package */
	int64_t attachment_node; /* 0: none (or purged: the hash stays) */
	int64_t attachment_version;
	char *attachment_blob; /* NULL: none */
};

struct dlv_review {
	int64_t id;
	int64_t deliverable_id;
	char *code;
	int64_t wp_id;
	int64_t node_id;
	int64_t version;
	char *blob; /* content hash of the reviewed version */
	char *due_date;
	int64_t started_by;
	char *started_by_email;
	int64_t started_at;
	struct dlv_decision *decisions;
	size_t n_decisions;
};

void dlv_review_clear(struct dlv_review *r);
void dlv_reviews_free(struct dlv_review *r, size_t n);

/* Start a review of version `version` (content `blob`) of the
 * deliverable's document by the users `reviewers` (n > 0, distinct),
 * due `due_date` (YYYY-MM-DD or NULL). Sets the status to in_review.
 * *id receives the review's id. */
enum err dlv_review_start(struct db *db, int64_t deliverable_id, int64_t node_id, int64_t version,
			  const char *blob, const char *due_date, int64_t started_by,
			  const int64_t *reviewers, size_t n, int64_t *id);

/* One review with its decisions. ERR_NOTFOUND when `id` is not a review
 * of deliverable `deliverable_id`. */
enum err dlv_review_get(struct db *db, int64_t deliverable_id, int64_t id, struct dlv_review *out);

/* Reviews of a deliverable, newest first, with their decisions. */
enum err dlv_reviews(struct db *db, int64_t deliverable_id, struct dlv_review **out, size_t *n);

/* Record `reviewer`'s decision ("approve" or "changes") with `comment`.
 * ERR_NOTFOUND when the user is not a reviewer of this review; a
 * decision may be changed until the review is superseded by a newer one
 * (ERR_CONFLICT then). When every reviewer approved, the deliverable's
 * status stays in_review until the coordinator approves it; any
 * "changes" answer sets it back to drafting. */
enum err dlv_review_decide(struct db *db, int64_t review_id, int64_t reviewer, const char *decision,
			   const char *comment);

/* Open review tasks of `user_id` (reviews of which they are a reviewer
 * without a decision yet, latest review of their deliverable only), for
 * the home page. */
enum err dlv_tasks(struct db *db, int64_t user_id, struct dlv_review **out, size_t *n);

/* ERR_OK when `review_id` is its deliverable's latest review,
 * ERR_CONFLICT when a newer one started, ERR_NOTFOUND when none. */
enum err dlv_review_latest(struct db *db, int64_t review_id);

/* Link version `version` (content `blob`) of document `node_id` to
 * `reviewer`'s answer in review `review_id` as their annotated file (a
 * later file replaces the link). ERR_NOTFOUND when the user is not a
 * reviewer of it, ERR_CONFLICT when a newer review has started. */
enum err dlv_decision_attach(struct db *db, int64_t review_id, int64_t reviewer, int64_t node_id,
			     int64_t version, const char *blob);

/* Mark deliverable `id` submitted on `submitted_on` (YYYY-MM-DD), with
 * the submitted file (version `version`, content `blob` of document
 * `node_id`) or none (node_id 0). Only from approved or
 * revision_requested (ERR_CONFLICT otherwise). */
enum err dlv_submit(struct db *db, int64_t id, const char *submitted_on, int64_t node_id,
		    int64_t version, const char *blob);

/* --- reminders (api/dlvremind.h decides who and when) ---------------------- */

/* A person a reminder may go to, with what it is about. */
struct dlv_notice {
	int64_t ref;     /* the review's id (reviews) or the deliverable's */
	int64_t user_id; /* the candidate; the caller checks access at send time */
	char *email;
	int64_t wp_id;
	char *code;
	char *title;
	char *due_date;    /* YYYY-MM-DD or NULL (deliverables: their own date) */
	int64_t due_month; /* deliverables: 0 none */
	int64_t version;   /* reviews: the reviewed version */
};

void dlv_notices_free(struct dlv_notice *n, size_t count);

/* Pending reviewers of the latest review of every deliverable not yet
 * submitted or accepted (one row per review and reviewer; enabled
 * accounts only). `review_id` 0: all reviews; else that one. */
enum err dlv_pending_reviewers(struct db *db, int64_t review_id, struct dlv_notice **out,
			       size_t *n);

/* Deliverables not yet submitted or accepted that have a due date or a
 * due month, each with the enabled members of its lead partner and of
 * its work package's lead partner (one row per deliverable and person). */
enum err dlv_due_people(struct db *db, struct dlv_notice **out, size_t *n);

/* Record that `step` about `ref` goes to `user_id`: *fresh is true when
 * it had not been recorded before (then the caller queues the mail in
 * the same transaction), false when it was sent already. */
enum err dlv_reminder_mark(struct db *db, const char *step, int64_t ref, int64_t user_id,
			   bool *fresh);

#endif
