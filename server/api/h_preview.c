/*
 * h_preview — page images of a document version:
 *   GET /api/v1/wps/{wp}/preview/{path}?version=N
 *       what is known: {"state": "ready", "pages": P, ...}, "failed" with
 *       the reason, "pending" (202; being made: ask again), or
 *       "unsupported" for a type that gets no preview
 *   GET /api/v1/wps/{wp}/preview/{path}?version=N&page=P&size=W
 *       the page as image/png, W pixels wide at most (200, 400, 800,
 *       1200 or 1600; default 800), made on the preview pool if missing
 *
 * Access is the route's (WP read, like a download). Images carry nosniff
 * and same-origin resource policy; their ETag is the content hash with
 * page and size, so versions that share content share cached images.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/app.h"
#include "api/handlers.h"
#include "api/preview.h"
#include "api/router.h"
#include "http/http.h"
#include "http/jobs.h"
#include "http/reply.h"
#include "name.h"
#include "tree.h"

struct pagejob {
	char hash[DIGEST_SHA256_HEX_LEN + 1];
	enum preview_kind kind;
	const char *loader;
	char *name;
	int page;
	unsigned width;
	bool immutable;
	enum err rc;
	char detail[256];
	char *png;
	size_t len;
};

static void pagejob_free(struct pagejob *j)
{
	free(j->name);
	free(j->png);
	free(j);
}

static void pagejob_run(void *arg)
{
	struct pagejob *j = arg;

	j->rc = preview_page(j->hash, j->kind, j->loader, j->name, j->page, j->width, &j->png,
			     &j->len);
	if (j->rc)
		snprintf(j->detail, sizeof j->detail, "%s", err_detail());
}

static void image_headers(struct http_req *req, const struct pagejob *j)
{
	http_resp_headerf(req, "ETag", "\"%s-p%d-w%u\"", j->hash, j->page, j->width);
	/* A numbered version never changes; the current one may. */
	http_resp_header(req, "Cache-Control",
			 j->immutable ? "private, max-age=31536000, immutable"
				      : "private, no-cache");
	http_resp_header(req, "X-Content-Type-Options", "nosniff");
	http_resp_header(req, "Cross-Origin-Resource-Policy", "same-origin");
	http_resp_header(req, "Content-Security-Policy", "default-src 'none'; sandbox");
}

static void pagejob_done(struct http_req *req, bool alive, void *arg)
{
	struct pagejob *j = arg;

	if (alive) {
		if (j->rc) {
			if (j->rc == ERR_BUSY)
				http_resp_header(req, "Retry-After", "5");
			reply_err(req, err_set(j->rc, "%s", j->detail));
		} else {
			image_headers(req, j);
			http_resp_header(req, "Content-Type", "image/png");
			http_resp_send(req, 200, j->png, j->len);
		}
	}
	pagejob_free(j);
}

static bool parse_num(const char *s, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s || *s < '0' || *s > '9' || strlen(s) > 9)
		return false;
	v = strtol(s, &end, 10);
	if (*end || v < 1 || v > max)
		return false;
	*out = v;
	return true;
}

static void answer_state(struct call *call, const struct tree_version *v, const char *name,
			 enum preview_kind kind, const char *loader)
{
	char reason[256];
	int pages = 0;
	enum err rc;
	json_t *o;

	if (kind == PREVIEW_NONE) {
		reply_json(call->req, 200,
			   json_pack("{s:s, s:s, s:I, s:s}", "state", "unsupported", "reason",
				     "there is no preview for this type of document; download it",
				     "version", (json_int_t)v->number, "sha256", v->blob));
		return;
	}
	rc = preview_state(v->blob, &pages, reason, sizeof reason);
	if (rc == ERR_NOTFOUND) {
		rc = preview_prepare_async(v->blob, kind, loader, name);
		if (rc == ERR_LIMIT) {
			http_resp_header(call->req, "Retry-After", "5");
			rc = err_set(ERR_BUSY,
				     "too many previews are being made; try again shortly");
		}
		if (rc) {
			reply_err(call->req, rc);
			return;
		}
		http_resp_header(call->req, "Retry-After", "1");
		reply_json(call->req, 202,
			   json_pack("{s:s, s:I, s:s}", "state", "pending", "version",
				     (json_int_t)v->number, "sha256", v->blob));
		return;
	}
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	if (pages > 0)
		o = json_pack("{s:s, s:i, s:I, s:s, s:[iiiii], s:i}", "state", "ready", "pages",
			      pages, "version", (json_int_t)v->number, "sha256", v->blob, "sizes",
			      200, 400, 800, 1200, 1600, "size", PREVIEW_DEFAULT_WIDTH);
	else
		o = json_pack("{s:s, s:s, s:I, s:s}", "state", "failed", "reason", reason,
			      "version", (json_int_t)v->number, "sha256", v->blob);
	reply_json(call->req, 200, o);
}

