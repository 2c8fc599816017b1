/*
 * h_search — GET /api/v1/search: full-text search of what the caller
 * may read.
 *
 * The work packages the caller may read come from the policy module
 * (acl_readable_wps) and go into the Xapian query as a filter, so hits,
 * totals, facets and spelling suggestions only ever reflect those work
 * packages.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/acl.h"
#include "api/handlers.h"
#include "http/http.h"
#include "indexq.h"
#include "name.h"
#include "http/reply.h"
#include "api/router.h"
#include "api/app.h"
#include "xap.h"

#define DEFAULT_LIMIT 20

/* A query parameter into *out, NULL when absent. http_req_query_param
 * answers NULL also for a value it cannot decode (bad percent-encoding,
 * an encoded NUL): that is a 400 here, not a missing filter. */
static enum err param(struct http_req *req, const char *name, const char **out)
{
	const char *p = http_req_query(req);
	size_t n = strlen(name);

	*out = http_req_query_param(req, name);
	if (*out)
		return ERR_OK;
	while (p && *p) {
		const char *amp = strchr(p, '&');
		size_t plen = amp ? (size_t)(amp - p) : strlen(p);

		if (plen >= n && !memcmp(p, name, n) && (plen == n || p[n] == '='))
			return err_set(ERR_INVALID,
				       "%s is not valid percent-encoding or holds a NUL byte",
				       name);
		if (!amp)
			break;
		p = amp + 1;
	}
	return ERR_OK;
}

/* A non-negative integer parameter in [0, max]; def when absent. */
static enum err uint_param(struct http_req *req, const char *name, unsigned def, unsigned max,
			   unsigned *out)
{
	const char *v;
	unsigned long n = 0;
	enum err rc = param(req, name, &v);

	*out = def;
	if (rc || !v)
		return rc;
	if (!*v || strlen(v) > 9)
		return err_set(ERR_INVALID, "%s must be a number from 0 to %u", name, max);
	for (const char *p = v; *p; p++) {
		if (*p < '0' || *p > '9')
			return err_set(ERR_INVALID, "%s must be a number from 0 to %u", name, max);
		n = n * 10 + (unsigned long)(*p - '0');
	}
	if (n > max)
		return err_set(ERR_INVALID, "%s must be a number from 0 to %u", name, max);
	*out = (unsigned)n;
	return ERR_OK;
}

static bool is_type_word(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 15)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

static json_t *iso_time(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[32];

	if (t <= 0 || !gmtime_r(&tt, &tm))
		return json_null();
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

/* WP codes by id, looked up once per request. */
struct wpnames {
	int64_t id[16];
	char code[16][64];
	size_t n;
};

static const char *wp_code(struct db *db, struct wpnames *c, int64_t id)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->id[i] == id)
			return c->code[i];
	if (c->n == sizeof c->id / sizeof c->id[0])
		c->n = 0; /* a tiny cache: start over */
	if (indexq_wp_code(db, id, c->code[c->n], sizeof c->code[c->n]))
		return NULL;
	c->id[c->n] = id;
	return c->code[c->n++];
}

static json_t *hit_json(struct db *db, struct wpnames *names, const struct xap_hit *h)
{
	json_t *meta = json_loads(h->meta, 0, NULL);
	json_t *o = json_object();
	const char *code = wp_code(db, names, h->wp_id);
	static const char *const copy[] = {"path",     "name",        "title",  "type",
					   "mime",     "author",      "status", "deliverable",
					   "language", "index_status"};

	if (!meta || !o) {
		json_decref(meta);
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "id", json_integer(h->node_id));
	json_object_set_new(o, "wp",
			    code                          ? json_string(code)
			    : json_object_get(meta, "wp") ? json_incref(json_object_get(meta, "wp"))
							  : json_null());
	json_object_set(o, "version", json_object_get(meta, "version"));
	for (size_t i = 0; i < sizeof copy / sizeof copy[0]; i++) {
		json_t *v = json_object_get(meta, copy[i]);

		json_object_set(o, copy[i], v ? v : json_string(""));
	}
	json_object_set_new(o, "snippet", json_string(h->snippet));
	if (h->page > 0)
		json_object_set_new(o, "page", json_integer(h->page));
	json_object_set(o, "size", json_object_get(meta, "size"));
	json_object_set_new(o, "date", iso_time(json_integer_value(json_object_get(meta, "date"))));
	if (json_object_get(meta, "created"))
		json_object_set_new(o, "created",
				    iso_time(json_integer_value(json_object_get(meta, "created"))));
	if (json_object_get(meta, "pages"))
		json_object_set(o, "pages", json_object_get(meta, "pages"));
	if (json_string_length(json_object_get(meta, "reason")))
		json_object_set(o, "index_reason", json_object_get(meta, "reason"));
	json_object_set_new(o, "score", json_integer(h->percent));
	json_decref(meta);
	return o;
}

