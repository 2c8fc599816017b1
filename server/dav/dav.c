/* dav — see dav.h. */
#include "dav/dav.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- libxml2 under limits ---- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_xml(void) { xmlInitParser(); }

void dav_init(void) { pthread_once(&init_once, init_xml); }

struct guard {
	bool dtd;
};

/* A DOCTYPE is where entities would be declared: none is accepted, so
 * the parse stops at the first sign of one. */
static void on_subset(void *ctx, const xmlChar *name, const xmlChar *ext, const xmlChar *sys)
{
	xmlParserCtxtPtr c = ctx;

	(void)name;
	(void)ext;
	(void)sys;
	((struct guard *)c->_private)->dtd = true;
	xmlStopParser(c);
}

/* Errors are read from the context afterwards; nothing goes to stderr. */
static void on_error(void *ctx, xmlErrorPtr e)
{
	(void)ctx;
	(void)e;
}

/* Some errors (encoding conversion) bypass the context and go to the
 * generic handler, stderr by default: client bytes would reach the
 * server's log. */
static void quiet(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static bool too_deep(xmlNodePtr n, int depth)
{
	if (depth > DAV_XML_MAX_DEPTH)
		return true;
	for (xmlNodePtr c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && too_deep(c, depth + 1))
			return true;
	return false;
}

static enum err parse_xml(const char *body, size_t len, xmlDocPtr *out)
{
	struct guard g = {false};
	xmlParserCtxtPtr c;
	xmlDocPtr doc;
	enum err rc = ERR_OK;
	int wf;

	*out = NULL;
	dav_init();
	/* Per thread in libxml2, so set where the parsing happens. */
	xmlSetGenericErrorFunc(NULL, quiet);
	if (len > DAV_BODY_MAX)
		return err_set(ERR_TOOLARGE, "an XML body may have at most %d bytes", DAV_BODY_MAX);
	c = xmlCreateMemoryParserCtxt(body, (int)len);
	if (!c)
		return err_set(ERR_NOMEM, "out of memory");
	c->_private = &g;
	c->sax->internalSubset = on_subset;
	c->sax->externalSubset = on_subset;
	c->sax->serror = on_error;
	c->sax->warning = NULL;
	c->sax->error = NULL;
	xmlCtxtUseOptions(c, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
				     XML_PARSE_NOCDATA);
	/* xmlCtxtUseOptions may reset the handlers it does not know of. */
	c->sax->serror = on_error;
	c->sax->internalSubset = on_subset;
	c->sax->externalSubset = on_subset;
	xmlParseDocument(c);
	doc = c->myDoc;
	/* A namespace error (an undeclared prefix, xmlns:p="") leaves the
	 * document well-formed XML but not a namespace-well-formed one. */
	wf = c->wellFormed && c->nsWellFormed;
	if (g.dtd) {
		rc = err_set(ERR_INVALID, "a DOCTYPE is not allowed in a WebDAV request body");
	} else if (!wf || !doc) {
		const xmlError *e = xmlCtxtGetLastError(c);
		char msg[200] = "";

		if (e && e->message) {
			snprintf(msg, sizeof msg, "%s", e->message);
			msg[strcspn(msg, "\r\n")] = '\0';
		}
		rc = err_set(ERR_INVALID, "malformed XML at line %d: %s", e ? e->line : 0,
			     *msg ? msg : "not well-formed");
	} else if (too_deep(xmlDocGetRootElement(doc), 1)) {
		rc = err_set(ERR_INVALID, "XML nested deeper than %d elements", DAV_XML_MAX_DEPTH);
	}
	xmlFreeParserCtxt(c);
	if (rc) {
		xmlFreeDoc(doc);
		return rc;
	}
	*out = doc;
	return ERR_OK;
}

static const char *ns_of(xmlNodePtr n)
{
	return n->ns && n->ns->href ? (const char *)n->ns->href : "";
}

static bool is_dav(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && !strcmp(ns_of(n), DAV_NS) &&
	       !strcmp((const char *)n->name, name);
}

static xmlNodePtr first_element(xmlNodePtr n)
{
	for (; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return n;
	return NULL;
}

static enum err pname_set(struct dav_pname *pn, xmlNodePtr n)
{
	pn->ns = strdup(ns_of(n));
	pn->name = strdup((const char *)n->name);
	if (!pn->ns || !pn->name)
		return err_set(ERR_NOMEM, "out of memory");
	return ERR_OK;
}

/* Append the element children of `prop` as names to (*v, *n). */
static enum err collect_names(xmlNodePtr prop, struct dav_pname **v, size_t *n)
{
	for (xmlNodePtr c = first_element(prop->children); c; c = first_element(c->next)) {
		struct dav_pname *bigger;
		enum err rc;

		if (*n >= DAV_MAX_PROPS)
			return err_set(ERR_INVALID, "at most %d properties in one request",
				       DAV_MAX_PROPS);
		bigger = realloc(*v, (*n + 1) * sizeof **v);
		if (!bigger)
			return err_set(ERR_NOMEM, "out of memory");
		*v = bigger;
		memset(&(*v)[*n], 0, sizeof **v);
		rc = pname_set(&(*v)[(*n)++], c);
		if (rc)
			return rc;
	}
	return ERR_OK;
}

/* The element `n` as XML text that stands on its own: every namespace
 * it or its descendants use is declared on it. */
static char *serialize(xmlNodePtr n)
{
	xmlDocPtr d = xmlNewDoc((const xmlChar *)"1.0");
	xmlBufferPtr b = NULL;
	xmlNodePtr copy;
	char *s = NULL;

	if (!d)
		return NULL;
	copy = xmlDocCopyNode(n, d, 1);
	if (!copy)
		goto out;
	xmlDocSetRootElement(d, copy);
	xmlReconciliateNs(d, copy);
	b = xmlBufferCreate();
	if (!b || xmlNodeDump(b, d, copy, 0, 0) < 0)
		goto out;
	s = strdup((const char *)xmlBufferContent(b));
out:
	xmlBufferFree(b);
	xmlFreeDoc(d);
	return s;
}

/* ---- PROPFIND ---- */

/* Only white space (or nothing): an empty PROPFIND body. The body is
 * not NUL-terminated. */
static bool blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

void dav_propfind_free(struct dav_propfind *pf)
{
	for (size_t i = 0; pf && i < pf->n; i++) {
		free(pf->props[i].ns);
		free(pf->props[i].name);
	}
	if (pf) {
		free(pf->props);
		memset(pf, 0, sizeof *pf);
	}
}

enum err dav_parse_propfind(const char *body, size_t len, struct dav_propfind *out)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root, c, include = NULL;
	int kinds = 0;
	enum err rc;

	memset(out, 0, sizeof *out);
	out->kind = DAV_PROPFIND_ALLPROP;
	if (blank(body, len))
		return ERR_OK;
	rc = parse_xml(body, len, &doc);
	if (rc)
		return rc;
	root = xmlDocGetRootElement(doc);
	if (!is_dav(root, "propfind")) {
		rc = err_set(ERR_INVALID, "a PROPFIND body must be a DAV:propfind element");
		goto out;
	}
	for (c = first_element(root->children); c && !rc; c = first_element(c->next)) {
		if (is_dav(c, "allprop")) {
			out->kind = DAV_PROPFIND_ALLPROP;
			kinds++;
		} else if (is_dav(c, "propname")) {
			out->kind = DAV_PROPFIND_PROPNAME;
			kinds++;
		} else if (is_dav(c, "prop")) {
			out->kind = DAV_PROPFIND_PROP;
			kinds++;
			rc = collect_names(c, &out->props, &out->n);
		} else if (is_dav(c, "include")) {
			include = c;
		}
		/* anything else: ignored, as RFC 4918 17 asks of unknown elements */
	}
	if (!rc && kinds != 1)
		rc = err_set(ERR_INVALID,
			     "DAV:propfind needs exactly one of allprop, propname, prop");
	if (!rc && include && out->kind != DAV_PROPFIND_ALLPROP)
		rc = err_set(ERR_INVALID, "DAV:include goes only with DAV:allprop");
	if (!rc && include)
		rc = collect_names(include, &out->props, &out->n);
out:
	xmlFreeDoc(doc);
	if (rc)
		dav_propfind_free(out);
	return rc;
}

/* ---- PROPPATCH ---- */

void dav_proppatch_free(struct dav_proppatch *pp)
{
	for (size_t i = 0; pp && i < pp->n; i++) {
		free(pp->ops[i].pn.ns);
		free(pp->ops[i].pn.name);
		free(pp->ops[i].xml);
	}
	if (pp) {
		free(pp->ops);
		memset(pp, 0, sizeof *pp);
	}
}

enum err dav_parse_proppatch(const char *body, size_t len, struct dav_proppatch *out)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root, op, prop, p;
	enum err rc;

	memset(out, 0, sizeof *out);
	if (len == 0)
		return err_set(ERR_INVALID, "PROPPATCH needs a DAV:propertyupdate body");
	rc = parse_xml(body, len, &doc);
	if (rc)
		return rc;
	root = xmlDocGetRootElement(doc);
	if (!is_dav(root, "propertyupdate")) {
		rc = err_set(ERR_INVALID, "a PROPPATCH body must be a DAV:propertyupdate element");
		goto out;
	}
	for (op = first_element(root->children); op && !rc; op = first_element(op->next)) {
		bool remove = is_dav(op, "remove");

		if (!remove && !is_dav(op, "set"))
			continue;
		prop = first_element(op->children);
		if (!is_dav(prop, "prop")) {
			rc = err_set(ERR_INVALID, "DAV:%s must contain DAV:prop",
				     remove ? "remove" : "set");
			break;
		}
		for (p = first_element(prop->children); p && !rc; p = first_element(p->next)) {
			struct dav_propop *bigger, *o;

			if (out->n >= DAV_MAX_PROPS) {
				rc = err_set(ERR_INVALID, "at most %d properties in one request",
					     DAV_MAX_PROPS);
				break;
			}
			bigger = realloc(out->ops, (out->n + 1) * sizeof *out->ops);
			if (!bigger) {
				rc = err_set(ERR_NOMEM, "out of memory");
				break;
			}
			out->ops = bigger;
			o = &out->ops[out->n++];
			memset(o, 0, sizeof *o);
			o->remove = remove;
			rc = pname_set(&o->pn, p);
			if (!rc && !remove && !(o->xml = serialize(p)))
				rc = err_set(ERR_NOMEM, "out of memory");
		}
	}
	if (!rc && out->n == 0)
		rc = err_set(ERR_INVALID, "DAV:propertyupdate names no property to set or remove");
out:
	xmlFreeDoc(doc);
	if (rc)
		dav_proppatch_free(out);
	return rc;
}

