/*
 * tree.c — the flattened, path-sorted file list shared by the stage, the
 * version module and diff; validation of user-supplied dataset paths; and
 * making folders with their parents (mkdir -p) for init and export.
 *
 * Paths are compared bytewise (strcmp), which is also the order git keeps
 * for files within one directory; callers never depend on git's own
 * ordering, they only need one total order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "folio/error.h"
#include "folio/tree.h"
#include "folio/util.h"

void folio_tree_init(folio_tree *t)
{
	t->v = NULL;
	t->n = t->cap = 0;
}

void folio_tree_clear(folio_tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].path);
	free(t->v);
	folio_tree_init(t);
}

int folio_tree_push(folio_tree *t, const folio_entry *e)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		folio_entry *v = realloc(t->v, cap * sizeof *v);
		if (!v)
			return folio_error_set(FOLIO_ENOMEM, "out of memory growing a file list to %zu entries", cap);
		t->v = v;
		t->cap = cap;
	}
	char *p = strdup(e->path);
	if (!p)
		return folio_error_set(FOLIO_ENOMEM, "out of memory copying path %s", e->path);
	t->v[t->n] = *e;
	t->v[t->n].path = p;
	t->n++;
	return 0;
}

/* Stable order for equal paths keeps "last pushed wins" well defined. */
typedef struct {
	folio_entry e;
	size_t seq;
} seq_entry;

static int cmp_seq(const void *a, const void *b)
{
	const seq_entry *x = a, *y = b;
	int c = strcmp(x->e.path, y->e.path);

	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const folio_entry *)a)->path, ((const folio_entry *)b)->path);
}

void folio_tree_sort(folio_tree *t)
{
	int sorted_unique = 1;

	for (size_t i = 1; i < t->n && sorted_unique; i++)
		if (strcmp(t->v[i - 1].path, t->v[i].path) >= 0)
			sorted_unique = 0;
	if (sorted_unique)
		return;

	seq_entry *tmp = malloc(t->n * sizeof *tmp);
	if (!tmp) {
		/* Fall back to an unstable sort; duplicates then keep an
		 * arbitrary one, which only happens under memory pressure. */
		qsort(t->v, t->n, sizeof *t->v, cmp_entry);
	} else {
		for (size_t i = 0; i < t->n; i++) {
			tmp[i].e = t->v[i];
			tmp[i].seq = i;
		}
		qsort(tmp, t->n, sizeof *tmp, cmp_seq);
		for (size_t i = 0; i < t->n; i++)
			t->v[i] = tmp[i].e;
		free(tmp);
	}
	size_t w = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (i + 1 < t->n && strcmp(t->v[i].path, t->v[i + 1].path) == 0) {
			free(t->v[i].path);
			continue;
		}
		t->v[w++] = t->v[i];
	}
	t->n = w;
}

size_t folio_tree_lower_bound(const folio_tree *t, const char *path)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(t->v[mid].path, path) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

folio_entry *folio_tree_find(const folio_tree *t, const char *path)
{
	size_t i = folio_tree_lower_bound(t, path);
	return i < t->n && !strcmp(t->v[i].path, path) ? &t->v[i] : NULL;
}

int folio_path_under(const char *path, const char *dir)
{
	size_t l = strlen(dir);
	return l == 0 || (strncmp(path, dir, l) == 0 && path[l] == '/');
}

int folio_tree_set(folio_tree *t, const folio_entry *e)
{
	size_t lo = folio_tree_lower_bound(t, e->path);

	if (lo < t->n && !strcmp(t->v[lo].path, e->path)) {
		char *p = t->v[lo].path;
		t->v[lo] = *e;
		t->v[lo].path = p;
		return 0;
	}
	int rc = folio_tree_push(t, e);
	if (rc < 0)
		return rc;
	folio_entry last = t->v[t->n - 1];
	memmove(&t->v[lo + 1], &t->v[lo], (t->n - 1 - lo) * sizeof *t->v);
	t->v[lo] = last;
	return 0;
}

