/*
 * ro.c — the read-only session: root, branches/, tags/, commits/, log/ and
 * every version under commits/<id>/.
 *
 * The hot path (a read of a version file) does: one table lookup by inode,
 * one cached fd, one spliced reply. In the default mode the kernel never
 * even sends that read once a file is cached: OPEN, OPENDIR and FLUSH are
 * answered with ENOSYS, which makes the kernel stop asking and keep page and
 * directory caches; xattr requests likewise. With -o passthrough, OPEN is
 * answered with the object file as backing file instead, so the kernel
 * reads the store directly.
 *
 * branches/<name>, tags/<name>, log/<entry> and commits/<prefix> are the
 * root folders of their versions, numbered for that place (fs.h): a name
 * there may change meaning, so its entry lives a second (and the refs
 * watcher drops it when the ref moves) while the folder's attributes, like
 * everything in a version, never expire. Listings of these folders load no
 * version: an entry whose version is not loaded yet goes out without
 * attributes, and the kernel looks it up when a program asks.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "folio/views.h"
#include "fs.h"
#include "uring.h"
#include "passthrough.h"

static fs *FS(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* Walks the names directly in a folder of refs (branches/, tags/ or a
 * folder of names with '/'): each ref, and each folder of names once.
 * Refs are sorted by name, so the names under one folder are adjacent. */
typedef struct refiter {
	const refent *v;
	size_t n, i;
	const char *prefix;
	size_t pl;
	const char *last;         /* the name given before, to skip a folder's repeats */
	size_t lastlen;
} refiter;

static void refiter_init(refiter *it, const refsnap *r, char kind, const char *prefix)
{
	memset(it, 0, sizeof *it);
	it->v = kind == 'b' ? r->branches : r->tags;
	it->n = kind == 'b' ? r->nbranches : r->ntags;
	it->prefix = prefix;
	it->pl = strlen(prefix);
}

/* The next name (*name, *len; not NUL-terminated): *ref is the ref, or
 * NULL for a folder of names. Returns 0 at the end. */
static int refiter_next(refiter *it, const char **name, size_t *len, const refent **ref)
{
	while (it->i < it->n) {
		const refent *e = &it->v[it->i++];
		const char *nm = e->name;
		if (it->pl) {
			if (strncmp(nm, it->prefix, it->pl) != 0 || nm[it->pl] != '/')
				continue;
			nm += it->pl + 1;
		}
		const char *slash = strchr(nm, '/');
		size_t l = slash ? (size_t)(slash - nm) : strlen(nm);
		if (it->last && it->lastlen == l && strncmp(it->last, nm, l) == 0)
			continue;
		it->last = nm;
		it->lastlen = l;
		*name = nm;
		*len = l;
		*ref = slash ? NULL : e;
		return 1;
	}
	return 0;
}

/* 'b' or 't': whose names a refs folder (branches/, tags/, N_REFDIR) holds. */
static char refs_kind(const node *p)
{
	return p->type == N_BRANCHES || (p->type == N_REFDIR && p->kind == 'B') ? 'b' : 't';
}

/* Subfolders of a refs folder, for its link count. */
static nlink_t refs_subfolders(const refsnap *r, const node *n)
{
	refiter it;
	const char *nm;
	size_t len;
	const refent *ref;
	nlink_t k = 0;

	switch (n->type) {
	case N_ROOT: return 5;   /* HEAD, branches, commits, log, tags */
	case N_COMMITS: case N_LOG: return r->ncommits;
	case N_BRANCHES: case N_TAGS: case N_REFDIR:
		refiter_init(&it, r, refs_kind(n), n->type == N_REFDIR ? n->name : "");
		while (refiter_next(&it, &nm, &len, &ref))
			k++;
		return k;
	default: return 0;
	}
}

