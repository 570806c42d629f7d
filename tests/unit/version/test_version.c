/*
 * test_version.c — repositories, commits, trees, resolve, log, refs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

/* The ten-file dataset most tests start from. */
static void add_sample(void)
{
	ADD("a/b/c/deep.txt", FOLIO_ENTRY_BLOB, FOLIO_MODE_FILE, "deep\n");
	ADD("a/b/img.jpg", FOLIO_ENTRY_LFS, FOLIO_MODE_FILE, "\xff\xd8 jpeg bytes");
	ADD("a.b", FOLIO_ENTRY_LFS, FOLIO_MODE_FILE, "sorts before a/");
	ADD("a0", FOLIO_ENTRY_BLOB, FOLIO_MODE_FILE, "sorts after a/\n");
	ADD("a/x.json", FOLIO_ENTRY_BLOB, FOLIO_MODE_FILE, "{\"x\": 1}\n");
	ADD("bin/run.sh", FOLIO_ENTRY_BLOB, FOLIO_MODE_EXEC, "#!/bin/sh\necho hi\n");
	ADD("img/0001.png", FOLIO_ENTRY_LFS, FOLIO_MODE_FILE, "\x89PNG one");
	ADD("img/0002.png", FOLIO_ENTRY_LFS, FOLIO_MODE_EXEC, "\x89PNG two");
	ADD("latest.png", FOLIO_ENTRY_LINK, FOLIO_MODE_LINK, "img/0002.png");
	ADD("empty.txt", FOLIO_ENTRY_BLOB, FOLIO_MODE_FILE, "");
}

static void assert_tree_eq(const folio_tree *got, const folio_tree *want)
{
	cr_assert_eq(got->n, want->n, "%zu entries, want %zu", got->n, want->n);
	for (size_t i = 0; i < want->n; i++) {
		const folio_entry *g = &got->v[i], *w = &want->v[i];
		static const unsigned char zero[20];
		cr_assert_str_eq(g->path, w->path);
		cr_assert_eq(g->kind, w->kind, "%s: kind %d want %d", g->path, g->kind, w->kind);
		cr_assert_eq(g->mode, w->mode, "%s: mode %o want %o", g->path, g->mode, w->mode);
		cr_assert_eq(folio_oid_cmp(&g->oid, &w->oid), 0, "%s: oid differs", g->path);
		cr_assert_eq(g->size, w->size, "%s: size", g->path);
		cr_assert_neq(memcmp(g->blob, zero, 20), 0, "%s: no blob id", g->path);
	}
}

static void head(char **branch, char hex[FOLIO_COMMIT_HEXSZ + 1])
{
	cr_assert_eq(folio_version_head(branch, hex, F.v), 0, "%s", folio_error_last());
}

static void resolve_ok(const char *spec, const char *want)
{
	char got[FOLIO_COMMIT_HEXSZ + 1];
	int rc = folio_version_resolve(got, F.v, spec);

	cr_assert_eq(rc, 0, "resolve %s: %s", spec, folio_error_last());
	cr_assert_str_eq(got, want, "resolve %s", spec);
}

static int resolve_rc(const char *spec)
{
	char got[FOLIO_COMMIT_HEXSZ + 1];

	return folio_version_resolve(got, F.v, spec);
}

TestSuite(version, .init = setup, .fini = teardown, .timeout = 60);

Test(version, init_gives_unborn_main)
{
	char *branch = NULL, hex[FOLIO_COMMIT_HEXSZ + 1];

	head(&branch, hex);
	cr_assert_str_eq(branch, "main");
	cr_assert_str_eq(hex, "");
	free(branch);
	cr_assert_eq(resolve_rc("HEAD"), FOLIO_ENOTFOUND);
	cr_assert_not_null(strstr(folio_error_last(), "no commits yet"), "%s", folio_error_last());
	cr_assert_eq(folio_version_init(F.gitdir), FOLIO_EEXISTS, "%s", folio_error_last());
	cr_assert_eq(run("test \"$(git --git-dir=%s config core.bare)\" = true", F.gitdir), 0);
	cr_assert_eq(run("test \"$(git --git-dir=%s symbolic-ref HEAD)\" = refs/heads/main",
			 F.gitdir), 0);
}

Test(version, open_missing_is_not_found)
{
	folio_version *v = NULL;
	char path[TEST_DIR_MAX + 16];

	snprintf(path, sizeof path, "%s/nope", F.dir);
	cr_assert_eq(folio_version_open(&v, path), FOLIO_ENOTFOUND, "%s", folio_error_last());
	cr_assert_null(v);
	cr_assert_not_null(strstr(folio_error_last(), path));
}

static int count_log(const folio_commit_info *ci, void *payload)
{
	(void)ci;
	(*(int *)payload)++;
	return 0;
}

Test(version, empty_repo_has_empty_log)
{
	int n = 0;

	cr_assert_eq(folio_version_log(F.v, NULL, 0, count_log, &n), 0, "%s", folio_error_last());
	cr_assert_eq(n, 0);
}

