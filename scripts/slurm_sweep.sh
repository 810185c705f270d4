#!/usr/bin/env bash
# One shard of a diffbench sweep per Slurm array task. A requeued task (scontrol requeue, a node
# failure) finishes its shard with --resume, without repeating the cells it already wrote.
#
#   sbatch --array=0-3 --cpus-per-task=2 scripts/slurm_sweep.sh configs/sweeps/lecture-table.json results
#   sbatch --array=0-1 scripts/slurm_sweep.sh GRID.json OUTDIR --unet models/tiny.pt   # extra sweep flags
#   # when every task has finished (squeue -j JOBID prints nothing):
#   build/diffbench merge results/shard-*.jsonl -o results/all.json
#
# Paths (grid, OUTDIR, models in the grid or flags) are relative to the directory sbatch ran in,
# which is where Slurm starts the task. DIFFBENCH names the binary; by default the build beside
# this script's repository. Threads: the task's --cpus-per-task (SLURM_CPUS_PER_TASK).
#SBATCH --job-name=diffbench-sweep
#SBATCH --cpus-per-task=2
#SBATCH --requeue
#SBATCH --open-mode=append
set -euo pipefail
usage="usage: sbatch --array=0-N [--cpus-per-task=T] slurm_sweep.sh GRID.json OUTDIR [sweep flags]"
grid=${1:?$usage}
out=${2:?$usage}
shift 2
shards=${SLURM_ARRAY_TASK_COUNT:?run as a job array: $usage}
index=${SLURM_ARRAY_TASK_ID:?run as a job array: $usage}

# Slurm runs a copy of this script from its spool directory: find the repository through the path
# the job was submitted with (relative to the submit directory).
script=$0
submitted=$(scontrol show job "${SLURM_JOB_ID}" 2>/dev/null | sed -n 's/^ *Command=\([^ ]*\).*/\1/p' | head -n1)
[[ -n "$submitted" ]] && script=$submitted
cd "${SLURM_SUBMIT_DIR:-.}"
repo=$(cd "$(dirname "$script")/.." && pwd)
bin=${DIFFBENCH:-$repo/build/diffbench}
[[ -x "$bin" ]] || { echo "slurm_sweep.sh: error: no diffbench at '$bin'; build it or set DIFFBENCH" >&2; exit 2; }

THREADS=${SLURM_CPUS_PER_TASK:-1} DIFFBENCH=$bin "$repo/scripts/sweep_shard.sh" "$index" "$shards" "$grid" "$out" "$@"
echo "slurm_sweep.sh: shard $index/$shards done: $out/shard-$index.jsonl"
echo "slurm_sweep.sh: when all $shards tasks are done: $bin merge $out/shard-*.jsonl -o $out/all.json"
