/* mail — see mail.h. */
#include "api/mail.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "accounts.h"
#include "api/acl.h"
#include "api/activity.h"
#include "api/config.h"
#include "api/mailtext.h"
#include "db.h"
#include "digest.h"
#include "http/log.h"
#include "notify.h"

/* Events read per digest round; the rest wait for the next one. */
#define MAIL_MAX_EVENTS 100000
/* Groups told in one digest; beyond, the mail says how many more. */
#define MAIL_MAX_GROUPS 500
/* Outbox rows looked at per batch. */
#define MAIL_BATCH 50
/* Delivered messages marked sent in one transaction. */
#define MAIL_MARK_BATCH 16
/* Names listed under a group of several. */
#define MAIL_GROUP_NAMES 10
#define MAIL_RETRY_MAX 900           /* seconds */
#define MAIL_GIVE_UP (3 * 24 * 3600) /* seconds after queueing */

/* --- a growing string ------------------------------------------------------- */

struct sb {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_add(struct sb *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_puts(struct sb *b, const char *s) { sb_add(b, s, strlen(s)); }

__attribute__((format(printf, 2, 3))) static void sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	char small[512];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if ((size_t)n < sizeof small) {
		sb_add(b, small, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);

	if (!big) {
		b->oom = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb_add(b, big, (size_t)n);
	free(big);
}

/* Text into HTML. */
static void sb_html(struct sb *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': sb_puts(b, "&lt;"); break;
		case '>': sb_puts(b, "&gt;"); break;
		case '&': sb_puts(b, "&amp;"); break;
		case '"': sb_puts(b, "&quot;"); break;
		case '\'': sb_puts(b, "&#39;"); break;
		default: sb_add(b, s, 1);
		}
	}
}

/* A path into the app's URL fragment: each segment percent-encoded. */
static void sb_urlpath(struct sb *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~/", c)) {
			sb_add(b, (const char *)&c, 1);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};

			sb_add(b, e, 3);
		}
	}
}

/* A body part in base64, lines of 76 (RFC 2045). */
static void sb_base64(struct sb *b, const char *text)
{
	char *enc = digest_base64((const unsigned char *)text, strlen(text));
	size_t n;

	if (!enc) {
		b->oom = true;
		return;
	}
	n = strlen(enc);
	for (size_t i = 0; i < n; i += 76) {
		sb_add(b, enc + i, n - i < 76 ? n - i : 76);
		sb_puts(b, "\r\n");
	}
	free(enc);
}

/* --- the message ------------------------------------------------------------ */

static const char *mail_from(const struct config *cfg)
{
	return cfg->mail_from ? cfg->mail_from : "consort@localhost";
}

/* The base of every link in mail: public-url as resolved at start
 * (publicurl.h); set by mail_start. */
static const char *link_base = "https://localhost";

/* The bare address of "Name <addr>" or "addr", into buf. */
static void bare_address(const char *s, char *buf, size_t len)
{
	const char *lt = strrchr(s, '<'), *gt;

	if (lt && (gt = strchr(lt, '>')) && gt > lt + 1)
		snprintf(buf, len, "%.*s", (int)(gt - lt - 1), lt + 1);
	else
		snprintf(buf, len, "%s", s);
}

static void rfc5322_date(int64_t t, char *buf, size_t len)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* A header value in ASCII: as it is when it is ASCII, else as RFC 2047
 * encoded-words (UTF-8, B), each at most 75 characters and cut between
 * whole characters, folded onto continuation lines. Line breaks are
 * dropped (no header injection). */
static void sb_header_text(struct sb *b, const char *s)
{
	size_t n = strlen(s), i = 0;
	bool ascii = true;

	for (size_t k = 0; k < n; k++)
		if ((unsigned char)s[k] >= 0x80)
			ascii = false;
	if (ascii) {
		for (; *s; s++)
			if (*s != '\r' && *s != '\n')
				sb_add(b, s, 1);
		return;
	}
	while (i < n) {
		size_t take = n - i < 45 ? n - i : 45;
		char *enc;

		/* do not cut a UTF-8 sequence: back up to a lead byte */
		while (i + take < n && take > 1 && ((unsigned char)s[i + take] & 0xC0) == 0x80)
			take--;
		enc = digest_base64((const unsigned char *)s + i, take);
		if (!enc) {
			b->oom = true;
			return;
		}
		sb_printf(b, "%s=?UTF-8?B?%s?=", i ? "\r\n " : "", enc);
		free(enc);
		i += take;
	}
}

