/* Unit tests for core/labels: every adapter on hand-made fixtures
 * (tests/data/labels/, good and malformed), declared sources, hostile
 * paths, error lines, the label summary, and the Debian labelme-examples
 * sets. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "folio/error.h"
#include "folio/labels.h"

/* ---- trees from folders and from memory ---- */

static const char *data_dir(void)
{
	const char *d = getenv("FOLIO_TEST_DATA");
	return d ? d : "tests/data";
}

static void walk(folio_tree *t, const char *root, const char *rel)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s%s%s", root, *rel ? "/" : "", rel);
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "cannot open %s", dir);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char r[1024], full[4096];
		cr_assert_lt(strlen(rel) + strlen(de->d_name) + 2, sizeof r);
		snprintf(r, sizeof r, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
		snprintf(full, sizeof full, "%s/%s", root, r);
		struct stat st;
		cr_assert_eq(stat(full, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			walk(t, root, r);
			continue;
		}
		folio_entry e = { 0 };
		e.path = r;
		e.kind = FOLIO_ENTRY_BLOB;
		e.mode = FOLIO_MODE_FILE;
		e.size = (uint64_t)st.st_size;
		cr_assert_eq(folio_tree_push(t, &e), 0);
	}
	closedir(d);
}

static int read_disk(void **out, size_t *len, const folio_entry *e, void *payload)
{
	char full[2048];
	snprintf(full, sizeof full, "%s/%s", (const char *)payload, e->path);
	FILE *f = fopen(full, "rb");
	if (!f)
		return folio_error_set(FOLIO_ENOTFOUND, "no %s", full);
	char *buf = malloc(e->size + 1);
	size_t n = fread(buf, 1, e->size, f);
	fclose(f);
	*out = buf;
	*len = n;
	return 0;
}

static char root[1024];

/* Loads the labels of tests/data/labels/<name>. */
static void load_dir(folio_labelset *set, folio_tree *t, const char *name)
{
	snprintf(root, sizeof root, "%s/labels/%s", data_dir(), name);
	folio_tree_init(t);
	walk(t, root, "");
	folio_tree_sort(t);
	cr_assert_eq(folio_labels_load(set, t, read_disk, root), 0, "%s", folio_error_last());
}

typedef struct memfile {
	const char *path, *text;
} memfile;

static int read_mem(void **out, size_t *len, const folio_entry *e, void *payload)
{
	for (const memfile *m = payload; m->path; m++)
		if (strcmp(m->path, e->path) == 0) {
			*len = strlen(m->text);
			*out = malloc(*len + 1);
			memcpy(*out, m->text, *len + 1);
			return 0;
		}
	return folio_error_set(FOLIO_ENOTFOUND, "no %s", e->path);
}

static void load_mem(folio_labelset *set, folio_tree *t, const memfile *files)
{
	folio_tree_init(t);
	for (const memfile *m = files; m->path; m++) {
		folio_entry e = { 0 };
		e.path = (char *)m->path;
		e.kind = FOLIO_ENTRY_BLOB;
		e.mode = FOLIO_MODE_FILE;
		e.size = strlen(m->text);
		cr_assert_eq(folio_tree_push(t, &e), 0);
	}
	folio_tree_sort(t);
	cr_assert_eq(folio_labels_load(set, t, read_mem, (void *)files), 0, "%s", folio_error_last());
}

/* The error recorded for file, or NULL. */
static const folio_label_error *error_for(const folio_labelset *s, const char *file, int nth)
{
	for (size_t i = 0; i < s->nerrors; i++)
		if (strcmp(s->errors[i].file, file) == 0 && nth-- == 0)
			return &s->errors[i];
	return NULL;
}

static size_t errors_in(const folio_labelset *s, const char *file)
{
	size_t n = 0;
	for (size_t i = 0; i < s->nerrors; i++)
		n += strcmp(s->errors[i].file, file) == 0;
	return n;
}

/* With FOLIO_TEST_VERBOSE set, prints the errors (for debugging). */
static void dump_errors(const folio_labelset *s)
{
	if (!getenv("FOLIO_TEST_VERBOSE"))
		return;
	for (size_t i = 0; i < s->nerrors; i++)
		fprintf(stderr, "  %s:%d: %s\n", s->errors[i].file, s->errors[i].line,
			s->errors[i].message);
}

static int has_class(const folio_labelset *s, const char *c)
{
	for (size_t i = 0; i < s->nclasses; i++)
		if (strcmp(s->classes[i], c) == 0)
			return 1;
	return 0;
}

static void expect_sorted(const folio_labelset *s)
{
	for (size_t i = 1; i < s->n; i++) {
		int c = strcmp(s->v[i - 1].image, s->v[i].image);
		cr_expect(c < 0 || (c == 0 && s->v[i - 1].prediction < s->v[i].prediction),
			  "not sorted at %zu: %s / %s", i, s->v[i - 1].image, s->v[i].image);
	}
}

