/*
 * shape_common.h — helpers shared by the per-op shape functions (src/graph/shape_*.c).
 *
 * Conventions: a shape function first validates what it can from known dims, then writes
 * its outputs with shp_out_begin (dtype, rank, every dim unknown, symbolic names cleared)
 * and fills the dims it can compute. Unknown stays -1; nothing is guessed.
 */
#ifndef ODET_SHAPE_COMMON_H
#define ODET_SHAPE_COMMON_H

#include "graph/ir.h"

/* Most elements read from a constant input that describes a shape/axes/pads list. */
#define SHP_MAX_LIST 64

/* Error ODET_ERR_BAD_INPUT prefixed with "node 'name' (Op): ". */
odet_status shp_fail(ir_graph *g, const ir_node *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same with another status (UNSUPPORTED, LIMIT). */
odet_status shp_fail_s(ir_graph *g, const ir_node *n, odet_status s, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Check the number of inputs/outputs (present or omitted slots). */
odet_status shp_check_io(ir_graph *g, const ir_node *n, int min_in, int max_in, int min_out,
			 int max_out);
/* Required input i (error if omitted). */
odet_status shp_need_in(ir_graph *g, const ir_node *n, int i, ir_value **v);

/* Reset output value: dtype, rank (may be -1), all dims -1, syms cleared. Fails on rank
 * over the limit. */
odet_status shp_out_begin(ir_graph *g, const ir_node *n, ir_value *out, odet_dtype dt, int rank);
/* Copy shape, dtype and symbolic names of `in` to `out` (dtype overridden if dt != 0). */
odet_status shp_out_like(ir_graph *g, const ir_node *n, ir_value *out, const ir_value *in,
			 odet_dtype dt);
/* Set dim i of out to `d`, copying the symbolic name `sym` when d is unknown. */
odet_status shp_out_dim(ir_graph *g, ir_value *out, int i, int64_t d, const char *sym);

/* Constant integer list of input i. Returns 1 when the input is a CONST with at most `max`
 * elements (count in *n, values in buf), 0 when not constant (or omitted: *n = -1).
 * An oversized or malformed constant is an error (returns -1 and sets the error). */
int shp_const_ints(ir_graph *g, const ir_node *n, int i, int64_t *buf, int max, int *count);
/* Constant float list (F32/F64/F16 or integers converted). Same return convention. */
int shp_const_floats(ir_graph *g, const ir_node *n, int i, double *buf, int max, int *count);

/* Numpy broadcast of a list of values into out (dtype dt). Unknown rank anywhere:
 * unknown rank out. An incompatible pair of dims is an error naming both shapes. */
odet_status shp_broadcast(ir_graph *g, const ir_node *n, const ir_value *const *vals, int nv,
			  ir_value *out, odet_dtype dt);

/* "[1,3,?,4]" of a raw dims list (rank < 0: "?"). */
const char *shp_dims_str(const int64_t *dims, int rank, char *buf, size_t size);

#endif
