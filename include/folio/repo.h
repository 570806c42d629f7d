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
 * Adding outside files to the stage (core/repo/add.c): `folio add`,
 * `folio import` and later tools share this path. A job is one file to
 * store: an outside file, or content a callback generates (the images of
 * an IDX import), and the dataset path it goes to.
 */
typedef enum folio_add_state {
	FOLIO_ADD_PENDING = 0,   /* not stored (yet) */
	FOLIO_ADD_CACHED,        /* unchanged since it was staged: e is the staged entry */
	FOLIO_ADD_STORED,        /* stored; e is filled */
	FOLIO_ADD_SKIPPED,       /* could not be read (keep_going): left out */
} folio_add_state;

typedef struct folio_add_job {
	char *src;               /* outside file (owned), or NULL: generated */
	const void *gen;         /* generated jobs: the generator's input (not owned) */
	folio_entry e;           /* e.path: dataset path (owned); the rest filled by the pool */
	folio_add_state state;
} folio_add_job;

typedef struct folio_add_jobs {
	folio_add_job *v;
	size_t n, cap;
} folio_add_jobs;

/* Appends a job (src and dest copied; src NULL for a generated one). */
int folio_add_jobs_push(folio_add_jobs *l, const char *src, const char *dest, const void *gen);
void folio_add_jobs_clear(folio_add_jobs *l);

typedef struct folio_add_opts {
	const char *what;        /* the command, recorded in the locks (default "folio add") */
	int threads;             /* storing threads; <= 0: folio_add_default_threads() */
	/*
	 * 0 (folio add): symbolic links are kept as links, and anything that
	 * is not a file, folder or link is an error. 1 (folio import, where a
	 * downloaded dataset is read as data): a link to a file is stored as
	 * the file, and links to folders or to nothing and special files
	 * inside a folder are skipped with a warning.
	 */
	int follow_links;
	/* a file that cannot be read is skipped with a warning ("skipped:
	 * <why>") instead of failing the add; a full disk or running out of
	 * memory still fails it */
	int keep_going;
	/* stage paths removed (with everything under them) before the jobs
	 * are merged: `folio add --replace` mirrors folders */
	const char *const *replace;
	size_t nreplace;
	/* makes a generated job's bytes (malloc'd, freed by the pool); called
	 * from the pool's threads, concurrently */
	int (*generate)(void **out, size_t *len, const folio_add_job *job, void *payload);
	/* under the repository lock, on the freshly read stage, before the
	 * jobs are merged into it (import declares its labels here) */
	int (*edit)(folio_tree *stage, folio_repo *repo, void *payload);
	/* jobs done of total, and bytes stored so far; on the calling thread,
	 * about every 50 ms and once at the end */
	void (*progress)(size_t done, size_t total, uint64_t bytes, void *payload);
	/* one-line warnings (skipped files); on the calling thread */
	void (*warn)(const char *message, void *payload);
	void *payload;           /* for the callbacks */
	folio_tree *stage_out;   /* if set: receives the stage as saved */
} folio_add_opts;

typedef struct folio_add_stats {
	size_t staged;           /* jobs merged into the stage */
	size_t cached;           /* of those, unchanged since staged: not read again */
	size_t skipped;          /* keep_going: could not be read, left out */
	size_t new_objects;      /* outside files whose content the store did not have */
	uint64_t new_bytes;      /* their size */
	uint64_t bytes;          /* bytes stored (read or generated), cached jobs not counted */
} folio_add_stats;

/* Threads for storing when not told: 2 x cores, at most 16. */
int folio_add_default_threads(void);

/*
 * Adds the file, link or folder src (recursively, in name order; ".git"
 * folders skipped with a warning) as jobs with dataset paths under dest
 * ("" for a folder: its files go to the root). Every path is validated
 * (folio_path_validate); uses opts' follow_links and warn (opts may be
 * NULL).
 */
int folio_add_collect(folio_add_jobs *l, const char *src, const char *dest,
		      const folio_add_opts *opts);

/*
 * Stores the jobs and merges them into the stage (the design is at the
 * top of core/repo/add.c): objects lock shared, stat cache, a pool of
 * threads, then the repository lock, a fresh read of the stage, opts'
 * replace and edit, the merge, a file/folder conflict check and the save.
 * Nothing is staged on failure ("...; nothing was staged"). Fills each
 * job's e and state, and *out.
 */
