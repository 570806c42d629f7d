/* Unit tests for core/views/export.c: exact outputs of every serializer
 * on hand-built annotations, and round trips: the outputs written into a
 * temporary folder as an export would lay them out, read back with
 * folio_labels_load, and compared with what went in. */
#include "../testutil.h"
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cJSON.h>

#include "folio/error.h"
#include "folio/export.h"
#include "folio/labels.h"

/* ---- annotations by hand ---- */

#define BOX(c, X, Y, W, H) { .cls = (char *)(c), .box = { (X), (Y), (W), (H) }, .has_box = 1 }
#define TAG(c) { .cls = (char *)(c) }
#define N(a) (sizeof(a) / sizeof *(a))

static folio_annotation ann(folio_object *o, size_t n, folio_label_format f, int w, int h)
{
	folio_annotation a = { 0 };
	a.objects = o;
	a.nobjects = n;
	a.format = f;
	a.width = w;
	a.height = h;
	return a;
}

static folio_export_item item(const char *path, int w, int h, const folio_annotation *gt)
{
	folio_export_item it = { 0 };
	it.path = path;
	it.sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
	it.size = 1234;
	it.width = w;
	it.height = h;
	it.gt = gt;
	return it;
}

/* ---- an export folder, read back by the label adapters ---- */

typedef struct fx {
	char root[TEST_DIR_MAX];
	folio_tree t;
} fx;

static void fx_init(fx *f)
{
	test_mkdtemp(f->root, "export");
	folio_tree_init(&f->t);
}

