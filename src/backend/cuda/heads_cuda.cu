/*
 * heads_cuda.cu — the odet-internal head ops on CUDA (specs in ops.def; the CPU kernels in
 * backend/cpu/decode.c, nms.c, centernet_decode.c, dist_decode.c are the reference).
 *   BoxDecode, ClassScores, BatchedNms: thin adapters from the node to the launchers of
 *     nms.cu / decode.cu (attributes read as the CPU kernels read them); BatchedNms with fused
 *     class scores (activation/layout, pass_fuse_scores_nms) reads logits of either float dtype.
 *   YoloDecode: one thread per (image, output row); v5 anchor grid, v8 DFL, or the already
 *     decoded export form; inputs f32/f16, outputs f32.
 *   DistDecode: one thread per (image, cell): softmax expectation over R bins per side.
 *   CenterNetDecode: a peak pass (one thread per heat cell: equal to the max of its clipped
 *     pool x pool window) appends (score, (y*W + x)*C + c) candidates to a per-image list
 *     (workspace, atomic counter); a rank pass gives each candidate its rank among the
 *     image's candidates (higher score first, ties by lower index; counting stops at K) and
 *     the top K write their box and score. Outputs are zeroed first.
 */
#include "backend/cuda/cuda_ops.h"

extern "C" {
#include "backend/cuda/nms.h"
}

namespace {

template <typename T> __device__ __forceinline__ float ldf(const T *p, int64_t i);
template <> __device__ __forceinline__ float ldf<float>(const float *p, int64_t i) { return p[i]; }
template <> __device__ __forceinline__ float ldf<__half>(const __half *p, int64_t i) { return __half2float(p[i]); }

odet_status check_float_in(odet_ctx *ctx, const ir_graph *g, const ir_node *n, int i)
{
	const ir_value *v = ir_in(g, n, i);
	if (!v || !cu_is_float(v->dtype))
		return cu_refuse(ctx, n, "inputs must be float32 or float16");
	return ODET_OK;
}

/* ---------------------------------------------------------------- BoxDecode */
odet_status box_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	odet_status rc = check_float_in(ctx, g, n, 0);
	if (!rc)
		rc = check_float_in(ctx, g, n, 1);
	if (!rc && ir_in(g, n, 1)->dtype != ir_in(g, n, 0)->dtype)
		return cu_refuse(ctx, n, "deltas and anchors must have one dtype");
	return rc;
}

odet_status box_run(const be_run_args *a)
{
	const ir_node *n = a->node;
	cuda_box_decode_params p;
	const float *w;
	p.layout = (int)ir_attr_int(n, "layout", 0);
	p.coder = (int)ir_attr_int(n, "coder", 0);
	p.scale_xy = ir_attr_float(n, "scale_xy", 0.1f);
	p.scale_wh = ir_attr_float(n, "scale_wh", 0.2f);
	if (ir_attr_floats(n, "weights", &w) == 4)
		memcpy(p.weights, w, sizeof p.weights);
	else
		p.weights[0] = p.weights[1] = p.weights[2] = p.weights[3] = 1.0f;
	p.xform_clip = ir_attr_float(n, "xform_clip", INFINITY);
	p.out_scale_x = ir_attr_float(n, "out_scale_x", 1.0f);
	p.out_scale_y = ir_attr_float(n, "out_scale_y", 1.0f);
	p.clip_w = ir_attr_float(n, "clip_w", 0.0f);
	p.clip_h = ir_attr_float(n, "clip_h", 0.0f);
	if (a->in[1].dtype != a->in[0].dtype || a->out[0].rank != 3)
		return cu_bad(a, "deltas/anchors dtype or output rank");
	odet_status rc = cuda_box_decode_launch(&p, a->out[0].dims[0], a->out[0].dims[1], a->in[0].dtype, a->in[0].data,
						a->in[1].data, (float *)a->out[0].data, a->stream);
	return rc ? cu_launched(a) : ODET_OK;
}

