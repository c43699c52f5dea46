#!/usr/bin/env python3
"""peers.py — odet's CUDA backend against PyTorch on the same GPU (device machine).

    python3 bench/peers.py --odet DIR/odet [--models ssd300_r50,ssd300_vgg16,retinanet_r50_fpn]
                           [--batches B,B,..] [--batches-for MODEL=B,B,.. ...] [--runs 50]
                           [--duration 3] [--out DIR] [--md BENCH.md] [--time-budget S]
                           [--compile] [--compile-cache DIR] [--skip-e2e] [--fresh]
    python3 bench/peers.py --only-compile [--models ..] [--batches-for ..] --out DIR [--md ..]
                           [--compile-cache DIR] [--time-budget S]
    python3 bench/peers.py --merge OTHER/peers.json .. --out DIR [--md ..]

Models (bench/export_models.py build(), seeded random init as export_models.random_init: He-normal
convs, BatchNorm with random affine and running statistics). The module that is exported to ONNX
(fp32, batch dynamic, fixed H x W) is the one PyTorch runs, so both run the same network.
GFLOP/image counted as 2 x MACs (issue 4's figures); ceiling 777 TFLOP/s (measured fp16 tensor-core
ceiling). Default batches (--batches replaces every model's list, --batches-for one model's):
  ssd300_r50         NVIDIA SSD300-R50 (NvSSD300), 300x300,  40.3 GFLOP, head ssd300-nvidia, 1,8,64,256
  ssd300_vgg16       torchvision SSD300-VGG16,      300x300,  69.7 GFLOP, head ssd300-vgg16,  1,8,32,64
  retinanet_r50_fpn  torchvision RetinaNet-R50-FPN, 800x800, 303   GFLOP, head retinanet,     1,8,32

Rows, per model and batch, one after another on the same GPU (odet runs as a subprocess):
  eager      PyTorch fp16: model.half() in channels_last on the GPU, network only, inputs already on
             the GPU; CUDA events around each forward, 3 rotating random input buffers (never zeros),
             10 warm-up runs, median of up to --runs runs (timed runs stop after --duration s, at
             least 3), under inference_mode, cudnn.benchmark on. NvSSD300.bbox_view uses reshape:
             its view() fails on channels_last outputs (the torchvision heads split channels with
             view, which works).
  compile    (--compile, --only-compile) torch.compile(mode="max-autotune", dynamic=False) of the same
             fp16 channels_last module, under no_grad: the first call at each batch compiles
             (autotuning included; its wall time is the "compile s"), then timed like eager.
             TORCHINDUCTOR_CACHE_DIR (and TRITON_CACHE_DIR) = --compile-cache, so that a later call
             finds the compiled artifacts. Run after the model's other rows; the compiled module is
             dropped (torch._dynamo.reset()) before the next model.
  odet net   `odet bench` on an fp16 CUDA plan without head (`odet build --no-head`): median GPU
             compute time between the H2D and D2H events (the same span as the torch rows: network
             only, input on the GPU), CUDA graph replay, 1 stream; --profile (node by node) at the
             largest batch of ssd300_r50 only.
  torch e2e  the eager network + a PyTorch postprocess, inputs on the GPU, head outputs cast to fp32,
             CUDA events around the whole, 1 warm-up run, median as for eager:
               ssd300_r50: bench/nms_bench.py ssd_loop (NVIDIA decode_batch: softmax, scale_xy 0.1 /
                 scale_wh 0.2 decode against the default boxes, per class top-200 over score > 0.05,
                 torchvision batched_nms IoU 0.45 per image, 200 per image);
               ssd300_vgg16: torchvision's own SSD.postprocess_detections (softmax, BoxCoder
                 10,10,5,5, clip, per class score > 0.01 and top-400, batched_nms 0.45, 200 per image)
                 on tests/heads/ref_heads.py's DefaultBoxGenerator anchors;
               retinanet_r50_fpn: bench/nms_bench.py retina_loop (torchvision RetinaNet
                 postprocess_detections: sigmoid, per level top-1000 over score > 0.05, BoxCoder
                 1,1,1,1 with clip, batched_nms 0.5 per image, 300 per image).
  odet e2e   `odet bench` on an fp16 CUDA plan with the model's head (decode + batched NMS on the
             GPU): images/s of whole batches host input -> host detections with 2 exec contexts in
             flight (H2D, compute and D2H counted; the torch e2e row starts from GPU inputs).
Plans are deleted after each bench and the ONNX file after the model's check (OUT stays small:
peers.json, peers_table.md, peers.log, which holds every odet command and its output).
Per model, odet fp16 vs odet fp32 (`odet run --backend cuda` on the ONNX file) at batch 8
(RetinaNet: 2): max relative error of each network output (max|a-b| / max|b|) and agreement of the
final detections (det_count / det_boxes / det_classes: fp32 detections that have an fp16 detection of
the same class at IoU > 0.9 in the same image).
Order per model: build and export; per batch eager, torch e2e, odet net, odet e2e; the check; the
compile rows. --skip-e2e drops both e2e rows. A failure (out of memory or anything else) costs only
its cell or step: it is recorded in the report and the run goes on.

Results accumulate in OUT/peers.json, rows keyed by model/batch: a run replaces only what it
measured (a row's main measurements, a row's compile measurement, a model's check), so compile rows
can come from a separate call (--only-compile: no ONNX export, no odet); --fresh starts a new file.
--merge F.json .. (no GPU, no torch) merges results of calls on other machines into OUT/peers.json
(per row part and check, the newer run wins) and rewrites the report. A compile row records the size of
the inductor cache it started with: a non-empty one (an earlier call's, maybe killed at its limit) makes
its "compile s" the time of the last call only, and the report says so.
After every step the report is rewritten from all of it: one table per model (stdout and
OUT/peers_table.md) and, with --md FILE, the section "## CUDA backend (H100)" of FILE, listing each
contributing run (device, versions, date, command line, steps skipped); the generated text ends with a
marker comment, and whatever follows the marker in FILE (analysis written by hand) is kept.
--time-budget S: a step (a model's export, a (model, batch) row set, a check, a compile) that would
start after S seconds since the script started is skipped and listed in the report.
"""
import argparse
import datetime
import gc
import json
import os
import shlex
import subprocess
import sys
import time
import types

