/* tree — see tree.h. */
#include "tree.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cas.h"
#include "name.h"
#include "db_internal.h"

/* Columns of a node as struct tree_node reads them (read_node). */
#define NODE_COLS                                                                                  \
	"n.id, n.wp_id, n.parent_id, n.is_folder, n.name, n.deliverable, n.status,"                \
	" n.current_version, v.size, v.blob, v.mime, n.created_at, n.created_by,"                  \
	" n.modified_at, n.modified_by, u.name, n.trashed_at, n.trashed_by, tb.name"
#define NODE_FROM                                                                                  \
	" FROM nodes n LEFT JOIN versions v ON v.node_id = n.id AND v.number = n.current_version"  \
	" LEFT JOIN users u ON u.id = n.modified_by LEFT JOIN users tb ON tb.id = n.trashed_by"

#define VERSION_COLS                                                                               \
	"v.number, v.size, v.blob, v.mime, v.uploaded_by, u.name, v.uploaded_at, v.comment,"       \
	" v.restored_from"
#define VERSION_FROM " FROM versions v LEFT JOIN users u ON u.id = v.uploaded_by"

/* Ancestors of ?1, itself included, nearest first. The depth bound only
 * guards against a corrupt cycle; real trees are NAME_MAX_DEPTH deep. */
#define UP_CTE                                                                                     \
	"WITH RECURSIVE up(id, parent_id, name, trashed_at, depth) AS ("                           \
	" SELECT id, parent_id, name, trashed_at, 0 FROM nodes WHERE id = ?1"                      \
	" UNION ALL SELECT n.id, n.parent_id, n.name, n.trashed_at, up.depth + 1"                  \
	" FROM nodes n JOIN up ON n.id = up.parent_id WHERE up.depth < 256) "

/* ?1 and every node below it. */
#define SUB_CTE                                                                                    \
	"WITH RECURSIVE sub(id, depth) AS (SELECT ?1, 0"                                           \
	" UNION ALL SELECT n.id, sub.depth + 1 FROM nodes n JOIN sub ON n.parent_id = sub.id"      \
	" WHERE sub.depth < 256) "

/* ?1 and every node below it that is reachable when ?1 is: the descent
 * stops at nodes trashed on their own. */
#define LIVE_SUB_CTE                                                                               \
	"WITH RECURSIVE sub(id, depth) AS (SELECT ?1, 0"                                           \
	" UNION ALL SELECT n.id, sub.depth + 1 FROM nodes n JOIN sub ON n.parent_id = sub.id"      \
	" WHERE n.trashed_at IS NULL AND sub.depth < 256) "

/* ---- small helpers ---- */

/* A page of a listing, begun inside a read transaction: counts the rows
 * with `count_sql` (bound to `id`) into *total, allocates *items with
 * room for `limit` zeroed records of `size` bytes (the caller frees it,
 * also on failure), and gives back the listing statement `sql` bound to
 * id, limit and offset, ready to step. */
static enum err page_start(struct db *db, const char *count_sql, const char *sql, int64_t id,
			   size_t limit, uint64_t offset, const char *what, uint64_t *total,
			   void **items, size_t size, sqlite3_stmt **out)
{
	sqlite3_stmt *st;
	bool row;
	enum err rc = db_stmt(db, count_sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, id);
	rc = db_step(db, st, what, &row);
	if (!rc && row)
		*total = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc)
		return rc;
	*items = calloc(limit, size);
	if (!*items)
		return err_set(ERR_NOMEM, "out of memory");
	rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, id);
	db_bind_int64(db, st, 2, (int64_t)limit);
	db_bind_int64(db, st, 3, (int64_t)offset);
	*out = st;
	return ERR_OK;
}

static void copy_hash(char dst[DIGEST_SHA256_HEX_LEN + 1], sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(dst, DIGEST_SHA256_HEX_LEN + 1, "%s", t ? (const char *)t : "");
}

static void fmt_bytes(uint64_t n, char *buf, size_t cap)
{
	static const char *const unit[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)n;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof unit / sizeof unit[0]) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, cap, "%" PRIu64 " bytes", n);
	else
		snprintf(buf, cap, "%.1f %s", v, unit[u]);
}

/* "a/b/c" of the first n names of a path, for details. */
static const char *prefix(const struct name_path *p, size_t n, char *buf, size_t cap)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && o < cap; i++)
		o += (size_t)snprintf(buf + o, cap - o, "%s%s", i ? "/" : "", p->names[i]);
	return buf;
}

static enum err txn_end(struct db *db, enum err rc)
{
	if (!rc)
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
	return rc;
}

void tree_node_clear(struct tree_node *n)
{
	if (!n)
		return;
	free(n->name);
	free(n->deliverable);
	free(n->mime);
	free(n->modified_by_name);
	free(n->trashed_by_name);
	free(n->path);
	memset(n, 0, sizeof *n);
}

void tree_version_clear(struct tree_version *v)
{
	if (!v)
		return;
	free(v->mime);
	free(v->uploaded_by_name);
	free(v->comment);
	memset(v, 0, sizeof *v);
}

void tree_node_list_free(struct tree_node_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		tree_node_clear(&l->items[i]);
	free(l->items);
	memset(l, 0, sizeof *l);
}

void tree_version_list_free(struct tree_version_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		tree_version_clear(&l->items[i]);
	free(l->items);
	memset(l, 0, sizeof *l);
}

/* ---- status and deliverables ---- */

const char *tree_status_name(enum tree_status s)
{
	switch (s) {
	case TREE_STATUS_DRAFT: return "draft";
	case TREE_STATUS_REVIEW: return "review";
	case TREE_STATUS_FINAL: return "final";
	default: return "";
	}
}

enum err tree_status_parse(const char *s, enum tree_status *out)
{
	if (!s || !*s)
		*out = TREE_STATUS_NONE;
	else if (!strcmp(s, "draft"))
		*out = TREE_STATUS_DRAFT;
	else if (!strcmp(s, "review") || !strcmp(s, "in review"))
		*out = TREE_STATUS_REVIEW;
	else if (!strcmp(s, "final"))
		*out = TREE_STATUS_FINAL;
	else
		return err_set(ERR_INVALID, "status must be draft, review or final, not '%.40s'",
			       s);
	return ERR_OK;
}

static enum tree_status status_of(const unsigned char *s)
{
	enum tree_status st = TREE_STATUS_NONE;

	if (s)
		tree_status_parse((const char *)s, &st);
	return st;
}

enum err tree_deliverable_check(const char *code, char out[TREE_DELIVERABLE_MAX])
{
	size_t i = 1, groups = 0, len = code ? strlen(code) : 0;

	if (len == 0 || len >= TREE_DELIVERABLE_MAX || (code[0] != 'D' && code[0] != 'd'))
		goto bad;
	/* digits ("." digits){1,2}, each 1..3 digits */
	for (;;) {
		size_t digits = 0;

		while (code[i] >= '0' && code[i] <= '9') {
			i++;
			digits++;
		}
		if (digits < 1 || digits > 3)
			goto bad;
		groups++;
		if (code[i] == '\0')
			break;
		if (code[i] != '.')
			goto bad;
		i++;
	}
	if (groups < 2 || groups > 3)
		goto bad;
	memcpy(out, code, len + 1);
	out[0] = 'D';
	return ERR_OK;
bad:
	return err_set(
		ERR_INVALID,
		"deliverable code '%.40s' is not of the form D<wp>.<n> (e.g. D5.2 or D1.2.3)",
		code ? code : "");
}

/* ---- reading rows ---- */

static char *col_strdup(sqlite3_stmt *st, int col, enum err *rc)
{
	return db_column_strdup(st, col, rc);
}

static enum err read_node(sqlite3_stmt *st, struct tree_node *n)
{
	enum err rc = ERR_OK;

	memset(n, 0, sizeof *n);
	n->id = sqlite3_column_int64(st, 0);
	n->wp_id = sqlite3_column_int64(st, 1);
	n->parent_id = sqlite3_column_int64(st, 2);
	n->is_folder = sqlite3_column_int(st, 3) != 0;
	n->name = col_strdup(st, 4, &rc);
	n->deliverable = col_strdup(st, 5, &rc);
	n->status = status_of(sqlite3_column_text(st, 6));
	n->version = sqlite3_column_int64(st, 7);
	n->size = (uint64_t)sqlite3_column_int64(st, 8);
	copy_hash(n->blob, st, 9);
	n->mime = col_strdup(st, 10, &rc);
	n->created_at = sqlite3_column_int64(st, 11);
	n->created_by = sqlite3_column_int64(st, 12);
	n->modified_at = sqlite3_column_int64(st, 13);
	n->modified_by = sqlite3_column_int64(st, 14);
	n->modified_by_name = col_strdup(st, 15, &rc);
	n->trashed_at = sqlite3_column_int64(st, 16);
	n->trashed_by = sqlite3_column_int64(st, 17);
	n->trashed_by_name = col_strdup(st, 18, &rc);
	if (!rc && !n->name)
		rc = err_set(ERR_CORRUPT, "node %" PRId64 " has no name", n->id);
	if (rc)
		tree_node_clear(n);
	return rc;
}

static enum err read_version(sqlite3_stmt *st, struct tree_version *v)
{
	enum err rc = ERR_OK;

	memset(v, 0, sizeof *v);
	v->number = sqlite3_column_int64(st, 0);
	v->size = (uint64_t)sqlite3_column_int64(st, 1);
	copy_hash(v->blob, st, 2);
	v->mime = col_strdup(st, 3, &rc);
	v->uploaded_by = sqlite3_column_int64(st, 4);
	v->uploaded_by_name = col_strdup(st, 5, &rc);
	v->uploaded_at = sqlite3_column_int64(st, 6);
	v->comment = col_strdup(st, 7, &rc);
	v->restored_from = sqlite3_column_int64(st, 8);
	if (!rc && (!v->mime || !v->comment))
		rc = err_set(ERR_CORRUPT, "version %" PRId64 " lacks its MIME type or comment",
			     v->number);
	if (rc)
		tree_version_clear(v);
	return rc;
}

