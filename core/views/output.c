/*
 * output.c — computing, keeping and writing out the files of output views
 * (@stats, @export/FORMAT, @preview, @history).
 *
 * An output is a sorted list of entries, each naming an object: an
 * original file of the version (in the repository's store) under a new
 * name, or a generated file put into the generated-files store
 * (REPO/cache/objects, ctx->gen). Outputs are computed once and their file
 * list is kept in REPO/cache/views/<key>.tree, keyed by what determines
 * them (the version, its sample table, the set's pipeline, the view and
 * its arguments, and the set's folder when the output names it), so a
 * remount or a second `folio query` reads the list back instead of
 * computing again. The list is only trusted while every object it names
 * is still stored; deleting REPO/cache loses nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "folio/error.h"
#include "folio/util.h"
#include "folio/views.h"
#include "views_int.h"

void folio_view_out_clear(folio_view_out *o)
{
	folio_tree_clear(&o->files);
	free(o->rows);
	memset(o, 0, sizeof *o);
	folio_tree_init(&o->files);
}

int folio_view_put(folio_tree *files, folio_view_ctx *ctx, const char *name, const void *data,
		   size_t len)
{
	folio_entry e;
	int rc;

	if (!ctx->gen)
		return folio_error_set(FOLIO_EINVAL, "%s: no store for generated files", name);
	memset(&e, 0, sizeof e);
	e.path = (char *)name;
	e.kind = FOLIO_ENTRY_LFS;
	e.mode = FOLIO_MODE_FILE;
	e.size = len;
	if ((rc = folio_store_put_buf(&e.oid, ctx->gen, data, len)) < 0)
		return folio_error_wrap(rc, "%s", name);
	return folio_tree_push(files, &e);
}

/* ---- the kept file lists ------------------------------------------------ */

/* REPO/cache/views/<SHA-256 of what determines the output>.tree */
static int list_path(char *out, size_t size, folio_view_ctx *ctx, const folio_index *ix,
		     const folio_view *v, const folio_view_input *in, const char *const *args,
		     size_t nargs)
{
	char key[FOLIO_OID_HEXSZ + 1], name[FOLIO_OID_HEXSZ + 8];
	folio_hash *h;
	folio_oid oid;
	int rc;

	if ((rc = folio_hash_new(&h)) < 0)
		return rc;
	folio_oid_tohex(key, &ix->key);
	/* every part ends in a NUL, so no two inputs hash the same text */
	folio_hash_update(h, "folio-view-1", 13);
	folio_hash_update(h, ctx->version ? ctx->version : "", strlen(ctx->version ? ctx->version : "") + 1);
	folio_hash_update(h, key, sizeof key);
	folio_hash_update(h, in->pipeline ? in->pipeline : "", strlen(in->pipeline ? in->pipeline : "") + 1);
	folio_hash_update(h, v->name, strlen(v->name) + 1);
	for (size_t i = 0; i < nargs; i++)
		folio_hash_update(h, args[i], strlen(args[i]) + 1);
	if (in->prefix)
		folio_hash_update(h, in->prefix, strlen(in->prefix) + 1);
	folio_hash_final(&oid, h);
	folio_hash_free(h);
	folio_oid_tohex(name, &oid);
	memcpy(name + FOLIO_OID_HEXSZ, ".tree", 6);
	return folio_cache_path(out, size, ctx->repo_path, FOLIO_CACHE_VIEWS, name);
}

static int stored(folio_view_ctx *ctx, const folio_oid *oid)
{
	return (ctx->repo && folio_store_exists(ctx->repo->store, oid)) ||
	       (ctx->gen && folio_store_exists(ctx->gen, oid));
}

/* Reads a kept list; 0 when every object it names is still stored. */
static int list_load(folio_tree *t, folio_view_ctx *ctx, const char *path)
{
	FILE *fp = fopen(path, "re");
	char line[FOLIO_PATH_MAX + 128];
	int rc = 0;

	if (!fp)
		return -1;
	while (rc == 0 && fgets(line, sizeof line, fp)) {
		char hex[FOLIO_OID_HEXSZ + 1];
		unsigned long long size;
		unsigned mode, kind;
		int off = 0;
		folio_entry e;
		size_t n = strlen(line);
		if (!n || line[n - 1] != '\n' ||
		    sscanf(line, "%64s %llu %o %u %n", hex, &size, &mode, &kind, &off) != 4 || !off) {
			rc = -1;
			break;
		}
		line[n - 1] = 0;
		memset(&e, 0, sizeof e);
		e.path = line + off;
		e.size = size;
		e.mode = mode;
		e.kind = (folio_entry_kind)kind;
		if (folio_oid_fromhex(&e.oid, hex) < 0 || folio_path_validate(e.path) < 0 ||
		    (e.kind != FOLIO_ENTRY_LFS && e.kind != FOLIO_ENTRY_BLOB &&
		     e.kind != FOLIO_ENTRY_LINK) ||
		    !stored(ctx, &e.oid) || folio_tree_push(t, &e) < 0)
			rc = -1;
	}
	fclose(fp);
	if (rc < 0) {
		folio_tree_clear(t);
		folio_tree_init(t);
	}
	folio_error_clear();
	return rc;
}

