/*
 * tree — folders, documents and their versions: the repository over the
 * nodes and versions tables, with quota and retention per work package.
 *
 * A work package's tree hangs from its root folder, the nodes row that
 * wps.root_id names (parent_id NULL, is_folder 1, name ''); the accounts
 * module creates it with the work package. Folders and documents share
 * the tree, so a name is unique among all live siblings, compared by
 * name key (name.h: case-insensitive, normalisation-insensitive); the
 * name keeps the spelling it was created with.
 *
 * Trash: trashing sets trashed_at on the top node only; everything below
 * it becomes unreachable by path, keeps its versions (and counts for the
 * quota), and comes back with it. Purging deletes the subtree and its
 * versions; their blobs are then unreferenced and gc removes them.
 *
 * Transactions: every function below that changes something runs as ONE
 * write transaction (BEGIN IMMEDIATE) on `db`; on any error it is rolled
 * back and nothing changed. Called inside a transaction, it is a
 * savepoint of it instead (db.h), e.g. one upload of a group commit.
 * Reading functions run in one read transaction. Each change that
 * affects search adds rows to index_queue in the same transaction: op
 * 'index' for a new version, rename, move, metadata change and restore
 * from the trash, 'delete' for trash and purge; for a folder, one row
 * per document below it (not below a separately trashed node).
 *
 * Errors: ERR_INVALID bad argument (detail names it); ERR_NOTFOUND no
 * such work package, node, path or version (detail names the missing
 * part); ERR_EXISTS a name clash; ERR_PRECONDITION a condition of a
 * conditional write failed; ERR_QUOTA the work package's quota; ERR_DB,
 * ERR_NOSPACE, ERR_CONFLICT (database busy beyond the timeout) from
 * SQLite.
 *
 * Ownership: struct tree_node / tree_version filled by a function own
 * their strings; release them with tree_node_clear / tree_version_clear
 * (lists with tree_node_list_free / tree_version_list_free). On failure
 * outputs are left empty (safe to clear). User ids are users.id; 0
 * means "nobody" and is stored as NULL.
 */
#ifndef CONSORT_TREE_H
#define CONSORT_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "digest.h"
#include "err.h"
#include "name.h"

#define TREE_LIST_DEFAULT 100
#define TREE_LIST_MAX 1000
#define TREE_COMMENT_MAX 2000 /* bytes of a version comment */
#define TREE_MIME_MAX 255
#define TREE_DELIVERABLE_MAX 16 /* bytes of a deliverable code, with NUL */
/* Setting key (settings table) for the quota of work packages whose
 * wps.quota_bytes is NULL; absent: no limit. */
#define TREE_DEFAULT_QUOTA_KEY "quota.default_bytes"
/* Setting keys for the retention of work packages whose keep_versions /
 * keep_days are NULL (settings.h; the server writes them from its
 * configuration). Absent: no such rule. */
#define TREE_DEFAULT_KEEP_VERSIONS_KEY "retention.default_keep_versions"
#define TREE_DEFAULT_KEEP_DAYS_KEY "retention.default_keep_days"

enum tree_status {
	TREE_STATUS_NONE = 0, /* no status set */
	TREE_STATUS_DRAFT,
	TREE_STATUS_REVIEW,
	TREE_STATUS_FINAL,
};

/* "draft", "review", "final"; "" for TREE_STATUS_NONE. */
const char *tree_status_name(enum tree_status s);

/* Parse "draft", "review" (also "in review"), "final", or "" (none).
 * ERR_INVALID otherwise. */
enum err tree_status_parse(const char *s, enum tree_status *out);

/* Check a deliverable code: "D" then the work package number, a dot and
 * the deliverable number, optionally one more ".n" (D5.2, D10.1,
 * D1.2.3); numbers of 1 to 3 digits. A lower-case "d" is accepted and
 * written upper-case into `out`. ERR_INVALID names the expected form. */
