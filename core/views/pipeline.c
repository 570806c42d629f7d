/*
 * pipeline.c — sets of samples and the stages that transform them
 * (include/folio/views.h has the contract).
 *
 * Every stage is a pass over the input set and allocates one output set;
 * nothing here is cached (the daemon caches sets per node, outputs are
 * cached by the callers by canonical pipeline text). Randomness (@sample,
 * @balance) is a hash of (seed, path), so a stage gives the same answer
 * on any machine, for any input order, and a sample of a superset keeps
 * the members it shares with a sample of the subset.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "folio/error.h"
#include "folio/util.h"
#include "folio/views.h"
#include "views_int.h"

/* ---- sets -------------------------------------------------------------- */

static int set_alloc(folio_set *out, size_t cap, int ordered)
{
	out->v = malloc((cap ? cap : 1) * sizeof *out->v);
	out->n = 0;
	out->ordered = ordered;
	return out->v ? 0 : folio_error_set(FOLIO_ENOMEM, "out of memory");
}

int folio_set_all(folio_set *out, const folio_index *ix)
{
	int rc = set_alloc(out, ix->nsamples, 0);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < ix->nsamples; i++)
		out->v[out->n++] = (uint32_t)i;
	return 0;
}

int folio_set_copy(folio_set *out, const folio_set *in)
{
	int rc = set_alloc(out, in->n, in->ordered);
	if (rc < 0)
		return rc;
	memcpy(out->v, in->v, in->n * sizeof *in->v);
	out->n = in->n;
	return 0;
}

void folio_set_clear(folio_set *s)
{
	if (!s)
		return;
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

int folio_set_where(folio_set *out, const folio_index *ix, const folio_set *in,
		    const folio_expr *e)
{
	int rc = set_alloc(out, in->n, in->ordered);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < in->n; i++) {
		folio_sample_ref r = { ix, &ix->samples[in->v[i]] };
		if (folio_expr_eval(e, &folio_index_sample_ops, &r))
			out->v[out->n++] = in->v[i];
	}
	return 0;
}

int folio_set_limit(folio_set *out, const folio_set *in, size_t n)
{
	int rc = set_alloc(out, n < in->n ? n : in->n, in->ordered);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < in->n && i < n; i++)
		out->v[out->n++] = in->v[i];
	return 0;
}

/* ---- facets ------------------------------------------------------------ */

static const char *const facet_fields[] = {
	"class", "tag", "labeler", "pred.class", "split", "format", "labeled",
	"decodable", "grayscale", "width", "height", "bands", "orientation", "objects",
	NULL,
};

const char *const *folio_facet_fields(void)
{
	return facet_fields;
}

static int is_facet(const char *field)
{
	for (size_t i = 0; facet_fields[i]; i++)
		if (!strcmp(facet_fields[i], field))
			return 1;
	return 0;
}

static int multi(const char *field)
{
	return !strcmp(field, "class") || !strcmp(field, "tag") || !strcmp(field, "labeler") ||
	       !strcmp(field, "pred.class");
}

typedef struct vals {
	const char *v[64];
	size_t n;
	int more;
} vals;

int folio_folder_name_ok(const char *v)
{
	return *v && !strchr(v, '/') && strcmp(v, ".") && strcmp(v, "..");
}

static int collect(const char *v, void *p)
{
	vals *vs = p;
	if (!folio_folder_name_ok(v))
		return 0;            /* a value that cannot be a folder is not a facet */
	for (size_t i = 0; i < vs->n; i++)
		if (!strcmp(vs->v[i], v))
			return 0;
	if (vs->n == sizeof vs->v / sizeof vs->v[0]) {
		vs->more = 1;
		return 1;
	}
	vs->v[vs->n++] = v;
	return 0;
}

/* The facet values of a row (distinct), formatted into numbuf for numeric
 * fields; FOLIO_FACET_NONE when it has none. */
