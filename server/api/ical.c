/* ical — see ical.h. */
#include "api/ical.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "directory.h"

/* Writes content lines, folding each at 75 octets (RFC 5545 3.1): a
 * continuation starts with one space, which counts in its 75. A fold
 * never falls inside a UTF-8 sequence. */
struct lines {
	FILE *f;
	size_t col; /* octets on the current physical line */
};

static void put_octets(struct lines *l, const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t seq = 1;
		unsigned char c = (unsigned char)s[i];

		if (c >= 0xf0)
			seq = 4;
		else if (c >= 0xe0)
			seq = 3;
		else if (c >= 0xc0)
			seq = 2;
		if (i + seq > n)
			seq = n - i;
		if (l->col + seq > 75) {
			fputs("\r\n ", l->f);
			l->col = 1;
		}
		fwrite(s + i, 1, seq, l->f);
		l->col += seq;
		i += seq;
	}
}

static void line_begin(struct lines *l, const char *name)
{
	l->col = 0;
	put_octets(l, name, strlen(name));
}

static void line_end(struct lines *l) { fputs("\r\n", l->f); }

/* A TEXT value (3.3.11): backslash, semicolon, comma escaped, a newline
 * as \n; other control characters dropped. */
static void put_text(struct lines *l, const char *s)
{
	for (; s && *s; s++) {
		char esc[2] = {'\\', 0};

		if (*s == '\\' || *s == ';' || *s == ',') {
			esc[1] = *s;
			put_octets(l, esc, 2);
		} else if (*s == '\n') {
			put_octets(l, "\\n", 2);
		} else if ((unsigned char)*s < 0x20 || *s == 0x7f) {
			continue;
		} else {
			/* a whole UTF-8 sequence at once, so a fold stays out of it */
			size_t seq = 1;

			while (seq < 4 && ((unsigned char)*s & 0x80) &&
			       ((unsigned char)s[seq] & 0xc0) == 0x80)
				seq++;
			put_octets(l, s, seq);
			s += seq - 1;
		}
	}
}

static void text_line(struct lines *l, const char *name, const char *value)
{
	line_begin(l, name);
	put_octets(l, ":", 1);
	put_text(l, value);
	line_end(l);
}

static void time_line(struct lines *l, const char *name, int64_t t)
{
	char buf[32];
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm))
		memset(&tm, 0, sizeof tm);
	strftime(buf, sizeof buf, ":%Y%m%dT%H%M%SZ", &tm);
	line_begin(l, name);
	put_octets(l, buf, strlen(buf));
	line_end(l);
}

/* A URI value is not TEXT: no escaping, but it must hold no control
 * character or it would break the line structure. */
static void uri_line(struct lines *l, const char *name, const char *uri)
{
	for (const char *p = uri; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return;
	line_begin(l, name);
	put_octets(l, ":", 1);
	put_octets(l, uri, strlen(uri));
	line_end(l);
}

static void put_event(struct lines *l, const struct ical_event *ie, const char *host, int64_t now)
{
	const struct dir_event *e = ie->ev;
	char uid[320];
	char *desc = NULL;
	size_t dlen = 0;
	FILE *d = open_memstream(&desc, &dlen);

	snprintf(uid, sizeof uid, "event-%lld@%s", (long long)e->id, host);
	text_line(l, "BEGIN", "VEVENT");
	text_line(l, "UID", uid);
	time_line(l, "DTSTAMP", now);
	/* An edit keeps the UID and raises SEQUENCE (RFC 5546 3.2.2):
	 * subscribed calendars replace their copy. */
	if (e->created_at)
		time_line(l, "CREATED", e->created_at);
	time_line(l, "LAST-MODIFIED",
		  e->edited_at    ? e->edited_at
		  : e->created_at ? e->created_at
				  : now);
	{
		char seq[24];

		snprintf(seq, sizeof seq, "%lld", (long long)e->sequence);
		text_line(l, "SEQUENCE", seq);
	}
	time_line(l, "DTSTART", e->starts_at);
	time_line(l, "DTEND", e->ends_at > e->starts_at ? e->ends_at : e->starts_at + 60);
	text_line(l, "SUMMARY", e->title);
	if (e->place && *e->place)
		text_line(l, "LOCATION", e->place);
	else if (e->online_url && *e->online_url)
		text_line(l, "LOCATION", e->online_url);
	if (d) {
		if (e->description && *e->description)
			fprintf(d, "%s\n", e->description);
		if (e->online_url && *e->online_url)
			fprintf(d, "Online: %s\n", e->online_url);
		if (e->folder_wp && *e->folder_wp)
			fprintf(d, "Agenda and minutes: %s/%s\n", e->folder_wp, e->folder_path);
		fclose(d);
		if (desc && *desc) {
			desc[strlen(desc) - 1] = '\0';
			text_line(l, "DESCRIPTION", desc);
		}
	}
	free(desc);
	if (ie->url)
		uri_line(l, "URL", ie->url);
	text_line(l, "CLASS", e->internal ? "PRIVATE" : "PUBLIC");
	text_line(l, "X-CONSORT-TZID", e->tz);
	text_line(l, "END", "VEVENT");
}

char *ical_calendar(const struct ical_event *evs, size_t n, const char *host, const char *name,
		    int64_t now, size_t *len)
{
	char *out = NULL;
	size_t size = 0;
	struct lines l = {0};

	*len = 0;
	l.f = open_memstream(&out, &size);
	if (!l.f)
		return NULL;
	text_line(&l, "BEGIN", "VCALENDAR");
	text_line(&l, "VERSION", "2.0");
	text_line(&l, "PRODID", "-//consort//directory//EN");
	text_line(&l, "CALSCALE", "GREGORIAN");
	text_line(&l, "METHOD", "PUBLISH");
	text_line(&l, "X-WR-CALNAME", name);
	for (size_t i = 0; i < n; i++)
		put_event(&l, &evs[i], host, now);
	text_line(&l, "END", "VCALENDAR");
	if (fclose(l.f) != 0) {
		free(out);
		return NULL;
	}
	*len = size;
	return out;
}
