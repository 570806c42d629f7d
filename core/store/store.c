/*
 * store.c — opening the object store and writing objects into it.
 *
 * DESIGN
 *
 * The workload is an import: thousands of files, mostly photos of ~100 KB
 * that are already compressed, added by a few threads (and sometimes a
 * few processes) at once, often again and again (re-imports are the
 * common case, so an object that is already stored must cost one read
 * and no write). Rarely the input is a multi-GB video or a pipe.
 *
 * On disk (relative to the store root, REPO/objects):
 *
 *   ab/<62 hex>         raw object, mode 0444
 *   ab/<62 hex>.zst     one zstd frame (level 3, content size in the header,
 *                       XXH64 content checksum), mode 0444
 *   tmp/<pid>.<tid>.<n>.tmp
 *                       a temp file being written (mode 0600), created with
 *                       O_EXCL; n is a process-wide atomic counter
 *
 * How a put goes (put_fd):
 *
 *  1. Read the first chunk (256 KiB). If the source ends within it, the
 *     whole content is in memory: hash it and go to 3. Photos take this
 *     path and are read exactly once.
 *  2. Otherwise, for a regular file, keep reading to hash everything (the
 *     "hash pass"); the writing passes later re-read it with pread() and
 *     hash again, so a file that changes under us fails instead of being
 *     stored under the wrong id. For a pipe, everything is copied into a
 *     spool temp file while it is hashed, and the spool is the source of
 *     the writing passes (and becomes the object itself if stored raw).
 *     Either way put_fd leaves the fd's offset at the end of the input.
 *  3. If the object exists in either form, stop: existed = 1, nothing is
 *     written.
 *  4. Unless the first bytes are a known compressed format (JPEG, PNG,
 *     GIF, WebP, zstd, gzip, zip, xz, bzip2, 7z, ISO media, ...), compress
 *     with streaming zstd into a temp file, with the content size pledged
 *     (it is always known by now). Compression is abandoned as soon as the
 *     output passes 9/10 of the raw size: an object is kept as zstd only
 *     when 10 * compressed <= 9 * raw. Output is buffered in memory until
 *     the first 256 KiB are full, so a small object that does not compress
 *     never touches the disk twice.
 *  5. Else write the raw bytes into a temp file (or use the spool).
 *  6. Commit: fchmod 0444, fsync the temp file, close it; mkdir the shard
 *     directory if missing (and then fsync the store root); rename the temp
 *     file into place with RENAME_NOREPLACE (plain rename where the file
 *     system lacks it — a rename onto an identical object is harmless);
 *     fsync the shard directory.
 *
 * Several writers of one object: each writes its own temp file; the first
 * rename wins and the others see EEXIST, delete their temp file and report
 * existed. Two writers could in theory pick different forms (a pipe and a
 * file compress very slightly differently); whoever finds both forms after
 * its rename deletes the .zst, so "raw wins" and one form remains.
 *
 * Any error deletes the temp files of the put and names the source
 * (`storing photo.jpg: writing .../tmp/...: No space left on device`).
 * Nothing outside tmp/ is touched before the final rename, so a full disk
 * never damages what is stored.
 *
 * Memory: one malloc per put of two 256 KiB buffers (input and compressed
 * output) plus a zstd context made per call (contexts are cheap next to an
 * fsync, and per-call ones need no thread-exit cleanup).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zstd.h>

#include "folio/error.h"
#include "folio/store.h"
#include "folio/util.h"
#include "store/store_int.h"

#define CHUNK (256 * 1024)
/* The raw writing pass of a big object copies in pieces of up to this
 * size: ext4 (Linux 6.16+) sizes the page-cache folios of a write by the
 * write's length, so 256 KiB writes leave an object cached in 256 KiB
 * folios, and a warm read of it is slower than of a file written in one
 * go (large folios, up to 2 MiB). See docs/storage.md. */
#define RAW_CHUNK (4 * 1024 * 1024)
#define ZSTD_LEVEL 3
#define TMPNAMESZ 80

/* Distinguishes the temp files of one thread; atomic so threads never
 * need a lock (names also carry the pid and the thread id). */
