/*
 * imagefolder.c — ImageFolder datasets: the class of an image is the name
 * of its folder, torchvision style (ROOT/<class>/.../img.png).
 *
 * Declared, a source's path is ROOT and the class is the first folder
 * below it. Auto-detected (only when no other source gave ground truth),
 * ROOT is any folder with at least two subfolders that directly hold
 * images, and the class is the image's own folder; folders named like a
 * split (train, val, test, ...) are never classes, so train/cat/1.png and
 * test/cat/2.png give the class cat in two splits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folio/error.h"
#include "labels_int.h"

/* Pushes an annotation for image with one image-level object of class
 * cls (cls_len bytes); split from the folders in path[0..split_len). */
static int push_one(labels_builder *b, const labels_source *src, const char *path, const char *cls,
		    size_t cls_len, size_t split_len)
{
	folio_annotation a;
	folio_object o;
	int rc;

	memset(&a, 0, sizeof a);
	memset(&o, 0, sizeof o);
	const char *split = src && src->split ? src->split : labels_split_from_path(path,
										    split_len);
	/* the "label file" of an ImageFolder image is its folder */
	if (!(a.image = strdup(path)) || !(a.source = labels_dirname(path)) ||
	    (split && !(a.split = strdup(split))) || !(o.cls = strndup(cls, cls_len)) ||
	    (src && src->labeler && !(o.labeler = strdup(src->labeler)))) {
		labels_object_clear(&o);
		labels_annotation_clear(&a);
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	}
	a.format = FOLIO_LABELS_IMAGEFOLDER;
	a.prediction = src ? src->prediction : 0;
	if ((rc = labels_add_object(&a, &o)) < 0) {
		labels_annotation_clear(&a);
		return rc;
	}
	return labels_push(b, &a);
}

int labels_imagefolder(labels_builder *b, const labels_source *src)
{
	size_t pl = strlen(src->path);
	int rc = 0;

	for (size_t i = 0; i < b->tree->n && rc == 0; i++) {
		const char *p = b->tree->v[i].path;
		if (!labels_is_image(p) || strncmp(p, ".folio/", 7) == 0)
			continue;
		if (pl && (strncmp(p, src->path, pl) != 0 || p[pl] != '/'))
			continue;
		const char *rel = pl ? p + pl + 1 : p;
		const char *slash = strchr(rel, '/');
		if (!slash)
			continue; /* directly in ROOT: no class */
		rc = push_one(b, src, p, rel, (size_t)(slash - rel), (size_t)(rel - p));
	}
	return rc;
}

static int is_split_name(const char *name, size_t len)
{
	char buf[64];

	if (len + 3 > sizeof buf)
		return 0;
	memcpy(buf, name, len);
	memcpy(buf + len, "/x", 3);
	return labels_split_from_path(buf, len + 2) != NULL;
}

typedef struct folder {
	const char *path;  /* points into the tree: an image's path */
	size_t len;        /* length of the folder part */
	char *key;         /* the parent folder, a split-named one as "*" */
	const char *name;  /* the folder's own name (the class) ... */
	size_t name_len;   /* ... and its length */
} folder;

static int cmp_key_name(const void *pa, const void *pb)
{
	const folder *a = pa, *b = pb;
	int c = strcmp(a->key, b->key);

	if (c)
		return c;
	size_t l = a->name_len < b->name_len ? a->name_len : b->name_len;
	if ((c = memcmp(a->name, b->name, l)))
		return c;
	return a->name_len < b->name_len ? -1 : a->name_len > b->name_len;
}

static int cmp_path(const void *pa, const void *pb)
{
	const folder *a = pa, *b = pb;
	size_t l = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->path, b->path, l);

	if (c)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

/* The grouping key of a folder's parent: train/ and test/ are the same
 * group, so train/cat and test/dog are sibling classes. */
static char *parent_key(const char *path, size_t parent_len)
{
	const char *ps = parent_len ? memrchr(path, '/', parent_len) : NULL;
	const char *pname = ps ? ps + 1 : path;
	size_t pnl = parent_len - (size_t)(pname - path);
	char *k;

	if (parent_len == 0 || !is_split_name(pname, pnl))
		return strndup(path, parent_len);
	if (asprintf(&k, "%.*s*", (int)(pname - path), path) < 0)
		return NULL;
	return k;
}

int labels_imagefolder_detect(labels_builder *b)
{
	folder *v = NULL;
	size_t n = 0, cap = 0, nq = 0;
	int rc = 0;

	/* Folders that directly hold images (one record per folder run). */
	for (size_t i = 0; i < b->tree->n && rc == 0; i++) {
		const char *p = b->tree->v[i].path;
		const char *slash = strrchr(p, '/');
		if (!slash || !labels_is_image(p) || strncmp(p, ".folio/", 7) == 0)
			continue;
		size_t len = (size_t)(slash - p);
		if (n && v[n - 1].len == len && memcmp(v[n - 1].path, p, len) == 0)
			continue;
		const char *ps = memrchr(p, '/', len);
		const char *name = ps ? ps + 1 : p;
		size_t name_len = len - (size_t)(name - p);
		if (is_split_name(name, name_len))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			folder *nv = realloc(v, cap * sizeof *nv);
			if (!nv) {
				rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
				break;
			}
			v = nv;
		}
		v[n] = (folder){ p, len, parent_key(p, ps ? (size_t)(ps - p) : 0), name, name_len };
		if (!v[n++].key)
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
	}
	if (rc < 0)
		goto cleanup;
	/* Groups with at least two class names qualify; their folders move
	 * to the front. */
	if (n)
		qsort(v, n, sizeof *v, cmp_key_name);
	for (size_t s = 0; s < n;) {
		size_t e = s + 1, distinct = 1;
		for (; e < n && strcmp(v[s].key, v[e].key) == 0; e++)
			distinct += cmp_key_name(&v[e - 1], &v[e]) != 0;
		for (size_t k = s; k < e && distinct >= 2; k++) {
			folder t = v[nq];
			v[nq++] = v[k];
			v[k] = t;
		}
		s = e;
	}
	if (nq == 0)
		goto cleanup;
	qsort(v, nq, sizeof *v, cmp_path);
	for (size_t i = 0; i < b->tree->n && rc == 0; i++) {
		const char *p = b->tree->v[i].path;
		const char *slash = strrchr(p, '/');
		if (!slash || !labels_is_image(p))
			continue;
		folder key = { p, (size_t)(slash - p), NULL, NULL, 0 };
		const folder *f = bsearch(&key, v, nq, sizeof *v, cmp_path);
		if (!f)
			continue;
		size_t cls_off = (size_t)(f->name - f->path);
		rc = push_one(b, NULL, p, p + cls_off, f->name_len, cls_off);
	}
cleanup:
	for (size_t i = 0; i < n; i++)
		free(v[i].key);
	free(v);
	return rc;
}
