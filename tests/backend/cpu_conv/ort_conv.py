# ort_conv.py — writes one-Conv(+bias)+Relu ONNX models with the ResNet-50 layer shapes of
# bench_conv.c into a folder, for ort_conv.js (the ONNX Runtime side of the comparison).
#   /usr/bin/python3 ort_conv.py OUT_DIR [batch]
import sys, os
import numpy as np
import onnx
from onnx import helper, TensorProto, numpy_helper

LAYERS = [("conv1", 3, 224, 64, 7, 2, 3),
          ("l1.1x1a", 64, 56, 64, 1, 1, 0), ("l1.3x3", 64, 56, 64, 3, 1, 1),
          ("l1.1x1b", 64, 56, 256, 1, 1, 0), ("l1.1x1c", 256, 56, 64, 1, 1, 0),
          ("l2.3x3s2", 128, 56, 128, 3, 2, 1), ("l2.3x3", 128, 28, 128, 3, 1, 1),
          ("l2.1x1b", 128, 28, 512, 1, 1, 0), ("l2.1x1c", 512, 28, 128, 1, 1, 0),
          ("l3.3x3", 256, 14, 256, 3, 1, 1), ("l3.1x1b", 256, 14, 1024, 1, 1, 0),
          ("l3.1x1c", 1024, 14, 256, 1, 1, 0), ("l4.3x3", 512, 7, 512, 3, 1, 1),
          ("l4.1x1b", 512, 7, 2048, 1, 1, 0), ("l4.1x1c", 2048, 7, 512, 1, 1, 0),
          ("fpn.lat", 512, 64, 256, 1, 1, 0), ("ret.3x3", 256, 64, 256, 3, 1, 1),
          ("ret.cls", 256, 64, 720, 3, 1, 1), ("ret.box", 256, 64, 36, 3, 1, 1),
          ("ssd.loc", 1024, 38, 16, 3, 1, 1), ("ssd.conf", 1024, 38, 324, 3, 1, 1)]

out, batch = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(1)
for name, c, h, m, k, s, p in LAYERS:
    oh = (h + 2 * p - k) // s + 1
    w = numpy_helper.from_array(rng.uniform(-1, 1, (m, c, k, k)).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.uniform(-1, 1, (m,)).astype(np.float32), "b")
    conv = helper.make_node("Conv", ["x", "w", "b"], ["t"], pads=[p] * 4, strides=[s, s],
                            kernel_shape=[k, k])
    relu = helper.make_node("Relu", ["t"], ["y"])
    g = helper.make_graph([conv, relu], name,
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, c, h, h])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, m, oh, oh])],
                          [w, b])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, os.path.join(out, name + ".onnx"))
    with open(os.path.join(out, name + ".onnx.json"), "w") as f:
        f.write("[%d,%d,%d,%d]" % (batch, c, h, h))
    print(name, 2.0 * batch * m * oh * oh * c * k * k / 1e6)

# ResNet's stem MaxPool (3x3, stride 2, pad 1) on the conv1 output
pool = helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
g = helper.make_graph([pool], "maxpool",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 64, 112, 112])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 64, 56, 56])])
model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 8
onnx.save(model, os.path.join(out, "maxpool.onnx"))
with open(os.path.join(out, "maxpool.onnx.json"), "w") as f:
    f.write("[%d,64,112,112]" % batch)
