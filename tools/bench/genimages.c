/*
 * genimages — writes N distinct, deterministic, photo-like JPEG files for the
 * import benchmark (tools/bench/import.sh).
 *
 *   genimages DIR N [--size-kb KB] [--seed S] [--start K] [--stride M]
 *             [--threads T]
 *
 * Writes DIR/img_%05d.jpg for the indices K, K+M, K+2M, ... (N files).
 * Each image is a smooth multi-colour gradient with a low-frequency wave,
 * a few dozen soft-edged ellipses and rectangles, and per-pixel noise, so
 * JPEG cannot compress it to nothing yet it is not pure noise either. The
 * content depends only on (seed, index): the same arguments give the same
 * bytes, and a different seed gives new content under the same names (which
 * is how the benchmark "changes" a subset of the images).
 *
 * The resolution is 512x384 (quality 85) for --size-kb 100 and scales with
 * the square root of the requested size, which lands within a few percent of
 * it on average.
 */
#include <vips/vips.h>

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define BASE_W 640
#define BASE_H 480
#define BASE_KB 100.0
#define QUALITY 85
/* Standard deviation of the luminance noise, in 1/16 grey levels. */
#define NOISE_SD16 176
#define MAX_THREADS 64

struct job {
	const char *dir;
	uint64_t seed;
	long start, stride, count;
	int width, height;
	atomic_long next;  /* next item (0..count-1) to claim */
	atomic_long bytes; /* total bytes written */
	atomic_int failed;
};

/* splitmix64: tiny, fast, and good enough for pictures. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

static double rng_range(uint64_t *s, double lo, double hi)
{
	return lo + (hi - lo) * rng_unit(s);
}

static unsigned char clamp_u8(double v)
{
	if (v <= 0.0)
		return 0;
	if (v >= 255.0)
		return 255;
	return (unsigned char)(v + 0.5);
}

/* Fills an RGB buffer of w*h*3 bytes for image number idx. tab holds
 * 2*(w+h) doubles of scratch space. */
