/*
 * nms_cub.cuh — the kernels of BatchedNms's CUB pipeline (CUDA_NMS_CUB; part of nms.cu's
 * translation unit). The fast path (nms_fast.cuh) reuses the top-k select (2a), the global
 * bitmask (3) and the CUB merge (5) for the plans that need them.
 *
 * CUB pipeline stages (all on `stream`):
 *  1. filter: per tile of anchors x all classes of one image, scores finite and > threshold
 *     (background skipped) are appended to their segment's region — segment (image, class) in
 *     mode 0, (image, level) in mode 1 — shared-memory counters, one global atomic per
 *     (block, segment); order inside a region is arbitrary, the sort makes it canonical;
 *  2a. segments holding more than top-k candidates keep only their top-k (+ ties) keys: a
 *     three-pass radix select on the score bits, then a compaction (see sel_*_kernel);
 *  2. segmented sort of the regions (cub::DeviceSegmentedRadixSort, non-contiguous segments;
 *     not cub::DeviceSegmentedSort: above ~300 segments it copies group sizes to the host and
 *     synchronizes the stream, which stalls the pipeline and breaks CUDA graph capture);
 *  2b. mode 1: the top-k of each (image, level) are scattered into (image, class) regions and
 *     sorted again;
 *  3. per (image, class): n = min(count, top-k); IoU bitmask in 64x64 tiles (one bit per pair,
 *     upper triangle only), tiles enumerated by a persistent grid over inclusive scans;
 *  4. one warp per segment scans the bitmask greedily (stops after K kept);
 *  5. per image, kept keys of all classes (class-major, stable) sorted by key; the first K
 *     rows are gathered (boxes * out_scale), the rest zeroed, count written.
 * IoU exactly as torchvision in fp32 with explicit round-to-nearest intrinsics (no FMA
 * contraction), so it equals the CPU's.
 */
#ifndef ODET_CUDA_NMS_CUB_CUH
#define ODET_CUDA_NMS_CUB_CUH

#include <cub/cub.cuh>

#include "backend/cuda/nms_keys.cuh"

namespace {

/* ---- 1. filter */
template <typename T>
__global__ void filter_kernel(dev_params p, const T *scores, u64 *keys, int *seg_count, int tile_a)
{
	extern __shared__ int sm[]; /* counters then bases, n_seg_local each */
	const int b = blockIdx.y;
	const int a0 = blockIdx.x * tile_a;
	const int a1 = min(a0 + tile_a, p.N);
	const int nloc = p.mode == 0 ? p.C : p.L;
	int *cnt = sm, *base = sm + nloc;
	for (int k = threadIdx.x; k < nloc; k += blockDim.x)
		cnt[k] = 0;
	__syncthreads();
	const long long e0 = (long long)a0 * p.C, e1 = (long long)a1 * p.C;
	const T *s = scores + (long long)b * p.N * p.C;
	for (int pass = 0; pass < 2; pass++) {
		for (long long e = e0 + threadIdx.x; e < e1; e += blockDim.x) {
			int c = (int)(e % p.C), i = (int)(e / p.C);
			float v = ldf<T>(s, e);
			if (c == p.bg || !isfinite(v) || !(v > p.thr))
				continue;
			int l = 0;
			if (p.mode == 1)
				while (i >= p.level_start[l + 1])
					l++;
			int seg_local = p.mode == 0 ? c : l;
			int pos = atomicAdd(&cnt[seg_local], 1);
			if (pass == 1) {
				long long off;
				unsigned low;
				if (p.mode == 0) {
					off = ((long long)b * p.C + c) * p.N;
					low = (unsigned)i;
				} else {
					off = (long long)b * p.N * p.C + (long long)p.level_start[l] * p.C;
					low = (unsigned)(i * p.C + c);
				}
				keys[off + base[seg_local] + pos] = ((u64)desc_bits(v) << 32) | low;
			}
		}
		__syncthreads();
		if (pass == 0) {
			for (int k = threadIdx.x; k < nloc; k += blockDim.x) {
				int seg = b * nloc + k;
				base[k] = cnt[k] ? atomicAdd(&seg_count[seg], cnt[k]) : 0;
				cnt[k] = 0;
			}
			__syncthreads();
		}
	}
}

/* segment offsets for the sorts: begin = region start, end = begin + count */
__global__ void offsets_kernel(int n_seg, const int *count, const long long *region_start, long long stride,
			       int *beg, int *end)
{
	int s = blockIdx.x * blockDim.x + threadIdx.x;
	if (s >= n_seg)
		return;
	long long st = region_start ? region_start[s] : (long long)s * stride;
	beg[s] = (int)st;
	end[s] = (int)(st + count[s]);
}

__global__ void level_starts_kernel(dev_params p, long long *region_start)
{
	int s = blockIdx.x * blockDim.x + threadIdx.x;
	if (s >= p.B * p.L)
		return;
	int b = s / p.L, l = s % p.L;
	region_start[s] = (long long)b * p.N * p.C + (long long)p.level_start[l] * p.C;
}

/* ---- 2a. top-k select before the sort: a segment with more candidates than its top-k keeps
 * only the keys whose score bits are <= those of its k-th key (ties included), found by a
 * radix select on the key's upper 32 bits in three digit passes (11, 11, 10 bits); the sort
 * then orders at most k + ties keys instead of the whole segment (one CUB block per segment
 * is slow on RetinaNet's per-level segments of millions of keys). Exact: the first k keys of
 * the sorted result are the same as with the whole segment sorted. */
#define SEL_BINS 2048

__device__ __forceinline__ int sel_digit(int pass, unsigned hi, unsigned prefix, bool *match)
{
	const int shift = pass == 0 ? 21 : pass == 1 ? 10 : 0, top = pass == 0 ? 32 : pass == 1 ? 21 : 10;
	*match = top == 32 || (hi >> top) == (prefix >> top);
	return (int)((hi >> shift) & (pass == 2 ? 0x3ffu : 0x7ffu));
}

/* need[s] = k (active) when the segment holds more than k candidates, else 0 */
__global__ void sel_init_kernel(int n_seg, const int *cnt, long long topk, unsigned *prefix, int *need)
{
	int s = blockIdx.x * blockDim.x + threadIdx.x;
	if (s >= n_seg)
		return;
	prefix[s] = 0;
	need[s] = cnt[s] > topk ? (int)topk : 0;
}

__global__ void sel_hist_kernel(const u64 *keys, const int *beg, const int *cnt, const unsigned *prefix,
				const int *need, int pass, int *hist)
{
	__shared__ int h[SEL_BINS];
	const int s = blockIdx.y;
	if (need[s] <= 0)
		return;
	for (int k = threadIdx.x; k < SEL_BINS; k += blockDim.x)
		h[k] = 0;
	__syncthreads();
	const unsigned pre = prefix[s];
	const u64 *kp = keys + beg[s];
	const int n = cnt[s];
	for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
		bool m;
		int d = sel_digit(pass, (unsigned)(kp[i] >> 32), pre, &m);
		if (m)
			atomicAdd(&h[d], 1);
	}
	__syncthreads();
	int *g = hist + (long long)s * SEL_BINS;
	for (int k = threadIdx.x; k < SEL_BINS; k += blockDim.x)
		if (h[k])
			atomicAdd(&g[k], h[k]);
}

