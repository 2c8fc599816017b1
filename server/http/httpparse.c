/* httpparse — see httpparse.h. */
#include "http/httpparse.h"

#include <string.h>
#include <strings.h>

#include "digest.h"

bool httpparse_is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

bool httpparse_ieq(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && strncasecmp(s, lit, len) == 0;
}

/* field-vchar / SP / HTAB / obs-text */
static bool is_value_char(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

enum httpparse_status httpparse_find_end(const char *buf, size_t len, size_t *scanned,
					 size_t *head_len)
{
	size_t lead = 0, i;

	/* A few empty lines before the request line are tolerated; a stream
	 * of them is not a request. */
	while (lead + 1 < len && buf[lead] == '\r' && buf[lead + 1] == '\n') {
		lead += 2;
		if (lead > 8)
			return HTTPPARSE_BAD;
	}
	for (i = *scanned; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\0')
			return HTTPPARSE_BAD;
		if (c != '\n')
			continue;
		if (i == 0 || buf[i - 1] != '\r')
			return HTTPPARSE_BAD;
		if (i > lead + 2 && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
			*head_len = i + 1;
			*scanned = i + 1;
			return HTTPPARSE_OK;
		}
	}
	*scanned = len;
	return HTTPPARSE_INCOMPLETE;
}

/* Parses one header field line [p, end) (no CRLF) into f. */
static bool parse_field(const char *p, const char *end, struct httpparse_field *f, const char **why)
{
	const char *name = p;
	const char *v, *ve;

	if (p < end && (*p == ' ' || *p == '\t')) {
		*why = "obsolete line folding is not allowed";
		return false;
	}
	while (p < end && httpparse_is_tchar((unsigned char)*p))
		p++;
	if (p == name) {
		*why = "empty or invalid header field name";
		return false;
	}
	if (p == end || *p != ':') {
		*why = (p < end && (*p == ' ' || *p == '\t'))
			       ? "whitespace before colon in header field"
			       : "invalid character in header field name";
		return false;
	}
	f->name = name;
	f->name_len = (size_t)(p - name);
	p++;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	v = p;
	for (; p < end; p++) {
		if (!is_value_char((unsigned char)*p)) {
			*why = "control character in header field value";
			return false;
		}
	}
	ve = end;
	while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
		ve--;
	f->value = v;
	f->value_len = (size_t)(ve - v);
	return true;
}

enum httpparse_status httpparse_head(const char *buf, size_t len, size_t max_target,
				     struct httpparse_head *out, const char **why)
{
	const char *p = buf, *end = buf + len, *eol, *sp;

	memset(out, 0, sizeof *out);
	*why = "";
	while (end - p >= 2 && p[0] == '\r' && p[1] == '\n')
		p += 2;

	/* request-line = method SP request-target SP HTTP-version */
	eol = memchr(p, '\r', (size_t)(end - p));
	if (!eol || eol + 1 >= end || eol[1] != '\n') {
		*why = "malformed request line";
		return HTTPPARSE_BAD;
	}
	sp = p;
	while (sp < eol && httpparse_is_tchar((unsigned char)*sp))
		sp++;
	if (sp == p || sp == eol || *sp != ' ') {
		*why = "malformed method";
		return HTTPPARSE_BAD;
	}
	out->method = p;
	out->method_len = (size_t)(sp - p);
	p = sp + 1;
	sp = p;
	while (sp < eol && (unsigned char)*sp > 0x20 && (unsigned char)*sp < 0x7f)
		sp++;
	if (sp == p || sp == eol || *sp != ' ') {
		*why = "malformed request target";
		return HTTPPARSE_BAD;
	}
	if ((size_t)(sp - p) > max_target) {
		*why = "request target too long";
		return HTTPPARSE_URI_TOO_LONG;
	}
	out->target = p;
	out->target_len = (size_t)(sp - p);
	p = sp + 1;
	if (eol - p != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' || p[5] < '0' || p[5] > '9' ||
	    p[7] < '0' || p[7] > '9') {
		*why = "malformed HTTP version";
		return HTTPPARSE_BAD;
	}
	if (p[5] != '1' || (p[7] != '0' && p[7] != '1')) {
		*why = "only HTTP/1.0 and HTTP/1.1 are supported";
		return HTTPPARSE_VERSION;
	}
	out->minor_version = p[7] - '0';
	p = eol + 2;

	/* header fields, up to the empty line */
	for (;;) {
		eol = memchr(p, '\r', (size_t)(end - p));
		if (!eol || eol + 1 >= end || eol[1] != '\n') {
			*why = "malformed header field line";
			return HTTPPARSE_BAD;
		}
		if (eol == p)
			break;
		if (out->nfields == HTTPPARSE_MAX_HEADERS) {
			*why = "too many header fields";
			return HTTPPARSE_TOO_LARGE;
		}
		if (!parse_field(p, eol, &out->fields[out->nfields], why))
			return HTTPPARSE_BAD;
		out->nfields++;
		p = eol + 2;
	}
	if (eol + 2 != end) {
		*why = "trailing bytes after header block";
		return HTTPPARSE_BAD;
	}
	return HTTPPARSE_OK;
}

bool httpparse_chunk_size(const char *line, size_t len, uint64_t *size, const char **why)
{
	uint64_t v = 0;
	size_t i = 0;
	int d;

	for (; i < len && (d = digest_hexval((unsigned char)line[i])) >= 0; i++) {
		if (v > (UINT64_C(0x7fffffffffffffff) >> 4)) {
			*why = "chunk size too large";
			return false;
		}
		v = (v << 4) | (uint64_t)d;
	}
	if (i == 0) {
		*why = "missing chunk size";
		return false;
	}
	/* chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] );
	 * extensions carry no meaning here, but must not smuggle controls. */
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i < len && line[i] != ';') {
		*why = "invalid character after chunk size";
		return false;
	}
	/* BWS is allowed before a ";" only: "5 " alone is how two parsers
	 * come to disagree on where a chunk starts. */
	if (i == len && i > 0 && (line[i - 1] == ' ' || line[i - 1] == '\t')) {
		*why = "white space after chunk size without an extension";
		return false;
	}
	for (; i < len; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c != '\t' && (c < 0x20 || c == 0x7f)) {
			*why = "control character in chunk extension";
			return false;
		}
	}
	*size = v;
	return true;
}

