/* router — see router.h. */
#include "api/router.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/acl.h"
#include "api/config.h"
#include "api/publicurl.h"
#include "http/http.h"
#include "http/reply.h"
#include "api/app.h"

const char *access_name(enum access a)
{
	static const char *const names[ACCESS__COUNT] = {
		[ACCESS_UNDECLARED] = "undeclared",
		[ACCESS_PUBLIC] = "public",
		[ACCESS_USER] = "user",
		[ACCESS_WP_READ] = "wp:read",
		[ACCESS_WP_WRITE] = "wp:write",
		[ACCESS_WP_MANAGE] = "wp:manage",
		[ACCESS_COORDINATOR] = "coordinator",
		[ACCESS_SESSION] = "session",
		[ACCESS_SCRAPER] = "scraper",
		[ACCESS_WP_WRITE_BY_METADATA] = "metadata-wp:write",
		[ACCESS_DAV_COPY] = "dav:copy",
		[ACCESS_DAV_MOVE] = "dav:move",
		[ACCESS_UPLOAD_OWNER] = "upload:owner",
		[ACCESS_SUDO] = "session:sudo",
		[ACCESS_COORDINATOR_SUDO] = "coordinator:sudo",
	};

	return (unsigned)a < ACCESS__COUNT ? names[a] : "invalid";
}

/* With public-url set, a request that names another host in Host was
 * meant for another server (or crafted to make this one build links to
 * it): 421. Health checks and metrics scrapers reach a server by its
 * address, and their answers carry no link. A request without Host
 * (HTTP/1.0) names no other host. */
static bool misdirected(const struct config *cfg, const struct route *r, struct http_req *req)
{
	const char *host = http_req_header(req, "Host");

	if (!cfg->public_url || !host)
		return false;
	if (r && (r->access == ACCESS_SCRAPER || !strcmp(r->pattern, "/healthz")))
		return false;
	return !publicurl_names_host(cfg->public_url, host);
}

const char *call_param(const struct call *call, const char *name)
{
	size_t n = strlen(name);

	for (int i = 0; i < call->nparams; i++)
		if (call->param_name_lens[i] == n && !memcmp(call->param_names[i], name, n))
			return call->params[i];
	return NULL;
}

/* Next '/'-separated segment of [*p, end); advances *p past it. */
static bool next_segment(const char **p, const char *end, const char **seg, size_t *len)
{
	const char *s = *p, *e;

	if (s >= end)
		return false;
	if (*s == '/')
		s++;
	e = memchr(s, '/', (size_t)(end - s));
	if (!e)
		e = end;
	*seg = s;
	*len = (size_t)(e - s);
	*p = e;
	return true;
}

/* Match `path` against `pattern`, filling call params. Returns false on
 * no match. Single-segment params point into the path (raw). */
static bool match(const char *pattern, const char *path, struct call *call)
{
	const char *pp = pattern, *pend = pattern + strlen(pattern);
	const char *qp = path, *qend = path + strlen(path);
	const char *ps, *qs;
	size_t plen, qlen;

	call->nparams = 0;
	while (next_segment(&pp, pend, &ps, &plen)) {
		if (plen >= 3 && ps[0] == '{' && ps[plen - 2] == '*' && ps[plen - 1] == '}') {
			/* rest of the path, possibly empty */
			if (call->nparams == ROUTE_MAX_PARAMS)
				return false;
			call->param_names[call->nparams] = ps + 1;
			call->param_name_lens[call->nparams] = plen - 3;
			call->params[call->nparams++] = qp < qend && *qp == '/' ? qp + 1 : qp;
			return true;
		}
		if (!next_segment(&qp, qend, &qs, &qlen))
			return false;
		if (plen >= 2 && ps[0] == '{' && ps[plen - 1] == '}') {
			if (qlen == 0 || call->nparams == ROUTE_MAX_PARAMS)
				return false;
			call->param_names[call->nparams] = ps + 1;
			call->param_name_lens[call->nparams] = plen - 2;
			call->params[call->nparams++] = qs; /* raw; decoded below */
			continue;
		}
		if (plen != qlen || memcmp(ps, qs, plen) != 0)
			return false;
	}
	return qp >= qend;
}

