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
 * Stages (all on `stream`):
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
#include <cub/cub.cuh>
#include <cuda_fp16.h>

#include "backend/cuda/cuda_util.h"
#include "backend/cuda/nms.h"

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
__global__ void mask_kernel(dev_params p, const T *boxes, const u64 *sorted, const int *beg, const int *n_seg,
			    const long long *tiles_incl, const long long *words_incl, u64 *mask)
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
		const u64 *keys = sorted + beg[s];
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
			      int32_t *det_count, float *det_boxes, float *det_scores, int32_t *det_classes)
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

/* ---- workspace plan */
struct plan {
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
};

odet_status make_plan(const nms_params *np, int64_t B, int64_t N, int64_t C, plan *pl)
{
	memset(pl, 0, sizeof *pl);
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
	{
		long long seg_max = d.mode == 0 ? Nn : maxlevel * C; /* largest first-sort segment */
		pl->select = pl->S1 <= 65535 && d.topk < seg_max;
		long long nb = (seg_max + 2047) / 2048;
		pl->sel_blocks = (int)(nb < 1 ? 1 : nb > 512 ? 512 : nb);
	}
	size_t o = 0;
#define SLICE(field, bytes) (pl->field = o, o += odet_cuda_align((size_t)(bytes)))
	long long S1 = pl->S1, S = pl->S;
	SLICE(off_keysA, pl->items * 8);
	SLICE(off_keysB, pl->items * 8);
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
	SLICE(off_mask, pl->mask_words * 8);
	SLICE(off_removed, S * (long long)d.cbmax * 8 + 8);
	SLICE(off_kept, pl->mitems * 8);
	SLICE(off_kcount, S * 4);
	SLICE(off_mk_in, pl->mitems * 8);
	SLICE(off_mk_out, pl->mitems * 8);
	SLICE(off_mv_in, pl->mitems * 4);
	SLICE(off_mv_out, pl->mitems * 4);
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

template <typename T>
odet_status launch(const plan &pl, const T *boxes, const T *scores, unsigned char *ws, int32_t *det_count,
		   float *det_boxes, float *det_scores, int32_t *det_classes, cudaStream_t st)
{
	const dev_params &d = pl.d;
	u64 *keysA = (u64 *)(ws + pl.off_keysA), *keysB = (u64 *)(ws + pl.off_keysB);
	int *cnt1 = (int *)(ws + pl.off_cnt1), *beg1 = (int *)(ws + pl.off_beg1), *end1 = (int *)(ws + pl.off_end1);
	long long *lstart = (long long *)(ws + pl.off_lstart);
	int *cnt2 = (int *)(ws + pl.off_cnt2), *beg2 = (int *)(ws + pl.off_beg2), *end2 = (int *)(ws + pl.off_end2);
	int *nseg = (int *)(ws + pl.off_n);
	long long *tiles = (long long *)(ws + pl.off_tiles), *words = (long long *)(ws + pl.off_words);
	long long *tiles_incl = (long long *)(ws + pl.off_tiles_incl), *words_incl = (long long *)(ws + pl.off_words_incl);
	u64 *mask = (u64 *)(ws + pl.off_mask), *removed = (u64 *)(ws + pl.off_removed), *kept = (u64 *)(ws + pl.off_kept);
	int *kcount = (int *)(ws + pl.off_kcount);
	u64 *mk_in = (u64 *)(ws + pl.off_mk_in), *mk_out = (u64 *)(ws + pl.off_mk_out);
	int *mv_in = (int *)(ws + pl.off_mv_in), *mv_out = (int *)(ws + pl.off_mv_out);
	int *moff = (int *)(ws + pl.off_moff), *imgc = (int *)(ws + pl.off_imgc);
	void *temp = ws + pl.off_temp;
	size_t tb = pl.temp_bytes;
	const int S1 = (int)pl.S1, S = (int)pl.S;
	odet_status rc;
	rc = ODET_CUDA(cudaMemsetAsync(cnt1, 0, (size_t)S1 * 4, st));
	if (rc)
		return rc;
	/* 1. filter */
	if (d.N > 0) {
		const int tile_a = d.C >= 256 ? 1 : (256 * 4 + d.C - 1) / d.C;
		const int nloc = d.mode == 0 ? d.C : d.L;
		size_t smem = (size_t)nloc * 2 * sizeof(int);
		if (smem > 48 * 1024)
			return ODET_ERR_UNSUPPORTED; /* refused at build time by the adapter's check */
		dim3 grid((unsigned)((d.N + tile_a - 1) / tile_a), (unsigned)d.B);
		filter_kernel<T><<<grid, 256, smem, st>>>(d, scores, keysA, cnt1, tile_a);
	}
	/* 2. sort per filter segment */
	if (d.mode == 1)
		level_starts_kernel<<<(S1 + 255) / 256, 256, 0, st>>>(d, lstart);
	offsets_kernel<<<(S1 + 255) / 256, 256, 0, st>>>(S1, cnt1, d.mode == 1 ? lstart : NULL, d.region, beg1, end1);
	u64 *k_in = keysA, *k_out = keysB; /* the select moves the candidates to keysB: roles swap */
	if (pl.select) {
		int *hist = (int *)(ws + pl.off_hist), *need = (int *)(ws + pl.off_need), *ncnt = (int *)(ws + pl.off_ncnt);
		unsigned *prefix = (unsigned *)(ws + pl.off_prefix);
		if ((rc = ODET_CUDA(cudaMemsetAsync(hist, 0, (size_t)S1 * SEL_BINS * 4, st))) ||
		    (rc = ODET_CUDA(cudaMemsetAsync(ncnt, 0, (size_t)S1 * 4, st))))
			return rc;
		sel_init_kernel<<<(S1 + 255) / 256, 256, 0, st>>>(S1, cnt1, d.topk, prefix, need);
		dim3 g((unsigned)pl.sel_blocks, (unsigned)S1);
		for (int pass = 0; pass < 3; pass++) {
			sel_hist_kernel<<<g, 256, 0, st>>>(keysA, beg1, cnt1, prefix, need, pass, hist);
			sel_pick_kernel<<<(unsigned)S1, 256, 0, st>>>(pass, hist, prefix, need);
		}
		sel_compact_kernel<<<g, 256, 0, st>>>(keysA, keysB, beg1, cnt1, prefix, need, ncnt);
		sel_finish_kernel<<<(S1 + 255) / 256, 256, 0, st>>>(S1, need, ncnt, beg1, cnt1, end1);
		k_in = keysB;
		k_out = keysA;
	}
	rc = ODET_CUDA(cub::DeviceSegmentedRadixSort::SortKeys(temp, tb, k_in, k_out, pl.items, S1, beg1, end1, 0, 64, st));
	if (rc)
		return rc;
	const u64 *sorted = k_out;
	const int *cbeg = beg1, *ccnt = cnt1;
	if (d.mode == 1) {
		rc = ODET_CUDA(cudaMemsetAsync(cnt2, 0, (size_t)S * 4, st));
		if (rc)
			return rc;
		long long nt = pl.S1 * d.topk;
		scatter_kernel<<<(unsigned)((nt + 255) / 256), 256, 0, st>>>(d, k_out, beg1, cnt1, k_in, cnt2);
		offsets_kernel<<<(S + 255) / 256, 256, 0, st>>>(S, cnt2, NULL, d.region, beg2, end2);
		rc = ODET_CUDA(cub::DeviceSegmentedRadixSort::SortKeys(temp, tb, k_in, k_out, pl.S * d.region, S, beg2, end2, 0, 64,
								  st));
		if (rc)
			return rc;
		cbeg = beg2;
		ccnt = cnt2;
	}
	/* 3. bitmask */
	seg_setup_kernel<<<(S + 255) / 256, 256, 0, st>>>(d, ccnt, nseg, tiles, words);
	rc = ODET_CUDA(cub::DeviceScan::InclusiveSum(temp, tb, tiles, tiles_incl, S, st));
	if (!rc)
		rc = ODET_CUDA(cub::DeviceScan::InclusiveSum(temp, tb, words, words_incl, S, st));
	if (rc)
		return rc;
	mask_kernel<T><<<132 * 16, 64, 0, st>>>(d, boxes, sorted, cbeg, nseg, tiles_incl, words_incl, mask);
	/* 4. greedy scan */
	scan_kernel<<<(unsigned)((S * 32LL + 127) / 128), 128, 0, st>>>(d, sorted, cbeg, nseg, words_incl, mask, removed,
								       kept, kcount);
	/* 5. merge + gather */
	merge_fill_kernel<<<(unsigned)((pl.mitems + 255) / 256), 256, 0, st>>>(d, kept, kcount, mk_in, mv_in);
	image_offsets_kernel<<<(d.B + 1 + 255) / 256, 256, 0, st>>>(d, kcount, moff, imgc);
	rc = ODET_CUDA(cub::DeviceSegmentedRadixSort::SortPairs(temp, tb, mk_in, mk_out, mv_in, mv_out, pl.mitems, d.B,
								 moff, moff + 1, 0, 64, st));
	if (rc)
		return rc;
	long long ng = (long long)d.B * d.K;
	gather_kernel<T><<<(unsigned)((ng + 255) / 256), 256, 0, st>>>(d, boxes, mk_out, mv_out, imgc, det_count, det_boxes,
									det_scores, det_classes);
	return ODET_CUDA(cudaGetLastError());
}

} /* namespace */

