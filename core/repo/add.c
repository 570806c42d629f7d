/*
 * add.c — bringing outside files into the stage: `folio add`, `folio
 * import`, and later the HEAD/ tools share this one path.
 *
 *   1. folio_add_collect turns files and folders into jobs (source file,
 *      dataset path); generated content (IDX images) is a job without a
 *      source whose bytes a callback makes.
 *   2. folio_repo_add takes the objects lock shared, skips the jobs whose
 *      file has the size, mtime and mode the stage recorded for that path
 *      (a stat cache, like git's index), and stores the rest with a pool
 *      of threads (pool.c). Each job is one thread's from open to close.
 *   3. It then takes the repository lock, re-reads the stage there (so two
 *      concurrent adds both land), merges the jobs, checks that no path is
 *      both a file and a folder, and saves the stage; then releases both
 *      locks. gc takes the objects lock exclusively, so it can never drop
 *      an object between its write here and the save of the stage that
 *      refers to it (docs/architecture.md, "Writing a version").
 *
 * Nothing is staged unless every job succeeded (or, with keep_going, was
 * skipped because its file could not be read).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "folio/error.h"
#include "folio/repo.h"
#include "repo_int.h"

int folio_add_default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	/* I/O-bound work (fsync, page cache misses) overlaps well past the
	 * core count; hashing is CPU-bound, so don't go far beyond it. */
	n *= 2;
	return n > 16 ? 16 : (int)n;
}

/* ---- jobs ---- */

int folio_add_jobs_push(folio_add_jobs *l, const char *src, const char *dest, const void *gen)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		folio_add_job *v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return folio_error_set(FOLIO_ENOMEM, "out of memory listing files");
		l->v = v;
		l->cap = cap;
	}
	folio_add_job *j = &l->v[l->n];
	memset(j, 0, sizeof *j);
	j->gen = gen;
	j->src = src ? strdup(src) : NULL;
	j->e.path = strdup(dest);
	if ((src && !j->src) || !j->e.path) {
		free(j->src);
		free(j->e.path);
		return folio_error_set(FOLIO_ENOMEM, "out of memory listing files");
	}
	l->n++;
	return 0;
}

void folio_add_jobs_clear(folio_add_jobs *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].src);
		free(l->v[i].e.path);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

static void warn(const folio_add_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warn(const folio_add_opts *o, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!o || !o->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	o->warn(msg, o->payload);
}

/* ---- the walk ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in folder src but "." and "..", sorted. */
static int list_folder(char ***out, size_t *count, const char *src)
{
	DIR *d = opendir(src);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	*out = NULL;
	*count = 0;
	if (!d)
		return folio_error_errno(errno, "cannot read folder %s", src);
	while (rc == 0 && (errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(names, cap * sizeof *nn);
			if (!nn) {
				rc = folio_error_set(FOLIO_ENOMEM, "out of memory reading %s", src);
				break;
			}
			names = nn;
		}
		if (!(names[n] = strdup(de->d_name)))
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory reading %s", src);
		else
			n++;
	}
	if (rc == 0 && errno)
		rc = folio_error_errno(errno, "cannot read folder %s", src);
	closedir(d);
	if (rc < 0) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return rc;
	}
	if (n)
		qsort(names, n, sizeof *names, cmp_str);
	*out = names;
	*count = n;
	return 0;
}