/* Cut single-segment params at their '/' and percent-decode them. */
static bool decode_params(struct call *call)
{
	for (int i = 0; i < call->nparams; i++) {
		const char *name = call->param_names[i];
		size_t nlen = call->param_name_lens[i];
		const char *v = call->params[i];
		char *d;

		if (nlen && name[nlen] == '*')
			continue; /* rest params stay raw */
		const char *slash = strchr(v, '/');
		d = http_pct_decode(call->req, v, slash ? (size_t)(slash - v) : strlen(v), false);
		if (!d)
			return false;
		call->params[i] = d;
	}
	return true;
}

/* A pattern is '/' and segments, each a literal (no braces), {name},
 * or {name*} as the last one (the rest of the path); names are
 * [a-z0-9_] and unique; at most ROUTE_MAX_PARAMS of them; only the last
 * segment may be empty ("/dav/"). Anything else would match nothing, or
 * match more than it says, without a word at start. */
static bool pattern_ok(const char *pattern)
{
	const char *p = pattern, *end = pattern + strlen(pattern), *seg, *names[ROUTE_MAX_PARAMS];
	size_t len, nlens[ROUTE_MAX_PARAMS];
	int nparams = 0;

	if (*p != '/')
		return false;
	while (next_segment(&p, end, &seg, &len)) {
		bool rest = len >= 3 && seg[len - 2] == '*';
		size_t nlen = len - (rest ? 3 : 2);

		if (len == 0 && p < end)
			return false; /* "//" */
		if (len == 0 || seg[0] != '{') {
			if (memchr(seg, '{', len) || memchr(seg, '}', len) || memchr(seg, '*', len))
				return false;
			continue;
		}
		if (len < 3 || seg[len - 1] != '}' || nlen == 0 || nparams == ROUTE_MAX_PARAMS)
			return false;
		for (size_t k = 1; k <= nlen; k++)
			if (!((seg[k] >= 'a' && seg[k] <= 'z') ||
			      (seg[k] >= '0' && seg[k] <= '9') || seg[k] == '_'))
				return false;
		for (int k = 0; k < nparams; k++)
			if (nlens[k] == nlen && !memcmp(names[k], seg + 1, nlen))
				return false;
		names[nparams] = seg + 1;
		nlens[nparams++] = nlen;
		if (rest && p < end)
			return false; /* {x*} takes the rest: nothing may follow */
	}
	return true;
}

enum err router_check(const struct route *table, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct route *r = &table[i];

		if (!r->method || !r->pattern || !r->fn || r->pattern[0] != '/')
			return err_set(ERR_INTERNAL, "route %zu is malformed", i);
		if (!pattern_ok(r->pattern))
			return err_set(ERR_INTERNAL, "route %s %s: malformed pattern", r->method,
				       r->pattern);
		if (r->access <= ACCESS_UNDECLARED || r->access >= ACCESS__COUNT)
			return err_set(ERR_INTERNAL, "route %s %s declares no access", r->method,
				       r->pattern);
		if ((r->access == ACCESS_WP_READ || r->access == ACCESS_WP_WRITE ||
		     r->access == ACCESS_WP_MANAGE || r->access == ACCESS_DAV_COPY ||
		     r->access == ACCESS_DAV_MOVE) &&
		    !strstr(r->pattern, "{wp}"))
			return err_set(ERR_INTERNAL, "route %s %s needs a WP level but has no {wp}",
				       r->method, r->pattern);
		if (r->access == ACCESS_UPLOAD_OWNER && !strstr(r->pattern, "{id}"))
			return err_set(ERR_INTERNAL, "route %s %s names no upload {id}", r->method,
				       r->pattern);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(table[j].method, r->method) &&
			    !strcmp(table[j].pattern, r->pattern))
				return err_set(ERR_INTERNAL, "route %s %s is declared twice",
					       r->method, r->pattern);
	}
	return ERR_OK;
}

/* --- JSON bodies ------------------------------------------------------------ */

struct json_body {
	struct call *call;
	struct evbuffer *buf;
	uint64_t cap;
};

static void json_release(struct json_body *jb)
{
	if (jb->buf) {
		evbuffer_free(jb->buf);
		jb->buf = NULL;
	}
}

static enum err json_on_data(struct http_req *req, const void *data, size_t len, void *arg)
{
	struct json_body *jb = arg;
	enum err rc = ERR_OK;

