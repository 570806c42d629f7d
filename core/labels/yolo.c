/*
 * yolo.c — YOLO labels: one .txt per image, "class cx cy w h" per object
 * in fractions of the image size, with class names from data.yaml (read
 * with libyaml), a *.names file or classes.txt.
 *
 * The label files do not say the image size, so boxes stay in fractions
 * (top-left x, y, w, h) and the annotation's width and height stay 0:
 * folio_annotation_relative() is then true, and folio_annotation_set_size
 * scales them once the image's size is known.
 *
 * Lines: 5 numbers are a box; 6 are a box and a confidence (predictions);
 * an odd count of 7 or more is a segmentation polygon "class x1 y1 x2 y2
 * ...", kept as its bounding box.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "folio/error.h"
#include "labels_int.h"

/* How many numbers a polygon line may have (keeps one line bounded). */
#define MAX_TOKENS 4097

static int is_yaml(const char *path)
{
	const char *dot = strrchr(labels_basename(path), '.');

	return dot && (strcasecmp(dot, ".yaml") == 0 || strcasecmp(dot, ".yml") == 0);
}

static int is_data_yaml(const char *path)
{
	const char *base = labels_basename(path);

	return strcmp(base, "data.yaml") == 0 || strcmp(base, "data.yml") == 0;
}

int labels_yolo_scan_names(labels_builder *b)
{
	for (size_t i = 0; i < b->tree->n; i++) {
		const folio_entry *e = &b->tree->v[i];
		const char *base = labels_basename(e->path);
		size_t l = strlen(base);
		if (e->kind == FOLIO_ENTRY_LINK || strncmp(e->path, ".folio/", 7) == 0)
			continue;
		if (!(strcmp(base, "classes.txt") == 0 || is_yaml(base) ||
		      (l > 6 && strcasecmp(base + l - 6, ".names") == 0)))
			continue;
		labels_names *v = realloc(b->names, (b->nnames + 1) * sizeof *v);
		if (!v)
			return folio_error_set(FOLIO_ENOMEM, "out of memory");
		b->names = v;
		memset(&v[b->nnames], 0, sizeof *v);
		v[b->nnames++].entry = i;
	}
	return 0;
}

void labels_names_clear(labels_names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
	n->v = NULL;
	n->n = 0;
}

static int names_push(labels_names *n, const char *s, size_t len)
{
	char **v = realloc(n->v, (n->n + 1) * sizeof *v);

	if (!v)
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	n->v = v;
	if (!(v[n->n] = strndup(s, len)))
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	n->n++;
	return 0;
}

/* One class name per line; blank lines at the end are ignored. */
static int parse_lines(labels_builder *b, labels_names *n, const char *file, const char *text,
		       size_t len)
{
	size_t pending_blank = 0;
	int line = 0, rc = 0;

	for (const char *p = text, *end = text + len; p < end && rc == 0;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		const char *s = p;
		line++;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
			e--;
		p = nl ? nl + 1 : end;
		if (e == s) {
			pending_blank++;
			continue;
		}
		/* A blank line between names still takes an index. */
		for (; pending_blank && rc == 0; pending_blank--) {
			char num[32];
			snprintf(num, sizeof num, "%zu", n->n);
			if ((rc = labels_error(b, file, line - (int)pending_blank,
					   "empty class name (index %zu)", n->n)) == 0)
				rc = names_push(n, num, strlen(num));
		}
		if (rc == 0 && !folio_utf8_valid(s, (size_t)(e - s))) {
			char num[32];
			snprintf(num, sizeof num, "%zu", n->n);
			if ((rc = labels_error(b, file, line, "class name is not UTF-8")) == 0)
				rc = names_push(n, num, strlen(num));
		} else if (rc == 0) {
			rc = names_push(n, s, (size_t)(e - s));
		}
	}
	return rc;
}

static const char *scalar(yaml_node_t *nd)
{
	return nd && nd->type == YAML_SCALAR_NODE ? (const char *)nd->data.scalar.value : NULL;
}

