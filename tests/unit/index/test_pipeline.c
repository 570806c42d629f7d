/*
 * test_pipeline.c — unit tests of sets and pipeline stages (core/views,
 * pipeline.c and sample.c) on a synthetic sample table.
 *
 * The table is built in memory (no repository): 1000 rows in three
 * folders with deterministic features and labels, chosen so that every
 * branch of a stage has members: rows without features or without pixel
 * features (no brightness), unlabelled rows, labelled rows without
 * objects, rows with two classes and a repeated class, predictions with
 * scores, splits and tags. Every stage's result is compared with a
 * brute-force answer computed here from the arrays, not through core/views.
 *
 * Slices come from a callback over an in-memory table of slice files. The
 * last tests run ~2000 mutated pipeline texts: any of them may fail, none
 * may crash or fail without a message.
 *
 * Tests marked "Regression" were written against bugs found in review (the
 * comment says what was wrong); they failed before the fix that came with them.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "folio/error.h"
#include "folio/expr.h"
#include "folio/index.h"
#include "folio/views.h"

#define N 1000
#define NCLS 4
static const char *const names[NCLS] = { "bus", "car", "dog", "person" };

/* ---- a synthetic table ------------------------------------------------- */

typedef struct buf {
	char *p;
	size_t len, cap;
} buf;

static uint32_t put(buf *b, const char *s)
{
	size_t n = strlen(s) + 1;
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		cr_assert_not_null(b->p);
	}
	memcpy(b->p + b->len, s, n);
	uint32_t off = (uint32_t)b->len;
	b->len += n;
	return off;
}

/* Row i's ground truth: classes (with repeats), or none. */
static int labelled(size_t i) { return i % 10 != 0; }
static int has_objects(size_t i) { return labelled(i) && i % 10 != 5; }
static int has_features(size_t i) { return i % 50 != 7; }
static int has_pixels(size_t i) { return has_features(i) && i % 50 != 13; }
static int has_pred(size_t i) { return i % 5 == 0; }
static float brightness_of(size_t i) { return (float)((i * 7919) % 1000) / 1000.0f; }

typedef struct builder {
	folio_index *ix;
	buf sp, lp;
	size_t cap_anns, cap_objs, cap_tags;
} builder;

/* v with room for one more element (n used of *cap). */
static void *grow(void *v, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return v;
	*cap = *cap * 2 + 16;
	v = realloc(v, *cap * size);
	cr_assert_not_null(v);
	return v;
}

static void add_obj(builder *b, const char *cls, float score, int has_score)
{
	folio_index *ix = b->ix;
	ix->objs = grow(ix->objs, ix->nobjs, &b->cap_objs, sizeof *ix->objs);
	folio_iobject *o = &ix->objs[ix->nobjs++];
	memset(o, 0, sizeof *o);
	o->cls = put(&b->lp, cls);
	o->labeler = FOLIO_NONE;
	o->x = 1;
	o->y = 2;
	o->w = 10;
	o->h = 20;
	o->has_box = 1;
	o->score = score;
	o->has_score = (uint8_t)has_score;
}

static folio_iann *add_ann(builder *b, const char *image, int prediction, const char *split)
{
	folio_index *ix = b->ix;
	ix->anns = grow(ix->anns, ix->nanns, &b->cap_anns, sizeof *ix->anns);
	folio_iann *a = &ix->anns[ix->nanns++];
	memset(a, 0, sizeof *a);
	a->image = put(&b->lp, image);
	a->source = put(&b->lp, "labels.json");
	a->split = split ? put(&b->lp, split) : FOLIO_NONE;
	a->prediction = (uint8_t)prediction;
	a->format = FOLIO_LABELS_NATIVE;
	a->obj_first = (uint32_t)ix->nobjs;
	a->tag_first = (uint32_t)ix->ntags;
	return a;
}

static void add_tag(builder *b, folio_iann *a, const char *tag)
{
	folio_index *ix = b->ix;
	ix->tags = grow(ix->tags, ix->ntags, &b->cap_tags, sizeof *ix->tags);
	ix->tags[ix->ntags++] = put(&b->lp, tag);
	a->tag_count++;
}

/* Rows 0..n-1 as described above; extra_classes, if not NULL, replaces
 * the ground truth classes of the first rows (one class per row). */
static folio_index *synth(size_t n, const char *const *extra_classes)
{
	builder b = { 0 };
	folio_index *ix = calloc(1, sizeof *ix);
	cr_assert_not_null(ix);
	b.ix = ix;
	ix->samples = calloc(n ? n : 1, sizeof *ix->samples);
	cr_assert_not_null(ix->samples);
	ix->pixels = 1;
	for (size_t i = 0; i < n; i++) {
		char path[64];
		snprintf(path, sizeof path, "cam%zu/%05zu.jpg", i / 400, i);
		folio_sample *s = &ix->samples[ix->nsamples++];
		s->path = put(&b.sp, path);
		s->size = 1000 + i;
		s->mode = 0100644;
		s->oid.id[0] = (unsigned char)i;
		s->oid.id[1] = (unsigned char)(i >> 8);
		s->gt = s->pred = FOLIO_NONE;
		if (has_features(i)) {
			folio_ifeat *f = &s->f;
			f->known = 1;
			f->decodable = 1;
			snprintf(f->format, sizeof f->format, "%s", i % 3 ? "jpeg" : "png");
			f->width = i % 2 ? 640 : 320;
			f->height = i % 2 ? 480 : 240;
			f->bands = 3;
			f->orientation = 1;
			if (has_pixels(i)) {
				f->has_pixels = 1;
				f->brightness_mean = brightness_of(i);
				f->contrast_rms = (float)(i % 17) / 17.0f;
				f->grayscale = i % 9 == 0;
			}
		}
		if (extra_classes && extra_classes[i]) {
			folio_iann *a = add_ann(&b, path, 0, "train");
			add_obj(&b, extra_classes[i], 0, 0);
			a->obj_count = 1;
			s->gt = (uint32_t)(a - ix->anns);
		} else if (labelled(i)) {
			folio_iann *a = add_ann(&b, path, 0, i % 3 ? "train" : "val");
			if (has_objects(i)) {
				add_obj(&b, names[i % NCLS], 0, 0);
				if (i % 7 == 0) {
					add_obj(&b, names[(i + 1) % NCLS], 0, 0);
					add_obj(&b, names[i % NCLS], 0, 0);
				}
			}
			a->obj_count = (uint32_t)(ix->nobjs - a->obj_first);
			if (i % 11 == 0)
				add_tag(&b, a, "night");
			s->gt = (uint32_t)(a - ix->anns);
		}
		if (has_pred(i)) {
			folio_iann *a = add_ann(&b, path, 1, NULL);
			add_obj(&b, names[(i + 2) % NCLS], (float)(i % 100) / 100.0f, 1);
			a->obj_count = 1;
			s->pred = (uint32_t)(a - ix->anns);
		}
	}
	ix->classes = calloc(NCLS, sizeof *ix->classes);
	cr_assert_not_null(ix->classes);
	for (size_t k = 0; k < NCLS; k++)
		ix->classes[ix->nclasses++] = put(&b.lp, names[k]);
	if (!b.sp.p)
		put(&b.sp, "");
	ix->spool = b.sp.p;
	ix->spool_len = b.sp.len;
	ix->lpool = b.lp.p;
	ix->lpool_len = b.lp.len;
	return ix;
}

/* ---- brute force ------------------------------------------------------- */

static const folio_iann *gt(const folio_index *ix, size_t r)
{
	uint32_t g = ix->samples[r].gt;
	return g == FOLIO_NONE ? NULL : &ix->anns[g];
}

static size_t class_count(const folio_index *ix, size_t r, const char *cls)
{
	const folio_iann *a = gt(ix, r);
	size_t n = 0;
	for (uint32_t k = 0; a && k < a->obj_count; k++)
		n += !strcmp(ix->lpool + ix->objs[a->obj_first + k].cls, cls);
	return n;
}

static int bright(const folio_index *ix, size_t r, double *v)
{
	const folio_ifeat *f = &ix->samples[r].f;
	if (!f->known || !f->has_pixels)
		return 0;
	*v = f->brightness_mean;
	return 1;
}

static const char *path_of(const folio_index *ix, size_t r)
{
	return folio_index_path(ix, &ix->samples[r]);
}

/* The smallest class name of a row, or NULL. */
static const char *min_class(const folio_index *ix, size_t r)
{
	const folio_iann *a = gt(ix, r);
	const char *best = NULL;
	for (uint32_t k = 0; a && k < a->obj_count; k++) {
		const char *c = ix->lpool + ix->objs[a->obj_first + k].cls;
		if (!best || strcmp(c, best) < 0)
			best = c;
	}
	return best;
}

typedef int (*pred_fn)(const folio_index *ix, size_t r);

