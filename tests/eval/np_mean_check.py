#!/usr/bin/python3
"""np_mean_check.py - odet eval's averaging (coco_np_mean, through tests/eval/np_mean.c) against
numpy's own np.mean, bit for bit, on arrays like summarize's (precisions tp/(tp+fp+eps), recalls,
zeros, ones; short, around numpy's 8192-element blocks and several blocks long). The sets must
include arrays whose mean changes in the last bit when summed in another order (sequentially, and
pairwise without the 8192-element blocks): otherwise agreement would not show numpy's order.
usage: np_mean_check.py path/to/np_mean"""
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from coco_ref import pairwise_sum, sequential_sum  # noqa: E402


def arrays(rng):
    lengths = [int(x) for x in rng.integers(1, 130, 40)] + [int(x) for x in rng.integers(130, 3000, 30)] + \
        [8191, 8192, 8193, 8200, 9090, 12120, 16384, 16385, 24241] + [int(x) for x in rng.integers(8193, 60000, 30)]
    for n in lengths:
        kind = rng.integers(0, 3)
        if kind == 0:  # precision after the envelope: tp / (fp + tp + spacing(1)), non-increasing runs
            tp = rng.integers(0, 500, n).astype(float)
            fp = rng.integers(0, 500, n).astype(float)
            a = np.sort(tp / (fp + tp + np.spacing(1)))[::-1].copy()
        elif kind == 1:  # recall-like: k / npig with zeros and ones
            a = rng.integers(0, 97, n) / 96.0
        else:
            a = rng.random(n) * rng.choice([1.0, 1e-3, 0.5], n)
        yield np.ascontiguousarray(a, dtype=np.float64)


def main():
    tool = sys.argv[1]
    rng = np.random.default_rng(18)
    arrs = list(arrays(rng))
    with tempfile.NamedTemporaryFile(suffix='.bin', delete=False) as f:
        for a in arrs:
            f.write(struct.pack('<q', len(a)) + a.tobytes())
        path = f.name
    try:
        out = subprocess.run([tool, path], check=True, capture_output=True, text=True).stdout.split()
    finally:
        os.unlink(path)
    passed = failed = seq_differs = unblocked_differs = 0
    for a, line in zip(arrs, out):
        want, got = float(np.mean(a)), float.fromhex(line)
        if got == want:
            passed += 1
        else:
            failed += 1
            print('n=%d: np.mean %r, odet %r' % (len(a), want, got))
        seq_differs += sequential_sum(a) / len(a) != want
        unblocked_differs += pairwise_sum(a.tolist()) / len(a) != want
    if len(out) != len(arrs):
        failed += 1
        print('%d means for %d arrays' % (len(out), len(arrs)))
    print('%d arrays: %d equal np.mean bit for bit; other orders differ on %d (sequential), %d (pairwise '
          'without blocks)' % (len(arrs), passed, seq_differs, unblocked_differs))
    for what, n in (('sequential', seq_differs), ('unblocked', unblocked_differs)):
        if n:
            passed += 1
        else:
            failed += 1
            print('no array depends on the %s order: the test lost its power' % what)
    print('np_mean: %d passed, %d failed (numpy %s)' % (passed, failed, np.__version__))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
