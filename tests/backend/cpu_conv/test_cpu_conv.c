/*
 * test_cpu_conv.c — the CPU backend's Conv, BatchNormalization, MaxPool, AveragePool,
 * GlobalAveragePool, Gemm and MatMul against naive double-precision references written
 * here, on awkward shapes. Each case builds a one-node IR graph, feeds random inputs in
 * [-1, 1] (never zeros), poisons the output with NaN and runs be_eval_node on the CPU
 * backend; pass = max|diff| / max|ref| <= 1e-4. Conv runs every algorithm (odet_conv_algo).
 */
#include "backend/backend.h"
#include "test.h"

#include <stdlib.h>
#include <string.h>

static odet_ctx *ctx;
static unsigned seed = 12345;

static float frand(void)
{
	float v;
	do
		v = (float)rand_r(&seed) / (float)RAND_MAX * 2.0f - 1.0f;
	while (v == 0.0f);
	return v;
}

static int64_t numel(int rank, const int64_t *d)
{
	int64_t n = 1;
	for (int i = 0; i < rank; i++)
		n *= d[i];
	return n;
}

static float *rand_array(int64_t n)
{
	float *p = malloc(sizeof(float) * (size_t)(n ? n : 1));
	for (int64_t i = 0; i < n; i++)
		p[i] = frand();
	return p;
}

/* max|y - ref| / max|ref|; NaN (poison left over) counts as failure */
static double rel_err(const float *y, const double *ref, int64_t n)
{
	double md = 0, mr = 0;
	for (int64_t i = 0; i < n; i++) {
		double d = fabs((double)y[i] - ref[i]);
		if (isnan(y[i]))
			return INFINITY;
		md = d > md ? d : md;
		mr = fabs(ref[i]) > mr ? fabs(ref[i]) : mr;
	}
	return mr > 0 ? md / mr : md;
}

/* One node graph: inputs given as (rank, dims, data, is_const); output dims given. */
typedef struct tin {
	int rank;
	int64_t dims[8];
	float *data; /* NULL = omitted optional input */
	bool is_const;
} tin;

typedef struct tcase {
	ir_graph *g;
	int node;
	int n_in;
	tin in[5];
	int out_rank;
	int64_t out_dims[8];
} tcase;

static void tcase_init(tcase *t, ir_op op, int n_in, const tin *in, int out_rank, const int64_t *out_dims)
{
	memset(t, 0, sizeof *t);
	ir_graph_create(ctx, &t->g);
	int ids[5];
	t->n_in = n_in;
	for (int i = 0; i < n_in; i++) {
		t->in[i] = in[i];
		if (!in[i].data) {
			ids[i] = -1;
		} else if (in[i].is_const) {
			int64_t n = numel(in[i].rank, in[i].dims);
			float *copy = malloc(sizeof(float) * (size_t)(n ? n : 1));
			memcpy(copy, in[i].data, sizeof(float) * (size_t)n);
			ids[i] = ir_const_add(t->g, NULL, ODET_F32, in[i].rank, in[i].dims, copy);
		} else {
			ids[i] = ir_value_add(t->g, NULL, ODET_F32, in[i].rank, in[i].dims);
		}
	}
	t->out_rank = out_rank;
	memcpy(t->out_dims, out_dims, sizeof(int64_t) * (size_t)out_rank);
	int out = ir_value_add(t->g, NULL, ODET_F32, out_rank, out_dims);
	t->node = ir_node_add(t->g, op, "test_node", n_in, ids, 1, &out);
}

/* run; returns status, y receives the output (numel of out dims) */
static odet_status tcase_run(tcase *t, float *y)
{
	odet_tensor in[5], out;
	memset(in, 0, sizeof in);
	for (int i = 0; i < t->n_in; i++) {
		in[i].dtype = ODET_F32;
		in[i].rank = t->in[i].rank;
		memcpy(in[i].dims, t->in[i].dims, sizeof in[i].dims);
		in[i].data = t->in[i].data;
		in[i].device = -1;
	}
	memset(&out, 0, sizeof out);
	out.dtype = ODET_F32;
	out.rank = t->out_rank;
	memcpy(out.dims, t->out_dims, sizeof out.dims);
	int64_t n = numel(t->out_rank, t->out_dims);
	for (int64_t i = 0; i < n; i++)
		y[i] = NAN;
	out.data = y;
	out.device = -1;
	return be_eval_node(odet_backend_cpu(), ctx, t->g, &t->g->nodes[t->node], in, &out);
}

static void tcase_free(tcase *t)
{
	ir_graph_free(t->g);
}

/* ---------------------------------------------------------------- Conv */

typedef struct conv_spec {
	const char *name;
	int nd;
	int64_t n, c, m, group;
	int64_t in[3], k[3], s[3], d[3], pads[6]; /* pads: begins then ends */
	const char *auto_pad;                     /* NULL = NOTSET with pads */
	int act;
	float alpha, beta;
	bool bias, residual, w_runtime;
} conv_spec;

