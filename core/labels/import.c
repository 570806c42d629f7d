/*
 * import.c — planning `folio import`: given an outside dataset and its
 * format, which files to copy into the dataset and which label sources to
 * declare in .folio/dataset.json (docs/labels.md, "folio import").
 *
 * A plan is data, made by reading the outside dataset and nothing else:
 * the repository is not touched, so a plan can be tested on a folder made
 * in a temp dir and its consumer (the CLI today, HEAD tools later) chooses
 * how to store it (core/repo's add pool walks the folders and stores the
 * files). Most formats are copied as they are laid out, label files
 * untouched, since core/labels reads them in place; the planner only finds
 * where the labels are (a COCO file among the JSON files, YOLO's labels/
 * folders and names file, ImageFolder's split folders). The one format
 * that is converted is IDX, whose images become PNG files: the plan then
 * holds the decoded pixels and one generated file per image.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "folio/error.h"
#include "labels_int.h"

/* Largest JSON file read while planning. */
#define JSON_MAX ((size_t)1 << 30)
/* Missing or refused COCO images named one by one; then only counted. */
#define WARN_EACH 5

static const struct {
	folio_import_format f;
	const char *name;
} import_formats[] = {
	{ FOLIO_IMPORT_COCO, "coco" },
	{ FOLIO_IMPORT_COCO_RESULTS, "coco-results" },
	{ FOLIO_IMPORT_VOC, "voc" },
	{ FOLIO_IMPORT_YOLO, "yolo" },
	{ FOLIO_IMPORT_IMAGEFOLDER, "imagefolder" },
	{ FOLIO_IMPORT_NATIVE, "native" },
	{ FOLIO_IMPORT_IDX, "idx" },
};

int folio_import_format_parse(folio_import_format *out, const char *name)
{
	for (size_t i = 0; i < sizeof import_formats / sizeof import_formats[0]; i++)
		if (strcmp(import_formats[i].name, name) == 0) {
			*out = import_formats[i].f;
			return 0;
		}
	return folio_error_set(FOLIO_EINVAL,
		"unknown import format '%s' (coco, coco-results, voc, yolo, imagefolder, native, idx)",
		name);
}

int labels_slurp(unsigned char **out, size_t *len, const char *path, size_t max)
{
	struct stat st;
	unsigned char *buf = NULL;
	size_t n = 0;
	int fd, rc = 0;

	*out = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return folio_error_errno(errno, "cannot read %s", path);
	if (fstat(fd, &st) < 0) {
		rc = folio_error_errno(errno, "cannot read %s", path);
		goto cleanup;
	}
	if ((uint64_t)st.st_size > max) {
		rc = folio_error_set(FOLIO_EINVAL, "%s is too large (more than %zu bytes)", path, max);
		goto cleanup;
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory reading %s", path);
		goto cleanup;
	}
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = folio_error_errno(r < 0 ? errno : EIO, "cannot read %s", path);
			goto cleanup;
		}
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
cleanup:
	free(buf);
	close(fd);
	return rc;
}

/* ---- the plan being made ---- */

typedef struct planner {
	folio_import_plan *pl;
	const folio_import_opts *o;
	const char *as;        /* where declared paths are joined to */
	int prediction;
} planner;

