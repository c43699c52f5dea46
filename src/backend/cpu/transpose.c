/*
 * transpose.c — Transpose(X) with attr perm (default: reversed dims). Any fixed-size dtype.
 *   Y[i0..ik] = X[i_perm^-1...]. Dims that stay adjacent are merged (NCHW->NHWC becomes
 *   [N, HW, C] reading strides [CHW, 1, HW]). When X's contiguous dim is not the output's
 *   last one, 2-d tiles of TILE x TILE over (that dim, the output's last dim) are copied so
 *   both sides stay in cache; otherwise it is a strided row copy. Threaded when large.
 */
#include "backend/cpu/cpu_util.h"

#include <string.h>

#define TILE 32

typedef struct tr_job {
	const be_bcast *b;   /* merged output dims and input strides */
	int p;                /* merged dim read with stride 1 */
	int64_t os[ODET_MAX_RANK];
	int64_t p_tiles;
	const char *x;
	char *y;
	size_t esz;
} tr_job;

#define DEF_TILE(T, name)                                                                          \
	static void name(const tr_job *j, int64_t xo, int64_t yo, int64_t i0, int64_t ni, int64_t nj) \
	{                                                                                          \
		const be_bcast *b = j->b;                                                         \
		int r = b->rank;                                                                   \
		const T *x = (const T *)j->x + xo;                                                 \
		T *y = (T *)j->y + yo;                                                             \
		int64_t sj = b->s[0][r - 1], osi = j->os[j->p];                                    \
		for (int64_t j0 = 0; j0 < nj; j0 += TILE) {                                        \
			int64_t je = j0 + TILE < nj ? j0 + TILE : nj;                              \
			for (int64_t i = i0; i < i0 + ni; i++)                                     \
				for (int64_t jj = j0; jj < je; jj++)                               \
					y[i * osi + jj] = x[i + jj * sj];                          \
		}                                                                                  \
	}
DEF_TILE(uint8_t, tile1)
DEF_TILE(uint16_t, tile2)
DEF_TILE(uint32_t, tile4)
DEF_TILE(uint64_t, tile8)

/* Task t: one TILE-high band of dim p for one combination of the other outer dims. */
static void tr_range(void *arg, int64_t begin, int64_t end, int thread)
{
	const tr_job *j = arg;
	const be_bcast *b = j->b;
	int r = b->rank;
	for (int64_t t = begin; t < end; t++) {
		int64_t band = t % j->p_tiles, rest = t / j->p_tiles, xo = 0, yo = 0;
		for (int d = r - 2; d >= 0; d--) {
			if (d == j->p)
				continue;
			int64_t c = rest % b->dims[d];
			rest /= b->dims[d];
			xo += c * b->s[0][d];
			yo += c * j->os[d];
		}
		int64_t i0 = band * TILE, ni = b->dims[j->p] - i0 < TILE ? b->dims[j->p] - i0 : TILE;
		switch (j->esz) {
		case 1: tile1(j, xo, yo, i0, ni, b->dims[r - 1]); break;
		case 2: tile2(j, xo, yo, i0, ni, b->dims[r - 1]); break;
		case 4: tile4(j, xo, yo, i0, ni, b->dims[r - 1]); break;
		default: tile8(j, xo, yo, i0, ni, b->dims[r - 1]); break;
		}
	}
}

static odet_status transpose_perm(odet_ctx *ctx, const ir_node *n, int rank, int *perm)
{
	const int64_t *p;
	int np = ir_attr_ints(n, "perm", &p);
	bool seen[ODET_MAX_RANK] = {false};
	if (np == 0) {
		for (int d = 0; d < rank; d++)
			perm[d] = rank - 1 - d;
		return ODET_OK;
	}
	if (np != rank)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': Transpose perm has %d entries for rank %d", n->name,
				  np, rank);
	for (int d = 0; d < rank; d++) {
		if (p[d] < 0 || p[d] >= rank || seen[p[d]])
			return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s': Transpose perm is not a permutation", n->name);
		seen[p[d]] = true;
		perm[d] = (int)p[d];
	}
	return ODET_OK;
}

static odet_status transpose_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0);
	int perm[ODET_MAX_RANK];
	if (!x || !ir_out(g, n, 0) || !odet_dtype_size(x->dtype))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': Transpose: missing input or unsupported dtype", n->name);
	return x->rank >= 0 ? transpose_perm(ctx, n, x->rank, perm) : ODET_OK;
}

static odet_status transpose_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	odet_tensor *y = &a->out[0];
	int perm[ODET_MAX_RANK];
	int64_t xs[ODET_MAX_RANK], s[ODET_MAX_RANK];
	odet_status rc = transpose_perm(a->ctx, a->node, x->rank, perm);
	if (rc)
		return rc;
	if (y->rank != x->rank || y->dtype != x->dtype)
		return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Transpose): output mismatch", a->node->name);
	cpu_strides(x, xs);
	for (int d = 0; d < x->rank; d++) {
		if (y->dims[d] != x->dims[perm[d]])
			return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (Transpose): output dim %d mismatch",
					  a->node->name, d);
		s[d] = xs[perm[d]];
	}
	size_t esz = odet_dtype_size(x->dtype);
	be_bcast b;
	if (be_bcast_strided(&b, y->rank, y->dims, s) <= 0)
		return ODET_OK;
	tr_job j = {.b = &b, .p = -1, .x = x->data, .y = y->data, .esz = esz};
	for (int d = 0; d < b.rank - 1; d++)
		if (b.s[0][d] == 1)
			j.p = d;
	if (j.p < 0 || esz > 8 || (esz & (esz - 1))) {
		cpu_strided_copy(a->pool, y->data, x->data, esz, y->rank, y->dims, s);
		return ODET_OK;
	}
	int64_t os = 1, tasks;
	for (int d = b.rank - 1; d >= 0; d--) {
		j.os[d] = os;
		os *= b.dims[d];
	}
	j.p_tiles = (b.dims[j.p] + TILE - 1) / TILE;
	tasks = b.numel / b.dims[j.p] / b.dims[b.rank - 1] * j.p_tiles;
	odet_parallel_for(a->pool, tasks, CPU_GRAIN / (TILE * b.dims[b.rank - 1]) + 1, tr_range, &j);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_TRANSPOSE = {.check = transpose_check, .run = transpose_run};
