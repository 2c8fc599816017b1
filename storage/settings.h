/*
 * settings — store-wide values kept in the database (table settings),
 * so that every process on a data directory applies the same rules:
 * the server writes its configured defaults at start, and `consort gc`
 * or a restore read them from the store without a configuration file.
 *
 * Keys in use: tree.h's TREE_DEFAULT_* (quota and retention defaults).
 * Values are text; integers are written in decimal.
 */
#ifndef CONSORT_SETTINGS_H
#define CONSORT_SETTINGS_H

#include <stdint.h>

#include "db.h"
#include "err.h"

/* Set `key` to the decimal `value`, or remove it when `value` is 0 (for
 * the defaults, 0 means "no rule"). Its own transaction. */
enum err settings_put_u64(struct db *db, const char *key, uint64_t value);

/* Read `key` as an unsigned decimal: ERR_NOTFOUND when absent,
 * ERR_CORRUPT when it is not a number. */
enum err settings_get_u64(struct db *db, const char *key, uint64_t *value);

#endif
