/*
 * export.c — @export/FORMAT: a set as a dataset another tool reads as it
 * is: coco/, yolo/, voc/, imagefolder/ folders, and files.txt and
 * manifest.csv single files (docs/exports.md has each layout).
 *
 * The images of an export are the version's own objects under new names,
 * so an export costs its label files, never a copy of the images; the
 * label files are made by the serializers of formats.c and stored in the
 * generated-files store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/error.h"
#include "folio/export.h"
#include "folio/util.h"
#include "folio/views.h"
#include "views_int.h"

static const struct {
	const char *name;
	int folder;              /* 0: a single file */
} formats[] = {
	{ "coco", 1 }, { "files.txt", 0 }, { "imagefolder", 1 }, { "manifest.csv", 0 },
	{ "voc", 1 }, { "yolo", 1 },
};
#define NFORMATS (sizeof formats / sizeof formats[0])

/* Export items for a set, with annotations converted from the table. */
typedef struct items {
	folio_export_item *v;
	folio_annotation *ann;
	char (*hex)[FOLIO_OID_HEXSZ + 1];
	size_t n;
} items;

static void items_clear(items *it)
{
	for (size_t i = 0; i < it->n; i++)
		folio_index_annotation_clear(&it->ann[i]);
	free(it->v);
	free(it->ann);
	free(it->hex);
	memset(it, 0, sizeof *it);
}

static int items_make(items *it, const folio_index *ix, const folio_set *set)
{
	size_t n = set->n ? set->n : 1;
	it->n = 0;
	it->v = calloc(n, sizeof *it->v);
	it->ann = calloc(n, sizeof *it->ann);
	it->hex = calloc(n, sizeof *it->hex);
	if (!it->v || !it->ann || !it->hex)
		return folio_error_set(FOLIO_ENOMEM, "@export: out of memory");
	for (size_t i = 0; i < set->n; i++) {
		const folio_sample *s = &ix->samples[set->v[i]];
		folio_export_item *x = &it->v[i];
		folio_oid_tohex(it->hex[i], &s->oid);
		x->path = folio_index_path(ix, s);
		x->sha256 = it->hex[i];
		x->size = s->size;
		x->width = s->f.known ? s->f.width : 0;
		x->height = s->f.known ? s->f.height : 0;
		x->depth = s->f.known ? s->f.bands : 0;
		it->n = i + 1;
		if (s->gt != FOLIO_NONE) {
			if (folio_index_annotation(&it->ann[i], ix, s->gt, s) < 0)
				return folio_error_set(FOLIO_ENOMEM, "@export: out of memory");
			x->gt = &it->ann[i];
		}
	}
	return 0;
}

static char **class_names(const folio_index *ix)
{
	char **c = calloc(ix->nclasses + 1, sizeof *c);
	if (!c)
		return NULL;
	for (size_t i = 0; i < ix->nclasses; i++)
		c[i] = (char *)folio_index_str(ix, ix->classes[i]);
	return c;
}

/* "a/b/c.jpg" under prefix with a new extension: "<prefix>a/b/c.txt". */
static int swap_ext(char *out, size_t size, const char *prefix, const char *path, const char *ext)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(path, '.');
	size_t keep = dot && (!slash || dot > slash) ? (size_t)(dot - path) : strlen(path);
	return folio_path_format(out, size, "%s%.*s%s", prefix, (int)keep, path, ext);
}

/* The version's file at path, under name. */
static int put_image(folio_tree *files, folio_view_ctx *ctx, const char *name, const char *path)
{
	const folio_entry *e = ctx->tree ? folio_tree_find(ctx->tree, path) : NULL;
	if (!e)
		return 0;   /* a row whose file is gone from the tree: nothing to link */
	folio_entry c = *e;
	c.path = (char *)name;
	return folio_tree_push(files, &c);
}

/* Stores a serializer's text (rc its result) as file name. */
static int put_text(folio_tree *files, folio_view_ctx *ctx, const char *name, char *text,
		    size_t len, int rc)
{
	if (rc == 0)
		rc = folio_view_put(files, ctx, name, text, len);
	free(text);
	return rc < 0 ? folio_error_wrap(rc, "@export: %s", name) : 0;
}

