/*
 * links — share links (docs/links.md): the repository over the links and
 * link_policies tables. A link is found by the SHA-256 of its secret;
 * the secret itself is never stored. Whether a link may be made or used
 * is not decided here: server/api/acl.c decides for the "link" principal
 * (creator still enabled and reading, not revoked or expired, within
 * its work package's policy).
 *
 * Ownership: a struct link filled here owns its strings; release it with
 * link_clear (lists with links_free).
 */
#ifndef CONSORT_LINKS_H
#define CONSORT_LINKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "err.h"

#define LINK_NOTE_MAX 1000    /* characters of a note */
#define LINK_MAX_DAYS_CAP 365 /* no policy allows more */
#define LINK_DEFAULT_DAYS 30  /* a policy's maximum when none is given */

enum link_kind { LINK_DOWNLOAD, LINK_DROP };
/* A work package's policy: what its writers may make. */
enum link_mode { LINK_MODE_OFF, LINK_MODE_DOWNLOAD, LINK_MODE_DROP };

extern const char *const link_kind_names[]; /* "download", "drop", NULL */
extern const char *const link_mode_names[]; /* "off", "download", "drop", NULL */

struct link_policy {
	enum link_mode mode;
	int64_t max_days;
	bool password_required;
};

struct link {
	int64_t id;
	enum link_kind kind;
	int64_t wp_id;
	int64_t node_id;
	int64_t version; /* 0: always the latest */
	int64_t creator_id;
	int64_t created_at;
	int64_t expires_at;
	char *password_hash;   /* NULL: none */
	int64_t max_uses;      /* 0: no limit; a drop link: files it accepts */
	int64_t max_file_size; /* a drop link: bytes per file, 0: no limit */
	int64_t uses;
	int64_t last_used_at; /* 0: never */
	char *note;
	int64_t revoked_at; /* 0: live */
	/* for listings */
	char *wp_code;
	char *creator_email;
	char *creator_name;
};

void link_clear(struct link *l);
void links_free(struct link *l, size_t n);

/* The policy of work package `wp_id` (no row: off, LINK_DEFAULT_DAYS,
 * no password required). */
enum err link_policy_get(struct db *db, int64_t wp_id, struct link_policy *out);
/* Store it (joins an open transaction). */
enum err link_policy_set(struct db *db, int64_t wp_id, const struct link_policy *p);

/* Store a new link `l` (id, uses, last use, revocation ignored) with the
 * hash of its secret; *id receives its id. Joins an open transaction. */
enum err link_add(struct db *db, const unsigned char secret_hash[32], const struct link *l,
		  int64_t *id);
/* The link whose secret hashes to `hash`, whatever its state (the
 * policy decides about state). ERR_NOTFOUND when none. */
enum err link_by_secret(struct db *db, const unsigned char hash[32], struct link *out);
/* The link `id`. ERR_NOTFOUND when none. */
enum err link_get(struct db *db, int64_t id, struct link *out);
/* Every link not revoked and not expired at `now` (`live`), or every
 * link, newest first, with work package code and creator; `wp_id` > 0
 * narrows to one work package. */
enum err links_list(struct db *db, bool live, int64_t now, int64_t wp_id, struct link **out,
		    size_t *n);
/* Revoke link `id` (once; a revoked link stays revoked). */
enum err link_revoke(struct db *db, int64_t id, int64_t by, int64_t now);
/* Count one use of link `id` at `now`, atomically with its limit: only
 * while it is live and under max_uses. ERR_NOTFOUND when the use is
 * refused (used up, revoked or expired meanwhile). */
enum err link_use(struct db *db, int64_t id, int64_t now);
/* Mark that link `id` was looked at (last use) without counting a use. */
enum err link_touch(struct db *db, int64_t id, int64_t now);

#endif