import numpy as np

T0 = time.time()
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, "..", "tests", "gen"), os.path.join(HERE, "..", "tests", "heads")]
import ref_heads  # noqa: E402  (numpy only: priors, IoU)
import tensorfile  # noqa: E402

# imported in main(), after TORCHINDUCTOR_CACHE_DIR is set (and so that the report code runs without torch)
torch = export_models = nms_bench = None

CEIL = 777.0  # TFLOP/s, measured fp16 tensor-core ceiling (issue 4)
SECTION = "## CUDA backend (H100)"
# the generated part of the section ends here; text after it (analysis, history) is kept
END_MARK = "<!-- end of bench/peers.py output: text below is written by hand and kept -->"


def log(*a):
    print(*a, flush=True)


# ------------------------------------------------------------------ PyTorch postprocess per model
# Each factory returns post(outputs: {output name: fp16 tensor}) -> per-image detections.

def post_ssd_nvidia():
    d = torch.from_numpy(ref_heads.nvidia_dboxes()).cuda()
    return lambda o: nms_bench.ssd_loop(o["locs"].float(), o["confs"].float(), d, 0.05)


def post_ssd_vgg16():
    from torchvision.models.detection import ssd300_vgg16
    full = ssd300_vgg16(weights=None, weights_backbone=None)  # only for its postprocess_detections
    anchors = torch.from_numpy(ref_heads.torchvision_ssd_anchors(300, 300)).cuda()

    def post(o):
        n = o["cls_logits"].shape[0]
        return full.postprocess_detections({"bbox_regression": o["bbox_regression"].float(),
                                            "cls_logits": o["cls_logits"].float()}, [anchors] * n, [(300, 300)] * n)
    return post


def post_retinanet():
    a, levels = ref_heads.retinanet_anchors(800, 800)
    anchors = torch.from_numpy(a).cuda()
    return lambda o: nms_bench.retina_loop(o["bbox_regression"].float(), o["cls_logits"].float(), anchors, levels)


MODELS = {
    "ssd300_r50": dict(desc="NVIDIA SSD300-R50", size=300, gflop=40.3, head="ssd300-nvidia",
                       batches=[1, 8, 64, 256], check_batch=8, post=post_ssd_nvidia),
    "ssd300_vgg16": dict(desc="torchvision SSD300-VGG16", size=300, gflop=69.7, head="ssd300-vgg16",
                         batches=[1, 8, 32, 64], check_batch=8, post=post_ssd_vgg16),
    "retinanet_r50_fpn": dict(desc="torchvision RetinaNet-R50-FPN", size=800, gflop=303.0, head="retinanet",
                              batches=[1, 8, 32], check_batch=2, post=post_retinanet),
}
PROFILE_MODEL = "ssd300_r50"  # odet bench --profile at its largest batch


