/* Unit tests for storage/notify.c: follows (explicit, automatic, "do not
 * follow" kept over an automatic one, a work package's default), the
 * preferences row and its cursor, the one-click unsubscribe, the feed's
 * scope rule ("Minutes" is not "Minutes2") and the outbox's states. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "audit.h"
#include "notify.h"
#include "storage_fixture.h"

static void test_follows(void **state)
{
	struct fx *f = *state;
	struct notify_follow *fl;
	size_t n;

	assert_int_equal(notify_follow_set(f->db, f->alice, f->wp, "", true), ERR_OK);
	/* automatic follow made, then an explicit no is not overridden */
	assert_int_equal(notify_follow_auto(f->db, f->alice, f->wp, "R/a.txt"), ERR_OK);
	assert_int_equal(notify_follow_set(f->db, f->alice, f->wp, "R/b.txt", false), ERR_OK);
	assert_int_equal(notify_follow_auto(f->db, f->alice, f->wp, "R/b.txt"), ERR_OK);
	assert_int_equal(notify_follow_list(f->db, f->alice, &fl, &n), ERR_OK);
	assert_int_equal(n, 3);
	assert_string_equal(fl[0].path, "");
	assert_true(fl[0].active && !fl[0].automatic && !fl[0].by_default);
	assert_string_equal(fl[1].path, "R/a.txt");
	assert_true(fl[1].active && fl[1].automatic);
	assert_string_equal(fl[2].path, "R/b.txt");
	assert_false(fl[2].active);
	notify_follows_free(fl, n);

	/* auto-follow off: no row */
	assert_int_equal(notify_prefs_set(f->db, f->bob, NOTIFY_DAILY, false), ERR_OK);
	assert_int_equal(notify_follow_auto(f->db, f->bob, f->wp, "R/c.txt"), ERR_OK);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM follows WHERE path = 'R/c.txt'"), 0);

	/* a default shows for whoever said nothing about the whole WP */
	assert_int_equal(notify_wp_default_set(f->db, f->wp, true, f->alice), ERR_OK);
	assert_int_equal(notify_follow_list(f->db, f->bob, &fl, &n), ERR_OK);
	assert_int_equal(n, 1);
	assert_true(fl[0].by_default && fl[0].active);
	notify_follows_free(fl, n);
	assert_int_equal(notify_follow_list(f->db, f->alice, &fl, &n), ERR_OK);
	assert_int_equal(n, 3); /* alice's own word on the WP, no default entry */
	notify_follows_free(fl, n);
	assert_int_equal(notify_follow_clear(f->db, f->alice, f->wp, "R/b.txt"), ERR_OK);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM follows WHERE path = 'R/b.txt'"), 0);
}

/* Follows go with a moved scope, by characters (not bytes), not to a
 * sibling whose name starts the same; what the person said about the
 * moved thing beats an old row at the new path; a drop takes the subtree. */
static void test_follows_move_drop(void **state)
{
	struct fx *f = *state;

	assert_int_equal(notify_follow_set(f->db, f->alice, f->wp, "Bé", true), ERR_OK);
	assert_int_equal(notify_follow_auto(f->db, f->alice, f->wp, "Bé/ü/a.txt"), ERR_OK);
	assert_int_equal(notify_follow_set(f->db, f->alice, f->wp, "Bé2", false), ERR_OK);
	assert_int_equal(notify_follow_set(f->db, f->alice, f->wp, "X", false), ERR_OK);
	assert_int_equal(notify_follow_set(f->db, f->bob, f->wp, "Bé/ü", true), ERR_OK);
	assert_int_equal(notify_follows_move(f->db, f->wp, "Bé", f->wp, "X"), ERR_OK);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM follows WHERE path = 'X' AND active = 1"),
			 1);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM follows WHERE path = 'X/ü/a.txt'"), 1);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM follows WHERE path = 'X/ü'"), 1);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM follows WHERE path = 'Bé2'"), 1);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM follows WHERE path LIKE 'Bé/%'"), 0);
	/* the root never moves; moving onto itself changes nothing */
	assert_int_equal(notify_follows_move(f->db, f->wp, "", f->wp, "Y"), ERR_INVALID);
	assert_int_equal(notify_follows_move(f->db, f->wp, "X", f->wp, "X"), ERR_OK);
	assert_int_equal(notify_follows_drop(f->db, f->wp, "X/ü"), ERR_OK);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM follows WHERE path LIKE 'X/%'"), 0);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM follows WHERE path = 'X'"), 1);
	assert_int_equal(notify_follows_drop(f->db, f->wp, ""), ERR_OK);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM follows"), 2);
}

