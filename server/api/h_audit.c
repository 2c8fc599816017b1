/*
 * h_audit — GET /api/v1/audit for coordinators: filtered and paged as
 * JSON, or the whole filtered log as CSV, streamed in batches so an
 * export of millions of records uses constant memory.
 */
#include <event2/buffer.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "api/apijson.h"
#include "audit.h"
#include "db.h"
#include "api/handlers.h"
#include "http/http.h"
#include "http/jsonin.h"
#include "http/reply.h"
#include "api/router.h"
#include "api/app.h"

#define AUDIT_DEFAULT_LIMIT 100
#define AUDIT_MAX_LIMIT 1000
#define CSV_BATCH 500

struct audit_params {
	struct audit_filter f;
	int64_t limit, offset;
	bool csv;
};

static enum err parse_int(const char *name, const char *v, int64_t max, int64_t *out)
{
	int64_t n = 0;

	if (!*v || strlen(v) > 12 || strspn(v, "0123456789") != strlen(v))
		return err_set(ERR_INVALID, "parameter '%s' must be a number", name);
	for (; *v; v++)
		n = n * 10 + (*v - '0');
	if (n > max)
		return err_set(ERR_INVALID, "parameter '%s' must be at most %lld", name,
			       (long long)max);
	*out = n;
	return ERR_OK;
}

/* Walk the query string; any parameter not known here is refused. */
static enum err parse_params(struct call *call, struct audit_params *p)
{
	struct db *db = worker_db(call->worker);
	const char *q = http_req_query(call->req);
	enum err rc = ERR_OK;

	memset(p, 0, sizeof *p);
	p->limit = AUDIT_DEFAULT_LIMIT;
	while (*q && !rc) {
		const char *amp = strchr(q, '&'), *eq;
		size_t len = amp ? (size_t)(amp - q) : strlen(q);
		char *name, *value;

		eq = memchr(q, '=', len);
		name = http_pct_decode(call->req, q, eq ? (size_t)(eq - q) : len, true);
		value = eq ? http_pct_decode(call->req, eq + 1, len - (size_t)(eq + 1 - q), true)
			   : http_req_strndup(call->req, "", 0);
		q += len + (amp ? 1 : 0);
		if (!name || !value)
			return err_set(ERR_INVALID, "malformed query string");
		if (!*name)
			continue;
		if (!strcmp(name, "user")) {
			struct acct_user u;

			rc = acct_user_by_email(db, value, &u);
			if (rc == ERR_NOTFOUND)
				rc = err_set(ERR_INVALID,
					     "parameter 'user': no user with that email");
			p->f.user_id = u.id;
			acct_user_clear(&u);
		} else if (!strcmp(name, "wp")) {
			int level;

			rc = acct_wp_resolve(db, value, 0, &p->f.wp_id, &level);
			if (rc == ERR_NOTFOUND)
				rc = err_set(ERR_INVALID, "parameter 'wp': no such work package");
		} else if (!strcmp(name, "action")) {
			if (!*value || strlen(value) > 40 ||
			    strspn(value, "abcdefghijklmnopqrstuvwxyz_") != strlen(value))
				rc = err_set(ERR_INVALID, "parameter 'action' must be a word like "
							  "login or grant");
			p->f.action = value;
		} else if (!strcmp(name, "since") || !strcmp(name, "until")) {
			int64_t *t = name[0] == 's' ? &p->f.since : &p->f.until;

			if (!apijson_parse_time(value, t))
				rc = err_set(ERR_INVALID,
					     "parameter '%s' must be a date "
					     "(2024-05-01 or 2024-05-01T12:00:00Z) or "
					     "Unix seconds",
					     name);
		} else if (!strcmp(name, "limit")) {
			rc = parse_int("limit", value, AUDIT_MAX_LIMIT, &p->limit);
			if (!rc && p->limit == 0)
				rc = err_set(ERR_INVALID, "parameter 'limit' must be at least 1");
		} else if (!strcmp(name, "offset")) {
			rc = parse_int("offset", value, 1000000000, &p->offset);
		} else if (!strcmp(name, "format")) {
			if (strcmp(value, "csv") && strcmp(value, "json"))
				rc = err_set(ERR_INVALID, "parameter 'format' must be json or csv");
			p->csv = !strcmp(value, "csv");
		} else {
			rc = err_set(ERR_INVALID, "unknown parameter '%.40s'", name);
		}
	}
	return rc;
}