# ------------------------------------------------------------------ steps and bookkeeping

class Budget:
    """--time-budget: ok(what) is False (and `what` is recorded) once the budget is spent."""

    def __init__(self, seconds, skipped):
        self.seconds, self.skipped = seconds, skipped

    def ok(self, what):
        if self.seconds and time.time() - T0 > self.seconds:
            self.skipped.append(what)
            log("time budget %.0f s spent (%.0f s): skipping %s" % (self.seconds, time.time() - T0, what))
            return False
        return True


def first_line(s, n=200):
    lines = [x for x in str(s).strip().splitlines() if x.strip()]
    return lines[0][:n].rstrip(".") if lines else ""


def attempt(errors, what, fn):
    """fn(), or None with the failure recorded in errors[what] (out of memory included)."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 — one cell fails, the run goes on
        errors[what] = "%s: %s" % (type(e).__name__, first_line(e))
        log("%s failed: %s" % (what, errors[what]))
        if torch is not None and torch.cuda.is_available():
            torch.cuda.empty_cache()
        return None


def row(data, name, b):
    return data["rows"].setdefault("%s/%d" % (name, b), {"model": name, "batch": b})


# ------------------------------------------------------------------ PyTorch

def bbox_view_reshape(self, src, loc, conf):
    """NvSSD300.bbox_view with reshape: view() fails on channels_last outputs."""
    ret = []
    for s, l, c in zip(src, loc, conf):
        ret.append((l(s).reshape(s.size(0), 4, -1), c(s).reshape(s.size(0), self.label_num, -1)))
    locs, confs = list(zip(*ret))
    return torch.cat(locs, 2).contiguous(), torch.cat(confs, 2).contiguous()


def build_model(name):
    """(fp32 CPU module in eval mode, output names), seeded as the odet runs see it."""
    torch.manual_seed(0)
    m, size, names, _ = export_models.build(name)
    assert size == MODELS[name]["size"], (name, size)
    export_models.random_init(m, torch.Generator().manual_seed(0))
    return m.eval(), names


def setup_model(a, name, onnx_path, errors):
    """Build the seeded model, export it to onnx_path (not with --only-compile), and return it as
    the fp16 channels_last module on the GPU with its network + postprocess callable (e2e)."""
    t0 = time.time()
    spec = MODELS[name]
    m, names = build_model(name)
    if not a.only_compile:
        with torch.no_grad():
            how = export_models.export(m, torch.randn(1, 3, spec["size"], spec["size"]), onnx_path, names)
        log("%s: built and exported %s (%s) in %.1f s" % (name, onnx_path, how, time.time() - t0))
    m = m.cuda().half().to(memory_format=torch.channels_last)
    if hasattr(m, "bbox_view"):
        m.bbox_view = types.MethodType(bbox_view_reshape, m)
    tm = types.SimpleNamespace(module=m, size=spec["size"], e2e=None)
    post = None if a.only_compile or a.skip_e2e else attempt(errors, name + " torch postprocess setup", spec["post"])
    if post:
        tm.e2e = lambda x: post(dict(zip(names, m(x))))
    return tm


def make_inputs(b, size):
    return [(torch.rand(b, 3, size, size, device="cuda") * 2 - 1 + 0.05).half()
            .contiguous(memory_format=torch.channels_last) for _ in range(3)]


def time_cuda(fn, xs, runs, warm, max_s):
    """Median ms of fn(x) between CUDA events (inputs rotating): warm untimed runs, then up to
    `runs` timed runs, stopping after max_s seconds of them (at least 3)."""
    for i in range(warm):
        fn(xs[i % len(xs)])
    torch.cuda.synchronize()
    times, t0 = [], time.time()
    for i in range(runs):
        a = torch.cuda.Event(enable_timing=True)
        b = torch.cuda.Event(enable_timing=True)
        a.record()
        fn(xs[i % len(xs)])
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
        if len(times) >= 3 and time.time() - t0 > max_s:
            break
    return {"median_ms": float(np.median(times)), "runs": len(times)}


def torch_rows(a, tm, b, r):
    xs = attempt(r["errors"], "torch inputs", lambda: make_inputs(b, tm.size))
    if xs is None:
        return
    with torch.inference_mode():
        r["eager"] = attempt(r["errors"], "torch eager", lambda: time_cuda(tm.module, xs, a.runs, 10, a.duration))
        if tm.e2e:
            r["torch_e2e"] = attempt(r["errors"], "torch e2e", lambda: time_cuda(tm.e2e, xs, a.runs, 1, a.duration))


def compile_rows(a, name, tm, batches, data, run_id, budget, report):
    """torch.compile max-autotune rows of one model; each batch compiles on its first call."""
    cm = torch.compile(tm.module, mode="max-autotune", dynamic=False)
    for b in batches:
        if not budget.ok("%s b%d compile" % (name, b)):
            continue
        c = {"run": run_id, "errors": {}, "cache_mb_before": cache_mb()}

        def go():
            xs = make_inputs(b, tm.size)
            with torch.no_grad():
                t0 = time.time()
                cm(xs[0])
                torch.cuda.synchronize()
                c["compile_s"] = time.time() - t0
                log("%s b%d: compiled in %.1f s" % (name, b, c["compile_s"]))
                return time_cuda(cm, xs, a.runs, 10, a.duration)
        c["timing"] = attempt(c["errors"], "torch.compile", go)
        row(data, name, b)["compile"] = c
        log(json.dumps({"model": name, "batch": b, "compile": c}))
        report()


def cache_mb():
    """Size in MB of the inductor cache (--compile-cache) now, None without one: a compile that finds one
    not empty may reuse autotune results of an earlier (possibly killed) call, so its time is not a cold one."""
    d = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    if not d or not os.path.isdir(d):
        return None
    n = 0
    for root, _, files in os.walk(d):
        for f in files:
            try:
                n += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return round(n / 1e6, 1)


# ------------------------------------------------------------------ odet

def run(cmd, logf, timeout=180):
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
        return 124, "timed out after %d s" % timeout
    with open(logf, "a") as f:
        f.write("$ %s\n%s\n(%.1f s, rc %d)\n" % (" ".join(cmd), p.stdout, time.time() - t0, p.returncode))
    return p.returncode, p.stdout


def odet_failed(errors, what, out):
    lines = [x for x in out.strip().splitlines() if x.strip()]
    errors[what] = (lines[-1] if lines else "no output")[:200].rstrip(".")
    log("%s failed:\n%s" % (what, out[-1500:]))


def remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def bench_json(out):
    for line in out.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    return None


def odet_rows(a, odet, logf, name, onnx_path, b, r, profile):
    """odet net (no head, 1 stream) and e2e (head, 2 streams) rows of one batch into r."""
    for kind, head in (("net", None), ("e2e", MODELS[name]["head"])):
        if kind == "e2e" and a.skip_e2e:
            continue
        plan = os.path.join(a.out, "%s_b%d_%s.plan" % (name, b, kind))
        cmd = [odet, "build", onnx_path, "-o", plan, "--backend", "cuda", "--precision", "fp16",
               "--batch", str(b)] + (["--head", head] if head else ["--no-head"])
        t0 = time.time()
        rc, out = run(cmd, logf)
        r["odet_%s_build_s" % kind] = time.time() - t0
        if rc:
            odet_failed(r["errors"], "odet build " + kind, out)
            remove(plan)
            continue
        cmd = [odet, "bench", plan, "--duration", str(a.duration), "--streams", "1" if kind == "net" else "2"]
        if kind == "net" and profile:
            cmd.append("--profile")
        rc, out = run(cmd, logf, timeout=300 if profile else 180)
        remove(plan)
        j = bench_json(out) if not rc else None
        if not j:
            odet_failed(r["errors"], "odet bench " + kind, out)
            continue
        r["odet_" + kind] = j


def det_agreement(r32, r16):
    """(fp32 detections having an fp16 one of the same class at IoU > 0.9, fp32 count, counts)."""
    n32, n16 = r32["det_count"].reshape(-1).astype(int), r16["det_count"].reshape(-1).astype(int)
    found = 0
    for i in range(len(n32)):
        b32 = r32["det_boxes"][i, :n32[i]].astype(np.float64)
        b16 = r16["det_boxes"][i, :n16[i]].astype(np.float64)
        same = r32["det_classes"][i, :n32[i], None] == r16["det_classes"][i, None, :n16[i]]
        with np.errstate(invalid="ignore", divide="ignore"):
            match = (ref_heads.iou_matrix(b32, b16) > 0.9) & same
        found += int(match.any(1).sum())
    return {"found": found, "total": int(n32.sum()), "count_fp32": n32.tolist(), "count_fp16": n16.tolist()}


def check_fp16(a, odet, logf, name, onnx_path, run_id):
    """odet fp16 vs fp32 (CUDA): network outputs and final detections, at the model's check batch."""
    spec = MODELS[name]
    b, s = spec["check_batch"], spec["size"]
    c = {"batch": b, "run": run_id, "errors": {}}
    xin = os.path.join(a.out, "%s_check_in.bin" % name)
    xv = np.random.default_rng(5).uniform(-1, 1, size=(b, 3, s, s)).astype(np.float32)
    xv[np.abs(xv) < 0.05] = 0.5
    tensorfile.write(xin, [("images", xv)])
    outs = {}
    for p in ("fp32", "fp16"):
        for kind, extra in (("net", []), ("det", ["--head", spec["head"]])):
            o = os.path.join(a.out, "%s_check_%s_%s.bin" % (name, kind, p))
            rc, out = run([odet, "run", onnx_path, "--input", xin, "--output", o, "--backend", "cuda",
                           "--precision", p] + extra, logf)
            if rc:
                odet_failed(c["errors"], "odet run %s %s" % (kind, p), out)
            else:
                outs[kind, p] = dict(tensorfile.read(o))
            remove(o)
    remove(xin)
    if ("net", "fp32") in outs and ("net", "fp16") in outs:
        c["max_rel_err"] = {}
        for n, ref in outs["net", "fp32"].items():
            ref = ref.astype(np.float64)
            got = outs["net", "fp16"][n].astype(np.float64)
            c["max_rel_err"][n] = float(np.abs(got - ref).max() / max(np.abs(ref).max(), 1e-12))
    if ("det", "fp32") in outs and ("det", "fp16") in outs:
        c["detections"] = det_agreement(outs["det", "fp32"], outs["det", "fp16"])
    return c


