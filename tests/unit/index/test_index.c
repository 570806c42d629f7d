/*
 * test_index.c — unit tests of the per-version sample table (core/index).
 *
 * Each test gets a fresh repository in a temp folder (/tmp/folio-ut-index.*,
 * removed by the fixture). Trees are built by hand: images are real JPEGs
 * from the Debian package labelme-examples, put into the object store as
 * FOLIO_ENTRY_LFS entries; label files (VOC XML, YOLO text, class names)
 * are written here and stored as FOLIO_ENTRY_BLOB entries. Tests skip when
 * the package is not installed.
 *
 * What is checked: rows, links to annotations and features against what
 * the files say (JPEG header sizes, VOC class names); the cache (a second
 * open loads the same bytes; a damaged cache file is rebuilt, never
 * trusted); incremental builds (features and labels copied from the base
 * only when they still hold); odd trees (empty, an object missing from the
 * store); folio_index_find and folio_index_annotation.
 *
 * Tests marked "Regression" were written against bugs found in review (the
 * comment says what was wrong); they failed before the fix that came with them.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "../testutil.h"
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "folio/error.h"
#include "folio/index.h"
#include "folio/labels.h"
#include "folio/repo.h"
#include "folio/store.h"
#include "folio/tree.h"

#define EXAMPLES "/usr/share/doc/labelme-examples/examples"
#define VOC EXAMPLES "/bbox_detection/data_dataset_voc"
#define IMG3 VOC "/JPEGImages/2011_000003.jpg"    /* 500x338, 2 person */
#define IMG6 VOC "/JPEGImages/2011_000006.jpg"    /* 500x375, 4 person */
#define IMG25 VOC "/JPEGImages/2011_000025.jpg"   /* 500x375, 2 bus, 1 car */
#define ALT6 VOC "/AnnotationsVisualization/2011_000006.jpg"  /* 500x375, other bytes */
#define CLS1 EXAMPLES "/classification/data_annotated/0001.jpg"  /* 640x480 */
#define CLS2 EXAMPLES "/classification/data_annotated/0002.jpg"  /* 640x480 */

static char dir[TEST_DIR_MAX];
static char repo_path[300];
static folio_repo *repo;

/* ---- fixture ----------------------------------------------------------- */

static void setup(void)
{
	struct stat st;
	if (stat(VOC, &st) != 0)
		cr_skip_test("labelme-examples is not installed");
	test_mkdtemp(dir, "ut-index");
	snprintf(repo_path, sizeof repo_path, "%s/r", dir);
	cr_assert_eq(folio_repo_init(repo_path), 0, "%s", folio_error_last());
	cr_assert_eq(folio_repo_open(&repo, repo_path), 0, "%s", folio_error_last());
}

static void teardown(void)
{
	folio_repo_free(repo);
	repo = NULL;
	test_rmtree(dir);
}

TestSuite(index, .init = setup, .fini = teardown);

/* ---- trees ------------------------------------------------------------- */

/* An image file of the package, stored, as path. */
static void add_image(folio_tree *t, const char *path, const char *src)
{
	folio_entry e = { 0 };
	uint64_t size = 0;
	cr_assert_eq(folio_store_put_file(&e.oid, &size, NULL, repo->store, src), 0, "%s",
		     folio_error_last());
	e.path = (char *)path;
	e.kind = FOLIO_ENTRY_LFS;
	e.mode = FOLIO_MODE_FILE;
	e.size = size;
	cr_assert_eq(folio_tree_push(t, &e), 0);
}

/* A text file (label, class names), stored, as path. */
static void add_text(folio_tree *t, const char *path, const char *text)
{
	folio_entry e = { 0 };
	cr_assert_eq(folio_store_put_buf(&e.oid, repo->store, text, strlen(text)), 0, "%s",
		     folio_error_last());
	e.path = (char *)path;
	e.kind = FOLIO_ENTRY_BLOB;
	e.mode = FOLIO_MODE_FILE;
	e.size = strlen(text);
	cr_assert_eq(folio_tree_push(t, &e), 0);
}

/* The bytes of a file (malloc'd). */
static void *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "cannot open %s", path);
	cr_assert_eq(fseek(f, 0, SEEK_END), 0);
	long n = ftell(f);
	cr_assert_geq(n, 0);
	rewind(f);
	void *buf = malloc((size_t)n + 1);
	cr_assert_not_null(buf);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* An image entry whose object is NOT in the store (oid of src's bytes). */
static void add_unstored_image(folio_tree *t, const char *path, const char *src)
{
	folio_entry e = { 0 };
	size_t len = 0;
	void *buf = slurp(src, &len);
	cr_assert_eq(folio_hash_buf(&e.oid, buf, len), 0);
	free(buf);
	e.path = (char *)path;
	e.kind = FOLIO_ENTRY_LFS;
	e.mode = FOLIO_MODE_FILE;
	e.size = len;
	cr_assert_eq(folio_tree_push(t, &e), 0);
}

/* A minimal VOC file for image (the basename, resolved in JPEGImages/). */
static char *voc_xml(const char *image, int w, int h, const char *const *classes)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	cr_assert_not_null(f);
	fprintf(f, "<annotation>\n  <filename>%s</filename>\n"
		"  <size><width>%d</width><height>%d</height><depth>3</depth></size>\n",
		image, w, h);
	for (int i = 0; classes[i]; i++)
		fprintf(f, "  <object><name>%s</name><bndbox><xmin>%d</xmin><ymin>10</ymin>"
			"<xmax>%d</xmax><ymax>60</ymax></bndbox></object>\n",
			classes[i], 10 + i, 50 + i);
	fprintf(f, "</annotation>\n");
	fclose(f);
	return s;
}

static void add_voc(folio_tree *t, const char *path, const char *image, int w, int h,
		    const char *const *classes)
{
	char *x = voc_xml(image, w, h, classes);
	add_text(t, path, x);
	free(x);
}

