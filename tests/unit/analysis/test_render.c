/*
 * test_render.c — unit tests of the pictures made by core/analysis/render.c.
 *
 * Every result is decoded again with libvips and checked for format, size,
 * bands and, where the drawing is predictable, for pixels: bars are found
 * as runs of rows holding the accent colour, a red box must be red on its
 * edge and leave the inside white, a broken mosaic cell must be gray.
 * Input images are made in the test (vips_black + linear) and written to a
 * scratch folder (test_mkdtemp), so no binary fixtures are kept.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <vips/vips.h>

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "folio/analysis.h"
#include "folio/error.h"
#include "folio/render.h"

#include "../testutil.h"

#define ACCENT 0x3b6ea5

/* Under ASan: fontconfig (below Pango, below vips_text) keeps its caches
 * behind offset-encoded pointers that LeakSanitizer cannot follow, so it
 * reports them at exit as leaks. They are not ours; all other leaks are. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libfontconfig.so\n";
}

const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}

static char dir[TEST_DIR_MAX];

static void make_dir(void)
{
	cr_assert_eq(folio_analysis_init(), 0, "%s", folio_error_last());
	test_mkdtemp(dir, "render");
}

static void remove_dir(void)
{
	test_rmtree(dir);
}

TestSuite(render, .init = make_dir, .fini = remove_dir);

/* ---- helpers ----------------------------------------------------------------- */

/* A w x h image of one colour (0xRRGGBB), `bands` 1 (gray: the red byte) or 3. */
static VipsImage *plain(int w, int h, int bands, unsigned rgb)
{
	VipsImage *zero = NULL, *out = NULL;
	double mul[3] = {1, 1, 1};
	double add[3] = {(rgb >> 16) & 0xff, (rgb >> 8) & 0xff, rgb & 0xff};

	cr_assert_eq(vips_black(&zero, w, h, "bands", bands, NULL), 0);
	cr_assert_eq(vips_linear(zero, &out, mul, add, bands, "uchar", TRUE, NULL), 0);
	g_object_unref(zero);
	out->Type = bands == 1 ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB;
	return out;
}

/* Writes img to dir/name (format from the suffix), unrefs it, returns the path. */
static void save(char *path, size_t size, const char *name, VipsImage *img)
{
	snprintf(path, size, "%s/%s", dir, name);
	cr_assert_eq(vips_image_write_to_file(img, path, NULL), 0, "%s", vips_error_buffer());
	g_object_unref(img);
}

static void save_bytes(char *path, size_t size, const char *name, const void *buf, size_t len)
{
	FILE *fp;

	snprintf(path, size, "%s/%s", dir, name);
	fp = fopen(path, "wb");
	cr_assert_not_null(fp);
	cr_assert_eq(fwrite(buf, 1, len, fp), len);
	fclose(fp);
}

/* Decodes a result; it must come from `loader` ("png", "jpeg") as 8-bit
 * 3-band. Frees buf. */
static VipsImage *decode(void *buf, size_t len, const char *loader)
{
	VipsImage *img, *mem;
	const char *got = NULL;

	cr_assert_not_null(buf);
	cr_assert_gt(len, 0);
	img = vips_image_new_from_buffer(buf, len, "", NULL);
	cr_assert_not_null(img, "%s", vips_error_buffer());
	cr_assert_eq(vips_image_get_string(img, VIPS_META_LOADER, &got), 0);
	cr_assert_eq(strncmp(got, loader, strlen(loader)), 0, "loader %s, expected %s", got,
		     loader);
	cr_assert_eq(img->Bands, 3);
	cr_assert_eq(img->BandFmt, VIPS_FORMAT_UCHAR);
	mem = vips_image_copy_memory(img);
	cr_assert_not_null(mem);
	g_object_unref(img);
	free(buf);
	return mem;
}

static const unsigned char *px_at(VipsImage *img, int x, int y)
{
	return VIPS_IMAGE_ADDR(img, x, y);
}

static int near(const unsigned char *p, unsigned rgb, int tol)
{
	return abs(p[0] - (int)((rgb >> 16) & 0xff)) <= tol &&
	       abs(p[1] - (int)((rgb >> 8) & 0xff)) <= tol && abs(p[2] - (int)(rgb & 0xff)) <= tol;
}

