/*
 * shape_conv.c — shape functions of convolution, pooling, normalization and matrix ops.
 *
 * Windowed ops (Conv, MaxPool, AveragePool), per spatial dim with input size i, kernel k,
 * stride s, dilation d, pads b (begin) and e (end), effective kernel K = d*(k-1)+1:
 *   auto_pad NOTSET   o = floor((i+b+e-K)/s)+1   (ceil_mode: ceil, and a last window
 *                     that would start inside the end padding is dropped, as PyTorch and
 *                     ONNX Runtime do)
 *   auto_pad VALID    the same with b = e = 0
 *   auto_pad SAME_*   o = ceil(i/s)
 * Conv: X [N,C,D...], W [M,C/group,k...], optional B [M]; Y [N,M,o...]. odet's fused Conv
 * (passes/fuse_conv.c) adds a 4th input, the residual, which must have Y's shape.
 * MaxPool/AveragePool: attr kernel_shape required; MaxPool's optional 2nd output (indices)
 * is int64 of Y's shape. GlobalAveragePool: [N,C,1,...].
 * BatchNormalization: Y like X; scale, B, mean, var are [C]; optional outputs [C].
 * Gemm: A [M,K] (transA), B [K,N] (transB), optional C broadcastable to [M,N]; Y [M,N].
 * MatMul: numpy matmul: 1-D operands are promoted and the added dim removed; batch dims
 * broadcast.
 */
#include "graph/shape_common.h"

#include <string.h>

typedef struct window {
	int nsp;                        /* spatial dims */
	int64_t k[ODET_MAX_RANK], s[ODET_MAX_RANK], d[ODET_MAX_RANK];
	int64_t pads[2 * ODET_MAX_RANK]; /* begins then ends */
	int auto_pad;                   /* 0 NOTSET, 1 VALID, 2 SAME_UPPER, 3 SAME_LOWER */
	int ceil_mode;
} window;

/* Read strides/dilations/pads/auto_pad/ceil_mode; kernel sizes must already be in w->k
 * (-1 where unknown). */
static odet_status window_attrs(ir_graph *g, const ir_node *n, window *w)
{
	const int64_t *v;
	int cnt;
	const char *ap = ir_attr_string(n, "auto_pad", "NOTSET");
	if (strcmp(ap, "NOTSET") == 0)
		w->auto_pad = 0;
	else if (strcmp(ap, "VALID") == 0)
		w->auto_pad = 1;
	else if (strcmp(ap, "SAME_UPPER") == 0)
		w->auto_pad = 2;
	else if (strcmp(ap, "SAME_LOWER") == 0)
		w->auto_pad = 3;
	else
		return shp_fail(g, n, "unknown auto_pad '%s'", ap);
	w->ceil_mode = (int)ir_attr_int(n, "ceil_mode", 0);
	for (int i = 0; i < w->nsp; i++) {
		w->s[i] = 1;
		w->d[i] = 1;
		w->pads[i] = w->pads[w->nsp + i] = 0;
	}
	if ((cnt = ir_attr_ints(n, "strides", &v))) {
		if (cnt != w->nsp)
			return shp_fail(g, n, "strides has %d values for %d spatial dims", cnt, w->nsp);
		memcpy(w->s, v, sizeof(int64_t) * (size_t)cnt);
	}
	if ((cnt = ir_attr_ints(n, "dilations", &v))) {
		if (cnt != w->nsp)
			return shp_fail(g, n, "dilations has %d values for %d spatial dims", cnt, w->nsp);
		memcpy(w->d, v, sizeof(int64_t) * (size_t)cnt);
	}
	if ((cnt = ir_attr_ints(n, "pads", &v))) {
		if (cnt != 2 * w->nsp)
			return shp_fail(g, n, "pads has %d values for %d spatial dims", cnt, w->nsp);
		memcpy(w->pads, v, sizeof(int64_t) * (size_t)cnt);
	}
	for (int i = 0; i < w->nsp; i++) {
		if (w->s[i] <= 0 || w->d[i] <= 0)
			return shp_fail(g, n, "strides and dilations must be positive");
		if (w->k[i] == 0 || w->k[i] < -1)
			return shp_fail(g, n, "kernel size %lld is invalid", (long long)w->k[i]);
		if (w->pads[i] < 0 || w->pads[w->nsp + i] < 0)
			return shp_fail(g, n, "negative pads are not supported");
	}
	return ODET_OK;
}