/* ---- LOCK ---- */

void dav_lockinfo_free(struct dav_lockinfo *li)
{
	if (li) {
		free(li->owner);
		memset(li, 0, sizeof *li);
	}
}

enum err dav_parse_lockinfo(const char *body, size_t len, struct dav_lockinfo *out)
{
	xmlDocPtr doc = NULL;
	xmlNodePtr root, c, v;
	bool scope = false, type = false;
	enum err rc;

	memset(out, 0, sizeof *out);
	if (len == 0)
		return err_set(ERR_INVALID, "a new lock needs a DAV:lockinfo body");
	rc = parse_xml(body, len, &doc);
	if (rc)
		return rc;
	root = xmlDocGetRootElement(doc);
	if (!is_dav(root, "lockinfo")) {
		rc = err_set(ERR_INVALID, "a LOCK body must be a DAV:lockinfo element");
		goto out;
	}
	for (c = first_element(root->children); c && !rc; c = first_element(c->next)) {
		if (is_dav(c, "lockscope")) {
			v = first_element(c->children);
			if (is_dav(v, "exclusive"))
				out->exclusive = true;
			else if (!is_dav(v, "shared"))
				rc = err_set(ERR_INVALID,
					     "DAV:lockscope must be exclusive or shared");
			scope = true;
		} else if (is_dav(c, "locktype")) {
			v = first_element(c->children);
			if (!is_dav(v, "write"))
				rc = err_set(ERR_UNSUPPORTED, "only write locks exist");
			type = true;
		} else if (is_dav(c, "owner") && !out->owner) {
			out->owner = serialize(c);
			if (!out->owner)
				rc = err_set(ERR_NOMEM, "out of memory");
		}
	}
	if (!rc && (!scope || !type))
		rc = err_set(ERR_INVALID, "DAV:lockinfo needs DAV:lockscope and DAV:locktype");
	if (!rc && !out->owner && !(out->owner = strdup("")))
		rc = err_set(ERR_NOMEM, "out of memory");
out:
	xmlFreeDoc(doc);
	if (rc)
		dav_lockinfo_free(out);
	return rc;
}

