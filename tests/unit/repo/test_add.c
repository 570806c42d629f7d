/* Unit tests for core/repo/add.c: collecting files and folders into jobs,
 * storing them with the pool, the stat cache, keep-going, generated
 * content, the merge into the stage (replace, edit, conflicts) and that
 * nothing is staged when something fails. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "fixture.h"

TestSuite(add, .init = fixture_setup, .fini = fixture_teardown);

static const char *at(const char *rel)
{
	static char path[4][1024];
	static int k;
	k = (k + 1) % 4;
	snprintf(path[k], sizeof path[k], "%s/src%s%s", dir, *rel ? "/" : "", rel);
	return path[k];
}

/* dir/src/<rel> with text, folders made. */
static void put(const char *rel, const char *text)
{
	char path[1024];
	snprintf(path, sizeof path, "%s", at(rel));
	for (char *s = strchr(path + strlen(dir) + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(path, 0755);
		*s = '/';
	}
	FILE *f = fopen(path, "wb");
	cr_assert_not_null(f, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

typedef struct seen {
	char warn[4096];
	int nwarn, nprogress;
	size_t last_done, total;
} seen;

static void on_warn(const char *message, void *payload)
{
	seen *s = payload;
	size_t l = strlen(s->warn);
	snprintf(s->warn + l, sizeof s->warn - l, "%s\n", message);
	s->nwarn++;
}

static void on_progress(size_t done, size_t total, uint64_t bytes, void *payload)
{
	seen *s = payload;
	(void)bytes;
	cr_expect_leq(done, total);
	s->last_done = done;
	s->total = total;
	s->nprogress++;
}

static seen got;

static folio_add_opts opts(void)
{
	folio_add_opts o = { .what = "test", .warn = on_warn, .progress = on_progress,
			     .payload = &got };
	memset(&got, 0, sizeof got);
	return o;
}

static void stage(folio_tree *t)
{
	char base[FOLIO_COMMIT_HEXSZ + 1];
	folio_tree_init(t);
	cr_assert_eq(folio_stage_load(t, base, repo), 0, "%s", folio_error_last());
}

/* Adds src as dest with o; the stats. */
static int add(folio_add_stats *st, const char *src, const char *dest, folio_add_opts *o)
{
	folio_add_jobs jobs = { 0 };
	int rc = folio_add_collect(&jobs, src, dest, o);
	if (rc == 0)
		rc = folio_repo_add(st, repo, &jobs, o);
	folio_add_jobs_clear(&jobs);
	return rc;
}

Test(add, a_folder_with_files_links_and_git_metadata)
{
	folio_add_opts o = opts();
	folio_add_stats st;
	folio_tree t;

	put("a.jpg", "\xff\xd8\xff not really a jpeg");
	put("notes.txt", "hello\n");
	put("sub/b.txt", "b\n");
	put(".git/HEAD", "ref: refs/heads/main\n");
	cr_assert_eq(symlink("notes.txt", at("link")), 0);
	cr_assert_eq(chmod(at("sub/b.txt"), 0755), 0);

	cr_assert_eq(add(&st, at(""), "ds", &o), 0, "%s", folio_error_last());
	cr_expect_eq(st.staged, 4);
	cr_expect_eq(st.cached, 0);
	cr_expect_eq(st.new_objects, 3, "the link's target is stored as a buffer");
	cr_expect(strstr(got.warn, "skipping git metadata") != NULL, "%s", got.warn);
	cr_expect_eq(got.last_done, 4);
	cr_expect_eq(got.total, 4);
	cr_expect_eq(repo->objects_lock_fd, -1, "locks are released");
	cr_expect_eq(repo->lock_fd, -1);

	stage(&t);
	cr_assert_eq(t.n, 4);
	const folio_entry *e = folio_tree_find(&t, "ds/a.jpg");
	cr_assert_not_null(e);
	cr_expect_eq(e->kind, FOLIO_ENTRY_LFS, "images are lfs by extension");
	cr_expect_neq(e->mtime_ns, 0);
	cr_expect_eq(folio_tree_find(&t, "ds/notes.txt")->kind, FOLIO_ENTRY_BLOB);
	cr_expect_eq(folio_tree_find(&t, "ds/sub/b.txt")->mode, FOLIO_MODE_EXEC);
	e = folio_tree_find(&t, "ds/link");
	cr_assert_not_null(e);
	cr_expect_eq(e->kind, FOLIO_ENTRY_LINK);
	cr_expect_eq(e->size, strlen("notes.txt"));
	cr_expect_null(folio_tree_find(&t, "ds/.git/HEAD"));
	folio_tree_clear(&t);
}

Test(add, the_stat_cache_skips_unchanged_files)
{
	folio_add_opts o = opts();
	folio_add_stats st;
	folio_tree t;

	put("a.txt", "one\n");
	put("b.txt", "two\n");
	cr_assert_eq(add(&st, at(""), "", &o), 0, "%s", folio_error_last());
	cr_expect_eq(st.cached, 0);
	cr_assert_eq(add(&st, at(""), "", &o), 0, "%s", folio_error_last());
	cr_expect_eq(st.cached, 2);
	cr_expect_eq(st.staged, 2);
	cr_expect_eq(st.bytes, 0, "nothing read");

	/* a changed file (other size and mtime) is read again */
	put("b.txt", "two, longer\n");
	struct timeval tv[2] = { { 1000, 0 }, { 1000, 0 } };
	cr_assert_eq(utimes(at("b.txt"), tv), 0);
	cr_assert_eq(add(&st, at(""), "", &o), 0, "%s", folio_error_last());
	cr_expect_eq(st.cached, 1);
	stage(&t);
	cr_expect_eq(folio_tree_find(&t, "b.txt")->size, strlen("two, longer\n"));
	cr_expect_eq(folio_tree_find(&t, "b.txt")->mtime_ns, 1000LL * 1000000000);
	folio_tree_clear(&t);
}

Test(add, nothing_is_staged_when_a_file_cannot_be_read)
{
	folio_add_opts o = opts();
	folio_add_jobs jobs = { 0 };
	folio_add_stats st;
	folio_tree t;

	put("a.txt", "a\n");
	put("b.txt", "b\n");
	cr_assert_eq(folio_add_collect(&jobs, at(""), "", &o), 0);
	cr_assert_eq(jobs.n, 2);
	unlink(at("b.txt")); /* gone between the listing and the pool */
	cr_expect_eq(folio_repo_add(&st, repo, &jobs, &o), FOLIO_ENOTFOUND);
	cr_expect(strstr(folio_error_last(), "b.txt") != NULL, "%s", folio_error_last());
	cr_expect(strstr(folio_error_last(), "nothing was staged") != NULL, "%s", folio_error_last());
	cr_expect_eq(repo->objects_lock_fd, -1);
	stage(&t);
	cr_expect_eq(t.n, 0);
	folio_tree_clear(&t);

	/* with keep_going the rest lands, and the skipped file is named */
	o.keep_going = 1;
	cr_assert_eq(folio_repo_add(&st, repo, &jobs, &o), 0, "%s", folio_error_last());
	cr_expect_eq(st.skipped, 1);
	cr_expect_eq(st.staged, 1);
	cr_expect_eq(jobs.v[1].state, FOLIO_ADD_SKIPPED);
	cr_expect(strstr(got.warn, "skipped: ") != NULL && strstr(got.warn, "b.txt") != NULL, "%s",
		  got.warn);
	stage(&t);
	cr_expect_eq(t.n, 1);
	cr_expect_not_null(folio_tree_find(&t, "a.txt"));
	folio_tree_clear(&t);
	folio_add_jobs_clear(&jobs);
}

Test(add, bad_sources_and_paths)
{
	folio_add_opts o = opts();
	folio_add_jobs jobs = { 0 };

	cr_expect_eq(folio_add_collect(&jobs, at("nope"), "x", &o), FOLIO_ENOTFOUND);
	put("ok.txt", "x");
	cr_expect_eq(folio_add_collect(&jobs, at("ok.txt"), "../x", &o), FOLIO_EINVAL);
	cr_expect_eq(folio_add_collect(&jobs, at("ok.txt"), "/abs", &o), FOLIO_EINVAL);
	cr_expect_eq(folio_add_collect(&jobs, at("ok.txt"), "a/.git/x", &o), FOLIO_EINVAL);
	put("bad/a\x01name.txt", "x");
	cr_expect_eq(folio_add_collect(&jobs, at("bad"), "bad", &o), FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), "cannot add") != NULL, "%s", folio_error_last());

	/* a fifo: an error for add, skipped inside a folder for import */
	cr_assert_eq(mkfifo(at("fifo"), 0644), 0);
	cr_expect_eq(folio_add_collect(&jobs, at("fifo"), "f", &o), FOLIO_EINVAL);
	folio_add_jobs_clear(&jobs);
	unlink(at("bad/a\x01name.txt"));
	cr_assert_eq(rename(at("fifo"), at("bad/fifo")), 0);
	cr_expect_eq(folio_add_collect(&jobs, at("bad"), "bad", &o), FOLIO_EINVAL);
	folio_add_jobs_clear(&jobs);
	o.follow_links = 1;
	cr_assert_eq(folio_add_collect(&jobs, at("bad"), "bad", &o), 0, "%s", folio_error_last());
	cr_expect_eq(jobs.n, 0);
	cr_expect(strstr(got.warn, "not a file or folder") != NULL, "%s", got.warn);
	folio_add_jobs_clear(&jobs);
}

Test(add, following_links_reads_files_and_skips_folders)
{
	folio_add_opts o = opts();
	folio_add_stats st;
	folio_tree t;

	put("real/a.txt", "a\n");
	put("d/x.txt", "x\n");
	cr_assert_eq(symlink("../real/a.txt", at("d/to-file")), 0);
	cr_assert_eq(symlink("../real", at("d/to-folder")), 0);
	cr_assert_eq(symlink("nowhere", at("d/dangling")), 0);
	o.follow_links = 1;
	cr_assert_eq(add(&st, at("d"), "", &o), 0, "%s", folio_error_last());
	cr_expect_eq(st.staged, 2);
	cr_expect_eq(got.nwarn, 2, "%s", got.warn);
	stage(&t);
	const folio_entry *e = folio_tree_find(&t, "to-file");
	cr_assert_not_null(e);
	cr_expect_eq(e->kind, FOLIO_ENTRY_BLOB, "the file, not a link");
	cr_expect_eq(e->size, 2);
	folio_tree_clear(&t);

	/* a link to a folder given as the source itself is followed */
	cr_assert_eq(add(&st, at("d/to-folder"), "via-link", &o), 0, "%s", folio_error_last());
	cr_expect_eq(st.staged, 1);
	stage(&t);
	cr_expect_not_null(folio_tree_find(&t, "via-link/a.txt"));
	folio_tree_clear(&t);
}

static int gen_count;

static int generate(void **out, size_t *len, const folio_add_job *job, void *payload)
{
	(void)payload;
	if (strcmp(job->gen, "fail") == 0)
		return folio_error_set(FOLIO_EINVAL, "cannot make %s", job->e.path);
	__atomic_fetch_add(&gen_count, 1, __ATOMIC_RELAXED);
	*out = strdup(job->gen);
	*len = strlen(job->gen);
	return 0;
}

static int edit(folio_tree *t, folio_repo *r, void *payload)
{
	(void)payload;
	return folio_stage_put_buf(t, r, ".folio/made.json", "{}\n", 3);
}

Test(add, generated_content_and_an_edit_under_the_lock)
{
	folio_add_opts o = opts();
	folio_add_jobs jobs = { 0 };
	folio_add_stats st;
	folio_tree t, out;
	char name[32];

	folio_tree_init(&out);
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof name, "gen/%02d.txt", i);
		cr_assert_eq(folio_add_jobs_push(&jobs, NULL, name, i % 2 ? "odd\n" : "even\n"), 0);
	}
	o.generate = generate;
	o.edit = edit;
	o.threads = 3;
	o.stage_out = &out;
	cr_assert_eq(folio_repo_add(&st, repo, &jobs, &o), 0, "%s", folio_error_last());
	cr_expect_eq(gen_count, 50);
	cr_expect_eq(st.staged, 50);
	cr_expect_eq(out.n, 51);
	stage(&t);
	cr_expect_eq(t.n, 51);
	const folio_entry *e = folio_tree_find(&t, "gen/07.txt");
	cr_assert_not_null(e);
	cr_expect_eq(e->size, 4);
	cr_expect_eq(e->kind, FOLIO_ENTRY_BLOB);
	cr_expect(folio_store_exists(repo->store, &e->oid));
	cr_expect_not_null(folio_tree_find(&t, ".folio/made.json"));
	folio_tree_clear(&t);
	folio_tree_clear(&out);

	/* a generator that fails: nothing is staged */
	jobs.v[20].gen = "fail";
	cr_expect_eq(folio_repo_add(&st, repo, &jobs, &o), FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), "cannot make gen/20.txt; nothing was staged") != NULL,
		  "%s", folio_error_last());
	/* without a generator a job without a source is an error */
	o.generate = NULL;
	jobs.v[20].gen = "x";
	cr_expect_eq(folio_repo_add(&st, repo, &jobs, &o), FOLIO_EINVAL);
	folio_add_jobs_clear(&jobs);
}

