#!/bin/bash
# peers_compile.sh — torch.compile(max-autotune) rows of bench/peers.py, one (model, batch) at a time,
# resumable across device calls: results accumulate in OUT/peers.json and the inductor cache in CACHE,
# so a row stopped by one call's time limit resumes from its autotune cache in the next call on the same
# (warm) machine. Run on the GPU machine from the repository root:
#
#   bash bench/peers_compile.sh LIMIT_S MODEL=B [MODEL=B ..]
#
# LIMIT_S: seconds this call may take in all (rows that cannot start with 30 s left are skipped).
# Environment: OUT (default /tmp/peers), CACHE (default /tmp/cc), SEED_JSON (a peers.json to start
# OUT from when OUT has none, e.g. the main run's), MD (BENCHMARKS.md to update; default OUT/BENCHMARKS.md,
# copied from the repository's on first use). A row's "compile s" is the time of the call that finished
# it; peers.py records the cache size it started with, and the report prints it beside the time.
# Results of several machines: bench/peers.py --merge A/peers.json B/peers.json --out DIR --md BENCHMARKS.md
set -u
LIM=${1:?usage: peers_compile.sh LIMIT_S MODEL=B [MODEL=B ..]}; shift
[ $# -gt 0 ] || { echo "usage: peers_compile.sh LIMIT_S MODEL=B [MODEL=B ..]" >&2; exit 2; }
OUT=${OUT:-/tmp/peers}; CACHE=${CACHE:-/tmp/cc}; MD=${MD:-$OUT/BENCHMARKS.md}
export PYTHONUNBUFFERED=1
mkdir -p "$OUT"
if [ ! -f "$OUT/peers.json" ] && [ -n "${SEED_JSON:-}" ]; then cp "$SEED_JSON" "$OUT/peers.json"; echo "peers.json from $SEED_JSON"; fi
[ -f "$MD" ] || cp BENCHMARKS.md "$MD"
echo "inductor cache before: $(du -sh "$CACHE" 2>/dev/null | cut -f1)"
rc=0
for mb in "$@"; do
  M=${mb%%=*}
  left=$(( LIM - SECONDS - 15 ))
  if [ $left -lt 30 ]; then echo "no time left for $mb"; rc=1; continue; fi
  echo "[${SECONDS}s] $mb (limit ${left}s)"
  timeout $left python3 bench/peers.py --only-compile --models "$M" --batches-for "$mb" --runs 30 --duration 2 \
    --time-budget $(( left - 10 )) --out "$OUT" --compile-cache "$CACHE" --md "$MD" >> "$OUT/compile_stdout.log" 2>&1
  r=$?
  echo "[${SECONDS}s] $mb: $([ $r = 124 ] && echo "stopped at the limit (resumes from the cache next call)" || echo "rc $r")"
  [ $r = 0 ] || rc=1
done
echo "inductor cache after: $(du -sh "$CACHE" 2>/dev/null | cut -f1)"
grep -h "compiled in" "$OUT/compile_stdout.log" 2>/dev/null | tail -$#
exit $rc
