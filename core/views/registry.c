/*
 * registry.c — the view registry: every @-name a version folder knows.
 *
 * One row per view, sorted by name (the order `ls <version>/@` shows).
 * The row is the view's folio_view, defined in the view's own file
 * (where.c, by.c, ..., issues.c); the pipeline evaluator, the daemon and
 * the CLI find views only through folio_view_find(), so adding a view is
 * adding its file and its row here.
 */
#include <string.h>

#include "folio/views.h"
#include "views_int.h"

/* Each row's view is defined in its own file. */
extern const folio_view views_balance, views_by, views_export, views_history, views_issues,
	views_limit, views_preview, views_sample, views_slices, views_sort, views_stats,
	views_where;

static const folio_view *const registry[] = {
	&views_balance,
	&views_by,
	&views_export,
	&views_history,
	&views_issues,
	&views_limit,
	&views_preview,
	&views_sample,
	&views_slices,
	&views_sort,
	&views_stats,
	&views_where,
	NULL,
};

const folio_view *const *folio_views(void)
{
	return registry;
}

const folio_view *folio_view_find(const char *name)
{
	for (size_t i = 0; registry[i]; i++)
		if (!strcmp(registry[i]->name, name))
			return registry[i];
	return NULL;
}