static enum err load_node(struct db *db, int64_t id, struct tree_node *out)
{
	static const char sql[] = "SELECT " NODE_COLS NODE_FROM " WHERE n.id = ?1";
	sqlite3_stmt *st;
	bool row;
	enum err rc = db_stmt(db, sql, &st);

	memset(out, 0, sizeof *out);
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, id);
	rc = db_step(db, st, "read node", &row);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no node %" PRId64, id);
	if (!rc)
		rc = read_node(st, out);
	sqlite3_reset(st);
	return rc;
}

/* Path of a node from its root, built from the ancestor chain. */
static enum err path_of(struct db *db, int64_t id, char **out)
{
	static const char sql[] = UP_CTE "SELECT name FROM up WHERE parent_id IS NOT NULL"
					 " ORDER BY depth DESC";
	sqlite3_stmt *st;
	size_t len = 0, cap = 64;
	char *s = malloc(cap);
	bool row;
	enum err rc;

	*out = NULL;
	if (!s)
		return err_set(ERR_NOMEM, "out of memory");
	s[0] = '\0';
	rc = db_stmt(db, sql, &st);
	if (rc)
		goto out;
	db_bind_int64(db, st, 1, id);
	while (!(rc = db_step(db, st, "read path", &row)) && row) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		size_t n = name ? strlen(name) : 0;

		if (len + n + 2 > cap) {
			char *bigger;

			while (len + n + 2 > cap)
				cap *= 2;
			bigger = realloc(s, cap);
			if (!bigger) {
				rc = err_set(ERR_NOMEM, "out of memory");
				break;
			}
			s = bigger;
		}
		if (len)
			s[len++] = '/';
		memcpy(s + len, name, n);
		len += n;
		s[len] = '\0';
	}
	sqlite3_reset(st);
out:
	if (rc) {
		free(s);
		return rc;
	}
	*out = s;
	return ERR_OK;
}

/* ---- the walk from a root ---- */

static enum err wp_root(struct db *db, int64_t wp_id, int64_t *root)
{
	static const char sql[] = "SELECT root_id FROM wps WHERE id = ?1";
	sqlite3_stmt *st;
	bool row;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, wp_id);
	rc = db_step(db, st, "read work package", &row);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no work package %" PRId64, wp_id);
	else if (!rc && sqlite3_column_type(st, 0) == SQLITE_NULL)
		rc = err_set(ERR_CORRUPT, "work package %" PRId64 " has no root folder", wp_id);
	else if (!rc)
		*root = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc;
}

/* The live child of `parent` with name key `key`; *id 0 when none. */
static enum err child(struct db *db, int64_t parent, const char *key, int64_t *id, bool *is_folder)
{
	static const char sql[] = "SELECT id, is_folder FROM nodes"
				  " WHERE parent_id = ?1 AND name_key = ?2 AND trashed_at IS NULL";
	sqlite3_stmt *st;
	bool row;
	enum err rc = db_stmt(db, sql, &st);

	*id = 0;
	*is_folder = false;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, parent);
	db_bind_text(db, st, 2, key);
	rc = db_step(db, st, "look up name", &row);
	if (!rc && row) {
		*id = sqlite3_column_int64(st, 0);
		*is_folder = sqlite3_column_int(st, 1) != 0;
	}
	sqlite3_reset(st);
	return rc;
}

/* Names that differ but read the same ("ｒｅｐｏｒｔ.pdf", "report.pdf"):
 * refuses `name` in folder `parent` when a live sibling other than
 * `self` has its look-alike key (name.h), naming that sibling. On
 * success *look is the key (malloc'd) to store with the name. */
static enum err look_alike(struct db *db, int64_t parent, int64_t self, const char *name,
			   char **look)
{
	static const char sql[] = "SELECT name FROM nodes WHERE parent_id = ?1 AND look_key = ?2"
				  " AND trashed_at IS NULL AND id <> ?3 LIMIT 1";
	sqlite3_stmt *st;
	bool row;
	enum err rc = name_look_key(name, look);

	if (!rc)
		rc = db_stmt(db, sql, &st);
	if (rc) {
		free(*look);
		*look = NULL;
		return rc;
	}
	db_bind_int64(db, st, 1, parent);
	db_bind_text(db, st, 2, *look);
	db_bind_int64(db, st, 3, self);
	rc = db_step(db, st, "look up look-alike names", &row);
	if (!rc && row)
		rc = err_set(ERR_CONFLICT,
			     "'%s' looks the same as '%s', which is already in this folder; "
			     "choose a name that differs in more than width, case or form",
			     name, (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	if (rc) {
		free(*look);
		*look = NULL;
	}
	return rc;
}

static enum err set_look_key(struct db *db, int64_t id, const char *look)
{
	static const char sql[] = "UPDATE nodes SET look_key = ?2 WHERE id = ?1";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, id);
	db_bind_text(db, st, 2, look);
	return db_exec_stmt(db, st, "record look-alike key");
}

static enum err insert_node(struct db *db, int64_t wp_id, int64_t parent, bool folder,
			    const char *name, const char *key, int64_t user, int64_t now,
			    int64_t *id)
{
	static const char sql[] =
		"INSERT INTO nodes(wp_id, parent_id, is_folder, name, name_key, created_at,"
		" created_by, modified_at, modified_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?6, ?7)";
	sqlite3_stmt *st;
	char *look = NULL;
	enum err rc = look_alike(db, parent, 0, name, &look);

	if (!rc)
		rc = db_stmt(db, sql, &st);
	if (rc) {
		free(look);
		return rc;
	}
	db_bind_int64(db, st, 1, wp_id);
	db_bind_int64(db, st, 2, parent);
	db_bind_int64(db, st, 3, folder);
	db_bind_text(db, st, 4, name);
	db_bind_text(db, st, 5, key);
	db_bind_int64(db, st, 6, now);
	db_bind_id(db, st, 7, user);
	rc = db_exec_stmt(db, st, folder ? "create folder" : "create document");
	if (!rc)
		*id = sqlite3_last_insert_rowid(db_sqlite(db));
	if (!rc)
		rc = set_look_key(db, *id, look);
	free(look);
	return rc;
}

/* Walk the first `upto` names of `path` from the root. With `create`,
 * missing names become folders. *id is the node reached, *is_folder
 * whether it is a folder. */
static enum err walk(struct db *db, int64_t wp_id, const struct name_path *path, size_t upto,
		     bool create, int64_t user, int64_t now, int64_t *id, bool *is_folder)
{
	char shown[512];
	int64_t cur = 0, next;
	bool folder = true;
	enum err rc;

	rc = wp_root(db, wp_id, &cur);
	if (rc)
		return rc;
	for (size_t i = 0; i < upto; i++) {
		if (!folder)
			return err_set(ERR_NOTFOUND, "'%s' is a document, not a folder",
				       prefix(path, i, shown, sizeof shown));
		rc = child(db, cur, path->keys[i], &next, &folder);
		if (rc)
			return rc;
		if (!next) {
			if (!create)
				return err_set(ERR_NOTFOUND, "'%s' does not exist",
					       prefix(path, i + 1, shown, sizeof shown));
			rc = insert_node(db, wp_id, cur, true, path->names[i], path->keys[i], user,
					 now, &next);
			if (rc)
				return rc;
			folder = true;
		}
		cur = next;
	}
	*id = cur;
	*is_folder = folder;
	return ERR_OK;
}

/* Walk to the parent of the last name and require it to be a folder. */
static enum err walk_parent(struct db *db, int64_t wp_id, const struct name_path *path, bool create,
			    int64_t user, int64_t now, int64_t *parent)
{
	char shown[512];
	bool folder;
	enum err rc = walk(db, wp_id, path, path->n - 1, create, user, now, parent, &folder);

	if (!rc && !folder)
		rc = err_set(ERR_NOTFOUND, "'%s' is a document, not a folder",
			     prefix(path, path->n - 1, shown, sizeof shown));
	return rc;
}

enum err tree_look_alike_check(struct db *db, int64_t wp_id, const struct name_path *path)
{
	int64_t cur = 0, next;
	bool folder = true;
	char *look = NULL;
	enum err rc = wp_root(db, wp_id, &cur);

	for (size_t i = 0; !rc && i < path->n && folder; i++) {
		rc = child(db, cur, path->keys[i], &next, &folder);
		if (!rc && !next) {
			rc = look_alike(db, cur, 0, path->names[i], &look);
			free(look);
			return rc;
		}
		cur = next;
	}
	return rc == ERR_NOTFOUND ? ERR_OK : rc;
}

/* Is `id` a live node (neither it nor an ancestor trashed) of `wp_id`? */
static enum err check_live(struct db *db, int64_t wp_id, int64_t id, bool want_folder,
			   bool *is_folder)
{
	static const char sql[] = UP_CTE "SELECT (SELECT wp_id FROM nodes WHERE id = ?1),"
					 " (SELECT is_folder FROM nodes WHERE id = ?1),"
					 " (SELECT count(*) FROM up WHERE trashed_at IS NOT NULL)";
	sqlite3_stmt *st;
	bool row, folder;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, id);
	rc = db_step(db, st, "read node", &row);
	if (!rc && (!row || sqlite3_column_type(st, 0) == SQLITE_NULL ||
		    sqlite3_column_int64(st, 0) != wp_id || sqlite3_column_int64(st, 2) != 0))
		rc = err_set(ERR_NOTFOUND, "no %s %" PRId64 " in this work package",
			     want_folder ? "folder" : "document", id);
	if (!rc) {
		folder = sqlite3_column_int(st, 1) != 0;
		if (folder != want_folder)
			rc = err_set(ERR_NOTFOUND, "node %" PRId64 " is a %s, not a %s", id,
				     folder ? "folder" : "document",
				     want_folder ? "folder" : "document");
		else if (is_folder)
			*is_folder = folder;
	}
	sqlite3_reset(st);
	return rc;
}

