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

/*
 * A segmentation: polygons (rings of points, in pixels like boxes, or in
 * fractions of the image size while the annotation is relative) or a
 * run-length mask in COCO's form: column-major runs starting with
 * background, compressed into COCO's "counts" string (folio_rle_*).
 */
enum { FOLIO_SHAPE_POLYGONS = 1, FOLIO_SHAPE_RLE = 2 };

typedef struct folio_shape {
	int kind;                /* FOLIO_SHAPE_* */
	double *xy;              /* polygons: x0, y0, x1, y1, ... of every ring in turn */
	uint32_t *ring;          /* polygons: points in each ring (>= 3) */
	size_t nrings;
	char *rle;               /* RLE: compressed counts (COCO's string form) */
	int rle_w, rle_h;        /* RLE: the mask's size in pixels */
} folio_shape;

/* Flags of an object, as its source states them. */
#define FOLIO_OBJ_CROWD 0x01u      /* COCO iscrowd: one region of many instances */
#define FOLIO_OBJ_DIFFICULT 0x02u  /* VOC difficult */
#define FOLIO_OBJ_TRUNCATED 0x04u  /* VOC/CVAT truncated */
#define FOLIO_OBJ_OCCLUDED 0x08u   /* VOC/CVAT occluded */

typedef struct folio_object {
	char *cls;               /* class name, never NULL */
	folio_box box;
	int has_box;             /* 0 for image-level labels (ImageFolder) */
	double score;            /* predictions: confidence in [0, 1] */
	int has_score;
	char *labeler;           /* who labeled it, or NULL */
	char *attributes;        /* JSON object text of extra attributes, or NULL */
	unsigned flags;          /* FOLIO_OBJ_* */
	folio_shape *shape;      /* segmentation, or NULL */
	double area;             /* the source's area (COCO "area"), when has_area */
	int has_area;
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

/* What a source says about a class besides its name. */
typedef struct folio_class_info {
	int64_t id;              /* its id there (a COCO category id, a labelmap or YOLO
				  * index), when has_id */
	int has_id;
	char *supercategory;     /* COCO supercategory, or NULL */
} folio_class_info;

typedef struct folio_labelset {
	folio_annotation *v;     /* sorted by (image, prediction) */
	size_t n;
	char **classes;          /* class names in the sources' order, deduplicated,
				  * including classes no object has */
	folio_class_info *class_info; /* parallel to classes (the first source that
				  * said something about a class wins) */
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

/* ---- segmentations (labels/shape.c) ---- */

void folio_shape_free(folio_shape *s);
/* A deep copy (NULL for NULL). */
int folio_shape_copy(folio_shape **out, const folio_shape *s);
/* Area in pixels: of an RLE mask, its pixels; of polygons, the sum of the
 * rings' shoelace areas (as COCO's tools would rasterise them, without
 * the pixel rounding). */
double folio_shape_area(const folio_shape *s);
/* The box around the shape (polygons' points, or an RLE mask's pixels);
 * -1 if it is empty. */
int folio_shape_bbox(folio_box *out, const folio_shape *s);
/* Scales polygon points (x by sx, y by sy). */
void folio_shape_scale(folio_shape *s, double sx, double sy);

/*
 * COCO's run-length masks. counts are alternating runs of 0s and 1s over
 * the mask in column-major order, starting with 0s; the compressed form
 * is COCO's string: each count (after the third, as a difference from the
 * count two before) in 5-bit groups, low first, +48, with 0x20 meaning
 * "more follows" (pycocotools' maskApi documents it). compress gives a
 * malloc'd NUL-terminated string; decompress malloc's *out, FOLIO_EINVAL
 * on a bad string.
 */
int folio_rle_compress(char **out, const uint32_t *counts, size_t n);
int folio_rle_decompress(uint32_t **out, size_t *n, const char *s);

/*
 * A class name as one folder name, and back, so that every class can be a
 * folder (ImageFolder exports, @by/class) and read back exactly: '%' is
 * written "%25" and '/' "%2F", a leading '.' "%2E" (so "." and ".." and
 * hidden names cannot occur), and a control character "%XX"; everything
 * else, spaces and non-ASCII letters included, is kept. FOLIO_EINVAL when
 * out is too small, or (from_folder) when folder is not such a name.
 */
int folio_class_to_folder(char *out, size_t size, const char *cls);
int folio_class_from_folder(char *out, size_t size, const char *folder);

const char *folio_label_format_name(folio_label_format f);
/* Parses "coco", "yolo", "voc", "imagefolder", "native", "coco-results". */
int folio_label_format_parse(folio_label_format *out, const char *name);
/* One more than the largest folio_label_format: arrays indexed by format. */
#define FOLIO_LABELS_FORMAT_END (FOLIO_LABELS_COCO_RESULTS + 1)

/*
 * What kind of JSON label file text is (docs/labels.md, "Auto-detected"):
 * FOLIO_LABELS_NATIVE (an object with a numeric "folio_labels"),
 * FOLIO_LABELS_COCO (an object with "images", "annotations" and
 * "categories" arrays: instances and keypoints files; captions files have
 * no "categories" and are not label files), FOLIO_LABELS_COCO_RESULTS (an
 * array whose first element has "image_id", "category_id" and "bbox" or
 * "score"), or 0 for any other JSON. FOLIO_EINVAL if text is not JSON.
 * The same rule decides auto-detection and `folio import --format coco`.
 */
int folio_labels_sniff(folio_label_format *out, const char *text, size_t len);

/*
 * A label source as .folio/dataset.json declares it ("labels": [...]).
 * Strings are malloc'd; NULL when absent.
 */
typedef struct folio_label_source {
	folio_label_format format;
	char *path;        /* file or folder, dataset-relative; "" is the root */
	char *images;      /* folder images are resolved against first, or NULL */
	char *names;       /* YOLO: class names file, or NULL (searched) */
	char *gt;          /* COCO results: the COCO instances file, or NULL */
	char *split;       /* split for every image of the source, or NULL */
	char *labeler;     /* default labeler of the source's objects, or NULL */
	int prediction;    /* 1: model output */
} folio_label_source;

void folio_label_source_clear(folio_label_source *src);

/*
 * The text of a .folio/dataset.json with sources and classes merged in.
 * old is the current file (NULL: there is none; then the new file gets
 * "auto": true when new_auto is set, so that labels of other files keep
 * being detected). A source with the same format and path as an old one
 * replaces it; classes not there yet are appended; other members are kept
 * and an "expectations" object is added if absent. *out (malloc'd, ends
 * in a newline, *len bytes) is pretty-printed JSON. FOLIO_EINVAL when old
 * is not a JSON object or its "labels" is not an array (name says which
 * file, for the message).
 */
int folio_dataset_json_merge(char **out, size_t *len, const char *name, const char *old,
			     size_t oldlen, const folio_label_source *sources, size_t nsources,
			     char *const *classes, size_t nclasses, int new_auto);

/*
 * A summary of a label set, as `folio labels` prints it. Per-class
 * counts are indexed like set->classes; per-format ones by
 * folio_label_format. Split names point into the set.
 */
typedef struct folio_label_split_count {
	const char *name;        /* the split, owned by the set */
	size_t images;           /* ground-truth images in it */
} folio_label_split_count;

typedef struct folio_label_summary {
	size_t images, objects;  /* ground truth: annotated images, their objects */
	size_t prediction_images, prediction_objects;
	size_t missing;          /* annotations whose image is not in the tree */
	size_t *class_objects;   /* ground-truth objects per class */
	size_t *class_predicted; /* predicted objects per class */
	struct {
		size_t images, objects;
		size_t files;    /* distinct label files (sources) */
	} formats[FOLIO_LABELS_FORMAT_END];
	folio_label_split_count *splits; /* in order of first appearance */
	size_t nsplits;
} folio_label_summary;

/* Computes the summary of set over the files of tree (for "missing"). */
int folio_labels_summary(folio_label_summary *out, const folio_labelset *set,
			 const folio_tree *tree);
void folio_label_summary_clear(folio_label_summary *s);

/* ---- IDX files: MNIST, Fashion-MNIST (labels/idx.c) ---- */

/* Largest decompressed IDX file read (Fashion-MNIST's train images: 47 MB). */
#define FOLIO_IDX_MAX ((size_t)2 << 30)

/*
 * Decodes one IDX file of unsigned bytes with ndims (1..3) dimensions from
 * its bytes, gzipped (magic 1f 8b) or not. Checks the magic (0, 0, 0x08,
 * ndims), that every size but the first is 1..4096, and that the data is
 * all there. *out (malloc'd) gets the data, dims[0] x ... x dims[ndims-1]
 * bytes (*len), and dims the sizes. Data that decompresses to more than
 * max bytes is refused. name names the file in messages; FOLIO_EINVAL for
 * anything malformed.
 */
int folio_idx_decode(unsigned char **out, size_t *len, uint32_t dims[3], const void *data,
		     size_t size, int ndims, size_t max, const char *name);

/* One images file and its labels. */
typedef struct folio_idx_set {
	char *split;             /* "train" (train*), "test" (t10k*, test*), else the file's prefix */
	char *images, *labels;   /* the two files read */
	unsigned char *pixels;   /* count images of rows x cols grey bytes, row-major */
	unsigned char *classes;  /* per image, 0..9 */
	size_t count;            /* images (at most the limit) */
} folio_idx_set;

typedef struct folio_idx {
	folio_idx_set *sets;     /* by images file name */
	size_t nsets;
	int rows, cols;          /* the image size, the same in every set */
	int fashion;             /* 1: Fashion-MNIST (its folder says so or its labels match) */
} folio_idx;

/*
 * Reads every NAME-images-idx3-ubyte (or NAME-images.idx3-ubyte, gzipped
 * or not) in dir with its NAME-labels-idx1-ubyte. limit >= 0 keeps only
 * the first limit images of each file. Labels must be 0..9, counts and
 * image sizes must agree.
 */
int folio_idx_read(folio_idx *out, const char *dir, long limit);
void folio_idx_clear(folio_idx *idx);
/* The name of class label (0..9): Fashion-MNIST's, or the digit; NULL
 * past 9. */
const char *folio_idx_class(const folio_idx *idx, unsigned label);

/* ---- folio import: what to copy and what to declare (labels/import.c) ---- */

typedef enum folio_import_format {
	FOLIO_IMPORT_COCO = 1,
	FOLIO_IMPORT_COCO_RESULTS,
	FOLIO_IMPORT_VOC,
	FOLIO_IMPORT_YOLO,
	FOLIO_IMPORT_IMAGEFOLDER,
	FOLIO_IMPORT_NATIVE,
	FOLIO_IMPORT_IDX,
} folio_import_format;

/* Parses "coco", "coco-results", "voc", "yolo", "imagefolder", "native",
 * "idx". */
int folio_import_format_parse(folio_import_format *out, const char *name);

/* Warnings while planning (a skipped file, a missing image), one line. */
typedef void (*folio_labels_warn_cb)(const char *message, void *payload);

typedef struct folio_import_opts {
	const char *as;          /* dataset folder it goes to; NULL or "": the root */
	const char *images;      /* coco file: folder file_name is relative to (NULL: the JSON's) */
	const char *gt;          /* coco-results: dataset path of its instances file, or NULL */
	int prediction;          /* declare the sources as predictions */
	long limit;              /* idx: images per file; < 0: all */
	folio_labels_warn_cb warn; /* may be NULL */
	void *payload;
} folio_import_opts;

/* One thing to copy: a file, a folder (copied whole) or generated pixels. */
typedef struct folio_import_file {
	char *src;               /* outside file or folder; NULL for idx images */
	int folder;              /* 1: src is a folder, its files go under dest */
	char *dest;              /* dataset path ("" for a folder: the root) */
	const unsigned char *pixels; /* idx: rows x cols grey pixels, in plan->idx */
} folio_import_file;

typedef struct folio_import_plan {
	folio_import_file *files;
	size_t nfiles, cap;
	folio_label_source *sources; /* to declare in .folio/dataset.json */
	size_t nsources;
	char **classes;          /* to declare (idx), or none */
	size_t nclasses;
	char *as;                /* the destination folder ("" the root) */
	folio_idx idx;           /* idx: the decoded files the pixels point into */
	size_t missing, refused; /* coco file: images not found, file_names refused */
} folio_import_plan;

/*
 * Decides what `folio import --format F SRC` copies and declares
 * (docs/labels.md, "folio import"), reading SRC but writing nothing.
 * FOLIO_ENOTFOUND when SRC does not exist, FOLIO_EINVAL when it is not
 * what the format wants.
 */
int folio_import_plan_make(folio_import_plan *out, folio_import_format format, const char *src,
			   const folio_import_opts *opts);
void folio_import_plan_clear(folio_import_plan *plan);

/*
 * The stage's new .folio/dataset.json after plan: old is the file in the
 * stage (NULL if none) and stage the staged tree before the import (a
 * new file gets "auto": true when the stage has files outside plan->as).
 */
int folio_import_dataset_json(char **out, size_t *len, const folio_import_plan *plan,
			      const char *old, size_t oldlen, const folio_tree *stage);

#endif
