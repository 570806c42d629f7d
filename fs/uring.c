/*
 * uring.c — FUSE over io_uring under libfuse 3.14.
 *
 * PROTOCOL (Linux 6.14+, fs/fuse/dev_uring.c). The daemon answers INIT with
 * FUSE_OVER_IO_URING (bit 41, bit 9 of flags2) when the kernel offered it
 * (it does only while the fuse module's enable_uring parameter is on).
 * Then, for every possible CPU (a "queue"), it registers ring entries: an
 * IORING_OP_URING_CMD on the /dev/fuse fd in a 128-byte SQE, command
 * FUSE_IO_URING_CMD_REGISTER, whose 80-byte command area holds
 * {flags, commit_id, qid} and whose addr/len give two iovecs: a 288-byte
 * header block (in/out header, per-op header, entry info) and a payload
 * buffer of at least the connection's largest request or reply. Requests
 * wait until every queue has an entry. The kernel puts a request made on
 * CPU n into an entry of queue n and completes its command; the daemon
 * writes the reply into the same buffers and submits
 * FUSE_IO_URING_CMD_COMMIT_AND_FETCH with the request's commit id, which
 * delivers the reply and re-arms the entry in one system call. FORGET and
 * INTERRUPT still come through read(2), so libfuse's own loop keeps
 * running beside the queues; notifications still go through write(2).
 *
 * UNDER LIBFUSE 3.14. Each queue thread rebuilds the request as read(2)
 * would have returned it (in header, per-op header, the rest) and hands it
 * to fuse_session_process_buf(). Our handlers reply before they return, in
 * the calling thread, through the session's custom I/O (passthrough.c),
 * which gives every reply to fs_uring_take_writev()/_take_splice() first:
 * in a queue thread serving a request, the reply with that request's
 * unique id is copied into the entry. A handler that returned without a
 * reply gets EIO, so no request can hang.
 *
 * THREADS. threads_per_queue threads per queue, each with its own small
 * io_uring (SQE128, single issuer, deferred task work) and one ring entry;
 * with two per queue a slow request (a view output being generated) does
 * not hold up the other requests of its CPU. The threads are bound to
 * their queue's CPU, as the kernel queues each request on its sender's
 * CPU: the reply then wakes the sender where it sleeps. On a 2-vCPU VM,
 * 3,000 JPEGs read once after mounting by 1 reader, 3 alternating rounds:
 * -o uring 7,600-8,900 files/s bound against 4,100-5,100 unbound;
 * -o passthrough,uring warm 13,400-19,400 against 8,100-10,600 (the
 * cold pass with 8 readers was level or better bound in every case).
 * The threads end when the connection does: the kernel completes their
 * commands with ENOTCONN at unmount.
 *
 * WAITING AT SCHED_IDLE. A reply wakes the process that made the request,
 * and while the queue thread that sent it still runs on that CPU the
 * scheduler places the process on another CPU if one is idle
 * (select_idle_sibling()). On a VM that costs an interrupt and a halt
 * exit: `perf bench sched pipe` round trips took 44-65 us between the two
 * vCPUs of the machine folio is developed on and 2.3-3.1 us on one
 * (taskset -c 0), and every open through -o passthrough,uring paid it
 * twice. A CPU whose runnable tasks are all SCHED_IDLE counts as idle in
 * that choice (sched_idle_cpu()), so queue threads at SCHED_IDLE leave
 * the reader on its CPU, where its next request meets the same thread;
 * and a SCHED_IDLE thread never preempts the reader, so the RELEASE that
 * close(2) queues is served when the reader next blocks. 3,000 JPEGs
 * through -o passthrough,uring, 1 reader, 3 alternating rounds: first
 * pass 15,770-16,848 files/s against 8,278-9,099 at SCHED_OTHER, later
 * passes 24,711-25,847 against 13,129-22,790. (Switching to SCHED_OTHER
 * while serving and back before the reply lost all of it.)
 * The risk is starvation: a SCHED_IDLE thread gets next to no CPU while
 * normal tasks of its scheduling group are runnable, as they are when
 * the daemon shares a group (no autogroup, one cgroup, -f in the job's
 * session) with a CPU-bound job. So a watchdog reads each queue thread's
 * run delay (time runnable but not running, /proc/self/task/TID/schedstat)
 * every UR_WATCH_MS; once one waited UR_STARVED_MS within a window, every
 * queue thread runs at SCHED_OTHER for the rest of the mount, and the log
 * says so. Without schedstat there is no watchdog and no SCHED_IDLE.
 *
 * No liburing: the three system calls and the ring layout are used
 * directly, and the 6.14 structures are defined here because Debian 12's
 * <linux/fuse.h> is protocol 7.38.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#define FUSE_USE_VERSION 314
#include "uring.h"

#include <errno.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <stdarg.h>

static void ur_log_stderr(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("foliofs: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static fs_io_log_fn ur_logger = ur_log_stderr;

void fs_io_set_log(fs_io_log_fn fn)
{
	ur_logger = fn ? fn : ur_log_stderr;
}

void fs_io_log(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ur_logger("%s", buf);
	errno = saved;
}

static const char *ur_errstr(int err)
{
	static _Thread_local char buf[128];

	return strerror_r(err, buf, sizeof(buf));
}

/* ---- protocol structures (include/uapi/linux/fuse.h, 7.42) ------------- */

