/*
 * bench_cpu_ops.c — throughput of a few CPU kernels on detection-sized tensors (not a test:
 * speed is never asserted). Usage: bench_cpu_ops [THREADS] [REPS]
 * Prints per op the median time over REPS runs (after one warm-up) and the bytes read +
 * written per second.
 */
#include "backend/backend.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct bench {
	const char *label;
	ir_op op;
	int n_in;
	odet_dtype dt[3];
	int rank[3];
	int64_t dims[3][6];
	int orank;
	int64_t odims[6];
	odet_dtype odt;
	const char *sattr, *sval; /* one string attribute */
	const char *iattr;        /* one ints attribute */
	int64_t ivals[6];
	int n_ivals;
} bench;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 0, reps = argc > 2 ? atoi(argv[2]) : 20;
	static const float scale2[4] = {1, 1, 2, 2};
	static const int64_t starts[1] = {0}, ends[1] = {1 << 30}, axes[1] = {3}, steps[1] = {2};
	const bench benches[] = {
		{.label = "Add 1x64x160x160 + 1x64x1x1", .op = IR_OP_ADD, .n_in = 2, .dt = {ODET_F32, ODET_F32},
		 .rank = {4, 4}, .dims = {{1, 64, 160, 160}, {1, 64, 1, 1}}, .orank = 4, .odims = {1, 64, 160, 160},
		 .odt = ODET_F32},
		{.label = "Sigmoid 1x64x160x160", .op = IR_OP_SIGMOID, .n_in = 1, .dt = {ODET_F32}, .rank = {4},
		 .dims = {{1, 64, 160, 160}}, .orank = 4, .odims = {1, 64, 160, 160}, .odt = ODET_F32},
		{.label = "Transpose 1x3x85x80x80 perm 0,1,3,4,2", .op = IR_OP_TRANSPOSE, .n_in = 1, .dt = {ODET_F32},
		 .rank = {5}, .dims = {{1, 3, 85, 80, 80}}, .orank = 5, .odims = {1, 3, 80, 80, 85}, .odt = ODET_F32,
		 .iattr = "perm", .ivals = {0, 1, 3, 4, 2}, .n_ivals = 5},
		{.label = "Resize nearest 2x 1x256x40x40", .op = IR_OP_RESIZE, .n_in = 3,
		 .dt = {ODET_F32, ODET_F32, ODET_F32}, .rank = {4, 1, 1}, .dims = {{1, 256, 40, 40}, {0}, {4}},
		 .orank = 4, .odims = {1, 256, 80, 80}, .odt = ODET_F32, .sattr = "mode", .sval = "nearest"},
		{.label = "Resize linear 2x 1x256x40x40", .op = IR_OP_RESIZE, .n_in = 3,
		 .dt = {ODET_F32, ODET_F32, ODET_F32}, .rank = {4, 1, 1}, .dims = {{1, 256, 40, 40}, {0}, {4}},
		 .orank = 4, .odims = {1, 256, 80, 80}, .odt = ODET_F32, .sattr = "mode", .sval = "linear"},
		{.label = "Softmax 1x8400x80 axis -1", .op = IR_OP_SOFTMAX, .n_in = 1, .dt = {ODET_F32}, .rank = {3},
		 .dims = {{1, 8400, 80}}, .orank = 3, .odims = {1, 8400, 80}, .odt = ODET_F32},
		{.label = "Cast f32->f16 1x3x640x640", .op = IR_OP_CAST, .n_in = 1, .dt = {ODET_F32}, .rank = {4},
		 .dims = {{1, 3, 640, 640}}, .orank = 4, .odims = {1, 3, 640, 640}, .odt = ODET_F16},
		{.label = "Slice 1x64x160x160 W step 2", .op = IR_OP_SLICE, .n_in = 5,
		 .dt = {ODET_F32, ODET_I64, ODET_I64}, .rank = {4, 1, 1}, .dims = {{1, 64, 160, 160}, {1}, {1}},
		 .orank = 4, .odims = {1, 64, 160, 80}, .odt = ODET_F32},
	};

	odet_ctx_opts o = odet_ctx_opts_default();
	o.n_threads = threads;
	odet_ctx *ctx;
	if (odet_ctx_create(&o, &ctx))
		return 1;
	printf("threads %d, reps %d (median)\n", odet_threadpool_size(ctx->pool), reps);
	for (size_t b = 0; b < sizeof benches / sizeof benches[0]; b++) {
		const bench *bn = &benches[b];
		ir_graph *g;
		odet_tensor in[5] = {{0}}, out = {0};
		int iv[5], ov;
		double bytes = 0, *t = calloc((size_t)reps, sizeof *t);
		if (ir_graph_create(ctx, &g))
			return 1;
		int n_in = bn->n_in;
		for (int i = 0; i < n_in; i++) {
			const int64_t one[1] = {1};
			int k = i < 3 ? i : 1;
			odet_dtype dt = i < 3 ? bn->dt[i] : ODET_I64;
			iv[i] = ir_value_add(g, NULL, dt, bn->rank[k], i < 3 ? bn->dims[k] : one);
			in[i].dtype = dt;
			in[i].rank = bn->rank[k];
			memcpy(in[i].dims, i < 3 ? bn->dims[k] : one, sizeof(int64_t) * (size_t)bn->rank[k]);
			int64_t numel = odet_tensor_numel(&in[i]);
			in[i].data = calloc((size_t)numel + 1, 8);
			if (i == 0) {
				for (int64_t e = 0; e < numel; e++)
					((float *)in[0].data)[e] = (float)(e % 97) * 0.01f;
				bytes += (double)numel * odet_dtype_size(dt);
			}
		}
		if (bn->op == IR_OP_RESIZE)
			memcpy(in[2].data, scale2, sizeof scale2);
		if (bn->op == IR_OP_SLICE) {
			memcpy(in[1].data, starts, 8);
			memcpy(in[2].data, ends, 8);
			memcpy(in[3].data, axes, 8);
			memcpy(in[4].data, steps, 8);
		}
		ov = ir_value_add(g, NULL, bn->odt, bn->orank, bn->odims);
		out.dtype = bn->odt;
		out.rank = bn->orank;
		memcpy(out.dims, bn->odims, sizeof(int64_t) * (size_t)bn->orank);
		out.data = malloc((size_t)odet_tensor_numel(&out) * odet_dtype_size(bn->odt));
		bytes += (double)odet_tensor_numel(&out) * odet_dtype_size(bn->odt);
		int node = ir_node_add(g, bn->op, "bench", n_in, iv, 1, &ov);
		if (bn->sattr)
			ir_attr_set_string(g, node, bn->sattr, bn->sval);
		if (bn->iattr)
			ir_attr_set_ints(g, node, bn->iattr, bn->ivals, bn->n_ivals);
		if (bn->op == IR_OP_CAST)
			ir_attr_set_int(g, node, "to", ODET_F16);
		odet_status rc = ODET_OK;
		for (int r = -1; r < reps && !rc; r++) {
			double t0 = now();
			rc = be_eval_node(odet_backend_cpu(), ctx, g, &g->nodes[node], in, &out);
			if (r >= 0)
				t[r] = now() - t0;
		}
		if (rc) {
			printf("%-40s failed: %s\n", bn->label, odet_ctx_last_error(ctx));
		} else {
			qsort(t, (size_t)reps, sizeof *t, cmp_double);
			printf("%-40s %8.3f ms %7.2f GB/s\n", bn->label, t[reps / 2] * 1e3, bytes / t[reps / 2] * 1e-9);
		}
		for (int i = 0; i < n_in; i++)
			free(in[i].data);
		free(out.data);
		free(t);
		ir_graph_free(g);
	}
	odet_ctx_destroy(ctx);
	return 0;
}
