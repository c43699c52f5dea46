#!/usr/bin/python3
"""gen_tiny_ssd.py OUT.onnx — a convolution-free stand-in for NVIDIA's SSD300 outputs, for the
pipeline's valgrind run (oneDNN's JIT convolutions are out of valgrind's reach): image
[B,3,300,300] -> per-image channel means and 2x2 corner means [B,12] -> MatMul with seeded
weights -> locs [B,4,8732], confs [B,81,8732], which the ssd300-nvidia head decodes. Its
detections depend on each image's pixels, so a wrong or missing image still shows."""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

A = 8732
rng = np.random.default_rng(5)
w_loc = (rng.standard_normal((12, 4 * A)) * 0.5).astype(np.float32)
w_conf = (rng.standard_normal((12, 81 * A)) * 2.0).astype(np.float32)
nodes = [
    # quadrant means: [B,3,300,300] -> AveragePool 150 stride 150 -> [B,3,2,2] -> [B,12]
    helper.make_node("AveragePool", ["image"], ["q"], kernel_shape=[150, 150], strides=[150, 150]),
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
g = helper.make_graph(nodes, "tiny_ssd",
                      [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3, 300, 300])],
                      [helper.make_tensor_value_info("locs", TensorProto.FLOAT, ["batch", 4, A]),
                       helper.make_tensor_value_info("confs", TensorProto.FLOAT, ["batch", 81, A])], inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
onnx.checker.check_model(m)
onnx.save(m, sys.argv[1])
print("tiny_ssd:", sys.argv[1])
