/*
 * scan — malware scanning of new content with clamd (docs/scanning.md).
 *
 * scan_content() is THE one function every way in calls between "the
 * blob is written and hashed" and "the version is committed": API PUT
 * (plain and chunked), the last PATCH of a tus upload and WebDAV PUT go
 * through docput.c, which calls it on the disk pool; a future share-link
 * drop calls it the same way. It decides, it does not store: the
 * caller refuses the upload on an error and commits it otherwise.
 *
 * Dedup: a blob with a clean verdict reached with the signature
 * database clamd reports now (VERSION) is not scanned again. Verdicts
 * are kept per blob hash (storage/scans.h) on the scanner's own
 * database connection.
 *
 * Policies (options scan-unscannable, scan-unreachable): content over
 * clamd's StreamMaxLength, or that clamd cannot scan (an encrypted or
 * broken archive reported as a Heuristics.Encrypted/Broken/Limits
 * signature, or another clamd ERROR), and content that meets an
 * unreachable clamd (after a bounded wait of clamd-wait) is refused, or
 * accepted and marked "unscanned".
 *
 * Without clamd-socket or clamd-address scanning is off: scan_content
 * accepts everything unmarked (the behaviour before scanning existed).
 * Process-wide, like metrics: one scanner per process.
 */
#ifndef CONSORT_SCAN_H
#define CONSORT_SCAN_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "scans.h"

struct evbuffer;

enum scan_policy { SCAN_REFUSE, SCAN_ACCEPT_UNSCANNED };

struct scan_opts {
	const char *address; /* unix socket path or HOST:PORT; NULL: scanning off */
	const char *db_path; /* the store's database, for verdicts */
	unsigned timeout_ms; /* each send or receive to clamd */
	unsigned wait_ms;    /* how long an upload waits for an unreachable clamd */
	enum scan_policy unscannable;
	enum scan_policy unreachable;
};

/* Parse "refuse" | "accept-unscanned". */
enum err scan_policy_parse(const char *s, enum scan_policy *out);

enum err scan_start(const struct scan_opts *opts);
void scan_stop(void);
bool scan_enabled(void);

struct scan_outcome {
	enum scan_verdict verdict;         /* SCAN_NONE when scanning is off */
	bool cached;                       /* a stored clean verdict for this database */
	char signature[SCANS_SIG_MAX + 1]; /* infected: the name; unscanned: why */
	char db_version[SCANS_DBVER_MAX + 1];
};

/* Scan the `size` bytes of `fd` (the stored blob `hash`). ERR_OK with
 * out->verdict CLEAN, UNSCANNED (accepted by policy) or NONE (off);
 * ERR_INFECTED (out->signature names it), ERR_UNSCANNABLE, or
 * ERR_SCANNER_UNAVAILABLE under the refuse policies, each with a detail
 * for the client. Blocks: call it on a pool thread. With `force` a
 * stored clean verdict is not trusted (rescan). */
enum err scan_content(int fd, uint64_t size, const char *hash, bool force,
		      struct scan_outcome *out);

/* The work package's managers are told of malware found in an upload:
 * the audit record "malware_found" in the work package (the caller's
 * transaction), an event that only managers see in the activity feed
 * and in notification mail (acl_event_visible, storage/notify.h). */
struct db;
enum err scan_tell_managers(struct db *db, int64_t wp_id, const char *path, const char *signature,
			    int64_t user_id, const char *actor, const char *peer);

/* /healthz: "off", "ok" or "unreachable": clamd at the last contact (a
 * scan, or a question asked on a thread of its own when the last is over
 * two seconds old; never waits for clamd). */
const char *scan_state(void);

/* /metrics: scanner state, verdict counters and scan latencies. */
void scan_metrics(struct evbuffer *out);

#endif
