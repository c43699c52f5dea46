/*
 * nms.cu — BatchedNms on CUDA: the whole batch in one pass, no host synchronization, no
 * per-image launch loop, no allocation (workspace from cuda_nms_workspace_size). Semantics
 * identical to backend/cpu/nms.c (nms.h); keys make every order total, so results are
 * deterministic and equal to the CPU's bit for bit on the same inputs.
 *
 * Key of a candidate: u64 = (descending-order bits of the score) << 32 | low, low = anchor
 * (topk_mode 0) or anchor*C + class (topk_mode 1 level pass). Sorting keys ascending gives
 * higher score first, ties by lower anchor (then class).
 *
 * Two pipelines, chosen when the call is planned (cuda_nms_plan_create, once per node at
 * prepare): the default one (CUDA_NMS_FAST) sorts each segment in shared memory, one block per
 * segment (see "fast path" below: SSD300 b64 0.14 ms, b1 0.024 ms as a CUDA graph on an H100);
 * CUDA_NMS_CUB (ODET_NMS_SORT=cub when the engine is built or loaded) selects the CUB pipeline
 * described next (kept for A/B; 1.6 / 0.35 ms).
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
 *
 * Fused class scores (nms_params activation / layout set, pass_fuse_scores_nms): input 1 holds
 * logits ([B,N,C] or [B,C,N], f32 or f16 whatever the boxes' dtype) and the filter of either
 * pipeline is filter_logits_kernel: it computes each anchor's scores with ClassScores' own tile
 * code (class_scores_stage / class_scores_rows, scores.cuh) in shared memory and appends the same keys as filter /
 * filter2 would from ClassScores' output, so everything after the filter, and the detections,
 * are the same bit for bit. Only the filters read input 1. No extra workspace.
 */
#include <cub/cub.cuh>
#include <cuda_fp16.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cuda/cuda_util.h"
#include "backend/cuda/nms.h"
#include "backend/cuda/scores.cuh"

