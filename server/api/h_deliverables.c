/*
 * h_deliverables — the deliverable register and internal reviews
 * (docs/deliverables.md). Records and their SQL live in
 * storage/deliverables.c; every access question goes to acl.c; each
 * change is written to the audit log in the same transaction.
 *
 * Whether an approval still holds is computed here when a deliverable
 * is shown: the latest review's content hash against the document's
 * current version ("approved version differs from the current one").
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts.h"
#include "api/acl.h"
#include "api/apijson.h"
#include "api/app.h"
#include "api/auth.h"
#include "api/config.h"
#include "api/handlers.h"
#include "api/router.h"
#include "api/dlvremind.h"
#include "api/docput.h"
#include "api/mail.h"
#include "audit.h"
#include "cas.h"
#include "csv.h"
#include "deliverables.h"
#include "http/http.h"
#include "http/jsonin.h"
#include "http/reply.h"
#include "name.h"
#include "tree.h"

#define MAX_REVIEWERS 50
#define REVIEWS_FOLDER "Reviews" /* annotated files: Reviews/<code>/ in the WP */

static void today(char out[11])
{
	time_t t = (time_t)db_now();
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* The date a deliverable is due: its own date, else its month from the
 * project start; "" when neither can be told. */
static void due_of(const struct call *call, const struct dlv *d, char out[11])
{
	const struct config *cfg = worker_config(call->worker);

	out[0] = '\0';
	if (d->due_date)
		snprintf(out, 11, "%s", d->due_date);
	else if (d->due_month && cfg->project_start &&
		 dlv_due_date(cfg->project_start, d->due_month, out))
		out[0] = '\0';
}

static bool is_done(const struct dlv *d)
{
	return !strcmp(d->status, "submitted") || !strcmp(d->status, "accepted");
}

/* The latest review's state: "none", "pending", "changes_requested",
 * "approved" (every reviewer approved the version that is current),
 * "approved_version_differs" (approved, but the document has changed). */
static const char *review_state(const struct dlv *d)
{
	if (!d->review_id)
		return "none";
	if (d->review_changes)
		return "changes_requested";
	if (d->review_pending)
		return "pending";
	if (!d->node_blob || !d->review_blob || strcmp(d->node_blob, d->review_blob))
		return "approved_version_differs";
	return "approved";
}

/* A file linked from the register (an annotated file, the submitted
 * PDF): its path while it exists, the version and hash that were linked. */
static json_t *file_json(struct call *call, int64_t node, int64_t version, const char *blob)
{
	char *path = NULL;
	json_t *o;

	if (!blob)
		return json_null();
	if (node)
		tree_path(worker_db(call->worker), node, &path);
	err_clear();
	o = json_pack("{s:o, s:I, s:s}", "path", path ? json_string(path) : json_null(), "version",
		      (json_int_t)version, "sha256", blob);
	free(path);
	return o;
}

static json_t *dlv_json(struct call *call, const struct dlv *d, const char *now)
{
	char due[11];
	json_t *doc = json_null(), *rev = json_null();
	char *path = NULL;

	due_of(call, d, due);
	if (d->node_id && d->node_version &&
	    tree_path(worker_db(call->worker), d->node_id, &path) == ERR_OK)
		doc = json_pack("{s:s, s:I, s:s}", "path", path, "version",
				(json_int_t)d->node_version, "sha256",
				d->node_blob ? d->node_blob : "");
	free(path);
	if (d->review_id)
		rev = json_pack("{s:I, s:I, s:s, s:s, s:i, s:i, s:i}", "id",
				(json_int_t)d->review_id, "version", (json_int_t)d->review_version,
				"sha256", d->review_blob ? d->review_blob : "", "state",
				review_state(d), "pending", d->review_pending, "approvals",
				d->review_approvals, "changes", d->review_changes);
	json_t *o = json_pack(
		"{s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:s, s:s, s:o, s:o, s:o, s:b}", "code",
		d->code, "title", d->title, "wp", d->wp_code, "lead",
		d->lead_short ? json_string(d->lead_short) : json_null(), "due_month",
		d->due_month ? json_integer(d->due_month) : json_null(), "due_date",
		*due ? json_string(due) : json_null(), "type", d->type, "dissemination",
		d->dissemination, "status", d->status, "submitted_on",
		d->submitted_on ? json_string(d->submitted_on) : json_null(), "document", doc,
		"review", rev, "overdue", *due && strcmp(due, now) < 0 && !is_done(d));

	json_object_set_new(
		o, "submitted_file",
		file_json(call, d->submitted_node_id, d->submitted_version, d->submitted_blob));
	return o;
}

/* GET /api/v1/deliverables[?wp=&partner=&status=&due=month|overdue&format=csv]:
 * the register of the work packages the caller can read. */
void h_deliverables_list(struct call *call)
{
	struct db *db = worker_db(call->worker);
	const char *wp = http_req_query_param(call->req, "wp");
	const char *partner = http_req_query_param(call->req, "partner");
	const char *status = http_req_query_param(call->req, "status");
	const char *due = http_req_query_param(call->req, "due");
	const char *format = http_req_query_param(call->req, "format");
	struct dlv_filter f = {0};
	struct dlv *l = NULL;
	size_t n = 0;
	int64_t *ids = NULL;
	json_t *arr;
	char now[11];
	enum err rc;

	today(now);
	if (format && strcmp(format, "json") && strcmp(format, "csv")) {
		reply_err(call->req,
			  err_set(ERR_INVALID, "parameter 'format' must be json or csv"));
		return;
	}
	if (due && strcmp(due, "month") && strcmp(due, "overdue")) {
		reply_err(call->req,
			  err_set(ERR_INVALID, "parameter 'due' must be month or overdue"));
		return;
	}
	if (status && *status && dlv_name_index(dlv_statuses, status) < 0) {
		reply_err(call->req, err_set(ERR_INVALID, "parameter 'status': no such status"));
		return;
	}
	rc = acl_readable_wps(call, &ids, &f.n_wp_ids);
	if (rc)
		goto out;
	f.wp_ids = ids;
	f.status = status && *status ? dlv_statuses[dlv_name_index(dlv_statuses, status)] : NULL;
	if (wp && *wp) {
		int level;

		/* an unreadable WP filters like a missing one: no rows */
		rc = acl_wp_decide(db, call->caller, wp, 0, ACCT_READ, &f.wp_id, &level);
		if (rc == ERR_NOTFOUND) {
			rc = ERR_OK;
			f.wp_id = -1;
		}
		if (rc)
			goto out;
	}
	if (partner && *partner) {
		rc = acct_partner_id(db, partner, &f.partner_id);
		if (rc == ERR_NOTFOUND) {
			rc = ERR_OK;
			f.partner_id = -1;
		}
		if (rc)
			goto out;
	}
	if (f.wp_id == -1 || f.partner_id == -1)
		f.n_wp_ids = 0; /* nothing matches */
	rc = dlv_list(db, &f, &l, &n);
	if (rc)
		goto out;
	if (due) {
		size_t k = 0;

		for (size_t i = 0; i < n; i++) {
			char d[11];
			bool keep;

			due_of(call, &l[i], d);
			keep = *d &&
			       (!strcmp(due, "month") ? !strncmp(d, now, 7)
						      : strcmp(d, now) < 0 && !is_done(&l[i]));
			if (keep)
				l[k++] = l[i];
			else
				dlv_clear(&l[i]);
		}
		n = k;
	}
	if (format && !strcmp(format, "csv")) {
		char *csv;
		size_t len;

		rc = dlv_export_csv(l, n, &csv, &len);
		if (rc)
			goto out;
		reply_api_headers(call->req);
		http_resp_header(call->req, "Content-Type", "text/csv; charset=utf-8");
		http_resp_header(call->req, "Content-Disposition",
				 "attachment; filename=\"deliverables.csv\"");
		http_resp_send(call->req, 200, csv, len);
		free(csv);
		goto out;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, dlv_json(call, &l[i], now));
	reply_json(call->req, 200,
		   json_pack("{s:o, s:o, s:s}", "deliverables", arr, "project_start",
			     worker_config(call->worker)->project_start
				     ? json_string(worker_config(call->worker)->project_start)
				     : json_null(),
			     "today", now));
out:
	if (rc)
		reply_err(call->req, rc);
	dlv_list_free(l, n);
	free(ids);
}

/* POST /api/v1/deliverables/import (text/csv): coordinators. */
void h_deliverables_import(struct call *call)
{
	struct db *db = worker_db(call->worker);
	size_t created = 0, updated = 0;
	char detail[64];
	enum err rc;

	rc = db_begin(db);
	if (rc)
		goto out;
	rc = dlv_import_csv(db, call->text, call->text_len, &created, &updated);
	if (!rc) {
		snprintf(detail, sizeof detail, "%zu created, %zu updated", created, updated);
		rc = audit_append(db, call->caller->user_id, call->caller->email,
				  http_req_peer(call->req), "deliverable_import", 0, "deliverables",
				  detail);
	}
	if (!rc)
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
out:
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	reply_json(call->req, 200,
		   json_pack("{s:I, s:I}", "created", (json_int_t)created, "updated",
			     (json_int_t)updated));
}

/* The deliverable {code}, readable by the caller (404 otherwise, like a
 * missing one). */
static enum err load(struct call *call, struct dlv *d)
{
	enum err rc = dlv_get(worker_db(call->worker), call_param(call, "code"), d);

	if (!rc) {
		rc = acl_authorize_wp(call, NULL, d->wp_id, ACCESS_WP_READ);
		if (rc)
			dlv_clear(d);
		if (rc == ERR_NOTFOUND)
			rc = err_set(ERR_NOTFOUND, "no deliverable '%.40s'",
				     call_param(call, "code"));
	}
	return rc;
}

static json_t *review_json(struct call *call, const struct dlv_review *r)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < r->n_decisions; i++) {
		const struct dlv_decision *x = &r->decisions[i];

		json_array_append_new(
			arr,
			json_pack("{s:s, s:s, s:s, s:o, s:s, s:o}", "reviewer", x->reviewer_email,
				  "name", x->reviewer_name, "partner", x->reviewer_partner,
				  "decision", x->decision ? json_string(x->decision) : json_null(),
				  "comment", x->comment ? x->comment : "", "decided_at",
				  apijson_time(x->decided_at)));
		json_object_set_new(json_array_get(arr, json_array_size(arr) - 1), "attachment",
				    file_json(call, x->attachment_node, x->attachment_version,
					      x->attachment_blob));
	}
	return json_pack("{s:I, s:s, s:I, s:s, s:o, s:o, s:o, s:o}", "id", (json_int_t)r->id,
			 "deliverable", r->code, "version", (json_int_t)r->version, "sha256",
			 r->blob, "due_date", r->due_date ? json_string(r->due_date) : json_null(),
			 "started_by",
			 r->started_by_email ? json_string(r->started_by_email) : json_null(),
			 "started_at", apijson_time(r->started_at), "decisions", arr);
}

