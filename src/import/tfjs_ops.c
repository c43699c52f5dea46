/*
 * tfjs_ops.c — TF.js ops → IR nodes. NHWC ops (Conv2D and its fused/depthwise forms, MaxPool,
 * ResizeBilinear) become Transpose(NHWC→NCHW) → op → Transpose(NCHW→NHWC); elementwise ops
 * keep TF's numpy broadcasting; integer inputs that carry axes, shapes, paddings become int64
 * constants; shape arithmetic on small integer constants is folded here. An op without a
 * translation is refused (the caller may drop the outputs that need it).
 */
#include "import/tfjs_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ translation */

static int new_value(tf_import *t, const char *name)
{
	return ir_value_add(t->g, name, ODET_DTYPE_UNDEFINED, -1, NULL);
}

static int add_node(tf_import *t, ir_op op, const char *name, int n_in, const int *in, int out)
{
	return ir_node_add(t->g, op, name, n_in, in, 1, &out);
}

static int const_i64(tf_import *t, const char *name, const int64_t *v, int n)
{
	int64_t *d = odet_malloc(t->ctx, sizeof(int64_t) * (size_t)(n ? n : 1));
	if (!d)
		return -1;
	memcpy(d, v, sizeof(int64_t) * (size_t)n);
	int64_t dim = n;
	return ir_const_add(t->g, name, ODET_I64, 1, &dim, d);
}

static int const_f32_scalar(tf_import *t, const char *name, float x)
{
	float *d = odet_malloc(t->ctx, sizeof(float));
	if (!d)
		return -1;
	*d = x;
	return ir_const_add(t->g, name, ODET_F32, 0, NULL, d);
}

/* Transpose `in` with perm (rank 4) into a new value; returns the value or -1. */
static int transpose4(tf_import *t, const char *base, const char *suffix, int in, const int64_t perm[4])
{
	char nm[512];
	snprintf(nm, sizeof nm, "%s/%s", base, suffix);
	int out = new_value(t, nm);
	if (out < 0)
		return -1;
	int node = add_node(t, IR_OP_TRANSPOSE, nm, 1, &in, out);
	if (node < 0 || ir_attr_set_ints(t->g, node, "perm", perm, 4))
		return -1;
	return out;
}

static const int64_t TO_NCHW[4] = {0, 3, 1, 2};
static const int64_t TO_NHWC[4] = {0, 2, 3, 1};

/* A constant input as int64 values (any integer dtype). Returns count or -1. */
static int const_ints(const tf_import *t, int v, int64_t *out, int cap)
{
	const ir_value *val = &t->g->values[v];
	if (val->kind != IR_VALUE_CONST)
		return -1;
	int64_t n = ir_value_numel(val);
	if (n < 0 || n > cap)
		return -1;
	for (int64_t i = 0; i < n; i++)
		out[i] = ir_const_i64(val, i);
	return (int)n;
}

static odet_status unsupported(tf_import *t, const tf_node *n, const char *why)
{
	return odet_error(t->ctx, ODET_ERR_UNSUPPORTED, "%s: node '%s': op %s: %s", t->path, n->name, n->op, why);
}


static odet_status input_value(tf_import *t, int ni, int i, int *v)
{
	const char *ref = tf_input_ref(&t->nodes[ni], i);
	int k;
	int src = ref ? tf_parse_ref(t, ref, &k) : -1;
	if (src < 0)
		return odet_error(t->ctx, ODET_ERR_BAD_INPUT, "%s: node '%s': input %d ('%s') does not exist", t->path,
				  t->nodes[ni].name, i, ref ? ref : "?");
	odet_status rc = tfjs_translate(t, src);
	if (rc)
		return rc;
	if (k >= t->nodes[src].n_out || t->nodes[src].out[k] < 0)
		return odet_error(t->ctx, ODET_ERR_BAD_INPUT, "%s: node '%s': input '%s' has no output %d", t->path,
				  t->nodes[ni].name, ref, k);
	*v = t->nodes[src].out[k];
	return ODET_OK;
}

