/*
 * quant.h — post-training quantization: activation histograms, the three calibrators, the
 * calibration cache file and the model hash that ties a cache to its model.
 *
 * Values are symmetric, per tensor: a tensor's calibrated range is one number, amax; INT8 uses
 * scale = amax / 127 (q = round(x / scale), saturated), FP8 E4M3 scale = amax / 448. Weights are
 * not calibrated here: the quantize pass takes their per-output-channel amax directly.
 *
 * Histogram: 2048 bins of |x| over [0, range). The range starts at the first batch's max |x|
 * (rounded up to a power of two) and doubles, merging bins pairwise, whenever a later value
 * exceeds it, so one pass over the calibration images suffices (TensorRT runs two).
 * Calibrators:
 *   minmax      amax = the largest |x| seen
 *   percentile  amax = the upper edge of the bin where the cumulative count reaches p% (99.99)
 *   entropy     TensorRT's KL-divergence search: for every threshold bin i in [128, 2048), the
 *               reference P = hist[0..i) with the outliers folded into bin i-1, Q = P merged into
 *               128 levels and expanded back over P's non-empty bins; amax = the edge of the i
 *               with the smallest KL(P || Q)
 */
#ifndef ODET_QUANT_H
#define ODET_QUANT_H

#include "core/core.h"

#define QUANT_BINS 2048

typedef struct quant_hist {
	double range;   /* upper edge of the last bin; 0 until the first non-zero value */
	double amax;    /* largest |x| seen */
	int64_t count;  /* values added */
	int64_t nonfinite; /* NaN / inf values (not binned) */
	int64_t bins[QUANT_BINS];
} quant_hist;

void quant_hist_init(quant_hist *h);
void quant_hist_add(quant_hist *h, const float *x, int64_t n);
/* amax by the calibrator (percentile in (0, 100], used by ODET_CALIB_PERCENTILE). 0 when the
 * tensor was all zeros. */
double quant_hist_amax(const quant_hist *h, odet_calibrator c, double percentile);
const char *quant_calibrator_name(odet_calibrator c);
bool quant_calibrator_parse(const char *s, odet_calibrator *c);

/* A calibration table: value name -> amax, sorted by name. */
typedef struct quant_table {
	int n;
	char **name;
	double *amax;
	uint64_t model_hash;
	odet_calibrator calibrator;
	double percentile;
	int64_t images;
	/* per-layer sensitivity (optional): SNR in dB of conv node snr_node[i]'s output with its
	 * input and weights quantized, against fp32 (engine/calib_snr.c) */
	int n_snr;
	char **snr_node;
	double *snr_db;
} quant_table;

void quant_table_free(quant_table *t);
/* amax of `name`, or -1 when the table has none. */
double quant_table_get(const quant_table *t, const char *name);
/* Add (names copied); sorting happens in quant_table_sort. */
odet_status quant_table_add(odet_ctx *ctx, quant_table *t, const char *name, double amax);
void quant_table_sort(quant_table *t);
/* Add a layer's SNR (name copied; dB finite, within +-QUANT_SNR_MAX); a node twice is refused. */
#define QUANT_SNR_MAX 200.0
odet_status quant_table_add_snr(odet_ctx *ctx, quant_table *t, const char *node, double db);
/* The SNR entries ordered lowest first (ties by name), in place. */
void quant_table_sort_snr(quant_table *t);

/* Text file (docs/quantization.md):
 *   odet-calibration 1
 *   model <16 hex digits>
 *   calibrator entropy|percentile|minmax
 *   percentile <p>
 *   images <n>
 *   amax <value> <tensor name to the end of the line>      (one per tensor)
 *   snr <dB> <conv node name to the end of the line>      (optional, one per layer, lowest first)
 * Written atomically. Reading checks every line; names are unique; amax finite and >= 0; snr
 * finite in [-200, 200]. Caches without snr lines load (n_snr = 0). */
odet_status quant_table_save(odet_ctx *ctx, const quant_table *t, const char *path);
odet_status quant_table_load(odet_ctx *ctx, const char *path, quant_table *t);

/* Hash of an imported graph: ops, names, wiring, shapes, dtypes and constant bytes (FNV-1a 64). */
uint64_t quant_graph_hash(const odet_graph *g);

#endif