/* GET /api/v1/deliverables/{code}: the record with every review. */
void h_deliverable_get(struct call *call)
{
	struct dlv d;
	struct dlv_review *r = NULL;
	size_t n = 0;
	json_t *o, *arr;
	char now[11];
	enum err rc = load(call, &d);

	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	today(now);
	rc = dlv_reviews(worker_db(call->worker), d.id, &r, &n);
	if (rc) {
		dlv_clear(&d);
		reply_err(call->req, rc);
		return;
	}
	o = dlv_json(call, &d, now);
	arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, review_json(call, &r[i]));
	json_object_set_new(o, "reviews", arr);
	json_object_set_new(
		o, "may_edit",
		json_boolean(acl_deliverable_edit(call, d.wp_id, d.lead_partner_id) == ERR_OK));
	json_object_set_new(o, "may_sign_off",
			    json_boolean(acl_deliverable_sign_off(call) == ERR_OK));
	err_clear();
	reply_json(call->req, 200, json_pack("{s:o}", "deliverable", o));
	dlv_reviews_free(r, n);
	dlv_clear(&d);
}

static enum err audit(struct call *call, const char *action, int64_t wp_id, const char *object,
		      const char *detail)
{
	return audit_append(worker_db(call->worker), call->caller->user_id, call->caller->email,
			    http_req_peer(call->req), action, wp_id, object, detail);
}

