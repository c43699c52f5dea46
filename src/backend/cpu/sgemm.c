/*
 * sgemm.c — blocked, packed single-precision GEMM (see sgemm.h).
 *
 * The output is cut into tiles of at most MC x NC; each pool task takes whole tiles and,
 * per KC slice, packs its A block into MR-row strips and its B block into NR-column strips
 * (zero padded at the edges), then runs the MR x NR micro-kernel over the strips. The
 * first KC slice applies beta; later slices accumulate. Edge tiles go through a small
 * stack buffer so the kernel always works on full MR x NR blocks.
 */
#include "backend/cpu/sgemm.h"

#include <string.h>
#ifdef __x86_64__
#include <immintrin.h>
#endif

#define MR 8
#define NR 32
#define KC 256
#define MC 128 /* multiple of MR */
#define NC 512 /* multiple of NR */

typedef void (*ukernel_fn)(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
			   float alpha, float beta);

/* c[MR][NR] (row stride ldc) = alpha * sum_k a[k][MR] b[k][NR] + beta * c (beta 0: no read) */
static void ukernel_c(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, float alpha,
		      float beta)
{
	float acc[MR][NR];
	memset(acc, 0, sizeof acc);
	for (int64_t p = 0; p < kc; p++) {
		for (int i = 0; i < MR; i++) {
			float ai = a[p * MR + i];
			for (int j = 0; j < NR; j++)
				acc[i][j] += ai * b[p * NR + j];
		}
	}
	for (int i = 0; i < MR; i++)
		for (int j = 0; j < NR; j++)
			c[i * ldc + j] = alpha * acc[i][j] + (beta != 0 ? beta * c[i * ldc + j] : 0.0f);
}

#ifdef __x86_64__
__attribute__((target("avx512f"))) static void ukernel_avx512(int64_t kc, const float *a, const float *b,
							       float *c, int64_t ldc, float alpha, float beta)
{
	__m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps();
	__m512 c10 = _mm512_setzero_ps(), c11 = _mm512_setzero_ps();
	__m512 c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps();
	__m512 c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps();
	__m512 c40 = _mm512_setzero_ps(), c41 = _mm512_setzero_ps();
	__m512 c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps();
	__m512 c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps();
	__m512 c70 = _mm512_setzero_ps(), c71 = _mm512_setzero_ps();
	for (int64_t p = 0; p < kc; p++) {
		__m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
		__m512 a0;
#define ROW(i)                                                    \
		a0 = _mm512_set1_ps(a[i]);                        \
		c##i##0 = _mm512_fmadd_ps(a0, b0, c##i##0);       \
		c##i##1 = _mm512_fmadd_ps(a0, b1, c##i##1);
		ROW(0) ROW(1) ROW(2) ROW(3) ROW(4) ROW(5) ROW(6) ROW(7)
#undef ROW
		a += MR;
		b += NR;
	}
	__m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#define STORE(i)                                                                                  \
	{                                                                                         \
		float *ci = c + (i) * ldc;                                                        \
		__m512 r0 = _mm512_mul_ps(c##i##0, va), r1 = _mm512_mul_ps(c##i##1, va);          \
		if (beta != 0) {                                                                  \
			r0 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(ci), r0);                        \
			r1 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(ci + 16), r1);                   \
		}                                                                                 \
		_mm512_storeu_ps(ci, r0);                                                         \
		_mm512_storeu_ps(ci + 16, r1);                                                    \
	}
	STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5) STORE(6) STORE(7)
#undef STORE
}
#endif

static ukernel_fn pick_ukernel(void)
{
#ifdef __x86_64__
	if (__builtin_cpu_supports("avx512f"))
		return ukernel_avx512;
#endif
	return ukernel_c;
}

size_t cpu_sgemm_workspace(int n_threads)
{
	if (n_threads < 1)
		n_threads = 1;
	return (size_t)n_threads * (MC * KC + KC * NC) * sizeof(float);
}

/* pack op(A)[i0 .. i0+mc)[p0 .. p0+kc) into MR-row strips: dst[strip][p][MR] */
static void pack_a(const cpu_sgemm_args *g, int64_t i0, int64_t mc, int64_t p0, int64_t kc, float *dst)
{
	for (int64_t is = 0; is < mc; is += MR) {
		int64_t rows = mc - is < MR ? mc - is : MR;
		for (int64_t p = 0; p < kc; p++) {
			for (int64_t r = 0; r < rows; r++) {
				int64_t i = i0 + is + r, k = p0 + p;
				dst[p * MR + r] = g->trans_a ? g->a[k * g->lda + i] : g->a[i * g->lda + k];
			}
			for (int64_t r = rows; r < MR; r++)
				dst[p * MR + r] = 0;
		}
		dst += kc * MR;
	}
}

