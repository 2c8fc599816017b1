/*
 * lang — which EU language a text is written in, from its stop words.
 *
 * Counts how often the most common function words of each language occur
 * among the first words of the text and picks the clear winner. Good
 * enough to choose a stemmer for a document of a few sentences or more;
 * short or mixed texts come back undecided rather than guessed.
 */
#ifndef CONSORT_LANG_H
#define CONSORT_LANG_H

#include <stddef.h>

/* ISO 639-1 code of the language of the UTF-8 text [s, s+len), or ""
 * when undecided. Looks at the first LANG_SAMPLE bytes only. The result
 * is a static string. */
#define LANG_SAMPLE (64 * 1024)
const char *lang_detect(const char *s, size_t len);

#endif
