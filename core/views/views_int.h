/*
 * views_int.h — shared by the files of core/views: the fields of a row.
 */
#ifndef FOLIO_VIEWS_INT_H
#define FOLIO_VIEWS_INT_H

#include "folio/index.h"

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

#endif
