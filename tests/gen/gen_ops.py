#!/usr/bin/python3
"""gen_ops.py — single-op ONNX models (opset 17) on awkward shapes, one per case, for every op
in src/graph/ops.def, with seeded random inputs.

    gen_ops.py --out DIR [--only SUBSTR] [--list] [--seed N]

For each case writes DIR/<case>.onnx and DIR/<case>.in.bin (graph inputs, tensor format of
docs/formats.md), and DIR/cases.txt (one "<case> <op>" line per case). Parameters that ONNX
passes as inputs (weights, axes, pads, sizes, K, ...) are initializers, as exporters write them;
data tensors are graph inputs. Values are chosen so the reference is well conditioned: Log and
Sqrt get positive inputs, Div denominators stay away from 0, comparisons use integers.
--check: also verify every op of ops.def (ONNX default domain) has at least one case.
"""
import argparse
import os
import re
import sys

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tensorfile  # noqa: E402

F32, I64, BOOL = T.FLOAT, T.INT64, T.BOOL
NP = {F32: np.float32, I64: np.int64, BOOL: np.bool_}


class Case:
    def __init__(self, name, rng):
        self.name, self.rng = name, rng
        self.nodes, self.inits, self.inputs, self.outputs, self.feeds = [], [], [], [], []
        self.n = 0

    # data
    def randn(self, *shape, scale=1.0):
        return (self.rng.standard_normal(shape) * scale).astype(np.float32)

    def pos(self, *shape, lo=0.1, hi=4.0):
        return self.rng.uniform(lo, hi, shape).astype(np.float32)

    def ints(self, *shape, lo=0, hi=5):
        return self.rng.integers(lo, hi, shape).astype(np.int64)

    # graph
    def input(self, arr, name=None):
        name = name or "x%d" % len(self.inputs)
        elem = {np.dtype(np.float32): F32, np.dtype(np.int64): I64, np.dtype(np.bool_): BOOL,
                np.dtype(np.int8): T.INT8, np.dtype(np.uint8): T.UINT8, np.dtype(np.int32): T.INT32}[arr.dtype]
        self.inputs.append(helper.make_tensor_value_info(name, elem, list(arr.shape)))
        self.feeds.append((name, arr))
        return name

    def init(self, arr, name=None):
        name = name or "c%d" % len(self.inits)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def i64(self, values):
        return self.init(np.array(values, dtype=np.int64))

    def f32(self, values):
        return self.init(np.array(values, dtype=np.float32))

    def node(self, op, ins, n_out=1, **attrs):
        outs = ["%s_out%d" % (op.lower(), self.n + i) for i in range(n_out)]
        self.n += n_out
        self.nodes.append(helper.make_node(op, ins, outs, name="%s_%d" % (op, len(self.nodes)), **attrs))
        return outs[0] if n_out == 1 else outs

    def output(self, name, elem=F32, shape=None):
        """shape: only where shape inference cannot know it (data-dependent)."""
        self.outputs.append(helper.make_tensor_value_info(name, elem, shape))

    def model(self):
        g = helper.make_graph(self.nodes, self.name, self.inputs, self.outputs, self.inits)
        m = helper.make_model(g, producer_name="odet-gen_ops", opset_imports=[helper.make_opsetid("", 17)])
        m.ir_version = 8
        # outputs were declared with a type only; take their shapes from ONNX shape inference
        inf = onnx.shape_inference.infer_shapes(m, strict_mode=True)
        known = {v.name: v for v in list(inf.graph.value_info) + list(inf.graph.output)}
        for o in m.graph.output:
            v = known.get(o.name)
            if o.type.tensor_type.HasField("shape"):
                continue
            if v is not None and v.type.tensor_type.HasField("shape"):
                o.type.tensor_type.shape.CopyFrom(v.type.tensor_type.shape)
            else:  # data-dependent: rank unknown to the checker; keep a dynamic rank-1 shape
                o.type.tensor_type.shape.dim.add().dim_param = "n"
        onnx.checker.check_model(m)
        return m


CASES = []


def case(op):
    def deco(fn):
        CASES.append((fn.__name__, op, fn))
        return fn
    return deco


