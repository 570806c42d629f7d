/* Unit tests for the import side of core/labels: the one JSON format
 * detector, IDX decoding (raw and gzip, malformed and hostile files), the
 * .folio/dataset.json merge, and import plans for every format on small
 * folders made in a temp dir. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cJSON.h>

#include "../testutil.h"
#include "folio/error.h"
#include "folio/labels.h"

static char tmp[TEST_DIR_MAX];

static void setup(void)
{
	test_mkdtemp(tmp, "ut-import");
}

static void teardown(void)
{
	test_rmtree(tmp);
}

/* tmp/<rel>, made with its folders, holding len bytes of data. */
static void put(const char *rel, const void *data, size_t len)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s", tmp, rel);
	for (char *s = strchr(path + strlen(tmp) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(path, 0755);
		*s = '/';
	}
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "cannot write %s", path);
	cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void puts_file(const char *rel, const char *text)
{
	put(rel, text, strlen(text));
}

static const char *at(const char *rel)
{
	static char path[4][1024];
	static int k;
	k = (k + 1) % 4;
	snprintf(path[k], sizeof path[k], "%s%s%s", tmp, *rel ? "/" : "", rel);
	return path[k];
}

/* gzip of data, malloc'd. */
static unsigned char *gzip(size_t *outlen, const void *data, size_t len)
{
	z_stream z = { 0 };
	size_t cap = len + len / 10 + 64;
	unsigned char *out = malloc(cap);
	cr_assert_eq(deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (unsigned char *)data;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	cr_assert_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	*outlen = z.total_out;
	deflateEnd(&z);
	return out;
}

/* An IDX file of unsigned bytes: dims then data (malloc'd). */
static unsigned char *idx_file(size_t *len, int ndims, const uint32_t *dims,
			       const unsigned char *data, size_t ndata)
{
	size_t hdr = 4 + 4 * (size_t)ndims;
	unsigned char *b = malloc(hdr + ndata + 1);
	b[0] = b[1] = 0;
	b[2] = 0x08;
	b[3] = (unsigned char)ndims;
	for (int i = 0; i < ndims; i++) {
		b[4 + 4 * i] = (unsigned char)(dims[i] >> 24);
		b[5 + 4 * i] = (unsigned char)(dims[i] >> 16);
		b[6 + 4 * i] = (unsigned char)(dims[i] >> 8);
		b[7 + 4 * i] = (unsigned char)dims[i];
	}
	memcpy(b + hdr, data, ndata);
	*len = hdr + ndata;
	return b;
}

/* Writes tmp/<rel>[.gz]: data, gzipped when gz is set. */
static void put_gz(const char *rel, const unsigned char *data, size_t len, int gz)
{
	char name[256];
	size_t glen;

	snprintf(name, sizeof name, "%s%s", rel, gz ? ".gz" : "");
	if (!gz) {
		put(name, data, len);
		return;
	}
	unsigned char *g = gzip(&glen, data, len);
	put(name, g, glen);
	free(g);
}

/* Writes a pair NAME-images-idx3-ubyte[.gz] + labels of n images of 2x3. */
static void idx_pair(const char *name, size_t n, const unsigned char *labels, int gz)
{
	unsigned char pix[64 * 6];
	uint32_t idims[3] = { (uint32_t)n, 2, 3 }, ldims[1] = { (uint32_t)n };
	char rel[256];
	size_t len;

	cr_assert_leq(n, 64);
	for (size_t i = 0; i < n * 6; i++)
		pix[i] = (unsigned char)i;
	unsigned char *f = idx_file(&len, 3, idims, pix, n * 6);
	snprintf(rel, sizeof rel, "%s-images-idx3-ubyte", name);
	put_gz(rel, f, len, gz);
	free(f);
	f = idx_file(&len, 1, ldims, labels, n);
	snprintf(rel, sizeof rel, "%s-labels-idx1-ubyte", name);
	put_gz(rel, f, len, gz);
	free(f);
}

/* ---- the format detector ---- */

static folio_label_format sniff(const char *text)
{
	folio_label_format f = 99;
	cr_assert_eq(folio_labels_sniff(&f, text, strlen(text)), 0, "%s", folio_error_last());
	return f;
}

Test(sniff, one_rule_for_coco_native_and_results)
{
	cr_expect_eq(sniff("{\"folio_labels\": 1, \"objects\": []}"), FOLIO_LABELS_NATIVE);
	cr_expect_eq(sniff("{\"images\": [], \"annotations\": [], \"categories\": []}"),
		     FOLIO_LABELS_COCO);
	/* keypoints files are instances files with more per annotation */
	cr_expect_eq(sniff("{\"info\": {}, \"images\": [], \"annotations\": [{\"keypoints\": []}],"
			   " \"categories\": [{\"id\": 1, \"name\": \"person\", \"keypoints\": []}]}"),
		     FOLIO_LABELS_COCO);
	/* captions files have no categories: not label files */
	cr_expect_eq(sniff("{\"info\": {}, \"licenses\": [], \"images\": [],"
			   " \"annotations\": [{\"image_id\": 1, \"caption\": \"a cat\"}]}"), 0);
	cr_expect_eq(sniff("[{\"image_id\": 1, \"category_id\": 2, \"bbox\": [1, 2, 3, 4],"
			   " \"score\": 0.5}]"), FOLIO_LABELS_COCO_RESULTS);
	cr_expect_eq(sniff("[]"), 0);
	cr_expect_eq(sniff("{\"images\": {}, \"annotations\": [], \"categories\": []}"), 0);
	cr_expect_eq(sniff("{\"shapes\": [], \"imagePath\": \"a.jpg\"}"), 0);
	cr_expect_eq(sniff("42"), 0);
}

Test(sniff, text_that_is_not_json)
{
	folio_label_format f = 99;
	cr_expect_eq(folio_labels_sniff(&f, "{\"images\": [", 12), FOLIO_EINVAL);
	cr_expect_eq(f, 0);
	cr_expect_eq(folio_labels_sniff(&f, "", 0), FOLIO_EINVAL);
}

/* ---- IDX ---- */

Test(idx, decodes_raw_and_gzip)
{
	uint32_t dims[3] = { 2, 2, 3 }, got[3] = { 0 };
	unsigned char pix[12] = { 0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255 };
	size_t len, glen, n;
	unsigned char *f = idx_file(&len, 3, dims, pix, sizeof pix), *out = NULL;

	cr_assert_eq(folio_idx_decode(&out, &n, got, f, len, 3, FOLIO_IDX_MAX, "x"), 0, "%s",
		     folio_error_last());
	cr_expect_eq(n, 12);
	cr_expect_eq(got[0], 2);
	cr_expect_eq(got[1], 2);
	cr_expect_eq(got[2], 3);
	cr_expect_arr_eq(out, pix, 12);
	free(out);

	unsigned char *g = gzip(&glen, f, len);
	memset(got, 0, sizeof got);
	cr_assert_eq(folio_idx_decode(&out, &n, got, g, glen, 3, FOLIO_IDX_MAX, "x.gz"), 0, "%s",
		     folio_error_last());
	cr_expect_eq(n, 12);
	cr_expect_eq(got[2], 3);
	cr_expect_arr_eq(out, pix, 12);
	free(out);
	/* a size in the gzip trailer that does not match is refused */
	g[glen - 4] ^= 0x7f;
	cr_expect_eq(folio_idx_decode(&out, &n, got, g, glen, 3, FOLIO_IDX_MAX, "x.gz"), FOLIO_EINVAL);
	cr_expect_null(out);
	free(g);
	free(f);
}

Test(idx, malformed_files_are_refused_with_their_name)
{
	uint32_t dims[3] = { 2, 2, 3 }, got[3];
	unsigned char pix[12] = { 0 };
	size_t len, n;
	unsigned char *f = idx_file(&len, 3, dims, pix, sizeof pix), *out = (unsigned char *)"x";

	/* wrong dimension count, wrong type, too short for its header */
	cr_expect_eq(folio_idx_decode(&out, &n, got, f, len, 1, FOLIO_IDX_MAX, "a"), FOLIO_EINVAL);
	cr_expect_null(out);
	cr_expect(strstr(folio_error_last(), "a is not an IDX file") != NULL, "%s", folio_error_last());
	f[2] = 0x0d;
	cr_expect_eq(folio_idx_decode(&out, &n, got, f, len, 3, FOLIO_IDX_MAX, "a"), FOLIO_EINVAL);
	f[2] = 0x08;
	cr_expect_eq(folio_idx_decode(&out, &n, got, f, 9, 3, FOLIO_IDX_MAX, "a"), FOLIO_EINVAL);
	cr_expect_eq(folio_idx_decode(&out, &n, got, f, 0, 3, FOLIO_IDX_MAX, "a"), FOLIO_EINVAL);
	cr_expect_eq(folio_idx_decode(&out, &n, got, f, len, 4, FOLIO_IDX_MAX, "a"), FOLIO_EINVAL);
	/* data cut short */
	cr_expect_eq(folio_idx_decode(&out, &n, got, f, len - 1, 3, FOLIO_IDX_MAX, "b"), FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), "truncated") != NULL, "%s", folio_error_last());
	/* sizes out of range: 0 and 2^32 - 1 pixels wide */
	uint32_t zero[3] = { 1, 0, 3 }, huge[3] = { 1, 2, 0xffffffffu };
	unsigned char *z = idx_file(&len, 3, zero, pix, 12);
	cr_expect_eq(folio_idx_decode(&out, &n, got, z, len, 3, FOLIO_IDX_MAX, "c"), FOLIO_EINVAL);
	free(z);
	z = idx_file(&len, 3, huge, pix, 12);
	cr_expect_eq(folio_idx_decode(&out, &n, got, z, len, 3, FOLIO_IDX_MAX, "c"), FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), "out of range") != NULL, "%s", folio_error_last());
	free(z);
	/* more than max bytes, raw */
	cr_expect_eq(folio_idx_decode(&out, &n, got, f, len, 3, 10, "d"), FOLIO_EINVAL);
	free(f);
}

