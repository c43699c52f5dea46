#!/usr/bin/python3
"""ort_cases.py — re-derive the expected outputs of test_cpu_ops cases from ONNX Runtime:
ort_cases.py CASES_DIR ORT_NODE_MODULE WORK_DIR OUT_DIR [NODE_EXE]

For every case (skipping expect_fail ones) a single-node ONNX model (default domain, opset 18;
Softmax with odet_coerce2d as opset 11) is written with the case's inputs; ort_run.js runs them
all in ONNX Runtime for node; each case is then written again to OUT_DIR with ORT's outputs as
the expected values, so test_cpu_ops compares the CPU kernels against ORT. Cases ORT cannot
run are left out; any beyond the known list below fails this step."""
import glob
import os
import shutil
import struct
import subprocess
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from odet_cases import DTYPES, _tensor, read_tensors, write_case  # noqa: E402


# cases ORT does not run: odet defines what ORT refuses or lacks a kernel for
ORT_REFUSES = {
    'div_int32_trunc_zero',                # integer division by zero: odet gives 0, ORT fails
    'pad_rank0',                           # ORT refuses rank-0 Pad
    'reducemean_int8', 'reducemean_uint8',  # not in ORT's type constraints for opset 18
    'reducesum_int8', 'reducesum_uint8',
    'reshape_int32_shape',                 # ONNX wants int64 shapes; odet accepts int32 too
    'resize_08_linear_half_pixel',         # ORT's linear Resize is 2-d/3-d/4-d/5-d only
    'where_bool',                          # no bool Where kernel in ORT
}


def model_of(ts):
    op = bytes(ts['op']).decode()
    ins = {int(k[3:]): v for k, v in ts.items() if k.startswith('in:')}
    outs = {int(k[4:]): v for k, v in ts.items() if k.startswith('out:')}
    n_in = max(ins) + 1 if ins else 0
    attrs, opset = {}, 18
    for k, v in ts.items():
        kind, _, name = k.partition(':')
        if kind == 'attr_i':
            attrs[name] = int(v)
        elif kind == 'attr_is':
            attrs[name] = [int(e) for e in v]
        elif kind == 'attr_f':
            attrs[name] = float(v)
        elif kind == 'attr_fs':
            attrs[name] = [float(e) for e in v]
        elif kind == 'attr_s':
            attrs[name] = bytes(v).decode()
        elif kind == 'attr_t':
            attrs[name] = numpy_helper.from_array(v)
    if attrs.pop('odet_coerce2d', 0):
        opset = 11
    if op == 'Split' and 1 not in ins:
        attrs['num_outputs'] = len(outs)
    in_names = ['in%d' % i if i in ins else '' for i in range(n_in)]
    node = helper.make_node(op, in_names, ['out%d' % i for i in range(len(outs))], **attrs)
    vi = lambda n, a: helper.make_tensor_value_info(n, DTYPES[a.dtype], a.shape)
    graph = helper.make_graph([node], 'case', [vi('in%d' % i, ins[i]) for i in sorted(ins)],
                              [vi('out%d' % i, outs[i]) for i in sorted(outs)])
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset)])
    m.ir_version = 8
    return m, op, ins, outs, attrs


def main():
    cases, ort_module, work, out = sys.argv[1:5]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    os.makedirs(out, exist_ok=True)
    for f in glob.glob(os.path.join(out, '*.bin')):
        os.remove(f)
    todo = {}
    for path in sorted(glob.glob(os.path.join(cases, '*.bin'))):
        ts = read_tensors(path)
        if 'expect_fail' in ts:
            continue
        name = os.path.basename(path)[:-4]
        m, op, ins, outs, attrs = model_of(ts)
        d = os.path.join(work, name)
        os.makedirs(d)
        onnx.save(m, os.path.join(d, 'model.onnx'))
        if ins:
            body = b''.join(_tensor('in%d' % i, ins[i]) for i in sorted(ins))
            with open(os.path.join(d, 'in.bin'), 'wb') as f:
                f.write(b'ODTN' + struct.pack('<II', 1, len(ins)) + body)
        todo[name] = ts
    node = sys.argv[5] if len(sys.argv) > 5 else 'node'
    subprocess.run([node, os.path.join(os.path.dirname(os.path.abspath(__file__)), 'ort_run.js'), ort_module,
                    work], check=True)
    written, refused = 0, []
    for name, ts in todo.items():
        d = os.path.join(work, name)
        if not os.path.exists(os.path.join(d, 'out.bin')):
            err = open(os.path.join(d, 'error.txt')).read() if os.path.exists(os.path.join(d, 'error.txt')) else '?'
            refused.append('%s: %s' % (name, err[:150]))
            continue
        got = list(read_tensors(os.path.join(d, 'out.bin')).values())
        op = bytes(ts['op']).decode()
        ins = {int(k[3:]): v for k, v in ts.items() if k.startswith('in:')}
        inputs = [ins.get(i) for i in range(max(ins) + 1)] if ins else []
        attrs = {}
        for k, v in ts.items():
            kind, _, an = k.partition(':')
            if kind in ('attr_i', 'attr_f'):
                attrs[an] = v.item()
            elif kind == 'attr_is':
                attrs[an] = [int(e) for e in v]
            elif kind == 'attr_fs':
                attrs[an] = [float(e) for e in v]
            elif kind == 'attr_s':
                attrs[an] = bytes(v).decode()
            elif kind == 'attr_t':
                attrs[an] = ('tensor', v)
        tol = tuple(ts['tol']) if 'tol' in ts else None
        write_case(os.path.join(out, name + '.bin'), op, inputs, got, attrs, tol=tol)
        written += 1
    print('ort_cases: %d cases with ONNX Runtime outputs, %d not run by ORT' % (written, len(refused)))
    unexpected = [r for r in refused if r.split(':')[0] not in ORT_REFUSES]
    for r in refused:
        print('  %s%s' % ('UNEXPECTED ' if r in unexpected else '', r))
    return 1 if unexpected else 0


if __name__ == '__main__':
    sys.exit(main())
