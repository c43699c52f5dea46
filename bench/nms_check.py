#!/usr/bin/env python3
"""nms_check.py — correctness of odet's NMS and decode on the device (torch + torchvision there).

usage: python3 bench/nms_check.py <libodet_nms.so>      (build it with bench/nms_build.sh)

1. CPU NMS keeps exactly the set torchvision.ops.batched_nms keeps (fp32; random and adversarial
   cases: identical boxes, identical scores, zero-area boxes, NaN/Inf, zero candidates, 10,000
   candidates). Each box has one class (odet scores [1,N,C] hold -inf elsewhere); odet runs with no
   threshold, no top-k and K = N. Non-finite scores are removed before torchvision sees them (odet
   never selects them). Small random cases use one class: torchvision adds class offsets to the
   coordinates for <= 1000 boxes, which changes IoU rounding.
2. CUDA NMS output equals the CPU output bit for bit (counts, boxes, scores, classes), both top-k
   modes, f32 and f16 inputs, realistic SSD/RetinaNet-sized cases and the adversarial ones.
3. CUDA BoxDecode agrees with the CPU kernel to 1e-6 relative (relative to max(|coordinate|,
   box size); expf may differ by 2 ulp between CUDA and glibc); ClassScores (both layouts,
   float32 and float16 logits) within a bound derived from the two summation orders (below).
4. Fused class scores (BatchedNms with activation / layout, pass_fuse_scores_nms): CUDA fused
   (logits float32 and float16, both layouts, softmax / sigmoid / none, per-class and per-level
   top-k, both CUDA pipelines) equals CUDA ClassScores + CUDA NMS bit for bit; CPU fused equals
   CPU ClassScores + CPU NMS bit for bit.
Prints one line per case and "nms_check: N passed, N failed".
"""
import os
import sys

import numpy as np
import torch
import torchvision

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from nms_common import Lib  # noqa: E402

passed = failed = 0


def check(ok, what):
    global passed, failed
    passed += bool(ok)
    failed += not ok
    print(("ok   " if ok else "FAIL ") + what, flush=True)


def rand_boxes(rng, n, extent=1000.0, maxwh=120.0):
    xy = rng.uniform(0, extent, (n, 2)).astype(np.float32)
    wh = rng.uniform(1, maxwh, (n, 2)).astype(np.float32)
    return np.concatenate([xy, xy + wh], 1).astype(np.float32)


def vs_torchvision(lib, name, boxes, scores, labels, C, iou=0.5):
    N = len(boxes)
    dense = np.full((1, N, C), -np.inf, np.float32)
    dense[0, np.arange(N), labels] = scores
    p = dict(thr=-3.0e38, iou=iou, topk=0, K=max(N, 1))
    cnt, ob, os_, oc = lib.cpu_nms(p, boxes[None], dense)
    ours = set()
    # recover anchor indices: boxes and classes identify rows; use a lookup on exact values
    key = {}
    for i in range(N):
        key.setdefault((tuple(boxes[i].tolist()), int(labels[i]), float(scores[i])), []).append(i)
    for k in range(cnt[0]):
        lst = key[(tuple(ob[0, k].tolist()), int(oc[0, k]), float(os_[0, k]))]
        ours.add(lst.pop(0))
    fin = np.isfinite(scores)
    idx = np.nonzero(fin)[0]
    keep = torchvision.ops.batched_nms(torch.from_numpy(boxes[idx]), torch.from_numpy(scores[idx]),
                                       torch.from_numpy(labels[idx].astype(np.int64)), iou)
    theirs = set(idx[keep.numpy()].tolist())
    check(ours == theirs, "cpu == torchvision.batched_nms  %-28s kept %d / %d (torchvision %d)" %
          (name, len(ours), N, len(theirs)))


# CUDA pipelines compared with the CPU: the default (shared-memory segment sorts) and the
# CUB one (ODET_NMS_SORT=cub, read by the library when it plans a call)
SORTS = [s for s in os.environ.get("NMS_CHECK_SORTS", "fast,cub").split(",") if s]


