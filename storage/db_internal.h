/*
 * db_internal — what storage/ modules need to run SQL on a struct db.
 * Not included outside storage/.
 */
#ifndef CONSORT_DB_INTERNAL_H
#define CONSORT_DB_INTERNAL_H

#include <sqlite3.h>
#include <stddef.h>

#include "db.h"

sqlite3 *db_sqlite(struct db *db);

/* A prepared statement for `sql`, cached per connection and keyed by the
 * address of the string, so `sql` must be a string literal or otherwise
 * live as long as the connection. The statement comes back reset with
 * its bindings cleared; callers do not finalize it. */
enum err db_stmt(struct db *db, const char *sql, sqlite3_stmt **out);

/* Translate a SQLite result code into an enum err with a detail naming
 * `what`. SQLITE_FULL becomes ERR_NOSPACE, constraint violations
 * ERR_EXISTS or ERR_INVALID, busy ERR_CONFLICT. */
enum err db_error(struct db *db, int rc, const char *what);

/* Binding parameters. Each helper binds one parameter of a statement
 * that came from db_stmt. A bind that fails (index out of range, a
 * value over SQLite's length limit, out of memory) is not answered here:
 * the first failure is kept with the statement and becomes the result of
 * its next db_step / db_exec_stmt / db_exec_changes, which then do not
 * run it. So a call site binds its parameters one per line and checks
 * once, where it steps, and a statement never runs with a parameter
 * silently left NULL. db_stmt forgets the failure when it hands the
 * statement out again. Strings and blobs are copied (SQLITE_TRANSIENT);
 * a NULL string binds SQL NULL. */
void db_bind_text(struct db *db, sqlite3_stmt *st, int idx, const char *s);
void db_bind_blob(struct db *db, sqlite3_stmt *st, int idx, const void *p, size_t len);
void db_bind_int64(struct db *db, sqlite3_stmt *st, int idx, int64_t v);
void db_bind_null(struct db *db, sqlite3_stmt *st, int idx);
/* An id column that may be empty: ids <= 0 bind NULL. */
void db_bind_id(struct db *db, sqlite3_stmt *st, int idx, int64_t id);

/* Stepping. The one place SQLite result codes of a step are translated
 * (db_error with `what`) and where a failed bind is reported.
 *
 * db_step steps once: ERR_OK with *row telling whether a row came back,
 * or the error. It does not reset the statement (the caller reads the
 * row's columns, then calls sqlite3_reset, also after an error). */
enum err db_step(struct db *db, sqlite3_stmt *st, const char *what, bool *row);
/* Runs a statement that returns no rows (a row is ignored) and resets it. */
enum err db_exec_stmt(struct db *db, sqlite3_stmt *st, const char *what);
/* db_exec_stmt that also gives the number of rows changed (`changes` may
 * be NULL). */
enum err db_exec_changes(struct db *db, sqlite3_stmt *st, const char *what, int *changes);

/* Copy a text column into a malloc'd string; NULL for SQL NULL. Sets
 * *rc to ERR_NOMEM when the copy fails. */
char *db_column_strdup(sqlite3_stmt *st, int col, enum err *rc);

/* Append one zeroed record of `size` bytes to the array *arr holding *n
 * of them in room for *cap, growing it as needed; the new record, or
 * NULL with *rc set to ERR_NOMEM. For reading rows into an array. */
void *db_grow(void **arr, size_t *n, size_t *cap, size_t size, enum err *rc);

/* Reading rows into an array, the one copy: a repository writes how one
 * row fills one record and how a record's fields are freed, nothing else.
 * `read` fills the zeroed record `rec` from the current row of `st` and
 * may set *rc (ERR_NOMEM from db_column_strdup); `clear` frees what a
 * record holds, not the record (NULL: nothing to free). */
typedef void db_row_fn(sqlite3_stmt *st, void *rec, enum err *rc);
typedef void db_clear_fn(void *rec);

/* Steps `st` to the end (then resets it), one record of `size` bytes per
 * row. On success *out (malloc'd, NULL when no rows) holds *n records,
 * freed with db_rows_free; on failure *out is NULL, *n 0 and what was
 * read is freed. */
enum err db_rows(struct db *db, sqlite3_stmt *st, const char *what, size_t size, db_row_fn *read,
		 db_clear_fn *clear, void **out, size_t *n);
/* Clears each of the `n` records and frees the array. Accepts NULL. */
void db_rows_free(void *arr, size_t n, size_t size, db_clear_fn *clear);

#endif