/* Writes root/path (making its folders) and lists it in the tree. */
static void fx_put(fx *f, const char *path, const char *data, size_t len)
{
	char full[1024];
	snprintf(full, sizeof full, "%s/%s", f->root, path);
	for (char *s = full + strlen(f->root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		cr_assert(mkdir(full, 0755) == 0 || errno == EEXIST, "mkdir %s", full);
		*s = '/';
	}
	FILE *fp = fopen(full, "wb");
	cr_assert_not_null(fp, "cannot write %s", full);
	cr_assert_eq(fwrite(data, 1, len, fp), len);
	cr_assert_eq(fclose(fp), 0);
	folio_entry e = { .path = (char *)path, .kind = FOLIO_ENTRY_BLOB, .mode = FOLIO_MODE_FILE,
			  .size = len };
	cr_assert_eq(folio_tree_push(&f->t, &e), 0);
}

static void fx_puts(fx *f, const char *path, const char *text)
{
	fx_put(f, path, text, strlen(text));
}

static int fx_read(void **out, size_t *len, const folio_entry *e, void *payload)
{
	const fx *f = payload;
	char full[1024];
	snprintf(full, sizeof full, "%s/%s", f->root, e->path);
	FILE *fp = fopen(full, "rb");
	char *buf = malloc(e->size + 1);
	if (!fp || !buf || fread(buf, 1, e->size, fp) != e->size) {
		free(buf);
		if (fp)
			fclose(fp);
		return folio_error_set(FOLIO_EIO, "cannot read %s", full);
	}
	fclose(fp);
	*out = buf;
	*len = e->size;
	return 0;
}

static void fx_load(fx *f, folio_labelset *s)
{
	folio_tree_sort(&f->t);
	cr_assert_eq(folio_labels_load(s, &f->t, fx_read, f), 0, "%s", folio_error_last());
	for (size_t i = 0; i < s->nerrors; i++)
		cr_expect_fail("label error %s:%d: %s", s->errors[i].file, s->errors[i].line,
			       s->errors[i].message);
}

static void fx_free(fx *f)
{
	folio_tree_clear(&f->t);
	test_rmtree(f->root);
}

/* "dir/name.ext" -> pre + "dir/name" + ext */
static void swap_ext(char *out, size_t n, const char *pre, const char *path, const char *ext)
{
	const char *dot = strrchr(path, '.');
	snprintf(out, n, "%s%.*s%s", pre, (int)(dot - path), path, ext);
}

/* The boxed objects of want (boxes scaled by sx, sy) equal got's, in
 * order, within tol. */
static void expect_boxes(const folio_annotation *got, const folio_annotation *want, double sx,
			 double sy, double tol)
{
	size_t k = 0;
	cr_assert_not_null(got);
	for (size_t i = 0; i < want->nobjects; i++) {
		const folio_object *w = &want->objects[i];
		if (!w->has_box)
			continue;
		cr_assert_lt(k, got->nobjects, "%s: object %zu missing", got->image, i);
		const folio_object *g = &got->objects[k++];
		cr_expect_str_eq(g->cls, w->cls);
		cr_expect(g->has_box);
		cr_expect(fabs(g->box.x - w->box.x * sx) <= tol && fabs(g->box.y - w->box.y * sy) <= tol &&
				  fabs(g->box.w - w->box.w * sx) <= tol && fabs(g->box.h - w->box.h * sy) <= tol,
			  "%s object %zu: got %.9g,%.9g,%.9g,%.9g want %.9g,%.9g,%.9g,%.9g", got->image, i,
			  g->box.x, g->box.y, g->box.w, g->box.h, w->box.x * sx, w->box.y * sy,
			  w->box.w * sx, w->box.h * sy);
	}
	cr_expect_eq(got->nobjects, k, "%s: %zu objects, want %zu", got->image, got->nobjects, k);
}

/* ---- COCO ---- */

static cJSON *parse(const char *text, size_t len)
{
	cr_assert_eq(strlen(text), len);
	cJSON *j = cJSON_Parse(text);
	cr_assert_not_null(j, "not JSON: %s", text);
	return j;
}

static const cJSON *get(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	cr_assert_not_null(v, "no \"%s\"", k);
	return v;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = get(o, k);
	cr_assert(cJSON_IsNumber(v), "\"%s\" is not a number", k);
	return v->valuedouble;
}

static void expect_bbox(const cJSON *a, double x, double y, double w, double h)
{
	const cJSON *b = get(a, "bbox");
	cr_assert_eq(cJSON_GetArraySize(b), 4);
	double want[4] = { x, y, w, h };
	for (int i = 0; i < 4; i++)
		cr_expect_eq(cJSON_GetArrayItem(b, i)->valuedouble, want[i], "bbox[%d] = %g, want %g", i,
			     cJSON_GetArrayItem(b, i)->valuedouble, want[i]);
	cr_expect_eq(num(a, "area"), w * h);
}

Test(coco, images_annotations_and_categories)
{
	folio_object oa[] = {
		BOX("cat", 10, 20, 100, 50),
		BOX("bird", 1.5, 2.5, 3, 4),
		TAG("scene"),
		BOX("dog", 0, 0, 8, 8),
	};
	oa[1].has_score = 1;
	oa[1].score = 0.75;
	oa[3].attributes = "{\"iscrowd\":1,\"occluded\":true}";
	folio_annotation ga = ann(oa, N(oa), FOLIO_LABELS_NATIVE, 0, 0);
	folio_annotation gc = ann(NULL, 0, FOLIO_LABELS_NATIVE, 320, 240);
	folio_export_item items[] = {
		item("images/a/001.jpg", 640, 480, &ga),
		item("images/b/002.jpg", 10, 10, NULL),
		item("images/c/003.png", 0, 0, &gc),
	};
	char *classes[] = { "cat", "dog", "cow" };
	char *out;
	size_t len, skipped = 99;

	cr_assert_eq(folio_export_coco(&out, &len, &skipped, items, N(items), classes, N(classes)),
		     0,
		     "%s", folio_error_last());
	cr_expect_eq(skipped, 0);
	cJSON *j = parse(out, len);
	cr_expect(cJSON_IsObject(get(j, "info")));

	/* the unlabelled image is not listed; ids count listed images */
	const cJSON *im = get(j, "images");
	cr_assert_eq(cJSON_GetArraySize(im), 2);
	cr_expect_eq(num(cJSON_GetArrayItem(im, 0), "id"), 1);
	cr_expect_str_eq(get(cJSON_GetArrayItem(im, 0), "file_name")->valuestring, "images/a/001.jpg");
	cr_expect_eq(num(cJSON_GetArrayItem(im, 0), "width"), 640);
	cr_expect_eq(num(cJSON_GetArrayItem(im, 0), "height"), 480);
	cr_expect_eq(num(cJSON_GetArrayItem(im, 1), "id"), 2);
	cr_expect_str_eq(get(cJSON_GetArrayItem(im, 1), "file_name")->valuestring, "images/c/003.png");
	/* size from the label file when the header's is unknown */
	cr_expect_eq(num(cJSON_GetArrayItem(im, 1), "width"), 320);
	cr_expect_eq(num(cJSON_GetArrayItem(im, 1), "height"), 240);

	/* categories: classes[] first, then classes objects use, in order */
	const cJSON *cats = get(j, "categories");
	const char *want[] = { "cat", "dog", "cow", "bird", "scene" };
	cr_assert_eq(cJSON_GetArraySize(cats), N(want));
	for (size_t i = 0; i < N(want); i++) {
		const cJSON *c = cJSON_GetArrayItem(cats, (int)i);
		cr_expect_eq(num(c, "id"), (double)(i + 1));
		cr_expect_str_eq(get(c, "name")->valuestring, want[i]);
		cr_expect_str_eq(get(c, "supercategory")->valuestring, "none");
	}

	/* annotations: boxed objects only */
	const cJSON *an = get(j, "annotations");
	cr_assert_eq(cJSON_GetArraySize(an), 3);
	const cJSON *a0 = cJSON_GetArrayItem(an, 0), *a1 = cJSON_GetArrayItem(an, 1),
		    *a2 = cJSON_GetArrayItem(an, 2);
	for (int i = 0; i < 3; i++) {
		cr_expect_eq(num(cJSON_GetArrayItem(an, i), "id"), i + 1);
		cr_expect_eq(num(cJSON_GetArrayItem(an, i), "image_id"), 1);
	}
	cr_expect_eq(num(a0, "category_id"), 1);
	expect_bbox(a0, 10, 20, 100, 50);
	cr_expect_eq(num(a0, "iscrowd"), 0);
	cr_expect_null(cJSON_GetObjectItemCaseSensitive(a0, "score"));
	cr_expect_null(cJSON_GetObjectItemCaseSensitive(a0, "attributes"));
	cr_expect_eq(num(a1, "category_id"), 4);
	expect_bbox(a1, 1.5, 2.5, 3, 4);
	cr_expect_eq(num(a1, "score"), 0.75);
	cr_expect_eq(num(a2, "category_id"), 2);
	cr_expect_eq(num(a2, "iscrowd"), 1);
	cr_expect_null(cJSON_GetObjectItemCaseSensitive(a2, "score"));
	const cJSON *at = get(a2, "attributes");
	cr_expect(cJSON_IsTrue(get(at, "occluded")));
	cr_expect_null(cJSON_GetObjectItemCaseSensitive(at, "iscrowd"));
	cJSON_Delete(j);
	free(out);
}

Test(coco, relative_boxes_scaled_or_skipped)
{
	folio_object o[] = { BOX("car", 0.25, 0.5, 0.5, 0.25) };
	folio_annotation g = ann(o, 1, FOLIO_LABELS_YOLO, 0, 0);
	folio_export_item items[] = { item("a.jpg", 200, 100, &g), item("b.jpg", 0, 0, &g) };
	char *out;
	size_t len, skipped;

	cr_assert(folio_annotation_relative(&g));
	cr_assert_eq(folio_export_coco(&out, &len, &skipped, items, 2, NULL, 0), 0);
	cr_expect_eq(skipped, 1);
	cJSON *j = parse(out, len);
	cr_expect_eq(cJSON_GetArraySize(get(j, "images")), 2);
	cr_expect_eq(num(cJSON_GetArrayItem(get(j, "images"), 1), "width"), 0);
	cr_assert_eq(cJSON_GetArraySize(get(j, "annotations")), 1);
	expect_bbox(cJSON_GetArrayItem(get(j, "annotations"), 0), 50, 50, 100, 25);
	cr_expect_eq(cJSON_GetArraySize(get(j, "categories")), 1);
	cJSON_Delete(j);
	free(out);
}

Test(coco, empty_inputs)
{
	char *out;
	size_t len, skipped = 7;
	char *classes[] = { "a", "b", "a" };
	folio_export_item unlabelled = item("x.jpg", 1, 1, NULL);

	cr_assert_eq(folio_export_coco(&out, &len, &skipped, NULL, 0, NULL, 0), 0);
	cr_expect_eq(skipped, 0);
	cJSON *j = parse(out, len);
	cr_expect_eq(cJSON_GetArraySize(get(j, "images")), 0);
	cr_expect_eq(cJSON_GetArraySize(get(j, "annotations")), 0);
	cr_expect_eq(cJSON_GetArraySize(get(j, "categories")), 0);
	cJSON_Delete(j);
	free(out);

	/* a repeated class keeps one category; unlabelled images are left out */
	cr_assert_eq(folio_export_coco(&out, &len, NULL, &unlabelled, 1, classes, 3), 0);
	j = parse(out, len);
	cr_expect_eq(cJSON_GetArraySize(get(j, "images")), 0);
	cr_expect_eq(cJSON_GetArraySize(get(j, "categories")), 2);
	cJSON_Delete(j);
	free(out);
}

Test(coco, bad_arguments)
{
	char *out = (char *)1;
	size_t len = 1;
	char *bad_classes[] = { "a", NULL };
	folio_object o[] = { BOX("\xff", 0, 0, 1, 1) };
	folio_annotation g = ann(o, 1, FOLIO_LABELS_NATIVE, 0, 0);
	folio_export_item it = item("a.jpg", 1, 1, &g), nopath = item(NULL, 1, 1, NULL);

	cr_expect_eq(folio_export_coco(NULL, &len, NULL, NULL, 0, NULL, 0), FOLIO_EINVAL);
	cr_expect_eq(folio_export_coco(&out, &len, NULL, NULL, 0, bad_classes, 2), FOLIO_EINVAL);
	cr_expect_null(out);
	cr_expect_eq(len, 0);
	cr_expect_eq(folio_export_coco(&out, &len, NULL, NULL, 0, NULL, 1), FOLIO_EINVAL);
	cr_expect_eq(folio_export_coco(&out, &len, NULL, NULL, 3, NULL, 0), FOLIO_EINVAL);
	cr_expect_eq(folio_export_coco(&out, &len, NULL, &it, 1, NULL, 0), FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), "not UTF-8"), "%s", folio_error_last());
	cr_expect_eq(folio_export_coco(&out, &len, NULL, &nopath, 1, NULL, 0), FOLIO_EINVAL);
	cr_expect_null(out);
}

