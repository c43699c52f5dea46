#!/bin/sh
# fcw_e2e.sh FCW MODEL VTEST CALIB CHECK_PY — odet-fcw end to end on the CPU: the first 30
# frames of opencv-doc's vtest.avi with the TF.js NanoDet model and the committed calibration
# (apps/fcw/vtest.calib). Checks: exit 0; the event log and summary consistent with the
# per-frame math (check_fcw.py recomputes ground positions, line fits, TTC, zone and levels
# from the boxes and the summary's homography); the annotated frames (JPEG, frame + panel
# size) and the annotated video (every frame); a calibration with the horizon in the picture,
# a polygon zone and an ego-speed CSV; the bird's-eye form of the calibration; a truncated
# video with no detections; Ctrl-C; bad input: a missing video, a refused
# calibration (key and line named), an unknown class, usage errors (exit 2 each).
set -u
FCW=$1 MODEL=$2 VTEST=$3 CALIB=$4 CHECK=$5
BIRDSEYE=$(dirname "$CALIB")/vtest_birdseye.calib
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { if eval "$1"; then ok; else bad "$2"; fi; }
N=30

"$FCW" "$MODEL" "$VTEST" --calib "$CALIB" --backend cpu --max-frames $N --save-frames 10 --save-video \
	--out "$T/out" 2>"$T/err"
rc=$?
check "[ $rc -eq 0 ]" "odet-fcw on vtest.avi: exit $rc ($(tail -3 "$T/err"))"
check "grep -q 'residuals: rms' '$T/err'" "no calibration residuals printed"
check "grep -q '$N frames' '$T/err'" "no summary line on stderr"
check "/usr/bin/python3 '$CHECK' '$T/out' $N" "events and summary inconsistent with the per-frame math"
# annotated frames: 0, 10, 20; the frame (768x576) with the panel (576 * 4 / 5 = 460) beside it
for f in 000000 000010 000020; do
	size=$(ffprobe -v error -show_entries stream=width,height -of csv=p=0 "$T/out/frames/$f.jpg" 2>/dev/null)
	check "[ '$size' = '1228,576' ]" "frames/$f.jpg: size '$size', expected 1228,576"
