/* docput — see docput.h. */
#include "api/docput.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "links.h"
#include "notify.h"
#include "api/auth.h"
#include "cas.h"
#include "api/commitq.h"
#include "http/http.h"
#include "http/jobs.h"
#include "http/log.h"
#include "api/router.h"
#include "api/app.h"
#include "api/scan.h"
#include "smallblob.h"
#include "uploads.h"

/* What the commit needs, copied off the request: the stages after the
 * event loop run on other threads and read nothing of the request. */
struct job {
	struct call *call; /* touched on the loop only */
	docput_answer_fn answer;
	void *arg;
	void (*ended)(void *ended_arg);
	void *ended_arg;
	struct jobs_ticket *ticket;
	struct commitq *commitq;
	struct jobs *io; /* the disk pool */

	struct cas_writer *w;
	unsigned char *tail;
	size_t tail_len;
	int64_t wp_id;
	struct name_path path;
	char *comment;
	enum tree_cond cond;
	char *if_blob;
	unsigned char *head;
	size_t head_len;
	char *head_file;
	char *upload_id;
	/* A chunked upload's partial file, kept at keep_offset bytes on a
	 * failure that is not final (docput_req.keep_file); NULL: none. */
	char *keep_file;
	uint64_t keep_offset;
	struct upload *new_upload; /* created in the commit (docput_req) */
	unsigned upload_max_open;
	uint64_t upload_max_bytes;
	int64_t user_id;
	int64_t link_id; /* a drop link's upload: counted in its transaction */
	char *email;
	char *peer;

	struct cas_blob blob;
	/* Small content (storage/smallblob.h): the writer's bytes, inserted
	 * in the commit with the version; the writer stays in j->w until
	 * then. NULL when the content is a blob file. */
	const unsigned char *small;
	size_t small_len;
	struct cas *cas;
	struct scan_outcome scan;
	enum err rc;
	char detail[512];
	struct docput_result res;
};

static void job_free(struct job *j)
{
	/* A writer left here (out of memory on the way) is a partial file
	 * to keep or a temp file to remove. */
	if (j->keep_file)
		cas_writer_close(j->w);
	else
		cas_writer_abort(j->w);
	cas_blob_release(&j->blob);
	name_path_free(&j->path);
	free(j->tail);
	free(j->comment);
	free(j->if_blob);
	free(j->head);
	free(j->head_file);
	free(j->upload_id);
	free(j->keep_file);
	if (j->new_upload) {
		upload_clear(j->new_upload);
		free(j->new_upload);
	}
	free(j->email);
	free(j->peer);
	free(j);
}

static void fail(struct job *j, enum err rc)
{
	j->rc = rc;
	snprintf(j->detail, sizeof j->detail, "%s", err_detail());
}

bool docput_final(enum err rc) { return rc == ERR_INFECTED || rc == ERR_UNSCANNABLE; }

/* Refused by the malware scan (api/scan.h): audited as such. A scanner
 * that could not be asked said nothing about the content, so that
 * refusal alone is not final. */
static bool refused(enum err rc) { return docput_final(rc) || rc == ERR_SCANNER_UNAVAILABLE; }

/* The upload failed, not for good (docput_final): its partial file is
 * left holding the bytes its row records, so that its client resumes
 * there and sends the rest again. From the writer when it still has the
 * file (small content), else from the stored blob (still held) that
 * cas_writer_store renamed it into; when the store itself failed, the
 * file stayed where it was and the next resume cuts what is past the
 * offset. Disk pool. */
static void keep_partial(struct job *j)
{
	enum err rc = ERR_OK;

	if (j->w) {
		rc = cas_writer_truncate(j->w, j->keep_offset);
		cas_writer_close(j->w); /* a resumable writer: the file stays */
		j->w = NULL;
	} else if (j->blob.held) {
		rc = cas_partial_from_blob(&j->blob, j->keep_file, j->keep_offset);
	}
	if (rc)
		log_event(LOG_WARN, "tus",
			  "upload %.8s…: keeping its first %" PRIu64 " bytes failed: %s",
			  j->upload_id ? j->upload_id : "", j->keep_offset, err_detail());
}

/* After the commit: gc may have the blob now. Disk pool when releasing
 * asks the object store (cas_blob_release_asks_store). */
static void release_run(void *arg)
{
	struct job *j = arg;

	cas_blob_release(&j->blob);
	jobs_ticket_complete(j->ticket);
}

static void keep_run(void *arg)
{
	keep_partial(arg);
	release_run(arg);
}

/* ---- commit thread ---- */

static enum err in_txn(struct db *db, const struct tree_put_result *res, void *arg)
{
	struct job *j = arg;
	char *path = name_path_join(&j->path);
	char detail[1024];
	enum err rc;