/* "names:" as a list, or as a mapping {0: a, 1: b} (ultralytics). */
static int parse_yaml(labels_builder *b, labels_names *n, const char *file, const char *text,
		      size_t len)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	int rc = 0, have_doc = 0;
	char **byidx = NULL;
	size_t nidx = 0;

	if (!yaml_parser_initialize(&parser))
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		if (parser.error == YAML_MEMORY_ERROR)
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		else if (is_data_yaml(file))
			rc = labels_error(b, file, (int)parser.problem_mark.line + 1,
					  "YAML error: %s",
				      parser.problem ? parser.problem : "cannot parse");
		n->parsed = -1;
		goto cleanup;
	}
	have_doc = 1;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	yaml_node_t *names = NULL;
	if (root && root->type == YAML_MAPPING_NODE)
		for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
		     pr < root->data.mapping.pairs.top; pr++) {
			const char *k = scalar(yaml_document_get_node(&doc, pr->key));
			if (k && strcmp(k, "names") == 0)
				names = yaml_document_get_node(&doc, pr->value);
		}
	if (!names) {
		n->is_names = 0;
		goto cleanup;
	}
	int line = (int)names->start_mark.line + 1;
	if (names->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = names->data.sequence.items.start;
		     it < names->data.sequence.items.top && rc == 0; it++) {
			yaml_node_t *v = yaml_document_get_node(&doc, *it);
			const char *s = scalar(v);
			if (!s || !*s) {
				char num[32];
				snprintf(num, sizeof num, "%zu", n->n);
				if ((rc = labels_error(b, file, v ? (int)v->start_mark.line + 1 : line,
						   "names[%zu] is not a class name", n->n)) == 0)
					rc = names_push(n, num, strlen(num));
			} else {
				rc = names_push(n, s, strlen(s));
			}
		}
	} else if (names->type == YAML_MAPPING_NODE) {
		size_t count = (size_t)(names->data.mapping.pairs.top - names->data.mapping.pairs.start);
		if (count && !(byidx = calloc(count, sizeof *byidx))) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto cleanup;
		}
		nidx = count;
		for (yaml_node_pair_t *pr = names->data.mapping.pairs.start;
		     pr < names->data.mapping.pairs.top && rc == 0; pr++) {
			yaml_node_t *kn = yaml_document_get_node(&doc, pr->key);
			const char *k = scalar(kn), *v = scalar(yaml_document_get_node(&doc, pr->value));
			char *end = NULL;
			long idx = k ? strtol(k, &end, 10) : -1;
			int kl = kn ? (int)kn->start_mark.line + 1 : line;
			if (!k || !*k || *end || idx < 0 || (size_t)idx >= count)
				rc = labels_error(b, file, kl,
						  "names: key '%s' is not a class index 0..%zu",
					      k ? k : "?", count - 1);
			else if (!v || !*v)
				rc = labels_error(b, file, kl, "names: %ld has no class name", idx);
			else if (byidx[idx])
				rc = labels_error(b, file, kl, "names: index %ld given twice", idx);
			else if (!(byidx[idx] = strdup(v)))
				rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		}
		for (size_t i = 0; i < count && rc == 0; i++) {
			char num[32];
			snprintf(num, sizeof num, "%zu", i);
			rc = names_push(n, byidx[i] ? byidx[i] : num, strlen(byidx[i] ? byidx[i] : num));
		}
	} else {
		rc = labels_error(b, file, line,
				  "names must be a list or a mapping of index to name");
		n->parsed = -1;
	}
cleanup:
	for (size_t i = 0; i < nidx; i++)
		free(byidx[i]);
	free(byidx);
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

static int parse_names(labels_builder *b, labels_names *n)
{
	const char *file = b->tree->v[n->entry].path;
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (n->parsed)
		return 0;
	n->parsed = 1;
	n->is_names = 1;
	/* A names file is not a label file: reading it does not claim it. */
	unsigned char was = b->used[n->entry];
	rc = labels_read(b, n->entry, &text, &len);
	b->used[n->entry] = was;
	if (rc != 0) {
		n->parsed = -1;
		return rc < 0 ? rc : 0;
	}
	if (memchr(text, '\0', len)) {
		rc = labels_error(b, file, 0, "binary file, not a list of class names");
		n->parsed = -1;
	} else if (is_yaml(file)) {
		rc = parse_yaml(b, n, file, text, len);
	} else {
		rc = parse_lines(b, n, file, text, len);
	}
	free(text);
	if (rc == 0 && n->parsed == 1 && n->is_names && n->n == 0) {
		rc = labels_error(b, file, 1, "no class names");
		n->parsed = -1;
	}
	if (rc < 0)
		labels_names_clear(n);
	return rc;
}

static int usable(const labels_names *n)
{
	return n->parsed == 1 && n->is_names;
}

labels_names *labels_yolo_names_at(labels_builder *b, const char *path, int *fatal)
{
	*fatal = 0;
	for (size_t i = 0; i < b->nnames; i++) {
		labels_names *n = &b->names[i];
		if (strcmp(b->tree->v[n->entry].path, path) != 0)
			continue;
		if (parse_names(b, n) < 0) {
			*fatal = 1;
			return NULL;
		}
		if (n->parsed == 1 && !n->is_names && labels_error(b, path, 1, "has no \"names\"") < 0)
			*fatal = 1;
		return usable(n) ? n : NULL;
	}
	if (labels_error(b, path, 0, "not a class names file (data.yaml, *.names, classes.txt)") < 0)
		*fatal = 1;
	return NULL;
}

