/*
 * voc.c — Pascal VOC annotations: one XML file per image, parsed with
 * expat (which refuses entity expansion attacks and never fetches external
 * entities).
 *
 *   <annotation>
 *     <filename>2011_000003.jpg</filename>       the image, in JPEGImages/
 *     <size><width>500</width><height>338</height></size>
 *     <object>
 *       <name>person</name> <pose/> <truncated/> <difficult/> <occluded/>
 *       <bndbox><xmin/><ymin/><xmax/><ymax/></bndbox>
 *       <part>...</part>                          (ignored)
 *     </object>
 *   </annotation>
 *
 * Boxes become x = xmin, y = ymin, w = xmax - xmin, h = ymax - ymin, in
 * pixels as written. A file that is not well-formed XML gives one error
 * with its line and no annotation (half an image's boxes would mislead).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "folio/error.h"
#include "labels_int.h"

#define MAXD 8          /* element names kept for this many levels */
#define TEXT_MAX 4096   /* longest text content looked at */

enum { XMIN, YMIN, XMAX, YMAX };

typedef struct voc {
	labels_builder *b;
	const labels_source *src;
	const char *file;
	XML_Parser p;
	int depth;
	char stack[MAXD + 1][16];
	int not_voc;
	char root[16];
	char text[TEXT_MAX + 1];
	size_t tlen;
	int rc;                 /* first fatal error */

	char *filename;
	int filename_line;
	int width, height;

	int obj_line;
	char *name;
	double c[4];
	int have[4];
	int bad;                /* object already has an error */
	cJSON *attrs;
	folio_annotation a;
} voc;

static int at(const voc *v, int depth, const char *name)
{
	return depth >= 1 && depth <= MAXD && strcmp(v->stack[depth], name) == 0;
}

static int line(const voc *v)
{
	return (int)XML_GetCurrentLineNumber(v->p);
}

static void err(voc *v, int ln, const char *fmt, const char *arg)
{
	if (v->rc == 0 && labels_error(v->b, v->file, ln, fmt, arg) < 0)
		v->rc = FOLIO_ENOMEM;
}

static void reset_object(voc *v)
{
	free(v->name);
	v->name = NULL;
	memset(v->have, 0, sizeof v->have);
	v->bad = 0;
	cJSON_Delete(v->attrs);
	v->attrs = NULL;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	voc *v = ud;

	(void)atts;
	v->depth++;
	v->tlen = 0;
	if (v->depth <= MAXD)
		snprintf(v->stack[v->depth], sizeof v->stack[v->depth], "%s", name);
	if (v->depth == 1 && strcmp(name, "annotation") != 0) {
		v->not_voc = 1;
		snprintf(v->root, sizeof v->root, "%s", name);
		XML_StopParser(v->p, XML_FALSE);
		return;
	}
	if (v->depth == 2 && strcmp(name, "object") == 0) {
		reset_object(v);
		v->obj_line = line(v);
	}
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	voc *v = ud;
	size_t n = (size_t)len;

	if (v->tlen + n > TEXT_MAX)
		n = TEXT_MAX - v->tlen;
	memcpy(v->text + v->tlen, s, n);
	v->tlen += n;
}