	if (!path)
		return err_set(ERR_NOMEM, "out of memory");
	snprintf(detail, sizeof detail, "version %" PRId64 ", %" PRIu64 " bytes, %s, sha256 %s%s",
		 res->version, j->res.size, j->res.mime, j->res.hash,
		 j->upload_id ? ", resumable" : "");
	/* What the work package's retention took with it is on record. */
	if (res->pruned)
		snprintf(detail + strlen(detail), sizeof detail - strlen(detail),
			 "; %" PRIu64 " old version%s removed by retention", res->pruned,
			 res->pruned == 1 ? "" : "s");
	rc = audit_append(db, j->user_id, j->email, j->peer, "upload", j->wp_id, path, detail);
	if (rc)
		log_event(LOG_ERROR, "audit", "cannot record upload: %s", err_detail());
	/* One who uploads a document follows it (unless they turned that
	 * off, or said they do not follow it): docs/notifications.md. */
	if (!rc && j->user_id)
		rc = notify_follow_auto(db, j->user_id, j->wp_id, path);
	/* A drop link's file counts against its limit with the version, or
	 * neither happens (docs/links.md). */
	if (!rc && j->link_id) {
		rc = link_use(db, j->link_id, db_now());
		if (rc == ERR_NOTFOUND)
			rc = err_set(ERR_CONFLICT, "this link has taken all the files it accepts, "
						   "expired or was revoked: nothing was stored");
	}
	free(path);
	/* A row made here is inserted finished: one write, not an insert
	 * and then an update of the same row. */
	if (!rc && j->new_upload) {
		j->new_upload->version = res->version;
		memcpy(j->new_upload->blob, j->res.hash, sizeof j->new_upload->blob);
		rc = uploads_create_finished(db, j->new_upload, j->upload_max_open,
					     j->upload_max_bytes);
	} else if (!rc && j->upload_id) {
		rc = uploads_finish(db, j->upload_id, res->version, j->res.hash);
	}
	return rc;
}

static enum err commit_run(struct db *db, void *arg)
{
	struct job *j = arg;
	struct tree_put put = {0};
	struct tree_put_result pr;
	enum err rc;

	/* Content and reference in one savepoint: one WAL flush makes both
	 * durable, and neither exists without the other. */
	if (j->small) {
		rc = smallblob_put(db, j->res.hash, j->small, j->small_len);
		if (rc)
			return rc;
	}
	put.user_id = j->user_id;
	put.blob = j->res.hash;
	put.size = j->res.size;
	put.mime = j->res.mime;
	put.comment = j->comment;
	put.cond = j->cond;
	put.if_blob = j->if_blob;
	put.parents = true; /* missing folders on the way are made, as for mkdir -p */
	put.in_txn = in_txn;
	put.in_txn_arg = j;
	rc = tree_put(db, j->wp_id, &j->path, &put, &pr);
	if (!rc) {
		j->res.node_id = pr.node_id;
		j->res.version = pr.version;
		j->res.created = pr.created;
	}
	return rc;
}

static void commit_done(enum err rc, void *arg)
{
	struct job *j = arg;

	if (rc)
		fail(j, rc);
	j->small = NULL;
	/* Not committed: a chunked upload's bytes are kept (from the blob
	 * while it is held), on the disk pool rather than here, where the
	 * commits of others wait. */
	if (rc && j->keep_file) {
		if (jobs_post(j->io, keep_run, j))
			keep_run(j);
		return;
	}
	/* Small content is in the database now: the writer, and a tus
	 * upload's partial file, are done. */
	cas_writer_abort(j->w);
	j->w = NULL;
	/* On an object store the release is a round trip: not here either. */
	if (cas_blob_release_asks_store(&j->blob) && !jobs_post(j->io, release_run, j))
		return;
	release_run(j);
}

/* A refused upload (api/scan.h): audited, the work package's managers
 * told, and the blob removed unless a version references it (content
 * already stored before, or a concurrent upload). In the commit queue's
 * write transaction, as gc removes blobs. */
static enum err refused_run(struct db *db, void *arg)
{
	struct job *j = arg;
	char *path = name_path_join(&j->path);
	char detail[1024];
	bool referenced = true;
	enum err rc;

