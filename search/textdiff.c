/* textdiff — see textdiff.h. */
#include "textdiff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct tok {
	size_t off, len; /* the token with its trailing space */
	size_t klen;     /* the compared part */
	uint64_t hash;
};

static uint64_t fnv(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static enum err tokenize(const char *s, size_t len, enum tdiff_mode mode, struct tok **out,
			 size_t *n)
{
	size_t cap = 64, k = 0, i = 0;
	struct tok *t = malloc(cap * sizeof *t);

	if (!t)
		return err_set(ERR_NOMEM, "out of memory");
	while (i < len) {
		struct tok x = {.off = i};

		if (mode == TDIFF_LINES) {
			while (i < len && s[i] != '\n')
				i++;
			x.klen = i - x.off;
			if (x.klen && s[i - 1] == '\r')
				x.klen--;
			if (i < len)
				i++;
		} else {
			while (i < len && !is_space(s[i]))
				i++;
			x.klen = i - x.off;
			while (i < len && is_space(s[i]))
				i++;
		}
		x.len = i - x.off;
		x.hash = fnv(s + x.off, x.klen);
		if (k == cap) {
			struct tok *nt = realloc(t, 2 * cap * sizeof *t);

			if (!nt) {
				free(t);
				return err_set(ERR_NOMEM, "out of memory");
			}
			t = nt;
			cap *= 2;
		}
		t[k++] = x;
	}
	*out = t;
	*n = k;
	return ERR_OK;
}

struct ctx {
	const char *a, *b;
	const struct tok *ta, *tb;
	struct tdiff_result *r;
	size_t cap;
};

static bool same(const struct ctx *c, size_t i, size_t j)
{
	const struct tok *x = &c->ta[i], *y = &c->tb[j];

	return x->hash == y->hash && x->klen == y->klen &&
	       !memcmp(c->a + x->off, c->b + y->off, x->klen);
}

/* Append one token of `kind` (i in a, or j in b), merging with the run
 * before it. */
static enum err emit(struct ctx *c, enum tdiff_kind kind, size_t i, size_t j)
{
	const struct tok *t = kind == TDIFF_INSERT ? &c->tb[j] : &c->ta[i];
	struct tdiff_result *r = c->r;
	struct tdiff_op *last = r->n ? &r->ops[r->n - 1] : NULL;

	if (kind == TDIFF_DELETE)
		r->deleted++;
	else if (kind == TDIFF_INSERT)
		r->inserted++;
	if (last && last->kind == kind && last->off + last->len == t->off) {
		last->len += t->len;
		last->tokens++;
		return ERR_OK;
	}
	if (r->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 32;
		struct tdiff_op *ops = realloc(r->ops, cap * sizeof *ops);

		if (!ops)
			return err_set(ERR_NOMEM, "out of memory");
		r->ops = ops;
		c->cap = cap;
	}
	r->ops[r->n++] = (struct tdiff_op){.kind = kind,
					   .off = t->off,
					   .len = t->len,
					   .off_new = kind == TDIFF_EQUAL ? c->tb[j].off : 0,
					   .tokens = 1};
	return ERR_OK;
}

struct move {
	enum tdiff_kind kind;
	size_t i, j;
};

/* The edit script between ta[a0..a1) and tb[b0..b1), appended to c->r.
 * Myers' greedy forward search keeping each round's V for the walk
 * back; false in *gave_up when more than max_d edits would be needed. */
static enum err middle(struct ctx *c, size_t a0, size_t a1, size_t b0, size_t b1, size_t max_d,
		       bool *gave_up)
{
	long n = (long)(a1 - a0), m = (long)(b1 - b0), max = n + m, dmax, found = -1;
	int32_t *trace = NULL, *v;
	struct move *script = NULL;
	size_t ns = 0;
	enum err rc = ERR_OK;

	*gave_up = false;
	dmax = max < (long)max_d ? max : (long)max_d;
	/* Round d keeps V[k] for k in -d-1..d+1 (2d+3 entries, at index
	 * k+d+1) starting at trace + d*(d+2): a triangle, (dmax+1)(dmax+3)
	 * entries for all rounds. */
	trace = malloc(sizeof *trace * (size_t)((dmax + 2) * (dmax + 2) + 2));
	if (!trace)
		return err_set(ERR_NOMEM, "out of memory");
	for (long d = 0; d <= dmax && found < 0; d++) {
		int32_t *prev = d ? trace + (d - 1) * (d + 1) : NULL;

		v = trace + d * (d + 2);
		/* v[k + d + 1] for k in -d-1..d+1 */
		for (long k = -d; k <= d; k += 2) {
			long x, y;

			if (d == 0)
				x = 0;
			else if (k == -d || (k != d && prev[k - 1 + d] < prev[k + 1 + d]))
				x = prev[k + 1 + d]; /* down: insertion */
			else
				x = prev[k - 1 + d] + 1; /* right: deletion */
			y = x - k;
			while (x < n && y < m && same(c, a0 + (size_t)x, b0 + (size_t)y)) {
				x++;
				y++;
			}
			v[k + d + 1] = (int32_t)x;
			if (x >= n && y >= m) {
				found = d;
				break;
			}
		}
	}
	if (found < 0) {
		*gave_up = true;
		free(trace);
		return ERR_OK;
	}
	/* Walk back from (n, m) through the rounds, collecting moves. */
	script = malloc(sizeof *script * (size_t)(n + m + 1));
	if (!script) {
		free(trace);
		return err_set(ERR_NOMEM, "out of memory");
	}
	{
		long x = n, y = m;

		for (long d = found; d >= 0; d--) {
			int32_t *prev = d ? trace + (d - 1) * (d + 1) : NULL;
			long k = x - y, px, py;

			if (d == 0) {
				while (x > 0 && y > 0) {
					x--, y--;
					script[ns++] =
						(struct move){TDIFF_EQUAL, (size_t)x, (size_t)y};
				}
				break;
			}
			if (k == -d || (k != d && prev[k - 1 + d] < prev[k + 1 + d])) {
				px = prev[k + 1 + d];
				py = px - (k + 1);
			} else {
				px = prev[k - 1 + d];
				py = px - (k - 1);
			}
			while (x > px && y > py) {
				x--, y--;
				script[ns++] = (struct move){TDIFF_EQUAL, (size_t)x, (size_t)y};
			}
			if (x == px) {
				y--;
				script[ns++] = (struct move){TDIFF_INSERT, (size_t)x, (size_t)y};
			} else {
				x--;
				script[ns++] = (struct move){TDIFF_DELETE, (size_t)x, (size_t)y};
			}
		}
	}
	for (size_t s = ns; s-- > 0 && !rc;)
		rc = emit(c, script[s].kind, a0 + script[s].i, b0 + script[s].j);
	free(script);
	free(trace);
	return rc;
}

enum err tdiff(const char *a, size_t alen, const char *b, size_t blen, enum tdiff_mode mode,
	       size_t max_d, struct tdiff_result *out)
{
	struct tok *ta = NULL, *tb = NULL;
	size_t na = 0, nb = 0, pre = 0, suf = 0;
	struct ctx c = {.a = a, .b = b, .r = out};
	bool gave_up = false;
	enum err rc;

	memset(out, 0, sizeof *out);
	if (!max_d)
		max_d = TDIFF_DEFAULT_MAX_D;
	rc = tokenize(a, alen, mode, &ta, &na);
	if (!rc)
		rc = tokenize(b, blen, mode, &tb, &nb);
	if (rc)
		goto out;
	c.ta = ta;
	c.tb = tb;
	while (pre < na && pre < nb && same(&c, pre, pre))
		pre++;
	while (suf < na - pre && suf < nb - pre && same(&c, na - 1 - suf, nb - 1 - suf))
		suf++;
	for (size_t i = 0; i < pre && !rc; i++)
		rc = emit(&c, TDIFF_EQUAL, i, i);
	if (!rc)
		rc = middle(&c, pre, na - suf, pre, nb - suf, max_d, &gave_up);
	if (!rc && gave_up) {
		out->approximate = true;
		for (size_t i = pre; i < na - suf && !rc; i++)
			rc = emit(&c, TDIFF_DELETE, i, 0);
		for (size_t j = pre; j < nb - suf && !rc; j++)
			rc = emit(&c, TDIFF_INSERT, 0, j);
	}
	for (size_t i = 0; i < suf && !rc; i++)
		rc = emit(&c, TDIFF_EQUAL, na - suf + i, nb - suf + i);
out:
	free(ta);
	free(tb);
	if (rc)
		tdiff_free(out);
	return rc;
}

void tdiff_free(struct tdiff_result *r)
{
	if (!r)
		return;
	free(r->ops);
	memset(r, 0, sizeof *r);
}
