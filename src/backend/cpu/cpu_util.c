/* cpu_util.c — broadcasting walks, strided copies and run-time integer inputs for CPU kernels. */
#include "backend/cpu/cpu_util.h"

#include <string.h>

odet_status cpu_read_ints(const be_run_args *a, int input, int64_t *out, int max, int *n)
{
	const odet_tensor *t = &a->in[input];
	int64_t cnt = odet_tensor_numel(t);
	*n = 0;
	if (cnt < 0 || cnt > max)
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (%s): input %d has %lld elements (at most %d)",
				  a->node->name, ir_op_name(a->node->op), input, (long long)cnt, max);
	for (int64_t i = 0; i < cnt; i++) {
		if (t->dtype == ODET_I64)
			out[i] = ((const int64_t *)t->data)[i];
		else if (t->dtype == ODET_I32)
			out[i] = ((const int32_t *)t->data)[i];
		else
			return odet_error(a->ctx, ODET_ERR_UNSUPPORTED, "node '%s' (%s): input %d has dtype %s, want int32/int64",
					  a->node->name, ir_op_name(a->node->op), input, odet_dtype_name(t->dtype));
	}
	*n = (int)cnt;
	return ODET_OK;
}

odet_status cpu_read_floats(const be_run_args *a, int input, double *out, int max, int *n)
{
	const odet_tensor *t = &a->in[input];
	int64_t cnt = odet_tensor_numel(t);
	*n = 0;
	if (cnt < 0 || cnt > max)
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (%s): input %d has %lld elements (at most %d)",
				  a->node->name, ir_op_name(a->node->op), input, (long long)cnt, max);
	for (int64_t i = 0; i < cnt; i++) {
		if (t->dtype == ODET_F32)
			out[i] = ((const float *)t->data)[i];
		else if (t->dtype == ODET_F64)
			out[i] = ((const double *)t->data)[i];
		else if (t->dtype == ODET_F16)
			out[i] = odet_f16_to_f32(((const uint16_t *)t->data)[i]);
		else
			return odet_error(a->ctx, ODET_ERR_UNSUPPORTED, "node '%s' (%s): input %d has dtype %s, want a float type",
					  a->node->name, ir_op_name(a->node->op), input, odet_dtype_name(t->dtype));
	}
	*n = (int)cnt;
	return ODET_OK;
}

odet_status cpu_check_dtype(odet_ctx *ctx, const ir_graph *g, const ir_node *n, bool output, int i,
			    const odet_dtype *ok)
{
	const ir_value *v = output ? ir_out(g, n, i) : ir_in(g, n, i);
	if (!v)
		return ODET_OK;
	for (; *ok; ok++)
		if (v->dtype == *ok)
			return ODET_OK;
	return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': op %s: dtype %s of %s %d is not supported on CPU",
			  n->name, ir_op_name(n->op), odet_dtype_name(v->dtype), output ? "output" : "input", i);
}

void cpu_strides(const odet_tensor *t, int64_t *strides)
{
	int64_t s = 1;
	for (int d = t->rank - 1; d >= 0; d--) {
		strides[d] = s;
		s *= t->dims[d];
	}
}

typedef struct bcast_job {
	const be_bcast *b;
	char *y;
	size_t esz_out;
	const char *x[BE_BCAST_MAX];
	size_t esz[BE_BCAST_MAX];
	cpu_row_fn fn;
	const void *p;
} bcast_job;

static void bcast_range(void *arg, int64_t begin, int64_t end, int thread)
{
	const bcast_job *j = arg;
	const be_bcast *b = j->b;
	int r = b->rank, n = b->n;
	int64_t c[ODET_MAX_RANK], off[BE_BCAST_MAX] = {0};
	int64_t rem = begin;
	for (int d = r - 1; d >= 0; d--) {
		c[d] = rem % b->dims[d];
		rem /= b->dims[d];
		for (int k = 0; k < n; k++)
			off[k] += c[d] * b->s[k][d];
	}
	const void *xp[BE_BCAST_MAX];
	int64_t sx[BE_BCAST_MAX];
	for (int k = 0; k < n; k++)
		sx[k] = b->s[k][r - 1];
	for (int64_t i = begin; i < end;) {
		int64_t len = b->dims[r - 1] - c[r - 1];
		if (len > end - i)
			len = end - i;
		for (int k = 0; k < n; k++)
			xp[k] = j->x[k] + off[k] * (int64_t)j->esz[k];
		j->fn(j->p, j->y + i * (int64_t)j->esz_out, xp, sx, len);
		i += len;
		c[r - 1] += len;
		for (int k = 0; k < n; k++)
			off[k] += len * sx[k];
		for (int d = r - 1; d > 0 && c[d] == b->dims[d]; d--) {
			c[d] = 0;
			c[d - 1]++;
			for (int k = 0; k < n; k++)
				off[k] += b->s[k][d - 1] - b->dims[d] * b->s[k][d];
		}
	}
}

