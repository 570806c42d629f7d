/*
 * limit.c — @limit/N: the first N members, in the set's order (after
 * @sort: the N best ranked).
 */
#include <string.h>

#include "folio/error.h"
#include "folio/views.h"
#include "views_int.h"

int folio_set_limit(folio_set *out, const folio_set *in, size_t n)
{
	int rc = views_set_alloc(out, n < in->n ? n : in->n, in->ordered);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < in->n && i < n; i++)
		out->v[out->n++] = in->v[i];
	return 0;
}

static int limit_stage(folio_set *out, char **canon, folio_view_ctx *ctx, const folio_set *in,
		       const char *const *args, size_t nargs, int depth)
{
	size_t n = 0;

	(void)ctx;
	(void)nargs;
	(void)depth;
	if (views_parse_count(&n, args[0], strlen(args[0])) < 0)
		return folio_error_set(FOLIO_EINVAL, "@limit/%s: expected a count (@limit/100)",
				       args[0]);
	*canon = views_fmt("@limit/%zu", n);
	return folio_set_limit(out, in, n);
}

const folio_view views_limit = {
	.name = "@limit",
	.kind = FOLIO_VIEW_STAGE,
	.arity = 1,
	.summary = "the first N members (after @sort: the N best ranked): @limit/20",
	.stage = limit_stage,
};
