/* Unit tests for core/repo: init/open/discover, locks, the stage file,
 * file/folder conflicts and tree diffs. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "folio/diff.h"
#include "folio/error.h"
#include "folio/repo.h"

#include "../testutil.h"

static char dir[TEST_DIR_MAX];
static char repo_path[300];

static void setup(void)
{
	test_mkdtemp(dir, "ut-repo");
	snprintf(repo_path, sizeof repo_path, "%s/r", dir);
	cr_assert_eq(folio_repo_init(repo_path), 0, "%s", folio_error_last());
}

static void teardown(void)
{
	test_rmtree(dir);
}

static folio_entry mk(const char *path, int n)
{
	folio_entry e = { 0 };
	e.path = (char *)path;
	e.kind = n % 2 ? FOLIO_ENTRY_LFS : FOLIO_ENTRY_BLOB;
	e.mode = FOLIO_MODE_FILE;
	e.size = (uint64_t)n * 10;
	e.oid.id[0] = (unsigned char)n;
	e.mtime_ns = 1234567890123456789LL;
	return e;
}

TestSuite(repo, .init = setup, .fini = teardown);

Test(repo, init_refuses_non_empty_and_open_checks_marker)
{
	cr_expect_eq(folio_repo_init(repo_path), FOLIO_EEXISTS);
	folio_repo *r = NULL;
	cr_assert_eq(folio_repo_open(&r, repo_path), 0, "%s", folio_error_last());
	cr_expect_not_null(r->store);
	folio_repo_free(r);
	cr_expect_eq(folio_repo_open(&r, dir), FOLIO_ENOTFOUND);
}

Test(repo, discover_from_a_subfolder_and_env)
{
	char sub[400], *found = NULL, old[4096];
	snprintf(sub, sizeof sub, "%s/objects", repo_path);
	cr_assert_not_null(getcwd(old, sizeof old));
	cr_assert_eq(chdir(sub), 0);
	unsetenv("FOLIO_REPO");
	cr_assert_eq(folio_repo_discover(&found, NULL), 0, "%s", folio_error_last());
	cr_expect_str_eq(found, repo_path);
	free(found);
	cr_assert_eq(chdir(dir), 0);
	cr_expect_eq(folio_repo_discover(&found, NULL), FOLIO_ENOTFOUND);
	setenv("FOLIO_REPO", repo_path, 1);
	cr_expect_eq(folio_repo_discover(&found, NULL), 0);
	free(found);
	unsetenv("FOLIO_REPO");
	cr_expect_eq(folio_repo_discover(&found, dir), FOLIO_ENOTFOUND);
	cr_assert_eq(chdir(old), 0);
}

Test(repo, lock_is_exclusive_and_names_the_holder)
{
	folio_repo *a = NULL, *b = NULL;
	cr_assert_eq(folio_repo_open(&a, repo_path), 0);
	cr_assert_eq(folio_repo_open(&b, repo_path), 0);
	setenv("FOLIO_LOCK_TIMEOUT", "0", 1);
	cr_assert_eq(folio_repo_lock(a, "unit test"), 0);
	cr_expect_eq(folio_repo_lock(b, "second"), FOLIO_ELOCKED);
	cr_expect(strstr(folio_error_last(), "unit test") != NULL, "%s", folio_error_last());
	folio_repo_unlock(a);
	cr_expect_eq(folio_repo_lock(b, "second"), 0);
	/* objects lock: shared with shared, not with exclusive */
	folio_repo_unlock(b);
	cr_expect_eq(folio_repo_lock_objects(a, 0, "add"), 0);
	cr_expect_eq(folio_repo_lock_objects(b, 0, "add"), 0);
	folio_repo_unlock_objects(b);
	cr_expect_eq(folio_repo_lock_objects(b, 1, "gc"), FOLIO_ELOCKED);
	folio_repo_unlock_objects(a);
	cr_expect_eq(folio_repo_lock_objects(b, 1, "gc"), 0);
	unsetenv("FOLIO_LOCK_TIMEOUT");
	folio_repo_free(a);
	folio_repo_free(b);
}

