/*
 * quantize.c — post-training INT8 quantization of convolutions (precision int8), and the
 * calibration taps that collect what it needs.
 *
 * Calibration names: a tensor is known by its "origin", the value it copies: walking up through
 * Cast (float <-> float), Transpose, NhwcPack and zero-constant Pad, and, for the NHWC output
 * Y' ("<y>_nhwc") of a conv the layout pass rewrote, the name <y> it had before. So the names
 * the fp32 calibration engine taps (before precision and layout passes) are the names this pass
 * looks up after them.
 *
 * pass_calib_taps: every Conv input 0 (X) and 3 (residual) origin that is a float activation
 * becomes an extra graph output (appended, in node order).
 *
 * pass_quantize: a 2-D, group-1 Conv with a constant float weight whose X origin has a
 * calibrated amax > 0, with C % 4 == 0 and M % 4 == 0 input/output channels (cuDNN's INT8
 * convolutions), becomes QConv (ops.def):
 *   X  int8: the int8 output of the quantized conv producing it, else QuantizeLinear(X, sx)
 *      (one per value, shared by its readers), sx = amax(X) / 127
 *   W  int8, per output channel: sw[m] = max|W[m]| / 127, Wq = round(W / sw[m]) in [-127, 127]
 *   A  float32 [M] = sx * sw[m] / sy;  B float32 [M] = B / sy
 *   R  as it is (int8 when its producer is a quantized conv with int8 output, r_scale = sr / sy;
 *      float: r_scale = 1 / sy)
 *   Y  int8 with sy = amax(Y) / 127 when every reader of Y is a quantized conv (as X or R),
 *      Y is not a graph output, its amax is calibrated and the activation commutes with a
 *      positive scale (none, ReLU, LeakyReLU, Clip: bounds / sy); else float (the conv's
 *      float dtype) with sy = 1. An int8 residual and the int8 output it is added to share
 *      one scale (the larger; transitively along residual chains), so r_scale is 1 there.
 * Convolutions named in keep (--keep-fp32) are left as they are. Other nodes keep their
 * precision.
 *
 * pass_quantize_fp8: the same with E4M3 (quant/fp8.h) in place of int8: activations per tensor,
 * sx = amax(X) / 448; weights per output channel, sw[m] = max|W[m]| / 448 (as TensorRT's FP8:
 * one scale for a whole weight left NanoDet 6 of 9 detections on the CPU's exact reference, per
 * channel 9 of 9), Wq = e4m3(W / sw[m]) rounded to nearest even; C % 16 == 0
 * and M % 16 == 0 (16-byte rows for cuDNN's FP8 engines); Y in E4M3 only when every reader
 * reads it as X and the conv adds no residual (a residual R stays float16 and is added with
 * r_scale 1, as cuDNN's fused graph adds it: its FP8 fusions are not known to take an FP8 or a
 * scaled residual), so no scales are shared.
 */
#include "passes/pass_util.h"

#include "quant/fp8.h"
#include "quant/quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The value v copies (see the file comment). */
static int origin_value(const ir_graph *g, int v)
{
	for (int guard = 0; v >= 0 && guard < 64; guard++) {
		int p = g->values[v].producer;
		if (p < 0 || g->nodes[p].dead || g->nodes[p].n_in < 1 || g->nodes[p].in[0] < 0)
			return v;
		const ir_node *n = &g->nodes[p];
		bool pass = n->op == IR_OP_TRANSPOSE || n->op == IR_OP_NHWC_PACK ||
			    (n->op == IR_OP_PAD && pass_zero_const_pad(g, n));
		if (n->op == IR_OP_CAST) {
			odet_dtype a = g->values[n->in[0]].dtype, b = g->values[v].dtype;
			pass = (a == ODET_F32 || a == ODET_F16) && (b == ODET_F32 || b == ODET_F16);
		}
		if (!pass)
			return v;
		v = n->in[0];
	}
	return v;
}

/* Calibration name of v into buf. */
static const char *origin_name(const ir_graph *g, int v, char *buf, size_t cap)
{
	v = origin_value(g, v);
	const char *s = g->values[v].name;
	int p = g->values[v].producer;
	size_t l = strlen(s);
	if (p >= 0 && ir_attr_int(&g->nodes[p], "odet_nhwc", 0) && l > 5 && !strcmp(s + l - 5, "_nhwc") &&
	    l - 5 < cap) {
		memcpy(buf, s, l - 5);
		buf[l - 5] = 0;
		return buf;
	}
	return s;
}

