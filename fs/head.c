/*
 * head.c — the writable HEAD/ session: the stage as a folder.
 *
 * DESIGN. The view is the stage's file list (folio_tree) plus folders that
 * exist only in memory (git cannot record empty folders) plus files being
 * written. A file opened for writing is copied once into a data file under
 * REPO/stage/data/; writes go there. When a writer closes it (FLUSH) or
 * fsyncs it, the data file is streamed into the object store and the stage
 * entry is saved — durably: an object is fsynced before the stage that
 * names it, and the stage is replaced atomically — so after close + fsync
 * a killed daemon loses nothing, and `folio status` / `folio commit` see
 * the new content. A file still open for writing keeps its last saved
 * version in the stage, so a commit never sees a half-written file.
 *
 * The stage is shared with the CLI. The daemon saves under the repository
 * lock: if the stage on disk (index and journal, by inode, size and mtime)
 * is the one it last read or wrote, its changes (set, remove, rename) are
 * appended to the stage's journal, so a save costs the same at 100 files
 * or 100,000; otherwise it re-reads the stage, replays its changes on top
 * (CLI changes made meanwhile are kept) and rewrites it whole, as it does
 * when the journal has grown to half the index. It notices CLI changes by
 * the same identities, checked at most every 200 ms.
 *
 * Locking: one mutex (h->lock) guards the view, the node tables and every
 * node. Operations hold it throughout, including store writes and stage
 * saves: HEAD favours simplicity over parallel write throughput (reads of
 * versions do not touch it). Node inode numbers are per path, allocated on
 * first use and stable while the daemon runs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"

/* HEAD/@where and the other view names are links to the stage's views in
 * the versions mount, MNT/.stage/@where (views.c); their nodes are keyed
 * by a path no file can have. */
#define VIEWLINK "\001"
#define VIEWLINK_TARGET "../.stage/"

typedef struct hnode {
	uint64_t ino;
	char *path;            /* "" for the root */
	int dirty;             /* content is in data_fd / data_path */
	int changed;           /* written since the last save */
	int data_fd;
	char data_path[FOLIO_PATH_BUF];
	int writers;           /* open handles with write access */
	int unlinked;          /* removed while open */
	uint64_t size;         /* when dirty */
	uint32_t mode;         /* when dirty */
	struct hnode *next_ino, *next_path;
} hnode;

/* pending changes; op->path (and op->to) are owned, e.path is unused */
typedef folio_stage_op op;

struct head {
	fs *f;
	pthread_mutex_t lock;  /* guards everything below */
	folio_tree view;       /* the stage's files */
	char **edirs;          /* folders with no files, in memory only */
	size_t nedirs;
	op *ops;
	size_t nops, capops;
	hnode **by_ino, **by_path;
	size_t nbuckets, nnodes;
	uint64_t next_ino;
	struct stat stage_st;  /* identity of the stage file we last saw */
	struct stat journal_st;
	int stage_exists, journal_exists;
	double last_check;
	unsigned data_counter;
	char data_dir[FOLIO_PATH_MAX];
	int64_t mount_time;
};

