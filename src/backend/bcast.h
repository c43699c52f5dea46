/*
 * bcast.h — the broadcast walk both backends use for elementwise ops, Expand, Where, Slice and
 * Transpose (header only): the output (contiguous) is visited along its dims; operand k is
 * read with element strides s[k][d] (0 along broadcast dims). Dims of size 1 are dropped and
 * adjacent dims merged when every operand allows it, so the common cases (same shape, scalar,
 * per-channel bias) become one or two long rows. The CUDA kernels take it by value.
 */
#ifndef ODET_BACKEND_BCAST_H
#define ODET_BACKEND_BCAST_H

#include <stdbool.h>
#include <string.h>

#include "odet.h"

#define BE_BCAST_MAX 4
typedef struct be_bcast {
	int rank; /* >= 1 */
	int n;    /* operands */
	int64_t dims[ODET_MAX_RANK];
	int64_t s[BE_BCAST_MAX][ODET_MAX_RANK];
	int64_t numel;
} be_bcast;

/* Drop size-1 dims and merge neighbours whose strides chain for every operand. */
static inline void be_bcast_merge(be_bcast *b)
{
	int r = 0;
	for (int d = 0; d < b->rank; d++) {
		if (b->dims[d] == 1)
			continue;
		bool merge = r > 0;
		for (int k = 0; k < b->n && merge; k++)
			merge = b->s[k][r - 1] == b->s[k][d] * b->dims[d];
		if (merge) {
			b->dims[r - 1] *= b->dims[d];
			for (int k = 0; k < b->n; k++)
				b->s[k][r - 1] = b->s[k][d];
			continue;
		}
		b->dims[r] = b->dims[d];
		for (int k = 0; k < b->n; k++)
			b->s[k][r] = b->s[k][d];
		r++;
	}
	if (r == 0) {
		b->dims[0] = 1;
		for (int k = 0; k < b->n; k++)
			b->s[k][0] = 0;
		r = 1;
	}
	b->rank = r;
}

/* One operand read with element strides s[0..rank) over a contiguous output of dims[0..rank)
 * (a strided copy: Slice, Transpose), merged. Returns the element count; <= 0: nothing to walk. */
static inline int64_t be_bcast_strided(be_bcast *b, int rank, const int64_t *dims, const int64_t *s)
{
	memset(b, 0, sizeof *b);
	b->n = 1;
	b->rank = rank;
	b->numel = 1;
	for (int d = 0; d < rank; d++) {
		b->dims[d] = dims[d];
		b->s[0][d] = s[d];
		b->numel *= dims[d];
	}
	if (b->numel > 0)
		be_bcast_merge(b); /* rank 0 becomes one dim of 1 */
	return b->numel;
}

/* Set up operands ins[0..n) (n <= BE_BCAST_MAX) broadcast to out's shape, merged. False if a
 * shape does not broadcast or the output has no valid element count. */
static inline bool be_bcast_init(be_bcast *b, const odet_tensor *out, const odet_tensor *const *ins, int n)
{
	memset(b, 0, sizeof *b);
	if (n < 0 || n > BE_BCAST_MAX || out->rank < 0 || out->rank > ODET_MAX_RANK)
		return false;
	b->n = n;
	b->rank = out->rank;
	b->numel = odet_tensor_numel(out);
	for (int d = 0; d < out->rank; d++)
		b->dims[d] = out->dims[d];
	for (int k = 0; k < n; k++) {
		const odet_tensor *x = ins[k];
		int off = out->rank - x->rank;
		int64_t st = 1;
		if (off < 0)
			return false;
		for (int d = out->rank - 1; d >= 0; d--) {
			int64_t xd = d >= off ? x->dims[d - off] : 1;
			if (xd == out->dims[d])
				b->s[k][d] = xd == 1 ? 0 : st;
			else if (xd == 1)
				b->s[k][d] = 0;
			else
				return false;
			st *= xd;
		}
	}
	be_bcast_merge(b);
	return b->numel >= 0;
}

#endif
