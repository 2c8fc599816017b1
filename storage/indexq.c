/* indexq — see indexq.h. */
#include "indexq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_internal.h"

enum err indexq_push(struct db *db, int64_t node_id, bool del)
{
	static const char sql[] =
		"INSERT INTO index_queue (node_id, op, queued_at) VALUES (?1, ?2, ?3)";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, node_id);
	db_bind_text(db, st, 2, del ? "delete" : "index");
	db_bind_int64(db, st, 3, db_now());
	return db_exec_stmt(db, st, "queueing for the index");
}

enum err indexq_push_all(struct db *db)
{
	static const char sql[] =
		"INSERT INTO index_queue (node_id, op, queued_at)"
		" SELECT id, 'index', ?1 FROM nodes WHERE is_folder = 0 ORDER BY id";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, db_now());
	return db_exec_stmt(db, st, "queueing every document");
}

enum err indexq_take(struct db *db, size_t max, struct indexq_item *items, size_t *n)
{
	static const char sql[] =
		"SELECT id, node_id, op = 'delete' FROM index_queue ORDER BY id LIMIT ?1";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	*n = 0;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, (sqlite3_int64)max);
	while (!(rc = db_step(db, st, "reading the index queue", &row)) && row && *n < max) {
		items[*n].id = sqlite3_column_int64(st, 0);
		items[*n].node_id = sqlite3_column_int64(st, 1);
		items[*n].del = sqlite3_column_int(st, 2) != 0;
		(*n)++;
	}
	sqlite3_reset(st);
	return rc;
}

enum err indexq_take_fair(struct db *db, size_t max, const int64_t *skip, size_t nskip,
			  struct indexq_item *items, size_t *n)
{
	static const char sql[] =
		"SELECT id, node_id, del FROM ("
		"  SELECT q.id, q.node_id, q.op = 'delete' AS del,"
		"         row_number() OVER w AS turn, count(*) OVER (PARTITION BY"
		"           coalesce(v.uploaded_by, 0)) AS waiting"
		"  FROM index_queue q"
		"  LEFT JOIN nodes n ON n.id = q.node_id"
		"  LEFT JOIN versions v ON v.node_id = n.id AND v.number = n.current_version"
		"  WINDOW w AS (PARTITION BY coalesce(v.uploaded_by, 0) ORDER BY q.id)"
		") ORDER BY turn, waiting, id";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	*n = 0;
	if (rc)
		return rc;
	while (*n < max && !(rc = db_step(db, st, "reading the index queue", &row)) && row) {
		int64_t node = sqlite3_column_int64(st, 1);
		bool skipped = false;

		for (size_t i = 0; i < nskip && !skipped; i++)
			skipped = skip[i] == node;
		if (skipped)
			continue;
		items[*n].id = sqlite3_column_int64(st, 0);
		items[*n].node_id = node;
		items[*n].del = sqlite3_column_int(st, 2) != 0;
		(*n)++;
	}
	sqlite3_reset(st);
	return rc;
}

enum err indexq_finish_ids(struct db *db, const int64_t *ids, size_t n)
{
	static const char sql[] = "DELETE FROM index_queue WHERE id = ?1";
	sqlite3_stmt *st;
	enum err rc = ERR_OK;

	for (size_t i = 0; i < n && !rc; i++) {
		rc = db_stmt(db, sql, &st);
		if (rc)
			break;
		db_bind_int64(db, st, 1, ids[i]);
		rc = db_exec_stmt(db, st, "clearing the index queue");
	}
	return rc;
}

enum err indexq_finish(struct db *db, int64_t upto)
{
	static const char sql[] = "DELETE FROM index_queue WHERE id <= ?1";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, upto);
	return db_exec_stmt(db, st, "clearing the index queue");
}

enum err indexq_pending(struct db *db, int64_t *n)
{
	static const char sql[] = "SELECT count(*) FROM index_queue";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	*n = 0;
	if (rc)
		return rc;
	rc = db_step(db, st, "counting the index queue", &row);
	if (!rc && row)
		*n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc;
}

void indexq_doc_clear(struct indexq_doc *d)
{
	if (!d)
		return;
	free(d->wp_code);
	free(d->path);
	free(d->name);
	free(d->deliverable);
	free(d->status);
	free(d->mime);
	free(d->uploader);
	free(d->wp_language);
	free(d->folders);
	memset(d, 0, sizeof *d);
}

