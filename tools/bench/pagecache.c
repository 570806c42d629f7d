/*
 * pagecache — how the page cache holds some files: which of their pages are
 * resident, and in folios of which sizes (for tools/bench/read.sh).
 *
 *   pagecache [--drop] [FILE...]
 *                             FILEs, or NUL-separated paths on stdin when
 *                             none is given (find ... -print0 | pagecache)
 *
 * Prints one line:
 *   files=N resident_kib=R folios=F mean_folio_kib=M sizes=4k:n,16k:n,...
 * With --drop it instead asks the kernel to drop the files' clean pages
 * from the page cache (posix_fadvise POSIX_FADV_DONTNEED) and prints
 * files=N dropped: a benchmark then reads every side's files back the
 * same way, so that none keeps folios from how it happened to be written.
 *
 * Why: on Linux 6.16+ ext4 keeps a file's pages in large folios (up to
 * 2 MiB) sized by the writes or the readahead that brought them in, and a
 * warm read of a file in large folios is much faster than of one in 4 KiB
 * pages. A benchmark that compares two copies of the same bytes must know
 * that both sit in the cache alike.
 *
 * How: only pages mincore() reports resident are touched (so nothing is
 * read from disk and the cache is not changed): each file is mapped
 * read-only, its resident pages are faulted in, /proc/self/pagemap gives
 * their page frame numbers and /proc/kpageflags their flags; a page with
 * the COMPOUND_TAIL flag continues the folio of the page before it. Needs
 * root (page frame numbers are hidden from other users); without it, it
 * says so and exits 2.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PFN_MASK ((UINT64_C(1) << 55) - 1)
#define PM_PRESENT (UINT64_C(1) << 63)
#define KPF_COMPOUND_TAIL 16
#define MAX_ORDER_SEEN 20

struct tally {
	uint64_t files, resident, folios;
	uint64_t by_order[MAX_ORDER_SEEN + 1]; /* folios of 2^order pages */
};

static int pagemap_fd = -1, kpageflags_fd = -1;
static long page_size;

static int order_of(uint64_t pages)
{
	int o = 0;

	while (o < MAX_ORDER_SEEN && (UINT64_C(1) << (o + 1)) <= pages)
		o++;
	return o;
}

static void close_folio(struct tally *t, uint64_t *run)
{
	if (*run) {
		t->folios++;
		t->by_order[order_of(*run)]++;
		*run = 0;
	}
}

/* Opens path read-only without touching its atime where allowed (O_NOATIME
 * needs ownership or CAP_FOWNER); prints why on failure. */
static int open_quiet(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOATIME);

	if (fd < 0 && errno == EPERM)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fprintf(stderr, "pagecache: %s: %m\n", path);
	return fd;
}

/* Adds FILE's resident pages to t; 0, or -1 after printing why. */
static int scan(struct tally *t, const char *path)
{
	struct stat st;
	unsigned char *vec = NULL;
	volatile const unsigned char *map = MAP_FAILED;
	uint64_t npages, i, run = 0;
	int fd, rc = -1;

	if ((fd = open_quiet(path)) < 0)
		return -1;
	if (fstat(fd, &st) != 0) {
		fprintf(stderr, "pagecache: %s: %m\n", path);
		goto out;
	}
	t->files++;
	if (!S_ISREG(st.st_mode) || st.st_size == 0) {
		rc = 0;
		goto out;
	}
	npages = ((uint64_t)st.st_size + (uint64_t)page_size - 1) / (uint64_t)page_size;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		fprintf(stderr, "pagecache: mapping %s: %m\n", path);
		goto out;
	}
	vec = malloc(npages);
	if (!vec || mincore((void *)map, (size_t)st.st_size, vec) != 0) {
		if (vec)
			fprintf(stderr, "pagecache: mincore of %s: %m\n", path);
		else
			fprintf(stderr, "pagecache: mincore of %s: out of memory\n", path);
		goto out;
	}
	for (i = 0; i < npages; i++) {
		uintptr_t va = (uintptr_t)map + i * (uint64_t)page_size;
		uint64_t ent, flags;

		if (!(vec[i] & 1)) {
			close_folio(t, &run);
			continue;
		}
		(void)map[i * (uint64_t)page_size]; /* fault the resident page in */
		if (pread(pagemap_fd, &ent, sizeof ent,
			  (off_t)(va / (uint64_t)page_size * sizeof ent)) != sizeof ent ||
		    !(ent & PM_PRESENT) || !(ent & PFN_MASK)) {
			fprintf(stderr, "pagecache: no page frame for %s (run as root)\n", path);
			goto out;
		}
		if (pread(kpageflags_fd, &flags, sizeof flags,
			  (off_t)((ent & PFN_MASK) * sizeof flags)) != sizeof flags) {
			fprintf(stderr, "pagecache: reading /proc/kpageflags: %m\n");
			goto out;
		}
		t->resident++;
		if (!((flags >> KPF_COMPOUND_TAIL) & 1))
			close_folio(t, &run);
		run++;
	}
	close_folio(t, &run);
	rc = 0;
