#!/usr/bin/env python3
"""Draw the lecture's figures from measured diffbench results (any result or sweep file).

    .venv/bin/python scripts/plot.py results.json [more.jsonl ...] -o figures/lecture   # .png + .svg
    .venv/bin/python scripts/plot.py schedule -o figures/schedules   # Part 2: see diffbench_tools/schedule_figures.py

Every finished run is drawn: a series is one sampler at one latent shape (batch and resolution
become separate series, named "ddim 4x4x32x32" when the files hold several shapes). With one step
count per series the panels are bars (steps, total time, time per step), as in the lecture's
table; with several (a sweep over steps) they are lines against steps. Error bars are the
recorded 95% intervals of the median (stats.*.ci_low / ci_high). An axis is logarithmic only when
its values span more than 20x, so a 2% difference is never stretched. Runs that did not finish
(failed, interrupted) are listed on stderr, never dropped silently. With quality against a
reference (--reference) a last panel draws RMSE against total time. With --quality fd, two more
panels draw the Frechet distance against steps and against time per image (log x, the lecture's
Part 3 trade-off), with the real-data floor as a dashed line.
A file from `diffbench ablate --json` draws the optimisation ladder instead (diffbench_tools/plot_ablation.py):
speed-up with its interval, run memory and output drift per configuration. A file from
`diffbench history --json` draws each cell's series with its change points (diffbench_tools/plot_history.py).
Needs python3-matplotlib (Debian); reads JSON reports and JSON-lines sweep files.
"""
import argparse
import json
import os
import sys

from diffbench_tools import plot_ablation, plot_history, schedule_figures
from diffbench_tools.cli import fail
from diffbench_tools.results import read_runs


def shape_text(run):
    return "x".join(str(d) for d in run["config"].get("shape", []))


def total_stats(run):
    s = run["stats"]["total_s"]
    return s["median"], s.get("ci_low", s["median"]), s.get("ci_high", s["median"])


def step_stats(run):
    s = run["stats"]["step_s"]
    return s["median"], s.get("ci_low", s["median"]), s.get("ci_high", s["median"])


def choose_scale(ax, axis, values):
    values = [v for v in values if v > 0]
    if values and max(values) / min(values) > 20:
        (ax.set_yscale if axis == "y" else ax.set_xscale)("log")


def errors(stats, scale=1.0):
    lows = [(m - lo) * scale for m, lo, _ in stats]
    highs = [(hi - m) * scale for m, _, hi in stats]
    return [lows, highs]


def draw_fd(ax_steps, ax_time, series, runs, colors):
    """The lecture's Part 3 trade-off: FD against steps, and against time per image (log x), with
    the recorded bootstrap intervals and the real-data floor as a line."""
    for i, name in enumerate(series):
        rs = sorted((r for r in series[name] if r.get("fd")), key=lambda r: r["config"]["steps"])
        if not rs:
            continue
        fd = [(r["fd"]["value"], r["fd"]["ci_low"], r["fd"]["ci_high"]) for r in rs]
        steps = [r["config"]["steps"] for r in rs]
        per_image = [r["stats"]["total_s"]["median"] / r["config"]["shape"][0] for r in rs]
        for ax, x in ((ax_steps, steps), (ax_time, per_image)):
            ax.errorbar(x, [f[0] for f in fd], yerr=errors(fd), fmt="o-", color=colors[i % 10], label=name, capsize=3)
        for s, t, f in zip(steps, per_image, fd):
            ax_time.annotate(str(s), (t, f[0]), textcoords="offset points", xytext=(3, 3), fontsize=7)
    floor = next((r["fd"]["floor"] for r in runs if r.get("fd") and r["fd"].get("floor")), None)
    samples = next(r["fd"]["samples"] for r in runs if r.get("fd"))
    for ax in (ax_steps, ax_time):
        if floor:
            ax.axhline(floor["fd"], color="gray", ls="--", lw=1, label=f"real data (n={floor['n']})")
        ax.set_xscale("log")
        choose_scale(ax, "y", [r["fd"]["value"] for r in runs if r.get("fd")])
        ax.set_ylabel(f"Frechet distance ({samples} images), 95% CI")
        ax.legend(fontsize=8)
    ax_steps.set(xlabel="steps", title="Quality against steps")
    ax_time.set(xlabel="time per image (s), median", title="Quality against time (labels: steps)")


