/*
 * passthrough.h — FUSE passthrough (kernel >= 6.9) on top of libfuse 3.14,
 * which has no API for it. See passthrough.c for how and why.
 *
 * Use, in a low-level daemon:
 *
 *   fuse_session_mount(se, mnt);
 *   fs_passthrough_install(&pt, se, FS_IO_PASSTHROUGH); // failure: run without (pt NULL)
 *   fuse_session_loop[_mt](se, ...);
 *   ...
 *   open:    id = fs_passthrough_open(pt, fd);   // once per inode, see below
 *            fs_passthrough_reply_open(pt, req, fi, id);  // id <= 0: plain
 *   release: when the inode's last passthrough open is released,
 *            fs_passthrough_close(pt, id);
 *   after fuse_session_destroy():  fs_passthrough_free(pt);
 *
 * Rules the kernel imposes (fs/fuse/iomode.c):
 *  - While any file of a FUSE inode is open in passthrough mode, every other
 *    open of that inode must also be passthrough, to the SAME backing id
 *    (else -EBUSY, which open(2) sees as EIO); and a passthrough open fails
 *    while the inode is open in plain cached mode (-ETXTBSY -> EIO). So keep
 *    one backing id per inode, refcounted by its opens (or for the inode's
 *    whole life), and never mix plain and passthrough opens of one inode.
 *  - An open file keeps its own reference to the backing file: closing the id
 *    only stops new opens from using it. The registration holds the file open
 *    in the kernel, so the daemon may close its own fd after
 *    fs_passthrough_open(). All ids die with the connection.
 *  - Backing files must be regular files on a non-stacked filesystem (ext4,
 *    xfs, tmpfs...; max_stack_depth is 1, so a backing file on overlayfs or on
 *    another FUSE mount gets -ELOOP).
 *  - Passthrough and writeback caching exclude each other: if the daemon's
 *    init() asks for FUSE_CAP_WRITEBACK_CACHE, passthrough stays off.
 */
#ifndef FOLIO_FS_PASSTHROUGH_H
#define FOLIO_FS_PASSTHROUGH_H

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 314
#endif
#include <fuse_lowlevel.h>

typedef struct fs_passthrough fs_passthrough;

/* Installs a custom I/O layer on se that can enable passthrough. Call after
 * fuse_session_mount() and before the session loop. Returns 0 and sets *out;
 * on failure returns a negative errno and sets *out to NULL: the caller runs
 * without passthrough (every function below accepts a NULL pt). */
#define FS_IO_PASSTHROUGH 1u  /* offer passthrough in INIT */
#define FS_IO_URING 2u        /* offer FUSE over io_uring in INIT */
#define FS_IO_URING_NORMAL 4u /* io_uring queue threads never at SCHED_IDLE */
#define FS_IO_AUTO 8u          /* at INIT: io_uring if offered, passthrough
                                 * too if offered with it and CAP_SYS_ADMIN */
int fs_passthrough_install(fs_passthrough **out, struct fuse_session *se, unsigned flags);

/* Stops the io_uring queues, if any (call once the session loop has
 * ended, before fuse_session_destroy()); returns the requests they
 * served. */
unsigned long fs_passthrough_stop_uring(fs_passthrough *pt);

/* 1 once the io_uring queues have started. */
int fs_passthrough_uring(const fs_passthrough *pt);

/* 1 once INIT has completed with the kernel accepting passthrough and this
 * process may register backing files; 0 otherwise (kernel too old or built
 * without it, not CAP_SYS_ADMIN, writeback cache on, INIT not done yet...).
 * Thread-safe. Costs one ioctl per call until it first returns 1. */
int fs_passthrough_active(const fs_passthrough *pt);

/* Registers fd (a regular file, any open mode) as a backing file: returns the
 * backing id (> 0) or a negative errno (-EPERM: passthrough not on or no
 * CAP_SYS_ADMIN; -EOPNOTSUPP: kernel without it; -ELOOP: stacked fs).
 * pt may be NULL -> -ENOTSUP. */
int fs_passthrough_open(fs_passthrough *pt, int fd);
void fs_passthrough_close(fs_passthrough *pt, int backing_id);

/* Like fuse_reply_open / fuse_reply_create, but the reply tells the kernel to
 * pass read/write/mmap through to backing_id (backing_id <= 0, pt NULL or
 * passthrough not active: a plain reply). Any thread may call it: libfuse
 * writes the reply from the calling thread, which is all the hook needs.
 * fi->keep_cache is ignored for a passthrough reply; fi->direct_io would
 * send read/write to the daemon again (only mmap passes through), so leave
 * it off; fi->nonseekable makes the reply plain (the kernel refuses it with
 * passthrough). Returns what fuse_reply_open() returns: non-zero means the
 * kernel did not get the reply (the open was interrupted, no RELEASE will
 * follow: drop the daemon's reference to the backing id). */
int fs_passthrough_reply_open(fs_passthrough *pt, fuse_req_t req,
                              const struct fuse_file_info *fi, int backing_id);
int fs_passthrough_reply_create(fs_passthrough *pt, fuse_req_t req,
                                const struct fuse_entry_param *e,
                                const struct fuse_file_info *fi, int backing_id);

/* Counters for logs/benchmarks: opens replied with passthrough, and plain
 * (through the two functions above). Either pointer may be NULL. */
void fs_passthrough_stats(const fs_passthrough *pt, unsigned long *passed,
                          unsigned long *plain);

/* Frees pt. The session fd belongs to libfuse: call fs_passthrough_close()
 * only before fuse_session_destroy(); free any time after the loop ends. */
void fs_passthrough_free(fs_passthrough *pt);

#endif
