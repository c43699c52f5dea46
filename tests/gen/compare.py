#!/usr/bin/python3
"""compare.py — compare two .bin tensor files output by output.

    compare.py ref.bin out.bin [--rtol 1e-4]

For each tensor of ref.bin, the tensor of out.bin with the same name (or, when the names do
not match and the counts are equal, the one at the same position) must have the same shape;
its error is max|out - ref| / max|ref| (max|ref| taken as 1 when ref is all zeros; integer and
bool tensors must match exactly). Prints one line per output; exit 0 when every error is <=
rtol, 1 when one is above or an output is missing/mis-shaped, 2 on unreadable files/usage.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tensorfile  # noqa: E402


def rel_error(ref, out):
    """max|out-ref| / max|ref| in float64; inf when out has NaN/Inf where ref is finite."""
    r = ref.astype(np.float64)
    o = out.astype(np.float64)
    if r.size == 0:
        return 0.0
    bad = ~np.isfinite(o) & np.isfinite(r)
    if bad.any():
        return float("inf")
    scale = float(np.max(np.abs(r[np.isfinite(r)]))) if np.isfinite(r).any() else 1.0
    if scale == 0.0:
        scale = 1.0
    both = np.isfinite(r) & np.isfinite(o)
    # non-finite ref values (e.g. -inf from Log(0)) must be reproduced exactly
    if (~np.isfinite(r)).any() and not np.array_equal(r[~np.isfinite(r)], o[~np.isfinite(r)],
                                                      equal_nan=True):
        return float("inf")
    return float(np.max(np.abs(o[both] - r[both]), initial=0.0)) / scale


def compare_files(ref_path, out_path, rtol):
    """Compare two tensor files; returns (lines, worst error, number of failed outputs).
    Raises OSError / tensorfile.TensorFileError on unreadable files."""
    ref = tensorfile.read(ref_path)
    out = tensorfile.read(out_path)
    by_name = dict(out)
    by_pos = len(out) == len(ref) and not all(n in by_name for n, _ in ref)
    worst, failed, lines = 0.0, 0, []
    for i, (name, r) in enumerate(ref):
        o = out[i][1] if by_pos else by_name.get(name)
        if o is None:
            lines.append("  %-28s MISSING in %s" % (name, out_path))
            failed += 1
            worst = float("inf")
            continue
        if tuple(o.shape) != tuple(r.shape):
            lines.append("  %-28s SHAPE %s != ref %s" % (name, list(o.shape), list(r.shape)))
            failed += 1
            worst = float("inf")
            continue
        if r.dtype.kind in "biu" or o.dtype.kind in "biu":
            err = 0.0 if np.array_equal(r, o) else float("inf")
        else:
            err = rel_error(r, o)
        ok = err <= rtol
        failed += not ok
        worst = max(worst, err)
        lines.append("  %-28s %-18s rel_err %.3e %s" % (name, list(r.shape), err, "ok" if ok else "FAIL"))
    return lines, worst, failed


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("ref")
    ap.add_argument("out")
    ap.add_argument("--rtol", type=float, default=1e-4)
    a = ap.parse_args(argv)
    try:
        lines, worst, failed = compare_files(a.ref, a.out, a.rtol)
    except (OSError, tensorfile.TensorFileError) as e:
        print("compare: %s" % e, file=sys.stderr)
        return 2
    print("\n".join(lines))
    print("max rel error %.3e (rtol %.1e): %s" % (worst, a.rtol, "ok" if not failed else "FAIL"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