static void warn(const planner *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void warn(const planner *p, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!p->o->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	p->o->warn(msg, p->o->payload);
}

/* Appends a thing to copy; takes dest (freed on failure). */
static int add_file(folio_import_plan *pl, const char *src, int folder, char *dest,
		    const unsigned char *pixels)
{
	if (!dest)
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	if (pl->nfiles == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 64;
		folio_import_file *v = realloc(pl->files, cap * sizeof *v);
		if (!v) {
			free(dest);
			return folio_error_set(FOLIO_ENOMEM, "out of memory");
		}
		pl->files = v;
		pl->cap = cap;
	}
	folio_import_file *f = &pl->files[pl->nfiles];
	memset(f, 0, sizeof *f);
	f->dest = dest;
	f->folder = folder;
	f->pixels = pixels;
	if (src && !(f->src = strdup(src))) {
		free(dest);
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	}
	pl->nfiles++;
	return 0;
}

/* Copies one outside file to dest, which must be a valid dataset path. */
static int add_one(folio_import_plan *pl, const char *src, char *dest)
{
	int rc;

	if (dest && (rc = folio_path_validate(dest)) < 0) {
		free(dest);
		return folio_error_wrap(rc, "cannot import %s", src);
	}
	return add_file(pl, src, 0, dest, NULL);
}

/* The whole folder src goes to the destination folder. */
static int add_folder(planner *p, const char *src)
{
	return add_file(p->pl, src, 1, strdup(p->as), NULL);
}

/* Declares a source; rel and images are relative to the destination. */
static int declare(planner *p, folio_label_format format, const char *rel, const char *images,
		   const char *split)
{
	folio_import_plan *pl = p->pl;
	folio_label_source *v = realloc(pl->sources, (pl->nsources + 1) * sizeof *v);

	if (!v)
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	pl->sources = v;
	folio_label_source *s = &v[pl->nsources];
	memset(s, 0, sizeof *s);
	s->format = format;
	s->prediction = p->prediction;
	s->path = folio_path_join(p->as, rel);
	s->images = images ? folio_path_join(p->as, images) : NULL;
	s->split = split ? strdup(split) : NULL;
	if (!s->path || (images && !s->images) || (split && !s->split)) {
		folio_label_source_clear(s);
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	}
	pl->nsources++;
	return 0;
}

/* Sets a path member (names, gt) of the last declared source. */
static int declare_path(planner *p, char **member, const char *rel)
{
	free(*member);
	if (!(*member = folio_path_join(p->as, rel)))
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	return 0;
}

static folio_label_source *last_source(planner *p)
{
	return &p->pl->sources[p->pl->nsources - 1];
}

/* ---- looking around the outside dataset ---- */

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t l = strlen(s), k = strlen(suffix);

	return l >= k && strcasecmp(s + l - k, suffix) == 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct names {
	char **v;
	size_t n;
} names;

static void names_clear(names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
	memset(n, 0, sizeof *n);
}

/* Appends s (taken, freed on failure). */
static int names_push(names *n, char *s)
{
	char **v = s ? realloc(n->v, (n->n + 1) * sizeof *v) : NULL;

	if (!v) {
		free(s);
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	}
	(n->v = v)[n->n++] = s;
	return 0;
}

static void names_sort(names *n)
{
	if (n->n)
		qsort(n->v, n->n, sizeof *n->v, cmp_str);
}

/*
 * Relative paths under root/rel (depth more folders down) of the files
 * whose name ends in suffix or, with dirs, of the folders named suffix;
 * names starting with '.' are skipped. Sorted.
 */
static int find_under(names *out, const char *root, const char *rel, const char *suffix,
		      int dirs, int depth)
{
	char *dir = folio_path_join(root, rel);
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;
	int rc = 0;

	if (!dir)
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	if (!d) {
		free(dir);
		return 0;
	}
	while (rc == 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char *r = folio_path_join(rel, de->d_name), *full = folio_path_join(dir, de->d_name);
		if (!r || !full) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		} else if (is_dir(full)) {
			if (dirs && strcmp(de->d_name, suffix) == 0) {
				rc = names_push(out, r);
				r = NULL;
			} else if (depth > 0) {
				rc = find_under(out, root, r, suffix, dirs, depth - 1);
			}
		} else if (!dirs && ends_with(de->d_name, suffix)) {
			rc = names_push(out, r);
			r = NULL;
		}
		free(r);
		free(full);
	}
	closedir(d);
	free(dir);
	return rc;
}

static int find_files(names *out, const char *root, const char *suffix, int dirs, int depth)
{
	int rc = find_under(out, root, "", suffix, dirs, depth);

	names_sort(out);
	return rc;
}

/* Reads and parses an outside JSON file; *format is what it is (0: none). */
static int read_json(cJSON **out, folio_label_format *format, const char *path)
{
	unsigned char *text = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	*format = 0;
	if ((rc = labels_slurp(&text, &len, path, JSON_MAX)) < 0)
		return rc;
	*out = cJSON_ParseWithLength((const char *)text, len);
	free(text);
	if (!*out)
		return folio_error_set(FOLIO_EINVAL, "%s is not valid JSON", path);
	*format = labels_sniff_root(*out);
	return 0;
}

/* ---- per format ---- */