Test(version, commit_and_read_back)
{
	char id[FOLIO_COMMIT_HEXSZ + 1], hex[FOLIO_COMMIT_HEXSZ + 1], *branch = NULL;
	folio_tree got;
	folio_commit_info ci;

	add_sample();
	time_t before = time(NULL);
	tfix_commit(&F, id, "first import\n\nwith a body");
	time_t after = time(NULL);
	head(&branch, hex);
	cr_assert_str_eq(branch, "main");
	cr_assert_str_eq(hex, id);
	free(branch);

	cr_assert_eq(folio_version_read_tree(&got, F.v, id), 0, "%s", folio_error_last());
	assert_tree_eq(&got, &F.tree);

	/* blob ids agree with hash_entry, and pointer blobs hold the pointer */
	for (size_t i = 0; i < got.n; i++) {
		folio_entry e = F.tree.v[i];
		void *data;
		size_t len;
		memset(e.blob, 0, 20);
		cr_assert_eq(folio_version_hash_entry(&e, F.v, tfix_content_cb, &F), 0,
			     "%s", folio_error_last());
		cr_assert_eq(memcmp(e.blob, got.v[i].blob, 20), 0, "%s: blob id", e.path);
		cr_assert_eq(folio_version_read_blob(&data, &len, F.v, got.v[i].blob), 0);
		if (e.kind == FOLIO_ENTRY_LFS) {
			char ptr[200];
			size_t n = folio_lfs_pointer(ptr, &e.oid, e.size);
			cr_assert_eq(len, n);
			cr_assert_eq(memcmp(data, ptr, n), 0);
		} else {
			cr_assert_eq(len, e.size);
		}
		free(data);
	}
	folio_tree_clear(&got);

	cr_assert_eq(folio_version_commit_info(&ci, F.v, id), 0, "%s", folio_error_last());
	cr_assert_str_eq(ci.id, id);
	cr_assert_eq(ci.nparents, 0);
	cr_assert_str_eq(ci.parents[0], "");
	cr_assert_str_eq(ci.author_name, "Test Author");
	cr_assert_str_eq(ci.author_email, "test@example.com");
	cr_assert_str_eq(ci.message, "first import\n\nwith a body\n");
	cr_assert(ci.time >= (int64_t)before && ci.time <= (int64_t)after,
		  "commit time %lld outside [%lld, %lld]", (long long)ci.time,
		  (long long)before, (long long)after);
	cr_assert_eq(strlen(ci.tree), 40);
	folio_commit_info_clear(&ci);

	/* Stock git reads it: log --stat, a strict fsck, the file modes,
	 * the symlink, and the reflog entry. */
	cr_assert_eq(run("git --git-dir=%s log --stat >/dev/null 2>&1", F.gitdir), 0);
	cr_assert_eq(run("git --git-dir=%s fsck --strict --no-dangling >/dev/null 2>&1", F.gitdir), 0);
	cr_assert_eq(run("git --git-dir=%s ls-tree -r HEAD | grep -q '^100755 blob [0-9a-f]*\tbin/run.sh$'",
			 F.gitdir), 0);
	cr_assert_eq(run("git --git-dir=%s ls-tree -r HEAD | grep -q '^100755 blob [0-9a-f]*\timg/0002.png$'",
			 F.gitdir), 0);
	cr_assert_eq(run("test \"$(git --git-dir=%s cat-file -p HEAD:latest.png)\" = img/0002.png",
			 F.gitdir), 0);
	cr_assert_eq(run("git --git-dir=%s ls-tree HEAD | grep -q '^120000 blob [0-9a-f]*\tlatest.png$'",
			 F.gitdir), 0);
	cr_assert_eq(run("git --git-dir=%s reflog show main | grep -q 'commit (initial): first import'",
			 F.gitdir), 0);
}

Test(version, commit_writes_one_pack_no_loose_objects)
{
	char id[FOLIO_COMMIT_HEXSZ + 1], pack[160];

	add_sample();
	tfix_commit(&F, id, "one");
	snprintf(pack, sizeof pack, "%s/objects/pack", F.gitdir);
	cr_assert_eq(count_files(pack, ".pack"), 1);
	cr_assert_eq(count_files(pack, ".idx"), 1);
	cr_assert_eq(count_loose(F.gitdir), 0);
	ADD("new.txt", FOLIO_ENTRY_BLOB, FOLIO_MODE_FILE, "new\n");
	tfix_commit(&F, id, "two");
	cr_assert_eq(count_files(pack, ".pack"), 2);
	cr_assert_eq(count_loose(F.gitdir), 0);
	/* the second pack holds only what is new: blob, root tree, commit */
	cr_assert_eq(run("for i in %s/*.idx; do git --git-dir=%s verify-pack -v $i; done "
			 "| grep -q 'non delta: 3 objects'", pack, F.gitdir), 0);
}

