#!/bin/bash
# int8.sh — INT8 on the GPU (issue 15): NanoDet calibrate / build --precision int8 / detect against the fp32
# CUDA engine and the CPU INT8 reference; SSD300-R50 (seeded, exported by bench/pipeline_peer.py) calibrated on
# 128 JPEGs, built INT8 at batch 64 and benched against fp16. Run from the repository root on the device machine:
#   bash bench/int8.sh DIR     (DIR: the carried build: odet, libodet.so*, models/nanodet.json, samples/*.jpg)
D=$(cd "${1:?usage: bash bench/int8.sh DIR (odet, libodet.so*, models/nanodet.json, samples/)}" && pwd)
export LD_LIBRARY_PATH=$D:/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
O=$D/odet; W=/tmp/q; mkdir -p $W/cal $W/eval; OUT=${OUT:-/tmp/q}; L=$OUT/int8_log.txt
nvidia-smi --query-gpu=name --format=csv,noheader | tee $L
S=$D/samples; cp $S/dog.jpg $S/horses.jpg $S/kite.jpg $W/cal/; cp $S/eagle.jpg $S/giraffe.jpg $S/person.jpg $W/eval/
M=$D/models/nanodet.json
t() { local s=$(date +%s.%N); "$@"; local rc=$?; echo "  [rc $rc, $(python3 -c "import time;print(round(time.time()-$s,2))") s] $*" | cut -c1-250 | tee -a $L; return $rc; }
cmpd() { python3 bench/compare_dets.py $1 $2 --iou 0.5 --score-tol 0.1 | tail -1 | sed "s/^/  $3: /" | tee -a $L; }
echo "== nanodet" | tee -a $L
t timeout 40 $O calibrate $M $W/cal -o $W/nd.calib --backend cuda --quiet 2>&1 | tail -2 | tee -a $L
t timeout 60 $O build $M -o $W/nd_i8.plan --backend cuda --precision int8 --calib $W/nd.calib -vv > $W/nd_build.txt 2>&1
echo "  QConv graph: $(grep -c '(QConv): graph engine' $W/nd_build.txt) legacy: $(grep -c '(QConv): legacy int8' $W/nd_build.txt)" | tee -a $L
grep "quantize:\|rror\|refus" $W/nd_build.txt | head -4 | cut -c1-300 | tee -a $L
grep "QConv): fused graph" $W/nd_build.txt | head -2 | cut -c1-300 | tee -a $L
cp $W/nd_build.txt $OUT/
t timeout 30 $O detect $W/nd_i8.plan $W/eval --no-draw --quiet --json $W/nd_i8.json 2>&1 | tail -1 | tee -a $L
t timeout 30 $O detect $M $W/eval --backend cuda --no-draw --quiet --json $W/nd_f32.json 2>&1 | tail -1 | tee -a $L
t timeout 30 $O build $M -o $W/nd_i8cpu.plan --backend cpu --precision int8 --calib $W/nd.calib > /dev/null 2>&1
t timeout 30 $O detect $W/nd_i8cpu.plan $W/eval --no-draw --quiet --json $W/nd_i8cpu.json 2>&1 | tail -1 | tee -a $L
cmpd $W/nd_f32.json $W/nd_i8.json "nanodet int8 cuda vs fp32 cuda"
cmpd $W/nd_i8cpu.json $W/nd_i8.json "nanodet int8 cuda vs int8 cpu reference"
echo "== ssd300_r50" | tee -a $L
t timeout 30 python3 bench/pipeline_peer.py --also-export $W/ssd.onnx --export-only --model ssd300_r50 > /dev/null 2>&1
t timeout 20 python3 bench/make_jpegs.py $S $W/calj --n 128 --size 640x480 --quality 90 --seed 1 > /dev/null 2>&1
t timeout 40 $O calibrate $W/ssd.onnx $W/calj -o $W/ssd.calib --backend cuda --head ssd300-nvidia --batch 16 --quiet 2>&1 | tail -1 | tee -a $L
t timeout 80 $O build $W/ssd.onnx -o $W/ssd_i8.plan --backend cuda --precision int8 --calib $W/ssd.calib --batch 64 --head ssd300-nvidia -vv > $W/ssd_build.txt 2>&1
echo "  QConv graph: $(grep -c '(QConv): graph engine' $W/ssd_build.txt) legacy: $(grep -c '(QConv): legacy int8' $W/ssd_build.txt)" | tee -a $L
grep "quantize:\|engine built\|rror" $W/ssd_build.txt | head -4 | cut -c1-300 | tee -a $L
cp $W/ssd_build.txt $OUT/
[ -f $W/ssd_i8.plan ] && t timeout 20 $O bench $W/ssd_i8.plan --duration 3 --streams 2 2>&1 | tail -3 | tee -a $L
t timeout 60 $O build $W/ssd.onnx -o $W/ssd_f16.plan --backend cuda --precision fp16 --batch 64 --head ssd300-nvidia > /dev/null 2>&1
[ -f $W/ssd_f16.plan ] && t timeout 20 $O bench $W/ssd_f16.plan --duration 3 --streams 2 2>&1 | tail -3 | tee -a $L
