/*
 * h_wps — work packages and the grants on them. A coordinator creates
 * work packages; whoever manages one (its lead, a coordinator) decides
 * who may read, write or manage it. Grants carry only a level on one WP:
 * nothing here can make anyone a coordinator.
 */
#include <inttypes.h>
#include <jansson.h>
#include <string.h>

#include "accounts.h"
#include "api/acl.h"
#include "api/apijson.h"
#include "api/auth.h"
#include "db.h"
#include "indexq.h"
#include "links.h"
#include "lang.h"
#include "api/handlers.h"
#include "http/http.h"
#include "http/jsonin.h"
#include "http/jsonout.h"
#include "http/reply.h"
#include "api/router.h"
#include "api/app.h"
#include "tree.h"

/* GET /api/v1/wps: the WPs the caller can see, each with their level.
 * The app loads this on every page, so it is written with jsonout. */
void h_wps_list(struct call *call)
{
	struct acct_wp *ws;
	struct jsonout *j;
	size_t n;
	enum err rc = acl_readable_wp_list(call, &ws, &n);

	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	j = jsonout_new();
	if (!j) {
		acct_wps_free(ws, n);
		reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
		return;
	}
	jsonout_obj(j);
	jsonout_key(j, "wps");
	jsonout_arr(j);
	for (size_t i = 0; i < n; i++) {
		jsonout_obj(j);
		jsonout_kstr(j, "code", ws[i].code);
		jsonout_kstr(j, "title", ws[i].title);
		jsonout_kstr(j, "lead", ws[i].lead_short);
		jsonout_ktime(j, "created_at", ws[i].created_at);
		jsonout_kstr(j, "level", acct_level_name(ws[i].level));
		jsonout_kbool(j, "archived", ws[i].archived_at != 0);
		jsonout_end(j);
	}
	jsonout_end(j);
	jsonout_end(j);
	acct_wps_free(ws, n);
	jsonout_reply(call->req, 200, j);
}

static json_t *int_or_null(int64_t v) { return v >= 0 ? json_integer(v) : json_null(); }

/* A work package with its own settings (null: the server's default) and
 * its usage against the quota in force: the settings panel's figures. */
static enum err wp_full_json(struct call *call, int64_t wp_id, json_t **out)
{
	struct db *db = worker_db(call->worker);
	struct tree_wp_stats u;
	struct link_policy lp;
	struct acct_wp w;
	json_t *o;
	enum err rc = acct_wp_get(db, wp_id, &w);

	*out = NULL;
	if (!rc)
		rc = tree_wp_stats(db, wp_id, &u);
	if (rc) {
		acct_wp_clear(&w);
		return rc;
	}
	o = apijson_wp(&w, call->wp_level);
	if (o) {
		json_object_set_new(o, "quota", int_or_null(w.quota_bytes));
		json_object_set_new(o, "keep_versions", int_or_null(w.keep_versions));
		json_object_set_new(o, "keep_days", int_or_null(w.keep_days));
		json_object_set_new(o, "archived_at",
				    w.archived_at ? apijson_time(w.archived_at) : json_null());
		json_object_set_new(o, "language",
				    w.language ? json_string(w.language) : json_null());
		if (!link_policy_get(db, wp_id, &lp)) {
			json_object_set_new(o, "links", json_string(link_mode_names[lp.mode]));
			json_object_set_new(o, "links_max_days", json_integer(lp.max_days));
			json_object_set_new(o, "links_password",
					    json_boolean(lp.password_required));
		}
		json_object_set_new(
			o, "usage",
			json_pack("{s:I, s:o, s:I, s:I, s:{s:I, s:I}}", "bytes", (json_int_t)u.used,
				  "quota",
				  u.limited ? json_integer((json_int_t)u.quota) : json_null(),
				  "documents", (json_int_t)u.documents, "versions",
				  (json_int_t)u.versions, "trash", "entries",
				  (json_int_t)u.trash_entries, "bytes", (json_int_t)u.trash_bytes));
	}
	acct_wp_clear(&w);
	if (!o)
		return err_set(ERR_NOMEM, "out of memory");
	*out = o;
	return ERR_OK;
}

/* GET /api/v1/wps/{wp} */
void h_wp_get(struct call *call)
{
	json_t *o;
	enum err rc = wp_full_json(call, call->wp_id, &o);

	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	reply_json(call->req, 200, json_pack("{s:o}", "wp", o));
}

/* A nullable integer member of a PATCH: absent leaves it, null gives
 * the server's default back (-1), a number sets it. */
static void nullable_member(const json_t *body, const char *name, bool given, int64_t value,
			    bool *set, int64_t *out)
{
	*set = given || json_is_null(json_object_get(body, name));
	*out = given ? value : -1;
}

