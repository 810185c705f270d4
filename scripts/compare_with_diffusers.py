#!/usr/bin/env python3
"""Check diffbench's "same seed, same latents" contract against diffusers itself.

For each case (sampler, timestep spacing, beta schedule, prediction type, Karras sigmas, eta,
batch, steps), runs diffusers' own scheduler loop (the one in docs/fidelity.md) on the same
TorchScript UNet and seed, runs `diffbench --save-latents`, and prints the relative error
||diffbench - diffusers|| / ||diffusers||. Exits 1 if any exceeds --tolerance (default 1e-5).

diffusers is imported from ../shared/diffusers (pinned source with a shim for torch 1.13; see its
README) or from --diffusers DIR, else from the Python path; where none is found the script says so
and exits 77 (the test suite reports that as skipped). A pinned folder that is there but does not
import is an error (exit 1), never a skip, and so is any case diffusers raises on: every case of
the matrix must be compared. `--matrix reduced` (CI, about a minute)
covers every sampler, spacing, beta schedule, prediction type, Karras, eta, batch 2 and 1 and
1000 steps; `--matrix full` is their whole product (by hand, about an hour).

    /usr/bin/python3 scripts/compare_with_diffusers.py --matrix reduced
"""
import argparse
import inspect
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

from diffbench_tools import ROOT
from diffbench_tools.cli import fail
from diffbench_tools.reference import SAMPLERS, SD15, SKIP, import_diffusers


def diffusers_latents(diffusers, case, unet):
    cls_name, extra = SAMPLERS[case["sampler"]]
    config = dict(SD15, timestep_spacing=case["spacing"], beta_schedule=case["schedule"], prediction_type=case["prediction"])
    if case["karras"]:
        config["use_karras_sigmas"] = True
    scheduler = getattr(diffusers, cls_name).from_config({**config, **extra})
    generator = torch.Generator().manual_seed(case["seed"])
    scheduler.set_timesteps(case["steps"])
    latents = torch.randn(case["shape"], generator=generator, dtype=torch.float32) * scheduler.init_noise_sigma
    kwargs = {"eta": case["eta"]} if case["sampler"] == "ddim" else {}
    if "generator" in inspect.signature(scheduler.step).parameters:  # deterministic ones (Heun) take none
        kwargs["generator"] = generator
    result = None
    for t in scheduler.timesteps:
        out = unet(scheduler.scale_model_input(latents, t), t)
        out = out[0] if isinstance(out, tuple) else out
        result = scheduler.step(out, t, latents, **kwargs)
        latents = result.prev_sample
    return (result.denoised if case["sampler"] == "lcm" else latents).numpy()


