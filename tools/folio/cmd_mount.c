/*
 * cmd_mount.c — mount and umount: starting and stopping the foliofs daemon.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

/* foliofs next to this folio binary, else on PATH. */
static void find_foliofs(char *out, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);

	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			snprintf(out, len, "%.*s/foliofs", (int)(slash - self), self);
			if (access(out, X_OK) == 0)
				return;
		}
	}
	snprintf(out, len, "foliofs");
}

const char *const usage_mount =
	"usage: folio mount REPO MOUNTPOINT [-f] [-o OPTIONS]\n"
	"\n"
	"Mounts REPO on MOUNTPOINT (an empty folder) and returns when it is ready:\n"
	"\n"
	"  MOUNTPOINT/HEAD/              the staged tree, writable: edits are staged;\n"
	"                                `folio commit` makes them a version\n"
	"  MOUNTPOINT/branches/<name>    -> commits/<id> of the branch's newest version\n"
	"  MOUNTPOINT/tags/<name>        -> commits/<id> of the tagged version\n"
	"  MOUNTPOINT/commits/<id>/      every version, read-only; a unique prefix of\n"
	"                                an id is a link to the full id\n"
	"  MOUNTPOINT/log/<date>-<id>    one link per commit, newest first\n"
	"\n"
	"A branch named feature/x appears as branches/feature/x. The mount is\n"
	"private to you unless -o allow_other. The daemon logs to\n"
	"REPO/cache/foliofs.log. Unmount with `folio umount MOUNTPOINT`.\n"
	"\n"
	"Options:\n"
	"  -f               stay in the foreground (log to stderr; Ctrl-C unmounts)\n"
	"  -o OPTIONS       allow_other, debug, and a mode: passthrough (the kernel\n"
	"                   reads object files itself; Linux 6.9+, root), uring\n"
	"                   (requests through per-CPU io_uring queues; Linux 6.14+,\n"
	"                   fuse module parameter enable_uring=Y), both, or plain\n"
	"                   (neither). Without one the daemon takes uring if the\n"
	"                   kernel offers it, with passthrough too if root; else\n"
	"                   plain. uring_sched=normal keeps the queue threads off\n"
	"                   SCHED_IDLE (docs/mount.md)\n";

int cmd_mount(cli *c);
int cmd_mount(cli *c)
{
	const char *o = NULL;
	int fg = 0, dbg = 0;
	cli_opt opts[] = {
		{ "foreground", 'f', 0, NULL, &fg },
		{ "debug", 'd', 0, NULL, &dbg },
		{ "options", 'o', 1, &o, NULL },
		{ 0 },
	};
	char **pos;
	int npos, rc;
	char exe[PATH_MAX];

	if ((rc = cli_parse(c, opts, &pos, &npos)))
		return rc;
	if (npos != 2) {
		free(pos);
		return cli_usage_error(c, "give REPO and MOUNTPOINT");
	}
	char *repo = NULL;
	if ((rc = folio_repo_discover(&repo, pos[0])) < 0) {
		free(pos);
		return cli_fail(rc);
	}
	find_foliofs(exe, sizeof exe);
	char *argv[10];
	int a = 0;
	argv[a++] = exe;
	if (fg)
		argv[a++] = "-f";
	if (dbg)
		argv[a++] = "-d";
	if (o) {
		argv[a++] = "-o";
		argv[a++] = (char *)o;
	}
	argv[a++] = repo;
	argv[a++] = pos[1];
	argv[a] = NULL;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		execvp(exe, argv);
		folio_error_errno(errno, "cannot run %s (build it with `make`)", exe);
		fprintf(stderr, "folio mount: %s\n", folio_error_last());
		_exit(127);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) < 0) {
		free(repo);
		free(pos);
		return cli_fail(folio_error_errno(errno, "cannot start foliofs"));
	}
	free(repo);
	free(pos);
	if (WIFEXITED(st))
		return WEXITSTATUS(st) == 0 ? EXIT_OK : WEXITSTATUS(st) == 2 ? EXIT_USAGE : EXIT_FAIL;
	return EXIT_FAIL;
}

