/*
 * index.h — the per-version sample table (core/index).
 *
 * A sample is an image file of a version with its features and labels.
 * The table of a version holds one row per image (path, object id, size,
 * compact features, links to its ground-truth and predicted annotation)
 * and the version's whole label set in compact form (annotations, objects,
 * tags, one string pool), including annotations of images the version
 * does not hold, so that a later version that adds such an image finds
 * its label.
 *
 * Workload: a table is built once per tree and read many times (every
 * @where, @by, export and statistics of that version and of the stage).
 * So it is cached whole in REPO/cache/index/<key>.idx, keyed by a SHA-256
 * of the tree's (path, mode, object id) list, in a layout that loads with
 * one read and a few pointer fix-ups (100,000 samples: ~15 MB).
 *
 * Building is incremental: rows whose (path, object id) are in a base
 * table (the previous version's, or the last table built) copy their
 * features from it; the rest come from the per-object feature cache or
 * are computed in parallel. The label part is copied whole from the base
 * when every non-image file is unchanged and no label came from an
 * image's folder name (ImageFolder); otherwise the labels are re-parsed.
 * A commit that changes 5% of the images therefore costs about 5% of a
 * full build.
 *
 * A table is immutable once built: any number of threads may read it.
 */
#ifndef FOLIO_INDEX_H
#define FOLIO_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "folio/labels.h"
#include "folio/oid.h"
#include "folio/repo.h"
#include "folio/tree.h"

#define FOLIO_NONE UINT32_MAX

/* Bump when the layout or meaning of a table changes. */
#define FOLIO_INDEX_VERSION 3

/* One ground-truth object or prediction. */
typedef struct folio_iobject {
	uint32_t cls;            /* string (offset into lpool) */
	uint32_t labeler;        /* string or FOLIO_NONE */
	float x, y, w, h;        /* pixels, top-left; fractions if the annotation is relative */
	float score;             /* [0,1] when has_score */
	uint8_t has_box, has_score;
	uint8_t flags;           /* FOLIO_OBJ_* */
	uint8_t has_area;
	uint32_t shape;          /* its segmentation: offset into gpool, or FOLIO_NONE */
	float area;              /* the source's area, when has_area */
} folio_iobject;

/* What the label set says about a class (folio_class_info, compact). */
typedef struct folio_iclass {
	int64_t id;              /* when has_id */
	uint32_t super;          /* supercategory (string) or FOLIO_NONE */
	uint8_t has_id;
	uint8_t pad[3];
} folio_iclass;

/* One annotation (the labels of one image, ground truth or predictions). */
typedef struct folio_iann {
	uint32_t image;          /* dataset path (string) */
	uint32_t source;         /* label file (string) */
	uint32_t obj_first, obj_count;  /* range in objs[] */
	uint32_t tag_first, tag_count;  /* range in tags[] (strings) */
	uint32_t split;          /* string or FOLIO_NONE */
	int32_t width, height;   /* as the label file states; 0 unknown */
	uint8_t prediction;      /* 1: model output */
	uint8_t relative;        /* boxes are fractions (YOLO, size unknown) */
	uint8_t format;          /* folio_label_format */
	uint8_t pad;
} folio_iann;

/* Compact image features (analysis.h has the definitions). */
typedef struct folio_ifeat {
	char format[8];
	int32_t width, height;
	uint8_t bands, orientation, decodable, has_pixels, grayscale, known;
	uint8_t pad[2];
	float brightness_mean, brightness_p05, brightness_p50, brightness_p95;
	float contrast_rms, sharpness, blurriness, entropy, colorfulness;
	uint64_t phash, dhash;
} folio_ifeat;

typedef struct folio_sample {
	uint64_t size;           /* bytes */
	folio_oid oid;
	uint32_t path;           /* offset into spool */
	uint32_t mode;
	uint32_t gt, pred;       /* index in anns[] or FOLIO_NONE */
	folio_ifeat f;           /* f.known = 0: features not computed */
} folio_sample;

typedef struct folio_ierror {
	uint32_t file, message;  /* strings */
	int32_t line;
} folio_ierror;

typedef struct folio_index {
	folio_oid key;           /* the tree key */
	int pixels;              /* pixel features were computed */
	folio_sample *samples;   /* sorted by path */
	size_t nsamples;
	folio_iann *anns;        /* sorted by (image path, prediction) */
	size_t nanns;
	folio_iobject *objs;
	size_t nobjs;
	uint32_t *tags;          /* strings */
	size_t ntags;
	uint32_t *classes;       /* strings, in label-set order */
	folio_iclass *class_info; /* parallel to classes */
	size_t nclasses;
	folio_ierror *errors;
	size_t nerrors;
	char *spool;             /* sample paths, NUL-separated */
	size_t spool_len;
	char *lpool;             /* label strings, NUL-separated */
	size_t lpool_len;
	unsigned char *gpool;    /* segmentations, 4-byte aligned records */
	size_t gpool_len;
	folio_oid label_inputs;  /* hash of every non-image (path, oid) */
	int imagefolder;         /* some label came from a folder name */
	void *mem;               /* the loaded file, when loaded from cache */
} folio_index;

typedef struct folio_index_opts {
	int pixels;              /* compute pixel features (default in CLI/daemon: 1) */
	int threads;             /* <= 0: one per core */
	const folio_tree *base;  /* a tree whose cached table may be reused, or NULL */
	int no_save;             /* do not write the table to the cache */
	void (*progress)(size_t done, size_t total, void *payload);
	void *payload;
} folio_index_opts;

/* What the last folio_index_open did (for benchmarks and tests). */
typedef struct folio_index_stats {
	int cached;              /* loaded from REPO/cache/index */
	int base_used;           /* a base table was found */
	int labels_reused;       /* label part copied from the base */
	size_t features_reused;  /* rows copied from the base */
	size_t features_loaded;  /* from the per-object cache or computed */
	uint64_t computed;       /* images decoded */
	double seconds;
} folio_index_stats;

/* The key of a tree (SHA-256 of its path, mode and object id list). */
void folio_index_key(folio_oid *out, const folio_tree *tree);

/*
 * The table of tree: loaded from REPO/cache/index when cached (a table
 * with pixel features serves a request without), else built (from
 * opts->base's or the last built table when cached) and saved. stats may
 * be NULL. Label problems are not errors: they are in out->errors.
 */
int folio_index_open(folio_index **out, folio_index_stats *stats, folio_repo *repo,
		     const folio_tree *tree, const folio_index_opts *opts);
void folio_index_free(folio_index *ix);

static inline const char *folio_index_path(const folio_index *ix, const folio_sample *s)
{
	return ix->spool + s->path;
}
static inline const char *folio_index_str(const folio_index *ix, uint32_t id)
{
	return id == FOLIO_NONE ? NULL : ix->lpool + id;
}
/* Index of the sample with this path, or -1. */
long folio_index_find(const folio_index *ix, const char *path);
/* The distinct classes of annotation ann (FOLIO_NONE: none), in the order
 * they first occur: up to max string ids into out. Returns how many there
 * are (which may be more than max). Class strings are interned, so equal
 * names have equal ids. */
size_t folio_index_classes(uint32_t *out, size_t max, const folio_index *ix, uint32_t ann);
/* Fills a label-set annotation for export (boxes and polygons in pixels
 * when the sample's size is known; segmentations are copies). Free with
 * folio_index_annotation_clear. */
int folio_index_annotation(folio_annotation *out, const folio_index *ix, uint32_t ann,
			   const folio_sample *s);
void folio_index_annotation_clear(folio_annotation *a);

#endif
