/*
 * decode.c — the head decode ops on the CPU (specs in ops.def): BoxDecode, ClassScores,
 * YoloDecode. Inputs f32 or f16, outputs f32; float32 arithmetic in the order of the reference
 * implementations (NVIDIA SSD scale_back_batch, torchvision BoxCoder.decode_single,
 * ultralytics Detect), so results agree with them to float rounding of exp/sigmoid.
 * Threaded over B*N rows. ClassScores' row code (cpu_class_scores_rows, nms.h) also computes
 * BatchedNms' fused scores (nms.c).
 */
#include "backend/cpu/cpu.h"
#include "backend/cpu/nms.h"

#include <math.h>
#include <string.h>

static inline float ld(const void *p, odet_dtype dt, int64_t i)
{
	return dt == ODET_F16 ? odet_f16_to_f32(((const uint16_t *)p)[i]) : ((const float *)p)[i];
}

static inline float clampf_t(float x, float lo, float hi)
{
	x = x < lo ? lo : x; /* torch.clamp: NaN stays NaN */
	return x > hi ? hi : x;
}

static odet_status check_float_in(odet_ctx *ctx, const ir_graph *g, const ir_node *n, int i)
{
	const ir_value *v = ir_in(g, n, i);
	if (!v || (v->dtype != ODET_F32 && v->dtype != ODET_F16))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (%s): input %d must be f32 or f16", n->name,
				  ir_op_name(n->op), i);
	return ODET_OK;
}

/* ---------------------------------------------------------------- BoxDecode */

typedef struct box_job {
	const be_run_args *a;
	int64_t N;
	int layout, coder;
	float sxy, swh, w[4], xclip, osx, osy, cw, ch;
} box_job;

static void box_rows(void *arg, int64_t begin, int64_t end, int thread)
{
	const box_job *j = arg;
	const odet_tensor *d = &j->a->in[0], *an = &j->a->in[1];
	float *out = j->a->out[0].data;
	int64_t N = j->N;
	for (int64_t r = begin; r < end; r++) {
		int64_t b = r / N, i = r % N;
		float dv[4], av[4], o[4];
		for (int k = 0; k < 4; k++) {
			dv[k] = ld(d->data, d->dtype, j->layout ? (b * 4 + k) * N + i : r * 4 + k);
			av[k] = ld(an->data, an->dtype, i * 4 + k);
		}
		if (j->coder == 0) { /* NVIDIA SSD: anchors cx cy w h */
			float x = j->sxy * dv[0], y = j->sxy * dv[1];
			float w = j->swh * dv[2], h = j->swh * dv[3];
			x = x * av[2] + av[0];
			y = y * av[3] + av[1];
			w = expf(w) * av[2];
			h = expf(h) * av[3];
			o[0] = x - 0.5f * w, o[1] = y - 0.5f * h, o[2] = x + 0.5f * w, o[3] = y + 0.5f * h;
		} else { /* torchvision BoxCoder: anchors x1 y1 x2 y2 */
			float widths = av[2] - av[0], heights = av[3] - av[1];
			float cx = av[0] + 0.5f * widths, cy = av[1] + 0.5f * heights;
			float dx = dv[0] / j->w[0], dy = dv[1] / j->w[1];
			float dw = dv[2] / j->w[2], dh = dv[3] / j->w[3];
			dw = dw > j->xclip ? j->xclip : dw;
			dh = dh > j->xclip ? j->xclip : dh;
			float pcx = dx * widths + cx, pcy = dy * heights + cy;
			float pw = expf(dw) * widths, ph = expf(dh) * heights;
			float hw = 0.5f * pw, hh = 0.5f * ph;
			o[0] = pcx - hw, o[1] = pcy - hh, o[2] = pcx + hw, o[3] = pcy + hh;
		}
		o[0] *= j->osx, o[2] *= j->osx, o[1] *= j->osy, o[3] *= j->osy;
		if (j->cw > 0) {
			o[0] = clampf_t(o[0], 0, j->cw), o[2] = clampf_t(o[2], 0, j->cw);
			o[1] = clampf_t(o[1], 0, j->ch), o[3] = clampf_t(o[3], 0, j->ch);
		}
		memcpy(out + r * 4, o, sizeof o);
	}
}

static odet_status box_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	int64_t coder = ir_attr_int(n, "coder", 0), layout = ir_attr_int(n, "layout", 0);
	if ((coder != 0 && coder != 1) || (layout != 0 && layout != 1))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (BoxDecode): coder %lld, layout %lld (0 or 1)",
				  n->name, (long long)coder, (long long)layout);
	odet_status rc = check_float_in(ctx, g, n, 0);
	return rc ? rc : check_float_in(ctx, g, n, 1);
}