/* Conv family: Conv2D, _FusedConv2D, DepthwiseConv2dNative, FusedDepthwiseConv2dNative. */
static odet_status tr_conv(tf_import *t, int ni, bool depthwise)
{
	tf_node *n = &t->nodes[ni];
	ir_graph *g = t->g;
	char buf[64], nm[512];
	if (strcmp(tf_attr_str(n, "data_format", buf, sizeof buf), "NHWC") && buf[0])
		return unsupported(t, n, "only data_format NHWC is supported");
	int x, w;
	odet_status rc;
	if ((rc = input_value(t, ni, 0, &x)) || (rc = input_value(t, ni, 1, &w)))
		return rc;
	ir_value *wv = &g->values[w];
	if (wv->kind != IR_VALUE_CONST || wv->rank != 4 || wv->dtype != ODET_F32)
		return unsupported(t, n, "filter must be a float32 constant of rank 4");
	int64_t kh = wv->dims[0], kw = wv->dims[1], ci = wv->dims[2], co = wv->dims[3];
	/* HWIO → OIHW; depthwise HW C M → (C*M) 1 H W */
	int64_t oc = depthwise ? ci * co : co, icg = depthwise ? 1 : ci;
	int64_t wd[4] = {oc, icg, kh, kw};
	int64_t numel = oc * icg * kh * kw;
	float *nw = odet_malloc(t->ctx, sizeof(float) * (size_t)numel);
	if (!nw)
		return ODET_ERR_NO_MEMORY;
	const float *src = wv->data;
	for (int64_t y = 0; y < kh; y++)
		for (int64_t xx = 0; xx < kw; xx++)
			for (int64_t i = 0; i < ci; i++)
				for (int64_t o = 0; o < co; o++) {
					float val = src[((y * kw + xx) * ci + i) * co + o];
					if (depthwise)
						nw[((i * co + o) * 1 + 0) * kh * kw + y * kw + xx] = val;
					else
						nw[((o * ci + i) * kh + y) * kw + xx] = val;
				}
	snprintf(nm, sizeof nm, "%s/W_oihw", n->name);
	int wn = ir_const_add(g, nm, ODET_F32, 4, wd, nw);
	if (wn < 0)
		return ODET_ERR_NO_MEMORY;
	/* fused ops */
	char fused[4][32] = {{0}};
	int n_fused = 0;
	cJSON *fa = tf_attr(n, "fused_ops");
	cJSON *fl = fa ? cJSON_GetObjectItemCaseSensitive(fa, "list") : NULL;
	cJSON *fs = fl ? cJSON_GetObjectItemCaseSensitive(fl, "s") : NULL;
	if (fs) {
		cJSON *e;
		cJSON_ArrayForEach(e, fs)
		{
			if (n_fused >= 4)
				return unsupported(t, n, "too many fused ops");
			/* decode base64 via a fake node attr */
			cJSON *obj = cJSON_CreateObject();
			cJSON *a = cJSON_AddObjectToObject(obj, "attr");
			cJSON *f = cJSON_AddObjectToObject(a, "x");
			cJSON_AddStringToObject(f, "s", e->valuestring);
			tf_node fake = {.json = obj};
			tf_attr_str(&fake, "x", fused[n_fused], sizeof fused[0]);
			cJSON_Delete(obj);
			n_fused++;
		}
	}
	int bias = -1, k = 0;
	int n_args = tf_n_inputs(n) - 2;
	if (n_fused > 0) {
		if (strcmp(fused[0], "BiasAdd"))
			return unsupported(t, n, "fused op other than BiasAdd first");
		if (n_args < 1)
			return unsupported(t, n, "BiasAdd without a bias input");
		if ((rc = input_value(t, ni, 2, &bias)))
			return rc;
		if (g->values[bias].kind != IR_VALUE_CONST)
			return unsupported(t, n, "bias must be constant");
		k = 1;
	}
	/* strides, dilations, padding */
	int64_t st[8], dl[8];
	int ns = tf_attr_ints(n, "strides", st, 8), nd = tf_attr_ints(n, "dilations", dl, 8);
	if (ns != 4 || st[0] != 1 || st[3] != 1)
		return unsupported(t, n, "strides must be [1,sh,sw,1]");
	if (nd == 0) {
		dl[1] = dl[2] = 1;
	} else if (nd != 4 || dl[0] != 1 || dl[3] != 1) {
		return unsupported(t, n, "dilations must be [1,dh,dw,1]");
	}
	char pad[32];
	tf_attr_str(n, "padding", pad, sizeof pad);
	int xin = transpose4(t, n->name, "to_nchw", x, TO_NCHW);
	if (xin < 0)
		return ODET_ERR_NO_MEMORY;
	snprintf(nm, sizeof nm, "%s/conv", n->name);
	int cv = new_value(t, nm);
	int ins[3] = {xin, wn, bias};
	int node = add_node(t, IR_OP_CONV, nm, bias >= 0 ? 3 : 2, ins, cv);
	if (cv < 0 || node < 0)
		return ODET_ERR_NO_MEMORY;
	int64_t strides[2] = {st[1], st[2]}, dil[2] = {dl[1], dl[2]}, ks[2] = {kh, kw};
	if (ir_attr_set_ints(g, node, "strides", strides, 2) || ir_attr_set_ints(g, node, "dilations", dil, 2) ||
	    ir_attr_set_ints(g, node, "kernel_shape", ks, 2) || ir_attr_set_int(g, node, "group", depthwise ? ci : 1))
		return ODET_ERR_NO_MEMORY;
	if (!strcmp(pad, "SAME")) {
		if (ir_attr_set_string(g, node, "auto_pad", "SAME_UPPER"))
			return ODET_ERR_NO_MEMORY;
	} else if (!strcmp(pad, "EXPLICIT")) {
		int64_t ep[8];
		if (tf_attr_ints(n, "explicit_paddings", ep, 8) != 8)
			return unsupported(t, n, "explicit_paddings must have 8 values");
		int64_t pads[4] = {ep[2], ep[4], ep[3], ep[5]};
		if (ir_attr_set_ints(g, node, "pads", pads, 4))
			return ODET_ERR_NO_MEMORY;
	} else if (strcmp(pad, "VALID")) {
		return unsupported(t, n, "padding must be SAME, VALID or EXPLICIT");
	}
	/* activation after the bias, still in NCHW so the fuse pass can merge it */
	int cur = cv;
	for (; k < n_fused; k++) {
		snprintf(nm, sizeof nm, "%s/%s", n->name, fused[k]);
		int nv = new_value(t, nm);
		if (nv < 0)
			return ODET_ERR_NO_MEMORY;
		if (!strcmp(fused[k], "Relu")) {
			if (add_node(t, IR_OP_RELU, nm, 1, &cur, nv) < 0)
				return ODET_ERR_NO_MEMORY;
		} else if (!strcmp(fused[k], "Relu6")) {
			char cn[560];
			snprintf(cn, sizeof cn, "%s/min", nm);
			int lo = const_f32_scalar(t, cn, 0.0f);
			snprintf(cn, sizeof cn, "%s/max", nm);
			int hi = const_f32_scalar(t, cn, 6.0f);
			int ci3[3] = {cur, lo, hi};
			if (lo < 0 || hi < 0 || add_node(t, IR_OP_CLIP, nm, 3, ci3, nv) < 0)
				return ODET_ERR_NO_MEMORY;
		} else if (!strcmp(fused[k], "LeakyRelu")) {
			int an = add_node(t, IR_OP_LEAKYRELU, nm, 1, &cur, nv);
			if (an < 0 || ir_attr_set_float(g, an, "alpha", tf_attr_float(n, "leakyrelu_alpha", 0.2f)))
				return ODET_ERR_NO_MEMORY;
		} else if (!strcmp(fused[k], "Sigmoid")) {
			if (add_node(t, IR_OP_SIGMOID, nm, 1, &cur, nv) < 0)
				return ODET_ERR_NO_MEMORY;
		} else {
			char why[96];
			snprintf(why, sizeof why, "fused op %s is not supported", fused[k]);
			return unsupported(t, n, why);
		}
		cur = nv;
	}
	int out = transpose4(t, n->name, "to_nhwc", cur, TO_NHWC);
	if (out < 0)
		return ODET_ERR_NO_MEMORY;
	n->out[0] = out;
	return ODET_OK;
}

