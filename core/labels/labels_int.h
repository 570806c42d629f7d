/*
 * labels_int.h — what the files of core/labels share: the builder that
 * accumulates one label set, the description of a label source, path
 * resolution, and the per-format adapters.
 *
 * One folio_labels_load call owns one builder (struct labels_builder); nothing here is
 * shared between threads. Adapters report problems in a label file with
 * labels_error (file and line) and go on; they return a negative FOLIO_E* code
 * only for failures that must stop the whole load (out of memory, I/O).
 */
#ifndef FOLIO_LABELS_INT_H
#define FOLIO_LABELS_INT_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>

#include "folio/labels.h"

/* At most this many errors are kept per label file; the rest are counted
 * in one closing message. */
#define LABELS_MAX_ERRORS_PER_FILE 50

/* One label source: declared in .folio/dataset.json or auto-detected. */
typedef folio_label_source labels_source;

/* Ids of one parsed COCO instances file, kept for COCO results files. */
typedef struct labels_coco_ids {
	char *file;            /* the instances file */
	int64_t *img_id;       /* sorted; img_path[i] belongs to img_id[i] */
	char **img_path;
	size_t nimg;
	int64_t *cat_id;       /* sorted; cat_name[i] belongs to cat_id[i] */
	char **cat_name;
	size_t ncat;
} labels_coco_ids;

/* A YOLO class names file, parsed once. */
typedef struct labels_names {
	size_t entry;      /* index in the tree */
	int parsed;        /* 0 not yet, 1 ok, -1 unusable (error recorded) */
	int is_names;      /* a .yaml without "names" is not a names file */
	int registered;    /* its names were added to the class list */
	char **v;
	size_t n;
} labels_names;

typedef struct labels_builder {
	const folio_tree *tree;
	folio_labels_read_cb read;
	void *payload;
	folio_labelset *set;
	size_t ann_cap, err_cap, cls_cap;

	size_t *cls_slots;     /* open addressing: index + 1 into set->classes */
	size_t cls_nslots;

	unsigned char *used;   /* per tree entry: 1 once read as a label file */

	size_t *stems;         /* image entries sorted by path without extension */
	size_t nstems;
	size_t *bases;         /* image entries sorted by base name (lazy) */
	size_t nbases;
	int bases_built;

	labels_coco_ids *cocos;
	size_t ncocos;

	labels_names *names;       /* YOLO names file candidates */
	size_t nnames;
	char *names_dir;       /* the folder last looked up ... */
	labels_names *names_hit;   /* ... and what it found (may be NULL) */

	int ngt_sources;       /* ground-truth sources that gave annotations */

	/* error throttling for the file being read */
	char *cur_file;
	int cur_errors;
	int cur_dropped;
} labels_builder;

/* ---- builder (labels.c) ---- */

/* Records an error in file at line (0: unknown). Returns 0, or
 * FOLIO_ENOMEM. */