/* Index work for ?1 and everything reachable below it. */
static enum err queue_subtree(struct db *db, int64_t id, const char *op, int64_t now)
{
	static const char sql[] = LIVE_SUB_CTE
		"INSERT INTO index_queue(node_id, op, queued_at)"
		" SELECT n.id, ?2, ?3 FROM nodes n JOIN sub ON n.id = sub.id WHERE n.is_folder = 0";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, id);
	db_bind_text(db, st, 2, op);
	db_bind_int64(db, st, 3, now);
	return db_exec_stmt(db, st, "queue index work");
}

/* ---- quota ---- */

struct quota {
	char code[64];
	uint64_t used;
	bool limited;
	uint64_t limit;
};

static enum err quota_read(struct db *db, int64_t wp_id, struct quota *q)
{
	static const char sql[] =
		"SELECT w.code, coalesce((SELECT bytes FROM wp_usage WHERE wp_id = w.id), 0),"
		" w.quota_bytes, (SELECT value FROM settings WHERE key = ?2)"
		" FROM wps w WHERE w.id = ?1";
	sqlite3_stmt *st;
	bool row;
	enum err rc = db_stmt(db, sql, &st);

	memset(q, 0, sizeof *q);
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, wp_id);
	db_bind_text(db, st, 2, TREE_DEFAULT_QUOTA_KEY);
	rc = db_step(db, st, "read quota", &row);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no work package %" PRId64, wp_id);
	if (!rc) {
		int64_t used = sqlite3_column_int64(st, 1);

		snprintf(q->code, sizeof q->code, "%s", (const char *)sqlite3_column_text(st, 0));
		q->used = used > 0 ? (uint64_t)used : 0;
		if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
			int64_t lim = sqlite3_column_int64(st, 2);

			q->limited = true;
			q->limit = lim > 0 ? (uint64_t)lim : 0;
		} else if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
			const char *v = (const char *)sqlite3_column_text(st, 3);
			char *end;
			unsigned long long lim = strtoull(v, &end, 10);

			if (end != v && *end == '\0') {
				q->limited = true;
				q->limit = lim;
			}
		}
	}
	sqlite3_reset(st);
	return rc;
}

static enum err quota_refuse(const struct quota *q, uint64_t incoming)
{
	char used[32], limit[32], more[32];

	fmt_bytes(q->used, used, sizeof used);
	fmt_bytes(q->limit, limit, sizeof limit);
	fmt_bytes(incoming, more, sizeof more);
	return err_set(ERR_QUOTA,
		       "work package %s would exceed its quota: %s of %s used, %s more needed",
		       q->code, used, limit, more);
}

enum err tree_usage(struct db *db, int64_t wp_id, struct tree_usage *out)
{
	struct quota q;
	enum err rc = quota_read(db, wp_id, &q);

	memset(out, 0, sizeof *out);
	if (rc)
		return rc;
	out->used = q.used;
	out->limited = q.limited;
	out->quota = q.limit;
	return ERR_OK;
}

enum err tree_quota_check(struct db *db, int64_t wp_id, uint64_t incoming)
{
	struct quota q;
	enum err rc = quota_read(db, wp_id, &q);

	if (rc)
		return rc;
	if (q.limited && (q.used > q.limit || incoming > q.limit - q.used))
		return quota_refuse(&q, incoming);
	return ERR_OK;
}

/* ---- retention ---- */

/* Each work package's effective rules: its own, else the store-wide
 * default from the settings table (text there, hence the CAST: an
 * INTEGER never compares equal to TEXT in SQLite). */
#define RETENTION_RULES                                                                            \
	"(SELECT id,"                                                                              \
	" nullif(coalesce(keep_versions, (SELECT CAST(value AS INTEGER) FROM settings"             \
	"  WHERE key = '" TREE_DEFAULT_KEEP_VERSIONS_KEY "')), 0) AS keep_versions,"               \
	" nullif(coalesce(keep_days, (SELECT CAST(value AS INTEGER) FROM settings"                 \
	"  WHERE key = '" TREE_DEFAULT_KEEP_DAYS_KEY "')), 0) AS keep_days"                        \
	" FROM wps)"

static enum err prune_node(struct db *db, int64_t node_id, int64_t now, uint64_t *pruned)
{
	static const char sql[] =
		"DELETE FROM versions WHERE id IN ("
		" SELECT r.id FROM (SELECT id, number, uploaded_at,"
		"   row_number() OVER (ORDER BY number DESC) AS rn"
		"   FROM versions WHERE node_id = ?1) r, nodes n, " RETENTION_RULES " w"
		" WHERE n.id = ?1 AND w.id = n.wp_id"
		"  AND (w.keep_versions IS NOT NULL OR w.keep_days IS NOT NULL)"
		"  AND r.number <> n.current_version"
		"  AND (w.keep_versions IS NULL OR r.rn > max(w.keep_versions, 1))"
		"  AND (w.keep_days IS NULL OR r.uploaded_at < ?2 - w.keep_days * 86400))";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, node_id);
	db_bind_int64(db, st, 2, now);
	rc = db_exec_stmt(db, st, "apply retention");
	if (!rc && pruned)
		*pruned += (uint64_t)sqlite3_changes(db_sqlite(db));
	return rc;
}

/* The versions retention removes (r.id) from work package ?1 (0: all)
 * at time ?2, with their document (n) and rules (w). */
#define RETENTION_DOOMED                                                                           \
	" FROM (SELECT v.id, v.node_id, v.number, v.uploaded_at,"                                  \
	"   row_number() OVER (PARTITION BY v.node_id ORDER BY v.number DESC) AS rn"               \
	"   FROM versions v JOIN nodes n ON n.id = v.node_id"                                      \
	"   JOIN " RETENTION_RULES " w ON w.id = n.wp_id"                                          \
	"   WHERE (w.keep_versions IS NOT NULL OR w.keep_days IS NOT NULL)"                        \
	"    AND (?1 = 0 OR w.id = ?1)) r"                                                         \
	" JOIN nodes n ON n.id = r.node_id JOIN " RETENTION_RULES " w ON w.id = n.wp_id"           \
	" WHERE r.number <> n.current_version"                                                     \
	"  AND (w.keep_versions IS NULL OR r.rn > max(w.keep_versions, 1))"                        \
	"  AND (w.keep_days IS NULL OR r.uploaded_at < ?2 - w.keep_days * 86400)"

/* Tell `report` how many versions each work package is about to lose. */
static enum err retention_report(struct db *db, int64_t wp_id, int64_t now,
				 tree_retention_report_fn report, void *arg)
{
	static const char sql[] = "SELECT n.wp_id, count(*)" RETENTION_DOOMED " GROUP BY n.wp_id";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row = true;

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, wp_id);
	db_bind_int64(db, st, 2, now);
	while (!rc && row) {
		rc = db_step(db, st, "count what retention removes", &row);
		if (!rc && row)
			rc = report(db, sqlite3_column_int64(st, 0),
				    (uint64_t)sqlite3_column_int64(st, 1), arg);
	}
	sqlite3_reset(st);
	return rc;
}

enum err tree_retention_apply(struct db *db, int64_t wp_id, tree_retention_report_fn report,
			      void *arg, uint64_t *pruned)
{
	static const char sql[] =
		"DELETE FROM versions WHERE id IN (SELECT r.id" RETENTION_DOOMED ")";
	int64_t now = db_now();
	sqlite3_stmt *st;
	enum err rc;

	if (pruned)
		*pruned = 0;
	rc = db_begin(db);
	if (rc)
		return rc;
	if (report)
		rc = retention_report(db, wp_id, now, report, arg);
	if (!rc)
		rc = db_stmt(db, sql, &st);
	if (!rc) {
		db_bind_int64(db, st, 1, wp_id);
		db_bind_int64(db, st, 2, now);
		rc = db_exec_stmt(db, st, "apply retention");
		if (!rc && pruned)
			*pruned = (uint64_t)sqlite3_changes(db_sqlite(db));
	}
	return txn_end(db, rc);
}

enum err tree_retention_preview(struct db *db, int64_t wp_id, int64_t keep_versions,
				int64_t keep_days, uint64_t *versions, uint64_t *bytes)
{
	/* The same rule as tree_retention_apply, with the rules given
	 * (-1: the store's default, 0: none) instead of the stored ones. */
	static const char sql[] =
		"WITH w AS (SELECT"
		"  nullif(CASE WHEN ?3 >= 0 THEN ?3 ELSE (SELECT CAST(value AS INTEGER)"
		"   FROM settings WHERE key = '" TREE_DEFAULT_KEEP_VERSIONS_KEY "') END, 0) AS kv,"
		"  nullif(CASE WHEN ?4 >= 0 THEN ?4 ELSE (SELECT CAST(value AS INTEGER)"
		"   FROM settings WHERE key = '" TREE_DEFAULT_KEEP_DAYS_KEY "') END, 0) AS kd)"
		" SELECT count(*), coalesce(sum(r.size), 0) FROM (SELECT v.size, v.number,"
		"   v.uploaded_at, n.current_version,"
		"   row_number() OVER (PARTITION BY v.node_id ORDER BY v.number DESC) AS rn"
		"   FROM versions v JOIN nodes n ON n.id = v.node_id WHERE n.wp_id = ?1) r, w"
		" WHERE (w.kv IS NOT NULL OR w.kd IS NOT NULL)"
		"  AND r.number <> r.current_version"
		"  AND (w.kv IS NULL OR r.rn > max(w.kv, 1))"
		"  AND (w.kd IS NULL OR r.uploaded_at < ?2 - w.kd * 86400)";
	sqlite3_stmt *st;
	bool row;
	enum err rc;

	*versions = 0;
	*bytes = 0;
	rc = db_begin_read(db);
	if (rc)
		return rc;
	rc = db_stmt(db, sql, &st);
	if (!rc) {
		db_bind_int64(db, st, 1, wp_id);
		db_bind_int64(db, st, 2, db_now());
		db_bind_int64(db, st, 3, keep_versions);
		db_bind_int64(db, st, 4, keep_days);
		rc = db_step(db, st, "preview retention", &row);
		if (!rc && row) {
			*versions = (uint64_t)sqlite3_column_int64(st, 0);
			*bytes = (uint64_t)sqlite3_column_int64(st, 1);
		}
		sqlite3_reset(st);
	}
	return txn_end(db, rc);
}