static int collect_log(const folio_commit_info *ci, void *payload)
{
	char (*ids)[FOLIO_COMMIT_HEXSZ + 1] = payload;
	size_t i = 0;

	while (ids[i][0])
		i++;
	memcpy(ids[i], ci->id, FOLIO_COMMIT_HEXSZ + 1);
	return 0;
}

/* The pack writer: objects whose compressed stream spans several of its
 * 64 KiB chunks, sizes at the edges of the size header's 4- and 7-bit
 * groups, an empty blob, bytes that do not compress; stock git must read
 * every one back. */
Test(version, commit_packs_big_and_odd_sized_blobs)
{
	static const size_t sizes[] = {0, 1, 15, 16, 2047, 2048, 262143, 262144, 3 << 20};
	char id[FOLIO_COMMIT_HEXSZ + 1], path[64], pack[160];
	size_t n = sizeof sizes / sizeof sizes[0];
	unsigned int seed = 12345;
	folio_tree got;

	for (size_t i = 0; i < n; i++) {
		char *data = malloc(sizes[i] + 1);
		cr_assert_not_null(data);
		for (size_t j = 0; j < sizes[i]; j++)  /* noise: deflate cannot shrink it */
			data[j] = (char)((seed = seed * 1103515245u + 12345u) >> 16);
		snprintf(path, sizeof path, "blobs/%zu.bin", sizes[i]);
		tfix_add(&F, path, FOLIO_ENTRY_BLOB, FOLIO_MODE_FILE, data, sizes[i]);
		free(data);
	}
	tfix_commit(&F, id, "odd sizes");
	snprintf(pack, sizeof pack, "%s/objects/pack", F.gitdir);
	cr_assert_eq(count_files(pack, ".pack"), 1);
	cr_assert_eq(run("git --git-dir=%s fsck --strict --no-dangling >/dev/null 2>&1", F.gitdir), 0);
	cr_assert_eq(run("for i in %s/*.idx; do git --git-dir=%s verify-pack $i || exit 1; done",
			 pack, F.gitdir), 0);
	cr_assert_eq(folio_version_read_tree(&got, F.v, id), 0, "%s", folio_error_last());
	cr_assert_eq(got.n, n);
	for (size_t i = 0; i < got.n; i++) {
		const folio_entry *w = folio_tree_find(&F.tree, got.v[i].path);
		void *data;
		size_t len;
		cr_assert_not_null(w, "%s", got.v[i].path);
		cr_assert_eq(got.v[i].size, w->size, "%s", w->path);
		cr_assert_eq(folio_oid_cmp(&got.v[i].oid, &w->oid), 0, "%s", w->path);
		cr_assert_eq(folio_version_read_blob(&data, &len, F.v, got.v[i].blob), 0);
		cr_assert_eq(len, w->size, "%s", w->path);
		free(data);
		/* git's own reader agrees on the size */
		cr_assert_eq(run("test \"$(git --git-dir=%s cat-file -s HEAD:%s)\" = %llu",
				 F.gitdir, w->path, (unsigned long long)w->size), 0, "%s", w->path);
	}
	folio_tree_clear(&got);
}

Test(version, second_commit_parents_and_log)
{
	char c1[41], c2[41], c3[41];
	char ids[8][FOLIO_COMMIT_HEXSZ + 1];
	folio_commit_info ci;
	folio_tree got;

	add_sample();
	tfix_commit(&F, c1, "one");
	ADD("a/x.json", FOLIO_ENTRY_BLOB, FOLIO_MODE_FILE, "{\"x\": 2}\n");
	folio_tree_remove_at(&F.tree, 0); /* "a.b" */
	ADD("z/new.jpg", FOLIO_ENTRY_LFS, FOLIO_MODE_FILE, "new jpeg");
	tfix_commit(&F, c2, "two");
	tfix_commit(&F, c3, "three: no change");

	cr_assert_eq(folio_version_commit_info(&ci, F.v, c2), 0);
	cr_assert_eq(ci.nparents, 1);
	cr_assert_str_eq(ci.parents[0], c1);
	folio_commit_info_clear(&ci);
	cr_assert_eq(folio_version_read_tree(&got, F.v, c2), 0, "%s", folio_error_last());
	assert_tree_eq(&got, &F.tree);
	folio_tree_clear(&got);

	memset(ids, 0, sizeof ids);
	cr_assert_eq(folio_version_log(F.v, NULL, 0, collect_log, ids), 0, "%s", folio_error_last());
	cr_assert_str_eq(ids[0], c3);
	cr_assert_str_eq(ids[1], c2);
	cr_assert_str_eq(ids[2], c1);
	cr_assert_str_eq(ids[3], "");
	memset(ids, 0, sizeof ids);
	cr_assert_eq(folio_version_log(F.v, "HEAD", 2, collect_log, ids), 0);
	cr_assert_str_eq(ids[1], c2);
	cr_assert_str_eq(ids[2], "");
	memset(ids, 0, sizeof ids);
	cr_assert_eq(folio_version_log(F.v, c2, 0, collect_log, ids), 0);
	cr_assert_str_eq(ids[0], c2);
	cr_assert_str_eq(ids[1], c1);
	cr_assert_str_eq(ids[2], "");
	cr_assert_eq(run("git --git-dir=%s reflog show main | grep -q 'commit: two'", F.gitdir), 0);
}

