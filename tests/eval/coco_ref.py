#!/usr/bin/python3
"""coco_ref.py - an independent reference for `odet eval`: pycocotools' COCO / COCOeval
(iouType 'bbox') re-written in plain Python + numpy from pycocotools' documented algorithm
(coco.py createIndex/getAnnIds/loadAnns/loadRes, cocoeval.py _prepare/computeIoU/evaluateImg/
accumulate/summarize, maskUtils bbIou). pycocotools itself is not installed on this machine.

usage: coco_ref.py instances.json results.json out.json
out.json: {"stats": [12 floats], "per_class": [{"id", "AP", "AP50", "AP75"}...], "stats_sequential",
"stats_blocked": the 12 figures summed in two other orders (for the tests)}; floats are written by
json (repr, exact round trip). The means are np.mean's as numpy >= 2.3 computes them (np_mean below;
np_mean_check.py checks it against the installed numpy where that is >= 2.3).
"""
import itertools
import json
import sys
from collections import defaultdict

import numpy as np


class Coco:
    """pycocotools.coco.COCO: the index and the queries evaluation uses."""

    def __init__(self, dataset):
        self.dataset = dataset
        self.anns, self.cats, self.imgs = {}, {}, {}
        self.imgToAnns = defaultdict(list)
        for ann in dataset.get('annotations', []):
            self.imgToAnns[ann['image_id']].append(ann)
            self.anns[ann['id']] = ann
        for img in dataset.get('images', []):
            self.imgs[img['id']] = img
        for cat in dataset.get('categories', []):
            self.cats[cat['id']] = cat

    def getImgIds(self):
        return list(self.imgs.keys())

    def getCatIds(self):
        return [c['id'] for c in self.dataset.get('categories', [])]

    def getAnnIds(self, imgIds, catIds):
        if len(imgIds) == 0:
            anns = self.dataset['annotations']
        else:
            lists = [self.imgToAnns[i] for i in imgIds if i in self.imgToAnns]
            anns = list(itertools.chain.from_iterable(lists))
        if len(catIds) != 0:
            anns = [a for a in anns if a['category_id'] in catIds]
        return [a['id'] for a in anns]

    def loadAnns(self, ids):
        return [self.anns[i] for i in ids]

    def loadRes(self, anns):
        res = Coco({'images': list(self.dataset['images'])})
        assert type(anns) == list, 'results in not an array of objects'
        ids = set(a['image_id'] for a in anns)
        assert ids == (ids & set(self.getImgIds())), 'Results do not correspond to current coco set'
        res.dataset['categories'] = [dict(c) for c in self.dataset['categories']]
        for i, ann in enumerate(anns):
            bb = ann['bbox']
            ann['area'] = bb[2] * bb[3]
            ann['id'] = i + 1
            ann['iscrowd'] = 0
        res.dataset['annotations'] = anns
        res.__init__(res.dataset)
        return res


def sequential_sum(v):
    """The same values summed one after the other (not numpy's order): for the tests only."""
    r = 0.0
    for x in v.tolist():
        r += x
    return r


def blocked_mean(v):
    """np.mean as numpy < 2.3 computes it: the pairwise sums of consecutive blocks of 8192
    elements (its buffered reduction's inner loops) added in order to 0: for the tests only."""
    v = v.tolist()
    r = 0.0
    for i in range(0, len(v), 8192):
        r += pairwise_sum(v[i:i + 8192])
    return r / len(v)


def np_mean(v):
    """np.mean of a contiguous float64 array as numpy >= 2.3 computes it (pycocotools'
    summarize): 0 + numpy's pairwise sum of the whole array, divided by its length. Spelled
    out rather than called, so that the reference does not depend on the numpy installed."""
    return (0.0 + pairwise_sum(v.tolist())) / len(v)


def pairwise_sum(v):
    """numpy's pairwise summation (umath/loops_utils.h.src) of a list of floats."""
    n = len(v)
    if n < 8:
        r = -0.0
        for x in v:
            r += x
        return r
    if n <= 128:
        r = v[:8]
        i = 8
        while i < n - n % 8:
            r = [r[j] + v[i + j] for j in range(8)]
            i += 8
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for x in v[i:]:
            res += x
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return pairwise_sum(v[:n2]) + pairwise_sum(v[n2:])


