/*
 * export.h — dataset export serializers: the inverse of the label adapters
 * (labels.h). Given the images of a view and their ground truth, they
 * produce the text of a COCO instances file, YOLO label files and
 * data.yaml, Pascal VOC XML files, a manifest.csv and a files.txt.
 *
 * Everything here is pure and in memory: no file is read or written, so the
 * FUSE front end, the CLI and the tests can each decide where the text
 * goes. docs/exports.md describes the layouts, the coordinate conventions
 * and what is skipped and why; the output of each function reads back
 * through folio_labels_load() to the same boxes and classes.
 *
 * Every function returns 0 or a negative FOLIO_E* code with a one-line
 * message (folio_error_last()). *out is a malloc'd NUL-terminated buffer
 * of *len bytes (the NUL not counted) that the caller frees; on failure it
 * is NULL. An output larger than 1 GiB is refused (FOLIO_EINVAL).
 */
#ifndef FOLIO_EXPORT_H
#define FOLIO_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "folio/labels.h"

typedef struct folio_export_item {
	const char *path;               /* dataset-relative image path, e.g. "images/a/001.jpg" */
	const char *sha256;             /* 64 lowercase hex of the content */
	uint64_t size;                  /* bytes */
	int width, height;              /* image size from its header; 0 when unknown */
	int depth;                      /* bands, 0 when unknown (VOC <depth>, default 3) */
	const folio_annotation *gt;     /* ground truth or NULL (unlabelled image) */
} folio_export_item;

/*
 * COCO instances JSON. images: one per item that has ground truth (an
 * unlabelled item is left out: listed, it would read back as a labelled
 * image without objects), id from 1 in item order, file_name = path,
 * width and height (0 when unknown). annotations: one per boxed object, id
 * from 1, bbox [x, y, w, h] in pixels, area = w * h, iscrowd (0 unless the
 * object's attributes say otherwise), the other attributes as
 * "attributes", and score only when has_score. categories: id from 1 in
 * classes[] order (a repeated name keeps its first id), supercategory
 * "none", then the classes of objects missing from classes[], in order of
 * first use. *skipped (may be NULL) receives the number of boxes that could
 * not be placed: fractions of an unknown image size, not finite, or of
 * negative size.
 */
int folio_export_coco(char **out, size_t *len, size_t *skipped, const folio_export_item *items,
		      size_t n, char *const *classes, size_t nclasses);

/*
 * YOLO label text of one image: "cls cx cy w h\n" per boxed object, in
 * fractions of the image size clipped to [0, 1], 6 decimals; cls is the
 * position of the object's class in classes[]. Skipped and counted in
 * *skipped (may be NULL): objects whose class is not in classes[], boxes
 * in pixels of an image of unknown size, and boxes wholly outside the
 * image. Image-level objects (no box) are left out uncounted. An item
 * without ground truth gives "" (the caller decides whether to write it:
 * an empty label file reads back as an image without objects).
 */
int folio_export_yolo_label(char **out, size_t *len, size_t *skipped, const folio_export_item *it,
			    char *const *classes, size_t nclasses);

/*
 * data.yaml for an export laid out as images/<path> and labels/<path with
 * extension .txt>: train and val "images", nc, names as a list (names that
 * YAML would read as something else, or that need escaping, are double-
 * quoted). No "path": Ultralytics then takes the folder of data.yaml as
 * the root, whatever the working directory.
 */
int folio_export_yolo_yaml(char **out, size_t *len, char *const *classes, size_t nclasses);

/*
 * Pascal VOC XML of one image: folder (empty), filename (the base name),
 * path, size (depth 3 when unknown), segmented 0, and one <object> per
 * boxed object with pose, truncated, difficult (and occluded when set)
 * from its attributes. Coordinates are written as core/labels/voc.c reads
 * them: xmin = x, ymin = y, xmax = x + w, ymax = y + h, in pixels with no
 * 1-based shift. *skipped (may be NULL) receives the number of boxes that
 * could not be placed (as for COCO).
 */
int folio_export_voc(char **out, size_t *len, size_t *skipped, const folio_export_item *it);

/*
 * manifest.csv: "path,sha256,size,width,height,classes", then one row per
 * item; width and height empty when unknown; classes the distinct ground
 * truth class names of the image, sorted bytewise, joined by ';'. Fields
 * with , " CR or LF are quoted as RFC 4180 says; lines end in LF.
 */
int folio_export_manifest(char **out, size_t *len, const folio_export_item *items, size_t n);

/*
 * files.txt: prefix + "/" + path, one a line. prefix must be absolute and
 * have no line break (trailing '/' are dropped). Paths with a line break
 * (LF or CR) are skipped and counted in *skipped (may be NULL).
 */
int folio_export_files(char **out, size_t *len, size_t *skipped, const char *prefix,
		       const folio_export_item *items, size_t n);

#endif
