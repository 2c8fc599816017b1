/* deliverables — see deliverables.h. */
#include "deliverables.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv.h"
#include "db_internal.h"
#include "tree.h"

const char *const dlv_types[] = {"R", "DEM", "DEC", "DATA", "ETHICS", "OTHER", NULL};
const char *const dlv_disseminations[] = {"PU",        "SEN", "R-UE/EU-R", "C-UE/EU-C",
					  "S-UE/EU-S", "CO",  NULL};
const char *const dlv_statuses[] = {"planned",   "drafting", "in_review",          "approved",
				    "submitted", "accepted", "revision_requested", NULL};

int dlv_name_index(const char *const *names, const char *s)
{
	if (!s)
		return -1;
	for (int i = 0; names[i]; i++)
		if (!strcasecmp(names[i], s))
			return i;
	return -1;
}

static int days_in_month(int y, int m)
{
	static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : d[m - 1];
}

static bool parse_date(const char *s, int *y, int *m, int *d)
{
	if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return false;
	*y = atoi(s);
	*m = atoi(s + 5);
	*d = atoi(s + 8);
	return *y >= 1900 && *y <= 9999 && *m >= 1 && *m <= 12 && *d >= 1 &&
	       *d <= days_in_month(*y, *m);
}

bool dlv_date_valid(const char *s)
{
	int y, m, d;

	return parse_date(s, &y, &m, &d);
}

enum err dlv_due_date(const char *start, int64_t month, char out[11])
{
	int y, m, d;
	int64_t total;

	if (!parse_date(start, &y, &m, &d))
		return err_set(ERR_INVALID, "project start '%.20s' is not a date YYYY-MM-DD",
			       start ? start : "");
	if (month < 1 || month > 240)
		return err_set(ERR_INVALID, "due month %lld is outside 1..240", (long long)month);
	/* start + month months, then one day back */
	total = (int64_t)y * 12 + (m - 1) + month;
	y = (int)(total / 12);
	m = (int)(total % 12) + 1;
	if (d > days_in_month(y, m))
		d = days_in_month(y, m) + 1; /* clamp: the day before is the month's end */
	d--;
	if (d == 0) {
		if (--m == 0) {
			m = 12;
			y--;
		}
		d = days_in_month(y, m);
	}
	if (y > 9999)
		return err_set(ERR_INVALID, "due month %lld is past the year 9999",
			       (long long)month);
	snprintf(out, 11, "%04u-%02u-%02u", (unsigned)y % 10000u, (unsigned)m % 100u,
		 (unsigned)d % 100u);
	return ERR_OK;
}

/* --- records ------------------------------------------------------------------- */

void dlv_clear(struct dlv *d)
{
	if (!d)
		return;
	free(d->code);
	free(d->title);
	free(d->wp_code);
	free(d->lead_short);
	free(d->due_date);
	free(d->type);
	free(d->dissemination);
	free(d->status);
	free(d->node_blob);
	free(d->submitted_on);
	free(d->review_blob);
	free(d->submitted_blob);
	memset(d, 0, sizeof *d);
}

static void clear_dlv(void *rec) { dlv_clear(rec); }

void dlv_list_free(struct dlv *d, size_t n) { db_rows_free(d, n, sizeof *d, clear_dlv); }

#define DLV_SELECT                                                                                 \
	"SELECT d.id, d.code, d.title, d.wp_id, w.code, coalesce(d.lead_partner_id, 0), p.short,"  \
	" coalesce(d.due_month, 0), d.due_date, d.type, d.dissemination, d.status,"                \
	" coalesce(d.node_id, 0),"                                                                 \
	" CASE WHEN n.trashed_at IS NULL THEN coalesce(n.current_version, 0) ELSE 0 END,"          \
	" CASE WHEN n.trashed_at IS NULL THEN v.blob END, d.submitted_on, d.created_at,"           \
	" coalesce(r.id, 0), coalesce(r.version, 0), r.blob,"                                      \
	" (SELECT count(*) FROM review_decisions x WHERE x.review_id = r.id"                       \
	"   AND x.decision IS NULL),"                                                              \
	" (SELECT count(*) FROM review_decisions x WHERE x.review_id = r.id"                       \
	"   AND x.decision = 'approve'),"                                                          \
	" (SELECT count(*) FROM review_decisions x WHERE x.review_id = r.id"                       \
	"   AND x.decision = 'changes'),"                                                          \
	" coalesce(d.submitted_node, 0), coalesce(d.submitted_version, 0), d.submitted_blob"       \
	" FROM deliverables d JOIN wps w ON w.id = d.wp_id"                                        \
	" LEFT JOIN partners p ON p.id = d.lead_partner_id"                                        \
	" LEFT JOIN nodes n ON n.id = d.node_id"                                                   \
	" LEFT JOIN versions v ON v.node_id = n.id AND v.number = n.current_version"               \
	" LEFT JOIN deliverable_reviews r ON r.id = (SELECT max(id) FROM deliverable_reviews"      \
	"   WHERE deliverable_id = d.id)"

