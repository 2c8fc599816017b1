/* indexer — see indexer.h. */
#include "indexer.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "blobback.h"
#include "cas.h"
#include "db.h"
#include "digest.h"
#include "exworker.h"
#include "indexq.h"
#include "smallblob.h"
#include "xap.h"

/* One row of index_state to write once the batch's Xapian commit is
 * durable. */
struct pstate {
	int64_t node_id, version;
	bool del;
	char *status, *reason, *language;
};

struct indexer {
	struct indexer_opts opts;
	char link[PATH_MAX];
	char target[PATH_MAX]; /* the generation the writer has open */
	bool rebuild;          /* building a new generation: leave the queue alone */
	struct db *db;
	struct xap_writer *xw;
	struct exworker *exw;
	/* blob-store = s3: blobs are copied to DATA/tmp for the helper */
	struct cas *remote;
	bool remote_checked;

	struct pstate *ps;
	size_t nps, cap;

	/* Fairness: documents whose first try ran out of time wait here
	 * (their queue rows stay) for the slow lane, which takes them one
	 * at a time with the full limits when nothing else waits. Kept in
	 * memory: after a restart they simply get a first try again. */
	int64_t *deferred;
	size_t ndeferred, defcap;
	bool first_try;    /* evaluate may give a document its first try */
	bool deferred_now; /* ...and this one needed more: it was set aside */
	bool last_slow;    /* the last batch ended with a row slower than batch_ms */
	uint64_t batch_bytes;
	size_t batch_docs;

	pthread_t thread;
	bool running;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stop, kicked;
	struct indexer_stats st; /* guarded by mu */
};

void indexer_opts_default(struct indexer_opts *o)
{
	memset(o, 0, sizeof *o);
	extract_limits_default(&o->limits);
	o->batch_docs = 500;
	o->batch_bytes = 32u << 20;
	o->poll_ms = 500;
	o->gap_ms = 250;
	o->first_cpu_seconds = 2;
	o->batch_ms = 1000;
}

void indexer_link_path(const char *data_dir, char *buf, size_t len)
{
	snprintf(buf, len, "%s/index/current", data_dir);
}

static void ixlog(struct indexer *ix, enum indexer_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void ixlog(struct indexer *ix, enum indexer_log_level lvl, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	if (!ix->opts.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	ix->opts.log(lvl, msg);
}

static void stat_add(struct indexer *ix, uint64_t *field)
{
	pthread_mutex_lock(&ix->mu);
	(*field)++;
	pthread_mutex_unlock(&ix->mu);
}

/* --- index directories ------------------------------------------------------------ */

/* A new, empty generation directory DATA/index/gen-<time>-<pid>-<n>. */
static enum err new_generation(const char *data_dir, char *dir, size_t len, char *base, size_t blen)
{
	static unsigned seq;

	for (int i = 0; i < 100; i++) {
		snprintf(base, blen, "gen-%lld-%d-%u", (long long)time(NULL), (int)getpid(), seq++);
		snprintf(dir, len, "%s/index/%s", data_dir, base);
		if (mkdir(dir, 0700) == 0)
			return ERR_OK;
		if (errno != EEXIST)
			return err_from_errno(errno, dir);
	}
	return err_set(ERR_EXISTS, "cannot name a new index generation");
}

/* Point DATA/index/current at `base` atomically (rename over the link). */
static enum err switch_link(const char *data_dir, const char *base)
{
	char tmp[PATH_MAX], link[PATH_MAX], dir[PATH_MAX];
	int dfd;

	snprintf(tmp, sizeof tmp, "%s/index/current.%d.tmp", data_dir, (int)getpid());
	indexer_link_path(data_dir, link, sizeof link);
	unlink(tmp);
	if (symlink(base, tmp) != 0)
		return err_from_errno(errno, tmp);
	if (rename(tmp, link) != 0) {
		enum err rc = err_from_errno(errno, link);

		unlink(tmp);
		return rc;
	}
	snprintf(dir, sizeof dir, "%s/index", data_dir);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd); /* the switch survives a crash */
		close(dfd);
	}
	return ERR_OK;
}

/* A generation of the old layout: one Xapian database for every work
 * package, its files directly in the generation directory. Its
 * statistics span work packages (so relevance weights told readers
 * about words they could not read): it is replaced by a new, per work
 * package generation and every document is indexed again. */
static bool old_layout(const char *gen)
{
	static const char *const marks[] = {"iamglass", "iamchert", "postlist.glass"};
	char path[PATH_MAX + 32];
	struct stat st;

	for (size_t i = 0; i < sizeof marks / sizeof *marks; i++) {
		snprintf(path, sizeof path, "%s/%s", gen, marks[i]);
		if (stat(path, &st) == 0)
			return true;
	}
	return false;
}

/* Resolve the live generation into `target`; create one when there is
 * none (*created true: the caller queues every document). */
static enum err ensure_index(const char *data_dir, char *target, size_t len, bool *created)
{
	char link[PATH_MAX], base[128], dir[PATH_MAX];
	struct stat st;
	enum err rc;

