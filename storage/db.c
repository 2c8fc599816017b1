/* db — see db.h. */
#include "db_internal.h"
#include "migrations.h"
#include "name.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Statements cached per connection: a small open-addressing table keyed
 * by the SQL string's address. The set of SQL texts in the program is
 * fixed, so the table never needs to shrink. */
#define STMT_SLOTS 512

struct stmt_slot {
	const char *sql;
	sqlite3_stmt *stmt;
	/* The first bind since db_stmt handed the statement out that
	 * failed: SQLite's code (SQLITE_OK: none) and the parameter. */
	int bind_src;
	int bind_idx;
};

struct db {
	sqlite3 *sq;
	/* db_begin calls not yet ended: 1 is the transaction itself, more
	 * are savepoints inside it. */
	int depth;
	/* Slots with a failed bind not yet reported, so a step looks up
	 * its statement's slot only when some bind failed. */
	int bind_failures;
	struct stmt_slot slots[STMT_SLOTS];
};

static _Atomic int64_t clock_offset;

int64_t db_now(void) { return (int64_t)time(NULL) + atomic_load(&clock_offset); }

void db_clock_offset(int64_t seconds) { atomic_store(&clock_offset, seconds); }

sqlite3 *db_sqlite(struct db *db) { return db->sq; }

enum err db_error(struct db *db, int rc, const char *what)
{
	const char *msg = db && db->sq ? sqlite3_errmsg(db->sq) : sqlite3_errstr(rc);

	switch (rc & 0xff) {
	case SQLITE_FULL: return err_set(ERR_NOSPACE, "%s: disk full", what);
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return err_set(ERR_CONFLICT, "%s: database busy", what);
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return err_set(ERR_EXISTS, "%s: already exists", what);
		return err_set(ERR_INVALID, "%s: %s", what, msg);
	case SQLITE_NOMEM: return err_set(ERR_NOMEM, "%s: out of memory", what);
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB: return err_set(ERR_CORRUPT, "%s: %s", what, msg);
	case SQLITE_IOERR: return err_set(ERR_IO, "%s: %s", what, msg);
	default: return err_set(ERR_DB, "%s: %s", what, msg);
	}
}

static size_t slot_of(const char *sql)
{
	uintptr_t h = (uintptr_t)sql;

	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 7) % STMT_SLOTS;
}

enum err db_stmt(struct db *db, const char *sql, sqlite3_stmt **out)
{
	size_t i = slot_of(sql);
	int rc;

	*out = NULL;
	for (size_t n = 0; n < STMT_SLOTS; n++, i = (i + 1) % STMT_SLOTS) {
		struct stmt_slot *s = &db->slots[i];

		if (s->sql == sql) {
			sqlite3_reset(s->stmt);
			sqlite3_clear_bindings(s->stmt);
			if (s->bind_src != SQLITE_OK) {
				s->bind_src = SQLITE_OK;
				db->bind_failures--;
			}
			*out = s->stmt;
			return ERR_OK;
		}
		if (s->sql)
			continue;
		rc = sqlite3_prepare_v3(db->sq, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmt, NULL);
		if (rc != SQLITE_OK)
			return db_error(db, rc, "prepare");
		s->sql = sql;
		*out = s->stmt;
		return ERR_OK;
	}
	return err_set(ERR_INTERNAL, "statement cache full");
}

static struct stmt_slot *slot_of_stmt(struct db *db, sqlite3_stmt *st)
{
	for (size_t i = 0; i < STMT_SLOTS; i++)
		if (db->slots[i].stmt == st)
			return &db->slots[i];
	return NULL;
}

/* Keeps the first failed bind of `st` for its next step. Failures are
 * rare, so finding the slot by a scan costs nothing on the good path. */
static void bind_result(struct db *db, sqlite3_stmt *st, int idx, int src)
{
	struct stmt_slot *s;

	if (src == SQLITE_OK)
		return;
	s = slot_of_stmt(db, st);
	if (!s || s->bind_src != SQLITE_OK)
		return;
	s->bind_src = src;
	s->bind_idx = idx;
	db->bind_failures++;
}

void db_bind_text(struct db *db, sqlite3_stmt *st, int idx, const char *s)
{
	bind_result(db, st, idx,
		    s ? sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT)
		      : sqlite3_bind_null(st, idx));
}

void db_bind_blob(struct db *db, sqlite3_stmt *st, int idx, const void *p, size_t len)
{
	/* sqlite3_bind_blob64 refuses a length past SQLite's limit with
	 * SQLITE_TOOBIG rather than truncating it to an int. */
	bind_result(db, st, idx, sqlite3_bind_blob64(st, idx, p, len, SQLITE_TRANSIENT));
}

void db_bind_int64(struct db *db, sqlite3_stmt *st, int idx, int64_t v)
{
	bind_result(db, st, idx, sqlite3_bind_int64(st, idx, v));
}

void db_bind_null(struct db *db, sqlite3_stmt *st, int idx)
{
	bind_result(db, st, idx, sqlite3_bind_null(st, idx));
}

