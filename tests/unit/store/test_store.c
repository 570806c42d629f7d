/*
 * test_store.c — unit tests of the object store (core/store).
 *
 * Each test gets a fresh temp folder (/tmp/folio-store-XXXXXX) with a store
 * in objects/ inside it, removed again by the fixture. Content is generated
 * by a seeded PRNG so failures reproduce.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "../testutil.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "folio/error.h"
#include "folio/oid.h"
#include "folio/store.h"

static char root[TEST_DIR_MAX]; /* the test's temp folder */
static char objdir[300];   /* root/objects */
static char mnt[300];      /* root/mnt when a tmpfs is mounted there */
static int mounted;
static folio_store *store;

/* ---- helpers ----------------------------------------------------------- */

static void setup(void)
{
	test_mkdtemp(root, "store");
	snprintf(objdir, sizeof objdir, "%s/objects", root);
	cr_assert_eq(folio_store_open(&store, objdir, 1), 0, "%s", folio_error_last());
}

static void teardown(void)
{
	folio_store_free(store);
	store = NULL;
	if (mounted) {
		umount2(mnt, MNT_DETACH);
		mounted = 0;
	}
	test_rmtree(root);
}

TestSuite(store, .init = setup, .fini = teardown);

/* xorshift64*: deterministic filler. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static void fill_random(void *buf, size_t len, uint64_t seed)
{
	unsigned char *p = buf;
	uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;

	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = rng_next(&s);
		memcpy(p + i, &v, len - i < 8 ? len - i : 8);
	}
}

/* Text-like content that zstd shrinks a lot. */
static void fill_text(void *buf, size_t len, uint64_t seed)
{
	static const char *words[] = { "folio ", "dataset ", "version ", "image ",
		"label ", "train ", "test ", "split ", "cat ", "dog ", "\n" };
	char *p = buf;
	uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
	size_t i = 0;

	while (i < len) {
		const char *w = words[rng_next(&s) % 11];
		size_t n = strlen(w);
		if (n > len - i)
			n = len - i;
		memcpy(p + i, w, n);
		i += n;
	}
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	cr_assert_not_null(p);
	return p;
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	const char *p = data;

	cr_assert_geq(fd, 0, "open %s", path);
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		cr_assert_gt(n, 0);
		p += n;
		len -= (size_t)n;
	}
	cr_assert_eq(close(fd), 0);
}

static void path_in_root(char *out, size_t size, const char *name)
{
	snprintf(out, size, "%s/%s", root, name);
}

/* Puts data through a file in root; returns the id. */
static folio_oid put_via_file(const void *data, size_t len, int *existed)
{
	char path[400];
	folio_oid oid;
	uint64_t size = 12345;
	int ex = -1;

	path_in_root(path, sizeof path, "input.bin");
	write_file(path, data, len);
	cr_assert_eq(folio_store_put_file(&oid, &size, &ex, store, path), 0,
		     "%s", folio_error_last());
	cr_assert_eq(size, len);
	cr_assert(ex == 0 || ex == 1);
	if (existed)
		*existed = ex;
	unlink(path);
	return oid;
}

static void assert_content(const folio_oid *oid, const void *data, size_t len)
{
	void *got = NULL;
	size_t got_len = 0;

	cr_assert_eq(folio_store_read_all(&got, &got_len, store, oid, len + 10), 0,
		     "%s", folio_error_last());
	cr_assert_eq(got_len, len);
	cr_assert(len == 0 || memcmp(got, data, len) == 0);
	free(got);
	cr_assert_eq(folio_store_verify(store, oid), 0, "%s", folio_error_last());
}

static folio_object_info stat_of(const folio_oid *oid)
{
	folio_object_info info;

	cr_assert_eq(folio_store_stat(&info, store, oid), 0, "%s", folio_error_last());
	return info;
}

static int count_dir(const char *path)
{
	char cmd[600];
	FILE *f;
	int n = -1;

	snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", path);
	f = popen(cmd, "r");
	cr_assert_not_null(f);
	cr_assert_eq(fscanf(f, "%d", &n), 1);
	pclose(f);
	return n;
}

static int tmp_files(void)
{
	char path[400];

	snprintf(path, sizeof path, "%s/tmp", folio_store_path(store));
	return count_dir(path);
}

