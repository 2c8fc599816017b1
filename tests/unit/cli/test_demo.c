/* Unit tests for server/cli/demo.c: the demo consortium is what the issue
 * asks for (40 partners in 17 countries, 10 work packages, a
 * coordinator, a lead per work package, members everywhere, grants that
 * differ per work package), and its documents go through the store as
 * real uploads: every format, several versions, dated in the past,
 * deliverables with a status, and a store that fsck finds clean. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli/demo.h"
#include "cli/demodoc.h"
#include "maint.h"
#include "storage_fixture.h"

static void consortium_shape(void **state)
{
	size_t np, ng, coordinators = 0, leads[DEMO_NWPS] = {0}, per_partner[DEMO_NPARTNERS] = {0};
	const struct demo_person *p = demo_people(&np);
	const struct demo_grant *g = demo_grants(&ng);
	char countries[DEMO_NPARTNERS][3];
	size_t ncountries = 0;
	int level[DEMO_NWPS][DEMO_NPARTNERS] = {{0}};

	(void)state;
	for (size_t i = 0; i < DEMO_NPARTNERS; i++) {
		bool seen = false;

		for (size_t j = 0; j < i; j++)
			assert_true(
				strcmp(demo_partners[i].short_name, demo_partners[j].short_name));
		for (size_t c = 0; c < ncountries; c++)
			seen |= !strcmp(countries[c], demo_partners[i].country);
		if (!seen)
			snprintf(countries[ncountries++], 3, "%s", demo_partners[i].country);
	}
	assert_int_equal(ncountries, 17);

	assert_true(np >= 60);
	for (size_t i = 0; i < np; i++) {
		const char *at = strchr(p[i].email, '@');

		assert_non_null(at);
		for (const char *c = p[i].email; *c; c++)
			assert_true(*c > ' ' && *c < 0x7f); /* ASCII addresses */
		assert_non_null(strstr(at, ".example"));
		for (size_t j = 0; j < i; j++)
			assert_true(strcmp(p[i].email, p[j].email));
		coordinators += p[i].coordinator;
		if (p[i].leads_wp >= 0)
			leads[p[i].leads_wp]++;
		per_partner[p[i].partner]++;
	}
	assert_int_equal(coordinators, 1);
	for (size_t w = 0; w < DEMO_NWPS; w++)
		assert_int_equal(leads[w], 1);
	for (size_t i = 0; i < DEMO_NPARTNERS; i++)
		assert_true(per_partner[i] >= 1);
	/* e-mail local parts lose their accents: "Ondřej" → "ondrej" */
	for (size_t i = 0; i < np; i++)
		if (!strncmp(p[i].name, "Ondřej ", 8))
			assert_memory_equal(p[i].email, "ondrej.", 7);

	for (size_t i = 0; i < ng; i++) {
		assert_true(g[i].wp < DEMO_NWPS);
		assert_true(g[i].level >= 1 && g[i].level <= 3);
		if (g[i].to_partner)
			level[g[i].wp][g[i].subject] = g[i].level;
		else
			assert_true(g[i].subject < np);
	}
	/* Management is read by all, dissemination written by all, the
	 * evaluation WP closed to partners but its lead; technical WPs each
	 * with their own set of partners. */
	for (size_t i = 0; i < DEMO_NPARTNERS; i++) {
		assert_true(level[0][i] >= 1);
		assert_true(level[1][i] >= 2);
		assert_int_equal(level[9][i], i == demo_wps[9].lead_partner ? 2 : 0);
	}
	for (size_t a = 2; a < 9; a++)
		for (size_t b = a + 1; b < 9; b++)
			assert_true(memcmp(level[a], level[b], sizeof level[a]) != 0);
}

static void report(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "fsck: %s\n", line);
}

static void documents_through_the_store(void **state)
{
	struct fx *f = *state;
	struct demo_ids ids;
	struct demo_stats st;
	size_t np;
	int64_t *person;
	struct maint_fsck_stats fs;
	int64_t now = db_now();

	demo_people(&np);
	person = calloc(np, sizeof *person);
	for (size_t i = 0; i < np; i++)
		person[i] = i % 2 ? f->bob : f->alice;
	ids.person = person;
	ids.wp[0] = f->wp;
	for (size_t w = 1; w < DEMO_NWPS; w++)
		ids.wp[w] = fx_add_wp(f, demo_wps[w].code);

	assert_int_equal(demo_store_documents(f->db, f->cas, &ids, &st), ERR_OK);
	assert_true(st.documents >= 3 * DEMO_NWPS);
	assert_true(st.versions >= 2 * st.documents);
	assert_int_equal(st.formats, (1u << DEMODOC__COUNT) - 1);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM nodes WHERE is_folder = 0"),
			 (int64_t)st.documents);
	assert_int_equal(fx_int(f, "SELECT count(*) FROM versions"), (int64_t)st.versions);
	/* every WP has documents, each with at least two versions */
	assert_int_equal(fx_int(f, "SELECT count(DISTINCT wp_id) FROM nodes WHERE is_folder = 0"),
			 DEMO_NWPS);
	assert_int_equal(fx_int(f, "SELECT min(current_version) FROM nodes WHERE is_folder = 0"),
			 2);
	/* uploads spread over the past months, none in the future */
	assert_true(fx_int(f, "SELECT max(uploaded_at) FROM versions") < now);
	assert_true(fx_int(f, "SELECT min(uploaded_at) FROM versions") > now - 300 * 86400);
	assert_true(fx_int(f, "SELECT max(uploaded_at) - min(uploaded_at) FROM versions") >
		    150 * 86400);
	/* dated relative to the day it is made: the home page's "last two
	 * weeks" has changes in it (issue 14) */
	assert_true(fx_int(f, "SELECT count(*) FROM versions WHERE uploaded_at > strftime('%s', "
			      "'now') - 14 * 86400") >= 5);
	assert_true(fx_int(f, "SELECT count(DISTINCT n.wp_id) FROM versions v JOIN nodes n "
			      "ON n.id = v.node_id WHERE v.uploaded_at > strftime('%s', 'now') - "
			      "14 * 86400") >= 3);
	/* deliverables: final after three versions, in review after two */
	assert_int_equal(fx_int(f, "SELECT count(*) FROM nodes WHERE deliverable IS NOT NULL"), 10);
	assert_true(fx_int(f, "SELECT count(*) FROM nodes WHERE status = 'final'") >= 6);
	assert_true(fx_int(f, "SELECT count(*) FROM nodes WHERE status = 'review'") >= 1);
	/* MIME types as the formats say */
	assert_true(fx_int(f, "SELECT count(*) FROM versions WHERE mime = 'application/pdf'") >= 6);
	/* the clock is back */
	assert_true(db_now() >= now);

	assert_int_equal(maint_fsck(f->dir, true, report, NULL, &fs), ERR_OK);
	assert_int_equal(fs.problems, 0);
	assert_int_equal(fs.versions, st.versions);
	free(person);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(consortium_shape),
		cmocka_unit_test_setup_teardown(documents_through_the_store, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
