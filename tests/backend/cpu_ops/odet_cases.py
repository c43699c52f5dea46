"""odet_cases.py — write single-node test cases for test_cpu_ops in odet's tensor file format
(docs/formats.md). One case = one .bin file holding the op name, inputs, expected outputs and
attributes as named tensors (naming scheme: see test_cpu_ops.c)."""
import os
import struct

import numpy as np

DTYPES = {
    np.dtype(np.float32): 1, np.dtype(np.uint8): 2, np.dtype(np.int8): 3, np.dtype(np.uint16): 4,
    np.dtype(np.int16): 5, np.dtype(np.int32): 6, np.dtype(np.int64): 7, np.dtype(np.bool_): 9,
    np.dtype(np.float16): 10, np.dtype(np.float64): 11, np.dtype(np.uint32): 12, np.dtype(np.uint64): 13,
}
BF16 = 16


def _tensor(name, arr, dtype_code=None):
    arr = np.array(arr, order="C")  # (ascontiguousarray would make rank 0 into rank 1)
    code = dtype_code if dtype_code is not None else DTYPES[arr.dtype]
    nb = name.encode()
    out = struct.pack('<I', len(nb)) + nb + struct.pack('<II', code, arr.ndim)
    out += b''.join(struct.pack('<q', d) for d in arr.shape)
    return out + arr.astype(arr.dtype.newbyteorder('<')).tobytes()


def write_case(path, op, inputs, outputs, attrs=None, tol=None, expect_fail=False, bf16=()):
    """inputs/outputs: lists of numpy arrays (None = omitted optional input).
    attrs: {name: int | float | str | list[int] | list[float] | ('tensor', ndarray)}.
    bf16: names ("in:0", "out:0") of uint16 arrays that hold bfloat16 bits."""
    ts = [_tensor('op', np.frombuffer(op.encode(), dtype=np.uint8))]
    for i, a in enumerate(inputs):
        if a is not None:
            n = 'in:%d' % i
            ts.append(_tensor(n, np.asarray(a), BF16 if n in bf16 else None))
    for i, a in enumerate(outputs):
        n = 'out:%d' % i
        ts.append(_tensor(n, np.asarray(a), BF16 if n in bf16 else None))
    for k, v in (attrs or {}).items():
        if isinstance(v, tuple) and v[0] == 'tensor':
            ts.append(_tensor('attr_t:' + k, np.asarray(v[1])))
        elif isinstance(v, (bool, int, np.integer)):
            ts.append(_tensor('attr_i:' + k, np.array(int(v), dtype=np.int64)))
        elif isinstance(v, (float, np.floating)):
            ts.append(_tensor('attr_f:' + k, np.array(v, dtype=np.float32)))
        elif isinstance(v, (str, bytes)):
            b = v.encode() if isinstance(v, str) else v
            ts.append(_tensor('attr_s:' + k, np.frombuffer(b, dtype=np.uint8)))
        elif isinstance(v, (list, tuple)) and all(isinstance(e, (int, np.integer)) for e in v):
            ts.append(_tensor('attr_is:' + k, np.array(v, dtype=np.int64).reshape(-1)))
        else:
            ts.append(_tensor('attr_fs:' + k, np.array(v, dtype=np.float32).reshape(-1)))
    if tol is not None:
        ts.append(_tensor('tol', np.array(tol, dtype=np.float64)))
    if expect_fail:
        ts.append(_tensor('expect_fail', np.array([1], dtype=np.uint8)))
    data = b'ODTN' + struct.pack('<II', 1, len(ts)) + b''.join(ts)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(data)


def read_tensors(path):
    """Read a tensor file into an ordered {name: ndarray} (bfloat16 comes back as uint16 bits)."""
    codes = {v: k for k, v in DTYPES.items()}
    codes[BF16] = np.dtype(np.uint16)
    with open(path, 'rb') as f:
        data = f.read()
    if data[:4] != b'ODTN':
        raise ValueError(path + ': not a tensor file')
    count, off, out = struct.unpack_from('<I', data, 8)[0], 12, {}
    for _ in range(count):
        (nl,) = struct.unpack_from('<I', data, off)
        name = data[off + 4:off + 4 + nl].decode()
        off += 4 + nl
        code, rank = struct.unpack_from('<II', data, off)
        off += 8
        dims = struct.unpack_from('<%dq' % rank, data, off)
        off += 8 * rank
        dt = codes[code]
        n = int(np.prod(dims)) if rank else 1
        out[name] = np.frombuffer(data, dtype=dt.newbyteorder('<'), count=n, offset=off).reshape(dims).astype(dt)
        off += n * dt.itemsize
    return out