Test(idx, bad_gzip_truncated_gzip_and_a_bomb)
{
	uint32_t dims[1] = { 100000 }, got[3];
	unsigned char *zeros = calloc(100000, 1), *out = NULL;
	size_t len, glen, n;
	unsigned char *f = idx_file(&len, 1, dims, zeros, 100000);
	unsigned char *g = gzip(&glen, f, len);

	cr_assert_lt(glen, 1000);
	/* decompresses past the cap: refused before it is all inflated */
	cr_expect_eq(folio_idx_decode(&out, &n, got, g, glen, 1, 50000, "bomb.gz"), FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), "bomb.gz: decompresses to more than 50000") != NULL, "%s",
		  folio_error_last());
	/* exactly the cap is fine */
	cr_expect_eq(folio_idx_decode(&out, &n, got, g, glen, 1, len, "ok.gz"), 0, "%s",
		     folio_error_last());
	free(out);
	/* cut short */
	cr_expect_eq(folio_idx_decode(&out, &n, got, g, glen / 2, 1, FOLIO_IDX_MAX, "cut.gz"),
		     FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), "cut.gz: bad gzip data") != NULL, "%s", folio_error_last());
	/* damaged deflate data */
	for (size_t i = 10; i < glen - 8; i++)
		g[i] ^= 0x55;
	cr_expect_eq(folio_idx_decode(&out, &n, got, g, glen, 1, FOLIO_IDX_MAX, "bad.gz"), FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), "bad.gz: bad gzip data") != NULL, "%s", folio_error_last());
	/* only the magic */
	cr_expect_eq(folio_idx_decode(&out, &n, got, "\x1f\x8b", 2, 1, FOLIO_IDX_MAX, "m.gz"),
		     FOLIO_EINVAL);
	free(g);
	free(f);
	free(zeros);
}