Test(version, read_tree_of_unchanged_blob_entries_does_not_need_content)
{
	char c1[41], c2[41];
	folio_tree got;

	add_sample();
	tfix_commit(&F, c1, "one");
	/* Reading back fills blob ids; committing that list again must not
	 * call content_cb: every blob is already in the repository. */
	cr_assert_eq(folio_version_read_tree(&got, F.v, c1), 0);
	F.calls = 0;
	cr_assert_eq(folio_version_commit(c2, F.v, &got, "again", NULL, tfix_content_cb, &F), 0,
		     "%s", folio_error_last());
	cr_assert_eq(F.calls, 0);
	folio_tree_clear(&got);
}

Test(version, commit_refuses_bad_lists)
{
	char id[41], *branch = NULL, hex[41], pack[160];
	folio_tree t;
	folio_entry e;

	add_sample();
	tfix_commit(&F, id, "one");
	snprintf(pack, sizeof pack, "%s/objects/pack", F.gitdir);

	/* file and directory of the same name */
	cr_assert_eq(folio_tree_copy(&t, &F.tree), 0);
	memset(&e, 0, sizeof e);
	e.kind = FOLIO_ENTRY_LFS;
	e.mode = FOLIO_MODE_FILE;
	e.path = "a/b";
	cr_assert_eq(folio_tree_push(&t, &e), 0);
	folio_tree_sort(&t);
	cr_assert_eq(folio_version_commit(hex, F.v, &t, "x", NULL, tfix_content_cb, &F),
		     FOLIO_EINVAL);
	cr_assert_not_null(strstr(folio_error_last(), "both a file and a directory"),
			   "%s", folio_error_last());
	folio_tree_clear(&t);

	/* unsorted */
	cr_assert_eq(folio_tree_copy(&t, &F.tree), 0);
	folio_entry tmp = t.v[0];
	t.v[0] = t.v[1];
	t.v[1] = tmp;
	cr_assert_eq(folio_version_commit(hex, F.v, &t, "x", NULL, tfix_content_cb, &F),
		     FOLIO_EINVAL);
	folio_tree_clear(&t);

	/* a link with a file mode */
	cr_assert_eq(folio_tree_copy(&t, &F.tree), 0);
	folio_tree_find(&t, "latest.png")->mode = FOLIO_MODE_FILE;
	cr_assert_eq(folio_version_commit(hex, F.v, &t, "x", NULL, tfix_content_cb, &F),
		     FOLIO_EINVAL);
	folio_tree_clear(&t);

	/* content that does not match the recorded oid */
	cr_assert_eq(folio_tree_copy(&t, &F.tree), 0);
	ADD("a0", FOLIO_ENTRY_BLOB, FOLIO_MODE_FILE, "other content!\n");
	cr_assert_eq(folio_version_commit(hex, F.v, &t, "x", NULL, tfix_content_cb, &F),
		     FOLIO_ECORRUPT);
	cr_assert_not_null(strstr(folio_error_last(), "a0"), "%s", folio_error_last());
	folio_tree_clear(&t);

	/* an LFS entry whose recorded blob id is stale */
	cr_assert_eq(folio_tree_copy(&t, &F.tree), 0);
	folio_tree_find(&t, "img/0001.png")->blob[3] ^= 1;
	cr_assert_eq(folio_version_commit(hex, F.v, &t, "x", NULL, tfix_content_cb, &F),
		     FOLIO_ECORRUPT);
	folio_tree_clear(&t);

	/* a bad path */
	cr_assert_eq(folio_tree_copy(&t, &F.tree), 0);
	e.path = "../evil";
	cr_assert_eq(folio_tree_push(&t, &e), 0);
	folio_tree_sort(&t);
	cr_assert_eq(folio_version_commit(hex, F.v, &t, "x", NULL, tfix_content_cb, &F),
		     FOLIO_EINVAL);
	folio_tree_clear(&t);

	/* ".git" in another letter case */
	cr_assert_eq(folio_tree_copy(&t, &F.tree), 0);
	e.path = "sub/.Git/config";
	cr_assert_eq(folio_tree_push(&t, &e), 0);
	folio_tree_sort(&t);
	cr_assert_eq(folio_version_commit(hex, F.v, &t, "x", NULL, tfix_content_cb, &F),
		     FOLIO_EINVAL);
	cr_assert_not_null(strstr(folio_error_last(), ".Git"), "%s", folio_error_last());
	folio_tree_clear(&t);

	/* a content callback that fails: its error comes through */
	cr_assert_eq(folio_tree_copy(&t, &F.tree), 0);
	memset(&e, 0, sizeof e);
	e.kind = FOLIO_ENTRY_BLOB;
	e.mode = FOLIO_MODE_FILE;
	e.path = "zz-unknown.txt";
	cr_assert_eq(folio_tree_push(&t, &e), 0);
	cr_assert_eq(folio_version_commit(hex, F.v, &t, "x", NULL, tfix_content_cb, &F),
		     FOLIO_ENOTFOUND);
	folio_tree_clear(&t);

	/* nothing moved, nothing written */
	head(&branch, hex);
	cr_assert_str_eq(hex, id);
	free(branch);
	cr_assert_eq(count_files(pack, ".pack"), 1);
	cr_assert_eq(count_loose(F.gitdir), 0);
}