def unary(c, op, x, **attrs):
    c.output(c.node(op, [c.input(x)], **attrs))


def binary(c, op, a, b, elem=F32):
    c.output(c.node(op, [c.input(a), c.input(b)]), elem)


# ------------------------------------------------------------------ conv / norm / pool
def conv_case(c, x, wshape, bias=True, **attrs):
    cin_g, k = wshape[1], wshape[2] * wshape[3]
    w = c.init(c.randn(*wshape, scale=np.sqrt(2.0 / (cin_g * k))))
    ins = [c.input(x), w] + ([c.init(c.randn(wshape[0], scale=0.1))] if bias else [])
    c.output(c.node("Conv", ins, **attrs))


@case("Conv")
def conv_3x3_pad1(c):
    conv_case(c, c.randn(1, 3, 17, 19), (8, 3, 3, 3), kernel_shape=[3, 3], pads=[1, 1, 1, 1])


@case("Conv")
def conv_stride2_asym_pads_batch2(c):
    conv_case(c, c.randn(2, 5, 23, 17), (7, 5, 3, 3), strides=[2, 2], pads=[1, 0, 2, 1])


@case("Conv")
def conv_groups4(c):
    conv_case(c, c.randn(1, 8, 15, 15), (12, 2, 3, 3), group=4, pads=[1, 1, 1, 1])


@case("Conv")
def conv_depthwise_s2(c):
    conv_case(c, c.randn(2, 16, 14, 13), (16, 1, 3, 3), group=16, strides=[2, 2], pads=[1, 1, 1, 1])


@case("Conv")
def conv_dilation2(c):
    conv_case(c, c.randn(1, 4, 20, 21), (6, 4, 3, 3), dilations=[2, 2], pads=[2, 2, 2, 2])


@case("Conv")
def conv_dilation6_fc6(c):
    conv_case(c, c.randn(1, 8, 19, 19), (16, 8, 3, 3), dilations=[6, 6], pads=[6, 6, 6, 6])


@case("Conv")
def conv_autopad_same_upper_s2(c):
    conv_case(c, c.randn(1, 3, 13, 14), (5, 3, 3, 3), auto_pad="SAME_UPPER", strides=[2, 2])


@case("Conv")
def conv_autopad_same_lower(c):
    conv_case(c, c.randn(1, 3, 12, 11), (4, 3, 4, 4), auto_pad="SAME_LOWER")


@case("Conv")
def conv_autopad_valid(c):
    conv_case(c, c.randn(2, 3, 10, 9), (4, 3, 3, 3), auto_pad="VALID", strides=[2, 2])


@case("Conv")
def conv_1x1_nobias_batch2(c):
    conv_case(c, c.randn(2, 32, 7, 9), (16, 32, 1, 1), bias=False)


@case("Conv")
def conv_rect_k5x3_s2x1(c):
    conv_case(c, c.randn(1, 6, 16, 11), (9, 6, 5, 3), strides=[2, 1], pads=[2, 1, 2, 1])


@case("Conv")
def conv_7x7_s2_stem(c):
    conv_case(c, c.randn(2, 3, 33, 31), (8, 3, 7, 7), strides=[2, 2], pads=[3, 3, 3, 3])


@case("Conv")
def conv_1x1_s2_downsample(c):
    conv_case(c, c.randn(1, 16, 15, 15), (32, 16, 1, 1), bias=False, strides=[2, 2])


@case("Conv")
def conv_wide_cin(c):
    conv_case(c, c.randn(1, 130, 6, 5), (33, 130, 3, 3), pads=[1, 1, 1, 1])


@case("BatchNormalization")
def batchnorm_eps1e3(c):
    ch = 6
    x = c.input(c.randn(2, ch, 5, 7))
    ins = [x, c.f32(c.pos(ch, lo=0.5, hi=1.5)), c.f32(c.randn(ch, scale=0.2)),
           c.f32(c.randn(ch, scale=0.2)), c.f32(c.pos(ch, lo=0.5, hi=2.0))]
    c.output(c.node("BatchNormalization", ins, epsilon=1e-3))


@case("MaxPool")
def maxpool_3x3_s2_p1(c):
    unary(c, "MaxPool", c.randn(2, 4, 15, 16), kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])


