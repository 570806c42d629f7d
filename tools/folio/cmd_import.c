/*
 * cmd_import.c — import and labels: bringing an outside dataset in, and
 * showing the labels a version has.
 *
 * import copies a dataset into the staged tree as it is laid out, label
 * files untouched (they are read in place by core/labels), and declares
 * its label sources in .folio/dataset.json, merging with what is declared
 * there already. The one format that is converted is IDX (MNIST and
 * Fashion-MNIST): its images become PNG files (libvips) in ImageFolder
 * layout, <split>/<class>/<n>.png.
 *
 * Files are stored by a pool of threads like `folio add` does (each job
 * owned by one thread from read to store; shared state is an atomic
 * counter and the first error), under a shared objects lock so gc cannot
 * drop them before the stage refers to them; the stage is re-read, merged
 * and saved under the repository lock.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vips/vips.h>

#include "cli.h"
#include "folio/labels.h"

#define DATASET_JSON ".folio/dataset.json"
/* Largest decompressed IDX file accepted (Fashion-MNIST train: 47 MB). */
#define IDX_MAX ((size_t)2 << 30)

/* ---- the job list ---- */

typedef struct ijob {
	char *src;                   /* file to copy, or NULL (generated) */
	const unsigned char *pixels; /* idx: rows x cols grey pixels */
	folio_entry e;               /* e.path: destination; rest filled by a worker */
} ijob;

typedef struct ijobs {
	ijob *v;
	size_t n, cap;
} ijobs;

static int push_job(ijobs *l, const char *src, char *dest, const unsigned char *pixels)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		ijob *v = realloc(l->v, cap * sizeof *v);
		if (!v) {
			free(dest);
			return folio_error_set(FOLIO_ENOMEM, "out of memory listing files");
		}
		l->v = v;
		l->cap = cap;
	}
	ijob *j = &l->v[l->n];
	memset(j, 0, sizeof *j);
	j->e.path = dest;
	j->pixels = pixels;
	if (src && !(j->src = strdup(src))) {
		free(dest);
		return folio_error_set(FOLIO_ENOMEM, "out of memory listing files");
	}
	l->n++;
	return 0;
}

static void free_jobs(ijobs *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].src);
		free(l->v[i].e.path);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

/* Adds every regular file under the folder src (following symbolic links
 * to files, not to folders) as dest/<relative path>. */
static int collect(ijobs *l, const char *src, const char *dest)
{
	DIR *d = opendir(src);
	struct dirent *de;
	int rc = 0;

	if (!d)
		return folio_error_errno(errno, "cannot read folder %s", src);
	errno = 0;
	while (rc == 0 && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !strcmp(de->d_name, ".git"))
			continue;
		char *s = folio_path_join(src, de->d_name), *t = folio_path_join(dest, de->d_name);
		struct stat st;
		if (!s || !t) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		} else if (lstat(s, &st) < 0) {
			rc = folio_error_errno(errno, "cannot import %s", s);
		} else if (S_ISLNK(st.st_mode) && (stat(s, &st) < 0 || S_ISDIR(st.st_mode))) {
			/* links to files are followed; links to folders are not
			 * (they may loop) */
			fprintf(stderr, "folio import: skipping %s: a link to a folder or to nothing\n", s);
		} else if (S_ISDIR(st.st_mode)) {
			rc = collect(l, s, t);
		} else if (S_ISREG(st.st_mode)) {
			if ((rc = folio_path_validate(t)) < 0)
				rc = folio_error_wrap(rc, "cannot import %s", s);
			else {
				rc = push_job(l, s, t, NULL);
				t = NULL;
			}
		} else {
			fprintf(stderr, "folio import: skipping %s: not a file or folder\n", s);
		}
		free(s);
		free(t);
		errno = 0;
	}
	if (rc == 0 && errno)
		rc = folio_error_errno(errno, "cannot read folder %s", src);
	closedir(d);
	return rc;
}

/* ---- storing, in parallel ---- */

typedef struct pool {
	ijobs *jobs;
	folio_repo *repo;
	int rows, cols;               /* idx images */
	atomic_size_t next, finished;
	atomic_uint_fast64_t bytes;
	atomic_int failed;
	pthread_mutex_t lock;         /* guards err_rc, err_msg */
	int err_rc;
	char err_msg[1024];
} pool;

static int store_file(pool *p, ijob *j)
{
	unsigned char sniff[FOLIO_CLASSIFY_SNIFF];
	struct stat st;
	uint64_t size = 0;
	int fd, rc = 0;

	if ((fd = open(j->src, O_RDONLY | O_CLOEXEC)) < 0)
		return folio_error_errno(errno, "cannot read %s", j->src);
	ssize_t n = pread(fd, sniff, sizeof sniff, 0);
	if (n < 0 || fstat(fd, &st) < 0) {
		rc = folio_error_errno(errno, "cannot read %s", j->src);
		goto done;
	}
	if ((rc = folio_store_put_fd(&j->e.oid, &size, NULL, p->repo->store, fd, j->src)) < 0)
		goto done;
	j->e.kind = folio_classify(j->e.path, size, sniff, (size_t)n);
	j->e.size = size;
	j->e.mode = (st.st_mode & 0111) ? FOLIO_MODE_EXEC : FOLIO_MODE_FILE;
	j->e.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
done:
	close(fd);
	return rc;
}

static int store_png(pool *p, ijob *j)
{
	VipsImage *im;
	void *buf = NULL;
	size_t len = 0;
	int rc;

	im = vips_image_new_from_memory(j->pixels, (size_t)p->rows * (size_t)p->cols, p->cols,
					p->rows, 1, VIPS_FORMAT_UCHAR);
	if (!im)
		return folio_error_set(FOLIO_ENOMEM, "cannot make image %s: %s", j->e.path,
				       vips_error_buffer());
	/* The PNG goes straight to the store: no temp file per image. */
	if (vips_pngsave_buffer(im, &buf, &len, "strip", TRUE, NULL) != 0) {
		rc = folio_error_set(FOLIO_ERROR, "cannot encode %s as PNG: %s", j->e.path,
				     vips_error_buffer());
		vips_error_clear();
		g_object_unref(im);
		return rc;
	}
	g_object_unref(im);
	rc = folio_store_put_buf(&j->e.oid, p->repo->store, buf, len);
	g_free(buf);
	if (rc < 0)
		return rc;
	j->e.kind = FOLIO_ENTRY_LFS;
	j->e.mode = FOLIO_MODE_FILE;
	j->e.size = len;
	return 0;
}

static void *worker(void *arg)
{
	pool *p = arg;

	for (;;) {
		if (atomic_load(&p->failed))
			break;
		size_t i = atomic_fetch_add(&p->next, 1);
		if (i >= p->jobs->n)
			break;
		ijob *j = &p->jobs->v[i];
		int rc = j->src ? store_file(p, j) : store_png(p, j);
		if (rc < 0) {
			pthread_mutex_lock(&p->lock);
			if (!p->err_rc) {
				p->err_rc = rc;
				snprintf(p->err_msg, sizeof p->err_msg, "%s", folio_error_last());
			}
			pthread_mutex_unlock(&p->lock);
			atomic_store(&p->failed, 1);
			break;
		}
		atomic_fetch_add(&p->bytes, j->e.size);
		atomic_fetch_add(&p->finished, 1);
	}
	return NULL;
}