/* A whole message: headers, then text and HTML as multipart/alternative.
 * `unsub` (may be NULL) is the one-click unsubscribe URL; the subject is
 * UTF-8 (encoded here when it is not ASCII). NULL when out of memory. */
static char *make_message(const struct config *cfg, const char *rcpt, const char *subject,
			  const char *id_left, const char *unsub, const char *text,
			  const char *html)
{
	struct sb b = {0};
	char date[64], from_addr[320], boundary[64];
	const char *domain;

	bare_address(mail_from(cfg), from_addr, sizeof from_addr);
	domain = strrchr(from_addr, '@');
	domain = domain ? domain + 1 : "localhost";
	rfc5322_date(db_now(), date, sizeof date);
	snprintf(boundary, sizeof boundary, "=_consort_%s", id_left);
	sb_printf(&b, "From: %s\r\nTo: <%s>\r\nSubject: ", mail_from(cfg), rcpt);
	sb_header_text(&b, subject);
	sb_printf(&b, "\r\nDate: %s\r\n", date);
	sb_printf(&b, "Message-ID: <%s@%s>\r\nMIME-Version: 1.0\r\n", id_left, domain);
	sb_puts(&b, "Auto-Submitted: auto-generated\r\n");
	if (unsub)
		sb_printf(&b,
			  "List-Unsubscribe: <%s>\r\n"
			  "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n",
			  unsub);
	sb_printf(&b, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", boundary);
	sb_printf(&b,
		  "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
		  "Content-Transfer-Encoding: base64\r\n\r\n",
		  boundary);
	sb_base64(&b, text);
	sb_printf(&b,
		  "--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
		  "Content-Transfer-Encoding: base64\r\n\r\n",
		  boundary);
	sb_base64(&b, html);
	sb_printf(&b, "--%s--\r\n", boundary);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* --- account mail --------------------------------------------------------------- */

static const char *const account_kinds[] = {
	[MAIL_SET_PASSWORD] = "set_password", [MAIL_TOTP_RESET] = "totp_reset",
	[MAIL_NEW_TOKEN] = "new_token",       [MAIL_LOCK_BROKEN] = "lock_broken",
	[MAIL_SIGNUP] = "signup_request",
};

enum err mail_account(struct db *db, int64_t user_id, enum mail_account_kind kind, const char *arg)
{
	enum err rc;

	if ((unsigned)kind >= sizeof account_kinds / sizeof account_kinds[0])
		return err_set(ERR_INTERNAL, "unknown kind of account mail");
	rc = notify_outbox_add(db, user_id, account_kinds[kind], arg, NULL, NULL);
	if (!rc)
		mail_wake();
	return rc;
}

/* "Hello," and the paragraphs of `tmpl` (one a line) filled from `kv`,
 * into text and HTML; a line that is "{link}" alone is `link` (a link
 * in HTML). */
static void body_paras(struct sb *text, struct sb *html, const char *lang, const char *tmpl,
		       const char *const *kv, const char *link)
{
	const char *p = tmpl, *nl;

	sb_printf(text, "%s\r\n\r\n", mailtext_get(lang, "hello"));
	sb_puts(html, "<p>");
	sb_html(html, mailtext_get(lang, "hello"));
	sb_puts(html, "</p>");
	for (; *p; p = *nl ? nl + 1 : nl) {
		char *line, *filled;

		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		line = strndup(p, (size_t)(nl - p));
		filled = line ? mailtext_fill(line, kv) : NULL;
		if (!filled) {
			text->oom = html->oom = true;
		} else if (link && !strcmp(line, "{link}")) {
			sb_printf(text, "%s\r\n\r\n", link);
			sb_puts(html, "<p><a href=\"");
			sb_html(html, link);
			sb_puts(html, "\">");
			sb_html(html, link);
			sb_puts(html, "</a></p>");
		} else {
			sb_printf(text, "%s\r\n\r\n", filled);
			sb_puts(html, "<p>");
			sb_html(html, filled);
			sb_puts(html, "</p>");
		}
		free(filled);
		free(line);
	}
}

/* The message of queued account mail in `lang`; NULL for an unknown kind
 * or out of memory. */
static char *make_account_message(const struct config *cfg, const struct notify_mail *m,
				  const char *lang)
{
	struct sb text = {0}, html = {0};
	char base[1024], id_left[96], link[1400], key[64];
	const char *arg = m->arg ? m->arg : "";
	const char *body = m->kind;
	char *msg = NULL;

	snprintf(base, sizeof base, "%s", link_base);
	snprintf(id_left, sizeof id_left, "consort.account.%lld.%lld", (long long)m->id,
		 (long long)m->created_at);
	if (!strcmp(m->kind, "set_password"))
		snprintf(link, sizeof link, "%s/#set-password=%s", base, arg);
	else if (!strcmp(m->kind, "totp_reset"))
		snprintf(link, sizeof link, "%s/", base), body = *arg ? "totp_reset_by" : body;
	else if (!strcmp(m->kind, "new_token"))
		snprintf(link, sizeof link, "%s/#/account", base);
	else if (!strcmp(m->kind, "signup_request"))
		snprintf(link, sizeof link, "%s/#/admin/users", base);
	else if (!strcmp(m->kind, "lock_broken"))
		link[0] = '\0';
	else
		return NULL;
	snprintf(key, sizeof key, "%s.body", body);
	body_paras(&text, &html, lang, mailtext_get(lang, key),
		   (const char *const[]){"account", m->rcpt, "by", arg, "token", arg, "path", arg,
					 "person", arg, "link", link, NULL},
		   link);
	snprintf(key, sizeof key, "%s.subject", m->kind);
	if (!text.oom && !html.oom)
		msg = make_message(cfg, m->rcpt, mailtext_get(lang, key), id_left, NULL, text.p,
				   html.p);
	free(text.p);
	free(html.p);
	return msg;
}

/* --- digests ------------------------------------------------------------------ */

static int level_of(const struct acct_wp *wps, size_t n, int64_t wp_id)
{
	for (size_t i = 0; i < n; i++)
		if (wps[i].id == wp_id)
			return wps[i].level;
	return ACCT_NONE;
}

/* Does `path` cover `object` (the scope rule of notify.h)? */
static bool covers(const char *path, const char *object)
{
	size_t n = strlen(path);

	return n == 0 || (!strncmp(path, object, n) && (object[n] == '\0' || object[n] == '/'));
}

/* The most specific thing the person said about a scope holding the
 * event decides; saying nothing is not following. */
static bool followed(const struct notify_follow *f, size_t nf, const struct audit_row *e)
{
	const char *obj = e->object ? e->object : "";
	size_t best = 0;
	bool found = false, on = false;

	for (size_t i = 0; i < nf; i++) {
		size_t len;

		if (f[i].wp_id != e->wp_id || !covers(f[i].path, obj))
			continue;
		/* a grant names an account, not a path: only the whole WP */
		if (*f[i].path && !strcmp(e->action, "grant"))
			continue;
		len = strlen(f[i].path);
		if (!found || len > best || (len == best && !f[i].by_default)) {
			best = len;
			on = f[i].active;
			found = true;
		}
	}
	return found && on;
}

static bool due(const struct notify_prefs *p, int64_t now, bool force)
{
	if (p->disabled || p->mode == NOTIFY_OFF)
		return false;
	if (force || p->mode == NOTIFY_IMMEDIATE)
		return true;
	return now - p->last_mail_at >= (p->mode == NOTIFY_HOURLY ? 3600 : 86400);
}

static void group_link(struct sb *b, const char *base, const struct audit_row *r,
		       const struct activity_group *g)
{
	if (activity_site(r->action)) {
		sb_puts(b, base);
		sb_puts(b, !strcmp(r->action, "news_create") ? "/#/news" : "/#/events");
		return;
	}
	sb_puts(b, base);
	sb_puts(b, "/#/wp/");
	sb_urlpath(b, r->wp_code ? r->wp_code : "");
	if (g->count > 1 || !strcmp(r->action, "grant") || !strcmp(r->action, "delete") ||
	    !strcmp(r->action, "purge")) {
		if (*g->folder) {
			sb_puts(b, "/");
			sb_urlpath(b, g->folder);
		}
	} else if (r->object && *r->object) {
		sb_puts(b, "/");
		sb_urlpath(b, r->object);
	}
}

/* `key`'s plural form for `n` filled with count and link; NULL when out
 * of memory. */
static char *counted(const char *lang, const char *key, size_t n, const char *link)
{
	char count[24];

	snprintf(count, sizeof count, "%zu", n);
	return mailtext_fill(mailtext_plural(lang, key, (int64_t)n),
			     (const char *const[]){"count", count, "link", link, NULL});
}

/* The digest of `ev` (the person's events, oldest first) in `lang`. */
static char *make_digest(const struct config *cfg, const struct notify_prefs *p, const char *lang,
			 const struct audit_row *ev, size_t n, int64_t upto)
{
	struct activity_group *g = NULL;
	struct sb text = {0}, html = {0}, link = {0};
	char base[1024], id_left[96], line[2048], when[80], unsub[1200];
	size_t ng = 0;
	char *msg = NULL, *subject = NULL, *intro = NULL;

	if (activity_group(ev, n, true, &g, &ng))
		return NULL;
	snprintf(base, sizeof base, "%s", link_base);
	snprintf(unsub, sizeof unsub, "%s/api/v1/unsubscribe/%s", base, p->unsub);
	/* One digest per person and cursor position: a rebuilt digest would
	 * have the same id, and the cursor makes sure there is none. */
	snprintf(id_left, sizeof id_left, "consort.digest.%lld.%lld", (long long)p->user_id,
		 (long long)upto);
	subject = counted(lang, "digest.subject", n, "");
	intro = counted(lang, "digest.intro", n, "");
	if (!subject || !intro)
		goto out;
	sb_printf(&text, "%s\r\n\r\n%s\r\n\r\n", mailtext_get(lang, "hello"), intro);
	sb_puts(&html, "<!DOCTYPE html><html><body><p>");
	sb_html(&html, mailtext_get(lang, "hello"));
	sb_puts(&html, "</p><p>");
	sb_html(&html, intro);
	sb_puts(&html, "</p><ul>");
	for (size_t i = 0; i < ng && i < MAIL_MAX_GROUPS; i++) {
		const struct audit_row *r = &ev[g[i].idx[0]];

		activity_sentence(&g[i], ev, lang, line, sizeof line);
		mailtext_date(lang, ev[g[i].idx[g[i].count - 1]].at, when, sizeof when);
		link.len = 0;
		if (link.p)
			link.p[0] = '\0';
		group_link(&link, base, r, &g[i]);
		sb_printf(&text, "* %s (%s)\r\n  %s\r\n", line, when, link.oom ? "" : link.p);
		/* the names of a small group, so one sees what came */
		for (size_t k = 0; g[i].count > 1 && k < g[i].count && k < MAIL_GROUP_NAMES; k++) {
			const char *o = ev[g[i].idx[k]].object, *slash = strrchr(o, '/');

			sb_printf(&text, "    %s\r\n", slash ? slash + 1 : o);
		}
		if (g[i].count > MAIL_GROUP_NAMES)
			sb_printf(&text, "    ...\r\n");
		sb_puts(&html, "<li><a href=\"");
		sb_html(&html, link.oom ? "" : link.p);
		sb_puts(&html, "\">");
		sb_html(&html, line);
		sb_puts(&html, "</a> <small>(");
		sb_html(&html, when);
		sb_puts(&html, ")</small></li>");
	}
	if (ng > MAIL_MAX_GROUPS) {
		char home[1100], *more;

		snprintf(home, sizeof home, "%s/#/", base);
		more = counted(lang, "digest.more", ng - MAIL_MAX_GROUPS, home);
		if (!more)
			goto out;
		sb_printf(&text, "\r\n%s\r\n", more);
		sb_puts(&html, "<li>");
		sb_html(&html, more);
		sb_puts(&html, "</li>");
		free(more);
	}
	sb_printf(&text, "\r\n%s\r\n%s: %s/#/account\r\n%s: %s\r\n",
		  mailtext_get(lang, "digest.why"), mailtext_get(lang, "digest.settings"), base,
		  mailtext_get(lang, "digest.unsubscribe_text"), unsub);
	sb_puts(&html, "</ul><p><small>");
	sb_html(&html, mailtext_get(lang, "digest.why"));
	sb_puts(&html, " <a href=\"");
	sb_html(&html, base);
	sb_puts(&html, "/#/account\">");
	sb_html(&html, mailtext_get(lang, "digest.settings"));
	sb_puts(&html, "</a> &middot; <a href=\"");
	sb_html(&html, unsub);
	sb_puts(&html, "\">");
	sb_html(&html, mailtext_get(lang, "digest.unsubscribe"));
	sb_puts(&html, "</a></small></p></body></html>");
	if (!text.oom && !html.oom && !link.oom)
		msg = make_message(cfg, p->email, subject, id_left, unsub, text.p, html.p);
out:
	free(subject);
	free(intro);
	free(text.p);
	free(html.p);
	free(link.p);
	activity_groups_free(g, ng);
	return msg;
}

/* One person's digest, made outside any transaction: *msg (malloc'd)
 * or NULL when nothing of theirs happened. */
static enum err digest_make(struct db *db, const struct config *cfg, const struct notify_prefs *p,
			    const struct audit_row *ev, size_t n, int64_t upto, char **msg)
{
	struct acct_wp *wps = NULL;
	struct notify_follow *fl = NULL;
	struct audit_row *mine = NULL;
	size_t nw = 0, nf = 0, nm = 0;
	bool news = true;
	char lang[16];
	enum err rc;

	*msg = NULL;
	rc = acl_recipient_wps(db, p->user_id, &wps, &nw);
	if (!rc)
		rc = notify_language_get(db, p->user_id, lang, sizeof lang);
	if (!rc)
		rc = notify_follow_list(db, p->user_id, &fl, &nf);
	if (!rc)
		rc = notify_news_get(db, p->user_id, &news);
	if (!rc && n && !(mine = calloc(n, sizeof *mine)))
		rc = err_set(ERR_NOMEM, "out of memory");
	if (rc)
		goto out;
	/* Borrowed rows (shallow copies): never freed through `mine`. */
	for (size_t i = 0; i < n; i++) {
		const struct audit_row *e = &ev[i];

		if (e->id <= p->cursor || e->id > upto || e->user_id == p->user_id)
			continue;
		/* Consortium news and events: to everyone who did not turn
		 * them off, when they may see the item now. */
		if (activity_site(e->action)) {
			if (news && acl_site_event_visible(db, e, wps, nw))
				mine[nm++] = *e;
			continue;
		}
		if (!acl_activity_visible(level_of(wps, nw, e->wp_id), e->action))
			continue;
		if (followed(fl, nf, e))
			mine[nm++] = *e;
	}
	if (nm && !(*msg = make_digest(cfg, p, lang, mine, nm, upto)))
		rc = err_set(ERR_NOMEM, "out of memory");
out:
	free(mine);
	notify_follows_free(fl, nf);
	acct_wps_free(wps, nw);
	return rc;
}

/* Digests made, waiting for their transaction. */
struct made {
	int64_t user_id;
	int64_t cursor; /* as read before making */
	char *msg;      /* NULL: nothing to tell, the cursor moves */
};

/* Up to this many people's digests and cursors commit together: one
 * transaction (one fsync) a batch, not one a person. */
#define DIGEST_BATCH 64

/* Queue the made digests and move their cursors, in one transaction. A
 * person whose cursor moved since it was read (another round made their
 * digest meanwhile: the test hook, a second thread) is skipped, so an
 * event is in one digest only. Frees the messages. */
static enum err digest_commit(struct db *db, struct made *m, size_t n, int64_t upto, size_t *queued)
{
	size_t q = 0;
	enum err rc = db_begin(db);

	for (size_t i = 0; i < n && !rc; i++) {
		int64_t cur;

		rc = notify_cursor_get(db, m[i].user_id, &cur);
		if (rc || cur != m[i].cursor)
			continue;
		if (m[i].msg)
			rc = notify_outbox_add(db, m[i].user_id, "digest", NULL, m[i].msg, NULL);
		if (!rc)
			rc = notify_cursor_set(db, m[i].user_id, upto, m[i].msg ? db_now() : 0);
		q += !rc && m[i].msg;
	}
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db);
		q = 0;
	}
	for (size_t i = 0; i < n; i++) {
		free(m[i].msg);
		m[i].msg = NULL;
	}
	*queued += q;
	return rc;
}