static void expect_set_is(const folio_set *s, const folio_index *ix, pred_fn want,
			  const char *what)
{
	size_t k = 0;
	for (size_t r = 0; r < ix->nsamples; r++) {
		if (!want(ix, r))
			continue;
		cr_assert_lt(k, s->n, "%s: too few members (row %zu missing)", what, r);
		cr_assert_eq(s->v[k], r, "%s: member %zu is row %u, want %zu", what, k, s->v[k], r);
		k++;
	}
	cr_assert_eq(k, s->n, "%s: %zu members, want %zu", what, s->n, k);
}

static int w_dark(const folio_index *ix, size_t r)
{
	double v;
	return bright(ix, r, &v) && v < 0.2;
}
static int w_car(const folio_index *ix, size_t r) { return class_count(ix, r, "car") > 0; }
static int w_not_car(const folio_index *ix, size_t r) { return !w_car(ix, r); }
static int w_car_bright(const folio_index *ix, size_t r)
{
	double v;
	return w_car(ix, r) && bright(ix, r, &v) && v >= 0.5;
}
static int w_unlabelled(const folio_index *ix, size_t r) { return gt(ix, r) == NULL; }
static int w_two_cars(const folio_index *ix, size_t r) { return class_count(ix, r, "car") >= 2; }
static int w_val_or_wide(const folio_index *ix, size_t r)
{
	const folio_iann *a = gt(ix, r);
	int val = a && a->split != FOLIO_NONE && !strcmp(ix->lpool + a->split, "val");
	return val || (ix->samples[r].f.known && ix->samples[r].f.width == 640);
}
static int w_pred_dog(const folio_index *ix, size_t r)
{
	uint32_t p = ix->samples[r].pred;
	if (p == FOLIO_NONE)
		return 0;
	const folio_iann *a = &ix->anns[p];
	for (uint32_t k = 0; k < a->obj_count; k++)
		if (!strcmp(ix->lpool + ix->objs[a->obj_first + k].cls, "dog"))
			return 1;
	return 0;
}
static int w_cam1(const folio_index *ix, size_t r) { return !strncmp(path_of(ix, r), "cam1/", 5); }
static int w_night(const folio_index *ix, size_t r)
{
	const folio_iann *a = gt(ix, r);
	return a && a->tag_count && !strcmp(ix->lpool + ix->tags[a->tag_first], "night");
}
static int w_no_class(const folio_index *ix, size_t r) { return min_class(ix, r) == NULL; }
static int w_wide(const folio_index *ix, size_t r)
{
	return ix->samples[r].f.known && ix->samples[r].f.width == 640;
}
static int w_score_high(const folio_index *ix, size_t r)
{
	uint32_t p = ix->samples[r].pred;
	return p != FOLIO_NONE && ix->objs[ix->anns[p].obj_first].score > 0.5f;
}
static int w_all(const folio_index *ix, size_t r) { (void)ix; (void)r; return 1; }

/* ---- fixture and helpers ----------------------------------------------- */

static folio_index *ix;

static void setup(void)
{
	ix = synth(N, NULL);
}

static void teardown(void)
{
	folio_index_free(ix);
	ix = NULL;
}

TestSuite(pipeline, .init = setup, .fini = teardown);

/* Slice files by name: a NULL text is a missing slice. */
typedef struct slicefile {
	const char *name, *text;
} slicefile;

static const slicefile slice_files[] = {
	{ "cars", "{\"pipeline\": \"@where/class=car\"}" },
	{ "dark-cars", "{\"pipeline\": \"@slices/cars/@where/brightness<0.3\", \"description\": \"x\"}" },
	{ "first10", "{\"pipeline\": \"@limit/10\"}" },
	{ "darkest", "{\"pipeline\": \"@sort/brightness/@limit/5\"}" },
	{ "sampled", "{\"pipeline\": \"@sample/20:3\"}" },
	{ "loop", "{\"pipeline\": \"@slices/loop\"}" },
	{ "ping", "{\"pipeline\": \"@where/labeled=1/@slices/pong\"}" },
	{ "pong", "{\"pipeline\": \"@slices/ping\"}" },
	{ "bad", "{\"pipeline\": \"@where/class=car\"" },
	{ "notobj", "[\"@where/class=car\"]" },
	{ "nostring", "{\"pipeline\": 42}" },
	{ "badstage", "{\"pipeline\": \"@nope/1\"}" },
	{ "empty", "{\"pipeline\": \"\"}" },
	{ "everything", "{\"pipeline\": \"/\"}" },
	{ NULL, NULL },
};

static char *long_slice;   /* set by the test that needs it */

/* The context's file reader: .folio/slices/<name>.json from the table. */
static int slice_read(void **out, size_t *len, const char *path, size_t max, folio_view_ctx *c)
{
	const slicefile *files = c->payload;
	char name[256];
	size_t pl = strlen(FOLIO_SLICE_DIR), n = strlen(path);

	(void)max;
	if (!files || strncmp(path, FOLIO_SLICE_DIR, pl) || n < pl + 5 ||
	    strcmp(path + n - 5, ".json") || n - pl - 5 >= sizeof name)
		return folio_error_set(FOLIO_ENOTFOUND, "%s: no such file", path);
	snprintf(name, sizeof name, "%.*s", (int)(n - pl - 5), path + pl);
	if (!strcmp(name, "long") && long_slice) {
		*out = strdup(long_slice);
		*len = strlen(long_slice);
		return 0;
	}
	for (const slicefile *f = files; f->name; f++)
		if (!strcmp(f->name, name)) {
			*len = strlen(f->text);
			*out = malloc(*len + 1);
			cr_assert_not_null(*out);
			memcpy(*out, f->text, *len + 1);
			return 0;
		}
	return folio_error_set(FOLIO_ENOTFOUND, "%s: no such file", path);
}

/* A view context over table t whose slices are files (NULL: none). */
static folio_view_ctx ctx_of(const folio_index *t, const slicefile *files)
{
	folio_view_ctx c = { 0 };
	c.ix = t;
	c.read = slice_read;
	c.payload = (void *)files;
	return c;
}

static int run_with(folio_set *out, char **canon, const folio_index *t, const char *pipeline,
		    const slicefile *files)
{
	folio_view_ctx c = ctx_of(t, files);
	return folio_pipeline_run(out, canon, &c, pipeline);
}

static int step_with(folio_set *out, char **canon, const folio_set *in, const char *const *segs,
		     size_t nsegs, const slicefile *files)
{
	folio_view_ctx c = ctx_of(ix, files);
	return folio_pipeline_step(out, canon, &c, in, segs, nsegs);
}

/* Runs a pipeline that must succeed. */
static folio_set run_ok(const char *pipeline, char **canon)
{
	folio_set s;
	folio_error_clear();
	int rc = run_with(&s, canon, ix, pipeline, slice_files);
	cr_assert_eq(rc, 0, "%s: %d %s", pipeline, rc, folio_error_last());
	cr_assert(s.v != NULL || s.n == 0);
	return s;
}

/* Runs a pipeline that must succeed with the canonical text want. */
static folio_set run_canon(const char *pipeline, const char *want)
{
	char *canon = NULL;
	folio_set s = run_ok(pipeline, &canon);
	cr_expect_str_eq(canon, want, "%s", pipeline);
	free(canon);
	return s;
}

/* Runs a pipeline that must fail with code; the message must hold want. */
static void run_fails(const char *pipeline, int code, const char *want)
{
	folio_set s = { (uint32_t *)1, 1, 1 };
	char *canon = (char *)1;
	folio_error_clear();
	int rc = run_with(&s, &canon, ix, pipeline, slice_files);
	cr_expect_eq(rc, code, "%.100s: rc %d, want %d (%s)", pipeline, rc, code, folio_error_last());
	cr_expect_null(s.v, "%.100s: set not cleared on failure", pipeline);
	cr_expect_eq(s.n, 0);
	cr_expect_null(canon, "%.100s: canon not cleared on failure", pipeline);
	if (rc == 0) {
		folio_set_clear(&s);
		free(canon);
	}
	if (want)
		cr_expect(strstr(folio_error_last(), want) != NULL, "%.100s: message '%s' lacks '%s'",
			  pipeline, folio_error_last(), want);
}

static int same_set(const folio_set *a, const folio_set *b)
{
	return a->n == b->n && a->ordered == b->ordered &&
	       (!a->n || !memcmp(a->v, b->v, a->n * sizeof *a->v));
}

/* Every member is a row, once. */
static void expect_valid_set(const folio_set *s, const char *what)
{
	unsigned char *seen = calloc(ix->nsamples ? ix->nsamples : 1, 1);
	cr_assert_not_null(seen);
	cr_assert_leq(s->n, ix->nsamples, "%s", what);
	for (size_t i = 0; i < s->n; i++) {
		cr_assert_lt(s->v[i], ix->nsamples, "%s: member %zu out of range", what, i);
		cr_assert_eq(seen[s->v[i]], 0, "%s: row %u twice", what, s->v[i]);
		seen[s->v[i]] = 1;
	}
	free(seen);
}

static int in_set(const folio_set *s, uint32_t row)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == row)
			return 1;
	return 0;
}

/* ---- the table itself -------------------------------------------------- */

