/* maint — see maint.h. */
#include "maint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "blobback.h"
#include "cas.h"
#include "smallblob.h"
#include "db_internal.h"
#include "digest.h"
#include "migrations.h"
#include "name.h"
#include "previews.h"
#include "tree.h"
#include "uploads.h"

#define GC_BATCH 256
#define COPY_CHUNK (1u << 20)

/* ---- shared ---- */

static enum err db_path(const char *data_dir, char *buf, size_t cap)
{
	struct stat st;

	if ((size_t)snprintf(buf, cap, "%s/consort.db", data_dir) >= cap)
		return err_set(ERR_INVALID, "data directory path too long");
	if (stat(buf, &st) != 0)
		return err_set(ERR_NOTFOUND, "%s does not exist (is --data the right directory?)",
			       buf);
	return ERR_OK;
}

static enum err open_store(const char *data_dir, bool migrate, struct db **db, struct cas **cas)
{
	char path[4096];
	enum err rc;

	*db = NULL;
	*cas = NULL;
	rc = db_path(data_dir, path, sizeof path);
	if (!rc)
		rc = db_open(path, db);
	if (!rc && migrate)
		rc = db_migrate(*db);
	if (!rc && !migrate && db_schema_version(*db) != (int)db_migration_count)
		rc = err_set(ERR_INVALID,
			     "database schema is version %d, this program's is %zu; "
			     "start `consort serve` once to migrate it",
			     db_schema_version(*db), db_migration_count);
	if (!rc)
		rc = cas_open(data_dir, CAS_OPEN_CREATE, cas);
	if (rc) {
		db_close(*db);
		*db = NULL;
	}
	return rc;
}

/* The gc/backup lock: LOCK_EX for gc (fails at once when held), LOCK_SH
 * for backup (waits for a running gc). */
static enum err take_lock(const char *data_dir, int how, int *fd_out)
{
	char path[4096];
	int fd;

	*fd_out = -1;
	snprintf(path, sizeof path, "%s/gc.lock", data_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_from_errno(errno, path);
	while (flock(fd, how) != 0) {
		int e = errno;

		if (e == EINTR)
			continue;
		close(fd);
		if (e == EWOULDBLOCK)
			return err_set(ERR_LOCKED,
				       "a backup, fsck or another gc is running on %s; "
				       "try again when it has finished",
				       data_dir);
		return err_from_errno(e, path);
	}
	*fd_out = fd;
	return ERR_OK;
}

static void release_lock(int fd)
{
	if (fd >= 0)
		close(fd); /* drops the flock */
}

/* Is `rel` ("ab/cd/<hash>") a well-placed blob name? Copies the hash. */
static bool blob_name(const char *rel, const char *name, char hash[DIGEST_SHA256_HEX_LEN + 1])
{
	if (!cas_hash_valid(name) || strlen(rel) != 6 + DIGEST_SHA256_HEX_LEN)
		return false;
	if (rel[0] != name[0] || rel[1] != name[1] || rel[2] != '/' || rel[3] != name[2] ||
	    rel[4] != name[3] || rel[5] != '/')
		return false;
	memcpy(hash, name, DIGEST_SHA256_HEX_LEN + 1);
	return true;
}

static enum err is_referenced(struct db *db, const char *hash, bool *yes)
{
	static const char sql[] = "SELECT EXISTS (SELECT 1 FROM versions WHERE blob = ?1)";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	if (rc)
		return rc;
	db_bind_text(db, st, 1, hash);
	rc = db_step(db, st, "look up blob references", &row);
	if (!rc)
		*yes = row && sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return rc;
}

/* Whether the database has the small-content tier (a backup of an
 * older schema has not). */
static bool has_small_blobs(struct db *db)
{
	static const char sql[] =
		"SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'small_blobs'";
	sqlite3_stmt *st;
	bool row = false;

	if (db_stmt(db, sql, &st))
		return false;
	if (db_step(db, st, "look for the small-content table", &row))
		row = false;
	sqlite3_reset(st);
	return row;
}

/* ---- gc ---- */

struct gc_ctx {
	struct db *db;
	struct cas *cas;
	int64_t cutoff; /* blobs last changed before this may go */
	struct maint_gc_stats *stats;
	char (*batch)[DIGEST_SHA256_HEX_LEN + 1];
	uint64_t sizes[GC_BATCH];
	size_t n;
};

/* Delete the unreferenced, unheld blobs of the batch. The check and
 * the unlink share one write transaction, so no upload can commit a
 * reference in between; an upload about to reference a blob holds it
 * (cas_writer_store) from before its transaction until after it, and
 * cas_remove leaves a held blob alone. */
static enum err gc_sweep(struct gc_ctx *g)
{
	enum err rc;

	if (g->n == 0)
		return ERR_OK;
	rc = db_begin(g->db);
	for (size_t i = 0; !rc && i < g->n; i++) {
		bool used = true;

		rc = is_referenced(g->db, g->batch[i], &used);
		if (!rc && !used) {
			rc = cas_remove(g->cas, g->batch[i]);
			if (!rc) {
				g->stats->deleted++;
				g->stats->bytes_freed += g->sizes[i];
			} else if (rc == ERR_LOCKED) {
				rc = ERR_OK; /* an upload is about to use it */
			}
		}
	}
	if (!rc)
		rc = db_commit(g->db);
	if (rc)
		db_rollback(g->db);
	g->n = 0;
	return rc;
}

static enum err gc_visit(void *ctx, const char *rel, const char *name, const struct stat *st)
{
	struct gc_ctx *g = ctx;
	char hash[DIGEST_SHA256_HEX_LEN + 1];

	/* Anything that is not a well-placed blob is fsck's to report, never
	 * gc's to delete. */
	if (!S_ISREG(st->st_mode) || !blob_name(rel, name, hash))
		return ERR_OK;
	g->stats->blobs++;
	if ((int64_t)st->st_mtime > g->cutoff)
		return ERR_OK; /* within the grace period */
	memcpy(g->batch[g->n], hash, sizeof hash);
	g->sizes[g->n] = (uint64_t)st->st_size;
	if (++g->n == GC_BATCH)
		return gc_sweep(g);
	return ERR_OK;
}

/* The work packages' retention rules, applied by gc: a rule with days in
 * it removes versions as they age, not only when a new one comes (the
 * upload's record says what that removed). Each work package that loses
 * versions gets an audit record, committed with the removal. */
static enum err audit_retention(struct db *db, int64_t wp_id, uint64_t versions, void *arg)
{
	static const char sql[] = "SELECT code FROM wps WHERE id = ?1";
	char detail[96];
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	(void)arg;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, wp_id);
	rc = db_step(db, st, "look up a work package", &row);
	snprintf(detail, sizeof detail, "%" PRIu64 " old version%s removed (gc)", versions,
		 versions == 1 ? "" : "s");
	if (!rc)
		rc = audit_append(db, 0, "(gc)", "", "retention", wp_id,
				  row ? (const char *)sqlite3_column_text(st, 0) : "", detail);
	sqlite3_reset(st);
	return rc;
}

