/*
 * views.c — the @-namespace of a version folder: core/views' registry as
 * folders.
 *
 * DESIGN. This file knows no view by name. A lookup of "@x" in a version
 * folder finds x in the registry (folio_view_find); each further name is
 * an argument, checked by the view's accept(), until the view says it has
 * what it needs. Folders on the way are menu nodes (N_VMENU: the view and
 * its arguments so far), listed by the view's list() and computing
 * nothing else, so `ls -l <version>/@` is cheap. Then:
 *
 *   a stage  gives a *view version*: a tree of the selected images under
 *            their set names (their paths, or rank names when ranked), with
 *            the original object ids, indexed like a commit (versions.c).
 *            Its files are the very same nodes (inode = content) and read
 *            at the same speed, and a view of a view chains from it.
 *   an output gives an output version from core's file list
 *            (folio_view_output): originals under new names and generated
 *            files of the second store, REPO/cache/objects; a one-file
 *            output (@export/files.txt) is that file's node. A lazy output
 *            (@preview) renders a file on its first lookup.
 *
 * Every view is identified by a hash of its commit and canonical pipeline
 * text, so equal pipelines spelled differently share one folder, and the
 * same view has the same inode numbers after a remount. View versions
 * live as long as the daemon (their nodes may be referenced by the
 * kernel); the sample table of a commit is built on the first view that
 * needs it (index_lock; others wait), from REPO/cache/index when cached.
 *
 * Locks: index_lock while a sample table is built; git_lock around the
 * libgit2 handle (core takes it through the context); versions_lock inside
 * fs_version_publish; a preview's prev_lock around its rendered-entry
 * table. None is held across a reply.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "folio/index.h"
#include "folio/views.h"
#include "fs.h"

/* A rendered entry of a lazy output. */
typedef struct prevent {
	int state;               /* 0 not yet, 1 done, -errno failed */
	folio_oid oid;
	uint64_t size;
} prevent;

static version *base_of(version *v)
{
	return v->vkind == VK_COMMIT ? v : v->base;
}

/* ---- the context core's views run in ----------------------------------- */

typedef struct vctx {
	folio_view_ctx c;        /* first: core hands it back to the callbacks */
	fs *f;
	version *b;              /* the commit (or the stage) */
} vctx;

static int table_of(fs *f, version *b, folio_index **out)
{
	pthread_mutex_lock(&f->index_lock);
	if (!b->ix && !b->ix_err) {
		folio_index_opts o = { .pixels = 1 };
		folio_index_stats st;
		int rc = folio_index_open(&b->ix, &st, f->repo, &b->tree, &o);
		if (rc < 0) {
			fs_log("index of %.12s: %s", b->id, folio_error_last());
			b->ix_err = -fs_errno(rc);
		} else {
			FS_LOG(f, "index of %.12s: %zu samples, %s, %.2f s", b->id, b->ix->nsamples,
			       st.cached ? "cached" : "built", st.seconds);
		}
	}
	*out = b->ix;
	int err = b->ix_err;
	pthread_mutex_unlock(&f->index_lock);
	return err;
}

static int ctx_index(const folio_index **out, folio_view_ctx *c)
{
	vctx *x = (vctx *)c;
	folio_index *ix = NULL;
	int err = table_of(x->f, x->b, &ix);
	if (err < 0)
		return folio_error_set(FOLIO_EIO, "the sample table of %.12s could not be built "
				       "(see the daemon log)", x->b->id);
	*out = ix;
	return 0;
}

static void ctx_init(vctx *x, fs *f, version *v)
{
	version *b = base_of(v);
	memset(x, 0, sizeof *x);
	x->f = f;
	x->b = b;
	x->c.repo = f->repo;
	x->c.git_lock = &f->git_lock;
	x->c.gen = f->gen;
	x->c.repo_path = f->repo_path;
	x->c.tree = &b->tree;
	x->c.version = b->stage ? "" : b->id;
	x->c.ix = b->ix;
	x->c.index = ctx_index;
}

