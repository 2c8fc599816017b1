/*
 * acl — the access policy: every access decision of consort is made
 * here, nowhere else. Every request passes through acl_authorize() after
 * routing and before its handler; handlers that meet a question only
 * their data can raise (whose lock, whose upload) call the named
 * decisions below, never compare owners or levels themselves.
 *
 * The decision, in order (docs/api.md "Access"):
 *   public route                         → allowed, nobody is identified
 *   no/unknown/expired/revoked credentials, disabled account → 401
 *   session cookie on an unsafe method without the right X-CSRF-Token → 403
 *   second factor required but not enrolled → 403 except for enrolling
 *   session-only route called with an API token → 403
 *   sudo route (session:sudo, coordinator:sudo): an API token → 403; not
 *   a coordinator on coordinator:sudo → 403; a session whose sign-in or
 *   confirm is older than AUTH_SUDO_SECONDS → 403 reauthentication_required
 *   a token's scope on a route without a work package: a read token
 *   sends only GET, HEAD, OPTIONS, PROPFIND (403); a token limited to
 *   work packages is no coordinator (403)
 *   {wp} in the route: a WP the caller cannot read is 404, exactly like
 *   a WP that does not exist, so existence is not revealed; a WP the
 *   caller can read but not at the route's level is 403
 *   WP named outside the path: tus creation's Upload-Metadata `wp` needs
 *   write, answered as for {wp}; the Destination of a WebDAV COPY or
 *   MOVE needs write, unreadable is 409 like a missing parent. A header
 *   that names no WP (absent, malformed, foreign) grants nothing: the
 *   handler refuses it as bad input (400, 412, 502), nothing to decide
 *   tus upload {id} after its creation: someone else's is 404 like a
 *   missing one; its creator needs write on its WP still (403, or 404
 *   once the WP is unreadable)
 *   coordinator route for a non-coordinator → 403
 *   any write (write routes, MOVE's source, a COPY or MOVE Destination,
 *   tus creation and PATCH) into an archived work package → 403, for
 *   everyone, coordinators included, until it is unarchived
 *
 * A caller's level on a WP is the highest of their own grant and their
 * partner's, manage for a coordinator, none for a disabled account
 * (storage/accounts.c states that rule once); a token's scope then
 * narrows it: none on a WP outside a limited token's list (so 404, and
 * missing from every list and from search), at most read for a read
 * token. Every WP decision below passes through that one narrowing. A missing caller reads
 * nothing: no decision here defaults to "every work package".
 *
 * Decisions handlers ask for:
 *   acl_authorize_wp    a WP found in the data (an upload's) at a level
 *   acl_readable_wps    the search filter (ids); unreadable = missing
 *   acl_readable_wp_list  GET /api/v1/wps and the WebDAV root listing
 *   acl_wp_writable     not archived (trash purge, a manage route)
 *   acl_wp_settings     PATCH of a WP: title, lead for its managers;
 *                       quota, retention, archiving for coordinators
 *   acl_lock_check      a write without an If header (API, tus) to a
 *                       path a live lock protects: only its holder
 *   acl_owns_lock       only its holder submits a WebDAV lock's token
 *   acl_may_unlock      the holder, or a manager of the WP (lock break)
 *
 * Deliverables (docs/deliverables.md): a deliverable is seen by whoever
 * reads its WP (the register is filtered by acl_readable_wps; one that
 * cannot be read is 404 like a missing one).
 *   acl_deliverable_edit    its document, title, due date, "drafting":
 *                           manage on its WP (the WP lead, a coordinator),
 *                           or write on the WP for a member of its lead
 *                           partner
 *   acl_review_start        the same people start a review
 *   acl_reviewer_eligible   a reviewer is an enabled member of another
 *                           partner than the lead who can read the WP
 *   acl_review_decide       only a reviewer named on the review answers
 *                           (and attaches an annotated file, which the
 *                           server stores in Reviews/<code> of the WP for
 *                           them, though they may only read it)
 *   acl_deliverable_sign_off  approved, submitted, accepted, revision
 *                           requested: coordinators only
 *   acl_recipient_wps   what a mail's recipient may read when the mail is
 *                       built (not when the event happened): the same
 *                       rule as for a request, for an account, not a call
 *   acl_activity_visible which changes a reader sees in a feed or mail:
 *                       everything in a readable WP, but access changes
 *                       (grant) only with manage
 *   acl_may_post        news and events: coordinators and holders of the
 *                       contact role "Communication" (not with a token
 *                       limited to some work packages)
 *   acl_may_edit_posted a news item or event in place: whoever may post,
 *                       and its author (same token rule)
 *   acl_event_visible   an event, for a reader of some WPs: public ones and
 *                       internal ones tied to no WP to every member;
 *                       internal ones tied to WPs (their folder's, the
 *                       linked ones) only to readers of one of those
 *   acl_site_event_visible a consortium-wide item in a feed or mail:
 *                       news to every member; an event by
 *                       acl_event_visible; an item since deleted (or
 *                       one the record does not name) to nobody
 *   acl_calendar_reader a calendar feed's secret stands for its owner
 *                       (enabled, feed not revoked) and what they read
 *
 * Share links (docs/links.md): the "link" principal. A link's secret in
 * its URL is its only credential; it stands for what its creator made it
 * for and nothing else.
 *   acl_link_create     a writer of the WP makes a link to what they can
 *                       read, within the WP's link policy (kind allowed,
 *                       expiry within its maximum, password if required);
 *                       a drop link needs a folder of a writable WP
 *   acl_link_open       the link of a secret, if it may be used now: not
 *                       revoked, expired or used up; its creator enabled
 *                       and still reading (writing, for a drop link) its
 *                       WP; the WP's policy still allowing its kind; its
 *                       target live. Every other case is 404, all alike
 *   acl_link_node       what an open link reaches: its document, or a
 *                       path inside its folder (download links only;
 *                       a drop link lists and reads nothing)
 *   acl_link_manage     revoke: its creator, a manager of its WP, a
 *                       coordinator; others 404 (unreadable) or 403
 *   acl_link_visible    which links a listing shows: the caller's own,
 *                       those of WPs they manage (a coordinator: all)
 */
