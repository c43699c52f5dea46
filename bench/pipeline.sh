#!/bin/bash
# pipeline.sh — odet detect end to end (files -> nvJPEG -> letterbox -> fp16 SSD300-R50 + head -> COCO JSON)
# against the PyTorch peer of the same job, on the device machine. Run from the repository root with a
# carried build in DIR (odet, libodet.so*) and a folder of photos (the darknet sample photos, + any others):
#
#   bash bench/pipeline.sh DIR PHOTOS [N]            (N JPEGs, default 2048; step h needs N >= 65)
#   env: CENTERNET=.../centernet.json NANODET=.../nanodet.json (step g; skipped when unset)
#        DETECT_FLAGS (extra odet detect options for the timed runs of step d, e.g. --slots 4),
#        PYTHON (default python3), BUDGET (seconds for the whole script, default 540), KEEP=1 (keep /tmp/pipe)
#
# a. bench/make_jpegs.py PHOTOS -> /tmp/pipe/jpegs: N distinct 640x480 JPEGs, quality 90, 4:2:0
# b. bench/pipeline_peer.py --also-export --export-only: the seeded SSD300-R50 (peers.py's network), fp32 ONNX
# c. odet build -> fp16 CUDA plan with head ssd300-nvidia, batch 64 (the batch-1 plan is built before f)
# d. odet detect PLAN64 jpegs --backend cuda --no-draw --quiet --json --stats, 3 times: median images/s;
#    the same with --devices 0,0 (two engines on one GPU): its JSON must equal the single-device JSON
# e. bench/pipeline_peer.py (3 runs, + one synchronized pass for the stage split): median images/s;
#    odet/peer ratio; agreement of odet's and the peer's detections (bench/compare_dets.py)
# f. odet bench PLAN1 --image jpegs/000000000001.jpg --duration 5: batch-1 end-to-end latency
# g. TF.js CenterNet / NanoDet: odet detect PHOTOS on the CPU and on CUDA (fp32, fp16) -> compare_dets.py
# h. bad input: 63 good JPEGs + truncated + zero-byte + text named x.jpg + header claiming 65000x65000,
#    odet detect --batch 64: expect exit 2, each bad file named on stderr, the 63 images' detections
#    (equal to those of run d for the same images), stats images 63 / failed 4
# e2. odet and the peer on the first 256 JPEGs with --score 0.05 (many more detections) -> compare_dets.py
# Every step runs under `timeout` (its own limit, cut to what is left of BUDGET) with stdout/stderr in
# /tmp/pipe/logs/<step>.out/.err; the exact commands are in logs/commands.txt. At the end a summary table
# (figure | value | batch | GPU | command) is printed and written to logs/summary.md; with $OUT set,
# $OUT/pipeline_summary.md, $OUT/pipeline_summary.jsonl (one JSON object per row) and $OUT/pipeline_logs.tgz
# (logs, stats files, the score >= 0.3 result JSONs).
set -u
usage="usage: bash bench/pipeline.sh DIR PHOTOS [N]"
DIR=${1:?$usage}
PHOTOS=${2:?$usage}
N=${3:-2048}
DIR=$(cd "$DIR" && pwd) || exit 1
PHOTOS=$(cd "$PHOTOS" && pwd) || exit 1
ODET=$DIR/odet
export LD_LIBRARY_PATH="$DIR:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}
BUDGET=${BUDGET:-540}
DETECT_FLAGS=${DETECT_FLAGS:-}
T_START=$(date +%s)
W=/tmp/pipe
L=$W/logs
[ "${KEEP:-0}" = 1 ] || rm -rf "$W"
mkdir -p "$L"
JP=$W/jpegs
ONNX=$W/ssd300_r50.onnx
P64=$W/ssd300_r50_fp16_b64.plan
P1=$W/ssd300_r50_fp16_b1.plan
GPU=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
GPU=${GPU:-unknown GPU}
declare -a SUMMARY JSONROWS