static void facet_values(vals *vs, char *numbuf, size_t numsize, const folio_index *ix,
			 const folio_sample *s, const char *field)
{
	vs->n = 0;
	vs->more = 0;
	if (multi(field)) {
		views_values(ix, s, field, collect, vs);
	} else if (!strcmp(field, "objects")) {
		snprintf(numbuf, numsize, "%zu", views_count(ix, s, NULL, 0));
		vs->v[vs->n++] = numbuf;
	} else {
		double num = 0;
		const char *str = NULL;
		if (views_scalar(ix, s, field, &num, &str)) {
			if (!str) {
				snprintf(numbuf, numsize, "%.15g", num);
				str = numbuf;
			}
			/* a value that cannot be a folder name is not a facet */
			if (folio_folder_name_ok(str))
				vs->v[vs->n++] = str;
		}
	}
	if (!vs->n)
		vs->v[vs->n++] = FOLIO_FACET_NONE;
}

static int field_error(const char *stage, const char *field)
{
	const char *const *f = folio_facet_fields();
	char list[512] = "";
	size_t used = 0;
	for (size_t i = 0; f[i]; i++) {
		int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", f[i]);
		if (w < 0 || (size_t)w >= sizeof list - used)
			break;
		used += (size_t)w;
	}
	return folio_error_set(FOLIO_EINVAL, "%s/%s: not a facet field (one of: %s)", stage,
			       field, list);
}

typedef struct fmap {
	folio_facet *v;
	size_t n, cap;
	size_t *slots;           /* index + 1 */
	size_t nslots;
} fmap;

static int fmap_add(fmap *m, const char *value)
{
	if ((m->n + 1) * 2 > m->nslots) {
		size_t ns = m->nslots ? m->nslots * 2 : 64;
		size_t *sl = calloc(ns, sizeof *sl);
		if (!sl)
			return -1;
		for (size_t i = 0; i < m->n; i++) {
			size_t j = folio_fnv1a_str(m->v[i].value) & (ns - 1);
			while (sl[j])
				j = (j + 1) & (ns - 1);
			sl[j] = i + 1;
		}
		free(m->slots);
		m->slots = sl;
		m->nslots = ns;
	}
	size_t j = folio_fnv1a_str(value) & (m->nslots - 1);
	while (m->slots[j]) {
		folio_facet *f = &m->v[m->slots[j] - 1];
		if (!strcmp(f->value, value)) {
			f->count++;
			return 0;
		}
		j = (j + 1) & (m->nslots - 1);
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 16;
		folio_facet *v = realloc(m->v, cap * sizeof *v);
		if (!v)
			return -1;
		m->v = v;
		m->cap = cap;
	}
	if (!(m->v[m->n].value = strdup(value)))
		return -1;
	m->v[m->n].count = 1;
	m->slots[j] = ++m->n;
	return 0;
}

static int facet_cmp(const void *a, const void *b)
{
	return strcmp(((const folio_facet *)a)->value, ((const folio_facet *)b)->value);
}

void folio_facets_free(folio_facet *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(f[i].value);
	free(f);
}

int folio_set_facets(folio_facet **out, size_t *n, const folio_index *ix,
		     const folio_set *in, const char *field)
{
	fmap m = { 0 };
	char num[64];
	vals vs;

	*out = NULL;
	*n = 0;
	if (!is_facet(field))
		return field_error("@by", field);
	for (size_t i = 0; i < in->n; i++) {
		facet_values(&vs, num, sizeof num, ix, &ix->samples[in->v[i]], field);
		for (size_t k = 0; k < vs.n; k++)
			if (fmap_add(&m, vs.v[k]) < 0) {
				free(m.slots);
				folio_facets_free(m.v, m.n);
				return folio_error_set(FOLIO_ENOMEM, "out of memory");
			}
	}
	free(m.slots);
	if (m.n)
		qsort(m.v, m.n, sizeof *m.v, facet_cmp);
	*out = m.v;
	*n = m.n;
	return 0;
}

