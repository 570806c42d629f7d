/*
 * test_lfs.c — the git-lfs pointer format: exact bytes, strict parsing,
 * and acceptance by stock git-lfs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "folio/error.h"
#include "folio/oid.h"
#include "folio/version.h"

#include "fixture.h"

#define HEX "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393"
#define V1 "version https://git-lfs.github.com/spec/v1\n"

static folio_oid test_oid(void)
{
	folio_oid o;

	cr_assert_eq(folio_oid_fromhex(&o, HEX), 0);
	return o;
}

Test(lfs, pointer_exact_bytes)
{
	char buf[200];
	folio_oid o = test_oid();
	const char *want = V1 "oid sha256:" HEX "\nsize 12345\n";
	size_t n = folio_lfs_pointer(buf, &o, 12345);

	cr_assert_eq(n, strlen(want));
	cr_assert_eq(memcmp(buf, want, n), 0, "got %.*s", (int)n, buf);
	cr_assert_eq(buf[n], '\0');
}

Test(lfs, pointer_largest_fits_200)
{
	char buf[200];
	folio_oid o = test_oid();
	size_t n = folio_lfs_pointer(buf, &o, UINT64_MAX);

	cr_assert_lt(n, 200);
	cr_assert_eq(buf[n - 1], '\n');
}

Test(lfs, parse_roundtrip)
{
	char buf[200];
	folio_oid o = test_oid(), got;
	uint64_t sizes[] = {0, 1, 9, 10, 1234567890123ULL, (uint64_t)INT64_MAX};

	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		uint64_t size = 99;
		size_t n = folio_lfs_pointer(buf, &o, sizes[i]);
		cr_assert_eq(folio_lfs_parse(&got, &size, buf, n), 0, "%s", folio_error_last());
		cr_assert_eq(folio_oid_cmp(&got, &o), 0);
		cr_assert_eq(size, sizes[i]);
	}
}

Test(lfs, parse_rejects_bad_pointers)
{
	static const char *bad[] = {
		"",
		"version https://git-lfs.github.com/spec/v1\n",
		"version https://git-lfs.github.com/spec/v2\noid sha256:" HEX "\nsize 1\n",
		"version https://hawser.github.com/spec/v1\noid sha256:" HEX "\nsize 1\n",
		"Version https://git-lfs.github.com/spec/v1\noid sha256:" HEX "\nsize 1\n",
		V1 "oid sha256:4D7A214614AB2935C943F9E0FF69D22EADBB8F32B1258DAAA5E2CA24D17E2393\nsize 1\n",
		V1 "oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e239\nsize 1\n",
		V1 "oid sha256:" HEX "3\nsize 1\n",
		V1 "oid sha256:" HEX "\n",
		V1 "oid sha256:" HEX "\nsize -1\n",
		V1 "oid sha256:" HEX "\nsize +1\n",
		V1 "oid sha256:" HEX "\nsize 12a\n",
		V1 "oid sha256:" HEX "\nsize abc\n",
		V1 "oid sha256:" HEX "\nsize \n",
		V1 "oid sha256:" HEX "\nsize 012\n",
		V1 "oid sha256:" HEX "\nsize  12\n",
		V1 "oid sha256:" HEX "\nsize 12 \n",
		V1 "oid  sha256:" HEX "\nsize 12\n",
		V1 "oid sha512:" HEX "\nsize 12\n",
		V1 "oid sha256:" HEX " \nsize 12\n",
		V1 "oid sha256:" HEX "\nsize 12",
		V1 "oid sha256:" HEX "\nsize 12\nfoo",
		V1 "oid sha256:" HEX "\nsize 12\n\n",
		V1 "oid sha256:" HEX "\nsize 12\next-0-foo sha256:" HEX "\n",
		V1 "ext-0-foo sha256:" HEX "\noid sha256:" HEX "\nsize 12\n",
		V1 "size 12\noid sha256:" HEX "\n",
		"version https://git-lfs.github.com/spec/v1\r\noid sha256:" HEX "\r\nsize 12\r\n",
		V1 "oid sha256:" HEX "\nsize 9223372036854775808\n",
		V1 "oid sha256:" HEX "\nsize 99999999999999999999999\n",
		" " V1 "oid sha256:" HEX "\nsize 12\n",
	};
	folio_oid o;
	uint64_t size;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		cr_assert_eq(folio_lfs_parse(&o, &size, bad[i], strlen(bad[i])), FOLIO_EINVAL,
			     "accepted bad pointer #%zu: %s", i, bad[i]);
		cr_assert_not_null(strstr(folio_error_last(), "not a git-lfs pointer"));
	}
}

Test(lfs, parse_rejects_embedded_nul_and_long)
{
	char buf[2048];
	folio_oid o = test_oid(), got;
	uint64_t size;
	size_t n = folio_lfs_pointer(buf, &o, 5);

	/* NUL in place of the final newline */
	buf[n - 1] = '\0';
	cr_assert_eq(folio_lfs_parse(&got, &size, buf, n), FOLIO_EINVAL);
	/* a valid pointer followed by padding up to 1024+ bytes */
	n = folio_lfs_pointer(buf, &o, 5);
	memset(buf + n, ' ', sizeof buf - n);
	cr_assert_eq(folio_lfs_parse(&got, &size, buf, 1100), FOLIO_EINVAL);
	cr_assert_not_null(strstr(folio_error_last(), "1024"));
	/* the length is honoured: a prefix of a pointer is not one */
	n = folio_lfs_pointer(buf, &o, 5);
	cr_assert_eq(folio_lfs_parse(&got, &size, buf, n - 1), FOLIO_EINVAL);
}

Test(lfs, git_lfs_accepts_our_pointer)
{
	char dir[TEST_DIR_MAX], path[TEST_DIR_MAX + 8], buf[200];
	folio_oid o = test_oid();
	FILE *fp;

	if (run("git lfs version >/dev/null 2>&1") != 0)
		cr_skip_test("git-lfs is not installed");
	test_mkdtemp(dir, "lfs");
	snprintf(path, sizeof path, "%s/ptr", dir);
	size_t n = folio_lfs_pointer(buf, &o, 123456);
	cr_assert_not_null(fp = fopen(path, "wb"));
	cr_assert_eq(fwrite(buf, 1, n, fp), n);
	fclose(fp);
	int ok = run("cd %s && git lfs pointer --check --file ptr >/dev/null 2>&1", dir);
	/* And the check does reject non-pointers. */
	cr_assert_not_null(fp = fopen(path, "wb"));
	fputs("hello\n", fp);
	fclose(fp);
	int notok = run("cd %s && git lfs pointer --check --file ptr >/dev/null 2>&1", dir);
	test_rmtree(dir);
	cr_assert_eq(ok, 0, "git lfs pointer --check refused our pointer");
	cr_assert_neq(notok, 0);
}