/* ---- If header ---- */

void dav_if_free(struct dav_if *f)
{
	for (size_t i = 0; f && i < f->n; i++) {
		for (size_t j = 0; j < f->lists[i].n; j++)
			free(f->lists[i].conds[j].value);
		free(f->lists[i].conds);
		free(f->lists[i].resource);
	}
	if (f) {
		free(f->lists);
		memset(f, 0, sizeof *f);
	}
}

static const char *skip_lws(const char *p) { return p + strspn(p, " \t"); }

/* "<...>" at *p: a Coded-URL or Resource-Tag. Returns the inside,
 * malloc'd, or NULL with the error set. */
static char *angle(const char **p, enum err *rc)
{
	const char *s = *p + 1, *e = s;
	char *v;

	while (*e && *e != '>') {
		unsigned char ch = (unsigned char)*e;

		if (ch <= 0x20 || ch == 0x7f || ch == '<') {
			*rc = err_set(ERR_INVALID,
				      "If header: a URI in <> contains a space or '<'");
			return NULL;
		}
		e++;
	}
	if (*e != '>' || e == s) {
		*rc = err_set(ERR_INVALID, "If header: unterminated or empty <URI>");
		return NULL;
	}
	v = strndup(s, (size_t)(e - s));
	if (!v)
		*rc = err_set(ERR_NOMEM, "out of memory");
	*p = e + 1;
	return v;
}

