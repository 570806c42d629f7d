/*
 * repo.c — creating, finding, opening and locking a repository.
 *
 * A repository is a folder holding folio.json, git/ and objects/. Locking
 * uses flock(2) on two small files: the kernel drops a lock when its holder
 * dies, so a commit killed at any moment leaves nothing to clean up. The
 * holder writes "pid <n> <what>" into the lock file so that whoever finds
 * it locked can say which process to wait for.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "folio/error.h"
#include "folio/repo.h"

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return folio_error_errno(errno, "%s", path);
	int rc = fsync(fd) < 0 ? folio_error_errno(errno, "fsync %s", path) : 0;
	close(fd);
	return rc;
}

static int is_empty_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int empty = 1;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			empty = 0;
			break;
		}
	closedir(d);
	return empty;
}

static int mkdir_in(const char *root, const char *name)
{
	char *p = folio_path_join(root, name);
	int rc = 0;

	if (!p)
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	if (mkdir(p, 0777) < 0 && errno != EEXIST)
		rc = folio_error_errno(errno, "cannot create %s", p);
	free(p);
	return rc;
}

int folio_repo_init(const char *path)
{
	struct stat st;
	char *marker = NULL, *gitdir = NULL, *tmp = NULL;
	FILE *f = NULL;
	int rc = 0;

	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			return folio_error_set(FOLIO_EEXISTS, "%s exists and is not a folder", path);
		if (!is_empty_dir(path))
			return folio_error_set(FOLIO_EEXISTS,
				"%s is not empty; folio init needs a new or empty folder", path);
	} else if ((rc = folio_path_mkdirs(path)) < 0) {
		return rc;  /* a new folder, and its missing parents */
	}

	static const char *dirs[] = { "objects", "stage", "cache" };
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
		if ((rc = mkdir_in(path, dirs[i])) < 0)
			goto cleanup;

	if (!(gitdir = folio_path_join(path, "git"))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	if ((rc = folio_version_init(gitdir)) < 0)
		goto cleanup;

	folio_store *store = NULL;
	char *objdir = folio_path_join(path, "objects");
	if (!objdir) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	rc = folio_store_open(&store, objdir, 1);
	free(objdir);
	folio_store_free(store);
	if (rc < 0)
		goto cleanup;

	/* The marker is written last: a folder without it is not a repository,
	 * so an interrupted init can simply be run again on a fresh folder. */
	marker = folio_path_join(path, "folio.json");
	tmp = folio_path_join(path, "folio.json.tmp");
	if (!marker || !tmp) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	if (!(f = fopen(tmp, "w"))) {
		rc = folio_error_errno(errno, "cannot write %s", tmp);
		goto cleanup;
	}
	fprintf(f, "{\"format\": %d}\n", FOLIO_FORMAT);
	if (fflush(f) != 0 || fsync(fileno(f)) < 0) {
		rc = folio_error_errno(errno, "cannot write %s", tmp);
		goto cleanup;
	}
	fclose(f);
	f = NULL;
	if (rename(tmp, marker) < 0) {
		rc = folio_error_errno(errno, "cannot create %s", marker);
		goto cleanup;
	}
	rc = fsync_path(path);

cleanup:
	if (f)
		fclose(f);
	free(marker);
	free(tmp);
	free(gitdir);
	return rc;
}

static int is_repo(const char *path)
{
	char *m = folio_path_join(path, "folio.json");
	struct stat st;
	int ok = m && stat(m, &st) == 0 && S_ISREG(st.st_mode);

	free(m);
	return ok;
}

static int check_format(const char *path)
{
	char *m = folio_path_join(path, "folio.json");
	char buf[256] = { 0 };
	FILE *f;
	int rc = 0;

	if (!m)
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	if (!(f = fopen(m, "r"))) {
		rc = folio_error_errno(errno, "cannot read %s", m);
		free(m);
		return rc;
	}
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	const char *p = strstr(buf, "\"format\"");
	long fmt = -1;
	if (p && (p = strchr(p, ':')))
		fmt = strtol(p + 1, NULL, 10);
	if (fmt != FOLIO_FORMAT)
		rc = folio_error_set(fmt > FOLIO_FORMAT ? FOLIO_EINVAL : FOLIO_ECORRUPT,
			"%s: repository format %ld is not %d; %s", m, fmt, FOLIO_FORMAT,
			fmt > FOLIO_FORMAT ? "upgrade folio to open it" : "the marker file is damaged");
	free(m);
	return rc;
}

int folio_repo_discover(char **out, const char *explicit_path)
{
	const char *env = getenv("FOLIO_REPO");
	const char *given = explicit_path ? explicit_path : (env && *env ? env : NULL);
	char buf[PATH_MAX];

	*out = NULL;
	if (given) {
		if (!realpath(given, buf))
			return folio_error_errno(errno, "repository %s", given);
		if (!is_repo(buf))
			return folio_error_set(FOLIO_ENOTFOUND,
				"%s is not a folio repository (no folio.json); create one with `folio init %s`",
				given, given);
	} else {
		if (!getcwd(buf, sizeof buf))
			return folio_error_errno(errno, "current directory");
		for (;;) {
			if (is_repo(buf))
				break;
			char *slash = strrchr(buf, '/');
			if (!slash || slash == buf) {
				return folio_error_set(FOLIO_ENOTFOUND,
					"no folio repository here or in any parent folder; "
					"use -R REPO, set FOLIO_REPO, or create one with `folio init DIR`");
			}
			*slash = '\0';
		}
	}
	if (!(*out = strdup(buf)))
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	return 0;
}

