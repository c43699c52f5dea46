#!/usr/bin/python3
"""gen_input.py — random inputs for a model: gen_input.py model.onnx out.bin [--batch B] [--seed N]

Every graph input (initializers excluded) gets a tensor named like it; a symbolic or zero dim 0
becomes B, any other symbolic dim is an error. float: standard normal; int: 0..9; bool: random.
"""
import argparse
import os
import sys

import numpy as np
import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tensorfile  # noqa: E402


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args(argv)
    m = onnx.load(a.model, load_external_data=False)
    inits = {t.name for t in m.graph.initializer}
    rng = np.random.default_rng(a.seed)
    tensors = []
    for vi in m.graph.input:
        if vi.name in inits:
            continue
        tt = vi.type.tensor_type
        dims = []
        for i, d in enumerate(tt.shape.dim):
            if d.HasField("dim_value") and d.dim_value > 0:
                dims.append(d.dim_value)
            elif i == 0:
                dims.append(a.batch)
            else:
                print("gen_input: %s: input %s dim %d is symbolic" % (a.model, vi.name, i), file=sys.stderr)
                return 2
        dt = np.dtype(tensorfile.DTYPES[tt.elem_type])
        if dt.kind == "f":
            arr = rng.standard_normal(dims).astype(dt)
        elif dt.kind == "b":
            arr = rng.integers(0, 2, dims).astype(bool)
        else:
            arr = rng.integers(0, 10, dims).astype(dt)
        tensors.append((vi.name, arr))
    tensorfile.write(a.out, tensors)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