enum err maint_gc(const char *data_dir, int64_t grace, struct maint_gc_stats *out)
{
	struct gc_ctx g = {0};
	struct db *db = NULL;
	struct cas *cas = NULL;
	int lock = -1;
	enum err rc;

	memset(out, 0, sizeof *out);
	if (grace < 0)
		return err_set(ERR_INVALID, "grace period must not be negative");
	rc = take_lock(data_dir, LOCK_EX | LOCK_NB, &lock);
	if (rc)
		return rc;
	rc = open_store(data_dir, true, &db, &cas);
	if (rc)
		goto out;
	rc = tree_retention_apply(db, 0, audit_retention, NULL, &out->pruned);
	if (rc)
		goto out;

	g.db = db;
	g.cas = cas;
	g.cutoff = db_now() - grace;
	g.stats = out;
	g.batch = calloc(GC_BATCH, sizeof *g.batch);
	if (!g.batch) {
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = cas_walk(cas, gc_visit, &g);
	if (!rc)
		rc = gc_sweep(&g);
	/* The small-content tier needs no grace period: its content and
	 * reference commit together (smallblob.h). */
	if (!rc && has_small_blobs(db))
		rc = smallblob_gc(db, &out->deleted, &out->bytes_freed);
	if (!rc)
		rc = cas_clean_tmp(cas, grace, &out->temps_removed);
	if (!rc)
		rc = previews_prune(data_dir, db, cas, &out->previews_removed);
	if (!rc) {
		char dir[PATH_MAX];

		snprintf(dir, sizeof dir, "%s/uploads", data_dir);
		if (access(dir, F_OK) == 0)
			rc = uploads_sweep(db, dir, db_now(), grace, &out->uploads_expired);
	}
out:
	free(g.batch);
	cas_close(cas);
	db_close(db);
	release_lock(lock);
	return rc;
}

/* ---- fsck ---- */

struct fsck_ctx {
	struct db *db;
	struct cas *cas;
	bool rehash;
	uint64_t sample; /* re-hash a blob when the next draw is below this */
	uint64_t draw;   /* xorshift64 state */
	bool small;      /* the database has the small-content tier */
	maint_report_fn report;
	void *rctx;
	struct maint_fsck_stats *stats;
	unsigned char *buf;
};

static void problem(struct fsck_ctx *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct fsck_ctx *f, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	f->stats->problems++;
	if (f->report)
		f->report(f->rctx, line);
}

/* SHA-256 of a blob in an object store, read through the cas reader. */
static enum err hash_remote(struct cas *cas, const char *hash, unsigned char *buf,
			    char hex[DIGEST_SHA256_HEX_LEN + 1], uint64_t *bytes)
{
	unsigned char md[DIGEST_SHA256_LEN];
	struct digest *d = digest_new(DIGEST_SHA256);
	struct cas_reader *r = NULL;
	uint64_t off = 0;
	enum err rc;

	if (!d)
		return err_set(ERR_NOMEM, "out of memory");
	rc = cas_reader_open(cas, hash, &r);
	while (!rc && off < cas_reader_size(r)) {
		size_t got = 0;

		rc = cas_reader_read(r, off, buf, COPY_CHUNK, &got);
		if (!rc && got == 0)
			break;
		digest_update(d, buf, got);
		off += got;
		*bytes += got;
	}
	cas_reader_close(r);
	if (!rc) {
		digest_final(d, md);
		digest_hex(md, sizeof md, hex);
	}
	digest_free(d);
	return rc;
}

/* Copy DATA/blob-store from src_root to dst_root when it names an
 * object store: the blobs stay in the bucket (docs/storage.md). True
 * in *remote then. */
static enum err copy_store_config(const char *src_root, const char *dst_root, bool *remote)
{
	struct blobback_config bc;
	enum err rc = blobback_config_read(src_root, &bc);

