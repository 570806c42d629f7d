/*
 * passthrough.c — FUSE passthrough for a libfuse 3.14 daemon.
 *
 * WHAT. With passthrough (Linux 6.9+, protocol 7.40) the kernel serves
 * read/write/mmap of an open FUSE file straight from a "backing" file that
 * the daemon registered, so reads never reach the daemon: about 90-100% of
 * native speed reading a cached 5 MB file, where plain FUSE manages 20-45%
 * (tests/fs/passthrough_test.sh measures it).
 *
 * WHY THIS WAY. libfuse 3.14 speaks protocol 7.38 and has no passthrough
 * API, but since 3.13 it lets a session route its device I/O through a
 * struct fuse_custom_io (fuse_session_custom_io). We install hooks that
 * behave exactly like read(2)/writev(2)/splice(2) on the device, except:
 *
 *  - read: when a thread reads the kernel's INIT request, it notes (in a
 *    thread-local) its unique id and whether the kernel offered
 *    FUSE_PASSTHROUGH (bit 37, i.e. bit 5 of flags2, valid with FUSE_INIT_EXT).
 *  - writev: libfuse answers INIT from the thread that read it, so the next
 *    reply with that unique in the same thread is the INIT reply. If the
 *    kernel offered passthrough, we hold CAP_SYS_ADMIN and libfuse did not
 *    enable writeback caching (the kernel refuses the pair), we send a copy
 *    with FUSE_INIT_EXT, FUSE_PASSTHROUGH in flags2 and max_stack_depth = 1
 *    (the field after flags2; libfuse 3.14 sends the full 64-byte struct to
 *    any kernel >= 7.23, zeroed there).
 *  - writev: fs_passthrough_reply_open() puts the backing id in a
 *    thread-local and calls fuse_reply_open(), which in 3.14 writes the reply
 *    synchronously from the calling thread; the hook sees that one reply
 *    (out header + fuse_open_out, or fuse_entry_out + fuse_open_out for
 *    create), and sends a copy with FOPEN_PASSTHROUGH and backing_id set
 *    (backing_id replaced fuse_open_out's padding in 7.40).
 *  - splice_send / splice_receive: plain splice(2). In 3.14, a custom I/O
 *    without these hooks loses FUSE_CAP_SPLICE_* from conn->capable: no
 *    splice at all, and a daemon whose init() sets them in conn->want
 *    without checking capable fails INIT with EPROTO. With them, splice
 *    works exactly as without custom I/O. Nothing we patch
 *    travels by splice: INIT is always read with read() (libfuse only
 *    splices after INIT) and open replies always go through writev.
 *
 * Everything the hooks need is per thread, so no lock is taken and any
 * session loop works (single, multi-threaded, clone_fd): libfuse passes the
 * hooks the filesystem's userdata, not ours, so hooks could not reach a
 * fs_passthrough anyway. Whether the kernel finally accepted passthrough is
 * asked of the kernel: fs_passthrough_active() registers a memfd as a
 * backing file and closes it again (-EPERM while passthrough is off or
 * without CAP_SYS_ADMIN). The constants and struct layouts of protocol 7.40
 * are defined here because Debian 12's <linux/fuse.h> is 7.38.
 *
 * Anything unexpected (reply shapes, flags) means: send the reply unchanged,
 * so the worst case is a plain FUSE file system. FOLIO_DEBUG=1 logs one line
 * per event to stderr.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* splice, memfd_create */
#endif
#include "passthrough.h"
#include "uring.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/fuse.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* ---- protocol 7.40 bits missing from the 7.38 header ------------------- */

#define PT_FUSE_PASSTHROUGH_FLAGS2 (1u << (37 - 32)) /* FUSE_PASSTHROUGH */
#define PT_FOPEN_PASSTHROUGH (1u << 7)
#define PT_INIT_EXT (1u << 30)                       /* FUSE_INIT_EXT */
#define PT_WRITEBACK_CACHE (1u << 16)                /* FUSE_WRITEBACK_CACHE */
#define PT_MAX_STACK_DEPTH 1u
#define PT_OVER_IO_URING_FLAGS2 (1u << (41 - 32))    /* FUSE_OVER_IO_URING */
#define PT_MIN_READ_BUFFER 8192u                     /* FUSE_MIN_READ_BUFFER */
#define PT_URING_THREADS_PER_QUEUE 2

