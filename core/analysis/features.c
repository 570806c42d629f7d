/*
 * features.c — image features of one image, with libvips.
 *
 * Owns the libvips side of folio: init, the header read, the shrink-on-load
 * thumbnail and the pixel statistics computed on it. The workload is many
 * ~100 KB photos, each analysed once (core/analysis/cache.c caches by object
 * id), so the cost that matters is decoding: the thumbnail is made with
 * vips_thumbnail straight from the file or buffer, which lets the JPEG
 * loader decode at 1/2, 1/4 or 1/8 scale. Everything after that runs on at
 * most FOLIO_FEATURES_THUMB^2 pixels in plain C, which is cheaper than
 * building more vips pipelines. Formulas: docs/features.md.
 *
 * libvips' error buffer is process-wide; messages are copied out right
 * after a failing call. Under heavy concurrency two threads' messages may
 * be mixed in one text; the codes and decodable flags are never mixed.
 */
#include <vips/vips.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "folio/analysis.h"
#include "folio/error.h"

#define GRAY_THRESHOLD 12   /* max |R-G|, |G-B| of a grayscale pixel, 0..255 */
#define BLUR_SCALE 100.0    /* sharpness at which blurriness is 0.5 */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result;
static uint64_t computed;   /* images decoded; atomic builtins only */

/*
 * libvips warns through GLib (log domain "VIPS") as it meets damage in a
 * file: "not enough data", "error in tile 0 x 48", a PNG chunk too large.
 * Loaders run with fail_on = warning, so the same damage also makes the
 * load fail, and that failure reaches the user as the image's error
 * (features.error, with the file's name, in `folio index` and the views).
 * The bare warning -- no file name, printed from a libvips worker thread
 * to stderr, which is the daemon's log -- adds only noise there, so it is
 * printed only with FOLIO_DEBUG=1, as "folio: libvips: <text>". GLib's
 * criticals and errors (bugs, not bad files) keep the default handler.
 */
static int show_vips_warnings;

static void vips_warning(const gchar *domain, GLogLevelFlags level, const gchar *msg,
			 gpointer data)
{
	(void)domain;
	(void)level;
	(void)data;
	if (show_vips_warnings)
		fprintf(stderr, "folio: libvips: %s\n", msg);
}

static void do_init(void)
{
	const char *debug = getenv("FOLIO_DEBUG");

	if (VIPS_INIT("folio")) {
		init_result = -1;
		return;
	}
	show_vips_warnings = debug && *debug && strcmp(debug, "0") != 0;
	g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE,
			  vips_warning, NULL);
	vips_cache_set_max(0);
	vips_cache_set_max_mem(0);
	vips_concurrency_set(1);
	init_result = 0;
}

int folio_analysis_init(void)
{
	pthread_once(&init_once, do_init);
	if (init_result)
		return folio_error_set(FOLIO_ERROR, "libvips: init failed: %s",
				       vips_error_buffer());
	return 0;
}

uint64_t folio_analysis_computed(void)
{
	return __atomic_load_n(&computed, __ATOMIC_RELAXED);
}

int folio_phash_distance(uint64_t a, uint64_t b)
{
	return __builtin_popcountll(a ^ b);
}

/* Copies libvips' error text (first line) into out->error and marks the
 * image undecodable. */
static void undecodable(folio_features *out, const char *what)
{
	char *msg = vips_error_buffer_copy(); /* and clears it */
	const char *m = msg ? msg : "";
	size_t n;

	/* the buffer is process-wide: its last line is the most recent */
	size_t len = strlen(m);
	while (len > 0 && m[len - 1] == '\n')
		len--;
	for (size_t i = len; i > 0; i--)
		if (m[i - 1] == '\n') {
			m += i;
			break;
		}
	n = strcspn(m, "\n");

	out->decodable = 0;
	out->has_pixels = 0;
	snprintf(out->error, sizeof out->error, "%s: %.*s", what, (int)n, m);
	g_free(msg);
}