	*remote = false;
	if (rc || strcmp(bc.store, "s3"))
		return rc;
	*remote = true;
	return blobback_config_write(dst_root, &bc);
}

/* SHA-256 of a blob file. */
static enum err hash_file(int dirfd, const char *rel, unsigned char *buf,
			  char hex[DIGEST_SHA256_HEX_LEN + 1], uint64_t *bytes)
{
	unsigned char md[DIGEST_SHA256_LEN];
	struct digest *d = digest_new(DIGEST_SHA256);
	int fd = openat(dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	enum err rc = ERR_OK;
	ssize_t k;

	if (!d) {
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	if (fd < 0) {
		rc = err_from_errno(errno, rel);
		goto out;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	while ((k = read(fd, buf, COPY_CHUNK)) != 0) {
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			rc = err_from_errno(errno, rel);
			goto out;
		}
		digest_update(d, buf, (size_t)k);
		*bytes += (uint64_t)k;
	}
	digest_final(d, md);
	digest_hex(md, sizeof md, hex);
out:
	if (fd >= 0)
		close(fd);
	digest_free(d);
	return rc;
}

/* Whether this blob is in the re-hash sample. */
static bool sampled(struct fsck_ctx *f)
{
	if (f->sample == UINT64_MAX)
		return true;
	f->draw ^= f->draw << 13;
	f->draw ^= f->draw >> 7;
	f->draw ^= f->draw << 17;
	return f->draw < f->sample;
}

static enum err fsck_visit(void *ctx, const char *rel, const char *name, const struct stat *st)
{
	struct fsck_ctx *f = ctx;
	char hash[DIGEST_SHA256_HEX_LEN + 1], got[DIGEST_SHA256_HEX_LEN + 1];
	bool used = false;
	enum err rc;

	if (!S_ISREG(st->st_mode) || !blob_name(rel, name, hash)) {
		problem(f, "blobs/%s: unexpected %s in the blob store", rel,
			S_ISDIR(st->st_mode) ? "directory" : "file");
		return ERR_OK;
	}
	f->stats->blobs++;
	if (st->st_mode & 0222)
		problem(f, "blob %s is writable (mode %04o); blobs must be read-only", hash,
			(unsigned)(st->st_mode & 07777));
	if (f->rehash && sampled(f)) {
		f->stats->rehashed++;
		rc = strcmp(cas_store_kind(f->cas), "local")
			     ? hash_remote(f->cas, hash, f->buf, got, &f->stats->bytes)
			     : hash_file(cas_blobs_fd(f->cas), rel, f->buf, got, &f->stats->bytes);
		if (rc)
			problem(f, "blob %s cannot be read: %s", hash, err_detail());
		else if (strcmp(got, hash) != 0)
			problem(f, "corrupt blob %s: its content hashes to %s", hash, got);
	}
	rc = is_referenced(f->db, hash, &used);
	if (rc)
		return rc;
	if (!used)
		f->stats->unreferenced++;
	return ERR_OK;
}

struct blob_issue {
	char hash[DIGEST_SHA256_HEX_LEN + 1];
	int64_t want, have; /* have -1: missing */
	int64_t refs;
};

/* Where a blob is used, for a report line: "WP1 'a/b.pdf' version 3". */
static void first_use(struct db *db, const char *hash, char *buf, size_t cap)
{
	static const char sql[] = "SELECT w.code, v.node_id, v.number FROM versions v"
				  " JOIN nodes n ON n.id = v.node_id JOIN wps w ON w.id = n.wp_id"
				  " WHERE v.blob = ?1 ORDER BY v.id LIMIT 1";
	sqlite3_stmt *st;
	char *path = NULL;
	char code[64] = "?";
	int64_t node = 0, number = 0;
	bool row;

	snprintf(buf, cap, "an unknown version");
	if (db_stmt(db, sql, &st))
		return;
	db_bind_text(db, st, 1, hash);
	if (!db_step(db, st, "find a blob's first use", &row) && row) {
		snprintf(code, sizeof code, "%s", (const char *)sqlite3_column_text(st, 0));
		node = sqlite3_column_int64(st, 1);
		number = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	if (!node)
		return;
	if (tree_path(db, node, &path) == ERR_OK)
		snprintf(buf, cap, "%s '%s' version %" PRId64, code, path, number);
	else
		snprintf(buf, cap, "%s node %" PRId64 " version %" PRId64, code, node, number);
	free(path);
}

static enum err fsck_references(struct fsck_ctx *f)
{
	static const char sql[] = "SELECT blob, min(size), max(size), count(*) FROM versions"
				  " GROUP BY blob";
	struct blob_issue *issues = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st;
	char where[600];
	enum err rc;
	bool row;

	rc = db_stmt(f->db, sql, &st);
	if (rc)
		return rc;
	/* Collect first, report after: the reports run their own queries. */
	while (!rc && !(rc = db_step(f->db, st, "read versions", &row)) && row) {
		const char *hash = (const char *)sqlite3_column_text(st, 0);
		int64_t lo = sqlite3_column_int64(st, 1), hi = sqlite3_column_int64(st, 2);
		uint64_t size = 0;
		struct blob_issue *issue;
		enum err e;
		int64_t have;

		f->stats->versions += (uint64_t)sqlite3_column_int64(st, 3);
		if (!hash || !cas_hash_valid(hash)) {
			have = -2;
		} else {
			e = f->small ? smallblob_stat(f->db, hash, &size) : ERR_NOTFOUND;
			if (e == ERR_NOTFOUND)
				e = cas_stat(f->cas, hash, &size);
			have = e == ERR_OK ? (int64_t)size : -1;
			if (e && e != ERR_NOTFOUND)
				have = -3;
		}
		if (have >= 0 && lo == hi && lo == have)
			continue;
		issue = db_grow((void **)&issues, &n, &cap, sizeof *issues, &rc);
		if (!issue)
			break;
		snprintf(issue->hash, sizeof issue->hash, "%s", hash ? hash : "");
		issue->want = lo != hi ? -1 : lo;
		issue->have = have;
		issue->refs = sqlite3_column_int64(st, 3);
	}
	sqlite3_reset(st);
	for (size_t i = 0; !rc && i < n; i++) {
		struct blob_issue *b = &issues[i];

		first_use(f->db, b->hash, where, sizeof where);
		if (b->have == -2)
			problem(f, "dangling reference: %s names a malformed blob '%.70s'", where,
				b->hash);
		else if (b->have == -1)
			problem(f, "missing blob %s, referenced by %" PRId64 " version(s), e.g. %s",
				b->hash, b->refs, where);
		else if (b->have == -3)
			problem(f, "blob %s cannot be examined (referenced by %s)", b->hash, where);
		else if (b->want < 0)
			problem(f, "versions disagree on the size of blob %s (e.g. %s)", b->hash,
				where);
		else
			problem(f, "blob %s is %" PRId64 " bytes but %s says %" PRId64, b->hash,
				b->have, where, b->want);
	}
	free(issues);
	return rc;
}

/* Run a query whose every row is a problem; `fmt` gets the first two
 * columns as text. */
static enum err fsck_query(struct fsck_ctx *f, const char *sql, const char *fmt)
{
	sqlite3_stmt *st;
	enum err rc = db_stmt(f->db, sql, &st);
	bool row;

	if (rc)
		return rc;
	while (!(rc = db_step(f->db, st, "check database", &row)) && row) {
		const char *a = (const char *)sqlite3_column_text(st, 0);
		const char *b = (const char *)sqlite3_column_text(st, 1);

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		problem(f, fmt, a ? a : "", b ? b : "");
#pragma GCC diagnostic pop
	}
	sqlite3_reset(st);
	return rc;
}

/* Siblings whose names look the same (name.h's look-alike key): stored
 * before the check existed (migration m002 computed their keys) or
 * written around it. Reported, never changed: which one to rename is a
 * person's choice. */
static enum err fsck_look_alikes(struct fsck_ctx *f)
{
	static const char sql[] =
		"SELECT a.id, a.name, b.id, b.name FROM nodes a JOIN nodes b"
		" ON b.parent_id = a.parent_id AND b.look_key = a.look_key AND b.id > a.id"
		" WHERE a.trashed_at IS NULL AND b.trashed_at IS NULL AND a.parent_id IS NOT NULL";
	sqlite3_stmt *st;
	enum err rc = db_stmt(f->db, sql, &st);
	bool row;

	if (rc)
		return rc;
	while (!(rc = db_step(f->db, st, "check look-alike names", &row)) && row)
		problem(f,
			"nodes %" PRId64 " '%s' and %" PRId64
			" '%s' are in the same folder and look the same; rename one",
			(int64_t)sqlite3_column_int64(st, 0),
			(const char *)sqlite3_column_text(st, 1),
			(int64_t)sqlite3_column_int64(st, 2),
			(const char *)sqlite3_column_text(st, 3));
	sqlite3_reset(st);
	return rc;
}

static enum err fsck_names(struct fsck_ctx *f)
{
	static const char sql[] =
		"SELECT id, name, name_key FROM nodes WHERE parent_id IS NOT NULL";
	sqlite3_stmt *st;
	enum err rc = db_stmt(f->db, sql, &st);
	bool row;

	if (rc)
		return rc;
	while (!(rc = db_step(f->db, st, "check names", &row)) && row) {
		int64_t id = sqlite3_column_int64(st, 0);
		const char *name = (const char *)sqlite3_column_blob(st, 1);
		int len = sqlite3_column_bytes(st, 1);
		const char *key = (const char *)sqlite3_column_text(st, 2);
		char *nfc = NULL, *k = NULL;

		if (!name) {
			problem(f, "node %" PRId64 " has no name", id);
			continue;
		}
		if (name_check(name, (size_t)len, &nfc, &k) != ERR_OK)
			problem(f, "node %" PRId64 " breaks the name rules: %s", id, err_detail());
		else if (strcmp(nfc, name) != 0)
			problem(f, "node %" PRId64 " has a name that is not NFC", id);
		else if (!key || strcmp(k, key) != 0)
			problem(f, "node %" PRId64 " '%s' has a wrong name key", id, name);
		free(nfc);
		free(k);
	}
	sqlite3_reset(st);
	return rc;
}

static enum err fsck_database(struct fsck_ctx *f)
{
	static const char integrity[] = "PRAGMA integrity_check";
	static const char fk[] =
		"SELECT \"table\" || ' row ' || rowid, parent FROM pragma_foreign_key_check";
	static const char no_current[] =
		"SELECT n.id, coalesce(n.current_version, 'none') FROM nodes n"
		" WHERE n.is_folder = 0 AND NOT EXISTS (SELECT 1 FROM versions v"
		"  WHERE v.node_id = n.id AND v.number = n.current_version)";
	static const char folder_versions[] =
		"SELECT DISTINCT n.id, n.name FROM versions v JOIN nodes n ON n.id = v.node_id"
		" WHERE n.is_folder = 1";
	static const char bad_parent[] =
		"SELECT n.id, n.parent_id FROM nodes n LEFT JOIN nodes p ON p.id = n.parent_id"
		" WHERE n.parent_id IS NOT NULL"
		"  AND (p.id IS NULL OR p.wp_id <> n.wp_id OR p.is_folder = 0)";
	static const char stray_root[] =
		"SELECT n.id, n.wp_id FROM nodes n WHERE n.parent_id IS NULL"
		" AND NOT EXISTS (SELECT 1 FROM wps w WHERE w.root_id = n.id AND w.id = n.wp_id)";
	static const char bad_root[] =
		"SELECT w.code, coalesce(w.root_id, 'none') FROM wps w LEFT JOIN nodes n ON n.id = w.root_id"
		" WHERE n.id IS NULL OR n.parent_id IS NOT NULL OR n.is_folder = 0 OR n.wp_id <> w.id";
	static const char unreachable[] =
		"WITH RECURSIVE reach(id) AS (SELECT root_id FROM wps WHERE root_id IS NOT NULL"
		" UNION SELECT n.id FROM nodes n JOIN reach ON n.parent_id = reach.id)"
		" SELECT id, name FROM nodes WHERE id NOT IN (SELECT id FROM reach)";
	static const char usage[] =
		"SELECT w.code, coalesce(u.bytes, 0) || ' bytes, its versions sum to ' ||"
		" coalesce(s.total, 0) FROM wps w LEFT JOIN wp_usage u ON u.wp_id = w.id"
		" LEFT JOIN (SELECT n.wp_id, sum(v.size) AS total FROM versions v"
		"  JOIN nodes n ON n.id = v.node_id GROUP BY n.wp_id) s ON s.wp_id = w.id"
		" WHERE coalesce(u.bytes, 0) <> coalesce(s.total, 0)";
	sqlite3_stmt *st;
	enum err rc;
	bool row;

	rc = db_stmt(f->db, integrity, &st);
	if (rc)
		return rc;
	while (!(rc = db_step(f->db, st, "check database integrity", &row)) && row) {
		const char *msg = (const char *)sqlite3_column_text(st, 0);

		if (msg && strcmp(msg, "ok") != 0)
			problem(f, "database: %s", msg);
	}
	sqlite3_reset(st);
	if (rc)
		return rc;
	rc = fsck_query(f, fk, "database: foreign key violation in %s (no %s row it refers to)");
	if (!rc)
		rc = fsck_query(f, no_current,
				"dangling reference: document node %s names current version %s, "
				"which does not exist");
	if (!rc)
		rc = fsck_query(f, folder_versions, "folder node %s ('%s') has versions");
	if (!rc)
		rc = fsck_query(f, bad_parent,
				"node %s has parent %s, which is missing, a document, or in "
				"another work package");
	if (!rc)
		rc = fsck_query(f, stray_root,
				"node %s has no parent but is not the root of its work package %s");
	if (!rc)
		rc = fsck_query(f, bad_root, "work package %s has a bad root folder (node %s)");
	if (!rc)
		rc = fsck_query(f, unreachable,
				"node %s ('%s') cannot be reached from any work package root");
	if (!rc)
		rc = fsck_query(f, usage, "quota counter of work package %s says %s");
	if (!rc)
		rc = fsck_names(f);
	if (!rc)
		rc = fsck_look_alikes(f);
	return rc;
}

/* A row of the small-content tier: its content against its name. */
static enum err fsck_small(void *ctx, const char *hash, const unsigned char *data, size_t len)
{
	struct fsck_ctx *f = ctx;
	unsigned char md[DIGEST_SHA256_LEN];
	char got[DIGEST_SHA256_HEX_LEN + 1];
	bool used = false;
	enum err rc;

	f->stats->blobs++;
	if (!cas_hash_valid(hash)) {
		problem(f, "small content '%.70s' in the database is not well named", hash);
		return ERR_OK;
	}
	if (len > SMALLBLOB_MAX)
		problem(f, "small content %s is %zu bytes, over the tier's %d", hash, len,
			SMALLBLOB_MAX);
	if (f->rehash) {
		f->stats->rehashed++;
		digest_sha256(data ? data : (const unsigned char *)"", len, md);
		digest_hex(md, sizeof md, got);
		f->stats->bytes += len;
		if (strcmp(got, hash) != 0)
			problem(f, "corrupt small content %s: it hashes to %s", hash, got);
	}
	rc = is_referenced(f->db, hash, &used);
	if (rc)
		return rc;
	if (!used)
		f->stats->unreferenced++;
	return ERR_OK;
}

static enum err fsck_store(struct db *db, struct cas *cas, double percent, maint_report_fn fn,
			   void *ctx, struct maint_fsck_stats *out)
{
	struct fsck_ctx f = {.db = db,
			     .cas = cas,
			     .rehash = percent > 0,
			     .report = fn,
			     .rctx = ctx,
			     .stats = out};
	enum err rc;

	f.sample = percent >= 100 ? UINT64_MAX : (uint64_t)(percent / 100 * 18446744073709551615.0);
	if (getentropy(&f.draw, sizeof f.draw) != 0 || f.draw == 0)
		f.draw = (uint64_t)time(NULL) * 2654435761u + (uint64_t)getpid() + 1;
	f.small = has_small_blobs(db);
	f.buf = malloc(COPY_CHUNK);
	if (!f.buf)
		return err_set(ERR_NOMEM, "out of memory");
	rc = fsck_database(&f);
	if (!rc)
		rc = fsck_references(&f);
	if (!rc)
		rc = cas_walk(cas, fsck_visit, &f);
	if (!rc && f.small)
		rc = smallblob_walk(db, f.rehash, fsck_small, &f);
	free(f.buf);
	return rc;
}

enum err maint_fsck(const char *data_dir, bool rehash, maint_report_fn fn, void *ctx,
		    struct maint_fsck_stats *out)
{
	return maint_fsck_sampled(data_dir, rehash ? 100 : 0, fn, ctx, out);
}

enum err maint_fsck_sampled(const char *data_dir, double percent, maint_report_fn fn, void *ctx,
			    struct maint_fsck_stats *out)
{
	struct db *db = NULL;
	struct cas *cas = NULL;
	int lock = -1;
	enum err rc;

	memset(out, 0, sizeof *out);
	if (!(percent >= 0 && percent <= 100))
		return err_set(ERR_INVALID, "the re-hash sample is a percentage from 0 to 100");
	rc = open_store(data_dir, false, &db, &cas);
	/* Shared, like a backup: a gc sweeping meanwhile could delete a blob
	 * whose version was purged after the scan read the versions, and
	 * fsck would report it missing. */
	if (!rc)
		rc = take_lock(data_dir, LOCK_SH, &lock);
	if (!rc)
		rc = fsck_store(db, cas, percent, fn, ctx, out);
	release_lock(lock);
	cas_close(cas);
	db_close(db);
	return rc;
}

/* ---- backup and restore ---- */

/* Create `dir` or accept it when it is an empty directory. */
static enum err prepare_target(const char *dir, bool *created)
{
	DIR *d;
	struct dirent *de;
	bool empty = true;

	*created = false;
	if (mkdir(dir, 0700) == 0) {
		*created = true;
		return ERR_OK;
	}
	if (errno != EEXIST)
		return err_from_errno(errno, dir);
	d = opendir(dir);
	if (!d)
		return err_from_errno(errno, dir);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = false;
	closedir(d);
	if (!empty)
		return err_set(ERR_EXISTS, "%s is not empty; give a new or empty directory", dir);
	return ERR_OK;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	if (ftw->level == 0)
		return 0; /* the directory itself: the caller decides */
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* Empty a directory this module filled (it was new or empty before). */
static void empty_target(const char *dir, bool created)
{
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (created)
		rmdir(dir);
}

/* Copy the database `src` into a new file at `dest` with the online
 * backup API: one consistent snapshot, while writers go on (WAL). */
static enum err copy_database(sqlite3 *src, const char *dest)
{
	sqlite3 *dst = NULL;
	sqlite3_backup *b;
	enum err rc = ERR_OK;
	int r;

	r = sqlite3_open_v2(dest, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (r != SQLITE_OK) {
		rc = err_set(ERR_IO, "create %s: %s", dest,
			     dst ? sqlite3_errmsg(dst) : sqlite3_errstr(r));
		goto out;
	}
	b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		rc = err_set(ERR_DB, "start database backup: %s", sqlite3_errmsg(dst));
		goto out;
	}
	/* -1: all pages in one step, so the copy is one read transaction on
	 * the source and never restarts because a writer changed it. */
	while ((r = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || r == SQLITE_LOCKED)
		sqlite3_sleep(50);
	sqlite3_backup_finish(b);
	if (r != SQLITE_DONE) {
		rc = (r & 0xff) == SQLITE_FULL
			     ? err_set(ERR_NOSPACE, "not enough disk space for %s", dest)
			     : err_set(ERR_DB, "database backup failed: %s", sqlite3_errstr(r));
		goto out;
	}
	/* The copy carries the source's WAL flag; a backup is better one
	 * self-contained file (no -wal/-shm beside it, readable on read-only
	 * media). A server opening it later switches it back to WAL. */
	if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK)
		rc = err_set(ERR_DB, "finish %s: %s", dest, sqlite3_errmsg(dst));
out:
	if (dst && sqlite3_close(dst) != SQLITE_OK && !rc)
		rc = err_set(ERR_DB, "close %s", dest);
	return rc;
}

/* The distinct blobs a database references, malloc'd array of hashes. */
static enum err referenced_blobs(const char *dbfile, char (**out)[DIGEST_SHA256_HEX_LEN + 1],
				 size_t *n)
{
	sqlite3 *sq = NULL;
	sqlite3_stmt *st = NULL;
	char(*list)[DIGEST_SHA256_HEX_LEN + 1] = NULL;
	size_t cap = 0;
	enum err rc = ERR_OK;
	int r;

	*out = NULL;
	*n = 0;
	/* Read-write although it only reads: a read-only connection to a WAL
	 * database leaves its -wal and -shm files behind. */
	r = sqlite3_open_v2(dbfile, &sq, SQLITE_OPEN_READWRITE, NULL);
	/* Content of the small tier travels inside the database file; a
	 * database of an older schema has no such table. */
	if (r == SQLITE_OK &&
	    sqlite3_prepare_v2(sq,
			       "SELECT DISTINCT blob FROM versions"
			       " WHERE blob NOT IN (SELECT hash FROM small_blobs)",
			       -1, &st, NULL) != SQLITE_OK)
		r = sqlite3_prepare_v2(sq, "SELECT DISTINCT blob FROM versions", -1, &st, NULL);
	if (r != SQLITE_OK) {
		rc = err_set(ERR_DB, "read %s: %s", dbfile, sq ? sqlite3_errmsg(sq) : "");
		goto out;
	}
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *h = (const char *)sqlite3_column_text(st, 0);

		if (!cas_hash_valid(h)) {
			rc = err_set(ERR_CORRUPT, "the database names a malformed blob '%.70s'",
				     h ? h : "");
			goto out;
		}
		if (*n == cap) {
			void *more;

			cap = cap ? 2 * cap : 256;
			more = realloc(list, cap * sizeof *list);
			if (!more) {
				rc = err_set(ERR_NOMEM, "out of memory");
				goto out;
			}
			list = more;
		}
		memcpy(list[(*n)++], h, DIGEST_SHA256_HEX_LEN + 1);
	}
	if (r != SQLITE_DONE)
		rc = err_set(ERR_DB, "read %s: %s", dbfile, sqlite3_errmsg(sq));
out:
	sqlite3_finalize(st);
	sqlite3_close(sq);
	if (rc) {
		free(list);
		*n = 0;
		return rc;
	}
	*out = list;
	return ERR_OK;
}

struct copier {
	int src_blobs;
	int dst_blobs;
	bool try_link;    /* false after EXDEV: DEST is elsewhere */
	bool verify_link; /* re-hash linked blobs too (restore) */
	unsigned char *buf;
	struct maint_copy_stats *stats;
};

/* Copy one file into dst, hashing it on the way; fails with ERR_CORRUPT
 * when the content does not match `hash`. */
static enum err copy_blob_file(struct copier *c, const char *rel, const char *hash)
{
	char tmp[96], got[DIGEST_SHA256_HEX_LEN + 1];
	unsigned char md[DIGEST_SHA256_LEN];
	struct digest *d = digest_new(DIGEST_SHA256);
	int in = -1, out = -1;
	enum err rc = ERR_OK;
	ssize_t k;

	snprintf(tmp, sizeof tmp, "%s.tmp", rel);
	if (!d)
		return err_set(ERR_NOMEM, "out of memory");
	in = openat(c->src_blobs, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0) {
		rc = errno == ENOENT ? err_set(ERR_NOTFOUND, "blob %s is missing", hash)
				     : err_from_errno(errno, rel);
		goto out;
	}
	posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
	out = openat(c->dst_blobs, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		rc = err_from_errno(errno, tmp);
		goto out;
	}
	while ((k = read(in, c->buf, COPY_CHUNK)) != 0) {
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			rc = err_from_errno(errno, rel);
			goto out;
		}
		digest_update(d, c->buf, (size_t)k);
		for (ssize_t o = 0; o < k;) {
			ssize_t w = write(out, c->buf + o, (size_t)(k - o));

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				rc = err_from_errno(errno, "write blob copy");
				goto out;
			}
			o += w;
		}
		c->stats->bytes += (uint64_t)k;
	}
	digest_final(d, md);
	digest_hex(md, sizeof md, got);
	if (strcmp(got, hash) != 0) {
		rc = err_set(ERR_CORRUPT, "blob %s is corrupt (its content hashes to %s)", hash,
			     got);
		goto out;
	}
	if (fdatasync(out) != 0 || fchmod(out, 0444) != 0) {
		rc = err_from_errno(errno, "write blob copy");
		goto out;
	}
	if (renameat(c->dst_blobs, tmp, c->dst_blobs, rel) != 0)
		rc = err_from_errno(errno, "place blob copy");
	else
		c->stats->copied++;
out:
	if (out >= 0) {
		close(out);
		if (rc)
			unlinkat(c->dst_blobs, tmp, 0);
	}
	if (in >= 0)
		close(in);
	digest_free(d);
	return rc;
}

static enum err copy_blob(struct copier *c, const char *hash)
{
	char rel[80], d1[3], d2[6], got[DIGEST_SHA256_HEX_LEN + 1];
	uint64_t ignored = 0;
	enum err rc;

	snprintf(d1, sizeof d1, "%.2s", hash);
	snprintf(d2, sizeof d2, "%.2s/%.2s", hash, hash + 2);
	snprintf(rel, sizeof rel, "%s/%s", d2, hash);
	if ((mkdirat(c->dst_blobs, d1, 0700) != 0 && errno != EEXIST) ||
	    (mkdirat(c->dst_blobs, d2, 0700) != 0 && errno != EEXIST))
		return err_from_errno(errno, "create blob directory");
	if (c->try_link) {
		if (linkat(c->src_blobs, rel, c->dst_blobs, rel, 0) == 0) {
			if (c->verify_link) {
				rc = hash_file(c->dst_blobs, rel, c->buf, got, &ignored);
				if (!rc && strcmp(got, hash) != 0)
					rc = err_set(
						ERR_CORRUPT,
						"blob %s is corrupt (its content hashes to %s)",
						hash, got);
				if (rc) {
					unlinkat(c->dst_blobs, rel, 0);
					return rc;
				}
			}
			c->stats->linked++;
			return ERR_OK;
		}
		if (errno == ENOENT)
			return err_set(ERR_NOTFOUND, "blob %s is missing", hash);
		if (errno == EEXIST)
			return ERR_OK;
		if (errno == EXDEV)
			c->try_link = false;
		else if (errno != EMLINK && errno != EPERM)
			return err_from_errno(errno, "link blob");
	}
	return copy_blob_file(c, rel, hash);
}

/* Copy the regular files of DATA/tls (certificate and key), if any. */
static enum err copy_tls(const char *from_root, const char *to_root)
{
	char from[4096], to[4096], src[4600], dst[4600];
	struct dirent *de;
	DIR *d;
	enum err rc = ERR_OK;

	snprintf(from, sizeof from, "%s/tls", from_root);
	snprintf(to, sizeof to, "%s/tls", to_root);
	d = opendir(from);
	if (!d)
		return errno == ENOENT ? ERR_OK : err_from_errno(errno, from);
	if (mkdir(to, 0700) != 0 && errno != EEXIST) {
		closedir(d);
		return err_from_errno(errno, to);
	}
	while (!rc && (de = readdir(d))) {
		struct stat st;
		int in, out;
		ssize_t k;
		char buf[8192];

		snprintf(src, sizeof src, "%s/%s", from, de->d_name);
		snprintf(dst, sizeof dst, "%s/%s", to, de->d_name);
		if (lstat(src, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		in = open(src, O_RDONLY | O_CLOEXEC);
		if (in < 0) {
			rc = err_from_errno(errno, src);
			break;
		}
		out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 0600);
		if (out < 0) {
			rc = err_from_errno(errno, dst);
			close(in);
			break;
		}
		while (!rc && (k = read(in, buf, sizeof buf)) > 0)
			if (write(out, buf, (size_t)k) != k)
				rc = err_from_errno(errno, dst);
		if (!rc && fsync(out) != 0)
			rc = err_from_errno(errno, dst);
		close(in);
		close(out);
	}
	closedir(d);
	return rc;
}

/* Copy the blobs `dbfile` references from src_root to dst_root.
 * Missing ones are counted in *missing (not an error here). */
static enum err copy_blobs(const char *dbfile, const char *src_root, const char *dst_root,
			   bool verify_link, struct maint_copy_stats *stats, uint64_t *missing)
{
	char(*list)[DIGEST_SHA256_HEX_LEN + 1] = NULL;
	char path[4096];
	struct copier c = {.src_blobs = -1,
			   .dst_blobs = -1,
			   .try_link = true,
			   .verify_link = verify_link,
			   .stats = stats};
	size_t n = 0;
	enum err rc;

	*missing = 0;
	rc = referenced_blobs(dbfile, &list, &n);
	if (rc)
		return rc;
	stats->blobs = n;
	c.buf = malloc(COPY_CHUNK);
	if (!c.buf) {
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	snprintf(path, sizeof path, "%s/blobs", src_root);
	c.src_blobs = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c.src_blobs < 0) {
		rc = err_from_errno(errno, path);
		goto out;
	}
	snprintf(path, sizeof path, "%s/blobs", dst_root);
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		rc = err_from_errno(errno, path);
		goto out;
	}
	c.dst_blobs = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c.dst_blobs < 0) {
		rc = err_from_errno(errno, path);
		goto out;
	}
	for (size_t i = 0; !rc && i < n; i++) {
		rc = copy_blob(&c, list[i]);
		if (rc == ERR_NOTFOUND || rc == ERR_CORRUPT) {
			(*missing)++;
			rc = ERR_OK;
		}
	}
out:
	if (c.src_blobs >= 0)
		close(c.src_blobs);
	if (c.dst_blobs >= 0)
		close(c.dst_blobs);
	free(c.buf);
	free(list);
	return rc;
}

/* The blobs `dbfile` references copied, inside the object store, from
 * the live bucket to `bucket`, which gc of the live bucket never
 * touches; blobs already there are skipped, so a second backup to the
 * same bucket copies what is new. DEST/blob-store names that bucket:
 * a restore reads from it. */
static enum err copy_blobs_to_bucket(const char *dbfile, const char *dst_root, const char *bucket,
				     struct maint_copy_stats *stats, uint64_t *missing)
{
	char(*list)[DIGEST_SHA256_HEX_LEN + 1] = NULL;
	struct blobback_config bc;
	struct blobback *to = NULL;
	char live[sizeof bc.bucket];
	size_t n = 0;
	enum err rc;

