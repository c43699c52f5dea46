/*
 * cache.c — the calibration table, its text file and the model hash (quant.h).
 */
#include "quant/quant.h"

#include "graph/ir.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CALIB_MAGIC "odet-calibration 1"
#define CALIB_MAX_BYTES ((size_t)64 << 20)

void quant_table_free(quant_table *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->n; i++)
		free(t->name[i]);
	free(t->name);
	free(t->amax);
	for (int i = 0; i < t->n_snr; i++)
		free(t->snr_node[i]);
	free(t->snr_node);
	free(t->snr_db);
	memset(t, 0, sizeof *t);
}

typedef struct named_amax {
	char *name;
	double amax;
} named_amax;

static int by_name(const void *a, const void *b)
{
	return strcmp(((const named_amax *)a)->name, ((const named_amax *)b)->name);
}

void quant_table_sort(quant_table *t)
{
	/* sort (name, amax) pairs together: O(n log n) */
	if (t->n < 2)
		return;
	named_amax *p = malloc(sizeof *p * (size_t)t->n);
	if (!p)
		return; /* unsorted: quant_table_get falls back to a linear search */
	for (int i = 0; i < t->n; i++)
		p[i] = (named_amax){t->name[i], t->amax[i]};
	qsort(p, (size_t)t->n, sizeof *p, by_name);
	for (int i = 0; i < t->n; i++) {
		t->name[i] = p[i].name;
		t->amax[i] = p[i].amax;
	}
	free(p);
}

double quant_table_get(const quant_table *t, const char *name)
{
	if (!t || !name)
		return -1;
	int lo = 0, hi = t->n - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2, c = strcmp(t->name[mid], name);
		if (!c)
			return t->amax[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	for (int i = 0; i < t->n; i++) /* not sorted (sorting ran out of memory) */
		if (!strcmp(t->name[i], name))
			return t->amax[i];
	return -1;
}

static bool name_ok(const char *name);

odet_status quant_table_add(odet_ctx *ctx, quant_table *t, const char *name, double amax)
{
	if (!name_ok(name) || !isfinite(amax) || amax < 0)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "calibration: bad entry for tensor '%s'", name ? name : "");
	char **nn = realloc(t->name, sizeof(char *) * ((size_t)t->n + 1));
	if (!nn)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "calibration table: out of memory");
	t->name = nn;
	double *na = realloc(t->amax, sizeof(double) * ((size_t)t->n + 1));
	if (!na)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "calibration table: out of memory");
	t->amax = na;
	if (!(t->name[t->n] = strdup(name)))
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "calibration table: out of memory");
	t->amax[t->n++] = amax;
	return ODET_OK;
}

static bool name_ok(const char *name)
{
	bool ctl = false; /* control characters would not survive a save and load (line ends, \r) */
	for (const unsigned char *c = (const unsigned char *)name; name && *c && !ctl; c++)
		ctl = *c < 0x20 || *c == 0x7f;
	return name && *name && !ctl && strlen(name) <= ODET_LIMIT_MAX_NAME;
}

odet_status quant_table_add_snr(odet_ctx *ctx, quant_table *t, const char *node, double db)
{
	if (!name_ok(node) || !isfinite(db) || fabs(db) > QUANT_SNR_MAX)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "calibration: bad SNR entry for node '%s'", node ? node : "");
	for (int i = 0; i < t->n_snr; i++)
		if (!strcmp(t->snr_node[i], node))
			return odet_error(ctx, ODET_ERR_BAD_INPUT, "calibration: SNR of node '%s' given twice", node);
	char **nn = realloc(t->snr_node, sizeof(char *) * ((size_t)t->n_snr + 1));
	if (!nn)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "calibration table: out of memory");
	t->snr_node = nn;
	double *nd = realloc(t->snr_db, sizeof(double) * ((size_t)t->n_snr + 1));
	if (!nd)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "calibration table: out of memory");
	t->snr_db = nd;
	if (!(t->snr_node[t->n_snr] = strdup(node)))
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "calibration table: out of memory");
	t->snr_db[t->n_snr++] = db;
	return ODET_OK;
}

