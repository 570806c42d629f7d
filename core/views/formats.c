/*
 * formats.c — the export serializers of include/folio/export.h: COCO
 * instances JSON, YOLO label text and data.yaml, Pascal VOC XML,
 * manifest.csv and files.txt, each built in memory from a list of images
 * and their ground truth. This file owns the formats' conventions as
 * written (docs/exports.md); core/labels owns them as read, and the two
 * must agree so that an export reads back to the same boxes.
 *
 * Workload: a view of a large dataset (a million images, several million
 * boxes) exported at once, from a daemon thread. So the output grows in one
 * buffer with a size cap, and COCO's JSON is written one element at a time
 * (each image, annotation and category built and printed with cJSON, then
 * freed) rather than as one cJSON tree, which would take several hundred
 * bytes per box. Class lookups are a binary search (COCO, over all
 * classes) or a scan of classes[] per object (YOLO, one image at a time).
 *
 * Nothing here writes files or keeps state between calls.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "folio/error.h"
#include "folio/export.h"
#include "folio/util.h"

/* Largest output of one call: beyond it a FUSE read or a CLI pipe is the
 * wrong tool, and the buffer would double past 2 GiB. */

/* ------------------------------------------------------------ shared */

/* Clears the out-parameters every function has. */
static int start(char **out, size_t *len, size_t *skipped, const char *fn)
{
	if (out)
		*out = NULL;
	if (len)
		*len = 0;
	if (skipped)
		*skipped = 0;
	if (!out || !len)
		return folio_error_set(FOLIO_EINVAL, "%s: no output given", fn);
	return 0;
}

/* The image's size: from its header, else what a (pixel) label file
 * states; 0 x 0 when neither is known. */
static void image_size(const folio_export_item *it, int *w, int *h)
{
	const folio_annotation *a = it->gt;

	*w = *h = 0;
	if (it->width > 0 && it->height > 0) {
		*w = it->width;
		*h = it->height;
	} else if (a && !folio_annotation_relative(a) && a->width > 0 && a->height > 0) {
		*w = a->width;
		*h = a->height;
	}
}

/* The object's box in pixels; 0 when it cannot be placed (fractions of
 * an unknown size, not finite, negative size). Only for has_box objects. */
static int pixel_box(const folio_export_item *it, const folio_object *o, folio_box *out)
{
	folio_box bx = o->box;

	if (folio_annotation_relative(it->gt)) {
		if (it->width <= 0 || it->height <= 0)
			return 0;
		bx.x *= it->width;
		bx.w *= it->width;
		bx.y *= it->height;
		bx.h *= it->height;
	}
	if (!isfinite(bx.x) || !isfinite(bx.y) || !isfinite(bx.w) || !isfinite(bx.h) || bx.w < 0 ||
	    bx.h < 0)
		return 0;
	*out = bx;
	return 1;
}

/* Checks an item's path and its objects' classes: present, and UTF-8 when
 * the format needs it (JSON, XML, YAML). */
static int check_item(const folio_export_item *it, size_t i, int utf8)
{
	if (!it->path)
		return folio_error_set(FOLIO_EINVAL, "export: item %zu has no path", i);
	if (utf8 && !folio_utf8_valid(it->path, strlen(it->path)))
		return folio_error_set(FOLIO_EINVAL, "export: path of item %zu is not UTF-8", i);
	for (size_t k = 0; it->gt && k < it->gt->nobjects; k++) {
		const char *c = it->gt->objects[k].cls;
		if (!c)
			return folio_error_set(FOLIO_EINVAL, "export: %s: object %zu has no class",
					       it->path, k);
		if (utf8 && !folio_utf8_valid(c, strlen(c)))
			return folio_error_set(FOLIO_EINVAL, "export: %s: class of object %zu is not UTF-8",
					       it->path, k);
	}
	return 0;
}

/* start() for the functions of one image, and the image's checks. */
static int start_one(char **out, size_t *len, size_t *skipped, const folio_export_item *it,
		     const char *fn, int utf8)
{
	int rc = start(out, len, skipped, fn);

	if (rc == 0 && !it)
		rc = folio_error_set(FOLIO_EINVAL, "%s: no item", fn);
	return rc < 0 ? rc : check_item(it, 0, utf8);
}