/* Pixels of colour rgb (+-tol) in columns [x0, x1) of the whole image. */
static long count_color(VipsImage *img, unsigned rgb, int tol, int x0, int x1)
{
	long n = 0;

	for (int y = 0; y < img->Ysize; y++)
		for (int x = x0; x < x1 && x < img->Xsize; x++)
			n += near(px_at(img, x, y), rgb, tol);
	return n;
}

/*
 * Bars as runs of consecutive rows holding accent pixels: fills len[i]
 * with the longest accent row of bar i and returns the number of bars.
 */
static int find_bars(VipsImage *img, int *len, int max)
{
	int bars = 0, in_bar = 0;

	for (int y = 0; y < img->Ysize; y++) {
		int row = 0;
		for (int x = 0; x < img->Xsize; x++)
			row += near(px_at(img, x, y), ACCENT, 2);
		if (row && !in_bar) {
			cr_assert_lt(bars, max);
			len[bars++] = 0;
		}
		if (row && row > len[bars - 1])
			len[bars - 1] = row;
		in_bar = row > 0;
	}
	return bars;
}

/* ---- bars -------------------------------------------------------------------- */

Test(render, bars_three)
{
	const char *labels[] = {"cat", "dog", "bird"};
	const double values[] = {3, 10, 1};
	void *buf = NULL;
	size_t len = 0;
	int lens[8];

	cr_assert_eq(folio_render_bars(&buf, &len, "Objects per class", labels, values, 3), 0,
		     "%s", folio_error_last());
	VipsImage *img = decode(buf, len, "png");
	cr_assert_eq(img->Xsize, 800);
	cr_assert_eq(find_bars(img, lens, 8), 3);
	cr_assert_gt(lens[1], lens[0]);
	cr_assert_gt(lens[0], lens[2]);
	/* bars are proportional: dog is 10/3 of cat, give or take a pixel */
	cr_assert_float_eq((double)lens[1] / lens[0], 10.0 / 3, 0.05);
	/* the title is dark text in the top band */
	long dark = 0;
	for (int y = 0; y < 36; y++)
		for (int x = 0; x < img->Xsize; x++)
			dark += px_at(img, x, y)[0] < 100;
	cr_assert_gt(dark, 50);
	g_object_unref(img);
}

Test(render, bars_empty)
{
	void *buf = NULL;
	size_t len = 0;

	cr_assert_eq(folio_render_bars(&buf, &len, NULL, NULL, NULL, 0), 0, "%s",
		     folio_error_last());
	VipsImage *img = decode(buf, len, "png");
	cr_assert_eq(img->Xsize, 800);
	cr_assert_gt(img->Ysize, 40);
	cr_assert_eq(count_color(img, ACCENT, 2, 0, 800), 0);
	cr_assert_gt(count_color(img, 0xffffff, 0, 0, 800), 800L * img->Ysize / 2);
	/* "no data" is written */
	cr_assert_lt(count_color(img, 0xffffff, 0, 0, 800), 800L * img->Ysize);
	g_object_unref(img);
}

static VipsImage *bars_of(size_t n)
{
	const char **labels = calloc(n, sizeof *labels);
	double *values = calloc(n, sizeof *values);
	char (*names)[32] = calloc(n, sizeof *names);
	void *buf = NULL;
	size_t len = 0;

	cr_assert(labels && values && names);
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof names[i], "class %zu", i);
		labels[i] = names[i];
		values[i] = 1;
	}
	cr_assert_eq(folio_render_bars(&buf, &len, "many", labels, values, n), 0, "%s",
		     folio_error_last());
	free(labels);
	free(values);
	free(names);
	return decode(buf, len, "png");
}

Test(render, bars_capped_at_200)
{
	VipsImage *a = bars_of(199), *b = bars_of(200), *c = bars_of(500);
	int lens[FOLIO_RENDER_BARS_MAX + 1];

	cr_assert_lt(a->Ysize, b->Ysize);
	cr_assert_eq(b->Ysize, c->Ysize);
	cr_assert_eq(c->Xsize, 800);
	cr_assert_eq(find_bars(c, lens, FOLIO_RENDER_BARS_MAX + 1), FOLIO_RENDER_BARS_MAX);
	/* the last bar sums the other 301 ones and is the longest */
	cr_assert_gt(lens[FOLIO_RENDER_BARS_MAX - 1], 100 * lens[0]);
	g_object_unref(a);
	g_object_unref(b);
	g_object_unref(c);
}