static json_t *row_json(const struct audit_row *r)
{
	return json_pack("{s:I, s:o, s:s, s:o, s:s, s:s, s:o, s:s, s:s}", "id", (json_int_t)r->id,
			 "at", apijson_time(r->at), "user", r->actor, "user_id",
			 r->user_id ? json_integer(r->user_id) : json_null(), "address", r->peer,
			 "action", r->action, "wp",
			 r->wp_code ? json_string(r->wp_code) : json_null(), "object", r->object,
			 "detail", r->detail);
}

/* --- CSV ------------------------------------------------------------------------------ */

struct csv_export {
	struct worker *worker;
	struct audit_filter f;
	struct evbuffer *pending;
	bool exhausted;
};

/* One CSV field: always quoted, quotes doubled, and a leading = + - @
 * (or tab/CR) defused with an apostrophe so a spreadsheet opening the
 * export does not evaluate what a client typed into a name. */
static void csv_field(struct evbuffer *out, const char *s, bool last)
{
	evbuffer_add(out, "\"", 1);
	if (*s && strchr("=+-@\t\r", *s))
		evbuffer_add(out, "'", 1);
	for (const char *p = s; *p; p++) {
		const char *q = strchr(p, '"');

		if (!q) {
			evbuffer_add(out, p, strlen(p));
			break;
		}
		evbuffer_add(out, p, (size_t)(q - p));
		evbuffer_add(out, "\"\"", 2);
		p = q;
	}
	evbuffer_add(out, last ? "\"\r\n" : "\",", last ? 3 : 2);
}

static enum err csv_fill(struct http_req *req, struct evbuffer *out, size_t max, bool *done,
			 void *arg)
{
	struct csv_export *x = arg;
	struct audit_row *rows;
	size_t n;
	char num[32], when[32];
	enum err rc;

	(void)req;
	while (!x->exhausted && evbuffer_get_length(x->pending) < max) {
		rc = audit_query(worker_db(x->worker), &x->f, true, CSV_BATCH, 0, &rows, &n, NULL);
		if (rc)
			return rc;
		for (size_t i = 0; i < n; i++) {
			snprintf(num, sizeof num, "%lld", (long long)rows[i].id);
			csv_field(x->pending, num, false);
			csv_field(x->pending, apijson_time_text(rows[i].at, when), false);
			csv_field(x->pending, rows[i].actor, false);
			csv_field(x->pending, rows[i].peer, false);
			csv_field(x->pending, rows[i].action, false);
			csv_field(x->pending, rows[i].wp_code ? rows[i].wp_code : "", false);
			csv_field(x->pending, rows[i].object, false);
			csv_field(x->pending, rows[i].detail, true);
		}
		if (n)
			x->f.after_id = rows[n - 1].id;
		x->exhausted = n < CSV_BATCH;
		audit_rows_free(rows, n);
	}
	evbuffer_remove_buffer(x->pending, out, max);
	*done = x->exhausted && evbuffer_get_length(x->pending) == 0;
	return ERR_OK;
}

static void csv_release(void *arg)
{
	struct csv_export *x = arg;

	evbuffer_free(x->pending);
	free(x);
}

static const struct http_body_source csv_source = {
	.fill = csv_fill,
	.release = csv_release,
};

static void send_csv(struct call *call, const struct audit_params *p)
{
	struct csv_export *x = calloc(1, sizeof *x);

	if (!x || !(x->pending = evbuffer_new())) {
		free(x);
		reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
		return;
	}
	x->worker = call->worker;
	x->f = p->f;
	/* The action filter points into the request arena; the export
	 * lives no longer than the request, so it may keep pointing. */
	evbuffer_add_printf(x->pending, "id,time,user,address,action,wp,object,detail\r\n");
	reply_api_headers(call->req);
	http_resp_header(call->req, "Content-Type", "text/csv; charset=utf-8");
	http_resp_header(call->req, "Content-Disposition",
			 "attachment; filename=\"consort-audit.csv\"");
	http_resp_stream(call->req, 200, -1, &csv_source, x);
}

void h_audit(struct call *call)
{
	struct audit_params p;
	struct audit_row *rows;
	size_t n;
	int64_t total;
	json_t *arr;
	enum err rc = parse_params(call, &p);

	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	if (p.csv) {
		send_csv(call, &p);
		return;
	}
	rc = audit_query(worker_db(call->worker), &p.f, false, (size_t)p.limit, (size_t)p.offset,
			 &rows, &n, &total);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, row_json(&rows[i]));
	audit_rows_free(rows, n);
	reply_json(call->req, 200,
		   json_pack("{s:I, s:I, s:I, s:o}", "total", (json_int_t)total, "limit",
			     (json_int_t)p.limit, "offset", (json_int_t)p.offset, "entries", arr));
}