enum err mail_digest_run(struct db *db, const struct config *cfg, bool force, struct mail_run *out)
{
	struct notify_prefs *people = NULL;
	struct audit_row *ev = NULL;
	struct made batch[DIGEST_BATCH];
	size_t np = 0, nev = 0, nb = 0;
	int64_t upto = 0, from = INT64_MAX, now = db_now();
	enum err rc;

	memset(out, 0, sizeof *out);
	rc = notify_prefs_all(db, &people, &np);
	if (!rc)
		rc = notify_last_event(db, &upto);
	if (rc)
		goto out;
	for (size_t i = 0; i < np; i++)
		if (due(&people[i], now, force) && people[i].cursor < from)
			from = people[i].cursor;
	if (from >= upto)
		goto out;
	rc = notify_events(db, from, upto, MAIL_MAX_EVENTS, &ev, &nev);
	if (rc)
		goto out;
	if (nev == MAIL_MAX_EVENTS)
		upto = ev[nev - 1].id;
	out->events = nev;
	for (size_t i = 0; i < np && !rc; i++) {
		if (!due(&people[i], now, force) || people[i].cursor >= upto)
			continue;
		out->people++;
		batch[nb].user_id = people[i].user_id;
		batch[nb].cursor = people[i].cursor;
		rc = digest_make(db, cfg, &people[i], ev, nev, upto, &batch[nb].msg);
		if (rc)
			break;
		if (++nb == DIGEST_BATCH) {
			rc = digest_commit(db, batch, nb, upto, &out->mails);
			nb = 0;
		}
	}
	if (!rc && nb)
		rc = digest_commit(db, batch, nb, upto, &out->mails);
	else
		for (size_t i = 0; i < nb; i++)
			free(batch[i].msg);
out:
	audit_rows_free(ev, nev);
	notify_prefs_free(people, np);
	return rc;
}