odet_status pass_calib_taps(ir_graph *g, int *n_taps)
{
	odet_ctx *ctx = g->ctx;
	*n_taps = 0;
	int n0 = g->n_nodes;
	for (int i = 0; i < n0; i++) {
		const ir_node *n = &g->nodes[i];
		if (n->dead || n->op != IR_OP_CONV)
			continue;
		for (int k = 0; k < n->n_in && k < 4; k += 3) {
			if (n->in[k] < 0)
				continue;
			int v = origin_value(g, n->in[k]);
			ir_value *val = &g->values[v];
			if (val->kind == IR_VALUE_CONST || val->is_output || (val->dtype != ODET_F32 && val->dtype != ODET_F16))
				continue;
			int *no = realloc(g->outputs, sizeof(int) * ((size_t)g->n_outputs + 1));
			if (!no)
				return odet_error(ctx, ODET_ERR_NO_MEMORY, "calibration taps: out of memory");
			g->outputs = no;
			g->outputs[g->n_outputs++] = v;
			val->is_output = true;
			(*n_taps)++;
		}
	}
	return ODET_OK;
}

/* what the pass makes: int8 or E4M3 */
typedef struct qfmt {
	odet_dtype dt;   /* ODET_I8 or ODET_F8E4M3 */
	double qmax;     /* 127 or 448 */
	int64_t align;   /* channels multiple of this */
	bool res_q;      /* a quantized output may be read as a residual */
} qfmt;

static const qfmt QF_INT8 = {ODET_I8, 127.0, 4, true};
static const qfmt QF_FP8 = {ODET_F8E4M3, QUANT_FP8_MAX, 16, false};

typedef struct qnode {
	bool q;          /* quantized */
	bool out_i8;     /* its output becomes int8 */
	double sx, sy;   /* input / output scales (sy = 1 for float output) */
} qnode;

static bool act_commutes(int act)
{
	return act == IR_ACT_NONE || act == IR_ACT_RELU || act == IR_ACT_LEAKYRELU || act == IR_ACT_CLIP;
}

static bool conv_candidate(const ir_graph *g, const ir_node *n, int64_t align)
{
	if (n->dead || n->op != IR_OP_CONV || n->n_in < 2)
		return false;
	const ir_value *x = ir_in(g, n, 0), *w = ir_in(g, n, 1), *y = ir_out(g, n, 0);
	if (!x || !w || !y || x->rank != 4 || w->rank != 4 || w->kind != IR_VALUE_CONST || !w->data)
		return false;
	if ((x->dtype != ODET_F32 && x->dtype != ODET_F16) || w->dtype != x->dtype || y->dtype != x->dtype)
		return false;
	if (ir_attr_int(n, "group", 1) != 1)
		return false;
	bool nhwc = ir_attr_int(n, "odet_nhwc", 0) != 0;
	int64_t c = nhwc ? x->dims[3] : x->dims[1], m = w->dims[0];
	return c % align == 0 && m % align == 0;
}

static float wval(const ir_value *w, int64_t i)
{
	return w->dtype == ODET_F32 ? ((const float *)w->data)[i] : odet_f16_to_f32(((const uint16_t *)w->data)[i]);
}

/* int8 weights (same layout; output channel = dim 0) and their per-channel scales. */
static int quantize_weight(ir_graph *g, int wv, double *sw)
{
	const ir_value *w = &g->values[wv];
	int64_t m = w->dims[0], per = ir_value_numel(w) / m;
	int8_t *q = malloc((size_t)(m * per) + 1);
	if (!q)
		return -1;
	for (int64_t a = 0; a < m; a++) {
		double amax = 0;
		for (int64_t i = 0; i < per; i++)
			amax = fmax(amax, fabs(wval(w, a * per + i)));
		sw[a] = amax > 0 ? amax / 127.0 : 1.0;
		for (int64_t i = 0; i < per; i++) {
			double r = nearbyint(wval(w, a * per + i) / sw[a]);
			q[a * per + i] = (int8_t)(r > 127 ? 127 : (r < -127 ? -127 : r));
		}
	}
	char name[300];
	snprintf(name, sizeof name, "%s_i8", w->name);
	int64_t dims[4] = {w->dims[0], w->dims[1], w->dims[2], w->dims[3]};
	return ir_const_add(g, name, ODET_I8, 4, dims, q);
}