void db_bind_id(struct db *db, sqlite3_stmt *st, int idx, int64_t id)
{
	if (id > 0)
		db_bind_int64(db, st, idx, id);
	else
		db_bind_null(db, st, idx);
}

/* The error a failed bind of `st` left, or ERR_OK. */
static enum err bind_failure(struct db *db, sqlite3_stmt *st, const char *what)
{
	struct stmt_slot *s = db->bind_failures ? slot_of_stmt(db, st) : NULL;
	enum err code;

	if (!s || s->bind_src == SQLITE_OK)
		return ERR_OK;
	switch (s->bind_src & 0xff) {
	case SQLITE_NOMEM: code = ERR_NOMEM; break;
	case SQLITE_TOOBIG: code = ERR_TOOLARGE; break;
	default: /* SQLITE_RANGE, SQLITE_MISUSE: a bug in the caller */ code = ERR_INTERNAL; break;
	}
	return err_set(code, "%s: parameter %d: %s", what, s->bind_idx,
		       sqlite3_errstr(s->bind_src));
}

enum err db_step(struct db *db, sqlite3_stmt *st, const char *what, bool *row)
{
	enum err e = bind_failure(db, st, what);
	int rc;

	*row = false;
	if (e)
		return e;
	rc = sqlite3_step(st);
	*row = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return ERR_OK;
	return db_error(db, rc, what);
}

enum err db_exec_stmt(struct db *db, sqlite3_stmt *st, const char *what)
{
	bool row;
	enum err e = db_step(db, st, what, &row);

	sqlite3_reset(st);
	return e;
}

enum err db_exec_changes(struct db *db, sqlite3_stmt *st, const char *what, int *changes)
{
	enum err e = db_exec_stmt(db, st, what);

	if (!e && changes)
		*changes = sqlite3_changes(db->sq);
	return e;
}

char *db_column_strdup(sqlite3_stmt *st, int col, enum err *rc)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	char *copy;

	if (!t)
		return NULL;
	copy = strdup((const char *)t);
	if (!copy)
		*rc = err_set(ERR_NOMEM, "out of memory");
	return copy;
}

static enum err exec_sql(struct db *db, const char *sql, const char *what)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db->sq, sql, NULL, NULL, &msg);
	enum err e = ERR_OK;

	if (rc != SQLITE_OK) {
		e = db_error(db, rc, what);
		if (msg)
			err_set(e, "%s: %s", what, msg);
	}
	sqlite3_free(msg);
	return e;
}

/* SQLite counts every allocation under one process-wide mutex unless
 * told not to; with a connection per worker thread that mutex was the
 * most contended lock of an authenticated request (two futex calls per
 * request at 16k requests/s). Nothing here reads SQLite's memory
 * statistics. Must run before SQLite initializes itself: a later call
 * is refused (SQLITE_MISUSE) and changes nothing. */
static void configure_sqlite(void) { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); }

/* consort_look_key(name): name.h's look-alike key, for the migration
 * that fills nodes.look_key; NULL for a name it cannot read. */
static void sql_look_key(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *name = (const char *)sqlite3_value_text(argv[0]);
	char *look = NULL;

	(void)argc;
	if (!name || name_look_key(name, &look) != ERR_OK) {
		sqlite3_result_null(ctx);
		return;
	}
	sqlite3_result_text(ctx, look, -1, free);
}

enum err db_open(const char *path, struct db **out)
{
	static pthread_once_t configured = PTHREAD_ONCE_INIT;
	struct db *db;
	enum err rc;
	int src;

	*out = NULL;
	pthread_once(&configured, configure_sqlite);
	db = calloc(1, sizeof *db);
	if (!db)
		return err_set(ERR_NOMEM, "out of memory");
	src = sqlite3_open_v2(path, &db->sq,
			      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			      NULL);
	if (src != SQLITE_OK) {
		rc = db_error(db, src, "open database");
		goto out;
	}
	sqlite3_extended_result_codes(db->sq, 1);
	sqlite3_busy_timeout(db->sq, 10000);
	src = sqlite3_create_function_v2(db->sq, "consort_look_key", 1,
					 SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, sql_look_key,
					 NULL, NULL, NULL);
	if (src != SQLITE_OK) {
		rc = db_error(db, src, "register SQL functions");
		goto out;
	}
	/* synchronous=FULL: a committed transaction survives power loss, which
	 * is the promise made for every acknowledged upload. */
	rc = exec_sql(db,
		      "PRAGMA journal_mode=WAL;"
		      "PRAGMA synchronous=FULL;"
		      "PRAGMA foreign_keys=ON;"
		      "PRAGMA temp_store=MEMORY;",
		      "configure database");
out:
	if (rc) {
		db_close(db);
		return rc;
	}
	*out = db;
	return ERR_OK;
}

