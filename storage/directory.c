/* directory — see directory.h. */
#include "directory.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db_internal.h"

const char *const dir_partner_types[] = {
	"hospital", "cancer_centre", "university", "public_health", "patient_org", "ministry",
	"company",  "other",         NULL,
};
const char *const dir_partner_roles[] = {"coordinator", "beneficiary", "affiliated", "associated",
					 NULL};

static bool among(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return true;
	return false;
}

bool dir_web_url_ok(const char *s)
{
	if (!s || !*s)
		return true;
	if (strncasecmp(s, "https://", 8) && strncasecmp(s, "http://", 7))
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f || strchr("\"'<>\\`", *s))
			return false;
	return true;
}

static int64_t col_i64(sqlite3_stmt *st, int col) { return sqlite3_column_int64(st, col); }

/* --- partners ------------------------------------------------------------------ */

#define PARTNER_COLS                                                                               \
	"SELECT id, short, name, country, type, role, city, website, description,"                 \
	" coalesce(logo_image_id, 0) FROM partners "

static void partner_row(sqlite3_stmt *st, void *rec, enum err *rc)
{
	struct dir_partner *p = rec;

	p->id = col_i64(st, 0);
	p->short_name = db_column_strdup(st, 1, rc);
	p->name = db_column_strdup(st, 2, rc);
	p->country = db_column_strdup(st, 3, rc);
	p->type = db_column_strdup(st, 4, rc);
	p->role = db_column_strdup(st, 5, rc);
	p->city = db_column_strdup(st, 6, rc);
	p->website = db_column_strdup(st, 7, rc);
	p->description = db_column_strdup(st, 8, rc);
	p->logo_image_id = col_i64(st, 9);
}

void dir_partner_clear(struct dir_partner *p)
{
	if (!p)
		return;
	free(p->short_name);
	free(p->name);
	free(p->country);
	free(p->type);
	free(p->role);
	free(p->city);
	free(p->website);
	free(p->description);
	memset(p, 0, sizeof *p);
}

static void partner_clear(void *rec) { dir_partner_clear(rec); }

void dir_partners_free(struct dir_partner *p, size_t n)
{
	db_rows_free(p, n, sizeof *p, partner_clear);
}

enum err dir_partner_list(struct db *db, struct dir_partner **out, size_t *n)
{
	static const char sql[] = PARTNER_COLS "ORDER BY country, name COLLATE NOCASE";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	return db_rows(db, st, "list partners", sizeof **out, partner_row, partner_clear,
		       (void **)out, n);
}

enum err dir_partner_get(struct db *db, const char *short_name, struct dir_partner *out)
{
	static const char sql[] = PARTNER_COLS "WHERE short = ?";
	sqlite3_stmt *st;
	struct dir_partner *rows = NULL;
	size_t n = 0;
	enum err rc = db_stmt(db, sql, &st);

	memset(out, 0, sizeof *out);
	if (rc)
		return rc;
	db_bind_text(db, st, 1, short_name);
	rc = db_rows(db, st, "read partner", sizeof *rows, partner_row, partner_clear,
		     (void **)&rows, &n);
	if (!rc && n == 0)
		rc = err_set(ERR_NOTFOUND, "no partner '%s'", short_name);
	if (!rc) {
		*out = rows[0];
		free(rows);
		return ERR_OK;
	}
	dir_partners_free(rows, n);
	return rc;
}

enum err dir_partner_update(struct db *db, const char *short_name,
			    const struct dir_partner_change *ch)
{
	static const char sql[] = "UPDATE partners SET type = coalesce(?2, type),"
				  " role = coalesce(?3, role), city = coalesce(?4, city),"
				  " website = coalesce(?5, website),"
				  " description = coalesce(?6, description) WHERE short = ?1";
	sqlite3_stmt *st;
	int changes = 0;
	enum err rc;

	if (ch->type && !among(dir_partner_types, ch->type))
		return err_set(ERR_INVALID, "unknown partner type '%s'", ch->type);
	if (ch->role && !among(dir_partner_roles, ch->role))
		return err_set(ERR_INVALID, "unknown partner role '%s'", ch->role);
	if (!dir_web_url_ok(ch->website))
		return err_set(ERR_INVALID, "the website must be an http or https URL");
	rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_text(db, st, 1, short_name);
	db_bind_text(db, st, 2, ch->type);
	db_bind_text(db, st, 3, ch->role);
	db_bind_text(db, st, 4, ch->city);
	db_bind_text(db, st, 5, ch->website);
	db_bind_text(db, st, 6, ch->description);
	rc = db_exec_changes(db, st, "update partner", &changes);
	if (!rc && changes == 0)
		rc = err_set(ERR_NOTFOUND, "no partner '%s'", short_name);
	return rc;
}