/* Fills st for n; returns 0 or -errno. */
static int node_attr(fs *f, const node *n, struct stat *st)
{
	memset(st, 0, sizeof *st);
	st->st_ino = n->ino;
	st->st_uid = f->uid;
	st->st_gid = f->gid;
	st->st_nlink = 1;
	switch (n->type) {
	case N_ROOT: case N_HEADSTUB: case N_BRANCHES: case N_TAGS: case N_COMMITS:
	case N_LOG: case N_REFDIR: {
		refsnap *r = fs_refs_acquire(f);
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2 + (r ? refs_subfolders(r, n) : 0);
		st->st_mtime = st->st_ctime = st->st_atime = r ? r->stamp : 0;
		/* The mtime changes with every snapshot, which also resets the
		 * kernel's cached listing of these folders. */
		if (r)
			st->st_mtim.tv_nsec = (long)(r->fingerprint % 1000000000);
		fs_refs_release(r);
		return 0;
	}
	case N_VDIR:
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2 + n->v->dirs[n->dir].nsub;
		st->st_mtime = st->st_ctime = st->st_atime = n->mtime;
		return 0;
	case N_VMENU:
		/* 1: subfolders not counted (computing them would compute the
		 * view); find and fts then look at every entry */
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 1;
		st->st_mtime = st->st_ctime = st->st_atime = n->mtime;
		return 0;
	case N_VFILE:
	case N_VLINK:
		st->st_mode = n->type == N_VLINK ? S_IFLNK | 0777 :
			      S_IFREG | (n->mode == FOLIO_MODE_EXEC ? 0555 : 0444);
		st->st_size = (off_t)n->size;
		st->st_blocks = (blkcnt_t)((n->size + 511) / 512);
		st->st_blksize = 65536;
		st->st_mtime = st->st_ctime = st->st_atime = n->mtime;
		return 0;
	}
	return -EIO;
}

static double ttl_of(const node *n)
{
	return n->type == N_VDIR || n->type == N_VFILE || n->type == N_VLINK ||
	       n->type == N_VMENU ?
	       FS_TTL_FOREVER : FS_TTL_REFS;
}

static int entry_of(fs *f, const node *n, struct fuse_entry_param *e)
{
	memset(e, 0, sizeof *e);
	e->ino = n->ino;
	e->generation = 1;
	e->attr_timeout = e->entry_timeout = ttl_of(n);
	return node_attr(f, n, &e->attr);
}

static node *static_node(fs *f, uint64_t ino)
{
	static const node_type types[] = { 0, N_ROOT, N_HEADSTUB, N_BRANCHES, N_TAGS, N_COMMITS, N_LOG };
	node *n = fs_node_get(f, ino);

	if (n || ino > FS_INO_LOG)
		return n;
	if (!(n = fs_node_new(ino, types[ino])))
		return NULL;
	return fs_node_put(f, n);
}

/* A folder of branch or tag names with '/' (kind 'B' or 'T'). */
static node *refdir_node(fs *f, char kind, const char *name)
{
	uint64_t ino = fs_reflink_ino(kind, name);
	node *n = fs_node_get(f, ino);

	if (n)
		return n;
	if (!(n = fs_node_new(ino, N_REFDIR)))
		return NULL;
	n->kind = kind;
	if (!(n->name = strdup(name))) {
		free(n);
		return NULL;
	}
	return fs_node_put(f, n);
}

static node *get(fs *f, fuse_ino_t ino)
{
	return ino <= FS_INO_LOG ? static_node(f, ino) : fs_node_get(f, ino);
}

/* The root folder of commit id as reached from place seed (loading the
 * version on first use). */
static node *version_root(fs *f, const char *id, uint64_t seed, int *err)
{
	version *v;
	int rc = fs_version_get(&v, f, id);

	if (rc < 0) {
		*err = -rc;
		return NULL;
	}
	node *n = fs_vdir_instance(f, v, 0, seed);
	if (!n)
		*err = ENOMEM;
	return n;
}

/* Child named name of a refs folder (branches/, tags/ or a folder of
 * names with '/'): a version for a ref, a folder for a name prefix. */
static node *refs_child(fs *f, const refsnap *r, char kind, const char *prefix, const char *name,
			int *err)
{
	const refent *v = kind == 'b' ? r->branches : r->tags;
	size_t cnt = kind == 'b' ? r->nbranches : r->ntags;
	char full[1024];

	snprintf(full, sizeof full, "%s%s%s", prefix, *prefix ? "/" : "", name);
	size_t fl = strlen(full);
	for (size_t i = 0; i < cnt; i++) {
		if (strcmp(v[i].name, full) == 0)
			return version_root(f, v[i].id, fs_ref_seed(kind, full), err);
		if (strncmp(v[i].name, full, fl) == 0 && v[i].name[fl] == '/')
			return refdir_node(f, kind == 'b' ? 'B' : 'T', full);
	}
	return NULL;
}