#define EXPECT_BOX(o, X, Y, W, H)                                                            \
	do {                                                                                 \
		cr_expect((o)->has_box);                                                     \
		cr_expect(fabs((o)->box.x - (X)) < 1e-9 && fabs((o)->box.y - (Y)) < 1e-9 &&   \
			  fabs((o)->box.w - (W)) < 1e-9 && fabs((o)->box.h - (H)) < 1e-9,     \
			  "box %g,%g,%g,%g", (o)->box.x, (o)->box.y, (o)->box.w, (o)->box.h); \
	} while (0)

/* ---- native ---- */

Test(native, good_files_sidecars_and_predictions)
{
	folio_labelset s;
	folio_tree t;
	load_dir(&s, &t, "native");
	expect_sorted(&s);

	const folio_annotation *a = folio_labels_find(&s, "cat1.jpg", 0);
	cr_assert_not_null(a);
	cr_expect_eq(a->format, FOLIO_LABELS_NATIVE);
	cr_expect_str_eq(a->source, "cat1.json");
	cr_expect_eq(a->width, 640);
	cr_expect_eq(a->height, 480);
	cr_expect_str_eq(a->split, "train");
	cr_assert_eq(a->ntags, 2);
	cr_expect_str_eq(a->tags[0], "night");
	cr_assert_eq(a->nobjects, 2);
	cr_expect_str_eq(a->objects[0].cls, "cat");
	EXPECT_BOX(&a->objects[0], 10, 20, 100, 50);
	cr_expect_str_eq(a->objects[0].labeler, "ada");
	cr_expect_str_eq(a->objects[0].attributes, "{\"occluded\":true}");
	cr_expect_str_eq(a->objects[1].labeler, "bob");
	cr_expect_not(a->objects[1].has_score);

	/* x.jpg.json names x.jpg; an object without a box is image-level */
	a = folio_labels_find(&s, "dog1.jpg", 0);
	cr_assert_not_null(a);
	cr_assert_eq(a->nobjects, 1);
	cr_expect_not(a->objects[0].has_box);

	/* predictions are kept apart, under the same image */
	const folio_annotation *p = folio_labels_find(&s, "cat1.jpg", 1);
	cr_assert_not_null(p);
	cr_expect(p->prediction);
	cr_expect_str_eq(p->source, "predictions/cat1.json");
	cr_assert_eq(p->nobjects, 2);
	cr_expect(p->objects[0].has_score);
	cr_expect(fabs(p->objects[0].score - 0.91) < 1e-9);
	cr_expect_str_eq(p->objects[0].labeler, "yolov8n");
	cr_expect_eq(folio_labels_find(&s, "dog1.jpg", 1), NULL);

	/* classes: first seen first, deduplicated */
	cr_assert_geq(s.nclasses, 3);
	cr_expect_str_eq(s.classes[0], "cat");
	cr_expect(has_class(&s, "fox"));
	folio_labelset_clear(&s);
	folio_tree_clear(&t);
}

Test(native, malformed_files_give_lines_and_the_rest_indexes)
{
	folio_labelset s;
	folio_tree t;
	load_dir(&s, &t, "native");

	/* a bad box (line 6) and a bad score (line 7): those objects only */
	const folio_annotation *a = folio_labels_find(&s, "bad_box.jpg", 0);
	cr_assert_not_null(a);
	cr_expect_eq(a->nobjects, 1);
	const folio_label_error *e = error_for(&s, "bad_box.json", 0);
	cr_assert_not_null(e);
	cr_expect_eq(e->line, 6, "line %d: %s", e->line, e->message);
	cr_expect(strstr(e->message, "box") != NULL, "%s", e->message);
	e = error_for(&s, "bad_box.json", 1);
	cr_assert_not_null(e);
	cr_expect_eq(e->line, 7);
	cr_expect(strstr(e->message, "score") != NULL, "%s", e->message);

	/* truncated JSON: one error, at its last line */
	e = error_for(&s, "truncated.json", 0);
	cr_assert_not_null(e);
	cr_expect_eq(e->line, 5, "line %d", e->line);
	cr_expect(strstr(e->message, "truncated") != NULL, "%s", e->message);

	/* hostile image path: refused, named with its line */
	e = error_for(&s, "hostile.json", 0);
	cr_assert_not_null(e);
	cr_expect_eq(e->line, 3);
	cr_expect(strstr(e->message, "..") != NULL, "%s", e->message);
	for (size_t i = 0; i < s.n; i++)
		cr_expect(strstr(s.v[i].image, "passwd") == NULL);

	/* labelme JSON is not a label file: no error, no annotation */
	cr_expect_eq(errors_in(&s, "not_labels.json"), 0);
	cr_expect_eq(s.n, 4, "annotations: %zu", s.n);
	cr_expect_eq(s.nerrors, 4);
	dump_errors(&s);
	folio_labelset_clear(&s);
	folio_tree_clear(&t);
}

