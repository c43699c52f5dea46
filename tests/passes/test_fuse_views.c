/* test_fuse_views.c — pass_fuse_concat_views and the CPU PermuteConcat kernel (and the CPU
 * NhwcPack kernel, the reference of layout.c's input packing on CUDA).
 *
 * Hand-built heads: Concats of Transpose/Reshape chains (SSD's NHWC conv output ->
 * Transpose -> Reshape, RetinaNet's Reshape -> Transpose -> Reshape, a Reshape that cannot be
 * composed through the Transpose above it, a chain value read twice, a chain value that is a
 * graph output, a trailing Cast to float16). Each graph is run by a small interpreter of
 * its own (Transpose/Reshape/Concat/Cast as written in ONNX) and by a CPU engine (which runs
 * the pass); outputs must be equal bit for bit (the ops only move and round values). The
 * optimized graph must hold the expected PermuteConcat / Transpose / Cast nodes, and SSD's
 * chain must be recognized as a batched 2-D transpose, RetinaNet's as a plain copy. */
#include "engine/engine.h"
#include "passes/passes.h"
#include "graph_build.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

#define D(...) (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (const int64_t[]){__VA_ARGS__}

static odet_ctx *ctx;

static int concat(ir_graph *g, const char *name, int n, const int *xs, int64_t axis)
{
	int y = test_graph_value(g, name);
	int node = ir_node_add(g, IR_OP_CONCAT, name, n, xs, 1, &y);
	ir_attr_set_int(g, node, "axis", axis);
	return y;
}

static int cast16(ir_graph *g, const char *name, int x)
{
	int y = test_graph_value(g, name);
	int node = ir_node_add(g, IR_OP_CAST, name, 1, &x, 1, &y);
	ir_attr_set_int(g, node, "to", ODET_F16);
	return y;
}

/* ---- reference interpreter: float buffers per value (float16 values hold rounded floats) */
static void ref_run(const ir_graph *g, float **buf)
{
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		const ir_value *x = ir_in(g, n, 0), *y = ir_out(g, n, 0);
		int64_t ny = ir_value_numel(y);
		float *o = malloc(sizeof(float) * (size_t)ny);
		const float *a = buf[n->in[0]];
		if (n->op == IR_OP_RESHAPE) {
			memcpy(o, a, sizeof(float) * (size_t)ny);
		} else if (n->op == IR_OP_SLICE) { /* one axis, steps 1: tests' own Slices */
			const ir_value *sv = ir_in(g, n, 1), *av = ir_in(g, n, 3);
			int ax = (int)ir_const_i64(av, 0);
			if (ax < 0)
				ax += x->rank;
			int64_t st = ir_const_i64(sv, 0), outer = 1, inner = 1;
			for (int k = 0; k < ax; k++)
				outer *= x->dims[k];
			for (int k = ax + 1; k < x->rank; k++)
				inner *= x->dims[k];
			for (int64_t q = 0; q < outer; q++)
				memcpy(o + q * y->dims[ax] * inner, a + (q * x->dims[ax] + st) * inner,
				       sizeof(float) * (size_t)(y->dims[ax] * inner));
		} else if (n->op == IR_OP_CAST) {
			for (int64_t k = 0; k < ny; k++)
				o[k] = odet_f16_to_f32(odet_f32_to_f16(a[k]));
		} else if (n->op == IR_OP_TRANSPOSE) {
			const int64_t *perm;
			ir_attr_ints(n, "perm", &perm);
			int r = x->rank;
			int64_t xs[ODET_MAX_RANK], idx[ODET_MAX_RANK] = {0};
			xs[r - 1] = 1;
			for (int k = r - 2; k >= 0; k--)
				xs[k] = xs[k + 1] * x->dims[k + 1];
			for (int64_t f = 0; f < ny; f++) {
				int64_t src = 0;
				for (int k = 0; k < r; k++)
					src += idx[k] * xs[perm[k]];
				o[f] = a[src];
				for (int k = r - 1; k >= 0; k--) {
					if (++idx[k] < y->dims[k])
						break;
					idx[k] = 0;
				}
			}
		} else if (n->op == IR_OP_CONCAT) {
			int ax = (int)ir_attr_int(n, "axis", 0);
			if (ax < 0)
				ax += y->rank;
			int64_t outer = 1, inner = 1, off = 0;
			for (int k = 0; k < ax; k++)
				outer *= y->dims[k];
			for (int k = ax + 1; k < y->rank; k++)
				inner *= y->dims[k];
			for (int j = 0; j < n->n_in; j++) {
				const ir_value *xj = ir_in(g, n, j);
				int64_t blk = xj->dims[ax] * inner;
				for (int64_t q = 0; q < outer; q++)
					memcpy(o + q * y->dims[ax] * inner + off, buf[n->in[j]] + q * blk, sizeof(float) * (size_t)blk);
				off += blk;
			}
		} else {
			CHECK_MSG(0, "reference: op %s", ir_op_name(n->op));
		}
		buf[n->out[0]] = o;
	}
}