log() { echo "$*" | tee -a "$L/pipeline.log"; }
# q ARGS — the command as one line, shell-quoted only where needed
q() {
	local a out=""
	for a in "$@"; do
		if [[ $a =~ ^[A-Za-z0-9_./:,=@+%-]+$ ]]; then out+="$a "; else out+="$(printf '%q' "$a") "; fi
	done
	echo "${out% }"
}
left() { echo $((BUDGET - ($(date +%s) - T_START))); }

# fig WHAT VALUE BATCH COMMAND — one summary row (also kept as JSON)
fig() {
	SUMMARY+=("| $1 | $2 | $3 | $GPU | \`$4\` |")
	JSONROWS+=("$($PY -c 'import json,sys; print(json.dumps(dict(zip(["figure","value","batch","gpu","command"], sys.argv[1:]))))' "$1" "$2" "$3" "$GPU" "$4")")
	log "## $1: $2 (batch $3) [$4]"
}

# step NAME LIMIT CMD... — run under timeout, stdout/stderr to logs; sets RC, SECS, CMD
step() {
	local name=$1 lim=$2 rem
	shift 2
	CMD=$(q "$@")
	rem=$(($(left) - 20))
	if [ "$rem" -lt 10 ]; then
		log "== $name: SKIPPED (time budget of $BUDGET s spent)"
		echo "# $name (skipped): $CMD" >>"$L/commands.txt"
		RC=125
		SECS=0
		return 125
	fi
	[ "$lim" -gt "$rem" ] && lim=$rem
	echo "$CMD" >>"$L/commands.txt"
	log "== $name (limit ${lim}s): $CMD"
	local t0 t1
	t0=$(date +%s.%N)
	timeout -k 10 "$lim" "$@" >"$L/$name.out" 2>"$L/$name.err"
	RC=$?
	t1=$(date +%s.%N)
	SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	[ $RC = 124 ] || [ $RC = 137 ] && log "   TIMED OUT after ${lim}s"
	log "   rc=$RC in ${SECS}s"
	tail -n 3 "$L/$name.out" | cut -c1-300 | sed 's/^/   | /'
	tail -n 3 "$L/$name.err" | cut -c1-300 | sed 's/^/   ! /'
	return $RC
}

# jkey FILE KEY — a top-level key of a JSON object file (or of the last JSON line of a text file)
jkey() {
	$PY - "$1" "$2" <<'EOF' 2>/dev/null
import json, sys
try:
    txt = open(sys.argv[1]).read()
    try:
        o = json.loads(txt)
    except ValueError:
        o = [json.loads(l) for l in txt.splitlines() if l.strip().startswith("{")][-1]
    v = o
    for k in sys.argv[2].split("."):
        v = v[k]
    print(json.dumps(v) if isinstance(v, (dict, list)) else v)
except Exception:
    print("")
EOF
}

# rate STATS ERR — images/s of one odet detect run: --stats file, else its stderr summary line
rate() {
	local r
	r=$(jkey "$1" images_per_s)
	if [ -z "$r" ]; then
		r=$(grep -oE '\(([0-9.]+) img/s\)' "$2" 2>/dev/null | tail -1 | tr -d '()' | awk '{print $1}')
	fi
	echo "$r"
}

median() { printf '%s\n' "$@" | grep -E '^[0-9.]+$' | sort -g | awk '{v[NR]=$1} END { if (NR == 0) print ""; else if (NR % 2) print v[(NR+1)/2]; else printf "%.2f\n", (v[NR/2]+v[NR/2+1])/2 }'; }

log "pipeline.sh $(date -u '+%Y-%m-%d %H:%M UTC') on $GPU; DIR=$DIR PHOTOS=$PHOTOS N=$N BUDGET=${BUDGET}s"
log "repo $(git describe --always --dirty 2>/dev/null || echo '?'); $("$ODET" --version 2>&1 | head -1)"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv >"$L/nvidia-smi.txt" 2>&1
$PY -c 'import torch, torchvision; print("torch", torch.__version__, "torchvision", torchvision.__version__, "cuda", torch.version.cuda)' 2>&1 | tee -a "$L/pipeline.log"