/* PATCH /api/v1/deliverables/{code} {"document","status","submitted_on",
 * "title","due_date"}. */
void h_deliverable_patch(struct call *call)
{
	static const char *const statuses[] = {
		"planned",   "drafting", "in_review",          "approved",
		"submitted", "accepted", "revision_requested", NULL};
	struct db *db = worker_db(call->worker);
	const char *document = NULL, *submitted = NULL, *title = NULL, *due = NULL;
	bool has_doc = false, has_status = false, has_sub = false, has_title = false,
	     has_due = false;
	int status = -1;
	struct jsonin_field fl[] = {
		{"document", JSONIN_STRING, JSONIN_NULLABLE, 1, 4096, .out = &document,
		 .present = &has_doc},
		{"status", JSONIN_ENUM, 0, 0, 0, .choices = statuses, .out = &status,
		 .present = &has_status},
		{"submitted_on", JSONIN_STRING, JSONIN_NULLABLE, 10, 10, .out = &submitted,
		 .present = &has_sub},
		{"title", JSONIN_STRING, 0, 1, 500, .out = &title, .present = &has_title},
		{"due_date", JSONIN_STRING, JSONIN_NULLABLE, 10, 10, .out = &due,
		 .present = &has_due},
	};
	struct dlv_change ch = {0};
	struct tree_node node = {0};
	struct name_path np = {0};
	char detail[256], now[11];
	struct dlv d;
	enum err rc = jsonin_parse(call->json, fl, sizeof fl / sizeof fl[0]);

	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	if (!has_doc && !has_status && !has_sub && !has_title && !has_due) {
		reply_err(call->req, err_set(ERR_INVALID, "nothing to change"));
		return;
	}
	rc = load(call, &d);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	today(now);
	/* who: sign-off steps are the coordinator's, the rest the lead's */
	if (has_status && status >= 3)
		rc = acl_deliverable_sign_off(call);
	if (!rc && (has_doc || has_title || has_due || (has_status && status < 3) || has_sub))
		rc = acl_deliverable_edit(call, d.wp_id, d.lead_partner_id);
	if (rc)
		goto out;
	if (has_status && status == 2) {
		rc = err_set(ERR_INVALID, "a review is started with POST .../reviews");
		goto out;
	}
	if (has_status && status == 3) {
		const char *state = review_state(&d);

		if (!strcmp(state, "approved_version_differs"))
			rc = err_set(ERR_CONFLICT, "approved version differs from the current one: "
						   "start a new review of the current version");
		else if (strcmp(state, "approved"))
			rc = err_set(ERR_CONFLICT,
				     "every reviewer must approve the current version first "
				     "(review: %s)",
				     state);
	}
	if (!rc && has_status && status == 4 && strcmp(d.status, "approved") &&
	    strcmp(d.status, "revision_requested"))
		rc = err_set(ERR_CONFLICT, "only an approved deliverable is submitted (it is %s)",
			     d.status);
	if (!rc && has_status && (status == 5 || status == 6) && strcmp(d.status, "submitted"))
		rc = err_set(ERR_CONFLICT,
			     "the Commission's answer is recorded on a submitted deliverable");
	if (rc)
		goto out;
	if (has_doc && document) {
		rc = name_path_from_text(document, &np);
		if (!rc)
			rc = tree_resolve(db, d.wp_id, &np, &node);
		if (rc == ERR_NOTFOUND)
			rc = err_set(ERR_INVALID, "document '%.200s' does not exist in %s",
				     document, d.wp_code);
		if (rc)
			goto out;
		ch.node_id = node.id;
	}
	ch.set_node = has_doc;
	ch.set_status = has_status;
	ch.status = has_status ? statuses[status] : NULL;
	ch.set_submitted_on = has_sub || (has_status && status == 4);
	ch.submitted_on = has_sub ? submitted : (has_status && status == 4 ? now : NULL);
	ch.set_title = has_title;
	ch.title = title;
	ch.set_due_date = has_due;
	ch.due_date = due;
	rc = db_begin(db);
	if (rc)
		goto out;
	rc = dlv_update(db, d.id, &ch);
	if (!rc) {
		snprintf(detail, sizeof detail, "%s%s%s%s%s%.150s", has_status ? "status " : "",
			 has_status ? statuses[status] : "", has_sub ? " submitted_on " : "",
			 has_sub && submitted ? submitted : "", has_doc ? " document " : "",
			 has_doc ? (document ? document : "none") : "");
		rc = audit(call, "deliverable_update", d.wp_id, d.code, detail);
	}
	if (!rc)
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
out:
	name_path_free(&np);
	tree_node_clear(&node);
	if (!rc) {
		dlv_clear(&d);
		rc = dlv_get(db, call_param(call, "code"), &d);
		if (!rc)
			reply_json(call->req, 200,
				   json_pack("{s:o}", "deliverable", dlv_json(call, &d, now)));
	}
	if (rc)
		reply_err(call->req, rc);
	dlv_clear(&d);
}

