/*
 * summary.c — the numbers `folio labels` and `folio import` print about a
 * label set: images and objects (ground truth and predictions apart),
 * objects per class, images and distinct label files per format, images
 * per split, and annotations whose image is not in the version.
 *
 * One pass over the annotations. Class names are matched through a sorted
 * index of set->classes (n log n, never n x classes); distinct label files
 * are counted over a sorted copy of the sources, since single-file formats
 * (COCO) repeat one source for every image.
 */
#include <stdlib.h>
#include <string.h>

#include "folio/error.h"
#include "labels_int.h"

static int cmp_cls_idx(const void *a, const void *b, void *classes)
{
	char *const *v = classes;

	return strcmp(v[*(const size_t *)a], v[*(const size_t *)b]);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Index in set->classes of name, through order (classes sorted), or -1. */
static long class_index(const folio_labelset *set, const size_t *order, const char *name)
{
	size_t lo = 0, hi = set->nclasses;

	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (strcmp(set->classes[order[m]], name) < 0)
			lo = m + 1;
		else
			hi = m;
	}
	if (lo < set->nclasses && strcmp(set->classes[order[lo]], name) == 0)
		return (long)order[lo];
	return -1;
}

static int count_split(folio_label_summary *s, size_t *cap, const char *name)
{
	size_t k = 0;

	while (k < s->nsplits && strcmp(s->splits[k].name, name) != 0)
		k++;
	if (k == s->nsplits) {
		if (s->nsplits == *cap) {
			size_t ncap = *cap ? *cap * 2 : 8;
			folio_label_split_count *v = realloc(s->splits, ncap * sizeof *v);
			if (!v)
				return folio_error_set(FOLIO_ENOMEM, "out of memory");
			s->splits = v;
			*cap = ncap;
		}
		s->splits[s->nsplits].name = name;
		s->splits[s->nsplits++].images = 0;
	}
	s->splits[k].images++;
	return 0;
}

/* Distinct sources among the annotations of format f. */
static int count_files(folio_label_summary *s, const folio_labelset *set, int f)
{
	const char **srcs;
	size_t n = 0;

	if (!(srcs = malloc(s->formats[f].images * sizeof *srcs)))
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	for (size_t i = 0; i < set->n; i++)
		if ((int)set->v[i].format == f)
			srcs[n++] = set->v[i].source ? set->v[i].source : "";
	qsort(srcs, n, sizeof *srcs, cmp_str);
	for (size_t i = 0; i < n; i++)
		s->formats[f].files += i == 0 || strcmp(srcs[i], srcs[i - 1]) != 0;
	free(srcs);
	return 0;
}

int folio_labels_summary(folio_label_summary *out, const folio_labelset *set,
			 const folio_tree *tree)
{
	size_t *order = NULL, split_cap = 0;
	int rc = 0;

	memset(out, 0, sizeof *out);
	if (set->nclasses && (!(out->class_objects = calloc(set->nclasses, sizeof(size_t))) ||
			      !(out->class_predicted = calloc(set->nclasses, sizeof(size_t))) ||
			      !(order = malloc(set->nclasses * sizeof *order)))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < set->nclasses; i++)
		order[i] = i;
	if (set->nclasses)
		qsort_r(order, set->nclasses, sizeof *order, cmp_cls_idx, set->classes);
	for (size_t i = 0; i < set->n; i++) {
		const folio_annotation *a = &set->v[i];
		int f = (int)a->format;
		if (a->prediction) {
			out->prediction_images++;
			out->prediction_objects += a->nobjects;
		} else {
			out->images++;
			out->objects += a->nobjects;
		}
		if (!folio_tree_find(tree, a->image))
			out->missing++;
		if (f > 0 && f < FOLIO_LABELS_FORMAT_END) {
			out->formats[f].images++;
			out->formats[f].objects += a->nobjects;
		}
		if (a->split && !a->prediction && (rc = count_split(out, &split_cap, a->split)) < 0)
			goto cleanup;
		for (size_t k = 0; k < a->nobjects; k++) {
			long c = class_index(set, order, a->objects[k].cls);
			if (c >= 0)
				(a->prediction ? out->class_predicted : out->class_objects)[c]++;
		}
	}
	for (int f = 1; f < FOLIO_LABELS_FORMAT_END; f++)
		if (out->formats[f].images && (rc = count_files(out, set, f)) < 0)
			goto cleanup;
cleanup:
	free(order);
	if (rc < 0)
		folio_label_summary_clear(out);
	return rc;
}

void folio_label_summary_clear(folio_label_summary *s)
{
	free(s->class_objects);
	free(s->class_predicted);
	free(s->splits);
	memset(s, 0, sizeof *s);
}
