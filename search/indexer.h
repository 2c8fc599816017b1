/*
 * indexer — keeps the Xapian index in step with the store.
 *
 * One indexer per server process, with its own thread, its own database
 * connection, the one Xapian writer and the extraction helper. It
 * consumes index_queue oldest first. For each node it looks at what the
 * store says now (trashed? current version? path?) and at what the
 * index holds for it (version and a fingerprint of the metadata), and
 * does the least that makes them agree:
 *   gone, trashed, no version   → delete the document
 *   same version, same metadata → nothing
 *   same version, new metadata  → rewrite metadata, keep the text
 *   new version                 → extract (helper process) and index
 * So a document is extracted once per version, whatever happens: a
 * batch whose Xapian commit landed but whose queue rows were not yet
 * cleared (SIGKILL in between) is found already done on restart.
 *
 * Batches commit when they reach a count or a byte size of extracted
 * text, whichever comes first. After the Xapian commit one SQLite
 * transaction records index_state and clears the rows it covered.
 *
 * The index directory is DATA/index/current (a symlink to gen-*). A
 * missing index is created empty and every document queued.
 * indexer_rebuild (consort reindex) builds a fresh generation beside
 * the live one and switches the link atomically; the running server's
 * indexer notices the new target inside the transaction that finishes
 * its next batch (or within poll_ms when idle) and moves its writer
 * there, and every reader notices before its next search.
 */
#ifndef CONSORT_INDEXER_H
#define CONSORT_INDEXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cas.h"
#include "err.h"
#include "extract.h"

struct indexer;

enum indexer_log_level { INDEXER_INFO, INDEXER_WARN, INDEXER_ERROR };

struct indexer_opts {
	const char *data_dir;
	char *const *helper_argv; /* starts `consort extract-worker` */
	struct extract_limits limits;
	size_t batch_docs;    /* commit after this many documents... */
	uint64_t batch_bytes; /* ...or this much extracted text */
	unsigned poll_ms;     /* idle wait between looks at the queue */
	/* Wait between a batch and the next when changes came in while
	 * the batch ran: a burst is indexed in a few commits (each costs
	 * several flushes that compete with the uploads' own) instead of
	 * one per document. 0: no wait. */
	unsigned gap_ms;
	/* CPU seconds of a document's first try; one that needs more is set
	 * aside and extracted under `limits` when nothing else waits. 0 or
	 * >= limits.cpu_seconds: every document gets the full limit. */
	unsigned first_cpu_seconds;
	unsigned batch_ms; /* a batch that ran this long commits at once */
	/* Language of a document that neither declares one nor could be
	 * identified (ISO 639-1, as lang_normalize gives it); NULL or "":
	 * none, its words are not stemmed. */
	const char *fallback_lang;
	void (*log)(enum indexer_log_level level, const char *msg);
	/* The server's blob store, shared (its object store connections
	 * and read cache); NULL: the indexer opens its own when the blobs
	 * are in an object store. */
	struct cas *cas;
};

void indexer_opts_default(struct indexer_opts *o);

/* DATA/index/current, into buf. */
void indexer_link_path(const char *data_dir, char *buf, size_t len);

/* Open the database, the index (creating it and queueing every document
 * when there is none) and the helper handle. No thread yet. */
enum err indexer_open(const struct indexer_opts *opts, struct indexer **out);

/* Process the queue on the calling thread until it is empty or `max`
 * batches ran (0: no cap). *docs counts documents looked at. */
enum err indexer_drain(struct indexer *ix, size_t max, size_t *docs);

/* Run indexer_drain in a background thread until indexer_stop. */
enum err indexer_start(struct indexer *ix);

/* Wake the thread now (a change was just committed). */
void indexer_kick(struct indexer *ix);

/* Stop the thread: an extraction in progress is abandoned (its batch is
 * not committed, so it is done again next time). */
void indexer_stop(struct indexer *ix);

/* Stops if needed and frees. Accepts NULL. */
void indexer_close(struct indexer *ix);

/* Counters, for /metrics and tests. */
struct indexer_stats {
	uint64_t extracted; /* documents sent to the helper */
	uint64_t meta_updates;
	uint64_t deleted;
	uint64_t skipped;  /* already up to date */
	uint64_t failed;   /* extraction failed */
	uint64_t deferred; /* first try out of time: left for the slow lane */
	uint64_t commits;
	uint64_t doccount; /* documents in the index */
};
void indexer_stats(struct indexer *ix, struct indexer_stats *out);

/* consort reindex: build a new index generation from every document,
 * catch up with changes made meanwhile, switch DATA/index/current to it
 * atomically and delete the old generation. A running server keeps
 * answering from the old index until the switch. */
enum err indexer_rebuild(const struct indexer_opts *opts, struct indexer_stats *stats);

#endif
