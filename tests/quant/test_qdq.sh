#!/bin/sh
# test_qdq.sh — explicitly quantized (QDQ) ONNX models (tests/gen/gen_qdq.py: QuantizeLinear /
# DequantizeLinear pairs on activations, int8 per-channel weight codes):
#  1. the CPU fp32 engine runs the pairs as ONNX says: against ONNX Runtime with its optimizer off
#     (which would fuse the pairs into int8 kernels), max relative error <= 1e-4;
#  2. --precision int8 without --calib: the model's 4 activation scales, 3 convolutions in INT8
#     (the CPU's exact QConv); against the fp32 fake-quantized run within 5e-2 relative (the
#     residual Add runs in float on values the model rounds to its grid; a few codes differ);
#  3. refusals: asymmetric activations and weight zero points, zero and NaN scales (exit 2, naming
#     the node),
#     odet calibrate on a QDQ model (exit 2); --calib with a QDQ model is ignored with a warning.
# usage: test_qdq.sh ODET REPO
set -u
ODET=$1
REPO=$2
PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { if [ "$1" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $2"; fi; }

$PY "$REPO/tests/gen/gen_qdq.py" "$T/m.onnx" && $PY "$REPO/tests/gen/gen_input.py" "$T/m.onnx" "$T/in.bin" >/dev/null
ok $? "generate the QDQ model and its input"
"$ODET" run "$T/m.onnx" --input "$T/in.bin" --output "$T/f32.bin" >/dev/null 2>"$T/err"
ok $? "fp32 run of the QDQ model ($(cat "$T/err"))"
ORT_JS="$REPO/tests/ref/ort_run.js"
if command -v node >/dev/null 2>&1 && [ -d "$REPO/.cache/node/node_modules/onnxruntime-node" ]; then
	node "$ORT_JS" "$T/m.onnx" "$T/in.bin" "$T/ort.bin" --no-opt 2>"$T/err"
	ok $? "ONNX Runtime runs the QDQ model ($(cat "$T/err"))"
	$PY "$REPO/tests/gen/compare.py" "$T/ort.bin" "$T/f32.bin" --rtol 1e-4 | tail -1
	$PY "$REPO/tests/gen/compare.py" "$T/ort.bin" "$T/f32.bin" --rtol 1e-4 >/dev/null
	ok $? "fp32 QDQ run matches ONNX Runtime (no optimizer) to 1e-4"
else
	echo "skip: ONNX Runtime (onnxruntime-node in .cache/node) not installed: scripts/deps.sh"
fi

"$ODET" build "$T/m.onnx" -o "$T/i8.plan" --backend cpu --precision int8 -v >/dev/null 2>"$T/err"
ok $? "int8 build without --calib ($(tail -1 "$T/err"))"
grep -q "explicit quantization: 4 tensor scales from the model, 3 convolutions in INT8" "$T/err"
ok $? "the model's scales drive 3 INT8 convolutions: $(grep explicit "$T/err")"
"$ODET" run "$T/i8.plan" --input "$T/in.bin" --output "$T/i8.bin" >/dev/null 2>"$T/err"
ok $? "int8 run ($(cat "$T/err"))"
$PY "$REPO/tests/gen/compare.py" "$T/f32.bin" "$T/i8.bin" --rtol 5e-2 | tail -1
$PY "$REPO/tests/gen/compare.py" "$T/f32.bin" "$T/i8.bin" --rtol 5e-2 >/dev/null
ok $? "INT8 engine within 5e-2 of the fake-quantized fp32 run"

$PY "$REPO/tests/gen/gen_qdq.py" "$T/aa.onnx" --variant asym-act
"$ODET" build "$T/aa.onnx" -o "$T/x.plan" --backend cpu --precision int8 >/dev/null 2>"$T/err"
rc=$?; [ $rc = 2 ] && grep -q "node 'x_Q' (QuantizeLinear)" "$T/err"; ok $? "asymmetric activations refused: exit $rc, $(cat "$T/err")"
$PY "$REPO/tests/gen/gen_qdq.py" "$T/aw.onnx" --variant asym-weight
"$ODET" build "$T/aw.onnx" -o "$T/x.plan" --backend cpu --precision int8 >/dev/null 2>"$T/err"
rc=$?; [ $rc = 2 ] && grep -q "node 'w0_DQ' (DequantizeLinear)" "$T/err"; ok $? "weight zero points refused: exit $rc, $(cat "$T/err")"
for v in zero-scale nan-scale; do
	$PY "$REPO/tests/gen/gen_qdq.py" "$T/$v.onnx" --variant $v
	"$ODET" build "$T/$v.onnx" -o "$T/x.plan" --backend cpu >/dev/null 2>"$T/err"
	rc=$?; [ $rc = 2 ] && grep -q "node 'r2_Q' (QuantizeLinear): scale" "$T/err"; ok $? "$v refused at build: exit $rc, $(cat "$T/err")"
done
[ ! -e "$T/x.plan" ]; ok $? "no plan written by the refused builds"
"$ODET" run "$T/aa.onnx" --input "$T/in.bin" --output "$T/aa.bin" >/dev/null 2>"$T/err"
ok $? "the asymmetric model still runs in fp32 on the CPU ($(cat "$T/err"))"
mkdir -p "$T/img" && cp "$("$REPO/scripts/samples.sh")/dog.jpg" "$T/img/"
"$ODET" calibrate "$T/m.onnx" "$T/img" -o "$T/c.calib" --backend cpu --quiet >/dev/null 2>"$T/err"
rc=$?; [ $rc = 2 ] && grep -q "explicitly quantized" "$T/err" && [ ! -e "$T/c.calib" ]
ok $? "calibrate refuses a QDQ model: exit $rc, $(cat "$T/err")"
printf 'odet-calibration 1\n' >"$T/any.calib"
"$ODET" build "$T/m.onnx" -o "$T/i8b.plan" --backend cpu --precision int8 --calib "$T/any.calib" >/dev/null 2>"$T/err"
rc=$?; [ $rc = 0 ] && grep -q "not used: the model is explicitly quantized" "$T/err"; ok $? "--calib ignored with a warning: exit $rc, $(cat "$T/err")"

echo "qdq: $pass passed, $fail failed"
[ $fail = 0 ]