/* one block of 256 threads per segment: the digit holding the need-th key; the histogram row
 * is cleared for the next pass */
__global__ void sel_pick_kernel(int pass, int *hist, unsigned *prefix, int *need)
{
	typedef cub::BlockScan<int, 256> scan_t;
	__shared__ typename scan_t::TempStorage ts;
	const int s = blockIdx.x;
	const int nd = need[s];
	if (nd <= 0)
		return;
	int *h = hist + (long long)s * SEL_BINS;
	int loc[SEL_BINS / 256], sum = 0;
	for (int j = 0; j < SEL_BINS / 256; j++) {
		loc[j] = h[threadIdx.x * (SEL_BINS / 256) + j];
		h[threadIdx.x * (SEL_BINS / 256) + j] = 0;
		sum += loc[j];
	}
	int excl;
	scan_t(ts).ExclusiveSum(sum, excl);
	if (excl < nd && nd <= excl + sum) {
		const int shift = pass == 0 ? 21 : pass == 1 ? 10 : 0;
		int c = excl;
		for (int j = 0; j < SEL_BINS / 256; j++) {
			if (c + loc[j] >= nd) {
				need[s] = nd - c;
				prefix[s] |= (unsigned)(threadIdx.x * (SEL_BINS / 256) + j) << shift;
				break;
			}
			c += loc[j];
		}
	}
}

/* keys of active segments with score bits <= the k-th's are appended (warp-aggregated) to the
 * same region of `out`; inactive segments are copied whole */
__global__ void sel_compact_kernel(const u64 *in, u64 *out, const int *beg, const int *cnt, const unsigned *prefix,
				   const int *need, int *ncnt)
{
	const int s = blockIdx.y, n = cnt[s];
	const long long b0 = beg[s];
	const bool active = need[s] > 0;
	const unsigned thr = prefix[s];
	const int lane = threadIdx.x & 31;
	for (int base = blockIdx.x * blockDim.x; base < n; base += gridDim.x * blockDim.x) {
		int i = base + threadIdx.x;
		u64 key = i < n ? in[b0 + i] : 0;
		if (!active) {
			if (i < n)
				out[b0 + i] = key;
			continue;
		}
		bool keep = i < n && (unsigned)(key >> 32) <= thr;
		unsigned m = __ballot_sync(0xffffffffu, keep);
		int wpos = 0;
		if (lane == 0 && m)
			wpos = atomicAdd(&ncnt[s], __popc(m));
		wpos = __shfl_sync(0xffffffffu, wpos, 0);
		if (keep)
			out[b0 + wpos + __popc(m & ((1u << lane) - 1))] = key;
	}
}