Test(render, bars_odd_labels)
{
	char long_utf8[400] = "", han[400] = "";
	const char *labels[8];
	const double values[8] = {1, 2, 3, 4, 5, 6, 7, -8};
	void *buf = NULL;
	size_t len = 0;
	int lens[16];

	for (int i = 0; i < 150; i++)
		memcpy(long_utf8 + 2 * i, "\xc3\xa9", 2); /* é, 300 bytes */
	for (int i = 0; i < 100; i++)
		memcpy(han + 3 * i, "\xe6\xbc\xa2", 3); /* 漢, 300 bytes */
	labels[0] = long_utf8;
	labels[1] = han;
	labels[2] = "bad \xff\xfe utf-8 \xe6\xbc";
	labels[3] = "<b>markup & such</b>";
	labels[4] = "line\nbreak\ttab";
	labels[5] = "";
	labels[6] = NULL;
	labels[7] = "negative";
	cr_assert_eq(folio_render_bars(&buf, &len, "<i>odd</i> & \xff", labels, values, 8), 0,
		     "%s", folio_error_last());
	VipsImage *img = decode(buf, len, "png");
	cr_assert_eq(img->Xsize, 800);
	cr_assert_eq(find_bars(img, lens, 16), 8);
	g_object_unref(img);
}

Test(render, bars_bad_arguments)
{
	const char *labels[] = {"a", "b", "c"};
	const double values[] = {NAN, INFINITY, -INFINITY};
	void *buf = NULL;
	size_t len = 0;
	int lens[4];

	cr_assert_eq(folio_render_bars(NULL, &len, NULL, labels, values, 3), FOLIO_EINVAL);
	cr_assert_eq(folio_render_bars(&buf, NULL, NULL, labels, values, 3), FOLIO_EINVAL);
	cr_assert_eq(folio_render_bars(&buf, &len, NULL, NULL, values, 3), FOLIO_EINVAL);
	cr_assert_eq(folio_render_bars(&buf, &len, NULL, labels, NULL, 3), FOLIO_EINVAL);
	cr_assert_null(buf);
	/* values that are not numbers get no bar, and no crash */
	cr_assert_eq(folio_render_bars(&buf, &len, NULL, labels, values, 3), 0, "%s",
		     folio_error_last());
	VipsImage *img = decode(buf, len, "png");
	cr_assert_eq(find_bars(img, lens, 4), 0);
	g_object_unref(img);
}

/* ---- histogram --------------------------------------------------------------- */

Test(render, histogram_clamps_and_ignores_nan)
{
	const double low[] = {-5, -0.1, 0.1, 0.2, NAN, NAN, -INFINITY};
	const double high[] = {0.7, 5, INFINITY, NAN};
	void *buf = NULL;
	size_t len = 0;

	/* everything in the first of two bins: accent only on the left half */
	cr_assert_eq(folio_render_histogram(&buf, &len, "low", "x", low, 7, 2, 0, 1), 0, "%s",
		     folio_error_last());
	VipsImage *img = decode(buf, len, "png");
	cr_assert_eq(img->Xsize, 800);
	cr_assert_eq(img->Ysize, 400);
	cr_assert_gt(count_color(img, ACCENT, 2, 0, 400), 1000);
	cr_assert_eq(count_color(img, ACCENT, 2, 440, 800), 0);
	g_object_unref(img);

	cr_assert_eq(folio_render_histogram(&buf, &len, NULL, NULL, high, 4, 2, 0, 1), 0, "%s",
		     folio_error_last());
	img = decode(buf, len, "png");
	cr_assert_eq(count_color(img, ACCENT, 2, 0, 400), 0);
	cr_assert_gt(count_color(img, ACCENT, 2, 440, 800), 1000);
	g_object_unref(img);
}

