/* scan — see scan.h. */
#include "api/scan.h"

#include <event2/buffer.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/clamd.h"
#include "audit.h"
#include "db.h"
#include "http/log.h"

/* Latency buckets of /metrics, seconds. */
static const double buckets[] = {0.005, 0.025, 0.1, 0.5, 2.5, 10, 60};
#define NBUCKETS (sizeof buckets / sizeof buckets[0])

static struct {
	bool on;
	char *address;
	unsigned timeout_ms, wait_ms;
	enum scan_policy unscannable, unreachable;
	pthread_mutex_t lock; /* guards db */
	struct db *db;
	atomic_int reachable; /* -1 unknown, 0 no, 1 yes: the last contact */
	/* /healthz's question to clamd runs on a thread of its own, started
	 * by the first one: a hung clamd must not hold an event loop. */
	pthread_mutex_t probe_lock;
	pthread_cond_t probe_wake;
	pthread_t prober;
	bool prober_started, probe_asked, stopping;
	_Atomic uint64_t probed_us; /* when the last question ended */
	atomic_ullong clean, infected, unscanned, cached, refused_unscannable, unavailable;
	atomic_ullong bucket[NBUCKETS + 1], count, sum_us;
} sc = {.lock = PTHREAD_MUTEX_INITIALIZER,
	.probe_lock = PTHREAD_MUTEX_INITIALIZER,
	.probe_wake = PTHREAD_COND_INITIALIZER};

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* VERSION with a short timeout: whether clamd answers at all. */
static void probe(void)
{
	struct clamd_addr a = {.address = sc.address, .timeout_ms = 1000};
	char v[SCANS_DBVER_MAX + 1];

	atomic_store(&sc.reachable, clamd_version(&a, v, sizeof v) ? 0 : 1);
	atomic_store(&sc.probed_us, now_us());
}

static void *prober_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&sc.probe_lock);
	while (!sc.stopping) {
		if (!sc.probe_asked) {
			pthread_cond_wait(&sc.probe_wake, &sc.probe_lock);
			continue;
		}
		pthread_mutex_unlock(&sc.probe_lock);
		probe();
		pthread_mutex_lock(&sc.probe_lock);
		sc.probe_asked = false;
	}
	pthread_mutex_unlock(&sc.probe_lock);
	return NULL;
}

enum err scan_policy_parse(const char *s, enum scan_policy *out)
{
	if (!s || !strcmp(s, "refuse"))
		*out = SCAN_REFUSE;
	else if (!strcmp(s, "accept-unscanned"))
		*out = SCAN_ACCEPT_UNSCANNED;
	else
		return err_set(ERR_INVALID, "must be refuse or accept-unscanned");
	return ERR_OK;
}

enum err scan_start(const struct scan_opts *o)
{
	enum err rc;

	scan_stop();
	if (!o->address)
		return ERR_OK;
	sc.address = strdup(o->address);
	if (!sc.address)
		return err_set(ERR_NOMEM, "out of memory");
	rc = db_open(o->db_path, &sc.db);
	if (rc) {
		free(sc.address);
		sc.address = NULL;
		return rc;
	}
	sc.timeout_ms = o->timeout_ms ? o->timeout_ms : 60000;
	sc.wait_ms = o->wait_ms;
	sc.unscannable = o->unscannable;
	sc.unreachable = o->unreachable;
	sc.on = true;
	probe(); /* the state at start is known, not assumed */
	return ERR_OK;
}

void scan_stop(void)
{
	pthread_mutex_lock(&sc.probe_lock);
	sc.stopping = true;
	pthread_cond_signal(&sc.probe_wake);
	pthread_mutex_unlock(&sc.probe_lock);
	if (sc.prober_started)
		pthread_join(sc.prober, NULL);
	sc.prober_started = sc.probe_asked = sc.stopping = false;
	sc.on = false;
	db_close(sc.db);
	sc.db = NULL;
	free(sc.address);
	sc.address = NULL;
}

bool scan_enabled(void) { return sc.on; }

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void observe(uint64_t us)
{
	size_t i = 0;

	while (i < NBUCKETS && (double)us / 1e6 > buckets[i])
		i++;
	atomic_fetch_add(&sc.bucket[i], 1);
	atomic_fetch_add(&sc.count, 1);
	atomic_fetch_add(&sc.sum_us, us);
}

