/*
 * genfiles — writes N deterministic files for the read benchmark
 * (tools/bench/read.sh).
 *
 *   genfiles DIR N (--size BYTES | --min BYTES --max BYTES) [--text]
 *            [--seed S] [--prefix P] [--suffix S] [--threads T]
 *
 * Writes DIR/<P><index><S> for index 0..N-1 (the index zero-padded to at
 * least 5 digits, more when N needs them; default P "file_", S ".bin").
 * Each file's size is BYTES, or uniform in [MIN, MAX]. The content depends
 * only on (seed, index):
 *   default  pseudo-random bytes (splitmix64): incompressible, so stores
 *            that compress keep them as they are;
 *   --text   lines like object-detection labels ("3 0.512345 0.274512
 *            0.100000 0.203125"), padded with spaces to the exact size.
 * BYTES may end in k or M (KiB, MiB). No fsync: the caller syncs.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_THREADS 64
/* Writes of up to 4 MiB, as folio's store writes a big raw object: ext4
 * sizes page-cache folios by the write, so the native files and folio's
 * object files sit in the cache in folios of the same sizes (read.sh
 * prints them) and neither side of a ratio gets bigger folios. */
#define CHUNK (4 * 1024 * 1024)

struct job {
	const char *dir, *prefix, *suffix;
	long count;
	int digits, text;
	uint64_t seed, min, max;
	atomic_long next;
	atomic_uint_fast64_t bytes;
	atomic_int failed;
};

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint64_t rng_next(uint64_t *s)
{
	return mix64(*s += 0x9E3779B97F4A7C15ull);
}

static void fill_random(unsigned char *p, size_t n, uint64_t *s)
{
	while (n >= 8) {
		uint64_t v = rng_next(s);
		memcpy(p, &v, 8);
		p += 8;
		n -= 8;
	}
	if (n) {
		uint64_t v = rng_next(s);
		memcpy(p, &v, n);
	}
}

/* Label-like text of exactly n bytes (n small: at most CHUNK). */
static void fill_text(unsigned char *p, size_t n, uint64_t *s)
{
	size_t off = 0;
	for (;;) {
		char line[96];
		uint64_t r = rng_next(s);
		int len = snprintf(line, sizeof(line), "%u %.6f %.6f %.6f %.6f\n",
		                   (unsigned)(r % 80), (double)((r >> 8) % 1000000) / 1e6,
		                   (double)((r >> 28) % 1000000) / 1e6,
		                   (double)(rng_next(s) % 500000) / 1e6,
		                   (double)(rng_next(s) % 500000) / 1e6);
		if (len <= 0 || off + (size_t)len > n)
			break;
		memcpy(p + off, line, (size_t)len);
		off += (size_t)len;
	}
	if (off < n) {
		memset(p + off, ' ', n - off);
		p[n - 1] = '\n';
	}
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void *worker(void *arg)
{
	struct job *j = arg;
	unsigned char *buf = malloc(CHUNK);
	char path[PATH_MAX], eb[128];
	uint64_t bytes = 0;
	if (!buf) {
		atomic_store(&j->failed, 1);
		return NULL;
	}
	for (;;) {
		long i = atomic_fetch_add(&j->next, 1);
		if (i >= j->count || atomic_load(&j->failed))
			break;
		uint64_t s = mix64(j->seed * 0x9E3779B97F4A7C15ull ^ mix64((uint64_t)i + 1));
		uint64_t size = j->min;
		if (j->max > j->min)
			size += rng_next(&s) % (j->max - j->min + 1);
		int pn = snprintf(path, sizeof(path), "%s/%s%0*ld%s", j->dir, j->prefix,
		                  j->digits, i, j->suffix);
		if (pn < 0 || (size_t)pn >= sizeof(path)) {
			fprintf(stderr, "genfiles: path too long\n");
			atomic_store(&j->failed, 1);
			break;
		}
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0) {
			fprintf(stderr, "genfiles: %s: %s\n", path, strerror_r(errno, eb, sizeof(eb)));
			atomic_store(&j->failed, 1);
			break;
		}
		uint64_t left = size;
		int bad = 0;
		if (j->text && size > CHUNK) {
			fprintf(stderr, "genfiles: --text files are at most %d bytes\n", CHUNK);
			bad = 1;
		}
		while (!bad && left) {
			size_t n = left > CHUNK ? CHUNK : (size_t)left;
			if (j->text)
				fill_text(buf, n, &s);
			else
				fill_random(buf, n, &s);
			if (write_all(fd, buf, n) != 0) {
				fprintf(stderr, "genfiles: write %s: %s\n", path,
				        strerror_r(errno, eb, sizeof(eb)));
				bad = 1;
			}
			left -= n;
		}
		if (close(fd) != 0 && !bad) {
			fprintf(stderr, "genfiles: close %s: %s\n", path, strerror_r(errno, eb, sizeof(eb)));
			bad = 1;
		}
		if (bad) {
			atomic_store(&j->failed, 1);
			break;
		}
		bytes += size;
	}
	free(buf);
	atomic_fetch_add(&j->bytes, bytes);
	return NULL;
}