int folio_set_by(folio_set *out, const folio_index *ix, const folio_set *in,
		 const char *field, const char *value)
{
	char num[64];
	vals vs;
	int rc;

	if (!is_facet(field))
		return field_error("@by", field);
	if ((rc = set_alloc(out, in->n, in->ordered)) < 0)
		return rc;
	for (size_t i = 0; i < in->n; i++) {
		facet_values(&vs, num, sizeof num, ix, &ix->samples[in->v[i]], field);
		for (size_t k = 0; k < vs.n; k++)
			if (!strcmp(vs.v[k], value)) {
				out->v[out->n++] = in->v[i];
				break;
			}
	}
	return 0;
}

/* ---- seeded choice ----------------------------------------------------- */

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

typedef struct keyed {
	uint64_t key;
	uint32_t pos;            /* position in the input set */
} keyed;

static int keyed_cmp(const void *a, const void *b)
{
	const keyed *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int pos_cmp(const void *a, const void *b)
{
	const keyed *x = a, *y = b;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static uint64_t draw(const folio_index *ix, uint32_t row, uint64_t seed)
{
	return mix(folio_fnv1a_str(folio_index_path(ix, &ix->samples[row])) ^ mix(seed));
}

/* Keeps the k members of in with the smallest draws, in in's order. */
static int choose(folio_set *out, const folio_index *ix, const folio_set *in,
		  const uint32_t *pos, size_t npos, size_t k, uint64_t seed)
{
	keyed *kv = malloc((npos ? npos : 1) * sizeof *kv);
	if (!kv)
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	for (size_t i = 0; i < npos; i++)
		kv[i] = (keyed){ draw(ix, in->v[pos[i]], seed), pos[i] };
	if (k < npos)
		qsort(kv, npos, sizeof *kv, keyed_cmp);
	else
		k = npos;
	qsort(kv, k, sizeof *kv, pos_cmp);
	for (size_t i = 0; i < k; i++)
		out->v[out->n++] = in->v[kv[i].pos];
	free(kv);
	return 0;
}

int folio_set_sample(folio_set *out, const folio_index *ix, const folio_set *in,
		     size_t n, uint64_t seed)
{
	uint32_t *pos = NULL;
	int rc;

	if ((rc = set_alloc(out, n < in->n ? n : in->n, in->ordered)) < 0)
		return rc;
	if (!(pos = malloc((in->n ? in->n : 1) * sizeof *pos))) {
		folio_set_clear(out);
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < in->n; i++)
		pos[i] = (uint32_t)i;
	rc = choose(out, ix, in, pos, in->n, n, seed);
	free(pos);
	if (rc < 0)
		folio_set_clear(out);
	return rc;
}

int folio_set_balance(folio_set *out, const folio_index *ix, const folio_set *in,
		      const char *field, uint64_t seed)
{
	folio_facet *fv = NULL;
	size_t nf = 0;
	uint32_t *group = NULL, *pos = NULL;
	char num[64];
	vals vs;
	int rc;

	if (!is_facet(field))
		return field_error("@balance", field);
	if ((rc = folio_set_facets(&fv, &nf, ix, in, field)) < 0)
		return rc;
	if ((rc = set_alloc(out, in->n, in->ordered)) < 0)
		goto done;
	group = malloc((in->n ? in->n : 1) * sizeof *group);
	pos = malloc((in->n ? in->n : 1) * sizeof *pos);
	if (!group || !pos) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto done;
	}
	/* Each member joins the group of its smallest value; samples with no
	 * value are left out (they would cap every class at their count). */
	size_t *sizes = calloc(nf ? nf : 1, sizeof *sizes);
	if (!sizes) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < in->n; i++) {
		facet_values(&vs, num, sizeof num, ix, &ix->samples[in->v[i]], field);
		const char *best = vs.v[0];
		for (size_t k = 1; k < vs.n; k++)
			if (strcmp(vs.v[k], best) < 0)
				best = vs.v[k];
		group[i] = FOLIO_NONE;
		if (!strcmp(best, FOLIO_FACET_NONE))
			continue;
		folio_facet key = { (char *)best, 0 };
		folio_facet *hit = bsearch(&key, fv, nf, sizeof *fv, facet_cmp);
		if (hit) {
			group[i] = (uint32_t)(hit - fv);
			sizes[group[i]]++;
		}
	}
	size_t quota = SIZE_MAX;
	for (size_t g = 0; g < nf; g++)
		if (sizes[g] && sizes[g] < quota)
			quota = sizes[g];
	for (size_t g = 0; g < nf && quota != SIZE_MAX; g++) {
		size_t np = 0;
		for (size_t i = 0; i < in->n; i++)
			if (group[i] == g)
				pos[np++] = (uint32_t)i;
		if ((rc = choose(out, ix, in, pos, np, quota, seed)) < 0)
			break;
	}
	free(sizes);
	if (rc >= 0) {
		/* back into the input's order */
		keyed *kv = malloc((out->n ? out->n : 1) * sizeof *kv);
		uint32_t *where = malloc((ix->nsamples ? ix->nsamples : 1) * sizeof *where);
		if (!kv || !where) {
			free(kv);
			free(where);
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto done;
		}
		for (size_t i = 0; i < in->n; i++)
			where[in->v[i]] = (uint32_t)i;
		for (size_t i = 0; i < out->n; i++)
			kv[i] = (keyed){ 0, where[out->v[i]] };
		qsort(kv, out->n, sizeof *kv, pos_cmp);
		for (size_t i = 0; i < out->n; i++)
			out->v[i] = in->v[kv[i].pos];
		free(kv);
		free(where);
	}
done:
	if (rc < 0)
		folio_set_clear(out);
	folio_facets_free(fv, nf);
	free(group);
	free(pos);
	return rc;
}

