/*
 * cmd_query.c — folio query (a pipeline's set without FUSE) and folio
 * slice (saved pipelines in the version's .folio/slices/).
 *
 * Both go through core/index and core/views, the code the mounted @-views
 * run, so `folio query HEAD @where/x` and `ls MNT/HEAD/@where/x` agree.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "folio/index.h"
#include "folio/views.h"
#include "cli.h"

#define SLICE_DIR ".folio/slices/"

typedef struct slicectx {
	folio_repo *repo;
	const folio_tree *tree;
} slicectx;

static int slice_read(char **out, size_t *len, const char *name, void *payload)
{
	slicectx *s = payload;
	char path[512];

	snprintf(path, sizeof path, SLICE_DIR "%s.json", name);
	const folio_entry *e = folio_tree_find(s->tree, path);
	if (!e)
		return folio_error_set(FOLIO_ENOTFOUND, "@slices/%s: no such slice (no %s in this "
				       "version; `folio slice list` shows the saved ones)", name, path);
	void *buf = NULL;
	int rc = folio_store_read_all(&buf, len, s->repo->store, &e->oid, (size_t)1 << 20);
	if (rc < 0)
		return rc;
	*out = buf;
	return 0;
}

static void index_progress(size_t done, size_t total, void *payload)
{
	(void)total;
	progress_update(payload, done, 0);
}

/* The table of a loaded tree, with a progress bar while features are
 * computed. */
static int open_index(folio_index **out, folio_repo *repo, const folio_tree *t,
		      folio_index_stats *st)
{
	progress pr;
	folio_index_opts o = { .pixels = 1, .progress = index_progress, .payload = &pr };
	progress_begin(&pr, "index", 0);
	int rc = folio_index_open(out, st, repo, t, &o);
	progress_end(&pr);
	return rc;
}

static cJSON *sample_json(const folio_index *ix, const folio_sample *s, const char *name)
{
	char hex[FOLIO_OID_HEXSZ + 1];
	cJSON *o = cJSON_CreateObject();

	folio_oid_tohex(hex, &s->oid);
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "path", folio_index_path(ix, s));
	cJSON_AddStringToObject(o, "sha256", hex);
	cJSON_AddNumberToObject(o, "size", (double)s->size);
	if (s->f.known && s->f.width > 0) {
		cJSON_AddNumberToObject(o, "width", s->f.width);
		cJSON_AddNumberToObject(o, "height", s->f.height);
	}
	cJSON *cls = cJSON_AddArrayToObject(o, "classes");
	uint32_t ids[256];
	size_t nc = folio_index_classes(ids, 256, ix, s->gt);
	for (size_t k = 0; k < nc && k < 256; k++)
		cJSON_AddItemToArray(cls, cJSON_CreateString(folio_index_str(ix, ids[k])));
	if (s->gt != FOLIO_NONE && ix->anns[s->gt].split != FOLIO_NONE)
		cJSON_AddStringToObject(o, "split", folio_index_str(ix, ix->anns[s->gt].split));
	return o;
}

const char *const usage_query =
	"usage: folio query VERSION [PIPELINE] [--json] [--count] [--facets FIELD]\n"
	"\n"
	"Prints the samples (image files) a view pipeline selects from VERSION\n"
	"(a branch, tag, commit id, HEAD~N, or ':' for the stage), one dataset\n"
	"path per line, in the set's order. It is the set that\n"
	"MNT/<version>/PIPELINE/ lists in a mount, computed without FUSE:\n"
	"\n"
	"  folio query HEAD @where/class=car,brightness=lt:0.2\n"
	"  folio query v3 @slices/night-cars/@sort/-blurriness/@limit/20\n"
	"  folio query HEAD @by/split/val --count\n"
	"  folio query HEAD --facets class\n"
	"\n"
	"Stages: @where/EXPR, @by/FIELD/VALUE, @slices/NAME, @sample/N[:SEED],\n"
	"@sort/[-]FIELD, @limit/N, @balance/FIELD[:SEED]. docs/queries.md has the\n"
	"expression language and every field. The version's sample table is\n"
	"built on first use (image features are computed once per image and\n"
	"cached; `folio index` does it ahead of time).\n"
	"\n"
	"Options:\n"
	"  --json           {version, pipeline (canonical), count, ordered, samples:\n"
	"                   [{name, path, sha256, size, width, height, classes, split}]}\n"
	"  --count          print only the number of samples\n"
	"  --facets FIELD   print each value of FIELD in the set with its count\n"
	"                   (class, split, tag, format, labeler, ...)\n";

