/*
 * db_internal — what storage/ modules need to run SQL on a struct db.
 * Not included outside storage/.
 */
#ifndef CONSORT_DB_INTERNAL_H
#define CONSORT_DB_INTERNAL_H

#include <sqlite3.h>

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

/* Runs a statement that returns no rows: step to SQLITE_DONE. */
enum err db_exec_stmt(struct db *db, sqlite3_stmt *st, const char *what);

/* Bind a NUL-terminated UTF-8 string (SQLITE_TRANSIENT) or NULL. */
int db_bind_text(sqlite3_stmt *st, int idx, const char *s);

/* Copy a text column into a malloc'd string; NULL for SQL NULL. Sets
 * *rc to ERR_NOMEM when the copy fails. */
char *db_column_strdup(sqlite3_stmt *st, int col, enum err *rc);

/* Append one zeroed record of `size` bytes to the array *arr holding *n
 * of them in room for *cap, growing it as needed; the new record, or
 * NULL with *rc set to ERR_NOMEM. For reading rows into an array. */
void *db_grow(void **arr, size_t *n, size_t *cap, size_t size, enum err *rc);

#endif