# ------------------------------------------------------------------ report

def fmt(v, f="%.0f"):
    return (f % v) if v is not None else "—"


def ips(b, timing):
    """images/s of a torch timing (median ms per batch of b)"""
    return b / timing["median_ms"] * 1e3 if timing else None


def ratio(x, y):
    return x / y if x and y else None


def model_block(name, rows, check):
    """Markdown lines for one model: heading, table, details, fp16-vs-fp32 line."""
    spec = MODELS[name]
    out = ["### %s — %s, %dx%d, %g GFLOP/image" % (name, spec["desc"], spec["size"], spec["size"], spec["gflop"]),
           ""]
    if rows:
        out += ["| batch | eager img/s | compile img/s | odet net img/s | net × eager | net × compile | % of ceiling "
                "(odet net) | torch e2e img/s | odet e2e img/s | odet e2e / net | e2e × torch e2e |",
                "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    net_ms, comp_s = [], []
    for r in rows:
        b, m, c = r["batch"], r.get("main", {}), r.get("compile", {})
        eager, comp, te2e = ips(b, m.get("eager")), ips(b, c.get("timing")), ips(b, m.get("torch_e2e"))
        net = b / m["odet_net"]["compute_ms"]["median"] * 1e3 if m.get("odet_net") else None
        e2e = m["odet_e2e"]["images_per_s"] if m.get("odet_e2e") else None
        out.append("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            b, fmt(eager), fmt(comp), fmt(net), fmt(ratio(net, eager), "%.2f"), fmt(ratio(net, comp), "%.2f"),
            fmt(net * spec["gflop"] / 1e3 / CEIL * 100 if net else None, "%.1f%%"), fmt(te2e), fmt(e2e),
            fmt(ratio(e2e, net), "%.2f"), fmt(ratio(e2e, te2e), "%.2f")))
        if m.get("odet_net"):
            net_ms.append("%d: %.3f" % (b, m["odet_net"]["compute_ms"]["median"]))
        if c.get("compile_s") is not None:
            warm = c.get("cache_mb_before")
            comp_s.append("%d: %.0f%s" % (b, c["compile_s"], " (inductor cache of %.0f MB found)" % warm if warm else ""))
    if rows:
        out.append("")
    if net_ms:
        out.append("odet net median GPU ms per batch: " + ", ".join(net_ms) + ".")
    if comp_s:
        out.append("torch.compile first call (compile + autotune) s per batch: " + ", ".join(comp_s) + ".")
    if check:
        parts = ["%s max rel err %.2e" % kv for kv in check.get("max_rel_err", {}).items()]
        d = check.get("detections")
        if d:
            parts.append("%d of %d fp32 detections found in fp16 (same class, IoU > 0.9); per image fp32 %s, "
                         "fp16 %s" % (d["found"], d["total"], d["count_fp32"], d["count_fp16"]))
        parts += ["%s failed (%s)" % kv for kv in check.get("errors", {}).items()]
        out.append("fp16 vs fp32 (odet CUDA, batch %d): %s." % (check["batch"], "; ".join(parts)))
    return out