/* ---------------------------------------------------------------- ClassScores */
odet_status score_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	int64_t act = ir_attr_int(n, "activation", 0);
	const ir_value *y = ir_out(g, n, 0);
	if (act < 0 || act > 2)
		return cu_refuse(ctx, n, "activation must be 0..2");
	if (!y || y->rank != 3 || y->dims[2] > 6144 || y->dims[1] * y->dims[2] >= ((int64_t)1 << 31) ||
	    y->dims[0] > 65535)
		return cu_refuse(ctx, n, "output must be [B,N,C] with C <= 6144, N*C < 2^31 and B <= 65535");
	return check_float_in(ctx, g, n, 0);
}

odet_status score_run(const be_run_args *a)
{
	const odet_tensor *y = &a->out[0];
	odet_status rc = cuda_class_scores_launch((int)ir_attr_int(a->node, "layout", 0),
						  (int)ir_attr_int(a->node, "activation", 0), y->dims[0], y->dims[1],
						  y->dims[2], a->in[0].dtype, a->in[0].data, (float *)y->data, a->stream);
	return rc ? cu_launched(a) : ODET_OK;
}

/* ---------------------------------------------------------------- BatchedNms */
/* Input 1 is scores [B,N,C] of the boxes' dtype, or with activation/layout set (fused class
 * scores) logits [B,N,C] | [B,C,N] of either float dtype. */
odet_status nms_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	nms_params p;
	odet_status rc = nms_params_from_node(ctx, g, n, &p);
	if (rc)
		return rc;
	const ir_value *bx = ir_in(g, n, 0), *sc = ir_in(g, n, 1);
	if (!nms_fused_scores(&p)) {
		if (!cu_is_float(bx->dtype) || sc->dtype != bx->dtype)
			return cu_refuse(ctx, n, "boxes and scores must be both float32 or both float16");
		return ODET_OK;
	}
	if (!cu_is_float(bx->dtype) || !cu_is_float(sc->dtype))
		return cu_refuse(ctx, n, "boxes and logits (activation/layout set) must be float32 or float16");
	int64_t N, C;
	nms_input_nc(&p, sc->dims, &N, &C);
	if (C > CUDA_NMS_FUSED_MAX_C || sc->dims[0] > 65535)
		return cu_refuse(ctx, n, "class scores computed by the NMS (activation/layout set) need C <= 6144 "
					 "and B <= 65535");
	return ODET_OK;
}

/* ODET_NMS_SORT=cub (read when the engine is built or loaded) selects the CUB pipeline, for A/B
 * checks; the plan is made here, once per node, for the node's static shapes. */
odet_status nms_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state, size_t *ws)
{
	nms_params p;
	*state = NULL;
	odet_status rc = nms_params_from_node(ctx, g, n, &p);
	if (rc)
		return rc;
	const ir_value *sc = ir_in(g, n, 1);
	if (!ir_value_shape_known(sc) || sc->rank != 3)
		return odet_error(ctx, ODET_ERR_LIMIT, "node '%s' (BatchedNms, CUDA): input 1 has no static 3-d shape",
				  n->name);
	int64_t N = 0, C = 0;
	nms_input_nc(&p, sc->dims, &N, &C);
	bool cub = g->build && g->build->nms_sort == ODET_NMS_SORT_CUB; /* ODET_NMS_SORT */
	cuda_nms_plan *pl = NULL;
	rc = cuda_nms_plan_create(&p, sc->dims[0], N, C, cub ? CUDA_NMS_CUB : CUDA_NMS_FAST, &pl);
	if (rc)
		return odet_error(ctx, rc, "node '%s' (BatchedNms, CUDA): %s", n->name,
				  rc == ODET_ERR_LIMIT ? "B*N*C must stay below 2^31"
				  : rc == ODET_ERR_NO_MEMORY ? "out of memory"
				  : "parameters or shapes the CUDA NMS does not support");
	*ws = cuda_nms_plan_workspace(pl);
	*state = pl;
	return ODET_OK;
}