static fs *FS(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- node tables ---- */

static uint64_t hstr(const char *s)
{
	return fs_hash(s, strlen(s), 3);
}

static int tables_grow(head *h)
{
	size_t nb = h->nbuckets ? h->nbuckets * 2 : 1024;
	hnode **bi = calloc(nb, sizeof *bi), **bp = calloc(nb, sizeof *bp);

	if (!bi || !bp) {
		free(bi);
		free(bp);
		return -ENOMEM;
	}
	for (size_t i = 0; i < h->nbuckets; i++) {
		for (hnode *n = h->by_ino[i], *next; n; n = next) {
			next = n->next_ino;
			n->next_ino = bi[n->ino % nb];
			bi[n->ino % nb] = n;
		}
		for (hnode *n = h->by_path[i], *next; n; n = next) {
			next = n->next_path;
			size_t k = hstr(n->path) % nb;
			n->next_path = bp[k];
			bp[k] = n;
		}
	}
	free(h->by_ino);
	free(h->by_path);
	h->by_ino = bi;
	h->by_path = bp;
	h->nbuckets = nb;
	return 0;
}

static hnode *by_ino(head *h, uint64_t ino)
{
	for (hnode *n = h->by_ino[ino % h->nbuckets]; n; n = n->next_ino)
		if (n->ino == ino)
			return n;
	return NULL;
}

static hnode *by_path(head *h, const char *path)
{
	for (hnode *n = h->by_path[hstr(path) % h->nbuckets]; n; n = n->next_path)
		if (!strcmp(n->path, path))
			return n;
	return NULL;
}

static void unlink_path(head *h, hnode *n)
{
	hnode **pp = &h->by_path[hstr(n->path) % h->nbuckets];
	while (*pp && *pp != n)
		pp = &(*pp)->next_path;
	if (*pp)
		*pp = n->next_path;
}

static void link_path(head *h, hnode *n)
{
	size_t k = hstr(n->path) % h->nbuckets;
	n->next_path = h->by_path[k];
	h->by_path[k] = n;
}

/* The node for path, created with a new inode number on first use. */
static hnode *node_for(head *h, const char *path)
{
	hnode *n = by_path(h, path);

	if (n)
		return n;
	if (h->nnodes >= h->nbuckets && tables_grow(h) < 0)
		return NULL;
	if (!(n = calloc(1, sizeof *n)) || !(n->path = strdup(path))) {
		free(n);
		return NULL;
	}
	n->ino = path[0] ? h->next_ino++ : FUSE_ROOT_ID;
	n->data_fd = -1;
	n->next_ino = h->by_ino[n->ino % h->nbuckets];
	h->by_ino[n->ino % h->nbuckets] = n;
	link_path(h, n);
	h->nnodes++;
	return n;
}

/* Takes a removed file's node out of the path table: a new file at that
 * path gets a new node and inode; open handles keep the old one. */
static void detach(head *h, hnode *n)
{
	unlink_path(h, n);
	n->unlinked = 1;
	n->next_path = NULL;
}

static void rename_node(head *h, hnode *n, const char *path)
{
	char *p = strdup(path);
	if (!p)
		return;
	unlink_path(h, n);
	free(n->path);
	n->path = p;
	link_path(h, n);
}

/* ---- the view ---- */


static int edir_index(const head *h, const char *path)
{
	for (size_t i = 0; i < h->nedirs; i++)
		if (!strcmp(h->edirs[i], path))
			return (int)i;
	return -1;
}

/* 1 if path is a folder: the root, has files below it, or an empty folder. */
static int is_dir(const head *h, const char *path)
{
	char pre[FOLIO_PATH_BUF];

	if (!path[0] || edir_index(h, path) >= 0)
		return 1;
	for (size_t i = 0; i < h->nedirs; i++)
		if (folio_path_under(h->edirs[i], path))
			return 1;
	snprintf(pre, sizeof pre, "%s/", path);
	size_t i = folio_tree_lower_bound(&h->view, pre);
	return i < h->view.n && folio_path_under(h->view.v[i].path, path);
}

static folio_entry *file_entry(const head *h, const char *path)
{
	return path[0] ? folio_tree_find(&h->view, path) : NULL;
}

static int view_set(head *h, const folio_entry *e)
{
	return folio_tree_set(&h->view, e) < 0 ? -ENOMEM : 0;
}

static void view_del(head *h, const char *path)
{
	folio_entry *e = folio_tree_find(&h->view, path);
	if (e)
		folio_tree_remove_at(&h->view, (size_t)(e - h->view.v));
}

/* ---- pending stage changes ---- */

static int op_push(head *h, folio_stage_op_type type, const char *path, const char *to, const folio_entry *e)
{
	if (h->nops == h->capops) {
		size_t cap = h->capops ? h->capops * 2 : 16;
		op *v = realloc(h->ops, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		h->ops = v;
		h->capops = cap;
	}
	op *o = &h->ops[h->nops];
	memset(o, 0, sizeof *o);
	o->type = type;
	o->path = strdup(path);
	o->to = to ? strdup(to) : NULL;
	if (!o->path || (to && !o->to)) {
		free(o->path);
		free(o->to);
		return -ENOMEM;
	}
	if (e) {
		o->e = *e;
		o->e.path = o->path;
	}
	h->nops++;
	return 0;
}

static void ops_clear(head *h)
{
	for (size_t i = 0; i < h->nops; i++) {
		free(h->ops[i].path);
		free(h->ops[i].to);
	}
	h->nops = 0;
}

static int same_file(int exists, const struct stat *st, int was, const struct stat *seen)
{
	return exists == was && (!exists ||
		(st->st_ino == seen->st_ino && st->st_size == seen->st_size &&
		 st->st_mtim.tv_sec == seen->st_mtim.tv_sec &&
		 st->st_mtim.tv_nsec == seen->st_mtim.tv_nsec));
}

/* The identity (inode, size, mtime) of the stage's index and journal. */
static void stage_ids(head *h, int *iexists, struct stat *ist, int *jexists, struct stat *jst)
{
	char p[FOLIO_PATH_BUF];
	snprintf(p, sizeof p, "%s/stage/index", h->f->repo_path);
	*iexists = stat(p, ist) == 0;
	snprintf(p, sizeof p, "%s/stage/journal", h->f->repo_path);
	*jexists = stat(p, jst) == 0;
}

static void remember_stage(head *h)
{
	stage_ids(h, &h->stage_exists, &h->stage_st, &h->journal_exists, &h->journal_st);
	h->last_check = now_s();
}

/* Whether the stage on disk is still the one we last read or wrote. */
static int stage_unchanged(head *h)
{
	int ie, je;
	struct stat ist, jst;
	stage_ids(h, &ie, &ist, &je, &jst);
	return ie && same_file(ie, &ist, h->stage_exists, &h->stage_st) &&
	       same_file(je, &jst, h->journal_exists, &h->journal_st);
}

/* A file being written, not in the stage yet, is in the view all the
 * same (inserted in order: no sort of the whole view). */
static int add_placeholder(head *h, const hnode *n)
{
	if (folio_tree_find(&h->view, n->path))
		return 0;
	folio_entry e = { 0 };
	e.path = n->path;
	e.kind = FOLIO_ENTRY_LFS;
	e.mode = n->mode ? n->mode : FOLIO_MODE_FILE;
	return folio_tree_set(&h->view, &e) < 0 ? -ENOMEM : 0;
}

/* Keeps files being written visible when the view is rebuilt. */
static int add_dirty_placeholders(head *h)
{
	for (size_t b = 0; b < h->nbuckets; b++)
		for (hnode *n = h->by_ino[b]; n; n = n->next_ino)
			if (n->dirty && !n->unlinked && add_placeholder(h, n) < 0)
				return -ENOMEM;
	return 0;
}

/* Writes the pending changes into the stage (durably) under the repository
 * lock. If the stage on disk is the one we last saw, they are appended to
 * its journal (a few hundred bytes, whatever the dataset's size) and the
 * view, which the handlers keep, is already the result. Otherwise (the CLI
 * changed it, or there is no stage file yet), and when the journal has
 * grown to half the index, the stage is re-read, the changes are replayed
 * on top and checked, and the whole stage is rewritten: the view becomes
 * that result. */
static int save(head *h)
{
	fs *f = h->f;
	folio_tree t;
	char base[FOLIO_COMMIT_HEXSZ + 1];
	int rc;

	if (!h->nops)
		return 0;
	if ((rc = folio_repo_lock(f->repo, "foliofs (HEAD/)")) < 0) {
		fs_log("cannot save the stage: %s", folio_error_last());
		return -fs_errno(rc);
	}
	/* compact once the journal reaches half the index (plus 256 KiB, so
	 * a small stage is not rewritten every few saves) */
	if (stage_unchanged(h) &&
	    (!h->journal_exists || h->journal_st.st_size < 256 * 1024 + h->stage_st.st_size / 2)) {
		rc = folio_stage_append(f->repo, h->ops, h->nops);
		if (rc == 0) {
			ops_clear(h);
			remember_stage(h);
			goto out;
		}
		if (rc != FOLIO_ENOTFOUND)
			goto out;
	}
	if ((rc = folio_stage_load(&t, base, f->repo)) < 0)
		goto out;
	if ((rc = folio_stage_apply(&t, h->ops, h->nops)) < 0 ||
	    (rc = folio_tree_check_conflicts(&t)) < 0 ||
	    (rc = folio_stage_save(f->repo, &t, base)) < 0) {
		folio_tree_clear(&t);
		goto out;
	}
	folio_tree_clear(&h->view);
	h->view = t;
	ops_clear(h);
	remember_stage(h);
	if (add_dirty_placeholders(h) < 0)
		rc = FOLIO_ENOMEM;
out:
	if (rc < 0) {
		fs_log("cannot save the stage: %s", folio_error_last());
		rc = -fs_errno(rc);
	}
	folio_repo_unlock(f->repo);
	return rc;
}

/* Re-reads the stage if the CLI changed it (at most every 200 ms). */
static void refresh(head *h)
{
	struct stat st;
	double t = now_s();

	if (t - h->last_check < 0.2)
		return;
	h->last_check = t;
	int exists, jexists;
	struct stat jst;
	stage_ids(h, &exists, &st, &jexists, &jst);
	if (same_file(exists, &st, h->stage_exists, &h->stage_st) &&
	    same_file(jexists, &jst, h->journal_exists, &h->journal_st)) {
		if (exists)
			return;
		/* no stage file: the stage is HEAD's tree, which moves with
		 * switch; re-read it (cheap next to the rest) */
	}
	folio_tree nt;
	char base[FOLIO_COMMIT_HEXSZ + 1];
	pthread_mutex_lock(&h->f->git_lock);
	int rc = folio_stage_load(&nt, base, h->f->repo);
	pthread_mutex_unlock(&h->f->git_lock);
	if (rc < 0) {
		fs_log("cannot read the stage: %s", folio_error_last());
		return;
	}
	if (folio_stage_apply(&nt, h->ops, h->nops) < 0) {
		folio_tree_clear(&nt);
		return;
	}
	folio_tree_clear(&h->view);
	h->view = nt;
	h->stage_exists = exists;
	if (exists)
		h->stage_st = st;
	h->journal_exists = jexists;
	if (jexists)
		h->journal_st = jst;
	add_dirty_placeholders(h);
	FS_LOG(h->f, "HEAD/: stage re-read, %zu files", h->view.n);
}

/* ---- attributes ---- */

static int attr_of(head *h, hnode *n, struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_ino = n->ino;
	st->st_uid = h->f->uid;
	st->st_gid = h->f->gid;
	st->st_mtime = st->st_ctime = st->st_atime = h->mount_time;
	if (n->path[0] == VIEWLINK[0]) {
		st->st_mode = S_IFLNK | 0777;
		st->st_nlink = 1;
		st->st_size = (off_t)(strlen(VIEWLINK_TARGET) + strlen(n->path) - 1);
		return 0;
	}
	if (!n->unlinked && is_dir(h, n->path)) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
		return 0;
	}
	folio_entry *e = n->unlinked ? NULL : file_entry(h, n->path);
	if (!e && !(n->dirty && n->unlinked))
		return -ENOENT;
	st->st_nlink = n->unlinked ? 0 : 1;
	st->st_blksize = 65536;
	if (n->dirty) {
		st->st_mode = S_IFREG | (n->mode == FOLIO_MODE_EXEC ? 0755 : 0644);
		st->st_size = (off_t)n->size;
	} else {
		st->st_mode = e->kind == FOLIO_ENTRY_LINK ? S_IFLNK | 0777 :
			      S_IFREG | (e->mode == FOLIO_MODE_EXEC ? 0755 : 0644);
		st->st_size = (off_t)e->size;
		if (e->mtime_ns > 0) {
			st->st_mtim.tv_sec = e->mtime_ns / 1000000000;
			st->st_mtim.tv_nsec = e->mtime_ns % 1000000000;
		}
	}
	st->st_blocks = (st->st_size + 511) / 512;
	return 0;
}

static int entry_param(head *h, hnode *n, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof *e);
	e->ino = n->ino;
	e->generation = 1;
	e->attr_timeout = e->entry_timeout = FS_TTL_HEAD;
	return attr_of(h, n, &e->attr);
}