static void pwp_row(sqlite3_stmt *st, void *rec, enum err *rc)
{
	struct dir_partner_wp *w = rec;

	w->partner_id = col_i64(st, 0);
	w->wp_id = col_i64(st, 1);
	w->code = db_column_strdup(st, 2, rc);
	w->title = db_column_strdup(st, 3, rc);
	w->lead = sqlite3_column_int(st, 4) != 0;
}

static void pwp_clear(void *rec)
{
	struct dir_partner_wp *w = rec;

	free(w->code);
	free(w->title);
}

void dir_partner_wps_free(struct dir_partner_wp *w, size_t n)
{
	db_rows_free(w, n, sizeof *w, pwp_clear);
}

enum err dir_partner_wps(struct db *db, int64_t partner_id, struct dir_partner_wp **out, size_t *n)
{
	static const char sql[] =
		"SELECT p.id, w.id, w.code, w.title, max(w.lead_partner_id IS p.id)"
		" FROM partners p JOIN wps w"
		" WHERE (?1 = 0 OR p.id = ?1) AND (w.lead_partner_id = p.id OR EXISTS ("
		"  SELECT 1 FROM grants g WHERE g.wp_id = w.id AND g.partner_id = p.id))"
		" GROUP BY p.id, w.id ORDER BY p.id, w.code";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, partner_id);
	return db_rows(db, st, "list partner work packages", sizeof **out, pwp_row, pwp_clear,
		       (void **)out, n);
}

/* --- people -------------------------------------------------------------------- */

static void person_row(sqlite3_stmt *st, void *rec, enum err *rc)
{
	struct dir_person *p = rec;

	p->id = col_i64(st, 0);
	p->partner_id = col_i64(st, 1);
	p->name = db_column_strdup(st, 2, rc);
	p->email = db_column_strdup(st, 3, rc);
	p->role_line = db_column_strdup(st, 4, rc);
	p->contact_roles = db_column_strdup(st, 5, rc);
	p->partner_short = db_column_strdup(st, 6, rc);
	p->coordinator = sqlite3_column_int(st, 7) != 0;
}

static void person_clear(void *rec)
{
	struct dir_person *p = rec;

	free(p->name);
	free(p->email);
	free(p->role_line);
	free(p->contact_roles);
	free(p->partner_short);
}

void dir_people_free(struct dir_person *p, size_t n)
{
	db_rows_free(p, n, sizeof *p, person_clear);
}

enum err dir_people(struct db *db, int64_t partner_id, struct dir_person **out, size_t *n)
{
	static const char sql[] =
		"SELECT u.id, u.partner_id, u.name, u.email, u.role_line,"
		" coalesce((SELECT group_concat(role, char(10)) FROM"
		"  (SELECT role FROM contact_roles r WHERE r.user_id = u.id ORDER BY role)), ''),"
		" p.short, u.coordinator"
		" FROM users u JOIN partners p ON p.id = u.partner_id"
		" WHERE NOT u.disabled AND (?1 = 0 OR u.partner_id = ?1)"
		" ORDER BY u.name COLLATE NOCASE";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, partner_id);
	return db_rows(db, st, "list people", sizeof **out, person_row, person_clear, (void **)out,
		       n);
}