/* A view name under p, numbered for p's place. */
static node *at_child(fs *f, node *p, const char *name, int *err)
{
	node *n = fs_view_child(f, p, name, err);

	if (n && !(n = fs_node_instance(f, n, p->seed)))
		*err = ENOMEM;
	return n;
}

static node *child(fs *f, node *p, const char *name, int *err)
{
	refsnap *r = NULL;
	node *n = NULL;

	*err = ENOENT;
	switch (p->type) {
	case N_ROOT:
		if (!strcmp(name, "HEAD")) n = static_node(f, FS_INO_HEAD);
		else if (!strcmp(name, "branches")) n = static_node(f, FS_INO_BRANCHES);
		else if (!strcmp(name, "tags")) n = static_node(f, FS_INO_TAGS);
		else if (!strcmp(name, "commits")) n = static_node(f, FS_INO_COMMITS);
		else if (!strcmp(name, "log")) n = static_node(f, FS_INO_LOG);
		else if (!strcmp(name, ".stage")) n = fs_stage_root(f, err);
		return n;
	case N_BRANCHES: case N_TAGS: case N_REFDIR: case N_LOG: case N_COMMITS:
		if (!(r = fs_refs_acquire(f)))
			return NULL;
		if (p->type == N_BRANCHES || p->type == N_TAGS || p->type == N_REFDIR)
			n = refs_child(f, r, refs_kind(p), p->type == N_REFDIR ? p->name : "", name, err);
		else if (p->type == N_LOG) {
			for (size_t i = 0; i < r->ncommits; i++)
				if (!strcmp(r->commits[i].logname, name)) {
					n = version_root(f, r->commits[i].id, fs_ref_seed('l', name), err);
					break;
				}
		} else {
			int amb;
			const commitent *c = fs_refs_commit(r, name, &amb);
			if (c)   /* a full id is the version's own place; a prefix its own */
				n = version_root(f, c->id, strlen(name) == FOLIO_COMMIT_HEXSZ ? 0 :
							   fs_ref_seed('p', name), err);
			else if (amb)
				FS_LOG(f, "commits/%s: ambiguous prefix", name);
		}
		fs_refs_release(r);
		return n;
	case N_VDIR: {
		/* children inherit the place (seed); views.c hands out nodes of
		 * commits/<id>/, renumbered here for the place */
		const vchild *c = fs_vdir_lookup(p->v, p->dir, name);
		if (!c)
			return name[0] == '@' ? at_child(f, p, name, err) : NULL;
		if (!c->is_dir && p->v->vkind == VK_PREVIEW)
			return fs_preview_node(f, p->v, c->idx, err);
		n = c->is_dir ? fs_vdir_instance(f, p->v, c->idx, p->seed) :
				fs_ventry_node(f, p->v, &p->v->tree.v[c->idx]);
		if (!n)
			*err = ENOMEM;
		return n;
	}
	case N_VMENU:
		return at_child(f, p, name, err);
	default:
		*err = ENOTDIR;
		return NULL;
	}
}

static void ro_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fs *f = FS(req);
	node *p = get(f, parent);
	struct fuse_entry_param e;
	int err;

	if (!p) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	node *n = child(f, p, name, &err);
	if (!n) {
		/* A negative entry in a version never turns positive. */
		if (err == ENOENT && p->type == N_VDIR && name[0] != '@') {
			memset(&e, 0, sizeof e);
			e.entry_timeout = FS_TTL_FOREVER;
			fuse_reply_entry(req, &e);
			return;
		}
		fuse_reply_err(req, err);
		return;
	}
	int rc = entry_of(f, n, &e);
	/* .stage follows the stage: its name is looked up again each second */
	if (p->type == N_ROOT && !strcmp(name, ".stage"))
		e.entry_timeout = FS_TTL_HEAD;
	/* a ref, log entry or commit prefix may come to name another version */
	if (p->type == N_BRANCHES || p->type == N_TAGS || p->type == N_REFDIR || p->type == N_LOG ||
	    (p->type == N_COMMITS && strlen(name) != FOLIO_COMMIT_HEXSZ))
		e.entry_timeout = FS_TTL_REFS;
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_entry(req, &e);
}

