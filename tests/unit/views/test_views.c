/*
 * test_views.c — unit tests of the view registry and of the outputs
 * computed in core (core/views: output.c, stats.c, export.c, preview.c,
 * history.c, issues.c, slices.c), without FUSE.
 *
 * Each test gets a fresh repository in a temp folder with three real
 * photos from Debian's labelme-examples and their Pascal VOC files (found
 * by auto-detection), committed as a version; tests skip when the package
 * is not installed. What is checked is what a user gets: the files of each
 * output, their bytes (JSON that parses, label lines, JPEG magic), the
 * original images shared by object id, the kept file lists, and writing an
 * output out into a folder.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "../testutil.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>
#include <criterion/criterion.h>

#include "folio/error.h"
#include "folio/index.h"
#include "folio/repo.h"
#include "folio/store.h"
#include "folio/views.h"

#define VOC "/usr/share/doc/labelme-examples/examples/bbox_detection/data_dataset_voc"
static const char *const images[] = { "2011_000003", "2011_000006", "2011_000025" };

static char dir[TEST_DIR_MAX], repo_path[300], gen_path[400];
static folio_repo *repo;
static folio_store *gen;
static folio_tree tree;
static char commit[FOLIO_COMMIT_HEXSZ + 1];
static folio_index *table;

static void add_file(folio_tree *t, const char *path, const char *src, folio_entry_kind kind)
{
	folio_entry e = { 0 };
	uint64_t size = 0;
	cr_assert_eq(folio_store_put_file(&e.oid, &size, NULL, repo->store, src), 0, "%s",
		     folio_error_last());
	e.path = (char *)path;
	e.kind = kind;
	e.mode = FOLIO_MODE_FILE;
	e.size = size;
	cr_assert_eq(folio_tree_push(t, &e), 0);
}

static void setup(void)
{
	struct stat st;
	if (stat(VOC, &st) != 0)
		cr_skip_test("labelme-examples is not installed");
	test_mkdtemp(dir, "ut-views");
	snprintf(repo_path, sizeof repo_path, "%s/r", dir);
	cr_assert_eq(folio_repo_init(repo_path), 0, "%s", folio_error_last());
	cr_assert_eq(folio_repo_open(&repo, repo_path), 0, "%s", folio_error_last());
	snprintf(gen_path, sizeof gen_path, "%s/cache/objects", repo_path);
	cr_assert_eq(folio_store_open(&gen, gen_path, 1), 0, "%s", folio_error_last());
	folio_tree_init(&tree);
	for (size_t i = 0; i < 3; i++) {
		char path[128], src[512];
		snprintf(path, sizeof path, "voc/JPEGImages/%s.jpg", images[i]);
		snprintf(src, sizeof src, VOC "/JPEGImages/%s.jpg", images[i]);
		add_file(&tree, path, src, FOLIO_ENTRY_LFS);
		snprintf(path, sizeof path, "voc/Annotations/%s.xml", images[i]);
		snprintf(src, sizeof src, VOC "/Annotations/%s.xml", images[i]);
		add_file(&tree, path, src, FOLIO_ENTRY_BLOB);
	}
	folio_tree_sort(&tree);
	cr_assert_eq(folio_version_commit(commit, repo->version, &tree, "v1", NULL,
					  folio_repo_content_cb, repo), 0, "%s", folio_error_last());
}

static void teardown(void)
{
	folio_index_free(table);
	table = NULL;
	folio_tree_clear(&tree);
	folio_store_free(gen);
	gen = NULL;
	folio_repo_free(repo);
	repo = NULL;
	if (dir[0])
		test_rmtree(dir);
}

TestSuite(views, .init = setup, .fini = teardown);

static int open_table(const folio_index **out, folio_view_ctx *c)
{
	folio_index_opts o = { .pixels = 1 };
	int rc = folio_index_open(&table, NULL, c->repo, c->tree, &o);
	*out = table;
	return rc;
}

static folio_view_ctx ctx_for(const folio_tree *t, const char *version)
{
	folio_view_ctx c = { 0 };
	c.repo = repo;
	c.gen = gen;
	c.repo_path = repo_path;
	c.tree = t;
	c.version = version;
	c.index = open_table;
	return c;
}

/* The output at the end of text, for the whole pipeline's set. */
static folio_view_out output_of(folio_view_ctx *c, const char *text, const char *prefix)
{
	folio_pipeline p;
	folio_view_out o;
	cr_assert_eq(folio_pipeline_resolve(&p, c, text), 0, "%s: %s", text, folio_error_last());
	cr_assert_not_null(p.output, "%s has no output", text);
	folio_view_input in = { &p.set, p.canon, prefix };
	cr_assert_eq(folio_view_output(&o, c, p.output, &in, (const char *const *)p.args,
				       p.nargs), 0, "%s: %s", text, folio_error_last());
	folio_pipeline_clear(&p);
	return o;
}

