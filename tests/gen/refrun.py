"""refrun.py — helpers shared by the reference-comparison drivers (tests/e2e, tests/ops_ort):
run ONNX Runtime (tests/ref/ort_run.js) and `odet run` as subprocesses, compare outputs."""
import os
import shutil
import subprocess
import time

import compare
import tensorfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ORT_RUN = os.path.join(ROOT, "tests", "ref", "ort_run.js")
PYTHON = "/usr/bin/python3"  # Debian's python has onnx + numpy


def node_bin():
    return os.environ.get("NODE") or shutil.which("node") or "node"


def run(cmd, timeout=600):
    """Run cmd; returns (exit code, combined output tail, seconds). Never raises on failure."""
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        out = p.stdout.decode("utf-8", "replace")
        rc = p.returncode
    except subprocess.TimeoutExpired:
        out, rc = "timed out after %ds" % timeout, 124
    except OSError as e:
        out, rc = str(e), 127
    return rc, out.strip()[-2000:], time.monotonic() - t0


def ort(model, inp, out, threads=1):
    return run([node_bin(), ORT_RUN, model, inp, out, "--threads", str(threads)])


def odet_run(odet, model, inp, out, threads=2, extra=()):
    return run([odet, "run", model, "--input", inp, "--output", out, "--threads", str(threads)] + list(extra))


def compare_files(ref, out, rtol):
    """(ok, worst error, detail lines); an unreadable file is a failure, not an exception."""
    try:
        lines, worst, failed = compare.compare_files(ref, out, rtol)
    except (OSError, tensorfile.TensorFileError) as e:
        return False, float("inf"), ["  %s" % e]
    return failed == 0, worst, lines


def remove(*paths):
    for p in paths:
        try:
            os.remove(p)
        except FileNotFoundError:
            pass