/* The three VOC images of the package with their own annotation files. */
static void voc_tree(folio_tree *t)
{
	size_t len;
	char *x;

	folio_tree_init(t);
	add_image(t, "JPEGImages/2011_000003.jpg", IMG3);
	add_image(t, "JPEGImages/2011_000006.jpg", IMG6);
	add_image(t, "JPEGImages/2011_000025.jpg", IMG25);
	static const char *const names[] = { "2011_000003", "2011_000006", "2011_000025" };
	for (int i = 0; i < 3; i++) {
		char src[512], dst[128];
		snprintf(src, sizeof src, VOC "/Annotations/%s.xml", names[i]);
		snprintf(dst, sizeof dst, "Annotations/%s.xml", names[i]);
		x = slurp(src, &len);
		x[len] = 0;
		add_text(t, dst, x);
		free(x);
	}
	folio_tree_sort(t);
}

/* ---- opening ----------------------------------------------------------- */

static folio_index *open_opts(const folio_tree *t, const folio_index_opts *o,
			      folio_index_stats *st)
{
	folio_index *ix = NULL;
	folio_error_clear();
	int rc = folio_index_open(&ix, st, repo, t, o);
	cr_assert_eq(rc, 0, "folio_index_open: %d %s", rc, folio_error_last());
	cr_assert_not_null(ix);
	return ix;
}

static folio_index *open_ix(const folio_tree *t, int pixels, folio_index_stats *st)
{
	folio_index_opts o = { .pixels = pixels, .threads = 2 };
	return open_opts(t, &o, st);
}

static void cache_path(char *out, size_t size, const folio_tree *t)
{
	folio_oid key;
	char hex[FOLIO_OID_HEXSZ + 1];
	folio_index_key(&key, t);
	folio_oid_tohex(hex, &key);
	snprintf(out, size, "%s/cache/index/%s.idx", repo_path, hex);
}

/* ---- reading a table --------------------------------------------------- */

static const folio_sample *row(const folio_index *ix, const char *path)
{
	long i = folio_index_find(ix, path);
	cr_assert_geq(i, 0, "no row %s", path);
	return &ix->samples[i];
}

/* Objects of class cls in the ground truth of the row at path. */
static size_t count_class(const folio_index *ix, const char *path, const char *cls)
{
	const folio_sample *s = row(ix, path);
	size_t n = 0;
	if (s->gt == FOLIO_NONE)
		return 0;
	const folio_iann *a = &ix->anns[s->gt];
	for (uint32_t k = 0; k < a->obj_count; k++)
		n += !strcmp(folio_index_str(ix, ix->objs[a->obj_first + k].cls), cls);
	return n;
}

static size_t gt_objects(const folio_index *ix, const char *path)
{
	const folio_sample *s = row(ix, path);
	return s->gt == FOLIO_NONE ? 0 : ix->anns[s->gt].obj_count;
}

static int has_label_class(const folio_index *ix, const char *cls)
{
	for (size_t i = 0; i < ix->nclasses; i++)
		if (!strcmp(folio_index_str(ix, ix->classes[i]), cls))
			return 1;
	return 0;
}

/* Same rows, links, features and labels, byte for byte. */
static void expect_same_table(const folio_index *a, const folio_index *b)
{
	cr_assert_eq(a->nsamples, b->nsamples);
	cr_assert_eq(a->nanns, b->nanns);
	cr_assert_eq(a->nobjs, b->nobjs);
	cr_assert_eq(a->ntags, b->ntags);
	cr_assert_eq(a->nclasses, b->nclasses);
	cr_assert_eq(a->nerrors, b->nerrors);
	cr_assert_eq(a->spool_len, b->spool_len);
	cr_assert_eq(a->lpool_len, b->lpool_len);
	cr_expect_eq(memcmp(a->samples, b->samples, a->nsamples * sizeof *a->samples), 0);
	cr_expect_eq(memcmp(a->anns, b->anns, a->nanns * sizeof *a->anns), 0);
	cr_expect_eq(memcmp(a->objs, b->objs, a->nobjs * sizeof *a->objs), 0);
	cr_expect_eq(memcmp(a->classes, b->classes, a->nclasses * sizeof *a->classes), 0);
	cr_expect_eq(memcmp(a->spool, b->spool, a->spool_len), 0);
	cr_expect_eq(memcmp(a->lpool, b->lpool, a->lpool_len), 0);
	cr_expect_eq(folio_oid_cmp(&a->key, &b->key), 0);
	cr_expect_eq(folio_oid_cmp(&a->label_inputs, &b->label_inputs), 0);
	cr_expect_eq(a->imagefolder, b->imagefolder);
}

/* ---- rows, labels, features -------------------------------------------- */