static const folio_entry *file_named(const folio_view_out *o, const char *name)
{
	return folio_tree_find(&o->files, name);
}

/* The bytes of an output file, from whichever store holds it (malloc'd). */
static char *bytes_of(const folio_entry *e, size_t *len)
{
	void *buf = NULL;
	folio_store *st = folio_store_exists(repo->store, &e->oid) ? repo->store : gen;
	cr_assert_eq(folio_store_read_all(&buf, len, st, &e->oid, (size_t)1 << 26), 0, "%s: %s",
		     e->path, folio_error_last());
	char *s = realloc(buf, *len + 1);
	cr_assert_not_null(s);
	s[*len] = '\0';
	return s;
}

Test(views, registry_finds_every_view_and_pipelines_resolve_outputs)
{
	folio_view_ctx c = ctx_for(&tree, commit);
	folio_pipeline p;

	cr_assert_eq(folio_pipeline_resolve(&p, &c, "@where/class=person/@export/yolo"), 0, "%s",
		     folio_error_last());
	cr_expect_eq(p.output, folio_view_find("@export"));
	cr_assert_eq(p.nargs, 1);
	cr_expect_str_eq(p.args[0], "yolo");
	cr_expect_str_eq(p.canon, "@where/class=eq:person");
	cr_expect_eq(p.set.n, 2);   /* 003 and 006 have people; 025 has a bus and a car */
	folio_pipeline_clear(&p);

	/* a stage after an output, an output where a stage belongs, a bad format */
	cr_expect_eq(folio_pipeline_resolve(&p, &c, "@stats/@limit/3"), FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), "nothing can follow") != NULL, "%s",
		  folio_error_last());
	cr_expect_eq(folio_pipeline_resolve(&p, &c, "@limit/1/@history/voc"), FOLIO_EINVAL);
	cr_expect_eq(folio_pipeline_resolve(&p, &c, "@export/tiff"), FOLIO_ENOTFOUND);
	cr_expect(strstr(folio_error_last(), "no such format") != NULL, "%s", folio_error_last());
	folio_set s;
	cr_expect_eq(folio_pipeline_run(&s, NULL, &c, "@where/labeled=1/@stats"), FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), "is an output") != NULL);

	/* menus list what may be typed next */
	folio_view_menu m;
	const char *fmt[] = { "yolo" };
	cr_assert_eq(folio_view_list(&m, folio_view_find("@export"), &c, NULL, fmt, 0), 0);
	cr_expect_eq(m.n, 6);
	cr_expect_str_eq(m.v[1].name, "files.txt");
	cr_expect_eq(m.v[1].is_dir, 0);
	cr_expect_eq(m.v[5].is_dir, 1);
	folio_view_menu_clear(&m);
	const char *cls[] = { "class" };
	cr_assert_eq(folio_view_list(&m, folio_view_find("@by"), &c, NULL, cls, 1), 0, "%s",
		     folio_error_last());
	cr_assert_eq(m.n, 3, "classes: %zu", m.n);
	cr_expect_str_eq(m.v[0].name, "bus");
	cr_expect_str_eq(m.v[2].name, "person");
	folio_view_menu_clear(&m);
}

