/*
 * h_users — what coordinators do with accounts and partners: list,
 * create, disable and enable, require a second factor, make one-time
 * set-password links; and the partner list everyone signed in may read
 * (work-package managers grant to whole partners by short name).
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "api/apijson.h"
#include "api/auth.h"
#include "api/mail.h"
#include "api/config.h"
#include "db.h"
#include "api/handlers.h"
#include "http/http.h"
#include "http/jsonin.h"
#include "http/reply.h"
#include "api/router.h"
#include "api/app.h"

/* --- partners ---------------------------------------------------------------------- */

void h_partners_list(struct call *call)
{
	struct acct_partner *ps;
	size_t n;
	json_t *arr;
	enum err rc = acct_partner_list(worker_db(call->worker), &ps, &n);

	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "short", ps[i].short_name,
						     "name", ps[i].name, "country", ps[i].country));
	acct_partners_free(ps, n);
	reply_json(call->req, 200, json_pack("{s:o}", "partners", arr));
}

void h_partner_create(struct call *call)
{
	struct db *db = worker_db(call->worker);
	const char *short_name = NULL, *name = NULL, *country = NULL;
	struct jsonin_field f[] = {
		{"short", JSONIN_STRING, JSONIN_REQUIRED, 1, 32, .out = &short_name},
		{"name", JSONIN_STRING, JSONIN_REQUIRED, 1, 200, .out = &name},
		{"country", JSONIN_STRING, JSONIN_REQUIRED, 2, 2, .out = &country},
	};
	char cc[3];
	enum err rc = jsonin_parse(call->json, f, 3);

	if (!rc)
		rc = acct_check_code("field 'short'", short_name);
	if (!rc)
		rc = acct_check_country("field 'country'", country);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	cc[0] = (char)toupper((unsigned char)country[0]);
	cc[1] = (char)toupper((unsigned char)country[1]);
	cc[2] = '\0';
	rc = db_begin(db);
	if (!rc)
		rc = acct_partner_add(db, short_name, name, cc, NULL);
	if (!rc)
		rc = auth_audit(call, "partner_create", 0, short_name, "%s (%s)", name, cc);
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db);
		reply_err(call->req, rc);
		return;
	}
	reply_json(call->req, 201,
		   json_pack("{s:{s:s, s:s, s:s}}", "partner", "short", short_name, "name", name,
			     "country", cc));
}

/* --- users --------------------------------------------------------------------------- */

void h_users_list(struct call *call)
{
	struct acct_user *us;
	size_t n;
	json_t *arr;
	enum err rc = acct_user_list(worker_db(call->worker), &us, &n);

	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	arr = json_array();
	for (size_t i = 0; arr && i < n; i++)
		json_array_append_new(arr, apijson_user(&us[i], true));
	acct_users_free(us, n);
	reply_json(call->req, 200, json_pack("{s:o}", "users", arr));
}

static void reply_user(struct call *call, int status, int64_t id)
{
	struct acct_user u;
	enum err rc = acct_user_get(worker_db(call->worker), id, &u);

	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	reply_json(call->req, status, json_pack("{s:o}", "user", apijson_user(&u, true)));
	acct_user_clear(&u);
}

/* POST /api/v1/users {"email","name","partner"[,"coordinator"]}: the
 * account has no password; a set-password link gives it one. */