static void nms_release(void *state)
{
	cuda_nms_plan_destroy((cuda_nms_plan *)state);
}

odet_status nms_run(const be_run_args *a)
{
	const odet_tensor *sc = &a->in[1];
	odet_status rc = cuda_nms_plan_launch((const cuda_nms_plan *)a->state, sc->dims, a->in[0].dtype, a->in[0].data,
					      sc->dtype, sc->data, a->workspace, a->workspace_size,
					      (int32_t *)a->out[0].data, (float *)a->out[1].data, (float *)a->out[2].data,
					      (int32_t *)a->out[3].data, a->stream);
	if (rc == ODET_ERR_INVALID_ARG)
		return cu_bad(a, "shapes or workspace differ from those the node was prepared for");
	return rc ? cu_launched(a) : ODET_OK;
}

/* ---------------------------------------------------------------- YoloDecode */
#define YOLO_MAX_ANCHORS 16

typedef struct yolo_geom {
	int version, decoded;
	int64_t B, M, C, H, W, A, R, N;
	float stride;
	float anchors[2 * YOLO_MAX_ANCHORS];
} yolo_geom;

__device__ __forceinline__ float sigm(float x)
{
	return 1.0f / (1.0f + expf(-x));
}

template <typename T>
__global__ void yolo_kernel(yolo_geom j, const T *x, float *ob, float *os)
{
	const int64_t M = j.M, C = j.C;
	CU_FOR(r, j.B * M) {
		int64_t b = r / M, m = r % M;
		float box[4], *sc = os + r * C;
		if (j.decoded) {
			float v[4];
			if (j.version == 5) {
				const int64_t base = r * (5 + C);
				for (int k = 0; k < 4; k++)
					v[k] = ldf<T>(x, base + k);
				float obj = ldf<T>(x, base + 4);
				for (int64_t c = 0; c < C; c++)
					sc[c] = __fmul_rn(ldf<T>(x, base + 5 + c), obj);
			} else {
				for (int k = 0; k < 4; k++)
					v[k] = ldf<T>(x, (b * (4 + C) + k) * j.N + m);
				for (int64_t c = 0; c < C; c++)
					sc[c] = ldf<T>(x, (b * (4 + C) + 4 + c) * j.N + m);
			}
			box[0] = __fsub_rn(v[0], v[2] / 2), box[1] = __fsub_rn(v[1], v[3] / 2);
			box[2] = __fadd_rn(v[0], v[2] / 2), box[3] = __fadd_rn(v[1], v[3] / 2);
		} else if (j.version == 5) {
			int64_t HW = j.H * j.W, a = m / HW, y = (m % HW) / j.W, xx = m % j.W;
			int64_t ch0 = (b * j.A + a) * (5 + C);
#define AT(ch) sigm(ldf<T>(x, ((ch0 + (ch)) * j.H + y) * j.W + xx))
			float cx = __fmul_rn(__fadd_rn(__fsub_rn(__fmul_rn(AT(0), 2), 0.5f), (float)xx), j.stride);
			float cy = __fmul_rn(__fadd_rn(__fsub_rn(__fmul_rn(AT(1), 2), 0.5f), (float)y), j.stride);
			float pw = __fmul_rn(AT(2), 2), ph = __fmul_rn(AT(3), 2);
			float w = __fmul_rn(__fmul_rn(pw, pw), j.anchors[2 * a]);
			float h = __fmul_rn(__fmul_rn(ph, ph), j.anchors[2 * a + 1]);
			float obj = AT(4);
			for (int64_t c = 0; c < C; c++)
				sc[c] = __fmul_rn(AT(5 + c), obj);
#undef AT
			box[0] = __fsub_rn(cx, w / 2), box[1] = __fsub_rn(cy, h / 2);
			box[2] = __fadd_rn(cx, w / 2), box[3] = __fadd_rn(cy, h / 2);
		} else {
			int64_t y = m / j.W, xx = m % j.W, R = j.R;
			int64_t ch0 = b * (4 * R + C);
			float d[4];
			for (int s = 0; s < 4; s++) {
				float mx = -INFINITY, sum = 0, e = 0;
				for (int64_t k = 0; k < R; k++) {
					float v = ldf<T>(x, ((ch0 + s * R + k) * j.H + y) * j.W + xx);
					mx = v > mx ? v : mx;
				}
				for (int64_t k = 0; k < R; k++) {
					float v = expf(__fsub_rn(ldf<T>(x, ((ch0 + s * R + k) * j.H + y) * j.W + xx), mx));
					sum = __fadd_rn(sum, v);
					e = __fadd_rn(e, __fmul_rn(v, (float)k));
				}
				d[s] = __fdiv_rn(e, sum);
			}
			float ax = (float)xx + 0.5f, ay = (float)y + 0.5f;
			box[0] = __fmul_rn(__fsub_rn(ax, d[0]), j.stride), box[1] = __fmul_rn(__fsub_rn(ay, d[1]), j.stride);
			box[2] = __fmul_rn(__fadd_rn(ax, d[2]), j.stride), box[3] = __fmul_rn(__fadd_rn(ay, d[3]), j.stride);
			for (int64_t c = 0; c < C; c++)
				sc[c] = sigm(ldf<T>(x, ((ch0 + 4 * R + c) * j.H + y) * j.W + xx));
		}
		for (int k = 0; k < 4; k++)
			ob[r * 4 + k] = box[k];
	}
}

