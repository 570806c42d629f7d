/*
 * test_features.c — unit tests of image features (core/analysis).
 *
 * Images are synthesised with libvips inside each test (solid gray,
 * checkerboards, noise, gradients) and encoded to PNG/JPEG buffers, so the
 * expected properties follow from how they were made. Broken inputs
 * (truncated JPEG, garbage, a PNG header claiming 100000x100000) must give
 * decodable = 0 and never crash. Cache tests use a temp folder with a store
 * in objects/ and the cache in cache/.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "../testutil.h"
#include <vips/vips.h>

#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include "folio/analysis.h"
#include "folio/error.h"
#include "folio/oid.h"
#include "folio/store.h"

static char root[TEST_DIR_MAX];
static char objdir[300];
static char cachedir[300];
static folio_store *store;

static void setup(void)
{
	cr_assert_eq(folio_analysis_init(), 0, "%s", folio_error_last());
	test_mkdtemp(root, "analysis");
	snprintf(objdir, sizeof objdir, "%s/objects", root);
	snprintf(cachedir, sizeof cachedir, "%s/cache", root);
	cr_assert_eq(folio_store_open(&store, objdir, 1), 0, "%s", folio_error_last());
}

static void teardown(void)
{
	folio_store_free(store);
	store = NULL;
	test_rmtree(root);
}

TestSuite(analysis, .init = setup, .fini = teardown);

/* ---- image makers (each returns a new VipsImage, uchar) ----------------- */

static VipsImage *solid(int w, int h, double v)
{
	VipsImage *black = NULL, *out = NULL;
	cr_assert_eq(vips_black(&black, w, h, "bands", 3, NULL), 0);
	cr_assert_eq(vips_linear1(black, &out, 1.0, v, "uchar", TRUE, NULL), 0);
	g_object_unref(black);
	return out;
}

/* Checkerboard of sq-pixel squares, 0 and 255, 3 bands. */
static VipsImage *checker(int w, int h, int sq)
{
	unsigned char *px = g_malloc((size_t)w * h * 3);
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			unsigned char v = ((x / sq + y / sq) & 1) ? 255 : 0;
			memset(px + ((size_t)y * w + x) * 3, v, 3);
		}
	VipsImage *img = vips_image_new_from_memory_copy(px, (size_t)w * h * 3, w, h, 3,
							 VIPS_FORMAT_UCHAR);
	g_free(px);
	cr_assert_not_null(img);
	img->Type = VIPS_INTERPRETATION_sRGB;
	return img;
}

/* A photo-like scene: smooth blobs of colour depending on seed. */
static VipsImage *scene(int w, int h, unsigned seed)
{
	unsigned char *px = g_malloc((size_t)w * h * 3);
	double cx[6], cy[6], rr[6], col[6][3];
	srand(seed);
	for (int k = 0; k < 6; k++) {
		cx[k] = rand() % w;
		cy[k] = rand() % h;
		rr[k] = 20 + rand() % (w / 3);
		for (int c = 0; c < 3; c++)
			col[k][c] = rand() % 256;
	}
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			double v[3] = {x * 255.0 / w, y * 255.0 / h, 128};
			for (int k = 0; k < 6; k++) {
				double dx = x - cx[k], dy = y - cy[k];
				if (dx * dx + dy * dy < rr[k] * rr[k])
					for (int c = 0; c < 3; c++)
						v[c] = col[k][c];
			}
			for (int c = 0; c < 3; c++)
				px[((size_t)y * w + x) * 3 + c] = (unsigned char)v[c];
		}
	VipsImage *img = vips_image_new_from_memory_copy(px, (size_t)w * h * 3, w, h, 3,
							 VIPS_FORMAT_UCHAR);
	g_free(px);
	cr_assert_not_null(img);
	img->Type = VIPS_INTERPRETATION_sRGB;
	return img;
}

static void *encode(VipsImage *img, const char *suffix, size_t *len)
{
	void *buf = NULL;
	cr_assert_eq(vips_image_write_to_buffer(img, suffix, &buf, len, NULL), 0, "%s",
		     vips_error_buffer());
	return buf;
}