static int run_pool(folio_repo *repo, ijobs *jobs, long nthreads, int rows, int cols)
{
	pool p;
	pthread_t *threads = NULL;
	progress pr;
	long started = 0;
	int rc = 0;

	memset(&p, 0, sizeof p);
	pthread_mutex_init(&p.lock, NULL);
	p.jobs = jobs;
	p.repo = repo;
	p.rows = rows;
	p.cols = cols;
	if ((size_t)nthreads > jobs->n)
		nthreads = jobs->n ? (long)jobs->n : 1;
	if (!(threads = calloc((size_t)nthreads, sizeof *threads))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	progress_begin(&pr, "import", jobs->n);
	for (; started < nthreads; started++)
		if (pthread_create(&threads[started], NULL, worker, &p) != 0)
			break;
	if (started == 0) {
		rc = folio_error_set(FOLIO_ERROR, "cannot start threads");
		goto cleanup;
	}
	while (atomic_load(&p.finished) < jobs->n && !atomic_load(&p.failed)) {
		progress_update(&pr, atomic_load(&p.finished), atomic_load(&p.bytes));
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	for (long i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	progress_update(&pr, atomic_load(&p.finished), atomic_load(&p.bytes));
	progress_end(&pr);
	if (p.err_rc)
		rc = folio_error_set(p.err_rc, "%s; nothing was imported", p.err_msg);
cleanup:
	free(threads);
	pthread_mutex_destroy(&p.lock);
	return rc;
}

/* ---- reading outside files ---- */

static int slurp(unsigned char **out, size_t *len, const char *path, size_t max)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char *buf = NULL;
	size_t n = 0;

	*out = NULL;
	*len = 0;
	if (fd < 0)
		return folio_error_errno(errno, "cannot read %s", path);
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return folio_error_errno(e, "cannot read %s", path);
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return folio_error_set(FOLIO_EINVAL, "%s is too large (more than %zu bytes)", path, max);
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return folio_error_set(FOLIO_ENOMEM, "out of memory reading %s", path);
	}
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int e = r < 0 ? errno : EIO;
			free(buf);
			close(fd);
			return folio_error_errno(e, "cannot read %s", path);
		}
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static cJSON *read_json(const char *path)
{
	unsigned char *text = NULL;
	size_t len = 0;
	cJSON *j;

	if (slurp(&text, &len, path, (size_t)1 << 30) < 0)
		return NULL;
	j = cJSON_ParseWithLength((const char *)text, len);
	free(text);
	if (!j)
		folio_error_set(FOLIO_EINVAL, "%s is not valid JSON", path);
	return j;
}

static int is_coco(const cJSON *j)
{
	return cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "images")) &&
	       cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "annotations"));
}

static int ends_with(const char *s, const char *suffix)
{
	size_t l = strlen(s), k = strlen(suffix);

	return l >= k && strcasecmp(s + l - k, suffix) == 0;
}

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

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* ---- declared sources ---- */

typedef struct plan {
	const char *as;       /* destination folder in the tree ("" root) */
	int prediction;
	cJSON *sources;       /* array of source objects to declare */
	cJSON *classes;       /* array of class names to declare, or NULL */
	ijobs jobs;
	int rows, cols;       /* idx */
	unsigned char **bufs; /* idx: decoded files, freed at the end */
	size_t nbufs;
} plan;

static int declare(plan *pl, const char *format, const char *rel, const char *images,
		   const char *split)
{
	cJSON *o = cJSON_CreateObject();
	char *path = folio_path_join(pl->as, rel), *img = images ? folio_path_join(pl->as, images) : NULL;

	if (!o || !path || (images && !img)) {
		cJSON_Delete(o);
		free(path);
		free(img);
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	}
	cJSON_AddStringToObject(o, "format", format);
	cJSON_AddStringToObject(o, "path", path);
	if (img)
		cJSON_AddStringToObject(o, "images", img);
	if (split)
		cJSON_AddStringToObject(o, "split", split);
	if (pl->prediction)
		cJSON_AddTrueToObject(o, "prediction");
	cJSON_AddItemToArray(pl->sources, o);
	free(path);
	free(img);
	return 0;
}

/* Sets a string member of the last declared source (path-like: joined
 * with --as). */
static int declare_extra(plan *pl, const char *key, const char *rel)
{
	cJSON *last = cJSON_GetArrayItem(pl->sources, cJSON_GetArraySize(pl->sources) - 1);
	char *v = folio_path_join(pl->as, rel);

	if (!last || !v) {
		free(v);
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	}
	cJSON_AddStringToObject(last, key, v);
	free(v);
	return 0;
}

static int copy_folder(plan *pl, const char *src)
{
	return collect(&pl->jobs, src, pl->as);
}

/* Relative paths of the files under root (recursive) whose name ends in
 * suffix, for detection; depth-limited. */
typedef struct names {
	char **v;
	size_t n;
} names;

static void names_free(names *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
	memset(n, 0, sizeof *n);
}

static int find_files(names *out, const char *root, const char *rel, const char *suffix,
		      int dirs, int depth)
{
	char *dir = *rel ? folio_path_join(root, rel) : strdup(root);
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;
	int rc = 0;

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
				char **v = realloc(out->v, (out->n + 1) * sizeof *v);
				if (!v)
					rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
				else {
					(out->v = v)[out->n++] = r;
					r = NULL;
				}
			} else if (depth > 0) {
				rc = find_files(out, root, r, suffix, dirs, depth - 1);
			}
		} else if (!dirs && ends_with(de->d_name, suffix)) {
			char **v = realloc(out->v, (out->n + 1) * sizeof *v);
			if (!v)
				rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			else {
				(out->v = v)[out->n++] = r;
				r = NULL;
			}
		}
		free(r);
		free(full);
	}
	closedir(d);
	free(dir);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- per format ---- */

static int plan_coco_file(plan *pl, const char *json, const char *images_dir)
{
	cJSON *j = read_json(json);
	char *jdir = NULL;
	int rc = 0;

	if (!j)
		return FOLIO_EINVAL;
	if (!is_coco(j)) {
		rc = folio_error_set(FOLIO_EINVAL, "%s is not a COCO instances file (no \"images\" and \"annotations\")", json);
		goto cleanup;
	}
	if (!images_dir) {
		const char *s = strrchr(json, '/');
		jdir = s ? strndup(json, (size_t)(s - json)) : strdup(".");
		if (!jdir) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto cleanup;
		}
		images_dir = jdir;
	}
	char *dest = folio_path_join(pl->as, base_name(json));
	if (!dest || (rc = push_job(&pl->jobs, json, dest, NULL)) < 0) {
		rc = dest ? rc : folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	if ((rc = declare(pl, "coco", base_name(json), NULL, NULL)) < 0)
		goto cleanup;
	/* Copy the images the file names, at the same relative paths. */
	size_t missing = 0, refused = 0;
	const cJSON *im;
	cJSON_ArrayForEach(im, cJSON_GetObjectItemCaseSensitive(j, "images")) {
		const cJSON *fn = cJSON_GetObjectItemCaseSensitive(im, "file_name");
		if (!cJSON_IsString(fn))
			continue;
		if (folio_path_validate(fn->valuestring) < 0) {
			if (refused++ < 5)
				fprintf(stderr, "folio import: not copying '%s': %s\n", fn->valuestring,
					folio_error_last());
			continue;
		}
		char *src = folio_path_join(images_dir, fn->valuestring), *d = folio_path_join(pl->as, fn->valuestring);
		if (!src || !d) {
			free(src);
			free(d);
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto cleanup;
		}
		if (!is_file(src)) {
			if (missing++ < 5)
				fprintf(stderr, "folio import: image %s is missing\n", src);
			free(src);
			free(d);
			continue;
		}
		rc = push_job(&pl->jobs, src, d, NULL);
		free(src);
		if (rc < 0)
			goto cleanup;
	}
	if (missing || refused)
		fprintf(stderr, "folio import: %zu images missing, %zu paths refused\n", missing, refused);
cleanup:
	free(jdir);
	cJSON_Delete(j);
	return rc;
}

