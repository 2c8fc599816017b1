/*
 * fuzz_csv — libFuzzer driver for the CSV reader (storage/csv.c).
 * Invariants: every record has 1..CSV_MAX_FIELDS fields of at most
 * CSV_MAX_FIELD bytes, line numbers never decrease, and a record written
 * back with csv_put reads again as the same fields.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv *c = csv_new((const char *)data, size);
	size_t n, line, last = 0;
	char **f;

	if (!c)
		return 0;
	while (csv_next(c, &f, &n, &line) == ERR_OK && n > 0) {
		char *buf = NULL, **g;
		size_t len = 0, cap = 0, m, at;
		struct csv *again;
		bool formula = false;

		assert(n <= CSV_MAX_FIELDS);
		assert(line >= last);
		last = line;
		for (size_t i = 0; i < n; i++) {
			assert(strlen(f[i]) <= CSV_MAX_FIELD);
			formula |= strchr("=+-@", f[i][0]) && f[i][0];
			if (csv_put(&buf, &len, &cap, f[i], i + 1 == n))
				abort();
		}
		/* Empty single fields read as blank lines, skipped; a ';'
		 * separator guess may differ on a line of its own; formula
		 * cells come back with their guard. */
		if (!(n == 1 && !f[0][0]) && !formula) {
			again = csv_new(buf, len);
			if (csv_next(again, &g, &m, &at) == ERR_OK && m == n) {
				for (size_t i = 0; i < n; i++)
					assert(strcmp(f[i], g[i]) == 0);
			}
			csv_free(again);
		}
		free(buf);
	}
	csv_free(c);
	return 0;
}