/* ---- sorting ----------------------------------------------------------- */

typedef struct skey {
	double num;
	const char *str;
	int has;
	uint32_t row;
} skey;

typedef struct sortctx {
	const folio_index *ix;
	int desc;
} sortctx;

static int skey_cmp(const void *a, const void *b, void *p)
{
	const skey *x = a, *y = b;
	const sortctx *c = p;
	int r = 0;

	if (x->has != y->has)
		return x->has ? -1 : 1;      /* no value: last, either way */
	if (x->has) {
		if (x->str || y->str)
			r = strcmp(x->str ? x->str : "", y->str ? y->str : "");
		else
			r = x->num < y->num ? -1 : x->num > y->num;
		if (c->desc)
			r = -r;
	}
	if (!r)
		r = strcmp(folio_index_path(c->ix, &c->ix->samples[x->row]),
			   folio_index_path(c->ix, &c->ix->samples[y->row]));
	return r;
}

static int first_value(const char *v, void *p)
{
	const char **best = p;
	if (!*best || strcmp(v, *best) < 0)
		*best = v;
	return 0;
}

/* A field @sort accepts: any @where field (a count family included),
 * written into out under its canonical name (aliases resolved). */
static int sort_field(char *out, size_t size, const char *field)
{
	char text[300];
	folio_expr *e = NULL;

	if (strlen(field) > 200)
		return folio_error_set(FOLIO_EINVAL, "@sort: field name too long");
	snprintf(text, sizeof text, "%s=lt:0", field);
	if (folio_expr_parse(&e, text) < 0) {
		snprintf(text, sizeof text, "%s=x", field);
		if (folio_expr_parse(&e, text) < 0)
			return folio_error_wrap(FOLIO_EINVAL, "@sort/%s", field);
	}
	char *c = folio_expr_canonical(e);
	folio_expr_free(e);
	if (!c)
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	char *eq = strchr(c, '=');
	snprintf(out, size, "%.*s", (int)(eq ? eq - c : (ptrdiff_t)strlen(c)), c);
	free(c);
	return 0;
}

/* The best prediction score of a row; 0 if it has none. */
static int best_score(const folio_index *ix, const folio_sample *s, double *out)
{
	int has = 0;
	if (s->pred == FOLIO_NONE)
		return 0;
	const folio_iann *a = &ix->anns[s->pred];
	for (uint32_t k = 0; k < a->obj_count; k++) {
		const folio_iobject *o = &ix->objs[a->obj_first + k];
		if (o->has_score && (!has || o->score > *out)) {
			*out = o->score;
			has = 1;
		}
	}
	return has;
}