static void paint(unsigned char *px, int w, int h, uint64_t seed, long idx, double *tab)
{
	uint64_t s = seed * 0x2545F4914F6CDD1Dull ^ (uint64_t)idx * 0x9E3779B97F4A7C15ull;
	double corner[4][3];
	double *sx = tab, *cx_ = tab + w, *sy = tab + 2 * w, *cy_ = tab + 2 * w + h;

	/* Warm up the generator so close seeds diverge. */
	for (int i = 0; i < 4; i++)
		rng_next(&s);

	for (int c = 0; c < 4; c++)
		for (int k = 0; k < 3; k++)
			corner[c][k] = rng_range(&s, 20, 235);
	double wave_fx = rng_range(&s, 0.5, 4.0) * 2 * M_PI / w;
	double wave_fy = rng_range(&s, 0.5, 4.0) * 2 * M_PI / h;
	double wave_ph = rng_range(&s, 0, 2 * M_PI);
	double wave_amp[3];
	for (int k = 0; k < 3; k++)
		wave_amp[k] = rng_range(&s, 5, 30);

	/* sin(a + b) = sin a cos b + cos a sin b: two small tables instead of
	 * one sin() per pixel. */
	for (int x = 0; x < w; x++) {
		sx[x] = sin(x * wave_fx + wave_ph);
		cx_[x] = cos(x * wave_fx + wave_ph);
	}
	for (int y = 0; y < h; y++) {
		sy[y] = sin(y * wave_fy);
		cy_[y] = cos(y * wave_fy);
	}

	/* Background: bilinear gradient between four corner colours + a wave. */
	for (int y = 0; y < h; y++) {
		double fy = (double)y / (h - 1);
		double left[3], right[3];
		for (int k = 0; k < 3; k++) {
			left[k] = corner[0][k] * (1 - fy) + corner[2][k] * fy;
			right[k] = corner[1][k] * (1 - fy) + corner[3][k] * fy;
		}
		unsigned char *p = px + (size_t)y * w * 3;
		for (int x = 0; x < w; x++, p += 3) {
			double fx = (double)x / (w - 1);
			double wave = sx[x] * cy_[y] + cx_[x] * sy[y];
			for (int k = 0; k < 3; k++)
				p[k] = clamp_u8(left[k] + (right[k] - left[k]) * fx + wave_amp[k] * wave);
		}
	}

	/* Shapes: soft-edged ellipses and rectangles, alpha-blended. */
	int nshapes = 10 + (int)(rng_next(&s) % 20);
	for (int i = 0; i < nshapes; i++) {
		int ellipse = rng_next(&s) & 1;
		double cx = rng_range(&s, 0, w), cy = rng_range(&s, 0, h);
		double rx = rng_range(&s, w * 0.03, w * 0.2);
		double ry = rng_range(&s, h * 0.03, h * 0.2);
		double alpha = rng_range(&s, 0.35, 0.9);
		double soft = rng_range(&s, 1.0, 6.0); /* edge width in pixels */
		double col[3];
		for (int k = 0; k < 3; k++)
			col[k] = rng_range(&s, 0, 255);
		int x0 = (int)fmax(0, cx - rx - soft), x1 = (int)fmin(w - 1, cx + rx + soft);
		int y0 = (int)fmax(0, cy - ry - soft), y1 = (int)fmin(h - 1, cy + ry + soft);
		double rmin = fmin(rx, ry), irx2 = 1.0 / (rx * rx), iry2 = 1.0 / (ry * ry);
		for (int y = y0; y <= y1; y++) {
			double dy = y - cy;
			for (int x = x0; x <= x1; x++) {
				double dx = x - cx, dist;
				if (ellipse) {
					/* Approximate signed distance (in pixels) to the edge. */
					dist = (sqrt(dx * dx * irx2 + dy * dy * iry2) - 1.0) * rmin;
				} else {
					dist = fmax(fabs(dx) - rx, fabs(dy) - ry);
				}
				double a = alpha * fmin(1.0, 0.5 - dist / soft);
				if (a <= 0.0)
					continue;
				unsigned char *p = px + ((size_t)y * w + x) * 3;
				for (int k = 0; k < 3; k++)
					p[k] = (unsigned char)(p[k] + (col[k] - p[k]) * a + 0.5);
			}
		}
	}

	/* Sensor-like noise: a per-row luminance offset, per-pixel luminance
	 * noise (sum of four uniforms: roughly Gaussian) and a little chroma
	 * noise. Integer arithmetic, 1/16 grey-level units. */
	for (int y = 0; y < h; y++) {
		int rown = (int)(rng_next(&s) % 65) - 32;
		unsigned char *p = px + (size_t)y * w * 3;
		for (int x = 0; x < w; x++, p += 3) {
			uint64_t r = rng_next(&s), r2 = rng_next(&s);
			/* sum of four U(0, 65535) has mean 131070, sd ~37837 */
			int64_t g = (int64_t)(r & 0xffff) + (int64_t)((r >> 16) & 0xffff) +
				    (int64_t)((r >> 32) & 0xffff) + (int64_t)(r >> 48) - 131070;
			int lum = (int)(g * NOISE_SD16 / 37837) + rown;
			for (int k = 0; k < 3; k++) {
				int chroma = (int)((r2 >> (16 * k)) & 0xff) / 4 - 32; /* +-2 levels */
				int v = p[k] * 16 + lum + chroma;
				p[k] = v <= 0 ? 0 : v >= 255 * 16 ? 255 : (unsigned char)((v + 8) >> 4);
			}
		}
	}
}

static int write_one(const struct job *j, long idx, unsigned char *px, double *tab)
{
	char path[4096];
	VipsImage *img;
	struct stat st;

	paint(px, j->width, j->height, j->seed, idx, tab);
	img = vips_image_new_from_memory(px, (size_t)j->width * j->height * 3, j->width,
					 j->height, 3, VIPS_FORMAT_UCHAR);
	if (!img)
		return -1;
	snprintf(path, sizeof path, "%s/img_%05ld.jpg", j->dir, idx);
	int rc = vips_jpegsave(img, path, "Q", QUALITY, "strip", TRUE, NULL);
	g_object_unref(img);
	if (rc == 0 && stat(path, &st) == 0)
		atomic_fetch_add(&((struct job *)j)->bytes, (long)st.st_size);
	return rc;
}