static void read_dlv(sqlite3_stmt *st, void *rec, enum err *rc)
{
	struct dlv *d = rec;

	d->id = sqlite3_column_int64(st, 0);
	d->code = db_column_strdup(st, 1, rc);
	d->title = db_column_strdup(st, 2, rc);
	d->wp_id = sqlite3_column_int64(st, 3);
	d->wp_code = db_column_strdup(st, 4, rc);
	d->lead_partner_id = sqlite3_column_int64(st, 5);
	d->lead_short = db_column_strdup(st, 6, rc);
	d->due_month = sqlite3_column_int64(st, 7);
	d->due_date = db_column_strdup(st, 8, rc);
	d->type = db_column_strdup(st, 9, rc);
	d->dissemination = db_column_strdup(st, 10, rc);
	d->status = db_column_strdup(st, 11, rc);
	d->node_id = sqlite3_column_int64(st, 12);
	d->node_version = sqlite3_column_int64(st, 13);
	d->node_blob = db_column_strdup(st, 14, rc);
	d->submitted_on = db_column_strdup(st, 15, rc);
	d->created_at = sqlite3_column_int64(st, 16);
	d->review_id = sqlite3_column_int64(st, 17);
	d->review_version = sqlite3_column_int64(st, 18);
	d->review_blob = db_column_strdup(st, 19, rc);
	d->review_pending = sqlite3_column_int(st, 20);
	d->review_approvals = sqlite3_column_int(st, 21);
	d->submitted_node_id = sqlite3_column_int64(st, 23);
	d->submitted_version = sqlite3_column_int64(st, 24);
	d->submitted_blob = db_column_strdup(st, 25, rc);
	d->review_changes = sqlite3_column_int(st, 22);
}