static atomic_ulong tmp_counter;

/* One put in progress. */
struct put {
	folio_store *store;
	const char *name;     /* the source, for messages */
	unsigned char *in;    /* CHUNK bytes: reading the source */
	unsigned char *out;   /* CHUNK bytes: compressed output */
	unsigned char *big;   /* RAW_CHUNK bytes for the raw pass, or NULL */
	folio_hash *hash;

	/* The content, once hashed. */
	folio_oid oid;
	uint64_t size;        /* raw bytes */
	int precompressed;    /* first bytes are a compressed format */

	/* Where the writing passes read it from: a buffer, or an fd from
	 * offset off (the caller's regular file, or the spool). */
	const unsigned char *buf;
	int srcfd;            /* -1 for a buffer */
	off_t off;
	int rehash;           /* re-hash while writing (the source can change) */

	/* Temp files of this put; name[0] == '\0' when there is none. */
	int tfd;
	char tname[TMPNAMESZ];
	int spoolfd;
	char spoolname[TMPNAMESZ];
};

void store_relpath(char out[STORE_RELSZ], const folio_oid *oid,
			  folio_object_form form)
{
	char hex[FOLIO_OID_HEXSZ + 1];

	folio_oid_tohex(hex, oid);
	out[0] = hex[0];
	out[1] = hex[1];
	out[2] = '/';
	memcpy(out + 3, hex + 2, FOLIO_OID_HEXSZ - 2);
	if (form == FOLIO_OBJECT_ZSTD)
		memcpy(out + 3 + FOLIO_OID_HEXSZ - 2, ".zst", 5);
	else
		out[3 + FOLIO_OID_HEXSZ - 2] = '\0';
}

int store_fullpath(char *out, size_t size, const folio_store *store,
			  const char *rel)
{
	int n = snprintf(out, size, "%s/%s", store->path, rel);

	if (n < 0 || (size_t)n >= size)
		return folio_error_set(FOLIO_EINVAL,
			"path of %s in %s is too long", rel, store->path);
	return 0;
}

/* ---- opening ---------------------------------------------------------- */

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return folio_error_errno(errno, "opening %s", path);
	if (fsync(fd) < 0)
		err = folio_error_errno(errno, "syncing %s", path);
	close(fd);
	return err;
}

