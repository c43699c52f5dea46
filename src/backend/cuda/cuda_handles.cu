/*
 * cuda_handles.cu — the CUDA backend's cuDNN and cuBLASLt handles and their two owners
 * (cuda_core.h says which runs use which): the engine's device state, whose handles are made
 * on first use by prepare, and the exec contexts', made at odet_exec_create and bound to the
 * exec's stream. cuBLASLt is loaded with dlopen once per engine, by its first Gemm/MatMul.
 * Each handle made is logged at debug level ("cuda: ... handle"), so a build or a run with -vv
 * shows how many there are. The engine's state also keeps its fused convolution graphs (shared
 * by identical convolutions) and the counters of what tuning them cost (cuda_tune_stats).
 */
#include "backend/cuda/conv_graph.h"
#include "backend/cuda/cuda_core.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#define LT_STR2(x) #x
#define LT_STR(x) LT_STR2(x)

/* Load cuBLASLt and every function of CUDA_LT_FNS into api (api->lib NULL on failure). */
static odet_status lt_load(odet_ctx *ctx, const ir_node *n, cuda_lt_api *api)
{
	static const char *const names[] = {"libcublasLt.so." LT_STR(CUBLAS_VER_MAJOR), "libcublasLt.so"};
	memset(api, 0, sizeof *api);
	for (size_t i = 0; i < sizeof names / sizeof names[0] && !api->lib; i++)
		api->lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!api->lib)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (%s): cuBLASLt (%s) cannot be loaded: %s", n->name,
				  ir_op_name(n->op), names[0], dlerror());
	const struct {
		const char *name;
		void *slot; /* the function pointer field to fill */
	} syms[] = {
#define LT_SYM(fn) {#fn, (void *)&api->fn},
		CUDA_LT_FNS(LT_SYM)
#undef LT_SYM
	};
	for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
		void *p = dlsym(api->lib, syms[i].name);
		if (!p) {
			dlclose(api->lib);
			memset(api, 0, sizeof *api);
			return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s' (%s): %s has no symbol %s", n->name,
					  ir_op_name(n->op), names[0], syms[i].name);
		}
		memcpy(syms[i].slot, &p, sizeof p); /* POSIX: a function's address as dlsym's void * */
	}
	return ODET_OK;
}

odet_status cuda_dev_state_create(odet_ctx *ctx, void **out)
{
	*out = odet_calloc(ctx, 1, sizeof(cuda_dev_state));
	return *out ? ODET_OK : ODET_ERR_NO_MEMORY;
}

void cuda_dev_state_destroy(void *p)
{
	cuda_dev_state *d = (cuda_dev_state *)p;
	if (!d)
		return;
	for (int i = 0; i < d->n_graphs; i++) /* before the handle they were finalized with */
		conv_graph_free(d->graphs[i]);
	free(d->graphs);
	if (d->lth)
		d->lt.cublasLtDestroy(d->lth);
	if (d->lt.lib)
		dlclose(d->lt.lib);
	if (d->dnn)
		cudnnDestroy(d->dnn);
	free(d);
}

void cuda_dev_state_prepared(odet_ctx *ctx, void *p)
{
	const cuda_dev_state *d = (const cuda_dev_state *)p;
	if (!d || !d->stats.convs)
		return;
	const cuda_tune_stats *t = &d->stats;
	odet_log(ctx, ODET_LOG_INFO,
		 "cuda: %d convolutions prepared in %.1f s; tuned choices: %d cached, %d not; fused graphs: %d tuned, "
		 "%d replayed, %d shared; %d plans finalized in %.1f s (%d duplicate candidates skipped); warm-up "
		 "calls %.2f s; %d candidates timed in %.2f s, %d left untimed (warm-up over 2x the best + %.3f ms); "
		 "warm-up / timed call %.2f-%.2f; cudnnFind %d in %.1f s",
		 t->convs, t->prepare_ms / 1e3, t->cache_hits, t->cache_misses, t->tunings, t->replays, t->shared,
		 t->finalized, t->finalize_ms / 1e3, t->duplicates, t->warmup_ms / 1e3, t->timed, t->timed_ms / 1e3,
		 t->untimed, t->first_cost_ms, t->ratio_lo, t->ratio_hi, t->finds, t->find_ms / 1e3);
}

cuda_dev_state *cuda_dev_of(const ir_graph *g)
{
	return g ? (cuda_dev_state *)g->be_state : NULL;
}

cuda_tune_stats *cuda_dev_stats(const ir_graph *g)
{
	cuda_dev_state *d = cuda_dev_of(g);
	return d ? &d->stats : NULL;
}

