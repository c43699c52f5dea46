/* bench_core.c — the engine benchmark (bench_core.h). Uses odet.h only. */
#include "bench_core.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double bench_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + 1e-6 * (double)ts.tv_nsec;
}

static void fill(odet_tensor *t, uint64_t *seed)
{
	int64_t n = odet_tensor_numel(t);
	for (int64_t i = 0; i < n; i++) {
		*seed = *seed * 6364136223846793005ull + 1442695040888963407ull;
		uint32_t r = (uint32_t)(*seed >> 33);
		float f = 0.05f + (float)(r & 0xffff) / 65536.0f;
		if (r & 0x10000)
			f = -f;
		int64_t k = 1 + (int64_t)(r % 3);
		switch (t->dtype) {
		case ODET_F32: ((float *)t->data)[i] = f; break;
		case ODET_F16: ((uint16_t *)t->data)[i] = odet_f32_to_f16(f); break;
		case ODET_F64: ((double *)t->data)[i] = f; break;
		case ODET_I64: ((int64_t *)t->data)[i] = k; break;
		case ODET_I32: ((int32_t *)t->data)[i] = (int32_t)k; break;
		case ODET_U8: ((uint8_t *)t->data)[i] = (uint8_t)(1 + r % 255); break;
		case ODET_BOOL: ((uint8_t *)t->data)[i] = 1; break;
		default: memset((char *)t->data + (size_t)i * odet_dtype_size(t->dtype), 1, odet_dtype_size(t->dtype));
		}
	}
}

odet_status bench_setup(odet_engine *e, int n_slots, bench *b)
{
	uint64_t seed = 0x0de7;
	odet_status rc;
	memset(b, 0, sizeof *b);
	b->e = e;
	if ((rc = odet_engine_describe(e, &b->d)))
		return rc;
	b->gpu = b->d.events;
	b->n_in = odet_engine_num_inputs(e);
	b->n_out = odet_engine_num_outputs(e);
	b->n_slots = b->gpu ? n_slots : 1;
	for (int s = 0; s < BENCH_BUFFERS; s++) {
		if (!(b->in[s] = calloc((size_t)b->n_in + 1, sizeof(odet_tensor))))
			return ODET_ERR_NO_MEMORY;
		for (int i = 0; i < b->n_in; i++) {
			odet_engine_input_info(e, i, NULL, &b->in[s][i]);
			size_t bytes = (size_t)odet_tensor_numel(&b->in[s][i]) * odet_dtype_size(b->in[s][i].dtype);
			if ((rc = odet_host_alloc(e, bytes, &b->in[s][i].data)))
				return rc;
			fill(&b->in[s][i], &seed);
		}
	}
	for (int k = 0; k < b->n_slots; k++) {
		bench_slot *sl = &b->slot[k];
		if (!(sl->out = calloc((size_t)b->n_out + 1, sizeof(odet_tensor))))
			return ODET_ERR_NO_MEMORY;
		for (int i = 0; i < b->n_out; i++) {
			odet_engine_output_info(e, i, NULL, &sl->out[i]);
			size_t bytes = (size_t)odet_tensor_numel(&sl->out[i]) * odet_dtype_size(sl->out[i].dtype);
			if ((rc = odet_host_alloc(e, bytes, &sl->out[i].data)))
				return rc;
		}
		if ((rc = odet_exec_create(e, &sl->x)))
			return rc;
	}
	return ODET_OK;
}

void bench_free(bench *b)
{
	for (int k = 0; k < b->n_slots; k++) {
		bench_slot *sl = &b->slot[k];
		odet_exec_destroy(sl->x); /* waits for a batch in flight */
		for (int i = 0; sl->out && i < b->n_out; i++)
			odet_host_free(b->e, sl->out[i].data);
		free(sl->out);
	}
	for (int s = 0; s < BENCH_BUFFERS; s++) {
		for (int i = 0; b->in[s] && i < b->n_in; i++)
			odet_host_free(b->e, b->in[s][i].data);
		free(b->in[s]);
	}
}

odet_status bench_slot_finish(bench *b, int k, bench_timing *t, bool *got)
{
	bench_slot *sl = &b->slot[k];
	*got = false;
	if (!sl->inflight)
		return ODET_OK;
	sl->inflight = false;
	odet_exec_timing tm;
	odet_status rc = odet_exec_wait(sl->x, &tm);
	if (rc)
		return rc;
	t->h2d_ms = tm.h2d_ms;
	t->compute_ms = tm.compute_ms;
	t->d2h_ms = tm.d2h_ms;
	t->total_ms = tm.total_ms;
	*got = true;
	return ODET_OK;
}