Test(idx, reads_pairs_splits_and_recognises_fashion_mnist, .init = setup, .fini = teardown)
{
	static const unsigned char fm_train[12] = { 9, 0, 0, 3, 0, 2, 7, 2, 5, 5, 1, 1 };
	static const unsigned char digits[3] = { 7, 2, 1 };
	folio_idx idx;

	idx_pair("train", 12, fm_train, 1);
	idx_pair("t10k", 3, digits, 0);
	puts_file("README", "not an idx file");
	cr_assert_eq(folio_idx_read(&idx, tmp, -1), 0, "%s", folio_error_last());
	cr_assert_eq(idx.nsets, 2);
	cr_expect_eq(idx.rows, 2);
	cr_expect_eq(idx.cols, 3);
	cr_expect(idx.fashion, "the first ten labels are Fashion-MNIST's");
	cr_expect_str_eq(idx.sets[0].split, "test"); /* t10k sorts first */
	cr_expect_eq(idx.sets[0].count, 3);
	cr_expect_str_eq(idx.sets[1].split, "train");
	cr_expect_eq(idx.sets[1].count, 12);
	cr_expect_eq(idx.sets[1].pixels[6], 6); /* image 1, first pixel */
	cr_expect_str_eq(folio_idx_class(&idx, 0), "t-shirt-top");
	cr_expect_str_eq(folio_idx_class(&idx, 9), "ankle-boot");
	cr_expect_null(folio_idx_class(&idx, 10));
	folio_idx_clear(&idx);

	cr_assert_eq(folio_idx_read(&idx, tmp, 2), 0, "%s", folio_error_last());
	cr_expect_eq(idx.sets[1].count, 2);
	folio_idx_clear(&idx);
}

Test(idx, mnist_digits_and_bad_pairs, .init = setup, .fini = teardown)
{
	static const unsigned char digits[4] = { 5, 0, 4, 1 };
	static const unsigned char bad[4] = { 5, 0, 14, 1 };
	folio_idx idx;

	cr_expect_eq(folio_idx_read(&idx, tmp, -1), FOLIO_EINVAL, "no images file");
	cr_expect(strstr(folio_error_last(), "no NAME-images-idx3-ubyte file") != NULL);
	cr_expect_eq(folio_idx_read(&idx, at("nope"), -1), FOLIO_ENOTFOUND);

	idx_pair("train", 4, digits, 0);
	cr_assert_eq(folio_idx_read(&idx, tmp, -1), 0, "%s", folio_error_last());
	cr_expect_not(idx.fashion);
	cr_expect_str_eq(folio_idx_class(&idx, 5), "5");
	folio_idx_clear(&idx);

	/* a label past 9 */
	idx_pair("train", 4, bad, 0);
	cr_expect_eq(folio_idx_read(&idx, tmp, -1), FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), "label 14 of image 2 is not 0-9") != NULL, "%s",
		  folio_error_last());
	/* counts that disagree */
	idx_pair("train", 4, digits, 0);
	uint32_t ld[1] = { 3 };
	size_t len;
	unsigned char *l = idx_file(&len, 1, ld, digits, 3);
	put("train-labels-idx1-ubyte", l, len);
	free(l);
	cr_expect_eq(folio_idx_read(&idx, tmp, -1), FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), "has 3 labels for 4 images") != NULL, "%s",
		  folio_error_last());
	/* no labels file at all */
	unlink(at("train-labels-idx1-ubyte"));
	cr_expect_eq(folio_idx_read(&idx, tmp, -1), FOLIO_ENOTFOUND);
	cr_expect(strstr(folio_error_last(), "train-labels-idx1-ubyte") != NULL, "%s",
		  folio_error_last());
}