static odet_status tr_maxpool(tf_import *t, int ni)
{
	tf_node *n = &t->nodes[ni];
	char buf[64], nm[512];
	if (strcmp(tf_attr_str(n, "data_format", buf, sizeof buf), "NHWC") && buf[0])
		return unsupported(t, n, "only data_format NHWC is supported");
	int x;
	odet_status rc = input_value(t, ni, 0, &x);
	if (rc)
		return rc;
	int64_t ks[8], st[8];
	if (tf_attr_ints(n, "ksize", ks, 8) != 4 || tf_attr_ints(n, "strides", st, 8) != 4 || ks[0] != 1 || ks[3] != 1 ||
	    st[0] != 1 || st[3] != 1)
		return unsupported(t, n, "ksize/strides must be [1,h,w,1]");
	char pad[32];
	tf_attr_str(n, "padding", pad, sizeof pad);
	int xin = transpose4(t, n->name, "to_nchw", x, TO_NCHW);
	snprintf(nm, sizeof nm, "%s/pool", n->name);
	int pv = new_value(t, nm);
	int node = (xin < 0 || pv < 0) ? -1 : add_node(t, IR_OP_MAXPOOL, nm, 1, &xin, pv);
	if (node < 0)
		return ODET_ERR_NO_MEMORY;
	int64_t k2[2] = {ks[1], ks[2]}, s2[2] = {st[1], st[2]};
	if (ir_attr_set_ints(t->g, node, "kernel_shape", k2, 2) || ir_attr_set_ints(t->g, node, "strides", s2, 2))
		return ODET_ERR_NO_MEMORY;
	if (!strcmp(pad, "SAME")) {
		if (ir_attr_set_string(t->g, node, "auto_pad", "SAME_UPPER"))
			return ODET_ERR_NO_MEMORY;
	} else if (strcmp(pad, "VALID")) {
		return unsupported(t, n, "padding must be SAME or VALID");
	}
	int out = transpose4(t, n->name, "to_nhwc", pv, TO_NHWC);
	if (out < 0)
		return ODET_ERR_NO_MEMORY;
	n->out[0] = out;
	return ODET_OK;
}

