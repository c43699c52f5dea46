/*
 * lbox_cases.h — the cases both letterbox hook tests use (test_cpu_letterbox: the CPU hook vs
 * io_letterbox; test_cuda_letterbox: the CUDA hook vs the CPU's): six seeded images of 1x1,
 * 7x3, 640x480, 480x640, 300x300 and 101x57 whose rows have a pitch above 3 * w (padding bytes
 * random too), three destinations, two normalizations, and a batch's descriptors.
 */
#ifndef ODET_TEST_LBOX_CASES_H
#define ODET_TEST_LBOX_CASES_H

#include "backend/backend.h"
#include "io/image.h"

#include <stdlib.h>

#define N_IMAGES 6
#define BATCH 8

typedef struct lbox_image {
	int w, h;
	int64_t pitch;
	uint8_t *rows; /* h * pitch bytes */
} lbox_image;

/* w, h, pitch */
static const int lbox_sizes[N_IMAGES][3] = {
	{1, 1, 3}, {7, 3, 21}, {640, 480, 1920}, {480, 640, 1440}, {300, 300, 900}, {101, 57, 3 * 101 + 29},
};
/* destinations: h, w */
static const int lbox_dsts[3][2] = {{300, 300}, {512, 512}, {416, 320}};

/* ImageNet normalization of 0..255 pixels, and one that drives U8 outputs past both ends */
static const float SCALE_NORM[3] = {0.0171247539f, 0.0175070028f, 0.0174291939f};
static const float BIAS_NORM[3] = {-2.1179039f, -2.0357143f, -1.8044444f};
static const float SCALE_U8[3] = {1.0f, 0.7f, 1.3f};
static const float BIAS_U8[3] = {0.0f, 20.25f, -30.5f};

static inline size_t dtype_size(odet_dtype t)
{
	return t == ODET_F32 ? 4 : t == ODET_F16 ? 2 : 1;
}

/* The six images, every byte of their rows from one seeded generator. */
static inline void lbox_images_make(lbox_image *ims)
{
	unsigned rng = 20240611u;
	for (int i = 0; i < N_IMAGES; i++) {
		lbox_image *t = &ims[i];
		t->w = lbox_sizes[i][0];
		t->h = lbox_sizes[i][1];
		t->pitch = lbox_sizes[i][2];
		t->rows = malloc((size_t)(t->h * t->pitch));
		for (int64_t k = 0; k < t->h * t->pitch; k++) {
			rng = rng * 1664525u + 1013904223u;
			t->rows[k] = (uint8_t)(rng >> 8);
		}
	}
}

static inline void lbox_images_free(lbox_image *ims)
{
	for (int i = 0; i < N_IMAGES; i++)
		free(ims[i].rows);
}

/* Descriptors of the six images (pixels at their host rows) for a dh x dw destination. */
static inline void lbox_describe(const lbox_image *ims, int dh, int dw, be_lbox_image *d)
{
	for (int i = 0; i < N_IMAGES; i++) {
		io_lbox_geom g;
		io_letterbox_geom(ims[i].w, ims[i].h, dw, dh, &g);
		d[i] = (be_lbox_image){.rgb = ims[i].rows, .pitch = ims[i].pitch, .w = ims[i].w, .h = ims[i].h,
				       .rw = g.rw, .rh = g.rh, .px = g.px, .py = g.py};
	}
}

#endif
