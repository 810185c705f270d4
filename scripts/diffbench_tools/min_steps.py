"""The lecture's "minimum steps" table, measured: per sampler, the fewest steps whose Frechet
distance is within a tolerance of that sampler's best, from a --quality fd sweep.

    .venv/bin/python scripts/min_steps.py quality.jsonl [--tolerance 0.10] [--json min_steps.json]

The rule (stated with every table): band = (1 + tolerance) x the sampler's lowest FD. A step count
is within tolerance when its 95% bootstrap interval reaches the band (ci_low <= band): the data
cannot tell it apart from the best within the tolerance. The minimum is the smallest step count
from which every measured step count is within: a noisy dip at few steps, followed by step counts
outside, does not count. When only the largest measured step count is within, FD is still falling
there and this sweep does not determine the minimum: the table says so instead of guessing. Each
minimum says whether its FD estimate itself is inside the band or only its interval reaches it.

When the file is a sweep's --json report with paired differences ("quality_pairs": each step
count against the next one measured, on the same images), a second table decides on them: walking
down from the most steps, a step count counts as enough while its pair with the next step count
says "same" (the paired interval within the sweep's --quality-margin) or that the fewer steps are
better; it stops at a pair that says more steps are better ("higher": not enough) or cannot tell
("undecided": the images needed to tell are printed).
"""
import argparse
import json

from diffbench_tools.results import read_report  # one reader for diffbench result files
from diffbench_tools.cli import fail

# The lecture's typed-in values (../shared/seed: Part 2, "minimum steps").
LECTURE = {"ddpm": "~1000", "ddim": "~20", "dpmpp_2m": "~15", "euler_a": "~25"}


def minimum_steps(points, tolerance):
    """points: [(steps, fd, ci_low, ci_high)]. Returns a dict with best_steps, best_fd, band, min_steps
    (None when not determined), estimate_within (the FD estimate itself inside the band) and why."""
    points = sorted(points)
    if not points:
        raise ValueError("no points")
    best_steps, best_fd = min(((s, f) for s, f, _, _ in points), key=lambda p: p[1])
    band = (1 + tolerance) * best_fd
    start = None
    for i in range(len(points) - 1, -1, -1):  # walk down from the most steps while within the band
        if points[i][2] <= band:
            start = i
        else:
            break
    result = {"best_steps": best_steps, "best_fd": best_fd, "band": band, "tolerance": tolerance,
              "measured_steps": [p[0] for p in points], "min_steps": None, "estimate_within": False}
    if start is None or (start == len(points) - 1 and len(points) > 1):
        result["why"] = (f"FD is still falling at {points[-1][0]} steps (the most measured): "
                         "more steps are needed to find the minimum")
        return result
    steps, fd, low, high = points[start]
    result.update(min_steps=steps, estimate_within=fd <= band,
                  why=f"FD {fd:.1f} [{low:.1f}, {high:.1f}] at {steps} steps reaches {band:.1f}, {100 * tolerance:g}% above "
                      f"the best ({best_fd:.1f} at {best_steps} steps), and so does every larger step count")
    return result


# A pair listed as (more steps, fewer steps) read the other way round.
FLIP = {"lower": "higher", "higher": "lower", "same": "same", "undecided": "undecided"}


def neighbours(pairs):
    """Of (a, b, ...) pairs, those whose b is the next step count after a."""
    return [p for p in pairs if not any(o[0] == p[0] and o[1] < p[1] for o in pairs)]


