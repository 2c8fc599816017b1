/* extract — see extract.h. */
#include "extract.h"

#include <errno.h>
#include <expat.h>
#include <fcntl.h>
#include <libxml/HTMLparser.h>
#include <magic.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unicode/ucnv.h>
#include <unicode/ucsdet.h>
#include <unistd.h>
#include <zip.h>

#include "digest.h"
#include "lang.h"

#define FIELD_MAX 512 /* title, author: bytes kept */
#define READ_CHUNK (64 * 1024)

void extract_limits_default(struct extract_limits *lim)
{
	*lim = (struct extract_limits){
		.max_text = 8u << 20,
		.max_expanded = 256u << 20,
		.max_members = 10000,
		.cpu_seconds = 30,
		.wall_seconds = 60,
		.max_memory = 1024u << 20,
		.pdftotext = "pdftotext",
	};
}

const char *extract_status_name(enum extract_status s)
{
	switch (s) {
	case EXTRACT_OK: return "indexed";
	case EXTRACT_TRUNCATED: return "truncated";
	default: return "failed";
	}
}

/* --- text buffer with a cap ---------------------------------------------------- */

struct tbuf {
	char *p;
	size_t len, cap, max;
	bool full; /* something was cut because of max */
	bool nomem;
};

static bool tb_grow(struct tbuf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	while (cap < need)
		cap *= 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	if (cap <= b->cap)
		return true;
	p = realloc(b->p, cap);
	if (!p) {
		b->nomem = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

static void tb_put(struct tbuf *b, const char *s, size_t n)
{
	if (b->full || b->nomem || !n)
		return;
	if (b->len + n > b->max) {
		n = b->max - b->len;
		/* do not keep half a UTF-8 character */
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
		b->full = true;
	}
	if (!tb_grow(b, b->len + n + 1))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void tb_puts(struct tbuf *b, const char *s) { tb_put(b, s, strlen(s)); }

/* A separator between blocks, without piling up blank space. */
static void tb_sep(struct tbuf *b, char c)
{
	if (b->len == 0)
		return;
	if (b->p[b->len - 1] == '\n' ||
	    (c != '\n' && (b->p[b->len - 1] == ' ' || b->p[b->len - 1] == '\t')))
		return;
	tb_put(b, &c, 1);
}

static void tb_free(struct tbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

/* --- UTF-8 ----------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return len >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (len < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F))
			return 0; /* overlong, surrogate */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (len < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
		    (s[3] & 0xC0) != 0x80)
			return 0;
		if ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F))
			return 0;
		return 4;
	}
	return 0;
}

/* Whether [s, s+len) is the start of a valid sequence cut short. */
static bool utf8_cut_tail(const unsigned char *s, size_t len)
{
	size_t want = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;

	if (!want || len >= want || s[0] > 0xF4)
		return false;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return false;
	return true;
}

/* Count the invalid sequences in [s, s+len); a sequence cut by `len`
 * at the very end is not counted (the text was truncated there).
 * *multi counts valid multi-byte sequences: evidence of UTF-8. */
static size_t utf8_invalid_multi(const char *s, size_t len, size_t *multi)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, bad = 0, n;

	*multi = 0;
	while (i < len) {
		n = utf8_seq(u + i, len - i);
		if (!n) {
			if (utf8_cut_tail(u + i, len - i))
				break;
			bad++;
			n = 1;
		} else if (n > 1) {
			(*multi)++;
		}
		i += n;
	}
	return bad;
}

/* Append `s` to `b` as clean text: invalid UTF-8 becomes U+FFFD, control
 * characters other than tab, newline and form feed become spaces,
 * carriage returns and vertical tabs newlines. */
static void tb_put_clean(struct tbuf *b, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, start = 0, n;

	while (i < len && !b->full) {
		unsigned char c = u[i];

		n = utf8_seq(u + i, len - i);
		if (n && c >= 0x20 && c != 0x7F) {
			i += n;
			continue;
		}
		/* \f stays: it marks a page break, which search uses to
		 * say on which page a hit is (search/xap.cc) */
		if (n == 1 && (c == '\t' || c == '\n' || c == '\f')) {
			i++;
			continue;
		}
		tb_put(b, s + start, i - start);
		if (!n) {
			if (utf8_cut_tail(u + i, len - i))
				return; /* a character cut by a read limit */
			tb_put(b, "\xEF\xBF\xBD", 3);
			n = 1;
		} else {
			tb_put(b, c == '\r' || c == '\v' ? "\n" : " ", 1);
		}
		i += n;
		start = i;
	}
	tb_put(b, s + start, i - start);
}

/* A metadata field: cleaned, whitespace collapsed, capped at FIELD_MAX
 * bytes without splitting a character. */
static char *field_clean(const char *s, size_t len)
{
	struct tbuf raw = {.max = FIELD_MAX * 2};
	char *out;
	size_t o = 0;
	bool space = false;

	tb_put_clean(&raw, s, len);
	out = malloc(raw.len + 1);
	if (!out) {
		tb_free(&raw);
		return NULL;
	}
	for (size_t i = 0; i < raw.len; i++) {
		char c = raw.p[i];

		if (c == ' ' || c == '\t' || c == '\n') {
			space = o > 0;
			continue;
		}
		if (space)
			out[o++] = ' ';
		space = false;
		out[o++] = c;
	}
	if (o > FIELD_MAX) {
		o = FIELD_MAX;
		while (o > 0 && ((unsigned char)out[o] & 0xC0) == 0x80)
			o--;
	}
	out[o] = '\0';
	tb_free(&raw);
	return out;
}

/* --- results ------------------------------------------------------------------- */

static void set_reason(struct extract_result *res, enum extract_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record why; a failure outranks a truncation, the first reason stays. */
static void set_reason(struct extract_result *res, enum extract_status st, const char *fmt, ...)
{
	va_list ap;

	if (st < res->status || (st == res->status && res->reason[0]))
		return;
	res->status = st;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof res->reason, fmt, ap);
	va_end(ap);
}

static void set_field(char **dst, const char *s, size_t len)
{
	if (*dst && **dst)
		return;
	free(*dst);
	*dst = field_clean(s, len);
}

/* A language the document declares: the first one that consort knows
 * wins (the document-level declaration is read first), and it goes
 * before what identification would say. */
static void declare_lang(struct extract_result *res, const char *tag, size_t len)
{
	const char *code;

	if (res->lang[0] || !tag)
		return;
	code = lang_normalize(tag, len);
	if (*code)
		snprintf(res->lang, sizeof res->lang, "%s", code);
}

