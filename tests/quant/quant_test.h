/* quant_test.h — helpers of the C tests of tests/quant (test_quant.c, test_sensitivity.c): their
 * random numbers, small files and convolution nodes, written once. */
#ifndef ODET_TEST_QUANT_TEST_H
#define ODET_TEST_QUANT_TEST_H

#include "graph_build.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Uniform in [-1, 1) from the linear congruential generator whose state is *s (each test keeps
 * its own seed, so its data stays what its thresholds were set on). */
static inline float qt_frand(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return (float)((*s >> 8) * (1.0 / 8388608.0)) - 1.0f;
}

static inline void qt_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	fputs(text, f);
	fclose(f);
}

/* A k x k convolution node `name` (pads 1) reading value x: m output and c input channels, the
 * weights w [m][c][k][k] and bias b copied into the constants name_w and name_b, act its fused
 * activation (odet_act), res a residual input value (-1: none). Returns its output value. */
static inline int qt_conv_node(ir_graph *g, const char *name, int x, int m, int c, int k, const float *w,
			       const float *b, int act, int res)
{
	int64_t wd[4] = {m, c, k, k}, bd[1] = {m}, pads[4] = {1, 1, 1, 1};
	float *wc = malloc(sizeof(float) * m * c * k * k), *bc = malloc(sizeof(float) * m);
	memcpy(wc, w, sizeof(float) * m * c * k * k);
	memcpy(bc, b, sizeof(float) * m);
	char n1[64], n2[64];
	snprintf(n1, sizeof n1, "%s_w", name);
	snprintf(n2, sizeof n2, "%s_b", name);
	int wv = ir_const_add(g, n1, ODET_F32, 4, wd, wc), bv = ir_const_add(g, n2, ODET_F32, 1, bd, bc);
	int y = test_graph_value(g, name), in[4] = {x, wv, bv, res};
	int node = ir_node_add(g, IR_OP_CONV, name, res >= 0 ? 4 : 3, in, 1, &y);
	ir_attr_set_ints(g, node, "pads", pads, 4);
	ir_attr_set_int(g, node, "odet_act", act);
	return y;
}

#endif
