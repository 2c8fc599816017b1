/* xap — see xap.h. The only C++ in consort: nothing here may let an
 * exception escape into C. */
#include "xap.h"

#include <xapian.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

/* Value slots. */
enum {
	VAL_DATE = 0,  /* YYYYMMDD (UTC) of the version's upload, for date: ranges */
	VAL_TIME = 1,  /* sortable_serialise(Unix seconds) */
	VAL_SIZE = 2,  /* sortable_serialise(bytes), for size: ranges */
	VAL_WP = 3,    /* wp id in decimal: the WP facet */
	VAL_TYPE = 4,  /* short type: the type facet */
	VAL_STATE = 5, /* "<version>\t<fingerprint>" */
};

/* Glass refuses terms over 245 bytes; longer boolean values are cut and
 * made unique again with a hash, so they stay searchable by exact value
 * and never raise an error. Words in text longer than this are simply
 * not indexed (TermGenerator's own limit). */
static const size_t MAX_TERM = 240;
static const unsigned MAX_WORD = 64;
/* Title words count this many times a body word. */
static const unsigned TITLE_WDF = 5;
/* Spelling data comes from titles and the start of each body only: it
 * is enough to suggest real words and keeps indexing fast. */
static const size_t SPELLING_SOURCE = 16 * 1024;
/* Exact totals and facets need every match counted; past this the
 * total is an estimate (total_exact false). */
static const Xapian::doccount EXACT_UP_TO = 200000;

static enum err fail(enum err code, const char *what, const std::string &msg)
{
	return err_set(code, "%s: %s", what, msg.c_str());
}

/* Map whatever was thrown to an error code with its message. */
#define XAP_CATCH(where_)                                                                          \
	catch (const Xapian::DatabaseLockError &e)                                                 \
	{                                                                                          \
		return fail(ERR_LOCKED, where_, e.get_msg());                                      \
	}                                                                                          \
	catch (const Xapian::DatabaseCorruptError &e)                                              \
	{                                                                                          \
		return fail(ERR_CORRUPT, where_, e.get_msg());                                     \
	}                                                                                          \
	catch (const Xapian::QueryParserError &e)                                                  \
	{                                                                                          \
		return fail(ERR_INVALID, "query", e.get_msg());                                    \
	}                                                                                          \
	catch (const Xapian::DatabaseError &e)                                                     \
	{                                                                                          \
		return fail(ERR_IO, where_, e.get_type() + std::string(": ") + e.get_msg());       \
	}                                                                                          \
	catch (const Xapian::Error &e)                                                             \
	{                                                                                          \
		return fail(ERR_INTERNAL, where_, e.get_type() + std::string(": ") + e.get_msg()); \
	}                                                                                          \
	catch (const std::bad_alloc &) { return err_set(ERR_NOMEM, "%s: out of memory", where_); } \
	catch (const std::exception &e)                                                            \
	{                                                                                          \
		return err_set(ERR_INTERNAL, "%s: %s", where_, e.what());                          \
	}                                                                                          \
	catch (...) { return err_set(ERR_INTERNAL, "%s: unknown exception", where_); }

static std::string str(const char *s) { return s ? std::string(s) : std::string(); }

static std::string lower(const std::string &s)
{
	std::string out;

	out.reserve(s.size());
	for (Xapian::Utf8Iterator it(s); it != Xapian::Utf8Iterator(); ++it)
		Xapian::Unicode::append_utf8(out, Xapian::Unicode::tolower(*it));
	return out;
}

static std::string hex64(uint64_t v)
{
	static const char digits[] = "0123456789abcdef";
	std::string out(16, '0');

	for (int i = 15; i >= 0; i--, v >>= 4)
		out[i] = digits[v & 15];
	return out;
}

/* A boolean term for `value` (lower-cased), never longer than MAX_TERM. */
static std::string bterm(const char *prefix, const std::string &value)
{
	std::string v = lower(value);
	std::string t = prefix + v;
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	size_t cut;

	if (t.size() <= MAX_TERM)
		return t;
	for (unsigned char c : v)
		h = (h ^ c) * 1099511628211ULL;
	cut = MAX_TERM - strlen(prefix) - 17;
	while (cut > 0 && (static_cast<unsigned char>(v[cut]) & 0xC0) == 0x80)
		cut--; /* do not split a UTF-8 sequence */
	return prefix + v.substr(0, cut) + "#" + hex64(h);
}

static std::string idterm(int64_t id) { return "Q" + std::to_string(id); }

/* Stemmer for an ISO 639-1 code; the "none" stemmer for languages that
 * Xapian 1.4 cannot stem (Greek, Polish, ...). */
static Xapian::Stem stemmer_for(const std::string &lang)
{
	static const char *const map[][2] = {
		{"en", "english"},    {"de", "german"},     {"fr", "french"},    {"it", "italian"},
		{"es", "spanish"},    {"pt", "portuguese"}, {"nl", "dutch"},     {"da", "danish"},
		{"sv", "swedish"},    {"fi", "finnish"},    {"hu", "hungarian"}, {"ro", "romanian"},
		{"lt", "lithuanian"}, {"ga", "irish"},      {"ca", "catalan"},   {"eu", "basque"},
		{"no", "norwegian"},  {"tr", "turkish"},    {"ru", "russian"},
	};
	for (const auto &m : map)
		if (lang == m[0])
			return Xapian::Stem(m[1]);
	return Xapian::Stem();
}

static std::string yyyymmdd(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[16];

	if (!gmtime_r(&tt, &tm))
		return "00000000";
	strftime(buf, sizeof buf, "%Y%m%d", &tm);
	return buf;
}

/* Cut `len` bytes of UTF-8 to at most `cap` without splitting a character. */
static size_t utf8_cut(const char *s, size_t len, size_t cap)
{
	if (len <= cap)
		return len;
	while (cap > 0 && (static_cast<unsigned char>(s[cap]) & 0xC0) == 0x80)
		cap--;
	return cap;
}

/* --- document building ---------------------------------------------------------- */

