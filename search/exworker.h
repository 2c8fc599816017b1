/*
 * exworker — text extraction in a separate, resource-limited process.
 *
 * The server never parses a document itself. It starts a helper (the
 * hidden subcommand `consort extract-worker`) and keeps it alive across
 * documents; requests and answers travel over a pair of pipes as
 * length-framed messages (below). Each document runs under limits:
 *   CPU time   RLIMIT_CPU set by the helper before each document
 *   memory     RLIMIT_AS of the helper (not under AddressSanitizer,
 *              whose shadow memory needs the address space)
 *   wall time  the parent kills the helper when an answer is late
 *   output     the text is capped (extract.h), and so is the answer
 *   archives   member count and expanded size (extract.h)
 * When the helper dies (crash, CPU limit, kill for lateness) the
 * document it was working on gets a failed result naming why, and the
 * next request starts a fresh helper: one bad document costs that
 * document only.
 *
 * Wire format: every message is a 4-byte big-endian length, then that
 * many bytes of fields; a field is a 1-byte tag, a 4-byte big-endian
 * length and the bytes. Numbers travel as decimal text.
 */
#ifndef CONSORT_EXWORKER_H
#define CONSORT_EXWORKER_H

#include <sys/types.h>

#include "err.h"
#include "extract.h"

struct exworker;

/* Decode an answer body (the fields after the length) into `res`, which
 * the caller zeroed and frees with extract_result_free whatever this
 * returns. The helper is the process that parses hostile documents, so
 * its answer is read as hostile too: ERR_CORRUPT for a malformed field.
 * Exposed for the fuzz driver and tests. */
enum err exworker_decode(const char *p, size_t len, struct extract_result *res);

/* A handle that starts `argv` (argv[0] is the program path; NULL-
 * terminated, copied) as the helper when first needed. `lim` is copied. */
enum err exworker_new(char *const argv[], const struct extract_limits *lim, struct exworker **out);

/* Extract `path` (a blob file, whose MIME type `mime` is known or NULL:
 * see extract_file) in the helper. Like extract_file, a
 * document that cannot be extracted is a result with EXTRACT_FAILED and
 * a reason, including when the helper crashed, hung or hit a limit;
 * an error comes back only when no helper can be started at all or
 * memory runs out. */
enum err exworker_extract(struct exworker *w, const char *path, const char *name, const char *mime,
			  struct extract_result *res);

/* Change the CPU and wall time budget of the next documents (0 leaves
 * one as it is). The indexer gives a document's first try less than the
 * configured limit. */
void exworker_set_time(struct exworker *w, unsigned cpu_seconds, unsigned wall_seconds);

/* Make a running exworker_extract, and every later one, return
 * ERR_CONFLICT ("interrupted") at once, killing the helper; for
 * shutdown. Safe to call from another thread. */
void exworker_interrupt(struct exworker *w);

/* The helper's pid, or 0 when none runs (for tests). */
pid_t exworker_pid(const struct exworker *w);

/* How many helpers were started so far. */
unsigned exworker_starts(const struct exworker *w);

/* Stops the helper (closing its pipe makes it exit) and frees. Accepts
 * NULL. */
void exworker_free(struct exworker *w);

/* Body of `consort extract-worker`: serve requests on stdin/stdout until
 * stdin closes. Returns the process exit code. */
int exworker_main(void);

#endif
