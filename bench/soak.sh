#!/bin/sh
# soak.sh — long-running memory check (issue 18; not a CI test): one odet process runs for
# SECONDS while its resident memory (and, with a GPU, its GPU memory) is sampled every second;
# fails (exit 1) when either grows by more than BOUND_MB between the first and the last
# minute after WARMUP seconds (medians of each window, so allocator jitter does not count).
#
#   bench/soak.sh detect MODEL IMAGE_DIR [SECONDS [BOUND_MB [WARMUP]]]   odet detect over the
#         folder's images, repeated (an @LIST), --no-draw, results streamed to a JSON file
#   bench/soak.sh bench MODEL [SECONDS [BOUND_MB [WARMUP]]]              odet bench (exec run loop)
#
# Env: ODET (default build/odet), DETECT_FLAGS / BENCH_FLAGS (extra options, e.g. --backend cpu),
# SOAK_OUT (default soak-out/): samples.csv (t_s, rss_kb, gpu_mib) and the run's log.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ODET=${ODET:-$ROOT/build/odet}
MODE=${1:?usage: soak.sh detect MODEL IMAGE_DIR [SECONDS [BOUND_MB [WARMUP]]] | bench MODEL [SECONDS ...]}
MODEL=${2:?model}
if [ "$MODE" = detect ]; then
  DIR=${3:?image folder}
  shift 3
else
  shift 2
fi
SECS=${1:-600}
BOUND=${2:-10}
WARM=${3:-60}
OUT=${SOAK_OUT:-soak-out}
mkdir -p "$OUT"
CSV="$OUT/samples.csv"
LOG="$OUT/odet.log"

if [ "$MODE" = detect ]; then
  # enough repeats of the folder's images to outlast SECONDS at any speed this machine has
  LIST="$OUT/images.list"
  find "$DIR" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \) | sort >"$OUT/one.list"
  n=$(wc -l <"$OUT/one.list")
  [ "$n" -gt 0 ] || { echo "soak.sh: no images in $DIR" >&2; exit 2; }
  awk -v r=$((200000 / n + 1)) '{a[NR] = $0} END {for (i = 0; i < r; i++) for (j = 1; j <= NR; j++) print a[j]}' \
    "$OUT/one.list" >"$LIST"
  # shellcheck disable=SC2086
  "$ODET" detect "$MODEL" @"$LIST" --no-draw --quiet --json "$OUT/detections.json" ${DETECT_FLAGS:-} >"$LOG" 2>&1 &
else
  # shellcheck disable=SC2086
  "$ODET" bench "$MODEL" --duration "$((SECS + 30))" ${BENCH_FLAGS:-} >"$LOG" 2>&1 &
fi
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT INT TERM
echo "t_s,rss_kb,gpu_mib" >"$CSV"
# t: seconds since the start by the clock (on a loaded host one loop takes longer than its sleep)
T0=$(date +%s)
t=0
while [ $t -lt "$SECS" ] && kill -0 $PID 2>/dev/null; do
  rss=$(awk '/^VmRSS:/ {print $2}' /proc/$PID/status 2>/dev/null || echo "")
  gpu=""
  if command -v nvidia-smi >/dev/null 2>&1; then
    gpu=$(nvidia-smi --query-compute-apps=pid,used_memory --format=csv,noheader,nounits 2>/dev/null |
          awk -F', *' -v p=$PID '$1 == p {print $2}')
  fi
  [ -n "$rss" ] && echo "$t,$rss,${gpu:-}" >>"$CSV"
  sleep 1
  t=$(($(date +%s) - T0))
done
if ! kill -0 $PID 2>/dev/null; then
  wait $PID || { echo "soak.sh: odet exited early (log: $LOG)" >&2; tail -5 "$LOG" >&2; exit 1; }
fi
kill $PID 2>/dev/null || true
wait $PID 2>/dev/null || true
trap - EXIT INT TERM
/usr/bin/python3 - "$CSV" "$WARM" "$BOUND" <<'EOF'
import csv, statistics, sys
path, warm, bound = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
rows = [r for r in csv.DictReader(open(path)) if r["rss_kb"]]
after = [r for r in rows if int(r["t_s"]) >= warm]
if len(after) < 20:
    print("soak: too few samples after warm-up (%d); run longer" % len(after))
    sys.exit(1)
w = min(60, len(after) // 3)
def med(rs, key):
    v = [float(r[key]) for r in rs if r.get(key)]
    return statistics.median(v) if v else None
ok = True
for key, unit, scale in (("rss_kb", "RSS", 1 / 1024), ("gpu_mib", "GPU memory", 1)):
    a, b = med(after[:w], key), med(after[-w:], key)
    if a is None or b is None:
        continue
    grow = (b - a) * scale
    peak = max(float(r[key]) for r in after if r.get(key)) * scale
    print("soak: %s %.1f MB at %d s (after warm-up), %.1f MB at %d s, growth %+.1f MB (bound %.0f), peak %.1f MB" %
          (unit, a * scale, int(after[0]["t_s"]), b * scale, int(after[-1]["t_s"]), grow, bound, peak))
    ok &= grow <= bound
print("soak: %s (%d samples, %s)" % ("PASS" if ok else "FAIL: memory grew", len(rows), path))
sys.exit(0 if ok else 1)
EOF