/* Output size of spatial dim i for input size in (-1 = unknown). */
static odet_status window_out(ir_graph *g, const ir_node *n, const window *w, int i, int64_t in,
			      int64_t *out)
{
	int64_t s = w->s[i], ek, num, o;
	*out = -1;
	if (in < 0)
		return ODET_OK;
	if (w->auto_pad >= 2) {
		*out = in / s + (in % s != 0);
		return ODET_OK;
	}
	if (w->k[i] < 0)
		return ODET_OK;
	int64_t pb = w->auto_pad == 1 ? 0 : w->pads[i];
	int64_t pe = w->auto_pad == 1 ? 0 : w->pads[w->nsp + i];
	if (!odet_mul_i64(w->d[i], w->k[i] - 1, &ek) || !odet_add_i64(ek, 1, &ek) ||
	    !odet_add_i64(in, pb, &num) || !odet_add_i64(num, pe, &num))
		return shp_fail(g, n, "spatial size overflows");
	num -= ek;
	if (num < 0)
		return shp_fail(g, n, "kernel extent %lld exceeds padded input size %lld in spatial dim %d",
				(long long)ek, (long long)(num + ek), i);
	o = num / s + 1;
	if (w->ceil_mode && num % s) {
		o++;
		if ((o - 1) * s >= in + pb) /* last window would start in the end padding */
			o--;
	}
	*out = o;
	return ODET_OK;
}

static odet_status check_residual(ir_graph *g, const ir_node *n, const ir_value *y)
{
	const ir_value *r = ir_in(g, n, 3);
	if (!r || r->rank < 0 || y->rank < 0)
		return ODET_OK;
	bool bad = r->rank != y->rank;
	for (int i = 0; !bad && i < r->rank; i++)
		bad = r->dims[i] >= 0 && y->dims[i] >= 0 && r->dims[i] != y->dims[i];
	if (bad) {
		char a[160], b[160];
		return shp_fail(g, n, "residual '%s' has shape %s, output has %s", r->name,
				ir_shape_str(r, a, sizeof a), ir_shape_str(y, b, sizeof b));
	}
	return ODET_OK;
}

/* QConv's dtypes and its scale input (ops.def). */
static odet_status qconv_check(ir_graph *g, ir_node *n, const ir_value *x, const ir_value *w)
{
	const ir_value *b = ir_in(g, n, 2), *r = ir_in(g, n, 3), *a = ir_in(g, n, 4);
	int64_t od = ir_attr_int(n, "odet_out_dtype", -1);
	const odet_dtype q = x->dtype; /* int8, or E4M3 (fp8 engines) */
	if ((q != ODET_I8 && q != ODET_F8E4M3) || w->dtype != q || w->kind != IR_VALUE_CONST)
		return shp_fail(g, n, "input and constant weight must be both int8 or both float8e4m3");
	if (!a || a->kind != IR_VALUE_CONST || a->dtype != ODET_F32 || a->rank != 1 || w->rank < 1 ||
	    a->dims[0] != w->dims[0])
		return shp_fail(g, n, "scale input must be a float32 constant of %lld values",
				(long long)(w->rank >= 1 ? w->dims[0] : -1));
	if (b && b->dtype != ODET_F32)
		return shp_fail(g, n, "bias must be float32");
	if (r && r->dtype != q && r->dtype != ODET_F16 && r->dtype != ODET_F32)
		return shp_fail(g, n, "residual must be %s, float16 or float32", odet_dtype_name(q));
	if (od != q && od != ODET_F16 && od != ODET_F32)
		return shp_fail(g, n, "odet_out_dtype must be %s, float16 or float32", odet_dtype_name(q));
	if (ir_attr_int(n, "group", 1) != 1)
		return shp_fail(g, n, "group must be 1");
	return ODET_OK;
}