/* errno for a failure of core's views, logged with its message (a bad
 * expression's column is only there: ls can only say EINVAL). */
static int view_errno(version *v, const char *what, int rc)
{
	version *b = base_of(v);
	fs_log("view %.12s/%s%s%s: %s", b->id, v->pipeline ? v->pipeline : "",
	       v->pipeline && *v->pipeline ? "/" : "", what, folio_error_last());
	return rc == FOLIO_ENOTFOUND ? -ENOENT : rc == FOLIO_EINVAL ? -EINVAL : -fs_errno(rc);
}

/* ---- view versions ----------------------------------------------------- */

static void view_id(char out[FOLIO_COMMIT_HEXSZ + 1], const version *b, const char *what,
		    const char *pipeline)
{
	folio_hash *h;
	folio_oid oid;
	char hex[FOLIO_OID_HEXSZ + 1];

	memset(&oid, 0, sizeof oid);
	if (folio_hash_new(&h) == 0) {
		folio_hash_update(h, b->id, FOLIO_COMMIT_HEXSZ);
		folio_hash_update(h, what, strlen(what) + 1);
		folio_hash_update(h, pipeline, strlen(pipeline));
		folio_hash_final(&oid, h);
		folio_hash_free(h);
	}
	folio_oid_tohex(hex, &oid);
	memcpy(out, hex, FOLIO_COMMIT_HEXSZ);
	out[FOLIO_COMMIT_HEXSZ] = 0;
}

static version *view_new(version *b, int kind, const char *what, const char *pipeline)
{
	version *v = calloc(1, sizeof *v);
	if (!v)
		return NULL;
	if (!(v->pipeline = strdup(pipeline))) {
		free(v);
		return NULL;
	}
	view_id(v->id, b, what, pipeline);
	v->vkind = kind;
	v->base = b;
	v->time = b->time;
	folio_tree_init(&v->tree);
	if (kind == VK_PREVIEW)
		pthread_mutex_init(&v->prev_lock, NULL);
	return v;
}

/* "a" + "/" + "b", or the one that is not empty. */
static char *join_pipeline(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 2);
	if (!s)
		return NULL;
	memcpy(s, a, la);
	size_t n = la;
	if (la && lb)
		s[n++] = '/';
	memcpy(s + n, b, lb + 1);
	return s;
}

/* The view name and its arguments as a path: "@export/yolo". */
static char *view_path(const folio_view *view, const char *const *args, size_t nargs)
{
	char *s = strdup(view->name);
	for (size_t i = 0; s && i < nargs; i++) {
		char *t = join_pipeline(s, args[i]);
		free(s);
		s = t;
	}
	return s;
}

typedef struct named {
	char *name;
	uint32_t row;
} named;

static int named_cmp(const void *a, const void *b)
{
	return strcmp(((const named *)a)->name, ((const named *)b)->name);
}

/* Fills v's tree from a set: entries of the commit under their set names,
 * with v->rows parallel to the entries. */
static int fill_from_set(version *v, version *b, const folio_index *ix, const folio_set *set)
{
	named *nm = calloc(set->n ? set->n : 1, sizeof *nm);
	int rc = 0;

	if (!nm || !(v->rows = malloc((set->n ? set->n : 1) * sizeof *v->rows))) {
		free(nm);
		return -ENOMEM;
	}
	for (size_t i = 0; i < set->n; i++) {
		char name[FOLIO_PATH_BUF];
		if (folio_set_name(name, sizeof name, ix, set, i) < 0) {
			fs_log("view %.12s/%s: %s", b->id, v->pipeline, folio_error_last());
			rc = -ENAMETOOLONG;
			goto done;
		}
		if (!(nm[i].name = strdup(name))) {
			rc = -ENOMEM;
			goto done;
		}
		nm[i].row = set->v[i];
	}
	qsort(nm, set->n, sizeof *nm, named_cmp);
	for (size_t i = 0; i < set->n; i++) {
		const char *path = folio_index_path(ix, &ix->samples[nm[i].row]);
		const folio_entry *e = folio_tree_find(&b->tree, path);
		if (!e)
			continue;
		folio_entry c = *e;
		c.path = nm[i].name;
		if (folio_tree_push(&v->tree, &c) < 0) {
			rc = -ENOMEM;
			goto done;
		}
		v->rows[v->tree.n - 1] = nm[i].row;
	}
	rc = fs_version_index(v);
done:
	for (size_t i = 0; i < set->n; i++)
		free(nm[i].name);
	free(nm);
	return rc;
}

