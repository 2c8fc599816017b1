/*
 * h_links — share links (docs/links.md): making, listing and revoking
 * them (signed-in callers), and the recipient's side under
 * /api/v1/s/{secret}: what the link shows, its password, downloading a
 * document, a file of a folder, or a folder as a ZIP streamed as it is
 * read (api/zipstream.h), never through a temporary file.
 *
 * Every decision about a link passes through the policy (acl.h, the
 * "link" principal): acl_link_create, acl_link_open, acl_link_node,
 * acl_link_manage, acl_link_visible. Every access of a recipient is
 * audited as "link #ID" (view, unlock, wrong password, download).
 */
#include <ctype.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "accounts.h"
#include "api/acl.h"
#include "api/apijson.h"
#include "api/app.h"
#include "api/blobbody.h"
#include "api/auth.h"
#include "api/handlers.h"
#include "api/mime.h"
#include "api/router.h"
#include "api/zipstream.h"
#include "cas.h"
#include "db.h"
#include "digest.h"
#include "http/http.h"
#include "http/jobs.h"
#include "http/jsonin.h"
#include "http/reply.h"
#include "links.h"
#include "scans.h"
#include "smallblob.h"
#include "tree.h"

#define LINK_PASSWORD_MIN 8
#define LINK_MAX_USES 1000000
/* A folder's archive holds at most this many files. */
#define LINK_ZIP_MAX_FILES 20000
#define LINK_KEY_HEX 48

static struct db *db_of(struct call *call) { return worker_db(call->worker); }

static const char *link_state(const struct link *l, int64_t now)
{
	if (l->revoked_at)
		return "revoked";
	if (now >= l->expires_at)
		return "expired";
	if (l->max_uses && l->uses >= l->max_uses)
		return "used_up";
	return "live";
}

static json_t *int_or_null(int64_t v) { return v ? json_integer((json_int_t)v) : json_null(); }

/* A link as its creator, its WP's managers and coordinators see it. */
static json_t *link_json(struct call *call, const struct link *l)
{
	char *path = NULL;
	json_t *o;

	if (tree_path(db_of(call), l->node_id, &path))
		path = NULL;
	o = json_pack("{s:I, s:s, s:s, s:s?, s:o, s:{s:s?, s:s?}, s:o, s:o, s:b, s:o, s:I, s:o, "
		      "s:s?, s:o, s:s}",
		      "id", (json_int_t)l->id, "kind", link_kind_names[l->kind], "wp", l->wp_code,
		      "path", path, "version", int_or_null(l->version), "creator", "email",
		      l->creator_email, "name", l->creator_name, "created_at",
		      apijson_time(l->created_at), "expires_at", apijson_time(l->expires_at),
		      "password", l->password_hash != NULL, "max_downloads",
		      int_or_null(l->max_uses), "uses", (json_int_t)l->uses, "last_used_at",
		      apijson_time(l->last_used_at), "note", l->note, "revoked_at",
		      apijson_time(l->revoked_at), "state", link_state(l, db_now()));
	free(path);
	if (o && l->kind == LINK_DROP) {
		/* a drop link counts files, not downloads */
		json_object_del(o, "max_downloads");
		json_object_set_new(o, "max_files", int_or_null(l->max_uses));
		json_object_set_new(o, "max_file_size", int_or_null(l->max_file_size));
	}
	return o;
}

/* --- POST /api/v1/links ------------------------------------------------------------ */

struct mk {
	struct call *call;
	struct link l;
	char *password;
	char *hash;
	char *path;
	struct auth_argon2 params;
	enum err rc;
	char detail[256];
};

static void mk_free(struct mk *m)
{
	if (m->password) {
		explicit_bzero(m->password, strlen(m->password));
		free(m->password);
	}
	m->l.password_hash = NULL; /* m->hash */
	free(m->hash);
	free(m->path);
	link_clear(&m->l);
	free(m);
}