__global__ void sel_finish_kernel(int n_seg, const int *need, const int *ncnt, const int *beg, int *cnt, int *end)
{
	int s = blockIdx.x * blockDim.x + threadIdx.x;
	if (s >= n_seg || need[s] <= 0)
		return;
	cnt[s] = ncnt[s];
	end[s] = beg[s] + ncnt[s];
}

/* ---- 2b. mode 1: top-k of each (image, level) into (image, class) regions */
__global__ void scatter_kernel(dev_params p, const u64 *sorted, const int *beg, const int *lcount, u64 *keys,
			       int *ccount)
{
	long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
	long long nseg = (long long)p.B * p.L;
	if (t >= nseg * p.topk)
		return;
	int s = (int)(t / p.topk);
	long long k = t % p.topk;
	if (k >= lcount[s])
		return;
	u64 key = sorted[beg[s] + k];
	unsigned low = (unsigned)key;
	int i = (int)(low / p.C), c = (int)(low % p.C);
	int b = s / p.L, cs = b * p.C + c;
	int pos = atomicAdd(&ccount[cs], 1);
	keys[(long long)cs * p.region + pos] = (key & 0xffffffff00000000ull) | (unsigned)i;
}

/* ---- 3. per-segment sizes for the bitmask */
__global__ void seg_setup_kernel(dev_params p, const int *count, int *n_out, long long *tiles, long long *words)
{
	int s = blockIdx.x * blockDim.x + threadIdx.x;
	if (s >= p.B * p.C)
		return;
	long long n = count[s];
	if (p.mode == 0 && n > p.topk)
		n = p.topk;
	long long cb = (n + 63) / 64;
	n_out[s] = (int)n;
	tiles[s] = cb * cb;
	words[s] = n * cb;
}

__device__ __forceinline__ float fmx(float a, float b) { return a < b ? b : a; }
__device__ __forceinline__ float fmn(float a, float b) { return b < a ? b : a; }

__device__ __forceinline__ bool suppresses(const float *bi, float ai, const float *bj, float aj, float thr, int ge)
{
	float xx1 = fmx(bi[0], bj[0]), yy1 = fmx(bi[1], bj[1]);
	float xx2 = fmn(bi[2], bj[2]), yy2 = fmn(bi[3], bj[3]);
	float w = fmx(0.0f, __fsub_rn(xx2, xx1)), h = fmx(0.0f, __fsub_rn(yy2, yy1));
	float inter = __fmul_rn(w, h);
	float ovr = __fdiv_rn(inter, __fsub_rn(__fadd_rn(ai, aj), inter));
	return ge ? ovr >= thr : ovr > thr;
}

template <typename T>
__device__ __forceinline__ void load_box(const T *boxes, long long row, float *o, float *area)
{
	for (int k = 0; k < 4; k++)
		o[k] = ldf<T>(boxes, row * 4 + k);
	*area = __fmul_rn(__fsub_rn(o[2], o[0]), __fsub_rn(o[3], o[1]));
}

/* persistent grid over all tiles of all segments */
template <typename T>
__global__ void mask_kernel(dev_params p, const T *boxes, const u64 *sorted, const int *beg, long long stride,
			    const int *n_seg, const long long *tiles_incl, const long long *words_incl, u64 *mask)
{
	__shared__ float cb_box[64][4];
	__shared__ float cb_area[64];
	const int S = p.B * p.C;
	const long long total = tiles_incl[S - 1];
	for (long long t = blockIdx.x; t < total; t += gridDim.x) {
		int lo = 0, hi = S - 1;
		while (lo < hi) { /* first s with tiles_incl[s] > t */
			int mid = (lo + hi) / 2;
			if (tiles_incl[mid] > t)
				hi = mid;
			else
				lo = mid + 1;
		}
		const int s = lo;
		const long long n = n_seg[s], cb = (n + 63) / 64;
		const long long local = t - (tiles_incl[s] - cb * cb);
		const long long row = local / cb, col = local % cb;
		if (col < row)
			continue; /* uniform across the block */
		const int b = s / p.C;
		const T *bb = boxes + (long long)b * p.N * 4;
		const u64 *keys = sorted + (beg ? (long long)beg[s] : s * stride);
		const long long j = col * 64 + threadIdx.x;
		if (j < n)
			load_box<T>(bb, (unsigned)keys[j], cb_box[threadIdx.x], &cb_area[threadIdx.x]);
		__syncthreads();
		const long long r = row * 64 + threadIdx.x;
		if (r < n) {
			float rb[4], ra;
			load_box<T>(bb, (unsigned)keys[r], rb, &ra);
			int ncol = (int)min((long long)64, n - col * 64);
			u64 bits = 0;
			for (int q = (row == col ? threadIdx.x + 1 : 0); q < ncol; q++)
				if (suppresses(rb, ra, cb_box[q], cb_area[q], p.iou, p.ge))
					bits |= 1ull << q;
			long long wbase = words_incl[s] - n * cb;
			mask[wbase + r * cb + col] = bits;
		}
		__syncthreads();
	}
}

