/*
 * render.c — pictures for people: bar charts, histograms, images with boxes
 * drawn on them and contact sheets (include/folio/render.h).
 *
 * Owns the drawing side of core/analysis. Every picture is one 8-bit sRGB
 * 3-band canvas held in memory (vips_image_copy_memory) that only the
 * calling thread sees, drawn on and then encoded once; charts are 800 px
 * wide and a few MB at most, a preview is the size of its image, a mosaic
 * is capped at FOLIO_FEATURES_MAX_PIXELS. Rectangles, text masks and
 * thumbnails are written into the canvas' pixels directly: in 8.14 every
 * vips_draw_* call costs ~0.3 ms of fixed overhead (a hand-off to a worker
 * thread), which made a preview with five labelled boxes twice as slow and
 * a 200-bar chart take ~0.2 s for its rectangles alone.
 *
 * Text comes from vips_text (Pango). Its result is a one-band mask cropped
 * to the ink, with Xoffset/Yoffset giving the ink's place in the line box;
 * adding them back puts all labels on one baseline. vips_text reads Pango
 * markup, so text is made valid UTF-8, stripped of control characters and
 * escaped first. libvips serialises its Pango calls behind a lock of its
 * own, so daemon threads may render at once; all other state is per call.
 *
 * Images are opened through a VipsSource so that a path ending in "]" is
 * not read as "file[options]", except vips_thumbnail in the mosaic: 8.14's
 * vips_thumbnail_source ignores fail_on, so it is used only for such paths.
 *
 * libvips' error buffer is process-wide: its latest line is copied out and
 * the buffer cleared right after a failing call (see features.c).
 */
#include <vips/vips.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "folio/analysis.h"
#include "folio/error.h"
#include "folio/render.h"

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026 */

/* colours, 0xRRGGBB */
#define C_PAPER 0xffffff
#define C_INK 0x333333     /* titles, labels */
#define C_AXIS 0x555555    /* axes, tick labels, values */
#define C_ACCENT 0x3b6ea5  /* bars */
#define C_SHEET 0x1b1b1b   /* mosaic background */
#define C_CELL 0x2e2e2e    /* letterbox around a thumbnail */
#define C_BROKEN 0x808080  /* an unreadable image's cell */
#define C_BROKEN_INK 0x1b1b1b
#define C_CAPTION 0xdadada

/* chart geometry, px */
#define CHART_W 800
#define HIST_H 400
#define TITLE_H 40         /* band at the top of a chart with a title */
#define BAR_ROW 20         /* one bar's row */
#define BAR_THICK 14
#define LABEL_W_MAX 320    /* widest bar label */
#define TEXT_MAX 256       /* bytes of any text kept: Pango takes its time over long ones */

#define JPEG_Q_PREVIEW 90
#define JPEG_Q_MOSAIC 85

typedef struct pen {
	int px;       /* font size in pixels (points at 72 dpi) */
	int bold;
	unsigned rgb; /* 0xRRGGBB */
} pen;

static const pen title_pen = {15, 1, C_INK};
static const pen label_pen = {12, 0, C_INK};
static const pen tick_pen = {12, 0, C_AXIS};
static const pen caption_pen = {11, 0, C_CAPTION};
static const pen broken_pen = {11, 1, C_BROKEN_INK};

enum align { LEFT, CENTRE, RIGHT };

static int imax(int a, int b)
{
	return a > b ? a : b;
}

/* Height of a line of text set in px-pixel type. */
static int line_h(int px)
{
	return px + px / 4 + 1;
}

/* ---- errors ---------------------------------------------------------------- */

/* The latest line of libvips' error buffer into buf; the buffer is cleared. */
static void vips_message(char *buf, size_t size)
{
	char *all = vips_error_buffer_copy();
	const char *m = all ? all : "";
	size_t end = strlen(m), start;

	while (end > 0 && (m[end - 1] == '\n' || m[end - 1] == ' '))
		end--;
	for (start = end; start > 0 && m[start - 1] != '\n'; start--)
		;
	snprintf(buf, size, "%.*s", (int)(end - start), m + start);
	g_free(all);
}

/* Sets "<subject>: <what>: <libvips message>" and returns code. */
static int vips_fail(int code, const char *subject, const char *what)
{
	char msg[256];

	vips_message(msg, sizeof msg);
	return folio_error_set(code, "%s: %s: %s", subject, what, msg);
}

/* Init, and a check that this libvips can draw text. */
static int start(void)
{
	int error = folio_analysis_init();

	if (error)
		return error;
	if (!vips_type_find("VipsOperation", "text"))
		return folio_error_set(FOLIO_EIO,
				       "render: this libvips cannot draw text (built without Pango)");
	return 0;
}

