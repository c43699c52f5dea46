"""netbuild.py — write a detection network once, get it two ways.

Model code (gen_detectors.py) calls the primitives of a builder; OnnxBuilder emits ONNX nodes
in the form torch.onnx.export (TorchScript exporter, opset 17) emits them, including the
shape-computation subgraphs (Shape -> Gather -> Unsqueeze -> Concat -> Reshape, Constant
nodes, Resize with sizes from Shape -> Slice -> Concat); NumpyBuilder computes the same
network in float64 numpy (the independent check of what the emitted graph means).
Both draw the parameters from one seeded numpy Generator in the same order, so a model
built by both has the same weights.

Tensors: OnnxBuilder passes value names and tracks shapes (batch dim = None); NumpyBuilder
passes arrays. Weight init: He-scaled normal (std sqrt(2/fan_in)); BatchNorm with random
running statistics, so every op is non-trivial.
"""
import math

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

INT64_MAX = 9223372036854775807


def conv_out(n, k, s, p0, p1, d=1, ceil=False):
    eff = d * (k - 1) + 1
    if ceil:
        o = -(-(n + p0 + p1 - eff) // s) + 1
        if (o - 1) * s >= n + p0:  # last window must start inside the input or left pad
            o -= 1
        return o
    return (n + p0 + p1 - eff) // s + 1


class Params:
    """Seeded parameter generator shared by both builders."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def he(self, shape, fan_in, gain=1.0):
        return (self.rng.standard_normal(shape) * gain * math.sqrt(2.0 / fan_in)).astype(np.float32)

    def uniform(self, shape, lo, hi):
        return self.rng.uniform(lo, hi, shape).astype(np.float32)


class Builder:
    """Common parameter bookkeeping; subclasses implement the primitives."""

    def __init__(self, seed):
        self.p = Params(seed)
        self.n_params = 0

    def conv_params(self, cin, cout, k, groups, bias, gain=1.0, bias_value=None):
        w = self.p.he((cout, cin // groups, k, k), cin // groups * k * k, gain)
        b = None
        if bias:
            b = self.p.uniform((cout,), -0.1, 0.1)
            if bias_value is not None:
                b[:] = bias_value
        return w, b

    def bn_params(self, c, gamma_scale=1.0):
        gamma = self.p.uniform((c,), 0.5, 1.5) * gamma_scale
        beta = self.p.uniform((c,), -0.2, 0.2)
        mean = self.p.uniform((c,), -0.2, 0.2)
        var = self.p.uniform((c,), 0.5, 2.0)
        return gamma, beta, mean, var


# ------------------------------------------------------------------ ONNX
class OnnxBuilder(Builder):
    def __init__(self, seed, name, batch=None):
        super().__init__(seed)
        self.name = name
        self.batch = batch  # None = symbolic "batch"
        self.nodes, self.inits, self.inputs, self.outputs = [], [], [], []
        self.shape = {}
        self.count = {}

    def uid(self, prefix):
        n = self.count.get(prefix, 0)
        self.count[prefix] = n + 1
        return "%s_%d" % (prefix, n)

    def node(self, op, ins, attrs=None, name=None, n_out=1):
        name = name or "/" + self.uid(op)
        outs = ["%s_output_%d" % (name, i) for i in range(n_out)]
        self.nodes.append(helper.make_node(op, ins, outs, name=name, **(attrs or {})))
        return outs[0] if n_out == 1 else outs

    def const(self, value, dtype=np.int64):
        """A Constant node, as torch emits for literals in shape arithmetic."""
        arr = np.array(value, dtype=dtype)
        out = self.uid("onnx::Constant")
        self.nodes.append(helper.make_node("Constant", [], [out], name="/" + out.replace("onnx::", ""),
                                           value=numpy_helper.from_array(arr)))
        return out

    def init(self, name, arr):
        self.inits.append(numpy_helper.from_array(arr, name))
        self.n_params += arr.size
        return name

    def input(self, name, c, h, w):
        dims = [self.batch if self.batch else "batch", c, h, w]
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, dims))
        self.shape[name] = [None, c, h, w]
        return name

    def output(self, name, x):
        s = self.shape[x]
        self.nodes.append(helper.make_node("Identity", [x], [name], name="/" + self.uid("Identity")))
        dims = [self.batch if self.batch else "batch"] + list(s[1:])
        self.outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, dims))
        self.shape[name] = s

    def model(self):
        g = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs, self.inits)
        m = helper.make_model(g, producer_name="pytorch", producer_version="2.11.0",
                              opset_imports=[helper.make_opsetid("", 17)])
        m.ir_version = 8
        return m

    # primitives -------------------------------------------------------
    def conv(self, x, cout, k, s=1, p=0, d=1, groups=1, bias=True, name="conv", gain=1.0,
             bias_value=None):
        n, cin, h, w = self.shape[x]
        wt, b = self.conv_params(cin, cout, k, groups, bias, gain, bias_value)
        ins = [x, self.init(name + ".weight", wt)]
        if b is not None:
            ins.append(self.init(name + ".bias", b))
        y = self.node("Conv", ins, dict(dilations=[d, d], group=groups, kernel_shape=[k, k],
                                         pads=[p, p, p, p], strides=[s, s]),
                      name="/" + name.replace(".", "/") + "/Conv")
        self.shape[y] = [n, cout, conv_out(h, k, s, p, p, d), conv_out(w, k, s, p, p, d)]
        return y

    def conv_shared(self, x, params, k, p, name):
        """Conv with parameters already created (weights shared across pyramid levels)."""
        wname, bname, cout = params
        n, _, h, w = self.shape[x]
        y = self.node("Conv", [x, wname, bname], dict(dilations=[1, 1], group=1, kernel_shape=[k, k],
                                                      pads=[p, p, p, p], strides=[1, 1]))
        self.shape[y] = [n, cout, conv_out(h, k, 1, p, p), conv_out(w, k, 1, p, p)]
        return y

    def make_shared_conv(self, cin, cout, k, name, bias_value=None, gain=1.0):
        wt, b = self.conv_params(cin, cout, k, 1, True, gain, bias_value)
        return (self.init(name + ".weight", wt), self.init(name + ".bias", b), cout)

    def bn(self, x, name, gamma_scale=1.0):
        g, b, m, v = self.bn_params(self.shape[x][1], gamma_scale)
        y = self.node("BatchNormalization",
                      [x] + [self.init(name + "." + t, a) for t, a in
                             (("weight", g), ("bias", b), ("running_mean", m), ("running_var", v))],
                      dict(epsilon=1e-5, momentum=0.9), name="/" + name.replace(".", "/") + "/BatchNormalization")
        self.shape[y] = self.shape[x]
        return y

    def frozen_bn(self, x, name, gamma_scale=1.0):
        """torchvision FrozenBatchNorm2d after constant folding: x * scale + bias."""
        c = self.shape[x][1]
        g, b, m, v = self.bn_params(c, gamma_scale)
        scale = (g / np.sqrt(v + 1e-5)).astype(np.float32)
        shift = (b - m * scale).astype(np.float32)
        y = self.node("Mul", [x, self.init(name + ".scale", scale.reshape(1, c, 1, 1))])
        self.shape[y] = self.shape[x]
        z = self.node("Add", [y, self.init(name + ".shift", shift.reshape(1, c, 1, 1))])
        self.shape[z] = self.shape[x]
        return z

    def relu(self, x):
        y = self.node("Relu", [x])
        self.shape[y] = self.shape[x]
        return y

    def add(self, a, b):
        y = self.node("Add", [a, b])
        self.shape[y] = self.shape[a]
        return y

    def maxpool(self, x, k, s, p, ceil=False):
        n, c, h, w = self.shape[x]
        y = self.node("MaxPool", [x], dict(ceil_mode=int(ceil), dilations=[1, 1], kernel_shape=[k, k],
                                           pads=[p, p, p, p], strides=[s, s]))
        self.shape[y] = [n, c, conv_out(h, k, s, p, p, 1, ceil), conv_out(w, k, s, p, p, 1, ceil)]
        return y

    def l2norm_scale(self, x, name, init_scale=20.0):
        """torchvision SSD: scale_weight.view(1,-1,1,1) * F.normalize(x) (p=2, dim=1, eps=1e-12).
        torch emits ReduceL2 -> Clip(min=eps) -> Expand(Shape(x)) -> Div; ReduceL2 is not in
        ops.def, so the norm is the equivalent Pow(2) -> ReduceSum(axis 1, keepdims) -> Sqrt."""
        c = self.shape[x][1]
        weight = np.full((1, c, 1, 1), init_scale, np.float32) * self.p.uniform((1, c, 1, 1), 0.8, 1.2)
        sq = self.node("Pow", [x, self.const(2.0, np.float32)])
        ss = self.node("ReduceSum", [sq, self.const([1])], dict(keepdims=1))
        nrm = self.node("Sqrt", [ss])
        clp = self.node("Clip", [nrm, self.const(1e-12, np.float32), ""])
        ex = self.node("Expand", [clp, self.node("Shape", [x])])
        dv = self.node("Div", [x, ex])
        y = self.node("Mul", [self.init(name + ".scale_weight", weight), dv])
        self.shape[y] = self.shape[x]
        return y

    def _dim(self, shape_of, i):
        g = self.node("Gather", [shape_of, self.const(i)], dict(axis=0))
        return self.node("Unsqueeze", [g, self.const([0])])

    def view_nk(self, src, y, k):
        """NVIDIA SSD: y.view(src.size(0), k, -1)."""
        n = self._dim(self.node("Shape", [src]), 0)
        shp = self.node("Concat", [n, self.const([k]), self.const([-1])], dict(axis=0))
        r = self.node("Reshape", [y, shp])
        _, c, h, w = self.shape[y]
        self.shape[r] = [None, k, c * h * w // k]
        return r

    def head_permute(self, y, k):
        """torchvision: N,_,H,W = y.shape; y.view(N,-1,K,H,W).permute(0,3,4,1,2).reshape(N,-1,K)."""
        shp = self.node("Shape", [y])
        n, h, w = self._dim(shp, 0), self._dim(shp, 2), self._dim(shp, 3)
        v = self.node("Reshape", [y, self.node("Concat", [n, self.const([-1]), self.const([k]), h, w],
                                              dict(axis=0))])
        t = self.node("Transpose", [v], dict(perm=[0, 3, 4, 1, 2]))
        n2 = self._dim(shp, 0)
        r = self.node("Reshape", [t, self.node("Concat", [n2, self.const([-1]), self.const([k])],
                                              dict(axis=0))])
        _, c, hh, ww = self.shape[y]
        self.shape[r] = [None, c // k * hh * ww, k]
        return r

    def concat(self, xs, axis):
        y = self.node("Concat", xs, dict(axis=axis))
        s = list(self.shape[xs[0]])
        s[axis] = sum(self.shape[x][axis] for x in xs)
        self.shape[y] = s
        return y

    def upsample_like(self, x, like):
        """F.interpolate(x, size=like.shape[-2:], mode="nearest") as torch emits it:
        sizes = Concat(Shape(x)[0:2], Shape(like)[-2:]); Resize(x, '', '', sizes)."""
        hw = self.node("Slice", [self.node("Shape", [like]), self.const([-2]), self.const([INT64_MAX]),
                                 self.const([0])])
        nc = self.node("Slice", [self.node("Shape", [x]), self.const([0]), self.const([2]), self.const([0])])
        sizes = self.node("Concat", [nc, self.node("Cast", [hw], dict(to=TensorProto.INT64))], dict(axis=0))
        y = self.node("Resize", [x, "", "", sizes], dict(coordinate_transformation_mode="asymmetric",
                                                         cubic_coeff_a=-0.75, mode="nearest",
                                                         nearest_mode="floor"))
        self.shape[y] = self.shape[x][:2] + self.shape[like][2:]
        return y


# ------------------------------------------------------------------ numpy
class NumpyBuilder(Builder):
    def __init__(self, seed, feeds):
        super().__init__(seed)
        self.feeds = feeds
        self.results = {}

    def input(self, name, c, h, w):
        x = self.feeds[name].astype(np.float64)
        assert x.shape[1:] == (c, h, w), (x.shape, c, h, w)
        return x

    def output(self, name, x):
        self.results[name] = x

    @staticmethod
    def _conv(x, w, b, s, p, d, groups):
        n, c, h, wd = x.shape
        o, cg, kh, kw = w.shape
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        ho, wo = conv_out(h, kh, s, p, p, d), conv_out(wd, kw, s, p, p, d)
        out = np.zeros((n, o, ho, wo))
        og = o // groups
        for g in range(groups):
            xs = xp[:, g * cg:(g + 1) * cg]
            for i in range(kh):
                for j in range(kw):
                    patch = xs[:, :, i * d:i * d + s * (ho - 1) + 1:s, j * d:j * d + s * (wo - 1) + 1:s]
                    out[:, g * og:(g + 1) * og] += np.einsum("nchw,oc->nohw", patch,
                                                             w[g * og:(g + 1) * og, :, i, j].astype(np.float64))
        if b is not None:
            out += b.astype(np.float64).reshape(1, -1, 1, 1)
        return out

    def conv(self, x, cout, k, s=1, p=0, d=1, groups=1, bias=True, name="conv", gain=1.0,
             bias_value=None):
        w, b = self.conv_params(x.shape[1], cout, k, groups, bias, gain, bias_value)
        return self._conv(x, w, b, s, p, d, groups)

    def make_shared_conv(self, cin, cout, k, name, bias_value=None, gain=1.0):
        return self.conv_params(cin, cout, k, 1, True, gain, bias_value)

    def conv_shared(self, x, params, k, p, name):
        w, b = params
        return self._conv(x, w, b, 1, p, 1, 1)

    def bn(self, x, name, gamma_scale=1.0):
        g, b, m, v = (a.astype(np.float64).reshape(1, -1, 1, 1) for a in self.bn_params(x.shape[1], gamma_scale))
        return (x - m) / np.sqrt(v + 1e-5) * g + b

    frozen_bn = bn

    def relu(self, x):
        return np.maximum(x, 0)

    def add(self, a, b):
        return a + b

    def maxpool(self, x, k, s, p, ceil=False):
        n, c, h, w = x.shape
        ho, wo = conv_out(h, k, s, p, p, 1, ceil), conv_out(w, k, s, p, p, 1, ceil)
        eh, ew = max(0, (ho - 1) * s + k - h - 2 * p), max(0, (wo - 1) * s + k - w - 2 * p)
        xp = np.pad(x, ((0, 0), (0, 0), (p, p + eh), (p, p + ew)), constant_values=-np.inf)
        out = np.full((n, c, ho, wo), -np.inf)
        for i in range(k):
            for j in range(k):
                out = np.maximum(out, xp[:, :, i:i + s * (ho - 1) + 1:s, j:j + s * (wo - 1) + 1:s])
        return out

    def l2norm_scale(self, x, name, init_scale=20.0):
        c = x.shape[1]
        weight = np.full((1, c, 1, 1), init_scale, np.float32) * self.p.uniform((1, c, 1, 1), 0.8, 1.2)
        nrm = np.maximum(np.sqrt((x * x).sum(axis=1, keepdims=True)), 1e-12)
        return weight.astype(np.float64) * (x / nrm)

    def view_nk(self, src, y, k):
        return y.reshape(src.shape[0], k, -1)

    def head_permute(self, y, k):
        n, _, h, w = y.shape
        return y.reshape(n, -1, k, h, w).transpose(0, 3, 4, 1, 2).reshape(n, -1, k)

    def concat(self, xs, axis):
        return np.concatenate(xs, axis=axis)

    def upsample_like(self, x, like):
        h, w = x.shape[2:]
        oh, ow = like.shape[2:]
        iy = np.minimum((np.arange(oh) * (h / oh)).astype(np.int64), h - 1)
        ix = np.minimum((np.arange(ow) * (w / ow)).astype(np.int64), w - 1)
        return x[:, :, iy][:, :, :, ix]


def count_params(model):
    return sum(int(np.prod(t.dims)) for t in model.graph.initializer)


def save(model, path, external=False):
    """Save a model; external=True puts every initializer in '<file>.data' beside it."""
    onnx.checker.check_model(model)
    if external:
        import os
        onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=os.path.basename(path) + ".data", size_threshold=0)
    else:
        onnx.save_model(model, path)