#define UR_CMD_REGISTER 1u
#define UR_CMD_COMMIT_AND_FETCH 2u

struct ur_ent_in_out {
	uint64_t flags;
	uint64_t commit_id;
	uint32_t payload_sz;
	uint32_t padding;
	uint64_t reserved;
};

struct ur_req_header {
	char in_out[128];              /* fuse_in_header / fuse_out_header */
	char op_in[128];               /* the per-op header */
	struct ur_ent_in_out ent;
};

struct ur_cmd_req {
	uint64_t flags;
	uint64_t commit_id;
	uint16_t qid;
	uint8_t padding[6];
};

_Static_assert(sizeof(struct ur_req_header) == 288, "fuse_uring_req_header");
_Static_assert(sizeof(struct ur_cmd_req) == 24, "fuse_uring_cmd_req");
_Static_assert(offsetof(struct io_uring_sqe, cmd) == 48, "sqe command area");

#define UR_SQE_SIZE 128u

/* ---- a minimal io_uring ------------------------------------------------- */

typedef struct ur_ring {
	int fd;
	unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
	unsigned *cq_head, *cq_tail, *cq_mask;
	struct io_uring_cqe *cqes;
	char *sqes;
	void *sq_map, *cq_map;
	size_t sq_map_sz, cq_map_sz, sqes_sz;
} ur_ring;

static int ur_sys_setup(unsigned entries, struct io_uring_params *p)
{
	return (int)syscall(__NR_io_uring_setup, entries, p);
}

static int ur_sys_enter(int fd, unsigned submit, unsigned wait, unsigned flags)
{
	return (int)syscall(__NR_io_uring_enter, fd, submit, wait, flags, NULL, 0);
}