/* "jpegload_buffer" -> "jpeg". */
static void set_format(folio_features *out, VipsImage *img)
{
	const char *loader = NULL;
	size_t n;

	if (vips_image_get_typeof(img, VIPS_META_LOADER) &&
	    !vips_image_get_string(img, VIPS_META_LOADER, &loader) && loader) {
		const char *end = strstr(loader, "load");
		n = end ? (size_t)(end - loader) : strlen(loader);
		if (n >= sizeof out->format)
			n = sizeof out->format - 1;
		memcpy(out->format, loader, n);
		out->format[n] = '\0';
	} else {
		snprintf(out->format, sizeof out->format, "unknown");
	}
}

/* ---- pixel statistics on the 8-bit sRGB thumbnail ---------------------- */

/* Area-average resample of a float plane sw x sh to dw x dh (aspect ratio
 * not kept). Each output pixel averages the source pixels whose index lies
 * in [floor(o*s/d), floor((o+1)*s/d)), at least one. */
static void resample(float *dst, int dw, int dh, const float *src, int sw, int sh)
{
	for (int oy = 0; oy < dh; oy++) {
		int y0 = (int)((long)oy * sh / dh), y1 = (int)((long)(oy + 1) * sh / dh);
		if (y1 <= y0)
			y1 = y0 + 1;
		for (int ox = 0; ox < dw; ox++) {
			int x0 = (int)((long)ox * sw / dw), x1 = (int)((long)(ox + 1) * sw / dw);
			double sum = 0;
			if (x1 <= x0)
				x1 = x0 + 1;
			for (int y = y0; y < y1; y++)
				for (int x = x0; x < x1; x++)
					sum += src[(size_t)y * sw + x];
			dst[oy * dw + ox] = (float)(sum / ((double)(y1 - y0) * (x1 - x0)));
		}
	}
}

/* The same area average for 3-band bytes, rounding to nearest. */
static void resample_rgb(unsigned char *dst, int dw, int dh, const unsigned char *src,
			 int sw, int sh)
{
	for (int oy = 0; oy < dh; oy++) {
		int y0 = (int)((long)oy * sh / dh), y1 = (int)((long)(oy + 1) * sh / dh);
		if (y1 <= y0)
			y1 = y0 + 1;
		for (int ox = 0; ox < dw; ox++) {
			int x0 = (int)((long)ox * sw / dw), x1 = (int)((long)(ox + 1) * sw / dw);
			unsigned sum[3] = {0, 0, 0}, cnt;
			if (x1 <= x0)
				x1 = x0 + 1;
			cnt = (unsigned)((y1 - y0) * (x1 - x0));
			for (int y = y0; y < y1; y++)
				for (int x = x0; x < x1; x++)
					for (int c = 0; c < 3; c++)
						sum[c] += src[((size_t)y * sw + x) * 3 + c];
			for (int c = 0; c < 3; c++)
				dst[((size_t)oy * dw + ox) * 3 + c] =
					(unsigned char)((sum[c] + cnt / 2) / cnt);
		}
	}
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x > y) - (x < y);
}

/* pHash: 32x32 luma, 2D DCT-II, the top-left 8x8 coefficients; bit i
 * (row-major, u*8+v) is set when coefficient i exceeds the median of the
 * 63 AC coefficients of that block. */
static uint64_t phash(const float *luma, int w, int h)
{
	double cosines[8][32];
	float small[32 * 32], ac[63];
	double rows[32][8], coef[64];
	float median;
	uint64_t bits = 0;

	for (int u = 0; u < 8; u++)
		for (int x = 0; x < 32; x++)
			cosines[u][x] = cos(M_PI / 32.0 * (x + 0.5) * u);
	resample(small, 32, 32, luma, w, h);
	/* rows: for every image row y, the first 8 DCT coefficients along x */
	for (int y = 0; y < 32; y++)
		for (int v = 0; v < 8; v++) {
			double s = 0;
			for (int x = 0; x < 32; x++)
				s += small[y * 32 + x] * cosines[v][x];
			rows[y][v] = s;
		}
	for (int u = 0; u < 8; u++)
		for (int v = 0; v < 8; v++) {
			double s = 0;
			for (int y = 0; y < 32; y++)
				s += rows[y][v] * cosines[u][y];
			coef[u * 8 + v] = s;
		}
	for (int i = 1; i < 64; i++)
		ac[i - 1] = (float)coef[i];
	qsort(ac, 63, sizeof ac[0], cmp_float);
	median = ac[31];
	for (int i = 0; i < 64; i++)
		if (coef[i] > median)
			bits |= (uint64_t)1 << i;
	return bits;
}