Test(index, rows_labels_and_features_of_a_voc_tree)
{
	folio_tree t;
	folio_index_stats st;
	voc_tree(&t);
	folio_index *ix = open_ix(&t, 1, &st);

	cr_expect_eq(st.cached, 0);
	cr_expect_eq(st.base_used, 0);
	cr_expect_eq(st.computed, 3);
	cr_assert_eq(ix->nsamples, 3);
	cr_expect_eq(ix->pixels, 1);
	for (size_t i = 1; i < ix->nsamples; i++)
		cr_expect_lt(strcmp(folio_index_path(ix, &ix->samples[i - 1]),
				    folio_index_path(ix, &ix->samples[i])), 0);
	cr_expect_str_eq(folio_index_path(ix, &ix->samples[0]), "JPEGImages/2011_000003.jpg");
	cr_expect_str_eq(folio_index_path(ix, &ix->samples[2]), "JPEGImages/2011_000025.jpg");

	/* links: what the package's VOC files say */
	cr_expect_eq(count_class(ix, "JPEGImages/2011_000003.jpg", "person"), 2);
	cr_expect_eq(gt_objects(ix, "JPEGImages/2011_000003.jpg"), 2);
	cr_expect_eq(count_class(ix, "JPEGImages/2011_000006.jpg", "person"), 4);
	cr_expect_eq(count_class(ix, "JPEGImages/2011_000025.jpg", "bus"), 2);
	cr_expect_eq(count_class(ix, "JPEGImages/2011_000025.jpg", "car"), 1);
	cr_expect_eq(gt_objects(ix, "JPEGImages/2011_000025.jpg"), 3);
	const folio_sample *s25 = row(ix, "JPEGImages/2011_000025.jpg");
	cr_assert_neq(s25->gt, FOLIO_NONE);
	const folio_iann *a = &ix->anns[s25->gt];
	cr_expect_str_eq(folio_index_str(ix, a->image), "JPEGImages/2011_000025.jpg");
	cr_expect_str_eq(folio_index_str(ix, a->source), "Annotations/2011_000025.xml");
	cr_expect_eq(a->format, FOLIO_LABELS_VOC);
	cr_expect_eq(a->prediction, 0);
	cr_expect_eq(a->width, 500);
	cr_expect_eq(a->height, 375);
	cr_expect_eq(s25->pred, FOLIO_NONE);
	cr_expect(has_label_class(ix, "person"));
	cr_expect(has_label_class(ix, "bus"));
	cr_expect(has_label_class(ix, "car"));
	cr_expect_eq(ix->nerrors, 0);
	cr_expect_eq(ix->imagefolder, 0);

	/* features: the JPEG headers */
	static const struct { const char *path; int w, h; } dims[] = {
		{ "JPEGImages/2011_000003.jpg", 500, 338 },
		{ "JPEGImages/2011_000006.jpg", 500, 375 },
		{ "JPEGImages/2011_000025.jpg", 500, 375 },
	};
	for (size_t i = 0; i < 3; i++) {
		const folio_sample *s = row(ix, dims[i].path);
		cr_expect_eq(s->f.known, 1, "%s", dims[i].path);
		cr_expect_eq(s->f.decodable, 1, "%s", dims[i].path);
		cr_expect_eq(s->f.has_pixels, 1, "%s", dims[i].path);
		cr_expect_eq(s->f.width, dims[i].w, "%s", dims[i].path);
		cr_expect_eq(s->f.height, dims[i].h, "%s", dims[i].path);
		cr_expect_eq(s->f.bands, 3, "%s", dims[i].path);
		cr_expect_str_eq(s->f.format, "jpeg");
		cr_expect_gt(s->f.brightness_mean, 0.0f);
		cr_expect_lt(s->f.brightness_mean, 1.0f);
		cr_expect_gt(s->size, 20000);
		const folio_entry *e = folio_tree_find(&t, dims[i].path);
		cr_assert_not_null(e);
		cr_expect_eq(folio_oid_cmp(&s->oid, &e->oid), 0);
		cr_expect_eq(s->size, e->size);
	}
	folio_index_free(ix);
	folio_tree_clear(&t);
}

Test(index, find_by_path)
{
	folio_tree t;
	voc_tree(&t);
	folio_index *ix = open_ix(&t, 0, NULL);
	for (size_t i = 0; i < ix->nsamples; i++)
		cr_expect_eq(folio_index_find(ix, folio_index_path(ix, &ix->samples[i])), (long)i);
	cr_expect_eq(folio_index_find(ix, "JPEGImages/2011_000004.jpg"), -1);
	cr_expect_eq(folio_index_find(ix, "Annotations/2011_000003.xml"), -1, "label files are no rows");
	cr_expect_eq(folio_index_find(ix, ""), -1);
	cr_expect_eq(folio_index_find(ix, "JPEGImages"), -1);
	cr_expect_eq(folio_index_find(ix, "zzz"), -1);
	folio_index_free(ix);
	folio_tree_clear(&t);
}

Test(index, header_only_features_without_pixels)
{
	folio_tree t;
	folio_index_stats st;
	voc_tree(&t);
	folio_index *ix = open_ix(&t, 0, &st);
	cr_expect_eq(ix->pixels, 0);
	for (size_t i = 0; i < ix->nsamples; i++) {
		cr_expect_eq(ix->samples[i].f.known, 1);
		cr_expect_eq(ix->samples[i].f.decodable, 1);
		cr_expect_eq(ix->samples[i].f.has_pixels, 0);
		cr_expect_eq(ix->samples[i].f.width, 500);
	}
	folio_index_free(ix);

	/* a table without pixels does not serve a request for them */
	ix = open_ix(&t, 1, &st);
	cr_expect_eq(st.cached, 0);
	cr_expect_eq(ix->pixels, 1);
	for (size_t i = 0; i < ix->nsamples; i++)
		cr_expect_eq(ix->samples[i].f.has_pixels, 1);
	folio_index_free(ix);

	/* a table with pixels serves a request without */
	ix = open_ix(&t, 0, &st);
	cr_expect_eq(st.cached, 1);
	cr_expect_eq(ix->samples[0].f.has_pixels, 1);
	folio_index_free(ix);
	folio_tree_clear(&t);
}

/* ---- the cache --------------------------------------------------------- */

Test(index, second_open_is_cached_and_identical)
{
	folio_tree t;
	folio_index_stats st;
	voc_tree(&t);
	folio_index *a = open_ix(&t, 1, &st);
	cr_expect_eq(st.cached, 0);
	char path[600];
	cache_path(path, sizeof path, &t);
	cr_expect_eq(access(path, R_OK), 0, "no cache file %s", path);

	folio_index *b = open_ix(&t, 1, &st);
	cr_expect_eq(st.cached, 1);
	cr_expect_eq(st.computed, 0);
	cr_expect_not_null(b->mem, "a cached table is one block");
	expect_same_table(a, b);
	folio_index_free(a);
	folio_index_free(b);
	folio_tree_clear(&t);
}