/* ---- canvas ---------------------------------------------------------------- */

static void ink_of(double ink[3], unsigned rgb)
{
	ink[0] = (rgb >> 16) & 0xff;
	ink[1] = (rgb >> 8) & 0xff;
	ink[2] = rgb & 0xff;
}

/* The part of [*a, *a + n) inside [0, size); false when nothing is. */
static int clip(long *a, long *n, long size)
{
	if (*a < 0) {
		*n += *a;
		*a = 0;
	}
	if (*a + *n > size)
		*n = size - *a;
	return *n > 0;
}

/* Fills a rectangle of the canvas (clipped) with colour rgb. */
static void fill(VipsImage *c, unsigned rgb, int x, int y, int w, int h)
{
	long x0 = x, y0 = y, nx = w, ny = h;
	unsigned char r = (unsigned char)(rgb >> 16), g = (unsigned char)(rgb >> 8),
		      b = (unsigned char)rgb;

	if (!clip(&x0, &nx, c->Xsize) || !clip(&y0, &ny, c->Ysize))
		return;
	for (long y1 = y0; y1 < y0 + ny; y1++) {
		unsigned char *p = VIPS_IMAGE_ADDR(c, x0, y1);
		for (long i = 0; i < nx; i++, p += 3) {
			p[0] = r;
			p[1] = g;
			p[2] = b;
		}
	}
}

/* Blends colour rgb into the canvas through a text mask (one band, 255 =
 * ink) whose top-left corner goes to (x, y); clipped. */
static void blend(VipsImage *c, VipsImage *m, unsigned rgb, int x, int y)
{
	double ink[3];
	long x0 = x, y0 = y, nx = m->Xsize, ny = m->Ysize;

	if (!clip(&x0, &nx, c->Xsize) || !clip(&y0, &ny, c->Ysize))
		return;
	ink_of(ink, rgb);
	for (long row = 0; row < ny; row++) {
		const unsigned char *a = VIPS_IMAGE_ADDR(m, x0 - x, y0 - y + row);
		unsigned char *p = VIPS_IMAGE_ADDR(c, x0, y0 + row);
		for (long i = 0; i < nx; i++, p += 3)
			if (a[i])
				for (int k = 0; k < 3; k++)
					p[k] = (unsigned char)((ink[k] * a[i] + p[k] * (255 - a[i])) / 255 + 0.5);
	}
}

/* Copies a 3-band uchar memory image into the canvas at (x, y); clipped. */
static void paste(VipsImage *c, VipsImage *src, int x, int y)
{
	long x0 = x, y0 = y, nx = src->Xsize, ny = src->Ysize;

	if (!clip(&x0, &nx, c->Xsize) || !clip(&y0, &ny, c->Ysize))
		return;
	for (long row = 0; row < ny; row++)
		memcpy(VIPS_IMAGE_ADDR(c, x0, y0 + row), VIPS_IMAGE_ADDR(src, x0 - x, y0 - y + row),
		       (size_t)nx * 3);
}

/* A w x h memory image of colour rgb, 3 bands, uchar, sRGB. */
static int canvas_new(VipsImage **out, int w, int h, unsigned rgb)
{
	VipsImage *black = NULL;

	*out = NULL;
	if (vips_black(&black, w, h, "bands", 3, NULL))
		return vips_fail(FOLIO_ERROR, "render", "canvas");
	*out = vips_image_copy_memory(black);
	g_object_unref(black);
	if (!*out)
		return vips_fail(FOLIO_ENOMEM, "render", "canvas");
	(*out)->Type = VIPS_INTERPRETATION_sRGB;
	fill(*out, rgb, 0, 0, w, h);
	return 0;
}

/* img as JPEG of quality jpeg_q, or PNG when jpeg_q is 0, in malloc memory. */
static int encode(void **out, size_t *len, VipsImage *img, int jpeg_q)
{
	void *buf = NULL;
	size_t n = 0;
	int rc;

	if (jpeg_q)
		rc = vips_jpegsave_buffer(img, &buf, &n, "Q", jpeg_q, NULL);
	else
		rc = vips_pngsave_buffer(img, &buf, &n, NULL);
	if (rc)
		return vips_fail(FOLIO_ERROR, "render", jpeg_q ? "JPEG encoding" : "PNG encoding");
	*out = malloc(n ? n : 1);
	if (!*out) {
		g_free(buf);
		return folio_error_set(FOLIO_ENOMEM, "render: out of memory");
	}
	memcpy(*out, buf, n);
	*len = n;
	g_free(buf);
	return 0;
}

