#!/usr/bin/env python3
"""nms_bench.py — decode + NMS alone on the GPU: odet's CUDA head kernels vs PyTorch, same run.

usage: python3 bench/nms_bench.py <libodet_nms.so> [json out]
  ODET_NMS_SORT=cub      the library's CUB pipeline instead of the default (A/B)
  ODET_NMS_PHASES=1      also print odet's NMS time per stage (per kernel, torch profiler)

Workloads (network outputs synthesized like a trained detector's, see synth()):
  SSD300-R50 (NVIDIA), batch 64, 8732 boxes x 81 classes, score threshold 0.05 and 0.001:
     decode (scale_xy 0.1, scale_wh 0.2) + softmax + per-class top-200, IoU 0.45, 200 per image;
     odet unfused (BoxDecode, ClassScores, BatchedNms: what engines without pass_fuse_scores_nms
     ran) next to fused (BoxDecode, BatchedNms reading the [B,81,8732] logits), float32 and float16
     logits (odet_*_f16: the logits as an fp16 engine holds them);
  SSD300 batch 1 (latency): NMS alone, eagerly and as a replayed CUDA graph;
  RetinaNet-R50-FPN 800x800, batch 16, 120087 anchors x 91 classes: decode (BoxCoder 1,1,1,1,
     clip) + sigmoid + per-level top-1000 over score > 0.05, IoU 0.5, 300 per image (unfused and
     fused, float32 [B,N,C] logits).
Peers: (a) per-image loop with torchvision.ops.batched_nms (torchvision's postprocess style);
(b) fully vectorized PyTorch: one batched top-k, one NMS over the whole batch (class and image
offsets added to the coordinates), per-image top-K by a stable sort. All start from the same raw
outputs on the GPU and include decode + scores. CUDA events, warm-up, medians, 3 input sets in
rotation.
"""
import json
import math
import os
import statistics
import sys

import numpy as np
import torch
import torchvision
from torchvision.ops import box_iou, nms

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "heads"))
from nms_common import Lib  # noqa: E402
import ref_heads  # noqa: E402

dev = "cuda"


def timeit(fn, iters, warm=3, sets=3):
    for i in range(warm):
        fn(i % sets)
    torch.cuda.synchronize()
    ts = []
    for i in range(iters):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        fn(i % sets)
        e.record()
        e.synchronize()
        ts.append(s.elapsed_time(e))
    return statistics.median(ts)


def graph_ms(fn, iters=200):
    """median time of one replay of a CUDA graph holding fn()"""
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        fn()
    for _ in range(5):
        g.replay()
    torch.cuda.synchronize()
    ts = []
    for _ in range(iters):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        g.replay()
        b.record()
        b.synchronize()
        ts.append(a.elapsed_time(b))
    return statistics.median(ts)


# odet NMS kernels -> stage (names as the profiler shows them)
STAGES = (("DeviceScan", "CUB scans"), ("DeviceSegmentedRadixSort", "CUB segmented sorts"), ("filter", "filter"),
          ("sel_", "select (multi-block)"), ("bounds_kernel", "select/CUB bounds"),
          ("seg_kernel", "segment sort (+ scatter / bitmask / greedy)"), ("mask_kernel", "bitmask (global)"),
          ("scan_kernel", "greedy scan (global)"), ("scan2_kernel", "greedy scan (global)"),
          ("merge_kernel", "merge + gather"), ("Memset", "memsets"))


def phases(name, fn, iters=20):
    """ODET_NMS_PHASES=1: device time per stage of fn (odet's NMS alone) from the torch profiler"""
    if os.environ.get("ODET_NMS_PHASES") != "1":
        return
    from torch.profiler import ProfilerActivity, profile
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(iters):
            fn()
        torch.cuda.synchronize()
    per = {}
    for e in prof.key_averages():
        if e.device_time_total <= 0:
            continue
        st = next((v for k, v in STAGES if k in e.key), e.key[:40])
        t, n = per.get(st, (0.0, 0))
        per[st] = (t + e.device_time_total / iters, n + e.count / iters)
    tot = sum(t for t, n in per.values())
    print("  phases %s: %.1f us device, %.0f kernels/memsets per call" % (name, tot, sum(n for t, n in per.values())))
    for st, (t, n) in sorted(per.items(), key=lambda x: -x[1][0]):
        print("    %8.1f us  %5.1f x  %s" % (t, n, st))