Test(index, no_save_writes_no_cache)
{
	folio_tree t;
	folio_index_stats st;
	voc_tree(&t);
	folio_index_opts o = { .pixels = 0, .threads = 2, .no_save = 1 };
	folio_index *a = open_opts(&t, &o, &st);
	char path[600];
	cache_path(path, sizeof path, &t);
	cr_expect_neq(access(path, F_OK), 0);
	folio_index_free(a);
	a = open_opts(&t, &o, &st);
	cr_expect_eq(st.cached, 0);
	folio_index_free(a);
	folio_tree_clear(&t);
}

static void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0, "cannot write %s", path);
	cr_assert_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

/* Damages the cache file with fn, opens again: rebuilt, same table, and
 * the rebuilt file is good again. */
typedef void (*damage_fn)(unsigned char *buf, size_t *len, size_t arg);

static void damage_and_check(const folio_tree *t, const folio_index *ref, damage_fn fn,
			     size_t arg, const char *what)
{
	char path[600];
	size_t len = 0;
	folio_index_stats st;
	cache_path(path, sizeof path, t);
	unsigned char *orig = slurp(path, &len);
	unsigned char *buf = malloc(len + 4096);
	cr_assert_not_null(buf);
	memcpy(buf, orig, len);
	size_t n = len;
	fn(buf, &n, arg);
	write_file(path, buf, n);

	folio_index *ix = open_ix(t, 0, &st);
	cr_expect_eq(st.cached, 0, "%s (%zu): a damaged cache file was trusted", what, arg);
	expect_same_table(ref, ix);
	folio_index_free(ix);
	ix = open_ix(t, 0, &st);
	cr_expect_eq(st.cached, 1, "%s (%zu): not rewritten", what, arg);
	folio_index_free(ix);
	free(buf);
	free(orig);
}

static void flip(unsigned char *buf, size_t *len, size_t at)
{
	if (at < *len)
		buf[at] ^= 0xff;
}

static void truncate_to(unsigned char *buf, size_t *len, size_t n)
{
	(void)buf;
	if (n < *len)
		*len = n;
}

static void garbage(unsigned char *buf, size_t *len, size_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
	for (size_t i = 0; i < *len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (unsigned char)x;
	}
}

static void append(unsigned char *buf, size_t *len, size_t n)
{
	memset(buf + *len, 0, n);
	*len += n;
}

static void keep_magic_garbage_rest(unsigned char *buf, size_t *len, size_t seed)
{
	unsigned char head[8];
	memcpy(head, buf, 8);
	garbage(buf, len, seed);
	memcpy(buf, head, 8);
}

Test(index, damaged_cache_file_is_rebuilt)
{
	folio_tree t;
	folio_index_stats st;
	voc_tree(&t);
	folio_index *ref = open_ix(&t, 0, &st);
	char path[600];
	size_t len = 0;
	cache_path(path, sizeof path, &t);
	free(slurp(path, &len));
	cr_assert_gt(len, 200);

	/* bytes of the body (after the header, which the next test covers) */
	for (size_t at = 160; at < len; at += 37)
		damage_and_check(&t, ref, flip, at, "byte flipped");
	damage_and_check(&t, ref, flip, len - 1, "last byte flipped");
	size_t cuts[] = { 0, 1, 7, 8, 100, 159, 160, 161, len / 2, len - 8, len - 1 };
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
		damage_and_check(&t, ref, truncate_to, cuts[i], "truncated");
	for (size_t seed = 1; seed < 4; seed++) {
		damage_and_check(&t, ref, garbage, seed, "garbage");
		damage_and_check(&t, ref, keep_magic_garbage_rest, seed, "magic + garbage");
	}
	damage_and_check(&t, ref, append, 8, "8 bytes appended");
	damage_and_check(&t, ref, append, 1, "1 byte appended");

	/* LAST pointing at garbage, or at a key with no table: no harm */
	char last[600];
	snprintf(last, sizeof last, "%s/cache/index/LAST", repo_path);
	write_file(last, "not a key\n", 10);
	folio_tree t2;
	folio_tree_init(&t2);
	add_image(&t2, "a.jpg", IMG3);
	folio_index *ix = open_ix(&t2, 0, &st);
	cr_expect_eq(st.base_used, 0);
	cr_expect_eq(ix->nsamples, 1);
	folio_index_free(ix);
	write_file(last, "0000000000000000000000000000000000000000000000000000000000000000\n", 65);
	folio_tree_clear(&t2);
	folio_tree_init(&t2);
	add_image(&t2, "b.jpg", IMG3);
	ix = open_ix(&t2, 0, &st);
	cr_expect_eq(st.base_used, 0);
	folio_index_free(ix);
	folio_tree_clear(&t2);

	folio_index_free(ref);
	folio_tree_clear(&t);
}

/*
 * Regression (core/index/index.c, save()/load(), "checksum of everything after
 * the header"): the header fields pixels, imagefolder and label_inputs are
 * not covered by the checksum nor by any other check, so a cache file with
 * a damaged header is trusted. E.g. a flipped `pixels` makes a table
 * without pixel features serve a request for them (every brightness,
 * contrast ... absent); a cleared `imagefolder` lets the next build copy
 * ImageFolder labels that no longer hold. The file comment promises "a
 * damaged cache file is rebuilt, never trusted".
 */