namespace {

typedef unsigned long long u64;

__device__ __forceinline__ unsigned desc_bits(float f)
{
	if (f == 0.0f)
		f = 0.0f; /* -0 == +0, as on the CPU */
	unsigned u = __float_as_uint(f);
	unsigned o = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
	return ~o;
}

__device__ __forceinline__ float from_desc(unsigned d)
{
	unsigned o = ~d;
	unsigned u = (o & 0x80000000u) ? (o & 0x7fffffffu) : ~o;
	return __uint_as_float(u);
}

template <typename T> __device__ __forceinline__ float ldf(const T *p, long long i);
template <> __device__ __forceinline__ float ldf<float>(const float *p, long long i) { return p[i]; }
template <> __device__ __forceinline__ float ldf<__half>(const __half *p, long long i) { return __half2float(p[i]); }

struct dev_params {
	float thr, iou;
	int mode, L, ge, C, N, B;
	long long topk;      /* effective, >= 1 */
	long long K, kc;     /* max detections; kept per class segment */
	long long bg;
	long long T;         /* capacity (rows) of a class segment for NMS */
	long long region;    /* class segment region stride in keys */
	int cbmax;
	float osx, osy;
	int act, layout;     /* fused class scores (input 1 is logits) */
	int level_start[NMS_MAX_LEVELS + 1];
};

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

/* ==== fast path (default; CUDA_NMS_CUB at plan time selects the pipeline above) ====
 * Same keys and semantics; per segment, one block sorts in shared memory what its top-k needs.
 * Launches: SSD-like plans (top-k <= FUSE_MAX, K <= SORT_MAX, segments <= BSEL_MAX) are one
 * memset + F1 + F3 + F4, at any batch; the optional steps below are chosen by the plan from the
 * parameters and shapes only (never from counts: graph capture, no host synchronization).
 *  F1. filter2: one read of the scores (values kept in registers between count and write);
 *  F2. (segments that can exceed BSEL_MAX keys) the multi-block select 2a; (top-k above
 *      SORT_MAX) cub::DeviceSegmentedRadixSort of the segments holding more than the block's
 *      capacity, begin == end for the others (bounds_kernel);
 *  F3. seg_kernel, one block per segment: n <= cap keys are sorted in shared memory (rank sort
 *      up to 256 keys, bitonic above); n > cap (possible only where k <= cap): an exact block
 *      radix select of the k smallest (64-bit keys, 11-bit digits, ends when the k-th key's
 *      bucket is taken whole), then the sort; segments CUB sorted are read from its output.
 *      Output: the sorted keys (global bitmask and greedy, 3 and scan2_kernel), the mode-1
 *      scatter into class regions (2b, then seg_kernel again over the class segments), or —
 *      rows T <= FUSE_MAX — the IoU bitmask and the greedy scan in shared memory (kept keys);
 *  F4. merge_kernel, one block per image: the first min(kept, K) of each class list, exact
 *      top-K select when they exceed the block's capacity, sort, gather (K > SORT_MAX: the CUB
 *      merge 5 on composite keys).
 * Kept keys are composite: (score bits) << 32 | anchor * C + class — unique per image and in
 * the CPU's order (score, anchor, class), so the per-image top-K needs no stable sort. */
#define BLK 256         /* threads of the block kernels (block_select's scan needs exactly this) */
#define SORT_MAX 8192   /* largest shared-memory sort (64 KiB of keys) */
#define BSEL_MAX 32768  /* larger segments use the multi-block select first */
#define FUSE_MAX 512    /* rows of a segment for the in-block bitmask */

/* F1: each thread holds 8 scores (one read); candidates counted per (block, segment) in shared
 * memory, one global atomic per (block, segment), then written; 32-bit index arithmetic */
template <typename T>
__global__ void __launch_bounds__(256) filter2_kernel(dev_params p, const T *scores, u64 *keys, int *seg_count)
{
	enum { ITEMS = 8 };
	extern __shared__ int sm[]; /* counters then bases, nloc each */
	const int b = blockIdx.y, nloc = p.mode == 0 ? p.C : p.L;
	int *cnt = sm, *base = sm + nloc;
	for (int k = threadIdx.x; k < nloc; k += blockDim.x)
		cnt[k] = 0;
	const unsigned NC = (unsigned)p.N * (unsigned)p.C; /* < 2^31 (plan); e below < 2^31 + 2^11 */
	const unsigned e0 = blockIdx.x * (256u * ITEMS) + threadIdx.x;
	const T *s = scores + (long long)b * NC;
	float v[ITEMS];
#pragma unroll
	for (int j = 0; j < ITEMS; j++) {
		unsigned e = e0 + j * 256u;
		v[j] = e < NC ? ldf<T>(s, (long long)e) : 0.0f;
	}
	__syncthreads();
	int i = (int)(e0 / (unsigned)p.C), c = (int)(e0 - (unsigned)i * (unsigned)p.C);
	const int di = 256 / p.C, dc = 256 - di * p.C;
	int pos[ITEMS], loc[ITEMS];
	unsigned low[ITEMS];
#pragma unroll
	for (int j = 0; j < ITEMS; j++) {
		pos[j] = -1;
		if (e0 + j * 256u < NC && c != p.bg && isfinite(v[j]) && v[j] > p.thr) {
			int l = c;
			low[j] = (unsigned)i;
			if (p.mode == 1) {
				l = 0;
				while (i >= p.level_start[l + 1])
					l++;
				low[j] = (unsigned)(i * p.C + c);
			}
			loc[j] = l;
			pos[j] = atomicAdd(&cnt[l], 1);
		}
		i += di, c += dc;
		if (c >= p.C)
			c -= p.C, i++;
	}
	__syncthreads();
	for (int k = threadIdx.x; k < nloc; k += blockDim.x)
		base[k] = cnt[k] ? atomicAdd(&seg_count[b * nloc + k], cnt[k]) : 0;
	__syncthreads();
#pragma unroll
	for (int j = 0; j < ITEMS; j++) {
		if (pos[j] < 0)
			continue;
		long long off = p.mode == 0 ? ((long long)b * p.C + loc[j]) * p.N
					    : (long long)b * NC + (long long)p.level_start[loc[j]] * p.C;
		keys[off + base[loc[j]] + pos[j]] = ((u64)desc_bits(v[j]) << 32) | low[j];
	}
}

/* ---- fused class scores: the filter of either pipeline reads the logits */
#define FL_MAX_C CUDA_NMS_FUSED_MAX_C /* classes: a row of logits in shared memory */

/* One block = TA consecutive anchors of image blockIdx.y, class_scores_kernel's tiling
 * (scores.cuh). (1) The tile's logits are staged in shared memory (class_scores_stage). (2)
 * class_scores_rows turns each row into scores in place, ClassScores' own arithmetic, so the
 * bits of its output; candidates (class != background, finite, > threshold) are counted per
 * segment in shared memory meanwhile. (3) One global atomic per (block, segment) reserves the
 * block's part of the region, as in filter2. (4) A second pass over the tile takes positions
 * (shared atomics again) and writes the keys of filter / filter2 into the same regions. 32-bit
 * indices inside an image (N*C < 2^31, plan). */
template <typename T>
__global__ void __launch_bounds__(CS_THREADS) filter_logits_kernel(dev_params p, int TA, const T *x, u64 *keys,
								   int *seg_count)
{
	extern __shared__ float fl_sm[]; /* tile [TA][C|1], then counters and bases, nloc each */
	const int b = blockIdx.y, C = p.C, N = p.N, S = C | 1;
	const int a0 = blockIdx.x * TA, na = min(TA, N - a0);
	const int nloc = p.mode == 0 ? C : p.L;
	float *tile = fl_sm;
	int *cnt = (int *)(fl_sm + TA * S), *base = cnt + nloc;
	const T *xb = x + (long long)b * N * C;
	const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarp = blockDim.x >> 5;
	for (int k = threadIdx.x; k < nloc; k += blockDim.x)
		cnt[k] = 0;
	class_scores_stage(p.layout, C, N, TA, a0, na, xb, tile, [](const T *q, int i) { return ldf<T>(q, i); });
	class_scores_rows(p.act, C, TA, na, tile, [&](int a, int c, float v) {
		if (c == p.bg || !isfinite(v) || !(v > p.thr))
			return;
		int l = 0;
		if (p.mode == 1)
			while (a0 + a >= p.level_start[l + 1])
				l++;
		atomicAdd(&cnt[p.mode == 0 ? c : l], 1);
	});
	for (int k = threadIdx.x; k < nloc; k += blockDim.x) {
		base[k] = cnt[k] ? atomicAdd(&seg_count[b * nloc + k], cnt[k]) : 0;
		cnt[k] = 0;
	}
	__syncthreads();
	const unsigned NC = (unsigned)N * (unsigned)C;
	for (int a = warp; a < na; a += nwarp) {
		const float *row = tile + a * S;
		const int i = a0 + a;
		int l = 0;
		if (p.mode == 1)
			while (i >= p.level_start[l + 1])
				l++;
		for (int c = lane; c < C; c += 32) {
			const float v = row[c];
			if (c == p.bg || !isfinite(v) || !(v > p.thr))
				continue;
			const int seg = p.mode == 0 ? c : l, pos = atomicAdd(&cnt[seg], 1);
			const long long off = p.mode == 0 ? ((long long)b * C + c) * N
							  : (long long)b * NC + (long long)p.level_start[l] * C;
			const unsigned low = p.mode == 0 ? (unsigned)i : (unsigned)(i * C + c);
			keys[off + base[seg] + pos] = ((u64)desc_bits(v) << 32) | low;
		}
	}
}

/* region of segment s: s * region (mode 0; class segments), or its (image, level) range */
__device__ __forceinline__ long long region_start(const dev_params &p, int level, int s)
{
	if (!level)
		return (long long)s * p.region;
	int b = s / p.L, l = s % p.L;
	return (long long)b * p.N * p.C + (long long)p.level_start[l] * p.C;
}

/* beg = region start; end = beg + count when count > cap (cap < 0: always), else beg */
__global__ void bounds_kernel(dev_params p, int n_seg, int level, const int *cnt, int cap, int *beg, int *end)
{
	int s = blockIdx.x * blockDim.x + threadIdx.x;
	if (s >= n_seg)
		return;
	long long st = region_start(p, level, s);
	beg[s] = (int)st;
	end[s] = (int)(st + (cap < 0 || cnt[s] > cap ? cnt[s] : 0));
}

/* ascending sort of buf[0..n) in shared memory, written by any thread of the block before the
 * call (no barrier needed there): up to blockDim keys (distinct) by rank, more by a bitonic sort (room for the next power of two; padding sorts last). Thread t compares pairs t, t + blockDim, ...: for a distance j <= 32 both keys of every pair
 * of a warp lie in that warp's own 64-key chunks, so consecutive such steps need only
 * __syncwarp; a step of larger distance waits for the whole block. */
__device__ void block_sort(u64 *buf, int n)
{
	if (n <= (int)blockDim.x) { /* rank sort (distinct keys): n independent broadcast reads */
		const int i = threadIdx.x;
		u64 key = 0;
		int rank = 0;
		__syncthreads(); /* the caller's writes of buf */
		if (i < n) {
			key = buf[i];
			int j = 0;
			for (; j + 4 <= n; j += 4)
				rank += (buf[j] < key) + (buf[j + 1] < key) + (buf[j + 2] < key) + (buf[j + 3] < key);
			for (; j < n; j++)
				rank += buf[j] < key;
		}
		__syncthreads();
		if (i < n)
			buf[rank] = key;
		__syncthreads();
		return;
	}
	int p = 1;
	while (p < n)
		p <<= 1;
	for (int i = n + threadIdx.x; i < p; i += blockDim.x)
		buf[i] = ~0ull; /* padding sorts last */
	__syncthreads();
	for (int k = 2; k <= p; k <<= 1)
		for (int j = k >> 1; j > 0; j >>= 1) {
			for (int t = threadIdx.x; t < p / 2; t += blockDim.x) {
				int i = 2 * t - (t & (j - 1)), l = i + j;
				u64 x = buf[i], y = buf[l];
				if ((x > y) == ((i & k) == 0)) {
					buf[i] = y;
					buf[l] = x;
				}
			}
			/* next step: distance j / 2, or k (the first step of 2k); none after (p, 1) */
			const int next = j > 1 ? j >> 1 : k;
			if (j <= 32 && next <= 32 && (j > 1 || k < p))
				__syncwarp();
			else
				__syncthreads();
		}
}

typedef cub::BlockScan<int, BLK> blk_scan_t;
struct sel_shared {
	typename blk_scan_t::TempStorage scan;
	u64 prefix;
	int need, done, fill;
};

/* the k smallest (0 < k < n) of the n distinct keys src[0..n) into buf[0..k), unordered: radix
 * select from the top in digits of 11, 11, 10, 11, 11, 10 bits, until the bucket of the k-th
 * key is taken whole (at the latest at the last digit: keys are distinct); the histogram (2048
 * ints) aliases buf. Blocks of BLK threads. */
__device__ void block_select(const u64 *src, int n, int k, u64 *buf, sel_shared &sh)
{
	int *hist = (int *)buf;
	const int tid = threadIdx.x, lane = tid & 31;
	if (tid == 0)
		sh.prefix = 0, sh.need = k, sh.done = 0, sh.fill = 0;
	int shift = 0;
	for (int pass = 0; pass < 6; pass++) {
		const int bits = pass == 2 || pass == 5 ? 10 : 11;
		shift = pass == 0 ? 53 : pass == 1 ? 42 : pass == 2 ? 32 : pass == 3 ? 21 : pass == 4 ? 10 : 0;
		const int top = shift + bits;
		for (int q = tid; q < 2048; q += BLK)
			hist[q] = 0;
		__syncthreads();
		const u64 pre = sh.prefix;
		const int need = sh.need;
		for (int i = tid; i < n; i += BLK) {
			u64 x = src[i];
			if (top == 64 || (x >> top) == (pre >> top))
				atomicAdd(&hist[(int)(x >> shift) & ((1 << bits) - 1)], 1);
		}
		__syncthreads();
		int h[2048 / BLK], sum = 0;
#pragma unroll
		for (int q = 0; q < 2048 / BLK; q++)
			sum += h[q] = hist[tid * (2048 / BLK) + q];
		int excl;
		blk_scan_t(sh.scan).ExclusiveSum(sum, excl);
		if (excl < need && need <= excl + sum) {
			int cum = excl;
#pragma unroll
			for (int q = 0; q < 2048 / BLK; q++) {
				if (cum < need && need <= cum + h[q]) {
					sh.prefix = pre | ((u64)(tid * (2048 / BLK) + q) << shift);
					sh.need = need - cum;
					sh.done = h[q] == need - cum;
				}
				cum += h[q];
			}
		}
		__syncthreads();
		if (sh.done)
			break;
	}
	const u64 thr = sh.prefix >> shift; /* keep x with (x >> shift) <= thr: exactly k keys */
	for (int i0 = 0; i0 < n; i0 += BLK) {
		int i = i0 + tid;
		u64 x = i < n ? src[i] : ~0ull;
		bool keep = i < n && (x >> shift) <= thr;
		unsigned m = __ballot_sync(0xffffffffu, keep);
		int wpos = 0;
		if (lane == 0 && m)
			wpos = atomicAdd(&sh.fill, __popc(m));
		wpos = __shfl_sync(0xffffffffu, wpos, 0) + __popc(m & ((1u << lane) - 1));
		if (keep && wpos < k)
			buf[wpos] = x;
	}
	__syncthreads();
}

/* greedy NMS of one segment by one warp over its bitmask m (n rows of cb words; words left of
 * the diagonal tile unused): per 64-row tile the diagonal word decides the tile's rows in
 * registers, then the kept rows' words right of it are OR-ed into rem (cb words, any memory).
 * Kept keys go to out as composite keys; returns the count kept (<= kc) in every lane. */
__device__ long long greedy_warp(const u64 *m, int n, int cb, volatile u64 *rem, const u64 *keys, long long kc,
				 unsigned C, unsigned c, u64 *out)
{
	const int lane = threadIdx.x & 31;
	for (int w = lane; w < cb; w += 32)
		rem[w] = 0;
	__syncwarp();
	long long nk = 0;
	for (int w = 0; w < cb && nk < kc; w++) {
		const int r0 = w * 64, jn = min(64, n - r0);
		const u64 d0 = lane < jn ? m[(long long)(r0 + lane) * cb + w] : 0;
		const u64 d1 = lane + 32 < jn ? m[(long long)(r0 + lane + 32) * cb + w] : 0;
		u64 cur = rem[w], km = 0;
		const long long nk0 = nk;
#pragma unroll
		for (int j = 0; j < 64; j++) {
			u64 row = __shfl_sync(0xffffffffu, j < 32 ? d0 : d1, j & 31);
			if (j < jn && !((cur >> j) & 1ull) && nk < kc) {
				cur |= row;
				km |= 1ull << j;
				nk++;
			}
		}
		for (int h = 0; h < 2; h++) {
			const int j = lane + 32 * h;
			if ((km >> j) & 1ull) {
				u64 key = keys[r0 + j];
				out[nk0 + __popcll(km & ((1ull << j) - 1))] =
					(key & 0xffffffff00000000ull) | (u64)((unsigned)key * C + c);
			}
		}
		for (int ww = w + 1 + lane; ww < cb; ww += 32) {
			u64 acc = rem[ww], bits = km;
			while (bits) { /* four independent loads in flight */
				int j[4];
#pragma unroll
				for (int q = 0; q < 4; q++) {
					j[q] = bits ? __ffsll((long long)bits) - 1 : -1;
					bits &= bits - 1;
				}
				u64 x[4];
#pragma unroll
				for (int q = 0; q < 4; q++)
					x[q] = j[q] >= 0 ? m[(long long)(r0 + j[q]) * cb + ww] : 0;
				acc |= x[0] | x[1] | x[2] | x[3];
			}
			rem[ww] = acc;
		}
		__syncwarp();
	}
	return nk;
}

/* shared-memory layout of the in-block bitmask for segments of up to T rows */
__host__ __device__ inline void fuse_layout(long long T, size_t *o_box, size_t *o_area, size_t *o_mask, size_t *o_rem,
					    size_t *total)
{
	long long cb = (T + 63) / 64;
	*o_box = ((size_t)T * 8 + 15) & ~(size_t)15;
	*o_area = *o_box + (size_t)T * 16;
	*o_mask = (*o_area + (size_t)T * 4 + 15) & ~(size_t)15;
	*o_rem = *o_mask + (size_t)(T * cb) * 8;
	*total = *o_rem + (size_t)cb * 8;
}

struct seg_args {
	const u64 *in;   /* candidates, one region per segment */
	const u64 *pre;  /* CUB-sorted regions of the segments holding more than cap, or NULL */
	const int *cnt;
	long long k;     /* first k of each segment */
	int cap, level, out;
	u64 *sorted;     /* out 0: sorted keys (region of the segment) + bitmask sizes */
	int *nseg;
	long long *tiles, *words;
	u64 *ckeys;      /* out 1: mode-1 scatter into (image, class) regions */
	int *ccount;
	u64 *kept;       /* out 2: bitmask + greedy here, kept composite keys */
	int *kcount;
};

template <typename T>
__global__ void __launch_bounds__(BLK) seg_kernel(dev_params p, seg_args a, const T *boxes)
{
	extern __shared__ __align__(16) unsigned char smem[];
	__shared__ sel_shared sh;
	u64 *buf = (u64 *)smem;
	const int s = blockIdx.x, tid = threadIdx.x;
	const int n = a.cnt[s];
	const int m = (int)(n < a.k ? n : a.k);
	if (m == 0) {
		if (tid == 0) {
			if (a.out == 0)
				a.nseg[s] = 0, a.tiles[s] = 0, a.words[s] = 0;
			else if (a.out == 2)
				a.kcount[s] = 0;
		}
		return;
	}
	const long long st = region_start(p, a.level, s);
	const bool pre = n > a.cap && a.pre; /* sorted by CUB already, m may exceed cap */
	if (!pre) {
		if (n > a.cap) {
			block_select(a.in + st, n, m, buf, sh); /* plan: k <= cap here */
			block_sort(buf, m);
		} else {
			for (int i = tid; i < n; i += BLK)
				buf[i] = a.in[st + i];
			block_sort(buf, n);
		}
	}
	const u64 *srt = pre ? a.pre + st : buf;
	if (a.out == 0) {
		if (!pre)
			for (int i = tid; i < m; i += BLK)
				a.sorted[st + i] = buf[i];
		if (tid == 0) {
			long long cb = (m + 63) / 64;
			a.nseg[s] = m, a.tiles[s] = cb * cb, a.words[s] = m * cb;
		}
		return;
	}
	if (a.out == 1) {
		const int b = s / p.L;
		for (int i = tid; i < m; i += BLK) {
			u64 key = srt[i];
			unsigned low = (unsigned)key;
			int ia = (int)(low / (unsigned)p.C), c = (int)(low % (unsigned)p.C);
			int cs = b * p.C + c;
			int pos = atomicAdd(&a.ccount[cs], 1);
			a.ckeys[(long long)cs * p.region + pos] = (key & 0xffffffff00000000ull) | (unsigned)ia;
		}
		return;
	}
	/* out 2: m <= T <= FUSE_MAX rows, keys in buf */
	size_t o_box, o_area, o_mask, o_rem, tot;
	fuse_layout(p.T, &o_box, &o_area, &o_mask, &o_rem, &tot);
	float4 *bx = (float4 *)(smem + o_box);
	float *ar = (float *)(smem + o_area);
	u64 *msk = (u64 *)(smem + o_mask), *rem = (u64 *)(smem + o_rem);
	const int b = s / p.C, c = s % p.C, cb = (m + 63) / 64;
	const T *bb = boxes + (long long)b * p.N * 4;
	for (int r = tid; r < m; r += BLK) {
		float o[4], area;
		load_box<T>(bb, (unsigned)buf[r], o, &area);
		bx[r] = make_float4(o[0], o[1], o[2], o[3]);
		ar[r] = area;
	}
	__syncthreads();
	/* bitmask in 32-bit halves: item (strip h of columns 32h..32h+31, row r) for the rows
	 * r < 64 * (h / 2 + 1) (the rest lie left of their diagonal tile: never read); strip-major,
	 * so the lanes of a warp take rows of one strip (equal trip counts, broadcast columns) */
	unsigned *msk32 = (unsigned *)msk;
	int n_items = 0;
	for (int h = 0; h < 2 * cb; h++)
		n_items += min(m, 64 * (h / 2) + 64);
	int h = 0, h_base = 0;
	for (int it = tid; it < n_items; it += BLK) {
		while (it - h_base >= min(m, 64 * (h / 2) + 64))
			h_base += min(m, 64 * (h / 2) + 64), h++;
		const int r = it - h_base;
		const float4 rv = bx[r];
		const float rb[4] = {rv.x, rv.y, rv.z, rv.w}, ra = ar[r];
		const int q1 = min(32 * h + 32, m);
		unsigned bits = 0;
		for (int q = max(32 * h, r + 1); q < q1; q++) {
			const float4 qv = bx[q];
			const float qb[4] = {qv.x, qv.y, qv.z, qv.w};
			if (suppresses(rb, ra, qb, ar[q], p.iou, p.ge))
				bits |= 1u << (q - 32 * h);
		}
		msk32[((long long)r * cb + (h >> 1)) * 2 + (h & 1)] = bits; /* little-endian halves */
	}
	__syncthreads();
	if (tid < 32) {
		long long nk = greedy_warp(msk, m, cb, rem, buf, p.kc, (unsigned)p.C, (unsigned)c, a.kept + (long long)s * p.kc);
		if (tid == 0)
			a.kcount[s] = (int)nk;
	}
}

/* 4. greedy scan over the global bitmask (fast path): one warp per segment, rem in shared
 * memory when cbmax words per warp fit (smem_rem), else in removed_all */
__global__ void scan2_kernel(dev_params p, const u64 *sorted, const int *n_seg, const long long *words_incl,
			     const u64 *mask, u64 *removed_all, int smem_rem, u64 *kept, int *kept_count)
{
	extern __shared__ u64 srem[];
	const int s = (blockIdx.x * blockDim.x + threadIdx.x) >> 5, wib = threadIdx.x >> 5;
	if (s >= p.B * p.C)
		return;
	const int n = n_seg[s], cb = (n + 63) / 64;
	u64 *rem = smem_rem ? srem + (long long)wib * p.cbmax : removed_all + (long long)s * p.cbmax;
	const u64 *m = mask + (words_incl[s] - (long long)n * cb);
	long long nk = greedy_warp(m, n, cb, rem, sorted + (long long)s * p.region, p.kc, (unsigned)p.C,
				   (unsigned)(s % p.C), kept + (long long)s * p.kc);
	if ((threadIdx.x & 31) == 0)
		kept_count[s] = (int)nk;
}

/* 5. per image: first min(count, K) of each class's kept list (sorted, composite keys) ->
 * exact top-K (select when more than capm) -> sort -> gather */
template <typename T>
__global__ void __launch_bounds__(BLK) merge_kernel(dev_params p, const u64 *kept, const int *kept_count, u64 *scratch,
						    int capm, int coff, const T *boxes, int32_t *det_count, float *det_boxes,
						    float *det_scores, int32_t *det_classes)
{
	extern __shared__ __align__(16) unsigned char smem[];
	__shared__ sel_shared sh;
	__shared__ int s_tot, s_fill;
	u64 *buf = (u64 *)smem;
	const int b = blockIdx.x, tid = threadIdx.x, lane = tid & 31;
	const int K = (int)p.K; /* <= SORT_MAX here */
	int *off = (int *)(smem + (size_t)capm * 8); /* C + 1 class offsets, when coff */
	if (tid == 0)
		s_tot = 0, s_fill = 0;
	__syncthreads();
	if (coff) { /* class offsets by a block scan, then a flat copy with independent loads */
		const int per = (p.C + BLK - 1) / BLK, c0 = min(tid * per, p.C), c1 = min(c0 + per, p.C);
		int loc = 0;
		for (int c = c0; c < c1; c++)
			loc += min(kept_count[b * p.C + c], K);
		int excl;
		blk_scan_t(sh.scan).ExclusiveSum(loc, excl);
		for (int c = c0; c < c1; c++) {
			off[c] = excl;
			excl += min(kept_count[b * p.C + c], K);
		}
		if (tid == BLK - 1)
			off[p.C] = s_tot = excl;
		__syncthreads();
	} else {
		int loc = 0;
		for (int c = tid; c < p.C; c += BLK)
			loc += min(kept_count[b * p.C + c], K);
		if (loc)
			atomicAdd(&s_tot, loc);
		__syncthreads();
	}
	const int tot = s_tot;
	u64 *dst = tot <= capm ? buf : scratch + (long long)b * p.C * p.kc;
	if (coff) {
		for (int i0 = 0; i0 < tot; i0 += 4 * BLK) {
			u64 x[4];
#pragma unroll
			for (int q = 0; q < 4; q++) {
				const int i = i0 + q * BLK + tid;
				x[q] = 0;
				if (i < tot) {
					int lo = 0, hi = p.C - 1; /* last class starting at or before i: holds i */
					while (lo < hi) {
						int mid = (lo + hi + 1) >> 1;
						if (off[mid] <= i)
							lo = mid;
						else
							hi = mid - 1;
					}
					x[q] = kept[((long long)b * p.C + lo) * p.kc + (i - off[lo])];
				}
			}
#pragma unroll
			for (int q = 0; q < 4; q++)
				if (i0 + q * BLK + tid < tot)
					dst[i0 + q * BLK + tid] = x[q];
		}
	} else {
		for (int c = tid >> 5; c < p.C; c += BLK / 32) {
			const int nc = min(kept_count[b * p.C + c], K);
			const u64 *src = kept + ((long long)b * p.C + c) * p.kc;
			for (int k0 = 0; k0 < nc; k0 += 32) {
				const int k = k0 + lane;
				unsigned bal = __ballot_sync(0xffffffffu, k < nc);
				int pos = 0;
				if (lane == 0)
					pos = atomicAdd(&s_fill, __popc(bal));
				pos = __shfl_sync(0xffffffffu, pos, 0) + __popc(bal & ((1u << lane) - 1));
				if (k < nc)
					dst[pos] = src[k];
			}
		}
	}
	__syncthreads();
	int nsort = tot;
	if (tot > capm) {
		block_select(dst, tot, K, buf, sh);
		nsort = K;
	}
	block_sort(buf, nsort);
	const int nout = min(tot, K);
	const T *bb = boxes + (long long)b * p.N * 4;
	for (int r = tid; r < K; r += BLK) {
		float o[4] = {0, 0, 0, 0}, sc = 0;
		int cls = 0;
		if (r < nout) {
			u64 key = buf[r];
			unsigned low = (unsigned)key, a = low / (unsigned)p.C;
			cls = (int)(low - a * (unsigned)p.C);
			sc = from_desc((unsigned)(key >> 32));
			o[0] = __fmul_rn(ldf<T>(bb, (long long)a * 4 + 0), p.osx);
			o[1] = __fmul_rn(ldf<T>(bb, (long long)a * 4 + 1), p.osy);
			o[2] = __fmul_rn(ldf<T>(bb, (long long)a * 4 + 2), p.osx);
			o[3] = __fmul_rn(ldf<T>(bb, (long long)a * 4 + 3), p.osy);
		}
		long long t = (long long)b * p.K + r;
		for (int q = 0; q < 4; q++)
			det_boxes[t * 4 + q] = o[q];
		det_scores[t] = sc;
		det_classes[t] = cls;
	}
	if (tid == 0)
		det_count[b] = nout;
}

/* ---- workspace plan */
struct plan {
	int64_t B, N, C;     /* the shapes it was made for */
	dev_params d;
	long long S1;        /* filter segments */
	long long items;     /* B*N*C */
	long long S;         /* class segments B*C */
	long long mitems;    /* B*C*kc */
	long long mask_words;
	size_t off_keysA, off_keysB, off_cnt1, off_beg1, off_end1, off_lstart, off_cnt2, off_beg2, off_end2, off_n,
		off_tiles, off_words, off_tiles_incl, off_words_incl, off_mask, off_removed, off_kept, off_kcount,
		off_mk_in, off_mk_out, off_mv_in, off_mv_out, off_moff, off_imgc, off_temp;
	size_t off_hist, off_prefix, off_need, off_ncnt;
	bool select;         /* top-k select before the first sort (2a) */
	int sel_blocks;      /* blocks per segment for the select passes */
	size_t temp_bytes, total;
	/* fast path */
	bool fast;           /* else the CUB pipeline (CUDA_NMS_CUB) */
	int cap1, cap2;      /* shared-memory sort capacity: first-stage segments, mode-1 class segments */
	bool cub1, cub2;     /* segments above the capacity sorted by CUB first */
	bool fused;          /* bitmask + greedy inside seg_kernel (T <= FUSE_MAX) */
	bool mblock;         /* per-image merge in merge_kernel (K <= SORT_MAX), else the CUB merge */
	int capm, coff;
	size_t smem1, smem2, smemm, smem_scan;
	size_t off_keysC, off_keysD;
	/* fused class scores (input 1 is logits): filter_logits_kernel's anchors per block, smem */
	bool logits;
	int fta;
	size_t fsmem;
};

/* shared-memory sort capacity for segments of at most nmax keys of which the first k count:
 * 0 when k exceeds SORT_MAX (larger segments then go through CUB, the block takes 4096) */
static int choose_cap(long long nmax, long long k)
{
	long long need = nmax <= SORT_MAX ? nmax : k <= SORT_MAX ? k : 0;
	int cap = 64;
	if (!need)
		return 4096;
	while (cap < need)
		cap <<= 1;
	if (nmax > cap && cap < 2048)
		cap = 2048; /* block select: its histogram (8 KiB) lives in the buffer */
	return cap;
}

static size_t seg_smem(int cap, long long nmax, bool fused, long long T)
{
	size_t b = (size_t)cap * 8, o1, o2, o3, o4, f;
	if (nmax > cap && b < 8192)
		b = 8192;
	if (fused) {
		fuse_layout(T, &o1, &o2, &o3, &o4, &f);
		if (f > b)
			b = f;
	}
	return b;
}

odet_status make_plan(const nms_params *np, int64_t B, int64_t N, int64_t C, bool fast, plan *pl)
{
	memset(pl, 0, sizeof *pl);
	pl->B = B, pl->N = N, pl->C = C;
	dev_params &d = pl->d;
	if (B < 1 || N < 0 || C < 1 || np->max_detections < 1 || np->n_levels > NMS_MAX_LEVELS)
		return ODET_ERR_INVALID_ARG;
	long long items;
	if (__builtin_mul_overflow((long long)B * N, (long long)C, &items) || items >= (1ll << 31) ||
	    B * C >= (1ll << 31))
		return ODET_ERR_LIMIT;
	d.thr = np->score_threshold;
	d.iou = np->iou_threshold;
	d.mode = np->topk_mode;
	d.ge = np->iou_ge;
	d.B = (int)B, d.N = (int)N, d.C = (int)C;
	d.bg = np->background;
	d.K = np->max_detections;
	d.osx = np->out_scale_x, d.osy = np->out_scale_y;
	d.act = np->activation, d.layout = np->layout;
	pl->logits = nms_fused_scores(np);
	if (pl->logits) {
		if (d.act < 0 || d.act > 2 || (d.layout != 0 && d.layout != 1))
			return ODET_ERR_INVALID_ARG;
		if (C > FL_MAX_C || B > 65535)
			return ODET_ERR_UNSUPPORTED; /* a row in shared memory; images in gridDim.y */
		pl->fta = class_scores_tile(C);
		const long long nloc = d.mode == 0 ? C : np->n_levels;
		pl->fsmem = ((size_t)pl->fta * (size_t)(C | 1) + 2 * (size_t)nloc) * 4;
	}
	d.L = d.mode == 1 ? np->n_levels : 0;
	d.level_start[0] = 0;
	long long maxlevel = 0;
	for (int l = 0; l < d.L; l++) {
		d.level_start[l + 1] = d.level_start[l] + (int)np->level_sizes[l];
		if (np->level_sizes[l] > maxlevel)
			maxlevel = np->level_sizes[l];
	}
	long long Nn = N > 0 ? N : 1;
	if (d.mode == 0) {
		d.topk = np->topk > 0 && np->topk < Nn ? np->topk : Nn;
		d.T = d.topk;
		d.region = Nn;
		pl->S1 = B * C;
	} else {
		long long lk = maxlevel * C > 0 ? maxlevel * C : 1;
		d.topk = np->topk > 0 && np->topk < lk ? np->topk : lk;
		long long per_img = d.topk * d.L;
		d.T = per_img < Nn ? per_img : Nn;
		d.region = d.T;
		pl->S1 = B * d.L;
	}
	d.kc = d.K < d.T ? d.K : d.T;
	if (np->max_per_class > 0 && d.kc > np->max_per_class)
		d.kc = np->max_per_class; /* ONNX max_output_boxes_per_class */
	if (d.kc < 1)
		d.kc = 1;
	d.cbmax = (int)((d.T + 63) / 64);
	pl->items = items > 0 ? items : 1;
	pl->S = B * C;
	pl->mitems = pl->S * d.kc;
	/* bitmask words: per image, sum n_c * ceil(n_c / 64) with n_c <= T and sum n_c <= M */
	long long M = d.mode == 0 ? C * d.T : d.T * 1; /* mode 1: all candidates of an image <= L*topk */
	if (d.mode == 1)
		M = d.topk * d.L;
	long long w1 = C * d.T * (long long)d.cbmax, w2 = M * ((M + 63) / 64);
	pl->mask_words = B * (w1 < w2 ? w1 : w2);
	if (pl->mask_words < 1)
		pl->mask_words = 1;
	/* cub temporary storage: the largest of the sorts and scans */
	size_t tb = 0, t;
	u64 *kn = NULL;
	int *in = NULL;
	long long *ln = NULL;
	if (cub::DeviceSegmentedRadixSort::SortKeys(NULL, t, kn, kn, pl->items, pl->S1, in, in))
		return ODET_ERR_DEVICE;
	tb = t > tb ? t : tb;
	if (d.mode == 1) {
		if (cub::DeviceSegmentedRadixSort::SortKeys(NULL, t, kn, kn, pl->S * d.region, pl->S, in, in))
			return ODET_ERR_DEVICE;
		tb = t > tb ? t : tb;
	}
	if (cub::DeviceScan::InclusiveSum(NULL, t, ln, ln, (int)pl->S))
		return ODET_ERR_DEVICE;
	tb = t > tb ? t : tb;
	if (cub::DeviceSegmentedRadixSort::SortPairs(NULL, t, kn, kn, in, in, pl->mitems, B, in, in))
		return ODET_ERR_DEVICE;
	tb = t > tb ? t : tb;
	pl->temp_bytes = tb;
	pl->fast = fast;
	{
		long long seg_max = d.mode == 0 ? Nn : maxlevel * C; /* largest first-sort segment */
		pl->select = pl->S1 <= 65535 && d.topk < seg_max;
		long long nb = (seg_max + 2047) / 2048;
		pl->sel_blocks = (int)(nb < 1 ? 1 : nb > 512 ? 512 : nb);
		if (pl->fast) {
			/* at most ~8192 blocks per select pass over all segments (most blocks of a segment
			 * sized for seg_max find nothing; grid-stride loops cover any count) */
			long long per = 8192 / pl->S1;
			if (pl->sel_blocks > per)
				pl->sel_blocks = (int)(per < 8 ? 8 : per);
			pl->cap1 = choose_cap(seg_max, d.topk);
			pl->cub1 = d.topk > pl->cap1;
			pl->select = pl->select && (seg_max > BSEL_MAX || pl->cub1);
			pl->fused = d.T <= FUSE_MAX;
			pl->smem1 = seg_smem(pl->cap1, seg_max, d.mode == 0 && pl->fused, d.T);
			if (d.mode == 1) {
				pl->cap2 = choose_cap(d.T, d.T);
				pl->cub2 = d.T > pl->cap2;
				pl->smem2 = seg_smem(pl->cap2, d.T, pl->fused, d.T);
			}
			pl->mblock = d.K <= SORT_MAX;
			pl->capm = 2048;
			while (pl->capm < d.K)
				pl->capm <<= 1;
			pl->coff = C <= 8192; /* class offsets in shared memory */
			pl->smemm = (size_t)pl->capm * 8 + (pl->coff ? (size_t)(C + 1) * 4 : 0);
			pl->smem_scan = (size_t)4 * d.cbmax * 8;
			if (pl->smem_scan > 48 * 1024)
				pl->smem_scan = 0; /* removed words in global memory */
		}
	}
	size_t o = 0;
#define SLICE(field, bytes) (pl->field = o, o += odet_cuda_align((size_t)(bytes)))
	long long S1 = pl->S1, S = pl->S;
	const bool f = pl->fast, needB = !f || pl->select || pl->cub1, gmask = !f || !pl->fused;
	const bool cmerge = !f || !pl->mblock;
	SLICE(off_keysA, pl->items * 8);
	SLICE(off_keysB, needB ? pl->items * 8 : 0);
	SLICE(off_keysC, f && d.mode == 1 ? pl->S * d.region * 8 : 0);
	SLICE(off_keysD, f && d.mode == 1 && pl->cub2 ? pl->S * d.region * 8 : 0);
	SLICE(off_cnt1, S1 * 4);
	SLICE(off_beg1, S1 * 4);
	SLICE(off_end1, S1 * 4);
	SLICE(off_lstart, S1 * 8);
	SLICE(off_cnt2, S * 4);
	SLICE(off_beg2, S * 4);
	SLICE(off_end2, S * 4);
	SLICE(off_n, S * 4);
	SLICE(off_tiles, S * 8);
	SLICE(off_words, S * 8);
	SLICE(off_tiles_incl, S * 8);
	SLICE(off_words_incl, S * 8);
	SLICE(off_mask, gmask ? pl->mask_words * 8 : 0);
	SLICE(off_removed, gmask ? S * (long long)d.cbmax * 8 + 8 : 0);
	SLICE(off_kept, pl->mitems * 8);
	SLICE(off_kcount, S * 4);
	SLICE(off_mk_in, pl->mitems * 8);
	SLICE(off_mk_out, cmerge ? pl->mitems * 8 : 0);
	SLICE(off_mv_in, cmerge ? pl->mitems * 4 : 0);
	SLICE(off_mv_out, cmerge ? pl->mitems * 4 : 0);
	SLICE(off_moff, (B + 1) * 4);
	SLICE(off_imgc, B * 4);
	SLICE(off_temp, tb);
	SLICE(off_hist, pl->select ? S1 * SEL_BINS * 4 : 0);
	SLICE(off_prefix, pl->select ? S1 * 4 : 0);
	SLICE(off_need, pl->select ? S1 * 4 : 0);
	SLICE(off_ncnt, pl->select ? S1 * 4 : 0);
#undef SLICE
	pl->total = o;
	return ODET_OK;
}

static odet_status smem_attr(const void *fn, size_t bytes)
{
	if (bytes <= 48 * 1024)
		return ODET_OK;
	return ODET_CUDA(cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes));
}

