/* name — see name.h. */
#include "name.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include "digest.h"

/* A raw name longer than this cannot become 255 bytes by NFC (which
 * composes at most a few code points into one), so it is refused before
 * any conversion work. */
#define RAW_CAP (4 * NAME_MAX_BYTES)

/* Decode one UTF-8 sequence at s[0..len) strictly (no overlongs, no
 * surrogates, nothing above U+10FFFF). Returns its length, 0 when
 * invalid. */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

static bool is_control(uint32_t c) { return c < 0x20 || (c >= 0x7f && c <= 0x9f); }

/* Bidirectional embedding/override (U+202A..U+202E) and isolate
 * (U+2066..U+2069) controls, the marks LRM, RLM (U+200E, U+200F) and
 * ALM (U+061C) reorder how a name is displayed. */
static bool is_bidi_control(uint32_t c)
{
	return (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0x200e ||
	       c == 0x200f || c == 0x061c;
}

/* Characters that show nothing (or only a line break) and so make two
 * names look alike: zero-width space, joiners (U+200B..U+200D), soft
 * hyphen, combining grapheme joiner, word joiner and the invisible
 * operators and deprecated format characters (U+2060..U+206F), line and
 * paragraph separators, BOM (U+FEFF), Mongolian free variation
 * selectors and vowel separator, Hangul fillers, Khmer inherent vowels,
 * interlinear annotation marks, shorthand format controls, musical
 * symbol format controls, tag characters, and noncharacters. Emoji
 * variation selectors (U+FE00..U+FE0F) stay allowed; they only refine a
 * visible character, and the look-alike key drops them. */
static bool is_invisible(uint32_t c)
{
	return c == 0x00ad || c == 0x034f || c == 0x115f || c == 0x1160 || c == 0x17b4 ||
	       c == 0x17b5 || (c >= 0x180b && c <= 0x180f) || (c >= 0x200b && c <= 0x200d) ||
	       c == 0x2028 || c == 0x2029 || (c >= 0x2060 && c <= 0x2065) ||
	       (c >= 0x206a && c <= 0x206f) || c == 0x3164 || c == 0xfeff || c == 0xffa0 ||
	       (c >= 0xfff9 && c <= 0xfffb) || (c >= 0x1bca0 && c <= 0x1bca3) ||
	       (c >= 0x1d173 && c <= 0x1d17a) || (c >= 0xe0000 && c <= 0xe007f) ||
	       (c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe;
}

/* Characters drawn like '/' that no normalisation maps to it: a name
 * "Reports\u2044D5.pdf" would read as a path. (U+FF0F, the fullwidth
 * solidus, is '/' under NFKC and is refused by the look-alike check.) */
static bool is_slash_alike(uint32_t c)
{
	return c == 0x2044 || c == 0x2215 || c == 0x2571 || c == 0x27cb || c == 0x29f8 ||
	       c == 0x1735;
}

/* A printable rendering of an untrusted name for error details: valid
 * characters are copied, controls and bidi characters become \u{XXXX},
 * invalid bytes \xNN; cut after 60 bytes. */
static const char *shown(const char *name, size_t len, char *buf, size_t cap)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t o = 0, i = 0;

	while (i < len && o + 12 < cap && o < 60) {
		uint32_t c;
		size_t n = utf8_decode(s + i, len - i, &c);

		if (n == 0) {
			o += (size_t)snprintf(buf + o, cap - o, "\\x%02X", s[i]);
			i++;
		} else if (is_control(c) || is_bidi_control(c) || is_invisible(c)) {
			o += (size_t)snprintf(buf + o, cap - o, "\\u{%04X}", (unsigned)c);
			i += n;
		} else {
			memcpy(buf + o, s + i, n);
			o += n;
			i += n;
		}
	}
	if (i < len && o + 4 < cap) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/* Convert UTF-16 to a malloc'd UTF-8 string. */
static enum err to_utf8(const UChar *u, int32_t ulen, char **out)
{
	UErrorCode st = U_ZERO_ERROR;
	int32_t need = 0;
	char *s;

	*out = NULL;
	u_strToUTF8(NULL, 0, &need, u, ulen, &st);
	if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st))
		return err_set(ERR_INTERNAL, "name conversion failed: %s", u_errorName(st));
	s = malloc((size_t)need + 1);
	if (!s)
		return err_set(ERR_NOMEM, "out of memory");
	st = U_ZERO_ERROR;
	u_strToUTF8(s, need + 1, NULL, u, ulen, &st);
	if (U_FAILURE(st)) {
		free(s);
		return err_set(ERR_INTERNAL, "name conversion failed: %s", u_errorName(st));
	}
	*out = s;
	return ERR_OK;
}