Test(index, damaged_cache_header_is_not_trusted)
{
	folio_tree t;
	folio_index_stats st;
	voc_tree(&t);
	folio_index *ref = open_ix(&t, 0, &st);
	char path[600], trusted[600] = "";
	size_t len = 0, used = 0;
	cache_path(path, sizeof path, &t);
	unsigned char *orig = slurp(path, &len);
	cr_assert_gt(len, 160);
	for (size_t at = 0; at < 160; at++) {
		unsigned char *buf = malloc(len);
		memcpy(buf, orig, len);
		buf[at] ^= 0xff;
		write_file(path, buf, len);
		free(buf);
		folio_index *ix = open_ix(&t, 0, &st);
		if (st.cached && used + 8 < sizeof trusted)
			used += (size_t)snprintf(trusted + used, sizeof trusted - used, " %zu", at);
		folio_index_free(ix);
	}
	cr_expect_str_eq(trusted, "", "header bytes flipped yet trusted at offsets:%s", trusted);

	/* the concrete harm: a pixel-less table served for a pixel request */
	write_file(path, orig, len);
	folio_index *h = open_ix(&t, 0, &st);
	cr_expect_eq(st.cached, 1);
	folio_index_free(h);
	unsigned char *buf = malloc(len);
	memcpy(buf, orig, len);
	buf[16] ^= 0x01;   /* fhdr.pixels: 0 -> 1 */
	write_file(path, buf, len);
	free(buf);
	h = open_ix(&t, 1, &st);
	cr_expect_eq(h->samples[0].f.has_pixels, 1,
		     "pixel features asked for, a table without them was served");
	folio_index_free(h);
	free(orig);
	folio_index_free(ref);
	folio_tree_clear(&t);
}

/* ---- incremental builds ------------------------------------------------ */

Test(index, one_image_replaced_reuses_the_rest)
{
	folio_tree t, t2;
	folio_index_stats st;
	voc_tree(&t);
	folio_index *a = open_ix(&t, 1, &st);
	cr_expect_eq(st.computed, 3);

	/* same paths, one image with other bytes; every label file unchanged */
	voc_tree(&t2);
	folio_entry *e = folio_tree_find(&t2, "JPEGImages/2011_000006.jpg");
	cr_assert_not_null(e);
	uint64_t size;
	cr_assert_eq(folio_store_put_file(&e->oid, &size, NULL, repo->store, ALT6), 0);
	e->size = size;
	folio_index *b = open_ix(&t2, 1, &st);
	cr_expect_eq(st.cached, 0);
	cr_expect_eq(st.base_used, 1);
	cr_expect_eq(st.features_reused, 2);
	cr_expect_eq(st.features_loaded, 1);
	cr_expect_eq(st.computed, 1);
	cr_expect_eq(st.labels_reused, 1);
	cr_expect_eq(b->nsamples, 3);
	cr_expect_eq(count_class(b, "JPEGImages/2011_000006.jpg", "person"), 4);
	cr_expect_eq(count_class(b, "JPEGImages/2011_000025.jpg", "bus"), 2);
	const folio_sample *s = row(b, "JPEGImages/2011_000006.jpg");
	cr_expect_eq(folio_oid_cmp(&s->oid, &e->oid), 0);
	cr_expect_eq(s->f.width, 500);
	cr_expect_eq(s->f.height, 375);
	/* rows that were not touched are those of the first table */
	for (int k = 0; k < 3; k += 2) {
		cr_expect_eq(memcmp(&a->samples[k].f, &b->samples[k].f, sizeof a->samples[k].f), 0);
		cr_expect_eq(a->samples[k].gt, b->samples[k].gt);
	}
	cr_expect_eq(memcmp(a->lpool, b->lpool, a->lpool_len), 0);

	/* and opening the first tree again is a cache hit */
	folio_index *c = open_ix(&t, 1, &st);
	cr_expect_eq(st.cached, 1);
	expect_same_table(a, c);
	folio_index_free(a);
	folio_index_free(b);
	folio_index_free(c);
	folio_tree_clear(&t);
	folio_tree_clear(&t2);
}

Test(index, changed_label_file_is_parsed_again)
{
	folio_tree t, t2;
	folio_index_stats st;
	voc_tree(&t);
	folio_index *a = open_ix(&t, 0, &st);
	cr_expect(!has_label_class(a, "boat"));

	voc_tree(&t2);
	static const char *const cls[] = { "boat", "car", NULL };
	add_voc(&t2, "Annotations/2011_000025.xml", "2011_000025.jpg", 500, 375, cls);
	folio_tree_sort(&t2);   /* the last pushed wins */
	folio_index *b = open_ix(&t2, 0, &st);
	cr_expect_eq(st.base_used, 1);
	cr_expect_eq(st.labels_reused, 0);
	cr_expect_eq(st.features_reused, 3);
	cr_expect_eq(st.computed, 0);
	cr_expect(has_label_class(b, "boat"));
	cr_expect_eq(count_class(b, "JPEGImages/2011_000025.jpg", "boat"), 1);
	cr_expect_eq(count_class(b, "JPEGImages/2011_000025.jpg", "bus"), 0);
	cr_expect_eq(count_class(b, "JPEGImages/2011_000003.jpg", "person"), 2);

	/* a label file added, images the same */
	folio_tree_clear(&t2);
	voc_tree(&t2);
	add_text(&t2, "notes.txt", "hello\n");
	folio_tree_sort(&t2);
	folio_index_free(b);
	b = open_ix(&t2, 0, &st);
	cr_expect_eq(st.labels_reused, 0);
	cr_expect_eq(count_class(b, "JPEGImages/2011_000025.jpg", "bus"), 2);
	folio_index_free(a);
	folio_index_free(b);
	folio_tree_clear(&t);
	folio_tree_clear(&t2);
}

