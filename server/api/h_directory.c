/*
 * h_directory — the consortium's own pages (docs/directory.md): the
 * directory of partners and people, news, events with their iCalendar
 * downloads and each person's calendar feed, and the directory's
 * section of the search answer.
 *
 * Every member reads the directory and news; events are filtered by the
 * policy (acl_event_visible) with the work packages the reader may
 * read, the same filter for the app, a single .ics and the feed. Who
 * may post is the policy's too (acl_may_post). Work packages appear in
 * the directory only when the reader may read them, as everywhere else.
 */
#include <inttypes.h>
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "api/acl.h"
#include "api/apijson.h"
#include "api/app.h"
#include "api/auth.h"
#include "api/handlers.h"
#include "api/imgsan.h"
#include "api/ical.h"
#include "api/markdown.h"
#include "api/router.h"
#include "db.h"
#include "directory.h"
#include "http/http.h"
#include "http/jobs.h"
#include "http/jsonin.h"
#include "http/reply.h"
#include "name.h"
#include "tree.h"

#define MAX_ROLES 8
#define MAX_EVENT_WPS 16
#define SEARCH_PER_KIND 10
/* The feed holds events that ended at most this long ago. */
#define FEED_PAST_DAYS 400

/* "/api/v1/images/7", or null for 0. */
static json_t *image_url(int64_t id)
{
	char buf[48];

	if (!id)
		return json_null();
	snprintf(buf, sizeof buf, "/api/v1/images/%lld", (long long)id);
	return json_string(buf);
}

static bool has_id(const int64_t *ids, size_t n, int64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* "a\nb" → ["a", "b"] */
static json_t *lines_json(const char *s)
{
	json_t *a = json_array();

	while (a && s && *s) {
		const char *nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);

		json_array_append_new(a, json_stringn(s, len));
		s += len + (nl ? 1 : 0);
	}
	return a;
}

/* --- the directory --------------------------------------------------------------- */

static json_t *person_json(const struct dir_person *p)
{
	return json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:b}", "id", (json_int_t)p->id, "name",
			 p->name, "email", p->email, "partner", p->partner_short, "role_line",
			 p->role_line, "contact_roles", lines_json(p->contact_roles), "coordinator",
			 p->coordinator);
}

/* A partner's entry: its fields, the readable WPs it takes part in or
 * leads, its people. */
static json_t *partner_json(const struct dir_partner *p, const struct dir_partner_wp *wps,
			    size_t nwps, const struct dir_person *people, size_t npeople,
			    const int64_t *readable, size_t nreadable)
{
	json_t *o =
		json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "short", p->short_name,
			  "name", p->name, "country", p->country, "type", p->type, "role", p->role,
			  "city", p->city, "website", p->website, "description", p->description);
	json_t *jw = json_array(), *jp = json_array();

	for (size_t i = 0; jw && i < nwps; i++)
		if (wps[i].partner_id == p->id && has_id(readable, nreadable, wps[i].wp_id))
			json_array_append_new(jw, json_pack("{s:s, s:s, s:b}", "code", wps[i].code,
							    "title", wps[i].title, "lead",
							    wps[i].lead));
	for (size_t i = 0; jp && i < npeople; i++)
		if (people[i].partner_id == p->id)
			json_array_append_new(jp, person_json(&people[i]));
	if (o) {
		json_object_set_new(o, "logo", image_url(p->logo_image_id));
		json_object_set_new(o, "wps", jw ? jw : json_array());
		json_object_set_new(o, "people", jp ? jp : json_array());
	} else {
		json_decref(jw);
		json_decref(jp);
	}
	return o;
}

static bool partner_has_wp(const struct dir_partner *p, const struct dir_partner_wp *wps,
			   size_t nwps, const char *code)
{
	for (size_t i = 0; i < nwps; i++)
		if (wps[i].partner_id == p->id && !strcasecmp(wps[i].code, code))
			return true;
	return false;
}

/* GET /api/v1/directory[?type=&wp=]: every partner grouped by the app
 * (sorted by country here), the key contacts (people with a contact
 * role), and counts over the whole consortium. */
void h_directory(struct call *call)
{
	struct db *db = worker_db(call->worker);
	const char *type = http_req_query_param(call->req, "type");
	const char *wp = http_req_query_param(call->req, "wp");
	struct dir_partner *ps = NULL;
	struct dir_partner_wp *wps = NULL;
	struct dir_person *people = NULL;
	int64_t *readable = NULL;
	size_t nps = 0, nwps = 0, npeople = 0, nreadable = 0, ncountries = 0;
	json_t *body = NULL, *jps, *keys, *types, *roles;
	enum err rc;

	rc = acl_readable_wps(call, &readable, &nreadable);
	if (!rc)
		rc = db_begin_read(db);
	if (rc)
		goto out;
	rc = dir_partner_list(db, &ps, &nps);
	if (!rc)
		rc = dir_partner_wps(db, 0, &wps, &nwps);
	if (!rc)
		rc = dir_people(db, 0, &people, &npeople);
	db_commit(db);
	if (rc)
		goto out;
	body = json_object();
	jps = json_array();
	keys = json_array();
	types = json_object();
	roles = json_object();
	for (size_t i = 0; i < nps; i++) {
		json_int_t t = json_integer_value(json_object_get(types, ps[i].type));
		json_int_t r = json_integer_value(json_object_get(roles, ps[i].role));

		json_object_set_new(types, ps[i].type, json_integer(t + 1));
		json_object_set_new(roles, ps[i].role, json_integer(r + 1));
		if (i == 0 || strcmp(ps[i].country, ps[i - 1].country))
			ncountries++;
		if (type && *type && strcmp(ps[i].type, type))
			continue;
		if (wp && *wp && !partner_has_wp(&ps[i], wps, nwps, wp))
			continue;
		json_array_append_new(
			jps, partner_json(&ps[i], wps, nwps, people, npeople, readable, nreadable));
	}
	for (size_t i = 0; i < npeople; i++)
		if (*people[i].contact_roles)
			json_array_append_new(keys, person_json(&people[i]));
	json_object_set_new(body, "counts",
			    json_pack("{s:I, s:I, s:I, s:o, s:o}", "partners", (json_int_t)nps,
				      "countries", (json_int_t)ncountries, "people",
				      (json_int_t)npeople, "types", types, "roles", roles));
	json_object_set_new(body, "key_contacts", keys);
	json_object_set_new(body, "partners", jps);
	json_object_set_new(body, "may_post", json_boolean(acl_may_post(call)));
out:
	dir_partners_free(ps, nps);
	dir_partner_wps_free(wps, nwps);
	dir_people_free(people, npeople);
	free(readable);
	if (rc)
		reply_err(call->req, rc);
	else
		reply_json(call->req, 200, body);
}

