/*
 * storage_fixture — a throwaway data directory with a migrated database,
 * a partner, two users and a work package with its root folder, for the
 * storage unit tests (cas, tree, maint). Include after cmocka.h.
 */
#ifndef CONSORT_TEST_STORAGE_FIXTURE_H
#define CONSORT_TEST_STORAGE_FIXTURE_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cas.h"
#include "db.h"
#include "db_internal.h"
#include "name.h"

struct fx {
	char dir[64];
	struct db *db;
	struct cas *cas;
	int64_t alice, bob; /* users */
	int64_t wp;         /* work package WP1 */
	int64_t root;       /* its root folder */
};

static inline void fx_exec(struct fx *f, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db_sqlite(f->db), sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
	sqlite3_free(msg);
}

static inline int64_t fx_int(struct fx *f, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(db_sqlite(f->db), sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* A work package with its root folder, as the accounts module makes it. */
static inline int64_t fx_add_wp(struct fx *f, const char *code)
{
	char sql[512];
	int64_t wp;

	snprintf(sql, sizeof sql,
		 "INSERT INTO wps(code, title, created_at) VALUES ('%s', 'Title of %s', 1)", code,
		 code);
	fx_exec(f, sql);
	wp = sqlite3_last_insert_rowid(db_sqlite(f->db));
	snprintf(sql, sizeof sql,
		 "INSERT INTO nodes(wp_id, parent_id, is_folder, name, name_key, created_at,"
		 " modified_at) VALUES (%lld, NULL, 1, '', '', 1, 1);"
		 "UPDATE wps SET root_id = last_insert_rowid() WHERE id = %lld;",
		 (long long)wp, (long long)wp);
	fx_exec(f, sql);
	return wp;
}

static inline void fx_open(struct fx *f)
{
	char path[128];

	snprintf(path, sizeof path, "%s/consort.db", f->dir);
	assert_int_equal(db_open(path, &f->db), ERR_OK);
	assert_int_equal(db_migrate(f->db), ERR_OK);
	assert_int_equal(cas_open(f->dir, CAS_OPEN_CREATE, &f->cas), ERR_OK);
}

static inline void fx_close(struct fx *f)
{
	cas_close(f->cas);
	db_close(f->db);
	f->cas = NULL;
	f->db = NULL;
}

static inline int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);

	snprintf(f->dir, sizeof f->dir, "/tmp/consort-test-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	fx_open(f);
	fx_exec(f, "INSERT INTO partners(short, name, country, created_at)"
		   " VALUES ('UNI', 'A University', 'DE', 1)");
	fx_exec(f, "INSERT INTO users(email, name, partner_id, created_at)"
		   " VALUES ('alice@example.org', 'Alice', 1, 1)");
	f->alice = sqlite3_last_insert_rowid(db_sqlite(f->db));
	fx_exec(f, "INSERT INTO users(email, name, partner_id, created_at)"
		   " VALUES ('bob@example.org', 'Bob', 1, 1)");
	f->bob = sqlite3_last_insert_rowid(db_sqlite(f->db));
	f->wp = fx_add_wp(f, "WP1");
	f->root = fx_int(f, "SELECT root_id FROM wps WHERE code = 'WP1'");
	db_clock_offset(0);
	err_clear();
	*state = f;
	return 0;
}

static inline int fx_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static inline void fx_rmtree(const char *dir) { nftw(dir, fx_rm, 16, FTW_DEPTH | FTW_PHYS); }

static inline int fx_teardown(void **state)
{
	struct fx *f = *state;

	fx_close(f);
	fx_rmtree(f->dir);
	db_clock_offset(0);
	free(f);
	return 0;
}

/* Store `len` bytes through a writer; returns the stored blob, still
 * held (release it with cas_blob_release). */
static inline struct cas_blob fx_store_held(struct fx *f, const void *data, size_t len)
{
	struct cas_writer *w;
	struct cas_blob b;

	assert_int_equal(cas_writer_new(f->cas, 0, &w), ERR_OK);
	assert_int_equal(cas_writer_write(w, data, len), ERR_OK);
	assert_int_equal(cas_writer_store(w, &b), ERR_OK);
	assert_true(b.held);
	return b;
}

/* The same, released at once: stored, but not protected from gc. */
static inline struct cas_blob fx_store(struct fx *f, const void *data, size_t len)
{
	struct cas_blob b = fx_store_held(f, data, len);

	cas_blob_release(&b);
	return b;
}

static inline struct name_path fx_path(const char *text)
{
	struct name_path p;

	if (name_path_from_text(text, &p) != ERR_OK)
		fail_msg("bad test path '%s': %s", text, err_detail());
	return p;
}

static inline int fx_count_files(const char *dir)
{
	char cmd[256];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof cmd, "find '%s' -type f | wc -l", dir);
	p = popen(cmd, "r");
	if (p) {
		if (fscanf(p, "%d", &n) != 1)
			n = -1;
		pclose(p);
	}
	return n;
}

#endif
