/*
 * util.c — helpers shared by the version module's unit tests: scratch
 * repositories under /tmp, a content table for content_cb, and counting
 * files. The fixture is declared in fixture.h.
 */
#include "../testutil.h"
#include <ftw.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <criterion/criterion.h>

#include "folio/error.h"
#include "folio/oid.h"
#include "folio/tree.h"
#include "folio/version.h"

#include "fixture.h"


int run(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void tfix_setup(tfix *f)
{
	memset(f, 0, sizeof *f);
	test_mkdtemp(f->dir, "vt");
	snprintf(f->gitdir, sizeof f->gitdir, "%s/git", f->dir);
	/* Tests must not depend on the machine's git identity. */
	setenv("GIT_AUTHOR_NAME", "Test Author", 1);
	setenv("GIT_AUTHOR_EMAIL", "test@example.com", 1);
	cr_assert_eq(folio_version_init(f->gitdir), 0, "%s", folio_error_last());
	cr_assert_eq(folio_version_open(&f->v, f->gitdir), 0, "%s", folio_error_last());
	folio_tree_init(&f->tree);
}

void tfix_teardown(tfix *f)
{
	folio_version_free(f->v);
	folio_tree_clear(&f->tree);
	for (size_t i = 0; i < f->nc; i++) {
		free(f->c[i].path);
		free(f->c[i].data);
	}
	free(f->c);
	test_rmtree(f->dir);
	memset(f, 0, sizeof *f);
}

/* Adds (or replaces) a file with the given content; for LFS the content
 * only determines oid and size (it lives in the object store, not git). */
void tfix_add(tfix *f, const char *path, folio_entry_kind kind, uint32_t mode,
	      const char *data, size_t len)
{
	folio_entry e;

	memset(&e, 0, sizeof e);
	e.path = (char *)path;
	e.kind = kind;
	e.mode = mode;
	e.size = len;
	cr_assert_eq(folio_hash_buf(&e.oid, data, len), 0);
	cr_assert_eq(folio_tree_push(&f->tree, &e), 0);
	folio_tree_sort(&f->tree);
	if (f->nc == f->capc) {
		f->capc = f->capc ? f->capc * 2 : 16;
		f->c = realloc(f->c, f->capc * sizeof *f->c);
		cr_assert_not_null(f->c);
	}
	f->c[f->nc].path = strdup(path);
	f->c[f->nc].data = malloc(len + 1);
	memcpy(f->c[f->nc].data, data, len);
	f->c[f->nc].len = len;
	f->nc++;
}

int tfix_content_cb(void **out, size_t *len, const folio_entry *e, void *payload)
{
	tfix *f = payload;

	f->calls++;
	/* Newest registration of a path wins. */
	for (size_t i = f->nc; i-- > 0;) {
		if (strcmp(f->c[i].path, e->path) == 0) {
			*out = malloc(f->c[i].len + 1);
			memcpy(*out, f->c[i].data, f->c[i].len);
			*len = f->c[i].len;
			return 0;
		}
	}
	return folio_error_set(FOLIO_ENOTFOUND, "test has no content for %s", e->path);
}

void tfix_commit(tfix *f, char out[FOLIO_COMMIT_HEXSZ + 1], const char *msg)
{
	int rc = folio_version_commit(out, f->v, &f->tree, msg, NULL, tfix_content_cb, f);
	cr_assert_eq(rc, 0, "commit failed: %s", folio_error_last());
	cr_assert_eq(strlen(out), FOLIO_COMMIT_HEXSZ);
}

size_t count_files(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0, sl = strlen(suffix);

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (de->d_name[0] != '.' && l >= sl && strcmp(de->d_name + l - sl, suffix) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* Loose objects: files in objects/xx/ directories. */
size_t count_loose(const char *gitdir)
{
	char path[512];
	DIR *d;
	struct dirent *de;
	size_t n = 0;

	snprintf(path, sizeof path, "%s/objects", gitdir);
	if (!(d = opendir(path)))
		return 0;
	while ((de = readdir(d))) {
		if (strlen(de->d_name) == 2 && de->d_name[0] != '.') {
			char sub[800];
			snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
			n += count_files(sub, "");
		}
	}
	closedir(d);
	return n;
}
