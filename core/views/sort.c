/*
 * sort.c — @sort/[-]FIELD: members ranked by any field @where knows
 * (ascending; '-' or ":desc" for descending). Members without a value
 * come last either way; ties keep path order, so a ranking is the same on
 * every machine. A ranked set is listed under rank names
 * (folio_set_name), so `ls` shows the order.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/error.h"
#include "folio/views.h"
#include "views_int.h"

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
		} else if (!strcmp(field, "class") || !strcmp(field, "tag") ||
			   !strcmp(field, "labeler") || !strcmp(field, "pred.class")) {
			views_values(ix, s, field, first_value, &q->str);
			q->has = q->str != NULL;
		} else {
			q->has = views_scalar(ix, s, field, &q->num, &q->str);
		}
	}
	sortctx c = { ix, descending };
	qsort_r(k, in->n, sizeof *k, skey_cmp, &c);
	if ((rc = views_set_alloc(out, in->n, 1)) == 0)
		for (size_t i = 0; i < in->n; i++)
			out->v[out->n++] = k[i].row;
	free(k);
	return rc;
}

static int sort_stage(folio_set *out, char **canon, folio_view_ctx *ctx, const folio_set *in,
		      const char *const *args, size_t nargs, int depth)
{
	const folio_index *ix;
	const char *arg = args[0];
	int desc = arg[0] == '-';
	const char *field = desc ? arg + 1 : arg;
	size_t fl = strlen(field);
	char fbuf[256], canon_field[256];
	int rc;

	(void)nargs;
	(void)depth;
	if (fl > 5 && !strcmp(field + fl - 5, ":desc")) {
		desc = 1;
		snprintf(fbuf, sizeof fbuf, "%.*s", (int)(fl - 5), field);
		field = fbuf;
	}
	if ((rc = sort_field(canon_field, sizeof canon_field, field)) < 0)
		return rc;
	*canon = views_fmt("@sort/%s%s", desc ? "-" : "", canon_field);
	if ((rc = views_table(&ix, ctx, "@sort")) < 0)
		return rc;
	return folio_set_sort(out, ix, in, canon_field, desc);
}

const folio_view views_sort = {
	.name = "@sort",
	.kind = FOLIO_VIEW_STAGE,
	.arity = 1,
	.summary = "ranked by a field, listed as <rank>_<name>: @sort/-blurriness",
	.stage = sort_stage,
};