@case("MaxPool")
def maxpool_2x2_ceil_odd(c):
    unary(c, "MaxPool", c.randn(1, 3, 75, 75), kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)


@case("MaxPool")
def maxpool_3x3_s2_ceil(c):
    unary(c, "MaxPool", c.randn(1, 3, 14, 13), kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)


@case("MaxPool")
def maxpool_3x3_s1_p1(c):
    unary(c, "MaxPool", c.randn(1, 5, 19, 19), kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1])


@case("MaxPool")
def maxpool_asym_pads_rect(c):
    unary(c, "MaxPool", c.randn(1, 2, 11, 12), kernel_shape=[3, 2], strides=[2, 1], pads=[0, 1, 1, 0])


@case("MaxPool")
def maxpool_same_upper(c):
    unary(c, "MaxPool", c.randn(1, 2, 9, 10), kernel_shape=[3, 3], strides=[2, 2], auto_pad="SAME_UPPER")


@case("MaxPool")
def maxpool_5x5_s1_p2_spp(c):
    unary(c, "MaxPool", c.randn(1, 4, 10, 10), kernel_shape=[5, 5], strides=[1, 1], pads=[2, 2, 2, 2])


@case("AveragePool")
def avgpool_exclude_pad(c):
    unary(c, "AveragePool", c.randn(2, 3, 11, 10), kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])


@case("AveragePool")
def avgpool_include_pad(c):
    unary(c, "AveragePool", c.randn(1, 3, 11, 10), kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
          count_include_pad=1)


@case("AveragePool")
def avgpool_ceil(c):
    unary(c, "AveragePool", c.randn(1, 2, 13, 13), kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)


@case("GlobalAveragePool")
def globalavgpool(c):
    unary(c, "GlobalAveragePool", c.randn(2, 7, 5, 9))


# ------------------------------------------------------------------ matrix
@case("Gemm")
def gemm_transb_bias(c):
    x = c.input(c.randn(3, 20))
    c.output(c.node("Gemm", [x, c.init(c.randn(17, 20, scale=0.2)), c.init(c.randn(17))], transB=1))


@case("Gemm")
def gemm_transa_alpha_beta(c):
    x = c.input(c.randn(20, 4))
    c.output(c.node("Gemm", [x, c.init(c.randn(20, 9, scale=0.2)), c.init(c.randn(4, 1))],
                    transA=1, alpha=0.7, beta=1.3))


@case("Gemm")
def gemm_no_bias_two_inputs(c):
    c.output(c.node("Gemm", [c.input(c.randn(5, 8)), c.input(c.randn(6, 8))], transB=1))


@case("MatMul")
def matmul_2d(c):
    binary(c, "MatMul", c.randn(7, 33), c.randn(33, 5))


@case("MatMul")
def matmul_batched_weight(c):
    x = c.input(c.randn(2, 3, 4, 5))
    c.output(c.node("MatMul", [x, c.init(c.randn(5, 6))]))


@case("MatMul")
def matmul_broadcast_batch(c):
    binary(c, "MatMul", c.randn(3, 1, 4, 5), c.randn(2, 5, 6))


# ------------------------------------------------------------------ unary
@case("Relu")
def relu(c):
    unary(c, "Relu", c.randn(2, 3, 5, 7))


@case("LeakyRelu")
def leakyrelu(c):
    unary(c, "LeakyRelu", c.randn(2, 3, 5, 7), alpha=0.1)


@case("Clip")
def clip_min_max(c):
    x = c.input(c.randn(2, 3, 5, 7, scale=5.0))
    c.output(c.node("Clip", [x, c.f32(0.0), c.f32(6.0)]))


@case("Clip")
def clip_min_only(c):
    x = c.input(c.randn(3, 17))
    c.output(c.node("Clip", [x, c.f32(-0.5), ""]))


@case("Clip")
def clip_no_bounds(c):
    unary(c, "Clip", c.randn(4, 5))


@case("Sigmoid")
def sigmoid(c):
    unary(c, "Sigmoid", c.randn(2, 3, 5, 7, scale=4.0))