Test(native, inline_edge_cases)
{
	static const memfile files[] = {
		{ "img/a.jpg", "" },
		{ "labels/a.json", "{\"folio_labels\": 1, \"objects\": [{\"class\": \"x\", \"box\": [0,0,1,1]}]}" },
		{ "b.jpg", "" },
		{ "b.json", "{\"folio_labels\": 2, \"objects\": []}" },
		{ "c.json", "{\"folio_labels\": 1, \"image\": \"/abs/c.jpg\"}" },
		{ "d.json", "{\"folio_labels\": 1, \"image\": \"d.jpg\", \"tags\": [\"ok\", 3], "
			    "\"objects\": [{\"box\": [1,1,1,1]}, {\"class\": \"y\", \"attributes\": 5}]}" },
		{ "images/e.png", "" },
		{ "labels/e.json", "{\"folio_labels\": 1}" },
		{ NULL, NULL },
	};
	folio_labelset s;
	folio_tree t;
	load_mem(&s, &t, files);
	dump_errors(&s);
	/* labels/a.json has no image beside it nor in images/: error */
	cr_expect_eq(errors_in(&s, "labels/a.json"), 1);
	/* labels/e.json finds images/e.png by the labels/ -> images/ mirror */
	cr_expect_not_null(folio_labels_find(&s, "images/e.png", 0));
	/* a newer schema is refused */
	cr_expect_eq(errors_in(&s, "b.json"), 1);
	cr_expect_null(folio_labels_find(&s, "b.jpg", 0));
	/* absolute path refused */
	const folio_label_error *e = error_for(&s, "c.json", 0);
	cr_assert_not_null(e);
	cr_expect(strstr(e->message, "absolute") != NULL, "%s", e->message);
	/* d: bad tag, object without class, bad attributes: 3 errors; the
	 * image (missing from the version) still has its label and tag */
	cr_expect_eq(errors_in(&s, "d.json"), 3);
	const folio_annotation *a = folio_labels_find(&s, "d.jpg", 0);
	cr_assert_not_null(a);
	cr_expect_eq(a->ntags, 1);
	cr_expect_eq(a->nobjects, 0);
	folio_labelset_clear(&s);
	folio_tree_clear(&t);
}

/* ---- COCO ---- */

Test(coco, instances_and_results)
{
	folio_labelset s;
	folio_tree t;
	load_dir(&s, &t, "coco");
	dump_errors(&s);
	cr_expect_eq(s.nerrors, 0);
	expect_sorted(&s);

	/* categories in file order, also the unused one */
	cr_assert_eq(s.nclasses, 3);
	cr_expect_str_eq(s.classes[0], "car");
	cr_expect_str_eq(s.classes[1], "person");
	cr_expect_str_eq(s.classes[2], "truck");

	/* bare file_name found under val/ by suffix */
	const folio_annotation *a = folio_labels_find(&s, "val/000001.jpg", 0);
	cr_assert_not_null(a);
	cr_expect_eq(a->format, FOLIO_LABELS_COCO);
	cr_expect_str_eq(a->source, "annotations/instances_val.json");
	cr_expect_eq(a->width, 640);
	cr_expect_str_eq(a->split, "val");
	cr_assert_eq(a->nobjects, 2);
	cr_expect_str_eq(a->objects[0].cls, "car");
	EXPECT_BOX(&a->objects[0], 10, 10, 50, 40);
	cr_expect_null(a->objects[0].attributes);
	cr_expect_str_eq(a->objects[1].attributes, "{\"iscrowd\":1}");
	/* an image without annotations is a labeled negative */
	a = folio_labels_find(&s, "val/000003.jpg", 0);
	cr_assert_not_null(a);
	cr_expect_eq(a->nobjects, 0);

	/* results: predictions with scores, ids from the instances file */
	const folio_annotation *p = folio_labels_find(&s, "val/000001.jpg", 1);
	cr_assert_not_null(p);
	cr_expect_eq(p->format, FOLIO_LABELS_COCO_RESULTS);
	cr_assert_eq(p->nobjects, 2);
	cr_expect(p->objects[0].has_score);
	cr_expect_str_eq(p->objects[1].cls, "person");
	p = folio_labels_find(&s, "val/000002.jpg", 1);
	cr_assert_not_null(p);
	cr_expect_str_eq(p->objects[0].cls, "truck");
	cr_expect_eq(s.n, 5);
	folio_labelset_clear(&s);
	folio_tree_clear(&t);
}

