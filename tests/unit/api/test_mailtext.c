/* Unit tests for server/api/mailtext.c: every language's catalog has
 * every key of English and no other, with the same {placeholders}; plural
 * forms come in pairs; filling, fallback and dates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/mailtext.h"

static const char *find(const char *lang, const char *key)
{
	for (size_t i = 0; i < mailtext_count; i++)
		if (!strcmp(mailtext_entries[i].lang, lang) &&
		    !strcmp(mailtext_entries[i].key, key))
			return mailtext_entries[i].text;
	return NULL;
}

/* The placeholders of `text`, sorted and joined by spaces, into buf. */
static void placeholders(const char *text, char *buf, size_t len)
{
	char names[32][48];
	size_t n = 0, used = 0;

	for (const char *p = strchr(text, '{'); p; p = strchr(p + 1, '{')) {
		const char *e = strchr(p, '}');

		if (!e || n == 32)
			break;
		snprintf(names[n++], sizeof names[0], "%.*s", (int)(e - p - 1), p + 1);
	}
	qsort(names, n, sizeof names[0], (int (*)(const void *, const void *))strcmp);
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(buf + used, len > used ? len - used : 0, "%s ", names[i]);
}

static void every_language_has_every_key_and_placeholder(void **state)
{
	size_t langs = 0;

	(void)state;
	for (size_t l = 0; mailtext_languages[l]; l++) {
		const char *lang = mailtext_languages[l];
		size_t in_en = 0, in_lang = 0;

		langs++;
		for (size_t i = 0; i < mailtext_count; i++) {
			const struct mailtext_entry *e = &mailtext_entries[i];
			const char *other;
			char a[512], b[512];

			if (!strcmp(e->lang, lang))
				in_lang++;
			if (strcmp(e->lang, "en") != 0)
				continue;
			in_en++;
			other = find(lang, e->key);
			if (!other)
				fail_msg("%s: no key %s", lang, e->key);
			if (!*other)
				fail_msg("%s: %s is empty", lang, e->key);
			placeholders(e->text, a, sizeof a);
			placeholders(other, b, sizeof b);
			if (strcmp(a, b) != 0)
				fail_msg("%s: %s has {%s} where English has {%s}", lang, e->key, b,
					 a);
		}
		/* same count and every English key present: no extra key */
		if (in_lang != in_en)
			fail_msg("%s has %zu keys, English %zu", lang, in_lang, in_en);
	}
	assert_true(langs >= 2);
	assert_true(mailtext_has("de"));
	assert_false(mailtext_has("fr"));
}

static void plural_forms_come_in_pairs(void **state)
{
	(void)state;
	for (size_t i = 0; i < mailtext_count; i++) {
		const struct mailtext_entry *e = &mailtext_entries[i];
		size_t n = strlen(e->key);
		char other[160];

		if (n > 4 && !strcmp(e->key + n - 4, ".one")) {
			snprintf(other, sizeof other, "%.*s.other", (int)(n - 4), e->key);
			if (!find(e->lang, other))
				fail_msg("%s: %s has no %s", e->lang, e->key, other);
		}
	}
	assert_string_equal(mailtext_plural("en", "digest.subject", 1),
			    "consort: {count} change in what you follow");
	assert_string_equal(mailtext_plural("en", "digest.subject", 0),
			    "consort: {count} changes in what you follow");
	assert_string_equal(mailtext_plural("de", "digest.subject", 2),
			    "consort: {count} \xc3\x84nderungen in dem, was Sie verfolgen");
}

static void fills_falls_back_and_writes_dates(void **state)
{
	char *s, when[80];

	(void)state;
	s = mailtext_fill("{who} uploaded {where} {unknown} {",
			  (const char *const[]){"who", "Marta", "where", "WP3/{where}", NULL});
	assert_non_null(s);
	/* a value is not filled again; an unknown placeholder stays */
	assert_string_equal(s, "Marta uploaded WP3/{where} {unknown} {");
	free(s);
	assert_string_equal(mailtext_get("fr", "hello"), "Hello,");
	assert_string_equal(mailtext_get(NULL, "hello"), "Hello,");
	assert_string_equal(mailtext_get("", "hello"), "Hello,");
	assert_string_equal(mailtext_get("de", "hello"), "Hallo,");
	assert_string_equal(mailtext_get("de", "no.such.key"), "no.such.key");
	/* 2026-12-05 14:03:09 UTC */
	mailtext_date("de", 1796479389, when, sizeof when);
	assert_string_equal(when, "5. Dezember 2026, 14:03 UTC");
	mailtext_date("en", 1796479389, when, sizeof when);
	assert_string_equal(when, "5 December 2026, 14:03 UTC");
	mailtext_date("de", 1772323200, when, sizeof when); /* 2026-03-01 00:00 */
	assert_string_equal(when, "1. M\xc3\xa4rz 2026, 00:00 UTC");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_language_has_every_key_and_placeholder),
		cmocka_unit_test(plural_forms_come_in_pairs),
		cmocka_unit_test(fills_falls_back_and_writes_dates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
