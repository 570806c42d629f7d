/*
 * coco.c — COCO instances files (ground truth) and COCO detection results
 * (predictions).
 *
 * Instances: {"images": [{id, file_name, width, height}], "annotations":
 * [{image_id, category_id, bbox: [x, y, w, h], iscrowd, score?,
 * attributes?}], "categories": [{id, name}]}. file_name is tried against
 * the source's "images" folder, the JSON file's folder and its parent, then
 * matched by suffix against the version's files (the usual
 * annotations/instances_val2017.json + val2017/ layout). Every image of the
 * file gets an annotation, also those without objects (negatives).
 *
 * Results: [{image_id, category_id, bbox, score}], with ids taken from an
 * instances file of the same version (the source's "gt", else one in the
 * same folder, else the first read). Result annotations are predictions.
 *
 * Ids are looked up in sorted arrays, so a file with a million annotations
 * costs n log n, not n x images.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/error.h"
#include "labels_int.h"

/* Past this size, only the first few errors of a file get a line number
 * (finding one means scanning the text). */
#define LINE_SCAN_MAX ((size_t)64 << 20)

int labels_coco_is(const cJSON *root)
{
	return cJSON_IsObject(root) &&
	       cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "images")) &&
	       cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "annotations")) &&
	       cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "categories"));
}

int labels_coco_results_is(const cJSON *root)
{
	const cJSON *first = cJSON_IsArray(root) ? root->child : NULL;

	return cJSON_IsObject(first) &&
	       cJSON_GetObjectItemCaseSensitive(first, "image_id") &&
	       cJSON_GetObjectItemCaseSensitive(first, "category_id") &&
	       (cJSON_GetObjectItemCaseSensitive(first, "bbox") ||
		cJSON_GetObjectItemCaseSensitive(first, "score"));
}

void labels_coco_ids_clear(labels_coco_ids *c)
{
	free(c->file);
	for (size_t i = 0; i < c->nimg; i++)
		free(c->img_path[i]);
	free(c->img_id);
	free(c->img_path);
	for (size_t i = 0; i < c->ncat; i++)
		free(c->cat_name[i]);
	free(c->cat_id);
	free(c->cat_name);
	memset(c, 0, sizeof *c);
}

typedef struct ctx {
	labels_builder *b;
	const char *file, *text;
	size_t len;
	int nerr;
} ctx;

static int bad(ctx *c, const labels_jstep *path, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Records an error at the value path leads to; 1 (skip) or FOLIO_ENOMEM. */
static int bad(ctx *c, const labels_jstep *path, size_t n, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;
	int ln = 0, rc;

	if (c->len <= LINE_SCAN_MAX || c->nerr < 3)
		ln = labels_json_line(c->text, c->len, path, n);
	c->nerr++;
	va_start(ap, fmt);
	rc = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	rc = labels_error(c->b, c->file, ln, "%s", msg);
	free(msg);
	return rc < 0 ? FOLIO_ENOMEM : 1;
}

/* An integer id; -1 if v is not one. */
static int get_id(const cJSON *v, int64_t *out)
{
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble != floor(v->valuedouble) ||
	    fabs(v->valuedouble) > 9.0e15)
		return -1;
	*out = (int64_t)v->valuedouble;
	return 0;
}

typedef struct idpair {
	int64_t id;
	size_t idx;
} idpair;

static int cmp_idpair(const void *a, const void *b)
{
	const idpair *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static long find_id(const idpair *v, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (v[m].id < id)
			lo = m + 1;
		else
			hi = m;
	}
	return lo < n && v[lo].id == id ? (long)v[lo].idx : -1;
}

static long find_id64(const int64_t *v, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (v[m] < id)
			lo = m + 1;
		else
			hi = m;
	}
	return lo < n && v[lo] == id ? (long)lo : -1;
}

