#!/usr/bin/env python3
"""pipeline_peer.py — the PyTorch peer of `odet detect --backend cuda` on a folder of JPEGs (device machine).

    python3 bench/pipeline_peer.py FOLDER [--batch 64] --json OUT.json [--runs 3] [--model ssd300_r50]
                                   [--score 0.3] [--also-export ONNX_PATH] [--stages]
    python3 bench/pipeline_peer.py --also-export ONNX_PATH --export-only [--model ssd300_r50]

The same whole job as `odet detect PLAN FOLDER --backend cuda --no-draw --quiet --json OUT.json`, written
the way a PyTorch user would, on the same GPU. FOLDER's .jpg/.jpeg files, sorted by name, in batches of
--batch; per batch:
  read      torchvision.io.read_file of each file (host bytes);
  decode    torchvision.io.decode_jpeg(list, mode=RGB, device="cuda"): batched nvJPEG decode on the GPU (a
            batch that fails is decoded image by image and the bad files are reported and skipped);
  letterbox as odet's io_letterbox_geom / io_letterbox: s = min(S/w, S/h) in float32, resized size
            rint(w s) x rint(h s), centred at ((S-rw)/2, (S-rh)/2) (integer division), bilinear with
            half-pixel centres (F.interpolate align_corners=False, antialias=False) on float pixels,
            padding pixel 0; images of one size are resized together;
  normalize value = pixel * scale + bias with odet's head preset (src/heads/config.c): ssd300-nvidia
            ImageNet mean/std on 0..1 pixels (scale 1/(255 std), bias -mean/std); ssd300-vgg16
            pixel - 255 mean; then fp16, channels_last;
  network   bench/peers.py build_model (export_models.build + random_init, seed 0): the network that
            peers.py runs and exports, eager fp16 channels_last on the GPU, under inference_mode,
            cudnn.benchmark on;
  post      bench/peers.py's postprocess of the model: ssd300_r50 post_ssd_nvidia = nms_bench.ssd_loop
            (softmax, NVIDIA decode, per class top-200 over score > 0.05, torchvision batched_nms 0.45
            per image, 200 per image); ssd300_vgg16 torchvision SSD.postprocess_detections;
  results   boxes mapped back to original pixels ((b - pad) / s, clipped to the image, as odet's
            map_box), detections with score >= --score (odet detect's default 0.3) formatted as COCO
            results records (image_id = the file stem as a number when numeric, category_id COCO's
            1..90, bbox [x, y, w, h] %.2f, score %.5f) and kept in memory;
and at the end the JSON list is written to --json (temporary file + rename).
Timing: wall clock from the first file read to the JSON file written, after one untimed warm-up pass
over the first 2 batches (and the last batch when it is partial, so that cudnn.benchmark has seen its
shape too). --runs passes; each pass's seconds and img/s are printed, and the median img/s.
--stages: one extra pass (not in the figures) with a synchronize after every stage, printing where the
time goes (read, decode, letterbox+normalize, network, post, results, write).
--also-export ONNX_PATH: before anything else, export the same seeded fp32 network to ONNX exactly as
peers.py does (export_models.export: opset 17, input "images" [batch,3,S,S] with a dynamic batch,
traced at 1x3xSxS, do_constant_folding), so that `odet build` builds the very network this script runs;
--export-only stops after that (FOLDER not needed; no GPU needed).
Last line, one JSON object: {"peer": "torch", "model", "images", "images_per_s" (median), "runs" (img/s
of each), "seconds", "detections", "batch", "score", "torch", "torchvision", "device"}.
"""
import argparse
import json
import os
import statistics
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

# COCO category id of each of the 80 classes (src/io/coco_labels.c io_coco_category_id)
COCO_IDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21,
            22, 23, 24, 25, 27, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44,
            46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65,
            67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90]

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
VGG_MEAN = (0.48235, 0.45882, 0.40784)
# model -> (head preset, label -> COCO category id)
MODELS = {"ssd300_r50": "ssd300-nvidia", "ssd300_vgg16": "ssd300-vgg16"}

torch = torchvision = F = peers = None


def log(*a):
    print(*a, flush=True)


def f32(v):
    import numpy as np
    return np.float32(v)