Test(coco, malformed_entries_and_hostile_file_names)
{
	folio_labelset s;
	folio_tree t;
	load_dir(&s, &t, "coco_bad");
	dump_errors(&s);
	const char *f = "annotations.json";
	cr_expect_eq(errors_in(&s, f), 6);
	const folio_label_error *e = error_for(&s, f, 0);
	cr_assert_not_null(e);
	cr_expect_eq(e->line, 4);
	cr_expect(strstr(e->message, "absolute") != NULL, "%s", e->message);
	e = error_for(&s, f, 1);
	cr_expect_eq(e->line, 5);
	cr_expect(strstr(e->message, "..") != NULL, "%s", e->message);
	e = error_for(&s, f, 2); /* negative width */
	cr_expect_eq(e->line, 10);
	e = error_for(&s, f, 3); /* unknown category */
	cr_expect_eq(e->line, 11);
	e = error_for(&s, f, 4); /* unknown image */
	cr_expect_eq(e->line, 12);
	e = error_for(&s, f, 5); /* bbox not an array: its own line */
	cr_expect_eq(e->line, 14);
	/* the good parts still index */
	cr_expect_eq(s.n, 2);
	const folio_annotation *a = folio_labels_find(&s, "a.jpg", 0);
	cr_assert_not_null(a);
	cr_expect_eq(a->nobjects, 1);
	cr_expect_not_null(folio_labels_find(&s, "b.jpg", 0));
	folio_labelset_clear(&s);
	folio_tree_clear(&t);

	load_dir(&s, &t, "coco_truncated");
	cr_assert_eq(s.nerrors, 1);
	cr_expect_eq(s.errors[0].line, 5);
	cr_expect_eq(s.n, 0);
	folio_labelset_clear(&s);
	folio_tree_clear(&t);
}

Test(coco, results_without_instances)
{
	static const memfile files[] = {
		{ "r.json", "[{\"image_id\": 1, \"category_id\": 1, \"bbox\": [0,0,1,1], \"score\": 0.5}]" },
		{ NULL, NULL },
	};
	folio_labelset s;
	folio_tree t;
	load_mem(&s, &t, files);
	cr_expect_eq(s.n, 0);
	cr_assert_eq(s.nerrors, 1);
	cr_expect(strstr(s.errors[0].message, "instances") != NULL, "%s", s.errors[0].message);
	folio_labelset_clear(&s);
	folio_tree_clear(&t);
}

/* ---- YOLO ---- */

Test(yolo, relative_boxes_names_and_splits)
{
	folio_labelset s;
	folio_tree t;
	load_dir(&s, &t, "yolo");
	expect_sorted(&s);
	cr_assert_eq(s.nclasses, 3);
	cr_expect_str_eq(s.classes[0], "person");
	cr_expect_str_eq(s.classes[2], "car");

	const folio_annotation *a = folio_labels_find(&s, "images/train/a.jpg", 0);
	cr_assert_not_null(a);
	cr_expect_eq(a->format, FOLIO_LABELS_YOLO);
	cr_expect_str_eq(a->source, "labels/train/a.txt");
	cr_expect_str_eq(a->split, "train");
	cr_expect(folio_annotation_relative(a));
	cr_assert_eq(a->nobjects, 2);
	cr_expect_str_eq(a->objects[0].cls, "person");
	EXPECT_BOX(&a->objects[0], 0.4, 0.3, 0.2, 0.4);
	cr_expect_str_eq(a->objects[1].cls, "car");

	/* scaling to pixels once the image size is known */
	folio_annotation *m = (folio_annotation *)a;
	folio_annotation_set_size(m, 200, 100);
	cr_expect_not(folio_annotation_relative(m));
	EXPECT_BOX(&m->objects[0], 80, 30, 40, 40);
	folio_annotation_set_size(m, 400, 400); /* stated size stays */
	cr_expect_eq(m->width, 200);

	/* an empty file: a labeled image with no objects */
	a = folio_labels_find(&s, "images/train/b.jpg", 0);
	cr_assert_not_null(a);
	cr_expect_eq(a->nobjects, 0);
	folio_labelset_clear(&s);
	folio_tree_clear(&t);
}

Test(yolo, bad_lines_named_by_line)
{
	folio_labelset s;
	folio_tree t;
	load_dir(&s, &t, "yolo");
	dump_errors(&s);
	const char *f = "labels/val/c.txt";
	cr_assert_eq(errors_in(&s, f), 4);
	cr_expect_eq(error_for(&s, f, 0)->line, 2);
	cr_expect(strstr(error_for(&s, f, 0)->message, "out of range") != NULL);
	cr_expect_eq(error_for(&s, f, 1)->line, 3);
	cr_expect_eq(error_for(&s, f, 2)->line, 4);
	cr_expect_eq(error_for(&s, f, 3)->line, 6);
	const folio_annotation *a = folio_labels_find(&s, "images/val/c.jpg", 0);
	cr_assert_not_null(a);
	cr_expect_eq(a->nobjects, 1);
	cr_expect_str_eq(a->objects[0].cls, "bicycle");
	cr_expect_str_eq(a->split, "val");
	folio_labelset_clear(&s);
	folio_tree_clear(&t);
}