static odet_status conv_nchw(ir_graph *g, ir_node *n)
{
	ir_value *x, *w;
	char a[160], b[160];
	const bool q = n->op == IR_OP_QCONV;
	odet_status rc = shp_check_io(g, n, q ? 5 : 2, q ? 5 : 4, 1, 1);
	if (!rc)
		rc = shp_need_in(g, n, 0, &x);
	if (!rc)
		rc = shp_need_in(g, n, 1, &w);
	if (!rc && q)
		rc = qconv_check(g, n, x, w);
	if (rc)
		return rc;
	ir_value *bias = ir_in(g, n, 2), *y = ir_out(g, n, 0);
	odet_dtype ydt = q ? (odet_dtype)ir_attr_int(n, "odet_out_dtype", ODET_F32) : x->dtype;
	int rank = x->rank >= 0 ? x->rank : w->rank;
	if (x->rank >= 0 && w->rank >= 0 && x->rank != w->rank)
		return shp_fail(g, n, "input %s and weight %s differ in rank", ir_shape_str(x, a, sizeof a),
				ir_shape_str(w, b, sizeof b));
	if (rank >= 0 && rank < 3)
		return shp_fail(g, n, "input must have rank >= 3, got %d", rank);
	int64_t group = ir_attr_int(n, "group", 1);
	if (group <= 0)
		return shp_fail(g, n, "group must be positive");
	int64_t m = w->rank >= 0 ? w->dims[0] : -1;
	if (x->rank >= 0 && w->rank >= 0 && x->dims[1] >= 0 && w->dims[1] >= 0) {
		int64_t c;
		if (!odet_mul_i64(w->dims[1], group, &c) || c != x->dims[1])
			return shp_fail(g, n, "input %s has %lld channels, weight %s with group %lld expects %lld",
					ir_shape_str(x, a, sizeof a), (long long)x->dims[1],
					ir_shape_str(w, b, sizeof b), (long long)group, (long long)c);
	}
	if (m >= 0 && m % group)
		return shp_fail(g, n, "%lld output channels not divisible by group %lld", (long long)m,
				(long long)group);
	if (bias && bias->rank >= 0 && (bias->rank != 1 || (m >= 0 && bias->dims[0] >= 0 && bias->dims[0] != m)))
		return shp_fail(g, n, "bias %s does not match %lld output channels",
				ir_shape_str(bias, a, sizeof a), (long long)m);
	if (!y)
		return ODET_OK;
	if (rank < 0)
		return shp_out_begin(g, n, y, ydt, -1);
	window win = {.nsp = rank - 2};
	const int64_t *ks;
	int nk = ir_attr_ints(n, "kernel_shape", &ks);
	if (nk && nk != win.nsp)
		return shp_fail(g, n, "kernel_shape has %d values for %d spatial dims", nk, win.nsp);
	for (int i = 0; i < win.nsp; i++) {
		win.k[i] = nk ? ks[i] : (w->rank >= 0 ? w->dims[2 + i] : -1);
		if (nk && w->rank >= 0 && w->dims[2 + i] >= 0 && w->dims[2 + i] != ks[i])
			return shp_fail(g, n, "kernel_shape disagrees with weight %s",
					ir_shape_str(w, a, sizeof a));
	}
	if ((rc = window_attrs(g, n, &win)))
		return rc;
	int64_t od[ODET_MAX_RANK];
	for (int i = 0; i < win.nsp; i++)
		if ((rc = window_out(g, n, &win, i, x->rank >= 0 ? x->dims[2 + i] : -1, &od[i])))
			return rc;
	if ((rc = shp_out_begin(g, n, y, ydt, rank)))
		return rc;
	if (x->rank >= 0 && (rc = shp_out_dim(g, y, 0, x->dims[0], x->sym[0])))
		return rc;
	y->dims[1] = m;
	for (int i = 0; i < win.nsp; i++)
		y->dims[2 + i] = od[i];
	return check_residual(g, n, y);
}

