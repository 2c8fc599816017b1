/*
 * scans — malware scan verdicts per blob (table blob_scans), so that
 * content already scanned clean with the current signature database is
 * not sent to the scanner again (docs/scanning.md).
 *
 * A verdict belongs to a blob hash and names the signature database it
 * was reached with (clamd's VERSION line, e.g. "ClamAV 1.0.7/27300/...").
 * A clean verdict counts only for that database; a newer one scans the
 * content again. "unscanned" marks content accepted without a verdict
 * (over the scanner's stream limit, an archive it cannot open, or the
 * scanner unreachable, under the accept-unscanned policy): every
 * version whose blob is unscanned shows it. "infected" is what a rescan
 * of existing content reports; an upload found infected is refused and
 * its blob is not kept.
 */
#ifndef CONSORT_SCANS_H
#define CONSORT_SCANS_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "digest.h"
#include "err.h"

#define SCANS_DBVER_MAX 127
#define SCANS_SIG_MAX 255

enum scan_verdict { SCAN_NONE = 0, SCAN_CLEAN, SCAN_INFECTED, SCAN_UNSCANNED };

struct scan_record {
	enum scan_verdict verdict;
	char db_version[SCANS_DBVER_MAX + 1];
	char signature[SCANS_SIG_MAX + 1]; /* infected: the signature; unscanned: why */
	int64_t scanned_at;
};

/* The verdict stored for `hash`: ERR_NOTFOUND when there is none. */
enum err scans_get(struct db *db, const char *hash, struct scan_record *out);

/* Record (or replace) the verdict for `hash`. */
enum err scans_put(struct db *db, const char *hash, enum scan_verdict verdict,
		   const char *db_version, const char *signature);

/* Whether any version references blob `hash` (on error: true). */
enum err scans_blob_referenced(struct db *db, const char *hash, bool *yes);

/* The next blob (in hash order) after `after` ("" for the first) that
 * a version references: ERR_NOTFOUND past the last. For rescans. */
enum err scans_next_blob(struct db *db, const char *after, char out[DIGEST_SHA256_HEX_LEN + 1]);

/* "clean", "infected", "unscanned" (API and audit spelling). */
const char *scans_verdict_name(enum scan_verdict v);

#endif
