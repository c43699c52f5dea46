/*
 * conv_direct.h — odet's own convolution kernels, timed by conv.cu's tuning against cuDNN's
 * algorithms and operation graphs and chosen when faster (conv_direct.cu).
 */
#ifndef ODET_CUDA_CONV_DIRECT_H
#define ODET_CUDA_CONV_DIRECT_H

#include "backend/cuda/conv_graph.h"

typedef struct conv_direct {
	int n, h, w;  /* input (= output) batch and spatial size */
	cuda_act act; /* none, ReLU, LeakyReLU or Clip */
} conv_direct;

/* The shape a direct kernel covers: float16 NHWC, group 1, 4 input channels (the padded image
 * stem), 3x3, stride 1, dilation 1, pads 1, 64 outputs, optional bias, no residual, activation
 * none / ReLU / LeakyReLU / Clip (SSD300-VGG16's first conv). */
bool conv_direct_supports(const conv_graph_desc *d, odet_dtype dt, int group);
void conv_direct_init(const conv_graph_desc *d, conv_direct *k);
/* y = act(conv(x, w) + b) on `stream`; b may be NULL. */
odet_status conv_direct_launch(const conv_direct *k, const void *x, const void *w, const void *b, void *y,
			       void *stream);

#endif