static void ur_ring_clear(ur_ring *r)
{
	if (r->sqes && r->sqes != MAP_FAILED)
		munmap(r->sqes, r->sqes_sz);
	if (r->cq_map && r->cq_map != MAP_FAILED && r->cq_map != r->sq_map)
		munmap(r->cq_map, r->cq_map_sz);
	if (r->sq_map && r->sq_map != MAP_FAILED)
		munmap(r->sq_map, r->sq_map_sz);
	if (r->fd >= 0)
		close(r->fd);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

/* 128-byte SQEs; single issuer with deferred task work where the kernel
 * has them (the completion work then runs in our io_uring_enter()). */
static int ur_ring_init(ur_ring *r, unsigned entries)
{
	struct io_uring_params p;

	memset(r, 0, sizeof(*r));
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SQE128 | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	r->fd = ur_sys_setup(entries, &p);
	if (r->fd < 0 && errno == EINVAL) {
		memset(&p, 0, sizeof(p));
		p.flags = IORING_SETUP_SQE128;
		r->fd = ur_sys_setup(entries, &p);
	}
	if (r->fd < 0)
		return -errno;
	r->sq_map_sz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	r->cq_map_sz = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		if (r->cq_map_sz > r->sq_map_sz)
			r->sq_map_sz = r->cq_map_sz;
		r->cq_map_sz = r->sq_map_sz;
	}
	r->sq_map = mmap(NULL, r->sq_map_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
	                 r->fd, IORING_OFF_SQ_RING);
	if (r->sq_map == MAP_FAILED)
		goto fail;
	if (p.features & IORING_FEAT_SINGLE_MMAP)
		r->cq_map = r->sq_map;
	else {
		r->cq_map = mmap(NULL, r->cq_map_sz, PROT_READ | PROT_WRITE,
		                 MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
		if (r->cq_map == MAP_FAILED)
			goto fail;
	}
	r->sqes_sz = p.sq_entries * UR_SQE_SIZE;
	r->sqes = mmap(NULL, r->sqes_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
	               r->fd, IORING_OFF_SQES);
	if (r->sqes == MAP_FAILED)
		goto fail;
	char *sq = r->sq_map, *cq = r->cq_map;
	r->sq_head = (unsigned *)(sq + p.sq_off.head);
	r->sq_tail = (unsigned *)(sq + p.sq_off.tail);
	r->sq_mask = (unsigned *)(sq + p.sq_off.ring_mask);
	r->sq_array = (unsigned *)(sq + p.sq_off.array);
	r->cq_head = (unsigned *)(cq + p.cq_off.head);
	r->cq_tail = (unsigned *)(cq + p.cq_off.tail);
	r->cq_mask = (unsigned *)(cq + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	return 0;
fail:;
	int err = errno;
	ur_ring_clear(r);
	return -err;
}

/* Queues one URING_CMD on the fuse fd. */
static void ur_push_cmd(ur_ring *r, int fuse_fd, unsigned op, const struct iovec *iov,
                        uint64_t commit_id, uint16_t qid)
{
	unsigned tail = *r->sq_tail, idx = tail & *r->sq_mask;
	struct io_uring_sqe *sqe = (struct io_uring_sqe *)(r->sqes + (size_t)idx * UR_SQE_SIZE);
	struct ur_cmd_req req;

	memset(sqe, 0, UR_SQE_SIZE);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fuse_fd;
	sqe->cmd_op = op;
	if (iov) {
		sqe->addr = (uint64_t)(uintptr_t)iov;
		sqe->len = 2;
	}
	sqe->user_data = 1;
	memset(&req, 0, sizeof(req));
	req.commit_id = commit_id;
	req.qid = qid;
	memcpy((char *)sqe + offsetof(struct io_uring_sqe, cmd), &req, sizeof(req));
	r->sq_array[idx] = idx;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
}

/* Submits what is queued and waits for one completion; returns its res,
 * or -errno if the ring itself failed. */
static int ur_submit_wait(ur_ring *r)
{
	for (;;) {
		unsigned head = __atomic_load_n(r->cq_head, __ATOMIC_RELAXED);
		if (head != __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE)) {
			int res = r->cqes[head & *r->cq_mask].res;
			__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
			return res;
		}
		unsigned pending = __atomic_load_n(r->sq_tail, __ATOMIC_RELAXED) -
		                   __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
		if (ur_sys_enter(r->fd, pending, 1, IORING_ENTER_GETEVENTS) < 0 &&
		    errno != EINTR && errno != EAGAIN && errno != EBUSY)
			return -errno;
	}
}

/* ---- queues ------------------------------------------------------------- */

typedef struct ur_thread {
	fs_uring *u;
	uint16_t qid;
	int started;
	atomic_int tid;               /* once running */
	pthread_t th;
	ur_ring ring;
	struct ur_req_header *hdr;
	char *payload;
	char *req;                    /* the request rebuilt for libfuse */
	struct iovec iov[2];
	/* the request being served */
	int serving, replied;
	uint64_t unique;
} ur_thread;

struct fs_uring {
	struct fuse_session *se;
	int fd;
	size_t payload;
	int nthreads, nqueues;
	ur_thread *t;
	atomic_ulong served;
	atomic_int errors_logged;
	/* queue threads wait at SCHED_IDLE until the watchdog demotes them */
	int idle_wait;
	atomic_int demoted;
	int watching;
	pthread_t watch;
	pthread_mutex_t mu;
	pthread_cond_t cv;            /* CLOCK_MONOTONIC */
	int stopping;
	long long *last_delay;        /* per thread, the watchdog's last reading */
};

static _Thread_local ur_thread *ur_self;

static int possible_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);
	int lo, hi;
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");

	/* "0-N" (or "0"): the kernel sizes the ring by num_possible_cpus() */
	if (f) {
		int got = fscanf(f, "%d-%d", &lo, &hi);
		fclose(f);
		if (got == 2 && lo == 0 && hi >= 0 && hi < 4096)
			return hi + 1;
		if (got == 1 && lo == 0)
			return 1;
	}
	return n > 0 && n < 4096 ? (int)n : 1;
}

