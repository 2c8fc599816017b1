/* totp — see totp.h. */
#include "api/totp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"

int64_t totp_step(int64_t unix_time)
{
	/* Floor division, so times before 1970 still map monotonically. */
	return unix_time >= 0 ? unix_time / TOTP_PERIOD
			      : -((-unix_time + TOTP_PERIOD - 1) / TOTP_PERIOD);
}

uint32_t totp_code(const unsigned char *key, size_t key_len, uint64_t step, int digits)
{
	static const uint32_t mod[] = {1,      10,      100,      1000,     10000,
				       100000, 1000000, 10000000, 100000000};
	unsigned char msg[8], mac[DIGEST_SHA1_LEN];
	uint32_t bin;
	int off;

	for (int i = 7; i >= 0; i--, step >>= 8)
		msg[i] = (unsigned char)(step & 0xff);
	digest_hmac_sha1(key, key_len, msg, sizeof msg, mac);
	/* RFC 4226 5.3 dynamic truncation. */
	off = mac[DIGEST_SHA1_LEN - 1] & 0x0f;
	bin = (uint32_t)(mac[off] & 0x7f) << 24 | (uint32_t)mac[off + 1] << 16 |
	      (uint32_t)mac[off + 2] << 8 | mac[off + 3];
	if (digits < 1 || digits > 8)
		digits = TOTP_DIGITS;
	return bin % mod[digits];
}

bool totp_verify(const unsigned char *key, size_t key_len, const char *code, int64_t now,
		 int64_t last_step, int64_t *step)
{
	int64_t cur = totp_step(now);
	char want[TOTP_DIGITS + 1];
	bool found = false;

	if (strlen(code) != TOTP_DIGITS || strspn(code, "0123456789") != TOTP_DIGITS)
		return false;
	/* Every candidate is computed and compared, so the time taken does
	 * not tell which step (if any) matched. */
	for (int64_t s = cur - 1; s <= cur + 1; s++) {
		snprintf(want, sizeof want, "%06u",
			 totp_code(key, key_len, (uint64_t)s, TOTP_DIGITS));
		if (digest_equal(want, code, TOTP_DIGITS) && s > last_step && !found) {
			found = true;
			*step = s;
		}
	}
	return found;
}

char *totp_base32(const unsigned char *in, size_t len)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	char *out = malloc((len * 8 + 4) / 5 + 1);
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		acc = acc << 8 | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = alphabet[(acc >> bits) & 31];
		}
	}
	if (bits > 0)
		out[o++] = alphabet[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	return out;
}

/* Percent-encode everything but unreserved characters (RFC 3986). */
static size_t pct(char *out, size_t cap, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
			if (out && o < cap)
				out[o] = (char)*p;
			o++;
		} else {
			if (out && o + 2 < cap) {
				out[o] = '%';
				out[o + 1] = hex[*p >> 4];
				out[o + 2] = hex[*p & 15];
			}
			o += 3;
		}
	}
	return o;
}

char *totp_uri(const char *issuer, const char *account, const unsigned char *secret, size_t len)
{
	char *b32 = totp_base32(secret, len), *out = NULL, *iss = NULL, *acc = NULL;
	size_t ilen = pct(NULL, 0, issuer), alen = pct(NULL, 0, account);

	if (!b32)
		return NULL;
	iss = malloc(ilen + 1);
	acc = malloc(alen + 1);
	if (iss && acc) {
		pct(iss, ilen + 1, issuer);
		iss[ilen] = '\0';
		pct(acc, alen + 1, account);
		acc[alen] = '\0';
		if (asprintf(&out,
			     "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1"
			     "&digits=%d&period=%d",
			     iss, acc, b32, iss, TOTP_DIGITS, TOTP_PERIOD) < 0)
			out = NULL;
	}
	free(iss);
	free(acc);
	free(b32);
	return out;
}
