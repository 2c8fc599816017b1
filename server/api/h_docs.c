/*
 * h_docs — documents over HTTPS: listing, download (Range, ETag),
 * upload (a streamed PUT straight into the blob writer), folders,
 * versions, rename/move, deliverable metadata, trash and purge. The
 * routes and their JSON are documented in docs/api.md ("Documents").
 *
 * Access is decided by the route table and acl.c before any of these
 * run; a handler only turns a request into calls on storage/tree.h and
 * the answer back into HTTP. Every upload, download, deletion and
 * restore is written to the audit log.
 */
#include <ctype.h>
#include <event2/buffer.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/apijson.h"
#include "api/auth.h"
#include "cas.h"
#include "smallblob.h"
#include "api/config.h"
#include "api/docput.h"
#include "api/handlers.h"
#include "http/http.h"
#include "http/httpparse.h"
#include "indexq.h"
#include "http/jobs.h"
#include "http/jsonin.h"
#include "api/mime.h"
#include "name.h"
#include "notify.h"
#include "http/reply.h"
#include "api/router.h"
#include "api/acl.h"
#include "api/app.h"
#include "api/blobbody.h"
#include "scans.h"
#include "tree.h"

#define PATH_JSON_MAX (NAME_MAX_DEPTH * (NAME_MAX_BYTES + 1))

static int64_t user_of(const struct call *call) { return call->caller ? call->caller->user_id : 0; }

static struct db *db_of(const struct call *call) { return worker_db(call->worker); }

/* A change and its audit record (the event that feeds and mail are made
 * of, docs/notifications.md) commit together: the tree function's own
 * transaction becomes a savepoint of this one. Ends it: commit when `rc`
 * is 0, else roll back; returns the result. */
static enum err change_end(const struct call *call, enum err rc)
{
	if (!rc)
		rc = db_commit(db_of(call));
	if (rc)
		db_rollback(db_of(call));
	return rc;
}

/* The {path*} of the route as a checked path; answers 400 itself. */
static bool url_path(struct call *call, struct name_path *out)
{
	const char *raw = call_param(call, "path");
	enum err rc;

	rc = name_path_from_url(raw ? raw : "", raw ? strlen(raw) : 0, out);
	if (rc) {
		reply_err(call->req, rc);
		return false;
	}
	return true;
}

static bool query_u64(struct call *call, const char *name, uint64_t max, uint64_t *out)
{
	const char *v = http_req_query_param(call->req, name);
	uint64_t n = 0;

	if (!v)
		return true;
	if (!*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 15) {
		reply_err(call->req, err_set(ERR_INVALID, "%s must be a whole number", name));
		return false;
	}
	for (const char *p = v; *p; p++)
		n = n * 10 + (uint64_t)(*p - '0');
	if (n > max) {
		reply_err(call->req,
			  err_set(ERR_INVALID, "%s must be at most %" PRIu64, name, max));
		return false;
	}
	*out = n;
	return true;
}

static json_t *user_json(int64_t id, const char *name)
{
	if (!id)
		return json_null();
	return json_pack("{s:I, s:s?}", "id", (json_int_t)id, "name", name);
}

static char *etag_of(const char *hash, char buf[DIGEST_SHA256_HEX_LEN + 3])
{
	snprintf(buf, DIGEST_SHA256_HEX_LEN + 3, "\"%s\"", hash);
	return buf;
}

/* `parent` "" or "a/b", joined with `name`; request-scoped. */
static const char *join_path(struct call *call, const char *parent, const char *name)
{
	size_t pl = strlen(parent), nl = strlen(name);
	char *s = http_req_alloc(call->req, pl + nl + 2);

	if (!s)
		return name;
	if (pl)
		snprintf(s, pl + nl + 2, "%s/%s", parent, name);
	else
		memcpy(s, name, nl + 1);
	return s;
}

static json_t *node_json(const struct tree_node *n, const char *path)
{
	json_t *o =
		json_pack("{s:s, s:I, s:s, s:s?, s:o, s:o, s:o}", "type",
			  n->is_folder ? "folder" : "document", "id", (json_int_t)n->id, "name",
			  n->name ? n->name : "", "path", path, "created_at",
			  apijson_time(n->created_at), "modified_at", apijson_time(n->modified_at),
			  "modified_by", user_json(n->modified_by, n->modified_by_name));

	if (o && !n->is_folder) {
		char etag[DIGEST_SHA256_HEX_LEN + 3];

		json_object_set_new(o, "size", json_integer((json_int_t)n->size));
		json_object_set_new(o, "version", json_integer((json_int_t)n->version));
		json_object_set_new(o, "etag", json_string(etag_of(n->blob, etag)));
		json_object_set_new(o, "mime", n->mime ? json_string(n->mime) : json_null());
		json_object_set_new(o, "deliverable",
				    n->deliverable ? json_string(n->deliverable) : json_null());
		json_object_set_new(o, "status",
				    n->status ? json_string(tree_status_name(n->status))
					      : json_null());
	}
	return o;
}

static json_t *version_json(const struct tree_version *v)
{
	char etag[DIGEST_SHA256_HEX_LEN + 3];
	json_t *o =
		json_pack("{s:I, s:I, s:s, s:s, s:o, s:o, s:s}", "version", (json_int_t)v->number,
			  "size", (json_int_t)v->size, "etag", etag_of(v->blob, etag), "mime",
			  v->mime ? v->mime : "", "uploaded_at", apijson_time(v->uploaded_at),
			  "uploaded_by", user_json(v->uploaded_by, v->uploaded_by_name), "comment",
			  v->comment ? v->comment : "");

	if (o)
		json_object_set_new(o, "restored_from",
				    v->restored_from ? json_integer((json_int_t)v->restored_from)
						     : json_null());
	return o;
}

/* "scan": the malware verdict of the content (docs/scanning.md):
 * "clean", "unscanned" (accepted without a verdict), "infected" (found
 * by a rescan), or null when it was never scanned (scanning off). */
