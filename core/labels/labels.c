/*
 * labels.c — finding a version's label sources and building its label set.
 *
 * Labels are read in place: the label files of the version are the truth,
 * and this module turns them into one sorted table of annotations per
 * image. Work is proportional to the label files, never to the images:
 * images are only looked up (by path, by stem, by base name) in indexes
 * built once from the tree.
 *
 * Sources come from .folio/dataset.json ("labels": [...], docs/labels.md)
 * or, without it (or with "auto": true), from auto-detection over the
 * files not already claimed by a declared source:
 *
 *   .json  folio native (has "folio_labels"), COCO instances (images +
 *          annotations), COCO results (an array of {image_id, category_id,
 *          bbox, score}); other JSON (labelme, configs) is ignored
 *   .xml   Pascal VOC (root element <annotation>)
 *   .txt   YOLO, when an image has the same stem (beside it, or in the
 *          images/ folder mirroring labels/) and a class names file
 *          (data.yaml, *.names, classes.txt) is in its folder or above
 *   none   ImageFolder, when nothing else gave ground truth and images sit
 *          in at least two sibling class folders
 *
 * A bad file never stops the load: its problems are recorded with file and
 * line (labels_error) and the rest goes on. Only running out of memory or an
 * I/O failure returns an error.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "folio/error.h"
#include "folio/util.h"
#include "labels_int.h"

#define DATASET_JSON ".folio/dataset.json"
/* Label files larger than this are refused (cJSON needs ~10x in memory). */
#define MAX_LABEL_FILE ((size_t)1 << 30)

static const struct {
	folio_label_format f;
	const char *name;
} format_names[] = {
	{ FOLIO_LABELS_NATIVE, "native" },
	{ FOLIO_LABELS_COCO, "coco" },
	{ FOLIO_LABELS_YOLO, "yolo" },
	{ FOLIO_LABELS_VOC, "voc" },
	{ FOLIO_LABELS_IMAGEFOLDER, "imagefolder" },
	{ FOLIO_LABELS_COCO_RESULTS, "coco-results" },
};

const char *folio_label_format_name(folio_label_format f)
{
	for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++)
		if (format_names[i].f == f)
			return format_names[i].name;
	return "unknown";
}

int folio_label_format_parse(folio_label_format *out, const char *name)
{
	for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++)
		if (strcmp(format_names[i].name, name) == 0) {
			*out = format_names[i].f;
			return 0;
		}
	return folio_error_set(FOLIO_EINVAL,
		"unknown label format '%s' (native, coco, yolo, voc, imagefolder, coco-results)",
		name);
}

/* ---- errors ---- */

static int push_error(labels_builder *b, const char *file, int line, char *msg)
{
	folio_labelset *s = b->set;

	if (s->nerrors == b->err_cap) {
		size_t cap = b->err_cap ? b->err_cap * 2 : 16;
		folio_label_error *v = realloc(s->errors, cap * sizeof *v);
		if (!v) {
			free(msg);
			return folio_error_set(FOLIO_ENOMEM, "out of memory recording label errors");
		}
		s->errors = v;
		b->err_cap = cap;
	}
	folio_label_error *e = &s->errors[s->nerrors];
	if (!(e->file = strdup(file))) {
		free(msg);
		return folio_error_set(FOLIO_ENOMEM, "out of memory recording label errors");
	}
	e->line = line;
	e->message = msg;
	s->nerrors++;
	return 0;
}

/* Closes the throttling window of the current file. */
static int flush_dropped(labels_builder *b)
{
	int rc = 0;

	if (b->cur_file && b->cur_dropped) {
		char *msg = NULL;
		if (asprintf(&msg, "%d more errors in this file not shown", b->cur_dropped) < 0)
			return folio_error_set(FOLIO_ENOMEM, "out of memory");
		rc = push_error(b, b->cur_file, 0, msg);
	}
	free(b->cur_file);
	b->cur_file = NULL;
	b->cur_errors = 0;
	b->cur_dropped = 0;
	return rc;
}