Test(views, stats_files_are_computed_and_kept)
{
	folio_view_ctx c = ctx_for(&tree, commit);
	folio_view_out o = output_of(&c, "@stats", NULL);
	size_t len;

	cr_expect_eq(o.cached, 0);
	cr_expect_eq(o.single, 0);
	static const char *const names[] = { "classes.csv", "features.csv", "index.html",
					     "samples.csv", "summary.json" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		cr_expect_not_null(file_named(&o, names[i]), "no %s", names[i]);
	char *sum = bytes_of(file_named(&o, "summary.json"), &len);
	cJSON *j = cJSON_Parse(sum);
	cr_assert_not_null(j, "summary.json does not parse");
	cr_expect_eq(cJSON_GetObjectItem(j, "samples")->valuedouble, 3);
	cr_expect_str_eq(cJSON_GetObjectItem(j, "version")->valuestring, commit);
	cJSON_Delete(j);
	free(sum);
	char *csv = bytes_of(file_named(&o, "samples.csv"), &len);
	size_t lines = 0;
	for (char *q = csv; *q; q++)
		lines += *q == '\n';
	cr_expect_eq(lines, 4, "header and three rows:\n%s", csv);
	free(csv);

	/* a second computation reads the kept list back */
	folio_view_out again = output_of(&c, "@stats", NULL);
	cr_expect_eq(again.cached, 1);
	cr_assert_eq(again.files.n, o.files.n);
	for (size_t i = 0; i < o.files.n; i++)
		cr_expect_eq(folio_oid_cmp(&again.files.v[i].oid, &o.files.v[i].oid), 0);
	folio_view_out_clear(&again);

	/* a list whose objects are gone is not trusted */
	cr_assert_eq(folio_store_remove(gen, &file_named(&o, "index.html")->oid), 0);
	again = output_of(&c, "@stats", NULL);
	cr_expect_eq(again.cached, 0);
	cr_expect(folio_store_exists(gen, &file_named(&again, "index.html")->oid));
	folio_view_out_clear(&again);
	folio_view_out_clear(&o);
}

Test(views, yolo_export_shares_images_and_writes_labels)
{
	folio_view_ctx c = ctx_for(&tree, commit);
	folio_view_out o = output_of(&c, "@export/yolo", NULL);
	size_t len;

	const folio_entry *img = file_named(&o, "images/voc/JPEGImages/2011_000025.jpg");
	const folio_entry *orig = folio_tree_find(&tree, "voc/JPEGImages/2011_000025.jpg");
	cr_assert_not_null(img);
	cr_expect_eq(folio_oid_cmp(&img->oid, &orig->oid), 0, "the image is the version's object");
	char *yaml = bytes_of(file_named(&o, "data.yaml"), &len);
	cr_expect(strstr(yaml, "nc: 3") != NULL, "%s", yaml);
	free(yaml);
	char *lab = bytes_of(file_named(&o, "labels/voc/JPEGImages/2011_000025.txt"), &len);
	size_t lines = 0;
	for (char *q = lab; *q; q++)
		lines += *q == '\n';
	cr_expect_eq(lines, 3, "two buses and a car:\n%s", lab);
	free(lab);

	/* written out, it is a folder a trainer can read */
	char out[512], path[700];
	snprintf(out, sizeof out, "%s/deep/er/yolo", dir);
	size_t n = 0;
	cr_assert_eq(folio_view_write(&n, &c, &o, out), 0, "%s", folio_error_last());
	cr_expect_eq(n, o.files.n);
	snprintf(path, sizeof path, "%s/labels/voc/JPEGImages/2011_000003.txt", out);
	struct stat st;
	cr_expect_eq(stat(path, &st), 0, "%s missing", path);
	/* a folder that is not empty is refused */
	cr_expect_eq(folio_view_write(&n, &c, &o, out), FOLIO_EEXISTS);
	folio_view_out_clear(&o);
}

Test(views, files_txt_needs_a_folder_and_lists_members_there)
{
	folio_view_ctx c = ctx_for(&tree, commit);
	folio_pipeline p;
	folio_view_out o;
	size_t len;

	cr_assert_eq(folio_pipeline_resolve(&p, &c, "@sort/-path/@export/files.txt"), 0);
	folio_view_input in = { &p.set, p.canon, NULL };
	cr_expect_eq(folio_view_output(&o, &c, p.output, &in, (const char *const *)p.args, p.nargs),
		     FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), "--prefix") != NULL, "%s", folio_error_last());
	in.prefix = "/mnt/ds/tags/v1/@sort/-path";
	cr_assert_eq(folio_view_output(&o, &c, p.output, &in, (const char *const *)p.args, p.nargs),
		     0, "%s", folio_error_last());
	cr_expect_eq(o.single, 1);
	cr_assert_eq(o.files.n, 1);
	char *text = bytes_of(&o.files.v[0], &len);
	/* ranked: the first line is the last path, under its rank name */
	cr_expect_eq(strncmp(text, "/mnt/ds/tags/v1/@sort/-path/1_", 30), 0, "%s", text);
	cr_expect(strstr(text, "2011_000025.jpg\n") != NULL, "%s", text);
	free(text);
	folio_view_out_clear(&o);
	folio_pipeline_clear(&p);
}