	*missing = 0;
	rc = blobback_config_read(dst_root, &bc);
	if (rc)
		return rc;
	if (strlen(bucket) >= sizeof bc.bucket)
		return err_set(ERR_INVALID, "bucket name too long: %s", bucket);
	if (!strcmp(bucket, bc.bucket))
		return err_set(ERR_INVALID, "the backup bucket must not be the live bucket %s",
			       bucket);
	memcpy(live, bc.bucket, sizeof live);
	snprintf(bc.bucket, sizeof bc.bucket, "%s", bucket);
	rc = blobback_s3_open(&bc, &to);
	if (!rc)
		rc = referenced_blobs(dbfile, &list, &n);
	stats->blobs = n;
	for (size_t i = 0; !rc && i < n; i++) {
		bool copied;

		rc = blobback_copy_in(to, live, list[i], &copied);
		if (rc == ERR_NOTFOUND) {
			(*missing)++;
			rc = ERR_OK;
		} else if (!rc && copied) {
			stats->copied++;
		}
	}
	if (!rc)
		rc = blobback_config_write(dst_root, &bc);
	blobback_close(to);
	free(list);
	return rc;
}

/* Flush everything written under `root` to disk, then rename the
 * finished database into place and make that rename durable. */
static enum err seal(const char *root, const char *partial, const char *final)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	enum err rc = ERR_OK;

