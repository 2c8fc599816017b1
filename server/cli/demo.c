/* demo — see demo.h. Everything in these tables is invented. */
#include "cli/demo.h"

#include <ctype.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "accounts.h"
#include "audit.h"
#include "api/auth.h"
#include "cas.h"
#include "db.h"
#include "cli/demodir.h"
#include "cli/demodoc.h"
#include "digest.h"
#include "api/mime.h"
#include "name.h"
#include "api/app.h"
#include "tree.h"

/* --- partners ------------------------------------------------------------------------ */

/* Partner 0 coordinates the project. */
const struct demo_partner demo_partners[DEMO_NPARTNERS] = {
	{"BCHP", "Brabant Centre for Health Policy", "BE"},
	{"FLGEN", "Flanders Genome Medicine Network", "BE"},
	{"RMICG", "Rhein-Main Institute for Cancer Genomics", "DE"},
	{"UKNW", "Universitätsklinikum Nordwest", "DE"},
	{"HIPH", "Havel Institute for Population Health", "DE"},
	{"SZKS", "Sächsisches Zentrum für Klinische Sequenzierung", "DE"},
	{"ILGP", "Istituto Lombardo di Genomica e Prevenzione", "IT"},
	{"UPAD", "Università Padana, Dipartimento di Medicina", "IT"},
	{"CROT", "Centro Ricerche Oncologiche del Tirreno", "IT"},
	{"ISMB", "Istituto Siciliano di Medicina Biomolecolare", "IT"},
	{"FIGC", "Fundación Ibérica de Genómica Clínica", "ES"},
	{"HUCL", "Hospital Universitario Costa de la Luz", "ES"},
	{"IIMED", "Instituto de Investigación Biomédica del Mediterráneo", "ES"},
	{"UDCAN", "Universidad del Cantábrico", "ES"},
	{"IGPO", "Institut de Génomique des Pays de l'Ouest", "FR"},
	{"CHRA", "Centre Hospitalier Régional Alpin", "FR"},
	{"ESSL", "École de Santé Publique du Littoral", "FR"},
	{"NKPG", "Noordelijk Kenniscentrum voor Precisiegeneeskunde", "NL"},
	{"UMCD", "Universitair Medisch Centrum Delta", "NL"},
	{"RIVG", "Rijnland Instituut voor Volksgezondheid", "NL"},
	{"AKGD", "Alpenländisches Kompetenzzentrum für Genetische Diagnostik", "AT"},
	{"MUDO", "Medizinische Universität Donau-Ost", "AT"},
	{"WIOG", "Wiślański Instytut Onkologii i Genetyki", "PL"},
	{"UMPC", "Uniwersytet Medyczny Pomorza Środkowego", "PL"},
	{"ISGA", "Instituto de Saúde Genómica do Atlântico", "PT"},
	{"CHUMS", "Centro Hospitalar Universitário do Minho Sul", "PT"},
	{"IHGE", "Hellenic Institute of Genomic Epidemiology", "GR"},
	{"UHAE", "University Hospital of the Aegean", "GR"},
	{"MCGB", "Moravian Centre for Genomic Biomedicine", "CZ"},
	{"FNVC", "Fakultní nemocnice Východní Čechy", "CZ"},
	{"NSGI", "North Sea Genome Institute", "DK"},
	{"JUH", "Jutland University Hospital", "DK"},
	{"KGRC", "Karelia Genome Research Centre", "FI"},
	{"SHDI", "Saimaa Health Data Institute", "FI"},
	{"PGKI", "Pannon Genomikai Kutatóintézet", "HU"},
	{"DKEK", "Dunakanyar Egyetemi Klinika", "HU"},
	{"ACGH", "Atlantic Centre for Genomic Health", "IE"},
	{"SIHE", "Shannon Institute for Health Economics", "IE"},
	{"NVGC", "Nemunas Valley Genetics Centre", "LT"},
	{"BGDB", "Baltic Genome Data Bureau", "EE"},
};

/* --- people ---------------------------------------------------------------------------- */

/* Given and family names by country; people are drawn from these in
 * turn, so each partner gets plausible colleagues. Given names alternate
 * female and male, and so do family names where the language marks it
 * (Polish, Czech, Greek, Lithuanian): a person's family name is taken at
 * an index of the same parity. ASCII spellings for e-mail addresses are
 * derived below. */
static const struct {
	const char *country;
	const char *given[6];
	const char *family[6];
} name_pool[] = {
	{"BE",
	 {"Lotte", "Pieter", "Amélie", "Jonas", "Nora", "Thibault"},
	 {"Peeters", "Janssens", "Dubois", "Maes", "Lambert", "Claes"}},
	{"DE",
	 {"Katrin", "Jonas", "Miriam", "Felix", "Sabine", "Lukas"},
	 {"Becker", "Hoffmann", "Schäfer", "Krüger", "Wagner", "Lehmann"}},
	{"IT",
	 {"Giulia", "Marco", "Chiara", "Lorenzo", "Elena", "Davide"},
	 {"Rossi", "Bianchi", "Esposito", "Ferrari", "Colombo", "Ricci"}},
	{"ES",
	 {"Lucía", "Javier", "Marta", "Álvaro", "Carmen", "Pablo"},
	 {"García", "Fernández", "López", "Martín", "Navarro", "Ruiz"}},
	{"FR",
	 {"Camille", "Julien", "Élodie", "Mathieu", "Claire", "Hugo"},
	 {"Martin", "Bernard", "Lefèvre", "Moreau", "Girard", "Fournier"}},
	{"NL",
	 {"Sanne", "Daan", "Femke", "Bram", "Anouk", "Joost"},
	 {"de Vries", "Jansen", "Bakker", "Visser", "Smit", "Mulder"}},
	{"AT",
	 {"Verena", "Matthias", "Theresa", "Florian", "Johanna", "Stefan"},
	 {"Gruber", "Huber", "Bauer", "Pichler", "Steiner", "Moser"}},
	{"PL",
	 {"Agnieszka", "Piotr", "Katarzyna", "Tomasz", "Magdalena", "Paweł"},
	 {"Kowalska", "Nowak", "Wiśniewska", "Lewandowski", "Zielińska", "Kamiński"}},
	{"PT",
	 {"Inês", "João", "Beatriz", "Tiago", "Mariana", "Rui"},
	 {"Silva", "Santos", "Ferreira", "Pereira", "Costa", "Sousa"}},
	{"GR",
	 {"Eleni", "Nikos", "Maria", "Giorgos", "Katerina", "Dimitris"},
	 {"Papadopoulou", "Georgiou", "Nikolaidou", "Karagiannis", "Vlachou", "Oikonomou"}},
	{"CZ",
	 {"Tereza", "Jakub", "Lucie", "Ondřej", "Petra", "Martin"},
	 {"Novotná", "Dvořák", "Černá", "Procházka", "Veselá", "Kučera"}},
	{"DK",
	 {"Mette", "Rasmus", "Sofie", "Mikkel", "Ida", "Anders"},
	 {"Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Larsen"}},
	{"FI",
	 {"Aino", "Mikko", "Laura", "Juho", "Emmi", "Ville"},
	 {"Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Heikkinen", "Laine"}},
	{"HU",
	 {"Eszter", "Bence", "Zsófia", "Máté", "Réka", "Dániel"},
	 {"Nagy", "Kovács", "Tóth", "Szabó", "Horváth", "Varga"}},
	{"IE",
	 {"Aoife", "Cian", "Niamh", "Darragh", "Siobhán", "Eoin"},
	 {"Murphy", "O'Brien", "Kelly", "Walsh", "Byrne", "Ryan"}},
	{"LT",
	 {"Rūta", "Mantas", "Ieva", "Tomas", "Gintarė", "Lukas"},
	 {"Kazlauskaitė", "Petrauskas", "Jankauskienė", "Stankevičius", "Vasiliauskaitė",
	  "Žukauskas"}},
	{"EE",
	 {"Kadri", "Mart", "Liis", "Rasmus", "Triin", "Karl"},
	 {"Tamm", "Saar", "Sepp", "Mägi", "Kask", "Kukk"}},
};

