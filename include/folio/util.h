/*
 * util.h — small helpers every module uses: a growing text buffer with a
 * size cap and a sticky error, the FNV-1a hash of short keys, and the
 * sizes of path buffers.
 *
 * They live here once so that a fix (a cap, an overflow check) reaches
 * every output that builds text and every table that hashes names.
 */
#ifndef FOLIO_UTIL_H
#define FOLIO_UTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * The longest path folio accepts in a dataset (folio_path_validate refuses
 * longer ones) or in the filesystem, with its NUL: Linux's PATH_MAX.
 */
#define FOLIO_PATH_MAX 4096
/*
 * A buffer for a path joined with what folio puts around it: a repository
 * or mount folder in front, a view's pipeline, a ".tmp.<pid>" suffix.
 * Anything that does not fit is refused, never truncated silently.
 */
#define FOLIO_PATH_BUF (2 * FOLIO_PATH_MAX + 256)
/* A buffer for a FOLIO_PATH_BUF path with a suffix folio adds to it: a
 * temp file's ".tmp.<pid>.<n>", a file in a folder path, an object id. */
#define FOLIO_PATH_SUFFIXED (FOLIO_PATH_BUF + 128)

/* snprintf into a path buffer: FOLIO_EINVAL ("path too long: ...") when
 * the result does not fit, never a truncated path. */
int folio_path_format(char *out, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * A growing byte buffer for text that is built piece by piece (CSV, JSON,
 * HTML, git trees). The first failure sticks: later writes are dropped and
 * folio_buf_finish returns the error, so a caller checks once at the end.
 * The text is NUL-terminated whenever anything has been written.
 */
typedef struct folio_buf {
	char *p;
	size_t n, cap;           /* bytes used (NUL not counted), allocated */
	size_t max;              /* most bytes it may hold; 0: 1 GiB */
	int rc;                  /* first error (a FOLIO_E* code), or 0 */
	const char *what;        /* what is being built, for messages ("annotations.json") */
} folio_buf;

#define FOLIO_BUF_MAX_DEFAULT ((size_t)1 << 30)

/* An empty buffer; what names the output in error messages. */
void folio_buf_init(folio_buf *b, const char *what);
void folio_buf_put(folio_buf *b, const void *data, size_t n);
void folio_buf_puts(folio_buf *b, const char *s);
void folio_buf_putc(folio_buf *b, char c);
void folio_buf_printf(folio_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s as one CSV field (RFC 4180: quoted when it holds , " CR or LF). */
void folio_buf_csv(folio_buf *b, const char *s);
/* s as HTML text or attribute value (< > & " escaped). */
void folio_buf_html(folio_buf *b, const char *s);
/* Hands the text (malloc'd, NUL-terminated, "" when nothing was written)
 * to the caller and empties b; or frees it and returns the first error. */
int folio_buf_finish(char **out, size_t *len, folio_buf *b);
/* Frees the contents. */
void folio_buf_clear(folio_buf *b);

/* FNV-1a, 64 bits: a fast hash of short keys for in-memory tables and
 * inode numbers. Not for anything an adversary chooses to collide with
 * on purpose where that matters (content ids are SHA-256). */
#define FOLIO_FNV1A_BASIS 14695981039346656037ULL   /* 0xcbf29ce484222325 */
#define FOLIO_FNV1A_PRIME 1099511628211ULL

static inline uint64_t folio_fnv1a(const void *data, size_t len, uint64_t seed)
{
	const unsigned char *p = data;
	uint64_t h = FOLIO_FNV1A_BASIS ^ seed;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * FOLIO_FNV1A_PRIME;
	return h;
}

static inline uint64_t folio_fnv1a_str(const char *s)
{
	uint64_t h = FOLIO_FNV1A_BASIS;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * FOLIO_FNV1A_PRIME;
	return h;
}

#endif
