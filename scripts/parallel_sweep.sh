#!/usr/bin/env bash
# A diffbench sweep split into shards run by GNU parallel, on this machine or across hosts, then
# merged into OUTDIR/all.json. A shard that fails (a killed process, a lost host) is retried and
# resumes where it stopped (scripts/sweep_shard.sh), so no finished cell is measured twice.
#
#   scripts/parallel_sweep.sh GRID.json OUTDIR SHARDS [parallel options] [-- sweep flags]
#   scripts/parallel_sweep.sh configs/sweeps/lecture-table.json results 2
#   scripts/parallel_sweep.sh GRID.json results 8 --sshloginfile hosts -- --unet models/tiny.pt
#
# Across hosts (--sshloginfile / -S): every job runs in this shell's working directory on its host
# (--workdir .; beneath your home directory it is taken relative to the home directory), so the
# hosts need the repository, its models and the binary at the same path, e.g. on a shared
# filesystem, and results come back through it. DIFFBENCH names the binary (default: the build
# beside this script); THREADS the threads per shard (default 1: shards side by side on one
# machine must not oversubscribe its cores; OpenMP threads spin-wait); RETRIES the attempts per
# shard after the first (default 2).
set -euo pipefail
usage="usage: parallel_sweep.sh GRID.json OUTDIR SHARDS [parallel options] [-- sweep flags]"
grid=${1:?$usage}
out=${2:?$usage}
shards=${3:?$usage}
shift 3
popts=()
while (($#)) && [[ "$1" != "--" ]]; do popts+=("$1"); shift; done
(($#)) && shift  # the "--"
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$(realpath -m "${DIFFBENCH:-$here/build/diffbench}")
[[ -x "$bin" ]] || { echo "parallel_sweep.sh: error: no diffbench at '$bin'; build it or set DIFFBENCH" >&2; exit 2; }
command -v parallel >/dev/null || { echo "parallel_sweep.sh: error: GNU parallel is missing (apt-get install parallel)" >&2; exit 2; }
mkdir -p "$out"
rm -f "$out"/shard-*.done  # each shard marks itself done again, a resumed one at once

# -q: every word reaches the job as it is, also through ssh; each attempt resumes its shard file.
seq 0 $((shards - 1)) | parallel -q --will-cite --workdir . --retries "${RETRIES:-2}" --halt soon,fail=1 \
  --joblog "$out/parallel.log" "${popts[@]}" \
  env DIFFBENCH="$bin" THREADS="${THREADS:-1}" "$here/scripts/sweep_shard.sh" {} "$shards" "$grid" "$out" "$@"
# A remote job whose login has no SHELL is "run" by parallel's wrapper without running anything,
# and reported as a success: a shard without its .done mark is an error here, not a short merge.
for ((i = 0; i < shards; i++)); do
  [[ -e "$out/shard-$i.done" ]] || { echo "parallel_sweep.sh: error: shard $i did not finish though parallel reported it done; see $out/parallel.log (on a remote host, is SHELL set?)" >&2; exit 1; }
done
"$bin" merge "$out"/shard-*.jsonl -o "$out/all.json"
echo "parallel_sweep.sh: $shards shards merged: $out/all.json (shards: $out/shard-*.jsonl, log: $out/parallel.log)"