Test(pipeline, synthetic_table_is_well_formed)
{
	cr_assert_eq(ix->nsamples, N);
	for (size_t i = 1; i < N; i++)
		cr_assert_lt(strcmp(path_of(ix, i - 1), path_of(ix, i)), 0);
	for (size_t i = 0; i < N; i++)
		cr_assert_eq(folio_index_find(ix, path_of(ix, i)), (long)i);
	for (size_t i = 1; i < ix->nanns; i++) {
		int c = strcmp(ix->lpool + ix->anns[i - 1].image, ix->lpool + ix->anns[i].image);
		cr_assert(c < 0 || (c == 0 && ix->anns[i - 1].prediction < ix->anns[i].prediction));
	}
}

/* ---- @where ------------------------------------------------------------ */

static const struct {
	const char *expr;
	pred_fn want;
} wheres[] = {
	{ "brightness<0.2", w_dark },
	{ "class=car", w_car },
	{ "class=car,brightness=ge:0.5", w_car_bright },
	{ "not:class=car", w_not_car },
	{ "labeled=0", w_unlabelled },
	{ "count.car=ge:2", w_two_cars },
	{ "split=val+width=640", w_val_or_wide },
	{ "pred.class=dog", w_pred_dog },
	{ "path=glob:cam1%2F*", w_cam1 },
	{ "tag=night", w_night },
	{ "width=eq:640", w_wide },
	{ "pred.score=gt:0.5", w_score_high },
	{ "size=ge:0", w_all },
};

Test(pipeline, where_matches_brute_force)
{
	for (size_t k = 0; k < sizeof wheres / sizeof wheres[0]; k++) {
		char text[256];
		snprintf(text, sizeof text, "@where/%s", wheres[k].expr);
		folio_set s = run_ok(text, NULL);
		cr_expect_eq(s.ordered, 0);
		expect_set_is(&s, ix, wheres[k].want, text);
		folio_set_clear(&s);

		/* the same through folio_set_where */
		folio_expr *e = NULL;
		folio_set all, t;
		cr_assert_eq(folio_expr_parse(&e, wheres[k].expr), 0, "%s", folio_error_last());
		cr_assert_eq(folio_set_all(&all, ix), 0);
		cr_assert_eq(folio_set_where(&t, ix, &all, e), 0);
		expect_set_is(&t, ix, wheres[k].want, wheres[k].expr);
		folio_set_clear(&t);
		folio_set_clear(&all);
		folio_expr_free(e);
	}
	/* sanity: the brute-force sets are neither empty nor everything */
	size_t dark = 0, cars = 0;
	for (size_t r = 0; r < N; r++) {
		dark += (size_t)w_dark(ix, r);
		cars += (size_t)w_car(ix, r);
	}
	cr_expect(dark > 50 && dark < 500);
	cr_expect(cars > 100 && cars < 500);
}

Test(pipeline, where_keeps_the_input_order)
{
	folio_set s = run_ok("@sort/-brightness/@where/class=eq:car", NULL);
	cr_expect_eq(s.ordered, 1);
	double prev = 2;
	for (size_t i = 0; i < s.n; i++) {
		double v;
		cr_assert(w_car(ix, s.v[i]));
		if (bright(ix, s.v[i], &v)) {
			cr_expect_leq(v, prev);
			prev = v;
		}
	}
	folio_set_clear(&s);
}

/* ---- @by and facets ---------------------------------------------------- */

Test(pipeline, class_facets_count_each_image_once)
{
	folio_set all;
	folio_facet *f = NULL;
	size_t nf = 0;
	cr_assert_eq(folio_set_all(&all, ix), 0);
	cr_assert_eq(folio_set_facets(&f, &nf, ix, &all, "class"), 0, "%s", folio_error_last());
	cr_assert_eq(nf, NCLS + 1);
	for (size_t k = 1; k < nf; k++)
		cr_expect_lt(strcmp(f[k - 1].value, f[k].value), 0, "facets sorted by value");
	for (size_t k = 0; k < nf; k++) {
		size_t want = 0;
		for (size_t r = 0; r < N; r++) {
			if (!strcmp(f[k].value, FOLIO_FACET_NONE))
				want += min_class(ix, r) == NULL;
			else
				want += class_count(ix, r, f[k].value) > 0;
		}
		cr_expect_eq(f[k].count, want, "%s: %zu, want %zu", f[k].value, f[k].count, want);

		/* @by/class/<v> holds exactly those rows */
		char text[128];
		snprintf(text, sizeof text, "@by/class/%s", f[k].value);
		folio_set s = run_ok(text, NULL);
		cr_expect_eq(s.n, f[k].count, "%s", text);
		for (size_t i = 0; i < s.n; i++)
			cr_expect(!strcmp(f[k].value, FOLIO_FACET_NONE) ? w_no_class(ix, s.v[i])
								      : class_count(ix, s.v[i], f[k].value) > 0);
		folio_set_clear(&s);
	}
	cr_expect_str_eq(f[0].value, FOLIO_FACET_NONE);   /* '_' < 'b' */
	/* rows of two classes, a class repeated: counted once per class */
	size_t sum = 0;
	for (size_t k = 0; k < nf; k++)
		sum += f[k].count;
	size_t multi = 0;
	for (size_t r = 0; r < N; r++)
		multi += has_objects(r) && r % 7 == 0;
	cr_expect_eq(sum, N + multi);
	folio_facets_free(f, nf);
	folio_set_clear(&all);
}

Test(pipeline, by_scalar_fields)
{
	folio_set s = run_ok("@by/width/640", NULL);
	expect_set_is(&s, ix, w_wide, "@by/width/640");
	folio_set_clear(&s);
	s = run_ok("@by/labeled/0", NULL);
	expect_set_is(&s, ix, w_unlabelled, "@by/labeled/0");
	folio_set_clear(&s);
	s = run_ok("@by/tag/night", NULL);
	expect_set_is(&s, ix, w_night, "@by/tag/night");
	folio_set_clear(&s);
	s = run_ok("@by/pred.class/dog", NULL);
	expect_set_is(&s, ix, w_pred_dog, "@by/pred.class/dog");
	folio_set_clear(&s);
	s = run_ok("@by/class/no-such-class", NULL);
	cr_expect_eq(s.n, 0);
	folio_set_clear(&s);

	/* split: unlabelled rows (their predictions have no split) are _none */
	folio_set all;
	folio_facet *f = NULL;
	size_t nf = 0;
	cr_assert_eq(folio_set_all(&all, ix), 0);
	cr_assert_eq(folio_set_facets(&f, &nf, ix, &all, "split"), 0);
	cr_assert_eq(nf, 3);
	cr_expect_str_eq(f[0].value, FOLIO_FACET_NONE);
	cr_expect_eq(f[0].count, N / 10);
	cr_expect_str_eq(f[1].value, "train");
	cr_expect_str_eq(f[2].value, "val");
	cr_expect_eq(f[0].count + f[1].count + f[2].count, N);
	folio_facets_free(f, nf);

	/* format: rows without features are _none */
	cr_assert_eq(folio_set_facets(&f, &nf, ix, &all, "format"), 0);
	cr_assert_eq(nf, 3);
	cr_expect_str_eq(f[0].value, FOLIO_FACET_NONE);
	cr_expect_eq(f[0].count, N / 50);
	folio_facets_free(f, nf);

	/* every facet field works on the empty set and on everything */
	folio_set none = { NULL, 0, 0 };
	for (const char *const *fl = folio_facet_fields(); *fl; fl++) {
		cr_expect_eq(folio_set_facets(&f, &nf, ix, &none, *fl), 0, "%s", *fl);
		cr_expect_eq(nf, 0);
		folio_facets_free(f, nf);
		cr_expect_eq(folio_set_facets(&f, &nf, ix, &all, *fl), 0, "%s", *fl);
		size_t total = 0;
		for (size_t k = 0; k < nf; k++) {
			total += f[k].count;
			cr_expect(f[k].value[0] && !strchr(f[k].value, '/'), "%s: '%s'", *fl, f[k].value);
		}
		cr_expect_geq(total, N, "%s", *fl);
		folio_facets_free(f, nf);
	}
	cr_expect_eq(folio_set_facets(&f, &nf, ix, &all, "brightness"), FOLIO_EINVAL);
	cr_expect_null(f);
	folio_set_clear(&all);
}

/*
 * Regression (core/views/pipeline.c, facet_values(), the multi(field) branch):
 * scalar facet values that cannot be a folder name ('/' inside, "." or
 * "..") are left out, but class, tag, labeler and pred.class values are
 * not checked. A COCO category "tv/monitor" (it is in the labelme VOC
 * class list) becomes a facet folder "tv/monitor" that no path can name
 * (@by/class/tv/monitor is @by/class/tv then a stray segment), and ".."
 * would be a folder named "..".
 */