static int plan_coco(plan *pl, const char *src, const char *images_dir)
{
	names js = { 0 };
	int rc, n = 0;

	if (!is_dir(src))
		return plan_coco_file(pl, src, images_dir);
	if ((rc = find_files(&js, src, "", ".json", 0, 3)) < 0)
		goto cleanup;
	if (js.n)
		qsort(js.v, js.n, sizeof *js.v, cmp_str);
	for (size_t i = 0; i < js.n; i++) {
		char *full = folio_path_join(src, js.v[i]);
		cJSON *j = full ? read_json(full) : NULL;
		if (j && is_coco(j)) {
			if ((rc = declare(pl, "coco", js.v[i], images_dir, NULL)) < 0) {
				free(full);
				cJSON_Delete(j);
				goto cleanup;
			}
			n++;
		}
		free(full);
		cJSON_Delete(j);
	}
	if (n == 0) {
		rc = folio_error_set(FOLIO_EINVAL, "no COCO instances JSON file in %s", src);
		goto cleanup;
	}
	rc = copy_folder(pl, src);
cleanup:
	names_free(&js);
	return rc;
}

static int plan_voc(plan *pl, const char *src)
{
	char *ann = folio_path_join(src, "Annotations"), *img = folio_path_join(src, "JPEGImages");
	int rc;

	if (!ann || !img)
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
	else if (!is_dir(ann))
		rc = folio_error_set(FOLIO_EINVAL, "%s is not a Pascal VOC folder: it has no Annotations/", src);
	else if ((rc = declare(pl, "voc", "Annotations", is_dir(img) ? "JPEGImages" : NULL, NULL)) == 0)
		rc = copy_folder(pl, src);
	free(ann);
	free(img);
	return rc;
}

static int plan_yolo(plan *pl, const char *src)
{
	static const char *const candidates[] = {
		"data.yaml", "data.yml", "classes.txt", "labels/classes.txt", NULL,
	};
	names labels = { 0 }, nm = { 0 };
	const char *names_file = NULL;
	char *found = NULL;
	int rc;

	for (size_t i = 0; candidates[i] && !names_file; i++) {
		char *p = folio_path_join(src, candidates[i]);
		if (p && is_file(p))
			names_file = candidates[i];
		free(p);
	}
	if (!names_file && (rc = find_files(&nm, src, "", ".names", 0, 1)) == 0 && nm.n) {
		qsort(nm.v, nm.n, sizeof *nm.v, cmp_str);
		names_file = found = nm.v[0];
	}
	if (!names_file)
		fprintf(stderr, "folio import: no data.yaml, *.names or classes.txt in %s: "
				"classes will be numbers\n", src);
	if ((rc = find_files(&labels, src, "", "labels", 1, 2)) < 0)
		goto cleanup;
	if (labels.n)
		qsort(labels.v, labels.n, sizeof *labels.v, cmp_str);
	for (size_t i = 0; i < labels.n && rc == 0; i++)
		if ((rc = declare(pl, "yolo", labels.v[i], NULL, NULL)) == 0 && names_file)
			rc = declare_extra(pl, "names", names_file);
	if (rc == 0 && labels.n == 0 && (rc = declare(pl, "yolo", "", NULL, NULL)) == 0 && names_file)
		rc = declare_extra(pl, "names", names_file);
	if (rc == 0)
		rc = copy_folder(pl, src);
cleanup:
	names_free(&labels);
	names_free(&nm);
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

static int plan_imagefolder(plan *pl, const char *src)
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
		char *p = folio_path_join(src, de->d_name);
		if (!p) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		} else if (is_dir(p) && !is_split_word(de->d_name)) {
			others++;
		} else if (is_dir(p)) {
			char **v = realloc(splits.v, (splits.n + 1) * sizeof *v);
			if (v)
				splits.v = v;
			if (!v || !(v[splits.n] = strdup(de->d_name)))
				rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			else
				splits.n++;
		}
		free(p);
	}
	closedir(d);
	if (splits.n)
		qsort(splits.v, splits.n, sizeof *splits.v, cmp_str);
	/* split/class/img when every top folder is a split, else class/img */
	if (rc < 0) {
		names_free(&splits);
		return rc;
	}
	if (splits.n && !others)
		for (size_t i = 0; i < splits.n && rc == 0; i++)
			rc = declare(pl, "imagefolder", splits.v[i], NULL, splits.v[i]);
	else
		rc = declare(pl, "imagefolder", "", NULL, NULL);
	names_free(&splits);
	return rc ? rc : copy_folder(pl, src);
}

/* ---- IDX (MNIST, Fashion-MNIST) ---- */

static const char *const fashion_classes[10] = {
	"t-shirt-top", "trouser", "pullover", "dress", "coat",
	"sandal", "shirt", "sneaker", "bag", "ankle-boot",
};
static const char *const digit_classes[10] = {
	"0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
};

/* Decompresses a gzip file with GIO's zlib converter (libvips' GLib). */
static int gunzip(unsigned char **out, size_t *outlen, const unsigned char *in, size_t inlen,
		  const char *name)
{
	GZlibDecompressor *z = g_zlib_decompressor_new(G_ZLIB_COMPRESSOR_FORMAT_GZIP);
	size_t cap = inlen * 4 + 4096, n = 0, off = 0;
	unsigned char *buf = malloc(cap);
	int rc = 0;

	if (!buf) {
		g_object_unref(z);
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	}
	for (;;) {
		gsize r = 0, w = 0;
		GError *err = NULL;
		if (n == cap) {
			if (cap >= IDX_MAX) {
				rc = folio_error_set(FOLIO_EINVAL, "%s: decompresses to more than %zu bytes",
						     name, IDX_MAX);
				break;
			}
			unsigned char *nb = realloc(buf, cap * 2);
			if (!nb) {
				rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
				break;
			}
			buf = nb;
			cap *= 2;
		}
		GConverterResult res = g_converter_convert(G_CONVERTER(z), in + off, inlen - off,
							   buf + n, cap - n, G_CONVERTER_INPUT_AT_END,
							   &r, &w, &err);
		off += r;
		n += w;
		if (res == G_CONVERTER_ERROR) {
			if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_NO_SPACE)) {
				g_error_free(err);
				n = cap; /* grow */
				continue;
			}
			rc = folio_error_set(FOLIO_EINVAL, "%s: bad gzip data: %s", name, err->message);
			g_error_free(err);
			break;
		}
		if (res == G_CONVERTER_FINISHED)
			break;
	}
	g_object_unref(z);
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*out = buf;
	*outlen = n;
	return 0;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads an IDX file (gzip or not); checks magic and dimensions. */