int labels_error(labels_builder *b, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;
	int rc;

	if (!b->cur_file || strcmp(b->cur_file, file) != 0) {
		if ((rc = flush_dropped(b)) < 0)
			return rc;
		if (!(b->cur_file = strdup(file)))
			return folio_error_set(FOLIO_ENOMEM, "out of memory");
	}
	if (b->cur_errors >= LABELS_MAX_ERRORS_PER_FILE) {
		b->cur_dropped++;
		return 0;
	}
	b->cur_errors++;
	va_start(ap, fmt);
	rc = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	return push_error(b, file, line, msg);
}

/* ---- reading ---- */

int labels_read(labels_builder *b, size_t entry, char **text, size_t *len)
{
	const folio_entry *e = &b->tree->v[entry];
	void *buf = NULL;
	size_t n = 0;
	int rc;

	*text = NULL;
	*len = 0;
	b->used[entry] = 1;
	if (e->kind == FOLIO_ENTRY_LINK) {
		rc = labels_error(b, e->path, 0, "a symbolic link, not a label file");
		return rc < 0 ? rc : 1;
	}
	if (e->size > MAX_LABEL_FILE) {
		rc = labels_error(b, e->path, 0, "label file too large (%llu bytes; at most %zu)",
			      (unsigned long long)e->size, MAX_LABEL_FILE);
		return rc < 0 ? rc : 1;
	}
	if ((rc = b->read(&buf, &n, e, b->payload)) < 0) {
		if (rc == FOLIO_ENOMEM || rc == FOLIO_EIO || rc == FOLIO_ENOSPC)
			return rc;
		rc = labels_error(b, e->path, 0, "cannot read: %s", folio_error_last());
		return rc < 0 ? rc : 1;
	}
	char *t = realloc(buf, n + 1);
	if (!t) {
		free(buf);
		return folio_error_set(FOLIO_ENOMEM, "out of memory reading %s", e->path);
	}
	t[n] = '\0';
	*text = t;
	*len = n;
	return 0;
}

long labels_find(const labels_builder *b, const char *path)
{
	const folio_entry *e = folio_tree_find(b->tree, path);

	return e ? (long)(e - b->tree->v) : -1;
}

/* ---- building ---- */

/* The index of class name in the set (registered if new), or a negative
 * code. */
static long class_index(labels_builder *b, const char *name)
{
	folio_labelset *s = b->set;

	if (b->cls_nslots < 2 * (s->nclasses + 1)) {
		size_t n = b->cls_nslots ? b->cls_nslots * 2 : 64;
		size_t *slots = calloc(n, sizeof *slots);
		if (!slots)
			return folio_error_set(FOLIO_ENOMEM, "out of memory");
		for (size_t i = 0; i < s->nclasses; i++) {
			size_t k = folio_fnv1a_str(s->classes[i]) & (n - 1);
			while (slots[k])
				k = (k + 1) & (n - 1);
			slots[k] = i + 1;
		}
		free(b->cls_slots);
		b->cls_slots = slots;
		b->cls_nslots = n;
	}
	size_t k = folio_fnv1a_str(name) & (b->cls_nslots - 1);
	while (b->cls_slots[k]) {
		if (strcmp(s->classes[b->cls_slots[k] - 1], name) == 0)
			return (long)b->cls_slots[k] - 1;
		k = (k + 1) & (b->cls_nslots - 1);
	}
	if (s->nclasses == b->cls_cap) {
		size_t cap = b->cls_cap ? b->cls_cap * 2 : 16;
		char **v = realloc(s->classes, cap * sizeof *v);
		if (!v)
			return folio_error_set(FOLIO_ENOMEM, "out of memory");
		s->classes = v;
		folio_class_info *ci = realloc(s->class_info, cap * sizeof *ci);
		if (!ci)
			return folio_error_set(FOLIO_ENOMEM, "out of memory");
		s->class_info = ci;
		b->cls_cap = cap;
	}
	if (!(s->classes[s->nclasses] = strdup(name)))
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	memset(&s->class_info[s->nclasses], 0, sizeof s->class_info[s->nclasses]);
	s->nclasses++;
	b->cls_slots[k] = s->nclasses;
	return (long)s->nclasses - 1;
}

int labels_class(labels_builder *b, const char *name)
{
	long i = class_index(b, name);
	return i < 0 ? (int)i : 0;
}