enum err dir_person_set(struct db *db, int64_t user_id, const char *role_line,
			const char *const *roles, size_t nroles)
{
	static const char upd[] =
		"UPDATE users SET role_line = coalesce(?2, role_line) WHERE id = ?1";
	static const char del[] = "DELETE FROM contact_roles WHERE user_id = ?";
	static const char ins[] =
		"INSERT OR IGNORE INTO contact_roles(user_id, role) VALUES (?, ?)";
	sqlite3_stmt *st;
	int changes = 0;
	enum err rc = db_stmt(db, upd, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	db_bind_text(db, st, 2, role_line);
	rc = db_exec_changes(db, st, "set role line", &changes);
	if (!rc && changes == 0)
		rc = err_set(ERR_NOTFOUND, "no such user");
	if (rc || !roles)
		return rc;
	rc = db_stmt(db, del, &st);
	if (!rc) {
		db_bind_int64(db, st, 1, user_id);
		rc = db_exec_stmt(db, st, "clear contact roles");
	}
	for (size_t i = 0; !rc && i < nroles; i++) {
		rc = db_stmt(db, ins, &st);
		if (rc)
			break;
		db_bind_int64(db, st, 1, user_id);
		db_bind_text(db, st, 2, roles[i]);
		rc = db_exec_stmt(db, st, "add contact role");
	}
	return rc;
}

enum err dir_has_role(struct db *db, int64_t user_id, const char *role, bool *has)
{
	static const char sql[] = "SELECT 1 FROM contact_roles WHERE user_id = ? AND role = ?";
	sqlite3_stmt *st;
	bool row = false;
	enum err rc = db_stmt(db, sql, &st);

	*has = false;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	db_bind_text(db, st, 2, role);
	rc = db_step(db, st, "read contact role", &row);
	sqlite3_reset(st);
	*has = !rc && row;
	return rc;
}

/* --- search -------------------------------------------------------------------- */

static void hit_row(sqlite3_stmt *st, void *rec, enum err *rc)
{
	static const char *const kinds[] = {"partner", "person", "wp"};
	struct dir_hit *h = rec;
	int k = sqlite3_column_int(st, 0);

	h->kind = kinds[k >= 0 && k <= 2 ? k : 0];
	h->wp_id = col_i64(st, 1);
	h->key = db_column_strdup(st, 2, rc);
	h->title = db_column_strdup(st, 3, rc);
	h->detail = db_column_strdup(st, 4, rc);
}

static void hit_clear(void *rec)
{
	struct dir_hit *h = rec;

	free(h->key);
	free(h->title);
	free(h->detail);
}

void dir_hits_free(struct dir_hit *h, size_t n) { db_rows_free(h, n, sizeof *h, hit_clear); }

enum err dir_search(struct db *db, const char *q, int limit, struct dir_hit **out, size_t *n)
{
	/* A few hundred rows at most: a scan with instr() over the lower-
	 * cased text is fast enough and needs no index to keep in step. ?1
	 * is the lower-cased query. */
	static const char sql[] =
		"SELECT * FROM (SELECT 0, 0, short, name, city || ', ' || country FROM partners"
		"  WHERE instr(lower(short || ' ' || name || ' ' || city || ' ' || type), ?1)"
		"  ORDER BY name LIMIT ?2)"
		" UNION ALL SELECT * FROM (SELECT 1, 0, u.email, u.name,"
		"  p.short || (CASE WHEN u.role_line <> '' THEN ' · ' || u.role_line ELSE '' END)"
		"  FROM users u JOIN partners p ON p.id = u.partner_id WHERE NOT u.disabled"
		"  AND (instr(lower(u.name || ' ' || u.email || ' ' || u.role_line), ?1)"
		"   OR EXISTS (SELECT 1 FROM contact_roles r WHERE r.user_id = u.id"
		"    AND instr(lower(r.role), ?1)))"
		"  ORDER BY u.name LIMIT ?2)"
		" UNION ALL SELECT * FROM (SELECT 2, id, code, title, '' FROM wps"
		"  WHERE instr(lower(code || ' ' || title), ?1) ORDER BY code LIMIT ?2)";
	sqlite3_stmt *st;
	char *lq;
	enum err rc;

	*out = NULL;
	*n = 0;
	lq = strdup(q);
	if (!lq)
		return err_set(ERR_NOMEM, "out of memory");
	for (char *p = lq; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	rc = db_stmt(db, sql, &st);
	if (!rc) {
		db_bind_text(db, st, 1, lq);
		db_bind_int64(db, st, 2, limit);
		rc = db_rows(db, st, "search the directory", sizeof **out, hit_row, hit_clear,
			     (void **)out, n);
	}
	free(lq);
	return rc;
}

/* Drop image `id` when nothing shows it any more (a replaced logo, a
 * removed news item's picture). Pictures uploaded for a news item that
 * was never posted stay: nothing knows yet whether one will be. */
static enum err image_release(struct db *db, int64_t id)
{
	static const char sql[] =
		"DELETE FROM images WHERE id = ?1"
		" AND NOT EXISTS (SELECT 1 FROM partners WHERE logo_image_id = ?1)"
		" AND NOT EXISTS (SELECT 1 FROM news WHERE image_id = ?1)";
	sqlite3_stmt *st;
	enum err rc;

	if (id <= 0)
		return ERR_OK;
	rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, id);
	return db_exec_stmt(db, st, "release image");
}

/* --- news ---------------------------------------------------------------------- */

static void news_row(sqlite3_stmt *st, void *rec, enum err *rc)
{
	struct dir_news *x = rec;

	x->id = col_i64(st, 0);
	x->created_at = col_i64(st, 1);
	x->title = db_column_strdup(st, 2, rc);
	x->body = db_column_strdup(st, 3, rc);
	x->author = db_column_strdup(st, 4, rc);
	x->image_id = col_i64(st, 5);
	x->edited_at = col_i64(st, 6);
	x->author_id = col_i64(st, 7);
}

static void news_clear(void *rec)
{
	struct dir_news *x = rec;

	free(x->title);
	free(x->body);
	free(x->author);
}

void dir_news_free(struct dir_news *items, size_t n)
{
	db_rows_free(items, n, sizeof *items, news_clear);
}

enum err dir_news_add(struct db *db, const char *title, const char *body, int64_t author_id,
		      int64_t image_id, int64_t *id)
{
	static const char sql[] =
		"INSERT INTO news(title, body, author_id, image_id, created_at) VALUES (?, ?, ?, ?, ?)";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_text(db, st, 1, title);
	db_bind_text(db, st, 2, body);
	db_bind_id(db, st, 3, author_id);
	db_bind_id(db, st, 4, image_id);
	db_bind_int64(db, st, 5, db_now());
	rc = db_exec_stmt(db, st, "add news");
	if (rc == ERR_INVALID || rc == ERR_EXISTS)
		rc = err_set(ERR_INVALID, "no such image");
	if (!rc && id)
		*id = sqlite3_last_insert_rowid(db_sqlite(db));
	return rc;
}

enum err dir_news_list(struct db *db, int limit, int offset, struct dir_news **out, size_t *n,
		       int64_t *total)
{
	static const char sql[] =
		"SELECT n.id, n.created_at, n.title, n.body, coalesce(u.name, ''),"
		" coalesce(n.image_id, 0), coalesce(n.edited_at, 0), coalesce(n.author_id, 0)"
		" FROM news n LEFT JOIN users u ON u.id = n.author_id"
		" ORDER BY n.created_at DESC, n.id DESC LIMIT ? OFFSET ?";
	static const char count[] = "SELECT count(*) FROM news";
	sqlite3_stmt *st;
	bool row = false;
	enum err rc = db_stmt(db, count, &st);

	*out = NULL;
	*n = 0;
	*total = 0;
	if (rc)
		return rc;
	rc = db_step(db, st, "count news", &row);
	if (!rc && row)
		*total = col_i64(st, 0);
	sqlite3_reset(st);
	if (!rc)
		rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, limit);
	db_bind_int64(db, st, 2, offset);
	return db_rows(db, st, "list news", sizeof **out, news_row, news_clear, (void **)out, n);
}

