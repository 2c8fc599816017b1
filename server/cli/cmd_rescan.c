/* cmd_rescan — see cmd_rescan.h. */
#include "cli/cmd_rescan.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/scan.h"
#include "cas.h"
#include "smallblob.h"
#include "db.h"
#include "err.h"
#include "scans.h"

struct rescan_args {
	const char *data, *socket, *address;
	unsigned rate;
	bool restart;
};

static int parse(int argc, char **argv, struct rescan_args *a)
{
	a->rate = 10;
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i], *val = NULL;
		size_t n = strcspn(arg, "=");
		const char **slot = NULL;

		if (!strcmp(arg, "--restart")) {
			a->restart = true;
			continue;
		}
		if (!strncmp(arg, "--data", n) && n == 6)
			slot = &a->data;
		else if (!strncmp(arg, "--clamd-socket", n) && n == 14)
			slot = &a->socket;
		else if (!strncmp(arg, "--clamd-address", n) && n == 15)
			slot = &a->address;
		else if (!(!strncmp(arg, "--rate", n) && n == 6)) {
			fprintf(stderr,
				"consort rescan: unknown option '%s' (try consort --help)\n", arg);
			return 2;
		}
		if (arg[n] == '=')
			val = arg + n + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		if (!val || !*val) {
			fprintf(stderr, "consort rescan: %s needs a value\n", arg);
			return 2;
		}
		if (slot) {
			*slot = val;
		} else {
			char *end;
			unsigned long r = strtoul(val, &end, 10);

			if (*end || r > 100000) {
				fprintf(stderr,
					"consort rescan: --rate takes blobs per second, not '%s'\n",
					val);
				return 2;
			}
			a->rate = (unsigned)r;
		}
	}
	if (!a->data || !!a->socket == !!a->address) {
		fprintf(stderr, "consort rescan: needs --data DIR and one of --clamd-socket PATH, "
				"--clamd-address HOST:PORT\n");
		return 2;
	}
	return 0;
}

/* DATA/rescan.state: the last blob done, so a new run goes on after it. */
static void state_read(const char *path, char last[DIGEST_SHA256_HEX_LEN + 1])
{
	FILE *f = fopen(path, "re");

	last[0] = '\0';
	if (!f)
		return;
	if (!fgets(last, DIGEST_SHA256_HEX_LEN + 1, f) || !cas_hash_valid(last))
		last[0] = '\0';
	fclose(f);
}

static int state_write(const char *path, const char *last)
{
	char tmp[4200];
	FILE *f;

	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f || fprintf(f, "%s\n", last) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "consort rescan: cannot save progress in %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	return 0;
}

static void pace(unsigned rate, const struct timespec *t0)
{
	struct timespec now, want;
	long long spent_ns;

	if (!rate)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	spent_ns = (now.tv_sec - t0->tv_sec) * 1000000000LL + (now.tv_nsec - t0->tv_nsec);
	if (spent_ns >= 1000000000LL / rate)
		return;
	want.tv_sec = 0;
	want.tv_nsec = 1000000000LL / rate - spent_ns;
	nanosleep(&want, NULL);
}

/* A blob in an object store has no descriptor to stream to clamd from:
 * it is scanned from a local copy (cas_local_file: the read cache's
 * file, or one fetched for this scan and removed after it). */
static enum err scan_blob(struct cas *cas, struct cas_reader *r, const char *hash,
			  struct scan_outcome *o)
{
	char path[PATH_MAX];
	bool temp = false;
	enum err rc;
	int fd;

	if (cas_reader_fd(r) >= 0)
		return scan_content(cas_reader_fd(r), cas_reader_size(r), hash, true, o);
	rc = cas_local_file(cas, hash, path, sizeof path, &temp);
	if (rc)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = err_from_errno(errno, "open a copy of a blob");
	} else {
		rc = scan_content(fd, cas_reader_size(r), hash, true, o);
		close(fd);
	}
	if (temp)
		unlink(path);
	return rc;
}

int rescan_data(const char *data, const char *address, unsigned rate, bool restart)
{
	char db_path[4096], state[4096], last[DIGEST_SHA256_HEX_LEN + 1],
		next[DIGEST_SHA256_HEX_LEN + 1];
	uint64_t scanned = 0, clean = 0, infected = 0, unscannable = 0, missing = 0;
	struct cas *cas = NULL;
	struct db *db = NULL;
	struct scan_opts so = {0};
	int status = 1;
	enum err rc;

	snprintf(db_path, sizeof db_path, "%s/consort.db", data);
	snprintf(state, sizeof state, "%s/rescan.state", data);
	if (access(db_path, R_OK | W_OK) != 0) {
		fprintf(stderr, "consort rescan: %s: %s\n", db_path, strerror(errno));
		return 1;
	}
	so.address = address;
	so.db_path = db_path;
	so.timeout_ms = 120000;
	so.wait_ms = 5000;
	so.unscannable = SCAN_ACCEPT_UNSCANNED; /* report, never refuse */
	so.unreachable = SCAN_REFUSE;
	if ((rc = scan_start(&so)) || (rc = db_open(db_path, &db)) ||
	    (rc = cas_open(data, 0, &cas))) {
		fprintf(stderr, "consort rescan: %s\n", err_detail());
		goto out;
	}
	if (restart)
		unlink(state);
	state_read(state, last);
	if (last[0])
		printf("rescan: going on after %s\n", last);
	while (!(rc = scans_next_blob(db, last, next))) {
		struct scan_outcome o;
		struct cas_reader *r;
		struct timespec t0;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		memcpy(last, next, sizeof last);
		if (smallblob_open(db, cas, next, &r)) {
			printf("missing %s (fsck tells more)\n", next);
			missing++;
		} else {
			rc = scan_blob(cas, r, next, &o);
			cas_reader_close(r);
			if (rc == ERR_INFECTED) {
				printf("infected %s %s\n", next, o.signature);
				infected++;
			} else if (rc) {
				fprintf(stderr, "consort rescan: %s (progress kept; run again)\n",
					err_detail());
				goto out;
			} else if (o.verdict == SCAN_UNSCANNED) {
				printf("unscanned %s %s\n", next, o.signature);
				unscannable++;
			} else {
				clean++;
			}
			scanned++;
		}
		if (state_write(state, last))
			goto out;
		pace(rate, &t0);
	}
	if (rc != ERR_NOTFOUND) {
		fprintf(stderr, "consort rescan: %s\n", err_detail());
		goto out;
	}
	unlink(state);
	printf("rescan: %" PRIu64 " blob(s) scanned: %" PRIu64 " clean, %" PRIu64
	       " infected, %" PRIu64 " unscannable, %" PRIu64 " missing; nothing was deleted\n",
	       scanned, clean, infected, unscannable, missing);
	status = infected || unscannable ? 3 : 0;
out:
	cas_close(cas);
	db_close(db);
	scan_stop();
	return status;
}

int cmd_rescan(int argc, char **argv)
{
	struct rescan_args a = {0};
	int bad = parse(argc, argv, &a);

	if (bad)
		return bad;
	return rescan_data(a.data, a.socket ? a.socket : a.address, a.rate, a.restart);
}
