/* Unit tests for core/analysis/encode.c: grey PNGs from pixels in memory. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "folio/analysis.h"
#include "folio/error.h"

Test(encode, grey_png_round_trip)
{
	unsigned char pix[6 * 4];
	void *png = NULL;
	size_t len = 0;
	folio_features f;

	for (size_t i = 0; i < sizeof pix; i++)
		pix[i] = (unsigned char)(i * 10);
	cr_assert_eq(folio_image_encode_png_gray(&png, &len, pix, 6, 4), 0, "%s", folio_error_last());
	cr_assert_gt(len, 8);
	cr_expect_eq(memcmp(png, "\x89PNG\r\n\x1a\n", 8), 0);
	cr_assert_eq(folio_features_compute_buf(&f, png, len, 1), 0, "%s", folio_error_last());
	cr_expect(f.decodable, "%s", f.error);
	cr_expect_str_eq(f.format, "png");
	cr_expect_eq(f.width, 6);
	cr_expect_eq(f.height, 4);
	cr_expect_eq(f.bands, 1);
	cr_expect(f.grayscale);
	free(png);
}

Test(encode, same_pixels_same_bytes)
{
	unsigned char pix[28 * 28];
	void *a = NULL, *b = NULL;
	size_t la = 0, lb = 0;

	for (size_t i = 0; i < sizeof pix; i++)
		pix[i] = (unsigned char)(i * 7);
	cr_assert_eq(folio_image_encode_png_gray(&a, &la, pix, 28, 28), 0);
	cr_assert_eq(folio_image_encode_png_gray(&b, &lb, pix, 28, 28), 0);
	cr_expect_eq(la, lb);
	cr_expect_eq(memcmp(a, b, la), 0, "stored content must not depend on the run");
	free(a);
	free(b);
}

Test(encode, bad_sizes_are_refused)
{
	unsigned char pix[4] = { 0 };
	void *png = (void *)1;
	size_t len = 9;

	cr_expect_eq(folio_image_encode_png_gray(&png, &len, pix, 0, 2), FOLIO_EINVAL);
	cr_expect_null(png);
	cr_expect_eq(len, 0);
	cr_expect_eq(folio_image_encode_png_gray(&png, &len, pix, 2, -1), FOLIO_EINVAL);
	cr_expect_eq(folio_image_encode_png_gray(&png, &len, pix, 20000000, 1), FOLIO_EINVAL);
}