/* ---- YOLO ---- */

static char *yolo(const folio_export_item *it, char *const *classes, size_t n, size_t *skipped)
{
	char *out;
	size_t len;
	cr_assert_eq(folio_export_yolo_label(&out, &len, skipped, it, classes, n), 0, "%s",
		     folio_error_last());
	cr_assert_eq(strlen(out), len);
	return out;
}

Test(yolo, pixels_to_fractions)
{
	folio_object o[] = { BOX("cat", 10, 20, 100, 50), BOX("dog", 320, 240, 320, 240) };
	folio_annotation g = ann(o, 2, FOLIO_LABELS_NATIVE, 0, 0);
	folio_export_item it = item("a.jpg", 640, 480, &g);
	char *classes[] = { "cat", "dog" };
	size_t skipped = 9;

	char *s = yolo(&it, classes, 2, &skipped);
	cr_expect_str_eq(s, "0 0.093750 0.093750 0.156250 0.104167\n"
			    "1 0.750000 0.750000 0.500000 0.500000\n");
	cr_expect_eq(skipped, 0);
	free(s);

	/* the size a label file states serves when the header's is unknown */
	g.width = 640;
	g.height = 480;
	it.width = it.height = 0;
	s = yolo(&it, classes, 2, NULL);
	cr_expect_str_eq(s, "0 0.093750 0.093750 0.156250 0.104167\n"
			    "1 0.750000 0.750000 0.500000 0.500000\n");
	free(s);
}