	if (evbuffer_get_length(jb->buf) + len > jb->cap)
		rc = err_set(ERR_TOOLARGE, "%s body larger than %llu bytes",
			     jb->call->route->body == RBODY_TEXT ? "text" : "JSON",
			     (unsigned long long)jb->cap);
	else if (evbuffer_add(jb->buf, data, len) != 0)
		rc = err_set(ERR_NOMEM, "out of memory");
	if (rc) {
		/* A refusal ends the body without on_abort: release now (a
		 * chunked body past max-json-body leaked its buffer). */
		json_release(jb);
		reply_err(req, rc);
	}
	return rc;
}

static void json_on_end(struct http_req *req, void *arg)
{
	struct json_body *jb = arg;
	struct call *call = jb->call;
	size_t len = evbuffer_get_length(jb->buf);
	json_error_t jerr;
	json_t *v = NULL;

	if (call->route->body == RBODY_TEXT) {
		char *text = http_req_alloc(req, len + 1);

		if (!text) {
			json_release(jb);
			reply_err(req, err_set(ERR_NOMEM, "out of memory"));
			return;
		}
		if (len)
			evbuffer_remove(jb->buf, text, len);
		text[len] = '\0';
		json_release(jb);
		call->text = text;
		call->text_len = len;
		call->route->fn(call);
		return;
	}
	if (len > 0)
		v = json_loadb((const char *)evbuffer_pullup(jb->buf, -1), len,
			       JSON_REJECT_DUPLICATES, &jerr);
	json_release(jb);
	if (len == 0 && call->route->body == RBODY_OPTIONAL_JSON) {
		call->route->fn(call);
		return;
	}
	if (len == 0) {
		reply_err(req, err_set(ERR_INVALID, "a JSON object body is required"));
		return;
	}
	if (!v) {
		reply_err(req, err_set(ERR_JSON, "malformed JSON at line %d column %d: %s",
				       jerr.line, jerr.column, jerr.text));
		return;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		reply_err(req, err_set(ERR_INVALID, "the body must be a JSON object"));
		return;
	}
	call->json = v;
	call->route->fn(call);
	json_decref(v);
	call->json = NULL;
}

static void json_on_abort(struct http_req *req, void *arg)
{
	(void)req;
	json_release(arg);
}

static const struct http_body_sink json_sink = {
	.on_data = json_on_data,
	.on_end = json_on_end,
	.on_abort = json_on_abort,
};

