/*
 * idx.c — IDX files (MNIST, Fashion-MNIST and their kin): decoding them and
 * pairing each images file with its labels file.
 *
 * An IDX file is a 4-byte magic (0, 0, type 0x08 for unsigned bytes, the
 * number of dimensions), one big-endian 32-bit size per dimension, then the
 * data. The files are small enough (Fashion-MNIST's largest is 47 MB
 * decompressed) to read whole: one read, one inflate into a buffer sized
 * from the gzip trailer, and the pixels are then used in place by the
 * importer (core/labels/import.c points its jobs into them). This is the
 * only file of folio that uses zlib; everything read is checked (magic,
 * sizes, data length, a cap on the decompressed size) before it is used.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <zlib.h>

#include "folio/error.h"
#include "folio/util.h"
#include "labels_int.h"

/* Largest image side accepted, pixels. */
#define IDX_SIDE_MAX 4096

static const char *const fashion_classes[10] = {
	"t-shirt-top", "trouser", "pullover", "dress", "coat",
	"sandal", "shirt", "sneaker", "bag", "ankle-boot",
};
static const char *const digit_classes[10] = {
	"0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
};

/* Fashion-MNIST's first ten labels (train, t10k): MNIST's differ. */
static const unsigned char fashion_train[10] = { 9, 0, 0, 3, 0, 2, 7, 2, 5, 5 };
static const unsigned char fashion_test[10] = { 9, 2, 1, 1, 6, 1, 4, 6, 5, 7 };

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * Inflates a gzip member into a malloc'd buffer of at most max bytes. The
 * trailer's ISIZE (the size modulo 2^32, checked by zlib at the end) sizes
 * the buffer, so a file is inflated without a copy; past 4 GiB it wraps
 * and the buffer grows instead. The buffer always has one byte
 * more than cap, so a stream of exactly cap bytes ends without a regrowth
 * and one of more than max bytes is seen as soon as it passes max.
 */
static int gunzip(unsigned char **out, size_t *outlen, const unsigned char *in, size_t inlen,
		  size_t max, const char *name)
{
	z_stream z;
	unsigned char *buf = NULL;
	size_t cap, n = 0, used = 0;
	int rc = 0, zrc;

	memset(&z, 0, sizeof z);
	cap = inlen >= 18 ? ((size_t)in[inlen - 4] | (size_t)in[inlen - 3] << 8 |
			     (size_t)in[inlen - 2] << 16 | (size_t)in[inlen - 1] << 24)
			  : 0;
	if (cap == 0 || cap > max)
		cap = inlen < max / 4 ? inlen * 4 + 4096 : max;
	if (cap > max)
		cap = max;
	if (!(buf = malloc(cap + 1)))
		return folio_error_set(FOLIO_ENOMEM, "out of memory reading %s", name);
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		free(buf);
		return folio_error_set(FOLIO_ENOMEM, "%s: cannot start zlib", name);
	}
	for (;;) {
		if (n == cap + 1) {
			if (cap >= max) {
				rc = folio_error_set(FOLIO_EINVAL, "%s: decompresses to more than %zu bytes",
						     name, max);
				break;
			}
			size_t ncap = cap > max / 2 ? max : cap * 2;
			unsigned char *nb = realloc(buf, ncap + 1);
			if (!nb) {
				rc = folio_error_set(FOLIO_ENOMEM, "out of memory reading %s", name);
				break;
			}
			buf = nb;
			cap = ncap;
		}
		size_t in_left = inlen - used, out_left = cap + 1 - n;
		z.next_in = (unsigned char *)in + used;
		z.avail_in = in_left > UINT_MAX ? UINT_MAX : (uInt)in_left;
		z.next_out = buf + n;
		z.avail_out = out_left > UINT_MAX ? UINT_MAX : (uInt)out_left;
		uInt in_before = z.avail_in, out_before = z.avail_out;
		zrc = inflate(&z, Z_NO_FLUSH);
		used += in_before - z.avail_in;
		n += out_before - z.avail_out;
		if (zrc == Z_STREAM_END) {
			if (n > max)
				rc = folio_error_set(FOLIO_EINVAL, "%s: decompresses to more than %zu bytes",
						     name, max);
			break;
		}
		if (zrc == Z_MEM_ERROR) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory reading %s", name);
			break;
		}
		if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
			rc = folio_error_set(FOLIO_EINVAL, "%s: bad gzip data: %s", name,
					     z.msg ? z.msg : "invalid stream");
			break;
		}
		/* out of output space: grow; out of input before the end of
		 * the stream: the file was cut short */
		if (n < cap + 1 && used == inlen) {
			rc = folio_error_set(FOLIO_EINVAL, "%s: bad gzip data: it ends early", name);
			break;
		}
	}
	inflateEnd(&z);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	*outlen = n;
	return 0;
}

