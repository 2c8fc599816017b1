/*
 * h_tus — resumable uploads with the tus 1.0 protocol at /api/v1/uploads
 * (https://tus.io/protocols/resumable-upload): core, creation,
 * creation-with-upload, termination, expiration and checksum (sha1,
 * sha256), X-HTTP-Method-Override for clients behind proxies that only
 * pass GET and POST.
 *
 * An upload is a row of `uploads` (storage/uploads.h) and a partial file
 * DATA/uploads/<id> written through a resumable cas writer. The offset a
 * client is told is always durable: bytes are fdatasync'ed before the
 * row's offset moves. A PATCH interrupted by the network keeps what
 * arrived (the client resumes from there); one interrupted by a crash
 * keeps what was synced, at most 32 MiB behind. A PATCH with a checksum
 * is all or nothing: a mismatch (460) or an interruption cuts the file
 * back to where the request started.
 *
 * A creation request whose body is the whole upload, at most
 * SMALLBLOB_MAX bytes, is an upload like a PUT: its bytes stay in memory
 * (a temp cas writer) and its row is inserted by the commit that makes
 * the version (docput_req.new_upload), so it costs no partial file and
 * no transaction of its own. Nothing of it exists before the commit;
 * cut off, it leaves nothing (its client was never told a Location).
 *
 * Writers stay open between the PATCH requests of a chunked upload (a
 * small process-wide cache), so a chunk does not re-hash what came
 * before; after a restart, or for a writer that was evicted, resuming
 * re-hashes the partial file on a job thread (a hash state cannot be
 * saved), away from the event loop.
 *
 * The last byte commits the upload exactly like a PUT (docput.h): same
 * checks, same audit record, and the upload is marked finished in the
 * same transaction. Write access is decided by the policy before the
 * creation runs (ACCESS_WP_WRITE_BY_METADATA) and before every later
 * request on the upload (ACCESS_UPLOAD_OWNER: only its creator finds it,
 * and only with write on its WP), and once more at the commit through
 * acl_authorize_wp, since access may be taken away during an upload.
 *
 * A drop link (docs/links.md) takes uploads the same way under
 * /api/v1/s/{secret}/uploads: the link is opened by the policy
 * (acl_link_open, with its password key) on every request, its upload
 * found only through it (uploads.link_id) for HEAD, PATCH and DELETE,
 * the document named
 * "<uploader> <UTC time> <filename>" in the link's folder, its size and
 * file count limits checked at the creation and the count once more in
 * the commit's transaction (docput, link_use).
 */
#include <event2/buffer.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "api/acl.h"
#include "api/auth.h"
#include "cas.h"
#include "api/config.h"
#include "digest.h"
#include "api/docput.h"
#include "api/handlers.h"
#include "http/http.h"
#include "http/jobs.h"
#include "http/log.h"
#include "name.h"
#include "api/metrics.h"
#include "http/reply.h"
#include "api/router.h"
#include "api/tusmeta.h"
#include "api/app.h"
#include "tree.h"
#include "links.h"
#include "smallblob.h"
#include "uploads.h"

#define TUS_VERSION "1.0.0"
#define TUS_EXTENSIONS "creation,creation-with-upload,termination,expiration,checksum"
#define TUS_CHECKSUMS "sha1,sha256"
#define TUS_CONTENT_TYPE "application/offset+octet-stream"
/* Without a checksum, the offset is made durable this often during a
 * long PATCH, so a crash loses at most this much of a big upload (and
 * at most upload-sync-interval's worth of a slow one). */
#define TUS_SYNC_EVERY (32 * 1024 * 1024)
#define TUS_STATUS_CHECKSUM_MISMATCH 460

/* ---- open writers between requests ------------------------------------------- */

/* Uploads a request has claimed, and idle ones whose writer is kept open
 * for their next chunk. A claim is never refused for want of room: it is
 * what keeps a second request out of an upload until the first one's
 * commit has ended (the file lock cannot: the commit moves the file).
 * Idle writers, a file descriptor and a hash state each, are bounded. */
#define OPEN_IDLE_MAX 32
#define OPEN_IDLE_SECONDS 600

struct open_slot {
	char id[UPLOADS_ID_LEN + 1]; /* "" when the slot is free */
	struct cas_writer *w;        /* NULL while a request uses it */
	bool busy;
	int64_t used;
};

static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static struct open_slot *open_slots;
static size_t open_cap;

/* Close writers idle too long and, when there are more idle ones than
 * `keep`, the least recently used. Called with open_lock held; returns
 * the writers to close outside it (at most OPEN_IDLE_MAX + 1: more are
 * never idle). */
static size_t open_reap(size_t keep, struct cas_writer **out)
{
	int64_t now = db_now();
	size_t n = 0, idle = 0;
	struct open_slot *oldest = NULL;

	for (size_t i = 0; i < open_cap; i++) {
		struct open_slot *s = &open_slots[i];

		if (!s->id[0] || s->busy)
			continue;
		if (now - s->used > OPEN_IDLE_SECONDS) {
			out[n++] = s->w;
			memset(s, 0, sizeof *s);
			continue;
		}
		idle++;
		if (!oldest || s->used < oldest->used)
			oldest = s;
	}
	if (idle > keep) {
		out[n++] = oldest->w;
		memset(oldest, 0, sizeof *oldest);
	}
	return n;
}

static void close_writers(struct cas_writer **ws, size_t n)
{
	for (size_t i = 0; i < n; i++)
		cas_writer_close(ws[i]); /* synced when they were put back */
}

/* A free slot: one left by an idle writer closed for its age, or for
 * room when as many are idle as are kept (a writer closed early costs
 * its upload a re-hash of the partial file), or one the grown table
 * adds. NULL when memory ran out. Called with open_lock held. */
static struct open_slot *open_free_slot(struct cas_writer **reaped, size_t *nreaped)
{
	struct open_slot *grown;
	size_t old = open_cap, cap = old ? 2 * old : OPEN_IDLE_MAX;

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < open_cap; i++)
			if (!open_slots[i].id[0])
				return &open_slots[i];
		if (pass == 0)
			*nreaped = open_reap(OPEN_IDLE_MAX - 1, reaped);
	}
	grown = realloc(open_slots, cap * sizeof *grown);
	if (!grown)
		return NULL;
	memset(grown + old, 0, (cap - old) * sizeof *grown);
	open_slots = grown;
	open_cap = cap;
	return &open_slots[old];
}

/* Claim upload `id` for one request. ERR_LOCKED when another request
 * has it. *w is its cached writer, or NULL (the caller resumes one). */
static enum err open_take(const char *id, struct cas_writer **w)
{
	struct cas_writer *reaped[OPEN_IDLE_MAX + 1];
	size_t nreaped = 0;
	struct open_slot *s = NULL;
	enum err rc = ERR_OK;