enum err tree_wp_stats(struct db *db, int64_t wp_id, struct tree_wp_stats *out)
{
	/* Documents and versions reachable from the root (the live tree);
	 * the trash is its top nodes, with every version below them. */
	static const char sql[] =
		"WITH RECURSIVE live(id, depth) AS (SELECT root_id, 0 FROM wps WHERE id = ?1"
		"  UNION ALL SELECT n.id, live.depth + 1 FROM nodes n JOIN live"
		"  ON n.parent_id = live.id WHERE n.trashed_at IS NULL AND live.depth < 256),"
		" trash(id, depth) AS (SELECT id, 0 FROM nodes WHERE wp_id = ?1"
		"  AND trashed_at IS NOT NULL"
		"  UNION ALL SELECT n.id, trash.depth + 1 FROM nodes n JOIN trash"
		"  ON n.parent_id = trash.id WHERE trash.depth < 256)"
		" SELECT"
		"  (SELECT count(*) FROM nodes n JOIN live ON n.id = live.id WHERE n.is_folder = 0),"
		"  (SELECT count(*) FROM versions v JOIN live ON v.node_id = live.id),"
		"  (SELECT count(*) FROM nodes WHERE wp_id = ?1 AND trashed_at IS NOT NULL),"
		"  (SELECT coalesce(sum(v.size), 0) FROM versions v"
		"   JOIN (SELECT DISTINCT id FROM trash) t ON v.node_id = t.id)";
	struct quota q;
	sqlite3_stmt *st;
	bool row;
	enum err rc;

	memset(out, 0, sizeof *out);
	rc = db_begin_read(db);
	if (rc)
		return rc;
	rc = quota_read(db, wp_id, &q);
	if (!rc)
		rc = db_stmt(db, sql, &st);
	if (!rc) {
		out->used = q.used;
		out->limited = q.limited;
		out->quota = q.limit;
		db_bind_int64(db, st, 1, wp_id);
		rc = db_step(db, st, "count work package", &row);
		if (!rc && row) {
			out->documents = (uint64_t)sqlite3_column_int64(st, 0);
			out->versions = (uint64_t)sqlite3_column_int64(st, 1);
			out->trash_entries = (uint64_t)sqlite3_column_int64(st, 2);
			out->trash_bytes = (uint64_t)sqlite3_column_int64(st, 3);
		}
		sqlite3_reset(st);
	}
	return txn_end(db, rc);
}

/* ---- reading API ---- */

enum err tree_resolve(struct db *db, int64_t wp_id, const struct name_path *path,
		      struct tree_node *out)
{
	int64_t id;
	bool folder;
	enum err rc;

	memset(out, 0, sizeof *out);
	rc = db_begin_read(db);
	if (rc)
		return rc;
	rc = walk(db, wp_id, path, path->n, false, 0, 0, &id, &folder);
	if (!rc)
		rc = load_node(db, id, out);
	rc = txn_end(db, rc);
	if (rc)
		tree_node_clear(out);
	return rc;
}

enum err tree_get(struct db *db, int64_t wp_id, int64_t node_id, struct tree_node *out)
{
	enum err rc;

	memset(out, 0, sizeof *out);
	rc = db_begin_read(db);
	if (rc)
		return rc;
	rc = load_node(db, node_id, out);
	if (rc == ERR_NOTFOUND || (!rc && out->wp_id != wp_id))
		rc = err_set(ERR_NOTFOUND, "no node %" PRId64 " in this work package", node_id);
	if (!rc)
		rc = path_of(db, node_id, &out->path);
	rc = txn_end(db, rc);
	if (rc)
		tree_node_clear(out);
	return rc;
}

enum err tree_path(struct db *db, int64_t node_id, char **out)
{
	enum err rc;

	*out = NULL;
	rc = db_begin_read(db);
	if (rc)
		return rc;
	rc = path_of(db, node_id, out);
	if (!rc && !**out) {
		/* "" is the root or a node that does not exist: tell apart */
		struct tree_node n = {0};

		rc = load_node(db, node_id, &n);
		tree_node_clear(&n);
	}
	rc = txn_end(db, rc);
	if (rc) {
		free(*out);
		*out = NULL;
	}
	return rc;
}

static enum err check_limit(size_t *limit)
{
	if (*limit == 0)
		*limit = TREE_LIST_DEFAULT;
	if (*limit > TREE_LIST_MAX)
		return err_set(ERR_INVALID, "at most %d entries per page", TREE_LIST_MAX);
	return ERR_OK;
}

/* A page is found on narrow rows first (ids, sort keys; by name straight
 * from the nodes_children index), and only its rows are then joined for
 * the columns: skipping to a deep page of a 10,000-entry folder then
 * costs a scan of an index, not 10,000 joins. */
#define LIST_PAGE_SQL(order)                                                                       \
	"SELECT n.id AS pid FROM nodes n"                                                          \
	" LEFT JOIN versions v ON v.node_id = n.id AND v.number = n.current_version"               \
	" WHERE n.parent_id = ?1 AND n.trashed_at IS NULL"                                         \
	" ORDER BY n.is_folder DESC, " order " LIMIT ?2 OFFSET ?3"
#define LIST_SQL(order)                                                                            \
	"SELECT " NODE_COLS NODE_FROM                                                              \
	" JOIN (" LIST_PAGE_SQL(order) ") page ON page.pid = n.id"                                 \
				       " ORDER BY n.is_folder DESC, " order

enum err tree_list(struct db *db, int64_t wp_id, int64_t folder_id,
		   const struct tree_list_opts *opts, struct tree_node_list *out)
{
	static const char count_sql[] =
		"SELECT count(*) FROM nodes WHERE parent_id = ?1 AND trashed_at IS NULL";
	static const char *const sqls[3][2] = {
		{LIST_SQL("n.name_key"), LIST_SQL("n.name_key DESC")},
		{LIST_SQL("n.modified_at DESC, n.name_key"), LIST_SQL("n.modified_at, n.name_key")},
		{LIST_SQL("v.size DESC, n.name_key"), LIST_SQL("v.size, n.name_key")},
	};
	struct tree_list_opts o = {0};
	sqlite3_stmt *st;
	bool row;
	enum err rc;

	memset(out, 0, sizeof *out);
	if (opts)
		o = *opts;
	if ((unsigned)o.sort > TREE_SORT_SIZE)
		return err_set(ERR_INVALID, "unknown sort order");
	rc = check_limit(&o.limit);
	if (rc)
		return rc;
	if (o.offset > INT64_MAX)
		return err_set(ERR_INVALID, "offset out of range");
	rc = db_begin_read(db);
	if (rc)
		return rc;
	rc = check_live(db, wp_id, folder_id, true, NULL);
	if (rc)
		goto out;
	rc = page_start(db, count_sql, sqls[o.sort][o.reverse ? 1 : 0], folder_id, o.limit,
			o.offset, "count folder", &out->total, (void **)&out->items,
			sizeof *out->items, &st);
	if (rc)
		goto out;
	while (!(rc = db_step(db, st, "list folder", &row)) && row && out->n < o.limit) {
		rc = read_node(st, &out->items[out->n]);
		if (rc)
			break;
		out->n++;
	}
	sqlite3_reset(st);
out:
	rc = txn_end(db, rc);
	if (rc)
		tree_node_list_free(out);
	return rc;
}

/* Check that `node_id` is a document of the work package (live or not). */
static enum err check_document(struct db *db, int64_t wp_id, int64_t node_id)
{
	static const char sql[] = "SELECT wp_id, is_folder FROM nodes WHERE id = ?1";
	sqlite3_stmt *st;
	bool row;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, node_id);
	rc = db_step(db, st, "read node", &row);
	if (!rc && (!row || sqlite3_column_int64(st, 0) != wp_id))
		rc = err_set(ERR_NOTFOUND, "no document %" PRId64 " in this work package", node_id);
	else if (!rc && sqlite3_column_int(st, 1))
		rc = err_set(ERR_NOTFOUND, "node %" PRId64 " is a folder, which has no versions",
			     node_id);
	sqlite3_reset(st);
	return rc;
}

enum err tree_versions(struct db *db, int64_t wp_id, int64_t node_id, uint64_t offset, size_t limit,
		       struct tree_version_list *out)
{
	static const char count_sql[] = "SELECT count(*) FROM versions WHERE node_id = ?1";
	static const char sql[] = "SELECT " VERSION_COLS VERSION_FROM
				  " WHERE v.node_id = ?1 ORDER BY v.number DESC LIMIT ?2 OFFSET ?3";
	sqlite3_stmt *st;
	bool row;
	enum err rc;

	memset(out, 0, sizeof *out);
	rc = check_limit(&limit);
	if (rc)
		return rc;
	if (offset > INT64_MAX)
		return err_set(ERR_INVALID, "offset out of range");
	rc = db_begin_read(db);
	if (rc)
		return rc;
	rc = check_document(db, wp_id, node_id);
	if (rc)
		goto out;
	rc = page_start(db, count_sql, sql, node_id, limit, offset, "count versions", &out->total,
			(void **)&out->items, sizeof *out->items, &st);
	if (rc)
		goto out;
	while (!(rc = db_step(db, st, "list versions", &row)) && row && out->n < limit) {
		rc = read_version(st, &out->items[out->n]);
		if (rc)
			break;
		out->n++;
	}
	sqlite3_reset(st);
out:
	rc = txn_end(db, rc);
	if (rc)
		tree_version_list_free(out);
	return rc;
}