Test(pipeline, class_facets_are_folder_names)
{
	static const char *const odd[] = { "tv/monitor", "..", ".", "ok", NULL };
	const char *cls[N + 1] = { 0 };
	for (size_t i = 0; odd[i]; i++)
		cls[i] = odd[i];
	folio_index *t = synth(N, cls);
	folio_set all;
	folio_facet *f = NULL;
	size_t nf = 0;
	cr_assert_eq(folio_set_all(&all, t), 0);
	cr_assert_eq(folio_set_facets(&f, &nf, t, &all, "class"), 0);
	for (size_t k = 0; k < nf; k++)
		cr_expect(!strchr(f[k].value, '/') && strcmp(f[k].value, ".") &&
			  strcmp(f[k].value, ".."), "facet value '%s' is not a folder name",
			  f[k].value);
	folio_facets_free(f, nf);
	folio_set_clear(&all);
	folio_index_free(t);
}

/* ---- @sample ----------------------------------------------------------- */

Test(pipeline, sample_is_reproducible_and_a_subset)
{
	folio_set all, a, b, c, big;
	cr_assert_eq(folio_set_all(&all, ix), 0);
	cr_assert_eq(folio_set_sample(&a, ix, &all, 100, 0), 0);
	cr_assert_eq(folio_set_sample(&b, ix, &all, 100, 0), 0);
	cr_assert_eq(folio_set_sample(&c, ix, &all, 100, 7), 0);
	expect_valid_set(&a, "sample");
	cr_expect_eq(a.n, 100);
	cr_expect(same_set(&a, &b), "same seed, same sample");
	cr_expect(!same_set(&a, &c), "another seed, another sample");
	for (size_t i = 1; i < a.n; i++)
		cr_expect_lt(a.v[i - 1], a.v[i], "in input order");
	cr_assert_eq(folio_set_sample(&big, ix, &all, 5000, 0), 0);
	cr_expect(same_set(&big, &all), "N > size: everything, in order");
	folio_set_clear(&big);
	cr_assert_eq(folio_set_sample(&big, ix, &all, 0, 0), 0);
	cr_expect_eq(big.n, 0);
	folio_set_clear(&big);

	/* through the pipeline: same as the call; the seed in the canon */
	folio_set p = run_canon("@sample/100", "@sample/100");
	cr_expect(same_set(&p, &a));
	folio_set_clear(&p);
	p = run_canon("@sample/100:7", "@sample/100:7");
	cr_expect(same_set(&p, &c));
	folio_set_clear(&p);
	p = run_canon("@sample/0100:0", "@sample/100");
	folio_set_clear(&p);

	/* a sample of a superset keeps the members it shares with a sample
	 * of the subset: sample(all) ∩ cars ⊆ sample(cars) */
	folio_set cars = run_ok("@where/class=eq:car", NULL);
	for (size_t k = 5; k <= 200; k += 65) {
		folio_set sa, sc;
		cr_assert_eq(folio_set_sample(&sa, ix, &all, k, 3), 0);
		cr_assert_eq(folio_set_sample(&sc, ix, &cars, k, 3), 0);
		for (size_t i = 0; i < sa.n; i++)
			if (w_car(ix, sa.v[i]))
				cr_expect(in_set(&sc, sa.v[i]), "k=%zu: row %u lost", k, sa.v[i]);
		folio_set_clear(&sa);
		folio_set_clear(&sc);
	}
	folio_set_clear(&cars);

	/* an ordered input stays ordered, members in its order */
	folio_set sorted = run_ok("@sort/-brightness", NULL);
	folio_set ss;
	cr_assert_eq(folio_set_sample(&ss, ix, &sorted, 50, 0), 0);
	cr_expect_eq(ss.ordered, 1);
	size_t at = 0;
	for (size_t i = 0; i < ss.n; i++) {
		while (at < sorted.n && sorted.v[at] != ss.v[i])
			at++;
		cr_expect_lt(at, sorted.n, "member %zu out of the input's order", i);
	}
	/* the same members as a sample of the unordered set */
	folio_set su;
	cr_assert_eq(folio_set_sample(&su, ix, &all, 50, 0), 0);
	for (size_t i = 0; i < su.n; i++)
		cr_expect(in_set(&ss, su.v[i]));
	folio_set_clear(&su);
	folio_set_clear(&ss);
	folio_set_clear(&sorted);
	folio_set_clear(&a);
	folio_set_clear(&b);
	folio_set_clear(&c);
	folio_set_clear(&all);
}

/* ---- @sort, names ------------------------------------------------------ */

static void expect_sorted_by_brightness(const folio_set *s, int desc)
{
	size_t with = 0;
	for (size_t r = 0; r < N; r++) {
		double v;
		with += (size_t)bright(ix, r, &v);
	}
	cr_assert_eq(s->n, N);
	cr_expect_eq(s->ordered, 1);
	expect_valid_set(s, "sort");
	for (size_t i = 0; i < s->n; i++) {
		double v, w;
		int has = bright(ix, s->v[i], &v);
		cr_expect_eq(has, i < with, "rank %zu: rows without a value go last", i);
		if (i && has && bright(ix, s->v[i - 1], &w))
			cr_expect(desc ? w >= v : w <= v, "rank %zu out of order", i);
		if (i > with)
			cr_expect_lt(strcmp(path_of(ix, s->v[i - 1]), path_of(ix, s->v[i])), 0,
				     "rank %zu: rows without a value in path order", i);
	}
}

Test(pipeline, sort_by_brightness_both_ways)
{
	folio_set s = run_canon("@sort/brightness", "@sort/brightness");
	expect_sorted_by_brightness(&s, 0);
	folio_set_clear(&s);

	s = run_canon("@sort/-brightness", "@sort/-brightness");
	expect_sorted_by_brightness(&s, 1);
	folio_set d = run_canon("@sort/brightness:desc", "@sort/-brightness");
	cr_expect(same_set(&s, &d));
	folio_set_clear(&d);
	folio_set_clear(&s);

	/* direct call */
	folio_set all;
	cr_assert_eq(folio_set_all(&all, ix), 0);
	cr_assert_eq(folio_set_sort(&s, ix, &all, "brightness", 0), 0);
	expect_sorted_by_brightness(&s, 0);
	folio_set_clear(&s);
	folio_set_clear(&all);
}

Test(pipeline, sort_by_other_fields)
{
	/* path descending: the reverse of the table */
	folio_set s = run_ok("@sort/-path", NULL);
	cr_assert_eq(s.n, N);
	for (size_t i = 0; i < N; i++)
		cr_expect_eq(s.v[i], N - 1 - i);
	folio_set_clear(&s);

	/* a count: rows with two cars first when descending */
	s = run_ok("@sort/-count.car", NULL);
	size_t two = 0;
	for (size_t r = 0; r < N; r++)
		two += (size_t)w_two_cars(ix, r);
	cr_assert_gt(two, 0);
	for (size_t i = 0; i < N; i++)
		cr_expect_eq(w_two_cars(ix, s.v[i]), i < two);
	folio_set_clear(&s);

	/* class: smallest class name; unlabelled last */
	s = run_ok("@sort/class", NULL);
	const char *prev = "";
	for (size_t i = 0; i < N; i++) {
		const char *c = min_class(ix, s.v[i]);
		if (!c) {
			prev = NULL;
			continue;
		}
		cr_assert_not_null(prev, "rank %zu: a class after rows without one", i);
		cr_expect_geq(strcmp(c, prev), 0);
		prev = c;
	}
	folio_set_clear(&s);

	/* an empty input */
	folio_set none = { NULL, 0, 0 };
	cr_assert_eq(folio_set_sort(&s, ix, &none, "brightness", 1), 0);
	cr_expect_eq(s.n, 0);
	cr_expect_eq(s.ordered, 1);
	folio_set_clear(&s);
}

/*
 * Regression (core/views/pipeline.c, folio_set_sort(): the field goes to
 * views_scalar() as written): sort_field_check() accepts any @where field
 * including its aliases (brightness_mean, contrast_rms), but views_scalar
 * only knows the canonical names, so @sort/brightness_mean gives no row a
 * value and returns path order, silently; its canonical text also keeps
 * the alias, so it names another cache entry than @sort/brightness.
 */
Test(pipeline, sort_accepts_field_aliases)
{
	char *canon = NULL;
	folio_set a = run_ok("@sort/brightness", NULL);
	folio_set b = run_ok("@sort/brightness_mean", &canon);
	cr_expect(same_set(&a, &b), "@sort/brightness_mean is not @sort/brightness");
	cr_expect_str_eq(canon, "@sort/brightness");
	free(canon);
	folio_set_clear(&a);
	folio_set_clear(&b);
}

/*
 * Regression (same place): @sort/pred.score passes sort_field_check() (it is a
 * @where field) but it is multi-valued numeric (ops->numbers), which
 * folio_set_sort never asks: every row has "no value" and the result is
 * path order. It should either rank by a row's best score or be refused.
 */
Test(pipeline, sort_by_prediction_score_ranks_or_refuses)
{
	folio_set s;
	folio_error_clear();
	int rc = run_with(&s, NULL, ix, "@sort/-pred.score", slice_files);
	if (rc < 0) {
		cr_expect_eq(rc, FOLIO_EINVAL);
		return;
	}
	/* the best prediction (score 0.95, row 95 and others) ranks first */
	cr_assert_gt(s.n, 0);
	uint32_t p = ix->samples[s.v[0]].pred;
	cr_expect(p != FOLIO_NONE && ix->objs[ix->anns[p].obj_first].score > 0.9f,
		  "@sort/-pred.score put row %u (%s) first", s.v[0], path_of(ix, s.v[0]));
	folio_set_clear(&s);
}

