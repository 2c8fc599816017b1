/* Unit tests for server/dav/dav.c: the WebDAV request-body parsers (with
 * hostile XML: entity bombs, external entities, deep nesting, namespace
 * errors) and the If, Depth, Overwrite and Timeout headers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dav/dav.h"

#define PF(body) dav_parse_propfind(body, strlen(body), &pf)

static void test_propfind_kinds(void **state)
{
	struct dav_propfind pf;

	(void)state;
	assert_int_equal(dav_parse_propfind("", 0, &pf), ERR_OK);
	assert_int_equal(pf.kind, DAV_PROPFIND_ALLPROP);
	dav_propfind_free(&pf);
	assert_int_equal(
		PF("<?xml version=\"1.0\"?><propfind xmlns=\"DAV:\"><propname/></propfind>"),
		ERR_OK);
	assert_int_equal(pf.kind, DAV_PROPFIND_PROPNAME);
	dav_propfind_free(&pf);
	assert_int_equal(PF("<D:propfind xmlns:D=\"DAV:\"><D:prop><D:getetag/>"
			    "<x:foo xmlns:x=\"urn:x\"/><bar xmlns=\"\"/></D:prop></D:propfind>"),
			 ERR_OK);
	assert_int_equal(pf.kind, DAV_PROPFIND_PROP);
	assert_int_equal(pf.n, 3);
	assert_string_equal(pf.props[0].ns, "DAV:");
	assert_string_equal(pf.props[0].name, "getetag");
	assert_string_equal(pf.props[1].ns, "urn:x");
	assert_string_equal(pf.props[2].ns, "");
	dav_propfind_free(&pf);
	assert_int_equal(PF("<propfind xmlns=\"DAV:\"><allprop/><include><quota-used-bytes/>"
			    "</include><unknown-ext/></propfind>"),
			 ERR_OK);
	assert_int_equal(pf.kind, DAV_PROPFIND_ALLPROP);
	assert_int_equal(pf.n, 1);
	dav_propfind_free(&pf);
}

/* A body of white space was scanned with strspn, past its end: bodies
 * are not NUL-terminated (found by fuzz_dav). */
static void test_propfind_whitespace_body_not_terminated(void **state)
{
	char *body = malloc(3);
	struct dav_propfind pf;

	(void)state;
	memcpy(body, " \n\t", 3);
	assert_int_equal(dav_parse_propfind(body, 3, &pf), ERR_OK);
	assert_int_equal(pf.kind, DAV_PROPFIND_ALLPROP);
	memcpy(body, "t ", 2);
	assert_int_equal(dav_parse_propfind(body, 2, &pf), ERR_INVALID);
	free(body);
}

static void test_propfind_refusals(void **state)
{
	struct dav_propfind pf;
	const char *bad[] = {
		"<propfind xmlns=\"DAV:\"><prop>",                           /* unterminated */
		"<propfind xmlns=\"urn:not-dav\"><allprop/></propfind>",     /* wrong root */
		"<propfind xmlns=\"DAV:\"/>",                                /* nothing asked */
		"<propfind xmlns=\"DAV:\"><allprop/><propname/></propfind>", /* two kinds */
		"<propfind xmlns=\"DAV:\"><prop><x:y/></prop></propfind>",   /* undeclared prefix */
		"<propfind xmlns=\"DAV:\"><prop><x:y xmlns:x=\"\"/></prop></propfind>", /* litmus */
		"<propfind xmlns=\"DAV:\"><prop>&unknown;</prop></propfind>",
		"\xff\xfe<",
	};

	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(dav_parse_propfind(bad[i], strlen(bad[i]), &pf), ERR_INVALID);
		assert_int_equal(pf.n, 0);
		assert_null(pf.props);
	}
}

static void test_billion_laughs_refused(void **state)
{
	const char *bomb =
		"<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
		"<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
		"<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
		"<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>"
		"<propertyupdate xmlns=\"DAV:\"><set><prop><x xmlns=\"urn:x\">&lol3;</x></prop></set>"
		"</propertyupdate>";
	const char *xxe =
		"<?xml version=\"1.0\"?><!DOCTYPE p [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
		"<propertyupdate xmlns=\"DAV:\"><set><prop><x xmlns=\"urn:x\">&e;</x></prop>"
		"</set></propertyupdate>";
	const char *ext = "<!DOCTYPE propfind SYSTEM \"http://127.0.0.1:1/dtd\"><propfind "
			  "xmlns=\"DAV:\"><allprop/></propfind>";
	struct dav_proppatch pp;
	struct dav_propfind pf;

	(void)state;
	assert_int_equal(dav_parse_proppatch(bomb, strlen(bomb), &pp), ERR_INVALID);
	assert_int_equal(pp.n, 0);
	assert_int_equal(dav_parse_proppatch(xxe, strlen(xxe), &pp), ERR_INVALID);
	assert_int_equal(dav_parse_propfind(ext, strlen(ext), &pf), ERR_INVALID);
}