/* geometry as the ONNX spec states it (written independently of window.h) */
static void conv_geom(const conv_spec *cs, int64_t *pb, int64_t *pe, int64_t *out)
{
	for (int i = 0; i < cs->nd; i++) {
		int64_t ext = cs->d[i] * (cs->k[i] - 1) + 1;
		if (cs->auto_pad && strncmp(cs->auto_pad, "SAME", 4) == 0) {
			out[i] = (cs->in[i] + cs->s[i] - 1) / cs->s[i];
			int64_t tot = (out[i] - 1) * cs->s[i] + ext - cs->in[i];
			tot = tot < 0 ? 0 : tot;
			pb[i] = strcmp(cs->auto_pad, "SAME_LOWER") == 0 ? (tot + 1) / 2 : tot / 2;
			pe[i] = tot - pb[i];
		} else {
			bool valid = cs->auto_pad && strcmp(cs->auto_pad, "VALID") == 0;
			pb[i] = valid ? 0 : cs->pads[i];
			pe[i] = valid ? 0 : cs->pads[cs->nd + i];
			out[i] = (cs->in[i] + pb[i] + pe[i] - ext) / cs->s[i] + 1;
		}
	}
}

static double act_ref(int act, double x, double a, double b)
{
	switch (act) {
	case IR_ACT_RELU:
		return x > 0 ? x : 0;
	case IR_ACT_LEAKYRELU:
		return x < 0 ? a * x : x;
	case IR_ACT_CLIP:
		return x < a ? a : x > b ? b : x;
	case IR_ACT_SIGMOID:
		return 1 / (1 + exp(-x));
	case IR_ACT_HARDSIGMOID:
		return fmax(0, fmin(1, a * x + b));
	case IR_ACT_HARDSWISH:
		return x * fmax(0, fmin(1, x / 6 + 0.5));
	default:
		return x;
	}
}

static void conv_ref(const conv_spec *cs, const float *x, const float *w, const float *b, const float *r,
		     double *y)
{
	int64_t pb[3], pe[3], out[3];
	conv_geom(cs, pb, pe, out);
	/* pad to 3-D */
	int64_t I[3] = {1, 1, 1}, O[3] = {1, 1, 1}, K[3] = {1, 1, 1}, S[3] = {1, 1, 1}, D[3] = {1, 1, 1},
		P[3] = {0, 0, 0};
	int o = 3 - cs->nd;
	for (int i = 0; i < cs->nd; i++) {
		I[o + i] = cs->in[i];
		O[o + i] = out[i];
		K[o + i] = cs->k[i];
		S[o + i] = cs->s[i];
		D[o + i] = cs->d[i];
		P[o + i] = pb[i];
	}
	int64_t cg = cs->c / cs->group, mg = cs->m / cs->group, isp = I[0] * I[1] * I[2], osp = O[0] * O[1] * O[2];
	for (int64_t n = 0; n < cs->n; n++)
		for (int64_t m = 0; m < cs->m; m++)
			for (int64_t oz = 0; oz < O[0]; oz++)
				for (int64_t oy = 0; oy < O[1]; oy++)
					for (int64_t ox = 0; ox < O[2]; ox++) {
						double acc = b ? b[m] : 0;
						int64_t g = m / mg;
						for (int64_t c = 0; c < cg; c++)
							for (int64_t kz = 0; kz < K[0]; kz++)
								for (int64_t ky = 0; ky < K[1]; ky++)
									for (int64_t kx = 0; kx < K[2]; kx++) {
										int64_t iz = oz * S[0] - P[0] + kz * D[0];
										int64_t iy = oy * S[1] - P[1] + ky * D[1];
										int64_t ix = ox * S[2] - P[2] + kx * D[2];
										if (iz < 0 || iz >= I[0] || iy < 0 || iy >= I[1] ||
										    ix < 0 || ix >= I[2])
											continue;
										double xv = x[(n * cs->c + g * cg + c) * isp +
											      (iz * I[1] + iy) * I[2] + ix];
										double wv = w[((m * cg + c) * K[0] + kz) * K[1] * K[2] +
											      ky * K[2] + kx];
										acc += xv * wv;
									}
						int64_t yi = (n * cs->m + m) * osp + (oz * O[1] + oy) * O[2] + ox;
						if (r)
							acc += r[yi];
						y[yi] = act_ref(cs->act, acc, cs->alpha, cs->beta);
					}
}

