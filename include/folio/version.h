/*
 * version.h — versions as git commits (libgit2), in REPO/git/ (bare).
 *
 * A commit's tree is the dataset as the user laid it out. FOLIO_ENTRY_LFS
 * files appear in the tree as git-lfs pointer files:
 *
 *   version https://git-lfs.github.com/spec/v1
 *   oid sha256:<64 hex>
 *   size <decimal bytes>
 *
 * FOLIO_ENTRY_BLOB files are plain blobs; symlinks are git symlinks. This is
 * the only module that includes <git2.h>.
 */
#ifndef FOLIO_VERSION_H
#define FOLIO_VERSION_H

#include <stdint.h>

#include "folio/tree.h"

/* A folio_version wraps one git_repository: use it from one thread at a
 * time (the daemon keeps one per worker). */
typedef struct folio_version folio_version;

#define FOLIO_COMMIT_HEXSZ 40

/* Creates a bare repository at gitdir with HEAD -> refs/heads/main. */
int folio_version_init(const char *gitdir);
int folio_version_open(folio_version **out, const char *gitdir);
void folio_version_free(folio_version *v);

/*
 * Resolves a VERSION (branch, tag, full or abbreviated commit id, HEAD,
 * HEAD~N, anything git's rev-parse takes that names a commit) to a commit
 * id. FOLIO_ENOTFOUND / FOLIO_EAMBIGUOUS with a message naming spec.
 */
int folio_version_resolve(char out[FOLIO_COMMIT_HEXSZ + 1], folio_version *v,
			  const char *spec);

/*
 * The file at path in a commit, as folio_version_read_tree would give it
 * (path left NULL), without reading the rest of the tree; FOLIO_ENOTFOUND
 * when the commit has no file there.
 */
int folio_version_read_entry(folio_entry *out, folio_version *v, const char *commit_hex,
			     const char *path);

/*
 * Reads the commit's whole tree into out (sorted by path), with kind, mode,
 * oid, size and blob filled in. Pointer files are parsed; a blob that is not
 * a pointer gets kind BLOB and the SHA-256 of its content.
 */
int folio_version_read_tree(folio_tree *out, folio_version *v,
			    const char *commit_hex);

/* Content of a git blob (text files and symlink targets). Caller frees. */
int folio_version_read_blob(void **out, size_t *len, folio_version *v,
			    const unsigned char blob[20]);

/* Returns the git-lfs pointer text for an object (no trailing NUL
 * counted in *len). buf must hold at least 200 bytes. */
size_t folio_lfs_pointer(char *buf, const folio_oid *oid, uint64_t size);

/* Parses a git-lfs pointer; FOLIO_EINVAL if buf is not one. */
int folio_lfs_parse(folio_oid *oid, uint64_t *size, const void *buf, size_t len);

/* Loads the raw content of a BLOB or LINK entry when its git blob must be
 * written (the object store has it). Returns malloc'd bytes. */
typedef int (*folio_content_cb)(void **out, size_t *len,
				const folio_entry *e, void *payload);

typedef struct folio_signature {
	char name[256];
	char email[256];
} folio_signature;

/* The committer: GIT_AUTHOR_NAME/EMAIL, else git config user.name and
 * user.email, else the OS user and user@hostname. */
int folio_version_identity(folio_signature *out, folio_version *v);

/*
 * Writes a commit with tree as its content on top of the branch HEAD points
 * to (or makes the first commit of an unborn branch) and moves the branch.
 * Every new git object goes into one pack written durably before the ref
 * moves; the ref update is atomic, so a killed commit leaves the branch at
 * the old or the new commit. Entries with a zero blob get theirs computed
 * (content_cb is called for BLOB and LINK entries). out gets the new id.
 * The caller holds the repository lock, so nobody else moves the branch.
 */
int folio_version_commit(char out[FOLIO_COMMIT_HEXSZ + 1], folio_version *v,
			 const folio_tree *tree, const char *message,
			 const folio_signature *author,
			 folio_content_cb content_cb, void *payload);

/* Fills e->blob for an entry (hash only, nothing written). */
int folio_version_hash_entry(folio_entry *e, folio_version *v,
			     folio_content_cb content_cb, void *payload);

typedef struct folio_commit_info {
	char id[FOLIO_COMMIT_HEXSZ + 1];
	char tree[FOLIO_COMMIT_HEXSZ + 1];
	char parents[2][FOLIO_COMMIT_HEXSZ + 1]; /* "" when absent */
	unsigned nparents;
	char author_name[256];
	char author_email[256];
	int64_t time;         /* seconds since the epoch */
	int offset_minutes;   /* author's timezone */
	char *message;        /* malloc'd; freed by folio_commit_info_clear */
} folio_commit_info;

void folio_commit_info_clear(folio_commit_info *ci);
int folio_version_commit_info(folio_commit_info *out, folio_version *v,
			      const char *commit_hex);

/* Walks history from spec (newest first, first-parent not required);
 * stops after max commits (0 = all) or when cb returns non-zero. */
typedef int (*folio_log_cb)(const folio_commit_info *ci, void *payload);
int folio_version_log(folio_version *v, const char *spec, size_t max,
		      folio_log_cb cb, void *payload);

/* HEAD: *branch_out gets the branch name HEAD points to (malloc'd; NULL if
 * detached); head_hex gets the commit or "" for an unborn branch. */
int folio_version_head(char **branch_out, char head_hex[FOLIO_COMMIT_HEXSZ + 1],
		       folio_version *v);

/* Points HEAD at refs/heads/<name> (which must exist, unless the repo has
 * no commits yet). */
int folio_version_set_head(folio_version *v, const char *branch);

/* Branches and tags. Names are validated as git ref names. */
int folio_version_branch_create(folio_version *v, const char *name,
				const char *start_spec, int force);
int folio_version_branch_delete(folio_version *v, const char *name);
int folio_version_tag_create(folio_version *v, const char *name,
			     const char *spec, const char *message, int force);
int folio_version_tag_delete(folio_version *v, const char *name);

typedef struct folio_ref_info {
	char name[1024];                     /* short name: "main", "v1" */
	char target[FOLIO_COMMIT_HEXSZ + 1]; /* commit it points to (tags peeled) */
	int is_head;                         /* branch HEAD points to */
} folio_ref_info;

/* Lists branches (tags when tags is set), sorted by name. */
typedef int (*folio_ref_cb)(const folio_ref_info *ref, void *payload);
int folio_version_refs(folio_version *v, int tags, folio_ref_cb cb, void *payload);

/*
 * For fsck and gc: visits every commit reachable from any ref (and HEAD),
 * checking that each commit, tree and blob can be read, and calls cb once
 * per distinct entry content (deduplicated by blob id) with the entry
 * parsed as in read_tree. A git object that cannot be read is passed to
 * bad_cb (if set) as a message naming it, its path and commit, and counted
 * in *nbad; the walk always continues. Returns 0 when the walk finished
 * (the caller checks *nbad), a non-zero callback value as is, or a
 * negative code on a fatal error. One folio_version per thread.
 */
typedef int (*folio_entry_cb)(const folio_entry *e, const char *commit_hex,
			      void *payload);
typedef void (*folio_bad_cb)(const char *message, void *payload);
int folio_version_walk_reachable(size_t *ncommits, size_t *nbad, folio_version *v,
				 folio_entry_cb cb, folio_bad_cb bad_cb, void *payload);

#endif
