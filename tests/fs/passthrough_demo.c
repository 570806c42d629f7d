/*
 * passthrough_demo.c — a minimal read-only low-level FUSE file system that
 * shows the regular files of one source folder (flat), to test and measure
 * fs/passthrough.c on its own.
 *
 *   passthrough_demo [-o OPT[,OPT...]] [-d] SRC MNT
 *
 * Options: pt        serve opens with passthrough (one backing id per inode,
 *                    refcounted by its opens, as the kernel requires)
 *          naive     with pt: a new backing id for every open instead (the
 *                    kernel refuses a second concurrent open of an inode
 *                    with a different id: shows why the rule matters)
 *          mt        multi-threaded session loop; clone_fd: with its own fd
 *                    per worker
 *          nosplice  do not ask for splice writes in init()
 *          wbcache   ask for writeback caching (passthrough must stay off)
 *          dropcap   drop CAP_SYS_ADMIN after mounting (as a non-root
 *                    daemon would be: passthrough must stay off)
 *          latecap   drop it at the first lookup instead, after INIT
 *                    enabled passthrough: registering a backing file then
 *                    fails with EPERM and opens must fall back to plain
 *                    (single-threaded loop only: capabilities are per thread)
 *
 * Without pt, reads are served by the daemon with fuse_reply_data() from the
 * source fd (spliced when the kernel allows). Runs in the foreground until
 * unmounted, then prints one line of counters to stderr:
 *
 *   ptdemo: install=0 active=1 passed=N plain=N reads=N read_bytes=N ids_left=0
 *           pt_err=0
 *
 * install: fs_passthrough_install()'s result (1: not tried); active: 1 if
 * fs_passthrough_active() ever said so; passed/plain: its counters; reads:
 * READ requests that reached the daemon (0 for passthrough files); ids_left:
 * backing ids still registered at exit; pt_err: the last error of
 * fs_passthrough_open().
 */
#define FUSE_USE_VERSION 314
#include "passthrough.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FH_SHARED UINT64_MAX       /* passthrough with the inode's shared id */
#define FH_NAIVE (1ULL << 62)      /* passthrough with its own id (low bits) */

typedef struct entry {
	char *name;
	pthread_mutex_t lock;
	int opens;                 /* passthrough opens using backing_id */
	int backing_id;            /* 0: none registered */
} entry;

typedef struct demo {
	int srcfd;
	entry *ents;
	size_t n;
	int pt_mode, naive, mt, clone_fd, nosplice, wbcache, dropcap, latecap;
	atomic_int pt_err;         /* last fs_passthrough_open() error */
	atomic_int cap_dropped;
	fs_passthrough *pt;
	int install_rc;
	atomic_int seen_active;
	atomic_ulong reads, read_bytes;
} demo;

static demo *D(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static entry *ent_of(demo *d, fuse_ino_t ino)
{
	if (ino < 2 || ino - 2 >= d->n)
		return NULL;
	return &d->ents[ino - 2];
}

static int stat_ino(demo *d, fuse_ino_t ino, struct stat *st)
{
	entry *e;

	if (ino == FUSE_ROOT_ID) {
		if (fstat(d->srcfd, st) != 0)
			return errno;
	} else {
		e = ent_of(d, ino);
		if (!e)
			return ENOENT;
		if (fstatat(d->srcfd, e->name, st, AT_SYMLINK_NOFOLLOW) != 0)
			return errno;
	}
	st->st_ino = ino;
	st->st_mode &= ~(mode_t)0222;
	return 0;
}

static void d_init(void *userdata, struct fuse_conn_info *conn)
{
	demo *d = userdata;

	if (!d->nosplice && (conn->capable & FUSE_CAP_SPLICE_WRITE))
		conn->want |= FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE;
	if (d->wbcache && (conn->capable & FUSE_CAP_WRITEBACK_CACHE))
		conn->want |= FUSE_CAP_WRITEBACK_CACHE;
}

static int drop_sys_admin(void);

static void d_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	demo *d = D(req);
	struct fuse_entry_param e;
	int err;

	if (d->latecap && !atomic_exchange(&d->cap_dropped, 1))
		(void)drop_sys_admin();
	if (parent != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	for (size_t i = 0; i < d->n; i++) {
		if (strcmp(d->ents[i].name, name) != 0)
			continue;
		memset(&e, 0, sizeof(e));
		e.ino = i + 2;
		e.attr_timeout = e.entry_timeout = 60.0;
		err = stat_ino(d, e.ino, &e.attr);
		if (err)
			fuse_reply_err(req, err);
		else
			fuse_reply_entry(req, &e);
		return;
	}
	fuse_reply_err(req, ENOENT);
}

static void d_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;
	int err;

	(void)fi;
	err = stat_ino(D(req), ino, &st);
	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_attr(req, &st, 60.0);
}