	if (!path)
		return err_set(ERR_NOMEM, "out of memory");
	snprintf(detail, sizeof detail, "%s: %s; %" PRIu64 " bytes, sha256 %s%s", err_name(j->rc),
		 j->scan.signature[0] ? j->scan.signature : j->detail, j->res.size, j->res.hash,
		 j->upload_id ? ", resumable" : "");
	rc = audit_append(db, j->user_id, j->email, j->peer, "upload_refused", j->wp_id, path,
			  detail);
	if (!rc && j->rc == ERR_INFECTED)
		rc = scan_tell_managers(db, j->wp_id, path, j->scan.signature, j->user_id, j->email,
					j->peer);
	free(path);
	/* A refused tus upload ends, its bytes gone with the blob, unless
	 * they were kept for a retry (keep_file: the scanner was down). */
	if (!rc && j->upload_id && !j->keep_file)
		rc = uploads_delete(db, j->upload_id);
	if (!rc)
		rc = scans_blob_referenced(db, j->res.hash, &referenced);
	/* Refused small content was never stored: nothing to remove. */
	if (!rc && !referenced && !j->small && cas_remove(j->cas, j->res.hash) == ERR_LOCKED)
		log_event(LOG_INFO, "scan", "refused blob %s is held by another upload",
			  j->res.hash);
	return rc;
}

static void refused_done(enum err rc, void *arg)
{
	struct job *j = arg;

	if (rc)
		log_event(LOG_ERROR, "scan", "cannot record a refused upload: %s", err_detail());
	jobs_ticket_complete(j->ticket);
}

/* ---- disk thread ---- */