static void ro_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fs *f = FS(req);
	node *n = get(f, ino);
	struct stat st;
	(void)fi;

	if (!n) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	int rc = node_attr(f, n, &st);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &st, ttl_of(n));
}

static void ro_readlink(fuse_req_t req, fuse_ino_t ino)
{
	fs *f = FS(req);
	node *n = get(f, ino);

	if (!n || n->type != N_VLINK) {
		fuse_reply_err(req, n ? EINVAL : ENOENT);
		return;
	}
	fs_reply_link(f, req, &n->oid);
}

/* One listing entry: name and node. */
typedef struct lister {
	fuse_req_t req;
	fs *f;
	char *buf;
	size_t size, used;
	off_t next;
	int plus;
	int full;
	double entry_ttl;         /* entry timeout of names listed, 0: the node's */
} lister;

static void emit(lister *l, const char *name, size_t len, node *n)
{
	char nm[FOLIO_PATH_MAX];
	size_t need;

	if (l->full)
		return;
	l->next++;   /* an entry that cannot be given still takes its offset */
	if (!n)
		return;
	snprintf(nm, sizeof nm, "%.*s", (int)len, name);
	if (l->plus) {
		struct fuse_entry_param e;
		if (entry_of(l->f, n, &e) < 0)
			return;
		if (l->entry_ttl > 0)
			e.entry_timeout = l->entry_ttl;
		need = fuse_add_direntry_plus(l->req, l->buf + l->used, l->size - l->used, nm, &e, l->next);
	} else {
		struct stat st = { 0 };
		node_attr(l->f, n, &st);
		need = fuse_add_direntry(l->req, l->buf + l->used, l->size - l->used, nm, &st, l->next);
	}
	if (need > l->size - l->used) {
		l->full = 1;
		l->next--;
		return;
	}
	l->used += need;
}

/* An entry listed without attributes (inode 0 in readdirplus), so that
 * listing a menu, a preview folder or the refs computes nothing. ino is
 * what readdir shows (the entry's number where it is known). */
static void emit_lazy(lister *l, const char *name, int is_dir, uint64_t ino)
{
	struct stat st = { 0 };
	size_t need;

	if (l->full)
		return;
	st.st_ino = ino ? ino : 1;
	st.st_mode = is_dir ? S_IFDIR : S_IFREG;
	l->next++;
	if (l->plus) {
		struct fuse_entry_param e;
		memset(&e, 0, sizeof e);
		e.attr = st;
		need = fuse_add_direntry_plus(l->req, l->buf + l->used, l->size - l->used, name, &e, l->next);
	} else {
		need = fuse_add_direntry(l->req, l->buf + l->used, l->size - l->used, name, &st, l->next);
	}
	if (need > l->size - l->used) {
		l->full = 1;
		l->next--;
		return;
	}
	l->used += need;
}

/* A version's root folder in a listing of the refs: with attributes when
 * the version is loaded, else without (listing log/ loads no version). */
static void emit_root(lister *l, const char *name, size_t len, const char *id, uint64_t seed)
{
	version *v = fs_version_find(l->f, id);
	char nm[FOLIO_PATH_MAX];

	if (v) {
		emit(l, name, len, fs_vdir_instance(l->f, v, 0, seed));
		return;
	}
	snprintf(nm, sizeof nm, "%.*s", (int)len, name);
	emit_lazy(l, nm, 1, fs_instance_ino(fs_commit_dir_ino(id, "", 0), seed));
}