/* open_flags the kernel accepts together with FOPEN_PASSTHROUGH
 * (FOPEN_PASSTHROUGH_MASK in fs/fuse/iomode.c): anything else fails the open
 * with EIO. keep_cache/cache_dir are dropped (meaningless then). */
#define PT_FOPEN_ALLOWED ((uint32_t)(FOPEN_DIRECT_IO | \
                          FOPEN_PARALLEL_DIRECT_WRITES | FOPEN_NOFLUSH))
#define PT_FOPEN_DROPPED ((uint32_t)(FOPEN_KEEP_CACHE | FOPEN_CACHE_DIR))

struct pt_init_in {              /* fuse_init_in, prefix */
	uint32_t major, minor, max_readahead, flags, flags2;
};

struct pt_init_out {             /* fuse_init_out, 7.40 */
	uint32_t major, minor, max_readahead, flags;
	uint16_t max_background, congestion_threshold;
	uint32_t max_write, time_gran;
	uint16_t max_pages, map_alignment;
	uint32_t flags2;
	uint32_t max_stack_depth;
	uint32_t unused[6];
};

struct pt_open_out {             /* fuse_open_out, 7.40 */
	uint64_t fh;
	uint32_t open_flags;
	int32_t backing_id;
};

struct pt_backing_map {
	int32_t fd;
	uint32_t flags;
	uint64_t padding;
};

#define PT_IOC_BACKING_OPEN _IOW(229, 1, struct pt_backing_map)
#define PT_IOC_BACKING_CLOSE _IOW(229, 2, uint32_t)

_Static_assert(sizeof(struct pt_init_out) == sizeof(struct fuse_init_out),
               "fuse_init_out layout");
_Static_assert(offsetof(struct pt_init_out, flags2) ==
               offsetof(struct fuse_init_out, flags2), "flags2 offset");
_Static_assert(offsetof(struct pt_init_out, max_stack_depth) == 36,
               "max_stack_depth offset");
_Static_assert(sizeof(struct pt_open_out) == sizeof(struct fuse_open_out),
               "fuse_open_out layout");
_Static_assert(sizeof(struct pt_backing_map) == 16, "fuse_backing_map layout");
_Static_assert(offsetof(struct fuse_init_in, flags2) ==
               offsetof(struct pt_init_in, flags2), "fuse_init_in layout");

/* ---- state ------------------------------------------------------------- */

struct fs_passthrough {
	int fd;                /* the session's /dev/fuse fd (libfuse owns it) */
	unsigned flags;        /* FS_IO_* */
	struct fuse_session *se;
	fs_uring *uring;       /* the io_uring queues, once started */
	int probe_fd;          /* memfd for fs_passthrough_active(), or -1 */
	int debug;
	atomic_int active;     /* 1 once the kernel accepted a backing file */
	atomic_ulong passed, plain;
};

/* Per thread: hooks run in the thread that handles the request. */

/* strerror for any thread (a per-thread buffer). */
static const char *pt_errstr(int err)
{
	static _Thread_local char buf[128];

	return strerror_r(err, buf, sizeof buf);
}

static _Thread_local struct {
	int init_pending;      /* this thread read INIT and has not replied yet */
	int init_offered;      /* ... and the kernel offered passthrough */
	int init_uring;        /* ... and FUSE over io_uring */
	uint64_t init_unique;
	int open_id;           /* > 0: patch the next open/create reply */
	int open_patched;      /* set by the hook when it did */
} pt_tls;

__attribute__((format(printf, 1, 2)))
static void pt_log(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	fputs("folio passthrough: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	errno = saved;
}

static int pt_debug_env(void)
{
	const char *v = getenv("FOLIO_DEBUG");

	return v && *v && strcmp(v, "0") != 0;
}

/* CAP_SYS_ADMIN in the effective set (the kernel checks it in the initial
 * user namespace; in a user namespace registration may still fail, which
 * only means passthrough stays unused). Unknown: assume yes. */
static int pt_have_sys_admin(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) != 0)
		return 1;
	return (data[CAP_SYS_ADMIN / 32].effective >> (CAP_SYS_ADMIN % 32)) & 1;
}

/* ---- custom I/O hooks -------------------------------------------------- */

