/* acl — see acl.h. */
#include "api/acl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "accounts.h"
#include "audit.h"
#include "davstore.h"
#include "name.h"
#include "api/auth.h"
#include "digest.h"
#include "directory.h"
#include "http/http.h"
#include "api/metrics.h"
#include "api/router.h"
#include "api/tusmeta.h"
#include "api/dest.h"
#include "api/app.h"
#include "links.h"
#include "tree.h"
#include "uploads.h"
#include "db.h"

static bool is_safe_method(const char *m)
{
	return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "OPTIONS");
}

static bool csrf_ok(const struct call *call)
{
	const char *sent = http_req_header(call->req, "X-CSRF-Token");
	size_t len = strlen(call->caller->csrf);

	return sent && http_req_header_count(call->req, "X-CSRF-Token") == 1 &&
	       strlen(sent) == len && digest_equal(sent, call->caller->csrf, len);
}

/* What a caller whose coordinator requires a second factor may do before
 * enrolling one: manage their own credentials through the session (which
 * includes enrolling and signing out), and see who they are. */
static bool allowed_before_enrolment(const struct call *call)
{
	return call->route->access == ACCESS_SESSION || call->route->access == ACCESS_SUDO ||
	       (!strcmp(call->route->method, "GET") && !strcmp(call->route->pattern, "/api/v1/me"));
}

static int level_needed(enum access a)
{
	switch (a) {
	case ACCESS_WP_READ: return ACCT_READ;
	case ACCESS_WP_WRITE: return ACCT_WRITE;
	case ACCESS_WP_MANAGE: return ACCT_MANAGE;
	case ACCESS_WP_WRITE_BY_METADATA: return ACCT_WRITE;
	case ACCESS_DAV_COPY: return ACCT_READ; /* of the source; the Destination: write */
	case ACCESS_DAV_MOVE: return ACCT_WRITE;
	default: return ACCT_NONE;
	}
}

/* Does a WP-limited token reach work package `wp_id`? */
static bool token_reaches(const struct caller *c, int64_t wp_id)
{
	if (!c->wp_limited)
		return true;
	for (size_t i = 0; i < c->nwps; i++)
		if (c->wp_ids[i] == wp_id)
			return true;
	return false;
}

/* The caller's level on a WP as its credentials allow it: a token
 * limited to other work packages reads nothing there, a read token
 * reads at most. Every WP decision passes through here. */
static int scoped_level(const struct caller *c, int64_t wp_id, int have)
{
	if (!token_reaches(c, wp_id))
		return ACCT_NONE;
	if (c->read_only && have > ACCT_READ)
		return ACCT_READ;
	return have;
}

/* Methods that change nothing, whatever the route: what a read token may
 * send to a route without a work package (PROPFIND of the WebDAV root
 * included). */
static bool is_reading_method(const char *m) { return is_safe_method(m) || !strcmp(m, "PROPFIND"); }

/* The token's scope on routes without a work package (those with one
 * pass through scoped_level): a read token changes nothing there; a
 * token limited to work packages is no coordinator (the coordinator's
 * views span every work package). */
static enum err token_scope_decide(const struct call *call, enum access need)
{
	const struct caller *c = call->caller;

	if (!c->token_id)
		return ERR_OK;
	if (c->read_only && (need == ACCESS_USER || need == ACCESS_COORDINATOR) &&
	    !is_reading_method(http_req_method(call->req)))
		return err_set(ERR_FORBIDDEN, "this API token is read-only");
	if (c->wp_limited && need == ACCESS_COORDINATOR)
		return err_set(ERR_FORBIDDEN, "this API token is limited to some work packages; "
					      "coordinator views need a token for all of them");
	return ERR_OK;
}

