/* Unit tests for storage/smallblob.c and the writer's in-memory view
 * (cas_writer_small): small content stays in memory, is stored and read
 * back through either tier, exported for helpers, collected by gc when
 * no version references it, checked by fsck, and counted for /metrics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "maint.h"
#include "smallblob.h"
#include "tree.h"
#include "storage_fixture.h"

static void hash_of(const void *data, size_t len, char hex[DIGEST_SHA256_HEX_LEN + 1])
{
	unsigned char md[DIGEST_SHA256_LEN];

	digest_sha256(data, len, md);
	digest_hex(md, sizeof md, hex);
}

static int count_dir(const char *dir, const char *sub)
{
	char path[256];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(path, sizeof path, "%s/%s", dir, sub);
	d = opendir(path);
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void add_version(struct fx *f, const char *hash, int64_t size)
{
	struct name_path p = fx_path("d.txt");
	struct tree_put req = {.user_id = f->alice,
			       .blob = hash,
			       .size = (uint64_t)size,
			       .mime = "text/plain",
			       .parents = true};
	struct tree_put_result res;

	if (tree_put(f->db, f->wp, &p, &req, &res) != ERR_OK)
		fail_msg("put: %s", err_detail());
	name_path_free(&p);
}

static void test_writer_small(void **state)
{
	struct fx *f = *state;
	struct cas_writer *w;
	const unsigned char *data;
	size_t len;
	static unsigned char big[SMALLBLOB_MAX + 1];
	char path[256], hash[DIGEST_SHA256_HEX_LEN + 1], want[DIGEST_SHA256_HEX_LEN + 1];
	FILE *fp;

	/* A temp writer keeps small content in memory: no file at all. */
	assert_int_equal(cas_writer_new(f->cas, 0, &w), ERR_OK);
	assert_int_equal(cas_writer_write(w, "hello ", 6), ERR_OK);
	assert_int_equal(cas_writer_write(w, "world", 5), ERR_OK);
	assert_true(cas_writer_small(w, SMALLBLOB_MAX, &data, &len));
	assert_int_equal(len, 11);
	assert_memory_equal(data, "hello world", 11);
	assert_int_equal(count_dir(f->dir, "tmp"), 0);
	assert_true(cas_writer_hash(w, hash));
	hash_of("hello world", 11, want);
	assert_string_equal(hash, want);
	cas_writer_abort(w);

	/* A writer told the size keeps a buffer of that size: content of
	 * exactly that size, or more than was announced, stays in memory. */
	memset(big, 'y', sizeof big);
	assert_int_equal(cas_writer_new(f->cas, 10240, &w), ERR_OK);
	assert_int_equal(cas_writer_write(w, big, 10240), ERR_OK);
	assert_true(cas_writer_small(w, SMALLBLOB_MAX, &data, &len));
	assert_int_equal(len, 10240);
	assert_memory_equal(data, big, 10240);
	cas_writer_abort(w);
	assert_int_equal(cas_writer_new(f->cas, 100, &w), ERR_OK);
	assert_int_equal(cas_writer_write(w, big, 100), ERR_OK);
	assert_int_equal(cas_writer_write(w, big + 100, 20000), ERR_OK);
	assert_true(cas_writer_small(w, SMALLBLOB_MAX, &data, &len));
	assert_int_equal(len, 20100);
	assert_memory_equal(data, big, 20100);
	assert_int_equal(count_dir(f->dir, "tmp"), 0);
	cas_writer_abort(w);

	/* Empty content is small too. */
	assert_int_equal(cas_writer_new(f->cas, 0, &w), ERR_OK);
	assert_true(cas_writer_small(w, SMALLBLOB_MAX, &data, &len));
	assert_int_equal(len, 0);
	cas_writer_abort(w);

	/* Over the threshold: refused, and the writer still stores. */
	memset(big, 'x', sizeof big);
	assert_int_equal(cas_writer_new(f->cas, 0, &w), ERR_OK);
	assert_int_equal(cas_writer_write(w, big, sizeof big), ERR_OK);
	assert_false(cas_writer_small(w, SMALLBLOB_MAX, &data, &len));
	/* Its hash asked for on the way does not change what it stores. */
	assert_true(cas_writer_hash(w, hash));
	{
		struct cas_blob b;

		assert_int_equal(cas_writer_store(w, &b), ERR_OK);
		hash_of(big, sizeof big, want);
		assert_string_equal(b.hash, want);
		assert_string_equal(hash, want);
		cas_blob_release(&b);
	}

	/* A resumable writer: what earlier requests wrote is read back. */
	snprintf(path, sizeof path, "%s/uploads/u1", f->dir);
	{
		char dir[256];

		snprintf(dir, sizeof dir, "%s/uploads", f->dir);
		mkdir(dir, 0700);
	}
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("first part, ", fp);
	fclose(fp);
	assert_int_equal(cas_writer_resume(f->cas, path, &w), ERR_OK);
	assert_int_equal(cas_writer_write(w, "second part", 11), ERR_OK);
	assert_true(cas_writer_small(w, SMALLBLOB_MAX, &data, &len));
	assert_int_equal(len, 23);
	assert_memory_equal(data, "first part, second part", 23);
	/* Its hash covers the bytes earlier requests wrote. */
	assert_true(cas_writer_hash(w, hash));
	hash_of("first part, second part", 23, want);
	assert_string_equal(hash, want);
	/* The partial file is only removed when the writer ends. */
	assert_int_equal(access(path, F_OK), 0);
	cas_writer_abort(w);
	assert_int_not_equal(access(path, F_OK), 0);
}

