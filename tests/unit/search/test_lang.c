/* Unit tests for search/lang.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(detects_eu_languages),
		cmocka_unit_test(undecided_on_little_or_no_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