static enum err version_read(struct db *db, int64_t node_id, int64_t number,
			     struct tree_version *out)
{
	static const char sql[] =
		"SELECT " VERSION_COLS VERSION_FROM " WHERE v.node_id = ?1 AND v.number ="
		" CASE WHEN ?2 = 0 THEN (SELECT current_version FROM nodes WHERE id = ?1) ELSE ?2 END";
	sqlite3_stmt *st;
	bool row;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, node_id);
	db_bind_int64(db, st, 2, number);
	rc = db_step(db, st, "read version", &row);
	if (!rc && !row)
		rc = number ? err_set(ERR_NOTFOUND, "there is no version %" PRId64, number)
			    : err_set(ERR_CORRUPT, "document %" PRId64 " has no current version",
				      node_id);
	if (!rc)
		rc = read_version(st, out);
	sqlite3_reset(st);
	return rc;
}

enum err tree_version_get(struct db *db, int64_t wp_id, int64_t node_id, int64_t number,
			  struct tree_version *out)
{
	enum err rc;

	memset(out, 0, sizeof *out);
	if (number < 0)
		return err_set(ERR_INVALID, "version numbers start at 1");
	rc = db_begin_read(db);
	if (rc)
		return rc;
	rc = check_document(db, wp_id, node_id);
	if (!rc)
		rc = version_read(db, node_id, number, out);
	rc = txn_end(db, rc);
	if (rc)
		tree_version_clear(out);
	return rc;
}

/* ---- changing API ---- */

enum err tree_mkdir(struct db *db, int64_t wp_id, const struct name_path *path, int64_t user_id,
		    bool parents, struct tree_node *out)
{
	char shown[512];
	int64_t parent, id, now = db_now();
	bool folder;
	enum err rc;

	if (out)
		memset(out, 0, sizeof *out);
	if (path->n == 0)
		return err_set(ERR_EXISTS, "the root folder already exists");
	rc = db_begin(db);
	if (rc)
		return rc;
	rc = walk_parent(db, wp_id, path, parents, user_id, now, &parent);
	if (!rc)
		rc = child(db, parent, path->keys[path->n - 1], &id, &folder);
	if (rc)
		goto out;
	if (id && !folder) {
		rc = err_set(ERR_EXISTS, "'%s' is a document",
			     prefix(path, path->n, shown, sizeof shown));
	} else if (id && !parents) {
		rc = err_set(ERR_EXISTS, "folder '%s' already exists",
			     prefix(path, path->n, shown, sizeof shown));
	} else if (!id) {
		rc = insert_node(db, wp_id, parent, true, path->names[path->n - 1],
				 path->keys[path->n - 1], user_id, now, &id);
	}
	if (!rc && out)
		rc = load_node(db, id, out);
out:
	rc = txn_end(db, rc);
	if (rc && out)
		tree_node_clear(out);
	return rc;
}

static enum err check_content(const char *blob, uint64_t size, const char *mime,
			      const char *comment)
{
	if (!cas_hash_valid(blob))
		return err_set(ERR_INVALID, "content hash must be 64 lower-case hex digits");
	if (size > INT64_MAX)
		return err_set(ERR_INVALID, "content size out of range");
	if (!mime || !*mime || strlen(mime) > TREE_MIME_MAX)
		return err_set(ERR_INVALID, "MIME type must be 1 to %d bytes", TREE_MIME_MAX);
	for (const unsigned char *p = (const unsigned char *)mime; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return err_set(ERR_INVALID, "MIME type must be printable ASCII");
	if (comment && strlen(comment) > TREE_COMMENT_MAX)
		return err_set(ERR_INVALID, "comment is longer than %d bytes", TREE_COMMENT_MAX);
	if (comment && !name_utf8_valid(comment, strlen(comment)))
		return err_set(ERR_INVALID, "comment is not valid UTF-8");
	return ERR_OK;
}

/* Add version `number` to document `node_id`, make it current, apply
 * retention, check the quota. The caller holds the write transaction. */
static enum err add_version(struct db *db, int64_t wp_id, int64_t node_id, int64_t number,
			    const char *blob, uint64_t size, const char *mime, int64_t user,
			    int64_t now, const char *comment, int64_t restored_from,
			    uint64_t *pruned)
{
	static const char ins[] =
		"INSERT INTO versions(node_id, number, blob, size, mime, uploaded_by, uploaded_at,"
		" comment, restored_from) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
	static const char upd[] = "UPDATE nodes SET current_version = ?2, modified_at = ?3,"
				  " modified_by = ?4 WHERE id = ?1";
	struct quota before, after;
	sqlite3_stmt *st;
	enum err rc;

	rc = quota_read(db, wp_id, &before);
	if (rc)
		return rc;
	rc = db_stmt(db, ins, &st);
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, node_id);
	db_bind_int64(db, st, 2, number);
	db_bind_text(db, st, 3, blob);
	db_bind_int64(db, st, 4, (int64_t)size);
	db_bind_text(db, st, 5, mime);
	db_bind_id(db, st, 6, user);
	db_bind_int64(db, st, 7, now);
	db_bind_text(db, st, 8, comment ? comment : "");
	db_bind_id(db, st, 9, restored_from);
	rc = db_exec_stmt(db, st, "add version");
	if (rc)
		return rc;
	rc = db_stmt(db, upd, &st);
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, node_id);
	db_bind_int64(db, st, 2, number);
	db_bind_int64(db, st, 3, now);
	db_bind_id(db, st, 4, user);
	rc = db_exec_stmt(db, st, "update document");
	if (!rc)
		rc = prune_node(db, node_id, now, pruned);
	if (!rc)
		rc = quota_read(db, wp_id, &after);
	/* Over quota afterwards is refused only when this change grew the
	 * usage: an over-quota work package may still save a version that
	 * retention pays for. */
	if (!rc && after.limited && after.used > after.limit && after.used > before.used)
		rc = quota_refuse(&before, size);
	if (!rc)
		rc = queue_subtree(db, node_id, "index", now);
	return rc;
}

/* The current version number and blob of a document. */
static enum err current_of(struct db *db, int64_t node_id, int64_t *number,
			   char blob[DIGEST_SHA256_HEX_LEN + 1])
{
	static const char sql[] =
		"SELECT n.current_version, v.blob FROM nodes n"
		" JOIN versions v ON v.node_id = n.id AND v.number = n.current_version"
		" WHERE n.id = ?1";
	sqlite3_stmt *st;
	bool row;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, node_id);
	rc = db_step(db, st, "read current version", &row);
	if (!rc && !row)
		rc = err_set(ERR_CORRUPT, "document %" PRId64 " has no current version", node_id);
	if (!rc) {
		*number = sqlite3_column_int64(st, 0);
		copy_hash(blob, st, 1);
	}
	sqlite3_reset(st);
	return rc;
}

static enum err next_number(struct db *db, int64_t node_id, int64_t *number)
{
	static const char sql[] =
		"SELECT coalesce(max(number), 0) + 1 FROM versions WHERE node_id = ?1";
	sqlite3_stmt *st;
	bool row;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, node_id);
	rc = db_step(db, st, "number version", &row);
	if (!rc)
		*number = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc;
}

static enum err put_locked(struct db *db, int64_t wp_id, const struct name_path *path,
			   const struct tree_put *req, int64_t now, struct tree_put_result *out)
{
	char shown[512], cur_blob[DIGEST_SHA256_HEX_LEN + 1];
	int64_t parent, id, cur = 0, number = 1;
	bool folder;
	enum err rc;

	prefix(path, path->n, shown, sizeof shown);
	rc = walk_parent(db, wp_id, path, req->parents, req->user_id, now, &parent);
	if (!rc)
		rc = child(db, parent, path->keys[path->n - 1], &id, &folder);
	if (rc)
		return rc;
	if (id && folder)
		return err_set(ERR_EXISTS, "'%s' is a folder", shown);
	if (id) {
		if (req->cond == TREE_COND_ABSENT)
			return err_set(ERR_PRECONDITION, "'%s' already exists", shown);
		rc = current_of(db, id, &cur, cur_blob);
		if (rc)
			return rc;
		if (req->if_version && req->if_version != cur)
			return err_set(ERR_PRECONDITION,
				       "'%s' was changed meanwhile: its current version is %" PRId64
				       ", not %" PRId64,
				       shown, cur, req->if_version);
		if (req->if_blob && strcmp(req->if_blob, cur_blob) != 0)
			return err_set(ERR_PRECONDITION,
				       "'%s' was changed meanwhile: its current version %" PRId64
				       " has other content than expected",
				       shown, cur);
		rc = next_number(db, id, &number);
		if (rc)
			return rc;
	} else {
		if (req->cond == TREE_COND_EXISTS || req->if_version || req->if_blob)
			return err_set(ERR_PRECONDITION, "'%s' does not exist", shown);
		rc = insert_node(db, wp_id, parent, false, path->names[path->n - 1],
				 path->keys[path->n - 1], req->user_id, now, &id);
		if (rc)
			return rc;
		out->created = true;
	}
	rc = add_version(db, wp_id, id, number, req->blob, req->size, req->mime, req->user_id, now,
			 req->comment, 0, &out->pruned);
	if (!rc) {
		out->node_id = id;
		out->version = number;
		if (req->in_txn)
			rc = req->in_txn(db, out, req->in_txn_arg);
	}
	return rc;
}

enum err tree_put(struct db *db, int64_t wp_id, const struct name_path *path,
		  const struct tree_put *req, struct tree_put_result *out)
{
	enum err rc;

	memset(out, 0, sizeof *out);
	if (path->n == 0)
		return err_set(ERR_INVALID, "a document needs a name");
	if ((unsigned)req->cond > TREE_COND_EXISTS)
		return err_set(ERR_INVALID, "unknown condition");
	if (req->if_version < 0)
		return err_set(ERR_INVALID, "version numbers start at 1");
	if (req->if_blob && !cas_hash_valid(req->if_blob))
		return err_set(ERR_PRECONDITION,
			       "the expected content tag is not one this server made");
	rc = check_content(req->blob, req->size, req->mime, req->comment);
	if (rc)
		return rc;
	rc = db_begin(db);
	if (rc)
		return rc;
	rc = put_locked(db, wp_id, path, req, db_now(), out);
	rc = txn_end(db, rc);
	if (rc)
		memset(out, 0, sizeof *out);
	return rc;
}

