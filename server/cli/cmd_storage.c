/* cmd_storage — see cmd_storage.h. */
#include "cli/cmd_storage.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "cli/cmd_rescan.h"
#include "blobback.h"
#include "maint.h"

struct args {
	const char *data;
	const char *positional;
	int64_t grace;
	bool quick;
	double sample;      /* fsck --rehash-sample PERCENT; < 0: not given */
	const char *clamd;  /* restore: scan what was restored */
	const char *bucket; /* backup --to-bucket */
};

/* Options: --data DIR (or --data=DIR), --grace SECONDS for gc, --quick
 * for fsck, and at most one positional argument when `want_pos`. */
static int parse(const char *cmd, int argc, char **argv, bool want_pos, struct args *a)
{
	a->grace = MAINT_GC_GRACE_DEFAULT;
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i], *val = NULL;
		size_t n = strcspn(arg, "=");

		if (!strncmp(arg, "--", 2) && arg[n] == '=')
			val = arg + n + 1;
		if (!strncmp(arg, "--data", n) && n == 6) {
			if (!val && i + 1 < argc)
				val = argv[++i];
			if (!val || !*val)
				goto need_value;
			a->data = val;
		} else if (!strcmp(cmd, "gc") && !strncmp(arg, "--grace", n) && n == 7) {
			char *end;
			long long g;

			if (!val && i + 1 < argc)
				val = argv[++i];
			if (!val || !*val)
				goto need_value;
			g = strtoll(val, &end, 10);
			if (*end || g < 0) {
				fprintf(stderr,
					"consort %s: --grace takes a number of seconds, not '%s'\n",
					cmd, val);
				return 2;
			}
			a->grace = g;
		} else if (!strcmp(cmd, "restore") &&
			   ((!strncmp(arg, "--clamd-socket", n) && n == 14) ||
			    (!strncmp(arg, "--clamd-address", n) && n == 15))) {
			if (!val && i + 1 < argc)
				val = argv[++i];
			if (!val || !*val)
				goto need_value;
			a->clamd = val;
		} else if (!strcmp(cmd, "backup") && !strncmp(arg, "--to-bucket", n) && n == 11) {
			if (!val && i + 1 < argc)
				val = argv[++i];
			if (!val || !*val)
				goto need_value;
			a->bucket = val;
		} else if (!strcmp(cmd, "fsck") && !strcmp(arg, "--quick")) {
			a->quick = true;
		} else if (!strcmp(cmd, "fsck") && !strncmp(arg, "--rehash-sample", n) && n == 15) {
			char *end;

			if (!val && i + 1 < argc)
				val = argv[++i];
			if (!val || !*val)
				goto need_value;
			a->sample = strtod(val, &end);
			if (*end || !(a->sample > 0 && a->sample <= 100)) {
				fprintf(stderr,
					"consort %s: --rehash-sample takes a percentage above 0 and "
					"at most 100, not '%s'\n",
					cmd, val);
				return 2;
			}
		} else if (arg[0] == '-') {
			fprintf(stderr, "consort %s: unknown option '%s' (try consort --help)\n",
				cmd, arg);
			return 2;
		} else if (want_pos && !a->positional) {
			a->positional = arg;
		} else {
			fprintf(stderr, "consort %s: unexpected argument '%s'\n", cmd, arg);
			return 2;
		}
		continue;
	need_value:
		fprintf(stderr, "consort %s: %.*s needs a value\n", cmd, (int)n, arg);
		return 2;
	}
	if (a->quick && a->sample > 0) {
		fprintf(stderr,
			"consort %s: --quick re-hashes nothing; leave out --rehash-sample\n", cmd);
		return 2;
	}
	if (!a->data) {
		fprintf(stderr, "consort %s: --data DIR is required\n", cmd);
		return 2;
	}
	if (want_pos && !a->positional) {
		fprintf(stderr, "consort %s: which directory? (consort %s %s --data DIR)\n", cmd,
			cmd, !strcmp(cmd, "backup") ? "DEST" : "SRC");
		return 2;
	}
	return 0;
}

static int fail(const char *cmd)
{
	fprintf(stderr, "consort %s: %s\n", cmd, err_detail());
	return 1;
}

int cmd_gc(int argc, char **argv)
{
	struct maint_gc_stats st;
	struct args a = {0};
	int bad = parse("gc", argc, argv, false, &a);

	if (bad)
		return bad;
	if (maint_gc(a.data, a.grace, &st))
		return fail("gc");
	printf("gc: %" PRIu64 " version(s) pruned by retention, "
	       "%" PRIu64 " of %" PRIu64 " blob(s) deleted (%" PRIu64 " bytes freed), %" PRIu64
	       " abandoned temp file(s) removed, %" PRIu64 " expired upload(s) removed, %" PRIu64
	       " preview file(s) removed\n",
	       st.pruned, st.deleted, st.blobs, st.bytes_freed, st.temps_removed,
	       st.uploads_expired, st.previews_removed);
	return 0;
}

static void print_line(void *ctx, const char *line)
{
	(void)ctx;
	printf("%s\n", line);
	fflush(stdout);
}