static void features_of_image(folio_features *f, VipsImage *img, const char *suffix)
{
	size_t len;
	void *buf = encode(img, suffix, &len);
	cr_assert_eq(folio_features_compute_buf(f, buf, len, 1), 0, "%s", folio_error_last());
	g_free(buf);
	cr_assert(f->decodable, "%s", f->error);
	cr_assert(f->has_pixels);
}

/* ---- features ------------------------------------------------------------ */

Test(analysis, solid_gray)
{
	VipsImage *img = solid(200, 150, 120);
	folio_features f;
	features_of_image(&f, img, ".png");
	g_object_unref(img);
	cr_assert_str_eq(f.format, "png");
	cr_assert_eq(f.width, 200);
	cr_assert_eq(f.height, 150);
	cr_assert_eq(f.bands, 3);
	cr_assert_eq(f.orientation, 1);
	cr_assert_eq(f.grayscale, 1);
	cr_assert_lt(f.entropy, 0.01);
	cr_assert_lt(f.contrast_rms, 0.01);
	cr_assert_lt(f.sharpness, 0.5);
	cr_assert_gt(f.blurriness, 0.99);
	cr_assert_float_eq(f.brightness_mean, 120 / 255.0, 0.01);
	cr_assert_float_eq(f.brightness_p50, 120 / 255.0, 0.01);
	cr_assert_lt(f.colorfulness, 0.5);
}

Test(analysis, header_only)
{
	VipsImage *img = solid(64, 32, 10);
	size_t len;
	void *buf = encode(img, ".jpg", &len);
	folio_features f;
	g_object_unref(img);
	cr_assert_eq(folio_features_compute_buf(&f, buf, len, 0), 0);
	g_free(buf);
	cr_assert_str_eq(f.format, "jpeg");
	cr_assert_eq(f.width, 64);
	cr_assert(f.decodable);
	cr_assert_eq(f.has_pixels, 0);
}

Test(analysis, sharp_vs_blurred_checkerboard)
{
	VipsImage *sharp = checker(512, 512, 32), *blurred = NULL;
	folio_features a, b;
	cr_assert_eq(vips_gaussblur(sharp, &blurred, 12, NULL), 0);
	features_of_image(&a, sharp, ".png");
	features_of_image(&b, blurred, ".png");
	g_object_unref(sharp);
	g_object_unref(blurred);
	cr_assert_gt(a.sharpness, 1000, "sharp checkerboard: %f", a.sharpness);
	cr_assert_lt(b.sharpness, a.sharpness / 4, "%f vs %f", b.sharpness, a.sharpness);
	cr_assert_gt(b.blurriness, a.blurriness);
	cr_assert_gt(a.contrast_rms, 0.4);
	cr_assert_gt(a.entropy, 0.9); /* two levels plus resampled edges */
	cr_assert_eq(a.grayscale, 1);
}

Test(analysis, colorful_beats_gray)
{
	VipsImage *c = scene(300, 200, 7), *g = solid(300, 200, 90), *bw = NULL, *bw3 = NULL;
	folio_features fc, fg, fbw;
	features_of_image(&fc, c, ".png");
	features_of_image(&fg, g, ".png");
	/* the same scene made gray must count as grayscale */
	cr_assert_eq(vips_colourspace(c, &bw, VIPS_INTERPRETATION_B_W, NULL), 0);
	features_of_image(&fbw, bw, ".png");
	cr_assert_eq(vips_colourspace(bw, &bw3, VIPS_INTERPRETATION_sRGB, NULL), 0);
	g_object_unref(c);
	g_object_unref(g);
	g_object_unref(bw);
	g_object_unref(bw3);
	cr_assert_gt(fc.colorfulness, fg.colorfulness + 20, "%f", fc.colorfulness);
	cr_assert_eq(fc.grayscale, 0);
	cr_assert_eq(fbw.grayscale, 1);
	cr_assert_eq(fbw.bands, 1);
	cr_assert_gt(fc.entropy, 1.0);
}