int cmd_query(cli *c);
int cmd_query(cli *c)
{
	int json = 0, count = 0;
	const char *facets = NULL;
	cli_opt opts[] = {
		{ "json", 0, 0, NULL, &json },
		{ "count", 0, 0, NULL, &count },
		{ "facets", 0, 1, &facets, NULL },
		{ 0 },
	};
	char **pos = NULL;
	int npos, rc;
	folio_repo *repo = NULL;
	folio_tree t;
	folio_index *ix = NULL;
	folio_set set = { 0 };
	char *canon = NULL;
	char commit[FOLIO_COMMIT_HEXSZ + 1] = "";

	folio_tree_init(&t);
	if ((rc = cli_parse(c, opts, &pos, &npos)))
		return rc;
	if (npos < 1 || npos > 2) {
		free(pos);
		return cli_usage_error(c, "give a VERSION and at most one PIPELINE");
	}
	if ((rc = cli_open_repo(&repo, c)) < 0 ||
	    (rc = cli_load_tree(&t, repo, pos[0], commit)) < 0)
		goto fail;
	folio_index_stats st;
	if ((rc = open_index(&ix, repo, &t, &st)) < 0)
		goto fail;
	slicectx sc = { repo, &t };
	rc = folio_pipeline_run(&set, &canon, ix, npos > 1 ? pos[1] : "", slice_read, &sc);
	if (rc < 0) {
		/* the whole message, with the column, is the useful part */
		fprintf(stderr, "folio query: %s\n", folio_error_last());
		rc = rc == FOLIO_ENOTFOUND ? EXIT_NOTFOUND : EXIT_USAGE;
		goto out;
	}
	if (ix->nerrors && !json)
		fprintf(stderr, "folio query: warning: %zu label problem%s in this version "
			"(`folio labels %s --errors` lists them)\n", ix->nerrors,
			ix->nerrors > 1 ? "s" : "", pos[0]);
	if (facets) {
		folio_facet *fv = NULL;
		size_t nf = 0;
		if ((rc = folio_set_facets(&fv, &nf, ix, &set, facets)) < 0) {
			fprintf(stderr, "folio query: %s\n", folio_error_last());
			rc = EXIT_USAGE;
			goto out;
		}
		if (json) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "field", facets);
			cJSON *vals = cJSON_AddObjectToObject(o, "values");
			for (size_t i = 0; i < nf; i++)
				cJSON_AddNumberToObject(vals, fv[i].value, (double)fv[i].count);
			json_print(o);
		} else {
			for (size_t i = 0; i < nf; i++)
				printf("%zu\t%s\n", fv[i].count, fv[i].value);
		}
		folio_facets_free(fv, nf);
		rc = EXIT_OK;
		goto out;
	}
	if (count && !json) {
		printf("%zu\n", set.n);
		rc = EXIT_OK;
		goto out;
	}
	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "version", commit[0] ? commit : ":");
		cJSON_AddStringToObject(o, "pipeline", canon);
		cJSON_AddNumberToObject(o, "count", (double)set.n);
		cJSON_AddBoolToObject(o, "ordered", set.ordered);
		cJSON_AddNumberToObject(o, "label_errors", (double)ix->nerrors);
		if (!count) {
			cJSON *arr = cJSON_AddArrayToObject(o, "samples");
			for (size_t i = 0; i < set.n; i++) {
				char name[FOLIO_PATH_BUF];
				if (folio_set_name(name, sizeof name, ix, &set, i) < 0)
					continue;
				cJSON_AddItemToArray(arr, sample_json(ix, &ix->samples[set.v[i]], name));
			}
		}
		json_print(o);
	} else {
		for (size_t i = 0; i < set.n; i++)
			printf("%s\n", folio_index_path(ix, &ix->samples[set.v[i]]));
	}
	rc = EXIT_OK;
	goto out;
