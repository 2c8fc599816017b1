/* Unit tests for server/api/acl.c, the access policy: the decisions
 * below acl_authorize, on a caller already identified, against a real
 * database (acl_authorize itself needs an HTTP request: the
 * authorization matrix e2e test covers it, route by route). Levels, the
 * partner grant, coordinators, disabled accounts, "unreadable looks like
 * missing", the lock-break and upload-ownership rules, and the route
 * table's access kinds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "accounts.h"
#include "api/acl.h"
#include "api/auth.h"
#include "api/router.h"
#include "db.h"
#include "routes.h"

struct fx {
	char dir[64];
	struct db *db;
	int64_t p_a, p_b;
	struct caller coord, alice, bob, carol; /* alice, carol at A; bob at B */
	int64_t wp1, wp2;
};

static void add_user(struct fx *fx, const char *email, int64_t partner, bool coordinator,
		     struct caller *c)
{
	memset(c, 0, sizeof *c);
	assert_int_equal(
		acct_user_add(fx->db, email, email, partner, coordinator, "h", &c->user_id),
		ERR_OK);
	c->partner_id = partner;
	c->email = email;
	c->coordinator = coordinator;
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);
	char path[128];

	snprintf(fx->dir, sizeof fx->dir, "/tmp/consort-acl-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(path, sizeof path, "%s/consort.db", fx->dir);
	assert_int_equal(db_open(path, &fx->db), ERR_OK);
	assert_int_equal(db_migrate(fx->db), ERR_OK);
	assert_int_equal(acct_partner_add(fx->db, "UNIA", "University A", "DE", &fx->p_a), ERR_OK);
	assert_int_equal(acct_partner_add(fx->db, "InstB", "Institute B", "FR", &fx->p_b), ERR_OK);
	add_user(fx, "coord@example.org", fx->p_a, true, &fx->coord);
	add_user(fx, "alice@example.org", fx->p_a, false, &fx->alice);
	add_user(fx, "bob@example.org", fx->p_b, false, &fx->bob);
	add_user(fx, "carol@example.org", fx->p_a, false, &fx->carol);
	assert_int_equal(acct_wp_add(fx->db, "WP1", "Management", fx->p_a, 0, &fx->wp1), ERR_OK);
	assert_int_equal(acct_wp_add(fx->db, "WP2", "Data", 0, 0, &fx->wp2), ERR_OK);
	/* Partner A reads WP1, Alice herself writes it; Bob manages WP2. */
	assert_int_equal(acct_grant_set(fx->db, fx->wp1, 0, fx->p_a, ACCT_READ, 0, NULL), ERR_OK);
	assert_int_equal(acct_grant_set(fx->db, fx->wp1, fx->alice.user_id, 0, ACCT_WRITE, 0, NULL),
			 ERR_OK);
	assert_int_equal(acct_grant_set(fx->db, fx->wp2, fx->bob.user_id, 0, ACCT_MANAGE, 0, NULL),
			 ERR_OK);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	db_close(fx->db);
	snprintf(cmd, sizeof cmd, "rm -rf %s", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

/* The answer for `c` needing `level` on `code`, and the level seen. */
static enum err decide(struct fx *fx, const struct caller *c, const char *code, int level,
		       int *seen)
{
	int64_t id;

	return acl_wp_decide(fx->db, c, code, 0, level, &id, seen);
}

static void level_is_the_higher_of_own_and_partner_grant(void **state)
{
	struct fx *fx = *state;
	int seen;

	/* Alice: partner read, own write → write, not manage. */
	assert_int_equal(decide(fx, &fx->alice, "WP1", ACCT_READ, &seen), ERR_OK);
	assert_int_equal(seen, ACCT_WRITE);
	assert_int_equal(decide(fx, &fx->alice, "WP1", ACCT_WRITE, &seen), ERR_OK);
	assert_int_equal(decide(fx, &fx->alice, "WP1", ACCT_MANAGE, &seen), ERR_FORBIDDEN);
	assert_non_null(strstr(err_detail(), "manage"));
	assert_int_equal(seen, ACCT_WRITE);
	/* Carol has only her partner's grant. */
	assert_int_equal(decide(fx, &fx->carol, "WP1", ACCT_READ, &seen), ERR_OK);
	assert_int_equal(seen, ACCT_READ);
	assert_int_equal(decide(fx, &fx->carol, "WP1", ACCT_WRITE, &seen), ERR_FORBIDDEN);
	/* A partner grant higher than the own one wins too. */
	assert_int_equal(acct_grant_set(fx->db, fx->wp1, 0, fx->p_a, ACCT_MANAGE, 0, NULL), ERR_OK);
	assert_int_equal(decide(fx, &fx->alice, "WP1", ACCT_MANAGE, &seen), ERR_OK);
	assert_int_equal(seen, ACCT_MANAGE);
	/* By id (an upload's WP) the same. */
	assert_int_equal(acl_wp_decide(fx->db, &fx->carol, NULL, fx->wp1, ACCT_MANAGE, NULL, &seen),
			 ERR_OK);
}

static void unreadable_is_reported_like_missing(void **state)
{
	struct fx *fx = *state;
	char missing[256];
	int seen;

	assert_int_equal(decide(fx, &fx->alice, "NOPE", ACCT_READ, &seen), ERR_NOTFOUND);
	snprintf(missing, sizeof missing, "%s", err_detail());
	/* Alice cannot read WP2: the same answer, word for word. */
	assert_int_equal(decide(fx, &fx->alice, "WP2", ACCT_READ, &seen), ERR_NOTFOUND);
	assert_string_equal(err_detail(), missing);
	assert_int_equal(seen, ACCT_NONE);
	/* Even when a higher level is asked for: 404 before 403. */
	assert_int_equal(decide(fx, &fx->alice, "WP2", ACCT_MANAGE, &seen), ERR_NOTFOUND);
	assert_int_equal(acl_wp_decide(fx->db, &fx->alice, NULL, 9999, ACCT_READ, NULL, NULL),
			 ERR_NOTFOUND);
}

static void coordinator_manages_every_wp(void **state)
{
	struct fx *fx = *state;
	int seen;

	assert_int_equal(decide(fx, &fx->coord, "WP1", ACCT_MANAGE, &seen), ERR_OK);
	assert_int_equal(decide(fx, &fx->coord, "WP2", ACCT_MANAGE, &seen), ERR_OK);
	assert_int_equal(seen, ACCT_MANAGE);
	assert_int_equal(decide(fx, &fx->coord, "NOPE", ACCT_READ, &seen), ERR_NOTFOUND);
}

static void missing_or_disabled_caller_gets_nothing(void **state)
{
	struct fx *fx = *state;
	struct acct_user_change ch = {0};
	struct caller nobody = {0};
	int seen;

	assert_int_equal(decide(fx, NULL, "WP1", ACCT_READ, &seen), ERR_UNAUTHENTICATED);
	assert_int_equal(decide(fx, &nobody, "WP1", ACCT_READ, &seen), ERR_UNAUTHENTICATED);
	nobody.user_id = 9999;
	assert_int_equal(decide(fx, &nobody, "WP1", ACCT_READ, &seen), ERR_NOTFOUND);
	/* Disabled while a request is under way: the grant no longer counts,
	 * not even for a coordinator. */
	ch.set_disabled = ch.disabled = true;
	assert_int_equal(acct_user_update(fx->db, fx->alice.user_id, &ch), ERR_OK);
	assert_int_equal(decide(fx, &fx->alice, "WP1", ACCT_READ, &seen), ERR_NOTFOUND);
	assert_int_equal(acct_user_update(fx->db, fx->bob.user_id, &ch), ERR_OK);
	assert_int_equal(decide(fx, &fx->bob, "WP2", ACCT_READ, &seen), ERR_NOTFOUND);
}

static void lock_break_rule(void **state)
{
	struct fx *fx = *state;
	struct call call = {0};
	const int64_t alice = fx->alice.user_id, bob = fx->bob.user_id;

	/* No caller owns nothing and breaks nothing, whatever the level. */
	call.wp_level = ACCT_MANAGE;
	assert_false(acl_owns_lock(&call, 0));
	assert_false(acl_may_unlock(&call, alice));

	call.caller = &fx->alice;
	call.wp_level = ACCT_WRITE;
	assert_true(acl_owns_lock(&call, alice));
	assert_false(acl_owns_lock(&call, bob));
	/* Her own lock she removes; Bob's only as a manager of the WP. */
	assert_true(acl_may_unlock(&call, alice));
	assert_false(acl_may_unlock(&call, bob));
	call.wp_level = ACCT_MANAGE;
	assert_true(acl_may_unlock(&call, bob));
	/* Managing lets her break a lock, not use it as hers. */
	assert_false(acl_owns_lock(&call, bob));
}

/* News and events are edited by their author (role or not), by
 * coordinators; never with a WP-limited token or without a caller.
 * (Communication contacts, which need the database, are covered by
 * tests/e2e/directory_edit.test.mjs.) */
static void edit_posted_rule(void **state)
{
	struct fx *fx = *state;
	struct call call = {0};
	struct caller tok = fx->alice, ctok = fx->coord;

	assert_false(acl_may_edit_posted(&call, fx->alice.user_id));
	call.caller = &fx->alice;
	assert_true(acl_may_edit_posted(&call, fx->alice.user_id));
	call.caller = &fx->coord;
	assert_true(acl_may_edit_posted(&call, fx->alice.user_id));
	assert_true(acl_may_edit_posted(&call, 0));
	tok.token_id = 7;
	tok.wp_limited = true;
	call.caller = &tok;
	assert_false(acl_may_edit_posted(&call, fx->alice.user_id));
	ctok.token_id = 8;
	ctok.wp_limited = true;
	call.caller = &ctok;
	assert_false(acl_may_edit_posted(&call, fx->alice.user_id));
}

/* A token's scope narrows what its person may: read caps the level at
 * read; a WP limit makes every other work package look missing, word
 * for word, for a coordinator too. */
static void token_scope_narrows_the_level(void **state)
{
	struct fx *fx = *state;
	struct caller tok = fx->alice, ctok = fx->coord;
	char missing[256];
	int64_t only_wp2[1] = {fx->wp2}, only_wp1[1] = {fx->wp1};
	int seen;

	tok.token_id = 7;
	tok.read_only = true;
	assert_int_equal(decide(fx, &tok, "WP1", ACCT_READ, &seen), ERR_OK);
	assert_int_equal(seen, ACCT_READ);
	assert_int_equal(decide(fx, &tok, "WP1", ACCT_WRITE, &seen), ERR_FORBIDDEN);
	assert_int_equal(acl_wp_decide(fx->db, &tok, NULL, fx->wp1, ACCT_WRITE, NULL, &seen),
			 ERR_FORBIDDEN);

	assert_int_equal(decide(fx, &fx->alice, "NOPE", ACCT_READ, &seen), ERR_NOTFOUND);
	snprintf(missing, sizeof missing, "%s", err_detail());
	ctok.token_id = 8;
	ctok.wp_limited = true;
	ctok.wp_ids = only_wp2;
	ctok.nwps = 1;
	assert_int_equal(decide(fx, &ctok, "WP1", ACCT_READ, &seen), ERR_NOTFOUND);
	assert_string_equal(err_detail(), missing);
	assert_int_equal(decide(fx, &ctok, "WP2", ACCT_MANAGE, &seen), ERR_OK);
	/* Limited to nothing reads nothing (its last WP went away). */
	ctok.nwps = 0;
	assert_int_equal(decide(fx, &ctok, "WP2", ACCT_READ, &seen), ERR_NOTFOUND);
	/* Both at once: Alice's read token for WP1. */
	tok.wp_limited = true;
	tok.wp_ids = only_wp1;
	tok.nwps = 1;
	assert_int_equal(decide(fx, &tok, "WP1", ACCT_READ, &seen), ERR_OK);
	assert_int_equal(seen, ACCT_READ);
	assert_int_equal(decide(fx, &tok, "WP2", ACCT_READ, &seen), ERR_NOTFOUND);
}

/* Sudo mode is on the routes: every change to an account, to one's
 * own credentials or tokens is one of its access kinds. */
static void route_table_puts_credential_changes_in_sudo_mode(void **state)
{
	static const struct {
		const char *method, *pattern;
		enum access need;
	} want[] = {
		{"POST", "/api/v1/users", ACCESS_COORDINATOR_SUDO},
		{"PATCH", "/api/v1/users/{id}", ACCESS_COORDINATOR_SUDO},
		{"POST", "/api/v1/users/{id}/password-link", ACCESS_COORDINATOR_SUDO},
		{"POST", "/api/v1/tokens", ACCESS_SUDO},
		{"POST", "/api/v1/me/totp", ACCESS_SUDO},
		{"POST", "/api/v1/me/totp/confirm", ACCESS_SUDO},
		{"POST", "/api/v1/session/confirm", ACCESS_SESSION},
	};

	(void)state;
	for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
		bool found = false;

		for (size_t i = 0; i < nroutes; i++)
			if (!strcmp(routes[i].method, want[w].method) &&
			    !strcmp(routes[i].pattern, want[w].pattern)) {
				assert_int_equal(routes[i].access, want[w].need);
				found = true;
			}
		assert_true(found);
	}
	assert_string_equal(access_name(ACCESS_SUDO), "session:sudo");
	assert_string_equal(access_name(ACCESS_COORDINATOR_SUDO), "coordinator:sudo");
}

static void route_table_declares_access_for_wps_outside_the_path(void **state)
{
	struct route bad = {"COPY", "/dav/x/{path*}", NULL, ACCESS_DAV_COPY, RBODY_NONE};
	struct route no_id = {"PATCH", "/api/v1/uploads", NULL, ACCESS_UPLOAD_OWNER, RBODY_NONE};
	bool tus = false, copy = false, move = false;
	int upload_routes = 0;

	(void)state;
	assert_int_equal(router_check(routes, nroutes), ERR_OK);
	assert_string_equal(access_name(ACCESS_WP_WRITE_BY_METADATA), "metadata-wp:write");
	assert_string_equal(access_name(ACCESS_DAV_COPY), "dav:copy");
	assert_string_equal(access_name(ACCESS_DAV_MOVE), "dav:move");
	for (size_t i = 0; i < nroutes; i++) {
		const struct route *r = &routes[i];

		tus |= !strcmp(r->method, "POST") && !strcmp(r->pattern, "/api/v1/uploads") &&
		       r->access == ACCESS_WP_WRITE_BY_METADATA;
		copy |= !strcmp(r->method, "COPY") && r->access == ACCESS_DAV_COPY;
		move |= !strcmp(r->method, "MOVE") && r->access == ACCESS_DAV_MOVE;
		/* Every request on an existing upload but OPTIONS is its
		 * creator's, decided by the policy. */
		if (!strcmp(r->pattern, "/api/v1/uploads/{id}") && strcmp(r->method, "OPTIONS")) {
			assert_int_equal(r->access, ACCESS_UPLOAD_OWNER);
			upload_routes++;
		}
	}
	assert_true(tus && copy && move);
	assert_int_equal(upload_routes, 4);
	assert_string_equal(access_name(ACCESS_UPLOAD_OWNER), "upload:owner");
	no_id.fn = routes[0].fn;
	assert_int_equal(router_check(&no_id, 1), ERR_INTERNAL);
	/* A COPY without {wp} would have no source to decide on. */
	bad.fn = routes[0].fn;
	assert_int_equal(router_check(&bad, 1), ERR_INTERNAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(level_is_the_higher_of_own_and_partner_grant, setup,
						teardown),
		cmocka_unit_test_setup_teardown(unreadable_is_reported_like_missing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(coordinator_manages_every_wp, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_or_disabled_caller_gets_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(lock_break_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(edit_posted_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(token_scope_narrows_the_level, setup, teardown),
		cmocka_unit_test(route_table_puts_credential_changes_in_sudo_mode),
		cmocka_unit_test(route_table_declares_access_for_wps_outside_the_path),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
