/* publicurl — see publicurl.h. */
#include "api/publicurl.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api/config.h"
#include "http/tls.h"

#define SCHEME "https://"

/* Split an authority "host[:port]" or "[v6][:port]" into the host (with
 * its brackets) and the port (443 when absent). False when malformed. */
static bool split_authority(const char *a, size_t len, const char **host, size_t *hlen,
			    unsigned *port)
{
	const char *colon = NULL;
	size_t i;

	if (!len || len > 255)
		return false;
	if (a[0] == '[') {
		const char *close = memchr(a, ']', len);

		if (!close || close == a + 1)
			return false;
		for (const char *p = a + 1; p < close; p++)
			if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
				return false;
		*hlen = (size_t)(close - a) + 1;
		if (*hlen < len && a[*hlen] != ':')
			return false;
		colon = *hlen < len ? a + *hlen : NULL;
	} else {
		for (i = 0; i < len; i++) {
			if (a[i] == ':') {
				colon = a + i;
				break;
			}
			if (!isalnum((unsigned char)a[i]) && a[i] != '.' && a[i] != '-')
				return false;
		}
		*hlen = colon ? (size_t)(colon - a) : len;
		if (!*hlen)
			return false;
	}
	*host = a;
	*port = 443;
	if (colon) {
		const char *p = colon + 1, *end = a + len;
		unsigned v = 0;

		if (p == end || end - p > 5)
			return false;
		for (; p < end; p++) {
			if (!isdigit((unsigned char)*p))
				return false;
			v = v * 10 + (unsigned)(*p - '0');
		}
		if (v < 1 || v > 65535)
			return false;
		*port = v;
	}
	return true;
}

enum err publicurl_check(const char *url)
{
	const char *a, *h;
	size_t len, hlen;
	unsigned port;

	if (strncasecmp(url, SCHEME, strlen(SCHEME)))
		return err_set(ERR_INVALID, "must start with https://");
	a = url + strlen(SCHEME);
	len = strlen(a);
	if (len && a[len - 1] == '/')
		len--;
	if (!split_authority(a, len, &h, &hlen, &port))
		return err_set(ERR_INVALID, "must be https://HOST[:PORT] with nothing after it "
					    "(no user, path, query or fragment)");
	return ERR_OK;
}

/* The host part of `listen` ("HOST:PORT", "[v6]:PORT") and its port. */
static bool listen_parts(const char *listen, char *host, size_t n, unsigned *port)
{
	const char *colon = strrchr(listen, ':');
	size_t hlen;

	if (!colon || !colon[1])
		return false;
	hlen = (size_t)(colon - listen);
	if (hlen >= n)
		return false;
	memcpy(host, listen, hlen);
	host[hlen] = '\0';
	*port = (unsigned)strtoul(colon + 1, NULL, 10);
	return true;
}

static bool is_loopback(const char *h)
{
	return !strcmp(h, "localhost") || !strncmp(h, "127.", 4) || !strcmp(h, "[::1]");
}

static bool is_wildcard(const char *h)
{
	return !*h || !strcmp(h, "0.0.0.0") || !strcmp(h, "[::]") || !strcmp(h, "*");
}

enum err publicurl_resolve(const struct config *cfg, char **out)
{
	char host[256] = "", name[256] = "";
	unsigned port = 443;
	int n;

	*out = NULL;
	if (cfg->public_url) {
		size_t len = strlen(cfg->public_url);

		if (len && cfg->public_url[len - 1] == '/')
			len--;
		*out = strndup(cfg->public_url, len);
		return *out ? ERR_OK : err_set(ERR_NOMEM, "out of memory");
	}
	if (!listen_parts(cfg->listen, host, sizeof host, &port))
		return err_set(ERR_INVALID, "listen: not HOST:PORT");
	/* The name the certificate is for is the name clients use; the
	 * self-signed one is for localhost. */
	if (cfg->cert && !tls_cert_name(cfg->cert, name, sizeof name))
		snprintf(host, sizeof host, "%s", name);
	else if (!cfg->cert && is_loopback(host))
		snprintf(host, sizeof host, "localhost");
	else if (is_wildcard(host) && gethostname(host, sizeof host - 1))
		snprintf(host, sizeof host, "localhost");
	if (port == 443)
		n = asprintf(out, SCHEME "%s", host);
	else
		n = asprintf(out, SCHEME "%s:%u", host, port);
	if (n < 0) {
		*out = NULL;
		return err_set(ERR_NOMEM, "out of memory");
	}
	return ERR_OK;
}

bool publicurl_names_host(const char *url, const char *host)
{
	const char *ua, *uh, *hh;
	size_t ulen, uhlen, hhlen;
	unsigned uport, hport;

	if (!url || !host || strncasecmp(url, SCHEME, strlen(SCHEME)))
		return false;
	ua = url + strlen(SCHEME);
	ulen = strlen(ua);
	if (ulen && ua[ulen - 1] == '/')
		ulen--;
	if (!split_authority(ua, ulen, &uh, &uhlen, &uport) ||
	    !split_authority(host, strlen(host), &hh, &hhlen, &hport))
		return false;
	return uhlen == hhlen && !strncasecmp(uh, hh, uhlen) && uport == hport;
}
