/*
 * fp8.c — E4M3 conversions (fp8.h). Encoding works on the float's bits: the value is
 * |x| = 1.m * 2^e (or a float subnormal, far below E4M3's smallest subnormal 2^-9, which
 * rounds to 0); the E4M3 grid step at that magnitude is 2^(max(e, -6) - 3), and x is rounded
 * to a multiple of it with ties to even by integer arithmetic on the 24-bit significand.
 */
#include "quant/fp8.h"

#include <math.h>
#include <string.h>

uint8_t quant_fp8_from_float(float x)
{
	uint32_t b;
	memcpy(&b, &x, sizeof b);
	const uint8_t sign = (uint8_t)((b >> 24) & 0x80);
	const uint32_t a = b & 0x7fffffffu;
	if (a > 0x7f800000u)
		return QUANT_FP8_NAN;
	if (a == 0x7f800000u)
		return sign | 0x7e;
	int e = (int)(a >> 23) - 127;   /* unbiased exponent (normal floats) */
	if (e < -11)                    /* |x| < 2^-10 = half the smallest subnormal (or a float subnormal) */
		return sign;
	uint32_t sig = (a & 0x7fffffu) | 0x800000u; /* 1.m as a 24-bit integer: |x| = sig * 2^(e - 23) */
	/* the grid step 2^(q - 3) with q = max(e, -6); drop the 23 - 3 + (q - e) low bits of sig */
	int q = e < -6 ? -6 : e;
	int drop = 20 + (q - e);        /* 20..25 */
	uint32_t keep = sig >> drop, rest = sig & ((1u << drop) - 1), half = 1u << (drop - 1);
	if (rest > half || (rest == half && (keep & 1)))
		keep++;                 /* may carry into the next binade: still exact below */
	/* value = keep * 2^(q - 3); encode: keep < 8 only in the subnormal range (q = -6) */
	if (keep == 0)
		return sign;
	int exp = q + 7;                /* biased exponent of 1.xxx * 2^q */
	if (keep >= 16) {               /* carried to 2^(q+1) */
		keep >>= 1;
		exp++;
	}
	if (keep < 8)                   /* subnormal: exponent field 0, mantissa keep */
		return sign | (uint8_t)keep;
	if (exp > 15 || (exp == 15 && (keep & 7) == 7))
		return sign | 0x7e;     /* above 448: saturate */
	return sign | (uint8_t)(exp << 3) | (uint8_t)(keep & 7);
}

float quant_fp8_to_float(uint8_t c)
{
	const int e = (c >> 3) & 15, m = c & 7;
	float v;
	if (e == 15 && m == 7)
		return NAN;
	if (e == 0)
		v = ldexpf((float)m, -9);
	else
		v = ldexpf((float)(8 + m), e - 10);
	return (c & 0x80) ? -v : v;
}
