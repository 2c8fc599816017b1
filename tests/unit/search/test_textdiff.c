/* Unit tests for search/textdiff.c: word and line scripts on small
 * texts (applying the script to the old text gives the new one, for
 * random edits too), white space changes are no change in word mode,
 * and the max_d bound gives an approximate but still correct script. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "textdiff.h"

/* Rebuild the new text from the script: EQUAL from the new text at
 * off_new (its spacing), INSERT from the new text; DELETE skipped. And
 * the old text: EQUAL and DELETE from the old text. */
static void check_script(const char *a, const char *b, const struct tdiff_result *r,
			 enum tdiff_mode mode)
{
	size_t la = 0, lb = 0;
	char *ra = calloc(1, strlen(a) + 1), *rb = calloc(1, strlen(b) + 1);

	for (size_t i = 0; i < r->n; i++) {
		const struct tdiff_op *o = &r->ops[i];

		if (i)
			assert_int_not_equal(o->kind, r->ops[i - 1].kind); /* runs are merged */
		if (o->kind != TDIFF_INSERT) {
			memcpy(ra + la, a + o->off, o->len);
			la += o->len;
		}
		if (o->kind == TDIFF_INSERT) {
			memcpy(rb + lb, b + o->off, o->len);
			lb += o->len;
		} else if (o->kind == TDIFF_EQUAL) {
			size_t l = o->len;

			/* word mode: equal words may differ in trailing space */
			if (mode == TDIFF_WORDS) {
				size_t end = o->off_new;

				for (size_t t = 0; t < o->tokens; t++) {
					while (b[end] && !strchr(" \t\n\r\f\v", b[end]))
						end++;
					while (b[end] && strchr(" \t\n\r\f\v", b[end]))
						end++;
				}
				l = end - o->off_new;
			}
			memcpy(rb + lb, b + o->off_new, l);
			lb += l;
		}
	}
	assert_string_equal(ra, a);
	assert_string_equal(rb, b);
	free(ra);
	free(rb);
}

static void test_words(void **state)
{
	const char *a = "The quick brown fox jumps over the lazy dog.";
	const char *b = "The quick red fox jumps over the  lazy\ncat.";
	struct tdiff_result r;

	(void)state;
	assert_int_equal(tdiff(a, strlen(a), b, strlen(b), TDIFF_WORDS, 0, &r), ERR_OK);
	assert_false(r.approximate);
	assert_int_equal(r.deleted, 2);
	assert_int_equal(r.inserted, 2);
	assert_int_equal(r.n, 6);
	assert_int_equal(r.ops[0].kind, TDIFF_EQUAL);
	assert_int_equal(r.ops[1].kind, TDIFF_DELETE);
	assert_memory_equal(a + r.ops[1].off, "brown ", 6);
	assert_int_equal(r.ops[2].kind, TDIFF_INSERT);
	assert_memory_equal(b + r.ops[2].off, "red ", 4);
	assert_int_equal(r.ops[3].kind, TDIFF_EQUAL);
	assert_int_equal(r.ops[4].kind, TDIFF_DELETE);
	assert_memory_equal(a + r.ops[4].off, "dog.", 4);
	assert_int_equal(r.ops[5].kind, TDIFF_INSERT);
	assert_memory_equal(b + r.ops[5].off, "cat.", 4);
	check_script(a, b, &r, TDIFF_WORDS);
	tdiff_free(&r);
}

static void test_lines_and_empty(void **state)
{
	const char *a = "id,name\r\n1,alpha\r\n2,beta\r\n3,gamma\r\n";
	const char *b = "id,name\r\n1,alpha\r\n2,BETA\r\n3,gamma\r\n4,delta\r\n";
	struct tdiff_result r;

	(void)state;
	assert_int_equal(tdiff(a, strlen(a), b, strlen(b), TDIFF_LINES, 0, &r), ERR_OK);
	assert_int_equal(r.deleted, 1);
	assert_int_equal(r.inserted, 2);
	check_script(a, b, &r, TDIFF_LINES);
	tdiff_free(&r);
	assert_int_equal(tdiff("", 0, b, strlen(b), TDIFF_LINES, 0, &r), ERR_OK);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.inserted, 5);
	tdiff_free(&r);
	assert_int_equal(tdiff(a, strlen(a), "", 0, TDIFF_WORDS, 0, &r), ERR_OK);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.ops[0].kind, TDIFF_DELETE);
	tdiff_free(&r);
	assert_int_equal(tdiff("", 0, "", 0, TDIFF_WORDS, 0, &r), ERR_OK);
	assert_int_equal(r.n, 0);
	tdiff_free(&r);
}

static char *random_text(unsigned *seed, size_t words)
{
	static const char *const vocab[] = {"alpha", "beta", "gamma", "delta", "the", "of", "a"};
	char *s = calloc(1, words * 8 + 1);

	for (size_t i = 0; i < words; i++) {
		strcat(s, vocab[rand_r(seed) % 7]);
		strcat(s, rand_r(seed) % 5 ? " " : "\n");
	}
	return s;
}

static void test_random_edits_minimal_enough(void **state)
{
	unsigned seed = 17;

	(void)state;
	for (int round = 0; round < 200; round++) {
		char *a = random_text(&seed, (size_t)(rand_r(&seed) % 60)), *b;
		struct tdiff_result r;
		size_t max_d = round % 3 == 0 ? 3 : 0;

		b = random_text(&seed, (size_t)(rand_r(&seed) % 60));
		if (round % 2) { /* a few edits of a instead of an unrelated text */
			free(b);
			b = strdup(a);
			if (strlen(b) > 10)
				memcpy(b + strlen(b) / 2, "delta ", 6);
		}
		assert_int_equal(tdiff(a, strlen(a), b, strlen(b),
				       round % 4 ? TDIFF_WORDS : TDIFF_LINES, max_d, &r),
				 ERR_OK);
		check_script(a, b, &r, round % 4 ? TDIFF_WORDS : TDIFF_LINES);
		if (!r.approximate && max_d)
			assert_true(r.deleted + r.inserted <= max_d);
		tdiff_free(&r);
		free(a);
		free(b);
	}
}

static void test_cap_gives_approximate_script(void **state)
{
	const char *a = "a b c d e f g h i j";
	const char *b = "a x c y e z g w i v";
	struct tdiff_result r;

	(void)state;
	assert_int_equal(tdiff(a, strlen(a), b, strlen(b), TDIFF_WORDS, 4, &r), ERR_OK);
	assert_true(r.approximate);
	assert_int_equal(r.ops[0].kind, TDIFF_EQUAL); /* "a " kept */
	assert_int_equal(r.deleted, 9);
	assert_int_equal(r.inserted, 9);
	check_script(a, b, &r, TDIFF_WORDS);
	tdiff_free(&r);
	assert_int_equal(tdiff(a, strlen(a), b, strlen(b), TDIFF_WORDS, 10, &r), ERR_OK);
	assert_false(r.approximate);
	assert_int_equal(r.deleted, 5);
	assert_int_equal(r.inserted, 5);
	tdiff_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_lines_and_empty),
		cmocka_unit_test(test_random_edits_minimal_enough),
		cmocka_unit_test(test_cap_gives_approximate_script),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
