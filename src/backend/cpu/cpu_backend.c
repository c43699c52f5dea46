/* cpu_backend.c — the CPU backend's function table and per-op dispatch. */
#include "backend/cpu/cpu.h"

#include <stdlib.h>
#include <string.h>

static const cpu_kernel *kernel_of(ir_op op)
{
	static const cpu_kernel *const table[IR_OP_COUNT] = {
#define OP(id, onnx, domain) [IR_OP_##id] = &cpu_kernel_##id,
#include "graph/ops.def"
#undef OP
	};
	return (unsigned)op < IR_OP_COUNT ? table[op] : NULL;
}

static odet_status cpu_check(odet_ctx *ctx, const ir_graph *g, const ir_node *n)
{
	const cpu_kernel *k = kernel_of(n->op);
	if (!k || !k->run)
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "node '%s': op %s has no CPU kernel", n->name,
				  ir_op_name(n->op));
	return k->check ? k->check(ctx, g, n) : ODET_OK;
}

static odet_status cpu_prepare(odet_ctx *ctx, const ir_graph *g, const ir_node *n, void **state,
			       size_t *workspace)
{
	const cpu_kernel *k = kernel_of(n->op);
	*state = NULL;
	*workspace = 0;
	return (k && k->prepare) ? k->prepare(ctx, g, n, state, workspace) : ODET_OK;
}

static void cpu_release(const ir_node *n, void *state)
{
	const cpu_kernel *k = kernel_of(n->op);
	if (k && k->release && state)
		k->release(state);
}

static odet_status cpu_run(const be_run_args *a)
{
	const cpu_kernel *k = kernel_of(a->node->op);
	if (!k || !k->run)
		return odet_error(a->ctx, ODET_ERR_INTERNAL, "node '%s': no CPU kernel", a->node->name);
	return k->run(a);
}

static odet_status cpu_mem_alloc(odet_ctx *ctx, size_t bytes, void **out)
{
	*out = odet_aligned_alloc(ctx, bytes);
	return *out ? ODET_OK : ODET_ERR_NO_MEMORY;
}

static void cpu_mem_free(void *p)
{
	odet_aligned_free(p);
}

static odet_status cpu_copy(odet_ctx *ctx, void *dst, const void *src, size_t bytes, void *stream)
{
	(void)ctx;
	(void)stream;
	if (bytes)
		memcpy(dst, src, bytes);
	return ODET_OK;
}

static odet_status cpu_stream_create(odet_ctx *ctx, void **stream)
{
	(void)ctx;
	*stream = NULL;
	return ODET_OK;
}

static void cpu_stream_destroy(void *stream)
{
	(void)stream;
}

static odet_status cpu_stream_sync(odet_ctx *ctx, void *stream)
{
	(void)ctx;
	(void)stream;
	return ODET_OK;
}

static const odet_backend cpu_backend = {
	.name = "cpu",
	.kind = ODET_BACKEND_CPU,
	.check = cpu_check,
	.prepare = cpu_prepare,
	.release = cpu_release,
	.run = cpu_run,
	.mem_alloc = cpu_mem_alloc,
	.mem_free = cpu_mem_free,
	.copy_to = cpu_copy,
	.copy_from = cpu_copy,
	.stream_create = cpu_stream_create,
	.stream_destroy = cpu_stream_destroy,
	.stream_sync = cpu_stream_sync,
	.letterbox = cpu_letterbox,
};

const odet_backend *odet_backend_cpu(void)
{
	return &cpu_backend;
}
