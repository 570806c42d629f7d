/*
 * cmd_query.c — folio query (what a path of views shows, without FUSE)
 * and folio slice (saved pipelines in the version's .folio/slices/).
 *
 * Both go through core/views, the code the mounted @-views run, so
 * `folio query HEAD @where/x` and `ls MNT/HEAD/@where/x` agree, and every
 * output the mount shows (@stats, @export/FORMAT, @preview, @history) can
 * be written out with --out.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "folio/index.h"
#include "folio/views.h"
#include "cli.h"

static void index_progress(size_t done, size_t total, void *payload)
{
	(void)total;
	progress_update(payload, done, 0);
}

/* A context over a loaded tree: the table is opened (with a progress bar
 * while features are computed) only when a view needs it. */
typedef struct qctx {
	folio_view_ctx c;        /* first: core hands it back to index() */
	folio_index *ix;
	folio_store *gen;
} qctx;

static int qctx_index(const folio_index **out, folio_view_ctx *c)
{
	qctx *q = (qctx *)c;
	progress pr;
	folio_index_opts o = { .pixels = 1, .progress = index_progress, .payload = &pr };
	folio_index_stats st;

	progress_begin(&pr, "index", 0);
	int rc = folio_index_open(&q->ix, &st, c->repo, c->tree, &o);
	progress_end(&pr);
	*out = q->ix;
	return rc;
}

static int qctx_init(qctx *q, folio_repo *repo, const folio_tree *t, const char *version)
{
	char gen[FOLIO_PATH_BUF];
	int rc;

	memset(q, 0, sizeof *q);
	q->c.repo = repo;
	q->c.repo_path = repo->path;
	q->c.tree = t;
	q->c.version = version;
	q->c.index = qctx_index;
	/* generated files go where the daemon keeps them, so both share them */
	if ((rc = folio_cache_mkdir(repo->path, FOLIO_CACHE_OBJECTS)) < 0 ||
	    (rc = folio_cache_path(gen, sizeof gen, repo->path, FOLIO_CACHE_OBJECTS, NULL)) < 0 ||
	    (rc = folio_store_open(&q->gen, gen, 1)) < 0)
		return rc;
	q->c.gen = q->gen;
	return 0;
}