/* Natural order of codes: D1.2 < D1.10 < D2.1. */
static int code_cmp(const char *a, const char *b)
{
	while (*a && *b) {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			long x = strtol(a, (char **)&a, 10), y = strtol(b, (char **)&b, 10);

			if (x != y)
				return x < y ? -1 : 1;
			continue;
		}
		if (toupper((unsigned char)*a) != toupper((unsigned char)*b))
			return toupper((unsigned char)*a) - toupper((unsigned char)*b);
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

static int dlv_cmp(const void *x, const void *y)
{
	return code_cmp(((const struct dlv *)x)->code, ((const struct dlv *)y)->code);
}

static int id_cmp(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return a < b ? -1 : a > b;
}

enum err dlv_list(struct db *db, const struct dlv_filter *f, struct dlv **out, size_t *n)
{
	static const char sql[] = DLV_SELECT
		" WHERE (?1 IS NULL OR d.wp_id = ?1) AND (?2 IS NULL OR d.lead_partner_id = ?2)"
		" AND (?3 IS NULL OR d.status = ?3)";
	sqlite3_stmt *st;
	struct dlv *all = NULL;
	size_t m = 0, k = 0;
	enum err rc;

	*out = NULL;
	*n = 0;
	rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_id(db, st, 1, f->wp_id);
	db_bind_id(db, st, 2, f->partner_id);
	db_bind_text(db, st, 3, f->status);
	rc = db_rows(db, st, "list deliverables", sizeof *all, read_dlv, clear_dlv, (void **)&all,
		     &m);
	if (rc)
		return rc;
	/* The permission filter: only the work packages given (a sorted copy
	 * is searched; lists are small). */
	for (size_t i = 0; i < m; i++) {
		bool keep = f->wp_ids && bsearch(&all[i].wp_id, f->wp_ids, f->n_wp_ids,
						 sizeof *f->wp_ids, id_cmp);

		if (keep)
			all[k++] = all[i];
		else
			dlv_clear(&all[i]);
	}
	if (k == 0) {
		free(all);
		all = NULL;
	}
	if (k > 1)
		qsort(all, k, sizeof *all, dlv_cmp);
	*out = all;
	*n = k;
	return ERR_OK;
}

enum err dlv_get(struct db *db, const char *code, struct dlv *out)
{
	static const char sql[] = DLV_SELECT " WHERE d.code = ?1";
	sqlite3_stmt *st;
	enum err rc;
	bool row;

	memset(out, 0, sizeof *out);
	rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_text(db, st, 1, code);
	rc = db_step(db, st, "read deliverable", &row);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no deliverable '%.40s'", code);
	if (!rc)
		read_dlv(st, out, &rc);
	sqlite3_reset(st);
	if (rc)
		dlv_clear(out);
	return rc;
}

/* --- import -------------------------------------------------------------------- */

enum col { C_CODE, C_TITLE, C_WP, C_LEAD, C_TYPE, C_DISS, C_MONTH, C_DATE, C__N };

/* Header names taken for each column, compared after lower-casing and
 * dropping everything but letters and digits. */
static const char *const col_names[C__N][8] = {
	[C_CODE] = {"deliverableno", "deliverablenumber", "deliverablecode", "deliverableid",
		    "number", "no", "code", NULL},
	[C_TITLE] = {"deliverablename", "deliverabletitle", "name", "title", NULL},
	[C_WP] = {"wpno", "wpnumber", "workpackagenumber", "workpackage", "wp", NULL},
	[C_LEAD] = {"leadbeneficiary", "leadparticipant", "shortnameofleadparticipant",
		    "leadpartner", "lead", NULL},
	[C_TYPE] = {"type", "deliverabletype", NULL},
	[C_DISS] = {"disseminationlevel", "dissemination", NULL},
	[C_MONTH] = {"duedateinmonths", "deliverydateinmonths", "duemonth", "month", NULL},
	[C_DATE] = {"duedate", "deliverydate", NULL},
};

static const char *const col_labels[C__N] = {
	"Deliverable No",      "Deliverable Name",     "WP No",    "Lead Beneficiary", "Type",
	"Dissemination Level", "Due Date (in months)", "Due Date",
};

static void squash(const char *s, char *out, size_t cap)
{
	size_t k = 0;

	for (; *s && k + 1 < cap; s++)
		if (isalnum((unsigned char)*s))
			out[k++] = (char)tolower((unsigned char)*s);
	out[k] = '\0';
}

static void trim(char *s)
{
	size_t len = strlen(s), i = 0;

	while (len && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	while (isspace((unsigned char)s[i]))
		i++;
	memmove(s, s + i, len - i + 1);
	/* an apostrophe our export put before a leading = + - @ */
	if (s[0] == '\'' && strchr("=+-@", s[1]) && s[1])
		memmove(s, s + 1, strlen(s));
}

/* The first word of a cell like "R — Document, report" or "PU - Public". */
static void first_word(const char *s, char *out, size_t cap)
{
	size_t k = 0;

	while (*s && !isspace((unsigned char)*s) && k + 1 < cap)
		out[k++] = *s++;
	out[k] = '\0';
}

static bool parse_uint(const char *s, int64_t max, int64_t *v)
{
	int64_t x = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
		x = x * 10 + (*s - '0');
		if (x > max)
			return false;
	}
	*v = x;
	return true;
}

/* The number of work package code "WP3", or -1. */
static int64_t wp_number(const char *s)
{
	int64_t v;

	if (!strncasecmp(s, "WP", 2))
		s += 2;
	while (*s == ' ')
		s++;
	return parse_uint(s, 999, &v) ? v : -1;
}

/* The work package number in a deliverable code "D3.1" → 3. */
static int64_t code_wp_number(const char *code) { return strtol(code + 1, NULL, 10); }

static enum err find_wp(struct db *db, const char *cell, int64_t *id, char **code)
{
	static const char sql[] = "SELECT id, code FROM wps WHERE code = ?1"
				  " OR (?2 >= 0 AND code = 'WP' || ?2)";
	sqlite3_stmt *st;
	enum err rc;
	bool row;

	rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_text(db, st, 1, cell);
	db_bind_int64(db, st, 2, wp_number(cell));
	rc = db_step(db, st, "find work package", &row);
	if (!rc && !row)
		rc = ERR_NOTFOUND;
	if (!rc) {
		*id = sqlite3_column_int64(st, 0);
		*code = db_column_strdup(st, 1, &rc);
	}
	sqlite3_reset(st);
	return rc;
}

static enum err find_partner(struct db *db, const char *cell, int64_t *id)
{
	static const char sql[] = "SELECT id FROM partners WHERE short = ?1";
	sqlite3_stmt *st;
	const char *s = cell;
	enum err rc;
	bool row;

	/* "3 - UNIVX": the beneficiary's number, then its short name */
	while (isdigit((unsigned char)*s))
		s++;
	if (s != cell) {
		while (*s == ' ')
			s++;
		if (*s == '-' || *s == '.')
			s++;
		while (*s == ' ')
			s++;
	} else {
		s = cell;
	}
	rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_text(db, st, 1, s);
	rc = db_step(db, st, "find partner", &row);
	if (!rc && !row)
		rc = ERR_NOTFOUND;
	if (!rc)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc;
}

struct import_state {
	char (*codes)[DLV_CODE_MAX];
	size_t *lines;
	size_t n, cap;
};

static enum err import_line(struct db *db, struct import_state *s, int *map, char **f, size_t nf,
			    size_t line, size_t *created, size_t *updated)
{
	static const char find[] = "SELECT id FROM deliverables WHERE code = ?1";
	static const char ins[] =
		"INSERT INTO deliverables (code, title, wp_id, lead_partner_id, due_month,"
		" due_date, type, dissemination, status, created_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'planned', ?9)";
	static const char upd[] = "UPDATE deliverables SET title = ?2, wp_id = ?3,"
				  " lead_partner_id = ?4, due_month = ?5, due_date = ?6, type = ?7,"
				  " dissemination = ?8 WHERE code = ?1";
	const char *cell[C__N] = {0};
	char code[DLV_CODE_MAX], word[32], *wp_code = NULL;
	int64_t wp_id = 0, partner_id = 0, month = 0;
	int type, diss;
	sqlite3_stmt *st;
	enum err rc;
	bool row;

	for (int c = 0; c < C__N; c++) {
		cell[c] = "";
		if (map[c] >= 0 && (size_t)map[c] < nf) {
			trim(f[map[c]]);
			cell[c] = f[map[c]];
		}
	}
	if (!*cell[C_CODE])
		return err_set(ERR_INVALID, "line %zu: the deliverable number is empty", line);
	if (tree_deliverable_check(cell[C_CODE], code)) {
		return err_set(ERR_INVALID,
			       "line %zu: deliverable number '%.40s' is not of the form D<wp>.<n> "
			       "(e.g. D5.2)",
			       line, cell[C_CODE]);
	}
	for (size_t i = 0; i < s->n; i++)
		if (!strcasecmp(s->codes[i], code))
			return err_set(ERR_EXISTS, "line %zu: %s is given twice (also on line %zu)",
				       line, code, s->lines[i]);
	if (!*cell[C_TITLE])
		return err_set(ERR_INVALID, "line %zu: %s has no name", line, code);
	if (strlen(cell[C_TITLE]) > 500)
		return err_set(ERR_INVALID, "line %zu: the name of %s is longer than 500 bytes",
			       line, code);
	rc = find_wp(db, cell[C_WP], &wp_id, &wp_code);
	if (rc == ERR_NOTFOUND)
		return err_set(ERR_INVALID, "line %zu: work package '%.40s' does not exist", line,
			       cell[C_WP]);
	if (rc)
		return rc;
	if (wp_number(wp_code) >= 0 && wp_number(wp_code) != code_wp_number(code)) {
		rc = err_set(ERR_INVALID, "line %zu: %s belongs to WP%lld by its number, not to %s",
			     line, code, (long long)code_wp_number(code), wp_code);
		free(wp_code);
		return rc;
	}
	free(wp_code);
	if (*cell[C_LEAD]) {
		rc = find_partner(db, cell[C_LEAD], &partner_id);
		if (rc == ERR_NOTFOUND)
			return err_set(ERR_INVALID,
				       "line %zu: lead beneficiary '%.40s' is not a partner", line,
				       cell[C_LEAD]);
		if (rc)
			return rc;
	}
	first_word(cell[C_TYPE], word, sizeof word);
	type = dlv_name_index(dlv_types, word);
	if (type < 0)
		return err_set(
			ERR_INVALID,
			"line %zu: type '%.40s' is not one of R, DEM, DEC, DATA, ETHICS, OTHER",
			line, cell[C_TYPE]);
	first_word(cell[C_DISS], word, sizeof word);
	diss = dlv_name_index(dlv_disseminations, word);
	if (diss < 0)
		return err_set(ERR_INVALID,
			       "line %zu: dissemination level '%.40s' is not one of PU, SEN, "
			       "R-UE/EU-R, C-UE/EU-C, S-UE/EU-S, CO",
			       line, cell[C_DISS]);
	if (*cell[C_MONTH]) {
		const char *m = cell[C_MONTH];

		if (*m == 'M' || *m == 'm')
			m++;
		if (!parse_uint(m, 240, &month) || month < 1)
			return err_set(ERR_INVALID,
				       "line %zu: due month '%.40s' is not a month of the project "
				       "(1 to 240, or M1 to M240)",
				       line, cell[C_MONTH]);
	}
	if (*cell[C_DATE] && !dlv_date_valid(cell[C_DATE]))
		return err_set(ERR_INVALID, "line %zu: due date '%.40s' is not a date YYYY-MM-DD",
			       line, cell[C_DATE]);
	if (!month && !*cell[C_DATE])
		return err_set(ERR_INVALID, "line %zu: %s has no due month", line, code);

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;
		void *a = realloc(s->codes, cap * sizeof *s->codes);

		if (!a)
			return err_set(ERR_NOMEM, "out of memory");
		s->codes = a;
		a = realloc(s->lines, cap * sizeof *s->lines);
		if (!a)
			return err_set(ERR_NOMEM, "out of memory");
		s->lines = a;
		s->cap = cap;
	}
	memcpy(s->codes[s->n], code, DLV_CODE_MAX);
	s->lines[s->n++] = line;

	rc = db_stmt(db, find, &st);
	if (rc)
		return rc;
	db_bind_text(db, st, 1, code);
	rc = db_step(db, st, "find deliverable", &row);
	sqlite3_reset(st);
	if (rc)
		return rc;
	rc = db_stmt(db, row ? upd : ins, &st);
	if (rc)
		return rc;
	db_bind_text(db, st, 1, code);
	db_bind_text(db, st, 2, cell[C_TITLE]);
	db_bind_int64(db, st, 3, wp_id);
	db_bind_id(db, st, 4, partner_id);
	db_bind_id(db, st, 5, month);
	db_bind_text(db, st, 6, *cell[C_DATE] ? cell[C_DATE] : NULL);
	db_bind_text(db, st, 7, dlv_types[type]);
	db_bind_text(db, st, 8, dlv_disseminations[diss]);
	if (!row)
		db_bind_int64(db, st, 9, db_now());
	rc = db_exec_stmt(db, st, "store deliverable");
	if (rc)
		return err_set(rc, "line %zu: %s", line, err_detail());
	if (row)
		(*updated)++;
	else
		(*created)++;
	return ERR_OK;
}

