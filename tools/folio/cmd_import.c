/*
 * cmd_import.c — import: bringing an outside dataset into the stage.
 *
 * core/labels plans the import (folio_import_plan_make: which files to
 * copy, which label sources to declare; IDX files decoded); core/repo
 * stores the files with its pool of threads and merges them into the stage
 * (folio_repo_add), calling back here under the repository lock to write
 * .folio/dataset.json (folio_import_dataset_json) and from its threads to
 * encode IDX images as PNG (core/analysis). This file parses options,
 * wires those together and prints.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "folio/analysis.h"

#define DATASET_JSON ".folio/dataset.json"

const char *const usage_import =
	"usage: folio import --format FORMAT SRC [--as PATH] [options]\n"
	"\n"
	"Brings an outside dataset into the staged tree, laid out as it is, with\n"
	"its label files untouched (folio reads them in place), and declares its\n"
	"label sources in .folio/dataset.json (merged with what is there). Commit\n"
	"with `folio commit`; `folio labels :` shows what the stage's labels hold.\n"
	"\n"
	"Formats (docs/labels.md):\n"
	"  coco          SRC is a COCO instances JSON file (the images it names are\n"
	"                copied, found relative to it or to --images), or a folder\n"
	"                with COCO JSON files and images (copied whole)\n"
	"  coco-results  SRC is a COCO results JSON file (model predictions); it\n"
	"                goes to predictions/ unless --as says where\n"
	"  voc           SRC is a Pascal VOC folder: Annotations/ and JPEGImages/\n"
	"  yolo          SRC is a YOLO folder: images/ and labels/ (or .txt files\n"
	"                beside the images) and data.yaml, *.names or classes.txt\n"
	"  imagefolder   SRC is a folder of class folders, or of train/val/test\n"
	"                folders of class folders\n"
	"  native        SRC is a folder of images and folio label files\n"
	"  idx           SRC is a folder of MNIST-style IDX files (NAME-images-\n"
	"                idx3-ubyte and NAME-labels-idx1-ubyte, gzipped or not):\n"
	"                every image becomes <split>/<class>/<n>.png (train from\n"
	"                train*, test from t10k*), with Fashion-MNIST's class names\n"
	"                when the set is recognised and digits otherwise\n"
	"\n"
	"Options:\n"
	"  --format F        one of the formats above (required)\n"
	"  --as PATH         the folder the dataset goes to (default: the root)\n"
	"  --images DIR      coco: the folder file_name is relative to (default:\n"
	"                    the JSON file's folder)\n"
	"  --gt PATH         coco-results: the dataset path of the COCO instances\n"
	"                    file its ids refer to\n"
	"  --prediction      the labels are model predictions (kept apart from\n"
	"                    ground truth)\n"
	"  --limit N         idx: only the first N images of each file\n"
	"  -j, --jobs N      threads storing files (default: 2 x cores, at most 16)\n"
	"  -q, --quiet       no summary of the labels afterwards\n";

typedef struct import_state {
	cli_report rep;                  /* first: progress and warnings */
	const folio_import_plan *plan;
} import_state;

/* An IDX image as a PNG (from the pool's threads). */
static int make_png(void **out, size_t *len, const folio_add_job *job, void *payload)
{
	const import_state *s = payload;

	return folio_image_encode_png_gray(out, len, job->gen, s->plan->idx.cols, s->plan->idx.rows);
}

/* Under the repository lock: the stage's dataset.json with the plan's
 * sources and classes merged in. */
static int write_dataset_json(folio_tree *stage, folio_repo *repo, void *payload)
{
	const import_state *s = payload;
	const folio_entry *old = folio_tree_find(stage, DATASET_JSON);
	void *buf = NULL;
	size_t len = 0;
	char *text = NULL;
	int rc;

	if (old && (rc = folio_repo_content_cb(&buf, &len, old, repo)) < 0)
		return rc;
	if ((rc = folio_import_dataset_json(&text, &len, s->plan, old ? buf : NULL, len, stage)) == 0)
		rc = folio_stage_put_buf(stage, repo, DATASET_JSON, text, len);
	free(buf);
	free(text);
	return rc;
}

/* s without trailing slashes ("/" stays "/"). NULL: out of memory. */
static char *trimmed(const char *s)
{
	size_t l = strlen(s);

	while (l > 1 && s[l - 1] == '/')
		l--;
	return strndup(s, l);
}