void cpu_bcast_run(odet_threadpool *pool, const be_bcast *b, void *y, size_t esz_out,
		   const void *const *x, const size_t *esz, cpu_row_fn fn, const void *p)
{
	bcast_job j = {.b = b, .y = y, .esz_out = esz_out, .fn = fn, .p = p};
	for (int k = 0; k < b->n; k++) {
		j.x[k] = x[k];
		j.esz[k] = esz[k];
	}
	odet_parallel_for(pool, b->numel, CPU_GRAIN, bcast_range, &j);
}

odet_status cpu_bcast_node(const be_run_args *a, const odet_tensor *const *ins, int n, odet_tensor *out,
			   cpu_row_fn fn, const void *p)
{
	be_bcast b;
	if (!be_bcast_init(&b, out, ins, n))
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (%s): input shapes do not broadcast to the output",
				  a->node->name, ir_op_name(a->node->op));
	const void *x[BE_BCAST_MAX];
	size_t esz[BE_BCAST_MAX];
	for (int k = 0; k < n; k++) {
		x[k] = ins[k]->data;
		esz[k] = odet_dtype_size(ins[k]->dtype);
	}
	cpu_bcast_run(a->pool, &b, out->data, odet_dtype_size(out->dtype), x, esz, fn, p);
	return ODET_OK;
}

/* Strided row copies for each element size. */
#define COPY_ROW(T, name)                                                                      \
	static void name(const void *p, void *y, const void *const *x, const int64_t *sx, int64_t len) \
	{                                                                                      \
		T *o = y;                                                                      \
		const T *in = x[0];                                                            \
		int64_t s = sx[0];                                                             \
		if (s == 1) {                                                                  \
			memcpy(o, in, (size_t)len * sizeof(T));                                \
			return;                                                                \
		}                                                                              \
		for (int64_t i = 0; i < len; i++)                                              \
			o[i] = in[i * s];                                                      \
	}
COPY_ROW(uint8_t, copy_row1)
COPY_ROW(uint16_t, copy_row2)
COPY_ROW(uint32_t, copy_row4)
COPY_ROW(uint64_t, copy_row8)

static void copy_row_any(const void *p, void *y, const void *const *x, const int64_t *sx, int64_t len)
{
	size_t esz = *(const size_t *)p;
	for (int64_t i = 0; i < len; i++)
		memcpy((char *)y + i * (int64_t)esz, (const char *)x[0] + i * sx[0] * (int64_t)esz, esz);
}

void cpu_strided_copy(odet_threadpool *pool, void *out, const void *in, size_t esz, int rank,
		      const int64_t *dims, const int64_t *s)
{
	be_bcast b;
	if (be_bcast_strided(&b, rank, dims, s) <= 0)
		return;
	cpu_row_fn fn = esz == 1 ? copy_row1 : esz == 2 ? copy_row2 : esz == 4 ? copy_row4 :
			esz == 8 ? copy_row8 : copy_row_any;
	const void *x[1] = {in};
	cpu_bcast_run(pool, &b, out, esz, x, &esz, fn, &esz);
}

odet_status cpu_broadcast_copy(const be_run_args *a, const odet_tensor *in, odet_tensor *out)
{
	be_bcast b;
	const odet_tensor *ins[1] = {in};
	size_t esz = odet_dtype_size(in->dtype);
	if (!be_bcast_init(&b, out, ins, 1) || esz != odet_dtype_size(out->dtype))
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (%s): input does not broadcast to the output",
				  a->node->name, ir_op_name(a->node->op));
	cpu_row_fn fn = esz == 1 ? copy_row1 : esz == 2 ? copy_row2 : esz == 4 ? copy_row4 :
			esz == 8 ? copy_row8 : copy_row_any;
	const void *x[1] = {in->data};
	cpu_bcast_run(a->pool, &b, out->data, esz, x, &esz, fn, &esz);
	return ODET_OK;
}

typedef struct map_gather {
	int rank;
	const int64_t *dims;       /* output dims */
	int64_t *const *map;       /* per dim: source offset (elements) or -1 */
	const char *src;
	char *dst;
	size_t esz;
	const void *fill;
} map_gather;

/* Rows of the output's last dim. */
static void map_gather_range(void *arg, int64_t b, int64_t e, int thread)
{
	const map_gather *gt = arg;
	int r = gt->rank;
	int64_t last = gt->dims[r - 1];
	const int64_t *ml = gt->map[r - 1];
	size_t esz = gt->esz;
	for (int64_t row = b; row < e; row++) {
		int64_t base = 0, rem = row;
		for (int d = r - 2; d >= 0; d--) {
			int64_t m = gt->map[d][rem % gt->dims[d]];
			rem /= gt->dims[d];
			base = (base < 0 || m < 0) ? -1 : base + m;
		}
		char *dst = gt->dst + row * last * (int64_t)esz;
		if (esz == 4 && base >= 0) {
			const uint32_t *s = (const uint32_t *)gt->src + base;
			uint32_t *d = (uint32_t *)dst, ev;
			memcpy(&ev, gt->fill, 4);
			for (int64_t i = 0; i < last; i++)
				d[i] = ml[i] < 0 ? ev : s[ml[i]];
			continue;
		}
		for (int64_t i = 0; i < last; i++) {
			const void *s = (base < 0 || ml[i] < 0) ? gt->fill : gt->src + (base + ml[i]) * (int64_t)esz;
			memcpy(dst + i * (int64_t)esz, s, esz);
		}
	}
}