static void d_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                      struct fuse_file_info *fi)
{
	demo *d = D(req);
	char *buf;
	size_t used = 0;
	struct stat st;

	(void)fi;
	if (ino != FUSE_ROOT_ID) {
		fuse_reply_err(req, ENOTDIR);
		return;
	}
	buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (off_t i = off; (size_t)i < d->n + 2; i++) {
		const char *name = i == 0 ? "." : i == 1 ? ".." : d->ents[i - 2].name;
		size_t len;

		memset(&st, 0, sizeof(st));
		st.st_ino = i < 2 ? FUSE_ROOT_ID : (ino_t)i;
		st.st_mode = i < 2 ? S_IFDIR : S_IFREG;
		len = fuse_add_direntry(req, buf + used, size - used, name, &st, i + 1);
		if (len > size - used)
			break;
		used += len;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

/* Drops one passthrough open of e; the last one unregisters the id. */
static void put_shared(demo *d, entry *e)
{
	pthread_mutex_lock(&e->lock);
	if (--e->opens == 0) {
		fs_passthrough_close(d->pt, e->backing_id);
		e->backing_id = 0;
	}
	pthread_mutex_unlock(&e->lock);
}

static void d_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	demo *d = D(req);
	entry *e = ent_of(d, ino);
	int fd, id = 0;

	if (!e) {
		fuse_reply_err(req, ino == FUSE_ROOT_ID ? EISDIR : ENOENT);
		return;
	}
	if ((fi->flags & O_ACCMODE) != O_RDONLY) {
		fuse_reply_err(req, EROFS);
		return;
	}
	fd = openat(d->srcfd, e->name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fuse_reply_err(req, errno);
		return;
	}
	if (d->pt_mode) {
		/* fs_passthrough_open() fails cleanly when passthrough is off;
		 * asking fs_passthrough_active() first is only for the stats */
		if (fs_passthrough_active(d->pt))
			atomic_store(&d->seen_active, 1);
		if (d->naive) {
			id = fs_passthrough_open(d->pt, fd);
			if (id > 0)
				fi->fh = FH_NAIVE | (uint32_t)id;
			else
				atomic_store(&d->pt_err, id);
		} else {
			pthread_mutex_lock(&e->lock);
			if (e->backing_id <= 0) {
				int r = fs_passthrough_open(d->pt, fd);
				if (r > 0)
					e->backing_id = r;
				else
					atomic_store(&d->pt_err, r);
			}
			if (e->backing_id > 0) {
				e->opens++;
				id = e->backing_id;
			}
			pthread_mutex_unlock(&e->lock);
			fi->fh = FH_SHARED;
		}
		if (id > 0) {
			/* the kernel holds the backing file now */
			close(fd);
			/* as foliofs does: fs/passthrough.c must drop keep_cache
			 * (the kernel fails a passthrough open with it) */
			fi->keep_cache = 1;
			fi->noflush = 1;
			if (fs_passthrough_reply_open(d->pt, req, fi, id) != 0) {
				/* not delivered: no RELEASE will come */
				if (d->naive)
					fs_passthrough_close(d->pt, id);
				else
					put_shared(d, e);
			}
			return;
		}
	}
	fi->fh = (uint64_t)fd;
	if (fs_passthrough_reply_open(d->pt, req, fi, 0) != 0)
		close(fd);
}

static void d_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                   struct fuse_file_info *fi)
{
	demo *d = D(req);
	struct fuse_bufvec buf = FUSE_BUFVEC_INIT(size);

	(void)ino;
	atomic_fetch_add(&d->reads, 1);
	if (fi->fh == FH_SHARED || (fi->fh & FH_NAIVE)) {
		fuse_reply_err(req, EIO);     /* passthrough files never get here */
		return;
	}
	atomic_fetch_add(&d->read_bytes, size);
	buf.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	buf.buf[0].fd = (int)fi->fh;
	buf.buf[0].pos = off;
	fuse_reply_data(req, &buf, FUSE_BUF_SPLICE_MOVE);
}

static void d_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	demo *d = D(req);
	entry *e = ent_of(d, ino);

	if (fi->fh == FH_SHARED) {
		if (e)
			put_shared(d, e);
	} else if (fi->fh & FH_NAIVE) {
		fs_passthrough_close(d->pt, (int)(uint32_t)fi->fh);
	} else {
		close((int)fi->fh);
	}
	fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops demo_ops = {
	.init = d_init,
	.lookup = d_lookup,
	.getattr = d_getattr,
	.readdir = d_readdir,
	.open = d_open,
	.read = d_read,
	.release = d_release,
};

static int drop_sys_admin(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) != 0)
		return -errno;
	data[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
	data[CAP_SYS_ADMIN / 32].permitted &= ~(1u << (CAP_SYS_ADMIN % 32));
	if (syscall(SYS_capset, &hdr, data) != 0)
		return -errno;
	return 0;
}

