"""The optimisation ladder from `diffbench ablate --json`: three bar panels per configuration, the
speed-up over the baseline with its 95% interval, run memory against the baseline's, and the output's
PSNR against the baseline's (the "changes results" line dashed). Called by plot.py for ablate files.
"""
import math


def draw(doc, plt):
    rows = [r for r in doc["ablation"]["rows"] if r["status"] == "ok"]
    labels = [r["label"] for r in rows]
    x = range(len(rows))
    fig, (ax_speed, ax_mem, ax_drift) = plt.subplots(1, 3, figsize=(15, 4.8))
    speed = [r["speedup"]["estimate"] for r in rows]
    below = [max(0.0, s - r["speedup"]["low"]) for s, r in zip(speed, rows)]
    above = [max(0.0, r["speedup"]["high"] - s) for s, r in zip(speed, rows)]
    colors = ["#888888" if r["label"] == "baseline" else "#d62728" if "changes results" in r["verdict"]
              else "#1f77b4" for r in rows]
    ax_speed.bar(x, speed, yerr=[below, above], capsize=3, color=colors)
    ax_speed.axhline(1.0, color="black", linewidth=0.8)
    if max(speed) / max(min(speed), 1e-9) > 20:
        ax_speed.set_yscale("log")
    ax_speed.set_ylabel("speed-up vs baseline (time per image)")
    for i, (s, r) in enumerate(zip(speed, rows)):  # above the interval's cap, never across the bar
        ax_speed.annotate(f"{s:.2f}x", (i, max(s, r["speedup"]["high"])), textcoords="offset points", xytext=(0, 3),
                          ha="center", va="bottom", fontsize=8)
    ax_mem.bar(x, [r["memory"]["ratio"] for r in rows], color="#2ca02c")
    ax_mem.axhline(1.0, color="black", linewidth=0.8)
    ax_mem.set_ylabel("run memory / baseline's")
    cap = 100.0  # an identical output is drawn at the cap and labelled
    drift = [cap if r["drift"] and r["drift"]["identical"] else
             min(cap, r["drift"]["psnr_db"]) if r["drift"] and r["drift"]["psnr_db"] is not None else math.nan
             for r in rows]
    ax_drift.bar(x, drift, color="#9467bd")
    ax_drift.axhline(doc["ablation"]["max_drift_db"], color="#d62728", linestyle="--", linewidth=1,
                     label=f"below: changes results ({doc['ablation']['max_drift_db']:g} dB)")
    ax_drift.set_ylabel(f"output PSNR vs baseline, dB (capped at {cap:g}: identical)")
    ax_drift.legend(fontsize=8, loc="lower left")
    for ax in (ax_speed, ax_mem, ax_drift):
        ax.set_xticks(list(x))
        ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    base = rows[0]
    ctx = doc.get("context", {})
    fig.suptitle(f"Optimisation ladder measured: {base['sampler']} {base['steps']} steps, "
                 f"{doc['ablation']['device']}, {ctx.get('cpu_model', '')}", fontsize=10)
    fig.tight_layout()
    return fig