enum err dir_news_exists(struct db *db, int64_t id, bool *exists)
{
	static const char sql[] = "SELECT 1 FROM news WHERE id = ?";
	sqlite3_stmt *st;
	bool row = false;
	enum err rc = db_stmt(db, sql, &st);

	*exists = false;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, id);
	rc = db_step(db, st, "read news", &row);
	sqlite3_reset(st);
	*exists = !rc && row;
	return rc;
}

enum err dir_news_delete(struct db *db, int64_t id)
{
	static const char img[] = "SELECT coalesce(image_id, 0) FROM news WHERE id = ?";
	static const char sql[] = "DELETE FROM news WHERE id = ?";
	sqlite3_stmt *st;
	int64_t image = 0;
	bool row = false;
	int changes = 0;
	enum err rc = db_stmt(db, img, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, id);
	rc = db_step(db, st, "read news", &row);
	if (!rc && row)
		image = col_i64(st, 0);
	sqlite3_reset(st);
	if (!rc)
		rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, id);
	rc = db_exec_changes(db, st, "delete news", &changes);
	if (!rc && !changes)
		rc = err_set(ERR_NOTFOUND, "no such news item");
	if (!rc)
		rc = image_release(db, image);
	return rc;
}

enum err dir_news_get(struct db *db, int64_t id, struct dir_news **out)
{
	static const char sql[] =
		"SELECT n.id, n.created_at, n.title, n.body, coalesce(u.name, ''),"
		" coalesce(n.image_id, 0), coalesce(n.edited_at, 0), coalesce(n.author_id, 0)"
		" FROM news n LEFT JOIN users u ON u.id = n.author_id WHERE n.id = ?";
	sqlite3_stmt *st;
	size_t n = 0;
	enum err rc = db_stmt(db, sql, &st);