static int read_idx(unsigned char **out, size_t *len, const char *path, int ndims,
		    uint32_t dims[3])
{
	unsigned char *raw = NULL, *data = NULL;
	size_t rawlen = 0, n = 0;
	int rc;

	if ((rc = slurp(&raw, &rawlen, path, IDX_MAX)) < 0)
		return rc;
	if (rawlen >= 2 && raw[0] == 0x1f && raw[1] == 0x8b) {
		rc = gunzip(&data, &n, raw, rawlen, path);
		free(raw);
		if (rc < 0)
			return rc;
	} else {
		data = raw;
		n = rawlen;
	}
	size_t hdr = 4 + 4 * (size_t)ndims, want = 1;
	if (n < hdr || data[0] || data[1] || data[2] != 0x08 || data[3] != ndims) {
		free(data);
		return folio_error_set(FOLIO_EINVAL, "%s is not an IDX file of unsigned bytes with %d dimensions",
				       path, ndims);
	}
	for (int i = 0; i < ndims; i++) {
		dims[i] = be32(data + 4 + 4 * i);
		if (i > 0 && (dims[i] == 0 || dims[i] > 4096)) {
			free(data);
			return folio_error_set(FOLIO_EINVAL, "%s: image size %u is out of range", path, dims[i]);
		}
		want *= dims[i];
	}
	if (n - hdr < want) {
		free(data);
		return folio_error_set(FOLIO_EINVAL, "%s is truncated: %zu bytes of data, %zu expected",
				       path, n - hdr, want);
	}
	memmove(data, data + hdr, want);
	*out = data;
	*len = want;
	return 0;
}

/* "train-images-idx3-ubyte.gz" -> prefix "train"; NULL if not an images file. */
static char *idx_prefix(const char *name, const char *kind)
{
	static const char *const seps[] = { "-%s-idx", "-%s.idx", NULL };

	for (size_t i = 0; seps[i]; i++) {
		char pat[32];
		snprintf(pat, sizeof pat, seps[i], kind);
		const char *s = strstr(name, pat);
		if (s && s > name)
			return strndup(name, (size_t)(s - name));
	}
	return NULL;
}

/* One images file with its labels. */
typedef struct idxset {
	char *split;
	unsigned char *pix, *labels;
	size_t count;
} idxset;

