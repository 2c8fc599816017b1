/*
 * web_assets — the browser app, embedded in the binary at build time by
 * web/embed.py (see there). One entry per file under web/.
 */
#ifndef CONSORT_WEB_ASSETS_H
#define CONSORT_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
	const char *path; /* relative to web/, e.g. "js/app.js" */
	const char *type; /* Content-Type */
	const unsigned char *data;
	size_t len;
	const unsigned char *gz; /* gzip form, or NULL when not smaller */
	size_t gz_len;
	const char *sha256; /* hex of data */
};

extern const struct web_asset web_assets[];
extern const size_t web_asset_count;
/* 16 hex digits over every asset's path and hash: the cache-busting
 * prefix /assets/<hash>/. */
extern const char web_bundle_hash[];

#endif