	*out = NULL;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, id);
	rc = db_rows(db, st, "read news", sizeof **out, news_row, news_clear, (void **)out, &n);
	if (!rc && n == 0) {
		free(*out);
		*out = NULL;
		rc = err_set(ERR_NOTFOUND, "no such news item");
	}
	return rc;
}

enum err dir_news_update(struct db *db, int64_t id, const char *title, const char *body,
			 int64_t image_id)
{
	static const char img[] = "SELECT coalesce(image_id, 0) FROM news WHERE id = ?";
	static const char sql[] =
		"UPDATE news SET title = ?, body = ?, image_id = ?, edited_at = ? WHERE id = ?";
	sqlite3_stmt *st;
	int64_t old = 0;
	bool row = false;
	int changes = 0;
	enum err rc = db_stmt(db, img, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, id);
	rc = db_step(db, st, "read news", &row);
	if (!rc && row)
		old = col_i64(st, 0);
	sqlite3_reset(st);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no such news item");
	if (!rc)
		rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_text(db, st, 1, title);
	db_bind_text(db, st, 2, body);
	db_bind_id(db, st, 3, image_id);
	db_bind_int64(db, st, 4, db_now());
	db_bind_int64(db, st, 5, id);
	rc = db_exec_changes(db, st, "edit news", &changes);
	if (rc == ERR_INVALID || rc == ERR_EXISTS)
		rc = err_set(ERR_INVALID, "no such image");
	if (!rc && !changes)
		rc = err_set(ERR_NOTFOUND, "no such news item");
	if (!rc && old && old != image_id)
		rc = image_release(db, old);
	return rc;
}

/* --- events -------------------------------------------------------------------- */

#define EVENT_COLS                                                                                 \
	"SELECT e.id, e.starts_at, e.ends_at, e.created_at, coalesce(e.folder_wp_id, 0),"          \
	" e.title, e.tz, e.place, e.online_url, e.description, coalesce(f.code, ''),"              \
	" e.folder_path, e.internal,"                                                              \
	" coalesce((SELECT group_concat(w.id || ' ' || w.code, char(10)) FROM event_wps x"         \
	"  JOIN wps w ON w.id = x.wp_id WHERE x.event_id = e.id), ''),"                            \
	" coalesce(e.edited_at, 0), e.sequence, coalesce(e.created_by, 0)"                         \
	" FROM events e LEFT JOIN wps f ON f.id = e.folder_wp_id "