Test(repo, stage_round_trip)
{
	folio_repo *r = NULL;
	folio_tree t, back;
	char base[41];
	cr_assert_eq(folio_repo_open(&r, repo_path), 0);
	cr_assert_eq(folio_stage_load(&t, base, r), 0, "%s", folio_error_last());
	cr_expect_eq(t.n, 0);
	cr_expect_str_eq(base, "");
	folio_entry e1 = mk("images/a b.jpg", 1), e2 = mk("labels/é.json", 2);
	e2.blob[3] = 0xab;
	folio_tree_push(&t, &e1);
	folio_tree_push(&t, &e2);
	folio_tree_sort(&t);
	cr_assert_eq(folio_stage_save(r, &t, "0123456789012345678901234567890123456789"), 0);
	cr_assert_eq(folio_stage_load(&back, base, r), 0, "%s", folio_error_last());
	cr_expect_str_eq(base, "0123456789012345678901234567890123456789");
	cr_assert_eq(back.n, 2);
	for (size_t i = 0; i < 2; i++) {
		cr_expect_str_eq(back.v[i].path, t.v[i].path);
		cr_expect_eq(back.v[i].kind, t.v[i].kind);
		cr_expect_eq(back.v[i].size, t.v[i].size);
		cr_expect_eq(back.v[i].mtime_ns, t.v[i].mtime_ns);
		cr_expect_eq(memcmp(back.v[i].blob, t.v[i].blob, 20), 0);
		cr_expect_eq(folio_oid_cmp(&back.v[i].oid, &t.v[i].oid), 0);
	}
	folio_tree_clear(&t);
	folio_tree_clear(&back);
	cr_expect_eq(folio_stage_reset(r), 0);
	folio_repo_free(r);
}

static void write_stage(const char *text)
{
	char p[400];
	snprintf(p, sizeof p, "%s/stage/index", repo_path);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(repo, corrupt_stage_names_file_and_line)
{
	static const char *bad[] = {
		"not a stage\n",
		"folio-stage 1\n",
		"folio-stage 1\nbase -\nL 100644 zz 1 0 - a.jpg\n",
		"folio-stage 1\nbase -\nX 100644 " "0000000000000000000000000000000000000000000000000000000000000000 1 0 - a\n",
		"folio-stage 1\nbase -\nL 100644 " "0000000000000000000000000000000000000000000000000000000000000000 1 0 - ../a\n",
		"folio-stage 1\nbase -\nL 100644 " "0000000000000000000000000000000000000000000000000000000000000000 1 0 - a",
		"folio-stage 1\nbase short\n",
		NULL,
	};
	folio_repo *r = NULL;
	folio_tree t;
	char base[41];
	cr_assert_eq(folio_repo_open(&r, repo_path), 0);
	for (int i = 0; bad[i]; i++) {
		write_stage(bad[i]);
		cr_expect_eq(folio_stage_load(&t, base, r), FOLIO_ECORRUPT, "case %d", i);
		cr_expect(strstr(folio_error_last(), "stage/index") != NULL, "case %d: %s", i, folio_error_last());
	}
	folio_repo_free(r);
}

Test(repo, conflicts_between_files_and_folders)
{
	folio_tree t;
	folio_tree_init(&t);
	folio_entry a = mk("a", 1), b = mk("a-b", 2), c = mk("a.txt", 3), d = mk("a/c", 4);
	folio_tree_push(&t, &a);
	folio_tree_push(&t, &b);
	folio_tree_push(&t, &c);
	folio_tree_sort(&t);
	cr_expect_eq(folio_tree_check_conflicts(&t), 0);
	folio_tree_push(&t, &d);
	folio_tree_sort(&t);
	cr_expect_eq(folio_tree_check_conflicts(&t), FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), "'a'") != NULL, "%s", folio_error_last());
	folio_tree_clear(&t);
}