static void ur_fail_request(ur_thread *t, int err)
{
	struct fuse_out_header out = {
		.len = sizeof(out), .error = -err, .unique = t->unique,
	};
	memcpy(t->hdr->in_out, &out, sizeof(out));
	t->hdr->ent.payload_sz = 0;
}

/* Hands the request in the entry to libfuse; the reply lands in the entry. */
static void ur_serve(ur_thread *t)
{
	struct fuse_in_header in;
	uint32_t psz = t->hdr->ent.payload_sz;

	memcpy(&in, t->hdr->in_out, sizeof(in));
	t->unique = in.unique;
	if (in.len < sizeof(in) + (uint64_t)psz || psz > t->u->payload ||
	    in.len - sizeof(in) - psz > sizeof(t->hdr->op_in)) {
		if (atomic_fetch_add(&t->u->errors_logged, 1) < 5)
			fs_io_log("uring: malformed request (opcode %u, len %u, payload %u)",
			       in.opcode, in.len, psz);
		ur_fail_request(t, EIO);
		return;
	}
	size_t oplen = in.len - sizeof(in) - psz;
	memcpy(t->req, &in, sizeof(in));
	memcpy(t->req + sizeof(in), t->hdr->op_in, oplen);
	memcpy(t->req + sizeof(in) + oplen, t->payload, psz);

	struct fuse_buf fb;
	memset(&fb, 0, sizeof(fb));
	fb.mem = t->req;
	fb.size = in.len;
	t->replied = 0;
	t->serving = 1;
	fuse_session_process_buf(t->u->se, &fb);
	t->serving = 0;
	if (!t->replied) {
		if (atomic_fetch_add(&t->u->errors_logged, 1) < 5)
			fs_io_log("uring: no reply to opcode %u; answered EIO", in.opcode);
		ur_fail_request(t, EIO);
	}
	atomic_fetch_add_explicit(&t->u->served, 1, memory_order_relaxed);
}

/* A REGISTER the kernel must refuse (no such queue) turns io_uring off
 * for the connection, so requests waiting for the queues to be complete
 * go through /dev/fuse instead of hanging. */
static void ur_give_up(int fuse_fd, int nqueues)
{
	ur_ring r;
	struct ur_req_header hdr;
	static char payload[8];
	struct iovec iov[2] = { { &hdr, sizeof(hdr) }, { payload, sizeof(payload) } };

	if (ur_ring_init(&r, 2) < 0)
		return;
	ur_push_cmd(&r, fuse_fd, UR_CMD_REGISTER, iov, 0, (uint16_t)nqueues);
	(void)ur_submit_wait(&r);
	ur_ring_clear(&r);
}

/* ---- SCHED_IDLE and its watchdog (see the top of the file) ------------ */

#define UR_WATCH_MS 100
#define UR_STARVED_MS 50

