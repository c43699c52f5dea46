/*
 * keep.c — which nodes of a build stay in float: odet_build_opts.keep_fp32, layer_precision
 * (--layer-precision NODE=fp16|fp32) and keep_sensitive (the N layers of lowest SNR in the
 * calibration cache, docs/quantization.md).
 *
 * The fp16 pass keeps keep_fp32 and the layer_precision entries asking fp32 in float32; the
 * quantize pass leaves all of them and the sensitive layers unquantized (float16 on CUDA,
 * float32 on the CPU unless they asked fp32).
 */
#include "engine/engine.h"
#include "quant/quant.h"

#include <stdlib.h>
#include <string.h>

odet_status engine_check_layer_opts(odet_ctx *ctx, const odet_build_opts *o, bool qdq)
{
	if (o->n_layer_precision < 0 || (o->n_layer_precision && !o->layer_precision) || o->keep_sensitive < 0)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "layer precision: bad count");
	bool q = o->precision == ODET_PRECISION_INT8 || o->precision == ODET_PRECISION_FP8;
	if (o->n_layer_precision && !q && o->precision != ODET_PRECISION_FP16)
		return odet_error(ctx, ODET_ERR_INVALID_ARG,
				  "--layer-precision applies to int8, fp8 and fp16 builds (this one is %s; --keep-fp32 keeps nodes "
				  "in float32)", o->precision == ODET_PRECISION_BF16 ? "bf16" : "fp32");
	for (int i = 0; i < o->n_layer_precision; i++) {
		const odet_layer_precision *l = &o->layer_precision[i];
		if (!l->node || !*l->node)
			return odet_error(ctx, ODET_ERR_INVALID_ARG, "--layer-precision: empty node name");
		if (l->precision != ODET_PRECISION_FP16 && l->precision != ODET_PRECISION_FP32)
			return odet_error(ctx, ODET_ERR_INVALID_ARG, "--layer-precision %s: a layer is kept in fp16 or fp32",
					  l->node);
	}
	if (o->keep_sensitive && !q)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "--keep-sensitive applies to int8 and fp8 builds");
	if (o->keep_sensitive && qdq)
		return odet_error(ctx, ODET_ERR_INVALID_ARG,
				  "--keep-sensitive needs the per-layer SNR of a calibration cache; an explicitly quantized "
				  "model has none (use --layer-precision)");
	return ODET_OK;
}

static bool has_node(const ir_graph *g, const char *name)
{
	for (int k = 0; k < g->n_nodes; k++)
		if (!g->nodes[k].dead && g->nodes[k].name && !strcmp(g->nodes[k].name, name))
			return true;
	return false;
}

odet_status engine_check_layer_names(odet_ctx *ctx, const ir_graph *g, const odet_build_opts *o)
{
	for (int i = 0; i < o->n_keep_fp32; i++)
		if (o->keep_fp32[i] && !has_node(g, o->keep_fp32[i]))
			return odet_error(ctx, ODET_ERR_INVALID_ARG,
					  "--keep-fp32 %s: no node of that name in the optimized graph (odet inspect MODEL -v "
					  "lists them)", o->keep_fp32[i]);
	for (int i = 0; i < o->n_layer_precision; i++) {
		const char *name = o->layer_precision[i].node;
		if (!has_node(g, name))
			return odet_error(ctx, ODET_ERR_INVALID_ARG,
					  "--layer-precision %s: no node of that name in the optimized graph (odet inspect MODEL -v "
					  "lists them; odet calibrate prints the quantized layers)", name);
	}
	return ODET_OK;
}

static odet_status push(odet_ctx *ctx, engine_keep *k, const char *name)
{
	const char **p = realloc(k->names, sizeof(char *) * ((size_t)k->n + 1));
	if (!p)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "build: out of memory");
	k->names = p;
	k->names[k->n++] = name;
	return ODET_OK;
}

