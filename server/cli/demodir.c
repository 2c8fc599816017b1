/* demodir — see demodir.h. Every name and sentence here is invented. */
#include "cli/demodir.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/demo.h"
#include "audit.h"
#include "db.h"
#include "directory.h"
#include "name.h"
#include "tree.h"

#define DAY 86400

const struct demo_partner_entry demo_partner_entries[DEMO_NPARTNERS] = {
	{"public_health", "Leuven", "coordinator"},
	{"university", "Ghent", "beneficiary"},
	{"university", "Frankfurt am Main", "beneficiary"},
	{"hospital", "Oldenburg", "beneficiary"},
	{"public_health", "Potsdam", "beneficiary"},
	{"cancer_centre", "Dresden", "beneficiary"},
	{"university", "Milan", "beneficiary"},
	{"university", "Pavia", "beneficiary"},
	{"cancer_centre", "Pisa", "beneficiary"},
	{"university", "Palermo", "affiliated"},
	{"patient_org", "Madrid", "beneficiary"},
	{"hospital", "Cádiz", "beneficiary"},
	{"university", "Valencia", "beneficiary"},
	{"university", "Santander", "beneficiary"},
	{"university", "Nantes", "beneficiary"},
	{"cancer_centre", "Grenoble", "beneficiary"},
	{"public_health", "Boulogne-sur-Mer", "beneficiary"},
	{"university", "Groningen", "beneficiary"},
	{"cancer_centre", "Rotterdam", "beneficiary"},
	{"public_health", "Leiden", "beneficiary"},
	{"hospital", "Innsbruck", "beneficiary"},
	{"university", "Vienna", "beneficiary"},
	{"cancer_centre", "Gdańsk", "beneficiary"},
	{"university", "Szczecin", "beneficiary"},
	{"university", "Porto", "beneficiary"},
	{"hospital", "Braga", "beneficiary"},
	{"public_health", "Athens", "beneficiary"},
	{"hospital", "Heraklion", "affiliated"},
	{"university", "Brno", "beneficiary"},
	{"hospital", "Hradec Králové", "beneficiary"},
	{"university", "Esbjerg", "beneficiary"},
	{"hospital", "Aarhus", "beneficiary"},
	{"university", "Joensuu", "beneficiary"},
	{"public_health", "Lappeenranta", "beneficiary"},
	{"university", "Pécs", "beneficiary"},
	{"hospital", "Esztergom", "beneficiary"},
	{"university", "Galway", "associated"},
	{"public_health", "Limerick", "beneficiary"},
	{"university", "Kaunas", "associated"},
	{"company", "Tartu", "associated"},
};

static const char *const descriptions[] = {
	"Coordinates EQUIGEN: project office, finances and the link to the funding agency.",
	"A network of clinical genetics centres across Flanders.",
};

struct demo_news {
	int days; /* relative to the day the demo is made */
	const char *title, *body;
};

static const struct demo_news news[] = {
	{-330, "EQUIGEN starts: kick-off in Leuven",
	 "Forty partners from seventeen countries met in **Leuven** for the kick-off of "
	 "EQUIGEN.\n\nThe work packages presented their first-year plans; the minutes are in "
	 "[WP1 meetings](/#/wp/WP1/Meetings)."},
	{-250, "Website and newsletter launched",
	 "The project's public site is online, and the first newsletter went to 1,200 "
	 "subscribers. Partners can find the visual identity in WP2."},
	{-180, "First General Assembly in Rome",
	 "The consortium met in Rome for its first General Assembly.\n\n- progress of every "
	 "work package\n- the data management plan\n- the first stakeholder session"},
	{-120, "EQUIGEN at the European Human Genetics Conference",
	 "WP3 presented the germline testing survey as a poster; the slides are in WP3."},
	{-60, "Stakeholder session on equitable access",
	 "Patient organisations, payers and clinicians discussed access to genomic testing. "
	 "A summary will follow in the next newsletter."},
	{-20, "Deliverable D4.1 submitted",
	 "The laboratory quality framework (D4.1) was submitted to the funding agency on time."},
	{-3, "Call for abstracts: annual conference",
	 "Partners are invited to submit abstracts for the project's annual conference. "
	 "Contact the communication team."},
	{-300, "Data management plan agreed",
	 "The consortium agreed its data management plan (D1.2): how genomic data is stored, "
	 "shared and protected in every work package."},
	{-210, "Second newsletter: the genetics of equity",
	 "The second newsletter features WP5's mapping of access to genomic testing across "
	 "seventeen countries."},
	{-150, "Ethics advisory board appointed",
	 "Five independent experts in bioethics, law and patient advocacy now advise the "
	 "consortium; WP6 coordinates their work."},
	{-90, "Training school on variant interpretation",
	 "Thirty early-career researchers attended WP8's first training school in Brno. The "
	 "teaching material is in WP8."},
	{-40, "Mid-term review passed",
	 "The funding agency's reviewers found the project on track. Thanks to every partner "
	 "for the reports."},
};

