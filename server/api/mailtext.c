/* mailtext — see mailtext.h. */
#include "api/mailtext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool mailtext_has(const char *lang)
{
	for (size_t i = 0; lang && mailtext_languages[i]; i++)
		if (!strcmp(lang, mailtext_languages[i]))
			return true;
	return false;
}

static const char *lookup(const char *lang, const char *key)
{
	for (size_t i = 0; i < mailtext_count; i++)
		if (!strcmp(mailtext_entries[i].lang, lang) &&
		    !strcmp(mailtext_entries[i].key, key))
			return mailtext_entries[i].text;
	return NULL;
}

const char *mailtext_get(const char *lang, const char *key)
{
	const char *t = lang && *lang ? lookup(lang, key) : NULL;

	if (!t)
		t = lookup("en", key);
	return t ? t : key;
}

const char *mailtext_plural(const char *lang, const char *key, int64_t n)
{
	char full[160];

	/* English and German: one for 1, other for everything else. A
	 * language with more forms adds its rule here and its keys
	 * (key.few, key.many...) to its catalog. */
	snprintf(full, sizeof full, "%s.%s", key, n == 1 ? "one" : "other");
	return mailtext_get(lang, full);
}

char *mailtext_fill(const char *text, const char *const *kv)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	while (*text) {
		const char *open = strchr(text, '{'), *close;
		bool done = false;

		if (!open) {
			fputs(text, f);
			break;
		}
		fwrite(text, 1, (size_t)(open - text), f);
		close = strchr(open, '}');
		for (size_t i = 0; close && kv && kv[i] && kv[i + 1] && !done; i += 2) {
			if (strlen(kv[i]) == (size_t)(close - open - 1) &&
			    !strncmp(kv[i], open + 1, (size_t)(close - open - 1))) {
				fputs(kv[i + 1], f);
				done = true;
			}
		}
		if (done) {
			text = close + 1;
		} else {
			fputc('{', f);
			text = open + 1;
		}
	}
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

void mailtext_date(const char *lang, int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char day[16], year[16], hm[32], key[24], *s;

	gmtime_r(&tt, &tm);
	snprintf(day, sizeof day, "%d", tm.tm_mday);
	snprintf(year, sizeof year, "%d", tm.tm_year + 1900);
	snprintf(hm, sizeof hm, "%02d:%02d", tm.tm_hour, tm.tm_min);
	snprintf(key, sizeof key, "month.%d", tm.tm_mon + 1);
	s = mailtext_fill(mailtext_get(lang, "date"),
			  (const char *const[]){"day", day, "month", mailtext_get(lang, key),
						"year", year, "time", hm, NULL});
	snprintf(buf, len, "%s", s ? s : "");
	free(s);
}