def synth(gen, anchors, B, C, H, W, encode, sigmoid):
    """Background-dominated logits; anchors overlapping one of 3..14 random objects (IoU > 0.4)
    carry that object's encoded box (+ noise) and a class logit raised with the overlap."""
    N = anchors.shape[0]
    deltas = torch.randn(B, N, 4, device=dev, generator=gen)
    if sigmoid:
        logits = torch.randn(B, N, C, device=dev, generator=gen) * 1.2 - 7
    else:
        logits = torch.randn(B, N, C, device=dev, generator=gen)
        logits[:, :, 0] += 7
    for b in range(B):
        n = int(torch.randint(3, 15, (1,), generator=gen, device=dev))
        wh = (torch.rand(n, 2, device=dev, generator=gen) * 0.53 + 0.07) * torch.tensor([W, H], device=dev)
        xy = torch.rand(n, 2, device=dev, generator=gen) * (torch.tensor([W, H], device=dev) - wh)
        obj = torch.cat([xy, xy + wh], 1)
        cls = torch.randint(0 if sigmoid else 1, C, (n,), device=dev, generator=gen)
        best, bi = box_iou(anchors, obj).max(1)
        pos = torch.nonzero(best > 0.4).squeeze(1)
        o = obj[bi[pos]] + torch.randn(len(pos), 4, device=dev, generator=gen) * 3
        deltas[b, pos] = encode(o, pos) + torch.randn(len(pos), 4, device=dev, generator=gen) * 0.05
        logits[b, pos, cls[bi[pos]]] += 4 + 8 * best[pos] + torch.randn(len(pos), device=dev, generator=gen) * 0.5
        if not sigmoid:
            logits[b, pos, 0] -= 7
    return deltas.contiguous(), logits.contiguous()


def topk_per_image(scores, img, B, K):
    """keep indices sorted by score desc -> per image first K (vectorized)"""
    order = torch.sort(img, stable=True)[1]
    img_s = img[order]
    counts = torch.bincount(img_s, minlength=B)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.arange(len(img_s), device=dev) - starts[img_s]
    sel = rank < K
    return order[sel], img_s[sel], rank[sel]


# ---------------------------------------------------------------- SSD300 (NVIDIA)

def ssd_torch_decode(loc, conf, d):
    b = loc.permute(0, 2, 1)
    xy = 0.1 * b[..., :2] * d[:, 2:] + d[:, :2]
    wh = (0.2 * b[..., 2:]).exp() * d[:, 2:]
    boxes = torch.cat([xy - 0.5 * wh, xy + 0.5 * wh], -1)
    return boxes, torch.softmax(conf.permute(0, 2, 1), -1)


def ssd_loop(loc, conf, d, thr):
    boxes, probs = ssd_torch_decode(loc, conf, d)
    out = []
    for b in range(loc.shape[0]):
        s, idx = probs[b, :, 1:].t().topk(200, dim=1)
        m = s > thr
        cls = torch.arange(1, 81, device=dev)[:, None].expand_as(s)[m]
        bx, sc = boxes[b][idx[m]], s[m]
        keep = torchvision.ops.batched_nms(bx, sc, cls, 0.45)[:200]
        out.append((bx[keep] * 300, sc[keep], cls[keep]))
    return out


def ssd_vectorized(loc, conf, d, thr, chunk=0):
    """chunk > 0: images in groups of `chunk` (one torchvision NMS over ~1M boxes overflows its
    n x n/64 mask: 'Trying to create tensor with negative dimension')"""
    if chunk:
        return torch.cat([ssd_vectorized(loc[i:i + chunk], conf[i:i + chunk], d, thr)
                          for i in range(0, loc.shape[0], chunk)])
    B = loc.shape[0]
    boxes, probs = ssd_torch_decode(loc, conf, d)
    s, idx = probs[:, :, 1:].permute(0, 2, 1).topk(200, dim=2)          # [B,80,200]
    m = s > thr
    bi, ci, _ = torch.nonzero(m, as_tuple=True)
    sc = s[m]
    bx = boxes[bi, idx[m]]
    group = bi * 81 + ci + 1
    off = group.to(bx.dtype)[:, None] * 2.0                              # normalized coords: extent < 2
    keep = nms(bx + off, sc, 0.45)
    sel, img, rank = topk_per_image(sc[keep], bi[keep], B, 200)
    k = keep[sel]
    ob = torch.zeros(B, 200, 4, device=dev)
    ob[img, rank] = bx[k] * 300
    return ob


# ---------------------------------------------------------------- RetinaNet