enum err tree_restore_version(struct db *db, int64_t wp_id, const struct name_path *path,
			      int64_t number, int64_t user_id, const char *comment,
			      int64_t if_version, struct tree_put_result *out)
{
	struct tree_version v = {0};
	char shown[512], note[64], cur_blob[DIGEST_SHA256_HEX_LEN + 1];
	int64_t id, cur, next, now = db_now();
	bool folder;
	enum err rc;

	memset(out, 0, sizeof *out);
	if (number < 1)
		return err_set(ERR_INVALID, "version numbers start at 1");
	if (comment &&
	    (strlen(comment) > TREE_COMMENT_MAX || !name_utf8_valid(comment, strlen(comment))))
		return err_set(ERR_INVALID, "comment must be valid UTF-8 of at most %d bytes",
			       TREE_COMMENT_MAX);
	if (path->n == 0)
		return err_set(ERR_INVALID, "the root folder has no versions");
	prefix(path, path->n, shown, sizeof shown);
	rc = db_begin(db);
	if (rc)
		return rc;
	rc = walk(db, wp_id, path, path->n, false, 0, 0, &id, &folder);
	if (!rc && folder)
		rc = err_set(ERR_INVALID, "'%s' is a folder, which has no versions", shown);
	if (!rc)
		rc = current_of(db, id, &cur, cur_blob);
	if (!rc && if_version && if_version != cur)
		rc = err_set(ERR_PRECONDITION,
			     "'%s' was changed meanwhile: its current version is %" PRId64
			     ", not %" PRId64,
			     shown, cur, if_version);
	if (!rc)
		rc = version_read(db, id, number, &v);
	if (rc == ERR_NOTFOUND)
		rc = err_set(ERR_NOTFOUND, "'%s' has no version %" PRId64 " (any more)", shown,
			     number);
	if (!rc)
		rc = next_number(db, id, &next);
	if (!rc) {
		snprintf(note, sizeof note, "restored from version %" PRId64, number);
		rc = add_version(db, wp_id, id, next, v.blob, v.size, v.mime, user_id, now,
				 comment ? comment : note, number, &out->pruned);
	}
	if (!rc) {
		out->node_id = id;
		out->version = next;
	}
	tree_version_clear(&v);
	rc = txn_end(db, rc);
	if (rc)
		memset(out, 0, sizeof *out);
	return rc;
}

static enum err trash_node(struct db *db, int64_t id, int64_t user, int64_t now)
{
	static const char sql[] = "UPDATE nodes SET trashed_at = ?2, trashed_by = ?3 WHERE id = ?1";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, id);
	db_bind_int64(db, st, 2, now);
	db_bind_id(db, st, 3, user);
	rc = db_exec_stmt(db, st, "move to trash");
	/* After the update: the seed is queued whatever its state, and the
	 * descent below it is unchanged by its own trashed_at. */
	if (!rc)
		rc = queue_subtree(db, id, "delete", now);
	return rc;
}

/* Depth of `id` below its root (root 0) and whether `anc` is among its
 * ancestors-or-self. */
static enum err ancestry(struct db *db, int64_t id, int64_t anc, int64_t *depth, bool *below)
{
	static const char sql[] = UP_CTE "SELECT max(depth), coalesce(sum(id = ?2), 0) FROM up";
	sqlite3_stmt *st;
	bool row;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, id);
	db_bind_int64(db, st, 2, anc);
	rc = db_step(db, st, "read ancestry", &row);
	if (!rc) {
		*depth = sqlite3_column_int64(st, 0);
		*below = sqlite3_column_int64(st, 1) > 0;
	}
	sqlite3_reset(st);
	return rc;
}

static enum err subtree_height(struct db *db, int64_t id, int64_t *height)
{
	static const char sql[] = SUB_CTE "SELECT max(depth) FROM sub";
	sqlite3_stmt *st;
	bool row;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, id);
	rc = db_step(db, st, "read subtree", &row);
	if (!rc)
		*height = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc;
}

static enum err set_place(struct db *db, int64_t id, int64_t parent, const char *name,
			  const char *key, int64_t user, int64_t now)
{
	static const char sql[] =
		"UPDATE nodes SET parent_id = ?2, name = ?3, name_key = ?4,"
		" modified_at = ?5, modified_by = ?6, look_key = ?7 WHERE id = ?1";
	sqlite3_stmt *st;
	char *look = NULL;
	enum err rc = look_alike(db, parent, id, name, &look);

	if (!rc)
		rc = db_stmt(db, sql, &st);
	if (rc) {
		free(look);
		return rc;
	}
	db_bind_int64(db, st, 1, id);
	db_bind_int64(db, st, 2, parent);
	db_bind_text(db, st, 3, name);
	db_bind_text(db, st, 4, key);
	db_bind_int64(db, st, 5, now);
	db_bind_id(db, st, 6, user);
	db_bind_text(db, st, 7, look);
	rc = db_exec_stmt(db, st, "move");
	free(look);
	return rc;
}

/* Give document `dst` the current content of document `src` as a new
 * version, with the comment "<how> <shown>". */
static enum err version_over(struct db *db, int64_t wp_id, int64_t src, int64_t dst,
			     const char *how, const char *shown, int64_t user, int64_t now)
{
	struct tree_version v = {0};
	char comment[TREE_COMMENT_MAX + 1];
	int64_t number;
	uint64_t pruned;
	enum err rc = version_read(db, src, 0, &v);

	if (!rc)
		rc = next_number(db, dst, &number);
	if (!rc) {
		snprintf(comment, sizeof comment, "%s %s, version %" PRId64, how, shown, v.number);
		rc = add_version(db, wp_id, dst, number, v.blob, v.size, v.mime, user, now, comment,
				 0, &pruned);
	}
	tree_version_clear(&v);
	return rc;
}

static enum err move_locked(struct db *db, int64_t wp_id, const struct name_path *from,
			    const struct name_path *to, int64_t user, unsigned flags, int64_t now,
			    int64_t *moved)
{
	char from_s[512], to_s[512];
	struct tree_node src = {0};
	int64_t src_id, dst_parent, clash, depth, height;
	bool src_folder, clash_folder, below;
	enum err rc;

	prefix(from, from->n, from_s, sizeof from_s);
	prefix(to, to->n, to_s, sizeof to_s);
	if (from->n == 0)
		return err_set(ERR_INVALID, "the root folder cannot be moved");
	if (to->n == 0)
		return err_set(ERR_INVALID, "nothing can be moved onto the root folder");
	rc = walk(db, wp_id, from, from->n, false, 0, 0, &src_id, &src_folder);
	if (!rc)
		rc = walk_parent(db, wp_id, to, false, 0, 0, &dst_parent);
	if (!rc)
		rc = load_node(db, src_id, &src);
	if (rc)
		goto out;
	if (src_folder) {
		rc = ancestry(db, dst_parent, src_id, &depth, &below);
		if (!rc && below)
			rc = err_set(ERR_INVALID, "cannot move folder '%s' into itself ('%s')",
				     from_s, to_s);
		if (!rc)
			rc = subtree_height(db, src_id, &height);
		if (!rc && depth + 1 + height > NAME_MAX_DEPTH)
			rc = err_set(ERR_INVALID,
				     "moving '%s' to '%s' would nest folders deeper than %d levels",
				     from_s, to_s, NAME_MAX_DEPTH);
		if (rc)
			goto out;
	}
	rc = child(db, dst_parent, to->keys[to->n - 1], &clash, &clash_folder);
	if (rc)
		goto out;
	if (clash && clash != src_id) {
		if (!(flags & TREE_MOVE_REPLACE)) {
			rc = err_set(ERR_EXISTS, "'%s' already exists", to_s);
			goto out;
		}
		rc = ancestry(db, src_id, clash, &depth, &below);
		if (!rc && below)
			rc = err_set(ERR_INVALID, "cannot replace '%s', which contains '%s'", to_s,
				     from_s);
		if (!rc && (flags & TREE_MOVE_VERSION) && !src_folder && !clash_folder) {
			rc = version_over(db, wp_id, src_id, clash, "moved from", from_s, user,
					  now);
			if (!rc)
				rc = trash_node(db, src_id, user, now);
			if (!rc)
				*moved = clash;
			goto out;
		}
		if (!rc)
			rc = trash_node(db, clash, user, now);
		if (rc)
			goto out;
	}
	if (src.parent_id == dst_parent && !strcmp(src.name, to->names[to->n - 1])) {
		*moved = src_id; /* already there, spelled the same: nothing to do */
		goto out;
	}
	rc = set_place(db, src_id, dst_parent, to->names[to->n - 1], to->keys[to->n - 1], user,
		       now);
	if (!rc)
		rc = queue_subtree(db, src_id, "index", now);
	if (!rc)
		*moved = src_id;
out:
	tree_node_clear(&src);
	return rc;
}

enum err tree_move(struct db *db, int64_t wp_id, const struct name_path *from,
		   const struct name_path *to, int64_t user_id, unsigned flags,
		   struct tree_node *out)
{
	int64_t id = 0;
	enum err rc;

	if (out)
		memset(out, 0, sizeof *out);
	rc = db_begin(db);
	if (rc)
		return rc;
	rc = move_locked(db, wp_id, from, to, user_id, flags, db_now(), &id);
	if (!rc && out)
		rc = load_node(db, id, out);
	rc = txn_end(db, rc);
	if (rc && out)
		tree_node_clear(out);
	return rc;
}

/* ---- copy ---- */