out:
	free(vec);
	if (map != MAP_FAILED)
		munmap((void *)map, (size_t)st.st_size);
	close(fd);
	return rc;
}

/* Drops FILE's clean pages from the page cache; 0, or -1 after printing why. */
static int drop(struct tally *t, const char *path)
{
	int fd = open_quiet(path), err;

	if (fd < 0)
		return -1;
	t->files++;
	err = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
	if (err) {
		errno = err;
		fprintf(stderr, "pagecache: dropping %s from the page cache: %m\n", path);
		return -1;
	}
	return 0;
}

/* Reads one NUL-terminated path from stdin into *buf; 0 at the end. */
static int next_path(char **buf, size_t *cap)
{
	ssize_t n = getdelim(buf, cap, '\0', stdin);

	return n > 0;
}

int main(int argc, char **argv)
{
	struct tally t;
	char *buf = NULL;
	size_t cap = 0;
	int i, first = 1, bad = 0, dropping = 0;
	int (*each)(struct tally *, const char *) = scan;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("usage: pagecache [--drop] [FILE...]   (no FILE: NUL-separated paths on stdin)\n"
		       "Prints how many pages of the files are in the page cache and\n"
		       "the sizes of the folios that hold them (needs root). With --drop,\n"
		       "drops the files' clean pages from the page cache instead.\n");
		return 0;
	}
	memset(&t, 0, sizeof t);
	if (argc > 1 && !strcmp(argv[1], "--drop")) {
		dropping = 1;
		each = drop;
		argv++;
		argc--;
	}
	if (argc > 1 && argv[1][0] == '-') {
		fprintf(stderr, "pagecache: unknown option %s (see pagecache --help)\n", argv[1]);
		return 2;
	}
	page_size = sysconf(_SC_PAGESIZE);
	if (!dropping) {
		pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
		kpageflags_fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	}
	if (!dropping && (pagemap_fd < 0 || kpageflags_fd < 0)) {
		fprintf(stderr, "pagecache: cannot open /proc/self/pagemap and /proc/kpageflags: %m (run as root)\n");
		return 2;
	}
	if (argc > 1) {
		for (i = 1; i < argc; i++)
			bad |= each(&t, argv[i]) != 0;
	} else {
		while (next_path(&buf, &cap))
			bad |= each(&t, buf) != 0;
		free(buf);
	}
	if (dropping) {
		printf("files=%" PRIu64 " dropped\n", t.files);
		return bad ? 1 : 0;
	}
	printf("files=%" PRIu64 " resident_kib=%" PRIu64 " folios=%" PRIu64
	       " mean_folio_kib=%.1f sizes=",
	       t.files, t.resident * (uint64_t)page_size / 1024, t.folios,
	       t.folios ? (double)t.resident * (double)page_size / 1024.0 / (double)t.folios : 0.0);
	for (i = 0; i <= MAX_ORDER_SEEN; i++) {
		if (!t.by_order[i])
			continue;
		printf("%s%" PRIu64 "k:%" PRIu64, first ? "" : ",",
		       ((uint64_t)page_size << i) / 1024, t.by_order[i]);
		first = 0;
	}
	printf("%s\n", first ? "-" : "");
	return bad ? 1 : 0;
}
