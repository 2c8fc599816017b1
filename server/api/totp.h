/*
 * totp — time-based one-time passwords (RFC 6238 over RFC 4226 HOTP):
 * HMAC-SHA1, 30-second steps, 6 digits, which is what common
 * authenticator apps implement, plus the otpauth:// URI they scan.
 */
#ifndef CONSORT_TOTP_H
#define CONSORT_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOTP_PERIOD 30
#define TOTP_DIGITS 6
#define TOTP_SECRET_LEN 20 /* 160 bits, RFC 4226's recommendation */

/* The step a Unix time falls in. */
int64_t totp_step(int64_t unix_time);

/* HOTP value of `key` at counter `step`, reduced to `digits` (6..8). */
uint32_t totp_code(const unsigned char *key, size_t key_len, uint64_t step, int digits);

/* Check a 6-digit `code` at `now`, accepting one step of clock drift
 * either way, but only steps after `last_step` (a code is never good
 * twice). On a match *step receives the step it matched. */
bool totp_verify(const unsigned char *key, size_t key_len, const char *code, int64_t now,
		 int64_t last_step, int64_t *step);

/* RFC 4648 base32 without padding; malloc'd, NULL on allocation failure. */
char *totp_base32(const unsigned char *in, size_t len);

/* otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=ISSUER&algorithm=SHA1
 * &digits=6&period=30, label parts percent-encoded; malloc'd or NULL. */
char *totp_uri(const char *issuer, const char *account, const unsigned char *secret, size_t len);

#endif