/* Best effort: a list not kept only costs a recomputation. */
static void list_save(const folio_tree *t, const char *path, const char *repo_path)
{
	char tmp[FOLIO_PATH_SUFFIXED];
	if (folio_cache_mkdir(repo_path, FOLIO_CACHE_VIEWS) < 0 ||
	    folio_path_format(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) < 0) {
		folio_error_clear();
		return;
	}
	FILE *fp = fopen(tmp, "we");
	if (!fp)
		return;
	for (size_t i = 0; i < t->n; i++) {
		char hex[FOLIO_OID_HEXSZ + 1];
		const folio_entry *e = &t->v[i];
		folio_oid_tohex(hex, &e->oid);
		fprintf(fp, "%s %llu %o %u %s\n", hex, (unsigned long long)e->size, e->mode,
			(unsigned)e->kind, e->path);
	}
	if (fclose(fp) != 0 || rename(tmp, path) < 0)
		unlink(tmp);
}

/* ---- computing ------------------------------------------------------------ */

typedef struct ranked {
	folio_entry e;
	uint32_t row;
} ranked;

static int ranked_cmp(const void *a, const void *b)
{
	return strcmp(((const ranked *)a)->e.path, ((const ranked *)b)->e.path);
}

/* Sorts the files by name, keeping rows parallel; refuses duplicates. */
static int sort_out(folio_view_out *o, const folio_view *v)
{
	size_t n = o->files.n;
	if (!o->rows) {
		size_t before = n;
		folio_tree_sort(&o->files);
		if (o->files.n != before)
			return folio_error_set(FOLIO_EINVAL, "%s: two files with the same name", v->name);
		return 0;
	}
	ranked *r = malloc((n ? n : 1) * sizeof *r);
	if (!r)
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		r[i] = (ranked){ o->files.v[i], o->rows[i] };
	qsort(r, n, sizeof *r, ranked_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(r[i].e.path, r[i - 1].e.path)) {
			int rc = folio_error_set(FOLIO_EINVAL, "%s: two files named %s", v->name,
						 r[i].e.path);
			free(r);
			return rc;
		}
		o->files.v[i] = r[i].e;
		o->rows[i] = r[i].row;
	}
	free(r);
	return 0;
}

int folio_view_output(folio_view_out *out, folio_view_ctx *ctx, const folio_view *v,
		      const folio_view_input *in, const char *const *args, size_t nargs)
{
	char path[FOLIO_PATH_BUF] = "";
	const folio_index *ix = NULL;
	int rc;

	memset(out, 0, sizeof *out);
	folio_tree_init(&out->files);
	if (v->kind != FOLIO_VIEW_OUTPUT || !v->output)
		return folio_error_set(FOLIO_EINVAL, "%s is not an output", v->name);
	if ((rc = folio_view_accept(v, ctx, args, nargs)) < 0)
		return rc;
	if (rc != FOLIO_VIEW_DONE)
		return folio_error_set(FOLIO_EINVAL, "%s: more arguments needed", v->name);
	/* lazy outputs keep their renders per file, not as a list */
	int keep = ctx->repo_path && !(v->flags & FOLIO_VIEW_LAZY) &&
		   folio_view_index(&ix, ctx) == 0 &&
		   list_path(path, sizeof path, ctx, ix, v, in, args, nargs) == 0;
	folio_error_clear();
	if (keep && list_load(&out->files, ctx, path) == 0) {
		out->cached = 1;
		/* a one-file output is named by its last argument */
		out->single = out->files.n == 1 && nargs &&
			      !strcmp(out->files.v[0].path, args[nargs - 1]);
		return 0;
	}
	if ((rc = v->output(out, ctx, in, args, nargs)) < 0 || (rc = sort_out(out, v)) < 0) {
		folio_view_out_clear(out);
		return rc;
	}
	if (keep)
		list_save(&out->files, path, ctx->repo_path);
	return 0;
}