	*created = false;
	snprintf(dir, sizeof dir, "%s/index", data_dir);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return err_from_errno(errno, dir);
	indexer_link_path(data_dir, link, sizeof link);
	if (realpath(link, target) && stat(target, &st) == 0 && S_ISDIR(st.st_mode) &&
	    !old_layout(target))
		return ERR_OK;
	rc = new_generation(data_dir, dir, sizeof dir, base, sizeof base);
	if (rc)
		return rc;
	rc = switch_link(data_dir, base);
	if (rc)
		return rc;
	if (!realpath(link, target))
		return err_from_errno(errno, link);
	(void)len;
	*created = true;
	return ERR_OK;
}

/* A generation and the work package databases inside it. */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char sub[PATH_MAX + 300];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) != 0 && (errno == EISDIR || errno == EPERM)) {
			snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
			remove_dir(sub);
		}
	}
	closedir(d);
	rmdir(dir);
}

/* Remove the generations an interrupted `consort reindex` left behind:
 * every gen-* but the live one (`live`, resolved) and `keep`. One that a
 * writer still holds (a rebuild at work in another process) stays. */
static void remove_stale_generations(const char *data_dir, const char *live, const char *keep,
				     void (*log)(enum indexer_log_level, const char *))
{
	char dir[PATH_MAX], path[PATH_MAX + 300], real[PATH_MAX], msg[400];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof dir, "%s/index", data_dir);
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d))) {
		struct xap_writer *w;

		if (strncmp(e->d_name, "gen-", 4) != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (!realpath(path, real) || !strcmp(real, live) || (keep && !strcmp(real, keep)))
			continue;
		/* Locked: in use. Any other failure is a half-made database (a
		 * rebuild killed while creating it): as stale as the rest. */
		if (xap_writer_open(path, &w) == ERR_LOCKED)
			continue;
		xap_writer_close(w);
		remove_dir(path);
		if (log) {
			snprintf(msg, sizeof msg, "removed %s, left by an interrupted rebuild",
				 e->d_name);
			log(INDEXER_INFO, msg);
		}
	}
	closedir(d);
}

/* --- one document ------------------------------------------------------------------ */

static void pstate_free(struct pstate *p)
{
	free(p->status);
	free(p->reason);
	free(p->language);
}

static enum err remember(struct indexer *ix, int64_t node, int64_t version, bool del,
			 const char *status, const char *reason, const char *language)
{
	struct pstate *p;

	if (ix->nps == ix->cap) {
		size_t nc = ix->cap ? ix->cap * 2 : 64;
		struct pstate *g = realloc(ix->ps, nc * sizeof *g);

		if (!g)
			return err_set(ERR_NOMEM, "out of memory");
		ix->ps = g;
		ix->cap = nc;
	}
	p = &ix->ps[ix->nps];
	*p = (struct pstate){.node_id = node, .version = version, .del = del};
	if (!del) {
		p->status = strdup(status ? status : "indexed");
		p->reason = strdup(reason ? reason : "");
		p->language = strdup(language ? language : "");
		if (!p->status || !p->reason || !p->language) {
			pstate_free(p);
			return err_set(ERR_NOMEM, "out of memory");
		}
	}
	ix->nps++;
	return ERR_OK;
}

static void fp_str(struct digest *d, const char *s)
{
	if (!s)
		s = "";
	digest_update(d, s, strlen(s) + 1);
}

/* Everything metadata decides, hashed: when it changes, the document's
 * metadata is rewritten. */
static void fingerprint(const struct indexq_doc *f, char out[33])
{
	struct digest *d = digest_new(DIGEST_SHA256);
	unsigned char h[DIGEST_SHA256_LEN];
	char num[32];

#define FP_STR(s) fp_str(d, (s))
#define FP_NUM(n)                                                                                  \
	do {                                                                                       \
		snprintf(num, sizeof num, "%lld", (long long)(n));                                 \
		FP_STR(num);                                                                       \
	} while (0)

	if (!d) {
		out[0] = '\0';
		return;
	}
	FP_NUM(f->wp_id);
	FP_STR(f->wp_code);
	FP_STR(f->path);
	FP_STR(f->name);
	FP_STR(f->deliverable);
	FP_STR(f->status);
	FP_STR(f->blob);
	FP_STR(f->uploader);
	FP_NUM(f->nfolders);
	for (size_t i = 0; i < f->nfolders; i++)
		FP_NUM(f->folders[i]);
	digest_final(d, h);
	digest_free(d);
	digest_hex(h, 16, out);
#undef FP_STR
#undef FP_NUM
}

static void doc_from_facts(struct xap_doc *x, const struct indexq_doc *f, const char *fp)
{
	memset(x, 0, sizeof *x);
	x->node_id = f->node_id;
	x->version = f->version;
	x->wp_id = f->wp_id;
	x->wp_code = f->wp_code;
	x->path = f->path;
	x->name = f->name;
	x->folders = f->folders;
	x->nfolders = f->nfolders;
	x->uploader = f->uploader;
	x->mime = f->mime;
	x->status = f->status;
	x->deliverable = f->deliverable;
	x->date = f->uploaded_at;
	x->size = f->size;
	x->fingerprint = fp;
}