/* Rank of a names file in its folder: lower wins. */
static int rank(const char *path)
{
	const char *base = labels_basename(path);

	if (is_data_yaml(base))
		return 0;
	if (is_yaml(base))
		return 1;
	if (strcmp(base, "classes.txt") == 0)
		return 3;
	return 2;
}

labels_names *labels_yolo_names_for(labels_builder *b, const char *dir, int *fatal)
{
	char *d = NULL;
	labels_names *hit = NULL;

	*fatal = 0;
	if (b->names_dir && strcmp(b->names_dir, dir) == 0)
		return b->names_hit;
	if (!b->nnames)
		return NULL;
	if (!(d = strdup(dir))) {
		*fatal = 1;
		return NULL;
	}
	for (;;) {
		size_t dl = strlen(d);
		for (int r = 0; r < 4 && !hit; r++)
			for (size_t i = 0; i < b->nnames && !hit; i++) {
				labels_names *n = &b->names[i];
				const char *p = b->tree->v[n->entry].path;
				if (rank(p) != r)
					continue;
				if (dl ? strncmp(p, d, dl) != 0 || p[dl] != '/' || strchr(p + dl + 1, '/')
				       : strchr(p, '/') != NULL)
					continue;
				if (parse_names(b, n) < 0) {
					*fatal = 1;
					free(d);
					return NULL;
				}
				if (usable(n))
					hit = n;
			}
		if (hit || dl == 0)
			break;
		char *slash = strrchr(d, '/');
		if (slash)
			*slash = '\0';
		else
			d[0] = '\0';
	}
	free(d);
	free(b->names_dir);
	b->names_dir = strdup(dir);
	b->names_hit = b->names_dir ? hit : NULL;
	return hit;
}

/* The image with the stem dir/base-without-extension, malloc'd, or NULL. */
static char *image_at(labels_builder *b, const char *dir, const char *name)
{
	const char *dot = strrchr(name, '.');
	size_t nl = dot ? (size_t)(dot - name) : strlen(name);
	char *stemname = strndup(name, nl), *stem;
	long k;

	if (!stemname)
		return NULL;
	stem = folio_path_join(dir, stemname);
	free(stemname);
	if (!stem)
		return NULL;
	k = labels_image_by_stem(b, stem);
	free(stem);
	return k >= 0 ? strdup(b->tree->v[k].path) : NULL;
}

char *labels_yolo_image_for(labels_builder *b, const char *label, const char *images_dir,
			const char *src_path)
{
	char *dir = NULL, *m = NULL, *img = NULL;

	if (images_dir && src_path) {
		size_t sl = strlen(src_path);
		const char *rel = sl && strncmp(label, src_path, sl) == 0 && label[sl] == '/'
					  ? label + sl + 1 : label;
		char *rdir = labels_dirname(rel), *full = rdir ? folio_path_join(images_dir,
					    rdir) : NULL;
		if (full)
			img = image_at(b, full, labels_basename(rel));
		free(rdir);
		free(full);
		if (img)
			return img;
	}
	if (!(dir = labels_dirname(label)))
		return NULL;
	if ((m = labels_mirror(dir, "labels", "images")))
		img = image_at(b, m, labels_basename(label));
	if (!img)
		img = image_at(b, dir, labels_basename(label));
	free(m);
	free(dir);
	return img;
}

/* Parses a number token; 0 if it is one and finite. */
static int number(const char *s, size_t l, double *out)
{
	char buf[64], *end;

	if (l == 0 || l >= sizeof buf)
		return -1;
	memcpy(buf, s, l);
	buf[l] = '\0';
	errno = 0;
	*out = strtod(buf, &end);
	return *end || errno || !isfinite(*out) ? -1 : 0;
}

static int in_unit(double v)
{
	return v >= -1e-6 && v <= 1 + 1e-6;
}