enum err tree_deliverable_check(const char *code, char out[TREE_DELIVERABLE_MAX]);

struct tree_node {
	int64_t id;
	int64_t wp_id;
	int64_t parent_id; /* 0 for a work package's root */
	bool is_folder;
	char *name;        /* NFC; "" for a root */
	char *deliverable; /* NULL when none */
	enum tree_status status;
	int64_t version;                      /* current version number; 0 for folders */
	uint64_t size;                        /* of the current version; 0 for folders */
	char blob[DIGEST_SHA256_HEX_LEN + 1]; /* current version; "" for folders */
	char *mime;                           /* current version; NULL for folders */
	int64_t created_at;
	int64_t created_by;
	int64_t modified_at; /* last new version, rename, move, metadata */
	int64_t modified_by;
	char *modified_by_name; /* users.name; NULL when unknown */
	int64_t trashed_at;     /* 0 unless this node itself is in the trash */
	int64_t trashed_by;
	char *trashed_by_name; /* users.name; NULL when unknown */
	char *path;            /* "a/b/name"; only where a function says so */
};

struct tree_version {
	int64_t number;
	uint64_t size;
	char blob[DIGEST_SHA256_HEX_LEN + 1];
	char *mime;
	int64_t uploaded_by;
	char *uploaded_by_name; /* NULL when unknown */
	int64_t uploaded_at;
	char *comment;         /* "" when none */
	int64_t restored_from; /* the version it restored, 0 if none */
};

struct tree_node_list {
	struct tree_node *items;
	size_t n;
	uint64_t total; /* entries in the whole listing, for paging */
};

struct tree_version_list {
	struct tree_version *items;
	size_t n;
	uint64_t total;
};

void tree_node_clear(struct tree_node *n);
void tree_version_clear(struct tree_version *v);
void tree_node_list_free(struct tree_node_list *l);
void tree_version_list_free(struct tree_version_list *l);

/* ---- reading ---- */

/* Resolve a path in work package `wp_id` to a live node (the root for an
 * empty path). ERR_NOTFOUND names the first missing part, or the
 * document that was used as a folder. */
enum err tree_resolve(struct db *db, int64_t wp_id, const struct name_path *path,
		      struct tree_node *out);

/* A node of the work package by id, live or in the trash (or below a
 * trashed folder). out->path is filled. */
enum err tree_get(struct db *db, int64_t wp_id, int64_t node_id, struct tree_node *out);

enum tree_sort { TREE_SORT_NAME, TREE_SORT_MODIFIED, TREE_SORT_SIZE };

struct tree_list_opts {
	enum tree_sort sort; /* name: by name key; modified: newest first; size: largest first */
	bool reverse;        /* reverse the order of the sort key */
	uint64_t offset;
	size_t limit; /* 0: TREE_LIST_DEFAULT; more than TREE_LIST_MAX: ERR_INVALID */
};

/* One page of the live entries of folder `folder_id`: folders first,
 * then documents, each group in the order asked (ties by name key).
 * `opts` NULL: by name, first page. ERR_NOTFOUND when the folder is not a
 * live folder of the work package. */
enum err tree_list(struct db *db, int64_t wp_id, int64_t folder_id,
		   const struct tree_list_opts *opts, struct tree_node_list *out);

/* One page of the versions of document `node_id`, newest first. limit 0:
 * TREE_LIST_DEFAULT; over TREE_LIST_MAX: ERR_INVALID. */
enum err tree_versions(struct db *db, int64_t wp_id, int64_t node_id, uint64_t offset, size_t limit,
		       struct tree_version_list *out);

/* Version `number` of document `node_id` (0: the current one), e.g. to
 * download it. ERR_NOTFOUND when it does not exist (or was pruned). */
enum err tree_version_get(struct db *db, int64_t wp_id, int64_t node_id, int64_t number,
			  struct tree_version *out);

/* The path of a node from its work package's root ("a/b/c"; "" for the
 * root), whether or not it is in the trash. malloc'd into *out. */