static odet_status pool(ir_graph *g, ir_node *n, int max_out)
{
	ir_value *x;
	odet_status rc = shp_check_io(g, n, 1, 1, 1, max_out);
	if (!rc)
		rc = shp_need_in(g, n, 0, &x);
	if (rc)
		return rc;
	const int64_t *ks;
	int nk = ir_attr_ints(n, "kernel_shape", &ks);
	if (!nk)
		return shp_fail(g, n, "attribute kernel_shape is required");
	if (x->rank >= 0 && x->rank != nk + 2)
		return shp_fail(g, n, "kernel_shape has %d values for input of rank %d", nk, x->rank);
	window win = {.nsp = nk};
	if (nk > ODET_MAX_RANK - 2)
		return shp_fail(g, n, "kernel_shape has too many values");
	memcpy(win.k, ks, sizeof(int64_t) * (size_t)nk);
	if ((rc = window_attrs(g, n, &win)))
		return rc;
	int64_t od[ODET_MAX_RANK];
	for (int i = 0; i < nk; i++)
		if ((rc = window_out(g, n, &win, i, x->rank >= 0 ? x->dims[2 + i] : -1, &od[i])))
			return rc;
	for (int k = 0; k < n->n_out; k++) {
		ir_value *y = ir_out(g, n, k);
		if (!y)
			continue;
		if ((rc = shp_out_begin(g, n, y, k ? ODET_I64 : x->dtype, nk + 2)))
			return rc;
		if (x->rank >= 0) {
			if ((rc = shp_out_dim(g, y, 0, x->dims[0], x->sym[0])) ||
			    (rc = shp_out_dim(g, y, 1, x->dims[1], x->sym[1])))
				return rc;
		}
		for (int i = 0; i < nk; i++)
			y->dims[2 + i] = od[i];
	}
	return ODET_OK;
}

static odet_status maxpool_nchw(ir_graph *g, ir_node *n)
{
	return pool(g, n, 2);
}

static odet_status avgpool_nchw(ir_graph *g, ir_node *n)
{
	return pool(g, n, 1);
}

/* odet_nhwc = 1 (passes/layout.c, CUDA): X, the residual and Y are [N,H,W,C] and Conv's W is
 * [M,kh,kw,C/g]. The NCHW shape function runs on permuted views of the 4-D operands. */
static void permute4(ir_value *v, const int p[4])
{
	int64_t d[4];
	for (int i = 0; i < 4; i++)
		d[i] = v->dims[p[i]];
	memcpy(v->dims, d, sizeof d);
}

static odet_status nhwc_shape(ir_graph *g, ir_node *n, odet_status (*fn)(ir_graph *, ir_node *))
{
	static const int to_nchw[4] = {0, 3, 1, 2}, to_nhwc[4] = {0, 2, 3, 1};
	ir_value *v[4] = {NULL, NULL, NULL, NULL};
	for (int k = 0; k < 4; k++) {
		if (k == 2 || (k == 1 && n->op != IR_OP_CONV && n->op != IR_OP_QCONV))
			continue;
		ir_value *x = ir_in(g, n, k);
		if (!x || x->rank != 4)
			continue;
		if (k == 3 && x == v[0])
			continue;
		v[k] = x;
		permute4(x, to_nchw);
	}
	if (!v[0]) {
		if (ir_in(g, n, 0) && ir_in(g, n, 0)->rank >= 0)
			return shp_fail(g, n, "odet_nhwc needs a 4-D input");
	}
	odet_status rc = fn(g, n);
	for (int k = 0; k < 4; k++)
		if (v[k])
			permute4(v[k], to_nhwc);
	ir_value *y = ir_out(g, n, 0);
	if (!rc && y && y->rank == 4)
		permute4(y, to_nhwc);
	return rc;
}

odet_status ir_shape_CONV(ir_graph *g, ir_node *n)
{
	return ir_attr_int(n, "odet_nhwc", 0) ? nhwc_shape(g, n, conv_nchw) : conv_nchw(g, n);
}

odet_status ir_shape_QCONV(ir_graph *g, ir_node *n)
{
	return ir_shape_CONV(g, n);
}

odet_status ir_shape_MAXPOOL(ir_graph *g, ir_node *n)
{
	return ir_attr_int(n, "odet_nhwc", 0) ? nhwc_shape(g, n, maxpool_nchw) : maxpool_nchw(g, n);
}