def norm_params(model):
    """(scale[3], bias[3]) as float32, exactly as src/heads/config.c computes them."""
    if model == "ssd300_r50":
        scale = [float(f32(1.0) / (f32(255.0) * f32(s))) for s in IMAGENET_STD]
        bias = [float(-f32(m) / f32(s)) for m, s in zip(IMAGENET_MEAN, IMAGENET_STD)]
    else:
        scale = [1.0] * 3
        bias = [float(-f32(m) * f32(255)) for m in VGG_MEAN]
    return scale, bias


def geom(w, h, S):
    """io_letterbox_geom: (rw, rh, px, py, scale) with odet's float32 arithmetic and lrintf rounding."""
    import numpy as np
    s = min(f32(S) / f32(w), f32(S) / f32(h))
    rw = int(np.rint(f32(w) * s))
    rh = int(np.rint(f32(h) * s))
    rw, rh = min(max(rw, 1), S), min(max(rh, 1), S)
    return rw, rh, (S - rw) // 2, (S - rh) // 2, float(s)


def image_id_json(path):
    stem = os.path.splitext(os.path.basename(path))[0]
    if stem.isdigit() and len(stem) < 18:
        return str(int(stem))
    return json.dumps(stem)


class Peer:
    def __init__(self, a):
        self.a = a
        self.S = peers.MODELS[a.model]["size"]
        m, self.names = peers.build_model(a.model)
        self.m = m.cuda().half().to(memory_format=torch.channels_last)
        if hasattr(self.m, "bbox_view"):
            self.m.bbox_view = types.MethodType(peers.bbox_view_reshape, self.m)
        self.post = peers.MODELS[a.model]["post"]()
        scale, bias = norm_params(a.model)
        self.scale = torch.tensor(scale, device="cuda", dtype=torch.float32).view(1, 3, 1, 1)
        self.bias = torch.tensor(bias, device="cuda", dtype=torch.float32).view(1, 3, 1, 1)
        cat = COCO_IDS if a.model == "ssd300_r50" else list(range(0, 91))
        # label -> category id: ssd300-nvidia labels 1..80 (0 = background); ssd300-vgg16 labels are COCO ids
        self.cat_of = [0] + cat if a.model == "ssd300_r50" else cat
        self.stage_ms = None

    # --------------------------------------------------------------- stages
    def _mark(self, name, t):
        if self.stage_ms is None:
            return t
        torch.cuda.synchronize()
        now = time.perf_counter()
        self.stage_ms[name] = self.stage_ms.get(name, 0.0) + (now - t) * 1e3
        return now

    def decode(self, paths, datas):
        from torchvision.io import ImageReadMode, decode_jpeg
        try:
            return paths, decode_jpeg(datas, mode=ImageReadMode.RGB, device="cuda")
        except Exception:  # noqa: BLE001 — one bad file fails the batch: decode one by one
            keep_p, keep_i = [], []
            for p, d in zip(paths, datas):
                try:
                    keep_i.append(decode_jpeg(d, mode=ImageReadMode.RGB, device="cuda"))
                    keep_p.append(p)
                except Exception as e:  # noqa: BLE001
                    print("pipeline_peer: %s: %s" % (p, str(e).splitlines()[0] if str(e) else type(e).__name__),
                          file=sys.stderr, flush=True)
                    self.failed += 1
            return keep_p, keep_i

    def letterbox(self, imgs):
        """[n,3,S,S] normalized fp16 channels_last input and per-image (scale, px, py, w, h)."""
        S, n = self.S, len(imgs)
        x = torch.zeros((n, 3, S, S), device="cuda", dtype=torch.float32)
        geo = [None] * n
        groups = {}
        for i, im in enumerate(imgs):
            groups.setdefault((int(im.shape[1]), int(im.shape[2])), []).append(i)
        for (h, w), idx in groups.items():
            rw, rh, px, py, s = geom(w, h, S)
            r = torch.stack([imgs[i] for i in idx]).float()
            if (rh, rw) != (h, w):
                r = F.interpolate(r, size=(rh, rw), mode="bilinear", align_corners=False, antialias=False)
            if len(idx) == n:
                x[:, :, py:py + rh, px:px + rw] = r
            else:
                for k, i in enumerate(idx):
                    x[i, :, py:py + rh, px:px + rw] = r[k]
            for i in idx:
                geo[i] = (s, px, py, w, h)
        x = (x * self.scale + self.bias).half().contiguous(memory_format=torch.channels_last)
        return x, geo

    def detections(self, out):
        """post() output -> [(boxes [k,4] in model pixels xyxy, scores [k], labels [k])] per image"""
        dets = self.post(dict(zip(self.names, out)))
        if dets and isinstance(dets[0], dict):
            dets = [(d["boxes"], d["scores"], d["labels"]) for d in dets]
        return dets

    def records(self, paths, geo, dets, recs):
        """map back, threshold, one device->host copy, COCO records appended to recs"""
        counts = [int(d[1].shape[0]) for d in dets]
        if not sum(counts):
            return 0
        dev = dets[0][1].device
        boxes = torch.cat([d[0].float() for d in dets])
        scores = torch.cat([d[1].float() for d in dets])
        labels = torch.cat([d[2].float() for d in dets])
        img = torch.repeat_interleave(torch.arange(len(dets), device=dev), torch.tensor(counts, device=dev))
        g = torch.tensor(geo, device=dev, dtype=torch.float32)[img]  # [k, 5] s, px, py, w, h
        pad = torch.stack([g[:, 1], g[:, 2], g[:, 1], g[:, 2]], 1)
        lim = torch.stack([g[:, 3], g[:, 4], g[:, 3], g[:, 4]], 1)
        bx = ((boxes - pad) / g[:, :1]).clamp(min=0)
        bx = torch.minimum(bx, lim)
        keep = scores >= self.a.score
        rows = torch.cat([bx, scores[:, None], labels[:, None], img[:, None].float()], 1)[keep].cpu().tolist()
        cat_of, ids = self.cat_of, [image_id_json(p) for p in paths]
        fmt = '{"image_id": %s, "category_id": %d, "bbox": [%.2f, %.2f, %.2f, %.2f], "score": %.5f}'
        recs.extend(fmt % (ids[int(i)], cat_of[int(l)], x1, y1, x2 - x1, y2 - y1, s)
                    for x1, y1, x2, y2, s, l, i in rows)
        return len(rows)

    def batch(self, paths, recs):
        t = time.perf_counter()
        datas = [torchvision.io.read_file(p) for p in paths]
        t = self._mark("read", t)
        paths, imgs = self.decode(paths, datas)
        if not paths:
            return 0, 0
        t = self._mark("decode", t)
        x, geo = self.letterbox(imgs)
        del imgs
        t = self._mark("letterbox+normalize", t)
        out = self.m(x)
        t = self._mark("network", t)
        dets = self.detections(out)
        t = self._mark("post", t)
        n = self.records(paths, geo, dets, recs)
        self._mark("results", t)
        return len(paths), n

    def run(self, files, out_path, batches=None):
        """One pass over files (or the listed batch starts); writes out_path unless it is None.
        Returns (seconds, images, detections)."""
        B = self.a.batch
        starts = batches if batches is not None else range(0, len(files), B)
        self.failed = 0
        recs = []
        n_img = n_det = 0
        t0 = time.perf_counter()
        for s in starts:
            ni, nd = self.batch(files[s:s + B], recs)
            n_img += ni
            n_det += nd
        if out_path:
            t = time.perf_counter()
            tmp = "%s.tmp.%d" % (out_path, os.getpid())
            with open(tmp, "w") as f:
                f.write("[\n" + ",\n".join(recs) + "\n]\n")
            os.replace(tmp, out_path)
            self._mark("write", t)
        else:
            torch.cuda.synchronize()
        return time.perf_counter() - t0, n_img, n_det