/* dHash: 9x8 luma; bit y*8+x set when pixel (x, y) is darker than (x+1, y). */
static uint64_t dhash(const float *luma, int w, int h)
{
	float small[9 * 8];
	uint64_t bits = 0;

	resample(small, 9, 8, luma, w, h);
	for (int y = 0; y < 8; y++)
		for (int x = 0; x < 8; x++)
			if (small[y * 9 + x] < small[y * 9 + x + 1])
				bits |= (uint64_t)1 << (y * 8 + x);
	return bits;
}

/* px: w*h pixels of 3 bytes (sRGB). Fills the pixel features. */
static int pixel_stats(folio_features *out, const unsigned char *px, int w, int h)
{
	size_t n = (size_t)w * h;
	float *luma = malloc(n * sizeof *luma);
	uint64_t hist[256] = {0};
	double sum = 0, sum2 = 0;
	double rg_s = 0, rg_s2 = 0, yb_s = 0, yb_s2 = 0;
	int gray = 1;

	if (!luma)
		return folio_error_set(FOLIO_ENOMEM, "features: out of memory");
	for (size_t i = 0; i < n; i++) {
		int r = px[3 * i], g = px[3 * i + 1], b = px[3 * i + 2];
		/* Rec. 601 luma on gamma-encoded sRGB values */
		float y = 0.299f * r + 0.587f * g + 0.114f * b;
		int bin = (int)(y + 0.5f);
		double rg = r - g, yb = 0.5 * (r + g) - b;

		luma[i] = y;
		hist[bin > 255 ? 255 : bin]++;
		sum += y;
		sum2 += (double)y * y;
		rg_s += rg;
		rg_s2 += rg * rg;
		yb_s += yb;
		yb_s2 += yb * yb;
		if (abs(r - g) > GRAY_THRESHOLD || abs(g - b) > GRAY_THRESHOLD)
			gray = 0;
	}

	double mean = sum / n;
	double var = sum2 / n - mean * mean;
	out->brightness_mean = (float)(mean / 255.0);
	out->contrast_rms = (float)(sqrt(var > 0 ? var : 0) / 255.0);

	/* percentiles: smallest bin whose cumulative count reaches q*n */
	const double qs[3] = {0.05, 0.50, 0.95};
	float *dst[3] = {&out->brightness_p05, &out->brightness_p50, &out->brightness_p95};
	for (int k = 0; k < 3; k++) {
		uint64_t cum = 0;
		double need = qs[k] * n;
		int b = 0;
		for (; b < 255; b++) {
			cum += hist[b];
			if ((double)cum >= need)
				break;
		}
		*dst[k] = (float)(b / 255.0);
	}

	double ent = 0;
	for (int b = 0; b < 256; b++)
		if (hist[b]) {
			double p = (double)hist[b] / n;
			ent -= p * log2(p);
		}
	out->entropy = (float)ent;

	/* Laplacian [0 1 0; 1 -4 1; 0 1 0] over interior pixels */
	double ls = 0, ls2 = 0;
	size_t ln = 0;
	for (int y = 1; y + 1 < h; y++)
		for (int x = 1; x + 1 < w; x++) {
			size_t i = (size_t)y * w + x;
			double l = luma[i - 1] + luma[i + 1] + luma[i - w] + luma[i + w]
				   - 4.0 * luma[i];
			ls += l;
			ls2 += l * l;
			ln++;
		}
	double lvar = 0;
	if (ln) {
		double lm = ls / ln;
		lvar = ls2 / ln - lm * lm;
		if (lvar < 0)
			lvar = 0;
	}
	out->sharpness = (float)lvar;
	out->blurriness = (float)(BLUR_SCALE / (BLUR_SCALE + lvar));

	double mrg = rg_s / n, myb = yb_s / n;
	double vrg = rg_s2 / n - mrg * mrg, vyb = yb_s2 / n - myb * myb;
	if (vrg < 0)
		vrg = 0;
	if (vyb < 0)
		vyb = 0;
	out->colorfulness = (float)(sqrt(vrg + vyb) + 0.3 * sqrt(mrg * mrg + myb * myb));
	out->grayscale = gray;

	out->phash = phash(luma, w, h);
	out->dhash = dhash(luma, w, h);
	out->has_pixels = 1;
	free(luma);
	return 0;
}