int labels_class_meta(labels_builder *b, const char *name, int has_id, int64_t id,
		      const char *supercategory)
{
	long i = class_index(b, name);
	if (i < 0)
		return (int)i;
	folio_class_info *ci = &b->set->class_info[i];
	if (has_id && !ci->has_id) {
		ci->id = id;
		ci->has_id = 1;
	}
	if (supercategory && *supercategory && !ci->supercategory &&
	    !(ci->supercategory = strdup(supercategory)))
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	return 0;
}

void labels_object_clear(folio_object *o)
{
	free(o->cls);
	free(o->labeler);
	free(o->attributes);
	folio_shape_free(o->shape);
	memset(o, 0, sizeof *o);
}

void labels_annotation_clear(folio_annotation *a)
{
	for (size_t i = 0; i < a->nobjects; i++)
		labels_object_clear(&a->objects[i]);
	free(a->objects);
	for (size_t i = 0; i < a->ntags; i++)
		free(a->tags[i]);
	free(a->tags);
	free(a->image);
	free(a->split);
	free(a->source);
	memset(a, 0, sizeof *a);
}

/* Arrays of objects grow to powers of two: no capacity field needed. */
static int grow_pow2(void **v, size_t n, size_t size)
{
	if (n != 0 && (n & (n - 1)) != 0)
		return 0;
	size_t cap = n ? n * 2 : 1;
	void *nv = realloc(*v, cap * size);
	if (!nv)
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	*v = nv;
	return 0;
}

int labels_add_object(folio_annotation *a, folio_object *o)
{
	if (grow_pow2((void **)&a->objects, a->nobjects, sizeof *a->objects) < 0) {
		labels_object_clear(o);
		return FOLIO_ENOMEM;
	}
	a->objects[a->nobjects++] = *o;
	memset(o, 0, sizeof *o);
	return 0;
}

int labels_add_tag(folio_annotation *a, char *tag)
{
	if (grow_pow2((void **)&a->tags, a->ntags, sizeof *a->tags) < 0) {
		free(tag);
		return FOLIO_ENOMEM;
	}
	a->tags[a->ntags++] = tag;
	return 0;
}

int labels_push(labels_builder *b, folio_annotation *a)
{
	folio_labelset *s = b->set;
	int rc = 0;

	for (size_t i = 0; i < a->nobjects && rc == 0; i++)
		rc = labels_class(b, a->objects[i].cls);
	if (rc == 0 && s->n == b->ann_cap) {
		size_t cap = b->ann_cap ? b->ann_cap * 2 : 64;
		folio_annotation *v = realloc(s->v, cap * sizeof *v);
		if (!v)
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		else {
			s->v = v;
			b->ann_cap = cap;
		}
	}
	if (rc < 0) {
		labels_annotation_clear(a);
		return rc;
	}
	if (!a->prediction)
		b->ngt_sources = 1;
	s->v[s->n++] = *a;
	memset(a, 0, sizeof *a);
	return 0;
}

/* ---- relative boxes ---- */

int folio_annotation_relative(const folio_annotation *a)
{
	return a->format == FOLIO_LABELS_YOLO && (a->width <= 0 || a->height <= 0);
}

void folio_annotation_set_size(folio_annotation *a, int width, int height)
{
	if (width <= 0 || height <= 0)
		return;
	if (folio_annotation_relative(a))
		for (size_t i = 0; i < a->nobjects; i++) {
			folio_box *bx = &a->objects[i].box;
			bx->x *= width;
			bx->w *= width;
			bx->y *= height;
			bx->h *= height;
			folio_shape_scale(a->objects[i].shape, width, height);
		}
	else if (a->width > 0 && a->height > 0)
		return; /* what the label file states stays */
	a->width = width;
	a->height = height;
}

/* ---- sorting and merging ---- */

static int cmp_ann(const void *pa, const void *pb)
{
	const folio_annotation *a = pa, *b = pb;
	int c = strcmp(a->image, b->image);

	if (c)
		return c;
	if (a->prediction != b->prediction)
		return a->prediction - b->prediction;
	/* qsort is not stable: keep the order sources were read in. */
	return strcmp(a->source ? a->source : "", b->source ? b->source : "");
}

