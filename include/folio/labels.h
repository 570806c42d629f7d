/*
 * labels.h — labels read in place from a version: folio's own per-image
 * JSON, COCO instances, YOLO, Pascal VOC, ImageFolder, and model
 * predictions (COCO results or native JSON with scores), kept apart from
 * ground truth.
 *
 * A label set maps dataset image paths to annotations. Parsing never
 * stops at a bad file: each problem is recorded with file and line in
 * set->errors and the rest of the dataset still indexes. Image paths found
 * inside label files are resolved relative to the label file (or the
 * dataset root, per format) and refused when they could leave the dataset
 * (any '..' part, absolute, not UTF-8, control characters).
 */
#ifndef FOLIO_LABELS_H
#define FOLIO_LABELS_H

#include <stddef.h>
#include <stdint.h>

#include "folio/tree.h"

typedef struct folio_box {
	double x, y, w, h;       /* pixels; (x, y) is the top-left corner
				  * (fractions of the image size while
				  * folio_annotation_relative() is true) */
} folio_box;

typedef struct folio_object {
	char *cls;               /* class name, never NULL */
	folio_box box;
	int has_box;             /* 0 for image-level labels (ImageFolder) */
	double score;            /* predictions: confidence in [0, 1] */
	int has_score;
	char *labeler;           /* who labeled it, or NULL */
	char *attributes;        /* JSON object text of extra attributes, or NULL */
} folio_object;

typedef enum folio_label_format {
	FOLIO_LABELS_NATIVE = 1, /* folio per-image JSON (docs/labels.md) */
	FOLIO_LABELS_COCO,       /* COCO instances JSON */
	FOLIO_LABELS_YOLO,       /* one .txt per image + data.yaml / *.names / classes.txt */
	FOLIO_LABELS_VOC,        /* Pascal VOC XML per image */
	FOLIO_LABELS_IMAGEFOLDER,/* class = parent folder name */
	FOLIO_LABELS_COCO_RESULTS, /* COCO detection results (predictions) */
} folio_label_format;

typedef struct folio_annotation {
	char *image;             /* dataset-relative image path */
	folio_object *objects;
	size_t nobjects;
	char **tags;             /* image-level tags */
	size_t ntags;
	char *split;             /* "train", "val", "test", ... or NULL */
	int width, height;       /* as the label file states; 0 when unknown */
	int prediction;          /* 1: model output, kept apart from ground truth */
	folio_label_format format;
	char *source;            /* the label file it came from */
} folio_annotation;

typedef struct folio_label_error {
	char *file;              /* dataset-relative label file */
	int line;                /* 1-based; 0 when unknown */
	char *message;
} folio_label_error;

typedef struct folio_labelset {
	folio_annotation *v;     /* sorted by (image, prediction) */
	size_t n;
	char **classes;          /* class names in the sources' order, deduplicated */
	size_t nclasses;
	folio_label_error *errors;
	size_t nerrors;
} folio_labelset;

/* Reads a file of the version: malloc'd content. */
typedef int (*folio_labels_read_cb)(void **out, size_t *len, const folio_entry *e,
				    void *payload);

/*
 * Finds and parses every label source of a version. Sources are declared
 * in the version's .folio/dataset.json ("labels": [{"format": ..., "path":
 * ...}], see docs/labels.md) or, without it, auto-detected. Returns 0 even
 * when some files were bad (see out->errors); negative only on I/O or
 * memory failure.
 */
int folio_labels_load(folio_labelset *out, const folio_tree *tree,
		      folio_labels_read_cb read, void *payload);

/* The annotation of an image (ground truth when prediction is 0), or NULL. */
const folio_annotation *folio_labels_find(const folio_labelset *set,
					  const char *image, int prediction);

void folio_labelset_clear(folio_labelset *set);

/*
 * YOLO label files do not state the image size, so a YOLO annotation keeps
 * width = height = 0 and its boxes in fractions of the image size (still
 * top-left x, y, w, h). folio_annotation_relative is 1 for such an
 * annotation; folio_annotation_set_size, given the image's size (from the
 * image itself), scales its boxes to pixels and records the size. For any
 * other annotation it only records the size when it was unknown.
 */
int folio_annotation_relative(const folio_annotation *a);
void folio_annotation_set_size(folio_annotation *a, int width, int height);

const char *folio_label_format_name(folio_label_format f);
/* Parses "coco", "yolo", "voc", "imagefolder", "native", "coco-results". */
int folio_label_format_parse(folio_label_format *out, const char *name);

#endif