Test(render, histogram_bins)
{
	double values[1000];
	void *buf = NULL;
	size_t len = 0;

	for (int i = 0; i < 1000; i++)
		values[i] = (i + 0.5) / 1000.0; /* 5 a bin, away from bin edges */
	cr_assert_eq(folio_render_histogram(&buf, &len, "one", "v", values, 1000, 1, 0, 1), 0);
	VipsImage *one = decode(buf, len, "png");
	cr_assert_eq(folio_render_histogram(&buf, &len, "many", "v", values, 1000, 200, 0, 1),
		     0);
	VipsImage *many = decode(buf, len, "png");
	/* one bin is one full-height block; 200 equal bins nearly the same area */
	long a = count_color(one, ACCENT, 2, 0, 800), b = count_color(many, ACCENT, 2, 0, 800);
	cr_assert_gt(a, 100000);
	cr_assert_gt(b, a * 8 / 10, "%ld vs %ld", b, a);
	cr_assert_eq(many->Xsize, 800);
	g_object_unref(one);
	g_object_unref(many);

	/* no values at all is allowed */
	cr_assert_eq(folio_render_histogram(&buf, &len, NULL, NULL, NULL, 0, 10, -1, 1), 0);
	one = decode(buf, len, "png");
	cr_assert_eq(count_color(one, ACCENT, 2, 0, 800), 0);
	g_object_unref(one);

	buf = NULL;
	cr_assert_eq(folio_render_histogram(&buf, &len, NULL, NULL, values, 10, 0, 0, 1),
		     FOLIO_EINVAL);
	cr_assert_eq(folio_render_histogram(&buf, &len, NULL, NULL, values, 10, 201, 0, 1),
		     FOLIO_EINVAL);
	cr_assert_eq(folio_render_histogram(&buf, &len, NULL, NULL, values, 10, -3, 0, 1),
		     FOLIO_EINVAL);
	cr_assert_eq(folio_render_histogram(&buf, &len, NULL, NULL, values, 10, 10, 1, 1),
		     FOLIO_EINVAL);
	cr_assert_eq(folio_render_histogram(&buf, &len, NULL, NULL, values, 10, 10, 2, 1),
		     FOLIO_EINVAL);
	cr_assert_eq(folio_render_histogram(&buf, &len, NULL, NULL, values, 10, 10, NAN, 1),
		     FOLIO_EINVAL);
	cr_assert_eq(folio_render_histogram(&buf, &len, NULL, NULL, values, 10, 10, 0, INFINITY),
		     FOLIO_EINVAL);
	cr_assert_eq(folio_render_histogram(&buf, &len, NULL, NULL, NULL, 10, 10, 0, 1),
		     FOLIO_EINVAL);
	cr_assert_null(buf);
}

/* ---- preview ----------------------------------------------------------------- */

/* folio_render_preview of path with one box, decoded; loader "png" or "jpeg". */
static VipsImage *preview_of(const char *path, const folio_render_box *box,
			     const char *loader)
{
	void *buf = NULL;
	size_t len = 0;

	cr_assert_eq(folio_render_preview(&buf, &len, path, "img", box, 1), 0, "%s",
		     folio_error_last());
	return decode(buf, len, loader);
}

static VipsImage *preview_png(const char *path, const folio_render_box *box)
{
	return preview_of(path, box, "png");
}

static void white_png(char *path, size_t size)
{
	save(path, size, "white.png", plain(200, 100, 3, 0xffffff));
}

Test(render, preview_draws_box)
{
	char path[400];
	folio_render_box box = {20, 20, 60, 40, "cat 0.9", 0xFF0000};

	white_png(path, sizeof path);
	VipsImage *img = preview_png(path, &box);
	cr_assert_eq(img->Xsize, 200);
	cr_assert_eq(img->Ysize, 100);
	/* edges: left, right, top, bottom */
	cr_assert(near(px_at(img, 20, 40), 0xff0000, 40));
	cr_assert(near(px_at(img, 79, 40), 0xff0000, 40));
	cr_assert(near(px_at(img, 50, 20), 0xff0000, 40));
	cr_assert(near(px_at(img, 50, 59), 0xff0000, 40));
	/* inside and outside */
	cr_assert(near(px_at(img, 50, 40), 0xffffff, 0));
	cr_assert(near(px_at(img, 25, 40), 0xffffff, 0));
	cr_assert(near(px_at(img, 10, 40), 0xffffff, 0));
	cr_assert(near(px_at(img, 85, 40), 0xffffff, 0));
	/* the label sits on a red band just above the box */
	long above = 0;
	for (int y = 0; y < 20; y++)
		for (int x = 0; x < 200; x++)
			above += near(px_at(img, x, y), 0xff0000, 40);
	cr_assert_gt(above, 200);
	cr_assert(near(px_at(img, 21, 18), 0xff0000, 40));
	g_object_unref(img);
}