static void test_prefs_cursor_unsubscribe(void **state)
{
	struct fx *f = *state;
	struct notify_prefs p;
	int64_t uid;

	assert_int_equal(audit_append(f->db, f->bob, "b", "", "upload", f->wp, "x", ""), ERR_OK);
	assert_int_equal(notify_prefs_get(f->db, f->alice, &p), ERR_OK);
	assert_int_equal(p.mode, NOTIFY_DAILY);
	assert_true(p.auto_follow);
	/* a new person starts at the newest event */
	assert_int_equal(p.cursor, fx_int(f, "SELECT max(id) FROM audit"));
	assert_int_equal(strlen(p.unsub), 64);
	assert_int_equal(notify_cursor_set(f->db, f->alice, p.cursor + 5, 0), ERR_OK);
	assert_int_equal(notify_cursor_set(f->db, f->alice, p.cursor + 1, 0), ERR_OK);
	assert_int_equal(fx_int(f, "SELECT cursor FROM notify_prefs WHERE user_id = 1"),
			 p.cursor + 5); /* only forwards */

	assert_int_equal(notify_unsubscribe(f->db, "0123", &uid), ERR_NOTFOUND);
	assert_int_equal(notify_unsubscribe(f->db, p.unsub, &uid), ERR_OK);
	assert_int_equal(uid, f->alice);
	notify_prefs_clear(&p);
	assert_int_equal(notify_prefs_get(f->db, f->alice, &p), ERR_OK);
	assert_int_equal(p.mode, NOTIFY_OFF);
	notify_prefs_clear(&p);
	assert_int_equal(notify_prefs_get(f->db, 999, &p), ERR_NOTFOUND);
}

static void test_feed_scope_and_events(void **state)
{
	struct fx *f = *state;
	static const char *const objects[] = {"Minutes/a", "Minutes2/b", "Minutes", "Other/c"};
	struct audit_row *r;
	size_t n;
	char ids[64];

	for (size_t i = 0; i < 4; i++)
		assert_int_equal(
			audit_append(f->db, f->alice, "a", "", "upload", f->wp, objects[i], ""),
			ERR_OK);
	assert_int_equal(audit_append(f->db, f->alice, "a", "", "download", f->wp, "Minutes/a", ""),
			 ERR_OK);
	assert_int_equal(audit_append(f->db, f->alice, "a", "", "login", 0, "", ""), ERR_OK);
	snprintf(ids, sizeof ids, "[%lld]", (long long)f->wp);
	assert_int_equal(notify_feed(f->db, ids, "Minutes", 0, 10, &r, &n), ERR_OK);
	assert_int_equal(n, 2); /* Minutes and Minutes/a, newest first; not Minutes2 */
	assert_string_equal(r[0].object, "Minutes");
	assert_string_equal(r[1].object, "Minutes/a");
	assert_string_equal(r[0].wp_code, "WP1");
	audit_rows_free(r, n);
	assert_int_equal(notify_feed(f->db, "[]", NULL, 0, 10, &r, &n), ERR_OK);
	assert_int_equal(n, 0);
	/* events only: not downloads or logins */
	assert_int_equal(notify_events(f->db, 0, INT64_MAX, 100, &r, &n), ERR_OK);
	assert_int_equal(n, 4);
	audit_rows_free(r, n);
}

static void test_outbox_states(void **state)
{
	struct fx *f = *state;
	struct notify_outbox_stats s;
	struct notify_mail *m;
	int64_t id;
	size_t n;

	assert_int_equal(notify_outbox_add(f->db, 999, "digest", NULL, "x", &id), ERR_NOTFOUND);
	assert_int_equal(notify_outbox_add(f->db, f->alice, "new_token", "cli", NULL, &id), ERR_OK);
	assert_int_equal(notify_outbox_due(f->db, db_now(), 10, &m, &n), ERR_OK);
	assert_int_equal(n, 1);
	assert_null(m[0].message);
	assert_string_equal(m[0].rcpt, "alice@example.org");
	notify_mails_free(m, n);
	assert_int_equal(notify_outbox_set_message(f->db, id, "first"), ERR_OK);
	assert_int_equal(notify_outbox_set_message(f->db, id, "second"), ERR_OK); /* kept */
	assert_int_equal(notify_outbox_retry(f->db, id, db_now() + 60, "refused", false), ERR_OK);
	assert_int_equal(notify_outbox_due(f->db, db_now(), 10, &m, &n), ERR_OK);
	assert_int_equal(n, 0); /* not before its time */
	assert_int_equal(notify_outbox_stats(f->db, &s), ERR_OK);
	assert_int_equal(s.queued, 1);
	assert_int_equal(s.retrying, 1);
	assert_int_equal(notify_outbox_due(f->db, db_now() + 61, 10, &m, &n), ERR_OK);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].message, "first");
	assert_int_equal(m[0].attempts, 1);
	notify_mails_free(m, n);
	assert_int_equal(notify_outbox_sent(f->db, id, db_now()), ERR_OK);
	assert_int_equal(notify_outbox_stats(f->db, &s), ERR_OK);
	assert_int_equal(s.queued, 0);
	assert_int_equal(s.sent, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_follows, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_follows_move_drop, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_prefs_cursor_unsubscribe, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_feed_scope_and_events, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_outbox_states, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
