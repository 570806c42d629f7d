/*
 * fsck.c — checking and cleaning a repository: fsck and gc.
 *
 * fsck recomputes the hash of every object in the store with the pool of
 * threads (pool.c; one per core: hashing is CPU-bound), then walks every
 * commit reachable from any ref through libgit2 (core/version: each tree
 * read once however many commits share it) and checks that every file a
 * version refers to has a sound object, and the same for the staged files.
 * Each problem is handed to the caller as it is found, on the calling
 * thread. fsck takes no lock: it only reads, and what a concurrent writer
 * adds is either complete (renamed into place) or not seen.
 *
 * gc removes objects that no ref and no staged file reaches. It takes the
 * objects lock exclusively and then the repository lock (the order `folio
 * add` uses): an add holds the objects lock shared from its first object
 * write until its stage is saved, so gc never drops an object a concurrent
 * add has just written, and refs and stage cannot move while gc decides.
 * If any git object cannot be read, gc refuses: it cannot know what that
 * object would have kept alive.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "folio/error.h"
#include "folio/repo.h"
#include "repo_int.h"

/* Temp files of writers older than this are a killed writer's. */
#define TMP_MAX_AGE 3600

/* ---- a sorted set of object ids ---- */

typedef struct oidvec {
	folio_oid *v;
	uint64_t *size;        /* stored size, only while unsorted (the store listing) */
	size_t n, cap;
} oidvec;

static int oidvec_push(oidvec *o, const folio_oid *id, uint64_t size)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 1024;
		folio_oid *v = realloc(o->v, cap * sizeof *v);
		if (!v)
			return folio_error_set(FOLIO_ENOMEM, "out of memory");
		o->v = v;
		uint64_t *s = realloc(o->size, cap * sizeof *s);
		if (!s)
			return folio_error_set(FOLIO_ENOMEM, "out of memory");
		o->size = s;
		o->cap = cap;
	}
	o->v[o->n] = *id;
	o->size[o->n] = size;
	o->n++;
	return 0;
}

static void oidvec_clear(oidvec *o)
{
	free(o->v);
	free(o->size);
	memset(o, 0, sizeof *o);
}

static int cmp_oid(const void *a, const void *b)
{
	return folio_oid_cmp(a, b);
}

/* Sorts the ids (sizes no longer match them afterwards). */
static void oidvec_sort(oidvec *o)
{
	if (o->n)
		qsort(o->v, o->n, sizeof *o->v, cmp_oid);
}

static int oidvec_has(const oidvec *o, const folio_oid *id)
{
	return o->n && bsearch(id, o->v, o->n, sizeof *o->v, cmp_oid) != NULL;
}

static int list_cb(const folio_oid *oid, const folio_object_info *info, void *payload)
{
	return oidvec_push(payload, oid, info->stored_size);
}

/* ---- fsck ---- */

typedef struct fsck_ctx {
	folio_repo *repo;
	const folio_fsck_opts *o;
	folio_fsck_report *out;
	oidvec objs;           /* every object of the store */
	oidvec bad;            /* those that failed verification (sorted after the pool) */
	int rc;                /* a fatal error in a callback (out of memory) */
} fsck_ctx;

static void problem(fsck_ctx *c, folio_fsck_kind kind, const char *message,
		    const char *path, const char *commit, const folio_oid *oid)
{
	folio_fsck_problem p = { kind, message, path, commit, oid };

	c->out->problems++;
	if (c->o->problem)
		c->o->problem(&p, c->o->payload);
}

static int verify_work(repo_pool *p, size_t i)
{
	fsck_ctx *c = p->arg;
	int rc = folio_store_verify(c->repo->store, &c->objs.v[i]);

	atomic_fetch_add(&p->bytes, c->objs.size[i]);
	return rc < 0 ? repo_pool_note(p, i, folio_error_last()) : 0;
}

static void verify_note(repo_pool *p, const repo_note *n)
{
	fsck_ctx *c = p->arg;

	if (c->rc == 0)
		c->rc = oidvec_push(&c->bad, &c->objs.v[n->item], 0);
	problem(c, FOLIO_FSCK_BAD_OBJECT, n->message, NULL, NULL, &c->objs.v[n->item]);
}

/* A file of a version or of the stage (commit NULL): is its object sound? */
static void check_file(fsck_ctx *c, const folio_entry *e, const char *commit)
{
	char hex[FOLIO_OID_HEXSZ + 1], msg[FOLIO_PATH_MAX + 256], where[FOLIO_PATH_MAX + 64];
	int missing = !folio_store_exists(c->repo->store, &e->oid);

	if (!missing && !oidvec_has(&c->bad, &e->oid))
		return;
	folio_oid_tohex(hex, &e->oid);
	if (commit)
		snprintf(where, sizeof where, "%s in commit %.12s", e->path, commit);
	else
		snprintf(where, sizeof where, "staged %s", e->path);
	snprintf(msg, sizeof msg, "%s: object %s is %s", where, hex,
		 missing ? "missing from the store" : "corrupt");
	problem(c, missing ? FOLIO_FSCK_MISSING : FOLIO_FSCK_CORRUPT, msg, e->path, commit, &e->oid);
}

static int fsck_entry_cb(const folio_entry *e, const char *commit, void *payload)
{
	fsck_ctx *c = payload;

	c->out->files++;
	/* blobs are in git, already read and hashed by the walk */
	if (e->kind == FOLIO_ENTRY_LFS)
		check_file(c, e, commit);
	return 0;
}

