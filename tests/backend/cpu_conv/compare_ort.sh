#!/bin/sh
# compare_ort.sh — odet's CPU Conv (bench_conv, auto algorithm) against ONNX Runtime (ort_conv.js)
# on the same layer shapes, alternating ROUNDS times; per layer the best time of all rounds.
#   tests/backend/cpu_conv/compare_ort.sh BUILD_DIR [threads] [batch] [reps] [rounds]
# Needs /usr/bin/python3 with onnx and <repo>/.cache/node (scripts/deps.sh). Not run by ctest.
set -e
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
build=${1:?build dir}
threads=${2:-2}
batch=${3:-1}
reps=${4:-20}
rounds=${5:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 "$here/ort_conv.py" "$tmp" "$batch" >/dev/null
i=0
while [ $i -lt "$rounds" ]; do
	NODE_PATH="$repo/.cache/node/node_modules" node "$here/ort_conv.js" "$tmp" "$threads" "$reps" >>"$tmp/ort.txt"
	"$build/tests/backend/cpu_conv/bench_conv" "$threads" "$batch" 0 "$reps" >>"$tmp/odet.txt"
	"$build/tests/backend/cpu_conv/bench_conv" "$threads" "$batch" pool "$reps" >>"$tmp/odet.txt"
	i=$((i + 1))
done
awk -v threads="$threads" -v batch="$batch" '
FNR == 1 { file++ }
file == 1 && NF == 3 && $3 == "ms" { if (!($1 in ort) || $2 < ort[$1]) ort[$1] = $2; next }
file == 2 && /^maxpool/ { v = $(NF - 1); if (!("maxpool" in odet) || v < odet["maxpool"]) odet["maxpool"] = v; next }
file == 2 && NF == 4 && $1 != "layer" && $1 != "total" { if (!($1 in odet) || $3 < odet[$1]) odet[$1] = $3; if (!($1 in seen)) { seen[$1] = 1; order[n++] = $1 } }
END {
	printf "threads %s, batch %s: best ms per layer\n%-10s %9s %9s %7s\n", threads, batch, "layer", "ORT", "odet", "ORT/odet"
	for (i = 0; i < n; i++) { k = order[i]; printf "%-10s %9.3f %9.3f %7.2f\n", k, ort[k], odet[k], ort[k] / odet[k]; to += ort[k]; tq += odet[k] }
	printf "%-10s %9.3f %9.3f %7.2f\n", "conv total", to, tq, to / tq
	printf "%-10s %9.3f %9.3f %7.2f\n", "maxpool", ort["maxpool"], odet["maxpool"], ort["maxpool"] / odet["maxpool"]
}' "$tmp/ort.txt" "$tmp/odet.txt"
