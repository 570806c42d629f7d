/*
 * main.c — foliofs, the folio FUSE daemon.
 *
 *   foliofs [-f] [-o OPTIONS] REPO MOUNTPOINT
 *
 * Also usable as a mount(8) / fstab type: `mount -t fuse.foliofs REPO MNT`
 * runs `foliofs REPO MNT -o ...` through mount.fuse3.
 *
 * Start-up happens in a child process; the parent waits on a pipe until both
 * sessions (MNT and MNT/HEAD) are mounted and answering, then exits 0, or
 * prints the child's error and exits 1. So when `folio mount` returns, the
 * mount is ready. The daemon logs to REPO/cache/foliofs.log.
 *
 * Shutdown: SIGTERM, SIGINT or SIGHUP, or either mount going away
 * (`folio umount`, fusermount3 -u), makes the daemon unmount both sessions
 * and exit cleanly.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include "folio/repo.h"
#include "folio/util.h"

#include "../../fs/fs.h"
#include "../../fs/passthrough.h"
#include "../../fs/uring.h"

static const char usage[] =
	"usage: foliofs [-f] [-d] [-o OPTIONS] REPO MOUNTPOINT\n"
	"\n"
	"Mounts a folio repository: MOUNTPOINT/HEAD (the stage, writable),\n"
	"branches/, tags/, commits/<id>/ and log/. Usually run by `folio mount`.\n"
	"\n"
	"  -f            stay in the foreground (log to stderr)\n"
	"  -d            debug log (one line per event)\n"
	"  -o OPTIONS    comma-separated:\n"
	"     allow_other    let other users in (needs user_allow_other in\n"
	"                    /etc/fuse.conf unless root); default: only you\n"
	"     passthrough    answer opens with the object file as a kernel\n"
	"                    passthrough backing file (Linux 6.9+, root)\n"
	"     uring          take requests through per-CPU io_uring queues\n"
	"                    instead of /dev/fuse (Linux 6.14+, with the fuse\n"
	"                    module's enable_uring parameter on)\n"
	"     plain          neither: /dev/fuse, no OPEN requests\n"
	"                    Without passthrough, uring or plain the mode is\n"
	"                    chosen when the kernel says what it offers: uring\n"
	"                    if offered, and passthrough with it if offered\n"
	"                    too and the daemon is root; else plain\n"
	"     uring_sched=idle|normal\n"
	"                    idle (the default): the queue threads wait at\n"
	"                    SCHED_IDLE, so a reply does not move the reader to\n"
	"                    another CPU; a watchdog puts them back to normal\n"
	"                    priority if busy processes ever starve them.\n"
	"                    normal: never SCHED_IDLE\n"
	"     debug          as -d\n"
	"     standard mount options (rw, ro, nosuid, nodev, noatime, ...) are\n"
	"     accepted and ignored: versions are always read-only\n";

typedef struct opts {
	int foreground, debug, allow_other, passthrough, uring, plain, uring_normal;
	const char *repo, *mnt;
} opts;

static int parse_o(opts *o, char *list)
{
	static const char *ignored[] = { "rw", "ro", "suid", "nosuid", "dev", "nodev", "exec", "noexec",
					 "atime", "noatime", "relatime", "strictatime", "nodiratime",
					 "_netdev", "nofail", "auto", "noauto", "user", "users",
					 "defaults", "async", "sync", "default_permissions", NULL };
	for (char *save = NULL, *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int known = 0;
		if (!strcmp(t, "allow_other"))
			o->allow_other = known = 1;
		else if (!strcmp(t, "passthrough"))
			o->passthrough = known = 1;
		else if (!strcmp(t, "uring"))
			o->uring = known = 1;
		else if (!strcmp(t, "plain"))
			o->plain = known = 1;
		else if (!strcmp(t, "uring_sched=idle"))
			o->uring_normal = 0, known = 1;
		else if (!strcmp(t, "uring_sched=normal"))
			o->uring_normal = known = 1;
		else if (!strncmp(t, "uring_sched=", 12)) {
			fprintf(stderr, "foliofs: uring_sched takes idle or normal, not '%s'\n", t + 12);
			return -1;
		}
		else if (!strcmp(t, "debug"))
			o->debug = known = 1;
		else if (!strncmp(t, "fsname=", 7) || !strncmp(t, "subtype=", 8) || !strncmp(t, "x-", 2))
			known = 1;
		for (int i = 0; ignored[i] && !known; i++)
			known = !strcmp(t, ignored[i]);
		if (!known) {
			fprintf(stderr, "foliofs: unknown mount option '%s' (see foliofs --help)\n", t);
			return -1;
		}
	}
	return 0;
}

static int parse(opts *o, int argc, char **argv)
{
	memset(o, 0, sizeof *o);
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			exit(0);
		} else if (!strcmp(a, "-f")) {
			o->foreground = 1;
		} else if (!strcmp(a, "-d")) {
			o->debug = 1;
		} else if (!strcmp(a, "-o") && i + 1 < argc) {
			if (parse_o(o, argv[++i]) < 0)
				return -1;
		} else if (!strncmp(a, "-o", 2) && a[2]) {
			if (parse_o(o, a + 2) < 0)
				return -1;
		} else if (a[0] == '-') {
			fprintf(stderr, "foliofs: unknown option %s (see foliofs --help)\n", a);
			return -1;
		} else if (!o->repo) {
			o->repo = a;
		} else if (!o->mnt) {
			o->mnt = a;
		} else {
			fprintf(stderr, "foliofs: unexpected argument %s\n", a);
			return -1;
		}
	}
	if (!o->repo || !o->mnt) {
		fputs(usage, stderr);
		return -1;
	}
	return 0;
}

/* Reports start-up failure (or success, msg NULL) to the waiting parent. */
static int ready_fd = -1;