def cuda_vs_cpu(lib, name, p, boxes, scores, f16=False):
    dt = np.float16 if f16 else np.float32
    b, s = boxes.astype(dt), scores.astype(dt)
    ref = lib.cpu_nms(p, b, s)
    tb = torch.from_numpy(b).cuda()
    ts = torch.from_numpy(s).cuda()
    for sort in SORTS:
        os.environ["ODET_NMS_SORT"] = sort
        ws, outs = lib.cuda_nms_prepare(p, *s.shape, torch)
        for o in outs:  # poison: every element must be written
            o.fill_(-7)
        lib.cuda_nms(p, tb, ts, ws, outs, torch)
        got = [o.cpu().numpy() for o in outs]
        del ws
        same = all(np.array_equal(g.view(np.uint32) if g.dtype == np.float32 else g,
                                  r.view(np.uint32) if r.dtype == np.float32 else r) for g, r in zip(got, ref))
        if not same:
            diff = [int((g != r).sum()) for g, r in zip(got, ref)]
            print("   counts cuda %s cpu %s; differing elements %s" % (got[0][:8], ref[0][:8], diff))
        check(same, "cuda == cpu  %-40s %s %-4s kept %s" % (name, "f16" if f16 else "f32", sort,
                                                             int(ref[0].sum())))
    os.environ.pop("ODET_NMS_SORT", None)


def same_bits(got, ref):
    return all(np.array_equal(g.view(np.uint32) if g.dtype == np.float32 else g,
                              r.view(np.uint32) if r.dtype == np.float32 else r) for g, r in zip(got, ref))


def fused_vs_unfused(lib, name, p, boxes, logits, act, layout, cpu=True):
    """boxes [B,N,4] f32 numpy; logits numpy f32 or f16 in the layout's order ([B,C,N] for 1).
    CUDA: fused NMS on the logits vs cuda ClassScores -> f32 scores -> cuda NMS (each pipeline);
    CPU: fused vs cpu ClassScores (of the logits widened to f32: exact, the CPU widens on load
    too) -> cpu NMS."""
    f16 = logits.dtype == np.float16
    B = logits.shape[0]
    N, C = (logits.shape[2], logits.shape[1]) if layout else (logits.shape[1], logits.shape[2])
    acts = {0: "none", 1: "softmax", 2: "sigmoid"}
    what = "%-34s %-7s layout %d %s" % (name, acts[act], layout, "f16" if f16 else "f32")
    tb = torch.from_numpy(boxes).cuda()
    tl = torch.from_numpy(logits).cuda()
    probs = torch.empty(B, N, C, device="cuda")
    lib.cuda_scores(layout, act, tl, probs, torch)
    for sort in SORTS:
        os.environ["ODET_NMS_SORT"] = sort
        ws, outs = lib.cuda_nms_prepare(p, B, N, C, torch)
        lib.cuda_nms(p, tb, probs, ws, outs, torch)
        ref = [o.cpu().numpy() for o in outs]
        del ws
        ws, outs = lib.cuda_nms_prepare_fused(p, B, N, C, act, layout, torch)
        for o in outs:
            o.fill_(-7)
        lib.cuda_nms_fused(p, tb, tl, act, layout, ws, outs, torch)
        got = [o.cpu().numpy() for o in outs]
        del ws
        same = same_bits(got, ref)
        if not same:
            print("   counts fused %s unfused %s; differing elements %s" %
                  (got[0][:8], ref[0][:8], [int((g != r).sum()) for g, r in zip(got, ref)]))
        check(same, "cuda fused == cuda scores + nms  %s %-4s kept %d" % (what, sort, int(ref[0].sum())))
    os.environ.pop("ODET_NMS_SORT", None)
    if cpu:
        ref = lib.cpu_nms(p, boxes, lib.cpu_scores(layout, act, logits.astype(np.float32)))
        got = lib.cpu_nms_fused(p, boxes, logits, act, layout)
        check(same_bits(got, ref), "cpu fused == cpu scores + nms    %s      kept %d" % (what, int(ref[0].sum())))