static void test_conv(const conv_spec *cs)
{
	int64_t pb[3], pe[3], out[3];
	conv_geom(cs, pb, pe, out);
	int r = cs->nd + 2;
	tin in[4] = {{0}};
	in[0].rank = r;
	in[0].dims[0] = cs->n;
	in[0].dims[1] = cs->c;
	in[1].rank = r;
	in[1].dims[0] = cs->m;
	in[1].dims[1] = cs->c / cs->group;
	int64_t yd[5] = {cs->n, cs->m};
	for (int i = 0; i < cs->nd; i++) {
		in[0].dims[2 + i] = cs->in[i];
		in[1].dims[2 + i] = cs->k[i];
		yd[2 + i] = out[i];
	}
	in[0].data = rand_array(numel(r, in[0].dims));
	in[1].data = rand_array(numel(r, in[1].dims));
	in[1].is_const = !cs->w_runtime;
	in[2].rank = 1;
	in[2].dims[0] = cs->m;
	in[2].data = cs->bias ? rand_array(cs->m) : NULL;
	in[2].is_const = true;
	in[3].rank = r;
	memcpy(in[3].dims, yd, sizeof yd);
	int64_t ny = numel(r, yd);
	in[3].data = cs->residual ? rand_array(ny) : NULL;
	double *ref = malloc(sizeof(double) * (size_t)ny);
	float *y = malloc(sizeof(float) * (size_t)ny);
	conv_ref(cs, in[0].data, in[1].data, in[2].data, in[3].data, ref);
	static const int algos[] = {0, 1, 2, 3, 4, 5};
	for (size_t ai = 0; ai < sizeof algos / sizeof algos[0]; ai++) {
		if (algos[ai] == 4 && cs->c / cs->group != 1)
			continue;
		tcase t;
		tcase_init(&t, IR_OP_CONV, cs->residual ? 4 : (cs->bias ? 3 : 2), in, r, yd);
		int64_t ks[3], st[3], dl[3];
		for (int i = 0; i < cs->nd; i++) {
			ks[i] = cs->k[i];
			st[i] = cs->s[i];
			dl[i] = cs->d[i];
		}
		ir_attr_set_ints(t.g, t.node, "kernel_shape", ks, cs->nd);
		ir_attr_set_ints(t.g, t.node, "strides", st, cs->nd);
		ir_attr_set_ints(t.g, t.node, "dilations", dl, cs->nd);
		if (cs->auto_pad)
			ir_attr_set_string(t.g, t.node, "auto_pad", cs->auto_pad);
		else
			ir_attr_set_ints(t.g, t.node, "pads", cs->pads, 2 * cs->nd);
		if (cs->group != 1)
			ir_attr_set_int(t.g, t.node, "group", cs->group);
		if (cs->act) {
			ir_attr_set_int(t.g, t.node, "odet_act", cs->act);
			ir_attr_set_float(t.g, t.node, "odet_act_alpha", cs->alpha);
			ir_attr_set_float(t.g, t.node, "odet_act_beta", cs->beta);
		}
		ir_attr_set_int(t.g, t.node, "odet_conv_algo", algos[ai]);
		odet_status rc = tcase_run(&t, y);
		double e = rc ? INFINITY : rel_err(y, ref, ny);
		CHECK_MSG(rc == ODET_OK && e <= 1e-4, "conv %s algo %d: status %d (%s), rel err %g", cs->name, algos[ai],
			  rc, rc ? odet_ctx_last_error(ctx) : "", e);
		tcase_free(&t);
	}
	for (int i = 0; i < 4; i++)
		free(in[i].data);
	free(ref);
	free(y);
}

static void test_convs(void)
{
	static const conv_spec specs[] = {
		{"1x1", 2, 1, 8, 16, 1, {9, 9}, {1, 1}, {1, 1}, {1, 1}, {0}, NULL, 0, 0, 0, true, false, false},
		{"3x3 odd batch2", 2, 2, 5, 7, 1, {11, 13}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, 0, 0, 0, true,
		 false, false},
		{"3x3 s2 asym pads", 2, 1, 6, 10, 1, {15, 15}, {3, 3}, {2, 2}, {1, 1}, {0, 1, 2, 1}, NULL,
		 IR_ACT_RELU, 0, 0, true, false, false},
		{"1x1 s2", 2, 2, 16, 24, 1, {13, 13}, {1, 1}, {2, 2}, {1, 1}, {0}, NULL, 0, 0, 0, true, false, false},
		{"group2 dil2", 2, 1, 8, 6, 2, {12, 11}, {3, 3}, {1, 1}, {2, 2}, {2, 2, 2, 2}, NULL, 0, 0, 0, true,
		 false, false},
		{"depthwise s2", 2, 2, 12, 12, 12, {15, 14}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, NULL, IR_ACT_CLIP,
		 0, 6, true, false, false},
		{"depthwise x2 5x5", 2, 1, 4, 8, 4, {10, 9}, {5, 5}, {1, 1}, {1, 1}, {2, 2, 2, 2}, NULL, 0, 0, 0, true,
		 false, false},
		{"same_upper s2", 2, 1, 3, 5, 1, {14, 15}, {4, 3}, {2, 2}, {1, 1}, {0}, "SAME_UPPER", 0, 0, 0, true,
		 false, false},
		{"same_lower k4", 2, 1, 3, 5, 1, {14, 15}, {4, 4}, {1, 1}, {1, 1}, {0}, "SAME_LOWER", 0, 0, 0, true,
		 false, false},
		{"valid", 2, 1, 3, 5, 1, {10, 9}, {3, 2}, {1, 2}, {1, 1}, {0}, "VALID", 0, 0, 0, false, false, false},
		{"7x7 s2 conv1", 2, 1, 3, 8, 1, {23, 23}, {7, 7}, {2, 2}, {1, 1}, {3, 3, 3, 3}, NULL, IR_ACT_RELU, 0,
		 0, true, false, false},
		{"1-D", 1, 2, 4, 6, 1, {17}, {3}, {2}, {2}, {1, 2}, NULL, 0, 0, 0, true, false, false},
		{"3-D", 3, 1, 3, 4, 1, {5, 6, 7}, {3, 3, 3}, {1, 1, 2}, {1, 1, 1}, {1, 1, 1, 1, 0, 1}, NULL, 0, 0, 0,
		 true, false, false},
		{"runtime W", 2, 2, 6, 4, 2, {8, 9}, {3, 3}, {1, 2}, {1, 1}, {1, 0, 1, 2}, NULL, 0, 0, 0, true, false,
		 true},
		{"runtime W residual relu", 2, 1, 6, 8, 1, {7, 7}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL,
		 IR_ACT_RELU, 0, 0, true, true, true},
		{"no bias residual", 2, 2, 5, 7, 1, {9, 8}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, 0, 0, 0, false,
		 true, false},
		{"res relu", 2, 2, 5, 7, 1, {9, 8}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, IR_ACT_RELU, 0, 0,
		 true, true, false},
		{"res leakyrelu", 2, 2, 5, 7, 1, {9, 8}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, IR_ACT_LEAKYRELU,
		 0.1f, 0, true, true, false},
		{"res clip", 2, 2, 5, 7, 1, {9, 8}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, IR_ACT_CLIP, -0.5f,
		 0.7f, true, true, false},
		{"res sigmoid", 2, 2, 5, 7, 1, {9, 8}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, IR_ACT_SIGMOID, 0,
		 0, true, true, false},
		{"res hardsigmoid", 2, 2, 5, 7, 1, {9, 8}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL,
		 IR_ACT_HARDSIGMOID, 0.3f, 0.4f, true, true, false},
		{"res hardswish", 2, 2, 5, 7, 1, {9, 8}, {3, 3}, {1, 1}, {1, 1}, {1, 1, 1, 1}, NULL, IR_ACT_HARDSWISH,
		 0, 0, true, true, false},
		{"1x1 deep K>256", 2, 1, 300, 40, 1, {6, 7}, {1, 1}, {1, 1}, {1, 1}, {0}, NULL, 0, 0, 0, true, false,
		 false},
	};
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
		test_conv(&specs[i]);
}