/* F1/1 with fused class scores: the logits' filter (either pipeline) */
template <typename TS>
odet_status launch_filter_logits(const plan &pl, const TS *logits, u64 *keys, int *seg_count, cudaStream_t st)
{
	const dev_params &d = pl.d;
	odet_status rc = smem_attr((const void *)filter_logits_kernel<TS>, pl.fsmem);
	if (rc)
		return rc;
	dim3 grid((unsigned)((d.N + pl.fta - 1) / pl.fta), (unsigned)d.B);
	filter_logits_kernel<TS><<<grid, CS_THREADS, pl.fsmem, st>>>(d, pl.fta, logits, keys, seg_count);
	return ODET_OK;
}

/* The workspace's regions as typed pointers (offsets from the plan), for both pipelines. */
struct ws_view {
	u64 *keysA, *keysB, *keysC, *keysD, *mask, *removed, *kept, *mk_in, *mk_out;
	int *cnt1, *beg1, *end1, *cnt2, *beg2, *end2, *nseg, *kcount, *mv_in, *mv_out, *moff, *imgc, *hist, *need, *ncnt;
	long long *lstart, *tiles, *words, *tiles_incl, *words_incl;
	unsigned *prefix;
	void *temp; /* CUB's temporary storage, temp_bytes */
};

