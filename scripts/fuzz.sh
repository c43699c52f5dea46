#!/bin/sh
# fuzz.sh — run every libFuzzer harness of tests/fuzz for SECONDS each (default 60) from its
# seeds (gen_seeds.py), in BUILD (default build-fuzz: configured here with clang-14, ASan, UBSan).
# New inputs go to BUILD/tests/fuzz/corpus/<name>; a crash, leak or timeout stops with its input
# saved as BUILD/tests/fuzz/findings/<name>/crash-* (keep it in tests/fuzz/regress/<name>/).
# Usage: scripts/fuzz.sh [SECONDS] [BUILD] [HARNESS...]; FUZZ_JOBS=N runs N processes per harness
# (their logs: BUILD/tests/fuzz/findings/<name>/fuzz-*.log; nothing is written outside BUILD).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECS=${1:-60}
B=${2:-$ROOT/build-fuzz}
mkdir -p "$B"
B=$(cd "$B" && pwd)
[ $# -gt 0 ] && shift
[ $# -gt 0 ] && shift
HARNESSES=${*:-onnx tfjs plan image coco head_config tensor calib_cache video queue_result fcw}
if [ ! -f "$B/CMakeCache.txt" ]; then
  CC=clang-14 cmake -S "$ROOT" -B "$B" -DCMAKE_BUILD_TYPE=Release -DODET_CUDA=OFF -DODET_FUZZ=ON >/dev/null
fi
cmake --build "$B" -j"$(nproc)" >/dev/null
F="$B/tests/fuzz"
if [ ! -d "$F/seeds/onnx" ]; then
  /usr/bin/python3 "$ROOT/tests/fuzz/gen_seeds.py" "$F/seeds" "$B/odet" "$ROOT" >/dev/null
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export JSIMD_FORCENONE=1
status=0
for h in $HARNESSES; do
  mkdir -p "$F/corpus/$h" "$F/findings/$h"
  dirs="$F/corpus/$h $F/seeds/$h"
  [ -d "$ROOT/tests/fuzz/regress/$h" ] && dirs="$dirs $ROOT/tests/fuzz/regress/$h"
  log="$F/findings/$h/fuzz.log"
  rm -f "$F/findings/$h"/fuzz-*.log
  jobs=""
  if [ "${FUZZ_JOBS:-1}" -gt 1 ]; then jobs="-jobs=$FUZZ_JOBS -workers=$FUZZ_JOBS"; fi
  # run from the findings folder: libFuzzer writes its jobs' fuzz-N.log into the current one
  # shellcheck disable=SC2086
  if (cd "$F/findings/$h" && "$F/fuzz_$h" -max_total_time="$SECS" -timeout=20 -rss_limit_mb=2560 -max_len=262144 \
       $jobs -print_final_stats=1 -artifact_prefix="$F/findings/$h/" $dirs >"$log" 2>&1); then
    printf '%-12s %s\n' "$h" "$(cat "$log" "$F/findings/$h"/fuzz-*.log 2>/dev/null | grep -E '^stat::number_of_executed_units|cov:' | tail -2 | tr '\n' ' ')"
  else
    status=1
    echo "fuzz_$h: FINDING (log: $log)"
    cat "$log" "$F/findings/$h"/fuzz-*.log 2>/dev/null | grep -E "ERROR|SUMMARY|runtime error|Test unit written" | head -5
  fi
done
exit $status