/*
 * in as 8-bit sRGB with 3 bands, alpha flattened onto bg. libvips style:
 * 0, or -1 with the reason in libvips' error buffer (callers word it).
 */
static int to_srgb8(VipsImage **out, VipsImage *in, unsigned bg)
{
	VipsImage *t[4] = {NULL, NULL, NULL, NULL};
	VipsImage *cur = in;
	double back[3];
	int rc = -1;

	*out = NULL;
	if (vips_colourspace(cur, &t[0], VIPS_INTERPRETATION_sRGB, NULL))
		goto done;
	cur = t[0];
	if (vips_image_hasalpha(cur)) {
		VipsArrayDouble *b;
		int bad;

		ink_of(back, bg);
		b = vips_array_double_new(back, 3);
		bad = vips_flatten(cur, &t[1], "background", b, NULL);
		vips_area_unref(VIPS_AREA(b));
		if (bad)
			goto done;
		cur = t[1];
	}
	if (cur->Bands > 3) {
		if (vips_extract_band(cur, &t[2], 0, "n", 3, NULL))
			goto done;
		cur = t[2];
	} else if (cur->Bands < 3) {
		VipsImage *same[3] = {cur, cur, cur};
		if (vips_bandjoin(same, &t[2], 3, NULL))
			goto done;
		cur = t[2];
	}
	if (vips_cast_uchar(cur, &t[3], NULL))
		goto done;
	*out = t[3];
	t[3] = NULL;
	rc = 0;
done:
	for (int i = 0; i < 4; i++)
		VIPS_UNREF(t[i]);
	return rc;
}

/* ---- text ------------------------------------------------------------------ */

/* s as valid UTF-8 with control characters made spaces, cut to max_bytes
 * (0: no limit) including a final "…". Free with g_free(). */
