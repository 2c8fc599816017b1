/*
 * fuzz_dav — libFuzzer driver for the WebDAV request parsers (dav.h):
 * the first byte picks PROPFIND, PROPPATCH or LOCK bodies or the If
 * and Destination headers, the rest is the input. Invariants: a refused
 * input leaves the output empty; an accepted PROPPATCH value is itself
 * parseable XML when put back in a request (it is stored and sent back
 * as it is), an accepted If header has lists that each hold a
 * condition, and an accepted Destination names a non-empty work package
 * inside the header's text.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/dest.h"
#include "dav/dav.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void proppatch(const char *s, size_t n)
{
	struct dav_proppatch pp;

	if (dav_parse_proppatch(s, n, &pp) != ERR_OK) {
		assert(pp.n == 0 && pp.ops == NULL);
		return;
	}
	assert(pp.n > 0);
	for (size_t i = 0; i < pp.n; i++) {
		struct dav_proppatch again;
		size_t len;
		char *body;

		if (pp.ops[i].remove)
			continue;
		assert(pp.ops[i].xml);
		len = strlen(pp.ops[i].xml) + 128;
		body = malloc(len);
		assert(body);
		snprintf(body, len,
			 "<D:propertyupdate xmlns:D=\"DAV:\"><D:set><D:prop>%s"
			 "</D:prop></D:set></D:propertyupdate>",
			 pp.ops[i].xml);
		/* Deeper by three levels: a value at the depth limit may be
		 * refused when wrapped, nothing else. */
		enum err rc = dav_parse_proppatch(body, strlen(body), &again);
		assert(rc == ERR_OK || rc == ERR_INVALID || rc == ERR_TOOLARGE);
		if (rc == ERR_OK) {
			assert(again.n == 1);
			assert(!strcmp(again.ops[0].pn.name, pp.ops[i].pn.name));
			assert(!strcmp(again.ops[0].pn.ns, pp.ops[i].pn.ns));
		}
		dav_proppatch_free(&again);
		free(body);
	}
	dav_proppatch_free(&pp);
}

static void destination(const char *text)
{
	struct dest_header d;
	size_t len = strlen(text);

	if (dest_parse(text, "h.example:8443", &d) == ERR_OK) {
		assert(d.wp > text && d.wp_len > 0 && d.wp + d.wp_len <= text + len);
		assert(!memchr(d.wp, '/', d.wp_len));
		assert(!*d.path || (d.path > d.wp + d.wp_len && d.path <= text + len));
	} else {
		assert(d.wp == NULL && d.wp_len == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 1;
	size_t n = size ? size - 1 : 0;
	struct dav_propfind pf;
	struct dav_lockinfo li;
	struct dav_if f;
	char *text;

	if (size == 0)
		return 0;
	dav_init();
	switch (data[0] % 4) {
	case 0:
		if (dav_parse_propfind(s, n, &pf) == ERR_OK)
			assert(pf.kind != DAV_PROPFIND_PROP || pf.n <= DAV_MAX_PROPS);
		else
			assert(pf.n == 0 && pf.props == NULL);
		dav_propfind_free(&pf);
		break;
	case 1: proppatch(s, n); break;
	case 2:
		if (dav_parse_lockinfo(s, n, &li) == ERR_OK)
			assert(li.owner);
		else
			assert(li.owner == NULL);
		dav_lockinfo_free(&li);
		break;
	default:
		text = malloc(n + 1);
		if (!text)
			return 0;
		memcpy(text, s, n);
		text[n] = '\0';
		if (dav_if_parse(text, &f) == ERR_OK) {
			assert(f.n > 0);
			for (size_t i = 0; i < f.n; i++) {
				assert(f.lists[i].n > 0);
				for (size_t j = 0; j < f.lists[i].n; j++)
					assert(f.lists[i].conds[j].value &&
					       *f.lists[i].conds[j].value);
			}
		} else {
			assert(f.n == 0 && f.lists == NULL);
		}
		dav_if_free(&f);
		destination(text);
		free(text);
	}
	return 0;
}