static ws_view ws_view_of(const plan &pl, unsigned char *ws)
{
	ws_view w;
	w.keysA = (u64 *)(ws + pl.off_keysA);
	w.keysB = (u64 *)(ws + pl.off_keysB);
	w.keysC = (u64 *)(ws + pl.off_keysC);
	w.keysD = (u64 *)(ws + pl.off_keysD);
	w.mask = (u64 *)(ws + pl.off_mask);
	w.removed = (u64 *)(ws + pl.off_removed);
	w.kept = (u64 *)(ws + pl.off_kept);
	w.mk_in = (u64 *)(ws + pl.off_mk_in);
	w.mk_out = (u64 *)(ws + pl.off_mk_out);
	w.cnt1 = (int *)(ws + pl.off_cnt1);
	w.beg1 = (int *)(ws + pl.off_beg1);
	w.end1 = (int *)(ws + pl.off_end1);
	w.cnt2 = (int *)(ws + pl.off_cnt2);
	w.beg2 = (int *)(ws + pl.off_beg2);
	w.end2 = (int *)(ws + pl.off_end2);
	w.nseg = (int *)(ws + pl.off_n);
	w.kcount = (int *)(ws + pl.off_kcount);
	w.mv_in = (int *)(ws + pl.off_mv_in);
	w.mv_out = (int *)(ws + pl.off_mv_out);
	w.moff = (int *)(ws + pl.off_moff);
	w.imgc = (int *)(ws + pl.off_imgc);
	w.hist = (int *)(ws + pl.off_hist);
	w.need = (int *)(ws + pl.off_need);
	w.ncnt = (int *)(ws + pl.off_ncnt);
	w.lstart = (long long *)(ws + pl.off_lstart);
	w.tiles = (long long *)(ws + pl.off_tiles);
	w.words = (long long *)(ws + pl.off_words);
	w.tiles_incl = (long long *)(ws + pl.off_tiles_incl);
	w.words_incl = (long long *)(ws + pl.off_words_incl);
	w.prefix = (unsigned *)(ws + pl.off_prefix);
	w.temp = ws + pl.off_temp;
	return w;
}