/* The set a folder stands for: a view's members, or a whole commit. */
static int set_of(folio_set *out, version *v, const folio_index *ix)
{
	if (v->vkind == VK_COMMIT)
		return folio_set_all(out, ix) < 0 ? -ENOMEM : 0;
	out->n = 0;
	out->ordered = 0;
	if (!(out->v = malloc((v->tree.n ? v->tree.n : 1) * sizeof *out->v)))
		return -ENOMEM;
	/* a ranked set is listed by rank name, which sorts as the rank */
	for (size_t i = 0; i < v->tree.n; i++)
		out->v[out->n++] = v->rows[i];
	out->ordered = v->ordered;
	return 0;
}

/* The view version for stage view with args applied to folder v. */
static int stage_view(version **out, fs *f, version *v, const folio_view *view,
		      const char *const *args, size_t nargs)
{
	version *b = base_of(v), *nv = NULL;
	folio_index *ix;
	folio_set in = { 0 }, set = { 0 };
	char *canon = NULL, *pipe = NULL;
	const char *segs[FOLIO_PIPELINE_MAX_STAGES];
	vctx x;
	int rc;

	if (nargs + 1 > sizeof segs / sizeof segs[0])
		return -EINVAL;
	if ((rc = table_of(f, b, &ix)) < 0)
		return rc;
	if ((rc = set_of(&in, v, ix)) < 0)
		return rc;
	ctx_init(&x, f, v);
	segs[0] = view->name;
	for (size_t i = 0; i < nargs; i++)
		segs[i + 1] = args[i];
	if ((rc = folio_pipeline_step(&set, &canon, &x.c, &in, segs, nargs + 1)) < 0) {
		rc = view_errno(v, view->name, rc);
		goto done;
	}
	if (!(pipe = join_pipeline(v->pipeline ? v->pipeline : "", canon))) {
		rc = -ENOMEM;
		goto done;
	}
	char id[FOLIO_COMMIT_HEXSZ + 1];
	view_id(id, b, "set", pipe);
	if ((*out = fs_version_find(f, id)))
		goto done;
	if (!(nv = view_new(b, VK_SET, "set", pipe))) {
		rc = -ENOMEM;
		goto done;
	}
	nv->ordered = set.ordered;
	if ((rc = fill_from_set(nv, b, ix, &set)) < 0)
		goto done;
	*out = fs_version_publish(f, nv);
	nv = NULL;
	FS_LOG(f, "view %.12s/%s: %zu samples", b->id, pipe, set.n);
done:
	fs_version_free(nv);
	folio_set_clear(&in);
	folio_set_clear(&set);
	free(canon);
	free(pipe);
	return rc;
}

/* The folder a set of v is read at, for files.txt. */
static void mount_prefix(char *out, size_t size, fs *f, version *v)
{
	version *b = base_of(v);
	const char *pl = v->pipeline ? v->pipeline : "";
	if (b->stage)
		snprintf(out, size, "%s/.stage%s%s", f->mountpoint, *pl ? "/" : "", pl);
	else
		snprintf(out, size, "%s/commits/%s%s%s", f->mountpoint, b->id, *pl ? "/" : "", pl);
}

/* The output version of output view with args for folder v; *file gets
 * its one file when the output is a single file. */
