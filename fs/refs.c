/*
 * refs.c — the refs snapshot (branches, tags, reachable commits) and the
 * thread that keeps it fresh.
 *
 * Every 250 ms the watcher fingerprints git's ref storage with stat() (HEAD,
 * packed-refs, every file and folder under refs/) — cheap, no libgit2 —
 * and only when that changes does it read the refs through libgit2 and
 * publish a new immutable snapshot. It then tells the kernel to drop what
 * it cached about branches/, tags/, log/ and commits/ and the entry of
 * every ref that moved, came or went, so new commits, branches and tags
 * show within a second without a remount. A moved ref's name then resolves
 * to a folder with another inode (fs.h), which the kernel takes as a new
 * folder; whoever is inside the old one keeps it.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"

refsnap *fs_refs_acquire(fs *f)
{
	pthread_mutex_lock(&f->refs_lock);
	refsnap *r = f->refs;
	if (r)
		atomic_fetch_add(&r->refcount, 1);
	pthread_mutex_unlock(&f->refs_lock);
	return r;
}

static void snap_free(refsnap *r)
{
	for (size_t i = 0; i < r->nbranches; i++)
		free(r->branches[i].name);
	for (size_t i = 0; i < r->ntags; i++)
		free(r->tags[i].name);
	free(r->branches);
	free(r->tags);
	free(r->commits);
	free(r->by_time);
	free(r);
}

void fs_refs_release(refsnap *r)
{
	if (r && atomic_fetch_sub(&r->refcount, 1) == 1)
		snap_free(r);
}

static void fp_mix(uint64_t *h, const struct stat *st)
{
	int64_t v[4] = { (int64_t)st->st_ino, (int64_t)st->st_size,
			 (int64_t)st->st_mtim.tv_sec, (int64_t)st->st_mtim.tv_nsec };
	*h = fs_hash(v, sizeof v, *h);
}

static void fp_tree(uint64_t *h, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct stat st;
	char p[FOLIO_PATH_MAX];

	if (!d || depth > 32) {
		if (d)
			closedir(d);
		return;
	}
	if (fstat(dirfd(d), &st) == 0)
		fp_mix(h, &st);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		if (lstat(p, &st) < 0)
			continue;
		*h = fs_hash(de->d_name, strlen(de->d_name), *h);
		fp_mix(h, &st);
		if (S_ISDIR(st.st_mode))
			fp_tree(h, p, depth + 1);
	}
	closedir(d);
}

static uint64_t fingerprint(fs *f)
{
	char p[FOLIO_PATH_MAX];
	struct stat st;
	uint64_t h = 42;

	snprintf(p, sizeof p, "%s/git/HEAD", f->repo_path);
	if (stat(p, &st) == 0)
		fp_mix(&h, &st);
	snprintf(p, sizeof p, "%s/git/packed-refs", f->repo_path);
	if (stat(p, &st) == 0)
		fp_mix(&h, &st);
	snprintf(p, sizeof p, "%s/git/refs", f->repo_path);
	fp_tree(&h, p, 0);
	return h;
}

typedef struct collect {
	refent *v;
	size_t n, cap;
	int err;
} collect;

static int ref_cb(const folio_ref_info *ref, void *payload)
{
	collect *c = payload;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		refent *v = realloc(c->v, cap * sizeof *v);
		if (!v)
			return c->err = -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	if (!(c->v[c->n].name = strdup(ref->name)))
		return c->err = -ENOMEM;
	memcpy(c->v[c->n].id, ref->target, sizeof c->v[c->n].id);
	c->n++;
	return 0;
}

typedef struct ccollect {
	commitent *v;
	size_t n, cap;
	int err;
} ccollect;

static int log_cb(const folio_commit_info *ci, void *payload)
{
	ccollect *c = payload;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		commitent *v = realloc(c->v, cap * sizeof *v);
		if (!v)
			return c->err = -ENOMEM;
		c->v = v;
		c->cap = cap;
	}
	commitent *e = &c->v[c->n++];
	memcpy(e->id, ci->id, sizeof e->id);
	e->time = ci->time;
	time_t t = (time_t)ci->time;
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t k = strftime(e->logname, sizeof e->logname, "%Y-%m-%dT%H%M%SZ", &tm);
	snprintf(e->logname + k, sizeof e->logname - k, "-%.12s", ci->id);
	return 0;
}

static int cmp_commit_id(const void *a, const void *b)
{
	return strcmp(((const commitent *)a)->id, ((const commitent *)b)->id);
}

static int cmp_commit_time(const void *a, const void *b)
{
	const commitent *x = *(commitent *const *)a, *y = *(commitent *const *)b;

	if (x->time != y->time)
		return x->time > y->time ? -1 : 1;
	return strcmp(x->id, y->id);
}

static int build_snapshot(refsnap **out, fs *f, uint64_t fp)
{
	refsnap *r = calloc(1, sizeof *r);
	collect b = { 0 }, t = { 0 };
	ccollect cc = { 0 };
	int rc = -ENOMEM;

	if (!r)
		return -ENOMEM;
	atomic_init(&r->refcount, 1);
	r->fingerprint = fp;
	r->stamp = (int64_t)time(NULL);
	if (folio_version_refs(f->watch_version, 0, ref_cb, &b) < 0 || b.err ||
	    folio_version_refs(f->watch_version, 1, ref_cb, &t) < 0 || t.err) {
		fs_log("cannot read refs: %s", folio_error_last());
		rc = -EIO;
		goto fail;
	}
	r->branches = b.v; r->nbranches = b.n; b.v = NULL;
	r->tags = t.v; r->ntags = t.n; t.v = NULL;
	/* Every commit reachable from a ref, once. */
	for (size_t i = 0; i < r->nbranches + r->ntags; i++) {
		const refent *e = i < r->nbranches ? &r->branches[i] : &r->tags[i - r->nbranches];
		size_t before = cc.n;
		int seen = 0;
		for (size_t k = 0; k < before && !seen; k++)
			seen = strcmp(cc.v[k].id, e->id) == 0;
		if (seen)
			continue;
		if (folio_version_log(f->watch_version, e->id, 0, log_cb, &cc) < 0 || cc.err) {
			fs_log("cannot read history of %s: %s", e->name, folio_error_last());
			rc = -EIO;
			goto fail;
		}
	}
	if (cc.n)
		qsort(cc.v, cc.n, sizeof *cc.v, cmp_commit_id);
	size_t w = 0;
	for (size_t i = 0; i < cc.n; i++)
		if (w == 0 || strcmp(cc.v[w - 1].id, cc.v[i].id) != 0)
			cc.v[w++] = cc.v[i];
	r->commits = cc.v;
	r->ncommits = w;
	cc.v = NULL;
	r->by_time = malloc((w ? w : 1) * sizeof *r->by_time);
	if (!r->by_time)
		goto fail;
	for (size_t i = 0; i < w; i++)
		r->by_time[i] = &r->commits[i];
	if (w)
		qsort(r->by_time, w, sizeof *r->by_time, cmp_commit_time);
	*out = r;
	return 0;