/* thumb: the vips_thumbnail result. Converts to 8-bit sRGB without alpha,
 * renders to memory and computes the statistics. */
static int thumb_stats(folio_features *out, VipsImage *thumb)
{
	VipsImage *t[4] = {NULL, NULL, NULL, NULL};
	VipsImage *cur = thumb;
	void *mem = NULL;
	size_t len = 0;
	int error = 0;

	if (vips_image_hasalpha(cur)) {
		if (vips_flatten(cur, &t[0], NULL))
			goto vips_fail;
		cur = t[0];
	}
	if (vips_colourspace(cur, &t[1], VIPS_INTERPRETATION_sRGB, NULL))
		goto vips_fail;
	cur = t[1];
	if (cur->Bands > 3) {
		if (vips_extract_band(cur, &t[2], 0, "n", 3, NULL))
			goto vips_fail;
		cur = t[2];
	}
	if (vips_cast_uchar(cur, &t[3], NULL))
		goto vips_fail;
	cur = t[3];
	if (cur->Bands != 3) {
		snprintf(out->error, sizeof out->error, "pixels: %d bands after sRGB conversion",
			 cur->Bands);
		out->decodable = 0;
		goto cleanup;
	}
	mem = vips_image_write_to_memory(cur, &len);
	if (!mem)
		goto vips_fail;
	if (len != (size_t)cur->Xsize * cur->Ysize * 3) {
		snprintf(out->error, sizeof out->error, "pixels: unexpected buffer size");
		out->decodable = 0;
		goto cleanup;
	}
	if (cur->Xsize > FOLIO_FEATURES_THUMB || cur->Ysize > FOLIO_FEATURES_THUMB) {
		/* a shrink-on-load result still larger than the thumbnail */
		int w = cur->Xsize, h = cur->Ysize, dw, dh;
		unsigned char *small;
		if (w >= h) {
			dw = FOLIO_FEATURES_THUMB;
			dh = (int)(((long)h * dw + w / 2) / w);
		} else {
			dh = FOLIO_FEATURES_THUMB;
			dw = (int)(((long)w * dh + h / 2) / h);
		}
		if (dw < 1)
			dw = 1;
		if (dh < 1)
			dh = 1;
		small = malloc((size_t)dw * dh * 3);
		if (!small) {
			error = folio_error_set(FOLIO_ENOMEM, "features: out of memory");
			goto cleanup;
		}
		resample_rgb(small, dw, dh, mem, w, h);
		error = pixel_stats(out, small, dw, dh);
		free(small);
	} else {
		error = pixel_stats(out, mem, cur->Xsize, cur->Ysize);
	}
	goto cleanup;

vips_fail:
	undecodable(out, "pixels");
cleanup:
	g_free(mem);
	for (int i = 0; i < 4; i++)
		if (t[i])
			g_object_unref(t[i]);
	return error;
}

/*
 * libvips 8.14 reports a truncated in-memory JPEG only as a warning (its
 * memory source inserts a fake EOI), which "fail_on" does not catch, while
 * the file loader fails. Entropy-coded data cannot contain FF D9 (0xFF is
 * stuffed), so a complete JPEG has an EOI marker near its end; we look in
 * the last 4 KiB to allow padding after it.
 */
static int has_eoi(const unsigned char *p, size_t len)
{
	size_t start = len > 4096 ? len - 4096 : 0;
	for (size_t i = len; i-- > start + 1;)
		if (p[i - 1] == 0xff && p[i] == 0xd9)
			return 1;
	return 0;
}