Test(views, previews_render_on_demand)
{
	folio_view_ctx c = ctx_for(&tree, commit);
	const folio_view *v = folio_view_find("@preview");
	folio_view_out o = output_of(&c, "@where/class=bus/@preview", NULL);
	size_t len;

	cr_assert_eq(o.files.n, 1);
	cr_assert_not_null(o.rows);
	cr_expect_str_eq(o.files.v[0].path, "voc/JPEGImages/2011_000025.jpg");
	folio_oid before = o.files.v[0].oid;
	cr_assert_eq(folio_view_render_all(&o, &c, v, NULL, 0), 0, "%s", folio_error_last());
	cr_expect_neq(folio_oid_cmp(&before, &o.files.v[0].oid), 0, "rendered, not the original");
	unsigned char *jpg = (unsigned char *)bytes_of(&o.files.v[0], &len);
	cr_expect(len > 1000 && jpg[0] == 0xff && jpg[1] == 0xd8, "a JPEG of %zu bytes", len);
	free(jpg);
	folio_view_out_clear(&o);
}

Test(views, history_lists_each_content_once_and_the_stage)
{
	folio_view_ctx c = ctx_for(&tree, commit);
	const char *f = "voc/JPEGImages/2011_000003.jpg";

	/* v2 changes the photo, v3 changes nothing about it */
	folio_tree t2;
	cr_assert_eq(folio_tree_copy(&t2, &tree), 0);
	folio_entry *e = folio_tree_find(&t2, f);
	folio_oid other;
	uint64_t size;
	cr_assert_eq(folio_store_put_file(&other, &size, NULL, repo->store,
					  VOC "/AnnotationsVisualization/2011_000006.jpg"), 0);
	e->oid = other;
	e->size = size;
	memset(e->blob, 0, sizeof e->blob);
	char c2[FOLIO_COMMIT_HEXSZ + 1], c3[FOLIO_COMMIT_HEXSZ + 1];
	cr_assert_eq(folio_version_commit(c2, repo->version, &t2, "v2", NULL, folio_repo_content_cb,
					  repo), 0, "%s", folio_error_last());
	cr_assert_eq(folio_version_commit(c3, repo->version, &t2, "v3", NULL, folio_repo_content_cb,
					  repo), 0, "%s", folio_error_last());
	c.tree = &t2;
	c.version = c3;
	folio_view_out o = output_of(&c, "@history/voc/JPEGImages/2011_000003.jpg", NULL);
	cr_assert_eq(o.files.n, 2, "v1 and v2, not v3");
	cr_expect(strstr(o.files.v[0].path, commit) == NULL);   /* 12 hex of the id */
	char want[16];
	snprintf(want, sizeof want, "%.12s", commit);
	cr_expect(strstr(o.files.v[0].path, want) != NULL, "%s", o.files.v[0].path);
	cr_expect(strstr(o.files.v[0].path, ".jpg") != NULL);
	cr_expect_eq(folio_oid_cmp(&o.files.v[1].oid, &other), 0);
	folio_view_out_clear(&o);

	/* at the stage (version ""), a staged change comes last */
	folio_tree t4;
	cr_assert_eq(folio_tree_copy(&t4, &t2), 0);
	folio_tree_find(&t4, f)->oid = folio_tree_find(&tree, f)->oid;
	c.tree = &t4;
	c.version = "";
	o = output_of(&c, "@history/voc/JPEGImages/2011_000003.jpg", NULL);
	cr_assert_eq(o.files.n, 3);
	cr_expect_str_eq(o.files.v[2].path, "staged.jpg");
	folio_view_out_clear(&o);

	/* menus mirror the folders; a missing file is not found */
	folio_view_menu m;
	const char *args[] = { "voc" };
	cr_assert_eq(folio_view_list(&m, folio_view_find("@history"), &c, NULL, args, 1), 0);
	cr_assert_eq(m.n, 2);
	cr_expect_str_eq(m.v[0].name, "Annotations");
	cr_expect_eq(m.v[0].is_dir, 1);
	folio_view_menu_clear(&m);
	const char *missing[] = { "voc", "nope.jpg" };
	cr_expect_eq(folio_view_accept(folio_view_find("@history"), &c, missing, 2),
		     FOLIO_ENOTFOUND);
	folio_tree_clear(&t4);
	folio_tree_clear(&t2);
}

