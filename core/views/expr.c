/*
 * expr.c — parser, evaluator and canonical printer of `@where/<expr>`
 * expressions (docs/queries.md).
 *
 * Workload: an expression is parsed once per view lookup (text from a path
 * segment, i.e. untrusted and possibly hostile) and evaluated once per
 * sample, possibly for hundreds of thousands of samples and from several
 * threads. So the parser refuses everything odd up front (length, depth,
 * control bytes, unknown fields, type mismatches) and compiles globs, and
 * the evaluator never allocates: it walks an immutable tree and asks the
 * sample for values through folio_sample_ops callbacks.
 *
 * Parsing is recursive descent over
 *   or    = and { ("+" | "|" | "||") and }
 *   and   = unary { ("," | "&" | "&&") unary }
 *   unary = ("not:" | "!") unary | ("[" or "]") | ("(" or ")") | cmp
 *   cmp   = field op value
 * with depth bounded by FOLIO_EXPR_MAX_DEPTH so hostile input cannot
 * exhaust the stack.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/error.h"
#include "folio/expr.h"
#include "folio/util.h"

/* Longest compiled glob, tokens; keeps the matcher's state on the stack. */
#define GLOB_MAX 256

enum ftype {
	F_NUM,   /* numeric scalar, ops->scalar */
	F_STR,   /* text scalar, ops->scalar */
	F_STRS,  /* multi-valued text, ops->values */
	F_NUMS,  /* multi-valued numbers, ops->numbers */
	F_COUNT, /* object count, ops->count */
};

typedef struct fdef {
	const char *name;  /* canonical name, passed to callbacks */
	const char *alias; /* accepted alternative, or NULL */
	enum ftype type;
	int pred;          /* F_COUNT: predictions */
} fdef;

static const fdef fields[] = {
	{ "brightness", "brightness_mean", F_NUM, 0 },
	{ "brightness_p05", NULL, F_NUM, 0 },
	{ "brightness_p50", NULL, F_NUM, 0 },
	{ "brightness_p95", NULL, F_NUM, 0 },
	{ "contrast", "contrast_rms", F_NUM, 0 },
	{ "sharpness", NULL, F_NUM, 0 },
	{ "blurriness", NULL, F_NUM, 0 },
	{ "entropy", NULL, F_NUM, 0 },
	{ "colorfulness", NULL, F_NUM, 0 },
	{ "grayscale", NULL, F_NUM, 0 },
	{ "width", NULL, F_NUM, 0 },
	{ "height", NULL, F_NUM, 0 },
	{ "bands", NULL, F_NUM, 0 },
	{ "orientation", NULL, F_NUM, 0 },
	{ "decodable", NULL, F_NUM, 0 },
	{ "size", NULL, F_NUM, 0 },
	{ "labeled", NULL, F_NUM, 0 },
	{ "format", NULL, F_STR, 0 },
	{ "split", NULL, F_STR, 0 },
	{ "path", NULL, F_STR, 0 },
	{ "class", NULL, F_STRS, 0 },
	{ "tag", NULL, F_STRS, 0 },
	{ "labeler", NULL, F_STRS, 0 },
	{ "pred.class", NULL, F_STRS, 1 },
	{ "pred.score", NULL, F_NUMS, 1 },
	{ "objects", NULL, F_COUNT, 0 },
	{ "pred.objects", NULL, F_COUNT, 1 },
	{ "count.<class>", NULL, F_COUNT, 0 },
	{ "pred.count.<class>", NULL, F_COUNT, 1 },
};
#define NFIELDS (sizeof fields / sizeof fields[0])
#define FIELD_COUNT (NFIELDS - 2)
#define FIELD_PRED_COUNT (NFIELDS - 1)

enum op { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_IN, OP_GLOB };
static const char *const opnames[] = { "eq", "ne", "lt", "le", "gt", "ge", "in", "glob" };

enum kind { N_OR, N_AND, N_NOT, N_CMP };

typedef struct gtok {
	unsigned char kind;      /* G_SET, G_STAR (not '/'), G_DSTAR (anything) */
	unsigned char optional;  /* the '/' after "**" may be skipped */
	unsigned char bits[32];  /* G_SET: accepted bytes */
} gtok;
enum { G_SET, G_STAR, G_DSTAR };

typedef struct node {
	enum kind kind;
	struct node **kids;      /* N_OR, N_AND: n >= 2; N_NOT: n = 1 */
	size_t n;
	/* N_CMP */
	const fdef *f;
	char *cls;               /* count.<class>: the class */
	enum op op;
	size_t nvals;
	double *nums;            /* numeric fields */
	char **strs;             /* text fields (glob: the source pattern) */
	gtok *glob;              /* OP_GLOB: compiled */
	size_t nglob;
	int glob_base;           /* pattern has no '/': match the basename */
} node;

struct folio_expr {
	node *root;
};

/* ---------------------------------------------------------------- nodes */

static void node_free(node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->cls);
	free(n->nums);
	if (n->strs)
		for (size_t i = 0; i < n->nvals; i++)
			free(n->strs[i]);
	free(n->strs);
	free(n->glob);
	free(n);
}

