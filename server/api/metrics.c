/* metrics — see metrics.h. */
#include "api/metrics.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "api/preview.h"
#include "cas.h"
#include "db.h"
#include "http/log.h"
#include "previews.h"
#include "api/router.h"
#include "smallblob.h"

/* Status codes the server sends (http_reason knows them), plus 0 for a
 * request whose connection died before any answer. Anything else lands
 * in the last slot, shown as code="other". */
static const int known_codes[] = {
	0,   100, 200, 201, 204, 206, 207, 301, 302, 303, 304, 400, 401,
	403, 404, 405, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417,
	422, 423, 424, 429, 431, 460, 500, 501, 503, 505, 507,
};
#define NCODES (sizeof known_codes / sizeof known_codes[0] + 1)

/* Upper bounds of the latency buckets, microseconds; +Inf is implied. */
static const uint64_t bucket_us[] = {
	1000,   2500,    5000,    10000,   25000,    50000,    100000,   250000,
	500000, 1000000, 2500000, 5000000, 10000000, 30000000, 60000000,
};
#define NBUCKETS (sizeof bucket_us / sizeof bucket_us[0] + 1)

/* Counters of one route on one worker. Only that worker writes them. */
struct route_stats {
	_Atomic uint64_t codes[NCODES];
	_Atomic uint64_t buckets[NBUCKETS]; /* per bucket, not cumulative */
	_Atomic uint64_t sum_us;
	_Atomic uint64_t bytes_in, bytes_out;
};

#define MAX_ALLOW 32
#define TOKEN_MAX 256
#define TOKEN_MIN 16

struct prefix {
	int family;
	unsigned char addr[16];
	unsigned bits;
};

static struct {
	_Atomic bool started;
	const struct route *routes;
	size_t nroutes; /* table size; slot nroutes is "unmatched" */
	unsigned nshards;
	struct route_stats **shards;
	char *data_dir;
	struct cas *cas;
	char *db_path; /* the walker's own connection counts small_blobs */

	struct prefix allow[MAX_ALLOW];
	size_t nallow;
	char token[TOKEN_MAX + 1];
	size_t token_len;

	_Atomic int64_t values[METRICS__COUNT];
	_Atomic bool fed[METRICS__COUNT];

	/* blob walker */
	pthread_t thread;
	bool thread_running;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop; /* guarded by lock */
	unsigned scan_ms;
	_Atomic bool scanned; /* a walk has completed */
	_Atomic uint64_t walk_count, walk_bytes;
	_Atomic uint64_t added_count_at_walk, added_bytes_at_walk;
	_Atomic int64_t walk_time;  /* Unix seconds of the last completed walk */
	_Atomic uint64_t walk_us;   /* how long it took */
	_Atomic bool stop_walk;     /* read by the walk callback */
	_Atomic bool small_counted; /* the small tier has been counted */
	_Atomic uint64_t small_count, small_bytes;
} m = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
};

