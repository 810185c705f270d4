#!/usr/bin/env bash
# Slurm job array: each task runs one shard of a sweep; a final job merges them.
#   sbatch --array=0-7 scripts/slurm_sweep.sh configs/sweeps/steps-vs-quality.json results
#   # when all tasks are done:
#   build/diffbench merge results/shard-*.jsonl -o results/all.json
#SBATCH --job-name=diffbench-sweep
#SBATCH --cpus-per-task=8
#SBATCH --time=01:00:00
set -euo pipefail
grid=${1:?usage: slurm_sweep.sh GRID.json OUTDIR}
out=${2:?usage: slurm_sweep.sh GRID.json OUTDIR}
mkdir -p "$out"
shards=${SLURM_ARRAY_TASK_COUNT:?run as a job array: sbatch --array=0-N}
index=${SLURM_ARRAY_TASK_ID:?run as a job array}
# --resume makes a requeued task continue where it stopped.
file="$out/shard-$index.jsonl"
touch "$file"
exec build/diffbench sweep --grid "$grid" --threads "${SLURM_CPUS_PER_TASK:-1}" \
  --shard "$index/$shards" --jsonl "$file" $( [ -s "$file" ] && echo --resume "$file" ) --quiet