int folio_set_sort(folio_set *out, const folio_index *ix, const folio_set *in,
		   const char *name, int descending)
{
	char field[256];
	skey *k = NULL;
	int rc;

	if ((rc = sort_field(field, sizeof field, name)) < 0)
		return rc;
	if (!(k = malloc((in->n ? in->n : 1) * sizeof *k)))
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	int pred = !strncmp(field, "pred.", 5);
	const char *base = pred ? field + 5 : field;
	for (size_t i = 0; i < in->n; i++) {
		const folio_sample *s = &ix->samples[in->v[i]];
		skey *q = &k[i];
		q->row = in->v[i];
		q->str = NULL;
		q->num = 0;
		q->has = 0;
		if (!strcmp(base, "objects")) {
			q->num = (double)views_count(ix, s, NULL, pred);
			q->has = 1;
		} else if (!strncmp(base, "count.", 6)) {
			q->num = (double)views_count(ix, s, base + 6, pred);
			q->has = 1;
		} else if (!strcmp(field, "pred.score")) {
			q->has = best_score(ix, s, &q->num);
		} else if (multi(field)) {
			views_values(ix, s, field, first_value, &q->str);
			q->has = q->str != NULL;
		} else {
			q->has = views_scalar(ix, s, field, &q->num, &q->str);
		}
	}
	sortctx c = { ix, descending };
	qsort_r(k, in->n, sizeof *k, skey_cmp, &c);
	if ((rc = set_alloc(out, in->n, 1)) == 0)
		for (size_t i = 0; i < in->n; i++)
			out->v[out->n++] = k[i].row;
	free(k);
	return rc;
}

/* ---- names ------------------------------------------------------------- */

/*
 * A ranked member is one flat file name, "<rank>_<path>": the rank
 * (1-based) zero-padded to the digits of the set's size, so that `ls`
 * lists the ranking in order, then the dataset path with '%' written "%25"
 * and '/' written "%2F". The path comes back exactly
 * (folio_set_name_decode), so cats/0003.jpg and dogs/0003.jpg stay apart,
 * and the extension stays last, so viewers still see an image.
 */
int folio_set_name(char *buf, size_t size, const folio_index *ix, const folio_set *s,
		   size_t i)
{
	const char *path = folio_index_path(ix, &ix->samples[s->v[i]]);
	size_t n;
	int k;

	if (!s->ordered) {
		k = snprintf(buf, size, "%s", path);
		if (k < 0 || (size_t)k >= size)
			goto too_long;
		return 0;
	}
	int width = 1;
	for (size_t m = s->n; m >= 10; m /= 10)
		width++;
	k = snprintf(buf, size, "%0*zu_", width, i + 1);
	if (k < 0 || (size_t)k >= size)
		goto too_long;
	n = (size_t)k;
	for (const char *p = path; *p; p++) {
		const char *esc = *p == '%' ? "%25" : *p == '/' ? "%2F" : NULL;
		size_t len = esc ? 3 : 1;
		if (n + len >= size)
			goto too_long;
		memcpy(buf + n, esc ? esc : p, len);
		n += len;
	}
	buf[n] = '\0';
	return 0;
too_long:
	return folio_error_set(FOLIO_EINVAL, "name too long: %s", path);
}

int folio_set_name_decode(char *path, size_t size, size_t *rank, const char *name)
{
	const char *p = name;
	size_t r = 0, n = 0;

	for (; isdigit((unsigned char)*p); p++) {
		if (r > (SIZE_MAX - 9) / 10)
			goto bad;
		r = r * 10 + (size_t)(*p - '0');
	}
	if (p == name || *p != '_' || r == 0 || !p[1])
		goto bad;
	for (p++; *p; p++) {
		char c = *p;
		if (c == '/')
			goto bad;
		if (c == '%') {
			if (p[1] == '2' && p[2] == '5')
				c = '%';
			else if (p[1] == '2' && (p[2] == 'F' || p[2] == 'f'))
				c = '/';
			else
				goto bad;
			p += 2;
		}
		if (n + 1 >= size)
			return folio_error_set(FOLIO_EINVAL, "'%s': the path is too long", name);
		path[n++] = c;
	}
	path[n] = '\0';
	if (folio_path_validate(path) < 0)
		return folio_error_set(FOLIO_EINVAL, "'%s' names '%s', which is not a dataset path",
				       name, path);
	if (rank)
		*rank = r;
	return 0;
bad:
	return folio_error_set(FOLIO_EINVAL,
		"'%s' is not a ranked name (<rank>_<path>, '/' written %%2F and '%%' %%25)", name);
}

