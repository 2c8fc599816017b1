/*
 * db — one SQLite connection to DATA/consort.db, and the schema.
 *
 * Every thread that touches metadata owns its own `struct db` (SQLite
 * connections are not shared between threads). Connections run in WAL
 * mode with foreign keys on and a busy timeout, so readers never block
 * the writer and short write transactions from several workers queue
 * instead of failing.
 *
 * Only modules inside storage/ see SQL: they include db_internal.h for
 * the raw handle and the statement cache. Everything above storage/
 * talks to typed repository functions.
 */
#ifndef CONSORT_DB_H
#define CONSORT_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct db;

/* Open (creating if needed) the database at `path` and apply the
 * connection settings. Does not migrate. On success *out owns a new
 * connection to be closed with db_close(); on failure *out is NULL. */
enum err db_open(const char *path, struct db **out);

/* Bring the schema up to the newest migration, each migration in its own
 * transaction. Refuses (ERR_CORRUPT) a database whose schema is newer than
 * this binary knows. Safe to call on every start. */
enum err db_migrate(struct db *db);

/* Schema version after migration (number of the newest migration). */
int db_schema_version(struct db *db);

/* Cheap liveness probe for /healthz: runs a trivial query. */
enum err db_ping(struct db *db);

/* Transactions. db_begin starts an IMMEDIATE transaction (takes the write
 * lock up front, so a transaction never fails half-way on lock upgrade).
 * db_rollback is safe to call when no transaction is open.
 *
 * They nest: inside an open transaction, db_begin (or db_begin_read)
 * opens a savepoint, db_commit releases it into the enclosing
 * transaction and db_rollback undoes only what was done since it. So a
 * function that is "one transaction" runs unchanged as one step of a
 * larger one (the group commit of uploads, server/commitq.h), and its
 * failure leaves the other steps alone. An error after which SQLite
 * abandons the whole transaction (disk full, I/O error) makes the
 * outermost db_commit fail; db_in_txn tells a caller that it happened. */
enum err db_begin(struct db *db);
/* A read transaction (deferred BEGIN): several SELECTs see one snapshot,
 * e.g. a listing's page and its total count. End it with db_commit or
 * db_rollback. */
enum err db_begin_read(struct db *db);
enum err db_commit(struct db *db);
void db_rollback(struct db *db);
/* True while a transaction is open on this connection. */
bool db_in_txn(struct db *db);

/* Closes the connection and its cached statements. Accepts NULL. */
void db_close(struct db *db);

/* Current wall-clock time in Unix seconds; the one clock the store uses.
 * Tests may shift it with db_clock_offset to exercise expiry. */
int64_t db_now(void);
void db_clock_offset(int64_t seconds);

#endif