/* "0001_" + path with its one '/' written %2F (the synthetic paths are
 * "camK/NNNNN.jpg"). */
static void ranked_want(char *want, size_t size, const char *rank, const char *path)
{
	const char *slash = strchr(path, '/');
	cr_assert_not_null(slash);
	snprintf(want, size, "%s_%.*s%%2F%s", rank, (int)(slash - path), path, slash + 1);
}

Test(pipeline, names_of_ranked_and_unranked_sets)
{
	char name[128], want[128];
	folio_set s = run_ok("@sort/brightness", NULL);
	cr_assert_eq(folio_set_name(name, sizeof name, ix, &s, 0), 0);
	ranked_want(want, sizeof want, "0001", path_of(ix, s.v[0]));
	cr_expect_str_eq(name, want);
	cr_assert_eq(folio_set_name(name, sizeof name, ix, &s, N - 1), 0);
	ranked_want(want, sizeof want, "1000", path_of(ix, s.v[N - 1]));
	cr_expect_str_eq(name, want);
	/* too small a buffer, also by one byte */
	cr_expect_eq(folio_set_name(name, 8, ix, &s, 0), FOLIO_EINVAL);
	cr_expect_eq(folio_set_name(name, strlen(want), ix, &s, N - 1), FOLIO_EINVAL);
	cr_expect_eq(folio_set_name(name, strlen(want) + 1, ix, &s, N - 1), 0);
	folio_set_clear(&s);

	/* widths follow the set's size */
	static const struct { const char *p; const char *prefix; } w[] = {
		{ "@sort/brightness/@limit/9", "1_" },
		{ "@sort/brightness/@limit/10", "01_" },
		{ "@sort/brightness/@limit/99", "01_" },
		{ "@sort/brightness/@limit/100", "001_" },
	};
	for (size_t k = 0; k < sizeof w / sizeof w[0]; k++) {
		s = run_ok(w[k].p, NULL);
		cr_expect_eq(s.ordered, 1);
		cr_assert_eq(folio_set_name(name, sizeof name, ix, &s, 0), 0);
		cr_expect_eq(strncmp(name, w[k].prefix, strlen(w[k].prefix)), 0, "%s: %s", w[k].p,
			     name);
		cr_expect_null(strchr(name, '/'), "ranked names are flat");
		folio_set_clear(&s);
	}

	/* unranked: the path itself */
	s = run_ok("@where/class=eq:car", NULL);
	cr_assert_eq(folio_set_name(name, sizeof name, ix, &s, 0), 0);
	cr_expect_str_eq(name, path_of(ix, s.v[0]));
	folio_set_clear(&s);
}

Test(pipeline, ranked_names_decode_to_their_paths_and_ranks)
{
	char name[128], path[128], prev[128] = "";
	size_t rank = 0;
	folio_set s = run_ok("@sort/-brightness", NULL);

	for (size_t i = 0; i < s.n; i++) {
		cr_assert_eq(folio_set_name(name, sizeof name, ix, &s, i), 0);
		cr_assert_eq(folio_set_name_decode(path, sizeof path, &rank, name), 0, "%s: %s",
			     name, folio_error_last());
		cr_assert_str_eq(path, path_of(ix, s.v[i]));
		cr_assert_eq(rank, i + 1);
		/* ls order is rank order */
		cr_assert_lt(strcmp(prev, name), 0, "'%s' lists before '%s'", name, prev);
		snprintf(prev, sizeof prev, "%s", name);
	}
	folio_set_clear(&s);
}

/* A table of the given paths (no labels, no features). */
static folio_index *paths_index(const char *const *paths, size_t n)
{
	buf sp = { 0 };
	folio_index *t = calloc(1, sizeof *t);
	cr_assert_not_null(t);
	t->samples = calloc(n, sizeof *t->samples);
	cr_assert_not_null(t->samples);
	for (size_t i = 0; i < n; i++) {
		folio_sample *smp = &t->samples[t->nsamples++];
		smp->path = put(&sp, paths[i]);
		smp->gt = smp->pred = FOLIO_NONE;
	}
	t->spool = sp.p;
	t->spool_len = sp.len;
	return t;
}

/* Regression: ranked names were "<rank>_<base name>", so cats/0003.jpg and
 * dogs/0003.jpg could not be told apart in a ranked listing. */
Test(pipeline, ranked_names_keep_every_folder_and_the_extension)
{
	static const char *const paths[] = {
		"cats/0003.jpg", "dogs/0003.jpg", "a%2Fb/c.jpg", "100%/x.png", "plain.jpg",
		"deep/er/still/x.tar.gz", "sp ace/é.JPEG", "_1/2_3.jpg",
	};
	static const char *const want[] = {
		"1_cats%2F0003.jpg", "2_dogs%2F0003.jpg", "3_a%252Fb%2Fc.jpg", "4_100%25%2Fx.png",
		"5_plain.jpg", "6_deep%2Fer%2Fstill%2Fx.tar.gz", "7_sp ace%2Fé.JPEG",
		"8__1%2F2_3.jpg",
	};
	size_t n = sizeof paths / sizeof paths[0];
	uint32_t rows[sizeof paths / sizeof paths[0]];
	folio_index *t = paths_index(paths, n);
	folio_set s = { rows, n, 1 };
	char name[128], path[128];
	size_t rank;

	for (size_t i = 0; i < n; i++)
		rows[i] = (uint32_t)i;
	for (size_t i = 0; i < n; i++) {
		cr_assert_eq(folio_set_name(name, sizeof name, t, &s, i), 0);
		cr_expect_str_eq(name, want[i]);
		cr_assert_eq(folio_set_name_decode(path, sizeof path, &rank, name), 0, "%s: %s",
			     name, folio_error_last());
		cr_expect_str_eq(path, paths[i]);
		cr_expect_eq(rank, i + 1);
	}
	/* an upper-case or lower-case F decodes alike; the rank may be NULL */
	cr_assert_eq(folio_set_name_decode(path, sizeof path, NULL, "07_cats%2fdogs.png"), 0);
	cr_expect_str_eq(path, "cats/dogs.png");
	folio_index_free(t);
}

Test(pipeline, ranked_name_decode_refuses_what_set_name_never_makes)
{
	static const char *const bad[] = {
		"",                     /* nothing */
		"0003.jpg",             /* no rank separator */
		"_cats%2F0003.jpg",     /* no rank */
		"x1_a.jpg",             /* not digits */
		"0_a.jpg",              /* ranks start at 1 */
		"3_",                   /* no path */
		"3_cats/0003.jpg",      /* a raw '/' */
		"3_a%2",                /* a cut escape */
		"3_a%",
		"3_a%41.jpg",           /* an escape we never write */
		"3_a%2G.jpg",
		"3_%2Fabs.jpg",         /* decodes to an absolute path */
		"3_a%2F..%2Fb.jpg",     /* to a path with '..' */
		"3_a%2F%2Fb.jpg",       /* to an empty folder name */
		"3_a%2F",               /* to a trailing '/' */
		"99999999999999999999999999_a.jpg", /* rank overflows */
	};
	char path[64];
	size_t rank = 77;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cr_expect_eq(folio_set_name_decode(path, sizeof path, &rank, bad[i]), FOLIO_EINVAL,
			     "'%s' decoded to '%s'", bad[i], path);
		cr_expect_not_null(strstr(folio_error_last(), bad[i]), "%s", folio_error_last());
		cr_expect_eq(rank, 77, "'%s' set the rank", bad[i]);
	}
	/* the output buffer: exactly enough, and one byte short */
	cr_expect_eq(folio_set_name_decode(path, 6, NULL, "12_ab%2Fc"), 0);
	cr_expect_str_eq(path, "ab/c");
	cr_expect_eq(folio_set_name_decode(path, 4, NULL, "12_ab%2Fc"), FOLIO_EINVAL);
	cr_expect_eq(folio_set_name_decode(path, 5, NULL, "12_ab%2Fc"), 0);
}

/* ---- @limit ------------------------------------------------------------ */

Test(pipeline, limit)
{
	folio_set s = run_canon("@limit/10", "@limit/10");
	cr_assert_eq(s.n, 10);
	for (size_t i = 0; i < 10; i++)
		cr_expect_eq(s.v[i], i);
	folio_set_clear(&s);
	s = run_ok("@limit/0", NULL);
	cr_expect_eq(s.n, 0);
	folio_set_clear(&s);
	s = run_canon("@limit/007", "@limit/7");
	cr_expect_eq(s.n, 7);
	folio_set_clear(&s);
	s = run_ok("@limit/1000000000", NULL);
	cr_expect_eq(s.n, N);
	folio_set_clear(&s);

	/* keeps order and rank */
	folio_set sorted = run_ok("@sort/-brightness", NULL);
	s = run_ok("@sort/-brightness/@limit/25", NULL);
	cr_expect_eq(s.ordered, 1);
	cr_assert_eq(s.n, 25);
	cr_expect_eq(memcmp(s.v, sorted.v, 25 * sizeof *s.v), 0);
	folio_set_clear(&s);
	folio_set_clear(&sorted);

	folio_set all, l;
	cr_assert_eq(folio_set_all(&all, ix), 0);
	cr_assert_eq(folio_set_limit(&l, &all, 3), 0);
	cr_expect_eq(l.n, 3);
	cr_expect_eq(l.ordered, 0);
	folio_set_clear(&l);
	folio_set_clear(&all);
}