/* ---- dataset.json ---- */

static folio_label_source src_of(folio_label_format f, const char *path, const char *split)
{
	folio_label_source s = { 0 };
	s.format = f;
	s.path = (char *)path;
	s.split = (char *)split;
	return s;
}

static cJSON *merged(const char *old, const folio_label_source *s, size_t n, char *const *cls,
		     size_t ncls, int new_auto)
{
	char *text = NULL;
	size_t len = 0;
	cr_assert_eq(folio_dataset_json_merge(&text, &len, "ds.json", old, old ? strlen(old) : 0, s, n,
					      cls, ncls, new_auto),
		     0, "%s", folio_error_last());
	cr_assert_eq(strlen(text), len);
	cr_expect_eq(text[len - 1], '\n');
	cJSON *j = cJSON_Parse(text);
	cr_assert_not_null(j);
	free(text);
	return j;
}

Test(dataset_json, a_new_file)
{
	folio_label_source s[2] = { src_of(FOLIO_LABELS_VOC, "v/Annotations", NULL),
				    src_of(FOLIO_LABELS_IMAGEFOLDER, "f/train", "train") };
	char *cls[] = { "cat", "dog" };
	s[0].images = "v/JPEGImages";
	s[1].prediction = 1;

	cJSON *j = merged(NULL, s, 2, cls, 2, 1);
	cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(j, "auto")));
	cJSON *l = cJSON_GetObjectItem(j, "labels");
	cr_assert_eq(cJSON_GetArraySize(l), 2);
	cr_expect_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(l, 0), "format")->valuestring, "voc");
	cr_expect_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(l, 0), "images")->valuestring,
			 "v/JPEGImages");
	cr_expect_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(l, 1), "split")->valuestring, "train");
	cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(l, 1), "prediction")));
	cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "classes")), 2);
	cr_expect(cJSON_IsObject(cJSON_GetObjectItem(j, "expectations")));
	cJSON_Delete(j);

	j = merged(NULL, s, 0, NULL, 0, 0);
	cr_expect_null(cJSON_GetObjectItem(j, "auto"));
	cr_expect_null(cJSON_GetObjectItem(j, "classes"));
	cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "labels")), 0);
	cJSON_Delete(j);
}

Test(dataset_json, merges_into_an_existing_file)
{
	const char *old = "{\"labels\": [{\"format\": \"voc\", \"path\": \"v/Annotations\"},"
			  " {\"format\": \"coco\", \"path\": \"c.json\"}],"
			  " \"classes\": [\"dog\"], \"expectations\": {\"min_images\": 3},"
			  " \"mine\": [1, 2]}";
	folio_label_source s[2] = { src_of(FOLIO_LABELS_VOC, "v/Annotations", NULL),
				    src_of(FOLIO_LABELS_YOLO, "y/labels", NULL) };
	char *cls[] = { "cat", "dog" };
	s[1].names = "y/data.yaml";

	cJSON *j = merged(old, s, 2, cls, 2, 1);
	cr_expect_null(cJSON_GetObjectItem(j, "auto"), "auto is only set on a new file");
	cJSON *l = cJSON_GetObjectItem(j, "labels");
	cr_assert_eq(cJSON_GetArraySize(l), 3, "the same voc source is replaced, not repeated");
	cr_expect_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(l, 0), "format")->valuestring, "coco");
	cr_expect_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(l, 2), "names")->valuestring,
			 "y/data.yaml");
	cJSON *c = cJSON_GetObjectItem(j, "classes");
	cr_assert_eq(cJSON_GetArraySize(c), 2);
	cr_expect_str_eq(cJSON_GetArrayItem(c, 0)->valuestring, "dog");
	cr_expect_str_eq(cJSON_GetArrayItem(c, 1)->valuestring, "cat");
	cr_expect_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "expectations"), "min_images")->valueint, 3);
	cr_expect_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "mine")), 2, "unknown members kept");
	cJSON_Delete(j);

	/* a "classes" that is not an array is left for the reader to report */
	j = merged("{\"classes\": \"cat\"}", s, 1, cls, 2, 0);
	cr_expect(cJSON_IsString(cJSON_GetObjectItem(j, "classes")));
	cJSON_Delete(j);
}

