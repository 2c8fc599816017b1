/* Unit tests for storage/cas.c: writing in pieces, durability sequence,
 * dedup, holds against gc, reading at offsets, temp cleanup, resumable
 * writers, and simulated disk-full and I/O failures (the .c is included so that its
 * write() and fdatasync() calls can be made to fail). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

/* Fault injection: after `fail_after` more successful calls, write() or
 * fdatasync() fail with `fail_errno`. */
static int write_fail_errno, write_fail_after;
static int sync_fail_errno;

static ssize_t test_write(int fd, const void *buf, size_t n)
{
	if (write_fail_errno && write_fail_after-- <= 0) {
		errno = write_fail_errno;
		return -1;
	}
	return write(fd, buf, n);
}

static int test_fdatasync(int fd)
{
	if (sync_fail_errno) {
		errno = sync_fail_errno;
		return -1;
	}
	return fdatasync(fd);
}

#define write test_write
#define fdatasync test_fdatasync
#include "../../../storage/cas.c"
#undef write
#undef fdatasync

#include "digest.h"
#include "storage_fixture.h"

static void sha_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];

	digest_sha256(data, len, md);
	digest_hex(md, 32, out);
}

static unsigned char *random_bytes(size_t n)
{
	unsigned char *b = malloc(n);

	assert_non_null(b);
	assert_int_equal(digest_random(b, n), ERR_OK);
	return b;
}

static int count_tmp(struct fx *f)
{
	char dir[128];

	snprintf(dir, sizeof dir, "%s/tmp", f->dir);
	return fx_count_files(dir);
}

static void pieces_commit_to_hash_path(void **state)
{
	struct fx *f = *state;
	struct cas_writer *w;
	struct cas_blob b;
	char want[65], path[512];
	struct stat st;

	sha_hex("hello, world", 12, want);
	assert_int_equal(cas_writer_new(f->cas, 0, &w), ERR_OK);
	/* a small writer does no I/O until it stores */
	assert_int_equal(count_tmp(f), 0);
	assert_int_equal(cas_writer_write(w, "hello", 5), ERR_OK);
	assert_int_equal(cas_writer_write(w, "", 0), ERR_OK);
	assert_int_equal(cas_writer_write(w, ", world", 7), ERR_OK);
	assert_int_equal(cas_writer_size(w), 12);
	assert_int_equal(count_tmp(f), 0);
	assert_int_equal(cas_writer_store(w, &b), ERR_OK);
	assert_string_equal(b.hash, want);
	assert_int_equal(b.size, 12);
	assert_false(b.deduplicated);
	assert_true(b.held);
	/* held: gc's removal leaves it */
	assert_int_equal(cas_remove(f->cas, b.hash), ERR_LOCKED);
	/* DATA/blobs/ab/cd/<hash>, read-only, and the temp is gone */
	assert_true(cas_blob_path(f->cas, b.hash, path, sizeof path));
	snprintf(want, sizeof want, "%.2s/%.2s/", b.hash, b.hash + 2);
	assert_non_null(strstr(path, want));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0444);
	assert_int_equal(st.st_size, 12);
	assert_int_equal(count_tmp(f), 0);
	assert_int_equal(cas_stat(f->cas, b.hash, NULL), ERR_OK);
	/* the hold goes when asked, and then gc may remove it */
	cas_blob_release(&b);
	assert_false(b.held);
	cas_blob_release(&b); /* released already: fine */
	cas_blob_release(NULL);
	assert_int_equal(cas_remove(f->cas, b.hash), ERR_OK);
	assert_int_equal(cas_stat(f->cas, b.hash, NULL), ERR_NOTFOUND);
}

/* A head start on the flush changes nothing but the timing; a failure
 * there is the writer's failure. */