/* The audit detail of a change: "title, quota=300000000, archived=yes". */
static void change_detail(const struct acct_wp_change *c, const char *lead, char *buf, size_t size)
{
	size_t len = 0;

#define ADD(...) len += (size_t)snprintf(buf + len, len < size ? size - len : 0, __VA_ARGS__)
	buf[0] = '\0';
	if (c->set_title)
		ADD("%stitle=%s", len ? ", " : "", c->title);
	if (c->set_lead)
		ADD("%slead=%s", len ? ", " : "", lead ? lead : "none");
	if (c->set_quota)
		ADD("%squota=%s%lld", len ? ", " : "", c->quota_bytes < 0 ? "default" : "",
		    c->quota_bytes < 0 ? 0LL : (long long)c->quota_bytes);
	if (c->set_keep_versions)
		ADD("%skeep_versions=%lld", len ? ", " : "", (long long)c->keep_versions);
	if (c->set_keep_days)
		ADD("%skeep_days=%lld", len ? ", " : "", (long long)c->keep_days);
	if (c->set_archived)
		ADD("%sarchived=%s", len ? ", " : "", c->archived ? "yes" : "no");
	if (c->set_language)
		ADD("%slanguage=%s", len ? ", " : "", c->language ? c->language : "default");
#undef ADD
}

/* The share-link policies a PATCH may set, in link_mode_names' order. */
static const char *const link_modes_offered[] = {"off", "download", "drop", NULL};

/* PATCH /api/v1/wps/{wp}[?dry_run=1] {"title","lead","quota","keep_versions",
 * "keep_days","archived","language"}: any of them. title, lead and
 * language for the work package's managers, the rest for coordinators
 * (acl_wp_settings). A retention change applies at once, in the same
 * transaction; with dry_run nothing changes and the answer says what it
 * would remove. A language change queues the work package's documents
 * for indexing again (the root folder's row stands for all of them):
 * those indexed under the fallback language get their new stems. */
