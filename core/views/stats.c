/*
 * stats.c — @stats: the statistics of a set as files: summary.json,
 * classes.csv, features.csv, samples.csv, PNG plots (core/analysis'
 * renderer), a contact sheet of up to 64 members, and index.html showing
 * them (docs/views.md lists them).
 *
 * Everything is computed from the sample table in one pass; nothing here
 * reads images except the contact sheet, which reads the raw objects of
 * the store directly. The files go to the generated-files store, so the
 * daemon serves them and `folio query ... @stats --out DIR` writes them.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "folio/error.h"
#include "folio/render.h"
#include "folio/util.h"
#include "folio/views.h"
#include "views_int.h"

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(const double *sorted, size_t n, double p)
{
	if (!n)
		return NAN;
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return sorted[i < n ? i : n - 1];
}

typedef struct outb {
	folio_tree *files;
	folio_view_ctx *ctx;
	int err;
	char why[256];       /* the last plot that could not be drawn */
} outb;

/* Stores buf (malloc'd, freed here) as the file name. */
static void out_take(outb *o, const char *name, void *buf, size_t len)
{
	if (!o->err) {
		int rc = folio_view_put(o->files, o->ctx, name, buf, len);
		if (rc < 0)
			o->err = rc;
	}
	free(buf);
}

static void out_sb(outb *o, const char *name, folio_buf *b)
{
	char *text = NULL;
	size_t len = 0;
	int rc = folio_buf_finish(&text, &len, b);

	if (rc < 0) {
		if (!o->err)
			o->err = rc;
	} else {
		out_take(o, name, text, len);
	}
	folio_buf_init(b, "statistics");
}

/* A plot that cannot be drawn is left out (a missing plot is not a
 * missing statistic); its reason is kept for the caller's log. */
static void out_png(outb *o, const char *name, void *buf, size_t len, int rc)
{
	if (rc < 0) {
		snprintf(o->why, sizeof o->why, "%s: %s", name, folio_error_last());
		return;
	}
	out_take(o, name, buf, len);
}

/* The file of a sample's image, for the contact sheet (raw objects only). */
static int image_path(char *buf, size_t size, const folio_sample *s, folio_view_ctx *ctx)
{
	folio_object_info info;

	if (!ctx->repo || folio_store_stat(&info, ctx->repo->store, &s->oid) < 0 ||
	    info.form != FOLIO_OBJECT_RAW) {
		folio_error_clear();
		return -1;
	}
	return folio_path_format(buf, size, "%s", info.path);
}

