/*
 * test_walk.c — walk_reachable (dedup, corruption reports) and the
 * large-commit path (one pack, every entry read back). Speed is measured
 * by benchmarks, never asserted here: the suite runs on busy machines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "folio/error.h"
#include "folio/oid.h"
#include "folio/tree.h"
#include "folio/version.h"

#include "fixture.h"

static tfix F;

static void setup(void)
{
	tfix_setup(&F);
}

static void teardown(void)
{
	tfix_teardown(&F);
}

#define ADD(path, kind, mode, text) tfix_add(&F, path, kind, mode, text, strlen(text))

TestSuite(walk, .init = setup, .fini = teardown, .timeout = 120);

typedef struct seen {
	size_t n, nbadmsg;
	char paths[16][64];
	char commits[16][41];
	char bad[8][1024];
} seen;

static int on_entry(const folio_entry *e, const char *commit_hex, void *payload)
{
	seen *s = payload;

	if (s->n < 16) {
		snprintf(s->paths[s->n], 64, "%s", e->path);
		snprintf(s->commits[s->n], 41, "%s", commit_hex);
	}
	s->n++;
	return 0;
}

static void on_bad(const char *msg, void *payload)
{
	seen *s = payload;

	if (s->nbadmsg < 8)
		snprintf(s->bad[s->nbadmsg], 1024, "%s", msg);
	s->nbadmsg++;
}

static int seen_path(const seen *s, const char *path)
{
	for (size_t i = 0; i < s->n && i < 16; i++)
		if (strcmp(s->paths[i], path) == 0)
			return 1;
	return 0;
}

Test(walk, unique_blobs_across_commits)
{
	char c1[41], c2[41];
	seen s = {0};
	size_t ncommits = 0, nbad = 99;

	ADD("a.txt", FOLIO_ENTRY_BLOB, FOLIO_MODE_FILE, "same\n");
	ADD("img/1.jpg", FOLIO_ENTRY_LFS, FOLIO_MODE_FILE, "jpeg one");
	ADD("link", FOLIO_ENTRY_LINK, FOLIO_MODE_LINK, "a.txt");
	tfix_commit(&F, c1, "one");
	/* same content under a new name, one new LFS file, one unchanged */
	ADD("copy/a.txt", FOLIO_ENTRY_BLOB, FOLIO_MODE_FILE, "same\n");
	ADD("img/2.jpg", FOLIO_ENTRY_LFS, FOLIO_MODE_FILE, "jpeg two");
	tfix_commit(&F, c2, "two");
	cr_assert_eq(folio_version_tag_create(F.v, "v1", c1, NULL, 0), 0);
	cr_assert_eq(folio_version_branch_create(F.v, "old", c1, 0), 0);

	int rc = folio_version_walk_reachable(&ncommits, &nbad, F.v, on_entry, on_bad, &s);
	cr_assert_eq(rc, 0, "%s", folio_error_last());
	cr_assert_eq(ncommits, 2);
	cr_assert_eq(nbad, 0);
	cr_assert_eq(s.nbadmsg, 0);
	/* "same\n" (a file and copy), pointer 1, pointer 2, the link target */
	cr_assert_eq(s.n, 4, "%zu entries", s.n);
	cr_assert(seen_path(&s, "img/2.jpg"));
	cr_assert(seen_path(&s, "link"));
	for (size_t i = 0; i < s.n; i++)
		if (strcmp(s.paths[i], "img/2.jpg") == 0)
			cr_assert_str_eq(s.commits[i], c2);
}

static int stop_early(const folio_entry *e, const char *commit_hex, void *payload)
{
	(void)e; (void)commit_hex;
	(*(int *)payload)++;
	return 42;
}

Test(walk, callback_can_stop)
{
	char c1[41];
	int calls = 0;

	ADD("a.txt", FOLIO_ENTRY_BLOB, FOLIO_MODE_FILE, "a\n");
	ADD("b.txt", FOLIO_ENTRY_BLOB, FOLIO_MODE_FILE, "b\n");
	tfix_commit(&F, c1, "one");
	cr_assert_eq(folio_version_walk_reachable(NULL, NULL, F.v, stop_early, NULL, &calls), 42);
	cr_assert_eq(calls, 1);
}