/* NFC-normalise u[0..len) into a malloc'd buffer. */
static enum err nfc16(const UChar *u, int32_t len, UChar **out, int32_t *out_len)
{
	UErrorCode st = U_ZERO_ERROR;
	const UNormalizer2 *nfc = unorm2_getNFCInstance(&st);
	/* NFC grows UTF-16 text by at most a factor of 3. */
	int32_t cap = 3 * len + 1;
	UChar *buf;

	*out = NULL;
	if (U_FAILURE(st))
		return err_set(ERR_INTERNAL, "Unicode normaliser unavailable: %s", u_errorName(st));
	buf = malloc((size_t)cap * sizeof *buf);
	if (!buf)
		return err_set(ERR_NOMEM, "out of memory");
	*out_len = unorm2_normalize(nfc, u, len, buf, cap, &st);
	if (U_FAILURE(st)) {
		free(buf);
		return err_set(ERR_INTERNAL, "Unicode normalisation failed: %s", u_errorName(st));
	}
	*out = buf;
	return ERR_OK;
}

/* The key: NFC(casefold(nfc)). Case folding can undo composition (e.g.
 * U+0130), hence the second normalisation. */
static enum err key_of(const UChar *nfc, int32_t len, char **key)
{
	UErrorCode st = U_ZERO_ERROR;
	/* Full case folding expands by at most a factor of 3 (U+0390). */
	int32_t cap = 3 * len + 1, flen;
	UChar *folded = malloc((size_t)cap * sizeof *folded), *norm = NULL;
	int32_t nlen = 0;
	enum err rc;

	*key = NULL;
	if (!folded)
		return err_set(ERR_NOMEM, "out of memory");
	flen = u_strFoldCase(folded, cap, nfc, len, U_FOLD_CASE_DEFAULT, &st);
	if (U_FAILURE(st)) {
		rc = err_set(ERR_INTERNAL, "case folding failed: %s", u_errorName(st));
		goto out;
	}
	rc = nfc16(folded, flen, &norm, &nlen);
	if (!rc)
		rc = to_utf8(norm, nlen, key);
out:
	free(folded);
	free(norm);
	return rc;
}

/* Windows reserves device names as the part before the first dot,
 * spaces before the dot ignored, in any case: "CON", "nul.txt",
 * "Com1 .tar.gz". Superscript digits count as digits there. */
static enum err windows_reserved(const char *nfc, char *show, size_t cap)
{
	static const char *const devices[] = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"};
	size_t stem = strcspn(nfc, ".");
	char dev[8];

	while (stem > 0 && nfc[stem - 1] == ' ')
		stem--;
	if (stem > 7)
		return ERR_OK;
	memcpy(dev, nfc, stem);
	dev[stem] = '\0';
	for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++)
		if (!strcasecmp(dev, devices[i]))
			goto reserved;
	if (stem >= 4 && (!strncasecmp(dev, "COM", 3) || !strncasecmp(dev, "LPT", 3))) {
		const char *d = dev + 3;

		if ((stem == 4 && d[0] >= '1' && d[0] <= '9') ||
		    (stem == 5 &&
		     (!strcmp(d, "\xc2\xb9") || !strcmp(d, "\xc2\xb2") || !strcmp(d, "\xc2\xb3"))))
			goto reserved;
	}
	return ERR_OK;
reserved:
	return err_set(ERR_INVALID,
		       "name '%s' is reserved on Windows (the device name %s), so the WebDAV "
		       "drive could not open it",
		       shown(nfc, strlen(nfc), show, cap), dev);
}

