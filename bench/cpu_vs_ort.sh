#!/bin/sh
# cpu_vs_ort.sh — CPU throughput: odet's CPU backend vs ONNX Runtime (onnxruntime-node, CPU EP),
# same seeded models, same thread count, raw network (no detection head on either side).
#
#   bench/cpu_vs_ort.sh [BUILD_DIR]        (default: build; needs BUILD_DIR/odet)
#
# Models (tests/gen/gen_detectors.py, symbolic batch): ssd300_r50 at 300x300 and
# retinanet_r50_fpn at 512x512; batches 1 and 8.
#   ORT:  node tests/ref/ort_run.js MODEL in.bin out.bin --threads T --bench RUNS
#         (2 warm-up runs, median of RUNS timed runs)
#   odet: BUILD_DIR/odet bench MODEL --batch B --threads T --no-head --warmup 2 --duration D
#         (D = max(MIN_SECONDS, 2 * RUNS * ORT median): at least RUNS runs when odet is
#         within 2x of ORT; the table shows odet's run count; latency median taken)
# images/s = batch / median latency for both. Prints a markdown table (ratio = odet / ORT).
# Environment: THREADS (default 2), RUNS (default 5), MIN_SECONDS (default 3),
# WORK (default BUILD_DIR/bench_cpu_vs_ort), CASES ("model:size:batch ...").
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
ODET="$BUILD/odet"
[ -x "$ODET" ] || { echo "cpu_vs_ort: $ODET not found (build first)" >&2; exit 2; }
PY=/usr/bin/python3
THREADS=${THREADS:-2}
RUNS=${RUNS:-5}
MIN_SECONDS=${MIN_SECONDS:-3}
WORK=${WORK:-$BUILD/bench_cpu_vs_ort}
CASES=${CASES:-"ssd300_r50:300:1 ssd300_r50:300:8 retinanet_r50_fpn:512:1 retinanet_r50_fpn:512:8"}
mkdir -p "$WORK"

json() { # json FILE EXPR — evaluate EXPR on the last JSON line of FILE (as d)
	"$PY" -c 'import json,sys
d = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][-1]
print(eval(sys.argv[2]))' "$1" "$2"
}

rows=""
for c in $CASES; do
	m=${c%%:*}
	rest=${c#*:}
	size=${rest%%:*}
	b=${rest#*:}
	model="$WORK/${m}_$size.onnx"
	if [ ! -f "$model" ]; then
		"$PY" "$ROOT/tests/gen/gen_detectors.py" "$m" --size "$size" --batch-symbolic --out "$WORK" >/dev/null
		mv "$WORK/$m.onnx" "$model"
	fi
	in="$WORK/${m}_$size.b$b.in.bin"
	"$PY" "$ROOT/tests/gen/gen_input.py" "$model" "$in" --batch "$b"
	node "$ROOT/tests/ref/ort_run.js" "$model" "$in" "$WORK/ort.out.bin" --threads "$THREADS" \
		--bench "$RUNS" >"$WORK/ort.json"
	ort_ms=$(json "$WORK/ort.json" 'd["median_ms"]')
	dur=$("$PY" -c "print(max($MIN_SECONDS, 2 * $RUNS * $ort_ms / 1000))")
	"$ODET" bench "$model" --batch "$b" --threads "$THREADS" --no-head --warmup 2 --duration "$dur" \
		>"$WORK/odet.txt"
	odet_ms=$(json "$WORK/odet.txt" 'd["latency_ms"]["median"]')
	odet_runs=$(json "$WORK/odet.txt" 'd["runs"]')
	row=$("$PY" -c "
b, o, r = $b, $odet_ms, $ort_ms
print('| %s | %sx%s | %d | %.2f | %.2f | %.2f | %.1f | %.1f (%d runs) |' % ('$m', $size, $size, b,
      b * 1000 / r, b * 1000 / o, r / o, r, o, $odet_runs))")
	echo "$row" >&2
	rows="$rows$row
"
done
echo
echo "CPU, $THREADS threads, $(nproc) cores online, $(date -u +%F), $(uname -m); ORT $(node -p "require('$ROOT/.cache/node/node_modules/onnxruntime-node/package.json').version")"
echo
echo "| model | input | batch | ORT images/s | odet images/s | odet/ORT | ORT median ms | odet median ms |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
printf "%s" "$rows"
