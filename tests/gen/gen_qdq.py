#!/usr/bin/python3
"""gen_qdq.py — a small explicitly quantized (QDQ) convolutional network, as quantization-aware
training tools export them: gen_qdq.py OUT.onnx [--variant symmetric|asym-act|asym-weight] [--seed N]

x [1,8,16,16] -> Q/DQ -> Conv 3x3 (16) + Relu -> Q/DQ -> Conv 3x3 (16) + Relu -> Q/DQ
  -> Add with the first block's DQ output -> Q/DQ -> Conv 1x1 (8) -> y (float).
Weights: int8 codes per output channel (scale = max|w| / 127, so every channel uses +-127) behind
DequantizeLinear(axis 0); biases float. Activation scales: amax / 127 of each tensor on a random
standard-normal input of the same float network (a calibration of the generator's own).
Variants for the refusals: asym-act (the input's pair is uint8 with zero point 128),
asym-weight (the first conv's codes carry a non-zero zero point), zero-scale / nan-scale (r2's pair).
"""
import argparse

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper, numpy_helper


def conv2d(x, w, b, pad):
    n, c, h, wd = x.shape
    m, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    y = np.zeros((n, m, h, wd), dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            y += np.einsum("nchw,mc->nmhw", xp[:, :, i:i + h, j:j + wd], w[:, :, i, j])
    return y + b.reshape(1, -1, 1, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--variant", default="symmetric", choices=["symmetric", "asym-act", "asym-weight", "zero-scale", "nan-scale"])
    ap.add_argument("--seed", type=int, default=3)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    shapes = [(16, 8, 3, 3, 1), (16, 16, 3, 3, 1), (8, 16, 1, 1, 0)]
    ws = [rng.normal(0, np.sqrt(2.0 / (c * kh * kw)), (m, c, kh, kw)) for m, c, kh, kw, _ in shapes]
    bs = [rng.normal(0, 0.1, m) for m, *_ in shapes]
    # the float network's activation ranges on a calibration input
    x = rng.standard_normal((4, 8, 16, 16))
    r1 = np.maximum(conv2d(x, ws[0], bs[0], 1), 0)
    r2 = np.maximum(conv2d(r1, ws[1], bs[1], 1), 0)
    s_add = r2 + r1
    amax = {"x": np.abs(x).max(), "r1": np.abs(r1).max(), "r2": np.abs(r2).max(), "add": np.abs(s_add).max()}

    nodes, inits = [], []

    def init(name, arr):
        inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def qdq(t, asym=False):
        sv = amax[t] / 127.0 if not asym else 2 * amax[t] / 255.0
        if t == "r2" and a.variant in ("zero-scale", "nan-scale"):
            sv = 0.0 if a.variant == "zero-scale" else np.nan
        s = init(t + "_scale", np.float32(sv))
        z = init(t + "_zp", np.uint8(128) if asym else np.int8(0))
        nodes.append(helper.make_node("QuantizeLinear", [t, s, z], [t + "_q"], name=t + "_Q"))
        nodes.append(helper.make_node("DequantizeLinear", [t + "_q", s, z], [t + "_dq"], name=t + "_DQ"))
        return t + "_dq"

    def conv(i, xin, out, relu):
        w = ws[i]
        sw = np.abs(w).reshape(w.shape[0], -1).max(axis=1) / 127.0
        codes = np.clip(np.rint(w / sw.reshape(-1, 1, 1, 1)), -127, 127).astype(np.int8)
        zp = np.zeros(w.shape[0], dtype=np.int8)
        if a.variant == "asym-weight" and i == 0:
            zp[:] = 3
        wq = init("w%d_q" % i, codes)
        nodes.append(helper.make_node("DequantizeLinear", [wq, init("w%d_scale" % i, sw.astype(np.float32)),
                                                           init("w%d_zp" % i, zp)], ["w%d" % i], axis=0,
                                      name="w%d_DQ" % i))
        pad = shapes[i][4]
        c = out + "_conv" if relu else out
        nodes.append(helper.make_node("Conv", [xin, "w%d" % i, init("b%d" % i, bs[i].astype(np.float32))], [c],
                                      pads=[pad] * 4, name="conv%d" % i))
        if relu:
            nodes.append(helper.make_node("Relu", [c], [out], name="relu%d" % i))

    d0 = qdq("x", asym=a.variant == "asym-act")
    conv(0, d0, "r1", True)
    d1 = qdq("r1")
    conv(1, d1, "r2", True)
    d2 = qdq("r2")
    nodes.append(helper.make_node("Add", [d2, d1], ["add"], name="residual"))
    d3 = qdq("add")
    conv(2, d3, "y", False)
    g = helper.make_graph(nodes, "qdq_net", [helper.make_tensor_value_info("x", T.FLOAT, [1, 8, 16, 16])],
                          [helper.make_tensor_value_info("y", T.FLOAT, [1, 8, 16, 16])], inits)
    m = helper.make_model(g, producer_name="odet-gen_qdq", opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.checker.check_model(m)
    onnx.save(m, a.out)


if __name__ == "__main__":
    main()