/* E4M3 weights (same layout), one scale for the tensor: sw[m] = max|W| / 448 for every m. */
static int quantize_weight_fp8(ir_graph *g, int wv, double *sw)
{
	const ir_value *w = &g->values[wv];
	int64_t m = w->dims[0], n = ir_value_numel(w);
	uint8_t *q = malloc((size_t)n + 1);
	if (!q)
		return -1;
	const int64_t per = n / m;
	for (int64_t a = 0; a < m; a++) {
		double amax = 0;
		for (int64_t i = a * per; i < (a + 1) * per; i++)
			amax = fmax(amax, fabs(wval(w, i)));
		sw[a] = amax > 0 ? amax / QUANT_FP8_MAX : 1.0;
		for (int64_t i = a * per; i < (a + 1) * per; i++)
			q[i] = quant_fp8_from_float((float)(wval(w, i) / sw[a]));
	}
	char name[300];
	snprintf(name, sizeof name, "%s_f8", w->name);
	int64_t dims[4] = {w->dims[0], w->dims[1], w->dims[2], w->dims[3]};
	return ir_const_add(g, name, ODET_F8E4M3, 4, dims, q);
}

static int f32_const(ir_graph *g, const char *name, int64_t m, const double *v)
{
	float *d = malloc(sizeof(float) * (size_t)m + 1);
	if (!d)
		return -1;
	for (int64_t i = 0; i < m; i++)
		d[i] = (float)v[i];
	return ir_const_add(g, name, ODET_F32, 1, &m, d);
}

/* QuantizeLinear(x, scale, zero point 0 of type dt) -> dt (int8 or E4M3), shared per value
 * through cache[]. */
static int quantize_value(ir_graph *g, int *cache, int v, double scale, odet_dtype dt)
{
	if (cache[v] >= 0)
		return cache[v];
	const ir_value src = g->values[v]; /* copy: adding values may move the array */
	char name[300];
	snprintf(name, sizeof name, "%s_q", src.name);
	float *s = malloc(sizeof(float));
	int8_t *z = malloc(1);
	if (!s || !z) {
		free(s);
		free(z);
		return -1;
	}
	*s = (float)scale;
	*z = 0;
	char sn[320], zn[320];
	snprintf(sn, sizeof sn, "%s_scale", name);
	snprintf(zn, sizeof zn, "%s_zero", name);
	int sv = ir_const_add(g, sn, ODET_F32, 0, NULL, s);
	int zv = ir_const_add(g, zn, dt, 0, NULL, z);
	if (sv < 0 || zv < 0)
		return -1;
	int nv = ir_value_add(g, name, dt, src.rank, src.dims);
	if (nv < 0)
		return -1;
	int in[3] = {v, sv, zv};
	if (ir_node_add(g, IR_OP_QUANTIZE_LINEAR, name, 3, in, 1, &nv) < 0)
		return -1;
	return cache[v] = nv;
}

static bool all_readers_quantized(const ir_graph *g, int v, const qnode *qn, bool res_q)
{
	int readers = 0;
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		if (n->dead)
			continue;
		for (int k = 0; k < n->n_in; k++) {
			if (n->in[k] != v)
				continue;
			if (n->op != IR_OP_CONV || !qn[i].q || (k != 0 && (k != 3 || !res_q)))
				return false;
			readers++;
		}
	}
	return readers > 0;
}

/* Rewrite conv i as QConv (see the file comment); i8[v] = the scale of value v when it
 * becomes int8 / E4M3 (its producer is quantized with such an output), else 0. */
