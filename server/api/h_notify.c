/*
 * h_notify — the activity feed, following, notification settings and the
 * one-click unsubscribe (docs/notifications.md, docs/api.md):
 *
 *   GET /api/v1/activity[?wp=&path=&before=&limit=]  grouped events; with
 *       no wp the caller's own feed: what they follow, minus their own
 *       actions. Only readable work packages (the policy decides).
 *   GET /api/v1/follows · PUT/DELETE /api/v1/follows {"wp"[,"path"]}
 *       PUT {"members": true|false} (manage) makes a WP's readers follow
 *       it by default; DELETE is an explicit "do not follow".
 *   GET/PUT /api/v1/me/notifications {"mode","auto_follow"}
 *   GET/POST /api/v1/unsubscribe/{secret}  RFC 8058, without signing in.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "api/acl.h"
#include "api/activity.h"
#include "api/apijson.h"
#include "api/app.h"
#include "api/auth.h"
#include "api/handlers.h"
#include "api/router.h"
#include "http/http.h"
#include "http/jsonin.h"
#include "http/reply.h"
#include "name.h"
#include "notify.h"

#define FEED_LIMIT_MAX 200
#define FEED_BATCH 500
/* Rows one feed request reads at most, whatever it finds. */
#define FEED_SCAN_MAX 20000
/* Items named in one group of the feed. */
#define FEED_ITEMS_MAX 20

static struct db *db_of(struct call *call) { return worker_db(call->worker); }

static int64_t user_of(const struct call *call) { return call->caller->user_id; }

/* A path as the store spells it ("" for the whole WP), or false after
 * answering 400. */
static bool scope_path(struct call *call, const char *text, char **out)
{
	struct name_path p = {0};
	enum err rc;

	*out = NULL;
	if (!text || !*text || !strcmp(text, "/")) {
		*out = strdup("");
	} else {
		rc = name_path_from_text(text, &p);
		if (rc) {
			reply_err(call->req, err_set(ERR_INVALID, "path: %s", err_detail()));
			return false;
		}
		*out = name_path_join(&p);
		name_path_free(&p);
	}
	if (!*out) {
		reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
		return false;
	}
	return true;
}

static bool query_int(struct call *call, const char *name, int64_t min, int64_t max, int64_t *out)
{
	const char *v = http_req_query_param(call->req, name);
	int64_t n = 0;

	if (!v)
		return true;
	if (!*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 18) {
		reply_err(call->req, err_set(ERR_INVALID, "%s must be a whole number", name));
		return false;
	}
	for (const char *p = v; *p; p++)
		n = n * 10 + (*p - '0');
	if (n < min || n > max) {
		reply_err(call->req, err_set(ERR_INVALID, "%s must be between %lld and %lld", name,
					     (long long)min, (long long)max));
		return false;
	}
	*out = n;
	return true;
}

/* --- the feed ------------------------------------------------------------------ */

struct feed {
	struct acct_wp *wps; /* readable, with the caller's level */
	size_t nw;
	struct notify_follow *fl; /* personal feed only */
	size_t nf;
	bool personal;
	bool news; /* personal feed: the person gets consortium news */
	int64_t me;
	struct db *db;
	char lang[16]; /* the caller's, for the sentences ("": English) */
};

static int feed_level(const struct feed *f, int64_t wp_id)
{
	for (size_t i = 0; i < f->nw; i++)
		if (f->wps[i].id == wp_id)
			return f->wps[i].level;
	return ACCT_NONE;
}

static bool covers(const char *path, const char *object)
{
	size_t n = strlen(path);

	return n == 0 || (!strncmp(path, object, n) && (object[n] == '\0' || object[n] == '/'));
}

/* The personal feed's rule is the mail's: the most specific thing said
 * about a scope holding the event decides. */
static bool feed_follows(const struct feed *f, const struct audit_row *e)
{
	size_t best = 0;
	bool found = false, on = false;

	for (size_t i = 0; i < f->nf; i++) {
		size_t len = strlen(f->fl[i].path);

		if (f->fl[i].wp_id != e->wp_id || !covers(f->fl[i].path, e->object))
			continue;
		if (len && !strcmp(e->action, "grant"))
			continue;
		if (!found || len > best || (len == best && !f->fl[i].by_default)) {
			best = len;
			on = f->fl[i].active;
			found = true;
		}
	}
	return found && on;
}

