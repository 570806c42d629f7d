/*
 * test_shape.c — segmentations (core/labels/shape.c): COCO's compressed
 * RLE strings against strings other tools wrote, round trips over every
 * kind of count (zero runs, large runs, runs smaller than the one two
 * before), bad strings, and polygon geometry.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "folio/error.h"
#include "folio/labels.h"

/* Strings from Datumaro's Segment Anything test assets
 * (tests/assets/segment_anything_dataset/{a,b}.json), with the area and
 * box they state for a 5 x 10 (height x width) mask. */
Test(rle, decodes_what_other_tools_wrote)
{
	uint32_t *c = NULL;
	size_t n = 0;

	cr_assert_eq(folio_rle_decompress(&c, &n, "`04n0"), 0, "%s", folio_error_last());
	cr_assert_eq(n, 3);
	cr_expect_eq(c[0], 16);
	cr_expect_eq(c[1], 4);
	cr_expect_eq(c[2], 30);
	free(c);

	folio_shape s = { .kind = FOLIO_SHAPE_RLE, .rle = "`04n0", .rle_w = 10, .rle_h = 5 };
	folio_box b;
	cr_expect_eq(folio_shape_area(&s), 4);
	cr_assert_eq(folio_shape_bbox(&b, &s), 0);
	cr_expect(b.x == 3 && b.y == 1 && b.w == 1 && b.h == 4, "box %g %g %g %g", b.x, b.y, b.w, b.h);

	cr_assert_eq(folio_rle_decompress(&c, &n, "b1"), 0);
	cr_assert_eq(n, 1);
	cr_expect_eq(c[0], 50);
	free(c);
	s.rle = "b1";
	cr_expect_eq(folio_shape_area(&s), 0);
	cr_expect_eq(folio_shape_bbox(&b, &s), -1, "an empty mask has no box");
}

Test(rle, round_trips_every_kind_of_count)
{
	static const uint32_t cases[][8] = {
		{ 0 }, { 16, 4, 30 }, { 0, 20, 30 }, { 10, 2, 5, 1, 7, 1 },
		{ 1000000, 3, 999990, 2, 5 }, { 31, 32, 33, 15, 16, 17, 1023, 1024 },
	};
	static const size_t lens[] = { 1, 3, 3, 6, 5, 8 };

	for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
		char *str = NULL;
		uint32_t *back = NULL;
		size_t n = 0;
		cr_assert_eq(folio_rle_compress(&str, cases[k], lens[k]), 0);
		cr_assert_eq(folio_rle_decompress(&back, &n, str), 0, "case %zu: '%s': %s", k, str,
			     folio_error_last());
		cr_assert_eq(n, lens[k], "case %zu", k);
		for (size_t i = 0; i < n; i++)
			cr_expect_eq(back[i], cases[k][i], "case %zu count %zu", k, i);
		for (const char *p = str; *p; p++)
			cr_expect(*p >= 48 && *p < 48 + 64, "case %zu: printable", k);
		free(str);
		free(back);
	}
	/* the strings other tools wrote come back as they were */
	uint32_t a[] = { 16, 4, 30 };
	char *str = NULL;
	cr_assert_eq(folio_rle_compress(&str, a, 3), 0);
	cr_expect_str_eq(str, "`04n0");
	free(str);
}

Test(rle, refuses_bad_strings)
{
	uint32_t *c = (uint32_t *)1;
	size_t n = 7;

	cr_expect_eq(folio_rle_decompress(&c, &n, "ab\x7f"), FOLIO_EINVAL);
	cr_expect_null(c);
	cr_expect_eq(n, 0);
	/* a last group that says more follows */
	cr_expect_eq(folio_rle_decompress(&c, &n, "`"), FOLIO_EINVAL);
	/* a run that would go negative */
	cr_expect_eq(folio_rle_decompress(&c, &n, "22O"), FOLIO_EINVAL);
	/* more groups than a count can have */
	cr_expect_eq(folio_rle_decompress(&c, &n, "ooooooooo0"), FOLIO_EINVAL);
	cr_assert_eq(folio_rle_decompress(&c, &n, ""), 0);
	cr_expect_eq(n, 0);
	free(c);
}

Test(shape, polygon_area_box_scale_and_copy)
{
	double xy[] = { 0, 0, 4, 0, 4, 3, 0, 3, /* a 4 x 3 rectangle */
			10, 10, 12, 10, 11, 12 };  /* a triangle of area 2 */
	uint32_t ring[] = { 4, 3 };
	folio_shape s = { .kind = FOLIO_SHAPE_POLYGONS, .xy = xy, .ring = ring, .nrings = 2 };
	folio_box b;

	cr_expect_float_eq(folio_shape_area(&s), 14.0, 1e-9);
	cr_assert_eq(folio_shape_bbox(&b, &s), 0);
	cr_expect(b.x == 0 && b.y == 0 && b.w == 12 && b.h == 12);

	folio_shape *c = NULL;
	cr_assert_eq(folio_shape_copy(&c, &s), 0);
	folio_shape_scale(c, 0.5, 2);
	cr_expect_float_eq(folio_shape_area(c), 14.0, 1e-9, "area scales by 0.5 x 2");
	cr_expect_eq(c->xy[4], 2);
	cr_expect_eq(c->xy[5], 6);
	cr_expect_eq(xy[4], 4, "the copy is deep");
	folio_shape_free(c);
	cr_assert_eq(folio_shape_copy(&c, NULL), 0);
	cr_expect_null(c);
}

/* Class names as folder names: exactly reversible, never '/', '.' or '..'. */
Test(names, class_folders_round_trip)
{
	static const char *const names[] = {
		"person", "tv/monitor", "T-shirt/top", "100%", "..", ".", ".hidden", "a.b",
		"with space", "ünïcödé", "a%2Fb", "tab\there", "/", "%",
	};
	static const char *const want[] = {
		"person", "tv%2Fmonitor", "T-shirt%2Ftop", "100%25", "%2E.", "%2E", "%2Ehidden",
		"a.b", "with space", "ünïcödé", "a%252Fb", "tab%09here", "%2F", "%25",
	};
	char f[256], back[256];

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		cr_assert_eq(folio_class_to_folder(f, sizeof f, names[i]), 0, "%s", names[i]);
		cr_expect_str_eq(f, want[i]);
		cr_expect(!strchr(f, '/') && f[0] != '.', "%s -> %s", names[i], f);
		cr_assert_eq(folio_class_from_folder(back, sizeof back, f), 0, "%s", f);
		cr_expect_str_eq(back, names[i]);
	}
	cr_expect_eq(folio_class_to_folder(f, sizeof f, ""), FOLIO_EINVAL);
	cr_expect_eq(folio_class_to_folder(f, 4, "tv/monitor"), FOLIO_EINVAL);
	cr_expect_eq(folio_class_from_folder(back, sizeof back, "bad%zz"), FOLIO_EINVAL);
	cr_expect_eq(folio_class_from_folder(back, sizeof back, "nul%00"), FOLIO_EINVAL);
	cr_expect_eq(folio_class_from_folder(back, sizeof back, ".x"), FOLIO_EINVAL);
	cr_expect_eq(folio_class_from_folder(back, sizeof back, "a/b"), FOLIO_EINVAL);
}