Test(yolo, relative_boxes_pass_through)
{
	folio_object o[] = { BOX("cat", 0.1, 0.2, 0.3, 0.4) };
	folio_annotation g = ann(o, 1, FOLIO_LABELS_YOLO, 0, 0);
	folio_export_item unknown = item("a.jpg", 0, 0, &g), known = item("a.jpg", 333, 777, &g);
	char *classes[] = { "cat" };
	size_t skipped;

	char *s = yolo(&unknown, classes, 1, &skipped);
	cr_expect_str_eq(s, "0 0.250000 0.400000 0.300000 0.400000\n");
	cr_expect_eq(skipped, 0);
	free(s);
	s = yolo(&known, classes, 1, &skipped);
	cr_expect_str_eq(s, "0 0.250000 0.400000 0.300000 0.400000\n");
	free(s);
}

Test(yolo, what_is_skipped_and_clipped)
{
	folio_object o[] = {
		BOX("zebra", 1, 1, 2, 2),       /* not in classes[]: counted */
		TAG("scene"),                   /* image-level: not counted */
		BOX("cat", -10, -10, 20, 20),   /* clipped to the image */
		BOX("cat", 200, 50, 10, 10),    /* wholly outside: counted */
		BOX("cat", 50, 50, 0, 0),       /* a point stays */
	};
	folio_annotation g = ann(o, N(o), FOLIO_LABELS_NATIVE, 0, 0);
	folio_export_item it = item("a.jpg", 100, 100, &g);
	char *classes[] = { "cat" };
	size_t skipped;

	char *s = yolo(&it, classes, 1, &skipped);
	cr_expect_str_eq(s, "0 0.050000 0.050000 0.100000 0.100000\n"
			    "0 0.500000 0.500000 0.000000 0.000000\n");
	cr_expect_eq(skipped, 2);
	free(s);

	/* no class list: every box skipped */
	s = yolo(&it, NULL, 0, &skipped);
	cr_expect_str_eq(s, "");
	cr_expect_eq(skipped, 4);
	free(s);

	/* pixels of an image of unknown size cannot be normalised */
	it.width = it.height = 0;
	s = yolo(&it, classes, 1, &skipped);
	cr_expect_str_eq(s, "");
	cr_expect_eq(skipped, 4);
	free(s);

	/* unlabelled: nothing */
	it.gt = NULL;
	s = yolo(&it, classes, 1, &skipped);
	cr_expect_str_eq(s, "");
	cr_expect_eq(skipped, 0);
	free(s);

	char *out;
	size_t len;
	char *holes[] = { NULL };
	cr_expect_eq(folio_export_yolo_label(&out, &len, NULL, NULL, classes, 1), FOLIO_EINVAL);
	cr_expect_eq(folio_export_yolo_label(&out, &len, NULL, &it, holes, 1), FOLIO_EINVAL);
}