static void pt_note_request(const void *buf, size_t len)
{
	struct fuse_in_header in;
	struct pt_init_in init;

	if (len < sizeof(in))
		return;
	memcpy(&in, buf, sizeof(in));
	if (in.opcode != FUSE_INIT)
		return;
	memset(&init, 0, sizeof(init));
	memcpy(&init, (const char *)buf + sizeof(in),
	       len - sizeof(in) < sizeof(init) ? len - sizeof(in) : sizeof(init));
	pt_tls.init_pending = 1;
	pt_tls.init_unique = in.unique;
	pt_tls.init_offered = init.major == 7 && (init.flags & PT_INIT_EXT) &&
	                      (init.flags2 & PT_FUSE_PASSTHROUGH_FLAGS2) &&
	                      len - sizeof(in) >= sizeof(init);
	pt_tls.init_uring = init.major == 7 && (init.flags & PT_INIT_EXT) &&
	                    (init.flags2 & PT_OVER_IO_URING_FLAGS2) &&
	                    len - sizeof(in) >= sizeof(init);
}

static ssize_t pt_read(int fd, void *buf, size_t buf_len, void *userdata)
{
	(void)userdata;
	ssize_t n = read(fd, buf, buf_len);

	if (n > 0)
		pt_note_request(buf, (size_t)n);
	return n;
}

/* The reply shapes libfuse 3.14 uses for INIT/open/create: iov[0] is the
 * out header, iov[1] the whole argument. Returns the header or NULL. */
static const struct fuse_out_header *pt_reply_hdr(const struct iovec *iov,
                                                  int count)
{
	if (count != 2 || iov[0].iov_len != sizeof(struct fuse_out_header))
		return NULL;
	return iov[0].iov_base;
}

/* The shims installed, by /dev/fuse fd: the hooks get the file system's
 * userdata, not ours, but they do get the fd. */
#define PT_MAX_SESSIONS 8
static struct { int fd; fs_passthrough *pt; } pt_sessions[PT_MAX_SESSIONS];
static pthread_mutex_t pt_sessions_lock = PTHREAD_MUTEX_INITIALIZER;

static fs_passthrough *pt_by_fd(int fd)
{
	fs_passthrough *pt = NULL, *only = NULL;
	int n = 0;

	pthread_mutex_lock(&pt_sessions_lock);
	for (int i = 0; i < PT_MAX_SESSIONS; i++) {
		if (!pt_sessions[i].pt)
			continue;
		n++;
		only = pt_sessions[i].pt;
		if (pt_sessions[i].fd == fd)
			pt = pt_sessions[i].pt;
	}
	pthread_mutex_unlock(&pt_sessions_lock);
	/* with clone_fd a thread replies on its own clone of the device: then
	 * the one shim installed is the one (with several, none is guessed) */
	return pt ? pt : n == 1 ? only : NULL;
}

static void pt_register(fs_passthrough *pt, int on)
{
	pthread_mutex_lock(&pt_sessions_lock);
	for (int i = 0; i < PT_MAX_SESSIONS; i++) {
		if (on && !pt_sessions[i].pt) {
			pt_sessions[i].fd = pt->fd;
			pt_sessions[i].pt = pt;
			break;
		}
		if (!on && pt_sessions[i].pt == pt)
			pt_sessions[i].pt = NULL;
	}
	pthread_mutex_unlock(&pt_sessions_lock);
}

/* Fills *copy and points patched[1] at it when the INIT reply in iov should
 * enable passthrough or io_uring. Returns PT_FUSE_PASSTHROUGH_FLAGS2 and/or
 * PT_OVER_IO_URING_FLAGS2 for what it enabled, 0 if nothing. */
static unsigned pt_patch_init(const fs_passthrough *pt, const struct iovec *iov, int count,
                              struct iovec patched[2], struct pt_init_out *copy)
{
	const struct fuse_out_header *out = pt_reply_hdr(iov, count);
	int offered = pt_tls.init_offered, uring = pt_tls.init_uring, debug = pt_debug_env();
	size_t need = offsetof(struct pt_init_out, max_stack_depth) +
	              sizeof(copy->max_stack_depth);
	unsigned enabled = 0;