static void mime_of(struct job *j)
{
	unsigned char *buf = NULL;
	const unsigned char *head = j->head;
	size_t len = j->head_len;

	if (j->head_file) {
		int fd = open(j->head_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		ssize_t got = -1;

		buf = malloc(MIME_HEAD_BYTES);
		if (fd >= 0 && buf)
			got = pread(fd, buf, MIME_HEAD_BYTES, 0);
		if (fd >= 0)
			close(fd);
		head = buf;
		len = got > 0 ? (size_t)got : 0;
	}
	mime_detect(head, len, j->res.mime);
	free(buf);
}

/* Small content that no blob file holds yet stays in memory and goes
 * to the database with its version (storage/smallblob.h): no temp file,
 * no fdatasync, rename or directory fsync. True when j->small is set;
 * the writer is kept for commit_done. */
static bool take_small(struct job *j)
{
	const unsigned char *data;
	size_t len;

	if (!cas_writer_small(j->w, SMALLBLOB_MAX, &data, &len) ||
	    !cas_writer_hash(j->w, j->res.hash))
		return false;
	/* Deduplication across the tiers: content already stored as a file
	 * is referenced there (and held by the file path). */
	if (cas_stat(j->cas, j->res.hash, NULL) != ERR_NOTFOUND) {
		j->res.hash[0] = '\0';
		return false;
	}
	j->small = data;
	j->small_len = len;
	j->res.size = len;
	return true;
}

static enum err scan_small(struct job *j)
{
	int fd;
	enum err rc;

	if (!scan_enabled()) {
		j->scan.verdict = SCAN_NONE;
		return ERR_OK;
	}
	rc = smallblob_memfd(j->small, j->small_len, &fd);
	if (rc)
		return rc;
	rc = scan_content(fd, j->small_len, j->res.hash, false, &j->scan);
	close(fd);
	return rc;
}

static void store_run(void *arg)
{
	struct job *j = arg;
	enum err rc = ERR_OK;

	if (j->tail_len)
		rc = cas_writer_write(j->w, j->tail, j->tail_len);
	free(j->tail);
	j->tail = NULL;
	if (!rc && take_small(j)) {
		mime_detect(j->small,
			    j->small_len < MIME_HEAD_BYTES ? j->small_len : MIME_HEAD_BYTES,
			    j->res.mime);
		rc = scan_small(j);
		goto scanned;
	}
	/* The disk writes the content while libmagic looks at it (about a
	 * millisecond for most content, ten for a text file), so the
	 * store's fdatasync then has little left to wait for. The MIME type
	 * comes before the store: a resumable upload's partial file is
	 * renamed by it. */
	if (!rc)
		rc = cas_writer_start_sync(j->w);
	if (!rc)
		mime_of(j);
	if (!rc) {
		rc = cas_writer_store(j->w, &j->blob);
		j->w = NULL; /* consumed whatever the outcome */
	}
	if (!rc) {
		memcpy(j->res.hash, j->blob.hash, sizeof j->blob.hash);
		j->res.size = j->blob.size;
		/* Scanned before the version exists: nothing refused is ever
		 * visible. The hold keeps gc off the blob meanwhile. */
		rc = scan_content(j->blob.fd, j->blob.size, j->blob.hash, false, &j->scan);
	}
scanned:
	if (refused(rc)) {
		fail(j, rc);
		/* Refused content is not kept, not even in a partial file; the
		 * bytes of one the scanner could not look at are, for a retry. */
		if (docput_final(rc)) {
			free(j->keep_file);
			j->keep_file = NULL;
		} else if (j->keep_file) {
			keep_partial(j);
		}
		cas_blob_release(&j->blob);
		if (commitq_submit(j->commitq, refused_run, refused_done, j))
			jobs_ticket_complete(j->ticket);
		return;
	}
	if (!rc)
		j->res.scan =
			j->scan.verdict == SCAN_NONE ? NULL : scans_verdict_name(j->scan.verdict);
	if (!rc)
		rc = commitq_submit(j->commitq, commit_run, commit_done, j);
	if (rc) {
		fail(j, rc);
		if (j->keep_file)
			keep_partial(j);
		cas_writer_abort(j->w);
		j->w = NULL;
		cas_blob_release(&j->blob);
		jobs_ticket_complete(j->ticket);
	}
}

/* ---- event loop ---- */

static void job_done(struct http_req *req, bool alive, void *arg)
{
	struct job *j = arg;

	(void)req;
	if (alive) {
		if (j->rc)
			err_set(j->rc, "%s", j->detail);
		j->answer(j->call, j->rc, j->rc ? NULL : &j->res, j->arg);
	}
	if (j->ended)
		j->ended(j->ended_arg);
	job_free(j);
}

void docput_commit(struct docput_req *r)
{
	struct call *call = r->call;
	struct worker *wk = call->worker;
	struct job *j = calloc(1, sizeof *j);
	bool nomem = !j;

	if (!j) {
		if (r->keep_file)
			cas_writer_close(r->w);
		else
			cas_writer_abort(r->w);
		free(r->tail);
		name_path_free(&r->path);
		r->answer(call, err_set(ERR_NOMEM, "out of memory"), NULL, r->arg);
		if (r->ended)
			r->ended(r->ended_arg);
		return;
	}
	j->call = call;
	j->answer = r->answer;
	j->arg = r->arg;
	j->ended = r->ended;
	j->ended_arg = r->ended_arg;
	j->commitq = worker_commitq(wk);
	j->io = worker_io(wk);
	j->cas = app_cas(worker_app(wk));
	j->w = r->w;
	j->tail = r->tail;
	j->tail_len = r->tail_len;
	j->wp_id = r->wp_id;
	j->path = r->path;
	j->cond = r->cond;
	r->w = NULL;
	r->tail = NULL;
	memset(&r->path, 0, sizeof r->path);
	j->blob.fd = -1;
	j->comment = jobs_strdup(r->comment, &nomem);
	j->if_blob = jobs_strdup(r->if_blob, &nomem);
	j->head_file = jobs_strdup(r->head_file, &nomem);
	j->upload_id = jobs_strdup(r->upload_id, &nomem);
	j->keep_file = jobs_strdup(r->keep_file, &nomem);
	j->keep_offset = r->keep_offset;
	if (r->new_upload) {
		j->new_upload = calloc(1, sizeof *j->new_upload);
		if (j->new_upload) {
			*j->new_upload = *r->new_upload;
			j->new_upload->path = jobs_strdup(r->new_upload->path, &nomem);
			j->new_upload->comment = jobs_strdup(r->new_upload->comment, &nomem);
			j->new_upload->metadata = jobs_strdup(r->new_upload->metadata, &nomem);
		} else
			nomem = true;
		j->upload_max_open = r->upload_max_open;
		j->upload_max_bytes = r->upload_max_bytes;
	}
	if (r->head_len) {
		j->head = malloc(r->head_len);
		if (j->head) {
			memcpy(j->head, r->head, r->head_len);
			j->head_len = r->head_len;
		}
	}
	j->user_id = call->caller ? call->caller->user_id : 0;
	j->email = jobs_strdup(call->caller ? call->caller->email : "", &nomem);
	if (r->link_id) {
		char who[40];

		snprintf(who, sizeof who, "link #%" PRId64, r->link_id);
		j->user_id = 0;
		j->link_id = r->link_id;
		free(j->email);
		j->email = jobs_strdup(who, &nomem);
	}
	j->peer = jobs_strdup(http_req_peer(call->req), &nomem);
	if (!nomem)
		j->ticket = jobs_ticket_new(worker_jobs(wk), call->req, job_done, j);
	if (nomem || !j->ticket) {
		docput_answer_fn answer = r->answer;

		job_free(j);
		answer(call, err_set(ERR_NOMEM, "out of memory"), NULL, r->arg);
		return;
	}
	/* A saturated pool: do the disk part here rather than refuse an
	 * upload whose bytes have all arrived. */
	if (jobs_post(worker_io(wk), store_run, j))
		store_run(j);
}