static int read_idx_pair(idxset *out, plan *pl, const char *src, const char *name, long limit)
{
	char *pre = idx_prefix(name, "images"), *lab = NULL, *ipath = NULL;
	size_t plen = 0, llen = 0;
	uint32_t idims[3], ldims[3];
	int rc = 0;

	memset(out, 0, sizeof *out);
	/* NAME-labels-idx1-ubyte, with the images file's separator; gzipped
	 * like the images file, else the other way */
	const char *sep = strstr(name, "-images.idx") ? "." : "-";
	if (!pre) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (int k = 0; k < 2 && !lab; k++) {
		const char *ext = (k == 0) == ends_with(name, ".gz") ? ".gz" : "";
		if (asprintf(&lab, "%s/%s-labels%sidx1-ubyte%s", src, pre, sep, ext) < 0) {
			lab = NULL;
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto cleanup;
		}
		if (!is_file(lab) && k == 0) {
			free(lab);
			lab = NULL;
		}
	}
	if (!(ipath = folio_path_join(src, name))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	if ((rc = read_idx(&out->pix, &plen, ipath, 3, idims)) < 0 ||
	    (rc = read_idx(&out->labels, &llen, lab, 1, ldims)) < 0)
		goto cleanup;
	if (ldims[0] != idims[0]) {
		rc = folio_error_set(FOLIO_EINVAL, "%s has %u labels for %u images in %s", lab,
				     ldims[0], idims[0], ipath);
		goto cleanup;
	}
	if (pl->rows && (pl->rows != (int)idims[1] || pl->cols != (int)idims[2])) {
		rc = folio_error_set(FOLIO_EINVAL, "%s: images are %ux%u, earlier files %dx%d",
				     ipath, idims[2], idims[1], pl->cols, pl->rows);
		goto cleanup;
	}
	for (size_t i = 0; i < llen; i++)
		if (out->labels[i] > 9) {
			rc = folio_error_set(FOLIO_EINVAL, "%s: label %u of image %zu is not 0-9",
					     lab, out->labels[i], i);
			goto cleanup;
		}
	pl->rows = (int)idims[1];
	pl->cols = (int)idims[2];
	out->count = idims[0];
	if (limit >= 0 && (size_t)limit < out->count)
		out->count = (size_t)limit;
	out->split = strdup(strncmp(pre, "train", 5) == 0 ? "train"
			    : strncmp(pre, "t10k", 4) == 0 || strncmp(pre, "test", 4) == 0 ? "test"
			    : pre);
	if (!out->split)
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
cleanup:
	if (rc < 0) {
		free(out->pix);
		free(out->labels);
		memset(out, 0, sizeof *out);
	}
	free(pre);
	free(lab);
	free(ipath);
	return rc;
}

static int plan_idx(plan *pl, const char *src, long limit)
{
	/* Fashion-MNIST's first labels (train, t10k) differ from MNIST's. */
	static const unsigned char fm_train[10] = { 9, 0, 0, 3, 0, 2, 7, 2, 5, 5 };
	static const unsigned char fm_test[10] = { 9, 2, 1, 1, 6, 1, 4, 6, 5, 7 };
	DIR *d = opendir(src);
	struct dirent *de;
	names imgs = { 0 };
	idxset *sets = NULL;
	size_t nsets = 0;
	int rc = 0, fashion = 0;
	char real[PATH_MAX];

	if (!d)
		return folio_error_errno(errno, "cannot read folder %s", src);
	while (rc == 0 && (de = readdir(d))) {
		char *pre = idx_prefix(de->d_name, "images");
		free(pre);
		if (!pre || !strstr(de->d_name, "idx3"))
			continue;
		char **v = realloc(imgs.v, (imgs.n + 1) * sizeof *v);
		if (v)
			imgs.v = v;
		if (!v || !(v[imgs.n] = strdup(de->d_name)))
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		else
			imgs.n++;
	}
	closedir(d);
	if (rc == 0 && imgs.n == 0)
		rc = folio_error_set(FOLIO_EINVAL, "no NAME-images-idx3-ubyte file in %s", src);
	if (rc == 0 && !(sets = calloc(imgs.n, sizeof *sets)))
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
	if (rc < 0)
		goto cleanup;
	qsort(imgs.v, imgs.n, sizeof *imgs.v, cmp_str);
	for (; nsets < imgs.n; nsets++) {
		if ((rc = read_idx_pair(&sets[nsets], pl, src, imgs.v[nsets], limit)) < 0)
			goto cleanup;
		const idxset *x = &sets[nsets];
		if (x->count >= 10 && (memcmp(x->labels, fm_train, 10) == 0 ||
				       memcmp(x->labels, fm_test, 10) == 0))
			fashion = 1;
	}
	if (realpath(src, real) && strcasestr(real, "fashion"))
		fashion = 1;

	const char *const *cls = fashion ? fashion_classes : digit_classes;
	for (size_t f = 0; f < nsets && rc == 0; f++) {
		const idxset *x = &sets[f];
		int digits = 1;
		for (size_t k = x->count > 0 ? x->count - 1 : 0; k >= 10; k /= 10)
			digits++;
		for (size_t i = 0; i < x->count && rc == 0; i++) {
			char *dest = NULL;
			if (asprintf(&dest, "%s%s%s/%s/%0*zu.png", pl->as, *pl->as ? "/" : "", x->split,
				     cls[x->labels[i]], digits, i) < 0)
				rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			else
				rc = push_job(&pl->jobs, NULL, dest,
					      x->pix + i * (size_t)pl->rows * (size_t)pl->cols);
		}
		int seen = 0;
		for (size_t k = 0; k < f; k++)
			seen |= strcmp(sets[k].split, x->split) == 0;
		if (rc == 0 && !seen)
			rc = declare(pl, "imagefolder", x->split, NULL, x->split);
	}
	if (rc == 0 && !(pl->classes = cJSON_CreateArray()))
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
	for (int k = 0; k < 10 && rc == 0; k++)
		cJSON_AddItemToArray(pl->classes, cJSON_CreateString(cls[k]));
	if (rc == 0)
		fprintf(stderr, "folio import: %s, %zu images of %dx%d\n",
			fashion ? "Fashion-MNIST" : "MNIST-style digits", pl->jobs.n, pl->cols, pl->rows);
cleanup:
	/* The pixel buffers live until the jobs are stored. */
	for (size_t f = 0; f < nsets; f++) {
		unsigned char **nb = realloc(pl->bufs, (pl->nbufs + 1) * sizeof *nb);
		if (nb) {
			pl->bufs = nb;
			nb[pl->nbufs++] = sets[f].pix;
		} else {
			free(sets[f].pix);
			rc = rc < 0 ? rc : folio_error_set(FOLIO_ENOMEM, "out of memory");
		}
		free(sets[f].labels);
		free(sets[f].split);
	}
	free(sets);
	names_free(&imgs);
	return rc;
}

/* ---- dataset.json ---- */

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

/*
 * Merges the plan's sources and classes into the stage's dataset.json
 * (made if absent) and pushes the new version of the file to stage. When
 * the file is new and the stage already had other files, "auto": true
 * keeps their labels auto-detected.
 */
static int write_dataset_json(folio_repo *repo, folio_tree *stage, const plan *pl)
{
	const folio_entry *old = folio_tree_find(stage, DATASET_JSON);
	cJSON *root = NULL;
	void *buf = NULL;
	size_t len = 0;
	char *text = NULL;
	int rc = 0;

	if (old) {
		if ((rc = folio_repo_content_cb(&buf, &len, old, repo)) < 0)
			return rc;
		root = cJSON_ParseWithLength(buf, len);
		free(buf);
		if (!cJSON_IsObject(root)) {
			cJSON_Delete(root);
			return folio_error_set(FOLIO_EINVAL,
				"%s in the stage is not a JSON object; fix it (or `folio rm` it) and import again",
				DATASET_JSON);
		}
	} else {
		if (!(root = cJSON_CreateObject()))
			return folio_error_set(FOLIO_ENOMEM, "out of memory");
		size_t plen = strlen(pl->as);
		for (size_t i = 0; i < stage->n; i++) {
			const char *p = stage->v[i].path;
			if (!plen || strncmp(p, pl->as, plen) != 0 || p[plen] != '/') {
				cJSON_AddTrueToObject(root, "auto");
				break;
			}
		}
	}
	cJSON *labels = cJSON_GetObjectItemCaseSensitive(root, "labels");
	if (!labels) {
		labels = cJSON_AddArrayToObject(root, "labels");
	} else if (!cJSON_IsArray(labels)) {
		cJSON_Delete(root);
		return folio_error_set(FOLIO_EINVAL, "%s: \"labels\" is not an array", DATASET_JSON);
	}
	const cJSON *s;
	cJSON_ArrayForEach(s, pl->sources) {
		for (int i = cJSON_GetArraySize(labels) - 1; i >= 0; i--)
			if (same_source(cJSON_GetArrayItem(labels, i), s))
				cJSON_DeleteItemFromArray(labels, i);
		cJSON_AddItemToArray(labels, cJSON_Duplicate(s, 1));
	}
	if (pl->classes) {
		cJSON *cls = cJSON_GetObjectItemCaseSensitive(root, "classes");
		if (!cls)
			cls = cJSON_AddArrayToObject(root, "classes");
		if (cJSON_IsArray(cls)) {
			const cJSON *c;
			cJSON_ArrayForEach(c, pl->classes) {
				int have = 0;
				const cJSON *e;
				cJSON_ArrayForEach(e, cls)
					have |= cJSON_IsString(e) && strcmp(e->valuestring, c->valuestring) == 0;
				if (!have)
					cJSON_AddItemToArray(cls, cJSON_CreateString(c->valuestring));
			}
		}
	}
	if (!cJSON_GetObjectItemCaseSensitive(root, "expectations"))
		cJSON_AddObjectToObject(root, "expectations");
	if (!(text = cJSON_Print(root))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	len = strlen(text);
	char *nt = realloc(text, len + 2);
	if (!nt) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	text = nt;
	text[len++] = '\n';
	text[len] = '\0';
	folio_entry e;
	memset(&e, 0, sizeof e);
	e.path = (char *)DATASET_JSON;
	e.kind = FOLIO_ENTRY_BLOB;
	e.mode = FOLIO_MODE_FILE;
	e.size = len;
	if ((rc = folio_store_put_buf(&e.oid, repo->store, text, len)) < 0)
		goto cleanup;
	rc = folio_tree_push(stage, &e);
cleanup:
	free(text);
	cJSON_Delete(root);
	return rc;
}

/* ---- label summaries (shared by import and labels) ---- */

static int read_cb(void **out, size_t *len, const folio_entry *e, void *payload)
{
	folio_repo *repo = payload;

	return folio_store_read_all(out, len, repo->store, &e->oid, (size_t)1 << 30);
}

typedef struct stats {
	size_t gt_images, pred_images, gt_objects, pred_objects, missing;
	size_t *cls_gt, *cls_pred;   /* per set->classes index */
	struct {
		size_t images, objects, files;
	} fmt[8];
	struct {
		const char *name;
		size_t images;
	} splits[16];
	size_t nsplits;
} stats;

static int cmp_cls_idx(const void *a, const void *b, void *classes)
{
	char *const *v = classes;

	return strcmp(v[*(const size_t *)a], v[*(const size_t *)b]);
}

static int compute_stats(stats *st, const folio_labelset *set, const folio_tree *tree)
{
	size_t *order = NULL;
	int rc = 0;

	memset(st, 0, sizeof *st);
	if (set->nclasses && (!(st->cls_gt = calloc(set->nclasses, sizeof *st->cls_gt)) ||
			      !(st->cls_pred = calloc(set->nclasses, sizeof *st->cls_pred)) ||
			      !(order = malloc(set->nclasses * sizeof *order)))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < set->nclasses; i++)
		order[i] = i;
	if (set->nclasses)
		qsort_r(order, set->nclasses, sizeof *order, cmp_cls_idx, set->classes);
	for (size_t i = 0; i < set->n; i++) {
		const folio_annotation *a = &set->v[i];
		int f = (int)a->format;
		if (a->prediction) {
			st->pred_images++;
			st->pred_objects += a->nobjects;
		} else {
			st->gt_images++;
			st->gt_objects += a->nobjects;
		}
		if (!folio_tree_find(tree, a->image))
			st->missing++;
		if (f > 0 && f < 8) {
			st->fmt[f].images++;
			st->fmt[f].objects += a->nobjects;
		}
		if (a->split && !a->prediction) {
			size_t k = 0;
			while (k < st->nsplits && strcmp(st->splits[k].name, a->split) != 0)
				k++;
			if (k == st->nsplits && k < 16)
				st->splits[st->nsplits++].name = a->split;
			if (k < 16)
				st->splits[k].images++;
		}
		for (size_t k = 0; k < a->nobjects; k++) {
			size_t lo = 0, hi = set->nclasses;
			while (lo < hi) {
				size_t m = lo + (hi - lo) / 2;
				if (strcmp(set->classes[order[m]], a->objects[k].cls) < 0)
					lo = m + 1;
				else
					hi = m;
			}
			if (lo < set->nclasses && strcmp(set->classes[order[lo]], a->objects[k].cls) == 0)
				(a->prediction ? st->cls_pred : st->cls_gt)[order[lo]]++;
		}
	}
	/* distinct label files per format: sources repeat per image only
	 * for single-file formats, so count changes over a sorted copy */
	for (int f = 1; f < 8; f++) {
		const char **srcs = NULL;
		size_t n = 0;
		if (!st->fmt[f].images)
			continue;
		if (!(srcs = malloc(st->fmt[f].images * sizeof *srcs))) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto cleanup;
		}
		for (size_t i = 0; i < set->n; i++)
			if ((int)set->v[i].format == f)
				srcs[n++] = set->v[i].source ? set->v[i].source : "";
		qsort(srcs, n, sizeof *srcs, cmp_str);
		for (size_t i = 0; i < n; i++)
			st->fmt[f].files += i == 0 || strcmp(srcs[i], srcs[i - 1]) != 0;
		free(srcs);
	}
cleanup:
	free(order);
	return rc;
}

static void stats_free(stats *st)
{
	free(st->cls_gt);
	free(st->cls_pred);
}

static void print_error_line(FILE *f, const folio_label_error *e)
{
	if (e->line > 0)
		fprintf(f, "%s:%d: %s\n", e->file, e->line, e->message);
	else
		fprintf(f, "%s: %s\n", e->file, e->message);
}

static void print_summary(const folio_labelset *set, const stats *st, int max_errors)
{
	printf("%zu images with labels, %zu objects, %zu classes", st->gt_images, st->gt_objects,
	       set->nclasses);
	if (st->pred_images)
		printf("; predictions: %zu images, %zu objects", st->pred_images, st->pred_objects);
	printf("; %zu errors\n", set->nerrors);
	if (st->missing)
		printf("%zu labeled images are not in this version\n", st->missing);
	printf("formats:\n");
	for (int f = 1; f < 8; f++)
		if (st->fmt[f].images)
			printf("  %-13s %8zu images %9zu objects %8zu label files\n",
			       folio_label_format_name((folio_label_format)f), st->fmt[f].images,
			       st->fmt[f].objects, st->fmt[f].files);
	if (st->nsplits) {
		printf("splits:\n");
		for (size_t i = 0; i < st->nsplits; i++)
			printf("  %-13s %8zu images\n", st->splits[i].name, st->splits[i].images);
	}
	if (set->nclasses) {
		printf("classes:\n");
		for (size_t i = 0; i < set->nclasses; i++) {
			printf("  %-24s %8zu", set->classes[i], st->cls_gt[i]);
			if (st->cls_pred[i])
				printf("  (%zu predicted)", st->cls_pred[i]);
			putchar('\n');
		}
	}
	if (set->nerrors && max_errors) {
		printf("errors:\n");
		for (size_t i = 0; i < set->nerrors && (int)i < max_errors; i++) {
			fputs("  ", stdout);
			print_error_line(stdout, &set->errors[i]);
		}
		if (set->nerrors > (size_t)max_errors)
			printf("  ... %zu more (folio labels VERSION --errors)\n",
			       set->nerrors - (size_t)max_errors);
	}
}

/* ---- import ---- */

const char *const usage_import =
	"usage: folio import --format FORMAT SRC [--as PATH] [options]\n"
	"\n"
	"Brings an outside dataset into the staged tree, laid out as it is, with\n"
	"its label files untouched (folio reads them in place), and declares its\n"
	"label sources in .folio/dataset.json (merged with what is there). Commit\n"
	"with `folio commit`; `folio labels :` shows what the stage's labels hold.\n"
	"\n"
	"Formats (docs/labels.md):\n"
	"  coco          SRC is a COCO instances JSON file (the images it names are\n"
	"                copied, found relative to it or to --images), or a folder\n"
	"                with COCO JSON files and images (copied whole)\n"
	"  coco-results  SRC is a COCO results JSON file (model predictions); it\n"
	"                goes to predictions/ unless --as says where\n"
	"  voc           SRC is a Pascal VOC folder: Annotations/ and JPEGImages/\n"
	"  yolo          SRC is a YOLO folder: images/ and labels/ (or .txt files\n"
	"                beside the images) and data.yaml, *.names or classes.txt\n"
	"  imagefolder   SRC is a folder of class folders, or of train/val/test\n"
	"                folders of class folders\n"
	"  native        SRC is a folder of images and folio label files\n"
	"  idx           SRC is a folder of MNIST-style IDX files (NAME-images-\n"
	"                idx3-ubyte and NAME-labels-idx1-ubyte, gzipped or not):\n"
	"                every image becomes <split>/<class>/<n>.png (train from\n"
	"                train*, test from t10k*), with Fashion-MNIST's class names\n"
	"                when the set is recognised and digits otherwise\n"
	"\n"
	"Options:\n"
	"  --format F        one of the formats above (required)\n"
	"  --as PATH         the folder the dataset goes to (default: the root)\n"
	"  --images DIR      coco: the folder file_name is relative to (default:\n"
	"                    the JSON file's folder)\n"
	"  --gt PATH         coco-results: the dataset path of the COCO instances\n"
	"                    file its ids refer to\n"
	"  --prediction      the labels are model predictions (kept apart from\n"
	"                    ground truth)\n"
	"  --limit N         idx: only the first N images of each file\n"
	"  -j, --jobs N      threads storing files (default: 2 x cores, at most 16)\n"
	"  -q, --quiet       no summary of the labels afterwards\n";

static long default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		n = 1;
	n *= 2;
	return n > 16 ? 16 : n;
}

