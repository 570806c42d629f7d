/*
 * fixture.h — a fresh repository in a temp dir for the core/repo tests
 * that store files (test_add.c, test_fsck.c): `dir` holds it, `repo` is
 * open, and everything is removed afterwards.
 */
#ifndef FOLIO_TEST_REPO_FIXTURE_H
#define FOLIO_TEST_REPO_FIXTURE_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#include "../testutil.h"
#include "folio/error.h"
#include "folio/repo.h"

static char dir[TEST_DIR_MAX], repo_path[300];
static folio_repo *repo;

static inline void fixture_setup(void)
{
	test_mkdtemp(dir, "ut-repo");
	snprintf(repo_path, sizeof repo_path, "%s/r", dir);
	cr_assert_eq(folio_repo_init(repo_path), 0, "%s", folio_error_last());
	cr_assert_eq(folio_repo_open(&repo, repo_path), 0, "%s", folio_error_last());
}

static inline void fixture_teardown(void)
{
	folio_repo_free(repo);
	repo = NULL;
	test_rmtree(dir);
}

#endif
