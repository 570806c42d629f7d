/* Unit tests for core/repo/fsck.c: fsck on a sound repository, a corrupted
 * object, a missing object, a staged file whose object is gone; gc keeps
 * what refs and the stage reach and removes the rest. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"

static void setup(void)
{
	fixture_setup();
	setenv("GIT_AUTHOR_NAME", "T", 1);
	setenv("GIT_AUTHOR_EMAIL", "t@example.org", 1);
}

TestSuite(fsck, .init = setup, .fini = fixture_teardown);
TestSuite(gc, .init = setup, .fini = fixture_teardown);

/* Stages path with content as an lfs file (or a blob); returns its oid. */
static folio_oid stage_file(const char *path, const char *content, folio_entry_kind kind)
{
	folio_tree t;
	char base[FOLIO_COMMIT_HEXSZ + 1];
	folio_entry e = { 0 };

	folio_tree_init(&t);
	cr_assert_eq(folio_stage_load(&t, base, repo), 0, "%s", folio_error_last());
	cr_assert_eq(folio_store_put_buf(&e.oid, repo->store, content, strlen(content)), 0);
	e.path = (char *)path;
	e.kind = kind;
	e.mode = FOLIO_MODE_FILE;
	e.size = strlen(content);
	cr_assert_eq(folio_tree_set(&t, &e), 0);
	cr_assert_eq(folio_stage_save(repo, &t, base), 0, "%s", folio_error_last());
	folio_tree_clear(&t);
	return e.oid;
}

static void commit(const char *msg)
{
	folio_tree t;
	char base[FOLIO_COMMIT_HEXSZ + 1], id[FOLIO_COMMIT_HEXSZ + 1];
	folio_signature sig;

	folio_tree_init(&t);
	cr_assert_eq(folio_stage_load(&t, base, repo), 0, "%s", folio_error_last());
	cr_assert_eq(folio_version_identity(&sig, repo->version), 0, "%s", folio_error_last());
	cr_assert_eq(folio_version_commit(id, repo->version, &t, msg, &sig, folio_repo_content_cb, repo),
		     0, "%s", folio_error_last());
	cr_assert_eq(folio_stage_save(repo, &t, id), 0);
	folio_tree_clear(&t);
}

/* Drops path from the stage. */
static void unstage(const char *path)
{
	folio_tree t;
	char base[FOLIO_COMMIT_HEXSZ + 1];

	folio_tree_init(&t);
	cr_assert_eq(folio_stage_load(&t, base, repo), 0);
	for (size_t i = 0; i < t.n; i++)
		if (strcmp(t.v[i].path, path) == 0)
			folio_tree_remove_at(&t, i);
	cr_assert_eq(folio_stage_save(repo, &t, base), 0);
	folio_tree_clear(&t);
}

static const char *object_file(const folio_oid *oid)
{
	static folio_object_info info;
	cr_assert_eq(folio_store_stat(&info, repo->store, oid), 0, "%s", folio_error_last());
	return info.path;
}

typedef struct found {
	int n[8];
	char text[8192];
	size_t progress_calls, last_total;
} found;

static void on_problem(const folio_fsck_problem *p, void *payload)
{
	found *f = payload;
	size_t l = strlen(f->text);

	cr_assert(p->kind >= 1 && p->kind < 8);
	f->n[p->kind]++;
	snprintf(f->text + l, sizeof f->text - l, "%d %s|%s|%s\n", (int)p->kind, p->message,
		 p->path ? p->path : "-", p->commit ? "commit" : "-");
}

static void on_progress(size_t done, size_t total, uint64_t bytes, void *payload)
{
	found *f = payload;
	(void)bytes;
	cr_expect_leq(done, total);
	f->progress_calls++;
	f->last_total = total;
}

static int fsck(folio_fsck_report *r, found *f)
{
	folio_fsck_opts o = { .threads = 2, .problem = on_problem, .progress = on_progress,
			      .payload = f };
	memset(f, 0, sizeof *f);
	return folio_repo_fsck(r, repo, &o);
}