static odet_status rewrite(ir_graph *g, int i, const qnode *qn, const double *i8, int *qcache, const qfmt *f)
{
	odet_ctx *ctx = g->ctx;
	const ir_node *n = &g->nodes[i];
	int x = n->in[0], w = n->in[1], b = n->n_in > 2 ? n->in[2] : -1, r = n->n_in > 3 ? n->in[3] : -1;
	int y = n->out[0];
	int64_t m = g->values[w].dims[0];
	double *sw = malloc(sizeof(double) * (size_t)m * 3 + 1), *a = sw + m, *bb = a + m;
	if (!sw)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "quantize pass: out of memory");
	odet_status rc = ODET_OK;
	char name[300];
	/* input: int8 already (producer quantized with int8 output) or QuantizeLinear */
	int xq = i8[x] > 0 ? x : quantize_value(g, qcache, x, qn[i].sx, f->dt);
	const double sx = i8[x] > 0 ? i8[x] : qn[i].sx;
	int wq = f->dt == ODET_F8E4M3 ? quantize_weight_fp8(g, w, sw) : quantize_weight(g, w, sw);
	const qnode *q = &qn[i];
	for (int64_t k = 0; k < m; k++) {
		a[k] = sx * sw[k] / q->sy;
		bb[k] = b >= 0 ? wval(&g->values[b], k) / q->sy : 0;
	}
	snprintf(name, sizeof name, "%s_qscale", g->nodes[i].name);
	int av = f32_const(g, name, m, a);
	int bv = -1;
	if (b >= 0) {
		snprintf(name, sizeof name, "%s_qbias", g->nodes[i].name);
		bv = f32_const(g, name, m, bb);
	}
	if (xq < 0 || wq < 0 || av < 0 || (b >= 0 && bv < 0)) {
		rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "quantize pass: out of memory at node '%s'", g->nodes[i].name);
		goto out;
	}
	double r_scale = 1.0 / q->sy;
	if (r >= 0 && i8[r] > 0)
		r_scale = i8[r] / q->sy;
	{
		n = &g->nodes[i]; /* the arrays may have moved */
		int in[5] = {xq, wq, bv, r, av};
		snprintf(name, sizeof name, "%s", n->name);
		int node = ir_node_add(g, IR_OP_QCONV, name, 5, in, 1, &y);
		if (node < 0) {
			rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "quantize pass: out of memory");
			goto out;
		}
		if ((rc = ir_attrs_copy(g, node, i)))
			goto out;
		n = &g->nodes[i];
		int act = (int)ir_attr_int(n, "odet_act", IR_ACT_NONE);
		if (act == IR_ACT_CLIP && q->out_i8) {
			float lo = ir_attr_float(n, "odet_act_alpha", 0), hi = ir_attr_float(n, "odet_act_beta", 0);
			if ((rc = ir_attr_set_float(g, node, "odet_act_alpha", (float)(lo / q->sy))) ||
			    (rc = ir_attr_set_float(g, node, "odet_act_beta", (float)(hi / q->sy))))
				goto out;
		}
		odet_dtype odt = q->out_i8 ? f->dt : g->values[y].dtype;
		if ((rc = ir_attr_set_int(g, node, "odet_out_dtype", (int64_t)odt)) ||
		    (rc = ir_attr_set_float(g, node, "odet_r_scale", (float)r_scale)))
			goto out;
		pass_node_kill(g, i); /* detached: a dead node still writing y would let toposort place y's readers early */
		g->values[y].producer = node;
		g->values[y].dtype = odt;
	}
out:
	free(sw);
	return rc;
}

static bool kept(const ir_node *n, const char *const *keep, int n_keep)
{
	for (int i = 0; i < n_keep; i++)
		if (keep[i] && !strcmp(keep[i], n->name))
			return true;
	return false;
}