/* ---- 4. greedy scan, one warp per segment */
__global__ void scan_kernel(dev_params p, const u64 *sorted, const int *beg, const int *n_seg,
			    const long long *words_incl, const u64 *mask, u64 *removed_all, u64 *kept, int *kept_count)
{
	const int lane = threadIdx.x & 31;
	const int s = (blockIdx.x * blockDim.x + threadIdx.x) >> 5;
	if (s >= p.B * p.C)
		return;
	const long long n = n_seg[s], cb = (n + 63) / 64;
	volatile u64 *removed = removed_all + (long long)s * p.cbmax;
	for (long long w = lane; w < cb; w += 32)
		removed[w] = 0;
	__syncwarp();
	const u64 *m = mask + (words_incl[s] - n * cb);
	const u64 *keys = sorted + beg[s];
	long long nk = 0;
	for (long long i = 0; i < n && nk < p.kc; i++) {
		const long long w = i >> 6;
		if ((removed[w] >> (i & 63)) & 1ull)
			continue;
		if (lane == 0)
			kept[(long long)s * p.kc + nk] = keys[i];
		nk++;
		for (long long ww = w + lane; ww < cb; ww += 32)
			removed[ww] = removed[ww] | m[i * cb + ww];
		__syncwarp();
	}
	if (lane == 0)
		kept_count[s] = (int)nk;
}

/* ---- 5. merge and gather */
__global__ void merge_fill_kernel(dev_params p, const u64 *kept, const int *kept_count, u64 *mkeys, int *mvals)
{
	long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
	long long total = (long long)p.B * p.C * p.kc;
	if (t >= total)
		return;
	long long s = t / p.kc, k = t % p.kc;
	mkeys[t] = k < kept_count[s] ? kept[t] : ~0ull;
	mvals[t] = (int)(s % p.C);
}

__global__ void image_offsets_kernel(dev_params p, const int *kept_count, int *moff, int *img_count)
{
	int b = blockIdx.x * blockDim.x + threadIdx.x;
	if (b > p.B)
		return;
	moff[b] = (int)((long long)b * p.C * p.kc);
	if (b == p.B)
		return;
	long long n = 0;
	for (int c = 0; c < p.C; c++)
		n += kept_count[b * p.C + c];
	img_count[b] = (int)(n < p.K ? n : p.K);
}

template <typename T>
__global__ void gather_kernel(dev_params p, const T *boxes, const u64 *mkeys, const int *mvals, const int *img_count,
			      int composite, int32_t *det_count, float *det_boxes, float *det_scores,
			      int32_t *det_classes)
{
	long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
	if (t >= (long long)p.B * p.K)
		return;
	int b = (int)(t / p.K);
	long long k = t % p.K;
	int n = img_count[b];
	if (k == 0)
		det_count[b] = n;
	float o[4] = {0, 0, 0, 0}, sc = 0;
	int cls = 0;
	if (k < n) {
		long long src = (long long)b * p.C * p.kc + k;
		u64 key = mkeys[src];
		unsigned a = (unsigned)key;
		sc = from_desc((unsigned)(key >> 32));
		cls = mvals[src];
		if (composite)
			a /= (unsigned)p.C; /* low = anchor * C + class */
		const T *bb = boxes + ((long long)b * p.N + a) * 4;
		o[0] = __fmul_rn(ldf<T>(bb, 0), p.osx);
		o[1] = __fmul_rn(ldf<T>(bb, 1), p.osy);
		o[2] = __fmul_rn(ldf<T>(bb, 2), p.osx);
		o[3] = __fmul_rn(ldf<T>(bb, 3), p.osy);
	}
	for (int q = 0; q < 4; q++)
		det_boxes[t * 4 + q] = o[q];
	det_scores[t] = sc;
	det_classes[t] = cls;
}

} /* namespace */

#endif