done
check "[ ! -e '$T/out/frames/000005.jpg' ] && [ \$(ls '$T/out/frames' | wc -l) -eq 3 ]" "--save-frames 10 wrote other frames"
n=$(ffprobe -v error -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$T/out/fcw.mp4" 2>/dev/null)
check "[ '$n' = '$N' ]" "fcw.mp4: $n frames, expected $N"
# a steeper (made-up) calibration puts the horizon inside the picture (v = 170): the van and
# whatever stands above it have no ground position; its zone is a polygon and the ego speed
# comes from a CSV (so new tracks close at the ego's speed); the same math holds
printf 'point 128 480 -4 2.5\npoint 640 480 4 2.5\npoint 450 250 4 12.5\npoint 318 250 -4 12.5\n' >"$T/steep.calib"
printf 'zone polygon -10 0 10 0 12 30 -12 30\n' >>"$T/steep.calib"
printf 'time_s,speed_mps\n0,0\n0.5,3\n' >"$T/speed.csv"
"$FCW" "$MODEL" "$VTEST" --calib "$T/steep.calib" --ego-speed-csv "$T/speed.csv" --backend cpu --max-frames 10 \
	--out "$T/steep" 2>"$T/es"
rc=$?
check "[ $rc -eq 0 ] && grep -q 'horizon: v = 17' '$T/es'" "steep calibration: exit $rc ($(tail -2 "$T/es"))"
check "/usr/bin/python3 '$CHECK' '$T/steep' 10" "steep calibration: events inconsistent with the per-frame math"
check "/usr/bin/python3 -c \"import json,sys; s=json.load(open('$T/steep/summary.json')); sys.exit(0 if s['above_horizon'] > 0 and s['above_horizon'] < s['objects'] and 'polygon' in s['zone'] else 1)\"" \
	"steep calibration: no object above the horizon"
check "grep -q '\"ego_speed\": 1.8000' '$T/steep/events.jsonl'" "the ego speed CSV is not interpolated (1.8 m/s at 0.3 s)"

# the bird's-eye form of the same calibration (apps/fcw/vtest_birdseye.calib): kx = ky = 20 and
# the same ground positions, object by object, as the ground-points form
"$FCW" --calib "$BIRDSEYE" --check >"$T/be" 2>&1
check "grep -q 'kx 20.0000 px/m across, ky 20.0000 px/m along' '$T/be'" "bird's-eye form: $(head -1 "$T/be")"
"$FCW" "$MODEL" "$VTEST" --calib "$BIRDSEYE" --backend cpu --max-frames 10 --out "$T/be_out" --quiet 2>"$T/ebe"
check "[ $? -eq 0 ] && /usr/bin/python3 '$CHECK' '$T/be_out' 10 >/dev/null" "bird's-eye form: run or consistency failed"
check "/usr/bin/python3 -c \"
import json, sys
a = [json.loads(l) for l in open('$T/out/events.jsonl') if json.loads(l)['frame'] < 10]
b = [json.loads(l) for l in open('$T/be_out/events.jsonl')]
ok = len(a) == len(b) > 0 and all(p['box'] == q['box'] and abs(p['x'] - q['x']) < 2e-3 and abs(p['y'] - q['y']) < 2e-3 and p['level'] == q['level'] for p, q in zip(a, b))
sys.exit(0 if ok else 1)
\"" "bird's-eye form: ground positions differ from the ground-points form"

# a video that ends early (the first 400 kB of vtest.avi), and a class the scene does not hold
# (frames without detections): the frames read are reported, an empty event log, exit 0
head -c 400000 "$VTEST" >"$T/trunc.avi"
"$FCW" "$MODEL" "$T/trunc.avi" --calib "$CALIB" --classes bus --backend cpu --out "$T/tr" 2>"$T/etr"
rc=$?
check "[ $rc -eq 0 ] && grep -q 'trunc.avi: ended after' '$T/etr'" "truncated video: exit $rc ($(tail -2 "$T/etr"))"
check "[ -f '$T/tr/events.jsonl' ] && [ ! -s '$T/tr/events.jsonl' ] && /usr/bin/python3 -c \"import json,sys; s=json.load(open('$T/tr/summary.json')); sys.exit(0 if 0 < s['frames'] < 795 and s['objects'] == 0 else 1)\"" \
	"truncated video without detections: summary or events wrong"

# Ctrl-C: exit 1, every line written is a complete JSON object, the summary counts them
"$FCW" "$MODEL" "$VTEST" --calib "$CALIB" --backend cpu --out "$T/int" --quiet 2>"$T/eint" &
pid=$!
i=0 # until the first events reach the file (the handler is installed by then), at most 120 s
while [ ! -s "$T/int/events.jsonl" ] && [ $i -lt 240 ]; do sleep 0.5; i=$((i + 1)); done
kill -INT $pid
wait $pid
rc=$?
check "[ $rc -eq 1 ] && grep -q interrupted '$T/eint'" "Ctrl-C: exit $rc ($(tail -1 "$T/eint"))"
check "/usr/bin/python3 -c \"
import json, sys
L = [json.loads(l) for l in open('$T/int/events.jsonl')]
s = json.load(open('$T/int/summary.json'))
sys.exit(0 if 0 < s['frames'] < 795 and s['objects'] == len(L) else 1)
\"" "Ctrl-C: incomplete event log or summary"

# --- bad input
"$FCW" "$MODEL" "$T/missing.avi" --calib "$CALIB" --backend cpu --out "$T/o2" 2>"$T/e2"
rc=$?
check "[ $rc -eq 2 ] && grep -q 'missing.avi' '$T/e2'" "missing video: exit $rc ($(tail -1 "$T/e2"))"
printf 'point 128 480 -4 2.5\npoint 640 480 4 2.5\npoint 542 200 4\n' >"$T/bad.calib"
"$FCW" "$MODEL" "$VTEST" --calib "$T/bad.calib" --out "$T/o3" 2>"$T/e3"
rc=$?
check "[ $rc -eq 2 ] && grep -q 'bad.calib:3: key .point. expects 4 numbers' '$T/e3'" "bad calibration: exit $rc ($(cat "$T/e3"))"
check "[ ! -e '$T/o3' ]" "a refused calibration still created outputs"
printf 'point 128 480 -4 2.5\npoint 640 480 4 2.5\npoint 384 480 0 12\npoint 226 200 -4 12.5\n' >"$T/flat.calib"
"$FCW" --calib "$T/flat.calib" --check >/dev/null 2>"$T/e4"
rc=$?
check "[ $rc -eq 2 ] && grep -q 'collinear' '$T/e4'" "collinear calibration: exit $rc ($(cat "$T/e4"))"
"$FCW" --calib "$CALIB" --check >"$T/c5" 2>&1
rc=$?
check "[ $rc -eq 0 ] && grep -q 'residuals' '$T/c5'" "--check on the committed calibration: exit $rc"
"$FCW" "$MODEL" "$VTEST" --calib "$CALIB" --classes person,unicorn --backend cpu --out "$T/o6" 2>"$T/e6"
rc=$?
check "[ $rc -eq 2 ] && grep -q unicorn '$T/e6'" "unknown class: exit $rc"
"$FCW" "$MODEL" 2>/dev/null
check "[ $? -eq 2 ]" "missing arguments: not exit 2"
"$FCW" "$MODEL" "$VTEST" --calib "$CALIB" --score 2 2>/dev/null
check "[ $? -eq 2 ]" "--score 2: not exit 2"

echo "fcw_e2e: $pass passed, $fail failed"
[ $fail -eq 0 ]