static void ur_set_policy(pid_t tid, int policy)
{
	struct sched_param sp = { 0 };

	(void)sched_setscheduler(tid, policy, &sp);
}

/* The thread's run delay in ns (the second field of its schedstat), or -1. */
static long long ur_run_delay(int tid)
{
	char path[64], buf[128];
	unsigned long long on_cpu, delay;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), tid ? "/proc/self/task/%d/schedstat" : "/proc/thread-self/schedstat", tid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu", &on_cpu, &delay) != 2)
		return -1;
	return (long long)delay;
}

/* Every SCHED_IDLE thread of the daemon goes back to SCHED_OTHER: the
 * queue threads, and threads they started (a view's feature workers
 * inherit the policy of the queue thread that computes the view). */
static void ur_demote(fs_uring *u, int tid, long long waited_ns)
{
	DIR *d;
	struct dirent *e;

	atomic_store(&u->demoted, 1);
	for (int i = 0; i < u->nthreads; i++) {
		int t = atomic_load(&u->t[i].tid);
		if (t)
			ur_set_policy(t, SCHED_OTHER);
	}
	if ((d = opendir("/proc/self/task"))) {
		while ((e = readdir(d))) {
			int t = atoi(e->d_name);
			if (t > 0 && sched_getscheduler(t) == SCHED_IDLE)
				ur_set_policy(t, SCHED_OTHER);
		}
		closedir(d);
	}
	fs_io_log("uring: queue thread %d waited %lld ms for a CPU within %d ms (busy processes "
	          "share its scheduling group); the queue threads run at normal priority "
	          "from now on", tid, waited_ns / 1000000, UR_WATCH_MS);
}

static void *ur_watch(void *arg)
{
	fs_uring *u = arg;
	long long *last = u->last_delay;
	struct timespec at;

	for (int i = 0; i < u->nthreads; i++)
		last[i] = -1;
	clock_gettime(CLOCK_MONOTONIC, &at);
	pthread_mutex_lock(&u->mu);
	while (!u->stopping && !atomic_load(&u->demoted)) {
		at.tv_nsec += UR_WATCH_MS * 1000000L;
		if (at.tv_nsec >= 1000000000L) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000L;
		}
		if (pthread_cond_timedwait(&u->cv, &u->mu, &at) != ETIMEDOUT)
			continue;
		pthread_mutex_unlock(&u->mu);
		for (int i = 0; i < u->nthreads; i++) {
			int tid = atomic_load(&u->t[i].tid);
			long long d = tid ? ur_run_delay(tid) : -1;
			if (d >= 0 && last[i] >= 0 && d - last[i] >= UR_STARVED_MS * 1000000LL) {
				ur_demote(u, tid, d - last[i]);
				break;
			}
			last[i] = d;
		}
		pthread_mutex_lock(&u->mu);
	}
	pthread_mutex_unlock(&u->mu);
	return NULL;
}

/* Starts the watchdog; 0 if it cannot run (then no SCHED_IDLE either). */
static int ur_watch_start(fs_uring *u)
{
	pthread_condattr_t ca;

	if (ur_run_delay(0) < 0) {
		fs_io_log("uring: no schedstat in /proc; the queue threads run at normal priority");
		return 0;
	}
	if (!(u->last_delay = calloc((size_t)u->nthreads, sizeof(*u->last_delay))))
		return 0;
	pthread_mutex_init(&u->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&u->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&u->watch, NULL, ur_watch, u) != 0) {
		pthread_cond_destroy(&u->cv);
		pthread_mutex_destroy(&u->mu);
		free(u->last_delay);
		u->last_delay = NULL;
		return 0;
	}
	u->watching = 1;
	return 1;
}

static void ur_watch_stop(fs_uring *u)
{
	if (!u->watching)
		return;
	pthread_mutex_lock(&u->mu);
	u->stopping = 1;
	pthread_cond_signal(&u->cv);
	pthread_mutex_unlock(&u->mu);
	pthread_join(u->watch, NULL);
	pthread_cond_destroy(&u->cv);
	pthread_mutex_destroy(&u->mu);
	free(u->last_delay);
	u->last_delay = NULL;
	u->watching = 0;
}

