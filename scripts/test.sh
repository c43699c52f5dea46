#!/bin/sh
# test.sh — the test command: install dependencies, build (CPU; CUDA too where nvcc exists),
# run every test with ctest. Usage: scripts/test.sh [ctest args...]
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/deps.sh"
BUILD="$ROOT/build"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$BUILD" -j"$(nproc)"
cd "$BUILD"
ctest --output-on-failure -j"$(nproc)" "$@"