/* Checks classes[]: present, non-empty, UTF-8. */
static int check_classes(char *const *classes, size_t n)
{
	if (n && !classes)
		return folio_error_set(FOLIO_EINVAL, "export: %zu classes but no class list", n);
	for (size_t i = 0; i < n; i++) {
		if (!classes[i] || !classes[i][0])
			return folio_error_set(FOLIO_EINVAL, "export: class %zu has no name", i);
		if (!folio_utf8_valid(classes[i], strlen(classes[i])))
			return folio_error_set(FOLIO_EINVAL, "export: class %zu is not UTF-8", i);
	}
	return 0;
}

/* Decodes one code point of valid UTF-8; returns its length. */
static size_t utf8_next(const unsigned char *s, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] < 0xE0) {
		*cp = (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
		return 2;
	}
	if (s[0] < 0xF0) {
		*cp = (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
		return 3;
	}
	*cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
	      (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
	return 4;
}

/* The shortest "%g" text that reads back (strtod) as exactly v. */
static void fmt_num(char buf[32], double v)
{
	if (v == 0) {
		memcpy(buf, "0", 2);
		return;
	}
	snprintf(buf, 32, "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, 32, "%.17g", v);
}

/* ------------------------------------------------------------ COCO */

/* Category names, id = index + 1, with an index sorted by name. The names
 * are borrowed from classes[] and the objects. */
typedef struct cats {
	const char **name;
	size_t *sorted;
	size_t n, cap;
} cats;

/* The id of name, added at the end when new; 0 when out of memory. */
static size_t cat_id(cats *c, const char *name)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(c->name[c->sorted[mid]], name);
		if (r == 0)
			return c->sorted[mid] + 1;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		const char **nm = realloc(c->name, cap * sizeof *nm);
		if (nm)
			c->name = nm;
		size_t *so = nm ? realloc(c->sorted, cap * sizeof *so) : NULL;
		if (!so) {
			folio_error_set(FOLIO_ENOMEM, "export: out of memory listing classes");
			return 0;
		}
		c->sorted = so;
		c->cap = cap;
	}
	memmove(c->sorted + lo + 1, c->sorted + lo, (c->n - lo) * sizeof *c->sorted);
	c->sorted[lo] = c->n;
	c->name[c->n] = name;
	return ++c->n;
}

/* Appends one element of a JSON array, one a line; o is freed. */
static void put_json(folio_buf *b, cJSON *o, int first)
{
	char *s = o ? cJSON_PrintUnformatted(o) : NULL;

	cJSON_Delete(o);
	if (!s) {
		if (!b->rc)
			b->rc = folio_error_set(FOLIO_ENOMEM, "export: out of memory building %s", b->what);
		return;
	}
	folio_buf_puts(b, first ? "\n" : ",\n");
	folio_buf_puts(b, s);
	free(s);
}

/* Splits an object's attributes into COCO's iscrowd and the rest (a JSON
 * object with members, or NULL). Attributes that are not a JSON object
 * are dropped. */
static void coco_attrs(const folio_object *o, int *crowd, cJSON **rest)
{
	cJSON *a = o->attributes ? cJSON_Parse(o->attributes) : NULL;

	*crowd = 0;
	*rest = NULL;
	if (!cJSON_IsObject(a)) {
		cJSON_Delete(a);
		return;
	}
	cJSON *c = cJSON_DetachItemFromObjectCaseSensitive(a, "iscrowd");
	*crowd = (cJSON_IsNumber(c) && c->valuedouble != 0) || cJSON_IsTrue(c);
	cJSON_Delete(c);
	if (a->child)
		*rest = a;
	else
		cJSON_Delete(a);
}

static cJSON *coco_image(size_t id, const folio_export_item *it)
{
	cJSON *o = cJSON_CreateObject();
	int w, h;

	image_size(it, &w, &h);
	if (!o || !cJSON_AddNumberToObject(o, "id", (double)id) ||
	    !cJSON_AddStringToObject(o, "file_name", it->path) ||
	    !cJSON_AddNumberToObject(o, "width", w) || !cJSON_AddNumberToObject(o, "height", h)) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static cJSON *coco_annotation(size_t id, size_t image_id, size_t cat, const folio_box *bx,
			      const folio_object *ob)
{
	cJSON *o = cJSON_CreateObject(), *box = NULL, *rest = NULL;
	double v[4] = { bx->x, bx->y, bx->w, bx->h };
	int crowd;

	coco_attrs(ob, &crowd, &rest);
	if (!o || !cJSON_AddNumberToObject(o, "id", (double)id) ||
	    !cJSON_AddNumberToObject(o, "image_id", (double)image_id) ||
	    !cJSON_AddNumberToObject(o, "category_id", (double)cat) ||
	    !(box = cJSON_AddArrayToObject(o, "bbox")))
		goto fail;
	for (int i = 0; i < 4; i++) {
		cJSON *x = cJSON_CreateNumber(v[i]);
		if (!x || !cJSON_AddItemToArray(box, x)) {
			cJSON_Delete(x);
			goto fail;
		}
	}
	if (!cJSON_AddNumberToObject(o, "area", bx->w * bx->h) ||
	    !cJSON_AddNumberToObject(o, "iscrowd", crowd) ||
	    (ob->has_score && !cJSON_AddNumberToObject(o, "score", ob->score)))
		goto fail;
	if (rest && !cJSON_AddItemToObject(o, "attributes", rest))
		goto fail;
	return o;
fail:
	cJSON_Delete(rest);
	cJSON_Delete(o);
	return NULL;
}

static cJSON *coco_category(size_t id, const char *name)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddNumberToObject(o, "id", (double)id) ||
	    !cJSON_AddStringToObject(o, "name", name) ||
	    !cJSON_AddStringToObject(o, "supercategory", "none")) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

int folio_export_coco(char **out, size_t *len, size_t *skipped, const folio_export_item *items,
		      size_t n, char *const *classes, size_t nclasses)
{
	folio_buf b = { .what = "COCO JSON" };
	cats c = { 0 };
	size_t nskip = 0, img = 0, ann = 0;
	int rc;

	if ((rc = start(out, len, skipped, "folio_export_coco")) < 0)
		return rc;
	if (n && !items)
		return folio_error_set(FOLIO_EINVAL, "folio_export_coco: %zu items but no item list", n);
	if ((rc = check_classes(classes, nclasses)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if ((rc = check_item(&items[i], i, 1)) < 0)
			return rc;
	for (size_t i = 0; i < nclasses; i++)
		if (!cat_id(&c, classes[i])) {
			rc = FOLIO_ENOMEM;
			goto fail;
		}

	/* pycocotools 2.0.9 and 2.0.10 need "info" to load results */
	folio_buf_puts(&b, "{\"info\":{\"description\":\"exported by folio\"},\"licenses\":[],\n\"images\":[");
	for (size_t i = 0; i < n; i++)
		if (items[i].gt) {
			img++;
			put_json(&b, coco_image(img, &items[i]), img == 1);
		}
	folio_buf_puts(&b, "\n],\n\"annotations\":[");
	img = 0;
	for (size_t i = 0; i < n && !b.rc; i++) {
		const folio_export_item *it = &items[i];
		if (!it->gt)
			continue;
		img++;
		for (size_t k = 0; k < it->gt->nobjects && !b.rc; k++) {
			const folio_object *o = &it->gt->objects[k];
			folio_box bx;
			size_t id = cat_id(&c, o->cls);
			if (!id) {
				rc = FOLIO_ENOMEM;
				goto fail;
			}
			if (!o->has_box)
				continue;
			if (!pixel_box(it, o, &bx)) {
				nskip++;
				continue;
			}
			ann++;
			put_json(&b, coco_annotation(ann, img, id, &bx, o), ann == 1);
		}
	}
	folio_buf_puts(&b, "\n],\n\"categories\":[");
	for (size_t i = 0; i < c.n; i++)
		put_json(&b, coco_category(i + 1, c.name[i]), i == 0);
	folio_buf_puts(&b, "\n]\n}\n");
	if ((rc = folio_buf_finish(out, len, &b)) == 0 && skipped)
		*skipped = nskip;
fail:
	free(b.p);
	free(c.name);
	free(c.sorted);
	return rc;
}

/* ------------------------------------------------------------ YOLO */

/* Position of name in classes[], or -1. */
static long class_index(char *const *classes, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(classes[i], name) == 0)
			return (long)i;
	return -1;
}

static double clip01(double v)
{
	/* also turns -0 into 0, which would print as "-0.000000" */
	return v > 0 ? (v < 1 ? v : 1) : 0;
}

int folio_export_yolo_label(char **out, size_t *len, size_t *skipped, const folio_export_item *it,
			    char *const *classes, size_t nclasses)
{
	folio_buf b = { .what = "YOLO labels" };
	size_t nskip = 0;
	int w, h, rc;

	if ((rc = start_one(out, len, skipped, it, "folio_export_yolo_label", 0)) < 0)
		return rc;
	if ((rc = check_classes(classes, nclasses)) < 0)
		return rc;
	image_size(it, &w, &h);
	int rel = it->gt && folio_annotation_relative(it->gt);
	for (size_t k = 0; it->gt && k < it->gt->nobjects; k++) {
		const folio_object *o = &it->gt->objects[k];
		folio_box f = o->box;
		if (!o->has_box)
			continue;
		long cls = class_index(classes, nclasses, o->cls);
		/* YOLO wants fractions: a relative box already is one */
		if (!rel && w > 0) {
			f.x /= w;
			f.w /= w;
			f.y /= h;
			f.h /= h;
		}
		if (cls < 0 || (!rel && w <= 0) || !isfinite(f.x) || !isfinite(f.y) || !isfinite(f.w) ||
		    !isfinite(f.h) || f.w < 0 || f.h < 0) {
			nskip++;
			continue;
		}
		double x0 = clip01(f.x), x1 = clip01(f.x + f.w), y0 = clip01(f.y), y1 = clip01(f.y + f.h);
		/* a box that had a size and lost it all lies outside the image */
		if ((f.w > 0 && x1 <= x0) || (f.h > 0 && y1 <= y0)) {
			nskip++;
			continue;
		}
		folio_buf_printf(&b, "%ld %.6f %.6f %.6f %.6f\n", cls, (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0,
			  y1 - y0);
	}
	if ((rc = folio_buf_finish(out, len, &b)) == 0 && skipped)
		*skipped = nskip;
	return rc;
}

/* 1 if name reads back from a plain YAML scalar as the same string, for
 * libyaml and for PyYAML's safe_load (Ultralytics): a conservative ASCII
 * subset that cannot be a number, a boolean, null or YAML syntax. */
static int yaml_plain(const char *name)
{
	static const char *const words[] = { "y", "n", "yes", "no", "true", "false", "on", "off", "null" };
	size_t l = strlen(name);

	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') || name[0] == '_') ||
	    name[l - 1] == ' ')
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("_-./ ", *p)))
			return 0;
	for (size_t i = 0; i < sizeof words / sizeof *words; i++)
		if (strcasecmp(name, words[i]) == 0)
			return 0;
	return 1;
}

