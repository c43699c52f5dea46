#!/usr/bin/env python3
"""peers.py — odet's CUDA backend against PyTorch on the same GPU (device machine).

    python3 bench/peers.py --odet DIR/odet [--batches 1,8,64,256] [--runs 50] [--out DIR]
                           [--duration 3] [--md BENCH.md]

Model: SSD300-R50 in NVIDIA's layout (bench/export_models.py's NvSSD300, seeded random init,
BatchNorm with random statistics), 300x300, 40.3 GFLOP/image (counted as 2 x MACs).

Rows, per batch:
  torch eager fp16  model.half() in channels_last on the GPU, network only, inputs already on
                    the GPU: CUDA events around each forward, 3 rotating random input buffers
                    (never zeros), 10 warm-up runs, median of --runs runs.
  odet fp16 net     `odet bench` on an fp16 CUDA plan without head: median GPU compute time
                    between the H2D and D2H events (the same span as the torch row: network
                    only, input on the GPU), CUDA graph replay, 1 stream.
  odet fp16 e2e     `odet bench` on an fp16 CUDA plan with the NVIDIA SSD head (decode + NMS
                    on the GPU): images/s of whole batches host input -> host detections with
                    2 exec contexts in flight (H2D, compute, D2H all counted).
torch.compile(mode="max-autotune") is skipped (about 7 minutes of autotuning; see BENCHMARKS.md).
Then odet fp16 vs odet fp32 at batch 8 (CUDA): max relative error of the network outputs
(max|a-b| / max|b| per output) and agreement of the final detections (class equal, IoU > 0.9).
odet runs as a subprocess of this script (same GPU, one after another).
Prints a table; with --md, replaces the section "## CUDA backend (H100)" of that file.
"""
import argparse
import datetime
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "gen"))
import export_models  # noqa: E402
import tensorfile  # noqa: E402

GFLOP = 40.3
CEIL = 777.0  # TFLOP/s, measured fp16 tensor-core ceiling (issue 4)


def log(*a):
    print(*a, flush=True)


def build_model():
    torch.manual_seed(0)
    m = export_models.NvSSD300()
    gen = torch.Generator().manual_seed(0)
    if hasattr(export_models, "random_init"):
        export_models.random_init(m, gen)
    return m.eval()


def bbox_view_reshape(self, src, loc, conf):
    """NvSSD300.bbox_view with reshape: view() fails on channels_last outputs."""
    ret = []
    for s, l, c in zip(src, loc, conf):
        ret.append((l(s).reshape(s.size(0), 4, -1), c(s).reshape(s.size(0), self.label_num, -1)))
    locs, confs = list(zip(*ret))
    return torch.cat(locs, 2).contiguous(), torch.cat(confs, 2).contiguous()


def torch_eager(model, batch, runs):
    m = model.cuda().half().to(memory_format=torch.channels_last)
    xs = []
    for i in range(3):
        x = torch.rand(batch, 3, 300, 300, device="cuda") * 2 - 1 + 0.05
        xs.append(x.half().contiguous(memory_format=torch.channels_last))
    with torch.inference_mode():
        for i in range(10):
            m(xs[i % 3])
        torch.cuda.synchronize()
        times = []
        for i in range(runs):
            a = torch.cuda.Event(enable_timing=True)
            b = torch.cuda.Event(enable_timing=True)
            a.record()
            m(xs[i % 3])
            b.record()
            b.synchronize()
            times.append(a.elapsed_time(b))
    return float(np.median(times))


def run(cmd, logf, timeout=300):
    t0 = time.time()
    # a carried build: libodet.so and the libraries it needs sit beside the CLI
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = ":".join(
        [os.path.dirname(os.path.abspath(cmd[0])), "/usr/local/cuda/lib64"] +
        ([env["LD_LIBRARY_PATH"]] if env.get("LD_LIBRARY_PATH") else []))
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
                           env=env)
    except subprocess.TimeoutExpired:
        with open(logf, "a") as f:
            f.write("$ %s\n(timed out after %d s)\n" % (" ".join(cmd), timeout))
        return 124, "timed out"
    with open(logf, "a") as f:
        f.write("$ %s\n%s\n(%.1f s, rc %d)\n" % (" ".join(cmd), p.stdout, time.time() - t0, p.returncode))
    return p.returncode, p.stdout


