/* Unit tests for core/labels' helpers: cleaning paths found in label
 * files (and refusing hostile ones), folder mirroring, splits from
 * folder names, and finding the line of a JSON value. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "folio/error.h"
#include "labels/labels_int.h"

static void clean_ok(const char *raw, const char *want)
{
	char *out = NULL;
	const char *why = NULL;
	cr_assert_eq(labels_clean_path(&out, raw, &why), 0, "%s refused: %s", raw, why ? why : "?");
	cr_expect_str_eq(out, want);
	free(out);
}

static void clean_refused(const char *raw, const char *reason)
{
	char *out = NULL;
	const char *why = NULL;
	cr_expect_eq(labels_clean_path(&out, raw, &why), FOLIO_EINVAL, "%s accepted", raw);
	cr_expect_null(out);
	cr_assert_not_null(why);
	cr_expect(strstr(why, reason) != NULL, "%s: %s", raw, why);
}

Test(paths, clean_and_hostile)
{
	clean_ok("a.jpg", "a.jpg");
	clean_ok("./images//a.jpg", "images/a.jpg");
	clean_ok("images\\train\\a.jpg", "images/train/a.jpg");
	clean_ok("a b/c.jpg", "a b/c.jpg");
	clean_refused("", "empty");
	clean_refused("./", "empty");
	clean_refused("/etc/passwd", "absolute");
	clean_refused("\\\\server\\share\\x.jpg", "absolute");
	clean_refused("C:\\data\\x.jpg", "absolute");
	clean_refused("../x.jpg", "..");
	clean_refused("a/../../x.jpg", "..");
	clean_refused("a/..", "..");
	clean_refused("..\\..\\x.jpg", "..");
	clean_refused("a/.git/config", "valid");
	clean_refused("a\nb.jpg", "valid");
	clean_refused("\xff\xfe.jpg", "UTF-8");
}

Test(paths, mirror_split_and_names)
{
	char *m = labels_mirror("ds/labels/train", "labels", "images");
	cr_expect_str_eq(m, "ds/images/train");
	free(m);
	m = labels_mirror("labels/x/labels", "labels", "images");
	cr_expect_str_eq(m, "labels/x/images"); /* the last one, like ultralytics */
	free(m);
	cr_expect_null(labels_mirror("mylabels/x", "labels", "images"));

	cr_expect_str_eq(labels_split_from_path("train/cat/1.png", 15), "train");
	cr_expect_str_eq(labels_split_from_path("coco/val2017/1.jpg", 18), "val");
	cr_expect_str_eq(labels_split_from_path("Valid/images/1.jpg", 18), "val");
	cr_expect_str_eq(labels_split_from_path("a/testing/b/1.jpg", 17), "test");
	cr_expect_null(labels_split_from_path("trains/1.jpg", 12));
	cr_expect_null(labels_split_from_path("train.jpg", 9)); /* a file name is not a folder */
	cr_expect_null(labels_split_from_path("train/cat/1.png", 0));

	cr_expect(labels_is_image("a/b.JPG"));
	cr_expect(labels_is_image("x.webp"));
	cr_expect_not(labels_is_image("a.jpg/b"));
	cr_expect_not(labels_is_image(".png"));
	cr_expect_not(labels_is_image("labels.txt"));
}

Test(json, line_of_a_value)
{
	const char *t =
		"{\n"
		"  \"a\\\"b\": [1, \"x]\", {\"k\": 2}],\n"
		"  \"images\": [\n"
		"    {\"id\": 1},\n"
		"    {\"id\": 2,\n"
		"     \"file_name\": \"q\"}\n"
		"  ]\n"
		"}\n";
	size_t len = strlen(t);
	labels_jstep p1[] = { { "images", 0 }, { NULL, 1 }, { "file_name", 0 } };
	cr_expect_eq(labels_json_line(t, len, p1, 3), 6);
	labels_jstep p2[] = { { "images", 0 }, { NULL, 0 } };
	cr_expect_eq(labels_json_line(t, len, p2, 2), 4);
	labels_jstep p3[] = { { "images", 0 }, { NULL, 5 } };
	cr_expect_eq(labels_json_line(t, len, p3, 2), 0);
	labels_jstep p4[] = { { "nope", 0 } };
	cr_expect_eq(labels_json_line(t, len, p4, 1), 0);
	labels_jstep p5[] = { { "images", 0 }, { "id", 0 } }; /* wrong shape */
	cr_expect_eq(labels_json_line(t, len, p5, 2), 0);
	cr_expect_eq(labels_json_line(t, len, NULL, 0), 1);
	/* truncated text never reads past its end */
	for (size_t n = 0; n < len; n++)
		(void)labels_json_line(t, n, p1, 3);
}