Test(diff, added_removed_modified_renamed)
{
	folio_tree a, b;
	folio_diff d;
	folio_tree_init(&a);
	folio_tree_init(&b);
	folio_entry keep = mk("keep", 1), gone = mk("gone", 2), mod1 = mk("mod", 3),
		    mod2 = mk("mod", 5), old = mk("old/name", 7), new = mk("new/name", 7),
		    add = mk("added", 9);
	folio_tree_push(&a, &keep); folio_tree_push(&a, &gone);
	folio_tree_push(&a, &mod1); folio_tree_push(&a, &old);
	folio_tree_push(&b, &keep); folio_tree_push(&b, &mod2);
	folio_tree_push(&b, &new); folio_tree_push(&b, &add);
	folio_tree_sort(&a);
	folio_tree_sort(&b);
	cr_assert_eq(folio_diff_trees(&d, &a, &b), 0);
	cr_expect_eq(d.added, 1);
	cr_expect_eq(d.removed, 1);
	cr_expect_eq(d.modified, 1);
	cr_expect_eq(d.renamed, 1);
	cr_assert_eq(d.n, 4);
	cr_expect_str_eq(d.v[0].b->path, "added");
	cr_expect_eq(d.v[1].status, FOLIO_DIFF_REMOVED);
	cr_expect_eq(d.v[2].status, FOLIO_DIFF_MODIFIED);
	cr_expect_eq(d.v[3].status, FOLIO_DIFF_RENAMED);
	cr_expect_str_eq(d.v[3].a->path, "old/name");
	folio_diff_clear(&d);
	/* identical trees: empty diff */
	cr_assert_eq(folio_diff_trees(&d, &a, &a), 0);
	cr_expect_eq(d.n, 0);
	folio_diff_clear(&d);
	folio_tree_clear(&a);
	folio_tree_clear(&b);
}

Test(diff, mode_change_is_a_modification)
{
	folio_tree a, b;
	folio_diff d;
	folio_tree_init(&a);
	folio_tree_init(&b);
	folio_entry x = mk("run.sh", 2), y = mk("run.sh", 2);
	y.mode = FOLIO_MODE_EXEC;
	folio_tree_push(&a, &x);
	folio_tree_push(&b, &y);
	cr_assert_eq(folio_diff_trees(&d, &a, &b), 0);
	cr_expect_eq(d.modified, 1);
	folio_diff_clear(&d);
	folio_tree_clear(&a);
	folio_tree_clear(&b);
}

/* Lines as the kernel writes them in /proc/self/mountinfo. */
Test(mounts, finds_a_folio_mount_and_its_repository)
{
	char repo[64];
	const char *l = "41 29 0:52 / /mnt/data rw,nosuid,nodev shared:7 - fuse.foliofs "
	                "folio:/srv/repo rw,user_id=0,group_id=0,default_permissions\n";
	cr_expect_eq(folio_mountinfo_match(repo, sizeof repo, l, "/mnt/data"), 1);
	cr_expect_str_eq(repo, "/srv/repo");
	cr_expect_eq(folio_mountinfo_match(NULL, 0, l, "/mnt/data"), 1);
	/* no optional fields at all */
	cr_expect_eq(folio_mountinfo_match(repo, sizeof repo, "1 2 0:5 / /m rw - fuse.foliofs folio:/r rw", "/m"),
		     1);
	cr_expect_str_eq(repo, "/r");
}

Test(mounts, undoes_the_kernels_escapes)
{
	char repo[64];
	const char *l = "41 29 0:52 / /mnt/my\\040data rw - fuse.foliofs "
	                "folio:/srv/a\\040b\\134c,d rw\n";
	cr_expect_eq(folio_mountinfo_match(repo, sizeof repo, l, "/mnt/my data"), 1);
	cr_expect_str_eq(repo, "/srv/a b\\c,d");
	cr_expect_eq(folio_mountinfo_match(repo, sizeof repo, l, "/mnt/my\\040data"), 0);
}

