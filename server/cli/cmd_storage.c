/* cmd_storage — see cmd_storage.h. */
#include "cli/cmd_storage.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "cli/cmd_rescan.h"
#include "maint.h"

struct args {
	const char *data;
	const char *positional;
	int64_t grace;
	bool quick;
	const char *clamd; /* restore: scan what was restored */
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
		} else if (!strcmp(cmd, "fsck") && !strcmp(arg, "--quick")) {
			a->quick = true;
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

	if (bad)
		return bad;
	if (maint_fsck(a.data, !a.quick, print_line, NULL, &st))
		return fail("fsck");
	printf("fsck: %" PRIu64 " blob(s) (%" PRIu64 " bytes re-hashed), %" PRIu64
	       " version(s), %" PRIu64 " unreferenced blob(s) for gc, %" PRIu64 " problem(s)\n",
	       st.blobs, st.bytes, st.versions, st.unreferenced, st.problems);
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
	if (maint_backup(a.data, a.positional, &st))
		return fail("backup");
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
