#!/bin/sh
# bench/queue.sh ODET PLAN LIST [ROUNDS] — the Redis queue's cost per job (docs/queue.md):
# `odet detect PLAN @LIST` (the pipeline called directly) against one `odet worker PLAN` fed
# the same images through a local redis-server (no persistence): the job stream is filled
# first (`odet submit`, not timed), then the worker drains it; its busy time (first job read to
# last result written and acknowledged) against detect's run time gives the overhead per job.
# Rounds alternate direct and queue runs; medians printed. ODET_ARGS adds options to both
# (e.g. "--backend cuda"); WORKER_ARGS to the worker only (e.g. "--batch 256").
# REDIS_SERVER / REDIS_CLI name the binaries (default: on PATH).
set -eu
ODET=$1
PLAN=$2
LIST=$3
ROUNDS=${4:-3}
REDIS=${REDIS_SERVER:-redis-server}
ODET_ARGS=${ODET_ARGS:-}
WORKER_ARGS=${WORKER_ARGS:-}
tmp=$(mktemp -d)
port=$((20000 + $$ % 20000))
url=redis://127.0.0.1:$port
"$REDIS" --port "$port" --bind 127.0.0.1 --dir "$tmp" --save "" --appendonly no --daemonize yes \
	--logfile "$tmp/redis.log" --pidfile "$tmp/redis.pid"
trap 'kill "$(cat "$tmp/redis.pid")" 2>/dev/null; rm -rf "$tmp"' EXIT
sleep 0.5
N=$(grep -c . "$LIST")
echo "queue bench: $N jobs, plan $PLAN, $ROUNDS rounds, $(nproc) cores, redis $("$REDIS" --version | cut -d' ' -f3)"
: >"$tmp/direct" && : >"$tmp/queue"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	# shellcheck disable=SC2086
	"$ODET" detect "$PLAN" "@$LIST" --no-draw --quiet --json "$tmp/d.json" $ODET_ARGS 2>"$tmp/d.log"
	ds=$(sed -n 's/.* detections in \([0-9.]*\) s .*/\1/p' "$tmp/d.log")
	"$ODET" submit --redis "$url" "@$LIST" --job-prefix "r$r" --max-in-flight 100000000 --quiet 2>"$tmp/s.log"
	# shellcheck disable=SC2086
	"$ODET" worker "$PLAN" --redis "$url" --idle-exit-s 0.5 --metrics-s 0 $ODET_ARGS $WORKER_ARGS 2>"$tmp/w.log"
	qs=$(sed -n 's/.*(\([0-9.]*\) s busy).*/\1/p' "$tmp/w.log")
	done_jobs=$(sed -n 's/.*busy): \([0-9]*\) results.*/\1/p' "$tmp/w.log")
	[ "$done_jobs" = "$N" ] || { echo "worker wrote $done_jobs results of $N"; cat "$tmp/w.log"; exit 1; }
	awk -v r="$r" -v n="$N" -v d="$ds" -v q="$qs" 'BEGIN {printf "round %d: direct %.3f s (%.1f img/s), queue %.3f s (%.1f jobs/s): %.4f ms/job\n", r, d, n / d, q, n / q, (q - d) * 1000 / n}'
	echo "$ds" >>"$tmp/direct"
	echo "$qs" >>"$tmp/queue"
	r=$((r + 1))
done
med() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
d=$(med "$tmp/direct")
q=$(med "$tmp/queue")
awk -v n="$N" -v d="$d" -v q="$q" 'BEGIN {printf "median: direct %.3f s, queue %.3f s over %d jobs: overhead %.4f ms/job, the queue at %.1f%% of direct\n", d, q, n, (q - d) * 1000 / n, 100 * d / q}'