struct demo_event {
	int days, start_hour, hours, span_days;
	const char *title, *tz, *place, *online, *folder;
	int internal;
	int wp; /* index of a linked WP, -1 */
};

static const struct demo_event events[] = {
	{-330, 9, 8, 1, "Kick-off meeting", "Europe/Brussels", "Leuven, University Hall", "",
	 "Meetings/Kick-off", 1, -1},
	{-180, 9, 8, 1, "General Assembly Meeting", "Europe/Rome", "Rome", "",
	 "Meetings/General Assembly 1", 1, -1},
	{-60, 14, 2, 0, "Stakeholder session: equitable access to genomic testing",
	 "Europe/Brussels", "", "https://meet.example/equigen-stakeholders", "", 0, -1},
	{12, 10, 3, 0, "WP3 workshop on polygenic risk scores", "Europe/Berlin", "",
	 "https://meet.example/equigen-wp3", "", 1, 2},
	{30, 9, 9, 2, "European Human Genetics Conference (EQUIGEN symposium)", "Europe/Vienna",
	 "Vienna, Austria Center", "", "", 0, -1},
	{75, 9, 8, 1, "General Assembly Meeting", "Europe/Lisbon", "Porto", "",
	 "Meetings/General Assembly 2", 1, -1},
	{-270, 10, 2, 0, "Steering committee call", "Europe/Brussels", "",
	 "https://meet.example/equigen-steering", "Meetings/Steering committee", 1, -1},
	{-120, 9, 8, 2, "European Human Genetics Conference (poster session)", "Europe/Paris",
	 "Paris, Palais des Congrès", "", "", 0, -1},
	{-90, 9, 7, 2, "Training school on variant interpretation", "Europe/Prague", "Brno", "", "",
	 1, 7},
	{-10, 14, 2, 0, "Ethics advisory board meeting", "Europe/Brussels", "",
	 "https://meet.example/equigen-ethics", "", 1, 5},
	{5, 11, 1, 0, "Communication contacts' monthly call", "Europe/Rome", "",
	 "https://meet.example/equigen-comms", "", 1, 1},
	{45, 13, 3, 0, "Stakeholder session: payers and health technology assessment",
	 "Europe/Madrid", "Madrid", "", "", 0, -1},
};

static enum err people_roles(struct db *db, const struct demo_ids *ids)
{
	size_t np;
	const struct demo_person *ppl = demo_people(&np);
	bool office_done = false;
	enum err rc = ERR_OK;

	for (size_t i = 0; i < np && !rc; i++) {
		const char *roles[3];
		size_t n = 0;
		char lead[16], line[160] = "";

		if (ppl[i].coordinator) {
			roles[n++] = "Project coordinator";
			snprintf(line, sizeof line, "Project coordinator");
		} else if (ppl[i].partner == 0 && ppl[i].leads_wp < 0 && !office_done) {
			roles[n++] = "Project management";
			snprintf(line, sizeof line, "Project officer");
			office_done = true;
		}
		if (ppl[i].leads_wp >= 0) {
			snprintf(lead, sizeof lead, "%s lead", demo_wps[ppl[i].leads_wp].code);
			if (ppl[i].leads_wp == 0)
				roles[n++] = "Project management";
			if (ppl[i].leads_wp == 1)
				roles[n++] = "Communication";
			roles[n++] = lead;
			snprintf(line, sizeof line, "Leads %s: %s", demo_wps[ppl[i].leads_wp].code,
				 demo_wps[ppl[i].leads_wp].title);
		}
		if (n)
			rc = dir_person_set(db, ids->person[i], line, roles, n);
	}
	return rc;
}