static void record(const char *hash, enum scan_verdict v, const char *dbver, const char *sig)
{
	enum err rc;

	pthread_mutex_lock(&sc.lock);
	rc = scans_put(sc.db, hash, v, dbver, sig);
	pthread_mutex_unlock(&sc.lock);
	if (rc)
		log_event(LOG_WARN, "scan", "cannot record the verdict for %s: %s", hash,
			  err_detail());
}

static bool cached_clean(const char *hash, const char *dbver)
{
	struct scan_record r;
	enum err rc;

	pthread_mutex_lock(&sc.lock);
	rc = scans_get(sc.db, hash, &r);
	pthread_mutex_unlock(&sc.lock);
	return !rc && r.verdict == SCAN_CLEAN && !strcmp(r.db_version, dbver);
}

/* A heuristic "signature" that says the content could not be looked
 * into rather than that it is malware: follows the unscannable policy. */
static bool unscannable_signature(const char *name)
{
	return !strncmp(name, "Heuristics.Encrypted.", 21) ||
	       !strncmp(name, "Heuristics.Broken.", 18) ||
	       !strncmp(name, "Heuristics.Limits.Exceeded", 26);
}

static enum err accept_unscanned(const char *hash, const char *why, struct scan_outcome *out)
{
	out->verdict = SCAN_UNSCANNED;
	snprintf(out->signature, sizeof out->signature, "%.*s", SCANS_SIG_MAX, why);
	record(hash, SCAN_UNSCANNED, out->db_version, why);
	atomic_fetch_add(&sc.unscanned, 1);
	return ERR_OK;
}

static enum err unreachable(const char *hash, const char *why, struct scan_outcome *out)
{
	atomic_store(&sc.reachable, 0);
	log_event(LOG_WARN, "scan", "clamd unreachable: %s", why);
	if (sc.unreachable == SCAN_ACCEPT_UNSCANNED)
		return accept_unscanned(hash, "scanner unavailable", out);
	atomic_fetch_add(&sc.unavailable, 1);
	return err_set(ERR_SCANNER_UNAVAILABLE,
		       "the malware scanner is not available; nothing was stored, try again later");
}

enum err scan_content(int fd, uint64_t size, const char *hash, bool force, struct scan_outcome *out)
{
	struct clamd_addr a = {.address = sc.address, .timeout_ms = sc.timeout_ms};
	struct clamd_addr ask = a;
	uint64_t deadline, t0, now;
	enum clamd_result res;
	char name[CLAMD_REPLY_MAX + 1];

	memset(out, 0, sizeof *out);
	if (!sc.on)
		return ERR_OK;
	deadline = now_us() + (uint64_t)sc.wait_ms * 1000u;
	/* Bounded wait: clamd restarting (a reload, an update) is brief. */
	for (;;) {
		/* Whether clamd is there is asked within clamd-wait (at least
		 * a second), not clamd-timeout: a clamd that hung would hold
		 * each upload, and its disk thread, for minutes. */
		now = now_us();
		ask.timeout_ms = now < deadline ? (unsigned)((deadline - now) / 1000u) : 0;
		if (ask.timeout_ms < 1000)
			ask.timeout_ms = 1000;
		if (ask.timeout_ms > a.timeout_ms)
			ask.timeout_ms = a.timeout_ms;
		if (!clamd_version(&ask, out->db_version, sizeof out->db_version)) {
			if (!force && cached_clean(hash, out->db_version)) {
				out->verdict = SCAN_CLEAN;
				out->cached = true;
				atomic_fetch_add(&sc.cached, 1);
				atomic_store(&sc.reachable, 1);
				return ERR_OK;
			}
			t0 = now_us();
			res = clamd_instream(&a, fd, size, name);
			if (res != CLAMD_UNREACHABLE) {
				observe(now_us() - t0);
				break;
			}
		} else {
			snprintf(name, sizeof name, "%s", err_detail());
		}
		if (now_us() >= deadline)
			return unreachable(hash, name, out);
		sleep_ms(200);
	}
	atomic_store(&sc.reachable, 1);
	if (res == CLAMD_FOUND && !unscannable_signature(name)) {
		out->verdict = SCAN_INFECTED;
		snprintf(out->signature, sizeof out->signature, "%.*s", SCANS_SIG_MAX, name);
		record(hash, SCAN_INFECTED, out->db_version, name);
		atomic_fetch_add(&sc.infected, 1);
		return err_set(ERR_INFECTED, "malware found: %s; nothing was stored", name);
	}
	if (res == CLAMD_CLEAN) {
		out->verdict = SCAN_CLEAN;
		record(hash, SCAN_CLEAN, out->db_version, "");
		atomic_fetch_add(&sc.clean, 1);
		return ERR_OK;
	}
	/* Over the stream limit, an archive clamd cannot open, a scan error. */
	if (sc.unscannable == SCAN_ACCEPT_UNSCANNED)
		return accept_unscanned(hash, name, out);
	atomic_fetch_add(&sc.refused_unscannable, 1);
	snprintf(out->signature, sizeof out->signature, "%.*s", SCANS_SIG_MAX, name);
	return err_set(ERR_UNSCANNABLE,
		       "the content could not be scanned for malware (%s); nothing was stored",
		       name);
}

