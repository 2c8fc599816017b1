/* cli_accounts — see cli_accounts.h. */
#include "cli/cli_accounts.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "audit.h"
#include "deliverables.h"
#include "api/auth.h"
#include "api/config.h"
#include "db.h"
#include "directory.h"
#include "indexq.h"
#include "lang.h"
#include "http/jsonin.h"
#include "api/router.h"
#include "api/app.h"
#include "routes.h"
#include "tree.h"

/* Who the audit log names for changes made here. */
#define CLI_ACTOR "(command line)"

struct flag {
	const char *name; /* without "--" */
	bool takes_value;
	const char **value; /* takes_value: where the value goes */
	bool *set;          /* flag without value */
	bool required;      /* must be given, with a non-empty value */
};

/* Parse `--name value` / `--name=value` / `--name` against `flags`;
 * every flag at most once, every required one present. Returns 0 or
 * prints why and returns 2. */
static int parse_flags(const char *cmd, int argc, char **argv, const struct flag *flags, size_t n)
{
	bool seen[16] = {false};

	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i], *eq;
		size_t klen, k;

		if (strncmp(arg, "--", 2) != 0) {
			fprintf(stderr, "consort %s: unexpected argument '%s'\n", cmd, arg);
			return 2;
		}
		arg += 2;
		eq = strchr(arg, '=');
		klen = eq ? (size_t)(eq - arg) : strlen(arg);
		for (k = 0;
		     k < n && (strlen(flags[k].name) != klen || strncmp(flags[k].name, arg, klen));
		     k++)
			;
		if (k == n) {
			fprintf(stderr, "consort %s: unknown option '--%.*s'\n", cmd, (int)klen,
				arg);
			return 2;
		}
		if (seen[k]) {
			fprintf(stderr, "consort %s: --%s given twice\n", cmd, flags[k].name);
			return 2;
		}
		seen[k] = true;
		if (!flags[k].takes_value) {
			if (eq) {
				fprintf(stderr, "consort %s: --%s takes no value\n", cmd,
					flags[k].name);
				return 2;
			}
			*flags[k].set = true;
			continue;
		}
		if (eq) {
			*flags[k].value = eq + 1;
		} else if (i + 1 < argc) {
			*flags[k].value = argv[++i];
		} else {
			fprintf(stderr, "consort %s: --%s needs a value\n", cmd, flags[k].name);
			return 2;
		}
	}
	for (size_t k = 0; k < n; k++)
		if (flags[k].required && !(*flags[k].value && **flags[k].value)) {
			fprintf(stderr, "consort %s: --%s is required\n", cmd, flags[k].name);
			return 2;
		}
	return 0;
}

static int fail(const char *cmd, enum err rc)
{
	const char *d = err_detail();

	fprintf(stderr, "consort %s: %s\n", cmd, *d ? d : err_name(rc));
	return 1;
}

/* Open (creating if needed) DATA/consort.db with the current schema. */
static enum err open_data(const char *dir, struct db **db)
{
	char path[4096];
	enum err rc = app_prepare_data_dir(dir);

	*db = NULL;
	if (rc)
		return rc;
	snprintf(path, sizeof path, "%s/consort.db", dir);
	rc = db_open(path, db);
	if (!rc)
		rc = db_migrate(*db);
	if (rc) {
		db_close(*db);
		*db = NULL;
	}
	return rc;
}

/* --- consort partner add | set ------------------------------------------------------ */

/* `partner set --short SHORT [directory fields]`: the directory entry of
 * an existing partner (docs/directory.md). */
