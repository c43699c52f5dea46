#!/bin/sh
# test_cli.sh — `odet inspect|build|run|bench` end to end on a tiny seeded ONNX model made
# here (Conv + Relu + Add, GlobalAveragePool; symbolic batch), with numpy as the reference,
# plus the documented exit codes: 0 ok, 1 runtime/I/O failure, 2 bad input or usage.
# Usage: test_cli.sh ODET WORKDIR. Needs Debian's /usr/bin/python3 with onnx and numpy.
# When the importer/kernels are not linked (a partial build), the flow checks are skipped
# and only the exit-code checks run. Ends with "cli: N passed, N failed".
set -u
ODET=$1
W=$2
PY=/usr/bin/python3
rm -rf "$W" && mkdir -p "$W"
pass=0
fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
expect() { # expect CODE DESCRIPTION command...
	want=$1; what=$2; shift 2
	"$@" >"$W/out.txt" 2>"$W/err.txt"
	got=$?
	if [ "$got" = "$want" ]; then ok; else ko "$what: exit $got, expected $want: $(head -c 300 "$W/err.txt")"; fi
}

# ---- usage and bad input (no model needed)
for c in inspect build run bench; do
	expect 0 "$c --help" "$ODET" $c --help
	expect 2 "$c without arguments" "$ODET" $c
	expect 2 "$c with an unknown option" "$ODET" $c model.onnx --bogus
done
expect 2 "build without -o" "$ODET" build model.onnx
expect 2 "bad --batch" "$ODET" build model.onnx -o x.plan --batch zero
expect 2 "bad --input-size" "$ODET" build model.onnx -o x.plan --input-size 640
expect 2 "bad --duration" "$ODET" bench model.plan --duration -1
expect 1 "missing model" "$ODET" inspect "$W/missing.plan"
printf 'ODETPLAN garbage garbage' >"$W/garbage.plan"
expect 2 "garbage plan" "$ODET" inspect "$W/garbage.plan"
if grep -q "garbage.plan" "$W/err.txt" && [ "$(wc -l <"$W/err.txt")" -eq 1 ]; then ok; else ko "one error line naming the file"; fi
printf 'ODTN' >"$W/bad.bin"
expect 2 "bad tensor file" "$ODET" run "$W/garbage.plan" --input "$W/bad.bin" --output "$W/o.bin"

# ---- the flow on a tiny model
if ! $PY -c "import onnx, numpy" 2>/dev/null; then
	echo "cli: /usr/bin/python3 lacks onnx/numpy: flow checks skipped"
	echo "cli: $pass passed, $fail failed"
	[ "$fail" = 0 ]
	exit $?
fi
$PY - "$W" <<'EOF'
import struct, sys
import numpy as np
import onnx
from onnx import helper, TensorProto, numpy_helper
w = sys.argv[1]
rng = np.random.RandomState(7)
W = (rng.randn(4, 3, 3, 3) * 0.3).astype(np.float32)
B = rng.randn(4).astype(np.float32)
C = rng.randn(1, 4, 8, 8).astype(np.float32)
nodes = [helper.make_node("Conv", ["images", "W", "B"], ["c"], pads=[1, 1, 1, 1], name="conv"),
         helper.make_node("Relu", ["c"], ["r"], name="relu"),
         helper.make_node("Add", ["r", "C"], ["feat"], name="add"),
         helper.make_node("GlobalAveragePool", ["feat"], ["pooled"], name="gap")]
g = helper.make_graph(nodes, "tiny",
    [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, 8, 8])],
    [helper.make_tensor_value_info("feat", TensorProto.FLOAT, ["batch", 4, 8, 8]),
     helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", 4, 1, 1])],
    [numpy_helper.from_array(W, "W"), numpy_helper.from_array(B, "B"), numpy_helper.from_array(C, "C")])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
m.ir_version = 8
onnx.save(m, w + "/tiny.onnx")
x = (rng.rand(2, 3, 8, 8) + 0.05).astype(np.float32)
xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
conv = np.zeros((2, 4, 8, 8), np.float64)
for i in range(8):
    for j in range(8):
        conv[:, :, i, j] = np.einsum("nchw,ochw->no", xp[:, :, i:i + 3, j:j + 3], W)
feat = (np.maximum(conv + B[None, :, None, None], 0) + C).astype(np.float32)
pooled = feat.mean(axis=(2, 3), keepdims=True).astype(np.float32)
def write(path, tensors):
    with open(path, "wb") as f:
        f.write(b"ODTN" + struct.pack("<II", 1, len(tensors)))
        for name, a in tensors:
            n = name.encode()
            f.write(struct.pack("<I", len(n)) + n + struct.pack("<II", 1, a.ndim))
            f.write(struct.pack("<%dq" % a.ndim, *a.shape) + a.tobytes())