odet_status ir_shape_AVGPOOL(ir_graph *g, ir_node *n)
{
	return ir_attr_int(n, "odet_nhwc", 0) ? nhwc_shape(g, n, avgpool_nchw) : avgpool_nchw(g, n);
}

odet_status ir_shape_GLOBALAVGPOOL(ir_graph *g, ir_node *n)
{
	ir_value *x;
	odet_status rc = shp_check_io(g, n, 1, 1, 1, 1);
	if (!rc)
		rc = shp_need_in(g, n, 0, &x);
	if (rc)
		return rc;
	ir_value *y = ir_out(g, n, 0);
	if (x->rank >= 0 && x->rank < 2)
		return shp_fail(g, n, "input must have rank >= 2, got %d", x->rank);
	if ((rc = shp_out_like(g, n, y, x, 0)))
		return rc;
	for (int i = 2; i < y->rank; i++)
		y->dims[i] = 1;
	return ODET_OK;
}

odet_status ir_shape_BATCHNORM(ir_graph *g, ir_node *n)
{
	ir_value *x;
	odet_status rc = shp_check_io(g, n, 5, 5, 1, 3);
	if (!rc)
		rc = shp_need_in(g, n, 0, &x);
	if (rc)
		return rc;
	if (x->rank >= 0 && x->rank < 2)
		return shp_fail(g, n, "input must have rank >= 2, got %d", x->rank);
	int64_t c = x->rank >= 0 ? x->dims[1] : -1;
	for (int i = 1; i < 5; i++) {
		ir_value *p;
		char a[160];
		if ((rc = shp_need_in(g, n, i, &p)))
			return rc;
		if (p->rank >= 0 && (p->rank != 1 || (c >= 0 && p->dims[0] >= 0 && p->dims[0] != c)))
			return shp_fail(g, n, "parameter '%s' has shape %s, expected [%lld]", p->name,
					ir_shape_str(p, a, sizeof a), (long long)c);
		if (c < 0 && p->rank == 1)
			c = p->dims[0];
	}
	if ((rc = shp_out_like(g, n, ir_out(g, n, 0), x, 0)))
		return rc;
	for (int k = 1; k < n->n_out; k++) {
		ir_value *o = ir_out(g, n, k);
		if (o && (rc = shp_out_begin(g, n, o, ir_in(g, n, 1)->dtype, 1)))
			return rc;
		if (o)
			o->dims[0] = c;
	}
	return ODET_OK;
}

odet_status ir_shape_GEMM(ir_graph *g, ir_node *n)
{
	ir_value *a, *b;
	char sa[160], sb[160];
	odet_status rc = shp_check_io(g, n, 2, 3, 1, 1);
	if (!rc)
		rc = shp_need_in(g, n, 0, &a);
	if (!rc)
		rc = shp_need_in(g, n, 1, &b);
	if (rc)
		return rc;
	if ((a->rank >= 0 && a->rank != 2) || (b->rank >= 0 && b->rank != 2))
		return shp_fail(g, n, "inputs must be 2-D, got %s and %s", ir_shape_str(a, sa, sizeof sa),
				ir_shape_str(b, sb, sizeof sb));
	int ta = ir_attr_int(n, "transA", 0) != 0, tb = ir_attr_int(n, "transB", 0) != 0;
	int64_t m = a->rank == 2 ? a->dims[ta] : -1, ka = a->rank == 2 ? a->dims[1 - ta] : -1;
	int64_t kb = b->rank == 2 ? b->dims[tb] : -1, nn = b->rank == 2 ? b->dims[1 - tb] : -1;
	if (ka >= 0 && kb >= 0 && ka != kb)
		return shp_fail(g, n, "inner dims differ: %s and %s (transA %d, transB %d)",
				ir_shape_str(a, sa, sizeof sa), ir_shape_str(b, sb, sizeof sb), ta, tb);
	ir_value *c = ir_in(g, n, 2), *y = ir_out(g, n, 0);
	if (c && c->rank >= 0) {
		int64_t mn[2] = {m, nn};
		if (c->rank > 2)
			return shp_fail(g, n, "C has rank %d", c->rank);
		for (int i = 0; i < c->rank; i++) {
			int64_t d = c->dims[i], t = mn[2 - c->rank + i];
			if (d >= 0 && d != 1 && t >= 0 && d != t)
				return shp_fail(g, n, "C %s does not broadcast to [%lld,%lld]",
						ir_shape_str(c, sa, sizeof sa), (long long)m, (long long)nn);
		}
	}
	if ((rc = shp_out_begin(g, n, y, a->dtype, 2)))
		return rc;
	if (a->rank == 2 && (rc = shp_out_dim(g, y, 0, m, a->sym[ta])))
		return rc;
	y->dims[1] = nn;
	return ODET_OK;
}

