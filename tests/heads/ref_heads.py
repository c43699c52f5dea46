#!/usr/bin/python3
"""ref_heads.py — numpy references for odet's detection heads (run by ctest with Debian's python3).

Usage: ref_heads.py <path to test_heads>

Independent re-implementations, written from the reference code's documented algorithm:
  * priors: NVIDIA DeepLearningExamples DefaultBoxes / dboxes300_coco(), torchvision
    DefaultBoxGenerator (ssd300_vgg16) and AnchorGenerator (retinanet_resnet50_fpn): float32
    equality with what odet stores in the graph;
  * decode: NVIDIA Encoder.scale_back_batch, torchvision BoxCoder.decode_single;
  * end to end: NVIDIA Encoder.decode_batch, torchvision SSD and RetinaNet postprocess_detections,
    on random "network outputs" with a realistic score distribution: every image holds 3..14
    objects; anchors overlapping an object (IoU > 0.4) get that object's encoded box plus noise
    and a class logit raised with the overlap; every other anchor gets background-dominated
    logits (softmax heads: background logit + 7 over N(0,1) logits; sigmoid head: N(-7, 1.2))
    and N(0,1) deltas, so thresholds, top-k and NMS all do real work.
Prints "heads_reference: N passed, N failed".
"""
import itertools
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

f32 = np.float32
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAILED:", what, file=sys.stderr)


# ---------------------------------------------------------------- priors

def nvidia_dboxes(fig_size=300, feat_size=(38, 19, 10, 5, 3, 1), steps=(8, 16, 32, 64, 100, 300),
                  scales=(21, 45, 99, 153, 207, 261, 315), aspect_ratios=((2,), (2, 3), (2, 3), (2, 3), (2,), (2,))):
    fk = fig_size / np.array(steps)
    boxes = []
    for idx, sfeat in enumerate(feat_size):
        sk1 = scales[idx] / fig_size
        sk2 = scales[idx + 1] / fig_size
        sk3 = math.sqrt(sk1 * sk2)
        all_sizes = [(sk1, sk1), (sk3, sk3)]
        for alpha in aspect_ratios[idx]:
            w, h = sk1 * math.sqrt(alpha), sk1 / math.sqrt(alpha)
            all_sizes.append((w, h))
            all_sizes.append((h, w))
        for w, h in all_sizes:
            for i, j in itertools.product(range(sfeat), repeat=2):
                cx, cy = (j + 0.5) / fk[idx], (i + 0.5) / fk[idx]
                boxes.append((cx, cy, w, h))
    return np.clip(np.array(boxes, dtype=np.float64).astype(f32), f32(0), f32(1))  # xywh


def torchvision_ssd_anchors(H=300, W=300, feat=(38, 19, 10, 5, 3, 1), steps=(8, 16, 32, 64, 100, 300),
                            scales=(0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05),
                            aspect_ratios=((2,), (2, 3), (2, 3), (2, 3), (2,), (2,))):
    out = []
    for k, f in enumerate(feat):
        s_k = scales[k]
        s_prime = math.sqrt(scales[k] * scales[k + 1])
        wh = [[s_k, s_k], [s_prime, s_prime]]
        for ar in aspect_ratios[k]:
            sq = math.sqrt(ar)
            wh.extend([[s_k * sq, s_k / sq], [s_k / sq, s_k * sq]])
        wh = np.clip(np.array(wh, dtype=np.float64).astype(f32), f32(0), f32(1))
        x_f_k, y_f_k = f32(W / steps[k]), f32(H / steps[k])
        sx = (np.arange(f).astype(f32) + f32(0.5)) / x_f_k
        sy = (np.arange(f).astype(f32) + f32(0.5)) / y_f_k
        yy, xx = np.meshgrid(sy, sx, indexing="ij")
        centres = np.stack([xx.reshape(-1), yy.reshape(-1)], 1)
        centres = np.repeat(centres, len(wh), axis=0)
        whs = np.tile(wh, (f * f, 1))
        out.append(np.concatenate([centres, whs], 1))
    d = np.concatenate(out).astype(f32)
    size = np.array([W, H], dtype=f32)
    return np.concatenate([(d[:, :2] - f32(0.5) * d[:, 2:]) * size, (d[:, :2] + f32(0.5) * d[:, 2:]) * size], 1)


