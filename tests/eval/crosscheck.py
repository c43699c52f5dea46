#!/usr/bin/python3
"""crosscheck.py - `odet eval` against coco_ref.py (pycocotools' algorithm in numpy) on random
COCO sets made by gen_coco.py (several seeds and shapes, about 4,200 images in all): the 12
numbers and the per-class AP/AP50/AP75 must agree bit for bit, and at least one of the 12 numbers
must differ in its last bits when summed sequentially, and one when summed in numpy < 2.3's blocks
of 8192, so that the agreement tests numpy's (>= 2.3) pairwise order over the whole array.  usage: crosscheck.py path/to/odet"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PY = '/usr/bin/python3'
CONFIGS = [  # seed, images, categories, extra options
    (1, 1500, 6, []),
    (2, 1000, 4, ['--ties']),
    (3, 800, 3, ['--ties', '--weird']),
    (4, 700, 12, ['--weird']),
    (7, 200, 80, []),  # 80 categories: AP, APs, APm average 80,800 entries and numpy's order shows
]


def main():
    odet = sys.argv[1]
    passed = failed = exact = order_seq = order_blocked = 0
    with tempfile.TemporaryDirectory() as d:
        for seed, n_img, n_cat, extra in CONFIGS:
            gt, dt = os.path.join(d, 'gt%d.json' % seed), os.path.join(d, 'dt%d.json' % seed)
            ref, out = os.path.join(d, 'ref%d.json' % seed), os.path.join(d, 'odet%d.json' % seed)
            subprocess.run([PY, os.path.join(HERE, 'gen_coco.py'), 'random', '--seed', str(seed), '--images',
                            str(n_img), '--cats', str(n_cat), '--gt', gt, '--dt', dt] + extra, check=True)
            subprocess.run([PY, os.path.join(HERE, 'coco_ref.py'), gt, dt, ref], check=True)
            p = subprocess.run([odet, 'eval', '--annotations', gt, '--results', dt, '--json', out],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if p.returncode != 0:
                print('seed %d: odet eval failed (%d): %s' % (seed, p.returncode, p.stderr.strip()))
                failed += 1
                continue
            r, o = json.load(open(ref)), json.load(open(out))
            pairs = list(zip(r['stats'], o['stats']))
            rc = {c['id']: c for c in r['per_class']}
            for c in o['per_class']:
                for key in ('AP', 'AP50', 'AP75'):
                    pairs.append((rc[c['id']][key], c[key]))
            if len(o['per_class']) != len(r['per_class']):
                failed += 1
            worst = 0.0
            for a, b in pairs:
                if a == b:
                    passed += 1
                else:
                    failed += 1
                exact += a == b
                worst = max(worst, abs(a - b))
            # figures whose last bits depend on the summation order: odet must have numpy's
            for a, sq, bl in zip(r['stats'], r['stats_sequential'], r['stats_blocked']):
                order_seq += sq != a
                order_blocked += bl != a
            # the printed lines too: the 3-decimal rounding of pycocotools' numbers
            want = ['%0.3f' % v for v in r['stats']]
            got = [line.rsplit('= ', 1)[1] for line in p.stdout.splitlines()[:12]]
            if want == got:
                passed += 1
            else:
                failed += 1
                print('seed %d: printed %s, reference %s' % (seed, got, want))
            print('seed %d (%d images, %d categories %s): %d figures, max |diff| %.3g, AP %.4f' % (
                seed, n_img, n_cat, ' '.join(extra), len(pairs), worst, r['stats'][0]))
    print('bit-identical figures: %d; figures another summation order changes: %d (sequential), %d '
          '(numpy < 2.3: blocks of 8192)' % (exact, order_seq, order_blocked))
    # the sets must reach figures both other orders change, or the agreement would not test
    # numpy's order (eval_np_mean tests the orders against the installed numpy too)
    for what, n in (('sequential', order_seq), ('numpy < 2.3 blocks', order_blocked)):
        if n:
            passed += 1
        else:
            failed += 1
            print('no figure of these sets depends on the %s order: the test lost its power' % what)
    print('eval_crosscheck: %d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