/* pack op(B)[p0 .. p0+kc)[j0 .. j0+nc) into NR-column strips: dst[strip][p][NR] */
static void pack_b(const cpu_sgemm_args *g, int64_t p0, int64_t kc, int64_t j0, int64_t nc, float *dst)
{
	for (int64_t js = 0; js < nc; js += NR) {
		int64_t cols = nc - js < NR ? nc - js : NR;
		for (int64_t p = 0; p < kc; p++) {
			float *d = dst + p * NR;
			int64_t k = p0 + p;
			if (!g->trans_b) {
				memcpy(d, g->b + k * g->ldb + j0 + js, sizeof(float) * (size_t)cols);
			} else {
				for (int64_t c = 0; c < cols; c++)
					d[c] = g->b[(j0 + js + c) * g->ldb + k];
			}
			for (int64_t c = cols; c < NR; c++)
				d[c] = 0;
		}
		dst += kc * NR;
	}
}

typedef struct sgemm_job {
	const cpu_sgemm_args *g;
	char *ws;
	int64_t mc, nc, tiles_n, n_tiles;
	ukernel_fn ukr;
} sgemm_job;

static void run_tile(const sgemm_job *j, int64_t t, float *pa, float *pb)
{
	const cpu_sgemm_args *g = j->g;
	int64_t i0 = (t / j->tiles_n) * j->mc, j0 = (t % j->tiles_n) * j->nc;
	int64_t mc = g->m - i0 < j->mc ? g->m - i0 : j->mc;
	int64_t nc = g->n - j0 < j->nc ? g->n - j0 : j->nc;
	float edge[MR * NR] __attribute__((aligned(64)));
	for (int64_t p0 = 0; p0 < g->k || p0 == 0; p0 += KC) {
		int64_t kc = g->k - p0 < KC ? g->k - p0 : KC;
		float beta = p0 == 0 ? g->beta : 1.0f;
		pack_a(g, i0, mc, p0, kc, pa);
		pack_b(g, p0, kc, j0, nc, pb);
		for (int64_t js = 0; js < nc; js += NR) {
			int64_t cols = nc - js < NR ? nc - js : NR;
			for (int64_t is = 0; is < mc; is += MR) {
				int64_t rows = mc - is < MR ? mc - is : MR;
				float *c = g->c + (i0 + is) * g->ldc + j0 + js;
				const float *a = pa + is * kc, *b = pb + js * kc;
				if (rows == MR && cols == NR) {
					j->ukr(kc, a, b, c, g->ldc, g->alpha, beta);
					continue;
				}
				j->ukr(kc, a, b, edge, NR, g->alpha, 0.0f);
				for (int64_t r = 0; r < rows; r++)
					for (int64_t q = 0; q < cols; q++)
						c[r * g->ldc + q] = edge[r * NR + q] +
							(beta != 0 ? beta * c[r * g->ldc + q] : 0.0f);
			}
		}
		if (g->k == 0)
			break;
	}
}

static void sgemm_range(void *arg, int64_t begin, int64_t end, int thread)
{
	const sgemm_job *j = arg;
	float *pa = (float *)(j->ws + (size_t)thread * (MC * KC + KC * NC) * sizeof(float));
	float *pb = pa + MC * KC;
	for (int64_t t = begin; t < end; t++)
		run_tile(j, t, pa, pb);
}

void cpu_sgemm(odet_threadpool *pool, const cpu_sgemm_args *g, void *ws)
{
	if (g->m <= 0 || g->n <= 0)
		return;
	int nt = odet_threadpool_size(pool);
	sgemm_job j = {.g = g, .ws = ws, .mc = MC, .nc = NC, .ukr = pick_ukernel()};
	/* shrink tiles so every thread gets work when the matrix is small */
	int64_t tm = (g->m + MC - 1) / MC, tn = (g->n + NC - 1) / NC;
	if (tm * tn < nt) {
		int64_t want_n = (nt + tm - 1) / tm;
		int64_t nc = (g->n + want_n - 1) / want_n;
		nc = (nc + NR - 1) / NR * NR;
		j.nc = nc < NC ? nc : NC;
		tn = (g->n + j.nc - 1) / j.nc;
		if (tm * tn < nt && g->m > MR) {
			int64_t want_m = (nt + tn - 1) / tn;
			int64_t mc = (g->m + want_m - 1) / want_m;
			mc = (mc + MR - 1) / MR * MR;
			j.mc = mc < MC ? mc : MC;
			tm = (g->m + j.mc - 1) / j.mc;
		}
	}
	j.tiles_n = tn;
	j.n_tiles = tm * tn;
	odet_parallel_for(pool, j.n_tiles, 1, sgemm_range, &j);
}

void cpu_sgemm_serial(const cpu_sgemm_args *g, void *slot)
{
	if (g->m <= 0 || g->n <= 0)
		return;
	sgemm_job j = {.g = g, .ws = slot, .mc = MC, .nc = NC, .ukr = pick_ukernel()};
	j.tiles_n = (g->n + NC - 1) / NC;
	j.n_tiles = (g->m + MC - 1) / MC * j.tiles_n;
	sgemm_range(&j, 0, j.n_tiles, 0);
}