static void jset_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, json_string(v ? v : ""));
}

/* The JSON kept in the document's data: what a hit shows. */
static std::string meta_json(const struct xap_doc *d, bool title_from_name)
{
	json_t *o = json_object();
	char *s;
	std::string out;

	if (!o)
		throw std::bad_alloc();
	json_object_set_new(o, "node", json_integer(d->node_id));
	json_object_set_new(o, "wp_id", json_integer(d->wp_id));
	jset_str(o, "wp", d->wp_code);
	jset_str(o, "path", d->path);
	jset_str(o, "name", d->name);
	json_object_set_new(o, "version", json_integer(d->version));
	jset_str(o, "title", d->title);
	json_object_set_new(o, "title_from_name", json_boolean(title_from_name));
	jset_str(o, "type", d->type);
	jset_str(o, "mime", d->mime);
	json_object_set_new(o, "size", json_integer(d->size));
	json_object_set_new(o, "date", json_integer(d->date));
	if (d->created)
		json_object_set_new(o, "created", json_integer(d->created));
	jset_str(o, "author", d->author);
	jset_str(o, "uploader", d->uploader);
	jset_str(o, "status", d->status);
	jset_str(o, "deliverable", d->deliverable);
	jset_str(o, "language", d->language);
	if (d->pages > 0)
		json_object_set_new(o, "pages", json_integer(d->pages));
	jset_str(o, "index_status", d->index_status);
	jset_str(o, "reason", d->reason);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		throw std::bad_alloc();
	out = s;
	free(s);
	return out;
}

/* Split stored data into the meta JSON and the snippet text. */
static void split_data(const std::string &data, std::string &meta, std::string &text)
{
	size_t nul = data.find('\0');

	if (nul == std::string::npos) {
		meta = data;
		text.clear();
	} else {
		meta = data.substr(0, nul);
		text = data.substr(nul + 1);
	}
}

/* Terms and values that metadata decides; added by put and update_meta. */
static void add_meta_terms(Xapian::Document &doc, const struct xap_doc *d)
{
	Xapian::TermGenerator tg;

	doc.add_boolean_term(idterm(d->node_id));
	doc.add_boolean_term("XW" + std::to_string(d->wp_id));
	if (d->wp_code && *d->wp_code)
		doc.add_boolean_term(bterm("XP", d->wp_code));
	if (d->status && *d->status)
		doc.add_boolean_term(bterm("XS", d->status));
	if (d->deliverable && *d->deliverable)
		doc.add_boolean_term(bterm("XD", d->deliverable));
	if (d->uploader && *d->uploader)
		doc.add_boolean_term(bterm("XA", d->uploader));
	for (size_t i = 0; i < d->nfolders; i++)
		doc.add_boolean_term("XN" + std::to_string(d->folders[i]));
	/* Stemmed like the body: a query is parsed with the stemmer of the
	 * document's language (see parse_user_query). */
	tg.set_document(doc);
	tg.set_max_word_length(MAX_WORD);
	tg.set_stemmer(stemmer_for(str(d->language)));
	tg.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
	tg.index_text_without_positions(str(d->name), 1, "N");
	tg.index_text_without_positions(str(d->uploader), 1, "A");
	doc.add_value(VAL_WP, std::to_string(d->wp_id));
	doc.add_value(VAL_STATE, std::to_string(d->version) + "\t" + str(d->fingerprint));
}

static void index_title(Xapian::Document &doc, const std::string &title, const std::string &lang,
			Xapian::WritableDatabase *spell)
{
	Xapian::TermGenerator tg;

	tg.set_document(doc);
	tg.set_max_word_length(MAX_WORD);
	tg.set_stemmer(stemmer_for(lang));
	tg.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
	if (spell) {
		tg.set_database(*spell);
		tg.set_flags(Xapian::TermGenerator::FLAG_SPELLING);
	}
	tg.index_text(title, TITLE_WDF, "S");
}

static bool doc_find(Xapian::Database &db, int64_t node_id, Xapian::docid &did)
{
	Xapian::PostingIterator p = db.postlist_begin(idterm(node_id));

	if (p == db.postlist_end(idterm(node_id)))
		return false;
	did = *p;
	return true;
}

/* --- writer ---------------------------------------------------------------------- */

/* A generation directory holds one Xapian database per work package,
 * wp-<id>/, so that a search combines only the readable ones and every
 * statistic it uses (document count, average length, term and
 * collection frequencies, wildcard expansion, spelling, languages)
 * comes from them alone. The writer holds `writer.lock` (flock) for the
 * whole generation and one WritableDatabase per work package, each in
 * its own transaction until xap_writer_commit. */
struct xap_writer {
	std::string dir;
	int lockfd = -1;
	std::map<int64_t, Xapian::WritableDatabase> wps;
};

static std::string wp_dir(const std::string &gen, int64_t wp_id)
{
	return gen + "/wp-" + std::to_string(wp_id);
}

/* The work package id of a directory entry named wp-<id>, or -1. */
static int64_t wp_of_entry(const char *name)
{
	char *end;
	long long id;

	if (strncmp(name, "wp-", 3) != 0 || !isdigit(static_cast<unsigned char>(name[3])))
		return -1;
	id = strtoll(name + 3, &end, 10);
	return *end ? -1 : id;
}

static Xapian::WritableDatabase &writer_wp(xap_writer *w, int64_t wp_id)
{
	auto it = w->wps.find(wp_id);

	if (it != w->wps.end())
		return it->second;
	Xapian::WritableDatabase db(wp_dir(w->dir, wp_id), Xapian::DB_CREATE_OR_OPEN);
	/* Changes wait in a transaction until xap_writer_commit, so that
	 * closing (or dying) never publishes a half-done batch. */
	db.begin_transaction();
	return w->wps.emplace(wp_id, db).first->second;
}