static const char *const value_names[METRICS__COUNT] = {
	[METRICS_UPLOADS_ACTIVE] = "consort_uploads_in_progress",
	[METRICS_INDEX_QUEUE] = "consort_index_queue_depth",
	[METRICS_EXTRACT_FAILURES] = "consort_extraction_failures_total",
	[METRICS_INDEX_DOCS] = "consort_index_documents",
	[METRICS_INDEX_COMMITS] = "consort_index_commits_total",
	[METRICS_MAIL_QUEUED] = "consort_mail_queued",
	[METRICS_MAIL_RETRYING] = "consort_mail_retrying",
	[METRICS_MAIL_FAILED] = "consort_mail_failed",
	[METRICS_MAIL_OLDEST] = "consort_mail_oldest_queued_seconds",
	[METRICS_MAIL_SENT] = "consort_mail_sent_total",
	[METRICS_MAIL_SEND_ERRORS] = "consort_mail_send_errors_total",
	[METRICS_GC_RUNS] = "consort_gc_runs_total",
	[METRICS_GC_FAILURES] = "consort_gc_failures_total",
	[METRICS_GC_BYTES_RECLAIMED] = "consort_gc_reclaimed_bytes_total",
	[METRICS_GC_LAST_RUN] = "consort_gc_last_run_timestamp_seconds",
	[METRICS_GC_LAST_DURATION_MS] = "consort_gc_last_duration_seconds",
	[METRICS_COMMIT_BATCHES] = "consort_commit_batches_total",
	[METRICS_COMMIT_CHANGES] = "consort_commit_changes_total",
};
static const char *const value_help[METRICS__COUNT] = {
	[METRICS_UPLOADS_ACTIVE] = "Resumable uploads with a request writing to them now.",
	[METRICS_INDEX_QUEUE] = "Changes waiting to be applied to the search index.",
	[METRICS_EXTRACT_FAILURES] = "Document versions whose text extraction failed since start.",
	[METRICS_INDEX_DOCS] = "Documents in the search index.",
	[METRICS_INDEX_COMMITS] = "Batches committed to the search index since start (index-gap "
				  "keeps a burst of changes in a few).",
	[METRICS_MAIL_QUEUED] = "Mail in the outbox waiting to be sent.",
	[METRICS_MAIL_RETRYING] = "Waiting mail whose sending failed at least once.",
	[METRICS_MAIL_FAILED] = "Mail given up on after 3 days of failed attempts.",
	[METRICS_MAIL_OLDEST] = "Age of the oldest mail waiting in the outbox.",
	[METRICS_MAIL_SENT] = "Mail handed to the mail server (or DATA/outbox/) since start.",
	[METRICS_MAIL_SEND_ERRORS] = "Failed attempts to send mail since start.",
	[METRICS_GC_RUNS] = "Garbage collections the server ran itself (gc-interval) since start.",
	[METRICS_GC_FAILURES] = "Scheduled garbage collections that failed since start.",
	[METRICS_GC_BYTES_RECLAIMED] = "Bytes of blobs deleted by scheduled garbage collection "
				       "since start.",
	[METRICS_GC_LAST_RUN] = "When the last scheduled garbage collection finished (Unix time).",
	[METRICS_GC_LAST_DURATION_MS] = "How long the last scheduled garbage collection took.",
	[METRICS_COMMIT_BATCHES] = "Group commits (one transaction, one WAL flush) of uploads "
				   "since start.",
	[METRICS_COMMIT_CHANGES] = "Uploads (and refusals) committed in those group commits.",
};
static const bool value_is_counter[METRICS__COUNT] = {
	[METRICS_EXTRACT_FAILURES] = true, [METRICS_MAIL_SENT] = true,
	[METRICS_MAIL_SEND_ERRORS] = true, [METRICS_GC_RUNS] = true,
	[METRICS_GC_FAILURES] = true,      [METRICS_GC_BYTES_RECLAIMED] = true,
	[METRICS_COMMIT_BATCHES] = true,   [METRICS_COMMIT_CHANGES] = true,
	[METRICS_INDEX_COMMITS] = true,
};
static const bool value_is_ms[METRICS__COUNT] = {
	[METRICS_GC_LAST_DURATION_MS] = true,
};

/* --- the request path ---------------------------------------------------------- */

