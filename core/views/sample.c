/*
 * sample.c — @sample/N[:SEED]: a reproducible random subset of N members.
 *
 * Randomness is a hash of (seed, path), not a generator's stream, so a
 * stage gives the same answer on any machine, for any input order, and a
 * sample of a superset keeps the members it shares with a sample of the
 * subset (the smallest draws stay the smallest). @balance draws the same
 * way.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "folio/error.h"
#include "folio/util.h"
#include "folio/views.h"
#include "views_int.h"

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

uint64_t views_draw(const folio_index *ix, uint32_t row, uint64_t seed)
{
	return mix(folio_fnv1a_str(folio_index_path(ix, &ix->samples[row])) ^ mix(seed));
}

int views_choose(folio_set *out, const folio_index *ix, const folio_set *in,
		 const uint32_t *pos, size_t npos, size_t k, uint64_t seed)
{
	keyed *kv = malloc((npos ? npos : 1) * sizeof *kv);
	if (!kv)
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	for (size_t i = 0; i < npos; i++)
		kv[i] = (keyed){ views_draw(ix, in->v[pos[i]], seed), pos[i] };
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

int views_parse_count(size_t *out, const char *s, size_t len)
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

int views_parse_n_seed(size_t *n, uint64_t *seed, const char *arg, int need_n)
{
	const char *colon = strchr(arg, ':');
	size_t nlen = colon ? (size_t)(colon - arg) : strlen(arg);
	size_t sd = 0;

	*seed = 0;
	if (need_n && views_parse_count(n, arg, nlen) < 0)
		return -1;
	if (colon && views_parse_count(&sd, colon + 1, strlen(colon + 1)) < 0)
		return -1;
	*seed = sd;
	return 0;
}

int folio_set_sample(folio_set *out, const folio_index *ix, const folio_set *in,
		     size_t n, uint64_t seed)
{
	uint32_t *pos = NULL;
	int rc;

	if ((rc = views_set_alloc(out, n < in->n ? n : in->n, in->ordered)) < 0)
		return rc;
	if (!(pos = malloc((in->n ? in->n : 1) * sizeof *pos))) {
		folio_set_clear(out);
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < in->n; i++)
		pos[i] = (uint32_t)i;
	rc = views_choose(out, ix, in, pos, in->n, n, seed);
	free(pos);
	if (rc < 0)
		folio_set_clear(out);
	return rc;
}

static int sample_stage(folio_set *out, char **canon, folio_view_ctx *ctx, const folio_set *in,
			const char *const *args, size_t nargs, int depth)
{
	const folio_index *ix;
	size_t n = 0;
	uint64_t seed = 0;
	int rc;

	(void)nargs;
	(void)depth;
	if (views_parse_n_seed(&n, &seed, args[0], 1) < 0)
		return folio_error_set(FOLIO_EINVAL, "@sample/%s: expected a count and an optional "
				       "seed (@sample/100 or @sample/100:7)", args[0]);
	*canon = seed ? views_fmt("@sample/%zu:%llu", n, (unsigned long long)seed)
		      : views_fmt("@sample/%zu", n);
	if ((rc = views_table(&ix, ctx, "@sample")) < 0)
		return rc;
	return folio_set_sample(out, ix, in, n, seed);
}

const folio_view views_sample = {
	.name = "@sample",
	.kind = FOLIO_VIEW_STAGE,
	.arity = 1,
	.summary = "a reproducible random subset: @sample/100 or @sample/100:SEED",
	.stage = sample_stage,
};