fail:
	for (size_t i = 0; i < b.n; i++)
		free(b.v[i].name);
	for (size_t i = 0; i < t.n; i++)
		free(t.v[i].name);
	free(b.v);
	free(t.v);
	free(cc.v);
	snap_free(r);
	return rc;
}

const commitent *fs_refs_commit(const refsnap *r, const char *name, int *ambiguous)
{
	size_t len = strlen(name), lo = 0, hi = r->ncommits;

	*ambiguous = 0;
	if (len < 4 || len > FOLIO_COMMIT_HEXSZ)
		return NULL;
	for (size_t i = 0; i < len; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strncmp(r->commits[mid].id, name, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= r->ncommits || strncmp(r->commits[lo].id, name, len) != 0)
		return NULL;
	if (len < FOLIO_COMMIT_HEXSZ && lo + 1 < r->ncommits &&
	    strncmp(r->commits[lo + 1].id, name, len) == 0) {
		*ambiguous = 1;
		return NULL;
	}
	return &r->commits[lo];
}

static uint64_t reflink_ino(char kind, const char *name)
{
	uint64_t h = fs_hash(&kind, 1, 0x4ef);
	/* bit 60 set, bits 61-62 clear: apart from version inodes (fs.h) */
	return (fs_hash(name, strlen(name), h) & ((1ull << 60) - 1)) | (1ull << 60);
}

uint64_t fs_ref_seed(char kind, const char *name)
{
	uint64_t h = fs_hash(name, strlen(name), fs_hash(&kind, 1, 0x5eed5));

	return h ? h : 1;
}

/* Drops the kernel's entry for a branch or tag that moved, went away or
 * came, and the listings of the folders of names above it. */
static void inval_ref(fs *f, int tag, const char *name)
{
	uint64_t parent = tag ? FS_INO_TAGS : FS_INO_BRANCHES;
	const char *base = name;
	char dir[1024];

	for (const char *s = strchr(name, '/'); s; s = strchr(s + 1, '/')) {
		snprintf(dir, sizeof dir, "%.*s", (int)(s - name), name);
		parent = reflink_ino(tag ? 'T' : 'B', dir);
		fuse_lowlevel_notify_inval_inode(f->se_ro, parent, 0, 0);
		base = s + 1;
	}
	/* -ENOENT when the kernel holds no such entry: nothing to drop */
	fuse_lowlevel_notify_inval_entry(f->se_ro, parent, base, strlen(base));
}

/* Refs are sorted by name; a miss only costs a needless invalidation. */
static const refent *find_ref(const refent *v, size_t n, const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(v[mid].name, name);
		if (c == 0)
			return &v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Tells the kernel which refs moved, vanished or came between two
 * snapshots. */
static void invalidate(fs *f, const refsnap *old, const refsnap *cur)
{
	static const uint64_t dirs[] = { FS_INO_BRANCHES, FS_INO_TAGS, FS_INO_COMMITS, FS_INO_LOG };

	if (!f->se_ro)
		return;
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
		fuse_lowlevel_notify_inval_inode(f->se_ro, dirs[i], 0, 0);
	for (int tag = 0; tag < 2 && old; tag++) {
		const refent *ov = tag ? old->tags : old->branches;
		size_t on = tag ? old->ntags : old->nbranches;
		const refent *nv = tag ? cur->tags : cur->branches;
		size_t nn = tag ? cur->ntags : cur->nbranches;
		for (size_t i = 0; i < on; i++) {
			const refent *match = find_ref(nv, nn, ov[i].name);
			if (!match || strcmp(match->id, ov[i].id) != 0)
				inval_ref(f, tag, ov[i].name);
		}
		for (size_t i = 0; i < nn; i++)
			if (!find_ref(ov, on, nv[i].name))
				inval_ref(f, tag, nv[i].name);
	}
}

static void *watch(void *arg)
{
	fs *f = arg;
	struct timespec step = { 0, 250 * 1000 * 1000 };

	while (!atomic_load(&f->stop)) {
		nanosleep(&step, NULL);
		uint64_t fp = fingerprint(f);
		refsnap *old = fs_refs_acquire(f);
		if (old && old->fingerprint == fp) {
			fs_refs_release(old);
			continue;
		}
		refsnap *cur = NULL;
		if (build_snapshot(&cur, f, fp) == 0) {
			pthread_mutex_lock(&f->refs_lock);
			refsnap *prev = f->refs;
			f->refs = cur;
			pthread_mutex_unlock(&f->refs_lock);
			FS_LOG(f, "refs changed: %zu branches, %zu tags, %zu commits",
			       cur->nbranches, cur->ntags, cur->ncommits);
			invalidate(f, old, cur);
			fs_refs_release(prev);
		}
		fs_refs_release(old);
	}
	return NULL;
}

int fs_refs_start(fs *f)
{
	char gitdir[FOLIO_PATH_BUF];
	refsnap *r = NULL;
	int rc;

	snprintf(gitdir, sizeof gitdir, "%s/git", f->repo_path);
	if ((rc = folio_version_open(&f->watch_version, gitdir)) < 0)
		return rc;
	if ((rc = build_snapshot(&r, f, fingerprint(f))) < 0)
		return folio_error_set(FOLIO_EIO, "cannot read the refs of %s", f->repo_path);
	f->refs = r;
	if (pthread_create(&f->watcher, NULL, watch, f) != 0)
		return folio_error_set(FOLIO_ERROR, "cannot start the refs watcher thread");
	return 0;
}

void fs_refs_stop_watcher(fs *f)
{
	atomic_store(&f->stop, 1);
	if (f->watch_version) {
		pthread_join(f->watcher, NULL);
		folio_version_free(f->watch_version);
		f->watch_version = NULL;
	}
}

void fs_refs_stop(fs *f)
{
	fs_refs_stop_watcher(f);
	fs_refs_release(f->refs);
	f->refs = NULL;
}

uint64_t fs_reflink_ino(char kind, const char *name)
{
	return reflink_ino(kind, name);
}