/* Single writer per counter: a load and a store, no locked instruction. */
static inline void bump(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline uint64_t get(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

static size_t code_slot(int status)
{
	for (size_t i = 0; i < NCODES - 1; i++)
		if (known_codes[i] == status)
			return i;
	return NCODES - 1;
}

void metrics_request(unsigned shard, const struct route *route, int status, uint64_t bytes_in,
		     uint64_t bytes_out, uint64_t duration_us)
{
	struct route_stats *rs;
	size_t slot = m.nroutes, b = 0;

	if (!atomic_load_explicit(&m.started, memory_order_acquire) || shard >= m.nshards)
		return;
	if (route && route >= m.routes && route < m.routes + m.nroutes)
		slot = (size_t)(route - m.routes);
	rs = &m.shards[shard][slot];
	bump(&rs->codes[code_slot(status)], 1);
	while (b < NBUCKETS - 1 && duration_us > bucket_us[b])
		b++;
	bump(&rs->buckets[b], 1);
	bump(&rs->sum_us, duration_us);
	bump(&rs->bytes_in, bytes_in);
	bump(&rs->bytes_out, bytes_out);
}

void metrics_set(enum metrics_value v, int64_t x)
{
	if ((unsigned)v >= METRICS__COUNT)
		return;
	atomic_store(&m.values[v], x);
	atomic_store(&m.fed[v], true);
}

void metrics_add(enum metrics_value v, int64_t delta)
{
	if ((unsigned)v >= METRICS__COUNT)
		return;
	atomic_fetch_add(&m.values[v], delta);
	atomic_store(&m.fed[v], true);
}

/* --- who may scrape -------------------------------------------------------------- */

static bool parse_prefix(const char *s, size_t len, struct prefix *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	unsigned max;

	if (len == 0 || len >= sizeof buf)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return false;
	}
	out->bits = max;
	if (slash) {
		const char *p = slash + 1;
		unsigned n = 0;

		if (!*p || strlen(p) > 3)
			return false;
		for (; *p; p++) {
			if (!isdigit((unsigned char)*p))
				return false;
			n = n * 10 + (unsigned)(*p - '0');
		}
		if (n > max)
			return false;
		out->bits = n;
	}
	return true;
}

/* Parse an allow list into `out`; NULL means loopback only. */
static enum err parse_allow(const char *allow, struct prefix *out, size_t *n)
{
	const char *p = allow ? allow : "127.0.0.0/8, ::1";

	*n = 0;
	while (*p == ' ' || *p == ',')
		p++;
	if (!strcmp(p, "none"))
		return ERR_OK;
	while (*p) {
		size_t len = strcspn(p, ", ");

		if (*n == MAX_ALLOW)
			return err_set(ERR_INVALID, "metrics-allow: more than %d entries",
				       MAX_ALLOW);
		if (!parse_prefix(p, len, &out[*n]))
			return err_set(
				ERR_INVALID,
				"metrics-allow: '%.*s' is not an address or address/prefix-length",
				(int)(len > 64 ? 64 : len), p);
		(*n)++;
		p += len;
		while (*p == ' ' || *p == ',')
			p++;
	}
	return ERR_OK;
}

enum err metrics_allow_check(const char *allow)
{
	struct prefix tmp[MAX_ALLOW];
	size_t n;

	return parse_allow(allow, tmp, &n);
}

static bool prefix_match(const struct prefix *p, int family, const unsigned char *addr)
{
	unsigned full = p->bits / 8, rest = p->bits % 8;

	if (p->family != family)
		return false;
	if (memcmp(p->addr, addr, full) != 0)
		return false;
	if (rest) {
		unsigned char mask = (unsigned char)(0xff << (8 - rest));

		if ((p->addr[full] & mask) != (addr[full] & mask))
			return false;
	}
	return true;
}

static bool peer_allowed(const char *peer)
{
	unsigned char addr[16];
	static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	if (inet_pton(AF_INET, peer, addr) == 1) {
		for (size_t i = 0; i < m.nallow; i++)
			if (prefix_match(&m.allow[i], AF_INET, addr))
				return true;
		return false;
	}
	if (inet_pton(AF_INET6, peer, addr) != 1)
		return false;
	for (size_t i = 0; i < m.nallow; i++) {
		if (prefix_match(&m.allow[i], AF_INET6, addr))
			return true;
		/* A dual-stack listener sees IPv4 clients as ::ffff:a.b.c.d. */
		if (!memcmp(addr, v4mapped, 12) && prefix_match(&m.allow[i], AF_INET, addr + 12))
			return true;
	}
	return false;
}

static bool token_equal(const char *given, size_t len)
{
	unsigned char diff = len != m.token_len;

	/* Always run over the configured token's length, so the time taken
	 * tells nothing about how much of it matched. */
	for (size_t i = 0; i < m.token_len; i++)
		diff |= (unsigned char)(m.token[i] ^ (i < len ? given[i] : 0));
	return diff == 0;
}

enum err metrics_scraper_allowed(const char *peer, const char *authorization)
{
	if (authorization && m.token_len) {
		const char *t = authorization;

		if (strncasecmp(t, "Bearer ", 7) == 0) {
			t += 7;
			while (*t == ' ')
				t++;
			if (token_equal(t, strlen(t)))
				return ERR_OK;
		}
		return err_set(ERR_UNAUTHENTICATED, "wrong metrics token");
	}
	if (peer && peer_allowed(peer))
		return ERR_OK;
	return err_set(ERR_FORBIDDEN,
		       m.token_len ? "metrics need the metrics token from this address"
				   : "metrics are not served to this address (see metrics-allow)");
}

static enum err read_token(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char buf[TOKEN_MAX + 2];
	ssize_t n;
	size_t len;

	if (fd < 0)
		return err_set(ERR_INVALID, "metrics-token-file: %s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0)
		return err_set(ERR_INVALID, "metrics-token-file: %s: %s", path, strerror(errno));
	len = (size_t)n;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
		len--;
	if (len > TOKEN_MAX)
		return err_set(ERR_INVALID, "metrics-token-file: %s: token longer than %d bytes",
			       path, TOKEN_MAX);
	if (len < TOKEN_MIN)
		return err_set(ERR_INVALID, "metrics-token-file: %s: token shorter than %d bytes",
			       path, TOKEN_MIN);
	for (size_t i = 0; i < len; i++)
		if (buf[i] <= ' ' || buf[i] > '~')
			return err_set(ERR_INVALID,
				       "metrics-token-file: %s: the token must be one line of "
				       "printable characters without spaces",
				       path);
	memcpy(m.token, buf, len);
	m.token[len] = '\0';
	m.token_len = len;
	explicit_bzero(buf, sizeof buf);
	return ERR_OK;
}

/* --- the blob walker ------------------------------------------------------------ */

static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct walk_sum {
	uint64_t count, bytes;
};

static enum err walk_one(void *ctx, const char *rel, const char *name, const struct stat *st)
{
	struct walk_sum *sum = ctx;

	(void)rel;
	if (atomic_load(&m.stop_walk))
		return ERR_CONFLICT;
	if (S_ISREG(st->st_mode) && cas_hash_valid(name)) {
		sum->count++;
		sum->bytes += (uint64_t)st->st_size;
	}
	return ERR_OK;
}

static void walk_blobs(void)
{
	struct walk_sum sum = {0, 0};
	uint64_t added, added_bytes, t0 = mono_us();

	/* Blobs placed during the walk may be counted twice (by the walk
	 * and by the delta); the next walk corrects it. */
	cas_added(m.cas, &added, &added_bytes);
	if (cas_walk(m.cas, walk_one, &sum) != ERR_OK)
		return;
	atomic_store(&m.walk_count, sum.count);
	atomic_store(&m.walk_bytes, sum.bytes);
	atomic_store(&m.added_count_at_walk, added);
	atomic_store(&m.added_bytes_at_walk, added_bytes);
	atomic_store(&m.walk_time, (int64_t)time(NULL));
	atomic_store(&m.walk_us, mono_us() - t0);
	atomic_store(&m.scanned, true);
}

/* The small tier is rows, not files: its figures are the table's, as
 * of this walk (smallblob_stats: one pass over the table, not over the
 * content of its larger rows). A failure keeps the last figures. */
static void count_small(struct db *db)
{
	uint64_t count, bytes;

	if (!db)
		return;
	if (smallblob_stats(db, &count, &bytes)) {
		log_event(LOG_WARN, "metrics", "cannot count small content: %s", err_detail());
		return;
	}
	atomic_store(&m.small_count, count);
	atomic_store(&m.small_bytes, bytes);
	atomic_store(&m.small_counted, true);
}

static void *walker_main(void *arg)
{
	struct db *db = NULL;

	(void)arg;
	/* A connection of this thread's own (db.h), only read from. Without
	 * it the blob files are still walked. */
	if (m.db_path && db_open(m.db_path, &db))
		log_event(LOG_WARN, "metrics", "no small-content figures: %s", err_detail());
	for (;;) {
		struct timespec until;

		count_small(db);
		if (m.cas)
			walk_blobs();
		pthread_mutex_lock(&m.lock);
		if (m.scan_ms == 0) {
			while (!m.stop)
				pthread_cond_wait(&m.wake, &m.lock);
		} else if (!m.stop) {
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += m.scan_ms / 1000;
			until.tv_nsec += (long)(m.scan_ms % 1000) * 1000000L;
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			while (!m.stop && pthread_cond_timedwait(&m.wake, &m.lock, &until) == 0)
				;
		}
		if (m.stop) {
			pthread_mutex_unlock(&m.lock);
			break;
		}
		pthread_mutex_unlock(&m.lock);
	}
	db_close(db);
	return NULL;
}

/* --- start and stop ------------------------------------------------------------- */

enum err metrics_start(const struct metrics_opts *o)
{
	enum err rc;

	metrics_stop();
	rc = parse_allow(o->allow, m.allow, &m.nallow);
	if (rc)
		return rc;
	if (o->token_file) {
		rc = read_token(o->token_file);
		if (rc)
			return rc;
	}
	m.routes = o->routes;
	m.nroutes = o->nroutes;
	m.nshards = o->nshards;
	m.shards = calloc(o->nshards, sizeof *m.shards);
	m.data_dir = o->data_dir ? strdup(o->data_dir) : NULL;
	m.db_path = o->db_path ? strdup(o->db_path) : NULL;
	if (!m.shards || (o->data_dir && !m.data_dir) || (o->db_path && !m.db_path))
		goto nomem;
	for (unsigned i = 0; i < o->nshards; i++) {
		/* +1: the "unmatched" slot */
		m.shards[i] = calloc(o->nroutes + 1, sizeof **m.shards);
		if (!m.shards[i])
			goto nomem;
	}
	for (size_t i = 0; i < METRICS__COUNT; i++) {
		atomic_store(&m.values[i], 0);
		atomic_store(&m.fed[i], false);
	}
	m.cas = o->cas;
	m.scan_ms = o->blob_scan_ms;
	m.stop = false;
	atomic_store(&m.stop_walk, false);
	atomic_store(&m.scanned, false);
	atomic_store(&m.small_counted, false);
	if (m.cas || m.db_path) {
		if (pthread_create(&m.thread, NULL, walker_main, NULL) != 0) {
			metrics_stop();
			return err_set(ERR_INTERNAL, "cannot start the metrics thread");
		}
		m.thread_running = true;
	}
	atomic_store_explicit(&m.started, true, memory_order_release);
	return ERR_OK;
nomem:
	metrics_stop();
	return err_set(ERR_NOMEM, "out of memory");
}

void metrics_stop(void)
{
	atomic_store(&m.started, false);
	if (m.thread_running) {
		pthread_mutex_lock(&m.lock);
		m.stop = true;
		atomic_store(&m.stop_walk, true);
		pthread_cond_signal(&m.wake);
		pthread_mutex_unlock(&m.lock);
		pthread_join(m.thread, NULL);
		m.thread_running = false;
	}
	if (m.shards)
		for (unsigned i = 0; i < m.nshards; i++)
			free(m.shards[i]);
	free(m.shards);
	m.shards = NULL;
	m.nshards = 0;
	free(m.data_dir);
	m.data_dir = NULL;
	free(m.db_path);
	m.db_path = NULL;
	m.cas = NULL;
	explicit_bzero(m.token, sizeof m.token);
	m.token_len = 0;
	m.nallow = 0;
}

/* --- rendering -------------------------------------------------------------------- */

static void header(struct evbuffer *out, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The office converters (api/preview.h): a LibreOffice that keeps
 * failing to start, or documents timing out, show here first. */
static void render_converters(struct evbuffer *out)
{
	struct preview_converter_stats cs;

	preview_converter_stats(&cs);
	header(out, "consort_preview_converters", "gauge",
	       "Office converters (LibreOffice) the server may run.");
	evbuffer_add_printf(out, "consort_preview_converters %u\n", cs.converters);
	header(out, "consort_preview_converters_running", "gauge",
	       "Office converters running now (started on first need).");
	evbuffer_add_printf(out, "consort_preview_converters_running %u\n", cs.running);
	header(out, "consort_preview_converters_busy", "gauge",
	       "Office converters converting a document now.");
	evbuffer_add_printf(out, "consort_preview_converters_busy %u\n", cs.busy);
	header(out, "consort_preview_converter_starts_total", "counter",
	       "Office converter starts, and those that failed.");
	evbuffer_add_printf(out,
			    "consort_preview_converter_starts_total{outcome=\"ok\"} %llu\n"
			    "consort_preview_converter_starts_total{outcome=\"failed\"} %llu\n",
			    (unsigned long long)cs.starts, (unsigned long long)cs.start_failures);
	header(out, "consort_preview_conversions_total", "counter",
	       "Office documents converted to PDF, by outcome.");
	evbuffer_add_printf(out,
			    "consort_preview_conversions_total{outcome=\"ok\"} %llu\n"
			    "consort_preview_conversions_total{outcome=\"failed\"} %llu\n"
			    "consort_preview_conversions_total{outcome=\"timeout\"} %llu\n",
			    (unsigned long long)cs.converted, (unsigned long long)cs.failed,
			    (unsigned long long)cs.timed_out);
	header(out, "consort_preview_conversion_seconds_total", "counter",
	       "Time spent converting office documents.");
	evbuffer_add_printf(out, "consort_preview_conversion_seconds_total %.3f\n", cs.seconds);
}

/* Route patterns are ours, but escape as the format asks anyway. */
static void label_value(struct evbuffer *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			evbuffer_add_printf(out, "\\%c", *s);
		else if (*s == '\n')
			evbuffer_add(out, "\\n", 2);
		else
			evbuffer_add(out, s, 1);
	}
}

static void route_labels(struct evbuffer *out, size_t slot)
{
	evbuffer_add_printf(out, "method=\"");
	label_value(out, slot < m.nroutes ? m.routes[slot].method : "");
	evbuffer_add_printf(out, "\",route=\"");
	label_value(out, slot < m.nroutes ? m.routes[slot].pattern : "unmatched");
	evbuffer_add_printf(out, "\"");
}

/* One route's counters summed over the shards. */
struct route_sum {
	uint64_t codes[NCODES];
	uint64_t buckets[NBUCKETS];
	uint64_t sum_us, bytes_in, bytes_out, count;
};

static void sum_route(size_t slot, struct route_sum *s)
{
	memset(s, 0, sizeof *s);
	for (unsigned i = 0; i < m.nshards; i++) {
		struct route_stats *rs = &m.shards[i][slot];

		for (size_t c = 0; c < NCODES; c++)
			s->codes[c] += get(&rs->codes[c]);
		for (size_t b = 0; b < NBUCKETS; b++)
			s->buckets[b] += get(&rs->buckets[b]);
		s->sum_us += get(&rs->sum_us);
		s->bytes_in += get(&rs->bytes_in);
		s->bytes_out += get(&rs->bytes_out);
	}
	/* The count is the buckets' total, so the +Inf bucket and _count
	 * always agree even while workers keep counting. */
	for (size_t b = 0; b < NBUCKETS; b++)
		s->count += s->buckets[b];
}

static void render_requests(struct evbuffer *out)
{
	size_t nslots = m.nroutes + 1;
	struct route_sum *sums = calloc(nslots, sizeof *sums);

	if (!sums)
		return;
	for (size_t r = 0; r < nslots; r++)
		sum_route(r, &sums[r]);

	header(out, "consort_http_requests_total", "counter",
	       "Requests answered, by route (method and pattern) and status code; "
	       "code 0: the connection ended before an answer.");
	for (size_t r = 0; r < nslots; r++)
		for (size_t c = 0; c < NCODES; c++) {
			if (!sums[r].codes[c])
				continue;
			evbuffer_add_printf(out, "consort_http_requests_total{");
			route_labels(out, r);
			if (c < NCODES - 1)
				evbuffer_add_printf(out, ",code=\"%d\"} %llu\n", known_codes[c],
						    (unsigned long long)sums[r].codes[c]);
			else
				evbuffer_add_printf(out, ",code=\"other\"} %llu\n",
						    (unsigned long long)sums[r].codes[c]);
		}

	header(out, "consort_http_request_duration_seconds", "histogram",
	       "Time from a request's complete head to the end of its response, by route.");
	for (size_t r = 0; r < nslots; r++) {
		uint64_t cum = 0;

		if (!sums[r].count)
			continue;
		for (size_t b = 0; b < NBUCKETS; b++) {
			cum += sums[r].buckets[b];
			evbuffer_add_printf(out, "consort_http_request_duration_seconds_bucket{");
			route_labels(out, r);
			if (b < NBUCKETS - 1)
				evbuffer_add_printf(out, ",le=\"%g\"} %llu\n",
						    (double)bucket_us[b] / 1e6,
						    (unsigned long long)cum);
			else
				evbuffer_add_printf(out, ",le=\"+Inf\"} %llu\n",
						    (unsigned long long)cum);
		}
		evbuffer_add_printf(out, "consort_http_request_duration_seconds_sum{");
		route_labels(out, r);
		evbuffer_add_printf(out, "} %.6f\n", (double)sums[r].sum_us / 1e6);
		evbuffer_add_printf(out, "consort_http_request_duration_seconds_count{");
		route_labels(out, r);
		evbuffer_add_printf(out, "} %llu\n", (unsigned long long)sums[r].count);
	}

	header(out, "consort_http_request_bytes_total", "counter",
	       "Request bytes read: head and (decoded) body, by route.");
	for (size_t r = 0; r < nslots; r++) {
		if (!sums[r].count)
			continue;
		evbuffer_add_printf(out, "consort_http_request_bytes_total{");
		route_labels(out, r);
		evbuffer_add_printf(out, "} %llu\n", (unsigned long long)sums[r].bytes_in);
	}
	header(out, "consort_http_response_bytes_total", "counter",
	       "Response bytes sent: status line, headers and body, by route.");
	for (size_t r = 0; r < nslots; r++) {
		if (!sums[r].count)
			continue;
		evbuffer_add_printf(out, "consort_http_response_bytes_total{");
		route_labels(out, r);
		evbuffer_add_printf(out, "} %llu\n", (unsigned long long)sums[r].bytes_out);
	}
	free(sums);
}

static void render_process(struct evbuffer *out)
{
	char buf[1024], *p;
	ssize_t n;
	int fd;
	long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	unsigned long long utime, stime, start, rss;
	DIR *d;

	fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	/* Fields after the command name, which may itself hold spaces and
	 * parentheses: start after the last ')'. utime is field 14, stime 15,
	 * starttime 22, rss 24 (proc(5)). */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2,
			 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d "
			 "%*d %*d %llu %*u %llu",
			 &utime, &stime, &start, &rss) != 4)
		return;
	header(out, "process_cpu_seconds_total", "counter", "User and system CPU time spent.");
	evbuffer_add_printf(out, "process_cpu_seconds_total %.2f\n",
			    (double)(utime + stime) / (double)tck);
	header(out, "process_resident_memory_bytes", "gauge", "Resident memory size.");
	evbuffer_add_printf(out, "process_resident_memory_bytes %llu\n",
			    rss * (unsigned long long)page);
	{
		/* starttime counts clock ticks since boot. */
		struct timespec now, up;

		clock_gettime(CLOCK_REALTIME, &now);
		clock_gettime(CLOCK_BOOTTIME, &up);
		header(out, "process_start_time_seconds", "gauge",
		       "Start time of the process since the Unix epoch.");
		evbuffer_add_printf(out, "process_start_time_seconds %.2f\n",
				    (double)now.tv_sec - (double)up.tv_sec -
					    (double)up.tv_nsec / 1e9 + (double)start / (double)tck);
	}
	d = opendir("/proc/self/fd");
	if (d) {
		long fds = 0;

		while (readdir(d))
			fds++;
		closedir(d);
		header(out, "process_open_fds", "gauge", "Open file descriptors.");
		/* minus ".", ".." and the directory's own descriptor */
		evbuffer_add_printf(out, "process_open_fds %ld\n", fds > 3 ? fds - 3 : 0);
	}
}