static bool feed_keeps(const struct feed *f, const struct audit_row *e)
{
	/* Consortium news and events: in the home feed of those who get
	 * them, when they may see them now. */
	if (activity_site(e->action))
		return f->personal && f->news && e->user_id != f->me &&
		       acl_site_event_visible(f->db, e, f->wps, f->nw);
	if (!acl_activity_visible(feed_level(f, e->wp_id), e->action))
		return false;
	if (!f->personal)
		return true;
	return e->user_id != f->me && feed_follows(f, e);
}

static json_t *group_json(const struct activity_group *g, const struct audit_row *rows,
			  const char *lang)
{
	const struct audit_row *r = &rows[g->idx[0]];
	json_t *o, *items = json_array();
	char text[2048];

	activity_sentence(g, rows, lang, text, sizeof text);
	for (size_t i = 0; items && i < g->count && i < FEED_ITEMS_MAX; i++) {
		const struct audit_row *e = &rows[g->idx[i]];

		json_array_append_new(items,
				      json_pack("{s:I, s:o, s:s, s:s}", "id", (json_int_t)e->id,
						"at", apijson_time(e->at), "path", e->object,
						"detail", e->detail ? e->detail : ""));
	}
	o = json_pack("{s:I, s:o, s:o, s:s, s:I, s:s, s:s, s:s, s:I, s:s, s:o}", "id",
		      (json_int_t)r->id, "at", apijson_time(r->at), "until",
		      apijson_time(rows[g->idx[g->count - 1]].at), "actor",
		      r->actor ? r->actor : "", "user_id", (json_int_t)r->user_id, "action",
		      r->action, "wp", r->wp_code ? r->wp_code : "", "folder", g->folder, "count",
		      (json_int_t)g->count, "text", text, "items", items ? items : json_array());
	return o;
}

/* Reads newest first in batches, keeps what the caller may see, groups,
 * and stops once `limit` groups are whole (the row after the last one
 * starts a new group) or FEED_SCAN_MAX rows were read. */
static enum err feed_collect(struct call *call, const struct feed *f, const char *wps_json,
			     const char *path, int64_t before, size_t limit, json_t *out,
			     int64_t *next)
{
	struct audit_row *kept = NULL;
	size_t nk = 0, cap = 0, scanned = 0;
	bool more = true;
	enum err rc = ERR_OK;

	*next = 0;
	while (more && scanned < FEED_SCAN_MAX) {
		struct audit_row *rows;
		size_t n;
		struct activity_group *g;
		size_t ng;

		rc = f->personal ? notify_feed_home(db_of(call), wps_json, before, FEED_BATCH,
						    &rows, &n)
				 : notify_feed(db_of(call), wps_json, path, before, FEED_BATCH,
					       &rows, &n);
		if (rc)
			break;
		more = n == FEED_BATCH;
		scanned += n;
		if (n)
			before = rows[n - 1].id;
		for (size_t i = 0; i < n; i++) {
			if (!feed_keeps(f, &rows[i]))
				continue;
			if (nk == cap) {
				size_t nc = cap ? cap * 2 : 256;
				struct audit_row *p = realloc(kept, nc * sizeof *p);

				if (!p) {
					rc = err_set(ERR_NOMEM, "out of memory");
					break;
				}
				kept = p;
				cap = nc;
			}
			kept[nk++] = rows[i];
			memset(&rows[i], 0, sizeof rows[i]);
		}
		audit_rows_free(rows, n);
		if (rc)
			break;
		rc = activity_group(kept, nk, false, &g, &ng);
		if (rc)
			break;
		/* limit + 1 groups: the first `limit` are whole */
		if (ng > limit || !more) {
			for (size_t i = 0; i < ng && i < limit; i++)
				json_array_append_new(out, group_json(&g[i], kept, f->lang));
			if (ng > limit)
				*next = kept[g[limit - 1].idx[g[limit - 1].count - 1]].id;
			activity_groups_free(g, ng);
			goto out;
		}
		activity_groups_free(g, ng);
	}
	/* The scan cap: tell what was found, and where to go on. */
	if (!rc) {
		struct activity_group *g;
		size_t ng;

		rc = activity_group(kept, nk, false, &g, &ng);
		for (size_t i = 0; !rc && i < ng && i < limit; i++)
			json_array_append_new(out, group_json(&g[i], kept, f->lang));
		if (!rc)
			*next = ng > limit ? kept[g[limit - 1].idx[g[limit - 1].count - 1]].id
					   : before;
		if (!rc)
			activity_groups_free(g, ng);
	}
out:
	audit_rows_free(kept, nk);
	return rc;
}

