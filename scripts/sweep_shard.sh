#!/usr/bin/env bash
# One shard of a diffbench sweep, written to OUTDIR/shard-I.jsonl. When that file already holds
# cells (a retried, requeued or restarted shard) it resumes it: finished cells are not measured
# again, a cut-off last line is dropped and that cell rerun. When the shard is complete it writes
# OUTDIR/shard-I.done (a shard with no cells writes only that). Used by slurm_sweep.sh and
# parallel_sweep.sh; usable alone.
#   scripts/sweep_shard.sh I N GRID.json OUTDIR [sweep flags]
# DIFFBENCH names the binary (default: the build beside this script); THREADS the threads (default 1).
set -euo pipefail
usage="usage: sweep_shard.sh I N GRID.json OUTDIR [sweep flags]"
index=${1:?$usage}
shards=${2:?$usage}
grid=${3:?$usage}
out=${4:?$usage}
shift 4
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${DIFFBENCH:-$here/build/diffbench}
[[ -x "$bin" ]] || { echo "sweep_shard.sh: error: no diffbench at '$bin'; build it or set DIFFBENCH" >&2; exit 2; }
mkdir -p "$out"
file="$out/shard-$index.jsonl"
resume=()
[[ -s "$file" ]] && resume=(--resume "$file")
"$bin" sweep --grid "$grid" --threads "${THREADS:-1}" --shard "$index/$shards" --jsonl "$file" \
  "${resume[@]}" --quiet "$@"
touch "$out/shard-$index.done"