void cpu_map_gather(odet_threadpool *pool, int rank, const int64_t *dims, int64_t *const *map, const void *src,
		    void *dst, size_t esz, const void *fill)
{
	int64_t rows = 1;
	if (rank < 1)
		return;
	for (int d = 0; d < rank - 1; d++)
		rows *= dims[d];
	if (rows <= 0 || dims[rank - 1] <= 0)
		return;
	map_gather gt = {.rank = rank, .dims = dims, .map = map, .src = src, .dst = dst, .esz = esz, .fill = fill};
	odet_parallel_for(pool, rows, CPU_GRAIN / dims[rank - 1] + 1, map_gather_range, &gt);
}

/* ---------------------------------------------------------------- nChw16c between convs */

#ifdef ODET_HAVE_DNNL
static bool nchw16c_conv(const ir_graph *g, const ir_node *n)
{
	if (n->dead || n->op != IR_OP_CONV || n->n_in < 2 || n->n_out != 1)
		return false;
	const ir_value *x = ir_in(g, n, 0), *w = ir_in(g, n, 1);
	if (!x || !w || x->rank != 4 || w->rank != 4 || x->kind == IR_VALUE_CONST || ir_attr_int(n, "odet_conv_algo", 0))
		return false;
	/* groups: depthwise (oneDNN's jit_dw reads nChw16c), or whole 16-channel blocks per group */
	int64_t group = ir_attr_int(n, "group", 1), c = x->dims[1], m = w->dims[0];
	return group == 1 || (group == c && group == m) ||
	       (group > 1 && c % group == 0 && m % group == 0 && (c / group) % 16 == 0 && (m / group) % 16 == 0);
}

static bool nchw16c_maxpool(const ir_node *n)
{
	return !n->dead && n->op == IR_OP_MAXPOOL && n->n_in == 1 && (n->n_out == 1 || n->out[1] < 0);
}

/* v itself: float32, rank 4, C % 16 == 0, in the arena, not a graph input/output */
static bool nchw16c_local(const ir_graph *g, int v)
{
	if (v < 0 || v >= g->n_values)
		return false;
	const ir_value *val = &g->values[v];
	if (val->kind != IR_VALUE_INTERMEDIATE || val->is_output || val->dtype != ODET_F32 || val->rank != 4 ||
	    !ir_value_shape_known(val) || val->dims[1] <= 0 || val->dims[1] % 16)
		return false;
	for (int i = 0; i < g->n_inputs; i++)
		if (g->inputs[i] == v)
			return false;
	for (int i = 0; i < g->n_outputs; i++)
		if (g->outputs[i] == v)
			return false;
	return true;
}

static const ir_node *nchw16c_producer(const ir_graph *g, int v)
{
	const ir_node *p = NULL;
	for (int k = 0; k < g->n_nodes; k++) {
		const ir_node *n = &g->nodes[k];
		for (int o = 0; !n->dead && o < n->n_out; o++)
			if (n->out[o] == v) {
				if (p || o != 0)
					return NULL;
				p = n;
			}
	}
	return p;
}

/* v and everything below it through MaxPools: local, read only by Convs (X, residual) and
 * MaxPools; depth bounds the recursion on malformed (cyclic) graphs */
static bool nchw16c_down(const ir_graph *g, int v, int depth)
{
	if (depth > 16 || !nchw16c_local(g, v))
		return false;
	int consumers = 0;
	for (int k = 0; k < g->n_nodes; k++) {
		const ir_node *n = &g->nodes[k];
		for (int i = 0; !n->dead && i < n->n_in; i++) {
			if (n->in[i] != v)
				continue;
			consumers++;
			if (nchw16c_conv(g, n) && (i == 0 || i == 3))
				continue;
			if (nchw16c_maxpool(n) && i == 0 && nchw16c_down(g, n->out[0], depth + 1))
				continue;
			return false;
		}
	}
	return consumers > 0;
}
#endif

bool cpu_value_nchw16c(const ir_graph *g, int v)
{
#ifdef ODET_HAVE_DNNL
	/* up through MaxPools to the Conv that starts the chain, then check the whole tree */
	int root = v;
	for (int depth = 0; depth <= 16; depth++) {
		if (!nchw16c_local(g, root))
			return false;
		const ir_node *p = nchw16c_producer(g, root);
		if (!p)
			return false;
		if (nchw16c_conv(g, p))
			return nchw16c_down(g, root, 0);
		if (!nchw16c_maxpool(p))
			return false;
		root = p->in[0];
	}
	return false;
#else
	(void)g;
	(void)v;
	return false;
#endif
}