Test(fsck, a_sound_repository)
{
	folio_fsck_report r;
	found f;

	stage_file("a.jpg", "image a", FOLIO_ENTRY_LFS);
	stage_file("b.txt", "text b\n", FOLIO_ENTRY_BLOB);
	commit("one");
	stage_file("c.jpg", "image c", FOLIO_ENTRY_LFS);
	commit("two");
	cr_assert_eq(fsck(&r, &f), 0, "%s", folio_error_last());
	cr_expect_eq(r.problems, 0, "%s", f.text);
	cr_expect_eq(r.commits, 2);
	cr_expect_eq(r.files, 3);
	cr_expect_eq(r.objects, 3);
	cr_expect_gt(r.bytes, 0);
	cr_expect_gt(f.progress_calls, 0);
	cr_expect_eq(f.last_total, 3);

	/* an empty repository is sound too */
	folio_repo_free(repo);
	char empty[400];
	snprintf(empty, sizeof empty, "%s/empty", dir);
	cr_assert_eq(folio_repo_init(empty), 0);
	cr_assert_eq(folio_repo_open(&repo, empty), 0);
	cr_assert_eq(fsck(&r, &f), 0, "%s", folio_error_last());
	cr_expect_eq(r.problems + r.commits + r.objects, 0);
}

Test(fsck, a_corrupted_object_is_named_with_every_file_using_it)
{
	folio_fsck_report r;
	found f;
	folio_oid a = stage_file("a.jpg", "image a", FOLIO_ENTRY_LFS);

	stage_file("copy.jpg", "image a", FOLIO_ENTRY_LFS);
	stage_file("b.jpg", "image b", FOLIO_ENTRY_LFS);
	commit("one");
	const char *file = object_file(&a);
	cr_assert_eq(chmod(file, 0644), 0);
	FILE *fp = fopen(file, "r+b");
	cr_assert_not_null(fp);
	fputc('X', fp);
	fclose(fp);

	cr_assert_eq(fsck(&r, &f), 0, "%s", folio_error_last());
	cr_expect_eq(f.n[FOLIO_FSCK_BAD_OBJECT], 1, "%s", f.text);
	/* the walk visits one file per content (copy.jpg is a.jpg's blob);
	 * the stage names each file */
	cr_expect_eq(f.n[FOLIO_FSCK_CORRUPT], 3, "%s", f.text);
	cr_expect(strstr(f.text, "a.jpg in commit ") != NULL, "%s", f.text);
	cr_expect(strstr(f.text, "staged a.jpg: object ") != NULL, "%s", f.text);
	cr_expect(strstr(f.text, "is corrupt") != NULL, "%s", f.text);
	cr_expect(strstr(f.text, "b.jpg") == NULL, "the sound file is not named: %s", f.text);
	cr_expect(strstr(f.text, "staged copy.jpg: object ") != NULL, "%s", f.text);
	cr_expect_eq(r.problems, 4);
}

Test(fsck, a_missing_object_and_a_staged_file_whose_object_is_gone)
{
	folio_fsck_report r;
	found f;
	folio_oid a = stage_file("a.jpg", "image a", FOLIO_ENTRY_LFS);

	commit("one");
	folio_oid s = stage_file("new.jpg", "staged only", FOLIO_ENTRY_LFS);
	cr_assert_eq(folio_store_remove(repo->store, &a), 0);
	cr_assert_eq(folio_store_remove(repo->store, &s), 0);

	cr_assert_eq(fsck(&r, &f), 0, "%s", folio_error_last());
	cr_expect_eq(f.n[FOLIO_FSCK_MISSING], 3, "%s", f.text);
	cr_expect(strstr(f.text, "a.jpg in commit ") != NULL, "%s", f.text);
	cr_expect(strstr(f.text, "staged new.jpg: object ") != NULL, "%s", f.text);
	cr_expect(strstr(f.text, "missing from the store|new.jpg|-") != NULL, "%s", f.text);
	cr_expect_eq(r.problems, 3);
	cr_expect_eq(r.objects, 0);
}