void h_user_create(struct call *call)
{
	struct db *db = worker_db(call->worker);
	const char *email = NULL, *name = NULL, *partner = NULL;
	bool coordinator = false;
	struct jsonin_field f[] = {
		{"email", JSONIN_STRING, JSONIN_REQUIRED, 3, 254, .out = &email},
		{"name", JSONIN_STRING, JSONIN_REQUIRED, 1, 200, .out = &name},
		{"partner", JSONIN_STRING, JSONIN_REQUIRED, 1, 32, .out = &partner},
		{"coordinator", JSONIN_BOOL, 0, 0, 0, .out = &coordinator},
	};
	int64_t partner_id, id;
	enum err rc = jsonin_parse(call->json, f, 4);

	if (!rc)
		rc = acct_check_email("field 'email'", email);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	rc = acct_partner_id(db, partner, &partner_id);
	if (rc == ERR_NOTFOUND)
		rc = err_set(ERR_INVALID, "field 'partner': no partner '%s'", partner);
	if (!rc)
		rc = db_begin(db);
	if (!rc) {
		rc = acct_user_add(db, email, name, partner_id, coordinator, NULL, &id);
		if (!rc)
			rc = auth_audit(call, "user_create", 0, email, "partner %s%s", partner,
					coordinator ? ", coordinator" : "");
		if (!rc)
			rc = auth_notice(call, id, email, "account created%s",
					 coordinator ? " as a coordinator" : "");
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	reply_user(call, 201, id);
}

static bool user_id_param(struct call *call, int64_t *id)
{
	if (apijson_parse_id(call_param(call, "id"), id))
		return true;
	reply_err(call->req, err_set(ERR_NOTFOUND, "no such user"));
	return false;
}

/* PATCH /api/v1/users/{id}: any of "name", "partner", "coordinator",
 * "disabled", "totp_required", "totp_reset". Disabling ends the user's
 * sessions, and their tokens fail from the next request. */
void h_user_update(struct call *call)
{
	struct db *db = worker_db(call->worker);
	struct acct_user_change ch = {0};
	const char *partner = NULL;
	struct jsonin_field f[] = {
		{"name", JSONIN_STRING, 0, 1, 200, .out = &ch.name, .present = &ch.set_name},
		{"partner", JSONIN_STRING, 0, 1, 32, .out = &partner, .present = &ch.set_partner},
		{"coordinator", JSONIN_BOOL, 0, 0, 0, .out = &ch.coordinator,
		 .present = &ch.set_coordinator},
		{"disabled", JSONIN_BOOL, 0, 0, 0, .out = &ch.disabled,
		 .present = &ch.set_disabled},
		{"totp_required", JSONIN_BOOL, 0, 0, 0, .out = &ch.totp_required,
		 .present = &ch.set_totp_required},
		{"totp_reset", JSONIN_BOOL, 0, 0, 0, .out = &ch.totp_reset},
	};
	struct acct_user u = {0};
	char what[256] = "";
	size_t len = 0;
	int64_t id;
	enum err rc;

	if (!user_id_param(call, &id))
		return;
	rc = jsonin_parse(call->json, f, sizeof f / sizeof f[0]);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	if (!ch.set_name && !ch.set_partner && !ch.set_coordinator && !ch.set_disabled &&
	    !ch.set_totp_required && !ch.totp_reset) {
		reply_err(call->req, err_set(ERR_INVALID, "nothing to change"));
		return;
	}
	if (id == call->caller->user_id &&
	    ((ch.set_disabled && ch.disabled) || (ch.set_coordinator && !ch.coordinator))) {
		reply_err(
			call->req,
			err_set(ERR_CONFLICT,
				"you cannot disable or demote your own account; ask another coordinator"));
		return;
	}
	if (ch.set_partner) {
		rc = acct_partner_id(db, partner, &ch.partner_id);
		if (rc == ERR_NOTFOUND)
			rc = err_set(ERR_INVALID, "field 'partner': no partner '%s'", partner);
		if (rc) {
			reply_err(call->req, rc);
			return;
		}
	}
	/* The audit detail lists what changed, e.g. "disabled=true". */
#define NOTE(cond, ...)                                                                            \
	do {                                                                                       \
		if ((cond) && len < sizeof what)                                                   \
			len += (size_t)snprintf(what + len, sizeof what - len, __VA_ARGS__);       \
	} while (0)
	NOTE(ch.set_name, "name; ");
	NOTE(ch.set_partner, "partner=%s; ", partner);
	NOTE(ch.set_coordinator, "coordinator=%s; ", ch.coordinator ? "true" : "false");
	NOTE(ch.set_disabled, "disabled=%s; ", ch.disabled ? "true" : "false");
	NOTE(ch.set_totp_required, "totp_required=%s; ", ch.totp_required ? "true" : "false");
	NOTE(ch.totp_reset, "second factor reset; ");
#undef NOTE
	if (len >= 2 && len < sizeof what)
		what[len - 2] = '\0';
	rc = db_begin(db);
	if (!rc) {
		rc = acct_user_update(db, id, &ch);
		if (!rc)
			rc = acct_user_get(db, id, &u);
		if (!rc)
			rc = auth_audit(call, "user_update", 0, u.email, "%s", what);
		if (!rc && ch.totp_reset)
			rc = mail_account(db, id, MAIL_TOTP_RESET, call->caller->email);
		if (!rc)
			rc = auth_notice(call, id, u.email, "account changed: %s", what);
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	acct_user_clear(&u);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	reply_user(call, 200, id);
}

/* POST /api/v1/users/{id}/password-link: a one-time link for the user to
 * set a password, for the coordinator to pass on (no mail server). The
 * secret sits in the URL's fragment, which browsers never send, so it
 * reaches no server log; the app posts it in a JSON body. The link
 * starts with public-url, never with the request's Host: a crafted Host
 * must not send a person's secret to another server. */
void h_user_link(struct call *call)
{
	struct db *db = worker_db(call->worker);
	const struct config *cfg = worker_config(call->worker);
	char token[AUTH_SECRET_LEN + 1], url[512] = "";
	unsigned char hash[32];
	struct acct_user u;
	int64_t id, expires = db_now() + cfg->password_link_ms / 1000;
	enum err rc;

	if (!user_id_param(call, &id))
		return;
	rc = acct_user_get(db, id, &u);
	if (rc) {
		reply_err(call->req, rc);
		return;
	}
	rc = auth_secret_new(token);
	if (!rc) {
		auth_secret_hash(token, hash);
		rc = db_begin(db);
	}
	if (!rc) {
		rc = acct_link_create(db, id, call->caller->user_id, hash, expires);
		if (!rc)
			rc = auth_audit(call, "password_link", 0, u.email, "valid until %lld",
					(long long)expires);
		/* The person gets the link by mail too (docs/notifications.md). */
		if (!rc)
			rc = mail_account(db, id, MAIL_SET_PASSWORD, token);
		if (!rc)
			rc = auth_notice(call, id, u.email, "a set-password link was made");
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	if (rc) {
		reply_err(call->req, rc);
	} else {
		json_t *o = json_pack("{s:s, s:s, s:o}", "email", u.email, "token", token,
				      "expires_at", apijson_time(expires));

		if (o) {
			snprintf(url, sizeof url, "%s/#set-password=%s",
				 worker_public_url(call->worker), token);
			json_object_set_new(o, "url", json_string(url));
		}
		reply_json(call->req, 201, o);
	}
	explicit_bzero(token, sizeof token);
	explicit_bzero(url, sizeof url);
	acct_user_clear(&u);
}
