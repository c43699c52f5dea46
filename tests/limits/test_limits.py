#!/usr/bin/python3
"""test_limits.py - each limit of docs/limits.md that the CLI reaches, tried one past its value:
the exit code (2: bad input) and the one-line message the document gives. Big files are sparse
(the size limits are checked from the file's size before anything is read).
usage: test_limits.py path/to/odet     (Debian's python3: onnx + numpy)"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper

ONNX_MAX_FILE = 2**31 - 1      # ONNX_MAX_FILE_BYTES
TENSOR_MAX_BYTES = 1 << 36     # ODET_LIMIT_MAX_TENSOR_BYTES
MAX_NODES = 1 << 20            # ODET_LIMIT_MAX_NODES
MAX_NAME = 4096                # ODET_LIMIT_MAX_NAME
ATTR_ELEMS = 1 << 24           # ONNX_MAX_ATTR_ELEMS
TFJS_JSON = 64 << 20           # TFJS_MAX_JSON_BYTES
TFJS_WEIGHTS = 2 << 30         # TFJS_MAX_WEIGHT_BYTES
JSON_DEPTH = 64                # odet_ctx_opts.max_json_depth default
HEAD_CFG = 64 << 10
CALIB = 64 << 20
TENSOR_FILE_COUNT = 4096


def sparse(path, size):
    with open(path, 'wb') as f:
        f.truncate(size)
    return path


def relu_model(path, opset=13, in_shape=(1, 3, 4, 4)):
    x = helper.make_tensor_value_info('x', TensorProto.FLOAT, list(in_shape))
    y = helper.make_tensor_value_info('y', TensorProto.FLOAT, None)
    g = helper.make_graph([helper.make_node('Relu', ['x'], ['y'], name='r')], 'g', [x], [y])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', opset)])
    m.ir_version = 8
    with open(path, 'wb') as f:
        f.write(m.SerializeToString())
    return path


def varint(n):
    out = b''
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, payload):  # a length-delimited protobuf field
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def deep_onnx(path, levels):
    """ModelProto.graph(7) > GraphProto.node(1) > NodeProto.attribute(5) > AttributeProto.g(6) > ..."""
    g = b''
    for _ in range(levels):
        g = field(1, field(5, field(1, b'g') + field(6, g)))
    with open(path, 'wb') as f:
        f.write(varint(1 << 3) + varint(8) + field(7, g))
    return path


def attr_model(path, name='n', n_ints=1):
    """A Relu whose attribute `name` holds n_ints int64 zeros (one packed field), written as raw
    protobuf: ModelProto{ir_version 8, graph{node{x -> y, attribute}, input x, output y}, opset 13}."""
    x = helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 4]).SerializeToString()
    y = helper.make_tensor_value_info('y', TensorProto.FLOAT, None).SerializeToString()
    attr = field(1, name.encode()) + field(8, b'\x00' * n_ints) + varint(20 << 3) + varint(7)  # type INTS
    node = field(1, b'x') + field(2, b'y') + field(3, b'r') + field(4, b'Relu') + field(5, attr)
    graph = field(1, node) + field(2, b'g') + field(11, x) + field(12, y)
    opset = field(1, b'') + varint(2 << 3) + varint(13)
    with open(path, 'wb') as f:
        f.write(varint(1 << 3) + varint(8) + field(7, graph) + field(8, opset))
    return path


def tensor_file(path, tensors):
    """tensors: (name, dtype onnx code, dims, data bytes)"""
    out = b'ODTN' + struct.pack('<II', 1, len(tensors))
    for name, dt, dims, data in tensors:
        nb = name.encode()
        out += struct.pack('<I', len(nb)) + nb + struct.pack('<II', dt, len(dims))
        out += struct.pack('<%dq' % len(dims), *dims) + data
    with open(path, 'wb') as f:
        f.write(out)
    return path


def tfjs_model(d, nodes=None, shard_size=4, depth=0):
    os.makedirs(d, exist_ok=True)
    shard = sparse(os.path.join(d, 'w.bin'), shard_size)
    nodes = nodes if nodes is not None else [{'name': 'x', 'op': 'Placeholder', 'attr': {}}]
    m = {'format': 'graph-model', 'modelTopology': {'node': nodes},
         'weightsManifest': [{'paths': [os.path.basename(shard)], 'weights': []}]}
    text = json.dumps(m)
    if depth:
        text = text[:-1] + ', "deep": ' + '[' * depth + ']' * depth + '}'
    with open(os.path.join(d, 'model.json'), 'w') as f:
        f.write(text)
    return os.path.join(d, 'model.json')


def coco_gt(path, depth=0, number=None, string=None):
    gt = {'images': [{'id': 1, 'width': 10, 'height': 10}], 'categories': [{'id': 1, 'name': 'a'}],
          'annotations': [{'id': 1, 'image_id': 1, 'category_id': 1, 'bbox': [1, 1, 2, 2], 'area': 4,
                           'iscrowd': 0}]}
    text = json.dumps(gt)
    if depth:
        text = text[:-1] + ', "info": ' + '[' * depth + ']' * depth + '}'
    if number:
        text = text[:-1] + ', "info": ' + number + '}'
    if string:
        with open(path, 'w') as f:
            f.write(text[:-1] + ', "info": "')
            for _ in range(string >> 20):
                f.write('a' * (1 << 20))
            f.write('a' * (string & ((1 << 20) - 1)) + '"}')
        return path
    with open(path, 'w') as f:
        f.write(text)
    return path


def png(path, w=8, h=8):  # a gray RGB PNG, zlib only
    import zlib
    def chunk(t, b):
        return struct.pack('>I', len(b)) + t + b + struct.pack('>I', zlib.crc32(t + b) & 0xffffffff)
    raw = b''.join(b'\0' + b'\x80' * (3 * w) for _ in range(h))
    data = (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) +
            chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
    open(path, 'wb').write(data)
    return path


def main():
    odet = sys.argv[1]
    passed = failed = 0
    with tempfile.TemporaryDirectory() as d:
        p = lambda name: os.path.join(d, name)
        relu = relu_model(p('relu.onnx'))
        plan = p('relu.plan')
        subprocess.run([odet, 'build', relu, '-o', plan, '--no-head'], check=True, capture_output=True)
        raw = bytearray(open(plan, 'rb').read())
        struct.pack_into('<I', raw, 56, 17)  # n_sec, one past PLAN_MAX_SECTIONS
        open(p('sections.plan'), 'wb').write(raw)
        results = json.dumps([{'image_id': 1, 'category_id': 1, 'bbox': [1, 1, 2, 2], 'score': 0.5}])
        open(p('dt.json'), 'w').write(results)
        with open(p('big_head.cfg'), 'w') as f:
            f.write('# padding\n' * (HEAD_CFG // 10 + 1))
        cases = [  # name, argv, expected exit code, expected message substring
            ('onnx file size', ['inspect', sparse(p('big.onnx'), ONNX_MAX_FILE + 1)], 2,
             'file is %d bytes, limit is %d' % (ONNX_MAX_FILE + 1, ONNX_MAX_FILE)),
            ('onnx rank', ['inspect', relu_model(p('rank9.onnx'), in_shape=(1,) * 9)], 2, 'rank 9, limit 8'),
            ('tensor bytes', ['inspect', relu_model(p('huge.onnx'), in_shape=(1 << 20, 1 << 20, 1 << 10))], 2,
             'exceeds the tensor size limit (%d bytes)' % TENSOR_MAX_BYTES),
            ('protobuf nesting', ['inspect', deep_onnx(p('deep.onnx'), 30)], 2,
             'nested deeper than 64'),
            ('attribute elements', ['inspect', attr_model(p('ints.onnx'), n_ints=ATTR_ELEMS + 1)], 2,
             'limit %d' % ATTR_ELEMS),
            ('name length', ['inspect', attr_model(p('name.onnx'), name='a' * (MAX_NAME + 1))], 2,
             'overlong name'),
            ('onnx opset', ['inspect', relu_model(p('opset.onnx'), opset=99)], 2, 'opset 99'),
            ('tfjs model.json size', ['inspect', sparse(p('model.json'), TFJS_JSON + 1)], 2,
             'limit is %d' % TFJS_JSON),
            ('tfjs weight bytes', ['inspect', tfjs_model(p('tw'), shard_size=TFJS_WEIGHTS + 1)], 2,
             'weight shards exceed %d bytes' % TFJS_WEIGHTS),
            ('tfjs nodes', ['inspect', tfjs_model(p('tn'), nodes=[{}] * (MAX_NODES + 1))], 2,
             '%d nodes (limit %d)' % (MAX_NODES + 1, MAX_NODES)),
            ('tfjs JSON depth', ['inspect', tfjs_model(p('td'), depth=JSON_DEPTH)], 2,
             'JSON nesting deeper than %d' % JSON_DEPTH),
            ('plan file size', ['inspect', sparse(p('big.plan'), TENSOR_MAX_BYTES + 1)], 2,
             'limit is %d' % TENSOR_MAX_BYTES),
            ('plan sections', ['inspect', p('sections.plan')], 2, 'sections 17'),
            ('tensor file rank', ['run', relu, '--input', tensor_file(p('r9.bin'), [('x', 1, [1] * 9, b'\0' * 4)]),
                                  '--output', p('o.bin')], 2, 'rank 9 (limit 8)'),
            ('tensor file count', ['run', relu, '--input',
                                   tensor_file(p('n.bin'), [('t%d' % i, 1, [1], b'\0' * 4)
                                                            for i in range(TENSOR_FILE_COUNT + 1)]),
                                   '--output', p('o.bin')], 2, '%d tensors (limit %d)' % (TENSOR_FILE_COUNT + 1, TENSOR_FILE_COUNT)),
            ('tensor file name', ['run', relu, '--input',
                                  tensor_file(p('nm.bin'), [('a' * (MAX_NAME + 1), 1, [1], b'\0' * 4)]),
                                  '--output', p('o.bin')], 2, 'limit %d' % MAX_NAME),
            ('tensor file size', ['run', relu, '--input', sparse(p('big.bin'), TENSOR_MAX_BYTES + 1),
                                  '--output', p('o.bin')], 2, 'limit is %d' % TENSOR_MAX_BYTES),
            ('head config size', ['inspect', relu, '--head', p('big_head.cfg')], 2, 'limit is %d' % HEAD_CFG),
            ('calibration cache size', ['build', relu, '-o', p('i8.plan'), '--no-head', '--precision', 'int8',
                                        '--calib', sparse(p('big.calib'), CALIB + 1)], 2, 'limit is %d' % CALIB),
            ('COCO JSON depth', ['eval', '--annotations', coco_gt(p('gt_deep.json'), depth=JSON_DEPTH + 1), '--results', p('dt.json')], 2,
             'JSON nesting deeper than %d' % JSON_DEPTH),
            ('COCO JSON number', ['eval', '--annotations', coco_gt(p('gt_num.json'), number='1' * 1025), '--results', p('dt.json')], 2,
             'number literal longer than 1024 characters'),
            ('COCO JSON string', ['eval', '--annotations', coco_gt(p('gt_str.json'), string=(1 << 26) + 1), '--results', p('dt.json')], 2,
             'string longer than %d bytes' % (1 << 26)),
        ]
        cases += [
            ('pipeline batch', ['detect', relu, png(p('gray.png')), '--batch', '4097', '--head', 'ssd300-nvidia',
                                '--no-draw', '--backend', 'cpu', '--json', p('o.json')], 2,
             "batch 4097 over the pipeline's 4096"),
            ('video sources', ['video', relu] + [p('none.mp4')] * 4097, 2, '4097 sources; one run takes at most 4096'),
        ]
        for name, argv, code, msg in cases:
            r = subprocess.run([odet] + argv, capture_output=True, text=True, errors='replace')
            err = r.stderr.strip()
            ok = r.returncode == code and msg in err and len(err.splitlines()) >= 1
            if ok:
                passed += 1
                print('ok   %-24s exit %d: %s' % (name, r.returncode, err.splitlines()[-1][:150]))
            else:
                failed += 1
                print('FAIL %-24s exit %d (want %d, message with %r): %s' % (name, r.returncode, code, msg,
                                                                            err[-400:]))
            for f in os.listdir(d):  # a refused input leaves nothing behind
                if f in ('o.bin', 'i8.plan', 'o.json'):
                    failed += 1
                    print('FAIL %s: %s written' % (name, f))
                    os.unlink(os.path.join(d, f))
    print('limits: %d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
