/*
 * markdown — news text: a safe subset of Markdown rendered to HTML with
 * libcmark (CommonMark), never by hand.
 *
 * What comes out is safe to put into a page as is: raw HTML in the
 * source is dropped (CMARK_OPT_SAFE), links keep only http:, https:,
 * mailto: and same-site paths ("/...", "#..."), anything else
 * (javascript:, data:, vbscript:, protocol-relative "//host") becomes
 * an empty href, and images show only when they come from this server
 * (a path under /api/v1/); an image from elsewhere is replaced by its
 * alternative text, so reading a news item never fetches from a third
 * party.
 */
#ifndef CONSORT_MARKDOWN_H
#define CONSORT_MARKDOWN_H

#include <stddef.h>

/* Longest Markdown source accepted for a news item, in bytes. */
#define MD_MAX_SOURCE (64 * 1024)

/* The HTML of `src` (UTF-8), malloc'd, or NULL when out of memory. */
char *md_render(const char *src);

/* Is `url` a link target md_render keeps? */
int md_link_ok(const char *url);

#endif
