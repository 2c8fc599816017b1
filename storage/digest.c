/* digest — see digest.h. */
#include "digest.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct digest {
	EVP_MD_CTX *ctx;
	const EVP_MD *md;
};

/* OpenSSL 3 looks an algorithm up by name on every use of EVP_sha256()
 * (an "implicit fetch", with locks); fetching once and reusing the
 * object avoids that on every request that hashes a cookie or token. */
static EVP_MD *md_sha256, *md_sha1;
static pthread_once_t fetch_once = PTHREAD_ONCE_INIT;

static void fetch_mds(void)
{
	md_sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	md_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
}

static const EVP_MD *md_of(enum digest_alg alg)
{
	pthread_once(&fetch_once, fetch_mds);
	if (alg == DIGEST_SHA1)
		return md_sha1 ? md_sha1 : EVP_sha1();
	return md_sha256 ? md_sha256 : EVP_sha256();
}

struct digest *digest_new(enum digest_alg alg)
{
	struct digest *d = calloc(1, sizeof *d);

	if (!d)
		return NULL;
	d->md = md_of(alg);
	d->ctx = EVP_MD_CTX_new();
	if (!d->ctx || EVP_DigestInit_ex(d->ctx, d->md, NULL) != 1) {
		digest_free(d);
		return NULL;
	}
	return d;
}

void digest_update(struct digest *d, const void *data, size_t len)
{
	EVP_DigestUpdate(d->ctx, data, len);
}

void digest_final(struct digest *d, unsigned char *out)
{
	unsigned int n;

	EVP_DigestFinal_ex(d->ctx, out, &n);
	EVP_DigestInit_ex(d->ctx, d->md, NULL);
}

bool digest_peek(const struct digest *d, unsigned char *out)
{
	EVP_MD_CTX *copy = EVP_MD_CTX_new();
	unsigned int n;
	bool ok = copy && EVP_MD_CTX_copy_ex(copy, d->ctx) == 1 &&
		  EVP_DigestFinal_ex(copy, out, &n) == 1;

	EVP_MD_CTX_free(copy);
	return ok;
}

void digest_free(struct digest *d)
{
	if (!d)
		return;
	EVP_MD_CTX_free(d->ctx);
	free(d);
}

void digest_sha256(const void *data, size_t len, unsigned char out[DIGEST_SHA256_LEN])
{
	unsigned int n;

	EVP_Digest(data, len, out, &n, md_of(DIGEST_SHA256), NULL);
}

void digest_hmac_sha1(const void *key, size_t key_len, const void *msg, size_t msg_len,
		      unsigned char out[DIGEST_SHA1_LEN])
{
	unsigned int n = DIGEST_SHA1_LEN;

	HMAC(md_of(DIGEST_SHA1), key, (int)key_len, msg, msg_len, out, &n);
}

enum err digest_random(void *buf, size_t len)
{
	if (RAND_bytes(buf, (int)len) != 1)
		return err_set(ERR_INTERNAL, "random number generator failed");
	return ERR_OK;
}

void digest_hex(const unsigned char *in, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * len] = '\0';
}

int digest_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool digest_unhex(const char *hex, unsigned char *out, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		int hi = digest_hexval(hex[2 * i]), lo;

		if (hi < 0)
			return false;
		lo = digest_hexval(hex[2 * i + 1]);
		if (lo < 0)
			return false;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return hex[2 * len] == '\0';
}

bool digest_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

char *digest_base64(const unsigned char *in, size_t len)
{
	size_t cap = 4 * ((len + 2) / 3) + 1;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

void digest_base64url(const unsigned char *in, size_t len, char *out)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint32_t acc = 0;
	int bits = 0;
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		acc = acc << 8 | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = alphabet[(acc >> bits) & 63];
		}
	}
	if (bits > 0)
		out[o++] = alphabet[(acc << (6 - bits)) & 63];
	out[o] = '\0';
}

long digest_unbase64(const char *in, size_t in_len, unsigned char *out, size_t cap)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0, i = 0;

	/* Strict decoder: the alphabet, then at most two '=' at the end. */
	for (; i < in_len && in[i] != '='; i++) {
		const char *p = in[i] ? strchr(alphabet, in[i]) : NULL;

		if (!p)
			return -1;
		acc = (acc << 6) | (uint32_t)(p - alphabet);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n == cap)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
		}
	}
	for (size_t pad = 0; i < in_len; i++, pad++)
		if (in[i] != '=' || pad >= 2)
			return -1;
	if (bits >= 6)
		return -1; /* a lone trailing character carries no full byte */
	return (long)n;
}