static void list_refs(lister *l, const refsnap *r, char kind, const char *prefix, off_t off)
{
	refiter it;
	const char *nm;
	size_t len;
	const refent *ref;
	off_t idx = 0;

	refiter_init(&it, r, kind, prefix);
	while (!l->full && refiter_next(&it, &nm, &len, &ref)) {
		if (idx++ < off)
			continue;
		char full[1024];
		snprintf(full, sizeof full, "%s%s%.*s", prefix, *prefix ? "/" : "", (int)len, nm);
		if (ref)
			emit_root(l, nm, len, ref->id, fs_ref_seed(kind, full));
		else
			emit(l, nm, len, refdir_node(l->f, kind == 'b' ? 'B' : 'T', full));
	}
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, int plus)
{
	fs *f = FS(req);
	node *p = get(f, ino);
	lister l = { req, f, NULL, size, 0, off, plus, 0, 0 };

	if (!p) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	if (!(l.buf = malloc(size))) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	refsnap *r = NULL;
	switch (p->type) {
	case N_ROOT: {
		static const char *names[] = { "HEAD", "branches", "commits", "log", "tags" };
		static const uint64_t inos[] = { FS_INO_HEAD, FS_INO_BRANCHES, FS_INO_COMMITS, FS_INO_LOG, FS_INO_TAGS };
		for (off_t i = off; i < 5 && !l.full; i++)
			emit(&l, names[i], strlen(names[i]), static_node(f, inos[i]));
		break;
	}
	case N_HEADSTUB:
		break;
	case N_BRANCHES: case N_TAGS: case N_REFDIR:
		l.entry_ttl = FS_TTL_REFS;
		if ((r = fs_refs_acquire(f)))
			list_refs(&l, r, refs_kind(p), p->type == N_REFDIR ? p->name : "", off);
		break;
	case N_LOG:
		l.entry_ttl = FS_TTL_REFS;
		if ((r = fs_refs_acquire(f)))
			for (size_t i = (size_t)off; i < r->ncommits && !l.full; i++) {
				const commitent *c = r->by_time[i];
				emit_root(&l, c->logname, strlen(c->logname), c->id, fs_ref_seed('l', c->logname));
			}
		break;
	case N_COMMITS:
		if ((r = fs_refs_acquire(f)))
			for (size_t i = (size_t)off; i < r->ncommits && !l.full; i++)
				emit_root(&l, r->commits[i].id, FOLIO_COMMIT_HEXSZ, r->commits[i].id, 0);
		break;
	case N_VDIR: {
		const vdir *d = &p->v->dirs[p->dir];
		for (uint32_t i = (uint32_t)off; i < d->count && !l.full; i++) {
			const vchild *c = &p->v->children[d->first + i];
			if (!c->is_dir && p->v->vkind == VK_PREVIEW) {
				char nm[FOLIO_PATH_MAX];
				snprintf(nm, sizeof nm, "%.*s", (int)c->len, c->name);
				emit_lazy(&l, nm, 0, fs_hash(nm, strlen(nm), p->ino));
				continue;
			}
			node *n = c->is_dir ? fs_vdir_instance(f, p->v, c->idx, p->seed) :
					      fs_ventry_node(f, p->v, &p->v->tree.v[c->idx]);
			emit(&l, c->name, c->len, n);
		}
		break;
	}
	case N_VMENU: {
		folio_view_menu m;
		int rc = fs_view_list(f, p, &m);
		if (rc < 0) {
			free(l.buf);
			fuse_reply_err(req, -rc);
			return;
		}
		for (size_t i = (size_t)off; i < m.n && !l.full; i++)
			emit_lazy(&l, m.v[i].name, m.v[i].is_dir,
				  fs_hash(m.v[i].name, strlen(m.v[i].name), p->ino));
		folio_view_menu_clear(&m);
		break;
	}
	default:
		free(l.buf);
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	fs_refs_release(r);
	fuse_reply_buf(req, l.buf, l.used);
	free(l.buf);
}

static void ro_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, 0);
}

static void ro_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	(void)fi;
	do_readdir(req, ino, size, off, 1);
}

