#!/bin/sh
# samples.sh — the six sample photos of Debian's darknet package (dog, horses, person, giraffe,
# kite, eagle), extracted with dpkg-deb into .cache/samples (darknet itself is not installed).
# Prints the folder.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SAMPLES="$ROOT/.cache/samples"
if [ ! -f "$SAMPLES/eagle.jpg" ]; then
	tmp=$(mktemp -d)
	(cd "$tmp" && { apt-get download darknet >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get download darknet >/dev/null; }; })
	dpkg-deb -x "$tmp"/darknet_*.deb "$tmp/x"
	mkdir -p "$SAMPLES"
	for f in dog horses person giraffe kite eagle; do cp "$tmp/x/usr/share/darknet/data/$f.jpg" "$SAMPLES/"; done
	rm -rf "$tmp"
fi
echo "$SAMPLES"