	if (fd < 0)
		return err_from_errno(errno, root);
	/* One syncfs for thousands of blob files and directories instead of
	 * an fsync each. */
	if (syncfs(fd) != 0)
		rc = err_from_errno(errno, "sync backup");
	if (!rc && rename(partial, final) != 0)
		rc = err_from_errno(errno, final);
	if (!rc && fsync(fd) != 0)
		rc = err_from_errno(errno, root);
	close(fd);
	return rc;
}

enum err maint_backup(const char *data_dir, const char *dest, struct maint_copy_stats *out)
{
	return maint_backup_to_bucket(data_dir, dest, NULL, out);
}

enum err maint_backup_to_bucket(const char *data_dir, const char *dest, const char *bucket,
				struct maint_copy_stats *out)
{
	char src_db[4096], partial[4096], final[4096];
	struct db *db = NULL;
	uint64_t missing = 0;
	bool created = false, prepared = false, sealed = false, remote = false;
	int lock = -1;
	enum err rc;

	memset(out, 0, sizeof *out);
	rc = db_path(data_dir, src_db, sizeof src_db);
	if (rc)
		return rc;
	if ((size_t)snprintf(partial, sizeof partial, "%s/consort.db.partial", dest) >=
		    sizeof partial ||
	    (size_t)snprintf(final, sizeof final, "%s/consort.db", dest) >= sizeof final)
		return err_set(ERR_INVALID, "backup path too long");
	rc = prepare_target(dest, &created);
	if (rc)
		return rc;
	prepared = true;
	/* Shared: several backups may run; gc waits for all of them. */
	rc = take_lock(data_dir, LOCK_SH, &lock);
	if (!rc)
		rc = db_open(src_db, &db);
	if (!rc)
		rc = copy_database(db_sqlite(db), partial);
	if (!rc)
		rc = copy_store_config(data_dir, dest, &remote);
	if (!rc && bucket && !remote)
		rc = err_set(ERR_INVALID, "%s keeps its blobs in DATA/blobs, not in a bucket",
			     data_dir);
	if (!rc && bucket)
		rc = copy_blobs_to_bucket(partial, dest, bucket, out, &missing);
	if (!rc && !remote)
		rc = copy_blobs(partial, data_dir, dest, false, out, &missing);
	if (!rc)
		rc = copy_tls(data_dir, dest);
	if (!rc)
		rc = seal(dest, partial, final);
	sealed = !rc;
	if (!rc && missing)
		rc = err_set(ERR_CORRUPT,
			     "backup written to %s, but %" PRIu64 " referenced blob(s) were "
			     "missing or damaged in %s%s; run consort fsck",
			     dest, missing, data_dir, remote ? "'s bucket" : "/blobs");
	db_close(db);
	release_lock(lock);
	if (rc && !sealed && prepared) {
		char detail[512];

		snprintf(detail, sizeof detail, "%s", err_detail());
		empty_target(dest, created);
		err_set(rc, "%s", detail);
	}
	return rc;
}

