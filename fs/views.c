/*
 * views.c — the @-namespace of a version folder: pipelines as paths.
 *
 * DESIGN. A view is itself a version folder. Looking up
 * commits/<id>/@where/class=car builds (once) a *view version*: a tree
 * whose entries are the selected images under their own relative paths
 * (or "<rank>_<name>" when ranked), with the original object ids. It gets
 * the same per-folder index as a commit (versions.c), so its files are the
 * very same nodes (inode = content) and read at the same speed, and a
 * view of a view chains from it. Output folders (@stats, @export/<fmt>)
 * are view versions too, whose generated files live in a second store,
 * REPO/cache/objects, keyed by content; @preview mirrors a set and renders
 * each file on its first lookup.
 *
 * Folders that only name a stage (@where, @by, @by/class, ...) are menu
 * nodes (N_VMENU): their children are computed from the name looked up.
 * Listings of menus never compute a view: their entries carry no
 * attributes (inode 0 in readdirplus), so `ls -l <version>/@` is cheap.
 *
 * Every view is identified by a hash of its commit and canonical pipeline
 * text, so equal pipelines spelled differently share one folder, and the
 * same view has the same inode numbers after a remount. View versions
 * live as long as the daemon (their nodes may be referenced by the
 * kernel); the sample table of a commit is built on the first view of it
 * (index_lock; others wait), from REPO/cache/index when cached.
 *
 * Locks: index_lock while a sample table is built; versions_lock inside
 * fs_version_publish; a preview's prev_lock around its rendered-entry
 * table. None is held across a reply.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cJSON.h>

#include "folio/export.h"
#include "folio/index.h"
#include "folio/render.h"
#include "folio/views.h"
#include "fs.h"

#define SLICE_DIR ".folio/slices/"

/* A rendered preview entry. */
typedef struct prevent {
	int state;               /* 0 not yet, 1 done, -errno failed */
	folio_oid oid;
	uint64_t size;
} prevent;

static version *base_of(version *v)
{
	return v->vkind == VK_COMMIT ? v : v->base;
}

/* ---- the sample table of a commit -------------------------------------- */

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

typedef struct slicectx {
	fs *f;
	version *b;
} slicectx;

