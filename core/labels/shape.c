/*
 * shape.c — segmentations of objects: polygons and COCO run-length masks
 * (include/folio/labels.h has the representation).
 *
 * COCO's compressed RLE string is written and read here from its
 * published description (pycocotools' maskApi): counts are alternating
 * runs of background and foreground pixels in column-major order; from
 * the third count on, each is stored as its difference from the count two
 * before; every value is cut into 5-bit groups, least significant first,
 * each group written as a character 48 + (group | 0x20 when more groups
 * follow), the last group carrying the value's sign in its 0x10 bit.
 * Keeping masks in this form, as their sources wrote them, makes them
 * compact and lets an export write them back unchanged.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "folio/error.h"
#include "folio/labels.h"
#include "folio/util.h"

void folio_shape_free(folio_shape *s)
{
	if (!s)
		return;
	free(s->xy);
	free(s->ring);
	free(s->rle);
	free(s);
}

int folio_shape_copy(folio_shape **out, const folio_shape *s)
{
	*out = NULL;
	if (!s)
		return 0;
	folio_shape *c = calloc(1, sizeof *c);
	size_t npts = 0;
	if (!c)
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	*c = *s;
	c->xy = NULL;
	c->ring = NULL;
	c->rle = NULL;
	for (size_t i = 0; i < s->nrings; i++)
		npts += s->ring[i];
	if ((s->nrings && (!(c->ring = malloc(s->nrings * sizeof *c->ring)) ||
			   !(c->xy = malloc((npts ? npts : 1) * 2 * sizeof *c->xy)))) ||
	    (s->rle && !(c->rle = strdup(s->rle)))) {
		folio_shape_free(c);
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	}
	if (s->nrings) {
		memcpy(c->ring, s->ring, s->nrings * sizeof *c->ring);
		memcpy(c->xy, s->xy, npts * 2 * sizeof *c->xy);
	}
	*out = c;
	return 0;
}

/* ---- RLE ------------------------------------------------------------------ */

int folio_rle_compress(char **out, const uint32_t *counts, size_t n)
{
	folio_buf b;

	folio_buf_init(&b, "an RLE mask");
	for (size_t i = 0; i < n; i++) {
		int64_t x = (int64_t)counts[i];
		if (i > 2)
			x -= (int64_t)counts[i - 2];
		int more = 1;
		while (more) {
			char c = (char)(x & 0x1f);
			x >>= 5;   /* arithmetic: the sign stays */
			more = (c & 0x10) ? x != -1 : x != 0;
			if (more)
				c |= 0x20;
			folio_buf_putc(&b, (char)(c + 48));
		}
	}
	return folio_buf_finish(out, NULL, &b);
}

int folio_rle_decompress(uint32_t **out, size_t *n, const char *s)
{
	size_t len = strlen(s), cap = len + 1, m = 0, p = 0;
	uint32_t *cnt = malloc(cap * sizeof *cnt);

	*out = NULL;
	*n = 0;
	if (!cnt)
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	while (p < len) {
		int64_t x = 0;
		int k = 0, more = 1;
		while (more) {
			if (p >= len || s[p] < 48 || s[p] > 48 + 63 || k > 6) {
				free(cnt);
				return folio_error_set(FOLIO_EINVAL, "not a COCO RLE string (at character %zu)",
						       p);
			}
			int64_t c = s[p++] - 48;
			x |= (c & 0x1f) << (5 * k);
			more = (c & 0x20) != 0;
			k++;
			if (!more && (c & 0x10))
				x |= -((int64_t)1 << (5 * k));   /* negative: extend the sign */
		}
		if (m > 2)
			x += cnt[m - 2];
		if (x < 0 || x > UINT32_MAX) {
			free(cnt);
			return folio_error_set(FOLIO_EINVAL, "COCO RLE string: run %zu is out of range", m);
		}
		cnt[m++] = (uint32_t)x;
	}
	*out = cnt;
	*n = m;
	return 0;
}

/* ---- geometry ------------------------------------------------------------- */

double folio_shape_area(const folio_shape *s)
{
	double area = 0;

	if (!s)
		return 0;
	if (s->kind == FOLIO_SHAPE_RLE && s->rle) {
		uint32_t *c = NULL;
		size_t n = 0;
		if (folio_rle_decompress(&c, &n, s->rle) < 0) {
			folio_error_clear();
			return 0;
		}
		for (size_t i = 1; i < n; i += 2)
			area += c[i];
		free(c);
		return area;
	}
	const double *p = s->xy;
	for (size_t r = 0; r < s->nrings; p += 2 * s->ring[r], r++) {
		double a = 0;
		size_t k = s->ring[r];
		for (size_t i = 0; i < k; i++) {
			size_t j = (i + 1) % k;
			a += p[2 * i] * p[2 * j + 1] - p[2 * j] * p[2 * i + 1];
		}
		area += fabs(a) / 2;
	}
	return area;
}

int folio_shape_bbox(folio_box *out, const folio_shape *s)
{
	double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;

	if (!s)
		return -1;
	if (s->kind == FOLIO_SHAPE_RLE && s->rle && s->rle_h > 0) {
		uint32_t *c = NULL;
		size_t n = 0;
		uint64_t pos = 0;
		if (folio_rle_decompress(&c, &n, s->rle) < 0) {
			folio_error_clear();
			return -1;
		}
		for (size_t i = 0; i < n; pos += c[i], i++) {
			if (!(i & 1) || !c[i])
				continue;
			/* a run of ones from pos to pos + c[i] - 1, column-major */
			uint64_t first = pos, last = pos + c[i] - 1;
			double fx = (double)(first / (uint64_t)s->rle_h), lx = (double)(last / (uint64_t)s->rle_h);
			x0 = fmin(x0, fx);
			x1 = fmax(x1, lx + 1);
			if (fx == lx) {
				y0 = fmin(y0, (double)(first % (uint64_t)s->rle_h));
				y1 = fmax(y1, (double)(last % (uint64_t)s->rle_h) + 1);
			} else {   /* the run wraps a column: it touches top and bottom */
				y0 = 0;
				y1 = s->rle_h;
			}
		}
		free(c);
	} else {
		size_t npts = 0;
		for (size_t r = 0; r < s->nrings; r++)
			npts += s->ring[r];
		for (size_t i = 0; i < npts; i++) {
			x0 = fmin(x0, s->xy[2 * i]);
			x1 = fmax(x1, s->xy[2 * i]);
			y0 = fmin(y0, s->xy[2 * i + 1]);
			y1 = fmax(y1, s->xy[2 * i + 1]);
		}
	}
	if (!(x1 >= x0) || !(y1 >= y0))
		return -1;
	*out = (folio_box){ x0, y0, x1 - x0, y1 - y0 };
	return 0;
}

void folio_shape_scale(folio_shape *s, double sx, double sy)
{
	size_t npts = 0;

	if (!s || s->kind != FOLIO_SHAPE_POLYGONS)
		return;
	for (size_t r = 0; r < s->nrings; r++)
		npts += s->ring[r];
	for (size_t i = 0; i < npts; i++) {
		s->xy[2 * i] *= sx;
		s->xy[2 * i + 1] *= sy;
	}
}
