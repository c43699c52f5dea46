#!/bin/bash
# final device run: correctness (cuda_check.sh), then bench/peers.py, then batch-1 latency and graph/no-graph
cd "$(dirname "$0")/repo"
export PYTHONUNBUFFERED=1
export LD_LIBRARY_PATH="$(cd .. && pwd):/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
timeout 150 bash bench/cuda_check.sh .. > $OUT/cuda_check.log 2>&1
sed -n '/================ summary/,$p' $OUT/cuda_check.log | cut -c1-400
mkdir -p /tmp/peers
timeout 330 python3 bench/peers.py --odet ../odet --batches 1,8,64,256 --runs 30 --duration 2 --out /tmp/peers --md /tmp/peers/BENCH.md > $OUT/peers_stdout.log 2>&1
grep -iE "fail|error|Traceback" $OUT/peers_stdout.log | head -20 | cut -c1-300; cat /tmp/peers/peers_table.md
O=../odet
for a in "b1_e2e.plan --streams 1" "b64_net.plan --no-graph" "b64_e2e.plan --streams 1" "b256_net.plan --streams 2"; do
  [ -f /tmp/peers/${a%% *} ] && timeout 25 $O bench /tmp/peers/$a --duration 2 2>&1 | grep -E "^(model|throughput|latency|  H2D|  compute|  D2H)" | cut -c1-200
done
cd /tmp/peers && tar czf $OUT/peers.tgz peers.log peers_table.md peers.json BENCH.md 2>/dev/null
grep -A45 "^profile:" /tmp/peers/peers.log | head -60 > $OUT/profile_b64.txt; head -c 2500 $OUT/profile_b64.txt