	pt_tls.init_pending = 0;
	if (!(pt->flags & (FS_IO_PASSTHROUGH | FS_IO_AUTO)))
		offered = 0;
	if (!(pt->flags & (FS_IO_URING | FS_IO_AUTO)))
		uring = 0;
	else if (!uring && !(pt->flags & FS_IO_AUTO))
		fs_io_log("io_uring: the kernel did not offer it (is the fuse module's "
		            "enable_uring parameter on?); using /dev/fuse");
	/* The automatic mode passes files through only over io_uring: over
	 * /dev/fuse the round trip every open then costs makes small files
	 * slower than the plain mode, which never sees an open. */
	if ((pt->flags & FS_IO_AUTO) && !uring)
		offered = 0;
	if (!out || out->error != 0 || (!offered && !uring) ||
	    iov[1].iov_len < need || iov[1].iov_len > sizeof(*copy)) {
		if (debug)
			pt_log("INIT: kernel %s passthrough; not enabled",
			       offered ? "offered" : "did not offer");
		if (pt->flags & FS_IO_AUTO)
			fs_io_log("mode: plain /dev/fuse, chosen at INIT (the kernel did not offer "
			          "io_uring: the fuse module's enable_uring parameter turns it on)");
		return 0;
	}
	memset(copy, 0, sizeof(*copy));
	memcpy(copy, iov[1].iov_base, iov[1].iov_len);
	if (copy->major != 7)
		return 0;
	if (offered && !(copy->flags & PT_WRITEBACK_CACHE) && pt_have_sys_admin()) {
		copy->flags |= PT_INIT_EXT;
		copy->flags2 |= PT_FUSE_PASSTHROUGH_FLAGS2;
		copy->max_stack_depth = PT_MAX_STACK_DEPTH;
		enabled |= PT_FUSE_PASSTHROUGH_FLAGS2;
		if (debug)
			pt_log("INIT: enabling passthrough (max_stack_depth %u)",
			       PT_MAX_STACK_DEPTH);
	} else if (offered && debug) {
		pt_log("INIT: passthrough not enabled (%s)",
		       copy->flags & PT_WRITEBACK_CACHE ?
		       "writeback cache is on" : "no CAP_SYS_ADMIN");
	}
	if (uring) {
		copy->flags |= PT_INIT_EXT;
		copy->flags2 |= PT_OVER_IO_URING_FLAGS2;
		enabled |= PT_OVER_IO_URING_FLAGS2;
	}
	if (pt->flags & FS_IO_AUTO)
		fs_io_log("mode: %s, chosen at INIT%s",
		          (enabled & PT_FUSE_PASSTHROUGH_FLAGS2) ? "passthrough,uring" : "uring",
		          (enabled & PT_FUSE_PASSTHROUGH_FLAGS2) ? "" :
		          offered ? " (no passthrough: not root)" : " (the kernel offers no passthrough)");
	if (!enabled)
		return 0;
	patched[0] = iov[0];
	patched[1].iov_base = copy;
	patched[1].iov_len = iov[1].iov_len;
	return enabled;
}

/* The largest request or reply of the connection: what the kernel wants
 * of a ring entry's payload buffer (fuse_uring_create()). */
static size_t pt_uring_payload(const struct pt_init_out *init)
{
	size_t n = PT_MIN_READ_BUFFER;

	if (init->max_write > n)
		n = init->max_write;
	if ((size_t)init->max_pages * 4096u > n)
		n = (size_t)init->max_pages * 4096u;
	return n;
}

/* Same for the open/create reply fs_passthrough_reply_*() is sending.
 * buf holds a copy of the argument (entry_out + open_out at most). */
static int pt_patch_open(const struct iovec *iov, int count,
                         struct iovec patched[2], char *buf, size_t bufsize)
{
	const struct fuse_out_header *out = pt_reply_hdr(iov, count);
	int id = pt_tls.open_id;
	struct pt_open_out o;
	size_t len;

	pt_tls.open_id = 0;
	if (!out || out->error != 0)
		return 0;
	len = iov[1].iov_len;
	if (len < sizeof(o) || len > bufsize)
		return 0;
	memcpy(buf, iov[1].iov_base, len);
	memcpy(&o, buf + len - sizeof(o), sizeof(o));
	o.open_flags &= ~PT_FOPEN_DROPPED;
	if (o.open_flags & ~PT_FOPEN_ALLOWED)
		return 0;
	o.open_flags |= PT_FOPEN_PASSTHROUGH;
	o.backing_id = id;
	memcpy(buf + len - sizeof(o), &o, sizeof(o));
	patched[0] = iov[0];
	patched[1].iov_base = buf;
	patched[1].iov_len = len;
	pt_tls.open_patched = 1;
	return 1;
}

/* Where a reply goes: the ring entry of the queue thread serving its
 * request, or /dev/fuse. */
