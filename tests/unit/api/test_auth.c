/* Unit tests for server/api/auth.c: Argon2id parameters and encoding,
 * rehash decisions, password rules, secrets, recovery codes, and the
 * login throttle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/auth.h"
#include "api/config.h"
#include "db.h"

static void argon2_parameters_meet_the_minimum_and_travel_in_the_hash(void **state)
{
	struct auth_argon2 p, stronger;
	char *h = NULL, *h2 = NULL;

	(void)state;
	auth_argon2_defaults(&p);
	assert_true(p.m_kib >= 19456);
	assert_true(p.t_cost >= 2);
	assert_true(p.lanes >= 1);
	assert_int_equal(auth_password_hash("correct horse battery", &p, &h), ERR_OK);
	assert_non_null(strstr(h, "$argon2id$v=19$m=19456,t=2,p=1$"));
	assert_int_equal(strncmp(h, "$argon2id$", 10), 0);
	assert_true(auth_password_verify(h, "correct horse battery"));
	assert_false(auth_password_verify(h, "correct horse batterY"));
	assert_false(auth_password_verify(h, ""));
	/* Same password, fresh salt: a different hash. */
	assert_int_equal(auth_password_hash("correct horse battery", &p, &h2), ERR_OK);
	assert_string_not_equal(h, h2);

	/* Raising any parameter marks existing hashes outdated. */
	assert_false(auth_password_outdated(h, &p));
	stronger = p;
	stronger.m_kib = 32768;
	assert_true(auth_password_outdated(h, &stronger));
	stronger = p;
	stronger.t_cost = 3;
	assert_true(auth_password_outdated(h, &stronger));
	assert_true(auth_password_outdated("$argon2i$v=19$m=65536,t=3,p=1$c2FsdA$aGFzaA", &p));
	assert_true(auth_password_outdated("", &p));
	assert_true(auth_password_outdated(NULL, &p));

	/* Malformed stored hashes never verify. */
	assert_false(auth_password_verify("$argon2id$v=19$m=19456,t=2,p=1$junk", "x"));
	assert_false(auth_password_verify("plaintext", "plaintext"));
	assert_false(auth_password_verify(NULL, "x"));
	free(h);
	free(h2);
}

static void password_rules(void **state)
{
	(void)state;
	assert_int_equal(auth_password_policy("short", NULL), ERR_INVALID);
	assert_non_null(strstr(err_detail(), "at least 12 characters"));
	/* Twelve characters, some of them two bytes long. */
	assert_int_equal(auth_password_policy("ääääääääääää", NULL), ERR_OK);
	assert_int_equal(auth_password_policy("alice@example.org", "Alice@Example.org"),
			 ERR_INVALID);
	char big[AUTH_PASSWORD_MAX + 2];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(auth_password_policy(big, NULL), ERR_INVALID);
	big[AUTH_PASSWORD_MAX] = '\0';
	assert_int_equal(auth_password_policy(big, NULL), ERR_OK);
}