static int count_op(const ir_graph *g, ir_op op)
{
	int c = 0;
	for (int i = 0; i < g->n_nodes; i++)
		c += !g->nodes[i].dead && g->nodes[i].op == op;
	return c;
}

/* Run g by the interpreter and by a CPU engine; compare every output bit for bit; check the
 * optimized graph's counts of PermuteConcat, Transpose and Cast nodes. */
static void check(const char *what, ir_graph *g, int want_pc, int want_tr, int want_cast)
{
	CHECK(pass_infer_shapes(g) == ODET_OK);
	float **buf = calloc((size_t)g->n_values, sizeof(float *));
	unsigned seed = 7;
	for (int i = 0; i < g->n_inputs; i++) {
		int v = g->inputs[i];
		int64_t n = ir_value_numel(&g->values[v]);
		buf[v] = malloc(sizeof(float) * (size_t)n);
		for (int64_t k = 0; k < n; k++) {
			seed = seed * 1103515245u + 12345u;
			buf[v][k] = (float)((seed >> 9) & 0xffff) / 997.0f - 30.0f;
		}
	}
	ref_run(g, buf);
	odet_build_opts o = odet_build_opts_default();
	o.backend = ODET_BACKEND_CPU;
	o.no_head = 1;
	odet_engine *e = NULL;
	odet_exec *x = NULL;
	odet_status rc = odet_engine_build(ctx, g, &o, &e);
	CHECK_MSG(rc == ODET_OK, "%s: build: %s", what, odet_ctx_last_error(ctx));
	if (rc) {
		free(buf);
		return;
	}
	const ir_graph *og = e->g;
	int pc = count_op(og, IR_OP_PERMUTE_CONCAT), tr = count_op(og, IR_OP_TRANSPOSE), ca = count_op(og, IR_OP_CAST);
	CHECK_MSG(pc == want_pc && tr == want_tr && ca == want_cast,
		  "%s: %d PermuteConcat (want %d), %d Transpose (want %d), %d Cast (want %d)", what, pc, want_pc, tr,
		  want_tr, ca, want_cast);
	CHECK(odet_exec_create(e, &x) == ODET_OK);
	odet_tensor in[4], out[4];
	for (int i = 0; i < g->n_inputs; i++) {
		odet_engine_input_info(e, i, NULL, &in[i]);
		in[i].data = buf[g->inputs[i]];
	}
	for (int i = 0; i < g->n_outputs; i++) {
		odet_engine_output_info(e, i, NULL, &out[i]);
		out[i].data = malloc(odet_dtype_size(out[i].dtype) * (size_t)odet_tensor_numel(&out[i]));
	}
	rc = odet_exec_infer(x, in, g->n_inputs, out, g->n_outputs);
	CHECK_MSG(rc == ODET_OK, "%s: run: %s", what, odet_ctx_last_error(ctx));
	for (int i = 0; !rc && i < g->n_outputs; i++) {
		const float *r = buf[g->outputs[i]];
		int64_t n = odet_tensor_numel(&out[i]), bad = 0;
		for (int64_t k = 0; k < n; k++) {
			if (out[i].dtype == ODET_F16)
				bad += ((uint16_t *)out[i].data)[k] != odet_f32_to_f16(r[k]);
			else
				bad += memcmp((float *)out[i].data + k, r + k, sizeof(float)) != 0;
		}
		CHECK_MSG(bad == 0, "%s: output %d: %lld of %lld elements differ", what, i, (long long)bad, (long long)n);
	}
	printf("  %-40s %d PermuteConcat, %d Transpose, %d Cast: %s\n", what, pc, tr, ca, rc ? "failed" : "equal");
	for (int i = 0; i < g->n_outputs; i++)
		free(out[i].data);
	for (int v = 0; v < g->n_values; v++)
		if (g->values[v].kind != IR_VALUE_INPUT)
			free(buf[v]);
	for (int i = 0; i < g->n_inputs; i++)
		free(buf[g->inputs[i]]);
	free(buf);
	odet_exec_destroy(x);
	odet_engine_destroy(e);
}