int cmd_import(cli *c);
int cmd_import(cli *c)
{
	const char *format = NULL, *as_arg = NULL, *images = NULL, *gt = NULL;
	const char *limit_s = NULL, *jobs_s = NULL;
	int prediction = 0, quiet = 0;
	cli_opt opts[] = {
		{ "format", 'f', 1, &format, NULL },
		{ "as", 0, 1, &as_arg, NULL },
		{ "images", 0, 1, &images, NULL },
		{ "gt", 0, 1, &gt, NULL },
		{ "prediction", 0, 0, NULL, &prediction },
		{ "limit", 0, 1, &limit_s, NULL },
		{ "jobs", 'j', 1, &jobs_s, NULL },
		{ "quiet", 'q', 0, NULL, &quiet },
		{ 0 },
	};
	char **pos = NULL, *as = NULL, *src = NULL;
	int npos, rc = 0, code = EXIT_OK;
	folio_import_format fmt;
	folio_import_opts io = { .limit = -1 };
	folio_import_plan plan;
	folio_repo *repo = NULL;
	folio_add_jobs jobs = { 0 };
	folio_add_opts ao = { .what = "folio import", .follow_links = 1 };
	folio_add_stats st;
	import_state is = { .rep.cmd = "import", .plan = &plan };
	folio_tree stage;
	folio_labelset set;
	folio_label_summary sum;

	memset(&plan, 0, sizeof plan);
	memset(&set, 0, sizeof set);
	memset(&sum, 0, sizeof sum);
	folio_tree_init(&stage);
	if ((rc = cli_parse(c, opts, &pos, &npos)))
		return rc;
	if (!format) {
		code = cli_usage_error(c, "give the dataset's --format (coco, coco-results, voc, yolo, "
					  "imagefolder, native, idx)");
		goto out;
	}
	if (folio_import_format_parse(&fmt, format) < 0) {
		code = cli_usage_error(c, "unknown --format '%s' (coco, coco-results, voc, yolo, "
					  "imagefolder, native, idx)", format);
		goto out;
	}
	if (npos != 1) {
		code = cli_usage_error(c, "expected one SRC, got %d arguments", npos);
		goto out;
	}
	if (limit_s) {
		char *end;
		io.limit = strtol(limit_s, &end, 10);
		if (*end || io.limit < 0) {
			code = cli_usage_error(c, "--limit wants a number, not '%s'", limit_s);
			goto out;
		}
	}
	if (jobs_s && (code = cli_parse_jobs(c, jobs_s, &ao.threads)))
		goto out;
	/* --as: "" (the root) by default */
	if ((code = cli_as_arg(c, as_arg, 1, &as)))
		goto out;
	if (!(src = trimmed(pos[0]))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto fail;
	}
	io.as = as;
	io.images = images;
	io.gt = gt;
	io.prediction = prediction;
	io.warn = cli_report_warn;
	io.payload = &is.rep;
	if ((rc = folio_import_plan_make(&plan, fmt, src, &io)) < 0)
		goto fail;
	if (fmt == FOLIO_IMPORT_IDX)
		fprintf(stderr, "folio import: %s, %zu images of %dx%d\n",
			plan.idx.fashion ? "Fashion-MNIST" : "MNIST-style digits", plan.nfiles,
			plan.idx.cols, plan.idx.rows);

	ao.generate = make_png;
	ao.edit = write_dataset_json;
	ao.progress = cli_report_progress;
	ao.warn = cli_report_warn;
	ao.payload = &is;
	ao.stage_out = &stage;
	for (size_t i = 0; i < plan.nfiles && rc == 0; i++) {
		const folio_import_file *f = &plan.files[i];
		rc = f->folder ? folio_add_collect(&jobs, f->src, f->dest, &ao)
			       : folio_add_jobs_push(&jobs, f->src, f->dest, f->pixels);
	}
	if (rc < 0)
		goto fail;
	if (jobs.n == 0) {
		rc = folio_error_set(FOLIO_EINVAL, "nothing to import in %s", src);
		goto fail;
	}

	double t0 = now_seconds();
	if ((rc = cli_open_repo(&repo, c)) < 0)
		goto fail;
	progress_begin(&is.rep.pr, "import", jobs.n);
	rc = folio_repo_add(&st, repo, &jobs, &ao);
	progress_end(&is.rep.pr);
	if (rc < 0)
		goto fail;
	printf("imported %zu files from %s into %s in %.2f s\n", st.staged, src,
	       *as ? as : "the root", now_seconds() - t0);
	if (!quiet) {
		if ((rc = folio_labels_load(&set, &stage, cli_read_entry, repo)) < 0 ||
		    (rc = folio_labels_summary(&sum, &set, &stage)) < 0)
			goto fail;
		labels_print_summary(&set, &sum, 10);
	}
	goto out;

fail:
	code = cli_fail(rc);
out:
	folio_label_summary_clear(&sum);
	folio_labelset_clear(&set);
	folio_tree_clear(&stage);
	folio_add_jobs_clear(&jobs);
	folio_import_plan_clear(&plan);
	folio_repo_free(repo);
	free(as);
	free(src);
	free(pos);
	return code;
}