Test(render, preview_skips_bad_boxes)
{
	char path[400];
	folio_render_box boxes[] = {
		{300, 10, 20, 20, "outside", 0},
		{10, 150, 20, 20, NULL, 0},
		{10, 10, -20, 20, "negative", 0},
		{10, 10, 20, 0, "flat", 0},
		{NAN, 10, 20, 20, "nan", 0},
		{10, 10, NAN, 20, "nan w", 0},
		{10, 10, INFINITY, 20, "inf w", 0},
		{-1e300, -1e300, 1e300, 1e300, "far", 0},
		{-INFINITY, 0, INFINITY, 10, "inf", 0},
	};
	void *buf = NULL;
	size_t len = 0;
	double min = 0;

	white_png(path, sizeof path);
	cr_assert_eq(folio_render_preview(&buf, &len, path, "w", boxes,
					  sizeof boxes / sizeof boxes[0]), 0, "%s",
		     folio_error_last());
	VipsImage *img = decode(buf, len, "png");
	cr_assert_eq(vips_min(img, &min, NULL), 0);
	cr_assert_eq(min, 255, "something was drawn");
	g_object_unref(img);

	/* a box over the corner is clipped, its visible edges drawn */
	folio_render_box corner = {-10, -10, 40, 40, "corner", 0x0000ff};
	img = preview_png(path, &corner);
	cr_assert(near(px_at(img, 29, 25), 0x0000ff, 40));
	cr_assert(near(px_at(img, 25, 29), 0x0000ff, 40));
	cr_assert(near(px_at(img, 20, 22), 0xffffff, 0));
	g_object_unref(img);

	/* a one-pixel box is that pixel, not a thick square */
	folio_render_box dot = {100.2, 50.5, 0.5, 0.4, NULL, 0x0000ff};
	img = preview_png(path, &dot);
	cr_assert(near(px_at(img, 100, 50), 0x0000ff, 0));
	cr_assert(near(px_at(img, 101, 50), 0xffffff, 0));
	cr_assert(near(px_at(img, 100, 51), 0xffffff, 0));
	g_object_unref(img);

	/* a megabyte of label is cut short, not laid out in full */
	char *huge = malloc(1 << 20);
	cr_assert_not_null(huge);
	memset(huge, 'w', (1 << 20) - 1);
	huge[(1 << 20) - 1] = '\0';
	folio_render_box wordy = {20, 40, 50, 30, huge, 0};
	img = preview_png(path, &wordy);
	free(huge);
	cr_assert(!near(px_at(img, 199, 25), 0xffffff, 10), "label spans the width");
	g_object_unref(img);

	/* a huge image-sized box with a palette colour */
	folio_render_box all = {0, 0, 200, 100, "person 87%", 0};
	img = preview_png(path, &all);
	cr_assert(!near(px_at(img, 0, 50), 0xffffff, 10));
	cr_assert(!near(px_at(img, 199, 50), 0xffffff, 10));
	cr_assert(near(px_at(img, 100, 50), 0xffffff, 0));
	g_object_unref(img);
}

Test(render, preview_palette_ignores_score)
{
	char path[400];
	folio_render_box a = {50, 30, 100, 50, "traffic light 0.91", 0};
	folio_render_box b = {50, 30, 100, 50, "traffic light 0.12", 0};

	white_png(path, sizeof path);
	VipsImage *ia = preview_png(path, &a), *ib = preview_png(path, &b);
	cr_assert_eq(memcmp(px_at(ia, 50, 60), px_at(ib, 50, 60), 3), 0);
	cr_assert(!near(px_at(ia, 50, 60), 0xffffff, 10));
	g_object_unref(ia);
	g_object_unref(ib);
}

Test(render, preview_gray_alpha_16bit)
{
	char gray[400], alpha[400], deep[400];
	folio_render_box box = {20, 20, 60, 40, "x", 0x00ff00};
	VipsImage *rgba = NULL, *g16 = NULL, *g8 = plain(200, 100, 1, 0x404040), *img;
	VipsImage *rgb = plain(200, 100, 3, 0x000000), *a = plain(200, 100, 1, 0x000000);

	save(gray, sizeof gray, "gray.png", plain(200, 100, 1, 0x808080));
	/* black, fully transparent: flattened onto white */
	cr_assert_eq(vips_bandjoin2(rgb, a, &rgba, NULL), 0);
	rgba->Type = VIPS_INTERPRETATION_sRGB;
	save(alpha, sizeof alpha, "alpha.png", rgba);
	g_object_unref(rgb);
	g_object_unref(a);
	cr_assert_eq(vips_linear1(g8, &g16, 256, 0, NULL), 0);
	cr_assert_eq(vips_cast_ushort(g16, &img, NULL), 0);
	g_object_unref(g8);
	g_object_unref(g16);
	img->Type = VIPS_INTERPRETATION_GREY16;
	save(deep, sizeof deep, "deep.png", img);

	img = preview_png(gray, &box);
	cr_assert(near(px_at(img, 50, 40), 0x808080, 1));
	cr_assert(near(px_at(img, 20, 40), 0x00ff00, 40));
	g_object_unref(img);
	img = preview_png(alpha, &box);
	cr_assert(near(px_at(img, 50, 40), 0xffffff, 1));
	cr_assert(near(px_at(img, 20, 40), 0x00ff00, 40));
	g_object_unref(img);
	img = preview_png(deep, &box);
	cr_assert(near(px_at(img, 50, 40), 0x404040, 2));
	g_object_unref(img);
}