/* A double-quoted YAML scalar: escapes what is not printable to libyaml
 * or PyYAML (C0, DEL, C1, line separators, BOM, U+FFFE/U+FFFF). */
static void yaml_quoted(folio_buf *b, const char *s)
{
	folio_buf_put(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		uint32_t cp;
		size_t l = utf8_next(p, &cp);
		if (cp == '"' || cp == '\\') {
			folio_buf_put(b, "\\", 1);
			folio_buf_put(b, (const char *)p, 1);
		} else if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) {
			folio_buf_printf(b, "\\x%02X", (unsigned)cp);
		} else if (cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF || cp == 0xFFFE || cp == 0xFFFF) {
			folio_buf_printf(b, "\\u%04X", (unsigned)cp);
		} else {
			folio_buf_put(b, (const char *)p, l);
		}
		p += l;
	}
	folio_buf_put(b, "\"", 1);
}

int folio_export_yolo_yaml(char **out, size_t *len, char *const *classes, size_t nclasses)
{
	folio_buf b = { .what = "data.yaml" };
	int rc;

	if ((rc = start(out, len, NULL, "folio_export_yolo_yaml")) < 0)
		return rc;
	if ((rc = check_classes(classes, nclasses)) < 0)
		return rc;
	/* No "path:": Ultralytics resolves a relative one against the
	 * working directory (or its datasets folder), while without it the
	 * root is the folder of this file. */
	folio_buf_printf(&b, "# exported by folio: images/<path>, labels/<path>.txt\n"
		      "train: images\nval: images\nnc: %zu\nnames:%s\n",
		  nclasses, nclasses ? "" : " []");
	for (size_t i = 0; i < nclasses; i++) {
		folio_buf_puts(&b, "  - ");
		if (yaml_plain(classes[i]))
			folio_buf_puts(&b, classes[i]);
		else
			yaml_quoted(&b, classes[i]);
		folio_buf_puts(&b, "\n");
	}
	return folio_buf_finish(out, len, &b);
}