def report_text(data):
    """(tables, md section) from the accumulated results."""
    blocks, notes = [], []
    for name in MODELS:
        rows = sorted((r for r in data["rows"].values() if r["model"] == name), key=lambda r: r["batch"])
        check = data["checks"].get(name)
        if rows or check:
            blocks += model_block(name, rows, check) + [""]
        for r in rows:
            for part in ("main", "compile"):
                for what, msg in r.get(part, {}).get("errors", {}).items():
                    notes.append("%s b%d %s: %s" % (name, r["batch"], what, msg))
    if not any("compile" in r for r in data["rows"].values()):
        notes.append("torch.compile max-autotune not run (--compile, or --only-compile in a separate call)")
    runs = data["runs"]
    devices = sorted({u["device"] for u in runs})
    if len(devices) > 1:
        notes.append("rows come from different devices (%s): compare within a device only" % ", ".join(devices))
    lines = []
    for u in runs:
        lines.append("- %s run, %s, %s, torch %s, torchvision %s, cuDNN %s, %.0f s%s: `%s`" % (
            u["kind"], u["date"], u["device"], u["torch"], u["torchvision"], u["cudnn"], u["elapsed_s"],
            (", time budget %.0f s" % u["time_budget"]) if u["time_budget"] else "", u["command"]))
        if u["skipped"]:
            notes.append("skipped by the %s run's time budget (%.0f s): %s" % (
                u["kind"], u["time_budget"], ", ".join(u["skipped"])))
        notes += ["%s: %s" % kv for kv in u.get("errors", {}).items()]
    tables = "\n".join(blocks + (["Not run or failed:", ""] + ["- " + n for n in notes] if notes else []))
    sec = "\n".join([
        SECTION, "",
        "Generated by `bench/peers.py` (the method is its docstring): PyTorch and odet on the same GPU, one after "
        "the other, from one script. Runs:", ""] + lines + ["",
        "Networks: bench/export_models.py with seeded random weights and BatchNorm statistics; the module "
        "exported to ONNX is the one PyTorch runs. GFLOP/image = 2 × MACs; ceiling 777 TFLOP/s (measured fp16 "
        "tensor-core ceiling). eager / compile: PyTorch fp16 channels_last, network only, input on the GPU, "
        "CUDA events, median; compile = torch.compile(mode=\"max-autotune\"). odet net: fp16 plan without head, "
        "median GPU time between the H2D and D2H events (the same span), CUDA graph replay, 1 stream. torch e2e: "
        "eager network + PyTorch postprocess (NVIDIA decode_batch / torchvision postprocess_detections, "
        "batched_nms per image), input on the GPU. odet e2e: fp16 plan with the head (decode + NMS on the GPU), "
        "host input to host detections (H2D and D2H counted), 2 streams. × columns: odet / PyTorch (> 1: odet "
        "faster).", "", tables, "", END_MARK])
    return tables, sec