Test(dataset_json, bad_existing_files_are_refused)
{
	static const char *const bad[] = { "[1, 2]", "\"text\"", "not json", "{\"labels\": 3",
					   "", NULL };
	folio_label_source s = src_of(FOLIO_LABELS_NATIVE, "", NULL);
	char *text = (char *)"x";
	size_t len = 7;

	for (size_t i = 0; bad[i]; i++) {
		cr_expect_eq(folio_dataset_json_merge(&text, &len, "ds.json", bad[i], strlen(bad[i]), &s,
						      1, NULL, 0, 0),
			     FOLIO_EINVAL, "%s", bad[i]);
		cr_expect_null(text);
		cr_expect(strstr(folio_error_last(), "ds.json is not a JSON object") != NULL, "%s",
			  folio_error_last());
	}
	const char *notarray = "{\"labels\": {\"format\": \"voc\"}}";
	cr_expect_eq(folio_dataset_json_merge(&text, &len, "ds.json", notarray, strlen(notarray), &s, 1,
					      NULL, 0, 0),
		     FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), "ds.json: \"labels\" is not an array") != NULL, "%s",
		  folio_error_last());
}

/* ---- import plans ---- */

typedef struct warnings {
	char text[4096];
	int n;
} warnings;

static void on_warn(const char *message, void *payload)
{
	warnings *w = payload;
	size_t l = strlen(w->text);
	snprintf(w->text + l, sizeof w->text - l, "%s\n", message);
	w->n++;
}

static warnings warned;

static int plan(folio_import_plan *pl, folio_import_format f, const char *src, const char *as)
{
	folio_import_opts o = { .as = as, .limit = -1, .warn = on_warn, .payload = &warned };
	memset(&warned, 0, sizeof warned);
	return folio_import_plan_make(pl, f, src, &o);
}

/* The plan's file with dest, or NULL. */
static const folio_import_file *file_to(const folio_import_plan *pl, const char *dest)
{
	for (size_t i = 0; i < pl->nfiles; i++)
		if (strcmp(pl->files[i].dest, dest) == 0)
			return &pl->files[i];
	return NULL;
}

static const char *opt(const char *s)
{
	return s ? s : "(null)";
}

static void expect_source(const folio_import_plan *pl, size_t i, folio_label_format f,
			  const char *path, const char *images, const char *names, const char *split)
{
	cr_assert_lt(i, pl->nsources);
	const folio_label_source *s = &pl->sources[i];
	cr_expect_eq(s->format, f);
	cr_expect_str_eq(s->path, path);
	cr_expect_str_eq(opt(s->images), opt(images));
	cr_expect_str_eq(opt(s->names), opt(names));
	cr_expect_str_eq(opt(s->split), opt(split));
}

/* Exactly one thing to copy: the folder src, whole, to dest. */
static void expect_whole_folder(const folio_import_plan *pl, const char *src, const char *dest)
{
	cr_assert_eq(pl->nfiles, 1);
	cr_expect(pl->files[0].folder);
	cr_expect_str_eq(pl->files[0].src, src);
	cr_expect_str_eq(pl->files[0].dest, dest);
}

Test(plan, voc, .init = setup, .fini = teardown)
{
	folio_import_plan pl;

	puts_file("voc/Annotations/a.xml", "<annotation/>");
	puts_file("voc/JPEGImages/a.jpg", "jpg");
	cr_assert_eq(plan(&pl, FOLIO_IMPORT_VOC, at("voc"), "pascal"), 0, "%s", folio_error_last());
	cr_assert_eq(pl.nsources, 1);
	expect_source(&pl, 0, FOLIO_LABELS_VOC, "pascal/Annotations", "pascal/JPEGImages", NULL, NULL);
	expect_whole_folder(&pl, at("voc"), "pascal");
	cr_expect_str_eq(pl.as, "pascal");
	folio_import_plan_clear(&pl);

	/* at the root, no JPEGImages */
	puts_file("voc2/Annotations/a.xml", "<annotation/>");
	cr_assert_eq(plan(&pl, FOLIO_IMPORT_VOC, at("voc2"), NULL), 0, "%s", folio_error_last());
	expect_source(&pl, 0, FOLIO_LABELS_VOC, "Annotations", NULL, NULL, NULL);
	expect_whole_folder(&pl, at("voc2"), "");
	folio_import_plan_clear(&pl);

	/* not a VOC folder; a file; nothing there */
	cr_expect_eq(plan(&pl, FOLIO_IMPORT_VOC, at("voc/JPEGImages"), NULL), FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), "it has no Annotations/") != NULL);
	cr_expect_eq(pl.nfiles, 0);
	cr_expect_eq(plan(&pl, FOLIO_IMPORT_VOC, at("voc/JPEGImages/a.jpg"), NULL), FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), "--format voc wants a folder") != NULL);
	cr_expect_eq(plan(&pl, FOLIO_IMPORT_VOC, at("nope"), NULL), FOLIO_ENOTFOUND);
}

