#!/usr/bin/env python3
"""Measure `diffbench history` on real series of reports made on this machine.

    .venv/bin/python bench/history_calibration.py [--series 10] [--points 30] [--step-at 15] [--ab-blocks N]

Each series is --points separate `diffbench` processes (one report each, as a branch's CI would
write one per commit). In the stepped series the reports from --step-at on run 21 DDIM steps
instead of 20 (a 5% slowdown, matched with --ignore steps); the flat series all run 20. Counts the
series whose only change point is at --step-at (target at least 9 of 10) and the flat series with no
change point (target 10 of 10). Run it on a quiet machine; prints a Markdown table.

With --ab-blocks N each report is instead an `ab --json` report of at most N blocks: the commit
(20 or 21 steps) against a fixed reference (20 steps), interleaved in one process, so each point is
a ratio the machine's slow phases cancel from (docs/compare.md). --ab-processes gives ab a copy of
the binary as --base-bin (one process per side per block, as a CI run against a reference build).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def make_series(binary, run, points, step_at, slow_steps, folder, ab_blocks, base_bin):
    os.makedirs(folder)
    for i in range(points):
        steps = slow_steps if step_at is not None and i >= step_at else 20
        out = ["--quiet", "--json", f"{folder}/r{i:03d}.json"]
        cmd = [binary, *run, "--steps", str(steps), *out]
        if ab_blocks:  # ab exits 0, 3 or 4 by its verdict; the history reads the ratio either way
            bins = ["--base-bin", base_bin, "--new-bin", binary] if base_bin else []
            cmd = [binary, "ab", *bins, "--max-blocks", str(ab_blocks), "--ignore", "steps", "--new-args",
                   f"--steps {steps}", *out, "--", *run, "--steps", "20"]
        rc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if rc.returncode not in ((0, 3, 4) if ab_blocks else (0,)):
            sys.exit(f"history_calibration.py: `{' '.join(cmd)}` failed: {rc.stderr.strip()}")


def change_points(binary, folder):
    out = f"{folder}.history.json"
    rc = subprocess.run([binary, "history", "--quiet", "--ignore", "steps", "--json", out, folder],
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if rc.returncode not in (0, 3):
        sys.exit(f"history_calibration.py: history failed: {rc.stderr.strip()}")
    with open(out) as f:
        return json.load(f)["cells"][0]["change_points"]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", default=os.environ.get("DIFFBENCH", os.path.join(here, "..", "build", "diffbench")))
    p.add_argument("--series", type=int, default=10)
    p.add_argument("--points", type=int, default=30)
    p.add_argument("--step-at", type=int, default=15)
    p.add_argument("--slow-steps", type=int, default=21)
    p.add_argument("--ab-blocks", type=int, default=0, help="points from `ab` reports of at most N blocks")
    p.add_argument("--ab-processes", action="store_true", help="ab between a copy of the binary and the binary")
    p.add_argument("--run", default=f"--unet {os.path.join(here, '..', 'models', 'small.pt')} --sampler ddim "
                                    "--warmup 1 --repeat 3 --threads 1")
    a = p.parse_args()
    if a.ab_processes and not a.ab_blocks:
        sys.exit("history_calibration.py: --ab-processes needs --ab-blocks")
    if a.series < 1 or a.points < 8 or not 3 <= a.step_at <= a.points - 3:
        sys.exit("history_calibration.py: --series >= 1, --points >= 8, 3 <= --step-at <= points - 3")
    start = time.time()
    found, quiet = 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        base_bin = shutil.copy(a.binary, f"{tmp}/base-diffbench") if a.ab_processes else None
        for s in range(a.series):
            make_series(a.binary, a.run.split(), a.points, a.step_at, a.slow_steps, f"{tmp}/step{s}", a.ab_blocks, base_bin)
            c = change_points(a.binary, f"{tmp}/step{s}")
            ok = len(c) == 1 and c[0]["index"] == a.step_at and c[0]["change"] > 0
            found += ok
            print(f"stepped {s + 1}/{a.series}: " + (", ".join(f"#{x['index']} {100 * x['change']:+.1f}% "
                  f"[{100 * x['low']:+.1f}, {100 * x['high']:+.1f}]" for x in c) or "none") +
                  ("" if ok else "  (missed)"), file=sys.stderr)
            make_series(a.binary, a.run.split(), a.points, None, a.slow_steps, f"{tmp}/flat{s}", a.ab_blocks, base_bin)
            c = change_points(a.binary, f"{tmp}/flat{s}")
            quiet += not c
            print(f"flat {s + 1}/{a.series}: " + (", ".join(f"#{x['index']} {100 * x['change']:+.1f}%" for x in c)
                  or "none"), file=sys.stderr)
    print("| series | count | as wanted | target |\n|---|---:|---:|---|")
    print(f"| {a.slow_steps} steps from report {a.step_at} on, against 20 | {a.series} | {found} (the step alone, upward, at "
          f"its index) | at least 9 of 10 |")
    print(f"| flat, 20 steps | {a.series} | {quiet} (no change point) | 10 of 10 |")
    kind = f"`ab --max-blocks {a.ab_blocks}` reports (against 20 steps)" if a.ab_blocks else "run reports"
    kind += ", two binaries" if a.ab_processes else ""
    print(f"\n{a.points} {kind} per series, run flags `{a.run}`, {(time.time() - start) / 60:.1f} minutes in all.")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("history_calibration.py: interrupted")