/* Where the node's document is: its work package's database and docid. */
static bool writer_find(xap_writer *w, int64_t node_id, int64_t &wp, Xapian::docid &did)
{
	for (auto &p : w->wps) {
		if (doc_find(p.second, node_id, did)) {
			wp = p.first;
			return true;
		}
	}
	return false;
}

static void writer_free(xap_writer *w)
{
	for (auto &p : w->wps) {
		try {
			/* What was not committed explicitly is dropped, so the
			 * queue stays the truth. */
			p.second.cancel_transaction();
		} catch (...) {
		}
	}
	w->wps.clear();
	if (w->lockfd >= 0)
		close(w->lockfd);
	delete w;
}

enum err xap_writer_open(const char *dir, struct xap_writer **out)
{
	xap_writer *w = nullptr;

	*out = nullptr;
	try {
		std::string lock;
		DIR *d;
		struct dirent *e;

		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return err_from_errno(errno, dir);
		w = new xap_writer();
		w->dir = dir;
		lock = w->dir + "/writer.lock";
		w->lockfd = open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (w->lockfd < 0) {
			enum err rc = err_from_errno(errno, lock.c_str());

			writer_free(w);
			return rc;
		}
		if (flock(w->lockfd, LOCK_EX | LOCK_NB) != 0) {
			enum err rc = errno == EWOULDBLOCK
					      ? err_set(ERR_LOCKED,
							"opening the index: %s is held "
							"by another writer",
							dir)
					      : err_from_errno(errno, lock.c_str());

			writer_free(w);
			return rc;
		}
		d = opendir(dir);
		if (!d) {
			enum err rc = err_from_errno(errno, dir);

			writer_free(w);
			return rc;
		}
		while ((e = readdir(d))) {
			int64_t wp = wp_of_entry(e->d_name);

			if (wp >= 0) {
				try {
					writer_wp(w, wp);
				} catch (...) {
					closedir(d);
					throw;
				}
			}
		}
		closedir(d);
		*out = w;
		return ERR_OK;
	} catch (...) {
		if (w)
			writer_free(w);
		try {
			throw;
		}
		XAP_CATCH("opening the index")
	}
}

void xap_existing_clear(struct xap_existing *e)
{
	if (!e)
		return;
	free(e->fingerprint);
	free(e->index_status);
	free(e->reason);
	free(e->language);
	memset(e, 0, sizeof *e);
}

static char *dup_or_throw(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d)
		throw std::bad_alloc();
	return d;
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

enum err xap_writer_lookup(struct xap_writer *w, int64_t node_id, struct xap_existing *out)
{
	memset(out, 0, sizeof *out);
	try {
		Xapian::docid did;
		int64_t wp;
		std::string state, meta, text;
		json_t *o;
		size_t tab;

		if (!writer_find(w, node_id, wp, did))
			return ERR_OK;
		Xapian::Document doc = w->wps.at(wp).get_document(did);
		state = doc.get_value(VAL_STATE);
		tab = state.find('\t');
		out->found = true;
		out->version = strtoll(state.c_str(), nullptr, 10);
		out->fingerprint =
			dup_or_throw(tab == std::string::npos ? "" : state.c_str() + tab + 1);
		split_data(doc.get_data(), meta, text);
		o = json_loads(meta.c_str(), 0, nullptr);
		out->index_status = dup_or_throw(jstr(o, "index_status"));
		out->reason = dup_or_throw(jstr(o, "reason"));
		out->language = dup_or_throw(jstr(o, "language"));
		json_decref(o);
		return ERR_OK;
	} catch (...) {
		xap_existing_clear(out);
		try {
			throw;
		}
		XAP_CATCH("reading the index")
	}
}

enum err xap_writer_put(struct xap_writer *w, const struct xap_doc *d)
{
	try {
		Xapian::Document doc;
		Xapian::TermGenerator tg;
		std::string lang = str(d->language);
		std::string title = str(d->title);
		bool from_name = title.empty();
		size_t keep = utf8_cut(d->text, d->text_len, XAP_SNIPPET_SOURCE);
		size_t spell = utf8_cut(d->text, d->text_len, SPELLING_SOURCE);
		std::string data;
		struct xap_doc eff = *d;
		Xapian::WritableDatabase &db = writer_wp(w, d->wp_id);
		Xapian::docid old;
		int64_t old_wp;

		if (from_name)
			title = str(d->name);
		eff.title = title.c_str();
		add_meta_terms(doc, &eff);
		index_title(doc, title, lang, &db);

		tg.set_document(doc);
		tg.set_max_word_length(MAX_WORD);
		tg.set_stemmer(stemmer_for(lang));
		tg.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
		/* Title and body are separate fields: a phrase must not match
		 * across the boundary. */
		tg.increase_termpos(100);
		if (d->text_len) {
			tg.set_database(db);
			tg.set_flags(Xapian::TermGenerator::FLAG_SPELLING);
			tg.index_text(Xapian::Utf8Iterator(d->text, spell));
			tg.set_flags(0);
			if (spell < d->text_len)
				tg.index_text(
					Xapian::Utf8Iterator(d->text + spell, d->text_len - spell));
		}
		tg.index_text_without_positions(str(d->author), 1, "A");
		if (d->author && *d->author)
			doc.add_boolean_term(bterm("XA", d->author));
		if (d->type && *d->type)
			doc.add_boolean_term(bterm("XT", d->type));
		if (!lang.empty())
			doc.add_boolean_term("L" + lang);
		doc.add_value(VAL_DATE, yyyymmdd(d->date));
		doc.add_value(VAL_TIME, Xapian::sortable_serialise((double)d->date));
		doc.add_value(VAL_SIZE, Xapian::sortable_serialise((double)d->size));
		doc.add_value(VAL_TYPE, str(d->type));
		data = meta_json(&eff, from_name);
		data.push_back('\0');
		data.append(d->text ? d->text : "", keep);
		doc.set_data(data);
		/* moved to another work package: it leaves the old database */
		if (writer_find(w, d->node_id, old_wp, old) && old_wp != d->wp_id)
			w->wps.at(old_wp).delete_document(old);
		db.replace_document(idterm(d->node_id), doc);
		return ERR_OK;
	}
	XAP_CATCH("indexing")
}

