"""Every command the README prints, run as printed (#41: three failed as printed).

The commands are read from README.md itself and docs/lecture.md (every line of its ```sh blocks, `$ ` lines of its
output examples, and inline `build/diffbench ...` spans), so a command added there is run here.
They run in order in a scratch folder that looks like the repository (build/, models/, configs/,
scripts/, .venv/ linked), with HOME there too. Each must exit 0, or for the gate commands one of
the verdicts their comment names; nothing may print a crash.

What is not run as printed, and why (each stays listed in the output):
- `scripts/setup.sh && ...`: the set-up is what built this tree (CI's first step); what follows
  `&&` runs. `ctest ...`: that is this suite.
- the two full-grid sweeps (configs/sweeps/lecture-table.json and steps-vs-quality.json: 1,000
  digits per cell, DDPM at 1000 steps; about an hour on 2 cores) get `--shard-plan 1` appended:
  the grid is read, every cell resolved and costed, nothing measured. `--full` runs them as printed.
- placeholders the README's prose defines are made first: `/opt/base/diffbench` is this build,
  `G.json` a small grid, `base.json`/`new.json` two runs, `ci-results/` four run reports.
- the `sbatch` and `--sshloginfile hosts` lines need a Slurm cluster and ssh hosts: listed as not
  run (tests/scaleout runs the same scripts on this machine: scripts/sweep_shard.sh, parallel_sweep.sh).
- a shell assignment (`T=$(...)`) is carried into the commands after it, as in one shell; `python`
  is `.venv/`'s (the README's "your own pip torch").
- `plot.py lecture.jsonl` plots the README's first sweep's cells when the lecture grid was only
  planned.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The README and the page its lecture tables moved to (#43: the README became a front page); a
# command printed in both runs once.
DOCUMENTS = ("README.md", "docs/lecture.md")
HEAVY_GRIDS = ("configs/sweeps/lecture-table.json", "configs/sweeps/steps-vs-quality.json")
# The exit codes a command may end with as printed: gates decide (ab: A/A not slower or, on a
# loaded machine, undecided; compare on one process a side: held back, exit 4).
VERDICTS = {"build/diffbench ab ": {0, 4}, "build/diffbench compare ": {0, 4}, "build/diffbench history ": {0, 3}}


def readme_commands(text):
    """The README's commands in order: sh blocks (backslash lines joined), `$ ` lines of other
    blocks, inline `build/diffbench ...` spans."""
    commands = []
    for lang, body in re.findall(r"^```(\w*)\n(.*?)^```", text, flags=re.S | re.M):
        body = body.replace("\\\n", " ")
        for line in body.splitlines():
            line = line.strip()
            if lang == "sh" and line and not line.startswith("#"):
                commands.append(re.sub(r"\s+#.*$", "", line))
            elif lang != "sh" and line.startswith("$ "):
                commands.append(line[2:])
    for span in re.findall(r"`((?:mkdir -p [^`&]*&& )?build/diffbench[^`]*)`", text):
        commands.append(span)
    return commands


def prepare(work):
    """The scratch repository and the placeholders the README's prose defines."""
    # The tree as the README's reader has it (cmake -S . needs the sources): what git tracks at the
    # top, and the two things scripts/setup.sh makes; never an output a command here would write.
    tracked = subprocess.run(["git", "-C", ROOT, "ls-files"], capture_output=True, text=True, check=True).stdout
    for name in sorted({path.split("/")[0] for path in tracked.split()} | {"build", ".venv"}):
        if os.path.exists(os.path.join(ROOT, name)):
            os.symlink(os.path.join(ROOT, name), os.path.join(work, name))
    binary = os.path.join(work, "build", "diffbench")
    grid = {"sampler": ["ddim", "euler"], "steps": [2, 4], "shape": [[1, 4, 8, 8]], "warmup": 0, "repeat": 1}
    with open(os.path.join(work, "G.json"), "w") as f:
        json.dump(grid, f)
    run = [binary, "--sampler", "ddim", "--steps", "20", "-q", "--repeat", "3"]
    for name in ("base.json", "new.json"):
        subprocess.run(run + ["--json", os.path.join(work, name)], check=True, cwd=work)
    os.makedirs(os.path.join(work, "ci-results"))
    for i in range(4):
        subprocess.run(run + ["--json", os.path.join(work, "ci-results", f"{i}.json")], check=True, cwd=work)