/* The object store's local read cache (s3-cache-size). */
static void render_cache(struct evbuffer *out)
{
	struct cas_cache_stats cs;

	if (!m.cas || !cas_cache_stats(m.cas, &cs))
		return;
	header(out, "consort_blob_cache_hits_total", "counter",
	       "Blob reads served from the local read cache (DATA/cache).");
	evbuffer_add_printf(out, "consort_blob_cache_hits_total %llu\n",
			    (unsigned long long)cs.hits);
	header(out, "consort_blob_cache_misses_total", "counter",
	       "Blob reads the read cache could not serve (read from the object store).");
	evbuffer_add_printf(out, "consort_blob_cache_misses_total %llu\n",
			    (unsigned long long)cs.misses);
	header(out, "consort_blob_cache_evictions_total", "counter",
	       "Cached blobs removed to stay under s3-cache-size.");
	evbuffer_add_printf(out, "consort_blob_cache_evictions_total %llu\n",
			    (unsigned long long)cs.evictions);
	header(out, "consort_blob_cache_dropped_total", "counter",
	       "Cached files dropped because they were changed or damaged.");
	evbuffer_add_printf(out, "consort_blob_cache_dropped_total %llu\n",
			    (unsigned long long)cs.dropped);
	header(out, "consort_blob_cache_bytes", "gauge", "Bytes in the read cache.");
	evbuffer_add_printf(out, "consort_blob_cache_bytes %llu\n", (unsigned long long)cs.bytes);
	header(out, "consort_blob_cache_entries", "gauge", "Blobs in the read cache.");
	evbuffer_add_printf(out, "consort_blob_cache_entries %llu\n",
			    (unsigned long long)cs.entries);
}