static odet_status box_run(const be_run_args *a)
{
	const ir_node *n = a->node;
	box_job j = {.a = a, .N = a->out[0].dims[1]};
	j.layout = (int)ir_attr_int(n, "layout", 0);
	j.coder = (int)ir_attr_int(n, "coder", 0);
	j.sxy = ir_attr_float(n, "scale_xy", 0.1f);
	j.swh = ir_attr_float(n, "scale_wh", 0.2f);
	const float *w;
	if (ir_attr_floats(n, "weights", &w) == 4)
		memcpy(j.w, w, sizeof j.w);
	else
		j.w[0] = j.w[1] = j.w[2] = j.w[3] = 1.0f;
	j.xclip = ir_attr_float(n, "xform_clip", INFINITY);
	j.osx = ir_attr_float(n, "out_scale_x", 1.0f);
	j.osy = ir_attr_float(n, "out_scale_y", 1.0f);
	j.cw = ir_attr_float(n, "clip_w", 0.0f);
	j.ch = ir_attr_float(n, "clip_h", 0.0f);
	odet_parallel_for(a->pool, a->out[0].dims[0] * j.N, 1024, box_rows, &j);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_BOX_DECODE = {.check = box_check, .run = box_run};

/* ---------------------------------------------------------------- ClassScores */

typedef struct score_job {
	const be_run_args *a;
	int64_t N, C;
	int layout, act;
} score_job;

void cpu_class_scores_rows(const void *x, odet_dtype dt, int layout, int activation, int64_t N, int64_t C,
			   int64_t begin, int64_t end, float *out)
{
	for (int64_t r = begin; r < end; r++) {
		int64_t b = r / N, i = r % N;
		float *o = out + r * C;
		for (int64_t c = 0; c < C; c++)
			o[c] = ld(x, dt, layout ? (b * C + c) * N + i : r * C + c);
		if (activation == 1) {
			float m = o[0], s = 0;
			for (int64_t c = 1; c < C; c++)
				m = o[c] > m ? o[c] : m;
			for (int64_t c = 0; c < C; c++)
				s += (o[c] = expf(o[c] - m));
			float inv = 1.0f / s;
			for (int64_t c = 0; c < C; c++)
				o[c] *= inv;
		} else if (activation == 2) {
			for (int64_t c = 0; c < C; c++)
				o[c] = 1.0f / (1.0f + expf(-o[c]));
		}
	}
}

static void score_rows(void *arg, int64_t begin, int64_t end, int thread)
{
	const score_job *j = arg;
	const odet_tensor *x = &j->a->in[0];
	cpu_class_scores_rows(x->data, x->dtype, j->layout, j->act, j->N, j->C, begin, end, j->a->out[0].data);
}

static odet_status score_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	int64_t act = ir_attr_int(n, "activation", 0);
	if (act < 0 || act > 2)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (ClassScores): activation %lld (0..2)", n->name,
				  (long long)act);
	return check_float_in(ctx, g, n, 0);
}