odet_status yolo_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	int64_t v = ir_attr_int(n, "version", 5);
	const float *an;
	int na = ir_attr_floats(n, "anchors", &an);
	if (v != 5 && v != 8)
		return cu_refuse(ctx, n, "version must be 5 or 8");
	if (v == 5 && !ir_attr_int(n, "decoded", 0) && (na < 2 || na % 2 || na > 2 * YOLO_MAX_ANCHORS))
		return cu_refuse(ctx, n, "v5 needs 1..16 anchors (w,h pairs)");
	if (n->n_out < 2)
		return cu_refuse(ctx, n, "needs outputs boxes and scores");
	return check_float_in(ctx, g, n, 0);
}

odet_status yolo_run(const be_run_args *a)
{
	const ir_node *n = a->node;
	const odet_tensor *x = &a->in[0];
	yolo_geom j;
	const float *an;
	memset(&j, 0, sizeof j);
	j.B = a->out[0].dims[0];
	j.M = a->out[0].dims[1];
	j.C = a->out[1].dims[2];
	j.version = (int)ir_attr_int(n, "version", 5);
	j.decoded = ir_attr_int(n, "decoded", 0) != 0;
	j.stride = ir_attr_float(n, "stride", 8.0f);
	j.R = ir_attr_int(n, "reg_max", 16);
	int na = ir_attr_floats(n, "anchors", &an);
	if (na > 2 * YOLO_MAX_ANCHORS)
		return cu_bad(a, "too many anchors");
	j.A = na / 2;
	if (na > 0)
		memcpy(j.anchors, an, sizeof(float) * (size_t)na);
	if (!j.decoded) {
		if (x->rank != 4)
			return cu_bad(a, "input must be [B,C,H,W]");
		j.H = x->dims[2];
		j.W = x->dims[3];
	} else {
		j.N = j.version == 5 ? x->dims[1] : x->dims[2];
	}
	if (j.B * j.M == 0)
		return ODET_OK;
	unsigned grid = cu_grid(j.B * j.M, CU_BLOCK);
	cudaStream_t st = (cudaStream_t)a->stream;
	if (x->dtype == ODET_F16)
		yolo_kernel<__half><<<grid, CU_BLOCK, 0, st>>>(j, (const __half *)x->data, (float *)a->out[0].data,
							     (float *)a->out[1].data);
	else
		yolo_kernel<float><<<grid, CU_BLOCK, 0, st>>>(j, (const float *)x->data, (float *)a->out[0].data,
							    (float *)a->out[1].data);
	return cu_launched(a);
}

