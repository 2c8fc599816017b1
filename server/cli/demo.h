/*
 * demo — the demo consortium behind `consort demo --data DIR`: an
 * invented EU project (EQUIGEN, equitable access to genomic medicine in
 * cancer care) with 40 partner institutions in 17 countries, 10 work
 * packages, a coordinator, a lead per work package, members at every
 * partner, grants that differ per work package, and a few real documents
 * per work package (eight formats, several versions each, written by
 * demodoc). Every name, institution and sentence is invented for it.
 *
 * The tables live in demo.c. This header gives them to the code that
 * creates the accounts and to the tests; demo_store_documents() writes
 * the documents through the store (cas + tree) exactly as uploads do.
 */
#ifndef CONSORT_DEMO_H
#define CONSORT_DEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct cas;
struct db;

#define DEMO_NPARTNERS 40
#define DEMO_NWPS 10

struct demo_partner {
	const char *short_name; /* also the e-mail domain: <short>.example */
	const char *name;
	const char *country; /* ISO 3166-1 alpha-2 */
};

struct demo_person {
	char name[64];  /* "Maria Rossi" */
	char email[96]; /* "maria.rossi@ilgp.example" */
	size_t partner; /* index into demo_partners */
	bool coordinator;
	int leads_wp; /* index of the WP this person leads, -1 */
};

/* level of a grant, as in the grants table: 1 read, 2 write, 3 manage */
struct demo_grant {
	size_t wp;
	bool to_partner; /* else to a person */
	size_t subject;  /* partner or person index */
	int level;
};

struct demo_wp {
	const char *code; /* "WP3" */
	const char *title;
	size_t lead_partner;
};

extern const struct demo_partner demo_partners[DEMO_NPARTNERS];
extern const struct demo_wp demo_wps[DEMO_NWPS];

/* The people of the consortium (derived from the tables on first use;
 * stable across runs). *n receives their number. */
const struct demo_person *demo_people(size_t *n);

/* The grants (derived likewise). */
const struct demo_grant *demo_grants(size_t *n);

/* Ids that the accounts part assigned. */
struct demo_ids {
	int64_t wp[DEMO_NWPS]; /* wps.id of each demo WP */
	const int64_t *person; /* users.id of each person (demo_people order) */
};

struct demo_stats {
	uint64_t documents, versions, bytes;
	unsigned formats; /* distinct formats written (bit per demodoc_format) */
};

/* Write every demo document of every work package, version by version,
 * each version dated as if uploaded over the project's past months (the
 * store's clock is shifted while it writes, then restored). Deliverables
 * move from draft to review to final with their versions. One
 * transaction per version, as a real upload. */
enum err demo_store_documents(struct db *db, struct cas *cas, const struct demo_ids *ids,
			      struct demo_stats *st);

/* Make the whole demo in `dir`, which must not exist or be empty:
 * data directory, accounts with random passwords (Argon2id-hashed),
 * work packages, grants (each recorded in the audit log), documents,
 * and DATA/demo-logins.txt (mode 0600) listing every login with its
 * password. On failure the directory is left as it is for inspection;
 * it is a new directory, so nothing else is touched. */
enum err demo_build(const char *dir, struct demo_stats *st);

/* `consort demo --data DIR`: demo_build, then the figures and the
 * coordinator's and WP leads' logins on stdout. Exit status. */
int demo_main(int argc, char **argv);

#endif