static json_t *with_scan(struct call *call, json_t *o, const char *blob)
{
	struct scan_record r;

	if (o && blob && blob[0])
		json_object_set_new(o, "scan",
				    scans_get(db_of(call), blob, &r) == ERR_OK
					    ? json_string(scans_verdict_name(r.verdict))
					    : json_null());
	return o;
}

/* ---- GET /api/v1/wps/{wp}/tree/{path*} ---------------------------------------- */

static bool list_opts(struct call *call, struct tree_list_opts *o)
{
	const char *sort = http_req_query_param(call->req, "sort");
	const char *order = http_req_query_param(call->req, "order");
	uint64_t limit = TREE_LIST_DEFAULT;
	bool asc_default = true;

	memset(o, 0, sizeof *o);
	if (!sort || !strcmp(sort, "name")) {
		o->sort = TREE_SORT_NAME;
	} else if (!strcmp(sort, "modified")) {
		o->sort = TREE_SORT_MODIFIED;
		asc_default = false;
	} else if (!strcmp(sort, "size")) {
		o->sort = TREE_SORT_SIZE;
		asc_default = false;
	} else {
		reply_err(call->req, err_set(ERR_INVALID, "sort must be name, modified or size"));
		return false;
	}
	if (order && strcmp(order, "asc") && strcmp(order, "desc")) {
		reply_err(call->req, err_set(ERR_INVALID, "order must be asc or desc"));
		return false;
	}
	o->reverse = order && (!strcmp(order, "asc")) != asc_default;
	if (!query_u64(call, "offset", INT64_MAX, &o->offset) ||
	    !query_u64(call, "limit", TREE_LIST_MAX, &limit))
		return false;
	o->limit = limit ? (size_t)limit : TREE_LIST_DEFAULT;
	return true;
}

static void list_folder(struct call *call, const struct tree_node *folder, const char *path)
{
	struct tree_list_opts o;
	struct tree_node_list l = {0};
	json_t *body, *entries;
	enum err rc;

	if (!list_opts(call, &o))
		return;
	rc = tree_list(db_of(call), call->wp_id, folder->id, &o, &l);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	body = node_json(folder, path);
	entries = json_array();
	for (size_t i = 0; i < l.n; i++)
		json_array_append_new(
			entries,
			with_scan(call,
				  node_json(&l.items[i], join_path(call, path, l.items[i].name)),
				  l.items[i].is_folder ? NULL : l.items[i].blob));
	json_object_set_new(body, "total", json_integer((json_int_t)l.total));
	json_object_set_new(body, "offset", json_integer((json_int_t)o.offset));
	json_object_set_new(body, "limit", json_integer((json_int_t)o.limit));
	json_object_set_new(body, "entries", entries);
	tree_node_list_free(&l);
	reply_json(call->req, 200, body);
}

/* Where the search index is with the document's current version:
 * {"status": "pending"} until the indexer has looked at it, then
 * indexed, truncated or failed with the reason (and the version and
 * language it was indexed in). NULL when the database cannot say. */
static json_t *index_json(struct call *call, const struct tree_node *doc)
{
	char *status = NULL, *reason = NULL, *language = NULL;
	int64_t version = 0;
	json_t *o = NULL;
	enum err rc;

	rc = indexq_state_get(db_of(call), doc->id, &version, &status, &reason, &language);
	if (rc == ERR_NOTFOUND || (!rc && version != doc->version))
		o = json_pack("{s:s, s:n, s:n, s:n}", "status", "pending", "reason", "version",
			      "language");
	else if (!rc)
		o = json_pack("{s:s, s:o, s:I, s:o}", "status", status, "reason",
			      *reason ? json_string(reason) : json_null(), "version",
			      (json_int_t)version, "language",
			      *language ? json_string(language) : json_null());
	free(status);
	free(reason);
	free(language);
	return o;
}

static void show_document(struct call *call, const struct tree_node *doc, const char *path)
{
	struct tree_version_list l = {0};
	uint64_t offset = 0, limit = TREE_LIST_DEFAULT;
	json_t *body, *versions;
	enum err rc;

	if (!query_u64(call, "offset", INT64_MAX, &offset) ||
	    !query_u64(call, "limit", TREE_LIST_MAX, &limit))
		return;
	rc = tree_versions(db_of(call), call->wp_id, doc->id, offset, (size_t)limit, &l);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	body = with_scan(call, node_json(doc, path), doc->blob);
	versions = json_array();
	for (size_t i = 0; i < l.n; i++)
		json_array_append_new(versions,
				      with_scan(call, version_json(&l.items[i]), l.items[i].blob));
	json_object_set_new(body, "index", index_json(call, doc));
	json_object_set_new(body, "versions_total", json_integer((json_int_t)l.total));
	json_object_set_new(body, "versions", versions);
	tree_version_list_free(&l);
	reply_json(call->req, 200, body);
}

void h_tree_get(struct call *call)
{
	struct name_path p = {0};
	struct tree_node n = {0};
	char *path = NULL;
	enum err rc;

	if (!url_path(call, &p))
		return;
	rc = tree_resolve(db_of(call), call->wp_id, &p, &n);
	if (rc) {
		reply_err(call->req, rc);
		goto out;
	}
	path = name_path_join(&p);
	if (!path) {
		reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
		goto out;
	}
	if (n.is_folder)
		list_folder(call, &n, path);
	else
		show_document(call, &n, path);
out:
	free(path);
	tree_node_clear(&n);
	name_path_free(&p);
}

/* ---- GET /api/v1/wps/{wp}/content/{path*} ------------------------------------ */

/* Does an If-None-Match / If-Match list contain our entity tag? `weak`
 * allows W/ tags (If-None-Match compares weakly, RFC 9110 13.1.2). */
