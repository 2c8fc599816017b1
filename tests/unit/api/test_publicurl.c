/* Unit tests for server/api/publicurl.c: which values public-url takes,
 * which Host headers name it, and the default without it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "api/config.h"
#include "api/publicurl.h"

static void check_takes_only_https_host_port(void **state)
{
	static const char *const good[] = {
		"https://docs.example.org",
		"https://docs.example.org/",
		"HTTPS://Docs.Example.org:8443",
		"https://[2001:db8::1]:443",
		"https://10.0.0.5",
	};
	static const char *const bad[] = {
		"http://docs.example.org",
		"https://docs.example.org/consort",
		"https://u@docs.example.org",
		"https://docs.example.org:0",
		"https://docs.example.org:65536",
		"https://",
		"https:///",
		"docs.example.org",
		"https://docs.example.org?x",
		"https://docs.example.org#x",
		"https://docs example.org",
		"https://docs.example.org:",
		"https://[]",
		"https://[zz::1]",
	};

	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		assert_int_equal(publicurl_check(good[i]), ERR_OK);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(publicurl_check(bad[i]), ERR_INVALID);
}

static void host_must_name_the_same_host_and_port(void **state)
{
	(void)state;
	assert_true(publicurl_names_host("https://docs.example.org", "docs.example.org"));
	assert_true(publicurl_names_host("https://docs.example.org/", "DOCS.example.org:443"));
	assert_true(publicurl_names_host("https://docs.example.org:8443", "docs.example.org:8443"));
	assert_true(publicurl_names_host("https://[::1]:8443", "[::1]:8443"));
	assert_false(publicurl_names_host("https://docs.example.org:8443", "docs.example.org"));
	assert_false(publicurl_names_host("https://docs.example.org", "evil.example"));
	assert_false(publicurl_names_host("https://docs.example.org", "docs.example.org.evil"));
	assert_false(publicurl_names_host("https://docs.example.org", "docs.example.org:443x"));
	assert_false(publicurl_names_host("https://docs.example.org", "docs.example.org@evil"));
	assert_false(publicurl_names_host("https://docs.example.org", ""));
	assert_false(publicurl_names_host(NULL, "docs.example.org"));
}

static void resolve_uses_the_option_or_a_default(void **state)
{
	struct config cfg;
	char *url;

	(void)state;
	memset(&cfg, 0, sizeof cfg);
	cfg.listen = "127.0.0.1:8443";
	assert_int_equal(publicurl_resolve(&cfg, &url), ERR_OK);
	assert_string_equal(url, "https://localhost:8443"); /* the self-signed certificate's */
	free(url);
	cfg.listen = "192.0.2.7:443";
	assert_int_equal(publicurl_resolve(&cfg, &url), ERR_OK);
	assert_string_equal(url, "https://192.0.2.7");
	free(url);
	cfg.public_url = "https://Docs.Example.org/";
	assert_int_equal(publicurl_resolve(&cfg, &url), ERR_OK);
	assert_string_equal(url, "https://Docs.Example.org");
	free(url);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(check_takes_only_https_host_port),
		cmocka_unit_test(host_must_name_the_same_host_and_port),
		cmocka_unit_test(resolve_uses_the_option_or_a_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