Test(views, issues_is_reserved_and_lists_nothing)
{
	folio_view_ctx c = ctx_for(&tree, commit);
	const folio_view *v = folio_view_find("@issues");
	folio_view_menu m;
	folio_set s;

	cr_assert_not_null(v);
	cr_expect_eq(v->kind, FOLIO_VIEW_STAGE);
	cr_assert_eq(folio_view_list(&m, v, &c, NULL, NULL, 0), 0);
	cr_expect_eq(m.n, 0, "no findings are made up");
	folio_view_menu_clear(&m);
	cr_expect_eq(folio_pipeline_run(&s, NULL, &c, "@issues/corrupt"), FOLIO_ENOTFOUND);
	cr_expect(strstr(folio_error_last(), "not built") != NULL, "%s", folio_error_last());
}

Test(views, slices_are_read_from_the_version)
{
	folio_tree t;
	cr_assert_eq(folio_tree_copy(&t, &tree), 0);
	char *text = folio_slice_json("@where/class=bus", "buses");
	folio_entry e = { 0 };
	cr_assert_eq(folio_store_put_buf(&e.oid, repo->store, text, strlen(text)), 0);
	e.path = ".folio/slices/buses.json";
	e.kind = FOLIO_ENTRY_BLOB;
	e.mode = FOLIO_MODE_FILE;
	e.size = strlen(text);
	cr_assert_eq(folio_tree_push(&t, &e), 0);
	e.path = ".folio/slices/.hidden.json";
	cr_assert_eq(folio_tree_push(&t, &e), 0);
	folio_tree_sort(&t);
	free(text);

	char **names = NULL;
	size_t n = 0;
	cr_assert_eq(folio_slices_list(&names, &n, &t), 0);
	cr_assert_eq(n, 1, "a name starting with '.' is not a slice");
	cr_expect_str_eq(names[0], "buses");
	free(names[0]);
	free(names);

	folio_view_ctx c = ctx_for(&t, "");
	folio_set s;
	char *canon = NULL;
	cr_assert_eq(folio_pipeline_run(&s, &canon, &c, "@slices/buses"), 0, "%s",
		     folio_error_last());
	cr_expect_eq(s.n, 1);
	cr_expect_str_eq(canon, "@where/class=eq:bus");
	free(canon);
	folio_set_clear(&s);
	cr_expect_eq(folio_pipeline_run(&s, NULL, &c, "@slices/cars"), FOLIO_ENOTFOUND);
	cr_expect(strstr(folio_error_last(), "folio slice list") != NULL, "%s", folio_error_last());
	folio_tree_clear(&t);
}
