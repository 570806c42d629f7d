/*
 * encode.c — encoding pixels that folio made itself (not read from an
 * image file) as image files: today the grey PNGs of `folio import --format
 * idx`. libvips does the encoding, so that core/labels (which decodes IDX)
 * and the CLI stay free of libvips.
 *
 * An IDX image is tiny (28x28): the image wraps the caller's pixels without
 * a copy, and libvips' own thread pool and operation cache are off
 * (folio_analysis_init), so the caller's threads are the parallelism.
 */
#include <vips/vips.h>

#include <stdlib.h>
#include <string.h>

#include "folio/analysis.h"
#include "folio/error.h"

int folio_image_encode_png_gray(void **out, size_t *len, const unsigned char *pixels, int width,
				int height)
{
	VipsImage *im;
	void *buf = NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	*len = 0;
	if (width < 1 || height < 1 || width > VIPS_MAX_COORD || height > VIPS_MAX_COORD)
		return folio_error_set(FOLIO_EINVAL, "cannot encode a %dx%d image", width, height);
	if ((rc = folio_analysis_init()) < 0)
		return rc;
	im = vips_image_new_from_memory(pixels, (size_t)width * (size_t)height, width, height, 1,
					VIPS_FORMAT_UCHAR);
	if (!im) {
		rc = folio_error_set(FOLIO_ENOMEM, "cannot make a %dx%d image: %s", width, height,
				     vips_error_buffer());
		vips_error_clear();
		return rc;
	}
	rc = vips_pngsave_buffer(im, &buf, &n, "strip", TRUE, NULL);
	g_object_unref(im);
	if (rc != 0) {
		rc = folio_error_set(FOLIO_ERROR, "cannot encode a %dx%d image as PNG: %s", width, height,
				     vips_error_buffer());
		vips_error_clear();
		return rc;
	}
	/* our callers free() what they get: hand over malloc memory */
	if (!(*out = malloc(n ? n : 1))) {
		g_free(buf);
		return folio_error_set(FOLIO_ENOMEM, "out of memory encoding a PNG");
	}
	memcpy(*out, buf, n);
	*len = n;
	g_free(buf);
	return 0;
}