/* Sudo mode (ACCESS_SUDO, ACCESS_COORDINATOR_SUDO): changing credentials
 * or privileges needs a browser session whose person proved who they
 * are (sign-in, or POST /api/v1/session/confirm) within
 * AUTH_SUDO_SECONDS. A token never does: one leaked from a drive
 * mapping stays as weak as it was. Not a coordinator is 403 before the
 * freshness, so nobody is asked to confirm for what they may not do. */
static enum err sudo_decide(const struct call *call, enum access need)
{
	const struct caller *c = call->caller;

	if (!call->by_cookie)
		return err_set(ERR_FORBIDDEN,
			       "this changes credentials or privileges, which needs a signed-in "
			       "session that confirmed who it is; API tokens cannot");
	if (need == ACCESS_COORDINATOR_SUDO && !c->coordinator)
		return err_set(ERR_FORBIDDEN, "only coordinators may do this");
	if (db_now() - c->reauth_at > AUTH_SUDO_SECONDS)
		return err_set(ERR_REAUTH, "confirm it is you: enter your password (and one-time "
					   "code) again (POST /api/v1/session/confirm)");
	return ERR_OK;
}

enum err acl_wp_decide(struct db *db, const struct caller *c, const char *code, int64_t wp_id,
		       int level, int64_t *id_out, int *level_out)
{
	int have = ACCT_NONE;
	enum err rc;

	if (id_out)
		*id_out = 0;
	if (level_out)
		*level_out = ACCT_NONE;
	if (!c || !c->user_id)
		return err_set(ERR_UNAUTHENTICATED, "authentication required");
	if (code)
		rc = acct_wp_resolve(db, code, c->user_id, &wp_id, &have);
	else
		rc = acct_level(db, c->user_id, wp_id, &have);
	if (!rc)
		have = scoped_level(c, wp_id, have);
	/* Unreadable is reported exactly like missing, so probing codes
	 * tells an outsider nothing. */
	if (rc == ERR_NOTFOUND || (!rc && have < ACCT_READ))
		return err_set(ERR_NOTFOUND, "no such work package");
	if (rc)
		return rc;
	if (id_out)
		*id_out = wp_id;
	if (level_out)
		*level_out = have;
	if (have < level)
		return err_set(ERR_FORBIDDEN, "this needs %s access to %s", acct_level_name(level),
			       code ? code : "the work package");
	return ERR_OK;
}

enum err acl_wp_writable(struct db *db, int64_t wp_id, const char *code)
{
	bool archived = false;
	enum err rc = acct_wp_archived(db, wp_id, &archived);

	if (!rc && archived)
		rc = err_set(ERR_FORBIDDEN,
			     "work package %s is archived: it is read-only until a "
			     "coordinator unarchives it",
			     code ? code : "");
	return rc;
}

/* Write access as decided, then the one rule above levels: nothing is
 * written into an archived work package. */
static enum err write_decide(struct db *db, const struct caller *c, const char *code, int64_t wp_id,
			     int64_t *id_out, int *level_out)
{
	int64_t id = 0;
	enum err rc = acl_wp_decide(db, c, code, wp_id, ACCT_WRITE, &id, level_out);

	if (id_out)
		*id_out = id;
	if (!rc)
		rc = acl_wp_writable(db, id, code);
	return rc;
}

/* Tus creation: the WP is the `wp` key of Upload-Metadata. Metadata
 * that names none (absent, malformed, without `wp`) grants nothing and
 * leaves call->wp_id 0: the handler refuses it after the protocol's own
 * checks (412 without Tus-Resumable, then 400), before touching
 * anything. */
static enum err metadata_decide(struct call *call)
{
	const char *raw = http_req_header(call->req, "Upload-Metadata");
	struct tusmeta m;

	if (!raw || http_req_header_count(call->req, "Upload-Metadata") != 1 ||
	    tusmeta_parse(call->req, raw, &m) || !m.wp)
		return ERR_OK;
	return write_decide(worker_db(call->worker), call->caller, m.wp, 0, &call->wp_id,
			    &call->wp_level);
}