@case("HardSigmoid")
def hardsigmoid_torch(c):
    unary(c, "HardSigmoid", c.randn(2, 3, 5, 7, scale=4.0), alpha=1.0 / 6, beta=0.5)


@case("HardSigmoid")
def hardsigmoid_default(c):
    unary(c, "HardSigmoid", c.randn(3, 11, scale=4.0))


@case("HardSwish")
def hardswish(c):
    unary(c, "HardSwish", c.randn(2, 3, 5, 7, scale=4.0))


@case("Tanh")
def tanh(c):
    unary(c, "Tanh", c.randn(2, 3, 5, 7, scale=2.0))


@case("Exp")
def exp(c):
    unary(c, "Exp", c.randn(2, 3, 5, 7))


@case("Log")
def log(c):
    unary(c, "Log", c.pos(2, 3, 5, 7))


@case("Sqrt")
def sqrt(c):
    unary(c, "Sqrt", c.pos(2, 3, 5, 7))


@case("Neg")
def neg(c):
    unary(c, "Neg", c.randn(4, 9))


@case("Abs")
def abs_(c):
    unary(c, "Abs", c.randn(4, 9))


@case("Floor")
def floor(c):
    unary(c, "Floor", c.randn(4, 9, scale=3.0))


@case("Ceil")
def ceil(c):
    unary(c, "Ceil", c.randn(4, 9, scale=3.0))


@case("Not")
def not_(c):
    c.output(c.node("Not", [c.input(c.rng.integers(0, 2, (3, 7)).astype(bool))]), BOOL)


@case("Cast")
def cast_float_to_int64(c):
    c.output(c.node("Cast", [c.input(c.randn(5, 6, scale=10.0))], to=I64), I64)


@case("Cast")
def cast_int64_to_float(c):
    c.output(c.node("Cast", [c.input(c.ints(5, 6, lo=-1000, hi=1000))], to=F32))


@case("Cast")
def cast_bool_to_float(c):
    c.output(c.node("Cast", [c.input(c.rng.integers(0, 2, (4, 5)).astype(bool))], to=F32))


@case("QuantizeLinear")
def quantizelinear_int8(c):
    x = c.randn(3, 4, 5, scale=8.0)
    x[0, 0, :3] = [0.125, -0.125, 300.0]  # ties to even, saturation
    zp = c.init(np.array(3, dtype=np.int8))
    c.output(c.node("QuantizeLinear", [c.input(x), c.f32(0.25), zp]), T.INT8)


@case("QuantizeLinear")
def quantizelinear_uint8_axis(c):
    scale = c.init(np.array([0.5, 0.1, 0.02, 1.0], dtype=np.float32))
    zp = c.init(np.array([128, 0, 10, 255], dtype=np.uint8))
    c.output(c.node("QuantizeLinear", [c.input(c.randn(2, 4, 3, scale=4.0)), scale, zp], axis=1), T.UINT8)


@case("DequantizeLinear")
def dequantizelinear_int8_input(c):
    x = c.input(c.rng.integers(-128, 128, (3, 4, 5)).astype(np.int8))
    zp = c.init(np.array(-3, dtype=np.int8))
    c.output(c.node("DequantizeLinear", [x, c.f32(0.25), zp]))


@case("DequantizeLinear")
def dequantizelinear_uint8_axis(c):
    x = c.input(c.rng.integers(0, 256, (2, 4, 3)).astype(np.uint8))
    scale = c.init(np.array([0.5, 0.1, 0.02, 1.0], dtype=np.float32))
    zp = c.init(np.array([128, 0, 10, 255], dtype=np.uint8))
    c.output(c.node("DequantizeLinear", [x, scale, zp], axis=1))


@case("DequantizeLinear")
def dequantizelinear_int32_bias(c):
    # QDQ models' biases: int32 codes at scale s_x * s_w, no zero point
    x = c.input(c.rng.integers(-2**31, 2**31 - 1, (6,), dtype=np.int64).astype(np.int32))
    c.output(c.node("DequantizeLinear", [x, c.f32(3e-5)]))


@case("Identity")
def identity(c):
    unary(c, "Identity", c.randn(2, 3, 4))


