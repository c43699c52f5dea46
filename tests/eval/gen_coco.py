#!/usr/bin/python3
"""gen_coco.py - synthetic COCO ground truth + results files (never committed; made at test
or benchmark time).

  gen_coco.py random  --seed S --images N --cats K [--ties] [--weird] --gt gt.json --dt dt.json
      random images for the cross-check: crowd regions, 'ignore' fields, areas on the range
      bounds, equal scores (--ties: scores and boxes quantized), images without annotations or
      detections, more than 100 detections per image and category, detections on an unknown
      category, annotations on unknown images/categories; --weird adds pycocotools corner
      cases (annotation id 0, repeated annotation ids, iscrowd given as true/false).
  gen_coco.py bench   --gt gt.json --dt dt.json
      COCO-val sized: 5,000 images, 36,000 boxes, 80 categories (ids 1..90 with gaps),
      500,000 detections, numbers printed like a float32 detector's output.
  gen_coco.py big     --mb 400 --gt gt.json
      an instances file of about that many MB shaped like COCO train2017 (118,287 images,
      ~500-byte annotations with segmentation polygons).
"""
import argparse
import json
import random

COCO_IDS = [i for i in range(1, 91) if i not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]


def box(rng, quant):
    w = 2 ** rng.uniform(1, 8.5)
    h = w * 2 ** rng.uniform(-1.5, 1.5)
    x, y = rng.uniform(0, 600), rng.uniform(0, 440)
    if quant:
        x, y, w, h = float(round(x)), float(round(y)), float(max(1, round(w))), float(max(1, round(h)))
    return [x, y, w, h]


def jitter(rng, b, s, quant):
    x, y, w, h = b
    n = [x + rng.gauss(0, s * w), y + rng.gauss(0, s * h), max(0.0, w * (1 + rng.gauss(0, s))),
         max(0.0, h * (1 + rng.gauss(0, s)))]
    if quant:
        n = [float(round(v)) for v in n]
    return n


def gen_random(a):
    rng = random.Random(a.seed)
    cats = sorted(rng.sample(COCO_IDS, a.cats))
    images = [{'id': 1000 + 3 * i + rng.randrange(3), 'file_name': 'img%06d.jpg' % i,
               'width': 640, 'height': 480} for i in range(a.images)]
    rng.shuffle(images)
    anns, dets = [], []
    aid = 1
    for im in images:
        for _ in range(rng.choice([0, 0, 1, 2, 3, 5, 8])):
            c = rng.choice(cats)
            b = box(rng, a.ties)
            r = rng.random()
            area = b[2] * b[3] * rng.uniform(0.4, 1.0)
            if r < 0.05:
                area = 1024.0
            elif r < 0.1:
                area = 9216.0
            ann = {'id': aid, 'image_id': im['id'], 'category_id': c, 'bbox': b, 'area': area,
                   'iscrowd': 1 if rng.random() < 0.06 else 0, 'segmentation': [[1, 2, 3, 4, 5, 6]]}
            if rng.random() < 0.1:
                ann['ignore'] = rng.choice([0, 1])
            aid += 1
            anns.append(ann)
            # detections for this object: hits, localization errors, wrong class
            for _ in range(rng.choice([0, 1, 1, 2, 3])):
                dets.append({'image_id': im['id'], 'category_id': c if rng.random() < 0.85 else rng.choice(cats),
                             'bbox': jitter(rng, b, rng.choice([0.02, 0.1, 0.3]), a.ties), 'score': 0.5})
        for _ in range(rng.choice([0, 1, 3, 6])):  # background false positives
            dets.append({'image_id': im['id'], 'category_id': rng.choice(cats), 'bbox': box(rng, a.ties), 'score': 0.0})
        if rng.random() < 0.02:  # a crowded image-category: more than maxDets
            c = rng.choice(cats)
            for _ in range(rng.randrange(90, 140)):
                dets.append({'image_id': im['id'], 'category_id': c, 'bbox': box(rng, a.ties), 'score': 0.0})
    for d in dets:  # hits (0.5) score higher than background on average
        v = rng.random() ** (0.5 if d['score'] else 2.0)
        d['score'] = round(v * 10) / 10 if a.ties else v
    if dets:
        dets[rng.randrange(len(dets))]['bbox'][2] = 0.0  # a zero-size detection
    for _ in range(3):  # detections on an unknown category: never evaluated
        dets.append({'image_id': images[0]['id'], 'category_id': 999, 'bbox': [1.0, 1.0, 5.0, 5.0], 'score': 0.9})
    anns.append({'id': aid, 'image_id': 999999, 'category_id': cats[0], 'bbox': [0, 0, 9, 9], 'area': 81.0, 'iscrowd': 0})
    anns.append({'id': aid + 1, 'image_id': images[0]['id'], 'category_id': 998, 'bbox': [0, 0, 9, 9], 'area': 81.0, 'iscrowd': 0})
    if a.weird and len(anns) > 10:
        anns[0]['id'] = 0
        anns[3]['id'] = anns[7]['id']
        anns[5]['iscrowd'] = bool(anns[5]['iscrowd'])
    rng.shuffle(anns)
    rng.shuffle(dets)
    gt = {'info': {'description': 'gen_coco random %d' % a.seed}, 'images': images,
          'annotations': anns, 'categories': [{'id': c, 'name': 'cat%d' % c, 'supercategory': 'x'} for c in cats]}
    json.dump(gt, open(a.gt, 'w'))
    json.dump(dets, open(a.dt, 'w'))


