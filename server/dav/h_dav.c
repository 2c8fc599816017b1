/*
 * h_dav — the WebDAV network drive (RFC 4918, classes 1 and 2) at /dav/:
 * /dav/ lists the work packages the caller can read, /dav/{wp}/{path} is
 * the work package's tree. The mapping (docs/webdav.md):
 *
 *   collection = folder (a work package's root is /dav/WP/)
 *   resource   = document; GET gives the current version, PUT adds one
 *   DELETE     = to the trash, as in the API
 *   MOVE over an existing document = a new version of that document
 *   COPY       = new documents sharing the source's content
 *   dead properties and locks = storage/davstore.h
 *
 * Access is declared in the route table and decided by acl.c like every
 * other route, the work package of a COPY or MOVE's Destination included
 * (ACCESS_DAV_COPY, _MOVE); whose lock may be used or broken is asked of
 * the policy too (acl_owns_lock, acl_may_unlock). Downloads and uploads go
 * through the document routes' own code (h_content_get, h_content_put
 * and docput), so a version made here is the same as one made through
 * the JSON API, with the same audit record.
 *
 * Errors that RFC 4918 names a condition for (propfind-finite-depth,
 * lock-token-submitted, no-conflicting-lock,
 * lock-token-matches-request-uri, cannot-modify-protected-property) are
 * answered with its DAV:error XML body, plus a consort detail; every
 * other error is the API's JSON {"error","detail"}.
 */
#include <event2/buffer.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/statvfs.h>
#include <time.h>

#include "accounts.h"
#include "api/acl.h"
#include "api/auth.h"
#include "api/checkout.h"
#include "cas.h"
#include "api/dest.h"
#include "dav/dav.h"
#include "davstore.h"
#include "digest.h"
#include "api/docput.h"
#include "api/handlers.h"
#include "dav/h_dav.h"
#include "http/http.h"
#include "api/mime.h"
#include "name.h"
#include "http/reply.h"
#include "api/router.h"
#include "api/app.h"
#include "notify.h"
#include "tree.h"

#define LOCK_TIMEOUT_DEFAULT 600 /* seconds, when the client names none */
#define LOCK_TIMEOUT_MAX 3600    /* Infinite and longer requests get this */
#define LIST_PAGE TREE_LIST_MAX  /* folder entries rendered per step */

static const char xml_type[] = "application/xml; charset=utf-8";
static const char allow_methods[] =
	"OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, PROPPATCH, MKCOL, COPY, MOVE, LOCK, UNLOCK";

/* ---- XML and href output ---- */

/* Text or attribute value, escaped. U+FFFE and U+FFFF are valid in names
 * but not in XML 1.0: they become U+FFFD. */
static void xml_text(struct evbuffer *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p; p++) {
		switch (*p) {
		case '&': evbuffer_add(b, "&amp;", 5); break;
		case '<': evbuffer_add(b, "&lt;", 4); break;
		case '>': evbuffer_add(b, "&gt;", 4); break;
		case '"': evbuffer_add(b, "&quot;", 6); break;
		case '\'': evbuffer_add(b, "&apos;", 6); break;
		default:
			if (p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf)) {
				evbuffer_add(b, "\xef\xbf\xbd", 3);
				p += 2;
			} else {
				evbuffer_add(b, p, 1);
			}
		}
	}
}

/* One path segment, percent-encoded: everything but RFC 3986's
 * unreserved characters, so every client decodes it the same way. */
static void pct_segment(struct evbuffer *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			evbuffer_add(b, p, 1);
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};

			evbuffer_add(b, e, 3);
		}
	}
}

/* "/dav/CODE/" + the first `upto` names of `p`, encoded; a trailing '/'
 * for collections. */
static void href_path(struct evbuffer *b, const char *code, const struct name_path *p, size_t upto,
		      bool collection)
{
	evbuffer_add(b, "/dav/", 5);
	pct_segment(b, code);
	evbuffer_add(b, "/", 1);
	for (size_t i = 0; i < upto; i++) {
		pct_segment(b, p->names[i]);
		if (i + 1 < upto || collection)
			evbuffer_add(b, "/", 1);
	}
}

/* A lock's root ("a/b" as spelled) as an href. */
static void href_root(struct evbuffer *b, const char *code, const char *root, bool collection)
{
	const char *s = root;

	evbuffer_add(b, "/dav/", 5);
	pct_segment(b, code);
	evbuffer_add(b, "/", 1);
	while (*s) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);
		char seg[NAME_MAX_BYTES + 1];

		if (n > NAME_MAX_BYTES)
			n = NAME_MAX_BYTES;
		memcpy(seg, s, n);
		seg[n] = '\0';
		pct_segment(b, seg);
		s += n;
		if (*s == '/') {
			evbuffer_add(b, "/", 1);
			s++;
		}
	}
	if (collection && *root)
		evbuffer_add(b, "/", 1);
}