static char *clean_text(const char *s, size_t max_bytes)
{
	char *v = g_utf8_make_valid(s ? s : "", -1);

	for (unsigned char *p = (unsigned char *)v; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = ' ';
	if (max_bytes >= sizeof ELLIPSIS && strlen(v) > max_bytes) {
		size_t keep = max_bytes - (sizeof ELLIPSIS - 1);
		while (keep > 0 && ((unsigned char)v[keep] & 0xc0) == 0x80)
			keep--;
		memcpy(v + keep, ELLIPSIS, sizeof ELLIPSIS);
	}
	return v;
}

/* Width of a rendered text's line box up to the end of its ink. */
static int text_width(const VipsImage *m)
{
	return m ? m->Xoffset + m->Xsize : 0;
}

/* m (consumed) as a one-band uchar memory image, offsets kept. */
static int text_memory(VipsImage **out, VipsImage *m)
{
	VipsImage *mem = NULL;
	int x = m->Xoffset, y = m->Yoffset;

	if (m->Bands != 1 || m->BandFmt != VIPS_FORMAT_UCHAR) {
		g_object_unref(m);
		return folio_error_set(FOLIO_EIO, "render: text: vips_text gave %d bands", m->Bands);
	}
	mem = vips_image_copy_memory(m);
	g_object_unref(m);
	if (!mem)
		return vips_fail(FOLIO_EIO, "render", "text");
	mem->Xoffset = x;
	mem->Yoffset = y;
	*out = mem;
	return 0;
}

/*
 * Renders s (clean UTF-8) in pen p's font. When it is wider than maxw
 * (> 0), characters are dropped from the end for a "…" until it fits.
 * *out is NULL when there is nothing to draw: blank text, or not even one
 * character fits.
 */
static int text_make(VipsImage **out, const pen *p, const char *s, int maxw)
{
	char font[32];
	glong chars = g_utf8_strlen(s, -1), keep = chars;

	*out = NULL;
	snprintf(font, sizeof font, "sans%s %d", p->bold ? " bold" : "", p->px);
	for (int tries = 0; tries < 8 && keep > 0; tries++) {
		VipsImage *m = NULL;
		char *text, *markup;
		int rc, w;

		if (keep < chars)
			text = g_strdup_printf("%.*s" ELLIPSIS,
					       (int)(g_utf8_offset_to_pointer(s, keep) - s), s);
		else
			text = g_strdup(s);
		markup = g_markup_escape_text(text, -1);
		rc = vips_text(&m, markup, "font", font, "dpi", 72, NULL);
		g_free(markup);
		g_free(text);
		if (rc) {
			char msg[256];
			vips_message(msg, sizeof msg);
			if (strstr(msg, "no text to render"))
				return 0; /* only blanks */
			return folio_error_set(FOLIO_EIO, "render: text: %s", msg);
		}
		w = text_width(m);
		if (maxw <= 0 || w <= maxw)
			return text_memory(out, m);
		g_object_unref(m);
		/* w > maxw, so this is below keep; -1 leaves room for the "…" */
		keep = (glong)((double)keep * maxw / w) - 1;
	}
	return 0;
}

/* Draws a rendered text in rgb with its line box's left edge, centre or
 * right edge at x and its top at y, moved inside the canvas if needed. */
static void text_draw(VipsImage *c, VipsImage *m, unsigned rgb, int x, int y, enum align a)
{
	int w = text_width(m);

	if (!m)
		return;
	if (a == CENTRE)
		x -= w / 2;
	else if (a == RIGHT)
		x -= w;
	if (x + w > c->Xsize)
		x = c->Xsize - w;
	if (x < 0)
		x = 0;
	blend(c, m, rgb, x + m->Xoffset, y + m->Yoffset);
}

/* text_make and text_draw of any string; 0 or a negative code. */
static int put_text(VipsImage *c, const pen *p, const char *s, int maxw, int x, int y,
		    enum align a)
{
	VipsImage *m = NULL;
	char *clean = clean_text(s, TEXT_MAX);
	int error = text_make(&m, p, clean, maxw);

	g_free(clean);
	if (!error)
		text_draw(c, m, p->rgb, x, y, a);
	VIPS_UNREF(m);
	return error;
}

/* A short form of v: whole numbers in full, others to about 4 digits. */
static void fmt_num(char *buf, size_t size, double v)
{
	double a = fabs(v);

	if (isnan(v))
		snprintf(buf, size, "NaN");
	else if (isinf(v))
		snprintf(buf, size, "%sinf", v < 0 ? "-" : "");
	else if (v == 0)
		snprintf(buf, size, "0");
	else if (v == floor(v) && a < 1e15)
		snprintf(buf, size, "%.0f", v);
	else if (a >= 1e-3 && a < 1e4)
		snprintf(buf, size, "%.4g", v);
	else if (a >= 1e4 && a < 1e7)
		snprintf(buf, size, "%.1f", v);
	else
		snprintf(buf, size, "%.3e", v);
}

/* ---- bar chart ------------------------------------------------------------- */

/* x of value v on an axis from lo (at x0) to hi (at x0 + w); halves keep
 * the differences finite for any finite values. */
static int axis_x(double v, double lo, double hi, int x0, int w)
{
	return x0 + (int)lround((v / 2 - lo / 2) / (hi / 2 - lo / 2) * w);
}

int folio_render_bars(void **out, size_t *len, const char *title,
		      const char *const *labels, const double *values, size_t n)
{
	VipsImage *lab[FOLIO_RENDER_BARS_MAX] = {NULL}, *val[FOLIO_RENDER_BARS_MAX] = {NULL};
	double v[FOLIO_RENDER_BARS_MAX];
	size_t nb = n > FOLIO_RENDER_BARS_MAX ? FOLIO_RENDER_BARS_MAX : n;
	VipsImage *c = NULL;
	double lo = 0, hi = 0, ticks[3];
	int error, lw = 0, vw = 0, top = title ? TITLE_H : 16;
	int left, plot_w, x0, base;
	char num[32];

	if (!out || !len || (n && (!labels || !values)))
		return folio_error_set(FOLIO_EINVAL, "render: bars: no output, labels or values");
	*out = NULL;
	*len = 0;
	if ((error = start()))
		return error;

	for (size_t i = 0; i < nb; i++) {
		char other[48];
		const char *name = labels[i];
		char *clean;

		v[i] = values[i];
		if (i == nb - 1 && n > nb) {
			v[i] = 0;
			for (size_t k = i; k < n; k++)
				if (isfinite(values[k]))
					v[i] += values[k];
			snprintf(other, sizeof other, "(other %zu)", n - i);
			name = other;
		}
		clean = clean_text(name, FOLIO_RENDER_LABEL_MAX);
		error = text_make(&lab[i], &label_pen, clean, LABEL_W_MAX);
		g_free(clean);
		if (error)
			goto done;
		fmt_num(num, sizeof num, v[i]);
		if ((error = text_make(&val[i], &tick_pen, num, 0)))
			goto done;
		lw = imax(lw, text_width(lab[i]));
		vw = imax(vw, text_width(val[i]));
		if (isfinite(v[i])) {
			lo = fmin(lo, v[i]);
			hi = fmax(hi, v[i]);
		}
	}
	if (hi == lo)
		hi = lo + 1;

	if ((error = canvas_new(&c, CHART_W, top + (nb ? (int)nb * BAR_ROW + 36 : 80), C_PAPER)))
		goto done;
	if (title && (error = put_text(c, &title_pen, title, CHART_W - 32, CHART_W / 2, 12, CENTRE)))
		goto done;
	if (nb == 0) {
		error = put_text(c, &tick_pen, "no data", 0, CHART_W / 2, top + 24, CENTRE);
		goto save;
	}

	left = 16 + lw + 8;
	plot_w = CHART_W - left - (vw + 24);
	x0 = axis_x(0, lo, hi, left, plot_w);
	for (size_t i = 0; i < nb; i++) {
		int y = top + (int)i * BAR_ROW, ty = y + (BAR_ROW - line_h(label_pen.px)) / 2;
		int end = x0;

		text_draw(c, lab[i], label_pen.rgb, left - 8, ty, RIGHT);
		if (isfinite(v[i])) {
			int xv = axis_x(v[i], lo, hi, left, plot_w);
			int a = xv < x0 ? xv : x0, b = xv < x0 ? x0 : xv;
			if (a == b && v[i] != 0)
				b = a + 1;
			fill(c, C_ACCENT, a, y + (BAR_ROW - BAR_THICK) / 2, b - a, BAR_THICK);
			end = b;
		}
		text_draw(c, val[i], tick_pen.rgb, end + 4, ty, LEFT);
	}

	/* the zero line, the value axis below and its end values */
	base = top + (int)nb * BAR_ROW + 4;
	fill(c, C_AXIS, x0, top - 2, 1, base - top + 2);
	fill(c, C_AXIS, left, base, plot_w + 1, 1);
	ticks[0] = lo, ticks[1] = 0, ticks[2] = hi;
	for (int k = 0; k < 3; k++) {
		int x = axis_x(ticks[k], lo, hi, left, plot_w);
		if (k == 1 && (lo == 0 || hi == 0))
			continue; /* 0 is an end already */
		fmt_num(num, sizeof num, ticks[k]);
		fill(c, C_AXIS, x, base, 1, 5);
		if ((error = put_text(c, &tick_pen, num, 0, x, base + 7, CENTRE)))
			goto done;
	}

save:
	if (!error)
		error = encode(out, len, c, 0);
done:
	for (size_t i = 0; i < nb; i++) {
		VIPS_UNREF(lab[i]);
		VIPS_UNREF(val[i]);
	}
	VIPS_UNREF(c);
	return error;
}

/* ---- histogram ------------------------------------------------------------- */

int folio_render_histogram(void **out, size_t *len, const char *title, const char *xlabel,
			   const double *values, size_t n, int bins, double lo, double hi)
{
	uint64_t count[FOLIO_RENDER_BINS_MAX] = {0}, most = 0;
	VipsImage *c = NULL, *ymax = NULL;
	int error, top = title ? TITLE_H + 8 : 20, bottom = HIST_H - 56;
	int left, plot_w, plot_h = bottom - top, lh = line_h(tick_pen.px);
	char num[32];

	if (!out || !len || (n && !values))
		return folio_error_set(FOLIO_EINVAL, "render: histogram: no output or values");
	if (bins < 1 || bins > FOLIO_RENDER_BINS_MAX)
		return folio_error_set(FOLIO_EINVAL, "render: histogram: %d bins (1..%d)", bins,
				       FOLIO_RENDER_BINS_MAX);
	if (!isfinite(lo) || !isfinite(hi) || !(lo < hi))
		return folio_error_set(FOLIO_EINVAL, "render: histogram: bad range [%g, %g]", lo,
				       hi);
	*out = NULL;
	*len = 0;
	if ((error = start()))
		return error;

	for (size_t i = 0; i < n; i++) {
		double x = values[i];
		int b;

		if (isnan(x))
			continue;
		if (x <= lo)
			b = 0;
		else if (x >= hi)
			b = bins - 1;
		else
			b = (int)((x / 2 - lo / 2) / (hi / 2 - lo / 2) * bins);
		if (b > bins - 1)
			b = bins - 1;
		if (++count[b] > most)
			most = count[b];
	}

	snprintf(num, sizeof num, "%llu", (unsigned long long)most);
	if ((error = text_make(&ymax, &tick_pen, num, 0)))
		goto done;
	left = imax(56, 16 + text_width(ymax) + 10);
	plot_w = CHART_W - left - 24;
	if ((error = canvas_new(&c, CHART_W, HIST_H, C_PAPER)))
		goto done;
	if (title && (error = put_text(c, &title_pen, title, CHART_W - 32, CHART_W / 2, 12, CENTRE)))
		goto done;

	for (int b = 0; b < bins && most; b++) {
		int xa = left + (int)((int64_t)b * plot_w / bins);
		int xb = left + (int)((int64_t)(b + 1) * plot_w / bins);
		int h = (int)llround((double)count[b] / (double)most * plot_h);
		if (count[b] && h < 1)
			h = 1;
		fill(c, C_ACCENT, xa, bottom - h, xb - xa - (xb - xa >= 4), h);
	}
	if (!most &&
	    (error = put_text(c, &tick_pen, "no data", 0, left + plot_w / 2, top + plot_h / 2, CENTRE)))
		goto done;

	/* axes: counts 0 and the largest; lo, midpoint and hi; the x label */
	fill(c, C_AXIS, left - 1, top, 1, plot_h + 1);
	fill(c, C_AXIS, left - 1, bottom, plot_w + 2, 1);
	fill(c, C_AXIS, left - 6, bottom, 5, 1);
	if ((error = put_text(c, &tick_pen, "0", 0, left - 9, bottom - lh / 2, RIGHT)))
		goto done;
	if (most) {
		fill(c, C_AXIS, left - 6, top, 5, 1);
		text_draw(c, ymax, tick_pen.rgb, left - 9, top - lh / 2, RIGHT);
	}
	for (int k = 0; k < 3; k++) {
		double at = k == 0 ? lo : k == 1 ? lo / 2 + hi / 2 : hi;
		int x = left + k * plot_w / 2;
		fmt_num(num, sizeof num, at);
		fill(c, C_AXIS, x, bottom + 1, 1, 5);
		if ((error = put_text(c, &tick_pen, num, 0, x, bottom + 8, CENTRE)))
			goto done;
	}
	if (xlabel && (error = put_text(c, &label_pen, xlabel, plot_w, left + plot_w / 2,
					bottom + 30, CENTRE)))
		goto done;
	error = encode(out, len, c, 0);
done:
	VIPS_UNREF(ymax);
	VIPS_UNREF(c);
	return error;
}

/* ---- preview --------------------------------------------------------------- */

/* A colour for a label: FNV-1a of the label without a trailing number
 * ("cat 0.93", "cat 93%" -> "cat") picks one of ten distinct hues. */
static unsigned palette_color(const char *label)
{
	static const unsigned palette[10] = {
		0xe03a3a, 0x2f9e44, 0x1f6fd1, 0xf08c00, 0x9c36b5,
		0x0b8a9a, 0xd6336c, 0x7cb518, 0x5763e0, 0xa07d00,
	};
	const char *space = label ? strrchr(label, ' ') : NULL;
	size_t n = label ? strlen(label) : 0;
	uint32_t h = 2166136261u;

	if (space) {
		char *end;
		strtod(space + 1, &end);
		if (end > space + 1 && (!*end || !strcmp(end, "%")))
			for (n = (size_t)(space - label); n > 0 && label[n - 1] == ' '; n--)
				;
	}
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)label[i];
		h *= 16777619u;
	}
	return palette[h % 10];
}