enum err tree_path(struct db *db, int64_t node_id, char **out);

/* ---- changing ---- */

/* Create the folder `path`. With `parents`, create missing folders on
 * the way and accept an existing folder (mkdir -p); without, the parent
 * must exist and the name must be free (ERR_EXISTS). A document on the
 * way: ERR_EXISTS. On success *out (may be NULL) is the folder. */
enum err tree_mkdir(struct db *db, int64_t wp_id, const struct name_path *path, int64_t user_id,
		    bool parents, struct tree_node *out);

enum tree_cond {
	TREE_COND_NONE = 0, /* create the document or add a version */
	TREE_COND_ABSENT,   /* create only: ERR_PRECONDITION when it exists (If-None-Match: *) */
	TREE_COND_EXISTS,   /* add a version only: ERR_PRECONDITION when absent (If-Match: *) */
};

struct tree_put_result;

struct tree_put {
	int64_t user_id;
	const char *blob;    /* SHA-256 hex of content stored in the cas (and held) */
	uint64_t size;       /* its size in bytes */
	const char *mime;    /* detected MIME type, 1..TREE_MIME_MAX printable ASCII */
	const char *comment; /* NULL or "": none; at most TREE_COMMENT_MAX bytes of UTF-8 */
	enum tree_cond cond;
	int64_t if_version;  /* non-zero: the current version must be this number */
	const char *if_blob; /* non-NULL: the current version's blob must be this hash
				(an ETag); with if_version both must hold */
	bool parents;        /* create missing folders on the way */
	/* Optional: called inside the transaction once the version is
	 * written, with its result, so a record of the change (an audit
	 * row, a finished upload) commits with it or not at all. Returning
	 * non-zero rolls everything back and tree_put returns that error. */
	enum err (*in_txn)(struct db *db, const struct tree_put_result *res, void *arg);
	void *in_txn_arg;
};

struct tree_put_result {
	int64_t node_id;
	int64_t version; /* number of the new version */
	bool created;    /* the document is new */
	uint64_t pruned; /* older versions removed by retention */
};

/* Create document `path` or add a version to it with a stored blob,
 * then apply the work package's retention to that document and check
 * its quota. A version never replaces a folder (ERR_EXISTS). An existing
 * document keeps its name's spelling. ERR_PRECONDITION when a condition
 * fails: the detail says which ("current version is 4"). ERR_QUOTA when
 * the work package would be over quota afterwards and the change grew
 * it. The caller holds the blob (cas_blob) until the transaction that
 * references it has committed (this call's own, or the enclosing one). */
enum err tree_put(struct db *db, int64_t wp_id, const struct name_path *path,
		  const struct tree_put *req, struct tree_put_result *out);

/* Make a new version of document `path` with the content of its version
 * `number` (restored_from = number). `comment` NULL: "restored from
 * version N". `if_version` non-zero: ERR_PRECONDITION unless it is the
 * current version. Quota and retention apply as for tree_put. */
enum err tree_restore_version(struct db *db, int64_t wp_id, const struct name_path *path,
			      int64_t number, int64_t user_id, const char *comment,
			      int64_t if_version, struct tree_put_result *out);

enum tree_move_flags {
	/* A node already at the destination goes to the trash first (in the
	 * same transaction), as WebDAV MOVE with Overwrite: T asks.
	 * Without it a clash is ERR_EXISTS. */
	TREE_MOVE_REPLACE = 1,
	/* With TREE_MOVE_REPLACE, when the source and the node already at the
	 * destination are both documents: the destination keeps its identity
	 * and history and gets the source's current content as a new version
	 * ("moved from PATH"), and the source goes to the trash. Clients that
	 * save by writing a temporary file and renaming it over the original
	 * (WebDAV MOVE with Overwrite: T) then keep the document's history. */
	TREE_MOVE_VERSION = 2,
};

