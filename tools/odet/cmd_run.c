/*
 * cmd_run.c — `odet run MODEL(.plan|.onnx) --input in.bin --output out.bin [--threads N]
 * [--head SPEC]`: run the engine once on the tensors of a .bin file (docs/formats.md) and
 * write every engine output to another .bin file. Inputs are matched to the engine's by
 * name; when the names do not match and the counts are equal, by position. An ONNX model
 * is built on the fly with the batch (and, for 4-D inputs, H and W) of its input tensor,
 * and without a head unless --head is given (raw network outputs, comparable with other
 * frameworks); a plan runs as built.
 */
#include "cli_engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* For each engine input, the index of the file tensor that feeds it. */
static int match_inputs(const odet_engine *e, const odet_named_tensor *t, int n, int *map)
{
	int ni = odet_engine_num_inputs(e), by_name = 1;
	for (int i = 0; i < ni; i++) {
		const char *name;
		odet_tensor info;
		odet_engine_input_info(e, i, &name, &info);
		map[i] = -1;
		for (int k = 0; k < n; k++)
			if (!strcmp(t[k].name, name))
				map[i] = k;
		by_name &= map[i] >= 0;
	}
	if (by_name)
		return 0;
	if (n == ni) {
		for (int i = 0; i < ni; i++)
			map[i] = i;
		return 0;
	}
	for (int i = 0; i < ni; i++)
		if (map[i] < 0) {
			const char *name;
			odet_tensor info;
			odet_engine_input_info(e, i, &name, &info);
			fprintf(stderr, "odet run: input '%s' of the model is not in the input file (%d tensors there, "
					"the model has %d inputs)\n", name, n, ni);
			return -1;
		}
	return 0;
}