/* --- fairness ----------------------------------------------------------------------- */

static bool first_try_applies(struct indexer *ix)
{
	return ix->first_try && !ix->rebuild && ix->opts.first_cpu_seconds > 0 &&
	       ix->opts.first_cpu_seconds < ix->opts.limits.cpu_seconds;
}

/* Wall time of a first try: twice its CPU time and a little, within
 * the configured wall limit (a loaded machine only defers, never fails). */
static unsigned first_wall(struct indexer *ix)
{
	unsigned w = ix->opts.first_cpu_seconds * 2 + 2;

	return ix->opts.limits.wall_seconds && w > ix->opts.limits.wall_seconds
		       ? ix->opts.limits.wall_seconds
		       : w;
}

/* Whether extraction was cut for time (CPU or wall), as the helper and
 * pdftotext word it (search/exworker.c, search/extract.c). */
static bool out_of_time(const struct extract_result *res)
{
	return strstr(res->reason, "CPU limit") || strstr(res->reason, "did not finish within");
}

static bool is_deferred(struct indexer *ix, int64_t node_id)
{
	for (size_t i = 0; i < ix->ndeferred; i++)
		if (ix->deferred[i] == node_id)
			return true;
	return false;
}

static enum err defer(struct indexer *ix, int64_t node_id)
{
	if (!is_deferred(ix, node_id)) {
		if (ix->ndeferred == ix->defcap) {
			size_t nc = ix->defcap ? ix->defcap * 2 : 16;
			int64_t *g = realloc(ix->deferred, nc * sizeof *g);

			if (!g)
				return err_set(ERR_NOMEM, "out of memory");
			ix->deferred = g;
			ix->defcap = nc;
		}
		ix->deferred[ix->ndeferred++] = node_id;
	}
	ix->deferred_now = true;
	stat_add(ix, &ix->st.deferred);
	return ERR_OK;
}

