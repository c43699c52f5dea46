/*
 * letterbox.c — the CPU backend's letterbox hook (backend.h: be_lbox_args), the reference of
 * every other backend's letterbox: decoded RGB8 images (host memory) → an image input tensor
 * (host memory) of `batch` images, dst_h × dst_w, 3 channels.
 *
 *   images: n descriptors (n <= batch), image i's row y at rgb + y * pitch, interleaved RGB8;
 *           rw × rh at (px, py): where io_letterbox_geom puts it in the destination.
 *   dst:    [batch, 3, dst_h, dst_w] (ODET_LAYOUT_NCHW) or [batch, dst_h, dst_w, 3] (NHWC),
 *           dtype F32, F16 (round to nearest even) or U8 (clamped to 0..255, then rounded to
 *           nearest even).
 *   Algorithm (io_letterbox's rule, expression for expression, so F32 output is bit-identical
 *   to io_letterbox): for destination pixel (x, y) of image i, ix = x - px, iy = y - py;
 *   outside [0, rw) × [0, rh) v = fill; else bilinear with half-pixel centres clamped at the
 *   borders, fx = (ix + 0.5f) * sx - 0.5f (sx = w / rw), fx < 0 → 0, x0 = (int)fx,
 *   x1 = min(x0 + 1, w - 1), x0 = min(x0, w - 1), ax = fx - x0 (same for y);
 *   v = top + (bot - top) * ay with top = p00 + (p01 - p00) * ax, bot likewise.
 *   value = v * scale[c] + bias[c]. Slots n..batch-1 hold the pad value fill * scale[c] + bias[c].
 *   Threads split the batch's rows (batch * dst_h) over ctx->pool; stream is unused.
 *   F32 rows up to LB_MAXW image columns take the same expressions in another order of work:
 *   each column's taps once per image, each source row's horizontal blend (top / bot) once
 *   for the two output rows that use it, then the vertical blend straight into dst.
 * Invalid arguments (n outside 0..batch, sizes <= 0, another dtype or layout, a pitch below
 * 3 * w, missing pointers) → ODET_ERR_INVALID_ARG naming the reason; nothing is written then.
 */
#include "backend/cpu/cpu.h"
#include "backend/lbox.h"

#include <math.h>
#include <string.h>

/* Pixels computed into a float buffer per step before the dtype's store. */
#define LB_SPAN 128

/* X(DTYPE_SUFFIX, element type, float → element conversion) */
#define LB_DTYPES(X) X(F32, float, lb_to_f32) X(F16, uint16_t, odet_f32_to_f16) X(U8, uint8_t, lb_to_u8)

static inline float lb_to_f32(float v)
{
	return v;
}

static inline uint8_t lb_to_u8(float v)
{
	v = fminf(fmaxf(v, 0.0f), 255.0f); /* NaN → 0 */
	return (uint8_t)lrintf(v);
}

/* Store n pixels (interleaved RGB values v) at pixel index pix of the image starting at
 * element img (NCHW planes of `plane` elements, or NHWC rows). */
typedef void (*lb_store_fn)(void *dst, odet_layout layout, int64_t img, int64_t plane, int64_t pix, int n,
			    const float *v);

#define LB_STORE(DT, T, CVT)                                                                        \
	static void lb_store_##DT(void *dst, odet_layout layout, int64_t img, int64_t plane, int64_t pix, \
				  int n, const float *v)                                            \
	{                                                                                           \
		T *d = (T *)dst + img;                                                              \
		if (layout == ODET_LAYOUT_NCHW) {                                                   \
			for (int c = 0; c < 3; c++)                                                 \
				for (int k = 0; k < n; k++)                                         \
					d[c * plane + pix + k] = CVT(v[k * 3 + c]);                 \
		} else {                                                                            \
			for (int k = 0; k < 3 * n; k++)                                             \
				d[pix * 3 + k] = CVT(v[k]);                                         \
		}                                                                                   \
	}
LB_DTYPES(LB_STORE)
#undef LB_STORE

static lb_store_fn lb_store_of(odet_dtype t)
{
	switch (t) {
#define LB_CASE(DT, T, CVT) case ODET_##DT: return lb_store_##DT;
		LB_DTYPES(LB_CASE)
#undef LB_CASE
	default:
		return NULL;
	}
}

typedef struct lb_job {
	const be_lbox_args *a;
	lb_store_fn store;
	int64_t plane; /* dst_h * dst_w */
} lb_job;