/* --- work packages ---------------------------------------------------------------------- */

const struct demo_wp demo_wps[DEMO_NWPS] = {
	{"WP1", "Project management and coordination", 0},
	{"WP2", "Dissemination, communication and exploitation", 1},
	{"WP3", "Genomics in cancer prevention", 6},
	{"WP4", "Genomic diagnostics and laboratory quality", 2},
	{"WP5", "Equitable access to treatment", 10},
	{"WP6", "Ethical, legal and social aspects", 17},
	{"WP7", "Data infrastructure and interoperability", 30},
	{"WP8", "Training and capacity building", 21},
	{"WP9", "Health economics and sustainability", 37},
	{"WP10", "Evaluation and quality assurance", 26},
};

/* Partners contributing to each technical work package (write access);
 * a few more follow it read-only. Partner indices into demo_partners. */
static const struct {
	size_t wp;
	int writers[12]; /* -1 ends */
	int readers[8];
} wp_members[] = {
	{2, {6, 7, 8, 14, 18, 24, 28, 32, 36, -1}, {0, 26, 37, -1}},
	{3, {2, 3, 5, 9, 15, 20, 22, 29, 30, 34, -1}, {0, 6, -1}},
	{4, {10, 11, 12, 13, 16, 23, 25, 27, 35, 38, -1}, {0, 37, 19, -1}},
	{5, {17, 19, 4, 21, 31, 33, 39, -1}, {0, 1, 10, -1}},
	{6, {30, 31, 32, 33, 39, 4, 18, 12, -1}, {0, 2, 17, -1}},
	{7, {21, 20, 1, 16, 22, 26, 38, 9, -1}, {0, 3, -1}},
	{8, {37, 36, 16, 19, 25, 34, 11, -1}, {0, 10, 26, -1}},
};

/* --- what each work package writes about ------------------------------------------------ */

struct topic {
	const char *focus;  /* noun phrase */
	const char *aim;    /* one sentence */
	const char *method; /* one sentence */
	const char *finding[3];
	const char *next;
	const char *measure; /* what the data tables count */
};