# ---------------------------------------------------------------- a. JPEGs
step make_jpegs 120 $PY bench/make_jpegs.py "$PHOTOS" "$JP" --n "$N" --size 640x480 --quality 90 --seed 0
fig "a. JPEGs made (640x480 q90 4:2:0)" "$(tail -1 "$L/make_jpegs.out" | grep -oE '[0-9]+ JPEGs|[0-9]+ bytes' | tr '\n' ' ')(${SECS}s)" - "$CMD"
N_JPG=$(ls "$JP" 2>/dev/null | grep -c '\.jpg$')

# ---------------------------------------------------------------- b. ONNX export
step export 240 $PY bench/pipeline_peer.py --also-export "$ONNX" --export-only --model ssd300_r50
fig "b. ONNX export (seeded SSD300-R50, fp32)" "rc $RC, $(grep -oE '[0-9.]+ MB' "$L/export.out" | tail -1), ${SECS}s" - "$CMD"

# ---------------------------------------------------------------- c. plans
step build_b64 300 "$ODET" build "$ONNX" -o "$P64" --backend cuda --precision fp16 --batch 64 --head ssd300-nvidia
fig "c. odet build fp16 b64 (wall)" "rc $RC, ${SECS}s" 64 "$CMD"

# ---------------------------------------------------------------- d. odet detect
R=()
for k in 1 2 3; do
	step detect_$k 180 "$ODET" detect "$P64" "$JP" --backend cuda $DETECT_FLAGS --no-draw --quiet --json $W/odet.json --stats $W/stats_$k.json
	DCMD=$CMD
	R+=("$(rate $W/stats_$k.json "$L/detect_$k.err" | awk '{ if ($1 != "") printf "%.1f", $1 }')")
	log "   images/s: ${R[-1]}  stats: $(head -c 600 $W/stats_$k.json 2>/dev/null)"
done
ODET_IPS=$(median "${R[@]}")
fig "d. odet detect img/s (median of 3: ${R[*]})" "${ODET_IPS:-n/a} img/s" 64 "$DCMD"
[ -f $W/stats_1.json ] && fig "d. odet detect stats (run 1)" "images $(jkey $W/stats_1.json images), failed $(jkey $W/stats_1.json failed), detections $(jkey $W/stats_1.json detections), decode $(jkey $W/stats_1.json decode), stages_ms $(jkey $W/stats_1.json stages_ms)" 64 "$DCMD"
cp $W/stats_*.json "$L/" 2>/dev/null
[ -f $W/odet.json ] && cp $W/odet.json $W/odet_single.json

R2=()
for k in 1 2 3; do
	step detect_dev00_$k 180 "$ODET" detect "$P64" "$JP" --backend cuda $DETECT_FLAGS --devices 0,0 --no-draw --quiet --json $W/odet_dev00.json --stats $W/stats_dev00_$k.json
	D2CMD=$CMD
	R2+=("$(rate $W/stats_dev00_$k.json "$L/detect_dev00_$k.err" | awk '{ if ($1 != "") printf "%.1f", $1 }')")
	log "   images/s: ${R2[-1]}  stats: $(head -c 600 $W/stats_dev00_$k.json 2>/dev/null)"