static bool etag_listed(const char *list, const char *hash, bool weak)
{
	const char *p = list;
	size_t hl = strlen(hash);

	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return true;
		bool is_weak = false;

		if (p[0] == 'W' && p[1] == '/') {
			is_weak = true;
			p += 2;
		}
		if (*p != '"')
			return false;
		const char *end = strchr(p + 1, '"');

		if (!end)
			return false;
		if ((size_t)(end - p - 1) == hl && !memcmp(p + 1, hash, hl) && (weak || !is_weak))
			return true;
		p = end + 1;
	}
	return false;
}

static void http_date(int64_t t, char buf[64])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, 64, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

void h_content_get(struct call *call)
{
	struct http_req *req = call->req;
	struct name_path p = {0};
	struct tree_node n = {0};
	struct tree_version v = {0};
	struct blob_body *d = NULL;
	uint64_t number = 0, first = 0, last = 0;
	char etag[DIGEST_SHA256_HEX_LEN + 3], date[64], *path = NULL;
	const char *inm, *if_range, *range_hdr;
	enum httpparse_range range;
	enum err rc;

	if (!query_u64(call, "version", INT64_MAX, &number) || !url_path(call, &p))
		return;
	if (http_req_query_param(req, "version") && number == 0) {
		reply_err(req, err_set(ERR_INVALID, "version numbers start at 1"));
		goto out;
	}
	rc = tree_resolve(db_of(call), call->wp_id, &p, &n);
	if (!rc && n.is_folder)
		rc = err_set(ERR_INVALID, "'%s' is a folder: list it with GET .../tree/",
			     n.name && *n.name ? n.name : "/");
	if (!rc)
		rc = tree_version_get(db_of(call), call->wp_id, n.id, (int64_t)number, &v);
	if (rc) {
		reply_err(req, rc);
		goto out;
	}
	etag_of(v.blob, etag);
	http_date(v.uploaded_at, date);
	/* Headers every answer about this content carries, 304 included. */
	http_resp_header(req, "ETag", etag);
	http_resp_header(req, "Last-Modified", date);
	http_resp_header(req, "Cache-Control", "private, no-cache");
	http_resp_header(req, "X-Content-Type-Options", "nosniff");
	http_resp_header(req, "Content-Security-Policy", "default-src 'none'; sandbox");
	http_resp_headerf(req, "X-Consort-Version", "%" PRId64, v.number);
	inm = http_req_header(req, "If-None-Match");
	if (inm && etag_listed(inm, v.blob, true)) {
		http_resp_send(req, 304, NULL, 0);
		goto out;
	}
	range_hdr = http_req_header(req, "Range");
	if_range = http_req_header(req, "If-Range");
	/* If-Range: serve the range only for the representation the client
	 * has (strong tag, or the exact date we sent); else everything. */
	if (range_hdr && if_range &&
	    !(if_range[0] == '"' ? etag_listed(if_range, v.blob, false) : !strcmp(if_range, date)))
		range_hdr = NULL;
	range = httpparse_range(range_hdr, v.size, &first, &last);
	http_resp_header(req, "Accept-Ranges", "bytes");
	if (range == HTTPPARSE_RANGE_UNSATISFIABLE) {
		http_resp_headerf(req, "Content-Range", "bytes */%" PRIu64, v.size);
		reply_err(req,
			  err_set(ERR_RANGE,
				  "the range is outside the %" PRIu64 " bytes of version %" PRId64,
				  v.size, v.number));
		goto out;
	}
	d = calloc(1, sizeof *d);
	if (!d) {
		reply_err(req, err_set(ERR_NOMEM, "out of memory"));
		goto out;
	}
	rc = smallblob_open(db_of(call), app_cas(worker_app(call->worker)), v.blob, &d->r);
	if (!rc && cas_reader_size(d->r) != v.size)
		rc = err_set(ERR_CORRUPT,
			     "stored content of version %" PRId64
			     " has the wrong size; run consort fsck",
			     v.number);
	if (rc) {
		if (rc == ERR_NOTFOUND)
			rc = err_set(ERR_CORRUPT,
				     "stored content of version %" PRId64
				     " is missing; run consort fsck",
				     v.number);
		blob_body_ops.release(d);
		reply_err(req, rc);
		goto out;
	}
	http_resp_header(req, "Content-Type", mime_for_download(v.mime));
	blob_body_attachment(call->req, n.name);
	path = name_path_join(&p);
	if (!http_req_is_head(req)) {
		/* A download is recorded when it starts; a client that stops
		 * reading still had the chance to read it all. */
		if (range == HTTPPARSE_RANGE_PARTIAL)
			auth_audit(call, "download", call->wp_id, path ? path : "",
				   "version %" PRId64 ", bytes %" PRIu64 "-%" PRIu64, v.number,
				   first, last);
		else
			auth_audit(call, "download", call->wp_id, path ? path : "",
				   "version %" PRId64 ", %" PRIu64 " bytes", v.number, v.size);
	}
	if (range == HTTPPARSE_RANGE_PARTIAL) {
		d->pos = first;
		d->end = last + 1;
		http_resp_headerf(req, "Content-Range", "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
				  first, last, v.size);
		http_resp_stream(req, 206, (int64_t)(d->end - d->pos), &blob_body_ops, d);
	} else {
		d->end = v.size;
		http_resp_stream(req, 200, (int64_t)v.size, &blob_body_ops, d);
	}
out:
	free(path);
	tree_version_clear(&v);
	tree_node_clear(&n);
	name_path_free(&p);
}

/* ---- PUT /api/v1/wps/{wp}/content/{path*} ------------------------------------ */

/* The body is gathered on the event loop into a buffer of this size,
 * which a disk thread then hashes and writes while the loop fills the
 * next: decrypting and storing overlap, and the loop never waits for
 * the disk. A second full buffer while the first is still being
 * written pauses the body (backpressure to the client). */
