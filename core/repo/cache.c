/*
 * cache.c — the layout of REPO/cache/, in one place.
 *
 * Everything under REPO/cache/ is derived from the store and the history
 * and can be deleted at any time (a running daemon recomputes what it
 * needs). Each kind of derived data has its own folder, named here only;
 * docs/storage.md describes each. Paths are built with their length
 * checked: a repository path so long that a cache path would not fit is
 * refused with a message, never truncated into another file's name.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "folio/error.h"
#include "folio/repo.h"

static const char *const names[] = {
	[FOLIO_CACHE_ROOT] = "",
	[FOLIO_CACHE_FEATURES] = "features",
	[FOLIO_CACHE_INDEX] = "index",
	[FOLIO_CACHE_VIEWS] = "views",
	[FOLIO_CACHE_OBJECTS] = "objects",
	[FOLIO_CACHE_RAW] = "raw",
	[FOLIO_CACHE_LOG] = "foliofs.log",
};

int folio_cache_path(char *out, size_t size, const char *repo_path, folio_cache_kind kind,
		     const char *name)
{
	int n;

	if ((unsigned)kind >= sizeof names / sizeof names[0])
		return folio_error_set(FOLIO_EINVAL, "unknown cache kind %d", (int)kind);
	if (kind == FOLIO_CACHE_ROOT)
		n = snprintf(out, size, "%s/cache%s%s", repo_path, name ? "/" : "", name ? name : "");
	else
		n = snprintf(out, size, "%s/cache/%s%s%s", repo_path, names[kind], name ? "/" : "",
			     name ? name : "");
	if (n < 0 || (size_t)n >= size)
		return folio_error_set(FOLIO_EINVAL, "cache path too long under %s/cache", repo_path);
	return 0;
}

int folio_cache_mkdir(const char *repo_path, folio_cache_kind kind)
{
	char path[FOLIO_PATH_BUF];
	int rc;

	if ((rc = folio_cache_path(path, sizeof path, repo_path, FOLIO_CACHE_ROOT, NULL)) < 0)
		return rc;
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return folio_error_errno(errno, "cannot create %s", path);
	if (kind == FOLIO_CACHE_ROOT || kind == FOLIO_CACHE_LOG)
		return 0;
	if ((rc = folio_cache_path(path, sizeof path, repo_path, kind, NULL)) < 0)
		return rc;
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return folio_error_errno(errno, "cannot create %s", path);
	return 0;
}
