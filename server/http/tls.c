/* tls — see tls.h. The only file in consort that speaks OpenSSL's SSL API. */
#include "http/tls.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Mozilla "intermediate" TLS 1.2 suites, keeping only ECDHE key exchange
 * with AEAD ciphers. TLS 1.3 suites are all AEAD; OpenSSL's defaults. */
#define TLS12_CIPHERS                                                                              \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                               \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                               \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
#define TLS_GROUPS "X25519:prime256v1:secp384r1"

/* The self-signed certificate lasts this long (what browsers accept for
 * any certificate) and is renewed on start
 * when less than RENEW_DAYS remain. */
#define SELF_SIGNED_DAYS 397
#define RENEW_DAYS 30

struct tls {
	pthread_mutex_t lock;
	SSL_CTX *ctx; /* current context; guarded by lock */
	char *cert_path;
	char *key_path;
	_Atomic uint64_t handshakes;
};

static enum err ssl_error(const char *what)
{
	char buf[256];
	unsigned long e = ERR_get_error();

	if (e)
		ERR_error_string_n(e, buf, sizeof buf);
	else
		snprintf(buf, sizeof buf, "unknown error");
	ERR_clear_error();
	return err_set(ERR_INVALID, "%s: %s", what, buf);
}

static void info_cb(const SSL *ssl, int where, int ret)
{
	(void)ret;
	if (where & SSL_CB_HANDSHAKE_DONE) {
		struct tls *t = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));

		if (t)
			atomic_fetch_add(&t->handshakes, 1);
	}
}

static enum err build_ctx(struct tls *t, SSL_CTX **out)
{
	static const unsigned char sid_ctx[] = "consort";
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	enum err rc = ERR_OK;

	*out = NULL;
	if (!ctx)
		return ssl_error("create TLS context");
	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) ||
	    !SSL_CTX_set1_groups_list(ctx, TLS_GROUPS)) {
		rc = ssl_error("configure TLS");
		goto out;
	}
	/* IGNORE_UNEXPECTED_EOF: a peer that closes without close_notify is
	 * a close, not an error (libevent 2.1 would otherwise report an
	 * error for every such client under OpenSSL 3). */
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof sid_ctx - 1);
	SSL_CTX_sess_set_cache_size(ctx, 20000);
	SSL_CTX_set_timeout(ctx, 3600);
	SSL_CTX_set_info_callback(ctx, info_cb);
	SSL_CTX_set_app_data(ctx, t);
	if (SSL_CTX_use_certificate_chain_file(ctx, t->cert_path) != 1) {
		rc = ssl_error("load certificate");
		err_set(rc, "load certificate %s: %s", t->cert_path, err_detail());
		goto out;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, t->key_path, SSL_FILETYPE_PEM) != 1) {
		rc = ssl_error("load private key");
		err_set(rc, "load private key %s: %s", t->key_path, err_detail());
		goto out;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		rc = ssl_error("certificate and key do not match");
		goto out;
	}
out:
	if (rc)
		SSL_CTX_free(ctx);
	else
		*out = ctx;
	return rc;
}

/* Write `len` bytes to `path` atomically: temp file, fsync, rename. */
static enum err write_file_atomic(const char *path, const char *data, size_t len, mode_t mode)
{
	char tmp[4096];
	int fd;
	enum err rc = ERR_OK;

	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return err_from_errno(errno, tmp);
	while (len > 0) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = err_from_errno(errno, tmp);
			break;
		}
		data += n;
		len -= (size_t)n;
	}
	if (!rc && fsync(fd) != 0)
		rc = err_from_errno(errno, tmp);
	close(fd);
	if (!rc && rename(tmp, path) != 0)
		rc = err_from_errno(errno, path);
	if (rc)
		unlink(tmp);
	return rc;
}

static enum err pem_of(BIO *bio, char **data, size_t *len)
{
	BUF_MEM *mem;

	BIO_get_mem_ptr(bio, &mem);
	*data = mem->data;
	*len = mem->length;
	return ERR_OK;
}

static bool add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	bool ok;

	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (!ext)
		return false;
	ok = X509_add_ext(x, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok;
}

/* Make a self-signed ECDSA P-256 certificate for the loopback names. */
static enum err make_self_signed(const char *cert_path, const char *key_path)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	BIGNUM *serial = BN_new();
	BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
	char *data;
	size_t len;
	enum err rc = ERR_OK;

	if (!key || !x || !serial || !kb || !cb) {
		rc = ssl_error("generate key");
		goto out;
	}
	if (!BN_rand(serial, 120, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) ||
	    !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) || !X509_set_version(x, 2) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), (long)60 * 60 * 24 * SELF_SIGNED_DAYS) ||
	    !X509_set_pubkey(x, key)) {
		rc = ssl_error("build certificate");
		goto out;
	}
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"consort",
					-1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)"localhost", -1, -1, 0) ||
	    !X509_set_issuer_name(x, name) ||
	    !add_ext(x, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") ||
	    !add_ext(x, NID_basic_constraints, "critical,CA:FALSE") ||
	    !add_ext(x, NID_key_usage, "critical,digitalSignature") ||
	    !add_ext(x, NID_ext_key_usage, "serverAuth") ||
	    !add_ext(x, NID_subject_key_identifier, "hash") || !X509_sign(x, key, EVP_sha256())) {
		rc = ssl_error("sign certificate");
		goto out;
	}
	if (!PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_X509(cb, x)) {
		rc = ssl_error("encode certificate");
		goto out;
	}
	pem_of(kb, &data, &len);
	rc = write_file_atomic(key_path, data, len, 0600);
	if (rc)
		goto out;
	pem_of(cb, &data, &len);
	rc = write_file_atomic(cert_path, data, len, 0644);