def write_report(a, data, run_rec, show=False):
    """peers.json (all results), the tables (stdout, peers_table.md) and, with --md, the section.
    run_rec: this run's record (None with --merge, which measures nothing)."""
    used = {x.get("run") for r in data["rows"].values() for x in (r.get("main"), r.get("compile")) if x}
    used |= {c.get("run") for c in data["checks"].values()}
    if run_rec:
        run_rec["elapsed_s"] = time.time() - T0
        used.add(run_rec["id"])
    data["runs"] = [u for u in data["runs"] if u["id"] in used]  # drop runs nothing refers to any more
    tables, sec = report_text(data)
    if show:
        log("\n" + tables)
    with open(os.path.join(a.out, "peers_table.md"), "w") as f:
        f.write(tables + "\n")
    tmp = os.path.join(a.out, "peers.json.tmp")
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, os.path.join(a.out, "peers.json"))
    if a.md:
        text = open(a.md).read() if os.path.exists(a.md) else "# Benchmarks\n"
        k = text.find(SECTION)
        if k >= 0:
            m = text.find(END_MARK, k)
            if m >= 0:  # replace the generated part only
                text = text[:k] + sec + text[m + len(END_MARK):]
            else:
                e = text.find("\n## ", k + len(SECTION))
                text = text[:k] + sec + ("\n" + text[e + 1:] if e >= 0 else "")
        else:
            text = text.rstrip() + "\n\n" + sec
        with open(a.md, "w") as f:
            f.write(text)