Test(version, empty_tree_commit)
{
	char id[41];
	folio_tree got;

	tfix_commit(&F, id, "nothing");
	cr_assert_eq(folio_version_read_tree(&got, F.v, id), 0, "%s", folio_error_last());
	cr_assert_eq(got.n, 0);
	folio_tree_clear(&got);
	cr_assert_eq(run("git --git-dir=%s fsck --strict >/dev/null 2>&1", F.gitdir), 0);
}

Test(version, explicit_author)
{
	char id[41];
	folio_signature sig = {"Ada Lovelace", "ada@example.org"};
	folio_commit_info ci;

	add_sample();
	cr_assert_eq(folio_version_commit(id, F.v, &F.tree, "m", &sig, tfix_content_cb, &F), 0);
	cr_assert_eq(folio_version_commit_info(&ci, F.v, id), 0);
	cr_assert_str_eq(ci.author_name, "Ada Lovelace");
	cr_assert_str_eq(ci.author_email, "ada@example.org");
	folio_commit_info_clear(&ci);
	/* libgit2 refuses angle brackets; we say which author was bad */
	folio_signature badsig = {"Eve <evil>", "e@x"};
	cr_assert_eq(folio_version_commit(id, F.v, &F.tree, "m", &badsig, tfix_content_cb, &F),
		     FOLIO_EINVAL);
	cr_assert_not_null(strstr(folio_error_last(), "Eve"));
}

Test(version, resolve_names)
{
	char c1[41], c2[41], abbrev[8];

	add_sample();
	tfix_commit(&F, c1, "one");
	ADD("more.txt", FOLIO_ENTRY_BLOB, FOLIO_MODE_FILE, "more\n");
	tfix_commit(&F, c2, "two");
	cr_assert_eq(folio_version_tag_create(F.v, "v1", c1, NULL, 0), 0, "%s", folio_error_last());
	cr_assert_eq(folio_version_tag_create(F.v, "v2", "HEAD", "release two", 0), 0,
		     "%s", folio_error_last());

	resolve_ok("HEAD", c2);
	resolve_ok("main", c2);
	resolve_ok("refs/heads/main", c2);
	resolve_ok("HEAD~1", c1);
	resolve_ok("HEAD^", c1);
	resolve_ok("main~1", c1);
	resolve_ok("v1", c1);
	resolve_ok("v2", c2); /* annotated: peeled to the commit */
	resolve_ok(c1, c1);
	memcpy(abbrev, c1, 7);
	abbrev[7] = '\0';
	resolve_ok(abbrev, c1);

	cr_assert_eq(resolve_rc("nope"), FOLIO_ENOTFOUND);
	cr_assert_not_null(strstr(folio_error_last(), "no version named 'nope'"));
	cr_assert_eq(resolve_rc("HEAD~5"), FOLIO_ENOTFOUND);
	cr_assert_eq(resolve_rc("0000000000000000000000000000000000000000"), FOLIO_ENOTFOUND);
	cr_assert_eq(resolve_rc(""), FOLIO_EINVAL);
	cr_assert_eq(resolve_rc("HEAD:a"), FOLIO_EINVAL); /* a tree */
	cr_assert_not_null(strstr(folio_error_last(), "tree"), "%s", folio_error_last());
	int rc = resolve_rc("main..v1");
	cr_assert(rc == FOLIO_EINVAL || rc == FOLIO_ENOTFOUND, "rc %d", rc);
}