static void *ur_main(void *arg)
{
	ur_thread *t = arg;
	sigset_t all;
	int res;

	ur_self = t;
	/* bound to the queue's CPU: the kernel queues a request on the CPU of
	 * the process that made it, so its reply needs no cross-CPU wake-up.
	 * A CPU outside our cpuset just leaves the thread unbound. */
	cpu_set_t cpu;
	CPU_ZERO(&cpu);
	CPU_SET(t->qid, &cpu);
	(void)pthread_setaffinity_np(pthread_self(), sizeof(cpu), &cpu);
	atomic_store(&t->tid, (int)syscall(SYS_gettid));
	if (t->u->idle_wait) {
		ur_set_policy(0, SCHED_IDLE);
		/* the watchdog may have demoted the others before it saw us */
		if (atomic_load(&t->u->demoted))
			ur_set_policy(0, SCHED_OTHER);
	}
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	/* made here: a single-issuer ring belongs to the thread that made it */
	if ((res = ur_ring_init(&t->ring, 4)) < 0) {
		fs_io_log("uring: queue %u: io_uring_setup: %s; using /dev/fuse", t->qid, ur_errstr(-res));
		ur_give_up(t->u->fd, t->u->nqueues);
		return NULL;
	}
	ur_push_cmd(&t->ring, t->u->fd, UR_CMD_REGISTER, t->iov, 0, t->qid);
	res = ur_submit_wait(&t->ring);
	if (res < 0 && res != -ENOTCONN)
		fs_io_log("uring: queue %u: register: %s", t->qid, ur_errstr(-res));
	while (res >= 0) {
		ur_serve(t);
		ur_push_cmd(&t->ring, t->u->fd, UR_CMD_COMMIT_AND_FETCH, NULL,
		            t->hdr->ent.commit_id, t->qid);
		res = ur_submit_wait(&t->ring);
		if (res < 0 && res != -ENOTCONN && res != -ECANCELED)
			fs_io_log("uring: queue %u: commit: %s", t->qid, ur_errstr(-res));
	}
	return NULL;
}

int fs_uring_take_writev(const struct iovec *iov, int count, ssize_t *ret)
{
	ur_thread *t = ur_self;
	struct fuse_out_header out;
	size_t total = 0, have = 0;

	if (!t || !t->serving || t->replied || count < 1)
		return 0;
	for (int i = 0; i < count; i++)
		total += iov[i].iov_len;
	if (total < sizeof(out))
		return 0;
	/* the header may straddle iovecs in principle */
	for (int i = 0; i < count && have < sizeof(out); i++) {
		size_t n = iov[i].iov_len < sizeof(out) - have ? iov[i].iov_len : sizeof(out) - have;
		memcpy((char *)&out + have, iov[i].iov_base, n);
		have += n;
	}
	if (out.unique != t->unique)
		return 0;                       /* a notification: /dev/fuse */
	if (total - sizeof(out) > t->u->payload) {
		*ret = -1;
		errno = EINVAL;
		return 1;
	}
	size_t skip = sizeof(out), pos = 0;
	for (int i = 0; i < count; i++) {
		const char *p = iov[i].iov_base;
		size_t n = iov[i].iov_len;
		if (skip >= n) {
			skip -= n;
			continue;
		}
		p += skip;
		n -= skip;
		skip = 0;
		if (p != t->payload + pos)
			memcpy(t->payload + pos, p, n);
		pos += n;
	}
	memcpy(t->hdr->in_out, &out, sizeof(out));
	t->hdr->ent.payload_sz = (uint32_t)pos;
	t->replied = 1;
	*ret = (ssize_t)total;
	return 1;
}