/* COPY, MOVE: write on the work package of the Destination. One that
 * names no work package of this share (missing, foreign, outside /dav/,
 * the list of WPs) grants nothing and is no access question: the
 * handler refuses it (400, 502, 403) before touching anything. */
static enum err destination_decide(struct call *call)
{
	const char *v = http_req_header(call->req, "Destination");
	struct dest_header d;
	const char *code;
	enum err rc;

	if (!v || http_req_header_count(call->req, "Destination") != 1 ||
	    dest_parse(v, http_req_header(call->req, "Host"), &d))
		return ERR_OK;
	code = http_pct_decode(call->req, d.wp, d.wp_len, false);
	if (!code || !*code)
		return ERR_OK;
	rc = write_decide(worker_db(call->worker), call->caller, code, 0, &call->dest_wp_id, NULL);
	/* RFC 4918: a Destination whose parent is missing is a conflict;
	 * an unreadable WP looks missing. */
	if (rc == ERR_NOTFOUND)
		return err_set(ERR_CONFLICT, "the Destination's work package does not exist");
	return rc;
}

/* A tus upload after its creation: only its creator finds it (anyone
 * else is told it does not exist: ids are not to be probed), and only
 * while they may still write to its work package. */
static enum err upload_decide(struct call *call)
{
	const char *id = call_param(call, "id");
	struct upload u;
	enum err rc;

	rc = uploads_get(worker_db(call->worker), id ? id : "", &u);
	/* A drop link's upload is reached only through its link. */
	if (!rc && (u.user_id != call->caller->user_id || u.link_id))
		rc = ERR_NOTFOUND;
	if (!rc)
		rc = acl_wp_decide(worker_db(call->worker), call->caller, NULL, u.wp_id, ACCT_WRITE,
				   &call->wp_id, &call->wp_level);
	/* Sending bytes writes; asking the offset or cancelling does not. */
	if (!rc && (!strcmp(call->route->method, "PATCH") || !strcmp(call->route->method, "POST")))
		rc = acl_wp_writable(worker_db(call->worker), u.wp_id, NULL);
	/* Someone else's, or in a WP the caller can no longer read. */
	if (rc == ERR_NOTFOUND)
		rc = err_set(ERR_NOTFOUND, "no such upload");
	upload_clear(&u);
	return rc;
}

enum err acl_authorize(struct call *call)
{
	enum access need = call->route->access;
	const struct caller *c;
	const char *wp;
	enum err rc;

	call->caller = NULL;
	call->wp_id = 0;
	call->wp_level = ACCT_NONE;
	if (need == ACCESS_PUBLIC)
		return ERR_OK;
	if (need == ACCESS_SCRAPER)
		/* Not an account: an allowed address or the metrics token. */
		return metrics_scraper_allowed(http_req_peer(call->req),
					       http_req_header(call->req, "Authorization"));
	if (need <= ACCESS_UNDECLARED || need >= ACCESS__COUNT)
		return err_set(ERR_INTERNAL,
			       "route declares no access"); /* router_check prevents it */

	rc = auth_identify(call);
	if (rc)
		return rc;
	c = call->caller;
	if (call->by_cookie && !is_safe_method(http_req_method(call->req)) && !csrf_ok(call))
		return err_set(ERR_FORBIDDEN, "missing or wrong X-CSRF-Token header");
	if (c->totp_pending && !(call->by_cookie && allowed_before_enrolment(call)))
		return err_set(ERR_FORBIDDEN, "a second factor must be enrolled first "
					      "(POST /api/v1/me/totp)");
	if (need == ACCESS_SESSION && !call->by_cookie)
		return err_set(ERR_FORBIDDEN, "this needs a signed-in session; "
					      "API tokens cannot manage credentials");
	if (need == ACCESS_SUDO || need == ACCESS_COORDINATOR_SUDO)
		return sudo_decide(call, need);
	rc = token_scope_decide(call, need);
	if (rc)
		return rc;

