#!/usr/bin/python3
"""run_ops_ort.py — per op: odet's CPU reference against ONNX Runtime.

    run_ops_ort.py --odet BIN --work DIR [--only SUBSTR] [--rtol 1e-4] [--threads 2]
    run_ops_ort.py --reference-only --work DIR

Generates the single-op cases of tests/gen/gen_ops.py into DIR (every op of src/graph/ops.def
must have one), runs each with ONNX Runtime (tests/ref/ort_run.js) and with
`odet run CASE.onnx --input CASE.in.bin --output CASE.odet.bin --threads T`, compares with
compare.py's rule (max|diff|/max|ref| <= rtol; integer/bool outputs exactly). Prints one line
per case, a per-op table, and "N passed, N failed"; exit 1 when one failed.
--reference-only: no odet; checks that ORT runs every generated case (the fixtures are valid).
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(os.path.dirname(HERE), "gen")
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, GEN)
import refrun  # noqa: E402


def main(argv):
    ap = argparse.ArgumentParser(description="single-op cases: odet vs ONNX Runtime")
    ap.add_argument("--odet")
    ap.add_argument("--work", required=True)
    ap.add_argument("--only", default="")
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--odet-arg", action="append", default=[], help="extra argument to `odet run`")
    ap.add_argument("--reference-only", action="store_true")
    a = ap.parse_args(argv)
    if not a.reference_only and not a.odet:
        ap.error("--odet is required (or --reference-only)")
    name = "ops_ort_reference" if a.reference_only else "ops_ort"
    os.makedirs(a.work, exist_ok=True)
    rc, out, _ = refrun.run([refrun.PYTHON, os.path.join(GEN, "gen_ops.py"), "--out", a.work, "--only", a.only,
                             "--check", os.path.join(ROOT, "src", "graph", "ops.def")])
    print(out)
    if rc != 0:
        print("%s: 0 passed, 1 failed" % name)
        return 1
    with open(os.path.join(a.work, "cases.txt")) as f:
        cases = [line.split() for line in f if line.strip()]
    passed = failed = 0
    per_op = {}
    for case, op in cases:
        stem = os.path.join(a.work, case)
        model, inp, ref, got = stem + ".onnx", stem + ".in.bin", stem + ".ort.bin", stem + ".odet.bin"
        refrun.remove(ref, got)
        rc, out, _ = refrun.ort(model, inp, ref, 1)
        if rc != 0:
            ok, detail = False, "onnxruntime exit %d: %s" % (rc, out)
        elif a.reference_only:
            ok, detail = True, ""
        else:
            rc, out, _ = refrun.odet_run(a.odet, model, inp, got, a.threads, a.odet_arg)
            if rc != 0:
                ok, detail = False, "odet run exit %d: %s" % (rc, out.replace("\n", " | "))
            else:
                ok, worst, lines = refrun.compare_files(ref, got, a.rtol)
                detail = "max rel err %.2e" % worst
                if not ok:
                    detail += "\n" + "\n".join(lines)
        passed += ok
        failed += not ok
        p, f = per_op.get(op, (0, 0))
        per_op[op] = (p + ok, f + (not ok))
        print("%s %-48s %-20s %s" % ("PASS" if ok else "FAIL", case, op, detail), flush=True)
    print("\nper op (passed/total):")
    print("  " + "  ".join("%s %d/%d" % (op, p, p + f) for op, (p, f) in sorted(per_op.items())))
    bad = sorted(op for op, (p, f) in per_op.items() if f)
    if bad:
        print("ops with failures: %s" % " ".join(bad))
    print("%s: %d passed, %d failed" % (name, passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
