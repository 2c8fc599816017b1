/*
 * activity — events (audit rows, storage/notify.h) told as people read
 * them: neighbouring events of one person doing the same thing in the
 * same folder become one group ("Marta uploaded 12 files to
 * WP3/Minutes"), for the feed (h_notify.c) and mail digests (mail.c).
 */
#ifndef CONSORT_ACTIVITY_H
#define CONSORT_ACTIVITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "err.h"

/* Neighbours at most this far apart in time join a group. */
#define ACTIVITY_GROUP_GAP 3600

struct activity_group {
	size_t *idx;  /* indexes into the rows, in the order the rows came */
	size_t count; /* entries of idx */
	char *folder; /* the folder the paths are in ("" root) */
};

/* Group `rows` (in either order). Only neighbours join, or with
 * `by_key` any earlier row of the same person, action and folder not
 * more than ACTIVITY_GROUP_GAP before (a digest: uploads from several
 * clients interleave); groups come in the order of their first row.
 * *out is malloc'd (NULL when n is 0); free with activity_groups_free.
 * ERR_NOMEM. */
enum err activity_group(const struct audit_row *rows, size_t n, bool by_key,
			struct activity_group **out, size_t *ngroups);
void activity_groups_free(struct activity_group *g, size_t n);

/* Is `action` a consortium-wide one (news, events: NOTIFY_SITE_ACTIONS)?
 * Those are told alone, with their title: Marta posted the news "Kick-off". */
bool activity_site(const char *action);

/* One line telling a group in `lang` (mailtext.h; NULL or unknown:
 * English) into buf[len]: "Marta uploaded 12 files to WP3/Minutes",
 * "Marta uploaded WP3/Minutes/a.pdf". */
void activity_sentence(const struct activity_group *g, const struct audit_row *rows,
		       const char *lang, char *buf, size_t len);

#endif