static int output_view(version **out, const folio_entry **file, fs *f, version *v,
		       const folio_view *view, const char *const *args, size_t nargs)
{
	version *b = base_of(v), *nv = NULL;
	folio_index *ix;
	folio_set set = { 0 };
	folio_view_out o = { 0 };
	char id[FOLIO_COMMIT_HEXSZ + 1], prefix[FOLIO_PATH_BUF];
	char *what = view_path(view, args, nargs), *oargs = NULL;
	int lazy = (view->flags & FOLIO_VIEW_LAZY) != 0, rc;
	vctx x;

	*file = NULL;
	if (!what)
		return -ENOMEM;
	view_id(id, b, what, v->pipeline ? v->pipeline : "");
	if ((*out = fs_version_find(f, id)))
		goto found;
	if ((rc = table_of(f, b, &ix)) < 0 || (rc = set_of(&set, v, ix)) < 0)
		goto done;
	ctx_init(&x, f, v);
	mount_prefix(prefix, sizeof prefix, f, v);
	folio_view_input in = { &set, v->pipeline ? v->pipeline : "", prefix };
	if ((rc = folio_view_output(&o, &x.c, view, &in, args, nargs)) < 0) {
		rc = view_errno(v, what, rc);
		goto done;
	}
	if (o.skipped)
		FS_LOG(f, "%s of %.12s/%s: %zu labels could not be written", what, b->id,
		       v->pipeline ? v->pipeline : "", o.skipped);
	if (!(nv = view_new(b, lazy ? VK_PREVIEW : VK_OUTPUT, what, v->pipeline ? v->pipeline : ""))) {
		rc = -ENOMEM;
		goto done;
	}
	nv->tree = o.files;
	folio_tree_init(&o.files);
	nv->single = o.single;
	if (lazy) {
		oargs = strdup("");
		for (size_t i = 0; oargs && i < nargs; i++) {
			char *t = join_pipeline(oargs, args[i]);
			free(oargs);
			oargs = t;
		}
		nv->rows = o.rows;
		o.rows = NULL;
		nv->oview = view;
		nv->oargs = oargs;
		if (!oargs || !(nv->prev = calloc(nv->tree.n ? nv->tree.n : 1, sizeof *nv->prev))) {
			rc = -ENOMEM;
			goto done;
		}
	}
	if ((rc = fs_version_index(nv)) < 0)
		goto done;
	*out = fs_version_publish(f, nv);
	nv = NULL;
	FS_LOG(f, "output %s of %.12s/%s: %zu files%s", what, b->id, (*out)->pipeline,
	       (*out)->tree.n, o.cached ? " (kept from before)" : "");
found:
	if ((*out)->single) {
		if (!(*out)->tree.n) {
			rc = -ENOENT;
			goto done;
		}
		*file = &(*out)->tree.v[0];
	}
	rc = 0;
done:
	fs_version_free(nv);
	folio_view_out_clear(&o);
	folio_set_clear(&set);
	free(what);
	return rc;
}

/* A lazy output entry's state (0 not rendered, 1 rendered into e, -1
 * failed with *err set). */
static int prev_get(version *v, const prevent *pe, folio_entry *e, int *err)
{
	pthread_mutex_lock(&v->prev_lock);
	int state = pe->state;
	e->oid = pe->oid;
	e->size = pe->size;
	pthread_mutex_unlock(&v->prev_lock);
	if (state < 0) {
		*err = -state;
		return -1;
	}
	return state;
}

/* Splits a '/'-joined argument text in place. */
static size_t split_args(char *text, const char **args, size_t max)
{
	size_t n = 0;
	for (char *p = text; *p && n < max;) {
		char *slash = strchr(p, '/');
		if (slash)
			*slash = 0;
		args[n++] = p;
		if (!slash)
			break;
		p = slash + 1;
	}
	return n;
}