/* Reset what does not survive a restore, in the restored database. */
static enum err restore_fixups(struct db *db)
{
	static const char sql[] = "DELETE FROM uploads;"
				  "DELETE FROM index_state;"
				  "DELETE FROM index_queue;";
	static const char queue[] =
		"WITH RECURSIVE live(id) AS (SELECT root_id FROM wps WHERE root_id IS NOT NULL"
		" UNION SELECT n.id FROM nodes n JOIN live ON n.parent_id = live.id"
		"  WHERE n.trashed_at IS NULL)"
		" INSERT INTO index_queue(node_id, op, queued_at)"
		" SELECT n.id, 'index', ?1 FROM nodes n JOIN live ON n.id = live.id"
		" WHERE n.is_folder = 0";
	sqlite3_stmt *st;
	char *msg = NULL;
	enum err rc;

	rc = db_begin(db);
	if (rc)
		return rc;
	if (sqlite3_exec(db_sqlite(db), sql, NULL, NULL, &msg) != SQLITE_OK) {
		rc = err_set(ERR_DB, "prepare restored database: %s", msg ? msg : "");
		sqlite3_free(msg);
	}
	if (!rc)
		rc = db_stmt(db, queue, &st);
	if (!rc) {
		db_bind_int64(db, st, 1, db_now());
		rc = db_exec_stmt(db, st, "queue documents for indexing");
	}
	if (!rc)
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
	return rc;
}