static int slice_cb(char **out, size_t *len, const char *name, void *payload)
{
	slicectx *c = payload;
	char path[512];
	void *buf = NULL;

	snprintf(path, sizeof path, SLICE_DIR "%s.json", name);
	const folio_entry *e = folio_tree_find(&c->b->tree, path);
	if (!e)
		return folio_error_set(FOLIO_ENOTFOUND, "@slices/%s: no such slice (no %s)", name,
				       path);
	int rc = folio_store_read_all(&buf, len, c->f->repo->store, &e->oid, (size_t)1 << 20);
	if (rc < 0)
		return rc;
	*out = buf;
	return 0;
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
		if (folio_set_name(name, sizeof name, ix, set, i) < 0 || !(nm[i].name = strdup(name))) {
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

/* The view version for stage segs applied to folder v. */
static int stage_view(version **out, fs *f, version *v, const char *const *segs, size_t nsegs)
{
	version *b = base_of(v), *nv = NULL;
	folio_index *ix;
	folio_set in = { 0 }, set = { 0 };
	char *canon = NULL, *pipe = NULL;
	int rc;

	if ((rc = table_of(f, b, &ix)) < 0)
		return rc;
	if ((rc = set_of(&in, v, ix)) < 0)
		return rc;
	slicectx sc = { f, b };
	if ((rc = folio_pipeline_step(&set, &canon, ix, &in, segs, nsegs, slice_cb, &sc)) < 0) {
		fs_log("view %.12s/%s%s%s/%s: %s", b->id, v->pipeline ? v->pipeline : "",
		       v->pipeline && *v->pipeline ? "/" : "", segs[0], segs[1], folio_error_last());
		rc = rc == FOLIO_ENOTFOUND ? -ENOENT : rc == FOLIO_ENOMEM ? -ENOMEM : -EINVAL;
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

/* ---- generated outputs ------------------------------------------------- */

typedef struct outb {
	version *v;
	fs *f;
	int err;
} outb;

/* Adds a generated file to an output tree (its bytes go to the gen store). */
static void out_bytes(outb *o, const char *name, const void *buf, size_t len)
{
	folio_entry e;

	if (o->err)
		return;
	memset(&e, 0, sizeof e);
	e.path = (char *)name;
	e.kind = FOLIO_ENTRY_LFS;
	e.mode = FOLIO_MODE_FILE;
	e.size = len;
	int rc = folio_store_put_buf(&e.oid, o->f->gen, buf, len);
	if (rc < 0) {
		fs_log("view output %s: %s", name, folio_error_last());
		o->err = -fs_errno(rc);
		return;
	}
	if (folio_tree_push(&o->v->tree, &e) < 0)
		o->err = -ENOMEM;
}

/* Adds an original file of the commit under a new name. */
static void out_entry(outb *o, const char *name, const folio_entry *src)
{
	if (o->err)
		return;
	folio_entry e = *src;
	e.path = (char *)name;
	if (folio_tree_push(&o->v->tree, &e) < 0)
		o->err = -ENOMEM;
}

static void out_text(outb *o, const char *name, char *text, size_t len, int rc)
{
	if (rc < 0) {
		fs_log("view output %s: %s", name, folio_error_last());
		if (!o->err)
			o->err = -fs_errno(rc);
		return;
	}
	out_bytes(o, name, text, len);
	free(text);
}

/* Export items for a set, with annotations converted from the table. */
typedef struct items {
	folio_export_item *v;
	folio_annotation *ann;
	char (*hex)[FOLIO_OID_HEXSZ + 1];
	size_t n;
} items;

static void items_free(items *it)
{
	for (size_t i = 0; i < it->n; i++)
		folio_index_annotation_clear(&it->ann[i]);
	free(it->v);
	free(it->ann);
	free(it->hex);
}

static int items_make(items *it, const folio_index *ix, const folio_set *set)
{
	size_t n = set->n ? set->n : 1;
	it->n = 0;
	it->v = calloc(n, sizeof *it->v);
	it->ann = calloc(n, sizeof *it->ann);
	it->hex = calloc(n, sizeof *it->hex);
	if (!it->v || !it->ann || !it->hex)
		return -ENOMEM;
	for (size_t i = 0; i < set->n; i++) {
		const folio_sample *s = &ix->samples[set->v[i]];
		folio_export_item *x = &it->v[i];
		folio_oid_tohex(it->hex[i], &s->oid);
		x->path = folio_index_path(ix, s);
		x->sha256 = it->hex[i];
		x->size = s->size;
		x->width = s->f.known ? s->f.width : 0;
		x->height = s->f.known ? s->f.height : 0;
		x->depth = s->f.known ? s->f.bands : 0;
		if (s->gt != FOLIO_NONE) {
			if (folio_index_annotation(&it->ann[i], ix, s->gt, s) < 0)
				return -ENOMEM;
			x->gt = &it->ann[i];
		}
		it->n = i + 1;
	}
	return 0;
}

static char **class_names(const folio_index *ix)
{
	char **c = calloc(ix->nclasses + 1, sizeof *c);
	if (!c)
		return NULL;
	for (size_t i = 0; i < ix->nclasses; i++)
		c[i] = (char *)folio_index_str(ix, ix->classes[i]);
	return c;
}

/* "a/b/c.jpg" with a new extension: "a/b/c.txt". */
static void swap_ext(char *out, size_t size, const char *prefix, const char *path, const char *ext)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(path, '.');
	size_t keep = dot && (!slash || dot > slash) ? (size_t)(dot - path) : strlen(path);
	snprintf(out, size, "%s%.*s%s", prefix, (int)keep, path, ext);
}

static void mount_prefix(char *out, size_t size, fs *f, version *v)
{
	version *b = base_of(v);
	if (b->stage)
		snprintf(out, size, "%s/.stage%s%s", f->mountpoint,
			 v->pipeline && *v->pipeline ? "/" : "", v->pipeline ? v->pipeline : "");
	else
		snprintf(out, size, "%s/commits/%s%s%s", f->mountpoint, b->id,
		 v->pipeline && *v->pipeline ? "/" : "", v->pipeline ? v->pipeline : "");
}

static void gen_export(outb *o, version *v, const char *fmt, const folio_index *ix,
		       const folio_set *set)
{
	version *b = base_of(v);
	items it = { 0 };
	char **cls = class_names(ix);
	char name[FOLIO_PATH_BUF];
	size_t skipped = 0;
	char *text = NULL;
	size_t len = 0;

	if (!cls || items_make(&it, ix, set) < 0) {
		o->err = -ENOMEM;
		goto done;
	}
	if (!strcmp(fmt, "coco")) {
		int rc = folio_export_coco(&text, &len, &skipped, it.v, it.n, cls, ix->nclasses);
		out_text(o, "annotations.json", text, len, rc);
		for (size_t i = 0; i < it.n; i++) {
			const folio_entry *e = folio_tree_find(&b->tree, it.v[i].path);
			snprintf(name, sizeof name, "images/%s", it.v[i].path);
			if (e)
				out_entry(o, name, e);
		}
	} else if (!strcmp(fmt, "yolo")) {
		int rc = folio_export_yolo_yaml(&text, &len, cls, ix->nclasses);
		out_text(o, "data.yaml", text, len, rc);
		for (size_t i = 0; i < it.n && !o->err; i++) {
			const folio_entry *e = folio_tree_find(&b->tree, it.v[i].path);
			snprintf(name, sizeof name, "images/%s", it.v[i].path);
			if (e)
				out_entry(o, name, e);
			rc = folio_export_yolo_label(&text, &len, &skipped, &it.v[i], cls,
						     ix->nclasses);
			swap_ext(name, sizeof name, "labels/", it.v[i].path, ".txt");
			out_text(o, name, text, len, rc);
		}
	} else if (!strcmp(fmt, "voc")) {
		for (size_t i = 0; i < it.n && !o->err; i++) {
			const folio_entry *e = folio_tree_find(&b->tree, it.v[i].path);
			snprintf(name, sizeof name, "JPEGImages/%s", it.v[i].path);
			if (e)
				out_entry(o, name, e);
			int rc = folio_export_voc(&text, &len, &skipped, &it.v[i]);
			swap_ext(name, sizeof name, "Annotations/", it.v[i].path, ".xml");
			out_text(o, name, text, len, rc);
		}
	} else {   /* imagefolder: <class>/<path> for each class of the image */
		for (size_t i = 0; i < set->n && !o->err; i++) {
			const folio_sample *s = &ix->samples[set->v[i]];
			const folio_entry *e = folio_tree_find(&b->tree, folio_index_path(ix, s));
			uint32_t ids[256];
			size_t nc = e ? folio_index_classes(ids, 256, ix, s->gt) : 0;
			for (size_t k = 0; k < nc && k < 256; k++) {
				const char *c = folio_index_str(ix, ids[k]);
				if (!folio_folder_name_ok(c))
					continue;
				snprintf(name, sizeof name, "%s/%s", c, folio_index_path(ix, s));
				out_entry(o, name, e);
			}
		}
	}
	if (skipped)
		FS_LOG(o->f, "export %s of %.12s: %zu boxes skipped", fmt, b->id, skipped);
done:
	free(cls);
	items_free(&it);
}

static void gen_file(outb *o, version *v, const char *fmt, const folio_index *ix,
		     const folio_set *set)
{
	items it = { 0 };
	char *text = NULL;
	size_t len = 0, skipped = 0;

	if (items_make(&it, ix, set) < 0) {
		o->err = -ENOMEM;
		items_free(&it);
		return;
	}
	if (!strcmp(fmt, "files.txt")) {
		char prefix[FOLIO_PATH_BUF];
		mount_prefix(prefix, sizeof prefix, o->f, v);
		/* paths through the mount, in the set's order, by their names there */
		folio_export_item *named_items = calloc(it.n ? it.n : 1, sizeof *named_items);
		char **names = calloc(it.n ? it.n : 1, sizeof *names);
		int rc = named_items && names ? 0 : FOLIO_ENOMEM;
		for (size_t i = 0; i < it.n && !rc; i++) {
			char nm[FOLIO_PATH_BUF];
			named_items[i] = it.v[i];
			if (folio_set_name(nm, sizeof nm, ix, set, i) == 0) {
				if (!(names[i] = strdup(nm)))
					rc = FOLIO_ENOMEM;
				named_items[i].path = names[i];
			}
		}
		if (!rc)
			rc = folio_export_files(&text, &len, &skipped, prefix, named_items, it.n);
		else
			folio_error_set(rc, "files.txt: out of memory");
		out_text(o, fmt, text, len, rc);
		for (size_t i = 0; names && i < it.n; i++)
			free(names[i]);
		free(named_items);
		free(names);
	} else {
		int rc = folio_export_manifest(&text, &len, it.v, it.n);
		out_text(o, fmt, text, len, rc);
	}
	items_free(&it);
}

/* Adds core/views' statistics files to an output tree. */
static int stats_image_path(char *buf, size_t size, const folio_sample *smp, void *payload)
{
	fs *f = payload;
	folio_object_info info;

	if (folio_store_stat(&info, f->repo->store, &smp->oid) < 0 || info.form != FOLIO_OBJECT_RAW)
		return -1;
	snprintf(buf, size, "%s", info.path);
	return 0;
}

static void gen_stats(outb *o, version *v, const folio_index *ix, const folio_set *set)
{
	folio_file *files = NULL;
	size_t n = 0;
	int rc = folio_stats_files(&files, &n, ix, set, base_of(v)->id, v->pipeline ? v->pipeline : "",
				   stats_image_path, o->f);
	if (rc < 0) {
		fs_log("statistics of %.12s: %s", base_of(v)->id, folio_error_last());
		o->err = -fs_errno(rc);
		return;
	}
	for (size_t i = 0; i < n; i++)
		out_bytes(o, files[i].name, files[i].data, files[i].len);
	folio_files_free(files, n);
}

/* ---- output manifests: outputs survive a restart ----------------------- */

/* REPO/cache/views/<hash of (tree key, output, pipeline)>.tree */
static void manifest_path(char *out, size_t size, fs *f, const folio_index *ix,
			  const char *what, const char *pipeline)
{
	char key[FOLIO_OID_HEXSZ + 1], hex[FOLIO_OID_HEXSZ + 1];
	folio_hash *h;
	folio_oid oid;

	memset(&oid, 0, sizeof oid);
	folio_oid_tohex(key, &ix->key);
	if (folio_hash_new(&h) == 0) {
		folio_hash_update(h, key, FOLIO_OID_HEXSZ);
		folio_hash_update(h, what, strlen(what) + 1);
		folio_hash_update(h, pipeline, strlen(pipeline));
		folio_hash_final(&oid, h);
		folio_hash_free(h);
	}
	folio_oid_tohex(hex, &oid);
	char name[FOLIO_OID_HEXSZ + 8];
	snprintf(name, sizeof name, "%s.tree", hex);
	if (folio_cache_path(out, size, f->repo_path, FOLIO_CACHE_VIEWS, name) < 0)
		out[0] = '\0';
}

/* Reads a manifest into v's tree; 0 when every object is still stored. */
static int manifest_load(version *v, fs *f, const char *path)
{
	FILE *fp = fopen(path, "re");
	char line[FOLIO_PATH_BUF];
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
		    (!folio_store_exists(f->repo->store, &e.oid) && !folio_store_exists(f->gen, &e.oid)) ||
		    folio_tree_push(&v->tree, &e) < 0)
			rc = -1;
	}
	fclose(fp);
	if (rc < 0) {
		folio_tree_clear(&v->tree);
		folio_tree_init(&v->tree);
	}
	return rc;
}

/* Best effort: a manifest not written only costs a regeneration. */
static void manifest_save(const version *v, fs *f, const char *path)
{
	char tmp[FOLIO_PATH_SUFFIXED];
	if (!*path || folio_cache_mkdir(f->repo_path, FOLIO_CACHE_VIEWS) < 0 ||
	    folio_path_format(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
		return;
	FILE *fp = fopen(tmp, "we");
	if (!fp)
		return;
	for (size_t i = 0; i < v->tree.n; i++) {
		char hex[FOLIO_OID_HEXSZ + 1];
		const folio_entry *e = &v->tree.v[i];
		folio_oid_tohex(hex, &e->oid);
		fprintf(fp, "%s %llu %o %u %s\n", hex, (unsigned long long)e->size, e->mode,
			(unsigned)e->kind, e->path);
	}
	if (fclose(fp) != 0 || rename(tmp, path) < 0)
		unlink(tmp);
}

/* An output folder of v: "stats", or an export format. */
static int output_view(version **out, fs *f, version *v, const char *what)
{
	version *b = base_of(v), *nv = NULL;
	folio_index *ix;
	folio_set set = { 0 };
	char id[FOLIO_COMMIT_HEXSZ + 1];
	int rc;

	view_id(id, b, what, v->pipeline ? v->pipeline : "");
	if ((*out = fs_version_find(f, id)))
		return 0;
	if ((rc = table_of(f, b, &ix)) < 0 || (rc = set_of(&set, v, ix)) < 0)
		return rc;
	if (!(nv = view_new(b, VK_OUTPUT, what, v->pipeline ? v->pipeline : ""))) {
		folio_set_clear(&set);
		return -ENOMEM;
	}
	char mpath[FOLIO_PATH_BUF], mkey[FOLIO_PATH_BUF];
	/* files.txt names paths through this mount, of this commit */
	snprintf(mkey, sizeof mkey, "%s%s%s%s%s", what, strcmp(what, "files.txt") ? "" : " ",
		 strcmp(what, "files.txt") ? "" : b->id, strcmp(what, "files.txt") ? "" : " ",
		 strcmp(what, "files.txt") ? "" : f->mountpoint);
	manifest_path(mpath, sizeof mpath, f, ix, mkey, nv->pipeline);
	if (manifest_load(nv, f, mpath) < 0) {
		outb o = { nv, f, 0 };
		if (!strcmp(what, "stats"))
			gen_stats(&o, v, ix, &set);
		else if (!strcmp(what, "files.txt") || !strcmp(what, "manifest.csv"))
			gen_file(&o, v, what, ix, &set);
		else
			gen_export(&o, v, what, ix, &set);
		if (o.err) {
			folio_set_clear(&set);
			fs_version_free(nv);
			return o.err;
		}
		folio_tree_sort(&nv->tree);
		manifest_save(nv, f, mpath);
	}
	folio_set_clear(&set);
	folio_tree_sort(&nv->tree);
	if ((rc = fs_version_index(nv)) < 0) {
		fs_version_free(nv);
		return rc;
	}
	*out = fs_version_publish(f, nv);
	FS_LOG(f, "output %s of %.12s/%s: %zu files", what, b->id, (*out)->pipeline,
	       (*out)->tree.n);
	return 0;
}

static int preview_view(version **out, fs *f, version *v)
{
	version *b = base_of(v), *nv = NULL;
	folio_index *ix;
	char id[FOLIO_COMMIT_HEXSZ + 1];
	int rc;

	view_id(id, b, "preview", v->pipeline ? v->pipeline : "");
	if ((*out = fs_version_find(f, id)))
		return 0;
	if ((rc = table_of(f, b, &ix)) < 0)
		return rc;
	if (!(nv = view_new(b, VK_PREVIEW, "preview", v->pipeline ? v->pipeline : "")))
		return -ENOMEM;
	/* the same names as v; only images (the rows) are previewed */
	for (size_t i = 0; i < v->tree.n; i++) {
		long row = v->vkind == VK_COMMIT ? folio_index_find(ix, v->tree.v[i].path) :
						   (long)v->rows[i];
		if (row < 0)
			continue;
		if (folio_tree_push(&nv->tree, &v->tree.v[i]) < 0)
			goto nomem;
	}
	if (!(nv->rows = malloc((nv->tree.n ? nv->tree.n : 1) * sizeof *nv->rows)) ||
	    !(nv->prev = calloc(nv->tree.n ? nv->tree.n : 1, sizeof *nv->prev)))
		goto nomem;
	for (size_t i = 0; i < nv->tree.n; i++) {
		long row = folio_index_find(ix, nv->tree.v[i].path);
		if (v->vkind != VK_COMMIT) {
			/* names may be rank names: find the row through v */
			const folio_entry *e = folio_tree_find(&v->tree, nv->tree.v[i].path);
			row = e ? (long)v->rows[e - v->tree.v] : -1;
		}
		nv->rows[i] = row < 0 ? FOLIO_NONE : (uint32_t)row;
	}
	if ((rc = fs_version_index(nv)) < 0) {
		fs_version_free(nv);
		return rc;
	}
	*out = fs_version_publish(f, nv);
	return 0;
nomem:
	fs_version_free(nv);
	return -ENOMEM;
}

static unsigned class_color(const char *name)
{
	static const unsigned pal[] = { 0xe6194b, 0x3cb44b, 0x4363d8, 0xf58231, 0x911eb4,
					0x46f0f0, 0xf032e6, 0xbcf60c, 0x008080, 0x9a6324 };
	return pal[folio_fnv1a_str(name) % (sizeof pal / sizeof pal[0])];
}

/* A preview entry's state (0 not rendered, 1 rendered into e, -1 failed
 * with *err set). */
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

node *fs_preview_node(fs *f, version *v, uint32_t entry, int *err)
{
	prevent *pe = &v->prev[entry];
	folio_entry e = v->tree.v[entry];
	folio_index *ix = v->base->ix;   /* built before the preview folder */
	void *out = NULL;
	size_t len = 0;
	int state;

	if ((state = prev_get(v, pe, &e, err)) < 0)
		return NULL;
	if (state == 0) {
		uint32_t row = v->rows[entry];
		const folio_sample *s = row == FOLIO_NONE || !ix ? NULL : &ix->samples[row];
		folio_object_info info;
		folio_render_box *boxes = NULL;
		size_t nb = 0;
		int rc = 0;
		char (*labels)[160] = NULL;

		if (!s || (rc = folio_store_stat(&info, f->repo->store, &s->oid)) < 0 ||
		    info.form != FOLIO_OBJECT_RAW) {
			rc = rc < 0 ? rc : FOLIO_EIO;
			goto rendered;
		}
		/* ground truth, then predictions with their scores */
		for (int pred = 0; pred < 2; pred++) {
			uint32_t ann = pred ? s->pred : s->gt;
			folio_annotation a;
			if (ann == FOLIO_NONE || folio_index_annotation(&a, ix, ann, s) < 0)
				continue;
			folio_render_box *nbx = realloc(boxes, (nb + a.nobjects + 1) * sizeof *boxes);
			char (*nl)[160] = realloc(labels, (nb + a.nobjects + 1) * sizeof *labels);
			if (nbx)
				boxes = nbx;
			if (nl)
				labels = nl;
			for (size_t k = 0; nbx && nl && k < a.nobjects; k++) {
				const folio_object *ob = &a.objects[k];
				if (!ob->has_box || folio_annotation_relative(&a))
					continue;
				if (ob->has_score)
					snprintf(labels[nb], sizeof labels[nb], "%s %.2f", ob->cls, ob->score);
				else
					snprintf(labels[nb], sizeof labels[nb], "%s", ob->cls);
				boxes[nb] = (folio_render_box){ ob->box.x, ob->box.y, ob->box.w, ob->box.h,
								NULL, class_color(ob->cls) };
				nb++;
			}
			folio_index_annotation_clear(&a);
		}
		for (size_t k = 0; k < nb; k++)
			boxes[k].label = labels[k];
		rc = folio_render_preview(&out, &len, info.path, folio_index_path(ix, s), boxes, nb);
		if (rc == 0)
			rc = folio_store_put_buf(&e.oid, f->gen, out, len);
		e.size = len;
rendered:
		if (rc < 0)
			fs_log("preview of %s: %s", v->tree.v[entry].path, folio_error_last());
		free(out);
		free(boxes);
		free(labels);
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

/* ---- @history ----------------------------------------------------------- */

#define HISTORY_MAX 1000   /* commits walked back from a version */

typedef struct hist {
	char (*ids)[FOLIO_COMMIT_HEXSZ + 1];
	int64_t *times;
	size_t n, cap;
} hist;

static int hist_cb(const folio_commit_info *ci, void *payload)
{
	hist *h = payload;
	if (h->n == h->cap) {
		size_t c = h->cap ? h->cap * 2 : 64;
		void *a = realloc(h->ids, c * sizeof *h->ids), *b;
		if (!a)
			return -1;
		h->ids = a;
		if (!(b = realloc(h->times, c * sizeof *h->times)))
			return -1;
		h->times = b;
		h->cap = c;
	}
	memcpy(h->ids[h->n], ci->id, sizeof h->ids[h->n]);
	h->times[h->n++] = ci->time;
	return 0;
}

/* The folder of every version of file `path` up to commit b: one entry
 * per commit that gave the file new content, named by date and id. */
static int history_view(version **out, fs *f, version *b, const char *path)
{
	char id[FOLIO_COMMIT_HEXSZ + 1];
	hist h = { 0 };
	version *nv = NULL;
	int rc;

	view_id(id, b, "history", path);
	if ((*out = fs_version_find(f, id)))
		return 0;
	pthread_mutex_lock(&f->git_lock);
	rc = folio_version_log(f->repo->version, b->id, HISTORY_MAX, hist_cb, &h);
	pthread_mutex_unlock(&f->git_lock);
	if (rc < 0) {
		fs_log("history of %s: %s", path, folio_error_last());
		rc = -fs_errno(rc);
		goto done;
	}
	if (!(nv = view_new(b, VK_OUTPUT, "history", path))) {
		rc = -ENOMEM;
		goto done;
	}
	/* oldest first: keep a commit when the content differs from the
	 * last one kept (or the file came back) */
	const folio_entry *last = NULL;
	for (size_t i = h.n; i-- > 0;) {
		version *cv;
		if ((rc = fs_version_get(&cv, f, h.ids[i])) < 0)
			goto done;
		const folio_entry *e = folio_tree_find(&cv->tree, path);
		if (e && (!last || folio_oid_cmp(&last->oid, &e->oid) || last->mode != e->mode)) {
			char name[128];
			struct tm tm;
			time_t t = (time_t)h.times[i];
			const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
			gmtime_r(&t, &tm);
			size_t k = strftime(name, sizeof name, "%Y-%m-%dT%H%M%SZ", &tm);
			snprintf(name + k, sizeof name - k, "-%.12s%s", h.ids[i],
				 dot && (!slash || dot > slash) && strlen(dot) < 16 ? dot : "");
			folio_entry c = *e;
			c.path = name;
			if (folio_tree_push(&nv->tree, &c) < 0) {
				rc = -ENOMEM;
				goto done;
			}
		}
		last = e;
	}
	folio_tree_sort(&nv->tree);
	if ((rc = fs_version_index(nv)) < 0)
		goto done;
	*out = fs_version_publish(f, nv);
	nv = NULL;
done:
	fs_version_free(nv);
	free(h.ids);
	free(h.times);
	return rc;
}

/* ---- menus ------------------------------------------------------------- */

/* Menu kinds (node->kind of N_VMENU). */
enum {
	M_AT = '@', M_WHERE = 'w', M_BY = 'b', M_BYFIELD = 'f', M_SLICES = 's',
	M_SAMPLE = 'n', M_SORT = 'o', M_LIMIT = 'l', M_BALANCE = 'a', M_EXPORT = 'e',
	M_HISTORY = 'h',         /* name: a folder path of the commit ("" = root) */
};

static const struct {
	const char *name;
	char menu;               /* 0: not a menu */
} at_names[] = {
	{ "@balance", M_BALANCE }, { "@by", M_BY }, { "@export", M_EXPORT }, { "@history", M_HISTORY },
	{ "@limit", M_LIMIT }, { "@preview", 0 }, { "@sample", M_SAMPLE },
	{ "@slices", M_SLICES }, { "@sort", M_SORT }, { "@stats", 0 }, { "@where", M_WHERE },
};
#define NAT (sizeof at_names / sizeof at_names[0])

static const char *const export_names[] = {
	"coco", "files.txt", "imagefolder", "manifest.csv", "voc", "yolo",
};
#define NEXPORT (sizeof export_names / sizeof export_names[0])

static node *menu_node(fs *f, version *v, char kind, const char *arg)
{
	char key[600];
	snprintf(key, sizeof key, "\001menu %c %s", kind, arg);
	uint64_t ino = fs_vdir_ino(v, key, strlen(key));
	node *n = fs_node_get(f, ino);

	if (n)
		return n;
	if (!(n = fs_node_new(ino, N_VMENU)))
		return NULL;
	n->v = v;
	n->kind = kind;
	n->mtime = v->time;
	if (!(n->name = strdup(arg))) {
		free(n);
		return NULL;
	}
	return fs_node_put(f, n);
}

static node *view_root(fs *f, version *nv, int rc, int *err)
{
	if (rc < 0) {
		*err = -rc;
		return NULL;
	}
	node *n = fs_vdir_node(f, nv, 0);
	if (!n)
		*err = ENOMEM;
	return n;
}

/* A name of the @ menu, looked up from folder v. */
static node *at_child(fs *f, version *v, const char *name, int *err)
{
	version *nv = NULL;

	for (size_t i = 0; i < NAT; i++) {
		if (strcmp(at_names[i].name, name))
			continue;
		if (at_names[i].menu == M_HISTORY && v->vkind != VK_COMMIT)
			return NULL;   /* history is of files of a version, not of a set */
		if (at_names[i].menu) {
			node *n = menu_node(f, v, at_names[i].menu, "");
			if (!n)
				*err = ENOMEM;
			return n;
		}
		if (v->vkind == VK_OUTPUT || v->vkind == VK_PREVIEW)
			return NULL;
		int rc = !strcmp(name, "@stats") ? output_view(&nv, f, v, "stats") :
						   preview_view(&nv, f, v);
		return view_root(f, nv, rc, err);
	}
	if (!strcmp(name, "@")) {
		node *n = menu_node(f, v, M_AT, "");
		if (!n)
			*err = ENOMEM;
		return n;
	}
	return NULL;
}

node *fs_view_child(fs *f, node *p, const char *name, int *err)
{
	version *v = p->v, *nv = NULL;
	int rc;

	*err = ENOENT;
	if (p->type == N_VDIR) {
		if (p->dir != 0 || v->vkind == VK_OUTPUT || v->vkind == VK_PREVIEW)
			return NULL;
		return at_child(f, v, name, err);
	}
	switch (p->kind) {
	case M_AT:
		return at_child(f, v, name, err);
	case M_BY: {
		const char *const *fl = folio_facet_fields();
		for (size_t i = 0; fl[i]; i++)
			if (!strcmp(fl[i], name)) {
				node *n = menu_node(f, v, M_BYFIELD, name);
				if (!n)
					*err = ENOMEM;
				return n;
			}
		return NULL;
	}
	case M_BYFIELD: {
		const char *segs[3] = { "@by", p->name, name };
		rc = stage_view(&nv, f, v, segs, 3);
		return view_root(f, nv, rc, err);
	}
	case M_HISTORY: {
		/* mirror the commit's folders; a file becomes the folder of its versions */
		char path[FOLIO_PATH_BUF];
		snprintf(path, sizeof path, "%s%s%s", p->name, *p->name ? "/" : "", name);
		if (folio_tree_find(&v->tree, path)) {
			rc = history_view(&nv, f, v, path);
			return view_root(f, nv, rc, err);
		}
		size_t pl = strlen(path);
		for (size_t i = 0; i < v->tree.n; i++)
			if (!strncmp(v->tree.v[i].path, path, pl) && v->tree.v[i].path[pl] == '/') {
				node *n = menu_node(f, v, M_HISTORY, path);
				if (!n)
					*err = ENOMEM;
				return n;
			}
		return NULL;
	}
	case M_EXPORT:
		for (size_t i = 0; i < NEXPORT; i++) {
			if (strcmp(export_names[i], name))
				continue;
			if ((rc = output_view(&nv, f, v, name)) < 0) {
				*err = -rc;
				return NULL;
			}
			if (strchr(name, '.')) {
				/* a single file: the one entry of its output */
				if (!nv->tree.n)
					return NULL;
				node *n = fs_ventry_node(f, nv, &nv->tree.v[0]);
				if (!n)
					*err = ENOMEM;
				return n;
			}
			return view_root(f, nv, 0, err);
		}
		return NULL;
	default: {
		static const struct { char kind; const char *stage; } st[] = {
			{ M_WHERE, "@where" }, { M_SLICES, "@slices" }, { M_SAMPLE, "@sample" },
			{ M_SORT, "@sort" }, { M_LIMIT, "@limit" }, { M_BALANCE, "@balance" },
		};
		for (size_t i = 0; i < sizeof st / sizeof st[0]; i++)
			if (st[i].kind == p->kind) {
				const char *segs[2] = { st[i].stage, name };
				rc = stage_view(&nv, f, v, segs, 2);
				return view_root(f, nv, rc, err);
			}
		return NULL;
	}
	}
}

static int dirents_add(fs_dirent **d, size_t *n, size_t *cap, const char *name, int is_dir)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		fs_dirent *nd = realloc(*d, c * sizeof *nd);
		if (!nd)
			return -ENOMEM;
		*d = nd;
		*cap = c;
	}
	if (!((*d)[*n].name = strdup(name)))
		return -ENOMEM;
	(*d)[(*n)++].is_dir = is_dir;
	return 0;
}

void fs_dirents_free(fs_dirent *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(d[i].name);
	free(d);
}

int fs_view_list(fs *f, node *p, fs_dirent **out, size_t *n)
{
	version *v = p->v, *b = base_of(v);
	size_t cap = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	switch (p->kind) {
	case M_AT:
		for (size_t i = 0; i < NAT && !rc; i++)
			rc = dirents_add(out, n, &cap, at_names[i].name, 1);
		break;
	case M_BY: {
		const char *const *fl = folio_facet_fields();
		for (size_t i = 0; fl[i] && !rc; i++)
			rc = dirents_add(out, n, &cap, fl[i], 1);
		break;
	}
	case M_BYFIELD: {
		folio_index *ix;
		folio_set set = { 0 };
		folio_facet *fv = NULL;
		size_t nf = 0;
		if ((rc = table_of(f, b, &ix)) < 0 || (rc = set_of(&set, v, ix)) < 0)
			break;
		if (folio_set_facets(&fv, &nf, ix, &set, p->name) < 0)
			rc = -EINVAL;
		for (size_t i = 0; i < nf && !rc; i++)
			rc = dirents_add(out, n, &cap, fv[i].value, 1);
		folio_facets_free(fv, nf);
		folio_set_clear(&set);
		break;
	}
	case M_SLICES: {
		size_t pl = strlen(SLICE_DIR);
		for (size_t i = 0; i < b->tree.n && !rc; i++) {
			const char *path = b->tree.v[i].path;
			size_t len = strlen(path);
			if (strncmp(path, SLICE_DIR, pl) || len < pl + 6 ||
			    strcmp(path + len - 5, ".json") || strchr(path + pl, '/'))
				continue;
			char name[256];
			snprintf(name, sizeof name, "%.*s", (int)(len - pl - 5), path + pl);
			if (folio_slice_name_valid(name))
				rc = dirents_add(out, n, &cap, name, 1);
		}
		break;
	}
	case M_HISTORY: {
		/* the names in the commit's folder p->name */
		uint32_t dir = 0;
		const char *rest = p->name;
		while (*rest) {
			const char *sl = strchr(rest, '/');
			char part[FOLIO_PATH_MAX];
			snprintf(part, sizeof part, "%.*s", (int)(sl ? (size_t)(sl - rest) : strlen(rest)), rest);
			const vchild *c = fs_vdir_lookup(v, dir, part);
			if (!c || !c->is_dir)
				return -ENOENT;
			dir = c->idx;
			rest = sl ? sl + 1 : "";
		}
		const vdir *d = &v->dirs[dir];
		for (uint32_t i = 0; i < d->count && !rc; i++) {
			const vchild *c = &v->children[d->first + i];
			char nm[FOLIO_PATH_MAX];
			snprintf(nm, sizeof nm, "%.*s", (int)c->len, c->name);
			rc = dirents_add(out, n, &cap, nm, 1);
		}
		break;
	}
	case M_EXPORT:
		for (size_t i = 0; i < NEXPORT && !rc; i++)
			rc = dirents_add(out, n, &cap, export_names[i], !strchr(export_names[i], '.'));
		break;
	default:
		break;   /* @where, @sample, ...: names are typed, not listed */
	}
	if (rc < 0) {
		fs_dirents_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}