const char *scan_state(void)
{
	if (!sc.on)
		return "off";
	/* A /healthz polled every second asks clamd at most every two, and
	 * answers with the last contact (an upload's scan counts) rather
	 * than waiting. */
	if (now_us() - atomic_load(&sc.probed_us) > 2000000) {
		pthread_mutex_lock(&sc.probe_lock);
		if (!sc.prober_started && !sc.stopping)
			sc.prober_started = !pthread_create(&sc.prober, NULL, prober_main, NULL);
		if (sc.prober_started && !sc.probe_asked) {
			sc.probe_asked = true;
			pthread_cond_signal(&sc.probe_wake);
		}
		pthread_mutex_unlock(&sc.probe_lock);
	}
	return atomic_load(&sc.reachable) ? "ok" : "unreachable";
}

void scan_metrics(struct evbuffer *out)
{
	unsigned long long cum = 0;

	if (!sc.on)
		return;
	evbuffer_add_printf(out,
			    "# HELP consort_scanner_up Whether clamd answered at the last contact "
			    "(-1: not yet asked).\n# TYPE consort_scanner_up gauge\n"
			    "consort_scanner_up %d\n",
			    atomic_load(&sc.reachable));
	evbuffer_add_printf(out,
			    "# HELP consort_scan_verdicts_total Scan outcomes of new content.\n"
			    "# TYPE consort_scan_verdicts_total counter\n");
	evbuffer_add_printf(out, "consort_scan_verdicts_total{verdict=\"clean\"} %llu\n",
			    atomic_load(&sc.clean));
	evbuffer_add_printf(out, "consort_scan_verdicts_total{verdict=\"clean_cached\"} %llu\n",
			    atomic_load(&sc.cached));
	evbuffer_add_printf(out, "consort_scan_verdicts_total{verdict=\"infected\"} %llu\n",
			    atomic_load(&sc.infected));
	evbuffer_add_printf(out, "consort_scan_verdicts_total{verdict=\"unscanned\"} %llu\n",
			    atomic_load(&sc.unscanned));
	evbuffer_add_printf(out,
			    "consort_scan_verdicts_total{verdict=\"unscannable_refused\"} %llu\n",
			    atomic_load(&sc.refused_unscannable));
	evbuffer_add_printf(out,
			    "consort_scan_verdicts_total{verdict=\"unavailable_refused\"} %llu\n",
			    atomic_load(&sc.unavailable));
	evbuffer_add_printf(out, "# HELP consort_scan_seconds Time clamd took per INSTREAM scan.\n"
				 "# TYPE consort_scan_seconds histogram\n");
	for (size_t i = 0; i < NBUCKETS; i++) {
		cum += atomic_load(&sc.bucket[i]);
		evbuffer_add_printf(out, "consort_scan_seconds_bucket{le=\"%g\"} %llu\n",
				    buckets[i], cum);
	}
	cum += atomic_load(&sc.bucket[NBUCKETS]);
	evbuffer_add_printf(out, "consort_scan_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
	evbuffer_add_printf(out, "consort_scan_seconds_sum %.6f\nconsort_scan_seconds_count %llu\n",
			    (double)atomic_load(&sc.sum_us) / 1e6, atomic_load(&sc.count));
}

enum err scan_tell_managers(struct db *db, int64_t wp_id, const char *path, const char *signature,
			    int64_t user_id, const char *actor, const char *peer)
{
	char detail[SCANS_SIG_MAX + 64];

	snprintf(detail, sizeof detail, "malware %s in an upload, refused", signature);
	return audit_append(db, user_id, actor, peer, "malware_found", wp_id, path, detail);
}