/* ---- @balance ---------------------------------------------------------- */

Test(pipeline, balance_gives_equal_groups)
{
	size_t group[NCLS] = { 0 };
	for (size_t r = 0; r < N; r++) {
		const char *c = min_class(ix, r);
		for (size_t k = 0; c && k < NCLS; k++)
			group[k] += !strcmp(c, names[k]);
	}
	size_t quota = SIZE_MAX;
	for (size_t k = 0; k < NCLS; k++)
		if (group[k] && group[k] < quota)
			quota = group[k];
	cr_assert_lt(quota, N);

	folio_set s = run_canon("@balance/class", "@balance/class");
	expect_valid_set(&s, "balance");
	cr_expect_eq(s.n, quota * NCLS);
	size_t got[NCLS] = { 0 };
	for (size_t i = 0; i < s.n; i++) {
		const char *c = min_class(ix, s.v[i]);
		cr_assert_not_null(c, "unlabelled row %u in a balanced set", s.v[i]);
		for (size_t k = 0; k < NCLS; k++)
			got[k] += !strcmp(c, names[k]);
		if (i)
			cr_expect_lt(s.v[i - 1], s.v[i], "input order");
	}
	for (size_t k = 0; k < NCLS; k++)
		cr_expect_eq(got[k], quota, "%s: %zu, want %zu", names[k], got[k], quota);

	/* reproducible; another seed picks others */
	folio_set again = run_ok("@balance/class", NULL);
	cr_expect(same_set(&s, &again));
	folio_set_clear(&again);
	folio_set other = run_canon("@balance/class:9", "@balance/class:9");
	cr_expect_eq(other.n, s.n);
	cr_expect(!same_set(&s, &other));
	folio_set_clear(&other);
	folio_set_clear(&s);

	/* balancing a ranked set keeps its rank order */
	s = run_ok("@sort/brightness/@balance/class", NULL);
	cr_expect_eq(s.ordered, 1);
	cr_expect_eq(s.n, quota * NCLS);
	double prev = -1;
	for (size_t i = 0; i < s.n; i++) {
		double v;
		if (bright(ix, s.v[i], &v)) {
			cr_expect_geq(v, prev);
			prev = v;
		}
	}
	folio_set_clear(&s);

	/* a field with one group: all of it */
	s = run_ok("@where/class=car/@balance/split", NULL);
	folio_set_clear(&s);
	s = run_ok("@where/labeled=0/@balance/class", NULL);
	cr_expect_eq(s.n, 0, "unlabelled rows are no group");
	folio_set_clear(&s);
}

/* ---- @slices ----------------------------------------------------------- */

Test(pipeline, slices_expand_to_their_pipeline)
{
	char *canon = NULL;
	folio_set a = run_canon("@slices/cars", "@where/class=eq:car");
	expect_set_is(&a, ix, w_car, "@slices/cars");
	folio_set_clear(&a);

	/* nested */
	a = run_ok("@slices/dark-cars", &canon);
	cr_expect_str_eq(canon, "@where/class=eq:car/@where/brightness=lt:0.3");
	folio_set b = run_ok(canon, NULL);
	cr_expect(same_set(&a, &b));
	for (size_t i = 0; i < a.n; i++) {
		double v;
		cr_expect(w_car(ix, a.v[i]) && bright(ix, a.v[i], &v) && v < 0.3);
	}
	free(canon);
	folio_set_clear(&a);
	folio_set_clear(&b);

	/* a slice after another stage, and stages after a slice */
	a = run_canon("@where/brightness<0.3/@slices/cars/@limit/5",
		      "@where/brightness=lt:0.3/@where/class=eq:car/@limit/5");
	cr_expect_eq(a.n, 5);
	folio_set_clear(&a);

	/* empty slices: everything */
	a = run_canon("@slices/empty", "");
	cr_expect_eq(a.n, N);
	folio_set_clear(&a);
	a = run_canon("@slices/everything/@limit/3", "@limit/3");
	cr_expect_eq(a.n, 3);
	folio_set_clear(&a);

	/* a slice file as `folio slice save` writes it */
	char *text = folio_slice_json("@where/class=eq:car", "all the cars");
	cr_assert_not_null(text);
	cr_expect_eq(text[strlen(text) - 1], '\n');
	slicefile mine[] = { { "saved", text }, { NULL, NULL } };
	cr_assert_eq(run_with(&a, &canon, ix, "@slices/saved", mine), 0);
	cr_expect_str_eq(canon, "@where/class=eq:car");
	expect_set_is(&a, ix, w_car, "saved slice");
	free(canon);
	folio_set_clear(&a);
	free(text);
}

Test(pipeline, slice_errors)
{
	run_fails("@slices/loop", FOLIO_EINVAL, "nest more than");
	run_fails("@slices/ping", FOLIO_EINVAL, "nest more than");
	run_fails("@slices/nosuch", FOLIO_ENOTFOUND, "nosuch");
	run_fails("@slices/bad", FOLIO_EINVAL, ".folio/slices/bad.json");
	run_fails("@slices/notobj", FOLIO_EINVAL, ".folio/slices/notobj.json");
	run_fails("@slices/nostring", FOLIO_EINVAL, ".folio/slices/nostring.json");
	run_fails("@slices/badstage", FOLIO_EINVAL, ".folio/slices/badstage.json");
	run_fails("@slices/.hidden", FOLIO_EINVAL, "not a slice name");
	run_fails("@slices/a b", FOLIO_EINVAL, "not a slice name");
	run_fails("@where/class=car/@slices/nosuch", FOLIO_ENOTFOUND, NULL);

	/* without a callback every slice is missing */
	folio_set s;
	folio_error_clear();
	cr_expect_eq(run_with(&s, NULL, ix, "@slices/cars", NULL), FOLIO_ENOTFOUND);
	cr_expect(strstr(folio_error_last(), "cars") != NULL);

	cr_expect(folio_slice_name_valid("night-cars_2.v1"));
	cr_expect(!folio_slice_name_valid(""));
	cr_expect(!folio_slice_name_valid(".x"));
	cr_expect(!folio_slice_name_valid("a/b"));
	cr_expect(!folio_slice_name_valid("é"));
}

/*
 * Regression (core/views/pipeline.c, step(), the @slices branch): a slice's
 * canonical text is its own pipeline's text spliced into the caller's
 * ("@slices expands to the canonical text of the slice's own pipeline",
 * views.h), and the canonical text names the set in caches. But the slice
 * is run from the whole version and then intersected with the input, which
 * is another set as soon as the slice holds @limit, @sample, @sort or
 * @balance; and when the input is unordered and the slice ranked, the
 * input is ignored altogether (`*out = tmp`): @where/class=car/@slices/
 * darkest returns the darkest images of the version, cars or not.
 * Invariant checked: running the canonical text gives the same set.
 */
Test(pipeline, slice_canon_names_the_same_set)
{
	static const char *const p[] = {
		"@where/class=car/@slices/darkest",
		"@where/class=car/@slices/first10",
		"@where/class=dog/@slices/sampled",
		"@sort/-brightness/@slices/cars",
		"@slices/cars/@slices/first10",
	};
	for (size_t k = 0; k < sizeof p / sizeof p[0]; k++) {
		char *canon = NULL, *canon2 = NULL;
		folio_set a = run_ok(p[k], &canon);
		folio_set b = run_ok(canon, &canon2);
		cr_expect_str_eq(canon2, canon);
		cr_expect(same_set(&a, &b), "%s (%zu members, ordered %d) and its canon %s "
			  "(%zu members, ordered %d) differ", p[k], a.n, a.ordered, canon, b.n,
			  b.ordered);
		free(canon);
		free(canon2);
		folio_set_clear(&a);
		folio_set_clear(&b);
	}
	/* and the direct case: a slice applied to cars holds only cars */
	folio_set s = run_ok("@where/class=car/@slices/darkest", NULL);
	for (size_t i = 0; i < s.n; i++)
		cr_expect(w_car(ix, s.v[i]), "row %u is no car", s.v[i]);
	folio_set_clear(&s);
}

/*
 * Regression (core/views/pipeline.c, step(): `char buf[FOLIO_EXPR_MAX_LEN + 64]`
 * and snprintf into it): the canonical text of a stage is cut at 4159
 * bytes. A slice expands to its whole pipeline's canonical text, which has
 * no such bound (up to 64 stages of up to 4 KiB each), and an expression
 * of up to 4096 bytes can have a longer canonical form ("size<1" ->
 * "size=lt:1"). The cut text is another (or no) pipeline, and it is a
 * cache key.
 */