static int unmount_one(const char *path, int lazy)
{
	if (umount2(path, lazy ? MNT_DETACH : 0) == 0)
		return 0;
	if (errno == EPERM) {
		/* not root: fusermount3 does it for the mount's owner */
		pid_t pid = fork();
		if (pid == 0) {
			execlp("fusermount3", "fusermount3", lazy ? "-uz" : "-u", path, (char *)NULL);
			_exit(127);
		}
		int st = 0;
		if (pid > 0 && waitpid(pid, &st, 0) > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			return 0;
		errno = EPERM;
	}
	return -errno;
}

const char *const usage_umount =
	"usage: folio umount MOUNTPOINT [--lazy]\n"
	"\n"
	"Unmounts a folio mount (MOUNTPOINT/HEAD, then MOUNTPOINT); the daemon\n"
	"then exits. Files closed before are saved; a file still open for\n"
	"writing keeps its last saved (closed or fsynced) version. If the\n"
	"daemon has died (files answer \"Transport endpoint is not connected\"),\n"
	"it detaches what is left so the folder can be mounted again.\n"
	"\n"
	"Options:\n"
	"  -l, --lazy   detach even if files are open (they keep working until\n"
	"               closed; the daemon exits after)\n";

/* Waits (up to 10 s) until the daemon has exited: it holds
 * REPO/mount.lock while it runs. */
static void wait_daemon(const char *repo)
{
	char p[FOLIO_PATH_BUF];
	snprintf(p, sizeof p, "%s/mount.lock", repo);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	for (int i = 0; i < 200; i++) {
		if (flock(fd, LOCK_SH | LOCK_NB) == 0)
			break;
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	close(fd);
}

/* realpath() of a mount point; one whose daemon died answers stat with
 * ENOTCONN, so then its parent is resolved and the name appended. */
static char *mount_path(const char *arg, char out[PATH_MAX])
{
	if (realpath(arg, out))
		return out;
	if (errno != ENOTCONN)
		return NULL;
	char *dup = strdup(arg), *slash, parent[PATH_MAX];
	if (!dup)
		return NULL;
	while ((slash = strrchr(dup, '/')) && slash != dup && !slash[1])
		*slash = '\0';
	slash = strrchr(dup, '/');
	const char *name = slash ? slash + 1 : dup;
	const char *dir = slash ? (slash == dup ? "/" : dup) : ".";
	if (slash && slash != dup)
		*slash = '\0';
	char *r = realpath(dir, parent);
	if (r && snprintf(out, PATH_MAX, "%s/%s", strcmp(parent, "/") ? parent : "", name) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		r = NULL;
	}
	free(dup);
	return r ? out : NULL;
}

/* Whether a daemon still holds REPO/mount.lock. */
static int daemon_alive(const char *repo)
{
	char p[FOLIO_PATH_BUF];
	snprintf(p, sizeof p, "%s/mount.lock", repo);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	int alive = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return alive;
}

/* Counts processes with a file, folder or working directory under mnt
 * (what fuser -m would list; processes of other users are visible to
 * root only, and a private mount has no others). */
static int open_files_under(const char *mnt, pid_t *first)
{
	DIR *proc = opendir("/proc");
	struct dirent *pe;
	size_t ml = strlen(mnt);
	int count = 0;

	while (proc && (pe = readdir(proc))) {
		if (pe->d_name[0] < '1' || pe->d_name[0] > '9')
			continue;
		char dir[300], link[600], target[PATH_MAX];
		int hit = 0;
		snprintf(dir, sizeof dir, "/proc/%s/fd", pe->d_name);
		DIR *fds = opendir(dir);
		struct dirent *fe;
		while (fds && !hit && (fe = readdir(fds))) {
			snprintf(link, sizeof link, "%s/%s", dir, fe->d_name);
			ssize_t n = readlink(link, target, sizeof target - 1);
			if (n <= 0)
				continue;
			target[n] = '\0';
			hit = !strncmp(target, mnt, ml) && (target[ml] == '/' || target[ml] == '\0');
		}
		if (fds)
			closedir(fds);
		snprintf(link, sizeof link, "/proc/%s/cwd", pe->d_name);
		ssize_t n = readlink(link, target, sizeof target - 1);
		if (!hit && n > 0) {
			target[n] = '\0';
			hit = !strncmp(target, mnt, ml) && (target[ml] == '/' || target[ml] == '\0');
		}
		if (hit && count++ == 0)
			*first = (pid_t)atol(pe->d_name);
	}
	if (proc)
		closedir(proc);
	return count;
}

int cmd_umount(cli *c);
int cmd_umount(cli *c)
{
	int lazy = 0;
	cli_opt opts[] = { { "lazy", 'l', 0, NULL, &lazy }, { 0 } };
	char **pos;
	int npos, rc;
	char mnt[PATH_MAX], head[PATH_MAX + 8];

	if ((rc = cli_parse(c, opts, &pos, &npos)))
		return rc;
	if (npos != 1) {
		free(pos);
		return cli_usage_error(c, "give the MOUNTPOINT");
	}
	if (!mount_path(pos[0], mnt)) {
		rc = folio_error_errno(errno, "%s", pos[0]);
		free(pos);
		return cli_fail(rc);
	}
	free(pos);
	char repo[FOLIO_PATH_MAX];
	if (folio_mount_find(repo, sizeof repo, mnt) <= 0) {
		rc = folio_error_set(FOLIO_ENOTFOUND, "%s is not a folio mount", mnt);
		return cli_fail(rc);
	}
	/* A daemon that died (killed, crashed) leaves mounts that answer
	 * ENOTCONN; nothing is left to save, so detach them both. */
	if (!daemon_alive(repo)) {
		if (umount2(mnt, MNT_DETACH) < 0 && unmount_one(mnt, 1) < 0)
			return cli_fail(folio_error_errno(errno, "cannot detach %s", mnt));
		fprintf(stderr, "folio: the daemon of %s had stopped; detached the mount\n", mnt);
		return EXIT_OK;
	}
	/* Refuse before touching anything, so a busy mount stays whole. */
	pid_t user = 0;
	int busy = lazy ? 0 : open_files_under(mnt, &user);
	if (busy) {
		rc = folio_error_set(FOLIO_ELOCKED,
			"%s is busy: %d process%s (pid %ld first) have files or folders open in it; "
			"close them, or use --lazy to detach now and stop when they are done",
			mnt, busy, busy > 1 ? "es" : "", (long)user);
		return cli_fail(rc);
	}
	snprintf(head, sizeof head, "%s/HEAD", mnt);
	int r = unmount_one(head, lazy);
	if (r < 0 && r != -EINVAL && r != -ENOENT) {
		if (r == -EBUSY)
			rc = folio_error_set(FOLIO_ELOCKED,
				"%s is busy: files are open (see `fuser -vm %s`); close them, or use --lazy",
				head, head);
		else
			rc = folio_error_errno(-r, "cannot unmount %s", head);
		return cli_fail(rc);
	}
	/* The daemon unmounts the rest itself once HEAD/ goes. */
	r = unmount_one(mnt, lazy);
	if (r == -EINVAL)
		r = 0;
	if (r < 0) {
		if (r == -EINVAL)
			rc = folio_error_set(FOLIO_ENOTFOUND, "%s is not mounted", mnt);
		else if (r == -EBUSY)
			rc = folio_error_set(FOLIO_ELOCKED,
				"%s is busy: files are open (see `fuser -vm %s`); close them, or use --lazy",
				mnt, mnt);
		else
			rc = folio_error_errno(-r, "cannot unmount %s", mnt);
		return cli_fail(rc);
	}
	if (!lazy)
		wait_daemon(repo);
	return EXIT_OK;
}