struct copy_ctx {
	struct db *db;
	int64_t dst_wp;
	const struct tree_copy *req;
	int64_t now;
	uint64_t nodes;
	char from_s[512];
};

struct copy_child {
	int64_t id;
	bool folder;
	char *name, *key;
};

/* The live children of folder `id`, read whole before any is copied:
 * the statement is cached and copying recurses. */
static enum err children_of(struct db *db, int64_t id, struct copy_child **out, size_t *n)
{
	static const char sql[] = "SELECT id, is_folder, name, name_key FROM nodes"
				  " WHERE parent_id = ?1 AND trashed_at IS NULL ORDER BY id";
	struct copy_child *items = NULL;
	size_t cap = 0, len = 0;
	sqlite3_stmt *st;
	bool row;
	enum err rc = db_stmt(db, sql, &st);

	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, id);
	while (!(rc = db_step(db, st, "list folder", &row)) && row) {
		struct copy_child *c = db_grow((void **)&items, &len, &cap, sizeof *items, &rc);

		if (!c)
			break;
		c->id = sqlite3_column_int64(st, 0);
		c->folder = sqlite3_column_int(st, 1) != 0;
		c->name = col_strdup(st, 2, &rc);
		c->key = col_strdup(st, 3, &rc);
		if (rc)
			break;
	}
	sqlite3_reset(st);
	if (rc) {
		for (size_t i = 0; i < len; i++) {
			free(items[i].name);
			free(items[i].key);
		}
		free(items);
		return rc;
	}
	*out = items;
	*n = len;
	return ERR_OK;
}

/* Copy node `src` as `name` into folder `parent` of the destination; *made
 * is the new node. `deep`: a folder's contents too. */
static enum err copy_node(struct copy_ctx *c, int64_t src, bool folder, int64_t parent,
			  const char *name, const char *key, bool deep, const char *from,
			  int64_t *made)
{
	struct db *db = c->db;
	struct copy_child *kids = NULL;
	size_t nkids = 0;
	int64_t id = 0;
	enum err rc;

	if (++c->nodes > TREE_COPY_MAX)
		return err_set(ERR_LIMIT, "a copy may create at most %d folders and documents",
			       TREE_COPY_MAX);
	rc = insert_node(db, c->dst_wp, parent, folder, name, key, c->req->user_id, c->now, &id);
	if (rc)
		return rc;
	if (!folder) {
		struct tree_version v = {0};
		char comment[TREE_COMMENT_MAX + 1];
		uint64_t pruned;

		rc = version_read(db, src, 0, &v);
		if (!rc) {
			snprintf(comment, sizeof comment, "copied from %s, version %" PRId64, from,
				 v.number);
			rc = add_version(db, c->dst_wp, id, 1, v.blob, v.size, v.mime,
					 c->req->user_id, c->now, comment, 0, &pruned);
		}
		tree_version_clear(&v);
	} else if (deep) {
		rc = children_of(db, src, &kids, &nkids);
		for (size_t i = 0; !rc && i < nkids; i++) {
			size_t len = strlen(from) + strlen(kids[i].name) + 2;
			char *sub_from = malloc(len);
			int64_t sub;

			if (!sub_from) {
				rc = err_set(ERR_NOMEM, "out of memory");
				break;
			}
			snprintf(sub_from, len, "%s%s%s", from, *from ? "/" : "", kids[i].name);
			rc = copy_node(c, kids[i].id, kids[i].folder, id, kids[i].name, kids[i].key,
				       true, sub_from, &sub);
			free(sub_from);
		}
		for (size_t i = 0; i < nkids; i++) {
			free(kids[i].name);
			free(kids[i].key);
		}
		free(kids);
	}
	if (!rc && c->req->on_node)
		rc = c->req->on_node(db, src, id, c->req->on_node_arg);
	if (!rc)
		*made = id;
	return rc;
}

static enum err copy_locked(struct copy_ctx *c, int64_t src_wp, const struct name_path *from,
			    const struct name_path *to, struct tree_copy_result *out)
{
	struct db *db = c->db;
	char to_s[512];
	int64_t src_id, dst_parent, clash, depth = 0, height = 0;
	bool src_folder, clash_folder, below = false;
	bool deep = !(c->req->flags & TREE_COPY_SHALLOW);
	enum err rc;

	prefix(from, from->n, c->from_s, sizeof c->from_s);
	prefix(to, to->n, to_s, sizeof to_s);
	if (to->n == 0)
		return err_set(ERR_INVALID, "nothing can be copied onto the root folder");
	rc = walk(db, src_wp, from, from->n, false, 0, 0, &src_id, &src_folder);
	if (!rc)
		rc = walk_parent(db, c->dst_wp, to, false, 0, 0, &dst_parent);
	if (rc)
		return rc;
	if (src_folder) {
		rc = ancestry(db, dst_parent, src_id, &depth, &below);
		if (!rc && below && deep)
			rc = err_set(ERR_INVALID, "cannot copy folder '%s' into itself ('%s')",
				     c->from_s, to_s);
		if (!rc && deep)
			rc = subtree_height(db, src_id, &height);
		if (!rc && depth + 1 + height > NAME_MAX_DEPTH)
			rc = err_set(
				ERR_INVALID,
				"copying '%s' to '%s' would nest folders deeper than %d levels",
				c->from_s, to_s, NAME_MAX_DEPTH);
		if (rc)
			return rc;
	}
	rc = child(db, dst_parent, to->keys[to->n - 1], &clash, &clash_folder);
	if (rc)
		return rc;
	if (clash == src_id)
		return err_set(ERR_INVALID, "'%s' cannot be copied onto itself", c->from_s);
	if (clash) {
		if (!(c->req->flags & TREE_COPY_REPLACE))
			return err_set(ERR_EXISTS, "'%s' already exists", to_s);
		out->replaced = true;
		rc = ancestry(db, src_id, clash, &depth, &below);
		if (!rc && below)
			rc = err_set(ERR_INVALID, "cannot replace '%s', which contains '%s'", to_s,
				     c->from_s);
		if (!rc && !src_folder && !clash_folder) {
			rc = version_over(db, c->dst_wp, src_id, clash, "copied from", c->from_s,
					  c->req->user_id, c->now);
			if (!rc && c->req->on_node)
				rc = c->req->on_node(db, src_id, clash, c->req->on_node_arg);
			if (!rc) {
				out->node_id = clash;
				out->nodes = 1;
			}
			return rc;
		}
		if (!rc)
			rc = trash_node(db, clash, c->req->user_id, c->now);
		if (rc)
			return rc;
	}
	rc = copy_node(c, src_id, src_folder, dst_parent, to->names[to->n - 1], to->keys[to->n - 1],
		       deep, c->from_s, &out->node_id);
	if (!rc)
		out->nodes = c->nodes;
	return rc;
}

enum err tree_copy(struct db *db, int64_t src_wp, const struct name_path *from, int64_t dst_wp,
		   const struct name_path *to, const struct tree_copy *req,
		   struct tree_copy_result *out)
{
	struct copy_ctx c = {.db = db, .dst_wp = dst_wp, .req = req, .now = db_now()};
	struct tree_copy_result res = {0};
	enum err rc;

	if (out)
		memset(out, 0, sizeof *out);
	rc = db_begin(db);
	if (rc)
		return rc;
	rc = copy_locked(&c, src_wp, from, to, &res);
	rc = txn_end(db, rc);
	if (!rc && out)
		*out = res;
	return rc;
}

enum err tree_rename(struct db *db, int64_t wp_id, const struct name_path *path,
		     const char *new_name, int64_t user_id, struct tree_node *out)
{
	struct name_path to = {0};
	char *nfc = NULL, *key = NULL;
	enum err rc;

	if (out)
		memset(out, 0, sizeof *out);
	if (path->n == 0)
		return err_set(ERR_INVALID, "the root folder cannot be renamed");
	if (!new_name)
		return err_set(ERR_INVALID, "a new name is needed");
	rc = name_check(new_name, strlen(new_name), &nfc, &key);
	if (rc)
		return rc;
	/* Borrow the parent's names; only the last entry is ours. */
	to.n = path->n;
	to.names = calloc(path->n, sizeof *to.names);
	to.keys = calloc(path->n, sizeof *to.keys);
	if (!to.names || !to.keys) {
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i + 1 < path->n; i++) {
		to.names[i] = path->names[i];
		to.keys[i] = path->keys[i];
	}
	to.names[path->n - 1] = nfc;
	to.keys[path->n - 1] = key;
	rc = tree_move(db, wp_id, path, &to, user_id, 0, out);
out:
	free(to.names);
	free(to.keys);
	free(nfc);
	free(key);
	return rc;
}

enum err tree_set_meta(struct db *db, int64_t wp_id, const struct name_path *path,
		       const struct tree_meta *meta, int64_t user_id, struct tree_node *out)
{
	static const char sql[] =
		"UPDATE nodes SET deliverable = CASE WHEN ?2 THEN ?3 ELSE deliverable END,"
		" status = CASE WHEN ?4 THEN ?5 ELSE status END,"
		" modified_at = ?6, modified_by = ?7 WHERE id = ?1";
	char code[TREE_DELIVERABLE_MAX], shown[512];
	const char *deliverable = NULL;
	int64_t id, now = db_now();
	sqlite3_stmt *st;
	bool folder;
	enum err rc;

	if (out)
		memset(out, 0, sizeof *out);
	if (meta->set_deliverable && meta->deliverable && *meta->deliverable) {
		rc = tree_deliverable_check(meta->deliverable, code);
		if (rc)
			return rc;
		deliverable = code;
	}
	if (meta->set_status && (unsigned)meta->status > TREE_STATUS_FINAL)
		return err_set(ERR_INVALID, "unknown status");
	rc = db_begin(db);
	if (rc)
		return rc;
	rc = walk(db, wp_id, path, path->n, false, 0, 0, &id, &folder);
	if (!rc && folder)
		rc = err_set(ERR_INVALID,
			     "'%s' is a folder; deliverable code and status belong to documents",
			     prefix(path, path->n, shown, sizeof shown));
	if (!rc)
		rc = db_stmt(db, sql, &st);
	if (rc)
		goto out;
	db_bind_int64(db, st, 1, id);
	db_bind_int64(db, st, 2, meta->set_deliverable);
	db_bind_text(db, st, 3, deliverable);
	db_bind_int64(db, st, 4, meta->set_status);
	db_bind_text(db, st, 5,
		     meta->status == TREE_STATUS_NONE ? NULL : tree_status_name(meta->status));
	db_bind_int64(db, st, 6, now);
	db_bind_id(db, st, 7, user_id);
	rc = db_exec_stmt(db, st, "set document metadata");
	if (!rc)
		rc = queue_subtree(db, id, "index", now);
	if (!rc && out)
		rc = load_node(db, id, out);
out:
	rc = txn_end(db, rc);
	if (rc && out)
		tree_node_clear(out);
	return rc;
}