/* ---- stages ------------------------------------------------------------ */

int folio_stage_arity(const char *seg)
{
	static const struct { const char *name; int arity; } st[] = {
		{ "@where", 1 }, { "@by", 2 }, { "@slices", 1 }, { "@sample", 1 },
		{ "@sort", 1 }, { "@limit", 1 }, { "@balance", 1 },
		{ "@stats", -1 }, { "@export", -1 }, { "@preview", -1 }, { "@history", -1 },
	};
	for (size_t i = 0; i < sizeof st / sizeof st[0]; i++)
		if (!strcmp(seg, st[i].name))
			return st[i].arity;
	return 0;
}

/* A count: decimal digits only, at most 10^9. */
static int parse_count(size_t *out, const char *s, size_t len)
{
	size_t v = 0;
	if (!len || len > 10)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (size_t)(s[i] - '0');
	}
	if (v > 1000000000)
		return -1;
	*out = v;
	return 0;
}

/* "N" or "N:SEED" */
static int parse_n_seed(size_t *n, uint64_t *seed, const char *arg, int need_n)
{
	const char *colon = strchr(arg, ':');
	size_t nlen = colon ? (size_t)(colon - arg) : strlen(arg);
	size_t sd = 0;

	*seed = 0;
	if (need_n && parse_count(n, arg, nlen) < 0)
		return -1;
	if (colon && parse_count(&sd, colon + 1, strlen(colon + 1)) < 0)
		return -1;
	*seed = sd;
	return 0;
}

int folio_slice_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (!n || n > 128 || name[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("._-", name[i]))
			return 0;
	return 1;
}

char *folio_slice_json(const char *pipeline, const char *description)
{
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;
	if (!o)
		return NULL;
	if (cJSON_AddStringToObject(o, "pipeline", pipeline) &&
	    (!description || cJSON_AddStringToObject(o, "description", description)))
		text = cJSON_Print(o);
	cJSON_Delete(o);
	if (text) {
		/* a trailing newline, like every text file we write */
		size_t n = strlen(text);
		char *t = realloc(text, n + 2);
		if (!t) {
			free(text);
			return NULL;
		}
		t[n] = '\n';
		t[n + 1] = 0;
		text = t;
	}
	return text;
}

static int run(folio_set *out, char **canon, const folio_index *ix, const folio_set *from,
	       const char *pipeline, folio_slice_cb slices, void *payload, int depth);

