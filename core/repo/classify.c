/*
 * classify.c — which files become git-lfs pointers and which stay plain
 * git blobs. One rule for `folio add` and for files written through the
 * mount, documented in docs/storage.md.
 */
#include <string.h>
#include <strings.h>

#include "folio/repo.h"

static int has_ext(const char *path, const char *const *ext)
{
	const char *dot = strrchr(path, '.');
	const char *slash = strrchr(path, '/');

	if (!dot || (slash && dot < slash))
		return 0;
	for (int i = 0; ext[i]; i++)
		if (strcasecmp(dot + 1, ext[i]) == 0)
			return 1;
	return 0;
}

int folio_path_is_image(const char *path)
{
	static const char *const ext[] = { "jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff",
					   "ppm", "pgm", "pbm", "pnm", "heic", "heif", "avif", "jxl",
					   "jp2", NULL };
	return has_ext(path, ext);
}

/* Images, plus other binary formats that are often small. */
static int has_binary_ext(const char *path)
{
	static const char *const ext[] = { "exr", "hdr", "svg", "ico", "npy", "npz", NULL };
	return folio_path_is_image(path) || has_ext(path, ext);
}

/* Text: no NUL and valid UTF-8 (a multibyte sequence cut by the end of
 * the sniffed window is allowed when the file goes on). */
static int looks_text(const unsigned char *b, size_t n, int whole)
{
	if (memchr(b, 0, n))
		return 0;
	if (folio_utf8_valid((const char *)b, n))
		return 1;
	if (whole)
		return 0;
	for (size_t cut = 1; cut <= 3 && cut < n; cut++)
		if (folio_utf8_valid((const char *)b, n - cut))
			return 1;
	return 0;
}

folio_entry_kind folio_classify(const char *path, uint64_t size, const void *head, size_t n)
{
	if (size > FOLIO_TEXT_MAX || has_binary_ext(path) ||
	    !looks_text(head, n, (uint64_t)n >= size))
		return FOLIO_ENTRY_LFS;
	return FOLIO_ENTRY_BLOB;
}
