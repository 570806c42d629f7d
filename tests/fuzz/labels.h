/*
 * labels.h — the harness the label fuzz targets share (tests/fuzz/labels_*.c).
 *
 * A target describes a small dataset: fixed files (images are empty, label
 * files hold real-looking text) and the one path whose content is the fuzz
 * input. fuzz_labels builds the folio_tree of that dataset, loads it with
 * folio_labels_load through a read callback that hands out the bytes,
 * and checks what labels.h promises of the result: annotations sorted by
 * (image, prediction) without repeats, image paths that are safe dataset
 * paths, class names and error messages present. Each annotation is then
 * given an image size, as the index does, to run the scaling of relative
 * (YOLO) boxes.
 */
#ifndef FOLIO_FUZZ_LABELS_H
#define FOLIO_FUZZ_LABELS_H

#include <string.h>

#include "folio/error.h"
#include "folio/labels.h"
#include "fuzz.h"

typedef struct fuzz_file {
	const char *path;
	const char *text;   /* NULL: the fuzz input */
} fuzz_file;

typedef struct fuzz_input {
	const fuzz_file *files;
	const uint8_t *data;
	size_t size;
} fuzz_input;

static inline int fuzz_read(void **out, size_t *len, const folio_entry *e, void *payload)
{
	const fuzz_input *in = payload;

	if (!in->files) {
		/* every file of the tree is empty */
		*len = 0;
		return (*out = malloc(1)) ? 0 : folio_error_set(FOLIO_ENOMEM, "out of memory");
	}
	for (const fuzz_file *f = in->files; f->path; f++) {
		if (strcmp(f->path, e->path) != 0)
			continue;
		const void *src = f->text ? (const void *)f->text : (const void *)in->data;
		size_t n = f->text ? strlen(f->text) : in->size;
		/* exactly n bytes, so that ASan sees a read past the end */
		if (!(*out = malloc(n ? n : 1)))
			return folio_error_set(FOLIO_ENOMEM, "out of memory");
		memcpy(*out, src, n);
		*len = n;
		return 0;
	}
	return folio_error_set(FOLIO_ENOTFOUND, "no %s", e->path);
}

static inline void fuzz_check_set(const folio_labelset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		const folio_annotation *a = &s->v[i];
		if (!a->image || folio_path_validate(a->image) < 0)
			fuzz_fail("unsafe image path '%s'", a->image ? a->image : "(null)");
		if (i > 0) {
			int c = strcmp(s->v[i - 1].image, a->image);
			if (c > 0 || (c == 0 && s->v[i - 1].prediction >= a->prediction))
				fuzz_fail("annotations not sorted at %zu (%s)", i, a->image);
		}
		for (size_t k = 0; k < a->nobjects; k++)
			if (!a->objects[k].cls)
				fuzz_fail("object %zu of %s has no class", k, a->image);
	}
	for (size_t i = 0; i < s->nclasses; i++)
		if (!s->classes[i])
			fuzz_fail("class %zu is NULL", i);
	for (size_t i = 0; i < s->nerrors; i++)
		if (!s->errors[i].file || !s->errors[i].message || s->errors[i].line < 0)
			fuzz_fail("error %zu is incomplete", i);
}

/* Loads the labels of the sorted tree t, whose files are read through in
 * (every file empty when in->files is NULL), and checks the result. */
static inline void fuzz_labels_tree(const folio_tree *t, fuzz_input *in)
{
	folio_labelset set;

	if (folio_labels_load(&set, t, fuzz_read, in) < 0)
		return; /* out of memory only: the read callback never fails otherwise */
	fuzz_check_set(&set);
	fuzz_note("%zu annotations, %zu classes, %zu errors", set.n, set.nclasses, set.nerrors);
	for (size_t i = 0; i < set.nerrors; i++)
		fuzz_note("%s:%d: %s", set.errors[i].file, set.errors[i].line, set.errors[i].message);
	for (size_t i = 0; i < set.n; i++)
		folio_annotation_set_size(&set.v[i], 640, 480);
	folio_labelset_clear(&set);
}

/* Loads the dataset of files (NULL-path terminated; the entry whose text
 * is NULL gets data) and checks the result. */
static inline void fuzz_labels(const fuzz_file *files, const uint8_t *data, size_t size)
{
	fuzz_input in = { files, data, size };
	folio_tree t;

	folio_tree_init(&t);
	for (const fuzz_file *f = files; f->path; f++) {
		folio_entry e = { 0 };
		e.path = (char *)f->path;
		e.kind = FOLIO_ENTRY_BLOB;
		e.mode = FOLIO_MODE_FILE;
		e.size = f->text ? strlen(f->text) : size;
		if (folio_tree_push(&t, &e) < 0)
			goto done;
	}
	folio_tree_sort(&t);
	fuzz_labels_tree(&t, &in);
done:
	folio_tree_clear(&t);
}

/* Defines the fuzz target of a dataset of files (see fuzz_labels). */
#define FUZZ_LABELS_TARGET(files)                                          \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)       \
	{                                                                  \
		fuzz_labels(files, data, size);                            \
		return 0;                                                  \
	}

#endif
