"""A branch's history from `diffbench history --json`: one panel per cell, its time per report (or,
for a series of `ab` reports, its new/base ratio) in commit order, each change point a vertical
line labelled with its step and interval, the levels between them as horizontal segments
(geometric means), and a regression the newest report starts in red. Called by plot.py for history files.
"""
import math


def _levels(seconds, indices):
    bounds = [0, *indices, len(seconds)]
    for a, b in zip(bounds, bounds[1:]):
        level = math.exp(sum(math.log(s) for s in seconds[a:b]) / (b - a))
        yield a, b, level


def draw(doc, plt):
    cells = doc["cells"]
    fig, axes = plt.subplots(len(cells), 1, figsize=(10, 3.2 * len(cells)), squeeze=False)
    for ax, cell in zip(axes[:, 0], cells):
        ratio = cell.get("quantity") == "ratio"
        ms = cell["ratios"] if ratio else [1000 * s for s in cell["seconds"]]
        ax.plot(range(len(ms)), ms, "o-", color="#1f77b4", markersize=3, linewidth=0.8)
        points = cell["change_points"]
        for a, b, level in _levels(ms, [p["index"] for p in points]):
            ax.hlines(level, a - 0.4, b - 0.6, color="#444444", linewidth=1.5)
        for p in points:
            color = "#d62728" if p["change"] > 0 else "#2ca02c"
            ax.axvline(p["index"] - 0.5, color=color, linestyle="--", linewidth=1)
            ax.annotate(f"{100 * p['change']:+.1f}% [{100 * p['low']:+.1f}, {100 * p['high']:+.1f}]",
                        (p["index"] - 0.5, max(ms)), textcoords="offset points", xytext=(3, -10), fontsize=8,
                        color=color)
        if cell.get("newest_regression"):
            ax.plot([len(ms) - 1], [ms[-1]], "o", color="#d62728", markersize=8, fillstyle="none")
        ax.set_title(cell["label"] + ("  (the newest report starts a slowdown)" if cell.get("newest_regression")
                                      else ""), fontsize=9)
        ax.set_xlabel("report (commit order)")
        ax.set_ylabel("new / base (ab)" if ratio else "total time, ms")
    method = doc["history"]
    fig.suptitle(f"diffbench history: {method['method']}, alpha {method['alpha']:g}, "
                 f"steps below {100 * method['min_change']:g}% not shown", fontsize=9)
    fig.tight_layout()
    return fig