void folio_tree_remove_at(folio_tree *t, size_t i)
{
	free(t->v[i].path);
	memmove(&t->v[i], &t->v[i + 1], (t->n - i - 1) * sizeof *t->v);
	t->n--;
}

int folio_tree_copy(folio_tree *out, const folio_tree *src)
{
	folio_tree_init(out);
	for (size_t i = 0; i < src->n; i++) {
		int rc = folio_tree_push(out, &src->v[i]);
		if (rc < 0) {
			folio_tree_clear(out);
			return rc;
		}
	}
	return 0;
}

int folio_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		size_t n;
		unsigned cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1; cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2; cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3; cp = c & 0x07;
		} else {
			return 0;
		}
		if (i + n >= len) /* the sequence runs past the end */
			return 0;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

int folio_path_validate(const char *path)
{
	size_t len = strlen(path);

	if (len == 0)
		return folio_error_set(FOLIO_EINVAL, "empty path");
	if (len >= FOLIO_PATH_MAX)
		return folio_error_set(FOLIO_EINVAL, "path is longer than %d bytes: %.80s...",
				       FOLIO_PATH_MAX - 1, path);
	if (path[0] == '/')
		return folio_error_set(FOLIO_EINVAL,
			"'%s' is an absolute path; dataset paths are relative to the dataset root", path);
	if (!folio_utf8_valid(path, len))
		return folio_error_set(FOLIO_EINVAL,
			"'%s' is not valid UTF-8; rename the file (e.g. with convmv) and add it again", path);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)path[i];
		if (c < 0x20 || c == 0x7f)
			return folio_error_set(FOLIO_EINVAL,
				"'%s' contains a control character (byte 0x%02x at offset %zu); rename the file", path, c, i);
	}
	if (path[len - 1] == '/')
		return folio_error_set(FOLIO_EINVAL, "'%s' ends with '/'; name a file", path);
	const char *p = path;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0)
			return folio_error_set(FOLIO_EINVAL, "'%s' has an empty component ('//' or a trailing '/')", path);
		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return folio_error_set(FOLIO_EINVAL,
				"'%s' contains a '%.*s' component; dataset paths may not leave or refer to their folder", path, (int)n, p);
		if (n == 4 && strncasecmp(p, ".git", 4) == 0)
			return folio_error_set(FOLIO_EINVAL, "'%s' contains a '.git' component, which git refuses in trees", path);
		if (n > 255)
			return folio_error_set(FOLIO_EINVAL, "'%s' has a component longer than 255 bytes", path);
		if (!slash)
			break;
		p = slash + 1;
	}
	return 0;
}

char *folio_path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s;

	if (la == 0)
		return strdup(b);
	if (lb == 0)
		return strdup(a);
	if (!(s = malloc(la + lb + 2)))
		return NULL;
	memcpy(s, a, la);
	s[la] = '/';
	memcpy(s + la + 1, b, lb + 1);
	return s;
}

int folio_path_mkdirs(const char *path)
{
	char *p = strdup(path);
	struct stat st;
	int rc = 0;

	if (!p)
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	for (char *s = *p ? strchr(p + 1, '/') : NULL;; s = strchr(s + 1, '/')) {
		if (s)
			*s = '\0';
		if (*p && mkdir(p, 0777) < 0 && errno != EEXIST) {
			rc = folio_error_errno(errno, "cannot create folder %s", p);
			break;
		}
		if (!s)
			break;
		*s = '/';
	}
	if (rc == 0) {
		if (stat(path, &st) < 0)
			rc = folio_error_errno(errno, "cannot create folder '%s'", path);
		else if (!S_ISDIR(st.st_mode))
			rc = folio_error_set(FOLIO_EEXISTS, "%s exists and is not a folder", path);
	}
	free(p);
	return rc;
}