static void qctx_clear(qctx *q)
{
	folio_index_free(q->ix);
	folio_store_free(q->gen);
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
	"                   [--out DIR] [--prefix DIR]\n"
	"\n"
	"Shows what MNT/<version>/PIPELINE/ shows in a mount, computed without\n"
	"FUSE. VERSION is a branch, tag, commit id, HEAD~N, or ':' for the stage.\n"
	"\n"
	"A PIPELINE of stages selects samples (image files); they are printed one\n"
	"dataset path per line, in the set's order:\n"
	"\n"
	"  folio query HEAD @where/class=car,brightness=lt:0.2\n"
	"  folio query v3 @slices/night-cars/@sort/-blurriness/@limit/20\n"
	"  folio query HEAD @by/split/val --count\n"
	"  folio query HEAD --facets class\n"
	"\n"
	"A PIPELINE may end in an output: its files are listed (name and size),\n"
	"a one-file output is printed, and --out DIR writes them:\n"
	"\n"
	"  folio query v3 @slices/train/@export/yolo --out /data/train-yolo\n"
	"  folio query HEAD @where/split=val/@stats --out /tmp/val-stats\n"
	"  folio query HEAD @export/manifest.csv > manifest.csv\n"
	"  folio query v1 @history/cats/0001.jpg\n"
	"\n"
	"Stages: @where/EXPR, @by/FIELD/VALUE, @slices/NAME, @sample/N[:SEED],\n"
	"@sort/[-]FIELD, @limit/N, @balance/FIELD[:SEED], @issues/TYPE. Outputs:\n"
	"@stats, @export/FORMAT (coco, yolo, voc, imagefolder, files.txt,\n"
	"manifest.csv), @preview, @history/PATH. docs/views.md has them all and\n"
	"docs/queries.md the expression language. The version's sample table is\n"
	"built on first use (image features are computed once per image and\n"
	"cached; `folio index` does it ahead of time).\n"
	"\n"
	"Options:\n"
	"  --json           stages: {version, pipeline (canonical), count, ordered,\n"
	"                   samples: [{name, path, sha256, size, width, height,\n"
	"                   classes, split}]}; outputs: {version, pipeline, output,\n"
	"                   files: [{name, size, sha256}]}\n"
	"  --count          print only the number of samples (or output files)\n"
	"  --facets FIELD   print each value of FIELD in the set with its count\n"
	"                   (class, split, tag, format, labeler, ...)\n"
	"  --out DIR        write the output's files into DIR (made if absent; must\n"
	"                   be empty); after stages only, the set's files under\n"
	"                   their names in the set\n"
	"  --prefix DIR     the absolute folder the set is read at, for files.txt\n"
	"                   (default: the set's folder in a mount of this\n"
	"                   repository, when one is mounted)\n";

/* The set's folder in a mount of this repository, for files.txt. */
static int default_prefix(char *out, size_t size, folio_repo *repo, const char *commit,
			  const char *canon)
{
	char mnt[FOLIO_PATH_MAX];
	if (folio_mount_of_repo(mnt, sizeof mnt, repo->path) != 1)
		return 0;
	if (!commit[0])
		return folio_path_format(out, size, "%s/.stage%s%s", mnt, *canon ? "/" : "", canon) == 0;
	return folio_path_format(out, size, "%s/commits/%s%s%s", mnt, commit, *canon ? "/" : "",
				 canon) == 0;
}

/* The set's members as an output: the files under their names in the set. */
static int set_files(folio_view_out *out, const folio_index *ix, const folio_set *set,
		     const folio_tree *t)
{
	memset(out, 0, sizeof *out);
	folio_tree_init(&out->files);
	for (size_t i = 0; i < set->n; i++) {
		char name[FOLIO_PATH_BUF];
		const folio_entry *e = folio_tree_find(t, folio_index_path(ix, &ix->samples[set->v[i]]));
		int rc;
		if (!e)
			continue;
		if ((rc = folio_set_name(name, sizeof name, ix, set, i)) < 0)
			return rc;
		folio_entry c = *e;
		c.path = name;
		if ((rc = folio_tree_push(&out->files, &c)) < 0)
			return rc;
	}
	folio_tree_sort(&out->files);
	return 0;
}

/* Prints a one-file output's bytes to stdout. */
static int cat_file(qctx *q, const folio_entry *e)
{
	folio_store *st = folio_store_exists(q->c.repo->store, &e->oid) ? q->c.repo->store : q->gen;
	folio_reader *r = NULL;
	char buf[1 << 16];
	int rc;

	if ((rc = folio_store_open_reader(&r, st, &e->oid, 1)) < 0)
		return rc;
	for (;;) {
		ssize_t n = folio_reader_read(r, buf, sizeof buf);
		if (n < 0) {
			rc = (int)n;
			break;
		}
		if (n == 0)
			break;
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
			rc = folio_error_set(FOLIO_EIO, "cannot write to standard output");
			break;
		}
	}
	folio_reader_free(r);
	return rc;
}

static int print_output(qctx *q, const folio_pipeline *p, const folio_view_out *o,
			const char *version, int json, int count)
{
	if (count && !json) {
		printf("%zu\n", o->files.n);
		return 0;
	}
	if (json) {
		cJSON *top = cJSON_CreateObject();
		cJSON_AddStringToObject(top, "version", version[0] ? version : ":");
		cJSON_AddStringToObject(top, "pipeline", p->canon);
		char *what = NULL;
		size_t wl = 0;
		FILE *m = open_memstream(&what, &wl);
		if (m) {
			fputs(p->output->name, m);
			for (size_t i = 0; i < p->nargs; i++)
				fprintf(m, "/%s", p->args[i]);
			fclose(m);
		}
		cJSON_AddStringToObject(top, "output", what ? what : p->output->name);
		free(what);
		cJSON_AddNumberToObject(top, "count", (double)o->files.n);
		if (!count) {
			cJSON *arr = cJSON_AddArrayToObject(top, "files");
			for (size_t i = 0; i < o->files.n; i++) {
				char hex[FOLIO_OID_HEXSZ + 1];
				cJSON *f = cJSON_CreateObject();
				folio_oid_tohex(hex, &o->files.v[i].oid);
				cJSON_AddStringToObject(f, "name", o->files.v[i].path);
				cJSON_AddNumberToObject(f, "size", (double)o->files.v[i].size);
				cJSON_AddStringToObject(f, "sha256", hex);
				cJSON_AddItemToArray(arr, f);
			}
		}
		json_print(top);
		return 0;
	}
	if (o->single && o->files.n == 1)
		return cat_file(q, &o->files.v[0]);
	for (size_t i = 0; i < o->files.n; i++) {
		char sz[32];
		human_size(sz, sizeof sz, o->files.v[i].size);
		printf("%s\t%s\n", o->files.v[i].path, sz);
	}
	return 0;
}