done
cp $W/stats_dev00_*.json "$L/" 2>/dev/null
EQ=$($PY - $W/odet_single.json $W/odet_dev00.json <<'EOF' 2>&1
import json, sys
try:
    a, b = (sorted(json.dumps(r, sort_keys=True) for r in json.load(open(p))) for p in sys.argv[1:3])
except Exception as e:
    print("n/a (%s)" % e); sys.exit()
print("equal (%d records)" % len(a) if a == b else "DIFFERENT (%d vs %d records, %d in common)" % (len(a), len(b), len(set(a) & set(b))))
EOF
)
fig "d. --devices 0,0 img/s (median of 3: ${R2[*]})" "$(median "${R2[@]}") img/s" 64 "$D2CMD"
fig "d. --devices 0,0 JSON vs single-device JSON (sorted)" "$EQ" 64 "$D2CMD"
case "$EQ" in DIFFERENT*)
	$PY bench/compare_dets.py $W/odet_single.json $W/odet_dev00.json >"$L/cmp_dev00.out" 2>&1
	fig "d. --devices 0,0 vs single: agreement" "$(tail -1 "$L/cmp_dev00.out")" 64 "$(q $PY bench/compare_dets.py $W/odet_single.json $W/odet_dev00.json)" ;;
esac

# ---------------------------------------------------------------- e. PyTorch peer
step peer 330 $PY bench/pipeline_peer.py "$JP" --batch 64 --json $W/peer.json --runs 3 --model ssd300_r50 --stages
PEER_IPS=$(jkey "$L/peer.out" images_per_s)
fig "e. PyTorch peer img/s (median of $(jkey "$L/peer.out" runs))" "${PEER_IPS:-n/a} img/s (rc $RC)" 64 "$CMD"
grep "^pipeline_peer: stages" "$L/peer.out" | tail -1 | tee -a "$L/pipeline.log" | sed 's/^/   /'
RATIO=$(awk -v a="${ODET_IPS:-0}" -v b="${PEER_IPS:-0}" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "n/a" }')
fig "e. odet / PyTorch peer (img/s ratio)" "${RATIO}x" 64 "detect median / peer median"
if [ -f $W/peer.json ] && [ -f $W/odet_single.json ]; then
	$PY bench/compare_dets.py $W/odet_single.json $W/peer.json >"$L/cmp_odet_peer.out" 2>&1
	fig "e. odet vs peer detections (IoU>0.9, dscore<=0.02, score>=0.3)" "$(tail -1 "$L/cmp_odet_peer.out")" 64 "$(q $PY bench/compare_dets.py $W/odet_single.json $W/peer.json)"
	$PY bench/compare_dets.py $W/odet_single.json $W/peer.json --iou 0.5 --score-tol 0.05 --min-score 0.35 >"$L/cmp_odet_peer_loose.out" 2>&1
	fig "e. odet vs peer detections (IoU>0.5, dscore<=0.05, score>=0.35)" "$(tail -1 "$L/cmp_odet_peer_loose.out")" 64 "$(q $PY bench/compare_dets.py $W/odet_single.json $W/peer.json --iou 0.5 --score-tol 0.05 --min-score 0.35)"
fi

# ---------------------------------------------------------------- f. batch-1 latency (plan built here: d, e first)
step build_b1 240 "$ODET" build "$ONNX" -o "$P1" --backend cuda --precision fp16 --batch 1 --head ssd300-nvidia
fig "f. odet build fp16 b1 (wall)" "rc $RC, ${SECS}s" 1 "$CMD"
step latency 60 "$ODET" bench "$P1" --image "$JP/000000000001.jpg" --duration 5
LAT=$(jkey "$L/latency.out" latency_ms)
fig "f. batch-1 end-to-end latency ms (file -> detections; $(jkey "$L/latency.out" runs) runs)" "${LAT:-n/a}" 1 "$CMD"