static int partner_set(int argc, char **argv)
{
	const char *cmd = "partner set", *data = NULL, *short_name = NULL;
	struct dir_partner_change ch = {0};
	const struct flag flags[] = {
		{"data", true, &data, NULL, true},
		{"short", true, &short_name, NULL, true},
		{"type", true, &ch.type, NULL, false},
		{"role", true, &ch.role, NULL, false},
		{"city", true, &ch.city, NULL, false},
		{"website", true, &ch.website, NULL, false},
		{"description", true, &ch.description, NULL, false},
	};
	struct db *db = NULL;
	enum err rc;
	int st = parse_flags(cmd, argc, argv, flags, sizeof flags / sizeof flags[0]);

	if (st)
		return st;
	if (!ch.type && !ch.role && !ch.city && !ch.website && !ch.description) {
		fprintf(stderr,
			"consort %s: nothing to change (--type, --role, --city, --website, "
			"--description)\n",
			cmd);
		return 2;
	}
	rc = ch.city ? jsonin_check_text("--city", ch.city, 0, 100, false) : ERR_OK;
	if (!rc && ch.description)
		rc = jsonin_check_text("--description", ch.description, 0, 2000, true);
	if (!rc)
		rc = open_data(data, &db);
	if (!rc)
		rc = db_begin(db);
	if (!rc) {
		rc = dir_partner_update(db, short_name, &ch);
		if (!rc)
			rc = audit_append(db, 0, CLI_ACTOR, "", "partner_update", 0, short_name,
					  "");
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	db_close(db);
	if (rc)
		return fail(cmd, rc);
	printf("partner %s updated\n", short_name);
	return 0;
}

int cli_partner(int argc, char **argv)
{
	const char *cmd = "partner add", *data = NULL, *short_name = NULL, *name = NULL,
		   *country = NULL;
	struct dir_partner_change ch = {0};
	const struct flag flags[] = {
		{"data", true, &data, NULL, true},
		{"short", true, &short_name, NULL, true},
		{"name", true, &name, NULL, true},
		{"country", true, &country, NULL, true},
		{"type", true, &ch.type, NULL, false},
		{"role", true, &ch.role, NULL, false},
		{"city", true, &ch.city, NULL, false},
		{"website", true, &ch.website, NULL, false},
		{"description", true, &ch.description, NULL, false},
	};
	struct db *db = NULL;
	char cc[3];
	enum err rc;
	int st;

	if (argc >= 1 && !strcmp(argv[0], "set"))
		return partner_set(argc - 1, argv + 1);
	if (argc < 1 || strcmp(argv[0], "add")) {
		fprintf(stderr, "usage: consort partner add --data DIR --short SHORT --name NAME "
				"--country CC [--type T] [--role R] [--city C] [--website URL] "
				"[--description TEXT]\n"
				"       consort partner set --data DIR --short SHORT [--type T] "
				"[--role R] [--city C] [--website URL] [--description TEXT]\n");
		return 2;
	}
	st = parse_flags(cmd, argc - 1, argv + 1, flags, sizeof flags / sizeof flags[0]);
	if (st)
		return st;
	rc = acct_check_code("--short", short_name);
	if (!rc)
		rc = jsonin_check_text("--name", name, 1, 200, false);
	if (!rc)
		rc = acct_check_country("--country", country);
	if (!rc && ch.city)
		rc = jsonin_check_text("--city", ch.city, 0, 100, false);
	if (!rc && ch.description)
		rc = jsonin_check_text("--description", ch.description, 0, 2000, true);
	if (rc)
		return fail(cmd, rc);
	cc[0] = (char)toupper((unsigned char)country[0]);
	cc[1] = (char)toupper((unsigned char)country[1]);
	cc[2] = '\0';
	rc = open_data(data, &db);
	if (!rc)
		rc = db_begin(db);
	if (!rc) {
		rc = acct_partner_add(db, short_name, name, cc, NULL);
		/* the directory fields in the same transaction: a bad type or
		 * website adds nothing */
		if (!rc && (ch.type || ch.role || ch.city || ch.website || ch.description))
			rc = dir_partner_update(db, short_name, &ch);
		if (!rc)
			rc = audit_append(db, 0, CLI_ACTOR, "", "partner_create", 0, short_name,
					  name);
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	db_close(db);
	if (rc)
		return fail(cmd, rc);
	printf("partner %s added\n", short_name);
	return 0;
}

/* --- consort user add ------------------------------------------------------------- */

/* One line from stdin: the password, without its line ending. */
static enum err read_password(char *buf, size_t cap)
{
	size_t len;

	if (!fgets(buf, (int)cap, stdin))
		return err_set(ERR_INVALID, "no password on standard input");
	len = strlen(buf);
	if (len == cap - 1 && buf[len - 1] != '\n')
		return err_set(ERR_INVALID, "the password must have at most %d bytes",
			       AUTH_PASSWORD_MAX);
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = '\0';
	return ERR_OK;
}

/* `user roles --email EMAIL [--role-line TEXT] [--contact-roles "A, B"]`:
 * a person's directory roles (docs/directory.md); --contact-roles ""
 * clears them. */
static int user_roles(int argc, char **argv)
{
	const char *cmd = "user roles", *data = NULL, *email = NULL, *line = NULL, *list = NULL;
	const struct flag flags[] = {
		{"data", true, &data, NULL, true},
		{"email", true, &email, NULL, true},
		{"role-line", true, &line, NULL, false},
		{"contact-roles", true, &list, NULL, false},
	};
	char *copy = NULL, *roles[8];
	size_t nroles = 0;
	struct acct_user u = {0};
	struct db *db = NULL;
	enum err rc = ERR_OK;
	int st = parse_flags(cmd, argc, argv, flags, sizeof flags / sizeof flags[0]);

	if (st)
		return st;
	if (!line && !list) {
		fprintf(stderr, "consort %s: nothing to change (--role-line, --contact-roles)\n",
			cmd);
		return 2;
	}
	if (line)
		rc = jsonin_check_text("--role-line", line, 0, 200, false);
	if (!rc && list) {
		copy = strdup(list);
		if (!copy)
			rc = err_set(ERR_NOMEM, "out of memory");
		/* split at commas, trimming spaces; empty pieces are skipped */
		for (char *r = copy, *next; !rc && r; r = next) {
			char *comma = strchr(r, ','), *end;

			next = comma ? comma + 1 : NULL;
			if (comma)
				*comma = '\0';
			while (*r == ' ')
				r++;
			end = r + strlen(r);
			while (end > r && end[-1] == ' ')
				*--end = '\0';
			if (!*r)
				continue;
			if (nroles == sizeof roles / sizeof roles[0])
				rc = err_set(ERR_INVALID, "--contact-roles: at most 8 roles");
			else
				rc = jsonin_check_text("a contact role", r, 1, 60, false);
			if (!rc)
				roles[nroles++] = r;
		}
	}
	if (!rc)
		rc = open_data(data, &db);
	if (!rc)
		rc = acct_user_by_email(db, email, &u);
	if (rc == ERR_NOTFOUND)
		rc = err_set(ERR_NOTFOUND, "no user '%s'", email);
	if (!rc)
		rc = db_begin(db);
	if (!rc) {
		rc = dir_person_set(db, u.id, line, list ? (const char *const *)roles : NULL,
				    nroles);
		if (!rc)
			rc = audit_append(db, 0, CLI_ACTOR, "", "user_roles", 0, email, "");
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	acct_user_clear(&u);
	db_close(db);
	free(copy);
	if (rc)
		return fail(cmd, rc);
	printf("roles of %s updated\n", email);
	return 0;
}

int cli_user(int argc, char **argv)
{
	const char *cmd = "user add", *data = NULL, *email = NULL, *name = NULL, *partner = NULL;
	bool coordinator = false, password_stdin = false;
	const struct flag flags[] = {
		{"data", true, &data, NULL, true},
		{"email", true, &email, NULL, true},
		{"name", true, &name, NULL, true},
		{"partner", true, &partner, NULL, true},
		{"coordinator", false, NULL, &coordinator, false},
		{"password-stdin", false, NULL, &password_stdin, false},
	};
	char password[AUTH_PASSWORD_MAX + 2] = "";
	struct auth_argon2 params;
	struct db *db = NULL;
	char *hash = NULL;
	int64_t partner_id;
	enum err rc;
	int st;

	if (argc >= 1 && !strcmp(argv[0], "roles"))
		return user_roles(argc - 1, argv + 1);
	if (argc < 1 || strcmp(argv[0], "add")) {
		fprintf(stderr,
			"usage: consort user add --data DIR --email EMAIL --name NAME "
			"--partner SHORT [--coordinator] [--password-stdin]\n"
			"       consort user roles --data DIR --email EMAIL [--role-line TEXT] "
			"[--contact-roles \"A, B\"]\n");
		return 2;
	}
	st = parse_flags(cmd, argc - 1, argv + 1, flags, 6);
	if (st)
		return st;
	rc = acct_check_email("--email", email);
	if (!rc)
		rc = jsonin_check_text("--name", name, 1, 200, false);
	if (!rc && password_stdin) {
		rc = read_password(password, sizeof password);
		if (!rc)
			rc = auth_password_policy(password, email);
		/* Hashing before opening the database keeps the write
		 * transaction short. */
		auth_argon2_defaults(&params);
		if (!rc)
			rc = auth_password_hash(password, &params, &hash);
		explicit_bzero(password, sizeof password);
	}
	if (!rc)
		rc = open_data(data, &db);
	if (!rc) {
		rc = acct_partner_id(db, partner, &partner_id);
		if (rc == ERR_NOTFOUND)
			rc = err_set(ERR_NOTFOUND,
				     "no partner '%s' (add it with consort partner add)", partner);
	}
	if (!rc)
		rc = db_begin(db);
	if (!rc) {
		rc = acct_user_add(db, email, name, partner_id, coordinator, hash, NULL);
		if (!rc)
			rc = audit_append(db, 0, CLI_ACTOR, "", "user_create", 0, email,
					  coordinator ? "coordinator" : "");
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	db_close(db);
	free(hash);
	if (rc)
		return fail(cmd, rc);
	printf("user %s added%s%s\n", email, coordinator ? " as coordinator" : "",
	       hash || password_stdin ? "" : " without a password (make a set-password link)");
	return 0;
}

/* --- consort wp add | set ------------------------------------------------------------- */

static int wp_add(int argc, char **argv)
{
	const char *cmd = "wp add", *data = NULL, *code = NULL, *title = NULL, *lead = NULL;
	const struct flag flags[] = {
		{"data", true, &data, NULL, true},
		{"code", true, &code, NULL, true},
		{"title", true, &title, NULL, true},
		{"lead", true, &lead, NULL, false},
	};
	struct db *db = NULL;
	int64_t lead_id = 0, id = 0;
	enum err rc;
	int st;

	st = parse_flags(cmd, argc, argv, flags, 4);
	if (st)
		return st;
	rc = acct_check_code("--code", code);
	if (!rc)
		rc = jsonin_check_text("--title", title, 1, 200, false);
	if (!rc)
		rc = open_data(data, &db);
	if (!rc && lead) {
		rc = acct_partner_id(db, lead, &lead_id);
		if (rc == ERR_NOTFOUND)
			rc = err_set(ERR_NOTFOUND, "no partner '%s'", lead);
	}
	if (!rc)
		rc = db_begin(db);
	if (!rc) {
		rc = acct_wp_add(db, code, title, lead_id, 0, &id);
		if (!rc)
			rc = audit_append(db, 0, CLI_ACTOR, "", "wp_create", id, code, title);
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	db_close(db);
	if (rc)
		return fail(cmd, rc);
	printf("work package %s added\n", code);
	return 0;
}

/* A count of --keep-versions / --keep-days: a number up to `max`, or
 * "default" (-1: the server's default applies). */
static enum err parse_count(const char *flag, const char *v, int64_t max, int64_t *out)
{
	char *end;
	long long n;

	if (!strcmp(v, "default")) {
		*out = -1;
		return ERR_OK;
	}
	n = strtoll(v, &end, 10);
	if (!isdigit((unsigned char)*v) || *end || n < 0 || n > max)
		return err_set(ERR_INVALID, "%s must be a number from 0 to %lld, or default", flag,
			       (long long)max);
	*out = n;
	return ERR_OK;
}

static enum err wp_requeue(struct db *db, int64_t wp_id)
{
	struct acct_wp w;
	enum err rc = acct_wp_get(db, wp_id, &w);

	if (!rc)
		rc = indexq_push(db, w.root_id, false);
	acct_wp_clear(&w);
	return rc;
}

static int wp_set(int argc, char **argv)
{
	const char *cmd = "wp set", *data = NULL, *code = NULL, *title = NULL, *lead = NULL,
		   *quota = NULL, *kv = NULL, *kd = NULL, *archived = NULL, *language = NULL;
	const struct flag flags[] = {
		{"data", true, &data, NULL, true},
		{"code", true, &code, NULL, true},
		{"title", true, &title, NULL, false},
		{"lead", true, &lead, NULL, false},
		{"quota", true, &quota, NULL, false},
		{"keep-versions", true, &kv, NULL, false},
		{"keep-days", true, &kd, NULL, false},
		{"archived", true, &archived, NULL, false},
		{"language", true, &language, NULL, false},
	};
	struct acct_wp_change c = {0};
	struct db *db = NULL;
	int64_t wp_id = 0;
	uint64_t pruned = 0;
	char detail[600];
	int ignored, st;
	enum err rc = ERR_OK;

	st = parse_flags(cmd, argc, argv, flags, sizeof flags / sizeof flags[0]);
	if (st)
		return st;
	if (!title && !lead && !quota && !kv && !kd && !archived && !language) {
		fprintf(stderr,
			"consort %s: nothing to change (give --title, --lead, --quota, "
			"--keep-versions, --keep-days, --archived or --language)\n",
			cmd);
		return 2;
	}
	if (title) {
		rc = jsonin_check_text("--title", title, 1, 200, false);
		c.set_title = true;
		c.title = title;
	}
	if (!rc && quota) {
		uint64_t n;
		const char *why = NULL;

		c.set_quota = true;
		c.quota_bytes = -1;
		if (strcmp(quota, "default")) {
			why = config_parse_bytes(quota, &n);
			if (!why && n > (UINT64_C(1) << 50))
				why = "is too large";
			if (why)
				rc = err_set(ERR_INVALID,
					     "--quota %s (bytes, e.g. 300M, 0 for none, or "
					     "default)",
					     why);
			else
				c.quota_bytes = (int64_t)n;
		}
	}
	if (!rc && kv) {
		c.set_keep_versions = true;
		rc = parse_count("--keep-versions", kv, 1000000, &c.keep_versions);
	}
	if (!rc && kd) {
		c.set_keep_days = true;
		rc = parse_count("--keep-days", kd, 36500, &c.keep_days);
	}
	if (!rc && archived) {
		c.set_archived = true;
		if (!strcmp(archived, "yes"))
			c.archived = true;
		else if (strcmp(archived, "no"))
			rc = err_set(ERR_INVALID, "--archived must be yes or no");
	}
	if (!rc && language) {
		c.set_language = true;
		if (strcmp(language, "default")) {
			c.language = language;
			if (!*language ||
			    strcmp(lang_normalize(language, strlen(language)), language))
				rc = err_set(ERR_INVALID,
					     "--language: '%s' is not a language code consort "
					     "stems (such as de, fr, sv; or default)",
					     language);
		}
	}
	if (!rc)
		rc = open_data(data, &db);
	if (!rc) {
		rc = acct_wp_resolve(db, code, 0, &wp_id, &ignored);
		if (rc == ERR_NOTFOUND)
			rc = err_set(ERR_NOTFOUND, "no work package '%s'", code);
	}
	if (!rc && lead) {
		c.set_lead = true;
		if (strcmp(lead, "none")) {
			rc = acct_partner_id(db, lead, &c.lead_partner_id);
			if (rc == ERR_NOTFOUND)
				rc = err_set(ERR_NOTFOUND, "no partner '%s'", lead);
		}
	}
	if (!rc)
		rc = db_begin(db);
	if (!rc) {
		size_t len = 0;

		rc = acct_wp_update(db, wp_id, &c, db_now());
		if (!rc && (c.set_keep_versions || c.set_keep_days))
			rc = tree_retention_apply(db, wp_id, NULL, NULL, &pruned);
		/* its documents' fallback language changed: index them again */
		if (!rc && c.set_language)
			rc = wp_requeue(db, wp_id);
		detail[0] = '\0';
		for (size_t i = 2; i < sizeof flags / sizeof flags[0]; i++)
			if (*flags[i].value)
				len += (size_t)snprintf(
					detail + len, len < sizeof detail ? sizeof detail - len : 0,
					"%s%s=%s", len ? ", " : "", flags[i].name, *flags[i].value);
		if (!rc)
			rc = audit_append(db, 0, CLI_ACTOR, "", "wp_update", wp_id, code, detail);
		if (!rc && archived)
			rc = audit_append(db, 0, CLI_ACTOR, "",
					  c.archived ? "wp_archive" : "wp_unarchive", wp_id, code,
					  c.archived ? "read-only" : "writable again");
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	db_close(db);
	if (rc)
		return fail(cmd, rc);
	printf("work package %s: %s\n", code, detail);
	if (pruned)
		printf("retention removed %llu old versions (their space returns at the next gc)\n",
		       (unsigned long long)pruned);
	return 0;
}

int cli_wp(int argc, char **argv)
{
	if (argc >= 1 && !strcmp(argv[0], "add"))
		return wp_add(argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "set"))
		return wp_set(argc - 1, argv + 1);
	fprintf(stderr, "usage: consort wp add --data DIR --code WP1 --title TITLE [--lead SHORT]\n"
			"       consort wp set --data DIR --code WP1 [--title TITLE] "
			"[--lead SHORT|none] [--quota BYTES|default] [--keep-versions N|default] "
			"[--keep-days N|default] [--archived yes|no] "
			"[--language CODE|default]\n");
	return 2;
}

/* --- consort deliverable import --------------------------------------------------- */

#define CLI_CSV_MAX (16u << 20)

/* The whole of `path` ("-": standard input), at most CLI_CSV_MAX bytes. */
static enum err read_all(const char *path, char **out, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t cap = 65536, n = 0, got;
	char *buf = NULL;
	enum err rc = ERR_OK;

	*out = NULL;
	*len = 0;
	if (!f)
		return err_set(ERR_IO, "%s: %s", path, strerror(errno));
	buf = malloc(cap + 1);
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			char *nb;

			if (cap >= CLI_CSV_MAX) {
				rc = err_set(ERR_TOOLARGE, "%s: larger than 16 MiB", path);
				break;
			}
			nb = realloc(buf, 2 * cap + 1);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (!rc && !buf)
		rc = err_set(ERR_NOMEM, "out of memory");
	if (!rc && ferror(f))
		rc = err_set(ERR_IO, "%s: read error", path);
	if (f != stdin)
		fclose(f);
	if (rc) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return ERR_OK;
}

int cli_deliverable(int argc, char **argv)
{
	const char *cmd = "deliverable import", *data = NULL, *file = NULL;
	const struct flag flags[] = {
		{"data", true, &data, NULL, true},
		{"file", true, &file, NULL, true},
	};
	struct db *db = NULL;
	size_t created = 0, updated = 0, len = 0;
	char *csv = NULL, detail[64];
	enum err rc;
	int st;

	if (argc < 1 || strcmp(argv[0], "import")) {
		fprintf(stderr,
			"usage: consort deliverable import --data DIR --file TABLE.csv|-\n");
		return 2;
	}
	st = parse_flags(cmd, argc - 1, argv + 1, flags, 2);
	if (st)
		return st;
	rc = read_all(file, &csv, &len);
	if (!rc)
		rc = open_data(data, &db);
	if (!rc)
		rc = db_begin(db);
	if (!rc) {
		rc = dlv_import_csv(db, csv, len, &created, &updated);
		snprintf(detail, sizeof detail, "%zu created, %zu updated", created, updated);
		if (!rc)
			rc = audit_append(db, 0, CLI_ACTOR, "", "deliverable_import", 0,
					  "deliverables", detail);
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	db_close(db);
	free(csv);
	if (rc)
		return fail(cmd, rc);
	printf("deliverables: %zu created, %zu updated\n", created, updated);
	return 0;
}

/* --- consort grant ------------------------------------------------------------------- */

int cli_grant(int argc, char **argv)
{
	const char *cmd = "grant", *data = NULL, *wp = NULL, *email = NULL, *partner = NULL,
		   *level_name = NULL;
	const struct flag flags[] = {
		{"data", true, &data, NULL, true},        {"wp", true, &wp, NULL, true},
		{"user", true, &email, NULL, false},      {"partner", true, &partner, NULL, false},
		{"level", true, &level_name, NULL, true},
	};
	struct db *db = NULL;
	struct acct_user u = {0};
	int64_t wp_id = 0, user_id = 0, partner_id = 0;
	int level, old = 0, ignored;
	char object[300] = "";
	enum err rc;
	int st;

	st = parse_flags(cmd, argc, argv, flags, 5);
	if (st)
		return st;
	if (!email == !partner) {
		fprintf(stderr, "consort grant: give exactly one of --user and --partner\n");
		return 2;
	}
	if (!acct_level_parse(level_name, &level)) {
		fprintf(stderr, "consort grant: --level must be none, read, write or manage\n");
		return 2;
	}
	rc = open_data(data, &db);
	if (!rc) {
		rc = acct_wp_resolve(db, wp, 0, &wp_id, &ignored);
		if (rc == ERR_NOTFOUND)
			rc = err_set(ERR_NOTFOUND, "no work package '%s'", wp);
	}
	if (!rc && email) {
		rc = acct_user_by_email(db, email, &u);
		if (rc == ERR_NOTFOUND)
			rc = err_set(ERR_NOTFOUND, "no user '%s'", email);
		user_id = u.id;
		snprintf(object, sizeof object, "user:%s", email);
	}
	if (!rc && partner) {
		rc = acct_partner_id(db, partner, &partner_id);
		snprintf(object, sizeof object, "partner:%s", partner);
	}
	acct_user_clear(&u);
	if (!rc)
		rc = db_begin(db);
	if (!rc) {
		rc = acct_grant_set(db, wp_id, user_id, partner_id, level, 0, &old);
		if (!rc) {
			char detail[64];

			snprintf(detail, sizeof detail, "%s -> %s", acct_level_name(old),
				 acct_level_name(level));
			rc = audit_append(db, 0, CLI_ACTOR, "", "grant", wp_id, object, detail);
		}
		if (!rc)
			rc = db_commit(db);
		if (rc)
			db_rollback(db);
	}
	db_close(db);
	if (rc)
		return fail(cmd, rc);
	printf("%s on %s: %s (was %s)\n", object, wp, acct_level_name(level), acct_level_name(old));
	return 0;
}

/* --- consort routes ------------------------------------------------------------------ */

int cli_routes(int argc, char **argv)
{
	static const char *const bodies[] = {
		[RBODY_NONE] = "none",     [RBODY_JSON] = "json",
		[RBODY_STREAM] = "stream", [RBODY_OPTIONAL_JSON] = "optional_json",
		[RBODY_TEXT] = "text",
	};
	json_t *arr = json_array();
	char *text;

	(void)argv;
	if (argc != 0) {
		fprintf(stderr, "usage: consort routes\n");
		json_decref(arr);
		return 2;
	}
	if (router_check(routes, nroutes)) {
		fprintf(stderr, "consort routes: %s\n", err_detail());
		json_decref(arr);
		return 1;
	}
	for (size_t i = 0; arr && i < nroutes; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}", "method",
						     routes[i].method, "pattern", routes[i].pattern,
						     "access", access_name(routes[i].access),
						     "body", bodies[routes[i].body]));
	text = arr ? json_dumps(arr, JSON_INDENT(1)) : NULL;
	json_decref(arr);
	if (!text) {
		fprintf(stderr, "consort routes: out of memory\n");
		return 1;
	}
	printf("%s\n", text);
	free(text);
	return 0;
}