static odet_status quantize_as(ir_graph *g, const quant_table *t, const char *const *keep, int n_keep,
			       const qfmt *f, int *n_quantized)
{
	odet_ctx *ctx = g->ctx;
	int n0 = g->n_nodes;
	*n_quantized = 0;
	const int nv0 = g->n_values;
	qnode *qn = calloc((size_t)n0 + 1, sizeof *qn);
	int *qcache = malloc(sizeof(int) * ((size_t)nv0 + 1));
	double *i8 = calloc((size_t)nv0 + 1, sizeof(double));
	odet_status rc = ODET_OK;
	if (!qn || !qcache || !i8) {
		rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "quantize pass: out of memory");
		goto out;
	}
	for (int v = 0; v < g->n_values; v++)
		qcache[v] = -1;
	char buf[300];
	/* which convs */
	for (int i = 0; i < n0; i++) {
		if (!conv_candidate(g, &g->nodes[i], f->align) || kept(&g->nodes[i], keep, n_keep))
			continue;
		double ax = quant_table_get(t, origin_name(g, g->nodes[i].in[0], buf, sizeof buf));
		if (ax <= 0)
			continue;
		qn[i].q = true;
		qn[i].sx = ax / f->qmax;
		qn[i].sy = 1.0;
	}
	/* which outputs stay int8 */
	for (int i = 0; i < n0; i++) {
		if (!qn[i].q)
			continue;
		int y = g->nodes[i].out[0];
		int act = (int)ir_attr_int(&g->nodes[i], "odet_act", IR_ACT_NONE);
		if (!f->res_q && g->nodes[i].n_in > 3 && g->nodes[i].in[3] >= 0)
			continue; /* FP8: the float residual's multiplier stays 1 (cuDNN's fused add) */
		double ay = quant_table_get(t, origin_name(g, y, buf, sizeof buf));
		if (ay > 0 && act_commutes(act) && !g->values[y].is_output && all_readers_quantized(g, y, qn, f->res_q)) {
			qn[i].out_i8 = true;
			qn[i].sy = ay / f->qmax;
			i8[y] = qn[i].sy;
		}
	}
	/* an int8 residual added to an int8 output: both get the larger of their two scales
	 * (transitively, so a chain of residual blocks shares one), making r_scale 1 — a plain
	 * add in the fused kernel */
	for (bool changed = true; changed;) {
		changed = false;
		for (int i = 0; i < n0; i++) {
			if (!qn[i].q || !qn[i].out_i8 || g->nodes[i].n_in < 4 || g->nodes[i].in[3] < 0)
				continue;
			int y = g->nodes[i].out[0], r = g->nodes[i].in[3];
			if (i8[r] > 0 && i8[r] != i8[y]) {
				i8[r] = i8[y] = fmax(i8[r], i8[y]);
				changed = true;
			}
		}
	}
	for (int i = 0; i < n0; i++)
		if (qn[i].q && qn[i].out_i8)
			qn[i].sy = i8[g->nodes[i].out[0]];
	/* readers of an int8 value take its (possibly raised) scale as their input scale */
	for (int i = 0; i < n0; i++) {
		if (!qn[i].q)
			continue;
		if ((rc = rewrite(g, i, qn, i8, qcache, f)))
			goto out;
		(*n_quantized)++;
	}
	if (*n_quantized && ((rc = ir_graph_toposort(g)) || (rc = pass_eliminate_dead(g)) || (rc = pass_infer_shapes(g))))
		goto out;
	odet_log(ctx, ODET_LOG_INFO, "quantize: %d convolutions in %s", *n_quantized,
		 f->dt == ODET_F8E4M3 ? "FP8 E4M3" : "INT8");
out:
	free(qn);
	free(qcache);
	free(i8);
	return rc;
}

odet_status pass_quantize(ir_graph *g, const quant_table *t, const char *const *keep, int n_keep, int *n_quantized)
{
	return quantize_as(g, t, keep, n_keep, &QF_INT8, n_quantized);
}

odet_status pass_quantize_fp8(ir_graph *g, const quant_table *t, const char *const *keep, int n_keep,
			      int *n_quantized)
{
	return quantize_as(g, t, keep, n_keep, &QF_FP8, n_quantized);
}

/* Fake-quantized weights of conv node i for its SNR twin: s * Wq * sw[m] (float32), Wq the
 * per-channel int8 codes of quantize_weight, s the input scale (see pass_snr_taps). */
static int snr_weight(ir_graph *g, int wv, double s)
{
	const ir_value *w = &g->values[wv];
	int64_t m = w->dims[0], per = ir_value_numel(w) / m;
	float *d = malloc(sizeof(float) * (size_t)(m * per) + 1);
	if (!d)
		return -1;
	for (int64_t a = 0; a < m; a++) {
		double amax = 0;
		for (int64_t i = 0; i < per; i++)
			amax = fmax(amax, fabs(wval(w, a * per + i)));
		double sw = amax > 0 ? amax / 127.0 : 1.0;
		for (int64_t i = 0; i < per; i++) {
			double r = nearbyint(wval(w, a * per + i) / sw);
			r = r > 127 ? 127 : (r < -127 ? -127 : r);
			d[a * per + i] = (float)(s * r * sw);
		}
	}
	char name[300];
	snprintf(name, sizeof name, "%s_snrw", w->name);
	int64_t dims[4] = {w->dims[0], w->dims[1], w->dims[2], w->dims[3]};
	return ir_const_add(g, name, ODET_F32, 4, dims, d);
}

