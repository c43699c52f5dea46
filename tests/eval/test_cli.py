#!/usr/bin/python3
"""test_cli.py - `odet eval` exit codes and messages: 0 on success (12 lines, --per-class
table, --json file), 2 with one stderr line naming the file, record and field on bad input or
usage, 1 on an unreadable file.  usage: test_cli.py path/to/odet"""
import json
import os
import resource
import subprocess
import sys
import tempfile

passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print('FAILED:', what)


def run(odet, *args):
    p = subprocess.run([odet, 'eval'] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p.returncode, p.stdout, p.stderr


def main():
    odet = sys.argv[1]
    with tempfile.TemporaryDirectory() as d:
        def write(name, text):
            path = os.path.join(d, name)
            with open(path, 'w') as f:
                f.write(text)
            return path
        gt = write('gt.json', json.dumps({
            'images': [{'id': 1, 'file_name': 'a.jpg'}, {'id': 2, 'file_name': 'b.jpg'}],
            'annotations': [{'id': 1, 'image_id': 1, 'category_id': 3, 'bbox': [0, 0, 10, 10], 'area': 100, 'iscrowd': 0,
                             'segmentation': [[0, 0, 10, 0, 10, 10]]}],
            'categories': [{'id': 3, 'name': 'cat "three"'}]}))
        good = write('dt.json', '[{"image_id": 1, "category_id": 3, "bbox": [0, 0, 10, 10], "score": 0.9}]')
        out = os.path.join(d, 'stats.json')
        rc, so, se = run(odet, '--annotations', gt, '--results', good, '--json', out, '--per-class')
        lines = so.splitlines()
        check(rc == 0, 'good run exits 0 (%d: %s)' % (rc, se))
        check(len(lines) >= 14 and lines[0] ==
              ' Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 1.000', 'first line: %r' % lines[:1])
        check(len(lines) >= 12 and lines[11] ==
              ' Average Recall     (AR) @[ IoU=0.50:0.95 | area= large | maxDets=100 ] = -1.000', 'line 12: %r' % lines[11:12])
        check(any('cat "three"' in l and '100.000' in l for l in lines[12:]), 'per-class table')
        st = json.load(open(out)) if os.path.exists(out) else {}
        check(st.get('AP50', 0) > 0.999 and st.get('APm') == -1 and st['per_class'][0]['name'] == 'cat "three"',
              'stats JSON')

        bad = [  # (results text, words in the message)
            ('{"image_id": 1}', ['bad.json', 'found an object']),
            ('[{"image_id": 1, "category_id": 3, "bbox": [0, 0, 1, 1]}]', ['results record 0', "missing field 'score'"]),
            ('[{"image_id": 1, "category_id": 3, "bbox": [0, 0, 1, 1], "score": 1}, '
             '{"image_id": 1, "category_id": 3, "bbox": [NaN, 0, 1, 1], "score": 1}]', ['results record 1', "'bbox'", 'NaN']),
            ('[{"image_id": 1, "category_id": 3, "bbox": [0, 0, -1, 1], "score": 1}]', ["'bbox'", 'negative size']),
            ('[{"image_id": 5, "category_id": 3, "bbox": [0, 0, 1, 1], "score": 1}]', ["'image_id'", '5 is not in']),
            ('[{"image_id": 1, "category_id": 3, "bbox": [0, 0, 1, 1], "score": 1}', ['malformed JSON']),
        ]
        for i, (text, words) in enumerate(bad):
            path = write('bad.json', text)
            rc, so, se = run(odet, '--annotations', gt, '--results', path)
            check(rc == 2, 'bad input %d exits 2 (got %d: %s)' % (i, rc, se.strip()))
            check(se.count('\n') == 1 and all(w in se for w in words), 'bad input %d message: %r' % (i, se))
            check(so == '', 'bad input %d prints no figures' % i)
        badgt = write('badgt.json', '{"images": [{"id": 1}], "annotations": [{"id": 1, "image_id": 1, '
                      '"category_id": 3, "bbox": [0, 0, 1, 1]}], "categories": []}')
        rc, so, se = run(odet, '--annotations', badgt, '--results', good)
        check(rc == 2 and 'badgt.json' in se and 'annotations record 0' in se and "'area'" in se, 'gt error: %r' % se)
        rc, so, se = run(odet, '--annotations', gt)
        check(rc == 2 and 'required' in se, 'usage error exits 2')
        rc, so, se = run(odet, '--annotations', gt, '--results', good, '--bogus')
        check(rc == 2, 'unknown option exits 2')
        rc, so, se = run(odet, '--annotations', os.path.join(d, 'missing.json'), '--results', good)
        check(rc == 1 and 'missing.json' in se and 'cannot open' in se, 'missing file exits 1: %r' % se)
        # streaming: a 48 MB annotations file (one annotation with a huge polygon) is read in a
        # fraction of its size (a document tree would need several times the file)
        big = os.path.join(d, 'big.json')
        with open(big, 'w') as f:
            f.write('{"images": [{"id": 1}], "annotations": [{"id": 1, "image_id": 1, "category_id": 3, '
                    '"segmentation": [[')
            chunk = ', '.join(['123.45'] * 100000)
            for i in range(60):
                f.write((', ' if i else '') + chunk)
            f.write(']], "bbox": [0, 0, 10, 10], "area": 100}], "categories": [{"id": 3}]}')
        size = os.path.getsize(big)
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        rc, so, se = run(odet, '--annotations', big, '--results', good)
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
        check(rc == 0 and so.splitlines()[0].endswith('= 1.000'), 'big file evaluates (%d: %s)' % (rc, se))
        check(rss < size / 2, 'big file: max RSS %d bytes for a %d-byte file (children before: %d KB)'
              % (rss, size, before))
        rc, so, se = run(odet, '--help')
        check(rc == 0 and 'usage' in so, '--help')
    print('eval_cli: %d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
