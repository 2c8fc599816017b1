/*
 * consort — a partner-only document server for research consortia.
 *
 * One program with subcommands; this file only dispatches to them. Each
 * subcommand prints one clear line on stderr and exits non-zero when it
 * fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/imgsan.h"
#include "api/preview.h"
#include "api/app.h"
#include "cli/cmd_rescan.h"
#include "cli/cmd_storage.h"
#include "cli/cli_accounts.h"
#include "api/config.h"
#include "cli/demo.h"
#include "err.h"
#include "exworker.h"
#include "indexer.h"
#include "routes.h"

#ifndef CONSORT_VERSION
#define CONSORT_VERSION "dev"
#endif

static int cmd_serve(int argc, char **argv)
{
	struct config cfg;
	enum err rc;

	if (argc == 1 && !strcmp(argv[0], "--help-config")) {
		config_write_reference(stdout);
		return 0;
	}
	config_defaults(&cfg);
	rc = config_load(&cfg, argc, argv);
	if (!rc)
		rc = app_run(&cfg, routes, nroutes);
	config_free(&cfg);
	if (rc) {
		fprintf(stderr, "consort serve: %s\n", err_detail());
		return 1;
	}
	return 0;
}

/* Hidden: the text-extraction helper the server starts and talks to
 * over its stdin/stdout (search/exworker.h). Not for people. */
static int cmd_extract_worker(int argc, char **argv)
{
	(void)argv;
	if (argc != 0 || isatty(0)) {
		fprintf(stderr,
			"consort extract-worker: internal helper, started by consort serve\n");
		return 2;
	}
	return exworker_main();
}

/* Hidden: the picture helper (server/api/imgsan.h), one per upload. */
static int cmd_image_worker(int argc, char **argv)
{
	(void)argv;
	if (argc != 0 || isatty(0)) {
		fprintf(stderr,
			"consort image-worker: internal helper, started by consort serve\n");
		return 2;
	}
	return imgsan_main();
}

/* Previews (api/preview.h): its arguments come from the server. */
static int cmd_preview_worker(int argc, char **argv) { return preview_worker_main(argc, argv); }

static void reindex_log(enum indexer_log_level level, const char *msg)
{
	(void)level;
	fprintf(stderr, "consort reindex: %s\n", msg);
}

/* Rebuild the search index from the store while a server may keep
 * running on the same data directory (see indexer_rebuild). It takes the
 * options of `serve` (flags or --config FILE), so that it extracts under
 * the same limits; the ones that do not concern it are ignored. */
static int cmd_reindex(int argc, char **argv)
{
	struct indexer_opts opts;
	struct indexer_stats st;
	struct config cfg;
	enum err rc;

	config_defaults(&cfg);
	rc = config_load(&cfg, argc, argv);
	if (rc) {
		fprintf(stderr, "consort reindex: %s\n", err_detail());
		config_free(&cfg);
		return 2;
	}
	app_indexer_opts(&cfg, &opts);
	opts.log = reindex_log;
	rc = indexer_rebuild(&opts, &st);
	config_free(&cfg);
	if (rc) {
		fprintf(stderr, "consort reindex: %s\n", err_detail());
		return 1;
	}
	printf("consort reindex: done: %llu extracted (%llu failed), %llu documents in the index\n",
	       (unsigned long long)st.extracted, (unsigned long long)st.failed,
	       (unsigned long long)st.doccount);
	return 0;
}

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
};

static const struct command commands[] = {
	{"serve", cmd_serve,
	 "serve --data DIR [--listen HOST:PORT] [--cert PEM --key PEM] [--workers N] [--config FILE]"},
	{"gc", cmd_gc, "gc --data DIR [--grace SECONDS]"},
	{"fsck", cmd_fsck, "fsck --data DIR [--quick | --rehash-sample PERCENT]"},
	{"blobs", cmd_blobs,
	 "blobs migrate --to s3 --data DIR --s3-endpoint URL --s3-bucket BUCKET [--s3-region R] "
	 "[--s3-addressing path|virtual] [--s3-credentials-file F] [--s3-ca-file F]"},
	{"backup", cmd_backup, "backup DEST --data DIR [--to-bucket NAME]"},
	{"restore", cmd_restore,
	 "restore SRC --data DIR [--clamd-socket PATH | --clamd-address HOST:PORT]"},
	{"rescan", cmd_rescan,
	 "rescan --data DIR (--clamd-socket PATH | --clamd-address HOST:PORT) [--rate N] "
	 "[--restart]"},
	{"partner", cli_partner,
	 "partner add --data DIR --short SHORT --name NAME --country CC [--type T] [--role R] "
	 "[--city C] [--website URL] [--description TEXT] | partner set --data DIR --short SHORT "
	 "[the same fields]"},
	{"user", cli_user,
	 "user add --data DIR --email EMAIL --name NAME --partner SHORT [--coordinator] "
	 "--password-stdin | user roles --data DIR --email EMAIL [--role-line TEXT] "
	 "[--contact-roles \"A, B\"]"},
	{"wp", cli_wp,
	 "wp add --data DIR --code WP1 --title TITLE [--lead SHORT]\n"
	 "  consort wp set --data DIR --code WP1 [--title TITLE] [--lead SHORT|none] "
	 "[--quota BYTES|default] [--keep-versions N|default] [--keep-days N|default] "
	 "[--archived yes|no] [--language CODE|default]"},
	{"grant", cli_grant,
	 "grant --data DIR --wp WP1 (--user EMAIL | --partner SHORT) --level none|read|write|manage"},
	{"deliverable", cli_deliverable, "deliverable import --data DIR --file TABLE.csv|-"},
	{"demo", demo_main,
	 "demo --data DIR   (a new data directory with a complete example consortium)"},
	{"routes", cli_routes, "routes   (the route table as JSON)"},
	{"reindex", cmd_reindex,
	 "reindex --data DIR [--config FILE] [--extract-cpu-seconds N ...]"},
	{"extract-worker", cmd_extract_worker, NULL},
	{"image-worker", cmd_image_worker, NULL},
	{"preview-worker", cmd_preview_worker, NULL},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: consort COMMAND [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (commands[i].usage) /* hidden helpers have none */
			fprintf(out, "  consort %s\n", commands[i].usage);
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("consort %s\n", CONSORT_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 2, argv + 2);
	fprintf(stderr, "consort: unknown command '%s' (try consort --help)\n", argv[1]);
	return 2;
}