void h_activity(struct call *call)
{
	const char *code = http_req_query_param(call->req, "wp");
	const char *ptext = http_req_query_param(call->req, "path");
	struct feed f = {.me = user_of(call), .db = db_of(call)};
	int64_t before = 0, limit = 30, next = 0;
	char *path = NULL, *wps_json = NULL;
	json_t *groups = NULL, *ids = NULL;
	enum err rc;

	if (!query_int(call, "before", 1, INT64_MAX / 10, &before) ||
	    !query_int(call, "limit", 1, FEED_LIMIT_MAX, &limit))
		return;
	if (ptext && !code) {
		reply_err(call->req, err_set(ERR_INVALID, "path needs wp"));
		return;
	}
	if (code) {
		rc = acl_authorize_wp(call, code, 0, ACCESS_WP_READ);
		if (rc) {
			reply_err(call->req, rc);
			return;
		}
		if (!scope_path(call, ptext, &path))
			return;
	}
	rc = acl_readable_wp_list(call, &f.wps, &f.nw);
	if (!rc)
		rc = notify_language_get(db_of(call), f.me, f.lang, sizeof f.lang);
	if (!rc && !code) {
		f.personal = true;
		rc = notify_follow_list(db_of(call), f.me, &f.fl, &f.nf);
		if (!rc)
			rc = notify_news_get(db_of(call), f.me, &f.news);
	}
	if (rc)
		goto fail;
	ids = json_array();
	groups = json_array();
	if (!ids || !groups)
		goto nomem;
	for (size_t i = 0; i < f.nw; i++)
		if (!code || f.wps[i].id == call->wp_id)
			json_array_append_new(ids, json_integer(f.wps[i].id));
	wps_json = json_dumps(ids, JSON_COMPACT);
	if (!wps_json)
		goto nomem;
	rc = feed_collect(call, &f, wps_json, path, before, (size_t)limit, groups, &next);
	if (rc)
		goto fail;
	reply_json(call->req, 200,
		   json_pack("{s:o, s:o}", "groups", groups, "next",
			     next ? json_integer(next) : json_null()));
	groups = NULL;
	goto out;
nomem:
	rc = err_set(ERR_NOMEM, "out of memory");
fail:
	reply_err(call->req, rc);
out:
	json_decref(groups);
	json_decref(ids);
	free(wps_json);
	free(path);
	notify_follows_free(f.fl, f.nf);
	acct_wps_free(f.wps, f.nw);
}

/* --- following ----------------------------------------------------------------- */