def fused_checks(lib, rng):
    """4. fused class scores: every combination on SSD- and RetinaNet-like heads, then the
    shapes that change the kernel's tiling (anchors per block = 64 down to 1 as C grows; C = 6144
    needs more than 48 KiB of shared memory) and non-finite logits"""
    B, N, C = 4, 8732, 81
    cx, cy = rng.uniform(0, 1, (2, B, N)).astype(np.float32)
    w, h = rng.uniform(0.02, 0.5, (2, B, N)).astype(np.float32)
    sb = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1).astype(np.float32)
    lg = rng.normal(0, 1, (B, C, N)).astype(np.float32)
    lg[:, 0] += 5
    for b in range(B):  # objects: runs of anchors with a confident class
        for _ in range(10):
            a = rng.integers(0, N - 60)
            lg[b, rng.integers(1, C), a:a + 40] += rng.uniform(5, 11)
    levels = [6000, 2000, 732]
    for thr in (0.05, 0.001):
        p_ssd = dict(thr=thr, iou=0.45, topk=200, K=200, bg=0, ge=1, osx=300.0, osy=300.0)
        p_lvl = dict(thr=thr, iou=0.5, topk=1000, mode=1, levels=levels, K=300)
        for act in (1, 2):
            for mode, p in ((0, p_ssd), (1, p_lvl)):
                for layout in (1, 0):
                    for f16 in (False, True):
                        x = lg.astype(np.float16) if f16 else lg
                        x = x if layout else x.transpose(0, 2, 1).copy()
                        fused_vs_unfused(lib, "SSD-like b4 thr %g %s" % (thr, "per-level" if mode else "per-class"),
                                         p, sb, x, act, layout, cpu=thr == 0.05)
    rb = np.stack([rand_boxes(rng, 20000, 800, 200) for _ in range(2)])
    rl = rng.normal(-7, 1.5, (2, 20000, 91)).astype(np.float32)
    p_rt = dict(thr=0.05, iou=0.5, topk=1000, mode=1, levels=[15000, 3750, 1250], K=300)
    for f16 in (False, True):
        x = rl.astype(np.float16) if f16 else rl
        fused_vs_unfused(lib, "RetinaNet-like b2", p_rt, rb, x, 2, 0)
        fused_vs_unfused(lib, "RetinaNet-like b2", p_rt, rb, x.transpose(0, 2, 1).copy(), 2, 1)
    # layout 1 without an activation (a transpose), per class
    fused_vs_unfused(lib, "no activation, per-class", dict(thr=1.5, iou=0.5, topk=100, K=100), sb[:2],
                     lg[:2].copy(), 0, 1)
    # tiling: C = 7 (64 anchors per block), 300 (16), 1000 (4), 4000 (1), 6144 (1, 73 KiB of
    # shared memory); sizes of C not a multiple of 32 leave lanes idle in the last class stride
    for C2, N2, B2 in ((7, 5000, 3), (300, 2000, 2), (1000, 700, 2), (4000, 200, 2), (6144, 150, 2)):
        bx = np.stack([rand_boxes(rng, N2, 300, 60) for _ in range(B2)])
        x = rng.normal(0, 2, (B2, C2, N2)).astype(np.float32)
        x[:, C2 // 2, ::7] += 12
        for act, p in ((1, dict(thr=0.2, iou=0.5, topk=100, K=150)),
                       (2, dict(thr=0.9, iou=0.5, topk=300, mode=1, levels=[N2 - N2 // 3, N2 // 3], K=150))):
            for layout, xl in ((1, x), (0, x.transpose(0, 2, 1).copy())):
                fused_vs_unfused(lib, "C %d N %d b%d" % (C2, N2, B2), p, bx, xl.astype(np.float16), act, layout)
                fused_vs_unfused(lib, "C %d N %d b%d" % (C2, N2, B2), p, bx, xl, act, layout)
    # non-finite logits: NaN makes a softmax row NaN (no candidates), +inf a row NaN or a score 1
    xn = lg[:2].copy()
    xn[:, 3, ::5] = np.nan
    xn[:, 5, 1::7] = np.inf
    xn[:, 7, 2::11] = -np.inf
    for act in (1, 2):
        fused_vs_unfused(lib, "NaN/Inf logits", dict(thr=0.05, iou=0.45, topk=200, K=200, bg=0), sb[:2], xn, act, 1)
        fused_vs_unfused(lib, "NaN/Inf logits", dict(thr=0.05, iou=0.45, topk=200, K=200, bg=0), sb[:2],
                         xn.transpose(0, 2, 1).copy(), act, 0)


def realistic_ssd(rng, B, N=8732, C=81):
    logits = rng.normal(0, 1, (B, N, C)).astype(np.float32)
    logits[:, :, 0] += 6
    for b in range(B):  # objects: clusters of anchors with a confident class
        for _ in range(rng.integers(3, 15)):
            a = rng.integers(0, N - 60)
            logits[b, a:a + 40, rng.integers(1, C)] += rng.uniform(6, 12)
    e = np.exp(logits - logits.max(-1, keepdims=True))
    scores = (e / e.sum(-1, keepdims=True)).astype(np.float32)
    cx, cy = rng.uniform(0, 300, (2, B, N)).astype(np.float32)
    w, h = rng.uniform(5, 150, (2, B, N)).astype(np.float32)
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1).astype(np.float32)
    return boxes, scores


def main():
    lib = Lib(sys.argv[1])
    rng = np.random.default_rng(7)
    # ---- 1. CPU vs torchvision
    for t in range(3):
        b = rand_boxes(rng, 2000)
        vs_torchvision(lib, "random 2000x5 #%d" % t, b, rng.random(2000).astype(np.float32),
                       rng.integers(0, 5, 2000), 5, iou=0.3 + 0.2 * t)
    b = rand_boxes(rng, 600, 300)
    vs_torchvision(lib, "random 600x1", b, rng.random(600).astype(np.float32), np.zeros(600, np.int64), 1)
    b = np.tile(np.array([[10, 20, 110, 220]], np.float32), (1500, 1))
    vs_torchvision(lib, "identical boxes", b, rng.random(1500).astype(np.float32), rng.integers(0, 3, 1500), 3)
    b = rand_boxes(rng, 1500, 300)
    vs_torchvision(lib, "identical scores", b, np.full(1500, 0.5, np.float32), rng.integers(0, 3, 1500), 3)
    b = rand_boxes(rng, 1500, 300)
    b[::2, 2] = b[::2, 0]
    b[::7] = b[0]
    vs_torchvision(lib, "zero-area boxes", b, rng.random(1500).astype(np.float32), rng.integers(0, 3, 1500), 3)
    s = rng.random(1500).astype(np.float32)
    s[::3], s[1::7], s[2::11] = np.nan, np.inf, -np.inf
    vs_torchvision(lib, "NaN/Inf scores", rand_boxes(rng, 1500, 300), s, rng.integers(0, 3, 1500), 3)
    vs_torchvision(lib, "zero candidates", np.zeros((0, 4), np.float32), np.zeros(0, np.float32),
                   np.zeros(0, np.int64), 1)
    vs_torchvision(lib, "10000 candidates", rand_boxes(rng, 10000, 3000, 60), rng.random(10000).astype(np.float32),
                   np.zeros(10000, np.int64), 1)
    # ---- 2. CUDA vs CPU
    B, N, C = 4, 3000, 10
    boxes = np.stack([rand_boxes(rng, N, 600) for _ in range(B)])
    scores = rng.random((B, N, C)).astype(np.float32)
    p0 = dict(thr=0.3, iou=0.5, topk=100, K=300)
    p1 = dict(thr=0.3, iou=0.5, topk=500, mode=1, levels=[2000, 700, 300], K=300)
    for f16 in (False, True):
        cuda_vs_cpu(lib, "random per-class top-k", p0, boxes, scores, f16)
        cuda_vs_cpu(lib, "random per-level top-k", p1, boxes, scores, f16)
    cuda_vs_cpu(lib, "random ge, bg 0, scaled", dict(thr=0.1, iou=0.45, topk=200, K=200, bg=0, ge=1, osx=2, osy=3),
                boxes, scores)
    cuda_vs_cpu(lib, "no top-k, K 5000", dict(thr=0.9, iou=0.6, K=5000), boxes, scores)
    same_b = np.tile(np.array([10, 20, 110, 220], np.float32), (B, N, 1))
    cuda_vs_cpu(lib, "identical boxes", p0, same_b, scores)
    cuda_vs_cpu(lib, "identical scores", p0, boxes, np.full_like(scores, 0.5))
    cuda_vs_cpu(lib, "identical boxes and scores", p1, same_b, np.full_like(scores, 0.5))
    zb = boxes.copy()
    zb[:, ::2, 2] = zb[:, ::2, 0]
    cuda_vs_cpu(lib, "zero-area boxes", p0, zb, scores)
    ns = scores.copy()
    ns[:, ::3, :] = np.nan
    ns[:, 1::5, 2] = np.inf
    ns[:, 2::7, 1] = -np.inf
    cuda_vs_cpu(lib, "NaN/Inf scores", p0, boxes, ns)
    cuda_vs_cpu(lib, "zero candidates", p0, boxes, np.zeros_like(scores))
    big_b = rand_boxes(rng, 10000, 3000, 60)[None]
    cuda_vs_cpu(lib, "10000 candidates top-k 10000", dict(thr=-1.0, iou=0.5, topk=10000, K=10000), big_b,
                rng.random((1, 10000, 1)).astype(np.float32))
    sb, ss = realistic_ssd(rng, 8)
    for thr in (0.05, 0.001):
        cuda_vs_cpu(lib, "SSD-like b8 thr %g" % thr, dict(thr=thr, iou=0.45, topk=200, K=200, bg=0, ge=1), sb, ss)
    rb = np.stack([rand_boxes(rng, 120087, 800, 200) for _ in range(2)])
    rs = (1 / (1 + np.exp(-rng.normal(-7, 1.5, (2, 120087, 91))))).astype(np.float32)
    lv = [90000, 22500, 5625, 1521, 441]
    cuda_vs_cpu(lib, "RetinaNet-like b2", dict(thr=0.05, iou=0.5, topk=1000, mode=1, levels=lv, K=300), rb, rs)
    # dense scores (random-weight networks): segments far larger than top-k, many ties at the
    # k-th key (the top-k select before the sort must keep exactly the sorted prefix)
    q = np.floor(scores * 16) / 16
    cuda_vs_cpu(lib, "quantized scores per-class top-k", p0, boxes, q)
    cuda_vs_cpu(lib, "quantized scores per-level top-k", p1, boxes, q)
    rd = rng.random((1, 120087, 91)).astype(np.float32)
    cuda_vs_cpu(lib, "RetinaNet-like dense b1", dict(thr=0.05, iou=0.5, topk=1000, mode=1, levels=lv, K=300), rb[:1], rd)
    cuda_vs_cpu(lib, "RetinaNet-like dense b1 f16", dict(thr=0.05, iou=0.5, topk=1000, mode=1, levels=lv, K=300), rb[:1],
                rd, True)
    # paths of the default pipeline that the cases above leave out (own generator: the inputs of
    # the cases below stay as they were):
    rng2 = np.random.default_rng(11)
    # segments of more than the block's sort capacity (N > 8192, top-k 300): exact block radix
    # select, with many ties at the k-th score (quantized) so that it resolves on the index bits
    bb = np.stack([rand_boxes(rng2, 12000, 2000, 80) for _ in range(2)])
    qs = (np.floor(rng2.random((2, 12000, 3)) * 64) / 64).astype(np.float32)
    cuda_vs_cpu(lib, "block select, ties (N 12000, top-k 300)", dict(thr=-1.0, iou=0.5, topk=300, K=300), bb, qs)
    cuda_vs_cpu(lib, "block select, SSD-like quantized thr 0.001",
                dict(thr=0.001, iou=0.45, topk=200, K=200, bg=0, ge=1), sb[:2], np.floor(ss[:2] * 256) / 256)
    # per-level top-k: class segments of up to 7000 rows > the 4096-key block -> CUB sorts those
    # (begin == end for the others); rows > 512 -> bitmask and greedy in global memory
    lv3 = [8000, 3000, 1000]
    cuda_vs_cpu(lib, "CUB for big class segments (per-level)",
                dict(thr=-1.0, iou=0.6, topk=3000, mode=1, levels=lv3, K=300), bb[:1], qs[:1, :, :1])
    # per-level top-k 9000 > the largest block sort: multi-block select, CUB for the level
    # segments, scatter from the CUB output; K 10000 -> CUB per-image merge with composite keys
    cuda_vs_cpu(lib, "CUB for big level segments, K 10000",
                dict(thr=-1.0, iou=0.6, topk=9000, mode=1, levels=lv3, K=10000), bb[:1], qs[:1, :, :2])
    # batch 64 (the 8 images above, tiled), workspace filled with random bytes before each of 6
    # calls: every call must equal the CPU (catches reads of stale workspace and races that a
    # small grid hides)
    sb64, ss64 = np.tile(sb, (8, 1, 1)), np.tile(ss, (8, 1, 1))
    p64 = dict(thr=0.05, iou=0.45, topk=200, K=200, bg=0, ge=1, osx=300.0, osy=300.0)
    ref64 = lib.cpu_nms(p64, sb64, ss64)
    t_b, t_s = torch.from_numpy(sb64).cuda(), torch.from_numpy(ss64).cuda()
    for sort in SORTS:
        os.environ["ODET_NMS_SORT"] = sort
        ws, outs = lib.cuda_nms_prepare(p64, *ss64.shape, torch)
        ok = 0
        for _ in range(6):
            ws.random_(0, 256)
            for o in outs:
                o.fill_(-7)
            got = [o.cpu().numpy() for o in lib.cuda_nms(p64, t_b, t_s, ws, outs, torch)]
            ok += all(np.array_equal(g.view(np.uint32) if g.dtype == np.float32 else g,
                                     r.view(np.uint32) if r.dtype == np.float32 else r) for g, r in zip(got, ref64))
        check(ok == 6, "cuda == cpu  SSD-like b64, poisoned workspace: %d / 6 runs  %s" % (ok, sort))
        del ws
    os.environ.pop("ODET_NMS_SORT", None)
    # determinism: the same CUDA call twice
    p = dict(thr=0.001, iou=0.45, topk=200, K=200, bg=0)
    ws, o1 = lib.cuda_nms_prepare(p, *ss.shape, torch)
    t_b, t_s = torch.from_numpy(sb).cuda(), torch.from_numpy(ss).cuda()
    a = [x.clone() for x in lib.cuda_nms(p, t_b, t_s, ws, o1, torch)]
    b2 = lib.cuda_nms(p, t_b, t_s, ws, o1, torch)
    check(all(torch.equal(x, y) for x, y in zip(a, b2)), "cuda run to run identical")
    # ---- 3. decode
    anchors = rand_boxes(rng, 8732, 300, 100)
    cxcywh = np.concatenate([(anchors[:, :2] + anchors[:, 2:]) / 600, (anchors[:, 2:] - anchors[:, :2]) / 300], 1)
    deltas = rng.normal(0, 1, (4, 8732, 4)).astype(np.float32)
    for name, d, an, dl in (
            ("coder 0 layout 1", dict(coder=0, layout=1), cxcywh, deltas.transpose(0, 2, 1).copy()),
            ("coder 1 layout 0 clip", dict(coder=1, layout=0, weights=(10, 10, 5, 5), xclip=float(np.log(1000 / 16)),
                                            cw=300.0, ch=300.0), anchors, deltas)):
        ref = lib.cpu_box_decode(d, dl, an)
        out = torch.zeros(4, 8732, 4, device="cuda")
        lib.cuda_box_decode(d, torch.from_numpy(dl).cuda(), torch.from_numpy(an.astype(np.float32)).cuda(), out, torch)
        got = out.cpu().numpy()
        # relative to the box: coordinates near 0 come from cancellation (x - w/2), so the
        # denominator is max(|coordinate|, box width, box height)
        size = np.maximum(ref[..., 2] - ref[..., 0], ref[..., 3] - ref[..., 1])[..., None]
        rel = np.max(np.abs(got - ref) / np.maximum(np.maximum(np.abs(ref), size), 1e-12))
        exact = float(np.mean(got == ref))
        check(rel <= 1e-6, "decode cuda vs cpu %-22s max relative difference %.2e (%.4f bit-equal)" %
              (name, rel, exact))
    # ClassScores: both layouts, float32 and float16 logits (the CPU reads the float16 values
    # widened, which is exact). Bounds: expf is within 2 ulp of the host's; the softmax sum of C
    # terms is sequential on the CPU (error <= (C-1) u of the sum) and a 32-lane tree on the GPU
    # (<= (ceil(C/32)+5) u), so the two may differ by about (C + 8) u, u = 2^-24, plus the
    # exponentials' 2 ulp; the sigmoid is 2 ulp of expf plus two roundings.
    for C, N in ((81, 8732), (91, 2000), (7, 333)):
        x = rng.normal(0, 3, (4, C, N)).astype(np.float32)
        for act in (1, 2):
            bound = ((C + 8) * 2.0 ** -24 + 2 * 2.0 ** -23) if act == 1 else 4 * 2.0 ** -23
            for layout in (1, 0):
                for f16 in (False, True):
                    xs = x.astype(np.float16).astype(np.float32) if f16 else x
                    xl = xs if layout else xs.transpose(0, 2, 1).copy()
                    ref = lib.cpu_scores(layout, act, xl)
                    out = torch.zeros(4, N, C, device="cuda")
                    xt = torch.from_numpy(xl).cuda()
                    lib.cuda_scores(layout, act, xt.half() if f16 else xt, out, torch)
                    got = out.cpu().numpy()
                    rel = np.max(np.abs(got - ref) / np.maximum(np.abs(ref), 1e-30))
                    check(rel <= bound, "scores cuda vs cpu %-7s C %-2d layout %d %s max relative difference %.2e "
                          "(bound %.2e)" % ("softmax" if act == 1 else "sigmoid", C, layout,
                                            "f16" if f16 else "f32", rel, bound))
    # ---- 4. fused class scores (own generator: the inputs of the cases above stay as they were)
    fused_checks(lib, np.random.default_rng(23))
    print("nms_check: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