static int child_path(char *out, size_t len, head *h, fuse_ino_t parent, const char *name)
{
	hnode *p = by_ino(h, parent);

	if (!p || !is_dir(h, p->path))
		return p ? -ENOTDIR : -ENOENT;
	if ((size_t)snprintf(out, len, "%s%s%s", p->path, p->path[0] ? "/" : "", name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* ---- operations ---- */

static void h_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	head *h = FS(req)->head;
	char path[FOLIO_PATH_BUF];
	struct fuse_entry_param e;
	int rc;

	pthread_mutex_lock(&h->lock);
	refresh(h);
	if ((rc = child_path(path, sizeof path, h, parent, name)) == 0) {
		if (!file_entry(h, path) && !is_dir(h, path) && parent == FUSE_ROOT_ID &&
		    name[0] == '@' && strlen(name) < 200) {
			/* a view of the stage: a link into the versions mount */
			char key[256];
			snprintf(key, sizeof key, "%s%s", VIEWLINK, name);
			hnode *n = node_for(h, key);
			rc = n ? entry_param(h, n, &e) : -ENOMEM;
		} else if (!file_entry(h, path) && !is_dir(h, path)) {
			rc = -ENOENT;
		} else {
			hnode *n = node_for(h, path);
			rc = n ? entry_param(h, n, &e) : -ENOMEM;
		}
	}
	pthread_mutex_unlock(&h->lock);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_entry(req, &e);
}

static void h_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	head *h = FS(req)->head;
	struct stat st;
	int rc;
	(void)fi;

	pthread_mutex_lock(&h->lock);
	refresh(h);
	hnode *n = by_ino(h, ino);
	rc = n ? attr_of(h, n, &st) : -ENOENT;
	pthread_mutex_unlock(&h->lock);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, FS_TTL_HEAD);
}