/* fsyncs the folder that holds path, so a new entry in it is durable. */
static int fsync_parent(const char *path)
{
	char parent[FOLIO_PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;

	if (!slash)
		return fsync_path(".");
	if (slash == path)
		return fsync_path("/");
	n = (size_t)(slash - path);
	if (n >= sizeof parent)
		return folio_error_set(FOLIO_EINVAL, "path %s is too long", path);
	memcpy(parent, path, n);
	parent[n] = '\0';
	return fsync_path(parent);
}

int folio_store_open(folio_store **out, const char *dir, int create)
{
	folio_store *s = NULL;
	size_t len;
	int made_root = 0, made_tmp = 0, err = 0;

	*out = NULL;
	if (!dir || !*dir)
		return folio_error_set(FOLIO_EINVAL, "no object store folder given");
	if (!(s = calloc(1, sizeof *s)) || !(s->path = strdup(dir))) {
		err = folio_error_set(FOLIO_ENOMEM, "out of memory opening %s", dir);
		goto cleanup;
	}
	s->dirfd = s->tmpfd = -1;
	len = strlen(s->path);
	while (len > 1 && s->path[len - 1] == '/')
		s->path[--len] = '\0';

	if (create) {
		if (mkdir(s->path, 0755) == 0)
			made_root = 1;
		else if (errno != EEXIST) {
			err = folio_error_errno(errno, "creating object store %s", s->path);
			goto cleanup;
		}
	}
	s->dirfd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->dirfd < 0) {
		err = folio_error_errno(errno, "opening object store %s", s->path);
		goto cleanup;
	}
	s->tmpfd = openat(s->dirfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->tmpfd < 0 && errno == ENOENT) {
		/* Also without create: a store whose tmp/ was deleted by hand
		 * should still take puts. Failing here is fine when reading. */
		if (mkdirat(s->dirfd, "tmp", 0755) == 0)
			made_tmp = 1;
		else if (create && errno != EEXIST) {
			err = folio_error_errno(errno, "creating %s/tmp", s->path);
			goto cleanup;
		}
		s->tmpfd = openat(s->dirfd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (s->tmpfd < 0 && create) {
		err = folio_error_errno(errno, "opening %s/tmp", s->path);
		goto cleanup;
	}
	if (made_tmp && fsync(s->dirfd) < 0) {
		err = folio_error_errno(errno, "syncing %s", s->path);
		goto cleanup;
	}
	if (made_root && (err = fsync_parent(s->path)) < 0)
		goto cleanup;

	*out = s;
	s = NULL;
cleanup:
	folio_store_free(s);
	return err;
}

void folio_store_free(folio_store *store)
{
	if (!store)
		return;
	if (store->tmpfd >= 0)
		close(store->tmpfd);
	if (store->dirfd >= 0)
		close(store->dirfd);
	free(store->path);
	free(store);
}

const char *folio_store_path(const folio_store *store)
{
	return store->path;
}

/* ---- small I/O helpers ------------------------------------------------ */

/* read() until len bytes or EOF; returns bytes read or -1 with errno. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static ssize_t pread_full(int fd, void *buf, size_t len, off_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got, off + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* write() all of buf; 0 or -1 with errno. */
int store_write_full(int fd, const void *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf = (const char *)buf + n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- recognising compressed formats ------------------------------------ */

static int starts(const unsigned char *p, size_t n, const char *magic, size_t mlen)
{
	return n >= mlen && memcmp(p, magic, mlen) == 0;
}

/* 1 if the content starting with p[0..n) is a format that is already
 * compressed, so zstd would only waste time on it. */
static int is_precompressed(const unsigned char *p, size_t n)
{
	static const struct {
		const char *magic;
		size_t len;
	} at0[] = {
		{ "\xFF\xD8\xFF", 3 },                    /* JPEG */
		{ "\x89PNG\r\n\x1A\n", 8 },               /* PNG */
		{ "GIF87a", 6 }, { "GIF89a", 6 },         /* GIF */
		{ "\x28\xB5\x2F\xFD", 4 },                /* zstd */
		{ "\x1F\x8B", 2 },                        /* gzip */
		{ "\x1F\x9D", 2 },                        /* compress (.Z) */
		{ "PK\x03\x04", 4 }, { "PK\x05\x06", 4 }, /* zip, docx, jar, ... */
		{ "PK\x07\x08", 4 },
		{ "\xFD" "7zXZ\x00", 6 },                 /* xz */
		{ "7z\xBC\xAF\x27\x1C", 6 },              /* 7z */
		{ "\x04\x22\x4D\x18", 4 },                /* lz4 */
		{ "Rar!\x1A\x07", 6 },                    /* rar */
		{ "\x1A\x45\xDF\xA3", 4 },                /* Matroska, WebM */
		{ "OggS", 4 },                            /* Ogg */
		{ "fLaC", 4 },                            /* FLAC */
		{ "ID3", 3 },                             /* MP3 */
		{ "\xFF\x0A", 2 },                        /* JPEG XL codestream */
		{ "\x00\x00\x00\x0CJXL \r\n\x87\n", 12 }, /* JPEG XL container */
		{ "\x00\x00\x00\x0CjP  \r\n\x87\n", 12 }, /* JPEG 2000 */
	};

	for (size_t i = 0; i < sizeof at0 / sizeof at0[0]; i++)
		if (starts(p, n, at0[i].magic, at0[i].len))
			return 1;
	/* bzip2: "BZh" and the block size digit */
	if (n >= 4 && memcmp(p, "BZh", 3) == 0 && p[3] >= '1' && p[3] <= '9')
		return 1;
	/* RIFF....WEBP */
	if (n >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WEBP", 4) == 0)
		return 1;
	/* ISO base media (mp4, mov, m4a, HEIC, AVIF): a box "....ftyp" */
	if (n >= 8 && memcmp(p + 4, "ftyp", 4) == 0)
		return 1;
	return 0;
}

/* ---- temp files ------------------------------------------------------- */

static int tmp_create(int *fd_out, char name[TMPNAMESZ], const struct put *p)
{
	const folio_store *s = p->store;

	if (s->tmpfd < 0)
		return folio_error_set(FOLIO_EACCES,
			"storing %s: object store %s has no usable tmp/ folder",
			p->name, s->path);
	for (int tries = 0; tries < 1000; tries++) {
		unsigned long n = atomic_fetch_add(&tmp_counter, 1);
		int fd;

		snprintf(name, TMPNAMESZ, "%ld.%ld.%lu.tmp",
			 (long)getpid(), (long)gettid(), n);
		fd = openat(s->tmpfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0) {
			*fd_out = fd;
			return 0;
		}
		if (errno != EEXIST) {
			name[0] = '\0';
			return folio_error_errno(errno,
				"storing %s: creating a temp file in %s/tmp",
				p->name, s->path);
		}
		/* Left by a killed process whose pid came back: next name. */
	}
	name[0] = '\0';
	return folio_error_set(FOLIO_EIO,
		"storing %s: cannot find a free temp file name in %s/tmp",
		p->name, s->path);
}

static void tmp_discard(struct put *p, int *fd, char name[TMPNAMESZ])
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	if (name[0]) {
		unlinkat(p->store->tmpfd, name, 0);
		name[0] = '\0';
	}
}

static int tmp_error(struct put *p, int errnum, const char *tname, const char *what)
{
	return folio_error_errno(errnum, "storing %s: %s %s/tmp/%s",
				 p->name, what, p->store->path, tname);
}

/* ---- the writing passes ------------------------------------------------ */

/*
 * Next piece of the content for a writing pass that has handed out *pos
 * bytes so far: points *data at it and returns its length (0 at the end),
 * or a negative FOLIO_E* code. When re-hashing, the end checks the id.
 */
static ssize_t src_next(struct put *p, const unsigned char **data, uint64_t *pos)
{
	uint64_t left = p->size - *pos;
	unsigned char *buf = p->big ? p->big : p->in;
	size_t cap = p->big ? RAW_CHUNK : CHUNK;
	ssize_t n;

	if (p->srcfd < 0) {
		/* A buffer: hand out the rest in one piece (capped to keep
		 * ssize_t and single write() calls sane). */
		n = (ssize_t)(left < (1u << 30) ? left : (1u << 30));
		*data = p->buf + *pos;
		*pos += (uint64_t)n;
		return n;
	}
	if (left == 0) {
		if (p->rehash) {
			folio_oid again;
			folio_hash_final(&again, p->hash);
			if (folio_oid_cmp(&again, &p->oid) != 0)
				return folio_error_set(FOLIO_EIO,
					"storing %s: the file changed while it was being added",
					p->name);
		}
		return 0;
	}
	n = pread_full(p->srcfd, buf, left < cap ? (size_t)left : cap,
		       p->off + (off_t)*pos);
	if (n < 0)
		return folio_error_errno(errno, "storing %s: reading it", p->name);
	if (n == 0)
		return folio_error_set(FOLIO_EIO,
			"storing %s: the file shrank while it was being added", p->name);
	if (p->rehash)
		folio_hash_update(p->hash, buf, (size_t)n);
	*data = buf;
	*pos += (uint64_t)n;
	return n;
}

/* Forgets what a re-hashing pass abandoned half way has hashed, so the
 * next pass starts from a fresh hash. */
static void src_reset(struct put *p)
{
	folio_oid dummy;

	if (p->srcfd >= 0 && p->rehash)
		folio_hash_final(&dummy, p->hash);
}

/* Appends the compressed bytes in p->out[0..len) to the .zst temp file,
 * creating it on first use. */
static int flush_out(struct put *p, size_t len)
{
	int err;

	if (!p->tname[0] && (err = tmp_create(&p->tfd, p->tname, p)) < 0)
		return err;
	if (store_write_full(p->tfd, p->out, len) < 0)
		return tmp_error(p, errno, p->tname, "writing");
	return 0;
}

/*
 * Compresses the content into a temp file (p->tfd/p->tname). *kept is 1
 * when the result saves at least a tenth; 0 when compression was abandoned
 * (then no temp file is left).
 */
static int write_zstd(struct put *p, int *kept)
{
	ZSTD_CCtx *cctx = NULL;
	ZSTD_outBuffer ob = { p->out, CHUNK, 0 };
	uint64_t pos = 0, flushed = 0;
	size_t r;
	int err = 0, last = 0;

	*kept = 0;
	if (!(cctx = ZSTD_createCCtx())) {
		err = folio_error_set(FOLIO_ENOMEM, "storing %s: out of memory for zstd", p->name);
		goto cleanup;
	}
	r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, ZSTD_LEVEL);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setPledgedSrcSize(cctx, p->size);
	if (ZSTD_isError(r))
		goto zstd_error;

	while (!last) {
		const unsigned char *data = NULL;
		ssize_t n = src_next(p, &data, &pos);
		ZSTD_inBuffer ib;

		if (n < 0) {
			err = (int)n;
			goto cleanup;
		}
		ib.src = data;
		ib.size = (size_t)n;
		ib.pos = 0;
		last = pos == p->size;
		for (;;) {
			r = ZSTD_compressStream2(cctx, &ob, &ib,
						 last ? ZSTD_e_end : ZSTD_e_continue);
			if (ZSTD_isError(r))
				goto zstd_error;
			if (10 * (flushed + ob.pos) > 9 * p->size) {
				/* Not worth it: give up now. */
				src_reset(p);
				tmp_discard(p, &p->tfd, p->tname);
				goto cleanup;
			}
			if (ob.pos == ob.size) {
				if ((err = flush_out(p, ob.pos)) < 0)
					goto cleanup;
				flushed += ob.pos;
				ob.pos = 0;
			}
			if (last ? r == 0 : ib.pos == ib.size)
				break;
		}
	}
	/* The pass ends with src_next() returning 0, which checks the id. */
	if (p->srcfd >= 0) {
		const unsigned char *data = NULL;
		ssize_t n = src_next(p, &data, &pos);
		if (n < 0) {
			err = (int)n;
			goto cleanup;
		}
	}
	if ((err = flush_out(p, ob.pos)) < 0)
		goto cleanup;
	*kept = 1;
	goto cleanup;

zstd_error:
	err = folio_error_set(FOLIO_ERROR, "storing %s: zstd: %s",
			      p->name, ZSTD_getErrorName(r));
cleanup:
	ZSTD_freeCCtx(cctx);
	return err;
}

/* Copies the raw content into a temp file (p->tfd/p->tname). */
static int write_raw(struct put *p)
{
	uint64_t pos = 0;
	int err;

	if ((err = tmp_create(&p->tfd, p->tname, p)) < 0)
		return err;
	/* Big pieces for a big object read from an fd; without the memory,
	 * the 256 KiB buffer still works. */
	if (p->srcfd >= 0 && p->size > CHUNK && !p->big)
		p->big = malloc(RAW_CHUNK);
	for (;;) {
		const unsigned char *data = NULL;
		ssize_t n = src_next(p, &data, &pos);

		if (n < 0)
			return (int)n;
		if (n == 0)
			return 0;
		if (store_write_full(p->tfd, data, (size_t)n) < 0)
			return tmp_error(p, errno, p->tname, "writing");
	}
}

/* ---- committing -------------------------------------------------------- */

static int object_present(folio_store *s, const folio_oid *oid, folio_object_form form)
{
	char rel[STORE_RELSZ];
	struct stat st;

	store_relpath(rel, oid, form);
	return fstatat(s->dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int rename_noreplace(int olddirfd, const char *oldpath,
			    int newdirfd, const char *newpath)
{
	int r = renameat2(olddirfd, oldpath, newdirfd, newpath, RENAME_NOREPLACE);

	if (r < 0 && (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP))
		r = renameat(olddirfd, oldpath, newdirfd, newpath);
	return r;
}

/* Makes the temp file in p->tfd/p->tname the object, in the given form. */
static int commit(struct put *p, int *fd, char name[TMPNAMESZ],
		  folio_object_form form, int *existed)
{
	folio_store *s = p->store;
	folio_object_form other = form == FOLIO_OBJECT_RAW ? FOLIO_OBJECT_ZSTD
							   : FOLIO_OBJECT_RAW;
	char rel[STORE_RELSZ], shard[3];
	int sfd = -1, err = 0;

	store_relpath(rel, &p->oid, form);
	memcpy(shard, rel, 2);
	shard[2] = '\0';

	if (fchmod(*fd, 0444) < 0) {
		err = tmp_error(p, errno, name, "setting the mode of");
		goto cleanup;
	}
	if (fsync(*fd) < 0) {
		err = tmp_error(p, errno, name, "syncing");
		goto cleanup;
	}
	if (close(*fd) < 0) {
		*fd = -1;
		err = tmp_error(p, errno, name, "closing");
		goto cleanup;
	}
	*fd = -1;

	if (mkdirat(s->dirfd, shard, 0755) == 0) {
		if (fsync(s->dirfd) < 0) {
			err = folio_error_errno(errno, "storing %s: syncing %s",
						p->name, s->path);
			goto cleanup;
		}
	} else if (errno != EEXIST) {
		err = folio_error_errno(errno, "storing %s: creating %s/%s",
					p->name, s->path, shard);
		goto cleanup;
	}

	/* Another writer may have stored it meanwhile, maybe in the other
	 * form: then ours is not needed. */
	if (object_present(s, &p->oid, other)) {
		*existed = 1;
		goto cleanup;
	}
	if (rename_noreplace(s->tmpfd, name, s->dirfd, rel) < 0) {
		if (errno == EEXIST) {
			*existed = 1;
			goto cleanup;
		}
		err = folio_error_errno(errno, "storing %s: renaming %s/tmp/%s to %s/%s",
					p->name, s->path, name, s->path, rel);
		goto cleanup;
	}
	name[0] = '\0';

	/* Both forms now? Raw wins; whoever sees both removes the .zst. */
	if (object_present(s, &p->oid, other)) {
		char zrel[STORE_RELSZ];
		store_relpath(zrel, &p->oid, FOLIO_OBJECT_ZSTD);
		unlinkat(s->dirfd, zrel, 0);
		if (form == FOLIO_OBJECT_ZSTD)
			*existed = 1;
	}

	sfd = openat(s->dirfd, shard, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0 || fsync(sfd) < 0) {
		err = folio_error_errno(errno, "storing %s: syncing %s/%s",
					p->name, s->path, shard);
		goto cleanup;
	}
cleanup:
	if (sfd >= 0)
		close(sfd);
	tmp_discard(p, fd, name);
	return err;
}

/* Steps 3-6 of a put, once p->oid, p->size and the source are known. */
static int store_content(struct put *p, int *existed)
{
	int err = 0, kept = 0;

	if (object_present(p->store, &p->oid, FOLIO_OBJECT_RAW) ||
	    object_present(p->store, &p->oid, FOLIO_OBJECT_ZSTD)) {
		*existed = 1;
		return 0;
	}
	if (!p->precompressed && p->size > 0) {
		if ((err = write_zstd(p, &kept)) < 0)
			return err;
		if (kept)
			return commit(p, &p->tfd, p->tname, FOLIO_OBJECT_ZSTD, existed);
	}
	if (p->spoolname[0])
		return commit(p, &p->spoolfd, p->spoolname, FOLIO_OBJECT_RAW, existed);
	if ((err = write_raw(p)) < 0)
		return err;
	return commit(p, &p->tfd, p->tname, FOLIO_OBJECT_RAW, existed);
}

static int put_init(struct put *p, folio_store *store, const char *name, int need_in)
{
	memset(p, 0, sizeof *p);
	p->store = store;
	p->name = name ? name : "(unnamed)";
	p->srcfd = p->tfd = p->spoolfd = -1;
	/* One block: in (when reading an fd) then out. */
	p->out = malloc(need_in ? 2 * CHUNK : CHUNK);
	if (!p->out)
		return folio_error_set(FOLIO_ENOMEM, "storing %s: out of memory", p->name);
	if (need_in) {
		p->in = p->out;
		p->out += CHUNK;
	}
	return folio_hash_new(&p->hash);
}

static void put_fini(struct put *p)
{
	tmp_discard(p, &p->tfd, p->tname);
	tmp_discard(p, &p->spoolfd, p->spoolname);
	folio_hash_free(p->hash);
	free(p->big);
	free(p->in ? p->in : p->out);
}

/* ---- public entry points ---------------------------------------------- */

int folio_store_put_fd(folio_oid *out, uint64_t *size_out, int *existed_out,
		       folio_store *store, int fd, const char *name)
{
	struct put p;
	struct stat st;
	off_t start;
	ssize_t n;
	int err, existed = 0, seekable;

	if ((err = put_init(&p, store, name, 1)) < 0)
		goto cleanup;

	start = lseek(fd, 0, SEEK_CUR);
	seekable = start >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);

	n = read_full(fd, p.in, CHUNK);
	if (n < 0) {
		err = folio_error_errno(errno, "storing %s: reading it", p.name);
		goto cleanup;
	}
	folio_hash_update(p.hash, p.in, (size_t)n);
	p.size = (uint64_t)n;
	p.precompressed = is_precompressed(p.in, (size_t)n);

	if (n < CHUNK) {
		/* All of it is in memory. */
		p.buf = p.in;
	} else if (seekable) {
		/* Hash pass; writing passes pread from start and re-hash. */
		while ((n = read_full(fd, p.in, CHUNK)) > 0) {
			folio_hash_update(p.hash, p.in, (size_t)n);
			p.size += (uint64_t)n;
		}
		if (n < 0) {
			err = folio_error_errno(errno, "storing %s: reading it", p.name);
			goto cleanup;
		}
		p.srcfd = fd;
		p.off = start;
		p.rehash = 1;
	} else {
		/* A pipe: spool it into a temp file while hashing. */
		if ((err = tmp_create(&p.spoolfd, p.spoolname, &p)) < 0)
			goto cleanup;
		do {
			if (store_write_full(p.spoolfd, p.in, (size_t)n) < 0) {
				err = tmp_error(&p, errno, p.spoolname, "writing");
				goto cleanup;
			}
			if ((n = read_full(fd, p.in, CHUNK)) > 0) {
				folio_hash_update(p.hash, p.in, (size_t)n);
				p.size += (uint64_t)n;
			}
		} while (n > 0);
		if (n < 0) {
			err = folio_error_errno(errno, "storing %s: reading it", p.name);
			goto cleanup;
		}
		p.srcfd = p.spoolfd;
		p.off = 0;
	}
	folio_hash_final(&p.oid, p.hash);

	if ((err = store_content(&p, &existed)) < 0)
		goto cleanup;
	if (out)
		*out = p.oid;
	if (size_out)
		*size_out = p.size;
	if (existed_out)
		*existed_out = existed;
cleanup:
	put_fini(&p);
	return err;
}

int folio_store_put_file(folio_oid *out, uint64_t *size_out, int *existed_out,
			 folio_store *store, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int err;

	if (fd < 0)
		return folio_error_errno(errno, "opening %s", path);
	err = folio_store_put_fd(out, size_out, existed_out, store, fd, path);
	close(fd);
	return err;
}

int folio_store_put_buf(folio_oid *out, folio_store *store,
			const void *data, size_t len)
{
	struct put p;
	int err, existed = 0;

	if ((err = put_init(&p, store, "in-memory content", 0)) < 0)
		goto cleanup;
	p.buf = len ? data : (const unsigned char *)"";
	p.size = len;
	p.precompressed = is_precompressed(p.buf, len);
	folio_hash_update(p.hash, p.buf, len);
	folio_hash_final(&p.oid, p.hash);
	if ((err = store_content(&p, &existed)) < 0)
		goto cleanup;
	if (out)
		*out = p.oid;
cleanup:
	put_fini(&p);
	return err;
}
