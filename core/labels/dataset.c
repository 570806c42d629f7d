/*
 * dataset.c — writing .folio/dataset.json: merging declared label sources
 * and classes into the file a version already has.
 *
 * Reading the file is labels.c's job (run_dataset_json); this side only
 * edits it, keeping every member it does not know, so that what a user
 * wrote by hand (expectations, "auto", comments in other members) survives
 * an import. The result is pretty-printed so that it diffs well in git.
 */
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "folio/error.h"
#include "labels_int.h"

/* Same source: same format and path. */
static int same_source(const cJSON *a, const cJSON *b)
{
	const cJSON *fa = cJSON_GetObjectItemCaseSensitive(a, "format");
	const cJSON *fb = cJSON_GetObjectItemCaseSensitive(b, "format");
	const cJSON *pa = cJSON_GetObjectItemCaseSensitive(a, "path");
	const cJSON *pb = cJSON_GetObjectItemCaseSensitive(b, "path");

	return cJSON_IsString(fa) && cJSON_IsString(fb) && cJSON_IsString(pa) && cJSON_IsString(pb) &&
	       strcmp(fa->valuestring, fb->valuestring) == 0 &&
	       strcmp(pa->valuestring, pb->valuestring) == 0;
}

/* A source as an object, members in a fixed order. NULL when out of memory. */
static cJSON *source_json(const folio_label_source *s)
{
	cJSON *o = cJSON_CreateObject();
	int ok = o != NULL;

	ok = ok && cJSON_AddStringToObject(o, "format", folio_label_format_name(s->format));
	ok = ok && cJSON_AddStringToObject(o, "path", s->path ? s->path : "");
	ok = ok && (!s->images || cJSON_AddStringToObject(o, "images", s->images));
	ok = ok && (!s->split || cJSON_AddStringToObject(o, "split", s->split));
	ok = ok && (!s->prediction || cJSON_AddTrueToObject(o, "prediction"));
	ok = ok && (!s->names || cJSON_AddStringToObject(o, "names", s->names));
	ok = ok && (!s->gt || cJSON_AddStringToObject(o, "gt", s->gt));
	ok = ok && (!s->labeler || cJSON_AddStringToObject(o, "labeler", s->labeler));
	if (!ok) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static int add_classes(cJSON *root, char *const *classes, size_t n)
{
	cJSON *cls = cJSON_GetObjectItemCaseSensitive(root, "classes");

	if (!cls && !(cls = cJSON_AddArrayToObject(root, "classes")))
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	/* a "classes" that is not an array is the reader's to report
	 * (folio labels names it with its line); it is left alone */
	if (!cJSON_IsArray(cls))
		return 0;
	for (size_t i = 0; i < n; i++) {
		int have = 0;
		const cJSON *e;
		cJSON_ArrayForEach(e, cls)
			have |= cJSON_IsString(e) && strcmp(e->valuestring, classes[i]) == 0;
		if (!have && !cJSON_AddItemToArray(cls, cJSON_CreateString(classes[i])))
			return folio_error_set(FOLIO_ENOMEM, "out of memory");
	}
	return 0;
}

int folio_dataset_json_merge(char **out, size_t *len, const char *name, const char *old,
			     size_t oldlen, const folio_label_source *sources, size_t nsources,
			     char *const *classes, size_t nclasses, int new_auto)
{
	cJSON *root = NULL, *labels;
	char *text = NULL;
	size_t n;
	int rc = 0;

	*out = NULL;
	*len = 0;
	if (old) {
		root = cJSON_ParseWithLength(old, oldlen);
		if (!cJSON_IsObject(root)) {
			cJSON_Delete(root);
			return folio_error_set(FOLIO_EINVAL,
				"%s is not a JSON object; fix it (or `folio rm` it) and try again", name);
		}
	} else {
		if (!(root = cJSON_CreateObject()) || (new_auto && !cJSON_AddTrueToObject(root, "auto"))) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto cleanup;
		}
	}
	labels = cJSON_GetObjectItemCaseSensitive(root, "labels");
	if (!labels) {
		if (!(labels = cJSON_AddArrayToObject(root, "labels"))) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto cleanup;
		}
	} else if (!cJSON_IsArray(labels)) {
		rc = folio_error_set(FOLIO_EINVAL,
			"%s: \"labels\" is not an array; fix it (or `folio rm` it) and try again", name);
		goto cleanup;
	}
	for (size_t k = 0; k < nsources; k++) {
		cJSON *s = source_json(&sources[k]);
		if (!s) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto cleanup;
		}
		for (int i = cJSON_GetArraySize(labels) - 1; i >= 0; i--)
			if (same_source(cJSON_GetArrayItem(labels, i), s))
				cJSON_DeleteItemFromArray(labels, i);
		cJSON_AddItemToArray(labels, s);
	}
	if (nclasses && (rc = add_classes(root, classes, nclasses)) < 0)
		goto cleanup;
	if (!cJSON_GetObjectItemCaseSensitive(root, "expectations") &&
	    !cJSON_AddObjectToObject(root, "expectations")) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	if (!(text = cJSON_Print(root))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	n = strlen(text);
	char *nt = realloc(text, n + 2);
	if (!nt) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	text = nt;
	text[n++] = '\n';
	text[n] = '\0';
	*out = text;
	*len = n;
	text = NULL;
cleanup:
	free(text);
	cJSON_Delete(root);
	return rc;
}