Test(plan, yolo, .init = setup, .fini = teardown)
{
	folio_import_plan pl;

	puts_file("y/data.yaml", "names: [cat]\n");
	puts_file("y/train/labels/a.txt", "0 0.5 0.5 0.1 0.1\n");
	puts_file("y/train/images/a.jpg", "jpg");
	puts_file("y/val/labels/b.txt", "0 0.5 0.5 0.1 0.1\n");
	puts_file("y/.hidden/labels/c.txt", "");
	cr_assert_eq(plan(&pl, FOLIO_IMPORT_YOLO, at("y"), "yo"), 0, "%s", folio_error_last());
	cr_assert_eq(pl.nsources, 2, "one source per labels/ folder");
	expect_source(&pl, 0, FOLIO_LABELS_YOLO, "yo/train/labels", NULL, "yo/data.yaml", NULL);
	expect_source(&pl, 1, FOLIO_LABELS_YOLO, "yo/val/labels", NULL, "yo/data.yaml", NULL);
	expect_whole_folder(&pl, at("y"), "yo");
	cr_expect_eq(warned.n, 0);
	folio_import_plan_clear(&pl);

	/* labels beside the images, a darknet .names file */
	puts_file("d/a.txt", "0 0.5 0.5 0.1 0.1\n");
	puts_file("d/obj.names", "cat\n");
	cr_assert_eq(plan(&pl, FOLIO_IMPORT_YOLO, at("d"), NULL), 0, "%s", folio_error_last());
	cr_assert_eq(pl.nsources, 1);
	expect_source(&pl, 0, FOLIO_LABELS_YOLO, "", NULL, "obj.names", NULL);
	folio_import_plan_clear(&pl);

	/* no names file: a warning, classes are numbers */
	puts_file("n/labels/a.txt", "0 0.5 0.5 0.1 0.1\n");
	cr_assert_eq(plan(&pl, FOLIO_IMPORT_YOLO, at("n"), NULL), 0, "%s", folio_error_last());
	expect_source(&pl, 0, FOLIO_LABELS_YOLO, "labels", NULL, NULL, NULL);
	cr_expect_eq(warned.n, 1);
	cr_expect(strstr(warned.text, "classes will be numbers") != NULL, "%s", warned.text);
	folio_import_plan_clear(&pl);
}

Test(plan, imagefolder_native_and_bad_destinations, .init = setup, .fini = teardown)
{
	folio_import_plan pl;

	puts_file("if/train/cat/a.png", "png");
	puts_file("if/val/dog/b.png", "png");
	cr_assert_eq(plan(&pl, FOLIO_IMPORT_IMAGEFOLDER, at("if"), "x"), 0, "%s", folio_error_last());
	cr_assert_eq(pl.nsources, 2);
	expect_source(&pl, 0, FOLIO_LABELS_IMAGEFOLDER, "x/train", NULL, NULL, "train");
	expect_source(&pl, 1, FOLIO_LABELS_IMAGEFOLDER, "x/val", NULL, NULL, "val");
	folio_import_plan_clear(&pl);

	/* a class folder among the splits: class/img at the top */
	puts_file("if/bird/c.png", "png");
	cr_assert_eq(plan(&pl, FOLIO_IMPORT_IMAGEFOLDER, at("if"), "x"), 0, "%s", folio_error_last());
	cr_assert_eq(pl.nsources, 1);
	expect_source(&pl, 0, FOLIO_LABELS_IMAGEFOLDER, "x", NULL, NULL, NULL);
	folio_import_plan_clear(&pl);

	folio_import_opts o = { .as = "n", .prediction = 1, .limit = -1 };
	cr_assert_eq(folio_import_plan_make(&pl, FOLIO_IMPORT_NATIVE, at("if"), &o), 0, "%s",
		     folio_error_last());
	expect_source(&pl, 0, FOLIO_LABELS_NATIVE, "n", NULL, NULL, NULL);
	cr_expect(pl.sources[0].prediction);
	expect_whole_folder(&pl, at("if"), "n");
	folio_import_plan_clear(&pl);

	cr_expect_eq(plan(&pl, FOLIO_IMPORT_NATIVE, at("if"), "../up"), FOLIO_EINVAL);
	cr_expect_eq(plan(&pl, FOLIO_IMPORT_NATIVE, at("if"), "/abs"), FOLIO_EINVAL);
	cr_expect_eq(plan(&pl, (folio_import_format)0, at("if"), NULL), FOLIO_EINVAL);
	cr_expect_eq(plan(&pl, (folio_import_format)99, at("if"), NULL), FOLIO_EINVAL);
	cr_expect_eq(pl.nfiles, 0);

	folio_import_format f;
	cr_expect_eq(folio_import_format_parse(&f, "idx"), 0);
	cr_expect_eq(f, FOLIO_IMPORT_IDX);
	cr_expect_eq(folio_import_format_parse(&f, "coco-results"), 0);
	cr_expect_eq(f, FOLIO_IMPORT_COCO_RESULTS);
	cr_expect_eq(folio_import_format_parse(&f, "pascal"), FOLIO_EINVAL);
}