static ssize_t pt_send(int fd, struct iovec *iov, int count)
{
	ssize_t r;

	if (fs_uring_take_writev(iov, count, &r))
		return r;
	return writev(fd, iov, count);
}

static ssize_t pt_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	(void)userdata;
	struct iovec patched[2];
	struct pt_init_out init_copy;
	char open_copy[sizeof(struct fuse_entry_out) + sizeof(struct pt_open_out)];

	if (pt_tls.open_id > 0) {
		if (pt_patch_open(iov, count, patched, open_copy, sizeof(open_copy)))
			return pt_send(fd, patched, 2);
	} else if (pt_tls.init_pending && count >= 1 &&
	           iov[0].iov_len >= sizeof(struct fuse_out_header) &&
	           ((const struct fuse_out_header *)iov[0].iov_base)->unique ==
	           pt_tls.init_unique) {
		fs_passthrough *pt = pt_by_fd(fd);
		unsigned enabled = pt ? pt_patch_init(pt, iov, count, patched, &init_copy) : 0;
		if (enabled) {
			ssize_t r = writev(fd, patched, 2);
			/* the kernel has processed INIT when write returns, so
			 * the queues can register now */
			if (r > 0 && (enabled & PT_OVER_IO_URING_FLAGS2)) {
				int e = fs_uring_start(&pt->uring, pt->se, fd,
				                       pt_uring_payload(&init_copy),
				                       PT_URING_THREADS_PER_QUEUE,
				                       !(pt->flags & FS_IO_URING_NORMAL));
				if (e)
					fs_io_log("io_uring: not started");
				else
					fs_io_log("io_uring: requests go through per-CPU io_uring queues%s",
					          fs_uring_idle(pt->uring) ?
					          " (their threads wait at SCHED_IDLE)" : "");
			}
			return r;
		}
	}
	return pt_send(fd, iov, count);
}

static ssize_t pt_splice_send(int fdin, off_t *offin, int fdout, off_t *offout,
                              size_t len, unsigned int flags, void *userdata)
{
	(void)userdata;
	ssize_t r;

	if (fs_uring_take_splice(fdin, len, &r))
		return r;
	return splice(fdin, offin, fdout, offout, len, flags);
}

static ssize_t pt_splice(int fdin, off_t *offin, int fdout, off_t *offout,
                         size_t len, unsigned int flags, void *userdata)
{
	(void)userdata;
	return splice(fdin, offin, fdout, offout, len, flags);
}

static const struct fuse_custom_io pt_io = {
	.writev = pt_writev,
	.read = pt_read,
	.splice_receive = pt_splice,
	.splice_send = pt_splice_send,
};

/* ---- public API -------------------------------------------------------- */

int fs_passthrough_install(fs_passthrough **out, struct fuse_session *se, unsigned flags)
{
	fs_passthrough *pt;
	int fd, r;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!se)
		return -EINVAL;
	fd = fuse_session_fd(se);
	if (fd < 0)
		return -EBADF;            /* not mounted yet */
	pt = calloc(1, sizeof(*pt));
	if (!pt)
		return -ENOMEM;
	pt->fd = fd;
	pt->flags = flags;
	pt->se = se;
	pt->debug = pt_debug_env();
	pt->probe_fd = memfd_create("folio-passthrough-probe", MFD_CLOEXEC);
	atomic_init(&pt->active, 0);
	atomic_init(&pt->passed, 0);
	atomic_init(&pt->plain, 0);
	/* libfuse copies pt_io; the fd stays the one fuse_session_mount()
	 * opened, and fuse_session_destroy() still closes it once. */
	r = fuse_session_custom_io(se, &pt_io, fd);
	if (r != 0) {
		if (pt->debug)
			pt_log("custom I/O not installed: %s", pt_errstr(r < 0 ? -r : EIO));
		fs_passthrough_free(pt);
		return r < 0 ? r : -EIO;
	}
	if (pt->debug)
		pt_log("custom I/O installed on fd %d", fd);
	pt_register(pt, 1);
	*out = pt;
	return 0;
}