static enum err add_events(struct db *db, const struct demo_ids *ids, int64_t author, int64_t today)
{
	enum err rc = ERR_OK;

	for (size_t i = 0; i < sizeof events / sizeof events[0] && !rc; i++) {
		const struct demo_event *e = &events[i];
		struct dir_event ev = {0};
		struct name_path np = {0};
		int64_t wp_id, id = 0;
		char detail[48];

		ev.title = (char *)e->title;
		ev.tz = (char *)e->tz;
		ev.place = (char *)e->place;
		ev.online_url = (char *)e->online;
		ev.internal = e->internal;
		/* hours in UTC, near enough to the local morning */
		ev.starts_at = today + (int64_t)e->days * DAY + (int64_t)(e->start_hour - 1) * 3600;
		ev.ends_at = ev.starts_at + (int64_t)e->span_days * DAY + (int64_t)e->hours * 3600;
		if (e->wp >= 0) {
			wp_id = ids->wp[e->wp];
			ev.wp_ids = &wp_id;
			ev.nwps = 1;
		}
		if (*e->folder) {
			rc = name_path_from_text(e->folder, &np);
			if (!rc)
				rc = tree_mkdir(db, ids->wp[0], &np, author, true, NULL);
			ev.folder_wp_id = ids->wp[0];
			ev.folder_path = (char *)e->folder;
			name_path_free(&np);
		}
		if (!rc)
			rc = dir_event_add(db, &ev, author, &id);
		/* its event row, as h_directory.c writes it: the home feed
		 * and digests tell it (docs/notifications.md) */
		snprintf(detail, sizeof detail, "event %" PRId64, id);
		if (!rc)
			rc = audit_append(db, author, "", "", "event_create", ev.folder_wp_id,
					  ev.title, detail);
	}
	return rc;
}

enum err demo_store_directory(struct db *db, const struct demo_ids *ids)
{
	size_t np;
	const struct demo_person *ppl = demo_people(&np);
	int64_t now = db_now(), today = now - now % DAY, comms = 0, id = 0;
	char detail[48];
	enum err rc;

	for (size_t i = 0; i < np; i++)
		if (ppl[i].leads_wp == 1)
			comms = ids->person[i];
	rc = db_begin(db);
	for (size_t i = 0; i < DEMO_NPARTNERS && !rc; i++) {
		struct dir_partner_change ch = {
			.type = demo_partner_entries[i].type,
			.role = demo_partner_entries[i].role,
			.city = demo_partner_entries[i].city,
			.description = i < sizeof descriptions / sizeof descriptions[0]
					       ? descriptions[i]
					       : NULL,
		};
		char site[64], dom[16];
		size_t k = 0;

		for (const char *p = demo_partners[i].short_name; *p && k + 1 < sizeof dom; p++)
			dom[k++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
		dom[k] = '\0';
		snprintf(site, sizeof site, "https://www.%s.example", dom);
		ch.website = site;
		rc = dir_partner_update(db, demo_partners[i].short_name, &ch);
	}
	if (!rc)
		rc = people_roles(db, ids);
	/* News items are dated by the store's clock: shift it for each. */
	for (size_t i = 0; i < sizeof news / sizeof news[0] && !rc; i++) {
		db_clock_offset((int64_t)news[i].days * DAY);
		rc = dir_news_add(db, news[i].title, news[i].body, comms, 0, &id);
		snprintf(detail, sizeof detail, "news %" PRId64, id);
		if (!rc)
			rc = audit_append(db, comms, "", "", "news_create", 0, news[i].title,
					  detail);
		db_clock_offset(0);
	}
	if (!rc)
		rc = add_events(db, ids, comms, today);
	if (!rc)
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
	return rc;
}