/* Prefixes that update_meta rewrites; the body's terms are kept. */
static bool meta_prefixed(const std::string &t, bool retitle)
{
	static const char *const pre[] = {"XW", "XP", "XS", "XN", "XD", "N"};

	for (const char *p : pre)
		if (t.compare(0, strlen(p), p) == 0)
			return true;
	/* The uploader's words are meta too, but A also holds the author:
	 * both are re-added below from what the data records. */
	if (t[0] == 'A' || t.compare(0, 2, "XA") == 0)
		return true;
	if (t.compare(0, 2, "ZN") == 0 || t.compare(0, 2, "ZA") == 0)
		return true;
	if (retitle && (t[0] == 'S' || t.compare(0, 2, "ZS") == 0))
		return true;
	return false;
}

enum err xap_writer_update_meta(struct xap_writer *w, const struct xap_doc *d)
{
	try {
		Xapian::docid did;
		int64_t wp;
		std::string meta, text, data;
		std::vector<std::string> drop;
		json_t *o;
		bool from_name;
		struct xap_doc eff;
		std::string title, author, lang, type, mime, istatus, reason;
		Xapian::TermGenerator tg;

		if (!writer_find(w, d->node_id, wp, did))
			return err_set(ERR_NOTFOUND, "node %lld is not indexed",
				       (long long)d->node_id);
		Xapian::Document doc = w->wps.at(wp).get_document(did);
		split_data(doc.get_data(), meta, text);
		o = json_loads(meta.c_str(), 0, nullptr);
		if (!o)
			return err_set(ERR_CORRUPT, "index data of node %lld is not JSON",
				       (long long)d->node_id);
		from_name = json_is_true(json_object_get(o, "title_from_name"));
		title = from_name ? str(d->name) : jstr(o, "title");
		author = jstr(o, "author");
		lang = jstr(o, "language");
		type = jstr(o, "type");
		mime = jstr(o, "mime");
		istatus = jstr(o, "index_status");
		reason = jstr(o, "reason");
		eff = *d;
		eff.title = title.c_str();
		eff.author = author.c_str();
		eff.language = lang.c_str();
		eff.type = type.c_str();
		eff.mime = mime.c_str();
		eff.index_status = istatus.c_str();
		eff.reason = reason.c_str();
		eff.created = json_integer_value(json_object_get(o, "created"));
		eff.pages = (int)json_integer_value(json_object_get(o, "pages"));
		json_decref(o);

		for (Xapian::TermIterator t = doc.termlist_begin(); t != doc.termlist_end(); ++t)
			if (meta_prefixed(*t, from_name))
				drop.push_back(*t);
		for (const std::string &t : drop)
			doc.remove_term(t);
		add_meta_terms(doc, &eff);
		if (from_name)
			index_title(doc, title, lang, nullptr);
		tg.set_document(doc);
		tg.set_stemmer(stemmer_for(lang));
		tg.set_stemming_strategy(Xapian::TermGenerator::STEM_SOME);
		tg.index_text_without_positions(author, 1, "A");
		if (!author.empty())
			doc.add_boolean_term(bterm("XA", author));
		data = meta_json(&eff, from_name);
		data.push_back('\0');
		data += text;
		doc.set_data(data);
		if (wp == d->wp_id) {
			w->wps.at(wp).replace_document(did, doc);
		} else {
			/* Moved to another work package: copied there first (the
			 * copy reads the old database), then deleted. */
			writer_wp(w, d->wp_id).replace_document(idterm(d->node_id), doc);
			w->wps.at(wp).delete_document(did);
		}
		return ERR_OK;
	}
	XAP_CATCH("updating the index")
}

enum err xap_writer_delete(struct xap_writer *w, int64_t node_id)
{
	try {
		for (auto &p : w->wps)
			p.second.delete_document(idterm(node_id));
		return ERR_OK;
	}
	XAP_CATCH("deleting from the index")
}

enum err xap_writer_under(struct xap_writer *w, int64_t folder_id, int64_t **ids, size_t *n)
{
	*ids = nullptr;
	*n = 0;
	try {
		std::string term = "XN" + std::to_string(folder_id);
		std::vector<int64_t> found;

		for (auto &wp : w->wps) {
			Xapian::WritableDatabase &db = wp.second;

			if (folder_id < 0) {
				for (Xapian::TermIterator t = db.allterms_begin("Q");
				     t != db.allterms_end("Q"); ++t)
					found.push_back(strtoll((*t).c_str() + 1, nullptr, 10));
			}
			for (Xapian::PostingIterator p = db.postlist_begin(term);
			     p != db.postlist_end(term); ++p) {
				Xapian::Document doc = db.get_document(*p);

				for (Xapian::TermIterator t = doc.termlist_begin();
				     t != doc.termlist_end(); ++t) {
					if ((*t)[0] == 'Q') {
						found.push_back(
							strtoll((*t).c_str() + 1, nullptr, 10));
						break;
					}
				}
			}
		}
		if (found.empty())
			return ERR_OK;
		*ids = static_cast<int64_t *>(malloc(found.size() * sizeof **ids));
		if (!*ids)
			return err_set(ERR_NOMEM, "out of memory");
		std::copy(found.begin(), found.end(), *ids);
		*n = found.size();
		return ERR_OK;
	}
	XAP_CATCH("reading the index")
}

enum err xap_writer_commit(struct xap_writer *w)
{
	try {
		/* Work package by work package: a crash in between leaves some
		 * committed and the SQLite side unwritten, which the queue
		 * handles as after any crash (done ones are found done). */
		for (auto &p : w->wps) {
			p.second.commit_transaction();
			p.second.begin_transaction();
		}
		return ERR_OK;
	}
	XAP_CATCH("committing the index")
}

uint64_t xap_writer_doccount(struct xap_writer *w)
{
	try {
		uint64_t n = 0;

		for (auto &p : w->wps)
			n += p.second.get_doccount();
		return n;
	} catch (...) {
		return 0;
	}
}