static const char coco_json[] =
	"{\"images\": [{\"id\": 1, \"file_name\": \"img/a.jpg\"},"
	" {\"id\": 2, \"file_name\": \"img/gone.jpg\"},"
	" {\"id\": 3, \"file_name\": \"../../etc/passwd\"},"
	" {\"id\": 4, \"file_name\": \"/etc/shadow\"},"
	" {\"id\": 5}],"
	" \"annotations\": [], \"categories\": [{\"id\": 1, \"name\": \"cat\"}]}";

Test(plan, coco_file_copies_the_images_it_names, .init = setup, .fini = teardown)
{
	folio_import_plan pl;

	puts_file("c/ann.json", coco_json);
	puts_file("c/img/a.jpg", "jpg");
	puts_file("c/img/other.jpg", "not named");
	cr_assert_eq(plan(&pl, FOLIO_IMPORT_COCO, at("c/ann.json"), "co"), 0, "%s", folio_error_last());
	cr_assert_eq(pl.nsources, 1);
	expect_source(&pl, 0, FOLIO_LABELS_COCO, "co/ann.json", NULL, NULL, NULL);
	cr_expect_eq(pl.nfiles, 2);
	cr_assert_not_null(file_to(&pl, "co/ann.json"));
	cr_expect_str_eq(file_to(&pl, "co/ann.json")->src, at("c/ann.json"));
	cr_assert_not_null(file_to(&pl, "co/img/a.jpg"));
	cr_expect_not(file_to(&pl, "co/img/a.jpg")->folder);
	cr_expect_eq(pl.missing, 1);
	cr_expect_eq(pl.refused, 2);
	cr_expect(strstr(warned.text, "img/gone.jpg is missing") != NULL, "%s", warned.text);
	cr_expect(strstr(warned.text, "not copying '../../etc/passwd'") != NULL, "%s", warned.text);
	cr_expect(strstr(warned.text, "1 images missing, 2 paths refused") != NULL, "%s", warned.text);
	folio_import_plan_clear(&pl);

	/* --images: file_name relative to another folder */
	puts_file("elsewhere/img/a.jpg", "jpg");
	puts_file("elsewhere/img/gone.jpg", "jpg");
	folio_import_opts o = { .images = at("elsewhere"), .limit = -1 };
	cr_assert_eq(folio_import_plan_make(&pl, FOLIO_IMPORT_COCO, at("c/ann.json"), &o), 0, "%s",
		     folio_error_last());
	cr_expect_eq(pl.nfiles, 3);
	cr_expect_str_eq(file_to(&pl, "img/gone.jpg")->src, at("elsewhere/img/gone.jpg"));
	folio_import_plan_clear(&pl);
}

Test(plan, coco_needs_an_instances_file, .init = setup, .fini = teardown)
{
	folio_import_plan pl;

	/* a captions file (no categories), a results file, broken JSON */
	puts_file("cap/captions.json", "{\"images\": [], \"annotations\": [{\"caption\": \"x\"}]}");
	puts_file("cap/results.json", "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [1,1,1,1]}]");
	puts_file("cap/broken.json", "{\"images\": [");
	cr_expect_eq(plan(&pl, FOLIO_IMPORT_COCO, at("cap/captions.json"), NULL), FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), "is not a COCO instances file (needs \"images\", "
					     "\"annotations\" and \"categories\" arrays)") != NULL,
		  "%s", folio_error_last());
	cr_expect_eq(plan(&pl, FOLIO_IMPORT_COCO, at("cap/broken.json"), NULL), FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), "is not valid JSON") != NULL, "%s", folio_error_last());
	cr_expect_eq(plan(&pl, FOLIO_IMPORT_COCO, at("cap"), NULL), FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), "no COCO instances JSON file in") != NULL, "%s",
		  folio_error_last());

	/* the folder form: one source per instances file, folder copied */
	puts_file("cap/annotations/instances_val.json", coco_json);
	puts_file("cap/annotations/person_keypoints_val.json", coco_json);
	cr_assert_eq(plan(&pl, FOLIO_IMPORT_COCO, at("cap"), "k"), 0, "%s", folio_error_last());
	cr_assert_eq(pl.nsources, 2);
	expect_source(&pl, 0, FOLIO_LABELS_COCO, "k/annotations/instances_val.json", NULL, NULL, NULL);
	expect_source(&pl, 1, FOLIO_LABELS_COCO, "k/annotations/person_keypoints_val.json", NULL, NULL,
		      NULL);
	expect_whole_folder(&pl, at("cap"), "k");
	folio_import_plan_clear(&pl);
}

