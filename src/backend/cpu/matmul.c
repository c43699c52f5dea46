/*
 * matmul.c — MatMul (ONNX opset 13): numpy matmul on f32. A [..., M, K], B [..., K, N];
 * a 1-D A is [1, K] and a 1-D B is [K, 1] with that dim dropped from Y; batch dims broadcast
 * (numpy rules). Y's dims come from shape inference and are checked. Per batch element
 * one sgemm: threaded inside sgemm when there are few batches, over batches otherwise.
 */
#include "backend/cpu/cpu.h"
#include "backend/cpu/sgemm.h"

typedef struct mm_shape {
	int rb;                          /* batch rank of Y */
	int64_t bdims[ODET_MAX_RANK];    /* Y batch dims */
	int64_t astr[ODET_MAX_RANK], bstr[ODET_MAX_RANK]; /* element strides per batch dim, 0 = broadcast */
	int64_t m, n, k, batch;
} mm_shape;

static odet_status mm_shape_of(odet_ctx *ctx, const ir_node *node, int ra, const int64_t *ad, int rbk,
			       const int64_t *bd, int ry, const int64_t *yd, mm_shape *s)
{
	if (ra < 1 || rbk < 1)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': MatMul on a scalar", node->name);
	int64_t m = ra == 1 ? 1 : ad[ra - 2], k = ad[ra - 1];
	int64_t kb = rbk == 1 ? bd[0] : bd[rbk - 2], n = rbk == 1 ? 1 : bd[rbk - 1];
	if (k != kb)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': MatMul inner dims %lld and %lld differ",
				  node->name, (long long)k, (long long)kb);
	int bra = ra > 2 ? ra - 2 : 0, brb = rbk > 2 ? rbk - 2 : 0;
	s->rb = bra > brb ? bra : brb;
	s->m = m;
	s->n = n;
	s->k = k;
	s->batch = 1;
	int64_t sa = m * k, sb = k * n;
	for (int i = s->rb - 1; i >= 0; i--) {
		int ia = i - (s->rb - bra), ib = i - (s->rb - brb);
		int64_t da = ia >= 0 ? ad[ia] : 1, db = ib >= 0 ? bd[ib] : 1;
		if (da != db && da != 1 && db != 1)
			return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': MatMul batch dims do not broadcast",
					  node->name);
		s->bdims[i] = da > db ? da : db;
		if (da == 0 || db == 0)
			s->bdims[i] = 0;
		s->astr[i] = da == 1 ? 0 : sa;
		s->bstr[i] = db == 1 ? 0 : sb;
		sa *= da;
		sb *= db;
		s->batch *= s->bdims[i];
	}
	/* expected Y: batch dims, then M (unless A 1-D), then N (unless B 1-D) */
	int64_t want[ODET_MAX_RANK + 2];
	int rw = 0;
	for (int i = 0; i < s->rb; i++)
		want[rw++] = s->bdims[i];
	if (ra > 1)
		want[rw++] = m;
	if (rbk > 1)
		want[rw++] = n;
	bool ok = rw == ry;
	for (int i = 0; ok && i < rw; i++)
		ok = want[i] == yd[i];
	if (!ok)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': MatMul output shape does not match inputs",
				  node->name);
	return ODET_OK;
}

static odet_status mm_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *a = ir_in(g, n, 0), *b = ir_in(g, n, 1), *y = ir_out(g, n, 0);
	if (!a || !b || !y)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': MatMul needs A, B and Y", n->name);
	if (a->dtype != ODET_F32 || b->dtype != ODET_F32 || y->dtype != ODET_F32)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': MatMul on %s (only float32 on CPU)",
				  n->name, odet_dtype_name(a->dtype != ODET_F32 ? a->dtype : b->dtype));
	if (!ir_value_shape_known(a) || !ir_value_shape_known(b) || !ir_value_shape_known(y))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': MatMul with unknown shapes", n->name);
	mm_shape s;
	return mm_shape_of(ctx, n, a->rank, a->dims, b->rank, b->dims, y->rank, y->dims, &s);
}

static odet_status mm_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state,
			      size_t *workspace)
{
	*workspace = cpu_sgemm_workspace(ctx->opts.n_threads);
	return ODET_OK;
}

typedef struct mm_job {
	const mm_shape *s;
	const float *a, *b;
	float *y;
	char *ws;
} mm_job;

static void mm_one(const mm_job *j, int64_t t, cpu_sgemm_args *g)
{
	const mm_shape *s = j->s;
	int64_t oa = 0, ob = 0, rest = t;
	for (int i = s->rb - 1; i >= 0; i--) {
		int64_t idx = rest % s->bdims[i];
		rest /= s->bdims[i];
		oa += idx * s->astr[i];
		ob += idx * s->bstr[i];
	}
	*g = (cpu_sgemm_args){
		.m = s->m, .n = s->n, .k = s->k, .alpha = 1, .beta = 0,
		.a = j->a + oa, .lda = s->k, .b = j->b + ob, .ldb = s->n,
		.c = j->y + t * s->m * s->n, .ldc = s->n,
	};
}

static void mm_range(void *arg, int64_t begin, int64_t end, int thread)
{
	const mm_job *j = arg;
	void *slot = j->ws + (size_t)thread * cpu_sgemm_workspace(1);
	for (int64_t t = begin; t < end; t++) {
		cpu_sgemm_args g;
		mm_one(j, t, &g);
		cpu_sgemm_serial(&g, slot);
	}
}

static odet_status mm_run(const be_run_args *a)
{
	mm_shape s;
	odet_status rc = mm_shape_of(a->ctx, a->node, a->in[0].rank, a->in[0].dims, a->in[1].rank, a->in[1].dims,
				     a->out[0].rank, a->out[0].dims, &s);
	if (rc)
		return rc;
	mm_job j = {.s = &s, .a = a->in[0].data, .b = a->in[1].data, .y = a->out[0].data, .ws = a->workspace};
	int nt = odet_threadpool_size(a->pool);
	if (s.batch >= 2 * nt) {
		odet_parallel_for(a->pool, s.batch, 1, mm_range, &j);
		return ODET_OK;
	}
	for (int64_t t = 0; t < s.batch; t++) {
		cpu_sgemm_args g;
		mm_one(&j, t, &g);
		cpu_sgemm(a->pool, &g, a->workspace);
	}
	return ODET_OK;
}

const cpu_kernel cpu_kernel_MATMUL = {
	.check = mm_check,
	.prepare = mm_prepare,
	.run = mm_run,
};
