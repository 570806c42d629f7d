/* Unit tests for core/util: paths, UTF-8, trees, object ids, errors. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "folio/error.h"
#include "folio/oid.h"
#include "folio/tree.h"
#include "folio/util.h"

#include "../testutil.h"

Test(path, accepts_ordinary_paths)
{
	const char *good[] = { "a.jpg", "images/cat/001.jpg", "données/été.png",
			       "a b/c d.txt", ".folio/dataset.json", "x..y/z", "@2x.png", NULL };
	for (int i = 0; good[i]; i++)
		cr_expect_eq(folio_path_validate(good[i]), 0, "%s: %s", good[i], folio_error_last());
}

Test(path, refuses_hostile_paths)
{
	const char *bad[] = { "", "/etc/passwd", "../x", "a/../b", "a/./b", "a//b", "a/",
			      ".", "..", "a/.git/config", ".git", "x/.GIT/y", "tab\there", "nl\nhere",
			      "\x7f", "caf\xe9.jpg", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
			      "\xe2\x82", NULL };
	for (int i = 0; bad[i]; i++) {
		cr_expect_eq(folio_path_validate(bad[i]), FOLIO_EINVAL, "accepted bad path #%d", i);
		cr_expect(strlen(folio_error_last()) > 0);
	}
	char longname[300];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	cr_expect_eq(folio_path_validate(longname), FOLIO_EINVAL);
}

Test(path, error_names_the_path)
{
	cr_assert_eq(folio_path_validate("../secret"), FOLIO_EINVAL);
	cr_expect(strstr(folio_error_last(), "../secret") != NULL);
}

Test(utf8, validates)
{
	cr_expect(folio_utf8_valid("plain", 5));
	cr_expect(folio_utf8_valid("\xc3\xa9", 2));
	cr_expect(folio_utf8_valid("\xf0\x9f\x98\x80", 4));
	cr_expect(!folio_utf8_valid("\xc3", 1));
	cr_expect(!folio_utf8_valid("\xe0\x80\x80", 3)); /* overlong */
	cr_expect(!folio_utf8_valid("\xff", 1));
}

static folio_entry mk(const char *path, int n)
{
	folio_entry e = { 0 };
	e.path = (char *)path;
	e.kind = FOLIO_ENTRY_LFS;
	e.mode = FOLIO_MODE_FILE;
	e.size = (uint64_t)n;
	e.oid.id[0] = (unsigned char)n;
	return e;
}

Test(tree, sort_find_dedupe_last_wins)
{
	folio_tree t;
	folio_tree_init(&t);
	folio_entry a = mk("b/x", 1), b = mk("a", 2), c = mk("b/x", 3), d = mk("a-b", 4);
	cr_assert_eq(folio_tree_push(&t, &a), 0);
	cr_assert_eq(folio_tree_push(&t, &b), 0);
	cr_assert_eq(folio_tree_push(&t, &c), 0);
	cr_assert_eq(folio_tree_push(&t, &d), 0);
	folio_tree_sort(&t);
	cr_assert_eq(t.n, 3);
	cr_expect_str_eq(t.v[0].path, "a");
	cr_expect_str_eq(t.v[1].path, "a-b");
	cr_expect_str_eq(t.v[2].path, "b/x");
	cr_expect_eq(folio_tree_find(&t, "b/x")->size, 3, "the last pushed duplicate wins");
	cr_expect_null(folio_tree_find(&t, "b"));
	folio_tree copy;
	cr_assert_eq(folio_tree_copy(&copy, &t), 0);
	folio_tree_remove_at(&t, 0);
	cr_expect_eq(t.n, 2);
	cr_expect_str_eq(copy.v[0].path, "a");
	folio_tree_clear(&t);
	folio_tree_clear(&copy);
}

Test(oid, hex_round_trip_and_bad_hex)
{
	folio_oid o, p;
	char hex[65];
	cr_assert_eq(folio_hash_buf(&o, "abc", 3), 0);
	folio_oid_tohex(hex, &o);
	cr_expect_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	cr_assert_eq(folio_oid_fromhex(&p, hex), 0);
	cr_expect_eq(folio_oid_cmp(&o, &p), 0);
	cr_expect_eq(folio_oid_fromhex(&p, "xyz"), FOLIO_EINVAL);
	char longer[70];
	snprintf(longer, sizeof longer, "%s00", hex);
	cr_expect_eq(folio_oid_fromhex(&p, longer), FOLIO_EINVAL);
	folio_oid z = { 0 };
	cr_expect(folio_oid_is_zero(&z));
	cr_expect(!folio_oid_is_zero(&o));
}

Test(oid, incremental_equals_one_shot)
{
	folio_hash *h;
	folio_oid a, b;
	cr_assert_eq(folio_hash_new(&h), 0);
	folio_hash_update(h, "hello ", 6);
	folio_hash_update(h, "world", 5);
	folio_hash_final(&a, h);
	folio_hash_buf(&b, "hello world", 11);
	cr_expect_eq(folio_oid_cmp(&a, &b), 0);
	folio_hash_update(h, "hello world", 11); /* final resets */
	folio_hash_final(&a, h);
	cr_expect_eq(folio_oid_cmp(&a, &b), 0);
	folio_hash_free(h);
}