/* --- sending ---------------------------------------------------------------------- */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool running, stop, kicked;
	const struct config *cfg;
	char *password;
	uint64_t sent, failures;
	char last_error[256];
} s = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
};

void mail_stats(struct mail_stats *out)
{
	pthread_mutex_lock(&s.lock);
	out->sent = s.sent;
	out->send_failures = s.failures;
	out->smtp = s.cfg && s.cfg->smtp_url;
	snprintf(out->last_error, sizeof out->last_error, "%s", s.last_error);
	pthread_mutex_unlock(&s.lock);
}

void mail_wake(void)
{
	pthread_mutex_lock(&s.lock);
	s.kicked = true;
	pthread_cond_signal(&s.wake);
	pthread_mutex_unlock(&s.lock);
}

/* DATA/outbox/ID-KIND.eml, written whole before it appears. */
static enum err deliver_file(const struct config *cfg, const struct notify_mail *m, const char *msg)
{
	char dir[4096], tmp[4200], path[4200];
	size_t len = strlen(msg), done = 0;
	enum err rc = ERR_OK;
	int fd;

	snprintf(dir, sizeof dir, "%s/outbox", cfg->data_dir);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return err_set(ERR_IO, "cannot create %s: %s", dir, strerror(errno));
	snprintf(path, sizeof path, "%s/%08lld-%s.eml", dir, (long long)m->id, m->kind);
	snprintf(tmp, sizeof tmp, "%s/.%08lld.tmp", dir, (long long)m->id);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_set(ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
	while (done < len) {
		ssize_t w = write(fd, msg + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = err_set(ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
			break;
		}
		done += (size_t)w;
	}
	if (!rc && fsync(fd) != 0)
		rc = err_set(ERR_IO, "cannot sync %s: %s", tmp, strerror(errno));
	close(fd);
	if (!rc && rename(tmp, path) != 0)
		rc = err_set(ERR_IO, "cannot rename to %s: %s", path, strerror(errno));
	if (rc)
		unlink(tmp);
	return rc;
}

struct reader {
	const char *p;
	size_t left;
};

static size_t read_message(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct reader *r = arg;
	size_t n = size * nmemb < r->left ? size * nmemb : r->left;

	memcpy(buf, r->p, n);
	r->p += n;
	r->left -= n;
	return n;
}

static enum err deliver_smtp(const struct config *cfg, const char *password,
			     const struct notify_mail *m, const char *msg)
{
	char from[320], rcpt[330], from_env[330], errbuf[CURL_ERROR_SIZE] = "";
	struct reader r = {msg, strlen(msg)};
	struct curl_slist *to = NULL;
	CURL *c = curl_easy_init();
	CURLcode res;

	if (!c)
		return err_set(ERR_NOMEM, "cannot start a mail transfer");
	bare_address(mail_from(cfg), from, sizeof from);
	snprintf(from_env, sizeof from_env, "<%s>", from);
	snprintf(rcpt, sizeof rcpt, "<%s>", m->rcpt);
	to = curl_slist_append(NULL, rcpt);
	curl_easy_setopt(c, CURLOPT_URL, cfg->smtp_url);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from_env);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, to);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_message);
	curl_easy_setopt(c, CURLOPT_READDATA, &r);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	/* smtp:// must upgrade with STARTTLS: no mail in clear text */
	curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (cfg->smtp_user) {
		curl_easy_setopt(c, CURLOPT_USERNAME, cfg->smtp_user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, password ? password : "");
	}
	if (cfg->smtp_ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, cfg->smtp_ca_file);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	res = curl_easy_perform(c);
	curl_slist_free_all(to);
	curl_easy_cleanup(c);
	if (res != CURLE_OK)
		return err_set(ERR_IO, "%s", *errbuf ? errbuf : curl_easy_strerror(res));
	return ERR_OK;
}