/* "[entity-tag]" at *p. */
static char *bracket(const char **p, enum err *rc)
{
	const char *s = *p + 1, *e;
	char *v;

	if (!strncmp(s, "W/", 2))
		s += 2;
	if (*s != '"') {
		*rc = err_set(ERR_INVALID, "If header: an entity tag must be quoted");
		return NULL;
	}
	for (e = s + 1; *e && *e != '"'; e++) {
		unsigned char ch = (unsigned char)*e;

		if (ch < 0x21 || ch == 0x7f) {
			*rc = err_set(ERR_INVALID, "If header: bad character in an entity tag");
			return NULL;
		}
	}
	if (*e != '"' || e[1] != ']') {
		*rc = err_set(ERR_INVALID, "If header: unterminated [entity-tag]");
		return NULL;
	}
	v = strndup(*p + 1, (size_t)(e + 1 - (*p + 1)));
	if (!v)
		*rc = err_set(ERR_NOMEM, "out of memory");
	*p = e + 2;
	return v;
}

static enum err add_list(struct dav_if *f, const char *resource)
{
	struct dav_if_list *bigger = realloc(f->lists, (f->n + 1) * sizeof *f->lists);

	if (!bigger)
		return err_set(ERR_NOMEM, "out of memory");
	f->lists = bigger;
	memset(&f->lists[f->n], 0, sizeof *f->lists);
	if (resource && !(f->lists[f->n].resource = strdup(resource)))
		return err_set(ERR_NOMEM, "out of memory");
	f->n++;
	return ERR_OK;
}

static enum err add_cond(struct dav_if_list *l, bool negated, bool etag, char *value)
{
	struct dav_if_cond *bigger = realloc(l->conds, (l->n + 1) * sizeof *l->conds);

	if (!bigger) {
		free(value);
		return err_set(ERR_NOMEM, "out of memory");
	}
	l->conds = bigger;
	l->conds[l->n++] = (struct dav_if_cond){.negated = negated, .etag = etag, .value = value};
	return ERR_OK;
}

enum err dav_if_parse(const char *value, struct dav_if *out)
{
	const char *p = value;
	char *tag = NULL;
	size_t conds = 0;
	enum err rc = ERR_OK;