static const struct topic topics[DEMO_NWPS] = {
	{"the coordination of the EQUIGEN consortium",
	 "Work package 1 keeps the consortium on schedule and within budget, and gives the "
	 "Steering Committee what it needs to decide.",
	 "Progress is collected from every work package lead each quarter through a shared "
	 "template and checked against the milestones of the grant agreement.",
	 {"All milestones due so far were reached; two deliverables were submitted late by less "
	  "than a month, with the agreement of the project officer.",
	  "Spending follows the plan within seven per cent at consortium level; three partners "
	  "are below half of their planned person-months and agreed a recovery plan.",
	  "The risk register lists eleven risks, of which two (recruitment of laboratories and "
	  "access to reimbursement data) are rated high."},
	 "Prepare the first periodic report and the amendment for the change of two "
	 "beneficiaries' contact persons.",
	 "person-months"},
	{"how the results of EQUIGEN reach patients, professionals and policy makers",
	 "Work package 2 makes the project's results known and usable beyond the consortium.",
	 "Audiences were mapped with each work package, and every output is registered with its "
	 "audience, channel and date.",
	 {"The website counted a steady rise in visits after each newsletter, most of them from "
	  "the partner countries.",
	  "Policy briefs were the format most requested by national ministries in the survey of "
	  "stakeholders.",
	  "Twelve peer-reviewed articles are in preparation; all will be published open access."},
	 "Publish the second newsletter and the policy brief on cascade testing.",
	 "outputs"},
	{"genomics in cancer prevention",
	 "Work package 3 describes how genomic information is used to prevent hereditary "
	 "cancers, from identifying carriers to testing their relatives.",
	 "A structured survey of national programmes was completed by a reference centre in each "
	 "participating country, followed by interviews on the pathways of cascade testing.",
	 {"Cascade testing of relatives is offered in all countries surveyed, but only a few "
	  "contact relatives actively on the patient's behalf.",
	  "Uptake of testing among first-degree relatives varies between a quarter and two "
	  "thirds, depending mostly on who informs the family.",
	  "Population screening for hereditary breast and ovarian cancer is piloted in three "
	  "countries and discussed in four more."},
	 "Draft recommendations for family communication and discuss them at the workshop in "
	 "month 14.",
	 "centres"},
	{"genomic diagnostics and the quality of laboratory testing",
	 "Work package 4 compares how tumour and germline genomic tests are performed and "
	 "reported, and proposes shared quality indicators.",
	 "Laboratories reported turnaround times, panel sizes and participation in external "
	 "quality assessment for a common set of test types.",
	 {"Median turnaround time for somatic panel testing ranges from nine to twenty-four "
	  "working days.",
	  "Almost all laboratories take part in an external quality assessment scheme, but "
	  "reporting of variants of uncertain significance differs widely.",
	  "Laboratories with a molecular tumour board return reports faster and with more "
	  "actionable recommendations."},
	 "Agree on five quality indicators and pilot them in six laboratories.",
	 "laboratories"},
	{"equitable access to genomically guided treatment",
	 "Work package 5 maps where patients can receive targeted therapies that depend on a "
	 "genomic test, and what stands in the way.",
	 "Reimbursement rules, waiting times and distances to treating centres were collected "
	 "for a reference list of targeted medicines.",
	 {"The reference medicines are reimbursed in most countries, but the companion test is "
	  "paid separately in only half of them.",
	  "Patients outside the capital regions travel markedly further to a treating centre.",
	  "Early access programmes exist in several countries and are rarely known to "
	  "patients."},
	 "Complete the survey for the remaining countries and prepare the access index.",
	 "medicines"},
	{"the ethical, legal and social aspects of genomic medicine",
	 "Work package 6 examines consent, data protection and the return of results when "
	 "genomic data are used in care and research.",
	 "National legislation and guidance were mapped with a common grid and discussed in "
	 "focus groups with patients and professionals.",
	 {"Broad consent for research use of clinical genomic data is accepted in most "
	  "countries surveyed, with differing conditions.",
	  "Rules for informing relatives about a hereditary risk range from a duty to inform "
	  "to a strict prohibition without the patient's consent.",
	  "Patients asked above all for clear information on who can see their data."},
	 "Submit the consent model to the Ethics Advisory Board.",
	 "provisions"},
	{"the data infrastructure and its interoperability",
	 "Work package 7 builds the federated infrastructure through which partners analyse "
	 "genomic and clinical data without moving them.",
	 "Each node describes its data with the common model; analyses are sent to the nodes "
	 "and only aggregate results come back.",
	 {"Seven nodes run the common data model; three more are being installed.",
	  "Mapping of local codes to the common vocabularies is the most time-consuming step.",
	  "A test federated analysis returned identical results to a pooled analysis of "
	  "synthetic data."},
	 "Open the infrastructure to the analyses planned in work packages 3 and 5.",
	 "nodes"},
	{"training and capacity building",
	 "Work package 8 trains health professionals to use genomic information in everyday "
	 "care.",
	 "A curriculum was designed with professional societies, delivered as webinars and "
	 "hands-on courses, and evaluated by the participants.",
	 {"Demand is highest among oncologists and general practitioners.",
	  "Participants rated the case-based sessions as the most useful.",
	  "Course materials are being translated into six languages."},
	 "Run the second series of courses and certify the trainers.",
	 "participants"},
	{"the costs and the sustainability of genomic medicine",
	 "Work package 9 estimates what genomic testing and its consequences cost health "
	 "systems, and how the results of the project can be financed after it ends.",
	 "A cost model combines test prices, treatment costs and the outcomes reported by work "
	 "packages 3 to 5.",
	 {"The cost per test has fallen, but the cost of counselling and follow-up now "
	  "dominates.",
	  "Cascade testing of relatives is the intervention with the most favourable ratio of "
	  "cost to health gain in the model.",
	  "Sustainable funding requires the companion test to be reimbursed with the medicine."},
	 "Validate the model inputs with the national payers.",
	 "euros per test"},
	{"the evaluation of the project and the quality of its work",
	 "Work package 10 evaluates whether EQUIGEN reaches its objectives and reviews the "
	 "quality of its deliverables.",
	 "Key performance indicators are tracked every six months; each deliverable is reviewed "
	 "by two partners outside the work package before submission.",
	 {"Eighteen of twenty-two indicators are on track.",
	  "Reviewers asked most often for clearer executive summaries.",
	  "Partners reported good collaboration but too many meetings."},
	 "Prepare the mid-term evaluation report.",
	 "indicators"},
};

/* --- the documents of each work package ------------------------------------------------- */

enum doc_kind { K_REPORT, K_MINUTES, K_PLAN, K_DATA };

struct doc_spec {
	size_t wp;
	const char *path;        /* without extension */
	const char *deliverable; /* NULL: none */
	enum demodoc_format fmt;
	enum doc_kind kind;
	unsigned versions;
};

static const struct doc_spec docs[] = {
	{0, "Reporting/D1.1 Periodic report 1", "D1.1", DEMODOC_PDF, K_REPORT, 3},
	{0, "Meetings/Kick-off meeting minutes", NULL, DEMODOC_DOCX, K_MINUTES, 2},
	{0, "Budget/Person-months by partner", NULL, DEMODOC_XLSX, K_DATA, 3},
	{0, "Consortium agreement summary", NULL, DEMODOC_MD, K_REPORT, 2},
	{1, "D2.1 Dissemination plan", "D2.1", DEMODOC_ODT, K_REPORT, 3},
	{1, "Publications and outputs", NULL, DEMODOC_CSV, K_DATA, 4},
	{1, "Website/Newsletter 01", NULL, DEMODOC_HTML, K_REPORT, 2},
	{2, "Deliverables/D3.1 Cascade testing pathways", "D3.1", DEMODOC_DOCX, K_REPORT, 3},
	{2, "Survey/Prevention programmes by country", NULL, DEMODOC_XLSX, K_DATA, 2},
	{2, "Workshops/Family communication workshop notes", NULL, DEMODOC_MD, K_MINUTES, 2},
	{3, "Deliverables/D4.1 Laboratory quality indicators", "D4.1", DEMODOC_PDF, K_REPORT, 3},
	{3, "Data/Turnaround times", NULL, DEMODOC_CSV, K_DATA, 3},
	{3, "Task plan", NULL, DEMODOC_ODT, K_PLAN, 2},
	{4, "Deliverables/D5.1 Access to targeted therapies", "D5.1", DEMODOC_DOCX, K_REPORT, 3},
	{4, "Survey/Reimbursement survey", NULL, DEMODOC_XLSX, K_DATA, 3},
	{4, "Meetings/Patient organisations meeting", NULL, DEMODOC_TXT, K_MINUTES, 2},
	{5, "D6.1 Consent models for genomic data", "D6.1", DEMODOC_ODT, K_REPORT, 3},
	{5, "Legal mapping", NULL, DEMODOC_CSV, K_DATA, 2},
	{5, "Ethics Advisory Board/Minutes of the first meeting", NULL, DEMODOC_PDF, K_MINUTES, 2},
	{6, "D7.1 Data model and interoperability", "D7.1", DEMODOC_MD, K_REPORT, 3},
	{6, "Nodes/Node inventory", NULL, DEMODOC_XLSX, K_DATA, 2},
	{6, "Architecture review", NULL, DEMODOC_HTML, K_REPORT, 2},
	{7, "D8.1 Training curriculum", "D8.1", DEMODOC_DOCX, K_REPORT, 2},
	{7, "Courses/Course attendance", NULL, DEMODOC_CSV, K_DATA, 3},
	{7, "Courses/Webinar schedule", NULL, DEMODOC_ODT, K_PLAN, 2},
	{8, "D9.1 Cost of genomic testing", "D9.1", DEMODOC_PDF, K_REPORT, 3},
	{8, "Model/Cost model inputs", NULL, DEMODOC_XLSX, K_DATA, 3},
	{8, "Sustainability workshop", NULL, DEMODOC_MD, K_MINUTES, 2},
	{9, "D10.1 Evaluation framework", "D10.1", DEMODOC_DOCX, K_REPORT, 2},
	{9, "KPI dashboard", NULL, DEMODOC_CSV, K_DATA, 3},
	{9, "Reviews/Review meeting minutes", NULL, DEMODOC_TXT, K_MINUTES, 2},
};

