/*
 * directory — the consortium's own pages in the store: partners'
 * directory entries, people's role lines and contact roles, news items,
 * events with their work packages and folder, and each person's
 * calendar feed secret (its SHA-256 only).
 *
 * Nothing here decides who may see what: the policy (server/api/acl.c)
 * filters what these functions return. Strings handed out are malloc'd
 * and freed with the matching *_free / *_clear function; functions that
 * fail leave *out NULL (arrays) and *n 0.
 */
#ifndef CONSORT_DIRECTORY_H
#define CONSORT_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct db;

/* Partner types and roles as stored; NULL-terminated, for validation
 * and for the counts ("17 hospitals"). */
extern const char *const dir_partner_types[];
extern const char *const dir_partner_roles[];

/* An http: or https: URL without spaces, quotes or angle brackets (a
 * partner's website, an event's online link); "" passes. */
bool dir_web_url_ok(const char *s);

struct dir_partner {
	int64_t id;
	char *short_name, *name, *country, *type, *role, *city, *website, *description;
	int64_t logo_image_id; /* 0: none */
};

/* Every partner, by country then name. */
enum err dir_partner_list(struct db *db, struct dir_partner **out, size_t *n);
/* One partner by short name (case-insensitive); ERR_NOTFOUND. */
enum err dir_partner_get(struct db *db, const char *short_name, struct dir_partner *out);
void dir_partner_clear(struct dir_partner *p);
void dir_partners_free(struct dir_partner *p, size_t n);

/* The directory fields of partner `short_name`; a NULL field stays as
 * it is. type and role must be among dir_partner_types / _roles, the
 * website pass dir_web_url_ok (ERR_INVALID otherwise); ERR_NOTFOUND for an unknown partner. */
struct dir_partner_change {
	const char *type, *role, *city, *website, *description;
};
enum err dir_partner_update(struct db *db, const char *short_name,
			    const struct dir_partner_change *ch);

/* A work package a partner takes part in (a grant to the partner) or
 * leads. */
struct dir_partner_wp {
	int64_t partner_id;
	int64_t wp_id;
	char *code, *title;
	bool lead;
};
/* For every partner (partner_id 0) or one; by partner, then code. */
enum err dir_partner_wps(struct db *db, int64_t partner_id, struct dir_partner_wp **out, size_t *n);
void dir_partner_wps_free(struct dir_partner_wp *w, size_t n);

/* A person of the directory: an enabled account. contact_roles are the
 * roles joined by '\n' ("" for none). */
struct dir_person {
	int64_t id, partner_id;
	char *name, *email, *role_line, *contact_roles, *partner_short;
	bool coordinator;
};
/* Enabled people of one partner (partner_id > 0) or of all; by name. */
enum err dir_people(struct db *db, int64_t partner_id, struct dir_person **out, size_t *n);
void dir_people_free(struct dir_person *p, size_t n);

/* Set user `user_id`'s role line (NULL: unchanged) and, when `roles` is
 * not NULL, replace their contact roles by the `nroles` given. Call
 * inside a transaction. ERR_NOTFOUND for an unknown user. */
enum err dir_person_set(struct db *db, int64_t user_id, const char *role_line,
			const char *const *roles, size_t nroles);

/* Does the user hold contact role `role` (case-insensitive)? */
enum err dir_has_role(struct db *db, int64_t user_id, const char *role, bool *has);

/* Directory search: partners (short, name, city, type), people (name,
 * email, role line, contact roles) and work packages (code, title)
 * whose text contains `q` (case-insensitive for ASCII), at most `limit`
 * of each kind. kind is "partner", "person" or "wp"; key the partner's
 * short name, the person's email or the WP's code; wp_id for a WP. */
struct dir_hit {
	const char *kind;
	int64_t wp_id;
	char *key, *title, *detail;
};
enum err dir_search(struct db *db, const char *q, int limit, struct dir_hit **out, size_t *n);
void dir_hits_free(struct dir_hit *h, size_t n);

/* --- news --------------------------------------------------------------------- */