Test(fsck, an_unreadable_stage)
{
	folio_fsck_report r;
	found f;
	char path[512];

	stage_file("a.jpg", "image a", FOLIO_ENTRY_LFS);
	snprintf(path, sizeof path, "%s/stage/index", repo_path);
	FILE *fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs("this is not a stage\n", fp);
	fclose(fp);
	cr_assert_eq(fsck(&r, &f), 0, "%s", folio_error_last());
	cr_expect_eq(f.n[FOLIO_FSCK_BAD_STAGE], 1, "%s", f.text);
	cr_expect_eq(r.problems, 1);
}

Test(gc, keeps_reachable_and_staged_objects)
{
	folio_gc_report r;
	folio_gc_opts o = { 0 };
	folio_oid kept = stage_file("a.jpg", "in a commit", FOLIO_ENTRY_LFS);

	commit("one");
	unstage("a.jpg");
	folio_oid staged = stage_file("s.jpg", "staged only", FOLIO_ENTRY_LFS);
	folio_oid old = stage_file("t.jpg", "staged, then dropped", FOLIO_ENTRY_LFS);
	unstage("t.jpg");
	folio_oid loose;
	cr_assert_eq(folio_store_put_buf(&loose, repo->store, "never staged", 12), 0);

	o.dry_run = 1;
	cr_assert_eq(folio_repo_gc(&r, repo, &o), 0, "%s", folio_error_last());
	cr_expect_eq(r.removed, 2);
	cr_expect_eq(r.freed, strlen("staged, then dropped") + 12);
	cr_expect_eq(r.commits, 1);
	cr_expect(folio_store_exists(repo->store, &old), "a dry run removes nothing");

	o.dry_run = 0;
	cr_assert_eq(folio_repo_gc(&r, repo, &o), 0, "%s", folio_error_last());
	cr_expect_eq(r.removed, 2);
	cr_expect(folio_store_exists(repo->store, &kept), "reachable from main");
	cr_expect(folio_store_exists(repo->store, &staged), "staged");
	cr_expect_not(folio_store_exists(repo->store, &old));
	cr_expect_not(folio_store_exists(repo->store, &loose));
	cr_expect_eq(repo->lock_fd, -1, "locks are released");
	cr_expect_eq(repo->objects_lock_fd, -1);

	cr_assert_eq(folio_repo_gc(&r, repo, &o), 0);
	cr_expect_eq(r.removed, 0);
}

Test(gc, waits_for_a_writer_and_refuses_on_unreadable_git_objects)
{
	folio_gc_report r;
	folio_repo *other = NULL;

	stage_file("a.jpg", "image a", FOLIO_ENTRY_LFS);
	commit("one");
	/* a writer holds the objects lock shared: gc times out */
	cr_assert_eq(folio_repo_open(&other, repo_path), 0);
	cr_assert_eq(folio_repo_lock_objects(other, 0, "a writer"), 0);
	setenv("FOLIO_LOCK_TIMEOUT", "0", 1);
	cr_expect_eq(folio_repo_gc(&r, repo, NULL), FOLIO_ELOCKED);
	cr_expect(strstr(folio_error_last(), "objects.lock") != NULL, "%s", folio_error_last());
	unsetenv("FOLIO_LOCK_TIMEOUT");
	folio_repo_free(other);

	/* a damaged git object: gc cannot know what it keeps alive */
	char cmd[1024];
	snprintf(cmd, sizeof cmd,
		 "find '%s/git/objects' -type f -name '*.pack' -exec sh -c 'chmod u+w \"$1\" && "
		 "dd if=/dev/zero of=\"$1\" bs=1 seek=20 count=200 conv=notrunc 2>/dev/null' _ {} \\;",
		 repo_path);
	cr_assert_eq(system(cmd), 0);
	folio_repo_free(repo);
	cr_assert_eq(folio_repo_open(&repo, repo_path), 0, "%s", folio_error_last());
	int rc = folio_repo_gc(&r, repo, NULL);
	cr_expect_eq(rc, FOLIO_ECORRUPT, "rc %d: %s", rc, folio_error_last());
	cr_expect(strstr(folio_error_last(), "gc refuses") != NULL, "%s", folio_error_last());
}