int cmd_fsck(int argc, char **argv)
{
	struct maint_fsck_stats st;
	struct args a = {0};
	int bad = parse("fsck", argc, argv, false, &a);
	double percent;

	if (bad)
		return bad;
	percent = a.quick ? 0 : a.sample > 0 ? a.sample : 100;

	if (maint_fsck_sampled(a.data, percent, print_line, NULL, &st))
		return fail("fsck");
	printf("fsck: %" PRIu64 " blob(s), %" PRIu64 " re-hashed (%" PRIu64
	       " bytes; sample %g%%), %" PRIu64 " version(s), %" PRIu64
	       " unreferenced blob(s) for gc, %" PRIu64 " problem(s)\n",
	       st.blobs, st.rehashed, st.bytes, percent, st.versions, st.unreferenced, st.problems);
	if (st.problems) {
		fprintf(stderr, "consort fsck: %" PRIu64 " problem(s) found in %s\n", st.problems,
			a.data);
		return 1;
	}
	return 0;
}

int cmd_backup(int argc, char **argv)
{
	struct maint_copy_stats st;
	struct args a = {0};
	int bad = parse("backup", argc, argv, true, &a);

	if (bad)
		return bad;
	if (maint_backup_to_bucket(a.data, a.positional, a.bucket, &st))
		return fail("backup");
	if (a.bucket) {
		printf("backup: %s: %" PRIu64 " blob(s) in bucket %s, %" PRIu64
		       " copied there now\n",
		       a.positional, st.blobs, a.bucket, st.copied);
		return 0;
	}
	printf("backup: %s: %" PRIu64 " blob(s), %" PRIu64 " hard-linked, %" PRIu64
	       " copied (%" PRIu64 " bytes)\n",
	       a.positional, st.blobs, st.linked, st.copied, st.bytes);
	return 0;
}

static void print_err_line(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "consort restore: %s\n", line);
}

int cmd_restore(int argc, char **argv)
{
	struct maint_copy_stats st;
	struct args a = {0};
	int bad = parse("restore", argc, argv, true, &a);

	if (bad)
		return bad;
	if (maint_restore(a.positional, a.data, print_err_line, NULL, &st))
		return fail("restore");
	printf("restore: %s from %s: %" PRIu64 " blob(s), %" PRIu64 " hard-linked, %" PRIu64
	       " copied (%" PRIu64 " bytes), verified\n",
	       a.data, a.positional, st.blobs, st.linked, st.copied, st.bytes);
	/* Content from outside is new here: scanned before anyone serves
	 * it (docs/scanning.md). Reported, nothing deleted. */
	if (a.clamd)
		return rescan_data(a.data, a.clamd, 0, true);
	return 0;
}

/* consort blobs migrate --to s3 --data DIR --s3-endpoint URL --s3-bucket B
 * [--s3-region R] [--s3-addressing path|virtual] [--s3-credentials-file F]
 * [--s3-ca-file F] */
int cmd_blobs(int argc, char **argv)
{
	static const struct {
		const char *opt;
		size_t off, cap;
	} opts[] = {
#define O(name, field)                                                                             \
	{name, offsetof(struct blobback_config, field),                                            \
	 sizeof(((struct blobback_config *)0)->field)}
		O("--s3-endpoint", endpoint),
		O("--s3-region", region),
		O("--s3-bucket", bucket),
		O("--s3-addressing", addressing),
		O("--s3-credentials-file", credentials_file),
		O("--s3-ca-file", ca_file),
#undef O
	};
	struct blobback_config to;
	const char *data = NULL, *target = NULL;
	uint64_t copied, skipped;

	memset(&to, 0, sizeof to);
	strcpy(to.store, "s3");
	if (argc < 1 || strcmp(argv[0], "migrate")) {
		fprintf(stderr, "consort blobs: usage: consort blobs migrate --to s3 --data DIR "
				"--s3-endpoint URL --s3-bucket BUCKET [...]\n");
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		bool known = false;

		if (i + 1 >= argc || arg[0] != '-') {
			fprintf(stderr, "consort blobs: unexpected argument '%s'\n", arg);
			return 2;
		}
		if (!strcmp(arg, "--to")) {
			target = argv[++i];
			continue;
		}
		if (!strcmp(arg, "--data")) {
			data = argv[++i];
			continue;
		}
		for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
			if (strcmp(arg, opts[k].opt))
				continue;
			if (strlen(argv[i + 1]) >= opts[k].cap) {
				fprintf(stderr, "consort blobs: %s is too long\n", arg);
				return 2;
			}
			strcpy((char *)&to + opts[k].off, argv[++i]);
			known = true;
			break;
		}
		if (!known) {
			fprintf(stderr, "consort blobs: unknown option '%s'\n", arg);
			return 2;
		}
	}
	if (!target || strcmp(target, "s3")) {
		fprintf(stderr, "consort blobs migrate: --to s3 is the only target\n");
		return 2;
	}
	if (!data || !to.endpoint[0] || !to.bucket[0]) {
		fprintf(stderr, "consort blobs migrate: --data, --s3-endpoint and --s3-bucket are "
				"required\n");
		return 2;
	}
	if (maint_migrate_blobs(data, &to, &copied, &skipped))
		return fail("blobs migrate");
	printf("blobs migrate: %" PRIu64 " blob(s) copied, %" PRIu64
	       " already in the bucket; DATA/blob-store now names the bucket (run consort fsck, "
	       "then remove DATA/blobs)\n",
	       copied, skipped);
	return 0;
}