static odet_status score_run(const be_run_args *a)
{
	score_job j = {.a = a, .N = a->out[0].dims[1], .C = a->out[0].dims[2]};
	j.layout = (int)ir_attr_int(a->node, "layout", 0);
	j.act = (int)ir_attr_int(a->node, "activation", 0);
	odet_parallel_for(a->pool, a->out[0].dims[0] * j.N, 256, score_rows, &j);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_CLASS_SCORES = {.check = score_check, .run = score_run};

/* ---------------------------------------------------------------- YoloDecode */

typedef struct yolo_job {
	const be_run_args *a;
	int version, decoded;
	int64_t M, C, H, W, A, R, N;
	float stride;
	const float *anchors;
} yolo_job;

static inline float sigm(float x)
{
	return 1.0f / (1.0f + expf(-x));
}

static void yolo_rows(void *arg, int64_t begin, int64_t end, int thread)
{
	const yolo_job *j = arg;
	const odet_tensor *x = &j->a->in[0];
	float *ob = j->a->out[0].data, *os = j->a->out[1].data;
	int64_t M = j->M, C = j->C;
	for (int64_t r = begin; r < end; r++) {
		int64_t b = r / M, m = r % M;
		float box[4], *sc = os + r * C;
		if (j->decoded) {
			float v[4];
			if (j->version == 5) { /* [B,N,5+C]: cx cy w h obj cls... */
				const int64_t base = r * (5 + C);
				for (int k = 0; k < 4; k++)
					v[k] = ld(x->data, x->dtype, base + k);
				float obj = ld(x->data, x->dtype, base + 4);
				for (int64_t c = 0; c < C; c++)
					sc[c] = ld(x->data, x->dtype, base + 5 + c) * obj;
			} else { /* [B,4+C,N] */
				for (int k = 0; k < 4; k++)
					v[k] = ld(x->data, x->dtype, (b * (4 + C) + k) * j->N + m);
				for (int64_t c = 0; c < C; c++)
					sc[c] = ld(x->data, x->dtype, (b * (4 + C) + 4 + c) * j->N + m);
			}
			box[0] = v[0] - v[2] / 2, box[1] = v[1] - v[3] / 2;
			box[2] = v[0] + v[2] / 2, box[3] = v[1] + v[3] / 2;
		} else if (j->version == 5) { /* [B, A*(5+C), H, W], m = (a*H + y)*W + x */
			int64_t HW = j->H * j->W, a = m / HW, y = (m % HW) / j->W, xx = m % j->W;
			int64_t ch0 = (b * j->A + a) * (5 + C);
#define AT(ch) sigm(ld(x->data, x->dtype, ((ch0 + (ch)) * j->H + y) * j->W + xx))
			float cx = (AT(0) * 2 - 0.5f + (float)xx) * j->stride;
			float cy = (AT(1) * 2 - 0.5f + (float)y) * j->stride;
			float pw = AT(2) * 2, ph = AT(3) * 2;
			float w = pw * pw * j->anchors[2 * a], h = ph * ph * j->anchors[2 * a + 1];
			float obj = AT(4);
			for (int64_t c = 0; c < C; c++)
				sc[c] = AT(5 + c) * obj;
#undef AT
			box[0] = cx - w / 2, box[1] = cy - h / 2, box[2] = cx + w / 2, box[3] = cy + h / 2;
		} else { /* v8: [B, 4*R + C, H, W], m = y*W + x; DFL over R bins per side */
			int64_t y = m / j->W, xx = m % j->W, R = j->R;
			int64_t ch0 = b * (4 * R + C);
			float d[4];
			for (int s = 0; s < 4; s++) {
				float mx = -INFINITY, sum = 0, e = 0;
				for (int64_t k = 0; k < R; k++) {
					float v = ld(x->data, x->dtype, ((ch0 + s * R + k) * j->H + y) * j->W + xx);
					mx = v > mx ? v : mx;
				}
				for (int64_t k = 0; k < R; k++) {
					float v = expf(ld(x->data, x->dtype, ((ch0 + s * R + k) * j->H + y) * j->W + xx) - mx);
					sum += v;
					e += v * (float)k;
				}
				d[s] = e / sum;
			}
			float ax = (float)xx + 0.5f, ay = (float)y + 0.5f;
			box[0] = (ax - d[0]) * j->stride, box[1] = (ay - d[1]) * j->stride;
			box[2] = (ax + d[2]) * j->stride, box[3] = (ay + d[3]) * j->stride;
			for (int64_t c = 0; c < C; c++)
				sc[c] = sigm(ld(x->data, x->dtype, ((ch0 + 4 * R + c) * j->H + y) * j->W + xx));
		}
		memcpy(ob + r * 4, box, sizeof box);
	}
}

static odet_status yolo_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	int64_t v = ir_attr_int(n, "version", 5);
	const float *an;
	int na = ir_attr_floats(n, "anchors", &an);
	if (v != 5 && v != 8)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (YoloDecode): version %lld (5 or 8)", n->name,
				  (long long)v);
	if (v == 5 && !ir_attr_int(n, "decoded", 0) && (na < 2 || na % 2))
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "node '%s' (YoloDecode): v5 needs anchors (w,h pairs)", n->name);
	return check_float_in(ctx, g, n, 0);
}

static odet_status yolo_run(const be_run_args *a)
{
	const ir_node *n = a->node;
	const odet_tensor *x = &a->in[0];
	yolo_job j = {.a = a, .M = a->out[0].dims[1], .C = a->out[1].dims[2]};
	j.version = (int)ir_attr_int(n, "version", 5);
	j.decoded = ir_attr_int(n, "decoded", 0) != 0;
	j.stride = ir_attr_float(n, "stride", 8.0f);
	j.R = ir_attr_int(n, "reg_max", 16);
	j.A = ir_attr_floats(n, "anchors", &j.anchors) / 2;
	if (!j.decoded) {
		j.H = x->dims[2];
		j.W = x->dims[3];
	} else {
		j.N = j.version == 5 ? x->dims[1] : x->dims[2];
	}
	odet_parallel_for(a->pool, a->out[0].dims[0] * j.M, 256, yolo_rows, &j);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_YOLO_DECODE = {.check = yolo_check, .run = yolo_run};