Test(index, explicit_base_is_used)
{
	folio_tree a, b, c;
	folio_index_stats st;
	voc_tree(&a);
	folio_index_free(open_ix(&a, 1, &st));
	/* an unrelated table built in between becomes LAST */
	folio_tree_init(&c);
	add_image(&c, "other/x.jpg", CLS1);
	folio_index_free(open_ix(&c, 1, &st));
	/* b = a + one image; with a as base, a's rows are copied */
	voc_tree(&b);
	add_image(&b, "JPEGImages/2011_000099.jpg", CLS2);
	folio_tree_sort(&b);
	folio_index_opts o = { .pixels = 1, .threads = 2, .base = &a };
	folio_index *ix = open_opts(&b, &o, &st);
	cr_expect_eq(st.base_used, 1);
	cr_expect_eq(st.features_reused, 3);
	cr_expect_eq(st.computed, 1);
	cr_expect_eq(ix->nsamples, 4);
	cr_expect_eq(row(ix, "JPEGImages/2011_000099.jpg")->f.width, 640);
	cr_expect_eq(row(ix, "JPEGImages/2011_000099.jpg")->gt, FOLIO_NONE);
	folio_index_free(ix);
	folio_tree_clear(&a);
	folio_tree_clear(&b);
	folio_tree_clear(&c);
}

/* The label part keeps annotations of images the version does not hold:
 * a later version adding the image finds its label without re-parsing. */
Test(index, label_of_an_image_added_later)
{
	folio_tree t, t2;
	folio_index_stats st;
	voc_tree(&t);
	folio_entry *gone = folio_tree_find(&t, "JPEGImages/2011_000025.jpg");
	cr_assert_not_null(gone);
	folio_tree_remove_at(&t, (size_t)(gone - t.v));
	folio_index *a = open_ix(&t, 0, &st);
	cr_expect_eq(a->nsamples, 2);
	cr_expect_eq(a->nanns, 3);
	cr_expect_eq(folio_index_find(a, "JPEGImages/2011_000025.jpg"), -1);

	voc_tree(&t2);
	folio_index *b = open_ix(&t2, 0, &st);
	cr_expect_eq(st.labels_reused, 1);
	cr_expect_eq(st.features_reused, 2);
	cr_expect_eq(b->nsamples, 3);
	cr_expect_eq(count_class(b, "JPEGImages/2011_000025.jpg", "car"), 1);
	folio_index_free(a);
	folio_index_free(b);
	folio_tree_clear(&t);
	folio_tree_clear(&t2);
}

/* ---- ImageFolder ------------------------------------------------------- */

static void imagefolder_tree(folio_tree *t, int extra)
{
	folio_tree_init(t);
	add_image(t, "cats/a.jpg", IMG3);
	add_image(t, "dogs/b.jpg", IMG6);
	add_image(t, "dogs/c.jpg", IMG25);
	if (extra)
		add_image(t, "birds/d.jpg", CLS1);
	folio_tree_sort(t);
}

static const char *only_class(const folio_index *ix, const char *path)
{
	const folio_sample *s = row(ix, path);
	if (s->gt == FOLIO_NONE)
		return "(none)";
	const folio_iann *a = &ix->anns[s->gt];
	if (a->obj_count != 1)
		return "(several)";
	return folio_index_str(ix, ix->objs[a->obj_first].cls);
}

Test(index, imagefolder_labels_are_not_reused_when_images_change)
{
	folio_tree t, t2;
	folio_index_stats st;
	imagefolder_tree(&t, 0);
	folio_index *a = open_ix(&t, 0, &st);
	cr_expect_eq(a->imagefolder, 1);
	cr_expect_str_eq(only_class(a, "cats/a.jpg"), "cats");
	cr_expect_str_eq(only_class(a, "dogs/b.jpg"), "dogs");
	cr_expect_str_eq(only_class(a, "dogs/c.jpg"), "dogs");
	const folio_iann *an = &a->anns[row(a, "dogs/b.jpg")->gt];
	cr_expect_eq(an->format, FOLIO_LABELS_IMAGEFOLDER);
	cr_expect_eq(a->objs[an->obj_first].has_box, 0);

	/* one image more, no non-image file changed: the labels are re-made */
	imagefolder_tree(&t2, 1);
	folio_index *b = open_ix(&t2, 0, &st);
	cr_expect_eq(st.base_used, 1);
	cr_expect_eq(st.labels_reused, 0);
	cr_expect_eq(st.features_reused, 3);
	cr_expect_str_eq(only_class(b, "birds/d.jpg"), "birds");
	cr_expect_str_eq(only_class(b, "dogs/c.jpg"), "dogs");
	cr_expect(has_label_class(b, "birds"));

	/* and one image replaced (same paths: copying the labels would be
	 * right too, so only the result is checked) */
	folio_index_free(b);
	folio_tree_clear(&t2);
	imagefolder_tree(&t2, 0);
	folio_entry *e = folio_tree_find(&t2, "dogs/c.jpg");
	uint64_t size;
	cr_assert_eq(folio_store_put_file(&e->oid, &size, NULL, repo->store, CLS2), 0);
	e->size = size;
	b = open_ix(&t2, 0, &st);
	cr_expect_eq(b->imagefolder, 1);
	cr_expect_str_eq(only_class(b, "cats/a.jpg"), "cats");
	cr_expect_str_eq(only_class(b, "dogs/c.jpg"), "dogs");
	cr_expect_eq(row(b, "dogs/c.jpg")->f.width, 640);
	folio_index_free(a);
	folio_index_free(b);
	folio_tree_clear(&t);
	folio_tree_clear(&t2);
}

/*
 * Regression (core/index/index.c, build(): the labels_copy condition): labels are
 * copied from the base when every non-image file is unchanged and the base
 * had no ImageFolder label. But whether ImageFolder applies depends on the
 * images alone: a base with one class folder (or no image at all) has no
 * ImageFolder label, and a tree that adds a second class folder has the
 * same (empty) set of non-image files, so its labels are copied -- empty.
 * Re-parsing gives cats/a.jpg -> cats, dogs/b.jpg -> dogs.
 */
