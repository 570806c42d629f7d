/*
 * cmd_index.c — folio index: compute (or reuse) the image features of every
 * image of a version, warming the per-object cache in REPO/cache/features/.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "folio/analysis.h"
#include "cli.h"

static void on_progress(size_t done, void *payload)
{
	progress_update(payload, done, 0);
}

const char *const usage_index =
	"usage: folio index [VERSION] [--no-pixels] [-j N] [--json]\n"
	"\n"
	"Computes the image features of every image of VERSION (default HEAD;\n"
	"':' for the stage) and caches them by object id in REPO/cache/features/,\n"
	"so no version computes an image it has seen before. Features are also\n"
	"computed on first need; this command does them all at once, in parallel,\n"
	"with a progress bar on a terminal. docs/features.md lists the features.\n"
	"\n"
	"Options:\n"
	"  --no-pixels   header facts only (format, size, orientation, decodable)\n"
	"  -j, --jobs N  threads (default: one per core)\n"
	"  --json        {images, distinct, decodable, undecodable, computed, seconds}\n";

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
	folio_features *feat = NULL;
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

	/* Distinct image objects: identical content is computed once. */
	size_t images = 0, n = 0;
	if (!(oids = malloc((t.n ? t.n : 1) * sizeof *oids))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < t.n; i++) {
		if (t.v[i].kind != FOLIO_ENTRY_LFS || !folio_path_is_image(t.v[i].path))
			continue;
		images++;
		oids[n++] = t.v[i].oid;
	}
	qsort(oids, n, sizeof *oids, (int (*)(const void *, const void *))folio_oid_cmp);
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (w == 0 || folio_oid_cmp(&oids[w - 1], &oids[i]) != 0)
			oids[w++] = oids[i];
	n = w;
	if (!(feat = calloc(n ? n : 1, sizeof *feat))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto fail;
	}
	char cache[4200];
	snprintf(cache, sizeof cache, "%s/cache", repo->path);
	progress pr;
	progress_begin(&pr, "index", n);
	uint64_t before = folio_analysis_computed();
	double t0 = now_seconds();
	rc = folio_features_many(feat, repo->store, oids, n, cache, !no_pixels, threads, on_progress, &pr);
	double dt = now_seconds() - t0;
	progress_end(&pr);
	if (rc < 0)
		goto fail;
	size_t bad = 0;
	for (size_t i = 0; i < n; i++)
		bad += !feat[i].decodable;
	uint64_t computed = folio_analysis_computed() - before;
	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "images", (double)images);
		cJSON_AddNumberToObject(o, "distinct", (double)n);
		cJSON_AddNumberToObject(o, "decodable", (double)(n - bad));
		cJSON_AddNumberToObject(o, "undecodable", (double)bad);
		cJSON_AddNumberToObject(o, "computed", (double)computed);
		cJSON_AddNumberToObject(o, "seconds", dt);
		json_print(o);
	} else {
		printf("%zu images (%zu distinct): %zu decodable, %zu undecodable; %llu computed, "
		       "%zu from the cache, in %.2f s\n", images, n, n - bad, bad,
		       (unsigned long long)computed, n - (size_t)computed, dt);
		for (size_t i = 0; i < n && bad; i++)
			if (!feat[i].decodable) {
				char hex[FOLIO_OID_HEXSZ + 1];
				folio_oid_tohex(hex, &oids[i]);
				for (size_t k = 0; k < t.n; k++)
					if (!folio_oid_cmp(&t.v[k].oid, &oids[i])) {
						printf("undecodable: %s (%s)\n", t.v[k].path, feat[i].error);
						break;
					}
			}
	}
	rc = 0;
fail:
	free(feat);
	free(oids);
	folio_tree_free(&t);
	folio_repo_free(repo);
	free(pos);
	return rc < 0 ? cli_fail(rc) : EXIT_OK;
}
