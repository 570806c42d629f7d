/*
 * views_int.h — shared by the files of core/views: the fields of a row,
 * facet values (@by, @balance), seeded choice (@sample, @balance), the
 * registry's rows, and small helpers of the view files.
 */
#ifndef FOLIO_VIEWS_INT_H
#define FOLIO_VIEWS_INT_H

#include "folio/index.h"
#include "folio/views.h"

/* ---- fields.c: the fields of a row ---- */

/* Scalar field of a row (expr.h's folio_sample_ops contract). */
int views_scalar(const folio_index *ix, const folio_sample *s, const char *field,
		 double *num, const char **str);
/* Multi-valued text field: "class", "tag", "labeler", "pred.class", ... */
size_t views_values(const folio_index *ix, const folio_sample *s, const char *field,
		    int (*cb)(const char *v, void *p), void *p);
/* Objects of class cls (NULL: all); pred: predictions. */
size_t views_count(const folio_index *ix, const folio_sample *s, const char *cls, int pred);

/* The pixel features by their @where names, as offsets into folio_ifeat. */
typedef struct views_feature_col {
	const char *name;
	size_t off;
} views_feature_col;
extern const views_feature_col views_feature_cols[];
extern const size_t views_nfeatures;
float views_feature_get(const folio_ifeat *f, size_t k);

/* ---- by.c: facet values ---- */

/* The distinct folder-name values of field for one row (at most 64; the
 * FOLIO_FACET_NONE name when it has none). Numbers are printed into num. */
typedef struct views_vals {
	const char *v[64];
	size_t n;
	int more;
	char num[64];
} views_vals;
void views_facet_values(views_vals *out, const folio_index *ix, const folio_sample *s,
			const char *field);
int views_is_facet(const char *field);
/* "FIELD: not a facet field (one of: ...)" for stage @by or @balance. */
int views_facet_error(const char *stage, const char *field);

/* ---- sample.c: seeded choice ---- */

/* A draw in [0, 2^64) for row under seed: the same on any machine, for
 * any input order. */
uint64_t views_draw(const folio_index *ix, uint32_t row, uint64_t seed);
/* Appends to out the k members of in at positions pos[0..npos) with the
 * smallest draws, in in's order. */
int views_choose(folio_set *out, const folio_index *ix, const folio_set *in,
		 const uint32_t *pos, size_t npos, size_t k, uint64_t seed);
/* A count: decimal digits only, at most 10^9; -1 if not. */
int views_parse_count(size_t *out, const char *s, size_t len);
/* "N" or "N:SEED" (need_n 0: only the optional ":SEED"); -1 if not. */
int views_parse_n_seed(size_t *n, uint64_t *seed, const char *arg, int need_n);

/* ---- pipeline.c ---- */

/* An empty set with room for cap members. */
int views_set_alloc(folio_set *out, size_t cap, int ordered);
/* A malloc'd formatted string, or NULL. */
char *views_fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
/* The table of the context, with a message naming the view if there is
 * none. */
int views_table(const folio_index **out, folio_view_ctx *ctx, const char *view);
/* Calls fn with the git handle held (ctx->git_lock). */
void views_git_lock(folio_view_ctx *ctx);
void views_git_unlock(folio_view_ctx *ctx);

#endif
