/* docput — see docput.h. */
#include "docput.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "cas.h"
#include "http.h"
#include "jobs.h"
#include "log.h"
#include "router.h"
#include "server.h"
#include "uploads.h"

struct job {
	struct docput_req r;
	unsigned char *head;
	size_t head_len;
	char *head_file;
	char *upload_id;
	enum err sync_rc;
	char sync_detail[256];
	struct docput_result res;
};

static void job_free(struct job *j)
{
	cas_writer_abort(j->r.w);
	name_path_free(&j->r.path);
	free(j->head);
	free(j->head_file);
	free(j->upload_id);
	free(j);
}

/* Job thread: nothing here touches the database or the connection. */
static void job_run(void *arg)
{
	struct job *j = arg;
	unsigned char *buf = NULL;
	const unsigned char *head = j->head;
	size_t len = j->head_len;

	j->sync_rc = cas_writer_sync(j->r.w);
	if (j->sync_rc) {
		snprintf(j->sync_detail, sizeof j->sync_detail, "%s", err_detail());
		return;
	}
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

static enum err in_txn(struct db *db, const struct tree_put_result *res, void *arg)
{
	struct job *j = arg;
	char *path = name_path_join(&j->r.path);
	enum err rc;

	if (!path)
		return err_set(ERR_NOMEM, "out of memory");
	rc = auth_audit(j->r.call, "upload", j->r.wp_id, path,
			"version %" PRId64 ", %" PRIu64 " bytes, %s, sha256 %s%s", res->version,
			j->res.size, j->res.mime, j->res.hash, j->upload_id ? ", resumable" : "");
	free(path);
	if (!rc && j->upload_id)
		rc = uploads_finish(db, j->upload_id, res->version, j->res.hash);
	return rc;
}

static void finish(struct job *j, bool alive)
{
	struct call *call = j->r.call;
	struct db *db = worker_db(call->worker);
	struct cas_blob blob;
	struct tree_put_result pr;
	struct tree_put put = {0};
	enum err rc;

	if (j->sync_rc) {
		/* The writer is dead; its file goes with the abort in job_free. */
		rc = err_set(j->sync_rc, "%s", j->sync_detail);
		goto out;
	}
	rc = cas_writer_commit(j->r.w, db, &blob);
	j->r.w = NULL; /* consumed whatever the outcome */
	if (rc)
		goto out;
	memcpy(j->res.hash, blob.hash, sizeof blob.hash);
	j->res.size = blob.size;
	put.user_id = call->caller ? call->caller->user_id : 0;
	put.blob = blob.hash;
	put.size = blob.size;
	put.mime = j->res.mime;
	put.comment = j->r.comment;
	put.pin = blob.pin;
	put.cond = j->r.cond;
	put.if_blob = j->r.if_blob;
	put.parents = true; /* missing folders on the way are made, as for mkdir -p */
	put.in_txn = in_txn;
	put.in_txn_arg = j;
	rc = tree_put(db, j->r.wp_id, &j->r.path, &put, &pr);
	if (rc) {
		char detail[512];

		/* Keep the reason: unpinning may overwrite the detail. */
		snprintf(detail, sizeof detail, "%s", err_detail());
		if (cas_unpin(db, blob.pin))
			log_event(LOG_WARN, "unpin", "could not unpin a blob: %s", err_detail());
		rc = err_set(rc, "%s", detail);
		goto out;
	}
	j->res.node_id = pr.node_id;
	j->res.version = pr.version;
	j->res.created = pr.created;
out:
	if (alive)
		j->r.answer(call, rc, rc ? NULL : &j->res, j->r.arg);
	job_free(j);
}

static void job_done(struct http_req *req, bool alive, void *arg)
{
	(void)req;
	finish(arg, alive);
}

void docput_commit(struct docput_req *r)
{
	struct job *j = calloc(1, sizeof *j);
	enum err rc;

	if (!j) {
		cas_writer_abort(r->w);
		name_path_free(&r->path);
		r->answer(r->call, err_set(ERR_NOMEM, "out of memory"), NULL, r->arg);
		return;
	}
	j->r = *r;
	memset(&r->path, 0, sizeof r->path);
	r->w = NULL;
	if (r->head_len) {
		j->head = malloc(r->head_len);
		if (j->head) {
			memcpy(j->head, r->head, r->head_len);
			j->head_len = r->head_len;
		}
	}
	if (r->head_file)
		j->head_file = strdup(r->head_file);
	if (r->upload_id)
		j->upload_id = strdup(r->upload_id);
	if ((r->head_file && !j->head_file) || (r->upload_id && !j->upload_id)) {
		docput_answer_fn answer = r->answer;

		job_free(j);
		answer(r->call, err_set(ERR_NOMEM, "out of memory"), NULL, r->arg);
		return;
	}
	j->r.head = NULL;
	j->r.head_file = NULL;
	j->r.upload_id = NULL;
	rc = jobs_submit_req(worker_jobs(r->call->worker), r->call->req, job_run, job_done, j);
	if (rc) {
		/* The pool is saturated: do the work here rather than refuse an
		 * upload whose bytes have all arrived. */
		job_run(j);
		finish(j, http_req_alive(r->call->req));
	}
}