/* Add user `u` as a reviewer after the policy's check. */
static enum err add_reviewer(struct call *call, const struct dlv *d, const struct acct_user *u,
			     int64_t *ids, size_t *n)
{
	enum err rc;

	for (size_t i = 0; i < *n; i++)
		if (ids[i] == u->id)
			return ERR_OK; /* named and in a named partner */
	rc = acl_reviewer_eligible(call, u->id, u->partner_id, d->wp_id, d->lead_partner_id,
				   u->email);
	if (rc)
		return rc;
	if (*n == MAX_REVIEWERS)
		return err_set(ERR_INVALID, "at most %d reviewers", MAX_REVIEWERS);
	ids[(*n)++] = u->id;
	return ERR_OK;
}

/* POST /api/v1/deliverables/{code}/reviews {"version"?, "reviewers"?:
 * [emails], "partners"?: [short names], "due"?}. */
void h_review_start(struct call *call)
{
	struct db *db = worker_db(call->worker);
	json_t *reviewers = json_object_get(call->json, "reviewers");
	json_t *partners = json_object_get(call->json, "partners");
	json_t *ver = json_object_get(call->json, "version");
	json_t *due = json_object_get(call->json, "due");
	int64_t ids[MAX_REVIEWERS], rid = 0, version = 0;
	struct tree_version v = {0};
	struct acct_user *all = NULL;
	size_t n = 0, nall = 0, idx;
	char detail[2048];
	const char *key;
	json_t *val;
	struct dlv d;
	enum err rc = ERR_OK;

	json_object_foreach(call->json, key, val)
	{
		if (strcmp(key, "reviewers") && strcmp(key, "partners") && strcmp(key, "version") &&
		    strcmp(key, "due")) {
			reply_err(call->req, err_set(ERR_INVALID, "unknown field '%.40s'", key));
			return;
		}
	}
	if ((reviewers && !json_is_array(reviewers)) || (partners && !json_is_array(partners)) ||
	    (ver && !json_is_integer(ver)) || (due && !json_is_null(due) && !json_is_string(due))) {
		reply_err(call->req,
			  err_set(ERR_INVALID, "reviewers and partners are arrays of strings, "
					       "version an integer, due a date YYYY-MM-DD"));
		return;
	}
	if (due && json_is_string(due) && !dlv_date_valid(json_string_value(due))) {
		reply_err(call->req, err_set(ERR_INVALID, "field 'due' must be a date YYYY-MM-DD"));
		return;
	}
	if (ver)
		version = json_integer_value(ver);
	rc = load(call, &d);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	rc = acl_review_start(call, d.wp_id, d.lead_partner_id);
	if (rc)
		goto out;
	if (!d.node_id || !d.node_version) {
		rc = err_set(ERR_CONFLICT, "%s has no document yet: link its document first",
			     d.code);
		goto out;
	}
	if (version < 0) {
		rc = err_set(ERR_INVALID, "field 'version' must be a version number");
		goto out;
	}
	rc = tree_version_get(db, d.wp_id, d.node_id, version, &v);
	if (rc == ERR_NOTFOUND)
		rc = err_set(ERR_INVALID, "the document has no version %lld", (long long)version);
	if (rc)
		goto out;
	json_array_foreach(reviewers, idx, val)
	{
		struct acct_user u;

		if (!json_is_string(val)) {
			rc = err_set(ERR_INVALID, "reviewers are emails");
			break;
		}
		rc = acct_user_by_email(db, json_string_value(val), &u);
		if (rc == ERR_NOTFOUND)
			rc = err_set(ERR_INVALID, "no user '%.80s'", json_string_value(val));
		if (rc)
			break;
		rc = u.disabled ? err_set(ERR_INVALID, "user %.80s is disabled", u.email)
				: add_reviewer(call, &d, &u, ids, &n);
		acct_user_clear(&u);
		if (rc)
			break;
	}
	if (!rc && partners && json_array_size(partners)) {
		rc = acct_user_list(db, &all, &nall);
		json_array_foreach(partners, idx, val)
		{
			int64_t pid;
			size_t found = 0;

			if (rc)
				break;
			if (!json_is_string(val)) {
				rc = err_set(ERR_INVALID, "partners are short names");
				break;
			}
			rc = acct_partner_id(db, json_string_value(val), &pid);
			if (rc == ERR_NOTFOUND)
				rc = err_set(ERR_INVALID, "no partner '%.40s'",
					     json_string_value(val));
			if (rc)
				break;
			if (pid == d.lead_partner_id) {
				rc = err_set(ERR_INVALID,
					     "partner %.40s leads the deliverable; internal "
					     "reviewers come from other partners",
					     json_string_value(val));
				break;
			}
			/* every enabled member who can read the work package */
			for (size_t i = 0; i < nall && !rc; i++) {
				int level = 0;

				if (all[i].partner_id != pid || all[i].disabled)
					continue;
				rc = acct_level(db, all[i].id, d.wp_id, &level);
				if (!rc && level >= ACCT_READ) {
					rc = add_reviewer(call, &d, &all[i], ids, &n);
					found++;
				}
			}
			if (!rc && !found)
				rc = err_set(
					ERR_INVALID,
					"no member of %.40s can read %s; grant read access first",
					json_string_value(val), d.wp_code);
		}
	}
	if (rc)
		goto out;
	if (n == 0) {
		rc = err_set(ERR_INVALID, "name reviewers (emails) and/or partners");
		goto out;
	}
	rc = db_begin(db);
	if (rc)
		goto out;
	rc = dlv_review_start(db, d.id, d.node_id, v.number, v.blob,
			      due && json_is_string(due) ? json_string_value(due) : NULL,
			      call->caller->user_id, ids, n, &rid);
	if (!rc) {
		struct dlv_review r;

		rc = dlv_review_get(db, d.id, rid, &r);
		if (!rc) {
			size_t len =
				(size_t)snprintf(detail, sizeof detail,
						 "review %lld of version %lld sha256 %s; reviewers",
						 (long long)rid, (long long)v.number, v.blob);

			for (size_t i = 0; i < r.n_decisions && len < sizeof detail; i++)
				len += (size_t)snprintf(detail + len, sizeof detail - len, " %s",
							r.decisions[i].reviewer_email);
			dlv_review_clear(&r);
			rc = audit(call, "review_start", d.wp_id, d.code, detail);
		}
	}
	/* the reviewers' task by mail, with the review or not at all */
	if (!rc)
		rc = dlvremind_review_started(db, worker_config(call->worker), rid, NULL);
	if (!rc)
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
	else
		mail_wake();
out:
	acct_users_free(all, nall);
	tree_version_clear(&v);
	if (!rc) {
		struct dlv_review r;

		rc = dlv_review_get(db, d.id, rid, &r);
		if (!rc) {
			reply_json(call->req, 201,
				   json_pack("{s:o}", "review", review_json(call, &r)));
			dlv_review_clear(&r);
		}
	}
	if (rc)
		reply_err(call->req, rc);
	dlv_clear(&d);
}

