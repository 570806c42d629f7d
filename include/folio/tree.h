/*
 * tree.h — a flattened dataset tree: the list of files of one version or of
 * the stage, sorted by path (bytewise), with what each file is.
 *
 * The version module reads commits into this shape and writes commits from
 * it; the stage keeps it on disk; diff compares two of them.
 */
#ifndef FOLIO_TREE_H
#define FOLIO_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "folio/oid.h"

#define FOLIO_MODE_FILE 0100644
#define FOLIO_MODE_EXEC 0100755
#define FOLIO_MODE_LINK 0120000

typedef enum folio_entry_kind {
	/* content in the object store; in git as a git-lfs pointer file */
	FOLIO_ENTRY_LFS = 1,
	/* small text file; in git as a plain blob (and in the object store) */
	FOLIO_ENTRY_BLOB = 2,
	/* symbolic link; target is the content, a plain git blob */
	FOLIO_ENTRY_LINK = 3,
} folio_entry_kind;

typedef struct folio_entry {
	char *path;             /* relative, '/'-separated, validated UTF-8 */
	uint32_t mode;          /* FOLIO_MODE_FILE, _EXEC or _LINK */
	folio_entry_kind kind;
	folio_oid oid;          /* SHA-256 of the raw content */
	uint64_t size;          /* raw content size in bytes */
	unsigned char blob[20]; /* git blob id in the tree; zero if not known yet */
	int64_t mtime_ns;       /* stage only: source mtime, for fast re-add; 0 if unknown */
} folio_entry;

typedef struct folio_tree {
	folio_entry *v;
	size_t n, cap;
} folio_tree;

void folio_tree_init(folio_tree *t);
void folio_tree_clear(folio_tree *t);        /* frees paths and the array */

/* Appends a copy of e (path duplicated). */
int folio_tree_push(folio_tree *t, const folio_entry *e);

/* Sorts by path and drops earlier duplicates (the last pushed wins). */
void folio_tree_sort(folio_tree *t);

/* Binary search on a sorted tree; NULL if absent. */
folio_entry *folio_tree_find(const folio_tree *t, const char *path);
/* The index of the first entry whose path is not below path bytewise (t->n
 * if none): where path is or would be. Paths under "dir/" are the run that
 * starts at folio_tree_lower_bound(t, "dir/"). */
size_t folio_tree_lower_bound(const folio_tree *t, const char *path);

/* Sets a copy of e in a sorted tree, keeping it sorted: replaces the entry
 * with e's path (keeping its path string) or inserts one (O(n) move, no
 * sort). */
int folio_tree_set(folio_tree *t, const folio_entry *e);

/* Removes the entry at index i (keeps order). */
void folio_tree_remove_at(folio_tree *t, size_t i);

/* Deep copy. */
int folio_tree_copy(folio_tree *out, const folio_tree *src);

/*
 * Checks that path is a safe relative dataset path: not empty, not
 * absolute, no empty, "." or ".." component, no control characters, valid
 * UTF-8, each component at most 255 bytes, no component named ".git".
 * On failure sets a message naming the path and returns FOLIO_EINVAL.
 */
int folio_path_validate(const char *path);

/* 1 if path is strictly below the folder dir ("a/b" is below "a", "a" and
 * "ab" are not); every path is below "", the root. */
int folio_path_under(const char *path, const char *dir);

/* "a/b" (malloc'd); an empty side gives a copy of the other. NULL when
 * out of memory. */
char *folio_path_join(const char *a, const char *b);

/* mkdir -p: makes the folder path (a filesystem path) and its missing
 * parents. 0 if it is a folder now; else a FOLIO_E* code and a message
 * naming the folder that could not be made (or the file in the way). */
int folio_path_mkdirs(const char *path);

/* 1 if the string is valid UTF-8 (no overlongs, no surrogates). */
int folio_utf8_valid(const char *s, size_t len);

#endif