/* Flips one byte of an object's file (making it writable first). */
static void corrupt_byte(const char *path, off_t off)
{
	unsigned char c;
	int fd;

	cr_assert_eq(chmod(path, 0644), 0);
	fd = open(path, O_RDWR);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, &c, 1, off), 1);
	c ^= 0x5A;
	cr_assert_eq(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

static void sha256_of(folio_oid *out, const void *data, size_t len)
{
	cr_assert_eq(folio_hash_buf(out, data, len), 0);
}

/* ---- basic round trips ------------------------------------------------- */

Test(store, small_text_is_stored_zstd)
{
	const char *text = "hello hello hello hello hello hello hello hello "
			   "hello hello hello hello hello hello hello hello\n";
	folio_oid oid, want;
	folio_object_info info;
	struct stat st;
	size_t len = strlen(text);

	oid = put_via_file(text, len, NULL);
	sha256_of(&want, text, len);
	cr_assert_eq(folio_oid_cmp(&oid, &want), 0);
	info = stat_of(&oid);
	cr_assert_eq(info.form, FOLIO_OBJECT_ZSTD);
	cr_assert_eq(info.size, len);
	cr_assert_lt(info.stored_size, len);
	cr_assert(strstr(info.path, ".zst") != NULL);
	cr_assert_eq(stat(info.path, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0444);
	cr_assert_eq((uint64_t)st.st_size, info.stored_size);
	cr_assert_eq(folio_store_exists(store, &oid), 1);
	assert_content(&oid, text, len);
	cr_assert_eq(tmp_files(), 0);
}

Test(store, file_layout_is_sharded)
{
	const char *text = "abc";
	char hex[FOLIO_OID_HEXSZ + 1], want[600];
	folio_oid oid;
	folio_object_info info;

	cr_assert_eq(folio_store_put_buf(&oid, store, text, 3), 0);
	folio_oid_tohex(hex, &oid);
	cr_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	info = stat_of(&oid);
	cr_assert_eq(info.form, FOLIO_OBJECT_RAW); /* 3 bytes do not compress */
	snprintf(want, sizeof want, "%s/ba/7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", objdir);
	cr_assert_str_eq(info.path, want);
	cr_assert_str_eq(folio_store_path(store), objdir);
}

Test(store, random_bytes_are_stored_raw)
{
	size_t len = 100 * 1000;
	unsigned char *data = xmalloc(len);
	folio_oid oid;
	folio_object_info info;

	fill_random(data, len, 1);
	oid = put_via_file(data, len, NULL);
	info = stat_of(&oid);
	cr_assert_eq(info.form, FOLIO_OBJECT_RAW);
	cr_assert_eq(info.size, len);
	cr_assert_eq(info.stored_size, len);
	assert_content(&oid, data, len);
	cr_assert_eq(tmp_files(), 0);
	free(data);
}

Test(store, jpeg_magic_is_stored_raw_without_trying)
{
	size_t len = 50 * 1000;
	unsigned char *data = xmalloc(len);
	folio_oid oid;

	/* Very compressible, but it says it is a JPEG. */
	memset(data, 0, len);
	memcpy(data, "\xFF\xD8\xFF\xE0", 4);
	oid = put_via_file(data, len, NULL);
	cr_assert_eq(stat_of(&oid).form, FOLIO_OBJECT_RAW);
	assert_content(&oid, data, len);

	/* The same bytes without the magic are compressed. */
	data[0] = 0;
	oid = put_via_file(data, len, NULL);
	cr_assert_eq(stat_of(&oid).form, FOLIO_OBJECT_ZSTD);

	/* PNG and WebP too. */
	memcpy(data, "\x89PNG\r\n\x1A\n", 8);
	oid = put_via_file(data, len, NULL);
	cr_assert_eq(stat_of(&oid).form, FOLIO_OBJECT_RAW);
	memcpy(data, "RIFF\x10\x20\x00\x00WEBPVP8 ", 16);
	cr_assert_eq(folio_store_put_buf(&oid, store, data, len), 0);
	cr_assert_eq(stat_of(&oid).form, FOLIO_OBJECT_RAW);
	free(data);
}

Test(store, empty_file)
{
	folio_oid oid, want;
	folio_object_info info;
	void *got = NULL;
	size_t got_len = 99;

	oid = put_via_file("", 0, NULL);
	sha256_of(&want, "", 0);
	cr_assert_eq(folio_oid_cmp(&oid, &want), 0);
	info = stat_of(&oid);
	cr_assert_eq(info.form, FOLIO_OBJECT_RAW);
	cr_assert_eq(info.size, 0);
	cr_assert_eq(folio_store_read_all(&got, &got_len, store, &oid, 0), 0,
		     "%s", folio_error_last());
	cr_assert_eq(got_len, 0);
	free(got);
	cr_assert_eq(folio_store_verify(store, &oid), 0);

	/* put_buf of nothing is the same object. */
	cr_assert_eq(folio_store_put_buf(&want, store, NULL, 0), 0);
	cr_assert_eq(folio_oid_cmp(&oid, &want), 0);
}

Test(store, put_fd_starts_at_the_current_offset)
{
	char path[400];
	const char *text = "0123456789the rest";
	folio_oid oid, want;
	uint64_t size;
	int fd;

	path_in_root(path, sizeof path, "offset.txt");
	write_file(path, text, strlen(text));
	fd = open(path, O_RDONLY);
	cr_assert_eq(lseek(fd, 10, SEEK_SET), 10);
	cr_assert_eq(folio_store_put_fd(&oid, &size, NULL, store, fd, path), 0);
	close(fd);
	sha256_of(&want, text + 10, strlen(text) - 10);
	cr_assert_eq(folio_oid_cmp(&oid, &want), 0);
	cr_assert_eq(size, strlen(text) - 10);
}

/* Streams an object through a reader with the given read size and checks
 * it hashes to its id. */
static void stream_check(const folio_oid *oid, size_t bufsz, uint64_t want_size)
{
	folio_reader *r = NULL;
	folio_hash *h = NULL;
	folio_oid got;
	unsigned char *buf = xmalloc(bufsz);
	uint64_t total = 0;
	ssize_t n;

	cr_assert_eq(folio_hash_new(&h), 0);
	cr_assert_eq(folio_store_open_reader(&r, store, oid, 1), 0, "%s", folio_error_last());
	while ((n = folio_reader_read(r, buf, bufsz)) > 0) {
		folio_hash_update(h, buf, (size_t)n);
		total += (uint64_t)n;
	}
	cr_assert_eq(n, 0, "%s", folio_error_last());
	cr_assert_eq(folio_reader_read(r, buf, bufsz), 0); /* stays at the end */
	folio_hash_final(&got, h);
	cr_assert_eq(folio_oid_cmp(&got, oid), 0);
	cr_assert_eq(total, want_size);
	folio_reader_free(r);
	folio_hash_free(h);
	free(buf);
}

/* Puts data through a file, checks its id, form and size, streams it back
 * with a bufsz buffer; returns its id. */
static folio_oid put_file_checked(const unsigned char *data, size_t len,
				  folio_object_form form, size_t bufsz)
{
	folio_oid oid, want;
	folio_object_info info;

	sha256_of(&want, data, len);
	oid = put_via_file(data, len, NULL);
	cr_assert_eq(folio_oid_cmp(&oid, &want), 0);
	info = stat_of(&oid);
	cr_assert_eq(info.form, form);
	cr_assert_eq(info.size, len);
	stream_check(&oid, bufsz, len);
	return oid;
}

Test(store, big_files_stream)
{
	size_t len = 20u << 20;
	unsigned char *data = xmalloc(len);
	folio_oid oid;

	fill_text(data, len, 2);
	oid = put_file_checked(data, len, FOLIO_OBJECT_ZSTD, 100000);
	cr_assert_lt(stat_of(&oid).stored_size, len / 2);
	stream_check(&oid, (1u << 20) + 3, len);

	/* Incompressible, bigger than one chunk: raw. */
	len = 3u << 20;
	fill_random(data, len, 3);
	put_file_checked(data, len, FOLIO_OBJECT_RAW, 65536);

	/* Raw and written in several 4 MiB pieces, the last one short. */
	len = (9u << 20) + 5;
	free(data);
	data = xmalloc(len);
	fill_random(data, len, 5);
	put_file_checked(data, len, FOLIO_OBJECT_RAW, (1u << 20) + 7);
	cr_assert_eq(tmp_files(), 0);
	free(data);
}

Test(store, reader_byte_by_byte)
{
	size_t len = 5000;
	char *data = xmalloc(len);
	folio_reader *r = NULL;
	folio_oid oid;
	size_t i = 0;
	ssize_t n;
	char c;

	fill_text(data, len, 4);
	cr_assert_eq(folio_store_put_buf(&oid, store, data, len), 0);
	cr_assert_eq(stat_of(&oid).form, FOLIO_OBJECT_ZSTD);
	cr_assert_eq(folio_store_open_reader(&r, store, &oid, 1), 0);
	while ((n = folio_reader_read(r, &c, 1)) == 1) {
		cr_assert_lt(i, len);
		cr_assert_eq(c, data[i], "byte %zu", i);
		i++;
	}
	cr_assert_eq(n, 0, "%s", folio_error_last());
	cr_assert_eq(i, len);
	folio_reader_free(r);
	free(data);
}

/* ---- pipes ------------------------------------------------------------- */

struct feeder {
	int fd;
	const unsigned char *data;
	size_t len;
};

static void *feed(void *arg)
{
	struct feeder *f = arg;
	size_t off = 0;

	while (off < f->len) {
		size_t n = f->len - off < 10000 ? f->len - off : 10000;
		ssize_t w = write(f->fd, f->data + off, n);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(f->fd);
	return NULL;
}

static folio_oid put_via_pipe(const unsigned char *data, size_t len, int *existed)
{
	struct feeder f;
	pthread_t t;
	folio_oid oid;
	uint64_t size = 0;
	int fds[2];

	cr_assert_eq(pipe(fds), 0);
	f.fd = fds[1];
	f.data = data;
	f.len = len;
	cr_assert_eq(pthread_create(&t, NULL, feed, &f), 0);
	cr_assert_eq(folio_store_put_fd(&oid, &size, existed, store, fds[0], "<pipe>"), 0,
		     "%s", folio_error_last());
	pthread_join(t, NULL);
	close(fds[0]);
	cr_assert_eq(size, len);
	return oid;
}

Test(store, pipes)
{
	size_t len = 3u << 20;
	unsigned char *data = xmalloc(len);
	folio_oid oid, want;
	folio_object_info info;
	int existed = -1;

	/* Compressible and bigger than a chunk. */
	fill_text(data, len, 5);
	sha256_of(&want, data, len);
	oid = put_via_pipe(data, len, &existed);
	cr_assert_eq(folio_oid_cmp(&oid, &want), 0);
	cr_assert_eq(existed, 0);
	info = stat_of(&oid);
	cr_assert_eq(info.form, FOLIO_OBJECT_ZSTD);
	cr_assert_eq(info.size, len); /* from the frame header */
	assert_content(&oid, data, len);

	/* Again: deduplicated. */
	oid = put_via_pipe(data, len, &existed);
	cr_assert_eq(existed, 1);

	/* Incompressible. */
	fill_random(data, len, 6);
	sha256_of(&want, data, len);
	oid = put_via_pipe(data, len, &existed);
	cr_assert_eq(folio_oid_cmp(&oid, &want), 0);
	info = stat_of(&oid);
	cr_assert_eq(info.form, FOLIO_OBJECT_RAW);
	assert_content(&oid, data, len);

	/* Small (fits in one chunk), both kinds. */
	oid = put_via_pipe(data, 1000, NULL);
	cr_assert_eq(stat_of(&oid).form, FOLIO_OBJECT_RAW);
	fill_text(data, 1000, 7);
	oid = put_via_pipe(data, 1000, NULL);
	cr_assert_eq(stat_of(&oid).form, FOLIO_OBJECT_ZSTD);
	assert_content(&oid, data, 1000);
	cr_assert_eq(tmp_files(), 0);
	free(data);
}

/* ---- dedupe and concurrency -------------------------------------------- */

Test(store, dedupe_reports_existed)
{
	size_t len = 300000;
	unsigned char *data = xmalloc(len);
	folio_oid a, b;
	int existed = -1;

	fill_text(data, len, 8);
	a = put_via_file(data, len, &existed);
	cr_assert_eq(existed, 0);
	b = put_via_file(data, len, &existed);
	cr_assert_eq(existed, 1);
	cr_assert_eq(folio_oid_cmp(&a, &b), 0);
	cr_assert_eq(folio_store_put_buf(&b, store, data, len), 0);
	cr_assert_eq(folio_oid_cmp(&a, &b), 0);

	/* Already stored raw: still one object. */
	fill_random(data, 1000, 9);
	a = put_via_file(data, 1000, &existed);
	cr_assert_eq(existed, 0);
	a = put_via_file(data, 1000, &existed);
	cr_assert_eq(existed, 1);
	free(data);
}

#define NTHREADS 8

struct worker {
	int index;
	const unsigned char *shared;
	size_t shared_len;
	folio_oid shared_oid, own_oid;
	int shared_existed, own_existed;
	int err;
	char msg[256];
};

static void *work(void *arg)
{
	struct worker *w = arg;
	unsigned char own[20000];
	int err;

	fill_text(own, sizeof own, 100 + (uint64_t)w->index);
	err = folio_store_put_buf(&w->own_oid, store, own, sizeof own);
	if (err == 0) {
		/* Through a private fd, like put_file. */
		char path[400];
		int fd;
		snprintf(path, sizeof path, "%s/shared.%d", root, w->index);
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, w->shared, w->shared_len) != (ssize_t)w->shared_len ||
		    lseek(fd, 0, SEEK_SET) != 0)
			err = -100;
		else
			err = folio_store_put_fd(&w->shared_oid, NULL, &w->shared_existed,
						 store, fd, path);
		if (fd >= 0)
			close(fd);
	}
	w->err = err;
	snprintf(w->msg, sizeof w->msg, "%s", folio_error_last());
	return NULL;
}

static int count_cb(const folio_oid *oid, const folio_object_info *info, void *payload)
{
	int *counts = payload;

	(void)oid;
	counts[0]++;
	counts[info->form]++;
	return 0;
}

Test(store, concurrent_puts)
{
	pthread_t t[NTHREADS];
	struct worker w[NTHREADS];
	size_t len = 1u << 20;
	unsigned char *shared = xmalloc(len);
	int created = 0, counts[3] = { 0 };

	for (int round = 0; round < 2; round++) {
		/* Round 0 compressible, round 1 not. */
		if (round == 0)
			fill_text(shared, len, 11);
		else
			fill_random(shared, len, 12);
		created = 0;
		for (int i = 0; i < NTHREADS; i++) {
			memset(&w[i], 0, sizeof w[i]);
			w[i].index = i;
			w[i].shared = shared;
			w[i].shared_len = len;
			cr_assert_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
		}
		for (int i = 0; i < NTHREADS; i++) {
			pthread_join(t[i], NULL);
			cr_assert_eq(w[i].err, 0, "thread %d: %s", i, w[i].msg);
			cr_assert_eq(folio_oid_cmp(&w[i].shared_oid, &w[0].shared_oid), 0);
			created += !w[i].shared_existed;
		}
		cr_assert_eq(created, 1, "one writer creates it, others see it");
		assert_content(&w[0].shared_oid, shared, len);
		cr_assert_eq(stat_of(&w[0].shared_oid).form,
			     round == 0 ? FOLIO_OBJECT_ZSTD : FOLIO_OBJECT_RAW);
	}
	/* 8 own (same in both rounds) + 2 shared */
	cr_assert_eq(folio_store_foreach(store, count_cb, counts), 0);
	cr_assert_eq(counts[0], NTHREADS + 2);
	cr_assert_eq(tmp_files(), 0);
	free(shared);
}

/* ---- corruption -------------------------------------------------------- */

static void assert_corrupt(const folio_oid *oid, const char *path)
{
	void *got = NULL;
	size_t len;

	cr_assert_eq(folio_store_verify(store, oid), FOLIO_ECORRUPT, "%s", folio_error_last());
	cr_assert(strstr(folio_error_last(), path) != NULL, "message: %s", folio_error_last());
	cr_assert_eq(folio_store_read_all(&got, &len, store, oid, 1u << 30), FOLIO_ECORRUPT);
	cr_assert_null(got);
}

Test(store, corrupt_raw_object)
{
	size_t len = 10000;
	unsigned char *data = xmalloc(len);
	folio_object_info info;
	folio_reader *r = NULL;
	folio_oid oid;
	char buf[4096];
	ssize_t n;

	fill_random(data, len, 13);
	cr_assert_eq(folio_store_put_buf(&oid, store, data, len), 0);
	info = stat_of(&oid);
	cr_assert_eq(info.form, FOLIO_OBJECT_RAW);
	corrupt_byte(info.path, 5000);
	assert_corrupt(&oid, info.path);
	cr_assert(strstr(folio_error_last(), "hashes to") != NULL, "%s", folio_error_last());

	/* Without verify the reader does not notice; with it, the final
	 * read fails. */
	cr_assert_eq(folio_store_open_reader(&r, store, &oid, 0), 0);
	while ((n = folio_reader_read(r, buf, sizeof buf)) > 0)
		;
	cr_assert_eq(n, 0);
	folio_reader_free(r);
	cr_assert_eq(folio_store_open_reader(&r, store, &oid, 1), 0);
	while ((n = folio_reader_read(r, buf, sizeof buf)) > 0)
		;
	cr_assert_eq(n, FOLIO_ECORRUPT);
	cr_assert_eq(folio_reader_read(r, buf, sizeof buf), FOLIO_ECORRUPT);
	folio_reader_free(r);
	free(data);
}

Test(store, corrupt_zstd_object)
{
	size_t len = 200000;
	unsigned char *data = xmalloc(len);
	folio_object_info info;
	folio_oid oid;
	char dest[400];

	fill_text(data, len, 14);
	cr_assert_eq(folio_store_put_buf(&oid, store, data, len), 0);
	info = stat_of(&oid);
	cr_assert_eq(info.form, FOLIO_OBJECT_ZSTD);

	/* A flipped byte in the middle of the frame. */
	corrupt_byte(info.path, (off_t)info.stored_size / 2);
	assert_corrupt(&oid, info.path);

	/* Checkout notices too (zstd checksum) and leaves nothing behind. */
	path_in_root(dest, sizeof dest, "out.txt");
	cr_assert_eq(folio_store_checkout(NULL, store, &oid, dest, 0644, 1), FOLIO_ECORRUPT);
	cr_assert_neq(access(dest, F_OK), 0);
	free(data);
}

Test(store, truncated_and_garbage_zstd)
{
	size_t len = 200000;
	unsigned char *data = xmalloc(len);
	folio_object_info info;
	folio_oid oid;

	fill_text(data, len, 15);
	cr_assert_eq(folio_store_put_buf(&oid, store, data, len), 0);
	info = stat_of(&oid);
	cr_assert_eq(info.form, FOLIO_OBJECT_ZSTD);
	cr_assert_eq(chmod(info.path, 0644), 0);
	cr_assert_eq(truncate(info.path, (off_t)info.stored_size - 100), 0);
	assert_corrupt(&oid, info.path);
	cr_assert_eq(truncate(info.path, 5), 0);
	assert_corrupt(&oid, info.path);

	/* Not a frame at all. */
	write_file(info.path, "this is not zstd at all", 23);
	assert_corrupt(&oid, info.path);
	free(data);
}

Test(store, trailing_bytes_after_frame)
{
	size_t len = 5000;
	unsigned char *data = xmalloc(len);
	folio_object_info info;
	folio_oid oid;
	int fd;

	fill_text(data, len, 16);
	cr_assert_eq(folio_store_put_buf(&oid, store, data, len), 0);
	info = stat_of(&oid);
	cr_assert_eq(chmod(info.path, 0644), 0);
	fd = open(info.path, O_WRONLY | O_APPEND);
	cr_assert_eq(write(fd, "junk", 4), 4);
	close(fd);
	assert_corrupt(&oid, info.path);
	free(data);
}

/* ---- checkout ---------------------------------------------------------- */

static void assert_file(const char *path, const void *data, size_t len, mode_t mode)
{
	struct stat st;
	unsigned char *got = xmalloc(len);
	int fd = open(path, O_RDONLY);

	cr_assert_geq(fd, 0, "open %s", path);
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_eq((size_t)st.st_size, len);
	cr_assert_eq(st.st_mode & 07777, mode, "mode %o", st.st_mode & 07777);
	cr_assert_eq(read(fd, got, len), (ssize_t)len);
	cr_assert(memcmp(got, data, len) == 0);
	close(fd);
	free(got);
}

Test(store, checkout_modes)
{
	size_t len = 300000;
	unsigned char *raw = xmalloc(len), *text = xmalloc(len);
	folio_oid roid, zoid;
	folio_object_info info;
	char dest[400];
	struct stat st, obj;
	char how = 0;

	fill_random(raw, len, 17);
	fill_text(text, len, 18);
	cr_assert_eq(folio_store_put_buf(&roid, store, raw, len), 0);
	cr_assert_eq(folio_store_put_buf(&zoid, store, text, len), 0);

	/* Copy (or reflink where the file system has it). */
	path_in_root(dest, sizeof dest, "copy.bin");
	cr_assert_eq(folio_store_checkout(&how, store, &roid, dest, 0640, 0), 0,
		     "%s", folio_error_last());
	cr_assert(how == 'c' || how == 'r', "how %c", how);
	assert_file(dest, raw, len, 0640);
	info = stat_of(&roid);
	cr_assert_eq(stat(info.path, &obj), 0);
	cr_assert_eq(stat(dest, &st), 0);
	cr_assert_neq(st.st_ino, obj.st_ino);

	/* Existing destination. */
	cr_assert_eq(folio_store_checkout(&how, store, &roid, dest, 0640, 0), FOLIO_EEXISTS);
	assert_file(dest, raw, len, 0640); /* untouched */

	/* Hardlink allowed: reflink if possible, else link. */
	path_in_root(dest, sizeof dest, "link.bin");
	cr_assert_eq(folio_store_checkout(&how, store, &roid, dest, 0640, 1), 0,
		     "%s", folio_error_last());
	cr_assert(how == 'h' || how == 'r', "how %c", how);
	cr_assert_eq(stat(dest, &st), 0);
	if (how == 'h') {
		cr_assert_eq(st.st_ino, obj.st_ino);
		cr_assert_eq(st.st_mode & 07777, 0444);
	}

	/* zstd objects are decompressed, even when links are allowed. */
	path_in_root(dest, sizeof dest, "text.txt");
	cr_assert_eq(folio_store_checkout(&how, store, &zoid, dest, 0755, 1), 0,
		     "%s", folio_error_last());
	cr_assert_eq(how, 'c');
	assert_file(dest, text, len, 0755);

	/* Missing object, missing folder. */
	cr_assert_eq(folio_store_checkout(NULL, store, &zoid, "/nonexistent/dir/x", 0644, 0),
		     FOLIO_ENOTFOUND);
	free(raw);
	free(text);
}

/* ---- listing and maintenance ------------------------------------------- */

static int stop_cb(const folio_oid *oid, const folio_object_info *info, void *payload)
{
	int *n = payload;

	(void)oid;
	(void)info;
	return ++*n == 3 ? 42 : 0;
}

struct check_ctx {
	int n;
};

static int check_cb(const folio_oid *oid, const folio_object_info *info, void *payload)
{
	struct check_ctx *c = payload;
	folio_object_info again;
	struct stat st;

	cr_assert_eq(folio_store_stat(&again, store, oid), 0);
	cr_assert_eq(again.form, info->form);
	cr_assert_eq(again.size, info->size);
	cr_assert_eq(again.stored_size, info->stored_size);
	cr_assert_str_eq(again.path, info->path);
	cr_assert_eq(stat(info->path, &st), 0);
	cr_assert_eq((uint64_t)st.st_size, info->stored_size);
	if (info->form == FOLIO_OBJECT_ZSTD)
		cr_assert_eq(info->size, 4000);
	c->n++;
	return 0;
}

Test(store, foreach_counts)
{
	unsigned char data[4000];
	int counts[3] = { 0 }, n = 0;
	struct check_ctx c = { 0 };
	char junk[400];

	for (int i = 0; i < 10; i++) {
		folio_oid oid;
		if (i % 2)
			fill_text(data, sizeof data, 200 + (uint64_t)i);
		else
			fill_random(data, sizeof data, 200 + (uint64_t)i);
		cr_assert_eq(folio_store_put_buf(&oid, store, data, sizeof data), 0);
	}
	/* Things foreach must not report. */
	snprintf(junk, sizeof junk, "%s/tmp/12.34.5.tmp", objdir);
	write_file(junk, "x", 1);
	snprintf(junk, sizeof junk, "%s/ab", objdir);
	mkdir(junk, 0755);
	snprintf(junk, sizeof junk, "%s/ab/README", objdir);
	write_file(junk, "x", 1);

	cr_assert_eq(folio_store_foreach(store, count_cb, counts), 0);
	cr_assert_eq(counts[0], 10);
	cr_assert_eq(counts[FOLIO_OBJECT_RAW], 5);
	cr_assert_eq(counts[FOLIO_OBJECT_ZSTD], 5);
	cr_assert_eq(folio_store_foreach(store, check_cb, &c), 0);
	cr_assert_eq(c.n, 10);
	cr_assert_eq(folio_store_foreach(store, stop_cb, &n), 42);
	cr_assert_eq(n, 3);
}

Test(store, remove_objects)
{
	folio_oid a, b;
	int counts[3] = { 0 };
	char text[3000];

	fill_text(text, sizeof text, 300);
	cr_assert_eq(folio_store_put_buf(&a, store, text, sizeof text), 0);
	cr_assert_eq(folio_store_put_buf(&b, store, "raw", 3), 0);
	cr_assert_eq(folio_store_remove(store, &a), 0);
	cr_assert_eq(folio_store_remove(store, &b), 0);
	cr_assert_eq(folio_store_exists(store, &a), 0);
	cr_assert_eq(folio_store_exists(store, &b), 0);
	cr_assert_eq(folio_store_remove(store, &a), FOLIO_ENOTFOUND);
	cr_assert_eq(folio_store_foreach(store, count_cb, counts), 0);
	cr_assert_eq(counts[0], 0);
	/* And it can come back. */
	cr_assert_eq(folio_store_put_buf(&a, store, text, sizeof text), 0);
	assert_content(&a, text, sizeof text);
}

Test(store, clean_tmp_removes_old_files)
{
	char old[400], fresh[400];
	struct timespec times[2];

	snprintf(old, sizeof old, "%s/tmp/1.1.1.tmp", objdir);
	snprintf(fresh, sizeof fresh, "%s/tmp/2.2.2.tmp", objdir);
	write_file(old, "old", 3);
	write_file(fresh, "fresh", 5);
	clock_gettime(CLOCK_REALTIME, &times[0]);
	times[0].tv_sec -= 7200;
	times[1] = times[0];
	cr_assert_eq(utimensat(AT_FDCWD, old, times, 0), 0);

	cr_assert_eq(folio_store_clean_tmp(store, 3600), 0, "%s", folio_error_last());
	cr_assert_neq(access(old, F_OK), 0);
	cr_assert_eq(access(fresh, F_OK), 0);
	cr_assert_eq(folio_store_clean_tmp(store, 0), 0);
	cr_assert_neq(access(fresh, F_OK), 0);
}

Test(store, read_all_cap)
{
	char text[1000];
	void *got = NULL;
	size_t len = 0;
	folio_oid a, b;

	fill_text(text, sizeof text, 400);
	cr_assert_eq(folio_store_put_buf(&a, store, text, sizeof text), 0);
	fill_random(text, sizeof text, 401);
	cr_assert_eq(folio_store_put_buf(&b, store, text, sizeof text), 0);
	cr_assert_eq(stat_of(&a).form, FOLIO_OBJECT_ZSTD);
	cr_assert_eq(stat_of(&b).form, FOLIO_OBJECT_RAW);
	cr_assert_eq(folio_store_read_all(&got, &len, store, &a, 999), FOLIO_EINVAL);
	cr_assert_null(got);
	cr_assert_eq(folio_store_read_all(&got, &len, store, &b, 999), FOLIO_EINVAL);
	cr_assert_eq(folio_store_read_all(&got, &len, store, &a, 1000), 0);
	cr_assert_eq(len, 1000);
	free(got);
	cr_assert_eq(folio_store_read_all(&got, &len, store, &b, 1000), 0);
	cr_assert_eq(len, 1000);
	cr_assert(memcmp(got, text, 1000) == 0);
	free(got);
}

Test(store, missing_object)
{
	folio_oid oid;
	folio_object_info info;
	folio_reader *r = NULL;
	void *got = NULL;
	size_t len;
	char dest[400];

	cr_assert_eq(folio_oid_fromhex(&oid,
		"0000000000000000000000000000000000000000000000000000000000000001"), 0);
	cr_assert_eq(folio_store_exists(store, &oid), 0);
	cr_assert_eq(folio_store_stat(&info, store, &oid), FOLIO_ENOTFOUND);
	cr_assert(strstr(folio_error_last(), "0000000000000000000000000000000000000000000000000000000000000001") != NULL);
	cr_assert_eq(folio_store_open_reader(&r, store, &oid, 1), FOLIO_ENOTFOUND);
	cr_assert_null(r);
	cr_assert_eq(folio_store_read_all(&got, &len, store, &oid, 100), FOLIO_ENOTFOUND);
	cr_assert_eq(folio_store_verify(store, &oid), FOLIO_ENOTFOUND);
	path_in_root(dest, sizeof dest, "missing.out");
	cr_assert_eq(folio_store_checkout(NULL, store, &oid, dest, 0644, 1), FOLIO_ENOTFOUND);
	cr_assert_neq(access(dest, F_OK), 0);
	cr_assert_eq(folio_store_remove(store, &oid), FOLIO_ENOTFOUND);
}

Test(store, open_errors)
{
	folio_store *s = NULL;
	char path[400];

	path_in_root(path, sizeof path, "nope");
	cr_assert_eq(folio_store_open(&s, path, 0), FOLIO_ENOTFOUND);
	cr_assert_null(s);
	cr_assert(strstr(folio_error_last(), path) != NULL);

	/* An existing store, named with a trailing slash. */
	snprintf(path, sizeof path, "%s/", objdir);
	cr_assert_eq(folio_store_open(&s, path, 0), 0, "%s", folio_error_last());
	cr_assert_str_eq(folio_store_path(s), objdir);
	folio_store_free(s);

	/* A source file that does not exist. */
	path_in_root(path, sizeof path, "no-such-input");
	cr_assert_eq(folio_store_put_file(NULL, NULL, NULL, store, path), FOLIO_ENOTFOUND);
	cr_assert(strstr(folio_error_last(), path) != NULL);
}

/* ---- disk full --------------------------------------------------------- */

Test(store, disk_full)
{
	size_t len = 2u << 20;
	unsigned char *data = xmalloc(len);
	char objs[400], src[400], opts[] = "size=1m";
	folio_oid small, big;
	folio_store *s = NULL;
	const char *text = "a small object that fits easily a small object that fits easily\n";
	struct stat st;
	int fds[2], counts[3] = { 0 };

	snprintf(mnt, sizeof mnt, "%s/mnt", root);
	cr_assert_eq(mkdir(mnt, 0755), 0);
	if (mount("tmpfs", mnt, "tmpfs", 0, opts) != 0)
		cr_skip_test("cannot mount a tmpfs (%d); needs root", errno);
	mounted = 1;
	snprintf(objs, sizeof objs, "%s/objects", mnt);
	folio_store_free(store);
	store = NULL;
	cr_assert_eq(folio_store_open(&s, objs, 1), 0, "%s", folio_error_last());
	store = s; /* freed by the fixture before unmounting */

	cr_assert_eq(folio_store_put_buf(&small, store, text, strlen(text)), 0);

	/* A 2 MB incompressible file: the .zst attempt or the raw copy runs
	 * out of space. */
	fill_random(data, len, 500);
	path_in_root(src, sizeof src, "big-input.bin");
	write_file(src, data, len);
	cr_assert_eq(folio_store_put_file(&big, NULL, NULL, store, src), FOLIO_ENOSPC,
		     "%s", folio_error_last());
	cr_assert(strstr(folio_error_last(), src) != NULL, "%s", folio_error_last());
	cr_assert_eq(tmp_files(), 0);

	/* The same through a pipe (spooled). The feeder may write after we
	 * close the read end. */
	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(pipe(fds), 0);
	{
		struct feeder f = { fds[1], data, len };
		pthread_t t;
		cr_assert_eq(pthread_create(&t, NULL, feed, &f), 0);
		cr_assert_eq(folio_store_put_fd(&big, NULL, NULL, store, fds[0], "stdin"),
			     FOLIO_ENOSPC, "%s", folio_error_last());
		cr_assert(strstr(folio_error_last(), "stdin") != NULL, "%s", folio_error_last());
		close(fds[0]); /* lets the feeder finish */
		pthread_join(t, NULL);
	}
	cr_assert_eq(tmp_files(), 0);

	/* Compressible but still too big once compressed. */
	fill_random(data, len, 501);
	for (size_t i = 0; i < len; i++)
		data[i] &= 0x0F; /* half the entropy: ~1 MB compressed */
	cr_assert_eq(folio_store_put_buf(&big, store, data, len), FOLIO_ENOSPC,
		     "%s", folio_error_last());
	cr_assert_eq(tmp_files(), 0);

	/* What was there is intact, and the store still works. */
	cr_assert_eq(folio_store_verify(store, &small), 0, "%s", folio_error_last());
	cr_assert_eq(folio_store_foreach(store, count_cb, counts), 0);
	cr_assert_eq(counts[0], 1);
	cr_assert_eq(folio_store_put_buf(&big, store, "fits", 4), 0);
	cr_assert_eq(folio_store_verify(store, &big), 0);
	cr_assert_eq(stat(src, &st), 0);
	free(data);
}