static void report(const char *fmt, ...)
{
	char buf[1024] = "";
	va_list ap;

	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(buf, sizeof buf, fmt, ap);
		va_end(ap);
	}
	if (ready_fd >= 0) {
		ssize_t w = write(ready_fd, buf[0] ? buf : "ok", buf[0] ? strlen(buf) : 2);
		(void)w;
		close(ready_fd);
		ready_fd = -1;
	} else if (buf[0]) {
		fprintf(stderr, "%s\n", buf);
	}
	if (buf[0])
		fs_log("%s", buf);
}

static int mount_lock_fd = -1;

static int check_mountpoint(const char *mnt)
{
	struct stat st;

	/* a mount whose daemon was killed may still answer stat() from cached
	 * attributes and give an empty listing: ask the mount table */
	if (folio_mount_find(NULL, 0, mnt) > 0) {
		report("foliofs: %s is a folio mount already; if its daemon has died (its files "
		       "say \"Transport endpoint is not connected\"), run `folio umount %s` first",
		       mnt, mnt);
		return -1;
	}
	if (stat(mnt, &st) < 0) {
		if (errno == ENOTCONN)
			report("foliofs: %s is a mount whose daemon has died; "
			       "run `folio umount %s` first", mnt, mnt);
		else
			report("foliofs: mount point %s: %s", mnt, fs_errstr(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		report("foliofs: mount point %s is not a folder", mnt);
		return -1;
	}
	DIR *d = opendir(mnt);
	struct dirent *de;
	int empty = 1;
	errno = 0;
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = 0;
	int err = d ? errno : errno ? errno : EIO;
	if (d)
		closedir(d);
	if (err) {
		report("foliofs: cannot list mount point %s: %s", mnt, fs_errstr(err));
		return -1;
	}
	if (!empty) {
		report("foliofs: mount point %s is not empty; mount on an empty folder", mnt);
		return -1;
	}
	return 0;
}

/* One daemon per repository: REPO/mount.lock, held while mounted. */
static int take_mount_lock(const char *repo, const char *mnt)
{
	char p[PATH_MAX + 32], holder[512] = "";

	snprintf(p, sizeof p, "%s/mount.lock", repo);
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		report("foliofs: cannot open %s: %s", p, fs_errstr(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t n = pread(fd, holder, sizeof holder - 1, 0);
		holder[n > 0 ? n : 0] = '\0';
		holder[strcspn(holder, "\n")] = '\0';
		report("foliofs: repository %s is already mounted (%s); unmount it first with `folio umount`",
		       repo, holder[0] ? holder : "by another process");
		close(fd);
		return -1;
	}
	char info[PATH_MAX + 64];
	int n = snprintf(info, sizeof info, "pid %ld at %s\n", (long)getpid(), mnt);
	if (ftruncate(fd, 0) == 0 && pwrite(fd, info, (size_t)n, 0) < 0) {
		/* informational only */
	}
	mount_lock_fd = fd;
	return 0;
}

/* libfuse's own messages go to the daemon log. At shutdown the CLI has
 * usually unmounted already, and libfuse's attempt to unmount again (which
 * also frees its copy of the path) fails harmlessly: that one is dropped. */
static atomic_int shutting_down;

static void libfuse_log(enum fuse_log_level level, const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof buf, fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	if (atomic_load(&shutting_down) && strstr(buf, "failed to unmount"))
		return;
	if (level <= FUSE_LOG_NOTICE)
		fs_log("libfuse: %s", buf);
}

typedef struct loop_arg {
	struct fuse_session *se;
	pthread_t main;
	int is_main;       /* the MNT session: its end ends the daemon */
} loop_arg;

static void *run_loop(void *p)
{
	loop_arg *a = p;
	int is_main = a->is_main;
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();

	fuse_loop_cfg_set_max_threads(cfg, 16);
	fuse_loop_cfg_set_idle_threads(cfg, 4);
	fuse_session_loop_mt(a->se, cfg);
	fuse_loop_cfg_destroy(cfg);
	/* MNT went away (unmounted, or detached and no longer used): take the
	 * daemon down. HEAD/ alone going away leaves the versions served. */
	if (is_main)
		pthread_kill(a->main, SIGTERM);
	else if (!atomic_load(&shutting_down))
		fs_log("HEAD/ was unmounted");
	return NULL;
}

/* SIGUSR1 only interrupts a session's loop thread (see stop_loop). */
static void wake_loop(int sig)
{
	(void)sig;
}

/*
 * Ends the session loop of thread t and joins it, before the caller closes
 * the session's /dev/fuse fd (fuse_session_unmount does): a worker still
 * reading the fd could otherwise read from whatever file next gets its
 * number (ThreadSanitizer reported the close racing the workers' reads).
 * fuse_session_exit only sets a flag, and the loop thread sleeps in
 * sem_wait until a worker ends, so SIGUSR1 (a handler that does nothing,
 * no SA_RESTART) interrupts it; it then cancels its workers, which wait in
 * read(2), and joins them. The signal can land just before the thread
 * goes to sleep, so it is sent again until the join succeeds.
 */
static void stop_loop(struct fuse_session *se, pthread_t t)
{
	fuse_session_exit(se);
	for (;;) {
		struct timespec ts;
		pthread_kill(t, SIGUSR1);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (pthread_timedjoin_np(t, NULL, &ts) == 0)
			return;
	}
}

static struct fuse_session *new_session(fs *f, const struct fuse_lowlevel_ops *ops, size_t size,
					const char *extra)
{
	char o[2 * PATH_MAX + 256], name[2 * PATH_MAX];
	size_t n = 0;

	/* libfuse splits options at commas; a backslash keeps one (or
	 * itself) in the value, so a repository may have either in its path */
	for (const char *p = f->repo_path; *p && n + 2 < sizeof name; p++) {
		if (*p == ',' || *p == '\\')
			name[n++] = '\\';
		name[n++] = *p;
	}
	name[n] = '\0';
	snprintf(o, sizeof o, "default_permissions,fsname=folio:%s,subtype=foliofs%s%s",
		 name, f->debug > 1 ? ",debug" : "", extra);
	char *argv[] = { "foliofs", "-o", o, NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, argv);
	struct fuse_session *se = fuse_session_new(&args, ops, size, f);
	fuse_opt_free_args(&args); /* libfuse may have grown the list */
	return se;
}

int main(int argc, char **argv)
{
	opts o;
	fs f;
	char repo[PATH_MAX], mnt[PATH_MAX], headmnt[PATH_MAX + 8];
	pthread_t t_ro, t_head;
	int have_ro = 0, have_head = 0, rc = 1;

	if (parse(&o, argc, argv) < 0)
		return 2;
	if (!realpath(o.repo, repo)) {
		fprintf(stderr, "foliofs: repository %s: %s\n", o.repo, fs_errstr(errno));
		return 1;
	}
	if (!realpath(o.mnt, mnt)) {
		if (errno == ENOTCONN)
			fprintf(stderr, "foliofs: %s is a folio mount whose daemon has died; "
				"run `folio umount %s` first\n", o.mnt, o.mnt);
		else
			fprintf(stderr, "foliofs: mount point %s: %s\n", o.mnt, fs_errstr(errno));
		return 1;
	}
	snprintf(headmnt, sizeof headmnt, "%s/HEAD", mnt);

	/* Start in a child; the parent reports how it went. */
	if (!o.foreground) {
		int p[2];
		if (pipe(p) < 0) {
			perror("foliofs: pipe");
			return 1;
		}
		pid_t pid = fork();
		if (pid < 0) {
			perror("foliofs: fork");
			return 1;
		}
		if (pid > 0) {
			char buf[1024];
			close(p[1]);
			ssize_t n = read(p[0], buf, sizeof buf - 1);
			buf[n > 0 ? n : 0] = '\0';
			if (n == 2 && !memcmp(buf, "ok", 2))
				return 0;
			fprintf(stderr, "%s\n", n > 0 ? buf : "foliofs: the daemon died during start-up");
			return 1;
		}
		close(p[0]);
		ready_fd = p[1];
		setsid();
		char logp[FOLIO_PATH_BUF];
		int lfd = -1;
		if (folio_cache_mkdir(repo, FOLIO_CACHE_LOG) == 0 &&
		    folio_cache_path(logp, sizeof logp, repo, FOLIO_CACHE_LOG, NULL) == 0)
			lfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		int nfd = open("/dev/null", O_RDWR);
		if (nfd >= 0) {
			dup2(nfd, 0);
			dup2(nfd, 1);
			dup2(lfd >= 0 ? lfd : nfd, 2);
		}
		if (lfd > 2)
			close(lfd);
		if (nfd > 2)
			close(nfd);
	}
	if (chdir("/") < 0) {
		/* never fails for "/" */
	}

	/* Many object files stay open: raise the fd limit to its maximum. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	memset(&f, 0, sizeof f);
	f.repo_path = repo;
	f.mountpoint = mnt;
	/* no mode named: auto (passthrough only with io_uring, see --help) */
	int autom = !o.passthrough && !o.uring && !o.plain;
	f.passthrough_mode = o.passthrough ? FS_PT_ON : autom ? FS_PT_AUTO : FS_PT_OFF;
	f.debug = o.debug;
	f.uid = getuid();
	f.gid = getgid();
	pthread_mutex_init(&f.git_lock, NULL);
	pthread_mutex_init(&f.versions_lock, NULL);
	pthread_mutex_init(&f.index_lock, NULL);
	pthread_mutex_init(&f.refs_lock, NULL);
	for (int i = 0; i < 64; i++)
		pthread_mutex_init(&f.nodes_lock[i], NULL);

	/* Block the shutdown signals in every thread; main waits for them. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	struct sigaction wake = { .sa_handler = wake_loop };
	sigemptyset(&wake.sa_mask);
	sigaction(SIGUSR1, &wake, NULL);

	fuse_set_log_func(libfuse_log);
	if (check_mountpoint(mnt) < 0)
		return 1;
	if (folio_repo_open(&f.repo, repo) < 0) {
		report("foliofs: %s", folio_error_last());
		return 1;
	}
	if (take_mount_lock(repo, mnt) < 0)
		goto out;
	/* A repository in the middle of a commit: say so rather than wait. */
	if (!getenv("FOLIO_LOCK_TIMEOUT"))
		setenv("FOLIO_LOCK_TIMEOUT", "3", 1);
	if (folio_repo_lock(f.repo, "foliofs start-up") < 0) {
		report("foliofs: %s", folio_error_last());
		goto out;
	}
	folio_repo_unlock(f.repo);
	unsetenv("FOLIO_LOCK_TIMEOUT");
	char gen[FOLIO_PATH_BUF];
	if (folio_cache_mkdir(repo, FOLIO_CACHE_RAW) < 0 ||
	    folio_cache_path(f.cache_dir, sizeof f.cache_dir, repo, FOLIO_CACHE_RAW, NULL) < 0 ||
	    folio_cache_path(gen, sizeof gen, repo, FOLIO_CACHE_OBJECTS, NULL) < 0 ||
	    folio_store_open(&f.gen, gen, 1) < 0) {
		report("foliofs: %s", folio_error_last());
		goto out;
	}
	if (fs_refs_start(&f) < 0 || fs_head_new(&f.head, &f) < 0) {
		report("foliofs: %s", folio_error_last());
		goto out;
	}

	f.se_ro = new_session(&f, &fs_ro_ops, sizeof fs_ro_ops,
			      o.allow_other ? ",ro,allow_other" : ",ro");
	if (!f.se_ro || fuse_session_mount(f.se_ro, mnt) != 0) {
		report("foliofs: cannot mount %s (is FUSE available: /dev/fuse, fuse3 installed?)", mnt);
		goto out;
	}
	fs_io_set_log(fs_log);
	if ((o.passthrough || o.uring || autom) &&
	    fs_passthrough_install(&f.pt, f.se_ro,
				   (autom ? FS_IO_AUTO : 0) | (o.passthrough ? FS_IO_PASSTHROUGH : 0) |
				   (o.uring ? FS_IO_URING : 0) |
				   (o.uring_normal ? FS_IO_URING_NORMAL : 0)) < 0)
		fs_log("%s unavailable: serving reads through /dev/fuse",
		       o.passthrough ? "passthrough" : autom ? "the automatic mode" : "io_uring");
	loop_arg la_ro = { f.se_ro, pthread_self(), 1 }, la_head = { NULL, pthread_self(), 0 };
	if (pthread_create(&t_ro, NULL, run_loop, &la_ro) != 0) {
		report("foliofs: cannot start threads");
		goto unmount;
	}
	have_ro = 1;

	f.se_head = new_session(&f, &fs_head_ops, sizeof fs_head_ops,
				o.allow_other ? ",allow_other" : "");
	if (!f.se_head || fuse_session_mount(f.se_head, headmnt) != 0) {
		report("foliofs: cannot mount the writable stage on %s", headmnt);
		goto unmount;
	}
	la_head.se = f.se_head;
	if (pthread_create(&t_head, NULL, run_loop, &la_head) != 0) {
		report("foliofs: cannot start threads");
		goto unmount;
	}
	have_head = 1;

	fs_log("mounted %s on %s%s%s%s", repo, mnt, o.passthrough ? " (passthrough)" : "",
	       o.uring ? " (io_uring)" : "", autom ? " (mode chosen at INIT)" : "");
	report(NULL);
	rc = 0;

	int sig;
	sigwait(&sigs, &sig);
	fs_log("shutting down (%s)", sig == SIGTERM ? "SIGTERM or unmount" : sig == SIGINT ? "SIGINT" : "SIGHUP");

unmount:
	atomic_store(&shutting_down, 1);
	/* nothing may write to a session's fd once it is closed: the refs
	 * watcher sends invalidations, so it stops first; then HEAD/, while
	 * MNT still answers the lookup of its mount point; each loop ends
	 * before its fd is closed (stop_loop) */
	fs_refs_stop_watcher(&f);
	if (have_head)
		stop_loop(f.se_head, t_head);
	if (f.se_head)
		fuse_session_unmount(f.se_head);
	if (have_ro)
		stop_loop(f.se_ro, t_ro);
	if (f.se_ro)
		fuse_session_unmount(f.se_ro);
	if (f.pt && (o.passthrough || fs_passthrough_active(f.pt))) {
		unsigned long passed = 0, plain = 0;
		fs_passthrough_stats(f.pt, &passed, &plain);
		fs_log("passthrough: %lu opens passed through, %lu plain", passed, plain);
	}
	if (f.pt && (o.uring || fs_passthrough_uring(f.pt)))
		fs_log("io_uring: %lu requests served through the queues",
		       fs_passthrough_stop_uring(f.pt));
out:
	fs_refs_stop(&f);
	if (f.se_head)
		fuse_session_destroy(f.se_head);
	if (f.se_ro)
		fuse_session_destroy(f.se_ro);
	fs_passthrough_free(f.pt);
	fs_head_free(f.head);
	fs_versions_clear(&f);
	folio_store_free(f.gen);
	fs_nodes_clear(&f);
	folio_repo_free(f.repo);
	if (mount_lock_fd >= 0 && ftruncate(mount_lock_fd, 0) < 0) {
		/* informational only */
	}
	fs_log("stopped");
	/* mount.lock is released by exit itself, so `folio umount`, which
	 * waits for it, returns only once the daemon is gone. */
	return rc;
}
