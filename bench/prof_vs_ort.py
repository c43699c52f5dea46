#!/usr/bin/python3
"""prof_vs_ort.py — where odet's CPU backend loses to ONNX Runtime, layer by layer.

    prof_vs_ort.py ORT_PROFILE.json ODET_PROF.txt [--top K]

ORT_PROFILE.json: ONNX Runtime's profile (node tests/ref/ort_run.js ... --bench R --profile P);
ODET_PROF.txt: the output of build/tests/backend/cpu_conv/prof_nodes MODEL --runs R (one line per
node: time, share, op, name, input shape -> output shape, implementation).
Both sides' Conv times are grouped by (input shape, output shape) — the exported node names
do not survive either optimizer — and summed per run (ORT: per-node median over its runs, the
warm-up runs dropped; odet: prof_nodes' medians). Prints the groups by odet - ORT time, largest
loss first, and the totals per op type.
"""
import argparse
import collections
import json
import re
import statistics
import sys


def ort_groups(path):
    ev = [e for e in json.load(open(path)) if e.get("cat") == "Node" and e["name"].endswith("_kernel_time")]
    per = collections.defaultdict(list)  # (name) -> durations over runs
    meta = {}
    for e in ev:
        a = e["args"]
        per[e["name"]].append(e["dur"] / 1000.0)
        ins = a.get("input_type_shape") or [{}]
        outs = a.get("output_type_shape") or [{}]
        shp = lambda t: list(t.values())[0] if t else []
        meta[e["name"]] = (a["op_name"], tuple(shp(ins[0])), tuple(shp(outs[0])))
    groups = collections.defaultdict(float)
    ops = collections.defaultdict(float)
    for name, d in per.items():
        d = d[2:] if len(d) > 2 else d  # ort_run.js --bench: 2 warm-up runs first
        op, i, o = meta[name]
        t = statistics.median(d)
        ops[op] += t
        if op == "Conv":
            groups[(i, o)] += t
    return groups, ops


LINE = re.compile(r"^\s*([\d.]+) ms\s+[\d.]+%\s+(\S+)\s+(\S+)\s+\[([\d,]+)\] -> \[([\d,]+)\]")


def odet_groups(path):
    groups = collections.defaultdict(float)
    ops = collections.defaultdict(float)
    for line in open(path):
        m = LINE.match(line)
        if not m:
            continue
        t, op = float(m.group(1)), m.group(2)
        i = tuple(int(v) for v in m.group(4).split(","))
        o = tuple(int(v) for v in m.group(5).split(","))
        ops[op] += t
        if op == "Conv":
            groups[(i, o)] += t
    return groups, ops


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("ort")
    ap.add_argument("odet")
    ap.add_argument("--top", type=int, default=25)
    a = ap.parse_args(argv)
    og, oo = ort_groups(a.ort)
    dg, do = odet_groups(a.odet)
    keys = set(og) | set(dg)
    rows = sorted(keys, key=lambda k: -(dg.get(k, 0) - og.get(k, 0)))
    print("| conv input -> output | ORT ms | odet ms | odet - ORT |")
    print("| --- | --- | --- | --- |")
    for k in rows[:a.top]:
        print("| %s -> %s | %.2f | %.2f | %+.2f |" % (list(k[0]), list(k[1]), og.get(k, 0), dg.get(k, 0),
                                                  dg.get(k, 0) - og.get(k, 0)))
    print()
    print("ORT per op (ms): " + ", ".join("%s %.1f" % kv for kv in sorted(oo.items(), key=lambda kv: -kv[1])))
    print("odet per op (ms): " + ", ".join("%s %.1f" % kv for kv in sorted(do.items(), key=lambda kv: -kv[1])))
    print("total: ORT %.1f ms, odet %.1f ms" % (sum(oo.values()), sum(do.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
