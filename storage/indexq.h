/*
 * indexq — the search index's view of the store: the persistent index
 * queue, the facts about a document that indexing needs, and the
 * per-document index state shown by the API.
 *
 * The queue (table index_queue) is written by the storage modules in the
 * same transaction as the change it reflects: a new version, a rename,
 * a move, a status change, trash or restore. A row names a node; the
 * indexer looks at the node's state when it gets to the row, so the op
 * is a hint and rows are idempotent. A row may name a folder: it stands
 * for every document below it (a trashed, restored or moved folder is
 * one row, not one per document).
 */
#ifndef CONSORT_INDEXQ_H
#define CONSORT_INDEXQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "err.h"

struct indexq_item {
	int64_t id;
	int64_t node_id;
	bool del; /* op 'delete' */
};

/* Queue a node. Callers that change a node call this inside their own
 * transaction, so the queue never misses a committed change. */
enum err indexq_push(struct db *db, int64_t node_id, bool del);

/* Queue every document (a rebuild after the index was lost). */
enum err indexq_push_all(struct db *db);

/* The oldest `max` rows, oldest first, into items (caller's array). */
enum err indexq_take(struct db *db, size_t max, struct indexq_item *items, size_t *n);

/* Up to `max` rows in turns, one row of each uploader per turn (the
 * uploader of the node's current version; folders and deletions count
 * as one more uploader); within a turn, whoever has fewer rows waiting
 * goes first (then the oldest row), so a take after a take still puts
 * the person with one upload before the one with ten. Rows of the
 * nodes in `skip` are left out. */
enum err indexq_take_fair(struct db *db, size_t max, const int64_t *skip, size_t nskip,
			  struct indexq_item *items, size_t *n);

/* Forget these rows (by row id). */
enum err indexq_finish_ids(struct db *db, const int64_t *ids, size_t n);

/* Forget the rows up to and including id `upto` (they were taken in
 * order, and rows added since have larger ids). */
enum err indexq_finish(struct db *db, int64_t upto);

/* Rows waiting. */
enum err indexq_pending(struct db *db, int64_t *n);

/* What indexing needs to know about a node. Strings are malloc'd;
 * indexq_doc_clear frees them. */
struct indexq_doc {
	bool found; /* the node exists */
	bool is_folder;
	bool trashed;     /* the node or one of its ancestors is in the trash */
	bool has_version; /* a document with a current version */
	int64_t node_id;
	int64_t wp_id;
	char *wp_code;
	char *path; /* below the WP root, '/'-separated, no leading '/' */
	char *name;
	char *deliverable; /* NULL when none */
	char *status;      /* NULL when none */
	int64_t version;   /* number of the current version */
	char blob[65];     /* SHA-256 hex of the current version's content */
	char *mime;
	int64_t size;
	char *uploader; /* display name, "" when unknown */
	int64_t uploaded_at;
	int64_t *folders; /* ancestor folder ids, root first */
	size_t nfolders;
	char *wp_language; /* the WP's language setting; NULL: none */
};

enum err indexq_doc_facts(struct db *db, int64_t node_id, struct indexq_doc *out);
void indexq_doc_clear(struct indexq_doc *d);

/* Ids of the documents (not folders) below folder `folder_id`, at any
 * depth, trashed or not. *ids is malloc'd. */
enum err indexq_documents_under(struct db *db, int64_t folder_id, int64_t **ids, size_t *n);

/* Ids of every document. *ids is malloc'd. */
enum err indexq_all_documents(struct db *db, int64_t **ids, size_t *n);

/* index_state: what happened when a node's current version was indexed. */
struct indexq_state {
	int64_t node_id;
	int64_t version;
	const char *status; /* indexed, truncated, failed */
	const char *reason;
	const char *language;
};

enum err indexq_state_put(struct db *db, const struct indexq_state *st);
enum err indexq_state_delete(struct db *db, int64_t node_id);
/* Forget every node's state: the index they describe is gone. */
enum err indexq_state_clear(struct db *db);

/* Read a node's state: ERR_NOTFOUND when the node was never indexed.
 * Strings are malloc'd into the out parameters (caller frees). */
enum err indexq_state_get(struct db *db, int64_t node_id, int64_t *version, char **status,
			  char **reason, char **language);

/* A work package's code from its id (ERR_NOTFOUND), into buf. */
enum err indexq_wp_code(struct db *db, int64_t wp_id, char *buf, size_t len);
/* A work package's id from its code, case-insensitive (ERR_NOTFOUND). */
enum err indexq_wp_id(struct db *db, const char *code, int64_t *id);

#endif
