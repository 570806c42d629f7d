/*
 * slices.c — @slices/NAME: a saved pipeline, kept in the version itself as
 * .folio/slices/NAME.json ({"pipeline": "...", "description": "..."}), so
 * it travels with every version that holds it. Also the one reader of
 * slice files for the daemon and the CLI (`folio slice`).
 *
 * A slice runs from the set it is applied to, and its canonical text is
 * the canonical text of its own pipeline, so a slice and its pipeline
 * spelled out are one folder. Slices may name slices, up to
 * FOLIO_SLICE_MAX_DEPTH deep (a slice that names itself stops there).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "folio/error.h"
#include "folio/views.h"
#include "views_int.h"

/* Largest slice file read. */
#define SLICE_MAX ((size_t)1 << 20)

int folio_slice_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (!n || n > 128 || name[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("._-", name[i]))
			return 0;
	return 1;
}

int folio_slice_read(char **out, size_t *len, folio_view_ctx *ctx, const char *name)
{
	char path[256];
	void *buf = NULL;
	int rc;

	*out = NULL;
	*len = 0;
	if (!folio_slice_name_valid(name))
		return folio_error_set(FOLIO_EINVAL, "@slices/%s: not a slice name (letters, digits, "
				       "'.', '_', '-', not starting with '.')", name);
	snprintf(path, sizeof path, FOLIO_SLICE_DIR "%s.json", name);
	if ((rc = folio_view_read(&buf, len, path, SLICE_MAX, ctx)) < 0) {
		if (rc == FOLIO_ENOTFOUND)
			return folio_error_set(FOLIO_ENOTFOUND, "@slices/%s: no such slice (no %s in "
					       "this version; `folio slice list` shows the saved "
					       "ones)", name, path);
		return rc;
	}
	*out = buf;
	return 0;
}

int folio_slice_parse(char **pipeline, char **description, const char *text, size_t len,
		      const char *name)
{
	cJSON *j = cJSON_ParseWithLength(text, len);
	const cJSON *p = j ? cJSON_GetObjectItemCaseSensitive(j, "pipeline") : NULL;
	const cJSON *d = j ? cJSON_GetObjectItemCaseSensitive(j, "description") : NULL;
	int rc = 0;

	*pipeline = NULL;
	if (description)
		*description = NULL;
	if (!cJSON_IsString(p)) {
		rc = folio_error_set(FOLIO_EINVAL, FOLIO_SLICE_DIR "%s.json: expected an object with "
				     "a \"pipeline\" string", name);
	} else if (!(*pipeline = strdup(p->valuestring)) ||
		   (description && cJSON_IsString(d) && !(*description = strdup(d->valuestring)))) {
		free(*pipeline);
		*pipeline = NULL;
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
	}
	cJSON_Delete(j);
	return rc;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int folio_slices_list(char ***out, size_t *n, const folio_tree *tree)
{
	size_t pl = strlen(FOLIO_SLICE_DIR), cap = 0;
	char **v = NULL;

	*out = NULL;
	*n = 0;
	for (size_t i = 0; tree && i < tree->n; i++) {
		const char *path = tree->v[i].path;
		size_t len = strlen(path);
		if (strncmp(path, FOLIO_SLICE_DIR, pl) || len < pl + 6 ||
		    strcmp(path + len - 5, ".json") || strchr(path + pl, '/'))
			continue;
		char *name = strndup(path + pl, len - pl - 5);
		if (name && !folio_slice_name_valid(name)) {
			free(name);
			continue;
		}
		if (name && *n == cap) {
			cap = cap ? cap * 2 : 8;
			char **nv = realloc(v, cap * sizeof *nv);
			if (!nv) {
				free(name);
				name = NULL;
			} else {
				v = nv;
			}
		}
		if (!name) {
			for (size_t k = 0; k < *n; k++)
				free(v[k]);
			free(v);
			*n = 0;
			return folio_error_set(FOLIO_ENOMEM, "out of memory");
		}
		v[(*n)++] = name;
	}
	if (*n)
		qsort(v, *n, sizeof *v, name_cmp);
	*out = v;
	return 0;
}

char *folio_slice_json(const char *pipeline, const char *description)
{
	cJSON *o = cJSON_CreateObject();
	char *text = NULL;
	if (!o)
		return NULL;
	if (cJSON_AddStringToObject(o, "pipeline", pipeline) &&
	    (!description || cJSON_AddStringToObject(o, "description", description)))
		text = cJSON_Print(o);
	cJSON_Delete(o);
	if (text) {
		/* a trailing newline, like every text file we write */
		size_t n = strlen(text);
		char *t = realloc(text, n + 2);
		if (!t) {
			free(text);
			return NULL;
		}
		t[n] = '\n';
		t[n + 1] = 0;
		text = t;
	}
	return text;
}

/* ---- the view ------------------------------------------------------------ */

static int slices_stage(folio_set *out, char **canon, folio_view_ctx *ctx, const folio_set *in,
			const char *const *args, size_t nargs, int depth)
{
	const char *name = args[0];
	char *text = NULL, *pipeline = NULL;
	size_t len = 0;
	int rc;

	(void)nargs;
	if (!folio_slice_name_valid(name))
		return folio_error_set(FOLIO_EINVAL, "@slices/%s: not a slice name "
				       "(letters, digits, '.', '_', '-')", name);
	if (depth >= FOLIO_SLICE_MAX_DEPTH)
		return folio_error_set(FOLIO_EINVAL, "@slices/%s: slices nest more than %d "
				       "deep (a slice that names itself?)", name,
				       FOLIO_SLICE_MAX_DEPTH);
	if ((rc = folio_slice_read(&text, &len, ctx, name)) < 0)
		return rc;
	rc = folio_slice_parse(&pipeline, NULL, text, len, name);
	free(text);
	if (rc < 0)
		return rc;
	rc = folio_pipeline_run_from(out, canon, ctx, in, pipeline, depth + 1);
	free(pipeline);
	if (rc < 0)
		return folio_error_wrap(rc, FOLIO_SLICE_DIR "%s.json", name);
	return 0;
}

static int slices_list(folio_view_menu *out, folio_view_ctx *ctx, const folio_set *in,
		       const char *const *args, size_t nargs)
{
	char **names = NULL;
	size_t n = 0;
	int rc;

	(void)in;
	(void)args;
	(void)nargs;
	if ((rc = folio_slices_list(&names, &n, ctx->tree)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (rc == 0)
			rc = folio_view_menu_add(out, names[i], 1);
		free(names[i]);
	}
	free(names);
	return rc;
}

const folio_view views_slices = {
	.name = "@slices",
	.kind = FOLIO_VIEW_STAGE,
	.arity = 1,
	.summary = "saved pipelines of this version (.folio/slices/): @slices/night-cars",
	.list = slices_list,
	.stage = slices_stage,
};
