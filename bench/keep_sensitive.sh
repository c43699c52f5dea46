#!/bin/sh
# keep_sensitive.sh — int8 detection agreement with fp32 as the layers of lowest SNR stay in float.
# usage: bench/keep_sensitive.sh ODET MODEL CAL_DIR EVAL_DIR OUT_DIR [BACKEND] [K...]
# Calibrates MODEL on CAL_DIR (minmax, per-layer SNR), detects EVAL_DIR with the fp32 engine and
# with int8 engines built with --keep-sensitive K (default 0 2 5 10), and prints per K the
# agreement of bench/compare_dets.py (--min-score 0.3 --iou 0.5 --score-tol 0.05) and the number
# of convolutions left in INT8. Everything is written under OUT_DIR.
set -eu
ODET=$1 MODEL=$2 CAL=$3 EVAL=$4 OUT=$5
BACKEND=${6:-cpu}
shift 5
[ $# -gt 0 ] && shift
KS=${*:-0 2 5 10}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
"$ODET" calibrate "$MODEL" "$CAL" -o "$OUT/m.calib" --backend "$BACKEND" --quiet >"$OUT/calibrate.txt"
"$ODET" detect "$MODEL" "$EVAL" --backend "$BACKEND" --score 0.05 --no-draw --quiet --json "$OUT/fp32.json"
for k in $KS; do
	"$ODET" build "$MODEL" -o "$OUT/i8_$k.plan" --backend "$BACKEND" --precision int8 --calib "$OUT/m.calib" \
		--keep-sensitive "$k" -v >/dev/null 2>"$OUT/build_$k.txt"
	"$ODET" detect "$OUT/i8_$k.plan" "$EVAL" --score 0.05 --no-draw --quiet --json "$OUT/i8_$k.json"
	nq=$(sed -n 's/.*quantize: \([0-9]*\) convolutions in INT8.*/\1/p' "$OUT/build_$k.txt")
	res=$(/usr/bin/python3 "$HERE/compare_dets.py" "$OUT/fp32.json" "$OUT/i8_$k.json" --min-score 0.3 --iou 0.5 \
		--score-tol 0.05 | tail -1)
	echo "keep-sensitive $k: $nq convolutions in INT8, $res"
done
