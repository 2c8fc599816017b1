/* Unit tests for server/api/markdown.c: news Markdown comes out as HTML
 * that can run nothing and fetches nothing from elsewhere. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/markdown.h"

static char *render(const char *src)
{
	char *html = md_render(src);

	assert_non_null(html);
	return html;
}

static void test_subset(void **state)
{
	char *h = render("# Title\n\nSome **bold** and *em*, a [link](https://x.example/a?b=1).\n\n"
			 "- one\n- two\n");

	(void)state;
	assert_non_null(strstr(h, "<h1>Title</h1>"));
	assert_non_null(strstr(h, "<strong>bold</strong>"));
	assert_non_null(strstr(h, "<em>em</em>"));
	assert_non_null(strstr(h, "<a href=\"https://x.example/a?b=1\">link</a>"));
	assert_non_null(strstr(h, "<li>two</li>"));
	free(h);
}

static void test_raw_html_and_script(void **state)
{
	char *h = render("<script>alert(1)</script>\n\ntext <b onclick=\"x()\">b</b>\n\n"
			 "<iframe src=\"https://evil.example\"></iframe>\n");

	(void)state;
	assert_null(strstr(h, "<script"));
	assert_null(strstr(h, "onclick"));
	assert_null(strstr(h, "<iframe"));
	assert_null(strstr(h, "<b"));
	free(h);
}

static void test_links(void **state)
{
	static const char *const bad[] = {
		"[a](javascript:alert(1))", "[a](JaVaScRiPt:alert(1))", "[a](data:text/html,x)",
		"[a](vbscript:x)",          "[a](//evil.example/x)",    "[a](file:///etc/passwd)",
		"[a](/\\evil.example)",     "<javascript:alert(1)>",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *h = render(bad[i]);

		/* the link stays as text; its target is gone */
		assert_non_null(strstr(h, "href=\"\""));
		assert_null(strstr(h, "href=\"j"));
		assert_null(strstr(h, "href=\"J"));
		assert_null(strstr(h, "href=\"d"));
		assert_null(strstr(h, "href=\"/"));
		free(h);
	}
	assert_true(md_link_ok("/#/wp/WP1/a.pdf"));
	assert_true(md_link_ok("#top"));
	assert_true(md_link_ok("mailto:a@b.example"));
	assert_false(md_link_ok("//evil.example"));
	assert_false(md_link_ok(""));
}

static void test_images(void **state)
{
	char *h = render("![ours](/api/v1/images/3) ![theirs](https://tracker.example/p.gif) "
			 "![nested ![inner](https://x.example/i.png)](https://y.example/o.png)");

	(void)state;
	assert_non_null(strstr(h, "<img src=\"/api/v1/images/3\" alt=\"ours\""));
	assert_null(strstr(h, "tracker"));
	assert_null(strstr(h, "x.example"));
	assert_null(strstr(h, "y.example"));
	assert_non_null(strstr(h, "theirs"));
	assert_non_null(strstr(h, "inner"));
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subset),
		cmocka_unit_test(test_raw_html_and_script),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_images),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
