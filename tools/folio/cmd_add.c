/*
 * cmd_add.c — init, add, rm and mv: the commands that change the stage.
 *
 * add hashes and stores files with a pool of threads (each thread owns its
 * job from open to close; the only shared state is an atomic job counter
 * and the first error). Objects are written under a shared objects lock so
 * gc cannot drop them before the stage that references them is saved; the
 * stage itself is merged and saved under the repository lock, re-read
 * there so two concurrent adds both land.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define SNIFF FOLIO_CLASSIFY_SNIFF

const char *const usage_init =
	"usage: folio init DIR\n"
	"\n"
	"Creates a new, empty folio repository in DIR (which must be absent or\n"
	"empty): DIR/git (a bare git repository), DIR/objects (the object store),\n"
	"DIR/stage and DIR/cache. The first branch is 'main'.\n";

int cmd_init(cli *c);
int cmd_init(cli *c)
{
	char **pos;
	int npos, rc;

	if ((rc = cli_parse(c, NULL, &pos, &npos)))
		return rc;
	if (npos != 1) {
		free(pos);
		return cli_usage_error(c, "expected one folder, got %d arguments", npos);
	}
	rc = folio_repo_init(pos[0]);
	if (rc == 0)
		printf("Initialised empty folio repository in %s\n", pos[0]);
	free(pos);
	return rc ? cli_fail(rc) : EXIT_OK;
}

/* ---- add ---- */

typedef struct job {
	char *src;        /* file to read */
	folio_entry e;    /* e.path = destination; filled by the worker */
	int done;         /* 1 if taken from the stat cache */
} job;

typedef struct joblist {
	job *v;
	size_t n, cap;
} joblist;

typedef struct pool {
	joblist *jobs;
	folio_repo *repo;
	atomic_size_t next;
	atomic_size_t finished;
	atomic_uint_fast64_t bytes;
	atomic_size_t new_objects;
	atomic_uint_fast64_t new_bytes;
	atomic_int failed;
	int keep_going;
	atomic_size_t skipped;
	pthread_mutex_t lock;       /* guards err_msg, err_rc */
	int err_rc;
	char err_msg[1024];
} pool;

static int push_job(joblist *l, const char *src, const char *dest)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		job *v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return folio_error_set(FOLIO_ENOMEM, "out of memory listing files");
		l->v = v;
		l->cap = cap;
	}
	job *j = &l->v[l->n];
	memset(j, 0, sizeof *j);
	j->src = strdup(src);
	j->e.path = strdup(dest);
	if (!j->src || !j->e.path) {
		free(j->src);
		free(j->e.path);
		return folio_error_set(FOLIO_ENOMEM, "out of memory listing files");
	}
	l->n++;
	return 0;
}

static void free_jobs(joblist *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].src);
		free(l->v[i].e.path);
	}
	free(l->v);
}

