/*
 * nodes.c — the inode table: a sharded hash map from inode number to node,
 * plus logging and errno translation shared by both sessions.
 *
 * Inode numbers are 64-bit hashes (see fs.h); a table entry is created the
 * first time a lookup or readdirplus hands a number to the kernel and stays
 * until the daemon exits, so any number the kernel holds resolves.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"

#define SHARDS 64

void fs_log(const char *fmt, ...)
{
	char buf[1024], when[32];
	va_list ap;
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s.%03ldZ foliofs[%ld] %s\n", when, ts.tv_nsec / 1000000,
		(long)getpid(), buf);
}

const char *fs_errstr(int err)
{
	static _Thread_local char buf[128];

	return strerror_r(err, buf, sizeof buf); /* GNU: returns the message */
}

int fs_errno(int code)
{
	switch (code) {
	case 0: return 0;
	case FOLIO_ENOTFOUND: return ENOENT;
	case FOLIO_EEXISTS: return EEXIST;
	case FOLIO_EINVAL: return EINVAL;
	case FOLIO_ECORRUPT: return EIO;
	case FOLIO_ENOSPC: return ENOSPC;
	case FOLIO_ELOCKED: return EBUSY;
	case FOLIO_ENOMEM: return ENOMEM;
	case FOLIO_EACCES: return EACCES;
	default: return EIO;
	}
}

/* 64-bit FNV-1a variant with a final mix; good spread, cheap. */
uint64_t fs_hash(const void *data, size_t len, uint64_t seed)
{
	uint64_t h = folio_fnv1a(data, len, seed);

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

node *fs_node_new(uint64_t ino, node_type type)
{
	node *n = calloc(1, sizeof *n);

	if (!n)
		return NULL;
	n->ino = ino;
	n->type = type;
	n->fd = -1;
	pthread_mutex_init(&n->fd_lock, NULL);
	return n;
}

static void node_free(node *n)
{
	if (n->fd >= 0)
		close(n->fd);
	pthread_mutex_destroy(&n->fd_lock);
	free(n->name);
	free(n);
}

node *fs_node_get(fs *f, uint64_t ino)
{
	size_t s = ino % SHARDS;
	node *n = NULL;

	pthread_mutex_lock(&f->nodes_lock[s]);
	if (f->nbuckets[s]) {
		n = f->buckets[s][(ino / SHARDS) % f->nbuckets[s]];
		while (n && n->ino != ino)
			n = n->next;
	}
	pthread_mutex_unlock(&f->nodes_lock[s]);
	return n;
}

static int grow(fs *f, size_t s)
{
	size_t nb = f->nbuckets[s] ? f->nbuckets[s] * 2 : 256;
	node **b = calloc(nb, sizeof *b);

	if (!b)
		return -1;
	for (size_t i = 0; i < f->nbuckets[s]; i++) {
		node *n = f->buckets[s][i];
		while (n) {
			node *next = n->next;
			size_t k = (n->ino / SHARDS) % nb;
			n->next = b[k];
			b[k] = n;
			n = next;
		}
	}
	free(f->buckets[s]);
	f->buckets[s] = b;
	f->nbuckets[s] = nb;
	return 0;
}

node *fs_node_put(fs *f, node *n)
{
	size_t s = n->ino % SHARDS;
	node *cur;

	pthread_mutex_lock(&f->nodes_lock[s]);
	if (f->nnodes[s] >= f->nbuckets[s] && grow(f, s) < 0 && !f->nbuckets[s]) {
		pthread_mutex_unlock(&f->nodes_lock[s]);
		node_free(n);
		return NULL;
	}
	size_t k = (n->ino / SHARDS) % f->nbuckets[s];
	for (cur = f->buckets[s][k]; cur; cur = cur->next)
		if (cur->ino == n->ino)
			break;
	if (!cur) {
		n->next = f->buckets[s][k];
		f->buckets[s][k] = n;
		f->nnodes[s]++;
		cur = n;
		n = NULL;
	}
	pthread_mutex_unlock(&f->nodes_lock[s]);
	if (n)
		node_free(n);
	return cur;
}

void fs_nodes_clear(fs *f)
{
	for (size_t s = 0; s < SHARDS; s++) {
		for (size_t i = 0; i < f->nbuckets[s]; i++) {
			node *n = f->buckets[s][i];
			while (n) {
				node *next = n->next;
				node_free(n);
				n = next;
			}
		}
		free(f->buckets[s]);
		f->buckets[s] = NULL;
		f->nbuckets[s] = f->nnodes[s] = 0;
	}
}