Test(pipeline, long_canonical_texts_are_not_cut)
{
	/* a slice of 60 stages, ~90 bytes each */
	char *text = NULL, *pl = NULL;
	size_t tl = 0, pll = 0;
	FILE *f = open_memstream(&pl, &pll);
	for (int k = 0; k < 60; k++)
		fprintf(f, "%s@where/size=ge:%d+path=glob:*%060d*", k ? "/" : "", k, k);
	fclose(f);
	f = open_memstream(&text, &tl);
	fprintf(f, "{\"pipeline\": \"%s\"}", pl);
	fclose(f);
	long_slice = text;
	char *c1 = NULL, *c2 = NULL;
	folio_set a = run_ok(pl, &c1);
	folio_set b = run_ok("@slices/long", &c2);
	cr_expect_gt(strlen(c1), 4200);
	cr_expect_eq(strlen(c2), strlen(c1), "slice canon cut to %zu bytes", strlen(c2));
	cr_expect(same_set(&a, &b));
	free(c1);
	free(c2);
	folio_set_clear(&a);
	folio_set_clear(&b);
	long_slice = NULL;
	free(text);
	free(pl);

	/* one expression under the length limit, its canon over 4159 bytes */
	char expr[FOLIO_EXPR_MAX_LEN + 1];
	size_t el = 0;
	for (int k = 1; el + 16 < FOLIO_EXPR_MAX_LEN; k++)
		el += (size_t)snprintf(expr + el, sizeof expr - el, "%ssize<%d", k > 1 ? "," : "",
				       100000 + k);
	folio_expr *e = NULL;
	cr_assert_eq(folio_expr_parse(&e, expr), 0, "%s", folio_error_last());
	char *ec = folio_expr_canonical(e);
	folio_expr_free(e);
	cr_assert_not_null(ec);
	char *want = NULL;
	cr_assert_geq(asprintf(&want, "@where/%s", ec), 0);
	char *stage = NULL;
	cr_assert_geq(asprintf(&stage, "@where/%s", expr), 0);
	folio_set s = run_ok(stage, &c1);
	cr_expect_gt(strlen(want), 4200);
	cr_expect_str_eq(c1, want, "canon cut to %zu of %zu bytes", strlen(c1), strlen(want));
	free(c1);
	free(want);
	free(stage);
	free(ec);
	folio_set_clear(&s);
}

/* ---- the pipeline text ------------------------------------------------- */

Test(pipeline, canonical_text)
{
	static const struct { const char *in, *canon; } c[] = {
		{ "@where/brightness<0.2", "@where/brightness=lt:0.2" },
		{ "@where/brightness_mean<0.2", "@where/brightness=lt:0.2" },
		{ "@where/class=car/@limit/3", "@where/class=eq:car/@limit/3" },
		{ "@by/class/car", "@by/class/car" },
		{ "@sample/5", "@sample/5" },
		{ "@sort/-contrast", "@sort/-contrast" },
		{ "@balance/class:0", "@balance/class" },
		{ "", "" },
	};
	for (size_t k = 0; k < sizeof c / sizeof c[0]; k++) {
		char *canon = NULL;
		folio_set s = run_ok(c[k].in, &canon);
		cr_expect_str_eq(canon, c[k].canon, "%s", c[k].in);
		/* the canon gives the same set and is its own canon */
		char *again = NULL;
		folio_set t = run_ok(canon, &again);
		cr_expect_str_eq(again, canon);
		cr_expect(same_set(&s, &t), "%s", c[k].in);
		free(again);
		free(canon);
		folio_set_clear(&s);
		folio_set_clear(&t);
	}
}

Test(pipeline, slashes_are_ignored)
{
	char *want = NULL;
	folio_set ref = run_ok("@where/class=car/@limit/5", &want);
	static const char *const v[] = {
		"/@where/class=car/@limit/5", "@where/class=car/@limit/5/",
		"@where//class=car/@limit/5", "//@where/class=car///@limit//5//",
	};
	for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
		char *canon = NULL;
		folio_set s = run_ok(v[k], &canon);
		cr_expect(same_set(&s, &ref), "%s", v[k]);
		cr_expect_str_eq(canon, want, "%s", v[k]);
		free(canon);
		folio_set_clear(&s);
	}
	static const char *const all[] = { "", "/", "///" };
	for (size_t k = 0; k < 3; k++) {
		char *canon = NULL;
		folio_set s = run_ok(all[k], &canon);
		cr_expect_eq(s.n, N);
		cr_expect_eq(s.ordered, 0);
		cr_expect_str_eq(canon, "");
		free(canon);
		folio_set_clear(&s);
	}
	free(want);
	folio_set_clear(&ref);
}

Test(pipeline, error_messages)
{
	run_fails("@nope", FOLIO_EINVAL, "'@nope' is not a stage");
	run_fails("class=car", FOLIO_EINVAL, "'class=car' is not a stage");
	run_fails("@where/class=car/limit/3", FOLIO_EINVAL, "'limit' is not a stage");
	run_fails("@stats", FOLIO_EINVAL, "@stats is an output");
	run_fails("@where/class=car/@export", FOLIO_EINVAL, "@export is an output");
	run_fails("@preview", FOLIO_EINVAL, "output");
	run_fails("@history", FOLIO_EINVAL, "output");
	run_fails("@where", FOLIO_EINVAL, "@where wants 1 argument");
	run_fails("@by/class", FOLIO_EINVAL, "@by wants 2 arguments");
	run_fails("@limit/abc", FOLIO_EINVAL, "@limit/abc");
	run_fails("@limit/-1", FOLIO_EINVAL, "@limit/-1");
	run_fails("@limit/99999999999", FOLIO_EINVAL, "@limit/99999999999");
	run_fails("@limit/1000000001", FOLIO_EINVAL, "@limit/1000000001");
	run_fails("@limit/1e3", FOLIO_EINVAL, "a count");
	run_fails("@limit/ 3", FOLIO_EINVAL, "a count");
	run_fails("@sample/x", FOLIO_EINVAL, "@sample/x");
	run_fails("@sample/5:", FOLIO_EINVAL, "@sample/5:");
	run_fails("@sample/5:x", FOLIO_EINVAL, "@sample/5:x");
	run_fails("@sample/:5", FOLIO_EINVAL, "@sample/:5");
	run_fails("@by/brightness/1", FOLIO_EINVAL, "@by/brightness: not a facet field");
	run_fails("@by/nosuch/1", FOLIO_EINVAL, "not a facet field");
	run_fails("@sort/nosuch", FOLIO_EINVAL, "nosuch");
	run_fails("@sort/-", FOLIO_EINVAL, NULL);
	run_fails("@sort/:desc", FOLIO_EINVAL, NULL);
	run_fails("@balance/class:x", FOLIO_EINVAL, "@balance/class:x");
	run_fails("@where/brightness<", FOLIO_EINVAL, "@where");
	run_fails("@where/nosuchfield=1", FOLIO_EINVAL, "nosuchfield");
	run_fails("@limit/3/@nope", FOLIO_EINVAL, "@nope");
}

/*
 * Regression (core/views/pipeline.c, folio_set_balance() -> folio_set_facets() ->
 * field_error("@by", field)): @balance/<not a facet> says "@by/<field>:
 * not a facet field", naming a stage the user did not write.
 */
Test(pipeline, balance_error_names_balance)
{
	run_fails("@balance/brightness", FOLIO_EINVAL, "@balance/brightness");
}

/*
 * Regression (core/views/pipeline.c, run(): segs[FOLIO_PIPELINE_MAX_STAGES * 3]):
 * the limit is counted in path segments (192), not stages, so 65 or 95
 * one-argument stages are accepted though FOLIO_PIPELINE_MAX_STAGES is 64
 * ("Longest pipeline: stages", views.h), while the message of the check
 * that does fire says "more than 64 stages".
 */
Test(pipeline, at_most_64_stages)
{
	char *p = NULL;
	size_t pl = 0;
	FILE *f = open_memstream(&p, &pl);
	for (int k = 0; k < FOLIO_PIPELINE_MAX_STAGES; k++)
		fprintf(f, "/@limit/%d", 1000 - k);
	fflush(f);
	folio_set s = run_ok(p, NULL);
	cr_expect_eq(s.n, 1000 - FOLIO_PIPELINE_MAX_STAGES + 1);
	folio_set_clear(&s);
	fprintf(f, "/@limit/5");
	fclose(f);
	run_fails(p, FOLIO_EINVAL, "more than 64 stages");
	free(p);

	/* far too many segments: refused, not overflowing */
	f = open_memstream(&p, &pl);
	for (int k = 0; k < 1000; k++)
		fprintf(f, "/@limit/%d", k);
	fclose(f);
	run_fails(p, FOLIO_EINVAL, "more than 64 stages");
	free(p);
}

