#!/bin/sh
# sanitize.sh — the sanitizer step of the test command: a CPU build with ASan + UBSan (clang,
# libFuzzer instrumentation; build-asan/), the fast tests in it (no valgrind, no long reference
# runs), every fuzz harness's seed corpus replayed, then FUZZ_SECONDS (default 5) of fuzzing per
# harness from its seeds. Any sanitizer report, leak or fuzz finding fails.
# Usage: scripts/sanitize.sh [ctest args...]; called by scripts/test.sh (ODET_SANITIZE=0 skips it).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B="$ROOT/build-asan"
CC=${SANITIZE_CC:-clang-14}
if ! command -v "$CC" >/dev/null; then
  echo "sanitize.sh: $CC not found (scripts/deps.sh installs clang-14)" >&2
  exit 1
fi
CC=$CC cmake -S "$ROOT" -B "$B" -DCMAKE_BUILD_TYPE=Release -DODET_CUDA=OFF -DODET_FUZZ=ON >/dev/null
cmake --build "$B" -j"$(nproc)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export JSIMD_FORCENONE=1
cd "$B"
# the fast subset: what runs the library in-process and the CLI tests; valgrind runs and the long
# reference comparisons (ONNX Runtime, TF.js, e2e) stay in the plain build, and so do eval_cli
# (it bounds the process's RSS, which ASan inflates) and cpu_ops / cpu_ops_node (their loader
# hands kernels misaligned test tensors: UBSan's report is about the test, kept for later)
ctest --output-on-failure -j"$(nproc)" \
  -E "valgrind|reference|^e2e|ops_ort|crosscheck|peers_report|^pipeline$|onnx_node|eval_cli|^cpu_ops$|^cpu_ops_node$" "$@"
"$ROOT/scripts/fuzz.sh" "${FUZZ_SECONDS:-5}" "$B"