Test(version, resolve_ambiguous_prefix)
{
	char id[41], data[32], prefix[5] = {0};
	folio_tree got;

	/* 2000 distinct pointer blobs: two share their first 4 hex digits
	 * (the content is fixed, so this is deterministic). */
	for (int i = 0; i < 2000; i++) {
		char path[32];
		snprintf(path, sizeof path, "d/%04d.jpg", i);
		snprintf(data, sizeof data, "image %d", i);
		folio_entry e;
		memset(&e, 0, sizeof e);
		e.path = path;
		e.kind = FOLIO_ENTRY_LFS;
		e.mode = FOLIO_MODE_FILE;
		e.size = strlen(data);
		folio_hash_buf(&e.oid, data, strlen(data));
		cr_assert_eq(folio_tree_push(&F.tree, &e), 0);
	}
	tfix_commit(&F, id, "many");
	cr_assert_eq(folio_version_read_tree(&got, F.v, id), 0);
	for (size_t i = 0; i < got.n && !prefix[0]; i++)
		for (size_t j = i + 1; j < got.n; j++)
			if (got.v[i].blob[0] == got.v[j].blob[0] &&
			    got.v[i].blob[1] == got.v[j].blob[1]) {
				snprintf(prefix, sizeof prefix, "%02x%02x", got.v[i].blob[0],
					 got.v[i].blob[1]);
				break;
			}
	folio_tree_clear(&got);
	cr_assert(prefix[0], "no shared prefix found");
	cr_assert_eq(resolve_rc(prefix), FOLIO_EAMBIGUOUS, "%s: %s", prefix, folio_error_last());
	cr_assert_not_null(strstr(folio_error_last(), "ambiguous"));
}

typedef struct refs_seen {
	char names[8][64];
	char targets[8][41];
	int is_head[8];
	int n;
} refs_seen;

static int collect_refs(const folio_ref_info *r, void *payload)
{
	refs_seen *s = payload;

	cr_assert_lt(s->n, 8);
	snprintf(s->names[s->n], 64, "%.63s", r->name);
	memcpy(s->targets[s->n], r->target, 41);
	s->is_head[s->n] = r->is_head;
	s->n++;
	return 0;
}

Test(version, branches)
{
	char c1[41], c2[41], c3[41], hex[41], *branch = NULL;
	refs_seen s = {0};

	add_sample();
	tfix_commit(&F, c1, "one");
	ADD("more.txt", FOLIO_ENTRY_BLOB, FOLIO_MODE_FILE, "more\n");
	tfix_commit(&F, c2, "two");

	cr_assert_eq(folio_version_branch_create(F.v, "dev", NULL, 0), 0, "%s", folio_error_last());
	resolve_ok("dev", c2);
	cr_assert_eq(folio_version_branch_create(F.v, "dev", c1, 0), FOLIO_EEXISTS);
	cr_assert_eq(folio_version_branch_create(F.v, "dev", c1, 1), 0, "%s", folio_error_last());
	resolve_ok("dev", c1);
	cr_assert_eq(folio_version_branch_create(F.v, "feature/x", "HEAD~1", 0), 0,
		     "%s", folio_error_last());
	cr_assert_eq(folio_version_branch_create(F.v, "zz", "nope", 0), FOLIO_ENOTFOUND);

	static const char *bad[] = {"", "a..b", "bad name", "x.lock", "-x", "a/", "/a",
				    "a:b", "a~1", "a^", "a?", "a*", "a[b", "a\\b", ".hidden",
				    "HEAD", "@", "a@{1}"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		cr_assert_eq(folio_version_branch_create(F.v, bad[i], NULL, 0), FOLIO_EINVAL,
			     "accepted branch name '%s'", bad[i]);

	cr_assert_eq(folio_version_refs(F.v, 0, collect_refs, &s), 0, "%s", folio_error_last());
	cr_assert_eq(s.n, 3);
	cr_assert_str_eq(s.names[0], "dev");
	cr_assert_str_eq(s.names[1], "feature/x");
	cr_assert_str_eq(s.names[2], "main");
	cr_assert_str_eq(s.targets[0], c1);
	cr_assert_str_eq(s.targets[2], c2);
	cr_assert(!s.is_head[0] && !s.is_head[1] && s.is_head[2]);

	/* the branch HEAD points to cannot be deleted */
	cr_assert_eq(folio_version_branch_delete(F.v, "main"), FOLIO_EINVAL);
	cr_assert_not_null(strstr(folio_error_last(), "HEAD"));

	/* switch to dev; commits now move dev, not main */
	cr_assert_eq(folio_version_set_head(F.v, "dev"), 0, "%s", folio_error_last());
	head(&branch, hex);
	cr_assert_str_eq(branch, "dev");
	cr_assert_str_eq(hex, c1);
	free(branch);
	tfix_commit(&F, c3, "on dev");
	resolve_ok("dev", c3);
	resolve_ok("main", c2);
	resolve_ok("dev~1", c1);

	cr_assert_eq(folio_version_set_head(F.v, "nope"), FOLIO_ENOTFOUND);
	cr_assert_eq(folio_version_set_head(F.v, "bad name"), FOLIO_EINVAL);
	cr_assert_eq(folio_version_branch_delete(F.v, "main"), 0, "%s", folio_error_last());
	cr_assert_eq(resolve_rc("main"), FOLIO_ENOTFOUND);
	cr_assert_eq(folio_version_branch_delete(F.v, "main"), FOLIO_ENOTFOUND);
	cr_assert_eq(folio_version_branch_delete(F.v, "feature/x"), 0);
	memset(&s, 0, sizeof s);
	cr_assert_eq(folio_version_refs(F.v, 0, collect_refs, &s), 0);
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.names[0], "dev");
	cr_assert_eq(s.is_head[0], 1);
}