void h_follows_list(struct call *call)
{
	struct acct_wp *wps = NULL;
	struct notify_follow *fl = NULL;
	struct notify_prefs p = {0};
	size_t nw = 0, nf = 0;
	json_t *arr = NULL, *defaults = NULL;
	enum err rc;

	rc = acl_readable_wp_list(call, &wps, &nw);
	if (!rc)
		rc = notify_follow_list(db_of(call), user_of(call), &fl, &nf);
	if (!rc)
		rc = notify_prefs_get(db_of(call), user_of(call), &p);
	if (rc) {
		reply_err(call->req, rc);
		goto out;
	}
	arr = json_array();
	defaults = json_array();
	for (size_t i = 0; i < nf; i++) {
		bool readable = false;

		for (size_t k = 0; k < nw && !readable; k++)
			readable = wps[k].id == fl[i].wp_id;
		if (!readable)
			continue;
		json_array_append_new(arr,
				      json_pack("{s:s, s:s, s:b, s:b, s:b}", "wp", fl[i].wp_code,
						"path", fl[i].path, "follow", fl[i].active, "auto",
						fl[i].automatic, "default", fl[i].by_default));
	}
	for (size_t k = 0; k < nw; k++) {
		bool on = false;

		if (!notify_wp_default_get(db_of(call), wps[k].id, &on) && on)
			json_array_append_new(defaults, json_string(wps[k].code));
	}
	reply_json(call->req, 200,
		   json_pack("{s:o, s:o, s:s, s:b}", "follows", arr, "members_follow", defaults,
			     "mode", notify_mode_name(p.mode), "auto_follow", p.auto_follow));
out:
	notify_prefs_clear(&p);
	notify_follows_free(fl, nf);
	acct_wps_free(wps, nw);
}

/* PUT and DELETE share the body: {"wp", "path"?, "members"?}. From the
 * query string too (?wp=&path=) for a DELETE without a body. */
static void follow_change(struct call *call, bool follow)
{
	const char *code = NULL, *ptext = NULL;
	bool members = false, has_members = false;
	struct jsonin_field f[] = {
		{"wp", JSONIN_STRING, JSONIN_REQUIRED, 1, 64, .out = &code},
		{"path", JSONIN_STRING, 0, 0, 4096, .out = &ptext},
		{"members", JSONIN_BOOL, 0, .out = &members, .present = &has_members},
	};
	char *path = NULL;
	enum err rc;

	if (call->json) {
		rc = jsonin_parse(call->json, f, 3);
		if (rc) {
			reply_err(call->req, rc);
			return;
		}
	} else {
		code = http_req_query_param(call->req, "wp");
		ptext = http_req_query_param(call->req, "path");
		if (!code || !*code) {
			reply_err(call->req, err_set(ERR_INVALID, "wp is required"));
			return;
		}
	}
	/* Following needs read; making others follow needs manage. */
	rc = acl_authorize_wp(call, code, 0, has_members ? ACCESS_WP_MANAGE : ACCESS_WP_READ);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	if (has_members && (!follow || (ptext && *ptext))) {
		reply_err(call->req, err_set(ERR_INVALID, "members is set with PUT on a whole work "
							  "package"));
		return;
	}
	if (!scope_path(call, ptext, &path))
		return;
	if (has_members) {
		rc = notify_wp_default_set(db_of(call), call->wp_id, members, user_of(call));
		if (!rc)
			rc = auth_audit(call, "follow_default", call->wp_id, "", "%s",
					members ? "members follow" : "off");
	} else {
		rc = notify_follow_set(db_of(call), user_of(call), call->wp_id, path, follow);
	}
	if (rc) {
		reply_err(call->req, rc);
	} else {
		json_t *o =
			json_pack("{s:s, s:s, s:b}", "wp", code, "path", path, "follow", follow);

		if (has_members)
			json_object_set_new(o, "members", json_boolean(members));
		reply_json(call->req, 200, o);
	}
	free(path);
}

void h_follow_put(struct call *call) { follow_change(call, true); }
void h_follow_delete(struct call *call) { follow_change(call, false); }

/* --- settings ----------------------------------------------------------------- */

static void reply_prefs(struct call *call)
{
	struct notify_prefs p;
	bool news = true;
	char lang[16];
	enum err rc = notify_prefs_get(db_of(call), user_of(call), &p);

	if (!rc)
		rc = notify_news_get(db_of(call), user_of(call), &news);
	if (!rc)
		rc = notify_language_get(db_of(call), user_of(call), lang, sizeof lang);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	reply_json(call->req, 200,
		   json_pack("{s:s, s:b, s:b, s:o}", "mode", notify_mode_name(p.mode),
			     "auto_follow", p.auto_follow, "news", news, "language",
			     *lang ? json_string(lang) : json_null()));
	notify_prefs_clear(&p);
}

void h_notify_get(struct call *call) { reply_prefs(call); }

