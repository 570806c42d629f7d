/*
 * store_read.c — reading objects back: lookups, the streaming reader,
 * verification, checkout, listing and maintenance (remove, clean_tmp).
 *
 * DESIGN
 *
 * Reads never buffer a whole object (except read_all, which is asked to):
 * a reader holds the object's fd and, for .zst objects, a zstd decompression
 * context and a 128 KiB input buffer, and decompresses into the caller's
 * buffer. Every reader checks what it can for free: a zstd frame must
 * decode without error, end exactly at the end of the file, match its XXH64
 * checksum and produce the size its header promises. With verify set it
 * also hashes the bytes it returns and compares the digest with the id on
 * the final read, which is what verify() and read_all() use. Checkout does
 * not hash (the zstd checksum still guards .zst objects).
 *
 * Checkout creates dest with O_EXCL, gives it exactly the requested mode
 * (the umask is not applied) and does not fsync it: it is the user's copy,
 * and the store keeps the durable one. A partial dest is removed on error.
 * read_all's buffer has a NUL after the content (not counted in the
 * length), so text objects can be parsed in place.
 *
 * Lookups try the raw name first, then ".zst", then raw again: a writer
 * that finds both forms deletes the .zst (see store.c), so an object can
 * move from one name to the other once, never back.
 *
 * The raw size of a .zst object is the frame content size in its header
 * (folio pledges it for every frame); a frame without one, written by
 * something else, is measured by decompressing it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zstd.h>

#include "folio/error.h"
#include "folio/store.h"
#include "folio/util.h"
#include "store/store_int.h"

#define COPY_CHUNK (256 * 1024)
#define SIZE_UNKNOWN UINT64_MAX

struct folio_reader {
	int fd;                  /* the object's file, owned */
	folio_object_form form;
	int verify;              /* hash what is returned, check at the end */
	int state;               /* 0 reading, 1 ended cleanly, <0 the error */
	uint64_t total;          /* raw bytes returned so far */
	uint64_t expect;         /* raw size (st_size or frame header), or
				  * SIZE_UNKNOWN */
	folio_oid oid;
	folio_hash *hash;        /* NULL unless verify */
	ZSTD_DCtx *dctx;         /* NULL for raw objects */
	unsigned char *in;       /* zstd only: compressed bytes */
	size_t in_size, in_len, in_pos;
	int in_eof;              /* the file's end was read */
	int frame_done;          /* zstd said the frame ended */
	char path[FOLIO_PATH_MAX];         /* the object's file, for messages */
};

/* ---- lookups ----------------------------------------------------------- */

static int not_found(folio_store *s, const folio_oid *oid)
{
	char hex[FOLIO_OID_HEXSZ + 1];

	folio_oid_tohex(hex, oid);
	return folio_error_set(FOLIO_ENOTFOUND, "object %s is not in %s", hex, s->path);
}

/* Finds the object in either form without opening it. */
static int locate(folio_object_form *form_out, struct stat *st,
		  folio_store *store, const folio_oid *oid)
{
	static const folio_object_form order[] = {
		FOLIO_OBJECT_RAW, FOLIO_OBJECT_ZSTD, FOLIO_OBJECT_RAW
	};
	struct stat tmp;

	if (!st)
		st = &tmp;
	for (size_t i = 0; i < 3; i++) {
		char rel[STORE_RELSZ];

		store_relpath(rel, oid, order[i]);
		if (fstatat(store->dirfd, rel, st, AT_SYMLINK_NOFOLLOW) == 0) {
			*form_out = order[i];
			return 0;
		}
		if (errno != ENOENT)
			return folio_error_errno(errno, "looking up %s/%s", store->path, rel);
	}
	return not_found(store, oid);
}