#define NDOCS (sizeof docs / sizeof docs[0])

static const char *const version_comments[] = {
	"first draft",
	"comments from the partners merged",
	"final version after internal review",
	"figures updated with the month 12 data",
};

/* --- people and grants, derived once --------------------------------------------------- */

#define MAX_PEOPLE 128
#define MAX_GRANTS 256

static struct demo_person people[MAX_PEOPLE];
static size_t npeople;
static struct demo_grant grants[MAX_GRANTS];
static size_t ngrants;
static pthread_once_t derived = PTHREAD_ONCE_INIT;

/* ASCII for an e-mail local part: "Ondřej Kučera" → "ondrej.kucera".
 * Letters outside ASCII lose their accent (the base letter is the
 * first byte of a small table), anything else is dropped. */
static void email_part(const char *utf8, char *out, size_t cap)
{
	static const struct {
		const char *from;
		char to;
	} fold[] = {
		{"á", 'a'}, {"à", 'a'}, {"ä", 'a'}, {"â", 'a'}, {"ã", 'a'}, {"å", 'a'}, {"Á", 'a'},
		{"č", 'c'}, {"ç", 'c'}, {"Č", 'c'}, {"ď", 'd'}, {"é", 'e'}, {"è", 'e'}, {"ê", 'e'},
		{"ë", 'e'}, {"ě", 'e'}, {"ė", 'e'}, {"É", 'e'}, {"í", 'i'}, {"ï", 'i'}, {"î", 'i'},
		{"ł", 'l'}, {"ń", 'n'}, {"ñ", 'n'}, {"ň", 'n'}, {"ó", 'o'}, {"ö", 'o'}, {"ô", 'o'},
		{"õ", 'o'}, {"ő", 'o'}, {"ø", 'o'}, {"ř", 'r'}, {"ś", 's'}, {"š", 's'}, {"Š", 's'},
		{"ť", 't'}, {"ú", 'u'}, {"ü", 'u'}, {"ů", 'u'}, {"ū", 'u'}, {"ű", 'u'}, {"ý", 'y'},
		{"ž", 'z'}, {"ż", 'z'}, {"ź", 'z'}, {"Ž", 'z'}, {"Ś", 's'}, {"Ó", 'o'},
	};
	size_t k = 0;

	for (const char *p = utf8; *p && k + 1 < cap;) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x80) {
			if (isalnum(c))
				out[k++] = (char)tolower(c);
			else if ((c == ' ' || c == '-') && k && out[k - 1] != '-')
				out[k++] = '-';
			p++;
			continue;
		}
		{
			size_t len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : 4;
			bool done = false;

			for (size_t i = 0; i < sizeof fold / sizeof fold[0]; i++)
				if (!strncmp(p, fold[i].from, strlen(fold[i].from))) {
					out[k++] = fold[i].to;
					done = true;
					break;
				}
			(void)done;
			while (len-- && *p)
				p++;
		}
	}
	out[k] = '\0';
}

static size_t pool_of(const char *country)
{
	for (size_t i = 0; i < sizeof name_pool / sizeof name_pool[0]; i++)
		if (!strcmp(name_pool[i].country, country))
			return i;
	return 0;
}

static void add_person(size_t partner, unsigned *drawn)
{
	size_t pool = pool_of(demo_partners[partner].country);
	unsigned k = drawn[pool]++;
	struct demo_person *p = &people[npeople++];
	unsigned gi = k % 6;
	const char *given = name_pool[pool].given[gi];
	const char *family = name_pool[pool].family[(gi + 2 * (k / 2) + 2 * (k / 6)) % 6];
	char g[24], f[24], dom[16];

	snprintf(p->name, sizeof p->name, "%s %s", given, family);
	email_part(given, g, sizeof g);
	email_part(family, f, sizeof f);
	email_part(demo_partners[partner].short_name, dom, sizeof dom);
	snprintf(p->email, sizeof p->email, "%s.%s@%s.example", g, f, dom);
	p->partner = partner;
	p->leads_wp = -1;
}

static void add_grant(size_t wp, bool to_partner, size_t subject, int level)
{
	if (ngrants < MAX_GRANTS)
		grants[ngrants++] = (struct demo_grant){wp, to_partner, subject, level};
}