/* A COCO instances file and the images it names. */
static int plan_coco_file(planner *p, const char *json, const char *images_dir)
{
	folio_import_plan *pl = p->pl;
	cJSON *root = NULL;
	folio_label_format f;
	char *jdir = NULL;
	int rc;

	if ((rc = read_json(&root, &f, json)) < 0)
		return rc;
	if (f != FOLIO_LABELS_COCO) {
		rc = folio_error_set(FOLIO_EINVAL, "%s is not a COCO instances file (" LABELS_COCO_NEEDS ")",
				     json);
		goto cleanup;
	}
	if (!images_dir) {
		const char *s = strrchr(json, '/');
		if (!(jdir = s ? strndup(json, (size_t)(s - json)) : strdup("."))) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto cleanup;
		}
		images_dir = jdir;
	}
	if ((rc = add_one(pl, json, folio_path_join(p->as, labels_basename(json)))) < 0 ||
	    (rc = declare(p, FOLIO_LABELS_COCO, labels_basename(json), NULL, NULL)) < 0)
		goto cleanup;
	/* the images the file names, at the same relative paths */
	const cJSON *im;
	cJSON_ArrayForEach(im, cJSON_GetObjectItemCaseSensitive(root, "images")) {
		const cJSON *fn = cJSON_GetObjectItemCaseSensitive(im, "file_name");
		if (!cJSON_IsString(fn))
			continue;
		if (folio_path_validate(fn->valuestring) < 0) {
			if (pl->refused++ < WARN_EACH)
				warn(p, "not copying '%s': %s", fn->valuestring, folio_error_last());
			continue;
		}
		char *src = folio_path_join(images_dir, fn->valuestring);
		if (!src) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto cleanup;
		}
		if (!is_file(src)) {
			if (pl->missing++ < WARN_EACH)
				warn(p, "image %s is missing", src);
		} else {
			rc = add_file(pl, src, 0, folio_path_join(p->as, fn->valuestring), NULL);
		}
		free(src);
		if (rc < 0)
			goto cleanup;
	}
	if (pl->missing || pl->refused)
		warn(p, "%zu images missing, %zu paths refused", pl->missing, pl->refused);
cleanup:
	free(jdir);
	cJSON_Delete(root);
	return rc;
}

/* A folder with COCO files: one source per instances file, copied whole. */
static int plan_coco(planner *p, const char *src, const char *images)
{
	names js = { 0 };
	size_t n = 0;
	int rc;

	if (!is_dir(src))
		return plan_coco_file(p, src, images);
	if ((rc = find_files(&js, src, ".json", 0, 3)) < 0)
		goto cleanup;
	for (size_t i = 0; i < js.n && rc == 0; i++) {
		char *full = folio_path_join(src, js.v[i]);
		cJSON *root = NULL;
		folio_label_format f = 0;
		if (!full) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			break;
		}
		/* a JSON file that cannot be read or parsed is simply not a
		 * COCO file; only running out of memory stops the plan */
		if (read_json(&root, &f, full) == FOLIO_ENOMEM)
			rc = FOLIO_ENOMEM;
		else if (f == FOLIO_LABELS_COCO && (rc = declare(p, f, js.v[i], images, NULL)) == 0)
			n++;
		cJSON_Delete(root);
		free(full);
	}
	if (rc == 0 && n == 0)
		rc = folio_error_set(FOLIO_EINVAL, "no COCO instances JSON file in %s", src);
	if (rc == 0)
		rc = add_folder(p, src);
cleanup:
	names_clear(&js);
	return rc;
}

static int plan_voc(planner *p, const char *src)
{
	char *ann = folio_path_join(src, "Annotations"), *img = folio_path_join(src, "JPEGImages");
	int rc;

	if (!ann || !img)
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
	else if (!is_dir(ann))
		rc = folio_error_set(FOLIO_EINVAL, "%s is not a Pascal VOC folder: it has no Annotations/", src);
	else if ((rc = declare(p, FOLIO_LABELS_VOC, "Annotations", is_dir(img) ? "JPEGImages" : NULL,
			       NULL)) == 0)
		rc = add_folder(p, src);
	free(ann);
	free(img);
	return rc;
}

