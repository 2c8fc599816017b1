/*
 * cmd_storage — the store's maintenance subcommands: `consort gc`,
 * `fsck`, `backup DEST` and `restore SRC`, over storage/maint.h.
 * Each returns the process exit status: 0 on success, 1 when the work
 * failed (one line on stderr), 2 for bad usage.
 */
#ifndef CONSORT_CMD_STORAGE_H
#define CONSORT_CMD_STORAGE_H

int cmd_gc(int argc, char **argv);
int cmd_fsck(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_blobs(int argc, char **argv);

#endif