void folio_expr_free(folio_expr *e)
{
	if (!e)
		return;
	node_free(e->root);
	free(e);
}

const char *const *folio_expr_fields(void)
{
	static const char *const names[] = {
		"brightness", "brightness_p05", "brightness_p50", "brightness_p95",
		"contrast", "sharpness", "blurriness", "entropy", "colorfulness",
		"grayscale", "width", "height", "bands", "orientation", "decodable",
		"size", "labeled", "format", "split", "path", "class", "tag",
		"labeler", "pred.class", "pred.score", "objects", "pred.objects",
		"count.<class>", "pred.count.<class>", NULL
	};
	return names;
}

/* --------------------------------------------------------------- parser */

typedef struct parser {
	const char *s;
	size_t len, pos;
	int err;                 /* set once: first error wins */
} parser;

/* Sets the one-line message "@where: TEXT: column N: WHAT". */
static int perr(parser *p, size_t at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int perr(parser *p, size_t at, const char *fmt, ...)
{
	char what[512], echo[80];
	size_t k = 0, lim = p->len > 60 ? 57 : p->len;
	va_list ap;

	if (p->err)
		return p->err;
	for (size_t i = 0; i < lim; i++) {
		unsigned char c = (unsigned char)p->s[i];
		echo[k++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	if (lim < p->len)
		for (int i = 0; i < 3; i++)
			echo[k++] = '.';
	echo[k] = '\0';
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	p->err = FOLIO_EINVAL;
	return folio_error_set(FOLIO_EINVAL, "@where: %s: column %zu: %s", echo, at + 1, what);
}

static int peek(const parser *p)
{
	return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int is_ctl(int c)
{
	return c >= 0 && (c < 0x20 || c == 0x7f);
}

/* Characters that end a field name. */
static int field_stop(int c)
{
	return c < 0 || strchr("=<>!,+&|[]()", c) != NULL || is_ctl(c) || c == '/';
}

/* Characters that end an unquoted value (list items also stop at ':' ';'). */
static int value_stop(int c, int list)
{
	if (c < 0 || strchr(",+&|])", c))
		return 1;
	return list && (c == ':' || c == ';');
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes one byte at p->pos into *out, handling %XX; refuses '/', control
 * bytes, NUL. */
static int take_byte(parser *p, char *out)
{
	int c = peek(p);
	if (c == '/')
		return perr(p, p->pos, "'/' cannot appear in a path segment; write it as %%2F");
	if (is_ctl(c))
		return perr(p, p->pos, "control character (byte 0x%02x) not allowed", c);
	if (c == '%') {
		int h = p->pos + 1 < p->len ? hexval((unsigned char)p->s[p->pos + 1]) : -1;
		int l = p->pos + 2 < p->len ? hexval((unsigned char)p->s[p->pos + 2]) : -1;
		if (h < 0 || l < 0)
			return perr(p, p->pos, "expected two hex digits after '%%' (e.g. %%2F for '/')");
		if (h == 0 && l == 0)
			return perr(p, p->pos, "%%00 (NUL) not allowed");
		*out = (char)(h * 16 + l);
		p->pos += 3;
		return 0;
	}
	*out = (char)c;
	p->pos++;
	return 0;
}

/* Scans a value: "quoted" ("" is a quote) or bare up to a stop character;
 * '[' ... ']' inside a bare value is kept whole (glob classes). */
static int scan_value(parser *p, int list, char **out, size_t *at)
{
	size_t cap = p->len - p->pos + 1, k = 0;
	char *buf;
	int depth = 0;

	*out = NULL;
	*at = p->pos;
	if (!(buf = malloc(cap)))
		return folio_error_set(FOLIO_ENOMEM, "@where: out of memory");
	if (peek(p) == '"') {
		p->pos++;
		for (;;) {
			if (peek(p) < 0) {
				free(buf);
				return perr(p, *at, "unterminated quoted value (expected '\"')");
			}
			if (peek(p) == '"') {
				if (p->pos + 1 < p->len && p->s[p->pos + 1] == '"') {
					buf[k++] = '"';
					p->pos += 2;
					continue;
				}
				p->pos++;
				break;
			}
			if (take_byte(p, &buf[k]) < 0) {
				free(buf);
				return p->err;
			}
			k++;
		}
	} else {
		while (peek(p) >= 0 && (depth > 0 || !value_stop(peek(p), list))) {
			if (peek(p) == '[')
				depth++;
			else if (peek(p) == ']')
				depth--;
			if (take_byte(p, &buf[k]) < 0) {
				free(buf);
				return p->err;
			}
			k++;
		}
	}
	buf[k] = '\0';
	*out = buf;
	return 0;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];
	if (la > 63 || lb > 63)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* Resolves the field name s[0..n) (already decoded) into n->f / n->cls. */
static int resolve_field(parser *p, node *nd, const char *name, size_t at)
{
	static const struct { const char *prefix; size_t idx; } fam[] = {
		{ "pred.count.", FIELD_PRED_COUNT }, { "count.", FIELD_COUNT },
	};
	for (size_t i = 0; i < 2; i++) {
		size_t pl = strlen(fam[i].prefix);
		if (strncmp(name, fam[i].prefix, pl) == 0) {
			if (!name[pl])
				return perr(p, at + pl, "expected a class name after '%s'", fam[i].prefix);
			nd->f = &fields[fam[i].idx];
			if (!(nd->cls = strdup(name + pl)))
				return folio_error_set(FOLIO_ENOMEM, "@where: out of memory");
			return 0;
		}
	}
	for (size_t i = 0; i < NFIELDS - 2; i++)
		if (strcmp(name, fields[i].name) == 0 ||
		    (fields[i].alias && strcmp(name, fields[i].alias) == 0)) {
			nd->f = &fields[i];
			return 0;
		}
	const char *best = fields[0].name;
	size_t bd = SIZE_MAX;
	for (size_t i = 0; i < NFIELDS; i++) {
		size_t d = edit_distance(name, fields[i].name);
		if (d < bd) {
			bd = d;
			best = fields[i].name;
		}
	}
	return perr(p, at, "unknown field '%.64s' (did you mean '%s'? see docs/queries.md)", name, best);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int parse_number(parser *p, const char *v, size_t at, const char *after, double *out)
{
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	/* ERANGE also flags an inexact subnormal (5e-324), which is a number
	 * the canonical text prints; only overflow and underflow to zero are
	 * refused */
	if (!*v || *end || isspace((unsigned char)*v) || (errno == ERANGE && d == 0) || !isfinite(d))
		return perr(p, at, "expected a number after '%s'", after);
	*out = d;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void set_bit(gtok *t, unsigned char c)
{
	t->bits[c >> 3] |= (unsigned char)(1u << (c & 7));
}

static int has_bit(const gtok *t, unsigned char c)
{
	return (t->bits[c >> 3] >> (c & 7)) & 1;
}

/* Compiles a glob: * (within one path part), ** (across parts; a '/' right
 * after it is optional), ?, [abc] [a-z] [!x] [^x], \x literal. */
static int compile_glob(parser *p, node *nd, const char *pat, size_t at)
{
	size_t n = strlen(pat), k = 0;
	gtok *t = calloc(n + 1, sizeof *t);
	if (!t)
		return folio_error_set(FOLIO_ENOMEM, "@where: out of memory");
	nd->glob_base = strchr(pat, '/') == NULL;
	for (size_t i = 0; i < n;) {
		if (k >= GLOB_MAX) {
			free(t);
			return perr(p, at, "glob pattern too long (at most %d elements)", GLOB_MAX);
		}
		gtok *g = &t[k++];
		unsigned char c = (unsigned char)pat[i];
		if (c == '*') {
			if (pat[i + 1] == '*') {
				g->kind = G_DSTAR;
				while (pat[i] == '*')
					i++;
				if (pat[i] == '/') {
					gtok *s = &t[k++];
					s->kind = G_SET;
					s->optional = 1;
					set_bit(s, '/');
					i++;
				}
			} else {
				g->kind = G_STAR;
				i++;
			}
		} else if (c == '?') {
			g->kind = G_SET;
			memset(g->bits, 0xff, sizeof g->bits);
			g->bits['/' >> 3] &= (unsigned char)~(1u << ('/' & 7));
			i++;
		} else if (c == '[') {
			size_t j = i + 1;
			int neg = 0;
			if (pat[j] == '!' || pat[j] == '^') {
				neg = 1;
				j++;
			}
			size_t first = j;
			while (pat[j] && (pat[j] != ']' || j == first))
				j++;
			if (!pat[j]) {
				free(t);
				return perr(p, at, "unterminated '[' in glob (expected ']')");
			}
			g->kind = G_SET;
			for (size_t q = first; q < j; q++) {
				unsigned char lo = (unsigned char)pat[q], hi = lo;
				if (q + 2 < j && pat[q + 1] == '-') {
					hi = (unsigned char)pat[q + 2];
					q += 2;
				}
				for (unsigned v = lo; v <= hi; v++)
					set_bit(g, (unsigned char)v);
			}
			if (neg)
				for (size_t b = 0; b < 32; b++)
					g->bits[b] = (unsigned char)~g->bits[b];
			g->bits['/' >> 3] &= (unsigned char)~(1u << ('/' & 7));
			i = j + 1;
		} else {
			if (c == '\\' && pat[i + 1])
				c = (unsigned char)pat[++i];
			g->kind = G_SET;
			set_bit(g, c);
			i++;
		}
	}
	nd->glob = t;
	nd->nglob = k;
	return 0;
}

static int parse_or(parser *p, node **out, int depth);

static node *new_node(enum kind k)
{
	node *n = calloc(1, sizeof *n);
	if (n)
		n->kind = k;
	return n;
}

static int parse_cmp(parser *p, node **out)
{
	size_t fat = p->pos, cap = p->len - p->pos + 1, k = 0, vat;
	char *name = NULL, *v = NULL, opbuf[16];
	node *nd = NULL;
	int rc;

	*out = NULL;
	if (field_stop(peek(p))) {
		int c = peek(p);
		if (c < 0)
			return perr(p, p->pos, p->pos ? "expected a condition after '%c'" : "empty expression; expected a condition such as class=car",
				    p->pos ? p->s[p->pos - 1] : ' ');
		if (c == '/')
			return perr(p, p->pos, "'/' cannot appear in a path segment; write it as %%2F");
		if (is_ctl(c))
			return perr(p, p->pos, "control character (byte 0x%02x) not allowed", c);
		return perr(p, p->pos, "expected a field name, found '%c'", c);
	}
	if (!(nd = new_node(N_CMP)) || !(name = malloc(cap))) {
		rc = folio_error_set(FOLIO_ENOMEM, "@where: out of memory");
		goto cleanup;
	}
	while (!field_stop(peek(p))) {
		if ((rc = take_byte(p, &name[k])) < 0)
			goto cleanup;
		k++;
	}
	name[k] = '\0';
	if (peek(p) == '/' || is_ctl(peek(p))) {
		char dummy;
		rc = take_byte(p, &dummy);
		goto cleanup;
	}
	if ((rc = resolve_field(p, nd, name, fat)) < 0)
		goto cleanup;

	/* Operator. */
	size_t oat = p->pos;
	const char *rest = p->s + p->pos;
	size_t left = p->len - p->pos;
	if (left >= 2 && (memcmp(rest, "<=", 2) == 0 || memcmp(rest, ">=", 2) == 0 ||
			  memcmp(rest, "!=", 2) == 0 || memcmp(rest, "==", 2) == 0)) {
		nd->op = rest[0] == '<' ? OP_LE : rest[0] == '>' ? OP_GE : rest[0] == '!' ? OP_NE : OP_EQ;
		snprintf(opbuf, sizeof opbuf, "%.2s", rest);
		p->pos += 2;
	} else if (left >= 1 && (rest[0] == '<' || rest[0] == '>')) {
		nd->op = rest[0] == '<' ? OP_LT : OP_GT;
		snprintf(opbuf, sizeof opbuf, "%c", rest[0]);
		p->pos++;
	} else if (left >= 1 && rest[0] == '=') {
		size_t w = 1;
		p->pos++;
		while (w < left && w < 9 && islower((unsigned char)rest[w]))
			w++;
		nd->op = OP_EQ;
		snprintf(opbuf, sizeof opbuf, "=");
		if (w > 1 && w < left && rest[w] == ':') {
			size_t i;
			for (i = 0; i < sizeof opnames / sizeof opnames[0]; i++)
				if (strlen(opnames[i]) == w - 1 && memcmp(opnames[i], rest + 1, w - 1) == 0)
					break;
			if (i == sizeof opnames / sizeof opnames[0]) {
				rc = perr(p, p->pos, "unknown operator '%.*s:' (expected eq, ne, lt, le, gt, ge, in or glob)",
					  (int)(w - 1), rest + 1);
				goto cleanup;
			}
			nd->op = (enum op)i;
			snprintf(opbuf, sizeof opbuf, "%s:", opnames[i]);
			p->pos += w;
		}
	} else {
		rc = perr(p, oat, "expected an operator ('=', '=lt:', '<', ...) after field '%.64s'", name);
		goto cleanup;
	}

	int numeric = nd->f->type == F_NUM || nd->f->type == F_NUMS || nd->f->type == F_COUNT;
	if (numeric && nd->op == OP_GLOB) {
		rc = perr(p, oat, "'glob:' needs a text field; '%.64s' is numeric", name);
		goto cleanup;
	}
	if (!numeric && nd->op >= OP_LT && nd->op <= OP_GE) {
		rc = perr(p, oat, "'%s' needs a numeric field; '%.64s' is text", opbuf, name);
		goto cleanup;
	}

	/* Values. */
	size_t cap2 = 4;
	int list = nd->op == OP_IN;
	if (!(nd->nums = calloc(cap2, sizeof *nd->nums)) || !(nd->strs = calloc(cap2, sizeof *nd->strs))) {
		rc = folio_error_set(FOLIO_ENOMEM, "@where: out of memory");
		goto cleanup;
	}
	for (;;) {
		if ((rc = scan_value(p, list, &v, &vat)) < 0)
			goto cleanup;
		if (!*v && vat == p->pos) {
			rc = list && nd->nvals ? perr(p, vat, "expected a value after '%c'", p->s[vat - 1])
					       : perr(p, vat, "expected a value after '%s'", opbuf);
			goto cleanup;
		}
		if (nd->nvals == cap2) {
			size_t nc = cap2 * 2;
			double *dn = realloc(nd->nums, nc * sizeof *dn);
			if (dn)
				nd->nums = dn;
			char **sn = dn ? realloc(nd->strs, nc * sizeof *sn) : NULL;
			if (!sn) {
				rc = folio_error_set(FOLIO_ENOMEM, "@where: out of memory");
				goto cleanup;
			}
			nd->strs = sn;
			cap2 = nc;
		}
		if (numeric) {
			char after[24];
			if (list && nd->nvals)
				snprintf(after, sizeof after, "%c", p->s[vat - 1]);
			else
				snprintf(after, sizeof after, "%s", opbuf);
			if ((rc = parse_number(p, v, vat, after, &nd->nums[nd->nvals])) < 0)
				goto cleanup;
			free(v);
			nd->strs[nd->nvals] = NULL;
		} else {
			nd->strs[nd->nvals] = v;
		}
		v = NULL;
		nd->nvals++;
		if (list && (peek(p) == ':' || peek(p) == ';')) {
			p->pos++;
			continue;
		}
		break;
	}
	if (numeric) {
		free(nd->strs);
		nd->strs = NULL;
	} else if (nd->op == OP_GLOB && (rc = compile_glob(p, nd, nd->strs[0], vat)) < 0) {
		goto cleanup;
	}
	if (list) {
		/* sorted and deduplicated: a list of one value is "eq:" */
		size_t w = 0;
		if (numeric) {
			qsort(nd->nums, nd->nvals, sizeof *nd->nums, cmp_double);
			for (size_t i = 0; i < nd->nvals; i++)
				if (w == 0 || nd->nums[i] != nd->nums[w - 1])
					nd->nums[w++] = nd->nums[i];
		} else {
			qsort(nd->strs, nd->nvals, sizeof *nd->strs, cmp_str);
			for (size_t i = 0; i < nd->nvals; i++)
				if (w > 0 && strcmp(nd->strs[i], nd->strs[w - 1]) == 0)
					free(nd->strs[i]);
				else
					nd->strs[w++] = nd->strs[i];
		}
		nd->nvals = w;
	}
	*out = nd;
	nd = NULL;
	rc = 0;
cleanup:
	free(name);
	free(v);
	node_free(nd);
	return rc;
}

/* Appends kid to an and/or node, flattening kids of the same kind. */
static int adopt(node *parent, node *kid)
{
	size_t add = kid->kind == parent->kind ? kid->n : 1;
	node **k = realloc(parent->kids, (parent->n + add) * sizeof *k);
	if (!k)
		return folio_error_set(FOLIO_ENOMEM, "@where: out of memory");
	parent->kids = k;
	if (kid->kind == parent->kind) {
		memcpy(k + parent->n, kid->kids, kid->n * sizeof *k);
		parent->n += kid->n;
		free(kid->kids);
		free(kid);
	} else {
		k[parent->n++] = kid;
	}
	return 0;
}

static int parse_unary(parser *p, node **out, int depth)
{
	node *kid = NULL, *nd = NULL;
	int rc, c = peek(p);

	*out = NULL;
	if (depth > FOLIO_EXPR_MAX_DEPTH)
		return perr(p, p->pos, "nested too deeply (at most %d levels)", FOLIO_EXPR_MAX_DEPTH);
	if ((p->len - p->pos >= 4 && memcmp(p->s + p->pos, "not:", 4) == 0) ||
	    (c == '!' && (p->pos + 1 >= p->len || p->s[p->pos + 1] != '='))) {
		p->pos += c == '!' ? 1 : 4;
		if ((rc = parse_unary(p, &kid, depth + 1)) < 0)
			return rc;
		if (!(nd = new_node(N_NOT)) || !(nd->kids = malloc(sizeof *nd->kids))) {
			free(nd);
			node_free(kid);
			return folio_error_set(FOLIO_ENOMEM, "@where: out of memory");
		}
		nd->kids[0] = kid;
		nd->n = 1;
		*out = nd;
		return 0;
	}
	if (c == '[' || c == '(') {
		size_t at = p->pos;
		int close = c == '[' ? ']' : ')';
		p->pos++;
		if ((rc = parse_or(p, &kid, depth + 1)) < 0)
			return rc;
		if (peek(p) != close) {
			node_free(kid);
			if (peek(p) < 0)
				return perr(p, p->pos, "expected '%c' to close the '%c' at column %zu", close, c, at + 1);
			return perr(p, p->pos, "expected '%c' to close the '%c' at column %zu, found '%c'",
				    close, c, at + 1, peek(p));
		}
		p->pos++;
		*out = kid;
		return 0;
	}
	return parse_cmp(p, out);
}

static char *canon(const node *nd);

/*
 * Drops the operands of an and/or node whose canonical text repeats an
 * earlier one (x,x is x), and replaces a node left with one operand by
 * that operand, so that the tree is what its canonical text reads back
 * as: a parent brackets, sorts and flattens its operands by their kind.
 */
static int drop_repeats(node **ndp)
{
	node *nd = *ndp;
	char **text = calloc(nd->n, sizeof *text);
	size_t w = 0, i = 0;
	int rc = 0;

	if (!text)
		return folio_error_set(FOLIO_ENOMEM, "@where: out of memory");
	for (; i < nd->n; i++) {
		if (!(text[w] = canon(nd->kids[i]))) {
			rc = folio_error_set(FOLIO_ENOMEM, "@where: out of memory");
			break;
		}
		size_t j = 0;
		while (j < w && strcmp(text[j], text[w]) != 0)
			j++;
		if (j < w) {
			free(text[w]);
			text[w] = NULL;
			node_free(nd->kids[i]);
			continue;
		}
		nd->kids[w++] = nd->kids[i];
	}
	/* on failure the operands not looked at yet stay, after the kept ones */
	memmove(nd->kids + w, nd->kids + i, (nd->n - i) * sizeof *nd->kids);
	nd->n = w + (nd->n - i);
	if (nd->n == 1) {
		*ndp = nd->kids[0];
		free(nd->kids);
		free(nd);
	}
	for (i = 0; i < w; i++)
		free(text[i]);
	free(text);
	return rc;
}

/* Parses "x SEP x SEP x" for one level (and: unary kids, or: and kids). */
static int parse_list(parser *p, node **out, int depth, enum kind kind)
{
	node *first = NULL, *nd = NULL, *kid = NULL;
	int rc;

	*out = NULL;
	rc = kind == N_OR ? parse_list(p, &first, depth, N_AND) : parse_unary(p, &first, depth);
	if (rc < 0)
		return rc;
	for (;;) {
		int c = peek(p);
		size_t w;
		if (kind == N_AND && (c == ',' || c == '&'))
			w = (c == '&' && p->pos + 1 < p->len && p->s[p->pos + 1] == '&') ? 2 : 1;
		else if (kind == N_OR && (c == '+' || c == '|'))
			w = (c == '|' && p->pos + 1 < p->len && p->s[p->pos + 1] == '|') ? 2 : 1;
		else
			break;
		size_t sep = p->pos;
		p->pos += w;
		if (peek(p) < 0) {
			rc = perr(p, p->pos, "expected a condition after '%.*s'", (int)w, p->s + sep);
			goto cleanup;
		}
		rc = kind == N_OR ? parse_list(p, &kid, depth, N_AND) : parse_unary(p, &kid, depth);
		if (rc < 0)
			goto cleanup;
		if (!nd) {
			if (!(nd = new_node(kind))) {
				rc = folio_error_set(FOLIO_ENOMEM, "@where: out of memory");
				goto cleanup;
			}
			if ((rc = adopt(nd, first)) < 0)
				goto cleanup;
			first = NULL;
		}
		if ((rc = adopt(nd, kid)) < 0)
			goto cleanup;
		kid = NULL;
	}
	if (nd && (rc = drop_repeats(&nd)) < 0)
		goto cleanup;
	*out = nd ? nd : first;
	return 0;
cleanup:
	node_free(first);
	node_free(nd);
	node_free(kid);
	return rc;
}

static int parse_or(parser *p, node **out, int depth)
{
	return parse_list(p, out, depth, N_OR);
}

/* The error for a text over FOLIO_EXPR_MAX_LEN, echoing its start. */
static int too_long(parser *p, size_t len)
{
	p->len = 60;
	return perr(p, FOLIO_EXPR_MAX_LEN, "expression too long (%zu bytes; at most %d)", len,
		    FOLIO_EXPR_MAX_LEN);
}

int folio_expr_parsen(folio_expr **out, const char *text, size_t len)
{
	parser p = { text, len, 0, 0 };
	node *root = NULL;
	folio_expr *e = NULL;
	char *canonical = NULL;
	int rc;

	*out = NULL;
	if (!text)
		return folio_error_set(FOLIO_EINVAL, "@where: no expression");
	if (len > FOLIO_EXPR_MAX_CANON_LEN)
		return too_long(&p, len);
	const char *nul = memchr(text, '\0', len);
	if (nul)
		return perr(&p, (size_t)(nul - text), "NUL byte not allowed");
	if ((rc = parse_or(&p, &root, 0)) < 0)
		return rc;
	if (p.pos < len) {
		int c = peek(&p);
		if (c == ']' || c == ')')
			rc = perr(&p, p.pos, "unmatched '%c'", c);
		else
			rc = perr(&p, p.pos, "expected ',' (and), '+' (or) or the end, found '%c'", c);
		goto cleanup;
	}
	/* Escapes and explicit operators make a canonical text longer than
	 * the text it came from, and it must parse back (expr.h): past
	 * FOLIO_EXPR_MAX_LEN only canonical texts are taken, and only
	 * expressions whose canonical text fits FOLIO_EXPR_MAX_CANON_LEN. */
	if (!(canonical = canon(root))) {
		rc = folio_error_set(FOLIO_ENOMEM, "@where: out of memory");
		goto cleanup;
	}
	size_t clen = strlen(canonical);
	if (len > FOLIO_EXPR_MAX_LEN && (clen != len || memcmp(canonical, text, len) != 0)) {
		rc = too_long(&p, len);
		goto cleanup;
	}
	if (clen > FOLIO_EXPR_MAX_CANON_LEN) {
		rc = perr(&p, 0, "expression too long once written canonically (%zu bytes; at most %d)",
			  clen, FOLIO_EXPR_MAX_CANON_LEN);
		goto cleanup;
	}
	if (!(e = malloc(sizeof *e))) {
		rc = folio_error_set(FOLIO_ENOMEM, "@where: out of memory");
		goto cleanup;
	}
	e->root = root;
	root = NULL;
	*out = e;
	rc = 0;
cleanup:
	free(canonical);
	node_free(root);
	return rc;
}

int folio_expr_parse(folio_expr **out, const char *text)
{
	if (!text) {
		*out = NULL;
		return folio_error_set(FOLIO_EINVAL, "@where: no expression");
	}
	return folio_expr_parsen(out, text, strlen(text));
}

/* ------------------------------------------------------------ evaluator */

static int glob_match(const node *nd, const char *s)
{
	unsigned char cur[GLOB_MAX + 2], nxt[GLOB_MAX + 2];
	size_t T = nd->nglob;

	if (nd->glob_base && strcmp(nd->f->name, "path") == 0) {
		const char *slash = strrchr(s, '/');
		if (slash)
			s = slash + 1;
	}
	memset(cur, 0, T + 1);
	cur[0] = 1;
	for (size_t i = 0; i < T; i++)
		if (cur[i] && (nd->glob[i].kind != G_SET || nd->glob[i].optional))
			cur[i + 1] = 1;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int any = 0;
		memset(nxt, 0, T + 1);
		for (size_t i = 0; i < T; i++) {
			if (!cur[i])
				continue;
			const gtok *g = &nd->glob[i];
			if (g->kind == G_SET) {
				if (has_bit(g, c))
					nxt[i + 1] = 1;
			} else if (g->kind == G_DSTAR || c != '/') {
				nxt[i] = 1;
			}
		}
		for (size_t i = 0; i < T; i++)
			if (nxt[i] && (nd->glob[i].kind != G_SET || nd->glob[i].optional))
				nxt[i + 1] = 1;
		for (size_t i = 0; i <= T; i++)
			any |= nxt[i];
		if (!any)
			return 0;
		memcpy(cur, nxt, T + 1);
	}
	return cur[T];
}

static int test_num(const node *nd, double x)
{
	double v = nd->nums[0];
	switch (nd->op) {
	case OP_EQ: return x == v;
	case OP_NE: return x != v;
	case OP_LT: return x < v;
	case OP_LE: return x <= v;
	case OP_GT: return x > v;
	case OP_GE: return x >= v;
	case OP_IN:
		for (size_t i = 0; i < nd->nvals; i++)
			if (x == nd->nums[i])
				return 1;
		return 0;
	case OP_GLOB: return 0;
	}
	return 0;
}

/* Positive form of a text test (ne is evaluated as not eq). */
static int test_str(const node *nd, const char *s)
{
	switch (nd->op) {
	case OP_EQ:
	case OP_NE:
		return strcmp(s, nd->strs[0]) == 0;
	case OP_IN:
		for (size_t i = 0; i < nd->nvals; i++)
			if (strcmp(s, nd->strs[i]) == 0)
				return 1;
		return 0;
	case OP_GLOB:
		return glob_match(nd, s);
	default:
		return 0;
	}
}

typedef struct anyctx {
	const node *nd;
	int hit;
} anyctx;

static int any_str(const char *v, void *p)
{
	anyctx *a = p;
	if (v && test_str(a->nd, v))
		a->hit = 1;
	return a->hit;
}

static int any_num(double v, void *p)
{
	anyctx *a = p;
	/* ne on a multi-valued field is "none equal": test the eq form */
	if (a->nd->op == OP_NE ? v == a->nd->nums[0] : test_num(a->nd, v))
		a->hit = 1;
	return a->hit;
}

static int eval_cmp(const node *nd, const folio_sample_ops *ops, const void *sample)
{
	anyctx a = { nd, 0 };
	double num = 0;
	const char *str = NULL;

	switch (nd->f->type) {
	case F_NUM:
		if (ops->scalar(sample, nd->f->name, &num, &str) != 1 || str)
			return nd->op == OP_NE;
		return test_num(nd, num);
	case F_COUNT:
		return test_num(nd, (double)ops->count(sample, nd->cls, nd->f->pred));
	case F_STR:
		if (ops->scalar(sample, nd->f->name, &num, &str) != 1 || !str)
			return nd->op == OP_NE;
		return nd->op == OP_NE ? !test_str(nd, str) : test_str(nd, str);
	case F_STRS:
		ops->values(sample, nd->f->name, any_str, &a);
		return nd->op == OP_NE ? !a.hit : a.hit;
	case F_NUMS:
		ops->numbers(sample, nd->f->name, any_num, &a);
		return nd->op == OP_NE ? !a.hit : a.hit;
	}
	return 0;
}

static int eval_node(const node *nd, const folio_sample_ops *ops, const void *sample)
{
	switch (nd->kind) {
	case N_OR:
		for (size_t i = 0; i < nd->n; i++)
			if (eval_node(nd->kids[i], ops, sample))
				return 1;
		return 0;
	case N_AND:
		for (size_t i = 0; i < nd->n; i++)
			if (!eval_node(nd->kids[i], ops, sample))
				return 0;
		return 1;
	case N_NOT:
		return !eval_node(nd->kids[0], ops, sample);
	case N_CMP:
		return eval_cmp(nd, ops, sample);
	}
	return 0;
}

int folio_expr_eval(const folio_expr *e, const folio_sample_ops *ops, const void *sample)
{
	if (!e || !ops)
		return 0;
	return eval_node(e->root, ops, sample);
}

/* ------------------------------------------------------------ canonical */

/* 1 if every ']' of s closes an earlier '[' and every '[' is closed: then
 * scan_value, which counts raw brackets, reads s back whole. */
static int brackets_pair(const char *s)
{
	int depth = 0;

	for (; *s; s++)
		if (*s == '[')
			depth++;
		else if (*s == ']' && --depth < 0)
			return 0;
	return depth == 0;
}

/* Writes a text value so that it scans back to the same bytes. Glob
 * patterns keep their '*', '?' and '\', and their '[' and ']' where these
 * pair up (else %5B and %5D, which decode to the same bytes). */
static void sb_value(folio_buf *b, const char *s, int glob)
{
	if (!*s) {
		folio_buf_puts(b, "\"\"");
		return;
	}
	const char *special = glob && brackets_pair(s) ? "%/,+&|()\":;=<>!" : "%/,+&|()[]\":;=<>!";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f || strchr(special, c)) {
			char hex[4];
			snprintf(hex, sizeof hex, "%%%02X", c);
			folio_buf_put(b, hex, 3);
		} else {
			folio_buf_put(b, (const char *)s, 1);
		}
	}
}

/* Shortest text that reads back as d, with no '+' (it means "or"). */
static void sb_num(folio_buf *b, double d)
{
	char tmp[400];
	if (d == 0) {
		folio_buf_puts(b, "0");
		return;
	}
	if (fabs(d) >= 1e-6 && fabs(d) < 1e15) {
		for (int prec = 0; prec <= 24; prec++) {
			snprintf(tmp, sizeof tmp, "%.*f", prec, d);
			if (strtod(tmp, NULL) == d)
				break;
		}
	} else {
		for (int prec = 1; prec <= 17; prec++) {
			snprintf(tmp, sizeof tmp, "%.*e", prec - 1, d);
			if (strtod(tmp, NULL) == d)
				break;
		}
		char *e = strchr(tmp, 'e'), *w;
		if (e) { /* "1.5e+20" -> "1.5e20", "1e-07" -> "1e-7" */
			w = ++e;
			if (*e == '+')
				e++;
			else if (*e == '-')
				*w++ = *e++;
			while (*e == '0' && e[1])
				e++;
			memmove(w, e, strlen(e) + 1);
		}
	}
	folio_buf_puts(b, tmp);
}



static void canon_cmp(folio_buf *b, const node *nd)
{
	enum op op = nd->op;
	if (nd->cls) {
		folio_buf_puts(b, nd->f->pred ? "pred.count." : "count.");
		sb_value(b, nd->cls, 0);
	} else {
		folio_buf_puts(b, nd->f->name);
	}
	if (op == OP_IN && nd->nvals == 1)
		op = OP_EQ;
	folio_buf_puts(b, "=");
	folio_buf_puts(b, opnames[op]);
	folio_buf_puts(b, ":");
	/* lists were sorted and deduplicated by the parser */
	for (size_t i = 0; i < nd->nvals; i++) {
		if (i)
			folio_buf_puts(b, ":");
		if (nd->nums && !nd->strs)
			sb_num(b, nd->nums[i]);
		else
			sb_value(b, nd->strs[i], op == OP_GLOB);
	}
}

static char *canon(const node *nd)
{
	folio_buf b;
	folio_buf_init(&b, "a canonical expression");
	if (nd->kind == N_CMP) {
		canon_cmp(&b, nd);
	} else if (nd->kind == N_NOT) {
		char *k = canon(nd->kids[0]);
		if (!k)
			return NULL;
		int wrap = nd->kids[0]->kind == N_OR || nd->kids[0]->kind == N_AND;
		folio_buf_puts(&b, wrap ? "not:[" : "not:");
		folio_buf_puts(&b, k);
		if (wrap)
			folio_buf_puts(&b, "]");
		free(k);
	} else {
		char **k = calloc(nd->n, sizeof *k);
		size_t m = 0;
		if (!k)
			return NULL;
		for (size_t i = 0; i < nd->n; i++) {
			if (!(k[i] = canon(nd->kids[i])))
				b.rc = FOLIO_ENOMEM;
			else if (nd->kind == N_AND && nd->kids[i]->kind == N_OR) {
				size_t l = strlen(k[i]);
				char *w = malloc(l + 3);
				if (!w) {
					b.rc = FOLIO_ENOMEM;
				} else {
					w[0] = '[';
					memcpy(w + 1, k[i], l);
					w[l + 1] = ']';
					w[l + 2] = '\0';
				}
				free(k[i]);
				k[i] = w;
			}
		}
		if (!b.rc) {
			qsort(k, nd->n, sizeof *k, cmp_str);
			for (size_t i = 0; i < nd->n; i++) {
				if (i && strcmp(k[i], k[i - 1]) == 0)
					continue;
				if (m++)
					folio_buf_puts(&b, nd->kind == N_AND ? "," : "+");
				folio_buf_puts(&b, k[i]);
			}
		}
		for (size_t i = 0; i < nd->n; i++)
			free(k[i]);
		free(k);
	}
	char *text = NULL;
	if (folio_buf_finish(&text, NULL, &b) < 0 || !*text) {
		free(text);
		return NULL;
	}
	return text;
}

char *folio_expr_canonical(const folio_expr *e)
{
	if (!e)
		return NULL;
	return canon(e->root);
}