odet_status engine_keep_list(odet_ctx *ctx, const odet_build_opts *o, bool quantize, const quant_table *t,
			     engine_keep *out)
{
	memset(out, 0, sizeof *out);
	odet_status rc = ODET_OK;
	for (int i = 0; i < o->n_keep_fp32 && !rc; i++)
		rc = push(ctx, out, o->keep_fp32[i]);
	for (int i = 0; i < o->n_layer_precision && !rc; i++)
		if (quantize || o->layer_precision[i].precision == ODET_PRECISION_FP32)
			rc = push(ctx, out, o->layer_precision[i].node);
	if (!rc && quantize && o->keep_sensitive > 0) {
		if (!t || t->n_snr == 0)
			rc = odet_error(ctx, ODET_ERR_INVALID_ARG,
					"--keep-sensitive %d: the calibration cache %s has no per-layer SNR (written by an older "
					"odet calibrate or with the SNR pass off): calibrate again",
					o->keep_sensitive, o->calib_cache ? o->calib_cache : "");
		int n = o->keep_sensitive < (t ? t->n_snr : 0) ? o->keep_sensitive : (t ? t->n_snr : 0);
		if (!rc && n < o->keep_sensitive)
			odet_log(ctx, ODET_LOG_WARN, "--keep-sensitive %d: the cache has %d layers; all stay in float",
				 o->keep_sensitive, t->n_snr);
		/* the table's SNR entries are sorted lowest first (quant_table_load) */
		for (int i = 0; i < n && !rc; i++) {
			odet_log(ctx, ODET_LOG_INFO, "keep-sensitive: %s (SNR %.1f dB) stays in float", t->snr_node[i],
				 t->snr_db[i]);
			rc = push(ctx, out, t->snr_node[i]);
		}
	}
	if (rc)
		engine_keep_free(out);
	return rc;
}

void engine_keep_warn_missing(odet_ctx *ctx, const ir_graph *g, const odet_build_opts *o, const quant_table *t)
{
	int n = o->keep_sensitive < t->n_snr ? o->keep_sensitive : t->n_snr, missing = 0;
	char list[768] = "";
	size_t len = 0;
	bool cut = false; /* the names past what the message holds: "..." */
	for (int i = 0; i < n; i++) {
		if (has_node(g, t->snr_node[i]))
			continue;
		missing++;
		if (!cut && len + strlen(t->snr_node[i]) + 10 < sizeof list)
			len += (size_t)snprintf(list + len, sizeof list - len, "%s'%s'", len ? ", " : "", t->snr_node[i]);
		else if (!cut) {
			cut = true;
			snprintf(list + len, sizeof list - len, ", ...");
		}
	}
	if (missing)
		odet_log(ctx, ODET_LOG_WARN,
			 "--keep-sensitive %d: %d of the cache's %d lowest-SNR layers are not in this build's graph (calibrated "
			 "with other passes or another backend?) and are skipped: %s",
			 o->keep_sensitive, missing, n, list);
}

odet_status engine_keep_thin(odet_ctx *ctx, const ir_graph *g, int min_c, engine_keep *k)
{
	for (int i = 0; i < g->n_nodes; i++) {
		const ir_node *n = &g->nodes[i];
		if (n->dead || n->op != IR_OP_CONV || n->n_in < 2)
			continue;
		const ir_value *x = ir_in(g, n, 0);
		if (!x || x->rank != 4)
			continue;
		int64_t c = ir_attr_int(n, "odet_nhwc", 0) ? x->dims[3] : x->dims[1];
		if (c >= min_c)
			continue;
		odet_log(ctx, ODET_LOG_INFO, "int8: '%s' reads %lld channels (< %d): it stays in float", n->name,
			 (long long)c, min_c);
		odet_status rc = push(ctx, k, n->name);
		if (rc)
			return rc;
	}
	return ODET_OK;
}

void engine_keep_free(engine_keep *k)
{
	free(k->names);
	memset(k, 0, sizeof *k);
}