Test(walk, empty_repo)
{
	size_t ncommits = 9, nbad = 9;

	cr_assert_eq(folio_version_walk_reachable(&ncommits, &nbad, F.v, on_entry, on_bad, NULL),
		     0);
	cr_assert_eq(ncommits, 0);
	cr_assert_eq(nbad, 0);
}

/* Turns every object into a loose file, so single objects can be broken. */
static void explode_packs(void)
{
	cr_assert_eq(run("cd %s/objects/pack && for p in *.pack; do mv $p ../../$p.bak; done && "
			 "rm -f *.idx *.rev && cd ../.. && "
			 "for p in *.pack.bak; do git --git-dir=. unpack-objects -q < $p; rm $p; done",
			 F.gitdir), 0);
	cr_assert_gt(count_loose(F.gitdir), 0);
}

static void loose_path(char *out, size_t cap, const unsigned char id[20])
{
	char hex[41];

	for (int i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", id[i]);
	snprintf(out, cap, "%s/objects/%.2s/%s", F.gitdir, hex, hex + 2);
}

Test(walk, corrupt_objects_are_reported_and_skipped)
{
	char c1[41], path[256], blobhex[41];
	folio_tree t;
	seen s = {0};
	size_t ncommits = 0, nbad = 0;

	ADD("good/1.txt", FOLIO_ENTRY_BLOB, FOLIO_MODE_FILE, "fine\n");
	ADD("good/2.jpg", FOLIO_ENTRY_LFS, FOLIO_MODE_FILE, "fine jpeg");
	ADD("hurt/broken.txt", FOLIO_ENTRY_BLOB, FOLIO_MODE_FILE, "will be garbage\n");
	ADD("lost/x.txt", FOLIO_ENTRY_BLOB, FOLIO_MODE_FILE, "its tree goes\n");
	tfix_commit(&F, c1, "one");
	cr_assert_eq(folio_version_read_tree(&t, F.v, c1), 0);
	explode_packs();

	/* garbage in place of a blob */
	folio_entry *e = folio_tree_find(&t, "hurt/broken.txt");
	for (int i = 0; i < 20; i++)
		snprintf(blobhex + 2 * i, 3, "%02x", e->blob[i]);
	loose_path(path, sizeof path, e->blob);
	cr_assert_eq(run("chmod u+w %s && printf 'not zlib at all' > %s", path, path), 0);
	/* a missing tree: the one holding lost/ */
	cr_assert_eq(run("rm %s/objects/$(git --git-dir=%s rev-parse HEAD:lost | cut -c1-2)/"
			 "$(git --git-dir=%s rev-parse HEAD:lost | cut -c3-)",
			 F.gitdir, F.gitdir, F.gitdir), 0);
	folio_tree_clear(&t);

	/* a fresh handle, so nothing is cached */
	folio_version *v;
	cr_assert_eq(folio_version_open(&v, F.gitdir), 0);
	int rc = folio_version_walk_reachable(&ncommits, &nbad, v, on_entry, on_bad, &s);
	cr_assert_eq(rc, 0, "%s", folio_error_last());
	cr_assert_eq(ncommits, 1);
	cr_assert_eq(nbad, 2, "nbad %zu: %s | %s", nbad, s.bad[0], s.bad[1]);
	cr_assert_eq(s.nbadmsg, 2);
	int blob_named = 0, tree_named = 0;
	for (int i = 0; i < 2; i++) {
		if (strstr(s.bad[i], blobhex) && strstr(s.bad[i], "hurt/broken.txt") &&
		    strstr(s.bad[i], c1))
			blob_named = 1;
		if (strstr(s.bad[i], "tree") && strstr(s.bad[i], "lost"))
			tree_named = 1;
	}
	cr_assert(blob_named, "blob not named: %s | %s", s.bad[0], s.bad[1]);
	cr_assert(tree_named, "tree not named: %s | %s", s.bad[0], s.bad[1]);
	/* the readable files were still reported */
	cr_assert_eq(s.n, 2);
	cr_assert(seen_path(&s, "good/1.txt") && seen_path(&s, "good/2.jpg"));

	/* reading the version fails cleanly, naming the problem */
	rc = folio_version_read_tree(&t, v, c1);
	cr_assert_lt(rc, 0);
	cr_assert_eq(t.n, 0);
	folio_version_free(v);
}

Test(walk, missing_tip_commit_is_reported)
{
	char c1[41], c2[41], path[256];
	unsigned char raw[20];
	seen s = {0};
	size_t ncommits = 0, nbad = 0;

	ADD("a.txt", FOLIO_ENTRY_BLOB, FOLIO_MODE_FILE, "a\n");
	tfix_commit(&F, c1, "one");
	ADD("b.txt", FOLIO_ENTRY_BLOB, FOLIO_MODE_FILE, "b\n");
	tfix_commit(&F, c2, "two");
	cr_assert_eq(folio_version_branch_create(F.v, "old", c1, 0), 0);
	explode_packs();
	for (int i = 0; i < 20; i++)
		sscanf(c2 + 2 * i, "%2hhx", &raw[i]);
	loose_path(path, sizeof path, raw);
	cr_assert_eq(unlink(path), 0);

	folio_version *v;
	cr_assert_eq(folio_version_open(&v, F.gitdir), 0);
	cr_assert_eq(folio_version_walk_reachable(&ncommits, &nbad, v, on_entry, on_bad, &s), 0);
	folio_version_free(v);
	/* main (and HEAD) lead to the lost commit; "old" still gets walked */
	cr_assert_geq(nbad, 1);
	cr_assert_not_null(strstr(s.bad[0], c2), "%s", s.bad[0]);
	cr_assert_eq(ncommits, 1);
	cr_assert_eq(s.n, 1);
}

Test(walk, big_commit_is_one_pack)
{
	char c1[41], c2[41], packdir[160];
	folio_tree got;
	const size_t n = 20000;

	for (size_t i = 0; i < n; i++) {
		char path[64], data[32];
		folio_entry e;
		memset(&e, 0, sizeof e);
		snprintf(path, sizeof path, "train/class%03zu/img%06zu.jpg", i % 200, i);
		snprintf(data, sizeof data, "pixels %zu", i);
		e.path = path;
		e.kind = FOLIO_ENTRY_LFS;
		e.mode = FOLIO_MODE_FILE;
		e.size = strlen(data);
		folio_hash_buf(&e.oid, data, e.size);
		cr_assert_eq(folio_tree_push(&F.tree, &e), 0);
	}
	ADD("labels.csv", FOLIO_ENTRY_BLOB, FOLIO_MODE_FILE, "path,class\n");
	folio_tree_sort(&F.tree);

	tfix_commit(&F, c1, "big import");
	snprintf(packdir, sizeof packdir, "%s/objects/pack", F.gitdir);
	cr_assert_eq(count_files(packdir, ".pack"), 1);
	cr_assert_eq(count_loose(F.gitdir), 0);

	cr_assert_eq(folio_version_read_tree(&got, F.v, c1), 0, "%s", folio_error_last());
	cr_assert_eq(got.n, n + 1);
	for (size_t i = 0; i < got.n; i++) {
		cr_assert_str_eq(got.v[i].path, F.tree.v[i].path);
		cr_assert_eq(folio_oid_cmp(&got.v[i].oid, &F.tree.v[i].oid), 0);
	}

	/* A small change on top: a small second pack, and no content
	 * callbacks for the 20,000 unchanged files (their blobs are known). */
	folio_tree_clear(&F.tree);
	F.tree = got;
	folio_entry e;
	memset(&e, 0, sizeof e);
	e.path = "train/class000/new.jpg";
	e.kind = FOLIO_ENTRY_LFS;
	e.mode = FOLIO_MODE_FILE;
	e.size = 3;
	folio_hash_buf(&e.oid, "new", 3);
	cr_assert_eq(folio_tree_push(&F.tree, &e), 0);
	folio_tree_sort(&F.tree);
	F.calls = 0;
	tfix_commit(&F, c2, "one more");
	cr_assert_eq(F.calls, 0);
	cr_assert_eq(count_files(packdir, ".pack"), 2);
	cr_assert_eq(run("for i in %s/*.idx; do git --git-dir=%s verify-pack -v $i; done "
			 "| grep -q 'non delta: [1-5] objects'", packdir, F.gitdir), 0);
	cr_assert_eq(run("git --git-dir=%s fsck --strict --no-dangling >/dev/null 2>&1", F.gitdir), 0);

	size_t ncommits = 0, nbad = 0;
	seen s = {0};
	cr_assert_eq(folio_version_walk_reachable(&ncommits, &nbad, F.v, on_entry, on_bad, &s), 0);
	cr_assert_eq(ncommits, 2);
	cr_assert_eq(nbad, 0);
	cr_assert_eq(s.n, n + 2);
}
