/* Unit tests for storage/blobback_s3.c and s3.c without a store: the
 * DATA/blob-store file (read, write, refusals) and the configuration
 * checks s3_open makes before any request. The requests themselves are
 * tested against a real Ceph (tests/e2e/s3_ceph.test.mjs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "blobback.h"
#include "s3.h"

static char *tempdir(void)
{
	char tmpl[] = "/tmp/consort-blobback-XXXXXX";
	char *d = mkdtemp(tmpl);

	assert_non_null(d);
	return strdup(d);
}

static void put_file(const char *dir, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/blob-store", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void cleanup(char *dir)
{
	char cmd[4200];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

static void missing_file_is_local(void **state)
{
	struct blobback_config c;
	char *dir = tempdir();

	(void)state;
	assert_int_equal(blobback_config_read(dir, &c), ERR_OK);
	assert_string_equal(c.store, "local");
	cleanup(dir);
}

static void write_then_read(void **state)
{
	struct blobback_config c, back;
	char *dir = tempdir();

	(void)state;
	memset(&c, 0, sizeof c);
	strcpy(c.store, "s3");
	strcpy(c.endpoint, "https://s3.example.org");
	strcpy(c.region, "eu-central-1");
	strcpy(c.bucket, "consort-blobs");
	strcpy(c.addressing, "virtual");
	strcpy(c.credentials_file, "/etc/consort/s3-credentials");
	assert_int_equal(blobback_config_write(dir, &c), ERR_OK);
	assert_int_equal(blobback_config_read(dir, &back), ERR_OK);
	assert_string_equal(back.store, "s3");
	assert_string_equal(back.endpoint, c.endpoint);
	assert_string_equal(back.region, c.region);
	assert_string_equal(back.bucket, c.bucket);
	assert_string_equal(back.addressing, "virtual");
	assert_string_equal(back.credentials_file, c.credentials_file);
	assert_string_equal(back.ca_file, "");
	cleanup(dir);
}

static void bad_files_refused(void **state)
{
	static const struct {
		const char *text, *detail;
	} cases[] = {
		{"store = tape\n", "store must be local or s3"},
		{"store = s3\naddressing = dns\n", "addressing must be path or virtual"},
		{"store = s3\nno equals sign\n", "line 2: expected key = value"},
		{"store = s3\nsecret_key = x\n", "line 2: unknown or too long 'secret_key'"},
	};
	struct blobback_config c;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *dir = tempdir();

		put_file(dir, cases[i].text);
		assert_int_equal(blobback_config_read(dir, &c), ERR_INVALID);
		assert_non_null(strstr(err_detail(), cases[i].detail));
		cleanup(dir);
	}
}

static void open_checks_config_first(void **state)
{
	static const struct {
		struct s3_config cfg;
		const char *detail;
	} cases[] = {
		{{.bucket = "b", .access_key = "k", .secret_key = "s"}, "s3-endpoint is not set"},
		{{.endpoint = "http://s3.example.org",
		  .bucket = "b",
		  .access_key = "k",
		  .secret_key = "s"},
		 "must be https://"},
		{{.endpoint = "ftp://127.0.0.1",
		  .bucket = "b",
		  .access_key = "k",
		  .secret_key = "s"},
		 "must be https://"},
		{{.endpoint = "https://s3.example.org",
		  .bucket = "Upper_Case",
		  .access_key = "k",
		  .secret_key = "s"},
		 "lower-case bucket name"},
		{{.endpoint = "https://s3.example.org", .bucket = "b"}, "no S3 credentials"},
	};
	struct s3 *s = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_int_equal(s3_open(&cases[i].cfg, &s), ERR_INVALID);
		assert_null(s);
		assert_non_null(strstr(err_detail(), cases[i].detail));
	}
}

static void credentials_file_missing(void **state)
{
	struct blobback_config c;
	struct blobback *b = NULL;

	(void)state;
	memset(&c, 0, sizeof c);
	strcpy(c.store, "s3");
	strcpy(c.endpoint, "https://s3.example.org");
	strcpy(c.bucket, "b");
	strcpy(c.credentials_file, "/nonexistent/consort-s3-credentials");
	assert_int_equal(blobback_s3_open(&c, &b), ERR_INVALID);
	assert_null(b);
	assert_non_null(strstr(err_detail(), "does not exist"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(missing_file_is_local),
		cmocka_unit_test(write_then_read),
		cmocka_unit_test(bad_files_refused),
		cmocka_unit_test(open_checks_config_first),
		cmocka_unit_test(credentials_file_missing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