/* The chain from the node up to its root; builds path, folders, trashed. */
static enum err doc_chain(struct db *db, struct indexq_doc *d)
{
	static const char sql[] =
		"WITH RECURSIVE up(id, parent_id, name, trashed, depth) AS ("
		"  SELECT id, parent_id, name, trashed_at IS NOT NULL, 0 FROM nodes WHERE id = ?1"
		"  UNION ALL"
		"  SELECT n.id, n.parent_id, n.name, n.trashed_at IS NOT NULL, up.depth + 1"
		"  FROM nodes n JOIN up ON n.id = up.parent_id WHERE up.depth < 1000"
		") SELECT id, parent_id IS NULL, name, trashed FROM up ORDER BY depth DESC";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;
	size_t cap = 0, plen = 0, pcap = 0;
	char *path = NULL;

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, d->node_id);
	while (!(rc = db_step(db, st, "reading a document's folders", &row)) && row) {
		int64_t id = sqlite3_column_int64(st, 0);
		bool root = sqlite3_column_int(st, 1) != 0;
		const char *name = (const char *)sqlite3_column_text(st, 2);
		size_t nl = name ? strlen(name) : 0;

		if (sqlite3_column_int(st, 3))
			d->trashed = true;
		if (id != d->node_id) {
			int64_t *f =
				db_grow((void **)&d->folders, &d->nfolders, &cap, sizeof *f, &rc);

			if (!f)
				break;
			*f = id;
		}
		if (root)
			continue; /* the WP's root folder is not part of paths */
		if (plen + nl + 2 > pcap) {
			size_t nc = (plen + nl + 2) * 2;
			char *p = realloc(path, nc);

			if (!p) {
				rc = err_set(ERR_NOMEM, "out of memory");
				break;
			}
			path = p;
			pcap = nc;
		}
		if (plen)
			path[plen++] = '/';
		memcpy(path + plen, name, nl);
		plen += nl;
		path[plen] = '\0';
	}
	sqlite3_reset(st);
	if (rc) {
		free(path);
		return rc;
	}
	d->path = path ? path : strdup("");
	return d->path ? ERR_OK : err_set(ERR_NOMEM, "out of memory");
}

enum err indexq_doc_facts(struct db *db, int64_t node_id, struct indexq_doc *d)
{
	/* nodes.current_version holds the version's number. */
	static const char sql[] =
		"SELECT n.wp_id, w.code, n.is_folder, n.name, n.deliverable, n.status,"
		"       v.number, v.blob, v.mime, v.size, v.uploaded_at, coalesce(u.name, ''),"
		"       w.language"
		" FROM nodes n JOIN wps w ON w.id = n.wp_id"
		" LEFT JOIN versions v ON v.node_id = n.id AND v.number = n.current_version"
		" LEFT JOIN users u ON u.id = v.uploaded_by"
		" WHERE n.id = ?1";
	sqlite3_stmt *st;
	enum err rc;
	bool row;

	memset(d, 0, sizeof *d);
	d->node_id = node_id;
	rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, node_id);
	rc = db_step(db, st, "reading a document", &row);
	if (rc || !row) {
		sqlite3_reset(st);
		return rc; /* !row: purged, found stays false */
	}
	d->found = true;
	d->wp_id = sqlite3_column_int64(st, 0);
	d->wp_code = db_column_strdup(st, 1, &rc);
	d->is_folder = sqlite3_column_int(st, 2) != 0;
	d->name = db_column_strdup(st, 3, &rc);
	d->deliverable = db_column_strdup(st, 4, &rc);
	d->status = db_column_strdup(st, 5, &rc);
	d->wp_language = db_column_strdup(st, 12, &rc);
	if (sqlite3_column_type(st, 6) != SQLITE_NULL && !d->is_folder) {
		const char *blob = (const char *)sqlite3_column_text(st, 7);

		d->has_version = true;
		d->version = sqlite3_column_int64(st, 6);
		snprintf(d->blob, sizeof d->blob, "%s", blob ? blob : "");
		d->mime = db_column_strdup(st, 8, &rc);
		d->size = sqlite3_column_int64(st, 9);
		d->uploaded_at = sqlite3_column_int64(st, 10);
		d->uploader = db_column_strdup(st, 11, &rc);
	}
	sqlite3_reset(st);
	if (!rc)
		rc = doc_chain(db, d);
	if (rc)
		indexq_doc_clear(d);
	return rc;
}