/* A malloc'd formatted string, or NULL. */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, f);
	int n = vasprintf(&s, f, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

static int step(folio_set *out, char **canon, const folio_index *ix, const folio_set *in,
		const char *const *segs, size_t nsegs, folio_slice_cb slices, void *payload,
		int depth)
{
	const char *st = segs[0];
	int arity = folio_stage_arity(st);
	char *buf = NULL;
	int rc = 0;

	*canon = NULL;
	memset(out, 0, sizeof *out);
	if (arity <= 0)
		return folio_error_set(FOLIO_EINVAL, "%s: not a set stage (stages: @where, @by, "
				       "@slices, @sample, @sort, @limit, @balance)", st);
	if (nsegs != (size_t)arity + 1)
		return folio_error_set(FOLIO_EINVAL, "%s: wants %d argument%s", st, arity,
				       arity > 1 ? "s" : "");
	const char *arg = segs[1];
	if (!strcmp(st, "@where")) {
		folio_expr *e = NULL;
		if ((rc = folio_expr_parse(&e, arg)) < 0)
			return rc;
		char *c = folio_expr_canonical(e);
		if (!c) {
			folio_expr_free(e);
			return folio_error_set(FOLIO_ENOMEM, "out of memory");
		}
		buf = fmt("@where/%s", c);
		free(c);
		rc = folio_set_where(out, ix, in, e);
		folio_expr_free(e);
	} else if (!strcmp(st, "@by")) {
		rc = folio_set_by(out, ix, in, arg, segs[2]);
		buf = fmt("@by/%s/%s", arg, segs[2]);
	} else if (!strcmp(st, "@sample") || !strcmp(st, "@limit")) {
		size_t n = 0;
		uint64_t seed = 0;
		int lim = !strcmp(st, "@limit");
		if ((lim ? parse_count(&n, arg, strlen(arg)) : parse_n_seed(&n, &seed, arg, 1)) < 0)
			return folio_error_set(FOLIO_EINVAL, "%s/%s: expected %s", st, arg,
					       lim ? "a count (@limit/100)" :
					       "a count and an optional seed (@sample/100 or @sample/100:7)");
		if (lim) {
			rc = folio_set_limit(out, in, n);
			buf = fmt("@limit/%zu", n);
		} else {
			rc = folio_set_sample(out, ix, in, n, seed);
			buf = seed ? fmt("@sample/%zu:%llu", n, (unsigned long long)seed)
				   : fmt("@sample/%zu", n);
		}
	} else if (!strcmp(st, "@sort")) {
		int desc = arg[0] == '-';
		const char *field = desc ? arg + 1 : arg;
		size_t fl = strlen(field);
		char fbuf[256];
		if (fl > 5 && !strcmp(field + fl - 5, ":desc")) {
			desc = 1;
			snprintf(fbuf, sizeof fbuf, "%.*s", (int)(fl - 5), field);
			field = fbuf;
		}
		char canon_field[256];
		if ((rc = sort_field(canon_field, sizeof canon_field, field)) == 0)
			rc = folio_set_sort(out, ix, in, canon_field, desc);
		buf = rc < 0 ? NULL : fmt("@sort/%s%s", desc ? "-" : "", canon_field);
	} else if (!strcmp(st, "@balance")) {
		char field[256];
		uint64_t seed = 0;
		const char *colon = strchr(arg, ':');
		size_t fl = colon ? (size_t)(colon - arg) : strlen(arg);
		if (fl >= sizeof field || parse_n_seed(NULL, &seed, arg, 0) < 0)
			return folio_error_set(FOLIO_EINVAL, "%s/%s: expected a field and an "
					       "optional seed (@balance/class or @balance/class:7)",
					       st, arg);
		snprintf(field, sizeof field, "%.*s", (int)fl, arg);
		rc = folio_set_balance(out, ix, in, field, seed);
		buf = seed ? fmt("@balance/%s:%llu", field, (unsigned long long)seed)
			   : fmt("@balance/%s", field);
	} else {   /* @slices */
		char *text = NULL, *sub = NULL;
		size_t len = 0;
		if (!folio_slice_name_valid(arg))
			return folio_error_set(FOLIO_EINVAL, "@slices/%s: not a slice name "
					       "(letters, digits, '.', '_', '-')", arg);
		if (depth >= FOLIO_SLICE_MAX_DEPTH)
			return folio_error_set(FOLIO_EINVAL, "@slices/%s: slices nest more than %d "
					       "deep (a slice that names itself?)", arg,
					       FOLIO_SLICE_MAX_DEPTH);
		if (!slices || (rc = slices(&text, &len, arg, payload)) < 0)
			return slices ? rc : folio_error_set(FOLIO_ENOTFOUND, "@slices/%s: no such slice", arg);
		cJSON *j = cJSON_ParseWithLength(text, len);
		free(text);
		const cJSON *p = j ? cJSON_GetObjectItemCaseSensitive(j, "pipeline") : NULL;
		if (!cJSON_IsString(p)) {
			cJSON_Delete(j);
			return folio_error_set(FOLIO_EINVAL, ".folio/slices/%s.json: expected an "
					       "object with a \"pipeline\" string", arg);
		}
		/* a slice runs from the set it is applied to, so that its
		 * canonical text spliced into the caller's names the same set */
		char *pl = strdup(p->valuestring);
		cJSON_Delete(j);
		if (!pl)
			return folio_error_set(FOLIO_ENOMEM, "out of memory");
		rc = run(out, &sub, ix, in, pl, slices, payload, depth + 1);
		free(pl);
		if (rc < 0)
			return folio_error_wrap(rc, ".folio/slices/%s.json", arg);
		buf = sub;
	}
	if (rc < 0) {
		folio_set_clear(out);
		free(buf);
		return rc;
	}
	if (!(*canon = buf)) {
		folio_set_clear(out);
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	}
	return 0;
}

int folio_pipeline_step(folio_set *out, char **canon, const folio_index *ix,
			const folio_set *in, const char *const *segs, size_t nsegs,
			folio_slice_cb slices, void *payload)
{
	return step(out, canon, ix, in, segs, nsegs, slices, payload, 0);
}

static int run(folio_set *out, char **canon, const folio_index *ix, const folio_set *from,
	       const char *pipeline, folio_slice_cb slices, void *payload, int depth)
{
	char *text = strdup(pipeline), *segs[FOLIO_PIPELINE_MAX_STAGES * 3];
	size_t n = 0, cl = 0, nstages = 0;
	char *c = NULL;
	folio_set cur = { 0 };
	int rc;

	memset(out, 0, sizeof *out);
	if (canon)
		*canon = NULL;
	if (!text)
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	for (char *p = text; *p;) {
		char *slash = strchr(p, '/');
		if (slash)
			*slash = 0;
		if (*p) {
			if (n == sizeof segs / sizeof segs[0]) {
				free(text);
				return folio_error_set(FOLIO_EINVAL, "pipeline: more than %d stages",
						       FOLIO_PIPELINE_MAX_STAGES);
			}
			segs[n++] = p;
		}
		if (!slash)
			break;
		p = slash + 1;
	}
	if ((rc = from ? folio_set_copy(&cur, from) : folio_set_all(&cur, ix)) < 0)
		goto done;
	if (!(c = calloc(1, 1))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < n;) {
		int arity = folio_stage_arity(segs[i]);
		if (arity == 0) {
			rc = folio_error_set(FOLIO_EINVAL, "pipeline: '%s' is not a stage (stages: "
					     "@where, @by, @slices, @sample, @sort, @limit, @balance)",
					     segs[i]);
			goto done;
		}
		if (arity < 0) {
			rc = folio_error_set(FOLIO_EINVAL, "pipeline: %s is an output, not a set "
					     "stage; read it through the mount", segs[i]);
			goto done;
		}
		if (++nstages > FOLIO_PIPELINE_MAX_STAGES) {
			rc = folio_error_set(FOLIO_EINVAL, "pipeline: more than %d stages",
					     FOLIO_PIPELINE_MAX_STAGES);
			goto done;
		}
		if (i + 1 + (size_t)arity > n) {
			rc = folio_error_set(FOLIO_EINVAL, "pipeline: %s wants %d argument%s", segs[i],
					     arity, arity > 1 ? "s" : "");
			goto done;
		}
		folio_set next;
		char *sc;
		if ((rc = step(&next, &sc, ix, &cur, (const char *const *)segs + i,
			       (size_t)arity + 1, slices, payload, depth)) < 0)
			goto done;
		folio_set_clear(&cur);
		cur = next;
		size_t sl = strlen(sc);
		char *nc = realloc(c, cl + sl + 2);
		if (!nc) {
			free(sc);
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto done;
		}
		c = nc;
		if (cl && sl)
			c[cl++] = '/';
		memcpy(c + cl, sc, sl + 1);
		cl += sl;
		free(sc);
		i += 1 + (size_t)arity;
	}
	*out = cur;
	cur.v = NULL;
	if (canon) {
		*canon = c;
		c = NULL;
	}
done:
	folio_set_clear(&cur);
	free(c);
	free(text);
	return rc;
}

int folio_pipeline_run(folio_set *out, char **canon, const folio_index *ix,
		       const char *pipeline, folio_slice_cb slices, void *payload)
{
	return run(out, canon, ix, NULL, pipeline, slices, payload, 0);
}
