/* activity — see activity.h. */
#include "api/activity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/mailtext.h"

bool activity_site(const char *action)
{
	return action && (!strcmp(action, "news_create") || !strcmp(action, "event_create"));
}

/* The folder part of an object path; grants name no path, only the
 * work package ("" too). */
static char *folder_of(const struct audit_row *r)
{
	const char *o = r->object ? r->object : "";
	const char *slash = strrchr(o, '/');

	if (!strcmp(r->action, "grant") || activity_site(r->action) || !slash)
		return strdup("");
	return strndup(o, (size_t)(slash - o));
}

static int64_t gap(int64_t a, int64_t b) { return a > b ? a - b : b - a; }

static bool joins(const struct audit_row *a, const struct audit_row *b, const char *a_folder,
		  const char *b_folder)
{
	return a->user_id == b->user_id && a->wp_id == b->wp_id && !strcmp(a->action, b->action) &&
	       !strcmp(a_folder, b_folder) && gap(a->at, b->at) <= ACTIVITY_GROUP_GAP &&
	       strcmp(a->action, "grant") != 0 && !activity_site(a->action);
}

/* Groups still open to rows joining by key; older ones are closed. */
#define OPEN_GROUPS 64

enum err activity_group(const struct audit_row *rows, size_t n, bool by_key,
			struct activity_group **out, size_t *ngroups)
{
	struct activity_group *g = NULL;
	size_t ng = 0;
	enum err rc = ERR_OK;

	*out = NULL;
	*ngroups = 0;
	if (n == 0)
		return ERR_OK;
	g = calloc(n, sizeof *g);
	if (!g)
		return err_set(ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		char *f = folder_of(&rows[i]);
		struct activity_group *to = NULL;
		size_t lo = by_key && ng > OPEN_GROUPS ? ng - OPEN_GROUPS : ng ? ng - 1 : 0;

		if (!f) {
			rc = err_set(ERR_NOMEM, "out of memory");
			break;
		}
		for (size_t k = ng; k > lo && !to; k--) {
			struct activity_group *c = &g[k - 1];

			if (joins(&rows[c->idx[c->count - 1]], &rows[i], c->folder, f))
				to = c;
		}
		if (!to) {
			to = &g[ng++];
			to->folder = f;
		} else {
			free(f);
		}
		/* room doubles at 4, 8, 16...: a count that is such a power */
		if (to->count == 0 || (to->count >= 4 && !(to->count & (to->count - 1)))) {
			size_t room = to->count ? to->count * 2 : 4;
			size_t *p = realloc(to->idx, room * sizeof *p);

			if (!p) {
				rc = err_set(ERR_NOMEM, "out of memory");
				break;
			}
			to->idx = p;
		}
		to->idx[to->count++] = i;
	}
	if (rc) {
		activity_groups_free(g, ng);
		return rc;
	}
	*out = g;
	*ngroups = ng;
	return ERR_OK;
}

void activity_groups_free(struct activity_group *g, size_t n)
{
	for (size_t i = 0; g && i < n; i++) {
		free(g[i].folder);
		free(g[i].idx);
	}
	free(g);
}

/* The catalog's text of `key`, or of `fallback` when the catalog has no
 * such key (an action told by no catalog yet). */
static const char *text_or(const char *lang, const char *key, const char *fallback)
{
	const char *t = mailtext_get(lang, key);

	return t == key ? mailtext_get(lang, fallback) : t;
}

void activity_sentence(const struct activity_group *g, const struct audit_row *rows,
		       const char *lang, char *buf, size_t len)
{
	const struct audit_row *r = &rows[g->idx[0]];
	const char *who = r->actor && *r->actor ? r->actor : "consort";
	const char *code = r->wp_code ? r->wp_code : "?";
	const char *obj = r->object ? r->object : "";
	char key[96], where[1200], count[24], *s;

	snprintf(count, sizeof count, "%zu", g->count);
	if (activity_site(r->action) || !strcmp(r->action, "grant")) {
		snprintf(key, sizeof key, "activity.%s", r->action);
		s = mailtext_fill(mailtext_get(lang, key),
				  (const char *const[]){"who", who, "title", obj, "account", obj,
							"wp", code, "detail",
							r->detail ? r->detail : "", NULL});
	} else if (g->count > 1) {
		snprintf(where, sizeof where, "%s%s%s", code, *g->folder ? "/" : "", g->folder);
		snprintf(key, sizeof key, "activity.group.%s.one", r->action);
		if (mailtext_get(lang, key) != key)
			snprintf(key, sizeof key, "activity.group.%s", r->action);
		else
			snprintf(key, sizeof key, "activity.group.other");
		s = mailtext_fill(mailtext_plural(lang, key, (int64_t)g->count),
				  (const char *const[]){"who", who, "count", count, "where", where,
							"action", r->action, NULL});
	} else {
		snprintf(where, sizeof where, "%s/%s", code, obj);
		snprintf(key, sizeof key, "activity.%s", r->action);
		s = mailtext_fill(text_or(lang, key, "activity.other"),
				  (const char *const[]){"who", who, "where", where, "action",
							r->action, NULL});
	}
	snprintf(buf, len, "%s", s ? s : who);
	free(s);
}