def bench_json(out):
    for line in out.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    return None


def write_report(a, dev, rows, check):
    """The table (stdout, peers_table.md, peers.json) and, with --md, the BENCHMARKS.md section."""
    lines = []
    lines.append("| batch | torch eager fp16 img/s | odet fp16 net img/s | × eager | % of ceiling | odet net median GPU ms | odet e2e (head, H2D+D2H, 2 streams) img/s | e2e / net | odet build s (net, e2e) |")
    lines.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        b = r["batch"]
        eager = b / r["eager_ms"] * 1e3 if "eager_ms" in r else None
        net = None
        if "net" in r:
            ms = r["net"]["compute_ms"]["median"]
            net = b / ms * 1e3
        e2e = r["e2e"]["images_per_s"] if "e2e" in r else None
        f = lambda v, fmt="%.0f": (fmt % v) if v is not None else "—"  # noqa: E731
        lines.append("| %d | %s | %s | %s | %s | %s | %s | %s | %s, %s |" % (
            b, f(eager), f(net), f(net / eager if net and eager else None, "%.2f"),
            f(net * GFLOP / 1e3 / CEIL * 100 if net else None, "%.1f%%"),
            f(r["net"]["compute_ms"]["median"] if "net" in r else None, "%.3f"), f(e2e),
            f(e2e / net if e2e and net else None, "%.2f"), f(r.get("net_build_s"), "%.1f"),
            f(r.get("e2e_build_s"), "%.1f")))
    lines.append("")
    lines.append("fp16 vs fp32 (odet CUDA, batch 8): " + "; ".join(
        "%s %s" % (k, ("max rel err %.2e" % v) if isinstance(v, float) else v) for k, v in check.items()))
    table = "\n".join(lines)
    log("\n" + table)
    with open(os.path.join(a.out, "peers_table.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(a.out, "peers.json"), "w") as f:
        json.dump({"device": dev, "rows": rows, "check": check}, f, indent=1)
    if a.md:
        date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
        sec = ["## CUDA backend (H100)", "",
               "Device: %s, torch %s, cuDNN %s; %s. Command: `python3 bench/peers.py --odet DIR/odet --batches %s"
               " --runs %d --duration %g` (odet fp16 plans, CUDA graph replay). SSD300-R50 NVIDIA layout,"
               " 40.3 GFLOP/image, ceiling 777 TFLOP/s. torch.compile max-autotune not run (time)." % (
                   dev, torch.__version__, torch.backends.cudnn.version(), date, a.batches, a.runs, a.duration),
               "", table, ""]
        text = open(a.md).read() if os.path.exists(a.md) else "# Benchmarks\n"
        k = text.find("## CUDA backend (H100)")
        if k >= 0:
            e = text.find("\n## ", k + 5)
            text = text[:k] + "\n".join(sec) + (text[e + 1:] if e >= 0 else "")
        else:
            text = text.rstrip() + "\n\n" + "\n".join(sec)
        with open(a.md, "w") as f:
            f.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--odet", required=True)
    ap.add_argument("--batches", default="1,8,64,256")
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--duration", type=float, default=3.0)
    ap.add_argument("--out", default="/tmp/peers")
    ap.add_argument("--md", default="")
    ap.add_argument("--skip-e2e", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    logf = os.path.join(a.out, "peers.log")
    odet = os.path.abspath(a.odet)
    batches = [int(b) for b in a.batches.split(",")]
    dev = torch.cuda.get_device_name(0)
    log("device:", dev, "torch", torch.__version__, "cudnn", torch.backends.cudnn.version())
    torch.backends.cudnn.benchmark = True

    model = build_model()
    onnx_path = os.path.join(a.out, "ssd300_r50.onnx")
    t0 = time.time()
    x = torch.rand(1, 3, 300, 300)
    export_models.export(model, x, onnx_path, ["locs", "confs"])
    log("exported %s in %.1f s" % (onnx_path, time.time() - t0))

    import types
    model.bbox_view = types.MethodType(bbox_view_reshape, model)
    rows = []
    for b in batches:
        r = {"batch": b}
        try:
            r["eager_ms"] = torch_eager(model, b, a.runs)
        except Exception as e:  # noqa: BLE001
            log("torch eager batch %d failed: %s" % (b, e))
        torch.cuda.empty_cache()
        for kind, head in (("net", None), ("e2e", "ssd300-nvidia")):
            if kind == "e2e" and a.skip_e2e:
                continue
            plan = os.path.join(a.out, "b%d_%s.plan" % (b, kind))
            cmd = [odet, "build", onnx_path, "-o", plan, "--backend", "cuda", "--precision", "fp16",
                   "--batch", str(b)] + (["--head", head] if head else ["--no-head"])
            t0 = time.time()
            rc, out = run(cmd, logf)
            r[kind + "_build_s"] = time.time() - t0
            if rc:
                log("odet build %s batch %d failed:\n%s" % (kind, b, out[-1500:]))
                continue
            cmd = [odet, "bench", plan, "--duration", str(a.duration), "--streams", "1" if kind == "net" else "2"]
            if kind == "net" and b == 64:
                cmd.append("--profile")
            rc, out = run(cmd, logf)
            j = bench_json(out)
            if rc or not j:
                log("odet bench %s batch %d failed:\n%s" % (kind, b, out[-1500:]))
                continue
            r[kind] = j
        rows.append(r)
        log(json.dumps(r))
        write_report(a, dev, rows, {})  # partial report after each batch

    # fp16 vs fp32 (CUDA) at batch 8: network outputs and detections
    check = {}
    xin = os.path.join(a.out, "in8.bin")
    rng = np.random.default_rng(5)
    xv = rng.uniform(-1, 1, size=(8, 3, 300, 300)).astype(np.float32)
    xv[np.abs(xv) < 0.05] = 0.5
    import onnx
    iname = onnx.load(onnx_path, load_external_data=False).graph.input[0].name
    tensorfile.write(xin, [(iname, xv)])
    outs = {}
    for p in ("fp32", "fp16"):
        for kind, extra in (("net", []), ("det", ["--head", "ssd300-nvidia"])):
            o = os.path.join(a.out, "o8_%s_%s.bin" % (kind, p))
            rc, out = run([odet, "run", onnx_path, "--input", xin, "--output", o, "--backend", "cuda",
                           "--precision", p] + extra, logf)
            if rc:
                log("odet run %s %s failed:\n%s" % (kind, p, out[-1500:]))
            else:
                outs[(kind, p)] = {n: t for n, t in tensorfile.read(o)}
    if ("net", "fp32") in outs and ("net", "fp16") in outs:
        for n, ref in outs[("net", "fp32")].items():
            o = outs[("net", "fp16")][n].astype(np.float64)
            check[n] = float(np.abs(o - ref).max() / max(np.abs(ref).max(), 1e-12))
    if ("det", "fp32") in outs and ("det", "fp16") in outs:
        r32, r16 = outs[("det", "fp32")], outs[("det", "fp16")]
        tot = agree = 0
        for bi in range(r32["det_count"].shape[0]):
            for i in range(int(r32["det_count"][bi])):
                tot += 1
                bx = r32["det_boxes"][bi, i]
                for j in range(int(r16["det_count"][bi])):
                    by = r16["det_boxes"][bi, j]
                    if r16["det_classes"][bi, j] != r32["det_classes"][bi, i]:
                        continue
                    iw = max(0.0, min(bx[2], by[2]) - max(bx[0], by[0]))
                    ih = max(0.0, min(bx[3], by[3]) - max(bx[1], by[1]))
                    u = (bx[2] - bx[0]) * (bx[3] - bx[1]) + (by[2] - by[0]) * (by[3] - by[1]) - iw * ih
                    if u > 0 and iw * ih / u > 0.9:
                        agree += 1
                        break
        check["detections"] = "%d of %d fp32 detections found in fp16 (class, IoU>0.9); counts fp32 %s fp16 %s" % (
            agree, tot, list(map(int, r32["det_count"])), list(map(int, r16["det_count"])))

    write_report(a, dev, rows, check)


if __name__ == "__main__":
    main()