def retinanet_anchors(H=800, W=800):
    sizes = [(x, int(x * 2 ** (1.0 / 3)), int(x * 2 ** (2.0 / 3))) for x in [32, 64, 128, 256, 512]]
    ratios = np.array([0.5, 1.0, 2.0], dtype=f32)
    out, level_sizes = [], []
    for l, sz in enumerate(sizes):
        d = 2 ** (3 + l)
        gh, gw = -(-H // d), -(-W // d)
        sh, sw = H // gh, W // gw
        scales = np.array(sz, dtype=f32)
        h_r = np.sqrt(ratios)
        w_r = f32(1) / h_r
        ws = (w_r[:, None] * scales[None, :]).reshape(-1)
        hs = (h_r[:, None] * scales[None, :]).reshape(-1)
        base = np.round(np.stack([-ws, -hs, ws, hs], 1) / f32(2))
        shx = (np.arange(gw) * sw).astype(np.int64)
        shy = (np.arange(gh) * sh).astype(np.int64)
        yy, xx = np.meshgrid(shy, shx, indexing="ij")
        xx, yy = xx.reshape(-1), yy.reshape(-1)
        shifts = np.stack([xx, yy, xx, yy], 1).astype(f32)
        a = (shifts[:, None, :] + base[None, :, :]).reshape(-1, 4).astype(f32)
        out.append(a)
        level_sizes.append(len(a))
    return np.concatenate(out), level_sizes


# ---------------------------------------------------------------- decode

def softmax(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    e = np.exp(x - m)
    return (e / e.sum(axis=axis, keepdims=True)).astype(f32)


def nvidia_scale_back(loc, conf, dboxes):
    b = loc.transpose(0, 2, 1).copy()
    b[:, :, :2] = f32(0.1) * b[:, :, :2]
    b[:, :, 2:] = f32(0.2) * b[:, :, 2:]
    b[:, :, :2] = b[:, :, :2] * dboxes[None, :, 2:] + dboxes[None, :, :2]
    b[:, :, 2:] = np.exp(b[:, :, 2:]) * dboxes[None, :, 2:]
    l = b[:, :, 0] - f32(0.5) * b[:, :, 2]
    t = b[:, :, 1] - f32(0.5) * b[:, :, 3]
    r = b[:, :, 0] + f32(0.5) * b[:, :, 2]
    bt = b[:, :, 1] + f32(0.5) * b[:, :, 3]
    return np.stack([l, t, r, bt], -1).astype(f32), softmax(conf.transpose(0, 2, 1))


def tv_decode(rel, anchors, weights, H, W):
    widths = anchors[:, 2] - anchors[:, 0]
    heights = anchors[:, 3] - anchors[:, 1]
    cx = anchors[:, 0] + f32(0.5) * widths
    cy = anchors[:, 1] + f32(0.5) * heights
    wx, wy, ww, wh = [f32(w) for w in weights]
    clip = f32(math.log(1000.0 / 16))
    dx, dy = rel[..., 0] / wx, rel[..., 1] / wy
    dw, dh = np.minimum(rel[..., 2] / ww, clip), np.minimum(rel[..., 3] / wh, clip)
    pcx, pcy = dx * widths + cx, dy * heights + cy
    pw, ph = np.exp(dw) * widths, np.exp(dh) * heights
    hw, hh = f32(0.5) * pw, f32(0.5) * ph
    b = np.stack([pcx - hw, pcy - hh, pcx + hw, pcy + hh], -1).astype(f32)
    b[..., 0::2] = np.clip(b[..., 0::2], f32(0), f32(W))
    b[..., 1::2] = np.clip(b[..., 1::2], f32(0), f32(H))
    return b


# ---------------------------------------------------------------- postprocess references

@np.errstate(invalid="ignore", divide="ignore")
def iou_one(boxes, box):
    lt = np.maximum(boxes[:, :2], box[:2])
    rb = np.minimum(boxes[:, 2:], box[2:])
    d = np.clip(rb - lt, 0, None)
    inter = d[:, 0] * d[:, 1]
    a1 = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    a2 = (box[2] - box[0]) * (box[3] - box[1])
    return (inter / (a1 + a2 - inter)).astype(f32)


def nvidia_decode_single(bboxes, probs, criteria=0.45, max_output=200, max_num=200):
    bo, so, lo = [], [], []
    for i in range(1, probs.shape[1]):
        score = probs[:, i]
        mask = score > f32(0.05)
        b, s = bboxes[mask], score[mask]
        if s.size == 0:
            continue
        order = np.argsort(s, kind="stable")[-max_num:]
        cand = []
        while order.size > 0:
            idx = order[-1]
            iou = iou_one(b[order], b[idx])
            order = order[iou < f32(criteria)]
            cand.append(idx)
        bo.append(b[cand])
        so.append(s[cand])
        lo.extend([i] * len(cand))
    if not bo:
        return np.zeros((0, 4), f32), np.zeros(0, f32), np.zeros(0, np.int64)
    bo, so, lo = np.concatenate(bo), np.concatenate(so), np.array(lo)
    keep = np.argsort(so, kind="stable")[-max_output:]
    return bo[keep], so[keep], lo[keep]


def batched_nms(boxes, scores, labels, thr):
    """torchvision.ops.batched_nms: per-label greedy NMS, result sorted by decreasing score."""
    keep = []
    for c in np.unique(labels):
        idx = np.nonzero(labels == c)[0]
        order = idx[np.argsort(-scores[idx], kind="stable")]
        while order.size:
            i = order[0]
            keep.append(i)
            if order.size == 1:
                break
            iou = iou_one(boxes[order[1:]], boxes[i])
            order = order[1:][~(iou > f32(thr))]
    keep = np.array(keep, dtype=np.int64)
    return keep[np.argsort(-scores[keep], kind="stable")]


def tv_ssd_postprocess(reg, logits, anchors, H, W, score_thresh=0.01, topk=400, nms=0.45, dets=200):
    out = []
    probs = softmax(logits)
    for b in range(reg.shape[0]):
        boxes = tv_decode(reg[b], anchors, (10, 10, 5, 5), H, W)
        ib, isc, il = [], [], []
        for label in range(1, probs.shape[2]):
            s = probs[b, :, label]
            k = s > f32(score_thresh)
            s, bx = s[k], boxes[k]
            o = np.argsort(-s, kind="stable")[:topk]
            ib.append(bx[o]), isc.append(s[o]), il.append(np.full(len(o), label))
        ib, isc, il = np.concatenate(ib), np.concatenate(isc), np.concatenate(il)
        keep = batched_nms(ib, isc, il, nms)[:dets]
        out.append((ib[keep], isc[keep], il[keep]))
    return out


def tv_retina_postprocess(reg, logits, anchors, level_sizes, H, W, score_thresh=0.05, topk=1000, nms=0.5, dets=300):
    out = []
    C = logits.shape[2]
    for b in range(reg.shape[0]):
        ib, isc, il = [], [], []
        a0 = 0
        for n in level_sizes:
            lg = logits[b, a0:a0 + n]
            s = (f32(1) / (f32(1) + np.exp(-lg))).astype(f32).reshape(-1)
            keep = s > f32(score_thresh)
            idxs = np.nonzero(keep)[0]
            s = s[keep]
            o = np.argsort(-s, kind="stable")[:topk]
            s, idxs = s[o], idxs[o]
            ai, lab = idxs // C, idxs % C
            bx = tv_decode(reg[b, a0 + ai], anchors[a0 + ai], (1, 1, 1, 1), H, W)
            ib.append(bx), isc.append(s), il.append(lab)
            a0 += n
        ib, isc, il = np.concatenate(ib), np.concatenate(isc), np.concatenate(il)
        keep = batched_nms(ib, isc, il, nms)[:dets]
        out.append((ib[keep], isc[keep], il[keep]))
    return out


# ---------------------------------------------------------------- synthetic network outputs

def iou_matrix(a, b):
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    d = np.clip(rb - lt, 0, None)
    inter = d[..., 0] * d[..., 1]
    aa = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    ab = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / (aa[:, None] + ab[None, :] - inter)


def objects(rng, H, W, C, first_class):
    n = rng.integers(3, 15)
    wh = rng.uniform(0.07, 0.6, (n, 2)) * [W, H]
    xy = rng.uniform(0, 1, (n, 2)) * ([W, H] - wh)
    return np.concatenate([xy, xy + wh], 1), rng.integers(first_class, C, n)


def synth(rng, anchors_xyxy, B, C, H, W, encode, sigmoid):
    N = len(anchors_xyxy)
    deltas = rng.normal(0, 1, (B, N, 4)).astype(f32)
    if sigmoid:
        logits = rng.normal(-7, 1.2, (B, N, C)).astype(f32)
    else:
        logits = rng.normal(0, 1, (B, N, C)).astype(f32)
        logits[:, :, 0] += 7
    for b in range(B):
        obj, cls = objects(rng, H, W, C, 0 if sigmoid else 1)
        iou = iou_matrix(anchors_xyxy, obj)
        best, bi = iou.max(1), iou.argmax(1)
        pos = np.nonzero(best > 0.4)[0]
        o = obj[bi[pos]] + rng.normal(0, 3, (len(pos), 4))
        deltas[b, pos] = encode(o, pos).astype(f32) + rng.normal(0, 0.05, (len(pos), 4)).astype(f32)
        logits[b, pos, cls[bi[pos]]] += (4 + 8 * best[pos] + rng.normal(0, 0.5, len(pos))).astype(f32)
        if not sigmoid:
            logits[b, pos, 0] -= 7
    return deltas, logits


# ---------------------------------------------------------------- odet helper

def run_e2e(exe, tmp, preset, H, W, a, b):
    paths = []
    for k, x in enumerate((a, b)):
        p = os.path.join(tmp, "in%d.f32" % k)
        np.ascontiguousarray(x, dtype=f32).tofile(p)
        paths += [p, ",".join(str(d) for d in x.shape)]
    prefix = os.path.join(tmp, preset + "_")
    r = subprocess.run([exe, "e2e", "auto", str(a.shape[0]), str(H), str(W), prefix] + paths,
                       capture_output=True, text=True)
    check(r.returncode == 0, "%s: helper exited %d: %s" % (preset, r.returncode, r.stderr.strip()))
    if r.returncode:
        return None
    rd = lambda n, t: np.fromfile(prefix + n + ".bin", dtype=t)
    desc = open(prefix + "describe.txt").read()
    check(desc.startswith(preset), "%s: recognized as '%s'" % (preset, desc))
    return rd("count", np.int32), rd("boxes", f32), rd("scores", f32), rd("classes", np.int32), rd("decoded", f32)


def compare(name, got, ref, K, scale=1.0):
    cnt, boxes, scores, classes, _ = got
    B = len(ref)
    boxes, scores, classes = boxes.reshape(B, K, 4), scores.reshape(B, K), classes.reshape(B, K)
    total = 0
    for b, (rb, rs, rl) in enumerate(ref):
        o = np.argsort(-rs, kind="stable")
        rb, rs, rl = rb[o] * scale, rs[o], rl[o]
        n = len(rs)
        total += n
        ok = cnt[b] == n
        check(ok, "%s image %d: %d detections, reference %d" % (name, b, cnt[b], n))
        if not ok:
            continue
        check(np.array_equal(classes[b, :n], rl), "%s image %d: classes differ" % (name, b))
        check(np.allclose(scores[b, :n], rs, rtol=1e-5, atol=1e-7), "%s image %d: scores differ" % (name, b))
        check(np.allclose(boxes[b, :n], rb, rtol=1e-5, atol=1e-3), "%s image %d: boxes differ, max %g" %
              (name, b, np.abs(boxes[b, :n] - rb).max() if n else 0))
        check(not boxes[b, n:].any() and not scores[b, n:].any() and not classes[b, n:].any(),
              "%s image %d: rows past count are not zero" % (name, b))
    print("%s: %d reference detections over %d images" % (name, total, B))
    check(total > 5 * B, "%s: the case has too few detections to mean anything" % name)


@np.errstate(invalid="ignore", divide="ignore", over="ignore")
def main():
    exe = sys.argv[1]
    rng = np.random.default_rng(20261121)
    with tempfile.TemporaryDirectory() as tmp:
        # priors, float32 equality
        for preset, H, W, ref in (("ssd300-nvidia", 300, 300, nvidia_dboxes()),
                                  ("ssd300-vgg16", 300, 300, torchvision_ssd_anchors()),
                                  ("retinanet", 800, 800, retinanet_anchors()[0]),
                                  ("retinanet", 512, 640, retinanet_anchors(512, 640)[0])):
            p = os.path.join(tmp, "priors.f32")
            r = subprocess.run([exe, "priors", preset, str(H), str(W), p])
            got = np.fromfile(p, dtype=f32).reshape(-1, 4) if r.returncode == 0 else np.zeros((0, 4), f32)
            check(got.shape == ref.shape and np.array_equal(got, ref),
                  "%s %dx%d priors differ from the reference (%s vs %s)" % (preset, H, W, got.shape, ref.shape))
        B = 2
        # NVIDIA SSD300
        d = nvidia_dboxes()
        axy = np.concatenate([d[:, :2] - d[:, 2:] / 2, d[:, :2] + d[:, 2:] / 2], 1) * 300

        def enc_nv(o, pos):
            o = o / 300.0
            c, wh = (o[:, :2] + o[:, 2:]) / 2, np.maximum(o[:, 2:] - o[:, :2], 1e-3)
            return np.concatenate([(c - d[pos, :2]) / d[pos, 2:] / 0.1, np.log(wh / d[pos, 2:]) / 0.2], 1)

        deltas, logits = synth(rng, axy, B, 81, 300, 300, enc_nv, False)
        loc, conf = deltas.transpose(0, 2, 1).copy(), logits.transpose(0, 2, 1).copy()
        got = run_e2e(exe, tmp, "ssd300-nvidia", 300, 300, loc, conf)
        if got:
            bb, pr = nvidia_scale_back(loc, conf, d)
            check(np.allclose(got[4].reshape(bb.shape), bb, rtol=1e-5, atol=1e-6), "ssd300-nvidia decode differs")
            ref = [nvidia_decode_single(bb[b], pr[b]) for b in range(B)]
            compare("ssd300-nvidia", got, ref, 200, 300.0)
        # torchvision SSD300-VGG16
        a = torchvision_ssd_anchors()

        def enc_tv(anch, w):
            def f(o, pos):
                an = anch[pos]
                aw, ah = an[:, 2] - an[:, 0], an[:, 3] - an[:, 1]
                acx, acy = an[:, 0] + aw / 2, an[:, 1] + ah / 2
                ow, oh = np.maximum(o[:, 2] - o[:, 0], 1), np.maximum(o[:, 3] - o[:, 1], 1)
                ocx, ocy = o[:, 0] + ow / 2, o[:, 1] + oh / 2
                return np.stack([w[0] * (ocx - acx) / aw, w[1] * (ocy - acy) / ah, w[2] * np.log(ow / aw),
                                 w[3] * np.log(oh / ah)], 1)
            return f

        reg, logits = synth(rng, a, B, 91, 300, 300, enc_tv(a, (10, 10, 5, 5)), False)
        got = run_e2e(exe, tmp, "ssd300-vgg16", 300, 300, reg, logits)
        if got:
            dec = np.stack([tv_decode(reg[b], a, (10, 10, 5, 5), 300, 300) for b in range(B)])
            check(np.allclose(got[4].reshape(dec.shape), dec, rtol=1e-5, atol=1e-4), "ssd300-vgg16 decode differs")
            compare("ssd300-vgg16", got, tv_ssd_postprocess(reg, logits, a, 300, 300), 200)
        # torchvision RetinaNet, 800 x 800
        a, ls = retinanet_anchors()
        reg, logits = synth(rng, a, B, 91, 800, 800, enc_tv(a, (1, 1, 1, 1)), True)
        got = run_e2e(exe, tmp, "retinanet", 800, 800, reg, logits)
        if got:
            dec = np.stack([tv_decode(reg[b], a, (1, 1, 1, 1), 800, 800) for b in range(B)])
            check(np.allclose(got[4].reshape(dec.shape), dec, rtol=1e-5, atol=1e-3), "retinanet decode differs")
            compare("retinanet", got, tv_retina_postprocess(reg, logits, a, ls, 800, 800), 300)
    print("heads_reference: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
