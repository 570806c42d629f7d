/*
 * stage.h — the harness the stage fuzz targets share (tests/fuzz/stage_*.c).
 *
 * The stage reader (core/repo/stage.c) reads REPO/stage/index and
 * REPO/stage/journal from disk, so the harness makes one repository in a
 * temp folder on first use (removed at exit), writes the input where the
 * target says, and calls folio_stage_load. What it promises of a stage it
 * accepts: paths sorted, each once, each a safe dataset path.
 */
#ifndef FOLIO_FUZZ_STAGE_H
#define FOLIO_FUZZ_STAGE_H

#include <fcntl.h>
#include <ftw.h>
#include <string.h>
#include <unistd.h>

#include "folio/error.h"
#include "folio/repo.h"
#include "fuzz.h"

static char stage_dir[4096];
static folio_repo *stage_repo;

static inline int stage_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static inline void stage_cleanup(void)
{
	folio_repo_free(stage_repo);
	stage_repo = NULL;
	if (stage_dir[0])
		nftw(stage_dir, stage_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* The repository, made on first use; aborts if it cannot be. */
static inline folio_repo *stage_setup(void)
{
	char repo[4200];
	const char *tmp = getenv("TMPDIR");

	if (stage_repo)
		return stage_repo;
	snprintf(stage_dir, sizeof stage_dir, "%s/folio-fuzz-stage.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(stage_dir))
		fuzz_fail("cannot make a temp folder in %s", stage_dir);
	atexit(stage_cleanup);
	snprintf(repo, sizeof repo, "%s/repo", stage_dir);
	if (folio_repo_init(repo) < 0 || folio_repo_open(&stage_repo, repo) < 0)
		fuzz_fail("cannot make a repository: %s", folio_error_last());
	return stage_repo;
}

/* Writes REPO/stage/<name> (removes it when data is NULL). */
static inline void stage_write(const char *name, const void *data, size_t size)
{
	char path[4300];
	int fd;

	snprintf(path, sizeof path, "%s/stage/%s", stage_repo->path, name);
	if (!data) {
		unlink(path);
		return;
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0 ||
	    (size && write(fd, data, size) != (ssize_t)size))
		fuzz_fail("cannot write %s", path);
	close(fd);
}

/* Loads the stage and checks what it promises. */
static inline void stage_check_load(void)
{
	folio_tree t;
	char base[FOLIO_COMMIT_HEXSZ + 1];

	if (folio_stage_load(&t, base, stage_repo) < 0) {
		fuzz_note("refused: %s", folio_error_last());
		return;
	}
	fuzz_note("%zu files", t.n);
	for (size_t i = 0; i < t.n; i++) {
		if (folio_path_validate(t.v[i].path) < 0)
			fuzz_fail("unsafe path '%s' in the stage", t.v[i].path);
		if (i > 0 && strcmp(t.v[i - 1].path, t.v[i].path) >= 0)
			fuzz_fail("stage paths not sorted and unique at %zu: '%s' then '%s'", i,
				  t.v[i - 1].path, t.v[i].path);
	}
	if (base[0] && strlen(base) != FOLIO_COMMIT_HEXSZ)
		fuzz_fail("base commit '%s' is not %d hex digits", base, FOLIO_COMMIT_HEXSZ);
	folio_tree_clear(&t);
}

#endif