Test(yolo, darknet_names_polygons_and_scores)
{
	folio_labelset s;
	folio_tree t;
	load_dir(&s, &t, "darknet");
	dump_errors(&s);
	cr_expect_eq(s.nerrors, 0);
	cr_assert_eq(s.nclasses, 2);
	cr_expect_str_eq(s.classes[0], "red");
	/* notes.txt has no image: not a label file */
	cr_expect_eq(s.n, 1);
	const folio_annotation *a = folio_labels_find(&s, "img/x.jpg", 0);
	cr_assert_not_null(a);
	cr_assert_eq(a->nobjects, 2);
	cr_expect_str_eq(a->objects[0].cls, "green");
	EXPECT_BOX(&a->objects[0], 0.1, 0.2, 0.2, 0.2); /* polygon's bounds */
	cr_expect(a->objects[1].has_score);
	cr_expect(fabs(a->objects[1].score - 0.9) < 1e-9);
	folio_labelset_clear(&s);
	folio_tree_clear(&t);
}

Test(yolo, yaml_mapping_names_and_broken_yaml)
{
	folio_labelset s;
	folio_tree t;
	load_dir(&s, &t, "yolo_map");
	cr_expect_eq(s.nerrors, 0);
	const folio_annotation *a = folio_labels_find(&s, "images/m.jpg", 0);
	cr_assert_not_null(a);
	cr_expect_str_eq(a->objects[0].cls, "pear");
	folio_labelset_clear(&s);
	folio_tree_clear(&t);

	load_dir(&s, &t, "yolo_badyaml");
	dump_errors(&s);
	const folio_label_error *e = error_for(&s, "data.yaml", 0);
	cr_assert_not_null(e);
	cr_expect_eq(e->line, 2, "line %d", e->line);
	cr_expect_eq(s.n, 0);
	folio_labelset_clear(&s);
	folio_tree_clear(&t);
}

Test(yolo, error_flood_is_capped)
{
	static char big[200 * 8 + 1];
	for (int i = 0; i < 200; i++)
		memcpy(big + i * 8, "x y z w\n", 8);
	memfile files[] = {
		{ "classes.txt", "a\n" }, { "p.jpg", "" }, { "p.txt", big }, { NULL, NULL },
	};
	folio_labelset s;
	folio_tree t;
	load_mem(&s, &t, files);
	cr_expect_eq(errors_in(&s, "p.txt"), 51);
	cr_expect(strstr(s.errors[s.nerrors - 1].message, "150 more") != NULL, "%s",
		  s.errors[s.nerrors - 1].message);
	folio_labelset_clear(&s);
	folio_tree_clear(&t);
}

/* ---- VOC ---- */

Test(voc, boxes_attributes_and_errors)
{
	folio_labelset s;
	folio_tree t;
	load_dir(&s, &t, "voc");
	dump_errors(&s);
	expect_sorted(&s);

	const folio_annotation *a = folio_labels_find(&s, "JPEGImages/a.jpg", 0);
	cr_assert_not_null(a);
	cr_expect_eq(a->format, FOLIO_LABELS_VOC);
	cr_expect_eq(a->width, 500);
	cr_expect_eq(a->height, 375);
	cr_assert_eq(a->nobjects, 2); /* the <part> is not an object */
	cr_expect_str_eq(a->objects[0].cls, "person");
	EXPECT_BOX(&a->objects[0], 10, 20, 100, 200.5);
	cr_expect_str_eq(a->objects[0].attributes, "{\"pose\":\"Left\",\"truncated\":0,\"difficult\":1}");
	cr_expect_null(a->objects[1].attributes);

	/* truncated XML: an error with a line, no annotation */
	const folio_label_error *e = error_for(&s, "Annotations/b.xml", 0);
	cr_assert_not_null(e);
	cr_expect_gt(e->line, 4);
	cr_expect_null(folio_labels_find(&s, "JPEGImages/b.jpg", 0));

	/* hostile filename refused, with its line */
	e = error_for(&s, "Annotations/c.xml", 0);
	cr_assert_not_null(e);
	cr_expect_eq(e->line, 2);
	cr_expect(strstr(e->message, "../../etc/passwd") != NULL, "%s", e->message);

	/* bad objects skipped with their lines, the good one kept */
	cr_assert_eq(errors_in(&s, "Annotations/d.xml"), 2);
	cr_expect_eq(error_for(&s, "Annotations/d.xml", 0)->line, 3);
	cr_expect_eq(error_for(&s, "Annotations/d.xml", 1)->line, 9);
	a = folio_labels_find(&s, "JPEGImages/d.jpg", 0);
	cr_assert_not_null(a);
	cr_assert_eq(a->nobjects, 1);
	cr_expect_str_eq(a->objects[0].cls, "bird");

	/* no <filename>: the image with the same stem */
	cr_expect_not_null(folio_labels_find(&s, "JPEGImages/e.jpg", 0));
	/* other XML is not VOC and not an error */
	cr_expect_eq(errors_in(&s, "settings.xml"), 0);
	cr_expect_eq(s.n, 3);
	cr_expect_eq(s.nerrors, 4);
	folio_labelset_clear(&s);
	folio_tree_clear(&t);
}

/* ---- ImageFolder ---- */

