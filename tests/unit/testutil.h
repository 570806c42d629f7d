/*
 * testutil.h — small helpers shared by the criterion unit tests.
 */
#ifndef FOLIO_TESTUTIL_H
#define FOLIO_TESTUTIL_H

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>

static inline int testutil_rm_entry(const char *path, const struct stat *st, int flag,
				    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* rm -rf dir (best effort; a test's temp folder). */
static inline void test_rmtree(const char *dir)
{
	nftw(dir, testutil_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