void h_wp_patch(struct call *call)
{
	struct db *db = worker_db(call->worker);
	const char *dry = http_req_query_param(call->req, "dry_run");
	const char *title = NULL, *lead = NULL, *language = NULL;
	int64_t quota = 0, keep_versions = 0, keep_days = 0, lead_id = 0;
	bool archived = false, has_title = false, has_lead = false, has_quota = false,
	     has_kv = false, has_kd = false, has_archived = false, has_language = false;
	/* the share-link policy (docs/links.md): its managers set it */
	int link_mode = 0;
	int64_t links_max_days = 0;
	bool links_password = false, has_links = false, has_links_days = false,
	     has_links_password = false;
	struct jsonin_field f[] = {
		{"title", JSONIN_STRING, 0, 1, 200, .out = &title, .present = &has_title},
		{"lead", JSONIN_STRING, JSONIN_NULLABLE, 1, 32, .out = &lead, .present = &has_lead},
		{"quota", JSONIN_INT, JSONIN_NULLABLE, 0, INT64_C(1) << 50, .out = &quota,
		 .present = &has_quota},
		{"keep_versions", JSONIN_INT, JSONIN_NULLABLE, 0, 1000000, .out = &keep_versions,
		 .present = &has_kv},
		{"keep_days", JSONIN_INT, JSONIN_NULLABLE, 0, 36500, .out = &keep_days,
		 .present = &has_kd},
		{"archived", JSONIN_BOOL, 0, .out = &archived, .present = &has_archived},
		{"language", JSONIN_STRING, JSONIN_NULLABLE, 1, 16, .out = &language,
		 .present = &has_language},
		{"links", JSONIN_ENUM, 0, .choices = link_modes_offered, .out = &link_mode,
		 .present = &has_links},
		{"links_max_days", JSONIN_INT, 0, 1, LINK_MAX_DAYS_CAP, .out = &links_max_days,
		 .present = &has_links_days},
		{"links_password", JSONIN_BOOL, 0, .out = &links_password,
		 .present = &has_links_password},
	};
	struct link_policy lp = {0};
	bool set_links = false;
	struct acct_wp_change c = {0};
	struct acct_wp w = {0};
	uint64_t versions = 0, bytes = 0;
	bool dry_run = false;
	json_t *o = NULL;
	char detail[600];
	enum err rc = jsonin_parse(call->json, f, sizeof f / sizeof f[0]);

	if (!rc && dry) {
		if (!strcmp(dry, "1") || !strcmp(dry, "true"))
			dry_run = true;
		else if (strcmp(dry, "0") && strcmp(dry, "false"))
			rc = err_set(ERR_INVALID, "dry_run must be 1 or 0");
	}
	if (!rc) {
		c.set_title = has_title;
		c.title = title;
		c.set_lead = has_lead || json_is_null(json_object_get(call->json, "lead"));
		nullable_member(call->json, "quota", has_quota, quota, &c.set_quota,
				&c.quota_bytes);
		nullable_member(call->json, "keep_versions", has_kv, keep_versions,
				&c.set_keep_versions, &c.keep_versions);
		nullable_member(call->json, "keep_days", has_kd, keep_days, &c.set_keep_days,
				&c.keep_days);
		c.set_archived = has_archived;
		c.archived = archived;
		c.set_language =
			has_language || json_is_null(json_object_get(call->json, "language"));
		c.language = language;
		if (!json_object_size(call->json))
			rc = err_set(ERR_INVALID,
				     "nothing to change: give at least one of title, "
				     "lead, quota, keep_versions, keep_days, archived, language, "
				     "links, links_max_days, links_password");
		else if (language && strcmp(lang_normalize(language, strlen(language)), language))
			rc = err_set(ERR_INVALID,
				     "field 'language': '%s' is not a language code consort "
				     "stems (such as de, fr, sv; null: the server's default)",
				     language);
	}
	if (!rc)
		rc = acl_wp_settings(call, c.set_quota || c.set_keep_versions || c.set_keep_days ||
						   c.set_archived);
	if (!rc && lead) {
		rc = acct_partner_id(db, lead, &lead_id);
		if (rc == ERR_NOTFOUND)
			rc = err_set(ERR_INVALID, "field 'lead': no partner '%s'", lead);
		c.lead_partner_id = lead_id;
	}
	if (!rc)
		rc = db_begin(db);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	rc = acct_wp_get(db, call->wp_id, &w);
	set_links = has_links || has_links_days || has_links_password;
	if (!rc && set_links) {
		rc = link_policy_get(db, call->wp_id, &lp);
		if (has_links)
			lp.mode = (enum link_mode)link_mode;
		if (has_links_days)
			lp.max_days = links_max_days;
		if (has_links_password)
			lp.password_required = links_password;
	}
	if (!rc)
		rc = tree_retention_preview(
			db, call->wp_id, c.set_keep_versions ? c.keep_versions : w.keep_versions,
			c.set_keep_days ? c.keep_days : w.keep_days, &versions, &bytes);
	if (!rc && !dry_run) {
		uint64_t pruned = 0;

		rc = acct_wp_update(db, call->wp_id, &c, db_now());
		if (!rc && (c.set_keep_versions || c.set_keep_days))
			rc = tree_retention_apply(db, call->wp_id, NULL, NULL, &pruned);
		if (!rc && c.set_language &&
		    strcmp(c.language ? c.language : "", w.language ? w.language : ""))
			rc = indexq_push(db, w.root_id, false);
		if (!rc && set_links)
			rc = link_policy_set(db, call->wp_id, &lp);
		change_detail(&c, lead, detail, sizeof detail);
		if (set_links)
			snprintf(detail + strlen(detail), sizeof detail - strlen(detail),
				 "%slinks=%s, links_max_days=%lld, links_password=%s",
				 detail[0] ? ", " : "", link_mode_names[lp.mode],
				 (long long)lp.max_days, lp.password_required ? "yes" : "no");
		if (!rc)
			rc = auth_audit(call, "wp_update", call->wp_id, w.code, "%s", detail);
		if (!rc && c.set_archived && c.archived != (w.archived_at != 0))
			rc = auth_audit(call, c.archived ? "wp_archive" : "wp_unarchive",
					call->wp_id, w.code, "%s",
					c.archived ? "read-only" : "writable again");
		if (!rc && pruned) {
			rc = auth_audit(call, "retention", call->wp_id, w.code,
					"%" PRIu64 " old versions removed", pruned);
			versions = pruned;
		}
		if (!(c.set_keep_versions || c.set_keep_days))
			versions = bytes = 0;
	}
	/* A dry run answers from inside the transaction and keeps nothing. */
	if (!rc && !dry_run)
		rc = db_commit(db);
	if (rc || dry_run)
		db_rollback(db);
	acct_wp_clear(&w);
	if (!rc)
		rc = wp_full_json(call, call->wp_id, &o);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	reply_json(call->req, 200,
		   json_pack("{s:o, s:b, s:{s:I, s:I}}", "wp", o, "dry_run", dry_run,
			     dry_run ? "would_remove" : "removed", "versions", (json_int_t)versions,
			     "bytes", (json_int_t)bytes));
}