/* The linked work packages come as "id code" lines. */
static void event_wps_parse(struct dir_event *e, const char *s, enum err *rc)
{
	size_t lines = 1;

	if (!s || !*s)
		return;
	for (const char *p = s; *p; p++)
		lines += *p == '\n';
	e->wp_ids = calloc(lines, sizeof *e->wp_ids);
	e->wp_codes = calloc(lines, sizeof *e->wp_codes);
	if (!e->wp_ids || !e->wp_codes) {
		*rc = ERR_NOMEM;
		return;
	}
	while (*s && e->nwps < lines) {
		const char *nl = strchr(s, '\n'), *sp;
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		char *end;

		e->wp_ids[e->nwps] = strtoll(s, &end, 10);
		sp = end < s + len ? end + 1 : s + len;
		e->wp_codes[e->nwps] = strndup(sp, (size_t)(s + len - sp));
		if (!e->wp_codes[e->nwps]) {
			*rc = ERR_NOMEM;
			return;
		}
		e->nwps++;
		s += len + (nl ? 1 : 0);
	}
}

static void event_row(sqlite3_stmt *st, void *rec, enum err *rc)
{
	struct dir_event *e = rec;

	e->id = col_i64(st, 0);
	e->starts_at = col_i64(st, 1);
	e->ends_at = col_i64(st, 2);
	e->created_at = col_i64(st, 3);
	e->folder_wp_id = col_i64(st, 4);
	e->title = db_column_strdup(st, 5, rc);
	e->tz = db_column_strdup(st, 6, rc);
	e->place = db_column_strdup(st, 7, rc);
	e->online_url = db_column_strdup(st, 8, rc);
	e->description = db_column_strdup(st, 9, rc);
	e->folder_wp = db_column_strdup(st, 10, rc);
	e->folder_path = db_column_strdup(st, 11, rc);
	e->internal = sqlite3_column_int(st, 12) != 0;
	event_wps_parse(e, (const char *)sqlite3_column_text(st, 13), rc);
	e->edited_at = col_i64(st, 14);
	e->sequence = col_i64(st, 15);
	e->created_by = col_i64(st, 16);
}

void dir_event_clear(struct dir_event *e)
{
	if (!e)
		return;
	free(e->title);
	free(e->tz);
	free(e->place);
	free(e->online_url);
	free(e->description);
	free(e->folder_wp);
	free(e->folder_path);
	for (size_t i = 0; i < e->nwps; i++)
		free(e->wp_codes[i]);
	free(e->wp_codes);
	free(e->wp_ids);
	memset(e, 0, sizeof *e);
}

static void event_clear(void *rec) { dir_event_clear(rec); }

void dir_events_free(struct dir_event *e, size_t n) { db_rows_free(e, n, sizeof *e, event_clear); }

/* Parameters 1-10 of an event's INSERT and UPDATE: its own fields. */
static void bind_event_fields(struct db *db, sqlite3_stmt *st, const struct dir_event *ev)
{
	db_bind_text(db, st, 1, ev->title);
	db_bind_int64(db, st, 2, ev->starts_at);
	db_bind_int64(db, st, 3, ev->ends_at);
	db_bind_text(db, st, 4, ev->tz);
	db_bind_text(db, st, 5, ev->place ? ev->place : "");
	db_bind_text(db, st, 6, ev->online_url ? ev->online_url : "");
	db_bind_text(db, st, 7, ev->description ? ev->description : "");
	db_bind_int64(db, st, 8, ev->internal);
	db_bind_id(db, st, 9, ev->folder_wp_id);
	db_bind_text(db, st, 10, ev->folder_path ? ev->folder_path : "");
}

/* Link event `id` to the work packages `ev` names. */
static enum err link_event_wps(struct db *db, int64_t id, const struct dir_event *ev)
{
	static const char link[] = "INSERT OR IGNORE INTO event_wps(event_id, wp_id) VALUES (?, ?)";
	sqlite3_stmt *st;
	enum err rc = ERR_OK;

	for (size_t i = 0; !rc && i < ev->nwps; i++) {
		rc = db_stmt(db, link, &st);
		if (rc)
			break;
		db_bind_int64(db, st, 1, id);
		db_bind_int64(db, st, 2, ev->wp_ids[i]);
		rc = db_exec_stmt(db, st, "link event to work package");
	}
	return rc;
}

