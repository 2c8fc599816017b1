/* Unit tests for search/lang.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lang.h"

static const char *detect(const char *s) { return lang_detect(s, strlen(s)); }

static void detects_eu_languages(void **state)
{
	(void)state;
	assert_string_equal(
		detect("The results of the study show that the guidelines for germline testing "
		       "should be updated and that this is in line with the recommendations."),
		"en");
	assert_string_equal(
		detect("Die Ergebnisse der Studie zeigen, dass die Leitlinien für die Keimbahntestung "
		       "aktualisiert werden sollten und dass dies mit den Empfehlungen übereinstimmt."),
		"de");
	assert_string_equal(
		detect("Les résultats de l'étude montrent que les recommandations pour le dépistage "
		       "sont dans la ligne des décisions prises par le comité et qu'elles sont utiles."),
		"fr");
	assert_string_equal(
		detect("I risultati dello studio mostrano che le linee guida per il test della linea "
		       "germinale sono state aggiornate e che questo è in linea con le raccomandazioni."),
		"it");
	assert_string_equal(
		detect("Los resultados del estudio muestran que las directrices para las pruebas "
		       "genéticas deben actualizarse y que esto está en línea con las recomendaciones."),
		"es");
	assert_string_equal(
		detect("De resultaten van het onderzoek tonen aan dat de richtlijnen voor het testen "
		       "moeten worden bijgewerkt en dat dit in lijn is met de aanbevelingen van de groep."),
		"nl");
	assert_string_equal(
		detect("Τα αποτελέσματα της μελέτης δείχνουν ότι οι οδηγίες για τον έλεγχο πρέπει να "
		       "ενημερωθούν και ότι αυτό είναι σύμφωνο με τις συστάσεις της επιτροπής."),
		"el");
	assert_string_equal(
		detect("Wyniki badania pokazują, że wytyczne dotyczące testów genetycznych powinny być "
		       "zaktualizowane i że jest to zgodne z zaleceniami, które są w tym dokumencie."),
		"pl");
	assert_string_equal(
		detect("Os resultados do estudo mostram que as diretrizes para os testes não foram "
		       "atualizadas e que isto está de acordo com as recomendações da comissão."),
		"pt");
	assert_string_equal(
		detect("Resultaten av studien visar att riktlinjerna för testning ska uppdateras och "
		       "att det är i linje med rekommendationerna som har getts av gruppen."),
		"sv");
}

static void undecided_on_little_or_no_text(void **state)
{
	(void)state;
	assert_string_equal(detect(""), "");
	assert_string_equal(detect("Budget 2024"), "");
	assert_string_equal(detect("12;34;56\n78;90;12\n"), "");
	/* invalid UTF-8 is survived */
	assert_string_equal(detect("\xff\xfe\xc3 the and \xe2\x82"), "");
}

/* Short texts in the 24 EU languages (tests/fixtures/lang/eu_short.tsv):
 * how often each method names the right language. The figures printed
 * here are the ones in docs/search.md; the floor asserted is below them
 * so that a new model release does not fail the suite, but far above
 * the stop-word method alone. */
struct tally {
	int texts, ngrams, stopwords, both;
};

static void short_texts_accuracy(void **state)
{
	const char *root = getenv("CONSORT_SOURCE_ROOT");
	char path[4096], line[2048], misses[4096] = "";
	struct tally all = {0};
	FILE *f;

	(void)state;
	snprintf(path, sizeof path, "%s/tests/fixtures/lang/eu_short.tsv", root ? root : ".");
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof line, f)) {
		char *tab = strchr(line, '\t'), *text;
		size_t len;
		const char *got;

		if (line[0] == '#' || !tab)
			continue;
		*tab = '\0';
		text = tab + 1;
		len = strcspn(text, "\n");
		all.texts++;
		all.ngrams += !strcmp(lang_ngrams(text, len), line);
		all.stopwords += !strcmp(lang_stopwords(text, len), line);
		got = lang_detect(text, len);
		if (!strcmp(got, line))
			all.both++;
		else if (strlen(misses) + 16 < sizeof misses)
			snprintf(misses + strlen(misses), sizeof misses - strlen(misses), " %s->%s",
				 line, *got ? got : "?");
	}
	fclose(f);
	print_message("short texts: %d; n-grams %d (%.1f%%), stop words %d (%.1f%%), "
		      "lang_detect %d (%.1f%%); misses:%s\n",
		      all.texts, all.ngrams, 100.0 * all.ngrams / all.texts, all.stopwords,
		      100.0 * all.stopwords / all.texts, all.both, 100.0 * all.both / all.texts,
		      misses);
	assert_int_equal(all.texts, 96);
	assert_true(all.both * 100 >= all.texts * 85);
}

static void german_compound_from_the_issue(void **state)
{
	static const char s[] =
		"Die Krebsfrüherkennungsuntersuchungen wurden in allen Partnerländern durchgeführt.";

	(void)state;
	/* too few function words for the old method: it did not decide */
	assert_string_equal(lang_stopwords(s, strlen(s)), "");
	assert_string_equal(lang_detect(s, strlen(s)), "de");
}

static void declared_tags(void **state)
{
	(void)state;
	assert_string_equal(lang_normalize("de-AT", 5), "de");
	assert_string_equal(lang_normalize("EN_us", 5), "en");
	assert_string_equal(lang_normalize("ga", 2), "ga");
	assert_string_equal(lang_normalize("ca-ES", 5), "ca");
	assert_string_equal(lang_normalize("und", 3), "");
	assert_string_equal(lang_normalize("x-none", 6), "");
	assert_string_equal(lang_normalize("zz", 2), "");
	assert_string_equal(lang_normalize("d", 1), "");
	assert_string_equal(lang_normalize("deu", 3), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(detects_eu_languages),
		cmocka_unit_test(undecided_on_little_or_no_text),
		cmocka_unit_test(short_texts_accuracy),
		cmocka_unit_test(german_compound_from_the_issue),
		cmocka_unit_test(declared_tags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
