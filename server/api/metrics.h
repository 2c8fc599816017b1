/*
 * metrics — the figures behind GET /metrics, in the Prometheus text
 * exposition format (version 0.0.4).
 *
 * Requests are counted per route of the router table (method and
 * pattern, never the raw path), so the number of series is bounded by
 * the table, not by what clients send: requests that match no route
 * share the route label "unmatched", and requests that never got a
 * method (a malformed head) the label "malformed".
 *
 * The request path takes no lock: each worker thread owns a shard of
 * counters that only it writes (relaxed atomic loads and stores, no
 * read-modify-write), and a scrape adds the shards up. Scrapes are rare
 * next to requests, so the scrape pays.
 *
 * Other figures come from the modules that own them: a value is moved
 * with metrics_add where it changes (an upload starts), or set with
 * metrics_set by the /metrics handler just before rendering (figures it
 * reads cheaply: the index queue, the indexer's counters). A value
 * nobody feeds is left out of the exposition rather than shown as a
 * made-up 0.
 *
 * Blob store size and count are not walked per scrape: a background
 * thread walks DATA/blobs at start and then every `interval`, and the
 * blobs this process stores in between are added from the store's own
 * counter (cas_added). Blobs removed by `consort gc` (another process)
 * are seen at the next walk. The same thread counts the small-content
 * tier (the table small_blobs, storage/smallblob.h) at each walk, over a
 * database connection of its own; those two figures move only then.
 *
 * What /metrics shows is operational and aggregate: route patterns,
 * status codes, latencies, byte and connection counts, store and queue
 * sizes. It names no user, partner, work package, document or path, and
 * carries no secret. Who may scrape is the policy's decision (acl.c,
 * ACCESS_SCRAPER), on metrics_scraper_allowed().
 */
#ifndef CONSORT_METRICS_H
#define CONSORT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct cas;
struct evbuffer;
struct route;

/* Values fed by their owners. */
enum metrics_value {
	METRICS_UPLOADS_ACTIVE,      /* gauge: resumable uploads with a live writer */
	METRICS_INDEX_QUEUE,         /* gauge: index_queue rows waiting */
	METRICS_EXTRACT_FAILURES,    /* counter: documents whose extraction failed */
	METRICS_INDEX_DOCS,          /* gauge: documents in the search index */
	METRICS_INDEX_COMMITS,       /* counter: commits of the search index */
	METRICS_MAIL_QUEUED,         /* gauge: outbox messages waiting to be sent */
	METRICS_MAIL_RETRYING,       /* gauge: of those, ones that failed at least once */
	METRICS_MAIL_FAILED,         /* gauge: messages given up on (3 days of failures) */
	METRICS_MAIL_OLDEST,         /* gauge: age of the oldest waiting message, seconds */
	METRICS_MAIL_SENT,           /* counter: messages handed over since start */
	METRICS_MAIL_SEND_ERRORS,    /* counter: failed attempts since start */
	METRICS_GC_RUNS,             /* counter: the server's own gc runs that finished */
	METRICS_GC_FAILURES,         /* counter: ... that failed */
	METRICS_GC_BYTES_RECLAIMED,  /* counter: bytes of blobs they deleted */
	METRICS_GC_LAST_RUN,         /* gauge: Unix time the last one finished */
	METRICS_GC_LAST_DURATION_MS, /* gauge: how long it took, ms (shown in seconds) */
	METRICS_COMMIT_BATCHES,      /* counter: group commits (transactions) of uploads */
	METRICS_COMMIT_CHANGES,      /* counter: uploads committed in them */
	METRICS__COUNT
};

struct metrics_opts {
	const struct route *routes; /* the router table */
	size_t nroutes;
	unsigned nshards;       /* worker threads; shard i belongs to worker i */
	const char *data_dir;   /* for the filesystem figures */
	struct cas *cas;        /* the blob store, NULL: no blob figures */
	const char *db_path;    /* consort.db, NULL: no small-content figures */
	unsigned blob_scan_ms;  /* walk DATA/blobs this often; 0: only at start */
	const char *allow;      /* metrics-allow: comma-separated CIDR prefixes, or "none" */
	const char *token_file; /* metrics-token-file: NULL for none */
};

/* Set up the counters for a server and start the blob-walking thread
 * (when there is a blob store or a database to count; the thread opens
 * the database itself and closes it when it stops).
 * Parses the allow list and reads the token file: a malformed prefix, or
 * a token file that cannot be read or holds too short a token, fails
 * with ERR_INVALID naming the option. Process-wide; one server at a
 * time. */
enum err metrics_start(const struct metrics_opts *opts);

/* Stop the thread and free everything. Safe when metrics_start failed
 * or was never called. */
void metrics_stop(void);

/* Check an allow list without starting anything (for config checks and
 * tests). ERR_INVALID with a detail naming the bad entry. */
enum err metrics_allow_check(const char *allow);

/* One finished request, on the worker thread that owns shard `shard`.
 * `route` is the matched route, NULL when none matched (404, 405, or a
 * head refused before routing). `status` 0 when no response was sent.
 * Without metrics_start this does nothing. */
void metrics_request(unsigned shard, const struct route *route, int status, uint64_t bytes_in,
		     uint64_t bytes_out, uint64_t duration_us);

/* Thread-safe; a value set once is shown from then on. */
void metrics_set(enum metrics_value v, int64_t x);
void metrics_add(enum metrics_value v, int64_t delta);

/* Figures read at scrape time by the caller (they live in server.c). */
struct metrics_live {
	unsigned open_connections;
	uint64_t tls_handshakes;
};

/* Write the whole exposition into `out`. */
enum err metrics_render(const struct metrics_live *live, struct evbuffer *out);

/* Whether a scrape from `peer` (textual IPv4 or IPv6 address) with the
 * Authorization header `authorization` (may be NULL) is allowed: the
 * peer is in the allow list, or the header is "Bearer <token>" with the
 * configured token (compared in constant time). ERR_UNAUTHENTICATED for
 * a wrong token, ERR_FORBIDDEN for a peer outside the list without one. */
enum err metrics_scraper_allowed(const char *peer, const char *authorization);

#endif
