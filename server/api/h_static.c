/*
 * h_static — serves the browser app embedded from web/ (web_assets.h).
 *
 *   GET /                          index.html, never cached, with the
 *                                  asset prefix filled in
 *   GET /assets/{bundle}/{file*}   an asset, cached for a year: the
 *                                  bundle hash changes with any asset
 *
 * index.html refers to assets as "%ASSETS%/js/app.js"; JavaScript modules
 * import each other relatively, so they all resolve under the same
 * prefix without rewriting. Responses carry a strict Content-Security-
 * Policy: no inline script or style, nothing from other origins.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/handlers.h"
#include "http/http.h"
#include "http/reply.h"
#include "api/router.h"
#include "web_assets.h"

#define APP_CSP                                                                                    \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "          \
	"font-src 'self'; connect-src 'self'; manifest-src 'self'; base-uri 'none'; "              \
	"form-action 'self'; frame-ancestors 'none'"

static const struct web_asset *find_asset(const char *path)
{
	for (size_t i = 0; i < web_asset_count; i++)
		if (!strcmp(web_assets[i].path, path))
			return &web_assets[i];
	return NULL;
}

/* index.html with %ASSETS% replaced, built once. */
static char *index_page;
static size_t index_len;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static void build_index(void)
{
	static const char mark[] = "%ASSETS%";
	const struct web_asset *a = find_asset("index.html");
	char prefix[64];
	size_t plen, cap, n = 0;
	const char *p, *end, *hit;

	if (!a)
		return;
	plen = (size_t)snprintf(prefix, sizeof prefix, "/assets/%s", web_bundle_hash);
	cap = a->len + 16 * plen + 1;
	index_page = malloc(cap);
	if (!index_page)
		return;
	p = (const char *)a->data;
	end = p + a->len;
	while (p < end && (hit = memmem(p, (size_t)(end - p), mark, sizeof mark - 1)) &&
	       n + (size_t)(hit - p) + plen < cap) {
		memcpy(index_page + n, p, (size_t)(hit - p));
		n += (size_t)(hit - p);
		memcpy(index_page + n, prefix, plen);
		n += plen;
		p = hit + sizeof mark - 1;
	}
	if (n + (size_t)(end - p) <= cap) {
		memcpy(index_page + n, p, (size_t)(end - p));
		n += (size_t)(end - p);
	}
	index_len = n;
}

static void security_headers(struct http_req *req)
{
	http_resp_header(req, "Content-Security-Policy", APP_CSP);
	http_resp_header(req, "X-Content-Type-Options", "nosniff");
	http_resp_header(req, "Referrer-Policy", "same-origin");
	http_resp_header(req, "Cross-Origin-Opener-Policy", "same-origin");
	http_resp_header(req, "Permissions-Policy", "camera=(), microphone=(), geolocation=()");
}

void h_app(struct call *call)
{
	pthread_once(&index_once, build_index);
	if (!index_page) {
		reply_err(call->req,
			  err_set(ERR_INTERNAL, "the browser app is missing from this build"));
		return;
	}
	security_headers(call->req);
	http_resp_header(call->req, "Content-Type", "text/html; charset=utf-8");
	http_resp_header(call->req, "Cache-Control", "no-cache");
	http_resp_send(call->req, 200, index_page, index_len);
}

/* True when Accept-Encoding lists gzip without refusing it (q=0). */
static bool accepts_gzip(struct http_req *req)
{
	const char *ae = http_req_header(req, "Accept-Encoding");
	const char *g = ae ? strcasestr(ae, "gzip") : NULL;
	const char *q;

	if (!g)
		return false;
	q = g + 4;
	while (*q == ' ')
		q++;
	if (*q != ';')
		return true;
	q++;
	while (*q == ' ')
		q++;
	return !(q[0] == 'q' && q[1] == '=' && strspn(q + 2, "0.") == strcspn(q + 2, ", ;") &&
		 strcspn(q + 2, ", ;") > 0);
}

void h_asset(struct call *call)
{
	const char *bundle = call_param(call, "bundle");
	const char *file = call_param(call, "file");
	const char *inm = http_req_header(call->req, "If-None-Match");
	const struct web_asset *a;
	char etag[80];

	if (!bundle || strcmp(bundle, web_bundle_hash) != 0 || !file || !(a = find_asset(file)) ||
	    !strcmp(file, "index.html")) {
		reply_err(call->req, err_set(ERR_NOTFOUND, "no such asset"));
		return;
	}
	snprintf(etag, sizeof etag, "\"%.32s\"", a->sha256);
	security_headers(call->req);
	http_resp_header(call->req, "Cache-Control", "public, max-age=31536000, immutable");
	http_resp_header(call->req, "ETag", etag);
	http_resp_header(call->req, "Vary", "Accept-Encoding");
	if (inm && strstr(inm, etag)) {
		http_resp_send(call->req, 304, NULL, 0);
		return;
	}
	http_resp_header(call->req, "Content-Type", a->type);
	if (a->gz && accepts_gzip(call->req)) {
		http_resp_header(call->req, "Content-Encoding", "gzip");
		http_resp_send(call->req, 200, a->gz, a->gz_len);
	} else {
		http_resp_send(call->req, 200, a->data, a->len);
	}
}