def f32(x):
    import struct
    return struct.unpack('f', struct.pack('f', x))[0]


def gen_bench(a):
    rng = random.Random(a.seed)
    n_img, n_gt, n_dt = 5000, 36000, 500000
    images = [{'id': 100000 + 7 * i, 'file_name': '%012d.jpg' % (100000 + 7 * i), 'width': 640, 'height': 480}
              for i in range(n_img)]
    anns = []
    for i in range(n_gt):
        im = images[rng.randrange(n_img)]
        b = [round(v, 2) for v in box(rng, False)]
        anns.append({'id': i + 1, 'image_id': im['id'], 'category_id': rng.choice(COCO_IDS), 'bbox': b,
                     'area': round(b[2] * b[3] * rng.uniform(0.5, 1.0), 4), 'iscrowd': 1 if rng.random() < 0.01 else 0,
                     'segmentation': [[round(rng.uniform(0, 640), 2) for _ in range(16)]]})
    by_img = {}
    for g in anns:
        by_img.setdefault(g['image_id'], []).append(g)
    out = open(a.dt, 'w')
    out.write('[')
    first = True
    per_img = n_dt // n_img
    for im in images:
        gts = by_img.get(im['id'], [])
        for j in range(per_img):
            if gts and j < 3 * len(gts):
                g = gts[j % len(gts)]
                b, c = jitter(rng, g['bbox'], 0.1, False), g['category_id']
            else:
                b, c = box(rng, False), rng.choice(COCO_IDS)
            rec = '{"image_id": %d, "category_id": %d, "bbox": [%r, %r, %r, %r], "score": %r}' % (
                im['id'], c, f32(b[0]), f32(b[1]), f32(b[2]), f32(b[3]), f32(rng.random()))
            out.write(rec if first else ', ' + rec)
            first = False
    out.write(']\n')
    out.close()
    gt = {'info': {'description': 'gen_coco bench'}, 'licenses': [], 'images': images, 'annotations': anns,
          'categories': [{'id': c, 'name': 'cat%d' % c, 'supercategory': 'x'} for c in COCO_IDS]}
    json.dump(gt, open(a.gt, 'w'))


def gen_big(a):
    rng = random.Random(a.seed)
    target = a.mb * 1000000
    n_img = 118287
    poly = '[' + ', '.join('%.2f' % rng.uniform(0, 640) for _ in range(30)) + ']'
    with open(a.gt, 'w') as f:
        f.write('{"info": {"description": "gen_coco big"}, "images": [')
        f.write(', '.join('{"id": %d, "file_name": "%012d.jpg", "width": 640, "height": 480}' % (i, i)
                          for i in range(n_img)))
        f.write('], "annotations": [')
        size, i = f.tell(), 0
        while size < target:
            rec = ('{"id": %d, "image_id": %d, "category_id": %d, "segmentation": [%s, %s], "area": %.2f, '
                   '"bbox": [%.2f, %.2f, %.2f, %.2f], "iscrowd": 0}') % (
                i + 1, rng.randrange(n_img), rng.choice(COCO_IDS), poly, poly, rng.uniform(1, 50000),
                rng.uniform(0, 600), rng.uniform(0, 400), rng.uniform(1, 200), rng.uniform(1, 200))
            f.write(rec if i == 0 else ', ' + rec)
            size += len(rec) + 2
            i += 1
        f.write('], "categories": [%s]}\n' % ', '.join('{"id": %d, "name": "cat%d"}' % (c, c) for c in COCO_IDS))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('mode', choices=['random', 'bench', 'big'])
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--images', type=int, default=500)
    p.add_argument('--cats', type=int, default=5)
    p.add_argument('--ties', action='store_true')
    p.add_argument('--weird', action='store_true')
    p.add_argument('--mb', type=int, default=400)
    p.add_argument('--gt', required=True)
    p.add_argument('--dt')
    a = p.parse_args()
    {'random': gen_random, 'bench': gen_bench, 'big': gen_big}[a.mode](a)


if __name__ == '__main__':
    main()