/* SSD's head in NHWC: conv outputs [N,H,W,A*k] -> Transpose -> [N,A*k,H,W] -> Reshape [N,A,k*H*W] */
static ir_graph *ssd_like(bool cast, bool extra_reader, bool chain_output)
{
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int a = test_graph_input(g, "a", ODET_F32, D(2, 5, 6, 12)), b = test_graph_input(g, "b", ODET_F32, D(2, 3, 4, 9)), c = test_graph_input(g, "c", ODET_F32, D(2, 3, 7));
	int ta = test_graph_transpose(g, "ta", a, D(0, 3, 1, 2)), tb = test_graph_transpose(g, "tb", b, D(0, 3, 1, 2));
	int ra = test_graph_reshape(g, "ra", ta, D(2, 3, 120)), rb = test_graph_reshape(g, "rb", tb, D(2, 3, 36));
	int xs[3] = {ra, rb, c};
	int y = concat(g, "cat", 3, xs, 2);
	if (cast)
		y = cast16(g, "cast", y);
	test_graph_output(g, y);
	if (extra_reader) /* tb read twice: its Transpose must stay */
		test_graph_output(g, test_graph_reshape(g, "rb2", tb, D(2, 108)));
	if (chain_output)
		test_graph_output(g, ta);
	return g;
}

/* RetinaNet's head (NCHW): [N,A*K,H,W] -> view [N,A,K,H,W] -> permute(0,3,4,1,2) -> [N,H*W*A,K] */
static ir_graph *retina_like(void)
{
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int xs[2];
	const int64_t hw[2][2] = {{4, 5}, {2, 3}};
	for (int l = 0; l < 2; l++) {
		char n[16];
		snprintf(n, sizeof n, "x%d", l);
		int x = test_graph_input(g, n, ODET_F32, D(2, 6, hw[l][0], hw[l][1]));
		snprintf(n, sizeof n, "v%d", l);
		int v = test_graph_reshape(g, n, x, D(2, 2, 3, hw[l][0], hw[l][1]));
		snprintf(n, sizeof n, "p%d", l);
		int p = test_graph_transpose(g, n, v, D(0, 3, 4, 1, 2));
		snprintf(n, sizeof n, "r%d", l);
		xs[l] = test_graph_reshape(g, n, p, D(2, hw[l][0] * hw[l][1] * 2, 3));
	}
	test_graph_output(g, concat(g, "cat", 2, xs, 1));
	return g;
}

static int slice1(ir_graph *g, const char *name, int x, int64_t axis, int64_t start, int64_t end)
{
	int64_t one[1] = {1}, *v[3];
	int cv[3];
	const int64_t vals[3] = {start, end, axis};
	for (int k = 0; k < 3; k++) {
		char cn[64];
		snprintf(cn, sizeof cn, "%s_%d", name, k);
		v[k] = malloc(sizeof(int64_t));
		*v[k] = vals[k];
		cv[k] = ir_const_add(g, cn, ODET_I64, 1, one, v[k]);
	}
	int y = test_graph_value(g, name), in[4] = {x, cv[0], cv[1], cv[2]};
	ir_node_add(g, IR_OP_SLICE, name, 4, in, 1, &y);
	return y;
}

/* merge_convs.c's shape: one NHWC tensor [N,H,W,4+12] whose channel halves are the heads,
 * each Slice -> Transpose -> Reshape -> its own Concat */
static ir_graph *sliced_heads(void)
{
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int m = test_graph_input(g, "m", ODET_F32, D(2, 5, 6, 16)), u = test_graph_input(g, "u", ODET_F32, D(2, 3, 9)), v = test_graph_input(g, "v", ODET_F32, D(2, 1, 9));
	int sa = slice1(g, "sa", m, 3, 0, 4), sb = slice1(g, "sb", m, -1, 4, 16);
	int ta = test_graph_transpose(g, "ta", sa, D(0, 3, 1, 2)), tb = test_graph_transpose(g, "tb", sb, D(0, 3, 1, 2));
	int ra = test_graph_reshape(g, "ra", ta, D(2, 1, 120)), rb = test_graph_reshape(g, "rb", tb, D(2, 3, 120));
	test_graph_output(g, concat(g, "cat_a", 2, (int[]){ra, v}, 2));
	test_graph_output(g, concat(g, "cat_b", 2, (int[]){u, rb}, 2));
	return g;
}