Test(imagefolder, detected_with_splits)
{
	folio_labelset s;
	folio_tree t;
	load_dir(&s, &t, "imagefolder");
	cr_expect_eq(s.nerrors, 0);
	cr_assert_eq(s.n, 3);
	cr_assert_eq(s.nclasses, 2);
	const folio_annotation *a = folio_labels_find(&s, "train/dog/2.png", 0);
	cr_assert_not_null(a);
	cr_expect_eq(a->format, FOLIO_LABELS_IMAGEFOLDER);
	cr_expect_str_eq(a->split, "train");
	cr_assert_eq(a->nobjects, 1);
	cr_expect_str_eq(a->objects[0].cls, "dog");
	cr_expect_not(a->objects[0].has_box);
	a = folio_labels_find(&s, "test/cat/3.png", 0);
	cr_assert_not_null(a);
	cr_expect_str_eq(a->split, "test");
	folio_labelset_clear(&s);
	folio_tree_clear(&t);
}

Test(imagefolder, not_guessed_from_one_folder_or_beside_other_labels)
{
	static const memfile one[] = { { "photos/a.jpg", "" }, { "photos/b.jpg", "" }, { NULL, NULL } };
	static const memfile other[] = {
		{ "a/x.jpg", "" }, { "b/y.jpg", "" }, { "classes.txt", "k\n" }, { "a/x.txt", "0 .5 .5 .1 .1\n" },
		{ NULL, NULL },
	};
	folio_labelset s;
	folio_tree t;
	load_mem(&s, &t, one);
	cr_expect_eq(s.n, 0);
	folio_labelset_clear(&s);
	folio_tree_clear(&t);
	load_mem(&s, &t, other);
	cr_expect_eq(s.n, 1);
	cr_expect_eq(s.v[0].format, FOLIO_LABELS_YOLO);
	folio_labelset_clear(&s);
	folio_tree_clear(&t);
}

/* ---- declared sources ---- */

Test(declared, dataset_json_sources_only)
{
	folio_labelset s;
	folio_tree t;
	load_dir(&s, &t, "declared");
	dump_errors(&s);
	/* declared classes come first */
	cr_assert_geq(s.nclasses, 2);
	cr_expect_str_eq(s.classes[0], "zebra");
	cr_expect_str_eq(s.classes[1], "cat");
	/* one VOC annotation, with the source's labeler; extra/e.json is
	 * not read without "auto" */
	cr_assert_eq(s.n, 1);
	cr_expect_str_eq(s.v[0].image, "voc/JPEGImages/v.jpg");
	cr_expect_str_eq(s.v[0].objects[0].labeler, "carol");
	/* three bad sources, each named with its line */
	const char *f = ".folio/dataset.json";
	cr_assert_eq(errors_in(&s, f), 3);
	cr_expect_eq(error_for(&s, f, 0)->line, 5);
	cr_expect(strstr(error_for(&s, f, 0)->message, "..") != NULL);
	cr_expect_eq(error_for(&s, f, 1)->line, 6);
	cr_expect_eq(error_for(&s, f, 2)->line, 7);
	folio_labelset_clear(&s);
	folio_tree_clear(&t);
}

Test(declared, auto_too_and_broken_dataset_json)
{
	static const memfile autotoo[] = {
		{ ".folio/dataset.json", "{\"auto\": true, \"labels\": [{\"format\": \"native\", \"path\": \"n\", \"prediction\": true}]}" },
		{ "n/a.json", "{\"image\": \"a.jpg\", \"objects\": [{\"class\": \"k\", \"score\": 0.5}]}" },
		{ "n/a.jpg", "" },
		{ "o.json", "{\"folio_labels\": 1, \"image\": \"n/a.jpg\", \"objects\": [{\"class\": \"k\"}]}" },
		{ NULL, NULL },
	};
	static const memfile broken[] = {
		{ ".folio/dataset.json", "{\"labels\": [\n" },
		{ "a.jpg", "" },
		{ "a.json", "{\"folio_labels\": 1, \"objects\": [{\"class\": \"k\"}]}" },
		{ NULL, NULL },
	};
	folio_labelset s;
	folio_tree t;
	load_mem(&s, &t, autotoo);
	dump_errors(&s);
	cr_expect_eq(s.nerrors, 0);
	/* the declared native source has no marker and is a prediction;
	 * o.json is auto-detected ground truth for the same image */
	cr_assert_eq(s.n, 2);
	cr_expect_not_null(folio_labels_find(&s, "n/a.jpg", 0));
	cr_expect_not_null(folio_labels_find(&s, "n/a.jpg", 1));
	folio_labelset_clear(&s);
	folio_tree_clear(&t);

	load_mem(&s, &t, broken);
	cr_assert_eq(s.nerrors, 1);
	cr_expect_str_eq(s.errors[0].file, ".folio/dataset.json");
	cr_expect_eq(s.errors[0].line, 1); /* where its text stops */
	cr_expect_eq(s.n, 1); /* auto-detection still ran */
	folio_labelset_clear(&s);
	folio_tree_clear(&t);
}