/* Move and/or rename the node at `from` to `to` (the full new path,
 * with its name) in the same work package. The destination's parent
 * must be a live folder. A folder cannot go into itself or below itself
 * (ERR_INVALID), nor deeper than NAME_MAX_DEPTH. Renaming to a
 * different case of the same name is allowed. The root cannot move.
 * On success *out (may be NULL) is the moved node. */
enum err tree_move(struct db *db, int64_t wp_id, const struct name_path *from,
		   const struct name_path *to, int64_t user_id, unsigned flags,
		   struct tree_node *out);

enum tree_copy_flags {
	/* A node at the destination is replaced: a document receiving a
	 * document gets the content as a new version (history kept); any
	 * other clash goes to the trash first. Without it: ERR_EXISTS. */
	TREE_COPY_REPLACE = 1,
	/* A folder is copied alone, without what it contains (WebDAV
	 * Depth: 0). */
	TREE_COPY_SHALLOW = 2,
};

/* Most nodes one tree_copy creates; more is ERR_LIMIT and nothing is
 * copied. */
#define TREE_COPY_MAX 10000

struct tree_copy {
	int64_t user_id;
	unsigned flags; /* enum tree_copy_flags */
	/* Optional: called inside the transaction for every node copied
	 * (`from` the source node, `to` the new node or the document that
	 * got a new version), so data kept beside nodes (WebDAV dead
	 * properties) is copied with them. Non-zero rolls everything back. */
	enum err (*on_node)(struct db *db, int64_t from, int64_t to, void *arg);
	void *on_node_arg;
};

struct tree_copy_result {
	int64_t node_id; /* the copy at the destination */
	bool replaced;   /* something was at the destination */
	uint64_t nodes;  /* nodes created or given a new version */
};

/* Copy the live node at `from` in work package `src_wp` to `to` (the
 * full new path) in `dst_wp`, which may be another work package. A
 * document becomes a new document whose version 1 has the source's
 * current content (the blob is shared, not copied; comment "copied from
 * PATH"); a folder is copied with everything live below it. The
 * destination's parent must be a live folder (ERR_NOTFOUND). A folder
 * cannot be copied into itself (ERR_INVALID), nor deeper than
 * NAME_MAX_DEPTH. The destination work package's quota applies. One
 * transaction; *out may be NULL. */
enum err tree_copy(struct db *db, int64_t src_wp, const struct name_path *from, int64_t dst_wp,
		   const struct name_path *to, const struct tree_copy *req,
		   struct tree_copy_result *out);

/* Would creating `path` (a new document or folder, and the missing
 * folders above it) clash with a name that only looks the same (name.h:
 * the look-alike key) in the first folder where something is missing?
 * ERR_CONFLICT naming the sibling; ERR_OK otherwise, also when the path
 * exists or cannot be made for another reason (those are told by the
 * write itself). Every write checks this again; handlers ask it before
 * a body is read, so a refusal comes before the bytes. */
enum err tree_look_alike_check(struct db *db, int64_t wp_id, const struct name_path *path);

/* Rename the node at `path` in its folder. `new_name` is checked with
 * name_check. */
enum err tree_rename(struct db *db, int64_t wp_id, const struct name_path *path,
		     const char *new_name, int64_t user_id, struct tree_node *out);

struct tree_meta {
	bool set_deliverable;
	const char *deliverable; /* NULL or "": clear; else checked code */
	bool set_status;
	enum tree_status status;
};

/* Set deliverable code and/or status of document `path` (ERR_INVALID
 * for a folder). On success *out (may be NULL) is the document. */
enum err tree_set_meta(struct db *db, int64_t wp_id, const struct name_path *path,
		       const struct tree_meta *meta, int64_t user_id, struct tree_node *out);

/* Move the node at `path` (not the root) to the trash. *node_id (may be
 * NULL) receives its id, the handle for restore and purge. */
