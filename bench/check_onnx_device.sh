#!/bin/sh
# check_onnx_device.sh — real exported networks: odet vs ONNX Runtime (python, CPU), on the
# device machine (torch, torchvision, onnx, onnxruntime there; no network).
#
#   bench/check_onnx_device.sh ODET_BIN [WORK_DIR]
#
# 1. bench/export_models.py exports ssd300_r50, ssd300_vgg16, ssdlite320_mbv3,
#    retinanet_r50_fpn (800) and retinanet_r50_fpn_512 with torch.onnx.export (opset 17,
#    dynamic batch, seeded weights) into WORK_DIR (default /tmp/odet_onnx_check), and for each
#    batch writes the random input and ONNX Runtime's outputs (.bin, docs/formats.md).
# 2. For each model and batch: `ODET_BIN run MODEL.onnx --input IN --output OUT --threads T
#    $ODET_RUN_ARGS`, then tests/gen/compare.py (max|diff|/max|ref| per output).
# Prints one line per model and batch with the max relative error, then "N passed, N failed".
# Environment: MODELS (comma list), BATCHES (default 1,2), RTOL (default 1e-4), THREADS
# (default 16), PYTHON (default python3), ODET_RUN_ARGS (extra `odet run` options, e.g. a
# backend choice). A copy of the log goes to $OUT/check_onnx_device.log when $OUT is set.
# Exit: 0 all within RTOL, 1 a failure, 2 usage.
set -u
ODET=${1:-}
if [ -z "$ODET" ] || [ ! -x "$ODET" ]; then
	echo "usage: $0 ODET_BIN [WORK_DIR]  (ODET_BIN: an executable odet CLI)" >&2
	exit 2
fi
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ODET=$(cd "$(dirname "$ODET")" && pwd)/$(basename "$ODET")
WORK=${2:-/tmp/odet_onnx_check}
PY=${PYTHON:-python3}
RTOL=${RTOL:-1e-4}
THREADS=${THREADS:-16}
BATCHES=${BATCHES:-1,2}
MODELS=${MODELS:-ssd300_r50,ssd300_vgg16,ssdlite320_mbv3,retinanet_r50_fpn,retinanet_r50_fpn_512}
# a carried build: libodet.so sits beside the CLI, whatever RPATH the build recorded
ODET_DIR=$(dirname "$ODET")
export LD_LIBRARY_PATH="$ODET_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
mkdir -p "$WORK"
LOG="$WORK/check_onnx_device.log"
: >"$LOG"
say() { echo "$*" | tee -a "$LOG"; }

say "== export ($(date -u +%FT%TZ)) $(uname -n)"
"$PY" "$ROOT/bench/export_models.py" --out "$WORK" --models "$MODELS" --batches "$BATCHES" 2>&1 | tee -a "$LOG"
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee -a "$LOG"

say "== odet run vs ONNX Runtime (rtol $RTOL)"
pass=0
fail=0
for m in $(echo "$MODELS" | tr ',' ' '); do
	for b in $(echo "$BATCHES" | tr ',' ' '); do
		in="$WORK/$m.b$b.in.bin"
		ref="$WORK/$m.b$b.ort.bin"
		got="$WORK/$m.b$b.odet.bin"
		if [ ! -f "$WORK/$m.onnx" ] || [ ! -f "$ref" ]; then
			say "FAIL $m batch $b: no exported model or reference (see export above)"
			fail=$((fail + 1))
			continue
		fi
		rm -f "$got"
		t0=$(date +%s.%N)
		rc=0
		# shellcheck disable=SC2086
		"$ODET" run "$WORK/$m.onnx" --input "$in" --output "$got" --threads "$THREADS" \
			${ODET_RUN_ARGS:-} >"$WORK/$m.b$b.odet.log" 2>&1 || rc=$?
		if [ $rc -ne 0 ]; then
			say "FAIL $m batch $b: odet run exit $rc: $(tail -n 3 "$WORK/$m.b$b.odet.log" | tr '\n' ' ')"
			fail=$((fail + 1))
			continue
		fi
		t1=$(date +%s.%N)
		res=$("$PY" "$ROOT/tests/gen/compare.py" "$ref" "$got" --rtol "$RTOL")
		rc=$?
		secs=$("$PY" -c "print('%.1f' % ($t1 - $t0))")
		worst=$(echo "$res" | tail -n 1)
		if [ $rc -eq 0 ]; then
			say "PASS $m batch $b: $worst (odet run ${secs}s incl. build)"
			pass=$((pass + 1))
		else
			say "FAIL $m batch $b: $worst"
			echo "$res" | tee -a "$LOG"
			fail=$((fail + 1))
		fi
	done
done
say "check_onnx_device: $pass passed, $fail failed"
[ -n "${OUT:-}" ] && [ -d "$OUT" ] && cp "$LOG" "$OUT/"
[ $fail -eq 0 ]