/* The element's text without surrounding white space. */
static const char *trimmed(voc *v)
{
	char *s = v->text, *e = v->text + v->tlen;

	while (s < e && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		e--;
	*e = '\0';
	return s;
}

static void set_attr(voc *v, const char *key, const char *val)
{
	char *end;
	double d;

	if (!*val)
		return;
	if (!v->attrs && !(v->attrs = cJSON_CreateObject())) {
		v->rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		return;
	}
	errno = 0;
	d = strtod(val, &end);
	cJSON *item = !*end && !errno && isfinite(d) ? cJSON_CreateNumber(d) : cJSON_CreateString(val);
	if (!item) {
		v->rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		return;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(v->attrs, key);
	cJSON_AddItemToObject(v->attrs, key, item);
}

static void end_object(voc *v)
{
	folio_object o;
	static const char *const cn[4] = { "xmin", "ymin", "xmax", "ymax" };

	if (v->bad)
		return;
	if (!v->name || !*v->name) {
		err(v, v->obj_line, "object without a <name>%s", "");
		return;
	}
	if (!folio_utf8_valid(v->name, strlen(v->name))) {
		err(v, v->obj_line, "object <name> is not UTF-8%s", "");
		return;
	}
	for (int i = 0; i < 4; i++)
		if (!v->have[i]) {
			err(v, v->obj_line, "object without <bndbox><%s>", cn[i]);
			return;
		}
	if (v->c[XMAX] < v->c[XMIN] || v->c[YMAX] < v->c[YMIN]) {
		err(v, v->obj_line, "object box has xmax < xmin or ymax < ymin%s", "");
		return;
	}
	memset(&o, 0, sizeof o);
	o.cls = v->name;
	v->name = NULL;
	o.box = (folio_box){ v->c[XMIN], v->c[YMIN], v->c[XMAX] - v->c[XMIN], v->c[YMAX] - v->c[YMIN] };
	o.has_box = 1;
	if (v->attrs && !(o.attributes = cJSON_PrintUnformatted(v->attrs)))
		v->rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
	if (v->src->labeler && !(o.labeler = strdup(v->src->labeler)))
		v->rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
	if (v->rc == 0)
		v->rc = labels_add_object(&v->a, &o);
	else
		labels_object_clear(&o);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	voc *v = ud;
	int d = v->depth;
	const char *t;

	(void)name;
	if (v->rc) {
		XML_StopParser(v->p, XML_FALSE);
		return;
	}
	if (d == 2 && at(v, 2, "filename")) {
		t = trimmed(v);
		free(v->filename);
		if (!(v->filename = strdup(t)))
			v->rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		v->filename_line = line(v);
	} else if (d == 3 && at(v, 2, "size") && (at(v, 3, "width") || at(v, 3, "height"))) {
		char *end;
		t = trimmed(v);
		errno = 0;
		double x = strtod(t, &end);
		if (*end || errno || !isfinite(x) || x < 0 || x > 1e9)
			err(v, line(v), "image size '%s' is not a number", t);
		else if (at(v, 3, "width"))
			v->width = (int)x;
		else
			v->height = (int)x;
	} else if (d == 3 && at(v, 2, "object")) {
		t = trimmed(v);
		if (at(v, 3, "name")) {
			free(v->name);
			if (!(v->name = strdup(t)))
				v->rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		} else if (at(v, 3, "pose") || at(v, 3, "truncated") || at(v, 3, "difficult") ||
			   at(v, 3, "occluded")) {
			if (!(at(v, 3, "pose") && strcmp(t, "Unspecified") == 0))
				set_attr(v, v->stack[3], t);
		}
	} else if (d == 4 && at(v, 2, "object") && at(v, 3, "bndbox")) {
		static const char *const cn[4] = { "xmin", "ymin", "xmax", "ymax" };
		for (int i = 0; i < 4; i++) {
			if (!at(v, 4, cn[i]))
				continue;
			char *end;
			t = trimmed(v);
			errno = 0;
			double x = strtod(t, &end);
			if (!*t || *end || errno || !isfinite(x)) {
				if (!v->bad)
					err(v, line(v), "box coordinate '%s' is not a number", t);
				v->bad = 1;
			} else {
				v->c[i] = x;
				v->have[i] = 1;
			}
		}
	} else if (d == 2 && at(v, 2, "object")) {
		end_object(v);
		reset_object(v);
	}
	v->tlen = 0;
	v->depth--;
}

static int in_annotations_folder(const char *path)
{
	return strncmp(path, "Annotations/", 12) == 0 || strstr(path, "/Annotations/") != NULL;
}

/* Finds the image: <filename> in the images folder, else by stem. */
static int find_image(voc *v, char **out)
{
	labels_builder *b = v->b;
	char *dir = labels_dirname(v->file), *mirror = NULL, *rel = NULL;
	const char *why = NULL;
	int rc = 0;

	*out = NULL;
	if (!dir)
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	mirror = labels_mirror(dir, "Annotations", "JPEGImages");
	const char *bases[3] = { v->src->images, mirror, dir };
	if (v->filename && *v->filename) {
		if ((rc = labels_clean_path(&rel, v->filename, &why)) < 0) {
			if (!why)
				goto cleanup;
			rc = labels_error(b, v->file, v->filename_line,
				      "image path '%s' refused: %s", v->filename, why);
			goto cleanup;
		}
		if ((rc = labels_resolve_image(b, out, rel, bases, 3)) < 0)
			goto cleanup;
		if (labels_find(b, *out) >= 0 || labels_is_image(rel))
			goto cleanup;
		free(*out);
		*out = NULL;
	}
	/* No <filename>, or one without an extension: match the stem. */
	const char *stem_src = rel ? rel : labels_basename(v->file);
	const char *dot = strrchr(labels_basename(stem_src), '.');
	size_t sl = dot && !rel ? (size_t)(dot - stem_src) : strlen(stem_src);
	for (int i = 0; i < 3 && !*out; i++) {
		if (!bases[i])
			continue;
		char *name = strndup(stem_src, sl), *stem = name ? folio_path_join(bases[i], name) : NULL;
		long k = stem ? labels_image_by_stem(b, stem) : -1;
		free(name);
		free(stem);
		if (k >= 0 && !(*out = strdup(b->tree->v[k].path))) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto cleanup;
		}
	}
	if (!*out)
		rc = labels_error(b, v->file, v->filename_line,
			      v->filename && *v->filename ? "no image named '%s' in this version"
							  : "no <filename>%s and no image with the same name",
			      v->filename ? v->filename : "");
cleanup:
	free(rel);
	free(mirror);
	free(dir);
	return rc;
}

int labels_voc_file(labels_builder *b, const labels_source *src, size_t entry, const char *text,
		size_t len, int declared)
{
	voc v;
	int rc = 0;

	memset(&v, 0, sizeof v);
	v.b = b;
	v.src = src;
	v.file = b->tree->v[entry].path;
	if (!(v.p = XML_ParserCreate(NULL)))
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	XML_SetUserData(v.p, &v);
	XML_SetElementHandler(v.p, on_start, on_end);
	XML_SetCharacterDataHandler(v.p, on_text);
	/* Parsed in slices: XML_Parse takes an int length. */
	enum XML_Status st = XML_STATUS_OK;
	size_t off = 0;
	do {
		size_t n = len - off > (1u << 30) ? (1u << 30) : len - off;
		st = XML_Parse(v.p, text + off, (int)n, off + n == len);
		off += n;
	} while (st == XML_STATUS_OK && off < len);
	if (v.rc) {
		rc = v.rc;
		goto cleanup;
	}
	if (v.not_voc) {
		if (declared)
			rc = labels_error(b, v.file, 1,
					  "not a Pascal VOC annotation (root element <%s>)",
					  v.root);
		goto cleanup;
	}
	if (st != XML_STATUS_OK) {
		enum XML_Error code = XML_GetErrorCode(v.p);
		if (code == XML_ERROR_NO_MEMORY) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory parsing %s", v.file);
			goto cleanup;
		}
		/* Malformed XML counts as a VOC file when it started as one or
		 * lives where VOC annotations live. */
		if (declared || v.depth >= 1 || in_annotations_folder(v.file))
			rc = labels_error(b, v.file, (int)XML_GetCurrentLineNumber(v.p),
					  "XML error: %s",
				      XML_ErrorString(code));
		goto cleanup;
	}
	if ((rc = find_image(&v, &v.a.image)) < 0 || !v.a.image)
		goto cleanup;
	if (!(v.a.source = strdup(v.file))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	v.a.format = FOLIO_LABELS_VOC;
	v.a.prediction = src->prediction;
	v.a.width = v.width;
	v.a.height = v.height;
	const char *split = src->split ? src->split : labels_split_from_path(v.a.image,
									     strlen(v.a.image));
	if (split && !(v.a.split = strdup(split))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	rc = labels_push(b, &v.a);
cleanup:
	reset_object(&v);
	labels_annotation_clear(&v.a);
	free(v.filename);
	XML_ParserFree(v.p);
	return rc;
}
