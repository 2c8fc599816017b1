/* csv — see csv.h. */
#include "csv.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct csv {
	const char *p, *end;
	char sep;
	size_t line;
	bool done;
	char *buf; /* the fields of the current record, NUL-separated */
	size_t buf_len, buf_cap;
	char *fields[CSV_MAX_FIELDS];
	size_t offsets[CSV_MAX_FIELDS];
};

/* Length of the valid UTF-8 sequence at p (max `left` bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t left)
{
	size_t n;
	unsigned cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

static char detect_sep(const char *p, const char *end)
{
	size_t commas = 0, semis = 0;
	bool quoted = false;

	for (; p < end; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted && (*p == '\n' || *p == '\r'))
			break;
		else if (!quoted && *p == ',')
			commas++;
		else if (!quoted && *p == ';')
			semis++;
	}
	return semis > commas ? ';' : ',';
}

struct csv *csv_new(const char *data, size_t len)
{
	struct csv *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	c->p = data;
	c->end = data + len;
	if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3))
		c->p += 3;
	c->sep = detect_sep(c->p, c->end);
	c->line = 1;
	return c;
}

void csv_free(struct csv *c)
{
	if (!c)
		return;
	free(c->buf);
	free(c);
}

static enum err put_bytes(struct csv *c, const char *s, size_t n)
{
	if (c->buf_len + n + 1 > c->buf_cap) {
		size_t cap = c->buf_cap ? c->buf_cap : 256;
		char *nb;

		while (c->buf_len + n + 1 > cap)
			cap *= 2;
		nb = realloc(c->buf, cap);
		if (!nb)
			return err_set(ERR_NOMEM, "out of memory");
		c->buf = nb;
		c->buf_cap = cap;
	}
	memcpy(c->buf + c->buf_len, s, n);
	c->buf_len += n;
	return ERR_OK;
}

static enum err fail(struct csv *c, size_t line, const char *what)
{
	c->done = true;
	return err_set(ERR_INVALID, "line %zu: %s", line, what);
}

enum err csv_next(struct csv *c, char ***fields, size_t *n, size_t *line)
{
	size_t nf = 0, start_line, field_start;
	enum err rc;

	*n = 0;
	*fields = c->fields;
	/* skip empty lines */
	while (!c->done && c->p < c->end && (*c->p == '\n' || *c->p == '\r')) {
		if (*c->p == '\n')
			c->line++;
		c->p++;
	}
	if (c->done || c->p >= c->end) {
		c->done = true;
		*line = c->line;
		return ERR_OK;
	}
	start_line = c->line;
	*line = start_line;
	c->buf_len = 0;
	for (;;) {
		bool quoted = false;

		if (nf == CSV_MAX_FIELDS)
			return fail(c, c->line, "more than 64 fields in a record");
		field_start = c->buf_len;
		if (c->p < c->end && *c->p == '"') {
			quoted = true;
			c->p++;
		}
		for (;;) {
			size_t u;

			if (c->p >= c->end) {
				if (quoted)
					return fail(c, start_line,
						    "a quoted field is not closed before the end");
				break;
			}
			if (*c->p == '\0')
				return fail(c, c->line, "NUL byte");
			if (quoted && *c->p == '"') {
				if (c->p + 1 < c->end && c->p[1] == '"') {
					rc = put_bytes(c, "\"", 1);
					if (rc)
						return rc;
					c->p += 2;
					continue;
				}
				c->p++;
				if (c->p < c->end && *c->p != c->sep && *c->p != '\n' &&
				    *c->p != '\r')
					return fail(c, c->line,
						    "text after the closing quote of a field");
				break;
			}
			if (!quoted && (*c->p == c->sep || *c->p == '\n' || *c->p == '\r'))
				break;
			if (!quoted && *c->p == '"')
				return fail(
					c, c->line,
					"a quote inside an unquoted field (quote the whole field "
					"and double the quote)");
			if (*c->p == '\n')
				c->line++;
			u = utf8_len((const unsigned char *)c->p, (size_t)(c->end - c->p));
			if (!u)
				return fail(c, c->line, "not valid UTF-8 (save the file as UTF-8)");
			rc = put_bytes(c, c->p, u);
			if (rc)
				return rc;
			c->p += u;
			if (c->buf_len - field_start > CSV_MAX_FIELD)
				return fail(c, c->line, "a field longer than 4096 bytes");
		}
		rc = put_bytes(c, "", 1);
		if (rc)
			return rc;
		c->offsets[nf++] = field_start;
		if (c->p < c->end && *c->p == c->sep) {
			c->p++;
			continue;
		}
		/* end of record */
		if (c->p < c->end && *c->p == '\r')
			c->p++;
		if (c->p < c->end && *c->p == '\n') {
			c->p++;
			c->line++;
		}
		break;
	}
	for (size_t i = 0; i < nf; i++)
		c->fields[i] = c->buf + c->offsets[i];
	*n = nf;
	return ERR_OK;
}

enum err csv_put(char **buf, size_t *len, size_t *cap, const char *s, int last)
{
	size_t need = 6 + (s ? 2 * strlen(s) : 0);
	bool quote = false, formula;
	char *o;

	if (!s)
		s = "";
	formula = *s == '=' || *s == '+' || *s == '-' || *s == '@';
	quote = formula || strpbrk(s, ",;\"\r\n") != NULL;
	if (*len + need + 1 > *cap) {
		size_t nc = *cap ? *cap : 1024;
		char *nb;

		while (*len + need + 1 > nc)
			nc *= 2;
		nb = realloc(*buf, nc);
		if (!nb)
			return err_set(ERR_NOMEM, "out of memory");
		*buf = nb;
		*cap = nc;
	}
	o = *buf + *len;
	if (quote)
		*o++ = '"';
	if (formula)
		*o++ = '\'';
	for (const char *p = s; *p; p++) {
		if (*p == '"')
			*o++ = '"';
		*o++ = *p;
	}
	if (quote)
		*o++ = '"';
	if (last) {
		*o++ = '\r';
		*o++ = '\n';
	} else {
		*o++ = ',';
	}
	*len = (size_t)(o - *buf);
	(*buf)[*len] = '\0';
	return ERR_OK;
}