/* ResizeBilinear(x NHWC, size[2]) → Resize on NCHW with sizes = concat(shape(x)[0:2], size). */
static odet_status tr_resize(tf_import *t, int ni)
{
	tf_node *n = &t->nodes[ni];
	char nm[512];
	int x, sz;
	odet_status rc;
	if ((rc = input_value(t, ni, 0, &x)) || (rc = input_value(t, ni, 1, &sz)))
		return rc;
	int64_t hw[2];
	if (const_ints(t, sz, hw, 2) != 2)
		return unsupported(t, n, "size must be a constant of 2 values");
	bool align = tf_attr_bool(n, "align_corners", 0), half = tf_attr_bool(n, "half_pixel_centers", 0);
	if (align && half)
		return unsupported(t, n, "align_corners and half_pixel_centers together");
	int xin = transpose4(t, n->name, "to_nchw", x, TO_NCHW);
	if (xin < 0)
		return ODET_ERR_NO_MEMORY;
	/* sizes = Concat(Slice(Shape(x), 0, 2), hw) — folds once the input shape is fixed */
	snprintf(nm, sizeof nm, "%s/shape", n->name);
	int shp = new_value(t, nm);
	if (shp < 0 || add_node(t, IR_OP_SHAPE, nm, 1, &xin, shp) < 0)
		return ODET_ERR_NO_MEMORY;
	int64_t z = 0, two = 2;
	snprintf(nm, sizeof nm, "%s/nc_start", n->name);
	int s0 = const_i64(t, nm, &z, 1);
	snprintf(nm, sizeof nm, "%s/nc_end", n->name);
	int s1 = const_i64(t, nm, &two, 1);
	snprintf(nm, sizeof nm, "%s/nc", n->name);
	int nc = new_value(t, nm);
	int sin[3] = {shp, s0, s1};
	if (s0 < 0 || s1 < 0 || nc < 0 || add_node(t, IR_OP_SLICE, nm, 3, sin, nc) < 0)
		return ODET_ERR_NO_MEMORY;
	snprintf(nm, sizeof nm, "%s/hw", n->name);
	int hwv = const_i64(t, nm, hw, 2);
	snprintf(nm, sizeof nm, "%s/sizes", n->name);
	int sizes = new_value(t, nm);
	int cin[2] = {nc, hwv};
	int cn = (hwv < 0 || sizes < 0) ? -1 : add_node(t, IR_OP_CONCAT, nm, 2, cin, sizes);
	if (cn < 0 || ir_attr_set_int(t->g, cn, "axis", 0))
		return ODET_ERR_NO_MEMORY;
	snprintf(nm, sizeof nm, "%s/resize", n->name);
	int rv = new_value(t, nm);
	int rin[4] = {xin, -1, -1, sizes};
	int rn = rv < 0 ? -1 : add_node(t, IR_OP_RESIZE, nm, 4, rin, rv);
	if (rn < 0 || ir_attr_set_string(t->g, rn, "mode", "linear") ||
	    ir_attr_set_string(t->g, rn, "coordinate_transformation_mode",
			       align ? "align_corners" : half ? "half_pixel" : "asymmetric"))
		return ODET_ERR_NO_MEMORY;
	int out = transpose4(t, n->name, "to_nhwc", rv, TO_NHWC);
	if (out < 0)
		return ODET_ERR_NO_MEMORY;
	n->out[0] = out;
	return ODET_OK;
}

/* An integer constant input converted to an int64 constant (axes, shapes, pads). */
static odet_status int64_input(tf_import *t, int ni, int i, const char *what, int *out, int64_t *vals, int *count,
			       int cap)
{
	int v;
	odet_status rc = input_value(t, ni, i, &v);
	if (rc)
		return rc;
	int c = const_ints(t, v, vals, cap);
	if (c < 0)
		return unsupported(t, &t->nodes[ni], what);
	char nm[512];
	snprintf(nm, sizeof nm, "%s/%s_i64", t->nodes[ni].name, "arg");
	int nv = const_i64(t, nm, vals, c);
	if (nv < 0)
		return ODET_ERR_NO_MEMORY;
	*out = nv;
	if (count)
		*count = c;
	return ODET_OK;
}

