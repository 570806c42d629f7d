/*
 * native.c — folio's own per-image label files (docs/labels.md):
 *
 *   {"folio_labels": 1, "image": "cat_001.jpg", "width": 640, "height": 480,
 *    "split": "train", "tags": ["night"], "labeler": "ada",
 *    "prediction": false,
 *    "objects": [{"class": "cat", "box": [x, y, w, h], "score": 0.9,
 *                 "labeler": "ada", "attributes": {"occluded": true}}]}
 *
 * One file describes one image. "image" is relative to the label file's
 * folder (also tried: the images/ folder mirroring labels/, then any file
 * of the version ending in that path); without it the image is the one
 * with the label file's name minus ".json" (x.jpg.json) or with the same
 * stem (x.json beside x.jpg, or in the mirroring images/ folder).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "folio/error.h"
#include "labels_int.h"

#define SCHEMA 1

int labels_native_is(const cJSON *root)
{
	return cJSON_IsObject(root) &&
	       cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(root, "folio_labels"));
}

typedef struct ctx {
	labels_builder *b;
	const char *file, *text;
	size_t len;
} ctx;

/* Records an error at the value reached by path; returns 1 (skip) or a
 * fatal code. */
static int bad(ctx *c, const labels_jstep *path, size_t n, const char *what, const char *why)
{
	int ln = labels_json_line(c->text, c->len, path, n);

	return labels_error(c->b, c->file, ln, "%s: %s", what, why) < 0 ? FOLIO_ENOMEM : 1;
}

static int image_path(ctx *c, const cJSON *root, char **out)
{
	labels_builder *b = c->b;
	const cJSON *img = cJSON_GetObjectItemCaseSensitive(root, "image");
	char *dir = labels_dirname(c->file), *mirror = NULL, *rel = NULL;
	const char *why;
	labels_jstep at[1] = { { "image", 0 } };
	int rc = 0;

	*out = NULL;
	if (!dir)
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	mirror = labels_mirror(dir, "labels", "images");
	if (img) {
		const char *bases[2] = { dir, mirror };
		if (!cJSON_IsString(img)) {
			rc = bad(c, at, 1, "\"image\"", "must be a string");
		} else if (labels_clean_path(&rel, img->valuestring, &why) < 0) {
			rc = why ? bad(c, at, 1, "image path refused", why) : FOLIO_ENOMEM;
		} else {
			rc = labels_resolve_image(b, out, rel, bases, 2);
		}
		goto cleanup;
	}
	/* x.jpg.json describes x.jpg */
	size_t l = strlen(c->file);
	if (l > 5) {
		char *p = strndup(c->file, l - 5);
		if (!p) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto cleanup;
		}
		if (labels_is_image(p) && labels_find(b, p) >= 0) {
			*out = p;
			goto cleanup;
		}
		free(p);
	}
	const char *base = labels_basename(c->file);
	size_t bl = strlen(base) - 5;
	const char *dirs[2] = { dir, mirror };
	for (int i = 0; i < 2 && !*out; i++) {
		if (!dirs[i])
			continue;
		char *name = strndup(base, bl), *stem = name ? folio_path_join(dirs[i], name) : NULL;
		long k = stem ? labels_image_by_stem(b, stem) : -2;
		free(name);
		free(stem);
		if (k == -2) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto cleanup;
		}
		if (k >= 0 && !(*out = strdup(b->tree->v[k].path))) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto cleanup;
		}
	}
	if (!*out)
		rc = labels_error(b, c->file, 1, "no \"image\" and no image with the same name") < 0
			     ? FOLIO_ENOMEM : 1;
cleanup:
	free(rel);
	free(mirror);
	free(dir);
	return rc;
}

static int opt_string(ctx *c, const cJSON *o, const char *key, labels_jstep *path, size_t n,
		      char **out, const char *what)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	path[n].key = key;
	if (!cJSON_IsString(v) || !v->valuestring[0])
		return bad(c, path, n + 1, what, "must be a non-empty string");
	if (!folio_utf8_valid(v->valuestring, strlen(v->valuestring)))
		return bad(c, path, n + 1, what, "is not UTF-8");
	if (!(*out = strdup(v->valuestring)))
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	return 0;
}

