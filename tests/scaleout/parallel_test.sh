#!/usr/bin/env bash
# Scale-out with GNU parallel: scripts/parallel_sweep.sh over tests/scaleout/grid.json on two
# "remote" hosts from an --sshloginfile, through a stand-in ssh that starts each job in the home
# directory, as a real login on a cluster with a shared filesystem does (so only --workdir brings
# the job to the repository and its relative paths). One shard's diffbench is SIGKILLed mid-shard; parallel
# retries it and it resumes. The merge is checked against the same grid in one process.
#   tests/scaleout/parallel_test.sh BUILD_DIR     (run from the repository root; exit 77: skipped)
set -euo pipefail
build=$(realpath "${1:?usage: parallel_test.sh BUILD_DIR}")
command -v parallel >/dev/null || { echo "skipped: GNU parallel is missing (scripts/setup.sh installs it)"; exit 77; }
dir=$(mktemp -d /tmp/diffbench-parallel.XXXXXX)
killer=""
cleanup() {
  local code=$?
  [[ -n "$killer" ]] && kill "$killer" 2>/dev/null || true
  if ((code != 0)); then echo "--- kept: $dir"; cat "$dir/results/parallel.log" 2>/dev/null || true; else rm -rf "$dir"; fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat > "$dir/ssh" <<SSH
#!/usr/bin/env bash
# ssh HOST [--] COMMAND, run here but started in the login directory, as sshd starts it.
while [[ "\$1" == -* ]]; do case "\$1" in -l|-p|-o|-i|-F) shift 2 ;; *) shift ;; esac; done
shift  # the host
[[ "\${1:-}" == "--" ]] && shift
# sshd sets SHELL to the login shell; GNU parallel's remote wrapper runs the job in \$SHELL (with it
# unset, as under CI, the wrapper exits 0 having run nothing).
export SHELL=/bin/bash
cd "\${HOME:-/}" && exec bash -c "\$*"
SSH
chmod +x "$dir/ssh"
printf '1/host-a\n1/host-b\n' > "$dir/hosts"

grid=tests/scaleout/grid.json
"$build/diffbench" sweep --grid "$grid" --threads 1 --jsonl "$dir/one.jsonl" --quiet

# The fault, from the side: when shard 1 has written its first cell, SIGKILL its diffbench: only
# this test's (its command line names this test's own temporary shard file), never another
# suite's "--shard 1/2" on the same machine (#41).
shard1="$dir/results/shard-1.jsonl"
(
  for _ in $(seq 3000); do
    if [[ -s "$shard1" ]]; then
      head -n1 "$shard1" > "$dir/first-cell"
      n=$(wc -l <"$shard1")
      pkill -KILL -f -- "--jsonl $shard1" && echo "$n" > "$dir/killed"
      exit 0
    fi
    sleep 0.02
  done
) &
killer=$!

DIFFBENCH="$build/diffbench" RETRIES=2 scripts/parallel_sweep.sh "$grid" "$dir/results" 2 \
  --sshloginfile "$dir/hosts" --ssh "$dir/ssh"
wait "$killer" || true
killer=""
[[ -f "$dir/killed" ]] || fail "shard 1 finished before it could be killed (nothing was retried)"
# parallel's joblog keeps only a job's last attempt: the retry shows in the shard file instead.
killed_at=$(cat "$dir/killed")
now=$(wc -l <"$shard1")
echo "killed shard 1 after $killed_at cell(s); the retry finished it with $now"
((now > killed_at)) || fail "shard 1 was not retried after the kill"
id() { /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["runs"][0]["process"]["id"])'; }
[[ "$(id <"$dir/first-cell")" == "$(id <"$shard1")" ]] || fail "the retried shard measured its first cell again"
/usr/bin/python3 tests/scaleout/same_result.py "$dir/results/all.json" "$dir/one.jsonl"

# A login without SHELL: parallel's remote wrapper runs nothing and reports success. The script
# must say so and fail, not merge the shards that happen to be there.
sed 's/^export SHELL=.*/unset SHELL/' "$dir/ssh" > "$dir/ssh-noshell" && chmod +x "$dir/ssh-noshell"
set +e
DIFFBENCH="$build/diffbench" RETRIES=0 scripts/parallel_sweep.sh "$grid" "$dir/noshell" 2 \
  --sshloginfile "$dir/hosts" --ssh "$dir/ssh-noshell" 2>"$dir/noshell.err"
code=$?
set -e
((code == 1)) || fail "a shard that ran nothing: exit $code, expected 1"
grep -q "error: shard [01] did not finish" "$dir/noshell.err" || fail "no error for a shard that ran nothing: $(cat "$dir/noshell.err")"
[[ ! -e "$dir/noshell/all.json" ]] || fail "shards that ran nothing were merged"
echo "PASS: GNU parallel over two ssh logins (one shard killed and retried) = one process; a login that ran nothing is an error"