void h_notify_put(struct call *call)
{
	static const char *const modes[] = {"off", "immediate", "hourly", "daily", NULL};
	/* the app's languages (web/js/i18n.js `languages`) */
	static const char *const langs[] = {"en", "de", NULL};
	int lang = 0;
	bool has_lang = false;
	int mode = 0;
	bool auto_follow = true, has_auto = false, has_mode = false, news = true, has_news = false;
	struct jsonin_field f[] = {
		{"mode", JSONIN_ENUM, 0, 0, 0, .choices = modes, .out = &mode,
		 .present = &has_mode},
		{"auto_follow", JSONIN_BOOL, 0, .out = &auto_follow, .present = &has_auto},
		{"news", JSONIN_BOOL, 0, .out = &news, .present = &has_news},
		{"language", JSONIN_ENUM, 0, 0, 0, .choices = langs, .out = &lang,
		 .present = &has_lang},
	};
	struct notify_prefs p;
	enum notify_mode m;
	enum err rc = jsonin_parse(call->json, f, 4);

	if (!rc)
		rc = notify_prefs_get(db_of(call), user_of(call), &p);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	m = p.mode;
	if (has_mode)
		notify_mode_parse(modes[mode], &m);
	rc = db_begin(db_of(call));
	if (!rc)
		rc = notify_prefs_set(db_of(call), user_of(call), m,
				      has_auto ? auto_follow : p.auto_follow);
	if (!rc && has_news)
		rc = notify_news_set(db_of(call), user_of(call), news);
	if (!rc && has_lang)
		rc = notify_language_set(db_of(call), user_of(call), langs[lang]);
	if (!rc)
		rc = db_commit(db_of(call));
	else
		db_rollback(db_of(call));
	notify_prefs_clear(&p);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	reply_prefs(call);
}

/* --- unsubscribe --------------------------------------------------------------- */

/* POST: RFC 8058 one-click. The body ("List-Unsubscribe=One-Click") is
 * read and dropped; the secret in the path is the whole authority. */
struct unsub {
	size_t bytes;
};

static enum err unsub_data(struct http_req *req, const void *data, size_t len, void *arg)
{
	struct unsub *u = arg;

	(void)data;
	u->bytes += len;
	if (u->bytes > 4096) {
		reply_err(req, err_set(ERR_TOOLARGE, "the body is too large"));
		return ERR_TOOLARGE;
	}
	return ERR_OK;
}

static void unsub_end(struct http_req *req, void *arg)
{
	struct call *call = http_req_data(req);
	int64_t uid;
	enum err rc;

	(void)arg;
	rc = notify_unsubscribe(db_of(call), call_param(call, "secret"), &uid);
	if (!rc)
		rc = audit_append(db_of(call), uid, "", http_req_peer(req), "unsubscribe", 0, "",
				  "one-click");
	if (rc) {
		reply_err(req, rc);
		return;
	}
	reply_json(req, 200, json_pack("{s:s}", "mode", "off"));
}

void h_unsubscribe(struct call *call)
{
	static const struct http_body_sink sink = {unsub_data, unsub_end, NULL};
	struct unsub *u = http_req_alloc(call->req, sizeof *u);

	if (!u) {
		reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
		return;
	}
	memset(u, 0, sizeof *u);
	http_req_read_body(call->req, &sink, u);
}

/* GET: a person who clicked the link in the mail's text gets a page
 * with one button (a GET changes nothing: mail scanners follow links). */
void h_unsubscribe_page(struct call *call)
{
	static const char page[] =
		"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<title>Unsubscribe</title></head><body><h1>Stop notification mail</h1>"
		"<p>You will get no more mail about what you follow on consort. Account mail "
		"(password links, security notices) still comes.</p>"
		"<form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" "
		"value=\"One-Click\"><button type=\"submit\">Unsubscribe</button></form>"
		"</body></html>";

	reply_api_headers(call->req);
	http_resp_header(call->req, "Content-Type", "text/html; charset=utf-8");
	http_resp_header(call->req, "Content-Security-Policy",
			 "default-src 'none'; form-action 'self'; frame-ancestors 'none'");
	http_resp_send(call->req, 200, page, sizeof page - 1);
}