Test(analysis, phash_resize_close_different_far)
{
	VipsImage *a = scene(640, 480, 1), *small = NULL, *other = scene(640, 480, 99);
	folio_features fa, fs, fo;
	cr_assert_eq(vips_resize(a, &small, 0.4, NULL), 0);
	features_of_image(&fa, a, ".jpg");
	features_of_image(&fs, small, ".png");
	features_of_image(&fo, other, ".jpg");
	g_object_unref(a);
	g_object_unref(small);
	g_object_unref(other);
	int dp = folio_phash_distance(fa.phash, fs.phash);
	int dd = folio_phash_distance(fa.dhash, fs.dhash);
	cr_assert_leq(dp, 6, "pHash distance after resize %d", dp);
	cr_assert_leq(dd, 8, "dHash distance after resize %d", dd);
	cr_assert_gt(folio_phash_distance(fa.phash, fo.phash), 16, "%d",
		     folio_phash_distance(fa.phash, fo.phash));
	cr_assert_gt(folio_phash_distance(fa.dhash, fo.dhash), 10);
	cr_assert_eq(folio_phash_distance(0, ~(uint64_t)0), 64);
}

Test(analysis, exif_orientation)
{
	VipsImage *a = scene(120, 80, 3), *c = NULL;
	folio_features f;
	cr_assert_eq(vips_copy(a, &c, NULL), 0);
	vips_image_set_int(c, VIPS_META_ORIENTATION, 6);
	features_of_image(&f, c, ".jpg");
	g_object_unref(a);
	g_object_unref(c);
	cr_assert_eq(f.orientation, 6);
	cr_assert_eq(f.width, 120); /* header size, before rotation */
	cr_assert_eq(f.height, 80);
}

Test(analysis, truncated_jpeg)
{
	VipsImage *a = scene(400, 300, 5);
	size_t len;
	unsigned char *buf = encode(a, ".jpg[Q=90]", &len);
	folio_features f;
	g_object_unref(a);
	cr_assert_eq(folio_features_compute_buf(&f, buf, len / 2, 1), 0);
	g_free(buf);
	cr_assert_eq(f.decodable, 0);
	cr_assert_eq(f.has_pixels, 0);
	cr_assert_neq(f.error[0], '\0');
}

Test(analysis, garbage_bytes)
{
	unsigned char junk[4096];
	folio_features f;
	srand(11);
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (unsigned char)rand();
	cr_assert_eq(folio_features_compute_buf(&f, junk, sizeof junk, 1), 0);
	cr_assert_eq(f.decodable, 0);
	cr_assert_neq(f.error[0], '\0');
	cr_assert_eq(folio_features_compute_buf(&f, junk, 0, 1), 0);
	cr_assert_eq(f.decodable, 0);
	/* a JPEG signature followed by junk */
	junk[0] = 0xff, junk[1] = 0xd8, junk[2] = 0xff;
	cr_assert_eq(folio_features_compute_buf(&f, junk, sizeof junk, 1), 0);
	cr_assert_eq(f.decodable, 0);
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return c ^ 0xffffffffu;
}

static void be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

Test(analysis, huge_dimensions_refused)
{
	/* signature, IHDR claiming 100000x100000 RGB8, a tiny IDAT, IEND */
	unsigned char png[8 + 25 + 12 + 12 + 12] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	unsigned char *p = png + 8;
	folio_features f;

	be32(p, 13);
	memcpy(p + 4, "IHDR", 4);
	be32(p + 8, 100000);
	be32(p + 12, 100000);
	p[16] = 8, p[17] = 2, p[18] = 0, p[19] = 0, p[20] = 0;
	be32(p + 21, crc32_of(p + 4, 17));
	p += 25;
	be32(p, 0);
	memcpy(p + 4, "IDAT", 4);
	be32(p + 8, crc32_of(p + 4, 4));
	p += 12;
	be32(p, 0);
	memcpy(p + 4, "IEND", 4);
	be32(p + 8, crc32_of(p + 4, 4));

	cr_assert_eq(folio_features_compute_buf(&f, png, sizeof png - 12, 1), 0);
	cr_assert_eq(f.decodable, 0);
	cr_assert_eq(f.has_pixels, 0);
	cr_assert_neq(f.error[0], '\0');
	cr_log_info("huge PNG: %s", f.error);
}