static void derive(void)
{
	unsigned drawn[sizeof name_pool / sizeof name_pool[0]] = {0};
	size_t first_of[DEMO_NPARTNERS];

	/* Everyone at a partner: its contact person first, a second member
	 * at every other partner and a third at every fifth; the
	 * coordinating partner has a project office of three. */
	for (size_t i = 0; i < DEMO_NPARTNERS; i++) {
		size_t n = i == 0 ? 3 : 1 + (i % 2 == 0) + (i % 5 == 0);

		first_of[i] = npeople;
		for (size_t j = 0; j < n && npeople < MAX_PEOPLE; j++)
			add_person(i, drawn);
	}
	/* The coordinator is the coordinating partner's first person; the
	 * lead of WP1 (the project manager) its second; every other WP is
	 * led by the contact person of its lead partner. */
	people[first_of[0]].coordinator = true;
	for (size_t w = 0; w < DEMO_NWPS; w++) {
		size_t who = w == 0 ? first_of[0] + 1 : first_of[demo_wps[w].lead_partner];

		people[who].leads_wp = (int)w;
		add_grant(w, false, who, 3);
		add_grant(w, true, demo_wps[w].lead_partner, 2);
	}
	/* WP1: everybody reads the management documents. WP2: everybody
	 * contributes to dissemination. */
	for (size_t i = 0; i < DEMO_NPARTNERS; i++) {
		if (i != demo_wps[0].lead_partner)
			add_grant(0, true, i, 1);
		if (i != demo_wps[1].lead_partner)
			add_grant(1, true, i, 2);
	}
	/* Technical WPs: their contributors write, a few others follow. */
	for (size_t m = 0; m < sizeof wp_members / sizeof wp_members[0]; m++) {
		for (size_t k = 0; k < 12 && wp_members[m].writers[k] >= 0; k++)
			if ((size_t)wp_members[m].writers[k] !=
			    demo_wps[wp_members[m].wp].lead_partner)
				add_grant(wp_members[m].wp, true, (size_t)wp_members[m].writers[k],
					  2);
		for (size_t k = 0; k < 8 && wp_members[m].readers[k] >= 0; k++)
			add_grant(wp_members[m].wp, true, (size_t)wp_members[m].readers[k], 1);
	}
	/* WP10 (evaluation) is closed: the WP leads read it as persons,
	 * their partners do not. */
	for (size_t p = 0; p < npeople; p++)
		if (people[p].leads_wp > 0 && people[p].leads_wp != 9)
			add_grant(9, false, p, 1);
}

const struct demo_person *demo_people(size_t *n)
{
	pthread_once(&derived, derive);
	*n = npeople;
	return people;
}

const struct demo_grant *demo_grants(size_t *n)
{
	pthread_once(&derived, derive);
	*n = ngrants;
	return grants;
}

/* --- writing the documents --------------------------------------------------------------- */

/* A small deterministic generator, so the demo is the same every time. */
static uint32_t rnd(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 16) & 0x7fff;
}

/* The partners that write in a WP (lead first), for tables and minutes. */
static size_t wp_partners(size_t wp, size_t *out, size_t cap)
{
	size_t n = 0, ng;
	const struct demo_grant *g = demo_grants(&ng);

	out[n++] = demo_wps[wp].lead_partner;
	for (size_t i = 0; i < ng && n < cap; i++)
		if (g[i].wp == wp && g[i].to_partner && g[i].level >= 2 &&
		    g[i].subject != demo_wps[wp].lead_partner)
			out[n++] = g[i].subject;
	return n;
}

/* Text buffers a document points into while it is rendered. */
struct scratch {
	char text[DEMODOC_MAX_SECTIONS][2048];
	char heading[DEMODOC_MAX_SECTIONS][128];
	char cells[DEMODOC_MAX_ROWS][DEMODOC_MAX_COLS][96];
	char title[256], author[96], date[16];
};

static void set_cell(struct demodoc *d, struct scratch *s, size_t r, size_t c, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void set_cell(struct demodoc *d, struct scratch *s, size_t r, size_t c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->cells[r][c], sizeof s->cells[r][c], fmt, ap);
	va_end(ap);
	d->cells[r][c] = s->cells[r][c];
	if (r + 1 > d->nrows)
		d->nrows = r + 1;
	if (c + 1 > d->ncols)
		d->ncols = c + 1;
}

static void add_section(struct demodoc *d, struct scratch *s, const char *heading, const char *fmt,
			...) __attribute__((format(printf, 4, 5)));
static void add_section(struct demodoc *d, struct scratch *s, const char *heading, const char *fmt,
			...)
{
	size_t i = d->nsections;
	va_list ap;

	if (i == DEMODOC_MAX_SECTIONS)
		return;
	snprintf(s->heading[i], sizeof s->heading[i], "%s", heading);
	va_start(ap, fmt);
	vsnprintf(s->text[i], sizeof s->text[i], fmt, ap);
	va_end(ap);
	d->sections[i].heading = s->heading[i];
	d->sections[i].text = s->text[i];
	d->nsections++;
}

/* A table of figures by partner; later versions have more rows filled
 * and revised numbers. */
static void figures_table(struct demodoc *d, struct scratch *s, size_t wp, unsigned version,
			  uint32_t seed)
{
	size_t parts[16], n = wp_partners(wp, parts, 16);
	const struct topic *t = &topics[wp];
	uint32_t r = seed;
	size_t rows = n < 2 ? n : 2 + (n - 2) * version / 4;

	set_cell(d, s, 0, 0, "Partner");
	set_cell(d, s, 0, 1, "Country");
	set_cell(d, s, 0, 2, "%c%s (planned)", toupper((unsigned char)t->measure[0]),
		 t->measure + 1);
	set_cell(d, s, 0, 3, "%c%s (so far)", toupper((unsigned char)t->measure[0]),
		 t->measure + 1);
	set_cell(d, s, 0, 4, "Status");
	for (size_t i = 0; i < rows && i + 1 < DEMODOC_MAX_ROWS; i++) {
		unsigned planned = 4 + rnd(&r) % 40;
		unsigned done = planned * (20 + version * 20 + rnd(&r) % 20) / 100;

		if (done > planned)
			done = planned;
		set_cell(d, s, i + 1, 0, "%s", demo_partners[parts[i]].short_name);
		set_cell(d, s, i + 1, 1, "%s", demo_partners[parts[i]].country);
		set_cell(d, s, i + 1, 2, "%u", planned);
		set_cell(d, s, i + 1, 3, "%u", done);
		set_cell(d, s, i + 1, 4, "%s",
			 done == planned       ? "complete"
			 : done * 2 >= planned ? "on track"
					       : "delayed");
	}
}

