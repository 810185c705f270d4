#!/usr/bin/env bash
# Scale-out on a real Slurm: a one-host cluster on localhost (munged, slurmctld, slurmd with two CPU
# slots; configuration written here, no cgroup or systemd plugins, so it runs in a container), a
# job array of scripts/slurm_sweep.sh over tests/scaleout/grid.json in which one task is SIGKILLed
# mid-shard and requeued (scontrol requeue), then the merge checked against the same grid in one
# process (same_result.py). Every daemon started here is stopped by pid, whatever happens.
#   tests/scaleout/slurm_test.sh BUILD_DIR     (run from the repository root; exit 77: skipped)
set -euo pipefail
build=$(realpath "${1:?usage: slurm_test.sh BUILD_DIR}")
skip() { echo "skipped: $*"; exit 77; }
for tool in munged slurmctld slurmd sbatch squeue scontrol sinfo; do
  command -v "$tool" >/dev/null || skip "$tool is missing (scripts/setup.sh installs slurm-wlm and munge)"
done
[[ $(id -u) == 0 ]] || skip "slurmd must run as root to start jobs"
# Kernel facilities the daemons need, checked before waiting on a node that would never come up.
for need in /sys/fs/cgroup /proc/self/status; do
  [[ -e $need ]] || { echo "FAIL: $need is missing (slurmd needs /sys and /proc mounted)"; exit 1; }
done
# slurmd 24 starts its cgroup plugin whatever the task and proctrack plugins are.
awk '$2 ~ "^/sys/fs/cgroup" && $3 ~ "^cgroup" {found = 1} END {exit !found}' /proc/self/mounts ||
  { echo "FAIL: no cgroup filesystem under /sys/fs/cgroup (slurmd needs one; in a chroot, bind /sys with --rbind)"; exit 1; }

dir=$(mktemp -d /tmp/diffbench-slurm.XXXXXX)
pids=()
cleanup() {
  local code=$?
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  sleep 1
  for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  if ((code != 0 && code != 77)); then
    echo "--- logs (kept in $dir) ---"
    tail -n 20 "$dir"/*.log "$dir"/out/*.log 2>/dev/null || true
  else
    rm -rf "$dir"
  fi
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
# wait_for SECONDS DESCRIPTION COMMAND...: poll until COMMAND succeeds.
wait_for() {
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@"; do
    ((SECONDS < deadline)) || fail "timed out after waiting for $what"
    sleep 0.2
  done
}
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# munge: its own key, socket and files.
dd if=/dev/urandom of="$dir/munge.key" bs=1024 count=1 status=none
chmod 400 "$dir/munge.key"
munged --foreground --force --key-file="$dir/munge.key" --socket="$dir/munge.sock" \
  --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge.seed" >"$dir/munged.out" 2>&1 &
pids+=($!)
wait_for 10 "munged's socket" test -S "$dir/munge.sock"

host=$(hostname -s)
mkdir -p "$dir/state" "$dir/spool" "$dir/out"
cat > "$dir/slurm.conf" <<CONF
ClusterName=diffbench-ci
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge.sock
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
MinJobAge=600
NodeName=ci NodeHostname=$host NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=ci Nodes=ci Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf
slurmctld -D -i -f "$SLURM_CONF" >"$dir/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N ci -f "$SLURM_CONF" >"$dir/slurmd.out" 2>&1 &
pids+=($!)
node_idle() { [[ "$(sinfo -h -n ci -o %T 2>/dev/null)" == idle* ]]; }
wait_for 60 "the node to come up idle (sinfo)" node_idle
echo "cluster up ($SECONDS s)"

# The same grid in one process: what the shards must reproduce.
grid=tests/scaleout/grid.json
"$build/diffbench" sweep --grid "$grid" --threads 1 --jsonl "$dir/one.jsonl" --quiet

# Three shards on two slots, one thread each; relative grid and model paths, as a user submits.
job=$(DIFFBENCH="$build/diffbench" sbatch --parsable --array=0-2 --cpus-per-task=1 \
  --output="$dir/out/task-%a.log" scripts/slurm_sweep.sh "$grid" "$dir/results")
echo "submitted job array $job ($SECONDS s)"
state_of() { squeue -h -j "${job}_$1" -o %T 2>/dev/null | head -n1; }
shard1="$dir/results/shard-1.jsonl"
has_one_cell() { [[ -s "$shard1" ]] && (($(wc -l <"$shard1") >= 1)); }
wait_for 120 "shard 1's first cell" has_one_cell

# The fault: SIGKILL task 1's diffbench between two of its cells, then requeue the task.
cells_before=$(wc -l <"$shard1")
first_before=$(head -n1 "$shard1" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["runs"][0]["process"]["id"])')
victim=$(pgrep -f -- "--shard 1/3" | head -n1) || fail "task 1's diffbench finished before it could be killed"
kill -KILL "$victim"
echo "($SECONDS s) killed task 1's diffbench (pid $victim) after $cells_before cell(s)"
not_running() { [[ "$(state_of 1)" != RUNNING ]]; }
wait_for 60 "task 1 to stop" not_running
# Requeue the task. Slurm holds a requeued job back for minutes; the test lets it start 3 s later.
# Sooner can fail: slurmd refuses a launch whose credential dates from the second in which the
# killed instance's credential was revoked ("Job credential revoked"). Should a launch still be
# refused, the task is requeued again, as an operator would.
all_done() { [[ -z "$(squeue -h -j "$job" 2>/dev/null)" ]]; }
for attempt in 1 2 3; do
  scontrol requeue "${job}_1"
  scontrol update JobId="${job}_1" StartTime=now+3
  echo "requeued ${job}_1, attempt $attempt ($SECONDS s)"
  wait_for 180 "the job array to finish" all_done
  grep -q "shard 1/3 done" "$dir/out/task-1.log" && break
done
echo "job array done ($SECONDS s)"
for i in 0 1 2; do
  grep -q "shard $i/3 done" "$dir/out/task-$i.log" || fail "task $i did not finish its shard (see its log)"
done
first_after=$(head -n1 "$shard1" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["runs"][0]["process"]["id"])')
[[ "$first_before" == "$first_after" ]] || fail "the requeued task measured its first cell again"

"$build/diffbench" merge "$dir"/results/shard-*.jsonl -o "$dir/all.json"
/usr/bin/python3 tests/scaleout/same_result.py "$dir/all.json" "$dir/one.jsonl"
echo "PASS: Slurm job array (one task killed and requeued) = one process"