static void render_store(struct evbuffer *out)
{
	struct statvfs vfs;
	struct cas_remote_stats rs;

	if (m.cas && cas_remote_stats(m.cas, &rs)) {
		header(out, "consort_blob_store_requests_total", "counter",
		       "Requests to the object store (blob-store = s3), retries included.");
		evbuffer_add_printf(out, "consort_blob_store_requests_total %llu\n",
				    (unsigned long long)rs.requests);
		header(out, "consort_blob_store_errors_total", "counter",
		       "Object store requests that failed (unreachable, 5xx, SlowDown).");
		evbuffer_add_printf(out, "consort_blob_store_errors_total %llu\n",
				    (unsigned long long)rs.errors);
		header(out, "consort_blob_store_retries_total", "counter",
		       "Object store requests retried after a failure.");
		evbuffer_add_printf(out, "consort_blob_store_retries_total %llu\n",
				    (unsigned long long)rs.retries);
		header(out, "consort_blob_store_sent_bytes_total", "counter",
		       "Content bytes stored in the object store.");
		evbuffer_add_printf(out, "consort_blob_store_sent_bytes_total %llu\n",
				    (unsigned long long)rs.bytes_up);
		header(out, "consort_blob_store_received_bytes_total", "counter",
		       "Bytes read from the object store.");
		evbuffer_add_printf(out, "consort_blob_store_received_bytes_total %llu\n",
				    (unsigned long long)rs.bytes_down);
		header(out, "consort_blob_store_request_seconds_total", "counter",
		       "Summed latency of object store requests.");
		evbuffer_add_printf(out, "consort_blob_store_request_seconds_total %.6f\n",
				    rs.seconds);
	}
	render_cache(out);

	if (atomic_load(&m.scanned) && m.cas) {
		uint64_t added, added_bytes;

		cas_added(m.cas, &added, &added_bytes);
		header(out, "consort_blobs", "gauge",
		       "Blob files (distinct contents over the small-content threshold) in the "
		       "store: the last walk of DATA/blobs plus those stored since. Smaller "
		       "content is consort_small_blobs.");
		evbuffer_add_printf(out, "consort_blobs %llu\n",
				    (unsigned long long)(atomic_load(&m.walk_count) + added -
							 atomic_load(&m.added_count_at_walk)));
		header(out, "consort_blob_bytes", "gauge", "Bytes of those blob files.");
		evbuffer_add_printf(out, "consort_blob_bytes %llu\n",
				    (unsigned long long)(atomic_load(&m.walk_bytes) + added_bytes -
							 atomic_load(&m.added_bytes_at_walk)));
		header(out, "consort_blob_walk_timestamp_seconds", "gauge",
		       "When the last walk of DATA/blobs finished.");
		evbuffer_add_printf(out, "consort_blob_walk_timestamp_seconds %lld\n",
				    (long long)atomic_load(&m.walk_time));
		header(out, "consort_blob_walk_duration_seconds", "gauge",
		       "How long the last walk of DATA/blobs took.");
		evbuffer_add_printf(out, "consort_blob_walk_duration_seconds %.6f\n",
				    (double)atomic_load(&m.walk_us) / 1e6);
	}
	if (atomic_load(&m.small_counted)) {
		header(out, "consort_small_blobs", "gauge",
		       "Distinct small contents (up to the small-content threshold) stored in the "
		       "database instead of as blob files, at the last walk.");
		evbuffer_add_printf(out, "consort_small_blobs %llu\n",
				    (unsigned long long)atomic_load(&m.small_count));
		header(out, "consort_small_blob_bytes", "gauge",
		       "Bytes of those small contents, at the last walk.");
		evbuffer_add_printf(out, "consort_small_blob_bytes %llu\n",
				    (unsigned long long)atomic_load(&m.small_bytes));
	}
	if (preview_cache()) {
		struct previews_stats ps;

		previews_stats(preview_cache(), &ps);
		header(out, "consort_preview_cache_bytes", "gauge",
		       "Bytes in the preview cache (DATA/previews).");
		evbuffer_add_printf(out, "consort_preview_cache_bytes %llu\n",
				    (unsigned long long)ps.bytes);
		header(out, "consort_preview_cache_files", "gauge", "Files in the preview cache.");
		evbuffer_add_printf(out, "consort_preview_cache_files %llu\n",
				    (unsigned long long)ps.files);
		header(out, "consort_preview_cache_limit_bytes", "gauge",
		       "Size limit of the preview cache.");
		evbuffer_add_printf(out, "consort_preview_cache_limit_bytes %llu\n",
				    (unsigned long long)ps.limit);
		header(out, "consort_preview_cache_hits_total", "counter",
		       "Page images served from the preview cache.");
		evbuffer_add_printf(out, "consort_preview_cache_hits_total %llu\n",
				    (unsigned long long)ps.hits);
		header(out, "consort_preview_cache_misses_total", "counter",
		       "Page images that had to be made.");
		evbuffer_add_printf(out, "consort_preview_cache_misses_total %llu\n",
				    (unsigned long long)ps.misses);
		header(out, "consort_preview_cache_evictions_total", "counter",
		       "Preview files removed to keep the cache within its limit.");
		evbuffer_add_printf(out, "consort_preview_cache_evictions_total %llu\n",
				    (unsigned long long)ps.evicted);
		render_converters(out);
	}
	if (m.data_dir && statvfs(m.data_dir, &vfs) == 0) {
		header(out, "consort_data_filesystem_size_bytes", "gauge",
		       "Size of the filesystem holding the data directory.");
		evbuffer_add_printf(out, "consort_data_filesystem_size_bytes %llu\n",
				    (unsigned long long)vfs.f_blocks * vfs.f_frsize);
		header(out, "consort_data_filesystem_avail_bytes", "gauge",
		       "Bytes of that filesystem available to the server.");
		evbuffer_add_printf(out, "consort_data_filesystem_avail_bytes %llu\n",
				    (unsigned long long)vfs.f_bavail * vfs.f_frsize);
	}
}