Test(declared, same_image_from_two_sources_merges)
{
	static const memfile files[] = {
		{ "a.jpg", "" },
		{ "a.json", "{\"folio_labels\": 1, \"tags\": [\"t\"], \"objects\": [{\"class\": \"k\"}]}" },
		{ "Annotations/a.xml", "<annotation><filename>a.jpg</filename><size><width>10</width><height>20</height></size>"
				       "<object><name>m</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object></annotation>" },
		{ NULL, NULL },
	};
	folio_labelset s;
	folio_tree t;
	load_mem(&s, &t, files);
	cr_assert_eq(s.n, 1);
	cr_expect_eq(s.v[0].nobjects, 2);
	cr_expect_eq(s.v[0].ntags, 1);
	cr_expect_eq(s.v[0].width, 10);
	folio_labelset_clear(&s);
	folio_tree_clear(&t);
}

/* ---- summary ---- */

Test(summary, counts_per_class_format_split_and_missing_images)
{
	static const memfile files[] = {
		{ "train/a.jpg", "" },
		{ "train/a.json", "{\"folio_labels\": 1, \"objects\": [{\"class\": \"cat\", \"box\": [1, 2, 3, 4]},"
				  " {\"class\": \"dog\"}]}" },
		{ "val/b.jpg", "" },
		{ "val/b.json", "{\"folio_labels\": 1, \"objects\": [{\"class\": \"cat\"}]}" },
		{ "c.json", "{\"images\": [{\"id\": 1, \"file_name\": \"val/b.jpg\"},"
			    " {\"id\": 2, \"file_name\": \"gone.jpg\"}],"
			    " \"annotations\": [{\"image_id\": 1, \"category_id\": 7, \"bbox\": [0, 0, 1, 1]}],"
			    " \"categories\": [{\"id\": 7, \"name\": \"bird\"}]}" },
		{ "predictions/p.json", "{\"folio_labels\": 1, \"image\": \"a.jpg\", \"prediction\": true,"
					" \"objects\": [{\"class\": \"cat\", \"score\": 0.5}]}" },
		{ NULL, NULL },
	};
	folio_tree t;
	folio_labelset set;
	folio_label_summary s;

	load_mem(&set, &t, files);
	cr_assert_eq(folio_labels_summary(&s, &set, &t), 0, "%s", folio_error_last());

	/* ground truth: train/a (native), val/b (native + coco merged), gone.jpg (coco) */
	cr_expect_eq(s.images, 3, "%zu", s.images);
	cr_expect_eq(s.objects, 4, "%zu", s.objects);
	cr_expect_eq(s.missing, 1);
	cr_expect_eq(s.prediction_images, 1);
	cr_expect_eq(s.prediction_objects, 1);
	cr_expect_eq(s.formats[FOLIO_LABELS_COCO].files, 1, "one COCO file for two images");
	cr_expect_eq(s.formats[FOLIO_LABELS_COCO].images + s.formats[FOLIO_LABELS_NATIVE].images, 4);
	cr_assert_eq(s.nsplits, 2);
	cr_expect_str_eq(s.splits[0].name, "train");
	cr_expect_eq(s.splits[0].images, 1);
	cr_expect_str_eq(s.splits[1].name, "val");
	for (size_t i = 0; i < set.nclasses; i++) {
		if (!strcmp(set.classes[i], "cat")) {
			cr_expect_eq(s.class_objects[i], 2);
			cr_expect_eq(s.class_predicted[i], 1);
		}
		if (!strcmp(set.classes[i], "bird"))
			cr_expect_eq(s.class_objects[i], 1);
	}
	folio_label_summary_clear(&s);
	folio_labelset_clear(&set);

	/* an empty set */
	memset(&set, 0, sizeof set);
	cr_assert_eq(folio_labels_summary(&s, &set, &t), 0);
	cr_expect_eq(s.images + s.objects + s.nsplits + s.missing, 0);
	cr_expect_null(s.class_objects);
	folio_label_summary_clear(&s);
	folio_tree_clear(&t);
}

Test(api, format_names_round_trip)
{
	for (int f = FOLIO_LABELS_NATIVE; f <= FOLIO_LABELS_COCO_RESULTS; f++) {
		folio_label_format g;
		cr_assert_eq(folio_label_format_parse(&g, folio_label_format_name((folio_label_format)f)), 0);
		cr_expect_eq((int)g, f);
	}
	folio_label_format g;
	cr_expect_eq(folio_label_format_parse(&g, "pascal"), FOLIO_EINVAL);
}

Test(api, empty_tree)
{
	folio_labelset s;
	folio_tree t;
	folio_tree_init(&t);
	cr_assert_eq(folio_labels_load(&s, &t, read_mem, NULL), 0);
	cr_expect_eq(s.n, 0);
	cr_expect_null(folio_labels_find(&s, "x", 0));
	folio_labelset_clear(&s);
	folio_labelset_clear(&s);
}