Test(index, imagefolder_appears_when_a_second_class_folder_is_added)
{
	folio_tree t, t2;
	folio_index_stats st;
	folio_tree_init(&t);
	add_image(&t, "cats/a.jpg", IMG3);
	folio_index *a = open_ix(&t, 0, &st);
	cr_expect_eq(a->imagefolder, 0, "one class folder is no ImageFolder dataset");
	cr_expect_eq(row(a, "cats/a.jpg")->gt, FOLIO_NONE);

	folio_tree_init(&t2);
	add_image(&t2, "cats/a.jpg", IMG3);
	add_image(&t2, "dogs/b.jpg", IMG6);
	folio_tree_sort(&t2);
	folio_index *b = open_ix(&t2, 0, &st);
	cr_expect_str_eq(only_class(b, "cats/a.jpg"), "cats",
			 "labels copied from a base without ImageFolder labels");
	cr_expect_str_eq(only_class(b, "dogs/b.jpg"), "dogs");
	folio_index_free(a);
	folio_index_free(b);
	folio_tree_clear(&t);
	folio_tree_clear(&t2);
}

/*
 * Regression (same place): YOLO label files are recognised only when an image
 * with the same stem exists (core/labels/labels.c, run_auto). A version
 * holding labels/b.txt before images/b.jpg has no annotation for it; the
 * next version adds only the image, the non-image files are the same, so
 * the (annotation-less) label part is copied and images/b.jpg stays
 * unlabelled although a fresh parse labels it.
 */
Test(index, yolo_label_found_when_its_image_is_added)
{
	folio_tree t, t2;
	folio_index_stats st;
	folio_tree_init(&t);
	add_text(&t, "labels/classes.txt", "cat\ndog\n");
	add_text(&t, "labels/a.txt", "0 0.5 0.5 0.2 0.4\n");
	add_text(&t, "labels/b.txt", "1 0.25 0.25 0.1 0.1\n");
	add_image(&t, "images/a.jpg", IMG6);
	folio_tree_sort(&t);
	folio_index *a = open_ix(&t, 0, &st);
	cr_expect_eq(count_class(a, "images/a.jpg", "cat"), 1);

	cr_assert_eq(folio_tree_copy(&t2, &t), 0);
	add_image(&t2, "images/b.jpg", IMG25);
	folio_tree_sort(&t2);
	folio_index *b = open_ix(&t2, 0, &st);
	cr_expect_eq(count_class(b, "images/a.jpg", "cat"), 1);
	cr_expect_eq(count_class(b, "images/b.jpg", "dog"), 1,
		     "labels/b.txt is not applied to the image added next to it "
		     "(labels_reused = %d)", st.labels_reused);
	folio_index_free(a);
	folio_index_free(b);
	folio_tree_clear(&t);
	folio_tree_clear(&t2);
}

/* ---- odd trees --------------------------------------------------------- */

Test(index, empty_tree)
{
	folio_tree t;
	folio_index_stats st;
	folio_tree_init(&t);
	folio_index *ix = open_ix(&t, 1, &st);
	cr_expect_eq(ix->nsamples, 0);
	cr_expect_eq(ix->nanns, 0);
	cr_expect_eq(ix->nclasses, 0);
	cr_expect_eq(folio_index_find(ix, "a.jpg"), -1);
	cr_expect_eq(folio_index_find(ix, ""), -1);
	folio_index_free(ix);
	ix = open_ix(&t, 1, &st);
	cr_expect_eq(st.cached, 1);
	cr_expect_eq(ix->nsamples, 0);
	folio_index_free(ix);

	/* labels only, no image: the label part is there, no rows */
	static const char *const cls[] = { "cow", NULL };
	add_voc(&t, "Annotations/x.xml", "x.jpg", 10, 10, cls);
	ix = open_ix(&t, 1, &st);
	cr_expect_eq(ix->nsamples, 0);
	cr_expect_eq(ix->nanns, 1);
	cr_expect(has_label_class(ix, "cow"));
	folio_index_free(ix);
	folio_tree_clear(&t);
}

Test(index, non_images_are_not_rows)
{
	folio_tree t;
	folio_tree_init(&t);
	add_image(&t, "a.jpg", IMG3);
	add_text(&t, "readme.md", "# hi\n");
	/* an image name stored as a plain blob is not a sample */
	add_text(&t, "fake.png", "not really");
	folio_tree_sort(&t);
	folio_index *ix = open_ix(&t, 0, NULL);
	cr_expect_eq(ix->nsamples, 1);
	cr_expect_str_eq(folio_index_path(ix, &ix->samples[0]), "a.jpg");
	folio_index_free(ix);
	folio_tree_clear(&t);
}

Test(index, missing_object_is_a_row_not_a_failure)
{
	folio_tree t;
	folio_index_stats st;
	folio_tree_init(&t);
	add_image(&t, "a.jpg", IMG3);
	add_unstored_image(&t, "b.jpg", IMG6);
	add_image(&t, "c.jpg", IMG25);
	folio_tree_sort(&t);
	cr_assert_eq(folio_store_exists(repo->store, &t.v[1].oid), 0);
	folio_index *ix = open_ix(&t, 1, &st);
	cr_assert_eq(ix->nsamples, 3);
	const folio_sample *b = row(ix, "b.jpg");
	cr_expect_eq(b->f.decodable, 0);
	cr_expect_eq(b->f.has_pixels, 0);
	cr_expect_eq(row(ix, "a.jpg")->f.decodable, 1);
	cr_expect_eq(row(ix, "c.jpg")->f.decodable, 1);
	cr_expect_eq(row(ix, "c.jpg")->f.width, 500);
	folio_index_free(ix);
	folio_tree_clear(&t);
}

/*
 * Regression (core/index/index.c, features_fill(): "unreadable: known to be so"
 * and the whole-table cache): an object missing from the store (an LFS
 * object not fetched yet) is recorded as known, not decodable, and the
 * table is saved under the tree key. Once the object is in the store, the
 * same tree still loads the cached table (and any later build copies the
 * row from it as a base, since feat_enough accepts !decodable): the image
 * stays "not decodable" until REPO/cache/index is deleted.
 */