static bool is_int_const(const tf_import *t, int v)
{
	const ir_value *val = &t->g->values[v];
	return val->kind == IR_VALUE_CONST && (val->dtype == ODET_I32 || val->dtype == ODET_I64) &&
	       val->rank <= 1 && ir_value_numel(val) <= 64;
}

/* Add/Sub/Mul of two small integer constants, folded here into an int64 constant (TF.js
 * stores int64 as int32, so shape arithmetic mixes the two). */
static odet_status fold_int_binary(tf_import *t, int ni, ir_op op, const int *ins)
{
	const ir_value *a = &t->g->values[ins[0]], *b = &t->g->values[ins[1]];
	int64_t na = ir_value_numel(a), nb = ir_value_numel(b);
	int64_t n = na > nb ? na : nb;
	if ((na != n && na != 1) || (nb != n && nb != 1))
		return unsupported(t, &t->nodes[ni], "integer constants do not broadcast");
	int64_t r[64];
	for (int64_t i = 0; i < n; i++) {
		int64_t x = ir_const_i64(a, na == 1 ? 0 : i), y = ir_const_i64(b, nb == 1 ? 0 : i);
		r[i] = op == IR_OP_ADD ? x + y : op == IR_OP_SUB ? x - y : x * y;
	}
	int rank = (a->rank > b->rank) ? a->rank : b->rank;
	int64_t *d = odet_malloc(t->ctx, sizeof(int64_t) * (size_t)n);
	if (!d)
		return ODET_ERR_NO_MEMORY;
	memcpy(d, r, sizeof(int64_t) * (size_t)n);
	int v = ir_const_add(t->g, t->nodes[ni].name, ODET_I64, rank, &n, d);
	if (v < 0)
		return ODET_ERR_NO_MEMORY;
	t->nodes[ni].out[0] = v;
	return ODET_OK;
}

static odet_status tr_simple(tf_import *t, int ni, ir_op op, int n_in)
{
	tf_node *n = &t->nodes[ni];
	int ins[4];
	odet_status rc;
	for (int i = 0; i < n_in; i++)
		if ((rc = input_value(t, ni, i, &ins[i])))
			return rc;
	if (n_in == 2 && (op == IR_OP_ADD || op == IR_OP_SUB || op == IR_OP_MUL) && is_int_const(t, ins[0]) &&
	    is_int_const(t, ins[1]))
		return fold_int_binary(t, ni, op, ins);
	int out = new_value(t, n->name);
	int node = out < 0 ? -1 : add_node(t, op, n->name, n_in, ins, out);
	if (node < 0)
		return ODET_ERR_NO_MEMORY;
	n->out[0] = out;
	if (op == IR_OP_LEAKYRELU && ir_attr_set_float(t->g, node, "alpha", tf_attr_float(n, "alpha", 0.2f)))
		return ODET_ERR_NO_MEMORY;
	return ODET_OK;
}

static odet_status tr_relu6(tf_import *t, int ni)
{
	tf_node *n = &t->nodes[ni];
	char nm[560];
	int x;
	odet_status rc = input_value(t, ni, 0, &x);
	if (rc)
		return rc;
	snprintf(nm, sizeof nm, "%s/min", n->name);
	int lo = const_f32_scalar(t, nm, 0.0f);
	snprintf(nm, sizeof nm, "%s/max", n->name);
	int hi = const_f32_scalar(t, nm, 6.0f);
	int out = new_value(t, n->name);
	int ins[3] = {x, lo, hi};
	if (lo < 0 || hi < 0 || out < 0 || add_node(t, IR_OP_CLIP, n->name, 3, ins, out) < 0)
		return ODET_ERR_NO_MEMORY;
	n->out[0] = out;
	return ODET_OK;
}

/* Ops with a constant integer second input turned into an int64 input: Mean (axes),
 * Reshape (shape), Transpose (perm attribute), ExpandDims/Squeeze, Pad/PadV2, ConcatV2, SplitV. */
