#!/bin/sh
# vtest.sh — opencv-doc's vtest.avi (a real street video, 768x576, MS-MPEG-4 v3, 10 fps, 795
# frames), extracted with dpkg-deb into .cache/video (opencv-doc itself is not installed).
# Prints the file's path.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/.cache/video"
if [ ! -f "$OUT/vtest.avi" ]; then
	tmp=$(mktemp -d)
	(cd "$tmp" && { apt-get download opencv-doc >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get download opencv-doc >/dev/null; }; })
	dpkg-deb --fsys-tarfile "$tmp"/opencv-doc_*.deb | tar -x -C "$tmp" ./usr/share/doc/opencv-doc/examples/data/vtest.avi
	mkdir -p "$OUT"
	cp "$tmp/usr/share/doc/opencv-doc/examples/data/vtest.avi" "$OUT/vtest.avi.tmp"
	mv "$OUT/vtest.avi.tmp" "$OUT/vtest.avi"
	rm -rf "$tmp"
fi
echo "$OUT/vtest.avi"