Test(add, replace_mirrors_a_folder_and_conflicts_are_refused)
{
	folio_add_opts o = opts();
	folio_add_stats st;
	folio_tree t;
	const char *const dests[] = { "ds" };

	put("a.txt", "a\n");
	put("b.txt", "b\n");
	cr_assert_eq(add(&st, at(""), "ds", &o), 0, "%s", folio_error_last());
	unlink(at("b.txt"));
	cr_assert_eq(add(&st, at(""), "ds", &o), 0, "%s", folio_error_last());
	stage(&t);
	cr_expect_eq(t.n, 2, "without replace, b.txt stays staged");
	folio_tree_clear(&t);
	o.replace = dests;
	o.nreplace = 1;
	cr_assert_eq(add(&st, at(""), "ds", &o), 0, "%s", folio_error_last());
	stage(&t);
	cr_expect_eq(t.n, 1);
	cr_expect_null(folio_tree_find(&t, "ds/b.txt"));
	folio_tree_clear(&t);

	/* ds/a.txt is a file: ds/a.txt/x cannot be added */
	o.replace = NULL;
	o.nreplace = 0;
	cr_expect_eq(add(&st, at(""), "ds/a.txt", &o), FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), "nothing was staged") != NULL, "%s", folio_error_last());
	stage(&t);
	cr_expect_eq(t.n, 1);
	folio_tree_clear(&t);
}

Test(add, stage_put_buf_refuses_bad_paths)
{
	folio_tree t;

	folio_tree_init(&t);
	cr_expect_eq(folio_stage_put_buf(&t, repo, "../x", "x", 1), FOLIO_EINVAL);
	cr_expect_eq(folio_stage_put_buf(&t, repo, "", "x", 1), FOLIO_EINVAL);
	cr_assert_eq(folio_stage_put_buf(&t, repo, "a/x.txt", "x", 1), 0);
	cr_assert_eq(folio_stage_put_buf(&t, repo, "a/x.txt", "yy", 2), 0);
	cr_expect_eq(t.n, 1, "replaced, not added twice");
	cr_expect_eq(t.v[0].size, 2);
	folio_tree_clear(&t);
}

Test(add, default_threads)
{
	int n = folio_add_default_threads();
	cr_expect(n >= 2 && n <= 16, "%d", n);
}