static void start_sync_then_store(void **state)
{
	struct fx *f = *state;
	struct cas_writer *w;
	struct cas_blob b;
	char want[65];

	sha_hex("early bytes", 11, want);
	assert_int_equal(cas_writer_new(f->cas, 0, &w), ERR_OK);
	assert_int_equal(cas_writer_write(w, "early ", 6), ERR_OK);
	assert_int_equal(cas_writer_start_sync(w), ERR_OK);
	assert_int_equal(count_tmp(f), 1); /* the file exists from here */
	assert_int_equal(cas_writer_write(w, "bytes", 5), ERR_OK);
	assert_int_equal(cas_writer_start_sync(w), ERR_OK);
	assert_int_equal(cas_writer_store(w, &b), ERR_OK);
	assert_string_equal(b.hash, want);
	cas_blob_release(&b);
	/* the buffered bytes cannot be written: the writer is dead */
	assert_int_equal(cas_writer_new(f->cas, 0, &w), ERR_OK);
	assert_int_equal(cas_writer_write(w, "doomed", 6), ERR_OK);
	write_fail_errno = ENOSPC;
	write_fail_after = 0;
	assert_int_equal(cas_writer_start_sync(w), ERR_NOSPACE);
	write_fail_errno = 0;
	assert_int_equal(cas_writer_store(w, &b), ERR_NOSPACE);
	assert_int_equal(count_tmp(f), 0);
}

static void empty_content(void **state)
{
	struct fx *f = *state;
	struct cas_blob b = fx_store(f, "", 0);

	assert_string_equal(b.hash,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(b.size, 0);
}

static void same_content_is_stored_once(void **state)
{
	struct fx *f = *state;
	struct cas_blob a = fx_store_held(f, "same bytes", 10);
	struct cas_blob b = fx_store_held(f, "same bytes", 10);
	char blobs[128];

	assert_false(a.deduplicated);
	assert_true(b.deduplicated);
	assert_string_equal(a.hash, b.hash);
	snprintf(blobs, sizeof blobs, "%s/blobs", f->dir);
	assert_int_equal(fx_count_files(blobs), 1);
	assert_int_equal(count_tmp(f), 0);
	/* both uploads hold it until they have referenced it */
	cas_blob_release(&a);
	assert_int_equal(cas_remove(f->cas, a.hash), ERR_LOCKED);
	cas_blob_release(&b);
	assert_int_equal(cas_remove(f->cas, a.hash), ERR_OK);
	assert_int_equal(fx_count_files(blobs), 0);
}

/* Pieces of every size, some far above the internal buffer: the hash and
 * the stored bytes must be exactly the input. Large enough to pass
 * through several writeback windows. */
static void many_piece_sizes(void **state)
{
	struct fx *f = *state;
	size_t total = 20u << 20, off = 0, n;
	unsigned char *data = random_bytes(total), *back = malloc(total);
	struct cas_writer *w;
	struct cas_reader *r;
	struct cas_blob b;
	char want[65];
	size_t got;
	unsigned seed = 7;

	assert_non_null(back);
	sha_hex(data, total, want);
	assert_int_equal(cas_writer_new(f->cas, 0, &w), ERR_OK);
	while (off < total) {
		seed = seed * 1103515245u + 12345u;
		switch (seed % 4) {
		case 0: n = 1 + seed % 17; break;
		case 1: n = 1 + seed % 16384; break;
		case 2: n = 1 + seed % 300000; break;
		default: n = (1u << 20) + seed % (3u << 20); break;
		}
		if (n > total - off)
			n = total - off;
		assert_int_equal(cas_writer_write(w, data + off, n), ERR_OK);
		off += n;
	}
	assert_int_equal(cas_writer_store(w, &b), ERR_OK);
	cas_blob_release(&b);
	assert_string_equal(b.hash, want);
	assert_int_equal(b.size, total);
	assert_int_equal(cas_reader_open(f->cas, b.hash, &r), ERR_OK);
	assert_int_equal(cas_reader_size(r), total);
	for (off = 0; off < total; off += got) {
		assert_int_equal(cas_reader_read(r, off, back + off, CAS_READ_WINDOW, &got),
				 ERR_OK);
		assert_true(got > 0);
	}
	assert_memory_equal(back, data, total);
	cas_reader_close(r);
	free(data);
	free(back);
}

static void size_hint_reserves_and_trims(void **state)
{
	struct fx *f = *state;
	struct cas_writer *w;
	struct cas_blob b;
	char path[512];
	struct stat st;

	assert_int_equal(cas_writer_new(f->cas, 10u << 20, &w), ERR_OK);
	/* a large declared size is reserved at once, so its file exists */
	assert_int_equal(count_tmp(f), 1);
	assert_int_equal(cas_writer_write(w, "short", 5), ERR_OK);
	assert_int_equal(cas_writer_store(w, &b), ERR_OK);
	cas_blob_release(&b);
	assert_true(cas_blob_path(f->cas, b.hash, path, sizeof path));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 5);
	/* reserved blocks past the end were given back */
	assert_true(st.st_blocks * 512 < (1 << 20));
	/* a declared size that cannot fit fails before any byte is read */
	err_clear();
	assert_int_equal(cas_writer_new(f->cas, UINT64_C(1) << 62, &w), ERR_NOSPACE);
	assert_non_null(strstr(err_detail(), "disk space"));
	assert_null(w);
	assert_int_equal(count_tmp(f), 0);
}