/* The common path: exactly one of path or (buf, len) is given. */
static int compute(folio_features *out, const char *path, const void *buf,
		   size_t len, int pixels)
{
	VipsImage *img = NULL, *thumb = NULL;
	int error = 0, rc;

	memset(out, 0, sizeof *out);
	out->orientation = 1;
	if ((error = folio_analysis_init()))
		return error;
	__atomic_add_fetch(&computed, 1, __ATOMIC_RELAXED);

	if (path)
		img = vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL,
					       "fail_on", VIPS_FAIL_ON_WARNING, NULL);
	else
		img = vips_image_new_from_buffer(buf, len, "", "access",
						 VIPS_ACCESS_SEQUENTIAL, "fail_on",
						 VIPS_FAIL_ON_WARNING, NULL);
	if (!img) {
		undecodable(out, "header");
		snprintf(out->format, sizeof out->format, "unknown");
		goto cleanup;
	}
	set_format(out, img);
	out->width = img->Xsize;
	out->height = img->Ysize;
	out->bands = img->Bands;
	out->orientation = vips_image_get_orientation(img);
	if (out->orientation < 1 || out->orientation > 8)
		out->orientation = 1;
	if ((uint64_t)out->width * (uint64_t)out->height > FOLIO_FEATURES_MAX_PIXELS) {
		out->decodable = 0;
		snprintf(out->error, sizeof out->error,
			 "refused: %dx%d pixels exceeds the limit of %llu",
			 out->width, out->height,
			 (unsigned long long)FOLIO_FEATURES_MAX_PIXELS);
		goto cleanup;
	}
	if (!path && !strcmp(out->format, "jpeg") && !has_eoi(buf, len)) {
		out->decodable = 0;
		snprintf(out->error, sizeof out->error,
			 "truncated: JPEG has no end-of-image marker");
		goto cleanup;
	}
	out->decodable = 1;
	if (!pixels)
		goto cleanup;

	/* The header image is dropped: shrink-on-load needs the loader. JPEG
	 * is loaded directly at the largest 1/2^k scale that stays at least
	 * FOLIO_FEATURES_THUMB on the long side (vips_thumbnail costs twice as
	 * much for the same decode); other formats go through vips_thumbnail. */
	g_object_unref(img);
	img = NULL;
	if (!strcmp(out->format, "jpeg")) {
		int shrink = 1, side = out->width > out->height ? out->width : out->height;
		while (shrink < 8 && side / (shrink * 2) >= FOLIO_FEATURES_THUMB)
			shrink *= 2;
		if (path)
			thumb = vips_image_new_from_file(path, "shrink", shrink, "access",
							 VIPS_ACCESS_SEQUENTIAL, "fail_on",
							 VIPS_FAIL_ON_WARNING, NULL);
		else
			thumb = vips_image_new_from_buffer(buf, len, "", "shrink", shrink,
							   "access", VIPS_ACCESS_SEQUENTIAL,
							   "fail_on", VIPS_FAIL_ON_WARNING,
							   NULL);
		rc = thumb ? 0 : -1;
	} else if (path)
		rc = vips_thumbnail(path, &thumb, FOLIO_FEATURES_THUMB, "height",
				    FOLIO_FEATURES_THUMB, "size", VIPS_SIZE_DOWN,
				    "no_rotate", TRUE, "fail_on", VIPS_FAIL_ON_WARNING, NULL);
	else
		rc = vips_thumbnail_buffer((void *)buf, len, &thumb, FOLIO_FEATURES_THUMB,
					   "height", FOLIO_FEATURES_THUMB, "size",
					   VIPS_SIZE_DOWN, "no_rotate", TRUE, "fail_on", VIPS_FAIL_ON_WARNING,
					   NULL);
	if (rc) {
		undecodable(out, "pixels");
		goto cleanup;
	}
	error = thumb_stats(out, thumb);

cleanup:
	if (thumb)
		g_object_unref(thumb);
	if (img)
		g_object_unref(img);
	return error;
}

int folio_features_compute_file(folio_features *out, const char *path, int pixels)
{
	struct stat st;

	if (!out || !path)
		return folio_error_set(FOLIO_EINVAL, "features: no output or path");
	if (stat(path, &st))
		return folio_error_errno(errno, "features: %s", path);
	return compute(out, path, NULL, 0, pixels);
}

int folio_features_compute_buf(folio_features *out, const void *buf, size_t len,
			       int pixels)
{
	if (!out || (!buf && len))
		return folio_error_set(FOLIO_EINVAL, "features: no output or buffer");
	if (len == 0) {
		memset(out, 0, sizeof *out);
		out->orientation = 1;
		snprintf(out->format, sizeof out->format, "unknown");
		snprintf(out->error, sizeof out->error, "header: empty image");
		return 0;
	}
	return compute(out, NULL, buf, len, pixels);
}