struct dir_news {
	int64_t id, created_at, image_id;
	char *title, *body, *author;
	int64_t edited_at, author_id; /* edited_at 0: never edited */
};
/* image_id 0: none; else it must exist (ERR_INVALID). */
enum err dir_news_add(struct db *db, const char *title, const char *body, int64_t author_id,
		      int64_t image_id, int64_t *id);
/* Newest first, `limit` from `offset`; *total counts them all. */
enum err dir_news_list(struct db *db, int limit, int offset, struct dir_news **out, size_t *n,
		       int64_t *total);
enum err dir_news_delete(struct db *db, int64_t id);
/* Is there (still) a news item `id`? */
enum err dir_news_exists(struct db *db, int64_t id, bool *exists);
void dir_news_free(struct dir_news *items, size_t n);
/* One item (ERR_NOTFOUND); free with dir_news_free(out, 1). */
enum err dir_news_get(struct db *db, int64_t id, struct dir_news **out);
/* Replace an item's title, body and picture (0: none; else it must
 * exist), stamping edited_at. A picture it no longer shows is deleted
 * like a removed item's. */
enum err dir_news_update(struct db *db, int64_t id, const char *title, const char *body,
			 int64_t image_id);

/* --- events ------------------------------------------------------------------- */

struct dir_event {
	int64_t id, starts_at, ends_at, created_at, folder_wp_id;
	char *title, *tz, *place, *online_url, *description, *folder_wp, *folder_path;
	bool internal;
	/* linked work packages: ids and codes, nwps of each */
	int64_t *wp_ids;
	char **wp_codes;
	size_t nwps;
	/* edited_at 0: never edited; sequence: the iCalendar SEQUENCE,
	 * raised by each edit */
	int64_t edited_at, sequence, created_by;
};
/* New event; `wp_ids` (nwps of them) linked. Call inside a transaction. */
enum err dir_event_add(struct db *db, const struct dir_event *ev, int64_t created_by, int64_t *id);
/* Events ending at or after `from` (0: all), by start. */
enum err dir_event_list(struct db *db, int64_t from, struct dir_event **out, size_t *n);
enum err dir_event_get(struct db *db, int64_t id, struct dir_event *out);
enum err dir_event_delete(struct db *db, int64_t id);
/* Replace event ev->id's fields and linked work packages with `ev`'s,
 * stamping edited_at and raising sequence. Call inside a transaction. */
enum err dir_event_update(struct db *db, const struct dir_event *ev);
void dir_event_clear(struct dir_event *e);
void dir_events_free(struct dir_event *e, size_t n);

/* --- pictures --------------------------------------------------------------------- */

/* Store a PNG made by the image helper; *id its id. */
enum err dir_image_add(struct db *db, const void *png, size_t len, int width, int height,
		       int64_t created_by, int64_t *id);
/* The PNG of image `id` (malloc'd into *png); ERR_NOTFOUND. */
enum err dir_image_get(struct db *db, int64_t id, void **png, size_t *len);
/* Partner `short_name`'s logo becomes image `image_id`; ERR_NOTFOUND.
 * The logo it replaces is deleted unless a news item shows it. Removing
 * a news item (dir_news_delete) drops its picture likewise. */
enum err dir_partner_set_logo(struct db *db, const char *short_name, int64_t image_id);

/* --- calendar feeds ------------------------------------------------------------ */

/* Replace user's feed secret hash (a new URL; the old one stops). */
enum err dir_feed_set(struct db *db, int64_t user_id, const unsigned char hash[32]);
/* Revoke it; ERR_NOTFOUND when there is none. */
enum err dir_feed_revoke(struct db *db, int64_t user_id);
/* The enabled user whose feed secret hashes to `hash`; ERR_NOTFOUND. */
enum err dir_feed_user(struct db *db, const unsigned char hash[32], int64_t *user_id);
/* Whether the user has a feed. */
enum err dir_feed_exists(struct db *db, int64_t user_id, bool *exists, int64_t *created_at);

#endif