int fs_passthrough_active(const fs_passthrough *pt)
{
	/* pt points to a calloc'd (non-const) object: updating the cache
	 * through a cast is well defined. */
	fs_passthrough *self = (fs_passthrough *)pt;
	struct pt_backing_map map;
	int id;

	if (!self)
		return 0;
	if (atomic_load(&self->active))
		return 1;
	if (self->probe_fd < 0)
		return 0;
	memset(&map, 0, sizeof(map));
	map.fd = self->probe_fd;
	id = ioctl(self->fd, PT_IOC_BACKING_OPEN, &map);
	if (id <= 0)
		return 0;
	uint32_t u = (uint32_t)id;
	(void)ioctl(self->fd, PT_IOC_BACKING_CLOSE, &u);
	atomic_store(&self->active, 1);
	if (self->debug)
		pt_log("active (probe)");
	return 1;
}

int fs_passthrough_open(fs_passthrough *pt, int fd)
{
	struct pt_backing_map map;
	int id, err;

	if (!pt)
		return -ENOTSUP;
	if (fd < 0)
		return -EBADF;
	memset(&map, 0, sizeof(map));
	map.fd = fd;
	id = ioctl(pt->fd, PT_IOC_BACKING_OPEN, &map);
	if (id < 0) {
		err = errno;
		if (err == ENOTTY)
			err = EOPNOTSUPP;     /* kernel without the ioctl */
		if (pt->debug)
			pt_log("backing open of fd %d: %s", fd, pt_errstr(err));
		return -err;
	}
	if (id == 0)
		return -EIO;                  /* ids start at 1 */
	atomic_store(&pt->active, 1);
	if (pt->debug)
		pt_log("backing id %d for fd %d", id, fd);
	return id;
}

void fs_passthrough_close(fs_passthrough *pt, int backing_id)
{
	uint32_t u;

	if (!pt || backing_id <= 0)
		return;
	u = (uint32_t)backing_id;
	if (ioctl(pt->fd, PT_IOC_BACKING_CLOSE, &u) != 0 && pt->debug)
		pt_log("backing close of id %d: %s", backing_id, pt_errstr(errno));
	else if (pt->debug)
		pt_log("backing id %d closed", backing_id);
}

static int pt_reply(fs_passthrough *pt, fuse_req_t req,
                    const struct fuse_entry_param *e,
                    const struct fuse_file_info *fi, int backing_id)
{
	int r, patched;

	if (!pt || backing_id <= 0 || !atomic_load(&pt->active)) {
		if (pt)
			atomic_fetch_add(&pt->plain, 1);
		return e ? fuse_reply_create(req, e, fi) : fuse_reply_open(req, fi);
	}
	pt_tls.open_id = backing_id;
	pt_tls.open_patched = 0;
	r = e ? fuse_reply_create(req, e, fi) : fuse_reply_open(req, fi);
	patched = pt_tls.open_patched;
	pt_tls.open_id = 0;
	pt_tls.open_patched = 0;
	atomic_fetch_add(patched ? &pt->passed : &pt->plain, 1);
	if (pt->debug)
		pt_log("%s reply %s backing id %d%s", e ? "create" : "open",
		       patched ? "with" : "WITHOUT", backing_id,
		       r ? " (not delivered)" : "");
	return r;
}

int fs_passthrough_reply_open(fs_passthrough *pt, fuse_req_t req,
                              const struct fuse_file_info *fi, int backing_id)
{
	return pt_reply(pt, req, NULL, fi, backing_id);
}

int fs_passthrough_reply_create(fs_passthrough *pt, fuse_req_t req,
                                const struct fuse_entry_param *e,
                                const struct fuse_file_info *fi, int backing_id)
{
	return pt_reply(pt, req, e, fi, backing_id);
}

void fs_passthrough_stats(const fs_passthrough *pt, unsigned long *passed,
                          unsigned long *plain)
{
	if (passed)
		*passed = pt ? atomic_load(&pt->passed) : 0;
	if (plain)
		*plain = pt ? atomic_load(&pt->plain) : 0;
}

int fs_passthrough_uring(const fs_passthrough *pt)
{
	return pt && pt->uring;
}

unsigned long fs_passthrough_stop_uring(fs_passthrough *pt)
{
	unsigned long served;

	if (!pt || !pt->uring)
		return 0;
	served = fs_uring_served(pt->uring);
	fs_uring_stop(pt->uring);
	pt->uring = NULL;
	return served;
}

void fs_passthrough_free(fs_passthrough *pt)
{
	if (!pt)
		return;
	fs_passthrough_stop_uring(pt);
	pt_register(pt, 0);
	if (pt->probe_fd >= 0)
		close(pt->probe_fd);
	free(pt);
}
