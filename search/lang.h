/*
 * lang — which language a document is in: the one it declares
 * (lang_normalize reads the declaration), else identified from its text.
 *
 * Identification compares the text's character n-grams with the models
 * of the 24 official EU languages (libexttextcat, the identifier
 * LibreOffice uses; models from libexttextcat-data). When that cannot
 * decide (too few letters, or no model close enough) the older method
 * is asked: counting the most common function words of each language,
 * which only answers with a clear winner. Measured accuracy on one- and
 * two-sentence texts: docs/search.md.
 */
#ifndef CONSORT_LANG_H
#define CONSORT_LANG_H

#include <stddef.h>

/* ISO 639-1 code of the language of the UTF-8 text [s, s+len), or ""
 * when undecided. Looks at the first LANG_SAMPLE bytes only. The result
 * is a static string. */
#define LANG_SAMPLE (64 * 1024)
const char *lang_detect(const char *s, size_t len);

/* The two methods alone (for the accuracy measurement and tests):
 * n-grams over the first LANG_NGRAM_SAMPLE bytes, "" under
 * LANG_MIN_LETTERS letters; function words as described above. The
 * first call loads the models; not thread-safe (one thread per process
 * identifies: the extraction helper's). */
#define LANG_NGRAM_SAMPLE 4096
#define LANG_MIN_LETTERS 12
const char *lang_ngrams(const char *s, size_t len);
const char *lang_stopwords(const char *s, size_t len);

/* A declared language tag ("de-AT", "de_DE", "EN") as the ISO 639-1
 * code consort uses ("de"), or "" for a tag it does not know (a
 * language without a stemmer or model here, "und", "x-none"). Static
 * string. */
const char *lang_normalize(const char *tag, size_t len);

#endif