static enum err collect_ids(struct db *db, sqlite3_stmt *st, int64_t **ids, size_t *n)
{
	size_t cap = 0;
	enum err rc;
	bool row;

	*ids = NULL;
	*n = 0;
	while (!(rc = db_step(db, st, "listing documents", &row)) && row) {
		int64_t *id = db_grow((void **)ids, n, &cap, sizeof *id, &rc);

		if (!id)
			break;
		*id = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (rc) {
		free(*ids);
		*ids = NULL;
		*n = 0;
	}
	return rc;
}

enum err indexq_documents_under(struct db *db, int64_t folder_id, int64_t **ids, size_t *n)
{
	static const char sql[] =
		"WITH RECURSIVE down(id, depth) AS ("
		"  SELECT ?1, 0"
		"  UNION ALL"
		"  SELECT n.id, down.depth + 1 FROM nodes n JOIN down ON n.parent_id = down.id"
		"  WHERE down.depth < 1000"
		") SELECT n.id FROM down JOIN nodes n ON n.id = down.id"
		" WHERE n.is_folder = 0 AND n.id <> ?1 ORDER BY n.id";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, folder_id);
	return collect_ids(db, st, ids, n);
}

enum err indexq_all_documents(struct db *db, int64_t **ids, size_t *n)
{
	static const char sql[] = "SELECT id FROM nodes WHERE is_folder = 0 ORDER BY id";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	return collect_ids(db, st, ids, n);
}

enum err indexq_state_put(struct db *db, const struct indexq_state *s)
{
	static const char sql[] =
		"INSERT INTO index_state (node_id, version, status, reason, language, indexed_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
		" ON CONFLICT (node_id) DO UPDATE SET version = excluded.version,"
		"   status = excluded.status, reason = excluded.reason,"
		"   language = excluded.language, indexed_at = excluded.indexed_at";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, s->node_id);
	db_bind_int64(db, st, 2, s->version);
	db_bind_text(db, st, 3, s->status);
	db_bind_text(db, st, 4, s->reason ? s->reason : "");
	db_bind_text(db, st, 5, s->language ? s->language : "");
	db_bind_int64(db, st, 6, db_now());
	return db_exec_stmt(db, st, "recording index state");
}

enum err indexq_state_delete(struct db *db, int64_t node_id)
{
	static const char sql[] = "DELETE FROM index_state WHERE node_id = ?1";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, node_id);
	return db_exec_stmt(db, st, "clearing index state");
}

enum err indexq_state_clear(struct db *db)
{
	static const char sql[] = "DELETE FROM index_state";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	return db_exec_stmt(db, st, "clearing index state");
}

enum err indexq_state_get(struct db *db, int64_t node_id, int64_t *version, char **status,
			  char **reason, char **language)
{
	static const char sql[] =
		"SELECT version, status, reason, language FROM index_state WHERE node_id = ?1";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	*status = *reason = *language = NULL;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, node_id);
	rc = db_step(db, st, "reading index state", &row);
	if (!rc && row) {
		*version = sqlite3_column_int64(st, 0);
		*status = db_column_strdup(st, 1, &rc);
		*reason = db_column_strdup(st, 2, &rc);
		*language = db_column_strdup(st, 3, &rc);
	} else if (!rc) {
		rc = err_set(ERR_NOTFOUND, "not indexed");
	}
	sqlite3_reset(st);
	if (rc) {
		free(*status);
		free(*reason);
		free(*language);
		*status = *reason = *language = NULL;
	}
	return rc;
}

enum err indexq_wp_code(struct db *db, int64_t wp_id, char *buf, size_t len)
{
	static const char sql[] = "SELECT code FROM wps WHERE id = ?1";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, wp_id);
	rc = db_step(db, st, "reading a work package", &row);
	if (!rc && row)
		snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
	else if (!rc)
		rc = err_set(ERR_NOTFOUND, "no work package %lld", (long long)wp_id);
	sqlite3_reset(st);
	return rc;
}

enum err indexq_wp_id(struct db *db, const char *code, int64_t *id)
{
	static const char sql[] = "SELECT id FROM wps WHERE code = ?1";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);
	bool row;

	if (rc)
		return rc;
	db_bind_text(db, st, 1, code);
	rc = db_step(db, st, "reading a work package", &row);
	if (!rc && row)
		*id = sqlite3_column_int64(st, 0);
	else if (!rc)
		rc = err_set(ERR_NOTFOUND, "no work package '%s'", code);
	sqlite3_reset(st);
	return rc;
}