int labels_error(labels_builder *b, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Reads a tree entry's content (NUL-terminated, len excludes the NUL) and
 * marks it used. Returns 0, 1 when the file was skipped with an error
 * recorded, or a fatal negative code. */
int labels_read(labels_builder *b, size_t entry, char **text, size_t *len);

/* Appends an annotation, taking ownership of *a (also on failure, when it
 * is freed). Registers its objects' classes. */
int labels_push(labels_builder *b, folio_annotation *a);

/* Appends a copy of o's fields (ownership of o's strings moves to a). */
int labels_add_object(folio_annotation *a, folio_object *o);

/* Appends a tag (taking ownership, freed on failure). */
int labels_add_tag(folio_annotation *a, char *tag);

/* Registers a class name (deduplicated, order kept). */
int labels_class(labels_builder *b, const char *name);
/* The same, with what the source says about it (its id, when has_id, and
 * supercategory, may be NULL); the first source that says it wins. */
int labels_class_meta(labels_builder *b, const char *name, int has_id, int64_t id,
		      const char *supercategory);

void labels_annotation_clear(folio_annotation *a);
void labels_object_clear(folio_object *o);

/* Index of a tree entry by path, or -1. */
long labels_find(const labels_builder *b, const char *path);

/* ---- paths (paths.c) ---- */

/* 1 if the name ends in an image extension. */
int labels_is_image(const char *path);

/* Folder part of path ("" for a top-level file), malloc'd. */
char *labels_dirname(const char *path);
/* Pointer to the base name inside path. */
const char *labels_basename(const char *path);
/* "a" + "b" -> "a/b"; "" + "b" -> "b". malloc'd. */

/*
 * Turns a path written inside a label file into a clean relative path
 * ('\' taken as '/', "." and empty parts dropped). Refuses (FOLIO_EINVAL,
 * *why set) absolute paths, any ".." part, and what folio_path_validate
 * refuses. *out is malloc'd.
 */
int labels_clean_path(char **out, const char *raw, const char **why);

/*
 * Finds the image a label file names. rel is a clean relative path; each
 * folder of bases (NULL-terminated, NULLs inside skipped) is tried in
 * order, then a file of the version whose path ends in "/rel". If nothing
 * exists, *out is bases' first folder joined with rel. Returns 0 or
 * FOLIO_ENOMEM.
 */
int labels_resolve_image(labels_builder *b, char **out, const char *rel, const char *const *bases,
		     size_t nbases);

/* The image with path stem (path without its extension) in the tree, or
 * -1 (several: the first). */
long labels_image_by_stem(const labels_builder *b, const char *stem);

/* dir with its last component named from replaced by to, or NULL if it
 * has none ("x/labels/train", "labels", "images" -> "x/images/train"). */
char *labels_mirror(const char *dir, const char *from, const char *to);

/* Split named by the folders of path (train, val, test and their usual
 * spellings, also with digits after: train2017), looking only at the
 * first len bytes; NULL if none. Returns a static string. */
const char *labels_split_from_path(const char *path, size_t len);

/* ---- outside files (import.c) ---- */

/* Reads a whole file outside the dataset (NUL-terminated, *len excludes
 * the NUL); FOLIO_EINVAL if it has more than max bytes. */
int labels_slurp(unsigned char **out, size_t *len, const char *path, size_t max);

/* ---- JSON helpers (json.c) ---- */

/* Parses text; on a syntax error records it with its line and returns
 * NULL. *fatal is set on out of memory. */
cJSON *labels_json_parse(labels_builder *b, const char *file, const char *text, size_t len,
			 int *fatal);

/* One step of a path into a JSON document: a member key, or an index
 * when key is NULL. */
typedef struct labels_jstep {
	const char *key;
	size_t index;
} labels_jstep;

/* 1-based line where the value at path starts in text (which parsed),
 * 0 if it cannot be found. */
int labels_json_line(const char *text, size_t len, const labels_jstep *path, size_t n);

/* A box from a JSON array of 4 finite numbers [x, y, w, h] with w, h >= 0;
 * -1 with *why set if it is not one. */
int labels_json_box(folio_box *out, const cJSON *arr, const char **why);

/* ---- adapters ---- */

int labels_native_file(labels_builder *b, const labels_source *src, size_t entry, const char *text,
		   size_t len, cJSON *root);
/* 1 if a parsed JSON document is a folio native label file. */
int labels_native_is(const cJSON *root);

int labels_coco_file(labels_builder *b, const labels_source *src, size_t entry, const char *text,
		 size_t len, cJSON *root);
int labels_coco_results_file(labels_builder *b, const labels_source *src, size_t entry,
			     const char *text,
			 size_t len, cJSON *root);
int labels_coco_is(const cJSON *root);
int labels_coco_results_is(const cJSON *root);
/* What a COCO instances file must have, for messages. */
#define LABELS_COCO_NEEDS "needs \"images\", \"annotations\" and \"categories\" arrays"
/* The JSON label format of a parsed document (folio_labels_sniff), or 0. */
folio_label_format labels_sniff_root(const cJSON *root);
void labels_coco_ids_clear(labels_coco_ids *c);

int labels_voc_file(labels_builder *b, const labels_source *src, size_t entry, const char *text,
		size_t len, int declared);

/* YOLO: finds the names file candidates of the tree (once). */
int labels_yolo_scan_names(labels_builder *b);
/* The names file that applies to a label file in dir (searching dir and
 * its parents), parsed; NULL if none. *fatal on out of memory. */
labels_names *labels_yolo_names_for(labels_builder *b, const char *dir, int *fatal);
/* Parses one names file given by path; NULL with an error recorded. */
labels_names *labels_yolo_names_at(labels_builder *b, const char *path, int *fatal);
/* The image a YOLO label file describes, or NULL (malloc'd). */
char *labels_yolo_image_for(labels_builder *b, const char *label, const char *images_dir,
			const char *src_path);
int labels_yolo_file(labels_builder *b, const labels_source *src, size_t entry,
		     labels_names *names);
void labels_names_clear(labels_names *n);

int labels_imagefolder(labels_builder *b, const labels_source *src);
int labels_imagefolder_detect(labels_builder *b);

#endif
