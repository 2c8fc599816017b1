/* scans — see scans.h. */
#include "scans.h"

#include <stdio.h>
#include <string.h>

#include "db_internal.h"

const char *scans_verdict_name(enum scan_verdict v)
{
	switch (v) {
	case SCAN_CLEAN: return "clean";
	case SCAN_INFECTED: return "infected";
	case SCAN_UNSCANNED: return "unscanned";
	case SCAN_NONE: break;
	}
	return "none";
}

static enum scan_verdict verdict_of(const char *s)
{
	if (!s)
		return SCAN_NONE;
	if (!strcmp(s, "clean"))
		return SCAN_CLEAN;
	if (!strcmp(s, "infected"))
		return SCAN_INFECTED;
	if (!strcmp(s, "unscanned"))
		return SCAN_UNSCANNED;
	return SCAN_NONE;
}

enum err scans_get(struct db *db, const char *hash, struct scan_record *out)
{
	static const char sql[] = "SELECT verdict, db_version, signature, scanned_at"
				  " FROM blob_scans WHERE hash = ?1";
	sqlite3_stmt *st;
	enum err rc;
	bool row;

	memset(out, 0, sizeof *out);
	rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_text(db, st, 1, hash);
	rc = db_step(db, st, "read scan verdict", &row);
	if (!rc && row) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		const char *d = (const char *)sqlite3_column_text(st, 1);
		const char *s = (const char *)sqlite3_column_text(st, 2);

		out->verdict = verdict_of(v);
		snprintf(out->db_version, sizeof out->db_version, "%s", d ? d : "");
		snprintf(out->signature, sizeof out->signature, "%s", s ? s : "");
		out->scanned_at = sqlite3_column_int64(st, 3);
	} else if (!rc) {
		rc = err_set(ERR_NOTFOUND, "no scan verdict");
	}
	sqlite3_reset(st);
	return rc;
}

enum err scans_put(struct db *db, const char *hash, enum scan_verdict verdict,
		   const char *db_version, const char *signature)
{
	static const char sql[] =
		"INSERT INTO blob_scans(hash, verdict, db_version, signature, scanned_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(hash) DO UPDATE SET"
		" verdict = excluded.verdict, db_version = excluded.db_version,"
		" signature = excluded.signature, scanned_at = excluded.scanned_at";
	sqlite3_stmt *st;
	enum err rc;

	if (verdict == SCAN_NONE)
		return err_set(ERR_INTERNAL, "no verdict to record");
	rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_text(db, st, 1, hash);
	db_bind_text(db, st, 2, scans_verdict_name(verdict));
	db_bind_text(db, st, 3, db_version ? db_version : "");
	db_bind_text(db, st, 4, signature ? signature : "");
	db_bind_int64(db, st, 5, db_now());
	return db_exec_stmt(db, st, "record scan verdict");
}

enum err scans_blob_referenced(struct db *db, const char *hash, bool *yes)
{
	static const char sql[] = "SELECT EXISTS (SELECT 1 FROM versions WHERE blob = ?1)";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	*yes = true; /* when in doubt, referenced: nothing is removed */
	if (rc)
		return rc;
	db_bind_text(db, st, 1, hash);
	rc = db_step(db, st, "look up blob references", &row);
	if (!rc)
		*yes = row && sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return rc;
}

enum err scans_next_blob(struct db *db, const char *after, char out[DIGEST_SHA256_HEX_LEN + 1])
{
	static const char sql[] = "SELECT blob FROM versions WHERE blob > ?1 ORDER BY blob LIMIT 1";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	if (rc)
		return rc;
	db_bind_text(db, st, 1, after ? after : "");
	rc = db_step(db, st, "list referenced blobs", &row);
	if (!rc && row) {
		const char *h = (const char *)sqlite3_column_text(st, 0);

		snprintf(out, DIGEST_SHA256_HEX_LEN + 1, "%s", h ? h : "");
	} else if (!rc) {
		rc = err_set(ERR_NOTFOUND, "no more blobs");
	}
	sqlite3_reset(st);
	return rc;
}