/* Copies n's current content into a new data file (empty when trunc). */
static int materialize(head *h, hnode *n, int trunc)
{
	fs *f = h->f;
	folio_entry *e = file_entry(h, n->path);
	int rc;

	if (n->dirty) {
		if (trunc && ftruncate(n->data_fd, 0) < 0)
			return -errno;
		if (trunc) {
			n->size = 0;
			n->changed = 1;
		}
		return 0;
	}
	snprintf(n->data_path, sizeof n->data_path, "%s/%llu-%u", h->data_dir,
		 (unsigned long long)n->ino, h->data_counter++);
	unlink(n->data_path);
	if (!trunc && e && e->size > 0) {
		char how;
		if ((rc = folio_store_checkout(&how, f->repo->store, &e->oid, n->data_path, 0600, 0)) < 0) {
			fs_log("HEAD/%s: cannot copy for writing: %s", n->path, folio_error_last());
			return -fs_errno(rc);
		}
		n->data_fd = open(n->data_path, O_RDWR | O_CLOEXEC);
	} else {
		n->data_fd = open(n->data_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	}
	if (n->data_fd < 0) {
		rc = -errno;
		unlink(n->data_path);
		return rc;
	}
	n->dirty = 1;
	n->size = trunc || !e ? 0 : e->size;
	n->mode = e ? e->mode : FOLIO_MODE_FILE;
	n->changed = trunc || !e;
	return 0;
}

static void drop_data(hnode *n)
{
	if (n->data_fd >= 0)
		close(n->data_fd);
	n->data_fd = -1;
	if (n->data_path[0])
		unlink(n->data_path);
	n->data_path[0] = '\0';
	n->dirty = 0;
	n->changed = 0;
}

/* Stores the data file as an object and records it in the stage. */
static int finalize(head *h, hnode *n)
{
	fs *f = h->f;
	unsigned char sniff[FOLIO_CLASSIFY_SNIFF];
	folio_entry e = { 0 };
	uint64_t size = 0;
	int rc, fd;

	if (!n->dirty || !n->changed || n->unlinked)
		return 0;
	if (fsync(n->data_fd) < 0)
		return -errno;
	if ((fd = open(n->data_path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	ssize_t got = pread(fd, sniff, sizeof sniff, 0);
	if ((rc = folio_repo_lock_objects(f->repo, 0, "foliofs")) < 0 ||
	    (rc = folio_store_put_fd(&e.oid, &size, NULL, f->repo->store, fd, n->path)) < 0) {
		close(fd);
		folio_repo_unlock_objects(f->repo);
		fs_log("HEAD/%s: cannot store: %s", n->path, folio_error_last());
		return -fs_errno(rc);
	}
	close(fd);
	e.path = n->path;
	e.size = size;
	e.mode = n->mode ? n->mode : FOLIO_MODE_FILE;
	e.kind = folio_classify(n->path, size, sniff, got > 0 ? (size_t)got : 0);
	if ((rc = op_push(h, FOLIO_STAGE_SET, n->path, NULL, &e)) == 0 && (rc = view_set(h, &e)) == 0)
		rc = save(h);
	folio_repo_unlock_objects(f->repo);
	if (rc == 0)
		n->changed = 0;
	FS_LOG(f, "HEAD/%s: saved %llu bytes", n->path, (unsigned long long)size);
	return rc;
}

typedef struct hfile {
	hnode *n;
	int fd;            /* clean read: object fd; -1 when reading the data file */
	int writable;
} hfile;

static void h_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	head *h = FS(req)->head;
	hfile *hf = calloc(1, sizeof *hf);
	int rc = 0;

	if (!hf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	hf->fd = -1;
	pthread_mutex_lock(&h->lock);
	hnode *n = by_ino(h, ino);
	folio_entry *e = n ? file_entry(h, n->path) : NULL;
	if (!n || (!e && !n->dirty)) {
		rc = n && is_dir(h, n->path) ? -EISDIR : -ENOENT;
	} else if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
		rc = materialize(h, n, (fi->flags & O_TRUNC) != 0);
		if (rc == 0) {
			n->writers++;
			hf->writable = 1;
		}
	} else if (!n->dirty) {
		hf->fd = fs_object_open(h->f, &e->oid);
		if (hf->fd < 0)
			rc = hf->fd;
	}
	hf->n = n;
	pthread_mutex_unlock(&h->lock);
	if (rc < 0) {
		free(hf);
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)hf;
	fi->noflush = !hf->writable;
	fuse_reply_open(req, fi);
}

static void h_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		     struct fuse_file_info *fi)
{
	head *h = FS(req)->head;
	char path[FOLIO_PATH_BUF];
	struct fuse_entry_param e;
	hfile *hf = calloc(1, sizeof *hf);
	int rc;

	if (!hf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	hf->fd = -1;
	pthread_mutex_lock(&h->lock);
	refresh(h);
	hnode *n = NULL;
	if ((rc = child_path(path, sizeof path, h, parent, name)) == 0 &&
	    (rc = folio_path_validate(path) < 0 ? -EINVAL : 0) == 0) {
		if (is_dir(h, path))
			rc = -EISDIR;
		else if (!(n = node_for(h, path)))
			rc = -ENOMEM;
		else if ((rc = materialize(h, n, 1)) == 0) {
			n->unlinked = 0;
			n->mode = (mode & 0111) ? FOLIO_MODE_EXEC : FOLIO_MODE_FILE;
			n->changed = 1;
			n->writers++;
			hf->writable = 1;
			hf->n = n;
			if ((rc = add_placeholder(h, n)) == 0)
				rc = entry_param(h, n, &e);
		}
	}
	pthread_mutex_unlock(&h->lock);
	if (rc < 0) {
		free(hf);
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)hf;
	fuse_reply_create(req, &e, fi);
}

static void h_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	head *h = FS(req)->head;
	hfile *hf = (hfile *)(uintptr_t)fi->fh;
	int fd;
	(void)ino;

	pthread_mutex_lock(&h->lock);
	/* Once anyone writes the file, every handle reads what was written. */
	fd = hf->n->dirty ? dup(hf->n->data_fd) : dup(hf->fd);
	pthread_mutex_unlock(&h->lock);
	if (fd < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = fd;
	buf.buf[0].pos = off;
	fuse_reply_data(req, &buf, 0);
	close(fd);
}

static void h_write(fuse_req_t req, fuse_ino_t ino, const char *data, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	head *h = FS(req)->head;
	hfile *hf = (hfile *)(uintptr_t)fi->fh;
	ssize_t n;
	(void)ino;

	pthread_mutex_lock(&h->lock);
	if (!hf->writable || !hf->n->dirty) {
		pthread_mutex_unlock(&h->lock);
		fuse_reply_err(req, EBADF);
		return;
	}
	n = pwrite(hf->n->data_fd, data, size, off);
	if (n > 0) {
		hf->n->changed = 1;
		if ((uint64_t)off + (uint64_t)n > hf->n->size)
			hf->n->size = (uint64_t)off + (uint64_t)n;
	}
	int err = errno;
	pthread_mutex_unlock(&h->lock);
	if (n < 0)
		fuse_reply_err(req, err);
	else
		fuse_reply_write(req, (size_t)n);
}

static void h_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	head *h = FS(req)->head;
	hfile *hf = (hfile *)(uintptr_t)fi->fh;
	int rc = 0;
	(void)ino;

	pthread_mutex_lock(&h->lock);
	if (hf->writable)
		rc = finalize(h, hf->n);
	pthread_mutex_unlock(&h->lock);
	fuse_reply_err(req, -rc);
}

static void h_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	(void)datasync;
	/* Saving is always durable: fsync is flush. */
	h_flush(req, ino, fi);
}

static void h_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	head *h = FS(req)->head;
	hfile *hf = (hfile *)(uintptr_t)fi->fh;
	(void)ino;

	pthread_mutex_lock(&h->lock);
	hnode *n = hf->n;
	if (hf->writable) {
		if (n->changed && !n->unlinked && finalize(h, n) < 0)
			fs_log("HEAD/%s: changes after the last close are lost: %s", n->path, folio_error_last());
		if (--n->writers == 0 && !n->changed)
			drop_data(n);
	}
	if (hf->fd >= 0)
		close(hf->fd);
	pthread_mutex_unlock(&h->lock);
	free(hf);
	fuse_reply_err(req, 0);
}

