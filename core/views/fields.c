/*
 * fields.c — the fields of a sample (a row of the index), as the @where
 * evaluator, @by, @sort and @balance ask for them. docs/queries.md lists
 * the fields; the names here are the canonical ones expr.c passes.
 */
#include <stddef.h>
#include <string.h>

#include "folio/views.h"
#include "views_int.h"

static const folio_iann *gt_of(const folio_index *ix, const folio_sample *s)
{
	return s->gt == FOLIO_NONE ? NULL : &ix->anns[s->gt];
}

static const folio_iann *pred_of(const folio_index *ix, const folio_sample *s)
{
	return s->pred == FOLIO_NONE ? NULL : &ix->anns[s->pred];
}

const views_feature_col views_feature_cols[] = {
	{ "brightness", offsetof(folio_ifeat, brightness_mean) },
	{ "brightness_p05", offsetof(folio_ifeat, brightness_p05) },
	{ "brightness_p50", offsetof(folio_ifeat, brightness_p50) },
	{ "brightness_p95", offsetof(folio_ifeat, brightness_p95) },
	{ "contrast", offsetof(folio_ifeat, contrast_rms) },
	{ "sharpness", offsetof(folio_ifeat, sharpness) },
	{ "blurriness", offsetof(folio_ifeat, blurriness) },
	{ "entropy", offsetof(folio_ifeat, entropy) },
	{ "colorfulness", offsetof(folio_ifeat, colorfulness) },
};
const size_t views_nfeatures = sizeof views_feature_cols / sizeof views_feature_cols[0];

float views_feature_get(const folio_ifeat *f, size_t k)
{
	float v;
	memcpy(&v, (const char *)f + views_feature_cols[k].off, sizeof v);
	return v;
}

int views_scalar(const folio_index *ix, const folio_sample *s, const char *field,
		 double *num, const char **str)
{
	const folio_ifeat *f = &s->f;
	const folio_iann *gt = gt_of(ix, s);

	switch (field[0]) {
	case 'p':
		if (!strcmp(field, "path")) {
			*str = folio_index_path(ix, s);
			return 1;
		}
		break;
	case 's':
		if (!strcmp(field, "size")) {
			*num = (double)s->size;
			return 1;
		}
		if (!strcmp(field, "split")) {
			const folio_iann *a = gt ? gt : pred_of(ix, s);
			if (!a || a->split == FOLIO_NONE)
				return 0;
			*str = folio_index_str(ix, a->split);
			return 1;
		}
		break;
	case 'l':
		if (!strcmp(field, "labeled")) {
			*num = gt != NULL;
			return 1;
		}
		break;
	case 'f':
		if (!strcmp(field, "format")) {
			if (!f->known || !f->format[0])
				return 0;
			*str = f->format;
			return 1;
		}
		break;
	case 'w':
	case 'h':
		if (!strcmp(field, "width") || !strcmp(field, "height")) {
			int w = field[0] == 'w';
			if (f->known && f->width > 0) {
				*num = w ? f->width : f->height;
				return 1;
			}
			if (gt && gt->width > 0) {
				*num = w ? gt->width : gt->height;
				return 1;
			}
			return 0;
		}
		break;
	}
	if (!f->known)
		return 0;
	if (!strcmp(field, "decodable")) { *num = f->decodable; return 1; }
	if (!strcmp(field, "bands")) { if (!f->bands) return 0; *num = f->bands; return 1; }
	if (!strcmp(field, "orientation")) { if (!f->decodable) return 0; *num = f->orientation; return 1; }
	if (!f->has_pixels)
		return 0;
	for (size_t i = 0; i < views_nfeatures; i++)
		if (!strcmp(field, views_feature_cols[i].name)) {
			*num = views_feature_get(f, i);
			return 1;
		}
	if (!strcmp(field, "grayscale")) {
		*num = f->grayscale;
		return 1;
	}
	return 0;
}

size_t views_values(const folio_index *ix, const folio_sample *s, const char *field,
		    int (*cb)(const char *v, void *p), void *p)
{
	int pred = !strncmp(field, "pred.", 5);
	const char *name = pred ? field + 5 : field;
	const folio_iann *a = pred ? pred_of(ix, s) : gt_of(ix, s);
	size_t calls = 0;

	if (!a)
		return 0;
	if (!strcmp(name, "tag")) {
		for (uint32_t k = 0; k < a->tag_count; k++) {
			calls++;
			if (cb(folio_index_str(ix, ix->tags[a->tag_first + k]), p))
				break;
		}
		return calls;
	}
	int labeler = !strcmp(name, "labeler");
	if (!labeler && strcmp(name, "class"))
		return 0;
	for (uint32_t k = 0; k < a->obj_count; k++) {
		const folio_iobject *o = &ix->objs[a->obj_first + k];
		uint32_t id = labeler ? o->labeler : o->cls;
		if (id == FOLIO_NONE)
			continue;
		calls++;
		if (cb(folio_index_str(ix, id), p))
			break;
	}
	return calls;
}

static int ref_scalar(const void *sample, const char *field, double *num, const char **str)
{
	const folio_sample_ref *r = sample;
	return views_scalar(r->ix, r->s, field, num, str);
}

static size_t ref_values(const void *sample, const char *field,
			 int (*cb)(const char *v, void *p), void *p)
{
	const folio_sample_ref *r = sample;
	return views_values(r->ix, r->s, field, cb, p);
}

static size_t ref_numbers(const void *sample, const char *field,
			  int (*cb)(double v, void *p), void *p)
{
	const folio_sample_ref *r = sample;
	const folio_iann *a = pred_of(r->ix, r->s);
	size_t calls = 0;

	if (!a || strcmp(field, "pred.score"))
		return 0;
	for (uint32_t k = 0; k < a->obj_count; k++) {
		const folio_iobject *o = &r->ix->objs[a->obj_first + k];
		if (!o->has_score)
			continue;
		calls++;
		if (cb(o->score, p))
			break;
	}
	return calls;
}

size_t views_count(const folio_index *ix, const folio_sample *s, const char *cls, int pred)
{
	const folio_iann *a = pred ? pred_of(ix, s) : gt_of(ix, s);
	size_t n = 0;

	if (!a)
		return 0;
	if (!cls)
		return a->obj_count;
	for (uint32_t k = 0; k < a->obj_count; k++)
		n += !strcmp(folio_index_str(ix, ix->objs[a->obj_first + k].cls), cls);
	return n;
}

static size_t ref_count(const void *sample, const char *cls, int pred)
{
	const folio_sample_ref *r = sample;
	return views_count(r->ix, r->s, cls, pred);
}

const folio_sample_ops folio_index_sample_ops = {
	ref_scalar, ref_values, ref_numbers, ref_count,
};