/* Moves src's objects and tags into dst (same image and kind). */
static int merge_into(folio_annotation *dst, folio_annotation *src)
{
	int rc = 0;

	/* Units must agree before objects mix: scale relative boxes if the
	 * other side knows the size. */
	if (folio_annotation_relative(dst) && !folio_annotation_relative(src) && src->width > 0)
		folio_annotation_set_size(dst, src->width, src->height);
	if (folio_annotation_relative(src) && !folio_annotation_relative(dst) && dst->width > 0)
		folio_annotation_set_size(src, dst->width, dst->height);
	for (size_t i = 0; i < src->nobjects && rc == 0; i++)
		rc = labels_add_object(dst, &src->objects[i]);
	for (size_t i = 0; i < src->ntags && rc == 0; i++) {
		rc = labels_add_tag(dst, src->tags[i]);
		src->tags[i] = NULL;
	}
	if (!dst->split && src->split) {
		dst->split = src->split;
		src->split = NULL;
	}
	if (dst->width <= 0 && src->width > 0 && !folio_annotation_relative(dst)) {
		dst->width = src->width;
		dst->height = src->height;
	}
	labels_annotation_clear(src);
	return rc;
}

static int finish(labels_builder *b)
{
	folio_labelset *s = b->set;
	size_t w = 0;
	int rc = 0;

	if (s->n)
		qsort(s->v, s->n, sizeof *s->v, cmp_ann);
	for (size_t i = 0; i < s->n; i++) {
		if (w > 0 && strcmp(s->v[w - 1].image, s->v[i].image) == 0 &&
		    s->v[w - 1].prediction == s->v[i].prediction) {
			if (rc == 0)
				rc = merge_into(&s->v[w - 1], &s->v[i]);
			else
				labels_annotation_clear(&s->v[i]);
			continue;
		}
		if (w != i)
			s->v[w] = s->v[i];
		w++;
	}
	s->n = w;
	if (rc == 0)
		rc = flush_dropped(b);
	return rc;
}

/* ---- sources ---- */

void folio_label_source_clear(folio_label_source *src)
{
	free(src->path);
	free(src->images);
	free(src->names);
	free(src->gt);
	free(src->split);
	free(src->labeler);
	memset(src, 0, sizeof *src);
}

/* Index range of the entries at or under path ("" is everything). */
static void under_range(const labels_builder *b, const char *path, size_t *lo, size_t *hi)
{
	size_t l = strlen(path), a = 0, z = b->tree->n;

	if (l == 0) {
		*lo = 0;
		*hi = b->tree->n;
		return;
	}
	while (a < z) {
		size_t m = a + (z - a) / 2;
		if (strcmp(b->tree->v[m].path, path) < 0)
			a = m + 1;
		else
			z = m;
	}
	*lo = a;
	while (a < b->tree->n && strncmp(b->tree->v[a].path, path, l) == 0)
		a++;
	*hi = a;
}

static int is_under(const char *p, const char *dir)
{
	size_t l = strlen(dir);

	if (l == 0)
		return 1;
	return strncmp(p, dir, l) == 0 && (p[l] == '/' || p[l] == '\0');
}

static int ends_with(const char *s, const char *suffix)
{
	size_t l = strlen(s), k = strlen(suffix);

	return l >= k && strcasecmp(s + l - k, suffix) == 0;
}

/* 1 if some file is at or under path. */
static int exists_under(const labels_builder *b, const char *path)
{
	size_t lo, hi;

	under_range(b, path, &lo, &hi);
	for (size_t i = lo; i < hi; i++)
		if (is_under(b->tree->v[i].path, path))
			return 1;
	return 0;
}

static int in_meta(const char *path)
{
	return strncmp(path, ".folio/", 7) == 0;
}

static int in_predictions(const char *path)
{
	for (const char *p = path; (p = strstr(p, "predictions/")); p++)
		if (p == path || p[-1] == '/')
			return 1;
	return 0;
}