	*w = NULL;
	pthread_mutex_lock(&open_lock);
	for (size_t i = 0; i < open_cap && !s; i++)
		if (!strcmp(open_slots[i].id, id))
			s = &open_slots[i];
	if (s && s->busy) {
		rc = err_set(ERR_LOCKED, "another request is writing this upload; "
					 "try again when it has ended");
	} else if (s) {
		*w = s->w;
		s->w = NULL;
		s->busy = true;
	} else if ((s = open_free_slot(reaped, &nreaped))) {
		memcpy(s->id, id, UPLOADS_ID_LEN + 1);
		s->busy = true;
	} else {
		rc = err_set(ERR_NOMEM, "out of memory");
	}
	pthread_mutex_unlock(&open_lock);
	close_writers(reaped, nreaped);
	return rc;
}

/* End a request's claim: keep `w` open for the next chunk, or (w NULL)
 * forget the upload. */
static void open_give(const char *id, struct cas_writer *w)
{
	struct cas_writer *reaped[OPEN_IDLE_MAX + 1];
	size_t nreaped = 0;
	bool kept = false;

	pthread_mutex_lock(&open_lock);
	for (size_t i = 0; i < open_cap; i++) {
		struct open_slot *s = &open_slots[i];

		if (strcmp(s->id, id))
			continue;
		if (w) {
			s->w = w;
			s->busy = false;
			s->used = db_now();
			kept = true;
		} else {
			memset(s, 0, sizeof *s);
		}
		break;
	}
	nreaped = open_reap(OPEN_IDLE_MAX, reaped);
	pthread_mutex_unlock(&open_lock);
	close_writers(reaped, nreaped);
	/* Its claim is gone only if tus_close_all came first (stopping). */
	if (w && !kept)
		cas_writer_close(w);
}

/* Forget an idle upload (termination): its cached writer, if any, is
 * handed back for the caller to abort. ERR_LOCKED while in use. */
static enum err open_forget(const char *id, struct cas_writer **w)
{
	enum err rc = ERR_OK;

	*w = NULL;
	pthread_mutex_lock(&open_lock);
	for (size_t i = 0; i < open_cap; i++) {
		struct open_slot *s = &open_slots[i];

		if (strcmp(s->id, id))
			continue;
		if (s->busy)
			rc = err_set(ERR_LOCKED, "a request is writing this upload right now");
		else {
			*w = s->w;
			memset(s, 0, sizeof *s);
		}
		break;
	}
	pthread_mutex_unlock(&open_lock);
	return rc;
}

void tus_close_all(void)
{
	pthread_mutex_lock(&open_lock);
	for (size_t i = 0; i < open_cap; i++)
		if (open_slots[i].w)
			cas_writer_close(open_slots[i].w);
	free(open_slots);
	open_slots = NULL;
	open_cap = 0;
	pthread_mutex_unlock(&open_lock);
}

/* ---- protocol helpers ---------------------------------------------------------- */

static void tus_headers(struct call *call)
{
	struct http_req *req = call->req;
	const char *origin = http_req_header(req, "Origin");
	const char *host = http_req_header(req, "Host");

	http_resp_header(req, "Tus-Resumable", TUS_VERSION);
	http_resp_header(req, "Cache-Control", "no-store");
	/* The app is same-origin; a browser only needs CORS answers for our
	 * own origin (some send Origin anyway). Foreign origins get none. */
	if (origin && host && !strncmp(origin, "https://", 8) && !strcmp(origin + 8, host)) {
		http_resp_header(req, "Access-Control-Allow-Origin", origin);
		http_resp_header(req, "Access-Control-Allow-Credentials", "true");
		http_resp_header(req, "Vary", "Origin");
	}
	http_resp_header(req, "Access-Control-Expose-Headers",
			 "Location, Upload-Offset, Upload-Length, Upload-Metadata, Upload-Expires, "
			 "Tus-Resumable, Tus-Version, Tus-Extension, Tus-Max-Size, "
			 "Tus-Checksum-Algorithm, ETag, X-Consort-Version");
}

/* Every tus error carries the tus headers: a client reads Tus-Resumable
 * (and the offset headers set before) on failures too. */
static void tus_err(struct call *call, enum err rc)
{
	tus_headers(call);
	reply_err(call->req, rc);
}

static bool tus_version_ok(struct call *call)
{
	const char *v = http_req_header(call->req, "Tus-Resumable");

	if (v && !strcmp(v, TUS_VERSION))
		return true;
	http_resp_header(call->req, "Tus-Version", TUS_VERSION);
	tus_err(call, err_set(ERR_PRECONDITION, "Tus-Resumable: " TUS_VERSION
						" is required (the only version served)"));
	return false;
}

/* A header holding a non-negative decimal number; false when absent or
 * malformed. */
static bool header_u64(struct call *call, const char *name, uint64_t *out)
{
	return tusmeta_u64(http_req_header(call->req, name), out);
}

static bool content_type_ok(struct call *call)
{
	const char *ct = http_req_header(call->req, "Content-Type");

	if (ct && !strcasecmp(ct, TUS_CONTENT_TYPE))
		return true;
	tus_err(call, err_set(ERR_UNSUPPORTED,
			      "upload bytes must be sent as Content-Type: " TUS_CONTENT_TYPE));
	return false;
}

static void expires_header(struct call *call, int64_t t)
{
	char buf[64];
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	http_resp_header(call->req, "Upload-Expires", buf);
}

static bool upload_file(struct call *call, const char *id, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s/uploads/%s", app_data_dir(worker_app(call->worker)), id);

	return n > 0 && (size_t)n < cap;
}

/* The upload named by the route's {id}; the policy has found it to be
 * the caller's (ACCESS_UPLOAD_OWNER). Answers 404 when it went since,
 * or 410 when it expired. */
static bool load_upload(struct call *call, struct upload *u)
{
	const char *id = call_param(call, "id");
	enum err rc;

	rc = uploads_get(worker_db(call->worker), id ? id : "", u);
	if (rc) {
		upload_clear(u);
		tus_err(call, rc);
		return false;
	}
	if (u->expires_at <= db_now()) {
		char file[PATH_MAX];

		if (upload_file(call, u->id, file, sizeof file))
			unlink(file);
		uploads_delete(worker_db(call->worker), u->id);
		upload_clear(u);
		tus_err(call, err_set(ERR_GONE, "this upload expired and was removed"));
		return false;
	}
	return true;
}

/* Where an upload is resumed: under its drop link's secret when it came
 * through one. */
static void location_header(struct call *call, const char *secret, const char *id)
{
	if (secret)
		http_resp_headerf(call->req, "Location", "/api/v1/s/%s/uploads/%s", secret, id);
	else
		http_resp_headerf(call->req, "Location", "/api/v1/uploads/%s", id);
}

/* ---- OPTIONS ---------------------------------------------------------------------- */