def bb_iou(d, g, iscrowd):
    """maskUtils.iou for boxes: d (D,4), g (G,4) -> (D,G)."""
    d = np.asarray(d, dtype=np.double).reshape(-1, 4)
    g = np.asarray(g, dtype=np.double).reshape(-1, 4)
    out = np.zeros((len(d), len(g)))
    da = d[:, 2] * d[:, 3]
    with np.errstate(divide='ignore', invalid='ignore'):
        for j in range(len(g)):
            G = g[j]
            ga = G[2] * G[3]
            w = np.minimum(d[:, 2] + d[:, 0], G[2] + G[0]) - np.maximum(d[:, 0], G[0])
            h = np.minimum(d[:, 3] + d[:, 1], G[3] + G[1]) - np.maximum(d[:, 1], G[1])
            i = w * h
            u = da if iscrowd[j] else da + ga - i
            o = i / u
            out[:, j] = np.where((w > 0) & (h > 0), o, 0.0)
    return out


class Eval:
    def __init__(self, gt, dt):
        self.gt, self.dt = gt, dt
        self.imgIds = sorted(gt.getImgIds())
        self.catIds = sorted(gt.getCatIds())
        self.iouThrs = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
        self.recThrs = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)
        self.maxDets = [1, 10, 100]
        self.areaRng = [[0 ** 2, 1e5 ** 2], [0 ** 2, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]]
        self.areaRngLbl = ['all', 'small', 'medium', 'large']

    def prepare(self):
        gts = self.gt.loadAnns(self.gt.getAnnIds(self.imgIds, self.catIds))
        dts = self.dt.loadAnns(self.dt.getAnnIds(self.imgIds, self.catIds))
        for g in gts:
            g['ignore'] = g['ignore'] if 'ignore' in g else 0
            g['ignore'] = 'iscrowd' in g and g['iscrowd']
        self._gts, self._dts = defaultdict(list), defaultdict(list)
        for g in gts:
            self._gts[g['image_id'], g['category_id']].append(g)
        for d in dts:
            self._dts[d['image_id'], d['category_id']].append(d)

    def computeIoU(self, imgId, catId):
        gt, dt = self._gts[imgId, catId], self._dts[imgId, catId]
        if len(gt) == 0 and len(dt) == 0:
            return []
        inds = np.argsort([-d['score'] for d in dt], kind='mergesort')
        dt = [dt[i] for i in inds][:self.maxDets[-1]]
        if len(gt) == 0 or len(dt) == 0:
            return []
        return bb_iou([d['bbox'] for d in dt], [g['bbox'] for g in gt], [int(o['iscrowd']) for o in gt])

    def evaluateImg(self, imgId, catId, aRng, maxDet):
        gt, dt = self._gts[imgId, catId], self._dts[imgId, catId]
        if len(gt) == 0 and len(dt) == 0:
            return None
        ign = [1 if (g['ignore'] or g['area'] < aRng[0] or g['area'] > aRng[1]) else 0 for g in gt]
        gtind = np.argsort(ign, kind='mergesort')
        gt = [gt[i] for i in gtind]
        gtIg = np.array([ign[i] for i in gtind])
        dtind = np.argsort([-d['score'] for d in dt], kind='mergesort')
        dt = [dt[i] for i in dtind[0:maxDet]]
        iscrowd = [int(o['iscrowd']) for o in gt]
        ious = self.ious[imgId, catId]
        ious = ious[:, gtind] if len(ious) > 0 else ious
        T, G, D = len(self.iouThrs), len(gt), len(dt)
        gtm, dtm, dtIg = np.zeros((T, G)), np.zeros((T, D)), np.zeros((T, D))
        if len(ious) != 0:
            for tind, t in enumerate(self.iouThrs):
                for dind, d in enumerate(dt):
                    iou = min([t, 1 - 1e-10])
                    m = -1
                    for gind, g in enumerate(gt):
                        if gtm[tind, gind] > 0 and not iscrowd[gind]:
                            continue
                        if m > -1 and gtIg[m] == 0 and gtIg[gind] == 1:
                            break
                        if ious[dind, gind] < iou:
                            continue
                        iou = ious[dind, gind]
                        m = gind
                    if m == -1:
                        continue
                    dtIg[tind, dind] = gtIg[m]
                    dtm[tind, dind] = gt[m]['id']
                    gtm[tind, m] = d['id']
        a = np.array([d['area'] < aRng[0] or d['area'] > aRng[1] for d in dt]).reshape((1, len(dt)))
        dtIg = np.logical_or(dtIg, np.logical_and(dtm == 0, np.repeat(a, T, 0)))
        return {'dtMatches': dtm, 'dtScores': [d['score'] for d in dt], 'gtIgnore': gtIg, 'dtIgnore': dtIg}

    def evaluate(self):
        self.prepare()
        self.ious = {(i, c): self.computeIoU(i, c) for i in self.imgIds for c in self.catIds}
        self.evalImgs = [self.evaluateImg(i, c, a, self.maxDets[-1])
                         for c in self.catIds for a in self.areaRng for i in self.imgIds]

    def accumulate(self):
        T, R, K, A, M = len(self.iouThrs), len(self.recThrs), len(self.catIds), len(self.areaRng), len(self.maxDets)
        precision = -np.ones((T, R, K, A, M))
        recall = -np.ones((T, K, A, M))
        I0, A0 = len(self.imgIds), len(self.areaRng)
        for k in range(K):
            for a in range(A):
                for m, maxDet in enumerate(self.maxDets):
                    E = [self.evalImgs[k * A0 * I0 + a * I0 + i] for i in range(I0)]
                    E = [e for e in E if e is not None]
                    if len(E) == 0:
                        continue
                    dtScores = np.concatenate([e['dtScores'][0:maxDet] for e in E])
                    inds = np.argsort(-dtScores, kind='mergesort')
                    dtm = np.concatenate([e['dtMatches'][:, 0:maxDet] for e in E], axis=1)[:, inds]
                    dtIg = np.concatenate([e['dtIgnore'][:, 0:maxDet] for e in E], axis=1)[:, inds]
                    gtIg = np.concatenate([e['gtIgnore'] for e in E])
                    npig = np.count_nonzero(gtIg == 0)
                    if npig == 0:
                        continue
                    tps = np.logical_and(dtm, np.logical_not(dtIg))
                    fps = np.logical_and(np.logical_not(dtm), np.logical_not(dtIg))
                    tp_sum = np.cumsum(tps, axis=1).astype(dtype=float)
                    fp_sum = np.cumsum(fps, axis=1).astype(dtype=float)
                    for t, (tp, fp) in enumerate(zip(tp_sum, fp_sum)):
                        nd = len(tp)
                        rc = tp / npig
                        pr = tp / (fp + tp + np.spacing(1))
                        q = np.zeros((R,))
                        recall[t, k, a, m] = rc[-1] if nd else 0
                        pr = pr.tolist()
                        q = q.tolist()
                        for i in range(nd - 1, 0, -1):
                            if pr[i] > pr[i - 1]:
                                pr[i - 1] = pr[i]
                        inds2 = np.searchsorted(rc, self.recThrs, side='left')
                        try:
                            for ri, pi in enumerate(inds2):
                                q[ri] = pr[pi]
                        except IndexError:
                            pass
                        precision[t, :, k, a, m] = np.array(q)
        self.precision, self.recall = precision, recall

    def summarize(self):
        def s_(ap=1, iouThr=None, areaRng='all', maxDets=100):
            aind = [i for i, l in enumerate(self.areaRngLbl) if l == areaRng]
            mind = [i for i, d in enumerate(self.maxDets) if d == maxDets]
            s = self.precision if ap == 1 else self.recall
            if iouThr is not None:
                s = s[np.where(iouThr == self.iouThrs)[0]]
            s = s[:, :, :, aind, mind] if ap == 1 else s[:, :, aind, mind]
            if len(s[s > -1]) == 0:
                self.alt.append((-1.0, -1.0))
                return -1.0
            v = s[s > -1]
            self.alt.append((sequential_sum(v) / len(v), blocked_mean(v)))
            return np_mean(v)
        self.alt = []
        md = self.maxDets
        return [s_(1), s_(1, iouThr=.5, maxDets=md[2]), s_(1, iouThr=.75, maxDets=md[2]),
                s_(1, areaRng='small', maxDets=md[2]), s_(1, areaRng='medium', maxDets=md[2]),
                s_(1, areaRng='large', maxDets=md[2]), s_(0, maxDets=md[0]), s_(0, maxDets=md[1]),
                s_(0, maxDets=md[2]), s_(0, areaRng='small', maxDets=md[2]),
                s_(0, areaRng='medium', maxDets=md[2]), s_(0, areaRng='large', maxDets=md[2])]

    def per_class(self):
        out = []
        for k, cid in enumerate(self.catIds):
            row = {'id': cid}
            for key, t in (('AP', None), ('AP50', 0), ('AP75', 5)):
                p = self.precision[:, :, k, 0, -1] if t is None else self.precision[t, :, k, 0, -1]
                p = p[p > -1]
                row[key] = np_mean(p) if p.size else -1.0
            out.append(row)
        return out


def main():
    gt = Coco(json.load(open(sys.argv[1])))
    dt = gt.loadRes(json.load(open(sys.argv[2])))
    ev = Eval(gt, dt)
    ev.evaluate()
    ev.accumulate()
    stats = ev.summarize()
    # the 12 figures as two other summation orders give them: sequential, and numpy < 2.3's
    # blocks of 8192 (crosscheck.py shows that the order matters on its sets)
    with open(sys.argv[3], 'w') as f:
        json.dump({'stats': stats, 'per_class': ev.per_class(), 'stats_sequential': [a[0] for a in ev.alt],
                   'stats_blocked': [a[1] for a in ev.alt]}, f)


if __name__ == '__main__':
    main()
