#!/usr/bin/python3
"""gen_tiny_det.py OUT.onnx OUT.cfg — a detector small enough that the queue tests measure
the queue, not the network: image [B,3,64,64] -> 2x2 quadrant means [B,12] -> MatMul with
seeded weights -> locs [B,4,A], confs [B,81,A] for a two-level SSD head (the config file of
docs/heads.md's example, A = 88 priors). Its detections depend on each image's pixels, so a
job answered with another image's result shows."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

A = 4 * 4 * 4 + 2 * 2 * 6
CFG = """base = ssd300-nvidia
name = tiny-queue
fig_size = 64
feature_maps = 4 2
steps = 16 32
scales = 10, 20, 40
aspect_ratios = 2; 2 3
score_threshold = 0.2
max_detections = 7
"""
rng = np.random.default_rng(21)
w_loc = (rng.standard_normal((12, 4 * A)) * 0.5).astype(np.float32)
w_conf = (rng.standard_normal((12, 81 * A)) * 2.0).astype(np.float32)
nodes = [
    helper.make_node("AveragePool", ["image"], ["q"], kernel_shape=[32, 32], strides=[32, 32]),
    helper.make_node("Reshape", ["q", "shape12"], ["f"]),
    helper.make_node("MatMul", ["f", "w_loc"], ["l"]),
    helper.make_node("Reshape", ["l", "shape_loc"], ["locs"]),
    helper.make_node("MatMul", ["f", "w_conf"], ["c"]),
    helper.make_node("Reshape", ["c", "shape_conf"], ["confs"]),
]
inits = [
    numpy_helper.from_array(np.array([-1, 12], np.int64), "shape12"),
    numpy_helper.from_array(np.array([-1, 4, A], np.int64), "shape_loc"),
    numpy_helper.from_array(np.array([-1, 81, A], np.int64), "shape_conf"),
    numpy_helper.from_array(w_loc, "w_loc"),
    numpy_helper.from_array(w_conf, "w_conf"),
]
g = helper.make_graph(nodes, "tiny_det",
                      [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, 64, 64])],
                      [helper.make_tensor_value_info("locs", TensorProto.FLOAT, ["batch", 4, A]),
                       helper.make_tensor_value_info("confs", TensorProto.FLOAT, ["batch", 81, A])], inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
onnx.checker.check_model(m)
onnx.save(m, sys.argv[1])
with open(sys.argv[2], "w") as f:
    f.write(CFG)
print("tiny_det:", sys.argv[1], sys.argv[2])
