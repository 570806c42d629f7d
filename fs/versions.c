/*
 * versions.c — per-version directory indexes.
 *
 * The first access to commits/<id>/ reads the commit's tree once (the only
 * libgit2 call on the read side, under git_lock) and builds an index:
 * every folder with its children sorted by name, so lookup is a binary
 * search and readdir a slice. The index is shared by all readers and never
 * changes; the request path only reads it, allocating nothing.
 *
 * Folder nodes are per place (fs.h): the index is built once, and each
 * place a version is reached from (commits/<id>/, tags/v1, ...) gets its
 * own small folder nodes over it, numbered by fs_instance_ino.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "folio/index.h"
#include "fs.h"

#define TAG_SHIFT 61
#define TAG_DIR (1ull << TAG_SHIFT)
#define TAG_FILE (2ull << TAG_SHIFT)
#define TAG_LINK (3ull << TAG_SHIFT)
#define INO_MASK ((1ull << TAG_SHIFT) - 1)

uint64_t fs_commit_dir_ino(const char *id, const char *path, size_t len)
{
	uint64_t h = fs_hash(id, FOLIO_COMMIT_HEXSZ, 0x5eed);
	h = fs_hash(path, len, h);
	return (h & INO_MASK) | TAG_DIR;
}

uint64_t fs_vdir_ino(const version *v, const char *path, size_t len)
{
	return fs_commit_dir_ino(v->id, path, len);
}

uint64_t fs_instance_ino(uint64_t ino, uint64_t seed)
{
	if (!seed)
		return ino;
	/* keeps the type tag, so a folder stays apart from files and links */
	return (fs_hash(&ino, sizeof ino, seed) & INO_MASK) | (ino & ~INO_MASK);
}

static uint64_t content_ino(const folio_entry *e)
{
	uint64_t h = fs_hash(e->oid.id, sizeof e->oid.id, e->mode);
	return (h & INO_MASK) | (e->kind == FOLIO_ENTRY_LINK ? TAG_LINK : TAG_FILE);
}

/* Hash set of folder paths during the build: path -> dir index. */
typedef struct dirset {
	uint32_t *slot;   /* dir index + 1; 0 = empty */
	size_t cap;
} dirset;

static uint32_t dirset_find(const dirset *s, const vdir *dirs, const char *p, size_t n, size_t *pos)
{
	size_t i = fs_hash(p, n, 7) & (s->cap - 1);

	while (s->slot[i]) {
		const vdir *d = &dirs[s->slot[i] - 1];
		if (d->pathlen == n && memcmp(d->path, p, n) == 0) {
			*pos = i;
			return s->slot[i];
		}
		i = (i + 1) & (s->cap - 1);
	}
	*pos = i;
	return 0;
}

static int cmp_child(const void *a, const void *b, void *arg)
{
	const vchild *x = a, *y = b;
	const uint32_t *parent = arg;
	(void)parent;
	size_t l = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->name, y->name, l);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

typedef struct pchild {
	uint32_t parent;
	vchild c;
} pchild;

static int cmp_pchild(const void *a, const void *b)
{
	const pchild *x = a, *y = b;

	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	return cmp_child(&x->c, &y->c, NULL);
}

int fs_version_index(version *v)
{
	folio_tree *t = &v->tree;
	size_t maxdirs = 1;
	dirset set = { 0 };
	pchild *pc = NULL;
	size_t npc = 0;
	int rc = -ENOMEM;

	for (size_t i = 0; i < t->n; i++)
		for (const char *p = t->v[i].path; *p; p++)
			maxdirs += *p == '/';
	v->dirs = calloc(maxdirs, sizeof *v->dirs);
	set.cap = 16;
	while (set.cap < maxdirs * 2)
		set.cap <<= 1;
	set.slot = calloc(set.cap, sizeof *set.slot);
	pc = malloc((t->n + maxdirs) * sizeof *pc);
	if (!v->dirs || !set.slot || !pc)
		goto done;

	v->ndirs = 1;
	v->dirs[0].path = "";
	v->dirs[0].pathlen = 0;
	v->dirs[0].parent = 0;
	v->dirs[0].ino = fs_vdir_ino(v, "", 0);

	for (size_t i = 0; i < t->n; i++) {
		const char *path = t->v[i].path;
		uint32_t parent = 0;
		const char *start = path;
		for (const char *s = strchr(path, '/'); s; s = strchr(s + 1, '/')) {
			size_t n = (size_t)(s - path), pos;
			uint32_t d = dirset_find(&set, v->dirs, path, n, &pos);
			if (!d) {
				vdir *nd = &v->dirs[v->ndirs];
				nd->path = path;
				nd->pathlen = (uint32_t)n;
				nd->parent = parent;
				nd->ino = fs_vdir_ino(v, path, n);
				v->dirs[parent].nsub++;
				set.slot[pos] = (uint32_t)(v->ndirs + 1);
				d = (uint32_t)(++v->ndirs);
				pc[npc++] = (pchild){ parent, { start, (uint32_t)(s - start), 1, d - 1 } };
			}
			parent = d - 1;
			start = s + 1;
		}
		pc[npc++] = (pchild){ parent, { start, (uint32_t)strlen(start), 0, (uint32_t)i } };
	}
	qsort(pc, npc, sizeof *pc, cmp_pchild);
	v->children = malloc((npc ? npc : 1) * sizeof *v->children);
	if (!v->children)
		goto done;
	v->nchildren = npc;
	for (size_t i = 0; i < npc; i++) {
		v->children[i] = pc[i].c;
		vdir *d = &v->dirs[pc[i].parent];
		if (d->count == 0)
			d->first = (uint32_t)i;
		d->count++;
	}
	rc = 0;
done:
	free(set.slot);
	free(pc);
	return rc;
}