/* One box: outline `thick` px inside its clipped edges, label above it. */
static int draw_box(VipsImage *c, const folio_render_box *b, int thick, int px)
{
	double x1 = b->x + b->w, y1 = b->y + b->h;
	int ix0, iy0, ix1, iy1, tw, th, error;
	unsigned rgb;

	if (!isfinite(b->x) || !isfinite(b->y) || !isfinite(x1) || !isfinite(y1) ||
	    !(b->w > 0) || !(b->h > 0))
		return 0;
	if (x1 <= 0 || y1 <= 0 || b->x >= c->Xsize || b->y >= c->Ysize)
		return 0;
	ix0 = (int)floor(fmax(b->x, 0));
	iy0 = (int)floor(fmax(b->y, 0));
	ix1 = (int)ceil(fmin(x1, c->Xsize));
	iy1 = (int)ceil(fmin(y1, c->Ysize));
	rgb = b->color ? b->color & 0xffffff : palette_color(b->label);
	th = thick < iy1 - iy0 ? thick : iy1 - iy0; /* small boxes are filled */
	tw = thick < ix1 - ix0 ? thick : ix1 - ix0;

	fill(c, rgb, ix0, iy0, ix1 - ix0, th);
	fill(c, rgb, ix0, iy1 - th, ix1 - ix0, th);
	fill(c, rgb, ix0, iy0, tw, iy1 - iy0);
	fill(c, rgb, ix1 - tw, iy0, tw, iy1 - iy0);
	if (!b->label)
		return 0;

	/* the label: dark text on light colours, white on dark ones */
	int luma = (int)(0.299 * (rgb >> 16) + 0.587 * ((rgb >> 8) & 0xff) + 0.114 * (rgb & 0xff));
	pen p = {px, 1, luma > 140 ? 0x000000 : 0xffffff};
	int pad = imax(3, px / 4), lh = line_h(px) + 2, lx = ix0, ly, lw;
	VipsImage *m = NULL;
	char *clean = clean_text(b->label, TEXT_MAX);

	error = text_make(&m, &p, clean, c->Xsize - 2 * pad);
	g_free(clean);
	if (error || !m)
		return error;
	lw = text_width(m) + 2 * pad;
	if (lx + lw > c->Xsize)
		lx = c->Xsize - lw;
	if (lx < 0)
		lx = 0;
	ly = iy0 - lh >= 0 ? iy0 - lh : iy0;
	if (ly + lh > c->Ysize)
		ly = c->Ysize - lh;
	if (ly < 0)
		ly = 0;
	fill(c, rgb, lx, ly, lw, lh);
	text_draw(c, m, p.rgb, lx + pad, ly + 1, LEFT);
	g_object_unref(m);
	return 0;
}

