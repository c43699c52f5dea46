#!/usr/bin/python3
"""run_tfjs.py — odet vs TF.js itself on the pretrained TF.js detectors (CenterNet, NanoDet).

For each model and each of the six sample photos: odet letterboxes the photo and runs the raw
network and network + head (tfjs_dump); TF.js (@tensorflow/tfjs, pure-JS CPU backend, under
node) runs the same model on the same input tensor. Checks:
  raw outputs        max|diff| / max|ref| <= 1e-4 for every output
  final detections   same classes, boxes within 0.5 px, scores within 1e-3, against
                     - CenterNet: the graph's own baked-in postprocess (output tower_0/detections,
                       the top-100 peaks) run by TF.js, above the head's score threshold;
                     - NanoDet: an independent numpy decode (GFL distributions, cell centres at
                       +0.5) + class-aware greedy NMS on TF.js's raw outputs, with the head's
                       parameters (score > 0.05, top 1000 per class, IoU 0.6, 100 per image).
usage: run_tfjs.py BUILD_DIR REPO_DIR
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "gen"))
import tensorfile  # noqa: E402

passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


def rel_err(ref, out):
    ref = np.asarray(ref, np.float64)
    out = np.asarray(out, np.float64)
    den = np.max(np.abs(ref)) if ref.size else 0.0
    return float(np.max(np.abs(ref - out)) / (den if den > 0 else 1.0)) if ref.size else 0.0


def load(path):
    return dict(tensorfile.read(path))


def odet_dets(det):
    n = int(det["det_count"][0])
    return det["det_boxes"][0][:n], det["det_scores"][0][:n], det["det_classes"][0][:n]


def iou(a, b):
    x1 = np.maximum(a[0], b[:, 0])
    y1 = np.maximum(a[1], b[:, 1])
    x2 = np.minimum(a[2], b[:, 2])
    y2 = np.minimum(a[3], b[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda z: (z[..., 2] - z[..., 0]) * (z[..., 3] - z[..., 1])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def nanodet_reference(raw, H, W, score_thr=0.05, topk=1000, iou_thr=0.6, max_det=100):
    """GFL decode + class-aware greedy NMS, from NanoDet's documented algorithm."""
    levels = []
    for name, v in raw.items():
        if v.shape[2] % 4 == 0 and v.shape[2] < 80:
            continue
        n = v.shape[1]
        dist = [d for d in raw.values() if d.shape[1] == n and d.shape[2] % 4 == 0 and d.shape[2] < v.shape[2]][0]
        levels.append((v[0].astype(np.float64), dist[0].astype(np.float64), n))
    boxes, scores = [], []
    for sc, dist, n in levels:
        stride = int(round(np.sqrt(H * W / n)))
        gw = W // stride
        R = dist.shape[1] // 4
        d = dist.reshape(n, 4, R)
        p = np.exp(d - d.max(axis=2, keepdims=True))
        p /= p.sum(axis=2, keepdims=True)
        side = (p * np.arange(R)).sum(axis=2) * stride
        idx = np.arange(n)
        cx = (idx % gw + 0.5) * stride
        cy = (idx // gw + 0.5) * stride
        boxes.append(np.stack([cx - side[:, 0], cy - side[:, 1], cx + side[:, 2], cy + side[:, 3]], 1))
        scores.append(sc)
    boxes = np.concatenate(boxes)
    scores = np.concatenate(scores)
    out = []
    for c in range(scores.shape[1]):
        s = scores[:, c]
        cand = np.nonzero(s > score_thr)[0]
        cand = cand[np.lexsort((cand, -s[cand]))][:topk]
        keep = []
        for i in cand:
            if all(iou(boxes[i], boxes[[k]])[0] <= iou_thr for k in keep):
                keep.append(i)
        out += [(s[i], c, i) for i in keep]
    out.sort(key=lambda t: (-t[0], t[2], t[1]))
    out = out[:max_det]
    return (np.array([boxes[i] for _, _, i in out]).reshape(-1, 4), np.array([t[0] for t in out]),
            np.array([t[1] for t in out]))


def match(tag, ref, got, score_thr):
    rb, rs, rc = ref
    gb, gs, gc = got
    # detections within 1e-3 of the threshold may legitimately fall on either side
    keep_r = rs > score_thr + 1e-3
    keep_g = gs > score_thr + 1e-3
    rb, rs, rc = rb[keep_r], rs[keep_r], rc[keep_r]
    gb, gs, gc = gb[keep_g], gs[keep_g], gc[keep_g]
    check(len(rs) == len(gs), f"{tag}: {len(gs)} detections, reference {len(rs)}")
    used = np.zeros(len(gs), bool)
    bad = 0
    for b, s, c in zip(rb, rs, rc):
        cands = [j for j in range(len(gs)) if not used[j] and gc[j] == c and abs(gs[j] - s) <= 1e-3
                 and np.max(np.abs(gb[j] - b)) <= 0.5]
        if cands:
            used[cands[0]] = True
        else:
            bad += 1
    check(bad == 0, f"{tag}: {bad} reference detections without a match (class, 0.5 px, 1e-3)")
    return len(rs)


def main():
    build, repo = sys.argv[1], sys.argv[2]
    repo = os.path.abspath(repo)
    node_dir = os.path.join(repo, ".cache", "node")
    models = os.path.join(node_dir, "node_modules", "@vladmandic", "human-models", "models")
    samples = subprocess.run([os.path.join(repo, "scripts", "samples.sh")], check=True,
                             capture_output=True, text=True).stdout.strip()
    photos = [os.path.join(samples, f + ".jpg") for f in ("dog", "horses", "person", "giraffe", "kite", "eagle")]
    env = dict(os.environ, ODET_NODE_DIR=node_dir)
    with tempfile.TemporaryDirectory() as tmp:
        for model, outs in (("centernet", ["tower_0/wh", "tower_0/keypoints", "tower_0/detections"]),
                            ("nanodet", None)):
            mj = os.path.join(models, model + ".json")
            subprocess.run([os.path.join(build, "tests", "tfjs", "tfjs_dump"), mj, tmp] + photos, check=True)
            for p in photos:
                stem = os.path.splitext(os.path.basename(p))[0]
                tag = f"{model}/{stem}"
                ref_path = os.path.join(tmp, stem + ".tfjs.bin")
                cmd = ["node", os.path.join(repo, "tests", "ref", "tfjs_run.js"), mj,
                       os.path.join(tmp, stem + ".in.bin"), ref_path]
                if outs:
                    cmd += ["--outputs", ",".join(outs)]
                subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                ref = load(ref_path)
                raw = load(os.path.join(tmp, stem + ".raw.bin"))
                worst = 0.0
                for name, v in raw.items():
                    e = rel_err(ref[name], v)
                    worst = max(worst, e)
                    check(e <= 1e-4, f"{tag}: raw output {name} rel error {e:.3g}")
                got = odet_dets(load(os.path.join(tmp, stem + ".det.bin")))
                inp = load(os.path.join(tmp, stem + ".in.bin"))
                shape = list(inp.values())[0].shape
                if model == "centernet":
                    d = ref["tower_0/detections"][0]
                    rdet = (d[:, :4], d[:, 4], d[:, 5].astype(np.int64))
                else:
                    H, W = shape[2], shape[3]
                    rdet = nanodet_reference({k: ref[k] for k in raw}, H, W)
                n = match(tag, rdet, got, 0.05)
                print(f"{tag}: raw max rel error {worst:.2e}, {n} detections above 0.05 compared")
    print(f"tfjs reference: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