extern "C" odet_status cuda_nms_workspace_size(const nms_params *p, int64_t B, int64_t N, int64_t C, size_t *bytes)
{
	plan pl;
	odet_status rc = make_plan(p, B, N, C, &pl);
	*bytes = rc ? 0 : pl.total;
	return rc;
}

extern "C" odet_status cuda_nms_launch(const nms_params *p, int64_t B, int64_t N, int64_t C, odet_dtype dtype,
				       const void *boxes, const void *scores, void *workspace, size_t workspace_size,
				       int32_t *det_count, float *det_boxes, float *det_scores, int32_t *det_classes,
				       void *stream)
{
	plan pl;
	odet_status rc = make_plan(p, B, N, C, &pl);
	if (rc)
		return rc;
	if (workspace_size < pl.total)
		return ODET_ERR_INVALID_ARG;
	cudaStream_t st = (cudaStream_t)stream;
	unsigned char *ws = (unsigned char *)workspace;
	if (dtype == ODET_F32)
		return launch<float>(pl, (const float *)boxes, (const float *)scores, ws, det_count, det_boxes, det_scores,
				     det_classes, st);
	if (dtype == ODET_F16)
		return launch<__half>(pl, (const __half *)boxes, (const __half *)scores, ws, det_count, det_boxes,
				      det_scores, det_classes, st);
	return ODET_ERR_UNSUPPORTED;
}