#ifndef CONSORT_ACL_H
#define CONSORT_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct call;
struct caller;
struct db;
struct acct_wp;
struct name_path;
struct dir_event;
struct link;
struct tree_node;
struct audit_row;

/* Authenticate the caller (session cookie with CSRF for unsafe methods,
 * or bearer token) when the route needs it, then decide whether the
 * route's declared access allows the call. Fills call->caller,
 * call->wp_id and call->wp_level (for ACCESS_WP_WRITE_BY_METADATA the
 * WP named in the metadata, 0 when it names none). Returns ERR_OK to
 * proceed, or ERR_UNAUTHENTICATED / ERR_FORBIDDEN / ERR_NOTFOUND /
 * ERR_CONFLICT with a detail. */
enum err acl_authorize(struct call *call);

/* The {wp} part of the decision for a work package not in the path: by
 * `code`, or by `wp_id` with `code` NULL (an upload's). Call after
 * acl_authorize has identified the caller. `need` is ACCESS_WP_READ,
 * _WRITE or _MANAGE (enum access). Same answers as for a {wp} route:
 * ERR_NOTFOUND when the caller cannot read the work package (or it does
 * not exist), ERR_FORBIDDEN when the level is too low. Fills
 * call->wp_id and call->wp_level. */
enum err acl_authorize_wp(struct call *call, const char *code, int64_t wp_id, int need);

/* The rule under both: `c`'s level on the WP `code` (or `wp_id`, `code`
 * NULL) must be at least `level` (ACCT_READ.._MANAGE). ERR_NOTFOUND when
 * unreadable or missing, ERR_FORBIDDEN when too low,
 * ERR_UNAUTHENTICATED without a caller. *id_out, *level_out are filled
 * when readable (either may be NULL). */
enum err acl_wp_decide(struct db *db, const struct caller *c, const char *code, int64_t wp_id,
		       int level, int64_t *id_out, int *level_out);

/* Ids of the work packages the authenticated caller may read (level read
 * or higher, own grants and the partner's; every WP for a coordinator):
 * the permission filter of search. *ids is malloc'd, ascending, NULL when
 * *n is 0; the caller frees it. ERR_UNAUTHENTICATED without a caller. */
enum err acl_readable_wps(struct call *call, int64_t **ids, size_t *n);

/* The same work packages as records with the caller's level, ordered by
 * code: GET /api/v1/wps and the WebDAV root. Free with acct_wps_free.
 * ERR_UNAUTHENTICATED without a caller. */
enum err acl_readable_wp_list(struct call *call, struct acct_wp **wps, size_t *n);

/* ERR_FORBIDDEN (detail naming `code`, may be NULL) when work package
 * `wp_id` is archived: nothing is written into it. ERR_OK otherwise. */
enum err acl_wp_writable(struct db *db, int64_t wp_id, const char *code);

/* May the caller change the settings of call->wp_id? Its managers may
 * change title and lead; `storage` (quota, retention, archived) needs a
 * coordinator. ERR_FORBIDDEN otherwise. */
enum err acl_wp_settings(const struct call *call, bool storage);

/* Check-out and WebDAV locks on the write paths that have no If header
 * (API PUT, move, rename, trash, restore, tus): ERR_LOCKED (423) when a
 * live lock of work package `wp_id` covers `path`, or with `below` lies
 * inside it (a folder moved or trashed), and the caller does not hold
 * it; the detail names the holder and the expiry ("'Reports/D1.docx' is
 * checked out by Marta Rossi until 2026-12-05 16:40 UTC"). The holder
 * writes with their own session, whichever client took the lock. */
enum err acl_lock_check(struct call *call, int64_t wp_id, const struct name_path *path, bool below);

/* Is the caller the holder of a WebDAV lock (`owner` its user_id)? Only
 * the holder's submitted token unlocks what a lock protects, or
 * refreshes it. False without a caller. */
bool acl_owns_lock(const struct call *call, int64_t owner);

