/*
 * h_diff — what changed between two versions of a text document:
 * GET /api/v1/wps/{wp}/diff/{path}?from=N&to=M[&mode=words|lines][&full=1].
 *
 * Both versions are extracted by the sandboxed helper (search/exworker.h,
 * with the server's extraction limits: CPU, wall time, memory, text cap)
 * and compared by search/textdiff.h (Myers with a cap on the edit
 * distance; docs/deliverables.md states the bounds). All of it runs on
 * a pool thread (the disk pool's: it mostly waits for the helper); the
 * event loop only answers. Word by word for prose,
 * line by line for CSV and Markdown. Long unchanged runs are cut to
 * their ends unless `full=1`.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/acl.h"
#include "api/app.h"
#include "api/config.h"
#include "api/handlers.h"
#include "api/router.h"
#include "cas.h"
#include "exworker.h"
#include "extract.h"
#include "http/http.h"
#include "http/jobs.h"
#include "http/reply.h"
#include "indexer.h"
#include "name.h"
#include "smallblob.h"
#include "textdiff.h"
#include "tree.h"

#define DIFF_CONTEXT 200 /* bytes kept at each end of a long unchanged run */

struct side {
	int64_t version;
	char blob[DIGEST_SHA256_HEX_LEN + 1];
	char *mime;
	char path[4096];
	bool path_temp; /* a copy of small content (storage/smallblob.h) */
	struct extract_result res;
};

struct diffjob {
	struct call *call;
	char *name; /* the document's name, for its extension */
	struct side s[2];
	struct extract_limits lim;
	char *const *helper;
	struct cas *cas; /* blobs in an object store are copied for the helper */
	int mode;        /* -1: by type */
	bool full;
	/* results */
	enum err rc;
	char detail[256];
	json_t *out;
};

static void diffjob_free(struct diffjob *j)
{
	for (int i = 0; i < 2; i++) {
		free(j->s[i].mime);
		if (j->s[i].path_temp)
			unlink(j->s[i].path);
		extract_result_free(&j->s[i].res);
	}
	free(j->name);
	json_decref(j->out);
	free(j);
}

static bool text_type(const char *t)
{
	static const char *const ok[] = {"docx", "odt", "pdf", "html", "md", "txt", "csv"};

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
		if (!strcmp(t, ok[i]))
			return true;
	return false;
}

/* The length of `len` bytes at most from `s` ending on a UTF-8 boundary
 * (from the start: `tail` false; from the end: true). */
static size_t utf8_cut(const char *s, size_t len, size_t want, bool tail)
{
	if (want >= len)
		return len;
	if (!tail) {
		while (want > 0 && ((unsigned char)s[want] & 0xc0) == 0x80)
			want--;
	} else {
		while (want > 0 && ((unsigned char)s[len - want] & 0xc0) == 0x80)
			want--;
	}
	return want;
}

static json_t *op_json(const char *kind, const char *s, size_t len, bool full)
{
	size_t head, tail;
	json_t *o;

	if (full || strcmp(kind, "equal") || len <= 2 * DIFF_CONTEXT + 64)
		return json_pack("{s:s, s:s%}", "op", kind, "text", s, len);
	head = utf8_cut(s, len, DIFF_CONTEXT, false);
	tail = utf8_cut(s, len, DIFF_CONTEXT, true);
	o = json_pack("{s:s, s:s%, s:s%, s:I}", "op", kind, "text", s, head, "tail", s + len - tail,
		      tail, "elided", (json_int_t)(len - head - tail));
	return o;
}

static void diffjob_run(void *arg)
{
	struct diffjob *j = arg;
	struct exworker *w = NULL;
	struct tdiff_result d = {0};
	enum tdiff_mode mode;
	json_t *ops;
	enum err rc;

	rc = exworker_new(j->helper, &j->lim, &w);
	for (int i = 0; i < 2 && !rc; i++) {
		char path[sizeof j->s[i].path];
		bool temp = false;

		/* Small content was copied out by the handler (it needs the
		 * database); a blob, local or in an object store, is fetched
		 * here, off the event loop. */
		if (j->s[i].path_temp)
			snprintf(path, sizeof path, "%s", j->s[i].path);
		else
			rc = cas_local_file(j->cas, j->s[i].blob, path, sizeof path, &temp);
		if (!rc)
			rc = exworker_extract(w, path, j->name, j->s[i].mime, &j->s[i].res);
		if (temp)
			unlink(path);
	}
	exworker_free(w);
	if (rc)
		goto out;
	for (int i = 0; i < 2; i++) {
		const struct extract_result *r = &j->s[i].res;

		if (r->status == EXTRACT_FAILED) {
			rc = err_set(ERR_UNSUPPORTED, "the text of version %lld cannot be read: %s",
				     (long long)j->s[i].version, r->reason);
			goto out;
		}
		if (!text_type(r->type)) {
			rc = err_set(
				ERR_UNSUPPORTED,
				"version %lld is %s; differences are shown for DOCX, ODT, PDF, "
				"HTML, Markdown, TXT and CSV",
				(long long)j->s[i].version, r->type);
			goto out;
		}
	}
	mode = j->mode >= 0 ? (enum tdiff_mode)j->mode
	       : (!strcmp(j->s[1].res.type, "csv") || !strcmp(j->s[1].res.type, "md"))
		       ? TDIFF_LINES
		       : TDIFF_WORDS;
	/* page breaks (\f in extracted text) read as line breaks here */
	for (int i = 0; i < 2; i++)
		for (char *c = j->s[i].res.text; c && *c; c++)
			if (*c == '\f')
				*c = '\n';
	rc = tdiff(j->s[0].res.text, j->s[0].res.text_len, j->s[1].res.text, j->s[1].res.text_len,
		   mode, 0, &d);
	if (rc)
		goto out;
	ops = json_array();
	for (size_t i = 0; i < d.n; i++) {
		const struct tdiff_op *o = &d.ops[i];
		const char *src = o->kind == TDIFF_INSERT ? j->s[1].res.text : j->s[0].res.text;
		const char *kind = o->kind == TDIFF_EQUAL    ? "equal"
				   : o->kind == TDIFF_DELETE ? "delete"
							     : "insert";

		json_array_append_new(ops, op_json(kind, src + o->off, o->len, j->full));
	}
	j->out = json_pack(
		"{s:{s:I, s:s, s:s, s:b}, s:{s:I, s:s, s:s, s:b}, s:s, s:s, s:I, s:b,"
		" s:{s:I, s:I}, s:o}",
		"from", "version", (json_int_t)j->s[0].version, "sha256", j->s[0].blob, "type",
		j->s[0].res.type, "truncated", j->s[0].res.status == EXTRACT_TRUNCATED, "to",
		"version", (json_int_t)j->s[1].version, "sha256", j->s[1].blob, "type",
		j->s[1].res.type, "truncated", j->s[1].res.status == EXTRACT_TRUNCATED, "mode",
		mode == TDIFF_LINES ? "lines" : "words", "algorithm", "myers", "max_d",
		(json_int_t)TDIFF_DEFAULT_MAX_D, "approximate", d.approximate, "stats", "deleted",
		(json_int_t)d.deleted, "inserted", (json_int_t)d.inserted, "changes", ops);
	if (!j->out)
		rc = err_set(ERR_NOMEM, "out of memory");
out:
	tdiff_free(&d);
	j->rc = rc;
	if (rc)
		snprintf(j->detail, sizeof j->detail, "%s", err_detail());
}