node *fs_preview_node(fs *f, version *v, uint32_t entry, int *err)
{
	prevent *pe = &v->prev[entry];
	folio_entry e = v->tree.v[entry];
	int state;

	if ((state = prev_get(v, pe, &e, err)) < 0)
		return NULL;
	if (state == 0) {
		const char *args[FOLIO_PIPELINE_MAX_STAGES];
		char *text = strdup(v->oargs ? v->oargs : "");
		size_t nargs = text ? split_args(text, args, sizeof args / sizeof args[0]) : 0;
		vctx x;
		int rc;

		ctx_init(&x, f, v);
		if (!text)
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		else
			rc = v->oview->render(&e, &x.c, v->rows[entry], args, nargs);
		if (rc < 0)
			fs_log("%s of %s: %s", v->oview->name, v->tree.v[entry].path,
			       folio_error_last());
		free(text);
		pthread_mutex_lock(&v->prev_lock);
		if (!pe->state) {   /* first renderer wins */
			pe->state = rc < 0 ? -fs_errno(rc) : 1;
			pe->oid = e.oid;
			pe->size = e.size;
		}
		pthread_mutex_unlock(&v->prev_lock);
		if (prev_get(v, pe, &e, err) < 0)
			return NULL;
	}
	e.kind = FOLIO_ENTRY_LFS;
	e.mode = FOLIO_MODE_FILE;
	node *n = fs_ventry_node(f, v, &e);
	if (!n)
		*err = ENOMEM;
	return n;
}

/* ---- the stage ---------------------------------------------------------- */

node *fs_stage_root(fs *f, int *err)
{
	folio_tree t;
	char base[FOLIO_COMMIT_HEXSZ + 1], id[FOLIO_COMMIT_HEXSZ + 1], hex[FOLIO_OID_HEXSZ + 1];
	folio_oid key;

	pthread_mutex_lock(&f->git_lock);
	int rc = folio_stage_load(&t, base, f->repo);
	pthread_mutex_unlock(&f->git_lock);
	if (rc < 0) {
		fs_log("cannot read the stage: %s", folio_error_last());
		*err = fs_errno(rc);
		return NULL;
	}
	folio_index_key(&key, &t);
	folio_oid_tohex(hex, &key);
	memcpy(id, hex, FOLIO_COMMIT_HEXSZ);
	id[FOLIO_COMMIT_HEXSZ] = 0;
	version *v = fs_version_find(f, id);
	if (v) {
		folio_tree_clear(&t);
	} else {
		if (!(v = calloc(1, sizeof *v))) {
			folio_tree_clear(&t);
			*err = ENOMEM;
			return NULL;
		}
		memcpy(v->id, id, sizeof id);
		v->tree = t;
		v->stage = 1;
		v->time = (int64_t)time(NULL);
		if ((rc = fs_version_index(v)) < 0) {
			fs_version_free(v);
			*err = -rc;
			return NULL;
		}
		v = fs_version_publish(f, v);
	}
	node *n = fs_vdir_node(f, v, 0);
	if (!n)
		*err = ENOMEM;
	return n;
}

/* ---- menus ------------------------------------------------------------- */

static node *menu_node(fs *f, version *v, const folio_view *view, const char *args)
{
	char key[FOLIO_PATH_BUF];
	snprintf(key, sizeof key, "\001menu %s %s", view ? view->name : "@", args);
	uint64_t ino = fs_vdir_ino(v, key, strlen(key));
	node *n = fs_node_get(f, ino);

	if (n)
		return n;
	if (!(n = fs_node_new(ino, N_VMENU)))
		return NULL;
	n->v = v;
	n->view = view;
	n->mtime = v->time;
	if (!(n->name = strdup(args))) {
		free(n);
		return NULL;
	}
	return fs_node_put(f, n);
}

/* Whether view may be looked up in folder v. */
static int allowed(const folio_view *view, const version *v)
{
	if (v->vkind == VK_OUTPUT || v->vkind == VK_PREVIEW)
		return 0;   /* no views inside an output */
	return !(view->flags & FOLIO_VIEW_VERSION_ONLY) || v->vkind == VK_COMMIT;
}

/* The node for view with args in folder v: a menu while the view wants
 * more arguments, else its result. */
