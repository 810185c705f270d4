#!/usr/bin/env bash
# GNU parallel across machines (or cores): one shard per job, then merge.
#   scripts/parallel_sweep.sh configs/sweeps/lecture-table.json results 4 [--sshloginfile hosts]
# Each job gets 1 thread by default: shards running side by side on one machine must not
# oversubscribe its cores (OpenMP threads spin-wait and every shard slows down).
set -euo pipefail
grid=${1:?usage: parallel_sweep.sh GRID.json OUTDIR SHARDS [parallel options]}
out=${2:?}
shards=${3:?}
shift 3
mkdir -p "$out"
seq 0 $((shards - 1)) | parallel --halt now,fail=1 "$@" \
  build/diffbench sweep --grid "$grid" --threads 1 --shard {}/"$shards" --jsonl "$out"/shard-{}.jsonl --quiet
build/diffbench merge "$out"/shard-*.jsonl -o "$out"/all.json