static enum err load_review(struct call *call, struct dlv *d, struct dlv_review *r)
{
	int64_t id;
	enum err rc;

	memset(r, 0, sizeof *r);
	rc = load(call, d);
	if (rc)
		return rc;
	if (!apijson_parse_id(call_param(call, "id"), &id))
		rc = err_set(ERR_NOTFOUND, "no such review");
	else
		rc = dlv_review_get(worker_db(call->worker), d->id, id, r);
	if (rc)
		dlv_clear(d);
	return rc;
}

/* GET /api/v1/deliverables/{code}/reviews/{id}[?format=csv]: the review
 * record, one CSV line per reviewer. */
void h_review_get(struct call *call)
{
	const char *format = http_req_query_param(call->req, "format");
	struct dlv_review r;
	struct dlv d;
	enum err rc;

	if (format && strcmp(format, "json") && strcmp(format, "csv")) {
		reply_err(call->req,
			  err_set(ERR_INVALID, "parameter 'format' must be json or csv"));
		return;
	}
	rc = load_review(call, &d, &r);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	if (format && !strcmp(format, "csv")) {
		static const char *const head[] = {
			"review",     "deliverable",        "version",          "sha256",
			"started_by", "started_at",         "due_date",         "reviewer",
			"partner",    "decision",           "comment",          "decided_at",
			"attachment", "attachment_version", "attachment_sha256"};
		char *buf = NULL, num[24], ver[24], t1[32], t2[32], av[24];
		size_t len = 0, cap = 0;

		for (size_t i = 0; i < 15 && !rc; i++)
			rc = csv_put(&buf, &len, &cap, head[i], i == 14);
		snprintf(num, sizeof num, "%lld", (long long)r.id);
		snprintf(ver, sizeof ver, "%lld", (long long)r.version);
		for (size_t i = 0; i < r.n_decisions && !rc; i++) {
			const struct dlv_decision *x = &r.decisions[i];
			char *apath = NULL;

			if (x->attachment_node)
				tree_path(worker_db(call->worker), x->attachment_node, &apath);
			err_clear();
			snprintf(av, sizeof av, "%lld", (long long)x->attachment_version);
			const char *row[] = {num,
					     r.code,
					     ver,
					     r.blob,
					     r.started_by_email,
					     apijson_time_text(r.started_at, t1),
					     r.due_date,
					     x->reviewer_email,
					     x->reviewer_partner,
					     x->decision ? x->decision : "pending",
					     x->comment,
					     apijson_time_text(x->decided_at, t2),
					     apath ? apath : "",
					     x->attachment_blob ? av : "",
					     x->attachment_blob ? x->attachment_blob : ""};

			for (size_t k = 0; k < 15 && !rc; k++)
				rc = csv_put(&buf, &len, &cap, row[k], k == 14);
			free(apath);
		}
		if (!rc) {
			reply_api_headers(call->req);
			http_resp_header(call->req, "Content-Type", "text/csv; charset=utf-8");
			http_resp_headerf(call->req, "Content-Disposition",
					  "attachment; filename=\"review-%s-%lld.csv\"", d.code,
					  (long long)r.id);
			http_resp_send(call->req, 200, buf, len);
		} else {
			reply_err(call->req, rc);
		}
		free(buf);
	} else {
		reply_json(call->req, 200, json_pack("{s:o}", "review", review_json(call, &r)));
	}
	dlv_review_clear(&r);
	dlv_clear(&d);
}