/* Values of pixels x0..x0+n-1 of row y of image im into v (interleaved RGB). */
static void lb_span(const be_lbox_args *a, const be_lbox_image *im, int y, int x0, int n, float *v)
{
	const float *scale = a->scale, *bias = a->bias;
	int iy = y - im->py;
	bool row_in = iy >= 0 && iy < im->rh;
	float sx = (float)im->w / (float)im->rw, sy = (float)im->h / (float)im->rh;
	const uint8_t *r0 = NULL, *r1 = NULL;
	float ay = 0.0f;
	if (row_in) {
		int y0, y1;
		be_lbox_tap((iy + 0.5f) * sy - 0.5f, im->h, &y0, &y1, &ay);
		r0 = im->rgb + (int64_t)y0 * im->pitch;
		r1 = im->rgb + (int64_t)y1 * im->pitch;
	}
	for (int k = 0; k < n; k++) {
		int ix = x0 + k - im->px;
		float *o = v + k * 3;
		if (!row_in || ix < 0 || ix >= im->rw) {
			for (int c = 0; c < 3; c++)
				o[c] = a->fill * scale[c] + bias[c];
			continue;
		}
		/* half-pixel centres, clamped at the borders */
		int xa, xb;
		float ax;
		be_lbox_tap((ix + 0.5f) * sx - 0.5f, im->w, &xa, &xb, &ax);
		const uint8_t *p00 = r0 + (int64_t)xa * 3, *p01 = r0 + (int64_t)xb * 3;
		const uint8_t *p10 = r1 + (int64_t)xa * 3, *p11 = r1 + (int64_t)xb * 3;
		for (int c = 0; c < 3; c++) {
			float top = p00[c] + (p01[c] - p00[c]) * ax;
			float bot = p10[c] + (p11[c] - p10[c]) * ax;
			float val = top + (bot - top) * ay;
			o[c] = val * scale[c] + bias[c];
		}
	}
}

/* float32 rows of one image: each destination column's taps (byte offsets in a source row and
 * the weight of the right one) and the horizontal blends of the last two source rows used. */
#define LB_MAXW 1344
typedef struct lb_f32_cache {
	int64_t image;                 /* whose taps these are (-1: none yet) */
	int x_in, x_end;               /* destination columns from the image (in rows inside it) */
	int32_t ta[LB_MAXW], tb[LB_MAXW];
	float tw[LB_MAXW];
	int key[2];                    /* source row blended into h[k] (-1: none) */
	float h[2][LB_MAXW * 3];
} lb_f32_cache;

/* Columns [x_in, x_end) of image im and their taps into q; false when wider than LB_MAXW. */
static bool lb_f32_taps(const be_lbox_args *a, const be_lbox_image *im, lb_f32_cache *q)
{
	int x_in = im->px < 0 ? 0 : im->px > a->dst_w ? a->dst_w : im->px;
	int64_t e = (int64_t)im->px + im->rw;
	int x_end = e < x_in ? x_in : e > a->dst_w ? a->dst_w : (int)e;
	if (x_end - x_in > LB_MAXW)
		return false;
	float sx = (float)im->w / (float)im->rw;
	for (int x = x_in; x < x_end; x++) {
		int xa, xb, ix = x - im->px;
		float ax;
		be_lbox_tap((ix + 0.5f) * sx - 0.5f, im->w, &xa, &xb, &ax);
		q->ta[x - x_in] = xa * 3;
		q->tb[x - x_in] = xb * 3;
		q->tw[x - x_in] = ax;
	}
	q->x_in = x_in;
	q->x_end = x_end;
	q->key[0] = q->key[1] = -1;
	return true;
}

/* h[k] = source row ys blended at every column: p0 + (p1 - p0) * ax, lb_span's top/bottom (the
 * uint8 difference is exact in float, so the same value as its int form) */
static void lb_f32_blend(const be_lbox_image *im, lb_f32_cache *q, int k, int ys)
{
	const uint8_t *row = im->rgb + (int64_t)ys * im->pitch;
	float *h = q->h[k];
	for (int i = 0; i < q->x_end - q->x_in; i++) {
		const uint8_t *p0 = row + q->ta[i], *p1 = row + q->tb[i];
		float w = q->tw[i];
		for (int c = 0; c < 3; c++)
			h[i * 3 + c] = p0[c] + (p1[c] - p0[c]) * w;
	}
	q->key[k] = ys;
}

/* Row y of image im (taps in q) straight into float32 dst: channel c of pixel x at
 * d[c] + x * step (NCHW: three planes, step 1; NHWC: interleaved, step 3). */
