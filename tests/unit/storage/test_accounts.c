/* Unit tests for storage/accounts.c and storage/audit.c on a real
 * SQLite database in a temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "accounts.h"
#include "audit.h"
#include "db_internal.h"
#include "digest.h"
#include "migrations.h"

struct fx {
	char dir[64];
	char path[96];
	struct db *db;
	int64_t p_a, p_b;          /* partners */
	int64_t coord, alice, bob; /* users: alice at A, bob at B */
	int64_t wp1, wp2;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);

	snprintf(fx->dir, sizeof fx->dir, "/tmp/consort-acct-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof fx->path, "%s/consort.db", fx->dir);
	assert_int_equal(db_open(fx->path, &fx->db), ERR_OK);
	assert_int_equal(db_migrate(fx->db), ERR_OK);
	assert_int_equal(acct_partner_add(fx->db, "UNIA", "University A", "DE", &fx->p_a), ERR_OK);
	assert_int_equal(acct_partner_add(fx->db, "InstB", "Institute B", "FR", &fx->p_b), ERR_OK);
	assert_int_equal(
		acct_user_add(fx->db, "coord@example.org", "Coord", fx->p_a, true, "h", &fx->coord),
		ERR_OK);
	assert_int_equal(acct_user_add(fx->db, "alice@example.org", "Alice", fx->p_a, false, "h",
				       &fx->alice),
			 ERR_OK);
	assert_int_equal(
		acct_user_add(fx->db, "bob@example.org", "Bob", fx->p_b, false, NULL, &fx->bob),
		ERR_OK);
	assert_int_equal(acct_wp_add(fx->db, "WP1", "Management", fx->p_a, fx->coord, &fx->wp1),
			 ERR_OK);
	assert_int_equal(acct_wp_add(fx->db, "WP2", "Data", 0, 0, &fx->wp2), ERR_OK);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	char cmd[128];

	db_clock_offset(0);
	db_close(fx->db);
	snprintf(cmd, sizeof cmd, "rm -rf %s", fx->dir);
	assert_int_equal(system(cmd), 0);
	free(fx);
	return 0;
}

