/* Unit tests for storage/blobcache.c: a whole in-order read fills, a
 * Range read or wrong content fills nothing, the bound evicts the least
 * recently used, a changed file is dropped, files found at open are
 * re-hashed on first use, unfinished fills are removed at open. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "blobcache.h"
#include "digest.h"

struct blob {
	unsigned char data[100000];
	size_t len;
	char hash[DIGEST_SHA256_HEX_LEN + 1];
};

static char *tempdir(void)
{
	char tmpl[] = "/tmp/consort-blobcache-XXXXXX";
	char *d = mkdtemp(tmpl);

	assert_non_null(d);
	return strdup(d);
}

static void cleanup(char *dir)
{
	char cmd[4200];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

static void make_blob(struct blob *b, size_t len, unsigned seed)
{
	unsigned char md[DIGEST_SHA256_LEN];

	b->len = len;
	for (size_t i = 0; i < len; i++)
		b->data[i] = (unsigned char)(i * 31 + seed * 7 + (i >> 8));
	digest_sha256(b->data, len, md);
	digest_hex(md, sizeof md, b->hash);
}

/* Fill in chunks of 10,000 bytes, as a download reads. */
static void fill(struct blobcache *c, const struct blob *b)
{
	struct blobcache_fill *f = blobcache_fill_begin(c, b->hash, b->len);

	assert_non_null(f);
	for (size_t off = 0; off < b->len; off += 10000)
		blobcache_fill_add(f, off, b->data + off,
				   b->len - off < 10000 ? b->len - off : 10000);
	blobcache_fill_end(f);
}

static bool cached_ok(struct blobcache *c, const struct blob *b)
{
	int fd;
	uint64_t size;
	unsigned char buf[100000];

	if (blobcache_get(c, b->hash, &fd, &size) != ERR_OK)
		return false;
	assert_int_equal(size, b->len);
	assert_int_equal(pread(fd, buf, sizeof buf, 0), (ssize_t)b->len);
	assert_memory_equal(buf, b->data, b->len);
	close(fd);
	return true;
}

static size_t files_in(const char *dir)
{
	char cmd[4200];
	FILE *p;
	size_t n = 0;

	snprintf(cmd, sizeof cmd, "ls -A '%s/cache' | wc -l", dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%zu", &n), 1);
	pclose(p);
	return n;
}

static void test_fill_get_bound(void **state)
{
	char *dir = tempdir();
	struct blobcache *c;
	struct blobcache_stats st;
	static struct blob a, b, d;

	(void)state;
	make_blob(&a, 90000, 1);
	make_blob(&b, 90000, 2);
	make_blob(&d, 90000, 3);
	assert_int_equal(blobcache_open(dir, 200000, &c), ERR_OK);
	assert_false(cached_ok(c, &a));
	fill(c, &a);
	fill(c, &b);
	assert_true(cached_ok(c, &a)); /* a is now more recent than b */
	fill(c, &d);                   /* 270,000 > 200,000: b goes */
	assert_true(cached_ok(c, &a));
	assert_false(cached_ok(c, &b));
	assert_true(cached_ok(c, &d));
	blobcache_get_stats(c, &st);
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.bytes, 180000);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(files_in(dir), 2);
	/* Larger than the whole cache: not kept at all. */
	assert_null(blobcache_fill_begin(c, a.hash, 200001));
	blobcache_close(c);
	cleanup(dir);
}

