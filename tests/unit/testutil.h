/*
 * testutil.h — small helpers shared by the criterion unit tests.
 *
 * A test that needs files gets a scratch folder of its own:
 *
 *     static char dir[TEST_DIR_MAX];
 *     setup:    test_mkdtemp(dir, "store");   -> $TMPDIR/folio-store-XXXXXX
 *     teardown: test_rmtree(dir);
 */
#ifndef FOLIO_TESTUTIL_H
#define FOLIO_TESTUTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

/* Room for a scratch folder's name; tests add short suffixes to it in
 * buffers of 256 bytes and more, so a name must stay well below that. */
#define TEST_DIR_MAX 128

/* Makes a fresh, private folder $TMPDIR/folio-WHAT-XXXXXX (/tmp when
 * TMPDIR is unset) and writes its name to dir; fails the test if it
 * cannot. */
static inline void test_mkdtemp(char dir[TEST_DIR_MAX], const char *what)
{
	const char *base = getenv("TMPDIR");
	int n;

	if (!base || !*base)
		base = "/tmp";
	n = snprintf(dir, TEST_DIR_MAX, "%s/folio-%s-XXXXXX", base, what);
	cr_assert(n > 0 && n < TEST_DIR_MAX, "TMPDIR '%s' is too long for the unit tests", base);
	cr_assert_not_null(mkdtemp(dir), "cannot make a scratch folder %s", dir);
}

static inline int testutil_rm_entry(const char *path, const struct stat *st, int flag,
				    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* rm -rf dir (best effort; a test's scratch folder). An empty name (a
 * setup that never made its folder) is left alone, and dir is emptied so
 * that a second call does nothing. */
static inline void test_rmtree(char *dir)
{
	if (!dir[0])
		return;
	nftw(dir, testutil_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	dir[0] = '\0';
}

#endif