/* Reads and parses one JSON label file of a declared or detected source. */
static int run_json(labels_builder *b, const labels_source *src, size_t entry, int declared)
{
	char *text = NULL;
	size_t len = 0;
	cJSON *root = NULL;
	int rc, fatal = 0;
	const char *path = b->tree->v[entry].path;

	if ((rc = labels_read(b, entry, &text, &len)) != 0)
		return rc < 0 ? rc : 0;
	if (!(root = labels_json_parse(b, path, text, len, &fatal))) {
		rc = fatal ? FOLIO_ENOMEM : 0;
		goto cleanup;
	}
	switch (src->format) {
	case FOLIO_LABELS_NATIVE:
		rc = labels_native_file(b, src, entry, text, len, root);
		break;
	case FOLIO_LABELS_COCO:
		if (!labels_coco_is(root) && declared)
			rc = labels_error(b, path, 1,
					  "not a COCO instances file (" LABELS_COCO_NEEDS ")");
		else
			rc = labels_coco_file(b, src, entry, text, len, root);
		break;
	case FOLIO_LABELS_COCO_RESULTS:
		rc = labels_coco_results_file(b, src, entry, text, len, root);
		break;
	default:
		break;
	}
cleanup:
	cJSON_Delete(root);
	free(text);
	return rc;
}

static int run_voc(labels_builder *b, const labels_source *src, size_t entry, int declared)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if ((rc = labels_read(b, entry, &text, &len)) != 0)
		return rc < 0 ? rc : 0;
	rc = labels_voc_file(b, src, entry, text, len, declared);
	free(text);
	return rc;
}

static int run_declared(labels_builder *b, const labels_source *src)
{
	size_t lo, hi;
	int rc = 0, fatal = 0;
	labels_names *names = NULL;

	if (src->format == FOLIO_LABELS_IMAGEFOLDER)
		return labels_imagefolder(b, src);
	if (src->format == FOLIO_LABELS_YOLO && src->names) {
		if (!(names = labels_yolo_names_at(b, src->names, &fatal)) && fatal)
			return FOLIO_ENOMEM;
		if (!names)
			return 0; /* error recorded: without names the classes are unknown */
	}
	under_range(b, src->path, &lo, &hi);
	for (size_t i = lo; i < hi && rc == 0; i++) {
		const folio_entry *e = &b->tree->v[i];
		if (!is_under(e->path, src->path) || e->kind == FOLIO_ENTRY_LINK || in_meta(e->path))
			continue;
		switch (src->format) {
		case FOLIO_LABELS_NATIVE:
		case FOLIO_LABELS_COCO:
		case FOLIO_LABELS_COCO_RESULTS:
			if (ends_with(e->path, ".json"))
				rc = run_json(b, src, i, 1);
			break;
		case FOLIO_LABELS_VOC:
			if (ends_with(e->path, ".xml"))
				rc = run_voc(b, src, i, 1);
			break;
		case FOLIO_LABELS_YOLO: {
			if (!ends_with(e->path, ".txt") || strcmp(labels_basename(e->path), "classes.txt") == 0)
				break;
			if (src->names && strcmp(e->path, src->names) == 0)
				break;
			labels_names *n = names;
			if (!n) {
				char *dir = labels_dirname(e->path);
				if (!dir)
					return folio_error_set(FOLIO_ENOMEM, "out of memory");
				n = labels_yolo_names_for(b, dir, &fatal);
				free(dir);
				if (fatal)
					return FOLIO_ENOMEM;
			}
			rc = labels_yolo_file(b, src, i, n);
			break;
		}
		default:
			break;
		}
	}
	return rc;
}

