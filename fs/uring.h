/*
 * uring.h — FUSE over io_uring for a libfuse 3.14 daemon (Linux 6.14+).
 *
 * With it, the kernel hands requests to per-CPU queues of io_uring
 * commands instead of read(2) on /dev/fuse: a request made on CPU n goes
 * to queue n, and one io_uring_enter() both commits a reply and fetches
 * the next request. See uring.c for how it fits under
 * libfuse 3.14, which has no support of its own.
 *
 * The passthrough shim (passthrough.c) owns the session's custom I/O; it
 * offers FUSE_OVER_IO_URING in the INIT reply when asked to, starts the
 * queues once the kernel has taken that reply, and routes the replies of
 * queue threads here instead of to /dev/fuse.
 */
#ifndef FOLIO_FS_URING_H
#define FOLIO_FS_URING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct fuse_session;
typedef struct fs_uring fs_uring;

/* Where the device-I/O shims (this and passthrough.c) log: stderr unless
 * the daemon points them at its log. */
typedef void (*fs_io_log_fn)(const char *fmt, ...);
void fs_io_set_log(fs_io_log_fn fn);
void fs_io_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Starts one queue per possible CPU, threads_per_queue threads each, on
 * the session's /dev/fuse fd, with payload buffers of payload bytes. Call
 * only after the kernel accepted an INIT reply that asked for io_uring.
 * With idle_wait the threads run at SCHED_IDLE, watched against
 * starvation (uring.c says why). Returns 0 or -errno (then nothing is
 * left running). */
int fs_uring_start(fs_uring **out, struct fuse_session *se, int fd,
                   size_t payload, int threads_per_queue, int idle_wait);

/* 1 while the queue threads run at SCHED_IDLE, 0 if they never did or
 * the watchdog has put them back to normal priority. */
int fs_uring_idle(const fs_uring *u);

/* In a queue thread that is serving a request: takes the reply (out
 * header + arguments) into the ring entry instead of /dev/fuse and returns
 * 1 with *ret set as writev(2) would. Returns 0 anywhere else (send it to
 * /dev/fuse as usual). */
int fs_uring_take_writev(const struct iovec *iov, int count, ssize_t *ret);

/* The same for a reply libfuse spliced into a pipe (header then data). */
int fs_uring_take_splice(int pipe_fd, size_t len, ssize_t *ret);

/* In a queue thread serving a request: the entry's payload buffer, where
 * a reply of up to len bytes can be built in place (then reply with
 * exactly that pointer, and it is not copied again). NULL anywhere else
 * or if len does not fit. */
void *fs_uring_reply_buffer(size_t len);

/* Requests served through the rings so far. */
unsigned long fs_uring_served(const fs_uring *u);

/* Waits for the queue threads (they end when the connection does) and
 * frees everything. NULL is fine. */
void fs_uring_stop(fs_uring *u);

#endif
