/* Unit tests for server/api/commitq.c: changes submitted while a commit runs
 * are committed together in one transaction, each isolated in its
 * savepoint; a lone change is committed by the thread that submits it;
 * a change is reported done only once its transaction is committed; a
 * batch that cannot commit as a whole falls back to one transaction per
 * change. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/commitq.h"
#include "storage_fixture.h"

#define N 50

struct run {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	const char *db_path;
	bool gate_entered; /* the first change is running... */
	bool gate_open;    /* ...and waits for this */
	int done;
	int visible_at_done; /* changes whose row another connection saw in done */
	enum err rc[N];
};

struct change {
	struct run *r;
	int i;
	enum { PLAIN, GATE, FAIL, KILL_TXN } kind;
};

static int64_t count(struct db *db, const char *sql)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(db_sqlite(db), sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static enum err change_run(struct db *db, void *arg)
{
	struct change *c = arg;
	char sql[128];

	if (c->kind == GATE) {
		pthread_mutex_lock(&c->r->lock);
		c->r->gate_entered = true;
		pthread_cond_broadcast(&c->r->cond);
		while (!c->r->gate_open)
			pthread_cond_wait(&c->r->cond, &c->r->lock);
		pthread_mutex_unlock(&c->r->lock);
	}
	snprintf(sql, sizeof sql, "INSERT INTO t(i) VALUES (%d)", c->i);
	if (sqlite3_exec(db_sqlite(db), sql, NULL, NULL, NULL) != SQLITE_OK)
		return err_set(ERR_DB, "insert");
	if (c->kind == FAIL)
		return err_set(ERR_PRECONDITION, "change %d fails on purpose", c->i);
	if (c->kind == KILL_TXN)
		sqlite3_exec(db_sqlite(db), "ROLLBACK", NULL, NULL,
			     NULL); /* as SQLITE_FULL would */
	return ERR_OK;
}

static void change_done(enum err rc, void *arg)
{
	struct change *c = arg;
	struct db *db;
	char sql[64];

	/* done comes after the commit: another connection sees the row */
	assert_int_equal(db_open(c->r->db_path, &db), ERR_OK);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM t WHERE i = %d", c->i);
	pthread_mutex_lock(&c->r->lock);
	if (count(db, sql) == 1)
		c->r->visible_at_done++;
	c->r->rc[c->i] = rc;
	if (rc)
		assert_non_null(
			strstr(err_detail(), c->kind == FAIL ? "on purpose" : "rolled back"));
	c->r->done++;
	pthread_cond_broadcast(&c->r->cond);
	pthread_mutex_unlock(&c->r->lock);
	db_close(db);
}

struct leader {
	struct commitq *q;
	struct change *c;
};

static void *leader_main(void *arg)
{
	struct leader *l = arg;

	assert_int_equal(commitq_submit(l->q, change_run, change_done, l->c), ERR_OK);
	return NULL;
}

/* Change 0 is submitted by a thread of its own, which becomes the
 * leader and is held inside the change; the other changes are submitted
 * meanwhile, then it is let go. */
static void submit_all(struct fx *f, struct commitq **q, struct run *r, struct change *c,
		       int special, int kind)
{
	struct leader l;
	pthread_t t;
	char path[128];

	snprintf(path, sizeof path, "%s/consort.db", f->dir);
	fx_exec(f, "CREATE TABLE t(i INTEGER)");
	memset(r, 0, sizeof *r);
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	r->db_path = strdup(path);
	assert_int_equal(commitq_start(path, 0, q), ERR_OK);
	for (int i = 0; i < N; i++) {
		c[i] = (struct change){.r = r, .i = i, .kind = PLAIN};
		if (i == 0)
			c[i].kind = GATE;
		if (i == special)
			c[i].kind = kind;
	}
	l.q = *q;
	l.c = &c[0];
	assert_int_equal(pthread_create(&t, NULL, leader_main, &l), 0);
	pthread_mutex_lock(&r->lock);
	while (!r->gate_entered)
		pthread_cond_wait(&r->cond, &r->lock);
	pthread_mutex_unlock(&r->lock);
	/* a leader is running: these are only queued */
	for (int i = 1; i < N; i++)
		assert_int_equal(commitq_submit(*q, change_run, change_done, &c[i]), ERR_OK);
	pthread_mutex_lock(&r->lock);
	assert_int_equal(r->done, 0);
	r->gate_open = true;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	pthread_join(t, NULL); /* the leader returns once the queue is empty */
	assert_int_equal(r->done, N);
}

static void one_transaction_for_what_waits_and_failures_stay_alone(void **state)
{
	struct fx *f = *state;
	struct commitq *q;
	struct run r;
	struct change c[N];
	unsigned long long batches, changes;

	submit_all(f, &q, &r, c, 17, FAIL);
	commitq_stats(q, &batches, &changes);
	/* the first change, then all that waited meanwhile */
	assert_int_equal(batches, 2);
	assert_int_equal(changes, N);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM t"), N - 1);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM t WHERE i = 17"), 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(r.rc[i], i == 17 ? ERR_PRECONDITION : ERR_OK);
	assert_int_equal(r.visible_at_done, N - 1);
	commitq_stop(q);
	free((char *)r.db_path);
}

static void a_batch_sqlite_abandons_is_committed_change_by_change(void **state)
{
	struct fx *f = *state;
	struct commitq *q;
	struct run r;
	struct change c[N];

	submit_all(f, &q, &r, c, 30, KILL_TXN);
	/* the 29 before it were rolled back with the batch and done again */
	assert_int_equal(fx_int(f, "SELECT count(*) FROM t"), N - 1);
	assert_int_equal(fx_int(f, "SELECT count(DISTINCT i) FROM t"), N - 1);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM t WHERE i = 30"), 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(r.rc[i] != ERR_OK, i == 30);
	assert_int_equal(r.visible_at_done, N - 1);
	commitq_stop(q);
	free((char *)r.db_path);
}

static void a_lone_change_is_committed_by_its_submitter(void **state)
{
	struct fx *f = *state;
	struct commitq *q;
	struct run r;
	struct change c[8];
	char path[128];
	unsigned long long batches, changes;

	snprintf(path, sizeof path, "%s/consort.db", f->dir);
	fx_exec(f, "CREATE TABLE t(i INTEGER)");
	memset(&r, 0, sizeof r);
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.cond, NULL);
	r.db_path = path;
	assert_int_equal(commitq_start(path, 3, &q), ERR_OK);
	for (int i = 0; i < 8; i++) {
		c[i] = (struct change){.r = &r, .i = i, .kind = PLAIN};
		assert_int_equal(commitq_submit(q, change_run, change_done, &c[i]), ERR_OK);
		assert_int_equal(r.done, i + 1); /* committed before submit returned */
	}
	commitq_stats(q, &batches, &changes);
	assert_int_equal(batches, 8);
	commitq_stop(q);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM t"), 8);
	commitq_stop(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			one_transaction_for_what_waits_and_failures_stay_alone, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(
			a_batch_sqlite_abandons_is_committed_change_by_change, fx_setup,
			fx_teardown),
		cmocka_unit_test_setup_teardown(a_lone_change_is_committed_by_its_submitter,
						fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
