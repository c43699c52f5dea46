/*
 * quantize_linear.c — QuantizeLinear (ops.def, ONNX): float32/float16 X, float32 scale (scalar,
 * or 1-D along attr axis, default 1), zero point int8/uint8 shaped like the scale (optional:
 * then uint8, zero point 0) -> y = saturate(round_half_even(x / scale) + zp) to the output
 * type's range. NaN becomes the zero point.
 * Computed as q = x / scale clamped to [lo - zp, hi - zp] first (the same result: the bounds are
 * integers), then rounded half to even by adding and subtracting 1.5 * 2^23 (exact for |q| < 2^22,
 * the default rounding mode), in parallel over blocks of elements of one scale. float32 runs on
 * AVX-512 take 16 elements at a time (the same division, clamp, round-half-even and NaN -> zero
 * point: bit-identical to the scalar loop, which GCC at -O2 leaves scalar: an int8 store may
 * alias the float input). To float8e4m3: qconv_fp8.c.
 */
#include "backend/cpu/cpu_util.h"
#include "backend/cpu/fp8.h"

#include <math.h>
#ifdef __x86_64__
#include <immintrin.h>
#endif

static odet_status quantize_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const ir_value *x = ir_in(g, n, 0), *s = ir_in(g, n, 1), *y = ir_out(g, n, 0);
	if (y && y->dtype == ODET_F8E4M3)
		return cpu_quantize_fp8_check(ctx, g, n);
	if (!x || !s || !y || (x->dtype != ODET_F32 && x->dtype != ODET_F16) || s->dtype != ODET_F32 ||
	    (y->dtype != ODET_I8 && y->dtype != ODET_U8))
		return odet_error(ctx, ODET_ERR_UNSUPPORTED,
				  "node '%s' (QuantizeLinear): float32/float16 to int8/uint8 with float32 scales only (this one: %s "
				  "to %s)", n->name, x ? odet_dtype_name(x->dtype) : "?", y ? odet_dtype_name(y->dtype) : "?");
	return ODET_OK;
}

/* y[i] = saturate(round_half_even(clamp(x[i] / s, qlo, qhi)) + zp), NaN -> zp; y int8 or (u8) uint8 */
typedef void (*quant_f32_fn)(const float *restrict x, void *restrict y, int64_t n, float s, float qlo, float qhi,
			     float zp, bool u8);

static void quant_f32_c(const float *restrict x, void *restrict y, int64_t n, float s, float qlo, float qhi, float zp,
			bool u8)
{
	const float magic = 12582912.0f;
	for (int64_t i = 0; i < n; i++) {
		float q = x[i] / s;
		q = q != q ? 0.f : (q < qlo ? qlo : (q > qhi ? qhi : q));
		float r = (q + magic) - magic + zp;
		if (u8)
			((uint8_t *)y)[i] = (uint8_t)r;
		else
			((int8_t *)y)[i] = (int8_t)r;
	}
}

#ifdef __x86_64__
__attribute__((target("avx512f"))) static void quant_f32_avx512(const float *restrict x, void *restrict y, int64_t n,
								  float s, float qlo, float qhi, float zp, bool u8)
{
	const __m512 vs = _mm512_set1_ps(s), lo = _mm512_set1_ps(qlo), hi = _mm512_set1_ps(qhi), z = _mm512_set1_ps(zp);
	for (int64_t i = 0; i < n; i += 16) {
		const __mmask16 k = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
		__m512 q = _mm512_div_ps(_mm512_maskz_loadu_ps(k, x + i), vs);
		q = _mm512_mask_mov_ps(q, _mm512_cmp_ps_mask(q, q, _CMP_UNORD_Q), _mm512_setzero_ps());
		q = _mm512_min_ps(_mm512_max_ps(q, lo), hi);
		q = _mm512_add_ps(_mm512_roundscale_ps(q, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), z);
		const __m512i v = _mm512_cvtps_epi32(q);
		if (u8)
			_mm512_mask_cvtusepi32_storeu_epi8((uint8_t *)y + i, k, v);
		else
			_mm512_mask_cvtsepi32_storeu_epi8((int8_t *)y + i, k, v);
	}
}
#endif