/* The merge of both launch paths when it does not fit one block per image: every image's kept
 * entries sorted by CUB (keys composite = 1 when the fast path built them), then gathered. */
template <typename TB>
odet_status merge_sort_gather(const plan &pl, const ws_view &w, const TB *boxes, int composite, int32_t *det_count,
			      float *det_boxes, float *det_scores, int32_t *det_classes, cudaStream_t st)
{
	const dev_params &d = pl.d;
	size_t tb = pl.temp_bytes;
	merge_fill_kernel<<<(unsigned)((pl.mitems + 255) / 256), 256, 0, st>>>(d, w.kept, w.kcount, w.mk_in, w.mv_in);
	image_offsets_kernel<<<(d.B + 1 + 255) / 256, 256, 0, st>>>(d, w.kcount, w.moff, w.imgc);
	odet_status rc = ODET_CUDA(cub::DeviceSegmentedRadixSort::SortPairs(
		w.temp, tb, w.mk_in, w.mk_out, w.mv_in, w.mv_out, pl.mitems, d.B, w.moff, w.moff + 1, 0, 64, st));
	if (rc)
		return rc;
	long long ng = (long long)d.B * d.K;
	gather_kernel<TB><<<(unsigned)((ng + 255) / 256), 256, 0, st>>>(d, boxes, w.mk_out, w.mv_out, w.imgc, composite,
									 det_count, det_boxes, det_scores, det_classes);
	return ODET_CUDA(cudaGetLastError());
}