static int plan_yolo(planner *p, const char *src)
{
	static const char *const candidates[] = {
		"data.yaml", "data.yml", "classes.txt", "labels/classes.txt", NULL,
	};
	names labels = { 0 }, nm = { 0 };
	const char *names_file = NULL;
	int rc = 0;

	for (size_t i = 0; candidates[i] && !names_file; i++) {
		char *f = folio_path_join(src, candidates[i]);
		if (!f)
			return folio_error_set(FOLIO_ENOMEM, "out of memory");
		if (is_file(f))
			names_file = candidates[i];
		free(f);
	}
	if (!names_file && (rc = find_files(&nm, src, ".names", 0, 1)) == 0 && nm.n)
		names_file = nm.v[0];
	if (rc < 0)
		goto cleanup;
	if (!names_file)
		warn(p, "no data.yaml, *.names or classes.txt in %s: classes will be numbers", src);
	if ((rc = find_files(&labels, src, "labels", 1, 2)) < 0)
		goto cleanup;
	/* one source per labels/ folder, else the whole folder */
	for (size_t i = 0; i < (labels.n ? labels.n : 1) && rc == 0; i++)
		if ((rc = declare(p, FOLIO_LABELS_YOLO, labels.n ? labels.v[i] : "", NULL, NULL)) == 0 &&
		    names_file)
			rc = declare_path(p, &last_source(p)->names, names_file);
	if (rc == 0)
		rc = add_folder(p, src);
cleanup:
	names_clear(&labels);
	names_clear(&nm);
	return rc;
}

static int is_split_word(const char *s)
{
	static const char *const w[] = { "train", "training", "val", "valid", "validation",
					 "test", "testing", NULL };
	for (size_t i = 0; w[i]; i++)
		if (strcasecmp(s, w[i]) == 0)
			return 1;
	return 0;
}

/* class/img, or split/class/img when every top folder is a split. */
static int plan_imagefolder(planner *p, const char *src)
{
	DIR *d = opendir(src);
	struct dirent *de;
	names splits = { 0 };
	int others = 0, rc = 0;

	if (!d)
		return folio_error_errno(errno, "cannot read folder %s", src);
	while (rc == 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char *f = folio_path_join(src, de->d_name);
		if (!f)
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		else if (is_dir(f) && !is_split_word(de->d_name))
			others++;
		else if (is_dir(f))
			rc = names_push(&splits, strdup(de->d_name));
		free(f);
	}
	closedir(d);
	names_sort(&splits);
	if (rc == 0 && splits.n && !others)
		for (size_t i = 0; i < splits.n && rc == 0; i++)
			rc = declare(p, FOLIO_LABELS_IMAGEFOLDER, splits.v[i], NULL, splits.v[i]);
	else if (rc == 0)
		rc = declare(p, FOLIO_LABELS_IMAGEFOLDER, "", NULL, NULL);
	names_clear(&splits);
	return rc ? rc : add_folder(p, src);
}

/* Every image a PNG at <split>/<class>/<n>.png; one source per split. */
static int plan_idx(planner *p, const char *src, long limit)
{
	folio_import_plan *pl = p->pl;
	folio_idx *idx = &pl->idx;
	size_t frame;
	int rc;

	if ((rc = folio_idx_read(idx, src, limit)) < 0)
		return rc;
	frame = (size_t)idx->rows * (size_t)idx->cols;
	for (size_t f = 0; f < idx->nsets && rc == 0; f++) {
		const folio_idx_set *x = &idx->sets[f];
		int digits = 1, seen = 0;
		for (size_t k = x->count > 0 ? x->count - 1 : 0; k >= 10; k /= 10)
			digits++;
		for (size_t i = 0; i < x->count && rc == 0; i++) {
			char *dest = NULL;
			if (asprintf(&dest, "%s%s%s/%s/%0*zu.png", p->as, *p->as ? "/" : "", x->split,
				     folio_idx_class(idx, x->classes[i]), digits, i) < 0)
				dest = NULL;
			rc = add_file(pl, NULL, 0, dest, x->pixels + i * frame);
		}
		for (size_t k = 0; k < f; k++)
			seen |= strcmp(idx->sets[k].split, x->split) == 0;
		if (rc == 0 && !seen)
			rc = declare(p, FOLIO_LABELS_IMAGEFOLDER, x->split, NULL, x->split);
	}
	if (rc == 0 && !(pl->classes = calloc(10, sizeof *pl->classes)))
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
	for (unsigned k = 0; k < 10 && rc == 0; k++) {
		if (!(pl->classes[k] = strdup(folio_idx_class(idx, k))))
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		else
			pl->nclasses++;
	}
	return rc;
}