int folio_render_preview(void **out, size_t *len, const char *path, const char *name,
			 const folio_render_box *boxes, size_t n)
{
	VipsSource *src = NULL;
	VipsImage *img = NULL, *rgb = NULL, *c = NULL;
	const char *loader = NULL;
	struct stat st;
	int error, jpeg, side, thick, px;

	if (!out || !len || !path || (n && !boxes))
		return folio_error_set(FOLIO_EINVAL, "render: preview: no output, path or boxes");
	*out = NULL;
	*len = 0;
	if (!name)
		name = path;
	if ((error = start()))
		return error;
	if (stat(path, &st))
		return folio_error_errno(errno, "%s", name);
	if (S_ISDIR(st.st_mode))
		return folio_error_set(FOLIO_EINVAL, "%s: is a folder, not an image", name);

	if (!(src = vips_source_new_from_file(path))) {
		error = vips_fail(FOLIO_EIO, name, "open");
		goto done;
	}
	img = vips_image_new_from_source(src, "", "access", VIPS_ACCESS_SEQUENTIAL, "fail_on",
					 VIPS_FAIL_ON_TRUNCATED, NULL);
	if (!img) {
		error = vips_fail(FOLIO_ECORRUPT, name, "not a readable image");
		goto done;
	}
	if ((uint64_t)img->Xsize * (uint64_t)img->Ysize > FOLIO_FEATURES_MAX_PIXELS) {
		error = folio_error_set(FOLIO_EINVAL, "%s: %dx%d pixels exceeds the limit of %llu",
					name, img->Xsize, img->Ysize,
					(unsigned long long)FOLIO_FEATURES_MAX_PIXELS);
		goto done;
	}
	jpeg = vips_image_get_typeof(img, VIPS_META_LOADER) &&
	       !vips_image_get_string(img, VIPS_META_LOADER, &loader) && loader &&
	       !strncmp(loader, "jpegload", 8);
	/* decoding happens here, in copy_memory */
	if (to_srgb8(&rgb, img, C_PAPER) || !(c = vips_image_copy_memory(rgb))) {
		error = vips_fail(FOLIO_ECORRUPT, name, "cannot decode");
		goto done;
	}

	side = imax(c->Xsize, c->Ysize);
	thick = imax(2, side / 300);
	px = side / 50 < 12 ? 12 : side / 50 > 40 ? 40 : side / 50;
	for (size_t i = 0; i < n; i++)
		if ((error = draw_box(c, &boxes[i], thick, px)))
			goto done;
	error = encode(out, len, c, jpeg ? JPEG_Q_PREVIEW : 0);
done:
	VIPS_UNREF(c);
	VIPS_UNREF(rgb);
	VIPS_UNREF(img);
	VIPS_UNREF(src);
	return error;
}

