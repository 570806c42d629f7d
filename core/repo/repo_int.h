/*
 * repo_int.h — what the files of core/repo share: the thread pool that
 * add.c (storing files) and fsck.c (verifying objects) run their items on.
 */
#ifndef FOLIO_REPO_INT_H
#define FOLIO_REPO_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* A message a worker left about item i, for the calling thread. */
typedef struct repo_note {
	size_t item;
	char *message;
} repo_note;

/*
 * DESIGN. n independent items, each done by one thread from start to
 * finish; the only shared state is an atomic counter handing out items,
 * the counts for progress, a flag that stops everyone after a failure,
 * and (under `lock`) the first error and a queue of notes. Workers never
 * call back into the caller: the calling thread waits on `cond`, waking
 * every 50 ms (or when the last worker ends) to hand notes and progress
 * to the caller's callbacks, so those run on one thread, in order, and
 * may print.
 */
typedef struct repo_pool {
	/* set by the caller before repo_pool_run */
	size_t n;                   /* items */
	int threads;                /* at most this many workers (>= 1) */
	/* does item i; 0, or a negative FOLIO_E* code that stops the pool
	 * (its message becomes the pool's) */
	int (*work)(struct repo_pool *p, size_t i);
	/* a note left by repo_pool_note; calling thread */
	void (*note)(struct repo_pool *p, const repo_note *n);
	/* done items of n and bytes so far; calling thread (may be NULL) */
	void (*progress)(size_t done, size_t total, uint64_t bytes, void *payload);
	void *arg;                  /* for work and note */
	void *payload;              /* for progress */

	/* shared while running */
	atomic_size_t next;         /* next item to hand out */
	atomic_size_t done;         /* items finished */
	atomic_uint_fast64_t bytes; /* workers add what they read */
	atomic_int failed;          /* set on the first failure: stop */
	pthread_mutex_t lock;       /* guards everything below */
	pthread_cond_t cond;        /* signalled when a worker ends */
	int running;                /* workers not yet ended */
	int err_rc;                 /* the first failure and its message */
	char err_msg[1024];
	repo_note *notes;           /* queued, not yet handed to note() */
	size_t nnotes, notes_cap;
} repo_pool;

/* Runs the pool to the end: 0, or the first failure's code with its
 * message set on the calling thread. */
int repo_pool_run(repo_pool *p);

/* From a worker: queues a copy of message about item i. 0 or
 * FOLIO_ENOMEM. */
int repo_pool_note(repo_pool *p, size_t i, const char *message);

#endif