static void xml_head(struct evbuffer *b)
{
	evbuffer_add_printf(b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
}

/* Send an evbuffer as the XML body of a response. */
static void send_xml(struct http_req *req, int status, struct evbuffer *b)
{
	size_t len = evbuffer_get_length(b);

	http_resp_header(req, "Content-Type", xml_type);
	http_resp_header(req, "X-Content-Type-Options", "nosniff");
	http_resp_header(req, "Cache-Control", "no-store");
	http_resp_send(req, status, evbuffer_pullup(b, (ev_ssize_t)len), len);
}

/* An RFC 4918 precondition/postcondition failure: DAV:error with the
 * condition element (and an href inside it when given), and our detail. */
static void dav_error(struct http_req *req, int status, const char *condition, const char *href,
		      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void dav_error(struct http_req *req, int status, const char *condition, const char *href,
		      const char *fmt, ...)
{
	struct evbuffer *b = evbuffer_new();
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	if (!b) {
		reply_err(req, err_set(ERR_NOMEM, "out of memory"));
		return;
	}
	xml_head(b);
	evbuffer_add_printf(b, "<D:error xmlns:D=\"DAV:\" xmlns:C=\"" DAV_CONSORT_NS "\">");
	if (href) {
		evbuffer_add_printf(b, "<D:%s><D:href>", condition);
		xml_text(b, href);
		evbuffer_add_printf(b, "</D:href></D:%s>", condition);
	} else {
		evbuffer_add_printf(b, "<D:%s/>", condition);
	}
	evbuffer_add_printf(b, "<C:detail>");
	xml_text(b, detail);
	evbuffer_add_printf(b, "</C:detail></D:error>\n");
	send_xml(req, status, b);
	evbuffer_free(b);
}

static void http_date(int64_t t, char buf[64])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, 64, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void iso_date(int64_t t, char buf[64])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, 64, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- the request's context ---- */

struct dav {
	struct call *call;
	struct db *db;
	char *code;            /* the work package's code as stored */
	struct name_path path; /* the request's path in the work package */
	char *keys;            /* the same as name keys "a/b" */
	struct tree_node node; /* the resource, when found */
	bool found;
	struct davstore_lock *locks; /* live locks of the work package */
	size_t nlocks;
	struct dav_if ifh;
	bool has_if;
};

/* Keys of the first `upto` names joined with '/': the form locks use. */
static char *keys_of(const struct name_path *p, size_t upto)
{
	size_t len = 1;
	char *s, *q;

	for (size_t i = 0; i < upto; i++)
		len += strlen(p->keys[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	q = s;
	*q = '\0';
	for (size_t i = 0; i < upto; i++) {
		size_t n = strlen(p->keys[i]);

		if (i)
			*q++ = '/';
		memcpy(q, p->keys[i], n);
		q += n;
		*q = '\0';
	}
	return s;
}

static void dav_done(struct dav *d)
{
	free(d->code);
	free(d->keys);
	name_path_free(&d->path);
	tree_node_clear(&d->node);
	davstore_locks_free(d->locks, d->nlocks);
	dav_if_free(&d->ifh);
	memset(d, 0, sizeof *d);
}

static int64_t user_of(const struct call *call) { return call->caller ? call->caller->user_id : 0; }

/* Everything every handler inside a work package needs: the path, the
 * work package's code, the resource (when it exists), its locks and the
 * If header. Answers (400, 503...) and returns false on failure. */
static bool dav_open(struct call *call, struct dav *d)
{
	const char *raw = call_param(call, "path");
	const char *ifv = http_req_header(call->req, "If");
	struct acct_wp wp = {0};
	enum err rc;

	memset(d, 0, sizeof *d);
	d->call = call;
	d->db = worker_db(call->worker);
	rc = name_path_from_url(raw ? raw : "", raw ? strlen(raw) : 0, &d->path);
	if (!rc)
		rc = acct_wp_get(d->db, call->wp_id, &wp);
	if (!rc && !(d->code = strdup(wp.code)))
		rc = err_set(ERR_NOMEM, "out of memory");
	acct_wp_clear(&wp);
	if (!rc && !(d->keys = keys_of(&d->path, d->path.n)))
		rc = err_set(ERR_NOMEM, "out of memory");
	if (!rc) {
		rc = tree_resolve(d->db, call->wp_id, &d->path, &d->node);
		d->found = rc == ERR_OK;
		if (rc == ERR_NOTFOUND)
			rc = ERR_OK;
	}
	if (!rc)
		rc = davstore_locks_list(d->db, call->wp_id, &d->locks, &d->nlocks);
	if (!rc && ifv) {
		if (http_req_header_count(call->req, "If") > 1)
			rc = err_set(ERR_INVALID, "give the If header once");
		else
			rc = dav_if_parse(ifv, &d->ifh);
		d->has_if = rc == ERR_OK;
	}
	if (rc) {
		reply_err(call->req, rc);
		dav_done(d);
		return false;
	}
	return true;
}

/* Does the parent folder of the request path exist? Answers 409 when it
 * does not (RFC 4918: no intermediate collections are made). */
static bool parent_exists(struct dav *d)
{
	struct name_path parent = d->path;
	struct tree_node n = {0};
	enum err rc;

	if (d->path.n == 0)
		return true;
	parent.n = d->path.n - 1;
	rc = tree_resolve(d->db, d->call->wp_id, &parent, &n);
	if (!rc && !n.is_folder)
		rc = err_set(ERR_NOTFOUND, "'%s' is not a folder", n.name);
	tree_node_clear(&n);
	if (rc == ERR_NOTFOUND) {
		reply_err(d->call->req,
			  err_set(ERR_CONFLICT, "the folder to hold '%s' does not exist: %s",
				  d->path.names[d->path.n - 1], err_detail()));
		return false;
	}
	if (rc) {
		reply_err(d->call->req, rc);
		return false;
	}
	return true;
}

/* The resource's href as stored: the work package's code and every name
 * spelled as it was created, whatever case or normalisation the request
 * used, so a client sees one URL per resource. Into `b`, NUL-terminated. */
static void canonical_href(struct dav *d, struct evbuffer *b)
{
	char *stored = NULL;

	if (d->found && d->path.n && tree_path(d->db, d->node.id, &stored) == ERR_OK) {
		href_root(b, d->code, stored, d->node.is_folder);
	} else {
		href_path(b, d->code, &d->path, d->path.n, d->found && d->node.is_folder);
	}
	free(stored);
	evbuffer_add(b, "", 1);
}

/* ---- If header and locks ---- */

/* The resource a tagged list names, in our terms. */
struct target {
	bool ours; /* in this work package */
	char *keys;
	bool exists;
	bool folder;
	char blob[DIGEST_SHA256_HEX_LEN + 1];
};

/* Map an href (absolute URI or path) to a path inside work package
 * `code`. False when it is not one of ours. */
static bool href_to_path(struct dav *d, const char *href, struct name_path *out)
{
	const char *p = href, *seg, *slash;
	char *wp;

	if (!strncasecmp(p, "https://", 8) || !strncasecmp(p, "http://", 7)) {
		p = strchr(strstr(p, "//") + 2, '/');
		if (!p)
			return false;
	}
	if (strncmp(p, "/dav/", 5))
		return false;
	seg = p + 5;
	slash = strchr(seg, '/');
	wp = http_pct_decode(d->call->req, seg, slash ? (size_t)(slash - seg) : strlen(seg), false);
	if (!wp || strcasecmp(wp, d->code))
		return false;
	p = slash ? slash + 1 : "";
	return name_path_from_url(p, strlen(p), out) == ERR_OK;
}

static void target_of(struct dav *d, const char *resource, struct target *t)
{
	struct name_path p = {0};
	struct tree_node n = {0};

	memset(t, 0, sizeof *t);
	if (!resource) {
		t->ours = true;
		t->keys = strdup(d->keys);
		t->exists = d->found;
		t->folder = d->found && d->node.is_folder;
		if (d->found)
			memcpy(t->blob, d->node.blob, sizeof t->blob);
		return;
	}
	if (!href_to_path(d, resource, &p))
		return;
	t->ours = true;
	t->keys = keys_of(&p, p.n);
	if (tree_resolve(d->db, d->call->wp_id, &p, &n) == ERR_OK) {
		t->exists = true;
		t->folder = n.is_folder;
		memcpy(t->blob, n.blob, sizeof t->blob);
	}
	tree_node_clear(&n);
	name_path_free(&p);
}

static const struct davstore_lock *lock_by_token(const struct dav *d, const char *token)
{
	for (size_t i = 0; i < d->nlocks; i++)
		if (!strcmp(d->locks[i].token, token))
			return &d->locks[i];
	return NULL;
}

static bool cond_true(const struct dav *d, const struct dav_if_cond *c, const struct target *t)
{
	bool v;

	if (c->etag) {
		size_t n = strlen(c->value);

		/* Strong comparison: a weak tag never matches. */
		v = t->exists && !t->folder && n == DIGEST_SHA256_HEX_LEN + 2 &&
		    c->value[0] == '"' && !memcmp(c->value + 1, t->blob, DIGEST_SHA256_HEX_LEN);
	} else {
		const struct davstore_lock *l = lock_by_token(d, c->value);

		v = t->ours && t->keys && l && davstore_lock_covers(l, t->keys);
	}
	return c->negated ? !v : v;
}

/* RFC 4918 10.4: the header is true when one of its lists is, a list
 * when all its conditions are. Answers 412 when false. */
static bool if_ok(struct dav *d)
{
	bool any = false;

	if (!d->has_if)
		return true;
	for (size_t i = 0; i < d->ifh.n && !any; i++) {
		const struct dav_if_list *l = &d->ifh.lists[i];
		struct target t;
		bool all = true;

		target_of(d, l->resource, &t);
		for (size_t j = 0; j < l->n && all; j++)
			all = cond_true(d, &l->conds[j], &t);
		free(t.keys);
		any = all;
	}
	if (!any)
		reply_err(d->call->req,
			  err_set(ERR_PRECONDITION, "the If header's conditions do not hold"));
	return any;
}

/* Was lock `l` submitted by its owner in the If header? */
static bool submitted(const struct dav *d, const struct davstore_lock *l)
{
	/* A check-out made in the app: its holder's own session is the key
	 * (their WebDAV client knows no token). */
	if (l->checkout && acl_owns_lock(d->call, l->user_id))
		return true;
	if (!d->has_if || !acl_owns_lock(d->call, l->user_id))
		return false;
	for (size_t i = 0; i < d->ifh.n; i++)
		for (size_t j = 0; j < d->ifh.lists[i].n; j++) {
			const struct dav_if_cond *c = &d->ifh.lists[i].conds[j];

			if (!c->etag && !c->negated && !strcmp(c->value, l->token))
				return true;
		}
	return false;
}

enum { LK_SELF = 1, LK_BELOW = 2, LK_PARENT = 4 };

static bool lock_applies(const struct davstore_lock *l, const char *keys, unsigned flags)
{
	if ((flags & LK_SELF) && davstore_lock_covers(l, keys))
		return true;
	if ((flags & LK_BELOW) && strcmp(l->path, keys) && davstore_path_within(l->path, keys))
		return true;
	if ((flags & LK_PARENT) && *keys) {
		const char *slash = strrchr(keys, '/');
		char *parent = strndup(keys, slash ? (size_t)(slash - keys) : 0);
		bool covers = parent && davstore_lock_covers(l, parent);

		/* Out of memory counts as locked: refusing is the safe side. */
		free(parent);
		return covers || !parent;
	}
	return false;
}

/* Are the locks that protect what this request changes satisfied? Every
 * applying lock needs its token submitted by its owner; for shared locks
 * one of those with the same root is enough. `locks` are those of the
 * work package of `keys`. Answers 423 lock-token-submitted when not. */
static bool locks_ok(struct dav *d, const struct davstore_lock *locks, size_t nlocks,
		     const char *code, const char *keys, unsigned flags)
{
	for (size_t i = 0; i < nlocks; i++) {
		const struct davstore_lock *l = &locks[i];
		bool ok = false;
		struct evbuffer *href;

		if (!lock_applies(l, keys, flags) || submitted(d, l))
			continue;
		for (size_t j = 0; j < nlocks && !ok && !l->exclusive; j++)
			ok = !locks[j].exclusive && !strcmp(locks[j].path, l->path) &&
			     submitted(d, &locks[j]);
		if (ok)
			continue;
		href = evbuffer_new();
		if (href) {
			href_root(href, code, l->root, false);
			evbuffer_add(href, "", 1);
		}
		dav_error(d->call->req, 423, "lock-token-submitted",
			  href ? (const char *)evbuffer_pullup(href, -1) : NULL,
			  "'%s' is locked; send its lock token in an If header",
			  *l->root ? l->root : "/");
		if (href)
			evbuffer_free(href);
		return false;
	}
	return true;
}

/* ---- request bodies ---- */

typedef void (*body_fn)(struct dav *d, const char *body, size_t len);

struct body {
	struct dav *d;
	struct evbuffer *buf;
	body_fn fn;
};

static void body_free(struct body *b)
{
	if (b->buf)
		evbuffer_free(b->buf);
	dav_done(b->d);
	free(b->d);
	free(b);
}

static enum err body_data(struct http_req *req, const void *data, size_t len, void *arg)
{
	struct body *b = arg;

	if (evbuffer_get_length(b->buf) + len > DAV_BODY_MAX) {
		reply_err(req, err_set(ERR_TOOLARGE, "an XML body may have at most %d bytes",
				       DAV_BODY_MAX));
		body_free(b);
		return ERR_TOOLARGE;
	}
	if (evbuffer_add(b->buf, data, len)) {
		reply_err(req, err_set(ERR_NOMEM, "out of memory"));
		body_free(b);
		return ERR_NOMEM;
	}
	return ERR_OK;
}

static void body_end(struct http_req *req, void *arg)
{
	struct body *b = arg;
	size_t len = evbuffer_get_length(b->buf);

	(void)req;
	b->fn(b->d, len ? (const char *)evbuffer_pullup(b->buf, -1) : "", len);
	body_free(b);
}

static void body_abort(struct http_req *req, void *arg)
{
	(void)req;
	body_free(arg);
}

static const struct http_body_sink body_sink = {body_data, body_end, body_abort};

/* Read the (small, XML) body, then run fn. Takes `d` (heap) in every case. */
static void read_body(struct dav *d, body_fn fn)
{
	struct http_req *req = d->call->req;
	int64_t declared = http_req_body_length(req);
	struct body *b;

	if (declared > DAV_BODY_MAX) {
		reply_err(req, err_set(ERR_TOOLARGE, "an XML body may have at most %d bytes",
				       DAV_BODY_MAX));
		dav_done(d);
		free(d);
		return;
	}
	b = calloc(1, sizeof *b);
	if (!b || !(b->buf = evbuffer_new())) {
		free(b);
		reply_err(req, err_set(ERR_NOMEM, "out of memory"));
		dav_done(d);
		free(d);
		return;
	}
	b->d = d;
	b->fn = fn;
	http_req_read_body(req, &body_sink, b);
}

static struct dav *dav_new(struct call *call)
{
	struct dav *d = calloc(1, sizeof *d);

	if (!d) {
		reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
		return NULL;
	}
	if (!dav_open(call, d)) {
		free(d);
		return NULL;
	}
	return d;
}

/* ---- properties ---- */

enum live {
	L_RESOURCETYPE,
	L_DISPLAYNAME,
	L_CREATIONDATE,
	L_GETLASTMODIFIED,
	L_GETCONTENTLENGTH,
	L_GETCONTENTTYPE,
	L_GETETAG,
	L_SUPPORTEDLOCK,
	L_LOCKDISCOVERY,
	L_QUOTA_AVAILABLE,
	L_QUOTA_USED,
	L_VERSION,
	L_DELIVERABLE,
	L_STATUS,
	L__COUNT
};

static const struct {
	const char *ns, *name;
	bool allprop; /* given by allprop (RFC 4918's own properties) */
} lives[L__COUNT] = {
	[L_RESOURCETYPE] = {DAV_NS, "resourcetype", true},
	[L_DISPLAYNAME] = {DAV_NS, "displayname", true},
	[L_CREATIONDATE] = {DAV_NS, "creationdate", true},
	[L_GETLASTMODIFIED] = {DAV_NS, "getlastmodified", true},
	[L_GETCONTENTLENGTH] = {DAV_NS, "getcontentlength", true},
	[L_GETCONTENTTYPE] = {DAV_NS, "getcontenttype", true},
	[L_GETETAG] = {DAV_NS, "getetag", true},
	[L_SUPPORTEDLOCK] = {DAV_NS, "supportedlock", true},
	[L_LOCKDISCOVERY] = {DAV_NS, "lockdiscovery", true},
	[L_QUOTA_AVAILABLE] = {DAV_NS, "quota-available-bytes", false},
	[L_QUOTA_USED] = {DAV_NS, "quota-used-bytes", false},
	[L_VERSION] = {DAV_CONSORT_NS, "version", false},
	[L_DELIVERABLE] = {DAV_CONSORT_NS, "deliverable", false},
	[L_STATUS] = {DAV_CONSORT_NS, "status", false},
};

static int live_lookup(const char *ns, const char *name)
{
	for (int i = 0; i < L__COUNT; i++)
		if (!strcmp(lives[i].ns, ns) && !strcmp(lives[i].name, name))
			return i;
	return -1;
}

/* What is described in one DAV:response. */
struct res {
	const char *href;
	bool collection;
	const char *display;
	const struct tree_node *node; /* NULL: /dav/ or a work package in its listing */
	int64_t created;
	const char *code; /* the work package; NULL for /dav/ */
	const char *keys; /* for lockdiscovery; NULL: none apply */
	bool in_wp;       /* quota properties apply */
};

/* What a PROPFIND renders with, shared by every response of it. */
struct render {
	struct call *call;
	struct db *db;
	const struct dav_propfind *pf;
	const struct davstore_lock *locks;
	size_t nlocks;
	bool usage_read;
	uint64_t used, available;
	bool want_dead; /* the answer includes dead properties */
};

/* Does a PROPFIND's answer include dead properties? Not when it names
 * only live ones: a listing then costs no query per entry. */
static bool wants_dead(const struct dav_propfind *pf)
{
	if (pf->kind != DAV_PROPFIND_PROP)
		return true;
	for (size_t i = 0; i < pf->n; i++)
		if (live_lookup(pf->props[i].ns, pf->props[i].name) < 0)
			return true;
	return false;
}

static void quota_figures(struct render *r)
{
	struct tree_usage u = {0};
	struct statvfs vfs;
	uint64_t disk = UINT64_MAX;

	if (r->usage_read)
		return;
	r->usage_read = true;
	if (statvfs(app_data_dir(worker_app(r->call->worker)), &vfs) == 0)
		disk = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (tree_usage(r->db, r->call->wp_id, &u))
		memset(&u, 0, sizeof u);
	r->used = u.used;
	/* Windows refuses to copy a file bigger than this, so with no quota
	 * it is the disk's free space. */
	r->available = disk;
	if (u.limited)
		r->available = u.quota > u.used ? u.quota - u.used : 0;
	if (r->available > disk)
		r->available = disk;
}

static void activelock(struct evbuffer *b, const struct davstore_lock *l, const char *code,
		       bool collection)
{
	int64_t left = l->expires_at - db_now();

	evbuffer_add_printf(b,
			    "<D:activelock><D:locktype><D:write/></D:locktype>"
			    "<D:lockscope><D:%s/></D:lockscope><D:depth>%s</D:depth>",
			    l->exclusive ? "exclusive" : "shared", l->infinite ? "infinity" : "0");
	if (*l->owner)
		evbuffer_add(b, l->owner, strlen(l->owner));
	evbuffer_add_printf(b,
			    "<D:timeout>Second-%" PRId64 "</D:timeout>"
			    "<D:locktoken><D:href>",
			    left > 0 ? left : 0);
	xml_text(b, l->token);
	evbuffer_add_printf(b, "</D:href></D:locktoken><D:lockroot><D:href>");
	(void)collection;
	href_root(b, code, l->root, false);
	evbuffer_add_printf(b, "</D:href></D:lockroot></D:activelock>");
}

/* Write live property `id` of `x` (with its value unless `name_only`).
 * False when the property does not apply to this resource. */
static bool live_prop(struct render *r, struct evbuffer *b, int id, const struct res *x,
		      bool name_only)
{
	const struct tree_node *n = x->node;
	bool doc = n && !n->is_folder;
	const char *tag = lives[id].name;
	const char *pfx = id >= L_VERSION ? "C" : "D";
	char date[64];

	switch (id) {
	case L_CREATIONDATE:
		if (!x->created)
			return false;
		break;
	case L_GETLASTMODIFIED:
		if (!n)
			return false;
		break;
	case L_GETCONTENTLENGTH:
	case L_GETCONTENTTYPE:
	case L_GETETAG:
	case L_VERSION:
		if (!doc)
			return false;
		break;
	case L_DELIVERABLE:
		if (!doc || !n->deliverable)
			return false;
		break;
	case L_STATUS:
		if (!doc || !n->status)
			return false;
		break;
	case L_SUPPORTEDLOCK:
	case L_LOCKDISCOVERY:
		if (!x->code)
			return false;
		break;
	case L_QUOTA_AVAILABLE:
	case L_QUOTA_USED:
		if (!x->in_wp)
			return false;
		break;
	default: break;
	}
	if (name_only) {
		evbuffer_add_printf(b, "<%s:%s/>", pfx, tag);
		return true;
	}
	evbuffer_add_printf(b, "<%s:%s>", pfx, tag);
	switch (id) {
	case L_RESOURCETYPE:
		if (x->collection)
			evbuffer_add_printf(b, "<D:collection/>");
		break;
	case L_DISPLAYNAME: xml_text(b, x->display); break;
	case L_CREATIONDATE:
		iso_date(x->created, date);
		evbuffer_add_printf(b, "%s", date);
		break;
	case L_GETLASTMODIFIED:
		http_date(n->modified_at, date);
		evbuffer_add_printf(b, "%s", date);
		break;
	case L_GETCONTENTLENGTH: evbuffer_add_printf(b, "%" PRIu64, n->size); break;
	case L_GETCONTENTTYPE: xml_text(b, mime_for_download(n->mime)); break;
	case L_GETETAG: evbuffer_add_printf(b, "\"%s\"", n->blob); break;
	case L_SUPPORTEDLOCK:
		evbuffer_add_printf(b, "<D:lockentry><D:lockscope><D:exclusive/></D:lockscope>"
				       "<D:locktype><D:write/></D:locktype></D:lockentry>"
				       "<D:lockentry><D:lockscope><D:shared/></D:lockscope>"
				       "<D:locktype><D:write/></D:locktype></D:lockentry>");
		break;
	case L_LOCKDISCOVERY:
		for (size_t i = 0; x->keys && i < r->nlocks; i++)
			if (davstore_lock_covers(&r->locks[i], x->keys))
				activelock(b, &r->locks[i], x->code, x->collection);
		break;
	case L_QUOTA_AVAILABLE:
		quota_figures(r);
		evbuffer_add_printf(b, "%" PRIu64, r->available);
		break;
	case L_QUOTA_USED:
		quota_figures(r);
		evbuffer_add_printf(b, "%" PRIu64, r->used);
		break;
	case L_VERSION: evbuffer_add_printf(b, "%" PRId64, n->version); break;
	case L_DELIVERABLE: xml_text(b, n->deliverable); break;
	case L_STATUS: xml_text(b, tree_status_name(n->status)); break;
	default: break;
	}
	evbuffer_add_printf(b, "</%s:%s>", pfx, tag);
	return true;
}

/* An element naming a property that is not one of ours: its own prefix
 * declaration, or none for the empty namespace (the response declares
 * no default namespace). */
static void foreign_name(struct evbuffer *b, const char *ns, const char *name)
{
	if (!*ns) {
		evbuffer_add_printf(b, "<%s/>", name);
		return;
	}
	if (!strcmp(ns, DAV_NS) || !strcmp(ns, DAV_CONSORT_NS)) {
		evbuffer_add_printf(b, "<%s:%s/>", strcmp(ns, DAV_NS) ? "C" : "D", name);
		return;
	}
	evbuffer_add_printf(b, "<X:%s xmlns:X=\"", name);
	xml_text(b, ns);
	evbuffer_add_printf(b, "\"/>");
}

static void propstat(struct evbuffer *b, struct evbuffer *props, int status)
{
	evbuffer_add_printf(b, "<D:propstat><D:prop>");
	evbuffer_add_buffer(b, props);
	evbuffer_add_printf(b, "</D:prop><D:status>HTTP/1.1 %d %s</D:status></D:propstat>", status,
			    http_reason(status));
}

static const struct davstore_prop *dead_find(const struct davstore_prop *dead, size_t n,
					     const char *ns, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(dead[i].ns, ns) && !strcmp(dead[i].name, name))
			return &dead[i];
	return NULL;
}

/* One DAV:response for a PROPFIND. */
static enum err respond(struct render *r, struct evbuffer *b, const struct res *x)
{
	const struct dav_propfind *pf = r->pf;
	struct evbuffer *ok = evbuffer_new(), *missing = evbuffer_new();
	struct davstore_prop *dead = NULL;
	size_t ndead = 0;
	enum err rc = ERR_OK;

	if (!ok || !missing) {
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	if (x->node && r->want_dead) {
		rc = davstore_props_list(r->db, x->node->id, &dead, &ndead);
		if (rc)
			goto out;
	}
	evbuffer_add_printf(b, "<D:response><D:href>");
	xml_text(b, x->href);
	evbuffer_add_printf(b, "</D:href>");
	if (pf->kind == DAV_PROPFIND_PROP) {
		for (size_t i = 0; i < pf->n; i++) {
			int id = live_lookup(pf->props[i].ns, pf->props[i].name);
			const struct davstore_prop *dp;

			if (id >= 0 && live_prop(r, ok, id, x, false))
				continue;
			dp = id < 0 ? dead_find(dead, ndead, pf->props[i].ns, pf->props[i].name)
				    : NULL;
			if (dp)
				evbuffer_add(ok, dp->xml, strlen(dp->xml));
			else
				foreign_name(missing, pf->props[i].ns, pf->props[i].name);
		}
	} else {
		bool names = pf->kind == DAV_PROPFIND_PROPNAME;

		for (int id = 0; id < L__COUNT; id++)
			if (names || lives[id].allprop)
				live_prop(r, ok, id, x, names);
		for (size_t i = 0; i < ndead; i++) {
			if (names)
				foreign_name(ok, dead[i].ns, dead[i].name);
			else
				evbuffer_add(ok, dead[i].xml, strlen(dead[i].xml));
		}
		/* allprop's DAV:include: the named properties allprop leaves out */
		for (size_t i = 0; !names && i < pf->n; i++) {
			int id = live_lookup(pf->props[i].ns, pf->props[i].name);

			if (id >= 0 && !lives[id].allprop && !live_prop(r, ok, id, x, false))
				foreign_name(missing, pf->props[i].ns, pf->props[i].name);
			else if (id < 0 &&
				 !dead_find(dead, ndead, pf->props[i].ns, pf->props[i].name))
				foreign_name(missing, pf->props[i].ns, pf->props[i].name);
		}
	}
	if (evbuffer_get_length(ok) || !evbuffer_get_length(missing))
		propstat(b, ok, 200);
	if (evbuffer_get_length(missing))
		propstat(b, missing, 404);
	evbuffer_add_printf(b, "</D:response>");
out:
	if (ok)
		evbuffer_free(ok);
	if (missing)
		evbuffer_free(missing);
	davstore_props_free(dead, ndead);
	return rc;
}

static void multistatus_head(struct evbuffer *b)
{
	xml_head(b);
	evbuffer_add_printf(b, "<D:multistatus xmlns:D=\"DAV:\" xmlns:C=\"" DAV_CONSORT_NS "\">");
}

static const char multistatus_tail[] = "</D:multistatus>\n";

/* ---- PROPFIND ---- */

/* A folder listing bigger than one page is streamed page by page, so
 * memory does not grow with the folder. */
struct listing {
	struct render r;
	struct dav_propfind pf;
	struct davstore_lock *locks;
	size_t nlocks;
	char *code;
	char *href; /* the folder's href, with its trailing '/' */
	char *keys; /* the folder's keys */
	int64_t folder_id;
	uint64_t offset, total;
	bool finished;
	struct evbuffer *pending;
};

static void listing_free(struct listing *ls)
{
	if (!ls)
		return;
	dav_propfind_free(&ls->pf);
	davstore_locks_free(ls->locks, ls->nlocks);
	free(ls->code);
	free(ls->href);
	free(ls->keys);
	if (ls->pending)
		evbuffer_free(ls->pending);
	free(ls);
}

/* Render the next page of the folder into ls->pending. */
static enum err listing_page(struct listing *ls)
{
	struct tree_list_opts o = {
		.sort = TREE_SORT_NAME, .offset = ls->offset, .limit = LIST_PAGE};
	struct tree_node_list l = {0};
	struct evbuffer *href = evbuffer_new();
	enum err rc;

	if (!href)
		return err_set(ERR_NOMEM, "out of memory");
	rc = tree_list(ls->r.db, ls->r.call->wp_id, ls->folder_id, &o, &l);
	for (size_t i = 0; !rc && i < l.n; i++) {
		const struct tree_node *n = &l.items[i];
		char *key = NULL, *keys = NULL;
		struct res x = {
			.collection = n->is_folder,
			.display = n->name,
			.node = n,
			.created = n->created_at,
			.code = ls->code,
			.in_wp = true,
		};

		evbuffer_drain(href, evbuffer_get_length(href));
		evbuffer_add_printf(href, "%s", ls->href);
		pct_segment(href, n->name);
		if (n->is_folder)
			evbuffer_add(href, "/", 1);
		evbuffer_add(href, "", 1);
		x.href = (const char *)evbuffer_pullup(href, -1);
		/* Keys only matter when there are locks to compare them with. */
		if (ls->nlocks && name_check(n->name, strlen(n->name), NULL, &key) == ERR_OK) {
			size_t kl = strlen(ls->keys) + strlen(key) + 2;

			keys = malloc(kl);
			if (keys)
				snprintf(keys, kl, "%s%s%s", ls->keys, *ls->keys ? "/" : "", key);
		}
		x.keys = keys;
		rc = respond(&ls->r, ls->pending, &x);
		free(key);
		free(keys);
	}
	if (!rc) {
		ls->total = l.total;
		ls->offset += l.n;
		if (l.n == 0 || ls->offset >= ls->total) {
			ls->finished = true;
			evbuffer_add(ls->pending, multistatus_tail, strlen(multistatus_tail));
		}
	}
	tree_node_list_free(&l);
	evbuffer_free(href);
	return rc;
}

static enum err listing_fill(struct http_req *req, struct evbuffer *out, size_t max, bool *done,
			     void *arg)
{
	struct listing *ls = arg;
	enum err rc = ERR_OK;

	(void)req;
	while (!rc && !ls->finished && evbuffer_get_length(ls->pending) < max)
		rc = listing_page(ls);
	if (rc)
		return rc;
	evbuffer_remove_buffer(ls->pending, out, max);
	*done = ls->finished && evbuffer_get_length(ls->pending) == 0;
	return ERR_OK;
}

static void listing_release(void *arg) { listing_free(arg); }

static const struct http_body_source listing_ops = {listing_fill, listing_release};

static void propfind_send(struct http_req *req, struct listing *ls)
{
	http_resp_header(req, "Content-Type", xml_type);
	http_resp_header(req, "X-Content-Type-Options", "nosniff");
	http_resp_header(req, "Cache-Control", "no-store");
	if (ls->finished) {
		size_t len = evbuffer_get_length(ls->pending);

		http_resp_send(req, 207, evbuffer_pullup(ls->pending, (ev_ssize_t)len), len);
		listing_free(ls);
		return;
	}
	http_resp_stream(req, 207, -1, &listing_ops, ls);
}

/* The Depth header: one at most (two are refused like two Destination
 * headers, rather than one of them winning), then dav_depth_parse. */
static enum err depth_header(struct call *call, int dflt, int *depth)
{
	if (http_req_header_count(call->req, "Depth") > 1)
		return err_set(ERR_INVALID, "give one Depth header");
	return dav_depth_parse(http_req_header(call->req, "Depth"), dflt, depth);
}

static bool depth_for_propfind(struct call *call, int *depth)
{
	enum err rc = depth_header(call, DAV_DEPTH_INFINITY, depth);

	if (rc) {
		reply_err(call->req, rc);
		return false;
	}
	if (*depth == DAV_DEPTH_INFINITY) {
		/* A missing Depth means infinity too (RFC 4918 9.1); walking a
		 * whole work package per request is refused. */
		dav_error(call->req, 403, "propfind-finite-depth", NULL,
			  "PROPFIND with Depth: infinity (or no Depth header) is not supported; "
			  "use Depth: 0 or 1");
		return false;
	}
	return true;
}

static void propfind_body(struct dav *d, const char *body, size_t len)
{
	struct call *call = d->call;
	struct listing *ls = NULL;
	struct evbuffer *href = NULL;
	int depth = 0;
	enum err rc;

	depth_header(call, 0, &depth);
	ls = calloc(1, sizeof *ls);
	if (!ls || !(ls->pending = evbuffer_new()) || !(href = evbuffer_new())) {
		reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
		goto out;
	}
	rc = dav_parse_propfind(body, len, &ls->pf);
	if (rc) {
		reply_err(call->req, rc);
		goto out;
	}
	if (!d->found) {
		reply_err(call->req, err_set(ERR_NOTFOUND, "no such file or folder"));
		goto out;
	}
	/* The listing takes over the locks and the names it renders with. */
	ls->locks = d->locks;
	ls->nlocks = d->nlocks;
	d->locks = NULL;
	d->nlocks = 0;
	ls->r = (struct render){.call = call,
				.db = d->db,
				.pf = &ls->pf,
				.locks = ls->locks,
				.nlocks = ls->nlocks,
				.want_dead = wants_dead(&ls->pf)};
	canonical_href(d, href);
	ls->code = d->code;
	d->code = NULL;
	ls->keys = d->keys;
	d->keys = NULL;
	ls->href = strdup((const char *)evbuffer_pullup(href, -1));
	if (!ls->href) {
		reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
		goto out;
	}
	multistatus_head(ls->pending);
	{
		struct res x = {
			.href = ls->href,
			.collection = d->node.is_folder,
			.display = d->path.n ? d->node.name : ls->code,
			.node = &d->node,
			.created = d->node.created_at,
			.code = ls->code,
			.keys = ls->keys,
			.in_wp = true,
		};

		rc = respond(&ls->r, ls->pending, &x);
	}
	if (!rc && depth == 1 && d->node.is_folder) {
		ls->folder_id = d->node.id;
		rc = listing_page(ls);
	} else if (!rc) {
		ls->finished = true;
		evbuffer_add(ls->pending, multistatus_tail, strlen(multistatus_tail));
	}
	if (rc) {
		reply_err(call->req, rc);
		goto out;
	}
	propfind_send(call->req, ls);
	ls = NULL;
out:
	if (href)
		evbuffer_free(href);
	listing_free(ls);
}

void h_dav_propfind(struct call *call)
{
	int depth;
	struct dav *d;

	if (!depth_for_propfind(call, &depth))
		return;
	d = dav_new(call);
	if (d)
		read_body(d, propfind_body);
}

/* /dav/: the work packages the caller can read, as collections. */
static void root_body(struct dav *d, const char *body, size_t len)
{
	struct call *call = d->call;
	struct dav_propfind pf = {0};
	struct render r = {.call = call, .db = d->db, .pf = &pf};
	struct acct_wp *wps = NULL;
	size_t nwps = 0;
	struct evbuffer *b = evbuffer_new(), *href = evbuffer_new();
	int depth = 0;
	enum err rc;

	depth_header(call, 0, &depth);
	if (!b || !href) {
		reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
		goto out;
	}
	rc = dav_parse_propfind(body, len, &pf);
	if (!rc && depth == 1)
		rc = acl_readable_wp_list(call, &wps, &nwps);
	if (rc) {
		reply_err(call->req, rc);
		goto out;
	}
	multistatus_head(b);
	{
		struct res x = {.href = "/dav/", .collection = true, .display = "consort"};

		rc = respond(&r, b, &x);
	}
	for (size_t i = 0; !rc && i < nwps; i++) {
		struct res x = {
			.collection = true, .display = wps[i].code, .created = wps[i].created_at};

		evbuffer_drain(href, evbuffer_get_length(href));
		evbuffer_add(href, "/dav/", 5);
		pct_segment(href, wps[i].code);
		evbuffer_add(href, "/\0", 2);
		x.href = (const char *)evbuffer_pullup(href, -1);
		rc = respond(&r, b, &x);
	}
	if (rc) {
		reply_err(call->req, rc);
		goto out;
	}
	evbuffer_add(b, multistatus_tail, strlen(multistatus_tail));
	send_xml(call->req, 207, b);
out:
	acct_wps_free(wps, nwps);
	dav_propfind_free(&pf);
	if (b)
		evbuffer_free(b);
	if (href)
		evbuffer_free(href);
}

void h_dav_propfind_root(struct call *call)
{
	struct dav *d;
	int depth;

	if (!depth_for_propfind(call, &depth))
		return;
	d = calloc(1, sizeof *d);
	if (!d) {
		reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
		return;
	}
	d->call = call;
	d->db = worker_db(call->worker);
	read_body(d, root_body);
}

/* ---- OPTIONS ---- */

void h_dav_options(struct call *call)
{
	http_resp_header(call->req, "DAV", "1, 2");
	http_resp_header(call->req, "MS-Author-Via", "DAV");
	http_resp_header(call->req, "Allow", allow_methods);
	http_resp_header(call->req, "Accept-Ranges", "bytes");
	http_resp_send(call->req, 200, NULL, 0);
}

/* ---- GET, PUT ---- */

void h_dav_get(struct call *call)
{
	const char *raw = call_param(call, "path");
	struct name_path p = {0};
	struct tree_node n = {0};
	bool folder = false;
	enum err rc;

	/* Only "is it a folder?" is asked here: a download needs neither the
	 * locks nor the If header, and h_content_get answers the rest. */
	rc = name_path_from_url(raw ? raw : "", raw ? strlen(raw) : 0, &p);
	if (!rc && tree_resolve(worker_db(call->worker), call->wp_id, &p, &n) == ERR_OK)
		folder = n.is_folder;
	tree_node_clear(&n);
	name_path_free(&p);
	if (folder) {
		http_resp_header(
			call->req, "Allow",
			"OPTIONS, PROPFIND, MKCOL, DELETE, COPY, MOVE, LOCK, UNLOCK, PROPPATCH");
		reply_err(
			call->req,
			err_set(ERR_METHOD,
				"this is a folder: list it with PROPFIND (a WebDAV client) or in the "
				"browser app"));
		return;
	}
	h_content_get(call); /* the download path of the API: Range, ETag, audit */
}

void h_dav_put(struct call *call)
{
	struct dav d;
	bool ok;

	/* A partial PUT would be stored as if it were the whole content. */
	if (http_req_header(call->req, "Content-Range")) {
		reply_err(call->req,
			  err_set(ERR_INVALID,
				  "PUT with Content-Range (a partial update) is not supported"));
		return;
	}
	if (!dav_open(call, &d))
		return;
	if (d.path.n == 0 || (d.found && d.node.is_folder)) {
		http_resp_header(call->req, "Allow", allow_methods);
		reply_err(call->req, err_set(ERR_METHOD, "a folder has no content to PUT"));
		dav_done(&d);
		return;
	}
	ok = (d.found || parent_exists(&d)) && if_ok(&d) &&
	     locks_ok(&d, d.locks, d.nlocks, d.code, d.keys, LK_SELF | (d.found ? 0 : LK_PARENT));
	dav_done(&d);
	if (ok)
		h_content_put(call); /* streamed into the blob store, docput commits */
}

/* ---- DELETE, MKCOL ---- */

static bool depth_infinity_only(struct call *call)
{
	int depth;
	enum err rc = depth_header(call, DAV_DEPTH_INFINITY, &depth);

	if (!rc && depth != DAV_DEPTH_INFINITY)
		rc = err_set(ERR_INVALID, "Depth must be infinity here");
	if (rc)
		reply_err(call->req, rc);
	return !rc;
}

static char *joined(const struct name_path *p)
{
	char *s = name_path_join(p);

	return s ? s : strdup("");
}

/* A change and its audit record (the event that feeds and mail are made
 * of, docs/notifications.md) commit together: the tree functions run as
 * savepoints of the caller's transaction. Ends it: commit when `rc` is
 * 0, else roll back; returns the result. */
static enum err change_end(struct db *db, enum err rc)
{
	if (!rc)
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
	return rc;
}

void h_dav_delete(struct call *call)
{
	struct dav d;
	int64_t trash_id = 0;
	char *path = NULL;
	enum err rc;

	if (!dav_open(call, &d))
		return;
	if (!d.found) {
		reply_err(call->req, err_set(ERR_NOTFOUND, "no such file or folder"));
		goto out;
	}
	if (d.path.n == 0) {
		reply_err(call->req,
			  err_set(ERR_FORBIDDEN, "the root of a work package cannot be deleted"));
		goto out;
	}
	if ((d.node.is_folder && !depth_infinity_only(call)) || !if_ok(&d) ||
	    !locks_ok(&d, d.locks, d.nlocks, d.code, d.keys, LK_SELF | LK_BELOW | LK_PARENT))
		goto out;
	path = joined(&d.path);
	rc = db_begin(d.db);
	if (!rc)
		rc = tree_trash(d.db, call->wp_id, &d.path, user_of(call), &trash_id);
	if (!rc)
		rc = notify_follows_drop(d.db, call->wp_id, path ? path : "");
	if (!rc)
		rc = davstore_locks_remove_within(d.db, call->wp_id, d.keys);
	if (!rc)
		rc = auth_audit(call, "delete", call->wp_id, path ? path : "",
				"to the trash as entry %" PRId64 " (WebDAV)", trash_id);
	rc = change_end(d.db, rc);
	if (rc) {
		reply_err(call->req, rc);
		goto out;
	}
	http_resp_send(call->req, 204, NULL, 0);
out:
	free(path);
	dav_done(&d);
}

void h_dav_mkcol(struct call *call)
{
	struct dav d;
	char *path = NULL;
	enum err rc;

	if (http_req_has_body(call->req)) {
		reply_err(call->req, err_set(ERR_UNSUPPORTED, "MKCOL takes no body"));
		return;
	}
	if (!dav_open(call, &d))
		return;
	if (d.found || d.path.n == 0) {
		http_resp_header(call->req, "Allow", allow_methods);
		reply_err(call->req, err_set(ERR_METHOD, "'%s' already exists",
					     d.path.n ? d.node.name : d.code));
		goto out;
	}
	if (!parent_exists(&d) || !if_ok(&d) ||
	    !locks_ok(&d, d.locks, d.nlocks, d.code, d.keys, LK_SELF | LK_PARENT))
		goto out;
	path = joined(&d.path);
	rc = db_begin(d.db);
	if (!rc)
		rc = tree_mkdir(d.db, call->wp_id, &d.path, user_of(call), false, NULL);
	if (!rc)
		rc = auth_audit(call, "folder_create", call->wp_id, path ? path : "", "WebDAV");
	rc = change_end(d.db, rc);
	if (rc == ERR_EXISTS) {
		http_resp_header(call->req, "Allow", allow_methods);
		reply_err(call->req, ERR_METHOD);
		goto out;
	}
	if (rc) {
		reply_err(call->req, rc == ERR_NOTFOUND ? ERR_CONFLICT : rc);
		goto out;
	}
	http_resp_headerf(call->req, "Location", "%s", http_req_path(call->req));
	http_resp_send(call->req, 201, NULL, 0);
out:
	free(path);
	dav_done(&d);
}

/* ---- COPY, MOVE ---- */

struct dest {
	int64_t wp_id;
	char *code;
	struct name_path path;
	char *keys;
	struct tree_node node;
	bool found;
	struct davstore_lock *locks;
	size_t nlocks;
};

static void dest_done(struct dest *t)
{
	free(t->code);
	name_path_free(&t->path);
	free(t->keys);
	tree_node_clear(&t->node);
	davstore_locks_free(t->locks, t->nlocks);
	memset(t, 0, sizeof *t);
}

/* Parse the Destination header, whose work package the policy has
 * already decided (409 unreadable, 403 unwritable: call->dest_wp_id).
 * Answers and returns false when it is missing, malformed (400), on
 * another server or outside /dav/ (502). */
static bool dest_open(struct dav *d, struct dest *t)
{
	struct call *call = d->call;
	const char *v = http_req_header(call->req, "Destination");
	const char *host = http_req_header(call->req, "Host");
	struct dest_header dd;
	struct acct_wp wp = {0};
	char *code;
	enum err rc;

	memset(t, 0, sizeof *t);
	if (!v || http_req_header_count(call->req, "Destination") != 1) {
		reply_err(call->req, err_set(ERR_INVALID, "give one Destination header"));
		return false;
	}
	rc = dest_parse(v, host, &dd);
	if (rc) {
		if (rc == ERR_UNSUPPORTED)
			reply_err(call->req, ERR_BAD_GATEWAY);
		else
			reply_err(call->req, rc);
		return false;
	}
	code = http_pct_decode(call->req, dd.wp, dd.wp_len, false);
	if (!code || !*code) {
		reply_err(call->req, err_set(ERR_FORBIDDEN,
					     "the list of work packages cannot be a Destination"));
		return false;
	}
	/* The policy decided write on the Destination's work package before
	 * this handler ran (ACCESS_DAV_COPY, _MOVE), from the same header. */
	t->wp_id = call->dest_wp_id;
	rc = t->wp_id ? name_path_from_url(dd.path, strlen(dd.path), &t->path)
		      : err_set(ERR_INTERNAL, "the route did not decide the Destination");
	if (!rc)
		rc = acct_wp_get(d->db, t->wp_id, &wp);
	if (!rc && !(t->code = strdup(wp.code)))
		rc = err_set(ERR_NOMEM, "out of memory");
	acct_wp_clear(&wp);
	if (!rc && !(t->keys = keys_of(&t->path, t->path.n)))
		rc = err_set(ERR_NOMEM, "out of memory");
	if (!rc && t->path.n == 0)
		rc = err_set(ERR_FORBIDDEN, "the root of a work package cannot be replaced");
	if (!rc) {
		rc = tree_resolve(d->db, t->wp_id, &t->path, &t->node);
		t->found = rc == ERR_OK;
		if (rc == ERR_NOTFOUND)
			rc = ERR_OK;
	}
	if (!rc)
		rc = davstore_locks_list(d->db, t->wp_id, &t->locks, &t->nlocks);
	if (rc) {
		reply_err(call->req, rc);
		dest_done(t);
		return false;
	}
	return true;
}

static enum err copy_props(struct db *db, int64_t from, int64_t to, void *arg)
{
	(void)arg;
	return davstore_props_copy(db, from, to);
}

/* Map tree errors of COPY and MOVE to WebDAV's statuses. */
static void reply_transfer_err(struct call *call, enum err rc)
{
	if (rc == ERR_EXISTS)
		reply_err(call->req, err_set(ERR_PRECONDITION,
					     "%s (send Overwrite: T to replace it)", err_detail()));
	else if (rc == ERR_NOTFOUND)
		reply_err(call->req, ERR_CONFLICT);
	else if (rc == ERR_INVALID)
		reply_err(call->req, ERR_FORBIDDEN);
	else
		reply_err(call->req, rc);
}

static void transfer(struct call *call, bool move)
{
	struct dav d;
	struct dest t = {0};
	bool overwrite, same_wp;
	int depth;
	char *from = NULL, *to = NULL;
	enum err rc;

	if (!dav_open(call, &d))
		return;
	if (!d.found) {
		reply_err(call->req, err_set(ERR_NOTFOUND, "no such file or folder"));
		goto out;
	}
	if (move && d.path.n == 0) {
		reply_err(call->req,
			  err_set(ERR_FORBIDDEN, "the root of a work package cannot move"));
		goto out;
	}
	rc = dav_overwrite_parse(http_req_header(call->req, "Overwrite"), &overwrite);
	if (!rc)
		rc = depth_header(call, DAV_DEPTH_INFINITY, &depth);
	if (!rc && (depth == 1 || (move && depth != DAV_DEPTH_INFINITY)))
		rc = err_set(ERR_INVALID, "Depth must be %s", move ? "infinity" : "0 or infinity");
	if (rc) {
		reply_err(call->req, rc);
		goto out;
	}
	if (!dest_open(&d, &t))
		goto out;
	same_wp = t.wp_id == call->wp_id;
	if (same_wp && !strcmp(t.keys, d.keys) &&
	    (!move || !strcmp(t.path.names[t.path.n - 1], d.path.names[d.path.n - 1]))) {
		reply_err(call->req, err_set(ERR_FORBIDDEN, "source and destination are the same"));
		goto out;
	}
	/* A rename that changes only the case of a name finds the source
	 * itself at the destination: nothing is replaced. */
	if (t.found && same_wp && t.node.id == d.node.id)
		t.found = false;
	if (t.found && !overwrite) {
		reply_err(call->req,
			  err_set(ERR_PRECONDITION,
				  "'%s' already exists (send Overwrite: T to replace it)",
				  t.node.name));
		goto out;
	}
	if (!if_ok(&d))
		goto out;
	if (move &&
	    !locks_ok(&d, d.locks, d.nlocks, d.code, d.keys, LK_SELF | LK_BELOW | LK_PARENT))
		goto out;
	if (!locks_ok(&d, t.locks, t.nlocks, t.code, t.keys,
		      LK_SELF | LK_PARENT | (t.found ? LK_BELOW : 0)))
		goto out;
	from = joined(&d.path);
	to = joined(&t.path);
	rc = db_begin(d.db);
	if (rc) {
		reply_transfer_err(call, rc);
		goto out;
	}
	if (move && same_wp) {
		unsigned flags = overwrite ? TREE_MOVE_REPLACE | TREE_MOVE_VERSION : 0;

		/* A case-only rename of the same node is a move onto itself:
		 * tree_move allows it. */
		rc = tree_move(d.db, call->wp_id, &d.path, &t.path, user_of(call), flags, NULL);
	} else {
		struct tree_copy req = {
			.user_id = user_of(call),
			.flags = (overwrite ? TREE_COPY_REPLACE : 0) |
				 (depth == 0 ? TREE_COPY_SHALLOW : 0),
			.on_node = copy_props,
		};

		rc = tree_copy(d.db, call->wp_id, &d.path, t.wp_id, &t.path, &req, NULL);
		/* Between work packages a move is a copy, then the source to
		 * the trash of its own work package with its history. */
		if (!rc && move)
			rc = tree_trash(d.db, call->wp_id, &d.path, user_of(call), NULL);
	}
	/* A follow goes with what it follows, to another work package too
	 * (docs/notifications.md). */
	if (!rc && move)
		rc = notify_follows_move(d.db, call->wp_id, from ? from : "", t.wp_id,
					 to ? to : "");
	if (!rc && move)
		rc = davstore_locks_remove_within(d.db, call->wp_id, d.keys);
	if (!rc && move && same_wp)
		rc = auth_audit(call, "move", call->wp_id, to ? to : "", "from %s (WebDAV)",
				from ? from : "");
	else if (!rc)
		rc = auth_audit(call, "copy", t.wp_id, to ? to : "", "from %s:%s (WebDAV)", d.code,
				from ? from : "");
	if (!rc && move && !same_wp)
		rc = auth_audit(call, "delete", call->wp_id, from ? from : "",
				"moved to %s:%s (WebDAV)", t.code, to ? to : "");
	rc = change_end(d.db, rc);
	if (rc) {
		reply_transfer_err(call, rc);
		goto out;
	}
	if (!t.found) {
		struct evbuffer *loc = evbuffer_new();

		if (loc) {
			href_path(loc, t.code, &t.path, t.path.n, d.node.is_folder);
			evbuffer_add(loc, "", 1);
			http_resp_header(call->req, "Location",
					 (const char *)evbuffer_pullup(loc, -1));
			evbuffer_free(loc);
		}
	}
	http_resp_send(call->req, t.found ? 204 : 201, NULL, 0);
out:
	free(from);
	free(to);
	dest_done(&t);
	dav_done(&d);
}

void h_dav_copy(struct call *call) { transfer(call, false); }

void h_dav_move(struct call *call) { transfer(call, true); }

/* ---- PROPPATCH ---- */

static bool protected_prop(const struct dav_pname *pn)
{
	return !strcmp(pn->ns, DAV_NS) || !strcmp(pn->ns, DAV_CONSORT_NS);
}

static void proppatch_body(struct dav *d, const char *body, size_t len)
{
	struct call *call = d->call;
	struct dav_proppatch pp = {0};
	struct davstore_change *ch = NULL;
	struct evbuffer *b = evbuffer_new(), *href = evbuffer_new();
	bool refused = false;
	int status = 200;
	enum err rc;

	if (!b || !href) {
		reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
		goto out;
	}
	rc = dav_parse_proppatch(body, len, &pp);
	if (rc) {
		reply_err(call->req, rc);
		goto out;
	}
	for (size_t i = 0; i < pp.n; i++)
		refused |= protected_prop(&pp.ops[i].pn);
	if (!refused) {
		ch = calloc(pp.n, sizeof *ch);
		if (!ch) {
			reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
			goto out;
		}
		for (size_t i = 0; i < pp.n; i++)
			ch[i] = (struct davstore_change){pp.ops[i].pn.ns, pp.ops[i].pn.name,
							 pp.ops[i].remove ? NULL : pp.ops[i].xml};
		rc = davstore_props_apply(d->db, d->node.id, ch, pp.n);
		if (rc == ERR_LIMIT)
			status = 507;
		else if (rc == ERR_INVALID)
			status = 409;
		else if (rc) {
			reply_err(call->req, rc);
			goto out;
		}
	}
	/* All or nothing (RFC 4918 9.2): with one refusal, every other
	 * property fails with 424. */
	multistatus_head(b);
	evbuffer_add_printf(b, "<D:response><D:href>");
	canonical_href(d, href);
	xml_text(b, (const char *)evbuffer_pullup(href, -1));
	evbuffer_add_printf(b, "</D:href>");
	for (size_t i = 0; i < pp.n; i++) {
		int st = refused ? (protected_prop(&pp.ops[i].pn) ? 403 : 424) : status;

		evbuffer_add_printf(b, "<D:propstat><D:prop>");
		foreign_name(b, pp.ops[i].pn.ns, pp.ops[i].pn.name);
		evbuffer_add_printf(b, "</D:prop><D:status>HTTP/1.1 %d %s</D:status>", st,
				    http_reason(st));
		if (st == 403)
			evbuffer_add_printf(b, "<D:error><D:cannot-modify-protected-property/>"
					       "</D:error>");
		else if (st != 200 && st != 424)
			evbuffer_add_printf(b, "<D:responsedescription>%s</D:responsedescription>",
					    st == 507 ? "too many or too large properties"
						      : "invalid property");
		evbuffer_add_printf(b, "</D:propstat>");
	}
	evbuffer_add_printf(b, "</D:response>");
	evbuffer_add(b, multistatus_tail, strlen(multistatus_tail));
	send_xml(call->req, 207, b);
out:
	free(ch);
	dav_proppatch_free(&pp);
	if (b)
		evbuffer_free(b);
	if (href)
		evbuffer_free(href);
}

void h_dav_proppatch(struct call *call)
{
	struct dav *d = dav_new(call);

	if (!d)
		return;
	if (!d->found) {
		reply_err(call->req, err_set(ERR_NOTFOUND, "no such file or folder"));
	} else if (if_ok(d) && locks_ok(d, d->locks, d->nlocks, d->code, d->keys, LK_SELF)) {
		read_body(d, proppatch_body);
		return;
	}
	dav_done(d);
	free(d);
}

/* ---- LOCK, UNLOCK ---- */

/* Answer a LOCK with the lock's DAV:lockdiscovery. */
static void lock_answer(struct call *call, int status, const struct davstore_lock *l,
			const char *code, bool collection)
{
	struct evbuffer *b = evbuffer_new();

	if (!b) {
		reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
		return;
	}
	xml_head(b);
	evbuffer_add_printf(b, "<D:prop xmlns:D=\"DAV:\"><D:lockdiscovery>");
	activelock(b, l, code, collection);
	evbuffer_add_printf(b, "</D:lockdiscovery></D:prop>\n");
	http_resp_headerf(call->req, "Lock-Token", "<%s>", l->token);
	send_xml(call->req, status, b);
	evbuffer_free(b);
}

/* What a LOCK on an unmapped URL needs after its empty document is
 * committed; request-scoped, so nothing leaks if the client is gone. */
struct lock_created {
	struct davstore_lock l;
	char *code;
};

static void lock_created_answer(struct call *call, enum err rc, const struct docput_result *res,
				void *arg)
{
	struct lock_created *lc = arg;

	(void)res;
	if (rc) {
		/* The document could not be made: give the lock back. */
		davstore_lock_remove(worker_db(call->worker), lc->l.token);
		reply_err(call->req, rc);
		return;
	}
	lock_answer(call, 201, &lc->l, lc->code, false);
}

static char *req_strdup(struct call *call, const char *s)
{
	return http_req_strndup(call->req, s, strlen(s));
}

/* RFC 4918 7.3: locking an unmapped URL makes an empty document. It is
 * made like any upload (docput: a version, MIME type, audit record). */
static void lock_create_document(struct dav *d, struct davstore_lock *l)
{
	struct call *call = d->call;
	struct lock_created *lc = http_req_alloc(call->req, sizeof *lc);
	struct cas_writer *w = NULL;
	struct docput_req r = {0};
	enum err rc;

	if (!lc) {
		davstore_lock_remove(d->db, l->token);
		reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
		return;
	}
	memset(lc, 0, sizeof *lc);
	memcpy(lc->l.token, l->token, sizeof lc->l.token);
	lc->l.exclusive = l->exclusive;
	lc->l.infinite = l->infinite;
	lc->l.expires_at = l->expires_at;
	lc->l.path = req_strdup(call, l->path);
	lc->l.root = req_strdup(call, l->root);
	lc->l.owner = req_strdup(call, l->owner);
	lc->code = req_strdup(call, d->code);
	rc = cas_writer_new(app_cas(worker_app(call->worker)), 0, &w);
	if (rc || !lc->l.path || !lc->l.root || !lc->l.owner || !lc->code) {
		cas_writer_abort(w);
		davstore_lock_remove(d->db, l->token);
		reply_err(call->req, rc ? rc : err_set(ERR_NOMEM, "out of memory"));
		return;
	}
	r.call = call;
	r.w = w;
	r.wp_id = call->wp_id;
	r.path = d->path; /* moved into docput */
	memset(&d->path, 0, sizeof d->path);
	r.cond = TREE_COND_ABSENT;
	r.answer = lock_created_answer;
	r.arg = lc;
	docput_commit(&r);
}

static void lock_refresh(struct dav *d)
{
	struct call *call = d->call;
	int64_t timeout = dav_timeout_parse(http_req_header(call->req, "Timeout"),
					    LOCK_TIMEOUT_DEFAULT, LOCK_TIMEOUT_MAX);

	for (size_t i = 0; d->has_if && i < d->nlocks; i++) {
		struct davstore_lock *l = &d->locks[i], fresh = {0};
		enum err rc;

		if (!davstore_lock_covers(l, d->keys) || !submitted(d, l))
			continue;
		rc = davstore_lock_refresh(d->db, l->token, user_of(call), timeout, &fresh);
		if (rc) {
			reply_err(call->req, rc);
			return;
		}
		lock_answer(call, 200, &fresh, d->code, d->node.is_folder);
		davstore_lock_clear(&fresh);
		return;
	}
	reply_err(
		call->req,
		err_set(ERR_PRECONDITION,
			"a LOCK without a body refreshes a lock: send its token in an If header"));
}

static void lock_body(struct dav *d, const char *body, size_t len)
{
	struct call *call = d->call;
	struct dav_lockinfo li = {0};
	struct davstore_lock l = {0};
	char *conflict = NULL, *root = NULL;
	int depth;
	enum err rc;

	if (len == 0) {
		if (!d->found)
			reply_err(call->req, err_set(ERR_NOTFOUND, "no such file or folder"));
		else if (if_ok(d))
			lock_refresh(d);
		return;
	}
	rc = dav_parse_lockinfo(body, len, &li);
	if (!rc)
		rc = depth_header(call, DAV_DEPTH_INFINITY, &depth);
	if (!rc && depth == 1)
		rc = err_set(ERR_INVALID, "a lock's Depth is 0 or infinity");
	if (rc) {
		reply_err(call->req, rc);
		goto out;
	}
	if (!d->found && (d->path.n == 0 || !parent_exists(d)))
		goto out;
	if (!if_ok(d))
		goto out;
	root = name_path_join(&d->path);
	davstore_new_token(l.token);
	if (!root || !*l.token) {
		reply_err(call->req, err_set(ERR_NOMEM, "cannot make a lock token"));
		goto out;
	}
	l.wp_id = call->wp_id;
	l.path = d->keys;
	l.root = root;
	l.exclusive = li.exclusive;
	l.infinite = depth == DAV_DEPTH_INFINITY && d->found && d->node.is_folder;
	l.owner = li.owner;
	l.user_id = user_of(call);
	l.timeout = dav_timeout_parse(http_req_header(call->req, "Timeout"), LOCK_TIMEOUT_DEFAULT,
				      LOCK_TIMEOUT_MAX);
	rc = davstore_lock_take(d->db, &l, &conflict);
	if (rc == ERR_LOCKED) {
		struct evbuffer *href = evbuffer_new();

		if (href) {
			href_root(href, d->code, conflict ? conflict : "", false);
			evbuffer_add(href, "", 1);
		}
		dav_error(call->req, 423, "no-conflicting-lock",
			  href ? (const char *)evbuffer_pullup(href, -1) : NULL, "%s",
			  err_detail());
		if (href)
			evbuffer_free(href);
		goto out;
	}
	if (rc) {
		reply_err(call->req, rc);
		goto out;
	}
	if (!d->found)
		lock_create_document(d, &l);
	else
		lock_answer(call, 200, &l, d->code, d->node.is_folder);
out:
	free(conflict);
	free(root);
	dav_lockinfo_free(&li);
}

void h_dav_lock(struct call *call)
{
	struct dav *d = dav_new(call);

	if (d)
		read_body(d, lock_body);
}

void h_dav_unlock(struct call *call)
{
	const char *v = http_req_header(call->req, "Lock-Token");
	const struct davstore_lock *l = NULL;
	char token[DAVSTORE_TOKEN_MAX + 1];
	size_t n = v ? strlen(v) : 0;
	struct dav d;
	enum err rc;

	/* RFC 4918 wants <token>; some clients (the npm webdav package)
	 * send the bare token, which is unambiguous, so both are taken. */
	if (n >= 2 && v[0] == '<' && v[n - 1] == '>') {
		v++;
		n -= 2;
	}
	if (n > 0 && n <= DAVSTORE_TOKEN_MAX) {
		memcpy(token, v, n);
		token[n] = '\0';
	}
	if (n == 0 || n > DAVSTORE_TOKEN_MAX || strpbrk(token, "<> \t")) {
		reply_err(call->req, err_set(ERR_INVALID, "UNLOCK needs Lock-Token: <token>"));
		return;
	}
	if (!dav_open(call, &d))
		return;
	l = lock_by_token(&d, token);
	if (!l || !davstore_lock_covers(l, d.keys)) {
		dav_error(call->req, 409, "lock-token-matches-request-uri", NULL,
			  "no such lock on this resource");
		goto out;
	}
	/* The holder unlocks; a manager of the work package may break a lock
	 * someone left behind (the policy's rule). */
	if (!acl_may_unlock(call, l->user_id)) {
		reply_err(
			call->req,
			err_set(ERR_FORBIDDEN,
				"this lock belongs to someone else; a manager of the work package can "
				"remove it"));
		goto out;
	}
	rc = davstore_lock_remove(d.db, token);
	if (!rc && !acl_owns_lock(call, l->user_id))
		checkout_tell_broken(call, l);
	if (rc) {
		reply_err(call->req, rc);
		goto out;
	}
	http_resp_send(call->req, 204, NULL, 0);
out:
	dav_done(&d);
}
