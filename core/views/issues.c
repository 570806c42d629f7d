/*
 * issues.c — @issues/TYPE: data-cleaning findings of a set, one ranked set
 * per finding type (corrupt, duplicates, near-duplicates, blurry, dark,
 * light, low-information, odd size or aspect, grayscale, split leaks).
 *
 * Not built yet: the registry row and the menu exist so that the name is
 * reserved and discoverable, but no finding type is offered and looking
 * one up says so. It lists nothing rather than an empty folder per type,
 * which would read as "no corrupt images found". The findings come with
 * the data-cleaning work (per-object scores from core/analysis).
 */
#include "folio/error.h"
#include "folio/views.h"
#include "views_int.h"

static int issues_accept(folio_view_ctx *ctx, const char *const *args, size_t nargs)
{
	(void)ctx;
	if (nargs == 0)
		return FOLIO_VIEW_MORE;
	return folio_error_set(FOLIO_ENOTFOUND, "@issues/%s: no finding types yet (data-cleaning "
			       "findings are not built in this version of folio)", args[0]);
}

static int issues_list(folio_view_menu *out, folio_view_ctx *ctx, const folio_set *in,
		       const char *const *args, size_t nargs)
{
	(void)out;
	(void)ctx;
	(void)in;
	(void)args;
	(void)nargs;
	return 0;
}

static int issues_stage(folio_set *out, char **canon, folio_view_ctx *ctx, const folio_set *in,
			const char *const *args, size_t nargs, int depth)
{
	(void)out;
	(void)canon;
	(void)in;
	(void)depth;
	return issues_accept(ctx, args, nargs);
}

const folio_view views_issues = {
	.name = "@issues",
	.kind = FOLIO_VIEW_STAGE,
	.arity = 1,
	.summary = "data-cleaning findings, one set per type (not built yet: lists nothing)",
	.accept = issues_accept,
	.list = issues_list,
	.stage = issues_stage,
};