Test(plan, coco_results, .init = setup, .fini = teardown)
{
	folio_import_plan pl;
	folio_import_opts o = { .gt = "c/instances.json", .limit = -1 };

	puts_file("r/res.json", "[]");
	cr_assert_eq(folio_import_plan_make(&pl, FOLIO_IMPORT_COCO_RESULTS, at("r/res.json"), &o), 0,
		     "%s", folio_error_last());
	cr_assert_eq(pl.nsources, 1);
	expect_source(&pl, 0, FOLIO_LABELS_COCO_RESULTS, "predictions/res.json", NULL, NULL, NULL);
	cr_expect_str_eq(pl.sources[0].gt, "c/instances.json");
	cr_expect(pl.sources[0].prediction);
	cr_expect_str_eq(file_to(&pl, "predictions/res.json")->src, at("r/res.json"));
	cr_expect_str_eq(pl.as, "");
	folio_import_plan_clear(&pl);

	o.as = "preds/model.json";
	cr_assert_eq(folio_import_plan_make(&pl, FOLIO_IMPORT_COCO_RESULTS, at("r/res.json"), &o), 0,
		     "%s", folio_error_last());
	expect_source(&pl, 0, FOLIO_LABELS_COCO_RESULTS, "preds/model.json", NULL, NULL, NULL);
	cr_expect_not_null(file_to(&pl, "preds/model.json"));
	folio_import_plan_clear(&pl);

	cr_expect_eq(folio_import_plan_make(&pl, FOLIO_IMPORT_COCO_RESULTS, at("r"), &o), FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), "wants a JSON file") != NULL);
}

Test(plan, idx_images_become_pngs_in_class_folders, .init = setup, .fini = teardown)
{
	static const unsigned char digits[12] = { 5, 0, 4, 1, 9, 2, 1, 3, 1, 4, 3, 5 };
	folio_import_plan pl;
	folio_import_opts o = { .as = "mnist", .limit = -1 };

	idx_pair("train", 12, digits, 1);
	idx_pair("t10k", 3, digits, 1);
	cr_assert_eq(folio_import_plan_make(&pl, FOLIO_IMPORT_IDX, tmp, &o), 0, "%s",
		     folio_error_last());
	cr_expect_eq(pl.nfiles, 15);
	const folio_import_file *f = file_to(&pl, "mnist/train/5/00.png");
	cr_assert_not_null(f, "zero-padded to the width of the largest index");
	cr_expect_null(f->src);
	cr_expect_eq(f->pixels, pl.idx.sets[1].pixels);
	f = file_to(&pl, "mnist/train/4/09.png");
	cr_assert_not_null(f);
	cr_expect_eq(f->pixels, pl.idx.sets[1].pixels + 9 * 6);
	cr_expect_not_null(file_to(&pl, "mnist/test/4/2.png"));
	cr_assert_eq(pl.nsources, 2);
	expect_source(&pl, 0, FOLIO_LABELS_IMAGEFOLDER, "mnist/test", NULL, NULL, "test");
	expect_source(&pl, 1, FOLIO_LABELS_IMAGEFOLDER, "mnist/train", NULL, NULL, "train");
	cr_assert_eq(pl.nclasses, 10);
	cr_expect_str_eq(pl.classes[0], "0");
	folio_import_plan_clear(&pl);

	o.limit = 2;
	cr_assert_eq(folio_import_plan_make(&pl, FOLIO_IMPORT_IDX, tmp, &o), 0, "%s",
		     folio_error_last());
	cr_expect_eq(pl.nfiles, 4);
	cr_expect_not_null(file_to(&pl, "mnist/train/0/1.png"));
	folio_import_plan_clear(&pl);

	cr_expect_eq(folio_import_plan_make(&pl, FOLIO_IMPORT_IDX, at("train-images-idx3-ubyte.gz"), &o),
		     FOLIO_EINVAL, "a file, not a folder");
}

Test(plan, dataset_json_for_a_stage, .init = setup, .fini = teardown)
{
	folio_import_plan pl;
	folio_tree stage;
	folio_entry e = { 0 };
	char *text = NULL;
	size_t len = 0;

	puts_file("voc/Annotations/a.xml", "<annotation/>");
	cr_assert_eq(plan(&pl, FOLIO_IMPORT_VOC, at("voc"), "v"), 0, "%s", folio_error_last());
	folio_tree_init(&stage);
	e.path = "v/old.jpg";
	cr_assert_eq(folio_tree_push(&stage, &e), 0);

	/* only files under v/: labels stay declared-only */
	cr_assert_eq(folio_import_dataset_json(&text, &len, &pl, NULL, 0, &stage), 0);
	cJSON *j = cJSON_Parse(text);
	cr_expect_null(cJSON_GetObjectItem(j, "auto"));
	cr_expect_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "labels"), 0),
					     "path")->valuestring, "v/Annotations");
	cJSON_Delete(j);
	free(text);

	/* other files in the stage: their labels keep being detected */
	e.path = "other/x.jpg";
	cr_assert_eq(folio_tree_push(&stage, &e), 0);
	folio_tree_sort(&stage);
	cr_assert_eq(folio_import_dataset_json(&text, &len, &pl, NULL, 0, &stage), 0);
	j = cJSON_Parse(text);
	cr_expect(cJSON_IsTrue(cJSON_GetObjectItem(j, "auto")));
	cJSON_Delete(j);
	free(text);

	cr_expect_eq(folio_import_dataset_json(&text, &len, &pl, "[]", 2, &stage), FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), ".folio/dataset.json in the stage is not a JSON object") !=
		  NULL, "%s", folio_error_last());
	folio_tree_clear(&stage);
	folio_import_plan_clear(&pl);
}
