/*
 * paths.c — paths read out of label files: cleaning them (and refusing the
 * hostile ones), finding the image a label file names among the files of
 * the version, and the split a path's folders imply.
 *
 * Label files name images in many ways: a bare file name (VOC), a path
 * relative to an image root (COCO), nothing at all (YOLO and sidecar
 * files, matched by stem). The version's files are the only truth, so a
 * name is tried against a few likely folders and then matched by suffix
 * against every image; a path that climbs out with ".." or starts at "/"
 * is refused before any of that.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "folio/error.h"
#include "labels_int.h"

static const char *const image_exts[] = {
	"jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff", "ppm", "pgm",
	"pbm", "pnm", "heic", "heif", "avif", "jxl", "jp2", "exr", "hdr", NULL,
};

int labels_is_image(const char *path)
{
	const char *base = labels_basename(path);
	const char *dot = strrchr(base, '.');

	if (!dot || dot == base)
		return 0;
	for (size_t i = 0; image_exts[i]; i++)
		if (strcasecmp(dot + 1, image_exts[i]) == 0)
			return 1;
	return 0;
}

const char *labels_basename(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

char *labels_dirname(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? strndup(path, (size_t)(s - path)) : strdup("");
}

int labels_clean_path(char **out, const char *raw, const char **why)
{
	size_t n = strlen(raw);
	char *s = NULL, *o = NULL;
	size_t ol = 0;
	int rc = 0;

	*out = NULL;
	*why = NULL;
	if (n == 0) {
		*why = "empty path";
		return FOLIO_EINVAL;
	}
	if (raw[0] == '/' || raw[0] == '\\' ||
	    (n >= 2 && raw[1] == ':' && ((raw[0] | 0x20) >= 'a' && (raw[0] | 0x20) <= 'z'))) {
		*why = "absolute path";
		return FOLIO_EINVAL;
	}
	if (!folio_utf8_valid(raw, n)) {
		*why = "not UTF-8";
		return FOLIO_EINVAL;
	}
	if (!(s = strdup(raw)) || !(o = malloc(n + 1))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\\')
			s[i] = '/';
	/* Split on '/', dropping "." and empty parts; ".." is refused outright:
	 * label formats name images below their root, never above. */
	for (char *p = s; *p;) {
		char *e = strchr(p, '/');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == 2 && p[0] == '.' && p[1] == '.') {
			*why = "'..' leaves the dataset";
			rc = FOLIO_EINVAL;
			goto cleanup;
		}
		if (l && !(l == 1 && p[0] == '.')) {
			if (ol)
				o[ol++] = '/';
			memcpy(o + ol, p, l);
			ol += l;
		}
		p += l;
		if (*p == '/')
			p++;
	}
	o[ol] = '\0';
	if (ol == 0) {
		*why = "empty path";
		rc = FOLIO_EINVAL;
		goto cleanup;
	}
	if (folio_path_validate(o) < 0) {
		*why = "not a valid dataset path (control characters or .git)";
		rc = FOLIO_EINVAL;
		goto cleanup;
	}
	*out = o;
	o = NULL;
cleanup:
	free(s);
	free(o);
	return rc;
}

/* ---- lookups over the version's images ---- */

static size_t stem_len(const char *path)
{
	const char *base = labels_basename(path);
	const char *dot = strrchr(base, '.');

	return dot && dot != base ? (size_t)(dot - path) : strlen(path);
}

/* Compares the stem of entry i with key (NUL-terminated). */
static int stem_cmp(const labels_builder *b, size_t i, const char *key)
{
	const char *p = b->tree->v[i].path;
	size_t l = stem_len(p), kl = strlen(key);
	int c = memcmp(p, key, l < kl ? l : kl);

	if (c)
		return c;
	return l < kl ? -1 : l > kl ? 1 : 0;
}

long labels_image_by_stem(const labels_builder *b, const char *stem)
{
	size_t lo = 0, hi = b->nstems;

	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (stem_cmp(b, b->stems[m], stem) < 0)
			lo = m + 1;
		else
			hi = m;
	}
	if (lo < b->nstems && stem_cmp(b, b->stems[lo], stem) == 0)
		return (long)b->stems[lo];
	return -1;
}

/* Sorting needs the tree in the comparator; qsort has no payload, and
 * qsort_r is a GNU extension we may use (-D_GNU_SOURCE). */
static int cmp_base_r(const void *a, const void *b, void *t)
{
	const char *pa = ((const folio_tree *)t)->v[*(const size_t *)a].path;
	const char *pb = ((const folio_tree *)t)->v[*(const size_t *)b].path;
	int c = strcmp(labels_basename(pa), labels_basename(pb));

	return c ? c : strcmp(pa, pb);
}