static odet_status tr_with_ints(tf_import *t, int ni)
{
	tf_node *n = &t->nodes[ni];
	ir_graph *g = t->g;
	const char *op = n->op;
	int x, iv, cnt, node;
	int64_t vals[64];
	odet_status rc;
	if (!strcmp(op, "ConcatV2")) {
		int na = tf_n_inputs(n) - 1;
		if (na < 1 || na > IR_MAX_IO)
			return unsupported(t, n, "bad input count");
		int ins[IR_MAX_IO];
		for (int i = 0; i < na; i++)
			if ((rc = input_value(t, ni, i, &ins[i])))
				return rc;
		int av;
		if ((rc = input_value(t, ni, na, &av)))
			return rc;
		if (const_ints(t, av, vals, 1) != 1)
			return unsupported(t, n, "axis must be a constant");
		int out = new_value(t, n->name);
		node = out < 0 ? -1 : add_node(t, IR_OP_CONCAT, n->name, na, ins, out);
		if (node < 0 || ir_attr_set_int(g, node, "axis", vals[0]))
			return ODET_ERR_NO_MEMORY;
		n->out[0] = out;
		return ODET_OK;
	}
	if ((rc = input_value(t, ni, 0, &x)))
		return rc;
	if (!strcmp(op, "Transpose")) {
		int pv;
		if ((rc = input_value(t, ni, 1, &pv)))
			return rc;
		cnt = const_ints(t, pv, vals, ODET_MAX_RANK);
		if (cnt < 0)
			return unsupported(t, n, "perm must be a constant");
		int out = new_value(t, n->name);
		node = out < 0 ? -1 : add_node(t, IR_OP_TRANSPOSE, n->name, 1, &x, out);
		if (node < 0 || ir_attr_set_ints(g, node, "perm", vals, cnt))
			return ODET_ERR_NO_MEMORY;
		n->out[0] = out;
		return ODET_OK;
	}
	if (!strcmp(op, "Pad") || !strcmp(op, "PadV2")) {
		if ((rc = int64_input(t, ni, 1, "paddings must be a constant", &iv, vals, &cnt, 64)))
			return rc;
		/* TF [[b0,e0],[b1,e1],...] → ONNX [b0,b1,...,e0,e1,...] */
		int r = cnt / 2;
		int64_t pads[64];
		for (int i = 0; i < r; i++) {
			pads[i] = vals[2 * i];
			pads[r + i] = vals[2 * i + 1];
		}
		memcpy(g->values[iv].data, pads, sizeof(int64_t) * (size_t)cnt);
		int ins[3] = {x, iv, -1};
		int nin = 2;
		if (!strcmp(op, "PadV2")) {
			if ((rc = input_value(t, ni, 2, &ins[2])))
				return rc;
			nin = 3;
		}
		int out = new_value(t, n->name);
		node = out < 0 ? -1 : add_node(t, IR_OP_PAD, n->name, nin, ins, out);
		if (node < 0 || ir_attr_set_string(g, node, "mode", "constant"))
			return ODET_ERR_NO_MEMORY;
		n->out[0] = out;
		return ODET_OK;
	}
	if ((rc = int64_input(t, ni, 1, "the second input must be a constant", &iv, vals, &cnt, 64)))
		return rc;
	ir_op irop;
	if (!strcmp(op, "Mean"))
		irop = IR_OP_REDUCEMEAN;
	else if (!strcmp(op, "Reshape"))
		irop = IR_OP_RESHAPE;
	else if (!strcmp(op, "ExpandDims"))
		irop = IR_OP_UNSQUEEZE;
	else if (!strcmp(op, "SplitV"))
		irop = IR_OP_SPLIT;
	else
		return unsupported(t, n, "internal: no mapping");
	if (irop == IR_OP_SPLIT) {
		int av;
		if ((rc = input_value(t, ni, 2, &av)))
			return rc;
		int64_t axis;
		if (const_ints(t, av, &axis, 1) != 1)
			return unsupported(t, n, "split_dim must be a constant");
		for (int i = 0; i < cnt; i++)
			if (vals[i] < 0)
				return unsupported(t, n, "size_splits with -1 is not supported");
		int outs[IR_MAX_IO];
		if (cnt > IR_MAX_IO || cnt != n->n_out)
			return unsupported(t, n, "num_split does not match size_splits");
		for (int i = 0; i < cnt; i++) {
			char nm[512];
			if (i == 0)
				snprintf(nm, sizeof nm, "%s", n->name);
			else
				snprintf(nm, sizeof nm, "%s:%d", n->name, i);
			if ((outs[i] = new_value(t, nm)) < 0)
				return ODET_ERR_NO_MEMORY;
			n->out[i] = outs[i];
		}
		int ins[2] = {x, iv};
		node = ir_node_add(g, IR_OP_SPLIT, n->name, 2, ins, cnt, outs);
		if (node < 0 || ir_attr_set_int(g, node, "axis", axis))
			return ODET_ERR_NO_MEMORY;
		return ODET_OK;
	}
	/* TF.js graphs saved at batch 1 bake that 1 into Reshape targets; a leading 1 becomes 0
	 * ("keep the input's dim 0") so the graph runs at any batch. Reshapes that really
	 * collapse to a leading 1 do not occur in the detectors' graphs this serves. */
	if (irop == IR_OP_RESHAPE && cnt >= 2 && vals[0] == 1)
		((int64_t *)t->g->values[iv].data)[0] = 0;
	int ins[2] = {x, iv};
	int out = new_value(t, n->name);
	node = out < 0 ? -1 : add_node(t, irop, n->name, 2, ins, out);
	if (node < 0)
		return ODET_ERR_NO_MEMORY;
	if (irop == IR_OP_REDUCEMEAN && ir_attr_set_int(g, node, "keepdims", tf_attr_bool(n, "keep_dims", 0)))
		return ODET_ERR_NO_MEMORY;
	n->out[0] = out;
	return ODET_OK;
}

