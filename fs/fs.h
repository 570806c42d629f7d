/*
 * fs.h — foliofs internals: the daemon's state, node tables, version
 * indexes, the refs snapshot and the object cache. Only fs/ and
 * tools/foliofs/ include this; core/ never sees FUSE.
 *
 * DESIGN. One daemon serves two FUSE sessions:
 *
 *   MNT/             session "ro": read-only, mounted MS_RDONLY. Answers
 *                    OPEN, OPENDIR and FLUSH with ENOSYS (unless passthrough
 *                    mode), so the kernel stops sending them: a warm read
 *                    of a version file never reaches the daemon, and the
 *                    page cache and directory cache are kept.
 *   MNT/HEAD/        session "head": the writable stage, mounted on the ro
 *                    session's HEAD directory. Full open/flush protocol, so
 *                    the daemon knows when a written file is closed.
 *
 * Versions never change, so they get long kernel timeouts. A version is a
 * real folder wherever it is reached: commits/<id>/, and also
 * branches/<name>, tags/<name>, log/<date-id> and commits/<prefix>, so
 * find, du, tar, cp -r and rsync see its files at a ref's path with no
 * trailing slash or -L.
 *
 * Inode numbers are hashes, stable across mounts: a file's is a hash of its
 * content id and mode (identical content in any version shares one inode
 * and its page cache); a version folder's is a hash of its commit and path.
 * Linux lets a folder inode have one dentry only, so each *place* a
 * version is reached gives its folders numbers of their own: a folder
 * node carries an instance seed (0 under commits/<id>/, a hash of the ref
 * kind and name under tags/v1 and the others, see fs_ref_seed) that is
 * mixed into its number and handed from parent to child on every lookup
 * and listing. The version's data (tree, folder index, sample table,
 * views) is one copy for all places; only the small folder nodes differ.
 * When a ref moves, its name resolves to another inode (another commit),
 * the watcher drops the kernel's entry, and a process whose cwd is in the
 * old folder keeps reading the old version.
 *
 * The node table maps numbers back to nodes; nodes of versions are
 * immutable once published, and live as long as the daemon.
 *
 * Locks: nodes_lock (per shard) guards the node table; git_lock guards the
 * one libgit2 handle used to load versions; refs_lock guards the refs
 * snapshot pointer (snapshots are immutable and refcounted); the head
 * session has its own lock (head.c). No lock is held across a reply.
 */
#ifndef FOLIO_FS_H
#define FOLIO_FS_H

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "folio/error.h"
#include "folio/repo.h"
#include "folio/util.h"

#define FS_INO_ROOT 1
#define FS_INO_HEAD 2
#define FS_INO_BRANCHES 3
#define FS_INO_TAGS 4
#define FS_INO_COMMITS 5
#define FS_INO_LOG 6

/* Kernel cache timeouts in seconds. */
#define FS_TTL_FOREVER 1e7   /* immutable versions */
#define FS_TTL_REFS 1.0      /* branches/, tags/, log/, commits/ listings */
#define FS_TTL_HEAD 1.0      /* the writable stage */

typedef enum node_type {
	N_ROOT = 1, N_HEADSTUB, N_BRANCHES, N_TAGS, N_COMMITS, N_LOG,
	N_REFDIR,   /* intermediate folder of branch/tag names with '/' */
	N_VDIR,     /* folder of a version (also branches/x, tags/x, log/x, commits/<prefix>) */
	N_VFILE,    /* file of a version (shared by identical content) */
	N_VLINK,    /* symlink of a version */
	N_VMENU,    /* a folder of the @-view namespace (views.c) */
} node_type;

struct version;

typedef struct node {
	uint64_t ino;
	node_type type;
	/* N_VDIR: the version and the folder's index in it */
	struct version *v;
	uint32_t dir;
	/* N_VDIR, N_VMENU: instance seed of the place the version is reached
	 * from (0 under commits/<id>/), mixed into ino, inherited by children */
	uint64_t seed;
	/* N_VFILE, N_VLINK: content */
	folio_oid oid;
	uint64_t size;
	uint32_t mode;
	int64_t mtime;            /* seconds: commit time of the first version seen */
	/* N_REFDIR: kind ('B', 'T') and name (the folder's path of names);
	 * N_VMENU: the view (NULL: the "@" menu) and its arguments so far,
	 * joined by '/', with v the folder it is in */
	char kind;
	char *name;
	const struct folio_view *view;
	/* N_VFILE: cached open object file, -1 until opened (fd_lock) */
	int fd;
	int backing_id;           /* passthrough registration, 0 if none */
	pthread_mutex_t fd_lock;
	struct node *next;        /* hash chain */
} node;

