/*
 * cmd_maint.c — fsck and gc: checking and cleaning the repository.
 *
 * fsck recomputes the hash of every object in the store (in parallel, one
 * thread per core), then walks every commit reachable from any ref, reading
 * each tree and blob through libgit2, and checks that every file a version
 * refers to has a sound object. Problems are named (object file, path,
 * commit) and counted; the exit code is 5 if there were any.
 *
 * gc removes objects no ref and no staged file refers to. It holds the
 * objects lock exclusively: a running `folio add` holds it shared from its
 * first object write until its stage is saved, so gc can never drop an
 * object that a concurrent add just wrote.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

typedef struct oidvec {
	folio_oid *v;
	uint64_t *size;
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

static void oidvec_free(oidvec *o)
{
	free(o->v);
	free(o->size);
	memset(o, 0, sizeof *o);
}

static int cmp_oid(const void *a, const void *b)
{
	return folio_oid_cmp(a, b);
}

static void oidvec_sort(oidvec *o)
{
	/* sizes are only used before sorting; qsort wants a non-NULL base */
	if (o->n)
		qsort(o->v, o->n, sizeof *o->v, cmp_oid);
}

static int oidvec_has(const oidvec *o, const folio_oid *id)
{
	return o->n && bsearch(id, o->v, o->n, sizeof *o->v, cmp_oid) != NULL;
}

static int collect_cb(const folio_oid *oid, const folio_object_info *info, void *payload)
{
	return oidvec_push(payload, oid, info->stored_size);
}

typedef struct verify_pool {
	oidvec *objs;
	folio_store *store;
	atomic_size_t next, done;
	atomic_uint_fast64_t bytes;
	pthread_mutex_t lock;   /* guards bad */
	oidvec bad;
	int json;
} verify_pool;

static void *verify_worker(void *arg)
{
	verify_pool *p = arg;

	for (;;) {
		size_t i = atomic_fetch_add(&p->next, 1);
		if (i >= p->objs->n)
			break;
		int rc = folio_store_verify(p->store, &p->objs->v[i]);
		if (rc < 0) {
			pthread_mutex_lock(&p->lock);
			fprintf(stderr, "fsck: %s\n", folio_error_last());
			oidvec_push(&p->bad, &p->objs->v[i], 0);
			pthread_mutex_unlock(&p->lock);
		}
		atomic_fetch_add(&p->bytes, p->objs->size[i]);
		atomic_fetch_add(&p->done, 1);
	}
	return NULL;
}

typedef struct walk_state {
	folio_repo *repo;
	oidvec *bad;       /* sorted: objects that failed verification */
	oidvec *reach;     /* reachable object ids, for gc */
	size_t files, problems;
} walk_state;

static void bad_cb(const char *message, void *payload)
{
	walk_state *w = payload;

	fprintf(stderr, "fsck: %s\n", message);
	w->problems++;
}

static int entry_cb(const folio_entry *e, const char *commit, void *payload)
{
	walk_state *w = payload;
	char hex[FOLIO_OID_HEXSZ + 1];

	w->files++;
	if (w->reach)
		return oidvec_push(w->reach, &e->oid, e->size);
	if (e->kind != FOLIO_ENTRY_LFS)
		return 0; /* content is in git, already read and hashed by the walk */
	folio_oid_tohex(hex, &e->oid);
	if (!folio_store_exists(w->repo->store, &e->oid)) {
		fprintf(stderr, "fsck: %s in commit %.12s: object %s is missing from the store\n",
			e->path, commit, hex);
		w->problems++;
	} else if (oidvec_has(w->bad, &e->oid)) {
		fprintf(stderr, "fsck: %s in commit %.12s: object %s is corrupt\n", e->path, commit, hex);
		w->problems++;
	}
	return 0;
}