Test(analysis, file_path_and_missing_file)
{
	VipsImage *a = scene(300, 200, 4);
	char path[400];
	folio_features f1, f2;
	size_t len;
	void *buf = encode(a, ".jpg", &len);
	g_object_unref(a);
	snprintf(path, sizeof path, "%s/a.jpg", root);
	FILE *fp = fopen(path, "wb");
	cr_assert_not_null(fp);
	cr_assert_eq(fwrite(buf, 1, len, fp), len);
	fclose(fp);
	cr_assert_eq(folio_features_compute_file(&f1, path, 1), 0);
	cr_assert_eq(folio_features_compute_buf(&f2, buf, len, 1), 0);
	g_free(buf);
	cr_assert(f1.has_pixels);
	cr_assert_eq(f1.phash, f2.phash);
	cr_assert_float_eq(f1.sharpness, f2.sharpness, 1e-3);
	snprintf(path, sizeof path, "%s/missing.jpg", root);
	cr_assert_eq(folio_features_compute_file(&f1, path, 1), FOLIO_ENOTFOUND);
}

/* ---- cache ---------------------------------------------------------------- */

static void put_image(folio_oid *oid, VipsImage *img, const char *suffix)
{
	size_t len;
	void *buf = encode(img, suffix, &len);
	cr_assert_eq(folio_store_put_buf(oid, store, buf, len), 0, "%s", folio_error_last());
	g_free(buf);
}

static void cache_file(char *out, size_t size, const folio_oid *oid)
{
	char hex[FOLIO_OID_HEXSZ + 1];
	folio_oid_tohex(hex, oid);
	snprintf(out, size, "%s/%.2s/%s", cachedir, hex, hex + 2);
}

Test(analysis, cache_hit_and_corrupt_cache)
{
	VipsImage *img = scene(320, 240, 8);
	folio_oid oid;
	folio_features a, b, c;
	char path[512];
	struct stat st;
	uint64_t before;

	put_image(&oid, img, ".png");
	g_object_unref(img);
	before = folio_analysis_computed();
	cr_assert_eq(folio_features_of(&a, store, &oid, cachedir, 1), 0, "%s",
		     folio_error_last());
	cr_assert_eq(folio_analysis_computed(), before + 1);
	cache_file(path, sizeof path, &oid);
	cr_assert_eq(stat(path, &st), 0, "no cache file %s", path);

	/* a hit: identical, nothing decoded */
	cr_assert_eq(folio_features_of(&b, store, &oid, cachedir, 1), 0);
	cr_assert_eq(folio_analysis_computed(), before + 1);
	cr_assert_eq(memcmp(&a, &b, sizeof a), 0);
	/* header-only asks are served by a pixel entry too */
	cr_assert_eq(folio_features_of(&b, store, &oid, cachedir, 0), 0);
	cr_assert_eq(folio_analysis_computed(), before + 1);

	/* flip one byte of the payload: recomputed, same result */
	int fd = open(path, O_RDWR);
	cr_assert_geq(fd, 0);
	unsigned char byte;
	cr_assert_eq(pread(fd, &byte, 1, 100), 1);
	byte ^= 0x40;
	cr_assert_eq(pwrite(fd, &byte, 1, 100), 1);
	close(fd);
	cr_assert_eq(folio_features_of(&c, store, &oid, cachedir, 1), 0);
	cr_assert_eq(folio_analysis_computed(), before + 2);
	cr_assert_eq(memcmp(&a, &c, sizeof a), 0);

	/* a short file: recomputed */
	cr_assert_eq(truncate(path, 17), 0);
	cr_assert_eq(folio_features_of(&c, store, &oid, cachedir, 1), 0);
	cr_assert_eq(folio_analysis_computed(), before + 3);
	cr_assert_eq(memcmp(&a, &c, sizeof a), 0);
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_gt(st.st_size, 17);
	/* and the rewritten file is a hit again */
	cr_assert_eq(folio_features_of(&c, store, &oid, cachedir, 1), 0);
	cr_assert_eq(folio_analysis_computed(), before + 3);
}