	memset(out, 0, sizeof *out);
	if (strlen(value) > DAV_IF_MAX)
		return err_set(ERR_INVALID, "If header longer than %d bytes", DAV_IF_MAX);
	for (p = skip_lws(p); *p && !rc; p = skip_lws(p)) {
		if (*p == '<') {
			free(tag);
			tag = angle(&p, &rc);
			if (!tag)
				break;
			p = skip_lws(p);
			if (*p != '(') {
				rc = err_set(ERR_INVALID, "If header: a resource tag must be "
							  "followed by a list");
				break;
			}
			continue;
		}
		if (*p != '(') {
			rc = err_set(ERR_INVALID, "If header: expected '(' or '<' at \"%.20s\"", p);
			break;
		}
		/* RFC 4918's grammar has either untagged or tagged lists, but
		 * clients (litmus's complex_cond_put among them) send untagged
		 * lists followed by tagged ones; both are read as written. */
		rc = add_list(out, tag);
		if (rc)
			break;
		p++;
		for (p = skip_lws(p); *p && *p != ')' && !rc; p = skip_lws(p)) {
			bool negated = false;
			char *v;

			if (!strncasecmp(p, "Not", 3) &&
			    (p[3] == ' ' || p[3] == '\t' || p[3] == '<' || p[3] == '[')) {
				negated = true;
				p = skip_lws(p + 3);
			}
			if (++conds > DAV_IF_MAX_CONDS) {
				rc = err_set(ERR_INVALID, "If header: more than %d conditions",
					     DAV_IF_MAX_CONDS);
				break;
			}
			bool etag = *p == '[';

			if (*p == '<' || etag) {
				v = etag ? bracket(&p, &rc) : angle(&p, &rc);
			} else {
				v = NULL;
				rc = err_set(ERR_INVALID, "If header: expected a <state token> or "
							  "[entity tag] in a list");
			}
			if (!v)
				break;
			rc = add_cond(&out->lists[out->n - 1], negated, etag, v);
		}
		if (rc)
			break;
		if (*p != ')') {
			rc = err_set(ERR_INVALID, "If header: unterminated list");
			break;
		}
		if (out->lists[out->n - 1].n == 0) {
			rc = err_set(ERR_INVALID, "If header: an empty list");
			break;
		}
		p++;
	}
	if (!rc && out->n == 0)
		rc = err_set(ERR_INVALID, "If header: no list");
	free(tag);
	if (rc)
		dav_if_free(out);
	return rc;
}

/* ---- other headers ---- */

enum err dav_depth_parse(const char *value, int dflt, int *depth)
{
	if (!value)
		*depth = dflt;
	else if (!strcmp(value, "0"))
		*depth = 0;
	else if (!strcmp(value, "1"))
		*depth = 1;
	else if (!strcasecmp(value, "infinity"))
		*depth = DAV_DEPTH_INFINITY;
	else
		return err_set(ERR_INVALID, "Depth must be 0, 1 or infinity");
	return ERR_OK;
}

enum err dav_overwrite_parse(const char *value, bool *overwrite)
{
	if (!value || !strcmp(value, "T"))
		*overwrite = true;
	else if (!strcmp(value, "F"))
		*overwrite = false;
	else
		return err_set(ERR_INVALID, "Overwrite must be T or F");
	return ERR_OK;
}

int64_t dav_timeout_parse(const char *value, int64_t dflt, int64_t max)
{
	const char *p = value;

	if (!value)
		return dflt;
	while (*p) {
		p = skip_lws(p);
		if (!strncasecmp(p, "Infinite", 8)) {
			return max;
		} else if (!strncasecmp(p, "Second-", 7)) {
			const char *d = p + 7;
			int64_t n = 0;
			size_t len = strspn(d, "0123456789");

			if (len > 0) {
				for (size_t i = 0; i < len && n <= max; i++)
					n = n * 10 + (d[i] - '0');
				if (n < 1)
					n = 1;
				return n > max ? max : n;
			}
		}
		p = strchr(p, ',');
		if (!p)
			break;
		p++;
	}
	return dflt;
}