static void lb_row_f32(const be_lbox_args *a, const be_lbox_image *im, int y, float *const d[3], int64_t step,
		       lb_f32_cache *q)
{
	const float *scale = a->scale, *bias = a->bias;
	int iy = y - im->py;
	bool row_in = iy >= 0 && iy < im->rh;
	int x_in = row_in ? q->x_in : 0, x_end = row_in ? q->x_end : 0;
	for (int c = 0; c < 3; c++) {
		float pad = a->fill * scale[c] + bias[c], *o = d[c];
		for (int x = 0; x < x_in; x++)
			o[x * step] = pad;
		for (int x = x_end; x < a->dst_w; x++)
			o[x * step] = pad;
	}
	if (x_in == x_end)
		return;
	float sy = (float)im->h / (float)im->rh, ay;
	int y0, y1;
	be_lbox_tap((iy + 0.5f) * sy - 0.5f, im->h, &y0, &y1, &ay);
	int k0 = q->key[0] == y0 ? 0 : q->key[1] == y0 ? 1 : -1;
	if (k0 < 0) {
		k0 = q->key[0] == y1 ? 1 : 0;
		lb_f32_blend(im, q, k0, y0);
	}
	int k1 = q->key[0] == y1 ? 0 : q->key[1] == y1 ? 1 : -1;
	if (k1 < 0) {
		k1 = 1 - k0;
		lb_f32_blend(im, q, k1, y1);
	}
	const float *top = q->h[k0], *bot = q->h[k1];
	float *o0 = d[0] + (int64_t)x_in * step, *o1 = d[1] + (int64_t)x_in * step, *o2 = d[2] + (int64_t)x_in * step;
	for (int i = 0; i < x_end - x_in; i++) {
		float v0 = top[i * 3] + (bot[i * 3] - top[i * 3]) * ay;
		float v1 = top[i * 3 + 1] + (bot[i * 3 + 1] - top[i * 3 + 1]) * ay;
		float v2 = top[i * 3 + 2] + (bot[i * 3 + 2] - top[i * 3 + 2]) * ay;
		o0[i * step] = v0 * scale[0] + bias[0];
		o1[i * step] = v1 * scale[1] + bias[1];
		o2[i * step] = v2 * scale[2] + bias[2];
	}
}

/* Rows [begin, end) of the batch (row r: image r / dst_h, y = r % dst_h). */
static void lb_rows(void *arg, int64_t begin, int64_t end, int thread)
{
	const lb_job *j = arg;
	const be_lbox_args *a = j->a;
	float v[LB_SPAN * 3];
	lb_f32_cache qc, *q = a->dtype == ODET_F32 ? &qc : NULL;
	qc.image = -1;
	for (int64_t r = begin; r < end; r++) {
		int64_t b = r / a->dst_h;
		int y = (int)(r % a->dst_h);
		int64_t img = b * 3 * j->plane;
		if (a->dtype == ODET_F32 && b < a->n && q) {
			if (q->image != b && lb_f32_taps(a, &a->images[b], q))
				q->image = b;
			if (q->image == b) {
				float *base = (float *)a->dst + img;
				bool nchw = a->layout == ODET_LAYOUT_NCHW;
				int64_t row = (int64_t)y * a->dst_w;
				float *d[3];
				for (int c = 0; c < 3; c++)
					d[c] = nchw ? base + c * j->plane + row : base + row * 3 + c;
				lb_row_f32(a, &a->images[b], y, d, nchw ? 1 : 3, q);
				continue;
			}
		}
		for (int x0 = 0; x0 < a->dst_w; x0 += LB_SPAN) {
			int n = a->dst_w - x0 < LB_SPAN ? a->dst_w - x0 : LB_SPAN;
			if (b < a->n) {
				lb_span(a, &a->images[b], y, x0, n, v);
			} else {
				for (int k = 0; k < n; k++)
					for (int c = 0; c < 3; c++)
						v[k * 3 + c] = a->fill * a->scale[c] + a->bias[c];
			}
			j->store(a->dst, a->layout, img, j->plane, (int64_t)y * a->dst_w + x0, n, v);
		}
	}
}

/* NULL when a is valid, else the reason. */
static const char *lb_invalid(const be_lbox_args *a, int64_t *rows, int64_t *plane)
{
	int64_t e;
	const char *why = be_lbox_invalid(a);
	if (why)
		return why;
	if (!lb_store_of(a->dtype))
		return "destination dtype must be float32, float16 or uint8";
	if (!odet_mul_i64(a->dst_h, a->dst_w, plane) || !odet_mul_i64(*plane, 3, &e) ||
	    !odet_mul_i64(e, a->batch, &e) || !odet_mul_i64(a->batch, a->dst_h, rows))
		return "destination size overflows";
	for (int i = 0; i < a->n; i++) {
		const be_lbox_image *im = &a->images[i];
		if (!im->rgb || im->w <= 0 || im->h <= 0 || im->rw <= 0 || im->rh <= 0)
			return "an image has no pixels or a non-positive size";
		if (im->pitch / 3 < im->w)
			return "an image's pitch is below 3 * width";
	}
	return NULL;
}

odet_status cpu_letterbox(odet_ctx *ctx, const be_lbox_args *a, void *stream)
{
	int64_t rows = 0, plane = 0;
	const char *why = lb_invalid(a, &rows, &plane);
	if (why)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "letterbox (CPU): %s", why);
	lb_job j = {.a = a, .store = lb_store_of(a->dtype), .plane = plane};
	/* a grain of about 64k destination pixels per chunk */
	int64_t grain = 65536 / a->dst_w + 1;
	odet_parallel_for(ctx ? ctx->pool : NULL, rows, grain, lb_rows, &j);
	return ODET_OK;
}