static int64_t scalar(struct db *db, const char *sql, int64_t arg)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(db_sqlite(db), sql, -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_int64(st, 1, arg);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void hash_of(const char *secret, unsigned char out[ACCT_HASH_LEN])
{
	digest_sha256(secret, strlen(secret), out);
}

static void partners_and_users_are_unique_case_insensitively(void **state)
{
	struct fx *fx = *state;
	struct acct_partner *ps;
	struct acct_user u;
	size_t n;
	int64_t id;

	assert_int_equal(acct_partner_add(fx->db, "unia", "Again", "DE", NULL), ERR_EXISTS);
	assert_int_equal(
		acct_user_add(fx->db, "ALICE@example.org", "A2", fx->p_a, false, NULL, NULL),
		ERR_EXISTS);
	assert_int_equal(acct_user_add(fx->db, "carol@example.org", "C", 999, false, NULL, NULL),
			 ERR_NOTFOUND);
	assert_int_equal(acct_partner_id(fx->db, "insTB", &id), ERR_OK);
	assert_int_equal(id, fx->p_b);
	assert_int_equal(acct_partner_id(fx->db, "nope", &id), ERR_NOTFOUND);
	/* The schema refuses a country that is not two characters. */
	assert_int_equal(acct_partner_add(fx->db, "X", "X", "DEU", NULL), ERR_INVALID);

	assert_int_equal(acct_partner_list(fx->db, &ps, &n), ERR_OK);
	assert_int_equal(n, 2);
	assert_string_equal(ps[0].short_name, "InstB");
	acct_partners_free(ps, n);

	assert_int_equal(acct_user_by_email(fx->db, "Alice@Example.org", &u), ERR_OK);
	assert_int_equal(u.id, fx->alice);
	assert_string_equal(u.partner_short, "UNIA");
	assert_true(u.has_password);
	assert_false(u.coordinator);
	acct_user_clear(&u);
	assert_int_equal(acct_user_get(fx->db, fx->bob, &u), ERR_OK);
	assert_false(u.has_password);
	acct_user_clear(&u);
	assert_int_equal(acct_user_get(fx->db, 12345, &u), ERR_NOTFOUND);
}

static void wp_add_creates_root_folder_in_same_transaction(void **state)
{
	struct fx *fx = *state;
	struct acct_wp w;
	int64_t root;

	assert_int_equal(acct_wp_get(fx->db, fx->wp1, &w), ERR_OK);
	assert_string_equal(w.code, "WP1");
	assert_string_equal(w.lead_short, "UNIA");
	root = w.root_id;
	assert_true(root > 0);
	acct_wp_clear(&w);
	assert_int_equal(scalar(fx->db,
				"SELECT count(*) FROM nodes WHERE id = ?1 AND parent_id IS NULL"
				" AND is_folder = 1 AND name = '' AND name_key = ''",
				root),
			 1);
	assert_int_equal(scalar(fx->db, "SELECT wp_id FROM nodes WHERE id = ?", root), fx->wp1);

	/* A duplicate code fails and leaves no orphan root folder behind. */
	int64_t nodes = scalar(fx->db, "SELECT count(*) FROM nodes WHERE ?1 = ?1", 0);
	assert_int_equal(acct_wp_add(fx->db, "wp1", "Dup", 0, 0, NULL), ERR_EXISTS);
	assert_int_equal(acct_wp_add(fx->db, "WP9", "Bad lead", 777, 0, NULL), ERR_NOTFOUND);
	assert_int_equal(scalar(fx->db, "SELECT count(*) FROM nodes WHERE ?1 = ?1", 0), nodes);
	assert_int_equal(scalar(fx->db, "SELECT count(*) FROM wps WHERE ?1 = ?1", 0), 2);
}

static void level_is_highest_of_own_and_partner_grant(void **state)
{
	struct fx *fx = *state;
	struct acct_user_change ch = {0};
	int level, old;
	int64_t wp;

	assert_int_equal(acct_level(fx->db, fx->alice, fx->wp1, &level), ERR_OK);
	assert_int_equal(level, ACCT_NONE);
	assert_int_equal(acct_level(fx->db, fx->coord, fx->wp2, &level), ERR_OK);
	assert_int_equal(level, ACCT_MANAGE);

	assert_int_equal(acct_grant_set(fx->db, fx->wp1, fx->alice, 0, ACCT_READ, fx->coord, &old),
			 ERR_OK);
	assert_int_equal(old, ACCT_NONE);
	assert_int_equal(acct_level(fx->db, fx->alice, fx->wp1, &level), ERR_OK);
	assert_int_equal(level, ACCT_READ);
	/* The partner's write beats the user's own read... */
	assert_int_equal(acct_grant_set(fx->db, fx->wp1, 0, fx->p_a, ACCT_WRITE, 0, NULL), ERR_OK);
	assert_int_equal(acct_level(fx->db, fx->alice, fx->wp1, &level), ERR_OK);
	assert_int_equal(level, ACCT_WRITE);
	/* ...and the user's own manage beats the partner's write. */
	assert_int_equal(acct_grant_set(fx->db, fx->wp1, fx->alice, 0, ACCT_MANAGE, 0, &old),
			 ERR_OK);
	assert_int_equal(old, ACCT_READ);
	assert_int_equal(acct_wp_resolve(fx->db, "wp1", fx->alice, &wp, &level), ERR_OK);
	assert_int_equal(wp, fx->wp1);
	assert_int_equal(level, ACCT_MANAGE);
	/* Grants on WP1 say nothing about WP2. */
	assert_int_equal(acct_wp_resolve(fx->db, "WP2", fx->alice, &wp, &level), ERR_OK);
	assert_int_equal(level, ACCT_NONE);
	assert_int_equal(acct_wp_resolve(fx->db, "WP3", fx->alice, &wp, &level), ERR_NOTFOUND);

	/* none removes the row. */
	assert_int_equal(acct_grant_set(fx->db, fx->wp1, fx->alice, 0, ACCT_NONE, 0, &old), ERR_OK);
	assert_int_equal(old, ACCT_MANAGE);
	assert_int_equal(acct_level(fx->db, fx->alice, fx->wp1, &level), ERR_OK);
	assert_int_equal(level, ACCT_WRITE);
	assert_int_equal(scalar(fx->db, "SELECT count(*) FROM grants WHERE user_id = ?", fx->alice),
			 0);

	/* A disabled user has no level at all. */
	ch.set_disabled = true;
	ch.disabled = true;
	assert_int_equal(acct_user_update(fx->db, fx->alice, &ch), ERR_OK);
	assert_int_equal(acct_level(fx->db, fx->alice, fx->wp1, &level), ERR_OK);
	assert_int_equal(level, ACCT_NONE);

	/* Refusals. */
	assert_int_equal(acct_grant_set(fx->db, 999, fx->bob, 0, ACCT_READ, 0, NULL), ERR_NOTFOUND);
	assert_int_equal(acct_grant_set(fx->db, fx->wp1, 999, 0, ACCT_READ, 0, NULL), ERR_NOTFOUND);
	assert_int_equal(acct_grant_set(fx->db, fx->wp1, 0, 999, ACCT_READ, 0, NULL), ERR_NOTFOUND);
	assert_int_equal(acct_grant_set(fx->db, fx->wp1, fx->bob, fx->p_b, ACCT_READ, 0, NULL),
			 ERR_INVALID);
	assert_int_equal(acct_grant_set(fx->db, fx->wp1, fx->bob, 0, 4, 0, NULL), ERR_INVALID);
}

static void readable_wps_and_lists(void **state)
{
	struct fx *fx = *state;
	struct acct_wp *ws;
	struct acct_grant *gs;
	int64_t *ids;
	size_t n;

	assert_int_equal(acct_readable_wps(fx->db, fx->bob, &ids, &n), ERR_OK);
	assert_int_equal(n, 0);
	assert_null(ids);
	assert_int_equal(acct_grant_set(fx->db, fx->wp2, 0, fx->p_b, ACCT_READ, fx->coord, NULL),
			 ERR_OK);
	assert_int_equal(acct_readable_wps(fx->db, fx->bob, &ids, &n), ERR_OK);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], fx->wp2);
	free(ids);
	assert_int_equal(acct_readable_wps(fx->db, fx->coord, &ids, &n), ERR_OK);
	assert_int_equal(n, 2);
	free(ids);

	assert_int_equal(acct_wp_list(fx->db, fx->bob, &ws, &n), ERR_OK);
	assert_int_equal(n, 1);
	assert_string_equal(ws[0].code, "WP2");
	assert_int_equal(ws[0].level, ACCT_READ);
	acct_wps_free(ws, n);
	assert_int_equal(acct_wp_list(fx->db, fx->coord, &ws, &n), ERR_OK);
	assert_int_equal(n, 2);
	assert_int_equal(ws[0].level, ACCT_MANAGE);
	acct_wps_free(ws, n);

	assert_int_equal(acct_grant_set(fx->db, fx->wp2, fx->alice, 0, ACCT_WRITE, 0, NULL),
			 ERR_OK);
	assert_int_equal(acct_grant_list(fx->db, fx->wp2, &gs, &n), ERR_OK);
	assert_int_equal(n, 2);
	assert_string_equal(gs[0].partner_short, "InstB");
	assert_string_equal(gs[0].granted_by, "coord@example.org");
	assert_string_equal(gs[1].email, "alice@example.org");
	assert_int_equal(gs[1].level, ACCT_WRITE);
	assert_null(gs[1].granted_by);
	acct_grants_free(gs, n);
}