int cmd_import(cli *c);
int cmd_import(cli *c)
{
	const char *format = NULL, *as_arg = NULL, *images = NULL, *gt = NULL;
	const char *limit_s = NULL, *jobs_s = NULL;
	int prediction = 0, quiet = 0;
	cli_opt opts[] = {
		{ "format", 'f', 1, &format, NULL },
		{ "as", 0, 1, &as_arg, NULL },
		{ "images", 0, 1, &images, NULL },
		{ "gt", 0, 1, &gt, NULL },
		{ "prediction", 0, 0, NULL, &prediction },
		{ "limit", 0, 1, &limit_s, NULL },
		{ "jobs", 'j', 1, &jobs_s, NULL },
		{ "quiet", 'q', 0, NULL, &quiet },
		{ 0 },
	};
	char **pos = NULL;
	int npos, rc = 0, code = EXIT_OK;
	long limit = -1, nthreads = default_jobs();
	folio_repo *repo = NULL;
	folio_tree stage;
	folio_labelset set;
	char base[FOLIO_COMMIT_HEXSZ + 1];
	char *as = NULL, *src = NULL;
	plan pl;

	folio_tree_init(&stage);
	memset(&set, 0, sizeof set);
	memset(&pl, 0, sizeof pl);
	if ((rc = cli_parse(c, opts, &pos, &npos)))
		return rc;
	if (!format) {
		code = cli_usage_error(c, "give the dataset's --format (coco, coco-results, voc, yolo, "
					  "imagefolder, native, idx)");
		goto out;
	}
	if (npos != 1) {
		code = cli_usage_error(c, "expected one SRC, got %d arguments", npos);
		goto out;
	}
	if (limit_s) {
		char *end;
		limit = strtol(limit_s, &end, 10);
		if (*end || limit < 0) {
			code = cli_usage_error(c, "--limit wants a number, not '%s'", limit_s);
			goto out;
		}
	}
	if (jobs_s) {
		char *end;
		nthreads = strtol(jobs_s, &end, 10);
		if (*end || nthreads < 1 || nthreads > 256) {
			code = cli_usage_error(c, "--jobs wants a number from 1 to 256, not '%s'", jobs_s);
			goto out;
		}
	}
	/* --as: trimmed of slashes; "" (the root) by default */
	size_t al = as_arg ? strlen(as_arg) : 0;
	while (al > 0 && as_arg[al - 1] == '/')
		al--;
	if (!(as = strndup(as_arg ? as_arg : "", al))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto fail;
	}
	if (*as && folio_path_validate(as) < 0) {
		fprintf(stderr, "folio import: --as %s: %s\n", as_arg, folio_error_last());
		code = EXIT_USAGE;
		goto out;
	}
	size_t sl = strlen(pos[0]);
	while (sl > 1 && pos[0][sl - 1] == '/')
		sl--;
	if (!(src = strndup(pos[0], sl))) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto fail;
	}
	struct stat st;
	if (stat(src, &st) < 0) {
		rc = folio_error_errno(errno, "cannot import %s", src);
		goto fail;
	}
	if (!(pl.sources = cJSON_CreateArray())) {
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
		goto fail;
	}
	pl.as = as;
	pl.prediction = prediction;
	int is_folder = S_ISDIR(st.st_mode);
	if (strcmp(format, "coco-results") == 0) {
		if (is_folder) {
			rc = folio_error_set(FOLIO_EINVAL, "coco-results wants a JSON file, not the folder %s", src);
			goto fail;
		}
		char *dest = *as ? strdup(as) : folio_path_join("predictions", base_name(src));
		if (!dest) {
			rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
			goto fail;
		}
		pl.as = "";
		pl.prediction = 1;
		if ((rc = declare(&pl, "coco-results", dest, NULL, NULL)) < 0 ||
		    (gt && (rc = declare_extra(&pl, "gt", gt)) < 0)) {
			free(dest);
			goto fail;
		}
		if ((rc = push_job(&pl.jobs, src, dest, NULL)) < 0)
			goto fail;
	} else if (strcmp(format, "coco") == 0) {
		rc = plan_coco(&pl, src, images);
	} else if (!is_folder) {
		rc = folio_error_set(FOLIO_EINVAL, "--format %s wants a folder; %s is not one", format, src);
	} else if (strcmp(format, "voc") == 0) {
		rc = plan_voc(&pl, src);
	} else if (strcmp(format, "yolo") == 0) {
		rc = plan_yolo(&pl, src);
	} else if (strcmp(format, "imagefolder") == 0) {
		rc = plan_imagefolder(&pl, src);
	} else if (strcmp(format, "native") == 0) {
		if ((rc = declare(&pl, "native", "", NULL, NULL)) == 0)
			rc = copy_folder(&pl, src);
	} else if (strcmp(format, "idx") == 0) {
		if (VIPS_INIT("folio") != 0) {
			rc = folio_error_set(FOLIO_ERROR, "cannot start libvips: %s", vips_error_buffer());
			goto fail;
		}
		/* Tiny images: our threads do the work, not libvips' pool. */
		vips_concurrency_set(1);
		vips_cache_set_max(0);
		rc = plan_idx(&pl, src, limit);
	} else {
		code = cli_usage_error(c, "unknown --format '%s' (coco, coco-results, voc, yolo, "
					  "imagefolder, native, idx)", format);
		goto out;
	}
	if (rc < 0)
		goto fail;
	if (pl.jobs.n == 0) {
		rc = folio_error_set(FOLIO_EINVAL, "nothing to import in %s", src);
		goto fail;
	}

	double t0 = now_seconds();
	if ((rc = cli_open_repo(&repo, c)) < 0 ||
	    (rc = folio_repo_lock_objects(repo, 0, "folio import")) < 0)
		goto fail;
	if ((rc = run_pool(repo, &pl.jobs, nthreads, pl.rows, pl.cols)) < 0)
		goto fail;
	if ((rc = folio_repo_lock(repo, "folio import")) < 0 ||
	    (rc = folio_stage_load(&stage, base, repo)) < 0)
		goto fail;
	if ((rc = write_dataset_json(repo, &stage, &pl)) < 0)
		goto fail;
	for (size_t i = 0; i < pl.jobs.n; i++)
		if ((rc = folio_tree_push(&stage, &pl.jobs.v[i].e)) < 0)
			goto fail;
	folio_tree_sort(&stage);
	if ((rc = folio_tree_check_conflicts(&stage)) < 0) {
		folio_error_wrap(rc, "nothing was imported");
		goto fail;
	}
	if ((rc = folio_stage_save(repo, &stage, base)) < 0)
		goto fail;
	folio_repo_unlock(repo);
	folio_repo_unlock_objects(repo);
	printf("imported %zu files from %s into %s in %.2f s\n", pl.jobs.n, src,
	       *as ? as : "the root", now_seconds() - t0);
	if (!quiet) {
		stats stt;
		if ((rc = folio_labels_load(&set, &stage, read_cb, repo)) < 0 ||
		    (rc = compute_stats(&stt, &set, &stage)) < 0)
			goto fail;
		print_summary(&set, &stt, 10);
		stats_free(&stt);
	}
	goto out;