Test(version, set_head_on_empty_repo)
{
	char id[41], hex[41], *branch = NULL;

	cr_assert_eq(folio_version_set_head(F.v, "trunk"), 0, "%s", folio_error_last());
	head(&branch, hex);
	cr_assert_str_eq(branch, "trunk");
	cr_assert_str_eq(hex, "");
	free(branch);
	add_sample();
	tfix_commit(&F, id, "first on trunk");
	resolve_ok("trunk", id);
	cr_assert_eq(resolve_rc("main"), FOLIO_ENOTFOUND);
}

Test(version, tags)
{
	char c1[41], c2[41];
	refs_seen s = {0};

	add_sample();
	tfix_commit(&F, c1, "one");
	ADD("more.txt", FOLIO_ENTRY_BLOB, FOLIO_MODE_FILE, "more\n");
	tfix_commit(&F, c2, "two");

	cr_assert_eq(folio_version_tag_create(F.v, "v2", NULL, "second release\n", 0), 0,
		     "%s", folio_error_last());
	cr_assert_eq(folio_version_tag_create(F.v, "v1", "HEAD~1", NULL, 0), 0);
	cr_assert_eq(folio_version_tag_create(F.v, "v1", NULL, NULL, 0), FOLIO_EEXISTS);
	cr_assert_eq(folio_version_tag_create(F.v, "v2", NULL, "again", 0), FOLIO_EEXISTS);
	cr_assert_eq(folio_version_tag_create(F.v, "bad..name", NULL, NULL, 0), FOLIO_EINVAL);
	cr_assert_eq(folio_version_tag_create(F.v, "v3", "nope", NULL, 0), FOLIO_ENOTFOUND);

	cr_assert_eq(folio_version_refs(F.v, 1, collect_refs, &s), 0);
	cr_assert_eq(s.n, 2);
	cr_assert_str_eq(s.names[0], "v1");
	cr_assert_str_eq(s.names[1], "v2");
	cr_assert_str_eq(s.targets[0], c1);
	cr_assert_str_eq(s.targets[1], c2);
	cr_assert(!s.is_head[0] && !s.is_head[1]);
	/* v2 is annotated, v1 lightweight, as stock git sees them */
	cr_assert_eq(run("test \"$(git --git-dir=%s cat-file -t v2)\" = tag", F.gitdir), 0);
	cr_assert_eq(run("test \"$(git --git-dir=%s cat-file -t v1)\" = commit", F.gitdir), 0);
	cr_assert_eq(run("git --git-dir=%s cat-file -p v2 | grep -q '^tagger Test Author <test@example.com>'",
			 F.gitdir), 0);

	cr_assert_eq(folio_version_tag_create(F.v, "v1", "HEAD", NULL, 1), 0, "%s", folio_error_last());
	resolve_ok("v1", c2);
	cr_assert_eq(folio_version_tag_delete(F.v, "v1"), 0);
	cr_assert_eq(folio_version_tag_delete(F.v, "v1"), FOLIO_ENOTFOUND);
	cr_assert_eq(resolve_rc("v1"), FOLIO_ENOTFOUND);
	memset(&s, 0, sizeof s);
	cr_assert_eq(folio_version_refs(F.v, 1, collect_refs, &s), 0);
	cr_assert_eq(s.n, 1);
	/* branches are not tags */
	memset(&s, 0, sizeof s);
	cr_assert_eq(folio_version_refs(F.v, 0, collect_refs, &s), 0);
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.names[0], "main");
}

Test(version, identity_from_env_config_os)
{
	folio_signature sig;

	cr_assert_eq(folio_version_identity(&sig, F.v), 0);
	cr_assert_str_eq(sig.name, "Test Author");
	cr_assert_str_eq(sig.email, "test@example.com");

	/* git config, here the repository's own */
	unsetenv("GIT_AUTHOR_NAME");
	unsetenv("GIT_AUTHOR_EMAIL");
	unsetenv("EMAIL");
	cr_assert_eq(run("git --git-dir=%s config user.name 'Config Name' && "
			 "git --git-dir=%s config user.email cfg@example.net", F.gitdir, F.gitdir), 0);
	/* a fresh handle sees the new config */
	folio_version *v2;
	cr_assert_eq(folio_version_open(&v2, F.gitdir), 0);
	cr_assert_eq(folio_version_identity(&sig, v2), 0);
	cr_assert_str_eq(sig.name, "Config Name");
	cr_assert_str_eq(sig.email, "cfg@example.net");
	/* the environment still wins over config, field by field */
	setenv("GIT_AUTHOR_NAME", "Env Name", 1);
	cr_assert_eq(folio_version_identity(&sig, v2), 0);
	cr_assert_str_eq(sig.name, "Env Name");
	cr_assert_str_eq(sig.email, "cfg@example.net");
	folio_version_free(v2);

	/* no config: the OS user and user@host */
	unsetenv("GIT_AUTHOR_NAME");
	cr_assert_eq(run("git --git-dir=%s config --unset user.name && "
			 "git --git-dir=%s config --unset user.email", F.gitdir, F.gitdir), 0);
	cr_assert_eq(folio_version_open(&v2, F.gitdir), 0);
	cr_assert_eq(folio_version_identity(&sig, v2), 0);
	folio_version_free(v2);
	/* the machine's global config may set these; only check that
	 * something sensible came out */
	cr_assert_gt(strlen(sig.name), 0);
	cr_assert_not_null(strchr(sig.email, '@'), "%s", sig.email);
}

