/* Unit tests for server/api/ical.c: RFC 5545 lines, escaping and
 * folding (the e2e test reads the result with a real parser too). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/ical.h"
#include "directory.h"

static void test_event(void **state)
{
	char title[] = "Assembly; Rome, day 1\\2";
	char tz[] = "Europe/Rome", place[] = "Aula", empty[] = "";
	char desc[] = "Line one\nLine two with ünïcödé ünïcödé ünïcödé ünïcödé ünïcödé ünïcödé "
		      "ünïcödé ünïcödé";
	struct dir_event e = {.id = 42,
			      .starts_at = 1808809200, /* 2027-04-27T07:00:00Z */
			      .ends_at = 1808928000,
			      .title = title,
			      .tz = tz,
			      .place = place,
			      .online_url = empty,
			      .description = desc,
			      .folder_wp = empty,
			      .folder_path = empty,
			      .internal = true,
			      .created_at = 1790000000, /* 2026-09-21T14:13:20Z */
			      .edited_at = 1795000000,  /* 2026-11-18T11:06:40Z */
			      .sequence = 3};
	struct ical_event ie = {.ev = &e};
	size_t len;
	char *s = ical_calendar(&ie, 1, "consort.example", "test", 1800000000, &len);
	char *unfolded, *w;

	(void)state;
	assert_non_null(s);
	assert_int_equal(strlen(s), len);
	assert_memory_equal(s, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n", 30);
	assert_non_null(strstr(s, "UID:event-42@consort.example\r\n"));
	assert_non_null(strstr(s, "DTSTART:20270427T070000Z\r\n"));
	assert_non_null(strstr(s, "DTSTAMP:20270115T080000Z\r\n"));
	/* an edited event: same UID, its SEQUENCE and when it was edited */
	assert_non_null(strstr(s, "SEQUENCE:3\r\n"));
	assert_non_null(strstr(s, "CREATED:20260921T141320Z\r\n"));
	assert_non_null(strstr(s, "LAST-MODIFIED:20261118T110640Z\r\n"));
	assert_non_null(strstr(s, "SUMMARY:Assembly\\; Rome\\, day 1\\\\2\r\n"));
	assert_non_null(strstr(s, "CLASS:PRIVATE\r\n"));
	assert_non_null(strstr(s, "END:VCALENDAR\r\n"));
	/* every line at most 75 octets, every line break CRLF, no fold
	 * inside a UTF-8 sequence (a continuation never starts with one) */
	for (char *p = s, *nl; (nl = strstr(p, "\r\n")); p = nl + 2) {
		assert_true(nl - p <= 75);
		assert_false(p != s && p[0] == ' ' && ((unsigned char)p[1] & 0xc0) == 0x80);
	}
	for (char *p = s; *p; p++)
		if (*p == '\n')
			assert_true(p > s && p[-1] == '\r');
	/* unfolded, the description is whole */
	unfolded = malloc(len + 1);
	assert_non_null(unfolded);
	w = unfolded;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\r' && s[i + 1] == '\n' && s[i + 2] == ' ') {
			i += 2;
			continue;
		}
		*w++ = s[i];
	}
	*w = '\0';
	assert_non_null(strstr(unfolded, "DESCRIPTION:Line one\\nLine two with ünïcödé ünïcödé "
					 "ünïcödé ünïcödé ünïcödé ünïcödé ünïcödé ünïcödé\r\n"));
	free(unfolded);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