static void test_put_get_open(void **state)
{
	struct fx *f = *state;
	static const char content[] = "small content of a document";
	char h[DIGEST_SHA256_HEX_LEN + 1], path[512];
	unsigned char *data, buf[64];
	size_t len, got;
	uint64_t size;
	struct cas_reader *r;
	bool temp;

	hash_of(content, strlen(content), h);
	assert_int_equal(smallblob_stat(f->db, h, &size), ERR_NOTFOUND);
	assert_int_equal(smallblob_open(f->db, f->cas, h, &r), ERR_NOTFOUND);
	assert_int_equal(smallblob_put(f->db, h, content, strlen(content)), ERR_OK);
	/* Deduplicated: the same content again is one row. */
	assert_int_equal(smallblob_put(f->db, h, content, strlen(content)), ERR_OK);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM small_blobs"), 1);
	assert_int_equal(smallblob_put(f->db, "nothex", "x", 1), ERR_INVALID);
	assert_int_equal(smallblob_stat(f->db, h, &size), ERR_OK);
	assert_int_equal(size, strlen(content));
	assert_int_equal(smallblob_get(f->db, h, &data, &len), ERR_OK);
	assert_int_equal(len, strlen(content));
	assert_memory_equal(data, content, len);
	free(data);

	/* Read through a cas reader, at any offset. */
	assert_int_equal(smallblob_open(f->db, f->cas, h, &r), ERR_OK);
	assert_int_equal(cas_reader_size(r), strlen(content));
	assert_int_equal(cas_reader_read(r, 6, buf, 7, &got), ERR_OK);
	assert_int_equal(got, 7);
	assert_memory_equal(buf, "content", 7);
	assert_true(cas_reader_fd(r) >= 0);
	cas_reader_close(r);

	/* Helpers get a private copy in DATA/tmp. */
	assert_int_equal(smallblob_export(f->db, f->dir, h, path, sizeof path, &temp), ERR_OK);
	assert_true(temp);
	assert_non_null(strstr(path, "/tmp/cas-export-"));
	{
		FILE *fp = fopen(path, "r");

		assert_non_null(fp);
		assert_int_equal(fread(buf, 1, sizeof buf, fp), strlen(content));
		fclose(fp);
		assert_memory_equal(buf, content, strlen(content));
	}
	unlink(path);

	/* Content in the file tier is found there. */
	{
		static const char other[] = "stored as a file";
		struct cas_writer *w;
		struct cas_blob b;

		assert_int_equal(cas_writer_new(f->cas, 0, &w), ERR_OK);
		assert_int_equal(cas_writer_write(w, other, strlen(other)), ERR_OK);
		assert_int_equal(cas_writer_store(w, &b), ERR_OK);
		cas_blob_release(&b);
		assert_int_equal(smallblob_open(f->db, f->cas, b.hash, &r), ERR_OK);
		assert_int_equal(cas_reader_size(r), strlen(other));
		cas_reader_close(r);
		assert_int_equal(smallblob_export(f->db, f->dir, b.hash, path, sizeof path, &temp),
				 ERR_OK);
		assert_false(temp);
		assert_non_null(strstr(path, "/blobs/"));
	}
}

static enum err count_rows(void *ctx, const char *hash, const unsigned char *data, size_t len)
{
	(void)hash;
	(void)data;
	(void)len;
	(*(int *)ctx)++;
	return ERR_OK;
}

static void report_none(void *ctx, const char *line)
{
	(void)ctx;
	fail_msg("unexpected fsck problem: %s", line);
}

static void report_count(void *ctx, const char *line)
{
	(void)line;
	(*(int *)ctx)++;
}