/* The pipeline ends in an output: list, print or write it. */
static int run_output(qctx *q, folio_pipeline *p, const char *version, const char *out_dir,
		      const char *prefix_arg, int json, int count)
{
	char prefix[FOLIO_PATH_BUF];
	folio_view_out o = { 0 };
	int rc;

	folio_tree_init(&o.files);
	folio_view_input in = { &p->set, p->canon, NULL };
	if (prefix_arg) {
		if (prefix_arg[0] != '/') {
			rc = folio_error_set(FOLIO_EINVAL, "--prefix %s: give an absolute folder",
					     prefix_arg);
			goto done;
		}
		in.prefix = prefix_arg;
	} else if (default_prefix(prefix, sizeof prefix, q->c.repo, version, p->canon)) {
		in.prefix = prefix;
	}
	if ((rc = folio_view_output(&o, &q->c, p->output, &in, (const char *const *)p->args,
				    p->nargs)) < 0)
		goto done;
	if (o.skipped)
		fprintf(stderr, "folio query: %zu labels could not be written in this format "
			"(docs/exports.md says which and why)\n", o.skipped);
	if (out_dir || (o.single && !json && !count)) {
		progress pr;
		progress_begin(&pr, "render", o.files.n);
		rc = folio_view_render_all(&o, &q->c, p->output, (const char *const *)p->args,
					   p->nargs);
		progress_end(&pr);
		if (rc < 0)
			goto done;
	}
	if (out_dir) {
		size_t n = 0;
		if ((rc = folio_view_write(&n, &q->c, &o, out_dir)) < 0)
			goto done;
		if (!json)
			printf("wrote %zu files to %s\n", n, out_dir);
		else
			rc = print_output(q, p, &o, version, json, count);
		goto done;
	}
	rc = print_output(q, p, &o, version, json, count);
done:
	folio_view_out_clear(&o);
	return rc;
}