static void build_doc(const struct doc_spec *sp, unsigned version, const struct demo_person *author,
		      struct demodoc *d, struct scratch *s, const char *date)
{
	const struct topic *t = &topics[sp->wp];
	const struct demo_wp *wp = &demo_wps[sp->wp];
	const char *base = strrchr(sp->path, '/') ? strrchr(sp->path, '/') + 1 : sp->path;
	size_t parts[16], np = wp_partners(sp->wp, parts, 16);
	uint32_t seed = (uint32_t)(sp - docs) * 7919u + version * 104729u;

	memset(d, 0, sizeof *d);
	snprintf(s->title, sizeof s->title, "EQUIGEN %s: %s", wp->code, base);
	snprintf(s->author, sizeof s->author, "%s (%s)", author->name,
		 demo_partners[author->partner].short_name);
	snprintf(s->date, sizeof s->date, "%s", date);
	d->title = s->title;
	d->author = s->author;
	d->date = s->date;

	switch (sp->kind) {
	case K_REPORT:
		add_section(d, s, "Summary", "This document reports on %s. %s%s", t->focus, t->aim,
			    version >= 3   ? " This is the final version, approved by the Steering "
					     "Committee."
			    : version == 2 ? " This version is under review by the partners."
					   : " This is a first draft for discussion.");
		add_section(
			d, s, "Introduction",
			"%s\nThe work package is led by %s (%s) with %zu contributing partners.",
			t->aim, demo_partners[wp->lead_partner].name,
			demo_partners[wp->lead_partner].country, np);
		if (version >= 2) {
			add_section(d, s, "Methods", "%s", t->method);
			add_section(d, s, "Results", "%s\n%s\n%s", t->finding[0], t->finding[1],
				    version >= 3 ? t->finding[2] : "Further results are expected.");
			figures_table(d, s, sp->wp, version, seed);
		}
		add_section(d, s, "Next steps", "%s", t->next);
		break;
	case K_MINUTES: {
		char present[1024];
		size_t len = 0;

		for (size_t i = 0; i < np && len < sizeof present; i++)
			len += (size_t)snprintf(present + len, sizeof present - len, "%s%s",
						i ? ", " : "", demo_partners[parts[i]].short_name);
		add_section(d, s, "Participants", "Representatives of %s.", present);
		add_section(d, s, "Discussion", "The meeting discussed %s. %s\n%s", t->focus,
			    t->finding[0],
			    version >= 2 ? t->finding[1]
					 : "The results will be discussed in detail at "
					   "the next meeting.");
		add_section(d, s, "Decisions", "%s", t->next);
		set_cell(d, s, 0, 0, "Action");
		set_cell(d, s, 0, 1, "Who");
		set_cell(d, s, 0, 2, "Due");
		for (size_t i = 0; i < 3 + version && i + 1 < np; i++) {
			set_cell(d, s, i + 1, 0, "Action %zu on %s", i + 1, t->measure);
			set_cell(d, s, i + 1, 1, "%s", demo_partners[parts[i + 1]].short_name);
			set_cell(d, s, i + 1, 2, "month %zu", 6 + i * 2 + version);
		}
		break;
	}
	case K_PLAN:
		add_section(d, s, "Purpose", "The plan of the tasks of %s on %s.", wp->code,
			    t->focus);
		set_cell(d, s, 0, 0, "Task");
		set_cell(d, s, 0, 1, "Lead");
		set_cell(d, s, 0, 2, "Start");
		set_cell(d, s, 0, 3, "End");
		for (size_t i = 0; i < 5 && i < np; i++) {
			set_cell(d, s, i + 1, 0, "T%s.%zu", wp->code + 2, i + 1);
			set_cell(d, s, i + 1, 1, "%s", demo_partners[parts[i]].short_name);
			set_cell(d, s, i + 1, 2, "M%zu", 1 + i * 4);
			set_cell(d, s, i + 1, 3, "M%zu", 12 + i * 6 + (version > 1 ? 3 : 0));
		}
		break;
	case K_DATA:
		add_section(d, s, "About these data", "%s", t->method);
		figures_table(d, s, sp->wp, version, seed);
		break;
	}
}

/* One version through the store, as an upload: blob, then the tree. */
static enum err put_version(struct db *db, struct cas *cas, int64_t wp_id, const char *path,
			    const struct demodoc_buf *b, const char *mime, int64_t user,
			    const char *comment)
{
	struct cas_writer *w = NULL;
	struct cas_blob blob;
	struct name_path np = {0};
	struct tree_put req;
	struct tree_put_result res;
	enum err rc;

	rc = name_path_from_text(path, &np);
	if (rc)
		return rc;
	rc = cas_writer_new(cas, b->len, &w);
	if (!rc)
		rc = cas_writer_write(w, b->data, b->len);
	if (rc) {
		cas_writer_abort(w);
		goto out;
	}
	rc = cas_writer_store(w, &blob);
	if (rc)
		goto out;
	req = (struct tree_put){
		.user_id = user,
		.blob = blob.hash,
		.size = blob.size,
		.mime = mime,
		.comment = comment,
		.parents = true,
	};
	rc = tree_put(db, wp_id, &np, &req, &res);
	cas_blob_release(&blob);
out:
	name_path_free(&np);
	return rc;
}

static enum err set_status(struct db *db, int64_t wp_id, const char *path, const char *deliverable,
			   enum tree_status status, int64_t user)
{
	struct name_path np = {0};
	struct tree_meta meta = {.set_deliverable = true,
				 .deliverable = deliverable,
				 .set_status = true,
				 .status = status};
	enum err rc = name_path_from_text(path, &np);

	if (!rc)
		rc = tree_set_meta(db, wp_id, &np, &meta, user, NULL);
	name_path_free(&np);
	return rc;
}

enum err demo_store_documents(struct db *db, struct cas *cas, const struct demo_ids *ids,
			      struct demo_stats *st)
{
	size_t n;
	const struct demo_person *ppl = demo_people(&n);
	struct scratch *s = calloc(1, sizeof *s);
	int64_t now = db_now();
	enum err rc = ERR_OK;