bool cuda_tune_get(odet_ctx *ctx, const ir_graph *g, const char *key, char *val, size_t cap)
{
	bool hit = odet_tune_get(ctx, g->tune, key, val, cap);
	cuda_tune_stats *t = cuda_dev_stats(g);
	if (t)
		(hit ? t->cache_hits : t->cache_misses)++;
	return hit;
}

static cuda_dev_state *dev_state_of(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	cuda_dev_state *d = g ? (cuda_dev_state *)g->be_state : NULL;
	if (!d)
		odet_error(ctx, ODET_ERR_INTERNAL, "node '%s' (%s): prepared outside a CUDA engine (no device state)",
			   n->name, ir_op_name(n->op));
	return d;
}

odet_status cuda_dev_dnn(odet_ctx *ctx, const ir_graph *g, const ir_node *n, cudnnHandle_t *h)
{
	*h = NULL;
	cuda_dev_state *d = dev_state_of(ctx, g, n);
	if (!d)
		return ODET_ERR_INTERNAL;
	if (!d->dnn) {
		cudnnStatus_t s = cudnnCreate(&d->dnn);
		if (s != CUDNN_STATUS_SUCCESS) {
			d->dnn = NULL;
			return odet_cudnn_check(ctx, s, n, "cudnnCreate");
		}
		odet_log(ctx, ODET_LOG_DEBUG, "cuda: the engine's cuDNN handle (build time), first used by node '%s'",
			 n->name);
	}
	*h = d->dnn;
	return ODET_OK;
}

odet_status cuda_dev_lt(odet_ctx *ctx, const ir_graph *g, const ir_node *n, const cuda_lt_api **api,
			cublasLtHandle_t *h)
{
	*api = NULL;
	*h = NULL;
	cuda_dev_state *d = dev_state_of(ctx, g, n);
	if (!d)
		return ODET_ERR_INTERNAL;
	odet_status rc;
	if (!d->lt.lib && (rc = lt_load(ctx, n, &d->lt)))
		return rc;
	if (!d->lth) {
		if ((rc = odet_cublas_check(ctx, d->lt.cublasLtCreate(&d->lth), n, "cublasLtCreate"))) {
			d->lth = NULL;
			return rc;
		}
		odet_log(ctx, ODET_LOG_DEBUG, "cuda: the engine's cuBLASLt handle (build time), first used by node '%s'",
			 n->name);
	}
	*api = &d->lt;
	*h = d->lth;
	return ODET_OK;
}

odet_status cuda_exec_ctx_create(odet_ctx *ctx, void *dev_state, void *stream, void **out)
{
	*out = NULL;
	const cuda_dev_state *d = (const cuda_dev_state *)dev_state;
	cuda_exec_ctx *x = (cuda_exec_ctx *)odet_calloc(ctx, 1, sizeof *x);
	if (!x)
		return ODET_ERR_NO_MEMORY;
	x->stream = (cudaStream_t)stream;
	odet_status rc = ODET_OK;
	cudnnStatus_t s = cudnnCreate(&x->dnn);
	if (s != CUDNN_STATUS_SUCCESS) {
		x->dnn = NULL;
		rc = odet_error(ctx, ODET_ERR_DEVICE, "cudnnCreate: %s", cudnnGetErrorString(s));
		goto out_destroy;
	}
	if ((s = cudnnSetStream(x->dnn, x->stream)) != CUDNN_STATUS_SUCCESS) {
		rc = odet_error(ctx, ODET_ERR_DEVICE, "cudnnSetStream: %s", cudnnGetErrorString(s));
		goto out_destroy;
	}
	if (d && d->lt.lib) {
		cublasStatus_t ls = d->lt.cublasLtCreate(&x->lt);
		if (ls != CUBLAS_STATUS_SUCCESS) {
			x->lt = NULL;
			rc = odet_error(ctx, ODET_ERR_DEVICE, "cublasLtCreate: cuBLAS status %d", (int)ls);
			goto out_destroy;
		}
		x->lt_api = &d->lt;
	}
	odet_log(ctx, ODET_LOG_DEBUG, "cuda: exec context's cuDNN handle%s, bound to its stream",
		 x->lt ? " and cuBLASLt handle" : "");
	*out = x;
	return ODET_OK;
out_destroy:
	cuda_exec_ctx_destroy(x);
	return rc;
}

void cuda_exec_ctx_destroy(void *p)
{
	cuda_exec_ctx *x = (cuda_exec_ctx *)p;
	if (!x)
		return;
	if (x->lt)
		x->lt_api->cublasLtDestroy(x->lt);
	if (x->dnn)
		cudnnDestroy(x->dnn);
	free(x);
}