static void ro_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fs *f = FS(req);

	if (f->passthrough_mode == FS_PT_OFF ||
	    (f->passthrough_mode == FS_PT_AUTO && !fs_passthrough_active(f->pt))) {
		/* The kernel takes ENOSYS as "opens always succeed" for the rest
		 * of the mount and stops sending OPEN, FLUSH and RELEASE. */
		fuse_reply_err(req, ENOSYS);
		return;
	}
	node *n = get(f, ino);
	if (!n || n->type != N_VFILE) {
		fuse_reply_err(req, n ? EISDIR : ENOENT);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EROFS);
		return;
	}
	fi->keep_cache = 1;
	fi->noflush = 1;
	int backing = 0;
	if (fs_passthrough_active(f->pt)) {
		pthread_mutex_lock(&n->fd_lock);
		backing = n->backing_id;
		pthread_mutex_unlock(&n->fd_lock);
		if (!backing) {
			int fd = fs_node_fd(f, n);
			int id = fd >= 0 ? fs_passthrough_open(f->pt, fd) : fd;
			if (fd >= 0 && fd != n->fd)
				close(fd);
			pthread_mutex_lock(&n->fd_lock);
			if (id > 0 && !n->backing_id)
				n->backing_id = id;
			else if (id > 0)
				fs_passthrough_close(f->pt, id);
			backing = n->backing_id;
			pthread_mutex_unlock(&n->fd_lock);
		}
	}
	fs_passthrough_reply_open(f->pt, req, fi, backing);
}

static void ro_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void ro_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	fs *f = FS(req);
	node *n = get(f, ino);
	(void)fi;

	if (!n || n->type != N_VFILE) {
		fuse_reply_err(req, n ? EISDIR : ENOENT);
		return;
	}
	if ((uint64_t)off >= n->size) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if ((uint64_t)off + size > n->size)
		size = (size_t)(n->size - (uint64_t)off);
	int fd = fs_node_fd(f, n);
	if (fd < 0) {
		fuse_reply_err(req, -fd);
		return;
	}
	/* Under io_uring the reply goes into the ring entry: read straight
	 * into it (one copy, one system call) rather than through a pipe. */
	char *direct = fs_uring_reply_buffer(size);
	if (direct) {
		ssize_t got = pread(fd, direct, size, off);
		if (got < 0)
			fuse_reply_err(req, errno);
		else
			fuse_reply_buf(req, direct, (size_t)got);
		if (fd != n->fd)
			close(fd);
		return;
	}
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = fd;
	buf.buf[0].pos = off;
	fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
	if (fd != n->fd)
		close(fd);
}

static void ro_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	/* ENOSYS: no OPENDIR/RELEASEDIR for the rest of the mount, and the
	 * kernel caches listings (invalidated through the folder's mtime). */
	fuse_reply_err(req, ENOSYS);
}

static void ro_enosys(fuse_req_t req)
{
	fuse_reply_err(req, ENOSYS);
}

static void ro_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	(void)ino; (void)name; (void)size;
	ro_enosys(req);
}

static void ro_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	(void)ino; (void)size;
	ro_enosys(req);
}

static void ro_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino; (void)fi;
	ro_enosys(req);
}

static void ro_statfs(fuse_req_t req, fuse_ino_t ino)
{
	fs *f = FS(req);
	struct statvfs sv;
	(void)ino;

	if (statvfs(f->repo_path, &sv) < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	sv.f_flag |= ST_RDONLY;
	fuse_reply_statfs(req, &sv);
}

static void ro_init(void *userdata, struct fuse_conn_info *conn)
{
	fs *f = userdata;
	unsigned want = FUSE_CAP_READDIRPLUS | FUSE_CAP_CACHE_SYMLINKS | FUSE_CAP_SPLICE_WRITE |
			FUSE_CAP_SPLICE_MOVE | FUSE_CAP_ASYNC_READ | FUSE_CAP_PARALLEL_DIROPS |
			FUSE_CAP_NO_OPENDIR_SUPPORT | FUSE_CAP_NO_OPEN_SUPPORT;

	conn->want |= want & conn->capable;
	conn->want &= ~(unsigned)(FUSE_CAP_READDIRPLUS_AUTO | FUSE_CAP_WRITEBACK_CACHE);
	FS_LOG(f, "ro session: capable 0x%x want 0x%x, max_readahead %u", conn->capable, conn->want,
	       conn->max_readahead);
}

const struct fuse_lowlevel_ops fs_ro_ops = {
	.init = ro_init,
	.lookup = ro_lookup,
	.getattr = ro_getattr,
	.readlink = ro_readlink,
	.open = ro_open,
	.read = ro_read,
	.flush = ro_flush,
	.release = ro_release,
	.opendir = ro_opendir,
	.readdir = ro_readdir,
	.readdirplus = ro_readdirplus,
	.statfs = ro_statfs,
	.getxattr = ro_getxattr,
	.listxattr = ro_listxattr,
};