	wp = call_param(call, "wp");
	if (wp) {
		/* Readable first (404 otherwise), the route's level below. */
		rc = acl_wp_decide(worker_db(call->worker), c, wp, 0, ACCT_READ, &call->wp_id,
				   &call->wp_level);
		if (rc)
			return rc;
	}

	switch (need) {
	case ACCESS_USER:
	case ACCESS_SESSION: return ERR_OK;
	case ACCESS_WP_READ:
	case ACCESS_WP_WRITE:
	case ACCESS_WP_MANAGE:
	case ACCESS_DAV_COPY:
	case ACCESS_DAV_MOVE:
		if (!wp)
			return err_set(ERR_INTERNAL, "route needs a WP level but has no {wp}");
		if (call->wp_level < level_needed(need))
			return err_set(ERR_FORBIDDEN, "this needs %s access to %s",
				       acct_level_name(level_needed(need)), wp);
		if (need == ACCESS_WP_WRITE || need == ACCESS_DAV_MOVE) {
			rc = acl_wp_writable(worker_db(call->worker), call->wp_id, wp);
			if (rc)
				return rc;
		}
		if (need == ACCESS_DAV_COPY || need == ACCESS_DAV_MOVE)
			return destination_decide(call);
		return ERR_OK;
	case ACCESS_WP_WRITE_BY_METADATA: return metadata_decide(call);
	case ACCESS_UPLOAD_OWNER: return upload_decide(call);
	case ACCESS_COORDINATOR:
		if (!c->coordinator)
			return err_set(ERR_FORBIDDEN, "only coordinators may do this");
		return ERR_OK;
	default: return err_set(ERR_INTERNAL, "unknown access level");
	}
}

enum err acl_authorize_wp(struct call *call, const char *code, int64_t wp_id, int need)
{
	enum err rc;

	call->wp_id = 0;
	call->wp_level = ACCT_NONE;
	if (!call->caller)
		return err_set(ERR_UNAUTHENTICATED, "authentication required");
	if (need != ACCESS_WP_READ && need != ACCESS_WP_WRITE && need != ACCESS_WP_MANAGE)
		return err_set(ERR_INTERNAL, "not a work package level");
	rc = acl_wp_decide(worker_db(call->worker), call->caller, code, wp_id,
			   level_needed((enum access)need), &call->wp_id, &call->wp_level);
	if (rc == ERR_FORBIDDEN)
		call->wp_id = 0;
	return rc;
}

enum err acl_readable_wps(struct call *call, int64_t **ids, size_t *n)
{
	const struct caller *c = call->caller;
	size_t kept = 0;
	enum err rc;

	*ids = NULL;
	*n = 0;
	if (!c || !c->user_id)
		return err_set(ERR_UNAUTHENTICATED, "authentication required");
	rc = acct_readable_wps(worker_db(call->worker), c->user_id, ids, n);
	if (rc)
		return rc;
	for (size_t i = 0; i < *n; i++)
		if (token_reaches(c, (*ids)[i]))
			(*ids)[kept++] = (*ids)[i];
	*n = kept;
	if (!kept) {
		free(*ids);
		*ids = NULL;
	}
	return ERR_OK;
}

enum err acl_readable_wp_list(struct call *call, struct acct_wp **wps, size_t *n)
{
	const struct caller *c = call->caller;
	size_t kept = 0;
	enum err rc;

	*wps = NULL;
	*n = 0;
	if (!c || !c->user_id)
		return err_set(ERR_UNAUTHENTICATED, "authentication required");
	rc = acct_wp_list(worker_db(call->worker), c->user_id, wps, n);
	if (rc)
		return rc;
	for (size_t i = 0; i < *n; i++) {
		struct acct_wp *w = &(*wps)[i];

		w->level = scoped_level(c, w->id, w->level);
		if (w->level < ACCT_READ) {
			acct_wp_clear(w);
			continue;
		}
		if (kept != i)
			(*wps)[kept] = *w;
		kept++;
	}
	*n = kept;
	if (!kept) {
		free(*wps);
		*wps = NULL;
	}
	return ERR_OK;
}