/* The twin of conv i: Conv(Cast(QuantizeLinear(X, s)), s * fake-quantized W, B, R). */
static odet_status snr_twin(ir_graph *g, int i, double s, int *qcache, int *y_twin)
{
	odet_ctx *ctx = g->ctx;
	char name[300];
	const ir_node n = g->nodes[i]; /* copy: adding nodes may move the array */
	int64_t dims[8];
	const ir_value x = g->values[n.in[0]], y = g->values[n.out[0]];
	memcpy(dims, x.dims, sizeof(int64_t) * (size_t)x.rank);
	int xq = quantize_value(g, qcache, n.in[0], s, ODET_I8);
	snprintf(name, sizeof name, "%s_snrx", n.name);
	int xf = xq >= 0 ? ir_value_add(g, name, ODET_F32, x.rank, dims) : -1;
	if (xf < 0)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "SNR taps: out of memory");
	int cast = ir_node_add(g, IR_OP_CAST, name, 1, &xq, 1, &xf);
	if (cast < 0)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "SNR taps: out of memory");
	odet_status rc = ir_attr_set_int(g, cast, "to", ODET_F32);
	if (rc)
		return rc;
	int wv = snr_weight(g, n.in[1], s);
	snprintf(name, sizeof name, "%s_snr", n.name);
	memcpy(dims, y.dims, sizeof(int64_t) * (size_t)y.rank);
	int yv = wv >= 0 ? ir_value_add(g, name, ODET_F32, y.rank, dims) : -1;
	int in[4] = {xf, wv, n.n_in > 2 ? n.in[2] : -1, n.n_in > 3 ? n.in[3] : -1};
	int node = yv >= 0 ? ir_node_add(g, IR_OP_CONV, name, n.n_in < 2 ? 2 : n.n_in, in, 1, &yv) : -1;
	if (node < 0)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "SNR taps: out of memory");
	if ((rc = ir_attrs_copy(g, node, i)))
		return rc;
	*y_twin = yv;
	return ODET_OK;
}

odet_status pass_snr_taps(ir_graph *g, const quant_table *t, int *n_layers)
{
	odet_ctx *ctx = g->ctx;
	*n_layers = 0;
	const int n0 = g->n_nodes;
	int *outs = malloc(sizeof(int) * 2 * ((size_t)n0 + 1));
	int *qcache = malloc(sizeof(int) * ((size_t)g->n_values + 1));
	odet_status rc = ODET_OK;
	if (!outs || !qcache) {
		rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "SNR taps: out of memory");
		goto out;
	}
	for (int v = 0; v < g->n_values; v++)
		qcache[v] = -1;
	char buf[300];
	int k = 0;
	for (int i = 0; i < n0; i++) {
		const ir_node *n = &g->nodes[i];
		if (!conv_candidate(g, n, QF_INT8.align) || g->values[n->in[0]].dtype != ODET_F32)
			continue;
		double ax = quant_table_get(t, origin_name(g, n->in[0], buf, sizeof buf));
		if (ax <= 0)
			continue;
		int y = n->out[0], yt = -1;
		if ((rc = snr_twin(g, i, ax / 127.0, qcache, &yt)))
			goto out;
		outs[k++] = y;
		outs[k++] = yt;
	}
	/* the pairs are the graph's outputs: nothing else is computed */
	for (int v = 0; v < g->n_values; v++)
		g->values[v].is_output = false;
	free(g->outputs);
	g->outputs = outs;
	outs = NULL;
	g->n_outputs = k;
	for (int j = 0; j < k; j++)
		g->values[g->outputs[j]].is_output = true;
	*n_layers = k / 2;
	if ((rc = ir_graph_toposort(g)) || (rc = pass_eliminate_dead(g)) || (rc = pass_infer_shapes(g)))
		goto out;
	odet_log(ctx, ODET_LOG_INFO, "SNR taps: %d convolutions", *n_layers);
out:
	free(outs);
	free(qcache);
	return rc;
}