static int by_snr(const void *a, const void *b)
{
	const named_amax *x = a, *y = b;
	return x->amax < y->amax ? -1 : x->amax > y->amax ? 1 : strcmp(x->name, y->name);
}

void quant_table_sort_snr(quant_table *t)
{
	if (t->n_snr < 2)
		return;
	named_amax *p = malloc(sizeof *p * (size_t)t->n_snr);
	if (!p)
		return;
	for (int i = 0; i < t->n_snr; i++)
		p[i] = (named_amax){t->snr_node[i], t->snr_db[i]};
	qsort(p, (size_t)t->n_snr, sizeof *p, by_snr);
	for (int i = 0; i < t->n_snr; i++) {
		t->snr_node[i] = p[i].name;
		t->snr_db[i] = p[i].amax;
	}
	free(p);
}

odet_status quant_table_save(odet_ctx *ctx, const quant_table *t, const char *path)
{
	size_t cap = 256;
	for (int i = 0; i < t->n; i++)
		cap += strlen(t->name[i]) + 40;
	for (int i = 0; i < t->n_snr; i++)
		cap += strlen(t->snr_node[i]) + 40;
	char *buf = malloc(cap);
	if (!buf)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "%s: out of memory", path);
	const double pct = t->percentile > 0 && t->percentile <= 100 ? t->percentile : 99.99; /* as the loader's default */
	size_t len = (size_t)snprintf(buf, cap, "%s\nmodel %016llx\ncalibrator %s\npercentile %.6g\nimages %lld\n",
				      CALIB_MAGIC, (unsigned long long)t->model_hash, quant_calibrator_name(t->calibrator),
				      pct, (long long)t->images);
	for (int i = 0; i < t->n && len < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "amax %.9g %s\n", t->amax[i], t->name[i]);
	for (int i = 0; i < t->n_snr && len < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "snr %.4f %s\n", t->snr_db[i], t->snr_node[i]);
	odet_status rc = len < cap ? odet_file_write_atomic(ctx, path, buf, len)
				   : odet_error(ctx, ODET_ERR_INTERNAL, "%s: calibration text overflow", path);
	free(buf);
	return rc;
}

/* Next line of [*p, end) as a NUL-terminated string (the newline replaced); NULL at the end. */
static char *next_line(char **p, char *end)
{
	if (*p >= end)
		return NULL;
	char *s = *p, *nl = memchr(s, '\n', (size_t)(end - s));
	if (nl) {
		*nl = 0;
		*p = nl + 1;
	} else {
		*p = end;
	}
	return s;
}