fail:
	code = cli_fail(rc);
out:
	folio_labelset_clear(&set);
	folio_tree_clear(&stage);
	free_jobs(&pl.jobs);
	for (size_t i = 0; i < pl.nbufs; i++)
		free(pl.bufs[i]);
	free(pl.bufs);
	cJSON_Delete(pl.sources);
	cJSON_Delete(pl.classes);
	folio_repo_free(repo);
	free(as);
	free(src);
	free(pos);
	return code;
}

/* ---- labels ---- */

const char *const usage_labels =
	"usage: folio labels VERSION [--json] [--errors] [--list]\n"
	"\n"
	"Reads the labels of a version in place (VERSION ':' is the staged tree):\n"
	"the sources declared in .folio/dataset.json, or found by auto-detection\n"
	"(docs/labels.md), and prints a summary: labeled images, objects, classes\n"
	"with their counts, formats, splits, predictions, and the problems found\n"
	"in label files with file and line.\n"
	"\n"
	"Options:\n"
	"  --json     one JSON object: counts, formats, splits, classes, errors\n"
	"  --errors   only the problems, one 'file:line: message' per line; exits\n"
	"             1 when there are any\n"
	"  --list     every labeled image with its objects (text: one image per\n"
	"             line; with --json: an \"annotations\" array)\n";

