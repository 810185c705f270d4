#!/usr/bin/env python3
"""Measure diffbench's regression gate (`diffbench ab`, sequential) on this machine.

    .venv/bin/python bench/gate_calibration.py --mode in-process [--aa 100] [--slow 20]
    .venv/bin/python bench/gate_calibration.py --mode processes [--aa 40] [--slow 20]

Each decision is one real `diffbench ab` that adds interleaved blocks until its sequential test
decides or --budget runs out. Identical sides (A/A) give the false-alarm rate: how often the gate
fails CI on noise alone (targets: at most 2% in-process, 5% between processes). Sides whose new
side runs more DDIM steps (21 against 20 in-process, 22 against 20 between processes; matched with
--ignore steps) give the detection rate of a known slowdown (target at least 80%). `in-process`
runs both sides in one process (ab's default for one binary); `processes` gives ab two binaries
(a copy of the build as the base), so each block is one process per side. Prints a Markdown table
with the median time to a verdict, for docs/measurement.md. Run it on a quiet machine.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

DEFAULTS = {  # mode -> (slow steps, budget s, threshold %, A/A target %)
    "in-process": (21, 120, 2.0, 2),
    "processes": (22, 300, 5.0, 5),
}


def decide(cmd, out_json):
    start = time.time()
    rc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.time() - start
    if rc.returncode not in (0, 3, 4):
        sys.exit(f"gate_calibration.py: `{' '.join(cmd)}` failed with exit {rc.returncode}: {rc.stderr.strip()}")
    with open(out_json) as f:
        doc = json.load(f)
    d = doc["cells"][0]["decision"]
    return d["verdict"], d["change"], doc["ab"]["blocks"], seconds


def row(label, results, target, want):
    n = len(results)
    verdicts = [r[0] for r in results]
    hits = sum(v == want for v in verdicts)
    undecided = sum(v == "undecided" for v in verdicts)
    med = lambda v: statistics.median(v) if v else float("nan")
    return (f"| {label} | {n} | {sum(v == 'slower' for v in verdicts)} | {n - undecided - sum(v == 'slower' for v in verdicts)} "
            f"| {undecided} | {100 * hits / n:.1f}% | {target} | {100 * med([r[1] for r in results]):+.1f}% "
            f"| {med([r[2] for r in results]):.0f} | {med([r[3] for r in results]):.0f} s |")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", default=os.environ.get("DIFFBENCH", os.path.join(here, "..", "build", "diffbench")))
    p.add_argument("--mode", choices=sorted(DEFAULTS), default="in-process")
    p.add_argument("--aa", type=int, default=None, help="A/A decisions (default 100 in-process, 40 processes)")
    p.add_argument("--slow", type=int, default=20, help="decisions with a known slowdown")
    p.add_argument("--steps", type=int, default=20, help="DDIM steps of the base side")
    p.add_argument("--slow-steps", type=int, help="DDIM steps of the slow new side")
    p.add_argument("--budget", type=float, help="ab --budget (seconds)")
    p.add_argument("--threshold", type=float, help="ab --threshold (percent)")
    p.add_argument("--run", default=f"--unet {os.path.join(here, '..', 'models', 'small.pt')} --sampler ddim "
                                    "--warmup 1 --repeat 3 --threads 2",
                   help="the run's flags (the random-weight small.pt UNet, its shape 1x4x32x32)")
    a = p.parse_args()
    slow_steps, budget, threshold, aa_target = DEFAULTS[a.mode]
    slow_steps, budget = a.slow_steps or slow_steps, a.budget or budget
    threshold = a.threshold if a.threshold is not None else threshold
    aa = a.aa if a.aa is not None else (100 if a.mode == "in-process" else 40)
    if not os.access(a.binary, os.X_OK):
        sys.exit(f"gate_calibration.py: no diffbench binary at '{a.binary}'; build it or pass --binary")
    if aa < 0 or a.slow < 0 or aa + a.slow == 0:
        sys.exit("gate_calibration.py: --aa >= 0 and --slow >= 0, not both 0")
    args = a.run.split() + ["--steps", str(a.steps)]
    start = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        common = [a.binary, "ab", "--quiet", "--budget", str(budget), "--threshold", str(threshold)]
        if a.mode == "processes":
            base_bin = shutil.copy(a.binary, f"{tmp}/base-diffbench")
            common += ["--base-bin", base_bin, "--new-bin", a.binary]
        cases = [("aa", aa, []), ("slow", a.slow, ["--ignore", "steps", "--new-args", f"--steps {slow_steps}"])]
        results = {}
        for name, count, extra in cases:
            results[name] = []
            for i in range(count):
                out = f"{tmp}/{name}{i}.json"
                r = decide(common + ["--json", out, *extra, "--", *args], out)
                results[name].append(r)
                print(f"{name} {i + 1}/{count}: {r[0]} ({100 * r[1]:+.1f}%, {r[2]} blocks, {r[3]:.0f} s)", file=sys.stderr)
    minutes = (time.time() - start) / 60
    print("| case | decisions | slower | not slower / faster | undecided | rate | target | median change "
          "| median blocks | median time to verdict |")
    print("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    if aa:
        print(row(f"identical sides (A/A), {a.mode}", results["aa"], f"false alarms at most {aa_target}%", "slower"))
    if a.slow:
        print(row(f"{slow_steps} steps against {a.steps}, {a.mode}", results["slow"], "detected in at least 80%",
                  "slower"))
    print(f"\n`ab --budget {budget:g} --threshold {threshold:g}`, run flags `{a.run} --steps {a.steps}`, "
          f"{minutes:.1f} minutes in all.")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("gate_calibration.py: interrupted")