#define PUT_STAGE (4u << 20)
_Static_assert(PUT_STAGE >= MIME_HEAD_BYTES, "the first buffer holds the head");

struct put {
	struct call *call;
	struct cas_writer *w;
	struct name_path path;
	const char *comment;
	enum tree_cond cond;
	const char *if_blob;
	uint64_t received, max;
	/* A body of unknown length (chunked) is held to the room left in
	 * the work package's quota as it streams. */
	bool quota_watch;
	uint64_t quota_room;
	/* The first bytes, for the MIME type: copied off the first buffer
	 * when it goes to the disk; a body that fits one buffer is typed
	 * from the buffer itself. */
	unsigned char *head;
	size_t head_len;
	/* on the loop */
	unsigned char *stage;
	size_t staged, stage_cap;
	unsigned char *spare; /* a written buffer, for reuse */
	size_t spare_cap;
	bool writing; /* a disk thread has w and `out` */
	bool paused, ended, dropped, failed;
	/* with the disk thread while writing */
	unsigned char *out;
	size_t out_len, out_cap;
	enum err wrc;
	char wdetail[256];
};

static void put_free(struct put *pu)
{
	cas_writer_abort(pu->w);
	name_path_free(&pu->path);
	free(pu->stage);
	free(pu->spare);
	free(pu->out);
	free(pu->head);
	free(pu);
}

/* The request is over for us: free now, or when the disk thread is
 * done with the writer. */
static void put_drop(struct put *pu)
{
	if (pu->writing)
		pu->dropped = true;
	else
		put_free(pu);
}

static enum err stage_append(struct put *pu, const void *data, size_t len)
{
	if (pu->stage_cap - pu->staged < len) {
		size_t cap = pu->stage_cap ? pu->stage_cap : 64 * 1024;
		int64_t declared = http_req_body_length(pu->call->req);
		unsigned char *p;

		/* A body of known size up to a buffer's worth gets exactly
		 * what it needs at once. */
		if (!pu->stage_cap && declared > 0 && (uint64_t)declared <= PUT_STAGE)
			cap = (size_t)declared;
		while (cap - pu->staged < len)
			cap = cap < PUT_STAGE ? (cap * 2 < PUT_STAGE ? cap * 2 : PUT_STAGE)
					      : cap + len;
		p = realloc(pu->stage, cap);
		if (!p)
			return err_set(ERR_NOMEM, "out of memory");
		pu->stage = p;
		pu->stage_cap = cap;
	}
	memcpy(pu->stage + pu->staged, data, len);
	pu->staged += len;
	return ERR_OK;
}

static void put_answer(struct call *call, enum err rc, const struct docput_result *res, void *arg)
{
	char etag[DIGEST_SHA256_HEX_LEN + 3];
	json_t *body;

	(void)arg;
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	etag_of(res->hash, etag);
	http_resp_header(call->req, "ETag", etag);
	http_resp_headerf(call->req, "X-Consort-Version", "%" PRId64, res->version);
	if (res->created)
		http_resp_headerf(call->req, "Location", "%s", http_req_path(call->req));
	body = json_pack("{s:I, s:I, s:s, s:I, s:s, s:b}", "id", (json_int_t)res->node_id,
			 "version", (json_int_t)res->version, "etag", etag, "size",
			 (json_int_t)res->size, "mime", res->mime, "created", res->created);
	if (body)
		json_object_set_new(body, "scan", res->scan ? json_string(res->scan) : json_null());
	reply_json(call->req, res->created ? 201 : 200, body);
}

/* Every byte is here and no write is running: hand the rest to docput. */
static void put_commit(struct put *pu)
{
	struct docput_req r = {
		.call = pu->call,
		.w = pu->w,
		.tail = pu->stage,
		.tail_len = pu->staged,
		.wp_id = pu->call->wp_id,
		.path = pu->path,
		.comment = pu->comment,
		.cond = pu->cond,
		.if_blob = pu->if_blob,
		.head = pu->head ? pu->head : pu->stage,
		.head_len = pu->head
				    ? pu->head_len
				    : (pu->staged < MIME_HEAD_BYTES ? pu->staged : MIME_HEAD_BYTES),
		.answer = put_answer,
	};

	pu->w = NULL;
	pu->stage = NULL;
	pu->staged = pu->stage_cap = 0;
	memset(&pu->path, 0, sizeof pu->path);
	docput_commit(&r); /* copies the head */
	put_free(pu);
}

/* Disk thread: hash and write one buffer. */
static void put_write_run(void *arg)
{
	struct put *pu = arg;

	pu->wrc = cas_writer_write(pu->w, pu->out, pu->out_len);
	if (pu->wrc)
		snprintf(pu->wdetail, sizeof pu->wdetail, "%s", err_detail());
}

static void put_write_done(struct http_req *req, bool alive, void *arg);

static void put_write_start(struct put *pu)
{
	struct worker *wk = pu->call->worker;

	pu->out = pu->stage;
	pu->out_len = pu->staged;
	pu->out_cap = pu->stage_cap;
	pu->stage = pu->spare;
	pu->stage_cap = pu->spare_cap;
	pu->staged = 0;
	pu->spare = NULL;
	pu->spare_cap = 0;
	pu->writing = true;
	if (jobs_submit_req_on(worker_io(wk), worker_jobs(wk), pu->call->req, put_write_run,
			       put_write_done, pu)) {
		/* No room in the pool: write here, as before there was one. */
		put_write_run(pu);
		put_write_done(pu->call->req, http_req_alive(pu->call->req), pu);
	}
}