# ------------------------------------------------------------------ binary (broadcasting)
@case("Add")
def add_broadcast(c):
    binary(c, "Add", c.randn(2, 3, 4, 5), c.randn(3, 1, 5))


@case("Add")
def add_channel_bias_init(c):
    x = c.input(c.randn(2, 6, 5, 5))
    c.output(c.node("Add", [x, c.init(c.randn(1, 6, 1, 1))]))


@case("Sub")
def sub_broadcast_both(c):
    binary(c, "Sub", c.randn(4, 1, 6), c.randn(1, 5, 1))


@case("Mul")
def mul_scalar(c):
    x = c.input(c.randn(3, 4, 5))
    c.output(c.node("Mul", [x, c.f32(1.7)]))


@case("Mul")
def mul_broadcast(c):
    binary(c, "Mul", c.randn(2, 3, 4, 5), c.randn(5))


@case("Div")
def div_broadcast(c):
    binary(c, "Div", c.randn(2, 3, 4), (c.pos(3, 1, lo=0.5, hi=2.0) * np.where(c.ints(3, 1, hi=2) > 0, 1, -1)).astype(np.float32))


@case("Pow")
def pow_tensor(c):
    binary(c, "Pow", c.pos(3, 4, lo=0.2, hi=2.0), c.randn(3, 4))


@case("Pow")
def pow_square_const(c):
    x = c.input(c.randn(3, 8))
    c.output(c.node("Pow", [x, c.f32(2.0)]))


@case("Max")
def max_three_inputs(c):
    c.output(c.node("Max", [c.input(c.randn(2, 3, 4)), c.input(c.randn(3, 1)), c.input(c.randn(4))]))


@case("Min")
def min_two_inputs(c):
    binary(c, "Min", c.randn(2, 3, 4), c.randn(1, 4))


@case("Equal")
def equal_int64(c):
    binary(c, "Equal", c.ints(3, 4), c.ints(4), BOOL)


@case("Less")
def less_float(c):
    binary(c, "Less", c.randn(3, 4), c.randn(3, 1), BOOL)


@case("Greater")
def greater_float(c):
    binary(c, "Greater", c.randn(2, 3, 4), c.randn(4), BOOL)


@case("Where")
def where_broadcast(c):
    cond = c.input(c.rng.integers(0, 2, (3, 1, 5)).astype(bool))
    c.output(c.node("Where", [cond, c.input(c.randn(2, 1, 4, 5)), c.input(c.randn(4, 1))]))


# ------------------------------------------------------------------ reductions
@case("Softmax")
def softmax_last(c):
    unary(c, "Softmax", c.randn(2, 7, 91, scale=3.0))


@case("Softmax")
def softmax_axis1(c):
    unary(c, "Softmax", c.randn(2, 5, 3, 4, scale=3.0), axis=1)


@case("Softmax")
def softmax_axis0(c):
    unary(c, "Softmax", c.randn(4, 6, scale=3.0), axis=0)


@case("ReduceMean")
def reducemean_hw_keep(c):
    unary(c, "ReduceMean", c.randn(2, 3, 5, 7), axes=[2, 3], keepdims=1)


@case("ReduceMean")
def reducemean_neg_axis_nokeep(c):
    unary(c, "ReduceMean", c.randn(2, 3, 5), axes=[-1], keepdims=0)


@case("ReduceSum")
def reducesum_axis1_keep(c):
    x = c.input(c.randn(2, 6, 4, 3))
    c.output(c.node("ReduceSum", [x, c.i64([1])], keepdims=1))


@case("ReduceSum")
def reducesum_all(c):
    unary(c, "ReduceSum", c.randn(3, 4, 5), keepdims=0)


@case("ReduceL2")
def reducel2_channels_keep(c):
    # opset 17: axes is an attribute (the importer turns it into an input)
    unary(c, "ReduceL2", c.randn(2, 5, 3, 4), axes=[1], keepdims=1)


@case("ReduceMax")
def reducemax_axes(c):
    unary(c, "ReduceMax", c.randn(2, 3, 5, 4), axes=[1, -1], keepdims=0)


@case("ArgMax")
def argmax_axis_last_keep(c):
    c.output(c.node("ArgMax", [c.input(c.randn(2, 9, 91))], axis=-1, keepdims=1), I64)