static int load_entries(demo *d, const char *src)
{
	DIR *dir;
	struct dirent *de;
	struct stat st;
	size_t cap = 0;

	d->srcfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->srcfd < 0)
		return -errno;
	dir = fdopendir(dup(d->srcfd));
	if (!dir)
		return -errno;
	while ((de = readdir(dir)) != NULL) {
		if (fstatat(d->srcfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (d->n == cap) {
			cap = cap ? 2 * cap : 16;
			entry *n = realloc(d->ents, cap * sizeof(*n));
			if (!n) {
				closedir(dir);
				return -ENOMEM;
			}
			d->ents = n;
		}
		d->ents[d->n].name = strdup(de->d_name);
		if (!d->ents[d->n].name) {
			closedir(dir);
			return -ENOMEM;
		}
		pthread_mutex_init(&d->ents[d->n].lock, NULL);
		d->ents[d->n].opens = 0;
		d->ents[d->n].backing_id = 0;
		d->n++;
	}
	closedir(dir);
	return 0;
}

static int parse_opts(demo *d, char *opts)
{
	for (char *save = NULL, *o = strtok_r(opts, ",", &save); o;
	     o = strtok_r(NULL, ",", &save)) {
		if (!strcmp(o, "pt"))
			d->pt_mode = 1;
		else if (!strcmp(o, "naive"))
			d->naive = 1;
		else if (!strcmp(o, "mt"))
			d->mt = 1;
		else if (!strcmp(o, "clone_fd"))
			d->mt = d->clone_fd = 1;
		else if (!strcmp(o, "nosplice"))
			d->nosplice = 1;
		else if (!strcmp(o, "wbcache"))
			d->wbcache = 1;
		else if (!strcmp(o, "dropcap"))
			d->dropcap = 1;
		else if (!strcmp(o, "latecap"))
			d->latecap = 1;
		else
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	demo d;
	const char *src = NULL, *mnt = NULL;
	int debug = 0, ret = 1, ids_left = 0;
	unsigned long passed, plain;

	memset(&d, 0, sizeof(d));
	d.srcfd = -1;
	d.install_rc = 1;             /* not tried */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			if (parse_opts(&d, argv[++i]) != 0) {
				fprintf(stderr, "ptdemo: unknown option in '%s'\n", argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "-d")) {
			debug = 1;
		} else if (!src) {
			src = argv[i];
		} else if (!mnt) {
			mnt = argv[i];
		} else {
			src = NULL;
			break;
		}
	}
	if (!src || !mnt) {
		fprintf(stderr, "usage: %s [-o pt,naive,mt,clone_fd,nosplice,"
		        "wbcache,dropcap,latecap] [-d] SRC MNT\n", argv[0]);
		return 2;
	}
	if (load_entries(&d, src) != 0) {
		fprintf(stderr, "ptdemo: cannot read %s: %m\n", src);
		return 1;
	}

	char *fargv[] = { argv[0], "-o", "ro,fsname=ptdemo,subtype=ptdemo",
	                  debug ? "-d" : NULL, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(debug ? 4 : 3, fargv);
	struct fuse_session *se = fuse_session_new(&args, &demo_ops,
	                                           sizeof(demo_ops), &d);
	if (!se) {
		fuse_opt_free_args(&args);
		return 1;
	}
	if (fuse_set_signal_handlers(se) != 0)
		goto out_destroy;
	if (fuse_session_mount(se, mnt) != 0)
		goto out_signals;
	if (d.pt_mode)
		d.install_rc = fs_passthrough_install(&d.pt, se, FS_IO_PASSTHROUGH);
	if (d.dropcap && drop_sys_admin() != 0)
		fprintf(stderr, "ptdemo: cannot drop CAP_SYS_ADMIN\n");

	if (d.mt) {
		struct fuse_loop_config *cfg = fuse_loop_cfg_create();
		if (!cfg)
			goto out_unmount;
		fuse_loop_cfg_set_clone_fd(cfg, (unsigned int)d.clone_fd);
		fuse_loop_cfg_set_max_threads(cfg, 8);
		ret = fuse_session_loop_mt(se, cfg);
		fuse_loop_cfg_destroy(cfg);
	} else {
		ret = fuse_session_loop(se);
	}

out_unmount:
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_destroy:
	fuse_session_destroy(se);
	fuse_opt_free_args(&args);

	for (size_t i = 0; i < d.n; i++) {
		if (d.ents[i].backing_id > 0)
			ids_left++;
		pthread_mutex_destroy(&d.ents[i].lock);
		free(d.ents[i].name);
	}
	fs_passthrough_stats(d.pt, &passed, &plain);
	fprintf(stderr, "ptdemo: install=%d active=%d passed=%lu plain=%lu "
	        "reads=%lu read_bytes=%lu ids_left=%d pt_err=%d\n", d.install_rc,
	        atomic_load(&d.seen_active), passed, plain,
	        atomic_load(&d.reads), atomic_load(&d.read_bytes), ids_left,
	        atomic_load(&d.pt_err));
	fs_passthrough_free(d.pt);
	free(d.ents);
	if (d.srcfd >= 0)
		close(d.srcfd);
	return ret ? 1 : 0;
}