static void put_write_done(struct http_req *req, bool alive, void *arg)
{
	struct put *pu = arg;

	pu->writing = false;
	free(pu->spare);
	pu->spare = pu->out;
	pu->spare_cap = pu->out_cap;
	pu->out = NULL;
	pu->out_len = pu->out_cap = 0;
	if (pu->dropped || (!alive && !pu->ended)) {
		put_free(pu);
		return;
	}
	if (pu->wrc) {
		err_set(pu->wrc, "%s", pu->wdetail);
		reply_err(req, pu->wrc);
		if (pu->ended) {
			put_free(pu);
		} else {
			/* The answer ends the body: on_abort, or one more
			 * on_data that is refused, frees. */
			pu->failed = true;
		}
		return;
	}
	if (pu->ended) {
		put_commit(pu);
		return;
	}
	if (pu->staged >= PUT_STAGE)
		put_write_start(pu);
	if (pu->paused && !pu->writing) {
		pu->paused = false;
		http_req_resume_body(req);
	}
}

static enum err put_data(struct http_req *req, const void *data, size_t len, void *arg)
{
	struct put *pu = arg;
	enum err rc;

	/* A refusal here ends the body without on_abort: drop now. */
	if (pu->failed) {
		put_drop(pu);
		return ERR_IO; /* answered already */
	}
	if (pu->received + len > pu->max) {
		reply_err(req, err_set(ERR_TOOLARGE,
				       "a document version may have at most %" PRIu64 " bytes",
				       pu->max));
		put_drop(pu);
		return ERR_TOOLARGE;
	}
	if (pu->quota_watch && pu->received + len > pu->quota_room) {
		/* Stop at the quota, not after the whole body: put_drop
		 * removes what was written (cas_writer_abort). */
		reply_err(req, err_set(ERR_QUOTA,
				       "work package %s is full: the upload passed the %" PRIu64
				       " bytes left in its quota and was stopped",
				       call_param(pu->call, "wp"), pu->quota_room));
		put_drop(pu);
		return ERR_QUOTA;
	}
	pu->received += len;
	rc = stage_append(pu, data, len);
	if (rc) {
		reply_err(req, rc);
		put_drop(pu);
		return rc;
	}
	if (pu->staged >= PUT_STAGE) {
		if (!pu->head) { /* the first buffer: the body's first bytes */
			pu->head = malloc(MIME_HEAD_BYTES);
			if (!pu->head) {
				reply_err(req, err_set(ERR_NOMEM, "out of memory"));
				put_drop(pu);
				return ERR_NOMEM;
			}
			memcpy(pu->head, pu->stage, MIME_HEAD_BYTES);
			pu->head_len = MIME_HEAD_BYTES;
		}
		if (!pu->writing) {
			put_write_start(pu);
		} else if (!pu->paused) {
			pu->paused = true;
			http_req_pause_body(req);
		}
	}
	return ERR_OK;
}

static void put_end(struct http_req *req, void *arg)
{
	struct put *pu = arg;

	(void)req;
	if (pu->writing)
		pu->ended = true; /* put_write_done commits */
	else
		put_commit(pu);
}

static void put_abort(struct http_req *req, void *arg)
{
	(void)req;
	put_drop(arg);
}

static const struct http_body_sink put_sink = {put_data, put_end, put_abort};

/* Preconditions from If-Match / If-None-Match into pu; answers 400 on a
 * form we do not take (a list, a weak tag). */
static bool put_conditions(struct call *call, struct put *pu)
{
	const char *im = http_req_header(call->req, "If-Match");
	const char *inm = http_req_header(call->req, "If-None-Match");

	if (http_req_header_count(call->req, "If-Match") > 1 ||
	    http_req_header_count(call->req, "If-None-Match") > 1) {
		reply_err(call->req, err_set(ERR_INVALID, "give If-Match or If-None-Match once"));
		return false;
	}
	if (inm) {
		if (strcmp(inm, "*")) {
			reply_err(call->req,
				  err_set(ERR_INVALID,
					  "If-None-Match on an upload must be * (create only)"));
			return false;
		}
		pu->cond = TREE_COND_ABSENT;
	}
	if (im) {
		size_t n = strlen(im);

		if (!strcmp(im, "*")) {
			pu->cond = TREE_COND_EXISTS;
		} else if (n == DIGEST_SHA256_HEX_LEN + 2 && im[0] == '"' && im[n - 1] == '"') {
			char *h = http_req_strndup(call->req, im + 1, n - 2);

			if (!h || !cas_hash_valid(h)) {
				reply_err(call->req,
					  err_set(ERR_PRECONDITION,
						  "the If-Match tag is not one this server made"));
				return false;
			}
			pu->if_blob = h;
		} else {
			reply_err(
				call->req,
				err_set(ERR_INVALID,
					"If-Match must be * or one strong entity tag (the ETag of the "
					"current version)"));
			return false;
		}
		if (inm) {
			reply_err(call->req,
				  err_set(ERR_INVALID,
					  "If-Match and If-None-Match cannot be combined"));
			return false;
		}
	}
	return true;
}

/* The checks that must pass before any body byte is read. Answers and
 * returns false on refusal (the connection then closes, no 100 Continue). */