odet_status ir_shape_MATMUL(ir_graph *g, ir_node *n)
{
	ir_value *a, *b;
	char sa[160], sb[160];
	odet_status rc = shp_check_io(g, n, 2, 2, 1, 1);
	if (!rc)
		rc = shp_need_in(g, n, 0, &a);
	if (!rc)
		rc = shp_need_in(g, n, 1, &b);
	if (rc)
		return rc;
	ir_value *y = ir_out(g, n, 0);
	if (a->rank < 0 || b->rank < 0)
		return shp_out_begin(g, n, y, a->dtype, -1);
	if (a->rank == 0 || b->rank == 0)
		return shp_fail(g, n, "operands must have rank >= 1");
	/* promoted operand shapes */
	int ra = a->rank < 2 ? 2 : a->rank, rb = b->rank < 2 ? 2 : b->rank;
	int64_t da[ODET_MAX_RANK], db[ODET_MAX_RANK];
	if (a->rank == 1) {
		da[0] = 1;
		da[1] = a->dims[0];
	} else {
		memcpy(da, a->dims, sizeof(int64_t) * (size_t)ra);
	}
	if (b->rank == 1) {
		db[0] = b->dims[0];
		db[1] = 1;
	} else {
		memcpy(db, b->dims, sizeof(int64_t) * (size_t)rb);
	}
	int64_t k1 = da[ra - 1], k2 = db[rb - 2];
	if (k1 >= 0 && k2 >= 0 && k1 != k2)
		return shp_fail(g, n, "inner dims of %s and %s differ", ir_shape_str(a, sa, sizeof sa),
				ir_shape_str(b, sb, sizeof sb));
	int rbatch = (ra > rb ? ra : rb) - 2;
	int64_t od[ODET_MAX_RANK];
	const char *osym[ODET_MAX_RANK] = {0};
	for (int i = 0; i < rbatch; i++) {
		int ia = i - (rbatch - (ra - 2)), ib = i - (rbatch - (rb - 2));
		int64_t x = ia >= 0 ? da[ia] : 1, z = ib >= 0 ? db[ib] : 1;
		const char *sx = ia >= 0 && a->rank > 1 ? a->sym[ia] : NULL;
		const char *sz = ib >= 0 && b->rank > 1 ? b->sym[ib] : NULL;
		if (x == 1) {
			od[i] = z;
			osym[i] = sz;
		} else if (z == 1) {
			od[i] = x;
			osym[i] = sx;
		} else if (x < 0 || z < 0) {
			od[i] = x < 0 ? z : x;
			osym[i] = x < 0 && z < 0 ? sx : NULL;
		} else if (x != z) {
			return shp_fail(g, n, "batch dims of %s and %s do not broadcast",
					ir_shape_str(a, sa, sizeof sa), ir_shape_str(b, sb, sizeof sb));
		} else {
			od[i] = x;
		}
	}
	int r = rbatch;
	od[r++] = da[ra - 2];
	od[r++] = db[rb - 1];
	if (a->rank == 1) {
		od[r - 2] = od[r - 1];
		r--;
	}
	if (b->rank == 1)
		r--;
	if ((rc = shp_out_begin(g, n, y, a->dtype, r)))
		return rc;
	for (int i = 0; i < r; i++)
		if ((rc = shp_out_dim(g, y, i, od[i], i < rbatch ? osym[i] : NULL)))
			return rc;
	return ODET_OK;
}