/* GET /api/v1/partners/{short} */
void h_partner_get(struct call *call)
{
	struct db *db = worker_db(call->worker);
	struct dir_partner p = {0};
	struct dir_partner_wp *wps = NULL;
	struct dir_person *people = NULL;
	int64_t *readable = NULL;
	size_t nwps = 0, npeople = 0, nreadable = 0;
	enum err rc = acl_readable_wps(call, &readable, &nreadable);

	if (!rc)
		rc = dir_partner_get(db, call_param(call, "short"), &p);
	if (!rc)
		rc = dir_partner_wps(db, p.id, &wps, &nwps);
	if (!rc)
		rc = dir_people(db, p.id, &people, &npeople);
	if (rc)
		reply_err(call->req, rc);
	else
		reply_json(call->req, 200,
			   json_pack("{s:o}", "partner",
				     partner_json(&p, wps, nwps, people, npeople, readable,
						  nreadable)));
	dir_partner_clear(&p);
	dir_partner_wps_free(wps, nwps);
	dir_people_free(people, npeople);
	free(readable);
}

/* PATCH /api/v1/partners/{short} (coordinator): the directory fields. */
void h_partner_update(struct call *call)
{
	struct db *db = worker_db(call->worker);
	const char *sh = call_param(call, "short");
	struct dir_partner_change ch = {0};
	struct jsonin_field f[] = {
		{"type", JSONIN_STRING, 0, 1, 32, .out = &ch.type},
		{"role", JSONIN_STRING, 0, 1, 32, .out = &ch.role},
		{"city", JSONIN_STRING, 0, 0, 100, .out = &ch.city},
		{"website", JSONIN_STRING, 0, 0, 500, .out = &ch.website},
		{"description", JSONIN_STRING, JSONIN_MULTILINE, 0, 2000, .out = &ch.description},
	};
	enum err rc = jsonin_parse(call->json, f, sizeof f / sizeof f[0]);

	if (!rc && !ch.type && !ch.role && !ch.city && !ch.website && !ch.description)
		rc = err_set(ERR_INVALID, "nothing to change");
	if (!rc && !dir_web_url_ok(ch.website))
		rc = err_set(ERR_INVALID, "field 'website' must be an http or https URL");
	if (!rc)
		rc = db_begin(db);
	if (!rc) {
		rc = dir_partner_update(db, sh, &ch);
		if (!rc)
			rc = auth_audit(call, "partner_update", 0, sh, NULL);
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	h_partner_get(call);
}

/* PUT /api/v1/users/{id}/roles (coordinator): {"role_line",
 * "contact_roles": [..]}; either may be left out. */
void h_user_roles(struct call *call)
{
	struct db *db = worker_db(call->worker);
	const char *line = NULL, *roles[MAX_ROLES];
	json_t *arr = json_object_get(call->json, "contact_roles");
	json_t *rest = json_deep_copy(call->json);
	struct jsonin_field f[] = {
		{"role_line", JSONIN_STRING, 0, 0, 200, .out = &line},
	};
	size_t nroles = 0;
	int64_t id;
	enum err rc = ERR_OK;

	if (!apijson_parse_id(call_param(call, "id"), &id))
		rc = err_set(ERR_NOTFOUND, "no such user");
	if (!rc && arr) {
		if (!json_is_array(arr) || json_array_size(arr) > MAX_ROLES)
			rc = err_set(ERR_INVALID,
				     "field 'contact_roles' must be an array of at most %d strings",
				     MAX_ROLES);
		for (size_t i = 0; !rc && i < json_array_size(arr); i++) {
			const char *r = json_string_value(json_array_get(arr, i));

			if (!r)
				rc = err_set(ERR_INVALID,
					     "field 'contact_roles' must hold strings");
			else
				rc = jsonin_check_text("a contact role", r, 1, 60, false);
			if (!rc)
				roles[nroles++] = r;
		}
	}
	if (!rc && !rest)
		rc = err_set(ERR_NOMEM, "out of memory");
	if (!rc) {
		json_object_del(rest, "contact_roles");
		rc = jsonin_parse(rest, f, 1);
	}
	if (!rc && !line && !arr)
		rc = err_set(ERR_INVALID, "nothing to change");
	if (!rc)
		rc = db_begin(db);
	if (!rc) {
		rc = dir_person_set(db, id, line, arr ? roles : NULL, nroles);
		if (!rc)
			rc = auth_audit(call, "user_roles", 0, call_param(call, "id"), NULL);
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	json_decref(rest);
	if (rc)
		reply_err(call->req, rc);
	else
		reply_json(call->req, 204, NULL);
}

/* The directory's part of GET /api/v1/search: partners, people and the
 * readable work packages matching `q`. Members see members; work
 * packages the caller cannot read are left out as in the document hits. */
json_t *directory_search_json(struct call *call, const char *q, const int64_t *readable,
			      size_t nreadable)
{
	struct dir_hit *hits = NULL;
	size_t n = 0;
	json_t *a;

	if (dir_search(worker_db(call->worker), q, SEARCH_PER_KIND, &hits, &n))
		return json_array();
	a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		if (!strcmp(hits[i].kind, "wp") && !has_id(readable, nreadable, hits[i].wp_id))
			continue;
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s}", "kind", hits[i].kind,
						   "key", hits[i].key, "title", hits[i].title,
						   "detail", hits[i].detail));
	}
	dir_hits_free(hits, n);
	return a;
}

