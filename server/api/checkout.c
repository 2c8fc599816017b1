/* checkout — see checkout.h. */
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "api/acl.h"
#include "api/apijson.h"
#include "api/app.h"
#include "api/auth.h"
#include "api/checkout.h"
#include "api/handlers.h"
#include "api/mail.h"
#include "api/router.h"
#include "davstore.h"
#include "http/http.h"
#include "http/jsonin.h"
#include "http/reply.h"
#include "name.h"
#include "tree.h"

#define CHECKOUT_MINUTES_DEFAULT 60
#define CHECKOUT_MINUTES_MAX (7 * 24 * 60)

enum err checkout_tell_broken(struct call *call, const struct davstore_lock *l)
{
	struct acct_user u = {0};
	enum err rc;

	acct_user_get(worker_db(call->worker), l->user_id, &u);
	rc = auth_audit(call, "lock_break", l->wp_id, *l->root ? l->root : "/",
			"%s of %s (user %" PRId64 ", %s) removed; the holder is told by mail",
			l->checkout ? "check-out" : "WebDAV lock", u.name ? u.name : "?",
			l->user_id, u.email ? u.email : "?");
	acct_user_clear(&u);
	if (!rc) {
		const char *wp = call_param(call, "wp");
		char what[600];

		snprintf(what, sizeof what, "%s/%s (by %s)", wp ? wp : "", l->root,
			 call->caller && call->caller->email ? call->caller->email : "a manager");
		rc = mail_account(worker_db(call->worker), l->user_id, MAIL_LOCK_BROKEN, what);
	}
	return rc;
}

static json_t *lock_json(struct call *call, const struct davstore_lock *l)
{
	struct acct_user u = {0};
	json_t *o;

	acct_user_get(worker_db(call->worker), l->user_id, &u);
	o = json_pack("{s:s, s:{s:I, s:s?, s:s?}, s:o, s:o, s:b, s:b, s:b}", "path", l->root,
		      "holder", "id", (json_int_t)l->user_id, "name", u.name, "email", u.email,
		      "created_at", apijson_time(l->created_at), "expires_at",
		      apijson_time(l->expires_at), "checkout", l->checkout, "exclusive",
		      l->exclusive, "mine", acl_owns_lock(call, l->user_id));
	acct_user_clear(&u);
	return o;
}

/* The document at the route's path, its keys in lock form, and the live
 * locks of the work package. Answers itself and returns false on error. */
struct target {
	struct name_path path;
	char *root; /* names as spelled */
	char *keys;
	struct davstore_lock *locks;
	size_t n;
};

static void target_free(struct target *t)
{
	name_path_free(&t->path);
	free(t->root);
	free(t->keys);
	davstore_locks_free(t->locks, t->n);
}

static bool target_open(struct call *call, struct target *t)
{
	struct db *db = worker_db(call->worker);
	const char *raw = call_param(call, "path");
	struct tree_node n = {0};
	struct name_path kp = {0};
	enum err rc = name_path_from_url(raw ? raw : "", raw ? strlen(raw) : 0, &t->path);

	if (!rc && t->path.n == 0)
		rc = err_set(ERR_INVALID, "only a document can be checked out");
	if (!rc)
		rc = tree_resolve(db, call->wp_id, &t->path, &n);
	if (!rc && n.is_folder)
		rc = err_set(ERR_INVALID, "'%s' is a folder; only a document can be checked out",
			     n.name);
	tree_node_clear(&n);
	if (!rc) {
		t->root = name_path_join(&t->path);
		/* keys joined by '/' as the lock rows keep them */
		kp.n = t->path.n;
		kp.names = t->path.keys;
		t->keys = name_path_join(&kp);
		if (!t->root || !t->keys)
			rc = err_set(ERR_NOMEM, "out of memory");
	}
	if (!rc)
		rc = davstore_locks_list(db, call->wp_id, &t->locks, &t->n);
	if (rc) {
		reply_err(call->req, rc);
		return false;
	}
	return true;
}

/* GET: the live locks that apply to the document. */
void h_lock_get(struct call *call)
{
	struct target t = {0};
	json_t *arr;

	if (!target_open(call, &t))
		goto out;
	arr = json_array();
	for (size_t i = 0; i < t.n; i++)
		if (davstore_lock_covers(&t.locks[i], t.keys))
			json_array_append_new(arr, lock_json(call, &t.locks[i]));
	reply_json(call->req, 200, json_pack("{s:s, s:o}", "path", t.root, "locks", arr));
out:
	target_free(&t);
}