void xap_writer_close(struct xap_writer *w)
{
	if (!w)
		return;
	try {
		writer_free(w);
	} catch (...) {
	}
}

/* --- reader ---------------------------------------------------------------------- */

struct xap_reader {
	std::string link;
	std::string target; /* resolved generation directory */
	bool open = false;
	/* Work package databases opened so far, by wp id, with the
	 * languages each holds (and how many documents of each). */
	struct wpdb {
		Xapian::Database db;
		std::vector<std::pair<std::string, Xapian::doccount>> langs;
	};
	std::map<int64_t, wpdb> wps;
	/* The current search's combination of the readable ones, and the
	 * languages present in it. */
	Xapian::Database db;
	std::vector<std::string> langs;
};

enum err xap_reader_new(const char *link, struct xap_reader **out)
{
	*out = nullptr;
	try {
		*out = new xap_reader();
		(*out)->link = link;
		return ERR_OK;
	}
	XAP_CATCH("index reader")
}

void xap_reader_free(struct xap_reader *r)
{
	try {
		delete r;
	} catch (...) {
	}
}

/* The languages of one work package's documents, with their counts
 * (after it was opened or reopened to a new commit). */
static void wp_langs(xap_reader::wpdb &w)
{
	w.langs.clear();
	for (Xapian::TermIterator t = w.db.allterms_begin("L"); t != w.db.allterms_end("L"); ++t)
		w.langs.emplace_back((*t).substr(1), t.get_termfreq());
}

/* The languages present in the readable documents, most used first (so
 * that the spelling correction comes from the commonest), then by name. */
static void load_langs(xap_reader *r, const std::vector<int64_t> &ids)
{
	std::map<std::string, Xapian::doccount> count;
	std::vector<std::pair<Xapian::doccount, std::string>> v;

	for (int64_t id : ids) {
		auto it = r->wps.find(id);

		if (it != r->wps.end())
			for (const auto &l : it->second.langs)
				count[l.first] += l.second;
	}
	for (const auto &c : count)
		v.emplace_back(c.second, c.first);
	std::stable_sort(v.begin(), v.end(),
			 [](const auto &a, const auto &b) { return a.first > b.first; });
	r->langs.clear();
	for (size_t i = 0; i < v.size(); i++)
		r->langs.push_back(v[i].second);
}

/* Follow the link: a new generation drops every open database. Returns
 * false when there is no index yet. */
static bool reader_refresh(xap_reader *r, bool force)
{
	char buf[PATH_MAX];
	char *real = realpath(r->link.c_str(), buf);

	if (!real) {
		r->open = false;
		r->wps.clear();
		return false;
	}
	if (force || !r->open || r->target != real) {
		r->wps.clear();
		r->target = real;
		r->open = true;
	}
	return true;
}

/* Returns false when none of them has a database yet. r->db becomes the combination of the
 * databases of the work packages the caller may read, each at its newest commit, in work package
 * order (so the same readable set always gives the same combination).
 * Nothing else is in it: no statistic can depend on the others. */
static bool reader_combine(xap_reader *r, const struct xap_query *q)
{
	bool any = false;

	std::vector<int64_t> ids(q->wps, q->wps + q->nwps);

	std::sort(ids.begin(), ids.end());
	ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
	r->db = Xapian::Database();
	for (int64_t id : ids) {
		auto it = r->wps.find(id);

		if (it != r->wps.end()) {
			if (it->second.db.reopen())
				wp_langs(it->second);
		} else {
			std::string dir = wp_dir(r->target, id);
			struct stat st;

			if (stat(dir.c_str(), &st) != 0)
				continue; /* nothing indexed in it yet */
			try {
				it = r->wps.emplace(id, xap_reader::wpdb{Xapian::Database(dir), {}})
					     .first;
			} catch (const Xapian::DatabaseOpeningError &) {
				continue; /* being created: nothing committed yet */
			}
			wp_langs(it->second);
		}
		r->db.add_database(it->second.db);
		any = true;
	}
	load_langs(r, ids);
	return any;
}

/* Lower-cases and caps a boolean field's value, as indexing did. */
class BoolField : public Xapian::FieldProcessor
{
	std::string prefix;

      public:
	explicit BoolField(const char *p) : prefix(p) {}
	Xapian::Query operator()(const std::string &value) override
	{
		return Xapian::Query(bterm(prefix.c_str(), value));
	}
};

static void setup_parser(Xapian::QueryParser &qp, Xapian::Database &db)
{
	qp.set_database(db);
	qp.set_default_op(Xapian::Query::OP_AND);
	qp.add_prefix("", "");
	qp.add_prefix("", "S");
	qp.add_prefix("title", "S");
	qp.add_prefix("author", "A");
	qp.add_prefix("name", "N");
	qp.add_boolean_prefix("wp", (new BoolField("XP"))->release());
	qp.add_boolean_prefix("type", (new BoolField("XT"))->release());
	qp.add_boolean_prefix("status", (new BoolField("XS"))->release());
	qp.add_boolean_prefix("deliverable", (new BoolField("XD"))->release());
	qp.add_rangeprocessor((new Xapian::DateRangeProcessor(VAL_DATE, "date:"))->release());
	qp.add_rangeprocessor((new Xapian::NumberRangeProcessor(VAL_SIZE, "size:"))->release());
	qp.set_max_expansion(XAP_WILDCARD_EXPANSION, Xapian::Query::WILDCARD_LIMIT_MOST_FREQUENT,
			     Xapian::QueryParser::FLAG_WILDCARD |
				     Xapian::QueryParser::FLAG_PARTIAL);
}

static const unsigned QP_FLAGS =
	Xapian::QueryParser::FLAG_BOOLEAN | Xapian::QueryParser::FLAG_PHRASE |
	Xapian::QueryParser::FLAG_LOVEHATE | Xapian::QueryParser::FLAG_WILDCARD |
	Xapian::QueryParser::FLAG_PURE_NOT;