static void fsck_bad_cb(const char *message, void *payload)
{
	problem(payload, FOLIO_FSCK_BAD_GIT, message, NULL, NULL, NULL);
}

static int default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 16 ? 16 : (int)n;
}

int folio_repo_fsck(folio_fsck_report *out, folio_repo *repo, const folio_fsck_opts *opts)
{
	static const folio_fsck_opts none;
	fsck_ctx c;
	repo_pool p;
	folio_tree stage;
	char base[FOLIO_COMMIT_HEXSZ + 1];
	size_t nbad = 0;
	int rc;

	memset(out, 0, sizeof *out);
	memset(&c, 0, sizeof c);
	memset(&p, 0, sizeof p);
	folio_tree_init(&stage);
	c.repo = repo;
	c.o = opts ? opts : &none;
	c.out = out;
	if ((rc = folio_store_foreach(repo->store, list_cb, &c.objs)) < 0)
		goto cleanup;
	out->objects = c.objs.n;

	p.n = c.objs.n;
	p.threads = c.o->threads > 0 ? c.o->threads : default_threads();
	p.work = verify_work;
	p.note = verify_note;
	p.progress = c.o->progress;
	p.arg = &c;
	p.payload = c.o->payload;
	if ((rc = repo_pool_run(&p)) < 0 || (rc = c.rc) < 0)
		goto cleanup;
	out->bytes = atomic_load(&p.bytes);
	oidvec_sort(&c.bad);

	if ((rc = folio_version_walk_reachable(&out->commits, &nbad, repo->version, fsck_entry_cb,
					       fsck_bad_cb, &c)) < 0)
		goto cleanup;

	/* the stage must be readable and its objects sound too */
	if (folio_stage_load(&stage, base, repo) < 0) {
		problem(&c, FOLIO_FSCK_BAD_STAGE, folio_error_last(), NULL, NULL, NULL);
	} else {
		for (size_t i = 0; i < stage.n; i++)
			check_file(&c, &stage.v[i], NULL);
	}
	rc = 0;
cleanup:
	folio_tree_clear(&stage);
	oidvec_clear(&c.objs);
	oidvec_clear(&c.bad);
	return rc;
}

/* ---- gc ---- */

static int reach_cb(const folio_entry *e, const char *commit, void *payload)
{
	(void)commit;
	return oidvec_push(payload, &e->oid, 0);
}

typedef struct gc_ctx {
	const oidvec *reach;
	folio_store *store;
	const folio_gc_opts *o;
	folio_gc_report *out;
	int err;                /* the first removal that failed */
	char err_msg[1024];
} gc_ctx;

static int sweep_cb(const folio_oid *oid, const folio_object_info *info, void *payload)
{
	gc_ctx *g = payload;

	if (oidvec_has(g->reach, oid))
		return 0;
	if (!g->o->dry_run) {
		int rc = folio_store_remove(g->store, oid);
		if (rc < 0) {
			g->out->failed++;
			if (!g->err) {
				g->err = rc;
				snprintf(g->err_msg, sizeof g->err_msg, "%s", folio_error_last());
			}
			if (g->o->warn)
				g->o->warn(folio_error_last(), g->o->payload);
			return 0;
		}
	}
	g->out->removed++;
	g->out->freed += info->stored_size;
	return 0;
}

int folio_repo_gc(folio_gc_report *out, folio_repo *repo, const folio_gc_opts *opts)
{
	static const folio_gc_opts none;
	const folio_gc_opts *o = opts ? opts : &none;
	int had_objects = repo->objects_lock_fd >= 0, had_repo = repo->lock_fd >= 0;
	oidvec reach = { 0 };
	folio_tree stage;
	char base[FOLIO_COMMIT_HEXSZ + 1];
	size_t nbad = 0;
	gc_ctx g;
	int rc;

	memset(out, 0, sizeof *out);
	memset(&g, 0, sizeof g);
	folio_tree_init(&stage);
	/* lock order: objects, then repo (add takes them in the same order) */
	if ((rc = folio_repo_lock_objects(repo, 1, "folio gc")) < 0 ||
	    (rc = folio_repo_lock(repo, "folio gc")) < 0)
		goto cleanup;
	if ((rc = folio_version_walk_reachable(&out->commits, &nbad, repo->version, reach_cb, NULL,
					       &reach)) < 0)
		goto cleanup;
	if (nbad) {
		rc = folio_error_set(FOLIO_ECORRUPT,
			"%zu unreadable git objects; gc refuses to guess what is reachable (run `folio fsck`)",
			nbad);
		goto cleanup;
	}
	if ((rc = folio_stage_load(&stage, base, repo)) < 0)
		goto cleanup;
	for (size_t i = 0; i < stage.n; i++)
		if ((rc = oidvec_push(&reach, &stage.v[i].oid, 0)) < 0)
			goto cleanup;
	oidvec_sort(&reach);
	g.reach = &reach;
	g.store = repo->store;
	g.o = o;
	g.out = out;
	if ((rc = folio_store_foreach(repo->store, sweep_cb, &g)) < 0)
		goto cleanup;
	if (!o->dry_run)
		folio_store_clean_tmp(repo->store, o->tmp_max_age > 0 ? o->tmp_max_age : TMP_MAX_AGE);
	rc = g.err ? folio_error_set(g.err, "%s", g.err_msg) : 0;
cleanup:
	if (!had_repo)
		folio_repo_unlock(repo);
	if (!had_objects)
		folio_repo_unlock_objects(repo);
	folio_tree_clear(&stage);
	oidvec_clear(&reach);
	return rc;
}