enum err dlv_import_csv(struct db *db, const char *data, size_t len, size_t *created,
			size_t *updated)
{
	struct csv *c = csv_new(data, len);
	struct import_state s = {0};
	int map[C__N];
	char **f, key[64];
	size_t nf, line;
	enum err rc;

	*created = *updated = 0;
	if (!c)
		return err_set(ERR_NOMEM, "out of memory");
	rc = csv_next(c, &f, &nf, &line);
	if (rc)
		goto out;
	if (nf == 0) {
		rc = err_set(ERR_INVALID, "line 1: the file is empty (a header line is expected)");
		goto out;
	}
	for (int k = 0; k < C__N; k++)
		map[k] = -1;
	for (size_t i = 0; i < nf; i++) {
		squash(f[i], key, sizeof key);
		for (int k = 0; k < C__N; k++) {
			if (map[k] >= 0)
				continue;
			for (int a = 0; col_names[k][a]; a++)
				if (!strcmp(key, col_names[k][a])) {
					map[k] = (int)i;
					goto next_header;
				}
		}
	next_header:;
	}
	for (int k = 0; k <= C_DISS; k++)
		if (map[k] < 0) {
			rc = err_set(ERR_INVALID,
				     "line %zu: no column '%s' in the header (docs/deliverables.md "
				     "lists the names taken)",
				     line, col_labels[k]);
			goto out;
		}
	if (map[C_MONTH] < 0 && map[C_DATE] < 0) {
		rc = err_set(ERR_INVALID,
			     "line %zu: no column 'Due Date (in months)' in the header", line);
		goto out;
	}
	rc = db_begin(db);
	if (rc)
		goto out;
	for (;;) {
		rc = csv_next(c, &f, &nf, &line);
		if (rc || nf == 0)
			break;
		if (nf == 1 && !*f[0])
			continue;
		rc = import_line(db, &s, map, f, nf, line, created, updated);
		if (rc)
			break;
	}
	if (!rc && s.n == 0)
		rc = err_set(ERR_INVALID, "line %zu: no deliverables after the header", line);
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db);
		*created = *updated = 0;
	}
out:
	free(s.codes);
	free(s.lines);
	csv_free(c);
	return rc;
}

enum err dlv_export_csv(const struct dlv *list, size_t n, char **out, size_t *len)
{
	size_t cap = 0;
	enum err rc = ERR_OK;