enum err metrics_render(const struct metrics_live *live, struct evbuffer *out)
{
	if (!atomic_load(&m.started))
		return err_set(ERR_INTERNAL, "metrics are not running");
	render_requests(out);
	header(out, "consort_http_connections_open", "gauge", "Open client connections.");
	evbuffer_add_printf(out, "consort_http_connections_open %u\n", live->open_connections);
	header(out, "consort_tls_handshakes_total", "counter", "Completed TLS handshakes.");
	evbuffer_add_printf(out, "consort_tls_handshakes_total %llu\n",
			    (unsigned long long)live->tls_handshakes);
	for (size_t i = 0; i < METRICS__COUNT; i++) {
		if (!atomic_load(&m.fed[i]))
			continue;
		header(out, value_names[i], value_is_counter[i] ? "counter" : "gauge",
		       value_help[i]);
		if (value_is_ms[i]) /* kept in ms, shown in the base unit */
			evbuffer_add_printf(out, "%s %.3f\n", value_names[i],
					    (double)atomic_load(&m.values[i]) / 1000.0);
		else
			evbuffer_add_printf(out, "%s %lld\n", value_names[i],
					    (long long)atomic_load(&m.values[i]));
	}
	render_store(out);
	render_process(out);
	return ERR_OK;
}
