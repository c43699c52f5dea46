#!/bin/sh
# ffmpeg_min.sh — a minimal FFmpeg (Debian's source package, the version odet's headers come
# from) with only what odet video reads: the file protocol; mov/mp4, matroska, avi, mpegts and
# raw H.264/HEVC demuxers; H.264, HEVC, MPEG-4 (and MS-MPEG-4 v3, vtest.avi's), MJPEG decoders
# and parsers; the mp4-to-Annex-B bitstream filters (NVDEC); swscale. Shared libraries with the
# sonames odet dlopens (libavformat.so.59, ...), about 10 MB in all, for machines without FFmpeg
# (the GPU machine): carry the folder and set LD_LIBRARY_PATH. Needs deb-src in apt's sources
# (apt-get source). Prints the lib folder.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/.cache/ffmpeg-min"
if [ ! -f "$OUT/lib/libavformat.so.59" ]; then
	src=$(mktemp -d)
	(cd "$src" && apt-get source --download-only ffmpeg >/dev/null 2>&1)
	tar -xf "$src"/ffmpeg_*.orig.tar.xz -C "$src"
	cd "$src"/ffmpeg-*/
	asm=--disable-x86asm
	command -v nasm >/dev/null 2>&1 && asm=
	./configure --prefix="$OUT" --enable-shared --disable-static --disable-programs --disable-doc \
		--disable-everything --disable-autodetect --disable-network $asm \
		--disable-avdevice --disable-avfilter --disable-postproc --disable-swresample \
		--enable-protocol=file \
		--enable-demuxer=mov,matroska,avi,mpegts,h264,hevc \
		--enable-parser=h264,hevc,mpeg4video,mjpeg \
		--enable-decoder=h264,hevc,mpeg4,msmpeg4v3,mjpeg \
		--enable-bsf=h264_mp4toannexb,hevc_mp4toannexb >/dev/null
	make -j"$(nproc)" >/dev/null
	make install >/dev/null
	rm -rf "$OUT/include" "$OUT/lib/pkgconfig" "$src"
fi
echo "$OUT/lib"