Test(mounts, other_mounts_and_bad_lines_do_not_match)
{
	char repo[8];
	const char *ok = "41 29 0:52 / /mnt/d rw - fuse.foliofs folio:/srv/r rw\n";
	const char *bad[] = {
		"",
		"\n",
		"41 29 0:52 / /mnt/d rw - ext4 /dev/sda1 rw\n",         /* not folio */
		"41 29 0:52 / /mnt/d rw - fuse.sshfs folio:/srv/r rw\n", /* not foliofs */
		"41 29 0:52 / /mnt/d rw - fuse.foliofs other:/srv/r rw\n",
		"41 29 0:52 / /mnt/d rw fuse.foliofs folio:/srv/r rw\n", /* no " - " */
		"41 29 0:52 / /mnt/d rw - fuse.foliofs\n",               /* no source */
		"41 29 0:52 /\n",                                          /* cut short */
		"41 29 0:52 / /mnt/d\\0",                                  /* bad escape, short */
		"41 29 0:52 / /mnt/dd rw - fuse.foliofs folio:/srv/r rw\n",
		"41 29 0:52 / /mnt rw - fuse.foliofs folio:/srv/r rw\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		cr_expect_eq(folio_mountinfo_match(repo, sizeof repo, bad[i], "/mnt/d"), 0,
		             "line %zu matched", i);
	/* a repository path too long for the caller's buffer is not a match */
	cr_expect_eq(folio_mountinfo_match(repo, 4, ok, "/mnt/d"), 0);
	cr_expect_eq(folio_mountinfo_match(repo, sizeof repo, ok, "/mnt/d"), 1);
	cr_expect_str_eq(repo, "/srv/r");
}

Test(mounts, a_path_never_mounted_is_not_found)
{
	cr_expect_eq(folio_mount_find(NULL, 0, "/no/such/folio/mount"), 0);
}

/* ---- the stage's journal ---- */

static folio_stage_op op_set(const char *path, int n)
{
	folio_stage_op o = { .type = FOLIO_STAGE_SET, .path = (char *)path };
	o.e = mk(path, n);
	return o;
}

static folio_stage_op op_del(const char *path)
{
	return (folio_stage_op){ .type = FOLIO_STAGE_DEL, .path = (char *)path };
}

static folio_stage_op op_ren(const char *from, const char *to)
{
	return (folio_stage_op){ .type = FOLIO_STAGE_REN, .path = (char *)from, .to = (char *)to };
}