static bool put_precheck(struct call *call, struct put *pu, int64_t declared)
{
	struct db *db = db_of(call);
	struct tree_node n = {0};
	enum err rc;

	if (pu->path.n == 0) {
		reply_err(call->req, err_set(ERR_INVALID, "a document needs a name"));
		return false;
	}
	if (pu->comment && (strlen(pu->comment) > TREE_COMMENT_MAX ||
			    !name_utf8_valid(pu->comment, strlen(pu->comment)))) {
		reply_err(call->req,
			  err_set(ERR_INVALID, "comment must be valid UTF-8 of at most %d bytes",
				  TREE_COMMENT_MAX));
		return false;
	}
	if (declared > 0 && (uint64_t)declared > pu->max) {
		reply_err(call->req,
			  err_set(ERR_TOOLARGE,
				  "a document version may have at most %" PRIu64 " bytes",
				  pu->max));
		return false;
	}
	/* A conflict that is already certain is told now, not after the
	 * client has sent gigabytes; the commit checks again. */
	rc = tree_resolve(db, call->wp_id, &pu->path, &n);
	if (!rc && n.is_folder)
		rc = err_set(ERR_EXISTS, "'%s' is a folder", n.name);
	else if (!rc && pu->cond == TREE_COND_ABSENT)
		rc = err_set(ERR_PRECONDITION, "'%s' already exists", n.name);
	else if (!rc && pu->if_blob && strcmp(pu->if_blob, n.blob))
		rc = err_set(ERR_PRECONDITION,
			     "'%s' was changed meanwhile: its current version is %" PRId64, n.name,
			     n.version);
	else if (rc == ERR_NOTFOUND && (pu->cond == TREE_COND_EXISTS || pu->if_blob))
		rc = err_set(ERR_PRECONDITION, "the document does not exist");
	else if (rc == ERR_NOTFOUND) /* a new document (missing folders are made at commit) */
		rc = tree_look_alike_check(db, call->wp_id, &pu->path);
	tree_node_clear(&n);
	if (!rc)
		rc = tree_quota_check(db, call->wp_id, declared > 0 ? (uint64_t)declared : 0);
	if (!rc && declared < 0) {
		struct tree_usage u;

		rc = tree_usage(db, call->wp_id, &u);
		pu->quota_watch = !rc && u.limited;
		pu->quota_room = u.quota > u.used ? u.quota - u.used : 0;
	}
	if (!rc)
		rc = cas_writer_new(app_cas(worker_app(call->worker)),
				    declared > 0 ? (uint64_t)declared : 0, &pu->w);
	if (rc) {
		reply_err(call->req, rc);
		return false;
	}
	return true;
}

/* The policy's lock rule for a write to `p`; answers 423 itself. */
static bool lock_ok(struct call *call, const struct name_path *p, bool below)
{
	enum err rc = acl_lock_check(call, call->wp_id, p, below);

	if (rc)
		reply_err(call->req, rc);
	return !rc;
}

void h_content_put(struct call *call)
{
	int64_t declared = http_req_body_length(call->req);
	struct put *pu = calloc(1, sizeof *pu);

	if (!pu) {
		reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
		return;
	}
	pu->call = call;
	pu->max = worker_config(call->worker)->max_upload;
	pu->comment = http_req_query_param(call->req, "comment");
	if (!url_path(call, &pu->path) || !put_conditions(call, pu) ||
	    !lock_ok(call, &pu->path, false) || !put_precheck(call, pu, declared)) {
		put_free(pu);
		return;
	}
	http_req_read_body(call->req, &put_sink, pu);
}

/* ---- folders, restore, move, metadata ------------------------------------------- */

/* A path from a JSON string member; answers 400 itself. */
static bool text_path(struct call *call, const char *what, const char *text, struct name_path *out)
{
	enum err rc = name_path_from_text(text, out);

	if (rc) {
		reply_err(call->req, err_set(ERR_INVALID, "%s: %s", what, err_detail()));
		return false;
	}
	return true;
}

static void reply_node(struct call *call, int status, const struct tree_node *n, const char *path)
{
	reply_json(call->req, status, node_json(n, path));
}

void h_folder_create(struct call *call)
{
	const char *text = NULL;
	bool parents = false;
	struct jsonin_field f[] = {
		{"path", JSONIN_STRING, JSONIN_REQUIRED, 1, PATH_JSON_MAX, .out = &text},
		{"parents", JSONIN_BOOL, 0, .out = &parents},
	};
	struct name_path p = {0};
	struct tree_node n = {0};
	char *path = NULL;
	enum err rc = jsonin_parse(call->json, f, 2);

	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	if (!text_path(call, "path", text, &p))
		return;
	if (p.n == 0) {
		reply_err(call->req, err_set(ERR_EXISTS, "the root folder exists"));
		goto out;
	}
	path = name_path_join(&p);
	rc = db_begin(db_of(call));
	if (!rc)
		rc = tree_mkdir(db_of(call), call->wp_id, &p, user_of(call), parents, &n);
	if (!rc)
		rc = auth_audit(call, "folder_create", call->wp_id, path ? path : "", NULL);
	rc = change_end(call, rc);
	if (rc)
		reply_err(call->req, rc);
	else
		reply_node(call, 201, &n, path ? path : "");
out:
	free(path);
	tree_node_clear(&n);
	name_path_free(&p);
}

void h_version_restore(struct call *call)
{
	const char *text = NULL, *comment = NULL;
	int64_t version = 0, if_version = 0;
	struct jsonin_field f[] = {
		{"path", JSONIN_STRING, JSONIN_REQUIRED, 1, PATH_JSON_MAX, .out = &text},
		{"version", JSONIN_INT, JSONIN_REQUIRED, 1, INT64_MAX, .out = &version},
		{"comment", JSONIN_STRING, JSONIN_MULTILINE, 0, TREE_COMMENT_MAX, .out = &comment},
		{"if_version", JSONIN_INT, 0, 1, INT64_MAX, .out = &if_version},
	};
	struct name_path p = {0};
	struct tree_put_result res;
	struct tree_version v = {0};
	char etag[DIGEST_SHA256_HEX_LEN + 3], *path = NULL;
	enum err rc = jsonin_parse(call->json, f, 4);

	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	if (!text_path(call, "path", text, &p))
		return;
	if (!lock_ok(call, &p, false))
		goto out;
	path = name_path_join(&p);
	rc = db_begin(db_of(call));
	if (!rc)
		rc = tree_restore_version(db_of(call), call->wp_id, &p, version, user_of(call),
					  comment, if_version, &res);
	if (!rc)
		rc = tree_version_get(db_of(call), call->wp_id, res.node_id, res.version, &v);
	if (!rc)
		rc = auth_audit(call, "restore", call->wp_id, path ? path : "",
				"version %" PRId64 " restored as version %" PRId64, version,
				res.version);
	/* restoring is editing: its author follows the document */
	if (!rc)
		rc = notify_follow_auto(db_of(call), user_of(call), call->wp_id, path);
	rc = change_end(call, rc);
	if (rc) {
		reply_err(call->req, rc);
		goto out;
	}
	http_resp_header(call->req, "ETag", etag_of(v.blob, etag));
	http_resp_headerf(call->req, "X-Consort-Version", "%" PRId64, res.version);
	reply_json(call->req, 201,
		   json_pack("{s:I, s:I, s:I, s:s, s:I}", "id", (json_int_t)res.node_id, "version",
			     (json_int_t)res.version, "restored_from", (json_int_t)version, "etag",
			     etag, "size", (json_int_t)v.size));
out:
	free(path);
	tree_version_clear(&v);
	name_path_free(&p);
}