/* a Reshape that cuts through the permuted dims: [2,6,5] -T-> [2,5,6] -R-> [2,3,10] */
static ir_graph *uncomposable(void)
{
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int x = test_graph_input(g, "x", ODET_F32, D(2, 6, 5)), z = test_graph_input(g, "z", ODET_F32, D(2, 3, 4));
	int t = test_graph_transpose(g, "t", x, D(0, 2, 1));
	int r = test_graph_reshape(g, "r", t, D(2, 3, 10));
	int xs[2] = {z, r};
	test_graph_output(g, concat(g, "cat", 2, xs, -1));
	return g;
}

/* a permutation that is neither a copy nor a batched 2-D transpose */
static ir_graph *generic_perm(void)
{
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int x = test_graph_input(g, "x", ODET_F32, D(3, 4, 5, 2)), z = test_graph_input(g, "z", ODET_F32, D(1, 5, 3, 4, 2));
	int t = test_graph_transpose(g, "t", x, D(2, 0, 3, 1));      /* [5,3,2,4] */
	int r = test_graph_reshape(g, "r", t, D(1, 5, 3, 4, 2));     /* splits/merges across the permuted dims */
	int xs[2] = {r, z};
	test_graph_output(g, concat(g, "cat", 2, xs, 0));
	return g;
}

/* contiguous runs in the source (the CPU kernel copies them whole) that cross output rows:
 * [3,4,6] -T(1,0,2)-> [4,3,6] -R-> [24,3] next to [24,2] on axis 1 */
static ir_graph *runs_across_rows(void)
{
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int x = test_graph_input(g, "x", ODET_F32, D(3, 4, 6)), z = test_graph_input(g, "z", ODET_F32, D(24, 2));
	int t = test_graph_transpose(g, "t", x, D(1, 0, 2));
	int r = test_graph_reshape(g, "r", t, D(24, 3));
	test_graph_output(g, concat(g, "cat", 2, (int[]){r, z}, 1));
	return g;
}

static void check_attrs(void)
{
	ir_graph *g = ssd_like(false, false, false);
	CHECK(pass_infer_shapes(g) == ODET_OK && pass_fuse_concat_views(g) == ODET_OK);
	int pc = -1;
	for (int i = 0; i < g->n_nodes; i++)
		if (g->nodes[i].op == IR_OP_PERMUTE_CONCAT)
			pc = i;
	CHECK(pc >= 0);
	if (pc >= 0) {
		const int64_t *vr, *vs, *vp;
		int nr = ir_attr_ints(&g->nodes[pc], "vrank", &vr), ns = ir_attr_ints(&g->nodes[pc], "vshape", &vs);
		ir_attr_ints(&g->nodes[pc], "vperm", &vp);
		/* a: [2,30,12] perm [0,2,1]; b: [2,12,9] perm [0,2,1]; c: [42] copy */
		static const int64_t ws[] = {2, 30, 12, 2, 12, 9, 42}, wp[] = {0, 2, 1, 0, 2, 1, 0};
		CHECK(nr == 3 && vr[0] == 3 && vr[1] == 3 && vr[2] == 1 && ns == 7 && !memcmp(vs, ws, sizeof ws) &&
		      !memcmp(vp, wp, sizeof wp));
	}
	ir_graph_free(g);
	g = retina_like();
	CHECK(pass_infer_shapes(g) == ODET_OK && pass_fuse_concat_views(g) == ODET_OK);
	for (int i = 0; i < g->n_nodes; i++)
		if (g->nodes[i].op == IR_OP_PERMUTE_CONCAT) {
			const int64_t *vr, *vp;
			int nr = ir_attr_ints(&g->nodes[i], "vrank", &vr);
			ir_attr_ints(&g->nodes[i], "vperm", &vp);
			/* NCHW [2,6,H,W] permuted to [2,H,W,2,3]: a transpose per image of [6, HW] */
			CHECK(nr == 2 && vr[0] == 3 && vr[1] == 3 && vp[0] == 0 && vp[1] == 2 && vp[2] == 1);
		}
	CHECK(count_op(g, IR_OP_PERMUTE_CONCAT) == 1 && count_op(g, IR_OP_TRANSPOSE) == 0);
	ir_graph_free(g);
}

