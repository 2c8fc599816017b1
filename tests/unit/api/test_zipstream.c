/* Unit tests for server/api/zipstream.c: archives written front to back
 * are read back by Info-ZIP's unzip (a real reader, not our own
 * parser): names, contents, CRCs, the data descriptors, and the ZIP64
 * end records once there are more than 65535 entries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "api/zipstream.h"

struct out {
	FILE *f;
	char path[64];
};

static void out_open(struct out *o)
{
	int fd;

	snprintf(o->path, sizeof o->path, "/tmp/consort-zip-XXXXXX");
	fd = mkstemp(o->path);
	assert_true(fd >= 0);
	o->f = fdopen(fd, "wb");
	assert_non_null(o->f);
}

static void put(struct out *o, const void *p, size_t n)
{
	assert_int_equal(fwrite(p, 1, n, o->f), n);
}

static void entry(struct zipstream *z, struct out *o, const char *name, const char *data,
		  size_t piece)
{
	unsigned char *head = malloc(ZIP_HEADER_MAX + strlen(name));
	size_t len = 0, n = strlen(data);

	assert_non_null(head);
	assert_int_equal(zip_entry_begin(z, name, n, 1764950400, head, &len), ERR_OK);
	put(o, head, len);
	for (size_t i = 0; i < n; i += piece) {
		size_t k = n - i < piece ? n - i : piece;

		zip_entry_data(z, data + i, k);
		put(o, data + i, k);
	}
	assert_int_equal(zip_entry_end(z, head, &len), ERR_OK);
	put(o, head, len);
	free(head);
}

static void finish(struct zipstream *z, struct out *o)
{
	unsigned char *tail = NULL;
	size_t len = 0;

	assert_int_equal(zip_finish(z, &tail, &len), ERR_OK);
	put(o, tail, len);
	free(tail);
	assert_int_equal(fclose(o->f), 0);
}

/* Output of a shell command, NUL-terminated, and its exit status. */
static char *run(const char *cmd, int *status)
{
	FILE *p = popen(cmd, "r");
	size_t cap = 1 << 16, len = 0, n;
	char *buf = malloc(cap);

	assert_non_null(p);
	assert_non_null(buf);
	while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
		len += n;
		if (cap - len < 2) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
	}
	buf[len] = '\0';
	*status = pclose(p);
	return buf;
}

static void test_small_archive(void **state)
{
	struct zipstream *z = zip_new();
	struct out o;
	char cmd[256], *text;
	int status;

	(void)state;
	assert_non_null(z);
	out_open(&o);
	entry(z, &o, "empty.txt", "", 1);
	entry(z, &o, "Reports/D1 final.txt", "the deliverable, read in small pieces", 5);
	entry(z, &o, "Reports/Übersicht ü.md", "# Übersicht\n", 64);
	finish(z, &o);
	zip_free(z);

	snprintf(cmd, sizeof cmd, "unzip -t '%s' 2>&1", o.path);
	text = run(cmd, &status);
	assert_int_equal(status, 0);
	assert_non_null(strstr(text, "No errors detected"));
	free(text);
	snprintf(cmd, sizeof cmd, "unzip -p '%s' 'Reports/D1 final.txt'", o.path);
	text = run(cmd, &status);
	assert_int_equal(status, 0);
	assert_string_equal(text, "the deliverable, read in small pieces");
	free(text);
	snprintf(cmd, sizeof cmd, "unzip -Z1 '%s'", o.path);
	text = run(cmd, &status);
	assert_string_equal(text, "empty.txt\nReports/D1 final.txt\nReports/Übersicht ü.md\n");
	free(text);
	unlink(o.path);
}

static void test_wrong_size(void **state)
{
	struct zipstream *z = zip_new();
	unsigned char head[ZIP_HEADER_MAX + 8];
	size_t len;

	(void)state;
	assert_int_equal(zip_entry_begin(z, "a.txt", 5, 0, head, &len), ERR_OK);
	zip_entry_data(z, "abc", 3);
	assert_int_equal(zip_entry_end(z, head, &len), ERR_INTERNAL);
	zip_free(z);
}

/* More entries than the classic end record counts: ZIP64 end records. */
static void test_many_entries(void **state)
{
	enum { N = 65600 };
	struct zipstream *z = zip_new();
	struct out o;
	char name[32], cmd[256], *text;
	int status;

	(void)state;
	out_open(&o);
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof name, "f/%05d.txt", i);
		entry(z, &o, name, i % 2 ? "x" : "yz", 4);
	}
	finish(z, &o);
	zip_free(z);
	snprintf(cmd, sizeof cmd, "unzip -tq '%s' 2>&1", o.path);
	text = run(cmd, &status);
	assert_int_equal(status, 0);
	assert_non_null(strstr(text, "No errors detected"));
	free(text);
	snprintf(cmd, sizeof cmd, "unzip -Z1 '%s' | wc -l", o.path);
	text = run(cmd, &status);
	assert_int_equal(atoi(text), N);
	free(text);
	snprintf(cmd, sizeof cmd, "unzip -p '%s' f/65599.txt", o.path);
	text = run(cmd, &status);
	assert_string_equal(text, "x");
	free(text);
	unlink(o.path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_archive),
		cmocka_unit_test(test_wrong_size),
		cmocka_unit_test(test_many_entries),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
