/*
 * report_peer.c — peers.json (bench/peers.py: rows {"MODEL/B": {"model", "batch", "main":
 * {"eager": {"median_ms"}}}}) and --peak-tflops for `odet report`.
 */
#include "report_peer.h"

#include "odet.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *read_all(const char *path, size_t max)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *s = malloc(max + 1);
	size_t n = s ? fread(s, 1, max + 1, f) : 0;
	fclose(f);
	if (!s || n > max) {
		free(s);
		return NULL;
	}
	s[n] = 0;
	return s;
}

/* the eager images/s of one row, 0 when the row has none */
static double row_eager(const cJSON *row, long *batch)
{
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(row, "batch");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(row, "main");
	const cJSON *e = m ? cJSON_GetObjectItemCaseSensitive(m, "eager") : NULL;
	const cJSON *ms = e ? cJSON_GetObjectItemCaseSensitive(e, "median_ms") : NULL;
	if (!cJSON_IsNumber(b) || b->valuedouble < 1 || b->valuedouble > 65536 || !cJSON_IsNumber(ms) ||
	    !(ms->valuedouble > 0))
		return 0;
	*batch = (long)b->valuedouble;
	return (double)*batch / ms->valuedouble * 1e3;
}

int report_peer_load(const char *path, const char *model, report_peer *p, char *err, size_t err_len)
{
	memset(p, 0, sizeof *p);
	char *text = read_all(path, (size_t)64 << 20);
	if (!text) {
		snprintf(err, err_len, "%s: cannot read (or over 64 MiB)", path);
		return 2;
	}
	cJSON *root = cJSON_Parse(text);
	free(text);
	const cJSON *rows = root ? cJSON_GetObjectItemCaseSensitive(root, "rows") : NULL;
	int rc = 2;
	if (!cJSON_IsObject(rows)) {
		snprintf(err, err_len, "%s: not a peers.json of bench/peers.py (no \"rows\" object)", path);
		goto out;
	}
	/* the model: the one asked for, else the file's only model with eager figures */
	char models[512] = "";
	const char *seen[16];
	size_t off = 0;
	int n_models = 0;
	const cJSON *row;
	cJSON_ArrayForEach(row, rows) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(row, "model");
		long b;
		if (!cJSON_IsString(m) || !row_eager(row, &b))
			continue;
		bool known = false;
		for (int i = 0; i < n_models && i < 16; i++)
			known |= !strcmp(seen[i], m->valuestring);
		if (known)
			continue;
		if (n_models < 16)
			seen[n_models] = m->valuestring;
		if (!n_models)
			snprintf(p->model, sizeof p->model, "%s", m->valuestring);
		if (off < sizeof models)
			off += (size_t)snprintf(models + off, sizeof models - off, "%s%s", n_models ? ", " : "", m->valuestring);
		n_models++;
	}
	if (!n_models) {
		snprintf(err, err_len, "%s: no row with a PyTorch eager figure", path);
		goto out;
	}
	if (model)
		snprintf(p->model, sizeof p->model, "%s", model);
	else if (n_models > 1) {
		snprintf(err, err_len, "%s holds several models (%s): name one with --peer-model", path, models);
		goto out;
	}
	cJSON_ArrayForEach(row, rows) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(row, "model");
		long b = 0;
		double ips;
		if (!cJSON_IsString(m) || strcmp(m->valuestring, p->model) || !(ips = row_eager(row, &b)))
			continue;
		if (p->n == REPORT_PEER_MAX) {
			snprintf(err, err_len, "%s: more than %d batches for %s", path, REPORT_PEER_MAX, p->model);
			goto out;
		}
		p->batch[p->n] = b;
		p->eager_ips[p->n++] = ips;
	}
	if (!p->n) {
		snprintf(err, err_len, "%s: no PyTorch eager figure for model '%s' (it has: %s)", path, p->model, models);
		goto out;
	}
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

double report_peer_ips(const report_peer *p, long batch)
{
	for (int i = 0; p && i < p->n; i++)
		if (p->batch[i] == batch)
			return p->eager_ips[i];
	return 0;
}

bool report_peak_parse(const char *s, double peak[REPORT_PEAK_N])
{
	static const char *const names[REPORT_PEAK_N] = {
		[ODET_PRECISION_FP32] = "fp32", [ODET_PRECISION_FP16] = "fp16", [ODET_PRECISION_INT8] = "int8",
		[ODET_PRECISION_FP8] = "fp8", [ODET_PRECISION_BF16] = "bf16"};
	for (int k = 0; k < REPORT_PEAK_N; k++)
		peak[k] = 0;
	char buf[256];
	if (!*s || strlen(s) >= sizeof buf)
		return false;
	snprintf(buf, sizeof buf, "%s", s);
	char *save = NULL;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(t, '='), *end;
		if (!eq)
			return false;
		*eq = 0;
		int k = -1;
		for (int j = 0; j < REPORT_PEAK_N; j++)
			if (!strcmp(t, names[j]))
				k = j;
		double v = strtod(eq + 1, &end);
		if (k < 0 || end == eq + 1 || *end || !(v > 0) || v > 1e6)
			return false;
		peak[k] = v;
	}
	return true;
}
