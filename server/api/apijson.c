/* apijson — see apijson.h. */
#include "api/apijson.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "accounts.h"

const char *apijson_time_text(int64_t t, char *buf)
{
	time_t tt = (time_t)t;
	struct tm tm;

	buf[0] = '\0';
	if (t && gmtime_r(&tt, &tm))
		strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

json_t *apijson_time(int64_t t)
{
	char buf[32];

	return t ? json_string(apijson_time_text(t, buf)) : json_null();
}

/* n decimal digits at s. */
static bool digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

/* "YYYY-MM-DD", a day that exists, at *p (advanced past it). */
static bool parse_day(const char **p, struct tm *tm)
{
	static const int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	const char *s = *p;
	int y, m, d;
	bool leap;

	if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &m) || s[7] != '-' ||
	    !digits(s + 8, 2, &d) || m < 1 || m > 12 || d < 1)
		return false;
	leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
	if (d > month_days[m - 1] + (m == 2 && leap))
		return false;
	tm->tm_year = y - 1900;
	tm->tm_mon = m - 1;
	tm->tm_mday = d;
	*p = s + 10;
	return true;
}

bool apijson_parse_datetime(const char *s, int64_t *out)
{
	struct tm tm = {0};
	const char *p = s;
	int sec = 0, oh, om, frac = 0;
	int64_t offset = 0;

	if (!parse_day(&p, &tm) || (*p != 'T' && *p != 't') || !digits(p + 1, 2, &tm.tm_hour) ||
	    p[3] != ':' || !digits(p + 4, 2, &tm.tm_min))
		return false;
	p += 6;
	if (*p == ':') {
		if (!digits(p + 1, 2, &sec))
			return false;
		p += 3;
		/* A fraction (JavaScript's toISOString has milliseconds) is
		 * dropped: times are kept in seconds. */
		if (*p == '.') {
			for (p++; *p >= '0' && *p <= '9' && frac < 9; p++)
				frac++;
			if (!frac)
				return false;
		}
	}
	if (tm.tm_hour > 23 || tm.tm_min > 59 || sec > 60)
		return false;
	tm.tm_sec = sec == 60 ? 59 : sec; /* a leap second: the one before */
	if ((*p == 'Z' || *p == 'z') && !p[1]) {
		offset = 0;
	} else if ((*p == '+' || *p == '-') && digits(p + 1, 2, &oh) && p[3] == ':' &&
		   digits(p + 4, 2, &om) && !p[6] && oh <= 23 && om <= 59) {
		offset = (*p == '-' ? -1 : 1) * (int64_t)(oh * 3600 + om * 60);
	} else {
		return false;
	}
	*out = (int64_t)timegm(&tm) - offset;
	return true;
}

bool apijson_parse_time(const char *s, int64_t *out)
{
	struct tm tm = {0};
	const char *p = s;
	int64_t v = 0;

	if (*s && strspn(s, "0123456789") == strlen(s)) {
		if (strlen(s) > 12)
			return false;
		for (; *s; s++)
			v = v * 10 + (*s - '0');
		*out = v;
		return true;
	}
	if (parse_day(&p, &tm) && !*p) {
		*out = (int64_t)timegm(&tm);
		return true;
	}
	return apijson_parse_datetime(s, out);
}

json_t *apijson_user(const struct acct_user *u, bool full)
{
	json_t *o =
		json_pack("{s:I, s:s, s:s, s:s, s:b}", "id", (json_int_t)u->id, "email", u->email,
			  "name", u->name, "partner", u->partner_short ? u->partner_short : "",
			  "coordinator", u->coordinator);

	if (o && full) {
		json_object_set_new(o, "disabled", json_boolean(u->disabled));
		json_object_set_new(o, "has_password", json_boolean(u->has_password));
		json_object_set_new(o, "totp_enabled", json_boolean(u->totp_enabled));
		json_object_set_new(o, "totp_required", json_boolean(u->totp_required));
		json_object_set_new(o, "recovery_codes_left", json_integer(u->recovery_left));
		json_object_set_new(o, "created_at", apijson_time(u->created_at));
		json_object_set_new(o, "password_changed_at", apijson_time(u->password_changed_at));
	}
	return o;
}

json_t *apijson_wp(const struct acct_wp *w, int level)
{
	json_t *o = json_pack("{s:s, s:s, s:o, s:o}", "code", w->code, "title", w->title, "lead",
			      w->lead_short ? json_string(w->lead_short) : json_null(),
			      "created_at", apijson_time(w->created_at));

	if (o && level >= 0)
		json_object_set_new(o, "level", json_string(acct_level_name(level)));
	if (o)
		json_object_set_new(o, "archived", json_boolean(w->archived_at != 0));
	return o;
}

bool apijson_parse_id(const char *s, int64_t *id)
{
	int64_t v = 0;

	if (!s || !*s || strlen(s) > 15 || strspn(s, "0123456789") != strlen(s) || *s == '0')
		return false;
	for (; *s; s++)
		v = v * 10 + (*s - '0');
	*id = v;
	return true;
}