void fs_version_free(version *v)
{
	if (!v)
		return;
	folio_tree_clear(&v->tree);
	free(v->dirs);
	free(v->children);
	free(v->pipeline);
	free(v->rows);
	free(v->prev);
	free(v->oargs);
	folio_index_free(v->ix);
	if (v->vkind == VK_PREVIEW)
		pthread_mutex_destroy(&v->prev_lock);
	free(v);
}

version *fs_version_find(fs *f, const char *id)
{
	version *v;

	pthread_mutex_lock(&f->versions_lock);
	for (v = f->versions; v; v = v->next)
		if (strcmp(v->id, id) == 0)
			break;
	pthread_mutex_unlock(&f->versions_lock);
	return v;
}

version *fs_version_publish(fs *f, version *v)
{
	version *cur;

	pthread_mutex_lock(&f->versions_lock);
	for (cur = f->versions; cur; cur = cur->next)
		if (strcmp(cur->id, v->id) == 0)
			break;
	if (!cur) {
		v->next = f->versions;
		f->versions = v;
		cur = v;
		v = NULL;
	}
	pthread_mutex_unlock(&f->versions_lock);
	fs_version_free(v);
	return cur;
}

int fs_version_get(version **out, fs *f, const char *id)
{
	version *v;
	int rc;

	if ((v = fs_version_find(f, id))) {
		*out = v;
		return 0;
	}

	/* Build outside versions_lock; two builders of one version race
	 * harmlessly and the loser's copy is dropped. */
	if (!(v = calloc(1, sizeof *v)))
		return -ENOMEM;
	memcpy(v->id, id, FOLIO_COMMIT_HEXSZ + 1);
	folio_commit_info ci = { 0 };
	pthread_mutex_lock(&f->git_lock);
	rc = folio_version_read_tree(&v->tree, f->repo->version, id);
	if (rc == 0)
		rc = folio_version_commit_info(&ci, f->repo->version, id);
	if (rc < 0)
		fs_log("cannot load version %s: %s", id, folio_error_last());
	pthread_mutex_unlock(&f->git_lock);
	if (rc < 0) {
		folio_commit_info_clear(&ci);
		fs_version_free(v);
		return -fs_errno(rc);
	}
	v->time = ci.time;
	folio_commit_info_clear(&ci);
	if ((rc = fs_version_index(v)) < 0) {
		fs_version_free(v);
		return rc;
	}

	version *cur = fs_version_publish(f, v);
	FS_LOG(f, "loaded version %.12s: %zu files, %zu folders", cur->id, cur->tree.n, cur->ndirs);
	*out = cur;
	return 0;
}

void fs_versions_clear(fs *f)
{
	version *v = f->versions;

	while (v) {
		version *next = v->next;
		fs_version_free(v);
		v = next;
	}
	f->versions = NULL;
}

const vchild *fs_vdir_lookup(const version *v, uint32_t dir, const char *name)
{
	const vdir *d = &v->dirs[dir];
	size_t lo = d->first, hi = (size_t)d->first + d->count;
	size_t len = strlen(name);

	if (d->count == 0)
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const vchild *c = &v->children[mid];
		size_t l = c->len < len ? c->len : len;
		int r = memcmp(c->name, name, l);
		if (!r)
			r = (c->len > len) - (c->len < len);
		if (r == 0)
			return c;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

node *fs_vdir_instance(fs *f, version *v, uint32_t dir, uint64_t seed)
{
	uint64_t ino = fs_instance_ino(v->dirs[dir].ino, seed);
	node *n = fs_node_get(f, ino);

	if (n)
		return n;
	if (!(n = fs_node_new(ino, N_VDIR)))
		return NULL;
	n->v = v;
	n->dir = dir;
	n->seed = seed;
	n->mtime = v->time;
	return fs_node_put(f, n);
}

node *fs_vdir_node(fs *f, version *v, uint32_t dir)
{
	return fs_vdir_instance(f, v, dir, 0);
}

node *fs_node_instance(fs *f, node *n, uint64_t seed)
{
	if (!n || !seed || n->seed == seed)
		return n;
	if (n->type == N_VDIR)
		return fs_vdir_instance(f, n->v, n->dir, seed);
	if (n->type != N_VMENU || n->seed)
		return n;   /* views.c hands out menus of commits/<id>/ only */
	/* a menu: the same version, view and arguments, numbered for seed */
	uint64_t ino = fs_instance_ino(n->ino, seed);
	node *c = fs_node_get(f, ino);
	if (c)
		return c;
	if (!(c = fs_node_new(ino, N_VMENU)))
		return NULL;
	c->v = n->v;
	c->kind = n->kind;
	c->view = n->view;
	c->mtime = n->mtime;
	c->seed = seed;
	if (!(c->name = strdup(n->name ? n->name : ""))) {
		free(c);
		return NULL;
	}
	return fs_node_put(f, c);
}

node *fs_ventry_node(fs *f, version *v, const folio_entry *e)
{
	uint64_t ino = content_ino(e);
	node *n = fs_node_get(f, ino);

	if (n)
		return n;
	if (!(n = fs_node_new(ino, e->kind == FOLIO_ENTRY_LINK ? N_VLINK : N_VFILE)))
		return NULL;
	n->oid = e->oid;
	n->size = e->size;
	n->mode = e->mode;
	n->mtime = v->time;
	return fs_node_put(f, n);
}
