/*
 * textdiff — what changed between two extracted texts, word by word
 * (prose: DOCX, ODT, PDF, HTML, TXT) or line by line (CSV, Markdown).
 *
 * Algorithm: Myers' O((N+M)·D) greedy diff (E. Myers, "An O(ND)
 * Difference Algorithm and Its Variations", 1986) over tokens, after
 * the common prefix and suffix are cut off. A token is a word with the
 * white space after it (compared without that space, so re-wrapped
 * lines are no change), or a line. Tokens are compared by a 64-bit hash
 * first, then byte for byte.
 *
 * Bounds: D, the number of inserted plus deleted tokens, is capped at
 * `max_d`. Time is O((N+M)·max_d), memory O(N+M + max_d²) (the trace
 * kept for backtracking, 4·(max_d+1)² bytes). Past the cap the diff
 * does not go on: what lies between the common prefix and suffix is
 * reported as one deletion and one insertion, and the result says
 * `approximate`. So the worst case is a fixed amount of work for a given
 * input size, whatever the texts hold.
 */
#ifndef CONSORT_TEXTDIFF_H
#define CONSORT_TEXTDIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

enum tdiff_mode { TDIFF_WORDS, TDIFF_LINES };
enum tdiff_kind { TDIFF_EQUAL, TDIFF_DELETE, TDIFF_INSERT };

/* One run of the edit script: `len` bytes at `off` of the old text
 * (EQUAL, DELETE) or the new one (INSERT). Runs alternate kinds; an
 * EQUAL run also gives its offset in the new text (`off_new`). */
struct tdiff_op {
	enum tdiff_kind kind;
	size_t off, len;
	size_t off_new;
	size_t tokens;
};

struct tdiff_result {
	struct tdiff_op *ops;
	size_t n;
	bool approximate;         /* max_d was reached */
	size_t deleted, inserted; /* tokens */
};

/* Diff `a` (old, `alen` bytes) against `b` (new). ERR_OK with the edit
 * script in *out (free with tdiff_free), ERR_NOMEM. `max_d` 0 means
 * TDIFF_DEFAULT_MAX_D. */
#define TDIFF_DEFAULT_MAX_D 2000
enum err tdiff(const char *a, size_t alen, const char *b, size_t blen, enum tdiff_mode mode,
	       size_t max_d, struct tdiff_result *out);
void tdiff_free(struct tdiff_result *r);

#endif