Test(yolo, data_yaml_quotes_what_needs_it)
{
	char *classes[] = { "person", "a: b # c", "yes", "0", "say \"hi\"\\", "tab\there", "café",
			    "traffic light", "-x", "Null" };
	char *out;
	size_t len;

	cr_assert_eq(folio_export_yolo_yaml(&out, &len, classes, N(classes)), 0);
	cr_expect_eq(strlen(out), len);
	cr_expect_str_eq(out, "# exported by folio: images/<path>, labels/<path>.txt\n"
			      "train: images\nval: images\nnc: 10\nnames:\n"
			      "  - person\n"
			      "  - \"a: b # c\"\n"
			      "  - \"yes\"\n"
			      "  - \"0\"\n"
			      "  - \"say \\\"hi\\\"\\\\\"\n"
			      "  - \"tab\\x09here\"\n"
			      "  - \"café\"\n"
			      "  - traffic light\n"
			      "  - \"-x\"\n"
			      "  - \"Null\"\n");
	free(out);

	cr_assert_eq(folio_export_yolo_yaml(&out, &len, NULL, 0), 0);
	cr_expect(strstr(out, "nc: 0\nnames: []\n"), "%s", out);
	free(out);
	char *empty[] = { "" };
	cr_expect_eq(folio_export_yolo_yaml(&out, &len, empty, 1), FOLIO_EINVAL);
}

/* ---- VOC ---- */

Test(voc, layout_escaping_and_attributes)
{
	folio_object o[] = { BOX("a<b&\"c\"", 10, 20, 100, 50), BOX("x\x01y'>", 1.5, 2, 3, 4),
			     TAG("scene") };
	o[0].attributes = "{\"pose\":\"Left\",\"truncated\":1,\"difficult\":true,\"note\":\"n\"}";
	folio_annotation g = ann(o, N(o), FOLIO_LABELS_NATIVE, 0, 0);
	folio_export_item it = item("images/a/001.jpg", 640, 480, &g);
	char *out;
	size_t len, skipped = 5;

	cr_assert_eq(folio_export_voc(&out, &len, &skipped, &it), 0, "%s", folio_error_last());
	cr_expect_eq(skipped, 0);
	cr_expect_eq(strlen(out), len);
	cr_expect_str_eq(out,
			 "<annotation>\n"
			 "\t<folder/>\n"
			 "\t<filename>001.jpg</filename>\n"
			 "\t<path>images/a/001.jpg</path>\n"
			 "\t<size>\n\t\t<width>640</width>\n\t\t<height>480</height>\n"
			 "\t\t<depth>3</depth>\n\t</size>\n"
			 "\t<segmented>0</segmented>\n"
			 "\t<object>\n"
			 "\t\t<name>a&lt;b&amp;&quot;c&quot;</name>\n"
			 "\t\t<pose>Left</pose>\n"
			 "\t\t<truncated>1</truncated>\n"
			 "\t\t<difficult>1</difficult>\n"
			 "\t\t<bndbox>\n"
			 "\t\t\t<xmin>10</xmin>\n\t\t\t<ymin>20</ymin>\n"
			 "\t\t\t<xmax>110</xmax>\n\t\t\t<ymax>70</ymax>\n"
			 "\t\t</bndbox>\n"
			 "\t</object>\n"
			 "\t<object>\n"
			 "\t\t<name>x\xEF\xBF\xBDy&apos;&gt;</name>\n"
			 "\t\t<pose>Unspecified</pose>\n"
			 "\t\t<truncated>0</truncated>\n"
			 "\t\t<difficult>0</difficult>\n"
			 "\t\t<bndbox>\n"
			 "\t\t\t<xmin>1.5</xmin>\n\t\t\t<ymin>2</ymin>\n"
			 "\t\t\t<xmax>4.5</xmax>\n\t\t\t<ymax>6</ymax>\n"
			 "\t\t</bndbox>\n"
			 "\t</object>\n"
			 "</annotation>\n");
	free(out);
}