static int build_bases(labels_builder *b)
{
	size_t n = 0;

	if (b->bases_built)
		return 0;
	if (b->tree->n && !(b->bases = malloc(b->tree->n * sizeof *b->bases)))
		return folio_error_set(FOLIO_ENOMEM, "out of memory indexing images");
	for (size_t i = 0; i < b->tree->n; i++)
		b->bases[n++] = i;
	if (n)
		qsort_r(b->bases, n, sizeof *b->bases, cmp_base_r, (void *)b->tree);
	b->nbases = n;
	b->bases_built = 1;
	return 0;
}

/* A file of the version whose path is rel or ends in "/rel"; prefers one
 * under prefer/. -1 if none. */
static long find_by_suffix(labels_builder *b, const char *rel, const char *prefer)
{
	const char *base = labels_basename(rel);
	size_t lo = 0, hi, rl = strlen(rel), pl = prefer ? strlen(prefer) : 0;
	long first = -1;

	if (build_bases(b) < 0)
		return -2;
	hi = b->nbases;
	while (lo < hi) {
		size_t m = lo + (hi - lo) / 2;
		if (strcmp(labels_basename(b->tree->v[b->bases[m]].path), base) < 0)
			lo = m + 1;
		else
			hi = m;
	}
	for (size_t k = lo; k < b->nbases; k++) {
		const char *p = b->tree->v[b->bases[k]].path;
		size_t l = strlen(p);
		if (strcmp(labels_basename(p), base) != 0)
			break;
		if (l < rl || strcmp(p + l - rl, rel) != 0 || (l > rl && p[l - rl - 1] != '/'))
			continue;
		if (pl && strncmp(p, prefer, pl) == 0 && p[pl] == '/')
			return (long)b->bases[k];
		if (first < 0)
			first = (long)b->bases[k];
	}
	return first;
}

int labels_resolve_image(labels_builder *b, char **out, const char *rel, const char *const *bases,
		     size_t nbases)
{
	const char *first = NULL;

	*out = NULL;
	for (size_t i = 0; i < nbases; i++) {
		if (!bases[i])
			continue;
		if (!first)
			first = bases[i];
		char *p = folio_path_join(bases[i], rel);
		if (!p)
			return folio_error_set(FOLIO_ENOMEM, "out of memory");
		if (labels_find(b, p) >= 0) {
			*out = p;
			return 0;
		}
		free(p);
	}
	long k = find_by_suffix(b, rel, first);
	if (k == -2)
		return FOLIO_ENOMEM;
	*out = k >= 0 ? strdup(b->tree->v[k].path) : folio_path_join(first ? first : "", rel);
	return *out ? 0 : folio_error_set(FOLIO_ENOMEM, "out of memory");
}

char *labels_mirror(const char *dir, const char *from, const char *to)
{
	size_t fl = strlen(from), dl = strlen(dir);
	const char *hit = NULL;

	/* The last component equal to from, as ultralytics does. */
	for (const char *p = dir; p && *p;) {
		const char *e = strchr(p, '/');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == fl && memcmp(p, from, fl) == 0)
			hit = p;
		p = e ? e + 1 : NULL;
	}
	if (!hit)
		return NULL;
	size_t tl = strlen(to), pre = (size_t)(hit - dir);
	char *s = malloc(dl - fl + tl + 1);
	if (!s)
		return NULL;
	memcpy(s, dir, pre);
	memcpy(s + pre, to, tl);
	memcpy(s + pre + tl, hit + fl, dl - pre - fl + 1);
	return s;
}

static const struct {
	const char *word, *split;
} split_words[] = {
	{ "train", "train" }, { "training", "train" },
	{ "val", "val" }, { "valid", "val" }, { "validation", "val" },
	{ "test", "test" }, { "testing", "test" },
};

const char *labels_split_from_path(const char *path, size_t len)
{
	const char *p = path, *end = path + len;

	while (p < end) {
		const char *e = memchr(p, '/', (size_t)(end - p));
		if (!e)
			break; /* the last part is the file name */
		size_t l = (size_t)(e - p);
		for (size_t i = 0; i < sizeof split_words / sizeof split_words[0]; i++) {
			size_t wl = strlen(split_words[i].word);
			if (l < wl || strncasecmp(p, split_words[i].word, wl) != 0)
				continue;
			size_t k = wl;
			while (k < l && p[k] >= '0' && p[k] <= '9')
				k++;
			if (k == l)
				return split_words[i].split;
		}
		p = e + 1;
	}
	return NULL;
}