/* acct_wp_list(0) used to answer every WP: a missing caller failed open.
 * Now no caller, an unknown one and a disabled one read nothing, and all
 * four ways of asking (level, resolve, list, readable ids) agree, since
 * they share one statement of the rule. */
static void missing_or_disabled_caller_reads_nothing(void **state)
{
	struct fx *fx = *state;
	struct acct_user_change ch = {0};
	const int64_t nobody[] = {0, 999};
	struct acct_wp *ws;
	int64_t *ids, wp;
	int level;
	size_t n;

	assert_int_equal(acct_grant_set(fx->db, fx->wp1, 0, fx->p_a, ACCT_WRITE, 0, NULL), ERR_OK);
	assert_int_equal(acct_grant_set(fx->db, fx->wp2, fx->alice, 0, ACCT_READ, 0, NULL), ERR_OK);
	for (size_t i = 0; i < sizeof nobody / sizeof nobody[0]; i++) {
		assert_int_equal(acct_wp_list(fx->db, nobody[i], &ws, &n), ERR_OK);
		assert_int_equal(n, 0);
		assert_null(ws);
		assert_int_equal(acct_readable_wps(fx->db, nobody[i], &ids, &n), ERR_OK);
		assert_int_equal(n, 0);
		assert_null(ids);
		assert_int_equal(acct_level(fx->db, nobody[i], fx->wp1, &level), ERR_OK);
		assert_int_equal(level, ACCT_NONE);
		assert_int_equal(acct_wp_resolve(fx->db, "WP1", nobody[i], &wp, &level), ERR_OK);
		assert_int_equal(wp, fx->wp1);
		assert_int_equal(level, ACCT_NONE);
	}

	/* Alice: write on WP1 through her partner, read on WP2 of her own. */
	assert_int_equal(acct_wp_list(fx->db, fx->alice, &ws, &n), ERR_OK);
	assert_int_equal(n, 2);
	assert_int_equal(ws[0].level, ACCT_WRITE);
	assert_int_equal(ws[1].level, ACCT_READ);
	acct_wps_free(ws, n);
	assert_int_equal(acct_wp_resolve(fx->db, "WP2", fx->alice, &wp, &level), ERR_OK);
	assert_int_equal(level, ACCT_READ);

	ch.set_disabled = ch.disabled = true;
	assert_int_equal(acct_user_update(fx->db, fx->alice, &ch), ERR_OK);
	assert_int_equal(acct_wp_list(fx->db, fx->alice, &ws, &n), ERR_OK);
	assert_int_equal(n, 0);
	assert_int_equal(acct_readable_wps(fx->db, fx->alice, &ids, &n), ERR_OK);
	assert_int_equal(n, 0);
	assert_int_equal(acct_level(fx->db, fx->alice, fx->wp1, &level), ERR_OK);
	assert_int_equal(level, ACCT_NONE);
}