void h_move(struct call *call)
{
	const char *from_text = NULL, *to_text = NULL;
	bool replace = false;
	struct jsonin_field f[] = {
		{"from", JSONIN_STRING, JSONIN_REQUIRED, 1, PATH_JSON_MAX, .out = &from_text},
		{"to", JSONIN_STRING, JSONIN_REQUIRED, 1, PATH_JSON_MAX, .out = &to_text},
		{"replace", JSONIN_BOOL, 0, .out = &replace},
	};
	struct name_path from = {0}, to = {0};
	struct tree_node n = {0};
	char *to_path = NULL, *from_path = NULL;
	enum err rc = jsonin_parse(call->json, f, 3);

	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	if (!text_path(call, "from", from_text, &from) || !text_path(call, "to", to_text, &to))
		goto out;
	if (from.n == 0 || to.n == 0) {
		reply_err(call->req, err_set(ERR_INVALID, "the root folder cannot move"));
		goto out;
	}
	if (!lock_ok(call, &from, true) || !lock_ok(call, &to, true))
		goto out;
	to_path = name_path_join(&to);
	rc = db_begin(db_of(call));
	/* What replace sends to the trash takes its follows along. */
	if (!rc && replace)
		rc = notify_follows_drop(db_of(call), call->wp_id, to_path ? to_path : "");
	if (!rc)
		rc = tree_move(db_of(call), call->wp_id, &from, &to, user_of(call),
			       replace ? TREE_MOVE_REPLACE : 0, &n);
	/* A follow goes with what it follows (docs/notifications.md). */
	if (!rc && !(from_path = name_path_join(&from)))
		rc = err_set(ERR_NOMEM, "out of memory");
	if (!rc)
		rc = notify_follows_move(db_of(call), call->wp_id, from_path, call->wp_id,
					 to_path ? to_path : "");
	if (!rc)
		rc = auth_audit(call, "move", call->wp_id, to_path ? to_path : "", "from %s",
				from_text);
	rc = change_end(call, rc);
	if (rc) {
		reply_err(call->req, rc);
		goto out;
	}
	reply_node(call, 200, &n, to_path ? to_path : "");
out:
	free(to_path);
	free(from_path);
	tree_node_clear(&n);
	name_path_free(&from);
	name_path_free(&to);
}

void h_tree_patch(struct call *call)
{
	static const char *const statuses[] = {"draft", "review", "in review", "final", NULL};
	const char *deliverable = NULL, *name = NULL;
	int status = -1;
	bool has_deliv = false, has_status = false, has_name = false;
	struct jsonin_field f[] = {
		{"deliverable", JSONIN_STRING, JSONIN_NULLABLE, 0, TREE_DELIVERABLE_MAX,
		 .out = &deliverable, .present = &has_deliv},
		{"status", JSONIN_ENUM, JSONIN_NULLABLE, .choices = statuses, .out = &status,
		 .present = &has_status},
		{"name", JSONIN_STRING, 0, 1, NAME_MAX_BYTES, .out = &name, .present = &has_name},
	};
	struct tree_meta meta = {0};
	struct name_path p = {0};
	struct tree_node n = {0};
	char *path = NULL, *old_path = NULL;
	enum err rc = jsonin_parse(call->json, f, 3);

	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	if (!url_path(call, &p))
		return;
	if (!has_deliv && !has_status && !has_name) {
		reply_err(call->req, err_set(ERR_INVALID, "give deliverable, status and/or name"));
		goto out;
	}
	if (p.n == 0) {
		reply_err(call->req, err_set(ERR_INVALID, "the root folder has no metadata"));
		goto out;
	}
	if (!lock_ok(call, &p, has_name))
		goto out;
	meta.set_deliverable = has_deliv;
	meta.deliverable = deliverable;
	meta.set_status = has_status;
	meta.status = status < 0    ? TREE_STATUS_NONE
		      : status == 0 ? TREE_STATUS_DRAFT
		      : status <= 2 ? TREE_STATUS_REVIEW
				    : TREE_STATUS_FINAL;
	rc = db_begin(db_of(call));
	if (!rc && (has_deliv || has_status))
		rc = tree_set_meta(db_of(call), call->wp_id, &p, &meta, user_of(call), &n);
	if (!rc && has_name) {
		tree_node_clear(&n);
		rc = tree_rename(db_of(call), call->wp_id, &p, name, user_of(call), &n);
		if (!rc && !(old_path = name_path_join(&p)))
			rc = err_set(ERR_NOMEM, "out of memory");
		if (!rc) {
			/* The answer names the node where it is now. */
			free(p.names[p.n - 1]);
			p.names[p.n - 1] = strdup(n.name);
			if (!p.names[p.n - 1])
				rc = err_set(ERR_NOMEM, "out of memory");
		}
	}
	if (!rc && !(path = name_path_join(&p)))
		rc = err_set(ERR_NOMEM, "out of memory");
	if (!rc && old_path)
		rc = notify_follows_move(db_of(call), call->wp_id, old_path, call->wp_id, path);
	if (!rc)
		rc = auth_audit(call, has_name ? "rename" : "metadata", call->wp_id, path,
				"deliverable %s, status %s", n.deliverable ? n.deliverable : "-",
				n.status ? tree_status_name(n.status) : "-");
	rc = change_end(call, rc);
	if (rc) {
		reply_err(call->req, rc);
		goto out;
	}
	reply_node(call, 200, &n, path);
out:
	free(path);
	free(old_path);
	tree_node_clear(&n);
	name_path_free(&p);
}