int folio_view_render_all(folio_view_out *out, folio_view_ctx *ctx, const folio_view *v,
			  const char *const *args, size_t nargs)
{
	if (!(v->flags & FOLIO_VIEW_LAZY) || !v->render)
		return 0;
	for (size_t i = 0; i < out->files.n; i++) {
		int rc = v->render(&out->files.v[i], ctx, out->rows ? out->rows[i] : FOLIO_NONE,
				   args, nargs);
		if (rc < 0)
			return folio_error_wrap(rc, "%s/%s", v->name, out->files.v[i].path);
	}
	return 0;
}

/* ---- writing out ----------------------------------------------------------- */

/* mkdir -p of path's parent folders (path itself excluded). */
static int make_parents(char *path)
{
	for (char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		int r = mkdir(path, 0777);
		int err = errno;
		*p = '/';
		if (r < 0 && err != EEXIST)
			return folio_error_errno(err, "cannot create the folder of %s", path);
	}
	return 0;
}

/* dir made with its parents if absent; an existing one must be empty. */
static int prepare_dir(const char *dir)
{
	char path[FOLIO_PATH_BUF];
	struct stat st;
	int rc;

	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return folio_error_set(FOLIO_EEXISTS, "%s exists and is not a folder", dir);
		DIR *d = opendir(dir);
		struct dirent *de;
		int empty = 1;
		if (!d)
			return folio_error_errno(errno, "cannot read %s", dir);
		while (empty && (de = readdir(d)))
			empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
		closedir(d);
		if (!empty)
			return folio_error_set(FOLIO_EEXISTS, "%s is not empty; write into a new or "
					       "empty folder", dir);
		return 0;
	}
	if (errno != ENOENT)
		return folio_error_errno(errno, "%s", dir);
	if ((rc = folio_path_format(path, sizeof path, "%s/", dir)) < 0 ||
	    (rc = make_parents(path)) < 0)
		return rc;
	return 0;
}

int folio_view_write(size_t *nfiles, folio_view_ctx *ctx, const folio_view_out *out,
		     const char *dir)
{
	char dest[FOLIO_PATH_BUF];
	int rc;

	if (nfiles)
		*nfiles = 0;
	if ((rc = prepare_dir(dir)) < 0)
		return rc;
	for (size_t i = 0; i < out->files.n; i++) {
		const folio_entry *e = &out->files.v[i];
		if ((rc = folio_path_format(dest, sizeof dest, "%s/%s", dir, e->path)) < 0 ||
		    (rc = make_parents(dest)) < 0)
			return rc;
		if (e->kind == FOLIO_ENTRY_LINK) {
			void *target = NULL;
			size_t len = 0;
			folio_store *st = ctx->repo && folio_store_exists(ctx->repo->store, &e->oid) ?
					  ctx->repo->store : ctx->gen;
			if (!st)
				return folio_error_set(FOLIO_ENOTFOUND, "%s: object missing", e->path);
			if ((rc = folio_store_read_all(&target, &len, st, &e->oid, FOLIO_PATH_MAX)) < 0)
				return rc;
			char *s = strndup(target, len);
			free(target);
			if (!s)
				return folio_error_set(FOLIO_ENOMEM, "out of memory");
			rc = symlink(s, dest) < 0 ? folio_error_errno(errno, "cannot create link %s",
								      dest) : 0;
			free(s);
			if (rc < 0)
				return rc;
		} else {
			folio_store *st = ctx->repo && folio_store_exists(ctx->repo->store, &e->oid) ?
					  ctx->repo->store :
					  ctx->gen && folio_store_exists(ctx->gen, &e->oid) ? ctx->gen :
					  NULL;
			if (!st) {
				char hex[FOLIO_OID_HEXSZ + 1];
				folio_oid_tohex(hex, &e->oid);
				return folio_error_set(FOLIO_ENOTFOUND, "%s: object %s is not stored "
						       "(run `folio fsck`)", e->path, hex);
			}
			mode_t mode = e->mode == FOLIO_MODE_EXEC ? 0755 : 0644;
			if ((rc = folio_store_checkout(NULL, st, &e->oid, dest, mode,
						       e->mode != FOLIO_MODE_EXEC)) < 0)
				return rc;
		}
		if (nfiles)
			(*nfiles)++;
	}
	return 0;
}