static void mk_finish(struct mk *m)
{
	struct call *call = m->call;
	struct db *db = db_of(call);
	char secret[AUTH_SECRET_LEN + 1], url[AUTH_SECRET_LEN + 8], when[32];
	unsigned char h[32];
	struct link got = {0};
	int64_t id = 0;
	enum err rc = auth_secret_new(secret);

	m->l.password_hash = m->hash;
	if (!rc) {
		auth_secret_hash(secret, h);
		rc = db_begin(db);
	}
	if (!rc) {
		rc = link_add(db, h, &m->l, &id);
		if (!rc)
			rc = auth_audit(call, "link_create", m->l.wp_id, m->path,
					"link #%" PRId64 ", %s, expires %s%s%s", id,
					link_kind_names[m->l.kind],
					apijson_time_text(m->l.expires_at, when),
					m->hash ? ", with password" : "",
					m->l.max_uses ? ", download limit" : "");
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	if (!rc)
		rc = link_get(db, id, &got);
	explicit_bzero(h, sizeof h);
	if (rc) {
		explicit_bzero(secret, sizeof secret);
		reply_err(call->req, rc);
		return;
	}
	snprintf(url, sizeof url, "/s/%s", secret);
	reply_json(call->req, 201,
		   json_pack("{s:o, s:s, s:s}", "link", link_json(call, &got), "secret", secret,
			     "url", url));
	explicit_bzero(secret, sizeof secret);
	explicit_bzero(url, sizeof url);
	link_clear(&got);
}

static void mk_run(void *arg)
{
	struct mk *m = arg;

	m->rc = auth_password_hash(m->password, &m->params, &m->hash);
	if (m->rc)
		snprintf(m->detail, sizeof m->detail, "%s", err_detail());
}

static void mk_done(struct http_req *req, bool alive, void *arg)
{
	struct mk *m = arg;

	(void)req;
	if (alive) {
		if (m->rc)
			reply_err(m->call->req, err_set(m->rc, "%s", m->detail));
		else
			mk_finish(m);
	}
	mk_free(m);
}

/* POST /api/v1/links {"wp","path","kind","version","expires_at","password",
 * "max_downloads","note"}; a drop link: "max_files", "max_file_size"
 * instead of "version" and "max_downloads". */
void h_link_create(struct call *call)
{
	static const char *const kinds[] = {"download", "drop", NULL};
	struct db *db = db_of(call);
	const char *wp = NULL, *path = "", *expires = NULL, *password = NULL, *note = "";
	int64_t version = 0, max_uses = 0, wp_id = 0, expires_at = 0, max_files = 0,
		max_file_size = 0;
	bool has_max_uses = false, has_max_files = false, has_max_size = false;
	int kind = LINK_DOWNLOAD;
	struct jsonin_field f[] = {
		{"wp", JSONIN_STRING, JSONIN_REQUIRED, 1, 32, .out = &wp},
		{"path", JSONIN_STRING, 0, 0, NAME_MAX_PATH_BYTES, .out = &path},
		{"kind", JSONIN_ENUM, 0, .choices = kinds, .out = &kind},
		{"version", JSONIN_INT, JSONIN_NULLABLE, 1, INT64_MAX, .out = &version},
		{"expires_at", JSONIN_STRING, JSONIN_REQUIRED, 1, 40, .out = &expires},
		{"password", JSONIN_STRING, JSONIN_NULLABLE, LINK_PASSWORD_MIN, 1024,
		 .out = &password},
		{"max_downloads", JSONIN_INT, JSONIN_NULLABLE, 1, LINK_MAX_USES, .out = &max_uses,
		 .present = &has_max_uses},
		{"note", JSONIN_STRING, JSONIN_MULTILINE, 0, LINK_NOTE_MAX, .out = &note},
		{"max_files", JSONIN_INT, JSONIN_NULLABLE, 1, LINK_MAX_USES, .out = &max_files,
		 .present = &has_max_files},
		{"max_file_size", JSONIN_INT, JSONIN_NULLABLE, 1, INT64_C(1) << 50,
		 .out = &max_file_size, .present = &has_max_size},
	};
	struct name_path p = {0};
	struct tree_node n = {0};
	struct tree_version v = {0};
	struct mk *m = NULL;
	bool oom = false;
	enum err rc = jsonin_parse(call->json, f, sizeof f / sizeof f[0]);

	if (!rc && kind == LINK_DROP && (version || has_max_uses))
		rc = err_set(ERR_INVALID, "a drop link has no version and no download limit: give "
					  "max_files and max_file_size");
	if (!rc && kind == LINK_DOWNLOAD && (has_max_files || has_max_size))
		rc = err_set(ERR_INVALID,
			     "max_files and max_file_size are for drop links (kind \"drop\")");
	if (kind == LINK_DROP)
		max_uses = max_files;
	if (!rc && !apijson_parse_time(expires, &expires_at))
		rc = err_set(ERR_INVALID, "field 'expires_at': not a date or time "
					  "(2026-12-31 or 2026-12-31T18:00:00Z)");
	if (!rc)
		rc = acl_wp_decide(db, call->caller, wp, 0, ACCT_READ, &wp_id, NULL);
	if (!rc) {
		rc = name_path_from_text(path, &p);
		if (rc)
			rc = err_set(ERR_INVALID, "field 'path': %s", err_detail());
	}
	if (!rc)
		rc = tree_resolve(db, wp_id, &p, &n);
	if (!rc && version && n.is_folder)
		rc = err_set(ERR_INVALID, "field 'version': a folder has no versions");
	if (!rc && version)
		rc = tree_version_get(db, wp_id, n.id, version, &v);
	if (!rc)
		rc = acl_link_create(call, wp_id, &n, kind, expires_at, password != NULL);
	if (!rc && !(m = calloc(1, sizeof *m)))
		rc = err_set(ERR_NOMEM, "out of memory");
	if (!rc) {
		m->call = call;
		m->l.kind = (enum link_kind)kind;
		m->l.wp_id = wp_id;
		m->l.node_id = n.id;
		m->l.version = version;
		m->l.creator_id = call->caller->user_id;
		m->l.created_at = db_now();
		m->l.expires_at = expires_at;
		m->l.max_uses = max_uses;
		m->l.max_file_size = max_file_size;
		m->l.note = jobs_strdup(note, &oom);
		m->password = jobs_strdup(password, &oom);
		m->path = name_path_join(&p);
		if (oom || !m->path)
			rc = err_set(ERR_NOMEM, "out of memory");
		auth_argon2_current(&m->params);
	}
	tree_version_clear(&v);
	tree_node_clear(&n);
	name_path_free(&p);
	if (rc) {
		if (m)
			mk_free(m);
		reply_err(call->req, rc);
		return;
	}
	if (!m->password) {
		mk_finish(m);
		mk_free(m);
		return;
	}
	/* Hashing a password is slow: on the pool, never on the loop. */
	rc = jobs_submit_req(worker_jobs(call->worker), call->req, mk_run, mk_done, m);
	if (rc) {
		mk_free(m);
		if (rc == ERR_LIMIT) {
			http_resp_header(call->req, "Retry-After", "1");
			rc = err_set(ERR_BUSY, "the server is busy; try again shortly");
		}
		reply_err(call->req, rc);
	}
}

/* --- GET /api/v1/links, DELETE /api/v1/links/{id} ------------------------------------ */

static void csv_field(struct evbuffer *b, const char *s, bool last)
{
	/* A leading = + - @ would be a formula in a spreadsheet. */
	bool quote = s && (strpbrk(s, ",\"\r\n") || strchr("=+-@", s[0]) != NULL);

	if (!s)
		s = "";
	if (quote) {
		evbuffer_add(b, "\"", 1);
		if (strchr("=+-@", s[0]) && s[0])
			evbuffer_add(b, "'", 1);
		for (; *s; s++)
			evbuffer_add(b, *s == '"' ? "\"\"" : s, *s == '"' ? 2 : 1);
		evbuffer_add(b, "\"", 1);
	} else {
		evbuffer_add(b, s, strlen(s));
	}
	evbuffer_add(b, last ? "\r\n" : ",", last ? 2 : 1);
}

static void link_csv(struct call *call, struct evbuffer *b, const struct link *l)
{
	char created[32], expires[32], last[32], num[3][24], *path = NULL;

	if (tree_path(db_of(call), l->node_id, &path))
		path = NULL;
	snprintf(num[0], sizeof num[0], "%" PRId64, l->id);
	snprintf(num[1], sizeof num[1], "%" PRId64, l->uses);
	if (l->max_uses)
		snprintf(num[2], sizeof num[2], "%" PRId64, l->max_uses);
	else
		num[2][0] = '\0';
	csv_field(b, num[0], false);
	csv_field(b, link_kind_names[l->kind], false);
	csv_field(b, l->wp_code, false);
	csv_field(b, path, false);
	csv_field(b, l->creator_email, false);
	csv_field(b, apijson_time_text(l->created_at, created), false);
	csv_field(b, apijson_time_text(l->expires_at, expires), false);
	csv_field(b, l->password_hash ? "yes" : "no", false);
	csv_field(b, num[1], false);
	csv_field(b, num[2], false);
	csv_field(b, apijson_time_text(l->last_used_at, last), false);
	csv_field(b, link_state(l, db_now()), false);
	csv_field(b, l->note, true);
	free(path);
}

/* GET /api/v1/links[?wp=CODE][&state=live|all][&format=csv]: the links the
 * caller may see (acl_link_visible), newest first. */
void h_links_list(struct call *call)
{
	struct db *db = db_of(call);
	const char *wp = http_req_query_param(call->req, "wp");
	const char *state = http_req_query_param(call->req, "state");
	const char *format = http_req_query_param(call->req, "format");
	struct link *l = NULL;
	size_t n = 0;
	int64_t wp_id = 0;
	bool csv = false;
	enum err rc = ERR_OK;

	if (state && strcmp(state, "live") && strcmp(state, "all"))
		rc = err_set(ERR_INVALID, "state must be live or all");
	else if (format && strcmp(format, "csv") && strcmp(format, "json"))
		rc = err_set(ERR_INVALID, "format must be json or csv");
	csv = format && !strcmp(format, "csv");
	if (!rc && wp)
		rc = acl_wp_decide(db, call->caller, wp, 0, ACCT_READ, &wp_id, NULL);
	if (!rc)
		rc = links_list(db, !state || !strcmp(state, "live"), db_now(), wp_id, &l, &n);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	if (csv) {
		struct evbuffer *b = evbuffer_new();
		size_t len;
		char *text;

		if (!b) {
			links_free(l, n);
			reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
			return;
		}
		evbuffer_add_printf(b, "id,kind,wp,path,creator,created_at,expires_at,password,"
				       "uses,max_downloads,last_used_at,state,note\r\n");
		for (size_t i = 0; i < n; i++)
			if (acl_link_visible(call, &l[i]))
				link_csv(call, b, &l[i]);
		len = evbuffer_get_length(b);
		text = (char *)evbuffer_pullup(b, (ev_ssize_t)len);
		http_resp_header(call->req, "Content-Type", "text/csv; charset=utf-8");
		http_resp_header(call->req, "Content-Disposition",
				 "attachment; filename=\"share-links.csv\"");
		http_resp_send(call->req, 200, text, len);
		evbuffer_free(b);
	} else {
		json_t *arr = json_array();

		for (size_t i = 0; arr && i < n; i++)
			if (acl_link_visible(call, &l[i]))
				json_array_append_new(arr, link_json(call, &l[i]));
		reply_json(call->req, 200, json_pack("{s:o}", "links", arr));
	}
	links_free(l, n);
}

/* DELETE /api/v1/links/{id}: revoke; it answers 404 at once. */
void h_link_revoke(struct call *call)
{
	struct db *db = db_of(call);
	struct link l = {0}, after = {0};
	int64_t id = 0;
	enum err rc = ERR_OK;

	if (!apijson_parse_id(call_param(call, "id"), &id))
		rc = err_set(ERR_NOTFOUND, "no such link");
	if (!rc)
		rc = link_get(db, id, &l);
	if (!rc)
		rc = acl_link_manage(call, &l);
	if (!rc)
		rc = db_begin(db);
	if (!rc) {
		rc = link_revoke(db, id, call->caller->user_id, db_now());
		if (!rc)
			rc = auth_audit(call, "link_revoke", l.wp_id, "", "link #%" PRId64, id);
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	if (!rc)
		rc = link_get(db, id, &after);
	if (rc)
		reply_err(call->req, rc);
	else
		reply_json(call->req, 200, json_pack("{s:o}", "link", link_json(call, &after)));
	link_clear(&l);
	link_clear(&after);
}

/* --- the recipient's side: /api/v1/s/{secret}/... ------------------------------------- */

/* The link of the request's secret, or an answer (404) and false. */
static bool open_link(struct call *call, struct link *l)
{
	enum err rc = acl_link_open(db_of(call), call_param(call, "secret"), l);

	http_resp_header(call->req, "Referrer-Policy", "no-referrer");
	if (rc)
		reply_err(call->req, rc);
	return !rc;
}

/* What unlocks a link with a password once it was given: a digest of the
 * link's secret and its password hash. Only someone who had both the URL
 * and the password gets it; it stops working with the link. */
static void link_key(const char *secret, const char *pwhash, char out[LINK_KEY_HEX + 1])
{
	unsigned char d[32];
	struct digest *g = digest_new(DIGEST_SHA256);

	out[0] = '\0';
	if (!g)
		return;
	digest_update(g, "consort-link-key\n", 17);
	digest_update(g, secret, strlen(secret));
	digest_update(g, "\n", 1);
	digest_update(g, pwhash, strlen(pwhash));
	digest_final(g, d);
	digest_free(g);
	digest_hex(d, LINK_KEY_HEX / 2, out);
	explicit_bzero(d, sizeof d);
}

/* Does the request carry the key of a link with a password (header
 * X-Link-Key, or ?key= for a download the browser navigates to)? */
static bool link_unlocked(struct call *call, const struct link *l)
{
	const char *sent = http_req_header(call->req, "X-Link-Key");
	char want[LINK_KEY_HEX + 1];
	bool ok;

	if (!l->password_hash)
		return true;
	if (!sent)
		sent = http_req_query_param(call->req, "key");
	if (!sent || strlen(sent) != LINK_KEY_HEX)
		return false;
	link_key(call_param(call, "secret"), l->password_hash, want);
	ok = strlen(want) == LINK_KEY_HEX && digest_equal(sent, want, LINK_KEY_HEX);
	explicit_bzero(want, sizeof want);
	return ok;
}

static void audit_link(struct call *call, const struct link *l, const char *action,
		       const char *object, const char *detail)
{
	char who[40];

	snprintf(who, sizeof who, "link #%" PRId64, l->id);
	auth_audit_as(call, 0, who, action, l->wp_id, object ? object : "", "%s", detail);
}

bool share_drop_open(struct call *call, struct link *l)
{
	if (!open_link(call, l))
		return false;
	if (l->kind != LINK_DROP) {
		link_clear(l);
		reply_err(call->req, err_set(ERR_NOTFOUND, "this link takes no uploads"));
		return false;
	}
	if (!link_unlocked(call, l)) {
		link_clear(l);
		reply_err(call->req, err_set(ERR_UNAUTHENTICATED, "this link needs its password"));
		return false;
	}
	return true;
}

static json_t *node_entry(const struct tree_node *n)
{
	return json_pack("{s:s, s:b, s:I, s:o}", "name", n->name, "folder", n->is_folder, "size",
			 (json_int_t)n->size, "modified_at", apijson_time(n->modified_at));
}

/* GET /api/v1/s/{secret}[?path=]: what the link shows. A link with a
 * password shows only that it needs one until its key comes along. */
void h_share_get(struct call *call)
{
	struct db *db = db_of(call);
	const char *rel = http_req_query_param(call->req, "path");
	struct link l;
	struct tree_node n = {0};
	struct tree_version v = {0};
	struct tree_node_list list = {0};
	json_t *o, *target = NULL;
	enum err rc;

	if (!open_link(call, &l))
		return;
	o = json_pack("{s:s, s:o, s:b, s:b}", "kind", link_kind_names[l.kind], "expires_at",
		      apijson_time(l.expires_at), "password_required", l.password_hash != NULL,
		      "unlocked", link_unlocked(call, &l));
	if (!link_unlocked(call, &l)) {
		audit_link(call, &l, "link_view", NULL, "password asked");
		reply_json(call->req, 200, json_pack("{s:o}", "link", o));
		link_clear(&l);
		return;
	}
	json_object_set_new(o, "note", json_string(l.note));
	if (l.kind == LINK_DROP) {
		/* The uploader sees the limits, never what is in the folder. */
		json_object_set_new(o, "max_files", int_or_null(l.max_uses));
		json_object_set_new(o, "max_file_size", int_or_null(l.max_file_size));
		json_object_set_new(
			o, "files_left",
			l.max_uses ? json_integer((json_int_t)(l.max_uses > l.uses
								       ? l.max_uses - l.uses
								       : 0))
				   : json_null());
		audit_link(call, &l, "link_view", NULL, "drop page opened");
		link_touch(db, l.id, db_now());
		reply_json(call->req, 200, json_pack("{s:o}", "link", o));
		link_clear(&l);
		return;
	}
	rc = acl_link_node(db, &l, rel, &n);
	if (!rc && !n.is_folder) {
		rc = tree_version_get(db, l.wp_id, n.id, l.version, &v);
		if (!rc)
			target = json_pack("{s:s, s:s, s:I, s:I, s:s, s:o}", "type", "document",
					   "name", n.name, "size", (json_int_t)v.size, "version",
					   (json_int_t)v.number, "mime", mime_for_download(v.mime),
					   "modified_at", apijson_time(v.uploaded_at));
	} else if (!rc) {
		struct tree_list_opts lo = {.limit = TREE_LIST_MAX};

		rc = tree_list(db, l.wp_id, n.id, &lo, &list);
		if (!rc) {
			json_t *entries = json_array();

			for (size_t i = 0; entries && i < list.n; i++)
				json_array_append_new(entries, node_entry(&list.items[i]));
			target = json_pack("{s:s, s:s, s:s, s:o, s:b}", "type", "folder", "name",
					   n.name, "path", rel ? rel : "", "entries", entries,
					   "truncated", list.total > list.n);
		}
	}
	if (!rc && !target)
		rc = err_set(ERR_NOMEM, "out of memory");
	if (!rc) {
		audit_link(call, &l, "link_view", n.path,
			   rel && *rel ? "folder browsed" : "opened");
		link_touch(db, l.id, db_now());
		json_object_set_new(o, "target", target);
		reply_json(call->req, 200, json_pack("{s:o}", "link", o));
	} else {
		json_decref(o);
		reply_err(call->req, rc);
	}
	tree_node_list_free(&list);
	tree_version_clear(&v);
	tree_node_clear(&n);
	link_clear(&l);
}

/* --- POST /api/v1/s/{secret}/unlock {"password"} ------------------------------------- */

struct unlock {
	struct call *call;
	struct link l;
	char *password;
	struct auth_ticket ticket;
	bool verified;
};

static void unlock_free(struct unlock *u)
{
	if (u->password) {
		explicit_bzero(u->password, strlen(u->password));
		free(u->password);
	}
	link_clear(&u->l);
	free(u);
}

static void unlock_run(void *arg)
{
	struct unlock *u = arg;

	u->verified = auth_password_verify(u->l.password_hash, u->password);
}

static void unlock_done(struct http_req *req, bool alive, void *arg)
{
	struct unlock *u = arg;
	struct call *call = u->call;
	char key[LINK_KEY_HEX + 1];
	unsigned locked = 0;

	(void)req;
	auth_throttle_end(&u->ticket, u->verified, &locked);
	if (!alive) {
		unlock_free(u);
		return;
	}
	if (!u->verified) {
		char detail[64];

		snprintf(detail, sizeof detail, "wrong password%s",
			 locked ? "; further attempts paused" : "");
		audit_link(call, &u->l, "link_password_failed", NULL, detail);
		reply_err(call->req, err_set(ERR_CREDENTIALS, "wrong password"));
	} else {
		audit_link(call, &u->l, "link_unlock", NULL, "password given");
		link_key(call_param(call, "secret"), u->l.password_hash, key);
		reply_json(call->req, 200, json_pack("{s:s}", "key", key));
		explicit_bzero(key, sizeof key);
	}
	unlock_free(u);
}

void h_share_unlock(struct call *call)
{
	const char *password = NULL;
	struct jsonin_field f[] = {
		{"password", JSONIN_STRING, JSONIN_REQUIRED, 1, 1024, .out = &password},
	};
	struct unlock *u;
	char account[40];
	unsigned retry = 0;
	bool oom = false;
	enum err rc;

	u = calloc(1, sizeof *u);
	if (!u) {
		reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
		return;
	}
	u->call = call;
	if (!open_link(call, &u->l)) {
		unlock_free(u);
		return;
	}
	rc = jsonin_parse(call->json, f, 1);
	if (!rc && !u->l.password_hash)
		rc = err_set(ERR_INVALID, "this link has no password");
	if (rc) {
		unlock_free(u);
		reply_err(call->req, rc);
		return;
	}
	/* The sign-in throttle, keyed by the link: guessing one link's
	 * password is as slow as guessing an account's, from one address or
	 * from many. */
	snprintf(account, sizeof account, "link:%" PRId64, u->l.id);
	if (auth_throttle_begin(account, http_req_peer(call->req), &u->ticket, &retry)) {
		audit_link(call, &u->l, "link_password_failed", NULL, "throttled");
		http_resp_headerf(call->req, "Retry-After", "%u", retry ? retry : 1);
		reply_err(call->req, err_set(ERR_LIMIT, "too many attempts; try again later"));
		unlock_free(u);
		return;
	}
	u->password = jobs_strdup(password, &oom);
	rc = oom ? err_set(ERR_NOMEM, "out of memory")
		 : jobs_submit_req(worker_jobs(call->worker), call->req, unlock_run, unlock_done,
				   u);
	if (rc) {
		auth_throttle_release(&u->ticket);
		unlock_free(u);
		if (rc == ERR_LIMIT) {
			http_resp_header(call->req, "Retry-After", "1");
			rc = err_set(ERR_BUSY, "the server is busy; try again shortly");
		}
		reply_err(call->req, rc);
	}
}

/* --- downloads ------------------------------------------------------------------------- */

/* Headers of every download through a link: never rendered here. */
static void download_headers(struct call *call)
{
	http_resp_header(call->req, "X-Content-Type-Options", "nosniff");
	http_resp_header(call->req, "Content-Security-Policy", "default-src 'none'; sandbox");
	http_resp_header(call->req, "Cache-Control", "no-store");
}

/* The link's target may be downloaded only once its content is not
 * known to be infected. */
static enum err not_infected(struct db *db, const char *blob)
{
	struct scan_record r;

	if (!scans_get(db, blob, &r) && r.verdict == SCAN_INFECTED)
		return err_set(ERR_INFECTED, "this file was found to contain malware and is not "
					     "shared");
	return ERR_OK;
}

/* Count one download (atomically with the link's limit) and audit it. */
static enum err count_use(struct call *call, const struct link *l, const char *object,
			  const char *detail)
{
	struct db *db = db_of(call);
	enum err rc = db_begin(db);

	if (rc)
		return rc;
	rc = link_use(db, l->id, db_now());
	if (rc == ERR_NOTFOUND)
		rc = err_set(ERR_NOTFOUND, "this link does not exist, has expired or was revoked");
	if (!rc)
		audit_link(call, l, "link_download", object, detail);
	if (!rc)
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
	return rc;
}

static enum err open_blob(struct call *call, const char *blob, uint64_t size, struct cas_reader **r)
{
	enum err rc =
		smallblob_open(worker_db(call->worker), app_cas(worker_app(call->worker)), blob, r);

	if (!rc && cas_reader_size(*r) != size) {
		cas_reader_close(*r);
		*r = NULL;
		rc = err_set(ERR_CORRUPT, "stored content has the wrong size; run consort fsck");
	}
	if (rc == ERR_NOTFOUND)
		rc = err_set(ERR_CORRUPT, "stored content is missing; run consort fsck");
	return rc;
}

/* GET /api/v1/s/{secret}/file[?path=][&key=]: the document of a document
 * link (its fixed version or the latest), or a file of a folder link. */
void h_share_file(struct call *call)
{
	struct db *db = db_of(call);
	const char *rel = http_req_query_param(call->req, "path");
	struct link l;
	struct tree_node n = {0};
	struct tree_version v = {0};
	struct blob_body *d = NULL;
	char detail[96];
	enum err rc;

	if (!open_link(call, &l))
		return;
	if (!link_unlocked(call, &l))
		rc = err_set(ERR_UNAUTHENTICATED, "this link needs its password");
	else
		rc = acl_link_node(db, &l, rel, &n);
	if (!rc && n.is_folder)
		rc = err_set(ERR_INVALID, "'%s' is a folder: download it as a ZIP (.../zip)",
			     n.name && *n.name ? n.name : "/");
	if (!rc)
		rc = tree_version_get(db, l.wp_id, n.id, l.node_id == n.id ? l.version : 0, &v);
	if (!rc)
		rc = not_infected(db, v.blob);
	if (!rc && !(d = calloc(1, sizeof *d)))
		rc = err_set(ERR_NOMEM, "out of memory");
	if (!rc)
		rc = open_blob(call, v.blob, v.size, &d->r);
	if (!rc && !http_req_is_head(call->req)) {
		snprintf(detail, sizeof detail, "version %" PRId64 ", %" PRIu64 " bytes", v.number,
			 v.size);
		rc = count_use(call, &l, n.path, detail);
	}
	if (rc) {
		if (d)
			blob_body_ops.release(d);
		reply_err(call->req, rc);
	} else {
		download_headers(call);
		http_resp_header(call->req, "Content-Type", mime_for_download(v.mime));
		blob_body_attachment(call->req, n.name);
		d->end = v.size;
		http_resp_stream(call->req, 200, (int64_t)v.size, &blob_body_ops, d);
	}
	tree_version_clear(&v);
	tree_node_clear(&n);
	link_clear(&l);
}

/* --- a folder as a ZIP ------------------------------------------------------------------ */

struct zfile {
	char *name; /* inside the archive */
	char blob[DIGEST_SHA256_HEX_LEN + 1];
	uint64_t size;
	int64_t mtime;
};

struct zjob {
	struct db *db; /* the worker's: the body is filled on its thread */
	struct cas *cas;
	struct zfile *f;
	size_t n, cap, next;
	struct zipstream *z;
	struct cas_reader *r; /* of the open entry */
	uint64_t pos;
	bool finished;
};

static void zjob_free(struct zjob *j)
{
	for (size_t i = 0; i < j->n; i++)
		free(j->f[i].name);
	free(j->f);
	zip_free(j->z);
	cas_reader_close(j->r);
	free(j);
}

/* Every live document below folder `folder` (its path in the archive
 * `prefix`), depth first, skipping what is known to be infected. */
static enum err collect(struct db *db, int64_t wp_id, int64_t folder, const char *prefix, int depth,
			struct zjob *j)
{
	struct tree_list_opts o = {.limit = TREE_LIST_MAX};
	enum err rc = ERR_OK;

	if (depth > NAME_MAX_DEPTH)
		return ERR_OK;
	for (;;) {
		struct tree_node_list l = {0};

		rc = tree_list(db, wp_id, folder, &o, &l);
		for (size_t i = 0; !rc && i < l.n; i++) {
			const struct tree_node *e = &l.items[i];
			size_t len = strlen(prefix) + strlen(e->name) + 2;
			char *name = malloc(len);

			if (!name) {
				rc = err_set(ERR_NOMEM, "out of memory");
				break;
			}
			snprintf(name, len, "%s%s%s", prefix, *prefix ? "/" : "", e->name);
			if (e->is_folder) {
				rc = collect(db, wp_id, e->id, name, depth + 1, j);
				free(name);
				continue;
			}
			if (not_infected(db, e->blob)) {
				free(name);
				continue;
			}
			if (j->n == LINK_ZIP_MAX_FILES) {
				free(name);
				rc = err_set(ERR_TOOLARGE,
					     "the folder holds more than %d files; share a smaller "
					     "one",
					     LINK_ZIP_MAX_FILES);
				break;
			}
			if (j->n == j->cap) {
				size_t cap = j->cap ? 2 * j->cap : 64;
				struct zfile *nf = realloc(j->f, cap * sizeof *nf);

				if (!nf) {
					free(name);
					rc = err_set(ERR_NOMEM, "out of memory");
					break;
				}
				j->f = nf;
				j->cap = cap;
			}
			j->f[j->n].name = name;
			memcpy(j->f[j->n].blob, e->blob, sizeof e->blob);
			j->f[j->n].size = e->size;
			j->f[j->n].mtime = e->modified_at;
			j->n++;
		}
		o.offset += l.n;
		if (rc || l.n == 0 || o.offset >= l.total) {
			tree_node_list_free(&l);
			break;
		}
		tree_node_list_free(&l);
	}
	return rc;
}

static enum err zip_fill(struct http_req *req, struct evbuffer *out, size_t max, bool *done,
			 void *arg)
{
	struct zjob *j = arg;
	unsigned char head[ZIP_HEADER_MAX];
	size_t len = 0;
	enum err rc = ERR_OK;

	(void)req;
	if (!j->r && j->next < j->n) {
		const struct zfile *f = &j->f[j->next];
		unsigned char *local = malloc(ZIP_HEADER_MAX + strlen(f->name));

		if (!local)
			return err_set(ERR_NOMEM, "out of memory");
		rc = smallblob_open(j->db, j->cas, f->blob, &j->r);
		if (!rc && cas_reader_size(j->r) != f->size)
			rc = err_set(ERR_CORRUPT, "stored content has the wrong size");
		if (!rc)
			rc = zip_entry_begin(j->z, f->name, f->size, f->mtime, local, &len);
		if (!rc)
			evbuffer_add(out, local, len);
		free(local);
		if (rc)
			return rc;
		j->pos = 0;
		return ERR_OK;
	}
	if (j->r) {
		const struct zfile *f = &j->f[j->next];
		uint64_t left = f->size - j->pos;
		size_t n = left < max ? (size_t)left : max, got = 0;
		struct evbuffer_iovec vec;

		if (n > CAS_READ_WINDOW)
			n = CAS_READ_WINDOW;
		if (n) {
			if (evbuffer_reserve_space(out, (ev_ssize_t)n, &vec, 1) < 1)
				return err_set(ERR_NOMEM, "out of memory");
			rc = cas_reader_read(j->r, j->pos, vec.iov_base, n, &got);
			if (rc)
				return rc;
			if (!got)
				return err_set(ERR_CORRUPT, "blob shorter than its version says");
			zip_entry_data(j->z, vec.iov_base, got);
			vec.iov_len = got;
			evbuffer_commit_space(out, &vec, 1);
			j->pos += got;
		}
		if (j->pos >= f->size) {
			rc = zip_entry_end(j->z, head, &len);
			if (rc)
				return rc;
			evbuffer_add(out, head, len);
			cas_reader_close(j->r);
			j->r = NULL;
			j->next++;
		}
		return ERR_OK;
	}
	if (!j->finished) {
		unsigned char *tail = NULL;

		rc = zip_finish(j->z, &tail, &len);
		if (rc)
			return rc;
		evbuffer_add(out, tail, len);
		free(tail);
		j->finished = true;
	}
	*done = true;
	return ERR_OK;
}

static void zip_release(void *arg) { zjob_free(arg); }

static const struct http_body_source zip_ops = {zip_fill, zip_release};

/* GET /api/v1/s/{secret}/zip[?path=][&key=]: a folder link's folder (or
 * one below it) as a ZIP of its documents, streamed. */
void h_share_zip(struct call *call)
{
	struct db *db = db_of(call);
	const char *rel = http_req_query_param(call->req, "path");
	struct link l;
	struct tree_node n = {0};
	struct zjob *j = NULL;
	char detail[96], *fname = NULL;
	enum err rc;

	if (!open_link(call, &l))
		return;
	if (!link_unlocked(call, &l))
		rc = err_set(ERR_UNAUTHENTICATED, "this link needs its password");
	else
		rc = acl_link_node(db, &l, rel, &n);
	if (!rc && !n.is_folder)
		rc = err_set(ERR_INVALID, "'%s' is a document: download it with .../file", n.name);
	if (!rc && !(j = calloc(1, sizeof *j)))
		rc = err_set(ERR_NOMEM, "out of memory");
	if (!rc && !(j->z = zip_new()))
		rc = err_set(ERR_NOMEM, "out of memory");
	if (!rc) {
		j->db = worker_db(call->worker);
		j->cas = app_cas(worker_app(call->worker));
		rc = db_begin_read(db);
		if (!rc) {
			rc = collect(db, l.wp_id, n.id, "", 0, j);
			db_rollback(db);
		}
	}
	if (!rc && !http_req_is_head(call->req)) {
		snprintf(detail, sizeof detail, "ZIP of %zu files", j->n);
		rc = count_use(call, &l, n.path, detail);
	}
	if (!rc) {
		const char *base = n.name && *n.name ? n.name : (l.wp_code ? l.wp_code : "files");
		size_t len = strlen(base) + 5;

		fname = malloc(len);
		if (!fname)
			rc = err_set(ERR_NOMEM, "out of memory");
		else
			snprintf(fname, len, "%s.zip", base);
	}
	if (rc) {
		if (j)
			zjob_free(j);
		reply_err(call->req, rc);
	} else {
		download_headers(call);
		http_resp_header(call->req, "Content-Type", "application/zip");
		blob_body_attachment(call->req, fname);
		http_resp_stream(call->req, 200, -1, &zip_ops, j);
	}
	free(fname);
	tree_node_clear(&n);
	link_clear(&l);
}
