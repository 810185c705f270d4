"""plot_ablation.py's speed-up labels sit above each bar's 95% interval, clear of the error bar
(issue #22: they were drawn at the estimate, across the bar's interval)."""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from diffbench_tools import plot_ablation  # noqa: E402  (PYTHONPATH=scripts: ctest sets it)


def row(label, estimate, low, high):
    return {"label": label, "status": "ok", "verdict": "faster", "sampler": "ddim", "steps": 20,
            "speedup": {"estimate": estimate, "low": low, "high": high},
            "memory": {"ratio": 1.0}, "drift": {"identical": False, "psnr_db": 60.0}}


def main():
    rows = [row("baseline", 1.0, 0.9, 1.1), row("bf16", 1.9, 1.5, 2.4), row("channels_last", 1.05, 0.95, 1.3)]
    doc = {"ablation": {"rows": rows, "max_drift_db": 40.0, "device": "cpu"}, "context": {}}
    fig = plot_ablation.draw(doc, plt)
    fig.canvas.draw()
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    labels = [t for t in ax.texts if t.get_text().endswith("x")]
    bad = []
    for i, (text, r) in enumerate(zip(labels, rows)):
        box = text.get_window_extent(renderer)
        top = ax.transData.transform((i, r["speedup"]["high"]))[1]
        if box.y0 < top:
            bad.append(f"{text.get_text()}: label bottom {box.y0:.1f}px below the interval's top {top:.1f}px")
    if len(labels) != len(rows):
        bad.append(f"{len(labels)} speed-up labels for {len(rows)} rows")
    for line in bad:
        print("test_ablation_figure:", line)
    print("test_ablation_figure:", "FAILED" if bad else f"{len(labels)} labels clear of their intervals")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