static void reader_any_offset(void **state)
{
	struct fx *f = *state;
	struct cas_blob b = fx_store(f, "0123456789", 10);
	struct cas_reader *r;
	char buf[16];
	size_t got;

	assert_int_equal(cas_reader_open(f->cas, b.hash, &r), ERR_OK);
	assert_true(cas_reader_fd(r) >= 0);
	assert_int_equal(cas_reader_read(r, 7, buf, 16, &got), ERR_OK);
	assert_int_equal(got, 3);
	assert_memory_equal(buf, "789", 3);
	assert_int_equal(cas_reader_read(r, 2, buf, 4, &got), ERR_OK);
	assert_int_equal(got, 4);
	assert_memory_equal(buf, "2345", 4);
	assert_int_equal(cas_reader_read(r, 0, buf, 1, &got), ERR_OK);
	assert_memory_equal(buf, "0", 1);
	assert_int_equal(cas_reader_read(r, 10, buf, 4, &got), ERR_OK);
	assert_int_equal(got, 0);
	assert_int_equal(cas_reader_read(r, UINT64_MAX, buf, 4, &got), ERR_OK);
	assert_int_equal(got, 0);
	cas_reader_close(r);
	cas_reader_close(NULL);
}

static void reader_refuses_bad_and_missing(void **state)
{
	struct fx *f = *state;
	struct cas_reader *r;

	assert_int_equal(cas_reader_open(f->cas, "../../consort.db", &r), ERR_INVALID);
	assert_null(r);
	assert_int_equal(cas_reader_open(f->cas, "ABCDEF", &r), ERR_INVALID);
	assert_int_equal(
		cas_reader_open(f->cas,
				"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
				&r),
		ERR_INVALID);
	assert_int_equal(
		cas_reader_open(f->cas,
				"0000000000000000000000000000000000000000000000000000000000000000",
				&r),
		ERR_NOTFOUND);
	assert_non_null(strstr(err_detail(), "missing"));
	assert_false(cas_hash_valid(NULL));
	assert_false(cas_hash_valid(""));
}

static void abort_removes_temp(void **state)
{
	struct fx *f = *state;
	struct cas_writer *w;
	char blobs[128];

	assert_int_equal(cas_writer_new(f->cas, 100, &w), ERR_OK);
	assert_int_equal(cas_writer_write(w, "partial", 7), ERR_OK);
	assert_int_equal(cas_writer_sync(w), ERR_OK); /* now it has a file */
	assert_int_equal(count_tmp(f), 1);
	cas_writer_abort(w);
	cas_writer_abort(NULL);
	assert_int_equal(count_tmp(f), 0);
	snprintf(blobs, sizeof blobs, "%s/blobs", f->dir);
	assert_int_equal(fx_count_files(blobs), 0);
	/* and one that never had a file */
	assert_int_equal(cas_writer_new(f->cas, 0, &w), ERR_OK);
	assert_int_equal(cas_writer_write(w, "partial", 7), ERR_OK);
	cas_writer_abort(w);
	assert_int_equal(count_tmp(f), 0);
	/* close on a temp writer is an abort */
	assert_int_equal(cas_writer_new(f->cas, 0, &w), ERR_OK);
	assert_int_equal(cas_writer_close(w), ERR_OK);
	assert_int_equal(count_tmp(f), 0);
}

