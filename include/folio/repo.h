/*
 * repo.h — a folio repository on disk: finding it, opening it, locking it,
 * and its stage (the tree the next commit will record).
 *
 *   REPO/folio.json   marker and format version ({"format": 1})
 *   REPO/git/         bare git repository (versions)
 *   REPO/objects/     content-addressed object store
 *   REPO/stage/index  the staged tree (absent: the stage equals HEAD's tree)
 *   REPO/cache/       derived data; deleting it loses nothing
 *   REPO/lock         flock: held exclusively by whoever changes refs or stage
 *   REPO/objects.lock flock: shared by object writers, exclusive for gc
 *
 * Locks are flock(2) locks, so a killed process never leaves a stale lock.
 */
#ifndef FOLIO_REPO_H
#define FOLIO_REPO_H

#include "folio/store.h"
#include "folio/tree.h"
#include "folio/util.h"
#include "folio/version.h"

#define FOLIO_FORMAT 1

typedef struct folio_repo {
	char *path;              /* absolute path of REPO */
	folio_store *store;
	folio_version *version;  /* not thread-safe: one thread at a time */
	int lock_fd;             /* REPO/lock while held, else -1 */
	int objects_lock_fd;     /* REPO/objects.lock while held, else -1 */
} folio_repo;

/* Makes path (an empty folder, or absent: then it is made, with its missing
 * parents) a new repository. */
int folio_repo_init(const char *path);

/* Opens an existing repository; FOLIO_ENOTFOUND if path is not one. */
int folio_repo_open(folio_repo **out, const char *path);
void folio_repo_free(folio_repo *repo);

/*
 * Finds the repository: explicit (from -R) if non-NULL, else $FOLIO_REPO,
 * else the current directory and its parents. *out is malloc'd.
 */
int folio_repo_discover(char **out, const char *explicit_path);

/*
 * Takes REPO/lock exclusively, waiting up to $FOLIO_LOCK_TIMEOUT seconds
 * (default 10). what ("folio commit") is recorded in the lock file so that
 * a process that finds it locked can say who holds it (FOLIO_ELOCKED).
 */
int folio_repo_lock(folio_repo *repo, const char *what);
void folio_repo_unlock(folio_repo *repo);

/* Shared (writers) or exclusive (gc) lock on the object store. */
int folio_repo_lock_objects(folio_repo *repo, int exclusive, const char *what);
void folio_repo_unlock_objects(folio_repo *repo);

/*
 * The stage. load fills out (sorted) and base_hex with the commit the stage
 * was last synchronised with ("" on an unborn branch). With no stage file
 * the stage is HEAD's tree. save writes it atomically and durably (temp
 * file, fsync, rename, fsync dir); the caller holds the repo lock.
 */
int folio_stage_load(folio_tree *out, char base_hex[FOLIO_COMMIT_HEXSZ + 1],
		     folio_repo *repo);
int folio_stage_save(folio_repo *repo, const folio_tree *tree,
		     const char *base_hex);

/* Drops the stage file: the stage becomes HEAD's tree again. */
int folio_stage_reset(folio_repo *repo);

/*
 * Changes to the stage, for folio_stage_apply and the journal. SET sets
 * e (e.path == path); DEL removes the file at path; REN moves path and
 * everything under it to `to` (what was at `to` must have been removed by
 * an earlier DEL).
 */
typedef enum { FOLIO_STAGE_SET = 1, FOLIO_STAGE_DEL, FOLIO_STAGE_REN } folio_stage_op_type;
typedef struct folio_stage_op {
	folio_stage_op_type type;
	char *path, *to;
	folio_entry e;
} folio_stage_op;

/* Applies ops in order to a sorted tree, which stays sorted. */
int folio_stage_apply(folio_tree *t, const folio_stage_op *ops, size_t n);

/*
 * Appends ops to REPO/stage/journal and syncs it, so that every later
 * folio_stage_load replays them on top of REPO/stage/index: a change costs
 * a few hundred bytes instead of a rewrite of the whole stage. The journal
 * names the index it follows (the index's "id" line); a journal left from
 * an older index is replaced, and folio_stage_save, which writes a new
 * index, makes the journal stale. FOLIO_ENOTFOUND if there is no index
 * with an id (no stage file yet): save the whole stage instead. The caller
 * holds the repo lock.
 */
int folio_stage_append(folio_repo *repo, const folio_stage_op *ops, size_t n);

/*
 * Checks that no path in a sorted tree is both a file and a folder
 * ("a" and "a/b"); FOLIO_EINVAL names both.
 */
int folio_tree_check_conflicts(const folio_tree *tree);

/*
 * How a file is kept in a version: FOLIO_ENTRY_BLOB (a plain git blob) for
 * text up to 1 MiB, else FOLIO_ENTRY_LFS. head holds the file's first
 * bytes (up to FOLIO_CLASSIFY_SNIFF; n < that only if the file is shorter).
 * Images and arrays are LFS by extension, whatever their content.
 */
#define FOLIO_CLASSIFY_SNIFF 8000
#define FOLIO_TEXT_MAX (1u << 20)
folio_entry_kind folio_classify(const char *path, uint64_t size,
				const void *head, size_t n);

/* 1 if the name has an image extension libvips decodes (jpg, png, webp,
 * gif, bmp, tiff, pnm, heif/avif, jxl, jp2), in any letter case. */
int folio_path_is_image(const char *path);

/* Content callback for folio_version_commit: reads BLOB/LINK entries from
 * the object store (payload is the folio_repo). */
int folio_repo_content_cb(void **out, size_t *len, const folio_entry *e,
			  void *payload);

/*
 * REPO/cache/: derived data, one folder per kind (docs/storage.md has each
 * format). Deleting any of it loses nothing.
 */
typedef enum folio_cache_kind {
	FOLIO_CACHE_ROOT,        /* REPO/cache itself */
	FOLIO_CACHE_FEATURES,    /* features/<2 hex>/<62 hex>: image features per object */
	FOLIO_CACHE_INDEX,       /* index/<tree key>.idx, LAST: sample tables */
	FOLIO_CACHE_VIEWS,       /* views/<key>.tree: file lists of computed view outputs */
	FOLIO_CACHE_OBJECTS,     /* objects/: a store of generated output files */
	FOLIO_CACHE_RAW,         /* raw/<oid>: decompressed objects the daemon serves */
	FOLIO_CACHE_LOG,         /* foliofs.log: the daemon's log (a file) */
} folio_cache_kind;

/* The path of kind's folder (name NULL) or of name inside it; FOLIO_EINVAL
 * when it does not fit in size. */
int folio_cache_path(char *out, size_t size, const char *repo_path, folio_cache_kind kind,
		     const char *name);
/* Makes REPO/cache and kind's folder if they are absent. */
int folio_cache_mkdir(const char *repo_path, folio_cache_kind kind);

/* Whether one line of /proc/self/mountinfo is a folio mount (type
 * fuse.foliofs, source "folio:REPO") on exactly the path mnt; if so and
 * repo is non-NULL, REPO goes there (0 if it does not fit in len). The
 * kernel's octal escapes (\040 for a space) are undone in both. */
int folio_mountinfo_match(char *repo, size_t len, const char *line, const char *mnt);

/* The same over this process's mount table: 1 if found, 0 if not, a
 * FOLIO_E* code if /proc/self/mountinfo cannot be read. */
int folio_mount_find(char *repo, size_t len, const char *mnt);

#endif
