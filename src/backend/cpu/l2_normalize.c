/*
 * l2_normalize.c — L2Normalize (ops.def): y = x / d * scale[c], d = max'(sqrt(sum_c x^2), eps)
 *   over the dim at attr axis (max' keeps a NaN norm); float32 or float16 data (widened on
 *   load, one rounding on store), scale float32/float16. The sum runs over c in order.
 *   Workspace: one float per inner position (the dims after the axis).
 */
#include "backend/cpu/cpu_util.h"

#include <math.h>

typedef struct l2n_geom {
	int64_t outer, c, inner;
} l2n_geom;

static bool geom(const ir_graph *g, const ir_node *n, l2n_geom *q)
{
	const ir_value *x = ir_in(g, n, 0);
	int axis;
	if (!x || x->rank < 1 || !ir_value_shape_known(x) || !odet_norm_axis(ir_attr_int(n, "axis", 1), x->rank, &axis))
		return false;
	odet_dims_split(x->dims, x->rank, axis, &q->outer, &q->inner);
	q->c = x->dims[axis];
	return true;
}

static float ld(odet_dtype t, const void *p, int64_t i)
{
	return t == ODET_F32 ? ((const float *)p)[i] : odet_f16_to_f32(((const uint16_t *)p)[i]);
}

static void st(odet_dtype t, void *p, int64_t i, float v)
{
	if (t == ODET_F32)
		((float *)p)[i] = v;
	else
		((uint16_t *)p)[i] = odet_f32_to_f16(v);
}

static odet_status l2n_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	l2n_geom q;
	const ir_value *x = ir_in(g, n, 0), *s = ir_in(g, n, 1);
	if (!geom(g, n, &q) || (x->dtype != ODET_F32 && x->dtype != ODET_F16) ||
	    (s && (!s->data || (s->dtype != ODET_F32 && s->dtype != ODET_F16) || ir_value_numel(s) != q.c)))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s' (L2Normalize): float tensor of known shape, axis in range and a float scale constant of the axis' size needed",
				  n->name);
	return ODET_OK;
}

static odet_status l2n_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state, size_t *ws)
{
	l2n_geom q;
	(void)ctx;
	*state = NULL;
	*ws = geom(g, n, &q) ? (size_t)q.inner * sizeof(float) : 0;
	return ODET_OK;
}

static odet_status l2n_run(const be_run_args *a)
{
	l2n_geom q;
	const odet_tensor *x = &a->in[0], *s = a->n_in > 1 && a->in[1].data ? &a->in[1] : NULL;
	odet_tensor *y = &a->out[0];
	if (!geom(a->g, a->node, &q) || a->workspace_size < (size_t)q.inner * sizeof(float))
		return odet_error(a->ctx, ODET_ERR_INTERNAL, "node '%s' (L2Normalize): workspace or shape", a->node->name);
	float eps = ir_attr_float(a->node, "eps", 0.0f), *d = a->workspace;
	for (int64_t o = 0; o < q.outer; o++) {
		int64_t base = o * q.c * q.inner;
		for (int64_t i = 0; i < q.inner; i++)
			d[i] = 0.0f;
		for (int64_t c = 0; c < q.c; c++)
			for (int64_t i = 0; i < q.inner; i++) {
				float v = ld(x->dtype, x->data, base + c * q.inner + i);
				d[i] += v * v;
			}
		for (int64_t i = 0; i < q.inner; i++) {
			float nrm = sqrtf(d[i]);
			d[i] = nrm < eps ? eps : nrm;
		}
		for (int64_t c = 0; c < q.c; c++) {
			float k = s ? ld(s->dtype, s->data, c) : 1.0f;
			for (int64_t i = 0; i < q.inner; i++) {
				int64_t e = base + c * q.inner + i;
				float v = ld(x->dtype, x->data, e) / d[i];
				st(y->dtype, y->data, e, s ? v * k : v);
			}
		}
	}
	return ODET_OK;
}

const cpu_kernel cpu_kernel_L2_NORMALIZE = {.check = l2n_check, .prepare = l2n_prepare, .run = l2n_run};