static void disk_full_while_writing(void **state)
{
	static const int errnos[] = {ENOSPC, EDQUOT};
	struct fx *f = *state;
	unsigned char *data = random_bytes(3u << 20);

	for (size_t i = 0; i < 2; i++) {
		struct cas_writer *w;
		struct cas_blob b;

		assert_int_equal(cas_writer_new(f->cas, 0, &w), ERR_OK);
		write_fail_errno = errnos[i];
		write_fail_after = 1; /* the first write lands, the next does not */
		err_clear();
		assert_int_equal(cas_writer_write(w, data, 3u << 20),
				 ERR_OK); /* direct: one write */
		assert_int_equal(cas_writer_write(w, data, 1u << 20), ERR_NOSPACE);
		assert_non_null(strstr(err_detail(), "not enough disk space"));
		/* the temp is gone at once, to give the space back */
		assert_int_equal(count_tmp(f), 0);
		write_fail_errno = 0;
		/* dead: every later call says the same */
		err_clear();
		assert_int_equal(cas_writer_write(w, "x", 1), ERR_NOSPACE);
		assert_non_null(strstr(err_detail(), "not enough disk space"));
		assert_int_equal(cas_writer_store(w, &b), ERR_NOSPACE);
		assert_string_equal(b.hash, "");
		assert_false(b.held);
	}
	free(data);
}

static void disk_full_at_flush_and_sync(void **state)
{
	struct fx *f = *state;
	struct cas_writer *w;
	struct cas_blob b;
	char blobs[128];

	snprintf(blobs, sizeof blobs, "%s/blobs", f->dir);
	/* buffered bytes hit the disk only at commit */
	assert_int_equal(cas_writer_new(f->cas, 0, &w), ERR_OK);
	assert_int_equal(cas_writer_write(w, "buffered", 8), ERR_OK);
	write_fail_errno = ENOSPC;
	write_fail_after = 0;
	assert_int_equal(cas_writer_store(w, &b), ERR_NOSPACE);
	write_fail_errno = 0;
	assert_int_equal(count_tmp(f), 0);
	/* delayed allocation: ENOSPC can come from fdatasync */
	assert_int_equal(cas_writer_new(f->cas, 0, &w), ERR_OK);
	assert_int_equal(cas_writer_write(w, "buffered", 8), ERR_OK);
	sync_fail_errno = ENOSPC;
	assert_int_equal(cas_writer_store(w, &b), ERR_NOSPACE);
	sync_fail_errno = EIO;
	assert_int_equal(cas_writer_new(f->cas, 0, &w), ERR_OK);
	assert_int_equal(cas_writer_store(w, &b), ERR_IO);
	sync_fail_errno = 0;
	assert_int_equal(count_tmp(f), 0);
	assert_int_equal(fx_count_files(blobs), 0);
	assert_false(b.held);
	/* and the store works again afterwards */
	b = fx_store(f, "after", 5);
	assert_int_equal(b.size, 5);
}

/* gc's side of a race with a writer, played by a thread: it holds the
 * blob's exclusive lock (as cas_remove does between its check and the
 * unlink) while a writer storing the same content finds the name taken
 * and waits for the lock; then it unlinks. The writer must notice that
 * the file it waited for is gone and store its own copy, never answer
 * with a name that no longer exists. */
struct gc_race {
	char path[512];
	int fd;
};

static void *gc_race_main(void *arg)
{
	struct gc_race *g = arg;

	usleep(200 * 1000); /* the writer is waiting for the lock by now */
	assert_int_equal(unlink(g->path), 0);
	close(g->fd);
	return NULL;
}