def merge_data(data, other):
    """Merge another peers.json into data: per row part (main, compile) and per check, the newer run wins
    (run ids are UTC timestamps); run records are united by id."""
    for key, r in other["rows"].items():
        mine = data["rows"].setdefault(key, {"model": r["model"], "batch": r["batch"]})
        for part in ("main", "compile"):
            if part in r and (part not in mine or r[part].get("run", "") > mine[part].get("run", "")):
                mine[part] = r[part]
    for name, c in other["checks"].items():
        if name not in data["checks"] or c.get("run", "") > data["checks"][name].get("run", ""):
            data["checks"][name] = c
    ids = {u["id"] for u in data["runs"]}
    data["runs"] = sorted(data["runs"] + [u for u in other["runs"] if u["id"] not in ids], key=lambda u: u["id"])


def load_data(a):
    path = os.path.join(a.out, "peers.json")
    if not a.fresh and os.path.exists(path):
        with open(path) as f:
            d = json.load(f)
        if isinstance(d.get("rows"), dict) and "runs" in d:
            return d
        log("%s: older format, starting a new one" % path)
    return {"runs": [], "rows": {}, "checks": {}}


# ------------------------------------------------------------------ main

def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 epilog="see the module docstring for the method")
    ap.add_argument("--odet", help="the odet CLI (not needed with --only-compile)")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--batches", default="", help="batch list for every model (default: per model)")
    ap.add_argument("--batches-for", action="append", default=[], metavar="MODEL=B,B,..",
                    help="one model's batch list (repeatable; overrides --batches)")
    ap.add_argument("--runs", type=int, default=50, help="torch timed runs at most")
    ap.add_argument("--duration", type=float, default=3.0, help="odet bench seconds; torch timed-run cap")
    ap.add_argument("--out", default="/tmp/peers")
    ap.add_argument("--md", default="", help="replace the section '%s' of this file" % SECTION)
    ap.add_argument("--time-budget", type=float, default=0, help="seconds; 0 = none")
    ap.add_argument("--compile", action="store_true", help="also torch.compile max-autotune rows")
    ap.add_argument("--only-compile", action="store_true", help="only the compile rows, merged into OUT/peers.json")
    ap.add_argument("--compile-cache", default="", help="TORCHINDUCTOR_CACHE_DIR for the compile rows")
    ap.add_argument("--skip-e2e", action="store_true", help="no torch e2e and odet e2e rows")
    ap.add_argument("--fresh", action="store_true", help="ignore an existing OUT/peers.json")
    ap.add_argument("--merge", nargs="+", default=[], metavar="PEERS_JSON",
                    help="merge these results (other calls or machines) into OUT/peers.json and rewrite the "
                         "report; measures nothing, needs no GPU")
    a = ap.parse_args(argv)

    def ints(s, what):
        try:
            v = [int(x) for x in s.split(",") if x.strip()]
        except ValueError:
            ap.error("%s: expected comma-separated integers, got '%s'" % (what, s))
        if not v or min(v) < 1:
            ap.error("%s: expected batches >= 1, got '%s'" % (what, s))
        return v
    a.models = [m for m in a.models.split(",") if m]
    for m in a.models:
        if m not in MODELS:
            ap.error("unknown model '%s' (known: %s)" % (m, ", ".join(MODELS)))
    a.batch_lists = {m: ints(a.batches, "--batches") if a.batches else list(MODELS[m]["batches"])
                     for m in a.models}
    for spec in a.batches_for:
        m, eq, bs = spec.partition("=")
        if not eq or m not in MODELS:
            ap.error("--batches-for expects MODEL=B,B,.. with MODEL one of %s, got '%s'" % (", ".join(MODELS), spec))
        if m in a.batch_lists:
            a.batch_lists[m] = ints(bs, "--batches-for " + m)
    if a.only_compile:
        a.compile = True
    elif not a.odet and not a.merge:
        ap.error("--odet is required (except with --only-compile)")
    return a