static void secrets_and_recovery_codes(void **state)
{
	char a[AUTH_SECRET_LEN + 1], b[AUTH_SECRET_LEN + 1];
	char codes[AUTH_RECOVERY_CODES][AUTH_RECOVERY_LEN + 1];
	unsigned char hashes[AUTH_RECOVERY_CODES][32], h[32];
	char typed[32];

	(void)state;
	assert_int_equal(auth_secret_new(a), ERR_OK);
	assert_int_equal(auth_secret_new(b), ERR_OK);
	assert_int_equal(strlen(a), 43);
	assert_int_equal(
		strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
	assert_string_not_equal(a, b);

	assert_int_equal(auth_recovery_new(codes, hashes), ERR_OK);
	for (int i = 0; i < AUTH_RECOVERY_CODES; i++) {
		assert_int_equal(strlen(codes[i]), 11);
		assert_int_equal(codes[i][5], '-');
		for (int k = 0; k < i; k++)
			assert_string_not_equal(codes[i], codes[k]);
		/* Typed in capitals, without the dash, with spaces: same code. */
		snprintf(typed, sizeof typed, " %.5s %s ", codes[i], codes[i] + 6);
		for (char *p = typed; *p; p++)
			*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
		assert_true(auth_recovery_hash(typed, h));
		assert_memory_equal(h, hashes[i], 32);
	}
	/* I, L and O read as 1, 1, 0. */
	unsigned char h1[32], h2[32];
	assert_true(auth_recovery_hash("0000011111", h1));
	assert_true(auth_recovery_hash("OoOoo-iIlL1", h2));
	assert_memory_equal(h1, h2, 32);
	assert_false(auth_recovery_hash("00000-1111", h));
	assert_false(auth_recovery_hash("00000-111111", h));
	assert_false(auth_recovery_hash("00000-1111u", h)); /* u is not Crockford */
}

static int throttle_setup(void **state)
{
	static struct config cfg;

	config_defaults(&cfg);
	cfg.login_account_failures = 3;
	cfg.login_address_failures = 10;
	cfg.login_lockout_ms = 30000;
	cfg.login_lockout_max_ms = 100000;
	*state = &cfg;
	return auth_start(&cfg) == ERR_OK ? 0 : -1;
}

static int throttle_teardown(void **state)
{
	(void)state;
	db_clock_offset(0);
	auth_stop();
	return 0;
}

static enum err attempt(const char *email, const char *peer, bool ok, unsigned *retry,
			unsigned *locked)
{
	struct auth_ticket t;
	enum err rc = auth_throttle_begin(email, peer, &t, retry);

	if (!rc)
		auth_throttle_end(&t, ok, locked);
	return rc;
}

static void account_locks_after_failures_and_doubles(void **state)
{
	unsigned retry, locked;

	(void)state;
	assert_non_null(auth_dummy_hash());
	assert_false(auth_password_verify(auth_dummy_hash(), "anything"));
	for (int i = 0; i < 2; i++) {
		assert_int_equal(attempt("Alice@example.org", "10.0.0.1", false, &retry, &locked),
				 ERR_OK);
		assert_int_equal(locked, 0);
	}
	assert_int_equal(attempt("alice@example.org", "10.0.0.1", false, &retry, &locked), ERR_OK);
	assert_int_equal(locked, 30);
	/* Locked: refused before any password is checked, whatever the case
	 * of the email and whichever address it comes from. */
	assert_int_equal(attempt("ALICE@EXAMPLE.ORG", "10.9.9.9", true, &retry, NULL), ERR_LIMIT);
	assert_int_equal(retry, 30);
	/* Another account from the same address is not affected. */
	assert_int_equal(attempt("bob@example.org", "10.0.0.1", true, &retry, NULL), ERR_OK);

	db_clock_offset(29);
	assert_int_equal(attempt("alice@example.org", "10.0.0.1", true, &retry, NULL), ERR_LIMIT);
	assert_int_equal(retry, 1);
	db_clock_offset(30);
	/* The next failure doubles the lockout. */
	assert_int_equal(attempt("alice@example.org", "10.0.0.1", false, &retry, &locked), ERR_OK);
	assert_int_equal(locked, 60);
	db_clock_offset(90);
	/* A success clears the account's failures. */
	assert_int_equal(attempt("alice@example.org", "10.0.0.1", true, &retry, NULL), ERR_OK);
	assert_int_equal(attempt("alice@example.org", "10.0.0.1", false, &retry, &locked), ERR_OK);
	assert_int_equal(locked, 0);
	/* The lockout is capped. */
	for (int i = 0; i < 8; i++) {
		db_clock_offset(100 + 200 * (i + 1));
		attempt("carol@example.org", "10.0.0.2", false, &retry, &locked);
	}
	assert_int_equal(locked, 100);
}

static void unknown_emails_are_throttled_the_same(void **state)
{
	unsigned retry, locked = 0;

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(
			attempt("nobody@nowhere.example", "10.0.0.3", false, &retry, &locked),
			ERR_OK);
	assert_int_equal(locked, 30);
	assert_int_equal(attempt("nobody@nowhere.example", "10.0.0.3", false, &retry, NULL),
			 ERR_LIMIT);
	assert_int_equal(retry, 30);
}

static void address_locks_across_accounts_and_ipv6_by_64(void **state)
{
	unsigned retry, locked = 0;
	char email[64], peer[64];

	(void)state;
	for (int i = 0; i < 10; i++) {
		snprintf(email, sizeof email, "user%d@example.org", i);
		/* Different addresses inside one /64 count as one. */
		snprintf(peer, sizeof peer, "2001:db8:1:2::%x", i + 1);
		assert_int_equal(attempt(email, peer, false, &retry, &locked), ERR_OK);
	}
	assert_int_equal(locked, 30);
	assert_int_equal(attempt("fresh@example.org", "2001:db8:1:2:ffff::1", true, &retry, NULL),
			 ERR_LIMIT);
	/* The neighbouring /64 is another client. */
	assert_int_equal(attempt("fresh@example.org", "2001:db8:1:3::1", true, &retry, NULL),
			 ERR_OK);
}

static void concurrent_attempts_on_one_account_are_capped(void **state)
{
	struct auth_ticket t[5];
	unsigned retry;

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(auth_throttle_begin("dave@example.org", "10.0.0.4", &t[i], &retry),
				 ERR_OK);
	assert_int_equal(auth_throttle_begin("dave@example.org", "10.0.0.4", &t[4], &retry),
			 ERR_LIMIT);
	assert_int_equal(retry, 1);
	auth_throttle_end(&t[0], true, NULL);
	assert_int_equal(auth_throttle_begin("dave@example.org", "10.0.0.4", &t[4], &retry),
			 ERR_OK);
	for (int i = 1; i < 5; i++)
		auth_throttle_end(&t[i], true, NULL);
	/* Ending twice is harmless. */
	auth_throttle_end(&t[1], false, NULL);
	assert_int_equal(attempt("dave@example.org", "10.0.0.4", true, &retry, NULL), ERR_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(argon2_parameters_meet_the_minimum_and_travel_in_the_hash),
		cmocka_unit_test(password_rules),
		cmocka_unit_test(secrets_and_recovery_codes),
		cmocka_unit_test_setup_teardown(account_locks_after_failures_and_doubles,
						throttle_setup, throttle_teardown),
		cmocka_unit_test_setup_teardown(unknown_emails_are_throttled_the_same,
						throttle_setup, throttle_teardown),
		cmocka_unit_test_setup_teardown(address_locks_across_accounts_and_ipv6_by_64,
						throttle_setup, throttle_teardown),
		cmocka_unit_test_setup_teardown(concurrent_attempts_on_one_account_are_capped,
						throttle_setup, throttle_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