int cmd_query(cli *c);
int cmd_query(cli *c)
{
	int json = 0, count = 0;
	const char *facets = NULL, *out_dir = NULL, *prefix = NULL;
	cli_opt opts[] = {
		{ "json", 0, 0, NULL, &json },
		{ "count", 0, 0, NULL, &count },
		{ "facets", 0, 1, &facets, NULL },
		{ "out", 'o', 1, &out_dir, NULL },
		{ "prefix", 0, 1, &prefix, NULL },
		{ 0 },
	};
	char **pos = NULL;
	int npos, rc;
	folio_repo *repo = NULL;
	folio_tree t;
	qctx q;
	folio_pipeline p = { 0 };
	const folio_index *ix = NULL;
	char commit[FOLIO_COMMIT_HEXSZ + 1] = "";
	int have_ctx = 0;

	folio_tree_init(&t);
	if ((rc = cli_parse(c, opts, &pos, &npos)))
		return rc;
	if (npos < 1 || npos > 2) {
		free(pos);
		return cli_usage_error(c, "give a VERSION and at most one PIPELINE");
	}
	if ((rc = cli_open_repo(&repo, c)) < 0 ||
	    (rc = cli_load_tree(&t, repo, pos[0], commit)) < 0 ||
	    (rc = qctx_init(&q, repo, &t, commit)) < 0)
		goto fail;
	have_ctx = 1;
	rc = folio_pipeline_resolve(&p, &q.c, npos > 1 ? pos[1] : "");
	if (rc < 0) {
		/* the whole message, with the column, is the useful part */
		fprintf(stderr, "folio query: %s\n", folio_error_last());
		rc = rc == FOLIO_ENOTFOUND ? EXIT_NOTFOUND : EXIT_USAGE;
		goto out;
	}
	ix = q.c.ix;
	if (ix && ix->nerrors && !json)
		fprintf(stderr, "folio query: warning: %zu label problem%s in this version "
			"(`folio labels %s --errors` lists them)\n", ix->nerrors,
			ix->nerrors > 1 ? "s" : "", pos[0]);
	if (p.output) {
		if (facets) {
			rc = cli_usage_error(c, "--facets is for a set, not an output (%s)",
					     p.output->name);
			goto out;
		}
		if ((rc = run_output(&q, &p, commit, out_dir, prefix, json, count)) < 0)
			goto fail;
		rc = EXIT_OK;
		goto out;
	}
	if (facets) {
		folio_facet *fv = NULL;
		size_t nf = 0;
		if ((rc = folio_set_facets(&fv, &nf, ix, &p.set, facets)) < 0) {
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
	if (out_dir) {
		folio_view_out o;
		size_t n = 0;
		if ((rc = set_files(&o, ix, &p.set, &t)) == 0)
			rc = folio_view_write(&n, &q.c, &o, out_dir);
		folio_view_out_clear(&o);
		if (rc < 0)
			goto fail;
		printf("wrote %zu files to %s\n", n, out_dir);
		rc = EXIT_OK;
		goto out;
	}
	if (count && !json) {
		printf("%zu\n", p.set.n);
		rc = EXIT_OK;
		goto out;
	}
	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "version", commit[0] ? commit : ":");
		cJSON_AddStringToObject(o, "pipeline", p.canon);
		cJSON_AddNumberToObject(o, "count", (double)p.set.n);
		cJSON_AddBoolToObject(o, "ordered", p.set.ordered);
		cJSON_AddNumberToObject(o, "label_errors", (double)ix->nerrors);
		if (!count) {
			cJSON *arr = cJSON_AddArrayToObject(o, "samples");
			for (size_t i = 0; i < p.set.n; i++) {
				char name[FOLIO_PATH_BUF];
				if (folio_set_name(name, sizeof name, ix, &p.set, i) < 0)
					continue;
				cJSON_AddItemToArray(arr, sample_json(ix, &ix->samples[p.set.v[i]], name));
			}
		}
		json_print(o);
	} else {
		for (size_t i = 0; i < p.set.n; i++)
			printf("%s\n", folio_index_path(ix, &ix->samples[p.set.v[i]]));
	}
	rc = EXIT_OK;
	goto out;
fail:
	rc = cli_fail(rc);
out:
	folio_pipeline_clear(&p);
	if (have_ctx)
		qctx_clear(&q);
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

static int slice_list(folio_repo *repo, const char *spec, int json)
{
	folio_tree t;
	char **names = NULL;
	size_t n = 0;
	int rc;

	folio_tree_init(&t);
	if ((rc = cli_load_tree(&t, repo, spec, NULL)) < 0 ||
	    (rc = folio_slices_list(&names, &n, &t)) < 0) {
		folio_tree_clear(&t);
		return cli_fail(rc);
	}
	folio_view_ctx ctx = { .repo = repo, .tree = &t };
	cJSON *arr = json ? cJSON_CreateArray() : NULL;
	for (size_t i = 0; i < n; i++) {
		char *text = NULL, *pipe = NULL, *desc = NULL;
		size_t len = 0;
		if (folio_slice_read(&text, &len, &ctx, names[i]) == 0)
			folio_slice_parse(&pipe, &desc, text, len, names[i]);
		const char *shown = pipe ? pipe : "(not a slice file)";
		if (json) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "name", names[i]);
			cJSON_AddStringToObject(o, "pipeline", shown);
			if (desc)
				cJSON_AddStringToObject(o, "description", desc);
			cJSON_AddItemToArray(arr, o);
		} else {
			printf("%s\t%s%s%s\n", names[i], shown, desc ? "\t" : "", desc ? desc : "");
		}
		free(text);
		free(pipe);
		free(desc);
		free(names[i]);
	}
	free(names);
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
	folio_set set = { 0 };
	char *canon = NULL, *text = NULL;
	char base[FOLIO_COMMIT_HEXSZ + 1];
	qctx q;
	int have_ctx = 0;

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
		rc = slice_list(repo, npos > 1 ? pos[1] : ":", json);
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
	snprintf(path, sizeof path, FOLIO_SLICE_DIR "%s.json", name);
	if ((rc = cli_open_repo(&repo, c)) < 0 ||
	    (rc = folio_stage_load(&stage, base, repo)) < 0)
		goto fail;
	if (save) {
		/* check it where it will live: against the stage */
		if ((rc = qctx_init(&q, repo, &stage, "")) < 0)
			goto fail;
		have_ctx = 1;
		if ((rc = folio_pipeline_run(&set, &canon, &q.c, pos[2])) < 0) {
			fprintf(stderr, "folio slice: %s\n", folio_error_last());
			rc = rc == FOLIO_ENOTFOUND ? EXIT_NOTFOUND : EXIT_USAGE;
			goto out;
		}
		if (!(text = folio_slice_json(pos[2], desc))) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto fail;
		}
	}
	/* objects before the stage, as folio add does: gc cannot drop the
	 * slice's object before the stage refers to it */
	if ((rc = folio_repo_lock_objects(repo, 0, "folio slice")) < 0)
		goto fail;
	if ((rc = folio_repo_lock(repo, "folio slice")) < 0) {
		folio_repo_unlock_objects(repo);
		goto fail;
	}
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
	} else if ((rc = folio_stage_put_buf(&stage, repo, path, text, strlen(text))) < 0 ||
		   (rc = folio_tree_check_conflicts(&stage)) < 0) {
		goto unlock;
	}
	rc = folio_stage_save(repo, &stage, base);
unlock:
	folio_repo_unlock(repo);
	folio_repo_unlock_objects(repo);
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
	if (have_ctx)
		qctx_clear(&q);
	folio_tree_clear(&stage);
	folio_repo_free(repo);
	free(pos);
	return rc;
}