/* A source object of dataset.json: path-like members are cleaned. */
static int parse_source(labels_builder *b, labels_source *out, const cJSON *o, size_t idx,
			const char *file, const char *text, size_t len)
{
	labels_jstep at[3] = { { "labels", 0 }, { NULL, idx }, { NULL, 0 } };
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "format");
	static const char *const pathkeys[] = { "path", "images", "names", "gt" };
	char **dest[] = { &out->path, &out->images, &out->names, &out->gt };
	const char *why;

	memset(out, 0, sizeof *out);
	if (!cJSON_IsObject(o))
		return labels_error(b, file, labels_json_line(text, len, at, 2),
				"labels[%zu]: a source must be an object", idx) < 0 ? FOLIO_ENOMEM : 1;
	if (!cJSON_IsString(f) || folio_label_format_parse(&out->format, f->valuestring) < 0) {
		at[2].key = "format";
		return labels_error(b, file, labels_json_line(text, len, at, f ? 3 : 2),
				"labels[%zu]: \"format\" must be one of native, coco, yolo, voc, "
				"imagefolder, coco-results", idx) < 0 ? FOLIO_ENOMEM : 1;
	}
	for (size_t k = 0; k < 4; k++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, pathkeys[k]);
		at[2].key = pathkeys[k];
		if (!v) {
			if (k == 0) {
				folio_label_source_clear(out);
				return labels_error(b, file, labels_json_line(text, len, at, 2),
						"labels[%zu]: \"path\" is missing", idx) < 0 ? FOLIO_ENOMEM : 1;
			}
			continue;
		}
		if (!cJSON_IsString(v)) {
			folio_label_source_clear(out);
			return labels_error(b, file, labels_json_line(text, len, at, 3),
					"labels[%zu]: \"%s\" must be a string", idx, pathkeys[k]) < 0
				       ? FOLIO_ENOMEM : 1;
		}
		if (v->valuestring[0] == '\0' || strcmp(v->valuestring, ".") == 0) {
			*dest[k] = strdup("");
		} else if (labels_clean_path(dest[k], v->valuestring, &why) < 0) {
			folio_label_source_clear(out);
			if (!why)
				return FOLIO_ENOMEM;
			return labels_error(b, file, labels_json_line(text, len, at, 3),
					"labels[%zu]: \"%s\": '%s' refused: %s", idx, pathkeys[k],
					v->valuestring, why) < 0 ? FOLIO_ENOMEM : 1;
		}
		if (!*dest[k]) {
			folio_label_source_clear(out);
			return folio_error_set(FOLIO_ENOMEM, "out of memory");
		}
	}
	const cJSON *v;
	if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(o, "split")) && v->valuestring[0] &&
	    !(out->split = strdup(v->valuestring)))
		goto oom;
	if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(o, "labeler")) && v->valuestring[0] &&
	    !(out->labeler = strdup(v->valuestring)))
		goto oom;
	out->prediction = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "prediction")) ||
			  out->format == FOLIO_LABELS_COCO_RESULTS;
	if (!exists_under(b, out->path)) {
		at[2].key = "path";
		int rc = labels_error(b, file, labels_json_line(text, len, at, 3),
				  "labels[%zu]: '%s' is not in this version", idx, out->path);
		folio_label_source_clear(out);
		return rc < 0 ? FOLIO_ENOMEM : 1;
	}
	return 0;
oom:
	folio_label_source_clear(out);
	return folio_error_set(FOLIO_ENOMEM, "out of memory");
}

/*
 * Reads .folio/dataset.json. *declared is set when it has a "labels"
 * array (then *auto_too tells whether auto-detection also runs). Every
 * usable source is run; coco-results sources run after the others, since
 * they take their ids from COCO instances files.
 */
static int run_dataset_json(labels_builder *b, long entry, int *declared, int *auto_too)
{
	char *text = NULL;
	size_t len = 0;
	cJSON *root = NULL;
	labels_source *srcs = NULL;
	size_t nsrcs = 0;
	int rc, fatal = 0;
	const char *file = DATASET_JSON;

	*declared = 0;
	*auto_too = 0;
	if ((rc = labels_read(b, (size_t)entry, &text, &len)) != 0)
		return rc < 0 ? rc : 0;
	if (!(root = labels_json_parse(b, file, text, len, &fatal))) {
		rc = fatal ? FOLIO_ENOMEM : 0;
		goto cleanup;
	}
	if (!cJSON_IsObject(root)) {
		rc = labels_error(b, file, 1, "must be a JSON object");
		goto cleanup;
	}
	const cJSON *classes = cJSON_GetObjectItemCaseSensitive(root, "classes");
	if (classes) {
		labels_jstep at[2] = { { "classes", 0 }, { NULL, 0 } };
		if (!cJSON_IsArray(classes)) {
			if ((rc = labels_error(b, file, labels_json_line(text, len, at, 1),
					   "\"classes\" must be an array of names")) < 0)
				goto cleanup;
		} else {
			size_t i = 0;
			const cJSON *c;
			cJSON_ArrayForEach(c, classes) {
				at[1].index = i++;
				if (!cJSON_IsString(c) || !c->valuestring[0])
					rc = labels_error(b, file,
							  labels_json_line(text, len, at, 2),
						      "classes[%zu]: must be a non-empty string", i - 1);
				else
					rc = labels_class(b, c->valuestring);
				if (rc < 0)
					goto cleanup;
			}
		}
	}
	const cJSON *labels = cJSON_GetObjectItemCaseSensitive(root, "labels");
	*auto_too = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "auto"));
	if (!labels) {
		*auto_too = 1;
		goto cleanup;
	}
	if (!cJSON_IsArray(labels)) {
		labels_jstep at[1] = { { "labels", 0 } };
		rc = labels_error(b, file, labels_json_line(text, len, at, 1),
			      "\"labels\" must be an array of sources; auto-detecting instead");
		*auto_too = 1;
		goto cleanup;
	}
	*declared = 1;
	size_t n = (size_t)cJSON_GetArraySize(labels);
	if (n && !(srcs = calloc(n, sizeof *srcs))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	size_t i = 0;
	const cJSON *o;
	cJSON_ArrayForEach(o, labels) {
		rc = parse_source(b, &srcs[nsrcs], o, i++, file, text, len);
		if (rc < 0)
			goto cleanup;
		if (rc == 0)
			nsrcs++;
		rc = 0;
	}
	/* The text is no longer needed; sources may be large. */
	cJSON_Delete(root);
	root = NULL;
	for (int pass = 0; pass < 2 && rc == 0; pass++)
		for (size_t k = 0; k < nsrcs && rc == 0; k++)
			if ((srcs[k].format == FOLIO_LABELS_COCO_RESULTS) == pass)
				rc = run_declared(b, &srcs[k]);
cleanup:
	for (size_t k = 0; k < nsrcs; k++)
		folio_label_source_clear(&srcs[k]);
	free(srcs);
	cJSON_Delete(root);
	free(text);
	return rc;
}