/* Mark delivered messages sent, up to MAIL_MARK_BATCH in one transaction
 * (one fsync for several, not one each): a crash before the mark sends
 * them again, so this is the duplicate window (mail.h). Returns 0. */
static size_t mark_sent(struct db *db, const int64_t *ids, size_t n)
{
	enum err rc;

	if (n == 0)
		return 0;
	rc = db_begin(db);
	for (size_t i = 0; i < n && !rc; i++)
		rc = notify_outbox_sent(db, ids[i], db_now());
	if (!rc)
		rc = db_commit(db);
	if (rc) {
		db_rollback(db);
		log_event(LOG_ERROR, "mail",
			  "%zu mails sent, not marked (they will be sent again): %s", n,
			  err_detail());
	}
	return 0;
}

/* Send (or file) what is due; false when the batch was not full. */
static bool send_batch(struct db *db)
{
	const struct config *cfg = s.cfg;
	struct notify_mail *m = NULL;
	int64_t done[MAIL_MARK_BATCH];
	size_t n = 0, ndone = 0;
	int64_t now = db_now();

	if (notify_outbox_due(db, now, MAIL_BATCH, &m, &n))
		return false;
	for (size_t i = 0; i < n; i++) {
		enum err rc = ERR_OK;

		if (!m[i].message) {
			char lang[16];

			/* the language of the person when the mail is made */
			notify_language_get(db, m[i].user_id, lang, sizeof lang);
			err_clear();
			m[i].message = make_account_message(cfg, &m[i], lang);
			if (!m[i].message)
				rc = err_set(ERR_INVALID, "cannot make a message of kind %s",
					     m[i].kind);
			else
				rc = notify_outbox_set_message(db, m[i].id, m[i].message);
		}
		if (!rc)
			rc = cfg->smtp_url ? deliver_smtp(cfg, s.password, &m[i], m[i].message)
					   : deliver_file(cfg, &m[i], m[i].message);
		pthread_mutex_lock(&s.lock);
		if (rc) {
			s.failures++;
			snprintf(s.last_error, sizeof s.last_error, "%s", err_detail());
		} else {
			s.sent++;
			s.last_error[0] = '\0';
		}
		pthread_mutex_unlock(&s.lock);
		if (!rc) {
			done[ndone++] = m[i].id;
			if (ndone == MAIL_MARK_BATCH)
				ndone = mark_sent(db, done, ndone);
		} else {
			int64_t wait = cfg->mail_retry_ms / 1000 ? cfg->mail_retry_ms / 1000 : 1;
			bool give_up = now - m[i].created_at > MAIL_GIVE_UP;
			char why[256];

			for (int k = 0; k < m[i].attempts && wait < MAIL_RETRY_MAX; k++)
				wait *= 2;
			if (wait > MAIL_RETRY_MAX)
				wait = MAIL_RETRY_MAX;
			snprintf(why, sizeof why, "%s", err_detail());
			log_event(give_up ? LOG_ERROR : LOG_WARN, "mail",
				  "mail %lld (%s) not sent, attempt %d%s: %s", (long long)m[i].id,
				  m[i].kind, m[i].attempts + 1, give_up ? ", giving up" : "", why);
			notify_outbox_retry(db, m[i].id, now + wait, why, give_up);
		}
	}
	mark_sent(db, done, ndone);
	notify_mails_free(m, n);
	return n == MAIL_BATCH;
}

