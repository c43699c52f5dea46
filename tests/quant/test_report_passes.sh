#!/bin/sh
# test_report_passes.sh — odet report --passes on the CPU: a seeded SSD300-R50 (tests/gen, width / 16:
# BatchNorm nodes, an SSD head) through the ladder, few runs (speed is not asserted):
#  1. without --calib: 9 steps in the JSON (in issue 15's order; the model's name, with a tab in it,
#     kept) and the Markdown; the four graph steps and the fused head ran; layout, fp16 and CUDA
#     graph n/a on this backend, int8 n/a without a cache; each optimization really switched on
#     (BatchNorm folding, conv fusion and the fused head each leave fewer nodes); the speed-ups are
#     the medians' ratios;
#  2. with a cache calibrated on two photos: the int8 step runs;
#  3. bad input: --runs 0, --warmup -1 (exit 2); a missing cache: the int8 step failed, the table
#     written, exit 1.
# usage: test_report_passes.sh ODET REPO
set -u
ODET=$1
REPO=$2
PY=/usr/bin/python3
SAMPLES=$("$REPO/scripts/samples.sh")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { if [ "$1" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $2"; fi; }
$PY "$REPO/tests/gen/gen_detectors.py" ssd300_r50 --out "$T" --width-div 16 >/dev/null
ok $? "generate ssd300_r50"
M=$(printf '%s/ssd300\tr50.onnx' "$T")  # a tab in the name: the JSON must keep it
mv "$T/ssd300_r50.onnx" "$M"
R="--passes --backend cpu --head ssd300-nvidia --warmup 1 --runs 3"

"$ODET" report "$M" $R --json "$T/p.json" --md "$T/p.md" >"$T/out" 2>"$T/err"
ok $? "report --passes ($(tail -1 "$T/err"))"
$PY - "$T/p.json" "$M" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["steps"]
st = [x["status"] for x in s]
assert len(s) == 9, len(s)
assert d["backend"] == "cpu" and d["runs"] == 3 and d["warmup"] == 1 and d["batch"] == 1
assert st == ["ok", "ok", "ok", "ok", "n/a", "n/a", "n/a", "n/a", "ok"], st
names = [x["step"].split(" ", 1)[-1] for x in s]
assert names[1:] == ["constant folding", "BatchNorm folding", "conv fusion", "NHWC layout", "fp16", "int8",
                     "CUDA graph", "fused head"], names  # issue 15's order
assert d["model"] == sys.argv[2], (d["model"], sys.argv[2])  # a tab in the name kept (\u0009)
for i in (4, 5, 7):
    assert s[i]["reason"].startswith("on this backend"), s[i]
assert "calib" in s[6]["reason"], s[6]
n = [x.get("nodes") for x in s]
assert n[2] < n[1] and n[3] < n[2] and n[8] < n[3], n
last = None
for x in s:
    if x["status"] != "ok":
        continue
    assert x["p10_ms"] <= x["median_ms"] <= x["p90_ms"], x
    assert abs(x["speedup_total"] - s[0]["median_ms"] / x["median_ms"]) < 1e-3 * x["speedup_total"], x
    if last:
        assert abs(x["speedup_step"] - last["median_ms"] / x["median_ms"]) < 1e-3 * x["speedup_step"], x
    last = x
print("ladder nodes", n)
PYEOF
ok $? "the JSON's steps"
[ "$(grep -c '^| [+i]' "$T/p.md")" = 9 ] && cmp -s "$T/p.md" "$T/out" && grep -q "n/a on this backend" "$T/p.md"
ok $? "the Markdown: 9 rows, as printed"

mkdir -p "$T/cal"
cp "$SAMPLES/dog.jpg" "$SAMPLES/horses.jpg" "$T/cal/"
"$ODET" calibrate "$M" "$T/cal" -o "$T/m.calib" --backend cpu --head ssd300-nvidia --batch 1 --quiet >/dev/null 2>"$T/err"
ok $? "calibrate ($(cat "$T/err"))"
"$ODET" report "$M" $R --calib "$T/m.calib" --json "$T/q.json" >"$T/out" 2>"$T/err"
ok $? "report --passes --calib ($(tail -1 "$T/err"))"
$PY -c "import json,sys; s=json.load(open(sys.argv[1]))['steps']; sys.exit(0 if s[6]['status']=='ok' and s[6]['nodes']>0 else 1)" "$T/q.json"
ok $? "the int8 step ran"

"$ODET" report "$M" $R --runs 0 >/dev/null 2>"$T/err"
rc=$?; [ $rc = 2 ]; ok $? "--runs 0: exit $rc, $(cat "$T/err")"
"$ODET" report "$M" --passes --warmup -1 >/dev/null 2>"$T/err"
rc=$?; [ $rc = 2 ]; ok $? "--warmup -1: exit $rc, $(cat "$T/err")"
"$ODET" report "$M" $R --calib "$T/missing.calib" --json "$T/f.json" >"$T/out" 2>"$T/err"
rc=$?
[ $rc = 1 ] && $PY -c "import json,sys; s=json.load(open(sys.argv[1]))['steps']; sys.exit(0 if s[6]['status']=='failed' and 'missing.calib' in s[6]['reason'] and s[8]['status']=='ok' else 1)" "$T/f.json"
ok $? "a missing cache: the int8 step failed, the rest written, exit $rc"

echo "report_passes: $pass passed, $fail failed"
[ $fail = 0 ]