static void sessions_end_on_disable_and_password_change(void **state)
{
	struct fx *fx = *state;
	unsigned char h1[ACCT_HASH_LEN], h2[ACCT_HASH_LEN], h3[ACCT_HASH_LEN];
	struct acct_principal p;
	struct acct_user_change ch = {0};
	int64_t s1, s2;

	hash_of("one", h1);
	hash_of("two", h2);
	hash_of("three", h3);
	assert_int_equal(acct_session_create(fx->db, fx->alice, h1, "csrf1", "10.0.0.1",
					     db_now() + 3600, &s1),
			 ERR_OK);
	assert_int_equal(acct_session_create(fx->db, fx->alice, h2, "csrf2", "10.0.0.1",
					     db_now() + 3600, &s2),
			 ERR_OK);
	assert_int_equal(acct_session_lookup(fx->db, h1, &p), ERR_OK);
	assert_int_equal(p.session_id, s1);
	assert_int_equal(p.user_id, fx->alice);
	assert_string_equal(p.csrf, "csrf1");
	assert_string_equal(p.email, "alice@example.org");
	acct_principal_clear(&p);
	assert_int_equal(acct_session_lookup(fx->db, h3, &p), ERR_NOTFOUND);

	/* A password change keeps only the session that made it. */
	assert_int_equal(acct_password_set(fx->db, fx->alice, "new", true, s2), ERR_OK);
	assert_int_equal(acct_session_lookup(fx->db, h1, &p), ERR_NOTFOUND);
	assert_int_equal(acct_session_lookup(fx->db, h2, &p), ERR_OK);
	acct_principal_clear(&p);

	/* Disabling ends every session. */
	ch.set_disabled = ch.disabled = true;
	assert_int_equal(acct_user_update(fx->db, fx->alice, &ch), ERR_OK);
	assert_int_equal(acct_session_lookup(fx->db, h2, &p), ERR_NOTFOUND);
}

static void session_prune_drops_expired_and_excess(void **state)
{
	struct fx *fx = *state;
	unsigned char h[ACCT_HASH_LEN];
	char secret[16];
	int64_t now = db_now();

	for (int i = 0; i < 6; i++) {
		snprintf(secret, sizeof secret, "s%d", i);
		hash_of(secret, h);
		/* s0 is past its absolute end. */
		assert_int_equal(acct_session_create(fx->db, fx->alice, h, "c", "",
						     i == 0 ? now - 1 : now + 3600, NULL),
				 ERR_OK);
	}
	assert_int_equal(acct_session_prune(fx->db, fx->alice, now, 600, 3), ERR_OK);
	assert_int_equal(
		scalar(fx->db, "SELECT count(*) FROM sessions WHERE user_id = ?", fx->alice), 3);
	/* Idle: nothing seen for longer than `idle`. */
	assert_int_equal(acct_session_prune(fx->db, fx->alice, now + 601, 600, 10), ERR_OK);
	assert_int_equal(
		scalar(fx->db, "SELECT count(*) FROM sessions WHERE user_id = ?", fx->alice), 0);
}