/* NFKC_Casefold of u[0..len) as a malloc'd UTF-8 string. */
static enum err look16(const UChar *u, int32_t len, char **out)
{
	UErrorCode st = U_ZERO_ERROR;
	const UNormalizer2 *n = unorm2_getNFKCCasefoldInstance(&st);
	/* NFKC_Casefold grows text by at most a factor of 18 (U+FDFA);
	 * ask ICU for the size rather than trust a bound. */
	int32_t need;
	UChar *buf;
	enum err rc;

	*out = NULL;
	if (U_FAILURE(st))
		return err_set(ERR_INTERNAL, "Unicode normaliser unavailable: %s", u_errorName(st));
	need = unorm2_normalize(n, u, len, NULL, 0, &st);
	if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st))
		return err_set(ERR_INTERNAL, "Unicode normalisation failed: %s", u_errorName(st));
	buf = malloc(((size_t)need + 1) * sizeof *buf);
	if (!buf)
		return err_set(ERR_NOMEM, "out of memory");
	st = U_ZERO_ERROR;
	need = unorm2_normalize(n, u, len, buf, need + 1, &st);
	if (U_FAILURE(st)) {
		free(buf);
		return err_set(ERR_INTERNAL, "Unicode normalisation failed: %s", u_errorName(st));
	}
	rc = to_utf8(buf, need, out);
	free(buf);
	return rc;
}

/* What the name reads as (NFKC with case folding, which also drops
 * default-ignorable characters) must still be a name: not empty, not
 * "." or "..", without '/' ("．．" and "a／b" look like a path). */
static enum err look_check(const UChar *u, int32_t len, const char *nfc)
{
	char show[96], *look = NULL;
	enum err rc = look16(u, len, &look);

	if (rc)
		return rc;
	if (!*look)
		rc = err_set(ERR_INVALID, "name '%s' shows no visible character",
			     shown(nfc, strlen(nfc), show, sizeof show));
	else if (!strcmp(look, ".") || !strcmp(look, ".."))
		rc = err_set(ERR_INVALID, "name '%s' looks like '%s', which is not a name",
			     shown(nfc, strlen(nfc), show, sizeof show), look);
	else if (strchr(look, '/'))
		rc = err_set(ERR_INVALID,
			     "name '%s' contains a character that looks like '/' "
			     "(a name must not look like a path)",
			     shown(nfc, strlen(nfc), show, sizeof show));
	free(look);
	return rc;
}

enum err name_look_key(const char *nfc, char **out)
{
	UErrorCode st = U_ZERO_ERROR;
	int32_t ulen = 0;
	UChar *u;
	enum err rc;

	*out = NULL;
	u_strFromUTF8(NULL, 0, &ulen, nfc, -1, &st);
	if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st))
		return err_set(ERR_INVALID, "name is not valid UTF-8");
	u = malloc(((size_t)ulen + 1) * sizeof *u);
	if (!u)
		return err_set(ERR_NOMEM, "out of memory");
	st = U_ZERO_ERROR;
	u_strFromUTF8(u, ulen + 1, NULL, nfc, -1, &st);
	rc = U_FAILURE(st) ? err_set(ERR_INVALID, "name is not valid UTF-8") : look16(u, ulen, out);
	free(u);
	return rc;
}

enum err name_check(const char *name, size_t len, char **nfc_out, char **key_out)
{
	const unsigned char *s = (const unsigned char *)name;
	char show[96];
	UChar *u = NULL, *norm = NULL;
	int32_t ulen = 0, nlen = 0;
	char *nfc = NULL, *key = NULL;
	UErrorCode st = U_ZERO_ERROR;
	size_t nfc_len;
	enum err rc = ERR_OK;