def stand_in(work):
    """lecture.jsonl from sweep.json's cells (one report a line), when the lecture grid was only planned."""
    with open(os.path.join(work, "sweep.json")) as f:
        report = json.load(f)
    with open(os.path.join(work, "lecture.jsonl"), "w") as f:
        for run in report["runs"]:
            f.write(json.dumps(dict(report, runs=[run])) + "\n")


def as_run(command, full):
    """The command as it will run, and why it differs from the README's (None: as printed)."""
    rest = command[len("scripts/setup.sh && "):] if command.startswith("scripts/setup.sh && ") else command
    if rest.startswith("ctest "):
        return None, "this suite"
    if rest != command:
        return rest, "set-up is CI's first step; the rest runs"
    if command.startswith("sbatch "):
        return None, "needs a Slurm cluster"
    if "--sshloginfile" in command:
        return None, "needs ssh hosts"
    if command.startswith("build/diffbench ab ") and "/opt/base/diffbench" in command:
        return command.replace("/opt/base/diffbench", "build/diffbench"), "/opt/base/diffbench: this build"
    if "--shard 0/4 --jsonl s0.jsonl" in command:  # its comment: "... 1/4, 2/4, 3/4"
        shards = [command.replace("0/4", f"{i}/4").replace("s0.jsonl", f"s{i}.jsonl") for i in range(4)]
        return " && ".join(shards), "with the shards its comment names (1/4, 2/4, 3/4)"
    if not full and any(g in command for g in HEAVY_GRIDS):
        return command + " --shard-plan 1", "full grid (about an hour): planned, not measured (--full runs it)"
    return command, None


def allowed(command):
    for prefix, codes in VERDICTS.items():
        if command.startswith(prefix):
            return codes
    return {0}


def main():
    full = "--full" in sys.argv
    commands = []
    for document in DOCUMENTS:  # the README, then the pages its commands moved to (#43)
        with open(os.path.join(ROOT, document)) as f:
            commands += [c for c in readme_commands(f.read()) if c not in commands]
    failures = 0
    with tempfile.TemporaryDirectory(prefix="diffbench-readme-") as work:
        prepare(work)
        env = dict(os.environ, HOME=work, PATH=os.path.join(ROOT, ".venv", "bin") + os.pathsep + os.environ["PATH"])
        assignments = ""
        for command in commands:
            line, why = as_run(command, full)
            if line is None:
                print(f"not run ({why}): {command}")
                continue
            if not full and line.startswith(".venv/bin/python scripts/plot.py lecture.jsonl"):
                stand_in(work)
                why = "the first sweep's cells stand in for the planned lecture grid"
            if re.match(r"^[A-Z_]+=\$\(", line):
                assignments += line + "; "
            start = time.monotonic()
            p = subprocess.run(["bash", "-o", "pipefail", "-c", assignments + line], cwd=work, env=env, capture_output=True,
                               text=True, timeout=1800)
            crashed = "Traceback" in p.stderr or "terminate called" in p.stderr or p.returncode >= 128
            ok = p.returncode in allowed(line) and not crashed
            failures += not ok
            print(f"{'ok' if ok else 'FAIL'} (exit {p.returncode}, {time.monotonic() - start:.0f} s"
                  f"{'; ' + why if why else ''}): {command}", flush=True)
            if not ok:
                print("  " + "\n  ".join((p.stderr or p.stdout).strip().splitlines()[-5:]))
    print(f"README commands: {len(commands)} found, {failures} failed")
    return 1 if failures or len(commands) < 20 else 0


if __name__ == "__main__":
    sys.exit(main())