static int collect(joblist *l, const char *src, const char *dest, int top)
{
	struct stat st;
	int rc = 0;

	if (lstat(src, &st) < 0)
		return folio_error_errno(errno, "cannot add %s", src);
	if ((rc = folio_path_validate(dest)) < 0)
		return folio_error_wrap(rc, "cannot add %s", src);
	if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
		return push_job(l, src, dest);
	if (!S_ISDIR(st.st_mode))
		return folio_error_set(FOLIO_EINVAL,
			"cannot add %s: not a regular file, folder or symbolic link", src);

	DIR *d = opendir(src);
	if (!d)
		return folio_error_errno(errno, "cannot read folder %s", src);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!strcmp(de->d_name, ".git")) {
			fprintf(stderr, "folio add: skipping git metadata %s/.git\n", src);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(names, cap * sizeof *nn);
			if (!nn) {
				rc = folio_error_set(FOLIO_ENOMEM, "out of memory reading %s", src);
				break;
			}
			names = nn;
		}
		if (!(names[n] = strdup(de->d_name))) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory reading %s", src);
			break;
		}
		n++;
	}
	if (rc == 0 && errno)
		rc = folio_error_errno(errno, "cannot read folder %s", src);
	closedir(d);
	(void)top;
	for (size_t i = 0; i < n; i++) {
		if (rc == 0) {
			char *s = folio_path_join(src, names[i]), *t = folio_path_join(dest, names[i]);
			if (!s || !t)
				rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			else
				rc = collect(l, s, t, 0);
			free(s);
			free(t);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

static void record_error(pool *p, int rc)
{
	pthread_mutex_lock(&p->lock);
	if (!p->err_rc) {
		p->err_rc = rc;
		snprintf(p->err_msg, sizeof p->err_msg, "%s", folio_error_last());
	}
	pthread_mutex_unlock(&p->lock);
}

static int add_one(pool *p, job *j)
{
	folio_entry *e = &j->e;
	struct stat st;
	unsigned char sniff[SNIFF];
	int fd = -1, rc = 0, existed = 0;

	if (lstat(j->src, &st) < 0)
		return folio_error_errno(errno, "cannot add %s", j->src);
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(j->src, target, sizeof target - 1);
		if (n < 0)
			return folio_error_errno(errno, "cannot read symbolic link %s", j->src);
		if (n == 0 || !folio_utf8_valid(target, (size_t)n))
			return folio_error_set(FOLIO_EINVAL,
				"cannot add %s: its link target is empty or not UTF-8", j->src);
		if ((rc = folio_store_put_buf(&e->oid, p->repo->store, target, (size_t)n)) < 0)
			return rc;
		e->kind = FOLIO_ENTRY_LINK;
		e->mode = FOLIO_MODE_LINK;
		e->size = (uint64_t)n;
		e->mtime_ns = 0;
		return 0;
	}
	fd = open(j->src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return folio_error_errno(errno, "cannot read %s", j->src);
	if (fstat(fd, &st) < 0) {
		rc = folio_error_errno(errno, "cannot read %s", j->src);
		goto done;
	}
	ssize_t n = pread(fd, sniff, sizeof sniff, 0);
	if (n < 0) {
		rc = folio_error_errno(errno, "cannot read %s", j->src);
		goto done;
	}
	folio_entry_kind kind = folio_classify(j->e.path, (uint64_t)st.st_size, sniff, (size_t)n);
	uint64_t size = 0;
	if ((rc = folio_store_put_fd(&e->oid, &size, &existed, p->repo->store, fd, j->src)) < 0)
		goto done;
	e->size = size;
	e->kind = kind;
	e->mode = (st.st_mode & 0111) ? FOLIO_MODE_EXEC : FOLIO_MODE_FILE;
	e->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	memset(e->blob, 0, sizeof e->blob);
	if (!existed) {
		atomic_fetch_add(&p->new_objects, 1);
		atomic_fetch_add(&p->new_bytes, size);
	}
done:
	close(fd);
	return rc;
}

static void *worker(void *arg)
{
	pool *p = arg;

	for (;;) {
		if (atomic_load(&p->failed))
			break;
		size_t i = atomic_fetch_add(&p->next, 1);
		if (i >= p->jobs->n)
			break;
		job *j = &p->jobs->v[i];
		if (!j->done) {
			int rc = add_one(p, j);
			if (rc < 0) {
				if (p->keep_going && rc != FOLIO_ENOSPC && rc != FOLIO_ENOMEM) {
					fprintf(stderr, "folio add: skipped: %s\n", folio_error_last());
					j->done = -1;
					atomic_fetch_add(&p->skipped, 1);
				} else {
					record_error(p, rc);
					atomic_store(&p->failed, 1);
					break;
				}
			}
			atomic_fetch_add(&p->bytes, j->e.size);
		}
		atomic_fetch_add(&p->finished, 1);
	}
	return NULL;
}

static long default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	/* I/O-bound work (fsync, page cache misses) overlaps well past the
	 * core count; hashing is CPU-bound, so don't go far beyond it. */
	n *= 2;
	return n > 16 ? 16 : n;
}

const char *const usage_add =
	"usage: folio add [options] SRC... [--as PATH]\n"
	"\n"
	"Copies outside files or folders into the staged tree: by default each SRC\n"
	"lands under its own base name (photos/ -> photos/...). Folders are added\n"
	"recursively; symbolic links are kept as links. Files are hashed in\n"
	"parallel and stored once; a file unchanged since it was last added (same\n"
	"size and modification time) is not read again. Images, binary and large\n"
	"files become git-lfs pointers in the version; small text files stay\n"
	"plain git blobs.\n"
	"\n"
	"Options:\n"
	"  --as PATH        with one SRC: its path in the dataset; with several:\n"
	"                   the folder they go into\n"
	"  --replace        also unstage files under each destination folder that\n"
	"                   SRC no longer has (mirror the folder)\n"
	"  -k, --keep-going skip files that cannot be read, with a warning\n"
	"  -j, --jobs N     threads hashing files (default: 2 x cores, at most 16)\n"
	"  -v, --verbose    print a summary line\n"
	"\n"
	"Nothing is staged if any path is invalid (absolute, '..', not UTF-8,\n"
	"control characters) or any file cannot be read (without -k).\n";

int cmd_add(cli *c);
int cmd_add(cli *c)
{
	const char *as = NULL, *jobs_s = NULL;
	int replace = 0, keep_going = 0, verbose = 0;
	cli_opt opts[] = {
		{ "as", 0, 1, &as, NULL },
		{ "replace", 0, 0, NULL, &replace },
		{ "keep-going", 'k', 0, NULL, &keep_going },
		{ "jobs", 'j', 1, &jobs_s, NULL },
		{ "verbose", 'v', 0, NULL, &verbose },
		{ 0 },
	};
	char **pos = NULL;
	int npos, rc;
	folio_repo *repo = NULL;
	joblist jobs = { 0 };
	folio_tree stage, merged;
	char base[FOLIO_COMMIT_HEXSZ + 1];
	char **dests = NULL;
	pool p;
	pthread_t *threads = NULL;
	long nthreads = default_jobs();
	int code = EXIT_OK;

	folio_tree_init(&stage);
	folio_tree_init(&merged);
	memset(&p, 0, sizeof p);
	pthread_mutex_init(&p.lock, NULL);
	if ((rc = cli_parse(c, opts, &pos, &npos)))
		return rc;
	if (npos == 0) {
		free(pos);
		return cli_usage_error(c, "nothing to add: give files or folders");
	}
	if (jobs_s) {
		char *end;
		nthreads = strtol(jobs_s, &end, 10);
		if (*end || nthreads < 1 || nthreads > 256) {
			free(pos);
			return cli_usage_error(c, "--jobs wants a number from 1 to 256, not '%s'", jobs_s);
		}
	}
	if (as) {
		size_t l = strlen(as);
		while (l > 1 && as[l - 1] == '/')
			l--;
		char *trimmed = strndup(as, l);
		if (!trimmed || folio_path_validate(trimmed) < 0) {
			free(trimmed);
			free(pos);
			fprintf(stderr, "folio add: --as %s: %s\n", as, folio_error_last());
			return EXIT_USAGE;
		}
		as = trimmed; /* freed at the end via dests ownership below */
	}

	if ((rc = cli_open_repo(&repo, c)) < 0)
		goto fail;
	/* The objects lock keeps gc from dropping what we write before the
	 * stage refers to it. */
	if ((rc = folio_repo_lock_objects(repo, 0, "folio add")) < 0)
		goto fail;

	dests = calloc((size_t)npos, sizeof *dests);
	if (!dests) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto fail;
	}
	for (int i = 0; i < npos; i++) {
		char buf[PATH_MAX];
		const char *src = pos[i];
		size_t l = strlen(src);
		while (l > 1 && src[l - 1] == '/')
			l--;
		snprintf(buf, sizeof buf, "%.*s", (int)l, src);
		const char *name = strrchr(buf, '/') ? strrchr(buf, '/') + 1 : buf;
		char real[PATH_MAX];
		if (!strcmp(name, ".") || !strcmp(name, "..") || !strcmp(buf, "/")) {
			if (!realpath(buf, real)) {
				rc = folio_error_errno(errno, "cannot add %s", src);
				goto fail;
			}
			name = strrchr(real, '/') + 1;
		}
		if (as && npos == 1)
			dests[i] = strdup(as);
		else if (as)
			dests[i] = folio_path_join(as, name);
		else
			dests[i] = strdup(name);
		if (!dests[i]) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto fail;
		}
		if (*name == '\0' && !as) {
			rc = folio_error_set(FOLIO_EINVAL, "cannot add %s: give --as PATH to name it in the dataset", src);
			goto fail;
		}
		if ((rc = collect(&jobs, buf, dests[i], 1)) < 0)
			goto fail;
	}

	/* Stat cache: skip files whose size and mtime match the stage. */
	if ((rc = folio_stage_load(&stage, base, repo)) < 0)
		goto fail;
	for (size_t i = 0; i < jobs.n; i++) {
		const folio_entry *old = folio_tree_find(&stage, jobs.v[i].e.path);
		struct stat st;
		if (!old || old->mtime_ns == 0 || old->kind == FOLIO_ENTRY_LINK ||
		    lstat(jobs.v[i].src, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		int64_t m = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
		uint32_t mode = (st.st_mode & 0111) ? FOLIO_MODE_EXEC : FOLIO_MODE_FILE;
		if (m == old->mtime_ns && (uint64_t)st.st_size == old->size && mode == old->mode &&
		    folio_store_exists(repo->store, &old->oid)) {
			char *path = jobs.v[i].e.path;
			jobs.v[i].e = *old;
			jobs.v[i].e.path = path;
			jobs.v[i].done = 1;
		}
	}
	folio_tree_clear(&stage);

	p.jobs = &jobs;
	p.repo = repo;
	p.keep_going = keep_going;
	progress pr;
	progress_begin(&pr, "add", jobs.n);
	if ((size_t)nthreads > jobs.n)
		nthreads = jobs.n ? (long)jobs.n : 1;
	threads = calloc((size_t)nthreads, sizeof *threads);
	if (!threads) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto fail;
	}
	long started = 0;
	for (; started < nthreads; started++)
		if (pthread_create(&threads[started], NULL, worker, &p) != 0)
			break;
	if (started == 0) {
		rc = folio_error_set(FOLIO_ERROR, "cannot start hashing threads");
		goto fail;
	}
	double t0 = now_seconds();
	while (atomic_load(&p.finished) < jobs.n && !atomic_load(&p.failed)) {
		progress_update(&pr, atomic_load(&p.finished), atomic_load(&p.bytes));
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	for (long i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	progress_update(&pr, atomic_load(&p.finished), atomic_load(&p.bytes));
	progress_end(&pr);
	if (p.err_rc) {
		rc = folio_error_set(p.err_rc, "%s; nothing was staged", p.err_msg);
		goto fail;
	}

	/* Merge under the repository lock, re-reading the stage there. */
	if ((rc = folio_repo_lock(repo, "folio add")) < 0)
		goto fail;
	if ((rc = folio_stage_load(&stage, base, repo)) < 0)
		goto fail;
	if (replace) {
		for (int i = 0; i < npos; i++) {
			size_t dl = strlen(dests[i]);
			for (size_t k = 0; k < stage.n;) {
				const char *sp = stage.v[k].path;
				if (strncmp(sp, dests[i], dl) == 0 && (sp[dl] == '/' || sp[dl] == '\0'))
					folio_tree_remove_at(&stage, k);
				else
					k++;
			}
		}
	}
	for (size_t i = 0; i < jobs.n; i++)
		if (jobs.v[i].done >= 0 && (rc = folio_tree_push(&stage, &jobs.v[i].e)) < 0)
			goto fail;
	folio_tree_sort(&stage);
	if ((rc = folio_tree_check_conflicts(&stage)) < 0) {
		folio_error_wrap(rc, "nothing was staged");
		goto fail;
	}
	if ((rc = folio_stage_save(repo, &stage, base)) < 0)
		goto fail;
	if (verbose || isatty(STDOUT_FILENO)) {
		char sz[32];
		human_size(sz, sizeof sz, (uint64_t)atomic_load(&p.new_bytes));
		double dt = now_seconds() - t0;
		printf("staged %zu files (%zu new objects, %s) in %.2f s%s\n",
		       jobs.n - atomic_load(&p.skipped), (size_t)atomic_load(&p.new_objects), sz, dt,
		       atomic_load(&p.skipped) ? ", some skipped" : "");
	}
	if (atomic_load(&p.skipped))
		code = EXIT_FAIL;
	goto out;

fail:
	code = cli_fail(rc);
out:
	free(threads);
	if (dests)
		for (int i = 0; i < npos; i++)
			free(dests[i]);
	free(dests);
	if (as)
		free((char *)as);
	free_jobs(&jobs);
	folio_tree_clear(&stage);
	folio_tree_clear(&merged);
	folio_repo_free(repo);
	pthread_mutex_destroy(&p.lock);
	free(pos);
	return code;
}
