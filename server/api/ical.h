/*
 * ical — events as iCalendar (RFC 5545) text: a calendar of any number
 * of events, for the per-person feed and the single-event download.
 *
 * Times are written in UTC (FORM #2, "19980119T070000Z"), which every
 * client reads without a VTIMEZONE; the zone the event was given in
 * travels as X-CONSORT-TZID for display. Text values are escaped
 * (backslash, semicolon, comma, newline) and every content line is
 * folded at 75 octets without splitting a UTF-8 sequence; lines end in
 * CRLF.
 */
#ifndef CONSORT_ICAL_H
#define CONSORT_ICAL_H

#include <stddef.h>
#include <stdint.h>

struct dir_event;

/* One event as iCalendar's view of it. */
struct ical_event {
	const struct dir_event *ev;
	const char *url; /* link back to the event in the app, or NULL */
};

/* The VCALENDAR holding `n` events, stamped `now`; `host` names the
 * server in the UIDs ("<id>@host"); `name` is the calendar's display
 * name. Malloc'd text in *out (length *len), NULL when out of memory. */
char *ical_calendar(const struct ical_event *evs, size_t n, const char *host, const char *name,
		    int64_t now, size_t *len);

#endif