	memset(st, 0, sizeof *st);
	if (!s)
		return err_set(ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < NDOCS && !rc; i++) {
		const struct doc_spec *sp = &docs[i];
		size_t lead = 0, members[16], nm = 0, parts[16];
		size_t nparts = wp_partners(sp->wp, parts, 16);
		char path[256];

		/* Who writes: the WP lead, and in turn the people of its
		 * contributing partners. */
		for (size_t p = 0; p < n; p++) {
			if (ppl[p].leads_wp == (int)sp->wp) {
				lead = p;
				continue;
			}
			for (size_t k = 0; k < nparts && nm < 16; k++)
				if (ppl[p].partner == parts[k])
					members[nm++] = p;
		}
		snprintf(path, sizeof path, "%s%s", sp->path, demodoc_ext(sp->fmt));
		for (unsigned v = 1; v <= sp->versions && !rc; v++) {
			/* Nine months of project up to the day the demo is made:
			 * each document starts at its own time, and its last
			 * version lies one to twenty days back, so that a
			 * newcomer's home page shows recent changes; the versions
			 * between are spread evenly. */
			int64_t first = now - 270 * 86400 + (int64_t)sp->wp * 9 * 86400 +
					(int64_t)i * 3 * 86400;
			int64_t last = now - (int64_t)(1 + (i * 5) % 20) * 86400 -
				       (int64_t)(i % 12) * 3600;
			int64_t at = sp->versions > 1 ? first + (last - first) * (int64_t)(v - 1) /
									(int64_t)(sp->versions - 1)
						      : last;
			size_t who = (v % 2 == 1 || nm == 0) ? lead : members[(i + v) % nm];
			struct demodoc d;
			struct demodoc_buf b = {0};
			char date[16], mime[MIME_MAX + 1];
			time_t tt;
			struct tm tm;

			if (at > now - 3600)
				at = now - 3600;
			tt = (time_t)at;
			gmtime_r(&tt, &tm);
			strftime(date, sizeof date, "%Y-%m-%d", &tm);
			build_doc(sp, v, &ppl[who], &d, s, date);
			rc = demodoc_render(&d, sp->fmt, &b);
			if (rc)
				break;
			db_clock_offset(at - now);
			/* The type as an upload would get it: from the bytes. */
			mime_detect(b.data, b.len, mime);
			rc = put_version(db, cas, ids->wp[sp->wp], path, &b, mime, ids->person[who],
					 version_comments[(v - 1) % 4]);
			if (!rc && sp->deliverable)
				rc = set_status(db, ids->wp[sp->wp], path, sp->deliverable,
						v >= 3   ? TREE_STATUS_FINAL
						: v >= 2 ? TREE_STATUS_REVIEW
							 : TREE_STATUS_DRAFT,
						ids->person[who]);
			db_clock_offset(0);
			if (!rc) {
				st->versions++;
				st->bytes += b.len;
				st->formats |= 1u << sp->fmt;
			}
			demodoc_buf_free(&b);
		}
		if (!rc)
			st->documents++;
	}
	free(s);
	return rc;
}

/* --- the consortium itself: partners, people, work packages, grants -------------------- */

/* Who the audit log names for what the demo creates. */
#define DEMO_ACTOR "(consort demo)"

/* 16 characters from an alphabet without look-alikes, in groups of
 * four: about 79 bits, easy to type from the printed list. */
static enum err new_password(char out[20])
{
	static const char alphabet[] = "23456789abcdefghjkmnpqrstuvwxyz"; /* 31 */
	unsigned char raw[16];
	size_t k = 0;
	enum err rc = digest_random(raw, sizeof raw);

	if (rc)
		return rc;
	for (size_t i = 0; i < 16; i++) {
		if (i && i % 4 == 0)
			out[k++] = '-';
		/* 256 % 31 = 8: a bias of under 4 % on a few letters does not
		 * matter for a demo's passwords. */
		out[k++] = alphabet[raw[i] % 31];
	}
	out[k] = '\0';
	explicit_bzero(raw, sizeof raw);
	return ERR_OK;
}

static enum err create_accounts(struct db *db, char (*passwords)[20], int64_t *person_ids,
				int64_t *wp_ids)
{
	size_t np, ng;
	const struct demo_person *ppl = demo_people(&np);
	const struct demo_grant *g = demo_grants(&ng);
	int64_t partner_ids[DEMO_NPARTNERS];
	struct auth_argon2 params;
	char **hashes = calloc(np, sizeof *hashes);
	enum err rc = hashes ? ERR_OK : err_set(ERR_NOMEM, "out of memory");

	/* Hashing first keeps the write transaction short. */
	auth_argon2_defaults(&params);
	for (size_t i = 0; i < np && !rc; i++) {
		rc = new_password(passwords[i]);
		if (!rc)
			rc = auth_password_policy(passwords[i], ppl[i].email);
		if (!rc)
			rc = auth_password_hash(passwords[i], &params, &hashes[i]);
	}
	if (!rc)
		rc = db_begin(db);
	if (rc)
		goto out;
	for (size_t i = 0; i < DEMO_NPARTNERS && !rc; i++) {
		rc = acct_partner_add(db, demo_partners[i].short_name, demo_partners[i].name,
				      demo_partners[i].country, &partner_ids[i]);
		if (!rc)
			rc = audit_append(db, 0, DEMO_ACTOR, "", "partner_create", 0,
					  demo_partners[i].short_name, demo_partners[i].name);
	}
	for (size_t i = 0; i < np && !rc; i++) {
		rc = acct_user_add(db, ppl[i].email, ppl[i].name, partner_ids[ppl[i].partner],
				   ppl[i].coordinator, hashes[i], &person_ids[i]);
		if (!rc)
			rc = audit_append(db, 0, DEMO_ACTOR, "", "user_create", 0, ppl[i].email,
					  ppl[i].coordinator ? "coordinator" : "");
	}
	for (size_t w = 0; w < DEMO_NWPS && !rc; w++) {
		rc = acct_wp_add(db, demo_wps[w].code, demo_wps[w].title,
				 partner_ids[demo_wps[w].lead_partner], 0, &wp_ids[w]);
		if (!rc)
			rc = audit_append(db, 0, DEMO_ACTOR, "", "wp_create", wp_ids[w],
					  demo_wps[w].code, demo_wps[w].title);
	}
	for (size_t i = 0; i < ng && !rc; i++) {
		char object[128];

		rc = acct_grant_set(
			db, wp_ids[g[i].wp], g[i].to_partner ? 0 : person_ids[g[i].subject],
			g[i].to_partner ? partner_ids[g[i].subject] : 0, g[i].level, 0, NULL);
		snprintf(object, sizeof object, "%s %s", g[i].to_partner ? "partner" : "user",
			 g[i].to_partner ? demo_partners[g[i].subject].short_name
					 : ppl[g[i].subject].email);
		if (!rc)
			rc = audit_append(db, 0, DEMO_ACTOR, "", "grant", wp_ids[g[i].wp], object,
					  acct_level_name(g[i].level));
	}
	if (!rc)
		rc = db_commit(db);
	if (rc)
		db_rollback(db);
out:
	for (size_t i = 0; hashes && i < np; i++)
		free(hashes[i]);
	free(hashes);
	return rc;
}