static void test_depth_and_size_limits(void **state)
{
	char *deep = malloc(64 * 1024), *p = deep;
	struct dav_proppatch pp;
	int levels = DAV_XML_MAX_DEPTH;

	(void)state;
	p += sprintf(p, "<propertyupdate xmlns=\"DAV:\"><set><prop><x xmlns=\"urn:x\">");
	for (int i = 0; i < levels; i++)
		p += sprintf(p, "<a>");
	for (int i = 0; i < levels; i++)
		p += sprintf(p, "</a>");
	sprintf(p, "</x></prop></set></propertyupdate>");
	assert_int_equal(dav_parse_proppatch(deep, strlen(deep), &pp), ERR_INVALID);
	free(deep);
	/* a body over the cap is refused without parsing */
	assert_int_equal(dav_parse_proppatch("<x/>", DAV_BODY_MAX + 1, &pp), ERR_TOOLARGE);
}

static void test_proppatch_serialises_self_contained(void **state)
{
	const char *body =
		"<D:propertyupdate xmlns:D=\"DAV:\" xmlns:Z=\"urn:schemas-microsoft-com:\">"
		"<D:set><D:prop><Z:Win32LastModifiedTime>Wed, 01 May 2024 10:00:00 GMT"
		"</Z:Win32LastModifiedTime><q:v xmlns:q=\"urn:q\"><Z:inner a=\"&amp;&lt;\"/></q:v>"
		"</D:prop></D:set><D:remove><D:prop><Z:Gone/></D:prop></D:remove>"
		"</D:propertyupdate>";
	struct dav_proppatch pp;

	(void)state;
	assert_int_equal(dav_parse_proppatch(body, strlen(body), &pp), ERR_OK);
	assert_int_equal(pp.n, 3);
	assert_false(pp.ops[0].remove);
	assert_string_equal(pp.ops[0].pn.ns, "urn:schemas-microsoft-com:");
	assert_string_equal(pp.ops[0].pn.name, "Win32LastModifiedTime");
	assert_non_null(strstr(pp.ops[0].xml, "xmlns:Z=\"urn:schemas-microsoft-com:\""));
	assert_non_null(strstr(pp.ops[0].xml, "Wed, 01 May 2024 10:00:00 GMT"));
	/* the nested element's namespace is declared inside the value too */
	assert_non_null(strstr(pp.ops[1].xml, "xmlns:q=\"urn:q\""));
	assert_non_null(strstr(pp.ops[1].xml, "urn:schemas-microsoft-com:"));
	assert_non_null(strstr(pp.ops[1].xml, "&amp;&lt;"));
	assert_true(pp.ops[2].remove);
	assert_null(pp.ops[2].xml);
	dav_proppatch_free(&pp);
	/* re-parsing a stored value alone works: it is self-contained */
	const char *again = "<propertyupdate xmlns=\"DAV:\"><set><prop>"
			    "<Z:Win32LastModifiedTime xmlns:Z=\"urn:schemas-microsoft-com:\">x"
			    "</Z:Win32LastModifiedTime></prop></set></propertyupdate>";
	assert_int_equal(dav_parse_proppatch(again, strlen(again), &pp), ERR_OK);
	dav_proppatch_free(&pp);
}

static void test_lockinfo(void **state)
{
	const char *ok = "<D:lockinfo xmlns:D=\"DAV:\"><D:lockscope><D:shared/></D:lockscope>"
			 "<D:locktype><D:write/></D:locktype><D:owner><D:href>mailto:a@b"
			 "</D:href></D:owner></D:lockinfo>";
	const char *noscope = "<lockinfo xmlns=\"DAV:\"><locktype><write/></locktype></lockinfo>";
	const char *read = "<lockinfo xmlns=\"DAV:\"><lockscope><exclusive/></lockscope>"
			   "<locktype><read/></locktype></lockinfo>";
	struct dav_lockinfo li;

	(void)state;
	assert_int_equal(dav_parse_lockinfo(ok, strlen(ok), &li), ERR_OK);
	assert_false(li.exclusive);
	assert_non_null(strstr(li.owner, "mailto:a@b"));
	assert_non_null(strstr(li.owner, "xmlns:D=\"DAV:\""));
	dav_lockinfo_free(&li);
	assert_int_equal(dav_parse_lockinfo(noscope, strlen(noscope), &li), ERR_INVALID);
	assert_int_equal(dav_parse_lockinfo(read, strlen(read), &li), ERR_UNSUPPORTED);
	assert_int_equal(dav_parse_lockinfo("", 0, &li), ERR_INVALID);
}

