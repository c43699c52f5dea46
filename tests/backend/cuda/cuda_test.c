/* cuda_test.c — helpers of the CUDA backend tests (cuda_test.h). */
#include "cuda_test.h"

#include "graph_build.h"

#include <stdio.h>
#include <stdlib.h>

static unsigned rng = 12345; /* one stream per test process */

int cuda_test_open(const char *name, const odet_ctx_opts *co, odet_ctx **ctx)
{
	const odet_backend *be = odet_backend_cuda();
	odet_ctx_opts d = odet_ctx_opts_default();
	d.n_threads = 2;
	d.log_level = ODET_LOG_ERROR;
	*ctx = NULL;
	if (odet_ctx_create(co ? co : &d, ctx))
		return 1;
	if (!be || !be->set_device || be->set_device(*ctx, 0) != ODET_OK) {
		printf("%s: skipped (%s)\n", name, be ? odet_ctx_last_error(*ctx) : "built without CUDA");
		odet_ctx_destroy(*ctx);
		*ctx = NULL;
		return 77;
	}
	return 0;
}

void cuda_test_seed(unsigned seed)
{
	rng = seed;
}

float cuda_test_frand(void)
{
	rng = rng * 1103515245u + 12345u;
	return ((float)((rng >> 8) & 0xffff) / 65536.0f) * 2.0f - 1.0f;
}

int cuda_test_const(ir_graph *g, const char *name, int rank, const int64_t *dims, float scale)
{
	int64_t n = 1;
	for (int i = 0; i < rank; i++)
		n *= dims[i];
	float *d = malloc(sizeof(float) * (size_t)n);
	for (int64_t i = 0; i < n; i++)
		d[i] = cuda_test_frand() * scale;
	return ir_const_add(g, name, ODET_F32, rank, dims, d);
}

int cuda_test_conv(ir_graph *g, const char *name, int x, int64_t c, int64_t m, int64_t k, int64_t s, float wscale,
		   float bscale)
{
	char wn[256], bn[256];
	snprintf(wn, sizeof wn, "%s_w", name);
	snprintf(bn, sizeof bn, "%s_b", name);
	int64_t wd[4] = {m, c, k, k}, bd[1] = {m};
	int in[3] = {x, cuda_test_const(g, wn, 4, wd, wscale), -1};
	if (bscale > 0)
		in[2] = cuda_test_const(g, bn, 1, bd, bscale);
	int y = test_graph_value(g, name);
	int node = ir_node_add(g, IR_OP_CONV, name, bscale > 0 ? 3 : 2, in, 1, &y);
	int64_t st[2] = {s, s}, one[2] = {1, 1}, pads[4] = {k / 2, k / 2, k / 2, k / 2}, ks[2] = {k, k};
	ir_attr_set_ints(g, node, "strides", st, 2);
	ir_attr_set_ints(g, node, "dilations", one, 2);
	ir_attr_set_ints(g, node, "pads", pads, 4);
	ir_attr_set_ints(g, node, "kernel_shape", ks, 2);
	return y;
}

bool cuda_test_outputs(const odet_engine *e, int no, odet_tensor *o)
{
	bool ok = true;
	for (int i = 0; i < no; i++) {
		odet_engine_output_info(e, i, NULL, &o[i]);
		o[i].data = malloc(odet_dtype_size(o[i].dtype) * (size_t)odet_tensor_numel(&o[i]));
		ok = ok && o[i].data;
	}
	return ok;
}

void cuda_test_outputs_free(int no, odet_tensor *o)
{
	for (int i = 0; i < no; i++)
		free(o[i].data);
}