/* Lower-case the words of a query but not its operators: the parser
 * would not stem a capitalised word, and every German noun is one.
 * Single letters stay as typed: there is nothing to stem in them, and
 * the parser reads "U.S.A." as the acronym "usa" only in capitals. */
static std::string lower_query(const std::string &text)
{
	static const char *const ops[] = {"AND", "OR", "NOT", "XOR", "NEAR", "ADJ"};
	std::string out, word;
	size_t chars = 0;

	auto flush = [&]() {
		bool keep = chars == 1;

		for (const char *o : ops)
			keep = keep || word == o;
		out += keep ? word : lower(word);
		word.clear();
		chars = 0;
	};
	for (Xapian::Utf8Iterator it(text); it != Xapian::Utf8Iterator(); ++it) {
		unsigned ch = *it;

		if (Xapian::Unicode::is_wordchar(ch)) {
			Xapian::Unicode::append_utf8(word, ch);
			chars++;
		} else {
			flush();
			Xapian::Unicode::append_utf8(out, ch);
		}
	}
	flush();
	return out;
}

/* Xapian reads a query made only of excluded words ("-draft") as if the
 * minus signs were not there (with nothing to exclude from, it parses
 * again without love/hate), so "-draft" found the drafts. Such a query
 * is spelt with NOT instead, which FLAG_PURE_NOT reads as "everything
 * but". Tokens are split on white space outside double quotes. */
