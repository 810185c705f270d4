"""The lecture's Part 2 figures from real schedules: every number comes from `diffbench schedule`
(this script never recomputes a schedule), drawn as

  1. the noise level each sampler visits, sqrt(1 - alphas_cumprod), against normalised progress,
     for DDIM at 10, 20, 50 and 100 steps (the lecture's "denoising trajectories");
  2. sigma against step index for each sampler at 20 steps, Karras sigmas included (log y);
  3. the beta schedules side by side: linear, scaled_linear (SD), squaredcos_cap_v2 (cosine) and
     scaled_linear rescaled to zero terminal SNR, as sqrt(1 - alphas_cumprod_t) against t / T;
  4. leading, trailing and linspace spacing at 1, 2 and 4 DDIM steps: where they differ most (a
     1-step leading DDIM starts at t=1, almost no noise: the figure shows it).

    .venv/bin/python scripts/plot.py schedule -o docs/img/schedules   # .png, .svg and the data as .json
"""
import argparse
import json
import os
import subprocess
import tempfile

from diffbench_tools import ROOT
from diffbench_tools.cli import fail


def schedule(binary, sampler, steps, *flags, config=None):
    """`diffbench schedule` as parsed JSON."""
    cmd = [binary, "schedule", "--sampler", sampler, "--steps", str(steps), *flags]
    if config is not None:
        cmd += ["--config", config]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"{' '.join(cmd)} exited with {r.returncode}: {r.stderr.strip()}")
    return json.loads(r.stdout)


def series(doc, label):
    rows = doc["schedule"]
    n = len(rows)
    return {"label": label, "steps": n, "timestep": [r["timestep"] for r in rows], "sigma": [r["sigma"] for r in rows],
            "noise": [(1 - r["alphas_cumprod"]) ** 0.5 for r in rows],
            "progress": [i / n for i in range(n)], "config": doc["scheduler_config"]}


def collect(binary):
    data = {"trajectories": [], "samplers": [], "betas": [], "spacing": []}
    for n in (10, 20, 50, 100):
        data["trajectories"].append(series(schedule(binary, "ddim", n), f"ddim {n} steps"))
    for name, flags in (("ddim", []), ("dpmpp_2m", []), ("euler", []), ("euler", ["--karras"]), ("euler_a", []),
                        ("dpmpp_2m", ["--karras"])):
        data["samplers"].append(series(schedule(binary, name, 20, *flags), name + (" karras" if flags else "")))
    with tempfile.TemporaryDirectory() as tmp:
        zero_snr = os.path.join(tmp, "zero_snr.json")
        with open(zero_snr, "w") as f:
            json.dump({"rescale_betas_zero_snr": True, "timestep_spacing": "trailing"}, f)
        full = ["--timestep-spacing", "trailing"]  # 1000 trailing steps visit every t, 999..0
        for label, flags, config in (("linear", ["--beta-schedule", "linear", "--beta-start", "0.0001", "--beta-end", "0.02"], None),
                                     ("scaled_linear (SD)", [], None),
                                     ("squaredcos_cap_v2 (cosine)", ["--beta-schedule", "squaredcos_cap_v2"], None),
                                     ("scaled_linear, zero terminal SNR", [], zero_snr)):
            data["betas"].append(series(schedule(binary, "ddpm", 1000, *full, *flags, config=config), label))
    for spacing in ("leading", "trailing", "linspace"):
        for n in (1, 2, 4):
            data["spacing"].append(series(schedule(binary, "ddim", n, "--timestep-spacing", spacing), f"{spacing} {n}"))
    return data


def draw(data, plt):
    fig, axes = plt.subplots(1, 4, figsize=(21, 4.8))
    ax = axes[0]
    for s in data["trajectories"]:
        ax.plot(s["progress"], s["noise"], "o-" if s["steps"] <= 20 else "-", ms=3, label=s["label"])
    ax.set(xlabel="progress (step / steps)", ylabel="noise level sqrt(1 - alphas_cumprod)",
           title="Denoising trajectories: DDIM, SD 1.5 schedule")
    ax = axes[1]
    for s in data["samplers"]:
        ax.plot(range(s["steps"]), s["sigma"], "o-", ms=3, label=s["label"])
    ax.set_yscale("log")
    ax.set(xlabel="step", ylabel="sigma visited (log)", title="What each sampler visits at 20 steps")
    ax = axes[2]
    for s in data["betas"]:
        t = s["timestep"]
        ax.plot([v / 999 for v in t], s["noise"], label=s["label"])
    ax.set(xlabel="t / T", ylabel="sqrt(1 - alphas_cumprod_t)", title="Beta schedules (1000 training steps)")
    ax = axes[3]
    styles = {"leading": "o-", "trailing": "s--", "linspace": "^:"}
    for s in data["spacing"]:
        spacing = s["label"].split()[0]
        ax.plot([i + 1 for i in range(s["steps"])], s["noise"], styles[spacing], ms=5, label=s["label"] + " step(s)")
    ax.set(xlabel="step", ylabel="noise level at the step", title="Timestep spacing at 1, 2, 4 DDIM steps")
    ax.set_xticks([1, 2, 3, 4])
    for ax in axes:
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.suptitle("diffbench schedule: the noise levels samplers actually visit", fontsize=9)
    fig.tight_layout()
    return fig


def main(argv):
    p = argparse.ArgumentParser(prog="plot.py schedule", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--diffbench", default=os.path.join(ROOT, "build", "diffbench"))
    p.add_argument("-o", "--output", default="schedules", help="output path without extension")
    p.add_argument("--formats", default="png,svg", help="comma-separated: png, svg, pdf")
    args = p.parse_args(argv)
    if not os.access(args.diffbench, os.X_OK):
        fail(f"no diffbench binary at '{args.diffbench}'; build it or pass --diffbench")
    data = collect(args.diffbench)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        plt.rcParams["svg.fonttype"] = "none"
    except ImportError:
        fail("matplotlib is missing: apt-get install python3-matplotlib")
    fig = draw(data, plt)
    try:
        with open(args.output + ".json", "w") as f:
            json.dump(data, f, indent=1)
        for fmt in args.formats.split(","):
            fig.savefig(f"{args.output}.{fmt}", dpi=110)
            print(f"{args.output}.{fmt}")
    except (OSError, ValueError) as e:
        fail(f"cannot write '{args.output}': {e}")
    print(f"{args.output}.json")
    return 0