def retina_decode(rel, anchors, W, H):
    widths = anchors[..., 2] - anchors[..., 0]
    heights = anchors[..., 3] - anchors[..., 1]
    cx = anchors[..., 0] + 0.5 * widths
    cy = anchors[..., 1] + 0.5 * heights
    clip = math.log(1000.0 / 16)
    dw, dh = rel[..., 2].clamp(max=clip), rel[..., 3].clamp(max=clip)
    pcx, pcy = rel[..., 0] * widths + cx, rel[..., 1] * heights + cy
    pw, ph = dw.exp() * widths, dh.exp() * heights
    b = torch.stack([pcx - 0.5 * pw, pcy - 0.5 * ph, pcx + 0.5 * pw, pcy + 0.5 * ph], -1)
    return torch.stack([b[..., 0].clamp(0, W), b[..., 1].clamp(0, H), b[..., 2].clamp(0, W), b[..., 3].clamp(0, H)], -1)


def retina_loop(reg, logits, anchors, levels):
    """torchvision RetinaNet.postprocess_detections, per image"""
    out = []
    C = logits.shape[2]
    for b in range(reg.shape[0]):
        ib, isc, il = [], [], []
        a0 = 0
        for n in levels:
            s = torch.sigmoid(logits[b, a0:a0 + n]).flatten()
            keep = s > 0.05
            s = s[keep]
            t_idx = torch.where(keep)[0]
            s, i = s.topk(min(1000, t_idx.size(0)))
            t_idx = t_idx[i]
            ai = torch.div(t_idx, C, rounding_mode="floor")
            ib.append(retina_decode(reg[b, a0 + ai], anchors[a0 + ai], 800, 800))
            isc.append(s)
            il.append(t_idx % C)
            a0 += n
        bx, sc, lb = torch.cat(ib), torch.cat(isc), torch.cat(il)
        keep = torchvision.ops.batched_nms(bx, sc, lb, 0.5)[:300]
        out.append((bx[keep], sc[keep], lb[keep]))
    return out


def retina_vectorized(reg, logits, anchors, levels):
    B, N, C = logits.shape
    ib, isc, il, ii = [], [], [], []
    a0 = 0
    for n in levels:
        s = torch.sigmoid(logits[:, a0:a0 + n]).reshape(B, -1)
        s, t_idx = s.topk(min(1000, n * C), dim=1)
        ai = a0 + torch.div(t_idx, C, rounding_mode="floor")
        ib.append(retina_decode(torch.gather(reg, 1, ai[..., None].expand(-1, -1, 4)), anchors[ai], 800, 800))
        isc.append(s)
        il.append(t_idx % C)
        a0 += n
    bx, sc, lb = torch.cat(ib, 1), torch.cat(isc, 1), torch.cat(il, 1)
    m = sc > 0.05
    bi = torch.nonzero(m, as_tuple=True)[0]
    bx, sc, lb = bx[m], sc[m], lb[m]
    off = (bi * C + lb).to(bx.dtype)[:, None] * 801.0
    keep = nms(bx + off, sc, 0.5)
    sel, img, rank = topk_per_image(sc[keep], bi[keep], B, 300)
    k = keep[sel]
    ob = torch.zeros(B, 300, 4, device=dev)
    ob[img, rank] = bx[k]
    return ob