Test(voc, relative_unknown_size_and_unlabelled)
{
	folio_object o[] = { BOX("cat", 0.1, 0.1, 0.5, 0.5) };
	folio_annotation g = ann(o, 1, FOLIO_LABELS_YOLO, 0, 0);
	folio_export_item it = item("b.png", 0, 0, &g);
	char *out;
	size_t len, skipped;

	it.depth = 1;
	cr_assert_eq(folio_export_voc(&out, &len, &skipped, &it), 0);
	cr_expect_eq(skipped, 1);
	cr_expect(strstr(out, "<width>0</width>") && strstr(out, "<depth>1</depth>"), "%s", out);
	cr_expect_null(strstr(out, "<object>"));
	free(out);

	it.width = 200;
	it.height = 100;
	cr_assert_eq(folio_export_voc(&out, &len, &skipped, &it), 0);
	cr_expect_eq(skipped, 0);
	cr_expect(strstr(out, "<xmin>20</xmin>") && strstr(out, "<ymax>60</ymax>"), "%s", out);
	free(out);

	it.gt = NULL;
	cr_assert_eq(folio_export_voc(&out, &len, NULL, &it), 0);
	cr_expect_null(strstr(out, "<object>"));
	free(out);
	cr_expect_eq(folio_export_voc(&out, &len, NULL, NULL), FOLIO_EINVAL);
}

/* ---- manifest.csv and files.txt ---- */

Test(manifest, rows_quoting_and_classes)
{
	folio_object o[] = { TAG("dog"), BOX("cat", 0, 0, 1, 1), BOX("dog", 0, 0, 1, 1),
			     TAG("a,b") };
	folio_annotation g = ann(o, N(o), FOLIO_LABELS_NATIVE, 0, 0);
	folio_export_item items[] = { item("img/one.jpg", 640, 480, &g),
				      item("we,ird \"name\".png", 0, 0, NULL) };
	char *out;
	size_t len;

	items[1].sha256 = NULL;
	items[1].size = 0;
	cr_assert_eq(folio_export_manifest(&out, &len, items, 2), 0);
	cr_expect_eq(strlen(out), len);
	cr_expect_str_eq(out, "path,sha256,size,width,height,classes\n"
			      "img/one.jpg,e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855,"
			      "1234,640,480,\"a,b;cat;dog\"\n"
			      "\"we,ird \"\"name\"\".png\",,0,,,\n");
	free(out);

	cr_assert_eq(folio_export_manifest(&out, &len, NULL, 0), 0);
	cr_expect_str_eq(out, "path,sha256,size,width,height,classes\n");
	free(out);
}

Test(files, prefix_and_line_breaks)
{
	folio_export_item items[] = { item("images/a.jpg", 0, 0, NULL), item("bad\nname.jpg", 0, 0, NULL),
				      item("b c.png", 0, 0, NULL) };
	char *out;
	size_t len, skipped;

	cr_assert_eq(folio_export_files(&out, &len, &skipped, "/mnt/ds//", items, 3), 0);
	cr_expect_str_eq(out, "/mnt/ds/images/a.jpg\n/mnt/ds/b c.png\n");
	cr_expect_eq(len, strlen(out));
	cr_expect_eq(skipped, 1);
	free(out);
	cr_assert_eq(folio_export_files(&out, &len, NULL, "/", items, 1), 0);
	cr_expect_str_eq(out, "/images/a.jpg\n");
	free(out);
	cr_assert_eq(folio_export_files(&out, &len, &skipped, "/x", NULL, 0), 0);
	cr_expect_str_eq(out, "");
	cr_expect_eq(len, 0);
	free(out);
	cr_expect_eq(folio_export_files(&out, &len, NULL, "relative", items, 1), FOLIO_EINVAL);
	cr_expect_eq(folio_export_files(&out, &len, NULL, "/a\nb", items, 1), FOLIO_EINVAL);
	cr_expect_null(out);
}

/* ---- round trips through the project's own adapters ---- */

