/* tusmeta — see tusmeta.h. */
#include "api/tusmeta.h"

#include <string.h>
#include <strings.h>

#include "digest.h"
#include "http/http.h"

/* Decode one base64 value into a request-scoped string; NULL when
 * malformed, holding a NUL, or out of memory (*oom tells which). */
static char *meta_value(struct http_req *req, const char *b64, size_t len, bool *oom)
{
	unsigned char *buf = http_req_alloc(req, len + 1);
	long n;

	*oom = !buf;
	if (!buf)
		return NULL;
	n = digest_unbase64(b64, len, buf, len);
	if (n < 0 || memchr(buf, 0, (size_t)n))
		return NULL;
	buf[n] = '\0';
	return (char *)buf;
}

enum err tusmeta_parse(struct http_req *req, const char *header, struct tusmeta *m)
{
	const char *p = header;

	memset(m, 0, sizeof *m);
	while (*p) {
		const char *end = strchr(p, ','), *sp, *v = NULL;
		size_t len, klen;
		bool oom = false;

		if (!end)
			end = p + strlen(p);
		while (*p == ' ')
			p++;
		len = (size_t)(end - p);
		sp = memchr(p, ' ', len);
		klen = sp ? (size_t)(sp - p) : len;
		if (klen == 0) {
			memset(m, 0, sizeof *m);
			return err_set(ERR_INVALID, "Upload-Metadata has an empty key");
		}
		if (sp) {
			v = meta_value(req, sp + 1, len - klen - 1, &oom);
			if (!v) {
				memset(m, 0, sizeof *m);
				if (oom)
					return err_set(ERR_NOMEM, "out of memory");
				return err_set(
					ERR_INVALID,
					"Upload-Metadata: the value of '%.*s' is not base64 text",
					(int)(klen > 40 ? 40 : klen), p);
			}
		}
		if (klen == 2 && !memcmp(p, "wp", 2))
			m->wp = v;
		else if (klen == 4 && !memcmp(p, "path", 4))
			m->path = v;
		else if (klen == 7 && !memcmp(p, "comment", 7))
			m->comment = v;
		else if (klen == 8 && !memcmp(p, "filename", 8))
			m->filename = v;
		else if (klen == 8 && !memcmp(p, "uploader", 8))
			m->uploader = v;
		p = *end ? end + 1 : end;
	}
	return ERR_OK;
}

bool tusmeta_u64(const char *v, uint64_t *out)
{
	uint64_t n = 0;

	if (!v || !*v || strlen(v) > 19 || strspn(v, "0123456789") != strlen(v))
		return false;
	for (; *v; v++)
		n = n * 10 + (uint64_t)(*v - '0');
	*out = n;
	return true;
}

enum err tusmeta_checksum(const char *header, enum digest_alg *alg,
			  unsigned char want[DIGEST_SHA256_LEN])
{
	const char *sp = strchr(header, ' ');
	size_t alen = sp ? (size_t)(sp - header) : 0, want_len;
	long got;

	if (alen == 4 && !strncasecmp(header, "sha1", 4)) {
		*alg = DIGEST_SHA1;
		want_len = DIGEST_SHA1_LEN;
	} else if (alen == 6 && !strncasecmp(header, "sha256", 6)) {
		*alg = DIGEST_SHA256;
		want_len = DIGEST_SHA256_LEN;
	} else {
		return err_set(ERR_INVALID,
			       "Upload-Checksum must be 'sha1 BASE64' or 'sha256 BASE64'");
	}
	got = digest_unbase64(sp + 1, strlen(sp + 1), want, DIGEST_SHA256_LEN);
	if (got != (long)want_len)
		return err_set(ERR_INVALID,
			       "Upload-Checksum: the digest is not %zu bytes of base64", want_len);
	return ERR_OK;
}