/* ------------------------------------------------------------ VOC */

/* XML 1.0 character data: markup escaped; tab, LF and CR as character
 * references (so that parsers keep them as they are); the characters XML
 * 1.0 forbids (other C0 controls, U+FFFE, U+FFFF) replaced by U+FFFD. */
static void xml_text(folio_buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p;) {
		uint32_t cp;
		size_t l = utf8_next(p, &cp);
		switch (cp) {
		case '&': folio_buf_puts(b, "&amp;"); break;
		case '<': folio_buf_puts(b, "&lt;"); break;
		case '>': folio_buf_puts(b, "&gt;"); break;
		case '"': folio_buf_puts(b, "&quot;"); break;
		case '\'': folio_buf_puts(b, "&apos;"); break;
		case '\t': folio_buf_puts(b, "&#9;"); break;
		case '\n': folio_buf_puts(b, "&#10;"); break;
		case '\r': folio_buf_puts(b, "&#13;"); break;
		default:
			if (cp < 0x20 || cp == 0xFFFE || cp == 0xFFFF)
				folio_buf_puts(b, "\xEF\xBF\xBD");
			else
				folio_buf_put(b, (const char *)p, l);
		}
		p += l;
	}
}

static void xml_elem(folio_buf *b, const char *indent, const char *name, const char *text)
{
	folio_buf_printf(b, "%s<%s>", indent, name);
	xml_text(b, text);
	folio_buf_printf(b, "</%s>\n", name);
}