static void diffjob_done(struct http_req *req, bool alive, void *arg)
{
	struct diffjob *j = arg;

	if (alive) {
		if (j->rc) {
			reply_err(req, err_set(j->rc, "%s", j->detail));
		} else {
			reply_json(req, 200, j->out);
			j->out = NULL;
		}
	}
	diffjob_free(j);
}

static bool parse_version(const char *s, int64_t *v)
{
	char *end;
	long long x;

	if (!s || !*s || *s < '0' || *s > '9')
		return false;
	x = strtoll(s, &end, 10);
	if (*end || x < 1)
		return false;
	*v = x;
	return true;
}

void h_diff(struct call *call)
{
	struct db *db = worker_db(call->worker);
	const struct config *cfg = worker_config(call->worker);
	const char *mode = http_req_query_param(call->req, "mode");
	const char *full = http_req_query_param(call->req, "full");
	const char *raw = call_param(call, "path");
	struct indexer_opts io;
	struct name_path np = {0};
	struct tree_node node = {0};
	struct diffjob *j = calloc(1, sizeof *j);
	enum err rc = ERR_OK;

	if (!j) {
		reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
		return;
	}
	j->call = call;
	j->mode = -1;
	if (!parse_version(http_req_query_param(call->req, "from"), &j->s[0].version) ||
	    !parse_version(http_req_query_param(call->req, "to"), &j->s[1].version))
		rc = err_set(ERR_INVALID, "parameters 'from' and 'to' must be version numbers");
	else if (mode && strcmp(mode, "words") && strcmp(mode, "lines"))
		rc = err_set(ERR_INVALID, "parameter 'mode' must be words or lines");
	else if (full && strcmp(full, "0") && strcmp(full, "1"))
		rc = err_set(ERR_INVALID, "parameter 'full' must be 0 or 1");
	if (rc)
		goto out;
	if (mode)
		j->mode = !strcmp(mode, "lines") ? TDIFF_LINES : TDIFF_WORDS;
	j->full = full && !strcmp(full, "1");
	rc = name_path_from_url(raw ? raw : "", raw ? strlen(raw) : 0, &np);
	if (!rc)
		rc = tree_resolve(db, call->wp_id, &np, &node);
	if (!rc && node.is_folder)
		rc = err_set(ERR_INVALID, "a folder has no versions");
	for (int i = 0; i < 2 && !rc; i++) {
		struct tree_version v = {0};

		rc = tree_version_get(db, call->wp_id, node.id, j->s[i].version, &v);
		if (rc == ERR_NOTFOUND)
			rc = err_set(ERR_NOTFOUND, "no version %lld of this document",
				     (long long)j->s[i].version);
		if (!rc) {
			memcpy(j->s[i].blob, v.blob, sizeof v.blob);
			j->s[i].mime = v.mime ? strdup(v.mime) : NULL;
			rc = smallblob_export(db, cfg->data_dir, v.blob, j->s[i].path,
					      sizeof j->s[i].path, &j->s[i].path_temp);
		}
		tree_version_clear(&v);
	}
	if (rc)
		goto out;
	j->name = strdup(node.name ? node.name : "");
	if (!j->name) {
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	app_indexer_opts(cfg, &io);
	j->lim = cfg->extract;
	j->helper = io.helper_argv;
	j->cas = app_cas(worker_app(call->worker));
	/* On the disk pool: the thread mostly waits for the helper, and the
	 * CPU pool's few threads hash passwords for sign-ins. */
	rc = jobs_submit_req_on(worker_io(call->worker), worker_jobs(call->worker), call->req,
				diffjob_run, diffjob_done, j);
	if (rc == ERR_LIMIT) {
		http_resp_header(call->req, "Retry-After", "1");
		rc = err_set(ERR_BUSY, "the server is busy; try again shortly");
	}
	if (!rc)
		j = NULL;
out:
	name_path_free(&np);
	tree_node_clear(&node);
	if (rc)
		reply_err(call->req, rc);
	if (j)
		diffjob_free(j);
}