/* A results file, to --as or predictions/<name>. */
static int plan_coco_results(planner *p, const char *src, int is_folder)
{
	char *dest;
	int rc;

	if (is_folder)
		return folio_error_set(FOLIO_EINVAL, "coco-results wants a JSON file, not the folder %s",
				       src);
	dest = *p->as ? strdup(p->as) : folio_path_join("predictions", labels_basename(src));
	/* the destination is a file: declared paths are from the root */
	p->as = "";
	p->prediction = 1;
	if (!dest)
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	if ((rc = declare(p, FOLIO_LABELS_COCO_RESULTS, dest, NULL, NULL)) < 0 ||
	    (p->o->gt && (rc = declare_path(p, &last_source(p)->gt, p->o->gt)) < 0)) {
		free(dest);
		return rc;
	}
	return add_one(p->pl, src, dest);
}

int folio_import_plan_make(folio_import_plan *out, folio_import_format format, const char *src,
			   const folio_import_opts *opts)
{
	static const folio_import_opts none = { .limit = -1 };
	planner p;
	struct stat st;
	int rc, is_folder;

	memset(out, 0, sizeof *out);
	if (!opts)
		opts = &none;
	p.pl = out;
	p.o = opts;
	p.as = opts->as ? opts->as : "";
	p.prediction = opts->prediction;
	if (format < FOLIO_IMPORT_COCO || format > FOLIO_IMPORT_IDX)
		return folio_error_set(FOLIO_EINVAL, "unknown import format %d", (int)format);
	if (*p.as && (rc = folio_path_validate(p.as)) < 0)
		return rc;
	if (stat(src, &st) < 0)
		return folio_error_errno(errno, "cannot import %s", src);
	is_folder = S_ISDIR(st.st_mode);
	if (format == FOLIO_IMPORT_COCO_RESULTS)
		rc = plan_coco_results(&p, src, is_folder);
	else if (format == FOLIO_IMPORT_COCO)
		rc = plan_coco(&p, src, opts->images);
	else if (!is_folder)
		rc = folio_error_set(FOLIO_EINVAL, "--format %s wants a folder; %s is not one",
				     import_formats[format - 1].name, src);
	else if (format == FOLIO_IMPORT_VOC)
		rc = plan_voc(&p, src);
	else if (format == FOLIO_IMPORT_YOLO)
		rc = plan_yolo(&p, src);
	else if (format == FOLIO_IMPORT_IMAGEFOLDER)
		rc = plan_imagefolder(&p, src);
	else if (format == FOLIO_IMPORT_NATIVE)
		rc = (rc = declare(&p, FOLIO_LABELS_NATIVE, "", NULL, NULL)) < 0 ? rc : add_folder(&p, src);
	else
		rc = plan_idx(&p, src, opts->limit);
	if (rc == 0 && !(out->as = strdup(p.as)))
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
	if (rc < 0)
		folio_import_plan_clear(out);
	return rc;
}

void folio_import_plan_clear(folio_import_plan *pl)
{
	for (size_t i = 0; i < pl->nfiles; i++) {
		free(pl->files[i].src);
		free(pl->files[i].dest);
	}
	free(pl->files);
	for (size_t i = 0; i < pl->nsources; i++)
		folio_label_source_clear(&pl->sources[i]);
	free(pl->sources);
	for (size_t i = 0; i < pl->nclasses; i++)
		free(pl->classes[i]);
	free(pl->classes);
	free(pl->as);
	folio_idx_clear(&pl->idx);
	memset(pl, 0, sizeof *pl);
}

int folio_import_dataset_json(char **out, size_t *len, const folio_import_plan *plan,
			      const char *old, size_t oldlen, const folio_tree *stage)
{
	const char *as = plan->as ? plan->as : "";
	int others = 0;

	/* a new file keeps other files' labels detected ("auto") when the
	 * stage has files outside the imported folder */
	for (size_t i = 0; i < stage->n && !others; i++)
		others = !*as || !folio_path_under(stage->v[i].path, as);
	return folio_dataset_json_merge(out, len, ".folio/dataset.json in the stage", old, oldlen,
					plan->sources, plan->nsources, plan->classes, plan->nclasses,
					others);
}
