/*
 * mkcorpus — a reproducible corpus of mixed-format documents for
 * tests/bench/search.sh: the same files go to a plain directory (for
 * omindex) and, with --store, into a consort data directory (rows, blobs
 * and index queue), spread over work packages.
 *
 *   mkcorpus --files DIR [--store DATA] --docs N [--wps W] [--seed S]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "docgen.h"
#include "store.h"

static uint64_t rng = 88172645463325252ULL;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/* English function words (so documents are detected as English) and a
 * made-up content vocabulary with a Zipf-like spread. */
static const char *const stop[] = {"the", "and",  "of",   "to",  "in", "is",   "that",
				   "for", "with", "as",   "was", "on", "are",  "be",
				   "by",  "this", "from", "at",  "or", "which"};
static const char *const syl[] = {"ka",  "lo",   "mi",   "ne",  "ru", "ta",   "vo",  "si",
				  "pe",  "dra",  "gen",  "on",  "co", "ther", "bio", "mark",
				  "pro", "tein", "cell", "ana", "ly", "sis",  "cli", "ni",
				  "cal", "tri",  "al",   "da",  "ta", "set"};
#define NWORDS 4000
static char words[NWORDS][24];

static void make_vocab(void)
{
	for (int i = 0; i < NWORDS; i++) {
		int n = 2 + (int)(rnd() % 3);

		words[i][0] = '\0';
		for (int k = 0; k < n; k++)
			strncat(words[i], syl[rnd() % (sizeof syl / sizeof syl[0])],
				sizeof words[i] - strlen(words[i]) - 1);
	}
}

static const char *word(void)
{
	/* skewed: low indexes are much more frequent */
	uint32_t a = rnd() % NWORDS, b = rnd() % NWORDS;

	return words[a < b ? a : b];
}

static void text(char *buf, size_t cap, int nwords, int paras, char sep)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < nwords && len + 40 < cap; i++) {
		const char *w = rnd() % 3 == 0 ? stop[rnd() % 20] : word();

		len += (size_t)snprintf(
			buf + len, cap - len, "%s%s", w,
			(i + 1) % (nwords / paras + 1) == 0 ? (sep == '\n' ? "\n" : ";") : " ");
	}
}

int main(int argc, char **argv)
{
	const char *files = NULL, *store = NULL;
	int docs = 2000, nwps = 10;
	static const char *const exts[] = {"docx", "xlsx", "pptx", "odt", "ods", "odp",
					   "pdf",  "html", "md",   "csv", "txt"};
	struct db *db = NULL;
	int64_t wp[64], root[64], user = 0;
	static char body[64 * 1024], title[200], path[4096], name[64];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--files") && i + 1 < argc)
			files = argv[++i];
		else if (!strcmp(argv[i], "--store") && i + 1 < argc)
			store = argv[++i];
		else if (!strcmp(argv[i], "--docs") && i + 1 < argc)
			docs = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--wps") && i + 1 < argc)
			nwps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
			rng ^= (uint64_t)strtoull(argv[++i], NULL, 10) * 2654435761ULL;
		else {
			fprintf(stderr,
				"usage: mkcorpus --files DIR [--store DATA] --docs N [--wps W]\n");
			return 2;
		}
	}
	if (!files || docs <= 0 || nwps <= 0 || nwps > 64) {
		fprintf(stderr, "usage: mkcorpus --files DIR [--store DATA] --docs N [--wps W]\n");
		return 2;
	}
	make_vocab();
	mkdir(files, 0755);
	if (store) {
		db = fx_store_open(store);
		if (!db)
			return 1;
		user = fx_store_partner_user(db, "bench");
		for (int i = 0; i < nwps; i++) {
			snprintf(name, sizeof name, "WP%d", i + 1);
			wp[i] = fx_store_wp(db, name, &root[i]);
		}
	}
	for (int i = 0; i < docs; i++) {
		const char *ext = exts[i % (sizeof exts / sizeof exts[0])];
		struct docgen d = {0};
		int w = i % nwps, nw = 150 + (int)(rnd() % 1200), rc;
		bool table = !strcmp(ext, "xlsx") || !strcmp(ext, "ods") || !strcmp(ext, "csv");

		snprintf(title, sizeof title, "Report %d on %s %s", i, word(), word());
		text(body, sizeof body, nw, table ? nw / 6 : 8, '\n');
		if (table)
			for (char *p = body; *p; p++)
				if (*p == ' ' && rnd() % 4 == 0)
					*p = ';';
		d.title = title;
		d.author = "Bench Author";
		d.heading = title;
		d.body = body;
		d.notes = "speaker notes";
		snprintf(path, sizeof path, "%s/WP%d", files, w + 1);
		mkdir(path, 0755);
		snprintf(name, sizeof name, "doc-%05d.%s", i, ext);
		snprintf(path, sizeof path, "%s/WP%d/%s", files, w + 1, name);
		if (!strcmp(ext, "docx"))
			rc = docgen_docx(path, &d);
		else if (!strcmp(ext, "xlsx"))
			rc = docgen_xlsx(path, &d);
		else if (!strcmp(ext, "pptx"))
			rc = docgen_pptx(path, &d);
		else if (!strcmp(ext, "odt"))
			rc = docgen_odt(path, &d);
		else if (!strcmp(ext, "ods"))
			rc = docgen_ods(path, &d);
		else if (!strcmp(ext, "odp"))
			rc = docgen_odp(path, &d);
		else if (!strcmp(ext, "pdf"))
			rc = docgen_pdf(path, &d);
		else if (!strcmp(ext, "html"))
			rc = docgen_html(path, &d);
		else if (!strcmp(ext, "md"))
			rc = docgen_md(path, &d);
		else
			rc = docgen_text(path, body, strlen(body));
		if (rc) {
			perror(path);
			return 1;
		}
		if (db && fx_store_doc(db, store, wp[w], root[w], name, path, user) < 0) {
			fprintf(stderr, "mkcorpus: storing %s failed\n", path);
			return 1;
		}
	}
	db_close(db);
	return 0;
}