Test(index, missing_object_fetched_later_gets_features)
{
	folio_tree t;
	folio_index_stats st;
	folio_tree_init(&t);
	add_image(&t, "a.jpg", IMG3);
	add_unstored_image(&t, "b.jpg", IMG6);
	folio_tree_sort(&t);
	folio_index *ix = open_ix(&t, 1, &st);
	cr_expect_eq(row(ix, "b.jpg")->f.decodable, 0);
	folio_index_free(ix);

	folio_oid oid;
	cr_assert_eq(folio_store_put_file(&oid, NULL, NULL, repo->store, IMG6), 0);
	cr_assert_eq(folio_oid_cmp(&oid, &t.v[1].oid), 0);
	ix = open_ix(&t, 1, &st);
	cr_expect_eq(row(ix, "b.jpg")->f.decodable, 1,
		     "object now in the store, still not decodable (cached = %d)", st.cached);
	cr_expect_eq(row(ix, "b.jpg")->f.width, 500);
	folio_index_free(ix);
	folio_tree_clear(&t);
}

Test(index, label_errors_are_recorded_not_fatal)
{
	folio_tree t;
	folio_tree_init(&t);
	add_image(&t, "JPEGImages/a.jpg", IMG3);
	add_text(&t, "Annotations/a.xml", "<annotation><filename>a.jpg</filename><object>");
	folio_tree_sort(&t);
	folio_index *ix = open_ix(&t, 0, NULL);
	cr_expect_eq(ix->nsamples, 1);
	cr_assert_geq(ix->nerrors, 1);
	cr_expect_str_eq(folio_index_str(ix, ix->errors[0].file), "Annotations/a.xml");
	cr_expect_gt(strlen(folio_index_str(ix, ix->errors[0].message)), 0);
	cr_expect_eq(row(ix, "JPEGImages/a.jpg")->gt, FOLIO_NONE);
	folio_index_free(ix);
	folio_tree_clear(&t);
}

/* ---- annotations for exports ------------------------------------------ */

static void expect_near(double got, double want, const char *what)
{
	cr_expect(fabs(got - want) < 1e-3, "%s: got %g, want %g", what, got, want);
}

Test(index, yolo_annotation_in_pixels_when_the_size_is_known)
{
	folio_tree t;
	folio_tree_init(&t);
	add_text(&t, "labels/classes.txt", "cat\ndog\n");
	add_text(&t, "labels/a.txt", "0 0.5 0.5 0.2 0.4\n1 0.1 0.1 0.2 0.2\n");
	add_image(&t, "images/a.jpg", IMG6);   /* 500x375 */
	folio_tree_sort(&t);
	folio_index *ix = open_ix(&t, 0, NULL);
	const folio_sample *s = row(ix, "images/a.jpg");
	cr_assert_neq(s->gt, FOLIO_NONE);
	const folio_iann *ia = &ix->anns[s->gt];
	cr_expect_eq(ia->relative, 1);
	cr_expect_eq(ia->format, FOLIO_LABELS_YOLO);
	/* stored as fractions, top-left */
	expect_near(ix->objs[ia->obj_first].x, 0.4, "stored x");
	expect_near(ix->objs[ia->obj_first].w, 0.2, "stored w");

	folio_annotation a;
	cr_assert_eq(folio_index_annotation(&a, ix, s->gt, s), 0, "%s", folio_error_last());
	cr_expect_str_eq(a.image, "images/a.jpg");
	cr_expect_str_eq(a.source, "labels/a.txt");
	cr_expect_eq(a.width, 500);
	cr_expect_eq(a.height, 375);
	cr_expect_eq(folio_annotation_relative(&a), 0);
	cr_assert_eq(a.nobjects, 2);
	cr_expect_str_eq(a.objects[0].cls, "cat");
	cr_expect_eq(a.objects[0].has_box, 1);
	expect_near(a.objects[0].box.x, 200, "x");
	expect_near(a.objects[0].box.y, 112.5, "y");
	expect_near(a.objects[0].box.w, 100, "w");
	expect_near(a.objects[0].box.h, 150, "h");
	cr_expect_str_eq(a.objects[1].cls, "dog");
	expect_near(a.objects[1].box.x, 0, "x1");
	expect_near(a.objects[1].box.h, 75, "h1");
	folio_index_annotation_clear(&a);
	cr_expect_null(a.objects);

	/* without the sample, the boxes stay fractions */
	cr_assert_eq(folio_index_annotation(&a, ix, s->gt, NULL), 0);
	cr_expect_eq(a.width, 0);
	cr_expect_eq(folio_annotation_relative(&a), 1);
	expect_near(a.objects[0].box.x, 0.4, "fraction x");
	folio_index_annotation_clear(&a);

	/* the table stays as it was (annotation copies, never edits) */
	expect_near(ix->objs[ia->obj_first].x, 0.4, "stored x after");
	folio_index_free(ix);
	folio_tree_clear(&t);
}

Test(index, voc_annotation_keeps_its_stated_size)
{
	folio_tree t;
	voc_tree(&t);
	folio_index *ix = open_ix(&t, 0, NULL);
	const folio_sample *s = row(ix, "JPEGImages/2011_000003.jpg");
	folio_annotation a;
	cr_assert_eq(folio_index_annotation(&a, ix, s->gt, s), 0);
	cr_expect_eq(a.width, 500);
	cr_expect_eq(a.height, 338);
	cr_expect_eq(a.format, FOLIO_LABELS_VOC);
	cr_expect_eq(a.nobjects, 2);
	/* the package's 2011_000003.xml: second person at 365,83 135x250 */
	expect_near(a.objects[1].box.x, 365, "x");
	expect_near(a.objects[1].box.y, 83, "y");
	expect_near(a.objects[1].box.w, 135, "w");
	expect_near(a.objects[1].box.h, 250, "h");
	cr_expect_null(a.split);
	folio_index_annotation_clear(&a);
	folio_index_free(ix);
	folio_tree_clear(&t);
}
