/*
 * cache.c — image features cached by object id, and the thread pool that
 * computes many of them.
 *
 * Features depend only on an object's bytes, and an object id names those
 * bytes, so one small file per object (CACHE_DIR/features/ab/<62 hex>) is
 * enough: a new version that shares images with an old one finds them all
 * cached. The file has a fixed size and layout (docs/features.md), is
 * written to a temp file and renamed into place so readers never see half
 * of one, and carries a version and a checksum; anything that does not
 * verify is recomputed and overwritten, never trusted. Failing to write the
 * cache is not an error (the features are still correct); it only costs a
 * recomputation next time.
 *
 * DESIGN (threads): folio_features_many starts T workers that take the next
 * index from an atomic counter. Each worker writes only out[i] for the
 * indices it took. The mutex `lock` guards `done`, the first error, and the
 * progress callback (so it never runs concurrently); it is never held while
 * decoding or doing I/O.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "folio/analysis.h"
#include "folio/error.h"
#include "folio/util.h"

#define MAGIC "folioft"          /* 8 bytes with its NUL */
#define PAYLOAD_SIZE (8 + 128 + 7 * 4 + 9 * 4 + 2 * 8)
#define FILE_SIZE (8 + 4 + 4 + PAYLOAD_SIZE + 8)
#define MAX_OBJECT ((size_t)1 << 30) /* zstd objects read into memory */

/* ---- serialisation (little-endian, fixed layout) ----------------------- */

static unsigned char *put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		*p++ = (unsigned char)(v >> (8 * i));
	return p;
}

static unsigned char *put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		*p++ = (unsigned char)(v >> (8 * i));
	return p;
}

static const unsigned char *get32(const unsigned char *p, uint32_t *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++)
		*v |= (uint32_t)p[i] << (8 * i);
	return p + 4;
}

static const unsigned char *get64(const unsigned char *p, uint64_t *v)
{
	*v = 0;
	for (int i = 0; i < 8; i++)
		*v |= (uint64_t)p[i] << (8 * i);
	return p + 8;
}

static uint32_t fbits(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}

static float bitsf(uint32_t u)
{
	float f;
	memcpy(&f, &u, 4);
	return f;
}


static void encode(unsigned char buf[FILE_SIZE], const folio_features *f)
{
	unsigned char *p = buf, *payload;
	const float fl[9] = {f->brightness_mean, f->brightness_p05, f->brightness_p50,
			     f->brightness_p95, f->contrast_rms, f->sharpness,
			     f->blurriness, f->entropy, f->colorfulness};
	const int in[7] = {f->width, f->height, f->bands, f->orientation,
			   f->decodable, f->has_pixels, f->grayscale};

	memcpy(p, MAGIC, 8);
	p = put32(p + 8, FOLIO_FEATURES_VERSION);
	p = put32(p, PAYLOAD_SIZE);
	payload = p;
	memcpy(p, f->format, 8);
	p += 8;
	memcpy(p, f->error, 128);
	p += 128;
	for (int i = 0; i < 7; i++)
		p = put32(p, (uint32_t)in[i]);
	for (int i = 0; i < 9; i++)
		p = put32(p, fbits(fl[i]));
	p = put64(p, f->phash);
	p = put64(p, f->dhash);
	put64(p, folio_fnv1a(payload, PAYLOAD_SIZE, 0));
}

/* 0 and *f filled when buf is a valid current-version record. */
static int decode(folio_features *f, const unsigned char *buf, size_t len)
{
	const unsigned char *p = buf, *payload;
	uint32_t version, size, in[7], fl[9];
	uint64_t sum;

	if (len != FILE_SIZE || memcmp(p, MAGIC, 8))
		return -1;
	p = get32(p + 8, &version);
	p = get32(p, &size);
	if (version != FOLIO_FEATURES_VERSION || size != PAYLOAD_SIZE)
		return -1;
	payload = p;
	get64(payload + PAYLOAD_SIZE, &sum);
	if (sum != folio_fnv1a(payload, PAYLOAD_SIZE, 0))
		return -1;
	memset(f, 0, sizeof *f);
	memcpy(f->format, p, 8);
	f->format[7] = '\0';
	p += 8;
	memcpy(f->error, p, 128);
	f->error[127] = '\0';
	p += 128;
	for (int i = 0; i < 7; i++)
		p = get32(p, &in[i]);
	for (int i = 0; i < 9; i++)
		p = get32(p, &fl[i]);
	p = get64(p, &f->phash);
	get64(p, &f->dhash);
	f->width = (int)in[0];
	f->height = (int)in[1];
	f->bands = (int)in[2];
	f->orientation = (int)in[3];
	f->decodable = (int)in[4];
	f->has_pixels = (int)in[5];
	f->grayscale = (int)in[6];
	f->brightness_mean = bitsf(fl[0]);
	f->brightness_p05 = bitsf(fl[1]);
	f->brightness_p50 = bitsf(fl[2]);
	f->brightness_p95 = bitsf(fl[3]);
	f->contrast_rms = bitsf(fl[4]);
	f->sharpness = bitsf(fl[5]);
	f->blurriness = bitsf(fl[6]);
	f->entropy = bitsf(fl[7]);
	f->colorfulness = bitsf(fl[8]);
	return 0;
}

/* ---- cache files ------------------------------------------------------- */