void extract_result_free(struct extract_result *res)
{
	if (!res)
		return;
	free(res->title);
	free(res->author);
	free(res->text);
	memset(res, 0, sizeof *res);
}

static int64_t parse_iso8601(const char *s)
{
	struct tm tm = {0};
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
	int64_t t;

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
		return 0;
	s += n;
	if (*s == 'T' || *s == ' ') {
		if (sscanf(s + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &n) == 3)
			s += 1 + n;
	}
	if (y < 1900 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return 0;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = (int64_t)timegm(&tm);
	while (*s == '.' || (*s >= '0' && *s <= '9'))
		s++;
	if ((*s == '+' || *s == '-') && strlen(s) >= 6) {
		int oh = 0, om = 0;

		if (sscanf(s + 1, "%2d:%2d", &oh, &om) == 2)
			t -= (*s == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
	}
	return t;
}

/* --- reading files ------------------------------------------------------------- */

/* Read at most `max` bytes from the start of `path`. *total is the file's
 * size. */
static enum err read_prefix(const char *path, size_t max, char **out, size_t *len, uint64_t *total)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	char *buf = NULL;
	size_t got = 0, cap;
	enum err rc = ERR_OK;

	*out = NULL;
	*len = 0;
	*total = 0;
	if (fd < 0)
		return err_from_errno(errno, "open");
	if (fstat(fd, &st) != 0) {
		rc = err_from_errno(errno, "stat");
		goto out;
	}
	*total = (uint64_t)st.st_size;
	cap = st.st_size > 0 && (uint64_t)st.st_size < max ? (size_t)st.st_size : max;
	buf = malloc(cap + 1);
	if (!buf) {
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	while (got < cap) {
		ssize_t n = read(fd, buf + got, cap - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_from_errno(errno, "read");
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	buf = NULL;
out:
	free(buf);
	close(fd);
	return rc;
}

/* Text of unknown encoding into UTF-8: valid UTF-8 stays as it is
 * (stray bad bytes replaced), anything else goes through ICU's charset
 * detector and converter. */
static void text_to_utf8(const char *in, size_t len, struct tbuf *out, struct extract_result *res)
{
	UErrorCode ec = U_ZERO_ERROR;
	UCharsetDetector *det = NULL;
	const UCharsetMatch *m;
	const char *name = NULL;
	int32_t conf = 0;
	char *conv = NULL;
	size_t multi, bad = utf8_invalid_multi(in, len, &multi);

	/* Bad bytes among valid multi-byte UTF-8 are damage, not another
	 * encoding; high bytes with no UTF-8 at all are a legacy charset. */
	if (bad == 0 || (multi > 0 && bad <= multi * 2)) {
		if (len >= 3 && !memcmp(in, "\xEF\xBB\xBF", 3)) {
			in += 3;
			len -= 3;
		}
		tb_put_clean(out, in, len);
		if (bad)
			set_reason(res, EXTRACT_TRUNCATED,
				   "%zu invalid UTF-8 sequences replaced with U+FFFD", bad);
		return;
	}
	det = ucsdet_open(&ec);
	if (U_SUCCESS(ec))
		ucsdet_setText(det, in, (int32_t)(len < (1 << 20) ? len : (1 << 20)), &ec);
	m = U_SUCCESS(ec) ? ucsdet_detect(det, &ec) : NULL;
	if (m && U_SUCCESS(ec)) {
		name = ucsdet_getName(m, &ec);
		conf = ucsdet_getConfidence(m, &ec);
	}
	if (name && U_SUCCESS(ec) && conf >= 10 && strcasecmp(name, "UTF-8") != 0) {
		size_t cap = len * 3 + 4;
		int32_t n;

		if (cap > out->max + 4)
			cap = out->max + 4; /* the buffer keeps no more anyway */
		conv = malloc(cap);
		if (conv) {
			ec = U_ZERO_ERROR;
			n = ucnv_convert("UTF-8", name, conv, (int32_t)cap, in, (int32_t)len, &ec);
			if (ec == U_BUFFER_OVERFLOW_ERROR ||
			    ec == U_STRING_NOT_TERMINATED_WARNING) {
				n = (int32_t)cap;
				ec = U_ZERO_ERROR;
				out->full = out->full || (size_t)n > out->max;
			}
			if (U_SUCCESS(ec)) {
				tb_put_clean(out, conv, (size_t)n < cap ? (size_t)n : cap);
				goto out;
			}
		}
	}
	/* Undetectable: keep what is valid. */
	tb_put_clean(out, in, len);
	set_reason(
		res, EXTRACT_TRUNCATED,
		"text is neither UTF-8 nor a detectable encoding: %zu invalid sequences replaced",
		bad);
out:
	free(conv);
	ucsdet_close(det);
}

/* --- plain text, CSV, Markdown ---------------------------------------------------- */

static void extract_text(const char *path, const struct extract_limits *lim, bool markdown,
			 struct tbuf *tb, struct extract_result *res)
{
	char *buf = NULL;
	size_t len;
	uint64_t total;
	enum err rc;

	rc = read_prefix(path, (size_t)lim->max_text, &buf, &len, &total);
	if (rc) {
		set_reason(res, EXTRACT_FAILED, "%s", err_detail());
		return;
	}
	if (total > len)
		set_reason(res, EXTRACT_TRUNCATED,
			   "text truncated: first %zu of %llu bytes indexed", len,
			   (unsigned long long)total);
	text_to_utf8(buf, len, tb, res);
	free(buf);
	if (!markdown)
		return;
	/* Markdown: the first heading is the title; markup characters go. */
	for (size_t i = 0; i < tb->len;) {
		char *line = tb->p + i;
		char *nl = memchr(line, '\n', tb->len - i);
		size_t ll = nl ? (size_t)(nl - line) : tb->len - i;
		size_t h = 0;

		while (h < ll && h < 6 && line[h] == '#')
			h++;
		if (h > 0 && h < ll && line[h] == ' ' && !res->title)
			set_field(&res->title, line + h + 1, ll - h - 1);
		for (size_t k = 0; k < ll; k++) {
			char c = line[k];

			if (c == '#' || c == '*' || c == '`' || c == '>' || c == '|')
				line[k] = ' ';
			else if (c == '_' &&
				 (k == 0 || k + 1 == ll || line[k - 1] == ' ' ||
				  line[k + 1] == ' ' || line[k + 1] == '_' || line[k - 1] == '_'))
				line[k] = ' ';
		}
		i += ll + 1;
	}
}

/* --- HTML ----------------------------------------------------------------------- */

struct html_ctx {
	struct tbuf *tb;
	struct extract_result *res;
	int skip; /* inside script/style/... */
	bool in_title, in_h;
	struct tbuf title, heading;
};

static bool html_is(const xmlChar *name, const char *const *list)
{
	for (; *list; list++)
		if (!strcasecmp((const char *)name, *list))
			return true;
	return false;
}

static const char *const html_skip[] = {"script", "style", "noscript", "template",
					"svg",    "head",  NULL};
static const char *const html_block[] = {
	"p",   "div",   "br", "li", "tr",      "td",      "th",     "h1",     "h2",
	"h3",  "h4",    "h5", "h6", "section", "article", "header", "footer", "blockquote",
	"pre", "table", "ul", "ol", "dt",      "dd",      "hr",     "title",  NULL};

static void html_start(void *arg, const xmlChar *name, const xmlChar **atts)
{
	struct html_ctx *h = arg;

	if (!strcasecmp((const char *)name, "title")) {
		h->in_title = true;
		return;
	}
	if (!strcasecmp((const char *)name, "html") && atts) {
		for (size_t i = 0; atts[i] && atts[i + 1]; i += 2)
			if (!strcasecmp((const char *)atts[i], "lang") ||
			    !strcasecmp((const char *)atts[i], "xml:lang"))
				declare_lang(h->res, (const char *)atts[i + 1],
					     strlen((const char *)atts[i + 1]));
	}
	if (!strcasecmp((const char *)name, "meta") && atts) {
		const char *n = NULL, *c = NULL;

		for (size_t i = 0; atts[i] && atts[i + 1]; i += 2) {
			if (!strcasecmp((const char *)atts[i], "name") ||
			    !strcasecmp((const char *)atts[i], "http-equiv"))
				n = (const char *)atts[i + 1];
			else if (!strcasecmp((const char *)atts[i], "content"))
				c = (const char *)atts[i + 1];
		}
		if (n && c && !strcasecmp(n, "author"))
			set_field(&h->res->author, c, strlen(c));
		else if (n && c && !strcasecmp(n, "content-language"))
			declare_lang(h->res, c, strlen(c));
		return;
	}
	if (html_is(name, html_skip)) {
		h->skip++;
		return;
	}
	if (html_is(name, html_block))
		tb_sep(h->tb, '\n');
	if ((!strcasecmp((const char *)name, "h1") || !strcasecmp((const char *)name, "h2")) &&
	    h->heading.len == 0)
		h->in_h = true;
}

static void html_end(void *arg, const xmlChar *name)
{
	struct html_ctx *h = arg;

	if (!strcasecmp((const char *)name, "title")) {
		h->in_title = false;
		return;
	}
	if (html_is(name, html_skip)) {
		if (h->skip > 0)
			h->skip--;
		return;
	}
	if (html_is(name, html_block))
		tb_sep(h->tb, '\n');
	if (name[0] == 'h' || name[0] == 'H')
		h->in_h = false;
}

static void html_chars(void *arg, const xmlChar *ch, int len)
{
	struct html_ctx *h = arg;

	if (h->in_title) {
		tb_put(&h->title, (const char *)ch, (size_t)len);
		return;
	}
	if (h->skip)
		return;
	if (h->in_h)
		tb_put(&h->heading, (const char *)ch, (size_t)len);
	tb_put_clean(h->tb, (const char *)ch, (size_t)len);
}

static void html_ignore(void *arg, const xmlChar *ch, int len)
{
	(void)arg;
	(void)ch;
	(void)len;
}

static void extract_html(const char *path, const struct extract_limits *lim, struct tbuf *tb,
			 struct extract_result *res)
{
	htmlSAXHandler sax;
	struct html_ctx h = {.tb = tb,
			     .res = res,
			     .title = {.max = FIELD_MAX * 2},
			     .heading = {.max = FIELD_MAX * 2}};
	htmlParserCtxtPtr ctxt = NULL;
	char *buf = NULL;
	int fd;
	uint64_t read_total = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		set_reason(res, EXTRACT_FAILED, "open: %s", strerror(errno));
		return;
	}
	buf = malloc(READ_CHUNK);
	if (!buf) {
		set_reason(res, EXTRACT_FAILED, "out of memory");
		goto out;
	}
	memset(&sax, 0, sizeof sax);
	sax.startElement = html_start;
	sax.endElement = html_end;
	sax.characters = html_chars;
	sax.cdataBlock = html_ignore;
	sax.ignorableWhitespace = html_ignore;
	ctxt = htmlCreatePushParserCtxt(&sax, &h, NULL, 0, NULL, XML_CHAR_ENCODING_NONE);
	if (!ctxt) {
		set_reason(res, EXTRACT_FAILED, "cannot create HTML parser");
		goto out;
	}
	htmlCtxtUseOptions(ctxt, HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR |
					 HTML_PARSE_NOWARNING | HTML_PARSE_NOIMPLIED);
	for (;;) {
		ssize_t n = read(fd, buf, READ_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			set_reason(res, EXTRACT_FAILED, "read: %s", strerror(errno));
			break;
		}
		if (n == 0 || tb->full)
			break;
		read_total += (uint64_t)n;
		if (read_total > lim->max_expanded) {
			set_reason(res, EXTRACT_TRUNCATED,
				   "HTML larger than %llu bytes: rest not indexed",
				   (unsigned long long)lim->max_expanded);
			break;
		}
		htmlParseChunk(ctxt, buf, (int)n, 0);
	}
	htmlParseChunk(ctxt, NULL, 0, 1);
	if (h.title.len)
		set_field(&res->title, h.title.p, h.title.len);
	else if (h.heading.len)
		set_field(&res->title, h.heading.p, h.heading.len);
out:
	if (ctxt)
		htmlFreeParserCtxt(ctxt);
	tb_free(&h.title);
	tb_free(&h.heading);
	free(buf);
	close(fd);
}

/* --- PDF ------------------------------------------------------------------------ */

static void unescape_html(char *s)
{
	static const struct {
		const char *e;
		char c;
	} ents[] = {
		{"&amp;", '&'},  {"&lt;", '<'},   {"&gt;", '>'},
		{"&quot;", '"'}, {"&#39;", '\''}, {"&apos;", '\''},
	};
	char *o = s;

	while (*s) {
		size_t i;

		for (i = 0; i < sizeof ents / sizeof ents[0]; i++)
			if (!strncmp(s, ents[i].e, strlen(ents[i].e)))
				break;
		if (i < sizeof ents / sizeof ents[0]) {
			*o++ = ents[i].c;
			s += strlen(ents[i].e);
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
}

/* The value of <meta name="NAME" content="..."/> in pdftotext's head. */
static void pdf_meta(const char *head, const char *name, char **dst)
{
	char pat[64];
	const char *p, *e;
	char *v;

	snprintf(pat, sizeof pat, "<meta name=\"%s\" content=\"", name);
	p = strstr(head, pat);
	if (!p)
		return;
	p += strlen(pat);
	e = strchr(p, '"');
	if (!e)
		return;
	v = strndup(p, (size_t)(e - p));
	if (!v)
		return;
	unescape_html(v);
	set_field(dst, v, strlen(v));
	free(v);
}

/* The catalog's /Lang, as a literal string "(de-DE)" or hex "<6465>",
 * looked for in the first and the last 64 KiB of the file, where
 * catalogs are (start: linearized; end: the rest and incremental
 * updates). A catalog inside a compressed object stream is not read:
 * then the text decides. */
static void pdf_lang_in(const char *buf, size_t len, struct extract_result *res)
{
	for (const char *p = buf;
	     !res->lang[0] && (p = memmem(p, len - (size_t)(p - buf), "/Lang", 5));) {
		const char *e = buf + len;
		char tag[16];
		size_t n = 0;

		p += 5;
		while (p < e && (*p == ' ' || *p == '\r' || *p == '\n' || *p == '\t'))
			p++;
		if (p < e && *p == '(') {
			for (p++; p < e && *p != ')' && n < sizeof tag - 1; p++)
				tag[n++] = *p;
		} else if (p < e && *p == '<') {
			for (p++; p + 1 < e && p[0] != '>' && n < sizeof tag - 1; p += 2) {
				int hi = digest_hexval((unsigned char)p[0]);
				int lo = digest_hexval((unsigned char)p[1]);

				if (hi < 0 || lo < 0)
					break;
				tag[n++] = (char)(hi << 4 | lo);
			}
		}
		if (n >= 2 && (unsigned char)tag[0] == 0xfe && (unsigned char)tag[1] == 0xff) {
			size_t k = 0; /* UTF-16BE with a BOM: the tag is ASCII */

			for (size_t i = 3; i < n; i += 2)
				tag[k++] = tag[i];
			n = k;
		}
		if (n)
			declare_lang(res, tag, n);
	}
}

static void pdf_lang(const char *path, struct extract_result *res)
{
	enum { PART = 64 * 1024 };
	char *head = NULL, *tail = NULL;
	size_t len = 0;
	uint64_t total = 0;
	int fd;

	if (read_prefix(path, PART, &head, &len, &total) != ERR_OK)
		return;
	pdf_lang_in(head, len, res);
	free(head);
	if (res->lang[0] || total <= PART)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	tail = fd >= 0 ? malloc(PART) : NULL;
	if (tail) {
		ssize_t n = pread(fd, tail, PART, (off_t)(total - PART));

		if (n > 0)
			pdf_lang_in(tail, (size_t)n, res);
	}
	free(tail);
	if (fd >= 0)
		close(fd);
}

static void extract_pdf(const char *path, const struct extract_limits *lim, struct tbuf *tb,
			struct extract_result *res)
{
	int fds[2] = {-1, -1};
	pid_t pid;
	struct tbuf out = {.max = (size_t)lim->max_text + 64 * 1024};
	char buf[READ_CHUNK];
	int status = 0;
	bool killed_for_size = false, timed_out = false;
	struct timespec start, now;
	char *pre, *end, *created = NULL;

	if (pipe2(fds, O_CLOEXEC) != 0) {
		set_reason(res, EXTRACT_FAILED, "pipe: %s", strerror(errno));
		return;
	}
	pid = fork();
	if (pid < 0) {
		set_reason(res, EXTRACT_FAILED, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (pid == 0) {
		struct rlimit cpu = {lim->cpu_seconds, lim->cpu_seconds + 1};
		struct rlimit mem = {lim->max_memory, lim->max_memory};
		int devnull = open("/dev/null", O_RDWR);

		dup2(fds[1], 1);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 2);
		}
		setrlimit(RLIMIT_CPU, &cpu);
		if (lim->max_memory)
			setrlimit(RLIMIT_AS, &mem);
		execlp(lim->pdftotext, lim->pdftotext, "-q", "-enc", "UTF-8", "-htmlmeta", path,
		       "-", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
		long left_ms;
		ssize_t n;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left_ms =
			(long)lim->wall_seconds * 1000 - ((now.tv_sec - start.tv_sec) * 1000 +
							  (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left_ms <= 0) {
			timed_out = true;
			break;
		}
		if (poll(&pfd, 1, (int)left_ms) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		n = read(fds[0], buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		tb_put(&out, buf, (size_t)n);
		if (out.full) {
			killed_for_size = true;
			break;
		}
	}
	if (timed_out || killed_for_size)
		kill(pid, SIGKILL);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed_out) {
		set_reason(res, EXTRACT_FAILED, "pdftotext did not finish within %u s",
			   lim->wall_seconds);
		goto out;
	}
	if (!killed_for_size) {
		if (WIFSIGNALED(status)) {
			int sig = WTERMSIG(status);

			if (sig == SIGXCPU || sig == SIGKILL)
				set_reason(res, EXTRACT_FAILED,
					   "pdftotext exceeded the CPU limit (%u s)",
					   lim->cpu_seconds);
			else
				set_reason(res, EXTRACT_FAILED, "pdftotext crashed (signal %d, %s)",
					   sig, strsignal(sig));
			goto out;
		}
		if (WEXITSTATUS(status) == 127) {
			set_reason(res, EXTRACT_FAILED, "cannot run %s", lim->pdftotext);
			goto out;
		}
		if (WEXITSTATUS(status) != 0) {
			set_reason(res, EXTRACT_FAILED,
				   "pdftotext could not read the PDF (exit %d)",
				   WEXITSTATUS(status));
			goto out;
		}
	}
	if (!out.len) {
		set_reason(res, EXTRACT_FAILED, "pdftotext produced nothing");
		goto out;
	}
	pre = strstr(out.p, "<pre>\n");
	if (pre) {
		char *t, *te;

		*pre = '\0';
		t = strstr(out.p, "<title>");
		te = t ? strstr(t, "</title>") : NULL;
		if (t && te) {
			*te = '\0';
			unescape_html(t + 7);
			set_field(&res->title, t + 7, strlen(t + 7));
			*te = '<';
		}
		pdf_meta(out.p, "Author", &res->author);
		pdf_meta(out.p, "CreationDate", &created);
		if (created)
			res->created = parse_iso8601(created);
		pre += 6;
		end = out.p + out.len;
		/* the text is not escaped: the last </pre> is the real one */
		for (char *e = end - 6; e >= pre; e--) {
			if (!strncmp(e, "</pre>", 6)) {
				end = e;
				break;
			}
		}
		for (char *c = pre; c < end; c++)
			if (*c == '\f')
				res->pages++;
		tb_put_clean(tb, pre, (size_t)(end - pre));
	}
	if (killed_for_size)
		tb->full = true;
out:
	free(created);
	tb_free(&out);
}

/* --- zip containers: OOXML and OpenDocument ---------------------------------------- */

enum zkind { Z_DOCX, Z_XLSX, Z_PPTX, Z_ODF, Z_META };

struct zctx {
	struct tbuf *tb;
	struct extract_result *res;
	XML_Parser xp;
	enum zkind kind;
	const char *member;
	int depth;
	int text_depth; /* > 0: character data is text */
	int skip_depth; /* > 0: inside something to leave out */
	bool in_cell_value;
	bool cell_shared;
	/* title candidates: a heading or a title placeholder */
	bool in_heading;
	struct tbuf heading;
	struct tbuf field; /* a metadata element's text */
	int field_id;      /* which metadata element: 1 title 2 creator 3 created 4 pages */
	bool slide_title;
	/* counters */
	int pages;
	uint64_t *expanded;
	const struct extract_limits *lim;
	bool over;
};

static const char *local(const char *name)
{
	const char *bar = strrchr(name, '|');

	return bar ? bar + 1 : name;
}

static bool ns_has(const char *name, const char *needle)
{
	const char *bar = strrchr(name, '|');

	return bar && memmem(name, (size_t)(bar - name), needle, strlen(needle));
}

static const char *attr(const char **atts, const char *lname)
{
	for (size_t i = 0; atts[i]; i += 2)
		if (!strcmp(local(atts[i]), lname))
			return atts[i + 1];
	return NULL;
}

static void z_start(void *arg, const char *name, const char **atts)
{
	struct zctx *z = arg;
	const char *l = local(name);

	z->depth++;
	if (z->skip_depth) {
		z->skip_depth++;
		return;
	}
	switch (z->kind) {
	case Z_DOCX:
		if (!strcmp(l, "t"))
			z->text_depth = 1;
		else if (!strcmp(l, "delText") || !strcmp(l, "instrText"))
			z->skip_depth = 1;
		else if (!strcmp(l, "tab"))
			tb_sep(z->tb, '\t');
		else if (!strcmp(l, "br") || !strcmp(l, "cr"))
			tb_sep(z->tb, '\n');
		else if (!strcmp(l, "lang")) {
			const char *v = attr(atts, "val");

			declare_lang(z->res, v, v ? strlen(v) : 0);
		} else if (!strcmp(l, "pStyle")) {
			const char *v = attr(atts, "val");

			if (v && z->heading.len == 0 &&
			    (!strcasecmp(v, "Title") || !strncasecmp(v, "Heading", 7) ||
			     !strncasecmp(v, "berschrift", 10) || !strncasecmp(v, "Titre", 5)))
				z->in_heading = true;
		}
		break;
	case Z_XLSX:
		if (!strcmp(l, "rPh")) {
			z->skip_depth = 1;
		} else if (!strcmp(l, "t")) {
			z->text_depth = 1;
		} else if (!strcmp(l, "c")) {
			const char *t = attr(atts, "t");

			z->cell_shared = t && !strcmp(t, "s");
		} else if (!strcmp(l, "v")) {
			z->in_cell_value = !z->cell_shared;
		} else if (!strcmp(l, "sheet")) {
			const char *n = attr(atts, "name");

			if (n) {
				tb_puts(z->tb, n);
				tb_sep(z->tb, '\n');
			}
		}
		break;
	case Z_PPTX:
		if (!strcmp(l, "rPr") || !strcmp(l, "defRPr") || !strcmp(l, "endParaRPr")) {
			const char *v = attr(atts, "lang");

			declare_lang(z->res, v, v ? strlen(v) : 0);
		}
		if (!strcmp(l, "t"))
			z->text_depth = 1;
		else if (!strcmp(l, "br"))
			tb_sep(z->tb, '\n');
		else if (!strcmp(l, "ph")) {
			const char *t = attr(atts, "type");

			if (t && (!strcmp(t, "title") || !strcmp(t, "ctrTitle")) &&
			    z->heading.len == 0)
				z->slide_title = true;
		}
		break;
	case Z_ODF:
		if (!strcmp(l, "text-properties")) {
			const char *v = attr(atts, "language");

			if (v && !strcmp(v, "zxx")) /* "no language" */
				v = NULL;
			declare_lang(z->res, v, v ? strlen(v) : 0);
		}
		if (ns_has(name, "opendocument:xmlns:office") &&
		    (!strcmp(l, "body") || !strcmp(l, "master-styles"))) {
			z->text_depth = 1;
		} else if (z->text_depth) {
			if (!strcmp(l, "tracked-changes") || !strcmp(l, "bookmark-ref") ||
			    (ns_has(name, "opendocument:xmlns:drawing") && !strcmp(l, "image")))
				z->skip_depth = 1;
			else if (!strcmp(l, "s"))
				tb_put(z->tb, " ", 1);
			else if (!strcmp(l, "tab"))
				tb_sep(z->tb, '\t');
			else if (!strcmp(l, "line-break"))
				tb_sep(z->tb, '\n');
			else if (!strcmp(l, "h") && ns_has(name, "opendocument:xmlns:text") &&
				 z->heading.len == 0)
				z->in_heading = true;
			else if (!strcmp(l, "page") && ns_has(name, "opendocument:xmlns:drawing"))
				z->pages++;
			else if (!strcmp(l, "table") && ns_has(name, "opendocument:xmlns:table")) {
				const char *n = attr(atts, "name");

				if (n && !strncmp(z->member, "content", 7)) {
					tb_sep(z->tb, '\n');
					tb_puts(z->tb, n);
					tb_sep(z->tb, '\n');
				}
			}
		}
		break;
	case Z_META:
		/* docProps/core.xml, docProps/app.xml, meta.xml */
		z->field.len = 0;
		z->field.full = false;
		z->field_id = 0;
		if (!strcmp(l, "title") && ns_has(name, "purl.org/dc/elements"))
			z->field_id = 1;
		else if ((!strcmp(l, "creator") && ns_has(name, "purl.org/dc/elements")) ||
			 (!strcmp(l, "initial-creator")))
			z->field_id = 2;
		else if ((!strcmp(l, "created") && ns_has(name, "purl.org/dc/terms")) ||
			 !strcmp(l, "creation-date"))
			z->field_id = 3;
		else if (!strcmp(l, "Pages") || !strcmp(l, "Slides"))
			z->field_id = 4;
		else if (!strcmp(l, "language") && ns_has(name, "purl.org/dc/elements"))
			z->field_id = 5;
		else if (!strcmp(l, "document-statistic")) {
			const char *p = attr(atts, "page-count");

			if (p)
				z->res->pages = atoi(p) > 0 ? atoi(p) : z->res->pages;
		}
		break;
	}
}

static void z_end(void *arg, const char *name)
{
	struct zctx *z = arg;
	const char *l = local(name);

	z->depth--;
	if (z->skip_depth) {
		z->skip_depth--;
		return;
	}
	switch (z->kind) {
	case Z_DOCX:
		if (!strcmp(l, "t"))
			z->text_depth = 0;
		else if (!strcmp(l, "p")) {
			tb_sep(z->tb, '\n');
			z->in_heading = false;
		}
		break;
	case Z_XLSX:
		if (!strcmp(l, "t"))
			z->text_depth = 0;
		else if (!strcmp(l, "v")) {
			z->in_cell_value = false;
			tb_sep(z->tb, ' ');
		} else if (!strcmp(l, "si") || !strcmp(l, "row"))
			tb_sep(z->tb, '\n');
		else if (!strcmp(l, "c") || !strcmp(l, "is"))
			tb_sep(z->tb, ' ');
		break;
	case Z_PPTX:
		if (!strcmp(l, "t"))
			z->text_depth = 0;
		else if (!strcmp(l, "p"))
			tb_sep(z->tb, z->slide_title ? ' ' : '\n');
		else if (!strcmp(l, "sp")) {
			if (z->slide_title)
				tb_sep(z->tb, '\n');
			z->slide_title = false;
		}
		break;
	case Z_ODF:
		if (ns_has(name, "opendocument:xmlns:office") &&
		    (!strcmp(l, "body") || !strcmp(l, "master-styles")))
			z->text_depth = 0;
		else if (!strcmp(l, "p") || !strcmp(l, "h") || !strcmp(l, "list-item") ||
			 !strcmp(l, "table-row")) {
			tb_sep(z->tb, '\n');
			if (!strcmp(l, "h"))
				z->in_heading = false;
		} else if (!strcmp(l, "table-cell"))
			tb_sep(z->tb, '\t');
		break;
	case Z_META:
		if (z->field_id == 1)
			set_field(&z->res->title, z->field.p, z->field.len);
		else if (z->field_id == 2)
			set_field(&z->res->author, z->field.p, z->field.len);
		else if (z->field_id == 3 && z->field.len && !z->res->created) {
			char d[40];

			snprintf(d, sizeof d, "%.*s", (int)z->field.len, z->field.p);
			z->res->created = parse_iso8601(d);
		} else if (z->field_id == 4 && z->field.len) {
			char d[16];

			snprintf(d, sizeof d, "%.*s", (int)z->field.len, z->field.p);
			if (atoi(d) > 0)
				z->res->pages = atoi(d);
		} else if (z->field_id == 5 && z->field.len) {
			declare_lang(z->res, z->field.p, z->field.len);
		}
		z->field_id = 0;
		break;
	}
}

static void z_chars(void *arg, const char *s, int len)
{
	struct zctx *z = arg;

	if (z->skip_depth)
		return;
	if (z->kind == Z_META) {
		if (z->field_id)
			tb_put(&z->field, s, (size_t)len);
		return;
	}
	if (!z->text_depth && !z->in_cell_value)
		return;
	if (z->in_heading || z->slide_title)
		tb_put(&z->heading, s, (size_t)len);
	tb_put_clean(z->tb, s, (size_t)len);
	if (z->tb->full)
		XML_StopParser(z->xp, XML_FALSE);
}

/* Parse one member of the archive with the handlers of `kind`. */
static void zip_member(zip_t *za, zip_int64_t idx, const char *mname, enum zkind kind,
		       struct zctx *z)
{
	zip_file_t *zf;
	char *buf;
	XML_Parser xp;

	if (z->over || z->tb->full)
		return;
	zf = zip_fopen_index(za, (zip_uint64_t)idx, 0);
	if (!zf) {
		set_reason(z->res, EXTRACT_TRUNCATED, "cannot read %s: %s", mname,
			   zip_strerror(za));
		return;
	}
	buf = malloc(READ_CHUNK);
	xp = XML_ParserCreateNS(NULL, '|');
	if (!buf || !xp) {
		set_reason(z->res, EXTRACT_FAILED, "out of memory");
		goto out;
	}
	z->xp = xp;
	z->kind = kind;
	z->member = mname;
	z->depth = z->text_depth = z->skip_depth = 0;
	z->in_cell_value = z->in_heading = z->slide_title = false;
	XML_SetUserData(xp, z);
	XML_SetElementHandler(xp, z_start, z_end);
	XML_SetCharacterDataHandler(xp, z_chars);
	for (;;) {
		zip_int64_t n = zip_fread(zf, buf, READ_CHUNK);

		if (n < 0) {
			set_reason(z->res, EXTRACT_TRUNCATED, "cannot decompress %s: %s", mname,
				   zip_file_strerror(zf));
			break;
		}
		*z->expanded += (uint64_t)n;
		if (*z->expanded > z->lim->max_expanded) {
			/* The real size counts, whatever the directory claims. */
			set_reason(z->res, EXTRACT_FAILED,
				   "archive expands past %llu MiB (zip bomb?) in %s",
				   (unsigned long long)(z->lim->max_expanded >> 20), mname);
			z->over = true;
			break;
		}
		if (XML_Parse(xp, buf, (int)n, n == 0) == XML_STATUS_ERROR) {
			if (XML_GetErrorCode(xp) != XML_ERROR_ABORTED)
				set_reason(z->res, EXTRACT_TRUNCATED,
					   "%s: XML error at line %lu: %s", mname,
					   (unsigned long)XML_GetCurrentLineNumber(xp),
					   XML_ErrorString(XML_GetErrorCode(xp)));
			break;
		}
		if (n == 0 || z->tb->full)
			break;
	}
	if (z->heading.len && (!z->res->title || !*z->res->title) && kind != Z_META)
		set_field(&z->res->title, z->heading.p, z->heading.len);
out:
	if (xp)
		XML_ParserFree(xp);
	free(buf);
	zip_fclose(zf);
}

struct zname {
	const char *name;
	zip_int64_t idx;
	long num;
};

static int zname_cmp(const void *a, const void *b)
{
	const struct zname *x = a, *y = b;
	size_t lx = strcspn(x->name, "0123456789"), ly = strcspn(y->name, "0123456789");
	int c = lx == ly ? strncmp(x->name, y->name, lx) : strcmp(x->name, y->name);

	if (c)
		return c;
	return (x->num > y->num) - (x->num < y->num);
}

/* Members whose names start with `prefix` and end with ".xml", in
 * natural order (slide2 before slide10), parsed with `kind`. */
static void zip_members(zip_t *za, const char *prefix, enum zkind kind, struct zctx *z, int *count)
{
	zip_int64_t n = zip_get_num_entries(za, 0);
	struct zname *v = calloc((size_t)(n > 0 ? n : 1), sizeof *v);
	size_t nv = 0, pl = strlen(prefix);

	if (!v) {
		set_reason(z->res, EXTRACT_FAILED, "out of memory");
		return;
	}
	for (zip_int64_t i = 0; i < n; i++) {
		const char *name = zip_get_name(za, (zip_uint64_t)i, 0);
		size_t len = name ? strlen(name) : 0;

		if (!name || strncmp(name, prefix, pl) || len < 4 ||
		    strcmp(name + len - 4, ".xml") || strchr(name + pl, '/'))
			continue;
		v[nv].name = name;
		v[nv].idx = i;
		v[nv].num = strtol(name + strcspn(name, "0123456789"), NULL, 10);
		nv++;
	}
	qsort(v, nv, sizeof *v, zname_cmp);
	for (size_t i = 0; i < nv; i++)
		zip_member(za, v[i].idx, v[i].name, kind, z);
	if (count)
		*count = (int)nv;
	free(v);
}

static void zip_one(zip_t *za, const char *name, enum zkind kind, struct zctx *z)
{
	zip_int64_t idx = zip_name_locate(za, name, 0);

	if (idx >= 0)
		zip_member(za, idx, name, kind, z);
}

/* What a zip container holds, from its members: "" when not an office
 * document. */
static const char *zip_sniff(zip_t *za)
{
	zip_int64_t idx = zip_name_locate(za, "mimetype", 0);

	if (idx >= 0) {
		static char mt[100];
		zip_file_t *zf = zip_fopen_index(za, (zip_uint64_t)idx, 0);
		zip_int64_t n = zf ? zip_fread(zf, mt, sizeof mt - 1) : -1;

		if (zf)
			zip_fclose(zf);
		if (n > 0) {
			mt[n] = '\0';
			mt[strcspn(mt, "\r\n ")] = '\0';
			if (!strcmp(mt, "application/vnd.oasis.opendocument.text"))
				return "odt";
			if (!strcmp(mt, "application/vnd.oasis.opendocument.spreadsheet"))
				return "ods";
			if (!strcmp(mt, "application/vnd.oasis.opendocument.presentation"))
				return "odp";
		}
	}
	if (zip_name_locate(za, "word/document.xml", 0) >= 0)
		return "docx";
	if (zip_name_locate(za, "xl/workbook.xml", 0) >= 0)
		return "xlsx";
	if (zip_name_locate(za, "ppt/presentation.xml", 0) >= 0)
		return "pptx";
	return "";
}

static void extract_zip(const char *path, const struct extract_limits *lim, struct tbuf *tb,
			struct extract_result *res)
{
	int zerr = 0;
	zip_t *za = zip_open(path, ZIP_RDONLY, &zerr);
	struct zctx z = {.tb = tb,
			 .res = res,
			 .lim = lim,
			 .heading = {.max = FIELD_MAX * 2},
			 .field = {.max = FIELD_MAX * 2}};
	uint64_t expanded = 0, declared = 0;
	zip_int64_t n;
	const char *kind;
	int slides = 0;

	z.expanded = &expanded;
	if (!za) {
		zip_error_t ze;

		zip_error_init_with_code(&ze, zerr);
		set_reason(res, EXTRACT_FAILED, "not a readable zip archive: %s",
			   zip_error_strerror(&ze));
		zip_error_fini(&ze);
		return;
	}
	n = zip_get_num_entries(za, 0);
	if (n < 0 || (uint64_t)n > lim->max_members) {
		set_reason(res, EXTRACT_FAILED, "archive has %lld members (limit %u)", (long long)n,
			   lim->max_members);
		goto out;
	}
	for (zip_int64_t i = 0; i < n; i++) {
		zip_stat_t st;

		if (zip_stat_index(za, (zip_uint64_t)i, 0, &st) == 0 && (st.valid & ZIP_STAT_SIZE))
			declared += st.size;
	}
	if (declared > lim->max_expanded) {
		set_reason(res, EXTRACT_FAILED,
			   "archive declares %llu MiB expanded (limit %llu MiB, zip bomb?)",
			   (unsigned long long)(declared >> 20),
			   (unsigned long long)(lim->max_expanded >> 20));
		goto out;
	}
	kind = zip_sniff(za);
	if (*kind && (!strcmp(res->type, "other") || !res->type[0] || !strcmp(res->type, "zip")))
		snprintf(res->type, sizeof res->type, "%s", kind);
	if (!strcmp(res->type, "docx")) {
		zip_one(za, "docProps/core.xml", Z_META, &z);
		zip_one(za, "docProps/app.xml", Z_META, &z);
		zip_one(za, "word/document.xml", Z_DOCX, &z);
		zip_members(za, "word/header", Z_DOCX, &z, NULL);
		zip_members(za, "word/footer", Z_DOCX, &z, NULL);
		zip_one(za, "word/footnotes.xml", Z_DOCX, &z);
		zip_one(za, "word/endnotes.xml", Z_DOCX, &z);
		zip_one(za, "word/comments.xml", Z_DOCX, &z);
	} else if (!strcmp(res->type, "xlsx")) {
		zip_one(za, "docProps/core.xml", Z_META, &z);
		zip_one(za, "xl/workbook.xml", Z_XLSX, &z);
		zip_one(za, "xl/sharedStrings.xml", Z_XLSX, &z);
		zip_members(za, "xl/worksheets/sheet", Z_XLSX, &z, NULL);
	} else if (!strcmp(res->type, "pptx")) {
		zip_one(za, "docProps/core.xml", Z_META, &z);
		zip_members(za, "ppt/slides/slide", Z_PPTX, &z, &slides);
		zip_members(za, "ppt/notesSlides/notesSlide", Z_PPTX, &z, NULL);
		if (slides)
			res->pages = slides;
	} else if (!strcmp(res->type, "odt") || !strcmp(res->type, "ods") ||
		   !strcmp(res->type, "odp")) {
		zip_one(za, "meta.xml", Z_META, &z);
		zip_one(za, "content.xml", Z_ODF, &z);
		zip_one(za, "styles.xml", Z_ODF, &z);
		if (!strcmp(res->type, "odp") && z.pages)
			res->pages = z.pages;
	}
out:
	tb_free(&z.heading);
	tb_free(&z.field);
	zip_discard(za);
}

/* --- dispatch ---------------------------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = s ? strlen(s) : 0, lx = strlen(suffix);

	return ls >= lx && !strcasecmp(s + ls - lx, suffix);
}

const char *extract_type_for(const char *mime, const char *name)
{
	static const struct {
		const char *mime, *type;
	} map[] = {
		{"application/pdf", "pdf"},
		{"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"},
		{"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"},
		{"application/vnd.openxmlformats-officedocument.presentationml.presentation",
		 "pptx"},
		{"application/vnd.oasis.opendocument.text", "odt"},
		{"application/vnd.oasis.opendocument.spreadsheet", "ods"},
		{"application/vnd.oasis.opendocument.presentation", "odp"},
		{"text/html", "html"},
		{"application/xhtml+xml", "html"},
		{"text/markdown", "md"},
		{"text/x-markdown", "md"},
		{"text/csv", "csv"},
		{"application/csv", "csv"},
		{"application/zip", "zip"},
	};

	if (!mime)
		mime = "";
	/* Text is text: which kind is the name's business. libmagic calls a
	 * Markdown file or a note with a <script> or <table> in it HTML, and
	 * treating it so would drop the markup's text from the index and
	 * lose the Markdown title. */
	if (!strncmp(mime, "text/", 5)) {
		if (ends_with(name, ".md") || ends_with(name, ".markdown"))
			return "md";
		if (ends_with(name, ".csv") || ends_with(name, ".tsv"))
			return "csv";
		if (ends_with(name, ".txt") || ends_with(name, ".text"))
			return "txt";
		if (ends_with(name, ".html") || ends_with(name, ".htm"))
			return "html";
	}
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(mime, map[i].mime))
			return map[i].type;
	if (!strncmp(mime, "text/", 5))
		return "txt";
	if (!strcmp(mime, "application/octet-stream") &&
	    (ends_with(name, ".docx") || ends_with(name, ".xlsx") || ends_with(name, ".pptx") ||
	     ends_with(name, ".odt") || ends_with(name, ".ods") || ends_with(name, ".odp")))
		return "zip";
	return "other";
}

static magic_t magic_cookie(void)
{
	static magic_t m;
	static bool tried;

	if (!tried) {
		tried = true;
		m = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR | MAGIC_NO_CHECK_COMPRESS);
		if (m && magic_load(m, NULL) != 0) {
			magic_close(m);
			m = NULL;
		}
	}
	return m;
}

/* The common end of every result: the text buffer's state as status,
 * empty strings for what was not found, and the text's language. */
static enum err finish(struct extract_result *res, struct tbuf *tb,
		       const struct extract_limits *lim)
{
	if (tb->nomem)
		set_reason(res, EXTRACT_FAILED, "out of memory (limit %llu MiB)",
			   (unsigned long long)(lim->max_memory >> 20));
	if (tb->full)
		set_reason(res, EXTRACT_TRUNCATED, "text truncated at %llu MiB",
			   (unsigned long long)(lim->max_text >> 20));
	res->text = tb->p ? tb->p : strdup("");
	res->text_len = tb->p ? tb->len : 0;
	if (!res->text)
		return err_set(ERR_NOMEM, "out of memory");
	if (!res->title)
		res->title = strdup("");
	if (!res->author)
		res->author = strdup("");
	if (!res->title || !res->author)
		return err_set(ERR_NOMEM, "out of memory");
	if (!res->lang[0])
		snprintf(res->lang, sizeof res->lang, "%s", lang_detect(res->text, res->text_len));
	return ERR_OK;
}

enum err extract_file(const char *path, const char *name, const char *mime,
		      const struct extract_limits *lim, struct extract_result *res)
{
	struct tbuf tb = {.max = (size_t)lim->max_text};
	struct stat st;

	memset(res, 0, sizeof *res);
	if (stat(path, &st) != 0) {
		set_reason(res, EXTRACT_FAILED, "cannot open the content: %s", strerror(errno));
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		set_reason(res, EXTRACT_FAILED, "content is not a regular file");
		goto done;
	}
	/* libmagic's verdict costs as much as extracting a small text file
	 * (text detection is its most expensive case; a third of the CPU of
	 * a burst of small uploads went to it, in the server and here); the
	 * server has it already for every stored version. */
	if (!mime || !*mime ||
	    (!strcmp(mime, "application/octet-stream") && st.st_size > EXTRACT_TYPED_WHOLE)) {
		magic_t m = magic_cookie();

		mime = m ? magic_file(m, path) : NULL;
	}
	snprintf(res->mime, sizeof res->mime, "%s", mime ? mime : "application/octet-stream");
	snprintf(res->type, sizeof res->type, "%s", extract_type_for(res->mime, name));
	if (!strcmp(res->type, "pdf")) {
		extract_pdf(path, lim, &tb, res);
		pdf_lang(path, res);
	} else if (!strcmp(res->type, "html"))
		extract_html(path, lim, &tb, res);
	else if (!strcmp(res->type, "txt") || !strcmp(res->type, "csv") || !strcmp(res->type, "md"))
		extract_text(path, lim, !strcmp(res->type, "md"), &tb, res);
	else if (strcmp(res->type, "other")) /* zip family */
		extract_zip(path, lim, &tb, res);
	if (!strcmp(res->type, "zip"))
		snprintf(res->type, sizeof res->type, "other");
done:
	return finish(res, &tb, lim);
}

bool extract_textless(const char *mime, const char *name, uint64_t size)
{
	if (!mime || !*mime ||
	    (!strcmp(mime, "application/octet-stream") && size > EXTRACT_TYPED_WHOLE))
		return false; /* extract_file would ask libmagic */
	return !strcmp(extract_type_for(mime, name), "other");
}

enum err extract_nothing(const char *mime, const struct extract_limits *lim,
			 struct extract_result *res)
{
	struct tbuf tb = {.max = (size_t)lim->max_text};

	memset(res, 0, sizeof *res);
	snprintf(res->mime, sizeof res->mime, "%s", mime);
	snprintf(res->type, sizeof res->type, "other");
	return finish(res, &tb, lim);
}