static int collect(folio_add_jobs *l, const char *src, const char *dest, const folio_add_opts *o,
		   int top)
{
	struct stat st;
	char **names = NULL;
	size_t n = 0;
	int rc;

	/* following links, the source itself is what the user named: a link
	 * to a folder there is followed */
	if ((top && o->follow_links ? stat(src, &st) : lstat(src, &st)) < 0)
		return folio_error_errno(errno, "cannot add %s", src);
	if (*dest && (rc = folio_path_validate(dest)) < 0)
		return folio_error_wrap(rc, "cannot add %s", src);
	if (S_ISLNK(st.st_mode) && o->follow_links) {
		/* links to files are read as the file; links to folders are
		 * not followed (they may loop), nor links to nothing */
		if (stat(src, &st) < 0 || !S_ISREG(st.st_mode)) {
			warn(o, "skipping %s: a link to a folder or to nothing", src);
			return 0;
		}
	}
	if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
		return folio_add_jobs_push(l, src, dest, NULL);
	if (!S_ISDIR(st.st_mode)) {
		if (o->follow_links && !top) {
			warn(o, "skipping %s: not a file or folder", src);
			return 0;
		}
		return folio_error_set(FOLIO_EINVAL,
			"cannot add %s: not a regular file, folder or symbolic link", src);
	}
	if ((rc = list_folder(&names, &n, src)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && strcmp(names[i], ".git") == 0) {
			warn(o, "skipping git metadata %s/.git", src);
		} else if (rc == 0) {
			char *s = folio_path_join(src, names[i]), *t = folio_path_join(dest, names[i]);
			if (!s || !t)
				rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			else
				rc = collect(l, s, t, o, 0);
			free(s);
			free(t);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int folio_add_collect(folio_add_jobs *l, const char *src, const char *dest,
		      const folio_add_opts *opts)
{
	static const folio_add_opts none;

	return collect(l, src, dest ? dest : "", opts ? opts : &none, 1);
}

/* ---- storing ---- */

typedef struct add_ctx {
	folio_repo *repo;
	folio_add_jobs *jobs;
	const folio_add_opts *o;
	atomic_size_t skipped, new_objects;
	atomic_uint_fast64_t new_bytes;
} add_ctx;

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

static uint32_t file_mode(const struct stat *st)
{
	return (st->st_mode & 0111) ? FOLIO_MODE_EXEC : FOLIO_MODE_FILE;
}

static int store_generated(add_ctx *c, folio_add_job *j)
{
	void *buf = NULL;
	size_t len = 0;
	int rc;

	if (!c->o->generate)
		return folio_error_set(FOLIO_EINVAL, "%s: no source and no generator", j->e.path);
	if ((rc = c->o->generate(&buf, &len, j, c->o->payload)) < 0)
		return rc;
	if ((rc = folio_store_put_buf(&j->e.oid, c->repo->store, buf, len)) == 0) {
		j->e.kind = folio_classify(j->e.path, len, buf,
					   len < FOLIO_CLASSIFY_SNIFF ? len : FOLIO_CLASSIFY_SNIFF);
		j->e.mode = FOLIO_MODE_FILE;
		j->e.size = len;
		j->e.mtime_ns = 0;
	}
	free(buf);
	return rc;
}

static int store_link(folio_add_job *j, folio_store *store)
{
	char target[FOLIO_PATH_MAX];
	ssize_t n = readlink(j->src, target, sizeof target - 1);
	int rc;

	if (n < 0)
		return folio_error_errno(errno, "cannot read symbolic link %s", j->src);
	if (n == 0 || !folio_utf8_valid(target, (size_t)n))
		return folio_error_set(FOLIO_EINVAL,
			"cannot add %s: its link target is empty or not UTF-8", j->src);
	if ((rc = folio_store_put_buf(&j->e.oid, store, target, (size_t)n)) < 0)
		return rc;
	j->e.kind = FOLIO_ENTRY_LINK;
	j->e.mode = FOLIO_MODE_LINK;
	j->e.size = (uint64_t)n;
	j->e.mtime_ns = 0;
	return 0;
}

static int store_file(add_ctx *c, folio_add_job *j)
{
	unsigned char sniff[FOLIO_CLASSIFY_SNIFF];
	struct stat st;
	uint64_t size = 0;
	int fd, rc, existed = 0;

	if (!c->o->follow_links) {
		if (lstat(j->src, &st) < 0)
			return folio_error_errno(errno, "cannot add %s", j->src);
		if (S_ISLNK(st.st_mode))
			return store_link(j, c->repo->store);
	}
	fd = open(j->src, O_RDONLY | O_CLOEXEC | (c->o->follow_links ? 0 : O_NOFOLLOW));
	if (fd < 0)
		return folio_error_errno(errno, "cannot read %s", j->src);
	ssize_t n = pread(fd, sniff, sizeof sniff, 0);
	if (n < 0 || fstat(fd, &st) < 0) {
		rc = folio_error_errno(errno, "cannot read %s", j->src);
		goto done;
	}
	if ((rc = folio_store_put_fd(&j->e.oid, &size, &existed, c->repo->store, fd, j->src)) < 0)
		goto done;
	j->e.kind = folio_classify(j->e.path, size, sniff, (size_t)n);
	j->e.size = size;
	j->e.mode = file_mode(&st);
	j->e.mtime_ns = mtime_ns(&st);
	memset(j->e.blob, 0, sizeof j->e.blob);
	if (!existed) {
		atomic_fetch_add(&c->new_objects, 1);
		atomic_fetch_add(&c->new_bytes, size);
	}
done:
	close(fd);
	return rc;
}

static int work(repo_pool *p, size_t i)
{
	add_ctx *c = p->arg;
	folio_add_job *j = &c->jobs->v[i];
	int rc;

	if (j->state == FOLIO_ADD_CACHED)
		return 0;
	rc = j->src ? store_file(c, j) : store_generated(c, j);
	if (rc < 0) {
		if (!c->o->keep_going || !j->src || rc == FOLIO_ENOSPC || rc == FOLIO_ENOMEM)
			return rc;
		j->state = FOLIO_ADD_SKIPPED;
		atomic_fetch_add(&c->skipped, 1);
		return repo_pool_note(p, i, folio_error_last());
	}
	j->state = FOLIO_ADD_STORED;
	atomic_fetch_add(&p->bytes, j->e.size);
	return 0;
}

static void note(repo_pool *p, const repo_note *n)
{
	add_ctx *c = p->arg;

	warn(c->o, "skipped: %s", n->message);
}

/*
 * The stat cache: a job whose file has the size, mtime and mode the stage
 * has for its path, with the object still in the store, takes the staged
 * entry and is not read. Called under the objects lock, so the object
 * cannot go away before the stage is saved.
 */
static size_t skip_unchanged(folio_add_jobs *jobs, const folio_tree *stage, folio_store *store,
			     int follow_links)
{
	size_t hits = 0;

	for (size_t i = 0; i < jobs->n; i++) {
		folio_add_job *j = &jobs->v[i];
		const folio_entry *old = j->src ? folio_tree_find(stage, j->e.path) : NULL;
		struct stat st;
		if (!old || old->mtime_ns == 0 || old->kind == FOLIO_ENTRY_LINK ||
		    (follow_links ? stat(j->src, &st) : lstat(j->src, &st)) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (mtime_ns(&st) == old->mtime_ns && (uint64_t)st.st_size == old->size &&
		    file_mode(&st) == old->mode && folio_store_exists(store, &old->oid)) {
			char *path = j->e.path;
			j->e = *old;
			j->e.path = path;
			j->state = FOLIO_ADD_CACHED;
			hits++;
		}
	}
	return hits;
}

int folio_stage_put_buf(folio_tree *stage, folio_repo *repo, const char *path, const void *buf,
			size_t len)
{
	folio_entry e;
	int rc;

	memset(&e, 0, sizeof e);
	if ((rc = folio_path_validate(path)) < 0)
		return rc;
	if ((rc = folio_store_put_buf(&e.oid, repo->store, buf, len)) < 0)
		return rc;
	e.path = (char *)path;
	e.kind = folio_classify(path, len, buf, len < FOLIO_CLASSIFY_SNIFF ? len : FOLIO_CLASSIFY_SNIFF);
	e.mode = FOLIO_MODE_FILE;
	e.size = len;
	return folio_tree_set(stage, &e);
}

/* Under the repository lock: the stage as it is now, with the jobs in. */
static int merge(folio_repo *repo, folio_add_jobs *jobs, const folio_add_opts *o)
{
	folio_tree stage;
	char base[FOLIO_COMMIT_HEXSZ + 1];
	int rc;

	folio_tree_init(&stage);
	if ((rc = folio_stage_load(&stage, base, repo)) < 0)
		goto cleanup;
	for (size_t r = 0; r < o->nreplace; r++)
		for (size_t k = 0; k < stage.n;) {
			const char *sp = stage.v[k].path;
			if (strcmp(sp, o->replace[r]) == 0 || folio_path_under(sp, o->replace[r]))
				folio_tree_remove_at(&stage, k);
			else
				k++;
		}
	if (o->edit && (rc = o->edit(&stage, repo, o->payload)) < 0)
		goto cleanup;
	for (size_t i = 0; i < jobs->n; i++)
		if (jobs->v[i].state != FOLIO_ADD_SKIPPED &&
		    (rc = folio_tree_push(&stage, &jobs->v[i].e)) < 0)
			goto cleanup;
	folio_tree_sort(&stage);
	if ((rc = folio_tree_check_conflicts(&stage)) < 0) {
		folio_error_wrap(rc, "nothing was staged");
		goto cleanup;
	}
	if ((rc = folio_stage_save(repo, &stage, base)) < 0)
		goto cleanup;
	if (o->stage_out) {
		folio_tree_clear(o->stage_out);
		*o->stage_out = stage;
		folio_tree_init(&stage);
	}
cleanup:
	folio_tree_clear(&stage);
	return rc;
}

int folio_repo_add(folio_add_stats *out, folio_repo *repo, folio_add_jobs *jobs,
		   const folio_add_opts *opts)
{
	static const folio_add_opts none;
	const folio_add_opts *o = opts ? opts : &none;
	const char *what = o->what ? o->what : "folio add";
	int had_objects = repo->objects_lock_fd >= 0, had_repo = repo->lock_fd >= 0;
	folio_tree stage;
	char base[FOLIO_COMMIT_HEXSZ + 1];
	repo_pool p;
	add_ctx c;
	int rc;

	memset(out, 0, sizeof *out);
	memset(&p, 0, sizeof p);
	memset(&c, 0, sizeof c);
	folio_tree_init(&stage);
	c.repo = repo;
	c.jobs = jobs;
	c.o = o;
	atomic_init(&c.skipped, 0);
	atomic_init(&c.new_objects, 0);
	atomic_init(&c.new_bytes, 0);
	for (size_t i = 0; i < jobs->n; i++)
		jobs->v[i].state = FOLIO_ADD_PENDING;

	if ((rc = folio_repo_lock_objects(repo, 0, what)) < 0)
		return rc;
	if ((rc = folio_stage_load(&stage, base, repo)) < 0)
		goto cleanup;
	out->cached = skip_unchanged(jobs, &stage, repo->store, o->follow_links);
	folio_tree_clear(&stage);

	p.n = jobs->n;
	p.threads = o->threads > 0 ? o->threads : folio_add_default_threads();
	p.work = work;
	p.note = note;
	p.progress = o->progress;
	p.arg = &c;
	p.payload = o->payload;
	if ((rc = repo_pool_run(&p)) < 0) {
		char msg[1024];
		snprintf(msg, sizeof msg, "%s", folio_error_last());
		folio_error_set(rc, "%s; nothing was staged", msg);
		goto cleanup;
	}
	if ((rc = folio_repo_lock(repo, what)) < 0)
		goto cleanup;
	rc = merge(repo, jobs, o);
	if (!had_repo)
		folio_repo_unlock(repo);
	if (rc < 0)
		goto cleanup;
	out->skipped = atomic_load(&c.skipped);
	out->staged = jobs->n - out->skipped;
	out->new_objects = atomic_load(&c.new_objects);
	out->new_bytes = atomic_load(&c.new_bytes);
	out->bytes = atomic_load(&p.bytes);
cleanup:
	folio_tree_clear(&stage);
	if (!had_objects)
		folio_repo_unlock_objects(repo);
	return rc;
}