/* POST /api/v1/wps {"code","title"[,"lead"]} */
void h_wp_create(struct call *call)
{
	struct db *db = worker_db(call->worker);
	const char *code = NULL, *title = NULL, *lead = NULL;
	struct jsonin_field f[] = {
		{"code", JSONIN_STRING, JSONIN_REQUIRED, 1, 32, .out = &code},
		{"title", JSONIN_STRING, JSONIN_REQUIRED, 1, 200, .out = &title},
		{"lead", JSONIN_STRING, JSONIN_NULLABLE, 1, 32, .out = &lead},
	};
	int64_t lead_id = 0, id;
	struct acct_wp w;
	enum err rc = jsonin_parse(call->json, f, 3);

	if (!rc)
		rc = acct_check_code("field 'code'", code);
	if (!rc && lead) {
		rc = acct_partner_id(db, lead, &lead_id);
		if (rc == ERR_NOTFOUND)
			rc = err_set(ERR_INVALID, "field 'lead': no partner '%s'", lead);
	}
	if (!rc)
		rc = db_begin(db);
	if (!rc) {
		rc = acct_wp_add(db, code, title, lead_id, call->caller->user_id, &id);
		if (!rc)
			rc = auth_audit(call, "wp_create", id, code, "%s", title);
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	if (!rc)
		rc = acct_wp_get(db, id, &w);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	reply_json(call->req, 201, json_pack("{s:o}", "wp", apijson_wp(&w, ACCT_MANAGE)));
	acct_wp_clear(&w);
}

static json_t *grant_json(const struct acct_grant *g)
{
	if (g->user_id)
		return json_pack("{s:s, s:s, s:s, s:s, s:s?, s:o}", "user", g->email, "name",
				 g->user_name, "partner", g->partner_short ? g->partner_short : "",
				 "level", acct_level_name(g->level), "granted_by", g->granted_by,
				 "granted_at", apijson_time(g->granted_at));
	return json_pack("{s:s, s:s, s:s, s:s?, s:o}", "partner", g->partner_short, "name",
			 g->partner_name, "level", acct_level_name(g->level), "granted_by",
			 g->granted_by, "granted_at", apijson_time(g->granted_at));
}

/* GET /api/v1/wps/{wp}/grants */
void h_grants_list(struct call *call)
{
	struct acct_grant *gs;
	size_t n;
	json_t *arr;
	enum err rc = acct_grant_list(worker_db(call->worker), call->wp_id, &gs, &n);

	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, grant_json(&gs[i]));
	acct_grants_free(gs, n);
	reply_json(call->req, 200,
		   json_pack("{s:s, s:o}", "wp", call_param(call, "wp"), "grants", arr));
}

/* PUT /api/v1/wps/{wp}/grants {"user": EMAIL | "partner": SHORT,
 * "level": none|read|write|manage} */
void h_grant_set(struct call *call)
{
	static const char *const levels[] = {"none", "read", "write", "manage", NULL};
	struct db *db = worker_db(call->worker);
	const char *email = NULL, *partner = NULL;
	int level = 0, old = 0;
	struct jsonin_field f[] = {
		{"user", JSONIN_STRING, 0, 3, 254, .out = &email},
		{"partner", JSONIN_STRING, 0, 1, 32, .out = &partner},
		{"level", JSONIN_ENUM, JSONIN_REQUIRED, .choices = levels, .out = &level},
	};
	struct acct_user u = {0};
	int64_t user_id = 0, partner_id = 0;
	char object[300];
	enum err rc = jsonin_parse(call->json, f, 3);

	if (!rc && !email == !partner)
		rc = err_set(ERR_INVALID, "give exactly one of the fields 'user' and 'partner'");
	if (!rc && email) {
		rc = acct_user_by_email(db, email, &u);
		if (rc == ERR_NOTFOUND)
			rc = err_set(ERR_INVALID, "field 'user': no user '%s'", email);
		user_id = u.id;
		snprintf(object, sizeof object, "user:%s", u.email ? u.email : "");
	}
	if (!rc && partner) {
		rc = acct_partner_id(db, partner, &partner_id);
		if (rc == ERR_NOTFOUND)
			rc = err_set(ERR_INVALID, "field 'partner': no partner '%s'", partner);
		snprintf(object, sizeof object, "partner:%s", partner);
	}
	acct_user_clear(&u);
	if (!rc)
		rc = db_begin(db);
	if (!rc) {
		rc = acct_grant_set(db, call->wp_id, user_id, partner_id, level,
				    call->caller->user_id, &old);
		if (!rc)
			rc = auth_audit(call, "grant", call->wp_id, object, "%s -> %s",
					acct_level_name(old), acct_level_name(level));
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	reply_json(call->req, 200,
		   json_pack("{s:s, s:s, s:s, s:s}", email ? "user" : "partner",
			     object + (email ? 5 : 8), "wp", call_param(call, "wp"), "level",
			     acct_level_name(level), "previous", acct_level_name(old)));
}