Test(analysis, header_cache_upgraded_for_pixels)
{
	VipsImage *img = scene(100, 100, 9);
	folio_oid oid;
	folio_features a;
	uint64_t before;

	put_image(&oid, img, ".jpg");
	g_object_unref(img);
	before = folio_analysis_computed();
	cr_assert_eq(folio_features_of(&a, store, &oid, cachedir, 0), 0);
	cr_assert_eq(a.has_pixels, 0);
	cr_assert_eq(folio_features_of(&a, store, &oid, cachedir, 1), 0);
	cr_assert_eq(a.has_pixels, 1);
	cr_assert_eq(folio_analysis_computed(), before + 2);
	cr_assert_eq(folio_features_of(&a, store, &oid, cachedir, 1), 0);
	cr_assert_eq(folio_analysis_computed(), before + 2);
}

Test(analysis, undecodable_object_is_cached)
{
	folio_oid oid;
	folio_features a, b;
	uint64_t before;

	cr_assert_eq(folio_store_put_buf(&oid, store, "not an image at all", 19), 0);
	before = folio_analysis_computed();
	cr_assert_eq(folio_features_of(&a, store, &oid, cachedir, 1), 0);
	cr_assert_eq(a.decodable, 0);
	cr_assert_eq(folio_features_of(&b, store, &oid, cachedir, 1), 0);
	cr_assert_eq(folio_analysis_computed(), before + 1);
	cr_assert_str_eq(a.error, b.error);
}

static void count_progress(size_t done, void *payload)
{
	size_t *max = payload;
	if (done > *max)
		*max = done;
}

Test(analysis, many_matches_single)
{
	enum { N = 24 };
	folio_oid oids[N];
	folio_features many[N], one;
	size_t progress = 0;

	for (int i = 0; i < N; i++) {
		VipsImage *img = scene(160 + i, 120, 100 + (unsigned)i);
		put_image(&oids[i], img, i % 2 ? ".jpg" : ".png");
		g_object_unref(img);
	}
	cr_assert_eq(folio_features_many(many, store, oids, N, cachedir, 1, 2,
					 count_progress, &progress), 0, "%s",
		     folio_error_last());
	cr_assert_eq(progress, N);
	for (int i = 0; i < N; i++) {
		cr_assert_eq(folio_features_of(&one, store, &oids[i], NULL, 1), 0);
		cr_assert_eq(memcmp(&one, &many[i], sizeof one), 0, "object %d", i);
	}
	/* a missing object fails the call with its code, the rest still done */
	memset(&oids[3], 0xab, sizeof oids[3]);
	cr_assert_eq(folio_features_many(many, store, oids, N, NULL, 1, 2, NULL, NULL),
		     FOLIO_ENOTFOUND);
	cr_assert(many[4].has_pixels);
}

Test(analysis, real_photos)
{
	glob_t g;
	if (glob("/usr/share/doc/labelme-examples/examples/bbox_detection/data_annotated/*.jpg",
		 0, NULL, &g) != 0) {
		cr_skip_test("no labelme example photos");
	}
	for (size_t i = 0; i < g.gl_pathc; i++) {
		folio_features f;
		cr_assert_eq(folio_features_compute_file(&f, g.gl_pathv[i], 1), 0);
		cr_assert(f.decodable, "%s: %s", g.gl_pathv[i], f.error);
		cr_assert(f.has_pixels);
		cr_assert_str_eq(f.format, "jpeg");
		cr_assert_gt(f.width, 0);
		cr_assert_gt(f.entropy, 3.0, "%s", g.gl_pathv[i]);
		cr_assert_gt(f.contrast_rms, 0.02);
		cr_assert_geq(f.brightness_p95, f.brightness_p50);
		cr_assert_geq(f.brightness_p50, f.brightness_p05);
		cr_assert(f.blurriness > 0 && f.blurriness < 1);
		cr_log_info("%s: %dx%d o=%d mean=%.3f rms=%.3f sharp=%.1f blur=%.3f ent=%.2f "
			    "col=%.1f gray=%d phash=%016llx", g.gl_pathv[i], f.width, f.height,
			    f.orientation, f.brightness_mean, f.contrast_rms, f.sharpness,
			    f.blurriness, f.entropy, f.colorfulness, f.grayscale,
			    (unsigned long long)f.phash);
	}
	globfree(&g);
}