bool httpparse_trailer_field(const char *line, size_t len, const char **why)
{
	struct httpparse_field f;

	return parse_field(line, line + len, &f, why);
}

bool httpparse_content_length(const char *v, size_t len, uint64_t *out)
{
	uint64_t n = 0;

	if (len == 0 || len > 18)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	*out = n;
	return true;
}

/* Parses a decimal number at *p; advances *p. */
static bool range_number(const char **p, uint64_t *out)
{
	uint64_t n = 0;
	const char *s = *p;

	if (**p < '0' || **p > '9')
		return false;
	for (; **p >= '0' && **p <= '9'; (*p)++) {
		if (n > (UINT64_MAX - 9) / 10)
			return false;
		n = n * 10 + (uint64_t)(**p - '0');
	}
	return *p - s <= 19 ? (*out = n, true) : false;
}

enum httpparse_range httpparse_range(const char *header, uint64_t size, uint64_t *first,
				     uint64_t *last)
{
	const char *p = header;
	uint64_t a, b;

	if (!header || strncasecmp(p, "bytes=", 6) != 0)
		return HTTPPARSE_RANGE_NONE; /* other units are ignored (RFC 9110 14.2) */
	p += 6;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strchr(p, ','))
		return HTTPPARSE_RANGE_NONE;
	if (*p == '-') {
		/* suffix: the last b bytes */
		p++;
		if (!range_number(&p, &b) || *p)
			return HTTPPARSE_RANGE_NONE;
		if (b == 0 || size == 0)
			return HTTPPARSE_RANGE_UNSATISFIABLE;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return HTTPPARSE_RANGE_PARTIAL;
	}
	if (!range_number(&p, &a) || *p != '-')
		return HTTPPARSE_RANGE_NONE;
	p++;
	if (*p == '\0') {
		b = UINT64_MAX;
	} else if (!range_number(&p, &b) || *p || b < a) {
		return HTTPPARSE_RANGE_NONE; /* syntactically invalid: ignore */
	}
	if (a >= size)
		return HTTPPARSE_RANGE_UNSATISFIABLE;
	*first = a;
	*last = b >= size ? size - 1 : b;
	return HTTPPARSE_RANGE_PARTIAL;
}