Test(render, preview_jpeg_gives_jpeg)
{
	char path[400];
	folio_render_box box = {100, 50, 100, 80, "dog", 0xFF0000};
	void *buf = NULL;
	size_t len = 0;

	save(path, sizeof path, "photo.jpg", plain(320, 240, 3, 0xffffff));
	VipsImage *img = preview_of(path, &box, "jpeg");
	cr_assert_eq(img->Xsize, 320);
	cr_assert_eq(img->Ysize, 240);
	cr_assert(near(px_at(img, 100, 90), 0xff0000, 60));
	cr_assert(near(px_at(img, 150, 90), 0xffffff, 8));
	g_object_unref(img);
	/* no boxes: the image itself */
	cr_assert_eq(folio_render_preview(&buf, &len, path, NULL, NULL, 0), 0);
	img = decode(buf, len, "jpeg");
	cr_assert_eq(img->Xsize, 320);
	g_object_unref(img);
}

Test(render, preview_broken_inputs)
{
	char junk_path[400], cut_path[400], huge_path[400], missing[400], pgm[64];
	unsigned char junk[3000];
	VipsImage *noise = NULL, *noise8 = NULL;
	void *png = NULL, *buf = NULL;
	size_t png_len = 0, len = 0;

	srand(5);
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (unsigned char)rand();
	save_bytes(junk_path, sizeof junk_path, "junk.jpg", junk, sizeof junk);
	cr_assert_eq(folio_render_preview(&buf, &len, junk_path, "set/junk.jpg", NULL, 0),
		     FOLIO_ECORRUPT);
	cr_assert_not_null(strstr(folio_error_last(), "set/junk.jpg"), "%s", folio_error_last());
	cr_assert_null(buf);

	/* a PNG cut in half: the header reads, the pixels do not */
	cr_assert_eq(vips_gaussnoise(&noise, 300, 200, NULL), 0);
	cr_assert_eq(vips_cast_uchar(noise, &noise8, NULL), 0);
	cr_assert_eq(vips_pngsave_buffer(noise8, &png, &png_len, NULL), 0);
	save_bytes(cut_path, sizeof cut_path, "cut.png", png, png_len / 2);
	g_free(png);
	g_object_unref(noise);
	g_object_unref(noise8);
	cr_assert_eq(folio_render_preview(&buf, &len, cut_path, "set/cut.png", NULL, 0),
		     FOLIO_ECORRUPT);
	cr_assert_not_null(strstr(folio_error_last(), "set/cut.png"), "%s", folio_error_last());
	/* without a name the path is named */
	cr_assert_eq(folio_render_preview(&buf, &len, cut_path, NULL, NULL, 0), FOLIO_ECORRUPT);
	cr_assert_not_null(strstr(folio_error_last(), cut_path));

	/* a PGM header claiming 30000 x 30000 pixels is refused before decoding */
	snprintf(pgm, sizeof pgm, "P5\n30000 30000\n255\n");
	save_bytes(huge_path, sizeof huge_path, "huge.pgm", pgm, strlen(pgm) + 4);
	cr_assert_eq(folio_render_preview(&buf, &len, huge_path, "huge", NULL, 0), FOLIO_EINVAL);
	cr_assert_not_null(strstr(folio_error_last(), "huge"));

	snprintf(missing, sizeof missing, "%s/missing.png", dir);
	cr_assert_eq(folio_render_preview(&buf, &len, missing, "set/missing.png", NULL, 0),
		     FOLIO_ENOTFOUND);
	cr_assert_eq(folio_render_preview(&buf, &len, dir, "folder", NULL, 0), FOLIO_EINVAL);
	cr_assert_eq(folio_render_preview(&buf, &len, NULL, "x", NULL, 0), FOLIO_EINVAL);
	cr_assert_eq(folio_render_preview(&buf, &len, junk_path, "x", NULL, 1), FOLIO_EINVAL);
	cr_assert_null(buf);
}

