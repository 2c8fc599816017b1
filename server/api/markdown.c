/* markdown — see markdown.h. */
#include "api/markdown.h"

#include <cmark.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int md_link_ok(const char *url)
{
	if (!url || !*url)
		return 0;
	if (url[0] == '/' && url[1] != '/' && url[1] != '\\')
		return 1;
	if (url[0] == '#')
		return 1;
	return !strncasecmp(url, "https://", 8) || !strncasecmp(url, "http://", 7) ||
	       !strncasecmp(url, "mailto:", 7);
}

/* Only this server's API serves images a news item may show. */
static int image_ok(const char *url)
{
	return url && !strncmp(url, "/api/v1/", 8) && !strchr(url, '\\');
}

/* An image from elsewhere becomes its alternative text: the image's
 * children (the alt text) move in front of it and it goes. */
static void neutralise_image(cmark_node *img)
{
	cmark_node *child;

	while ((child = cmark_node_first_child(img)) != NULL) {
		cmark_node_unlink(child);
		cmark_node_insert_before(img, child);
	}
	cmark_node_unlink(img);
	cmark_node_free(img);
}

char *md_render(const char *src)
{
	cmark_node *doc = cmark_parse_document(src, strlen(src), CMARK_OPT_SAFE);
	cmark_iter *it;
	cmark_node **drop = NULL;
	size_t ndrop = 0, cap = 0;
	char *html = NULL;
	cmark_event_type ev;

	if (!doc)
		return NULL;
	it = cmark_iter_new(doc);
	if (!it)
		goto out;
	/* Images are collected and changed after the walk: an iterator must
	 * not see the tree change under it. */
	while ((ev = cmark_iter_next(it)) != CMARK_EVENT_DONE) {
		cmark_node *n = cmark_iter_get_node(it);
		cmark_node_type t = cmark_node_get_type(n);

		if (ev != CMARK_EVENT_ENTER)
			continue;
		if (t == CMARK_NODE_LINK && !md_link_ok(cmark_node_get_url(n))) {
			cmark_node_set_url(n, "");
		} else if (t == CMARK_NODE_IMAGE && !image_ok(cmark_node_get_url(n))) {
			if (ndrop == cap) {
				size_t ncap = cap ? cap * 2 : 8;
				cmark_node **p = realloc(drop, ncap * sizeof *p);

				if (!p)
					goto out_iter;
				drop = p;
				cap = ncap;
			}
			drop[ndrop++] = n;
		}
	}
	for (size_t i = ndrop; i-- > 0;)
		neutralise_image(drop[i]);
	html = cmark_render_html(doc, CMARK_OPT_SAFE);
out_iter:
	cmark_iter_free(it);
out:
	free(drop);
	cmark_node_free(doc);
	return html;
}
