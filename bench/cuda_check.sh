#!/bin/bash
# cuda_check.sh — correctness of the CUDA backend on the device machine, then a first look at
# speed. Run from the repository root with a carried build in DIR (odet, libodet.so,
# test_cuda_core):
#
#   bench/cuda_check.sh DIR
#
# 1. test_cuda_core (ops vs the CPU backend, graph replay, plans);
# 2. a generated SSD300-R50 (tests/gen/gen_detectors.py, width / 2, symbolic batch, run at 2): `odet run` on
#    the CPU and on CUDA fp32 -> tests/gen/compare.py --rtol 1e-4; CUDA fp16 vs CPU (report);
# 3. the same network with the NVIDIA SSD head: detections CPU vs CUDA;
# 4. odet bench on CUDA (fp32 and fp16, batch 8, --profile on fp16).
# Logs in /tmp/cuda_check/logs, packed into $OUT/cuda_check_logs.tgz when $OUT is set.
# Prints a summary table at the end.
set -u
DIR=${1:?usage: cuda_check.sh DIR}
DIR=$(cd "$DIR" && pwd)
ODET=$DIR/odet
export LD_LIBRARY_PATH="$DIR:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
W=/tmp/cuda_check
OUTD=$W/logs
mkdir -p $W "$OUTD"
PY=${PYTHON:-python3}
declare -a SUMMARY
row() { SUMMARY+=("$*"); echo "## $*"; }

nvidia-smi -L
"$DIR/test_cuda_core" 2>&1 | tee "$OUTD/test_cuda_core.log"
row "test_cuda_core: $(tail -1 "$OUTD/test_cuda_core.log")"

$PY tests/gen/gen_detectors.py ssd300_r50 --out $W --width-div 2 --batch-symbolic --seed 3 >"$OUTD/gen.log" 2>&1 || cat "$OUTD/gen.log"
M=$W/ssd300_r50.onnx
$PY - "$W/in.bin" <<'EOF'
import sys, numpy as np
sys.path.insert(0, "tests/gen")
import tensorfile
rng = np.random.default_rng(7)
x = rng.uniform(-1, 1, size=(2, 3, 300, 300)).astype(np.float32)
x[np.abs(x) < 0.05] = 0.3
tensorfile.write(sys.argv[1], [("input", x)])
EOF
NAME=$($PY -c "import onnx,sys; print(onnx.load('$M').graph.input[0].name)")
$PY - "$W/in.bin" "$NAME" <<'EOF'
import sys
sys.path.insert(0, "tests/gen")
import tensorfile
t = tensorfile.read(sys.argv[1])
tensorfile.write(sys.argv[1], [(sys.argv[2], t[0][1])])
EOF
for cfg in "cpu:--backend cpu" "cuda32:--backend cuda" "cuda16:--backend cuda --precision fp16"; do
	tag=${cfg%%:*}
	args=${cfg#*:}
	/usr/bin/time -f "%e s" -o $W/$tag.time "$ODET" run $M --input $W/in.bin --output $W/$tag.bin $args >"$OUTD/run_$tag.log" 2>&1 || { echo "run $tag failed"; tail -5 "$OUTD/run_$tag.log"; }
	echo "$tag: $(cat $W/$tag.time)"
done
r32=$($PY tests/gen/compare.py $W/cpu.bin $W/cuda32.bin --rtol 1e-4 2>&1); rc32=$?
echo "$r32"
row "ssd300_r50/2 CUDA fp32 vs CPU (rtol 1e-4): $( [ $rc32 = 0 ] && echo PASS || echo FAIL ) $(echo "$r32" | tr '\n' ' ' | cut -c1-200)"
r16=$($PY tests/gen/compare.py $W/cpu.bin $W/cuda16.bin --rtol 3e-2 2>&1); rc16=$?
row "ssd300_r50/2 CUDA fp16 vs CPU (report, rtol 3e-2): $( [ $rc16 = 0 ] && echo within || echo above ) $(echo "$r16" | tr '\n' ' ' | cut -c1-200)"

for cfg in "cpu:--backend cpu" "cuda32:--backend cuda" "cuda16:--backend cuda --precision fp16"; do
	tag=${cfg%%:*}
	args=${cfg#*:}
	"$ODET" run $M --head ssd300-nvidia --input $W/in.bin --output $W/det_$tag.bin $args >"$OUTD/det_$tag.log" 2>&1 || { echo "det $tag failed"; tail -5 "$OUTD/det_$tag.log"; }
done
$PY - $W/det_cpu.bin $W/det_cuda32.bin $W/det_cuda16.bin <<'EOF' | tee "$OUTD/det_cmp.log"
import sys
import numpy as np
sys.path.insert(0, "tests/gen")
import tensorfile
def load(p):
    try:
        return {n: t for n, t in tensorfile.read(p)}
    except Exception as e:
        print("cannot read", p, e); return None
def iou(a, b):
    x1 = np.maximum(a[0], b[0]); y1 = np.maximum(a[1], b[1]); x2 = np.minimum(a[2], b[2]); y2 = np.minimum(a[3], b[3])
    i = max(0, x2 - x1) * max(0, y2 - y1)
    u = (a[2]-a[0])*(a[3]-a[1]) + (b[2]-b[0])*(b[3]-b[1]) - i
    return i / u if u > 0 else 0
ref = load(sys.argv[1])
for p in sys.argv[2:]:
    o = load(p)
    if ref is None or o is None:
        print(p, "missing"); continue
    tot = agree = 0
    for b in range(ref["det_count"].shape[0]):
        n = int(ref["det_count"][b]); m = int(o["det_count"][b])
        for i in range(n):
            tot += 1
            for j in range(m):
                if o["det_classes"][b, j] == ref["det_classes"][b, i] and iou(o["det_boxes"][b, j], ref["det_boxes"][b, i]) > 0.9 and abs(o["det_scores"][b, j] - ref["det_scores"][b, i]) < 0.02:
                    agree += 1; break
    print("%s: %d of %d CPU detections matched (class, IoU>0.9, |dscore|<0.02); counts %s vs %s" % (p.split("/")[-1], agree, tot, list(ref["det_count"]), list(o["det_count"])))
EOF
row "detections: $(tr '\n' ' ' < "$OUTD/det_cmp.log" | cut -c1-300)"

for p in fp32 fp16; do
	"$ODET" build $M -o $W/b8_$p.plan --backend cuda --precision $p --batch 8 --head ssd300-nvidia -v >"$OUTD/build_$p.log" 2>&1 || tail -5 "$OUTD/build_$p.log"
	grep -E "arena|time:" "$OUTD/build_$p.log"
	"$ODET" bench $W/b8_$p.plan --duration 2 --streams 2 $( [ $p = fp16 ] && echo --profile ) >"$OUTD/bench_$p.log" 2>&1
	tail -60 "$OUTD/bench_$p.log" | head -60
	row "bench ssd300_r50/2 b8 $p: $(grep '^{' "$OUTD/bench_$p.log" | cut -c1-400)"
done
echo
echo "================ summary"
for r in "${SUMMARY[@]}"; do echo "$r"; done
[ -n "${OUT:-}" ] && tar -czf "$OUT/cuda_check_logs.tgz" -C $W logs
exit 0