static int cache_path(char *out, size_t size, const char *dir, const folio_oid *oid)
{
	char hex[FOLIO_OID_HEXSZ + 1];

	folio_oid_tohex(hex, oid);
	return folio_path_format(out, size, "%s/%.2s/%s", dir, hex, hex + 2);
}

static int cache_read(folio_features *out, const char *path)
{
	unsigned char buf[FILE_SIZE + 1];
	ssize_t n;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (got < sizeof buf) {
		n = read(fd, buf + got, sizeof buf - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	return decode(out, buf, got);
}

static int mkdir_ok(const char *dir)
{
	return mkdir(dir, 0777) == 0 || errno == EEXIST ? 0 : -1;
}

/* Best effort: temp file in the same folder, then rename over path. The
 * folders (features_dir and its <ab>/) are made on first use; the
 * caller made features_dir's parent. */
static void cache_write(const char *path, const char *features_dir,
			const folio_features *f)
{
	static unsigned long counter; /* atomic builtins only */
	unsigned char buf[FILE_SIZE];
	char dir[FOLIO_PATH_BUF], tmp[FOLIO_PATH_SUFFIXED];
	const char *slash = strrchr(path, '/');
	size_t off = 0;
	int fd;

	if (!slash || (size_t)(slash - path) >= sizeof dir)
		return;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (folio_path_format(tmp, sizeof tmp, "%s/.tmp-%ld-%lu-%s", dir, (long)getpid(),
			      __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED), slash + 1) < 0)
		return;
	encode(buf, f);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 && errno == ENOENT) {
		mkdir_ok(features_dir);
		mkdir_ok(dir);
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	}
	if (fd < 0)
		return;
	while (off < sizeof buf) {
		ssize_t n = write(fd, buf + off, sizeof buf - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (close(fd) || off != sizeof buf || rename(tmp, path))
		unlink(tmp);
}

int folio_features_of(folio_features *out, folio_store *store,
		      const folio_oid *oid, const char *features_dir, int pixels)
{
	char path[FOLIO_PATH_BUF];
	folio_object_info info;
	void *data = NULL;
	size_t len = 0;
	int error;

	if (!out || !store || !oid)
		return folio_error_set(FOLIO_EINVAL, "features: missing argument");
	if (features_dir) {
		if ((error = cache_path(path, sizeof path, features_dir, oid)))
			return error;
		if (!cache_read(out, path) &&
		    (out->has_pixels || !pixels || !out->decodable))
			return 0;
	}
	if ((error = folio_store_stat(&info, store, oid)))
		return error;
	if (info.form == FOLIO_OBJECT_RAW) {
		error = folio_features_compute_file(out, info.path, pixels);
	} else {
		if ((error = folio_store_read_all(&data, &len, store, oid, MAX_OBJECT)))
			return error;
		error = folio_features_compute_buf(out, data, len, pixels);
		free(data);
	}
	if (error)
		return error;
	if (features_dir)
		cache_write(path, features_dir, out);
	return 0;
}

/* ---- thread pool -------------------------------------------------------- */

struct pool {
	folio_features *out;
	folio_store *store;
	const folio_oid *oids;
	size_t n;
	const char *features_dir;
	int pixels;
	void (*progress)(size_t done, void *);
	void *payload;
	size_t next;               /* atomic builtins only */
	pthread_mutex_t lock;
	size_t done;               /* guarded by lock */
	int error;                 /* guarded by lock: first failure's code */
	char message[512];         /* guarded by lock: its message */
};

static void *worker(void *arg)
{
	struct pool *p = arg;

	for (;;) {
		size_t i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED);
		int error;

		if (i >= p->n)
			break;
		error = folio_features_of(&p->out[i], p->store, &p->oids[i],
					  p->features_dir, p->pixels);
		pthread_mutex_lock(&p->lock);
		if (error && !p->error) {
			p->error = error;
			snprintf(p->message, sizeof p->message, "%s", folio_error_last());
		}
		p->done++;
		if (p->progress)
			p->progress(p->done, p->payload);
		pthread_mutex_unlock(&p->lock);
	}
	return NULL;
}

int folio_features_many(folio_features *out, folio_store *store,
			const folio_oid *oids, size_t n, const char *features_dir,
			int pixels, int threads,
			void (*progress)(size_t done, void *), void *payload)
{
	struct pool p = {
		.out = out, .store = store, .oids = oids, .n = n,
		.features_dir = features_dir, .pixels = pixels, .progress = progress,
		.payload = payload,
	};
	pthread_t *tids = NULL;
	int started = 0, error;

	if ((!out || !oids) && n)
		return folio_error_set(FOLIO_EINVAL, "features: missing argument");
	if (n == 0)
		return 0;
	if ((error = folio_analysis_init()))
		return error;
	if (threads <= 0) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);
		threads = c > 0 ? (int)c : 1;
	}
	if ((size_t)threads > n)
		threads = (int)n;
	pthread_mutex_init(&p.lock, NULL);
	if (threads > 1) {
		tids = calloc((size_t)threads, sizeof *tids);
		if (!tids) {
			pthread_mutex_destroy(&p.lock);
			return folio_error_set(FOLIO_ENOMEM, "features: out of memory");
		}
		for (; started < threads - 1; started++)
			if (pthread_create(&tids[started], NULL, worker, &p))
				break;
	}
	worker(&p); /* the calling thread works too */
	for (int i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	free(tids);
	pthread_mutex_destroy(&p.lock);
	if (p.error)
		return folio_error_set(p.error, "%s", p.message);
	return 0;
}