/* NhwcPack on the CPU (the reference of the CUDA kernel): [2,3,4,5] float32 -> [2,4,5,4] with
 * a zero 4th channel, float32 and float16 outputs */
static void check_nhwc_pack(void)
{
	for (int to = 0; to < 2; to++) {
		ir_graph *g;
		ir_graph_create(ctx, &g);
		int x = test_graph_input(g, "x", ODET_F32, D(2, 3, 4, 5)), y = test_graph_value(g, "y");
		int node = ir_node_add(g, IR_OP_NHWC_PACK, "pack", 1, &x, 1, &y);
		ir_attr_set_int(g, node, "to", to ? ODET_F16 : ODET_F32);
		ir_attr_set_int(g, node, "channels", 4);
		test_graph_output(g, y);
		CHECK(pass_infer_shapes(g) == ODET_OK);
		odet_build_opts o = odet_build_opts_default();
		o.backend = ODET_BACKEND_CPU;
		o.no_head = 1;
		odet_engine *e = NULL;
		odet_exec *ex = NULL;
		float xin[120];
		for (int i = 0; i < 120; i++)
			xin[i] = (float)i * 0.37f - 7.0f;
		unsigned char out[2 * 4 * 5 * 4 * 4];
		odet_tensor ti, to_;
		CHECK(odet_engine_build(ctx, g, &o, &e) == ODET_OK && odet_exec_create(e, &ex) == ODET_OK);
		if (e && ex) {
			odet_engine_input_info(e, 0, NULL, &ti);
			odet_engine_output_info(e, 0, NULL, &to_);
			ti.data = xin;
			to_.data = out;
			CHECK(to_.rank == 4 && to_.dims[1] == 4 && to_.dims[2] == 5 && to_.dims[3] == 4);
			CHECK(odet_exec_infer(ex, &ti, 1, &to_, 1) == ODET_OK);
			int bad = 0;
			for (int n = 0; n < 2; n++)
				for (int p = 0; p < 20; p++)
					for (int c = 0; c < 4; c++) {
						float want = c < 3 ? xin[(n * 3 + c) * 20 + p] : 0.0f;
						int d = (n * 20 + p) * 4 + c;
						if (to)
							bad += ((uint16_t *)out)[d] != odet_f32_to_f16(want);
						else
							bad += ((float *)out)[d] != want;
					}
			CHECK_MSG(bad == 0, "NhwcPack to %s: %d elements differ", to ? "float16" : "float32", bad);
			printf("  NhwcPack [2,3,4,5] -> [2,4,5,4] %s: %s\n", to ? "float16" : "float32", bad ? "differs" : "equal");
		}
		odet_exec_destroy(ex);
		odet_engine_destroy(e);
		ir_graph_free(g);
	}
}

int main(void)
{
	odet_ctx_create(NULL, &ctx);
	check_attrs();
	check_nhwc_pack();
	ir_graph *g;
	check("ssd-like", g = ssd_like(false, false, false), 1, 0, 0);
	ir_graph_free(g);
	check("ssd-like + Cast to float16", g = ssd_like(true, false, false), 1, 0, 0);
	ir_graph_free(g);
	check("ssd-like, a view read twice", g = ssd_like(false, true, false), 1, 1, 0);
	ir_graph_free(g);
	check("ssd-like, a view is a graph output", g = ssd_like(false, false, true), 1, 1, 0);
	ir_graph_free(g);
	check("retinanet-like", g = retina_like(), 1, 0, 0);
	ir_graph_free(g);
	check("reshape through a transpose", g = uncomposable(), 1, 1, 0);
	ir_graph_free(g);
	check("generic permutation", g = generic_perm(), 1, 0, 0);
	ir_graph_free(g);
	check("slices of one tensor (merged convs)", g = sliced_heads(), 2, 0, 0);
	ir_graph_free(g);
	check("source runs across output rows", g = runs_across_rows(), 1, 0, 0);
	ir_graph_free(g);
	odet_ctx_destroy(ctx);
	return test_summary("fuse_views");
}
