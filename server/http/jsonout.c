/* jsonout — see jsonout.h. */
#include "http/jsonout.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/http.h"
#include "http/reply.h"

#define MAX_DEPTH 32

struct jsonout {
	char *buf; /* the text so far; grows by doubling */
	size_t len, cap;
	int depth;
	uint32_t has_items; /* bit d: the container at depth d+1 has a member */
	uint32_t is_array;  /* bit d: the container at depth d+1 is an array */
	bool after_key;
	bool failed;
};

struct jsonout *jsonout_new(void)
{
	struct jsonout *j = calloc(1, sizeof *j);

	if (j && !(j->buf = malloc(j->cap = 4096))) {
		free(j);
		return NULL;
	}
	return j;
}

void jsonout_free(struct jsonout *j)
{
	if (!j)
		return;
	free(j->buf);
	free(j);
}

bool jsonout_ok(const struct jsonout *j)
{
	return j && !j->failed && j->depth == 0 && !j->after_key;
}

/* A plain array rather than an evbuffer: a response is built from many
 * tiny pieces, and evbuffer_add costs far more per call than a memcpy. */
static void put(struct jsonout *j, const void *p, size_t n)
{
	if (j->cap - j->len < n) {
		size_t cap = j->cap;
		char *grown;

		while (cap - j->len < n)
			cap *= 2;
		grown = realloc(j->buf, cap);
		if (!grown) {
			j->failed = true;
			return;
		}
		j->buf = grown;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, p, n);
	j->len += n;
}

/* Before a value or a key: the comma separating it from the previous
 * member, unless the value follows its key. */
static void sep(struct jsonout *j)
{
	uint32_t bit;

	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth == 0)
		return;
	bit = 1u << (j->depth - 1);
	if (j->has_items & bit)
		put(j, ",", 1);
	j->has_items |= bit;
}

static void open_container(struct jsonout *j, bool array)
{
	uint32_t bit;

	sep(j);
	assert(j->depth < MAX_DEPTH);
	if (j->depth >= MAX_DEPTH) {
		j->failed = true;
		return;
	}
	put(j, array ? "[" : "{", 1);
	bit = 1u << j->depth;
	j->has_items &= ~bit;
	if (array)
		j->is_array |= bit;
	else
		j->is_array &= ~bit;
	j->depth++;
}

void jsonout_obj(struct jsonout *j) { open_container(j, false); }

void jsonout_arr(struct jsonout *j) { open_container(j, true); }

void jsonout_end(struct jsonout *j)
{
	assert(j->depth > 0 && !j->after_key);
	if (j->depth <= 0) {
		j->failed = true;
		return;
	}
	j->depth--;
	put(j, (j->is_array >> j->depth) & 1 ? "]" : "}", 1);
}

/* Length of a valid UTF-8 sequence at p (n bytes available) and its code
 * point, or 0 when the bytes are not valid UTF-8 (overlong forms,
 * surrogates and values past U+10FFFF included). */
static size_t utf8_seq(const unsigned char *p, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t c, min;

	if (p[0] < 0xc2 || p[0] > 0xf4)
		return 0;
	if (p[0] < 0xe0) {
		len = 2;
		c = p[0] & 0x1f;
		min = 0x80;
	} else if (p[0] < 0xf0) {
		len = 3;
		c = p[0] & 0x0f;
		min = 0x800;
	} else {
		len = 4;
		c = p[0] & 0x07;
		min = 0x10000;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

static void put_string(struct jsonout *j, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *run = p;
	size_t n = strlen(s);
	const unsigned char *end = p + n;

	put(j, "\"", 1);
	while (p < end) {
		unsigned char c = *p;
		char esc[8];
		uint32_t cp = 0;
		size_t len = 0;

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			p++;
			continue;
		}
		if (c >= 0x80) {
			len = utf8_seq(p, (size_t)(end - p), &cp);
			if (len && cp != 0x2028 && cp != 0x2029) {
				p += len;
				continue;
			}
		}
		put(j, run, (size_t)(p - run));
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(j, esc, 2);
			p++;
		} else if (c < 0x80) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			put(j, esc, 6);
			p++;
		} else if (len) { /* U+2028, U+2029 */
			put(j, cp == 0x2028 ? "\\u2028" : "\\u2029", 6);
			p += len;
		} else {
			put(j, "\\ufffd", 6);
			p++;
		}
		run = p;
	}
	put(j, run, (size_t)(p - run));
	put(j, "\"", 1);
}

void jsonout_key(struct jsonout *j, const char *key)
{
	assert(j->depth > 0 && !((j->is_array >> (j->depth - 1)) & 1) && !j->after_key);
	sep(j);
	put_string(j, key);
	put(j, ":", 1);
	j->after_key = true;
}

void jsonout_str(struct jsonout *j, const char *s)
{
	if (!s) {
		jsonout_null(j);
		return;
	}
	sep(j);
	put_string(j, s);
}

void jsonout_int(struct jsonout *j, int64_t v)
{
	char buf[24], *p = buf + sizeof buf;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	sep(j);
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	put(j, p, (size_t)(buf + sizeof buf - p));
}

void jsonout_bool(struct jsonout *j, bool v)
{
	sep(j);
	put(j, v ? "true" : "false", v ? 4 : 5);
}

void jsonout_null(struct jsonout *j)
{
	sep(j);
	put(j, "null", 4);
}

static void two(char *p, int v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

void jsonout_time(struct jsonout *j, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char b[22] = "\"0000-00-00T00:00:00Z\"";

	if (!t || !gmtime_r(&tt, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
		jsonout_null(j);
		return;
	}
	sep(j);
	two(b + 1, (tm.tm_year + 1900) / 100);
	two(b + 3, (tm.tm_year + 1900) % 100);
	two(b + 6, tm.tm_mon + 1);
	two(b + 9, tm.tm_mday);
	two(b + 12, tm.tm_hour);
	two(b + 15, tm.tm_min);
	two(b + 18, tm.tm_sec);
	put(j, b, sizeof b);
}

void jsonout_kstr(struct jsonout *j, const char *key, const char *s)
{
	jsonout_key(j, key);
	jsonout_str(j, s);
}

void jsonout_kint(struct jsonout *j, const char *key, int64_t v)
{
	jsonout_key(j, key);
	jsonout_int(j, v);
}

void jsonout_kbool(struct jsonout *j, const char *key, bool v)
{
	jsonout_key(j, key);
	jsonout_bool(j, v);
}

void jsonout_ktime(struct jsonout *j, const char *key, int64_t t)
{
	jsonout_key(j, key);
	jsonout_time(j, t);
}

void jsonout_reply(struct http_req *req, int status, struct jsonout *j)
{
	size_t len;

	if (!jsonout_ok(j)) {
		jsonout_free(j);
		reply_err(req, err_set(ERR_NOMEM, "out of memory"));
		return;
	}
	len = j->len;
	reply_api_headers(req);
	http_resp_header(req, "Content-Type", "application/json; charset=utf-8");
	http_resp_send(req, status, j->buf, len);
	jsonout_free(j);
}
