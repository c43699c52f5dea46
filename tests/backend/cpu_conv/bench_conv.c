/*
 * bench_conv.c — times odet's CPU Conv kernel on the conv shapes of ResNet-50 (batch 1 by
 * default) for each algorithm and prints GFLOP/s. Not run by ctest.
 *   bench_conv [threads] [batch] [algo list e.g. 1235] [reps]
 *   bench_conv [threads] [batch] pool [reps]   (ResNet's MaxPool 3x3/2 on 64x112x112)
 *   bench_conv [threads] [batch] mix [reps]    (that MaxPool right after a oneDNN Conv vs after
 *                                               20 ms idle: libgomp workers spin after a Conv
 *                                               and compete with odet's pool threads)
 * algo: 0 auto, 1 im2col+sgemm, 2 oneDNN plain NCHW, 3 oneDNN's layout, 5 oneDNN nChw16c,
 * 6 oneDNN Winograd (see conv.c); b: auto in bf16 (precision bf16).
 * Each layer: Conv + bias + ReLU (as after BatchNorm folding); input random in [-1, 1].
 */
#include "backend/cpu/conv.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct layer {
	const char *name;
	int c, h, m, k, s, p;
} layer;

/* the distinct conv shapes of ResNet-50 at 224x224 (torchvision v1.5: stride on the 3x3),
 * then detection neck/head shapes */
static const layer layers[] = {
	{"conv1", 3, 224, 64, 7, 2, 3},
	{"l1.1x1a", 64, 56, 64, 1, 1, 0},   {"l1.3x3", 64, 56, 64, 3, 1, 1},
	{"l1.1x1b", 64, 56, 256, 1, 1, 0},  {"l1.1x1c", 256, 56, 64, 1, 1, 0},
	{"l2.3x3s2", 128, 56, 128, 3, 2, 1}, {"l2.3x3", 128, 28, 128, 3, 1, 1},
	{"l2.1x1b", 128, 28, 512, 1, 1, 0}, {"l2.1x1c", 512, 28, 128, 1, 1, 0},
	{"l3.3x3", 256, 14, 256, 3, 1, 1},  {"l3.1x1b", 256, 14, 1024, 1, 1, 0},
	{"l3.1x1c", 1024, 14, 256, 1, 1, 0}, {"l4.3x3", 512, 7, 512, 3, 1, 1},
	{"l4.1x1b", 512, 7, 2048, 1, 1, 0}, {"l4.1x1c", 2048, 7, 512, 1, 1, 0},
	/* detection necks and heads: RetinaNet-R50-FPN at 512 (P3), SSD300 heads at 38x38 */
	{"fpn.lat", 512, 64, 256, 1, 1, 0}, {"ret.3x3", 256, 64, 256, 3, 1, 1},
	{"ret.cls", 256, 64, 720, 3, 1, 1}, {"ret.box", 256, 64, 36, 3, 1, 1},
	{"ssd.loc", 1024, 38, 16, 3, 1, 1}, {"ssd.conf", 1024, 38, 324, 3, 1, 1},
};

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static float *rand_buf(int64_t n, unsigned *seed)
{
	float *p = malloc(sizeof(float) * (size_t)n);
	for (int64_t i = 0; p && i < n; i++)
		p[i] = (float)rand_r(seed) / RAND_MAX * 2 - 1;
	return p;
}

