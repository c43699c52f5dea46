# onnx_node_export.py — turns the ONNX backend node tests (Debian's libonnx-testdata) of the ops
# in src/backend/cpu/{conv,batchnorm,maxpool,avgpool,globalavgpool,gemm,matmul}.c into a plain
# manifest that test_cpu_onnx_node.c reads: per case the op, its attributes, and inputs and
# outputs as raw float32 files (never committed: written at test time into OUT_DIR).
#   /usr/bin/python3 onnx_node_export.py NODE_TEST_DIR OUT_DIR
import os, sys
import numpy as np
import onnx
from onnx import numpy_helper

OPS = {"Conv", "BatchNormalization", "MaxPool", "AveragePool", "GlobalAveragePool", "Gemm", "MatMul"}
src, out = sys.argv[1], sys.argv[2]
if not os.path.isdir(src):
    print("%s: no ONNX node tests here (apt-get install libonnx-testdata); skipped" % src)
    sys.exit(77)
os.makedirs(out, exist_ok=True)
lines = []
for name in sorted(os.listdir(src)):
    d = os.path.join(src, name)
    model = os.path.join(d, "model.onnx")
    if not os.path.isfile(model):
        continue
    m = onnx.load(model)
    if len(m.graph.node) != 1 or m.graph.node[0].op_type not in OPS:
        continue
    node = m.graph.node[0]
    ds = os.path.join(d, "test_data_set_0")
    ins = [numpy_helper.to_array(onnx.load_tensor(os.path.join(ds, "input_%d.pb" % i)))
           for i in range(len(m.graph.input))]
    outs = [numpy_helper.to_array(onnx.load_tensor(os.path.join(ds, "output_%d.pb" % i)))
            for i in range(len(m.graph.output))]
    lines.append("case %s %s" % (name, node.op_type))
    for a in node.attribute:
        if a.type == onnx.AttributeProto.INT:
            lines.append("int %s %d" % (a.name, a.i))
        elif a.type == onnx.AttributeProto.FLOAT:
            lines.append("float %s %r" % (a.name, a.f))
        elif a.type == onnx.AttributeProto.INTS:
            lines.append("ints %s %d %s" % (a.name, len(a.ints), " ".join(str(v) for v in a.ints)))
        elif a.type == onnx.AttributeProto.STRING:
            lines.append("string %s %s" % (a.name, a.s.decode() or "NOTSET"))
    # node inputs/outputs in node order; graph inputs map by name
    gin = {v.name: i for i, v in enumerate(m.graph.input)}
    gout = {v.name: i for i, v in enumerate(m.graph.output)}
    for kind, names, src_arrays, index in (("in", node.input, ins, gin), ("out", node.output, outs, gout)):
        for k, vname in enumerate(names):
            if vname == "":
                lines.append("%s none" % kind)
                continue
            arr = src_arrays[index[vname]]
            f = os.path.join(out, "%s.%s%d.bin" % (name, kind, k))
            dtype = "f32" if arr.dtype == np.float32 else str(arr.dtype)
            if arr.dtype == np.float32:
                arr.astype("<f4").tofile(f)
            lines.append("%s %s %d %s %s" % (kind, dtype, arr.ndim, " ".join(str(v) for v in arr.shape), f))
    lines.append("end")
with open(os.path.join(out, "manifest.txt"), "w") as fh:
    fh.write("\n".join(lines) + "\n")
print(sum(1 for l in lines if l.startswith("case ")), "cases")
