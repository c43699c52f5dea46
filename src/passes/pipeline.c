/*
 * pipeline.c — the default pass pipeline of odet_engine_build:
 *   set_input_shape → infer_shapes → fold_constants → fold_transposes → cancel_transposes →
 *   fold_batchnorm → fuse_conv → fuse_l2norm → fold_pads → eliminate_dead → infer_shapes   (the folds and fusions only
 *   when o->fuse; each group of them off when its ODET_PASS_* bit is in o->skip: without
 *   FOLD_CONSTANTS only shape computations fold)
 */
#include "passes/passes.h"

odet_status passes_run_default(ir_graph *g, const pass_opts *o)
{
	odet_status rc;
	if (!g || !o)
		return ODET_ERR_INVALID_ARG;
	const bool fold = !(o->skip & ODET_PASS_FOLD_CONSTANTS);
	if ((rc = pass_set_input_shape(g, o->batch, o->input_h, o->input_w)) ||
	    (rc = pass_infer_shapes(g)) ||
	    (rc = (fold ? pass_fold_constants : pass_fold_shape_constants)(g, o->eval, o->eval_user)))
		return rc;
	if (o->fuse && fold &&
	    ((rc = pass_fold_transposes(g)) || (rc = pass_cancel_transposes(g)) || (rc = pass_infer_shapes(g))))
		return rc;
	if (o->fuse && !(o->skip & ODET_PASS_FOLD_BATCHNORM) && (rc = pass_fold_batchnorm(g)))
		return rc;
	if (o->fuse && !(o->skip & ODET_PASS_FUSE_CONV) && ((rc = pass_fuse_conv(g)) || (rc = pass_fuse_l2norm(g)) ||
								      (rc = pass_fold_pads(g))))
		return rc;
	if ((rc = pass_eliminate_dead(g)) || (rc = pass_infer_shapes(g)))
		return rc;
	return ODET_OK;
}