/* Open a backup's database read-only and immutable: a backup may sit on
 * read-only media, where SQLite could not create the -shm file a WAL
 * database otherwise needs, and nothing changes it while we read. */
static int open_backup_db_raw(const char *path, sqlite3 **out)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				   "0123456789/._-~";
	char uri[3 * 4096 + 32];
	size_t o = 0;

	*out = NULL;
	o += (size_t)snprintf(uri, sizeof uri, "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if (o + 4 >= sizeof uri)
			return SQLITE_CANTOPEN;
		if (strchr(safe, *p))
			uri[o++] = (char)*p;
		else
			o += (size_t)snprintf(uri + o, sizeof uri - o, "%%%02X", *p);
	}
	snprintf(uri + o, sizeof uri - o, "?immutable=1");
	return sqlite3_open_v2(uri, out, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
}

static enum err open_backup_db(const char *path, sqlite3 **out)
{
	int r = open_backup_db_raw(path, out);

	if (r != SQLITE_OK) {
		enum err rc = err_set(ERR_IO, "open %s: %s", path,
				      *out ? sqlite3_errmsg(*out) : sqlite3_errstr(r));

		sqlite3_close(*out);
		*out = NULL;
		return rc;
	}
	return ERR_OK;
}

static enum err check_source(const char *dbfile)
{
	sqlite3 *sq = NULL;
	sqlite3_stmt *st = NULL;
	enum err rc = ERR_OK;
	int r;

