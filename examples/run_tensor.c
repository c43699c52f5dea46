/*
 * run_tensor.c — run a model on the tensors of a file with libodet and write its outputs.
 *
 *   cc run_tensor.c $(pkg-config --cflags --libs odet) -o run_tensor
 *   ./run_tensor MODEL IN.bin OUT.bin
 *
 * MODEL: model.onnx (built on the CPU, raw network outputs, no detection head) or a plan.
 * IN.bin / OUT.bin: odet's tensor files (docs/formats.md); the inputs are taken in the
 * engine's order. Exit: 0 ok, 1 runtime failure, 2 bad input (odet_status_exit_code).
 */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <odet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_plan(const char *path)
{
	size_t n = strlen(path);
	return n >= 5 && !strcmp(path + n - 5, ".plan");
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s MODEL IN.bin OUT.bin\n", argv[0]);
		return 2;
	}
	odet_ctx *ctx = NULL;
	odet_graph *g = NULL;
	odet_engine *e = NULL;
	odet_exec *x = NULL;
	odet_named_tensor *in = NULL, *out = NULL;
	odet_tensor *tin = NULL, *tout = NULL;
	int n_in = 0, n_out = 0;
	odet_status rc = odet_ctx_create(NULL, &ctx);
	if (rc) {
		fprintf(stderr, "odet: %s\n", odet_status_str(rc));
		return odet_status_exit_code(rc);
	}
	if ((rc = odet_tensor_file_read(ctx, argv[2], &in, &n_in)))
		goto out;
	if (is_plan(argv[1])) {
		rc = odet_engine_load(ctx, argv[1], 0, &e);
	} else if (!(rc = odet_graph_load(ctx, argv[1], &g))) {
		odet_build_opts o = odet_build_opts_default();
		o.backend = ODET_BACKEND_CPU;
		o.no_head = 1;
		o.batch = n_in > 0 && in[0].t.rank > 0 ? (int)in[0].t.dims[0] : 1;
		rc = odet_engine_build(ctx, g, &o, &e);
	}
	if (rc)
		goto out;
	int ni = odet_engine_num_inputs(e);
	n_out = odet_engine_num_outputs(e);
	if (n_in < ni) {
		rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: %d tensors, the model has %d inputs", argv[2], n_in, ni);
		goto out;
	}
	tin = calloc((size_t)ni + 1, sizeof *tin);
	tout = calloc((size_t)n_out + 1, sizeof *tout);
	out = calloc((size_t)n_out + 1, sizeof *out);
	if (!tin || !tout || !out) {
		rc = ODET_ERR_NO_MEMORY;
		goto out;
	}
	for (int i = 0; i < ni; i++)
		tin[i] = in[i].t;
	for (int i = 0; i < n_out; i++) {
		const char *name;
		odet_engine_output_info(e, i, &name, &tout[i]);
		size_t bytes = (size_t)odet_tensor_numel(&tout[i]) * odet_dtype_size(tout[i].dtype);
		out[i].name = strdup(name);
		out[i].t = tout[i];
		out[i].t.data = tout[i].data = odet_aligned_alloc(ctx, bytes);
		if (!out[i].name || !out[i].t.data) {
			rc = ODET_ERR_NO_MEMORY;
			goto out;
		}
	}
	if ((rc = odet_exec_create(e, &x)) || (rc = odet_exec_infer(x, tin, ni, tout, n_out)) ||
	    (rc = odet_tensor_file_write(ctx, argv[3], out, n_out)))
		goto out;
	for (int i = 0; i < n_out; i++)
		printf("%s: %s, %lld elements\n", out[i].name, odet_dtype_name(out[i].t.dtype),
		       (long long)odet_tensor_numel(&out[i].t));
out:
	if (rc)
		fprintf(stderr, "odet: %s\n", *odet_ctx_last_error(ctx) ? odet_ctx_last_error(ctx) : odet_status_str(rc));
	odet_exec_destroy(x);
	odet_tensor_file_free(out, n_out);
	odet_tensor_file_free(in, n_in);
	free(tin);
	free(tout);
	odet_engine_destroy(e);
	odet_graph_destroy(g);
	odet_ctx_destroy(ctx);
	return odet_status_exit_code(rc);
}