static int read_full(int fd, char *buf, size_t len)
{
	while (len) {
		ssize_t n = read(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int fs_uring_take_splice(int pipe_fd, size_t len, ssize_t *ret)
{
	ur_thread *t = ur_self;
	struct fuse_out_header out;

	if (!t || !t->serving || t->replied || len < sizeof(out))
		return 0;
	if (len - sizeof(out) > t->u->payload || read_full(pipe_fd, (char *)&out, sizeof(out)) < 0 ||
	    read_full(pipe_fd, t->payload, len - sizeof(out)) < 0) {
		*ret = -1;
		errno = EIO;
		return 1;
	}
	/* libfuse only splices replies, and a queue thread only replies to
	 * the request it is serving */
	memcpy(t->hdr->in_out, &out, sizeof(out));
	t->hdr->ent.payload_sz = (uint32_t)(len - sizeof(out));
	t->replied = 1;
	*ret = (ssize_t)len;
	return 1;
}

void *fs_uring_reply_buffer(size_t len)
{
	ur_thread *t = ur_self;

	if (!t || !t->serving || t->replied || len > t->u->payload)
		return NULL;
	return t->payload;
}

int fs_uring_idle(const fs_uring *u)
{
	return u && u->idle_wait && !atomic_load(&((fs_uring *)u)->demoted);
}

unsigned long fs_uring_served(const fs_uring *u)
{
	return u ? atomic_load(&((fs_uring *)u)->served) : 0;
}

static void ur_thread_clear(ur_thread *t)
{
	ur_ring_clear(&t->ring);
	free(t->hdr);
	free(t->payload);
	free(t->req);
}

int fs_uring_start(fs_uring **out, struct fuse_session *se, int fd,
                   size_t payload, int threads_per_queue, int idle_wait)
{
	int nq = possible_cpus(), n, rc = 0;
	fs_uring *u;

	*out = NULL;
	if (threads_per_queue < 1)
		threads_per_queue = 1;
	n = nq * threads_per_queue;
	u = calloc(1, sizeof(*u));
	if (!u || !(u->t = calloc((size_t)n, sizeof(ur_thread)))) {
		free(u);
		ur_give_up(fd, nq);
		return -ENOMEM;
	}
	u->se = se;
	u->fd = fd;
	u->payload = payload;
	u->nthreads = n;
	u->nqueues = nq;
	/* the watchdog first: without it the threads must not wait at SCHED_IDLE */
	u->idle_wait = idle_wait && ur_watch_start(u);
	for (int i = 0; i < n && rc == 0; i++) {
		ur_thread *t = &u->t[i];
		t->u = u;
		t->qid = (uint16_t)(i % nq);
		t->ring.fd = -1;
		t->hdr = aligned_alloc(4096, 4096);
		t->payload = aligned_alloc(4096, (payload + 4095) & ~(size_t)4095);
		t->req = malloc(sizeof(struct fuse_in_header) + sizeof(t->hdr->op_in) + payload);
		if (!t->hdr || !t->payload || !t->req) {
			rc = -ENOMEM;
			break;
		}
		memset(t->hdr, 0, sizeof(*t->hdr));
		t->iov[0].iov_base = t->hdr;
		t->iov[0].iov_len = sizeof(*t->hdr);
		t->iov[1].iov_base = t->payload;
		t->iov[1].iov_len = payload;
	}
	for (int i = 0; i < n && rc == 0; i++) {
		int e = pthread_create(&u->t[i].th, NULL, ur_main, &u->t[i]);
		if (e) {
			rc = -e;
			break;
		}
		u->t[i].started = 1;
	}
	if (rc < 0) {
		fs_io_log("uring: cannot start the queues: %s; using /dev/fuse", ur_errstr(-rc));
		ur_give_up(fd, nq);
		if (!u->t[0].started) {
			fs_uring_stop(u);
			return rc;
		}
		/* threads already waiting end at unmount: stop them then */
	}
	*out = u;
	return 0;
}

void fs_uring_stop(fs_uring *u)
{
	if (!u)
		return;
	ur_watch_stop(u);
	for (int i = 0; i < u->nthreads; i++) {
		if (u->t[i].started)
			pthread_join(u->t[i].th, NULL);
		ur_thread_clear(&u->t[i]);
	}
	free(u->t);
	free(u);
}
