#!/usr/bin/python3
"""Measure diffbench's regression gate on this machine.

    /usr/bin/python3 bench/gate_calibration.py [--pairs 40] [--slow-pairs 20] [--processes 6]

Each pair is one real `diffbench ab` (several interleaved processes per side, the test on one
median per process). Identical pairs (an A/A test) give the false-positive rate: how often the
gate fails CI on noise alone (target at most 5%). Pairs whose new side runs 10% more DDIM steps
(22 against 20: 10% more UNet calls through the same kernels, matched with --ignore steps) give
the detection rate of a known slowdown (target at least 80%). A shape change is no known
slowdown: on this machine 1x4x32x36 latents run about 17% FASTER than 1x4x32x32 (kernel paths),
which is what the gate reported when a user tried it. `ab` tests each interleaved pair's ratio (Wilcoxon
signed-rank), so a drift of the machine between pairs cancels. Run it on a quiet machine: it takes about 15-25
minutes at the defaults and prints a Markdown table for docs/measurement.md.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def run_pair(binary, args, processes, extra, out_json):
    cmd = [binary, "ab", "--processes", str(processes), "--quiet", "--allow-undecided", "--json", out_json, *extra,
           "--", *args]
    rc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if rc.returncode not in (0, 3):
        sys.exit(f"gate_calibration.py: `{' '.join(cmd)}` failed with exit {rc.returncode}: {rc.stderr.strip()}")
    with open(out_json) as f:
        doc = json.load(f)
    total = next(m for m in doc["runs"][0]["metrics"] if m["metric"] == "total_s")
    return rc.returncode == 3 and total["verdict"] == "slower", total["change"]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", default=os.environ.get("DIFFBENCH", os.path.join(here, "..", "build", "diffbench")))
    p.add_argument("--pairs", type=int, default=40, help="identical A/A pairs")
    p.add_argument("--slow-pairs", type=int, default=20, help="pairs with a known slowdown")
    p.add_argument("--processes", type=int, default=6, help="processes per side in each pair")
    p.add_argument("--steps", type=int, default=20, help="DDIM steps of the base side")
    p.add_argument("--slowdown", type=float, default=0.10, help="the known slowdown: this much more steps on the new side")
    p.add_argument("--run", default=f"--unet {os.path.join(here, '..', 'models', 'small.pt')} --sampler ddim "
                                    "--warmup 1 --repeat 3 --threads 2",
                   help="the run's flags (the random-weight small.pt UNet, its shape 1x4x32x32)")
    a = p.parse_args()
    if not os.access(a.binary, os.X_OK):
        sys.exit(f"gate_calibration.py: no diffbench binary at '{a.binary}'; build it or pass --binary")
    if a.pairs < 0 or a.slow_pairs < 0 or a.pairs + a.slow_pairs == 0 or a.processes < 2:
        sys.exit("gate_calibration.py: --pairs >= 0, --slow-pairs >= 0 (not both 0) and --processes >= 2")
    args = a.run.split()
    slow_steps = round(a.steps * (1 + a.slowdown))
    start = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        false_pos, aa_changes = 0, []
        for i in range(a.pairs):
            slower, change = run_pair(a.binary, args + ["--steps", str(a.steps)], a.processes, [], f"{tmp}/aa{i}.json")
            false_pos += slower
            aa_changes.append(change)
            print(f"A/A {i + 1}/{a.pairs}: change {100 * change:+.1f}%{'  SLOWER (false positive)' if slower else ''}",
                  file=sys.stderr)
        detected, slow_changes = 0, []
        for i in range(a.slow_pairs):
            slower, change = run_pair(a.binary, args + ["--steps", str(a.steps)], a.processes,
                                      ["--ignore", "steps", "--new-args", f"--steps {slow_steps}"], f"{tmp}/ab{i}.json")
            detected += slower
            slow_changes.append(change)
            print(f"slow {i + 1}/{a.slow_pairs}: change {100 * change:+.1f}%{'  detected' if slower else '  missed'}",
                  file=sys.stderr)
    minutes = (time.time() - start) / 60
    print(f"| check | pairs | gate said slower | rate | target | median measured change |")
    print(f"|---|---:|---:|---:|---|---:|")
    med = lambda v: statistics.median(v) if v else float("nan")
    if a.pairs:
        print(f"| identical sides (A/A) | {a.pairs} | {false_pos} | {100 * false_pos / a.pairs:.1f}% | at most 5% "
              f"| {100 * med(aa_changes):+.1f}% |")
    if a.slow_pairs:
        print(f"| {slow_steps} steps against {a.steps} ({100 * (slow_steps / a.steps - 1):.0f}% more work) | {a.slow_pairs} "
              f"| {detected} | {100 * detected / a.slow_pairs:.1f}% "
              f"| at least 80% | {100 * med(slow_changes):+.1f}% |")
    print(f"\n{a.processes} processes per side, run flags `{a.run} --steps {a.steps}`, {minutes:.1f} minutes in all.")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("gate_calibration.py: interrupted")