static void tokens_are_revocable_only_by_owner(void **state)
{
	struct fx *fx = *state;
	unsigned char h[ACCT_HASH_LEN];
	struct acct_principal p;
	struct acct_token *ts;
	size_t n;
	int64_t id;
	char *name;

	hash_of("tok", h);
	assert_int_equal(acct_token_create(fx->db, fx->alice, "backup script", h, db_now() + 86400,
					   NULL, &id),
			 ERR_OK);
	assert_int_equal(acct_token_lookup(fx->db, h, &p), ERR_OK);
	assert_int_equal(p.token_id, id);
	assert_int_equal(p.revoked_at, 0);
	assert_int_equal(p.last_used_at, 0);
	acct_principal_clear(&p);
	assert_int_equal(acct_token_touch(fx->db, id, 1234), ERR_OK);

	assert_int_equal(acct_token_revoke(fx->db, fx->bob, id, db_now(), &name), ERR_NOTFOUND);
	assert_null(name);
	assert_int_equal(acct_token_revoke(fx->db, fx->alice, id, db_now(), &name), ERR_OK);
	assert_string_equal(name, "backup script");
	free(name);
	assert_int_equal(acct_token_revoke(fx->db, fx->alice, id, db_now(), NULL), ERR_NOTFOUND);
	assert_int_equal(acct_token_lookup(fx->db, h, &p), ERR_OK);
	assert_true(p.revoked_at > 0);
	acct_principal_clear(&p);

	assert_int_equal(acct_token_list(fx->db, fx->alice, &ts, &n), ERR_OK);
	assert_int_equal(n, 1);
	assert_string_equal(ts[0].name, "backup script");
	assert_int_equal(ts[0].last_used_at, 1234);
	assert_true(ts[0].revoked_at > 0);
	acct_tokens_free(ts, n);
}

static void links_are_one_time_and_expire(void **state)
{
	struct fx *fx = *state;
	unsigned char h1[ACCT_HASH_LEN], h2[ACCT_HASH_LEN];
	int64_t uid = 0, now = db_now();

	hash_of("link1", h1);
	hash_of("link2", h2);
	assert_int_equal(acct_link_create(fx->db, fx->bob, fx->coord, h1, now + 100), ERR_OK);
	assert_int_equal(acct_link_check(fx->db, h1, now, false, &uid), ERR_OK);
	assert_int_equal(uid, fx->bob);
	/* A new link replaces the unused old one. */
	assert_int_equal(acct_link_create(fx->db, fx->bob, fx->coord, h2, now + 100), ERR_OK);
	assert_int_equal(acct_link_check(fx->db, h1, now, false, &uid), ERR_NOTFOUND);
	assert_int_equal(acct_link_check(fx->db, h2, now + 100, false, &uid), ERR_NOTFOUND);
	assert_int_equal(acct_link_check(fx->db, h2, now, true, &uid), ERR_OK);
	assert_int_equal(acct_link_check(fx->db, h2, now, true, &uid), ERR_NOTFOUND);
	assert_int_equal(acct_link_check(fx->db, h2, now, false, &uid), ERR_NOTFOUND);
}