static void *mail_thread(void *arg)
{
	struct db *db = NULL;
	char path[4200];

	(void)arg;
	snprintf(path, sizeof path, "%s/consort.db", s.cfg->data_dir);
	if (db_open(path, &db)) {
		log_event(LOG_ERROR, "mail", "cannot open the database: %s", err_detail());
		return NULL;
	}
	pthread_mutex_lock(&s.lock);
	while (!s.stop) {
		struct mail_run run;
		struct timespec until;
		uint64_t ns;

		pthread_mutex_unlock(&s.lock);
		if (mail_digest_run(db, s.cfg, false, &run))
			log_event(LOG_ERROR, "mail", "digests: %s", err_detail());
		while (send_batch(db))
			;
		pthread_mutex_lock(&s.lock);
		if (s.stop)
			break;
		if (s.kicked) {
			s.kicked = false;
			continue;
		}
		clock_gettime(CLOCK_REALTIME, &until);
		ns = (uint64_t)until.tv_nsec + (uint64_t)s.cfg->notify_interval_ms % 1000 * 1000000;
		until.tv_sec += s.cfg->notify_interval_ms / 1000 + (time_t)(ns / 1000000000);
		until.tv_nsec = (long)(ns % 1000000000);
		while (!s.stop && !s.kicked &&
		       pthread_cond_timedwait(&s.wake, &s.lock, &until) != ETIMEDOUT)
			;
		s.kicked = false;
	}
	pthread_mutex_unlock(&s.lock);
	db_close(db);
	return NULL;
}