/* TB: boxes' element type, TS: scores' (or the logits') */
template <typename TB, typename TS>
odet_status launch_cub(const plan &pl, const TB *boxes, const TS *scores, unsigned char *ws, int32_t *det_count,
		   float *det_boxes, float *det_scores, int32_t *det_classes, cudaStream_t st)
{
	const dev_params &d = pl.d;
	const ws_view w = ws_view_of(pl, ws);
	size_t tb = pl.temp_bytes;
	const int S1 = (int)pl.S1, S = (int)pl.S;
	odet_status rc;
	rc = ODET_CUDA(cudaMemsetAsync(w.cnt1, 0, (size_t)S1 * 4, st));
	if (rc)
		return rc;
	/* 1. filter */
	if (d.N > 0 && pl.logits) {
		if ((rc = launch_filter_logits<TS>(pl, scores, w.keysA, w.cnt1, st)))
			return rc;
	} else if (d.N > 0) {
		const int tile_a = d.C >= 256 ? 1 : (256 * 4 + d.C - 1) / d.C;
		const int nloc = d.mode == 0 ? d.C : d.L;
		size_t smem = (size_t)nloc * 2 * sizeof(int);
		if (smem > 48 * 1024)
			return ODET_ERR_UNSUPPORTED; /* refused at build time by the adapter's check */
		dim3 grid((unsigned)((d.N + tile_a - 1) / tile_a), (unsigned)d.B);
		filter_kernel<TS><<<grid, 256, smem, st>>>(d, scores, w.keysA, w.cnt1, tile_a);
	}
	/* 2. sort per filter segment */
	if (d.mode == 1)
		level_starts_kernel<<<(S1 + 255) / 256, 256, 0, st>>>(d, w.lstart);
	offsets_kernel<<<(S1 + 255) / 256, 256, 0, st>>>(S1, w.cnt1, d.mode == 1 ? w.lstart : NULL, d.region, w.beg1, w.end1);
	u64 *k_in = w.keysA, *k_out = w.keysB; /* the select moves the candidates to keysB: roles swap */
	if (pl.select) {
		if ((rc = ODET_CUDA(cudaMemsetAsync(w.hist, 0, (size_t)S1 * SEL_BINS * 4, st))) ||
		    (rc = ODET_CUDA(cudaMemsetAsync(w.ncnt, 0, (size_t)S1 * 4, st))))
			return rc;
		sel_init_kernel<<<(S1 + 255) / 256, 256, 0, st>>>(S1, w.cnt1, d.topk, w.prefix, w.need);
		dim3 g((unsigned)pl.sel_blocks, (unsigned)S1);
		for (int pass = 0; pass < 3; pass++) {
			sel_hist_kernel<<<g, 256, 0, st>>>(w.keysA, w.beg1, w.cnt1, w.prefix, w.need, pass, w.hist);
			sel_pick_kernel<<<(unsigned)S1, 256, 0, st>>>(pass, w.hist, w.prefix, w.need);
		}
		sel_compact_kernel<<<g, 256, 0, st>>>(w.keysA, w.keysB, w.beg1, w.cnt1, w.prefix, w.need, w.ncnt);
		sel_finish_kernel<<<(S1 + 255) / 256, 256, 0, st>>>(S1, w.need, w.ncnt, w.beg1, w.cnt1, w.end1);
		k_in = w.keysB;
		k_out = w.keysA;
	}
	rc = ODET_CUDA(
		cub::DeviceSegmentedRadixSort::SortKeys(w.temp, tb, k_in, k_out, pl.items, S1, w.beg1, w.end1, 0, 64, st));
	if (rc)
		return rc;
	const u64 *sorted = k_out;
	const int *cbeg = w.beg1, *ccnt = w.cnt1;
	if (d.mode == 1) {
		rc = ODET_CUDA(cudaMemsetAsync(w.cnt2, 0, (size_t)S * 4, st));
		if (rc)
			return rc;
		long long nt = pl.S1 * d.topk;
		scatter_kernel<<<(unsigned)((nt + 255) / 256), 256, 0, st>>>(d, k_out, w.beg1, w.cnt1, k_in, w.cnt2);
		offsets_kernel<<<(S + 255) / 256, 256, 0, st>>>(S, w.cnt2, NULL, d.region, w.beg2, w.end2);
		rc = ODET_CUDA(cub::DeviceSegmentedRadixSort::SortKeys(w.temp, tb, k_in, k_out, pl.S * d.region, S, w.beg2,
								  w.end2, 0, 64, st));
		if (rc)
			return rc;
		cbeg = w.beg2;
		ccnt = w.cnt2;
	}
	/* 3. bitmask */
	seg_setup_kernel<<<(S + 255) / 256, 256, 0, st>>>(d, ccnt, w.nseg, w.tiles, w.words);
	rc = ODET_CUDA(cub::DeviceScan::InclusiveSum(w.temp, tb, w.tiles, w.tiles_incl, S, st));
	if (!rc)
		rc = ODET_CUDA(cub::DeviceScan::InclusiveSum(w.temp, tb, w.words, w.words_incl, S, st));
	if (rc)
		return rc;
	mask_kernel<TB><<<132 * 16, 64, 0, st>>>(d, boxes, sorted, cbeg, 0, w.nseg, w.tiles_incl, w.words_incl, w.mask);
	/* 4. greedy scan */
	scan_kernel<<<(unsigned)((S * 32LL + 127) / 128), 128, 0, st>>>(d, sorted, cbeg, w.nseg, w.words_incl, w.mask,
								       w.removed, w.kept, w.kcount);
	/* 5. merge + gather */
	return merge_sort_gather<TB>(pl, w, boxes, 0, det_count, det_boxes, det_scores, det_classes, st);
}