write(w + "/in.bin", [("images", x)])
write(w + "/in_unnamed.bin", [("x", x)])
write(w + "/ref.bin", [("feat", feat), ("pooled", pooled)])
EOF
"$ODET" build "$W/tiny.onnx" -o "$W/tiny.plan" --batch 2 --no-head >"$W/build.txt" 2>"$W/err.txt"
rc=$?
if [ $rc != 0 ] && grep -q "not available\|no CPU kernel\|not linked" "$W/err.txt"; then
	echo "cli: importer/kernels not linked in this build: flow checks skipped ($(cat "$W/err.txt"))"
	echo "cli: $pass passed, $fail failed"
	[ "$fail" = 0 ]
	exit $?
fi
if [ $rc = 0 ]; then ok; else ko "build: exit $rc: $(cat "$W/err.txt")"; fi
grep -q "arena:" "$W/build.txt" && grep -q "nodes:" "$W/build.txt" && ok || ko "build summary"
expect 0 "inspect onnx" "$ODET" inspect "$W/tiny.onnx" --batch 2 --no-head
grep -q "== optimized graph" "$W/out.txt" && grep -q "memory plan:" "$W/out.txt" && ok || ko "inspect output"
expect 0 "inspect plan" "$ODET" inspect "$W/tiny.plan"
grep -q "memory plan:" "$W/out.txt" && ok || ko "inspect plan output"
expect 0 "run plan" "$ODET" run "$W/tiny.plan" --input "$W/in.bin" --output "$W/out_plan.bin" --threads 2
expect 0 "run onnx" "$ODET" run "$W/tiny.onnx" --input "$W/in.bin" --output "$W/out_onnx.bin"
expect 0 "run, inputs by position" "$ODET" run "$W/tiny.plan" --input "$W/in_unnamed.bin" --output "$W/out_pos.bin"
$PY - "$W" <<'EOF' && ok || ko "outputs differ from numpy"
import struct, sys
import numpy as np
w = sys.argv[1]
def read(path):
    b = open(path, "rb").read()
    assert b[:4] == b"ODTN"
    n = struct.unpack_from("<I", b, 8)[0]; p = 12; out = {}
    for _ in range(n):
        l = struct.unpack_from("<I", b, p)[0]; p += 4
        name = b[p:p + l].decode(); p += l
        dt, rank = struct.unpack_from("<II", b, p); p += 8
        dims = struct.unpack_from("<%dq" % rank, b, p); p += 8 * rank
        cnt = int(np.prod(dims)) if rank else 1
        out[name] = np.frombuffer(b, np.float32, cnt, p).reshape(dims); p += 4 * cnt
    return out
ref = read(w + "/ref.bin")
for f in ("out_plan.bin", "out_onnx.bin", "out_pos.bin"):
    got = read(w + "/" + f)
    for k, r in ref.items():
        if got[k].shape != r.shape or not np.allclose(got[k], r, rtol=1e-4, atol=1e-5):
            print(f, k, "differs", np.abs(got[k] - r).max()); sys.exit(1)
EOF
expect 0 "bench" "$ODET" bench "$W/tiny.plan" --duration 0.2 --warmup 1 --threads 1
tail -n 1 "$W/out.txt" | $PY -c "import json,sys; d=json.loads(sys.stdin.read()); assert d['images_per_s'] > 0 and d['batch'] == 2 and d['latency_ms']['p99'] >= d['latency_ms']['min']" && ok || ko "bench JSON line"
expect 2 "bench with another batch than the plan's" "$ODET" bench "$W/tiny.plan" --batch 3 --duration 0.1
head -c 1000 "$W/tiny.plan" >"$W/trunc.plan"
expect 2 "truncated plan" "$ODET" run "$W/trunc.plan" --input "$W/in.bin" --output "$W/o.bin"
grep -q "trunc.plan" "$W/err.txt" && ok || ko "error names the plan"
$PY -c "
import struct; f=open('$W/in3.bin','wb'); f.write(b'ODTN'+struct.pack('<II',1,1)); n=b'images'
f.write(struct.pack('<I',len(n))+n+struct.pack('<II',1,4)+struct.pack('<4q',3,3,8,8)+bytes(3*3*8*8*4))"
expect 2 "input of the wrong batch" "$ODET" run "$W/tiny.plan" --input "$W/in3.bin" --output "$W/o.bin"
grep -q "shape" "$W/err.txt" && ok || ko "error says shape"
echo "cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
