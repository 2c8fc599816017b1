/*
 * h_wps — work packages and the grants on them. A coordinator creates
 * work packages; whoever manages one (its lead, a coordinator) decides
 * who may read, write or manage it. Grants carry only a level on one WP:
 * nothing here can make anyone a coordinator.
 */
#include <jansson.h>
#include <string.h>

#include "accounts.h"
#include "api/acl.h"
#include "api/apijson.h"
#include "api/auth.h"
#include "db.h"
#include "api/handlers.h"
#include "http/http.h"
#include "http/jsonin.h"
#include "http/jsonout.h"
#include "http/reply.h"
#include "api/router.h"
#include "api/app.h"

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
		jsonout_end(j);
	}
	jsonout_end(j);
	jsonout_end(j);
	acct_wps_free(ws, n);
	jsonout_reply(call->req, 200, j);
}

/* GET /api/v1/wps/{wp} */
void h_wp_get(struct call *call)
{
	struct acct_wp w;
	enum err rc = acct_wp_get(worker_db(call->worker), call->wp_id, &w);

	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	reply_json(call->req, 200, json_pack("{s:o}", "wp", apijson_wp(&w, call->wp_level)));
	acct_wp_clear(&w);
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
