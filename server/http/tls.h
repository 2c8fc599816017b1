/*
 * tls — everything consort does with OpenSSL's TLS: the server context,
 * the self-signed certificate made on first start, certificate reload,
 * and wrapping accepted sockets in TLS bufferevents.
 *
 * Policy (docs/tls.md): TLS 1.2 and 1.3 only; for 1.2 the Mozilla
 * "intermediate" suites restricted to ECDHE key exchange with AEAD
 * ciphers; groups X25519, P-256, P-384; no compression; no
 * renegotiation; session resumption by tickets and a server-side cache.
 *
 * Reload swaps the context under a lock; connections already open keep
 * the context they started with (OpenSSL reference-counts it), new ones
 * get the new certificate.
 */
#ifndef CONSORT_TLS_H
#define CONSORT_TLS_H

#include <stdint.h>

#include "err.h"

struct bufferevent;
struct event_base;
struct tls;

/* Create the TLS state. With cert_path and key_path NULL, uses
 * `tls_dir`/cert.pem and key.pem, generating a self-signed ECDSA P-256
 * certificate for localhost, 127.0.0.1 and ::1 there if absent. On
 * success *out owns the state; free with tls_free(). */
enum err tls_new(const char *cert_path, const char *key_path, const char *tls_dir,
		 struct tls **out);

/* Re-read certificate and key from the same files. On failure the old
 * context stays in use and the error says why. Thread-safe. */
enum err tls_reload(struct tls *t);

/* Wrap an accepted socket in a server-side TLS bufferevent on `base`.
 * The bufferevent owns the socket (closed on free). Returns NULL and
 * closes the socket on failure. Thread-safe. */
struct bufferevent *tls_accept_bev(struct tls *t, struct event_base *base, int fd);

/* Send a TLS close_notify on a bufferevent from tls_accept_bev, without
 * waiting for the peer's. */
void tls_close_notify(struct bufferevent *bev);

/* Handshakes completed since start (for metrics). */
uint64_t tls_handshakes(const struct tls *t);

/* Path of the certificate in use, for logs. */
const char *tls_cert_path(const struct tls *t);

/* Accepts NULL. */
void tls_free(struct tls *t);

/* The host name a PEM certificate file is for: its first DNS
 * subjectAltName that is not a wildcard, else its subject's CN. Into
 * out[n]; ERR_NOTFOUND when it names none, ERR_IO / ERR_INVALID when the
 * file cannot be read or parsed. For the default of public-url. */
enum err tls_cert_name(const char *cert_path, char *out, size_t n);

#endif
