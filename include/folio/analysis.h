/*
 * analysis.h — per-object image features (core/analysis).
 *
 * Header facts (format, size, bands, EXIF orientation, decodability) come
 * from libvips' header read; pixel features come from a shrink-on-load
 * thumbnail (FOLIO_FEATURES_THUMB px on the long side). The exact formulas
 * are in docs/features.md. Features depend only on an object's bytes, so
 * folio_features_of() caches them by object id under
 * CACHE_DIR/features/ab/<62 hex>; no version ever recomputes an image
 * another version has already had analysed.
 *
 * This is the only module that includes <vips/vips.h>.
 */
#ifndef FOLIO_ANALYSIS_H
#define FOLIO_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "folio/oid.h"
#include "folio/store.h"

/* Long side of the analysis thumbnail, pixels. */
#define FOLIO_FEATURES_THUMB 80
/* Images with more pixels than this (from the header) are refused. */
#define FOLIO_FEATURES_MAX_PIXELS ((uint64_t)1 << 28)
/* Bump when any feature's definition changes: old cache files are ignored. */
#define FOLIO_FEATURES_VERSION 1

typedef struct folio_features {
	char format[8];        /* "jpeg", "png", "webp", ... from the loader */
	int width, height, bands; /* header values, before EXIF rotation */
	int orientation;       /* EXIF 1..8, 1 when absent */
	int decodable;         /* 0: header or pixels failed; error text in `error` */
	char error[128];
	int has_pixels;        /* pixel features below are valid */
	float brightness_mean; /* luma in [0,1] */
	float brightness_p05, brightness_p50, brightness_p95; /* [0,1] */
	float contrast_rms;    /* stddev of luma, [0,1] */
	float sharpness;       /* variance of the Laplacian of luma (0..255 scale) */
	float blurriness;      /* [0,1], 100 / (100 + sharpness); higher = blurrier */
	float entropy;         /* Shannon entropy of the 256-bin luma histogram, bits */
	float colorfulness;    /* Hasler–Süsstrunk M on the thumbnail (0..255 scale) */
	int grayscale;         /* 1 if all pixels have |R-G|,|G-B| <= 12 */
	uint64_t phash, dhash; /* 64-bit DCT pHash and difference hash */
} folio_features;

/* VIPS_INIT once (pthread_once); vips operation cache off, concurrency 1
 * per operation (parallelism comes from folio_features_many). */
int folio_analysis_init(void);

/*
 * Computes features of an image file / in-memory image. With pixels 0 only
 * the header facts are filled. An undecodable image is not an error: the
 * call returns 0 with decodable = 0 and the reason in out->error. Negative
 * codes are for a missing file or bad arguments.
 */
int folio_features_compute_file(folio_features *out, const char *path, int pixels);
int folio_features_compute_buf(folio_features *out, const void *buf, size_t len,
			       int pixels);

/*
 * Features of a stored object, cached by object id in features_dir (NULL:
 * no cache; the repository's is folio_cache_path(FOLIO_CACHE_FEATURES)), as
 * <2 hex>/<62 hex>. A cache file made without pixels is recomputed when pixels
 * are asked for; a corrupt, short or old-version one is recomputed.
 */
int folio_features_of(folio_features *out, folio_store *store,
		      const folio_oid *oid, const char *features_dir, int pixels);

/*
 * folio_features_of() for n objects with a pool of threads (<= 0: one per
 * CPU). out has n entries. progress (may be NULL) is called after each
 * object, never concurrently. All objects are attempted; the first
 * failure's code and message are returned.
 */
int folio_features_many(folio_features *out, folio_store *store,
			const folio_oid *oids, size_t n, const char *features_dir,
			int pixels, int threads,
			void (*progress)(size_t done, void *), void *payload);

/*
 * Encodes width x height 8-bit grey pixels (row-major, no padding) as a PNG
 * (metadata stripped) in *out, malloc'd, *len bytes; the caller frees it.
 * Safe from many threads at once; the pixels are not copied.
 */
int folio_image_encode_png_gray(void **out, size_t *len, const unsigned char *pixels, int width,
				int height);

/* Hamming distance between two 64-bit hashes (0..64). */
int folio_phash_distance(uint64_t a, uint64_t b);

/* How many images this process has decoded (cache misses included, cache
 * hits not); for statistics and tests. */
uint64_t folio_analysis_computed(void);

#endif