	*out = NULL;
	*len = 0;
	for (int k = 0; k <= C_DATE && !rc; k++)
		rc = csv_put(out, len, &cap, col_labels[k], k == C_DATE);
	for (size_t i = 0; i < n && !rc; i++) {
		char month[24] = "";

		if (list[i].due_month)
			snprintf(month, sizeof month, "%lld", (long long)list[i].due_month);
		rc = csv_put(out, len, &cap, list[i].code, 0);
		if (!rc)
			rc = csv_put(out, len, &cap, list[i].title, 0);
		if (!rc)
			rc = csv_put(out, len, &cap, list[i].wp_code, 0);
		if (!rc)
			rc = csv_put(out, len, &cap, list[i].lead_short, 0);
		if (!rc)
			rc = csv_put(out, len, &cap, list[i].type, 0);
		if (!rc)
			rc = csv_put(out, len, &cap, list[i].dissemination, 0);
		if (!rc)
			rc = csv_put(out, len, &cap, month, 0);
		if (!rc)
			rc = csv_put(out, len, &cap, list[i].due_date, 1);
	}
	if (rc) {
		free(*out);
		*out = NULL;
		*len = 0;
	}
	return rc;
}

/* --- changes ------------------------------------------------------------------- */

enum err dlv_update(struct db *db, int64_t id, const struct dlv_change *ch)
{
	static const char node_sql[] =
		"SELECT n.wp_id = d.wp_id, n.is_folder, n.trashed_at IS NOT NULL,"
		" (SELECT code FROM deliverables WHERE node_id = n.id AND id <> d.id)"
		" FROM nodes n, deliverables d WHERE n.id = ?1 AND d.id = ?2";
	static const char upd[] = "UPDATE deliverables SET"
				  " status = CASE WHEN ?2 THEN ?3 ELSE status END,"
				  " node_id = CASE WHEN ?4 THEN ?5 ELSE node_id END,"
				  " submitted_on = CASE WHEN ?6 THEN ?7 ELSE submitted_on END,"
				  " title = CASE WHEN ?8 THEN ?9 ELSE title END,"
				  " due_date = CASE WHEN ?10 THEN ?11 ELSE due_date END"
				  " WHERE id = ?1";
	static const char unlabel[] =
		"UPDATE nodes SET deliverable = NULL WHERE id ="
		" (SELECT node_id FROM deliverables WHERE id = ?1) AND deliverable ="
		" (SELECT code FROM deliverables WHERE id = ?1)";
	static const char label[] = "UPDATE nodes SET deliverable ="
				    " (SELECT code FROM deliverables WHERE id = ?2) WHERE id = ?1";
	sqlite3_stmt *st;
	enum err rc;
	bool row;
	int changes = 0;

	if (ch->set_status && dlv_name_index(dlv_statuses, ch->status) < 0)
		return err_set(ERR_INVALID, "status '%.40s' is not a deliverable status",
			       ch->status ? ch->status : "");
	if (ch->set_submitted_on && ch->submitted_on && !dlv_date_valid(ch->submitted_on))
		return err_set(ERR_INVALID, "submission date is not a date YYYY-MM-DD");
	if (ch->set_due_date && ch->due_date && !dlv_date_valid(ch->due_date))
		return err_set(ERR_INVALID, "due date is not a date YYYY-MM-DD");
	rc = db_begin(db);
	if (rc)
		return rc;
	if (ch->set_node) {
		/* the label goes with the link: off the document it leaves */
		rc = db_stmt(db, unlabel, &st);
		if (!rc) {
			db_bind_int64(db, st, 1, id);
			rc = db_exec_stmt(db, st, "unlabel document");
		}
		if (rc)
			goto out;
	}
	if (ch->set_node && ch->node_id) {
		rc = db_stmt(db, node_sql, &st);
		if (rc)
			goto out;
		db_bind_int64(db, st, 1, ch->node_id);
		db_bind_int64(db, st, 2, id);
		rc = db_step(db, st, "check document", &row);
		if (!rc && !row)
			rc = err_set(ERR_NOTFOUND, "no such document");
		else if (!rc && !sqlite3_column_int(st, 0))
			rc = err_set(ERR_INVALID,
				     "the document must be in the deliverable's work package");
		else if (!rc && (sqlite3_column_int(st, 1) || sqlite3_column_int(st, 2)))
			rc = err_set(ERR_INVALID, "a deliverable is held by a live document, not a "
						  "folder or a trashed document");
		else if (!rc && sqlite3_column_type(st, 3) != SQLITE_NULL)
			rc = err_set(ERR_EXISTS, "the document already holds %s",
				     (const char *)sqlite3_column_text(st, 3));
		sqlite3_reset(st);
		if (rc)
			goto out;
	}
	rc = db_stmt(db, upd, &st);
	if (rc)
		goto out;
	db_bind_int64(db, st, 1, id);
	db_bind_int64(db, st, 2, ch->set_status);
	if (ch->set_status)
		db_bind_text(db, st, 3, dlv_statuses[dlv_name_index(dlv_statuses, ch->status)]);
	db_bind_int64(db, st, 4, ch->set_node);
	db_bind_id(db, st, 5, ch->node_id);
	db_bind_int64(db, st, 6, ch->set_submitted_on);
	db_bind_text(db, st, 7, ch->submitted_on);
	db_bind_int64(db, st, 8, ch->set_title);
	db_bind_text(db, st, 9, ch->title);
	db_bind_int64(db, st, 10, ch->set_due_date);
	db_bind_text(db, st, 11, ch->due_date);
	rc = db_exec_changes(db, st, "update deliverable", &changes);
	if (!rc && !changes)
		rc = err_set(ERR_NOTFOUND, "no such deliverable");
	if (!rc && ch->set_node && ch->node_id) {
		rc = db_stmt(db, label, &st);
		if (!rc) {
			db_bind_int64(db, st, 1, ch->node_id);
			db_bind_int64(db, st, 2, id);
			rc = db_exec_stmt(db, st, "label document");
		}
	}
out:
	if (!rc)
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
	return rc;
}

/* --- reviews ------------------------------------------------------------------- */