/* POST {"minutes"}: check out for that long (default 60), or extend the
 * caller's own check-out. 423 naming the holder when someone else holds
 * a lock on it. */
void h_lock_create(struct call *call)
{
	struct db *db = worker_db(call->worker);
	int64_t minutes = CHECKOUT_MINUTES_DEFAULT;
	struct jsonin_field f[] = {
		{"minutes", JSONIN_INT, 0, 1, CHECKOUT_MINUTES_MAX, .out = &minutes},
	};
	struct davstore_lock l = {0};
	struct target t = {0};
	int status = 201;
	enum err rc = call->json ? jsonin_parse(call->json, f, 1) : ERR_OK;

	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	if (!target_open(call, &t))
		goto out;
	/* Someone else's lock: 423 with who and until when (the policy). */
	rc = acl_lock_check(call, call->wp_id, &t.path, false);
	for (size_t i = 0; !rc && i < t.n; i++) {
		const struct davstore_lock *o = &t.locks[i];

		if (o->checkout && !strcmp(o->path, t.keys) && acl_owns_lock(call, o->user_id)) {
			rc = davstore_lock_refresh(db, o->token, o->user_id, minutes * 60, &l);
			status = 200;
			break;
		}
	}
	if (!rc && status == 201) {
		davstore_new_token(l.token);
		if (!*l.token)
			rc = err_set(ERR_INTERNAL, "cannot make a lock token");
		l.wp_id = call->wp_id;
		l.path = t.keys;
		l.root = t.root;
		l.exclusive = true;
		l.owner = "";
		l.user_id = call->caller->user_id;
		l.timeout = minutes * 60;
		l.checkout = true;
		if (!rc)
			rc = davstore_lock_take(db, &l, NULL);
		/* a WebDAV lock of the caller's own, already there */
		if (rc == ERR_LOCKED)
			rc = err_set(ERR_LOCKED,
				     "'%s' is already locked by you from a WebDAV client", t.root);
		if (!rc)
			auth_audit(call, "checkout", call->wp_id, t.root, "for %" PRId64 " minutes",
				   minutes);
		/* fields borrowed from t: not to be freed through l */
		l.path = l.root = l.owner = NULL;
	}
	if (rc) {
		reply_err(call->req, rc);
		goto out;
	}
	if (!l.root) {
		l.root = strdup(t.root); /* for lock_json; freed below */
		if (!l.root) {
			reply_err(call->req, err_set(ERR_NOMEM, "out of memory"));
			goto out;
		}
	}
	reply_json(call->req, status, json_pack("{s:o}", "lock", lock_json(call, &l)));
out:
	davstore_lock_clear(&l);
	target_free(&t);
}

/* DELETE: check in (the caller's own locks on the document), or break
 * another's (a manager: acl_may_unlock; audited, the holder told). */
void h_lock_delete(struct call *call)
{
	struct db *db = worker_db(call->worker);
	struct target t = {0};
	size_t removed = 0, broken = 0;
	enum err rc = ERR_OK;

	if (!target_open(call, &t))
		goto out;
	for (size_t i = 0; !rc && i < t.n; i++) {
		const struct davstore_lock *l = &t.locks[i];
		bool own = acl_owns_lock(call, l->user_id);

		if (strcmp(l->path, t.keys))
			continue;
		if (!acl_may_unlock(call, l->user_id)) {
			rc = acl_lock_check(call, call->wp_id, &t.path, false);
			if (!rc)
				rc = err_set(ERR_LOCKED, "'%s' is locked by someone else", t.root);
			break;
		}
		rc = db_begin(db);
		if (!rc) {
			rc = davstore_lock_remove(db, l->token);
			if (!rc)
				rc = own ? auth_audit(call, "checkin", call->wp_id, t.root, NULL)
					 : checkout_tell_broken(call, l);
			if (!rc)
				rc = db_commit(db);
			if (rc)
				db_rollback(db);
		}
		if (!rc) {
			removed++;
			broken += !own;
		}
	}
	if (!rc && !removed)
		rc = err_set(ERR_NOTFOUND, "'%s' is not checked out", t.root);
	if (rc) {
		reply_err(call->req, rc);
		goto out;
	}
	reply_json(call->req, 200,
		   json_pack("{s:s, s:I, s:b}", "path", t.root, "released", (json_int_t)removed,
			     "broken", broken > 0));
out:
	target_free(&t);
}