template <typename TB, typename TS>
odet_status launch_fast(const plan &pl, const TB *boxes, const TS *scores, unsigned char *ws, int32_t *det_count,
			float *det_boxes, float *det_scores, int32_t *det_classes, cudaStream_t st)
{
	const dev_params &d = pl.d;
	const ws_view w = ws_view_of(pl, ws);
	size_t tb = pl.temp_bytes;
	const int S1 = (int)pl.S1, S = (int)pl.S;
	odet_status rc;
	if ((rc = ODET_CUDA(cudaMemsetAsync(w.cnt1, 0, (size_t)S1 * 4, st))))
		return rc;
	if (d.mode == 1 && (rc = ODET_CUDA(cudaMemsetAsync(w.cnt2, 0, (size_t)S * 4, st))))
		return rc;
	/* F1. filter */
	if (d.N > 0 && pl.logits) {
		if ((rc = launch_filter_logits<TS>(pl, scores, w.keysA, w.cnt1, st)))
			return rc;
	} else if (d.N > 0) {
		const int nloc = d.mode == 0 ? d.C : d.L;
		size_t smem = (size_t)nloc * 2 * sizeof(int);
		if (smem > 48 * 1024)
			return ODET_ERR_UNSUPPORTED; /* refused at build time by the adapter's check */
		long long nc = (long long)d.N * d.C;
		dim3 grid((unsigned)((nc + 2047) / 2048), (unsigned)d.B);
		filter2_kernel<TS><<<grid, 256, smem, st>>>(d, scores, w.keysA, w.cnt1);
	}
	/* F2. multi-block select (huge segments), CUB for segments above the capacity */
	const u64 *in = w.keysA, *pre = NULL;
	if (pl.select) {
		if ((rc = ODET_CUDA(cudaMemsetAsync(w.hist, 0, (size_t)S1 * SEL_BINS * 4, st))) ||
		    (rc = ODET_CUDA(cudaMemsetAsync(w.ncnt, 0, (size_t)S1 * 4, st))))
			return rc;
		bounds_kernel<<<(S1 + 255) / 256, 256, 0, st>>>(d, S1, d.mode, w.cnt1, -1, w.beg1, w.end1);
		sel_init_kernel<<<(S1 + 255) / 256, 256, 0, st>>>(S1, w.cnt1, d.topk, w.prefix, w.need);
		dim3 g((unsigned)pl.sel_blocks, (unsigned)S1);
		for (int pass = 0; pass < 3; pass++) {
			sel_hist_kernel<<<g, 256, 0, st>>>(w.keysA, w.beg1, w.cnt1, w.prefix, w.need, pass, w.hist);
			sel_pick_kernel<<<(unsigned)S1, 256, 0, st>>>(pass, w.hist, w.prefix, w.need);
		}
		sel_compact_kernel<<<g, 256, 0, st>>>(w.keysA, w.keysB, w.beg1, w.cnt1, w.prefix, w.need, w.ncnt);
		sel_finish_kernel<<<(S1 + 255) / 256, 256, 0, st>>>(S1, w.need, w.ncnt, w.beg1, w.cnt1, w.end1);
		in = w.keysB;
	}
	if (pl.cub1) {
		u64 *out = in == w.keysA ? w.keysB : w.keysA;
		bounds_kernel<<<(S1 + 255) / 256, 256, 0, st>>>(d, S1, d.mode, w.cnt1, pl.cap1, w.beg1, w.end1);
		rc = ODET_CUDA(cub::DeviceSegmentedRadixSort::SortKeys(w.temp, tb, in, out, pl.items, S1, w.beg1, w.end1, 0, 64, st));
		if (rc)
			return rc;
		pre = out;
	}
	/* F3. per-segment sort (+ scatter / bitmask / greedy) */
	seg_args a;
	memset(&a, 0, sizeof a);
	a.in = in, a.pre = pre, a.cnt = w.cnt1, a.k = d.topk, a.cap = pl.cap1, a.level = d.mode;
	a.nseg = w.nseg, a.tiles = w.tiles, a.words = w.words, a.kept = w.kept, a.kcount = w.kcount;
	const u64 *sorted = pre ? pre : in; /* out 0: in place (or in the CUB output) */
	if (d.mode == 0) {
		a.out = pl.fused ? 2 : 0;
		a.sorted = (u64 *)sorted;
		if ((rc = smem_attr((const void *)seg_kernel<TB>, pl.smem1)))
			return rc;
		seg_kernel<TB><<<(unsigned)S1, BLK, pl.smem1, st>>>(d, a, boxes);
	} else {
		a.out = 1;
		a.ckeys = w.keysC, a.ccount = w.cnt2;
		if ((rc = smem_attr((const void *)seg_kernel<TB>, pl.smem1 > pl.smem2 ? pl.smem1 : pl.smem2)))
			return rc;
		seg_kernel<TB><<<(unsigned)S1, BLK, pl.smem1, st>>>(d, a, boxes);
		memset(&a, 0, sizeof a);
		a.in = w.keysC, a.cnt = w.cnt2, a.k = d.T, a.cap = pl.cap2, a.level = 0;
		a.nseg = w.nseg, a.tiles = w.tiles, a.words = w.words, a.kept = w.kept, a.kcount = w.kcount;
		sorted = w.keysC;
		if (pl.cub2) {
			bounds_kernel<<<(S + 255) / 256, 256, 0, st>>>(d, S, 0, w.cnt2, pl.cap2, w.beg2, w.end2);
			rc = ODET_CUDA(cub::DeviceSegmentedRadixSort::SortKeys(w.temp, tb, w.keysC, w.keysD, pl.S * d.region, S, w.beg2,
									  w.end2, 0, 64, st));
			if (rc)
				return rc;
			a.pre = w.keysD;
			sorted = w.keysD;
		}
		a.out = pl.fused ? 2 : 0;
		a.sorted = (u64 *)sorted;
		seg_kernel<TB><<<(unsigned)S, BLK, pl.smem2, st>>>(d, a, boxes);
	}
	/* 3./4. bitmask and greedy scan in global memory for segments of more than FUSE_MAX rows */
	if (!pl.fused) {
		rc = ODET_CUDA(cub::DeviceScan::InclusiveSum(w.temp, tb, w.tiles, w.tiles_incl, S, st));
		if (!rc)
			rc = ODET_CUDA(cub::DeviceScan::InclusiveSum(w.temp, tb, w.words, w.words_incl, S, st));
		if (rc)
			return rc;
		mask_kernel<TB><<<132 * 16, 64, 0, st>>>(d, boxes, sorted, NULL, d.region, w.nseg, w.tiles_incl, w.words_incl,
							w.mask);
		scan2_kernel<<<(unsigned)((S * 32LL + 127) / 128), 128, pl.smem_scan, st>>>(
			d, sorted, w.nseg, w.words_incl, w.mask, w.removed, pl.smem_scan > 0, w.kept, w.kcount);
	}
	/* F4. per-image merge + gather */
	if (pl.mblock) {
		if ((rc = smem_attr((const void *)merge_kernel<TB>, pl.smemm)))
			return rc;
		merge_kernel<TB><<<(unsigned)d.B, BLK, pl.smemm, st>>>(d, w.kept, w.kcount, w.mk_in, pl.capm, pl.coff, boxes,
									det_count, det_boxes, det_scores, det_classes);
		return ODET_CUDA(cudaGetLastError());
	}
	return merge_sort_gather<TB>(pl, w, boxes, 1, det_count, det_boxes, det_scores, det_classes, st);
}

