/*
 * render.h — pictures for people (core/analysis/render.c): bar charts,
 * histograms, images with boxes drawn on them and contact sheets.
 *
 * Every function returns the encoded picture (PNG or JPEG) in a buffer
 * from malloc() that the caller releases with free(), or a negative
 * FOLIO_E* code with a one-line message. They are safe to call from
 * several threads at once. Text is drawn with libvips' Pango-based
 * vips_text; where libvips has no text support, they fail with FOLIO_EIO.
 */
#ifndef FOLIO_RENDER_H
#define FOLIO_RENDER_H

#include <stddef.h>

/* Bars drawn at most; more values are summed into a last "(other N)" bar. */
#define FOLIO_RENDER_BARS_MAX 200
/* Labels longer than this many bytes end in "…". */
#define FOLIO_RENDER_LABEL_MAX 40
/* Histogram bins allowed. */
#define FOLIO_RENDER_BINS_MAX 200
/* Mosaic: allowed cell sizes (px), images drawn at most. */
#define FOLIO_RENDER_CELL_MIN 16
#define FOLIO_RENDER_CELL_MAX 512
#define FOLIO_RENDER_MOSAIC_MAX 1024
/* Mosaic geometry: a gap of this many px around every cell, and a caption
 * strip of this height below each cell when captions are given. */
#define FOLIO_RENDER_MOSAIC_GAP 4
#define FOLIO_RENDER_MOSAIC_CAPTION 18

/*
 * A bar chart PNG, 800 px wide: one horizontal bar per label (in the order
 * given), its value printed at the bar end, title on top (NULL: none). n
 * may be 0 ("no data"). The height grows with the number of bars; past
 * FOLIO_RENDER_BARS_MAX the rest are summed into one "(other N)" bar.
 * Negative values grow left of a zero line; NaN and infinite values get
 * no bar, only their value.
 */
int folio_render_bars(void **out, size_t *len, const char *title,
		      const char *const *labels, const double *values, size_t n);

/*
 * A histogram PNG, 800x400, of values over [lo, hi] in `bins` bins
 * (1..FOLIO_RENDER_BINS_MAX; lo < hi, both finite). Values outside are
 * counted in the end bins; NaN is ignored. The x axis is labelled with lo,
 * the midpoint, hi and xlabel (may be NULL), the y axis with 0 and the
 * largest count.
 */
int folio_render_histogram(void **out, size_t *len, const char *title, const char *xlabel,
			   const double *values, size_t n, int bins, double lo, double hi);

typedef struct folio_render_box {
	double x, y, w, h;   /* pixels, top-left corner, in stored (unrotated) pixels */
	const char *label;   /* class name (and score) drawn above the box; may be NULL */
	unsigned color;      /* 0xRRGGBB; 0 = from a palette by hashing the label
			      * without a trailing number, so "cat 0.9" and
			      * "cat 0.4" get one colour */
} folio_render_box;

/*
 * The image file at `path` with the boxes drawn: an outline of
 * max(2, long side / 300) px inside the box edge, the label on a filled
 * background of the box colour above the box (inside it at the top edge),
 * kept inside the image. Output: JPEG (quality 90) when the input is JPEG,
 * PNG otherwise, same size as the input, no EXIF rotation applied.
 * Boxes are clipped to the image; boxes outside it, with w or h <= 0 or
 * with a NaN or infinite coordinate are skipped. Gray, 16-bit and alpha
 * inputs become 8-bit sRGB (alpha flattened onto white).
 *
 * `name` names the image in messages (e.g. the dataset path; NULL: path).
 * Errors: FOLIO_ENOTFOUND (no file), FOLIO_EINVAL (more than
 * FOLIO_FEATURES_MAX_PIXELS pixels), FOLIO_ECORRUPT (undecodable or
 * truncated).
 */
int folio_render_preview(void **out, size_t *len, const char *path, const char *name,
			 const folio_render_box *boxes, size_t n);

/*
 * A contact sheet JPEG: the first n (at most FOLIO_RENDER_MOSAIC_MAX)
 * images as thumbnails fitted into cells of `cell` px
 * (FOLIO_RENDER_CELL_MIN..MAX), EXIF-rotated and letterboxed on a dark
 * background, in a grid of `cols` columns (0: ceil(sqrt(n)); more than n:
 * n). With captions (may be NULL; entries may be NULL) each cell has a
 * caption strip below, shortened to the cell width. An image that is
 * missing, undecodable, truncated or too large becomes a gray cell saying
 * "unreadable"; that is not an error. n = 0 gives a small "empty set"
 * picture.
 *
 * Size: cols * cell + (cols + 1) * GAP wide, rows * (cell + caption) +
 * (rows + 1) * GAP high, caption being FOLIO_RENDER_MOSAIC_CAPTION or 0.
 * A sheet of more than FOLIO_FEATURES_MAX_PIXELS pixels is refused with
 * FOLIO_EINVAL.
 */
int folio_render_mosaic(void **out, size_t *len, const char *const *paths,
			const char *const *captions, size_t n, int cell, int cols);

#endif