/* ---------------------------------------------------------------- pooling */

typedef struct pool_spec {
	const char *name;
	bool max;
	int nd;
	int64_t n, c, in[3], k[3], s[3], d[3], pads[6];
	const char *auto_pad;
	bool ceil_mode, include_pad;
} pool_spec;

static void pool_geom(const pool_spec *ps, int64_t *pb, int64_t *pe, int64_t *out)
{
	for (int i = 0; i < ps->nd; i++) {
		int64_t ext = ps->d[i] * (ps->k[i] - 1) + 1;
		if (ps->auto_pad && strncmp(ps->auto_pad, "SAME", 4) == 0) {
			out[i] = (ps->in[i] + ps->s[i] - 1) / ps->s[i];
			int64_t tot = (out[i] - 1) * ps->s[i] + ext - ps->in[i];
			tot = tot < 0 ? 0 : tot;
			pb[i] = strcmp(ps->auto_pad, "SAME_LOWER") == 0 ? (tot + 1) / 2 : tot / 2;
			pe[i] = tot - pb[i];
			continue;
		}
		pb[i] = ps->pads[i];
		pe[i] = ps->pads[ps->nd + i];
		double v = (double)(ps->in[i] + pb[i] + pe[i] - ext) / ps->s[i];
		out[i] = (int64_t)(ps->ceil_mode ? ceil(v) : floor(v)) + 1;
		if (ps->ceil_mode && (out[i] - 1) * ps->s[i] >= ps->in[i] + pb[i])
			out[i]--;
	}
}

static void pool_ref(const pool_spec *ps, const float *x, double *y)
{
	int64_t pb[3], pe[3], out[3];
	pool_geom(ps, pb, pe, out);
	int64_t I[3] = {1, 1, 1}, O[3] = {1, 1, 1}, K[3] = {1, 1, 1}, S[3] = {1, 1, 1}, D[3] = {1, 1, 1},
		P[3] = {0, 0, 0}, E[3] = {0, 0, 0};
	int o = 3 - ps->nd;
	for (int i = 0; i < ps->nd; i++) {
		I[o + i] = ps->in[i];
		O[o + i] = out[i];
		K[o + i] = ps->k[i];
		S[o + i] = ps->s[i];
		D[o + i] = ps->d[i];
		P[o + i] = pb[i];
		E[o + i] = pe[i];
	}
	int64_t isp = I[0] * I[1] * I[2];
	double *yp = y;
	for (int64_t t = 0; t < ps->n * ps->c; t++)
		for (int64_t oz = 0; oz < O[0]; oz++)
			for (int64_t oy = 0; oy < O[1]; oy++)
				for (int64_t ox = 0; ox < O[2]; ox++) {
					double m = -INFINITY, s = 0;
					int64_t cnt = 0, cntp = 0;
					for (int64_t kz = 0; kz < K[0]; kz++)
						for (int64_t ky = 0; ky < K[1]; ky++)
							for (int64_t kx = 0; kx < K[2]; kx++) {
								int64_t iz = oz * S[0] - P[0] + kz * D[0];
								int64_t iy = oy * S[1] - P[1] + ky * D[1];
								int64_t ix = ox * S[2] - P[2] + kx * D[2];
								if (iz < I[0] + E[0] && iy < I[1] + E[1] && ix < I[2] + E[2])
									cntp++;
								if (iz < 0 || iz >= I[0] || iy < 0 || iy >= I[1] || ix < 0 ||
								    ix >= I[2])
									continue;
								double v = x[t * isp + (iz * I[1] + iy) * I[2] + ix];
								m = v > m ? v : m;
								s += v;
								cnt++;
							}
					*yp++ = ps->max ? m : s / (double)(ps->include_pad ? cntp : cnt);
				}
}