void h_tus_options(struct call *call)
{
	const struct config *cfg = worker_config(call->worker);
	struct http_req *req = call->req;

	tus_headers(call);
	http_resp_header(req, "Tus-Version", TUS_VERSION);
	http_resp_header(req, "Tus-Extension", TUS_EXTENSIONS);
	http_resp_headerf(req, "Tus-Max-Size", "%" PRIu64, cfg->max_upload);
	http_resp_header(req, "Tus-Checksum-Algorithm", TUS_CHECKSUMS);
	http_resp_header(req, "Access-Control-Allow-Methods", "POST, HEAD, PATCH, DELETE, OPTIONS");
	http_resp_header(req, "Access-Control-Allow-Headers",
			 "Authorization, Content-Type, X-CSRF-Token, Tus-Resumable, Upload-Length, "
			 "Upload-Metadata, Upload-Offset, Upload-Checksum, Upload-Defer-Length, "
			 "Upload-Concat, X-HTTP-Method-Override, X-Requested-With");
	http_resp_header(req, "Access-Control-Max-Age", "86400");
	http_resp_send(req, 204, NULL, 0);
}

/* ---- PATCH: the bytes ---------------------------------------------------------------- */

struct patch {
	struct call *call;
	struct upload u;
	struct cas_writer *w;
	bool slotted;  /* holds an open_slots entry for u.id */
	bool creating; /* the body of a creation request: answer 201 */
	/* A creation request that carries the whole small upload: its bytes
	 * stay in memory (a temp cas writer, no file) and its row (pa->u,
	 * strings owned) is made by the commit. Nothing exists before. */
	bool whole;
	int64_t link_id;    /* through a drop link: its id ... */
	const char *secret; /* ... and the request's secret (request-scoped) */
	uint64_t start;     /* offset when the request began */
	uint64_t received;
	uint64_t unsynced;
	int64_t synced_at; /* when the offset was last recorded (db_now) */
	bool has_sum;
	enum digest_alg alg;
	unsigned char want[DIGEST_SHA256_LEN];
	char file[PATH_MAX];
	enum err job_rc; /* resume or sync on a pool thread */
	char job_detail[256];
	uint64_t job_size; /* bytes the partial file held */
	/* A flush on a disk thread: the body is paused meanwhile, and what
	 * comes next (`synced`) runs on the loop once the offset is
	 * recorded. */
	bool syncing;
	bool aborted; /* the connection went during the flush */
	bool failed;  /* answered with an error: the body's next event frees */
	void (*synced)(struct patch *pa, enum err rc);
};

/* Release everything; `keep` (a writer in a good state at a durable
 * offset) stays open for the next chunk. */
static void patch_free(struct patch *pa, bool keep)
{
	if (pa->slotted)
		open_give(pa->u.id, keep ? pa->w : NULL);
	else if (pa->w)
		cas_writer_close(pa->w);
	if (pa->slotted && !keep && pa->w)
		cas_writer_close(pa->w);
	upload_clear(&pa->u);
	free(pa);
	metrics_add(METRICS_UPLOADS_ACTIVE, -1);
}

static void offset_headers(struct patch *pa, uint64_t offset)
{
	http_resp_headerf(pa->call->req, "Upload-Offset", "%" PRIu64, offset);
	expires_header(pa->call, pa->u.expires_at);
}

/* Record what was made durable as the offset. */
static enum err patch_record(struct patch *pa)
{
	enum err rc =
		uploads_set_offset(worker_db(pa->call->worker), pa->u.id, cas_writer_size(pa->w));

	if (!rc) {
		pa->unsynced = 0;
		pa->synced_at = db_now();
	}
	return rc;
}

/* Make what arrived durable and record it as the offset, here (a
 * connection that went: nothing else waits for this one). */
static enum err patch_persist(struct patch *pa)
{
	enum err rc = cas_writer_sync(pa->w);

	return rc ? rc : patch_record(pa);
}

static void sync_run(void *arg)
{
	struct patch *pa = arg;

	pa->job_rc = cas_writer_sync(pa->w);
	if (pa->job_rc)
		snprintf(pa->job_detail, sizeof pa->job_detail, "%s", err_detail());
}

static void sync_done(struct http_req *req, bool alive, void *arg)
{
	struct patch *pa = arg;
	enum err rc = pa->job_rc;

	(void)req;
	pa->syncing = false;
	if (rc)
		err_set(rc, "%s", pa->job_detail);
	else
		rc = patch_record(pa);
	if (!alive || pa->aborted) {
		if (rc)
			log_event(LOG_WARN, "tus",
				  "upload %.8s…: keeping the received bytes failed: %s", pa->u.id,
				  err_detail());
		patch_free(pa, !rc);
		return;
	}
	pa->synced(pa, rc);
}

/* patch_persist with the flush on a disk thread: fdatasync of 32 MiB
 * can take a good part of a second on a slow disk, and this loop serves
 * other connections meanwhile. The body is paused until `then`. */
static void patch_persist_then(struct patch *pa, void (*then)(struct patch *pa, enum err rc))
{
	struct worker *wk = pa->call->worker;

	pa->syncing = true;
	pa->synced = then;
	http_req_pause_body(pa->call->req);
	if (jobs_submit_req_on(worker_io(wk), worker_jobs(wk), pa->call->req, sync_run, sync_done,
			       pa)) {
		/* No room in the pool: flush here. */
		sync_run(pa);
		sync_done(pa->call->req, http_req_alive(pa->call->req), pa);
	}
}

/* Drop this request's bytes: the offset stays where it was. */
static enum err patch_rewind(struct patch *pa)
{
	if (cas_writer_size(pa->w) == pa->start)
		return ERR_OK;
	return cas_writer_truncate(pa->w, pa->start);
}

/* After a flush in the middle of the body: go on reading it. */
static void body_synced(struct patch *pa, enum err rc)
{
	if (rc) {
		tus_err(pa->call, rc);
		/* The answer ends the body: its next event frees. */
		pa->failed = true;
	}
	http_req_resume_body(pa->call->req);
}

static enum err patch_data(struct http_req *req, const void *data, size_t len, void *arg)
{
	struct patch *pa = arg;
	enum err rc;

	if (pa->failed) {
		patch_free(pa, false);
		return ERR_IO; /* answered already */
	}
	if (pa->start + pa->received + len > pa->u.length) {
		tus_err(pa->call, err_set(ERR_TOOLARGE,
					  "the body goes past Upload-Length (%" PRIu64 " bytes)",
					  pa->u.length));
		/* No on_abort follows a refusal: clean up here. */
		if (!pa->whole && !pa->has_sum && !patch_rewind(pa))
			patch_persist(pa);
		patch_free(pa, false);
		return ERR_TOOLARGE;
	}
	rc = cas_writer_write(pa->w, data, len);
	if (rc) {
		(void)req;
		tus_err(pa->call, rc);
		/* The writer is dead; the file keeps a prefix, and the row the
		 * last durable offset, which is where the client resumes. */
		patch_free(pa, false);
		return rc;
	}
	pa->received += len;
	pa->unsynced += len;
	if (!pa->whole && !pa->has_sum &&
	    (pa->unsynced >= TUS_SYNC_EVERY ||
	     (db_now() - pa->synced_at) * 1000 >=
		     (int64_t)worker_config(pa->call->worker)->upload_sync_ms))
		patch_persist_then(pa, body_synced);
	return ERR_OK;
}

