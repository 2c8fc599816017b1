/*
 * cmd_rescan — `consort rescan --data DIR (--clamd-socket PATH |
 * --clamd-address HOST:PORT) [--rate N] [--restart]`: every blob a
 * version references is scanned again with clamd's current signature
 * database (api/scan.h, a stored clean verdict is not trusted), in hash
 * order, at most N blobs a second (default 10; 0: no limit). Progress is
 * kept in DATA/rescan.state after each blob, so an interrupted rescan
 * goes on where it stopped (--restart: from the beginning); the file is
 * removed when the run completes. Verdicts are recorded; nothing is
 * deleted. Prints one line per infected or unscannable blob and a
 * summary; exit 0 when nothing was found, 3 when something was, 1 on
 * failure (clamd unreachable...), 2 for bad usage.
 */
#ifndef CONSORT_CMD_RESCAN_H
#define CONSORT_CMD_RESCAN_H

#include <stdbool.h>

int cmd_rescan(int argc, char **argv);

/* The work of `consort rescan` on data directory `data` with clamd at
 * `address` (socket path or HOST:PORT); also run by `consort restore
 * --clamd-socket`. Returns the exit status described above. */
int rescan_data(const char *data, const char *address, unsigned rate, bool restart);

#endif
