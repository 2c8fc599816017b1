/*
 * name — the rules for names of folders and documents, and paths made
 * of them.
 *
 * A name is valid UTF-8, normalised to NFC, 1 to 255 bytes (after
 * normalisation), without '/', NUL, control characters (C0, DEL, C1),
 * bidirectional controls (overrides, isolates, LRM/RLM/ALM: they
 * disguise extensions, "invoice\u202Efdp.exe"), invisible characters
 * (zero-width space and joiners, soft hyphen, word joiner, BOM, tags,
 * noncharacters...) or characters drawn like '/' (U+2044 fraction slash,
 * U+2215 division slash...), not "." or "..", and without a trailing dot
 * or space or a Windows device name (CON, PRN, AUX, NUL, COM1-9,
 * LPT1-9, with or without an extension, any case): the WebDAV drive is
 * used from Windows, which cannot open such names. What a name reads as
 * (its look-alike key, NFKC with case folding) must not be empty, "."
 * or "..", or hold a '/' ("a／b" with a fullwidth solidus).
 *
 * Two names clash in a folder when their keys are equal: the key is the
 * case fold of the NFC name, normalised to NFC again, so "Report.PDF"
 * and "report.pdf" clash and so do NFC and NFD spellings of "é". Names
 * that only look alike ("ｒｅｐｏｒｔ．pdf", "ﬁle" and "file") have
 * different keys but the same look-alike key; storage/tree.c refuses a
 * second one in a folder.
 *
 * Every refusal is ERR_INVALID with a detail that names the rule, e.g.
 * "name 'a/b' contains '/'". Names in details are shown with control
 * characters escaped and cut to 60 bytes, so a detail is safe to show.
 *
 * Uses ICU (unorm2, u_strFoldCase). Thread-safe.
 */
#ifndef CONSORT_NAME_H
#define CONSORT_NAME_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define NAME_MAX_BYTES 255
/* Deepest path: folders nest at most this many levels under a WP root. */
#define NAME_MAX_DEPTH 64
/* Longest raw path accepted by the parsers, in bytes, before decoding. */
#define NAME_MAX_PATH_BYTES (NAME_MAX_DEPTH * (3 * NAME_MAX_BYTES + 1))

/* Check one name of `len` bytes (it need not be NUL-terminated and may
 * contain NUL, which is refused) and normalise it.
 * On success *nfc (when nfc is not NULL) and *key (when key is not NULL)
 * are malloc'd strings
 * owned by the caller: the NFC name and its case-insensitive key. On
 * failure both are NULL and the detail names the broken rule. */
enum err name_check(const char *name, size_t len, char **nfc, char **key);

/* The look-alike key of an NFC name: NFKC_Casefold (compatibility
 * forms folded, case folded, default-ignorable characters dropped), as
 * a malloc'd string in *out. */
enum err name_look_key(const char *nfc, char **out);

/* True when s[0..len) is well-formed UTF-8 without NUL (strict: no
 * overlong forms, no surrogates). For free text such as comments. */
bool name_utf8_valid(const char *s, size_t len);

/* A path: names[0] is directly under the WP root. n == 0 is the root. */
struct name_path {
	size_t n;
	char **names; /* NFC, owned */
	char **keys;  /* case-insensitive keys, owned */
};

/* Parse the remainder of a URL path ("Reports/D5.2%20final.pdf"): split
 * on '/', percent-decode each segment, check each name. One trailing '/'
 * is ignored; a leading '/' is an empty name and refused; an empty segment ("a//b") is refused, as
 * are malformed escapes, "%2F" inside a segment and every name rule
 * ("%2e%2e" decodes to ".." and is refused). "" is the root.
 * On success *out holds the names (free with name_path_free); on failure
 * *out is empty. */
enum err name_path_from_url(const char *raw, size_t len, struct name_path *out);

/* Parse a plain '/'-separated path as it comes in JSON or on the command
 * line: no percent-decoding, otherwise as name_path_from_url. */
enum err name_path_from_text(const char *text, struct name_path *out);

/* The path as "a/b/c" ("" for the root); malloc'd, NULL when out of
 * memory. */
char *name_path_join(const struct name_path *p);

/* Releases the names; leaves *p empty. Accepts an empty path. */
void name_path_free(struct name_path *p);

#endif