/* ---------------------------------------------------------------- DistDecode */
template <typename T>
__global__ void dist_kernel(const T *in, float *out, int64_t rows, int64_t N, int64_t R, int64_t gw, float stride,
			    float offset)
{
	CU_FOR(r, rows) {
		int64_t n = r % N;
		const T *p = in + r * 4 * R;
		float d[4];
		for (int s = 0; s < 4; s++) {
			const T *q = p + s * R;
			float mx = ldf<T>(q, 0), sum = 0, e = 0;
			for (int64_t i = 1; i < R; i++) {
				float v = ldf<T>(q, i);
				mx = v > mx ? v : mx;
			}
			for (int64_t i = 0; i < R; i++) {
				float v = expf(__fsub_rn(ldf<T>(q, i), mx));
				sum = __fadd_rn(sum, v);
				e = __fadd_rn(e, __fmul_rn(v, (float)i));
			}
			d[s] = __fmul_rn(__fdiv_rn(e, sum), stride);
		}
		float cx = __fmul_rn(__fadd_rn((float)(n % gw), offset), stride);
		float cy = __fmul_rn(__fadd_rn((float)(n / gw), offset), stride);
		out[r * 4 + 0] = __fsub_rn(cx, d[0]);
		out[r * 4 + 1] = __fsub_rn(cy, d[1]);
		out[r * 4 + 2] = __fadd_rn(cx, d[2]);
		out[r * 4 + 3] = __fadd_rn(cy, d[3]);
	}
}

odet_status dd_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	if (ir_attr_int(n, "grid_w", 1) < 1)
		return cu_refuse(ctx, n, "grid_w must be >= 1");
	return check_float_in(ctx, g, n, 0);
}

odet_status dd_run(const be_run_args *a)
{
	const odet_tensor *x = &a->in[0];
	if (x->rank != 3 || x->dims[2] % 4 || x->dims[2] < 4)
		return cu_bad(a, "input must be [B,N,4R]");
	int64_t N = x->dims[1], R = x->dims[2] / 4, rows = x->dims[0] * N;
	int64_t gw = ir_attr_int(a->node, "grid_w", 1);
	float stride = ir_attr_float(a->node, "stride", 8.0f), offset = ir_attr_float(a->node, "offset", 0.5f);
	if (rows == 0)
		return ODET_OK;
	unsigned grid = cu_grid(rows, CU_BLOCK);
	cudaStream_t st = (cudaStream_t)a->stream;
	if (x->dtype == ODET_F16)
		dist_kernel<__half><<<grid, CU_BLOCK, 0, st>>>((const __half *)x->data, (float *)a->out[0].data, rows, N, R,
							     gw, stride, offset);
	else
		dist_kernel<float><<<grid, CU_BLOCK, 0, st>>>((const float *)x->data, (float *)a->out[0].data, rows, N, R, gw,
							    stride, offset);
	return cu_launched(a);
}

/* ---------------------------------------------------------------- CenterNetDecode */
typedef struct cn_cand {
	float v;
	int32_t pad;
	int64_t idx; /* (y*W + x)*C + c */
} cn_cand;

typedef struct cn_geom {
	int nhwc;
	int64_t B, H, W, C, K, r;
	float stride;
} cn_geom;

template <typename T>
__device__ __forceinline__ float cn_at(const T *p, const cn_geom &g, int64_t y, int64_t x, int64_t c)
{
	return ldf<T>(p, g.nhwc ? (y * g.W + x) * g.C + c : (c * g.H + y) * g.W + x);
}