static void test_partial_and_wrong_fill_nothing(void **state)
{
	char *dir = tempdir();
	struct blobcache *c;
	struct blobcache_fill *f, *g;
	static struct blob a, b;

	(void)state;
	make_blob(&a, 50000, 4);
	make_blob(&b, 50000, 5);
	assert_int_equal(blobcache_open(dir, 1000000, &c), ERR_OK);
	/* A Range read: starts in the middle. */
	f = blobcache_fill_begin(c, a.hash, a.len);
	assert_non_null(f);
	blobcache_fill_add(f, 100, a.data + 100, 1000);
	blobcache_fill_end(f);
	assert_false(cached_ok(c, &a));
	/* Stopped before the end. */
	f = blobcache_fill_begin(c, a.hash, a.len);
	blobcache_fill_add(f, 0, a.data, 40000);
	blobcache_fill_end(f);
	assert_false(cached_ok(c, &a));
	/* Content that is not what the name says. */
	f = blobcache_fill_begin(c, a.hash, a.len);
	blobcache_fill_add(f, 0, b.data, b.len);
	blobcache_fill_end(f);
	assert_false(cached_ok(c, &a));
	assert_int_equal(files_in(dir), 0);
	/* One fill of a blob at a time: a second reader keeps nothing. */
	f = blobcache_fill_begin(c, a.hash, a.len);
	assert_non_null(f);
	assert_null(blobcache_fill_begin(c, a.hash, a.len));
	g = blobcache_fill_begin(c, b.hash, b.len); /* another blob: fine */
	assert_non_null(g);
	blobcache_fill_end(g);
	blobcache_fill_end(f);
	fill(c, &a);
	assert_true(cached_ok(c, &a));
	blobcache_close(c);
	cleanup(dir);
}

static void test_changed_file_dropped(void **state)
{
	char *dir = tempdir(), path[4200];
	struct blobcache *c;
	struct blobcache_stats st;
	static struct blob a;
	int fd;

	(void)state;
	make_blob(&a, 80000, 6);
	assert_int_equal(blobcache_open(dir, 1000000, &c), ERR_OK);
	fill(c, &a);
	snprintf(path, sizeof path, "%s/cache/%s", dir, a.hash);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "XX", 2, 10), 2); /* same size, other bytes */
	close(fd);
	assert_false(cached_ok(c, &a));
	blobcache_get_stats(c, &st);
	assert_int_equal(st.dropped, 1);
	assert_int_equal(st.entries, 0);
	assert_int_equal(access(path, F_OK), -1);
	blobcache_close(c);
	cleanup(dir);
}

static void test_reopen_rehashes(void **state)
{
	char *dir = tempdir(), path[4200];
	struct blobcache *c;
	struct blobcache_stats st;
	static struct blob a, b;
	int fd;

	(void)state;
	make_blob(&a, 70000, 7);
	make_blob(&b, 70000, 8);
	assert_int_equal(blobcache_open(dir, 1000000, &c), ERR_OK);
	fill(c, &a);
	fill(c, &b);
	blobcache_close(c);
	/* While no process has it open: damage b, leave an unfinished fill
	 * and a stray file. */
	snprintf(path, sizeof path, "%s/cache/%s", dir, b.hash);
	fd = open(path, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "Z", 1, 69999), 1);
	close(fd);
	snprintf(path, sizeof path, "%s/cache/.fill-0123-1-1", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	close(fd);
	snprintf(path, sizeof path, "%s/cache/not-a-blob", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	close(fd);
	assert_int_equal(blobcache_open(dir, 1000000, &c), ERR_OK);
	assert_int_equal(files_in(dir), 2);
	assert_true(cached_ok(c, &a));
	assert_false(cached_ok(c, &b));
	blobcache_get_stats(c, &st);
	assert_int_equal(st.dropped, 1);
	assert_int_equal(st.hits, 1);
	/* A smaller bound at open evicts down to it. */
	blobcache_close(c);
	assert_int_equal(blobcache_open(dir, 10000, &c), ERR_OK);
	assert_int_equal(files_in(dir), 0);
	blobcache_close(c);
	cleanup(dir);
}

static void test_link(void **state)
{
	char *dir = tempdir(), path[4200];
	struct blobcache *c;
	static struct blob a;
	struct stat st;

	(void)state;
	make_blob(&a, 60000, 9);
	assert_int_equal(blobcache_open(dir, 1000000, &c), ERR_OK);
	snprintf(path, sizeof path, "%s/copy", dir);
	assert_int_equal(blobcache_link(c, a.hash, path), ERR_NOTFOUND);
	fill(c, &a);
	assert_int_equal(blobcache_link(c, a.hash, path), ERR_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 60000);
	/* The helper's link coming and going leaves the entry good. */
	assert_int_equal(unlink(path), 0);
	assert_true(cached_ok(c, &a));
	blobcache_close(c);
	cleanup(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill_get_bound),
		cmocka_unit_test(test_partial_and_wrong_fill_nothing),
		cmocka_unit_test(test_changed_file_dropped),
		cmocka_unit_test(test_reopen_rehashes),
		cmocka_unit_test(test_link),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