/* --- news ------------------------------------------------------------------------- */

static json_t *news_json(const struct dir_news *x)
{
	char *html = md_render(x->body);
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:o}", "id", (json_int_t)x->id,
			      "title", x->title, "body", x->body, "html", html ? html : "",
			      "author", x->author, "created_at", apijson_time(x->created_at),
			      "image", image_url(x->image_id));

	free(html);
	if (o)
		json_object_set_new(o, "edited_at", apijson_time(x->edited_at));
	return o;
}

static enum err paging(struct call *call, int *limit, int *offset)
{
	const char *l = http_req_query_param(call->req, "limit");
	const char *o = http_req_query_param(call->req, "offset");
	char *end;
	long v;

	*limit = 20;
	*offset = 0;
	if (l) {
		v = strtol(l, &end, 10);
		if (!*l || *end || v < 1 || v > 100)
			return err_set(ERR_INVALID, "limit must be a number from 1 to 100");
		*limit = (int)v;
	}
	if (o) {
		v = strtol(o, &end, 10);
		if (!*o || *end || v < 0 || v > 1000000)
			return err_set(ERR_INVALID, "offset must be a number from 0 to 1000000");
		*offset = (int)v;
	}
	return ERR_OK;
}

/* GET /api/v1/news[?limit=&offset=] */
void h_news_list(struct call *call)
{
	struct dir_news *items = NULL;
	size_t n = 0;
	int64_t total = 0;
	int limit, offset;
	json_t *a;
	enum err rc = paging(call, &limit, &offset);

	if (!rc)
		rc = dir_news_list(worker_db(call->worker), limit, offset, &items, &n, &total);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		json_t *o = news_json(&items[i]);

		if (o)
			json_object_set_new(
				o, "may_edit",
				json_boolean(acl_may_edit_posted(call, items[i].author_id)));
		json_array_append_new(a, o);
	}
	dir_news_free(items, n);
	reply_json(call->req, 200,
		   json_pack("{s:I, s:o, s:b}", "total", (json_int_t)total, "news", a, "may_post",
			     acl_may_post(call)));
}

static bool may_post(struct call *call)
{
	if (acl_may_post(call))
		return true;
	reply_err(call->req,
		  err_set(ERR_FORBIDDEN, "only coordinators and communication contacts post news "
					 "and events"));
	return false;
}