static void h_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		      struct fuse_file_info *fi)
{
	head *h = FS(req)->head;
	struct stat st;
	int rc = 0;
	(void)fi;

	pthread_mutex_lock(&h->lock);
	hnode *n = by_ino(h, ino);
	folio_entry *e = n ? file_entry(h, n->path) : NULL;
	if (!n) {
		rc = -ENOENT;
	} else if ((to_set & (FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_MODE)) && !e && !n->dirty) {
		rc = is_dir(h, n->path) ? ((to_set & FUSE_SET_ATTR_SIZE) ? -EISDIR : 0) : -ENOENT;
	} else {
		if (to_set & FUSE_SET_ATTR_SIZE) {
			if ((rc = materialize(h, n, 0)) == 0 && ftruncate(n->data_fd, attr->st_size) < 0)
				rc = -errno;
			if (rc == 0) {
				n->size = (uint64_t)attr->st_size;
				n->changed = 1;
				if (n->writers == 0) {
					/* truncate(2) on a closed file: save now */
					rc = finalize(h, n);
					drop_data(n);
				}
			}
		}
		if (rc == 0 && (to_set & FUSE_SET_ATTR_MODE)) {
			uint32_t mode = (attr->st_mode & 0111) ? FOLIO_MODE_EXEC : FOLIO_MODE_FILE;
			if (n->dirty) {
				n->mode = mode;
				n->changed = 1;
			} else if (e && e->kind != FOLIO_ENTRY_LINK && e->mode != mode) {
				folio_entry ne = *e;
				ne.mode = mode;
				if ((rc = op_push(h, FOLIO_STAGE_SET, e->path, NULL, &ne)) == 0) {
					e->mode = mode;
					rc = save(h);
				}
			}
		}
	}
	if (rc == 0)
		rc = attr_of(h, n, &st);
	pthread_mutex_unlock(&h->lock);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, FS_TTL_HEAD);
}

static void h_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	head *h = FS(req)->head;
	char path[FOLIO_PATH_BUF];
	int rc;

	pthread_mutex_lock(&h->lock);
	refresh(h);
	if ((rc = child_path(path, sizeof path, h, parent, name)) == 0) {
		hnode *n = by_path(h, path);
		folio_entry *e = file_entry(h, path);
		if (!e && !(n && n->dirty))
			rc = is_dir(h, path) ? -EISDIR : -ENOENT;
		else {
			if (n && n->dirty && n->writers == 0)
				drop_data(n);
			view_del(h, path);
			if ((rc = op_push(h, FOLIO_STAGE_DEL, path, NULL, NULL)) == 0)
				rc = save(h);
			if (n)
				detach(h, n);
		}
	}
	pthread_mutex_unlock(&h->lock);
	fuse_reply_err(req, -rc);
}