/* The demo goes into a new directory only: it must never mix with (or
 * be mistaken for) a real consortium's data. */
static enum err check_new_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool empty = true;

	if (!d)
		return errno == ENOENT ? ERR_OK : err_from_errno(errno, dir);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = false;
	closedir(d);
	return empty ? ERR_OK
		     : err_set(ERR_EXISTS, "%s is not empty: the demo makes a new data directory",
			       dir);
}

static const char *role_of(const struct demo_person *p, char *buf, size_t n)
{
	if (p->coordinator)
		return "coordinator";
	if (p->leads_wp >= 0) {
		snprintf(buf, n, "lead %s", demo_wps[p->leads_wp].code);
		return buf;
	}
	return "member";
}

/* DATA/demo-logins.txt, readable by its owner only: every account of
 * the demo with its password, for whoever set the demo up. */
static enum err write_logins(const char *dir, char (*passwords)[20])
{
	size_t np;
	const struct demo_person *ppl = demo_people(&np);
	char path[4096], role[32];
	int fd;
	FILE *f;

	snprintf(path, sizeof path, "%s/demo-logins.txt", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_from_errno(errno, path);
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return err_from_errno(errno, path);
	}
	fprintf(f, "# consort demo: the EQUIGEN consortium. Every account below is invented;\n"
		   "# the passwords were made at random for this data directory.\n"
		   "# email\tpassword\trole\tpartner\n");
	for (size_t i = 0; i < np; i++)
		fprintf(f, "%s\t%s\t%s\t%s\n", ppl[i].email, passwords[i],
			role_of(&ppl[i], role, sizeof role),
			demo_partners[ppl[i].partner].short_name);
	if (fclose(f) != 0)
		return err_from_errno(errno, path);
	return ERR_OK;
}

enum err demo_build(const char *dir, struct demo_stats *st)
{
	size_t np;
	char(*passwords)[20] = (demo_people(&np), calloc(np, sizeof *passwords));
	int64_t *person_ids = calloc(np, sizeof *person_ids);
	struct demo_ids ids = {.person = person_ids};
	struct db *db = NULL;
	struct cas *cas = NULL;
	char path[4096];
	enum err rc;

	if (!passwords || !person_ids) {
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	rc = check_new_dir(dir);
	if (!rc)
		rc = app_prepare_data_dir(dir);
	if (rc)
		goto out;
	snprintf(path, sizeof path, "%s/consort.db", dir);
	rc = db_open(path, &db);
	if (!rc)
		rc = db_migrate(db);
	if (!rc)
		rc = cas_open(dir, CAS_OPEN_CREATE, &cas);
	if (!rc)
		rc = create_accounts(db, passwords, person_ids, ids.wp);
	if (!rc)
		rc = demo_store_documents(db, cas, &ids, st);
	if (!rc)
		rc = demo_store_directory(db, &ids);
	if (!rc)
		rc = write_logins(dir, passwords);
out:
	cas_close(cas);
	db_close(db);
	if (passwords)
		explicit_bzero(passwords, np * sizeof *passwords);
	free(passwords);
	free(person_ids);
	return rc;
}

int demo_main(int argc, char **argv)
{
	const char *data = NULL;
	struct demo_stats st;
	size_t np, ng;
	char path[4096];
	FILE *f;
	enum err rc;

	demo_people(&np);
	demo_grants(&ng);
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--data") && i + 1 < argc) {
			data = argv[++i];
		} else {
			fprintf(stderr,
				"consort demo: unexpected argument '%s' (usage: consort demo "
				"--data DIR)\n",
				argv[i]);
			return 2;
		}
	}
	if (!data) {
		fprintf(stderr, "consort demo: --data DIR is required\n");
		return 2;
	}
	rc = demo_build(data, &st);
	if (rc) {
		fprintf(stderr, "consort demo: %s\n", *err_detail() ? err_detail() : err_name(rc));
		return 1;
	}
	printf("consort demo: the EQUIGEN consortium in %s\n"
	       "  %d partners in 17 countries, %zu accounts, %d work packages, %zu grants,\n"
	       "  %llu documents in %llu versions (%.1f MiB)\n\n",
	       data, DEMO_NPARTNERS, np, DEMO_NWPS, ng, (unsigned long long)st.documents,
	       (unsigned long long)st.versions, (double)st.bytes / (1024.0 * 1024.0));
	/* The coordinator and the WP leads here; everyone in the file. */
	snprintf(path, sizeof path, "%s/demo-logins.txt", data);
	f = fopen(path, "re");
	if (f) {
		char line[512], *rows[MAX_PEOPLE];
		size_t nrows = 0;

		while (nrows < MAX_PEOPLE && fgets(line, sizeof line, f))
			if (line[0] != '#' && (rows[nrows] = strdup(line)))
				nrows++;
		fclose(f);
		printf("  %-38s %-20s %s\n", "login", "password", "role");
		/* The coordinator, then the leads in WP order. */
		for (int want = -1; want < DEMO_NWPS; want++) {
			char role[32];

			if (want < 0)
				snprintf(role, sizeof role, "\tcoordinator\t");
			else
				snprintf(role, sizeof role, "\tlead %s\t", demo_wps[want].code);
			for (size_t i = 0; i < nrows; i++) {
				char *email = rows[i], *pw, *end;

				if (!strstr(rows[i], role) || !(pw = strchr(email, '\t')))
					continue;
				*pw++ = '\0';
				if ((end = strchr(pw, '\t')))
					*end = '\0';
				printf("  %-38s %-20s %.*s\n", email, pw, (int)strlen(role) - 2,
				       role + 1);
			}
		}
		for (size_t i = 0; i < nrows; i++) {
			explicit_bzero(rows[i], strlen(rows[i]));
			free(rows[i]);
		}
	}
	printf("\n  members' logins: %s (every account, owner-readable only)\n", path);
	return 0;
}