@case("ArgMax")
def argmax_axis1_nokeep(c):
    c.output(c.node("ArgMax", [c.input(c.randn(2, 5, 7))], axis=1, keepdims=0), I64)


@case("TopK")
def topk_largest(c):
    v, i = c.node("TopK", [c.input(c.randn(2, 50)), c.i64([7])], n_out=2, axis=-1, largest=1, sorted=1)
    c.output(v)
    c.output(i, I64)


@case("TopK")
def topk_smallest_axis0(c):
    v, i = c.node("TopK", [c.input(c.randn(30, 3)), c.i64([5])], n_out=2, axis=0, largest=0, sorted=1)
    c.output(v)
    c.output(i, I64)


# ------------------------------------------------------------------ data movement
@case("Concat")
def concat_axis1_three(c):
    c.output(c.node("Concat", [c.input(c.randn(2, 3, 4)), c.input(c.randn(2, 1, 4)),
                               c.input(c.randn(2, 5, 4))], axis=1))


@case("Concat")
def concat_neg_axis(c):
    c.output(c.node("Concat", [c.input(c.randn(2, 3, 4)), c.input(c.randn(2, 3, 2))], axis=-1))


@case("Reshape")
def reshape_zero_minus1(c):
    x = c.input(c.randn(2, 3, 4, 5))
    c.output(c.node("Reshape", [x, c.i64([0, -1, 5])]))


@case("Reshape")
def reshape_flat(c):
    x = c.input(c.randn(2, 3, 4))
    c.output(c.node("Reshape", [x, c.i64([-1])]))


@case("Flatten")
def flatten_axis1(c):
    unary(c, "Flatten", c.randn(2, 3, 4, 5))


@case("Flatten")
def flatten_axis0(c):
    unary(c, "Flatten", c.randn(2, 3, 4), axis=0)


@case("Flatten")
def flatten_axis_neg1(c):
    unary(c, "Flatten", c.randn(2, 3, 4, 5), axis=-1)


@case("Transpose")
def transpose_nhwc(c):
    unary(c, "Transpose", c.randn(2, 3, 4, 5), perm=[0, 2, 3, 1])


@case("Transpose")
def transpose_default_reverse(c):
    unary(c, "Transpose", c.randn(2, 3, 4))


@case("Transpose")
def transpose_5d_head(c):
    unary(c, "Transpose", c.randn(2, 6, 4, 3, 5), perm=[0, 3, 4, 1, 2])


@case("Squeeze")
def squeeze_axes(c):
    x = c.input(c.randn(1, 3, 1, 4, 1))
    c.output(c.node("Squeeze", [x, c.i64([0, -1])]))


@case("Squeeze")
def squeeze_all(c):
    unary(c, "Squeeze", c.randn(1, 3, 1, 4))


@case("Unsqueeze")
def unsqueeze_axes(c):
    x = c.input(c.randn(3, 4))
    c.output(c.node("Unsqueeze", [x, c.i64([0, -1])]))


@case("Slice")
def slice_basic_steps(c):
    x = c.input(c.randn(6, 10, 7))
    c.output(c.node("Slice", [x, c.i64([1, 0]), c.i64([5, 100]), c.i64([0, 2]), c.i64([2, 3])]))


@case("Slice")
def slice_negative_step(c):
    x = c.input(c.randn(5, 9))
    c.output(c.node("Slice", [x, c.i64([-1]), c.i64([-100]), c.i64([1]), c.i64([-2])]))


@case("Slice")
def slice_negative_starts_no_axes(c):
    x = c.input(c.randn(4, 6, 8))
    c.output(c.node("Slice", [x, c.i64([-3, 1]), c.i64([-1, 5])]))


@case("Slice")
def slice_to_int64_max(c):
    x = c.input(c.randn(2, 3, 8, 9))
    c.output(c.node("Slice", [x, c.i64([-2]), c.i64([9223372036854775807]), c.i64([3])]))


@case("Gather")
def gather_negative_indices(c):
    x = c.input(c.randn(5, 4))
    c.output(c.node("Gather", [x, c.i64([-1, 0, 3, -5])], axis=0))