	r = open_backup_db_raw(dbfile, &sq);
	if (r == SQLITE_OK)
		r = sqlite3_prepare_v2(sq, "PRAGMA quick_check", -1, &st, NULL);
	if (r == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
	    strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0)
		rc = err_set(ERR_CORRUPT, "%s is damaged: %s", dbfile,
			     (const char *)sqlite3_column_text(st, 0));
	else if (r != SQLITE_OK)
		rc = err_set(ERR_CORRUPT, "%s is not a consort database: %s", dbfile,
			     sq ? sqlite3_errmsg(sq) : sqlite3_errstr(r));
	sqlite3_finalize(st);
	st = NULL;
	if (!rc && sqlite3_prepare_v2(sq, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > (int)db_migration_count)
		rc = err_set(ERR_UNSUPPORTED,
			     "%s comes from a newer consort (schema %d; this one knows %zu)",
			     dbfile, sqlite3_column_int(st, 0), db_migration_count);
	sqlite3_finalize(st);
	sqlite3_close(sq);
	return rc;
}

enum err maint_restore(const char *src, const char *data_dir, maint_report_fn fn, void *ctx,
		       struct maint_copy_stats *out)
{
	static const char *const subdirs[] = {"blobs", "tmp", "uploads", "index"};
	char src_db[4096], partial[4096], final[4096], path[4096];
	struct maint_fsck_stats fs;
	struct db *db = NULL;
	sqlite3 *srcdb = NULL;
	uint64_t missing = 0;
	bool created = false, prepared = false, remote = false;
	enum err rc;

	memset(out, 0, sizeof *out);
	rc = db_path(src, src_db, sizeof src_db);
	if (rc)
		return err_set(rc, "%s is not a consort backup: it has no consort.db", src);
	if ((size_t)snprintf(partial, sizeof partial, "%s/consort.db.partial", data_dir) >=
		    sizeof partial ||
	    (size_t)snprintf(final, sizeof final, "%s/consort.db", data_dir) >= sizeof final)
		return err_set(ERR_INVALID, "data directory path too long");
	rc = check_source(src_db);
	if (rc)
		return rc;
	rc = prepare_target(data_dir, &created);
	if (rc)
		return rc;
	prepared = true;
	for (size_t i = 0; !rc && i < sizeof subdirs / sizeof subdirs[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", data_dir, subdirs[i]);
		if (mkdir(path, 0700) != 0)
			rc = err_from_errno(errno, path);
	}
	if (!rc)
		rc = open_backup_db(src_db, &srcdb);
	if (!rc)
		rc = copy_database(srcdb, partial);
	sqlite3_close(srcdb);
	if (!rc)
		rc = db_open(partial, &db);
	if (!rc)
		rc = db_migrate(db);
	if (!rc)
		rc = restore_fixups(db);
	db_close(db);
	db = NULL;
	if (!rc)
		rc = copy_store_config(src, data_dir, &remote);
	if (!rc && !remote)
		rc = copy_blobs(partial, src, data_dir, true, out, &missing);
	if (!rc && missing)
		rc = err_set(ERR_CORRUPT,
			     "%" PRIu64 " blob(s) the backup's database references are missing or "
			     "damaged in %s/blobs; nothing was restored",
			     missing, src);
	if (!rc)
		rc = copy_tls(src, data_dir);
	if (!rc)
		rc = seal(data_dir, partial, final);
	if (!rc) {
		rc = maint_fsck(data_dir, false, fn, ctx, &fs);
		if (!rc && fs.problems)
			rc = err_set(ERR_CORRUPT,
				     "the restored store has %" PRIu64 " problem(s); nothing was "
				     "restored",
				     fs.problems);
	}
	if (rc && prepared) {
		char detail[512];

		snprintf(detail, sizeof detail, "%s", err_detail());
		empty_target(data_dir, created);
		err_set(rc, "%s", detail);
	}
	return rc;
}

struct migrate_ctx {
	struct blobback *to;
	int blobs_fd;
	uint64_t copied, skipped;
};

static enum err migrate_one(void *ctx, const char *rel, const char *name, const struct stat *st)
{
	struct migrate_ctx *m = ctx;
	char hash[DIGEST_SHA256_HEX_LEN + 1];
	bool dedup = false;
	enum err rc;
	int fd;

	if (!S_ISREG(st->st_mode) || !blob_name(rel, name, hash))
		return ERR_OK; /* fsck's to report */
	fd = openat(m->blobs_fd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return err_from_errno(errno, rel);
	rc = blobback_store(m->to, hash, fd, (uint64_t)st->st_size, &dedup);
	close(fd);
	if (rc)
		return err_set(rc, "blob %s: %s", hash, err_detail());
	if (dedup)
		m->skipped++;
	else
		m->copied++;
	return ERR_OK;
}

enum err maint_migrate_blobs(const char *data_dir, const struct blobback_config *to,
			     uint64_t *copied, uint64_t *skipped)
{
	struct migrate_ctx m = {0};
	struct blobback_config now;
	struct db *db = NULL;
	struct cas *cas = NULL;
	int lock = -1;
	enum err rc;

	*copied = *skipped = 0;
	rc = blobback_config_read(data_dir, &now);
	if (!rc && strcmp(now.store, "local"))
		rc = err_set(ERR_INVALID, "the blobs of %s are already in %s bucket %s", data_dir,
			     now.endpoint, now.bucket);
	if (!rc)
		rc = take_lock(data_dir, LOCK_EX | LOCK_NB, &lock);
	if (!rc)
		rc = open_store(data_dir, false, &db, &cas);
	if (!rc)
		rc = blobback_s3_open(to, &m.to);
	if (!rc) {
		m.blobs_fd = cas_blobs_fd(cas);
		rc = cas_walk(cas, migrate_one, &m);
	}
	if (!rc)
		rc = blobback_config_write(data_dir, to);
	*copied = m.copied;
	*skipped = m.skipped;
	blobback_close(m.to);
	cas_close(cas);
	db_close(db);
	release_lock(lock);
	return rc;
}