int folio_idx_decode(unsigned char **out, size_t *len, uint32_t dims[3], const void *data,
		     size_t size, int ndims, size_t max, const char *name)
{
	const unsigned char *in = data;
	unsigned char *buf = NULL;
	size_t n = 0, hdr, want = 1;
	int rc;

	*out = NULL;
	*len = 0;
	if (ndims < 1 || ndims > 3)
		return folio_error_set(FOLIO_EINVAL, "%s: IDX files of %d dimensions are not read",
				       name, ndims);
	if (size >= 2 && in[0] == 0x1f && in[1] == 0x8b) {
		if ((rc = gunzip(&buf, &n, in, size, max, name)) < 0)
			return rc;
	} else {
		if (size > max)
			return folio_error_set(FOLIO_EINVAL, "%s is too large (more than %zu bytes)",
					       name, max);
		if (!(buf = malloc(size + 1)))
			return folio_error_set(FOLIO_ENOMEM, "out of memory reading %s", name);
		if (size)
			memcpy(buf, in, size);
		n = size;
	}
	hdr = 4 + 4 * (size_t)ndims;
	if (n < hdr || buf[0] || buf[1] || buf[2] != 0x08 || buf[3] != ndims) {
		free(buf);
		return folio_error_set(FOLIO_EINVAL,
				       "%s is not an IDX file of unsigned bytes with %d dimensions",
				       name, ndims);
	}
	for (int i = 0; i < ndims; i++) {
		dims[i] = be32(buf + 4 + 4 * i);
		if (i > 0 && (dims[i] == 0 || dims[i] > IDX_SIDE_MAX)) {
			free(buf);
			return folio_error_set(FOLIO_EINVAL, "%s: image size %u is out of range", name,
					       dims[i]);
		}
		/* dims[0] < 2^32 and the others <= 4096: no overflow in 64 bits */
		want *= dims[i];
	}
	if (n - hdr < want) {
		free(buf);
		return folio_error_set(FOLIO_EINVAL, "%s is truncated: %zu bytes of data, %zu expected",
				       name, n - hdr, want);
	}
	memmove(buf, buf + hdr, want);
	*out = buf;
	*len = want;
	return 0;
}

/* Reads and decodes one IDX file. */
static int read_idx(unsigned char **out, size_t *len, uint32_t dims[3], const char *path,
		    int ndims)
{
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	int rc;

	if ((rc = labels_slurp(&raw, &rawlen, path, FOLIO_IDX_MAX)) < 0)
		return rc;
	rc = folio_idx_decode(out, len, dims, raw, rawlen, ndims, FOLIO_IDX_MAX, path);
	free(raw);
	return rc;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t l = strlen(s), k = strlen(suffix);

	return l >= k && strcasecmp(s + l - k, suffix) == 0;
}

/* "train-images-idx3-ubyte.gz" -> "train"; NULL if name is not an images
 * file or out of memory (*oom set). */
static char *images_prefix(const char *name, int *oom)
{
	static const char *const pats[] = { "-images-idx3", "-images.idx3", NULL };

	*oom = 0;
	for (size_t i = 0; pats[i]; i++) {
		const char *s = strstr(name, pats[i]);
		if (s && s > name) {
			char *p = strndup(name, (size_t)(s - name));
			*oom = !p;
			return p;
		}
	}
	return NULL;
}

static int file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void set_clear(folio_idx_set *s)
{
	free(s->split);
	free(s->images);
	free(s->labels);
	free(s->pixels);
	free(s->classes);
	memset(s, 0, sizeof *s);
}

