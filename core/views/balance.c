/*
 * balance.c — @balance/FIELD[:SEED]: as many members of each value of a
 * facet field as the rarest value has, drawn like @sample (so the same on
 * every machine), in the input's order.
 *
 * A member with several values (an image with a car and a dog) joins the
 * group of its smallest value, so it is counted once; members with no
 * value are left out (they would cap every class at their count).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "folio/error.h"
#include "folio/views.h"
#include "views_int.h"

static int value_cmp(const void *a, const void *b)
{
	return strcmp(((const folio_facet *)a)->value, ((const folio_facet *)b)->value);
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int folio_set_balance(folio_set *out, const folio_index *ix, const folio_set *in,
		      const char *field, uint64_t seed)
{
	folio_facet *fv = NULL;
	size_t nf = 0;
	uint32_t *group = NULL, *pos = NULL;
	views_vals vs;
	int rc;

	if (!views_is_facet(field))
		return views_facet_error("@balance", field);
	if ((rc = folio_set_facets(&fv, &nf, ix, in, field)) < 0)
		return rc;
	if ((rc = views_set_alloc(out, in->n, in->ordered)) < 0)
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
		views_facet_values(&vs, ix, &ix->samples[in->v[i]], field);
		const char *best = vs.v[0];
		for (size_t k = 1; k < vs.n; k++)
			if (strcmp(vs.v[k], best) < 0)
				best = vs.v[k];
		group[i] = FOLIO_NONE;
		if (!strcmp(best, FOLIO_FACET_NONE))
			continue;
		folio_facet key = { (char *)best, 0 };
		folio_facet *hit = bsearch(&key, fv, nf, sizeof *fv, value_cmp);
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
		if ((rc = views_choose(out, ix, in, pos, np, quota, seed)) < 0)
			break;
	}
	free(sizes);
	if (rc >= 0) {
		/* back into the input's order */
		uint32_t *kv = malloc((out->n ? out->n : 1) * sizeof *kv);
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
			kv[i] = where[out->v[i]];
		qsort(kv, out->n, sizeof *kv, u32_cmp);
		for (size_t i = 0; i < out->n; i++)
			out->v[i] = in->v[kv[i]];
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

static int balance_stage(folio_set *out, char **canon, folio_view_ctx *ctx, const folio_set *in,
			 const char *const *args, size_t nargs, int depth)
{
	const folio_index *ix;
	const char *arg = args[0];
	char field[256];
	uint64_t seed = 0;
	int rc;

	(void)nargs;
	(void)depth;
	const char *colon = strchr(arg, ':');
	size_t fl = colon ? (size_t)(colon - arg) : strlen(arg);
	if (fl >= sizeof field || views_parse_n_seed(NULL, &seed, arg, 0) < 0)
		return folio_error_set(FOLIO_EINVAL, "@balance/%s: expected a field and an "
				       "optional seed (@balance/class or @balance/class:7)", arg);
	memcpy(field, arg, fl);
	field[fl] = '\0';
	*canon = seed ? views_fmt("@balance/%s:%llu", field, (unsigned long long)seed)
		      : views_fmt("@balance/%s", field);
	if ((rc = views_table(&ix, ctx, "@balance")) < 0)
		return rc;
	return folio_set_balance(out, ix, in, field, seed);
}

static int balance_list(folio_view_menu *out, folio_view_ctx *ctx, const folio_set *in,
			const char *const *args, size_t nargs)
{
	const char *const *f = folio_facet_fields();
	int rc = 0;

	(void)ctx;
	(void)in;
	(void)args;
	(void)nargs;
	for (size_t i = 0; f[i] && rc == 0; i++)
		rc = folio_view_menu_add(out, f[i], 1);
	return rc;
}

const folio_view views_balance = {
	.name = "@balance",
	.kind = FOLIO_VIEW_STAGE,
	.arity = 1,
	.summary = "equal numbers per value of a field: @balance/class or @balance/class:SEED",
	.list = balance_list,
	.stage = balance_stage,
};