/* Auto-detection over the files no declared source read. */
static int run_auto(labels_builder *b)
{
	size_t *results = NULL, nresults = 0;
	int rc = 0, fatal = 0;

	for (size_t i = 0; i < b->tree->n && rc == 0; i++) {
		const folio_entry *e = &b->tree->v[i];
		if (b->used[i] || e->kind == FOLIO_ENTRY_LINK || in_meta(e->path))
			continue;
		labels_source src = { 0 };
		src.path = "";
		src.prediction = in_predictions(e->path);
		if (ends_with(e->path, ".json")) {
			char *text = NULL;
			size_t len = 0;
			cJSON *root = NULL;
			if ((rc = labels_read(b, i, &text, &len)) != 0) {
				rc = rc < 0 ? rc : 0;
				continue;
			}
			root = labels_json_parse(b, e->path, text, len, &fatal);
			folio_label_format f = root ? labels_sniff_root(root) : 0;
			src.format = f;
			if (fatal)
				rc = FOLIO_ENOMEM;
			else if (f == FOLIO_LABELS_NATIVE)
				rc = labels_native_file(b, &src, i, text, len, root);
			else if (f == FOLIO_LABELS_COCO)
				rc = labels_coco_file(b, &src, i, text, len, root);
			else if (f == FOLIO_LABELS_COCO_RESULTS) {
				size_t *v = realloc(results, (nresults + 1) * sizeof *v);
				if (!v)
					rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
				else
					(results = v)[nresults++] = i;
			}
			cJSON_Delete(root);
			free(text);
		} else if (ends_with(e->path, ".xml")) {
			char *text = NULL;
			size_t len = 0;
			if ((rc = labels_read(b, i, &text, &len)) != 0) {
				rc = rc < 0 ? rc : 0;
				continue;
			}
			src.format = FOLIO_LABELS_VOC;
			rc = labels_voc_file(b, &src, i, text, len, 0);
			free(text);
		} else if (ends_with(e->path, ".txt") &&
			   strcmp(labels_basename(e->path), "classes.txt") != 0) {
			char *img = labels_yolo_image_for(b, e->path, NULL, NULL);
			if (!img)
				continue;
			free(img);
			char *dir = labels_dirname(e->path);
			if (!dir) {
				rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
				break;
			}
			labels_names *n = labels_yolo_names_for(b, dir, &fatal);
			free(dir);
			if (fatal) {
				rc = FOLIO_ENOMEM;
				break;
			}
			if (!n)
				continue;
			src.format = FOLIO_LABELS_YOLO;
			rc = labels_yolo_file(b, &src, i, n);
		}
	}
	for (size_t k = 0; k < nresults && rc == 0; k++) {
		labels_source src = { 0 };
		src.path = "";
		src.format = FOLIO_LABELS_COCO_RESULTS;
		src.prediction = 1;
		/* Read again: keeping every results document parsed until the
		 * instances files are known would cost more than re-parsing. */
		rc = run_json(b, &src, results[k], 0);
	}
	free(results);
	if (rc == 0 && !b->ngt_sources)
		rc = labels_imagefolder_detect(b);
	return rc;
}

