/*
 * objects.c — file descriptors for reading objects.
 *
 * A raw object is its own file: the daemon reads it (or hands it to the
 * kernel for passthrough) directly. A zstd object is decompressed once, on
 * first open, into REPO/cache/raw/<hex> (temp file, then rename, so
 * concurrent openers and crashes never see a partial file), and from then
 * on served like a raw one: no read() ever decompresses.
 *
 * A version file's node keeps its fd open after the first read, up to
 * MAX_CACHED_FDS in all; past that, reads open and close per request.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"

#define MAX_CACHED_FDS 8000

static int decompress_to_cache(fs *f, folio_store *st, const folio_oid *oid, const char *dest)
{
	char tmp[FOLIO_PATH_SUFFIXED];
	static atomic_uint counter;
	folio_reader *r = NULL;
	char buf[1 << 16];
	ssize_t n;
	int fd, rc;

	snprintf(tmp, sizeof tmp, "%s/.tmp.%ld.%u", f->cache_dir, (long)getpid(),
		 atomic_fetch_add(&counter, 1));
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	if (fd < 0)
		return -errno;
	if ((rc = folio_store_open_reader(&r, st, oid, 1)) < 0) {
		rc = -fs_errno(rc);
		goto fail;
	}
	while ((n = folio_reader_read(r, buf, sizeof buf)) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));
			if (w < 0) {
				if (errno == EINTR)
					continue;
				rc = -errno;
				goto fail;
			}
			off += w;
		}
	}
	if (n < 0) {
		FS_LOG(f, "decompressing %s: %s", dest, folio_error_last());
		rc = -fs_errno((int)n);
		goto fail;
	}
	folio_reader_free(r);
	r = NULL;
	if (close(fd) < 0) {
		fd = -1;
		rc = -errno;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, dest) < 0) {
		rc = -errno;
		goto fail;
	}
	return 0;
fail:
	folio_reader_free(r);
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return rc;
}

int fs_object_open(fs *f, const folio_oid *oid)
{
	folio_object_info info;
	folio_store *st = f->repo->store;
	int rc = folio_store_stat(&info, st, oid);

	/* generated view outputs live in their own store */
	if (rc == FOLIO_ENOTFOUND && f->gen)
		rc = folio_store_stat(&info, st = f->gen, oid);
	if (rc < 0) {
		FS_LOG(f, "object: %s", folio_error_last());
		return -fs_errno(rc);
	}
	if (info.form == FOLIO_OBJECT_RAW) {
		int fd = open(info.path, O_RDONLY | O_CLOEXEC | O_NOATIME);
		if (fd < 0 && errno == EPERM)
			fd = open(info.path, O_RDONLY | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	char hex[FOLIO_OID_HEXSZ + 1], path[FOLIO_PATH_SUFFIXED];
	folio_oid_tohex(hex, oid);
	snprintf(path, sizeof path, "%s/%s", f->cache_dir, hex);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if ((rc = decompress_to_cache(f, st, oid, path)) < 0 && rc != -EEXIST)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int fs_node_fd(fs *f, node *n)
{
	int fd;

	pthread_mutex_lock(&n->fd_lock);
	fd = n->fd;
	if (fd < 0) {
		fd = fs_object_open(f, &n->oid);
		if (fd >= 0 && atomic_fetch_add(&f->open_fds, 1) < MAX_CACHED_FDS) {
			n->fd = fd;
		} else if (fd >= 0) {
			atomic_fetch_sub(&f->open_fds, 1);
			pthread_mutex_unlock(&n->fd_lock);
			return fd; /* caller closes: see fs_node_fd_done */
		}
	}
	pthread_mutex_unlock(&n->fd_lock);
	return fd;
}

void fs_reply_link(fs *f, fuse_req_t req, const folio_oid *oid)
{
	void *buf = NULL;
	size_t len = 0;
	int rc = folio_store_read_all(&buf, &len, f->repo->store, oid, FOLIO_PATH_MAX);

	if (rc < 0) {
		FS_LOG(f, "readlink: %s", folio_error_last());
		fuse_reply_err(req, fs_errno(rc));
		return;
	}
	char *s = strndup(buf, len);
	free(buf);
	if (!s) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fuse_reply_readlink(req, s);
	free(s);
}
