/*
 * softmax.c — Softmax over one axis (opset 13): y = exp(x - max) / sum(exp(x - max)).
 *   X, Y: float32 or float64, any rank >= 1; attr axis (default -1, negative counts back).
 *   attr odet_coerce2d = 1 (older opsets): softmax over the flattened dims [axis, rank).
 *   The tensor is viewed as [outer, n, inner]; for inner == 1 rows are contiguous,
 *   otherwise columns are processed in blocks of CPU_SM_COLS along inner. Sums are
 *   accumulated in double (rows of thousands of anchors). Rows are split
 *   over the thread pool when the tensor is large.
 */
#include "backend/cpu/cpu_util.h"

#include <tgmath.h>

#define CPU_SM_COLS 64

typedef struct softmax_job {
	const void *x;
	void *y;
	int64_t n, inner;
	odet_dtype dtype;
} softmax_job;

#define DEF_SOFTMAX(S, TYPE, UTYPE)                                                            \
	static void softmax_##S(const softmax_job *j, int64_t b, int64_t e)                   \
	{                                                                                      \
		typedef TYPE T;                                                                \
		int64_t n = j->n, inner = j->inner;                                            \
		int64_t col_blocks = (inner + CPU_SM_COLS - 1) / CPU_SM_COLS;                  \
		if (inner == 1) {                                                              \
			for (int64_t o = b; o < e; o++) {                                      \
				const T *x = (const T *)j->x + o * n;                          \
				T *y = (T *)j->y + o * n, m = -INFINITY;                       \
				double s = 0;                                                  \
				for (int64_t k = 0; k < n; k++)                                \
					m = x[k] > m || x[k] != x[k] ? x[k] : m;               \
				for (int64_t k = 0; k < n; k++) {                              \
					y[k] = exp(x[k] - m);                                  \
					s += y[k];                                             \
				}                                                              \
				s = 1 / s;                                                     \
				for (int64_t k = 0; k < n; k++)                                \
					y[k] *= (T)s;                                          \
			}                                                                      \
			return;                                                                \
		}                                                                              \
		for (int64_t t = b; t < e; t++) {                                              \
			int64_t o = t / col_blocks, c0 = (t % col_blocks) * CPU_SM_COLS;        \
			int64_t w = inner - c0 < CPU_SM_COLS ? inner - c0 : CPU_SM_COLS;         \
			const T *x = (const T *)j->x + o * n * inner + c0;                     \
			T *y = (T *)j->y + o * n * inner + c0;                                 \
			T m[CPU_SM_COLS];                                                      \
			double s[CPU_SM_COLS];                                                 \
			for (int64_t c = 0; c < w; c++) {                                      \
				m[c] = -INFINITY;                                              \
				s[c] = 0;                                                      \
			}                                                                      \
			for (int64_t k = 0; k < n; k++)                                        \
				for (int64_t c = 0; c < w; c++)                                \
					m[c] = x[k * inner + c] > m[c] || x[k * inner + c] != x[k * inner + c] ? x[k * inner + c] : m[c]; \
			for (int64_t k = 0; k < n; k++)                                        \
				for (int64_t c = 0; c < w; c++) {                              \
					T v = exp(x[k * inner + c] - m[c]);                    \
					y[k * inner + c] = v;                                  \
					s[c] += v;                                             \
				}                                                              \
			for (int64_t c = 0; c < w; c++)                                        \
				s[c] = 1 / s[c];                                               \
			for (int64_t k = 0; k < n; k++)                                        \
				for (int64_t c = 0; c < w; c++)                                \
					y[k * inner + c] *= (T)s[c];                           \
		}                                                                              \
	}
CPU_FLOAT_TYPES(DEF_SOFTMAX)

static void softmax_range(void *arg, int64_t b, int64_t e, int thread)
{
	const softmax_job *j = arg;
	if (j->dtype == ODET_F32)
		softmax_F32(j, b, e);
	else
		softmax_F64(j, b, e);
}

static odet_status softmax_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	static const odet_dtype ok[] = {ODET_F32, ODET_F64, 0};
	const ir_value *x = ir_in(g, n, 0);
	int axis;
	if (!x || !ir_out(g, n, 0))
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': Softmax needs one input", n->name);
	if (x->rank >= 0 && !odet_norm_axis(ir_attr_int(n, "axis", -1), x->rank == 0 ? 1 : x->rank, &axis))
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': Softmax axis %lld out of range for rank %d",
				  n->name, (long long)ir_attr_int(n, "axis", -1), x->rank);
	return cpu_check_dtype(ctx, g, n, false, 0, ok);
}

static odet_status softmax_run(const be_run_args *a)
{
	const ir_node *nd = a->node;
	const odet_tensor *x = &a->in[0];
	int rank = x->rank, axis;
	if (!odet_norm_axis(ir_attr_int(nd, "axis", -1), rank == 0 ? 1 : rank, &axis))
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Softmax): axis out of range", nd->name);
	int64_t outer, n, inner;
	odet_dims_split_softmax(x->dims, rank, axis, ir_attr_int(nd, "odet_coerce2d", 0) != 0, &outer, &n, &inner);
	if (outer * n * inner == 0)
		return ODET_OK;
	softmax_job j = {.x = x->data, .y = a->out[0].data, .n = n, .inner = inner, .dtype = x->dtype};
	int64_t tasks = outer * ((inner + CPU_SM_COLS - 1) / CPU_SM_COLS);
	int64_t per_task = n * (inner < CPU_SM_COLS ? inner : CPU_SM_COLS);
	int64_t grain = CPU_GRAIN / per_task + 1;
	odet_parallel_for(a->pool, tasks, grain, softmax_range, &j);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_SOFTMAX = {.check = softmax_check, .run = softmax_run};