static node *resolve(fs *f, version *v, const folio_view *view, const char *const *args,
		     size_t nargs, int *err)
{
	version *nv = NULL;
	const folio_entry *file = NULL;
	vctx x;
	int rc;

	ctx_init(&x, f, v);
	rc = folio_view_accept(view, &x.c, args, nargs);
	if (rc < 0) {
		FS_LOG(f, "%s: %s", view->name, folio_error_last());
		*err = ENOENT;
		return NULL;
	}
	if (rc == FOLIO_VIEW_MORE) {
		char *joined = strdup("");
		for (size_t i = 0; joined && i < nargs; i++) {
			char *t = join_pipeline(joined, args[i]);
			free(joined);
			joined = t;
		}
		node *n = joined ? menu_node(f, v, view, joined) : NULL;
		free(joined);
		if (!n)
			*err = ENOMEM;
		return n;
	}
	if (view->kind == FOLIO_VIEW_STAGE)
		rc = stage_view(&nv, f, v, view, args, nargs);
	else
		rc = output_view(&nv, &file, f, v, view, args, nargs);
	if (rc < 0) {
		*err = -rc;
		return NULL;
	}
	node *n = file ? fs_ventry_node(f, nv, file) : fs_vdir_node(f, nv, 0);
	if (!n)
		*err = ENOMEM;
	return n;
}

node *fs_view_child(fs *f, node *p, const char *name, int *err)
{
	version *v = p->v;

	*err = ENOENT;
	if (p->type == N_VDIR && p->dir != 0)
		return NULL;   /* views only at a version's root */
	if (p->type == N_VDIR || !p->view) {
		/* the root of a version, or its "@" menu */
		if (!strcmp(name, "@")) {
			if (v->vkind == VK_OUTPUT || v->vkind == VK_PREVIEW)
				return NULL;
			/* X/@/@where is X/@where under another parent: a folder
			 * has one name in Linux, so the "@" menu numbers what is
			 * under it as a place of its own */
			node *n = menu_node(f, v, NULL, "");
			if (n)
				n = fs_node_instance(f, n, fs_hash("@", 1, p->seed | 1));
			if (!n)
				*err = ENOMEM;
			return n;
		}
		const folio_view *view = folio_view_find(name);
		if (!view || !allowed(view, v))
			return NULL;
		return resolve(f, v, view, NULL, 0, err);
	}
	/* a menu of a view: one more argument */
	const char *args[FOLIO_PIPELINE_MAX_STAGES * 2];
	char *text = strdup(p->name);
	if (!text) {
		*err = ENOMEM;
		return NULL;
	}
	size_t nargs = split_args(text, args, sizeof args / sizeof args[0] - 1);
	args[nargs++] = name;
	node *n = resolve(f, v, p->view, args, nargs, err);
	free(text);
	return n;
}

int fs_view_list(fs *f, node *p, folio_view_menu *out)
{
	version *v = p->v;
	int rc = 0;

	memset(out, 0, sizeof *out);
	if (!p->view) {
		/* the "@" menu: every view that may be used here */
		const folio_view *const *r = folio_views();
		for (size_t i = 0; r[i] && rc == 0; i++)
			if (allowed(r[i], v))
				rc = folio_view_menu_add(out, r[i]->name, 1);
		if (rc < 0)
			folio_view_menu_clear(out);
		return rc < 0 ? -ENOMEM : 0;
	}
	const char *args[FOLIO_PIPELINE_MAX_STAGES * 2];
	char *text = strdup(p->name);
	folio_set set = { 0 }, *in = NULL;
	folio_index *ix;
	vctx x;
	if (!text)
		return -ENOMEM;
	size_t nargs = split_args(text, args, sizeof args / sizeof args[0]);
	if (v->vkind != VK_COMMIT) {
		/* the members of this set, for menus that list its values */
		if ((rc = table_of(f, base_of(v), &ix)) < 0 || (rc = set_of(&set, v, ix)) < 0) {
			free(text);
			return rc;
		}
		in = &set;
	}
	ctx_init(&x, f, v);
	if ((rc = folio_view_list(out, p->view, &x.c, in, args, nargs)) < 0)
		rc = view_errno(v, p->view->name, rc);
	folio_set_clear(&set);
	free(text);
	return rc;
}