/* ---- trash ---------------------------------------------------------------------- */

void h_tree_delete(struct call *call)
{
	struct name_path p = {0};
	int64_t id = 0;
	char *path = NULL;
	enum err rc;

	if (!url_path(call, &p))
		return;
	if (p.n == 0) {
		reply_err(call->req, err_set(ERR_INVALID, "the root folder cannot be deleted"));
		goto out;
	}
	if (!lock_ok(call, &p, true))
		goto out;
	path = name_path_join(&p);
	rc = db_begin(db_of(call));
	if (!rc)
		rc = tree_trash(db_of(call), call->wp_id, &p, user_of(call), &id);
	if (!rc)
		rc = notify_follows_drop(db_of(call), call->wp_id, path ? path : "");
	if (!rc)
		rc = auth_audit(call, "delete", call->wp_id, path ? path : "",
				"to the trash as entry %" PRId64, id);
	rc = change_end(call, rc);
	if (rc) {
		reply_err(call->req, rc);
		goto out;
	}
	reply_json(call->req, 200,
		   json_pack("{s:I, s:s}", "trash_id", (json_int_t)id, "path", path ? path : ""));
out:
	free(path);
	name_path_free(&p);
}

void h_trash_list(struct call *call)
{
	struct tree_node_list l = {0};
	uint64_t offset = 0, limit = TREE_LIST_DEFAULT;
	json_t *items;
	enum err rc;

	if (!query_u64(call, "offset", INT64_MAX, &offset) ||
	    !query_u64(call, "limit", TREE_LIST_MAX, &limit))
		return;
	rc = tree_trash_list(db_of(call), call->wp_id, offset, (size_t)limit, &l);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	items = json_array();
	for (size_t i = 0; i < l.n; i++) {
		json_t *o = node_json(&l.items[i], l.items[i].path ? l.items[i].path : "");

		json_object_set_new(o, "trashed_at", apijson_time(l.items[i].trashed_at));
		json_object_set_new(o, "trashed_by",
				    user_json(l.items[i].trashed_by, l.items[i].trashed_by_name));
		json_array_append_new(items, o);
	}
	reply_json(call->req, 200,
		   json_pack("{s:I, s:I, s:I, s:o}", "total", (json_int_t)l.total, "offset",
			     (json_int_t)offset, "limit",
			     (json_int_t)(limit ? limit : TREE_LIST_DEFAULT), "items", items));
	tree_node_list_free(&l);
}

static bool trash_id(struct call *call, int64_t *id)
{
	if (!apijson_parse_id(call_param(call, "id"), id)) {
		reply_err(call->req, err_set(ERR_NOTFOUND, "no such trash entry"));
		return false;
	}
	return true;
}

void h_trash_restore(struct call *call)
{
	const char *name = NULL;
	struct jsonin_field f[] = {
		{"name", JSONIN_STRING, JSONIN_NULLABLE, 1, NAME_MAX_BYTES, .out = &name},
	};
	struct tree_node n = {0};
	char *path = NULL;
	int64_t id;
	enum err rc;

	if (!trash_id(call, &id))
		return;
	if (call->json && (rc = jsonin_parse(call->json, f, 1))) {
		reply_err(call->req, rc);
		return;
	}
	/* Where it comes back to, as the lock rule sees paths. */
	rc = tree_get(db_of(call), call->wp_id, id, &n);
	if (!rc && n.path) {
		struct name_path p = {0};

		if (name_path_from_text(n.path, &p) == ERR_OK)
			rc = acl_lock_check(call, call->wp_id, &p, true);
		name_path_free(&p);
	}
	tree_node_clear(&n);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	rc = db_begin(db_of(call));
	if (!rc)
		rc = tree_trash_restore(db_of(call), call->wp_id, id, user_of(call), name, &n);
	if (!rc)
		rc = tree_path(db_of(call), n.id, &path);
	if (!rc)
		rc = auth_audit(call, "restore_trash", call->wp_id, path, "trash entry %" PRId64,
				id);
	rc = change_end(call, rc);
	if (rc) {
		reply_err(call->req, rc);
		goto out;
	}
	reply_node(call, 200, &n, path);
out:
	free(path);
	tree_node_clear(&n);
}

void h_trash_purge(struct call *call)
{
	struct tree_purge_result res;
	struct tree_node n = {0};
	int64_t id;
	enum err rc;

	if (!trash_id(call, &id))
		return;
	rc = db_begin(db_of(call));
	if (!rc)
		rc = acl_wp_writable(db_of(call), call->wp_id, call_param(call, "wp"));
	/* For the audit record: what it was, before it is gone. */
	if (!rc)
		rc = tree_get(db_of(call), call->wp_id, id, &n);
	if (!rc && !n.trashed_at)
		rc = err_set(ERR_NOTFOUND, "no such trash entry");
	if (!rc)
		rc = tree_purge(db_of(call), call->wp_id, id, &res);
	if (!rc)
		rc = auth_audit(call, "purge", call->wp_id, n.path ? n.path : "",
				"trash entry %" PRId64 ": %" PRIu64 " nodes, %" PRIu64
				" versions, %" PRIu64 " bytes",
				id, res.nodes, res.versions, res.bytes);
	rc = change_end(call, rc);
	if (rc) {
		reply_err(call->req, rc);
		goto out;
	}
	reply_json(call->req, 200,
		   json_pack("{s:I, s:I, s:I}", "nodes", (json_int_t)res.nodes, "versions",
			     (json_int_t)res.versions, "bytes", (json_int_t)res.bytes));
out:
	tree_node_clear(&n);
}
