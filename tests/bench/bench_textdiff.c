/*
 * bench_textdiff — the diff alone (search/textdiff.c) on 200-page texts
 * (~450 words a page, as tests/e2e/deliverables_diff.test.mjs builds):
 * a few edits (a page removed, a word changed), and a complete rewrite
 * (D past the cap: the approximate answer). Extraction is not included;
 * docs/deliverables.md gives both. Usage: bench_textdiff [pages]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "textdiff.h"

static const char *const words[] = {"germline",  "clinic", "variant",  "consortium", "patient",
				    "cohort",    "data",   "the",      "of",         "and",
				    "screening", "report", "analysis", "protocol",   "sample",
				    "result",    "risk",   "model"};

/* `n` pages from `seed`; page `skip` (0-based, -1: none) left out. */
static char *pages(int n, unsigned seed, int skip)
{
	char *s = malloc((size_t)n * 6000 + 1);
	size_t k = 0;
	unsigned x = seed;

	if (!s)
		exit(1);
	for (int p = 0; p < n; p++) {
		if (p != skip)
			k += (size_t)snprintf(s + k, 32, "Page %d. ", p + 1);
		for (int i = 0; i < 450; i++) {
			x = x * 1103515245u + 12345u;
			if (p != skip)
				k += (size_t)snprintf(s + k, 32, "%s ", words[(x >> 8) % 18]);
		}
		if (p != skip)
			s[k++] = '\n';
	}
	s[k] = '\0';
	return s;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void run(const char *what, const char *a, const char *b)
{
	struct tdiff_result r;
	double t = now();

	if (tdiff(a, strlen(a), b, strlen(b), TDIFF_WORDS, 0, &r)) {
		fprintf(stderr, "bench_textdiff: %s\n", err_detail());
		exit(1);
	}
	printf("%-10s %zu -> %zu bytes: %zu deleted, %zu inserted, approximate %s, %.1f ms\n", what,
	       strlen(a), strlen(b), r.deleted, r.inserted, r.approximate ? "yes" : "no",
	       (now() - t) * 1e3);
	tdiff_free(&r);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200;
	char *a = pages(n, 1, -1), *b = pages(n, 1, n / 2), *c = pages(n, 99, -1);
	char *w = strstr(b, "germline");

	if (w)
		memcpy(w, "somatic ", 8); /* "germline" → "somatic " plus a space */
	run("few edits", a, b);
	run("rewrite", a, c);
	free(a);
	free(b);
	free(c);
	return 0;
}
