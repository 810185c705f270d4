#!/usr/bin/python3
"""Draw the lecture's figures from measured diffbench results (any result or sweep file).

    /usr/bin/python3 scripts/plot.py results.json -o figures/lecture      # lecture.png + lecture.svg

Panels: denoising steps per sampler (log), total time per sampler (log), time per step, and,
when the runs carry quality against a reference (--reference), quality against total time
with each sampler's points joined in order of steps. Each sampler is drawn at the step count of
its default run, or at its largest measured step count when a sweep has several.
Needs python3-matplotlib (Debian); reads JSON reports and JSON-lines sweep files.
"""
import argparse
import json
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read_runs(path):
    with open(path) as f:
        text = f.read()
    try:
        return json.loads(text)["runs"]
    except json.JSONDecodeError:
        runs = []
        for line in text.splitlines():
            if line.strip():
                try:
                    runs.extend(json.loads(line)["runs"])
                except json.JSONDecodeError:
                    pass  # a cut-off last line of an interrupted sweep
        return runs


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", nargs="+", help="diffbench JSON or JSONL files")
    p.add_argument("-o", "--output", default="diffbench", help="output path without extension")
    p.add_argument("--formats", default="png,svg")
    args = p.parse_args()
    runs = [r for path in args.results for r in read_runs(path) if r.get("status") == "ok" and r["repeats"]]
    if not runs:
        sys.exit("plot.py: no finished runs in " + ", ".join(args.results))

    by_sampler = {}
    for r in runs:
        by_sampler.setdefault(r["config"]["sampler"], []).append(r)
    names = list(by_sampler)
    main_run = {n: max(by_sampler[n], key=lambda r: r["config"]["steps"]) for n in names}
    steps = [main_run[n]["config"]["steps"] for n in names]
    total = [statistics.median(rep["total_s"] for rep in main_run[n]["repeats"]) for n in names]
    per_step = [main_run[n]["stats"]["step_s"]["median"] for n in names]
    has_quality = any(r.get("quality") for r in runs)

    panels = 4 if has_quality else 3
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 4.5))
    colors = plt.cm.tab10.colors
    axes[0].bar(names, steps, color=colors[: len(names)])
    axes[0].set(yscale="log", ylabel="steps", title="Denoising steps per sampler")
    axes[1].bar(names, total, color=colors[: len(names)])
    axes[1].set(yscale="log", ylabel="total time (s), median", title="Total time per sampler (measured)")
    axes[2].bar(names, [t * 1e3 for t in per_step], color=colors[: len(names)])
    axes[2].set(ylabel="ms per step, median", title="Time per step")
    for ax in axes[:3]:
        ax.tick_params(axis="x", rotation=30)
        for label in ax.get_xticklabels():
            label.set_horizontalalignment("right")
    if has_quality:
        ax = axes[3]
        for i, n in enumerate(names):
            pts = sorted((r["config"]["steps"], statistics.median(rep["total_s"] for rep in r["repeats"]),
                          r["quality"]["latents"]["rmse"]) for r in by_sampler[n] if r.get("quality"))
            if pts:
                ax.plot([p[1] for p in pts], [p[2] for p in pts], "o-", color=colors[i % 10], label=n)
                for s, t, q in pts:
                    ax.annotate(str(s), (t, q), textcoords="offset points", xytext=(3, 3), fontsize=7)
        ref = next(r["quality"]["reference"] for r in runs if r.get("quality"))
        ax.set(xscale="log", yscale="log", xlabel="total time (s)", ylabel=f"RMSE vs {ref}",
               title="Quality vs speed (labels: steps)")
        ax.legend(fontsize=8)
    ctx_note = f"{len(runs)} runs from {', '.join(args.results)}"
    fig.suptitle(f"diffbench: {ctx_note}", fontsize=9)
    fig.tight_layout()
    for fmt in args.formats.split(","):
        fig.savefig(f"{args.output}.{fmt}", dpi=110)
        print(f"{args.output}.{fmt}")


if __name__ == "__main__":
    main()
