/*
 * version_int.h — internals shared by the files of the version module
 * (version.c, commit.c, refs.c, walk.c, lfs.c, oidset.c).
 *
 * Only core/version/ includes <git2.h>; nothing here leaks into the public
 * header.
 */
#ifndef FOLIO_VERSION_INT_H
#define FOLIO_VERSION_INT_H

#include <stddef.h>

#include <git2.h>

#include "folio/version.h"

/*
 * One open repository. Not safe for concurrent use: libgit2 repository
 * handles must not be shared between threads without a lock, so each thread
 * opens its own folio_version (they may point at the same gitdir).
 */
struct folio_version {
	git_repository *repo; /* owned */
	char *gitdir;         /* owned; as given to folio_version_open */
};

/* Pointer blobs are tiny; anything at least this long is never one
 * (git-lfs itself refuses to parse pointers of 1024 bytes or more). */
#define LFS_POINTER_MAX 1024

/* Calls git_libgit2_init() once per process and sets the global options
 * (fsync of the git directory). Returns 0 or a FOLIO_E* code. */
int version_global_init(void);

/*
 * Translates the libgit2 error gerr (a GIT_E* code) into a FOLIO_E* code and
 * sets the message "<what>: <libgit2's message>". code overrides the mapped
 * code when non-zero.
 */
int version_git_error(int gerr, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The FOLIO_E* code that corresponds to a libgit2 return value. */
int version_map_git_code(int gerr);

/* Hex of a git oid into a 41-byte buffer. */
void version_oid_hex(char out[FOLIO_COMMIT_HEXSZ + 1], const git_oid *id);

/*
 * Looks up the commit named by a full 40-digit hex id (as the public API
 * passes them around). FOLIO_EINVAL if hex is not one, FOLIO_ENOTFOUND if
 * there is no such commit.
 */
int version_lookup_commit(git_commit **out, git_repository *repo,
			  const char *commit_hex);

/*
 * Classifies the content of one blob found in a tree at path (mode is the
 * git filemode): fills kind, mode, oid, size and blob of e (path is left to
 * the caller). The content is read from the odb.
 */
int version_parse_blob(folio_entry *e, git_odb *odb, const git_oid *blob_id,
		       git_filemode_t mode, const char *path);

/* folio_lfs_parse without touching the thread's error message: NULL on
 * success, else a short reason. */
const char *version_lfs_parse_quiet(folio_oid *oid, uint64_t *size,
				    const void *buf, size_t len);

/*
 * Gets the content of a BLOB or LINK entry from content_cb and, when e has
 * a non-zero oid, checks that the bytes are what the entry says (size and
 * SHA-256): a mismatch would make the committed version differ from what
 * the stage recorded. FOLIO_ECORRUPT names the path then.
 */
int version_load_content(void **out, size_t *len, const folio_entry *e,
			 folio_content_cb content_cb, void *payload);

/* Resolves spec to a commit object (peeled); messages as for
 * folio_version_resolve. */
int version_resolve_commit(git_commit **out, folio_version *v, const char *spec);

/* Fills ci from a commit object. */
int version_fill_commit_info(folio_commit_info *ci, const git_commit *c);

/* ---- a set of git object ids (open addressing, grows) ---- */

typedef struct version_oidset {
	git_oid *slots;   /* cap entries; an all-zero id marks an empty slot */
	size_t cap;       /* power of two, or 0 before the first insert */
	size_t n;         /* ids stored */
	int has_zero;     /* the zero id itself, kept outside the table */
} version_oidset;

void version_oidset_init(version_oidset *s);
void version_oidset_clear(version_oidset *s);
/* 1 if the id was added, 0 if it was already there, FOLIO_ENOMEM. */
int version_oidset_add(version_oidset *s, const git_oid *id);
int version_oidset_has(const version_oidset *s, const git_oid *id);

#endif