static void test_pool(const pool_spec *ps)
{
	int64_t pb[3], pe[3], out[3];
	pool_geom(ps, pb, pe, out);
	int r = ps->nd + 2;
	tin in[1] = {{0}};
	in[0].rank = r;
	in[0].dims[0] = ps->n;
	in[0].dims[1] = ps->c;
	int64_t yd[5] = {ps->n, ps->c}, ks[3], st[3], dl[3];
	for (int i = 0; i < ps->nd; i++) {
		in[0].dims[2 + i] = ps->in[i];
		yd[2 + i] = out[i];
		ks[i] = ps->k[i];
		st[i] = ps->s[i];
		dl[i] = ps->d[i];
	}
	in[0].data = rand_array(numel(r, in[0].dims));
	int64_t ny = numel(r, yd);
	double *ref = malloc(sizeof(double) * (size_t)ny);
	float *y = malloc(sizeof(float) * (size_t)ny);
	pool_ref(ps, in[0].data, ref);
	tcase t;
	tcase_init(&t, ps->max ? IR_OP_MAXPOOL : IR_OP_AVGPOOL, 1, in, r, yd);
	ir_attr_set_ints(t.g, t.node, "kernel_shape", ks, ps->nd);
	ir_attr_set_ints(t.g, t.node, "strides", st, ps->nd);
	ir_attr_set_ints(t.g, t.node, "dilations", dl, ps->nd);
	if (ps->auto_pad)
		ir_attr_set_string(t.g, t.node, "auto_pad", ps->auto_pad);
	else
		ir_attr_set_ints(t.g, t.node, "pads", ps->pads, 2 * ps->nd);
	ir_attr_set_int(t.g, t.node, "ceil_mode", ps->ceil_mode);
	if (!ps->max)
		ir_attr_set_int(t.g, t.node, "count_include_pad", ps->include_pad);
	odet_status rc = tcase_run(&t, y);
	double e = rc ? INFINITY : rel_err(y, ref, ny);
	CHECK_MSG(rc == ODET_OK && e <= 1e-5, "pool %s: status %d (%s), rel err %g", ps->name, rc,
		  rc ? odet_ctx_last_error(ctx) : "", e);
	tcase_free(&t);
	free(in[0].data);
	free(ref);
	free(y);
}

static void test_pools(void)
{
	static const pool_spec specs[] = {
		{"max 3x3 s2 p1", true, 2, 2, 5, {15, 16}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, NULL, false, false},
		{"max s2 wide rows", true, 2, 2, 3, {9, 77}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, NULL, false, false},
		{"max s2 k2 row end", true, 2, 1, 2, {4, 66}, {2, 2}, {2, 2}, {1, 1}, {0}, NULL, false, false},
		{"max ceil", true, 2, 1, 3, {6, 7}, {3, 3}, {2, 2}, {1, 1}, {0}, NULL, true, false},
		{"max ceil drop", true, 2, 1, 3, {5, 5}, {2, 2}, {2, 2}, {1, 1}, {1, 1, 1, 1}, NULL, true, false},
		{"max dil asym", true, 2, 2, 3, {11, 10}, {3, 2}, {1, 2}, {2, 3}, {2, 0, 1, 1}, NULL, false, false},
		{"max same_upper", true, 2, 1, 4, {10, 11}, {3, 3}, {2, 2}, {1, 1}, {0}, "SAME_UPPER", false, false},
		{"max same_lower", true, 2, 1, 4, {10, 11}, {2, 2}, {1, 1}, {1, 1}, {0}, "SAME_LOWER", false, false},
		{"max 1-D", true, 1, 2, 3, {13}, {3}, {2}, {1}, {1, 1}, NULL, true, false},
		{"max 3-D", true, 3, 1, 2, {5, 6, 7}, {2, 3, 2}, {2, 1, 2}, {1, 1, 1}, {0, 1, 0, 1, 1, 1}, NULL, false,
		 false},
		{"avg excl pad", false, 2, 2, 3, {9, 10}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, NULL, false, false},
		{"avg incl pad", false, 2, 2, 3, {9, 10}, {3, 3}, {2, 2}, {1, 1}, {1, 1, 1, 1}, NULL, false, true},
		{"avg ceil incl pad", false, 2, 1, 3, {8, 7}, {3, 3}, {2, 2}, {1, 1}, {1, 0, 1, 1}, NULL, true, true},
		{"avg ceil excl", false, 2, 1, 3, {8, 7}, {3, 3}, {2, 2}, {1, 1}, {1, 0, 1, 1}, NULL, true, false},
		{"avg dil", false, 2, 1, 2, {9, 9}, {2, 3}, {1, 1}, {2, 2}, {1, 1, 1, 1}, NULL, false, true},
		{"avg same_upper", false, 2, 1, 2, {7, 8}, {3, 3}, {2, 2}, {1, 1}, {0}, "SAME_UPPER", false, false},
		{"avg 1-D", false, 1, 2, 3, {12}, {4}, {3}, {1}, {2, 1}, NULL, false, true},
	};
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++)
		test_pool(&specs[i]);
}

static void test_global_avgpool(void)
{
	static const int64_t shapes[][5] = {{2, 5, 7, 9, 0}, {1, 3, 1, 1, 0}, {3, 4, 11, 0, 0}, {1, 2, 3, 4, 5}};
	static const int ranks[] = {4, 4, 3, 5};
	for (int s = 0; s < 4; s++) {
		tin in[1] = {{0}};
		in[0].rank = ranks[s];
		memcpy(in[0].dims, shapes[s], sizeof shapes[s]);
		in[0].data = rand_array(numel(ranks[s], in[0].dims));
		int64_t yd[5] = {shapes[s][0], shapes[s][1], 1, 1, 1};
		int64_t plane = numel(ranks[s] - 2, in[0].dims + 2), nc = shapes[s][0] * shapes[s][1];
		double ref[64];
		float y[64];
		for (int64_t t = 0; t < nc; t++) {
			ref[t] = 0;
			for (int64_t i = 0; i < plane; i++)
				ref[t] += in[0].data[t * plane + i];
			ref[t] /= (double)plane;
		}
		tcase t;
		tcase_init(&t, IR_OP_GLOBALAVGPOOL, 1, in, ranks[s], yd);
		odet_status rc = tcase_run(&t, y);
		double e = rc ? INFINITY : rel_err(y, ref, nc);
		CHECK_MSG(rc == ODET_OK && e <= 1e-5, "globalavgpool case %d: status %d, rel err %g", s, rc, e);
		tcase_free(&t);
		free(in[0].data);
	}
}

