#!/usr/bin/env python3
"""bench/peers.py without a GPU: --merge (newer run wins per row part and check, runs united, unused
runs dropped, a bad file refused with exit 2 and nothing written), the compile-time cache note, and
the BENCHMARKS section rewrite that keeps the text written by hand after the end marker."""
import copy
import io
import json
import os
import sys
import tempfile
from contextlib import redirect_stdout, redirect_stderr

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import peers  # noqa: E402

FAILS = []
COUNT = [0]


def check(cond, what):
    COUNT[0] += 1
    if not cond:
        FAILS.append(what)
        print("failed:", what)


def run_rec(rid, kind):
    return {"id": rid, "kind": kind, "date": rid[:8], "device": "NVIDIA H100 80GB HBM3", "torch": "2.11",
            "torchvision": "0.26", "cudnn": 91900, "time_budget": 0, "skipped": [], "errors": {},
            "command": "python3 bench/peers.py " + kind, "elapsed_s": 1.0}


def main_part(rid, net_ms, eager_ms):
    return {"run": rid, "errors": {}, "eager": {"median_ms": eager_ms, "runs": 30},
            "odet_net": {"compute_ms": {"median": net_ms}}}


def comp_part(rid, ms, secs, cache=None):
    c = {"run": rid, "errors": {}, "compile_s": secs, "timing": {"median_ms": ms, "runs": 30}}
    if cache is not None:
        c["cache_mb_before"] = cache
    return c


def quiet_main(argv):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = peers.main(argv)
    return rc, out.getvalue(), err.getvalue()


def main():
    tmp = tempfile.mkdtemp(prefix="peers_test_")
    A, B, C = "20261121T100000.000000Z", "20261121T110000.000000Z", "20261121T120000.000000Z"
    base = {"runs": [run_rec(A, "main"), run_rec("20261121T090000.000000Z", "main")],
            "rows": {"ssd300_r50/64": {"model": "ssd300_r50", "batch": 64, "main": main_part(A, 6.8, 15.7)},
                     "ssd300_r50/8": {"model": "ssd300_r50", "batch": 8, "main": main_part(A, 1.25, 7.4)}},
            "checks": {"ssd300_r50": {"run": A, "batch": 8, "max_rel_err": {"locs": 9e-4}}}}
    other = {"runs": [run_rec(B, "compile-only"), run_rec(C, "main")],
             "rows": {"ssd300_r50/64": {"model": "ssd300_r50", "batch": 64, "compile": comp_part(B, 10.25, 404.0)},
                      "ssd300_r50/8": {"model": "ssd300_r50", "batch": 8, "main": main_part(C, 1.30, 7.0),
                                       "compile": comp_part(B, 2.33, 76.0, cache=1200.0)},
                      "retinanet_r50_fpn/32": {"model": "retinanet_r50_fpn", "batch": 32,
                                               "compile": comp_part(B, 31.8, 130.0)}},
             "checks": {"ssd300_r50": {"run": "20261121T080000.000000Z", "batch": 8, "max_rel_err": {"locs": 1.0}}}}
    out = os.path.join(tmp, "out")
    os.makedirs(out)
    with open(os.path.join(out, "peers.json"), "w") as f:
        json.dump(base, f)
    with open(os.path.join(tmp, "other.json"), "w") as f:
        json.dump(other, f)
    md = os.path.join(tmp, "B.md")
    hand = "hand-written analysis that must survive\n"
    with open(md, "w") as f:
        f.write("# Benchmarks\n\n%s\n\nold generated text\n%s\n%s\n## Next section\nkept too\n" % (
            peers.SECTION, peers.END_MARK, hand))

    rc, text, _ = quiet_main(["--merge", os.path.join(tmp, "other.json"), "--out", out, "--md", md])
    check(rc == 0, "merge exits 0 (got %r)" % rc)
    d = json.load(open(os.path.join(out, "peers.json")))
    r64, r8 = d["rows"]["ssd300_r50/64"], d["rows"]["ssd300_r50/8"]
    check(r64["main"]["run"] == A and r64["compile"]["run"] == B, "b64: main kept, compile added")
    check(r8["main"]["run"] == C, "b8: the newer main run replaces the older")
    check(d["rows"]["retinanet_r50_fpn/32"]["compile"]["compile_s"] == 130.0, "a new row comes in")
    check(d["checks"]["ssd300_r50"]["run"] == A, "an older check does not replace a newer one")
    ids = [u["id"] for u in d["runs"]]
    check(ids == sorted([A, B, C]), "runs: the referenced ones, by id (got %s)" % ids)
    # the report: ratio net x compile at b64 = (64/6.8) / (64/10.25); cache note at b8 only
    check("| 64 | 4076 | 6244 | 9412 | 2.31 | 1.51 |" in text, "b64 row with eager, compile and ratios")
    check("8: 76 (inductor cache of 1200 MB found)" in text, "the warm-cache note on b8's compile time")
    check("64: 404," in text or "64: 404." in text, "b64's compile time without a note")
    body = open(md).read()
    check(hand in body and "## Next section\nkept too" in body, "hand text after the marker and the next section kept")
    check("old generated text" not in body and body.count(peers.SECTION) == 1, "the generated part replaced once")

    # merging the same file again changes nothing
    before = open(os.path.join(out, "peers.json")).read()
    rc, _, _ = quiet_main(["--merge", os.path.join(tmp, "other.json"), "--out", out])
    check(rc == 0 and json.load(open(os.path.join(out, "peers.json"))) == json.loads(before), "merge is idempotent")

    # bad input: a missing file and a JSON that is not a results file; nothing written
    bad = os.path.join(tmp, "bad.json")
    with open(bad, "w") as f:
        json.dump({"something": 1}, f)
    for path, what in ((os.path.join(tmp, "missing.json"), "missing"), (bad, "not peers.json")):
        mtime = os.path.getmtime(os.path.join(out, "peers.json"))
        rc, _, err = quiet_main(["--merge", path, "--out", out])
        check(rc == 2 and "--merge" in err and path in err, "%s file: exit 2 with the path (got %r, %r)" % (what, rc, err))
        check(os.path.getmtime(os.path.join(out, "peers.json")) == mtime, "%s file: peers.json untouched" % what)
    with open(bad, "w") as f:
        f.write("{not json")
    rc, _, err = quiet_main(["--merge", bad, "--out", out])
    check(rc == 2, "truncated JSON: exit 2 (got %r, %r)" % (rc, err))

    # merge_data alone: no part in the newer file leaves the older one
    x = copy.deepcopy(base)
    peers.merge_data(x, {"runs": [], "rows": {"ssd300_r50/64": {"model": "ssd300_r50", "batch": 64}}, "checks": {}})
    check(x["rows"]["ssd300_r50/64"]["main"]["run"] == A, "a row without parts changes nothing")

    print("peers_report: %d passed, %d failed" % (COUNT[0] - len(FAILS), len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