/* ---- mosaic ---------------------------------------------------------------- */

/*
 * Draws the thumbnail of path letterboxed into the cell x cell square at
 * (x, y). 0 when the image cannot be shown: missing, undecodable,
 * truncated or over FOLIO_FEATURES_MAX_PIXELS; libvips' message is
 * dropped, as such an image is no error here.
 */
static int draw_thumb(VipsImage *c, const char *path, int cell, int x, int y)
{
	VipsSource *src = NULL;
	VipsImage *head = NULL, *thumb = NULL, *rgb = NULL, *mem = NULL;
	size_t n = path ? strlen(path) : 0;
	int drawn = 0, rc;

	if (!path)
		return 0;
	/* the header first: vips_thumbnail would decode a pixel bomb in full */
	if (!(src = vips_source_new_from_file(path)) ||
	    !(head = vips_image_new_from_source(src, "", NULL)) ||
	    (uint64_t)head->Xsize * (uint64_t)head->Ysize > FOLIO_FEATURES_MAX_PIXELS)
		goto done;
	if (n && path[n - 1] == ']')
		rc = vips_thumbnail_source(src, &thumb, cell, "height", cell, NULL);
	else
		rc = vips_thumbnail(path, &thumb, cell, "height", cell, "fail_on",
				    VIPS_FAIL_ON_TRUNCATED, NULL);
	if (rc || to_srgb8(&rgb, thumb, C_CELL) || !(mem = vips_image_copy_memory(rgb)))
		goto done;
	paste(c, mem, x + (cell - mem->Xsize) / 2, y + (cell - mem->Ysize) / 2);
	drawn = 1;
done:
	if (!drawn)
		vips_error_clear();
	VIPS_UNREF(mem);
	VIPS_UNREF(rgb);
	VIPS_UNREF(thumb);
	VIPS_UNREF(head);
	VIPS_UNREF(src);
	return drawn;
}

