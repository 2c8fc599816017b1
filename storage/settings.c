/* settings — see settings.h. */
#include "settings.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "db_internal.h"

enum err settings_put_u64(struct db *db, const char *key, uint64_t value)
{
	static const char put[] = "INSERT INTO settings(key, value) VALUES (?1, ?2)"
				  " ON CONFLICT(key) DO UPDATE SET value = excluded.value";
	static const char del[] = "DELETE FROM settings WHERE key = ?1";
	char text[24];
	sqlite3_stmt *st;
	enum err rc;

	rc = db_stmt(db, value ? put : del, &st);
	if (rc)
		return rc;
	db_bind_text(db, st, 1, key);
	if (value) {
		snprintf(text, sizeof text, "%" PRIu64, value);
		db_bind_text(db, st, 2, text);
	}
	return db_exec_stmt(db, st, "write setting");
}

enum err settings_get_u64(struct db *db, const char *key, uint64_t *value)
{
	static const char sql[] = "SELECT value FROM settings WHERE key = ?1";
	sqlite3_stmt *st;
	enum err rc;
	bool row;

	*value = 0;
	rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_text(db, st, 1, key);
	rc = db_step(db, st, "read setting", &row);
	if (!rc && row) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		char *end;

		if (!v || *v < '0' || *v > '9')
			rc = err_set(ERR_CORRUPT, "setting %s is not a number", key);
		else {
			*value = strtoull(v, &end, 10);
			if (*end)
				rc = err_set(ERR_CORRUPT, "setting %s is not a number", key);
		}
	} else if (!rc) {
		rc = err_set(ERR_NOTFOUND, "setting %s is not set", key);
	}
	sqlite3_reset(st);
	return rc;
}
