/*
 * digest — hashing and randomness for the whole program, over OpenSSL's
 * EVP and RAND APIs (the only other place OpenSSL appears is the TLS
 * module server/tls.c).
 *
 * SHA-256 names blobs and hashes secrets at rest (session cookies, API
 * tokens, links); SHA-1 exists because tus's checksum extension asks for
 * it; HMAC-SHA1 is TOTP's (RFC 6238).
 */
#ifndef CONSORT_DIGEST_H
#define CONSORT_DIGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define DIGEST_SHA256_LEN 32
#define DIGEST_SHA1_LEN 20
#define DIGEST_SHA256_HEX_LEN 64

enum digest_alg { DIGEST_SHA256, DIGEST_SHA1 };

struct digest;

/* Start an incremental hash. Returns NULL on allocation failure. */
struct digest *digest_new(enum digest_alg alg);
void digest_update(struct digest *d, const void *data, size_t len);
/* Write the digest to `out` (32 or 20 bytes) and reset for reuse. */
void digest_final(struct digest *d, unsigned char *out);
/* Write the digest of what was hashed so far to `out`, and go on
 * hashing: the state is copied. False when the copy cannot be made. */
bool digest_peek(const struct digest *d, unsigned char *out);
/* Accepts NULL. */
void digest_free(struct digest *d);

/* One-shot SHA-256 of a buffer. */
void digest_sha256(const void *data, size_t len, unsigned char out[DIGEST_SHA256_LEN]);

/* HMAC-SHA1 (for TOTP). */
void digest_hmac_sha1(const void *key, size_t key_len, const void *msg, size_t msg_len,
		      unsigned char out[DIGEST_SHA1_LEN]);

/* Cryptographically secure random bytes. */
enum err digest_random(void *buf, size_t len);

/* Lower-case hex of `len` bytes into `out` (2*len+1 bytes, NUL-terminated). */
void digest_hex(const unsigned char *in, size_t len, char *out);

/* Parse exactly 2*len hex digits into `out`. */
bool digest_unhex(const char *hex, unsigned char *out, size_t len);
/* The value of one hex digit (either case), or -1 when `c` is not one.
 * The one hex decoder of the tree: percent-escapes, chunk sizes and
 * digests all use it. */
int digest_hexval(int c);

/* Constant-time comparison of two equal-length buffers. */
bool digest_equal(const void *a, const void *b, size_t len);

/* Standard base64 (RFC 4648 4) of `len` bytes; returns a malloc'd string
 * or NULL. */
char *digest_base64(const unsigned char *in, size_t len);
/* Decode base64 (standard alphabet, padding optional). Returns the
 * decoded length, or -1 on malformed input or when it exceeds `cap`. */
long digest_unbase64(const char *in, size_t in_len, unsigned char *out, size_t cap);
/* Unpadded base64url (RFC 4648 5) of `len` bytes into `out`, which holds
 * DIGEST_BASE64URL_LEN(len) + 1 bytes; NUL-terminated. For secrets and
 * tokens that travel in URLs, cookies and file names. */
#define DIGEST_BASE64URL_LEN(len) (((len)*4 + 2) / 3)
void digest_base64url(const unsigned char *in, size_t len, char *out);

#endif