def export_onnx(a):
    """The seeded fp32 network exported as peers.py's setup_model does."""
    S = peers.MODELS[a.model]["size"]
    t0 = time.time()
    m, names = peers.build_model(a.model)
    d = os.path.dirname(os.path.abspath(a.also_export))
    os.makedirs(d, exist_ok=True)
    with torch.no_grad():
        how = peers.export_models.export(m, torch.randn(1, 3, S, S), a.also_export, names)
    log("pipeline_peer: exported %s (%s, %s, fp32, input images [batch,3,%d,%d], outputs %s) in %.1f s, %.1f MB"
        % (a.also_export, a.model, how, S, S, ",".join(names), time.time() - t0,
           os.path.getsize(a.also_export) / 2**20))
    del m


def main(argv):
    global torch, torchvision, F, peers
    ap = argparse.ArgumentParser(description="PyTorch peer of odet detect on a folder of JPEGs (see module doc)")
    ap.add_argument("folder", nargs="?")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--json", help="COCO results file written at the end of every pass")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--model", choices=sorted(MODELS), default="ssd300_r50")
    ap.add_argument("--score", type=float, default=0.3, help="minimum score written (odet detect's default 0.3)")
    ap.add_argument("--also-export", metavar="ONNX_PATH")
    ap.add_argument("--export-only", action="store_true")
    ap.add_argument("--stages", action="store_true", help="one extra synchronized pass: time per stage")
    a = ap.parse_args(argv)
    if a.export_only and not a.also_export:
        ap.error("--export-only needs --also-export ONNX_PATH")
    if not a.export_only and (not a.folder or not a.json):
        ap.error("FOLDER and --json are needed (unless --export-only)")
    if a.batch < 1 or a.runs < 1:
        ap.error("--batch and --runs must be >= 1")

    import torch as _torch
    import torch.nn.functional as _F
    import torchvision as _tv
    import torchvision.io  # noqa: F401
    torch, torchvision, F = _torch, _tv, _F
    import peers as _peers
    import export_models
    peers = _peers
    peers.torch, peers.export_models = torch, export_models
    if not a.export_only:
        import nms_bench
        peers.nms_bench = nms_bench

    if a.also_export:
        export_onnx(a)
        if a.export_only:
            return 0

    if not torch.cuda.is_available():
        sys.exit("pipeline_peer.py: no CUDA device")
    files = sorted(os.path.join(a.folder, f) for f in os.listdir(a.folder)
                   if f.lower().endswith((".jpg", ".jpeg")) and not f.startswith("."))
    if not files:
        sys.exit("pipeline_peer.py: no .jpg files in %s" % a.folder)
    torch.backends.cudnn.benchmark = True
    dev_name = torch.cuda.get_device_name()
    log("pipeline_peer: %d JPEGs in %s, %s, batch %d, torch %s, torchvision %s, %s" % (
        len(files), a.folder, a.model, a.batch, torch.__version__, torchvision.__version__, dev_name))

    t = time.time()
    peer = Peer(a)  # built outside inference_mode, as peers.py builds it
    with torch.inference_mode():
        B = a.batch
        warm = list(range(0, min(len(files), 2 * B), B))
        last = (len(files) - 1) // B * B
        if len(files) % B and last not in warm:
            warm.append(last)
        peer.run(files, None, warm)
        log("pipeline_peer: model built and warmed up (%d batches) in %.1f s" % (len(warm), time.time() - t))
        rates, secs = [], []
        n_img = n_det = 0
        for r in range(a.runs):
            s, n_img, n_det = peer.run(files, a.json)
            rates.append(n_img / s)
            secs.append(s)
            log("pipeline_peer: run %d: %d images, %d detections (score >= %g) in %.3f s: %.1f img/s%s" % (
                r + 1, n_img, n_det, a.score, s, n_img / s,
                " (%d failed)" % peer.failed if peer.failed else ""))
        if a.stages:
            peer.stage_ms = {}
            s, _, _ = peer.run(files, a.json)
            tot = sum(peer.stage_ms.values())
            log("pipeline_peer: stages (synchronized pass, %.3f s, %.1f img/s): %s" % (
                s, n_img / s, ", ".join("%s %.0f ms (%.0f%%)" % (k, v, 100 * v / tot) for k, v in peer.stage_ms.items())))
    res = {"peer": "torch", "model": a.model, "images": n_img, "images_per_s": round(statistics.median(rates), 2),
           "runs": [round(v, 2) for v in rates], "seconds": [round(v, 4) for v in secs], "detections": n_det,
           "failed": peer.failed, "batch": a.batch, "score": a.score, "torch": torch.__version__,
           "torchvision": torchvision.__version__, "device": dev_name}
    if a.stages:
        res["stages_ms"] = {k: round(v, 1) for k, v in peer.stage_ms.items()}
    print(json.dumps(res), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
