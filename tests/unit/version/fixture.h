/*
 * fixture.h — the scratch-repository fixture shared by the version tests
 * (implemented in util.c).
 */
#ifndef FOLIO_TEST_VERSION_FIXTURE_H
#define FOLIO_TEST_VERSION_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "../testutil.h"
#include "folio/tree.h"
#include "folio/version.h"

typedef struct tcontent {
	char *path;
	char *data;
	size_t len;
} tcontent;

typedef struct tfix {
	char dir[TEST_DIR_MAX];      /* scratch directory */
	char gitdir[TEST_DIR_MAX + 8]; /* dir/git */
	folio_version *v;
	folio_tree tree;
	tcontent *c;
	size_t nc, capc;
	size_t calls;       /* content_cb calls */
} tfix;

void tfix_setup(tfix *f);
void tfix_teardown(tfix *f);
void tfix_add(tfix *f, const char *path, folio_entry_kind kind, uint32_t mode,
	      const char *data, size_t len);
int tfix_content_cb(void **out, size_t *len, const folio_entry *e, void *payload);
void tfix_commit(tfix *f, char out[FOLIO_COMMIT_HEXSZ + 1], const char *msg);
size_t count_files(const char *dir, const char *suffix);
size_t count_loose(const char *gitdir);
int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
