/* jsonin — see jsonin.h. */
#include "http/jsonin.h"

#include <stdio.h>
#include <string.h>

/* A member name as it may appear in a detail: clients choose unknown
 * names, so they are cut short and reduced to printable ASCII. */
static void printable_name(const char *in, char *out, size_t cap)
{
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < cap; p++)
		out[o++] = *p >= 0x20 && *p < 0x7f ? (char)*p : '?';
	if (strlen(in) > o && o + 4 <= cap) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* Decode one UTF-8 sequence (jansson has already validated the string). */
static uint32_t next_cp(const unsigned char **p)
{
	const unsigned char *s = *p;
	uint32_t cp;
	int extra;

	if (s[0] < 0x80) {
		cp = s[0];
		extra = 0;
	} else if (s[0] < 0xe0) {
		cp = s[0] & 0x1f;
		extra = 1;
	} else if (s[0] < 0xf0) {
		cp = s[0] & 0x0f;
		extra = 2;
	} else {
		cp = s[0] & 0x07;
		extra = 3;
	}
	s++;
	for (int i = 0; i < extra && (*s & 0xc0) == 0x80; i++, s++)
		cp = cp << 6 | (*s & 0x3f);
	*p = s;
	return cp;
}

/* Characters no field of ours carries: C0/C1 controls, DEL, and the
 * bidirectional overrides that make a name display as something else. */
static bool forbidden_cp(uint32_t cp, bool multiline)
{
	if (multiline && (cp == '\n' || cp == '\t' || cp == '\r'))
		return false;
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

enum err jsonin_check_text(const char *what, const char *s, int64_t min, int64_t max,
			   bool multiline)
{
	const unsigned char *p = (const unsigned char *)s;
	int64_t chars = 0;

	while (*p) {
		if (forbidden_cp(next_cp(&p), multiline))
			return err_set(ERR_INVALID, "%s must not contain control characters", what);
		chars++;
	}
	if (chars < min && min == 1)
		return err_set(ERR_INVALID, "%s must not be empty", what);
	if (chars < min)
		return err_set(ERR_INVALID, "%s is too short (at least %lld characters)", what,
			       (long long)min);
	if (max > 0 && chars > max)
		return err_set(ERR_INVALID, "%s is too long (at most %lld characters)", what,
			       (long long)max);
	return ERR_OK;
}

static const char *kind_name(enum jsonin_kind k)
{
	switch (k) {
	case JSONIN_STRING:
	case JSONIN_ENUM: return "a string";
	case JSONIN_INT: return "an integer";
	case JSONIN_BOOL: return "true or false";
	}
	return "?";
}

/* Validate one member; does not store. */
static enum err check_value(const struct jsonin_field *f, const json_t *v, int *choice)
{
	char what[96];

	snprintf(what, sizeof what, "field '%s'", f->name);
	switch (f->kind) {
	case JSONIN_STRING:
		if (!json_is_string(v))
			break;
		/* jansson refuses \u0000 unless asked, but a length check
		 * keeps that promise visible here. */
		if (strlen(json_string_value(v)) != json_string_length(v))
			return err_set(ERR_INVALID, "%s must not contain NUL", what);
		return jsonin_check_text(what, json_string_value(v), f->min, f->max,
					 f->flags & JSONIN_MULTILINE);
	case JSONIN_INT:
		if (!json_is_integer(v))
			break;
		if (json_integer_value(v) < f->min || json_integer_value(v) > f->max)
			return err_set(ERR_INVALID, "%s must be an integer from %lld to %lld", what,
				       (long long)f->min, (long long)f->max);
		return ERR_OK;
	case JSONIN_BOOL:
		if (!json_is_boolean(v))
			break;
		return ERR_OK;
	case JSONIN_ENUM: {
		char list[256] = "";
		size_t len = 0;

		if (!json_is_string(v))
			break;
		for (int i = 0; f->choices[i]; i++) {
			if (!strcmp(json_string_value(v), f->choices[i])) {
				*choice = i;
				return ERR_OK;
			}
			len += (size_t)snprintf(list + len,
						len < sizeof list ? sizeof list - len : 0, "%s%s",
						i ? ", " : "", f->choices[i]);
		}
		return err_set(ERR_INVALID, "%s must be one of %s", what, list);
	}
	}
	return err_set(ERR_INVALID, "%s must be %s", what, kind_name(f->kind));
}

enum err jsonin_parse(const json_t *obj, const struct jsonin_field *fields, size_t n)
{
	const char *key;
	json_t *v;
	char name[72];
	int choice = 0;
	enum err rc;

	if (!json_is_object(obj))
		return err_set(ERR_INVALID, "the body must be a JSON object");
	/* Unknown members first: a typo in an optional field name must not
	 * pass silently as "field not given". */
	json_object_foreach((json_t *)obj, key, v)
	{
		size_t i;

		for (i = 0; i < n && strcmp(fields[i].name, key); i++)
			;
		if (i == n) {
			printable_name(key, name, sizeof name);
			return err_set(ERR_INVALID, "unknown field '%s'", name);
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct jsonin_field *f = &fields[i];

		v = json_object_get(obj, f->name);
		if (v && json_is_null(v) && (f->flags & JSONIN_NULLABLE))
			v = NULL;
		if (!v) {
			if (f->flags & JSONIN_REQUIRED)
				return err_set(ERR_INVALID, "field '%s' is required", f->name);
			continue;
		}
		rc = check_value(f, v, &choice);
		if (rc)
			return rc;
	}
	/* Everything is valid: now store. */
	for (size_t i = 0; i < n; i++) {
		const struct jsonin_field *f = &fields[i];

		v = json_object_get(obj, f->name);
		if (v && json_is_null(v))
			v = NULL;
		if (f->present)
			*f->present = v != NULL;
		if (!v || !f->out)
			continue;
		switch (f->kind) {
		case JSONIN_STRING: *(const char **)f->out = json_string_value(v); break;
		case JSONIN_INT: *(int64_t *)f->out = json_integer_value(v); break;
		case JSONIN_BOOL: *(bool *)f->out = json_is_true(v); break;
		case JSONIN_ENUM:
			check_value(f, v, &choice);
			*(int *)f->out = choice;
			break;
		}
	}
	return ERR_OK;
}
