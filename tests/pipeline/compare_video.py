#!/usr/bin/python3
"""compare_video.py VIDEO.jsonl SOURCE_INDEX FRAMES DETECT.json [MIN_AGREE]

Detections of one source of `odet video` (JSON lines) against `odet detect` on the same frames
extracted as PNG files named by frame index (COCO results, image_id = frame index): the frame
count must equal FRAMES, and at least MIN_AGREE (default 0.98) of all detections on either side
must have a partner in the same frame with the same class and IoU > 0.9. Prints the figures;
exit 1 when they fall short."""
import json
import sys


def iou(a, b):
    ix = min(a[2], b[2]) - max(a[0], b[0])
    iy = min(a[3], b[3]) - max(a[1], b[1])
    if ix <= 0 or iy <= 0:
        return 0.0
    inter = ix * iy
    u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / u if u > 0 else 0.0


def main():
    path, src, n_frames, det_path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    min_agree = float(sys.argv[5]) if len(sys.argv) > 5 else 0.98
    video = {}
    with open(path) as f:
        for line in f:
            r = json.loads(line)  # every line must parse on its own
            if r["source"] != src:
                continue
            if r["frame"] in video:
                print("frame %d delivered twice" % r["frame"])
                return 1
            video[r["frame"]] = [(d["category"], d["box"]) for d in r["detections"]]
    images = {}
    for d in json.load(open(det_path)):
        x, y, w, h = d["bbox"]
        images.setdefault(int(d["image_id"]), []).append((d["category_id"], [x, y, x + w, y + h]))
    ok = True
    if sorted(video) != list(range(n_frames)):
        print("source %d: %d frames delivered (%s...), expected %d" % (src, len(video), sorted(video)[:5], n_frames))
        ok = False
    total = matched = 0
    for fr in range(n_frames):
        a = video.get(fr, [])
        b = images.get(fr, [])
        total += len(a) + len(b)
        used = [False] * len(b)
        for ca, ba in a:
            best, bj = 0.9, -1
            for j, (cb, bb) in enumerate(b):
                if not used[j] and cb == ca and iou(ba, bb) > best:
                    best, bj = iou(ba, bb), j
            if bj >= 0:
                used[bj] = True
                matched += 2
    agree = matched / total if total else 1.0
    print("source %d: %d frames, %d detections (video + images), %.2f%% matched (same class, IoU > 0.9)"
          % (src, len(video), total, 100 * agree))
    if total == 0:
        print("no detections at all: the comparison proves nothing")
        ok = False
    if agree < min_agree:
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