static int one_object(ctx *c, const cJSON *o, size_t i, const char *dlabeler, folio_object *out)
{
	labels_jstep path[3] = { { "objects", 0 }, { NULL, i }, { NULL, 0 } };
	const cJSON *v;
	const char *why;
	int rc;

	memset(out, 0, sizeof *out);
	if (!cJSON_IsObject(o))
		return bad(c, path, 2, "objects[]", "an object must be a JSON object");
	if ((rc = opt_string(c, o, "class", path, 2, &out->cls, "\"class\"")) != 0)
		goto fail;
	if (!out->cls) {
		rc = bad(c, path, 2, "object", "\"class\" is missing");
		goto fail;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "box")) && !cJSON_IsNull(v)) {
		path[2].key = "box";
		if (labels_json_box(&out->box, v, &why) < 0) {
			rc = bad(c, path, 3, "\"box\"", why);
			goto fail;
		}
		out->has_box = 1;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "score")) && !cJSON_IsNull(v)) {
		path[2].key = "score";
		if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= 1)) {
			rc = bad(c, path, 3, "\"score\"", "must be a number from 0 to 1");
			goto fail;
		}
		out->score = v->valuedouble;
		out->has_score = 1;
	}
	if ((rc = opt_string(c, o, "labeler", path, 2, &out->labeler, "\"labeler\"")) != 0)
		goto fail;
	if (!out->labeler && dlabeler && !(out->labeler = strdup(dlabeler))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto fail;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "attributes")) && !cJSON_IsNull(v)) {
		path[2].key = "attributes";
		if (!cJSON_IsObject(v)) {
			rc = bad(c, path, 3, "\"attributes\"", "must be a JSON object");
			goto fail;
		}
		if (!(out->attributes = cJSON_PrintUnformatted(v))) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto fail;
		}
	}
	return 0;
fail:
	labels_object_clear(out);
	return rc;
}

int labels_native_file(labels_builder *b, const labels_source *src, size_t entry, const char *text,
		   size_t len, cJSON *root)
{
	ctx c = { b, b->tree->v[entry].path, text, len };
	folio_annotation a;
	char *labeler = NULL;
	labels_jstep path[2] = { { NULL, 0 }, { NULL, 0 } };
	const cJSON *v;
	int rc = 0;

	memset(&a, 0, sizeof a);
	if (!cJSON_IsObject(root))
		return bad(&c, path, 0, "native labels", "must be a JSON object") < 0 ? FOLIO_ENOMEM : 0;
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "folio_labels"))) {
		path[0].key = "folio_labels";
		if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > SCHEMA) {
			rc = bad(&c, path, 1, "\"folio_labels\"",
				 "unsupported schema version (this folio reads version 1)");
			return rc < 0 ? rc : 0;
		}
	}
	if ((rc = image_path(&c, root, &a.image)) != 0)
		goto cleanup;
	if (!(a.source = strdup(c.file))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	a.format = FOLIO_LABELS_NATIVE;
	a.prediction = src->prediction ||
		       cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "prediction"));
	static const char *const dims[2] = { "width", "height" };
	int *dimv[2] = { &a.width, &a.height };
	for (int k = 0; k < 2; k++) {
		if (!(v = cJSON_GetObjectItemCaseSensitive(root, dims[k])) || cJSON_IsNull(v))
			continue;
		path[0].key = dims[k];
		if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e9 ||
		    v->valuedouble != floor(v->valuedouble)) {
			if ((rc = bad(&c, path, 1, dims[k], "must be a whole number of pixels")) < 0)
				goto cleanup;
			continue;
		}
		*dimv[k] = (int)v->valuedouble;
	}
	if ((rc = opt_string(&c, root, "split", path, 0, &a.split, "\"split\"")) < 0 ||
	    (rc = opt_string(&c, root, "labeler", path, 0, &labeler, "\"labeler\"")) < 0)
		goto cleanup;
	if (!labeler && src->labeler && !(labeler = strdup(src->labeler))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	if (!a.split) {
		const char *s = src->split ? src->split : labels_split_from_path(a.image,
										 strlen(a.image));
		if (s && !(a.split = strdup(s))) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto cleanup;
		}
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "tags")) && !cJSON_IsNull(v)) {
		path[0].key = "tags";
		if (!cJSON_IsArray(v)) {
			if ((rc = bad(&c, path, 1, "\"tags\"", "must be an array of strings")) < 0)
				goto cleanup;
		} else {
			size_t i = 0;
			const cJSON *t;
			cJSON_ArrayForEach(t, v) {
				path[1].index = i++;
				if (!cJSON_IsString(t) || !t->valuestring[0] ||
				    !folio_utf8_valid(t->valuestring, strlen(t->valuestring))) {
					if ((rc = bad(&c, path, 2, "tags[]", "a tag must be a non-empty UTF-8 string")) < 0)
						goto cleanup;
					continue;
				}
				char *tag = strdup(t->valuestring);
				if (!tag) {
					rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
					goto cleanup;
				}
				if ((rc = labels_add_tag(&a, tag)) < 0)
					goto cleanup;
			}
		}
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "objects")) && !cJSON_IsNull(v)) {
		path[0].key = "objects";
		if (!cJSON_IsArray(v)) {
			if ((rc = bad(&c, path, 1, "\"objects\"", "must be an array")) < 0)
				goto cleanup;
		} else {
			size_t i = 0;
			const cJSON *o;
			cJSON_ArrayForEach(o, v) {
				folio_object obj;
				rc = one_object(&c, o, i++, labeler, &obj);
				if (rc < 0)
					goto cleanup;
				if (rc == 0 && (rc = labels_add_object(&a, &obj)) < 0)
					goto cleanup;
			}
		}
	}
	rc = labels_push(b, &a);
cleanup:
	labels_annotation_clear(&a);
	free(labeler);
	return rc < 0 ? rc : 0;
}