Test(pipeline, stage_arity_and_single_steps)
{
	/* the registry: every name once, stages and outputs with their arity */
	static const struct { const char *name; folio_view_kind kind; int arity; } want[] = {
		{ "@where", FOLIO_VIEW_STAGE, 1 }, { "@by", FOLIO_VIEW_STAGE, 2 },
		{ "@slices", FOLIO_VIEW_STAGE, 1 }, { "@sample", FOLIO_VIEW_STAGE, 1 },
		{ "@sort", FOLIO_VIEW_STAGE, 1 }, { "@limit", FOLIO_VIEW_STAGE, 1 },
		{ "@balance", FOLIO_VIEW_STAGE, 1 }, { "@issues", FOLIO_VIEW_STAGE, 1 },
		{ "@stats", FOLIO_VIEW_OUTPUT, 0 }, { "@export", FOLIO_VIEW_OUTPUT, 1 },
		{ "@preview", FOLIO_VIEW_OUTPUT, 0 },
		{ "@history", FOLIO_VIEW_OUTPUT, FOLIO_VIEW_PATH_ARGS },
	};
	size_t nreg = 0;
	for (const folio_view *const *r = folio_views(); *r; r++, nreg++) {
		cr_expect_eq(folio_view_find((*r)->name), *r, "%s", (*r)->name);
		cr_expect((*r)->summary && *(*r)->summary, "%s has no summary", (*r)->name);
		cr_expect((*r)->kind == FOLIO_VIEW_STAGE ? (*r)->stage != NULL : (*r)->output != NULL,
			  "%s cannot compute", (*r)->name);
		if (r != folio_views())
			cr_expect_lt(strcmp(r[-1]->name, (*r)->name), 0, "registry not sorted at %s",
				     (*r)->name);
	}
	cr_expect_eq(nreg, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const folio_view *v = folio_view_find(want[i].name);
		cr_assert_not_null(v, "%s", want[i].name);
		cr_expect_eq(v->kind, want[i].kind, "%s", want[i].name);
		cr_expect_eq(v->arity, want[i].arity, "%s", want[i].name);
	}
	cr_expect_null(folio_view_find("where"));
	cr_expect_null(folio_view_find(""));

	folio_set all, out;
	char *canon = NULL;
	cr_assert_eq(folio_set_all(&all, ix), 0);
	const char *segs[] = { "@where", "brightness<0.2", "extra" };
	cr_assert_eq(step_with(&out, &canon, &all, segs, 2, slice_files), 0);
	cr_expect_str_eq(canon, "@where/brightness=lt:0.2");
	expect_set_is(&out, ix, w_dark, "step");
	free(canon);
	folio_set_clear(&out);
	cr_expect_eq(step_with(&out, &canon, &all, segs, 3, NULL), FOLIO_EINVAL);
	cr_expect_null(canon);
	cr_expect_eq(step_with(&out, &canon, &all, segs, 1, NULL), FOLIO_EINVAL);
	const char *stats[] = { "@stats" };
	cr_expect_eq(step_with(&out, &canon, &all, stats, 1, NULL), FOLIO_EINVAL);
	/* a step from a subset */
	const char *by[] = { "@by", "class", "car" };
	folio_set dark;
	cr_assert_eq(step_with(&dark, &canon, &all, segs, 2, NULL), 0);
	free(canon);
	cr_assert_eq(step_with(&out, &canon, &dark, by, 3, NULL), 0);
	cr_expect_str_eq(canon, "@by/class/car");
	for (size_t i = 0; i < out.n; i++)
		cr_expect(w_dark(ix, out.v[i]) && w_car(ix, out.v[i]));
	free(canon);
	folio_set_clear(&out);
	folio_set_clear(&dark);

	folio_set cp;
	cr_assert_eq(folio_set_copy(&cp, &all), 0);
	cr_expect(same_set(&cp, &all));
	folio_set_clear(&cp);
	folio_set_clear(&cp);   /* twice is harmless */
	folio_set_clear(NULL);
	folio_set_clear(&all);
}

/* ---- an empty table ---------------------------------------------------- */

Test(pipeline, empty_table)
{
	folio_index *t = synth(0, NULL);
	static const char *const p[] = {
		"", "@where/class=eq:car", "@by/class/car", "@sample/5", "@sort/brightness",
		"@limit/3", "@balance/class", "@slices/cars", "@sort/-path/@balance/split:3",
	};
	for (size_t k = 0; k < sizeof p / sizeof p[0]; k++) {
		folio_set s;
		char *canon = NULL;
		cr_assert_eq(run_with(&s, &canon, t, p[k], slice_files),
			     0, "%s: %s", p[k], folio_error_last());
		cr_expect_eq(s.n, 0);
		free(canon);
		folio_set_clear(&s);
	}
	folio_facet *f = NULL;
	size_t nf = 0;
	folio_set all;
	cr_assert_eq(folio_set_all(&all, t), 0);
	cr_expect_eq(folio_set_facets(&f, &nf, t, &all, "class"), 0);
	cr_expect_eq(nf, 0);
	folio_facets_free(f, nf);
	folio_set_clear(&all);
	folio_index_free(t);
}

/* ---- bad input --------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static const char *const seeds[] = {
	"@where/class=car,brightness=lt:0.2/@sort/-brightness/@limit/10",
	"@by/class/car/@sample/20:5",
	"@slices/dark-cars/@balance/class:3",
	"@where/[class=car+class=bus],split=val/@sort/count.car:desc",
	"@where/not:path=glob:cam1%2F*/@by/split/_none",
	"@sort/-contrast/@where/width=ge:600/@limit/0",
	"@where/tag=in:night;day/@balance/format",
	"@slices/first10/@slices/cars/@sort/path",
	"@where/pred.score=gt:0.5|pred.count.dog>=1/@sample/3",
};

static const char alphabet[] = "@/:=<>!,+|&;[]()%*-._ 0123456789abcdefwhrslimtypcg";

static void mutate(char *out, size_t size, uint64_t r)
{
	const char *seed = seeds[r % (sizeof seeds / sizeof seeds[0])];
	size_t n = strlen(seed);
	if (n >= size)
		n = size - 1;
	memcpy(out, seed, n);
	out[n] = 0;
	switch ((r >> 8) % 6) {
	case 0:   /* truncated */
		out[rnd() % (n + 1)] = 0;
		break;
	case 1:   /* some bytes replaced, any value but NUL */
		for (int k = (int)(rnd() % 4); k >= 0; k--)
			out[rnd() % n] = (char)(1 + rnd() % 255);
		break;
	case 2:   /* some bytes replaced from the pipeline alphabet */
		for (int k = (int)(rnd() % 6); k >= 0; k--)
			out[rnd() % n] = alphabet[rnd() % (sizeof alphabet - 1)];
		break;
	case 3: { /* a piece of another seed spliced in */
		const char *o = seeds[rnd() % (sizeof seeds / sizeof seeds[0])];
		size_t at = rnd() % (n + 1), from = rnd() % strlen(o);
		snprintf(out + at, size - at, "%s", o + from);
		break;
	}
	case 4: { /* random text */
		size_t len = rnd() % 80;
		for (size_t i = 0; i < len && i + 1 < size; i++)
			out[i] = alphabet[rnd() % (sizeof alphabet - 1)];
		out[len < size ? len : size - 1] = 0;
		break;
	}
	default: { /* random bytes */
		size_t len = rnd() % 64;
		for (size_t i = 0; i < len && i + 1 < size; i++)
			out[i] = (char)(1 + rnd() % 255);
		out[len < size ? len : size - 1] = 0;
		break;
	}
	}
}

Test(pipeline, mutated_pipelines_never_crash, .timeout = 120)
{
	char text[512];
	size_t ok = 0, failed = 0;
	rng_state = 0x2545f4914f6cdd1dULL;
	for (int iter = 0; iter < 2000; iter++) {
		if (iter < (int)(sizeof seeds / sizeof seeds[0]))
			snprintf(text, sizeof text, "%s", seeds[iter]);
		else
			mutate(text, sizeof text, rnd());
		folio_set s = { NULL, 0, 0 };
		char *canon = NULL;
		folio_error_clear();
		int rc = run_with(&s, &canon, ix, text, slice_files);
		if (rc == 0) {
			ok++;
			expect_valid_set(&s, text);
			cr_assert_not_null(canon, "%s", text);
			/* whatever ran, its canon runs to the same set */
			folio_set t;
			char *c2 = NULL;
			int rc2 = run_with(&t, &c2, ix, canon, slice_files);
			cr_expect_eq(rc2, 0, "canon of '%s' is '%s': %s", text, canon, folio_error_last());
			if (rc2 == 0) {
				cr_expect_str_eq(c2, canon, "%s", text);
				folio_set_clear(&t);
				free(c2);
			}
		} else {
			failed++;
			cr_assert_lt(rc, 0, "%s", text);
			const char *m = folio_error_last();
			cr_assert(m[0] && strcmp(m, "unknown error"), "'%s' failed (%d) without a message",
				  text, rc);
			cr_expect_null(s.v);
			cr_expect_null(canon);
		}
		free(canon);
		folio_set_clear(&s);
	}
	cr_expect_eq(ok + failed, 2000);
	cr_expect_gt(ok, 100, "the mutations should leave some pipelines valid");
	cr_expect_gt(failed, 500);
}