enum err tree_trash(struct db *db, int64_t wp_id, const struct name_path *path, int64_t user_id,
		    int64_t *node_id);

/* One page of the work package's trash, most recently trashed first;
 * each item has `path` (where it was). limit as for tree_list. */
enum err tree_trash_list(struct db *db, int64_t wp_id, uint64_t offset, size_t limit,
			 struct tree_node_list *out);

/* Bring trash entry `node_id` back where it was, under `new_name` when
 * not NULL. ERR_NOTFOUND when it is not a trash entry of the work
 * package; ERR_CONFLICT when the folder it was in is itself in the trash
 * (restore that first); ERR_EXISTS when its name is taken there now (the
 * detail says where, so another name can be given). *out may be NULL. */
enum err tree_trash_restore(struct db *db, int64_t wp_id, int64_t node_id, int64_t user_id,
			    const char *new_name, struct tree_node *out);

struct tree_purge_result {
	uint64_t nodes;    /* folders and documents deleted */
	uint64_t versions; /* versions deleted */
	uint64_t bytes;    /* their total size (now free in the quota) */
};

/* Delete trash entry `node_id` for good, with everything below it and
 * all their versions. ERR_NOTFOUND unless it is a trash entry of the
 * work package. *out may be NULL. */
enum err tree_purge(struct db *db, int64_t wp_id, int64_t node_id, struct tree_purge_result *out);

/* ---- quota and retention ---- */

struct tree_usage {
	uint64_t used;  /* bytes of every stored version in the work package */
	bool limited;   /* false: no quota */
	uint64_t quota; /* when limited */
};

/* The quota rule: every stored version of every document in the work
 * package counts with its full size, trashed ones included, shared
 * (deduplicated) content counted each time (docs/storage.md). */
enum err tree_usage(struct db *db, int64_t wp_id, struct tree_usage *out);

/* Before an upload starts: ERR_QUOTA when `incoming` more bytes would
 * put the work package over its quota (the detail gives the figures).
 * tree_put checks again at commit, after retention. */
enum err tree_quota_check(struct db *db, int64_t wp_id, uint64_t incoming);

/* Apply retention (wps.keep_versions / keep_days, each falling back to
 * the TREE_DEFAULT_KEEP_* setting when NULL) to every document of
 * work package `wp_id`, or of all work packages when 0. A version is
 * kept when it is the current one, or among the newest keep_versions,
 * or younger than keep_days; a NULL rule keeps nothing by itself, and
 * with both NULL every version is kept. One transaction. `report` (may
 * be NULL) is called in it, before the removal, for each work package
 * that loses versions, with how many (an audit record commits with the
 * removal; its error rolls everything back). *pruned (may be NULL) gets
 * the number of versions removed. */
typedef enum err (*tree_retention_report_fn)(struct db *db, int64_t wp_id, uint64_t versions,
					     void *arg);
enum err tree_retention_apply(struct db *db, int64_t wp_id, tree_retention_report_fn report,
			      void *arg, uint64_t *pruned);

/* What tree_retention_apply would remove from work package `wp_id` if
 * its rules were `keep_versions` and `keep_days` (-1: the store's
 * default, 0: no such rule), without removing anything: the number of
 * versions and their total size. One read transaction. */
enum err tree_retention_preview(struct db *db, int64_t wp_id, int64_t keep_versions,
				int64_t keep_days, uint64_t *versions, uint64_t *bytes);

struct tree_wp_stats {
	uint64_t used; /* as tree_usage */
	bool limited;
	uint64_t quota;
	uint64_t documents;     /* live documents (not in or below the trash) */
	uint64_t versions;      /* their stored versions */
	uint64_t trash_entries; /* entries in the trash (top nodes) */
	uint64_t trash_bytes;   /* size of every version in or below them */
};

/* A work package's usage against its quota, for its settings page. One
 * read transaction. */
enum err tree_wp_stats(struct db *db, int64_t wp_id, struct tree_wp_stats *out);

#endif