def minimum_steps_paired(pairs):
    """pairs: [(steps_a, steps_b, verdict, samples_to_decide)] neighbour pairs of one sampler (a < b;
    verdict of FD(a) - FD(b)). Returns min_steps (None: more steps still help at the top) and why."""
    pairs = sorted(pairs)
    if not pairs:
        raise ValueError("no pairs")
    minimum, stop = pairs[-1][1], None
    for a, b, verdict, needed in reversed(pairs):
        if verdict in ("same", "lower"):
            minimum = a
            continue
        stop = (a, b, verdict, needed)
        break
    result = {"min_steps": minimum, "pairs": [{"a": a, "b": b, "verdict": v} for a, b, v, _ in pairs]}
    if stop is None:
        result["why"] = f"no pair from {minimum} steps up says more steps are better"
    elif stop[2] == "higher" and stop[1] == pairs[-1][1]:
        result.update(min_steps=None, why=f"{stop[1]} steps are still better than {stop[0]} (the most measured): "
                                          "more steps are needed to find the minimum")
    elif stop[2] == "higher":
        result["why"] = f"{stop[1]} steps are better than {stop[0]}; from {minimum} up no pair differs"
    else:
        needed = f" (about {stop[3]} images per cell would tell)" if stop[3] else ""
        result["why"] = f"{stop[0]} against {stop[1]} steps is undecided{needed}; from {minimum} up no pair differs"
    return result


def paired_table(results):
    lines = ["| sampler | minimum steps (paired) | lecture | why |", "|---|---:|---:|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['min_steps'] if r['min_steps'] else 'not determined'} | "
                     f"{LECTURE.get(name, '-')} | {r['why']} |")
    return "\n".join(lines)


def table(results):
    lines = ["| sampler | minimum steps (measured) | lecture | best FD (steps) | band |", "|---|---:|---:|---:|---:|"]
    for name, r in results.items():
        measured = (f"{r['min_steps']}" + ("" if r["estimate_within"] else " (interval only)")) if r["min_steps"] else \
            f"not determined (> {r['measured_steps'][-2]})" if len(r["measured_steps"]) > 1 else "not determined"
        lines.append(f"| {name} | {measured} | {LECTURE.get(name, '-')} | {r['best_fd']:.1f} ({r['best_steps']}) | "
                     f"{r['band']:.1f} |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", nargs="+", help="diffbench JSON or JSONL files with --quality fd runs")
    p.add_argument("--tolerance", type=float, default=0.10, help="fraction above the best FD still counted as reached")
    p.add_argument("--json", help="also write the per-sampler results as JSON here")
    args = p.parse_args()
    if not 0 <= args.tolerance < 10:
        fail(f"--tolerance {args.tolerance}: expected a fraction such as 0.1")
    series, paired = {}, {}
    for path in args.results:
        runs, pairs = read_report(path)
        for p in pairs:  # neighbours, and baseline pairs within one sampler (listed once, as baseline)
            (sampler, a), (other, b) = (cell.split(":") for cell in (p["a"], p["b"]))
            if sampler == other:
                low, high = sorted((int(a), int(b)))
                verdict = p["fd"]["verdict"] if int(a) < int(b) else FLIP[p["fd"]["verdict"]]
                paired.setdefault(sampler, {})[(low, high)] = (low, high, verdict, p["fd"].get("samples_to_decide"))
        for r in runs:
            if r.get("status") == "ok" and r.get("fd"):
                fd = r["fd"]
                series.setdefault(r["config"]["sampler"], []).append(
                    (r["config"]["steps"], fd["value"], fd["ci_low"], fd["ci_high"]))
    if not series:
        fail("no finished --quality fd runs in " + ", ".join(args.results))
    results = {name: minimum_steps(points, args.tolerance) for name, points in series.items()}
    print(table(results))
    print(f"\nRule: the fewest steps from which every measured step count has an FD whose 95% interval reaches "
          f"{100 * args.tolerance:g}% above the sampler's best; '(interval only)': the estimate itself is above that band.")
    paired_results = {}
    for name, found in paired.items():
        paired_results[name] = minimum_steps_paired(neighbours(sorted(found.values())))
    if paired_results:
        print("\n" + paired_table(paired_results))
        print("\nPaired rule: walking down from the most steps, a step count is enough while its paired FD "
              "difference with the next one is 'same' or favours it; see docs/quality.md.")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"tolerance": args.tolerance, "samplers": results, "paired": paired_results}, f, indent=2)
    return 0

