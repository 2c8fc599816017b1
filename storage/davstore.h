/*
 * davstore — what the WebDAV server keeps beside the tree: dead
 * properties of nodes and write locks on paths (tables dav_props and
 * dav_locks, storage/migrations.c).
 *
 * Nothing here knows HTTP or XML: a property is an opaque, self-contained
 * XML text stored under its (namespace, name); a lock is a row whose
 * path is a string of name keys ("a/b", "" for a work package's root),
 * so the path relations below are plain string comparisons. The server
 * (server/h_dav.c) parses and renders.
 *
 * Changing functions run as one write transaction unless they say they
 * join the caller's (davstore_props_copy, for tree_copy's callback).
 * Errors: ERR_LIMIT past a cap, ERR_LOCKED for a conflicting lock (the
 * detail names the lock's root), ERR_NOTFOUND for an unknown or expired
 * token, ERR_DB / ERR_CONFLICT / ERR_NOSPACE from SQLite.
 */
#ifndef CONSORT_DAVSTORE_H
#define CONSORT_DAVSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "err.h"

/* Caps on what clients may store. */
#define DAVSTORE_PROPS_MAX 200       /* dead properties per node */
#define DAVSTORE_PROP_BYTES 16384    /* XML text of one property */
#define DAVSTORE_NAME_BYTES 1024     /* namespace URI or local name */
#define DAVSTORE_LOCKS_PER_USER 1000 /* live locks of one account */
#define DAVSTORE_OWNER_BYTES 4096    /* the DAV:owner element */
#define DAVSTORE_TOKEN_MAX 128

/* ---- dead properties ---- */

struct davstore_prop {
	char *ns;   /* namespace URI; "" for none */
	char *name; /* local name */
	char *xml;  /* the whole property element, self-contained */
};

/* All dead properties of node `node_id`, ordered by namespace and name.
 * *out is malloc'd (NULL when *n is 0); free with davstore_props_free. */
enum err davstore_props_list(struct db *db, int64_t node_id, struct davstore_prop **out, size_t *n);
void davstore_props_free(struct davstore_prop *p, size_t n);

/* One change of a PROPPATCH: set (xml non-NULL) or remove (xml NULL;
 * removing an absent property is not an error, RFC 4918 9.2). */
struct davstore_change {
	const char *ns;
	const char *name;
	const char *xml;
};

/* Apply changes to node `node_id` in order, all or nothing. ERR_LIMIT
 * when a value is too long or the node would have more than
 * DAVSTORE_PROPS_MAX properties; ERR_INVALID for an empty name. */
enum err davstore_props_apply(struct db *db, int64_t node_id, const struct davstore_change *c,
			      size_t n);

/* Replace the dead properties of `to` with those of `from`. Joins the
 * caller's transaction (tree_copy's on_node callback). */
enum err davstore_props_copy(struct db *db, int64_t from, int64_t to);

/* ---- locks ---- */

struct davstore_lock {
	char token[DAVSTORE_TOKEN_MAX + 1];
	int64_t wp_id;
	char *path; /* name keys, "" for the root */
	char *root; /* names as spelled */
	bool exclusive;
	bool infinite;
	char *owner; /* XML text; "" when none */
	int64_t user_id;
	int64_t timeout; /* seconds */
	int64_t created_at;
	int64_t expires_at;
	/* A check-out (POST .../locks/{path}) rather than a WebDAV LOCK: its
	 * holder writes with their own session, without the token. */
	bool checkout;
};

/* A new lock token: "urn:consort:" and 128 random bits in base64url;
 * "" when no randomness could be had (refuse the lock then). Not a UUID
 * form (opaquelocktoken:, urn:uuid:) on purpose: clients put tokens and
 * our 64-digit ETags together in If headers, and some cut those short
 * (litmus formats them into 200 bytes); 34 characters leave room. RFC
 * 4918 6.5 asks only for a URI unique for all time. */
void davstore_new_token(char out[DAVSTORE_TOKEN_MAX + 1]);

/* True when `path` is `anc` or lies below it ("" is above everything). */
bool davstore_path_within(const char *path, const char *anc);
/* True when lock `l` applies to `path`: it is the lock's root, or below
 * it with an infinite lock. */
bool davstore_lock_covers(const struct davstore_lock *l, const char *path);

/* The live (unexpired) locks of work package `wp_id`, oldest first.
 * *out is malloc'd; free with davstore_locks_free. */
enum err davstore_locks_list(struct db *db, int64_t wp_id, struct davstore_lock **out, size_t *n);
void davstore_locks_free(struct davstore_lock *l, size_t n);

/* Take the lock described by `l` (token, wp_id, path, root, exclusive,
 * infinite, owner, user_id, timeout, checkout; the times are set here) unless a
 * live lock conflicts: an exclusive lock, or any lock when `l` is
 * exclusive, whose root is `l`'s path, above it with infinite depth, or
 * below it when `l` is infinite (ERR_LOCKED, the detail names its root
 * in the form "a/b"; *conflict, when not NULL, receives a malloc'd copy
 * of that root as spelled). Expired locks of the work package are
 * removed in the same transaction. ERR_LIMIT past
 * DAVSTORE_LOCKS_PER_USER. */
enum err davstore_lock_take(struct db *db, struct davstore_lock *l, char **conflict);

/* Extend lock `token` of `user_id` to `timeout` seconds from now; *out
 * (may be NULL) receives the lock. ERR_NOTFOUND when it is not a live
 * lock of that user. */
enum err davstore_lock_refresh(struct db *db, const char *token, int64_t user_id, int64_t timeout,
			       struct davstore_lock *out);

/* Remove lock `token` (whoever holds it; the caller decides who may).
 * ERR_NOTFOUND when there is no such live lock. */
enum err davstore_lock_remove(struct db *db, const char *token);

/* Remove every lock of work package `wp_id` rooted at `path` or below it
 * (after a DELETE or MOVE took the resource away). */
enum err davstore_locks_remove_within(struct db *db, int64_t wp_id, const char *path);

void davstore_lock_clear(struct davstore_lock *l);

#endif