void h_search(struct call *call)
{
	struct http_req *req = call->req;
	struct db *db = worker_db(call->worker);
	const char *q, *wp, *type;
	struct xap_query xq = {0};
	struct xap_result *res = NULL;
	struct wpnames names = {0};
	int64_t *readable = NULL, only;
	size_t nreadable = 0;
	unsigned limit, offset;
	json_t *body = NULL, *hits, *fw, *ft;
	enum err rc;

	rc = param(req, "q", &q);
	if (!rc)
		rc = param(req, "wp", &wp);
	if (!rc)
		rc = param(req, "type", &type);
	if (rc)
		goto fail;
	if (!q || strspn(q, " \t\r\n") == strlen(q)) {
		rc = err_set(ERR_INVALID, "q (the query) is required");
		goto fail;
	}
	if (strlen(q) > XAP_MAX_QUERY) {
		rc = err_set(ERR_INVALID, "q is longer than %d bytes", XAP_MAX_QUERY);
		goto fail;
	}
	/* Xapian would read stray bytes as Latin-1 and search for that. */
	if (!name_utf8_valid(q, strlen(q))) {
		rc = err_set(ERR_INVALID, "q is not valid UTF-8");
		goto fail;
	}
	rc = uint_param(req, "limit", DEFAULT_LIMIT, XAP_MAX_LIMIT, &limit);
	if (!rc)
		rc = uint_param(req, "offset", 0, XAP_MAX_OFFSET, &offset);
	if (rc)
		goto fail;
	if (type && !is_type_word(type)) {
		rc = err_set(ERR_INVALID, "type must be a document type such as pdf or docx");
		goto fail;
	}
	rc = acl_readable_wps(call, &readable, &nreadable);
	if (rc)
		goto fail;
	xq.wps = readable;
	xq.nwps = nreadable;
	if (wp) {
		bool ok = false;

		/* Unknown and unreadable look the same: no existence leaks. */
		if (indexq_wp_id(db, wp, &only) == ERR_OK)
			for (size_t i = 0; i < nreadable && !ok; i++)
				ok = readable[i] == only;
		if (!ok) {
			rc = err_set(ERR_NOTFOUND, "no work package '%s'", wp);
			goto fail;
		}
		xq.wps = &only;
		xq.nwps = 1;
	}
	xq.q = q;
	xq.type = type;
	xq.limit = limit;
	xq.offset = offset;
	rc = xap_search(worker_search(call->worker), &xq, &res);
	if (rc)
		goto fail;

	body = json_object();
	hits = json_array();
	fw = json_array();
	ft = json_array();
	if (!body || !hits || !fw || !ft) {
		json_decref(hits);
		json_decref(fw);
		json_decref(ft);
		rc = err_set(ERR_NOMEM, "out of memory");
		goto fail;
	}
	json_object_set_new(body, "total", json_integer((json_int_t)res->total));
	json_object_set_new(body, "total_exact", json_boolean(res->total_exact));
	json_object_set_new(body, "offset", json_integer(offset));
	json_object_set_new(body, "limit", json_integer(limit));
	for (size_t i = 0; i < res->nhits; i++) {
		json_t *h = hit_json(db, &names, &res->hits[i]);

		if (h)
			json_array_append_new(hits, h);
	}
	json_object_set_new(body, "hits", hits);
	for (size_t i = 0; i < res->nwp_facets; i++) {
		const char *code = wp_code(db, &names, strtoll(res->wp_facets[i].value, NULL, 10));

		if (code)
			json_array_append_new(fw, json_pack("{s:s, s:I}", "wp", code, "count",
							    (json_int_t)res->wp_facets[i].count));
	}
	for (size_t i = 0; i < res->ntype_facets; i++)
		json_array_append_new(ft,
				      json_pack("{s:s, s:I}", "type", res->type_facets[i].value,
						"count", (json_int_t)res->type_facets[i].count));
	json_object_set_new(body, "facets", json_pack("{s:o, s:o}", "wp", fw, "type", ft));
	json_object_set_new(body, "suggestion",
			    res->suggestion ? json_string(res->suggestion) : json_null());
	/* People, partners and work packages, apart from the documents
	 * (h_directory.c): on the first page only. */
	if (offset == 0)
		json_object_set_new(body, "directory",
				    directory_search_json(call, q, readable, nreadable));
	xap_result_free(res);
	free(readable);
	reply_json(req, 200, body);
	return;
fail:
	xap_result_free(res);
	free(readable);
	reply_err(req, rc);
}