enum err tree_trash(struct db *db, int64_t wp_id, const struct name_path *path, int64_t user_id,
		    int64_t *node_id)
{
	int64_t id = 0;
	bool folder;
	enum err rc;

	if (node_id)
		*node_id = 0;
	if (path->n == 0)
		return err_set(ERR_INVALID, "the root folder cannot be moved to the trash");
	rc = db_begin(db);
	if (rc)
		return rc;
	rc = walk(db, wp_id, path, path->n, false, 0, 0, &id, &folder);
	if (!rc)
		rc = trash_node(db, id, user_id, db_now());
	rc = txn_end(db, rc);
	if (!rc && node_id)
		*node_id = id;
	return rc;
}

enum err tree_trash_list(struct db *db, int64_t wp_id, uint64_t offset, size_t limit,
			 struct tree_node_list *out)
{
	static const char count_sql[] =
		"SELECT count(*) FROM nodes WHERE wp_id = ?1 AND trashed_at IS NOT NULL";
	static const char sql[] =
		"SELECT " NODE_COLS NODE_FROM " WHERE n.wp_id = ?1 AND n.trashed_at IS NOT NULL"
		" ORDER BY n.trashed_at DESC, n.id DESC LIMIT ?2 OFFSET ?3";
	sqlite3_stmt *st;
	bool row;
	enum err rc;

	memset(out, 0, sizeof *out);
	rc = check_limit(&limit);
	if (rc)
		return rc;
	if (offset > INT64_MAX)
		return err_set(ERR_INVALID, "offset out of range");
	rc = db_begin_read(db);
	if (rc)
		return rc;
	rc = page_start(db, count_sql, sql, wp_id, limit, offset, "count trash", &out->total,
			(void **)&out->items, sizeof *out->items, &st);
	if (rc)
		goto out;
	while (!(rc = db_step(db, st, "list trash", &row)) && row && out->n < limit) {
		rc = read_node(st, &out->items[out->n]);
		if (rc)
			break;
		out->n++;
	}
	sqlite3_reset(st);
	/* Paths after the listing statement is done with: path_of runs its
	 * own statement. */
	for (size_t i = 0; !rc && i < out->n; i++)
		rc = path_of(db, out->items[i].id, &out->items[i].path);
out:
	rc = txn_end(db, rc);
	if (rc)
		tree_node_list_free(out);
	return rc;
}

/* A trash entry of the work package: its parent, name and key. */
static enum err trash_entry(struct db *db, int64_t wp_id, int64_t node_id, int64_t *parent,
			    char **name, char **key)
{
	static const char sql[] = "SELECT parent_id, name, name_key FROM nodes"
				  " WHERE id = ?1 AND wp_id = ?2 AND trashed_at IS NOT NULL";
	sqlite3_stmt *st;
	bool row;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, node_id);
	db_bind_int64(db, st, 2, wp_id);
	rc = db_step(db, st, "read trash", &row);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no trash entry %" PRId64 " in this work package",
			     node_id);
	if (!rc) {
		*parent = sqlite3_column_int64(st, 0);
		if (name)
			*name = db_column_strdup(st, 1, &rc);
		if (key && !rc)
			*key = db_column_strdup(st, 2, &rc);
	}
	sqlite3_reset(st);
	return rc;
}

/* The nearest ancestor-or-self of `id` that is in the trash; 0 if none. */
static enum err trashed_ancestor(struct db *db, int64_t id, int64_t *found)
{
	static const char sql[] =
		UP_CTE "SELECT id FROM up WHERE trashed_at IS NOT NULL ORDER BY depth LIMIT 1";
	sqlite3_stmt *st;
	bool row;
	enum err rc = db_stmt(db, sql, &st);

	*found = 0;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, id);
	rc = db_step(db, st, "read ancestry", &row);
	if (!rc && row)
		*found = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc;
}

static enum err restore_locked(struct db *db, int64_t wp_id, int64_t node_id, int64_t user,
			       const char *new_name, int64_t now)
{
	static const char sql[] = "UPDATE nodes SET trashed_at = NULL, trashed_by = NULL,"
				  " name = ?2, name_key = ?3, modified_at = ?4, modified_by = ?5,"
				  " look_key = ?6 WHERE id = ?1";
	char *name = NULL, *key = NULL, *where = NULL, *look = NULL;
	int64_t parent, blocker, clash;
	sqlite3_stmt *st;
	bool folder;
	enum err rc;

	rc = trash_entry(db, wp_id, node_id, &parent, &name, &key);
	if (rc)
		goto out;
	if (new_name) {
		free(name);
		free(key);
		name = key = NULL;
		rc = name_check(new_name, strlen(new_name), &name, &key);
		if (rc)
			goto out;
	}
	rc = trashed_ancestor(db, parent, &blocker);
	if (!rc && blocker) {
		rc = path_of(db, blocker, &where);
		if (!rc)
			rc = err_set(
				ERR_CONFLICT,
				"the folder '%s' it was in is in the trash; restore that first",
				where);
	}
	if (!rc)
		rc = child(db, parent, key, &clash, &folder);
	if (!rc && clash) {
		rc = path_of(db, parent, &where);
		if (!rc)
			rc = err_set(
				ERR_EXISTS,
				"a %s named '%s' already exists in '%s'; restore this one under "
				"another name or move that one away first",
				folder ? "folder" : "document", name, *where ? where : "/");
	}
	if (!rc)
		rc = look_alike(db, parent, node_id, name, &look);
	if (!rc)
		rc = db_stmt(db, sql, &st);
	if (rc)
		goto out;
	db_bind_int64(db, st, 1, node_id);
	db_bind_text(db, st, 2, name);
	db_bind_text(db, st, 3, key);
	db_bind_int64(db, st, 4, now);
	db_bind_id(db, st, 5, user);
	db_bind_text(db, st, 6, look);
	rc = db_exec_stmt(db, st, "restore from trash");
	if (!rc)
		rc = queue_subtree(db, node_id, "index", now);
out:
	free(name);
	free(key);
	free(where);
	free(look);
	return rc;
}

enum err tree_trash_restore(struct db *db, int64_t wp_id, int64_t node_id, int64_t user_id,
			    const char *new_name, struct tree_node *out)
{
	enum err rc;

	if (out)
		memset(out, 0, sizeof *out);
	rc = db_begin(db);
	if (rc)
		return rc;
	rc = restore_locked(db, wp_id, node_id, user_id, new_name, db_now());
	if (!rc && out)
		rc = load_node(db, node_id, out);
	rc = txn_end(db, rc);
	if (rc && out)
		tree_node_clear(out);
	return rc;
}

enum err tree_purge(struct db *db, int64_t wp_id, int64_t node_id, struct tree_purge_result *out)
{
	static const char queue_sql[] =
		SUB_CTE "INSERT INTO index_queue(node_id, op, queued_at)"
			" SELECT n.id, 'delete', ?2 FROM nodes n JOIN sub ON n.id = sub.id"
			" WHERE n.is_folder = 0";
	static const char sum_sql[] =
		SUB_CTE "SELECT count(*), coalesce(sum(size), 0) FROM versions"
			" WHERE node_id IN (SELECT id FROM sub)";
	static const char del_versions[] =
		SUB_CTE "DELETE FROM versions WHERE node_id IN (SELECT id FROM sub)";
	static const char del_nodes[] =
		SUB_CTE "DELETE FROM nodes WHERE id IN (SELECT id FROM sub)";
	struct tree_purge_result res = {0};
	int64_t parent;
	sqlite3_stmt *st;
	bool row;
	enum err rc;

	if (out)
		memset(out, 0, sizeof *out);
	rc = db_begin(db);
	if (rc)
		return rc;
	rc = trash_entry(db, wp_id, node_id, &parent, NULL, NULL);
	if (!rc)
		rc = db_stmt(db, queue_sql, &st);
	if (rc)
		goto out;
	db_bind_int64(db, st, 1, node_id);
	db_bind_int64(db, st, 2, db_now());
	rc = db_exec_stmt(db, st, "queue index work");
	if (!rc)
		rc = db_stmt(db, sum_sql, &st);
	if (rc)
		goto out;
	db_bind_int64(db, st, 1, node_id);
	rc = db_step(db, st, "count versions", &row);
	if (!rc && row) {
		res.versions = (uint64_t)sqlite3_column_int64(st, 0);
		res.bytes = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (!rc)
		rc = db_stmt(db, del_versions, &st);
	if (rc)
		goto out;
	db_bind_int64(db, st, 1, node_id);
	rc = db_exec_stmt(db, st, "purge versions");
	if (!rc)
		rc = db_stmt(db, del_nodes, &st);
	if (rc)
		goto out;
	db_bind_int64(db, st, 1, node_id);
	rc = db_exec_stmt(db, st, "purge");
	if (!rc)
		res.nodes = (uint64_t)sqlite3_changes(db_sqlite(db));
out:
	rc = txn_end(db, rc);
	if (!rc && out)
		*out = res;
	return rc;
}