typedef struct quant_job {
	const odet_tensor *x, *s, *z;
	odet_tensor *y;
	int64_t inner, axis_len;
	bool u8;
	quant_f32_fn f32;
} quant_job;

#define QUANT_BLOCK 4096

/* blocks [begin, end) of QUANT_BLOCK elements; within a block, runs of one channel */
static void quant_range(void *arg, int64_t begin, int64_t end, int thread)
{
	const quant_job *j = arg;
	const int64_t n = odet_tensor_numel(j->x);
	const float *sc = j->s->data;
	const float lo = j->u8 ? 0.f : -128.f, hi = j->u8 ? 255.f : 127.f, magic = 12582912.0f;
	(void)thread;
	for (int64_t i0 = begin * QUANT_BLOCK; i0 < n && i0 < end * QUANT_BLOCK;) {
		int64_t c = j->s->rank == 1 ? (i0 / j->inner) % j->axis_len : 0;
		int64_t run = j->s->rank == 1 ? j->inner - i0 % j->inner : n - i0;
		int64_t i1 = i0 + run;
		if (i1 > end * QUANT_BLOCK)
			i1 = end * QUANT_BLOCK;
		if (i1 > n)
			i1 = n;
		const float zp = !j->z ? 0.f : j->z->dtype == ODET_U8 ? ((const uint8_t *)j->z->data)[c]
								    : ((const int8_t *)j->z->data)[c];
		const float s = sc[c], qlo = lo - zp, qhi = hi - zp;
		if (j->x->dtype == ODET_F32) {
			j->f32((const float *)j->x->data + i0, (char *)j->y->data + i0, i1 - i0, s, qlo, qhi, zp, j->u8);
		} else {
			for (int64_t i = i0; i < i1; i++) {
				float v = odet_f16_to_f32(((const uint16_t *)j->x->data)[i]);
				float q = v / s;
				q = q != q ? 0.f : (q < qlo ? qlo : (q > qhi ? qhi : q));
				float r = (q + magic) - magic + zp;
				if (j->u8)
					((uint8_t *)j->y->data)[i] = (uint8_t)r;
				else
					((int8_t *)j->y->data)[i] = (int8_t)r;
			}
		}
		i0 = i1;
	}
}

static odet_status quantize_run(const be_run_args *a)
{
	if (a->out[0].dtype == ODET_F8E4M3)
		return cpu_quantize_fp8_run(a);
	quant_job j = {.x = &a->in[0], .s = &a->in[1], .z = a->n_in > 2 && a->in[2].data ? &a->in[2] : NULL,
		       .y = &a->out[0], .inner = 1, .axis_len = 1, .u8 = a->out[0].dtype == ODET_U8, .f32 = quant_f32_c};
#ifdef __x86_64__
	if (__builtin_cpu_supports("avx512f"))
		j.f32 = quant_f32_avx512;
#endif
	int64_t n = odet_tensor_numel(j.x), ns = odet_tensor_numel(j.s);
	cpu_quant_axis(a->node, j.x, j.s, &j.inner, &j.axis_len);
	const float *sc = j.s->data;
	for (int64_t k = 0; k < ns; k++)
		if (!(sc[k] > 0) || !isfinite(sc[k]))
			return odet_error(a->ctx, ODET_ERR_BAD_INPUT, "node '%s' (QuantizeLinear): scale %g must be positive",
					  a->node->name, (double)sc[k]);
	odet_parallel_for(a->pool, (n + QUANT_BLOCK - 1) / QUANT_BLOCK, 4, quant_range, &j);
	return ODET_OK;
}

const cpu_kernel cpu_kernel_QUANTIZE_LINEAR = {.check = quantize_check, .run = quantize_run};