/* Reads the images file dir/name and its labels file into *out. */
static int read_pair(folio_idx_set *out, folio_idx *idx, const char *dir, const char *name,
		     long limit)
{
	char *pre = NULL;
	size_t plen = 0, llen = 0;
	uint32_t idims[3], ldims[3];
	int rc = 0, oom;

	memset(out, 0, sizeof *out);
	if (!(pre = images_prefix(name, &oom)))
		return folio_error_set(oom ? FOLIO_ENOMEM : FOLIO_EINVAL, "%s: not an IDX images file",
				       name);
	/* PREFIX-labels-idx1-ubyte with the images file's separator, gzipped
	 * like the images file, else the other way */
	const char *sep = strstr(name, "-images.idx3") ? "." : "-";
	for (int k = 0; k < 2 && !out->labels; k++) {
		const char *ext = (k == 0) == ends_with(name, ".gz") ? ".gz" : "";
		if (asprintf(&out->labels, "%s/%s-labels%sidx1-ubyte%s", dir, pre, sep, ext) < 0) {
			out->labels = NULL;
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto cleanup;
		}
		if (k == 0 && !file_exists(out->labels)) {
			free(out->labels);
			out->labels = NULL;
		}
	}
	if (!(out->images = folio_path_join(dir, name))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	if ((rc = read_idx(&out->pixels, &plen, idims, out->images, 3)) < 0 ||
	    (rc = read_idx(&out->classes, &llen, ldims, out->labels, 1)) < 0)
		goto cleanup;
	if (ldims[0] != idims[0]) {
		rc = folio_error_set(FOLIO_EINVAL, "%s has %u labels for %u images in %s", out->labels,
				     ldims[0], idims[0], out->images);
		goto cleanup;
	}
	if (idx->rows && (idx->rows != (int)idims[1] || idx->cols != (int)idims[2])) {
		rc = folio_error_set(FOLIO_EINVAL, "%s: images are %ux%u, earlier files %dx%d",
				     out->images, idims[2], idims[1], idx->cols, idx->rows);
		goto cleanup;
	}
	for (size_t i = 0; i < llen; i++)
		if (out->classes[i] > 9) {
			rc = folio_error_set(FOLIO_EINVAL, "%s: label %u of image %zu is not 0-9",
					     out->labels, out->classes[i], i);
			goto cleanup;
		}
	idx->rows = (int)idims[1];
	idx->cols = (int)idims[2];
	out->count = idims[0];
	if (limit >= 0 && (size_t)limit < out->count)
		out->count = (size_t)limit;
	out->split = strdup(strncmp(pre, "train", 5) == 0 ? "train"
			    : strncmp(pre, "t10k", 4) == 0 || strncmp(pre, "test", 4) == 0 ? "test"
			    : pre);
	if (!out->split)
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
cleanup:
	if (rc < 0)
		set_clear(out);
	free(pre);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int folio_idx_read(folio_idx *out, const char *dir, long limit)
{
	DIR *d = NULL;
	struct dirent *de;
	char **names = NULL;
	size_t nnames = 0;
	char real[FOLIO_PATH_MAX];
	int rc = 0;

	memset(out, 0, sizeof *out);
	if (!(d = opendir(dir)))
		return folio_error_errno(errno, "cannot read folder %s", dir);
	while (rc == 0 && (errno = 0, de = readdir(d))) {
		int oom;
		char *pre = images_prefix(de->d_name, &oom);
		free(pre);
		if (oom)
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		if (!pre || !strstr(de->d_name, "idx3"))
			continue;
		char **v = realloc(names, (nnames + 1) * sizeof *v);
		if (v)
			names = v;
		if (!v || !(v[nnames] = strdup(de->d_name)))
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		else
			nnames++;
	}
	if (rc == 0 && errno)
		rc = folio_error_errno(errno, "cannot read folder %s", dir);
	closedir(d);
	if (rc == 0 && nnames == 0)
		rc = folio_error_set(FOLIO_EINVAL, "no NAME-images-idx3-ubyte file in %s", dir);
	if (rc == 0 && !(out->sets = calloc(nnames, sizeof *out->sets)))
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
	if (rc < 0)
		goto cleanup;
	qsort(names, nnames, sizeof *names, cmp_str);
	for (; out->nsets < nnames; out->nsets++) {
		folio_idx_set *s = &out->sets[out->nsets];
		if ((rc = read_pair(s, out, dir, names[out->nsets], limit)) < 0)
			goto cleanup;
		if (s->count >= 10 && (memcmp(s->classes, fashion_train, 10) == 0 ||
				       memcmp(s->classes, fashion_test, 10) == 0))
			out->fashion = 1;
	}
	if (realpath(dir, real) && strcasestr(real, "fashion"))
		out->fashion = 1;
cleanup:
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	if (rc < 0)
		folio_idx_clear(out);
	return rc;
}

void folio_idx_clear(folio_idx *idx)
{
	for (size_t i = 0; i < idx->nsets; i++)
		set_clear(&idx->sets[i]);
	free(idx->sets);
	memset(idx, 0, sizeof *idx);
}

const char *folio_idx_class(const folio_idx *idx, unsigned label)
{
	if (label > 9)
		return NULL;
	return (idx->fashion ? fashion_classes : digit_classes)[label];
}