static void test_gc_and_fsck(void **state)
{
	struct fx *f = *state;
	static const char a[] = "kept: a version references it";
	static const char b[] = "unreferenced";
	char ha[DIGEST_SHA256_HEX_LEN + 1], hb[DIGEST_SHA256_HEX_LEN + 1];
	uint64_t removed = 0, bytes = 0;
	struct maint_fsck_stats fs;
	struct maint_gc_stats gs;
	int n = 0, problems = 0;

	hash_of(a, strlen(a), ha);
	hash_of(b, strlen(b), hb);
	assert_int_equal(smallblob_put(f->db, ha, a, strlen(a)), ERR_OK);
	assert_int_equal(smallblob_put(f->db, hb, b, strlen(b)), ERR_OK);
	add_version(f, ha, (int64_t)strlen(a));
	assert_int_equal(smallblob_walk(f->db, true, count_rows, &n), ERR_OK);
	assert_int_equal(n, 2);

	assert_int_equal(maint_fsck(f->dir, true, report_none, NULL, &fs), ERR_OK);
	assert_int_equal(fs.problems, 0);
	assert_int_equal(fs.blobs, 2);
	assert_int_equal(fs.unreferenced, 1);

	assert_int_equal(smallblob_gc(f->db, &removed, &bytes), ERR_OK);
	assert_int_equal(removed, 1);
	assert_int_equal(bytes, strlen(b));
	assert_int_equal(smallblob_stat(f->db, hb, NULL), ERR_NOTFOUND);
	assert_int_equal(smallblob_stat(f->db, ha, NULL), ERR_OK);
	/* gc through maint: nothing more to remove, the referenced row stays. */
	assert_int_equal(maint_gc(f->dir, 0, &gs), ERR_OK);
	assert_int_equal(smallblob_stat(f->db, ha, NULL), ERR_OK);

	/* Damaged content: fsck names it (and only with re-hashing). */
	fx_exec(f, "UPDATE small_blobs SET content = X'00' || content");
	assert_int_equal(maint_fsck(f->dir, false, report_count, &problems, &fs), ERR_OK);
	assert_int_equal(problems, 1); /* the size the version gives */
	problems = 0;
	assert_int_equal(maint_fsck(f->dir, true, report_count, &problems, &fs), ERR_OK);
	assert_int_equal(problems, 2); /* and the hash */
	/* Missing: referenced by a version, in neither tier. */
	fx_exec(f, "DELETE FROM small_blobs");
	problems = 0;
	assert_int_equal(maint_fsck(f->dir, true, report_count, &problems, &fs), ERR_OK);
	assert_int_equal(problems, 1);
}

/* The figures /metrics shows for this tier: distinct contents (a
 * second put of the same content adds nothing, empty content is one)
 * and their bytes, following gc. */
static void test_stats(void **state)
{
	struct fx *f = *state;
	static const char a[] = "first small content";
	static unsigned char b[SMALLBLOB_MAX];
	char ha[DIGEST_SHA256_HEX_LEN + 1], hb[DIGEST_SHA256_HEX_LEN + 1],
		he[DIGEST_SHA256_HEX_LEN + 1];
	uint64_t count = 99, bytes = 99, removed = 0, reclaimed = 0;

	assert_int_equal(smallblob_stats(f->db, &count, &bytes), ERR_OK);
	assert_int_equal(count, 0);
	assert_int_equal(bytes, 0);

	memset(b, 'b', sizeof b); /* the largest small content: overflow pages */
	hash_of(a, strlen(a), ha);
	hash_of(b, sizeof b, hb);
	hash_of("", 0, he);
	assert_int_equal(smallblob_put(f->db, ha, a, strlen(a)), ERR_OK);
	assert_int_equal(smallblob_put(f->db, hb, b, sizeof b), ERR_OK);
	assert_int_equal(smallblob_put(f->db, ha, a, strlen(a)), ERR_OK);
	assert_int_equal(smallblob_put(f->db, he, "", 0), ERR_OK);
	assert_int_equal(smallblob_stats(f->db, &count, &bytes), ERR_OK);
	assert_int_equal(count, 3);
	assert_int_equal(bytes, strlen(a) + sizeof b);

	/* Inside a transaction it counts what the transaction sees. */
	assert_int_equal(db_begin(f->db), ERR_OK);
	fx_exec(f, "DELETE FROM small_blobs WHERE length(content) = 0");
	assert_int_equal(smallblob_stats(f->db, &count, &bytes), ERR_OK);
	assert_int_equal(count, 2);
	db_rollback(f->db);

	/* gc takes the unreferenced rows, and the figures with them. */
	add_version(f, ha, (int64_t)strlen(a));
	assert_int_equal(smallblob_gc(f->db, &removed, &reclaimed), ERR_OK);
	assert_int_equal(removed, 2);
	assert_int_equal(reclaimed, sizeof b);
	assert_int_equal(smallblob_stats(f->db, &count, &bytes), ERR_OK);
	assert_int_equal(count, 1);
	assert_int_equal(bytes, strlen(a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_writer_small, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_put_get_open, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_gc_and_fsck, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_stats, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