fail:
	rc = cli_fail(rc);
out:
	folio_set_clear(&set);
	free(canon);
	folio_index_free(ix);
	folio_tree_clear(&t);
	folio_repo_free(repo);
	free(pos);
	return rc;
}

const char *const usage_slice =
	"usage: folio slice save NAME PIPELINE [-m DESCRIPTION]\n"
	"       folio slice list [VERSION] [--json]\n"
	"       folio slice rm NAME\n"
	"\n"
	"A slice is a named pipeline kept in the dataset itself, in\n"
	".folio/slices/NAME.json, so it travels with every version that holds it.\n"
	"`save` checks the pipeline against the stage's sample table and stages\n"
	"the file (commit to record it); MNT/<version>/@slices/NAME/ and\n"
	"`folio query VERSION @slices/NAME` then list its samples. NAME is\n"
	"letters, digits, '.', '_' and '-'.\n"
	"\n"
	"  folio slice save night-cars @where/class=car,brightness=lt:0.2\n"
	"  folio slice list HEAD\n";

static int slice_list(cli *c, folio_repo *repo, const char *spec, int json)
{
	folio_tree t;
	int rc;
	(void)c;

	folio_tree_init(&t);
	if ((rc = cli_load_tree(&t, repo, spec, NULL)) < 0) {
		folio_tree_clear(&t);
		return cli_fail(rc);
	}
	cJSON *arr = json ? cJSON_CreateArray() : NULL;
	size_t pl = strlen(SLICE_DIR);
	slicectx sc = { repo, &t };
	for (size_t i = 0; i < t.n; i++) {
		const char *p = t.v[i].path;
		size_t n = strlen(p);
		if (strncmp(p, SLICE_DIR, pl) || n < pl + 6 || strcmp(p + n - 5, ".json") ||
		    strchr(p + pl, '/'))
			continue;
		char name[256];
		snprintf(name, sizeof name, "%.*s", (int)(n - pl - 5), p + pl);
		char *text = NULL;
		size_t len = 0;
		cJSON *j = NULL;
		if (slice_read(&text, &len, name, &sc) == 0)
			j = cJSON_ParseWithLength(text, len);
		free(text);
		const cJSON *pp = j ? cJSON_GetObjectItemCaseSensitive(j, "pipeline") : NULL;
		const cJSON *d = j ? cJSON_GetObjectItemCaseSensitive(j, "description") : NULL;
		const char *pipe = cJSON_IsString(pp) ? pp->valuestring : "(not a slice file)";
		if (json) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "name", name);
			cJSON_AddStringToObject(o, "pipeline", pipe);
			if (cJSON_IsString(d))
				cJSON_AddStringToObject(o, "description", d->valuestring);
			cJSON_AddItemToArray(arr, o);
		} else {
			printf("%s\t%s%s%s\n", name, pipe, cJSON_IsString(d) ? "\t" : "",
			       cJSON_IsString(d) ? d->valuestring : "");
		}
		cJSON_Delete(j);
	}
	if (json)
		json_print(arr);
	folio_tree_clear(&t);
	return EXIT_OK;
}