template <typename T>
__global__ void cn_peaks(cn_geom g, const T *heat, cn_cand *cand, unsigned int *count)
{
	const int64_t M = g.H * g.W * g.C;
	CU_FOR(t, g.B * M) {
		int64_t b = t / M, idx = t % M, c = idx % g.C, cell = idx / g.C, x = cell % g.W, y = cell / g.W;
		const T *h = heat + b * M;
		float v = cn_at<T>(h, g, y, x, c), m = v;
		for (int64_t dy = -g.r; dy <= g.r && m <= v; dy++)
			for (int64_t dx = -g.r; dx <= g.r; dx++) {
				int64_t yy = y + dy, xx = x + dx;
				if (yy < 0 || yy >= g.H || xx < 0 || xx >= g.W)
					continue;
				float u = cn_at<T>(h, g, yy, xx, c);
				m = u > m ? u : m;
			}
		if (m != v || !(v == v))
			continue;
		unsigned int pos = atomicAdd(&count[b], 1u);
		cn_cand cd;
		cd.v = v;
		cd.pad = 0;
		cd.idx = idx;
		cand[b * M + pos] = cd;
	}
}

template <typename T>
__global__ void cn_select(cn_geom g, const cn_cand *cand, const unsigned int *count, const T *sizes, float *boxes,
			  float *scores)
{
	const int64_t M = g.H * g.W * g.C;
	CU_FOR(t, g.B * M) {
		int64_t b = t / M, j = t % M, n = count[b];
		if (j >= n)
			continue;
		const cn_cand *cb = cand + b * M;
		cn_cand me = cb[j];
		int64_t rank = 0;
		for (int64_t q = 0; q < n && rank < g.K; q++) {
			cn_cand o = cb[q];
			rank += o.v > me.v || (o.v == me.v && o.idx < me.idx);
		}
		if (rank >= g.K)
			continue;
		int64_t c = me.idx % g.C, cell = me.idx / g.C, x = cell % g.W, y = cell / g.W;
		const T *sz = sizes + b * g.H * g.W * 4;
		float s[4];
		for (int k = 0; k < 4; k++)
			s[k] = ldf<T>(sz, g.nhwc ? (y * g.W + x) * 4 + k : (k * g.H + y) * g.W + x);
		float cx = (float)x * g.stride, cy = (float)y * g.stride;
		float *bo = boxes + (b * g.K + rank) * 4;
		bo[0] = __fsub_rn(cx, s[0]);
		bo[1] = __fsub_rn(cy, s[1]);
		bo[2] = __fadd_rn(cx, s[2]);
		bo[3] = __fadd_rn(cy, s[3]);
		scores[(b * g.K + rank) * g.C + c] = me.v;
	}
}

bool cn_geom_of(const ir_node *n, int rank, const int64_t *hd, int64_t K, cn_geom *g)
{
	memset(g, 0, sizeof *g);
	if (rank != 4)
		return false;
	g->nhwc = ir_attr_int(n, "layout", 1) != 0;
	g->B = hd[0];
	g->H = g->nhwc ? hd[1] : hd[2];
	g->W = g->nhwc ? hd[2] : hd[3];
	g->C = g->nhwc ? hd[3] : hd[1];
	g->K = K;
	g->r = ir_attr_int(n, "pool", 3) / 2;
	g->stride = ir_attr_float(n, "stride", 4.0f);
	return g->B >= 0 && g->H >= 0 && g->W >= 0 && g->C > 0 && K >= 0;
}

/* workspace: B counters, then B * M candidates */
bool cn_ws_size(const cn_geom *g, size_t *bytes)
{
	int64_t m;
	size_t c;
	if (!odet_mul_i64(g->H, g->W, &m) || !odet_mul_i64(m, g->C, &m) || !odet_mul_i64(m, g->B, &m) ||
	    m >= ((int64_t)1 << 32) || !odet_mul_size((size_t)m, sizeof(cn_cand), &c))
		return false;
	*bytes = odet_cuda_align((size_t)g->B * sizeof(unsigned int)) + c;
	return true;
}

odet_status cn_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *h = ir_in(g, n, 0), *s = ir_in(g, n, 1);
	if (!h || !s || !cu_is_float(h->dtype) || s->dtype != h->dtype || n->n_out < 2)
		return cu_refuse(ctx, n, "inputs must be float32 (or both float16), two outputs");
	int64_t p = ir_attr_int(n, "pool", 3);
	if (p < 1 || p > 15 || !(p & 1))
		return cu_refuse(ctx, n, "pool must be odd, 1..15");
	return ODET_OK;
}

