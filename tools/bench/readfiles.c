/*
 * readfiles — the reader of the read benchmark (tools/bench/read.sh).
 *
 *   readfiles [-j THREADS] [--seed S] [--no-hash] DIR...
 *   readfiles [-j THREADS] [--seed S] [--no-hash] --list FILE [DIR]
 *   readfiles --stat-list DIR
 *
 * Read mode: reads every regular file under each DIR (recursively), or every
 * path named in FILE (one path per line, relative to DIR, default "."), fully
 * and exactly once: open, read(2) into a 256 KiB buffer until end of file,
 * close. The files are taken in a shuffled order: the relative paths are
 * sorted and then shuffled by a seeded PRNG, so the same set of relative paths
 * and the same seed give the same order on every file system. THREADS
 * threads (default 1) pull the next file from a shared atomic index. Only
 * the reading is timed (not the walk or the list).
 *
 * Each file's content is hashed on the fly (a 4-lane Fletcher-style sum of
 * 64-bit words, much faster than the copy out of the page cache) together
 * with its relative path; the per-file hashes are added up, so the total
 * does not depend on the order or the thread count, and two file systems
 * that hold the same bytes under the same names print the same hash.
 * --no-hash skips it.
 *
 * Stat mode: opendir/readdir of one folder (names kept, like `ls -l`),
 * then fstatat(AT_SYMLINK_NOFOLLOW) of every entry; times both. The hash
 * covers each entry's name, file type and size.
 *
 * Output: one line of key=value pairs on stdout, e.g.
 *   files=20000 bytes=2003... seconds=1.234 files_per_s=16207.5
 *   MB_per_s=1623.45 threads=8 hash=0123456789abcdef errors=0
 *   entries=100000 list_seconds=... stat_seconds=... seconds=...
 *   entries_per_s=... hash=... errors=0
 * Exit status: 0 if every file was read (or stat'ed), 1 on any error, 2 on
 * bad usage.
 */
#include <dirent.h>
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
#include <time.h>
#include <unistd.h>

#define BUF_SIZE (256 * 1024)
#define MAX_THREADS 256

/* ---- small helpers --------------------------------------------------- */

static _Noreturn void die_oom(void)
{
	fputs("readfiles: out of memory\n", stderr);
	exit(1);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		die_oom();
	return p;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		die_oom();
	return d;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static const char *errstr(int e, char *buf, size_t n)
{
	/* GNU strerror_r returns the message (maybe not in buf). */
	return strerror_r(e, buf, n);
}

/* splitmix64's finaliser: a good 64-bit mixer. */
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

/* FNV-1a over a string. */
static uint64_t str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* ---- content hash ---------------------------------------------------- */

/*
 * A streaming 4-lane Fletcher sum over little-endian 64-bit words: lane k
 * sees words k, k+4, k+8, ...; a[k] += w, b[k] += a[k] (mod 2^64). The
 * b sums depend on the position of every word, so reordered or changed
 * content changes the result. Independent of how the reads split the file.
 */
struct chash {
	uint64_t a[4], b[4];
	uint64_t len;
	unsigned char pend[32];
	size_t npend;
};

static void chash_init(struct chash *h)
{
	memset(h, 0, sizeof(*h));
}

static void chash_blocks(struct chash *h, const unsigned char *p, size_t nblocks)
{
	uint64_t a0 = h->a[0], a1 = h->a[1], a2 = h->a[2], a3 = h->a[3];
	uint64_t b0 = h->b[0], b1 = h->b[1], b2 = h->b[2], b3 = h->b[3];
	for (size_t i = 0; i < nblocks; i++, p += 32) {
		uint64_t w[4];
		memcpy(w, p, sizeof(w));
		a0 += w[0];
		a1 += w[1];
		a2 += w[2];
		a3 += w[3];
		b0 += a0;
		b1 += a1;
		b2 += a2;
		b3 += a3;
	}
	h->a[0] = a0;
	h->a[1] = a1;
	h->a[2] = a2;
	h->a[3] = a3;
	h->b[0] = b0;
	h->b[1] = b1;
	h->b[2] = b2;
	h->b[3] = b3;
}

static void chash_update(struct chash *h, const unsigned char *p, size_t n)
{
	h->len += n;
	if (h->npend) {
		size_t take = 32 - h->npend;
		if (take > n)
			take = n;
		memcpy(h->pend + h->npend, p, take);
		h->npend += take;
		p += take;
		n -= take;
		if (h->npend < 32)
			return;
		chash_blocks(h, h->pend, 1);
		h->npend = 0;
	}
	chash_blocks(h, p, n / 32);
	p += n / 32 * 32;
	n %= 32;
	memcpy(h->pend, p, n);
	h->npend = n;
}

static uint64_t chash_final(struct chash *h)
{
	if (h->npend) {
		memset(h->pend + h->npend, 0, 32 - h->npend);
		chash_blocks(h, h->pend, 1);
	}
	uint64_t r = mix64(h->len);
	for (int k = 0; k < 4; k++) {
		r = mix64(r ^ h->a[k]);
		r = mix64(r ^ h->b[k]);
	}
	return r;
}

/* ---- file list ------------------------------------------------------- */

struct entry {
	char *rel;  /* path relative to its root */
	int root;   /* index into roots[] */
};

struct list {
	struct entry *v;
	size_t n, cap;
};

static void list_add(struct list *l, const char *rel, int root)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n].rel = xstrdup(rel);
	l->v[l->n].root = root;
	l->n++;
}