static int bench_pool(odet_ctx *ctx, int batch, int reps, bool mix)
{
	unsigned seed = 2;
	int64_t xd[4] = {batch, 64, 112, 112}, yd[4] = {batch, 64, 56, 56}, wd[4] = {64, 64, 1, 1};
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int x = ir_value_add(g, "x", ODET_F32, 4, xd), y = ir_value_add(g, "y", ODET_F32, 4, yd);
	int c = ir_value_add(g, "c", ODET_F32, 4, xd);
	float *w = rand_buf(64 * 64, &seed);
	int cin[2] = {c, ir_const_add(g, "w", ODET_F32, 4, wd, w)};
	int cn = ir_node_add(g, IR_OP_CONV, "conv", 2, cin, 1, &x);
	int n = ir_node_add(g, IR_OP_MAXPOOL, "pool", 1, &x, 1, &y);
	int64_t ks[2] = {3, 3}, st[2] = {2, 2}, pads[4] = {1, 1, 1, 1};
	ir_attr_set_ints(g, n, "kernel_shape", ks, 2);
	ir_attr_set_ints(g, n, "strides", st, 2);
	ir_attr_set_ints(g, n, "pads", pads, 4);
	int64_t nx = xd[0] * xd[1] * xd[2] * xd[3];
	odet_tensor tc = {ODET_F32, 4, {0}, rand_buf(nx, &seed), -1};
	odet_tensor tx = {ODET_F32, 4, {0}, rand_buf(nx, &seed), -1};
	odet_tensor ty = {ODET_F32, 4, {0}, malloc(sizeof(float) * (size_t)(yd[0] * yd[1] * yd[2] * yd[3])), -1};
	odet_tensor tw = {ODET_F32, 4, {0}, w, -1};
	memcpy(tc.dims, xd, sizeof xd);
	memcpy(tx.dims, xd, sizeof xd);
	memcpy(ty.dims, yd, sizeof yd);
	memcpy(tw.dims, wd, sizeof wd);
	odet_tensor conv_in[2] = {tc, tw};
	void *cs = NULL, *ps = NULL;
	size_t cws = 0, pws = 0;
	if (cpu_kernel_CONV.prepare(ctx, g, &g->nodes[cn], &cs, &cws) ||
	    cpu_kernel_MAXPOOL.prepare(ctx, g, &g->nodes[n], &ps, &pws)) {
		printf("prepare failed: %s\n", odet_ctx_last_error(ctx));
		return 1;
	}
	void *ws = cws ? odet_aligned_alloc(ctx, cws) : NULL;
	be_run_args ca = {.ctx = ctx, .g = g, .node = &g->nodes[cn], .state = cs, .in = conv_in, .n_in = 2,
			  .out = &tx, .n_out = 1, .workspace = ws, .workspace_size = cws, .pool = ctx->pool};
	be_run_args pa = {.ctx = ctx, .g = g, .node = &g->nodes[n], .state = ps, .in = &tx, .n_in = 1,
			  .out = &ty, .n_out = 1, .pool = ctx->pool};
	double best[2] = {1e30, 1e30};
	for (int r = 0; r <= reps; r++) {
		for (int after_conv = 0; after_conv < (mix ? 2 : 1); after_conv++) {
			if (after_conv) {
				cpu_kernel_CONV.run(&ca);
			} else if (mix) {
				struct timespec idle = {0, 20000000};
				nanosleep(&idle, NULL);
			}
			double t0 = now();
			cpu_kernel_MAXPOOL.run(&pa);
			double dt = now() - t0;
			best[after_conv] = r && dt < best[after_conv] ? dt : best[after_conv];
		}
	}
	printf("maxpool 3x3/2 [%d,64,112,112]: %.3f ms", batch, best[0] * 1e3);
	if (mix)
		printf(" after idle, %.3f ms right after a Conv", best[1] * 1e3);
	printf("\n");
	cpu_kernel_CONV.release(cs);
	cpu_kernel_MAXPOOL.release(ps);
	odet_aligned_free(ws);
	free(tc.data);
	free(tx.data);
	free(ty.data);
	ir_graph_free(g);
	return 0;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 2, batch = argc > 2 ? atoi(argv[2]) : 1;
	const char *algos = argc > 3 ? argv[3] : "123";
	int reps = argc > 4 ? atoi(argv[4]) : 5;
	odet_ctx_opts o = odet_ctx_opts_default();
	o.n_threads = threads;
	odet_ctx *ctx;
	if (odet_ctx_create(&o, &ctx))
		return 1;
	if (strcmp(algos, "pool") == 0 || strcmp(algos, "mix") == 0) {
		int rc = bench_pool(ctx, batch, reps, algos[0] == 'm');
		odet_ctx_destroy(ctx);
		return rc;
	}
	const cpu_kernel *k = &cpu_kernel_CONV;
	unsigned seed = 1;
	printf("%-10s %6s %8s", "layer", "MFLOP", "");
	for (const char *a = algos; *a; a++)
		printf("  algo%c ms  GF/s", *a);
	printf("\n");
	double tot[8] = {0};
	for (size_t li = 0; li < sizeof layers / sizeof layers[0]; li++) {
		const layer *L = &layers[li];
		int oh = (L->h + 2 * L->p - L->k) / L->s + 1;
		int64_t xd[4] = {batch, L->c, L->h, L->h}, wd[4] = {L->m, L->c, L->k, L->k}, bd[1] = {L->m};
		int64_t yd[4] = {batch, L->m, oh, oh};
		double flop = 2.0 * batch * L->m * oh * oh * (double)L->c * L->k * L->k;
		printf("%-10s %6.0f %8s", L->name, flop * 1e-6, "");
		for (const char *a = algos; *a; a++) {
			ir_graph *g;
			ir_graph_create(ctx, &g);
			float *wdat = rand_buf(wd[0] * wd[1] * wd[2] * wd[3], &seed);
			float *bdat = rand_buf(L->m, &seed);
			int in[3] = {ir_value_add(g, "x", ODET_F32, 4, xd), ir_const_add(g, "w", ODET_F32, 4, wd, wdat),
				     ir_const_add(g, "b", ODET_F32, 1, bd, bdat)};
			int out = ir_value_add(g, "y", ODET_F32, 4, yd);
			int n = ir_node_add(g, IR_OP_CONV, "conv", 3, in, 1, &out);
			int64_t pads[4] = {L->p, L->p, L->p, L->p}, st[2] = {L->s, L->s};
			ir_attr_set_ints(g, n, "pads", pads, 4);
			ir_attr_set_ints(g, n, "strides", st, 2);
			ir_attr_set_int(g, n, "odet_act", IR_ACT_RELU);
			/* 'b': the auto choice with odet_bf16 (precision bf16) */
			ir_attr_set_int(g, n, "odet_conv_algo", *a == 'b' ? 0 : *a - '0');
			if (*a == 'b')
				ir_attr_set_int(g, n, "odet_bf16", 1);
			void *state = NULL;
			size_t ws = 0;
			if (k->prepare(ctx, g, &g->nodes[n], &state, &ws)) {
				printf("  prepare failed: %s\n", odet_ctx_last_error(ctx));
				return 1;
			}
			odet_tensor t_in[3] = {{ODET_F32, 4, {0}, NULL, -1}, {ODET_F32, 4, {0}, wdat, -1},
					       {ODET_F32, 1, {L->m}, bdat, -1}};
			memcpy(t_in[0].dims, xd, sizeof xd);
			memcpy(t_in[1].dims, wd, sizeof wd);
			odet_tensor t_out = {ODET_F32, 4, {0}, NULL, -1};
			memcpy(t_out.dims, yd, sizeof yd);
			t_in[0].data = rand_buf(xd[0] * xd[1] * xd[2] * xd[3], &seed);
			t_out.data = malloc(sizeof(float) * (size_t)(yd[0] * yd[1] * yd[2] * yd[3]));
			void *wsp = ws ? odet_aligned_alloc(ctx, ws) : NULL;
			be_run_args ra = {.ctx = ctx, .g = g, .node = &g->nodes[n], .state = state, .in = t_in,
					  .n_in = 3, .out = &t_out, .n_out = 1, .workspace = wsp,
					  .workspace_size = ws, .pool = ctx->pool};
			k->run(&ra); /* warm-up */
			double best = 1e30;
			for (int r = 0; r < reps; r++) {
				double t0 = now();
				k->run(&ra);
				double dt = now() - t0;
				best = dt < best ? dt : best;
			}
			tot[*a - '0'] += best;
			printf("  %8.3f %5.1f", best * 1e3, flop / best * 1e-9);
			if (getenv("BENCH_IMPL"))
				printf(" [%s]", cpu_conv_impl_name(state));
			k->release(state);
			odet_aligned_free(wsp);
			free(t_in[0].data);
			free(t_out.data);
			ir_graph_free(g);
		}
		printf("\n");
	}
	printf("%-10s %6s %8s", "total", "", "");
	for (const char *a = algos; *a; a++)
		printf("  %8.3f %5s", tot[*a - '0'] * 1e3, "");
	printf("\n");
	odet_ctx_destroy(ctx);
	return 0;
}