/* ---------------------------------------------------------------- BatchNormalization */

static void test_batchnorm(void)
{
	static const int64_t shapes[][4] = {{2, 5, 7, 9}, {3, 6, 0, 0}, {2, 4, 13, 0}};
	static const int ranks[] = {4, 2, 3};
	for (int s = 0; s < 3; s++) {
		tin in[5] = {{0}};
		in[0].rank = ranks[s];
		memcpy(in[0].dims, shapes[s], sizeof shapes[s]);
		int64_t n = numel(ranks[s], in[0].dims), c = shapes[s][1], plane = n / (shapes[s][0] * c);
		in[0].data = rand_array(n);
		for (int i = 1; i < 5; i++) {
			in[i].rank = 1;
			in[i].dims[0] = c;
			in[i].data = rand_array(c);
			in[i].is_const = i != 2; /* one parameter fed at run time */
		}
		for (int64_t i = 0; i < c; i++)
			in[4].data[i] = fabsf(in[4].data[i]) + 0.01f; /* variance > 0 */
		float eps = 1e-3f;
		double *ref = malloc(sizeof(double) * (size_t)n);
		float *y = malloc(sizeof(float) * (size_t)n);
		for (int64_t i = 0; i < n; i++) {
			int64_t ch = (i / plane) % c;
			ref[i] = ((double)in[0].data[i] - in[3].data[ch]) / sqrt((double)in[4].data[ch] + eps) *
					 in[1].data[ch] + in[2].data[ch];
		}
		tcase t;
		tcase_init(&t, IR_OP_BATCHNORM, 5, in, ranks[s], in[0].dims);
		ir_attr_set_float(t.g, t.node, "epsilon", eps);
		odet_status rc = tcase_run(&t, y);
		double e = rc ? INFINITY : rel_err(y, ref, n);
		CHECK_MSG(rc == ODET_OK && e <= 1e-5, "batchnorm case %d: status %d, rel err %g", s, rc, e);
		tcase_free(&t);
		for (int i = 0; i < 5; i++)
			free(in[i].data);
		free(ref);
		free(y);
	}
}

/* ---------------------------------------------------------------- Gemm */