static enum err read_password(const char *file, char **out)
{
	char buf[1024];
	FILE *f = fopen(file, "re");
	size_t n;

	*out = NULL;
	if (!f)
		return err_set(ERR_INVALID, "smtp-password-file: %s: %s", file, strerror(errno));
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	*out = strdup(buf);
	explicit_bzero(buf, sizeof buf);
	return *out ? ERR_OK : err_set(ERR_NOMEM, "out of memory");
}

enum err mail_start(const struct config *cfg, const char *public_url)
{
	enum err rc = ERR_OK;

	if (s.running)
		return err_set(ERR_INTERNAL, "the mail thread runs already");
	if (cfg->smtp_password_file) {
		rc = read_password(cfg->smtp_password_file, &s.password);
		if (rc)
			return rc;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return err_set(ERR_INTERNAL, "cannot initialise libcurl");
	s.cfg = cfg;
	link_base = public_url;
	s.stop = false;
	s.kicked = false;
	if (pthread_create(&s.thread, NULL, mail_thread, NULL) != 0) {
		curl_global_cleanup();
		return err_set(ERR_INTERNAL, "cannot start the mail thread");
	}
	s.running = true;
	if (cfg->smtp_url)
		log_event(LOG_INFO, "mail", "mail goes to %s", cfg->smtp_url);
	else
		log_event(LOG_INFO, "mail", "no smtp-url: mail is written to %s/outbox/",
			  cfg->data_dir);
	return ERR_OK;
}

void mail_stop(void)
{
	if (!s.running)
		return;
	pthread_mutex_lock(&s.lock);
	s.stop = true;
	pthread_cond_signal(&s.wake);
	pthread_mutex_unlock(&s.lock);
	pthread_join(s.thread, NULL);
	s.running = false;
	curl_global_cleanup();
	if (s.password) {
		explicit_bzero(s.password, strlen(s.password));
		free(s.password);
		s.password = NULL;
	}
}

/* --- notices (deliverable review tasks and reminders) ---------------------------- */

enum err mail_notice(struct db *db, const struct config *cfg, int64_t user_id, const char *rcpt,
		     const char *kind, const char *id_left, const char *subject_key,
		     const char *body_key, const char *const *kv, const char *link)
{
	struct sb t = {0}, html = {0};
	char lang[16], url[1400];
	char *msg = NULL, *subject;
	enum err rc = notify_language_get(db, user_id, lang, sizeof lang);

	if (rc)
		return rc;
	snprintf(url, sizeof url, "%s%s", link_base, link);
	subject = mailtext_fill(mailtext_get(lang, subject_key), kv);
	body_paras(&t, &html, lang, mailtext_get(lang, body_key), kv, NULL);
	sb_printf(&t, "%s\r\n", url);
	sb_puts(&html, "<p><a href=\"");
	sb_html(&html, url);
	sb_puts(&html, "\">");
	sb_html(&html, mailtext_get(lang, "open_in_consort"));
	sb_puts(&html, "</a></p>");
	if (subject && !t.oom && !html.oom)
		msg = make_message(cfg, rcpt, subject, id_left, NULL, t.p, html.p);
	free(subject);
	free(t.p);
	free(html.p);
	if (!msg)
		return err_set(ERR_NOMEM, "out of memory");
	rc = notify_outbox_add(db, user_id, kind, NULL, msg, NULL);
	free(msg);
	return rc;
}