static void undefer(struct indexer *ix, int64_t node_id)
{
	for (size_t i = 0; i < ix->ndeferred; i++) {
		if (ix->deferred[i] == node_id) {
			memmove(&ix->deferred[i], &ix->deferred[i + 1],
				(ix->ndeferred - i - 1) * sizeof *ix->deferred);
			ix->ndeferred--;
			return;
		}
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Whether a document's indexed version must be extracted again because
 * the language it would fall back to changed (the work package's
 * language, or index-language). A document indexed under a fallback
 * carries "+<code>" after its fingerprint, one with a language of its
 * own (declared or identified) "="; without a mark it had none at all,
 * or was indexed before the marks existed (then a language equal to
 * the server's may have been the fallback). */
static bool language_stale(const struct indexer *ix, const struct xap_existing *ex,
			   const char *fallback)
{
	const char *mark = ex->fingerprint ? strpbrk(ex->fingerprint, "+=") : NULL;
	const char *lang = ex->language ? ex->language : "";
	const char *server = ix->opts.fallback_lang ? ix->opts.fallback_lang : "";

	if (mark)
		return *mark == '+' && strcmp(mark + 1, fallback) != 0;
	if (!lang[0])
		return fallback[0] != '\0';
	return server[0] && !strcmp(lang, server) && strcmp(fallback, server) != 0;
}

/* Bring one document's entry in line with the store. */
/* The file the extraction helper reads: the blob file, or with the
 * blobs in an object store (docs/storage.md) a copy in DATA/tmp. */
static enum err blob_file(struct indexer *ix, const char *hash, char *path, size_t cap, bool *temp)
{
	*temp = false;
	if (ix->opts.cas && !strcmp(cas_store_kind(ix->opts.cas), "s3"))
		return cas_local_file(ix->opts.cas, hash, path, cap, temp);
	if (!ix->remote_checked) {
		struct blobback_config bc;

		ix->remote_checked = true;
		if (blobback_config_read(ix->opts.data_dir, &bc) == ERR_OK &&
		    !strcmp(bc.store, "s3") &&
		    cas_open(ix->opts.data_dir, 0, &ix->remote) != ERR_OK)
			ix->remote = NULL;
	}
	if (ix->remote)
		return cas_local_file(ix->remote, hash, path, cap, temp);
	snprintf(path, cap, "%s/blobs/%.2s/%.2s/%s", ix->opts.data_dir, hash, hash + 2, hash);
	return ERR_OK;
}

static enum err evaluate(struct indexer *ix, int64_t node_id, bool *changed)
{
	struct indexq_doc f;
	struct xap_existing ex;
	struct extract_result res = {0};
	struct xap_doc x;
	char fp[48], blob[PATH_MAX];
	const char *fallback, *mark;
	bool first, temp = false;
	enum err rc;

	*changed = false;
	rc = indexq_doc_facts(ix->db, node_id, &f);
	if (rc)
		return rc;
	rc = xap_writer_lookup(ix->xw, node_id, &ex);
	if (rc)
		goto out;
	if (!f.found || f.is_folder || f.trashed || !f.has_version) {
		if (ex.found) {
			rc = xap_writer_delete(ix->xw, node_id);
			if (rc)
				goto out;
			*changed = true;
			stat_add(ix, &ix->st.deleted);
		}
		rc = remember(ix, node_id, 0, true, NULL, NULL, NULL);
		goto out;
	}
	fingerprint(&f, fp);
	fallback = f.wp_language && f.wp_language[0] ? f.wp_language
		   : ix->opts.fallback_lang          ? ix->opts.fallback_lang
						     : "";
	doc_from_facts(&x, &f, fp);
	if (ex.found && ex.version == f.version && !language_stale(ix, &ex, fallback)) {
		/* keep the fallback mark: the text, so its language, stays */
		mark = strpbrk(ex.fingerprint, "+=");
		if (mark)
			snprintf(fp + 32, sizeof fp - 32, "%s", mark);
		if (strcmp(ex.fingerprint, fp) != 0) {
			rc = xap_writer_update_meta(ix->xw, &x);
			if (rc)
				goto out;
			*changed = true;
			stat_add(ix, &ix->st.meta_updates);
		} else {
			stat_add(ix, &ix->st.skipped);
		}
		rc = remember(ix, node_id, f.version, false, ex.index_status, ex.reason,
			      ex.language);
		goto out;
	}
	/* Content known to hold no text (a picture, an archive, bytes the
	 * server's libmagic found nothing in) is indexed by its facts
	 * alone: no copy, no helper. */
	if (extract_textless(f.mime, f.name ? f.name : "", (uint64_t)f.size)) {
		rc = extract_nothing(f.mime, &ix->opts.limits, &res);
		if (rc)
			goto out;
		goto extracted;
	}
	/* Small content lives in the database (storage/smallblob.h) and
	 * blobs may live in an object store: the helper, which opens a
	 * path, gets a private copy of either. */
	rc = smallblob_export(ix->db, ix->opts.data_dir, f.blob, blob, sizeof blob, &temp);
	if (!rc && !temp)
		rc = blob_file(ix, f.blob, blob, sizeof blob, &temp);
	if (rc)
		goto out;
	first = first_try_applies(ix);
	if (first)
		exworker_set_time(ix->exw, ix->opts.first_cpu_seconds, first_wall(ix));
	rc = exworker_extract(ix->exw, blob, f.name ? f.name : "", f.mime, &res);
	if (temp)
		unlink(blob);
	temp = false;
	if (first)
		exworker_set_time(ix->exw, ix->opts.limits.cpu_seconds,
				  ix->opts.limits.wall_seconds);
	if (rc)
		goto out;
	stat_add(ix, &ix->st.extracted);
	if (first && res.status == EXTRACT_FAILED && out_of_time(&res)) {
		rc = defer(ix, node_id);
		if (rc)
			goto out;
		ixlog(ix, INDEXER_INFO,
		      "node %lld (%s/%s) version %lld needs more than %u s: set aside for the "
		      "slow lane (%s)",
		      (long long)node_id, f.wp_code, f.path, (long long)f.version,
		      ix->opts.first_cpu_seconds, res.reason);
		goto out;
	}
extracted:
	if (res.status == EXTRACT_FAILED) {
		stat_add(ix, &ix->st.failed);
		ixlog(ix, INDEXER_WARN, "node %lld (%s/%s) version %lld: %s", (long long)node_id,
		      f.wp_code, f.path, (long long)f.version, res.reason);
	}
	x.title = res.title;
	x.author = res.author;
	/* A helper that crashed or hung said nothing, not even the type:
	 * the stored MIME type still knows it, so the document stays
	 * findable with type:pdf and counts under its type in facets. */
	x.type = res.type[0] ? res.type : extract_type_for(f.mime, f.name);
	if (!strcmp(x.type, "zip"))
		x.type = "other";
	if (res.mime[0])
		x.mime = res.mime;
	if (!res.lang[0] && fallback[0]) {
		snprintf(res.lang, sizeof res.lang, "%s", fallback);
		snprintf(fp + 32, sizeof fp - 32, "+%s", fallback);
	} else if (res.lang[0]) {
		snprintf(fp + 32, sizeof fp - 32, "=");
	}
	x.language = res.lang;
	x.created = res.created;
	x.pages = res.pages;
	x.index_status = extract_status_name(res.status);
	x.reason = res.reason;
	x.text = res.text;
	x.text_len = res.text_len;
	rc = xap_writer_put(ix->xw, &x);
	if (rc)
		goto out;
	*changed = true;
	ix->batch_bytes += res.text_len;
	rc = remember(ix, node_id, f.version, false, x.index_status, res.reason, res.lang);
out:
	if (temp)
		unlink(blob);
	extract_result_free(&res);
	xap_existing_clear(&ex);
	indexq_doc_clear(&f);
	return rc;
}

/* --- batches -------------------------------------------------------------------------- */

static void clear_pending(struct indexer *ix)
{
	for (size_t i = 0; i < ix->nps; i++)
		pstate_free(&ix->ps[i]);
	ix->nps = 0;
	ix->batch_bytes = 0;
	ix->batch_docs = 0;
}

static enum err reopen_writer(struct indexer *ix)
{
	char target[PATH_MAX];
	bool created;
	enum err rc;

	xap_writer_close(ix->xw);
	ix->xw = NULL;
	rc = ensure_index(ix->opts.data_dir, target, sizeof target, &created);
	if (rc)
		return rc;
	rc = xap_writer_open(target, &ix->xw);
	if (rc)
		return rc;
	snprintf(ix->target, sizeof ix->target, "%s", target);
	/* The count is known from the moment the index is open, not only
	 * after the first commit (consort_index_documents after a restart). */
	pthread_mutex_lock(&ix->mu);
	ix->st.doccount = xap_writer_doccount(ix->xw);
	pthread_mutex_unlock(&ix->mu);
	if (!created)
		return ERR_OK;
	/* A new, empty index: every document is to be done again, and until
	 * then none may claim to be indexed (the API shows index_state). */
	rc = db_begin(ix->db);
	if (rc)
		return rc;
	rc = indexq_state_clear(ix->db);
	if (!rc)
		rc = indexq_push_all(ix->db);
	if (!rc)
		rc = db_commit(ix->db);
	if (rc)
		db_rollback(ix->db);
	return rc;
}

/* Whether the link still names the generation our writer has open. */
static bool link_moved(struct indexer *ix)
{
	char now[PATH_MAX];

	if (ix->rebuild)
		return false;
	return !realpath(ix->link, now) || strcmp(now, ix->target) != 0;
}

/* Commit the Xapian side, then record the states and clear the queue
 * rows `rows` (ids), in one transaction. ERR_CONFLICT when
 * the index was switched under us: nothing was recorded, the writer now
 * points at the new generation, and the rows are done again. */
static enum err flush(struct indexer *ix, const int64_t *rows, size_t nrows)
{
	enum err rc;

	rc = xap_writer_commit(ix->xw);
	if (rc)
		return rc;
	rc = db_begin(ix->db);
	if (rc)
		return rc;
	/* Checked under the write lock that consort reindex also takes for
	 * its switch: either we see the new link, or the rebuild's last
	 * look at the store comes after this transaction. */
	if (link_moved(ix)) {
		db_rollback(ix->db);
		clear_pending(ix);
		ixlog(ix, INDEXER_INFO, "index switched to a new generation; reopening");
		rc = reopen_writer(ix);
		return rc ? rc : err_set(ERR_CONFLICT, "index switched");
	}
	for (size_t i = 0; i < ix->nps && !rc; i++) {
		struct pstate *p = &ix->ps[i];

		if (p->del)
			rc = indexq_state_delete(ix->db, p->node_id);
		else
			rc = indexq_state_put(ix->db,
					      &(struct indexq_state){.node_id = p->node_id,
								     .version = p->version,
								     .status = p->status,
								     .reason = p->reason,
								     .language = p->language});
	}
	if (!rc && nrows > 0 && !ix->rebuild)
		rc = indexq_finish_ids(ix->db, rows, nrows);
	if (!rc)
		rc = db_commit(ix->db);
	if (rc) {
		db_rollback(ix->db);
		return rc;
	}
	clear_pending(ix);
	pthread_mutex_lock(&ix->mu);
	ix->st.commits++;
	ix->st.doccount = xap_writer_doccount(ix->xw);
	pthread_mutex_unlock(&ix->mu);
	return ERR_OK;
}

static bool batch_full(struct indexer *ix)
{
	return ix->batch_docs >= ix->opts.batch_docs || ix->batch_bytes >= ix->opts.batch_bytes;
}

/* Evaluate a list of documents, committing (without clearing rows)
 * whenever the batch fills up. */
static enum err evaluate_many(struct indexer *ix, const int64_t *ids, size_t n, size_t *changed)
{
	enum err rc = ERR_OK;

	for (size_t i = 0; i < n && !rc; i++) {
		bool ch;

		rc = evaluate(ix, ids[i], &ch);
		ix->batch_docs++;
		if (ch && changed)
			(*changed)++;
		if (!rc && batch_full(ix) && i + 1 < n)
			rc = flush(ix, NULL, 0);
	}
	return rc;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* A queue row: a document, or a folder standing for what is below it
 * (in the store now, or in the index from before a move or purge). */
static enum err handle_node(struct indexer *ix, int64_t node_id)
{
	struct indexq_doc f;
	int64_t *a = NULL, *b = NULL, *all = NULL;
	size_t na = 0, nb = 0, n = 0;
	enum err rc;
	bool ch;

	rc = indexq_doc_facts(ix->db, node_id, &f);
	if (rc)
		return rc;
	if (f.found && !f.is_folder) {
		indexq_doc_clear(&f);
		ix->batch_docs++;
		return evaluate(ix, node_id, &ch);
	}
	/* A folder's row stands for many documents and is finished as one:
	 * none of them may be set aside, so all get the full limits. */
	ix->first_try = false;
	if (f.found)
		rc = indexq_documents_under(ix->db, node_id, &a, &na);
	indexq_doc_clear(&f);
	if (!rc)
		rc = xap_writer_under(ix->xw, node_id, &b, &nb);
	if (rc)
		goto out;
	all = malloc((na + nb + 1) * sizeof *all);
	if (!all) {
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	all[n++] = node_id; /* a purged document looks like a missing node */
	for (size_t i = 0; i < na; i++)
		all[n++] = a[i];
	for (size_t i = 0; i < nb; i++)
		all[n++] = b[i];
	qsort(all, n, sizeof *all, cmp_id);
	{
		size_t u = 0;

		for (size_t i = 0; i < n; i++)
			if (u == 0 || all[u - 1] != all[i])
				all[u++] = all[i];
		n = u;
	}
	rc = evaluate_many(ix, all, n, NULL);
out:
	free(a);
	free(b);
	free(all);
	return rc;
}

/* One batch from the queue, taken in fair turns (indexq_take_fair).
 * It commits after batch_docs documents, batch_bytes of text or
 * batch_ms of work, so that what is done shows up in search while slow
 * documents are still ahead. Documents whose first try runs out of
 * time are set aside with their rows; when nothing else waits, the
 * slow lane takes the oldest of them with the full limits. *rows is
 * how many rows were looked at. */
static enum err run_batch(struct indexer *ix, size_t *rows, size_t *docs)
{
	struct indexq_item *items;
	int64_t *finish = NULL, slow_node = 0;
	size_t n = 0, nfinish = 0, i;
	int64_t start = now_ms();
	bool careful;
	enum err rc;

	*rows = 0;
	items = calloc(ix->opts.batch_docs, sizeof *items);
	finish = calloc(ix->opts.batch_docs, sizeof *finish);
	if (!items || !finish) {
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = indexq_take_fair(ix->db, ix->opts.batch_docs, ix->deferred, ix->ndeferred, items, &n);
	while (!rc && n == 0 && ix->ndeferred > 0) {
		size_t k = 0;

		/* the slow lane: the oldest document set aside, alone */
		slow_node = ix->deferred[0];
		rc = indexq_take_fair(ix->db, ix->opts.batch_docs, NULL, 0, items, &n);
		for (size_t m = 0; m < n; m++)
			if (items[m].node_id == slow_node)
				items[k++] = items[m];
		n = k;
		if (n == 0)
			undefer(ix, slow_node); /* its rows are gone */
	}
	if (rc || n == 0)
		goto out;
	/* After a slow row the next batch is one row: whatever the fair
	 * order put next shows up in search before another slow one runs. */
	careful = ix->last_slow;
	ix->last_slow = false;
	clear_pending(ix);
	for (i = 0; i < n; i++) {
		int64_t row_start = now_ms();

		/* a node queued twice in a batch needs one look */
		bool dup = false;

		for (size_t j = 0; j < i && !dup; j++)
			dup = items[j].node_id == items[i].node_id;
		if (is_deferred(ix, items[i].node_id) && items[i].node_id != slow_node)
			continue; /* set aside in this batch: its rows stay */
		if (!dup) {
			size_t before = ix->batch_docs;

			ix->first_try = slow_node == 0;
			ix->deferred_now = false;
			rc = handle_node(ix, items[i].node_id);
			ix->first_try = false;
			if (rc)
				goto out;
			*docs += ix->batch_docs - before;
			if (ix->deferred_now) {
				ix->last_slow = true;
				if (careful || now_ms() - start >= (int64_t)ix->opts.batch_ms) {
					i++;
					break;
				}
				continue;
			}
		}
		finish[nfinish++] = items[i].id;
		if (now_ms() - row_start >= (int64_t)ix->opts.batch_ms)
			ix->last_slow = true;
		if (careful || batch_full(ix) || now_ms() - start >= (int64_t)ix->opts.batch_ms) {
			i++;
			break;
		}
	}
	rc = flush(ix, finish, nfinish);
	if (!rc) {
		*rows = i;
		if (slow_node)
			undefer(ix, slow_node);
	}
out:
	if (rc)
		clear_pending(ix);
	free(items);
	free(finish);
	return rc;
}

/* --- lifecycle ---------------------------------------------------------------------- */

static enum err open_common(const struct indexer_opts *opts, struct indexer **out)
{
	struct indexer *ix = calloc(1, sizeof *ix);
	char path[PATH_MAX];
	enum err rc;

	*out = NULL;
	if (!ix)
		return err_set(ERR_NOMEM, "out of memory");
	ix->opts = *opts;
	if (!ix->opts.batch_docs)
		ix->opts.batch_docs = 500;
	if (!ix->opts.batch_bytes)
		ix->opts.batch_bytes = 32u << 20;
	if (!ix->opts.poll_ms)
		ix->opts.poll_ms = 500;
	if (!ix->opts.batch_ms)
		ix->opts.batch_ms = 1000;
	pthread_mutex_init(&ix->mu, NULL);
	pthread_cond_init(&ix->cv, NULL);
	indexer_link_path(opts->data_dir, ix->link, sizeof ix->link);
	snprintf(path, sizeof path, "%s/consort.db", opts->data_dir);
	rc = db_open(path, &ix->db);
	if (!rc)
		rc = exworker_new(opts->helper_argv, &opts->limits, &ix->exw);
	if (rc) {
		indexer_close(ix);
		return rc;
	}
	*out = ix;
	return ERR_OK;
}

enum err indexer_open(const struct indexer_opts *opts, struct indexer **out)
{
	struct indexer *ix;
	enum err rc = open_common(opts, &ix);

	*out = NULL;
	if (rc)
		return rc;
	rc = reopen_writer(ix);
	if (rc) {
		indexer_close(ix);
		return rc;
	}
	remove_stale_generations(opts->data_dir, ix->target, NULL, opts->log);
	*out = ix;
	return ERR_OK;
}

enum err indexer_drain(struct indexer *ix, size_t max, size_t *docs)
{
	size_t batches = 0, rows, d = 0;
	enum err rc = ERR_OK;

	for (;;) {
		if (max && batches >= max)
			break;
		pthread_mutex_lock(&ix->mu);
		if (ix->stop) {
			pthread_mutex_unlock(&ix->mu);
			break;
		}
		pthread_mutex_unlock(&ix->mu);
		if (!ix->rebuild && link_moved(ix)) {
			rc = reopen_writer(ix);
			if (rc)
				break;
		}
		rc = run_batch(ix, &rows, &d);
		if (rc == ERR_CONFLICT && strcmp(err_detail(), "index switched") == 0) {
			rc = ERR_OK;
			continue;
		}
		if (rc || rows == 0)
			break;
		batches++;
	}
	if (docs)
		*docs = d;
	return rc;
}

static void *thread_main(void *arg)
{
	struct indexer *ix = arg;
	unsigned backoff = 0;

	for (;;) {
		size_t docs = 0;
		enum err rc;
		struct timespec until;
		unsigned wait_ms;
		bool gap = false;

		rc = indexer_drain(ix, 1, &docs);
		pthread_mutex_lock(&ix->mu);
		if (ix->stop) {
			pthread_mutex_unlock(&ix->mu);
			break;
		}
		pthread_mutex_unlock(&ix->mu);
		if (rc) {
			ixlog(ix, INDEXER_ERROR, "indexing: %s", err_detail());
			backoff = backoff ? (backoff * 2 > 30000 ? 30000 : backoff * 2) : 1000;
		} else {
			backoff = 0;
			if (docs) {
				/* Changes that came while this batch ran keep coming
				 * (a burst of uploads): let them gather for the gap.
				 * A lone change (a rename) is indexed at once. */
				pthread_mutex_lock(&ix->mu);
				gap = ix->kicked && ix->opts.gap_ms && docs < ix->opts.batch_docs;
				pthread_mutex_unlock(&ix->mu);
				if (!gap)
					continue;
			}
		}
		/* The gap runs out whatever the kicks; idle, a kick ends the
		 * wait at once. */
		wait_ms = backoff ? backoff : gap ? ix->opts.gap_ms : ix->opts.poll_ms;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += wait_ms / 1000;
		until.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&ix->mu);
		while (!ix->stop && (gap || !ix->kicked))
			if (pthread_cond_timedwait(&ix->cv, &ix->mu, &until) != 0)
				break;
		ix->kicked = false;
		pthread_mutex_unlock(&ix->mu);
	}
	return NULL;
}

enum err indexer_start(struct indexer *ix)
{
	if (pthread_create(&ix->thread, NULL, thread_main, ix) != 0)
		return err_set(ERR_INTERNAL, "cannot start the indexer thread");
	ix->running = true;
	return ERR_OK;
}

void indexer_kick(struct indexer *ix)
{
	if (!ix)
		return;
	pthread_mutex_lock(&ix->mu);
	ix->kicked = true;
	pthread_cond_signal(&ix->cv);
	pthread_mutex_unlock(&ix->mu);
}

void indexer_stop(struct indexer *ix)
{
	if (!ix || !ix->running)
		return;
	pthread_mutex_lock(&ix->mu);
	ix->stop = true;
	pthread_cond_signal(&ix->cv);
	pthread_mutex_unlock(&ix->mu);
	exworker_interrupt(ix->exw);
	pthread_join(ix->thread, NULL);
	ix->running = false;
}

void indexer_close(struct indexer *ix)
{
	if (!ix)
		return;
	indexer_stop(ix);
	clear_pending(ix);
	free(ix->ps);
	free(ix->deferred);
	xap_writer_close(ix->xw);
	exworker_free(ix->exw);
	cas_close(ix->remote);
	db_close(ix->db);
	pthread_cond_destroy(&ix->cv);
	pthread_mutex_destroy(&ix->mu);
	free(ix);
}

void indexer_stats(struct indexer *ix, struct indexer_stats *out)
{
	pthread_mutex_lock(&ix->mu);
	*out = ix->st;
	pthread_mutex_unlock(&ix->mu);
}

/* --- rebuild ---------------------------------------------------------------------------- */

/* Every node that the store or the new index knows, sorted, unique. */
static enum err rebuild_ids(struct indexer *ix, int64_t **ids, size_t *n)
{
	int64_t *a = NULL, *b = NULL, *all;
	size_t na = 0, nb = 0, k = 0;
	enum err rc;

	*ids = NULL;
	*n = 0;
	rc = indexq_all_documents(ix->db, &a, &na);
	if (!rc)
		rc = xap_writer_under(ix->xw, -1, &b, &nb);
	if (rc)
		goto out;
	all = malloc((na + nb + 1) * sizeof *all);
	if (!all) {
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	if (na)
		memcpy(all, a, na * sizeof *a);
	if (nb)
		memcpy(all + na, b, nb * sizeof *b);
	qsort(all, na + nb, sizeof *all, cmp_id);
	for (size_t i = 0; i < na + nb; i++)
		if (k == 0 || all[k - 1] != all[i])
			all[k++] = all[i];
	*ids = all;
	*n = k;
out:
	free(a);
	free(b);
	return rc;
}

enum err indexer_rebuild(const struct indexer_opts *opts, struct indexer_stats *stats)
{
	struct indexer *ix = NULL;
	char old[PATH_MAX] = "", dir[PATH_MAX], base[128];
	int64_t *ids = NULL;
	size_t n = 0, changed;
	bool created, locked = false, switched = false;
	enum err rc;

	rc = open_common(opts, &ix);
	if (rc)
		return rc;
	ix->rebuild = true;
	rc = db_migrate(ix->db);
	if (!rc)
		rc = ensure_index(opts->data_dir, old, sizeof old, &created);
	if (!rc) {
		remove_stale_generations(opts->data_dir, old, NULL, opts->log);
		rc = new_generation(opts->data_dir, dir, sizeof dir, base, sizeof base);
	}
	if (rc)
		goto out;
	rc = xap_writer_open(dir, &ix->xw);
	if (rc)
		goto out;
	snprintf(ix->target, sizeof ix->target, "%s", dir);
	ixlog(ix, INDEXER_INFO, "rebuilding the index in %s", dir);

	/* Everything once, then passes that catch up with what changed in
	 * the store meanwhile, until a pass finds (almost) nothing. */
	for (int pass = 0; pass < 5; pass++) {
		free(ids);
		rc = rebuild_ids(ix, &ids, &n);
		if (rc)
			goto out;
		changed = 0;
		rc = evaluate_many(ix, ids, n, &changed);
		if (!rc)
			rc = flush(ix, NULL, 0);
		if (rc)
			goto out;
		ixlog(ix, INDEXER_INFO, "pass %d: %zu documents, %zu changed", pass + 1, n,
		      changed);
		if (pass > 0 && changed < 10)
			break;
	}
	/* The last look and the switch happen under the store's write lock,
	 * so no change can slip between them (see flush in the server). */
	rc = db_begin(ix->db);
	if (rc)
		goto out;
	locked = true;
	/* one batch: flush() would begin a transaction inside this one */
	ix->opts.batch_docs = SIZE_MAX;
	ix->opts.batch_bytes = UINT64_MAX;
	free(ids);
	rc = rebuild_ids(ix, &ids, &n);
	if (!rc)
		rc = evaluate_many(ix, ids, n, NULL);
	if (!rc)
		rc = xap_writer_commit(ix->xw);
	if (rc)
		goto out;
	for (size_t i = 0; i < ix->nps && !rc; i++) {
		struct pstate *p = &ix->ps[i];

		rc = p->del ? indexq_state_delete(ix->db, p->node_id)
			    : indexq_state_put(ix->db,
					       &(struct indexq_state){.node_id = p->node_id,
								      .version = p->version,
								      .status = p->status,
								      .reason = p->reason,
								      .language = p->language});
	}
	clear_pending(ix);
	if (rc)
		goto out;
	xap_writer_close(ix->xw);
	ix->xw = NULL;
	rc = switch_link(opts->data_dir, base);
	if (rc)
		goto out;
	switched = true;
	rc = db_commit(ix->db);
	locked = false;
	if (rc)
		goto out;
	ixlog(ix, INDEXER_INFO, "index switched to %s", base);
	if (old[0] && strcmp(old, dir) != 0)
		remove_dir(old);
out:
	if (locked)
		db_rollback(ix->db);
	if (rc && !switched && ix->target[0] && strcmp(ix->target, old) != 0) {
		xap_writer_close(ix->xw);
		ix->xw = NULL;
		remove_dir(ix->target);
	}
	if (stats && ix)
		indexer_stats(ix, stats);
	free(ids);
	indexer_close(ix);
	return rc;
}