int folio_repo_open(folio_repo **out, const char *path)
{
	folio_repo *r = calloc(1, sizeof *r);
	char *sub = NULL;
	char abs[PATH_MAX];
	int rc;

	*out = NULL;
	if (!r)
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	r->lock_fd = r->objects_lock_fd = -1;
	if (!realpath(path, abs)) {
		rc = folio_error_errno(errno, "repository %s", path);
		goto fail;
	}
	if (!is_repo(abs)) {
		rc = folio_error_set(FOLIO_ENOTFOUND, "%s is not a folio repository (no folio.json)", path);
		goto fail;
	}
	if ((rc = check_format(abs)) < 0)
		goto fail;
	if (!(r->path = strdup(abs))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto fail;
	}
	if (!(sub = folio_path_join(abs, "objects"))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = folio_store_open(&r->store, sub, 0)) < 0)
		goto fail;
	free(sub);
	if (!(sub = folio_path_join(abs, "git"))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto fail;
	}
	if ((rc = folio_version_open(&r->version, sub)) < 0)
		goto fail;
	free(sub);
	*out = r;
	return 0;

fail:
	free(sub);
	folio_repo_free(r);
	return rc;
}

void folio_repo_free(folio_repo *repo)
{
	if (!repo)
		return;
	folio_repo_unlock(repo);
	folio_repo_unlock_objects(repo);
	folio_store_free(repo->store);
	folio_version_free(repo->version);
	free(repo->path);
	free(repo);
}

static int lock_timeout(void)
{
	const char *s = getenv("FOLIO_LOCK_TIMEOUT");

	if (s && *s) {
		char *end;
		long v = strtol(s, &end, 10);
		if (*end == '\0' && v >= 0 && v < 86400)
			return (int)v;
	}
	return 10;
}

static int take_flock(int *fd_out, const char *root, const char *name,
		      int op, const char *what)
{
	char *p = folio_path_join(root, name);
	char holder[256] = "";
	int fd, rc = 0;

	if (!p)
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (fd < 0) {
		rc = folio_error_errno(errno, "cannot open lock file %s", p);
		goto done;
	}
	/* Poll rather than block so the wait has a limit and a message. */
	struct timespec step = { 0, 50 * 1000 * 1000 };
	long tries = (long)lock_timeout() * 20;
	for (long i = 0;; i++) {
		if (flock(fd, op | LOCK_NB) == 0)
			break;
		if (errno != EWOULDBLOCK) {
			rc = folio_error_errno(errno, "cannot lock %s", p);
			goto done;
		}
		if (i >= tries) {
			ssize_t n = pread(fd, holder, sizeof holder - 1, 0);
			holder[n > 0 ? n : 0] = '\0';
			holder[strcspn(holder, "\n")] = '\0';
			rc = folio_error_set(FOLIO_ELOCKED,
				"repository %s is locked (%s) by %s; wait for that process to finish "
				"(FOLIO_LOCK_TIMEOUT sets how many seconds to wait, now %d)",
				root, name, holder[0] ? holder : "another process", lock_timeout());
			goto done;
		}
		nanosleep(&step, NULL);
	}
	if (op == LOCK_EX) {
		int n = snprintf(holder, sizeof holder, "pid %ld (%s)\n", (long)getpid(), what);
		if (ftruncate(fd, 0) == 0 && pwrite(fd, holder, (size_t)n, 0) < 0) {
			/* Only informational: a failure here does not matter. */
		}
	}
	*fd_out = fd;
	fd = -1;
done:
	if (fd >= 0)
		close(fd);
	free(p);
	return rc;
}

int folio_repo_lock(folio_repo *repo, const char *what)
{
	if (repo->lock_fd >= 0)
		return 0;
	return take_flock(&repo->lock_fd, repo->path, "lock", LOCK_EX, what);
}

void folio_repo_unlock(folio_repo *repo)
{
	if (repo->lock_fd >= 0) {
		if (ftruncate(repo->lock_fd, 0) < 0) {
			/* informational content only */
		}
		close(repo->lock_fd);
		repo->lock_fd = -1;
	}
}

int folio_repo_lock_objects(folio_repo *repo, int exclusive, const char *what)
{
	if (repo->objects_lock_fd >= 0)
		return 0;
	return take_flock(&repo->objects_lock_fd, repo->path, "objects.lock",
			  exclusive ? LOCK_EX : LOCK_SH, what);
}

void folio_repo_unlock_objects(folio_repo *repo)
{
	if (repo->objects_lock_fd >= 0) {
		close(repo->objects_lock_fd);
		repo->objects_lock_fd = -1;
	}
}

int folio_repo_content_cb(void **out, size_t *len, const folio_entry *e, void *payload)
{
	folio_repo *repo = payload;

	/* Text blobs are capped at a few MiB by add; links at PATH_MAX. */
	return folio_store_read_all(out, len, repo->store, &e->oid, 64u << 20);
}
