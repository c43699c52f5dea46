#!/usr/bin/python3
"""gen_models.py OUTDIR — fixtures of the ONNX importer tests, generated at test time.

OUTDIR/ok/*.onnx      valid models, one older-opset form each (test_onnx_import.c checks the
                      canonical IR form); expected constant data as OUTDIR/ok/<model>.<name>.raw
                      (numpy's little-endian bytes, independent of the code under test)
OUTDIR/ok/ext/        a legal external-data model (weights.bin at offsets 0 and 4096)
OUTDIR/bad/*          malformed or unsupported models; the expected status is in the name:
                      <status>__<case>.onnx or <status>__<case>/model.onnx
OUTDIR/small.onnx     small valid model for truncation and bit-flip runs; its last field is
                      the only opset_import, so every proper prefix lacks it or is truncated
OUTDIR/tensor.pb      a standalone TensorProto
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
ok_dir = os.path.join(out, "ok")
bad_dir = os.path.join(out, "bad")
os.makedirs(ok_dir, exist_ok=True)
os.makedirs(bad_dir, exist_ok=True)
rng = np.random.default_rng(1234)


def model(nodes, inputs, outputs, inits=(), opset=13, check=True, domains=()):
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    ops = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, v) for d, v in domains]
    m = helper.make_model(g, opset_imports=ops, producer_name="")
    m.ir_version = 7
    if check:
        # declared output shapes from ONNX's own shape inference (the checker wants shapes)
        inferred = onnx.shape_inference.infer_shapes(m)
        known = {v.name: v for v in list(inferred.graph.value_info) + list(inferred.graph.output)
                 if v.type.tensor_type.HasField("shape")}
        for o in m.graph.output:
            if not o.type.tensor_type.HasField("shape") and o.name in known:
                o.CopyFrom(known[o.name])
        onnx.checker.check_model(m)
    return m


def vi(name, dtype=TensorProto.FLOAT, shape=None):
    return helper.make_tensor_value_info(name, dtype, shape)


def save(m, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(m.SerializeToString())


def expect(model_name, value_name, arr):
    with open(os.path.join(ok_dir, f"{model_name}.{value_name}.raw"), "wb") as f:
        f.write(np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes())


X4 = vi("x", shape=["N", 3, "H", "W"])

# ---- small valid model (truncation/bit flips): Conv + Relu, raw_data initializers
w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
b = rng.standard_normal(4).astype(np.float32)
small = model([helper.make_node("Conv", ["x", "w", "b"], ["c"], name="conv1", pads=[1, 1, 1, 1]),
               helper.make_node("Relu", ["c"], ["y"], name="relu1")],
              [vi("x", shape=["N", 3, 8, 8])], [vi("y", shape=["N", 4, 8, 8])],
              [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
save(small, os.path.join(out, "small.onnx"))
expect("small", "w", w)
with open(os.path.join(out, "tensor.pb"), "wb") as f:
    f.write(numpy_helper.from_array(w, "w").SerializeToString())

# ---- older-opset forms
ok = {}
ok["squeeze_v11"] = model([helper.make_node("Squeeze", ["x"], ["y"], name="sq", axes=[0, 2])],
                          [vi("x", shape=[1, 3, 1, 5])], [vi("y")], opset=11)
ok["unsqueeze_v11"] = model([helper.make_node("Unsqueeze", ["x"], ["y"], name="usq", axes=[0])],
                            [vi("x", shape=[3])], [vi("y")], opset=11)
ok["split_v11"] = model([helper.make_node("Split", ["x"], ["a", "b"], name="sp", axis=0, split=[2, 3])],
                        [vi("x", shape=[5])], [vi("a"), vi("b")], opset=11)
ok["reducemean_v13"] = model([helper.make_node("ReduceMean", ["x"], ["y"], name="rm", axes=[1, -1],
                                               keepdims=0)],
                             [vi("x", shape=[2, 3, 4])], [vi("y")], opset=13)
ok["reducesum_v11"] = model([helper.make_node("ReduceSum", ["x"], ["y"], name="rs")],
                            [vi("x", shape=[2, 3])], [vi("y")], opset=11)
ok["clip_v10"] = model([helper.make_node("Clip", ["x"], ["y"], name="clip", max=6.0)],
                       [vi("x", shape=[4])], [vi("y")], opset=10)
ok["clip_v7_f64"] = model([helper.make_node("Clip", ["x"], ["y"], name="clip", min=-1.5, max=6.0)],
                          [vi("x", TensorProto.DOUBLE, [4])], [vi("y", TensorProto.DOUBLE)], opset=7)
ok["pad_v10"] = model([helper.make_node("Pad", ["x"], ["y"], name="pad", pads=[0, 1, 0, 2], value=1.5,
                                        mode="constant")],
                      [vi("x", shape=[2, 2])], [vi("y")], opset=10)
ok["slice_v9"] = model([helper.make_node("Slice", ["x"], ["y"], name="sl", starts=[1], ends=[3], axes=[1])],
                       [vi("x", shape=[2, 4])], [vi("y")], opset=9)
ok["topk_v9"] = model([helper.make_node("TopK", ["x"], ["v", "i"], name="tk", k=3, axis=-1)],
                      [vi("x", shape=[2, 5])], [vi("v"), vi("i", TensorProto.INT64)], opset=9)
ok["upsample_v7"] = model([helper.make_node("Upsample", ["x"], ["y"], name="up", scales=[1.0, 1.0, 2.0, 2.0])],
                          [vi("x", shape=[1, 1, 2, 2])], [vi("y")], opset=7)
scales = np.array([1, 1, 2, 3], np.float32)
ok["upsample_v9"] = model([helper.make_node("Upsample", ["x", "s"], ["y"], name="up", mode="linear")],
                          [vi("x", shape=[1, 1, 2, 2])], [vi("y")],
                          [numpy_helper.from_array(scales, "s")], opset=9)
ok["resize_v10"] = model([helper.make_node("Resize", ["x", "s"], ["y"], name="rz", mode="nearest")],
                         [vi("x", shape=[1, 1, 2, 2])], [vi("y")],
                         [numpy_helper.from_array(scales, "s")], opset=10)
ok["softmax_v11"] = model([helper.make_node("Softmax", ["x"], ["y"], name="sm")],
                          [vi("x", shape=[2, 3, 4])], [vi("y")], opset=11)
ok["softmax_v13"] = model([helper.make_node("Softmax", ["x"], ["y"], name="sm", axis=1)],
                          [vi("x", shape=[2, 3, 4])], [vi("y")], opset=13)
cval = rng.standard_normal((2, 3)).astype(np.float32)
expect("constant_v13", "c", cval)
expect("constant_v13", "cf", np.array(2.5, np.float32))
expect("constant_v13", "ci", np.array([3, -4, 5], np.int64))
ok["constant_v13"] = model([helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(cval)),
                            helper.make_node("Constant", [], ["cf"], value_float=2.5),
                            helper.make_node("Constant", [], ["ci"], value_ints=[3, -4, 5]),
                            helper.make_node("Add", ["x", "c"], ["y"], name="add")],
                           [vi("x", shape=[2, 3])], [vi("y"), vi("cf"), vi("ci", TensorProto.INT64)])
ok["dropout_v12"] = model([helper.make_node("Dropout", ["x", "r"], ["y"], name="drop")],
                          [vi("x", shape=[4])], [vi("y")],
                          [numpy_helper.from_array(np.array(0.3, np.float32), "r")], opset=12)
ok["dropout_v7"] = model([helper.make_node("Dropout", ["x"], ["y", ""], name="drop", ratio=0.2)],
                         [vi("x", shape=[4])], [vi("y")], opset=7)
seven = np.array([7], np.int64)
expect("cos_v13", "cos1.value", seven)
expect("cos_v13", "cos2.value", np.array([0], np.float32))
ok["cos_v13"] = model([helper.make_node("ConstantOfShape", ["s"], ["a"], name="cos1",
                                        value=numpy_helper.from_array(seven)),
                       helper.make_node("ConstantOfShape", ["s"], ["b"], name="cos2")],
                      [vi("s", TensorProto.INT64, [2])], [vi("a", TensorProto.INT64), vi("b")])
ok["resize_v13"] = model([helper.make_node("Resize", ["x", "", "s"], ["y"], name="rz", mode="linear",
                                           coordinate_transformation_mode="half_pixel")],
                         [X4], [vi("y")], [numpy_helper.from_array(scales, "s")], opset=13)
ok["maxpool_v12"] = model([helper.make_node("MaxPool", ["x"], ["y"], name="mp", kernel_shape=[2, 2],
                                            ceil_mode=1, storage_order=1)],
                          [X4], [vi("y")], opset=12)

# typed-field initializers (helper.make_tensor writes float_data, int32_data, ...), as outputs
typed = {
    "f32": (TensorProto.FLOAT, np.array([[1.5, -2.0, 3.25]], np.float32)),
    "f16": (TensorProto.FLOAT16, np.array([0.5, -1.0, 65504.0, 1e-3], np.float16)),
    "f64": (TensorProto.DOUBLE, np.array([1e300, -2.5], np.float64)),
    "i8": (TensorProto.INT8, np.array([-128, 127, 5], np.int8)),
    "u8": (TensorProto.UINT8, np.array([0, 255, 7], np.uint8)),
    "i16": (TensorProto.INT16, np.array([-32768, 32767], np.int16)),
    "u16": (TensorProto.UINT16, np.array([65535, 1], np.uint16)),
    "i32": (TensorProto.INT32, np.array([-2147483648, 2147483647], np.int32)),
    "i64": (TensorProto.INT64, np.array([[-(2 ** 62)], [2 ** 62 + 3]], np.int64)),
    "u32": (TensorProto.UINT32, np.array([4294967295, 3], np.uint32)),
    "u64": (TensorProto.UINT64, np.array([18446744073709551615, 9], np.uint64)),
    "bool": (TensorProto.BOOL, np.array([True, False, True], np.bool_)),
    "empty": (TensorProto.FLOAT, np.zeros((0, 3), np.float32)),
}
inits, outs = [], []
for name, (dt, arr) in typed.items():
    vals = arr.flatten().tolist()
    t = helper.make_tensor(name, dt, arr.shape, vals)
    assert not t.HasField("raw_data")
    inits.append(t)
    outs.append(vi(name, dt, list(arr.shape)))
    expect("typed", name, arr)
ok["typed"] = model([], [], outs, inits, check=False)

for name, m in ok.items():
    save(m, os.path.join(ok_dir, name + ".onnx"))

# ---- legal external data: two tensors in one file (offsets 0 and 4096) + one in a subfolder
ext = os.path.join(ok_dir, "ext")
os.makedirs(os.path.join(ext, "sub"), exist_ok=True)
ea = rng.standard_normal((3, 5)).astype(np.float32)
eb = rng.integers(-1000, 1000, size=(7,)).astype(np.int64)
ec = rng.standard_normal((2, 2)).astype(np.float16)
with open(os.path.join(ext, "weights.bin"), "wb") as f:
    f.write(ea.tobytes())
    f.write(b"\0" * (4096 - ea.nbytes))
    f.write(eb.tobytes())
with open(os.path.join(ext, "sub", "c.bin"), "wb") as f:
    f.write(ec.tobytes())


def ext_tensor(name, arr, location, offset=None, length=None):
    t = TensorProto()
    t.name = name
    t.data_type = onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[arr.dtype]
    t.dims.extend(arr.shape)
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", offset), ("length", length)):
        if v is not None:
            e = t.external_data.add()
            e.key, e.value = k, str(v)
    return t


alias = os.path.join(ext, "alias.bin")  # a symlink that stays inside the folder is legal
if os.path.lexists(alias):
    os.remove(alias)
os.symlink("sub/c.bin", alias)
m = model([helper.make_node("Add", ["x", "ea"], ["y"], name="add")], [vi("x", shape=[3, 5])],
          [vi("y"), vi("eb", TensorProto.INT64), vi("ec", TensorProto.FLOAT16), vi("ed", TensorProto.FLOAT16)],
          [ext_tensor("ea", ea, "weights.bin", 0, ea.nbytes), ext_tensor("eb", eb, "weights.bin", 4096),
           ext_tensor("ec", ec, "sub/c.bin"), ext_tensor("ed", ec, "alias.bin")], check=False)
save(m, os.path.join(ext, "model.onnx"))
expect("ext", "ea", ea)
expect("ext", "eb", eb)
expect("ext", "ec", ec)
expect("ext", "ed", ec)

# ---- bad models: <expected status>__<case>
bad = {}
relu = [helper.make_node("Relu", ["x"], ["y"], name="relu")]
X, Y = [vi("x", shape=[2])], [vi("y")]


def raw_init(name, dt, dims, nbytes):
    t = TensorProto()
    t.name, t.data_type = name, dt
    t.dims.extend(dims)
    t.raw_data = b"\0" * nbytes
    return t


bad["limit__dims_overflow"] = model(relu, X, Y, [raw_init("w", TensorProto.FLOAT, [1 << 32] * 3, 4)], check=False)
bad["limit__dims_too_big"] = model(relu, X, Y, [raw_init("w", TensorProto.FLOAT, [1 << 30, 1 << 30], 4)], check=False)
bad["limit__rank9"] = model(relu, X, Y, [raw_init("w", TensorProto.FLOAT, [1] * 9, 4)], check=False)
bad["limit__input_rank9"] = model(relu, [vi("x", shape=[1] * 9)], Y, check=False)
bad["bad_input__negative_dim"] = model(relu, X, Y, [raw_init("w", TensorProto.FLOAT, [-1, 2], 8)], check=False)
bad["bad_input__raw_size"] = model(relu, X, Y, [raw_init("w", TensorProto.FLOAT, [2, 3], 20)], check=False)
t = helper.make_tensor("w", TensorProto.FLOAT, [2, 3], [1.0] * 6)
del t.float_data[5]
bad["bad_input__typed_count"] = model(relu, X, Y, [t], check=False)
t = helper.make_tensor("w", TensorProto.INT64, [2], [1, 2])
t.ClearField("int64_data")
t.float_data.extend([1.0, 2.0])
bad["bad_input__typed_field"] = model(relu, X, Y, [t], check=False)
t = helper.make_tensor("w", TensorProto.FLOAT, [2], [1.0, 2.0])
t.ClearField("float_data")
bad["bad_input__no_data"] = model(relu, X, Y, [t], check=False)
bad["unsupported__string_init"] = model(relu, X, Y, [helper.make_tensor("w", TensorProto.STRING, [1], [b"a"])],
                                        check=False)
bad["unsupported__unknown_op"] = model(
    [helper.make_node("NonZero", ["b"], ["y"], name="nz_1")],
    [vi("b", shape=[1, 4, 4]), vi("s", shape=[1, 1, 4])], [vi("y", TensorProto.INT64)], opset=17)
bad["unsupported__other_domain"] = model(
    [helper.make_node("FusedConv", ["x"], ["y"], name="fc", domain="com.microsoft")], X, Y,
    domains=[("com.microsoft", 1)], check=False)
bad["unsupported__opset6"] = model(relu, X, Y, opset=6, check=False)
bad["unsupported__opset22"] = model(relu, X, Y, opset=22, check=False)
bad["unsupported__auto_pad"] = model([helper.make_node("Conv", ["x", "w"], ["y"], name="c", auto_pad="FOO")],
                                     [vi("x", shape=[1, 1, 3, 3])], Y,
                                     [numpy_helper.from_array(np.ones((1, 1, 1, 1), np.float32), "w")], check=False)
bad["unsupported__unknown_attr"] = model([helper.make_node("Relu", ["x"], ["y"], name="r", frobnicate=1)], X, Y,
                                         check=False)
bad["unsupported__internal_attr"] = model([helper.make_node("Softmax", ["x"], ["y"], name="s", odet_coerce2d=1)],
                                          X, Y, check=False)
bad["bad_input__attr_type"] = model([helper.make_node("Conv", ["x", "w"], ["y"], name="c", group=1.0)],
                                    [vi("x", shape=[1, 1, 3, 3])], Y,
                                    [numpy_helper.from_array(np.ones((1, 1, 1, 1), np.float32), "w")], check=False)
bad["unsupported__dropout_mask"] = model([helper.make_node("Dropout", ["x"], ["d", "mask"], name="drop"),
                                          helper.make_node("Not", ["mask"], ["y"], name="not")],
                                         X, [vi("y", TensorProto.BOOL)], check=False)
bad["unsupported__maxpool_indices"] = model(
    [helper.make_node("MaxPool", ["x"], ["y", "idx"], name="mp", kernel_shape=[2, 2])],
    [X4], [vi("y"), vi("idx", TensorProto.INT64)], check=False)
bad["bad_input__cycle"] = model([helper.make_node("Relu", ["b"], ["a"], name="ra"),
                                 helper.make_node("Add", ["a", "x"], ["b"], name="rb"),
                                 helper.make_node("Relu", ["a"], ["y"], name="out")], X, Y, check=False)
bad["bad_input__undefined_input"] = model([helper.make_node("Relu", ["nope"], ["y"], name="relu_u")], X, Y,
                                          check=False)
bad["bad_input__duplicate_output"] = model([helper.make_node("Relu", ["x"], ["y"], name="r1"),
                                            helper.make_node("Relu", ["x"], ["y"], name="r2")], X, Y, check=False)
bad["bad_input__duplicate_init"] = model(relu, X, Y, [numpy_helper.from_array(np.ones(2, np.float32), "w"),
                                                      numpy_helper.from_array(np.ones(2, np.float32), "w")],
                                         check=False)
bad["bad_input__undefined_output"] = model(relu, X, [vi("zz")], check=False)
bad["bad_input__arity"] = model([helper.make_node("Add", ["x"], ["y"], name="add1")], X, Y, check=False)
bad["bad_input__no_default_opset"] = model(relu, X, Y, check=False)
del bad["bad_input__no_default_opset"].opset_import[:]
bad["bad_input__no_graph"] = model(relu, X, Y, check=False)
bad["bad_input__no_graph"].ClearField("graph")
for name, m in bad.items():
    save(m, os.path.join(bad_dir, name + ".onnx"))

# external data that must be refused, each in its own folder; plus files outside those folders
with open(os.path.join(bad_dir, "outside.bin"), "wb") as f:
    f.write(b"\0" * 64)
ext_cases = {
    "bad_input__ext_absolute": ("/etc/hostname", None),
    "bad_input__ext_dotdot": ("../outside.bin", None),
    "bad_input__ext_dotdot_inner": ("sub/../../outside.bin", None),
    "bad_input__ext_symlink": ("link.bin", None),
    "bad_input__ext_offset": ("w.bin", 4096),
    "bad_input__ext_short": ("w.bin", 8),
    "bad_input__ext_missing": ("missing.bin", None),
    "bad_input__ext_fifo": ("fifo.bin", None),  # must not block the importer
    "bad_input__ext_dir": ("sub", None),
}
for case, (loc, off) in ext_cases.items():
    d = os.path.join(bad_dir, case)
    os.makedirs(os.path.join(d, "sub"), exist_ok=True)
    with open(os.path.join(d, "w.bin"), "wb") as f:
        f.write(b"\0" * 16)
    if case.endswith("symlink"):
        p = os.path.join(d, "link.bin")
        if os.path.lexists(p):
            os.remove(p)
        os.symlink("../outside.bin", p)
    if case.endswith("fifo") and not os.path.exists(os.path.join(d, "fifo.bin")):
        os.mkfifo(os.path.join(d, "fifo.bin"))
    arr = np.zeros(4, np.float32)
    m = model([helper.make_node("Add", ["x", "w"], ["y"], name="add")], [vi("x", shape=[4])], Y,
              [ext_tensor("w", arr, loc, off)], check=False)
    save(m, os.path.join(d, "model.onnx"))
print("gen_models: wrote", len(ok), "valid,", len(bad) + len(ext_cases), "bad models to", out)
