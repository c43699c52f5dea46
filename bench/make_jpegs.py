#!/usr/bin/env python3
"""make_jpegs.py — a folder of N distinct same-size JPEGs for pipeline benchmarks (bench/pipeline.sh).

    python3 bench/make_jpegs.py SRC_DIR OUT_DIR [--n 2048] [--size 640x480] [--quality 90] [--seed 0]

Sources: every readable image in SRC_DIR (.jpg .jpeg .png .bmp, sorted; others skipped with a note).
Image i (1..N) comes from source (i-1) mod S: a random crop with the output's aspect ratio (so nothing is
stretched) covering 55..100% of the largest such window that fits the photo (scale jitter), at a random
position, mirrored left-right half of the time, resized to exactly WxH (INTER_AREA when shrinking, bilinear
when enlarging), encoded baseline JPEG at --quality with 4:2:0 chroma subsampling (cv2.imwrite with
IMWRITE_JPEG_QUALITY; PIL with subsampling=2 if cv2 is missing). Names are 000000000001.jpg ... (12
digits, numeric, so COCO image ids are numbers). Every file is distinct: a crop whose bytes equal an
earlier file's is drawn again. Deterministic for a given --seed and sources.
Prints the count and the total bytes.
"""
import argparse
import hashlib
import os
import random
import sys

EXTS = (".jpg", ".jpeg", ".png", ".bmp")


def backend():
    try:
        import cv2  # noqa: F401
        return "cv2"
    except ImportError:
        pass
    try:
        from PIL import Image  # noqa: F401
        return "pil"
    except ImportError:
        pass
    sys.exit("make_jpegs.py: needs opencv-python (cv2) or Pillow (PIL); neither can be imported")


class Cv2Io:
    def __init__(self, quality):
        import cv2
        self.cv2 = cv2
        self.params = [cv2.IMWRITE_JPEG_QUALITY, quality]
        if hasattr(cv2, "IMWRITE_JPEG_SAMPLING_FACTOR") and hasattr(cv2, "IMWRITE_JPEG_SAMPLING_FACTOR_420"):
            self.params += [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420]
        if hasattr(cv2, "IMWRITE_JPEG_PROGRESSIVE"):
            self.params += [cv2.IMWRITE_JPEG_PROGRESSIVE, 0]

    def load(self, path):
        im = self.cv2.imread(path, self.cv2.IMREAD_COLOR)  # BGR, 3 channels (grey expanded)
        return None if im is None else im

    @staticmethod
    def size(im):
        return im.shape[1], im.shape[0]

    def crop_resize(self, im, x, y, w, h, W, H, flip):
        c = im[y:y + h, x:x + w]
        interp = self.cv2.INTER_AREA if w > W else self.cv2.INTER_LINEAR
        c = self.cv2.resize(c, (W, H), interpolation=interp)
        if flip:
            c = self.cv2.flip(c, 1)
        return c

    def encode(self, im):
        ok, buf = self.cv2.imencode(".jpg", im, self.params)
        if not ok:
            raise RuntimeError("cv2.imencode failed")
        return buf.tobytes()


class PilIo:
    def __init__(self, quality):
        from PIL import Image
        self.Image = Image
        self.quality = quality

    def load(self, path):
        try:
            with self.Image.open(path) as im:
                return im.convert("RGB")
        except Exception:  # noqa: BLE001 — unreadable source: skipped
            return None

    @staticmethod
    def size(im):
        return im.size

    def crop_resize(self, im, x, y, w, h, W, H, flip):
        Image = self.Image
        resample = getattr(Image, "Resampling", Image)
        c = im.crop((x, y, x + w, y + h)).resize((W, H), resample.BOX if w > W else resample.BILINEAR)
        if flip:
            c = c.transpose(getattr(Image, "Transpose", Image).FLIP_LEFT_RIGHT)
        return c

    def encode(self, im):
        import io
        b = io.BytesIO()
        im.save(b, format="JPEG", quality=self.quality, subsampling=2, progressive=False, optimize=False)
        return b.getvalue()


def parse_size(s):
    try:
        w, h = (int(v) for v in s.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError("size must be WxH, e.g. 640x480")
    if w < 8 or h < 8 or w > 16384 or h > 16384:
        raise argparse.ArgumentTypeError("size out of range: %s" % s)
    return w, h


def main(argv):
    ap = argparse.ArgumentParser(description="make N distinct same-size JPEGs from a few photos")
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=2048)
    ap.add_argument("--size", type=parse_size, default=(640, 480))
    ap.add_argument("--quality", type=int, default=90)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    if a.n < 1:
        ap.error("--n must be >= 1")
    if not 1 <= a.quality <= 100:
        ap.error("--quality must be 1..100")
    W, H = a.size
    kind = backend()
    io_ = Cv2Io(a.quality) if kind == "cv2" else PilIo(a.quality)

    if not os.path.isdir(a.src):
        sys.exit("make_jpegs.py: %s is not a folder" % a.src)
    srcs = []
    for name in sorted(os.listdir(a.src)):
        p = os.path.join(a.src, name)
        if not name.lower().endswith(EXTS) or not os.path.isfile(p):
            continue
        im = io_.load(p)
        if im is None:
            print("make_jpegs: skipping %s (cannot decode)" % p, file=sys.stderr)
            continue
        w, h = io_.size(im)
        if w < 16 or h < 16:
            print("make_jpegs: skipping %s (%dx%d, too small)" % (p, w, h), file=sys.stderr)
            continue
        srcs.append((name, im, w, h))
    if not srcs:
        sys.exit("make_jpegs.py: no readable photos in %s" % a.src)

    os.makedirs(a.out, exist_ok=True)
    rng = random.Random(a.seed)
    seen = set()
    total = 0
    for i in range(1, a.n + 1):
        name, im, sw, sh = srcs[(i - 1) % len(srcs)]
        for attempt in range(100):
            # largest window with the output's aspect that fits, then 55..100% of its side
            full_w = min(sw, sh * W / H)
            f = rng.uniform(0.55, 1.0)
            cw = max(8, int(round(full_w * f)))
            ch = max(8, int(round(cw * H / W)))
            if ch > sh:  # rounding at the edge
                ch = sh
                cw = max(8, min(sw, int(round(ch * W / H))))
            x = rng.randint(0, sw - cw)
            y = rng.randint(0, sh - ch)
            flip = rng.random() < 0.5
            data = io_.encode(io_.crop_resize(im, x, y, cw, ch, W, H, flip))
            digest = hashlib.sha1(data).digest()
            if digest not in seen:
                break
        else:
            sys.exit("make_jpegs.py: could not draw a distinct crop for image %d (source %s)" % (i, name))
        seen.add(digest)
        path = os.path.join(a.out, "%012d.jpg" % i)
        tmp = path + ".tmp"
        with open(tmp, "wb") as fo:
            fo.write(data)
        os.replace(tmp, path)
        total += len(data)
    print("make_jpegs: %d JPEGs %dx%d quality %d (4:2:0, %s) from %d photos in %s: %d bytes (%.1f MB, %.1f KB each)"
          % (a.n, W, H, a.quality, kind, len(srcs), a.out, total, total / 1e6, total / a.n / 1e3))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