static int entry_cmp(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;
	int c = strcmp(a->rel, b->rel);
	if (c)
		return c;
	return (a->root > b->root) - (a->root < b->root);
}

/* Collects the regular files under dirfd/rel (rel "" is the root itself). */
static int walk(int rootfd, const char *rel, int root, struct list *l)
{
	char eb[128];
	int fd = rel[0] ? openat(rootfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
	                : dup(rootfd);
	if (fd < 0) {
		fprintf(stderr, "readfiles: %s: %s\n", rel, errstr(errno, eb, sizeof(eb)));
		return -1;
	}
	DIR *d = fdopendir(fd);
	if (!d) {
		fprintf(stderr, "readfiles: %s: %s\n", rel, errstr(errno, eb, sizeof(eb)));
		close(fd);
		return -1;
	}
	/* fdopendir on a dup shares the offset with rootfd: rewind. */
	rewinddir(d);
	int rc = 0;
	struct dirent *de;
	size_t rl = strlen(rel);
	char *path = NULL;
	size_t pcap = 0;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		size_t need = rl + 1 + strlen(de->d_name) + 1;
		if (need > pcap) {
			pcap = need * 2;
			path = xrealloc(path, pcap);
		}
		if (rl)
			snprintf(path, pcap, "%s/%s", rel, de->d_name);
		else
			snprintf(path, pcap, "%s", de->d_name);
		unsigned char type = de->d_type;
		if (type == DT_UNKNOWN) {
			struct stat st;
			if (fstatat(rootfd, path, &st, AT_SYMLINK_NOFOLLOW) != 0) {
				fprintf(stderr, "readfiles: %s: %s\n", path,
				        errstr(errno, eb, sizeof(eb)));
				rc = -1;
				continue;
			}
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
		}
		if (type == DT_DIR) {
			if (walk(rootfd, path, root, l) != 0)
				rc = -1;
		} else if (type == DT_REG) {
			list_add(l, path, root);
		}
	}
	free(path);
	closedir(d);
	return rc;
}

static int read_list_file(const char *file, struct list *l)
{
	char eb[128];
	FILE *f = strcmp(file, "-") ? fopen(file, "re") : stdin;
	if (!f) {
		fprintf(stderr, "readfiles: %s: %s\n", file, errstr(errno, eb, sizeof(eb)));
		return -1;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, f)) > 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0)
			continue;
		const char *p = line;
		while (p[0] == '.' && p[1] == '/')
			p += 2;
		list_add(l, p, 0);
	}
	free(line);
	int bad = ferror(f);
	if (f != stdin)
		fclose(f);
	if (bad) {
		fprintf(stderr, "readfiles: %s: read error\n", file);
		return -1;
	}
	return 0;
}