static int export_folder(folio_tree *files, folio_view_ctx *ctx, const char *fmt,
			 const folio_index *ix, const folio_set *set, size_t *skipped)
{
	items it = { 0 };
	char **cls = class_names(ix);
	char name[FOLIO_PATH_BUF];
	char *text = NULL;
	size_t len = 0, skip = 0;
	int rc;

	if (!cls) {
		rc = folio_error_set(FOLIO_ENOMEM, "@export: out of memory");
		goto done;
	}
	if ((rc = items_make(&it, ix, set)) < 0)
		goto done;
	if (!strcmp(fmt, "coco")) {
		rc = folio_export_coco(&text, &len, &skip, it.v, it.n, cls, ix->nclasses);
		if ((rc = put_text(files, ctx, "annotations.json", text, len, rc)) < 0)
			goto done;
		*skipped += skip;
		for (size_t i = 0; i < it.n && rc == 0; i++)
			if ((rc = folio_path_format(name, sizeof name, "images/%s", it.v[i].path)) == 0)
				rc = put_image(files, ctx, name, it.v[i].path);
	} else if (!strcmp(fmt, "yolo")) {
		rc = folio_export_yolo_yaml(&text, &len, cls, ix->nclasses);
		if ((rc = put_text(files, ctx, "data.yaml", text, len, rc)) < 0)
			goto done;
		for (size_t i = 0; i < it.n && rc == 0; i++) {
			if ((rc = folio_path_format(name, sizeof name, "images/%s", it.v[i].path)) < 0 ||
			    (rc = put_image(files, ctx, name, it.v[i].path)) < 0)
				break;
			rc = folio_export_yolo_label(&text, &len, &skip, &it.v[i], cls, ix->nclasses);
			*skipped += skip;
			if (rc == 0)
				rc = swap_ext(name, sizeof name, "labels/", it.v[i].path, ".txt");
			rc = put_text(files, ctx, name, text, len, rc);
		}
	} else if (!strcmp(fmt, "voc")) {
		for (size_t i = 0; i < it.n && rc == 0; i++) {
			if ((rc = folio_path_format(name, sizeof name, "JPEGImages/%s",
						    it.v[i].path)) < 0 ||
			    (rc = put_image(files, ctx, name, it.v[i].path)) < 0)
				break;
			rc = folio_export_voc(&text, &len, &skip, &it.v[i]);
			*skipped += skip;
			if (rc == 0)
				rc = swap_ext(name, sizeof name, "Annotations/", it.v[i].path, ".xml");
			rc = put_text(files, ctx, name, text, len, rc);
		}
	} else {   /* imagefolder: <class>/<path> for each class of the image */
		for (size_t i = 0; i < set->n && rc == 0; i++) {
			const folio_sample *s = &ix->samples[set->v[i]];
			uint32_t ids[256];
			size_t nc = folio_index_classes(ids, 256, ix, s->gt);
			for (size_t k = 0; k < nc && k < 256 && rc == 0; k++) {
				const char *c = folio_index_str(ix, ids[k]);
				if (!folio_folder_name_ok(c))
					continue;
				if ((rc = folio_path_format(name, sizeof name, "%s/%s", c,
							    folio_index_path(ix, s))) == 0)
					rc = put_image(files, ctx, name, folio_index_path(ix, s));
			}
		}
	}
done:
	free(cls);
	items_clear(&it);
	return rc;
}

/* files.txt: the members through the mount, in the set's order, by their
 * names there; manifest.csv: one row per member. */
static int export_file(folio_tree *files, folio_view_ctx *ctx, const char *fmt,
		       const folio_index *ix, const folio_view_input *in, size_t *skipped)
{
	const folio_set *set = in->set;
	items it = { 0 };
	char *text = NULL, **names = NULL;
	size_t len = 0;
	int rc;

	if ((rc = items_make(&it, ix, set)) < 0)
		goto done;
	if (!strcmp(fmt, "manifest.csv")) {
		rc = folio_export_manifest(&text, &len, it.v, it.n);
		rc = put_text(files, ctx, fmt, text, len, rc);
		goto done;
	}
	if (!in->prefix) {
		rc = folio_error_set(FOLIO_EINVAL, "@export/files.txt: it lists absolute paths, and "
				     "this set is read at no known folder (give the folder, e.g. "
				     "`folio query ... --prefix MNT/tags/v1`)");
		goto done;
	}
	if (!(names = calloc(it.n ? it.n : 1, sizeof *names))) {
		rc = folio_error_set(FOLIO_ENOMEM, "@export: out of memory");
		goto done;
	}
	for (size_t i = 0; i < it.n && rc == 0; i++) {
		char nm[FOLIO_PATH_BUF];
		if ((rc = folio_set_name(nm, sizeof nm, ix, set, i)) == 0 && !(names[i] = strdup(nm)))
			rc = folio_error_set(FOLIO_ENOMEM, "@export: out of memory");
		it.v[i].path = names[i];
	}
	if (rc == 0) {
		rc = folio_export_files(&text, &len, skipped, in->prefix, it.v, it.n);
		rc = put_text(files, ctx, fmt, text, len, rc);
	}
done:
	for (size_t i = 0; names && i < it.n; i++)
		free(names[i]);
	free(names);
	items_clear(&it);
	return rc;
}

static int export_accept(folio_view_ctx *ctx, const char *const *args, size_t nargs)
{
	(void)ctx;
	if (nargs == 0)
		return FOLIO_VIEW_MORE;
	for (size_t i = 0; i < NFORMATS; i++)
		if (!strcmp(formats[i].name, args[0]))
			return FOLIO_VIEW_DONE;
	return folio_error_set(FOLIO_ENOTFOUND, "@export/%s: no such format (coco, files.txt, "
			       "imagefolder, manifest.csv, voc, yolo)", args[0]);
}

static int export_list(folio_view_menu *out, folio_view_ctx *ctx, const folio_set *in,
		       const char *const *args, size_t nargs)
{
	int rc = 0;

	(void)ctx;
	(void)in;
	(void)args;
	(void)nargs;
	for (size_t i = 0; i < NFORMATS && rc == 0; i++)
		rc = folio_view_menu_add(out, formats[i].name, formats[i].folder);
	return rc;
}

static int export_output(folio_view_out *out, folio_view_ctx *ctx, const folio_view_input *in,
			 const char *const *args, size_t nargs)
{
	const folio_index *ix;
	const char *fmt = args[0];
	int rc;

	(void)nargs;
	if ((rc = views_table(&ix, ctx, "@export")) < 0)
		return rc;
	if (strchr(fmt, '.')) {
		rc = export_file(&out->files, ctx, fmt, ix, in, &out->skipped);
		out->single = 1;
	} else {
		rc = export_folder(&out->files, ctx, fmt, ix, in->set, &out->skipped);
	}
	return rc;
}

const folio_view views_export = {
	.name = "@export",
	.kind = FOLIO_VIEW_OUTPUT,
	.arity = 1,
	.summary = "the set in a format tools read as-is: coco, yolo, voc, imagefolder, "
		   "files.txt, manifest.csv",
	.accept = export_accept,
	.list = export_list,
	.output = export_output,
};