static void patch_abort(struct http_req *req, void *arg)
{
	struct patch *pa = arg;
	enum err rc;

	(void)req;
	if (pa->syncing) {
		pa->aborted = true; /* sync_done keeps what was flushed */
		return;
	}
	if (pa->failed) {
		patch_free(pa, false);
		return;
	}
	/* A whole upload cut short: its client never learnt where it was,
	 * and nothing of it exists. */
	if (pa->whole) {
		patch_free(pa, false);
		return;
	}
	/* Network cut: keep what arrived, unless it was checksummed (then
	 * only the whole request counts). */
	rc = pa->has_sum ? patch_rewind(pa) : ERR_OK;
	if (!rc && !pa->has_sum)
		rc = patch_persist(pa);
	if (rc)
		log_event(LOG_WARN, "tus", "upload %.8s…: keeping the received bytes failed: %s",
			  pa->u.id, err_detail());
	patch_free(pa, !rc);
}

/* What the answer to a committing request needs; lives in the request
 * arena (docput holds the request until it answers). */
struct commit_info {
	char id[UPLOADS_ID_LEN + 1];
	const char *secret; /* a drop link's upload: request-scoped */
	int64_t expires_at;
	uint64_t offset; /* recorded before this request */
	bool creating;
	bool chunked; /* a partial file, kept when the commit fails */
};

static void commit_answer(struct call *call, enum err rc, const struct docput_result *res,
			  void *arg)
{
	struct commit_info *ci = arg;

	if (rc) {
		/* A drop link's upload that cannot be committed (the link filled
		 * up or died meanwhile) is gone for good: its bytes go, and
		 * without its row a client's HEAD learns so (404) instead of
		 * sending its last byte again and again. */
		if (ci->secret) {
			char file[PATH_MAX];

			uploads_delete(worker_db(call->worker), ci->id);
			if (ci->chunked && upload_file(call, ci->id, file, sizeof file))
				unlink(file);
		} else if (ci->chunked && !docput_final(rc)) {
			/* docput kept the bytes before this request: send the
			 * rest again from here. */
			http_resp_headerf(call->req, "Upload-Offset", "%" PRIu64, ci->offset);
			expires_header(call, ci->expires_at);
		}
		tus_err(call, rc);
		return;
	}
	tus_headers(call);
	http_resp_headerf(call->req, "ETag", "\"%s\"", res->hash);
	http_resp_headerf(call->req, "X-Consort-Version", "%" PRId64, res->version);
	http_resp_headerf(call->req, "Upload-Offset", "%" PRIu64, res->size);
	if (res->scan) /* docs/scanning.md */
		http_resp_header(call->req, "X-Consort-Scan", res->scan);
	expires_header(call, ci->expires_at);
	if (ci->creating)
		location_header(call, ci->secret, ci->id);
	http_resp_send(call->req, ci->creating ? 201 : 204, NULL, 0);
}

static void patch_ended(void *arg) { patch_free(arg, false); }

/* The whole upload is here: commit it as a new version. Consumes pa. */
static void patch_commit(struct patch *pa)
{
	struct call *call = pa->call;
	struct commit_info *ci = http_req_alloc(call->req, sizeof *ci);
	struct docput_req r = {0};
	struct name_path path = {0};
	char *comment = NULL;
	enum err rc;

	/* Access may have been taken away since the upload began (for a
	 * drop link: the link revoked, expired, or its creator's access). */
	if (!ci)
		rc = err_set(ERR_NOMEM, "out of memory");
	else if (pa->link_id) {
		struct link l;

		rc = acl_link_open(worker_db(call->worker), pa->secret, &l);
		if (!rc && (l.id != pa->link_id || l.kind != LINK_DROP))
			rc = err_set(ERR_NOTFOUND, "no such upload");
		link_clear(&l);
	} else
		rc = acl_authorize_wp(call, NULL, pa->u.wp_id, ACCESS_WP_WRITE);
	if (!rc)
		rc = name_path_from_text(pa->u.path, &path);
	if (!rc && !(comment = http_req_strndup(call->req, pa->u.comment, strlen(pa->u.comment))))
		rc = err_set(ERR_NOMEM, "out of memory");
	if (rc) {
		/* The writer stays open past the offset; the next request
		 * finds it longer than the row says and resumes from the row. */
		if (!pa->whole)
			offset_headers(pa, pa->start);
		tus_err(call, rc);
		name_path_free(&path);
		patch_free(pa, true);
		return;
	}
	memcpy(ci->id, pa->u.id, sizeof ci->id);
	ci->secret = pa->secret;
	ci->expires_at = pa->u.expires_at;
	ci->creating = pa->creating;
	ci->offset = pa->start;
	ci->chunked = !pa->whole;
	r.call = call;
	r.w = pa->w;
	r.wp_id = pa->u.wp_id;
	r.path = path;
	r.comment = comment;
	r.cond = TREE_COND_NONE;
	if (pa->whole) {
		const struct config *cfg = worker_config(call->worker);
		const unsigned char *data;
		size_t len;

		if (cas_writer_small(pa->w, SMALLBLOB_MAX, &data, &len)) {
			r.head = data;
			r.head_len = len < MIME_HEAD_BYTES ? len : MIME_HEAD_BYTES;
		}
		r.new_upload = &pa->u;
		r.upload_max_open = cfg->uploads_per_user;
		r.upload_max_bytes = cfg->upload_bytes_per_user;
	} else {
		r.head_file = pa->file;
		/* A drop link's upload that fails ends (commit_answer). */
		if (!pa->secret) {
			r.keep_file = pa->file;
			r.keep_offset = pa->start;
		}
	}
	r.upload_id = pa->u.id;
	r.link_id = pa->link_id;
	r.answer = commit_answer;
	r.arg = ci;
	/* The upload stays claimed until its commit has ended: a second
	 * request meanwhile (a client that gave up waiting) would find the
	 * partial file gone into the store, or race the bytes kept after a
	 * failure. */
	r.ended = patch_ended;
	r.ended_arg = pa;
	pa->w = NULL;
	docput_commit(&r); /* copies what it keeps */
}

/* After the flush at the end of a body that is not the last: answer. */
static void end_synced(struct patch *pa, enum err rc)
{
	if (rc) {
		tus_err(pa->call, rc);
		patch_free(pa, false);
		return;
	}
	tus_headers(pa->call);
	offset_headers(pa, cas_writer_size(pa->w));
	if (pa->creating)
		location_header(pa->call, pa->secret, pa->u.id);
	http_resp_send(pa->call->req, pa->creating ? 201 : 204, NULL, 0);
	patch_free(pa, true);
}