/* POST /api/v1/news {"title","body"} */
void h_news_create(struct call *call)
{
	struct db *db = worker_db(call->worker);
	const char *title = NULL, *body = NULL;
	int64_t image = 0;
	struct jsonin_field f[] = {
		{"title", JSONIN_STRING, JSONIN_REQUIRED, 1, 200, .out = &title},
		{"body", JSONIN_STRING, JSONIN_REQUIRED | JSONIN_MULTILINE, 0, MD_MAX_SOURCE,
		 .out = &body},
		{"image", JSONIN_INT, JSONIN_NULLABLE, 1, INT64_MAX, .out = &image},
	};
	struct dir_news x = {0};
	int64_t id = 0;
	enum err rc;

	if (!may_post(call))
		return;
	rc = jsonin_parse(call->json, f, 3);
	if (!rc && strlen(body) > MD_MAX_SOURCE)
		rc = err_set(ERR_TOOLARGE, "field 'body' is longer than %d bytes", MD_MAX_SOURCE);
	if (!rc)
		rc = db_begin(db);
	if (!rc) {
		rc = dir_news_add(db, title, body, call->caller->user_id, image, &id);
		if (!rc)
			rc = auth_audit(call, "news_create", 0, title, "news %" PRId64, id);
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	x.id = id;
	x.created_at = db_now();
	x.title = (char *)title;
	x.body = (char *)body;
	x.author = (char *)call->caller->name;
	x.image_id = image;
	reply_json(call->req, 201, json_pack("{s:o}", "news", news_json(&x)));
}

/* PATCH /api/v1/news/{id} with any of "title", "body", "image" (null:
 * none), validated as POST validates them. */
void h_news_update(struct call *call)
{
	struct db *db = worker_db(call->worker);
	struct dir_news *x = NULL;
	const char *title = NULL, *body = NULL;
	int64_t image = 0, id = 0;
	struct jsonin_field f[] = {
		{"title", JSONIN_STRING, 0, 1, 200, .out = &title},
		{"body", JSONIN_STRING, JSONIN_MULTILINE, 0, MD_MAX_SOURCE, .out = &body},
		{"image", JSONIN_INT, JSONIN_NULLABLE, 1, INT64_MAX, .out = &image},
	};
	enum err rc = ERR_OK;

	if (!apijson_parse_id(call_param(call, "id"), &id))
		rc = err_set(ERR_NOTFOUND, "no such news item");
	if (!rc)
		rc = dir_news_get(db, id, &x);
	if (!rc && !acl_may_edit_posted(call, x->author_id))
		rc = err_set(ERR_FORBIDDEN, "only its author, coordinators and communication "
					    "contacts edit a news item");
	if (!rc)
		rc = jsonin_parse(call->json, f, 3);
	if (!rc && body && strlen(body) > MD_MAX_SOURCE)
		rc = err_set(ERR_TOOLARGE, "field 'body' is longer than %d bytes", MD_MAX_SOURCE);
	if (!rc) {
		json_t *jimage = json_object_get(call->json, "image");

		if (!jimage)
			image = x->image_id;
		else if (json_is_null(jimage))
			image = 0;
		if (!title)
			title = x->title;
		if (!body)
			body = x->body;
		rc = db_begin(db);
	}
	if (!rc) {
		rc = dir_news_update(db, id, title, body, image);
		if (!rc)
			rc = auth_audit(call, "news_edit", 0, title, NULL);
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	dir_news_free(x, x ? 1 : 0);
	x = NULL;
	if (!rc)
		rc = dir_news_get(db, id, &x);
	if (rc)
		reply_err(call->req, rc);
	else
		reply_json(call->req, 200, json_pack("{s:o}", "news", news_json(x)));
	dir_news_free(x, x ? 1 : 0);
}

/* DELETE of a news item or an event `what` by a poster: `remove` in one
 * transaction with its audit record `action`. */
static void delete_posted(struct call *call, const char *what,
			  enum err (*remove)(struct db *, int64_t), const char *action)
{
	struct db *db = worker_db(call->worker);
	int64_t id;
	enum err rc = ERR_OK;

	if (!may_post(call))
		return;
	if (!apijson_parse_id(call_param(call, "id"), &id))
		rc = err_set(ERR_NOTFOUND, "no such %s", what);
	if (!rc)
		rc = db_begin(db);
	if (!rc) {
		rc = remove(db, id);
		if (!rc)
			rc = auth_audit(call, action, 0, call_param(call, "id"), NULL);
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	if (rc)
		reply_err(call->req, rc);
	else
		reply_json(call->req, 204, NULL);
}

/* DELETE /api/v1/news/{id} */
void h_news_delete(struct call *call)
{
	delete_posted(call, "news item", dir_news_delete, "news_delete");
}

/* --- events ----------------------------------------------------------------------- */

static json_t *event_json(const struct dir_event *e)
{
	json_t *wps = json_array();
	json_t *o;

	for (size_t i = 0; wps && i < e->nwps; i++)
		json_array_append_new(wps, json_string(e->wp_codes[i]));
	o = json_pack("{s:I, s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:b, s:o}", "id", (json_int_t)e->id,
		      "title", e->title, "start", apijson_time(e->starts_at), "end",
		      apijson_time(e->ends_at), "tz", e->tz, "place", e->place, "online_url",
		      e->online_url, "description", e->description, "internal", e->internal, "wps",
		      wps ? wps : json_array());
	if (o && e->folder_wp && *e->folder_wp)
		json_object_set_new(
			o, "folder",
			json_pack("{s:s, s:s}", "wp", e->folder_wp, "path", e->folder_path));
	if (o)
		json_object_set_new(o, "edited_at", apijson_time(e->edited_at));
	return o;
}

/* An IANA zone name this system knows ("Europe/Rome", "UTC"). */
static bool tz_ok(const char *tz)
{
	char path[128];
	struct stat st;

	if (!strcmp(tz, "UTC"))
		return true;
	if (!*tz || strlen(tz) > 64 || tz[0] == '/' || strstr(tz, ".."))
		return false;
	for (const char *p = tz; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/_+-", *p))
			return false;
	snprintf(path, sizeof path, "/usr/share/zoneinfo/%s", tz);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* GET /api/v1/events[?all=1]: upcoming (not yet ended) events, or all,
 * that the caller may see. */
void h_events_list(struct call *call)
{
	const char *all = http_req_query_param(call->req, "all");
	struct dir_event *evs = NULL;
	int64_t *readable = NULL;
	size_t n = 0, nreadable = 0;
	json_t *a;
	enum err rc = acl_readable_wps(call, &readable, &nreadable);

	if (!rc)
		rc = dir_event_list(worker_db(call->worker),
				    all && !strcmp(all, "1") ? 0 : db_now(), &evs, &n);
	if (rc) {
		free(readable);
		reply_err(call->req, rc);
		return;
	}
	a = json_array();
	for (size_t i = 0; a && i < n; i++)
		if (acl_event_visible(&evs[i], readable, nreadable)) {
			json_t *o = event_json(&evs[i]);

			if (o)
				json_object_set_new(
					o, "may_edit",
					json_boolean(acl_may_edit_posted(call, evs[i].created_by)));
			json_array_append_new(a, o);
		}
	dir_events_free(evs, n);
	free(readable);
	reply_json(call->req, 200,
		   json_pack("{s:o, s:b}", "events", a, "may_post", acl_may_post(call)));
}

/* The fields of an event from `json` ({"title","start","end","tz"[,
 * "place","online_url","description","internal","folder":{"wp","path"},
 * "wps":[codes]]}) into *ev (strings point into `json`), its linked
 * work packages into wp_ids, its folder into *np. The same rules for a
 * new event and an edited one (`old`, else NULL): a folder needs write
 * access to its work package and *mkfolder says it must be made; linked
 * work packages must be readable. What `old` already had (its folder,
 * its linked work packages) is kept without asking again, so that
 * editing the title needs no access the poster had. */
static enum err event_parse(struct call *call, json_t *json, const struct dir_event *old,
			    struct dir_event *ev, int64_t *wp_ids, struct name_path *np,
			    bool *mkfolder)
{
	const char *start = NULL, *end = NULL, *folder_wp = NULL, *folder_path = NULL;
	bool internal = true;
	/* A shallow copy: its strings are `json`'s, which outlives it. */
	json_t *rest = json_copy(json);
	json_t *jwps = json_object_get(json, "wps");
	json_t *jfolder = json_object_get(json, "folder");
	struct jsonin_field f[] = {
		{"title", JSONIN_STRING, JSONIN_REQUIRED, 1, 200, .out = &ev->title},
		{"start", JSONIN_STRING, JSONIN_REQUIRED, 16, 30, .out = &start},
		{"end", JSONIN_STRING, JSONIN_REQUIRED, 16, 30, .out = &end},
		{"tz", JSONIN_STRING, JSONIN_REQUIRED, 1, 64, .out = &ev->tz},
		{"place", JSONIN_STRING, 0, 0, 200, .out = &ev->place},
		{"online_url", JSONIN_STRING, 0, 0, 500, .out = &ev->online_url},
		{"description", JSONIN_STRING, JSONIN_MULTILINE, 0, 4000, .out = &ev->description},
		{"internal", JSONIN_BOOL, 0, 0, 0, .out = &internal},
	};
	struct jsonin_field ff[] = {
		{"wp", JSONIN_STRING, JSONIN_REQUIRED, 1, 32, .out = &folder_wp},
		{"path", JSONIN_STRING, JSONIN_REQUIRED, 1, 1000, .out = &folder_path},
	};
	enum err rc = ERR_OK;

	*mkfolder = false;
	if (!rest)
		return err_set(ERR_NOMEM, "out of memory");
	if (json_is_null(jfolder))
		jfolder = NULL;
	json_object_del(rest, "wps");
	json_object_del(rest, "folder");
	rc = jsonin_parse(rest, f, sizeof f / sizeof f[0]);
	json_decref(rest);
	if (!rc && !apijson_parse_datetime(start, &ev->starts_at))
		rc = err_set(ERR_INVALID, "field 'start' must be a time such as "
					  "2026-04-27T09:00:00+02:00");
	if (!rc && !apijson_parse_datetime(end, &ev->ends_at))
		rc = err_set(ERR_INVALID, "field 'end' must be a time such as "
					  "2026-04-27T17:00:00+02:00");
	if (!rc && ev->ends_at < ev->starts_at)
		rc = err_set(ERR_INVALID, "the event ends before it starts");
	if (!rc && !tz_ok(ev->tz))
		rc = err_set(ERR_INVALID, "field 'tz' must be a time zone such as Europe/Rome");
	if (!rc && !dir_web_url_ok(ev->online_url))
		rc = err_set(ERR_INVALID, "field 'online_url' must be an http or https URL");
	if (!rc && jwps && !json_is_null(jwps)) {
		if (!json_is_array(jwps) || json_array_size(jwps) > MAX_EVENT_WPS)
			rc = err_set(
				ERR_INVALID,
				"field 'wps' must be an array of at most %d work package codes",
				MAX_EVENT_WPS);
		for (size_t i = 0; !rc && i < json_array_size(jwps); i++) {
			const char *code = json_string_value(json_array_get(jwps, i));
			int64_t kept = 0;

			for (size_t j = 0; code && old && j < old->nwps; j++)
				if (!strcmp(old->wp_codes[j], code))
					kept = old->wp_ids[j];
			if (kept) {
				wp_ids[ev->nwps++] = kept;
				continue;
			}
			if (!code)
				rc = err_set(ERR_INVALID,
					     "field 'wps' must hold work package codes");
			else
				rc = acl_authorize_wp(call, code, 0, ACCESS_WP_READ);
			if (rc == ERR_NOTFOUND)
				rc = err_set(ERR_INVALID, "field 'wps': no work package '%s'",
					     code);
			if (!rc)
				wp_ids[ev->nwps++] = call->wp_id;
		}
	}
	if (!rc && jfolder) {
		rc = json_is_object(jfolder)
			     ? jsonin_parse(jfolder, ff, 2)
			     : err_set(ERR_INVALID, "field 'folder' must be {\"wp\", \"path\"}");
		if (!rc && name_path_from_text(folder_path, np))
			rc = err_set(ERR_INVALID, "field 'folder': %s", err_detail());
		if (!rc && np->n == 0)
			rc = err_set(ERR_INVALID, "field 'folder': name a folder, not the root");
		if (!rc && old && old->folder_wp && !strcmp(old->folder_wp, folder_wp)) {
			char *joined = name_path_join(np);

			if (joined && !strcmp(joined, old->folder_path)) {
				ev->folder_wp_id = old->folder_wp_id;
				free(joined);
				goto folder_kept;
			}
			free(joined);
		}
		if (!rc)
			rc = acl_authorize_wp(call, folder_wp, 0, ACCESS_WP_WRITE);
		if (rc == ERR_NOTFOUND)
			rc = err_set(ERR_INVALID, "field 'folder': no work package '%s'",
				     folder_wp);
		ev->folder_wp_id = call->wp_id;
		*mkfolder = !rc;
	}
folder_kept:
	ev->internal = internal;
	ev->wp_ids = wp_ids;
	return rc;
}

/* POST /api/v1/events {"title","start","end","tz"[,"place","online_url",
 * "description","internal","folder":{"wp","path"},"wps":[codes]]}. The
 * folder is created (with its parents) when missing, which needs write
 * access to its work package; linked work packages must be readable. */
void h_event_create(struct call *call)
{
	struct db *db = worker_db(call->worker);
	struct dir_event ev = {0};
	int64_t wp_ids[MAX_EVENT_WPS];
	struct name_path np = {0};
	int64_t id = 0;
	bool mkfolder = false;
	enum err rc = ERR_OK;

	if (!may_post(call))
		return;
	rc = event_parse(call, call->json, NULL, &ev, wp_ids, &np, &mkfolder);
	if (!rc)
		rc = db_begin(db);
	if (!rc) {
		char *joined = NULL;

		if (mkfolder) {
			rc = tree_mkdir(db, ev.folder_wp_id, &np, call->caller->user_id, true,
					NULL);
			joined = name_path_join(&np);
			ev.folder_path = joined;
		}
		if (!rc)
			rc = dir_event_add(db, &ev, call->caller->user_id, &id);
		if (!rc)
			rc = auth_audit(call, "event_create", ev.folder_wp_id, ev.title,
					"event %" PRId64, id);
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
		free(joined);
	}
	name_path_free(&np);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	memset(&ev, 0, sizeof ev);
	rc = dir_event_get(db, id, &ev);
	if (rc)
		reply_err(call->req, rc);
	else
		reply_json(call->req, 201, json_pack("{s:o}", "event", event_json(&ev)));
	dir_event_clear(&ev);
}

/* An event as the object POST takes: the base an edit is laid over. */
static json_t *event_as_input(const struct dir_event *e)
{
	json_t *wps = json_array();
	char a[32], b[32];
	json_t *o;

	for (size_t i = 0; wps && i < e->nwps; i++)
		json_array_append_new(wps, json_string(e->wp_codes[i]));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:o}", "title", e->title, "start",
		      apijson_time_text(e->starts_at, a), "end", apijson_time_text(e->ends_at, b),
		      "tz", e->tz, "place", e->place, "online_url", e->online_url, "description",
		      e->description, "internal", e->internal, "wps", wps ? wps : json_array());
	if (o && e->folder_wp && *e->folder_wp)
		json_object_set_new(
			o, "folder",
			json_pack("{s:s, s:s}", "wp", e->folder_wp, "path", e->folder_path));
	return o;
}

/* PATCH /api/v1/events/{id} with any of POST's fields ("folder": null
 * removes the folder; its files stay). Validated as a new event would
 * be; the iCalendar UID stays and SEQUENCE rises, so calendars that
 * subscribed replace their copy. */
void h_event_update(struct call *call)
{
	struct db *db = worker_db(call->worker);
	struct dir_event old = {0}, ev = {0};
	int64_t wp_ids[MAX_EVENT_WPS];
	int64_t *readable = NULL, id = 0;
	size_t nreadable = 0;
	struct name_path np = {0};
	json_t *merged = NULL;
	bool mkfolder = false;
	enum err rc = ERR_OK;

	if (!apijson_parse_id(call_param(call, "id"), &id))
		rc = err_set(ERR_NOTFOUND, "no such event");
	if (!rc)
		rc = acl_readable_wps(call, &readable, &nreadable);
	if (!rc)
		rc = dir_event_get(db, id, &old);
	if (!rc && !acl_event_visible(&old, readable, nreadable))
		rc = err_set(ERR_NOTFOUND, "no such event");
	if (!rc && !acl_may_edit_posted(call, old.created_by))
		rc = err_set(ERR_FORBIDDEN, "only its author, coordinators and communication "
					    "contacts edit an event");
	if (!rc && !json_is_object(call->json))
		rc = err_set(ERR_INVALID, "the body must be a JSON object");
	if (!rc && !(merged = event_as_input(&old)))
		rc = err_set(ERR_NOMEM, "out of memory");
	if (!rc && json_object_update(merged, call->json))
		rc = err_set(ERR_NOMEM, "out of memory");
	if (!rc)
		rc = event_parse(call, merged, &old, &ev, wp_ids, &np, &mkfolder);
	if (!rc)
		rc = db_begin(db);
	if (!rc) {
		char *joined = NULL;

		ev.id = id;
		ev.folder_path = ev.folder_wp_id ? old.folder_path : NULL;
		if (mkfolder) {
			rc = tree_mkdir(db, ev.folder_wp_id, &np, call->caller->user_id, true,
					NULL);
			joined = name_path_join(&np);
			ev.folder_path = joined;
		}
		if (!rc)
			rc = dir_event_update(db, &ev);
		if (!rc)
			rc = auth_audit(call, "event_edit", ev.folder_wp_id, ev.title, NULL);
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
		free(joined);
	}
	name_path_free(&np);
	json_decref(merged);
	dir_event_clear(&old);
	free(readable);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	memset(&ev, 0, sizeof ev);
	rc = dir_event_get(db, id, &ev);
	if (rc)
		reply_err(call->req, rc);
	else
		reply_json(call->req, 200, json_pack("{s:o}", "event", event_json(&ev)));
	dir_event_clear(&ev);
}

/* A host name for UIDs: the Host header's letters, digits, '.', '-'. */
static void uid_host(struct call *call, char *out, size_t size)
{
	const char *h = http_req_header(call->req, "Host");
	size_t j = 0;

	for (; h && *h && *h != ':' && j + 1 < size; h++)
		if (isalnum((unsigned char)*h) || *h == '.' || *h == '-')
			out[j++] = *h;
	out[j] = '\0';
	if (!j)
		snprintf(out, size, "consort");
}

static void reply_ics(struct call *call, const struct ical_event *evs, size_t n, const char *name,
		      const char *filename)
{
	char host[256];
	size_t len = 0;
	char *text;

	uid_host(call, host, sizeof host);
	text = ical_calendar(evs, n, host, name, db_now(), &len);
	if (!text) {
		reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
		return;
	}
	http_resp_header(call->req, "Content-Type", "text/calendar; charset=utf-8");
	http_resp_header(call->req, "X-Content-Type-Options", "nosniff");
	if (filename)
		http_resp_headerf(call->req, "Content-Disposition", "attachment; filename=\"%s\"",
				  filename);
	http_resp_header(call->req, "Cache-Control", "private, no-store");
	http_resp_send(call->req, 200, text, len);
	free(text);
}

/* GET /api/v1/events/{id} (JSON) and /api/v1/events/{id}.ics */
void h_event_get(struct call *call)
{
	const char *raw = call_param(call, "id");
	size_t len = strlen(raw);
	bool ics = len > 4 && !strcmp(raw + len - 4, ".ics");
	char idtext[24];
	struct dir_event ev = {0};
	int64_t *readable = NULL, id = 0;
	size_t nreadable = 0;
	enum err rc = ERR_OK;

	if (ics)
		len -= 4;
	if (len >= sizeof idtext)
		rc = err_set(ERR_NOTFOUND, "no such event");
	if (!rc) {
		memcpy(idtext, raw, len);
		idtext[len] = '\0';
		if (!apijson_parse_id(idtext, &id))
			rc = err_set(ERR_NOTFOUND, "no such event");
	}
	if (!rc)
		rc = acl_readable_wps(call, &readable, &nreadable);
	if (!rc)
		rc = dir_event_get(worker_db(call->worker), id, &ev);
	/* An event the caller may not see is missing, like an unreadable WP. */
	if (!rc && !acl_event_visible(&ev, readable, nreadable))
		rc = err_set(ERR_NOTFOUND, "no such event");
	if (rc) {
		reply_err(call->req, rc);
	} else if (ics) {
		struct ical_event ie = {.ev = &ev};
		char fname[40];

		snprintf(fname, sizeof fname, "event-%lld.ics", (long long)id);
		reply_ics(call, &ie, 1, ev.title, fname);
	} else {
		reply_json(call->req, 200, json_pack("{s:o}", "event", event_json(&ev)));
	}
	dir_event_clear(&ev);
	free(readable);
}

/* DELETE /api/v1/events/{id}: the event goes, its folder stays. */
void h_event_delete(struct call *call)
{
	delete_posted(call, "event", dir_event_delete, "event_delete");
}

/* --- the calendar feed ------------------------------------------------------------- */

/* GET /api/v1/me/calendar: whether the caller has a feed URL. */
void h_calendar_state(struct call *call)
{
	bool exists = false;
	int64_t created = 0;
	enum err rc =
		dir_feed_exists(worker_db(call->worker), call->caller->user_id, &exists, &created);

	if (rc)
		reply_err(call->req, rc);
	else
		reply_json(call->req, 200,
			   json_pack("{s:b, s:o}", "active", exists, "created_at",
				     apijson_time(created)));
}

/* POST /api/v1/me/calendar: a new secret feed URL (shown once; the
 * previous one stops working). */
void h_calendar_create(struct call *call)
{
	struct db *db = worker_db(call->worker);
	char secret[AUTH_SECRET_LEN + 1], path[AUTH_SECRET_LEN + 32];
	unsigned char hash[32];
	enum err rc = auth_secret_new(secret);

	if (!rc) {
		auth_secret_hash(secret, hash);
		rc = db_begin(db);
	}
	if (!rc) {
		rc = dir_feed_set(db, call->caller->user_id, hash);
		if (!rc)
			rc = auth_audit(call, "calendar_feed_create", 0, "", NULL);
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	if (rc) {
		reply_err(call->req, rc);
	} else {
		snprintf(path, sizeof path, "/calendar/%s.ics", secret);
		reply_json(call->req, 201, json_pack("{s:s, s:s}", "secret", secret, "path", path));
	}
	explicit_bzero(secret, sizeof secret);
	explicit_bzero(path, sizeof path);
}

/* DELETE /api/v1/me/calendar: the feed URL stops working. */
void h_calendar_revoke(struct call *call)
{
	struct db *db = worker_db(call->worker);
	enum err rc = db_begin(db);

	if (!rc) {
		rc = dir_feed_revoke(db, call->caller->user_id);
		if (!rc)
			rc = auth_audit(call, "calendar_feed_revoke", 0, "", NULL);
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	if (rc)
		reply_err(call->req, rc);
	else
		reply_json(call->req, 204, NULL);
}

/* GET /calendar/{secret}.ics: public route; the secret is the
 * credential (calendar clients cannot sign in), decided by
 * acl_calendar_reader. Only events its owner may see. */
void h_calendar_feed(struct call *call)
{
	struct db *db = worker_db(call->worker);
	const char *raw = call_param(call, "secret");
	size_t len = strlen(raw);
	char secret[AUTH_SECRET_LEN + 1];
	struct dir_event *evs = NULL;
	struct ical_event *ies = NULL;
	int64_t *readable = NULL, user_id = 0;
	size_t n = 0, nreadable = 0, k = 0;
	enum err rc = ERR_OK;

	if (len != AUTH_SECRET_LEN + 4 || strcmp(raw + AUTH_SECRET_LEN, ".ics"))
		rc = err_set(ERR_NOTFOUND, "no such calendar");
	if (!rc) {
		memcpy(secret, raw, AUTH_SECRET_LEN);
		secret[AUTH_SECRET_LEN] = '\0';
		rc = acl_calendar_reader(db, secret, &user_id, &readable, &nreadable);
		explicit_bzero(secret, sizeof secret);
	}
	if (!rc)
		rc = dir_event_list(db, db_now() - (int64_t)FEED_PAST_DAYS * 86400, &evs, &n);
	if (!rc && n) {
		ies = calloc(n, sizeof *ies);
		if (!ies)
			rc = err_set(ERR_NOMEM, "out of memory");
	}
	if (rc) {
		reply_err(call->req, rc);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (acl_event_visible(&evs[i], readable, nreadable))
			ies[k++].ev = &evs[i];
	reply_ics(call, ies, k, "consort events", NULL);
out:
	free(ies);
	dir_events_free(evs, n);
	free(readable);
}

/* --- pictures: logos and news images ------------------------------------------------- */

/* An upload on its way through the image helper (imgsan.h). */
struct pic {
	struct call *call;
	unsigned char *in;
	size_t len, cap;
	const char *logo_of; /* partner short name, or NULL for a news image */
	unsigned char *png;
	size_t png_len;
	int w, h;
	enum err rc;
	char why[256];
};

static void pic_free(struct pic *p)
{
	if (!p)
		return;
	free(p->in);
	free(p->png);
	free(p);
}

static enum err pic_data(struct http_req *req, const void *data, size_t len, void *arg)
{
	struct pic *p = arg;

	if (len > IMGSAN_MAX_INPUT - p->len) {
		reply_err(req, err_set(ERR_TOOLARGE, "a picture must have at most %u MiB",
				       IMGSAN_MAX_INPUT >> 20));
		pic_free(p);
		return ERR_TOOLARGE;
	}
	if (p->len + len > p->cap) {
		size_t cap = p->cap ? p->cap : 64 * 1024;
		unsigned char *n;

		while (cap < p->len + len)
			cap *= 2;
		n = realloc(p->in, cap);
		if (!n) {
			reply_err(req, err_set(ERR_NOMEM, "out of memory"));
			pic_free(p);
			return ERR_NOMEM;
		}
		p->in = n;
		p->cap = cap;
	}
	memcpy(p->in + p->len, data, len);
	p->len += len;
	return ERR_OK;
}

/* On a job thread: the helper decodes and re-encodes. */
static void pic_run(void *arg)
{
	struct pic *p = arg;

	p->rc = imgsan_run("/proc/self/exe", p->in, p->len, &p->png, &p->png_len, &p->w, &p->h);
	if (p->rc)
		snprintf(p->why, sizeof p->why, "%s", err_detail());
}

/* Back on the worker: store the PNG (and make it the partner's logo). */
static void pic_done(struct http_req *req, bool alive, void *arg)
{
	struct pic *p = arg;
	struct call *call = p->call;
	struct db *db = worker_db(call->worker);
	int64_t id = 0;
	enum err rc = p->rc;

	if (!alive)
		goto out;
	if (rc) {
		reply_err(req, err_set(rc, "%s", p->why));
		goto out;
	}
	rc = db_begin(db);
	if (!rc) {
		rc = dir_image_add(db, p->png, p->png_len, p->w, p->h, call->caller->user_id, &id);
		if (!rc && p->logo_of)
			rc = dir_partner_set_logo(db, p->logo_of, id);
		if (!rc)
			rc = auth_audit(call, p->logo_of ? "partner_logo" : "image_upload", 0,
					p->logo_of ? p->logo_of : "", "%dx%d", p->w, p->h);
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	if (rc)
		reply_err(req, rc);
	else
		reply_json(req, 201,
			   json_pack("{s:{s:I, s:o, s:i, s:i}}", "image", "id", (json_int_t)id,
				     "src", image_url(id), "width", p->w, "height", p->h));
out:
	pic_free(p);
}

static void pic_end(struct http_req *req, void *arg)
{
	struct pic *p = arg;
	enum err rc = jobs_submit_req(worker_jobs(p->call->worker), req, pic_run, pic_done, p);

	if (rc) {
		reply_err(req, rc == ERR_LIMIT ? err_set(ERR_LIMIT, "busy; try again") : rc);
		pic_free(p);
	}
}

static void pic_abort(struct http_req *req, void *arg)
{
	(void)req;
	pic_free(arg);
}

static const struct http_body_sink pic_sink = {
	.on_data = pic_data,
	.on_end = pic_end,
	.on_abort = pic_abort,
};

static void pic_upload(struct call *call, const char *logo_of)
{
	struct pic *p = calloc(1, sizeof *p);

	if (!p) {
		reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
		return;
	}
	p->call = call;
	p->logo_of = logo_of;
	if (http_req_body_length(call->req) > (int64_t)IMGSAN_MAX_INPUT) {
		reply_err(call->req, err_set(ERR_TOOLARGE, "a picture must have at most %u MiB",
					     IMGSAN_MAX_INPUT >> 20));
		free(p);
		return;
	}
	http_req_read_body(call->req, &pic_sink, p);
}

/* POST /api/v1/images: a picture for news (body: the image's bytes). */
void h_image_upload(struct call *call)
{
	if (may_post(call))
		pic_upload(call, NULL);
}

/* PUT /api/v1/partners/{short}/logo (coordinator). */
void h_partner_logo(struct call *call)
{
	struct dir_partner p = {0};
	const char *sh = call_param(call, "short");
	enum err rc = dir_partner_get(worker_db(call->worker), sh, &p);

	dir_partner_clear(&p);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	pic_upload(call, sh);
}

/* GET /api/v1/images/{id}: every member may see them, like the news
 * and the directory they belong to. */
void h_image_get(struct call *call)
{
	void *png = NULL;
	size_t len = 0;
	int64_t id;
	enum err rc = apijson_parse_id(call_param(call, "id"), &id)
			      ? dir_image_get(worker_db(call->worker), id, &png, &len)
			      : err_set(ERR_NOTFOUND, "no such image");

	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	http_resp_header(call->req, "Content-Type", "image/png");
	http_resp_header(call->req, "X-Content-Type-Options", "nosniff");
	http_resp_header(call->req, "Cache-Control", "private, max-age=86400");
	http_resp_header(call->req, "Content-Security-Policy", "default-src 'none'; sandbox");
	http_resp_send(call->req, 200, png, len);
	free(png);
}