static void *worker(void *arg)
{
	struct job *j = arg;
	unsigned char *px = malloc((size_t)j->width * j->height * 3);
	double *tab = malloc(2 * ((size_t)j->width + j->height) * sizeof(double));
	if (!px || !tab) {
		free(px);
		free(tab);
		atomic_store(&j->failed, 1);
		return NULL;
	}
	for (;;) {
		if (atomic_load(&j->failed))
			break;
		long i = atomic_fetch_add(&j->next, 1);
		if (i >= j->count)
			break;
		if (write_one(j, j->start + i * j->stride, px, tab) != 0) {
			fprintf(stderr, "genimages: image %ld: %s\n", j->start + i * j->stride,
				vips_error_buffer());
			atomic_store(&j->failed, 1);
		}
		vips_thread_shutdown();
	}
	free(px);
	free(tab);
	return NULL;
}

/* mkdir -p */
static int mkdir_p(const char *dir)
{
	char buf[4096];
	struct stat st;

	if (strlen(dir) >= sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, dir, strlen(dir) + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0777) != 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0777) != 0 && errno != EEXIST)
		return -1;
	if (stat(buf, &st) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: genimages DIR N [--size-kb KB] [--seed S] [--start K] "
			"[--stride M] [--threads T]\n"
			"  writes DIR/img_%%05d.jpg for indices K, K+M, ... (N files)\n");
	exit(2);
}

static long parse_long(const char *s, const char *what, long min)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min) {
		fprintf(stderr, "genimages: bad %s: %s\n", what, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct job j = { .seed = 1, .start = 0, .stride = 1 };
	const char *pos[2];
	int npos = 0;
	double size_kb = BASE_KB;
	long threads = 0;

	if (VIPS_INIT(argv[0]))
		vips_error_exit("genimages: cannot start libvips");

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			usage();
		if (strncmp(a, "--", 2) == 0) {
			if (i + 1 >= argc)
				usage();
			const char *v = argv[++i];
			if (strcmp(a, "--size-kb") == 0)
				size_kb = (double)parse_long(v, "--size-kb", 1);
			else if (strcmp(a, "--seed") == 0)
				j.seed = (uint64_t)parse_long(v, "--seed", 0);
			else if (strcmp(a, "--start") == 0)
				j.start = parse_long(v, "--start", 0);
			else if (strcmp(a, "--stride") == 0)
				j.stride = parse_long(v, "--stride", 1);
			else if (strcmp(a, "--threads") == 0)
				threads = parse_long(v, "--threads", 1);
			else
				usage();
		} else if (npos < 2) {
			pos[npos++] = a;
		} else {
			usage();
		}
	}
	if (npos != 2)
		usage();
	j.dir = pos[0];
	j.count = parse_long(pos[1], "N", 0);
	if (j.start + (j.count > 0 ? j.count - 1 : 0) * j.stride > 99999)
		fprintf(stderr, "genimages: warning: indices above 99999 get longer names\n");

	double scale = sqrt(size_kb / BASE_KB);
	j.width = (int)lround(BASE_W * scale);
	j.height = (int)lround(BASE_H * scale);
	if (j.width < 16)
		j.width = 16;
	if (j.height < 12)
		j.height = 12;

	if (mkdir_p(j.dir) != 0) {
		perror(j.dir);
		return 1;
	}

	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n < 1 ? 1 : n > 4 ? 4 : n;
	}
	if (threads > MAX_THREADS)
		threads = MAX_THREADS;
	/* We parallelise over images; keep libvips from adding its own pool. */
	vips_concurrency_set(1);

	pthread_t tid[MAX_THREADS];
	long started = 0;
	for (long t = 0; t < threads; t++) {
		if (pthread_create(&tid[t], NULL, worker, &j) != 0) {
			fprintf(stderr, "genimages: pthread_create failed\n");
			atomic_store(&j.failed, 1);
			break;
		}
		started++;
	}
	for (long t = 0; t < started; t++)
		pthread_join(tid[t], NULL);

	if (atomic_load(&j.failed))
		return 1;
	long total = atomic_load(&j.bytes);
	fprintf(stderr, "genimages: wrote %ld files (%dx%d q%d), %.1f MB, mean %.1f KB\n", j.count,
		j.width, j.height, QUALITY, total / 1e6,
		j.count ? total / 1024.0 / j.count : 0.0);
	vips_shutdown();
	return 0;
}
