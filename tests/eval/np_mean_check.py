#!/usr/bin/python3
"""np_mean_check.py - odet eval's averaging (coco_np_mean, through tests/eval/np_mean.c) against
np.mean as numpy >= 2.3 computes it (pycocotools' summarize), bit for bit, on arrays like
summarize's (precisions tp/(tp+fp+eps), recalls, zeros, ones; short, around 8192 elements and
several times that). The reference orders are spelled out (coco_ref.py) and checked against the
numpy installed: numpy >= 2.3 must give the whole-array pairwise sum, numpy < 2.3 its blocks of
8192 (so the same pairwise kernel is checked against real numpy either way). The arrays must
include some whose mean changes in the last bit under the other orders (sequential, blocked),
or the agreement would not test the order.  usage: np_mean_check.py path/to/np_mean"""
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from coco_ref import blocked_mean, np_mean, sequential_sum  # noqa: E402


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
    new_numpy = tuple(int(x) for x in np.__version__.split('.')[:2]) >= (2, 3)
    passed = failed = seq_differs = blocked_differs = numpy_agrees = 0
    for a, line in zip(arrs, out):
        want, got = np_mean(a), float.fromhex(line)
        if got == want:
            passed += 1
        else:
            failed += 1
            print('n=%d: numpy >= 2.3 order %r, odet %r' % (len(a), want, got))
        seq_differs += sequential_sum(a) / len(a) != want
        blocked_differs += blocked_mean(a) != want
        # the installed numpy: its own order, spelled out, must be what np.mean gives
        numpy_agrees += float(np.mean(a)) == (want if new_numpy else blocked_mean(a))
    if len(out) != len(arrs):
        failed += 1
        print('%d means for %d arrays' % (len(out), len(arrs)))
    print('%d arrays: %d equal the numpy >= 2.3 order bit for bit; other orders differ on %d (sequential), '
          '%d (numpy < 2.3 blocks); numpy %s itself agrees with its order on %d' % (
              len(arrs), passed, seq_differs, blocked_differs, np.__version__, numpy_agrees))
    if numpy_agrees == len(arrs):
        passed += 1
    else:
        failed += 1
        print('the installed numpy does not sum as its version says: the reference orders are wrong')
    for what, n in (('sequential', seq_differs), ('blocked', blocked_differs)):
        if n:
            passed += 1
        else:
            failed += 1
            print('no array depends on the %s order: the test lost its power' % what)
    print('np_mean: %d passed, %d failed (numpy %s)' % (passed, failed, np.__version__))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