/* ---- mosaic ------------------------------------------------------------------ */

/* Five inputs: a wide red PNG, a JPEG, garbage, a tall gray PNG, a missing file. */
static void five_inputs(char paths[5][400])
{
	save(paths[0], sizeof paths[0], "wide.png", plain(200, 50, 3, 0xff0000));
	save(paths[1], sizeof paths[1], "photo.jpg", plain(120, 90, 3, 0x20c020));
	static const char junk[] = "\x89PNG\r\n\x1a\n garbage";
	save_bytes(paths[2], sizeof paths[2], "junk.png", junk, sizeof junk - 1);
	save(paths[3], sizeof paths[3], "tall.png", plain(30, 90, 1, 0xc0c0c0));
	snprintf(paths[4], sizeof paths[4], "%s/missing.jpg", dir);
}

#define GAP FOLIO_RENDER_MOSAIC_GAP
#define CAP FOLIO_RENDER_MOSAIC_CAPTION

Test(render, mosaic_grid)
{
	char paths[5][400];
	const char *p[5], *captions[5] = {"wide", "a caption far too long for a cell of 64 px",
					  "junk", NULL, "missing"};
	void *buf = NULL;
	size_t len = 0;

	five_inputs(paths);
	for (int i = 0; i < 5; i++)
		p[i] = paths[i];
	cr_assert_eq(folio_render_mosaic(&buf, &len, p, captions, 5, 64, 0), 0, "%s",
		     folio_error_last());
	VipsImage *img = decode(buf, len, "jpeg");
	/* 3 columns (about square), 2 rows, caption strips */
	cr_assert_eq(img->Xsize, 3 * 64 + 4 * GAP);
	cr_assert_eq(img->Ysize, 2 * (64 + CAP) + 3 * GAP);
	/* the wide red image is letterboxed: red in the middle, dark above */
	cr_assert(near(px_at(img, GAP + 32, GAP + 32), 0xff0000, 40));
	cr_assert_lt(px_at(img, GAP + 32, GAP + 4)[0], 80);
	/* the JPEG fills its cell's width */
	cr_assert(near(px_at(img, 2 * GAP + 64 + 32, GAP + 32), 0x20c020, 40));
	/* garbage (third cell) and missing (second row, middle) are gray */
	cr_assert(near(px_at(img, 3 * GAP + 128 + 3, GAP + 3), 0x808080, 16));
	int y2 = 2 * GAP + 64 + CAP;
	cr_assert(near(px_at(img, 2 * GAP + 64 + 3, y2 + 3), 0x808080, 16));
	/* the tall gray one is pillarboxed */
	cr_assert(near(px_at(img, GAP + 32, y2 + 32), 0xc0c0c0, 16));
	cr_assert_lt(px_at(img, GAP + 3, y2 + 32)[0], 80);
	g_object_unref(img);

	/* no captions: no strips; 5 columns asked; too many columns shrink to n */
	cr_assert_eq(folio_render_mosaic(&buf, &len, p, NULL, 5, 64, 5), 0);
	img = decode(buf, len, "jpeg");
	cr_assert_eq(img->Xsize, 5 * 64 + 6 * GAP);
	cr_assert_eq(img->Ysize, 64 + 2 * GAP);
	g_object_unref(img);
	cr_assert_eq(folio_render_mosaic(&buf, &len, p, NULL, 5, 16, 50), 0);
	img = decode(buf, len, "jpeg");
	cr_assert_eq(img->Xsize, 5 * 16 + 6 * GAP);
	g_object_unref(img);
	cr_assert_eq(folio_render_mosaic(&buf, &len, p, captions, 2, 512, 1), 0);
	img = decode(buf, len, "jpeg");
	cr_assert_eq(img->Xsize, 512 + 2 * GAP);
	cr_assert_eq(img->Ysize, 2 * (512 + CAP) + 3 * GAP);
	g_object_unref(img);
}