/* One batch. CPU: inputs host → engine, run, outputs engine → host, timed on the host.
 * GPU: the next slot's previous batch is waited for (its times reported), then this batch
 * is enqueued on that slot without waiting. */
odet_status bench_iteration(bench *b, long iter, bench_timing *t, bool *got)
{
	int set = (int)(iter % BENCH_BUFFERS);
	if (!b->gpu) {
		double t0 = bench_now_ms();
		odet_status rc = odet_exec_infer(b->slot[0].x, b->in[set], b->n_in, b->slot[0].out, b->n_out);
		t->total_ms = bench_now_ms() - t0;
		t->h2d_ms = t->compute_ms = t->d2h_ms = 0;
		*got = true;
		return rc;
	}
	int k = (int)(iter % b->n_slots);
	odet_status rc = bench_slot_finish(b, k, t, got);
	if (rc)
		return rc;
	bench_slot *sl = &b->slot[k];
	const odet_exec *after = b->ordered && b->n_slots > 1 ? b->slot[(k + b->n_slots - 1) % b->n_slots].x : NULL;
	if ((rc = odet_exec_submit(sl->x, b->in[set], b->n_in, sl->out, b->n_out, after)))
		return rc;
	sl->inflight = true;
	return ODET_OK;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double percentile(const double *sorted, size_t n, double p)
{
	size_t i = (size_t)ceil(p / 100.0 * (double)n);
	return sorted[i ? i - 1 : 0];
}

odet_status bench_measure(bench *b, long warmup, double duration, bench_result *r)
{
	odet_status rc = ODET_OK;
	double *lat = NULL;
	memset(r, 0, sizeof *r);
	bench_timing t;
	bool got;
	/* warm-up: every slot runs at least twice (the second run captures its graph) */
	long nwarm = warmup > 2L * b->n_slots ? warmup : 2L * b->n_slots;
	for (long i = 0; i < nwarm; i++)
		if ((rc = bench_iteration(b, i, &t, &got)))
			goto out;
	for (int k = 0; k < b->n_slots; k++)
		if ((rc = bench_slot_finish(b, k, &t, &got)))
			goto out;
	size_t cap = 1024, count = 0, launched = 0;
	if (!(lat = malloc(4 * cap * sizeof *lat))) {
		rc = ODET_ERR_NO_MEMORY;
		goto out;
	}
	double start = bench_now_ms(), end = start + duration * 1e3, stop;
	bool draining = false;
	for (long i = 0;; i++) {
		stop = bench_now_ms();
		if (!draining && stop >= end)
			draining = true;
		if (draining) {
			/* collect the batches still in flight */
			int k = (int)(i % b->n_slots);
			if (!b->gpu || launched == count)
				break;
			rc = bench_slot_finish(b, k, &t, &got);
		} else {
			rc = bench_iteration(b, i, &t, &got);
			launched++;
		}
		if (rc)
			goto out;
		if (!got)
			continue;
		if (count == cap) {
			/* four series of cap values each: move the upper three to their new offsets */
			double *nl = realloc(lat, 2 * 4 * cap * sizeof *lat);
			if (!nl) {
				rc = ODET_ERR_NO_MEMORY;
				goto out;
			}
			lat = nl;
			for (int k = 3; k >= 1; k--)
				memmove(lat + 2 * k * cap, lat + k * cap, (size_t)count * sizeof *lat);
			cap *= 2;
		}
		lat[count] = t.total_ms;
		lat[cap + count] = t.h2d_ms;
		lat[2 * cap + count] = t.compute_ms;
		lat[3 * cap + count] = t.d2h_ms;
		count++;
	}
	stop = bench_now_ms();
	if (!count) {
		rc = odet_error(NULL, ODET_ERR_INTERNAL, "bench: no batch completed");
		goto out;
	}
	double wall_s = (stop - start) / 1e3;
	double st[4][4]; /* [total,h2d,compute,d2h][min,p50,p90,p99] */
	for (int c = 0; c < 4; c++) {
		double *col = lat + (size_t)c * cap;
		qsort(col, count, sizeof *col, cmp_double);
		st[c][0] = col[0];
		st[c][1] = percentile(col, count, 50);
		st[c][2] = percentile(col, count, 90);
		st[c][3] = percentile(col, count, 99);
	}
	r->runs = count;
	r->warmup = nwarm;
	r->wall_s = wall_s;
	r->images_per_s = (double)count * b->d.batch / wall_s;
	memcpy(r->st, st, sizeof st);
out:
	free(lat);
	return rc;
}
