/* lang — see lang.h. */
#include "lang.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <textcat.h>
#include <unicode/uchar.h>
#include <unistd.h>

/* Declared languages kept besides the EU ones: those the index has a
 * stemmer for (search/xap.cc). */
static const char *const other_langs[] = {"ca", "eu", "no", "nb", "nn", "tr", "ru"};

#ifndef LANG_MODELS
#define LANG_MODELS "/usr/share/libexttextcat/"
#endif

/* The languages identified: the 24 official languages of the EU, whose
 * models libexttextcat-data ships. Limiting the choice to them is what
 * makes one or two sentences enough (with all 160 models, Slovak
 * becomes Czech or Rusyn and Irish Scottish Gaelic). */
static const char *const eu_langs[] = {"bg", "cs", "da", "de", "el", "en", "es", "et",
				       "fi", "fr", "ga", "hr", "hu", "it", "lt", "lv",
				       "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv"};

/* The most frequent function words of each language, lower case, chosen
 * to overlap little with the other languages (words shared by several,
 * such as "a", "de", "en", "i", are left out or kept only where they are
 * most telling). */
static const struct {
	const char *code;
	const char *words;
} langs[] = {
	{"en", "the and of to in is that for with as was on are be by this it from at or "
	       "which have not has were been their will would should these there"},
	{"de", "der die und das ist nicht ein eine mit sich des auf für dem den von zu "
	       "im auch werden wird sind oder wie bei nach einer durch"},
	{"fr", "le la les et des est une dans pour que qui pas sur sont avec du au "
	       "par plus ce cette ou aux être ont été nous"},
	{"it", "il di che la è per una sono gli del della con non le dei delle alla "
	       "nel anche più come questo essere stato"},
	{"es", "el la los las y que del por una con para es se al como más pero sus "
	       "está son este esta también entre sobre"},
	{"pt", "o os as e do da dos das que não uma com para por mais como foi são "
	       "está também pelo pela ao à seu sua"},
	{"nl", "de het een en van is niet dat op te zijn voor met die aan er ook als "
	       "bij worden wordt door naar maar"},
	{"da", "og det er ikke til af på at en med for den som de har var kan vil "
	       "også være fra efter sig blev ved"},
	{"sv", "och det är att inte på en som med för av till har de var den kan om "
	       "också från eller vid ska sig efter"},
	{"fi", "ja on ei se että oli ovat kuin mutta tai myös sen hän ole olla jos "
	       "niin joka kun mitä tämä vain sekä"},
	{"hu", "a az és hogy nem is egy van meg ez volt de csak már mint el kell "
	       "lesz vagy még azt ezt pedig szerint"},
	{"ro", "și în este nu cu pe la care din o un mai se sunt pentru ca ce fost "
	       "sau al ale această acest acesta"},
	{"el", "και το η της του να την των με σε που είναι στο για τα από οι τον "
	       "ένα μια στην δεν θα ότι"},
	{"lt", "ir yra kad su ne kaip tai į iš jo bet o dėl buvo jau taip apie "
	       "arba kuris kuri yra jie mes"},
	{"ga", "agus an na ar is go le ag bhí sé sí ní mar atá seo sin chun don "
	       "faoi freisin"},
	{"pl", "i w na nie się z że jest do to jak o ale od po są przez dla tak "
	       "jego być lub oraz który która"},
	{"cs", "a v se na je že to s z o do jako ale by jsou pro jeho které který "
	       "bylo byl jsem také podle není"},
	{"sk", "a v sa na je že to s z o do ako ale by sú pre jeho ktoré ktorý "
	       "bolo bol som tiež podľa nie"},
	{"sl", "in je v na da se za z pa so ki ne tudi kot to ali bi po pri sem "
	       "bil jih smo ter"},
	{"hr", "i je u na da se za s su ne to od kao koji koja ali što iz bi sam "
	       "bio smo nije također"},
	{"bg", "и на в за да се е с от не по че са това като които който но ще "
	       "бъде има му до"},
	{"et", "ja on ei et see oli ka kui aga või mis oma ta nad siis veel kes "
	       "seda ning pole olema"},
	{"lv", "un ir ar uz par no kā ka tas bet vai arī lai tā ir bija pie jo "
	       "savu viņš kas tiek"},
	{"mt", "il u ta li fil għal huwa hija ma minn dan din jew kien mill bħala "
	       "biex fuq dawn kif"},
};