int cmd_slice(cli *c);
int cmd_slice(cli *c)
{
	const char *desc = NULL;
	int json = 0;
	cli_opt opts[] = {
		{ "message", 'm', 1, &desc, NULL },
		{ "json", 0, 0, NULL, &json },
		{ 0 },
	};
	char **pos = NULL;
	int npos, rc;
	folio_repo *repo = NULL;
	folio_tree stage;
	folio_index *ix = NULL;
	folio_set set = { 0 };
	char *canon = NULL, *text = NULL;
	char base[FOLIO_COMMIT_HEXSZ + 1];

	folio_tree_init(&stage);
	if ((rc = cli_parse(c, opts, &pos, &npos)))
		return rc;
	if (npos < 1) {
		free(pos);
		return cli_usage_error(c, "give save, list or rm");
	}
	const char *verb = pos[0];
	if (!strcmp(verb, "list")) {
		if (npos > 2) {
			free(pos);
			return cli_usage_error(c, "list takes at most one VERSION");
		}
		if ((rc = cli_open_repo(&repo, c)) < 0) {
			free(pos);
			return cli_fail(rc);
		}
		rc = slice_list(c, repo, npos > 1 ? pos[1] : ":", json);
		folio_repo_free(repo);
		free(pos);
		return rc;
	}
	int save = !strcmp(verb, "save");
	if (!save && strcmp(verb, "rm")) {
		free(pos);
		return cli_usage_error(c, "unknown action '%s' (save, list, rm)", verb);
	}
	if (npos != (save ? 3 : 2)) {
		free(pos);
		return cli_usage_error(c, save ? "save wants NAME and PIPELINE" : "rm wants NAME");
	}
	const char *name = pos[1];
	if (!folio_slice_name_valid(name)) {
		free(pos);
		return cli_usage_error(c, "'%s' is not a slice name (letters, digits, '.', '_', "
				       "'-'; not starting with '.')", name);
	}
	char path[512];
	snprintf(path, sizeof path, SLICE_DIR "%s.json", name);
	if ((rc = cli_open_repo(&repo, c)) < 0 ||
	    (rc = folio_stage_load(&stage, base, repo)) < 0)
		goto fail;
	if (save) {
		/* check it where it will live: against the stage */
		slicectx sc = { repo, &stage };
		folio_index_stats st;
		if ((rc = open_index(&ix, repo, &stage, &st)) < 0)
			goto fail;
		if ((rc = folio_pipeline_run(&set, &canon, ix, pos[2], slice_read, &sc)) < 0) {
			fprintf(stderr, "folio slice: %s\n", folio_error_last());
			rc = rc == FOLIO_ENOTFOUND ? EXIT_NOTFOUND : EXIT_USAGE;
			goto out;
		}
		if (!(text = folio_slice_json(pos[2], desc))) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto fail;
		}
	}
	if ((rc = folio_repo_lock(repo, "folio slice")) < 0)
		goto fail;
	/* reload under the lock: the stage may have moved meanwhile */
	folio_tree_clear(&stage);
	folio_tree_init(&stage);
	if ((rc = folio_stage_load(&stage, base, repo)) < 0)
		goto unlock;
	folio_entry *old = folio_tree_find(&stage, path);
	if (!save) {
		if (!old) {
			rc = folio_error_set(FOLIO_ENOTFOUND, "no slice '%s' in the stage", name);
			goto unlock;
		}
		folio_tree_remove_at(&stage, (size_t)(old - stage.v));
	} else {
		folio_entry e;
		memset(&e, 0, sizeof e);
		e.path = path;
		e.kind = FOLIO_ENTRY_BLOB;
		e.mode = FOLIO_MODE_FILE;
		e.size = strlen(text);
		if ((rc = folio_store_put_buf(&e.oid, repo->store, text, (size_t)e.size)) < 0 ||
		    (rc = folio_tree_push(&stage, &e)) < 0)
			goto unlock;
		folio_tree_sort(&stage);
		if ((rc = folio_tree_check_conflicts(&stage)) < 0)
			goto unlock;
	}
	rc = folio_stage_save(repo, &stage, base);
unlock:
	folio_repo_unlock(repo);
	if (rc < 0)
		goto fail;
	if (save)
		printf("saved slice %s (%zu samples in the stage): %s\n", name, set.n, canon);
	else
		printf("removed slice %s\n", name);
	printf("staged %s; `folio commit` records it\n", path);
	rc = EXIT_OK;
	goto out;
fail:
	rc = cli_fail(rc);
out:
	free(text);
	free(canon);
	folio_set_clear(&set);
	folio_index_free(ix);
	folio_tree_clear(&stage);
	folio_repo_free(repo);
	free(pos);
	return rc;
}