/* POST /api/v1/deliverables/{code}/reviews/{id}/decision
 * {"decision": "approve"|"changes", "comment"}. */
void h_review_decide(struct call *call)
{
	static const char *const decisions[] = {"approve", "changes", NULL};
	struct db *db = worker_db(call->worker);
	const char *comment = "";
	int decision = -1;
	struct jsonin_field fl[] = {
		{"decision", JSONIN_ENUM, JSONIN_REQUIRED, 0, 0, .choices = decisions,
		 .out = &decision},
		{"comment", JSONIN_STRING, JSONIN_MULTILINE, 0, 10000, .out = &comment},
	};
	int64_t ids[MAX_REVIEWERS], rid;
	struct dlv_review r;
	char detail[256];
	struct dlv d;
	enum err rc = jsonin_parse(call->json, fl, 2);

	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	if (decision == 1 && !*comment) {
		reply_err(call->req, err_set(ERR_INVALID, "say which changes: field 'comment'"));
		return;
	}
	rc = load_review(call, &d, &r);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	rid = r.id;
	for (size_t i = 0; i < r.n_decisions && i < MAX_REVIEWERS; i++)
		ids[i] = r.decisions[i].reviewer_id;
	rc = acl_review_decide(call, ids,
			       r.n_decisions < MAX_REVIEWERS ? r.n_decisions : MAX_REVIEWERS);
	if (!rc)
		rc = db_begin(db);
	if (!rc) {
		rc = dlv_review_decide(db, r.id, call->caller->user_id, decisions[decision],
				       comment);
		snprintf(detail, sizeof detail, "review %lld of version %lld sha256 %s: %s",
			 (long long)r.id, (long long)r.version, r.blob, decisions[decision]);
		if (!rc)
			rc = audit(call, "review_decision", d.wp_id, d.code, detail);
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	dlv_review_clear(&r);
	if (!rc)
		rc = dlv_review_get(db, d.id, rid, &r);
	if (rc) {
		reply_err(call->req, rc);
	} else {
		reply_json(call->req, 200, json_pack("{s:o}", "review", review_json(call, &r)));
		dlv_review_clear(&r);
	}
	dlv_clear(&d);
}

/* GET /api/v1/me/reviews: the caller's open review tasks (home page),
 * in work packages they can still read. */
void h_my_reviews(struct call *call)
{
	struct dlv_review *r = NULL;
	int64_t *ids = NULL;
	size_t n = 0, nids = 0;
	json_t *arr;
	enum err rc = acl_readable_wps(call, &ids, &nids);

	if (!rc)
		rc = dlv_tasks(worker_db(call->worker), call->caller->user_id, &r, &n);
	if (rc) {
		free(ids);
		reply_err(call->req, rc);
		return;
	}
	arr = json_array();
	for (size_t i = 0; i < n; i++) {
		bool readable = false;

		for (size_t k = 0; k < nids; k++)
			readable |= ids[k] == r[i].wp_id;
		if (readable)
			json_array_append_new(arr, review_json(call, &r[i]));
	}
	reply_json(call->req, 200, json_pack("{s:o}", "reviews", arr));
	dlv_reviews_free(r, n);
	free(ids);
}

/* --- files: a reviewer's annotated file, the submitted PDF ---------------------
 *
 * Both arrive as the raw body of a PUT (at most review-file-max bytes,
 * held in memory while they arrive) and are stored through docput, the
 * one upload path: quota, the malware scan, dedup, versions and the
 * "upload" audit record apply as to any upload. They are documents of
 * the deliverable's work package, so whoever can read the deliverable
 * can read them, and they keep versions (a second file of the same name
 * is a new version). The link to the review or the submission is made
 * in one transaction with its own audit record once the upload is in. */

struct file_put {
	struct call *call;
	unsigned char *buf; /* malloc'd; passes to docput */
	size_t len, cap;
	uint64_t max;
	int64_t dlv_id, wp_id, review_id;
	char code[DLV_CODE_MAX];
	char on[11];         /* submission date */
	char *path;          /* in the request arena */
	struct name_path np; /* moved into docput */
	bool pdf_only;
	docput_answer_fn linked; /* the link once the upload is in */
};

static enum err file_data(struct http_req *req, const void *data, size_t len, void *arg)
{
	struct file_put *fp = arg;

	if (fp->len + len > fp->max) {
		reply_err(req, err_set(ERR_TOOLARGE, "the file may have at most %llu bytes",
				       (unsigned long long)fp->max));
		free(fp->buf);
		fp->buf = NULL;
		name_path_free(&fp->np);
		return ERR_TOOLARGE;
	}
	if (fp->cap - fp->len < len) {
		size_t cap = fp->cap ? fp->cap : 64 * 1024;
		unsigned char *p;

		while (cap - fp->len < len)
			cap *= 2;
		if (cap > fp->max)
			cap = (size_t)fp->max;
		p = realloc(fp->buf, cap);
		if (!p) {
			reply_err(req, err_set(ERR_NOMEM, "out of memory"));
			free(fp->buf);
			fp->buf = NULL;
			name_path_free(&fp->np);
			return ERR_NOMEM;
		}
		fp->buf = p;
		fp->cap = cap;
	}
	memcpy(fp->buf + fp->len, data, len);
	fp->len += len;
	return ERR_OK;
}

static void file_end(struct http_req *req, void *arg)
{
	struct file_put *fp = arg;
	struct cas_writer *w = NULL;
	enum err rc = ERR_OK;

	if (fp->len == 0)
		rc = err_set(ERR_INVALID, "the file is empty");
	else if (fp->pdf_only && (fp->len < 5 || memcmp(fp->buf, "%PDF-", 5)))
		rc = err_set(ERR_UNSUPPORTED, "the submitted file must be a PDF");
	if (!rc)
		rc = tree_quota_check(worker_db(fp->call->worker), fp->wp_id, fp->len);
	if (!rc)
		rc = cas_writer_new(app_cas(worker_app(fp->call->worker)), fp->len, &w);
	if (rc) {
		reply_err(req, rc);
		free(fp->buf);
		name_path_free(&fp->np);
		return;
	}
	struct docput_req r = {
		.call = fp->call,
		.w = w,
		.tail = fp->buf,
		.tail_len = fp->len,
		.wp_id = fp->wp_id,
		.path = fp->np,
		.head = fp->buf,
		.head_len = fp->len < MIME_HEAD_BYTES ? fp->len : MIME_HEAD_BYTES,
		.answer = fp->linked,
		.arg = fp,
	};
	fp->buf = NULL;
	memset(&fp->np, 0, sizeof fp->np);
	docput_commit(&r);
}

static void file_abort(struct http_req *req, void *arg)
{
	struct file_put *fp = arg;

	(void)req;
	free(fp->buf);
	fp->buf = NULL;
	name_path_free(&fp->np);
}

static const struct http_body_sink file_sink = {file_data, file_end, file_abort};

/* A file_put in the request arena (it lives exactly as long as the
 * request; docput answers only while the request is alive), or NULL
 * after answering. Checks what can be told before any byte is read. */
static struct file_put *file_begin(struct call *call, const struct dlv *d, const char *path)
{
	struct file_put *fp = http_req_alloc(call->req, sizeof *fp);
	int64_t declared = http_req_body_length(call->req);
	enum err rc = ERR_OK;

	if (!fp) {
		reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
		return NULL;
	}
	memset(fp, 0, sizeof *fp);
	fp->call = call;
	fp->max = worker_config(call->worker)->review_file_max;
	fp->dlv_id = d->id;
	fp->wp_id = d->wp_id;
	snprintf(fp->code, sizeof fp->code, "%s", d->code);
	fp->path = http_req_strndup(call->req, path, strlen(path));
	if (declared > 0 && (uint64_t)declared > fp->max)
		rc = err_set(ERR_TOOLARGE, "the file may have at most %llu bytes",
			     (unsigned long long)fp->max);
	if (!rc && !fp->path)
		rc = err_set(ERR_NOMEM, "out of memory");
	if (!rc) {
		rc = name_path_from_text(path, &fp->np);
		if (rc)
			rc = err_set(ERR_INVALID, "file name: %s", err_detail());
	}
	/* the rules of any write: not into an archived work package, not
	 * over someone else's check-out */
	if (!rc)
		rc = acl_wp_writable(worker_db(call->worker), d->wp_id, d->wp_code);
	if (!rc)
		rc = acl_lock_check(call, d->wp_id, &fp->np, false);
	if (!rc)
		rc = tree_quota_check(worker_db(call->worker), d->wp_id,
				      declared > 0 ? (uint64_t)declared : 0);
	if (rc) {
		name_path_free(&fp->np);
		reply_err(call->req, rc);
		return NULL;
	}
	return fp;
}

static void attach_linked(struct call *call, enum err rc, const struct docput_result *res,
			  void *arg)
{
	struct file_put *fp = arg;
	struct db *db = worker_db(call->worker);
	struct dlv_review r;
	char detail[600];

	if (!rc)
		rc = db_begin(db);
	if (!rc) {
		rc = dlv_decision_attach(db, fp->review_id, call->caller->user_id, res->node_id,
					 res->version, res->hash);
		snprintf(detail, sizeof detail, "review %lld: file %.400s version %lld sha256 %s",
			 (long long)fp->review_id, fp->path, (long long)res->version, res->hash);
		if (!rc)
			rc = audit(call, "review_attachment", fp->wp_id, fp->code, detail);
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	if (!rc)
		rc = dlv_review_get(db, fp->dlv_id, fp->review_id, &r);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	reply_json(call->req, 200, json_pack("{s:o}", "review", review_json(call, &r)));
	dlv_review_clear(&r);
}

/* PUT /api/v1/deliverables/{code}/reviews/{id}/attachment?name=FILE: a
 * reviewer's annotated file, kept as "Reviews/<code>/review <id>
 * <email> <name>" in the deliverable's work package and linked from
 * their answer. Reviewers only need read access to the work package:
 * the server stores the file for them (acl_review_decide). */
void h_review_attach(struct call *call)
{
	const char *name = http_req_query_param(call->req, "name");
	struct file_put *fp;
	struct dlv_review r;
	int64_t ids[MAX_REVIEWERS];
	size_t n;
	char *path = NULL;
	struct dlv d;
	enum err rc;

	if (!name || !*name || strchr(name, '/') || strlen(name) > 200) {
		reply_err(call->req, err_set(ERR_INVALID, "parameter 'name' must be a file name "
							  "(no '/', at most 200 bytes)"));
		return;
	}
	rc = load_review(call, &d, &r);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	n = r.n_decisions < MAX_REVIEWERS ? r.n_decisions : MAX_REVIEWERS;
	for (size_t i = 0; i < n; i++)
		ids[i] = r.decisions[i].reviewer_id;
	rc = acl_review_decide(call, ids, n);
	if (!rc)
		rc = dlv_review_latest(worker_db(call->worker), r.id);
	if (!rc && asprintf(&path, "%s/%s/review %lld %s %s", REVIEWS_FOLDER, d.code,
			    (long long)r.id, call->caller->email, name) < 0)
		rc = err_set(ERR_NOMEM, "out of memory");
	if (rc) {
		reply_err(call->req, rc);
	} else if ((fp = file_begin(call, &d, path))) {
		fp->review_id = r.id;
		fp->linked = attach_linked;
		http_req_read_body(call->req, &file_sink, fp);
	}
	free(path);
	dlv_review_clear(&r);
	dlv_clear(&d);
}

static void submit_linked(struct call *call, enum err rc, const struct docput_result *res,
			  void *arg)
{
	struct file_put *fp = arg;
	struct db *db = worker_db(call->worker);
	char detail[600], now[11];
	struct dlv d;

	if (!rc)
		rc = db_begin(db);
	if (!rc) {
		rc = dlv_submit(db, fp->dlv_id, fp->on, res->node_id, res->version, res->hash);
		snprintf(detail, sizeof detail,
			 "status submitted submitted_on %s; file %.400s version %lld sha256 %s",
			 fp->on, fp->path, (long long)res->version, res->hash);
		if (!rc)
			rc = audit(call, "deliverable_submit", fp->wp_id, fp->code, detail);
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	if (!rc)
		rc = dlv_get(db, fp->code, &d);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	today(now);
	reply_json(call->req, 200, json_pack("{s:o}", "deliverable", dlv_json(call, &d, now)));
	dlv_clear(&d);
}

/* PUT /api/v1/deliverables/{code}/submission[?submitted_on=DATE] (the
 * PDF as body): the coordinator marks an approved deliverable submitted
 * with the PDF sent to the Commission, kept as "<code> submitted.pdf"
 * beside the deliverable's document (a sibling, not a version of it:
 * the document's versions are the drafts the review's content hash
 * refers to, and a PDF version there would make the approved version
 * "differ" and the next diff compare a PDF with a DOCX). A second
 * submission (after revision_requested) is a new version of it. */
void h_deliverable_submit(struct call *call)
{
	const char *on = http_req_query_param(call->req, "submitted_on");
	struct db *db = worker_db(call->worker);
	struct file_put *fp;
	char *docpath = NULL, *path = NULL, *slash;
	struct dlv d;
	enum err rc;

	if (on && !dlv_date_valid(on)) {
		reply_err(call->req, err_set(ERR_INVALID,
					     "parameter 'submitted_on' must be a date YYYY-MM-DD"));
		return;
	}
	rc = load(call, &d);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	rc = acl_deliverable_sign_off(call);
	if (!rc && strcmp(d.status, "approved") && strcmp(d.status, "revision_requested"))
		rc = err_set(ERR_CONFLICT, "only an approved deliverable is submitted (it is %s)",
			     d.status);
	if (!rc && d.node_id)
		rc = tree_path(db, d.node_id, &docpath);
	if (!rc) {
		slash = docpath ? strrchr(docpath, '/') : NULL;
		if (asprintf(&path, "%.*s%s%s submitted.pdf", slash ? (int)(slash - docpath) : 0,
			     docpath ? docpath : "", slash ? "/" : "", d.code) < 0)
			rc = err_set(ERR_NOMEM, "out of memory");
	}
	if (rc) {
		reply_err(call->req, rc);
	} else if ((fp = file_begin(call, &d, path))) {
		if (on)
			snprintf(fp->on, sizeof fp->on, "%s", on);
		else
			today(fp->on);
		fp->pdf_only = true;
		fp->linked = submit_linked;
		http_req_read_body(call->req, &file_sink, fp);
	}
	free(docpath);
	free(path);
	dlv_clear(&d);
}