static bool is_json_type(const char *ct)
{
	size_t n = strlen("application/json");

	return ct && strncasecmp(ct, "application/json", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static bool is_text_type(const char *ct)
{
	static const char *const types[] = {"text/csv", "text/plain"};

	for (size_t i = 0; ct && i < 2; i++) {
		size_t n = strlen(types[i]);

		if (strncasecmp(ct, types[i], n) == 0 &&
		    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
			return true;
	}
	return false;
}

/* --- dispatch ---------------------------------------------------------------- */

const struct route *router_match(const struct route *table, size_t n, const char *method,
				 const char *path, struct call *call, bool *path_matched)
{
	const struct route *r = NULL;

	*path_matched = false;
	for (size_t i = 0; i < n; i++) {
		if (!match(table[i].pattern, path, call))
			continue;
		*path_matched = true;
		if (!strcmp(table[i].method, method) ||
		    (!strcmp(method, "HEAD") && !strcmp(table[i].method, "GET"))) {
			r = &table[i];
			break;
		}
	}
	/* match() may have been run on later routes; run it again for r. */
	if (r)
		match(r->pattern, path, call);
	else
		call->nparams = 0;
	return r;
}

static void allow_header(const struct route *table, size_t n, struct http_req *req,
			 const char *path, struct call *scratch)
{
	char allow[256] = "";
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		if (!match(table[i].pattern, path, scratch) || strstr(allow, table[i].method))
			continue;
		len += (size_t)snprintf(allow + len, sizeof allow - len, "%s%s", len ? ", " : "",
					table[i].method);
		if (len >= sizeof allow)
			break;
	}
	http_resp_header(req, "Allow", allow);
}

void router_dispatch(const struct route *table, size_t n, struct http_req *req, struct worker *w)
{
	const char *method = http_req_method(req), *path = http_req_path(req);
	struct call *call = http_req_alloc(req, sizeof *call);
	const struct route *r;
	bool path_matched;
	const struct config *cfg = worker_config(w);
	enum err rc;

	/* The detail is thread-local and this thread served other requests
	 * before: an answer must never carry a detail one of them left. */
	err_clear();
	if (!call) {
		reply_err(req, err_set(ERR_NOMEM, "out of memory"));
		return;
	}
	memset(call, 0, sizeof *call);
	call->req = req;
	call->worker = w;
	r = router_match(table, n, method, path, call, &path_matched);
	if (misdirected(cfg, r, req)) {
		reply_err(req, err_set(ERR_MISDIRECTED, "this server answers as %s only",
				       cfg->public_url));
		return;
	}
	if (!r) {
		if (path_matched) {
			allow_header(table, n, req, path, call);
			reply_err(req, err_set(ERR_METHOD, "%s is not allowed here", method));
		} else {
			reply_err(req, err_set(ERR_NOTFOUND, "no such resource"));
		}
		return;
	}
	call->route = r;
	http_req_set_data(req, call);
	if (!decode_params(call)) {
		reply_err(req, err_set(ERR_INVALID, "malformed percent-encoding in path"));
		return;
	}
	if (r->body == RBODY_NONE && http_req_has_body(req)) {
		reply_err(req, err_set(ERR_TOOLARGE, "%s %s takes no request body", r->method,
				       r->pattern));
		return;
	}
	if ((r->body == RBODY_JSON || r->body == RBODY_OPTIONAL_JSON) && http_req_has_body(req)) {
		if (!is_json_type(http_req_header(req, "Content-Type"))) {
			reply_err(req,
				  err_set(ERR_UNSUPPORTED, "the body must be application/json"));
			return;
		}
		if (http_req_body_length(req) > 0 &&
		    (uint64_t)http_req_body_length(req) > cfg->max_json_body) {
			reply_err(req, err_set(ERR_TOOLARGE, "JSON body larger than %llu bytes",
					       (unsigned long long)cfg->max_json_body));
			return;
		}
	}

	if (r->body == RBODY_TEXT && http_req_has_body(req)) {
		if (!is_text_type(http_req_header(req, "Content-Type"))) {
			reply_err(req, err_set(ERR_UNSUPPORTED,
					       "the body must be text/csv or text/plain (UTF-8)"));
			return;
		}
		if (http_req_body_length(req) > 0 &&
		    (uint64_t)http_req_body_length(req) > cfg->max_json_body) {
			reply_err(req, err_set(ERR_TOOLARGE, "text body larger than %llu bytes",
					       (unsigned long long)cfg->max_json_body));
			return;
		}
	}

	rc = acl_authorize(call);
	if (rc) {
		/* WebDAV clients (Windows, Finder, davfs2) ask for credentials
		 * only when challenged; browsers on the API must not get a
		 * login dialog, so only /dav answers with one. */
		if (rc == ERR_UNAUTHENTICATED && !strncmp(r->pattern, "/dav", 4))
			http_resp_header(req, "WWW-Authenticate",
					 "Basic realm=\"consort\", charset=\"UTF-8\"");
		reply_err(req, rc);
		return;
	}
	/* "May I?" without doing it: the policy's answer alone, 204 when it
	 * allows. Clients (the browser app hiding buttons, the authorization
	 * matrix test) learn exactly what a real request would be told. */
	if (http_req_header(req, "X-Consort-Dry-Run")) {
		if (strcmp(http_req_header(req, "X-Consort-Dry-Run"), "1")) {
			reply_err(req, err_set(ERR_INVALID, "X-Consort-Dry-Run must be 1"));
			return;
		}
		reply_api_headers(req);
		http_resp_send(req, 204, NULL, 0);
		return;
	}

	if (r->body == RBODY_JSON || r->body == RBODY_TEXT ||
	    (r->body == RBODY_OPTIONAL_JSON && http_req_has_body(req))) {
		struct json_body *jb = http_req_alloc(req, sizeof *jb);

		if (!jb || !(jb->buf = evbuffer_new())) {
			reply_err(req, err_set(ERR_NOMEM, "out of memory"));
			return;
		}
		jb->call = call;
		jb->cap = cfg->max_json_body;
		http_req_read_body(req, &json_sink, jb);
		return;
	}
	r->fn(call);
}