/* An attribute of VOC's object (pose, truncated, ...) as element text:
 * strings as they are, numbers shortest, booleans 1/0; def when absent or
 * of another type. */
static const char *voc_attr(const cJSON *attrs, const char *key, const char *def, char buf[32])
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(attrs, key);

	if (cJSON_IsString(v) && v->valuestring[0] &&
	    folio_utf8_valid(v->valuestring, strlen(v->valuestring)))
		return v->valuestring;
	if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
		fmt_num(buf, v->valuedouble);
		return buf;
	}
	if (cJSON_IsBool(v))
		return cJSON_IsTrue(v) ? "1" : "0";
	return def;
}

static void voc_object(folio_buf *b, const folio_object *o, const folio_box *bx)
{
	cJSON *attrs = o->attributes ? cJSON_Parse(o->attributes) : NULL;
	const double c[4] = { bx->x, bx->y, bx->x + bx->w, bx->y + bx->h };
	static const char *const cn[4] = { "xmin", "ymin", "xmax", "ymax" };
	char buf[32];

	folio_buf_puts(b, "\t<object>\n");
	xml_elem(b, "\t\t", "name", o->cls);
	xml_elem(b, "\t\t", "pose", voc_attr(attrs, "pose", "Unspecified", buf));
	xml_elem(b, "\t\t", "truncated", voc_attr(attrs, "truncated", "0", buf));
	xml_elem(b, "\t\t", "difficult", voc_attr(attrs, "difficult", "0", buf));
	const char *occ = voc_attr(attrs, "occluded", NULL, buf);
	if (occ)
		xml_elem(b, "\t\t", "occluded", occ);
	folio_buf_puts(b, "\t\t<bndbox>\n");
	for (int i = 0; i < 4; i++) {
		fmt_num(buf, c[i]);
		folio_buf_printf(b, "\t\t\t<%s>%s</%s>\n", cn[i], buf, cn[i]);
	}
	folio_buf_puts(b, "\t\t</bndbox>\n\t</object>\n");
	cJSON_Delete(attrs);
}

/*
 * Coordinates: the original VOC devkit counts pixels from 1 and makes
 * xmax inclusive, but core/labels/voc.c reads xmin as x and xmax - xmin
 * as w, with no shift. Writing xmin = x, xmax = x + w is its exact inverse,
 * so an export reads back to the same boxes; a box imported from a 1-based
 * VOC file keeps its numbers through import and export.
 */
int folio_export_voc(char **out, size_t *len, size_t *skipped, const folio_export_item *it)
{
	folio_buf b = { .what = "VOC XML" };
	size_t nskip = 0;
	int w, h, rc;

	if ((rc = start_one(out, len, skipped, it, "folio_export_voc", 1)) < 0)
		return rc;
	const char *slash = strrchr(it->path, '/');
	image_size(it, &w, &h);
	folio_buf_puts(&b, "<annotation>\n\t<folder/>\n");
	xml_elem(&b, "\t", "filename", slash ? slash + 1 : it->path);
	xml_elem(&b, "\t", "path", it->path);
	folio_buf_printf(&b, "\t<size>\n\t\t<width>%d</width>\n\t\t<height>%d</height>\n"
		      "\t\t<depth>%d</depth>\n\t</size>\n\t<segmented>0</segmented>\n",
		  w, h, it->depth > 0 ? it->depth : 3);
	for (size_t k = 0; it->gt && k < it->gt->nobjects; k++) {
		const folio_object *o = &it->gt->objects[k];
		folio_box bx;
		if (!o->has_box)
			continue;
		if (pixel_box(it, o, &bx))
			voc_object(&b, o, &bx);
		else
			nskip++;
	}
	folio_buf_puts(&b, "</annotation>\n");
	if ((rc = folio_buf_finish(out, len, &b)) == 0 && skipped)
		*skipped = nskip;
	return rc;
}