static void store_waits_for_gc_and_stores_again(void **state)
{
	struct fx *f = *state;
	struct cas_blob a = fx_store(f, "swept content", 13), b;
	struct gc_race g;
	struct stat st;
	pthread_t t;

	assert_true(cas_blob_path(f->cas, a.hash, g.path, sizeof g.path));
	g.fd = open(g.path, O_RDONLY);
	assert_true(g.fd >= 0);
	assert_int_equal(flock(g.fd, LOCK_EX | LOCK_NB), 0);
	assert_int_equal(pthread_create(&t, NULL, gc_race_main, &g), 0);
	b = fx_store_held(f, "swept content", 13);
	pthread_join(t, NULL);
	assert_false(b.deduplicated);
	assert_int_equal(stat(g.path, &st), 0);
	assert_int_equal(st.st_size, 13);
	/* and what it holds is the file at the name */
	assert_int_equal(cas_remove(f->cas, b.hash), ERR_LOCKED);
	cas_blob_release(&b);
	assert_int_equal(count_tmp(f), 0);
}

/* The other order: the writer holds the existing blob first; gc's
 * removal must leave it. */
static void gc_leaves_a_blob_a_writer_deduplicated(void **state)
{
	struct fx *f = *state;
	struct cas_blob a = fx_store(f, "shared content", 14);
	struct cas_blob b = fx_store_held(f, "shared content", 14);

	assert_true(b.deduplicated);
	assert_int_equal(cas_remove(f->cas, a.hash), ERR_LOCKED);
	assert_int_equal(cas_stat(f->cas, a.hash, NULL), ERR_OK);
	cas_blob_release(&b);
	assert_int_equal(cas_remove(f->cas, a.hash), ERR_OK);
	assert_int_equal(cas_stat(f->cas, a.hash, NULL), ERR_NOTFOUND);
}

static void damaged_blob_is_repaired_by_new_upload(void **state)
{
	struct fx *f = *state;
	struct cas_blob a = fx_store(f, "precious content", 16), b;
	char path[512];
	struct stat st;

	assert_true(cas_blob_path(f->cas, a.hash, path, sizeof path));
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(truncate(path, 3), 0);
	b = fx_store(f, "precious content", 16);
	assert_false(b.deduplicated);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 16);
	assert_int_equal(st.st_mode & 0777, 0444);
}