def main(argv):
    global torch, export_models, nms_bench
    a = parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    if a.merge:
        data = load_data(a)
        for path in a.merge:
            try:
                with open(path) as f:
                    other = json.load(f)
                if not isinstance(other.get("rows"), dict) or "runs" not in other:
                    raise ValueError("not a peers.json (no rows/runs)")
            except (OSError, ValueError) as e:
                sys.stderr.write("peers.py: --merge %s: %s\n" % (path, e))
                return 2
            merge_data(data, other)
        write_report(a, data, None, show=True)
        return 0
    if a.compile_cache:
        cache = os.path.abspath(a.compile_cache)
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache
        os.environ.setdefault("TRITON_CACHE_DIR", os.path.join(cache, "triton"))
        os.environ.setdefault("TORCHINDUCTOR_FX_GRAPH_CACHE", "1")
    import torch  # noqa: F401  (binds the module-level name)
    import torchvision
    import export_models  # noqa: F401
    import nms_bench  # noqa: F401

    logf = os.path.join(a.out, "peers.log")
    odet = os.path.abspath(a.odet) if a.odet else None
    torch.backends.cudnn.benchmark = True
    data = load_data(a)
    now = datetime.datetime.now(datetime.timezone.utc)
    run_rec = {"id": now.strftime("%Y%m%dT%H%M%S.%fZ"), "kind": "compile-only" if a.only_compile else "main",
               "date": now.strftime("%Y-%m-%d %H:%M UTC"), "device": torch.cuda.get_device_name(0),
               "torch": torch.__version__, "torchvision": torchvision.__version__,
               "cudnn": torch.backends.cudnn.version(), "time_budget": a.time_budget, "skipped": [], "errors": {},
               "command": " ".join(shlex.quote(x) for x in ["python3"] + sys.argv), "elapsed_s": 0.0}
    data["runs"].append(run_rec)
    rid = run_rec["id"]
    budget = Budget(a.time_budget, run_rec["skipped"])
    log("device:", run_rec["device"], "torch", torch.__version__, "torchvision", torchvision.__version__,
        "cudnn", run_rec["cudnn"])

    def report(show=False):
        write_report(a, data, run_rec, show)

    report()
    for name in a.models:
        batches = a.batch_lists[name]
        if not budget.ok("%s (all rows%s)" % (name, "" if a.only_compile else ", check")):
            continue
        onnx_path = os.path.join(a.out, name + ".onnx")
        tm = attempt(run_rec["errors"], name + " setup", lambda: setup_model(a, name, onnx_path, run_rec["errors"]))
        if tm is None:
            continue
        if not a.only_compile:
            for b in batches:
                if not budget.ok("%s b%d" % (name, b)):
                    continue
                r = {"run": rid, "errors": {}}
                torch_rows(a, tm, b, r)
                torch.cuda.empty_cache()  # the inputs and cached blocks, before odet runs
                attempt(r["errors"], "odet", lambda: odet_rows(a, odet, logf, name, onnx_path, b, r,
                                                               name == PROFILE_MODEL and b == max(batches)))
                row(data, name, b)["main"] = r
                log(json.dumps({"model": name, "batch": b, "main": r})[:3000])
                report()
            if budget.ok("%s fp16-vs-fp32 check" % name):
                c = attempt(run_rec["errors"], name + " fp16-vs-fp32 check",
                            lambda: check_fp16(a, odet, logf, name, onnx_path, rid))
                if c:
                    data["checks"][name] = c
                    log(json.dumps({"model": name, "check": c}))
                report()
            remove(onnx_path)
        if a.compile:
            compile_rows(a, name, tm, batches, data, rid, budget, report)
            torch._dynamo.reset()  # drop the compiled graphs (and CUDA graphs) before the next model
        del tm
        gc.collect()
        torch.cuda.empty_cache()
    report(show=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
