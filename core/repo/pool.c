/*
 * pool.c — the one thread pool of core/repo (repo_int.h has the design):
 * storing files for add and import, verifying objects for fsck.
 *
 * Both workloads are many independent items of disk I/O and hashing, so
 * the pool is the simplest that keeps every thread busy: an atomic counter
 * hands out items in order, and nothing is shared per item. Progress and
 * messages go back through the calling thread, which otherwise sleeps.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "folio/error.h"
#include "repo_int.h"

#define POLL_NS (50 * 1000 * 1000)

int repo_pool_note(repo_pool *p, size_t i, const char *message)
{
	char *m = strdup(message);
	int rc = 0;

	pthread_mutex_lock(&p->lock);
	if (m && p->nnotes == p->notes_cap) {
		size_t cap = p->notes_cap ? p->notes_cap * 2 : 16;
		repo_note *v = realloc(p->notes, cap * sizeof *v);
		if (v) {
			p->notes = v;
			p->notes_cap = cap;
		}
	}
	if (m && p->nnotes < p->notes_cap) {
		p->notes[p->nnotes].item = i;
		p->notes[p->nnotes++].message = m;
	} else {
		free(m);
		rc = folio_error_set(FOLIO_ENOMEM, "out of memory");
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

static void *worker(void *arg)
{
	repo_pool *p = arg;

	while (!atomic_load(&p->failed)) {
		size_t i = atomic_fetch_add(&p->next, 1);
		if (i >= p->n)
			break;
		int rc = p->work(p, i);
		if (rc < 0) {
			pthread_mutex_lock(&p->lock);
			if (!p->err_rc) {
				p->err_rc = rc;
				snprintf(p->err_msg, sizeof p->err_msg, "%s", folio_error_last());
			}
			pthread_mutex_unlock(&p->lock);
			atomic_store(&p->failed, 1);
			break;
		}
		atomic_fetch_add(&p->done, 1);
	}
	pthread_mutex_lock(&p->lock);
	p->running--;
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Hands queued notes and progress to the caller (calling thread, lock not
 * held while the callbacks run). */
static void report(repo_pool *p)
{
	repo_note *v;
	size_t n;

	pthread_mutex_lock(&p->lock);
	v = p->notes;
	n = p->nnotes;
	p->notes = NULL;
	p->nnotes = p->notes_cap = 0;
	pthread_mutex_unlock(&p->lock);
	for (size_t k = 0; k < n; k++) {
		if (p->note)
			p->note(p, &v[k]);
		free(v[k].message);
	}
	free(v);
	if (p->progress)
		p->progress(atomic_load(&p->done), p->n, atomic_load(&p->bytes), p->payload);
}

int repo_pool_run(repo_pool *p)
{
	pthread_t *threads = NULL;
	int started = 0, want = p->threads < 1 ? 1 : p->threads, rc = 0;

	atomic_init(&p->next, 0);
	atomic_init(&p->done, 0);
	atomic_init(&p->bytes, 0);
	atomic_init(&p->failed, 0);
	p->err_rc = 0;
	p->err_msg[0] = '\0';
	p->notes = NULL;
	p->nnotes = p->notes_cap = 0;
	if ((size_t)want > p->n)
		want = p->n ? (int)p->n : 1;
	if (pthread_mutex_init(&p->lock, NULL) != 0)
		return folio_error_set(FOLIO_ERROR, "cannot make a mutex");
	if (pthread_cond_init(&p->cond, NULL) != 0) {
		pthread_mutex_destroy(&p->lock);
		return folio_error_set(FOLIO_ERROR, "cannot make a condition variable");
	}
	if (p->n && (threads = calloc((size_t)want, sizeof *threads))) {
		pthread_mutex_lock(&p->lock);
		for (; started < want; started++)
			if (pthread_create(&threads[started], NULL, worker, p) != 0)
				break;
		p->running = started;
		pthread_mutex_unlock(&p->lock);
	}
	if (started == 0 && p->n) {
		/* no thread could start (or no memory for their ids): do the
		 * work here, still correct, only slower */
		p->running = 1;
		worker(p);
	}
	pthread_mutex_lock(&p->lock);
	while (p->running > 0) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += POLL_NS;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&p->cond, &p->lock, &ts);
		if (p->running > 0) {
			pthread_mutex_unlock(&p->lock);
			report(p);
			pthread_mutex_lock(&p->lock);
		}
	}
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	report(p);
	if (p->err_rc)
		rc = folio_error_set(p->err_rc, "%s", p->err_msg);
	free(threads);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	return rc;
}