/* May the caller remove a lock held by `owner` on call->wp_id? Its
 * holder may; a manager of the work package may break someone else's
 * lock (one left behind by a crashed client). */
bool acl_may_unlock(const struct call *call, int64_t owner);

/* May the caller edit deliverable metadata / start a review of a
 * deliverable in WP `wp_id` led by partner `lead_partner_id` (0: none)?
 * ERR_NOTFOUND when the WP is unreadable, ERR_FORBIDDEN when readable but
 * the caller is neither a manager of the WP nor a writer from the lead
 * partner. Fills call->wp_id, call->wp_level. */
enum err acl_deliverable_edit(struct call *call, int64_t wp_id, int64_t lead_partner_id);
enum err acl_review_start(struct call *call, int64_t wp_id, int64_t lead_partner_id);

/* May user `user_id` (of partner `partner_id`) review a deliverable of
 * WP `wp_id` led by `lead_partner_id`? ERR_INVALID with a detail naming
 * `who` when not (same partner as the lead, cannot read the WP). */
enum err acl_reviewer_eligible(struct call *call, int64_t user_id, int64_t partner_id,
			       int64_t wp_id, int64_t lead_partner_id, const char *who);

/* Is the caller one of the `n` reviewers `ids`? ERR_FORBIDDEN if not. */
enum err acl_review_decide(const struct call *call, const int64_t *ids, size_t n);

/* Coordinator sign-off steps. ERR_FORBIDDEN for anyone else. */
enum err acl_deliverable_sign_off(const struct call *call);
/* The work packages account `user_id` may read now, with its level (a
 * disabled or unknown account: none): mail is built from these. Free
 * with acct_wps_free. */
enum err acl_recipient_wps(struct db *db, int64_t user_id, struct acct_wp **wps, size_t *n);

/* May account `user_id` be told now about a deliverable of `wp_id`? A
 * reviewer (a review task or reminder): when they can read the work
 * package; the deliverable's people (its due date): when they can write
 * it. Asked when the mail is made, not when the review started. */
bool acl_deliverable_notice(struct db *db, int64_t user_id, int64_t wp_id, bool reviewer);

/* May a reader with `level` on an event's WP see the event `action`? */
bool acl_activity_visible(int level, const char *action);
/* May the caller post and remove news and events? A coordinator, or
 * someone holding the contact role "Communication". */
bool acl_may_post(struct call *call);
/* May the caller edit in place a news item or event posted by
 * `author_id`? Whoever may post, and the author. */
bool acl_may_edit_posted(struct call *call, int64_t author_id);

/* May a reader of the WPs `readable` (n of them, from acl_readable_wps
 * or acl_calendar_reader) see event `e`? The rule in the list above. */
bool acl_event_visible(const struct dir_event *e, const int64_t *readable, size_t n);

/* May a reader of the WPs `wps` (nw of them, with levels: from
 * acl_recipient_wps or acl_readable_wp_list) see the consortium-wide
 * event row `e` (action in NOTIFY_SITE_ACTIONS)? Reads the item now. */
bool acl_site_event_visible(struct db *db, const struct audit_row *e, const struct acct_wp *wps,
			    size_t nw);

/* The reader a calendar feed URL stands for: the enabled account whose
 * feed secret is `secret`, and the WPs it may read (*readable malloc'd,
 * the caller frees it). ERR_NOTFOUND for an unknown or revoked secret or
 * a disabled account, all alike. */
enum err acl_calendar_reader(struct db *db, const char *secret, int64_t *user_id,
			     int64_t **readable, size_t *n);

/* May the caller make a link of `kind` (enum link_kind) to `target` in
 * work package `wp_id` that expires at `expires_at`, with or without a
 * password? ERR_NOTFOUND when the WP is unreadable, ERR_FORBIDDEN when
 * below write or the policy forbids it, ERR_INVALID (naming the field)
 * for an expiry beyond the policy's maximum, a missing required
 * password, a drop link to a document. */
enum err acl_link_create(struct call *call, int64_t wp_id, const struct tree_node *target, int kind,
			 int64_t expires_at, bool has_password);

/* The link principal: the usable link whose secret is `secret` into
 * *out (link_clear it). ERR_NOTFOUND ("no such link") for an unknown,
 * malformed, revoked, expired or used-up secret, a creator disabled or
 * without access, a policy that no longer allows it, a target gone. */
enum err acl_link_open(struct db *db, const char *secret, struct link *out);

/* The node an open download link reaches at `rel` ('/'-separated,
 * relative to its folder; NULL or "" for the target itself) into *out
 * (tree_node_clear it; out->path is its path inside the work package).
 * ERR_NOTFOUND when it reaches nothing there, ERR_FORBIDDEN for a drop
 * link, ERR_INVALID for a malformed path. */
enum err acl_link_node(struct db *db, const struct link *l, const char *rel, struct tree_node *out);

/* May the caller revoke link `l`? See above. */
enum err acl_link_manage(struct call *call, const struct link *l);

/* Does a listing show link `l` to the caller? */
bool acl_link_visible(struct call *call, const struct link *l);

#endif
