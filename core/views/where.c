/*
 * where.c — @where/EXPR: the samples an expression matches
 * (docs/queries.md has the language, core/views/expr.c parses it).
 *
 * The expression is parsed once per lookup and evaluated on each member;
 * its canonical text (operands sorted, aliases resolved) names the stage,
 * so `@where/b,a` and `@where/a,b` are one folder.
 */
#include <stdlib.h>

#include "folio/error.h"
#include "folio/views.h"
#include "views_int.h"

int folio_set_where(folio_set *out, const folio_index *ix, const folio_set *in,
		    const folio_expr *e)
{
	int rc = views_set_alloc(out, in->n, in->ordered);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < in->n; i++) {
		folio_sample_ref r = { ix, &ix->samples[in->v[i]] };
		if (folio_expr_eval(e, &folio_index_sample_ops, &r))
			out->v[out->n++] = in->v[i];
	}
	return 0;
}

static int where_stage(folio_set *out, char **canon, folio_view_ctx *ctx, const folio_set *in,
		       const char *const *args, size_t nargs, int depth)
{
	const folio_index *ix;
	folio_expr *e = NULL;
	int rc;

	(void)nargs;
	(void)depth;
	if ((rc = folio_expr_parse(&e, args[0])) < 0)
		return rc;
	char *c = folio_expr_canonical(e);
	if (!c) {
		folio_expr_free(e);
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	}
	*canon = views_fmt("@where/%s", c);
	free(c);
	if ((rc = views_table(&ix, ctx, "@where")) == 0)
		rc = folio_set_where(out, ix, in, e);
	folio_expr_free(e);
	return rc;
}

const folio_view views_where = {
	.name = "@where",
	.kind = FOLIO_VIEW_STAGE,
	.arity = 1,
	.summary = "the samples an expression matches: @where/class=car,brightness<0.2",
	.stage = where_stage,
};