static void clear_decision(void *rec)
{
	struct dlv_decision *d = rec;

	free(d->reviewer_email);
	free(d->reviewer_name);
	free(d->reviewer_partner);
	free(d->decision);
	free(d->comment);
	free(d->attachment_blob);
}

void dlv_review_clear(struct dlv_review *r)
{
	if (!r)
		return;
	free(r->code);
	free(r->blob);
	free(r->due_date);
	free(r->started_by_email);
	db_rows_free(r->decisions, r->n_decisions, sizeof *r->decisions, clear_decision);
	memset(r, 0, sizeof *r);
}

static void clear_review(void *rec) { dlv_review_clear(rec); }

void dlv_reviews_free(struct dlv_review *r, size_t n)
{
	db_rows_free(r, n, sizeof *r, clear_review);
}

enum err dlv_review_start(struct db *db, int64_t deliverable_id, int64_t node_id, int64_t version,
			  const char *blob, const char *due_date, int64_t started_by,
			  const int64_t *reviewers, size_t n, int64_t *id)
{
	static const char ins[] =
		"INSERT INTO deliverable_reviews (deliverable_id, node_id, version, blob, due_date,"
		" started_by, started_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
	static const char add[] =
		"INSERT INTO review_decisions (review_id, reviewer_id) VALUES (?1, ?2)";
	static const char status[] = "UPDATE deliverables SET status = 'in_review' WHERE id = ?1";
	sqlite3_stmt *st;
	enum err rc;

	if (n == 0)
		return err_set(ERR_INVALID, "a review needs at least one reviewer");
	if (due_date && !dlv_date_valid(due_date))
		return err_set(ERR_INVALID, "due date is not a date YYYY-MM-DD");
	rc = db_begin(db);
	if (rc)
		return rc;
	rc = db_stmt(db, ins, &st);
	if (rc)
		goto out;
	db_bind_int64(db, st, 1, deliverable_id);
	db_bind_int64(db, st, 2, node_id);
	db_bind_int64(db, st, 3, version);
	db_bind_text(db, st, 4, blob);
	db_bind_text(db, st, 5, due_date);
	db_bind_int64(db, st, 6, started_by);
	db_bind_int64(db, st, 7, db_now());
	rc = db_exec_stmt(db, st, "start review");
	if (rc)
		goto out;
	*id = sqlite3_last_insert_rowid(db_sqlite(db));
	for (size_t i = 0; i < n && !rc; i++) {
		rc = db_stmt(db, add, &st);
		if (rc)
			break;
		db_bind_int64(db, st, 1, *id);
		db_bind_int64(db, st, 2, reviewers[i]);
		rc = db_exec_stmt(db, st, "add reviewer");
		if (rc == ERR_EXISTS)
			rc = err_set(ERR_INVALID, "a reviewer is named twice");
	}
	if (rc)
		goto out;
	rc = db_stmt(db, status, &st);
	if (!rc) {
		db_bind_int64(db, st, 1, deliverable_id);
		rc = db_exec_stmt(db, st, "set status");
	}
out:
	if (!rc)
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
	return rc;
}

#define REVIEW_SELECT                                                                              \
	"SELECT r.id, r.deliverable_id, d.code, d.wp_id, r.node_id, r.version, r.blob,"            \
	" r.due_date, r.started_by, u.email, r.started_at"                                         \
	" FROM deliverable_reviews r JOIN deliverables d ON d.id = r.deliverable_id"               \
	" LEFT JOIN users u ON u.id = r.started_by"

static void read_review(sqlite3_stmt *st, void *rec, enum err *rc)
{
	struct dlv_review *r = rec;

	r->id = sqlite3_column_int64(st, 0);
	r->deliverable_id = sqlite3_column_int64(st, 1);
	r->code = db_column_strdup(st, 2, rc);
	r->wp_id = sqlite3_column_int64(st, 3);
	r->node_id = sqlite3_column_int64(st, 4);
	r->version = sqlite3_column_int64(st, 5);
	r->blob = db_column_strdup(st, 6, rc);
	r->due_date = db_column_strdup(st, 7, rc);
	r->started_by = sqlite3_column_int64(st, 8);
	r->started_by_email = db_column_strdup(st, 9, rc);
	r->started_at = sqlite3_column_int64(st, 10);
}

static void read_decision(sqlite3_stmt *st, void *rec, enum err *rc)
{
	struct dlv_decision *d = rec;

	d->reviewer_id = sqlite3_column_int64(st, 0);
	d->reviewer_email = db_column_strdup(st, 1, rc);
	d->reviewer_name = db_column_strdup(st, 2, rc);
	d->reviewer_partner = db_column_strdup(st, 3, rc);
	d->decision = db_column_strdup(st, 4, rc);
	d->comment = db_column_strdup(st, 5, rc);
	d->decided_at = sqlite3_column_int64(st, 6);
	d->attachment_node = sqlite3_column_int64(st, 7);
	d->attachment_version = sqlite3_column_int64(st, 8);
	d->attachment_blob = db_column_strdup(st, 9, rc);
}

static enum err load_decisions(struct db *db, struct dlv_review *r)
{
	static const char sql[] =
		"SELECT x.reviewer_id, u.email, u.name, p.short, x.decision, x.comment,"
		" coalesce(x.decided_at, 0), coalesce(x.attachment_node, 0),"
		" coalesce(x.attachment_version, 0), x.attachment_blob"
		" FROM review_decisions x JOIN users u ON u.id = x.reviewer_id"
		" JOIN partners p ON p.id = u.partner_id WHERE x.review_id = ?1 ORDER BY u.email";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, r->id);
	return db_rows(db, st, "read decisions", sizeof *r->decisions, read_decision,
		       clear_decision, (void **)&r->decisions, &r->n_decisions);
}