int cmd_run(int argc, char **argv)
{
	const char *model = NULL, *in_path = NULL, *out_path = NULL, *head = NULL;
	odet_build_opts parsed = odet_build_opts_default(); /* receives --head */
	long threads = 0;
	int verbose = 0;
	cli_engine_opts eo;
	cli_engine_opts_init(&eo);
	cli_parser p;
	cli_parser_init(&p, "run", "usage: odet run MODEL(.plan|.onnx) --input IN.bin --output OUT.bin [--threads N]\n"
				   "                [--head SPEC] [-v]\n"
				   "Run a model once on raw tensors (format: docs/formats.md) and write all outputs.\n");
	cli_positionals(&p, &model, NULL, NULL, 0);
	cli_add(&p, (cli_opt){"-i|--input", CLI_STR, &in_path, .required = 1, .arg = "PATH",
			      .help = "input tensors, matched to the model's inputs by name, else by position"});
	cli_add(&p, (cli_opt){"-o|--output", CLI_STR, &out_path, .required = 1, .arg = "PATH",
			      .help = "output tensors (all outputs of the engine, with their names)"});
	cli_add_build(&p, CLI_OPT_HEAD | CLI_OPT_THREADS | CLI_OPT_VERBOSE, &parsed, &threads, &verbose);
	cli_add(&p, (cli_opt){.kind = CLI_TEXT, .help = "ONNX models run on the CPU, without a head unless --head is given,\n"
							"unless one of these is given:"});
	cli_add_engine(&p, &eo);
	int pr = cli_parse(&p, argc, argv);
	if (pr)
		return pr == 1 ? 0 : 2;
	head = parsed.head;
	odet_ctx *ctx;
	if (cli_ctx((int)threads, verbose, &ctx))
		return 1;
	odet_named_tensor *in = NULL, *outs = NULL;
	int n_in = 0, n_out = 0, ret = 0;
	odet_graph *g = NULL;
	odet_engine *e = NULL;
	odet_exec *x = NULL;
	odet_tensor *tin = NULL, *tout = NULL;
	int *map = NULL;
	odet_status rc = odet_tensor_file_read(ctx, in_path, &in, &n_in);
	if (rc) {
		ret = cli_error(ctx, rc, in_path);
		goto out;
	}
	if (cli_is_plan(model)) {
		if (head) {
			fprintf(stderr, "odet run: --head applies to ONNX models; a plan runs as built\n");
			ret = 2;
			goto out;
		}
		rc = odet_engine_load(ctx, model, eo.device, &e);
	} else {
		rc = cli_load_graph(ctx, model, &g);
		if (!rc) {
			odet_build_opts o = odet_build_opts_default();
			o.backend = ODET_BACKEND_CPU;
			if (eo.backend_given || eo.precision != ODET_PRECISION_FP32) {
				cli_engine_apply(&eo, &o);
				if (!eo.backend_given)
					o.backend = ODET_BACKEND_AUTO;
			}
			o.head = head;
			o.no_head = head == NULL;
			/* the batch (and image size) of the tensor that feeds the first input */
			int k = 0;
			const char *gname = NULL;
			odet_tensor gt, *gi = NULL;
			if (odet_graph_num_inputs(g) > 0 && odet_graph_input_info(g, 0, &gname, &gt) == ODET_OK)
				gi = &gt;
			if (gi)
				for (int j = 0; j < n_in; j++)
					if (!strcmp(in[j].name, gname))
						k = j;
			/* only dims the model leaves open are taken from the tensor */
			bool open_b = gi && gi->rank >= 1 && gi->dims[0] < 0;
			bool open_hw = gi && gi->rank == 4 && (gi->dims[2] < 0 || gi->dims[3] < 0);
			if (open_b && n_in > 0 && in[k].t.rank >= 1 && in[k].t.dims[0] >= 1 && in[k].t.dims[0] <= 65536)
				o.batch = (int)in[k].t.dims[0];
			if (open_hw && n_in > 0 && in[k].t.rank == 4 && in[k].t.dims[2] <= 65536 && in[k].t.dims[3] <= 65536) {
				o.input_h = (int)in[k].t.dims[2];
				o.input_w = (int)in[k].t.dims[3];
			}
			rc = odet_engine_build(ctx, g, &o, &e);
		}
	}
	if (rc) {
		ret = cli_error(ctx, rc, model);
		goto out;
	}
	int ni = odet_engine_num_inputs(e);
	n_out = odet_engine_num_outputs(e);
	map = calloc((size_t)ni + 1, sizeof *map);
	tin = calloc((size_t)ni + 1, sizeof *tin);
	tout = calloc((size_t)n_out + 1, sizeof *tout);
	outs = calloc((size_t)n_out + 1, sizeof *outs);
	if (!map || !tin || !tout || !outs) {
		ret = cli_error(NULL, ODET_ERR_NO_MEMORY, "run");
		goto out;
	}
	if (match_inputs(e, in, n_in, map)) {
		ret = 2;
		goto out;
	}
	for (int i = 0; i < ni; i++)
		tin[i] = in[map[i]].t;
	for (int i = 0; i < n_out; i++) {
		const char *name;
		odet_engine_output_info(e, i, &name, &tout[i]);
		size_t bytes = (size_t)odet_tensor_numel(&tout[i]) * odet_dtype_size(tout[i].dtype);
		outs[i].name = strdup(name);
		outs[i].t = tout[i];
		outs[i].t.data = tout[i].data = odet_aligned_alloc(ctx, bytes);
		if (!outs[i].name || !tout[i].data) {
			ret = cli_error(ctx, ODET_ERR_NO_MEMORY, "run");
			goto out;
		}
	}
	if ((rc = odet_exec_create(e, &x)) || (rc = odet_exec_infer(x, tin, ni, tout, n_out))) {
		ret = cli_error(ctx, rc, model);
		goto out;
	}
	if ((rc = odet_tensor_file_write(ctx, out_path, outs, n_out))) {
		ret = cli_error(ctx, rc, out_path);
		goto out;
	}
	for (int i = 0; i < n_out; i++) {
		char s[160];
		fprintf(stderr, "output %s %s %s\n", outs[i].name, odet_dtype_name(outs[i].t.dtype),
			cli_shape_str(&outs[i].t, s, sizeof s));
	}
out:
	odet_exec_destroy(x);
	odet_tensor_file_free(outs, n_out);
	odet_tensor_file_free(in, n_in);
	free(map);
	free(tin);
	free(tout);
	odet_engine_destroy(e);
	odet_graph_destroy(g);
	odet_ctx_destroy(ctx);
	return ret;
}