/* ---- the Debian labelme-examples sets ---- */

#define LABELME "/usr/share/doc/labelme-examples/examples"

Test(debian, labelme_voc_and_coco)
{
	struct stat st;
	if (stat(LABELME, &st) != 0)
		cr_skip_test("labelme-examples is not installed");
	folio_labelset s;
	folio_tree t;
	snprintf(root, sizeof root, "%s/bbox_detection/data_dataset_voc", LABELME);
	folio_tree_init(&t);
	walk(&t, root, "");
	folio_tree_sort(&t);
	cr_assert_eq(folio_labels_load(&s, &t, read_disk, root), 0);
	dump_errors(&s);
	cr_expect_eq(s.nerrors, 0);
	cr_expect_eq(s.n, 3);
	size_t objs = 0;
	for (size_t i = 0; i < s.n; i++)
		objs += s.v[i].nobjects;
	cr_expect_eq(objs, 9);
	const folio_annotation *a = folio_labels_find(&s, "JPEGImages/2011_000003.jpg", 0);
	cr_assert_not_null(a);
	cr_expect_eq(a->nobjects, 2);
	cr_expect_eq(a->width, 500);
	EXPECT_BOX(&a->objects[1], 365, 83, 135, 250);
	folio_labelset_clear(&s);
	folio_tree_clear(&t);

	snprintf(root, sizeof root, "%s/instance_segmentation/data_dataset_coco", LABELME);
	folio_tree_init(&t);
	walk(&t, root, "");
	folio_tree_sort(&t);
	cr_assert_eq(folio_labels_load(&s, &t, read_disk, root), 0);
	cr_expect_eq(s.nerrors, 0);
	cr_expect_eq(s.n, 3);
	cr_expect_eq(s.nclasses, 21);
	cr_expect_str_eq(s.classes[0], "_background_");
	a = folio_labels_find(&s, "JPEGImages/2011_000003.jpg", 0);
	cr_assert_not_null(a);
	cr_expect_eq(a->nobjects, 3);
	cr_expect_str_eq(a->objects[2].cls, "bottle");
	EXPECT_BOX(&a->objects[0], 191, 107, 123, 221);
	folio_labelset_clear(&s);
	folio_tree_clear(&t);
}

/* ---- damaged files: every fixture cut short or with a byte changed ---- */

typedef struct damage {
	const char *root, *path;
	size_t cut;      /* keep this many bytes */
	int at;          /* byte to replace, or -1 */
	char with;
} damage;

static int read_damaged(void **out, size_t *len, const folio_entry *e, void *payload)
{
	const damage *d = payload;
	int rc = read_disk(out, len, e, (void *)d->root);
	if (rc == 0 && strcmp(e->path, d->path) == 0) {
		if (d->at >= 0 && (size_t)d->at < *len)
			((char *)*out)[d->at] = d->with;
		if (d->cut < *len)
			*len = d->cut;
	}
	return rc;
}

static int label_like(const char *p)
{
	static const char *const ext[] = { ".json", ".xml", ".txt", ".yaml", ".names", NULL };
	size_t l = strlen(p);
	for (int i = 0; ext[i]; i++)
		if (l >= strlen(ext[i]) && strcmp(p + l - strlen(ext[i]), ext[i]) == 0)
			return 1;
	return 0;
}

Test(damaged, truncated_and_corrupted_fixtures_never_fail_the_load, .timeout = 120)
{
	static const char *const dirs[] = { "native", "coco", "coco_bad", "yolo", "darknet",
					    "yolo_map", "voc", "declared", NULL };
	static const char with[] = { '"', '{', '}', '[', '<', '>', '\0', '\n', '\\', '/' };
	for (int d = 0; dirs[d]; d++) {
		folio_tree t;
		snprintf(root, sizeof root, "%s/labels/%s", data_dir(), dirs[d]);
		folio_tree_init(&t);
		walk(&t, root, "");
		folio_tree_sort(&t);
		for (size_t i = 0; i < t.n; i++) {
			const folio_entry *e = &t.v[i];
			if (!label_like(e->path))
				continue;
			size_t step = e->size / 40 + 1;
			for (size_t n = 0; n <= e->size; n += step)
				for (int w = -1; w < (int)sizeof with; w++) {
					damage dm = { root, e->path, w < 0 ? n : e->size,
						      w < 0 ? -1 : (int)n, w < 0 ? 0 : with[w] };
					folio_labelset s;
					cr_assert_eq(folio_labels_load(&s, &t, read_damaged, &dm), 0,
						     "%s/%s cut %zu", dirs[d], e->path, n);
					for (size_t k = 0; k < s.n; k++)
						cr_assert(strstr(s.v[k].image, "..") == NULL &&
							  s.v[k].image[0] != '/');
					folio_labelset_clear(&s);
				}
		}
		folio_tree_clear(&t);
	}
}
