/* Unit tests for server/api/config.c: defaults, file, flags, refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "api/config.h"

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/consort-config-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static enum err load(struct config *cfg, int argc, const char **argv)
{
	config_defaults(cfg);
	return config_load(cfg, argc, (char **)argv);
}

static void flags_set_values_with_units(void **state)
{
	struct config cfg;
	const char *argv[] = {"--data",         "/tmp/x",         "--workers", "3",
			      "--max-head=32K", "--idle-timeout", "2m",        "--log-format",
			      "json",           "--access-log",   "false"};

	(void)state;
	assert_int_equal(load(&cfg, 11, argv), ERR_OK);
	assert_string_equal(cfg.data_dir, "/tmp/x");
	assert_string_equal(cfg.listen, "127.0.0.1:8443");
	assert_int_equal(cfg.workers, 3);
	assert_int_equal(cfg.http.max_head, 32 * 1024);
	assert_int_equal(cfg.http.idle_timeout_ms, 120000);
	assert_int_equal(cfg.log_format, LOG_JSON);
	assert_false(cfg.access_log);
	config_free(&cfg);
}

static void flags_win_over_file(void **state)
{
	struct config cfg;
	char *path = write_temp("# comment\n\nworkers = 4\nlisten = \"[::1]:9443\"\ndata=/srv/c\n");
	const char *argv[] = {"--config", path, "--workers", "2"};

	(void)state;
	assert_int_equal(load(&cfg, 4, argv), ERR_OK);
	assert_int_equal(cfg.workers, 2);
	assert_string_equal(cfg.listen, "[::1]:9443");
	assert_string_equal(cfg.data_dir, "/srv/c");
	config_free(&cfg);
	unlink(path);
	free(path);
}

static void refuses_with_line_and_reason(void **state)
{
	struct config cfg;
	char *path = write_temp("workers = 2\nbogus = 1\n");
	const char *argv[] = {"--config", path, "--data", "/tmp/x"};

	(void)state;
	assert_int_equal(load(&cfg, 4, argv), ERR_INVALID);
	assert_non_null(strstr(err_detail(), ":2: unknown key 'bogus'"));
	config_free(&cfg);
	unlink(path);
	free(path);

	path = write_temp("max-connections = -5\n");
	argv[1] = path;
	assert_int_equal(load(&cfg, 4, argv), ERR_INVALID);
	assert_non_null(strstr(err_detail(), ":1: max-connections"));
	assert_non_null(strstr(err_detail(), "negative"));
	config_free(&cfg);
	unlink(path);
	free(path);
}

static void refuses_bad_flags(void **state)
{
	struct config cfg;
	const char *unknown[] = {"--data", "/x", "--frobnicate", "1"};
	const char *bad_unit[] = {"--data", "/x", "--max-head", "10Q"};
	const char *too_big[] = {"--data", "/x", "--workers", "100000"};
	const char *no_data[] = {"--workers", "1"};
	const char *lone_cert[] = {"--data", "/x", "--cert", "/c.pem"};
	const char *bad_bool[] = {"--data", "/x", "--access-log", "maybe"};
	const char *missing_file[] = {"--config", "/nonexistent/consort.conf", "--data", "/x"};

	(void)state;
	assert_int_equal(load(&cfg, 4, unknown), ERR_INVALID);
	assert_non_null(strstr(err_detail(), "--frobnicate"));
	config_free(&cfg);
	assert_int_equal(load(&cfg, 4, bad_unit), ERR_INVALID);
	assert_non_null(strstr(err_detail(), "unit"));
	config_free(&cfg);
	assert_int_equal(load(&cfg, 4, too_big), ERR_INVALID);
	assert_non_null(strstr(err_detail(), "maximum"));
	config_free(&cfg);
	assert_int_equal(load(&cfg, 2, no_data), ERR_INVALID);
	config_free(&cfg);
	assert_int_equal(load(&cfg, 4, lone_cert), ERR_INVALID);
	config_free(&cfg);
	assert_int_equal(load(&cfg, 4, bad_bool), ERR_INVALID);
	config_free(&cfg);
	assert_int_not_equal(load(&cfg, 4, missing_file), ERR_OK);
	assert_non_null(strstr(err_detail(), "/nonexistent/consort.conf"));
	config_free(&cfg);
}

/* A relative data directory is made absolute against the working
 * directory at start (a chunked tus upload needs absolute paths). */
static void relative_data_dir_made_absolute(void **state)
{
	struct config cfg;
	char cwd[4096], want[4200];
	const char *rel[] = {"--data", "./data/x"};
	const char *dot[] = {"--data", "."};

	(void)state;
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(load(&cfg, 2, rel), ERR_OK);
	snprintf(want, sizeof want, "%s%sdata/x", cwd, strcmp(cwd, "/") ? "/" : "");
	assert_string_equal(cfg.data_dir, want);
	config_free(&cfg);
	assert_int_equal(load(&cfg, 2, dot), ERR_OK);
	assert_true(cfg.data_dir[0] == '/');
	assert_true(!strncmp(cfg.data_dir, cwd, strlen(cwd)));
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(flags_set_values_with_units),
		cmocka_unit_test(flags_win_over_file),
		cmocka_unit_test(refuses_with_line_and_reason),
		cmocka_unit_test(refuses_bad_flags),
		cmocka_unit_test(relative_data_dir_made_absolute),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