enum err dir_event_add(struct db *db, const struct dir_event *ev, int64_t created_by, int64_t *id)
{
	static const char sql[] =
		"INSERT INTO events(title, starts_at, ends_at, tz, place, online_url, description,"
		" internal, folder_wp_id, folder_path, created_by, created_at)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	sqlite3_stmt *st;
	int64_t new_id = 0;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	bind_event_fields(db, st, ev);
	db_bind_id(db, st, 11, created_by);
	db_bind_int64(db, st, 12, db_now());
	rc = db_exec_stmt(db, st, "add event");
	if (!rc)
		new_id = sqlite3_last_insert_rowid(db_sqlite(db));
	if (!rc)
		rc = link_event_wps(db, new_id, ev);
	if (!rc && id)
		*id = new_id;
	return rc;
}

enum err dir_event_list(struct db *db, int64_t from, struct dir_event **out, size_t *n)
{
	static const char sql[] = EVENT_COLS "WHERE e.ends_at >= ? ORDER BY e.starts_at, e.id";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, from);
	return db_rows(db, st, "list events", sizeof **out, event_row, event_clear, (void **)out,
		       n);
}

enum err dir_event_get(struct db *db, int64_t id, struct dir_event *out)
{
	static const char sql[] = EVENT_COLS "WHERE e.id = ?";
	sqlite3_stmt *st;
	struct dir_event *rows = NULL;
	size_t n = 0;
	enum err rc = db_stmt(db, sql, &st);

	memset(out, 0, sizeof *out);
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, id);
	rc = db_rows(db, st, "read event", sizeof *rows, event_row, event_clear, (void **)&rows,
		     &n);
	if (!rc && n == 0)
		rc = err_set(ERR_NOTFOUND, "no such event");
	if (!rc) {
		*out = rows[0];
		free(rows);
		return ERR_OK;
	}
	dir_events_free(rows, n);
	return rc;
}

enum err dir_event_delete(struct db *db, int64_t id)
{
	static const char sql[] = "DELETE FROM events WHERE id = ?";
	sqlite3_stmt *st;
	int changes = 0;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, id);
	rc = db_exec_changes(db, st, "delete event", &changes);
	if (!rc && !changes)
		rc = err_set(ERR_NOTFOUND, "no such event");
	return rc;
}

enum err dir_event_update(struct db *db, const struct dir_event *ev)
{
	static const char sql[] =
		"UPDATE events SET title = ?, starts_at = ?, ends_at = ?, tz = ?, place = ?,"
		" online_url = ?, description = ?, internal = ?, folder_wp_id = ?, folder_path = ?,"
		" edited_at = ?, sequence = sequence + 1 WHERE id = ?";
	static const char unlink[] = "DELETE FROM event_wps WHERE event_id = ?";
	sqlite3_stmt *st;
	int changes = 0;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	bind_event_fields(db, st, ev);
	db_bind_int64(db, st, 11, db_now());
	db_bind_int64(db, st, 12, ev->id);
	rc = db_exec_changes(db, st, "edit event", &changes);
	if (!rc && !changes)
		rc = err_set(ERR_NOTFOUND, "no such event");
	if (!rc)
		rc = db_stmt(db, unlink, &st);
	if (!rc) {
		db_bind_int64(db, st, 1, ev->id);
		rc = db_exec_stmt(db, st, "unlink event's work packages");
	}
	if (!rc)
		rc = link_event_wps(db, ev->id, ev);
	return rc;
}

/* --- pictures ---------------------------------------------------------------------- */

enum err dir_image_add(struct db *db, const void *png, size_t len, int width, int height,
		       int64_t created_by, int64_t *id)
{
	static const char sql[] = "INSERT INTO images(png, width, height, created_by, created_at)"
				  " VALUES (?, ?, ?, ?, ?)";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_blob(db, st, 1, png, len);
	db_bind_int64(db, st, 2, width);
	db_bind_int64(db, st, 3, height);
	db_bind_id(db, st, 4, created_by);
	db_bind_int64(db, st, 5, db_now());
	rc = db_exec_stmt(db, st, "store image");
	if (!rc)
		*id = sqlite3_last_insert_rowid(db_sqlite(db));
	return rc;
}

