#!/bin/sh
# nms_build.sh — build libodet_nms.so (CPU + CUDA head kernels + bench/nms_shim.c) for the
# device scripts bench/nms_check.py and bench/nms_bench.py.
# usage: bench/nms_build.sh <repo root> <output dir>   (needs nvcc and gcc; sm_90)
set -e
ROOT=${1:-.}
OUT=${2:-build-nms}
mkdir -p "$OUT/obj"
CSRC="$ROOT/src/core/alloc.c $ROOT/src/core/convert.c $ROOT/src/core/ctx.c $ROOT/src/core/file.c
$ROOT/src/core/status.c $ROOT/src/core/threadpool.c $ROOT/src/graph/graph.c $ROOT/src/graph/shape_heads.c
$ROOT/src/backend/eval.c $ROOT/src/backend/cpu/cpu_backend.c $ROOT/src/backend/cpu/nms.c $ROOT/src/backend/nms_params.c
$ROOT/src/backend/cpu/decode.c $ROOT/bench/nms_shim.c"
OBJS=""
for f in $CSRC; do
	o="$OUT/obj/$(basename "$f" .c).o"
	gcc -std=c11 -O2 -fPIC -D_GNU_SOURCE -I"$ROOT/include" -I"$ROOT/src" -c "$f" -o "$o" &
	OBJS="$OBJS $o"
done
for f in nms decode; do
	nvcc -arch=sm_90 -O3 -std=c++17 -Xcompiler -fPIC -I"$ROOT/include" -I"$ROOT/src" \
		-c "$ROOT/src/backend/cuda/$f.cu" -o "$OUT/obj/cu_$f.o" &
	OBJS="$OBJS $OUT/obj/cu_$f.o"
done
wait
nvcc -shared -o "$OUT/libodet_nms.so" $OBJS -lpthread -lm
echo "built $OUT/libodet_nms.so"