static cJSON *annotation_json(const folio_annotation *a)
{
	cJSON *o = cJSON_CreateObject(), *objs = cJSON_CreateArray();

	cJSON_AddStringToObject(o, "image", a->image);
	cJSON_AddStringToObject(o, "format", folio_label_format_name(a->format));
	cJSON_AddStringToObject(o, "source", a->source ? a->source : "");
	cJSON_AddBoolToObject(o, "prediction", a->prediction);
	if (a->split)
		cJSON_AddStringToObject(o, "split", a->split);
	if (a->width > 0) {
		cJSON_AddNumberToObject(o, "width", a->width);
		cJSON_AddNumberToObject(o, "height", a->height);
	}
	if (folio_annotation_relative(a))
		cJSON_AddTrueToObject(o, "relative");
	if (a->ntags) {
		cJSON *t = cJSON_AddArrayToObject(o, "tags");
		for (size_t i = 0; i < a->ntags; i++)
			cJSON_AddItemToArray(t, cJSON_CreateString(a->tags[i]));
	}
	for (size_t i = 0; i < a->nobjects; i++) {
		const folio_object *ob = &a->objects[i];
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "class", ob->cls);
		if (ob->has_box) {
			double v[4] = { ob->box.x, ob->box.y, ob->box.w, ob->box.h };
			cJSON_AddItemToObject(j, "box", cJSON_CreateDoubleArray(v, 4));
		}
		if (ob->has_score)
			cJSON_AddNumberToObject(j, "score", ob->score);
		if (ob->labeler)
			cJSON_AddStringToObject(j, "labeler", ob->labeler);
		if (ob->attributes)
			cJSON_AddItemToObject(j, "attributes", cJSON_Parse(ob->attributes));
		cJSON_AddItemToArray(objs, j);
	}
	cJSON_AddItemToObject(o, "objects", objs);
	return o;
}

static void print_annotation(const folio_annotation *a)
{
	printf("%s\t%s%s\t%zu", a->image, a->prediction ? "prediction " : "",
	       folio_label_format_name(a->format), a->nobjects);
	if (a->split)
		printf("\tsplit=%s", a->split);
	for (size_t i = 0; i < a->nobjects; i++) {
		const folio_object *o = &a->objects[i];
		printf("%s%s", i ? "; " : "\t", o->cls);
		if (o->has_box)
			printf(" %g,%g,%g,%g", o->box.x, o->box.y, o->box.w, o->box.h);
		if (o->has_score)
			printf(" score=%g", o->score);
	}
	putchar('\n');
}

int cmd_labels(cli *c);
int cmd_labels(cli *c)
{
	int json = 0, errors_only = 0, list = 0;
	cli_opt opts[] = {
		{ "json", 0, 0, NULL, &json },
		{ "errors", 0, 0, NULL, &errors_only },
		{ "list", 0, 0, NULL, &list },
		{ 0 },
	};
	char **pos = NULL;
	int npos, rc = 0, code = EXIT_OK;
	folio_repo *repo = NULL;
	folio_tree tree;
	folio_labelset set;
	char commit[FOLIO_COMMIT_HEXSZ + 1];
	stats st;

	folio_tree_init(&tree);
	memset(&set, 0, sizeof set);
	memset(&st, 0, sizeof st);
	if ((rc = cli_parse(c, opts, &pos, &npos)))
		return rc;
	if (npos != 1) {
		free(pos);
		return cli_usage_error(c, "expected a VERSION (':' for the stage), got %d arguments", npos);
	}
	if ((rc = cli_open_repo(&repo, c)) < 0 ||
	    (rc = cli_load_tree(&tree, repo, pos[0], commit)) < 0 ||
	    (rc = folio_labels_load(&set, &tree, read_cb, repo)) < 0 ||
	    (rc = compute_stats(&st, &set, &tree)) < 0)
		goto fail;
	if (errors_only && !json) {
		for (size_t i = 0; i < set.nerrors; i++)
			print_error_line(stdout, &set.errors[i]);
		code = set.nerrors ? EXIT_FAIL : EXIT_OK;
		goto out;
	}
	if (json) {
		cJSON *top = cJSON_CreateObject();
		if (!errors_only) {
			cJSON_AddStringToObject(top, "commit", commit);
			cJSON_AddNumberToObject(top, "images", (double)st.gt_images);
			cJSON_AddNumberToObject(top, "objects", (double)st.gt_objects);
			cJSON_AddNumberToObject(top, "prediction_images", (double)st.pred_images);
			cJSON_AddNumberToObject(top, "prediction_objects", (double)st.pred_objects);
			cJSON_AddNumberToObject(top, "missing_images", (double)st.missing);
			cJSON *fm = cJSON_AddObjectToObject(top, "formats");
			for (int f = 1; f < 8; f++) {
				if (!st.fmt[f].images)
					continue;
				cJSON *o = cJSON_AddObjectToObject(fm, folio_label_format_name((folio_label_format)f));
				cJSON_AddNumberToObject(o, "images", (double)st.fmt[f].images);
				cJSON_AddNumberToObject(o, "objects", (double)st.fmt[f].objects);
				cJSON_AddNumberToObject(o, "files", (double)st.fmt[f].files);
			}
			cJSON *sp = cJSON_AddObjectToObject(top, "splits");
			for (size_t i = 0; i < st.nsplits; i++)
				cJSON_AddNumberToObject(sp, st.splits[i].name, (double)st.splits[i].images);
			cJSON *cl = cJSON_AddArrayToObject(top, "classes");
			for (size_t i = 0; i < set.nclasses; i++) {
				cJSON *o = cJSON_CreateObject();
				cJSON_AddStringToObject(o, "name", set.classes[i]);
				cJSON_AddNumberToObject(o, "objects", (double)st.cls_gt[i]);
				cJSON_AddNumberToObject(o, "predicted", (double)st.cls_pred[i]);
				cJSON_AddItemToArray(cl, o);
			}
		}
		cJSON *er = cJSON_AddArrayToObject(top, "errors");
		for (size_t i = 0; i < set.nerrors; i++) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "file", set.errors[i].file);
			cJSON_AddNumberToObject(o, "line", set.errors[i].line);
			cJSON_AddStringToObject(o, "message", set.errors[i].message);
			cJSON_AddItemToArray(er, o);
		}
		if (list) {
			cJSON *an = cJSON_AddArrayToObject(top, "annotations");
			for (size_t i = 0; i < set.n; i++)
				cJSON_AddItemToArray(an, annotation_json(&set.v[i]));
		}
		json_print(top);
		code = errors_only && set.nerrors ? EXIT_FAIL : EXIT_OK;
		goto out;
	}
	if (list) {
		for (size_t i = 0; i < set.n; i++)
			print_annotation(&set.v[i]);
		goto out;
	}
	print_summary(&set, &st, 20);
	goto out;

fail:
	code = cli_fail(rc);
out:
	stats_free(&st);
	folio_labelset_clear(&set);
	folio_tree_clear(&tree);
	folio_repo_free(repo);
	free(pos);
	return code;
}