static void patch_end(struct http_req *req, void *arg)
{
	struct patch *pa = arg;
	enum err rc = ERR_OK;

	(void)req;
	if (pa->failed) {
		patch_free(pa, false);
		return;
	}
	if (pa->has_sum) {
		unsigned char got[DIGEST_SHA256_LEN];
		size_t n = cas_writer_side_end(pa->w, got);

		if (!n || !digest_equal(got, pa->want, n)) {
			rc = pa->whole ? ERR_OK : patch_rewind(pa);
			if (rc) {
				tus_err(pa->call, rc);
				patch_free(pa, false);
				return;
			}
			offset_headers(pa, pa->start);
			tus_err(pa->call, err_set(ERR_CHECKSUM,
						  "the Upload-Checksum does not match the %" PRIu64
						  " bytes received; they were discarded",
						  pa->received));
			patch_free(pa, !pa->whole);
			return;
		}
	}
	/* The last bytes: the commit makes them durable (as a version), so
	 * the partial file is not synced nor its offset recorded first. If
	 * the commit fails, the recorded offset is still the last one
	 * acknowledged, and docput cuts the partial file back to it
	 * (docput_req.keep_file): the client sends this request's bytes
	 * again once the cause is gone (a quota raised, a conflict
	 * resolved, the scanner back). A refusal by the malware scan is
	 * final (docput_final): the upload ends with it, as does any failure
	 * of a drop link's. */
	if (cas_writer_size(pa->w) == pa->u.length) {
		patch_commit(pa);
		return;
	}
	if (pa->whole) {
		/* The body's declared length was the upload's. */
		tus_err(pa->call, err_set(ERR_INVALID, "the body ended before Upload-Length"));
		patch_free(pa, false);
		return;
	}
	patch_persist_then(pa, end_synced);
}

static const struct http_body_sink patch_sink = {patch_data, patch_end, patch_abort};

/* The writer is ready at pa->start: take the body. */
static void patch_read(struct patch *pa)
{
	if (pa->has_sum) {
		enum err rc = cas_writer_side_begin(pa->w, pa->alg);

		if (rc) {
			tus_err(pa->call, rc);
			patch_free(pa, true);
			return;
		}
	}
	if (pa->u.length == pa->start && !http_req_has_body(pa->call->req)) {
		/* An empty document (Upload-Length: 0) is complete at once. */
		patch_commit(pa);
		return;
	}
	pa->synced_at = db_now();
	http_req_read_body(pa->call->req, &patch_sink, pa);
}

/* Job thread: open the partial file and re-hash it. */
static void resume_run(void *arg)
{
	struct patch *pa = arg;
	struct cas *cas = app_cas(worker_app(pa->call->worker));

	pa->job_rc = cas_writer_resume(cas, pa->file, &pa->w);
	if (!pa->job_rc) {
		pa->job_size = cas_writer_size(pa->w);
		/* Bytes past the recorded offset were never acknowledged. */
		if (pa->job_size > pa->start)
			pa->job_rc = cas_writer_truncate(pa->w, pa->start);
	}
	if (pa->job_rc)
		snprintf(pa->job_detail, sizeof pa->job_detail, "%s", err_detail());
}

static void resume_done(struct http_req *req, bool alive, void *arg)
{
	struct patch *pa = arg;

	(void)req;
	if (pa->job_rc) {
		if (alive)
			tus_err(pa->call, err_set(pa->job_rc, "%s", pa->job_detail));
		patch_free(pa, false);
		return;
	}
	if (!alive) {
		patch_free(pa, true);
		return;
	}
	if (pa->job_size < pa->start) {
		/* The file lost bytes the row counts (it should not happen: the
		 * offset only moves after fdatasync). Tell the truth. */
		uploads_set_offset(worker_db(pa->call->worker), pa->u.id, pa->job_size);
		offset_headers(pa, pa->job_size);
		tus_err(pa->call, err_set(ERR_CONFLICT,
					  "the server holds %" PRIu64
					  " bytes of this upload; resume from there",
					  pa->job_size));
		patch_free(pa, true);
		return;
	}
	patch_read(pa);
}

/* Checks from the headers, then get the writer (cached, or resumed on a
 * job thread) and read the body. `pa->u` is loaded; answers on refusal. */
static void patch_start(struct patch *pa)
{
	struct call *call = pa->call;
	const char *sum = http_req_header(call->req, "Upload-Checksum");
	int64_t declared = http_req_body_length(call->req);
	enum err rc;

	/* From here every path ends in patch_free, which counts it out. */
	metrics_add(METRICS_UPLOADS_ACTIVE, 1);
	if (declared > 0 && pa->start + (uint64_t)declared > pa->u.length) {
		tus_err(call, err_set(ERR_TOOLARGE,
				      "%" PRId64 " bytes at offset %" PRIu64
				      " go past Upload-Length %" PRIu64,
				      declared, pa->start, pa->u.length));
		goto fail;
	}
	if (sum) {
		rc = tusmeta_checksum(sum, &pa->alg, pa->want);
		if (rc) {
			tus_err(call, rc);
			goto fail;
		}
		pa->has_sum = true;
	}
	if (pa->whole) {
		/* No file: the temp writer holds small content in memory. */
		rc = cas_writer_new(app_cas(worker_app(call->worker)), pa->u.length, &pa->w);
		if (rc) {
			tus_err(call, rc);
			goto fail;
		}
		patch_read(pa);
		return;
	}
	if (!upload_file(call, pa->u.id, pa->file, sizeof pa->file)) {
		tus_err(call, err_set(ERR_INTERNAL, "data directory path too long"));
		goto fail;
	}
	rc = open_take(pa->u.id, &pa->w);
	pa->slotted = !rc;
	if (rc) {
		tus_err(call, rc);
		goto fail;
	}
	if (pa->w) {
		if (cas_writer_size(pa->w) != pa->start) {
			/* Cached state disagrees with the row: start over from
			 * the file. */
			cas_writer_close(pa->w);
			pa->w = NULL;
		} else {
			patch_read(pa);
			return;
		}
	}
	if (pa->start == 0) {
		/* Nothing to re-hash: no need for a job. */
		resume_run(pa);
		resume_done(call->req, true, pa);
		return;
	}
	rc = jobs_submit_req(worker_jobs(call->worker), call->req, resume_run, resume_done, pa);
	if (rc) {
		tus_err(call, rc);
		goto fail;
	}
	return;
fail:
	patch_free(pa, false);
}

/* PATCH on upload {id}: `l` is the drop link it must have come through,
 * or NULL for a member's own upload (decided by ACCESS_UPLOAD_OWNER). */