#define NLANGS (sizeof langs / sizeof langs[0])

struct entry {
	const char *word;
	size_t len;
	uint32_t mask; /* languages the word belongs to */
};

static struct entry *table;
static size_t ntable;

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->word, y->word, n);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Built once, before the first detection; callers run lang_detect from
 * one thread (the extraction helper) but a guard keeps it honest. */
static void build_table(void)
{
	size_t cap = 0, n = 0;
	struct entry *t;

	for (size_t l = 0; l < NLANGS; l++)
		for (const char *p = langs[l].words; *p; p++)
			if (*p == ' ')
				cap++;
	cap += NLANGS;
	t = calloc(cap, sizeof *t);
	if (!t)
		return;
	for (size_t l = 0; l < NLANGS; l++) {
		const char *p = langs[l].words;

		while (*p) {
			const char *e = strchr(p, ' ');
			size_t len = e ? (size_t)(e - p) : strlen(p);

			t[n++] = (struct entry){p, len, 1u << l};
			p += len;
			while (*p == ' ')
				p++;
		}
	}
	qsort(t, n, sizeof *t, entry_cmp);
	/* merge duplicates: one entry per word, with every language's bit */
	ntable = 0;
	for (size_t i = 0; i < n; i++) {
		if (ntable && entry_cmp(&t[ntable - 1], &t[i]) == 0)
			t[ntable - 1].mask |= t[i].mask;
		else
			t[ntable++] = t[i];
	}
	table = t;
}

static uint32_t lookup(const char *w, size_t len)
{
	struct entry key = {w, len, 0};
	struct entry *e = bsearch(&key, table, ntable, sizeof *table, entry_cmp);

	return e ? e->mask : 0;
}

/* Decode one UTF-8 code point; returns its length (1 for an invalid byte,
 * which decodes as U+FFFD). */
static size_t utf8_next(const unsigned char *s, size_t len, UChar32 *cp)
{
	unsigned char c = s[0];
	size_t n;
	UChar32 v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		v = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		v = c & 0x07;
	} else {
		*cp = 0xFFFD;
		return 1;
	}
	if (n > len) {
		*cp = 0xFFFD;
		return 1;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*cp = 0xFFFD;
			return 1;
		}
		v = (v << 6) | (s[i] & 0x3F);
	}
	*cp = v;
	return n;
}

