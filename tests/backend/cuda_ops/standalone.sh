#!/bin/sh
# standalone.sh — builds test_cuda_ops without the CMake CUDA build (usable until the CUDA
# backend table, odet_backend_cuda(), links): every src/backend/cuda/*.cu that defines
# kernels compiled with nvcc, the test with gcc, linked against a CPU-only libodet.so.
# Usage: tests/backend/cuda_ops/standalone.sh BUILD_DIR_WITH_LIBODET OUT_DIR
set -e
lib=$1
out=$2
src=$(cd "$(dirname "$0")/../../.." && pwd)
nvcc=${NVCC:-/usr/local/cuda/bin/nvcc}
mkdir -p "$out/obj"
for f in "$src"/src/backend/cuda/*.cu; do
	"$nvcc" -std=c++17 -O2 -gencode arch=compute_90,code=sm_90 -Xcompiler -fPIC -I"$src/src" -I"$src/include" \
		-c "$f" -o "$out/obj/$(basename "$f" .cu).o"
done
gcc -std=c11 -O2 -D_GNU_SOURCE -I"$src/src" -I"$src/include" -I"$src/tests" -I/usr/local/cuda/include \
	-c "$src/tests/backend/cuda_ops/test_cuda_ops.c" -o "$out/obj/test_cuda_ops.o"
"$nvcc" -cudart static -o "$out/test_cuda_ops" "$out/obj"/*.o -L"$lib" -lodet -lm -Xlinker -rpath,'$ORIGIN'
cp "$lib/libodet.so" "$out/"
