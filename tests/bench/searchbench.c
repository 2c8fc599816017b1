/*
 * searchbench — query latency of the search shim on an index: N queries
 * (words, phrases, wildcards, field filters drawn from the index's own
 * vocabulary), each with a permission filter of a few work packages and
 * snippets for the first page, as the API runs them. Prints p50/p95/p99.
 * READABLE (default 3) is how many of the WPS work packages the caller
 * reads: WPS for a coordinator (every database combined).
 *
 *   searchbench DATA N WPS [READABLE]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xap.h"

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	static const char *const words[] = {
		"ka",  "lo",  "mi",  "ne",   "ru",  "ta",   "vo",  "si",   "pe",   "dra",
		"gen", "on",  "co",  "ther", "bio", "mark", "pro", "tein", "cell", "ana",
		"ly",  "sis", "cli", "ni",   "cal", "tri",  "al",  "da",   "set"};
	char link[4096], q[256];
	struct xap_reader *r;
	int n, nwps, readable = 3;
	double *lat;
	uint64_t hits = 0, rng = 12345;

	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: searchbench DATA N WPS [READABLE]\n");
		return 2;
	}
	n = atoi(argv[2]);
	nwps = atoi(argv[3]);
	if (argc == 5)
		readable = atoi(argv[4]);
	if (nwps < 1 || nwps > 64 || readable < 1 || readable > nwps) {
		fprintf(stderr, "searchbench: 1 <= READABLE <= WPS <= 64\n");
		return 2;
	}
	lat = calloc((size_t)n, sizeof *lat);
	snprintf(link, sizeof link, "%s/index/current", argv[1]);
	if (!lat || xap_reader_new(link, &r))
		return 1;
	for (int i = 0; i < n; i++) {
		int64_t wps[64];
		struct xap_query xq = {.q = q, .wps = wps, .nwps = (size_t)readable, .limit = 10};
		struct xap_result *res;
		double t0;
#define R() (rng = rng * 6364136223846793005ULL + 1442695040888963407ULL, (unsigned)(rng >> 33))
		const char *a = words[R() % 29], *b = words[R() % 29], *c = words[R() % 29],
			   *d = words[R() % 29];

		for (int k = 0; k < readable; k++)
			wps[k] = readable == nwps ? 1 + k : 1 + (int64_t)(R() % (unsigned)nwps);
		switch (i % 5) {
		case 0: snprintf(q, sizeof q, "%s%s%s", a, b, c); break;
		case 1: snprintf(q, sizeof q, "%s%s %s%s", a, b, c, d); break;
		case 2: snprintf(q, sizeof q, "\"the %s%s\"", a, b); break;
		case 3: snprintf(q, sizeof q, "%s%s*", a, b); break;
		default: snprintf(q, sizeof q, "%s%s%s OR %s%s type:pdf", a, b, c, c, d); break;
		}
		t0 = now_ms();
		if (xap_search(r, &xq, &res)) {
			fprintf(stderr, "searchbench: %s: %s\n", q, err_detail());
			return 1;
		}
		lat[i] = now_ms() - t0;
		hits += res->total;
		xap_result_free(res);
	}
	qsort(lat, (size_t)n, sizeof *lat, cmp);
	printf("queries=%d mean_hits=%.1f p50_ms=%.2f p95_ms=%.2f p99_ms=%.2f max_ms=%.2f\n", n,
	       (double)hits / n, lat[n / 2], lat[(n * 95) / 100], lat[(n * 99) / 100], lat[n - 1]);
	xap_reader_free(r);
	free(lat);
	return 0;
}