def diffbench_latents(binary, unet_path, case):
    """diffbench's final latents, or None when it reported non-finite latents (exit 1, NaN error)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "x.npy")
        cmd = [binary, "--unet", unet_path, "--sampler", case["sampler"], "--steps", str(case["steps"]),
               "--seed", str(case["seed"]), "--shape", ",".join(map(str, case["shape"])), "--warmup", "0",
               "--repeat", "1", "--threads", "1", "-q", "--timestep-spacing", case["spacing"], "--eta", str(case["eta"]),
               "--beta-schedule", case["schedule"], "--prediction-type", case["prediction"], "--save-latents", out]
        if case["karras"]:
            cmd.append("--karras")
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode == 1 and "NaN/Inf" in r.stderr:
            return None
        if r.returncode != 0:
            raise subprocess.CalledProcessError(r.returncode, cmd, r.stdout, r.stderr)
        return np.load(out)


def case(sampler, steps, spacing="leading", schedule="scaled_linear", prediction="epsilon", karras=False, eta=0.0,
         batch=1, seed=0, hw=16):
    if sampler == "turbo":
        spacing = "trailing"  # turbo is trailing unless a flag says otherwise
    return {"sampler": sampler, "steps": steps, "spacing": spacing, "schedule": schedule, "prediction": prediction,
            "karras": karras, "eta": eta, "shape": [batch, 4, hw, hw], "seed": seed}


def supported(c):
    # diffusers' EulerAncestralDiscreteScheduler raises NotImplementedError for prediction_type sample.
    return not (c["prediction"] == "sample" and c["sampler"] in ("euler_a", "turbo"))


def reduced_matrix():
    """Every sampler at every spacing (1, 4, 20 steps); each other axis varied on its own."""
    cases = [case(s, n, spacing=sp) for s in SAMPLERS for sp in ("leading", "trailing", "linspace") for n in (1, 4, 20)]
    cases += [case(s, 10, schedule=b) for s in ("ddim", "euler", "dpmpp_2m", "ddpm") for b in ("linear", "squaredcos_cap_v2")]
    cases += [case(s, 10, prediction=p) for s in SAMPLERS for p in ("v_prediction", "sample")]
    cases += [case(s, 10, karras=True) for s in ("euler", "dpmpp_2m", "dpmpp_2m_sde", "heun")]
    cases += [case("ddim", n, eta=1.0) for n in (4, 20)]
    cases += [case(s, 4, batch=2, seed=7) for s in SAMPLERS]
    # 1000 leading steps with SD 1.5's steps_offset 1 reach t=1000: diffusers indexes past its table there
    # (docs/fidelity.md); trailing and linspace are the 1000-step grids both can run.
    cases += [case("ddpm", 1000, spacing="trailing", hw=8), case("ddim", 1000, spacing="linspace", hw=8)]
    unique = []
    for c in cases:
        if supported(c) and c not in unique:
            unique.append(c)
    return unique


def full_matrix(steps, schedules, predictions):
    cases = []
    for schedule in schedules:
        for prediction in predictions:
            for s in SAMPLERS:
                for sp in ("leading", "trailing", "linspace"):
                    for n in steps:
                        for eta in ([0.0, 1.0] if s == "ddim" else [0.0]):
                            c = case(s, n, spacing=sp, schedule=schedule, prediction=prediction, eta=eta)
                            if supported(c) and c not in cases:
                                cases.append(c)
    return cases


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--diffbench", default=os.path.join(ROOT, "build", "diffbench"))
    p.add_argument("--unet", default=os.path.join(ROOT, "models", "tiny.pt"))
    p.add_argument("--diffusers", default="", help="diffusers source folder (default: ../shared/diffusers)")
    p.add_argument("--matrix", choices=("reduced", "full"), default="full")
    p.add_argument("--steps", default="1,2,4,10,20,50", help="full matrix: step counts")
    p.add_argument("--schedules", default="scaled_linear,linear,squaredcos_cap_v2", help="full matrix: beta schedules")
    p.add_argument("--predictions", default="epsilon,v_prediction,sample", help="full matrix: prediction types")
    p.add_argument("--tolerance", type=float, default=1e-5)
    args = p.parse_args()
    if not os.access(args.diffbench, os.X_OK):
        fail(f"no diffbench binary at '{args.diffbench}'; build it or pass --diffbench")
    diffusers = import_diffusers(args.diffusers)
    if diffusers is None:
        return SKIP
    try:
        unet = torch.jit.load(args.unet).eval()
    except (RuntimeError, ValueError, OSError) as e:
        fail(f"cannot load '{args.unet}': {str(e).splitlines()[0]}")
    try:
        cases = reduced_matrix() if args.matrix == "reduced" else full_matrix(
            [int(v) for v in args.steps.split(",")], args.schedules.split(","), args.predictions.split(","))
    except ValueError:
        fail(f"--steps '{args.steps}': expected integers separated by commas")
    torch.set_num_threads(1)
    worst, failures, both_nan, diffusers_errors = 0.0, 0, 0, 0
    with torch.no_grad():
        for c in cases:
            label = (f"{c['schedule']:17} {c['prediction']:12} {c['sampler']:9} {c['spacing']:9} steps={c['steps']:<4} "
                     f"eta={c['eta']:<3} karras={int(c['karras'])} batch={c['shape'][0]}")
            try:
                ref = diffusers_latents(diffusers, c, unet)
            except Exception as e:  # diffusers' own failure: nothing to compare against, reported and counted
                diffusers_errors += 1
                print(f"{label} diffusers raised {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}", flush=True)
                continue
            got = diffbench_latents(args.diffbench, args.unet, c)
            ref_finite = bool(np.isfinite(ref).all())
            if got is None or not ref_finite:
                ok = got is None and not ref_finite  # both non-finite: diffusers' NaN, diffbench's NaN error
                both_nan += ok
                failures += not ok
                print(f"{label} {'both non-finite' if ok else 'non-finite on one side only  <-- mismatch'}", flush=True)
                continue
            err = float(np.linalg.norm(got - ref) / max(np.linalg.norm(ref), 1e-30))
            worst = max(worst, err)
            failures += err > args.tolerance
            print(f"{label} rel.err={err:.2e}{'' if err <= args.tolerance else '  <-- over tolerance'}", flush=True)
    compared = len(cases) - diffusers_errors
    print(f"{len(cases)} cases, {compared} compared, worst relative error {worst:.2e} (tolerance {args.tolerance:g}), "
          f"{both_nan} both non-finite, {diffusers_errors} raised by diffusers, {failures} mismatched; "
          f"diffusers {diffusers.__version__}")
    # Every case of the matrix must be compared: a case diffusers raised on checks nothing, so it
    # fails the run instead of being skipped (a run where every case raised used to pass).
    if diffusers_errors:
        print(f"compare_with_diffusers.py: error: {diffusers_errors} of {len(cases)} case(s) not compared "
              "(diffusers raised); every case of the matrix must be compared", file=sys.stderr)
    return 0 if failures == 0 and diffusers_errors == 0 and compared > 0 else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("compare_with_diffusers.py: interrupted")
    except subprocess.CalledProcessError as e:
        fail(f"diffbench exited with {e.returncode}: {' '.join(e.cmd)}\n{e.stderr}")