int folio_repo_add(folio_add_stats *out, folio_repo *repo, folio_add_jobs *jobs,
		   const folio_add_opts *opts);

/*
 * Stores buf as the file path of a sorted stage tree (replacing what was
 * there; kept as folio_classify says: a small text file is a git blob).
 * The caller holds the objects lock (as folio_add_opts' edit does) and
 * saves the stage.
 */
int folio_stage_put_buf(folio_tree *stage, folio_repo *repo, const char *path, const void *buf,
			size_t len);

/*
 * Checking a repository (core/repo/fsck.c): every object of the store is
 * hashed again, every commit reachable from a ref is read with its trees
 * and blobs, and every file of those versions and of the stage must have
 * a sound object. Problems are reported one by one, then counted.
 */
typedef enum folio_fsck_kind {
	FOLIO_FSCK_BAD_OBJECT = 1, /* an object of the store fails its hash or cannot be read */
	FOLIO_FSCK_BAD_GIT,      /* a commit, tree or blob that git cannot read */
	FOLIO_FSCK_MISSING,      /* a file whose object is not in the store */
	FOLIO_FSCK_CORRUPT,      /* a file whose object is corrupt */
	FOLIO_FSCK_BAD_STAGE,    /* the stage cannot be read */
} folio_fsck_kind;

typedef struct folio_fsck_problem {
	folio_fsck_kind kind;
	const char *message;     /* one line naming the object file, path and commit */
	const char *path;        /* MISSING, CORRUPT: the file; else NULL */
	const char *commit;      /* MISSING, CORRUPT: the commit (hex), NULL when staged */
	const folio_oid *oid;    /* BAD_OBJECT, MISSING, CORRUPT: the object; else NULL */
} folio_fsck_problem;

typedef struct folio_fsck_opts {
	int threads;             /* hashing threads; <= 0: one per core, at most 16 */
	/* each problem as it is found; on the calling thread */
	void (*problem)(const folio_fsck_problem *p, void *payload);
	/* objects verified of total, bytes so far; on the calling thread */
	void (*progress)(size_t done, size_t total, uint64_t bytes, void *payload);
	void *payload;
} folio_fsck_opts;

typedef struct folio_fsck_report {
	size_t commits;          /* commits reachable from the refs */
	size_t files;            /* distinct files of those versions */
	size_t objects;          /* objects in the store */
	uint64_t bytes;          /* the space they take */
	size_t problems;         /* problems reported */
} folio_fsck_report;

/* Checks everything; 0 when the check ran (problems are in *out), a
 * negative code when it could not (out of memory, no store). Takes no
 * lock. */
int folio_repo_fsck(folio_fsck_report *out, folio_repo *repo, const folio_fsck_opts *opts);

typedef struct folio_gc_opts {
	int dry_run;             /* only count what would be removed */
	int tmp_max_age;         /* seconds after which a temp file is a dead writer's (<= 0: 3600) */
	/* an object that could not be removed (the rest go on); calling thread */
	void (*warn)(const char *message, void *payload);
	void *payload;
} folio_gc_opts;

typedef struct folio_gc_report {
	size_t commits;          /* commits reachable from the refs */
	size_t removed;          /* objects removed (dry run: that would be) */
	uint64_t freed;          /* the space they took */
	size_t failed;           /* objects that could not be removed */
} folio_gc_report;

/*
 * Removes the objects no ref and no staged file reaches, and temp files of
 * killed writers. Takes the objects lock exclusively (waiting for running
 * adds), then the repository lock. FOLIO_ECORRUPT, removing nothing, when
 * a git object cannot be read. When some removals failed, *out is filled
 * and the first failure is returned.
 */
int folio_repo_gc(folio_gc_report *out, folio_repo *repo, const folio_gc_opts *opts);

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

/* The mount point of a folio mount of repository repo (an absolute path,
 * as the daemon names its source) into mnt: 1 if one is mounted, 0 if
 * not, a FOLIO_E* code if the mount table cannot be read. */
int folio_mount_of_repo(char *mnt, size_t len, const char *repo);

#endif