static void tus_patch(struct call *call, const struct link *l)
{
	struct patch *pa;
	uint64_t offset;

	if (!tus_version_ok(call) || !content_type_ok(call))
		return;
	pa = calloc(1, sizeof *pa);
	if (!pa) {
		tus_err(call, err_set(ERR_NOMEM, "out of memory"));
		return;
	}
	pa->call = call;
	if (!load_upload(call, &pa->u)) {
		free(pa);
		return;
	}
	if (l) {
		pa->link_id = l->id;
		pa->secret = call_param(call, "secret");
		if (pa->u.link_id != l->id) {
			tus_err(call, err_set(ERR_NOTFOUND, "no such upload"));
			goto fail;
		}
	}
	if (!header_u64(call, "Upload-Offset", &offset)) {
		tus_err(call, err_set(ERR_INVALID, "Upload-Offset is required"));
		goto fail;
	}
	if (pa->u.version) {
		/* Finished already: only a retry of the very end is fine. */
		offset_headers(pa, pa->u.length);
		if (offset == pa->u.length && !http_req_has_body(call->req)) {
			tus_headers(call);
			http_resp_send(call->req, 204, NULL, 0);
		} else {
			tus_err(call, err_set(ERR_CONFLICT,
					      "this upload is complete (version %" PRId64 ")",
					      pa->u.version));
		}
		goto fail;
	}
	if (offset != pa->u.offset) {
		offset_headers(pa, pa->u.offset);
		tus_err(call,
			err_set(ERR_CONFLICT,
				"Upload-Offset is %" PRIu64 " but the server has %" PRIu64 " bytes",
				offset, pa->u.offset));
		goto fail;
	}
	/* A lock taken since the upload began holds for its next bytes
	 * (a drop link's file has a fresh name of its own: none). */
	if (!l) {
		struct name_path p = {0};
		enum err rc = name_path_from_text(pa->u.path, &p);

		if (!rc)
			rc = acl_lock_check(call, pa->u.wp_id, &p, false);
		name_path_free(&p);
		if (rc) {
			tus_err(call, rc);
			goto fail;
		}
	}
	pa->start = offset;
	patch_start(pa);
	return;
fail:
	upload_clear(&pa->u);
	free(pa);
}

void h_tus_patch(struct call *call) { tus_patch(call, NULL); }

/* ---- POST: creation -------------------------------------------------------------- */

/* Expired uploads (and files left without a row) go when new uploads
 * come, at most once a minute: the sweep reads the whole uploads
 * directory, too much for every small upload. */
#define SWEEP_EVERY_SECONDS 60

static void sweep_expired(struct call *call)
{
	static int64_t last; /* shared by the workers */
	int64_t now = db_now(), seen = __atomic_load_n(&last, __ATOMIC_RELAXED);
	char dir[PATH_MAX];

	if (now - seen < SWEEP_EVERY_SECONDS ||
	    !__atomic_compare_exchange_n(&last, &seen, now, false, __ATOMIC_RELAXED,
					 __ATOMIC_RELAXED))
		return;
	snprintf(dir, sizeof dir, "%s/uploads", app_data_dir(worker_app(call->worker)));
	if (uploads_sweep(worker_db(call->worker), dir, now, 3600, NULL))
		log_event(LOG_WARN, "tus", "sweeping expired uploads: %s", err_detail());
}

/* A creation request whose body is the whole upload, small enough to
 * hold in memory (its Content-Length says so before a byte is read), or
 * an empty upload. Such an upload is finished by the request or not at
 * all: an interrupted one was never given a Location to resume at. */
static bool whole_small(struct call *call, uint64_t length)
{
	int64_t declared = http_req_body_length(call->req);

	if (length == 0)
		return !http_req_has_body(call->req);
	return length <= SMALLBLOB_MAX && declared > 0 && (uint64_t)declared == length;
}

/* Take the body of a whole small upload `u` (not yet a row) and commit
 * it, the row made in the same transaction (docput_req.new_upload). */
static enum err whole_start(struct call *call, const struct upload *u, int64_t link_id)
{
	struct patch *pa = calloc(1, sizeof *pa);

	if (!pa)
		return err_set(ERR_NOMEM, "out of memory");
	pa->call = call;
	pa->creating = true;
	pa->whole = true;
	pa->u = *u;
	pa->u.path = strdup(u->path);
	pa->u.comment = strdup(u->comment ? u->comment : "");
	pa->u.metadata = strdup(u->metadata ? u->metadata : "");
	if (!pa->u.path || !pa->u.comment || !pa->u.metadata) {
		upload_clear(&pa->u);
		free(pa);
		return err_set(ERR_NOMEM, "out of memory");
	}
	if (link_id) {
		pa->link_id = link_id;
		pa->secret = call_param(call, "secret");
	}
	patch_start(pa);
	return ERR_OK;
}