static enum err reviews_with_decisions(struct db *db, sqlite3_stmt *st, struct dlv_review **out,
				       size_t *n)
{
	enum err rc = db_rows(db, st, "read reviews", sizeof **out, read_review, clear_review,
			      (void **)out, n);

	for (size_t i = 0; !rc && i < *n; i++)
		rc = load_decisions(db, &(*out)[i]);
	if (rc) {
		dlv_reviews_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

enum err dlv_review_get(struct db *db, int64_t deliverable_id, int64_t id, struct dlv_review *out)
{
	static const char sql[] = REVIEW_SELECT " WHERE r.id = ?1 AND r.deliverable_id = ?2";
	struct dlv_review *r = NULL;
	sqlite3_stmt *st;
	size_t n = 0;
	enum err rc;

	memset(out, 0, sizeof *out);
	rc = db_stmt(db, sql, &st);
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, id);
	db_bind_int64(db, st, 2, deliverable_id);
	rc = reviews_with_decisions(db, st, &r, &n);
	if (rc)
		return rc;
	if (n == 0)
		return err_set(ERR_NOTFOUND, "no such review");
	*out = r[0];
	free(r);
	return ERR_OK;
}

enum err dlv_reviews(struct db *db, int64_t deliverable_id, struct dlv_review **out, size_t *n)
{
	static const char sql[] = REVIEW_SELECT " WHERE r.deliverable_id = ?1 ORDER BY r.id DESC";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, deliverable_id);
	return reviews_with_decisions(db, st, out, n);
}

enum err dlv_review_decide(struct db *db, int64_t review_id, int64_t reviewer, const char *decision,
			   const char *comment)
{
	static const char latest[] = "SELECT r.id = (SELECT max(id) FROM deliverable_reviews"
				     " WHERE deliverable_id = r.deliverable_id), r.deliverable_id"
				     " FROM deliverable_reviews r WHERE r.id = ?1";
	static const char upd[] =
		"UPDATE review_decisions SET decision = ?3, comment = ?4, decided_at = ?5"
		" WHERE review_id = ?1 AND reviewer_id = ?2";
	static const char back[] =
		"UPDATE deliverables SET status = 'drafting' WHERE id = ?1 AND status = 'in_review'";
	sqlite3_stmt *st;
	int64_t dlv_id = 0;
	int changes = 0;
	enum err rc;
	bool row;

	if (!decision || (strcmp(decision, "approve") && strcmp(decision, "changes")))
		return err_set(ERR_INVALID, "decision must be approve or changes");
	rc = db_begin(db);
	if (rc)
		return rc;
	rc = db_stmt(db, latest, &st);
	if (rc)
		goto out;
	db_bind_int64(db, st, 1, review_id);
	rc = db_step(db, st, "read review", &row);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no such review");
	else if (!rc && !sqlite3_column_int(st, 0))
		rc = err_set(ERR_CONFLICT, "a newer review of this deliverable has started");
	if (!rc)
		dlv_id = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	if (rc)
		goto out;
	rc = db_stmt(db, upd, &st);
	if (rc)
		goto out;
	db_bind_int64(db, st, 1, review_id);
	db_bind_int64(db, st, 2, reviewer);
	db_bind_text(db, st, 3, decision);
	db_bind_text(db, st, 4, comment ? comment : "");
	db_bind_int64(db, st, 5, db_now());
	rc = db_exec_changes(db, st, "record decision", &changes);
	if (!rc && !changes)
		rc = err_set(ERR_NOTFOUND, "you are not a reviewer of this review");
	if (!rc && !strcmp(decision, "changes")) {
		rc = db_stmt(db, back, &st);
		if (!rc) {
			db_bind_int64(db, st, 1, dlv_id);
			rc = db_exec_stmt(db, st, "set status");
		}
	}
out:
	if (!rc)
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
	return rc;
}

enum err dlv_tasks(struct db *db, int64_t user_id, struct dlv_review **out, size_t *n)
{
	static const char sql[] =
		REVIEW_SELECT " JOIN review_decisions x ON x.review_id = r.id"
			      " WHERE x.reviewer_id = ?1 AND x.decision IS NULL"
			      " AND r.id = (SELECT max(id) FROM deliverable_reviews"
			      "   WHERE deliverable_id = r.deliverable_id)"
			      " ORDER BY r.due_date IS NULL, r.due_date, r.id";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, user_id);
	return reviews_with_decisions(db, st, out, n);
}

enum err dlv_review_latest(struct db *db, int64_t review_id)
{
	static const char latest[] = "SELECT r.id = (SELECT max(id) FROM deliverable_reviews"
				     " WHERE deliverable_id = r.deliverable_id)"
				     " FROM deliverable_reviews r WHERE r.id = ?1";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, latest, &st);
	bool row;

	if (rc)
		return rc;
	db_bind_int64(db, st, 1, review_id);
	rc = db_step(db, st, "read review", &row);
	if (!rc && !row)
		rc = err_set(ERR_NOTFOUND, "no such review");
	else if (!rc && !sqlite3_column_int(st, 0))
		rc = err_set(ERR_CONFLICT, "a newer review of this deliverable has started");
	sqlite3_reset(st);
	return rc;
}

enum err dlv_decision_attach(struct db *db, int64_t review_id, int64_t reviewer, int64_t node_id,
			     int64_t version, const char *blob)
{
	static const char upd[] =
		"UPDATE review_decisions SET attachment_node = ?3, attachment_version = ?4,"
		" attachment_blob = ?5 WHERE review_id = ?1 AND reviewer_id = ?2";
	sqlite3_stmt *st;
	int changes = 0;
	enum err rc;

	if (!blob || node_id <= 0 || version <= 0)
		return err_set(ERR_INVALID, "an attachment is a version of a document");
	rc = db_begin(db);
	if (rc)
		return rc;
	rc = dlv_review_latest(db, review_id);
	if (!rc)
		rc = db_stmt(db, upd, &st);
	if (!rc) {
		db_bind_int64(db, st, 1, review_id);
		db_bind_int64(db, st, 2, reviewer);
		db_bind_int64(db, st, 3, node_id);
		db_bind_int64(db, st, 4, version);
		db_bind_text(db, st, 5, blob);
		rc = db_exec_changes(db, st, "attach file", &changes);
	}
	if (!rc && !changes)
		rc = err_set(ERR_NOTFOUND, "you are not a reviewer of this review");
	if (!rc)
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
	return rc;
}