const char *const usage_fsck =
	"usage: folio fsck [--json]\n"
	"\n"
	"Verifies the repository: recomputes the SHA-256 of every object in the\n"
	"store, reads every commit, tree and blob reachable from any branch or\n"
	"tag, and checks that every file of every version has a sound object,\n"
	"as does every staged file. Each problem is named on stderr (object\n"
	"file, path, commit). Exit code 5 if anything is wrong.\n"
	"\n"
	"Options:\n"
	"  --json   print a summary object {commits, files, objects, bytes, problems}\n";

int cmd_fsck(cli *c);
int cmd_fsck(cli *c)
{
	int json = 0;
	cli_opt opts[] = { { "json", 0, 0, NULL, &json }, { 0 } };
	char **pos;
	int npos, rc;
	folio_repo *repo = NULL;
	oidvec objs = { 0 };
	verify_pool p;
	folio_tree stage;
	char base[FOLIO_COMMIT_HEXSZ + 1];
	size_t ncommits = 0, nbad = 0;
	walk_state w = { 0 };

	folio_tree_init(&stage);
	memset(&p, 0, sizeof p);
	pthread_mutex_init(&p.lock, NULL);
	if ((rc = cli_parse(c, opts, &pos, &npos)))
		return rc;
	free(pos);
	if (npos)
		return cli_usage_error(c, "takes no arguments");
	if ((rc = cli_open_repo(&repo, c)) < 0 ||
	    (rc = folio_store_foreach(repo->store, collect_cb, &objs)) < 0)
		goto fail;

	p.objs = &objs;
	p.store = repo->store;
	long nt = sysconf(_SC_NPROCESSORS_ONLN);
	if (nt < 1)
		nt = 1;
	if (nt > 16)
		nt = 16;
	pthread_t th[16];
	long started = 0;
	progress pr;
	progress_begin(&pr, "fsck", objs.n);
	for (; started < nt; started++)
		if (pthread_create(&th[started], NULL, verify_worker, &p) != 0)
			break;
	if (started == 0) {
		verify_worker(&p);
	}
	while (atomic_load(&p.done) < objs.n) {
		progress_update(&pr, atomic_load(&p.done), atomic_load(&p.bytes));
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	for (long i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	progress_update(&pr, atomic_load(&p.done), atomic_load(&p.bytes));
	progress_end(&pr);

	oidvec_sort(&p.bad);
	w.repo = repo;
	w.bad = &p.bad;
	w.problems = p.bad.n;
	if ((rc = folio_version_walk_reachable(&ncommits, &nbad, repo->version, entry_cb, bad_cb, &w)) < 0)
		goto fail;

	/* The stage must be readable and its objects present too. */
	if ((rc = folio_stage_load(&stage, base, repo)) < 0) {
		fprintf(stderr, "fsck: %s\n", folio_error_last());
		w.problems++;
	} else {
		for (size_t i = 0; i < stage.n; i++) {
			const folio_entry *e = &stage.v[i];
			char hex[FOLIO_OID_HEXSZ + 1];
			folio_oid_tohex(hex, &e->oid);
			if (!folio_store_exists(repo->store, &e->oid)) {
				fprintf(stderr, "fsck: staged %s: object %s is missing from the store\n", e->path, hex);
				w.problems++;
			} else if (oidvec_has(&p.bad, &e->oid)) {
				fprintf(stderr, "fsck: staged %s: object %s is corrupt\n", e->path, hex);
				w.problems++;
			}
		}
	}
	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "commits", (double)ncommits);
		cJSON_AddNumberToObject(o, "files", (double)w.files);
		cJSON_AddNumberToObject(o, "objects", (double)objs.n);
		cJSON_AddNumberToObject(o, "bytes", (double)atomic_load(&p.bytes));
		cJSON_AddNumberToObject(o, "problems", (double)w.problems);
		json_print(o);
	} else {
		char sz[32];
		human_size(sz, sizeof sz, atomic_load(&p.bytes));
		printf("checked %zu commits, %zu distinct files, %zu objects (%s): %s\n",
		       ncommits, w.files, objs.n, sz,
		       w.problems ? "PROBLEMS FOUND" : "no problems");
		if (w.problems)
			printf("%zu problems (listed above)\n", w.problems);
	}
	rc = 0;
fail:
	folio_tree_clear(&stage);
	oidvec_free(&objs);
	oidvec_free(&p.bad);
	pthread_mutex_destroy(&p.lock);
	folio_repo_free(repo);
	if (rc < 0)
		return cli_fail(rc);
	return w.problems ? EXIT_CORRUPT : EXIT_OK;
}