static _Noreturn void usage(void)
{
	fputs("usage: genfiles DIR N (--size BYTES | --min BYTES --max BYTES) [--text]\n"
	      "                [--seed S] [--prefix P] [--suffix S] [--threads T]\n",
	      stderr);
	exit(2);
}

static uint64_t parse_u64(const char *s, int sizes)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		usage();
	if (sizes && (*end == 'k' || *end == 'K')) {
		v *= 1024;
		end++;
	} else if (sizes && *end == 'M') {
		v *= 1024 * 1024;
		end++;
	}
	if (*end)
		usage();
	return (uint64_t)v;
}

int main(int argc, char **argv)
{
	struct job j = { .prefix = "file_", .suffix = ".bin", .seed = 1 };
	long threads = 2;
	int have_size = 0, have_min = 0, have_max = 0;
	const char *pos[2];
	int npos = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		int more = i + 1 < argc;
		if (!strcmp(a, "--size") && more) {
			j.min = j.max = parse_u64(argv[++i], 1);
			have_size = 1;
		} else if (!strcmp(a, "--min") && more) {
			j.min = parse_u64(argv[++i], 1);
			have_min = 1;
		} else if (!strcmp(a, "--max") && more) {
			j.max = parse_u64(argv[++i], 1);
			have_max = 1;
		} else if (!strcmp(a, "--text")) {
			j.text = 1;
		} else if (!strcmp(a, "--seed") && more) {
			j.seed = parse_u64(argv[++i], 0);
		} else if (!strcmp(a, "--prefix") && more) {
			j.prefix = argv[++i];
		} else if (!strcmp(a, "--suffix") && more) {
			j.suffix = argv[++i];
		} else if (!strcmp(a, "--threads") && more) {
			uint64_t t = parse_u64(argv[++i], 0);
			if (t < 1 || t > MAX_THREADS)
				usage();
			threads = (long)t;
		} else if (a[0] == '-' && a[1]) {
			usage();
		} else if (npos < 2) {
			pos[npos++] = a;
		} else {
			usage();
		}
	}
	if (npos != 2 || !(have_size ^ (have_min && have_max)) || (have_size && (have_min || have_max)))
		usage();
	if (j.max < j.min)
		usage();
	uint64_t n = parse_u64(pos[1], 0);
	if (n > 100000000)
		usage();
	j.dir = pos[0];
	j.count = (long)n;
	j.digits = 5;
	for (uint64_t lim = 100000; n > lim; lim *= 10)
		j.digits++;
	atomic_init(&j.next, 0);
	atomic_init(&j.bytes, 0);
	atomic_init(&j.failed, 0);

	char eb[128];
	if (mkdir(j.dir, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "genfiles: %s: %s\n", j.dir, strerror_r(errno, eb, sizeof(eb)));
		return 1;
	}
	pthread_t tid[MAX_THREADS];
	long started = 0;
	for (long t = 0; t < threads; t++) {
		if (pthread_create(&tid[t], NULL, worker, &j) != 0) {
			atomic_store(&j.failed, 1);
			break;
		}
		started++;
	}
	for (long t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	if (atomic_load(&j.failed))
		return 1;
	fprintf(stderr, "genfiles: wrote %ld files, %" PRIu64 " bytes to %s\n", j.count,
	        (uint64_t)atomic_load(&j.bytes), j.dir);
	return 0;
}