/* Opens the object's file; fills form, its path, and st. */
static int open_object(int *fd_out, folio_object_form *form_out, struct stat *st,
		       char *path, size_t pathsz, folio_store *s, const folio_oid *oid)
{
	static const folio_object_form order[] = {
		FOLIO_OBJECT_RAW, FOLIO_OBJECT_ZSTD, FOLIO_OBJECT_RAW
	};
	int err;

	for (size_t i = 0; i < 3; i++) {
		char rel[STORE_RELSZ];
		int fd;

		store_relpath(rel, oid, order[i]);
		fd = openat(s->dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0 && errno == ENOENT)
			continue;
		if ((err = store_fullpath(path, pathsz, s, rel)) < 0) {
			if (fd >= 0)
				close(fd);
			return err;
		}
		if (fd < 0)
			return folio_error_errno(errno, "opening %s", path);
		if (fstat(fd, st) < 0) {
			err = folio_error_errno(errno, "reading %s", path);
			close(fd);
			return err;
		}
		*fd_out = fd;
		*form_out = order[i];
		return 0;
	}
	return not_found(s, oid);
}

int folio_store_exists(folio_store *store, const folio_oid *oid)
{
	char rel[STORE_RELSZ];
	struct stat st;

	/* Without touching the thread's error message. */
	store_relpath(rel, oid, FOLIO_OBJECT_RAW);
	if (fstatat(store->dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	store_relpath(rel, oid, FOLIO_OBJECT_ZSTD);
	if (fstatat(store->dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 1;
	store_relpath(rel, oid, FOLIO_OBJECT_RAW);
	return fstatat(store->dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Measures a frame that does not state its size by decompressing it. */
static int zstd_measure(uint64_t *out, int fd, const char *path)
{
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	size_t insz = ZSTD_DStreamInSize(), outsz = ZSTD_DStreamOutSize();
	unsigned char *in = malloc(insz), *obuf = malloc(outsz);
	uint64_t total = 0;
	off_t off = 0;
	size_t r = 1;
	int err = 0;

	if (!dctx || !in || !obuf) {
		err = folio_error_set(FOLIO_ENOMEM, "out of memory reading %s", path);
		goto cleanup;
	}
	for (;;) {
		ssize_t n = pread(fd, in, insz, off);
		ZSTD_inBuffer ib = { in, 0, 0 };

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = folio_error_errno(errno, "reading %s", path);
			goto cleanup;
		}
		if (n == 0)
			break;
		off += n;
		ib.size = (size_t)n;
		while (ib.pos < ib.size) {
			ZSTD_outBuffer ob = { obuf, outsz, 0 };
			r = ZSTD_decompressStream(dctx, &ob, &ib);
			if (ZSTD_isError(r)) {
				err = folio_error_set(FOLIO_ECORRUPT,
					"object file %s is corrupt: zstd: %s",
					path, ZSTD_getErrorName(r));
				goto cleanup;
			}
			total += ob.pos;
		}
	}
	if (r != 0) {
		err = folio_error_set(FOLIO_ECORRUPT,
			"object file %s is corrupt: the zstd frame is truncated", path);
		goto cleanup;
	}
	*out = total;
cleanup:
	ZSTD_freeDCtx(dctx);
	free(in);
	free(obuf);
	return err;
}

/* Reads the content size from the frame header of the .zst file open on
 * fd: a size, ZSTD_CONTENTSIZE_UNKNOWN or ZSTD_CONTENTSIZE_ERROR. */
static int frame_size(unsigned long long *out, int fd, const char *path)
{
	unsigned char hdr[STORE_ZSTD_HEADER_MAX];
	ssize_t n;

	do
		n = pread(fd, hdr, sizeof hdr, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return folio_error_errno(errno, "reading %s", path);
	*out = ZSTD_getFrameContentSize(hdr, (size_t)n);
	return 0;
}

/* Raw size of the .zst object open on fd: the frame header's content size,
 * or decompress and count when the header has none. */
static int zstd_size(uint64_t *out, int fd, const char *path)
{
	unsigned long long size = ZSTD_CONTENTSIZE_ERROR;
	int err;

	if ((err = frame_size(&size, fd, path)) < 0)
		return err;
	if (size == ZSTD_CONTENTSIZE_ERROR)
		return folio_error_set(FOLIO_ECORRUPT,
			"object file %s is corrupt: it does not start with a zstd frame header",
			path);
	if (size == ZSTD_CONTENTSIZE_UNKNOWN)
		return zstd_measure(out, fd, path);
	*out = size;
	return 0;
}

static int fill_info(folio_object_info *out, folio_store *s, const folio_oid *oid,
		     folio_object_form form, const struct stat *st, int dirfd,
		     const char *name)
{
	char rel[STORE_RELSZ];
	int err, fd;

	store_relpath(rel, oid, form);
	if ((err = store_fullpath(out->path, sizeof out->path, s, rel)) < 0)
		return err;
	out->form = form;
	out->stored_size = (uint64_t)st->st_size;
	if (form == FOLIO_OBJECT_RAW) {
		out->size = (uint64_t)st->st_size;
		return 0;
	}
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return folio_error_errno(errno, "opening %s", out->path);
	err = zstd_size(&out->size, fd, out->path);
	close(fd);
	return err;
}

int folio_store_stat(folio_object_info *out, folio_store *store,
		     const folio_oid *oid)
{
	folio_object_form form = FOLIO_OBJECT_RAW;
	struct stat st;
	char rel[STORE_RELSZ];
	int err;

	if ((err = locate(&form, &st, store, oid)) < 0)
		return err;
	store_relpath(rel, oid, form);
	return fill_info(out, store, oid, form, &st, store->dirfd, rel);
}

/* ---- the reader -------------------------------------------------------- */

static int corrupt_hash(folio_reader *r, const folio_oid *got)
{
	char want[FOLIO_OID_HEXSZ + 1], hex[FOLIO_OID_HEXSZ + 1];

	folio_oid_tohex(want, &r->oid);
	folio_oid_tohex(hex, got);
	return folio_error_set(FOLIO_ECORRUPT,
		"object %s (%s) is corrupt: content hashes to %s", want, r->path, hex);
}

static int corrupt(folio_reader *r, const char *why)
{
	char hex[FOLIO_OID_HEXSZ + 1];

	folio_oid_tohex(hex, &r->oid);
	return folio_error_set(FOLIO_ECORRUPT, "object %s (%s) is corrupt: %s",
			       hex, r->path, why);
}

/* Takes over fd (closing it on failure). */
static int reader_new(folio_reader **out, int fd, folio_object_form form,
		      const struct stat *st, const char *path,
		      const folio_oid *oid, int verify)
{
	folio_reader *r = calloc(1, sizeof *r);
	int err = 0;

	*out = NULL;
	if (!r) {
		close(fd);
		return folio_error_set(FOLIO_ENOMEM, "out of memory reading %s", path);
	}
	r->fd = fd;
	r->form = form;
	r->verify = verify;
	r->oid = *oid;
	snprintf(r->path, sizeof r->path, "%s", path);
	r->expect = (uint64_t)st->st_size;
	if (verify && (err = folio_hash_new(&r->hash)) < 0)
		goto cleanup;
	if (form == FOLIO_OBJECT_ZSTD) {
		unsigned long long size = ZSTD_CONTENTSIZE_ERROR;

		if ((err = frame_size(&size, fd, path)) < 0)
			goto cleanup;
		if (size == ZSTD_CONTENTSIZE_ERROR) {
			err = corrupt(r, "it does not start with a zstd frame header");
			goto cleanup;
		}
		r->expect = size == ZSTD_CONTENTSIZE_UNKNOWN ? SIZE_UNKNOWN : size;
		r->in_size = ZSTD_DStreamInSize();
		r->in = malloc(r->in_size);
		r->dctx = ZSTD_createDCtx();
		if (!r->in || !r->dctx) {
			err = folio_error_set(FOLIO_ENOMEM, "out of memory reading %s", path);
			goto cleanup;
		}
	}
	*out = r;
	r = NULL;
cleanup:
	folio_reader_free(r);
	return err;
}

int folio_store_open_reader(folio_reader **out, folio_store *store,
			    const folio_oid *oid, int verify)
{
	char path[FOLIO_PATH_MAX];
	folio_object_form form = FOLIO_OBJECT_RAW;
	struct stat st;
	int fd = -1, err;

	*out = NULL;
	if ((err = open_object(&fd, &form, &st, path, sizeof path, store, oid)) < 0)
		return err;
	return reader_new(out, fd, form, &st, path, oid, verify);
}

/* The raw bytes have ended: check the size and, if asked, the hash. */
static int reader_finish(folio_reader *r)
{
	if (r->expect != SIZE_UNKNOWN && r->total != r->expect) {
		char why[128];
		snprintf(why, sizeof why, "it holds %" PRIu64 " bytes where %" PRIu64
			 " were expected", r->total, r->expect);
		return corrupt(r, why);
	}
	if (r->verify) {
		folio_oid got;
		folio_hash_final(&got, r->hash);
		if (folio_oid_cmp(&got, &r->oid) != 0)
			return corrupt_hash(r, &got);
	}
	return 0;
}

static ssize_t read_raw(folio_reader *r, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(r->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return folio_error_errno(errno, "reading %s", r->path);
	if (n == 0)
		return reader_finish(r);
	return n;
}

/* Refills the compressed input; sets in_eof at the file's end. */
static int refill(folio_reader *r)
{
	ssize_t n;

	do
		n = read(r->fd, r->in, r->in_size);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return folio_error_errno(errno, "reading %s", r->path);
	r->in_len = (size_t)n;
	r->in_pos = 0;
	if (n == 0)
		r->in_eof = 1;
	return 0;
}

static ssize_t read_zstd(folio_reader *r, void *buf, size_t len)
{
	ZSTD_outBuffer ob = { buf, len, 0 };
	int err;

	while (ob.pos < ob.size && !r->frame_done) {
		ZSTD_inBuffer ib;
		size_t before = ob.pos, ret;

		if (r->in_pos == r->in_len && !r->in_eof &&
		    (err = refill(r)) < 0)
			return err;
		ib.src = r->in;
		ib.size = r->in_len;
		ib.pos = r->in_pos;
		ret = ZSTD_decompressStream(r->dctx, &ob, &ib);
		r->in_pos = ib.pos;
		if (ZSTD_isError(ret)) {
			char why[160];
			snprintf(why, sizeof why, "zstd: %s", ZSTD_getErrorName(ret));
			return corrupt(r, why);
		}
		if (ret == 0)
			r->frame_done = 1;
		else if (r->in_eof && r->in_pos == r->in_len && ob.pos == before)
			return corrupt(r, "the zstd frame is truncated");
		if (r->expect != SIZE_UNKNOWN && r->total + ob.pos > r->expect)
			return corrupt(r, "it decompresses to more than its frame header says");
	}
	if (ob.pos > 0)
		return (ssize_t)ob.pos;

	/* The frame has ended; nothing may follow it. */
	if (r->in_pos == r->in_len && !r->in_eof && (err = refill(r)) < 0)
		return err;
	if (r->in_pos < r->in_len)
		return corrupt(r, "there are bytes after the end of its zstd frame");
	return reader_finish(r);
}

ssize_t folio_reader_read(folio_reader *r, void *buf, size_t len)
{
	ssize_t n;

	if (r->state < 0)
		return r->state;
	if (r->state == 1 || len == 0)
		return 0;
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	n = r->form == FOLIO_OBJECT_ZSTD ? read_zstd(r, buf, len)
					 : read_raw(r, buf, len);
	if (n < 0) {
		r->state = (int)n;
		return n;
	}
	if (n == 0) {
		r->state = 1;
		return 0;
	}
	if (r->hash)
		folio_hash_update(r->hash, buf, (size_t)n);
	r->total += (uint64_t)n;
	return n;
}

void folio_reader_free(folio_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	folio_hash_free(r->hash);
	ZSTD_freeDCtx(r->dctx);
	free(r->in);
	free(r);
}

/* ---- whole-object operations ------------------------------------------ */

int folio_store_read_all(void **out, size_t *len_out, folio_store *store,
			 const folio_oid *oid, size_t max)
{
	folio_reader *r = NULL;
	unsigned char *buf = NULL;
	size_t cap, len = 0;
	char hex[FOLIO_OID_HEXSZ + 1];
	int err;

	*out = NULL;
	if (len_out)
		*len_out = 0;
	if ((err = folio_store_open_reader(&r, store, oid, 1)) < 0)
		goto cleanup;
	folio_oid_tohex(hex, oid);
	if (r->expect != SIZE_UNKNOWN && r->expect > max) {
		err = folio_error_set(FOLIO_EINVAL,
			"object %s is %" PRIu64 " bytes, more than the %zu allowed here",
			hex, r->expect, max);
		goto cleanup;
	}
	/* One byte more than expected: room for a NUL, and a corrupt object
	 * that grew shows up without overflowing anything. */
	cap = r->expect != SIZE_UNKNOWN ? (size_t)r->expect + 1 : 64 * 1024;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			unsigned char *bigger;
			if (cap > max) {
				err = folio_error_set(FOLIO_EINVAL,
					"object %s is more than the %zu bytes allowed here",
					hex, max);
				goto cleanup;
			}
			cap = cap > max / 2 ? max + 1 : cap * 2;
			if (!(bigger = realloc(buf, cap))) {
				err = folio_error_set(FOLIO_ENOMEM,
					"out of memory reading object %s", hex);
				goto cleanup;
			}
			buf = bigger;
		}
		if (!buf && !(buf = malloc(cap))) {
			err = folio_error_set(FOLIO_ENOMEM, "out of memory reading object %s", hex);
			goto cleanup;
		}
		n = folio_reader_read(r, buf + len, cap - len);
		if (n < 0) {
			err = (int)n;
			goto cleanup;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len < cap)
		buf[len] = '\0';
	*out = buf;
	buf = NULL;
	if (len_out)
		*len_out = len;
cleanup:
	folio_reader_free(r);
	free(buf);
	return err;
}

int folio_store_verify(folio_store *store, const folio_oid *oid)
{
	folio_reader *r = NULL;
	unsigned char *buf = NULL;
	ssize_t n;
	int err;

	if ((err = folio_store_open_reader(&r, store, oid, 1)) < 0)
		return err;
	if (!(buf = malloc(COPY_CHUNK))) {
		err = folio_error_set(FOLIO_ENOMEM, "out of memory verifying %s", r->path);
		goto cleanup;
	}
	while ((n = folio_reader_read(r, buf, COPY_CHUNK)) > 0)
		;
	err = (int)n;
cleanup:
	free(buf);
	folio_reader_free(r);
	return err;
}

/* ---- checkout ---------------------------------------------------------- */

/* Copies the raw object open on src into dfd: copy_file_range, falling
 * back to read/write where the kernel or file systems cannot. */
static int copy_raw(int dfd, const char *dest, int src, const char *path, uint64_t size)
{
	unsigned char *buf = NULL;
	uint64_t done = 0;
	loff_t off = 0;
	int err = 0;

	while (done < size) {
		size_t want = size - done > (1u << 30) ? (1u << 30) : (size_t)(size - done);
		ssize_t n = copy_file_range(src, &off, dfd, NULL, want, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && done == 0 &&
		    (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
		     errno == EOPNOTSUPP || errno == EBADF))
			break;
		if (n < 0)
			return folio_error_errno(errno, "copying %s to %s", path, dest);
		if (n == 0)
			return folio_error_set(FOLIO_ECORRUPT,
				"object file %s is shorter than it was", path);
		done += (uint64_t)n;
	}
	if (done == size)
		return 0;

	if (!(buf = malloc(COPY_CHUNK)))
		return folio_error_set(FOLIO_ENOMEM, "out of memory copying %s", path);
	while (done < size) {
		ssize_t n = pread(src, buf, COPY_CHUNK, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = folio_error_errno(errno, "reading %s", path);
			break;
		}
		if (n == 0) {
			err = folio_error_set(FOLIO_ECORRUPT,
				"object file %s is shorter than it was", path);
			break;
		}
		if (store_write_full(dfd, buf, (size_t)n) < 0) {
			err = folio_error_errno(errno, "writing %s", dest);
			break;
		}
		done += (uint64_t)n;
	}
	free(buf);
	return err;
}

static int decompress_to(int dfd, const char *dest, folio_reader *r)
{
	unsigned char *buf = malloc(COPY_CHUNK);
	ssize_t n;
	int err = 0;

	if (!buf)
		return folio_error_set(FOLIO_ENOMEM, "out of memory writing %s", dest);
	while ((n = folio_reader_read(r, buf, COPY_CHUNK)) > 0) {
		if (store_write_full(dfd, buf, (size_t)n) < 0) {
			err = folio_error_errno(errno, "writing %s", dest);
			break;
		}
	}
	if (n < 0)
		err = (int)n;
	free(buf);
	return err;
}

static int create_dest(const char *dest)
{
	int fd = open(dest, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		return folio_error_errno(errno, "creating %s", dest);
	return fd;
}

int folio_store_checkout(char *how_out, folio_store *store, const folio_oid *oid, const char *dest,
			 mode_t mode, int allow_link)
{
	char path[FOLIO_PATH_MAX], rel[STORE_RELSZ];
	folio_object_form form = FOLIO_OBJECT_RAW;
	folio_reader *r = NULL;
	struct stat st;
	int fd = -1, dfd = -1, created = 0, err;
	char how = 'c';

	if ((err = open_object(&fd, &form, &st, path, sizeof path, store, oid)) < 0)
		return err;
	if ((dfd = create_dest(dest)) < 0) {
		err = dfd;
		goto cleanup;
	}
	created = 1;

	if (form == FOLIO_OBJECT_ZSTD) {
		err = reader_new(&r, fd, form, &st, path, oid, 0);
		fd = -1; /* the reader has it, or closed it */
		if (err < 0 || (err = decompress_to(dfd, dest, r)) < 0)
			goto cleanup;
		goto finish;
	}
	if (ioctl(dfd, FICLONE, fd) == 0) {
		how = 'r';
		goto finish;
	}
	if (allow_link) {
		/* The empty file was only there to try the reflink. */
		close(dfd);
		dfd = -1;
		unlink(dest);
		created = 0;
		store_relpath(rel, oid, form);
		if (linkat(store->dirfd, rel, AT_FDCWD, dest, 0) == 0) {
			how = 'h'; /* keeps the object's mode 0444 */
			goto cleanup;
		}
		if (errno == EEXIST || errno == ENOENT || errno == ENOTDIR) {
			err = folio_error_errno(errno, "linking %s to %s", dest, path);
			goto cleanup;
		}
		/* EXDEV, EPERM, EMLINK, ...: copy instead. */
		if ((dfd = create_dest(dest)) < 0) {
			err = dfd;
			goto cleanup;
		}
		created = 1;
	}
	if ((err = copy_raw(dfd, dest, fd, path, (uint64_t)st.st_size)) < 0)
		goto cleanup;
finish:
	if (fchmod(dfd, mode & 07777) < 0) {
		err = folio_error_errno(errno, "setting the mode of %s", dest);
		goto cleanup;
	}
	if (close(dfd) < 0) {
		dfd = -1;
		err = folio_error_errno(errno, "writing %s", dest);
		goto cleanup;
	}
	dfd = -1;
cleanup:
	if (err == 0 && how_out)
		*how_out = how;
	if (dfd >= 0)
		close(dfd);
	if (err < 0 && created)
		unlink(dest);
	if (fd >= 0)
		close(fd);
	folio_reader_free(r);
	return err;
}

/* ---- listing ----------------------------------------------------------- */

static int is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* Reports the objects of one shard folder. */
static int foreach_shard(folio_store *s, const char *shard,
			 folio_store_foreach_cb cb, void *payload)
{
	DIR *d = NULL;
	struct dirent *e;
	int fd, err = 0;

	fd = openat(s->dirfd, shard, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : folio_error_errno(errno, "opening %s/%s", s->path, shard);
	if (!(d = fdopendir(fd))) {
		err = folio_error_errno(errno, "reading %s/%s", s->path, shard);
		close(fd);
		return err;
	}
	while ((errno = 0, e = readdir(d))) {
		char hex[FOLIO_OID_HEXSZ + 1];
		folio_object_info info;
		folio_object_form form;
		folio_oid oid;
		struct stat st;
		size_t n = strlen(e->d_name);

		if (n == FOLIO_OID_HEXSZ - 2)
			form = FOLIO_OBJECT_RAW;
		else if (n == FOLIO_OID_HEXSZ + 2 && strcmp(e->d_name + n - 4, ".zst") == 0)
			form = FOLIO_OBJECT_ZSTD;
		else
			continue;
		if (!is_hex(e->d_name, FOLIO_OID_HEXSZ - 2))
			continue;
		memcpy(hex, shard, 2);
		memcpy(hex + 2, e->d_name, FOLIO_OID_HEXSZ - 2);
		hex[FOLIO_OID_HEXSZ] = '\0';
		if (folio_oid_fromhex(&oid, hex) < 0)
			continue;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT) /* removed meanwhile */
				continue;
			err = folio_error_errno(errno, "reading %s/%s/%s", s->path, shard, e->d_name);
			goto cleanup;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		memset(&info, 0, sizeof info);
		err = fill_info(&info, s, &oid, form, &st, fd, e->d_name);
		if (err == FOLIO_ENOTFOUND)
			continue;
		if (err == FOLIO_ECORRUPT) {
			/* A damaged frame header must not hide the object from
			 * fsck (which verifies and names it) or gc: report it with
			 * an unknown (zero) raw size. */
			info.form = form;
			info.size = 0;
			info.stored_size = (uint64_t)st.st_size;
			err = 0;
		}
		if (err < 0)
			goto cleanup;
		if ((err = cb(&oid, &info, payload)) != 0)
			goto cleanup;
	}
	if (errno != 0)
		err = folio_error_errno(errno, "reading %s/%s", s->path, shard);
cleanup:
	closedir(d);
	return err;
}

int folio_store_foreach(folio_store *store, folio_store_foreach_cb cb,
			void *payload)
{
	DIR *d = NULL;
	struct dirent *e;
	int fd, err = 0;

	/* A new open file description, so threads listing at once do not
	 * share a directory offset. */
	fd = openat(store->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return folio_error_errno(errno, "opening %s", store->path);
	if (!(d = fdopendir(fd))) {
		err = folio_error_errno(errno, "reading %s", store->path);
		close(fd);
		return err;
	}
	while ((errno = 0, e = readdir(d))) {
		if (strlen(e->d_name) != 2 || !is_hex(e->d_name, 2))
			continue;
		if ((err = foreach_shard(store, e->d_name, cb, payload)) != 0)
			goto cleanup;
	}
	if (errno != 0)
		err = folio_error_errno(errno, "reading %s", store->path);
cleanup:
	closedir(d);
	return err;
}

/* ---- maintenance ------------------------------------------------------- */

int folio_store_remove(folio_store *store, const folio_oid *oid)
{
	static const folio_object_form forms[] = { FOLIO_OBJECT_RAW, FOLIO_OBJECT_ZSTD };
	int removed = 0;

	for (size_t i = 0; i < 2; i++) {
		char rel[STORE_RELSZ];

		store_relpath(rel, oid, forms[i]);
		if (unlinkat(store->dirfd, rel, 0) == 0)
			removed = 1;
		else if (errno != ENOENT)
			return folio_error_errno(errno, "removing %s/%s", store->path, rel);
	}
	return removed ? 0 : not_found(store, oid);
}

int folio_store_clean_tmp(folio_store *store, int max_age_seconds)
{
	DIR *d = NULL;
	struct dirent *e;
	time_t now = time(NULL);
	int fd, err = 0;

	if (store->tmpfd < 0)
		return 0;
	fd = openat(store->tmpfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return folio_error_errno(errno, "opening %s/tmp", store->path);
	if (!(d = fdopendir(fd))) {
		err = folio_error_errno(errno, "reading %s/tmp", store->path);
		close(fd);
		return err;
	}
	while ((errno = 0, e = readdir(d))) {
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone meanwhile */
		if (S_ISDIR(st.st_mode) || now - st.st_mtime < max_age_seconds)
			continue;
		if (unlinkat(fd, e->d_name, 0) < 0 && errno != ENOENT) {
			err = folio_error_errno(errno, "removing %s/tmp/%s",
						store->path, e->d_name);
			goto cleanup;
		}
	}
	if (errno != 0)
		err = folio_error_errno(errno, "reading %s/tmp", store->path);
cleanup:
	closedir(d);
	return err;
}
