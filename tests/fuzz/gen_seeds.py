#!/usr/bin/python3
"""gen_seeds.py — seed corpora of the fuzz harnesses (tests/fuzz/), made from valid files.

    gen_seeds.py OUT_DIR ODET_CLI SOURCE_DIR

OUT_DIR/<harness>/ gets: onnx — the ONNX importer's fixture models (tests/import/gen_models.py);
plan — plans `odet build` makes from some of them; tfjs — small graph models (model.json, the
split marker, the weight shard); image — JPEGs and PNGs of several kinds (PIL); coco — ground
truth, marker, results (tests/eval/gen_coco.py's generator); head_config — config files of
docs/heads.md; tensor — tensor files (tests/gen/tensorfile.py); calib_cache — INT8 calibration
caches (docs/quantization.md); video — short clips of several containers and codecs (the ffmpeg
command, when installed; else no seeds and the harness replays nothing); queue_result — job results
as workers write them (docs/queue.md); fcw — odet-fcw's calibrations (apps/fcw), marker, a speed CSV.
Nothing here is committed.
"""
import io
import json
import os
import shutil
import subprocess
import sys

import numpy as np
from PIL import Image

SPLIT = b"\n--8<--\n"


def put(d, name, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def onnx_and_plans(out, cli, src):
    models = os.path.join(out, "_models")
    subprocess.run([sys.executable, os.path.join(src, "tests/import/gen_models.py"), models], check=True,
                   stdout=subprocess.DEVNULL)
    names = sorted(os.path.join(sub, n) for sub in ("", "ok", "bad") if os.path.isdir(os.path.join(models, sub))
                   for n in os.listdir(os.path.join(models, sub)) if n.endswith(".onnx"))
    plans = 0
    for n in names:
        p = os.path.join(models, n)
        n = n.replace("/", "_")
        if os.path.getsize(p) <= 256 << 10:
            shutil.copy(p, os.path.join(out, "onnx", n))
        if plans < 8 and not n.startswith("bad"):
            plan = os.path.join(out, "plan", n[:-5] + ".plan")
            r = subprocess.run([cli, "build", p, "-o", plan], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            plans += r.returncode == 0 and os.path.exists(plan)
    shutil.rmtree(models)


def tfjs(out):
    rng = np.random.default_rng(1)
    w = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    shape = rng.integers(0, 5, 2).astype(np.int32)
    shape[:] = [1, -1]

    def node(name, op, inputs=(), attr=None):
        n = {"name": name, "op": op}
        if inputs:
            n["input"] = list(inputs)
        if attr:
            n["attr"] = attr
        return n

    ints = lambda v: {"list": {"i": [str(x) for x in v]}}  # noqa: E731
    s = lambda v: {"s": __import__("base64").b64encode(v.encode()).decode()}  # noqa: E731
    nodes = [
        node("x", "Placeholder", attr={"shape": {"shape": {"dim": [{"size": "1"}, {"size": "8"}, {"size": "8"},
                                                                  {"size": "3"}]}}}),
        node("w", "Const"), node("b", "Const"), node("shape", "Const"),
        node("conv", "_FusedConv2D", ["x", "w", "b"],
             {"strides": ints([1, 1, 1, 1]), "padding": s("SAME"), "fused_ops": {"list": {"s": [
                 __import__("base64").b64encode(b"BiasAdd").decode(),
                 __import__("base64").b64encode(b"Relu").decode()]}}, "num_args": {"i": "1"}}),
        node("pool", "MaxPool", ["conv"], {"ksize": ints([1, 2, 2, 1]), "strides": ints([1, 2, 2, 1]),
                                           "padding": s("VALID")}),
        node("r6", "Relu6", ["pool"]),
        node("sig", "Sigmoid", ["r6"]),
        node("flat", "Reshape", ["sig", "shape"]),
    ]
    weights = [{"name": "w", "shape": [3, 3, 3, 4], "dtype": "float32"},
               {"name": "b", "shape": [4], "dtype": "float32"},
               {"name": "shape", "shape": [2], "dtype": "int32"}]
    shard = w.tobytes() + b.tobytes() + shape.tobytes()
    for tag, sig, quant in (("sig", True, None), ("nosig", False, None), ("f16", True, "float16"),
                            ("u8", False, "uint8")):
        ws = json.loads(json.dumps(weights))
        data = shard
        if quant == "float16":
            ws[0]["quantization"] = {"dtype": "float16"}
            data = w.astype(np.float16).tobytes() + b.tobytes() + shape.tobytes()
        elif quant == "uint8":
            ws[0]["quantization"] = {"dtype": "uint8", "scale": 0.02, "min": -2.5}
            data = rng.integers(0, 256, w.size).astype(np.uint8).tobytes() + b.tobytes() + shape.tobytes()
        m = {"format": "graph-model", "modelTopology": {"node": nodes},
             "weightsManifest": [{"paths": ["w.bin"], "weights": ws}]}
        if sig:
            m["signature"] = {"inputs": {"x:0": {"name": "x:0"}}, "outputs": {"flat:0": {"name": "flat:0"}}}
        put(os.path.join(out, "tfjs"), tag + ".seed", json.dumps(m).encode() + SPLIT + data)


def images(out):
    rng = np.random.default_rng(2)
    d = os.path.join(out, "image")
    rgb = rng.integers(0, 256, (13, 17, 3)).astype(np.uint8)
    for tag, mode, kw, fmt in (("base.jpg", "RGB", {"quality": 80}, "JPEG"),
                               ("prog.jpg", "RGB", {"quality": 60, "progressive": True}, "JPEG"),
                               ("sub.jpg", "RGB", {"quality": 90, "subsampling": 2}, "JPEG"),
                               ("grey.jpg", "L", {}, "JPEG"),
                               ("cmyk.jpg", "CMYK", {}, "JPEG"),
                               ("rgb.png", "RGB", {}, "PNG"),
                               ("pal.png", "P", {}, "PNG"),
                               ("la.png", "LA", {}, "PNG"),
                               ("rgba.png", "RGBA", {}, "PNG"),
                               ("grey16.png", "I", {}, "PNG")):
        im = Image.fromarray(rgb).convert(mode)
        b = io.BytesIO()
        im.save(b, fmt, **kw)
        put(d, tag, b.getvalue())


def coco(out, src):
    sys.path.insert(0, os.path.join(src, "tests/eval"))
    rng = np.random.default_rng(3)
    images = [{"id": i + 1, "file_name": "im%d.jpg" % i, "width": 64, "height": 48} for i in range(3)]
    cats = [{"id": c, "name": "c%d" % c} for c in (1, 2, 7)]
    anns, res = [], []
    for k in range(12):
        x, y = float(rng.integers(0, 40)), float(rng.integers(0, 30))
        w, h = float(rng.integers(1, 20)), float(rng.integers(1, 15))
        img, cat = int(rng.integers(1, 4)), int(rng.choice([1, 2, 7]))
        anns.append({"id": k + 1, "image_id": img, "category_id": cat, "bbox": [x, y, w, h], "area": w * h,
                     "iscrowd": int(k == 5)})
        res.append({"image_id": img, "category_id": cat, "bbox": [x + 1, y, w, h - 0.5],
                    "score": round(float(rng.random()), 3)})
    gt = json.dumps({"images": images, "annotations": anns, "categories": cats}).encode()
    put(os.path.join(out, "coco"), "small.seed", gt + SPLIT + json.dumps(res).encode())
    put(os.path.join(out, "coco"), "empty_results.seed", gt + SPLIT + b"[]")


def heads(out):
    d = os.path.join(out, "head_config")
    put(d, "tiny_ssd.cfg", b"base = ssd300-nvidia\nname = tiny-ssd\nfig_size = 64\nfeature_maps = 4 2\n"
        b"steps = 16 32\nscales = 10, 20, 40\naspect_ratios = 2; 2 3\nscore_threshold = 0.2\nmax_detections = 7\n")
    put(d, "retina.cfg", b"type = retinanet\nanchor_sizes = 32 40 50; 64 80 101\naspect_ratios = 0.5 1 2\n"
        b"first_level = 3\nweights = 1 1 1 1\niou_rule = gt\n")
    put(d, "yolo5.cfg", b"base = yolov5\ndecoded = 0\nsteps = 8 16\nanchors = 10 13 16 30; 30 61 62 45\n"
        b"topk = 300 # comment\nbackground = 0\n")
    put(d, "yolo8.cfg", b"type = yolov8\ndecoded = 0\nsteps = 8\nreg_max = 16\niou_threshold = 0.7\n")


def tensors(out, src):
    sys.path.insert(0, os.path.join(src, "tests/gen"))
    import tensorfile
    d = os.path.join(out, "tensor")
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(4)
    tensorfile.write(os.path.join(d, "one.bin"), {"x": rng.standard_normal((1, 3, 4, 5)).astype(np.float32)})
    tensorfile.write(os.path.join(d, "many.bin"), [("a", np.arange(6, dtype=np.int64).reshape(2, 3)),
                                                  ("b", np.ones((), np.float16)), ("c", np.zeros((0, 4), np.uint8)),
                                                  ("d", np.array([True, False]))])


def calib(out):
    d = os.path.join(out, "calib_cache")
    put(d, "entropy.cache", b"odet-calibration 1\nmodel 0123456789abcdef\ncalibrator entropy\npercentile 99.99\n"
        b"images 16\namax 1.5 input\namax 0.25 conv1/Relu:0\namax 7 a name with spaces\n")
    put(d, "minmax.cache", b"odet-calibration 1\nmodel ffffffffffffffff\ncalibrator minmax\npercentile 99.99\n"
        b"images 1\namax 0 z\n")


def queue_results(out):
    d = os.path.join(out, "queue_result")
    dets = ",".join("[%.9g,%.9g,%.9g,%.9g,%.9g,%d,%d]" % (1.25 * i, 0.5 * i, 20.0 + i, 30.5 + i, 0.9 - 0.01 * i, i % 80,
                                                          1 + i % 90) for i in range(20))
    put(d, "ok.json", b'{"id":"frame-1.jpg","ok":true,"width":640,"height":480,"detections":[%s]}' % dets.encode())
    put(d, "empty.json", b'{"id":"a","ok":true,"width":1,"height":1,"detections":[]}')
    put(d, "failed.json", b'{"id":"b\\u0001\\"","ok":false,"status":"bad input","error":"b: not a JPEG"}')


def fcw(out, src):
    d = os.path.join(out, "fcw")
    csv = b"time_s,speed_mps\n0,8.5\n1.5,9 # accelerating\n3,10.25\n"
    for name in ("vtest.calib", "vtest_birdseye.calib"):
        with open(os.path.join(src, "apps", "fcw", name), "rb") as f:
            put(d, name, f.read() + SPLIT + csv)
    put(d, "polygon.calib", b"point 0 700 -2 1\npoint 1280 700 2 1\npoint 800 400 2 20\npoint 480 400 -2 20\n"
        b"point 640 500 0 8\nzone polygon -1 0 1 0 1.5 25 -1.5 25\n" + SPLIT + b"0 5\n")


def videos(out):
    d = os.path.join(out, "video")
    os.makedirs(d, exist_ok=True)
    ff = shutil.which("ffmpeg")
    if not ff:
        return
    clips = [("h264.mp4", ["-c:v", "libx264", "-pix_fmt", "yuv420p"]), ("mpeg4.avi", ["-c:v", "mpeg4"]),
             ("mjpeg.mkv", ["-c:v", "mjpeg"]), ("h264.mkv", ["-c:v", "libx264", "-g", "2"])]
    for name, codec in clips:
        path = os.path.join(d, name)
        r = subprocess.run([ff, "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=size=32x24:rate=10",
                            "-frames:v", "6"] + codec + [path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r.returncode != 0 and os.path.exists(path):
            os.unlink(path)
    mp4 = os.path.join(d, "h264.mp4")
    if os.path.exists(mp4):  # truncated: the container promises more than it holds
        data = open(mp4, "rb").read()
        put(d, "truncated.mp4", data[:len(data) * 2 // 3])


def main():
    out, cli, src = sys.argv[1], sys.argv[2], sys.argv[3]
    if os.path.isdir(out):
        shutil.rmtree(out)
    for h in ("onnx", "plan", "tfjs", "image", "coco", "head_config", "tensor", "calib_cache", "video", "queue_result", "fcw"):
        os.makedirs(os.path.join(out, h))
    onnx_and_plans(out, cli, src)
    tfjs(out)
    images(out)
    coco(out, src)
    heads(out)
    tensors(out, src)
    calib(out)
    videos(out)
    queue_results(out)
    fcw(out, src)
    for h in sorted(os.listdir(out)):
        print("%s: %d seeds" % (h, len(os.listdir(os.path.join(out, h)))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