odet_status quant_table_load(odet_ctx *ctx, const char *path, quant_table *t)
{
	memset(t, 0, sizeof *t);
	t->percentile = 99.99; /* when the file has no percentile line */
	void *data = NULL;
	size_t size = 0;
	odet_status rc = odet_file_read(ctx, path, CALIB_MAX_BYTES, &data, &size);
	if (rc)
		return rc;
	char *text = malloc(size + 1);
	if (!text) {
		free(data);
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "%s: out of memory", path);
	}
	memcpy(text, data, size);
	text[size] = 0;
	free(data);
	if (memchr(text, 0, size)) {
		rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: not a calibration cache (binary data)", path);
		goto out;
	}
	char *p = text, *end = text + size, *line;
	int lineno = 0, have = 0;
	while ((line = next_line(&p, end))) {
		lineno++;
		size_t l = strlen(line);
		if (l && line[l - 1] == '\r')
			line[--l] = 0;
		if (lineno == 1) {
			if (strcmp(line, CALIB_MAGIC)) {
				rc = odet_error(ctx, ODET_ERR_BAD_INPUT,
						"%s: not an odet calibration cache (first line must be '%s')", path, CALIB_MAGIC);
				goto out;
			}
			continue;
		}
		if (!l || line[0] == '#')
			continue;
		unsigned long long h;
		char word[32];
		double v;
		long long n;
		int used = 0;
		if (sscanf(line, "model %16llx%n", &h, &used) == 1 && used == (int)l) {
			t->model_hash = h;
			have |= 1;
		} else if (sscanf(line, "calibrator %31s%n", word, &used) == 1 && used == (int)l &&
			   quant_calibrator_parse(word, &t->calibrator)) {
			have |= 2;
		} else if (sscanf(line, "percentile %lf%n", &v, &used) == 1 && used == (int)l && v > 0 && v <= 100) {
			t->percentile = v;
		} else if (sscanf(line, "images %lld%n", &n, &used) == 1 && used == (int)l && n >= 0) {
			t->images = n;
		} else if (sscanf(line, "amax %lf %n", &v, &used) == 1 && used > 5 && used < (int)l) {
			const char *name = line + used;
			if (!isfinite(v) || v < 0) {
				rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s:%d: amax of '%s' must be finite and >= 0",
						path, lineno, name);
				goto out;
			}
			if ((rc = quant_table_add(ctx, t, name, v)))
				goto out;
		} else if (sscanf(line, "snr %lf %n", &v, &used) == 1 && used > 4 && used < (int)l) {
			const char *name = line + used;
			if (!isfinite(v) || fabs(v) > QUANT_SNR_MAX) {
				rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s:%d: snr of '%s' must be finite, within +-%g dB",
						path, lineno, name, QUANT_SNR_MAX);
				goto out;
			}
			bool twice = false;
			for (int i = 0; i < t->n_snr && !twice; i++)
				twice = !strcmp(t->snr_node[i], name);
			if (twice) {
				rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s:%d: snr of node '%s' given twice", path, lineno, name);
				goto out;
			}
			if ((rc = quant_table_add_snr(ctx, t, name, v)))
				goto out;
		} else {
			rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s:%d: cannot read '%.60s'", path, lineno, line);
			goto out;
		}
	}
	if (lineno == 0 || (have & 3) != 3) {
		rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: calibration cache without %s", path,
				lineno == 0 ? "content" : (have & 1) ? "a calibrator line" : "a model line");
		goto out;
	}
	quant_table_sort(t);
	quant_table_sort_snr(t);
	for (int i = 1; i < t->n; i++)
		if (!strcmp(t->name[i - 1], t->name[i])) {
			rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: tensor '%s' appears twice", path, t->name[i]);
			goto out;
		}
out:
	free(text);
	if (rc)
		quant_table_free(t);
	return rc;
}

/* ---- model hash */

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
	return s ? fnv(h, s, strlen(s) + 1) : fnv(h, "", 1);
}

uint64_t quant_graph_hash(const odet_graph *g)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (int i = 0; i < g->n_values; i++) {
		const ir_value *v = &g->values[i];
		h = fnv_str(h, v->name);
		h = fnv(h, &v->kind, sizeof v->kind);
		h = fnv(h, &v->dtype, sizeof v->dtype);
		h = fnv(h, &v->rank, sizeof v->rank);
		if (v->rank > 0)
			h = fnv(h, v->dims, sizeof(int64_t) * (size_t)v->rank);
		if (v->kind == IR_VALUE_CONST && v->data)
			h = fnv(h, v->data, v->nbytes);
	}
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		h = fnv_str(h, n->name);
		h = fnv(h, &n->op, sizeof n->op);
		h = fnv(h, n->in, sizeof(int) * (size_t)n->n_in);
		h = fnv(h, n->out, sizeof(int) * (size_t)n->n_out);
	}
	h = fnv(h, g->inputs, sizeof(int) * (size_t)g->n_inputs);
	h = fnv(h, g->outputs, sizeof(int) * (size_t)g->n_outputs);
	return h;
}
