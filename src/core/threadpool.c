/*
 * threadpool.c — a fixed set of worker threads running one parallel_for at a time.
 * The caller thread takes chunk 0; workers take the rest. A parallel_for issued while
 * another is running (nested, or from a second thread) runs serially on the caller.
 */
#include "core.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct odet_threadpool {
	int n;                 /* threads including the caller */
	pthread_t *threads;
	pthread_mutex_t mu;
	pthread_cond_t work_cv, done_cv;
	atomic_int busy;       /* a parallel_for is in progress */
	/* current job */
	uint64_t generation;
	odet_range_fn fn;
	void *arg;
	int64_t n_items, chunk;
	int n_chunks;
	atomic_int next_chunk;
	int pending;           /* workers still running this generation */
	int stop;
};

static void run_chunks(odet_threadpool *p, int thread)
{
	for (;;) {
		int c = atomic_fetch_add(&p->next_chunk, 1);
		if (c >= p->n_chunks)
			break;
		int64_t b = (int64_t)c * p->chunk;
		int64_t e = b + p->chunk < p->n_items ? b + p->chunk : p->n_items;
		p->fn(p->arg, b, e, thread);
	}
}

static void *worker(void *arg)
{
	odet_threadpool *p = arg;
	pthread_mutex_lock(&p->mu);
	int thread = 0;
	for (int i = 1; i < p->n; i++)
		if (pthread_equal(p->threads[i - 1], pthread_self()))
			thread = i;
	uint64_t seen = 0; /* workers exist before the first job (generation 0) */
	for (;;) {
		while (!p->stop && p->generation == seen)
			pthread_cond_wait(&p->work_cv, &p->mu);
		if (p->stop)
			break;
		seen = p->generation;
		pthread_mutex_unlock(&p->mu);
		run_chunks(p, thread);
		pthread_mutex_lock(&p->mu);
		if (--p->pending == 0)
			pthread_cond_signal(&p->done_cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

odet_status odet_threadpool_create(int n_threads, odet_threadpool **out)
{
	odet_threadpool *p = calloc(1, sizeof *p);
	if (!p)
		return ODET_ERR_NO_MEMORY;
	p->n = n_threads < 1 ? 1 : n_threads;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work_cv, NULL);
	pthread_cond_init(&p->done_cv, NULL);
	atomic_init(&p->busy, 0);
	atomic_init(&p->next_chunk, 0);
	if (p->n > 1) {
		p->threads = calloc((size_t)p->n - 1, sizeof *p->threads);
		if (!p->threads) {
			free(p);
			return ODET_ERR_NO_MEMORY;
		}
		pthread_mutex_lock(&p->mu);
		for (int i = 0; i < p->n - 1; i++) {
			if (pthread_create(&p->threads[i], NULL, worker, p) != 0) {
				p->n = i + 1;
				break;
			}
		}
		pthread_mutex_unlock(&p->mu);
	}
	*out = p;
	return ODET_OK;
}

void odet_threadpool_destroy(odet_threadpool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->n - 1; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->work_cv);
	pthread_cond_destroy(&p->done_cv);
	pthread_mutex_destroy(&p->mu);
	free(p->threads);
	free(p);
}

int odet_threadpool_size(const odet_threadpool *p)
{
	return p ? p->n : 1;
}

void odet_parallel_for(odet_threadpool *p, int64_t n, int64_t grain, odet_range_fn fn, void *arg)
{
	if (n <= 0)
		return;
	if (grain < 1)
		grain = 1;
	int expect = 0;
	if (!p || p->n == 1 || n <= grain || !atomic_compare_exchange_strong(&p->busy, &expect, 1)) {
		fn(arg, 0, n, 0);
		return;
	}
	int64_t chunks = (n + grain - 1) / grain;
	if (chunks > p->n)
		chunks = p->n;
	pthread_mutex_lock(&p->mu);
	p->fn = fn;
	p->arg = arg;
	p->n_items = n;
	p->chunk = (n + chunks - 1) / chunks;
	p->n_chunks = (int)((n + p->chunk - 1) / p->chunk);
	atomic_store(&p->next_chunk, 0);
	p->pending = p->n - 1;
	p->generation++;
	pthread_cond_broadcast(&p->work_cv);
	pthread_mutex_unlock(&p->mu);
	run_chunks(p, 0);
	pthread_mutex_lock(&p->mu);
	while (p->pending > 0)
		pthread_cond_wait(&p->done_cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
	atomic_store(&p->busy, 0);
}