/* A labelled image without objects reads back as one (a negative); an
 * unlabelled image reads back without an annotation. Then frees both. */
static void expect_negative_and_done(fx *f, folio_labelset *s, const char *neg, const char *unl)
{
	const folio_annotation *a = folio_labels_find(s, neg, 0);
	cr_assert_not_null(a, "%s: no annotation", neg);
	cr_expect_eq(a->nobjects, 0);
	cr_expect_null(folio_labels_find(s, unl, 0), "%s: annotated", unl);
	folio_labelset_clear(s);
	fx_free(f);
}

Test(roundtrip, coco)
{
	folio_object oa[] = { BOX("cat", 10, 20, 100, 50), BOX("dog", 0.5, 1.25, 33.3, 7.1),
			      TAG("indoor"), BOX("new \"class\"", 1e-3, 2.0 / 3, 1.0 / 7, 1e6) };
	folio_object ob[] = { BOX("dog", 5, 5, 0, 0) };
	folio_object oy[] = { BOX("cat", 0.125, 0.25, 0.5, 0.5) };
	folio_annotation ga = ann(oa, N(oa), FOLIO_LABELS_NATIVE, 0, 0);
	folio_annotation gb = ann(ob, 1, FOLIO_LABELS_VOC, 640, 480);
	folio_annotation gn = ann(NULL, 0, FOLIO_LABELS_NATIVE, 0, 0);
	folio_annotation gy = ann(oy, 1, FOLIO_LABELS_YOLO, 0, 0);
	folio_export_item items[] = {
		item("train/a.jpg", 640, 480, &ga), item("train/b.jpg", 0, 0, &gb),
		item("val/neg.jpg", 10, 10, &gn),   item("val/unlabelled.jpg", 10, 10, NULL),
		item("val/y.png", 64, 32, &gy),
	};
	char *classes[] = { "dog", "cat", "unused" };
	char *out;
	size_t len, skipped;
	fx f;
	folio_labelset s;

	cr_assert_eq(folio_export_coco(&out, &len, &skipped, items, N(items), classes, 3), 0);
	cr_expect_eq(skipped, 0);
	fx_init(&f);
	fx_put(&f, "annotations/instances.json", out, len);
	free(out);
	for (size_t i = 0; i < N(items); i++)
		fx_puts(&f, items[i].path, "not really an image");
	fx_load(&f, &s);

	/* classes: categories in order (the declared ones first) */
	const char *want[] = { "dog", "cat", "unused", "indoor", "new \"class\"" };
	cr_assert_eq(s.nclasses, N(want));
	for (size_t i = 0; i < N(want); i++)
		cr_expect_str_eq(s.classes[i], want[i]);
	/* boxes exactly */
	expect_boxes(folio_labels_find(&s, "train/a.jpg", 0), &ga, 1, 1, 0);
	expect_boxes(folio_labels_find(&s, "train/b.jpg", 0), &gb, 1, 1, 0);
	expect_boxes(folio_labels_find(&s, "val/y.png", 0), &gy, 64, 32, 0);
	cr_expect_eq(folio_labels_find(&s, "train/a.jpg", 0)->width, 640);
	cr_expect_eq(folio_labels_find(&s, "train/b.jpg", 0)->width, 640);
	expect_negative_and_done(&f, &s, "val/neg.jpg", "val/unlabelled.jpg");
}