static void totp_steps_are_never_reused(void **state)
{
	struct fx *fx = *state;
	unsigned char secret[20] = "12345678901234567890";
	unsigned char codes[2][ACCT_HASH_LEN];
	struct acct_totp t;
	struct acct_user u;
	struct acct_user_change ch = {0};

	hash_of("AAAA-BBBB", codes[0]);
	hash_of("CCCC-DDDD", codes[1]);
	assert_int_equal(acct_totp_enable(fx->db, fx->alice, 5, codes, 2), ERR_CONFLICT);
	assert_int_equal(acct_totp_begin(fx->db, fx->alice, secret, sizeof secret), ERR_OK);
	assert_int_equal(acct_totp_get(fx->db, fx->alice, &t), ERR_OK);
	assert_int_equal(t.secret_len, 0);
	assert_int_equal(t.pending_len, 20);
	assert_int_equal(acct_totp_enable(fx->db, fx->alice, 100, codes, 2), ERR_OK);
	assert_int_equal(acct_totp_get(fx->db, fx->alice, &t), ERR_OK);
	assert_int_equal(t.secret_len, 20);
	assert_memory_equal(t.secret, secret, 20);
	assert_int_equal(t.pending_len, 0);
	assert_int_equal(t.last_step, 100);

	assert_int_equal(acct_totp_use_step(fx->db, fx->alice, 100), ERR_CONFLICT);
	assert_int_equal(acct_totp_use_step(fx->db, fx->alice, 99), ERR_CONFLICT);
	assert_int_equal(acct_totp_use_step(fx->db, fx->alice, 101), ERR_OK);
	assert_int_equal(acct_totp_use_step(fx->db, fx->alice, 101), ERR_CONFLICT);

	assert_int_equal(acct_user_get(fx->db, fx->alice, &u), ERR_OK);
	assert_true(u.totp_enabled);
	assert_int_equal(u.recovery_left, 2);
	acct_user_clear(&u);
	assert_int_equal(acct_recovery_use(fx->db, fx->alice, codes[0], db_now()), ERR_OK);
	assert_int_equal(acct_recovery_use(fx->db, fx->alice, codes[0], db_now()), ERR_NOTFOUND);
	assert_int_equal(acct_recovery_use(fx->db, fx->bob, codes[1], db_now()), ERR_NOTFOUND);

	/* A coordinator's reset removes the factor and its codes. */
	ch.totp_reset = true;
	assert_int_equal(acct_user_update(fx->db, fx->alice, &ch), ERR_OK);
	assert_int_equal(acct_user_get(fx->db, fx->alice, &u), ERR_OK);
	assert_false(u.totp_enabled);
	assert_int_equal(u.recovery_left, 0);
	acct_user_clear(&u);
}

static void last_coordinator_stays(void **state)
{
	struct fx *fx = *state;
	struct acct_user_change ch = {0};
	struct acct_user u;

	ch.set_disabled = ch.disabled = true;
	assert_int_equal(acct_user_update(fx->db, fx->coord, &ch), ERR_CONFLICT);
	memset(&ch, 0, sizeof ch);
	ch.set_coordinator = true;
	ch.coordinator = false;
	assert_int_equal(acct_user_update(fx->db, fx->coord, &ch), ERR_CONFLICT);
	/* With a second coordinator the first may go. */
	memset(&ch, 0, sizeof ch);
	ch.set_coordinator = ch.coordinator = true;
	ch.set_name = true;
	ch.name = "Alice Second";
	assert_int_equal(acct_user_update(fx->db, fx->alice, &ch), ERR_OK);
	memset(&ch, 0, sizeof ch);
	ch.set_disabled = ch.disabled = true;
	assert_int_equal(acct_user_update(fx->db, fx->coord, &ch), ERR_OK);
	assert_int_equal(acct_user_get(fx->db, fx->alice, &u), ERR_OK);
	assert_true(u.coordinator);
	assert_string_equal(u.name, "Alice Second");
	acct_user_clear(&u);
	memset(&ch, 0, sizeof ch);
	ch.set_partner = true;
	ch.partner_id = 4242;
	assert_int_equal(acct_user_update(fx->db, fx->alice, &ch), ERR_NOTFOUND);
	assert_int_equal(acct_user_update(fx->db, 4242, &(struct acct_user_change){0}),
			 ERR_NOTFOUND);
}

static void audit_refuses_update_and_delete(void **state)
{
	struct fx *fx = *state;
	sqlite3 *sq = db_sqlite(fx->db);
	char *msg = NULL;

	assert_int_equal(audit_append(fx->db, fx->alice, "alice@example.org", "10.0.0.1", "login",
				      0, "", ""),
			 ERR_OK);
	assert_int_not_equal(
		sqlite3_exec(sq, "UPDATE audit SET action = 'nothing'", NULL, NULL, &msg),
		SQLITE_OK);
	assert_non_null(strstr(msg, "append-only"));
	sqlite3_free(msg);
	msg = NULL;
	assert_int_not_equal(sqlite3_exec(sq, "DELETE FROM audit", NULL, NULL, &msg), SQLITE_OK);
	assert_non_null(strstr(msg, "append-only"));
	sqlite3_free(msg);
	assert_int_equal(
		scalar(fx->db, "SELECT count(*) FROM audit WHERE action = 'login' AND ?1=?1", 0),
		1);
	assert_int_equal(audit_append(fx->db, 0, NULL, NULL, "", 0, NULL, NULL), ERR_INTERNAL);
}

