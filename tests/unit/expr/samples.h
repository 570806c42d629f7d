/*
 * samples.h — three samples and the folio_sample_ops that read them, shared
 * by the expr unit tests (test_expr.c) and the expr fuzz target
 * (tests/fuzz/expr.c), which checks that an expression and its canonical
 * text select the same of them.
 */
#ifndef FOLIO_TEST_EXPR_SAMPLES_H
#define FOLIO_TEST_EXPR_SAMPLES_H

#include <stddef.h>
#include <string.h>

#include "folio/expr.h"

/* A tiny sample: enough fields to exercise every kind of field. */
typedef struct obj {
	const char *cls;
	const char *labeler;
	double score; /* predictions only */
} obj;

typedef struct sample {
	const char *path, *format, *split; /* NULL: absent */
	double brightness, blurriness, width, size;
	int has_features;
	int grayscale;
	const char *tags[4];
	obj gt[6];
	size_t ngt;
	obj pred[4];
	size_t npred;
} sample;

static int s_scalar(const void *sp, const char *f, double *num, const char **str)
{
	const sample *s = sp;
	*str = NULL;
	if (!strcmp(f, "path"))
		return (*str = s->path) != NULL;
	if (!strcmp(f, "format"))
		return (*str = s->format) != NULL;
	if (!strcmp(f, "split"))
		return (*str = s->split) != NULL;
	if (!strcmp(f, "labeled"))
		return *num = s->ngt > 0, 1;
	if (!strcmp(f, "size"))
		return *num = s->size, 1;
	if (!s->has_features)
		return 0;
	if (!strcmp(f, "brightness"))
		return *num = s->brightness, 1;
	if (!strcmp(f, "blurriness"))
		return *num = s->blurriness, 1;
	if (!strcmp(f, "width"))
		return *num = s->width, 1;
	if (!strcmp(f, "grayscale"))
		return *num = s->grayscale, 1;
	return 0;
}

static size_t s_values(const void *sp, const char *f, int (*cb)(const char *, void *), void *p)
{
	const sample *s = sp;
	size_t n = 0;
	if (!strcmp(f, "tag")) {
		for (size_t i = 0; i < 4 && s->tags[i]; i++) {
			n++;
			if (cb(s->tags[i], p))
				break;
		}
		return n;
	}
	int pred = !strcmp(f, "pred.class");
	const obj *v = pred ? s->pred : s->gt;
	size_t m = pred ? s->npred : s->ngt;
	for (size_t i = 0; i < m; i++) {
		const char *x = !strcmp(f, "labeler") ? v[i].labeler : v[i].cls;
		if (!x)
			continue;
		n++;
		if (cb(x, p))
			break;
	}
	return n;
}

static size_t s_numbers(const void *sp, const char *f, int (*cb)(double, void *), void *p)
{
	const sample *s = sp;
	size_t n = 0;
	if (strcmp(f, "pred.score"))
		return 0;
	for (size_t i = 0; i < s->npred; i++) {
		n++;
		if (cb(s->pred[i].score, p))
			break;
	}
	return n;
}

static size_t s_count(const void *sp, const char *cls, int pred)
{
	const sample *s = sp;
	const obj *v = pred ? s->pred : s->gt;
	size_t m = pred ? s->npred : s->ngt, n = 0;
	for (size_t i = 0; i < m; i++)
		if (!cls || !strcmp(cls, v[i].cls))
			n++;
	return n;
}

static const folio_sample_ops ops = { s_scalar, s_values, s_numbers, s_count };

/* A: dark night street, two cars and a person, train split. */
static const sample A = {
	.path = "images/2011_003/a.jpg", .format = "jpeg", .split = "train",
	.brightness = 0.1, .blurriness = 0.7, .width = 1024, .size = 50000, .has_features = 1,
	.tags = { "night", "street" },
	.gt = { { "car", "alice", 0 }, { "car", "bob", 0 }, { "person", "alice", 0 } }, .ngt = 3,
	.pred = { { "car", NULL, 0.9 }, { "truck", NULL, 0.3 } }, .npred = 2,
};
/* B: bright grayscale png with one truck, val split. */
static const sample B = {
	.path = "images/2012/b.png", .format = "png", .split = "val",
	.brightness = 0.8, .blurriness = 0.2, .width = 640, .size = 9000, .has_features = 1,
	.grayscale = 1, .tags = { "day" },
	.gt = { { "truck", "carol", 0 } }, .ngt = 1,
};
/* C: unlabeled, no features computed, no split. */
static const sample C = { .path = "c.webp", .format = "webp", .size = 10 };

#endif
