/*
 * by.c — @by/FIELD/VALUE: facet folders. `ls @by/class/` lists each class
 * with a folder of its images, so a version reads as an ImageFolder.
 *
 * A row may have several values of a multi-valued field (class, tag,
 * labeler, pred.class) and then sits in several folders; a row without a
 * value sits in FOLIO_FACET_NONE. A value that cannot be a folder name
 * ('/', "." or "..") is not a facet. Facet counting uses a small open-
 * addressing table of distinct values, so `ls @by/class/` over a million
 * rows is one pass.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/error.h"
#include "folio/util.h"
#include "folio/views.h"
#include "views_int.h"

static const char *const facet_fields[] = {
	"class", "tag", "labeler", "pred.class", "split", "format", "labeled",
	"decodable", "grayscale", "width", "height", "bands", "orientation", "objects",
	NULL,
};

const char *const *folio_facet_fields(void)
{
	return facet_fields;
}

int views_is_facet(const char *field)
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

int folio_folder_name_ok(const char *v)
{
	return *v && !strchr(v, '/') && strcmp(v, ".") && strcmp(v, "..");
}

static int collect(const char *v, void *p)
{
	views_vals *vs = p;
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

void views_facet_values(views_vals *vs, const folio_index *ix, const folio_sample *s,
			const char *field)
{
	vs->n = 0;
	vs->more = 0;
	if (multi(field)) {
		views_values(ix, s, field, collect, vs);
	} else if (!strcmp(field, "objects")) {
		snprintf(vs->num, sizeof vs->num, "%zu", views_count(ix, s, NULL, 0));
		vs->v[vs->n++] = vs->num;
	} else {
		double num = 0;
		const char *str = NULL;
		if (views_scalar(ix, s, field, &num, &str)) {
			if (!str) {
				snprintf(vs->num, sizeof vs->num, "%.15g", num);
				str = vs->num;
			}
			/* a value that cannot be a folder name is not a facet */
			if (folio_folder_name_ok(str))
				vs->v[vs->n++] = str;
		}
	}
	if (!vs->n)
		vs->v[vs->n++] = FOLIO_FACET_NONE;
}

int views_facet_error(const char *stage, const char *field)
{
	char list[512] = "";
	size_t used = 0;
	for (size_t i = 0; facet_fields[i]; i++) {
		int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
				 facet_fields[i]);
		if (w < 0 || (size_t)w >= sizeof list - used)
			break;
		used += (size_t)w;
	}
	return folio_error_set(FOLIO_EINVAL, "%s/%s: not a facet field (one of: %s)", stage,
			       field, list);
}

/* ---- counting distinct values ------------------------------------------- */

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
	views_vals vs;

	*out = NULL;
	*n = 0;
	if (!views_is_facet(field))
		return views_facet_error("@by", field);
	for (size_t i = 0; i < in->n; i++) {
		views_facet_values(&vs, ix, &ix->samples[in->v[i]], field);
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
	views_vals vs;
	int rc;

	if (!views_is_facet(field))
		return views_facet_error("@by", field);
	if ((rc = views_set_alloc(out, in->n, in->ordered)) < 0)
		return rc;
	for (size_t i = 0; i < in->n; i++) {
		views_facet_values(&vs, ix, &ix->samples[in->v[i]], field);
		for (size_t k = 0; k < vs.n; k++)
			if (!strcmp(vs.v[k], value)) {
				out->v[out->n++] = in->v[i];
				break;
			}
	}
	return 0;
}

/* ---- the view ------------------------------------------------------------ */

static int by_accept(folio_view_ctx *ctx, const char *const *args, size_t nargs)
{
	(void)ctx;
	if (nargs >= 1 && !views_is_facet(args[0]))
		return views_facet_error("@by", args[0]);
	return nargs < 2 ? FOLIO_VIEW_MORE : FOLIO_VIEW_DONE;
}

static int by_list(folio_view_menu *out, folio_view_ctx *ctx, const folio_set *in,
		   const char *const *args, size_t nargs)
{
	const folio_index *ix;
	folio_set all = { 0 };
	folio_facet *fv = NULL;
	size_t nf = 0;
	int rc = 0;

	if (nargs == 0) {
		for (size_t i = 0; facet_fields[i] && rc == 0; i++)
			rc = folio_view_menu_add(out, facet_fields[i], 1);
		return rc;
	}
	if ((rc = views_table(&ix, ctx, "@by")) < 0)
		return rc;
	if (!in) {
		if ((rc = folio_set_all(&all, ix)) < 0)
			return rc;
		in = &all;
	}
	if ((rc = folio_set_facets(&fv, &nf, ix, in, args[0])) == 0)
		for (size_t i = 0; i < nf && rc == 0; i++)
			rc = folio_view_menu_add(out, fv[i].value, 1);
	folio_facets_free(fv, nf);
	folio_set_clear(&all);
	return rc;
}

static int by_stage(folio_set *out, char **canon, folio_view_ctx *ctx, const folio_set *in,
		    const char *const *args, size_t nargs, int depth)
{
	const folio_index *ix;
	int rc;

	(void)nargs;
	(void)depth;
	*canon = views_fmt("@by/%s/%s", args[0], args[1]);
	if ((rc = views_table(&ix, ctx, "@by")) < 0)
		return rc;
	return folio_set_by(out, ix, in, args[0], args[1]);
}

const folio_view views_by = {
	.name = "@by",
	.kind = FOLIO_VIEW_STAGE,
	.arity = 2,
	.summary = "facet folders, one per value: @by/class/car, @by/split/val",
	.accept = by_accept,
	.list = by_list,
	.stage = by_stage,
};