/* The stage's paths, joined by spaces. */
static void paths_of(folio_repo *r, char *out, size_t len)
{
	folio_tree t;
	char base[41];
	size_t used = 0;
	cr_assert_eq(folio_stage_load(&t, base, r), 0, "%s", folio_error_last());
	out[0] = '\0';
	for (size_t i = 0; i < t.n; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s", i ? " " : "", t.v[i].path);
	folio_tree_clear(&t);
}

static folio_repo *staged(const char *const *paths, size_t n)
{
	folio_repo *r = NULL;
	folio_tree t;
	cr_assert_eq(folio_repo_open(&r, repo_path), 0);
	folio_tree_init(&t);
	for (size_t i = 0; i < n; i++) {
		folio_entry e = mk(paths[i], (int)i);
		folio_tree_push(&t, &e);
	}
	folio_tree_sort(&t);
	cr_assert_eq(folio_stage_save(r, &t, ""), 0, "%s", folio_error_last());
	folio_tree_clear(&t);
	return r;
}

static void append_text(const char *text)
{
	char p[400];
	snprintf(p, sizeof p, "%s/stage/journal", repo_path);
	FILE *f = fopen(p, "a");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(repo, journal_replays_sets_removals_and_moves_in_order)
{
	static const char *const base[] = { "a/1.jpg", "a/2.jpg", "b/x.txt" };
	folio_repo *r = staged(base, 3);
	char got[512];
	struct stat st;
	char jp[400];

	folio_stage_op ops1[] = { op_set("c/new.jpg", 7), op_del("a/1.jpg"), op_set("a/1.jpg", 9) };
	cr_assert_eq(folio_stage_append(r, ops1, 3), 0, "%s", folio_error_last());
	snprintf(jp, sizeof jp, "%s/stage/journal", repo_path);
	cr_assert_eq(stat(jp, &st), 0);
	cr_expect_gt(st.st_size, 0);
	folio_stage_op ops2[] = { op_ren("a", "z/a"), op_del("b/x.txt"), op_set("b/x.txt", 3),
	                          op_del("b/x.txt"), op_set("c/new.jpg", 8) };
	cr_assert_eq(folio_stage_append(r, ops2, 5), 0, "%s", folio_error_last());
	paths_of(r, got, sizeof got);
	cr_expect_str_eq(got, "c/new.jpg z/a/1.jpg z/a/2.jpg");

	/* the same result as applying the changes to the tree in memory */
	folio_tree t;
	char b[41];
	folio_stage_reset(r);
	folio_repo_free(r);
	r = staged(base, 3);
	cr_assert_eq(folio_stage_load(&t, b, r), 0);
	cr_assert_eq(folio_stage_apply(&t, ops1, 3), 0);
	cr_assert_eq(folio_stage_apply(&t, ops2, 5), 0);
	cr_assert_eq(t.n, 3);
	cr_expect_str_eq(t.v[0].path, "c/new.jpg");
	cr_expect_eq(t.v[0].size, 80);   /* the last set wins */
	cr_expect_str_eq(t.v[1].path, "z/a/1.jpg");
	cr_expect_eq(t.v[1].size, 90);
	folio_tree_clear(&t);
	folio_repo_free(r);
}

Test(repo, a_rewrite_of_the_stage_makes_the_journal_stale)
{
	static const char *const base[] = { "a.txt" };
	folio_repo *r = staged(base, 1);
	char got[256], p[400];
	folio_stage_op ops[] = { op_set("b.txt", 2) };

	cr_assert_eq(folio_stage_append(r, ops, 1), 0);
	paths_of(r, got, sizeof got);
	cr_expect_str_eq(got, "a.txt b.txt");
	/* a journal left beside a newer index (a crash between the two) is
	 * not replayed: its header names the old index */
	snprintf(p, sizeof p, "%s/stage/journal", repo_path);
	char keep[400];
	snprintf(keep, sizeof keep, "%s/stage/journal.keep", repo_path);
	cr_assert_eq(link(p, keep), 0);
	folio_tree t;
	folio_tree_init(&t);
	folio_entry e = mk("c.txt", 3);
	folio_tree_push(&t, &e);
	cr_assert_eq(folio_stage_save(r, &t, ""), 0);
	folio_tree_clear(&t);
	cr_expect_eq(access(p, F_OK), -1, "the save removes the journal");
	cr_assert_eq(rename(keep, p), 0);
	paths_of(r, got, sizeof got);
	cr_expect_str_eq(got, "c.txt");
	/* and the next append starts it again */
	cr_assert_eq(folio_stage_append(r, ops, 1), 0);
	paths_of(r, got, sizeof got);
	cr_expect_str_eq(got, "b.txt c.txt");
	cr_expect_eq(folio_stage_reset(r), 0);
	cr_expect_eq(access(p, F_OK), -1, "reset removes the journal");
	folio_repo_free(r);
}

Test(repo, a_cut_last_line_is_ignored_and_cut_off_by_the_next_append)
{
	static const char *const base[] = { "a.txt" };
	folio_repo *r = staged(base, 1);
	char got[256];
	folio_stage_op ops[] = { op_set("b.txt", 2) }, more[] = { op_set("c.txt", 3) };

	cr_assert_eq(folio_stage_append(r, ops, 1), 0);
	append_text("0badc0de + L 100644 00");   /* a crash mid-append */
	paths_of(r, got, sizeof got);
	cr_expect_str_eq(got, "a.txt b.txt");
	append_text("\n");                        /* whole, but a wrong check */
	paths_of(r, got, sizeof got);
	cr_expect_str_eq(got, "a.txt b.txt");
	/* the next append cuts it off rather than leave it in the middle */
	cr_assert_eq(folio_stage_append(r, more, 1), 0);
	paths_of(r, got, sizeof got);
	cr_expect_str_eq(got, "a.txt b.txt c.txt");
	/* a bad line in the middle is damage: an error naming it */
	append_text("0badc0de - a.txt\n");
	cr_assert_eq(folio_stage_append(r, more, 1), 0);
	append_text("0badc0de - a.txt\n00000000 - b.txt\n");
	folio_tree t;
	char b[41];
	cr_expect_eq(folio_stage_load(&t, b, r), FOLIO_ECORRUPT);
	cr_expect(strstr(folio_error_last(), "journal:5"), "%s", folio_error_last());
	folio_repo_free(r);
}

Test(repo, a_torn_append_is_trimmed_before_the_next)
{
	static const char *const base[] = { "a.txt" };
	folio_repo *r = staged(base, 1);
	char got[256];
	folio_stage_op ops[] = { op_set("b.txt", 2) }, more[] = { op_set("c.txt", 3) };

	cr_assert_eq(folio_stage_append(r, ops, 1), 0);
	append_text("5de89cf4 + L 1006");         /* no newline: cut by a crash */
	cr_assert_eq(folio_stage_append(r, more, 1), 0, "%s", folio_error_last());
	paths_of(r, got, sizeof got);
	cr_expect_str_eq(got, "a.txt b.txt c.txt");
	folio_repo_free(r);
}

Test(repo, damaged_journal_records_name_file_and_line)
{
	static const char *const base[] = { "a.txt" };
	static const char *bad[] = {
		"? x\n",                        /* unknown record */
		"+ L 100644 zz 1 0 - b\n",     /* bad object id */
		"- /abs\n",                     /* bad path */
		"> a.txt\n",                    /* move without its target */
		"> a.txt\t../x\n",              /* bad target */
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		folio_repo *r = staged(base, 1);
		folio_stage_op ops[] = { op_set("b.txt", 2) };
		cr_assert_eq(folio_stage_append(r, ops, 1), 0);
		/* a record whose check matches but whose content is bad */
		uint32_t h = 2166136261u;
		for (const char *c = bad[i]; *c && *c != '\n'; c++)
			h = (h ^ (unsigned char)*c) * 16777619u;
		char line[200];
		snprintf(line, sizeof line, "%08x %s", h, bad[i]);
		append_text(line);
		append_text("00000000 - a.txt\n");
		folio_tree t;
		char b[41];
		cr_expect_eq(folio_stage_load(&t, b, r), FOLIO_ECORRUPT, "record %zu", i);
		cr_expect(strstr(folio_error_last(), "journal:3"), "record %zu: %s", i, folio_error_last());
		folio_stage_reset(r);
		folio_repo_free(r);
	}
}

Test(repo, append_needs_a_stage_file_with_an_id)
{
	folio_repo *r = NULL;
	folio_stage_op ops[] = { op_set("b.txt", 2) };
	cr_assert_eq(folio_repo_open(&r, repo_path), 0);
	cr_expect_eq(folio_stage_append(r, ops, 1), FOLIO_ENOTFOUND);
	/* an index from before ids: its journal could not be told apart */
	write_stage("folio-stage 1\nbase -\n");
	cr_expect_eq(folio_stage_append(r, ops, 1), FOLIO_ENOTFOUND);
	folio_repo_free(r);
}

Test(tree, set_keeps_a_sorted_tree_sorted)
{
	folio_tree t;
	folio_tree_init(&t);
	const char *names[] = { "m", "c", "x", "a", "c", "n/o", "b" };
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		folio_entry e = mk(names[i], (int)i);
		cr_assert_eq(folio_tree_set(&t, &e), 0);
	}
	cr_assert_eq(t.n, 6);
	for (size_t i = 1; i < t.n; i++)
		cr_expect_lt(strcmp(t.v[i - 1].path, t.v[i].path), 0);
	cr_expect_eq(folio_tree_find(&t, "c")->size, 40);   /* replaced */
	folio_tree_clear(&t);
}

Test(tree, path_under_is_strictly_below_a_folder)
{
	cr_expect(folio_path_under("a/b", "a"));
	cr_expect(folio_path_under("a/b/c", "a/b"));
	cr_expect(folio_path_under("a", ""));
	cr_expect_not(folio_path_under("a", "a"));
	cr_expect_not(folio_path_under("ab/c", "a"));
	cr_expect_not(folio_path_under("a", "a/b"));
}