/* A version's directory index, built once from its flattened tree. */
typedef struct vchild {
	const char *name;          /* points into the tree's paths */
	uint32_t len;
	uint32_t is_dir;
	uint32_t idx;              /* dir index or tree entry index */
} vchild;

typedef struct vdir {
	uint64_t ino;
	uint32_t parent;
	uint32_t first, count;     /* range in children[] */
	uint32_t nsub;             /* children that are folders (st_nlink - 2) */
	const char *path;          /* "" for the root; points into tree paths */
	uint32_t pathlen;
} vdir;

struct folio_index;

/* What a version folder is: a commit, or a view of one (views.c). */
enum { VK_COMMIT = 0, VK_SET, VK_OUTPUT, VK_PREVIEW };

typedef struct version {
	char id[FOLIO_COMMIT_HEXSZ + 1]; /* commit id; views: a hash of base and pipeline */
	int64_t time;
	folio_tree tree;
	vdir *dirs;
	size_t ndirs;
	vchild *children;
	size_t nchildren;
	struct version *next;      /* in fs->versions */

	/* views (views.c); immutable once published, except ix and prev */
	int vkind;                 /* VK_* */
	int stage;                 /* a VK_COMMIT made from the stage (.stage) */
	int ordered;               /* VK_SET: ranked (its names carry the rank) */
	int single;                /* VK_OUTPUT: a one-file output (tree.v[0]) */
	struct version *base;      /* the commit a view is of (NULL for a commit) */
	char *pipeline;            /* canonical pipeline text from the commit root */
	uint32_t *rows;            /* VK_SET, VK_PREVIEW: index row of each tree entry */
	struct folio_index *ix;    /* commit: sample table, built on first need (index_lock) */
	int ix_err;                /* commit: -errno of a failed build, 0 */
	pthread_mutex_t prev_lock; /* VK_PREVIEW: guards prev */
	struct prevent *prev;      /* VK_PREVIEW: rendered entries, one per tree entry */
	const struct folio_view *oview; /* VK_PREVIEW: the view that renders them */
	char *oargs;               /* VK_PREVIEW: its arguments, joined by '/' */
} version;

typedef struct refent {
	char *name;
	char id[FOLIO_COMMIT_HEXSZ + 1];
} refent;

typedef struct commitent {
	char id[FOLIO_COMMIT_HEXSZ + 1];
	int64_t time;
	char logname[64];           /* log/ entry name */
} commitent;

/* An immutable picture of the refs, swapped whole when refs change. */
typedef struct refsnap {
	atomic_int refcount;
	refent *branches, *tags;
	size_t nbranches, ntags;
	commitent *commits;         /* sorted by id */
	size_t ncommits;
	commitent **by_time;        /* newest first, for log/ */
	int64_t stamp;              /* when it was taken, seconds */
	uint64_t fingerprint;
} refsnap;

typedef struct head head;
typedef struct fs_passthrough fs_passthrough;

/* passthrough_mode: OPEN is answered (with the object file as backing
 * file where the kernel took passthrough) with FS_PT_ON; with FS_PT_AUTO
 * only once INIT has enabled passthrough; never with FS_PT_OFF. */
enum { FS_PT_OFF, FS_PT_ON, FS_PT_AUTO };

typedef struct fs {
	char *repo_path;
	char *mountpoint;
	folio_repo *repo;           /* store is thread-safe; version via git_lock */
	pthread_mutex_t git_lock;   /* guards repo->version */
	int passthrough_mode;       /* FS_PT_*: answer OPEN? */
	int debug;
	uid_t uid;
	gid_t gid;

	struct fuse_session *se_ro;
	struct fuse_session *se_head;
	fs_passthrough *pt;

	/* node table: NODE_SHARDS shards of chained buckets */
	pthread_mutex_t nodes_lock[64];
	node **buckets[64];
	size_t nbuckets[64], nnodes[64];

	pthread_mutex_t versions_lock;  /* guards versions list */
	version *versions;
	pthread_mutex_t index_lock;     /* held while a sample table is built */
	folio_store *gen;               /* REPO/cache/objects: generated view outputs */

	pthread_mutex_t refs_lock;      /* guards refs pointer */
	refsnap *refs;
	folio_version *watch_version;   /* the watcher thread's own handle */
	pthread_t watcher;
	atomic_int stop;

	atomic_int open_fds;            /* object fds cached in nodes */
	head *head;
	char cache_dir[FOLIO_PATH_BUF];           /* REPO/cache/raw: decompressed objects */
} fs;