Test(roundtrip, yolo)
{
	folio_object oa[] = { BOX("person", 10, 20, 100, 50), BOX("a: b # c", 0, 0, 640, 480),
			      BOX("person", 123.456, 78.9, 11.11, 22.22), TAG("day") };
	folio_object ob[] = { BOX("yes", 0.1, 0.2, 0.3, 0.4), BOX("person", 0, 0, 1, 1) };
	folio_object oc[] = { BOX("café", 1.0 / 3, 2.0 / 3, 1.0 / 9, 1.0 / 6) };
	folio_annotation ga = ann(oa, N(oa), FOLIO_LABELS_NATIVE, 0, 0);
	folio_annotation gb = ann(ob, N(ob), FOLIO_LABELS_YOLO, 0, 0);
	folio_annotation gc = ann(oc, 1, FOLIO_LABELS_YOLO, 0, 0);
	folio_annotation gn = ann(NULL, 0, FOLIO_LABELS_NATIVE, 0, 0);
	folio_export_item items[] = {
		item("train/a/001.jpg", 640, 480, &ga),
		item("train/b/002.png", 0, 0, &gb),    /* fractions of an unknown size */
		item("val/003.jpg", 1000, 750, &gc),   /* fractions of a known size */
		item("val/004.jpg", 20, 20, &gn),      /* labelled, no objects */
		item("val/005.jpg", 20, 20, NULL),     /* unlabelled: no label file */
	};
	char *classes[] = { "person", "a: b # c", "yes", "café" };
	char *out, path[256];
	size_t len, skipped;
	fx f;
	folio_labelset s;

	fx_init(&f);
	cr_assert_eq(folio_export_yolo_yaml(&out, &len, classes, N(classes)), 0);
	fx_put(&f, "data.yaml", out, len);
	free(out);
	for (size_t i = 0; i < N(items); i++) {
		snprintf(path, sizeof path, "images/%s", items[i].path);
		fx_puts(&f, path, "not really an image");
		if (!items[i].gt)
			continue;
		cr_assert_eq(folio_export_yolo_label(&out, &len, &skipped, &items[i], classes, N(classes)),
			     0);
		cr_expect_eq(skipped, 0);
		swap_ext(path, sizeof path, "labels/", items[i].path, ".txt");
		fx_put(&f, path, out, len);
		free(out);
	}
	fx_load(&f, &s);

	cr_assert_eq(s.nclasses, N(classes));
	for (size_t i = 0; i < N(classes); i++)
		cr_expect_str_eq(s.classes[i], classes[i]);
	folio_annotation *a = (folio_annotation *)folio_labels_find(&s, "images/train/a/001.jpg", 0);
	cr_assert_not_null(a);
	cr_expect(folio_annotation_relative(a));
	folio_annotation_set_size(a, 640, 480);
	expect_boxes(a, &ga, 1, 1, 1e-3);
	/* unknown size: compared as fractions, to the 6 decimals written */
	a = (folio_annotation *)folio_labels_find(&s, "images/train/b/002.png", 0);
	expect_boxes(a, &gb, 1, 1, 1e-6);
	a = (folio_annotation *)folio_labels_find(&s, "images/val/003.jpg", 0);
	cr_assert_not_null(a);
	folio_annotation_set_size(a, 1000, 750);
	expect_boxes(a, &gc, 1000, 750, 1e-3);
	expect_negative_and_done(&f, &s, "images/val/004.jpg", "images/val/005.jpg");
}

Test(roundtrip, voc)
{
	/* two images with the same base name: <filename> is only the base
	 * name, so the Annotations/ tree must mirror JPEGImages/ */
	folio_object oa[] = { BOX("a<b&\"c\"", 10, 20, 100, 50), BOX("dog", 0.5, 0.25, 99.5, 0),
			      TAG("scene") };
	folio_object ob[] = { BOX("dog", 48, 240, 12.125, 7) };
	oa[0].attributes = "{\"pose\":\"Left\",\"truncated\":1,\"difficult\":0,\"occluded\":1}";
	folio_annotation ga = ann(oa, N(oa), FOLIO_LABELS_NATIVE, 0, 0);
	folio_annotation gb = ann(ob, 1, FOLIO_LABELS_COCO, 0, 0);
	folio_export_item items[] = { item("images/a/001.jpg", 640, 480, &ga),
				      item("images/b/001.jpg", 320, 240, &gb) };
	char *out, path[256];
	size_t len;
	fx f;
	folio_labelset s;

	fx_init(&f);
	for (size_t i = 0; i < N(items); i++) {
		snprintf(path, sizeof path, "JPEGImages/%s", items[i].path);
		fx_puts(&f, path, "not really an image");
		cr_assert_eq(folio_export_voc(&out, &len, NULL, &items[i]), 0);
		swap_ext(path, sizeof path, "Annotations/", items[i].path, ".xml");
		fx_put(&f, path, out, len);
		free(out);
	}
	fx_load(&f, &s);

	const folio_annotation *a = folio_labels_find(&s, "JPEGImages/images/a/001.jpg", 0);
	expect_boxes(a, &ga, 1, 1, 0);
	cr_expect_eq(a->width, 640);
	cr_expect_eq(a->height, 480);
	cr_expect_str_eq(a->objects[0].attributes,
			 "{\"pose\":\"Left\",\"truncated\":1,\"difficult\":0,\"occluded\":1}");
	cr_expect_str_eq(a->objects[1].attributes, "{\"truncated\":0,\"difficult\":0}");
	a = folio_labels_find(&s, "JPEGImages/images/b/001.jpg", 0);
	expect_boxes(a, &gb, 1, 1, 0);
	cr_expect_eq(a->width, 320);
	folio_labelset_clear(&s);
	fx_free(&f);
}