/* One line of tokens into an object; 1 with an error recorded if bad. */
static int parse_line(labels_builder *b, const char *file, int line, const char *const *tok,
		      const size_t *tl, size_t nt, const labels_names *names, const labels_source *src,
		      folio_object *o)
{
	double v[MAX_TOKENS];
	char *end, buf[32];
	long cls;

	if (nt < 5 || (nt > 6 && nt % 2 == 0) || nt > MAX_TOKENS)
		return labels_error(b, file, line,
				    "expected 'class cx cy w h' (or a polygon), got %zu values",
				nt) < 0 ? FOLIO_ENOMEM : 1;
	if (tl[0] >= sizeof buf)
		goto badclass;
	memcpy(buf, tok[0], tl[0]);
	buf[tl[0]] = '\0';
	errno = 0;
	cls = strtol(buf, &end, 10);
	if (*end || errno || cls < 0)
		goto badclass;
	if (names && (size_t)cls >= names->n)
		return labels_error(b, file, line, "class %ld is out of range (%zu class names)",
				    cls,
				names->n) < 0 ? FOLIO_ENOMEM : 1;
	for (size_t i = 1; i < nt; i++)
		if (number(tok[i], tl[i], &v[i]) < 0)
			return labels_error(b, file, line, "value %zu ('%.*s') is not a number",
					    i + 1,
					(int)(tl[i] > 40 ? 40 : tl[i]), tok[i]) < 0 ? FOLIO_ENOMEM : 1;
	for (size_t i = 1; i < nt; i++)
		if (!in_unit(v[i]))
			return labels_error(b, file, line,
					"value %zu (%g) is outside 0..1: YOLO coordinates are fractions of the image size",
					i + 1, v[i]) < 0 ? FOLIO_ENOMEM : 1;
	memset(o, 0, sizeof *o);
	if (nt <= 6) {
		o->box.w = v[3];
		o->box.h = v[4];
		o->box.x = v[1] - v[3] / 2;
		o->box.y = v[2] - v[4] / 2;
		if (nt == 6) {
			o->score = v[5];
			o->has_score = 1;
		}
	} else {
		double x0 = v[1], x1 = v[1], y0 = v[2], y1 = v[2];
		for (size_t i = 1; i + 1 < nt; i += 2) {
			x0 = fmin(x0, v[i]);
			x1 = fmax(x1, v[i]);
			y0 = fmin(y0, v[i + 1]);
			y1 = fmax(y1, v[i + 1]);
		}
		o->box = (folio_box){ x0, y0, x1 - x0, y1 - y0 };
	}
	o->has_box = 1;
	if (names)
		o->cls = strdup(names->v[cls]);
	else {
		snprintf(buf, sizeof buf, "%ld", cls);
		o->cls = strdup(buf);
	}
	if (!o->cls || (src->labeler && !(o->labeler = strdup(src->labeler)))) {
		labels_object_clear(o);
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	}
	return 0;
badclass:
	return labels_error(b, file, line, "class '%.*s' is not a class index",
			(int)(tl[0] > 40 ? 40 : tl[0]), tok[0]) < 0 ? FOLIO_ENOMEM : 1;
}

int labels_yolo_file(labels_builder *b, const labels_source *src, size_t entry, labels_names *names)
{
	const char *file = b->tree->v[entry].path;
	char *text = NULL;
	size_t len = 0;
	folio_annotation a;
	const char **tok = NULL;
	size_t *tl = NULL;
	int rc;

	memset(&a, 0, sizeof a);
	if ((rc = labels_read(b, entry, &text, &len)) != 0)
		return rc < 0 ? rc : 0;
	if (!(a.image = labels_yolo_image_for(b, file, src->images, src->path))) {
		rc = labels_error(b, file, 0,
				  "no image with this name beside it or in the matching images/ folder");
		goto cleanup;
	}
	if (memchr(text, '\0', len)) {
		rc = labels_error(b, file, 0, "binary file, not YOLO labels");
		goto cleanup;
	}
	if (!(a.source = strdup(file))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	a.format = FOLIO_LABELS_YOLO;
	a.prediction = src->prediction;
	/* The names file's order is the class order, used or not. */
	for (size_t i = 0; names && !names->registered && i < names->n; i++)
		if ((rc = labels_class(b, names->v[i])) < 0)
			goto cleanup;
	if (names)
		names->registered = 1;
	if (!(tok = malloc(MAX_TOKENS * sizeof *tok)) || !(tl = malloc(MAX_TOKENS * sizeof *tl))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	int line = 0;
	for (const char *p = text, *end = text + len; p < end && rc == 0;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		size_t nt = 0;
		line++;
		for (const char *s = p; s < e;) {
			while (s < e && (*s == ' ' || *s == '\t' || *s == '\r'))
				s++;
			if (s >= e)
				break;
			const char *t = s;
			while (s < e && *s != ' ' && *s != '\t' && *s != '\r')
				s++;
			if (nt < MAX_TOKENS) {
				tok[nt] = t;
				tl[nt] = (size_t)(s - t);
			}
			nt++;
		}
		p = nl ? nl + 1 : end;
		if (nt == 0)
			continue;
		folio_object o;
		rc = parse_line(b, file, line, tok, tl, nt, names, src, &o);
		if (rc == 0)
			rc = labels_add_object(&a, &o);
		else if (rc > 0)
			rc = 0;
	}
	if (rc < 0)
		goto cleanup;
	const char *split = src->split ? src->split : labels_split_from_path(a.image,
									     strlen(a.image));
	if (split && !(a.split = strdup(split))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	rc = labels_push(b, &a);
cleanup:
	labels_annotation_clear(&a);
	free(tok);
	free(tl);
	free(text);
	return rc;
}