int folio_render_mosaic(void **out, size_t *len, const char *const *paths,
			const char *const *captions, size_t n, int cell, int cols)
{
	VipsImage *c = NULL;
	int error, rows, cap, w, h;

	if (!out || !len || (n && !paths))
		return folio_error_set(FOLIO_EINVAL, "render: mosaic: no output or paths");
	if (cell < FOLIO_RENDER_CELL_MIN || cell > FOLIO_RENDER_CELL_MAX || cols < 0)
		return folio_error_set(FOLIO_EINVAL,
				       "render: mosaic: cell %d px (%d..%d) or %d columns", cell,
				       FOLIO_RENDER_CELL_MIN, FOLIO_RENDER_CELL_MAX, cols);
	*out = NULL;
	*len = 0;
	if ((error = start()))
		return error;
	if (n > FOLIO_RENDER_MOSAIC_MAX)
		n = FOLIO_RENDER_MOSAIC_MAX;

	if (n == 0) {
		if (!(error = canvas_new(&c, 240, 80, C_SHEET)) &&
		    !(error = put_text(c, &caption_pen, "empty set", 0, 120, 32, CENTRE)))
			error = encode(out, len, c, JPEG_Q_MOSAIC);
		goto done;
	}
	if (cols == 0)
		cols = (int)ceil(sqrt((double)n));
	if ((size_t)cols > n)
		cols = (int)n;
	rows = (int)((n + (size_t)cols - 1) / (size_t)cols);
	cap = captions ? FOLIO_RENDER_MOSAIC_CAPTION : 0;
	w = cols * (cell + FOLIO_RENDER_MOSAIC_GAP) + FOLIO_RENDER_MOSAIC_GAP;
	h = rows * (cell + cap + FOLIO_RENDER_MOSAIC_GAP) + FOLIO_RENDER_MOSAIC_GAP;
	if ((uint64_t)w * (uint64_t)h > FOLIO_FEATURES_MAX_PIXELS)
		return folio_error_set(FOLIO_EINVAL, "render: mosaic: %dx%d pixels exceeds the limit of %llu",
				       w, h, (unsigned long long)FOLIO_FEATURES_MAX_PIXELS);
	if ((error = canvas_new(&c, w, h, C_SHEET)))
		goto done;

	for (size_t i = 0; i < n; i++) {
		int x = FOLIO_RENDER_MOSAIC_GAP + (int)(i % (size_t)cols) * (cell + FOLIO_RENDER_MOSAIC_GAP);
		int y = FOLIO_RENDER_MOSAIC_GAP +
			(int)(i / (size_t)cols) * (cell + cap + FOLIO_RENDER_MOSAIC_GAP);

		fill(c, C_CELL, x, y, cell, cell);
		if (!draw_thumb(c, paths[i], cell, x, y)) {
			fill(c, C_BROKEN, x, y, cell, cell);
			if ((error = put_text(c, &broken_pen, "unreadable", cell - 4, x + cell / 2,
					      y + (cell - line_h(broken_pen.px)) / 2, CENTRE)))
				goto done;
		}
		if (captions && captions[i] &&
		    (error = put_text(c, &caption_pen, captions[i], cell - 4, x + cell / 2,
				      y + cell + 2, CENTRE)))
			goto done;
	}
	error = encode(out, len, c, JPEG_Q_MOSAIC);
done:
	VIPS_UNREF(c);
	return error;
}
