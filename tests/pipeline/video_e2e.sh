#!/bin/sh
# video_e2e.sh ODET MODEL SAMPLES VTEST COMPARE_PY — `odet video` end to end on the CPU with the
# TF.js NanoDet model: clips generated here with ffmpeg from Debian's darknet photos (a pan
# across each photo, so objects move: H.264 in mp4, MJPEG in avi, MPEG-4 in mkv) and the first
# frames of opencv-doc's vtest.avi. Checks: frame counts; each frame's detections equal those
# of `odet detect` on the same frames extracted as PNG (same class, IoU > 0.9, >= 98%); bad
# input (a missing file, a file that is no video, a file without a video stream, a truncated
# file, garbage in the middle of a stream) reported by name while the other sources complete;
# every JSON line parses. Never commits a video: everything is made in a temporary folder.
set -u
ODET=$1 MODEL=$2 SAMPLES=$3 VTEST=$4 CMP=$5
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { if eval "$1"; then ok; else bad "$2"; fi; }
FF="ffmpeg -v error -nostdin -y"

# --- clips: 20 frames at 10 fps, a 480x360 window panning across the photo
pan() { # photo codec-args out
	$FF -loop 1 -framerate 10 -i "$SAMPLES/$1" -vf "scale=640:-2,crop=480:360:'min(in_w-480,t*60)':'min(in_h-360,t*20)',format=yuv420p" \
		-frames:v 20 $2 "$T/$3"
}
pan dog.jpg "-c:v libx264 -preset veryfast" dog.mp4
pan horses.jpg "-c:v mjpeg -q:v 3 -pix_fmt yuvj420p" horses.avi
pan person.jpg "-c:v mpeg4 -q:v 3" person.mkv
$FF -i "$VTEST" -frames:v 40 -c copy "$T/vtest40.avi"
for c in dog.mp4 horses.avi person.mkv vtest40.avi; do
	check "[ -s '$T/$c' ]" "clip $c not generated"
done

# --- four good sources in one run, batch 4: frame counts and detections against odet detect
"$ODET" video "$MODEL" "$T/dog.mp4" "$T/horses.avi" "$T/person.mkv" "$T/vtest40.avi" --batch 4 --json "$T/v.jsonl" \
	--quiet --save-video --out "$T/out" 2>"$T/v.err"