/* The features of root/t.jpg, the first two thirds of a JPEG file: not
 * decodable, with an error. */
static void truncated_jpeg_file(folio_features *f)
{
	VipsImage *a = scene(400, 300, 6);
	size_t len;
	unsigned char *buf = encode(a, ".jpg[Q=90]", &len);
	char path[400];
	g_object_unref(a);
	snprintf(path, sizeof path, "%s/t.jpg", root);
	FILE *fp = fopen(path, "wb");
	cr_assert_not_null(fp);
	cr_assert_eq(fwrite(buf, 1, len * 2 / 3, fp), len * 2 / 3);
	fclose(fp);
	g_free(buf);
	cr_assert_eq(folio_features_compute_file(f, path, 1), 0);
	cr_assert_eq(f->decodable, 0);
	cr_assert_neq(f->error[0], '\0');
}

Test(analysis, truncated_jpeg_file)
{
	folio_features f;
	truncated_jpeg_file(&f);
	cr_log_info("truncated file: %s", f.error);
}

/* libvips warns on stderr ("VIPS-WARNING **: not enough data") about the
 * damage it meets; the damage is the image's error already, so the warning
 * is printed only with FOLIO_DEBUG=1. Every test is a process of its own,
 * so each can set FOLIO_DEBUG before libvips starts. */
static void quiet_setup(void)
{
	unsetenv("FOLIO_DEBUG");
	cr_redirect_stderr();
	setup();
}

static void debug_setup(void)
{
	setenv("FOLIO_DEBUG", "1", 1);
	cr_redirect_stderr();
	setup();
}

Test(vipslog, damage_is_the_images_error_not_a_line_on_stderr, .init = quiet_setup,
     .fini = teardown)
{
	folio_features f;
	truncated_jpeg_file(&f);
	fflush(stderr);
	cr_assert_stderr_eq_str("");
}

Test(vipslog, folio_debug_shows_libvips_warnings, .init = debug_setup, .fini = teardown)
{
	folio_features f;
	char text[4096];
	size_t n;
	truncated_jpeg_file(&f);
	fflush(stderr);
	n = fread(text, 1, sizeof text - 1, cr_get_redirected_stderr());
	text[n] = '\0';
	cr_assert_not_null(strstr(text, "folio: libvips: "), "stderr: %s", text);
}

Test(analysis, zstd_object_decoded_from_memory)
{
	VipsImage *img = scene(200, 150, 12);
	folio_oid oid;
	folio_object_info info;
	folio_features a, b;
	size_t len;
	void *buf = encode(img, ".tif", &len); /* uncompressed: stored as zstd */
	g_object_unref(img);
	cr_assert_eq(folio_store_put_buf(&oid, store, buf, len), 0);
	cr_assert_eq(folio_store_stat(&info, store, &oid), 0);
	cr_log_info("tiff object form %d", (int)info.form);
	cr_assert_eq(folio_features_of(&a, store, &oid, cachedir, 1), 0, "%s",
		     folio_error_last());
	cr_assert_eq(folio_features_compute_buf(&b, buf, len, 1), 0);
	g_free(buf);
	cr_assert(a.has_pixels, "%s", a.error);
	cr_assert_str_eq(a.format, "tiff");
	cr_assert_eq(memcmp(&a, &b, sizeof a), 0);
}