@case("Gather")
def gather_axis1_2d_indices(c):
    x = c.input(c.randn(2, 6, 3))
    c.output(c.node("Gather", [x, c.i64([[0, 5], [-2, 1]])], axis=1))


@case("Gather")
def gather_scalar_index(c):
    x = c.input(c.randn(3, 7))
    c.output(c.node("Gather", [x, c.i64(2)], axis=1))


@case("Gather")
def gather_indices_input(c):
    c.output(c.node("Gather", [c.input(c.randn(6, 5)), c.input(c.ints(2, 3, lo=-6, hi=6))], axis=0))


@case("Split")
def split_sizes(c):
    outs = c.node("Split", [c.input(c.randn(2, 6, 3)), c.i64([2, 3, 1])], n_out=3, axis=1)
    for o in outs:
        c.output(o)


@case("Split")
def split_equal_last(c):
    outs = c.node("Split", [c.input(c.randn(2, 3, 8))], n_out=2, axis=-1)
    for o in outs:
        c.output(o)


@case("Expand")
def expand_broadcast(c):
    x = c.input(c.randn(3, 1))
    c.output(c.node("Expand", [x, c.i64([2, 3, 4])]))


@case("Expand")
def expand_ones_in_shape(c):
    x = c.input(c.randn(2, 1, 5))
    c.output(c.node("Expand", [x, c.i64([1, 4, 1])]))


@case("Tile")
def tile(c):
    x = c.input(c.randn(2, 3, 4))
    c.output(c.node("Tile", [x, c.i64([2, 1, 3])]))


@case("Pad")
def pad_constant_value(c):
    x = c.input(c.randn(1, 2, 4, 5))
    c.output(c.node("Pad", [x, c.i64([0, 0, 1, 2, 0, 0, 3, 0]), c.f32(1.5)], mode="constant"))


@case("Pad")
def pad_reflect(c):
    x = c.input(c.randn(1, 2, 5, 6))
    c.output(c.node("Pad", [x, c.i64([0, 0, 2, 1, 0, 0, 1, 3])], mode="reflect"))


@case("Pad")
def pad_edge(c):
    x = c.input(c.randn(2, 4, 5))
    c.output(c.node("Pad", [x, c.i64([0, 1, 2, 0, 2, 1])], mode="edge"))


@case("Pad")
def pad_negative_crop(c):
    x = c.input(c.randn(1, 2, 6, 7))
    c.output(c.node("Pad", [x, c.i64([0, 0, -1, 2, 0, 0, 1, -2])], mode="constant"))


def resize(c, x, scales=None, sizes=None, **attrs):
    ins = [c.input(x), "", c.f32(scales) if scales is not None else ""]
    if sizes is not None:
        ins.append(c.i64(sizes))
    c.output(c.node("Resize", ins, **attrs))


@case("Resize")
def resize_nearest_x2_asymmetric_floor(c):
    resize(c, c.randn(1, 3, 5, 7), scales=[1, 1, 2, 2], mode="nearest",
           coordinate_transformation_mode="asymmetric", nearest_mode="floor")


@case("Resize")
def resize_nearest_sizes_asymmetric_floor(c):
    resize(c, c.randn(2, 2, 13, 13), sizes=[2, 2, 25, 25], mode="nearest",
           coordinate_transformation_mode="asymmetric", nearest_mode="floor")


@case("Resize")
def resize_nearest_half_pixel_round_prefer_floor(c):
    resize(c, c.randn(1, 2, 6, 5), sizes=[1, 2, 9, 13], mode="nearest",
           coordinate_transformation_mode="half_pixel", nearest_mode="round_prefer_floor")


@case("Resize")
def resize_nearest_down_round_prefer_ceil(c):
    resize(c, c.randn(1, 2, 11, 10), scales=[1, 1, 0.5, 0.6], mode="nearest",
           coordinate_transformation_mode="half_pixel", nearest_mode="round_prefer_ceil")


@case("Resize")
def resize_linear_half_pixel(c):
    resize(c, c.randn(1, 3, 5, 6), scales=[1, 1, 2, 1.5], mode="linear",
           coordinate_transformation_mode="half_pixel")


