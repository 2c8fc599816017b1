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

bool apijson_parse_time(const char *s, int64_t *out)
{
	struct tm tm = {0};
	const char *end;
	int64_t v = 0;

	if (*s && strspn(s, "0123456789") == strlen(s)) {
		if (strlen(s) > 12)
			return false;
		for (; *s; s++)
			v = v * 10 + (*s - '0');
		*out = v;
		return true;
	}
	end = strptime(s, "%Y-%m-%d", &tm);
	if (!end)
		return false;
	if (*end == 'T') {
		end = strptime(end + 1, "%H:%M:%S", &tm);
		if (!end || strcmp(end, "Z"))
			return false;
	} else if (*end) {
		return false;
	}
	*out = (int64_t)timegm(&tm);
	return true;
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
