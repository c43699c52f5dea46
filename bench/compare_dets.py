#!/usr/bin/env python3
"""compare_dets.py — agreement of two COCO results files (plain Python, no numpy).

    python3 bench/compare_dets.py A.json B.json [--iou 0.9] [--score-tol 0.02] [--min-score 0.3] [--show 20]

A detection of A with score >= --min-score agrees when B has a detection in the same image with the same
category_id, IoU > --iou and |score difference| <= --score-tol. Matching is one-to-one and greedy: per
(image, category), A's detections in descending score order each take the not yet taken B detection
that qualifies with the highest IoU. Every detection of the other file is a candidate, whatever its score
(a file written with a score threshold may just miss a detection near it). The same is done from B to A.
Prints both directions' counts and percentages, up to --show disagreements (file, image, category,
score, best IoU against any same-category detection of the other file in that image and that
detection's score), and as its last line one JSON object:
  {"agree_pct": min of both directions, "a": n, "b": n, "a_agree": n, "b_agree": n, "a_pct": .., "b_pct": ..,
   "images_a": n, "images_b": n, "iou": .., "score_tol": .., "min_score": ..}
(a direction with no detections counts 100%). A zero-area box (clipped flat against the image border,
common with random weights) has no IoU: it agrees with a box whose corners are within 1 pixel of its own. Exit 0 whatever the agreement; 1 when a file cannot be
read or is not a COCO results list.
"""
import argparse
import json
import sys


def load(path):
    """{(image_id, category_id): [(score, x1, y1, x2, y2), ...]}, number of records, image ids."""
    with open(path, "r", encoding="utf-8") as f:
        data = json.load(f)
    if isinstance(data, dict) and "annotations" in data:  # tolerate {"annotations": [...]}
        data = data["annotations"]
    if not isinstance(data, list):
        raise ValueError("not a list of detections")
    groups, images = {}, set()
    for k, r in enumerate(data):
        try:
            img, cat = r["image_id"], int(r["category_id"])
            x, y, w, h = (float(v) for v in r["bbox"])
            s = float(r.get("score", 1.0))
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError("record %d: %s (%r)" % (k, e, r))
        if isinstance(img, str) and img.isdigit():
            img = int(img)
        images.add(img)
        groups.setdefault((img, cat), []).append((s, x, y, x + w, y + h))
    return groups, len(data), images


def iou(a, b):
    """IoU of (score, x1, y1, x2, y2) boxes; a zero-area box (clipped flat against the image border)
    has no IoU: it counts as 1.0 against a box whose corners are all within 1 pixel of its own, else 0."""
    if a[3] <= a[1] or a[4] <= a[2] or b[3] <= b[1] or b[4] <= b[2]:
        return 1.0 if max(abs(a[k] - b[k]) for k in range(1, 5)) <= 1.0 else 0.0
    iw = min(a[3], b[3]) - max(a[1], b[1])
    ih = min(a[4], b[4]) - max(a[2], b[2])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    union = (a[3] - a[1]) * (a[4] - a[2]) + (b[3] - b[1]) * (b[4] - b[2]) - inter
    return inter / union if union > 0 else 0.0


def match(A, B, thr_iou, tol, min_score):
    """(counted, agreed, disagreements [(image, category, score, best IoU, score of best)])"""
    counted = agreed = 0
    bad = []
    for key, dets in A.items():
        mine = sorted((d for d in dets if d[0] >= min_score), key=lambda d: -d[0])
        if not mine:
            continue
        other = B.get(key, [])
        taken = [False] * len(other)
        for d in mine:
            counted += 1
            best_j, best_iou = -1, thr_iou
            any_iou, any_score = 0.0, None
            for j, o in enumerate(other):
                v = iou(d, o)
                if any_score is None or v > any_iou:
                    any_iou, any_score = v, o[0]
                if taken[j] or abs(o[0] - d[0]) > tol:
                    continue
                if v > best_iou:
                    best_j, best_iou = j, v
            if best_j >= 0:
                taken[best_j] = True
                agreed += 1
            else:
                bad.append((key[0], key[1], d[0], any_iou, any_score))
    return counted, agreed, bad


def main(argv):
    ap = argparse.ArgumentParser(description="agreement of two COCO results files")
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("--iou", type=float, default=0.9)
    ap.add_argument("--score-tol", type=float, default=0.02)
    ap.add_argument("--min-score", type=float, default=0.3)
    ap.add_argument("--show", type=int, default=20, help="disagreements listed (default 20)")
    a = ap.parse_args(argv)
    files = []
    for p in (a.a, a.b):
        try:
            files.append(load(p))
        except (OSError, ValueError) as e:
            print("compare_dets: %s: %s" % (p, e), file=sys.stderr)
            return 1
    (ga, na, ia), (gb, nb, ib) = files
    ca, aa, bad_a = match(ga, gb, a.iou, a.score_tol, a.min_score)
    cb, ab, bad_b = match(gb, ga, a.iou, a.score_tol, a.min_score)
    pa = 100.0 * aa / ca if ca else 100.0
    pb = 100.0 * ab / cb if cb else 100.0
    crit = "same image and category, IoU > %g, |score diff| <= %g; scores >= %g counted" % (
        a.iou, a.score_tol, a.min_score)
    print("A %s: %d detections in %d images (%d with score >= %g)" % (a.a, na, len(ia), ca, a.min_score))
    print("B %s: %d detections in %d images (%d with score >= %g)" % (a.b, nb, len(ib), cb, a.min_score))
    print("A in B: %d of %d agree (%.2f%%)  [%s]" % (aa, ca, pa, crit))
    print("B in A: %d of %d agree (%.2f%%)" % (ab, cb, pb))
    only_a, only_b = ia - ib, ib - ia
    if only_a or only_b:
        print("images with detections in only one file: A %d, B %d" % (len(only_a), len(only_b)))
    bad = [("A",) + x for x in bad_a] + [("B",) + x for x in bad_b]
    bad.sort(key=lambda x: -x[3])  # highest-scoring disagreements first
    if bad:
        print("disagreements: %d (A %d, B %d); %s:" % (len(bad), len(bad_a), len(bad_b),
                                                       "first %d by score" % a.show if len(bad) > a.show else "all"))
        for f, img, cat, s, v, os_ in bad[:a.show]:
            print("  %s  image %-14s category %3d  score %.4f  %s" % (
                f, img, cat, s, "no same-category detection in the other file" if os_ is None else
                "best IoU %.3f (other's score %.4f)" % (v, os_)))
    out = {"agree_pct": round(min(pa, pb), 3), "a": ca, "b": cb, "a_agree": aa, "b_agree": ab,
           "a_pct": round(pa, 3), "b_pct": round(pb, 3), "images_a": len(ia), "images_b": len(ib),
           "iou": a.iou, "score_tol": a.score_tol, "min_score": a.min_score}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