def main():
    lib = Lib(sys.argv[1])
    results = {"device": torch.cuda.get_device_name(), "torch": torch.__version__,
               "torchvision": torchvision.__version__, "odet_nms_sort": os.environ.get("ODET_NMS_SORT", "")}
    gen = torch.Generator(device=dev)
    gen.manual_seed(2026)
    # ---------------- SSD300 batch 64
    d_np = ref_heads.nvidia_dboxes()
    d = torch.from_numpy(d_np).to(dev)
    axy = torch.cat([d[:, :2] - d[:, 2:] / 2, d[:, :2] + d[:, 2:] / 2], 1) * 300

    def enc_nv(o, pos):
        o = o / 300.0
        c, wh = (o[:, :2] + o[:, 2:]) / 2, (o[:, 2:] - o[:, :2]).clamp(min=1e-3)
        return torch.cat([(c - d[pos, :2]) / d[pos, 2:] / 0.1, torch.log(wh / d[pos, 2:]) / 0.2], 1)

    B = 64
    sets = []
    for _ in range(3):
        dl, lg = synth(gen, axy, B, 81, 300, 300, enc_nv, False)
        sets.append((dl.permute(0, 2, 1).contiguous(), lg.permute(0, 2, 1).contiguous()))
    boxes_buf = torch.empty(B, 8732, 4, device=dev)
    probs_buf = torch.empty(B, 8732, 81, device=dev)
    dparams = dict(coder=0, layout=1, sxy=0.1, swh=0.2)
    def key_of(thr):
        return "ssd300_b64_thr%g" % thr

    for thr in (0.05, 0.001):
        p = dict(thr=thr, iou=0.45, topk=200, K=200, bg=0, ge=1, osx=300.0, osy=300.0)
        ws, outs = lib.cuda_nms_prepare(p, B, 8732, 81, torch)

        def odet(i):
            loc, conf = sets[i]
            lib.cuda_box_decode(dparams, loc, d, boxes_buf, torch)
            lib.cuda_scores(1, 1, conf, probs_buf, torch)
            lib.cuda_nms(p, boxes_buf, probs_buf, ws, outs, torch)

        def odet_nms(i):
            lib.cuda_nms(p, boxes_buf, probs_buf, ws, outs, torch)

        t_odet = timeit(odet, 100)
        t_nms = timeit(odet_nms, 100)
        t_dec = timeit(lambda i: lib.cuda_box_decode(dparams, sets[i][0], d, boxes_buf, torch), 100)
        t_sc = timeit(lambda i: lib.cuda_scores(1, 1, sets[i][1], probs_buf, torch), 100)
        half = [lg.half() for _, lg in sets]  # the engine's float16 logits (no Cast in front)
        t_sc16 = timeit(lambda i: lib.cuda_scores(1, 1, half[i], probs_buf, torch), 100)

        def odet16(i):
            lib.cuda_box_decode(dparams, sets[i][0], d, boxes_buf, torch)
            lib.cuda_scores(1, 1, half[i], probs_buf, torch)
            lib.cuda_nms(p, boxes_buf, probs_buf, ws, outs, torch)

        # fused: BatchedNms with activation 1 (softmax), layout 1 ([B,C,N]) reads the logits
        ws_f, outs_f = lib.cuda_nms_prepare_fused(p, B, 8732, 81, 1, 1, torch)

        def fused(i, lg):
            lib.cuda_nms_fused(p, boxes_buf, lg[i], 1, 1, ws_f, outs_f, torch)

        logits32 = [lg for _, lg in sets]

        def odet_fused(i, lg=logits32):
            lib.cuda_box_decode(dparams, sets[i][0], d, boxes_buf, torch)
            fused(i, lg)

        t_odet16 = timeit(odet16, 100)
        t_fused = timeit(odet_fused, 100)
        t_fused_nms = timeit(lambda i: fused(i, logits32), 100)
        t_fused16 = timeit(lambda i: odet_fused(i, half), 100)
        t_fused16_nms = timeit(lambda i: fused(i, half), 100)
        odet(0)
        dets = float(outs[0].float().mean())
        odet_fused(0)
        same = all(torch.equal(a, b) for a, b in zip(outs, outs_f))  # nms_check checks bits; a sanity check
        phases(key_of(thr) + "_fused_f16", lambda: fused(0, half))
        del half, ws_f, outs_f
        chunk = 0 if thr >= 0.01 else 4
        t_vec = timeit(lambda i: ssd_vectorized(*sets[i], d, thr, chunk), 10)
        t_loop = timeit(lambda i: ssd_loop(*sets[i], d, thr), 5, warm=2)
        key = key_of(thr)
        results[key] = dict(odet_ms=t_odet, odet_nms_only_ms=t_nms, odet_decode_ms=t_dec, odet_softmax_ms=t_sc,
                            odet_softmax_f16_ms=t_sc16, odet_f16_ms=t_odet16,
                            odet_fused_ms=t_fused, odet_fused_nms_ms=t_fused_nms, odet_fused_f16_ms=t_fused16,
                            odet_fused_f16_nms_ms=t_fused16_nms, fused_equal=same,
                            torch_loop_ms=t_loop, torch_vectorized_ms=t_vec, vectorized_chunk=chunk,
                            speedup_vs_loop=t_loop / t_odet, speedup_vs_vectorized=t_vec / t_odet,
                            workspace_mb=ws.numel() / 2**20, mean_detections=dets)
        print(key, json.dumps(results[key]), flush=True)
        phases(key, lambda: odet_nms(0))
        if thr == 0.05:  # batch 1: launch latency
            p1 = dict(p)
            ws1, outs1 = lib.cuda_nms_prepare(p1, 1, 8732, 81, torch)
            b1, s1 = boxes_buf[:1], probs_buf[:1]

            def nms_b1(i=0):
                lib.cuda_nms(p1, b1, s1, ws1, outs1, torch)

            results["ssd300_b1_thr0.05"] = dict(odet_nms_only_ms=timeit(nms_b1, 200),
                                                odet_nms_graph_ms=graph_ms(nms_b1),
                                                odet_nms_b64_graph_ms=graph_ms(lambda: odet_nms(0)))
            print("ssd300_b1_thr0.05", json.dumps(results["ssd300_b1_thr0.05"]), flush=True)
            phases("ssd300_b1_thr0.05", nms_b1)
            del ws1, outs1
    del sets, boxes_buf, probs_buf
    torch.cuda.empty_cache()
    # ---------------- RetinaNet 800x800 batch 16
    a_np, levels = ref_heads.retinanet_anchors()
    anchors = torch.from_numpy(a_np).to(dev)

    def enc_rt(o, pos):
        an = anchors[pos]
        aw, ah = an[:, 2] - an[:, 0], an[:, 3] - an[:, 1]
        ow, oh = (o[:, 2] - o[:, 0]).clamp(min=1), (o[:, 3] - o[:, 1]).clamp(min=1)
        return torch.stack([(o[:, 0] + ow / 2 - an[:, 0] - aw / 2) / aw, (o[:, 1] + oh / 2 - an[:, 1] - ah / 2) / ah,
                            torch.log(ow / aw), torch.log(oh / ah)], 1)

    B = 16
    sets = [synth(gen, anchors, B, 91, 800, 800, enc_rt, True) for _ in range(2)]
    N = anchors.shape[0]
    boxes_buf = torch.empty(B, N, 4, device=dev)
    probs_buf = torch.empty(B, N, 91, device=dev)
    rparams = dict(coder=1, layout=0, weights=(1, 1, 1, 1), xclip=math.log(1000 / 16), cw=800.0, ch=800.0)
    p = dict(thr=0.05, iou=0.5, topk=1000, mode=1, levels=levels, K=300)
    ws, outs = lib.cuda_nms_prepare(p, B, N, 91, torch)

    def odet_r(i):
        reg, lg = sets[i]
        lib.cuda_box_decode(rparams, reg, anchors, boxes_buf, torch)
        lib.cuda_scores(0, 2, lg, probs_buf, torch)
        lib.cuda_nms(p, boxes_buf, probs_buf, ws, outs, torch)

    t_odet = timeit(odet_r, 50, sets=2)
    t_nms = timeit(lambda i: lib.cuda_nms(p, boxes_buf, probs_buf, ws, outs, torch), 50, sets=2)
    t_dec = timeit(lambda i: lib.cuda_box_decode(rparams, sets[i][0], anchors, boxes_buf, torch), 50, sets=2)
    t_sc = timeit(lambda i: lib.cuda_scores(0, 2, sets[i][1], probs_buf, torch), 50, sets=2)
    ws_f, outs_f = lib.cuda_nms_prepare_fused(p, B, N, 91, 2, 0, torch)

    def fused_r(i):  # BatchedNms with activation 2 (sigmoid), layout 0 reads the logits
        lib.cuda_nms_fused(p, boxes_buf, sets[i][1], 2, 0, ws_f, outs_f, torch)

    def odet_r_fused(i):
        reg, lg = sets[i]
        lib.cuda_box_decode(rparams, reg, anchors, boxes_buf, torch)
        fused_r(i)

    t_fused = timeit(odet_r_fused, 50, sets=2)
    t_fused_nms = timeit(fused_r, 50, sets=2)
    odet_r_fused(0)
    odet_r(0)
    dets = float(outs[0].float().mean())
    same = all(torch.equal(a, b) for a, b in zip(outs, outs_f))
    t_vec = timeit(lambda i: retina_vectorized(*sets[i], anchors, levels), 20, sets=2)
    t_loop = timeit(lambda i: retina_loop(*sets[i], anchors, levels), 5, warm=2, sets=2)
    results["retinanet800_b16"] = dict(odet_ms=t_odet, odet_nms_only_ms=t_nms, odet_decode_ms=t_dec,
                                       odet_sigmoid_ms=t_sc, odet_fused_ms=t_fused, odet_fused_nms_ms=t_fused_nms,
                                       fused_equal=same, torch_loop_ms=t_loop,
                                       torch_vectorized_ms=t_vec, speedup_vs_loop=t_loop / t_odet,
                                       speedup_vs_vectorized=t_vec / t_odet, workspace_mb=ws.numel() / 2**20,
                                       mean_detections=dets)
    print("retinanet800_b16", json.dumps(results["retinanet800_b16"]), flush=True)
    phases("retinanet800_b16", lambda: lib.cuda_nms(p, boxes_buf, probs_buf, ws, outs, torch))
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
