/*
 * migrations — the numbered schema migrations, oldest first.
 *
 * Migration i (1-based) is db_migrations[i-1]. A migration that has been
 * released is never edited; a change to the schema is a new entry at the
 * end. PRAGMA user_version records how many have been applied.
 */
#ifndef CONSORT_MIGRATIONS_H
#define CONSORT_MIGRATIONS_H

#include <stddef.h>

extern const char *const db_migrations[];
extern const size_t db_migration_count;

#endif