static void clean_tmp_spares_live_writers(void **state)
{
	struct fx *f = *state;
	struct cas_writer *w;
	struct cas *again;
	char path[256];
	uint64_t removed = 0;
	int fd;

	assert_int_equal(cas_writer_new(f->cas, 0, &w), ERR_OK);
	assert_int_equal(cas_writer_write(w, "alive", 5), ERR_OK);
	assert_int_equal(cas_writer_sync(w), ERR_OK); /* its file exists from here */
	/* a dead writer's temp, and a file that is not a temp at all */
	snprintf(path, sizeof path, "%s/tmp/cas-deadbeef.tmp", f->dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	snprintf(path, sizeof path, "%s/tmp/notes.txt", f->dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(count_tmp(f), 3);
	/* with an age limit, a fresh abandoned temp stays */
	assert_int_equal(cas_clean_tmp(f->cas, 3600, &removed), ERR_OK);
	assert_int_equal(removed, 0);
	/* as at server start: every unlocked temp goes */
	assert_int_equal(cas_open(f->dir, CAS_OPEN_CLEAN, &again), ERR_OK);
	cas_close(again);
	assert_int_equal(count_tmp(f), 2);
	assert_int_equal(cas_clean_tmp(f->cas, 0, &removed), ERR_OK);
	assert_int_equal(removed, 0);
	/* the live writer still commits */
	{
		struct cas_blob b;

		assert_int_equal(cas_writer_write(w, "!", 1), ERR_OK);
		assert_int_equal(cas_writer_store(w, &b), ERR_OK);
		cas_blob_release(&b);
		assert_int_equal(b.size, 6);
	}
	assert_int_equal(count_tmp(f), 1); /* notes.txt is not ours to remove */
}

static void resumable_writer(void **state)
{
	struct fx *f = *state;
	struct cas_writer *w, *other;
	struct cas_blob b;
	char path[256], want[65];
	struct stat st;

	snprintf(path, sizeof path, "%s/uploads", f->dir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/uploads/upload-1", f->dir);
	assert_int_equal(cas_writer_resume(f->cas, path, &w), ERR_OK);
	assert_int_equal(cas_writer_size(w), 0);
	assert_int_equal(cas_writer_write(w, "hello ", 6), ERR_OK);
	/* one writer per partial file */
	assert_int_equal(cas_writer_resume(f->cas, path, &other), ERR_LOCKED);
	assert_null(other);
	assert_int_equal(cas_writer_sync(w), ERR_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 6);
	assert_int_equal(cas_writer_close(w), ERR_OK);
	assert_int_equal(stat(path, &st), 0); /* kept for later */

	/* resume: the bytes so far are re-hashed */
	assert_int_equal(cas_writer_resume(f->cas, path, &w), ERR_OK);
	assert_int_equal(cas_writer_size(w), 6);
	assert_int_equal(cas_writer_write(w, "wrong", 5), ERR_OK);
	/* a request whose checksum failed is cut off again */
	assert_int_equal(cas_writer_truncate(w, 6), ERR_OK);
	assert_int_equal(cas_writer_size(w), 6);
	assert_int_equal(cas_writer_truncate(w, 7), ERR_INVALID);
	assert_int_equal(cas_writer_write(w, "world", 5), ERR_OK);
	sha_hex("hello world", 11, want);
	assert_int_equal(cas_writer_store(w, &b), ERR_OK);
	cas_blob_release(&b);
	assert_string_equal(b.hash, want);
	assert_int_not_equal(stat(path, &st), 0); /* moved into the store */

	/* abort removes the partial file */
	assert_int_equal(cas_writer_resume(f->cas, path, &w), ERR_OK);
	assert_int_equal(cas_writer_write(w, "x", 1), ERR_OK);
	cas_writer_abort(w);
	assert_int_not_equal(stat(path, &st), 0);
	assert_int_equal(cas_writer_resume(f->cas, "relative/path", &w), ERR_INVALID);
}

/* A tus upload whose last request cannot be committed keeps the bytes
 * before that request: a store that fails leaves the partial file where
 * it was (writable), and one that took it into the store gives them
 * back from the held blob (cas_partial_from_blob). */
static void resumable_kept_when_not_committed(void **state)
{
	struct fx *f = *state;
	struct cas_writer *w, *other;
	struct cas_blob b, again;
	char path[256], blocker[256], want[65], buf[16];
	struct stat st;
	int fd;

	snprintf(path, sizeof path, "%s/uploads", f->dir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/uploads/upload-2", f->dir);
	sha_hex("hello world", 11, want);

	/* the disk fails at the store: the file stays */
	assert_int_equal(cas_writer_resume(f->cas, path, &w), ERR_OK);
	assert_int_equal(cas_writer_write(w, "hello world", 11), ERR_OK);
	sync_fail_errno = EIO;
	assert_int_equal(cas_writer_store(w, &b), ERR_IO);
	sync_fail_errno = 0;
	assert_false(b.held);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 11);

	/* placing it fails after it was made read-only: writable again */
	snprintf(blocker, sizeof blocker, "%s/blobs/%.2s", f->dir, want);
	fd = open(blocker, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(cas_writer_resume(f->cas, path, &w), ERR_OK);
	assert_int_equal(cas_writer_size(w), 11);
	assert_int_not_equal(cas_writer_store(w, &b), ERR_OK);
	assert_int_equal(unlink(blocker), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 11);

	/* stored, then not committed: the first 6 bytes come back */
	assert_int_equal(cas_writer_resume(f->cas, path, &w), ERR_OK);
	assert_int_equal(cas_writer_store(w, &b), ERR_OK);
	assert_string_equal(b.hash, want);
	assert_int_not_equal(stat(path, &st), 0);
	assert_int_equal(cas_partial_from_blob(&b, path, 12), ERR_INVALID);
	assert_int_equal(cas_partial_from_blob(&b, path, 6), ERR_OK);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof buf), 6);
	close(fd);
	assert_memory_equal(buf, "hello ", 6);
	/* never under a writer's feet */
	assert_int_equal(cas_writer_resume(f->cas, path, &other), ERR_OK);
	assert_int_equal(cas_partial_from_blob(&b, path, 6), ERR_LOCKED);
	assert_int_equal(cas_writer_close(other), ERR_OK);
	cas_blob_release(&b);
	assert_int_equal(cas_partial_from_blob(&b, path, 6), ERR_INVALID); /* not held */

	/* and the upload goes on from there */
	assert_int_equal(cas_writer_resume(f->cas, path, &w), ERR_OK);
	assert_int_equal(cas_writer_size(w), 6);
	assert_int_equal(cas_writer_write(w, "world", 5), ERR_OK);
	assert_int_equal(cas_writer_store(w, &again), ERR_OK);
	assert_string_equal(again.hash, want);
	assert_true(again.deduplicated);
	cas_blob_release(&again);
}

static void side_digests_for_tus(void **state)
{
	struct fx *f = *state;
	struct cas_writer *w;
	struct cas_blob b;
	unsigned char md[32];
	char hex[65];

	assert_int_equal(cas_writer_new(f->cas, 0, &w), ERR_OK);
	assert_int_equal(cas_writer_side_end(w, md), 0);
	assert_int_equal(cas_writer_write(w, "xyz", 3), ERR_OK); /* before: not covered */
	assert_int_equal(cas_writer_side_begin(w, DIGEST_SHA1), ERR_OK);
	assert_int_equal(cas_writer_write(w, "a", 1), ERR_OK);
	assert_int_equal(cas_writer_write(w, "bc", 2), ERR_OK);
	assert_int_equal(cas_writer_side_end(w, md), DIGEST_SHA1_LEN);
	digest_hex(md, DIGEST_SHA1_LEN, hex);
	assert_string_equal(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
	assert_int_equal(cas_writer_side_begin(w, DIGEST_SHA256), ERR_OK);
	assert_int_equal(cas_writer_write(w, "abc", 3), ERR_OK);
	assert_int_equal(cas_writer_side_end(w, md), DIGEST_SHA256_LEN);
	digest_hex(md, DIGEST_SHA256_LEN, hex);
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(cas_writer_store(w, &b), ERR_OK);
	cas_blob_release(&b);
	sha_hex("xyzabcabc", 9, hex);
	assert_string_equal(b.hash, hex);
}

static enum err count_walk(void *ctx, const char *rel, const char *name, const struct stat *st)
{
	(void)rel;
	(void)name;
	if (S_ISREG(st->st_mode))
		++*(int *)ctx;
	return ERR_OK;
}

static void walk_and_remove(void **state)
{
	struct fx *f = *state;
	struct cas_blob a = fx_store(f, "one", 3);
	int n = 0;

	fx_store(f, "two", 3);
	assert_int_equal(cas_walk(f->cas, count_walk, &n), ERR_OK);
	assert_int_equal(n, 2);
	assert_int_equal(cas_remove(f->cas, a.hash), ERR_OK);
	assert_int_equal(cas_remove(f->cas, a.hash), ERR_OK);
	assert_int_equal(cas_stat(f->cas, a.hash, NULL), ERR_NOTFOUND);
	assert_int_equal(cas_remove(f->cas, "../x"), ERR_INVALID);
	n = 0;
	assert_int_equal(cas_walk(f->cas, count_walk, &n), ERR_OK);
	assert_int_equal(n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(pieces_commit_to_hash_path, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(start_sync_then_store, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(empty_content, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(same_content_is_stored_once, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(many_piece_sizes, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(size_hint_reserves_and_trims, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(reader_any_offset, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(reader_refuses_bad_and_missing, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(abort_removes_temp, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(disk_full_while_writing, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(disk_full_at_flush_and_sync, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(store_waits_for_gc_and_stores_again, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(gc_leaves_a_blob_a_writer_deduplicated, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(damaged_blob_is_repaired_by_new_upload, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(clean_tmp_spares_live_writers, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(resumable_writer, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(resumable_kept_when_not_committed, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(side_digests_for_tus, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(walk_and_remove, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