/* Category id -> name; names registered as classes in file order. */
static int read_categories(ctx *c, const cJSON *cats, idpair **out, char ***names, size_t *n)
{
	size_t total = (size_t)cJSON_GetArraySize(cats), k = 0, i = 0;
	labels_jstep path[3] = { { "categories", 0 }, { NULL, 0 }, { NULL, 0 } };
	const cJSON *o;
	int rc = 0;

	*out = NULL;
	*names = NULL;
	*n = 0;
	if (total && (!(*out = calloc(total, sizeof **out)) || !(*names = calloc(total, sizeof **names))))
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	cJSON_ArrayForEach(o, cats) {
		int64_t id;
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
		path[1].index = i++;
		path[2].key = "id";
		if (get_id(cJSON_GetObjectItemCaseSensitive(o, "id"), &id) < 0) {
			rc = bad(c, path, 2, "categories[%zu]: \"id\" must be an integer", i - 1);
		} else if (!cJSON_IsString(name) || !name->valuestring[0] ||
			   !folio_utf8_valid(name->valuestring, strlen(name->valuestring))) {
			path[2].key = "name";
			rc = bad(c, path, name ? 3 : 2,
				 "categories[%zu]: \"name\" must be a non-empty UTF-8 string", i - 1);
		} else if (find_id(*out, k, id) >= 0) {
			rc = bad(c, path, 3, "categories[%zu]: \"id\" repeats an earlier category", i - 1);
		} else {
			const cJSON *sup = cJSON_GetObjectItemCaseSensitive(o, "supercategory");
			if (!((*names)[k] = strdup(name->valuestring)) ||
			    labels_class_meta(c->b, name->valuestring, 1, id,
					      cJSON_IsString(sup) ? sup->valuestring : NULL) < 0)
				return folio_error_set(FOLIO_ENOMEM, "out of memory");
			(*out)[k].id = id;
			(*out)[k].idx = k;
			k++;
			*n = k;
			/* keep sorted for find_id as we go (categories are few) */
			for (size_t j = k - 1; j > 0 && (*out)[j - 1].id > (*out)[j].id; j--) {
				idpair t = (*out)[j];
				(*out)[j] = (*out)[j - 1];
				(*out)[j - 1] = t;
			}
		}
		if (rc < 0)
			return rc;
		rc = 0;
	}
	return 0;
}

static const char *cat_name(const idpair *cats, char **names, size_t n, int64_t id)
{
	long k = find_id(cats, n, id);

	return k >= 0 ? names[k] : NULL;
}

/* Fills one object from annotations[i] (or, in a results file, from
 * [i]); 1 if skipped with an error recorded. */
static int read_object(ctx *c, const cJSON *o, size_t i, int results, const idpair *cats,
		       char **names, size_t ncat, const char *labeler, folio_object *out)
{
	labels_jstep path[3] = { { "annotations", 0 }, { NULL, i }, { NULL, 0 } };
	labels_jstep *p = results ? path + 1 : path;
	size_t d = results ? 1 : 2; /* steps to the object */
	const char *what = results ? "" : "annotations";
	const char *why;
	int64_t cid;
	const cJSON *v;
	cJSON *attrs = NULL;
	int rc = 0;

	memset(out, 0, sizeof *out);
	p[d].key = "category_id";
	if (get_id(cJSON_GetObjectItemCaseSensitive(o, "category_id"), &cid) < 0)
		return bad(c, p, d + 1, "%s[%zu]: \"category_id\" must be an integer", what, i);
	const char *name = cat_name(cats, names, ncat, cid);
	if (!name)
		return bad(c, p, d + 1, "%s[%zu]: \"category_id\" %lld is not in \"categories\"",
			   what, i, (long long)cid);
	p[d].key = "bbox";
	v = cJSON_GetObjectItemCaseSensitive(o, "bbox");
	if (!v)
		return bad(c, p, d, "%s[%zu]: \"bbox\" is missing", what, i);
	if (labels_json_box(&out->box, v, &why) < 0)
		return bad(c, p, d + 1, "%s[%zu]: %s", what, i, why);
	out->has_box = 1;
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "score")) && !cJSON_IsNull(v)) {
		if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1)) {
			p[d].key = "score";
			return bad(c, p, d + 1, "%s[%zu]: \"score\" must be a number from 0 to 1", what, i);
		}
		out->score = v->valuedouble;
		out->has_score = 1;
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "iscrowd");
	const cJSON *extra = cJSON_GetObjectItemCaseSensitive(o, "attributes");
	int crowd = cJSON_IsNumber(v) && v->valuedouble != 0;
	if (crowd || cJSON_IsObject(extra)) {
		attrs = cJSON_IsObject(extra) ? cJSON_Duplicate(extra, 1) : cJSON_CreateObject();
		if (!attrs || (crowd && !cJSON_AddNumberToObject(attrs, "iscrowd", v->valuedouble)) ||
		    !(out->attributes = cJSON_PrintUnformatted(attrs)))
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		cJSON_Delete(attrs);
	}
	if (rc == 0 && !(out->cls = strdup(name)))
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
	if (rc == 0 && labeler && !(out->labeler = strdup(labeler)))
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
	if (rc < 0)
		labels_object_clear(out);
	return rc;
}

