/*
 * mailtext — the words of mail in the recipient's language. The catalogs
 * are server/api/mailtext/LANG.json (one per language, en the reference),
 * compiled in at build time (mailtext/embed.py). A key ending ".one" or
 * ".other" is a plural form, picked by mailtext_plural with the
 * language's rule; "{name}" in a text is a placeholder.
 */
#ifndef CONSORT_MAILTEXT_H
#define CONSORT_MAILTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mailtext_entry {
	const char *lang, *key, *text;
};

/* The generated table: English first; the language codes, NULL-ended. */
extern const struct mailtext_entry mailtext_entries[];
extern const size_t mailtext_count;
extern const char *const mailtext_languages[];

/* Is there a catalog for `lang`? */
bool mailtext_has(const char *lang);

/* The text of `key` in `lang`; English when the language (or the key
 * in it) is missing; the key itself when English has none. */
const char *mailtext_get(const char *lang, const char *key);

/* The plural form of `key` for `n` in `lang`: key.one or key.other. */
const char *mailtext_plural(const char *lang, const char *key, int64_t n);

/* `text` with its {name} placeholders filled from `kv` (name, value,
 * name, value..., NULL); an unknown placeholder stays as it is.
 * malloc'd; NULL when out of memory. */
char *mailtext_fill(const char *text, const char *const *kv);

/* A time as the language writes it: "5 December 2026, 14:03 UTC". */
void mailtext_date(const char *lang, int64_t t, char *buf, size_t len);

#endif
