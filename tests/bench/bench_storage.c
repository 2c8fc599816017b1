/*
 * bench_storage — the storage benchmark's driver (tests/bench/storage.sh);
 * not part of the test suite.
 *
 *   bench_storage versions DATA N      add N small versions, print ops/s
 *   bench_storage store DATA FILE [P]  store FILE through a cas writer in
 *                                      pieces of P bytes (default 16 KiB,
 *                                      a TLS record), print seconds
 *
 * DATA is created (database migrated, one work package).
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cas.h"
#include "db.h"
#include "db_internal.h"
#include "name.h"
#include "tree.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_storage: %s: %s\n", what, err_detail());
	exit(1);
}

static void open_store(const char *dir, struct db **db, struct cas **cas)
{
	char path[4096];

	mkdir(dir, 0700);
	snprintf(path, sizeof path, "%s/consort.db", dir);
	if (db_open(path, db) || db_migrate(*db))
		die("open database");
	if (cas_open(dir, CAS_OPEN_CREATE | CAS_OPEN_CLEAN, cas))
		die("open store");
	if (sqlite3_exec(
		    db_sqlite(*db),
		    "INSERT INTO wps(code, title, created_at) VALUES ('WP1', 'bench', 1);"
		    "INSERT INTO nodes(wp_id, parent_id, is_folder, name, name_key, created_at,"
		    " modified_at) VALUES (1, NULL, 1, '', '', 1, 1);"
		    "UPDATE wps SET root_id = last_insert_rowid() WHERE id = 1;",
		    NULL, NULL, NULL) != SQLITE_OK)
		die("create work package");
}

/* N versions of 4 KiB each, spread over N/10 documents, each one the
 * whole path a PUT takes, one after the other: writer, store (fsync,
 * rename, dir fsync), tree_put (one transaction). */
static int versions(const char *dir, long n)
{
	struct db *db;
	struct cas *cas;
	char body[4096], name[64];
	double t0, t;

	open_store(dir, &db, &cas);
	memset(body, 'x', sizeof body);
	t0 = now();
	for (long i = 0; i < n; i++) {
		struct cas_writer *w;
		struct cas_blob b;
		struct name_path p;
		struct tree_put req = {.mime = "text/plain"};
		struct tree_put_result res;

		snprintf(body, sizeof body, "version %ld of a small document", i);
		snprintf(name, sizeof name, "doc-%04ld.txt", i % (n / 10 ? n / 10 : 1));
		if (cas_writer_new(cas, sizeof body, &w) ||
		    cas_writer_write(w, body, sizeof body) || cas_writer_store(w, &b))
			die("store version");
		if (name_path_from_text(name, &p))
			die("path");
		req.blob = b.hash;
		req.size = b.size;
		if (tree_put(db, 1, &p, &req, &res))
			die("add version");
		cas_blob_release(&b);
		name_path_free(&p);
	}
	t = now() - t0;
	printf("versions: %ld in %.2f s = %.0f ops/s\n", n, t, (double)n / t);
	cas_close(cas);
	db_close(db);
	return 0;
}

static int store(const char *dir, const char *file, size_t piece)
{
	struct db *db;
	struct cas *cas;
	struct cas_writer *w;
	struct cas_blob b;
	unsigned char *buf = malloc(piece);
	struct stat st;
	ssize_t k;
	double t0;
	int fd;

	open_store(dir, &db, &cas);
	fd = open(file, O_RDONLY);
	if (!buf || fd < 0 || fstat(fd, &st) != 0) {
		perror(file);
		return 1;
	}
	t0 = now();
	if (cas_writer_new(cas, (uint64_t)st.st_size, &w))
		die("start writer");
	while ((k = read(fd, buf, piece)) > 0)
		if (cas_writer_write(w, buf, (size_t)k))
			die("write");
	if (cas_writer_store(w, &b))
		die("store");
	printf("store: %.3f s %s\n", now() - t0, b.hash);
	cas_blob_release(&b);
	close(fd);
	free(buf);
	cas_close(cas);
	db_close(db);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "versions"))
		return versions(argv[2], strtol(argv[3], NULL, 10));
	if ((argc == 4 || argc == 5) && !strcmp(argv[1], "store"))
		return store(argv[2], argv[3], argc == 5 ? strtoul(argv[4], NULL, 10) : 16384);
	fprintf(stderr, "usage: bench_storage versions DATA N | store DATA FILE [PIECE]\n");
	return 2;
}