static void test_if_header(void **state)
{
	struct dav_if f;

	(void)state;
	assert_int_equal(dav_if_parse("(<urn:consort:abc>)", &f), ERR_OK);
	assert_int_equal(f.n, 1);
	assert_null(f.lists[0].resource);
	assert_false(f.lists[0].conds[0].etag);
	assert_string_equal(f.lists[0].conds[0].value, "urn:consort:abc");
	dav_if_free(&f);
	assert_int_equal(dav_if_parse("(<urn:a> [\"e1\"]) (Not <DAV:no-lock> [W/\"e2\"])", &f),
			 ERR_OK);
	assert_int_equal(f.n, 2);
	assert_true(f.lists[0].conds[1].etag);
	assert_string_equal(f.lists[0].conds[1].value, "\"e1\"");
	assert_true(f.lists[1].conds[0].negated);
	assert_string_equal(f.lists[1].conds[1].value, "W/\"e2\"");
	dav_if_free(&f);
	assert_int_equal(dav_if_parse("<https://h/dav/WP1/a> (<urn:a>) <https://h/dav/WP1/b>"
				      " ([\"x\"]) (Not[\"y\"])",
				      &f),
			 ERR_OK);
	assert_int_equal(f.n, 3);
	assert_string_equal(f.lists[0].resource, "https://h/dav/WP1/a");
	assert_string_equal(f.lists[2].resource, "https://h/dav/WP1/b");
	dav_if_free(&f);
	/* untagged then tagged, as clients send it */
	assert_int_equal(dav_if_parse("(<urn:a>) </dav/WP1/x> (<urn:b>)", &f), ERR_OK);
	dav_if_free(&f);

	const char *bad[] = {
		"",
		"()",
		"(<urn:a>",
		"<urn:a>",
		"(urn:a)",
		"(<>)",
		"([\"unterminated)",
		"([unquoted])",
		"(<urn:a b>)",
		"(Not)",
		"<urn:x> <urn:y> (<urn:a>)",
		"garbage",
		"(<urn:a>) junk",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(dav_if_parse(bad[i], &f), ERR_INVALID);
		assert_int_equal(f.n, 0);
	}
	/* too many conditions */
	char many[DAV_IF_MAX];
	size_t n = 0;

	for (int i = 0; i <= DAV_IF_MAX_CONDS; i++)
		n += (size_t)snprintf(many + n, sizeof many - n, "(<u:%d>)", i);
	assert_int_equal(dav_if_parse(many, &f), ERR_INVALID);
}

static void test_headers(void **state)
{
	int depth;
	bool ow;

	(void)state;
	assert_int_equal(dav_depth_parse(NULL, 7, &depth), ERR_OK);
	assert_int_equal(depth, 7);
	assert_int_equal(dav_depth_parse("Infinity", 0, &depth), ERR_OK);
	assert_int_equal(depth, DAV_DEPTH_INFINITY);
	assert_int_equal(dav_depth_parse("1", 0, &depth), ERR_OK);
	assert_int_equal(depth, 1);
	assert_int_equal(dav_depth_parse("2", 0, &depth), ERR_INVALID);
	assert_int_equal(dav_depth_parse("", 0, &depth), ERR_INVALID);
	assert_int_equal(dav_overwrite_parse(NULL, &ow), ERR_OK);
	assert_true(ow);
	assert_int_equal(dav_overwrite_parse("F", &ow), ERR_OK);
	assert_false(ow);
	assert_int_equal(dav_overwrite_parse("f", &ow), ERR_INVALID);
	assert_int_equal(dav_timeout_parse(NULL, 600, 3600), 600);
	assert_int_equal(dav_timeout_parse("Second-60", 600, 3600), 60);
	assert_int_equal(dav_timeout_parse("Infinite, Second-4100000000", 600, 3600), 3600);
	assert_int_equal(dav_timeout_parse("Second-99999999999999999999999", 600, 3600), 3600);
	assert_int_equal(dav_timeout_parse("Second-0", 600, 3600), 1);
	assert_int_equal(dav_timeout_parse("Fortnight, Second-30", 600, 3600), 30);
	assert_int_equal(dav_timeout_parse("Second-", 600, 3600), 600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_propfind_kinds),
		cmocka_unit_test(test_propfind_refusals),
		cmocka_unit_test(test_propfind_whitespace_body_not_terminated),
		cmocka_unit_test(test_billion_laughs_refused),
		cmocka_unit_test(test_depth_and_size_limits),
		cmocka_unit_test(test_proppatch_serialises_self_contained),
		cmocka_unit_test(test_lockinfo),
		cmocka_unit_test(test_if_header),
		cmocka_unit_test(test_headers),
	};

	dav_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
