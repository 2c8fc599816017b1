/*
 * publicurl — the address people use to reach consort (option
 * public-url, docs/config.md): every absolute link the server makes
 * starts with it, never with a request's Host header, and when the
 * option is set a request that names another host is misdirected (421).
 *
 * Its form is `https://HOST[:PORT]`, nothing else: no user, path, query
 * or fragment (a trailing '/' is dropped). Without the option the links
 * start with a default: the certificate's host name (`cert`'s first DNS
 * name, or `localhost` for the self-signed one) and the listen port;
 * Host is not checked then, because a default cannot know every name a
 * server is reached by.
 */
#ifndef CONSORT_PUBLICURL_H
#define CONSORT_PUBLICURL_H

#include <stdbool.h>

#include "err.h"

struct config;

/* Is `url` a public-url as above? ERR_INVALID with the reason. */
enum err publicurl_check(const char *url);

/* The base of absolute links: the option's value without a trailing
 * '/', or the default above. *out is malloc'd; the caller frees it. */
enum err publicurl_resolve(const struct config *cfg, char **out);

/* Does the Host header value `host` name the host and port of `url` (a
 * checked public-url)? Case-insensitive; a missing port is 443. */
bool publicurl_names_host(const char *url, const char *host);

#endif