Test(error, errno_mapping_and_wrap)
{
	cr_expect_eq(folio_error_errno(ENOSPC, "writing %s", "x.jpg"), FOLIO_ENOSPC);
	cr_expect(strstr(folio_error_last(), "x.jpg") != NULL);
	cr_expect(strstr(folio_error_last(), "No space") != NULL);
	cr_expect_eq(folio_error_errno(ENOENT, "a"), FOLIO_ENOTFOUND);
	cr_expect_eq(folio_error_errno(EACCES, "a"), FOLIO_EACCES);
	cr_expect_eq(folio_error_errno(EWOULDBLOCK, "a"), FOLIO_ELOCKED);
	folio_error_set(FOLIO_EINVAL, "inner");
	cr_expect_eq(folio_error_wrap(FOLIO_EINVAL, "outer %d", 1), FOLIO_EINVAL);
	cr_expect_str_eq(folio_error_last(), "outer 1: inner");
	folio_error_clear();
	cr_expect_str_eq(folio_error_last(), "unknown error");
	cr_expect_str_eq(folio_error_name(FOLIO_ECORRUPT), "corrupt");
}

Test(path, mkdirs_makes_missing_parents)
{
	char dir[TEST_DIR_MAX], p[TEST_DIR_MAX + 64];
	struct stat st;

	test_mkdtemp(dir, "mkdirs");
	snprintf(p, sizeof p, "%s/a/b/c", dir);
	cr_assert_eq(folio_path_mkdirs(p), 0, "%s", folio_error_last());
	cr_assert(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
	/* again: it exists, fine; a trailing '/' too */
	cr_expect_eq(folio_path_mkdirs(p), 0);
	snprintf(p, sizeof p, "%s/a/b/c/", dir);
	cr_expect_eq(folio_path_mkdirs(p), 0);
	/* a relative path */
	char cwd[4096];
	cr_assert_not_null(getcwd(cwd, sizeof cwd));
	cr_assert_eq(chdir(dir), 0);
	cr_expect_eq(folio_path_mkdirs("rel/x"), 0, "%s", folio_error_last());
	cr_expect_eq(stat("rel/x", &st), 0);
	cr_assert_eq(chdir(cwd), 0);
	/* a file in the way, as the folder or as a parent: named */
	snprintf(p, sizeof p, "%s/file", dir);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f);
	fclose(f);
	cr_expect_eq(folio_path_mkdirs(p), FOLIO_EEXISTS);
	cr_expect_not_null(strstr(folio_error_last(), p), "%s", folio_error_last());
	snprintf(p, sizeof p, "%s/file/sub", dir);
	cr_expect_lt(folio_path_mkdirs(p), 0);
	cr_expect_not_null(strstr(folio_error_last(), "file"), "%s", folio_error_last());
	/* nothing to make */
	cr_expect_lt(folio_path_mkdirs(""), 0);
	test_rmtree(dir);
}

/* The reference test vectors of FNV-1a 64 (the published FNV test suite):
 * a wrong offset basis or prime changes every one of them. */
Test(util, fnv1a_matches_the_reference)
{
	cr_expect_eq(folio_fnv1a("", 0, 0), 0xcbf29ce484222325ULL);
	cr_expect_eq(folio_fnv1a("a", 1, 0), 0xaf63dc4c8601ec8cULL);
	cr_expect_eq(folio_fnv1a_str("foobar"), 0x85944171f73967e8ULL);
	cr_expect_eq(folio_fnv1a("foobar", 6, 0), folio_fnv1a_str("foobar"));
	cr_expect_neq(folio_fnv1a("a", 1, 1), folio_fnv1a("a", 1, 0), "the seed changes the hash");
}

/* The text buffer: a cap that holds, an error that sticks, escaping. */
Test(util, buf_caps_sticks_and_escapes)
{
	folio_buf b;
	char *out = NULL;
	size_t len = 0;

	folio_buf_init(&b, "a test text");
	folio_buf_puts(&b, "a,");
	folio_buf_csv(&b, "say \"hi\", ok");
	folio_buf_putc(&b, ' ');
	folio_buf_html(&b, "<b>&\"");
	folio_buf_printf(&b, " %d", 42);
	cr_assert_eq(folio_buf_finish(&out, &len, &b), 0);
	cr_expect_str_eq(out, "a,\"say \"\"hi\"\", ok\" &lt;b&gt;&amp;&quot; 42");
	cr_expect_eq(len, strlen(out));
	free(out);

	folio_buf_init(&b, "a capped text");
	b.max = 8;
	folio_buf_puts(&b, "12345");
	folio_buf_puts(&b, "6789");          /* over the cap: refused, and it sticks */
	folio_buf_puts(&b, "x");
	cr_expect_eq(b.rc, FOLIO_EINVAL);
	cr_expect_eq(folio_buf_finish(&out, &len, &b), FOLIO_EINVAL);
	cr_expect_null(out);
	cr_expect(strstr(folio_error_last(), "a capped text") != NULL, "%s", folio_error_last());

	/* nothing written: an empty text, not NULL */
	folio_buf_init(&b, "an empty text");
	cr_assert_eq(folio_buf_finish(&out, &len, &b), 0);
	cr_expect_str_eq(out, "");
	free(out);

	char small[8];
	cr_expect_eq(folio_path_format(small, sizeof small, "%s/%s", "abc", "defgh"), FOLIO_EINVAL);
	cr_expect_str_eq(small, "", "a path that does not fit is not left truncated");
	cr_expect_eq(folio_path_format(small, sizeof small, "%s/%s", "ab", "cd"), 0);
	cr_expect_str_eq(small, "ab/cd");
}