Test(version, read_tree_errors)
{
	folio_tree t;

	cr_assert_eq(folio_version_read_tree(&t, F.v, "nope"), FOLIO_EINVAL);
	cr_assert_eq(t.n, 0);
	cr_assert_eq(folio_version_read_tree(&t, F.v, "0123456789012345678901234567890123456789"),
		     FOLIO_ENOTFOUND);
}

Test(version, read_tree_of_foreign_git_commit)
{
	char hex[41];
	folio_tree t;

	/* A commit made by stock git, with a file that merely looks like a
	 * pointer (uppercase hex) and one that is a real pointer. */
	cr_assert_eq(run("cd %s && mkdir w && cd w && git init -q -b main . && "
			 "printf 'version https://git-lfs.github.com/spec/v1\\noid sha256:%s\\nsize 3\\n' > real && "
			 "printf 'version https://git-lfs.github.com/spec/v1\\noid sha256:%s\\nsize 3\\n' > fake && "
			 "git add real fake && "
			 "git -c user.name=a -c user.email=b@c commit -qm foreign && "
			 "git push -q %s main >/dev/null 2>&1",
			 F.dir,
			 "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393",
			 "4D7A214614AB2935C943F9E0FF69D22EADBB8F32B1258DAAA5E2CA24D17E2393",
			 F.gitdir), 0);
	cr_assert_eq(folio_version_resolve(hex, F.v, "main"), 0, "%s", folio_error_last());
	cr_assert_eq(folio_version_read_tree(&t, F.v, hex), 0, "%s", folio_error_last());
	cr_assert_eq(t.n, 2);
	cr_assert_str_eq(t.v[0].path, "fake");
	cr_assert_eq(t.v[0].kind, FOLIO_ENTRY_BLOB);
	cr_assert_eq(t.v[0].size, 126);
	cr_assert_str_eq(t.v[1].path, "real");
	cr_assert_eq(t.v[1].kind, FOLIO_ENTRY_LFS);
	cr_assert_eq(t.v[1].size, 3);
	folio_tree_clear(&t);
}

Test(version, commit_on_detached_head_moves_head_only)
{
	char c1[41], c2[41], c3[41], hex[41], *branch = (char *)"x";

	add_sample();
	tfix_commit(&F, c1, "one");
	ADD("more.txt", FOLIO_ENTRY_BLOB, FOLIO_MODE_FILE, "more\n");
	tfix_commit(&F, c2, "two");
	cr_assert_eq(run("git --git-dir=%s update-ref --no-deref HEAD %s", F.gitdir, c1), 0);
	head(&branch, hex);
	cr_assert_null(branch);
	cr_assert_str_eq(hex, c1);
	tfix_commit(&F, c3, "on a detached head");
	resolve_ok("HEAD", c3);
	resolve_ok("HEAD~1", c1);
	resolve_ok("main", c2);
}

Test(version, read_blob_missing)
{
	unsigned char blob[20] = {1, 2, 3};
	void *data = (void *)1;
	size_t len = 7;

	cr_assert_eq(folio_version_read_blob(&data, &len, F.v, blob), FOLIO_ENOTFOUND);
	cr_assert_null(data);
	cr_assert_eq(len, 0);
	cr_assert_not_null(strstr(folio_error_last(), "0102030000"), "%s", folio_error_last());
}

Test(version, hash_entry_matches_git_hash_object)
{
	folio_entry e;
	char hex[41], want[64];
	FILE *p;

	ADD("notes.txt", FOLIO_ENTRY_BLOB, FOLIO_MODE_FILE, "hello git\n");
	e = F.tree.v[0];
	cr_assert_eq(folio_version_hash_entry(&e, F.v, tfix_content_cb, &F), 0, "%s", folio_error_last());
	for (int i = 0; i < 20; i++)
		snprintf(hex + 2 * i, 3, "%02x", e.blob[i]);
	cr_assert_not_null(p = popen("printf 'hello git\\n' | git hash-object --stdin", "r"));
	cr_assert_not_null(fgets(want, sizeof want, p));
	pclose(p);
	want[40] = '\0';
	cr_assert_str_eq(hex, want);
	/* no callback for a BLOB is a clear error, not a crash */
	cr_assert_eq(folio_version_hash_entry(&e, F.v, NULL, NULL), FOLIO_EINVAL);
}