out:
	BIO_free(kb);
	BIO_free(cb);
	BN_free(serial);
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

/* True when the certificate at `path` is missing or expires within
 * RENEW_DAYS. */
static bool needs_renewal(const char *path)
{
	FILE *f = fopen(path, "re");
	X509 *x;
	bool renew = true;

	if (!f)
		return true;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x) {
		time_t limit = time(NULL) + (time_t)RENEW_DAYS * 24 * 3600;

		renew = X509_cmp_time(X509_get0_notAfter(x), &limit) <= 0;
		X509_free(x);
	}
	ERR_clear_error();
	return renew;
}

enum err tls_new(const char *cert_path, const char *key_path, const char *tls_dir, struct tls **out)
{
	struct tls *t = calloc(1, sizeof *t);
	enum err rc = ERR_OK;

	*out = NULL;
	if (!t)
		return err_set(ERR_NOMEM, "out of memory");
	pthread_mutex_init(&t->lock, NULL);
	if ((cert_path == NULL) != (key_path == NULL)) {
		rc = err_set(ERR_INVALID, "--cert and --key must be given together");
		goto out;
	}
	if (cert_path) {
		t->cert_path = strdup(cert_path);
		t->key_path = strdup(key_path);
	} else {
		if (asprintf(&t->cert_path, "%s/cert.pem", tls_dir) < 0)
			t->cert_path = NULL;
		if (asprintf(&t->key_path, "%s/key.pem", tls_dir) < 0)
			t->key_path = NULL;
	}
	if (!t->cert_path || !t->key_path) {
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	if (!cert_path) {
		if (mkdir(tls_dir, 0700) != 0 && errno != EEXIST) {
			rc = err_from_errno(errno, tls_dir);
			goto out;
		}
		if (needs_renewal(t->cert_path)) {
			rc = make_self_signed(t->cert_path, t->key_path);
			if (rc)
				goto out;
		}
	}
	rc = build_ctx(t, &t->ctx);
out:
	if (rc) {
		tls_free(t);
		return rc;
	}
	*out = t;
	return ERR_OK;
}

enum err tls_reload(struct tls *t)
{
	SSL_CTX *fresh, *old;
	enum err rc = build_ctx(t, &fresh);

	if (rc)
		return rc;
	pthread_mutex_lock(&t->lock);
	old = t->ctx;
	t->ctx = fresh;
	pthread_mutex_unlock(&t->lock);
	SSL_CTX_free(old);
	return ERR_OK;
}

struct bufferevent *tls_accept_bev(struct tls *t, struct event_base *base, int fd)
{
	struct bufferevent *bev;
	SSL *ssl;

	pthread_mutex_lock(&t->lock);
	ssl = SSL_new(t->ctx);
	pthread_mutex_unlock(&t->lock);
	if (!ssl) {
		ERR_clear_error();
		close(fd);
		return NULL;
	}
	bev = bufferevent_openssl_socket_new(base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		close(fd);
		return NULL;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

void tls_close_notify(struct bufferevent *bev)
{
	SSL *ssl = bufferevent_openssl_get_ssl(bev);

	/* Best effort, non-blocking: the socket is closed right after. */
	if (ssl && SSL_is_init_finished(ssl))
		SSL_shutdown(ssl);
	ERR_clear_error();
}

uint64_t tls_handshakes(const struct tls *t) { return atomic_load(&((struct tls *)t)->handshakes); }

const char *tls_cert_path(const struct tls *t) { return t->cert_path; }

void tls_free(struct tls *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ctx);
	free(t->cert_path);
	free(t->key_path);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

enum err tls_cert_name(const char *cert_path, char *out, size_t n)
{
	FILE *f = fopen(cert_path, "r");
	X509 *x = NULL;
	GENERAL_NAMES *sans = NULL;
	enum err rc = err_set(ERR_NOTFOUND, "%s names no host", cert_path);

	if (n)
		*out = '\0';
	if (!f)
		return err_from_errno(errno, cert_path);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!x)
		return err_set(ERR_INVALID, "%s: not a PEM certificate", cert_path);
	sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
		const unsigned char *d;
		int len;

		if (g->type != GEN_DNS)
			continue;
		d = ASN1_STRING_get0_data(g->d.dNSName);
		len = ASN1_STRING_length(g->d.dNSName);
		if (len <= 0 || (size_t)len >= n || memchr(d, '*', (size_t)len) ||
		    memchr(d, '\0', (size_t)len))
			continue;
		memcpy(out, d, (size_t)len);
		out[len] = '\0';
		rc = ERR_OK;
		break;
	}
	if (rc &&
	    X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, out, (int)n) > 0 &&
	    !strchr(out, '*'))
		rc = ERR_OK;
	else if (rc && n)
		*out = '\0';
	GENERAL_NAMES_free(sans);
	X509_free(x);
	return rc;
}
