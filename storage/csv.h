/*
 * csv — a small RFC 4180 reader for tables people export from
 * spreadsheets (the grant agreement's deliverable table).
 *
 * Accepted: fields separated by ',' (or ';', detected from the first
 * line when it holds more ';' than ',' outside quotes, as European
 * spreadsheets write), records ended by CRLF or LF, fields in double
 * quotes holding separators, line breaks and "" for a quote, a UTF-8
 * byte order mark at the start. Refused with a line-numbered ERR_INVALID:
 * a quote inside an unquoted field, text after a closing quote, a
 * quoted field left open at the end, a NUL byte, invalid UTF-8, a field
 * over CSV_MAX_FIELD bytes, a record over CSV_MAX_FIELDS fields.
 * Empty lines are skipped. Lines are numbered from 1 as a text editor
 * shows them (a quoted line break counts), so an error names the line
 * the user sees.
 */
#ifndef CONSORT_CSV_H
#define CONSORT_CSV_H

#include <stddef.h>

#include "err.h"

#define CSV_MAX_FIELD 4096
#define CSV_MAX_FIELDS 64

struct csv;

/* A reader over `len` bytes at `data` (not copied: they must outlive the
 * reader). NULL when out of memory. Free with csv_free (accepts NULL). */
struct csv *csv_new(const char *data, size_t len);
void csv_free(struct csv *c);

/* The next record. ERR_OK with *n fields in *fields (NUL-terminated
 * strings owned by the reader, valid until the next call) and *line the
 * line the record starts on; *n is 0 at the end of the input. On a
 * malformed record: ERR_INVALID with a detail "line N: ..."; the reader
 * is then done. */
enum err csv_next(struct csv *c, char ***fields, size_t *n, size_t *line);

/* Append `s` to the malloc'd buffer *buf (length *len, capacity *cap)
 * as one CSV field: quoted when it holds a separator, quote or line
 * break, or starts with = + - @ (so a spreadsheet does not run it as a
 * formula, the quote is then preceded by an apostrophe). `last` ends the
 * record with CRLF, else a ',' follows. ERR_NOMEM when growing fails. */
enum err csv_put(char **buf, size_t *len, size_t *cap, const char *s, int last);

#endif
