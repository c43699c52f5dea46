/*
 * calib.c — activation histograms and the minmax / percentile / entropy calibrators
 * (quant.h).
 */
#include "quant/quant.h"

#include <math.h>
#include <string.h>

void quant_hist_init(quant_hist *h)
{
	memset(h, 0, sizeof *h);
}

/* Double the range until it covers m, merging bins pairwise each time. */
static void grow(quant_hist *h, double m)
{
	while (h->range < m) {
		for (int i = 0; i < QUANT_BINS / 2; i++)
			h->bins[i] = h->bins[2 * i] + h->bins[2 * i + 1];
		memset(h->bins + QUANT_BINS / 2, 0, sizeof(int64_t) * (QUANT_BINS / 2));
		h->range *= 2;
	}
}

void quant_hist_add(quant_hist *h, const float *x, int64_t n)
{
	double m = 0;
	for (int64_t i = 0; i < n; i++) {
		double a = fabs((double)x[i]);
		if (a > m && isfinite(a))
			m = a;
	}
	if (m > h->amax)
		h->amax = m;
	if (h->range == 0 && m > 0)
		h->range = exp2(ceil(log2(m))) * (1 + 1e-9);
	if (m > h->range)
		grow(h, m);
	h->count += n;
	if (h->range == 0) { /* all zeros so far */
		h->bins[0] += n;
		return;
	}
	const double k = QUANT_BINS / h->range;
	for (int64_t i = 0; i < n; i++) {
		double a = fabs((double)x[i]);
		if (!isfinite(a)) {
			h->nonfinite++;
			continue;
		}
		int b = (int)(a * k);
		h->bins[b < QUANT_BINS ? b : QUANT_BINS - 1]++;
	}
}

static double percentile_amax(const quant_hist *h, double p)
{
	int64_t total = 0;
	for (int i = 0; i < QUANT_BINS; i++)
		total += h->bins[i];
	double want = total * (p / 100.0), cum = 0;
	for (int i = 0; i < QUANT_BINS; i++) {
		cum += (double)h->bins[i];
		if (cum >= want) {
			double edge = (i + 1) * (h->range / QUANT_BINS);
			return edge < h->amax ? edge : h->amax;
		}
	}
	return h->amax;
}

/* KL(P || Q) of two unnormalized distributions over n bins (Q > 0 wherever P > 0). */
static double kl(const double *p, const double *q, int n)
{
	double sp = 0, sq = 0, d = 0;
	for (int i = 0; i < n; i++) {
		sp += p[i];
		sq += q[i];
	}
	if (sp <= 0 || sq <= 0)
		return INFINITY;
	for (int i = 0; i < n; i++)
		if (p[i] > 0)
			d += (p[i] / sp) * log((p[i] / sp) / (q[i] / sq));
	return d;
}

static double entropy_amax(const quant_hist *h)
{
	enum { LEVELS = 128 };
	double pbuf[QUANT_BINS], qbuf[QUANT_BINS];
	int last = QUANT_BINS - 1;
	while (last > 0 && h->bins[last] == 0)
		last--;
	if (last < LEVELS) /* the whole histogram fits 128 levels: nothing to clip */
		return h->amax;
	double best = INFINITY;
	int best_i = last + 1;
	double outliers_total = 0;
	for (int j = 0; j < QUANT_BINS; j++)
		outliers_total += (double)h->bins[j];
	double inside = 0;
	for (int j = 0; j < LEVELS; j++)
		inside += (double)h->bins[j];
	for (int i = LEVELS; i <= last + 1 && i <= QUANT_BINS; i++) {
		if (i > LEVELS)
			inside += (double)h->bins[i - 1];
		for (int j = 0; j < i; j++)
			pbuf[j] = (double)h->bins[j];
		pbuf[i - 1] += outliers_total - inside; /* clipped values land in the last bin */
		/* Q: merge the i bins into LEVELS groups, spread each group's mass over its
		 * non-empty bins */
		for (int l = 0; l < LEVELS; l++) {
			int a = (int)((int64_t)l * i / LEVELS), b = (int)((int64_t)(l + 1) * i / LEVELS);
			double mass = 0;
			int nz = 0;
			for (int j = a; j < b; j++) {
				mass += (double)h->bins[j];
				nz += h->bins[j] != 0;
			}
			for (int j = a; j < b; j++)
				qbuf[j] = h->bins[j] != 0 ? mass / nz : 0;
		}
		/* the outliers folded into P's last bin make it non-empty even when the bin was */
		if (qbuf[i - 1] == 0 && pbuf[i - 1] > 0)
			qbuf[i - 1] = 1e-12;
		double d = kl(pbuf, qbuf, i);
		if (d < best) {
			best = d;
			best_i = i;
		}
	}
	double edge = best_i * (h->range / QUANT_BINS);
	return edge < h->amax ? edge : h->amax;
}

double quant_hist_amax(const quant_hist *h, odet_calibrator c, double percentile)
{
	if (h->amax <= 0 || h->range <= 0)
		return 0;
	switch (c) {
	case ODET_CALIB_MINMAX: return h->amax;
	case ODET_CALIB_PERCENTILE: return percentile_amax(h, percentile);
	case ODET_CALIB_ENTROPY: return entropy_amax(h);
	}
	return h->amax;
}

static const char *const calib_names[] = {"entropy", "percentile", "minmax"};

const char *quant_calibrator_name(odet_calibrator c)
{
	return (unsigned)c < 3 ? calib_names[c] : "unknown";
}

bool quant_calibrator_parse(const char *s, odet_calibrator *c)
{
	for (int i = 0; i < 3; i++)
		if (s && !strcmp(s, calib_names[i])) {
			*c = (odet_calibrator)i;
			return true;
		}
	return false;
}