static int cmp_stem_r(const void *pa, const void *pb, void *t)
{
	const char *a = ((const folio_tree *)t)->v[*(const size_t *)pa].path;
	const char *b = ((const folio_tree *)t)->v[*(const size_t *)pb].path;
	const char *da = strrchr(labels_basename(a), '.'), *db = strrchr(labels_basename(b), '.');
	size_t la = da ? (size_t)(da - a) : strlen(a), lbn = db ? (size_t)(db - b) : strlen(b);
	int c = memcmp(a, b, la < lbn ? la : lbn);

	if (c)
		return c;
	if (la != lbn)
		return la < lbn ? -1 : 1;
	return strcmp(a, b);
}

static int build_stems(labels_builder *b)
{
	size_t n = 0;

	if (b->tree->n && !(b->stems = malloc(b->tree->n * sizeof *b->stems)))
		return folio_error_set(FOLIO_ENOMEM, "out of memory indexing images");
	for (size_t i = 0; i < b->tree->n; i++)
		if (labels_is_image(b->tree->v[i].path))
			b->stems[n++] = i;
	if (n)
		qsort_r(b->stems, n, sizeof *b->stems, cmp_stem_r, (void *)b->tree);
	b->nstems = n;
	return 0;
}

static void labels_builder_clear(labels_builder *b)
{
	free(b->cur_file);
	free(b->names_dir);
	free(b->cls_slots);
	free(b->used);
	free(b->stems);
	free(b->bases);
	for (size_t i = 0; i < b->ncocos; i++)
		labels_coco_ids_clear(&b->cocos[i]);
	free(b->cocos);
	for (size_t i = 0; i < b->nnames; i++)
		labels_names_clear(&b->names[i]);
	free(b->names);
}

int folio_labels_load(folio_labelset *out, const folio_tree *tree,
		      folio_labels_read_cb read, void *payload)
{
	labels_builder b;
	int rc, declared = 0, auto_too = 1;

	memset(out, 0, sizeof *out);
	memset(&b, 0, sizeof b);
	b.tree = tree;
	b.read = read;
	b.payload = payload;
	b.set = out;
	if (tree->n && !(b.used = calloc(tree->n, 1))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory loading labels");
		goto cleanup;
	}
	if ((rc = build_stems(&b)) < 0 || (rc = labels_yolo_scan_names(&b)) < 0)
		goto cleanup;
	long ds = labels_find(&b, DATASET_JSON);
	if (ds >= 0 && (rc = run_dataset_json(&b, ds, &declared, &auto_too)) < 0)
		goto cleanup;
	if ((!declared || auto_too) && (rc = run_auto(&b)) < 0)
		goto cleanup;
	rc = finish(&b);
cleanup:
	labels_builder_clear(&b);
	if (rc < 0)
		folio_labelset_clear(out);
	return rc;
}

const folio_annotation *folio_labels_find(const folio_labelset *set,
					  const char *image, int prediction)
{
	size_t lo = 0, hi = set->n;

	prediction = prediction != 0;
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		const folio_annotation *a = &set->v[m];
		int c = strcmp(a->image, image);
		if (c == 0)
			c = a->prediction - prediction;
		if (c < 0)
			lo = m + 1;
		else if (c > 0)
			hi = m;
		else
			return a;
	}
	return NULL;
}

void folio_labelset_clear(folio_labelset *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		labels_annotation_clear(&set->v[i]);
	free(set->v);
	for (size_t i = 0; i < set->nclasses; i++) {
		free(set->classes[i]);
		free(set->class_info[i].supercategory);
	}
	free(set->classes);
	free(set->class_info);
	for (size_t i = 0; i < set->nerrors; i++) {
		free(set->errors[i].file);
		free(set->errors[i].message);
	}
	free(set->errors);
	memset(set, 0, sizeof *set);
}