@case("Resize")
def resize_linear_align_corners(c):
    resize(c, c.randn(2, 2, 5, 7), sizes=[2, 2, 9, 12], mode="linear",
           coordinate_transformation_mode="align_corners")


@case("Resize")
def resize_linear_pytorch_half_pixel_down(c):
    resize(c, c.randn(1, 2, 12, 10), sizes=[1, 2, 5, 1], mode="linear",
           coordinate_transformation_mode="pytorch_half_pixel")


@case("Resize")
def resize_linear_asymmetric(c):
    resize(c, c.randn(1, 2, 4, 5), scales=[1, 1, 3, 2], mode="linear",
           coordinate_transformation_mode="asymmetric")


@case("Shape")
def shape_full(c):
    c.output(c.node("Shape", [c.input(c.randn(2, 3, 4, 5))]), I64)


@case("Shape")
def shape_start_end(c):
    c.output(c.node("Shape", [c.input(c.randn(2, 3, 4, 5))], start=-2), I64)


@case("Constant")
def constant_add(c):
    k = c.node("Constant", [], value=numpy_helper.from_array(c.randn(3, 4)))
    c.output(c.node("Add", [c.input(c.randn(2, 3, 4)), k]))


@case("ConstantOfShape")
def constantofshape_from_shape(c):
    shp = c.node("Shape", [c.input(c.randn(2, 3, 5))])
    c.output(c.node("ConstantOfShape", [shp], value=numpy_helper.from_array(np.array([1.5], np.float32))))


@case("Range")
def range_from_shape(c):
    shp = c.node("Shape", [c.input(c.randn(2, 7))])
    lim = c.node("Gather", [shp, c.i64(1)], axis=0)
    c.output(c.node("Range", [c.i64(0), lim, c.i64(2)]), I64)


@case("Range")
def range_float_add(c):
    r = c.node("Range", [c.f32(0.5), c.f32(7.0), c.f32(1.5)])
    c.output(c.node("Add", [c.input(c.randn(2, 5)), r]))


# ------------------------------------------------------------------ torch-style shape subgraph
@case("Reshape")
def view_from_shape_subgraph(c):
    x = c.input(c.randn(2, 24, 3, 5))
    n = c.node("Unsqueeze", [c.node("Gather", [c.node("Shape", [x]), c.i64(0)], axis=0), c.i64([0])])
    c.output(c.node("Reshape", [x, c.node("Concat", [n, c.i64([4]), c.i64([-1])], axis=0)]),
             shape=["n", 4, "m"])


def ops_def_ops(path):
    """ONNX-domain op names listed in src/graph/ops.def."""
    ops = []
    for m in re.finditer(r'^OP\(\s*\w+\s*,\s*"(\w+)"\s*,\s*"([^"]*)"\s*\)', open(path).read(), re.M):
        if m.group(2) == "":
            ops.append(m.group(1))
    return ops


def main(argv):
    ap = argparse.ArgumentParser(description="single-op ONNX models for every op of ops.def")
    ap.add_argument("--out", default=".")
    ap.add_argument("--only", default="", help="only cases whose name contains this")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--check", metavar="OPS_DEF", help="fail if an op of ops.def has no case")
    a = ap.parse_args(argv)
    if a.check:
        have = {op for _, op, _ in CASES}
        missing = [op for op in ops_def_ops(a.check) if op not in have]
        if missing:
            print("gen_ops: no case for: %s" % " ".join(missing), file=sys.stderr)
            return 1
    sel = [(n, op, fn) for n, op, fn in CASES if a.only in n]
    if a.list:
        for n, op, _ in sel:
            print(n, op)
        return 0
    os.makedirs(a.out, exist_ok=True)
    lines = []
    for i, (n, op, fn) in enumerate(sel):
        c = Case(n, np.random.default_rng([a.seed, i]))
        fn(c)
        onnx.save(c.model(), os.path.join(a.out, n + ".onnx"))
        tensorfile.write(os.path.join(a.out, n + ".in.bin"), c.feeds)
        lines.append("%s %s\n" % (n, op))
    with open(os.path.join(a.out, "cases.txt"), "w") as f:
        f.writelines(lines)
    print("gen_ops: %d cases in %s" % (len(sel), a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