/* SparseToDense with constant inputs, evaluated here (nanodet computes reshape targets so). */
static odet_status tr_sparse_to_dense(tf_import *t, int ni)
{
	tf_node *n = &t->nodes[ni];
	int iv[4];
	odet_status rc;
	for (int i = 0; i < 4; i++)
		if ((rc = input_value(t, ni, i, &iv[i])))
			return rc;
	int64_t shape[8], idx[64], vals[64], def;
	int ns = const_ints(t, iv[1], shape, 8);
	int ni2 = const_ints(t, iv[0], idx, 64);
	int nv = const_ints(t, iv[2], vals, 64);
	if (ns != 1 || ni2 < 0 || nv < 0 || const_ints(t, iv[3], &def, 1) != 1)
		return unsupported(t, n, "only constant 1-D SparseToDense is supported");
	if (shape[0] < 0 || shape[0] > 64)
		return unsupported(t, n, "output too large");
	int64_t out[64];
	for (int64_t i = 0; i < shape[0]; i++)
		out[i] = def;
	for (int i = 0; i < ni2; i++) {
		if (idx[i] < 0 || idx[i] >= shape[0])
			return odet_error(t->ctx, ODET_ERR_BAD_INPUT, "%s: node '%s': index %lld out of range", t->path,
					  n->name, (long long)idx[i]);
		out[idx[i]] = nv == 1 ? vals[0] : (i < nv ? vals[i] : def);
	}
	int v = const_i64(t, n->name, out, (int)shape[0]);
	if (v < 0)
		return ODET_ERR_NO_MEMORY;
	n->out[0] = v;
	return ODET_OK;
}

static const struct {
	const char *tf;
	ir_op op;
	int n_in;
} simple_ops[] = {
	{"Identity", IR_OP_IDENTITY, 1}, {"Relu", IR_OP_RELU, 1},     {"Sigmoid", IR_OP_SIGMOID, 1},
	{"Tanh", IR_OP_TANH, 1},         {"Exp", IR_OP_EXP, 1},       {"LeakyRelu", IR_OP_LEAKYRELU, 1},
	{"Add", IR_OP_ADD, 2},           {"AddV2", IR_OP_ADD, 2},     {"Sub", IR_OP_SUB, 2},
	{"Mul", IR_OP_MUL, 2},           {"RealDiv", IR_OP_DIV, 2},   {"Maximum", IR_OP_MAX, 2},
	{"Minimum", IR_OP_MIN, 2},
};