enum err acl_wp_settings(const struct call *call, bool storage)
{
	if (!call->caller)
		return err_set(ERR_UNAUTHENTICATED, "authentication required");
	if (call->wp_level < ACCT_MANAGE)
		return err_set(ERR_FORBIDDEN, "this needs manage access to the work package");
	if (storage && !call->caller->coordinator)
		return err_set(ERR_FORBIDDEN,
			       "only coordinators may change a work package's quota, "
			       "retention or archiving; its managers may change its "
			       "title and lead");
	return ERR_OK;
}

/* Name keys of `p` joined by '/', the form locks are kept in. */
static char *lock_keys(const struct name_path *p)
{
	size_t len = 1;
	char *s;

	for (size_t i = 0; i < p->n; i++)
		len += strlen(p->keys[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	len = 0;
	for (size_t i = 0; i < p->n; i++) {
		size_t k = strlen(p->keys[i]);

		if (i)
			s[len++] = '/';
		memcpy(s + len, p->keys[i], k);
		len += k;
	}
	s[len] = '\0';
	return s;
}

enum err acl_lock_check(struct call *call, int64_t wp_id, const struct name_path *path, bool below)
{
	struct db *db = worker_db(call->worker);
	struct davstore_lock *locks = NULL;
	size_t n = 0;
	char *keys;
	enum err rc;

	if (!call->caller)
		return err_set(ERR_UNAUTHENTICATED, "authentication required");
	keys = lock_keys(path);
	if (!keys)
		return err_set(ERR_NOMEM, "out of memory");
	rc = davstore_locks_list(db, wp_id, &locks, &n);
	for (size_t i = 0; !rc && i < n; i++) {
		const struct davstore_lock *l = &locks[i];
		struct acct_user u = {0};
		char until[40] = "";
		struct tm tm;
		time_t t = (time_t)l->expires_at;

		if (!davstore_lock_covers(l, keys) &&
		    !(below && davstore_path_within(l->path, keys)))
			continue;
		/* The holder writes with their own session, whichever client
		 * took the lock. */
		if (acl_owns_lock(call, l->user_id))
			continue;
		acct_user_get(db, l->user_id, &u);
		if (gmtime_r(&t, &tm))
			strftime(until, sizeof until, "%Y-%m-%d %H:%M UTC", &tm);
		rc = err_set(ERR_LOCKED, "'%s' is %s by %s until %s", *l->root ? l->root : "/",
			     l->checkout ? "checked out" : "locked", u.name ? u.name : "someone",
			     until);
		acct_user_clear(&u);
	}
	davstore_locks_free(locks, n);
	free(keys);
	return rc;
}

bool acl_owns_lock(const struct call *call, int64_t owner)
{
	return call->caller && call->caller->user_id && owner == call->caller->user_id;
}

bool acl_may_unlock(const struct call *call, int64_t owner)
{
	return acl_owns_lock(call, owner) || (call->caller && call->wp_level >= ACCT_MANAGE);
}

/* --- deliverables -------------------------------------------------------------- */

enum err acl_deliverable_edit(struct call *call, int64_t wp_id, int64_t lead_partner_id)
{
	enum err rc = acl_authorize_wp(call, NULL, wp_id, ACCESS_WP_READ);

	if (rc)
		return rc;
	if (call->wp_level >= ACCT_MANAGE)
		return ERR_OK;
	if (lead_partner_id && call->caller->partner_id == lead_partner_id &&
	    call->wp_level >= ACCT_WRITE)
		return ERR_OK;
	return err_set(ERR_FORBIDDEN,
		       "only the deliverable's lead partner (with write access), the "
		       "work package's managers or a coordinator may do this");
}

enum err acl_review_start(struct call *call, int64_t wp_id, int64_t lead_partner_id)
{
	return acl_deliverable_edit(call, wp_id, lead_partner_id);
}

enum err acl_reviewer_eligible(struct call *call, int64_t user_id, int64_t partner_id,
			       int64_t wp_id, int64_t lead_partner_id, const char *who)
{
	int level = ACCT_NONE;
	enum err rc;

	if (lead_partner_id && partner_id == lead_partner_id)
		return err_set(ERR_INVALID,
			       "reviewer %.80s is a member of the lead partner; internal reviewers "
			       "come from other partners",
			       who);
	rc = acct_level(worker_db(call->worker), user_id, wp_id, &level);
	if (rc)
		return rc;
	if (level < ACCT_READ)
		return err_set(
			ERR_INVALID,
			"reviewer %.80s cannot read the work package; grant read access first",
			who);
	return ERR_OK;
}

enum err acl_review_decide(const struct call *call, const int64_t *ids, size_t n)
{
	for (size_t i = 0; call->caller && i < n; i++)
		if (ids[i] == call->caller->user_id)
			return ERR_OK;
	return err_set(ERR_FORBIDDEN, "you are not a reviewer of this review");
}

enum err acl_deliverable_sign_off(const struct call *call)
{
	if (call->caller && call->caller->coordinator)
		return ERR_OK;
	return err_set(ERR_FORBIDDEN, "only coordinators approve, submit and record the "
				      "Commission's answer");
}

enum err acl_recipient_wps(struct db *db, int64_t user_id, struct acct_wp **wps, size_t *n)
{
	return acct_wp_list(db, user_id, wps, n);
}

bool acl_activity_visible(int level, const char *action)
{
	if (level < ACCT_READ || !action)
		return false;
	/* Malware refused in an upload (api/scan.h) is for the managers. */
	return (strcmp(action, "grant") != 0 && strcmp(action, "malware_found") != 0) ||
	       level >= ACCT_MANAGE;
}

bool acl_may_post(struct call *call)
{
	bool has = false;

	/* News and events speak for the whole consortium: a token limited
	 * to some work packages does not. */
	if (!call->caller || !call->caller->user_id ||
	    (call->caller->token_id && call->caller->wp_limited))
		return false;
	if (call->caller->coordinator)
		return true;
	return dir_has_role(worker_db(call->worker), call->caller->user_id, "Communication",
			    &has) == ERR_OK &&
	       has;
}

bool acl_may_edit_posted(struct call *call, int64_t author_id)
{
	if (!call->caller || !call->caller->user_id ||
	    (call->caller->token_id && call->caller->wp_limited))
		return false;
	/* The author keeps their own item even after losing the role that
	 * let them post it: they answer for its text. */
	return (author_id && author_id == call->caller->user_id) || acl_may_post(call);
}

static bool among_ids(int64_t id, const int64_t *ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

bool acl_event_visible(const struct dir_event *e, const int64_t *readable, size_t n)
{
	if (!e->internal || (!e->folder_wp_id && e->nwps == 0))
		return true;
	if (e->folder_wp_id && among_ids(e->folder_wp_id, readable, n))
		return true;
	for (size_t i = 0; i < e->nwps; i++)
		if (among_ids(e->wp_ids[i], readable, n))
			return true;
	return false;
}

bool acl_site_event_visible(struct db *db, const struct audit_row *e, const struct acct_wp *wps,
			    size_t nw)
{
	long long id = 0;
	bool visible = false;

	if (!e->detail || !e->action)
		return false;
	if (!strcmp(e->action, "news_create")) {
		bool exists = false;

		/* news speaks to every member of the consortium */
		return sscanf(e->detail, "news %lld", &id) == 1 &&
		       dir_news_exists(db, id, &exists) == ERR_OK && exists;
	}
	if (!strcmp(e->action, "event_create") && sscanf(e->detail, "event %lld", &id) == 1) {
		struct dir_event ev;
		int64_t *readable = nw ? calloc(nw, sizeof *readable) : NULL;
		size_t n = 0;

		if (nw && !readable)
			return false;
		for (size_t i = 0; i < nw; i++)
			if (wps[i].level >= ACCT_READ)
				readable[n++] = wps[i].id;
		if (dir_event_get(db, id, &ev) == ERR_OK) {
			visible = acl_event_visible(&ev, readable, n);
			dir_event_clear(&ev);
		}
		free(readable);
	}
	return visible;
}

enum err acl_calendar_reader(struct db *db, const char *secret, int64_t *user_id,
			     int64_t **readable, size_t *n)
{
	unsigned char hash[32];
	enum err rc;

	*readable = NULL;
	*n = 0;
	*user_id = 0;
	if (strlen(secret) != AUTH_SECRET_LEN)
		return err_set(ERR_NOTFOUND, "no such calendar");
	auth_secret_hash(secret, hash);
	rc = dir_feed_user(db, hash, user_id);
	if (!rc)
		rc = acct_readable_wps(db, *user_id, readable, n);
	return rc;
}

bool acl_deliverable_notice(struct db *db, int64_t user_id, int64_t wp_id, bool reviewer)
{
	int level = ACCT_NONE;

	if (acct_level(db, user_id, wp_id, &level)) {
		err_clear();
		return false;
	}
	return level >= (reviewer ? ACCT_READ : ACCT_WRITE);
}

/* --- share links (the "link" principal) ------------------------------------------ */

enum err acl_link_create(struct call *call, int64_t wp_id, const struct tree_node *target, int kind,
			 int64_t expires_at, bool has_password)
{
	struct db *db = worker_db(call->worker);
	struct link_policy p;
	int level = ACCT_NONE;
	enum err rc = acl_wp_decide(db, call->caller, NULL, wp_id, ACCT_WRITE, NULL, &level);

	/* A writer shares what they read: the target lies in the WP they
	 * were just found to write, so reading it follows. */
	if (rc == ERR_FORBIDDEN)
		return err_set(ERR_FORBIDDEN, "making share links needs write access to the "
					      "work package");
	if (!rc)
		rc = link_policy_get(db, wp_id, &p);
	if (rc)
		return rc;
	if (p.mode == LINK_MODE_OFF)
		return err_set(ERR_FORBIDDEN, "share links are off in this work package; its "
					      "managers can allow them in its settings");
	if (kind == LINK_DROP && p.mode != LINK_MODE_DROP)
		return err_set(ERR_FORBIDDEN, "this work package allows download links only");
	if (kind == LINK_DROP && !target->is_folder)
		return err_set(ERR_INVALID, "field 'kind': a drop link needs a folder");
	if (kind == LINK_DROP && (rc = acl_wp_writable(db, wp_id, NULL)))
		return rc;
	if (expires_at <= db_now())
		return err_set(ERR_INVALID, "field 'expires_at': the expiry must be in the future");
	if (expires_at > db_now() + p.max_days * 86400)
		return err_set(ERR_INVALID,
			       "field 'expires_at': this work package allows links for at most "
			       "%lld days",
			       (long long)p.max_days);
	if (p.password_required && !has_password)
		return err_set(ERR_INVALID, "field 'password': this work package requires a "
					    "password on every share link");
	return ERR_OK;
}

/* Is node `id` of WP `wp_id` live (reachable by its path, not in the
 * trash or below a trashed folder)? Fills *out on success. */
static enum err live_node(struct db *db, int64_t wp_id, int64_t id, const char *below,
			  struct tree_node *out)
{
	struct name_path p = {0};
	char *path = NULL;
	enum err rc = tree_path(db, id, &path);

	memset(out, 0, sizeof *out);
	if (!rc && below && *below) {
		size_t len = strlen(path) + strlen(below) + 2;
		char *full = malloc(len);

		if (!full) {
			free(path);
			return err_set(ERR_NOMEM, "out of memory");
		}
		snprintf(full, len, "%s%s%s", path, *path ? "/" : "", below);
		free(path);
		path = full;
	}
	if (!rc)
		rc = name_path_from_text(path, &p);
	if (!rc)
		rc = tree_resolve(db, wp_id, &p, out);
	if (!rc && !(below && *below) && out->id != id)
		rc = err_set(ERR_NOTFOUND, "gone");
	if (!rc) {
		out->path = path;
		path = NULL;
	}
	if (rc) {
		tree_node_clear(out);
		if (rc == ERR_INVALID && below && *below)
			rc = err_set(ERR_INVALID, "path: %s", err_detail());
		else if (rc != ERR_NOMEM && rc != ERR_DB)
			rc = err_set(ERR_NOTFOUND, "no such file or folder in this link");
	}
	free(path);
	name_path_free(&p);
	return rc;
}

enum err acl_link_open(struct db *db, const char *secret, struct link *out)
{
	struct link_policy p;
	struct tree_node n;
	unsigned char hash[32];
	int level = ACCT_NONE;
	int64_t now = db_now();
	enum err rc;

	memset(out, 0, sizeof *out);
	if (!secret || strlen(secret) != AUTH_SECRET_LEN)
		return err_set(ERR_NOTFOUND, "no such link");
	auth_secret_hash(secret, hash);
	rc = link_by_secret(db, hash, out);
	if (!rc)
		rc = acct_level(db, out->creator_id, out->wp_id, &level);
	if (!rc)
		rc = link_policy_get(db, out->wp_id, &p);
	if (!rc && !live_node(db, out->wp_id, out->node_id, NULL, &n))
		tree_node_clear(&n);
	else if (!rc)
		rc = ERR_NOTFOUND;
	if (!rc &&
	    (out->revoked_at || now >= out->expires_at ||
	     /* a drop link at its count stays open: its uploads get a 409 */
	     (out->kind == LINK_DOWNLOAD && out->max_uses && out->uses >= out->max_uses) ||
	     level < (out->kind == LINK_DROP ? ACCT_WRITE : ACCT_READ) || p.mode == LINK_MODE_OFF ||
	     (out->kind == LINK_DROP && p.mode != LINK_MODE_DROP)))
		rc = ERR_NOTFOUND;
	if (rc) {
		link_clear(out);
		/* One answer for every reason: a recipient learns nothing of
		 * the link's history or its creator. */
		if (rc != ERR_DB && rc != ERR_NOMEM)
			rc = err_set(ERR_NOTFOUND, "this link does not exist, has expired or was "
						   "revoked");
	}
	return rc;
}

enum err acl_link_node(struct db *db, const struct link *l, const char *rel, struct tree_node *out)
{
	memset(out, 0, sizeof *out);
	if (l->kind != LINK_DOWNLOAD)
		return err_set(ERR_FORBIDDEN, "a drop link lists and reads nothing");
	return live_node(db, l->wp_id, l->node_id, rel, out);
}

enum err acl_link_manage(struct call *call, const struct link *l)
{
	int level = ACCT_NONE;
	enum err rc;

	if (call->caller->user_id == l->creator_id)
		return ERR_OK;
	rc = acl_wp_decide(worker_db(call->worker), call->caller, NULL, l->wp_id, ACCT_MANAGE, NULL,
			   &level);
	if (rc == ERR_NOTFOUND)
		return err_set(ERR_NOTFOUND, "no such link");
	if (rc == ERR_FORBIDDEN)
		return err_set(ERR_FORBIDDEN, "only its creator and the work package's managers "
					      "may revoke a link");
	return rc;
}

bool acl_link_visible(struct call *call, const struct link *l)
{
	int level = ACCT_NONE;

	if (call->caller->user_id == l->creator_id)
		return true;
	return !acl_wp_decide(worker_db(call->worker), call->caller, NULL, l->wp_id, ACCT_MANAGE,
			      NULL, &level);
}