static void audit_filters_and_pages(void **state)
{
	struct fx *fx = *state;
	struct audit_filter f = {0};
	struct audit_row *rows;
	size_t n;
	int64_t total, t0 = db_now();

	for (int i = 0; i < 10; i++) {
		db_clock_offset(i * 100);
		assert_int_equal(audit_append(fx->db, i % 2 ? fx->alice : fx->bob,
					      i % 2 ? "alice@example.org" : "bob@example.org",
					      "10.0.0.9", i < 5 ? "download" : "upload",
					      i % 3 ? fx->wp1 : 0, "/a.pdf", "d"),
				 ERR_OK);
	}
	db_clock_offset(0);

	assert_int_equal(audit_query(fx->db, &f, false, 3, 0, &rows, &n, &total), ERR_OK);
	assert_int_equal(total, 10);
	assert_int_equal(n, 3);
	assert_true(rows[0].id > rows[1].id);
	assert_string_equal(rows[0].action, "upload");
	audit_rows_free(rows, n);

	f.user_id = fx->alice;
	f.action = "upload";
	assert_int_equal(audit_query(fx->db, &f, false, 100, 0, &rows, &n, &total), ERR_OK);
	assert_int_equal(total, 3); /* i = 5, 7, 9 */
	assert_int_equal(n, 3);
	audit_rows_free(rows, n);

	memset(&f, 0, sizeof f);
	f.wp_id = fx->wp1;
	f.since = t0 + 200;
	f.until = t0 + 800;
	/* i in {2..7} with i % 3 != 0: 2, 4, 5, 7 */
	assert_int_equal(audit_query(fx->db, &f, true, 100, 0, &rows, &n, &total), ERR_OK);
	assert_int_equal(total, 4);
	assert_int_equal(n, 4);
	assert_string_equal(rows[0].wp_code, "WP1");
	assert_true(rows[0].id < rows[1].id);
	assert_int_equal(rows[0].at, t0 + 200);
	/* Keyset paging: after the second row come the third and fourth. */
	f.after_id = rows[1].id;
	audit_rows_free(rows, n);
	assert_int_equal(audit_query(fx->db, &f, true, 100, 0, &rows, &n, NULL), ERR_OK);
	assert_int_equal(n, 2);
	assert_int_equal(rows[1].at, t0 + 700);
	audit_rows_free(rows, n);

	memset(&f, 0, sizeof f);
	assert_int_equal(audit_query(fx->db, &f, false, 5, 8, &rows, &n, &total), ERR_OK);
	assert_int_equal(n, 2);
	assert_int_equal(rows[1].wp_id, 0);
	assert_null(rows[1].wp_code);
	audit_rows_free(rows, n);
}