enum err dir_image_get(struct db *db, int64_t id, void **png, size_t *len)
{
	static const char sql[] = "SELECT png FROM images WHERE id = ?";
	sqlite3_stmt *st;
	bool row = false;
	enum err rc = db_stmt(db, sql, &st);

	*png = NULL;
	*len = 0;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, id);
	rc = db_step(db, st, "read image", &row);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no such image");
	if (!rc) {
		int n = sqlite3_column_bytes(st, 0);
		const void *p = sqlite3_column_blob(st, 0);

		*png = malloc(n > 0 ? (size_t)n : 1);
		if (!*png)
			rc = err_set(ERR_NOMEM, "out of memory");
		else if (n > 0)
			memcpy(*png, p, (size_t)n);
		*len = rc ? 0 : (size_t)n;
	}
	sqlite3_reset(st);
	return rc;
}

enum err dir_partner_set_logo(struct db *db, const char *short_name, int64_t image_id)
{
	static const char old[] = "SELECT coalesce(logo_image_id, 0) FROM partners WHERE short = ?";
	static const char sql[] = "UPDATE partners SET logo_image_id = ? WHERE short = ?";
	sqlite3_stmt *st;
	int64_t before = 0;
	bool row = false;
	int changes = 0;
	enum err rc = db_stmt(db, old, &st);

	if (rc)
		return rc;
	db_bind_text(db, st, 1, short_name);
	rc = db_step(db, st, "read logo", &row);
	if (!rc && row)
		before = col_i64(st, 0);
	sqlite3_reset(st);
	if (!rc)
		rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_id(db, st, 1, image_id);
	db_bind_text(db, st, 2, short_name);
	rc = db_exec_changes(db, st, "set logo", &changes);
	if (!rc && !changes)
		rc = err_set(ERR_NOTFOUND, "no partner '%s'", short_name);
	if (!rc && before != image_id)
		rc = image_release(db, before);
	return rc;
}

/* --- calendar feeds ------------------------------------------------------------ */

enum err dir_feed_set(struct db *db, int64_t user_id, const unsigned char hash[32])
{
	static const char sql[] =
		"INSERT INTO calendar_feeds(user_id, secret_hash, created_at) VALUES (?1, ?2, ?3)"
		" ON CONFLICT(user_id) DO UPDATE SET secret_hash = ?2, created_at = ?3";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	db_bind_blob(db, st, 2, hash, 32);
	db_bind_int64(db, st, 3, db_now());
	return db_exec_stmt(db, st, "set calendar feed");
}

enum err dir_feed_revoke(struct db *db, int64_t user_id)
{
	static const char sql[] = "DELETE FROM calendar_feeds WHERE user_id = ?";
	sqlite3_stmt *st;
	int changes = 0;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	rc = db_exec_changes(db, st, "revoke calendar feed", &changes);
	if (!rc && !changes)
		rc = err_set(ERR_NOTFOUND, "no calendar feed");
	return rc;
}

enum err dir_feed_user(struct db *db, const unsigned char hash[32], int64_t *user_id)
{
	static const char sql[] =
		"SELECT u.id FROM calendar_feeds f JOIN users u ON u.id = f.user_id"
		" WHERE f.secret_hash = ? AND NOT u.disabled";
	sqlite3_stmt *st;
	bool row = false;
	enum err rc = db_stmt(db, sql, &st);

	*user_id = 0;
	if (rc)
		return rc;
	db_bind_blob(db, st, 1, hash, 32);
	rc = db_step(db, st, "find calendar feed", &row);
	if (!rc && row)
		*user_id = col_i64(st, 0);
	sqlite3_reset(st);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no such calendar");
	return rc;
}

enum err dir_feed_exists(struct db *db, int64_t user_id, bool *exists, int64_t *created_at)
{
	static const char sql[] = "SELECT created_at FROM calendar_feeds WHERE user_id = ?";
	sqlite3_stmt *st;
	bool row = false;
	enum err rc = db_stmt(db, sql, &st);

	*exists = false;
	*created_at = 0;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	rc = db_step(db, st, "read calendar feed", &row);
	if (!rc && row) {
		*exists = true;
		*created_at = col_i64(st, 0);
	}
	sqlite3_reset(st);
	return rc;
}