static int user_version(struct db *db)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(db->sq, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

int db_schema_version(struct db *db) { return user_version(db); }

enum err db_migrate(struct db *db)
{
	enum err rc = ERR_OK;
	int have;
	char pragma[64];

	have = user_version(db);
	if (have < 0)
		return db_error(db, sqlite3_errcode(db->sq), "read schema version");
	if (have > (int)db_migration_count)
		return err_set(ERR_CORRUPT,
			       "database schema version %d is newer than this "
			       "program (%zu); refusing to touch it",
			       have, db_migration_count);
	for (size_t i = (size_t)have; i < db_migration_count; i++) {
		rc = db_begin(db);
		if (rc)
			return rc;
		rc = exec_sql(db, db_migrations[i], "apply migration");
		if (!rc) {
			snprintf(pragma, sizeof pragma, "PRAGMA user_version=%zu", i + 1);
			rc = exec_sql(db, pragma, "record migration");
		}
		if (!rc)
			rc = db_commit(db);
		if (rc) {
			db_rollback(db);
			return err_set(rc, "migration %zu: %s", i + 1, err_detail());
		}
	}
	return ERR_OK;
}

enum err db_ping(struct db *db)
{
	static const char sql[] = "SELECT 1";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	return db_exec_stmt(db, st, "ping database");
}

/* Inside a transaction every db_begin is a savepoint of it. One name
 * serves all levels: SQLite resolves a name to the innermost savepoint
 * that has it, which is the one the matching db_commit/db_rollback
 * ends. */
static enum err txn_step(struct db *db, const char *sql, const char *what)
{
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (!rc)
		rc = db_exec_stmt(db, st, what);
	return rc;
}

static enum err begin(struct db *db, const char *sql, const char *what)
{
	static const char sql_nest[] = "SAVEPOINT nest";
	enum err rc;

	if (db->depth > 0 && sqlite3_get_autocommit(db->sq))
		db->depth = 0; /* SQLite ended it on an error (disk full, I/O) */
	rc = txn_step(db, db->depth > 0 ? sql_nest : sql, what);
	if (!rc)
		db->depth++;
	return rc;
}

enum err db_begin(struct db *db)
{
	static const char sql[] = "BEGIN IMMEDIATE";

	return begin(db, sql, "begin transaction");
}

enum err db_begin_read(struct db *db)
{
	static const char sql[] = "BEGIN DEFERRED";

	return begin(db, sql, "begin read transaction");
}

enum err db_commit(struct db *db)
{
	static const char sql_commit[] = "COMMIT";
	static const char sql_release[] = "RELEASE nest";
	enum err rc;

	if (db->depth > 0 && sqlite3_get_autocommit(db->sq)) {
		/* SQLite rolled the whole transaction back on an error: the
		 * savepoints are gone with it and nothing can commit. */
		db->depth = 0;
		return err_set(ERR_DB,
			       "commit transaction: it was rolled back by an earlier error");
	}
	if (db->depth > 1) {
		rc = txn_step(db, sql_release, "commit savepoint");
		if (!rc)
			db->depth--;
		return rc;
	}
	/* A failed COMMIT (busy) leaves the transaction open for the
	 * caller's db_rollback. */
	rc = txn_step(db, sql_commit, "commit transaction");
	if (!rc)
		db->depth = 0;
	return rc;
}

void db_rollback(struct db *db)
{
	if (sqlite3_get_autocommit(db->sq)) {
		db->depth = 0;
		return;
	}
	if (db->depth > 1) {
		sqlite3_exec(db->sq, "ROLLBACK TO nest; RELEASE nest", NULL, NULL, NULL);
		db->depth--;
		return;
	}
	sqlite3_exec(db->sq, "ROLLBACK", NULL, NULL, NULL);
	db->depth = 0;
}

bool db_in_txn(struct db *db) { return !sqlite3_get_autocommit(db->sq); }

void db_close(struct db *db)
{
	if (!db)
		return;
	for (size_t i = 0; i < STMT_SLOTS; i++)
		sqlite3_finalize(db->slots[i].stmt);
	sqlite3_close(db->sq);
	free(db);
}

void *db_grow(void **arr, size_t *n, size_t *cap, size_t size, enum err *rc)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		void *p = realloc(*arr, ncap * size);

		if (!p) {
			*rc = err_set(ERR_NOMEM, "out of memory");
			return NULL;
		}
		*arr = p;
		*cap = ncap;
	}
	memset((char *)*arr + *n * size, 0, size);
	return (char *)*arr + (*n)++ * size;
}

void db_rows_free(void *arr, size_t n, size_t size, db_clear_fn *clear)
{
	for (size_t i = 0; arr && clear && i < n; i++)
		clear((char *)arr + i * size);
	free(arr);
}

enum err db_rows(struct db *db, sqlite3_stmt *st, const char *what, size_t size, db_row_fn *read,
		 db_clear_fn *clear, void **out, size_t *n)
{
	void *arr = NULL;
	size_t cnt = 0, cap = 0;
	enum err rc = ERR_OK;
	bool row;

	*out = NULL;
	*n = 0;
	while (!rc && !(rc = db_step(db, st, what, &row)) && row) {
		void *rec = db_grow(&arr, &cnt, &cap, size, &rc);

		if (rec)
			read(st, rec, &rc);
	}
	sqlite3_reset(st);
	if (rc) {
		db_rows_free(arr, cnt, size, clear);
		return rc;
	}
	*out = arr;
	*n = cnt;
	return ERR_OK;
}
