/*
 * cpu_util.h — helpers shared by the CPU kernels: dtype lists for macro-generated variants,
 * numpy broadcasting (strided n-d walks over the output), axis normalization and reading
 * shape-like integer tensors (int32/int64) at run time.
 */
#ifndef ODET_CPU_UTIL_H
#define ODET_CPU_UTIL_H

#include "backend/bcast.h"
#include "backend/cpu/cpu.h"

/* Elementwise loops below this many elements run on the calling thread. */
#define CPU_GRAIN 16384

/* X(DTYPE_SUFFIX, c_type, unsigned_c_type) — the dtype lists kernels generate variants from. */
#define CPU_FLOAT_TYPES(X) X(F32, float, float) X(F64, double, double)
#define CPU_SINT_TYPES(X) X(I8, int8_t, uint8_t) X(I16, int16_t, uint16_t) X(I32, int32_t, uint32_t) \
	X(I64, int64_t, uint64_t)
#define CPU_UINT_TYPES(X) X(U8, uint8_t, uint8_t) X(U16, uint16_t, uint16_t) X(U32, uint32_t, uint32_t) \
	X(U64, uint64_t, uint64_t)
#define CPU_INT_TYPES(X) CPU_SINT_TYPES(X) CPU_UINT_TYPES(X)
#define CPU_NUM_TYPES(X) CPU_FLOAT_TYPES(X) CPU_INT_TYPES(X)

/* Per-axis quantization (QuantizeLinear / DequantizeLinear with a 1-D scale): element i of x
 * belongs to channel (i / *inner) % *axis_len of attr "axis" (default 1); a scalar scale: 1, 1. */
static inline void cpu_quant_axis(const ir_node *n, const odet_tensor *x, const odet_tensor *scale, int64_t *inner,
				  int64_t *axis_len)
{
	*inner = *axis_len = 1;
	if (scale->rank != 1)
		return;
	int64_t axis = ir_attr_int(n, "axis", 1);
	if (axis < 0)
		axis += x->rank;
	*axis_len = x->dims[axis];
	for (int d = (int)axis + 1; d < x->rank; d++)
		*inner *= x->dims[d];
}

static inline bool cpu_dtype_is_int(odet_dtype t)
{
	switch (t) {
	case ODET_I8: case ODET_I16: case ODET_I32: case ODET_I64:
	case ODET_U8: case ODET_U16: case ODET_U32: case ODET_U64:
		return true;
	default:
		return false;
	}
}

/* Read an integer tensor (int32 or int64, any shape) into out[0..n). Fails (naming node) when
 * it has another dtype or more than max elements. */
odet_status cpu_read_ints(const be_run_args *a, int input, int64_t *out, int max, int *n);
/* Read a float tensor (float32/float64/float16) into out[0..n); same rules. */
odet_status cpu_read_floats(const be_run_args *a, int input, double *out, int max, int *n);

/* Refuse a node whose input/output i has a dtype outside the list (0-terminated). */
odet_status cpu_check_dtype(odet_ctx *ctx, const ir_graph *g, const ir_node *n, bool output, int i,
			    const odet_dtype *ok);

/* Workspace carving: kernels that need scratch memory declare its size in prepare (from the
 * graph's shapes) and carve it at run time in the same order. Sizes round up to 64 bytes.
 * cpu_ws_add returns false on overflow; cpu_ws_take returns NULL when the rest is too small. */
typedef struct cpu_ws {
	char *p;
	size_t left;
} cpu_ws;

static inline bool cpu_ws_add(size_t *total, size_t n, size_t size)
{
	size_t b;
	if (!odet_mul_size(n, size, &b) || !odet_add_size(b, 63, &b))
		return false;
	return odet_add_size(*total, b & ~(size_t)63, total);
}

static inline void *cpu_ws_take(cpu_ws *ws, size_t n, size_t size)
{
	size_t b = (n * size + 63) & ~(size_t)63;
	void *p = ws->p;
	if (b > ws->left)
		return NULL;
	ws->p += b;
	ws->left -= b;
	return p;
}

/* Row strides of a tensor (elements). */
void cpu_strides(const odet_tensor *t, int64_t *strides);

/* Broadcast walk (be_bcast, backend/bcast.h): the output is visited in rows along its last
 * merged dim. Row function: y[0..len) (contiguous, output element size) from operands x[k] read with
 * element stride sx[k]; p is the kernel's parameter block. */
typedef void (*cpu_row_fn)(const void *p, void *y, const void *const *x, const int64_t *sx, int64_t len);

/* Run fn over the whole output, threaded for large outputs. esz_out: output element size;
 * esz[k]: operand element sizes. */
void cpu_bcast_run(odet_threadpool *pool, const be_bcast *b, void *y, size_t esz_out,
		   const void *const *x, const size_t *esz, cpu_row_fn fn, const void *p);

/* Convenience for kernels: in/out tensors of a node, broadcasting check included. */
odet_status cpu_bcast_node(const be_run_args *a, const odet_tensor *const *ins, int n, odet_tensor *out,
			   cpu_row_fn fn, const void *p);

/* Copy with a strided n-d gather: out (contiguous, dims) element at index c reads
 * in + sum c[d] * s[d] elements. Generic over element size. Threaded for large outputs. */
void cpu_strided_copy(odet_threadpool *pool, void *out, const void *in, size_t esz, int rank,
		      const int64_t *dims, const int64_t *s);

/* Gather through per-dim maps: output element c (contiguous, dims) copies
 * src[sum map[d][c[d]]] (map values are element offsets), or *fill (esz bytes) when any
 * map[d][c[d]] is -1. Used by Pad and nearest Resize; threaded over rows of the last dim. */
void cpu_map_gather(odet_threadpool *pool, int rank, const int64_t *dims, int64_t *const *map, const void *src,
		    void *dst, size_t esz, const void *fill);

/* Broadcast in to out's shape (Expand; Max/Min of one input); any element size. */
odet_status cpu_broadcast_copy(const be_run_args *a, const odet_tensor *in, odet_tensor *out);

/* Whether value v is kept in oneDNN's nChw16c layout (float32 [N][C/16][H][W][16], C % 16 == 0,
 * same bytes as NCHW) instead of NCHW: true when a oneDNN Conv (odet_conv_algo auto; group 1,
 * depthwise, or groups of whole 16-channel blocks;
 * 2-d, X not constant) writes it, directly or through a chain of 2-d MaxPools, and only such
 * Convs (as X or residual) and MaxPools read it, none of it a graph input or output or
 * constant. Producer and consumers evaluate it on the same final graph, so they agree.
 * Always false without oneDNN. (conv.c, maxpool.c) */
bool cpu_value_nchw16c(const ir_graph *g, int v);

#endif