static int set_split(folio_annotation *a, const labels_source *src)
{
	const char *s = src->split ? src->split : labels_split_from_path(a->image,
									 strlen(a->image));

	if (s && !(a->split = strdup(s)))
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	return 0;
}

int labels_coco_file(labels_builder *b, const labels_source *src, size_t entry, const char *text,
		 size_t len, cJSON *root)
{
	ctx c = { b, b->tree->v[entry].path, text, len, 0 };
	const cJSON *images = cJSON_GetObjectItemCaseSensitive(root, "images");
	const cJSON *anns = cJSON_GetObjectItemCaseSensitive(root, "annotations");
	const cJSON *cats = cJSON_GetObjectItemCaseSensitive(root, "categories");
	idpair *catids = NULL, *imgids = NULL;
	char **catnames = NULL, *dir = NULL, *parent = NULL, *rel = NULL;
	size_t ncat = 0, nimg = 0;
	folio_annotation *pend = NULL;
	labels_coco_ids ids;
	int rc = 0;

	memset(&ids, 0, sizeof ids);
	if (!cJSON_IsArray(images) || !cJSON_IsArray(anns)) {
		rc = labels_error(b, c.file, 1,
				  "not a COCO instances file (" LABELS_COCO_NEEDS ")");
		goto cleanup;
	}
	if (cats && !cJSON_IsArray(cats)) {
		labels_jstep p[1] = { { "categories", 0 } };
		rc = bad(&c, p, 1, "\"categories\" must be an array");
		if (rc < 0)
			goto cleanup;
		cats = NULL;
	}
	if (cats && (rc = read_categories(&c, cats, &catids, &catnames, &ncat)) < 0)
		goto cleanup;

	size_t total = (size_t)cJSON_GetArraySize(images);
	if (total && (!(pend = calloc(total, sizeof *pend)) || !(imgids = calloc(total, sizeof *imgids)))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	if (!(dir = labels_dirname(c.file)) || !(parent = labels_dirname(dir))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	/* "" is the root: don't try it twice */
	const char *bases[3] = { src->images, dir, *dir ? parent : NULL };
	size_t i = 0;
	const cJSON *o;
	labels_jstep path[3] = { { "images", 0 }, { NULL, 0 }, { NULL, 0 } };
	cJSON_ArrayForEach(o, images) {
		int64_t id;
		const cJSON *fn = cJSON_GetObjectItemCaseSensitive(o, "file_name");
		const char *why;
		path[1].index = i++;
		path[2].key = "id";
		rc = 0;
		if (get_id(cJSON_GetObjectItemCaseSensitive(o, "id"), &id) < 0) {
			rc = bad(&c, path, 2, "images[%zu]: \"id\" must be an integer", i - 1);
		} else if (!cJSON_IsString(fn)) {
			path[2].key = "file_name";
			rc = bad(&c, path, fn ? 3 : 2, "images[%zu]: \"file_name\" must be a string", i - 1);
		} else if (labels_clean_path(&rel, fn->valuestring, &why) < 0) {
			path[2].key = "file_name";
			if (!why) {
				rc = FOLIO_ENOMEM;
				goto cleanup;
			}
			rc = bad(&c, path, 3, "images[%zu]: image path '%s' refused: %s", i - 1,
				 fn->valuestring, why);
		} else {
			folio_annotation *a = &pend[nimg];
			rc = labels_resolve_image(b, &a->image, rel, bases, 3);
			free(rel);
			rel = NULL;
			if (rc < 0)
				goto cleanup;
			if (!(a->source = strdup(c.file)) || set_split(a, src) < 0) {
				rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
				goto cleanup;
			}
			a->format = FOLIO_LABELS_COCO;
			a->prediction = src->prediction;
			const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "width");
			const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "height");
			if (cJSON_IsNumber(w) && cJSON_IsNumber(h) && w->valuedouble > 0 &&
			    h->valuedouble > 0 && w->valuedouble < 1e9 && h->valuedouble < 1e9) {
				a->width = (int)w->valuedouble;
				a->height = (int)h->valuedouble;
			}
			imgids[nimg].id = id;
			imgids[nimg].idx = nimg;
			nimg++;
		}
		if (rc < 0)
			goto cleanup;
	}
	if (nimg)
		qsort(imgids, nimg, sizeof *imgids, cmp_idpair);
	for (size_t k = 1; k < nimg; k++)
		if (imgids[k].id == imgids[k - 1].id) {
			labels_jstep p[1] = { { "images", 0 } };
			if ((rc = bad(&c, p, 1, "images: two images share the id %lld; annotations go to the first",
				      (long long)imgids[k].id)) < 0)
				goto cleanup;
			break;
		}

	i = 0;
	path[0].key = "annotations";
	cJSON_ArrayForEach(o, anns) {
		int64_t iid;
		folio_object obj;
		path[1].index = i++;
		path[2].key = "image_id";
		if (get_id(cJSON_GetObjectItemCaseSensitive(o, "image_id"), &iid) < 0) {
			rc = bad(&c, path, 2, "annotations[%zu]: \"image_id\" must be an integer", i - 1);
		} else {
			long k = find_id(imgids, nimg, iid);
			if (k < 0)
				rc = bad(&c, path, 3, "annotations[%zu]: \"image_id\" %lld is not in \"images\"",
					 i - 1, (long long)iid);
			else if ((rc = read_object(&c, o, i - 1, 0, catids, catnames, ncat, src->labeler,
						   &obj)) == 0)
				rc = labels_add_object(&pend[k], &obj);
		}
		if (rc < 0)
			goto cleanup;
	}

	rc = 0;
	/* Keep the ids for results files, then hand the annotations over. */
	if (!(ids.file = strdup(c.file)) ||
	    (nimg && (!(ids.img_id = malloc(nimg * sizeof *ids.img_id)) ||
		      !(ids.img_path = calloc(nimg, sizeof *ids.img_path)))) ||
	    (ncat && (!(ids.cat_id = malloc(ncat * sizeof *ids.cat_id)) ||
		      !(ids.cat_name = calloc(ncat, sizeof *ids.cat_name))))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t k = 0; k < nimg; k++, ids.nimg++) {
		ids.img_id[k] = imgids[k].id;
		if (!(ids.img_path[k] = strdup(pend[imgids[k].idx].image))) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto cleanup;
		}
	}
	for (size_t k = 0; k < ncat; k++, ids.ncat++) {
		ids.cat_id[k] = catids[k].id;
		if (!(ids.cat_name[k] = strdup(catnames[catids[k].idx]))) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto cleanup;
		}
	}
	labels_coco_ids *v = realloc(b->cocos, (b->ncocos + 1) * sizeof *v);
	if (!v) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	b->cocos = v;
	v[b->ncocos++] = ids;
	memset(&ids, 0, sizeof ids);
	for (size_t k = 0; k < nimg && rc == 0; k++)
		rc = labels_push(b, &pend[k]);