static std::string pure_hate_to_not(const std::string &text)
{
	std::vector<std::string> tokens;
	std::string cur, out;
	bool quoted = false;

	for (char c : text) {
		if (c == '"')
			quoted = !quoted;
		if (!quoted && (c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
			if (!cur.empty())
				tokens.push_back(cur);
			cur.clear();
		} else {
			cur.push_back(c);
		}
	}
	if (!cur.empty())
		tokens.push_back(cur);
	if (tokens.empty())
		return text;
	for (const std::string &t : tokens)
		if (t.size() < 2 || t[0] != '-' || t[1] == '-')
			return text;
	for (const std::string &t : tokens) {
		if (!out.empty())
			out.push_back(' ');
		out += "NOT " + t.substr(1);
	}
	return out;
}

/* How many wildcards (a word followed by '*') the query has. */
static unsigned count_wildcards(const char *q)
{
	unsigned n = 0;

	for (const char *p = q; *p; p++)
		if (*p == '*' && p > q &&
		    (isalnum(static_cast<unsigned char>(p[-1])) ||
		     static_cast<unsigned char>(p[-1]) >= 0x80))
			n++;
	return n;
}

/* Each document is stemmed in its own language, a query is in none
 * known: it is parsed once per stemming language present in the index,
 * and each parse applies only to the documents of its language (plus
 * one unstemmed parse for documents of other or unknown languages). So
 * "untersuchung" finds a German "Untersuchungen", "guideline" an
 * English "guidelines", and NOT keeps its meaning in every language. */
static Xapian::Query parse_user_query(xap_reader *r, const std::string &raw, unsigned flags,
				      std::string *corrected)
{
	std::string text = pure_hate_to_not(lower_query(raw));
	std::vector<Xapian::Query> parts, stemmed;
	bool first = true;

	auto parse = [&](const Xapian::Stem &stem) {
		Xapian::QueryParser qp;
		Xapian::Query q;

		setup_parser(qp, r->db);
		qp.set_stemmer(stem);
		qp.set_stemming_strategy(Xapian::QueryParser::STEM_SOME);
		q = qp.parse_query(text,
				   flags | (first && corrected
						    ? Xapian::QueryParser::FLAG_SPELLING_CORRECTION
						    : 0));
		if (first && corrected)
			*corrected = qp.get_corrected_query_string();
		first = false;
		return q;
	};
	for (const std::string &lang : r->langs) {
		Xapian::Stem stem = stemmer_for(lang);

		if (stem.is_none())
			continue;
		parts.push_back(Xapian::Query(Xapian::Query::OP_FILTER, parse(stem),
					      Xapian::Query("L" + lang)));
		stemmed.emplace_back("L" + lang);
	}
	if (stemmed.empty()) {
		parts.push_back(parse(Xapian::Stem()));
	} else {
		parts.push_back(Xapian::Query(
			Xapian::Query::OP_AND_NOT, parse(Xapian::Stem()),
			Xapian::Query(Xapian::Query::OP_OR, stemmed.begin(), stemmed.end())));
	}
	if (parts.size() == 1)
		return parts[0];
	return Xapian::Query(Xapian::Query::OP_OR, parts.begin(), parts.end());
}

static Xapian::Query permission_filter(const struct xap_query *q)
{
	std::vector<Xapian::Query> wps;
	Xapian::Query f;

	for (size_t i = 0; i < q->nwps; i++)
		wps.emplace_back("XW" + std::to_string(q->wps[i]));
	f = Xapian::Query(Xapian::Query::OP_OR, wps.begin(), wps.end());
	if (q->type && *q->type)
		f = Xapian::Query(Xapian::Query::OP_AND, f, Xapian::Query(bterm("XT", q->type)));
	return f;
}

static char *cdup(const std::string &s)
{
	char *d = static_cast<char *>(malloc(s.size() + 1));

	if (!d)
		throw std::bad_alloc();
	memcpy(d, s.data(), s.size());
	d[s.size()] = '\0';
	return d;
}

static void facets_out(Xapian::ValueCountMatchSpy &spy, struct xap_facet **out, size_t *n)
{
	std::vector<std::pair<std::string, Xapian::doccount>> v;

	for (Xapian::TermIterator t = spy.values_begin(); t != spy.values_end(); ++t)
		if (!(*t).empty())
			v.emplace_back(*t, t.get_termfreq());
	std::sort(v.begin(), v.end(), [](const auto &a, const auto &b) {
		return a.second != b.second ? a.second > b.second : a.first < b.first;
	});
	*n = 0;
	*out = nullptr;
	if (v.empty())
		return;
	*out = static_cast<struct xap_facet *>(calloc(v.size(), sizeof **out));
	if (!*out)
		throw std::bad_alloc();
	for (auto &p : v) {
		(*out)[*n].value = cdup(p.first);
		(*out)[*n].count = p.second;
		(*n)++;
	}
}

static Xapian::MSet run_query(xap_reader *r, const Xapian::Query &query, unsigned offset,
			      unsigned limit, Xapian::ValueCountMatchSpy *wspy,
			      Xapian::ValueCountMatchSpy *tspy)
{
	Xapian::Enquire enq(r->db);
	Xapian::doccount all = r->db.get_doccount();

	enq.set_query(query);
	if (wspy)
		enq.add_matchspy(wspy);
	if (tspy)
		enq.add_matchspy(tspy);
	return enq.get_mset(offset, limit, std::min(all, EXACT_UP_TO));
}

/* The words of a query string as the parser splits them, lower-cased. */
static std::vector<std::string> query_words(const std::string &text)
{
	std::vector<std::string> words;
	std::string word;

	for (Xapian::Utf8Iterator it(text); it != Xapian::Utf8Iterator(); ++it) {
		if (Xapian::Unicode::is_wordchar(*it)) {
			Xapian::Unicode::append_utf8(word, Xapian::Unicode::tolower(*it));
		} else if (!word.empty()) {
			words.push_back(word);
			word.clear();
		}
	}
	if (!word.empty())
		words.push_back(word);
	return words;
}

/* Whether every word the spelling correction changed occurs (in a body
 * or a title) in a document the caller may read. The spelling data
 * spans all work packages: "zanzibarien OR germlne" corrected to
 * "zanzibarian OR germline" finds the caller's germline documents, yet
 * its first word may exist only in a work package they cannot read. */
static bool correction_readable(xap_reader *r, const std::string &asked,
				const std::string &corrected, const struct xap_query *q)
{
	std::vector<std::string> a = query_words(asked), b = query_words(corrected);

	if (a.size() != b.size())
		return false;
	for (size_t i = 0; i < a.size(); i++) {
		if (a[i] == b[i])
			continue;
		Xapian::Query word(Xapian::Query::OP_OR, Xapian::Query(b[i]),
				   Xapian::Query("S" + b[i]));

		if (run_query(r,
			      Xapian::Query(Xapian::Query::OP_FILTER, word, permission_filter(q)),
			      0, 1, nullptr, nullptr)
			    .empty())
			return false;
	}
	return true;
}

static bool snip_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* The page of the snippet's first match: 1 + the page breaks (\f) in
 * the text before it, 0 when the text has none or the snippet cannot
 * be found in it. Worked out at query time from the text kept for
 * snippets, so the index holds nothing more; the snippet is the text's
 * own characters, HTML-escaped and marked, and is matched to it with
 * whitespace ignored (the snippet may not keep it as is). */
static int snippet_page(const std::string &snippet, const std::string &text)
{
	static const char ellipsis[] = "\xE2\x80\xA6";
	static const struct {
		const char *ent;
		char c;
	} ents[] = {{"&amp;", '&'},  {"&lt;", '<'},   {"&gt;", '>'},
		    {"&quot;", '"'}, {"&#39;", '\''}, {"&apos;", '\''}};
	std::string pat;
	size_t mark = std::string::npos, i = 0, end = snippet.size();

	if (text.find('\f') == std::string::npos)
		return 0;
	if (snippet.compare(0, 3, ellipsis) == 0)
		i = 3;
	if (end >= i + 3 && snippet.compare(end - 3, 3, ellipsis) == 0)
		end -= 3;
	while (i < end) {
		if (snippet[i] == '<') {
			size_t close = snippet.find('>', i);

			if (close == std::string::npos)
				return 0;
			if (mark == std::string::npos && snippet.compare(i, 6, "<mark>") == 0)
				mark = pat.size();
			i = close + 1;
			continue;
		}
		if (snippet[i] == '&') {
			size_t k;

			for (k = 0; k < sizeof ents / sizeof *ents; k++)
				if (snippet.compare(i, strlen(ents[k].ent), ents[k].ent) == 0)
					break;
			if (k < sizeof ents / sizeof *ents) {
				pat += ents[k].c;
				i += strlen(ents[k].ent);
				continue;
			}
		}
		if (!snip_space(snippet[i]))
			pat += snippet[i];
		i++;
	}
	if (mark == std::string::npos || mark >= pat.size())
		return 0;
	for (size_t start = 0; start < text.size(); start++) {
		size_t j = start, k = 0, at = 0;

		if (text[start] != pat[0])
			continue;
		while (k < pat.size() && j < text.size()) {
			if (snip_space(text[j])) {
				j++;
				continue;
			}
			if (text[j] != pat[k])
				break;
			if (k == mark)
				at = j;
			j++;
			k++;
		}
		if (k == pat.size())
			return 1 + (int)std::count(text.begin(), text.begin() + (long)at, '\f');
	}
	return 0;
}

static void search_once(xap_reader *r, const struct xap_query *q, struct xap_result *res)
{
	std::string corrected;
	Xapian::Query user, query;
	Xapian::ValueCountMatchSpy wspy(VAL_WP), tspy(VAL_TYPE);
	Xapian::MSet mset;
	unsigned snip = q->snippet_len ? q->snippet_len : 200;

	/* The spelling correction is worked out only when nothing matched:
	 * asking for it costs a look at the spelling data of every word,
	 * in every work package's database. */
	user = parse_user_query(r, q->q, QP_FLAGS, nullptr);
	if (q->nwps == 0)
		return; /* may read nothing: nothing matches, not even a count */
	query = Xapian::Query(Xapian::Query::OP_FILTER, user, permission_filter(q));
	mset = run_query(r, query, q->offset, q->limit, &wspy, &tspy);
	res->total = mset.get_matches_estimated();
	res->total_exact = mset.get_matches_lower_bound() == mset.get_matches_upper_bound();
	facets_out(wspy, &res->wp_facets, &res->nwp_facets);
	facets_out(tspy, &res->type_facets, &res->ntype_facets);
	if (mset.size()) {
		res->hits = static_cast<struct xap_hit *>(calloc(mset.size(), sizeof *res->hits));
		if (!res->hits)
			throw std::bad_alloc();
	}
	for (Xapian::MSetIterator m = mset.begin(); m != mset.end(); ++m) {
		struct xap_hit *h = &res->hits[res->nhits];
		Xapian::Document doc = m.get_document();
		std::string meta, text, snippet;
		json_t *o;
		std::string lang;

		split_data(doc.get_data(), meta, text);
		o = json_loads(meta.c_str(), 0, nullptr);
		lang = jstr(o, "language");
		h->node_id = json_integer_value(json_object_get(o, "node"));
		json_decref(o);
		h->wp_id = strtoll(doc.get_value(VAL_WP).c_str(), nullptr, 10);
		h->percent = m.get_percent();
		/* Not SNIPPET_EXHAUSTIVE: scoring every window of 64 KiB of
		 * text tripled the query time (tests/bench/search.sh). Not
		 * SNIPPET_BACKGROUND_MODEL either: it looks up the frequency
		 * of every word of the text in every work package's database
		 * of the combination, which made a search of 10 work packages
		 * 6 to 20 times slower; the window is chosen by the query's
		 * matches. The snippet escapes the text for HTML itself; a
		 * document whose matches are all outside the kept text (or
		 * only in its title) shows its beginning. */
		snippet = mset.snippet(text, snip, stemmer_for(lang),
				       Xapian::MSet::SNIPPET_EMPTY_WITHOUT_MATCH, "<mark>",
				       "</mark>", "…");
		if (snippet.empty())
			snippet = mset.snippet(text, snip, stemmer_for(lang), 0, "<mark>",
					       "</mark>", "…");
		else
			h->page = snippet_page(snippet, text);
		std::replace(snippet.begin(), snippet.end(), '\f', ' ');
		h->meta = cdup(meta);
		h->snippet = cdup(snippet);
		res->nhits++;
	}
	if (res->total == 0)
		parse_user_query(r, q->q, QP_FLAGS, &corrected);
	if (res->total == 0 && !corrected.empty()) {
		/* Spelling data comes from every work package: offer the
		 * correction only when it finds something the caller may read
		 * and each word it changed is in a document they may read, so
		 * it cannot reveal words of other work packages. */
		Xapian::Query cq = Xapian::Query(Xapian::Query::OP_FILTER,
						 parse_user_query(r, corrected, QP_FLAGS, nullptr),
						 permission_filter(q));
		if (run_query(r, cq, 0, 1, nullptr, nullptr).size() > 0 &&
		    correction_readable(r, pure_hate_to_not(lower_query(q->q)), corrected, q))
			res->suggestion = cdup(corrected);
	}
}

static void result_clear(struct xap_result *res)
{
	for (size_t i = 0; i < res->nhits; i++) {
		free(res->hits[i].meta);
		free(res->hits[i].snippet);
	}
	free(res->hits);
	for (size_t i = 0; i < res->nwp_facets; i++)
		free(res->wp_facets[i].value);
	free(res->wp_facets);
	for (size_t i = 0; i < res->ntype_facets; i++)
		free(res->type_facets[i].value);
	free(res->type_facets);
	free(res->suggestion);
	memset(res, 0, sizeof *res);
}

void xap_result_free(struct xap_result *res)
{
	if (!res)
		return;
	result_clear(res);
	free(res);
}

enum err xap_search(struct xap_reader *r, const struct xap_query *q, struct xap_result **out)
{
	struct xap_result *res;

	*out = nullptr;
	if (!q->q || strlen(q->q) > XAP_MAX_QUERY)
		return err_set(ERR_INVALID, "query longer than %d bytes", XAP_MAX_QUERY);
	if (q->limit > XAP_MAX_LIMIT || q->offset > XAP_MAX_OFFSET)
		return err_set(ERR_INVALID, "limit is at most %d and offset at most %d",
			       XAP_MAX_LIMIT, XAP_MAX_OFFSET);
	if (count_wildcards(q->q) > XAP_MAX_WILDCARDS)
		return err_set(ERR_INVALID, "query: at most %d wildcards (word*) in one query",
			       XAP_MAX_WILDCARDS);
	res = static_cast<struct xap_result *>(calloc(1, sizeof *res));
	if (!res)
		return err_set(ERR_NOMEM, "out of memory");
	try {
		/* A commit between opening and reading makes Xapian throw
		 * DatabaseModifiedError: reopen and run the whole search again.
		 * Any other database error may be an index replaced under us
		 * (consort reindex): open afresh once before giving up. */
		for (int attempt = 0;; attempt++) {
			try {
				if (!reader_refresh(r, attempt > 0) || !reader_combine(r, q)) {
					/* No index yet, or nothing indexed in a work
					 * package the caller may read: still
					 * refuse malformed queries. */
					Xapian::QueryParser qp;
					qp.add_rangeprocessor(
						(new Xapian::DateRangeProcessor(VAL_DATE, "date:"))
							->release());
					qp.add_rangeprocessor((new Xapian::NumberRangeProcessor(
								       VAL_SIZE, "size:"))
								      ->release());
					qp.parse_query(q->q, QP_FLAGS);
					break;
				}
				search_once(r, q, res);
				break;
			} catch (const Xapian::DatabaseModifiedError &) {
				result_clear(res);
				if (attempt >= 5)
					throw;
			} catch (const Xapian::QueryParserError &) {
				throw;
			} catch (const Xapian::DatabaseError &) {
				result_clear(res);
				r->open = false;
				if (attempt >= 1)
					throw;
			}
		}
		*out = res;
		return ERR_OK;
	} catch (...) {
		xap_result_free(res);
		try {
			throw;
		}
		XAP_CATCH("searching")
	}
}

const char *xap_version(void) { return Xapian::version_string(); }