static void test_gemm_case(int64_t m, int64_t n, int64_t k, bool ta, bool tb, float alpha, float beta, int c_rank,
			   const int64_t *c_dims)
{
	tin in[3] = {{0}};
	in[0].rank = 2;
	in[0].dims[0] = ta ? k : m;
	in[0].dims[1] = ta ? m : k;
	in[1].rank = 2;
	in[1].dims[0] = tb ? n : k;
	in[1].dims[1] = tb ? k : n;
	in[0].data = rand_array(m * k);
	in[1].data = rand_array(k * n);
	in[1].is_const = true;
	int n_in = 2;
	int64_t cm = 1, cn = 1;
	if (c_rank >= 0) {
		in[2].rank = c_rank;
		if (c_rank > 0)
			memcpy(in[2].dims, c_dims, sizeof(int64_t) * (size_t)c_rank);
		in[2].data = rand_array(numel(c_rank, c_dims));
		in[2].is_const = true;
		cm = c_rank == 2 ? c_dims[0] : 1;
		cn = c_rank >= 1 ? c_dims[c_rank - 1] : 1;
		n_in = 3;
	}
	double *ref = malloc(sizeof(double) * (size_t)(m * n));
	float *y = malloc(sizeof(float) * (size_t)(m * n));
	for (int64_t i = 0; i < m; i++)
		for (int64_t j = 0; j < n; j++) {
			double s = 0;
			for (int64_t p = 0; p < k; p++)
				s += (double)(ta ? in[0].data[p * m + i] : in[0].data[i * k + p]) *
				     (tb ? in[1].data[j * k + p] : in[1].data[p * n + j]);
			s *= alpha;
			if (c_rank >= 0)
				s += beta * in[2].data[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
			ref[i * n + j] = s;
		}
	int64_t yd[2] = {m, n};
	tcase t;
	tcase_init(&t, IR_OP_GEMM, n_in, in, 2, yd);
	ir_attr_set_int(t.g, t.node, "transA", ta);
	ir_attr_set_int(t.g, t.node, "transB", tb);
	ir_attr_set_float(t.g, t.node, "alpha", alpha);
	ir_attr_set_float(t.g, t.node, "beta", beta);
	odet_status rc = tcase_run(&t, y);
	double e = rc ? INFINITY : rel_err(y, ref, m * n);
	CHECK_MSG(rc == ODET_OK && e <= 1e-4, "gemm %lldx%lldx%lld ta %d tb %d C rank %d: status %d (%s), rel err %g",
		  (long long)m, (long long)n, (long long)k, ta, tb, c_rank, rc, rc ? odet_ctx_last_error(ctx) : "", e);
	tcase_free(&t);
	for (int i = 0; i < 3; i++)
		free(in[i].data);
	free(ref);
	free(y);
}

static void test_gemms(void)
{
	int64_t cn[1] = {37}, cmn[2] = {13, 37}, cm1[2] = {13, 1}, c1[1] = {1}, c1n[2] = {1, 37};
	test_gemm_case(13, 37, 19, false, false, 1, 1, -1, NULL);
	test_gemm_case(13, 37, 19, true, false, 0.5f, 2, 1, cn);
	test_gemm_case(13, 37, 19, false, true, 1, -1, 2, cmn);
	test_gemm_case(13, 37, 19, true, true, 1.5f, 0.25f, 2, cm1);
	test_gemm_case(13, 37, 19, false, true, 1, 1, 0, NULL);
	test_gemm_case(13, 37, 19, false, false, 1, 3, 1, c1);
	test_gemm_case(13, 37, 19, false, false, 1, 1, 2, c1n);
	test_gemm_case(1, 1000, 300, false, true, 1, 1, 1, (int64_t[]){1000});
	test_gemm_case(150, 600, 300, false, false, 1, 0, -1, NULL);
	test_gemm_case(150, 70, 520, true, true, 1, 1, 2, (int64_t[]){150, 70});
}

/* ---------------------------------------------------------------- MatMul */

static void test_matmul_case(int ra, const int64_t *ad, int rb, const int64_t *bd)
{
	/* reference: broadcast by hand over up to 4 batch dims */
	int64_t m = ra == 1 ? 1 : ad[ra - 2], k = ad[ra - 1], n = rb == 1 ? 1 : bd[rb - 1];
	int bra = ra > 2 ? ra - 2 : 0, brb = rb > 2 ? rb - 2 : 0, rbt = bra > brb ? bra : brb;
	int64_t bdims[4], nb = 1;
	for (int i = 0; i < rbt; i++) {
		int ia = i - (rbt - bra), ib = i - (rbt - brb);
		int64_t da = ia >= 0 ? ad[ia] : 1, db = ib >= 0 ? bd[ib] : 1;
		bdims[i] = da > db ? da : db;
		nb *= bdims[i];
	}
	int64_t yd[8];
	int ry = 0;
	for (int i = 0; i < rbt; i++)
		yd[ry++] = bdims[i];
	if (ra > 1)
		yd[ry++] = m;
	if (rb > 1)
		yd[ry++] = n;
	tin in[2] = {{0}};
	in[0].rank = ra;
	memcpy(in[0].dims, ad, sizeof(int64_t) * (size_t)ra);
	in[1].rank = rb;
	memcpy(in[1].dims, bd, sizeof(int64_t) * (size_t)rb);
	in[0].data = rand_array(numel(ra, ad));
	in[1].data = rand_array(numel(rb, bd));
	int64_t ny = nb * m * n;
	double *ref = malloc(sizeof(double) * (size_t)ny);
	float *y = malloc(sizeof(float) * (size_t)ny);
	for (int64_t t = 0; t < nb; t++) {
		int64_t oa = 0, ob = 0, rest = t, sa = m * k, sb = k * n;
		for (int i = rbt - 1; i >= 0; i--) {
			int64_t idx = rest % bdims[i];
			rest /= bdims[i];
			int ia = i - (rbt - bra), ib = i - (rbt - brb);
			int64_t da = ia >= 0 ? ad[ia] : 1, db = ib >= 0 ? bd[ib] : 1;
			oa += (da == 1 ? 0 : idx) * sa;
			ob += (db == 1 ? 0 : idx) * sb;
			sa *= da;
			sb *= db;
		}
		for (int64_t i = 0; i < m; i++)
			for (int64_t j = 0; j < n; j++) {
				double s = 0;
				for (int64_t p = 0; p < k; p++)
					s += (double)in[0].data[oa + i * k + p] * in[1].data[ob + p * n + j];
				ref[(t * m + i) * n + j] = s;
			}
	}
	tcase t;
	tcase_init(&t, IR_OP_MATMUL, 2, in, ry, yd);
	odet_status rc = tcase_run(&t, y);
	double e = rc ? INFINITY : rel_err(y, ref, ny);
	CHECK_MSG(rc == ODET_OK && e <= 1e-4, "matmul rank %d x rank %d (batch %lld, %lldx%lldx%lld): status %d (%s), rel err %g",
		  ra, rb, (long long)nb, (long long)m, (long long)n, (long long)k, rc,
		  rc ? odet_ctx_last_error(ctx) : "", e);
	tcase_free(&t);
	free(in[0].data);
	free(in[1].data);
	free(ref);
	free(y);
}

static void test_matmuls(void)
{
	test_matmul_case(2, (int64_t[]){13, 17}, 2, (int64_t[]){17, 9});
	test_matmul_case(1, (int64_t[]){17}, 2, (int64_t[]){17, 9});
	test_matmul_case(2, (int64_t[]){13, 17}, 1, (int64_t[]){17});
	test_matmul_case(1, (int64_t[]){33}, 1, (int64_t[]){33});
	test_matmul_case(4, (int64_t[]){2, 1, 5, 7}, 3, (int64_t[]){3, 7, 4});
	test_matmul_case(3, (int64_t[]){16, 5, 6}, 2, (int64_t[]){6, 3});
	test_matmul_case(1, (int64_t[]){6}, 3, (int64_t[]){4, 6, 5});
	test_matmul_case(3, (int64_t[]){3, 40, 300}, 3, (int64_t[]){3, 300, 50});
}

/* ---------------------------------------------------------------- refusals */

static void test_refusals(void)
{
	const odet_backend *be = odet_backend_cpu();
	ir_graph *g;
	ir_graph_create(ctx, &g);
	int64_t xd[4] = {1, 4, 8, 8}, wd[4] = {4, 4, 3, 3}, yd[4] = {1, 4, 6, 6};
	int x16 = ir_value_add(g, "x16", ODET_F16, 4, xd), w = ir_value_add(g, "w", ODET_F32, 4, wd);
	int y = ir_value_add(g, "y", ODET_F32, 4, yd);
	int in[2] = {x16, w};
	int n = ir_node_add(g, IR_OP_CONV, "conv_f16", 2, in, 1, &y);
	CHECK(be->check(ctx, g, &g->nodes[n]) == ODET_ERR_UNSUPPORTED);
	CHECK(strstr(odet_ctx_last_error(ctx), "conv_f16") != NULL);

	int x = ir_value_add(g, "x", ODET_F32, 4, xd);
	in[0] = x;
	n = ir_node_add(g, IR_OP_CONV, "conv_act", 2, in, 1, &y);
	ir_attr_set_int(g, n, "odet_act", 99);
	CHECK(be->check(ctx, g, &g->nodes[n]) == ODET_ERR_UNSUPPORTED);

	int64_t pd[4] = {1, 1, 1, 1};
	n = ir_node_add(g, IR_OP_CONV, "conv_badout", 2, in, 1, &y);
	ir_attr_set_ints(g, n, "pads", pd, 4); /* output would be 8x8, graph says 6x6 */
	CHECK(be->check(ctx, g, &g->nodes[n]) != ODET_OK);

	int64_t md[4] = {1, 4, 4, 4};
	int ym = ir_value_add(g, "ym", ODET_F32, 4, md), idx = ir_value_add(g, "idx", ODET_I64, 4, md);
	int outs[2] = {ym, idx};
	int64_t ks[2] = {2, 2}, st[2] = {2, 2};
	n = ir_node_add(g, IR_OP_MAXPOOL, "pool_idx", 1, &x, 2, outs);
	ir_attr_set_ints(g, n, "kernel_shape", ks, 2);
	ir_attr_set_ints(g, n, "strides", st, 2);
	CHECK(be->check(ctx, g, &g->nodes[n]) == ODET_ERR_UNSUPPORTED);
	CHECK(strstr(odet_ctx_last_error(ctx), "Indices") != NULL);

	int64_t cd[1] = {4};
	int p[5] = {x, ir_value_add(g, "s", ODET_F32, 1, cd), ir_value_add(g, "b", ODET_F32, 1, cd),
		    ir_value_add(g, "m", ODET_F32, 1, cd), ir_value_add(g, "v", ODET_F32, 1, cd)};
	int yb = ir_value_add(g, "yb", ODET_F32, 4, xd);
	n = ir_node_add(g, IR_OP_BATCHNORM, "bn_train", 5, p, 1, &yb);
	ir_attr_set_int(g, n, "training_mode", 1);
	CHECK(be->check(ctx, g, &g->nodes[n]) == ODET_ERR_UNSUPPORTED);

	int64_t d6[6] = {1, 1, 2, 2, 2, 2};
	int x6 = ir_value_add(g, "x6", ODET_F32, 6, d6), w6 = ir_value_add(g, "w6", ODET_F32, 6, d6);
	int y6 = ir_value_add(g, "y6", ODET_F32, 6, d6);
	int in6[2] = {x6, w6};
	n = ir_node_add(g, IR_OP_CONV, "conv_4d", 2, in6, 1, &y6);
	CHECK(be->check(ctx, g, &g->nodes[n]) == ODET_ERR_UNSUPPORTED);

	int64_t ad[2] = {3, 4}, bd[2] = {5, 6}, gd[2] = {3, 6};
	int ga[2] = {ir_value_add(g, "ga", ODET_F32, 2, ad), ir_value_add(g, "gb", ODET_F32, 2, bd)};
	int gy = ir_value_add(g, "gy", ODET_F32, 2, gd);
	n = ir_node_add(g, IR_OP_GEMM, "gemm_bad", 2, ga, 1, &gy);
	CHECK(be->check(ctx, g, &g->nodes[n]) == ODET_ERR_BAD_INPUT);
	n = ir_node_add(g, IR_OP_MATMUL, "matmul_bad", 2, ga, 1, &gy);
	CHECK(be->check(ctx, g, &g->nodes[n]) == ODET_ERR_BAD_INPUT);
	ir_graph_free(g);
}

int main(void)
{
	/* 3 threads: uneven splits of every parallel loop */
	odet_ctx_opts o = odet_ctx_opts_default();
	o.n_threads = 3;
	if (odet_ctx_create(&o, &ctx))
		return 1;
	test_convs();
	test_pools();
	test_global_avgpool();
	test_batchnorm();
	test_gemms();
	test_matmuls();
	test_refusals();
	odet_ctx_destroy(ctx);
	/* and everything serial once more for Conv (pool of 1) */
	o.n_threads = 1;
	if (odet_ctx_create(&o, &ctx))
		return 1;
	test_convs();
	odet_ctx_destroy(ctx);
	return test_summary("cpu_conv");
}