cleanup:
	labels_coco_ids_clear(&ids);
	for (size_t k = 0; k < nimg; k++)
		labels_annotation_clear(&pend[k]);
	free(pend);
	free(imgids);
	for (size_t k = 0; k < ncat; k++)
		free(catnames[k]);
	free(catnames);
	free(catids);
	free(rel);
	free(dir);
	free(parent);
	return rc < 0 ? rc : 0;
}

/* The instances file a results file takes its ids from. */
static const labels_coco_ids *pick_gt(labels_builder *b, const labels_source *src, const char *file)
{
	if (src->gt) {
		for (size_t i = 0; i < b->ncocos; i++)
			if (strcmp(b->cocos[i].file, src->gt) == 0)
				return &b->cocos[i];
		return NULL;
	}
	const char *slash = strrchr(file, '/');
	size_t dl = slash ? (size_t)(slash - file) : 0;
	for (size_t i = 0; i < b->ncocos; i++) {
		const char *f = b->cocos[i].file, *s = strrchr(f, '/');
		if ((s ? (size_t)(s - f) : 0) == dl && strncmp(f, file, dl) == 0)
			return &b->cocos[i];
	}
	return b->ncocos ? &b->cocos[0] : NULL;
}

int labels_coco_results_file(labels_builder *b, const labels_source *src, size_t entry,
			     const char *text,
			 size_t len, cJSON *root)
{
	ctx c = { b, b->tree->v[entry].path, text, len, 0 };
	const labels_coco_ids *gt;
	long *slot = NULL;
	folio_annotation *pend = NULL;
	idpair *cats = NULL;
	size_t npend = 0;
	int rc = 0;

	if (!cJSON_IsArray(root)) {
		rc = labels_error(b, c.file, 1,
				  "not COCO results (an array of {image_id, category_id, bbox, score})");
		goto cleanup;
	}
	if (!(gt = pick_gt(b, src, c.file))) {
		rc = src->gt ? labels_error(b, c.file, 0, "COCO instances file '%s' was not read",
					    src->gt)
			     : labels_error(b, c.file, 0,
					    "no COCO instances file in this version to take image and category ids from");
		goto cleanup;
	}
	if (gt->nimg && !(slot = malloc(gt->nimg * sizeof *slot))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t k = 0; k < gt->nimg; k++)
		slot[k] = -1;
	if (gt->ncat && !(cats = malloc(gt->ncat * sizeof *cats))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t k = 0; k < gt->ncat; k++)
		cats[k] = (idpair){ gt->cat_id[k], k };
	size_t i = 0;
	const cJSON *o;
	cJSON_ArrayForEach(o, root) {
		labels_jstep path[2] = { { NULL, i }, { "image_id", 0 } };
		int64_t iid;
		folio_object obj;
		long k;
		i++;
		if (!cJSON_IsObject(o))
			rc = bad(&c, path, 1, "[%zu]: a result must be an object", i - 1);
		else if (get_id(cJSON_GetObjectItemCaseSensitive(o, "image_id"), &iid) < 0)
			rc = bad(&c, path, 2, "[%zu]: \"image_id\" must be an integer", i - 1);
		else if ((k = find_id64(gt->img_id, gt->nimg, iid)) < 0)
			rc = bad(&c, path, 2, "[%zu]: \"image_id\" %lld is not an image of %s", i - 1,
				 (long long)iid, gt->file);
		else if ((rc = read_object(&c, o, i - 1, 1, cats, gt->cat_name, gt->ncat, src->labeler,
					   &obj)) == 0) {
			if (slot[k] < 0) {
				folio_annotation *v = realloc(pend, (npend + 1) * sizeof *v);
				if (!v) {
					labels_object_clear(&obj);
					rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
					goto cleanup;
				}
				pend = v;
				folio_annotation *a = &pend[npend];
				memset(a, 0, sizeof *a);
				slot[k] = (long)npend++;
				a->format = FOLIO_LABELS_COCO_RESULTS;
				a->prediction = 1;
				if (!(a->image = strdup(gt->img_path[k])) || !(a->source = strdup(c.file)) ||
				    set_split(a, src) < 0) {
					labels_object_clear(&obj);
					rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
					goto cleanup;
				}
			}
			rc = labels_add_object(&pend[slot[k]], &obj);
		}
		if (rc < 0)
			goto cleanup;
	}
	for (size_t k = 0; k < npend && rc >= 0; k++)
		rc = labels_push(b, &pend[k]);
cleanup:
	for (size_t k = 0; k < npend; k++)
		labels_annotation_clear(&pend[k]);
	free(pend);
	free(slot);
	free(cats);
	return rc < 0 ? rc : 0;
}
