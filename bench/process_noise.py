#!/usr/bin/env python3
"""How much a whole process's speed moves from one process to the next, under each noise mitigation
within reach on this machine (issue #21's table in docs/measurement.md).

    .venv/bin/python bench/process_noise.py [--processes 10] [--only "NAME;..."]

For each setting, runs --processes separate `diffbench` processes one after another (small.pt,
DDIM 20 steps, `--warmup 1 --repeat 5`) and reports the coefficient of variation of the
per-process medians (between processes: what a gate between processes must see through) and the
mean CV of the repeats within a process (what `ab` in one process sees). Settings that need root
(transparent huge pages, a raised priority) are skipped with a note when not root. Run it on a
quiet machine.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

THP = "/sys/kernel/mm/transparent_hugepage/enabled"

# name -> (extra flags, environment additions, command prefix, THP mode or None)
SETTINGS = {
    "2 threads (default)": (["--threads", "2"], {}, [], None),
    "2 threads, --heap release": (["--threads", "2", "--heap", "release"], {}, [], None),
    "1 thread": (["--threads", "1"], {}, [], None),
    "--pin (1 thread, 1 CPU)": (["--pin"], {}, [], None),
    "--pin, --heap release": (["--pin", "--heap", "release"], {}, [], None),
    "--pin, OMP_WAIT_POLICY=PASSIVE": (["--pin"], {"OMP_WAIT_POLICY": "PASSIVE"}, [], None),
    "2 threads, OMP_WAIT_POLICY=ACTIVE": (["--threads", "2"], {"OMP_WAIT_POLICY": "ACTIVE"}, [], None),
    "--pin, transparent huge pages always": (["--pin"], {}, [], "always"),
    "--pin, transparent huge pages never": (["--pin"], {}, [], "never"),
    "--pin, nice -n -10": (["--pin"], {}, ["nice", "-n", "-10"], None),
}


def one_setting(binary, run, processes, flags, env, prefix, tmp):
    medians, within = [], []
    for i in range(processes):
        out = f"{tmp}/p{i}.json"
        cmd = [*prefix, binary, *run, *flags, "--quiet", "--json", out]
        rc = subprocess.run(cmd, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
        if rc.returncode != 0:
            sys.exit(f"process_noise.py: `{' '.join(cmd)}` failed: {rc.stderr.strip()}")
        with open(out) as f:
            samples = json.load(f)["runs"][0]["stats"]["total_s"]["samples"]
        medians.append(statistics.median(samples))
        within.append(statistics.stdev(samples) / statistics.mean(samples))
    cv = statistics.stdev(medians) / statistics.mean(medians)
    return statistics.median(medians), cv, (max(medians) - min(medians)) / statistics.median(medians), \
        statistics.mean(within)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", default=os.environ.get("DIFFBENCH", os.path.join(here, "..", "build", "diffbench")))
    p.add_argument("--processes", type=int, default=10)
    p.add_argument("--only", default="", help="semicolon-separated setting names (default: all)")
    p.add_argument("--run", default=f"--unet {os.path.join(here, '..', 'models', 'small.pt')} --sampler ddim "
                                    "--steps 20 --warmup 1 --repeat 5")
    a = p.parse_args()
    if a.processes < 3:
        sys.exit("process_noise.py: --processes >= 3")
    chosen = [n for n in SETTINGS if not a.only or n in a.only.split(";")]
    thp_before = open(THP).read().split("[")[1].split("]")[0] if os.path.exists(THP) else None
    print("| setting | median time | CV between processes | range between processes | CV within a process |")
    print("|---|---:|---:|---:|---:|")
    start = time.time()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for name in chosen:
                flags, env, prefix, thp = SETTINGS[name]
                if (thp or prefix) and os.geteuid() != 0:
                    print(f"| {name} | skipped: needs root | | | |")
                    continue
                if thp:
                    with open(THP, "w") as f:
                        f.write(thp)
                med, cv, rng, within = one_setting(a.binary, a.run.split(), a.processes, flags, env, prefix, tmp)
                print(f"| {name} | {1000 * med:.1f} ms | {100 * cv:.1f}% | {100 * rng:.1f}% | {100 * within:.1f}% |",
                      flush=True)
                if thp:
                    with open(THP, "w") as f:
                        f.write(thp_before)
    finally:
        if thp_before and os.geteuid() == 0:
            with open(THP, "w") as f:
                f.write(thp_before)
    print(f"\n{a.processes} processes per setting, run flags `{a.run}`, {(time.time() - start) / 60:.1f} minutes.")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("process_noise.py: interrupted")