/* Scopes are stored with the token and read back with it. */
static void token_scope_is_stored(void **state)
{
	struct fx *fx = *state;
	unsigned char h[ACCT_HASH_LEN];
	int64_t id, wps[2] = {fx->wp2, fx->wp1}, *got;
	struct acct_token_scope scope = {
		.read_only = true, .wp_limited = true, .wp_ids = wps, .nwps = 2};
	struct acct_principal p;
	struct acct_token *ts;
	size_t n;

	hash_of("scoped", h);
	assert_int_equal(
		acct_token_create(fx->db, fx->alice, "drive", h, db_now() + 86400, &scope, &id),
		ERR_OK);
	assert_int_equal(acct_token_lookup(fx->db, h, &p), ERR_OK);
	assert_true(p.read_only);
	assert_true(p.wp_limited);
	acct_principal_clear(&p);
	assert_int_equal(acct_token_wps(fx->db, id, &got, &n), ERR_OK);
	assert_int_equal(n, 2);
	assert_true(got[0] < got[1]);
	free(got);
	assert_int_equal(acct_token_list(fx->db, fx->alice, &ts, &n), ERR_OK);
	assert_int_equal(n, 1);
	assert_true(ts[0].read_only && ts[0].wp_limited);
	assert_string_equal(ts[0].wps, "WP1,WP2");
	acct_tokens_free(ts, n);
	/* Its last work package gone, it is limited to nothing, not to all. */
	assert_int_equal(sqlite3_exec(db_sqlite(fx->db), "DELETE FROM token_wps", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(acct_token_lookup(fx->db, h, &p), ERR_OK);
	assert_true(p.wp_limited);
	acct_principal_clear(&p);
}

/* Tokens and sessions from before scopes and sudo mode: a token stays
 * write on every work package; a session must confirm once. */
static void migration_keeps_old_tokens_working(void **state)
{
	char dir[64] = "/tmp/consort-mig-XXXXXX", path[128], cmd[160];
	unsigned char h[ACCT_HASH_LEN];
	struct acct_principal p;
	struct db *db;
	size_t mine = 0;
	char *msg = NULL;

	(void)state;
	for (size_t i = 0; i < db_migration_count; i++)
		if (strstr(db_migrations[i], "token_wps"))
			mine = i;
	assert_true(mine > 0);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/consort.db", dir);
	assert_int_equal(db_open(path, &db), ERR_OK);
	/* The schema as it was before this migration. */
	for (size_t i = 0; i < mine; i++)
		assert_int_equal(sqlite3_exec(db_sqlite(db), db_migrations[i], NULL, NULL, &msg),
				 SQLITE_OK);
	snprintf(cmd, sizeof cmd, "PRAGMA user_version = %zu", mine);
	assert_int_equal(sqlite3_exec(db_sqlite(db), cmd, NULL, NULL, NULL), SQLITE_OK);
	hash_of("old token", h);
	assert_int_equal(
		sqlite3_exec(
			db_sqlite(db),
			"INSERT INTO partners(short, name, country, created_at) VALUES ('A', 'A', "
			"'DE', 1);"
			"INSERT INTO users(email, name, partner_id, created_at) VALUES "
			"('old@example.org', 'Old', 1, 1);"
			"INSERT INTO sessions(token_hash, user_id, csrf, created_at, last_seen, "
			"expires_at) VALUES (x'00', 1, 'c', 1, 1, 99999999999);",
			NULL, NULL, NULL),
		SQLITE_OK);
	{
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_prepare_v2(db_sqlite(db),
						    "INSERT INTO tokens(token_hash, user_id, name, "
						    "created_at) VALUES (?, 1, 'old', 1)",
						    -1, &st, NULL),
				 SQLITE_OK);
		sqlite3_bind_blob(st, 1, h, ACCT_HASH_LEN, SQLITE_STATIC);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_finalize(st);
	}
	assert_int_equal(db_migrate(db), ERR_OK);
	assert_int_equal(acct_token_lookup(db, h, &p), ERR_OK);
	assert_false(p.read_only);
	assert_false(p.wp_limited);
	acct_principal_clear(&p);
	{
		sqlite3_stmt *st;

		/* The old session's reauth_at is 0: stale, it confirms once. */
		assert_int_equal(sqlite3_prepare_v2(db_sqlite(db), "SELECT reauth_at FROM sessions",
						    -1, &st, NULL),
				 SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int64(st, 0), 0);
		sqlite3_finalize(st);
	}
	db_close(db);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(partners_and_users_are_unique_case_insensitively,
						setup, teardown),
		cmocka_unit_test_setup_teardown(wp_add_creates_root_folder_in_same_transaction,
						setup, teardown),
		cmocka_unit_test_setup_teardown(level_is_highest_of_own_and_partner_grant, setup,
						teardown),
		cmocka_unit_test_setup_teardown(readable_wps_and_lists, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_or_disabled_caller_reads_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(sessions_end_on_disable_and_password_change, setup,
						teardown),
		cmocka_unit_test_setup_teardown(session_prune_drops_expired_and_excess, setup,
						teardown),
		cmocka_unit_test_setup_teardown(tokens_are_revocable_only_by_owner, setup,
						teardown),
		cmocka_unit_test_setup_teardown(token_scope_is_stored, setup, teardown),
		cmocka_unit_test(migration_keeps_old_tokens_working),
		cmocka_unit_test_setup_teardown(links_are_one_time_and_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(totp_steps_are_never_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(last_coordinator_stays, setup, teardown),
		cmocka_unit_test_setup_teardown(audit_refuses_update_and_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(audit_filters_and_pages, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