/* ------------------------------------------------------------ lists */

/* One CSV field, quoted (RFC 4180) when it holds , " CR or LF. */
static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The image's distinct class names, sorted, joined by ';' into cls. */
static int join_classes(folio_buf *cls, const folio_annotation *a)
{
	const char **v;

	cls->n = 0;
	if (cls->p)
		cls->p[0] = '\0';
	if (!a || !a->nobjects)
		return 0;
	if (!(v = malloc(a->nobjects * sizeof *v)))
		return folio_error_set(FOLIO_ENOMEM, "export: out of memory building manifest.csv");
	for (size_t k = 0; k < a->nobjects; k++)
		v[k] = a->objects[k].cls;
	qsort(v, a->nobjects, sizeof *v, cmp_str);
	for (size_t k = 0; k < a->nobjects; k++)
		if (k == 0 || strcmp(v[k], v[k - 1]) != 0) {
			if (k)
				folio_buf_put(cls, ";", 1);
			folio_buf_puts(cls, v[k]);
		}
	free(v);
	return cls->rc;
}

int folio_export_manifest(char **out, size_t *len, const folio_export_item *items, size_t n)
{
	folio_buf b = { .what = "manifest.csv" }, cls = { .what = "manifest.csv" };
	int rc;

	if ((rc = start(out, len, NULL, "folio_export_manifest")) < 0)
		return rc;
	if (n && !items)
		return folio_error_set(FOLIO_EINVAL, "folio_export_manifest: %zu items but no item list", n);
	for (size_t i = 0; i < n; i++)
		if ((rc = check_item(&items[i], i, 0)) < 0)
			return rc;
	folio_buf_puts(&b, "path,sha256,size,width,height,classes\n");
	for (size_t i = 0; i < n && !b.rc; i++) {
		const folio_export_item *it = &items[i];
		int w, h;
		if ((rc = join_classes(&cls, it->gt)) < 0)
			goto fail;
		image_size(it, &w, &h);
		folio_buf_csv(&b, it->path);
		folio_buf_put(&b, ",", 1);
		folio_buf_csv(&b, it->sha256 ? it->sha256 : "");
		folio_buf_printf(&b, ",%" PRIu64 ",", it->size);
		if (w > 0)
			folio_buf_printf(&b, "%d,%d", w, h);
		else
			folio_buf_put(&b, ",", 1);
		folio_buf_put(&b, ",", 1);
		folio_buf_csv(&b, cls.p ? cls.p : "");
		folio_buf_put(&b, "\n", 1);
	}
	rc = folio_buf_finish(out, len, &b);
fail:
	free(b.p);
	free(cls.p);
	return rc;
}

int folio_export_files(char **out, size_t *len, size_t *skipped, const char *prefix,
		       const folio_export_item *items, size_t n)
{
	folio_buf b = { .what = "files.txt" };
	size_t nskip = 0, pl;
	int rc;

	if ((rc = start(out, len, skipped, "folio_export_files")) < 0)
		return rc;
	if (!prefix || prefix[0] != '/' || strpbrk(prefix, "\r\n"))
		return folio_error_set(FOLIO_EINVAL, "folio_export_files: prefix '%s' is not an absolute path on one line",
				       prefix ? prefix : "(null)");
	if (n && !items)
		return folio_error_set(FOLIO_EINVAL, "folio_export_files: %zu items but no item list", n);
	for (pl = strlen(prefix); pl > 0 && prefix[pl - 1] == '/'; pl--)
		;
	for (size_t i = 0; i < n && !b.rc; i++) {
		if ((rc = check_item(&items[i], i, 0)) < 0) {
			free(b.p);
			return rc;
		}
		if (strpbrk(items[i].path, "\r\n")) {
			nskip++;
			continue;
		}
		folio_buf_put(&b, prefix, pl);
		folio_buf_put(&b, "/", 1);
		folio_buf_puts(&b, items[i].path);
		folio_buf_put(&b, "\n", 1);
	}
	if ((rc = folio_buf_finish(out, len, &b)) == 0 && skipped)
		*skipped = nskip;
	return rc;
}
