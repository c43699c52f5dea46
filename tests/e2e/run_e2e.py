#!/usr/bin/python3
"""run_e2e.py — end-to-end: seeded detection networks, odet vs ONNX Runtime.

    run_e2e.py --odet BIN --work DIR [--models M,...] [--batches 1,2] [--threads 2] [--rtol 1e-4]
    run_e2e.py --self-check --work DIR

Default mode: generate the models of tests/gen/gen_detectors.py (symbolic batch) into DIR; for
each model and batch B: random input (gen_input.py), ONNX Runtime CPU (tests/ref/ort_run.js),
`odet run MODEL.onnx --input in.bin --output out.bin --threads T` (odet builds the .onnx with
the batch of the input), then compare.py: every output's max|diff|/max|ref| <= rtol.
--self-check: checks the reference side alone, no odet: each model built small (--width-div),
ORT's outputs against an independent float64 numpy forward pass of the same network, output
shapes against the published ones (8732 anchors for SSD300, ...), and that compare rejects an
output perturbed by 1e-3 relative. Prints one line per check and "N passed, N failed";
exit 1 when one failed.
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(os.path.dirname(HERE), "gen")
sys.path.insert(0, GEN)
import refrun  # noqa: E402
import tensorfile  # noqa: E402

MODELS = ["ssd300_r50", "ssd300_vgg16", "retinanet_r50_fpn", "ssd300_r50_ext"]


def expected_shapes(model, batch, size=None):
    """Published output shapes (independent of the generator's own shape tracking)."""
    if model.startswith("ssd300_r50"):
        return {"locs": [batch, 4, 8732], "confs": [batch, 81, 8732]}
    if model == "ssd300_vgg16":
        return {"bbox_regression": [batch, 8732, 4], "cls_logits": [batch, 8732, 91]}
    if model == "retinanet_r50_fpn":
        sizes = []
        s = -(-size // 2)          # conv1 7x7 s2 p3
        s = -(-s // 2)             # maxpool 3x3 s2 p1
        s = -(-s // 2)             # layer2 -> P3
        for _ in range(5):         # P3..P7
            sizes.append(s)
            s = -(-s // 2)
        n = 9 * sum(v * v for v in sizes)
        return {"cls_logits": [batch, n, 91], "bbox_regression": [batch, n, 4]}
    raise KeyError(model)


class Tally:
    def __init__(self):
        self.passed = self.failed = 0

    def check(self, ok, label, detail=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print("%s %s%s" % ("PASS" if ok else "FAIL", label, (" " + detail) if detail else ""), flush=True)
        return ok


def gen(args, out):
    return refrun.run([refrun.PYTHON, os.path.join(GEN, "gen_detectors.py")] + args + ["--out", out])


def self_check(work, t):
    """Reference side only: ORT vs numpy on small width-divided models, published shapes."""
    configs = [("ssd300_r50", 300, 16), ("ssd300_vgg16", 300, 16), ("retinanet_r50_fpn", 128, 8),
               ("ssd300_r50_ext", 300, 4)]
    for model, size, wd in configs:
        d = os.path.join(work, "selfcheck")
        os.makedirs(d, exist_ok=True)
        onnx_path = os.path.join(d, model + ".onnx")
        inp, ref_np, ref_ort = (os.path.join(d, "%s.%s.bin" % (model, k)) for k in ("in", "np", "ort"))
        base = [model, "--size", str(size), "--width-div", str(wd), "--batch-symbolic"]
        rc, out, _ = gen(base, d)
        if not t.check(rc == 0, "%s generate" % model, "" if rc == 0 else out):
            continue
        if model.endswith("_ext"):
            data = onnx_path + ".data"
            ok = os.path.exists(data) and os.path.getsize(onnx_path) < os.path.getsize(data) // 10
            t.check(ok, "%s weights in external file %s" % (model, os.path.basename(data)))
        rc, out, _ = refrun.run([refrun.PYTHON, os.path.join(GEN, "gen_input.py"), onnx_path, inp, "--batch", "2"])
        if not t.check(rc == 0, "%s input" % model, out if rc else ""):
            continue
        rc, out, _ = gen(base + ["--numpy-ref", inp, ref_np], d)
        if not t.check(rc == 0, "%s numpy forward" % model, out if rc else ""):
            continue
        rc, out, secs = refrun.ort(onnx_path, inp, ref_ort, threads=2)
        if not t.check(rc == 0, "%s onnxruntime" % model, out if rc else ""):
            continue
        ok, worst, lines = refrun.compare_files(ref_np, ref_ort, 1e-5)
        t.check(ok, "%s ORT vs numpy float64 batch 2" % model, "max rel err %.2e" % worst)
        if not ok:
            print("\n".join(lines))
        got = {n: list(a.shape) for n, a in tensorfile.read(ref_ort)}
        exp = expected_shapes(model, 2, size)
        t.check(got == exp, "%s output shapes" % model, "%s (expected %s)" % (got, exp))
        # the comparison must reject a 1e-3 relative perturbation
        tensors = tensorfile.read(ref_ort)
        name, a = tensors[0]
        a = a.copy()
        a.flat[a.size // 2] += 1e-3 * float(np.abs(a).max())
        bad = os.path.join(d, model + ".perturbed.bin")
        tensorfile.write(bad, [(name, a)] + tensors[1:])
        ok, worst, _ = refrun.compare_files(ref_ort, bad, 1e-4)
        t.check(not ok, "%s compare rejects a 1e-3 perturbation" % model, "err %.2e" % worst)
    # full-size models: ORT runs them and the shapes are the published ones
    d = os.path.join(work, "full")
    for model in ("ssd300_r50", "retinanet_r50_fpn"):
        rc, out, _ = gen([model, "--batch-symbolic"], d)
        if not t.check(rc == 0, "%s full-size generate" % model, out if rc else ""):
            continue
        onnx_path = os.path.join(d, model + ".onnx")
        inp, ref = os.path.join(d, model + ".in.bin"), os.path.join(d, model + ".ort.bin")
        refrun.run([refrun.PYTHON, os.path.join(GEN, "gen_input.py"), onnx_path, inp, "--batch", "1"])
        rc, out, secs = refrun.ort(onnx_path, inp, ref, threads=2)
        if t.check(rc == 0, "%s full-size onnxruntime" % model, "%.1fs" % secs if rc == 0 else out):
            got = {n: list(a.shape) for n, a in tensorfile.read(ref)}
            exp = expected_shapes(model, 1, 256)
            t.check(got == exp, "%s full-size output shapes" % model, "%s" % got)
        refrun.remove(onnx_path)


def e2e(a, t):
    models_dir = os.path.join(a.work, "models")
    for model in a.models:
        rc, out, secs = gen([model, "--batch-symbolic", "--seed", str(a.seed)], models_dir)
        if not t.check(rc == 0, "%s generate" % model, out if rc else "%.1fs" % secs):
            continue
        onnx_path = os.path.join(models_dir, model + ".onnx")
        for b in a.batches:
            tag = "%s batch %d" % (model, b)
            stem = os.path.join(a.work, "%s.b%d" % (model, b))
            inp, ref, got = stem + ".in.bin", stem + ".ort.bin", stem + ".odet.bin"
            refrun.remove(ref, got)
            rc, out, _ = refrun.run([refrun.PYTHON, os.path.join(GEN, "gen_input.py"), onnx_path, inp,
                                     "--batch", str(b), "--seed", str(a.seed + b)])
            if not t.check(rc == 0, tag + " input", out if rc else ""):
                continue
            rc, out, s_ort = refrun.ort(onnx_path, inp, ref, a.threads)
            if not t.check(rc == 0, tag + " onnxruntime", out if rc else ""):
                continue
            rc, out, s_odet = refrun.odet_run(a.odet, onnx_path, inp, got, a.threads, a.odet_arg)
            if rc != 0:
                t.check(False, tag, "odet run exit %d: %s" % (rc, out))
                continue
            ok, worst, lines = refrun.compare_files(ref, got, a.rtol)
            t.check(ok, tag, "max rel err %.2e (ort %.1fs, odet %.1fs)" % (worst, s_ort, s_odet))
            if not ok or a.verbose:
                print("\n".join(lines))
        if not a.keep:
            refrun.remove(onnx_path, onnx_path + ".data")


def main(argv):
    ap = argparse.ArgumentParser(description="odet vs ONNX Runtime on seeded detection networks")
    ap.add_argument("--odet", help="the odet CLI binary")
    ap.add_argument("--work", required=True)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--batches", default="1,2")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--odet-arg", action="append", default=[], help="extra argument to `odet run`")
    ap.add_argument("--keep", action="store_true", help="keep generated models")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--self-check", action="store_true")
    a = ap.parse_args(argv)
    a.models = [m for m in a.models.split(",") if m]
    a.batches = [int(b) for b in a.batches.split(",") if b]
    os.makedirs(a.work, exist_ok=True)
    t = Tally()
    if a.self_check:
        self_check(a.work, t)
        name = "e2e_reference"
    else:
        if not a.odet:
            ap.error("--odet is required (or --self-check)")
        e2e(a, t)
        name = "e2e"
    print("%s: %d passed, %d failed" % (name, t.passed, t.failed))
    return 1 if t.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