/* ---- the readers ----------------------------------------------------- */

struct shared {
	const struct list *files;
	const int *rootfds;
	int hash;
	atomic_size_t next;
	atomic_uint_fast64_t bytes;
	atomic_uint_fast64_t sum;
	atomic_size_t errors;
};

static void *reader(void *arg)
{
	struct shared *s = arg;
	unsigned char *buf;
	char eb[128];
	if (posix_memalign((void **)&buf, 4096, BUF_SIZE) != 0)
		die_oom();
	uint64_t bytes = 0, sum = 0;
	size_t errors = 0;
	for (;;) {
		size_t i = atomic_fetch_add_explicit(&s->next, 1, memory_order_relaxed);
		if (i >= s->files->n)
			break;
		const struct entry *e = &s->files->v[i];
		int fd = openat(s->rootfds[e->root], e->rel, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			fprintf(stderr, "readfiles: open %s: %s\n", e->rel,
			        errstr(errno, eb, sizeof(eb)));
			errors++;
			continue;
		}
		struct chash h;
		chash_init(&h);
		for (;;) {
			ssize_t n = read(fd, buf, BUF_SIZE);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				fprintf(stderr, "readfiles: read %s: %s\n", e->rel,
				        errstr(errno, eb, sizeof(eb)));
				errors++;
				break;
			}
			if (n == 0)
				break;
			bytes += (uint64_t)n;
			if (s->hash)
				chash_update(&h, buf, (size_t)n);
		}
		close(fd);
		if (s->hash)
			sum += mix64(chash_final(&h) ^ str_hash(e->rel));
	}
	free(buf);
	atomic_fetch_add(&s->bytes, bytes);
	atomic_fetch_add(&s->sum, sum);
	atomic_fetch_add(&s->errors, errors);
	return NULL;
}

/* ---- stat mode ------------------------------------------------------- */

static int stat_list(const char *dir)
{
	char eb[128];
	char **names = NULL;
	size_t n = 0, cap = 0, errors = 0;
	uint64_t sum = 0;

	double t0 = now_s();
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "readfiles: %s: %s\n", dir, errstr(errno, eb, sizeof(eb)));
		return 1;
	}
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xstrdup(de->d_name);
	}
	if (errno) {
		fprintf(stderr, "readfiles: readdir %s: %s\n", dir, errstr(errno, eb, sizeof(eb)));
		errors++;
	}
	double t1 = now_s();
	int dfd = dirfd(d);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0) {
			fprintf(stderr, "readfiles: stat %s/%s: %s\n", dir, names[i],
			        errstr(errno, eb, sizeof(eb)));
			errors++;
			continue;
		}
		sum += mix64(str_hash(names[i]) ^ mix64((uint64_t)st.st_size) ^
		             (uint64_t)(st.st_mode & S_IFMT));
	}
	closedir(d);
	double t2 = now_s();

	double secs = t2 - t0;
	printf("entries=%zu list_seconds=%.6f stat_seconds=%.6f seconds=%.6f "
	       "entries_per_s=%.1f hash=%016" PRIx64 " errors=%zu\n",
	       n, t1 - t0, t2 - t1, secs, secs > 0 ? (double)n / secs : 0.0, sum, errors);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return errors ? 1 : 0;
}

/* ---- main ------------------------------------------------------------ */

static _Noreturn void usage(void)
{
	fputs("usage: readfiles [-j THREADS] [--seed S] [--no-hash] DIR...\n"
	      "       readfiles [-j THREADS] [--seed S] [--no-hash] --list FILE [DIR]\n"
	      "       readfiles --stat-list DIR\n",
	      stderr);
	exit(2);
}