void h_preview(struct call *call)
{
	struct http_req *req = call->req;
	const char *raw = call_param(call, "path");
	const char *qv = http_req_query_param(req, "version");
	const char *qp = http_req_query_param(req, "page");
	const char *qs = http_req_query_param(req, "size");
	struct name_path np = {0};
	struct tree_node node = {0};
	struct tree_version v = {0};
	struct pagejob *j = NULL;
	long version = 0, page = 0, size = PREVIEW_DEFAULT_WIDTH;
	const char *loader = NULL;
	enum preview_kind kind;
	enum err rc = ERR_OK;

	if (qv && !parse_num(qv, INT32_MAX, &version))
		rc = err_set(ERR_INVALID, "version must be a version number");
	else if (qp && !parse_num(qp, 1000000, &page))
		rc = err_set(ERR_INVALID, "page must be a page number from 1");
	else if (qs && (!parse_num(qs, 4096, &size) || !preview_width_ok((unsigned)size)))
		rc = err_set(ERR_INVALID, "size must be 200, 400, 800, 1200 or 1600");
	else if (qs && !qp)
		rc = err_set(ERR_INVALID, "size goes with page");
	if (!rc)
		rc = name_path_from_url(raw ? raw : "", raw ? strlen(raw) : 0, &np);
	if (!rc)
		rc = tree_resolve(worker_db(call->worker), call->wp_id, &np, &node);
	if (!rc && node.is_folder)
		rc = err_set(ERR_INVALID, "a folder has no preview");
	if (!rc)
		rc = tree_version_get(worker_db(call->worker), call->wp_id, node.id, version, &v);
	if (rc == ERR_NOTFOUND && version)
		rc = err_set(ERR_NOTFOUND, "no version %ld of this document", version);
	if (!rc && !preview_pool())
		rc = err_set(ERR_BUSY, "previews are not running");
	if (rc)
		goto out;
	kind = preview_kind_of(v.mime, node.name, &loader);
	if (!page) {
		answer_state(call, &v, node.name, kind, loader);
		goto out;
	}
	if (kind == PREVIEW_NONE) {
		rc = err_set(ERR_UNSUPPORTED,
			     "there is no preview for this type of document; download it");
		goto out;
	}
	j = calloc(1, sizeof *j);
	if (!j || !(j->name = strdup(node.name ? node.name : ""))) {
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(j->hash, v.blob, sizeof j->hash);
	j->kind = kind;
	j->loader = loader;
	j->page = (int)page;
	j->width = (unsigned)size;
	j->immutable = version != 0;
	{
		const char *inm = http_req_header(req, "If-None-Match");
		char etag[DIGEST_SHA256_HEX_LEN + 40];

		snprintf(etag, sizeof etag, "\"%s-p%d-w%u\"", j->hash, j->page, j->width);
		if (inm && strstr(inm, etag)) {
			image_headers(req, j);
			http_resp_send(req, 304, NULL, 0);
			goto out;
		}
	}
	rc = jobs_submit_req_on(preview_pool(), worker_jobs(call->worker), req, pagejob_run,
				pagejob_done, j);
	if (rc == ERR_LIMIT) {
		http_resp_header(req, "Retry-After", "5");
		rc = err_set(ERR_BUSY, "too many previews are being made; try again shortly");
	}
	if (!rc)
		j = NULL;
out:
	if (rc)
		reply_err(req, rc);
	if (j)
		pagejob_free(j);
	name_path_free(&np);
	tree_node_clear(&node);
	tree_version_clear(&v);
}
