"""tensorfile.py — read and write odet's .bin tensor files (docs/formats.md).

Layout (little-endian, no padding): magic "ODTN", u32 version=1, u32 count, then per tensor
u32 name_len, name (UTF-8), u32 dtype (ONNX TensorProto numbering), u32 rank, i64 dims[rank],
data row-major. read() checks every length against the file size before allocating.

    write(path, [(name, ndarray), ...])   or write(path, {name: ndarray})
    read(path) -> list of (name, ndarray)
"""
import struct

import numpy as np

MAGIC = b"ODTN"
VERSION = 1
MAX_RANK = 8
MAX_NAME = 4096

# ONNX TensorProto.DataType <-> numpy
DTYPES = {
    1: np.float32, 2: np.uint8, 3: np.int8, 4: np.uint16, 5: np.int16, 6: np.int32,
    7: np.int64, 9: np.bool_, 10: np.float16, 11: np.float64, 12: np.uint32, 13: np.uint64,
}
CODES = {np.dtype(v): k for k, v in DTYPES.items()}


class TensorFileError(ValueError):
    pass


def write(path, tensors):
    """Write tensors (a list of (name, array) pairs or a dict) to path."""
    items = list(tensors.items()) if isinstance(tensors, dict) else list(tensors)
    out = [MAGIC, struct.pack("<II", VERSION, len(items))]
    for name, arr in items:
        arr = np.ascontiguousarray(arr)
        code = CODES.get(arr.dtype)
        if code is None:
            raise TensorFileError("%s: unsupported dtype %s" % (name, arr.dtype))
        if arr.ndim > MAX_RANK:
            raise TensorFileError("%s: rank %d > %d" % (name, arr.ndim, MAX_RANK))
        nb = name.encode("utf-8")
        out.append(struct.pack("<I", len(nb)))
        out.append(nb)
        out.append(struct.pack("<II", code, arr.ndim))
        out.append(struct.pack("<%dq" % arr.ndim, *arr.shape))
        out.append(arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes())
    with open(path, "wb") as f:
        f.write(b"".join(out))


def read(path):
    """Read a tensor file; returns a list of (name, array). Raises TensorFileError."""
    with open(path, "rb") as f:
        buf = f.read()
    size = len(buf)
    pos = 0

    def take(n, what):
        nonlocal pos
        if n < 0 or pos + n > size:
            raise TensorFileError("%s: truncated at offset %d reading %s" % (path, pos, what))
        b = buf[pos:pos + n]
        pos += n
        return b

    if take(4, "magic") != MAGIC:
        raise TensorFileError("%s: bad magic (not an ODTN tensor file)" % path)
    version, count = struct.unpack("<II", take(8, "header"))
    if version != VERSION:
        raise TensorFileError("%s: unsupported version %d" % (path, version))
    res = []
    for i in range(count):
        (nlen,) = struct.unpack("<I", take(4, "name length"))
        if nlen > MAX_NAME:
            raise TensorFileError("%s: tensor %d name length %d > %d" % (path, i, nlen, MAX_NAME))
        name = take(nlen, "name").decode("utf-8")
        code, rank = struct.unpack("<II", take(8, "dtype/rank"))
        if code not in DTYPES:
            raise TensorFileError("%s: tensor %s: unsupported dtype %d" % (path, name, code))
        if rank > MAX_RANK:
            raise TensorFileError("%s: tensor %s: rank %d > %d" % (path, name, rank, MAX_RANK))
        dims = struct.unpack("<%dq" % rank, take(8 * rank, "dims"))
        if any(d < 0 for d in dims):
            raise TensorFileError("%s: tensor %s: negative dim" % (path, name))
        dt = np.dtype(DTYPES[code]).newbyteorder("<")
        numel = 1
        for d in dims:
            numel *= d
        data = take(numel * dt.itemsize, "data")
        res.append((name, np.frombuffer(data, dtype=dt).reshape(dims).astype(dt.newbyteorder("="))))
    if pos != size:
        raise TensorFileError("%s: %d trailing bytes" % (path, size - pos))
    return res