static long parse_long(const char *s, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	long threads = 1;
	uint64_t seed = 1;
	const char *listfile = NULL, *statdir = NULL;
	int hash = 1;
	const char **dirs = NULL;
	int ndirs = 0;

	dirs = xrealloc(NULL, (size_t)argc * sizeof(*dirs));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if ((!strcmp(a, "-j") || !strcmp(a, "--threads")) && i + 1 < argc)
			threads = parse_long(argv[++i], 1, MAX_THREADS);
		else if (!strncmp(a, "-j", 2) && a[2])
			threads = parse_long(a + 2, 1, MAX_THREADS);
		else if (!strcmp(a, "--seed") && i + 1 < argc)
			seed = (uint64_t)parse_long(argv[++i], 0, LONG_MAX);
		else if (!strcmp(a, "--list") && i + 1 < argc)
			listfile = argv[++i];
		else if (!strcmp(a, "--stat-list") && i + 1 < argc)
			statdir = argv[++i];
		else if (!strcmp(a, "--no-hash"))
			hash = 0;
		else if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			usage();
		else if (a[0] == '-' && a[1])
			usage();
		else
			dirs[ndirs++] = a;
	}

	if (statdir) {
		if (ndirs || listfile)
			usage();
		free(dirs);
		return stat_list(statdir);
	}
	if (listfile ? ndirs > 1 : ndirs < 1)
		usage();
	if (listfile && ndirs == 0)
		dirs[ndirs++] = ".";

	char eb[128];
	int *rootfds = xrealloc(NULL, (size_t)ndirs * sizeof(*rootfds));
	for (int r = 0; r < ndirs; r++) {
		rootfds[r] = open(dirs[r], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (rootfds[r] < 0) {
			fprintf(stderr, "readfiles: %s: %s\n", dirs[r], errstr(errno, eb, sizeof(eb)));
			for (int q = 0; q < r; q++)
				close(rootfds[q]);
			free(rootfds);
			free(dirs);
			return 1;
		}
	}

	struct list files = { 0 };
	int bad = 0;
	if (listfile) {
		bad = read_list_file(listfile, &files) != 0;
	} else {
		for (int r = 0; r < ndirs && !bad; r++)
			bad = walk(rootfds[r], "", r, &files) != 0;
	}
	/* On a bad list nothing is read (no threads start); cleanup still runs. */

	/* Sorted, then a seeded Fisher-Yates shuffle: same paths, same order. */
	if (files.n)
		qsort(files.v, files.n, sizeof(*files.v), entry_cmp);
	uint64_t rs = mix64(seed ^ 0x5EEDull);
	for (size_t i = files.n; i > 1; i--) {
		size_t j = (size_t)(((unsigned __int128)rng_next(&rs) * i) >> 64);
		struct entry t = files.v[i - 1];
		files.v[i - 1] = files.v[j];
		files.v[j] = t;
	}

	struct shared s = { .files = &files, .rootfds = rootfds, .hash = hash };
	atomic_init(&s.next, 0);
	atomic_init(&s.bytes, 0);
	atomic_init(&s.sum, 0);
	atomic_init(&s.errors, 0);

	pthread_t tid[MAX_THREADS];
	double t0 = now_s();
	long started = 0;
	for (long t = 0; t < threads && !bad; t++) {
		int e = pthread_create(&tid[t], NULL, reader, &s);
		if (e) {
			fprintf(stderr, "readfiles: pthread_create: %s\n", errstr(e, eb, sizeof(eb)));
			atomic_fetch_add(&s.errors, 1);
			break;
		}
		started++;
	}
	for (long t = 0; t < started; t++)
		pthread_join(tid[t], NULL);
	double secs = now_s() - t0;

	uint64_t bytes = atomic_load(&s.bytes);
	size_t errors = atomic_load(&s.errors) + (size_t)bad;
	if (!bad)
			printf("files=%zu bytes=%" PRIu64 " seconds=%.6f files_per_s=%.1f MB_per_s=%.2f "
		       "threads=%ld hash=%016" PRIx64 " errors=%zu\n",
		       files.n, bytes, secs, secs > 0 ? (double)files.n / secs : 0.0,
		       secs > 0 ? (double)bytes / 1e6 / secs : 0.0, started,
		       hash ? (uint64_t)atomic_load(&s.sum) : (uint64_t)0, errors);

	for (size_t i = 0; i < files.n; i++)
		free(files.v[i].rel);
	free(files.v);
	for (int r = 0; r < ndirs; r++)
		close(rootfds[r]);
	free(rootfds);
	free(dirs);
	return errors ? 1 : 0;
}