enum err dlv_submit(struct db *db, int64_t id, const char *submitted_on, int64_t node_id,
		    int64_t version, const char *blob)
{
	static const char upd[] =
		"UPDATE deliverables SET status = 'submitted', submitted_on = ?2,"
		" submitted_node = ?3, submitted_version = ?4, submitted_blob = ?5"
		" WHERE id = ?1 AND status IN ('approved', 'revision_requested')";
	sqlite3_stmt *st;
	int changes = 0;
	enum err rc;

	if (!submitted_on || !dlv_date_valid(submitted_on))
		return err_set(ERR_INVALID, "submission date is not a date YYYY-MM-DD");
	rc = db_begin(db);
	if (rc)
		return rc;
	rc = db_stmt(db, upd, &st);
	if (!rc) {
		db_bind_int64(db, st, 1, id);
		db_bind_text(db, st, 2, submitted_on);
		if (node_id > 0) {
			db_bind_int64(db, st, 3, node_id);
			db_bind_int64(db, st, 4, version);
			db_bind_text(db, st, 5, blob);
		}
		rc = db_exec_changes(db, st, "submit", &changes);
	}
	if (!rc && !changes)
		rc = err_set(ERR_CONFLICT,
			     "only an approved deliverable (or one whose revision was "
			     "requested) is submitted");
	if (!rc)
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
	return rc;
}

/* --- reminders ------------------------------------------------------------------ */

static void clear_notice(void *rec)
{
	struct dlv_notice *x = rec;

	free(x->email);
	free(x->code);
	free(x->title);
	free(x->due_date);
}

void dlv_notices_free(struct dlv_notice *n, size_t count)
{
	db_rows_free(n, count, sizeof *n, clear_notice);
}

static void read_notice(sqlite3_stmt *st, void *rec, enum err *rc)
{
	struct dlv_notice *x = rec;

	x->ref = sqlite3_column_int64(st, 0);
	x->user_id = sqlite3_column_int64(st, 1);
	x->email = db_column_strdup(st, 2, rc);
	x->wp_id = sqlite3_column_int64(st, 3);
	x->code = db_column_strdup(st, 4, rc);
	x->title = db_column_strdup(st, 5, rc);
	x->due_date = db_column_strdup(st, 6, rc);
	x->due_month = sqlite3_column_int64(st, 7);
	x->version = sqlite3_column_int64(st, 8);
}

enum err dlv_pending_reviewers(struct db *db, int64_t review_id, struct dlv_notice **out, size_t *n)
{
	static const char sql[] =
		"SELECT r.id, u.id, u.email, d.wp_id, d.code, d.title, r.due_date, 0, r.version"
		" FROM deliverable_reviews r JOIN deliverables d ON d.id = r.deliverable_id"
		" JOIN review_decisions x ON x.review_id = r.id JOIN users u ON u.id = x.reviewer_id"
		" WHERE x.decision IS NULL AND u.disabled = 0"
		" AND d.status NOT IN ('submitted', 'accepted')"
		" AND r.id = (SELECT max(id) FROM deliverable_reviews WHERE deliverable_id = d.id)"
		" AND (?1 = 0 OR r.id = ?1) ORDER BY r.id, u.id";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	db_bind_int64(db, st, 1, review_id);
	return db_rows(db, st, "read pending reviewers", sizeof **out, read_notice, clear_notice,
		       (void **)out, n);
}

enum err dlv_due_people(struct db *db, struct dlv_notice **out, size_t *n)
{
	static const char sql[] =
		"SELECT d.id, u.id, u.email, d.wp_id, d.code, d.title, d.due_date,"
		" coalesce(d.due_month, 0), 0"
		" FROM deliverables d JOIN wps w ON w.id = d.wp_id JOIN users u"
		" ON u.partner_id IN (d.lead_partner_id, w.lead_partner_id)"
		" WHERE u.disabled = 0 AND d.status NOT IN ('submitted', 'accepted')"
		" AND (d.due_date IS NOT NULL OR d.due_month IS NOT NULL)"
		" ORDER BY d.id, u.id";
	sqlite3_stmt *st;
	enum err rc = db_stmt(db, sql, &st);

	*out = NULL;
	*n = 0;
	if (rc)
		return rc;
	return db_rows(db, st, "read deliverable people", sizeof **out, read_notice, clear_notice,
		       (void **)out, n);
}

enum err dlv_reminder_mark(struct db *db, const char *step, int64_t ref, int64_t user_id,
			   bool *fresh)
{
	static const char sql[] = "INSERT OR IGNORE INTO deliverable_reminders"
				  " (step, ref, user_id, sent_at) VALUES (?1, ?2, ?3, ?4)";
	sqlite3_stmt *st;
	int changes = 0;
	enum err rc = db_stmt(db, sql, &st);

	*fresh = false;
	if (rc)
		return rc;
	db_bind_text(db, st, 1, step);
	db_bind_int64(db, st, 2, ref);
	db_bind_int64(db, st, 3, user_id);
	db_bind_int64(db, st, 4, db_now());
	rc = db_exec_changes(db, st, "record reminder", &changes);
	*fresh = !rc && changes == 1;
	return rc;
}