rc=$?
check "[ $rc -eq 0 ]" "odet video on good clips: exit $rc ($(cat "$T/v.err"))"
# --save-video: one annotated video per source, every frame in it
for c in dog:20 horses:20 person:20 vtest40:40; do
	f="$T/out/${c%%:*}.mp4"
	n=$(ffprobe -v error -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$f" 2>/dev/null)
	check "[ '$n' = '${c##*:}' ]" "$f: $n frames, expected ${c##*:}"
done
i=0
for c in dog.mp4 horses.avi person.mkv vtest40.avi; do
	n=20
	[ "$c" = vtest40.avi ] && n=40
	mkdir -p "$T/f$i"
	$FF -i "$T/$c" -start_number 0 "$T/f$i/%06d.png"
	"$ODET" detect "$MODEL" "$T/f$i" --json "$T/d$i.json" --no-draw --quiet --score 0.3 2>/dev/null
	check "/usr/bin/python3 '$CMP' '$T/v.jsonl' $i $n '$T/d$i.json'" "source $i ($c): video and image detections differ"
	i=$((i + 1))
done
# tracks: the dog pans slowly, so its track id stays the same over the clip
check "/usr/bin/python3 -c \"
import json,sys
ids={}
for l in open('$T/v.jsonl'):
    r=json.loads(l)
    if r['source']==0:
        for d in r['detections']:
            if d['label']=='dog': ids.setdefault(d['track'],0); ids[d['track']]+=1
sys.exit(0 if ids and max(ids.values())>=18 else 1)
\"" "the dog's track id changed along the clip"

# --- bad input among good sources: each named, the good one complete, exit 2
printf 'not a video at all' >"$T/text.mp4"
$FF -f lavfi -i "sine=frequency=440:duration=1" "$T/audio.wav"
head -c 60000 "$T/person.mkv" >"$T/trunc.mkv"
# 3,000 seeded random bytes in the middle of an H.264 transport stream (keyframe every 5 frames)
pan dog.jpg "-c:v libx264 -preset veryfast -g 5 -frames:v 40" dog40.ts
/usr/bin/python3 -c "
import random,sys
random.seed(16); b=bytearray(open(sys.argv[1],'rb').read()); m=len(b)//2
b[m:m+3000]=bytes(random.randrange(256) for _ in range(3000)); open(sys.argv[2],'wb').write(b)
" "$T/dog40.ts" "$T/garbage.ts"
"$ODET" video "$MODEL" "$T/missing.mp4" "$T/text.mp4" "$T/audio.wav" "$T/trunc.mkv" "$T/garbage.ts" "$T/dog.mp4" \
	--json "$T/b.jsonl" 2>"$T/b.err"
rc=$?
check "[ $rc -eq 2 ]" "bad sources: exit $rc, expected 2"
check "grep -q 'missing.mp4.*No such file' '$T/b.err'" "missing file not reported: $(cat "$T/b.err")"
check "grep -q 'text.mp4: cannot open as a video' '$T/b.err'" "text file not reported"
check "grep -q 'audio.wav: no video stream' '$T/b.err'" "audio-only file not reported"
check "grep -q 'dog.mp4: .*20 decoded, 20 inferred, 0 dropped, 0 corrupt' '$T/b.err'" "good source incomplete"
check "/usr/bin/python3 -c \"
import json,sys
n={}
for l in open('$T/b.jsonl'):
    r=json.loads(l); n[r['name'].split('/')[-1]]=n.get(r['name'].split('/')[-1],0)+1
print(n)
sys.exit(0 if n.get('dog.mp4')==20 and 0<n.get('trunc.mkv',0)<20 and 30<=n.get('garbage.ts',0)<40 else 1)
\" >'$T/counts'" "frames of the bad sources: $(cat "$T/counts" 2>/dev/null)"
check "grep -q 'trunc.mkv: ended at .* (truncated?)' '$T/b.err'" "truncation not reported"
# every frame of the damaged stream is either decoded or counted corrupt; decoding resumed after it
check "/usr/bin/python3 -c \"
import re,sys
m=re.search(r'garbage.ts: .* (\\d+) decoded, .* (\\d+) corrupt', open('$T/b.err').read())
sys.exit(0 if m and int(m.group(2))>0 and int(m.group(1))+int(m.group(2))==40 else 1)
\"" \
	"garbage not counted: $(grep garbage "$T/b.err")"

# --- Ctrl-C: once frames flow, SIGINT stops the run; the JSON lines file is complete line by line
"$ODET" video "$MODEL" "$VTEST" --json "$T/i.jsonl" --quiet 2>"$T/i.err" &
pid=$!
k=0
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }
while [ $k -lt 300 ] && [ "$(lines "$T/i.jsonl")" -lt 3 ]; do sleep 0.2; k=$((k + 1)); done
kill -INT $pid
wait $pid
rc=$?
check "[ $rc -eq 1 ] && grep -q interrupted '$T/i.err'" "Ctrl-C: exit $rc, $(tail -1 "$T/i.err")"
check "/usr/bin/python3 -c \"
import json,sys
n=[json.loads(l)['frame'] for l in open('$T/i.jsonl')]
sys.exit(0 if 3<=len(n)<795 and n==list(range(len(n))) else 1)
\"" "Ctrl-C: the JSON lines are not complete frames 0..k"

# --- usage errors
"$ODET" video "$MODEL" 2>/dev/null
check "[ $? -eq 2 ]" "no source: not a usage error"
"$ODET" video "$MODEL" "$T/dog.mp4" --batch 0 2>/dev/null
check "[ $? -eq 2 ]" "--batch 0 accepted"
"$ODET" video "$MODEL" "$T/dog.mp4" --backend cpu --decode nvdec --json /dev/null 2>"$T/n.err"
rc=$?
check "[ $rc -eq 2 ] && grep -q 'NVDEC decode needs a CUDA pipeline' '$T/n.err'" "--decode nvdec on the CPU: exit $rc, $(cat "$T/n.err")"
"$ODET" video "$MODEL" "$T/dog.mp4" --decode vaapi 2>/dev/null
check "[ $? -eq 2 ]" "--decode vaapi accepted"

echo "video_e2e: $pass passed, $fail failed"
[ $fail -eq 0 ]