odet_status cn_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state, size_t *ws)
{
	const ir_value *h = ir_in(g, n, 0), *bo = ir_out(g, n, 0);
	cn_geom gm;
	*state = NULL;
	if (!ir_value_shape_known(h) || !ir_value_shape_known(bo) || bo->rank != 3 ||
	    !cn_geom_of(n, h->rank, h->dims, bo->dims[1], &gm) || !cn_ws_size(&gm, ws))
		return odet_error(ctx, ODET_ERR_LIMIT, "node '%s' (CenterNetDecode, CUDA): unknown shapes or too large",
				  n->name);
	return ODET_OK;
}

odet_status cn_run(const be_run_args *a)
{
	const odet_tensor *h = &a->in[0];
	odet_tensor *bo = &a->out[0], *so = &a->out[1];
	cudaStream_t st = (cudaStream_t)a->stream;
	cn_geom g;
	size_t need;
	if (bo->rank != 3 || !cn_geom_of(a->node, h->rank, h->dims, bo->dims[1], &g) || !cn_ws_size(&g, &need))
		return cu_bad(a, "bad shapes");
	if (need > a->workspace_size)
		return cu_bad(a, "workspace too small for these shapes");
	int64_t nb = odet_tensor_numel(bo), ns = odet_tensor_numel(so);
	if (nb != g.B * g.K * 4 || ns != g.B * g.K * g.C)
		return cu_bad(a, "output shapes do not match");
	unsigned int *count = (unsigned int *)a->workspace;
	cn_cand *cand = (cn_cand *)((char *)a->workspace + odet_cuda_align((size_t)g.B * sizeof(unsigned int)));
	if (ODET_CUDA(cudaMemsetAsync(bo->data, 0, (size_t)nb * sizeof(float), st)) ||
	    ODET_CUDA(cudaMemsetAsync(so->data, 0, (size_t)ns * sizeof(float), st)) ||
	    ODET_CUDA(cudaMemsetAsync(count, 0, (size_t)g.B * sizeof(unsigned int), st)))
		return cu_launched(a);
	int64_t total = g.B * g.H * g.W * g.C;
	if (total == 0 || g.K == 0)
		return ODET_OK;
	unsigned grid = cu_grid(total, CU_BLOCK);
	if (h->dtype == ODET_F16) {
		cn_peaks<__half><<<grid, CU_BLOCK, 0, st>>>(g, (const __half *)h->data, cand, count);
		cn_select<__half><<<grid, CU_BLOCK, 0, st>>>(g, cand, count, (const __half *)a->in[1].data,
							   (float *)bo->data, (float *)so->data);
	} else {
		cn_peaks<float><<<grid, CU_BLOCK, 0, st>>>(g, (const float *)h->data, cand, count);
		cn_select<float><<<grid, CU_BLOCK, 0, st>>>(g, cand, count, (const float *)a->in[1].data,
							  (float *)bo->data, (float *)so->data);
	}
	return cu_launched(a);
}

} /* namespace */

extern "C" const cuda_kernel cuda_kernel_BOX_DECODE = {box_check, NULL, NULL, box_run};
extern "C" const cuda_kernel cuda_kernel_CLASS_SCORES = {score_check, NULL, NULL, score_run};
extern "C" const cuda_kernel cuda_kernel_BATCHED_NMS = {nms_check, nms_prepare, nms_release, nms_run};
extern "C" const cuda_kernel cuda_kernel_YOLO_DECODE = {yolo_check, NULL, NULL, yolo_run};
extern "C" const cuda_kernel cuda_kernel_DIST_DECODE = {dd_check, NULL, NULL, dd_run};
extern "C" const cuda_kernel cuda_kernel_CENTERNET_DECODE = {cn_check, cn_prepare, NULL, cn_run};