typedef struct gc_state {
	oidvec *reach;
	folio_store *store;
	int dry_run;
	size_t removed;
	uint64_t freed;
	int err;
} gc_state;

static int gc_cb(const folio_oid *oid, const folio_object_info *info, void *payload)
{
	gc_state *g = payload;

	if (oidvec_has(g->reach, oid))
		return 0;
	if (!g->dry_run) {
		int rc = folio_store_remove(g->store, oid);
		if (rc < 0) {
			fprintf(stderr, "gc: %s\n", folio_error_last());
			g->err = rc;
			return 0;
		}
	}
	g->removed++;
	g->freed += info->stored_size;
	return 0;
}

const char *const usage_gc =
	"usage: folio gc [--dry-run]\n"
	"\n"
	"Removes objects that no branch, tag or staged file refers to, and temp\n"
	"files left by killed writers. Waits for running adds to finish and never\n"
	"removes an object that a concurrent add has just written.\n"
	"\n"
	"Options:\n"
	"  -n, --dry-run   only count what would be removed\n";

int cmd_gc(cli *c);
int cmd_gc(cli *c)
{
	int dry = 0;
	cli_opt opts[] = { { "dry-run", 'n', 0, NULL, &dry }, { 0 } };
	char **pos;
	int npos, rc;
	folio_repo *repo = NULL;
	oidvec reach = { 0 };
	folio_tree stage;
	char base[FOLIO_COMMIT_HEXSZ + 1];
	size_t ncommits = 0, nbad = 0;
	walk_state w = { 0 };
	gc_state g = { 0 };

	folio_tree_init(&stage);
	if ((rc = cli_parse(c, opts, &pos, &npos)))
		return rc;
	free(pos);
	if (npos)
		return cli_usage_error(c, "takes no arguments");
	/* Lock order: objects, then repo (add takes them in the same order). */
	if ((rc = cli_open_repo(&repo, c)) < 0 ||
	    (rc = folio_repo_lock_objects(repo, 1, "folio gc")) < 0 ||
	    (rc = folio_repo_lock(repo, "folio gc")) < 0)
		goto fail;
	w.repo = repo;
	w.reach = &reach;
	if ((rc = folio_version_walk_reachable(&ncommits, &nbad, repo->version, entry_cb, bad_cb, &w)) < 0)
		goto fail;
	if (nbad) {
		rc = folio_error_set(FOLIO_ECORRUPT,
			"%zu unreadable git objects; gc refuses to guess what is reachable (run `folio fsck`)", nbad);
		goto fail;
	}
	if ((rc = folio_stage_load(&stage, base, repo)) < 0)
		goto fail;
	for (size_t i = 0; i < stage.n; i++)
		if ((rc = oidvec_push(&reach, &stage.v[i].oid, 0)) < 0)
			goto fail;
	oidvec_sort(&reach);
	g.reach = &reach;
	g.store = repo->store;
	g.dry_run = dry;
	if ((rc = folio_store_foreach(repo->store, gc_cb, &g)) < 0)
		goto fail;
	if (!dry)
		folio_store_clean_tmp(repo->store, 3600);
	char sz[32];
	human_size(sz, sizeof sz, g.freed);
	printf("%s %zu unreachable objects (%s); %zu commits keep the rest\n",
	       dry ? "would remove" : "removed", g.removed, sz, ncommits);
	rc = g.err;
fail:
	folio_tree_clear(&stage);
	oidvec_free(&reach);
	folio_repo_free(repo);
	return rc < 0 ? cli_fail(rc) : EXIT_OK;
}