Test(render, mosaic_empty_and_bad_arguments)
{
	const char *p[1] = {NULL};
	void *buf = NULL;
	size_t len = 0;

	cr_assert_eq(folio_render_mosaic(&buf, &len, NULL, NULL, 0, 64, 0), 0, "%s",
		     folio_error_last());
	VipsImage *img = decode(buf, len, "jpeg");
	cr_assert_gt(img->Xsize, 0);
	g_object_unref(img);
	/* a NULL path is an unreadable image, not an error */
	cr_assert_eq(folio_render_mosaic(&buf, &len, p, p, 1, 32, 0), 0);
	img = decode(buf, len, "jpeg");
	cr_assert_eq(img->Xsize, 32 + 2 * GAP);
	cr_assert_eq(img->Ysize, 32 + CAP + 2 * GAP);
	g_object_unref(img);

	buf = NULL;
	cr_assert_eq(folio_render_mosaic(&buf, &len, p, NULL, 1, 15, 0), FOLIO_EINVAL);
	cr_assert_eq(folio_render_mosaic(&buf, &len, p, NULL, 1, 513, 0), FOLIO_EINVAL);
	cr_assert_eq(folio_render_mosaic(&buf, &len, p, NULL, 1, 64, -1), FOLIO_EINVAL);
	cr_assert_eq(folio_render_mosaic(&buf, &len, NULL, NULL, 1, 64, 0), FOLIO_EINVAL);
	cr_assert_eq(folio_render_mosaic(NULL, &len, p, NULL, 1, 64, 0), FOLIO_EINVAL);
	cr_assert_null(buf);
}

Test(render, mosaic_capped_at_1024)
{
	char path[400];
	const char **p = calloc(1100, sizeof *p);
	void *buf = NULL;
	size_t len = 0;

	cr_assert_not_null(p);
	save(path, sizeof path, "tiny.png", plain(8, 8, 3, 0x3060c0));
	for (int i = 0; i < 1100; i++)
		p[i] = path;
	cr_assert_eq(folio_render_mosaic(&buf, &len, p, NULL, 1100, 16, 64), 0, "%s",
		     folio_error_last());
	free(p);
	VipsImage *img = decode(buf, len, "jpeg");
	cr_assert_eq(img->Xsize, 64 * (16 + GAP) + GAP);
	cr_assert_eq(img->Ysize, 16 * (16 + GAP) + GAP);
	g_object_unref(img);
}

/* ---- threads ----------------------------------------------------------------- */

struct job {
	const char *path;
	void *bars, *preview, *mosaic;
	size_t bars_len, preview_len, mosaic_len;
	int error;
};

static void *render_all(void *arg)
{
	struct job *j = arg;
	const char *labels[] = {"one", "two", "three"};
	const double values[] = {1, 2, 3};
	folio_render_box box = {10, 10, 50, 50, "thing 0.5", 0};
	const char *paths[3] = {j->path, "/nonexistent.jpg", j->path};

	for (int round = 0; round < 3 && !j->error; round++) {
		free(j->bars);
		free(j->preview);
		free(j->mosaic);
		j->bars = j->preview = j->mosaic = NULL;
		j->error = folio_render_bars(&j->bars, &j->bars_len, "t", labels, values, 3);
		if (!j->error)
			j->error = folio_render_preview(&j->preview, &j->preview_len, j->path,
							"p", &box, 1);
		if (!j->error)
			j->error = folio_render_mosaic(&j->mosaic, &j->mosaic_len, paths, labels,
						       3, 48, 0);
	}
	return NULL;
}

Test(render, threads_give_the_same_bytes)
{
	char path[400];
	struct job jobs[4];
	pthread_t tids[4];

	save(path, sizeof path, "t.jpg", plain(160, 120, 3, 0x8090a0));
	memset(jobs, 0, sizeof jobs);
	for (int i = 0; i < 4; i++) {
		jobs[i].path = path;
		cr_assert_eq(pthread_create(&tids[i], NULL, render_all, &jobs[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(tids[i], NULL);
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(jobs[i].error, 0, "thread %d: %d", i, jobs[i].error);
		cr_assert_eq(jobs[i].bars_len, jobs[0].bars_len);
		cr_assert_eq(memcmp(jobs[i].bars, jobs[0].bars, jobs[0].bars_len), 0);
		cr_assert_eq(jobs[i].preview_len, jobs[0].preview_len);
		cr_assert_eq(memcmp(jobs[i].preview, jobs[0].preview, jobs[0].preview_len), 0);
		cr_assert_eq(jobs[i].mosaic_len, jobs[0].mosaic_len);
		cr_assert_eq(memcmp(jobs[i].mosaic, jobs[0].mosaic, jobs[0].mosaic_len), 0);
	}
	for (int i = 0; i < 4; i++) {
		free(jobs[i].bars);
		free(jobs[i].preview);
		free(jobs[i].mosaic);
	}
}