static size_t utf8_put(UChar32 cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

const char *lang_stopwords(const char *s, size_t len)
{
	static bool built;
	unsigned score[NLANGS] = {0};
	char word[64];
	size_t wlen = 0, i = 0, words = 0;
	bool overlong = false;
	size_t best = 0, second = 0;

	if (!built) {
		build_table();
		built = true;
	}
	if (!table)
		return "";
	if (len > LANG_SAMPLE)
		len = LANG_SAMPLE;
	while (i <= len) {
		UChar32 cp = 0;
		size_t n = 1;

		if (i < len)
			n = utf8_next((const unsigned char *)s + i, len - i, &cp);
		if (i < len && (u_isalpha(cp) || cp == '\'')) {
			cp = u_tolower(cp);
			if (wlen + 4 < sizeof word)
				wlen += utf8_put(cp, word + wlen);
			else
				overlong = true;
		} else if (wlen) {
			if (!overlong) {
				uint32_t m = lookup(word, wlen);

				for (size_t l = 0; m && l < NLANGS; l++)
					if (m & (1u << l))
						score[l]++;
			}
			words++;
			wlen = 0;
			overlong = false;
		}
		i += n;
	}
	for (size_t l = 1; l < NLANGS; l++)
		if (score[l] > score[best])
			best = l;
	second = best == 0 ? 1 : 0;
	for (size_t l = 0; l < NLANGS; l++)
		if (l != best && score[l] > score[second])
			second = l;
	/* A winner needs a few hits and a clear lead over the runner-up
	 * (closely related pairs such as Czech and Slovak share many). */
	if (score[best] < 3 || score[best] * 100 < words * 5 || score[best] * 4 < score[second] * 5)
		return "";
	return langs[best].code;
}

/* --- n-gram identification (libexttextcat) ------------------------------------- */

static void *textcat;
static bool textcat_tried;

/* textcat reads its list of models from a file: a memfd holds ours. */
static void *textcat_open(void)
{
	char path[64];
	void *h = NULL;
	int fd = memfd_create("consort-textcat", MFD_CLOEXEC);
	FILE *f;

	if (fd < 0)
		return NULL;
	f = fdopen(dup(fd), "w");
	if (f) {
		for (size_t i = 0; i < sizeof eu_langs / sizeof eu_langs[0]; i++)
			fprintf(f, "%s.lm %s--utf8\n", eu_langs[i], eu_langs[i]);
		if (fclose(f) == 0) {
			snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
			h = special_textcat_Init(path, LANG_MODELS);
		}
	}
	close(fd);
	return h;
}

/* The EU language code in a textcat category ("de--utf8"), or NULL. */
static const char *category_code(const char *name)
{
	for (size_t i = 0; i < sizeof eu_langs / sizeof eu_langs[0]; i++)
		if (!strncmp(name, eu_langs[i], 2) && name[2] == '-')
			return eu_langs[i];
	return NULL;
}

const char *lang_ngrams(const char *s, size_t len)
{
	candidate_t *cand;
	const char *code = "";
	size_t letters = 0;
	int n;

	if (!textcat_tried) {
		textcat_tried = true;
		textcat = textcat_open();
	}
	if (!textcat)
		return "";
	if (len > LANG_NGRAM_SAMPLE) {
		len = LANG_NGRAM_SAMPLE;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--; /* not inside a character */
	}
	for (size_t i = 0; i < len; i++)
		letters += ((unsigned char)s[i] & 0xc0) != 0x80 && !isspace((unsigned char)s[i]) &&
			   !isdigit((unsigned char)s[i]) && !ispunct((unsigned char)s[i]);
	if (letters < LANG_MIN_LETTERS)
		return "";
	cand = textcat_GetClassifyFullOutput(textcat);
	if (!cand)
		return "";
	n = textcat_ClassifyFull(textcat, s, len, cand);
	/* Candidates come best first; with several within textcat's margin
	 * the best is still the likeliest, and a short text rarely has a
	 * single clear winner. More than MAXCANDIDATES is "unknown" (0). */
	if (n > 0 && cand[0].name) {
		const char *c = category_code(cand[0].name);

		if (c)
			code = c;
	}
	textcat_ReleaseClassifyFullOutput(textcat, cand);
	return code;
}

const char *lang_detect(const char *s, size_t len)
{
	const char *code = lang_ngrams(s, len);

	return *code ? code : lang_stopwords(s, len);
}

const char *lang_normalize(const char *tag, size_t len)
{
	char code[3];

	/* "de", "de-AT", "de_DE", "DE"; not "deu" or "x-klingon" */
	if (len < 2 || !isalpha((unsigned char)tag[0]) || !isalpha((unsigned char)tag[1]) ||
	    (len > 2 && tag[2] != '-' && tag[2] != '_'))
		return "";
	code[0] = (char)tolower((unsigned char)tag[0]);
	code[1] = (char)tolower((unsigned char)tag[1]);
	code[2] = '\0';
	for (size_t i = 0; i < sizeof eu_langs / sizeof eu_langs[0]; i++)
		if (!strcmp(code, eu_langs[i]))
			return eu_langs[i];
	for (size_t i = 0; i < sizeof other_langs / sizeof other_langs[0]; i++)
		if (!strcmp(code, other_langs[i]))
			return other_langs[i];
	return "";
}