static void h_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	head *h = FS(req)->head;
	char path[FOLIO_PATH_BUF];
	struct fuse_entry_param e;
	int rc;
	(void)mode;

	pthread_mutex_lock(&h->lock);
	refresh(h);
	if ((rc = child_path(path, sizeof path, h, parent, name)) == 0) {
		if (folio_path_validate(path) < 0)
			rc = -EINVAL;
		else if (file_entry(h, path) || is_dir(h, path))
			rc = -EEXIST;
		else {
			char **v = realloc(h->edirs, (h->nedirs + 1) * sizeof *v);
			if (!v || !(v[h->nedirs] = strdup(path)))
				rc = -ENOMEM;
			if (v) {
				h->edirs = v;
				if (rc == 0)
					h->nedirs++;
			}
			hnode *n = rc == 0 ? node_for(h, path) : NULL;
			rc = n ? entry_param(h, n, &e) : (rc ? rc : -ENOMEM);
		}
	}
	pthread_mutex_unlock(&h->lock);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_entry(req, &e);
}

static int dir_empty(head *h, const char *path)
{
	char pre[FOLIO_PATH_BUF];
	snprintf(pre, sizeof pre, "%s/", path);
	size_t i = folio_tree_lower_bound(&h->view, pre);
	if (i < h->view.n && folio_path_under(h->view.v[i].path, path))
		return 0;
	for (size_t k = 0; k < h->nedirs; k++)
		if (folio_path_under(h->edirs[k], path))
			return 0;
	return 1;
}

static void h_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	head *h = FS(req)->head;
	char path[FOLIO_PATH_BUF];
	int rc;

	pthread_mutex_lock(&h->lock);
	refresh(h);
	if ((rc = child_path(path, sizeof path, h, parent, name)) == 0) {
		if (!is_dir(h, path))
			rc = file_entry(h, path) ? -ENOTDIR : -ENOENT;
		else if (!dir_empty(h, path))
			rc = -ENOTEMPTY;
		else {
			int i = edir_index(h, path);
			if (i >= 0) {
				free(h->edirs[i]);
				h->edirs[i] = h->edirs[--h->nedirs];
			}
		}
	}
	pthread_mutex_unlock(&h->lock);
	fuse_reply_err(req, -rc);
}

static void h_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		     const char *newname, unsigned int flags)
{
	head *h = FS(req)->head;
	char from[FOLIO_PATH_BUF], to[FOLIO_PATH_BUF];
	int rc;

	if (flags & ~RENAME_NOREPLACE) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	pthread_mutex_lock(&h->lock);
	refresh(h);
	if ((rc = child_path(from, sizeof from, h, parent, name)) < 0 ||
	    (rc = child_path(to, sizeof to, h, newparent, newname)) < 0)
		goto out;
	if (folio_path_validate(to) < 0) {
		rc = -EINVAL;
		goto out;
	}
	int src_file = file_entry(h, from) != NULL, src_dir = !src_file && is_dir(h, from);
	int dst_file = file_entry(h, to) != NULL, dst_dir = !dst_file && is_dir(h, to);
	if (!src_file && !src_dir) {
		hnode *sn = by_path(h, from);
		if (!(sn && sn->dirty)) {
			rc = -ENOENT;
			goto out;
		}
		src_file = 1;
	}
	if (!strcmp(from, to))
		goto out;
	if (src_dir && folio_path_under(to, from)) {
		rc = -EINVAL;
		goto out;
	}
	if ((dst_file || dst_dir) && (flags & RENAME_NOREPLACE)) {
		rc = -EEXIST;
		goto out;
	}
	if (src_file && dst_dir) {
		rc = -EISDIR;
		goto out;
	}
	if (src_dir && dst_file) {
		rc = -ENOTDIR;
		goto out;
	}
	if (dst_dir && !dir_empty(h, to)) {
		rc = -ENOTEMPTY;
		goto out;
	}
	/* Finish writes in progress under the source first, so the stage and
	 * the data files agree about paths. */
	if (dst_file) {
		view_del(h, to);
		if ((rc = op_push(h, FOLIO_STAGE_DEL, to, NULL, NULL)) < 0)
			goto out;
		hnode *old = by_path(h, to);
		if (old) {
			if (old->dirty && old->writers == 0)
				drop_data(old);
			detach(h, old);
		}
	}
	if (dst_dir) {
		int i = edir_index(h, to);
		if (i >= 0) {
			free(h->edirs[i]);
			h->edirs[i] = h->edirs[--h->nedirs];
		}
	}
	if ((rc = op_push(h, FOLIO_STAGE_REN, from, to, NULL)) < 0)
		goto out;
	op ren = { .type = FOLIO_STAGE_REN, .path = from, .to = to };
	if (folio_stage_apply(&h->view, &ren, 1) < 0) {
		rc = -ENOMEM;
		goto out;
	}
	size_t fl = strlen(from);
	for (size_t i = 0; i < h->nedirs; i++)
		if (!strcmp(h->edirs[i], from) || folio_path_under(h->edirs[i], from)) {
			char np[FOLIO_PATH_BUF];
			snprintf(np, sizeof np, "%s%s", to, h->edirs[i] + fl);
			char *d = strdup(np);
			if (d) {
				free(h->edirs[i]);
				h->edirs[i] = d;
			}
		}
	/* Nodes follow their paths (collect first: renaming rehashes). */
	size_t cnt = 0;
	for (size_t b = 0; b < h->nbuckets; b++)
		for (hnode *n = h->by_ino[b]; n; n = n->next_ino)
			cnt += !n->unlinked && n->path[0] && (!strcmp(n->path, from) || folio_path_under(n->path, from));
	hnode **move = calloc(cnt ? cnt : 1, sizeof *move);
	if (!move) {
		rc = -ENOMEM;
		goto out;
	}
	cnt = 0;
	for (size_t b = 0; b < h->nbuckets; b++)
		for (hnode *n = h->by_ino[b]; n; n = n->next_ino)
			if (!n->unlinked && n->path[0] && (!strcmp(n->path, from) || folio_path_under(n->path, from)))
				move[cnt++] = n;
	for (size_t i = 0; i < cnt; i++) {
		char np[FOLIO_PATH_BUF];
		snprintf(np, sizeof np, "%s%s", to, move[i]->path + fl);
		rename_node(h, move[i], np);
	}
	free(move);
	rc = save(h);
out:
	pthread_mutex_unlock(&h->lock);
	fuse_reply_err(req, -rc);
}