void h_tus_create(struct call *call)
{
	const struct config *cfg = worker_config(call->worker);
	struct db *db = worker_db(call->worker);
	const char *raw = http_req_header(call->req, "Upload-Metadata");
	struct name_path path = {0};
	struct tree_node n = {0};
	struct upload u = {0};
	struct tusmeta m;
	char id[AUTH_SECRET_LEN + 1];
	uint64_t length;
	enum err rc;

	if (!tus_version_ok(call))
		return;
	if (http_req_header(call->req, "Upload-Defer-Length")) {
		tus_err(call, err_set(ERR_INVALID,
				      "Upload-Defer-Length is not supported: give Upload-Length"));
		return;
	}
	if (http_req_header(call->req, "Upload-Concat")) {
		tus_err(call, err_set(ERR_INVALID, "the concatenation extension is not supported"));
		return;
	}
	if (!header_u64(call, "Upload-Length", &length)) {
		tus_err(call, err_set(ERR_INVALID, "Upload-Length is required"));
		return;
	}
	if (length > cfg->max_upload) {
		tus_err(call, err_set(ERR_TOOLARGE,
				      "Upload-Length %" PRIu64 " is over Tus-Max-Size %" PRIu64,
				      length, cfg->max_upload));
		return;
	}
	if (!raw || strlen(raw) > UPLOADS_METADATA_MAX) {
		tus_err(call, err_set(ERR_INVALID,
				      raw ? "Upload-Metadata is too long"
					  : "Upload-Metadata must name the wp and the path"));
		return;
	}
	if (http_req_has_body(call->req) && !content_type_ok(call))
		return;
	rc = tusmeta_parse(call->req, raw, &m);
	if (rc) {
		tus_err(call, rc);
		return;
	}
	if (!m.wp || !m.path) {
		tus_err(call,
			err_set(ERR_INVALID, "Upload-Metadata must name the wp and the path"));
		return;
	}
	if (m.comment && (strlen(m.comment) > TREE_COMMENT_MAX ||
			  !name_utf8_valid(m.comment, strlen(m.comment)))) {
		tus_err(call,
			err_set(ERR_INVALID, "comment must be valid UTF-8 of at most %d bytes",
				TREE_COMMENT_MAX));
		return;
	}
	/* Write access to m.wp was decided before this handler ran
	 * (ACCESS_WP_WRITE_BY_METADATA): call->wp_id is that WP. With m.wp
	 * set, a wp_id of 0 would be a bug, refused rather than written. */
	rc = call->wp_id ? name_path_from_text(m.path, &path)
			 : err_set(ERR_INTERNAL, "the route did not decide the work package");
	if (!rc && path.n == 0)
		rc = err_set(ERR_INVALID, "a document needs a name");
	if (!rc) {
		rc = tree_resolve(db, call->wp_id, &path, &n);
		if (!rc && n.is_folder)
			rc = err_set(ERR_EXISTS, "'%s' is a folder", n.name);
		else if (rc == ERR_NOTFOUND)
			rc = tree_look_alike_check(db, call->wp_id, &path);
		tree_node_clear(&n);
	}
	if (!rc)
		rc = acl_lock_check(call, call->wp_id, &path, false);
	if (!rc)
		rc = tree_quota_check(db, call->wp_id, length);
	if (rc)
		goto out;
	sweep_expired(call);
	rc = auth_secret_new(id);
	if (rc)
		goto out;
	memcpy(u.id, id, UPLOADS_ID_LEN + 1);
	u.user_id = call->caller->user_id;
	u.wp_id = call->wp_id;
	u.path = name_path_join(&path);
	u.comment = (char *)(m.comment ? m.comment : "");
	u.metadata = (char *)raw;
	u.length = length;
	u.created_at = db_now();
	u.expires_at = u.created_at + cfg->upload_expiry_ms / 1000;
	if (!u.path) {
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	if (whole_small(call, length)) {
		rc = whole_start(call, &u, 0);
		free(u.path);
		if (rc)
			goto out;
		name_path_free(&path);
		return;
	}
	rc = uploads_create(db, &u, cfg->uploads_per_user, cfg->upload_bytes_per_user);
	free(u.path);
	u.path = NULL;
	if (rc)
		goto out;

	if (http_req_has_body(call->req) || length == 0) {
		/* creation-with-upload (the body is the first chunk), or an
		 * empty document, complete at once. */
		struct patch *pa = calloc(1, sizeof *pa);

		if (!pa) {
			rc = err_set(ERR_NOMEM, "out of memory");
			goto out;
		}
		pa->call = call;
		pa->creating = true;
		rc = uploads_get(db, id, &pa->u);
		if (rc) {
			free(pa);
			goto out;
		}
		patch_start(pa);
		name_path_free(&path);
		return;
	}
	tus_headers(call);
	http_resp_headerf(call->req, "Location", "/api/v1/uploads/%s", id);
	http_resp_header(call->req, "Upload-Offset", "0");
	expires_header(call, u.expires_at);
	http_resp_send(call->req, 201, NULL, 0);
out:
	if (rc)
		tus_err(call, rc);
	name_path_free(&path);
}

/* ---- HEAD, DELETE, method override ---------------------------------------------------- */

void h_tus_head(struct call *call)
{
	struct upload u;

	if (!tus_version_ok(call) || !load_upload(call, &u))
		return;
	tus_headers(call);
	http_resp_headerf(call->req, "Upload-Offset", "%" PRIu64, u.offset);
	http_resp_headerf(call->req, "Upload-Length", "%" PRIu64, u.length);
	if (u.metadata && *u.metadata)
		http_resp_header(call->req, "Upload-Metadata", u.metadata);
	if (u.version) {
		http_resp_headerf(call->req, "ETag", "\"%s\"", u.blob);
		http_resp_headerf(call->req, "X-Consort-Version", "%" PRId64, u.version);
	}
	expires_header(call, u.expires_at);
	http_resp_send(call->req, 200, NULL, 0);
	upload_clear(&u);
}

/* DELETE upload {id}: `l` as for tus_patch. */
static void tus_delete(struct call *call, const struct link *l)
{
	struct cas_writer *w = NULL;
	struct upload u;
	char file[PATH_MAX];
	enum err rc;

	if (!tus_version_ok(call) || !load_upload(call, &u))
		return;
	if (l && u.link_id != l->id) {
		tus_err(call, err_set(ERR_NOTFOUND, "no such upload"));
		goto out;
	}
	rc = open_forget(u.id, &w);
	if (!rc)
		rc = uploads_delete(worker_db(call->worker), u.id);
	if (rc) {
		cas_writer_close(w);
		tus_err(call, rc);
		goto out;
	}
	if (w)
		cas_writer_abort(w); /* removes the file */
	else if (upload_file(call, u.id, file, sizeof file))
		unlink(file);
	tus_headers(call);
	http_resp_send(call->req, 204, NULL, 0);
out:
	upload_clear(&u);
}

void h_tus_delete(struct call *call) { tus_delete(call, NULL); }

void h_tus_override(struct call *call)
{
	const char *m = http_req_header(call->req, "X-HTTP-Method-Override");

	if (m && !strcmp(m, "PATCH"))
		h_tus_patch(call);
	else if (m && !strcmp(m, "DELETE"))
		h_tus_delete(call);
	else if (m && !strcmp(m, "HEAD"))
		h_tus_head(call);
	else
		tus_err(call,
			err_set(ERR_METHOD,
				"POST here needs X-HTTP-Method-Override: PATCH, DELETE or HEAD"));
}

/* ---- through a drop link: /api/v1/s/{secret}/uploads ------------------------------------ */

#define DROP_UPLOADER_MAX 100 /* bytes of the name an uploader states */

/* "<uploader> <UTC time> <original name>" in the link's folder, checked
 * by the naming rules like any name (name.h). */
static enum err drop_path(struct call *call, const struct link *l, const struct tusmeta *m,
			  struct name_path *out)
{
	char stamp[32], *folder = NULL, *name = NULL, *nfc = NULL, *key = NULL;
	time_t now = (time_t)db_now();
	struct tm tm;
	size_t len;
	enum err rc;

	if (!m->uploader || !*m->uploader)
		return err_set(ERR_INVALID, "Upload-Metadata must give your name (uploader)");
	if (!m->filename || !*m->filename)
		return err_set(ERR_INVALID, "Upload-Metadata must give the file's name (filename)");
	if (strlen(m->uploader) > DROP_UPLOADER_MAX || strchr(m->uploader, '/'))
		return err_set(ERR_INVALID, "your name must be at most %d bytes, without '/'",
			       DROP_UPLOADER_MAX);
	if (strchr(m->filename, '/'))
		return err_set(ERR_INVALID, "the file's name must not hold '/'");
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H%M%SZ", &tm);
	len = strlen(m->uploader) + strlen(stamp) + strlen(m->filename) + 3;
	name = malloc(len);
	if (!name)
		return err_set(ERR_NOMEM, "out of memory");
	snprintf(name, len, "%s %s %s", m->uploader, stamp, m->filename);
	rc = name_check(name, strlen(name), &nfc, &key);
	if (rc)
		rc = err_set(ERR_INVALID, "the document's name '%s' is not allowed: %s", name,
			     err_detail());
	if (!rc)
		rc = tree_path(worker_db(call->worker), l->node_id, &folder);
	if (!rc) {
		size_t flen = strlen(folder) + strlen(nfc) + 2;
		char *full = malloc(flen);

		if (!full)
			rc = err_set(ERR_NOMEM, "out of memory");
		else {
			snprintf(full, flen, "%s%s%s", folder, *folder ? "/" : "", nfc);
			rc = name_path_from_text(full, out);
			free(full);
		}
	}
	free(folder);
	free(name);
	free(nfc);
	free(key);
	return rc;
}

void h_tus_link_create(struct call *call)
{
	const struct config *cfg = worker_config(call->worker);
	struct db *db = worker_db(call->worker);
	const char *raw = http_req_header(call->req, "Upload-Metadata");
	struct name_path path = {0};
	struct tree_node n = {0};
	struct upload u = {0};
	struct link l = {0};
	struct tusmeta m;
	char id[AUTH_SECRET_LEN + 1], comment[160];
	int64_t pending = 0;
	uint64_t length;
	enum err rc;

	if (!tus_version_ok(call) || !share_drop_open(call, &l))
		return;
	if (http_req_header(call->req, "Upload-Defer-Length") ||
	    http_req_header(call->req, "Upload-Concat")) {
		rc = err_set(ERR_INVALID, "give Upload-Length; deferred lengths and concatenation "
					  "are not supported");
		goto out;
	}
	if (!header_u64(call, "Upload-Length", &length)) {
		rc = err_set(ERR_INVALID, "Upload-Length is required");
		goto out;
	}
	if (length > cfg->max_upload || (l.max_file_size && length > (uint64_t)l.max_file_size)) {
		rc = err_set(ERR_TOOLARGE,
			     "this link accepts files of at most %" PRIu64 " bytes; this one has "
			     "%" PRIu64,
			     l.max_file_size && (uint64_t)l.max_file_size < cfg->max_upload
				     ? (uint64_t)l.max_file_size
				     : cfg->max_upload,
			     length);
		goto out;
	}
	if (!raw || strlen(raw) > UPLOADS_METADATA_MAX) {
		rc = err_set(ERR_INVALID, raw ? "Upload-Metadata is too long"
					      : "Upload-Metadata must give uploader and filename");
		goto out;
	}
	if (http_req_has_body(call->req) && !content_type_ok(call))
		goto done;
	rc = tusmeta_parse(call->req, raw, &m);
	if (!rc)
		rc = drop_path(call, &l, &m, &path);
	if (!rc)
		rc = uploads_link_open(db, l.id, db_now(), &pending);
	if (!rc && l.max_uses && l.uses + pending >= l.max_uses)
		rc = err_set(ERR_CONFLICT,
			     "this link accepts %" PRId64 " files; %" PRId64 " arrived and %" PRId64
			     " are on their way: nothing more can be dropped",
			     l.max_uses, l.uses, pending);
	if (!rc) {
		rc = tree_resolve(db, l.wp_id, &path, &n);
		if (!rc)
			rc = err_set(ERR_EXISTS, "a document of that name arrived already; try "
						 "again in a second");
		else if (rc == ERR_NOTFOUND)
			rc = tree_look_alike_check(db, l.wp_id, &path);
		tree_node_clear(&n);
	}
	if (!rc)
		rc = tree_quota_check(db, l.wp_id, length);
	if (rc)
		goto out;
	sweep_expired(call);
	rc = auth_secret_new(id);
	if (rc)
		goto out;
	snprintf(comment, sizeof comment, "dropped through link #%" PRId64, l.id);
	memcpy(u.id, id, UPLOADS_ID_LEN + 1);
	/* Counted against its creator's open uploads: a link cannot hold
	 * more unfinished bytes than its creator could. */
	u.user_id = l.creator_id;
	u.wp_id = l.wp_id;
	u.link_id = l.id;
	u.path = name_path_join(&path);
	u.comment = comment;
	u.metadata = (char *)raw;
	u.length = length;
	u.created_at = db_now();
	u.expires_at = u.created_at + cfg->upload_expiry_ms / 1000;
	if (!u.path) {
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	if (whole_small(call, length)) {
		rc = whole_start(call, &u, l.id);
		free(u.path);
		if (rc)
			goto out;
		goto done;
	}
	rc = uploads_create(db, &u, cfg->uploads_per_user, cfg->upload_bytes_per_user);
	free(u.path);
	u.path = NULL;
	if (rc)
		goto out;
	if (http_req_has_body(call->req) || length == 0) {
		struct patch *pa = calloc(1, sizeof *pa);

		if (!pa) {
			rc = err_set(ERR_NOMEM, "out of memory");
			goto out;
		}
		pa->call = call;
		pa->creating = true;
		pa->link_id = l.id;
		pa->secret = call_param(call, "secret");
		rc = uploads_get(db, id, &pa->u);
		if (rc) {
			free(pa);
			goto out;
		}
		patch_start(pa);
		goto done;
	}
	tus_headers(call);
	location_header(call, call_param(call, "secret"), id);
	http_resp_header(call->req, "Upload-Offset", "0");
	expires_header(call, u.expires_at);
	http_resp_send(call->req, 201, NULL, 0);
out:
	if (rc)
		tus_err(call, rc);
done:
	name_path_free(&path);
	link_clear(&l);
}

void h_tus_link_patch(struct call *call)
{
	struct link l;

	if (!share_drop_open(call, &l)) /* revoked or expired: the rest is refused */
		return;
	tus_patch(call, &l);
	link_clear(&l);
}

void h_tus_link_head(struct call *call)
{
	struct link l;
	struct upload u;

	if (!tus_version_ok(call) || !share_drop_open(call, &l))
		return;
	if (load_upload(call, &u)) {
		if (u.link_id != l.id) {
			tus_err(call, err_set(ERR_NOTFOUND, "no such upload"));
		} else {
			tus_headers(call);
			http_resp_headerf(call->req, "Upload-Offset", "%" PRIu64, u.offset);
			http_resp_headerf(call->req, "Upload-Length", "%" PRIu64, u.length);
			/* the uploader's own file arrived: what a client that lost
			 * the last answer needs to stop */
			if (u.version) {
				http_resp_headerf(call->req, "ETag", "\"%s\"", u.blob);
				http_resp_headerf(call->req, "X-Consort-Version", "%" PRId64,
						  u.version);
			}
			expires_header(call, u.expires_at);
			http_resp_send(call->req, 200, NULL, 0);
		}
		upload_clear(&u);
	}
	link_clear(&l);
}

void h_tus_link_delete(struct call *call)
{
	struct link l;

	if (!share_drop_open(call, &l))
		return;
	tus_delete(call, &l);
	link_clear(&l);
}