/* Translate one node whose inputs are all translated (or failed): tfjs_translate's walk. */
static odet_status translate_node(tf_import *t, int ni)
{
	tf_node *n = &t->nodes[ni];
	odet_status rc;
	const char *op = n->op;
	if (!strcmp(op, "Placeholder")) {
		cJSON *a = tf_attr(n, "shape");
		cJSON *s = a ? cJSON_GetObjectItemCaseSensitive(a, "shape") : NULL;
		cJSON *dims = s ? cJSON_GetObjectItemCaseSensitive(s, "dim") : NULL;
		int64_t d[ODET_MAX_RANK];
		int rank = 0;
		cJSON *e;
		cJSON_ArrayForEach(e, dims)
		{
			if (rank >= ODET_MAX_RANK)
				return odet_error(t->ctx, ODET_ERR_LIMIT, "%s: input '%s' has rank > 8", t->path, n->name);
			cJSON *sz = cJSON_GetObjectItemCaseSensitive(e, "size");
			int64_t v = cJSON_IsString(sz) ? strtoll(sz->valuestring, NULL, 10) : -1;
			d[rank++] = v < 0 ? -1 : v;
		}
		int v = ir_value_add(t->g, n->name, ODET_F32, rank, d);
		if (v < 0)
			return ODET_ERR_NO_MEMORY;
		t->g->values[v].kind = IR_VALUE_INPUT;
		/* the batch dimension is symbolic even where the model was saved with batch 1:
		 * engines pick their batch at build time (see the Reshape rewrite below) */
		if (rank > 0 && d[0] <= 1) {
			t->g->values[v].dims[0] = -1;
			t->g->values[v].sym[0] = odet_strdup(t->ctx, "batch");
		}
		int *ni3 = odet_realloc_array(t->ctx, t->g->inputs, (size_t)t->g->n_inputs + 1, sizeof(int));
		if (!ni3)
			return ODET_ERR_NO_MEMORY;
		t->g->inputs = ni3;
		t->g->inputs[t->g->n_inputs++] = v;
		n->out[0] = v;
		rc = ODET_OK;
	} else if (!strcmp(op, "Const")) {
		rc = odet_error(t->ctx, ODET_ERR_BAD_INPUT, "%s: constant '%s' has no entry in weightsManifest", t->path,
				n->name);
	} else if (!strcmp(op, "Conv2D") || !strcmp(op, "_FusedConv2D")) {
		rc = tr_conv(t, ni, false);
	} else if (!strcmp(op, "DepthwiseConv2dNative") || !strcmp(op, "FusedDepthwiseConv2dNative")) {
		rc = tr_conv(t, ni, true);
	} else if (!strcmp(op, "MaxPool")) {
		rc = tr_maxpool(t, ni);
	} else if (!strcmp(op, "ResizeBilinear")) {
		rc = tr_resize(t, ni);
	} else if (!strcmp(op, "Relu6")) {
		rc = tr_relu6(t, ni);
	} else if (!strcmp(op, "Mean") || !strcmp(op, "Reshape") || !strcmp(op, "ExpandDims") ||
		   !strcmp(op, "SplitV") || !strcmp(op, "ConcatV2") || !strcmp(op, "Transpose") ||
		   !strcmp(op, "Pad") || !strcmp(op, "PadV2")) {
		rc = tr_with_ints(t, ni);
	} else if (!strcmp(op, "SparseToDense")) {
		rc = tr_sparse_to_dense(t, ni);
	} else {
		bool known = false;
		rc = ODET_OK;
		for (size_t i = 0; i < sizeof simple_ops / sizeof simple_ops[0] && !known; i++)
			if (!strcmp(op, simple_ops[i].tf)) {
				known = true;
				rc = tr_simple(t, ni, simple_ops[i].op, simple_ops[i].n_in);
			}
		if (!known) {
			n->state = 3;
			n->why = "op is not supported by odet's TF.js importer";
			return odet_error(t->ctx, ODET_ERR_UNSUPPORTED, "%s: node '%s': op %s is not supported", t->path,
					  n->name, op);
		}
	}
	return rc;
}

static cJSON *first_input(const tf_node *n)
{
	cJSON *in = cJSON_GetObjectItemCaseSensitive(n->json, "input");
	return cJSON_IsArray(in) ? in->child : NULL;
}

odet_status tfjs_translate(tf_import *t, int ni)
{
	typedef struct {
		int ni;
		cJSON *next; /* the next input reference to visit */
	} frame;
	tf_node *n = &t->nodes[ni];
	if (n->state == 2)
		return ODET_OK;
	if (n->state == 3)
		return odet_error(t->ctx, ODET_ERR_UNSUPPORTED, "%s: node '%s': %s", t->path, n->name, n->why);
	if (n->state == 1)
		return odet_error(t->ctx, ODET_ERR_BAD_INPUT, "%s: node '%s' is part of a cycle", t->path, n->name);
	/* each node is pushed at most once (state 0 -> 1), so n_nodes frames suffice */
	frame *st = odet_realloc_array(t->ctx, NULL, (size_t)t->n_nodes, sizeof *st);
	if (!st)
		return ODET_ERR_NO_MEMORY;
	int sp = 0;
	odet_status rc = ODET_OK;
	n->state = 1;
	st[sp++] = (frame){ni, first_input(n)};
	while (sp > 0) {
		frame *f = &st[sp - 1];
		cJSON *e = f->next;
		if (e) {
			f->next = e->next;
			int k, src = cJSON_IsString(e) ? tf_parse_ref(t, e->valuestring, &k) : -1;
			if (src < 0) /* control inputs; a missing node is reported by translate_node */
				continue;
			tf_node *c = &t->nodes[src];
			if (c->state == 0) {
				c->state = 1;
				st[sp++] = (frame){src, first_input(c)};
			} else if (c->state == 1) {
				rc = odet_error(t->ctx, ODET_ERR_BAD_INPUT, "%s: node '%s' is part of a cycle", t->path,
						c->name);
				break;
			} else if (c->state == 3) {
				rc = odet_error(t->ctx, ODET_ERR_UNSUPPORTED, "%s: node '%s': %s", t->path, c->name,
						c->why);
				break;
			}
			continue;
		}
		if ((rc = translate_node(t, f->ni)))
			break;
		t->nodes[f->ni].state = 2;
		sp--;
	}
	/* a failure marks the failed node and everything waiting on it */
	for (int i = 0; rc && i < sp; i++) {
		tf_node *m = &t->nodes[st[i].ni];
		if (m->state != 3) {
			m->state = 3;
			m->why = "depends on an unsupported or invalid node (see the first error)";
		}
	}
	free(st);
	return rc;
}