static void h_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	head *h = FS(req)->head;
	char path[FOLIO_PATH_BUF];
	struct fuse_entry_param ep;
	folio_entry e = { 0 };
	int rc;

	pthread_mutex_lock(&h->lock);
	refresh(h);
	if ((rc = child_path(path, sizeof path, h, parent, name)) < 0)
		goto out;
	if (folio_path_validate(path) < 0 || !link[0] || !folio_utf8_valid(link, strlen(link))) {
		rc = -EINVAL;
		goto out;
	}
	if (file_entry(h, path) || is_dir(h, path)) {
		rc = -EEXIST;
		goto out;
	}
	if ((rc = folio_repo_lock_objects(h->f->repo, 0, "foliofs")) < 0 ||
	    (rc = folio_store_put_buf(&e.oid, h->f->repo->store, link, strlen(link))) < 0) {
		folio_repo_unlock_objects(h->f->repo);
		rc = -fs_errno(rc);
		goto out;
	}
	e.path = path;
	e.kind = FOLIO_ENTRY_LINK;
	e.mode = FOLIO_MODE_LINK;
	e.size = strlen(link);
	if ((rc = op_push(h, FOLIO_STAGE_SET, path, NULL, &e)) == 0 && (rc = view_set(h, &e)) == 0)
		rc = save(h);
	folio_repo_unlock_objects(h->f->repo);
	if (rc == 0) {
		hnode *n = node_for(h, path);
		rc = n ? entry_param(h, n, &ep) : -ENOMEM;
	}
out:
	pthread_mutex_unlock(&h->lock);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_entry(req, &ep);
}

static void h_readlink(fuse_req_t req, fuse_ino_t ino)
{
	head *h = FS(req)->head;
	folio_oid oid;
	int rc = 0;

	pthread_mutex_lock(&h->lock);
	hnode *n = by_ino(h, ino);
	if (n && n->path[0] == VIEWLINK[0]) {
		char t[300];
		snprintf(t, sizeof t, "%s%s", VIEWLINK_TARGET, n->path + 1);
		pthread_mutex_unlock(&h->lock);
		fuse_reply_readlink(req, t);
		return;
	}
	folio_entry *e = n ? file_entry(h, n->path) : NULL;
	if (!e || e->kind != FOLIO_ENTRY_LINK)
		rc = e ? -EINVAL : -ENOENT;
	else
		oid = e->oid;
	pthread_mutex_unlock(&h->lock);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fs_reply_link(h->f, req, &oid);
}

/* A folder listing, taken at opendir. */
typedef struct hdir {
	char **names;
	uint64_t *inos;
	unsigned char *isdir;
	size_t n;
} hdir;

static int hdir_add(hdir *d, size_t *cap, const char *name, size_t len)
{
	if (d->n && strlen(d->names[d->n - 1]) == len && !strncmp(d->names[d->n - 1], name, len))
		return 0;
	for (size_t i = 0; i < d->n; i++)
		if (strlen(d->names[i]) == len && !strncmp(d->names[i], name, len))
			return 0;
	if (d->n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		char **nv = realloc(d->names, *cap * sizeof *nv);
		if (!nv)
			return -ENOMEM;
		d->names = nv;
	}
	if (!(d->names[d->n] = strndup(name, len)))
		return -ENOMEM;
	d->n++;
	return 0;
}

static void h_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	head *h = FS(req)->head;
	hdir *d = calloc(1, sizeof *d);
	size_t cap = 0;
	int rc = 0;

	if (!d) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_lock(&h->lock);
	refresh(h);
	hnode *p = by_ino(h, ino);
	if (!p || !is_dir(h, p->path)) {
		rc = p ? -ENOTDIR : -ENOENT;
		goto out;
	}
	size_t pl = strlen(p->path);
	char pre[FOLIO_PATH_BUF];
	snprintf(pre, sizeof pre, "%s/", p->path);
	size_t start = pl ? folio_tree_lower_bound(&h->view, pre) : 0;
	/* files and folders with files; names of one level, deduplicated
	 * (paths under one folder are contiguous but interleave with
	 * same-prefix names, so hdir_add checks all names: fine for HEAD) */
	for (size_t i = start; i < h->view.n && rc == 0; i++) {
		const char *path = h->view.v[i].path;
		if (pl && !folio_path_under(path, p->path))
			break;
		const char *rest = path + (pl ? pl + 1 : 0);
		const char *slash = strchr(rest, '/');
		rc = hdir_add(d, &cap, rest, slash ? (size_t)(slash - rest) : strlen(rest));
	}
	for (size_t i = 0; i < h->nedirs && rc == 0; i++) {
		if (!folio_path_under(h->edirs[i], p->path))
			continue;
		const char *rest = h->edirs[i] + (pl ? pl + 1 : 0);
		const char *slash = strchr(rest, '/');
		rc = hdir_add(d, &cap, rest, slash ? (size_t)(slash - rest) : strlen(rest));
	}
