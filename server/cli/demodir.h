/*
 * demodir — the demo consortium's own pages: every partner's type, city
 * and role, people's role lines and contact roles (coordinator, project
 * management, communication, WP leads), and a dozen news items and
 * events around the project's life (kick-off, general assemblies,
 * stakeholder sessions, conferences), dated relative to the day the demo
 * is made so that home has news and upcoming events. Invented, like
 * the rest of the demo.
 */
#ifndef CONSORT_DEMODIR_H
#define CONSORT_DEMODIR_H

#include "err.h"

struct db;
struct demo_ids;

/* Partner types and cities, one per demo partner (demo_partners order). */
struct demo_partner_entry {
	const char *type, *city, *role;
};
extern const struct demo_partner_entry demo_partner_entries[];

/* Write the directory fields, news and events; events with a folder
 * get it in WP1 (Meetings/...). One transaction. */
enum err demo_store_directory(struct db *db, const struct demo_ids *ids);

#endif
