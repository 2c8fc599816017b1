/*
 * zipstream — a ZIP archive written front to back, for streaming a
 * folder without a temporary file (share links, docs/links.md).
 *
 * Entries are stored (no compression: documents are mostly compressed
 * already, and the sizes are then known ahead). Each entry's CRC-32 is
 * computed as its data passes and sent in a data descriptor after it
 * (flag bit 3), so nothing is read twice. ZIP64 records are written for
 * an entry of 4 GiB or more, an offset past 4 GiB, or more than 65535
 * entries; names are flagged UTF-8 (bit 11).
 *
 * The caller appends bytes it is given to its output in order:
 *   zip_entry_begin → header bytes; then the entry's data, each piece
 *   passed to zip_entry_data; zip_entry_end → descriptor bytes; after
 *   the last entry zip_finish → central directory and end records.
 */
#ifndef CONSORT_ZIPSTREAM_H
#define CONSORT_ZIPSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct zipstream;

/* Bytes a header, descriptor or the finish may need at most per call of
 * zip_entry_begin / zip_entry_end (the name's length added). */
#define ZIP_HEADER_MAX 128

struct zipstream *zip_new(void);
void zip_free(struct zipstream *z);

/* Start entry `name` ('/'-separated, UTF-8) of `size` bytes modified at
 * `mtime` (Unix seconds): its local header into `out` (room for
 * ZIP_HEADER_MAX + strlen(name) bytes), *len its length. */
enum err zip_entry_begin(struct zipstream *z, const char *name, uint64_t size, int64_t mtime,
			 unsigned char *out, size_t *len);
/* The entry's data as it is sent. */
void zip_entry_data(struct zipstream *z, const void *data, size_t len);
/* End the entry: its data descriptor into `out` (ZIP_HEADER_MAX), *len.
 * ERR_INTERNAL when the data passed was not `size` bytes. */
enum err zip_entry_end(struct zipstream *z, unsigned char *out, size_t *len);
/* The central directory and end records, malloc'd into *out (*len). */
enum err zip_finish(struct zipstream *z, unsigned char **out, size_t *len);

#endif