# ---------------------------------------------------------------- g. TF.js models, CPU vs CUDA
for pair in "centernet:${CENTERNET:-}" "nanodet:${NANODET:-}"; do
	name=${pair%%:*}
	m=${pair#*:}
	if [ -z "$m" ] || [ ! -f "$m" ]; then
		fig "g. $name CPU vs CUDA" "skipped: ${name^^} unset or missing (${m:-unset})" - "-"
		continue
	fi
	step tfjs_${name}_cpu 180 "$ODET" detect "$m" "$PHOTOS" --backend cpu --no-draw --json $W/${name}_cpu.json
	CPUCMD=$CMD
	for prec in fp32 fp16; do
		step tfjs_${name}_cuda_$prec 180 "$ODET" detect "$m" "$PHOTOS" --backend cuda --precision $prec --no-draw --json $W/${name}_cuda_$prec.json
		$PY bench/compare_dets.py $W/${name}_cpu.json $W/${name}_cuda_$prec.json >"$L/cmp_${name}_$prec.out" 2>&1
		fig "g. $name CPU vs CUDA $prec agreement (IoU>0.9, dscore<=0.02, score>=0.3)" "$(tail -1 "$L/cmp_${name}_$prec.out")" 1 "$CPUCMD ; $CMD ; $(q $PY bench/compare_dets.py $W/${name}_cpu.json $W/${name}_cuda_$prec.json)"
	done
	cp $W/${name}_*.json "$L/" 2>/dev/null
done

# ---------------------------------------------------------------- h. bad input
if [ "$N_JPG" -lt 65 ]; then
	fig "h. bad input" "skipped: needs N >= 65 JPEGs (have $N_JPG)" 64 "-"
else
	B=$W/bad
	mkdir -p "$B"
	for i in $(seq 1 63); do cp "$JP/$(printf '%012d' "$i").jpg" "$B/" 2>/dev/null; done
	$PY - "$JP/000000000064.jpg" "$JP/000000000065.jpg" "$B" <<'EOF' 2>&1 | tee -a "$L/pipeline.log"
import os, sys
src1, src2, d = sys.argv[1:4]
data = open(src1, "rb").read()
open(os.path.join(d, "truncated.jpg"), "wb").write(data[: len(data) * 2 // 5])  # 40%: header + part of the scan
open(os.path.join(d, "empty.jpg"), "wb").close()
open(os.path.join(d, "x.jpg"), "w").write("this is a text file, not a JPEG\n")
j = bytearray(open(src2, "rb").read())
pos, done = 2, False
while pos + 4 <= len(j) and j[pos] == 0xFF:
    m = j[pos + 1]
    if m == 0xFF:  # fill byte
        pos += 1
        continue
    seg = (j[pos + 2] << 8) | j[pos + 3]
    if 0xC0 <= m <= 0xCF and m not in (0xC4, 0xC8, 0xCC):  # SOFn: length, precision, height, width
        old = ((j[pos + 5] << 8) | j[pos + 6], (j[pos + 7] << 8) | j[pos + 8])
        j[pos + 5:pos + 7] = (65000).to_bytes(2, "big")
        j[pos + 7:pos + 9] = (65000).to_bytes(2, "big")
        print("huge.jpg: SOF%d at %d: %dx%d (h x w) patched to 65000x65000" % (m - 0xC0, pos, old[0], old[1]))
        done = True
        break
    if m == 0xDA:
        break
    pos += 2 + seg
if not done:
    print("huge.jpg: no SOF marker found before the scan")
open(os.path.join(d, "huge.jpg"), "wb").write(bytes(j))
EOF
	log "bad folder: $(ls "$B" | wc -l) files ($(ls "$B" | grep -c '^0') good)"
	step bad 120 "$ODET" detect "$P64" "$B" --batch 64 --backend cuda --no-draw --json $W/bad.json --stats $W/stats_bad.json
	BADCMD=$CMD
	BADRC=$RC
	cp $W/stats_bad.json "$L/" 2>/dev/null
	NAMED=""
	for f in truncated.jpg empty.jpg x.jpg huge.jpg; do
		grep -q "$f" "$L/bad.err" && NAMED="$NAMED $f:named" || NAMED="$NAMED $f:NOT-named"
	done
	BADJ=$($PY - $W/bad.json $W/odet_single.json <<'EOF' 2>&1
import json, sys
try:
    bad = json.load(open(sys.argv[1]))
except Exception as e:
    print("no JSON (%s)" % e); sys.exit()
ids = {r["image_id"] for r in bad}
good = set(range(1, 64))
s = "%d records, %d images with detections, ids outside 1..63: %d" % (len(bad), len(ids), len(ids - good))
try:
    ref = [r for r in json.load(open(sys.argv[2])) if r["image_id"] in good]
    k = lambda rs: sorted(json.dumps(r, sort_keys=True) for r in rs)
    s += "; vs run d's detections of images 1..63: %s" % ("equal" if k(bad) == k(ref) else "DIFFERENT (%d vs %d records)" % (len(bad), len(ref)))
except Exception as e:
    s += "; no run-d JSON to compare (%s)" % e
print(s)
EOF
	)
	VERDICT=$([ "$BADRC" = 2 ] && echo "exit 2 as expected" || echo "exit $BADRC, EXPECTED 2")
	fig "h. bad input (63 good + 4 bad)" "$VERDICT;$NAMED; stats images $(jkey $W/stats_bad.json images) failed $(jkey $W/stats_bad.json failed); $BADJ" 64 "$BADCMD"
	grep -v '^[0-9]*\.jpg:' "$L/bad.err" | head -12 | cut -c1-200 | sed 's/^/   ! /'
fi

# ---------------------------------------------------------------- e2. odet vs peer at score 0.05 (more detections)
# A random-weight SSD scores few boxes >= 0.3, so run d/e's agreement rests on few detections: both
# pipelines again on the first 256 JPEGs, writing every detection >= 0.05 (untimed figures).
S256=$W/sub256
mkdir -p "$S256"
ls "$JP" | grep '\.jpg$' | head -256 | while read -r f; do cp "$JP/$f" "$S256/"; done
step detect_s005 120 "$ODET" detect "$P64" "$S256" --backend cuda --no-draw --quiet --score 0.05 --json $W/odet_s005.json
C1=$CMD
step peer_s005 150 $PY bench/pipeline_peer.py "$S256" --batch 64 --json $W/peer_s005.json --runs 1 --score 0.05 --model ssd300_r50
C2=$CMD
if [ -f $W/odet_s005.json ] && [ -f $W/peer_s005.json ]; then
	$PY bench/compare_dets.py $W/odet_s005.json $W/peer_s005.json --min-score 0.05 >"$L/cmp_odet_peer_s005.out" 2>&1
	fig "e2. odet vs peer detections, 256 images (IoU>0.9, dscore<=0.02, score>=0.05)" "$(tail -1 "$L/cmp_odet_peer_s005.out")" 64 "$C1 ; $C2 ; $(q $PY bench/compare_dets.py $W/odet_s005.json $W/peer_s005.json --min-score 0.05)"
else
	fig "e2. odet vs peer detections, 256 images, score>=0.05" "n/a (a JSON is missing)" 64 "$C1 ; $C2"
fi

# ---------------------------------------------------------------- summary
{
	echo "## odet detect pipeline — $(date -u '+%Y-%m-%d %H:%M UTC'), $GPU, N=$N_JPG JPEGs 640x480"
	echo
	echo "| figure | value | batch | GPU | command |"
	echo "| --- | --- | --- | --- | --- |"
	for r in "${SUMMARY[@]}"; do echo "$r"; done
} >"$L/summary.md"
printf '%s\n' "${JSONROWS[@]}" >"$L/summary.jsonl"
echo
echo "================ summary"
cat "$L/summary.md"
echo "(total $(( $(date +%s) - T_START ))s of a ${BUDGET}s budget; logs in $L)"
# the score >= 0.3 result files (small) go into the log tarball too
for f in odet_single.json odet_dev00.json peer.json bad.json; do
	[ -f "$W/$f" ] && [ "$(stat -c %s "$W/$f")" -lt 8000000 ] && cp "$W/$f" "$L/"
done
if [ -n "${OUT:-}" ]; then
	cp "$L/summary.md" "$OUT/pipeline_summary.md"
	cp "$L/summary.jsonl" "$OUT/pipeline_summary.jsonl"
	tar -czf "$OUT/pipeline_logs.tgz" -C "$W" logs
fi
exit 0