	if (nfc_out)
		*nfc_out = NULL;
	if (key_out)
		*key_out = NULL;
	if (len == 0)
		return err_set(ERR_INVALID, "a name must not be empty");
	if (len > RAW_CAP)
		return err_set(ERR_INVALID, "name '%s' is longer than %d bytes",
			       shown(name, len, show, sizeof show), NAME_MAX_BYTES);
	for (size_t i = 0; i < len;) {
		uint32_t c;
		size_t n = utf8_decode(s + i, len - i, &c);

		if (n == 0)
			return err_set(ERR_INVALID, "name '%s' is not valid UTF-8 (byte %zu)",
				       shown(name, len, show, sizeof show), i);
		if (c == 0)
			return err_set(ERR_INVALID, "name '%s' contains a NUL byte",
				       shown(name, len, show, sizeof show));
		if (c == '/')
			return err_set(ERR_INVALID, "name '%s' contains '/'",
				       shown(name, len, show, sizeof show));
		if (is_control(c))
			return err_set(ERR_INVALID,
				       "name '%s' contains a control character (U+%04X)",
				       shown(name, len, show, sizeof show), (unsigned)c);
		if (is_bidi_control(c))
			return err_set(ERR_INVALID,
				       "name '%s' contains a bidirectional control character "
				       "(U+%04X)",
				       shown(name, len, show, sizeof show), (unsigned)c);
		if (is_invisible(c))
			return err_set(ERR_INVALID,
				       "name '%s' contains an invisible character (U+%04X)",
				       shown(name, len, show, sizeof show), (unsigned)c);
		if (is_slash_alike(c))
			return err_set(ERR_INVALID,
				       "name '%s' contains U+%04X, which looks like '/' "
				       "(a name must not look like a path)",
				       shown(name, len, show, sizeof show), (unsigned)c);
		i += n;
	}

	/* Valid UTF-8 of at most RAW_CAP bytes: at most RAW_CAP UTF-16 units. */
	u = malloc((RAW_CAP + 1) * sizeof *u);
	if (!u) {
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	u_strFromUTF8(u, RAW_CAP + 1, &ulen, name, (int32_t)len, &st);
	if (U_FAILURE(st)) {
		rc = err_set(ERR_INVALID, "name '%s' is not valid UTF-8",
			     shown(name, len, show, sizeof show));
		goto out;
	}
	rc = nfc16(u, ulen, &norm, &nlen);
	if (!rc)
		rc = to_utf8(norm, nlen, &nfc);
	if (rc)
		goto out;
	nfc_len = strlen(nfc);
	if (nfc_len > NAME_MAX_BYTES) {
		rc = err_set(ERR_INVALID, "name '%s' is longer than %d bytes (%zu)",
			     shown(name, len, show, sizeof show), NAME_MAX_BYTES, nfc_len);
		goto out;
	}
	if (!strcmp(nfc, ".") || !strcmp(nfc, "..")) {
		rc = err_set(ERR_INVALID, "name '%s' is reserved ('.' and '..' are not names)",
			     nfc);
		goto out;
	}
	if (nfc[nfc_len - 1] == '.' || nfc[nfc_len - 1] == ' ') {
		rc = err_set(ERR_INVALID,
			     "name '%s' ends with a %s (Windows drops it, so the WebDAV drive "
			     "could not open the file)",
			     shown(name, len, show, sizeof show),
			     nfc[nfc_len - 1] == '.' ? "dot" : "space");
		goto out;
	}
	rc = windows_reserved(nfc, show, sizeof show);
	if (!rc)
		rc = look_check(norm, nlen, nfc);
	if (rc)
		goto out;
	if (key_out) {
		rc = key_of(norm, nlen, &key);
		if (rc)
			goto out;
	}
out:
	free(u);
	free(norm);
	if (rc) {
		free(nfc);
		free(key);
		return rc;
	}
	if (nfc_out)
		*nfc_out = nfc;
	else
		free(nfc);
	if (key_out)
		*key_out = key;
	return ERR_OK;
}

bool name_utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		uint32_t c;
		size_t n = utf8_decode(u + i, len - i, &c);

		if (n == 0 || c == 0)
			return false;
		i += n;
	}
	return true;
}

void name_path_free(struct name_path *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->names[i]);
		free(p->keys[i]);
	}
	free(p->names);
	free(p->keys);
	p->n = 0;
	p->names = NULL;
	p->keys = NULL;
}

