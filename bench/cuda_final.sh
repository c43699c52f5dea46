#!/bin/bash
# final device run: correctness (cuda_check.sh), then bench/peers.py (three models)
cd "$(dirname "$0")/repo"
export PYTHONUNBUFFERED=1
export LD_LIBRARY_PATH="$(cd .. && pwd):/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
timeout 150 bash bench/cuda_check.sh .. > $OUT/cuda_check.log 2>&1
sed -n '/================ summary/,$p' $OUT/cuda_check.log | cut -c1-400
mkdir -p /tmp/peers
timeout 480 python3 bench/peers.py --odet ../odet --runs 30 --duration 2 --time-budget 400 --batches-for ssd300_vgg16=1,32 --batches-for retinanet_r50_fpn=1,32 --out /tmp/peers --md /tmp/peers/BENCH.md > $OUT/peers_stdout.log 2>&1
grep -iE "fail|error|Traceback" $OUT/peers_stdout.log | head -20 | cut -c1-300; cat /tmp/peers/peers_table.md
# (peers.py deletes its plans after benching them; batch-1 latency: odet bench PLAN --streams 1)
cd /tmp/peers && tar czf $OUT/peers.tgz peers.log peers_table.md peers.json BENCH.md 2>/dev/null
grep -A45 "^profile:" /tmp/peers/peers.log | head -60 > $OUT/profile_b64.txt; head -c 2500 $OUT/profile_b64.txt
