/*
 * cmd_index.c — folio index: compute (or reuse) the image features of every
 * image of a version, warming the per-object cache in REPO/cache/features/.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "folio/analysis.h"
#include "folio/index.h"
#include "cli.h"

static void on_progress(size_t done, size_t total, void *payload)
{
	progress *p = payload;
	p->total = total;
	progress_update(p, done, 0);
}

const char *const usage_index =
	"usage: folio index [VERSION] [--no-pixels] [-j N] [--json]\n"
	"\n"
	"Builds the sample table of VERSION (default HEAD; ':' for the stage): the\n"
	"image features of every image, computed once per object id and cached in\n"
	"REPO/cache/features/, and its labels, cached with them per tree in\n"
	"REPO/cache/index/. A table is built from the last one built, so a version\n"
	"that changed 5% of its images costs about 5% of a full build. Views and\n"
	"`folio query` build it on first need; this command does it ahead of time,\n"
	"in parallel, with a progress bar on a terminal. docs/features.md lists\n"
	"the features.\n"
	"\n"
	"Options:\n"
	"  --no-pixels   header facts only (format, size, orientation, decodable)\n"
	"  -j, --jobs N  threads (default: one per core)\n"
	"  --json        {images, distinct, decodable, undecodable, computed, reused,\n"
	"                cached, labels_reused, label_errors, seconds}\n";

int cmd_index(cli *c);
int cmd_index(cli *c)
{
	int no_pixels = 0, json = 0;
	const char *jobs_s = NULL;
	cli_opt opts[] = {
		{ "no-pixels", 0, 0, NULL, &no_pixels },
		{ "jobs", 'j', 1, &jobs_s, NULL },
		{ "json", 0, 0, NULL, &json },
		{ 0 },
	};
	char **pos;
	int npos, rc;
	folio_repo *repo = NULL;
	folio_tree t;
	folio_oid *oids = NULL;
	folio_index *ix = NULL;
	int threads = 0;

	folio_tree_init(&t);
	if ((rc = cli_parse(c, opts, &pos, &npos)))
		return rc;
	if (npos > 1) {
		free(pos);
		return cli_usage_error(c, "give at most one VERSION");
	}
	if (jobs_s) {
		char *end;
		long v = strtol(jobs_s, &end, 10);
		if (*end || v < 1 || v > 256) {
			free(pos);
			return cli_usage_error(c, "--jobs wants a number from 1 to 256, not '%s'", jobs_s);
		}
		threads = (int)v;
	}
	if ((rc = cli_open_repo(&repo, c)) < 0 ||
	    (rc = cli_load_tree(&t, repo, npos ? pos[0] : "HEAD", NULL)) < 0 ||
	    (rc = folio_analysis_init()) < 0)
		goto fail;

	progress pr;
	folio_index_opts o = { .pixels = !no_pixels, .threads = threads,
			       .progress = on_progress, .payload = &pr };
	folio_index_stats st;
	progress_begin(&pr, "index", 0);
	rc = folio_index_open(&ix, &st, repo, &t, &o);
	progress_end(&pr);
	if (rc < 0)
		goto fail;
	/* distinct objects: identical content was computed once */
	size_t n = 0, bad = 0;
	if (!(oids = malloc((ix->nsamples ? ix->nsamples : 1) * sizeof *oids))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < ix->nsamples; i++)
		oids[n++] = ix->samples[i].oid;
	qsort(oids, n, sizeof *oids, (int (*)(const void *, const void *))folio_oid_cmp);
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (w == 0 || folio_oid_cmp(&oids[w - 1], &oids[i]) != 0)
			oids[w++] = oids[i];
	n = w;
	for (size_t i = 0; i < ix->nsamples; i++) {
		const folio_sample *s = &ix->samples[i];
		if (s->f.decodable)
			continue;
		/* count each undecodable object once */
		size_t k = 0;
		while (k < i && folio_oid_cmp(&ix->samples[k].oid, &s->oid))
			k++;
		bad += k == i;
	}
	if (json) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddNumberToObject(j, "images", (double)ix->nsamples);
		cJSON_AddNumberToObject(j, "distinct", (double)n);
		cJSON_AddNumberToObject(j, "decodable", (double)(n - bad));
		cJSON_AddNumberToObject(j, "undecodable", (double)bad);
		cJSON_AddNumberToObject(j, "computed", (double)st.computed);
		cJSON_AddNumberToObject(j, "reused", (double)st.features_reused);
		cJSON_AddBoolToObject(j, "cached", st.cached);
		cJSON_AddBoolToObject(j, "labels_reused", st.labels_reused);
		cJSON_AddNumberToObject(j, "label_errors", (double)ix->nerrors);
		cJSON_AddNumberToObject(j, "seconds", st.seconds);
		json_print(j);
	} else {
		printf("%zu images (%zu distinct): %zu decodable, %zu undecodable; %llu computed, "
		       "%zu from the cache, in %.2f s\n", ix->nsamples, n, n - bad, bad,
		       (unsigned long long)st.computed, n - (size_t)st.computed, st.seconds);
		if (st.cached)
			printf("sample table: cached\n");
		else
			printf("sample table: built, %zu rows reused from an earlier table, labels %s\n",
			       st.features_reused, st.labels_reused ? "reused" : "parsed");
		if (ix->nerrors)
			printf("%zu label problems (`folio labels VERSION --errors`)\n", ix->nerrors);
		for (size_t i = 0; i < ix->nsamples; i++)
			if (!ix->samples[i].f.decodable)
				printf("undecodable: %s\n", folio_index_path(ix, &ix->samples[i]));
	}
	rc = 0;
fail:
	folio_index_free(ix);
	free(oids);
	folio_tree_clear(&t);
	folio_repo_free(repo);
	free(pos);
	return rc < 0 ? cli_fail(rc) : EXIT_OK;
}