out:
	pthread_mutex_unlock(&h->lock);
	if (rc < 0) {
		for (size_t i = 0; i < d->n; i++)
			free(d->names[i]);
		free(d->names);
		free(d);
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)d;
	fuse_reply_open(req, fi);
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi, int plus)
{
	head *h = FS(req)->head;
	hdir *d = (hdir *)(uintptr_t)fi->fh;
	char *buf = malloc(size);
	size_t used = 0;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	pthread_mutex_lock(&h->lock);
	hnode *p = by_ino(h, ino);
	for (size_t i = (size_t)off; p && i < d->n; i++) {
		char path[FOLIO_PATH_BUF];
		snprintf(path, sizeof path, "%s%s%s", p->path, p->path[0] ? "/" : "", d->names[i]);
		hnode *n = node_for(h, path);
		struct fuse_entry_param e;
		if (!n || entry_param(h, n, &e) < 0)
			continue; /* gone since opendir */
		size_t need = plus ?
			fuse_add_direntry_plus(req, buf + used, size - used, d->names[i], &e, (off_t)i + 1) :
			fuse_add_direntry(req, buf + used, size - used, d->names[i], &e.attr, (off_t)i + 1);
		if (need > size - used)
			break;
		used += need;
	}
	pthread_mutex_unlock(&h->lock);
	fuse_reply_buf(req, buf, used);
	free(buf);
}

static void h_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, 0);
}

static void h_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			  struct fuse_file_info *fi)
{
	do_readdir(req, ino, size, off, fi, 1);
}

static void h_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	hdir *d = (hdir *)(uintptr_t)fi->fh;
	(void)ino;

	for (size_t i = 0; i < d->n; i++)
		free(d->names[i]);
	free(d->names);
	free(d);
	fuse_reply_err(req, 0);
}

static void h_statfs(fuse_req_t req, fuse_ino_t ino)
{
	fs *f = FS(req);
	struct statvfs sv;
	(void)ino;

	if (statvfs(f->repo_path, &sv) < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_statfs(req, &sv);
}

static void h_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	(void)ino; (void)name; (void)size;
	fuse_reply_err(req, ENOSYS);
}

static void h_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	(void)ino; (void)size;
	fuse_reply_err(req, ENOSYS);
}

static void h_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	(void)ino; (void)newparent; (void)newname;
	fuse_reply_err(req, EPERM); /* a version has no hard links */
}

static void h_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	(void)ino; (void)nlookup;
	fuse_reply_none(req); /* nodes live as long as the daemon */
}

static void h_init(void *userdata, struct fuse_conn_info *conn)
{
	fs *f = userdata;
	unsigned want = FUSE_CAP_READDIRPLUS | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_ASYNC_READ |
			FUSE_CAP_ATOMIC_O_TRUNC;

	conn->want |= want & conn->capable;
	conn->want &= ~(unsigned)(FUSE_CAP_WRITEBACK_CACHE | FUSE_CAP_READDIRPLUS_AUTO);
	FS_LOG(f, "HEAD session: want 0x%x", conn->want);
}

const struct fuse_lowlevel_ops fs_head_ops = {
	.init = h_init,
	.lookup = h_lookup,
	.forget = h_forget,
	.getattr = h_getattr,
	.setattr = h_setattr,
	.readlink = h_readlink,
	.mkdir = h_mkdir,
	.unlink = h_unlink,
	.rmdir = h_rmdir,
	.symlink = h_symlink,
	.rename = h_rename,
	.link = h_link,
	.open = h_open,
	.read = h_read,
	.write = h_write,
	.flush = h_flush,
	.release = h_release,
	.fsync = h_fsync,
	.opendir = h_opendir,
	.readdir = h_readdir,
	.readdirplus = h_readdirplus,
	.releasedir = h_releasedir,
	.statfs = h_statfs,
	.getxattr = h_getxattr,
	.listxattr = h_listxattr,
	.create = h_create,
};

int fs_head_new(head **out, fs *f)
{
	head *h = calloc(1, sizeof *h);
	char base[FOLIO_COMMIT_HEXSZ + 1];
	int rc;

	if (!h)
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	h->f = f;
	pthread_mutex_init(&h->lock, NULL);
	h->next_ino = 2;
	h->mount_time = (int64_t)time(NULL);
	snprintf(h->data_dir, sizeof h->data_dir, "%s/stage/data", f->repo_path);
	if (mkdir(h->data_dir, 0700) < 0 && errno != EEXIST) {
		rc = folio_error_errno(errno, "cannot create %s", h->data_dir);
		free(h);
		return rc;
	}
	/* Data files of a daemon that died were never closed or fsynced:
	 * their content was not acknowledged; drop them. */
	DIR *d = opendir(h->data_dir);
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (de->d_name[0] != '.')
			unlinkat(dirfd(d), de->d_name, 0);
	if (d)
		closedir(d);
	if (tables_grow(h) < 0 || !node_for(h, "")) {
		free(h);
		return folio_error_set(FOLIO_ENOMEM, "out of memory");
	}
	if ((rc = folio_stage_load(&h->view, base, f->repo)) < 0) {
		fs_head_free(h);
		return rc;
	}
	remember_stage(h);
	*out = h;
	return 0;
}

void fs_head_free(head *h)
{
	if (!h)
		return;
	for (size_t b = 0; b < h->nbuckets; b++)
		for (hnode *n = h->by_ino[b], *next; n; n = next) {
			next = n->next_ino;
			if (n->data_fd >= 0)
				close(n->data_fd);
			free(n->path);
			free(n);
		}
	free(h->by_ino);
	free(h->by_path);
	for (size_t i = 0; i < h->nedirs; i++)
		free(h->edirs[i]);
	free(h->edirs);
	ops_clear(h);
	free(h->ops);
	folio_tree_clear(&h->view);
	pthread_mutex_destroy(&h->lock);
	free(h);
}
