/* Unit tests for server/http/jsonin.c: the strict request-body validator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http/jsonin.h"

static const char *const levels[] = {"none", "read", "write", "manage", NULL};

struct out {
	const char *name;
	int64_t days;
	bool flag, flag_set;
	int level;
	const char *note;
};

static enum err run(const char *text, struct out *o)
{
	json_error_t jerr;
	json_t *obj = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
	struct jsonin_field f[] = {
		{"name", JSONIN_STRING, JSONIN_REQUIRED, 1, 10, .out = &o->name},
		{"days", JSONIN_INT, JSONIN_NULLABLE, 1, 365, .out = &o->days},
		{"flag", JSONIN_BOOL, 0, 0, 0, .out = &o->flag, .present = &o->flag_set},
		{"level", JSONIN_ENUM, 0, .choices = levels, .out = &o->level},
		{"note", JSONIN_STRING, JSONIN_MULTILINE, 0, 100, .out = &o->note},
	};
	enum err rc;

	assert_non_null(obj);
	memset(o, 0, sizeof *o);
	o->days = -1;
	rc = jsonin_parse(obj, f, sizeof f / sizeof f[0]);
	/* Strings point into obj; copy what the tests look at. */
	if (!rc && o->name)
		o->name = strcmp(o->name, "ok") ? "other" : "ok";
	if (!rc && o->note)
		o->note = strchr(o->note, '\n') ? "multi" : "single";
	json_decref(obj);
	return rc;
}

static void expect(const char *text, const char *detail)
{
	struct out o;

	assert_int_equal(run(text, &o), ERR_INVALID);
	if (!strstr(err_detail(), detail))
		fail_msg("for %s: detail '%s' lacks '%s'", text, err_detail(), detail);
}

static void accepts_valid_input(void **state)
{
	struct out o;

	(void)state;
	assert_int_equal(run("{\"name\":\"ok\",\"days\":30,\"flag\":false,\"level\":\"write\","
			     "\"note\":\"a\\nb\"}",
			     &o),
			 ERR_OK);
	assert_string_equal(o.name, "ok");
	assert_int_equal(o.days, 30);
	assert_true(o.flag_set);
	assert_false(o.flag);
	assert_int_equal(o.level, 2);
	assert_string_equal(o.note, "multi");
	/* null for a nullable field means absent; optional fields may be left out. */
	assert_int_equal(run("{\"name\":\"ok\",\"days\":null}", &o), ERR_OK);
	assert_int_equal(o.days, -1);
	assert_false(o.flag_set);
	/* Ten characters, not ten bytes. */
	assert_int_equal(run("{\"name\":\"\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9"
			     "\\u00e9\\u00e9\"}",
			     &o),
			 ERR_OK);
}

static void refuses_with_the_field_named(void **state)
{
	(void)state;
	expect("{\"name\":\"ok\",\"nmae\":1}", "unknown field 'nmae'");
	expect("{}", "field 'name' is required");
	expect("{\"name\":null}", "field 'name' must be a string");
	expect("{\"name\":5}", "field 'name' must be a string");
	expect("{\"name\":\"\"}", "field 'name' must not be empty");
	expect("{\"name\":\"12345678901\"}", "field 'name' is too long (at most 10");
	expect("{\"name\":\"a\\u0007b\"}", "field 'name' must not contain control");
	expect("{\"name\":\"a\\nb\"}", "field 'name' must not contain control");
	expect("{\"name\":\"a\\u202eb\"}", "field 'name' must not contain control");
	expect("{\"name\":\"ok\",\"days\":\"30\"}", "field 'days' must be an integer");
	expect("{\"name\":\"ok\",\"days\":30.0}", "field 'days' must be an integer");
	expect("{\"name\":\"ok\",\"days\":0}", "field 'days' must be an integer from 1 to 365");
	expect("{\"name\":\"ok\",\"days\":9999999999999}", "from 1 to 365");
	expect("{\"name\":\"ok\",\"flag\":\"true\"}", "field 'flag' must be true or false");
	expect("{\"name\":\"ok\",\"flag\":1}", "field 'flag' must be true or false");
	expect("{\"name\":\"ok\",\"level\":\"admin\"}",
	       "field 'level' must be one of none, read, write, manage");
	expect("{\"name\":\"ok\",\"level\":3}", "field 'level' must be a string");
	expect("{\"name\":\"ok\",\"flag\":null}", "field 'flag' must be true or false");
	expect("{\"name\":[\"ok\"]}", "must be a string");
}

static void unknown_names_are_printable_and_short(void **state)
{
	char text[400];

	(void)state;
	snprintf(text, sizeof text, "{\"name\":\"ok\",\"\\u0001%0200d\":1}", 0);
	expect(text, "unknown field '?000");
	assert_true(strlen(err_detail()) < 100);
}

static void nothing_stored_on_failure(void **state)
{
	json_t *obj = json_loads("{\"a\":\"x\",\"b\":\"bad\"}", 0, NULL);
	const char *a = "untouched";
	int64_t b = 7;
	struct jsonin_field f[] = {
		{"a", JSONIN_STRING, 0, 0, 10, .out = &a},
		{"b", JSONIN_INT, 0, 0, 10, .out = &b},
	};

	(void)state;
	assert_int_equal(jsonin_parse(obj, f, 2), ERR_INVALID);
	assert_string_equal(a, "untouched");
	assert_int_equal(b, 7);
	json_decref(obj);
	assert_int_equal(jsonin_check_text("--name", "x", 1, 5, false), ERR_OK);
	assert_int_equal(jsonin_check_text("--name", "", 1, 5, false), ERR_INVALID);
	assert_string_equal(err_detail(), "--name must not be empty");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepts_valid_input),
		cmocka_unit_test(refuses_with_the_field_named),
		cmocka_unit_test(unknown_names_are_printable_and_short),
		cmocka_unit_test(nothing_stored_on_failure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
