#!/bin/bash
# video.sh — `odet video` on the GPU machine (issue 16): K copies of a 1080p H.264 clip, decode-only
# (--no-infer) against end to end, per decoder (NVDEC, CPU), with the GPU's utilization sampled, then
# 32 sources paced at their own frame rate (--realtime) for the latency figures.
#   bash bench/video.sh DIR [K_LIST]      (from the repository root; default K_LIST "1 8 32 64")
# DIR holds odet + libodet.so.0 (+ the libraries it links), ffmpeg/ (the minimal FFmpeg,
# scripts/ffmpeg_min.sh), models/nanodet.json and clips/vtest_1080p.mp4: opencv-doc's vtest.avi,
# first 300 frames, scaled and re-timed by
#   ffmpeg -i vtest.avi -frames:v 300 -vf "scale=1920:1080,setpts=N/30/TB" -r 30 -c:v libx264 \
#          -preset veryfast -g 30 -pix_fmt yuv420p vtest_1080p.mp4
# Models: SSD300-R50 fp16 (exported by bench/pipeline_peer.py where torch is present) and NanoDet fp16,
# both built at BATCH (default 32; SKIP_SSD=1 / SKIP_NANODET=1 leave one out). DECODERS (default "nvdec cpu"), BUDGET seconds (default 500).
# Output: lines starting with RESULT on stdout, logs in $OUT/video_logs.tgz when $OUT is set.
set -u
D=$(cd "${1:?usage: bash bench/video.sh DIR [K_LIST]}" && pwd)
KS=${2:-1 8 32 64}
BATCH=${BATCH:-32}
DECODERS=${DECODERS:-nvdec cpu}
BUDGET=${BUDGET:-500}
export LD_LIBRARY_PATH=$D:$D/ffmpeg:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
O=$D/odet
CLIP=$D/clips/vtest_1080p.mp4
W=/tmp/vb
rm -rf "$W" && mkdir -p "$W/logs"
T0=$(date +%s)
left() { echo $((BUDGET - ($(date +%s) - T0))); }
step() { # name limit cmd...: runs cmd with stderr in logs/name.err, bounded by what is left of BUDGET
	local n=$1 lim=$2
	shift 2
	local l
	l=$(left)
	[ "$l" -lt "$lim" ] && lim=$l
	[ "$lim" -le 5 ] && { echo "RESULT $n: skipped (budget)"; return 124; }
	echo "== $n: $*" >>"$W/logs/commands.txt"
	timeout "$lim" "$@" >"$W/logs/$n.out" 2>"$W/logs/$n.err"
}
fps() { grep -o '[0-9.]* frames/s;' "$W/logs/$1.err" | head -1 | cut -d' ' -f1; }
echo "RESULT gpu: $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | head -1), $(nproc) cores, $(date -u '+%Y-%m-%d %H:%M UTC')"

PLANS=""
if [ -z "${SKIP_SSD:-}" ] && step export 120 python3 bench/pipeline_peer.py --also-export "$W/ssd.onnx" --export-only --model ssd300_r50 &&
	step build_ssd 180 "$O" build "$W/ssd.onnx" -o "$W/ssd_fp16.plan" --backend cuda --precision fp16 --batch "$BATCH" --head ssd300-nvidia; then
	PLANS="ssd300_r50:$W/ssd_fp16.plan"
else
	echo "RESULT SSD300-R50: not built ($(tail -1 "$W/logs/export.err" "$W/logs/build_ssd.err" 2>/dev/null | tr '\n' ' ' | cut -c1-200))"
fi
[ -z "${SKIP_NANODET:-}" ] && step build_nd 120 "$O" build "$D/models/nanodet.json" -o "$W/nd_fp16.plan" --backend cuda --precision fp16 --batch "$BATCH" &&
	PLANS="$PLANS nanodet:$W/nd_fp16.plan"

for mp in $PLANS; do
	m=${mp%%:*} P=${mp#*:}
	for dec in $DECODERS; do
		for K in $KS; do
			src=()
			for _ in $(seq 1 "$K"); do src+=("$CLIP"); done
			step "${m}_${dec}_${K}_dec" 120 "$O" video "$P" "${src[@]}" --decode "$dec" --no-infer --json /dev/null --quiet
			d=$(fps "${m}_${dec}_${K}_dec")
			nvidia-smi --query-gpu=utilization.gpu --format=csv,noheader,nounits -lms 200 >"$W/logs/util_${m}_${dec}_$K.txt" 2>/dev/null &
			sp=$!
			step "${m}_${dec}_${K}_e2e" 150 "$O" video "$P" "${src[@]}" --decode "$dec" --json /dev/null --quiet
			kill "$sp" 2>/dev/null
			wait "$sp" 2>/dev/null
			e=$(fps "${m}_${dec}_${K}_e2e")
			u=$(awk '$1 > 0 {s += $1; n++} END {if (n) printf "%.0f", s / n; else print "?"}' "$W/logs/util_${m}_${dec}_$K.txt")
			r=$(awk -v d="$d" -v e="$e" 'BEGIN {if (d > 0) printf "%.1f%%", 100 * e / d; else print "?"}')
			echo "RESULT $m fp16 b$BATCH decode $dec K=$K: decode-only ${d:-?} frames/s, end to end ${e:-?} frames/s ($r of decode-only), GPU busy ${u}% (samples > 0) | $(tail -1 "$W/logs/${m}_${dec}_${K}_e2e.err" | grep -o 'latency.*' | cut -c1-60)"
		done
	done
done

# live sources: 32 copies paced at the clip's own 30 frames/s; latency is decode to JSON line
for mp in $PLANS; do
	m=${mp%%:*} P=${mp#*:}
	src=()
	for _ in $(seq 1 32); do src+=("$CLIP"); done
	step "${m}_realtime" 60 "$O" video "$P" "${src[@]}" --decode nvdec --realtime --json "$W/rt_$m.jsonl" --quiet
	echo "RESULT $m 32 sources --realtime --decode nvdec: exit $? | $(tail -1 "$W/logs/${m}_realtime.err" | cut -c1-260)"
done
echo "RESULT total $(($(date +%s) - T0)) s"
[ -n "${OUT:-}" ] && tar czf "$OUT/video_logs.tgz" -C "$W" logs
exit 0
