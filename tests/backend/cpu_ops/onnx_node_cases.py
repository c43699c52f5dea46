#!/usr/bin/python3
"""onnx_node_cases.py — convert the ONNX backend node tests of the ops the CPU backend owns
into test_cpu_ops cases: onnx_node_cases.py NODE_TEST_DIR OUT_DIR

Older-opset attribute forms are rewritten to odet's canonical forms (src/graph/ir.h): axes /
split / pads / starts... as inputs, Softmax < 13 with odet_coerce2d. Cases odet refuses on
purpose (strings, float16 math, sequences) are written with expect_fail so the refusal is
checked too; node tests of other ops or of unconvertible forms are skipped and counted."""
import glob
import os
import sys

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from odet_cases import write_case  # noqa: E402

OPS = set('''Relu LeakyRelu Clip Sigmoid HardSigmoid HardSwish Tanh Exp Log Sqrt Neg Abs Floor Ceil
Not Cast Identity Add Sub Mul Div Pow Max Min Equal Less Greater Where Softmax ReduceMean ReduceSum
ReduceMax ArgMax TopK Concat Reshape Flatten Transpose Squeeze Unsqueeze Slice Gather Split Expand
Tile Pad Resize Shape Constant ConstantOfShape Range'''.split())

# refused on purpose: float16 arithmetic (odet computes in float32 graphs; Cast handles f16)
REFUSED = ('test_max_float16', 'test_min_float16')


def attr_value(a):
    t = a.type
    if t == onnx.AttributeProto.INT:
        return a.i
    if t == onnx.AttributeProto.FLOAT:
        return float(a.f)
    if t == onnx.AttributeProto.STRING:
        return a.s
    if t == onnx.AttributeProto.INTS:
        return list(a.ints)
    if t == onnx.AttributeProto.FLOATS:
        return [float(f) for f in a.floats]
    if t == onnx.AttributeProto.TENSOR:
        return ('tensor', numpy_helper.to_array(a.t))
    raise ValueError('attribute type %d' % t)


def load_pb(path, elem_type):
    t = onnx.TensorProto()
    with open(path, 'rb') as f:
        t.ParseFromString(f.read())
    if t.data_type == onnx.TensorProto.STRING:
        raise ValueError('string tensor')
    if onnx.TensorProto.BFLOAT16 in (t.data_type, elem_type):
        # 1.12's test data stores bfloat16 as uint16 bits (or int32_data)
        bits = np.array(t.int32_data, dtype=np.uint16) if not t.raw_data else \
            np.frombuffer(t.raw_data, dtype=np.uint16)
        return bits.reshape(tuple(t.dims)), True
    return numpy_helper.to_array(t), False


def canonical(node, opset, inputs, attrs):
    """Rewrite older attribute forms into input forms; returns (inputs, attrs) or None."""
    op = node.op_type
    i64 = lambda v: np.array(v, dtype=np.int64)
    if op in ('Squeeze', 'Unsqueeze', 'ReduceMean', 'ReduceMax', 'ReduceSum') and 'axes' in attrs:
        inputs = inputs[:1] + [i64(attrs.pop('axes'))]
    elif op == 'Split' and 'split' in attrs:
        inputs = inputs[:1] + [i64(attrs.pop('split'))]
    elif op == 'Clip' and opset < 11:
        lo, hi = attrs.pop('min', None), attrs.pop('max', None)
        f = lambda v: None if v is None else np.array(v, dtype=inputs[0].dtype)
        inputs = inputs[:1] + [f(lo), f(hi)]
    elif op == 'Pad' and 'pads' in attrs:
        inputs = inputs[:1] + [i64(attrs.pop('pads')), np.array(attrs.pop('value', 0.0), dtype=inputs[0].dtype)]
    elif op == 'Slice' and 'starts' in attrs:
        inputs = inputs[:1] + [i64(attrs.pop('starts')), i64(attrs.pop('ends'))]
        if 'axes' in attrs:
            inputs.append(i64(attrs.pop('axes')))
    elif op == 'Softmax' and opset < 13:
        attrs['odet_coerce2d'] = 1
        attrs.setdefault('axis', 1)
    elif op == 'Resize' and opset < 11:
        return None
    return inputs, attrs


def convert(test_dir, out_dir, stats):
    name = os.path.basename(test_dir)
    model = onnx.load(os.path.join(test_dir, 'model.onnx'))
    g = model.graph
    # one op node, possibly fed by Constant nodes (their values become inputs)
    consts = {n.output[0]: numpy_helper.to_array(n.attribute[0].t) for n in g.node
              if n.op_type == 'Constant' and len(g.node) > 1 and n.attribute[0].name == 'value'}
    ops = [n for n in g.node if n.output[0] not in consts]
    if len(ops) != 1 or ops[0].op_type not in OPS or ops[0].domain not in ('', 'ai.onnx'):
        stats['other'] += 1
        return
    node = ops[0]
    opset = max([o.version for o in model.opset_import if o.domain in ('', 'ai.onnx')] or [1])
    if any(not vi.type.HasField('tensor_type') for vi in list(g.input) + list(g.output)):
        stats['skipped'].append(name + ' (not a tensor)')
        return
    attrs = {a.name: attr_value(a) for a in node.attribute}
    in_names = [vi.name for vi in g.input]
    out_names = [vi.name for vi in g.output]
    for ds in sorted(glob.glob(os.path.join(test_dir, 'test_data_set_*'))):
        try:
            ins, outs, bf16 = [], [], []
            for i, n in enumerate(node.input):
                if not n:
                    ins.append(None)
                    continue
                if n in consts:
                    ins.append(consts[n])
                    continue
                k = in_names.index(n)
                arr, is_bf16 = load_pb(os.path.join(ds, 'input_%d.pb' % k), g.input[k].type.tensor_type.elem_type)
                if is_bf16:
                    bf16.append('in:%d' % i)
                ins.append(arr)
            for i, n in enumerate(node.output):
                k = out_names.index(n)
                arr, is_bf16 = load_pb(os.path.join(ds, 'output_%d.pb' % k), g.output[k].type.tensor_type.elem_type)
                if is_bf16:
                    bf16.append('out:%d' % i)
                outs.append(arr)
        except ValueError as e:
            stats['skipped'].append('%s (%s)' % (name, e))
            return
        c = canonical(node, opset, ins, dict(attrs))
        if c is None:
            stats['skipped'].append(name + ' (old form)')
            return
        ins, a = c
        case = '%s_%s.bin' % (name, os.path.basename(ds)[len('test_data_set_'):])
        write_case(os.path.join(out_dir, case), node.op_type, ins, outs, a, tol=(1e-3, 1e-7),
                   expect_fail=name in REFUSED, bf16=bf16)
        stats['cases'] += 1


def main():
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for f in glob.glob(os.path.join(out, '*.bin')):
        os.remove(f)
    stats = {'cases': 0, 'other': 0, 'skipped': []}
    for d in sorted(glob.glob(os.path.join(src, 'test_*'))):
        if os.path.exists(os.path.join(d, 'model.onnx')):
            convert(d, out, stats)
    print('onnx node tests: %d cases written, %d tests of other ops, %d skipped' %
          (stats['cases'], stats['other'], len(stats['skipped'])))
    for s in stats['skipped']:
        print('  skipped', s)


if __name__ == '__main__':
    main()
