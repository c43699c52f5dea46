#!/bin/sh
# test.sh — the test command: install dependencies, build (CPU; CUDA too where nvcc exists),
# run every test with ctest, then (without ctest args, unless ODET_SANITIZE=0) the sanitizer
# step: scripts/sanitize.sh (ASan + UBSan build, fast tests, fuzz corpora and a short fuzz run).
# Usage: scripts/test.sh [ctest args...]
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/deps.sh"
BUILD="$ROOT/build"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
cd "$BUILD"
ctest --output-on-failure -j"$(nproc)" "$@"
if [ $# -eq 0 ] && [ "${ODET_SANITIZE:-1}" != 0 ]; then
	"$ROOT/scripts/sanitize.sh"
fi