def draw(runs, series, args, plt):
    by_steps = any(len({r["config"]["steps"] for r in rs}) > 1 for rs in series.values())
    has_quality = any(r.get("quality") for r in runs)
    has_fd = any(r.get("fd") for r in runs)
    panels = (2 if by_steps else 3) + has_quality + 2 * has_fd
    fig, axes = plt.subplots(1, panels, figsize=(5 * panels, 4.5))
    colors = plt.cm.tab10.colors
    names = list(series)
    if by_steps:
        for i, name in enumerate(names):
            rs = sorted(series[name], key=lambda r: r["config"]["steps"])
            steps = [r["config"]["steps"] for r in rs]
            tot, per = [total_stats(r) for r in rs], [step_stats(r) for r in rs]
            axes[0].errorbar(steps, [t[0] for t in tot], yerr=errors(tot), fmt="o-", color=colors[i % 10],
                             label=name, capsize=3)
            axes[1].errorbar(steps, [p[0] * 1e3 for p in per], yerr=errors(per, 1e3), fmt="o-", color=colors[i % 10],
                             label=name, capsize=3)
        all_steps = [r["config"]["steps"] for r in runs]
        for ax in axes[:2]:
            ax.set_xlabel("steps")
            choose_scale(ax, "x", all_steps)
            ax.legend(fontsize=8)
        axes[0].set(ylabel="total time (s), median, 95% CI", title="Total time against steps (measured)")
        choose_scale(axes[0], "y", [total_stats(r)[0] for r in runs])
        axes[1].set(ylabel="ms per step, median, 95% CI", title="Time per step")
    else:
        main = {n: series[n][0] for n in names}
        steps = [main[n]["config"]["steps"] for n in names]
        tot, per = [total_stats(main[n]) for n in names], [step_stats(main[n]) for n in names]
        bar_colors = [colors[i % 10] for i in range(len(names))]
        axes[0].bar(names, steps, color=bar_colors)
        axes[0].set(ylabel="steps", title="Denoising steps per sampler")
        choose_scale(axes[0], "y", steps)
        axes[1].bar(names, [t[0] for t in tot], yerr=errors(tot), color=bar_colors, capsize=3)
        axes[1].set(ylabel="total time (s), median, 95% CI", title="Total time per sampler (measured)")
        choose_scale(axes[1], "y", [t[0] for t in tot])
        axes[2].bar(names, [p[0] * 1e3 for p in per], yerr=errors(per, 1e3), color=bar_colors, capsize=3)
        axes[2].set(ylabel="ms per step, median, 95% CI", title="Time per step")
        for ax in axes[:3]:
            ax.tick_params(axis="x", rotation=30)
            for label in ax.get_xticklabels():
                label.set_horizontalalignment("right")
    if has_fd:
        draw_fd(axes[-2 - has_quality], axes[-1 - has_quality], series, runs, colors)
    if has_quality:
        ax = axes[-1]
        for i, name in enumerate(names):
            pts = sorted((r["config"]["steps"], total_stats(r)[0], r["quality"]["latents"]["rmse"])
                         for r in series[name] if r.get("quality"))
            if pts:
                ax.plot([p[1] for p in pts], [p[2] for p in pts], "o-", color=colors[i % 10], label=name)
                for s, t, q in pts:
                    ax.annotate(str(s), (t, q), textcoords="offset points", xytext=(3, 3), fontsize=7)
        ref = next(r["quality"]["reference"] for r in runs if r.get("quality"))
        ax.set(xlabel="total time (s)", ylabel=f"RMSE vs {ref}", title="Quality vs speed (labels: steps)")
        choose_scale(ax, "x", [total_stats(r)[0] for r in runs if r.get("quality")])
        choose_scale(ax, "y", [r["quality"]["latents"]["rmse"] for r in runs if r.get("quality")])
        ax.legend(fontsize=8)
    fig.suptitle(f"diffbench: {len(runs)} runs from {', '.join(args.results)}", fontsize=9)
    fig.tight_layout()
    return fig


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", nargs="+", help="diffbench JSON or JSONL files")
    p.add_argument("-o", "--output", default="diffbench", help="output path without extension")
    p.add_argument("--formats", default="png,svg", help="comma-separated: png, svg, pdf")
    args = p.parse_args()
    ablation = special_doc(args.results, "ablation", "an ablate report")
    if ablation is not None:
        save(plot_ablation.draw(ablation, pyplot()), args)
        return
    history = special_doc(args.results, "history", "a history report")
    if history is not None:
        save(plot_history.draw(history, pyplot()), args)
        return
    all_runs = [r for path in args.results for r in read_runs(path)]
    unfinished = [r for r in all_runs if r.get("status") != "ok" or not r.get("repeats")]
    for r in unfinished:
        print(f"plot.py: not drawn: {r['config'].get('sampler')} {r['config'].get('steps')} steps "
              f"{shape_text(r)} ({r.get('status')}: {r.get('error')})", file=sys.stderr)
    runs = [r for r in all_runs if r not in unfinished]
    if not runs:
        fail("no finished runs in " + ", ".join(args.results))
    several_shapes = len({shape_text(r) for r in runs}) > 1
    models = [os.path.basename(r["config"].get("unet", "")) for r in runs]
    main_model = max(set(models), key=models.count)  # other models (distilled students) are named
    series = {}
    for r, model in zip(runs, models):
        name = r["config"]["sampler"] + (f" {shape_text(r)}" if several_shapes else "")
        name += f" ({model})" if model != main_model else ""
        series.setdefault(name, []).append(r)
    for name, rs in series.items():
        if len({r["config"]["steps"] for r in rs}) < len(rs):
            print(f"plot.py: note: '{name}' has several runs at the same step count (other seeds or settings); "
                  "each is drawn", file=sys.stderr)
    save(draw(runs, series, args, pyplot()), args)


def pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        plt.rcParams["svg.fonttype"] = "none"  # text stays text in SVG: searchable and editable
    except ImportError:
        fail("matplotlib is missing: apt-get install python3-matplotlib")
    return plt


def special_doc(paths, key, what):
    """The `ablate` or `history` report (its top-level `key`) when one is given (alone: its chart
    is its own), else None."""
    docs = []
    for path in paths:
        try:
            with open(path) as f:
                doc = json.load(f)
        except (OSError, json.JSONDecodeError):
            continue  # read_runs reports what is wrong with it
        if isinstance(doc, dict) and key in doc:
            docs.append(doc)
    if docs and len(paths) > 1:
        fail(f"{what} is drawn alone: give one file")
    return docs[0] if docs else None


def save(fig, args):
    for fmt in args.formats.split(","):
        try:
            fig.savefig(f"{args.output}.{fmt}", dpi=110)
        except (OSError, ValueError) as e:
            fail(f"cannot write '{args.output}.{fmt}': {e}")
        print(f"{args.output}.{fmt}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["schedule"]:  # plot.py schedule: the Part 2 figures from `diffbench schedule`
        sys.exit(schedule_figures.main(sys.argv[2:]))
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("plot.py: interrupted")
    except (KeyError, TypeError, ValueError) as e:
        fail(f"unexpected content in the result files ({type(e).__name__}: {e}); are they diffbench reports?")