/* log.c-free logging: one line per event, checked before formatting. */
#define FS_LOG(f, ...) do { if ((f)->debug) fs_log(__VA_ARGS__); } while (0)
void fs_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* nodes.c */
/* strerror for any thread (a per-thread buffer). */
const char *fs_errstr(int err);
uint64_t fs_hash(const void *data, size_t len, uint64_t seed);
node *fs_node_get(fs *f, uint64_t ino);
/* Inserts n unless a node with its ino exists; returns the node in the
 * table (n is freed if it lost the race). */
node *fs_node_put(fs *f, node *n);
node *fs_node_new(uint64_t ino, node_type type);
void fs_nodes_clear(fs *f);

/* versions.c */
/* Builds v's folder index from v->tree (sorted); -ENOMEM on failure. */
int fs_version_index(version *v);
int fs_version_get(version **out, fs *f, const char *commit_hex);
void fs_versions_clear(fs *f);
/* Node for a version folder or entry (created on first use).
 * fs_vdir_node is the folder as reached under commits/<id>/ (seed 0);
 * fs_vdir_instance the same folder reached from the place `seed`. */
node *fs_vdir_node(fs *f, version *v, uint32_t dir);
node *fs_vdir_instance(fs *f, version *v, uint32_t dir, uint64_t seed);
node *fs_ventry_node(fs *f, version *v, const folio_entry *e);
uint64_t fs_vdir_ino(const version *v, const char *path, size_t len);
/* The same number from the commit id alone (no version loaded). */
uint64_t fs_commit_dir_ino(const char *id, const char *path, size_t len);
/* A folder number as seen from place `seed` (ino itself for seed 0). */
uint64_t fs_instance_ino(uint64_t ino, uint64_t seed);
/* n as reached from place `seed`: folders and menus get a node of their
 * own (same version, index and menu), files are n itself. */
node *fs_node_instance(fs *f, node *n, uint64_t seed);
/* Child of a version folder by name; NULL if absent. */
const vchild *fs_vdir_lookup(const version *v, uint32_t dir, const char *name);

/* Registers a view version (id already set): returns the one in the table
 * (v is freed if another thread registered the same id first). */
version *fs_version_publish(fs *f, version *v);
version *fs_version_find(fs *f, const char *id);
void fs_version_free(version *v);

/* views.c: the @-namespace of a version folder. */
/* Child `name` (starting with '@') of a view root or of a menu. */
node *fs_view_child(fs *f, node *p, const char *name, int *err);
/* Entries of a menu folder (names, whether each is a folder); -errno. */
struct folio_view_menu;
int fs_view_list(fs *f, node *p, struct folio_view_menu *out);
/* The stage as a version folder (MNT/.stage, hidden), for HEAD's views. */
node *fs_stage_root(fs *f, int *err);
/* A file of a preview folder (rendered on first lookup). */
node *fs_preview_node(fs *f, version *v, uint32_t entry, int *err);

/* refs.c */
refsnap *fs_refs_acquire(fs *f);
void fs_refs_release(refsnap *r);
int fs_refs_start(fs *f);
/* Ends the watcher thread, which writes invalidations to the sessions'
 * /dev/fuse fds: before they close. The snapshot stays for the handlers. */
void fs_refs_stop_watcher(fs *f);
/* fs_refs_stop_watcher, then releases the snapshot. */
void fs_refs_stop(fs *f);
/* Inode of a folder of branch or tag names with '/' (kind 'B' or 'T'). */
uint64_t fs_reflink_ino(char kind, const char *name);
/* Instance seed of a version reached by name: kind 'b' branch, 't' tag,
 * 'l' log entry, 'p' commit prefix. Never 0 (that is commits/<id>/). */
uint64_t fs_ref_seed(char kind, const char *name);
/* Resolves a commits/<name> lookup: full id, or a unique prefix. */
const commitent *fs_refs_commit(const refsnap *r, const char *name, int *ambiguous);

/* objects.c: an fd for reading an object's raw bytes (zstd objects are
 * decompressed once into REPO/cache/raw/). Returns a new fd or -errno. */
int fs_object_open(fs *f, const folio_oid *oid);
/* The node's cached fd (opened on first use) or -errno. */
int fs_node_fd(fs *f, node *n);

/* Replies to READLINK with a link target stored as an object. */
void fs_reply_link(fs *f, fuse_req_t req, const folio_oid *oid);

/* ro.c / head.c */
extern const struct fuse_lowlevel_ops fs_ro_ops;
extern const struct fuse_lowlevel_ops fs_head_ops;
int fs_head_new(head **out, fs *f);
void fs_head_free(head *h);
/* errno for a FOLIO_E* code (the one place that speaks errno). */
int fs_errno(int folio_code);

#endif