/* TB: boxes' element type, TS: scores' (or the logits') */
template <typename TB, typename TS>
odet_status launch(const plan &pl, const void *boxes, const void *scores, unsigned char *ws, int32_t *det_count,
		   float *det_boxes, float *det_scores, int32_t *det_classes, cudaStream_t st)
{
	const TB *bx = (const TB *)boxes;
	const TS *sc = (const TS *)scores;
	return pl.fast ? launch_fast<TB, TS>(pl, bx, sc, ws, det_count, det_boxes, det_scores, det_classes, st)
		       : launch_cub<TB, TS>(pl, bx, sc, ws, det_count, det_boxes, det_scores, det_classes, st);
}

} /* namespace */

struct cuda_nms_plan {
	plan pl;
};

extern "C" odet_status cuda_nms_plan_create(const nms_params *p, int64_t B, int64_t N, int64_t C, int pipeline,
					    cuda_nms_plan **out)
{
	*out = NULL;
	if (pipeline != CUDA_NMS_FAST && pipeline != CUDA_NMS_CUB)
		return ODET_ERR_INVALID_ARG;
	cuda_nms_plan *h = (cuda_nms_plan *)calloc(1, sizeof *h);
	if (!h)
		return ODET_ERR_NO_MEMORY;
	odet_status rc = make_plan(p, B, N, C, pipeline == CUDA_NMS_FAST, &h->pl);
	if (rc) {
		free(h);
		return rc;
	}
	*out = h;
	return ODET_OK;
}

extern "C" void cuda_nms_plan_destroy(cuda_nms_plan *h)
{
	free(h);
}

extern "C" size_t cuda_nms_plan_workspace(const cuda_nms_plan *h)
{
	return h->pl.total;
}

extern "C" odet_status cuda_nms_plan_launch(const cuda_nms_plan *h, const int64_t *score_dims,
					    odet_dtype box_dtype, const void *boxes, odet_dtype score_dtype,
					    const void *scores, void *workspace, size_t workspace_size,
					    int32_t *det_count, float *det_boxes, float *det_scores,
					    int32_t *det_classes, void *stream)
{
	const plan &pl = h->pl;
	const int64_t N = pl.d.layout ? score_dims[2] : score_dims[1], C = pl.d.layout ? score_dims[1] : score_dims[2];
	if (score_dims[0] != pl.B || N != pl.N || C != pl.C || workspace_size < pl.total)
		return ODET_ERR_INVALID_ARG;
	const bool b16 = box_dtype == ODET_F16, s16 = score_dtype == ODET_F16;
	if ((!b16 && box_dtype != ODET_F32) || (!s16 && score_dtype != ODET_F32))
		return ODET_ERR_UNSUPPORTED;
	cudaStream_t st = (cudaStream_t)stream;
	unsigned char *ws = (unsigned char *)workspace;
	if (b16)
		return s16 ? launch<__half, __half>(pl, boxes, scores, ws, det_count, det_boxes, det_scores, det_classes, st)
			   : launch<__half, float>(pl, boxes, scores, ws, det_count, det_boxes, det_scores, det_classes, st);
	return s16 ? launch<float, __half>(pl, boxes, scores, ws, det_count, det_boxes, det_scores, det_classes, st)
		   : launch<float, float>(pl, boxes, scores, ws, det_count, det_boxes, det_scores, det_classes, st);
}