static void gen_stats(outb *o, const char *version, const char *pipeline,
		      const folio_index *ix, const folio_set *set)
{
	size_t ncls = ix->nclasses;
	size_t *img = calloc(ncls + 1, sizeof *img), *obj = calloc(ncls + 1, sizeof *obj);
	double *vals = malloc((set->n ? set->n : 1) * sizeof *vals);
	size_t labeled = 0, objects = 0, decodable = 0, known = 0;
	cJSON *sum = cJSON_CreateObject();
	folio_buf csv;
	folio_buf_init(&csv, "statistics");

	if (!img || !obj || !vals || !sum) {
		o->err = FOLIO_ENOMEM;
		goto done;
	}
	for (size_t i = 0; i < set->n; i++) {
		const folio_sample *s = &ix->samples[set->v[i]];
		known += s->f.known;
		decodable += s->f.known && s->f.decodable;
		if (s->gt == FOLIO_NONE)
			continue;
		labeled++;
		const folio_iann *a = &ix->anns[s->gt];
		objects += a->obj_count;
		for (size_t c = 0; c < ncls; c++) {
			size_t cnt = 0;
			for (uint32_t k = 0; k < a->obj_count; k++)
				cnt += ix->objs[a->obj_first + k].cls == ix->classes[c];
			obj[c] += cnt;
			img[c] += cnt > 0;
		}
	}
	cJSON_AddStringToObject(sum, "version", version);
	cJSON_AddStringToObject(sum, "pipeline", pipeline);
	cJSON_AddNumberToObject(sum, "samples", (double)set->n);
	cJSON_AddNumberToObject(sum, "labeled", (double)labeled);
	cJSON_AddNumberToObject(sum, "unlabeled", (double)(set->n - labeled));
	cJSON_AddNumberToObject(sum, "objects", (double)objects);
	cJSON_AddNumberToObject(sum, "decodable", (double)decodable);
	cJSON_AddNumberToObject(sum, "undecodable", (double)(known - decodable));
	cJSON_AddNumberToObject(sum, "label_errors", (double)ix->nerrors);
	cJSON *cj = cJSON_AddObjectToObject(sum, "classes");
	folio_buf_printf(&csv, "class,images,objects\n");
	for (size_t c = 0; c < ncls; c++) {
		const char *nm = folio_index_str(ix, ix->classes[c]);
		cJSON *e = cJSON_AddObjectToObject(cj, nm);
		cJSON_AddNumberToObject(e, "images", (double)img[c]);
		cJSON_AddNumberToObject(e, "objects", (double)obj[c]);
		folio_buf_csv(&csv, nm);
		folio_buf_printf(&csv, ",%zu,%zu\n", img[c], obj[c]);
	}
	out_sb(o, "classes.csv", &csv);
	{
		const char **labels = calloc(ncls + 1, sizeof *labels);
		double *counts = calloc(ncls + 1, sizeof *counts);
		void *png = NULL;
		size_t len = 0;
		if (labels && counts) {
			for (size_t c = 0; c < ncls; c++) {
				labels[c] = folio_index_str(ix, ix->classes[c]);
				counts[c] = (double)obj[c];
			}
			int rc = folio_render_bars(&png, &len, "objects per class", labels, counts, ncls);
			out_png(o, "classes.png", png, len, rc);
		}
		free(labels);
		free(counts);
	}
	/* facets of one value per image */
	static const char *const facets[] = { "split", "format" };
	for (size_t k = 0; k < 2; k++) {
		folio_facet *fv = NULL;
		size_t nf = 0;
		cJSON *fj = cJSON_AddObjectToObject(sum, k ? "formats" : "splits");
		if (folio_set_facets(&fv, &nf, ix, set, facets[k]) == 0)
			for (size_t i = 0; i < nf; i++)
				cJSON_AddNumberToObject(fj, fv[i].value, (double)fv[i].count);
		folio_facets_free(fv, nf);
	}
	/* per-feature distribution */
	cJSON *fj = cJSON_AddObjectToObject(sum, "features");
	folio_buf_printf(&csv, "feature,count,min,p05,p50,p95,max,mean\n");
	for (size_t k = 0; k < views_nfeatures + 2; k++) {
		const char *fname = k < views_nfeatures ? views_feature_cols[k].name : k == views_nfeatures ? "width" : "height";
		size_t n = 0;
		double mean = 0;
		for (size_t i = 0; i < set->n; i++) {
			const folio_ifeat *fe = &ix->samples[set->v[i]].f;
			if (k < views_nfeatures ? !fe->has_pixels : (!fe->known || fe->width <= 0))
				continue;
			vals[n] = k < views_nfeatures ? views_feature_get(fe, k) : k == views_nfeatures ? fe->width : fe->height;
			mean += vals[n++];
		}
		if (!n)
			continue;
		mean /= (double)n;
		qsort(vals, n, sizeof *vals, dbl_cmp);
		cJSON *e = cJSON_AddObjectToObject(fj, fname);
		cJSON_AddNumberToObject(e, "count", (double)n);
		cJSON_AddNumberToObject(e, "min", vals[0]);
		cJSON_AddNumberToObject(e, "p05", pct(vals, n, 0.05));
		cJSON_AddNumberToObject(e, "p50", pct(vals, n, 0.5));
		cJSON_AddNumberToObject(e, "p95", pct(vals, n, 0.95));
		cJSON_AddNumberToObject(e, "max", vals[n - 1]);
		cJSON_AddNumberToObject(e, "mean", mean);
		folio_buf_printf(&csv, "%s,%zu,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n", fname, n, vals[0],
			  pct(vals, n, 0.05), pct(vals, n, 0.5), pct(vals, n, 0.95), vals[n - 1], mean);
		if (k == 0 || k == views_nfeatures) {
			void *png = NULL;
			size_t len = 0;
			int rc = k == 0 ?
				folio_render_histogram(&png, &len, "mean brightness", "luma (0..1)",
						       vals, n, 40, 0.0, 1.0) :
				folio_render_histogram(&png, &len, "image width", "pixels", vals, n, 40,
						       0.0, vals[n - 1] > 0 ? vals[n - 1] : 1.0);
			out_png(o, k == 0 ? "brightness.png" : "sizes.png", png, len, rc);
		}
	}
	out_sb(o, "features.csv", &csv);
	/* per-sample table, for pandas and spreadsheets */
	folio_buf_printf(&csv, "path,sha256,size,format,width,height,labeled,objects,classes");
	for (size_t k = 0; k < views_nfeatures; k++)
		folio_buf_printf(&csv, ",%s", views_feature_cols[k].name);
	folio_buf_printf(&csv, "\n");
	for (size_t i = 0; i < set->n; i++) {
		const folio_sample *s = &ix->samples[set->v[i]];
		char hex[FOLIO_OID_HEXSZ + 1], classes[1024] = "";
		size_t used = 0;
		folio_oid_tohex(hex, &s->oid);
		uint32_t nobj = 0;
		uint32_t ids[256];
		size_t nc = folio_index_classes(ids, 256, ix, s->gt);
		if (s->gt != FOLIO_NONE)
			nobj = ix->anns[s->gt].obj_count;
		for (size_t k = 0; k < nc && k < 256; k++) {
			int w = snprintf(classes + used, sizeof classes - used, "%s%s", used ? ";" : "",
					 folio_index_str(ix, ids[k]));
			if (w > 0 && (size_t)w < sizeof classes - used)
				used += (size_t)w;
		}
		folio_buf_csv(&csv, folio_index_path(ix, s));
		folio_buf_printf(&csv, ",%s,%llu,%s,%d,%d,%d,%u,", hex, (unsigned long long)s->size,
			  s->f.format, s->f.width, s->f.height, s->gt != FOLIO_NONE, nobj);
		folio_buf_csv(&csv, classes);
		for (size_t k = 0; k < views_nfeatures; k++) {
			if (s->f.has_pixels)
				folio_buf_printf(&csv, ",%.6g", views_feature_get(&s->f, k));
			else
				folio_buf_printf(&csv, ",");
		}
		folio_buf_printf(&csv, "\n");
	}
	out_sb(o, "samples.csv", &csv);
	/* a contact sheet of up to 64 members, drawn the same way each time */
	{
		folio_set pick = { 0 };
		if (folio_set_sample(&pick, ix, set, 64, 0) == 0) {
			const char **paths = calloc(pick.n + 1, sizeof *paths);
			const char **caps = calloc(pick.n + 1, sizeof *caps);
			size_t np = 0;
			for (size_t i = 0; paths && caps && i < pick.n; i++) {
				const folio_sample *s = &ix->samples[pick.v[i]];
				char path[FOLIO_PATH_BUF];
				if (image_path(path, sizeof path, s, o->ctx) < 0)
					continue;
				paths[np] = strdup(path);
				const char *p = folio_index_path(ix, s), *sl = strrchr(p, '/');
				caps[np] = sl ? sl + 1 : p;
				if (paths[np])
					np++;
			}
			if (paths && caps) {
				void *jpg = NULL;
				size_t len = 0;
				int rc = folio_render_mosaic(&jpg, &len, paths, caps, np, 128, 0);
				out_png(o, "mosaic.jpg", jpg, len, rc);
			}
			for (size_t i = 0; paths && i < np; i++)
				free((char *)paths[i]);
			free(paths);
			free(caps);
			folio_set_clear(&pick);
		}
	}
	if (o->why[0])
		cJSON_AddStringToObject(sum, "plot_error", o->why);
	char *js = cJSON_Print(sum);
	if (js) {
		size_t l = strlen(js);
		js[l] = '\n';   /* cJSON_Print's NUL becomes the newline */
		out_take(o, "summary.json", js, l + 1);
	} else {
		o->err = FOLIO_ENOMEM;
	}
	/* index.html: the summary and the plots */
	folio_buf_printf(&csv, "<!doctype html>\n<html><head><meta charset=\"utf-8\">\n"
		  "<title>folio statistics</title>\n<style>body{font-family:sans-serif;"
		  "margin:2em;color:#222}table{border-collapse:collapse}td,th{border:1px "
		  "solid #ccc;padding:4px 8px;text-align:right}th{background:#eee}"
		  "td:first-child{text-align:left}img{max-width:100%%;margin:1em 0}</style>\n"
		  "</head><body>\n<h1>Statistics</h1>\n<p>version <code>");
	folio_buf_html(&csv, version);
	folio_buf_printf(&csv, "</code>, pipeline <code>");
	folio_buf_html(&csv, *pipeline ? pipeline : "(whole version)");
	folio_buf_printf(&csv, "</code></p>\n<table id=\"summary\"><tr><th>samples</th><th>labeled</th>"
		  "<th>objects</th><th>classes</th><th>undecodable</th><th>label errors</th></tr>\n"
		  "<tr><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td>"
		  "</tr></table>\n<h2>Classes</h2>\n<table id=\"classes\"><tr><th>class</th>"
		  "<th>images</th><th>objects</th></tr>\n", set->n, labeled, objects, ncls,
		  known - decodable, ix->nerrors);
	for (size_t c = 0; c < ncls; c++) {
		folio_buf_printf(&csv, "<tr><td>");
		folio_buf_html(&csv, folio_index_str(ix, ix->classes[c]));
		folio_buf_printf(&csv, "</td><td>%zu</td><td>%zu</td></tr>\n", img[c], obj[c]);
	}
	folio_buf_printf(&csv, "</table>\n<img src=\"classes.png\" alt=\"objects per class\">\n"
		  "<h2>Images</h2>\n<img src=\"sizes.png\" alt=\"image widths\">\n"
		  "<img src=\"brightness.png\" alt=\"brightness\">\n<h2>A sample</h2>\n"
		  "<img src=\"mosaic.jpg\" alt=\"contact sheet\">\n<p>Tables: "
		  "<a href=\"summary.json\">summary.json</a>, <a href=\"classes.csv\">classes.csv</a>, "
		  "<a href=\"features.csv\">features.csv</a>, <a href=\"samples.csv\">samples.csv</a>"
		  "</p>\n</body></html>\n");
	out_sb(o, "index.html", &csv);
done:
	cJSON_Delete(sum);
	free(img);
	free(obj);
	free(vals);
	free(csv.p);
}


static int stats_output(folio_view_out *out, folio_view_ctx *ctx, const folio_view_input *in,
			const char *const *args, size_t nargs)
{
	const folio_index *ix;
	outb o = { &out->files, ctx, 0, "" };
	int rc;

	(void)args;
	(void)nargs;
	if ((rc = views_table(&ix, ctx, "@stats")) < 0)
		return rc;
	gen_stats(&o, ctx->version ? ctx->version : "", in->pipeline ? in->pipeline : "", ix,
		  in->set);
	if (o.err)
		return o.err == FOLIO_ENOMEM ? folio_error_set(FOLIO_ENOMEM, "@stats: out of memory")
					     : o.err;
	return 0;
}

const folio_view views_stats = {
	.name = "@stats",
	.kind = FOLIO_VIEW_OUTPUT,
	.arity = 0,
	.summary = "statistics of the set: summary.json, CSV tables, plots, index.html",
	.output = stats_output,
};