/* Percent-decode seg[0..len) into buf (at least len bytes); returns the
 * decoded length or -1 with the error set. */
static long pct_decode(const char *seg, size_t len, char *buf)
{
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (seg[i] != '%') {
			buf[o++] = seg[i];
			continue;
		}
		if (i + 2 >= len || (hi = digest_hexval(seg[i + 1])) < 0 ||
		    (lo = digest_hexval(seg[i + 2])) < 0) {
			err_set(ERR_INVALID, "malformed percent-escape in a path name "
					     "('%%' must be followed by two hex digits)");
			return -1;
		}
		buf[o] = (char)(hi << 4 | lo);
		if (buf[o] == '/') {
			err_set(ERR_INVALID, "an encoded '/' (%%2F) is not allowed inside a name");
			return -1;
		}
		o++;
		i += 2;
	}
	return (long)o;
}

static enum err path_parse(const char *raw, size_t len, bool decode, struct name_path *out)
{
	char *buf = NULL;
	size_t cap = 0, start, end;
	enum err rc = ERR_OK;

	memset(out, 0, sizeof *out);
	if (len > NAME_MAX_PATH_BYTES)
		return err_set(ERR_INVALID, "path is longer than %d bytes", NAME_MAX_PATH_BYTES);
	start = 0;
	end = len;
	/* In a URL the path follows the route's own '/': one more is an
	 * empty name ("content//a.txt"), as "a//b" is. Text paths may
	 * start with one '/' ("/Reports/a.pdf"). */
	if (decode && len > 0 && raw[0] == '/')
		return err_set(ERR_INVALID, "path contains an empty name ('//')");
	if (start < end && raw[start] == '/')
		start++;
	if (end > start && raw[end - 1] == '/')
		end--;
	if (start == end)
		return ERR_OK;
	for (size_t i = start; i < end; i++)
		if (raw[i] == '/')
			cap++;
	cap++;
	if (cap > NAME_MAX_DEPTH)
		return err_set(ERR_INVALID, "path is deeper than %d levels", NAME_MAX_DEPTH);
	out->names = calloc(cap, sizeof *out->names);
	out->keys = calloc(cap, sizeof *out->keys);
	buf = malloc(end - start + 1);
	if (!out->names || !out->keys || !buf) {
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = start; i <= end;) {
		const char *seg = raw + i;
		const char *slash = memchr(seg, '/', end - i);
		size_t seglen = slash ? (size_t)(slash - seg) : end - i;
		long n;

		if (seglen == 0) {
			rc = err_set(ERR_INVALID, "path contains an empty name ('//')");
			goto out;
		}
		if (decode) {
			n = pct_decode(seg, seglen, buf);
			if (n < 0) {
				rc = ERR_INVALID;
				goto out;
			}
		} else {
			memcpy(buf, seg, seglen);
			n = (long)seglen;
		}
		rc = name_check(buf, (size_t)n, &out->names[out->n], &out->keys[out->n]);
		if (rc)
			goto out;
		out->n++;
		i += seglen + 1;
	}
out:
	free(buf);
	if (rc) {
		/* names[] past n are NULL: calloc */
		for (size_t i = 0; i < cap && out->names; i++)
			free(out->names[i]);
		for (size_t i = 0; i < cap && out->keys; i++)
			free(out->keys[i]);
		free(out->names);
		free(out->keys);
		memset(out, 0, sizeof *out);
	}
	return rc;
}

enum err name_path_from_url(const char *raw, size_t len, struct name_path *out)
{
	return path_parse(raw, len, true, out);
}

enum err name_path_from_text(const char *text, struct name_path *out)
{
	return path_parse(text, strlen(text), false, out);
}

char *name_path_join(const struct name_path *p)
{
	size_t len = 1;
	char *s, *o;

	for (size_t i = 0; i < p->n; i++)
		len += strlen(p->names[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	o = s;
	for (size_t i = 0; i < p->n; i++) {
		size_t n = strlen(p->names[i]);

		if (i)
			*o++ = '/';
		memcpy(o, p->names[i], n);
		o += n;
	}
	*o = '\0';
	return s;
}
