#!/usr/bin/env python3
"""Check diffbench's "same seed, same latents" contract against diffusers itself.

For each case (sampler, timestep spacing, beta schedule, prediction type, Karras sigmas, eta,
batch, steps), runs diffusers' own scheduler loop (the one in docs/fidelity.md) on the same
TorchScript UNet and seed, runs `diffbench --save-latents`, and prints the relative error
||diffbench - diffusers|| / ||diffusers||. Exits 1 if any exceeds --tolerance (default 1e-5).

diffusers is the pinned PyPI release in .venv/ (scripts/requirements.txt), or a source folder
given with --diffusers DIR; where it is absent the script says what to install and exits 77 (the
test suite reports that as skipped), except under CI (CI set), where that is a failure. A folder
given that does not import is an error (exit 1), never a skip, and so is any case diffusers raises
on: every case of the matrix must be compared. `--matrix reduced` (CI, about a minute)
covers every sampler, spacing, beta schedule, prediction type, Karras, eta, batch 2 and 1 and
1000 steps; `--matrix full` is their whole product (by hand, about an hour).

    .venv/bin/python scripts/compare_with_diffusers.py --matrix reduced
"""
import argparse
import inspect
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

from diffbench_tools import ROOT, torchscript
from diffbench_tools.cli import fail
from diffbench_tools.reference import FLOW_SAMPLERS, SAMPLERS, SD15, SKIP, import_diffusers


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


def flow_scheduler_config(case):
    """The case's FlowMatch*Scheduler config (FlowMatchHeun takes only num_train_timesteps and shift), or
    UniPC's flow config (flow_prediction, use_flow_sigmas, flow_shift)."""
    if case["sampler"] == "unipc":
        return {"num_train_timesteps": 1000, "prediction_type": "flow_prediction", "use_flow_sigmas": True,
                "flow_shift": case["shift"], "use_dynamic_shifting": case["mu"] is not None}
    config = {"num_train_timesteps": 1000, "shift": case["shift"]}
    if case["sampler"] == "flow_euler":
        config.update(use_dynamic_shifting=case["mu"] is not None, use_karras_sigmas=case["karras"],
                      use_exponential_sigmas=case["exponential"], shift_terminal=case["shift_terminal"])
    return config


def diffusers_flow_latents(diffusers, case, unet):
    """diffusers' flow-matching loop as the SD3 pipeline runs it (the Flux pipeline hands it
    sigmas linspace(1, 1/n, n)): unscaled latents in, the velocity out, float timesteps."""
    n = case["steps"]
    scheduler = getattr(diffusers, FLOW_SAMPLERS[case["sampler"]]).from_config(flow_scheduler_config(case))
    kwargs = {} if case["mu"] is None else {"mu": case["mu"]}
    if case["mu"] == "shape":  # Flux's calculate_shift of its packed latents' token count (the pipeline
        h, w = case["shape"][2:]  # module imports transformers, which Debian 12 lacks)
        c = scheduler.config
        m = (c.max_shift - c.base_shift) / (c.max_image_seq_len - c.base_image_seq_len)
        kwargs["mu"] = (h // 2) * (w // 2) * m + c.base_shift - m * c.base_image_seq_len
    if case["flux_sigmas"]:
        kwargs["sigmas"] = np.linspace(1.0, 1 / n, n)
    scheduler.set_timesteps(n, **kwargs)
    latents = torch.randn(case["shape"], generator=torch.Generator().manual_seed(case["seed"]), dtype=torch.float32)
    for t in scheduler.timesteps:
        out = unet(latents, t)
        latents = scheduler.step(out[0] if isinstance(out, tuple) else out, t, latents).prev_sample
    return latents.numpy()


def with_manifest(unet_path, keys, out):
    """A copy of the TorchScript UNet at `out` whose diffbench.json manifest also has `keys`."""
    extra = {"diffbench.json": ""}
    module = torchscript.load(unet_path, _extra_files=extra)
    manifest = json.loads(extra["diffbench.json"] or "{}")
    torch.jit.save(module, out, _extra_files={"diffbench.json": json.dumps({**manifest, **keys})})
    return out


def diffbench_latents(binary, unet_path, case):
    """diffbench's final latents, or None when it reported non-finite latents (exit 1, NaN error)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "x.npy")
        cmd = [binary, "--unet", unet_path, "--sampler", case["sampler"], "--steps", str(case["steps"]),
               "--seed", str(case["seed"]), "--shape", ",".join(map(str, case["shape"])), "--warmup", "0",
               "--repeat", "1", "--threads", "1", "-q", "--save-latents", out]
        if case.get("flow"):
            config = os.path.join(tmp, "scheduler_config.json")
            with open(config, "w") as f:
                json.dump({"_class_name": FLOW_SAMPLERS[case["sampler"]], **flow_scheduler_config(case)}, f)
            cmd += ["--config", config] + ([] if case["mu"] in (None, "shape") else ["--mu", str(case["mu"])])
            if case["flux_sigmas"]:  # the pipeline's sigmas come from the model's manifest
                cmd[2] = with_manifest(unet_path, {"flow_sigmas": "linspace"}, os.path.join(tmp, "unet.pt"))
        else:
            cmd += ["--timestep-spacing", case["spacing"], "--eta", str(case["eta"]), "--beta-schedule",
                    case["schedule"], "--prediction-type", case["prediction"]] + (["--karras"] if case["karras"] else [])
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


def flow_case(sampler, steps, shift=1.0, mu=None, karras=False, exponential=False, shift_terminal=None,
              flux_sigmas=False, batch=1, seed=0, hw=16):
    return {"flow": True, "sampler": sampler, "steps": steps, "shift": shift, "mu": mu, "karras": karras,
            "exponential": exponential, "shift_terminal": shift_terminal, "flux_sigmas": flux_sigmas,
            "shape": [batch, 4, hw, hw], "seed": seed}


def flow_matrix():
    """Each flow sampler at 1, 4 and 20 steps and SD3's shift; flow_euler's options one at a time."""
    cases = [flow_case(s, n, shift=sh) for s in FLOW_SAMPLERS for sh in (1.0, 3.0) for n in (1, 4, 20)]
    cases += [flow_case("flow_euler", n, mu=0.8, flux_sigmas=True) for n in (1, 4, 20)]  # Flux
    cases += [flow_case("flow_euler", 8, mu="shape", flux_sigmas=True, hw=48)]  # diffbench's mu from the shape
    cases += [flow_case("flow_euler", 10, mu=1.15), flow_case("unipc", 10, mu=1.15),
              flow_case("flow_euler", 10, shift=3.0, karras=True),
              flow_case("flow_euler", 10, shift=3.0, exponential=True),
              flow_case("flow_euler", 10, shift=3.0, shift_terminal=0.1)]
    cases += [flow_case(s, 4, shift=3.0, batch=2, seed=7) for s in FLOW_SAMPLERS]
    return cases


def supported(c):
    # diffusers' EulerAncestralDiscreteScheduler raises NotImplementedError for prediction_type sample.
    return not (c["prediction"] == "sample" and c["sampler"] in ("euler_a", "turbo"))


def reduced_matrix():
    """Every sampler at every spacing (1, 4, 20 steps); each other axis varied on its own."""
    cases = [case(s, n, spacing=sp) for s in SAMPLERS for sp in ("leading", "trailing", "linspace") for n in (1, 4, 20)]
    cases += [case(s, 10, schedule=b) for s in ("ddim", "euler", "dpmpp_2m", "ddpm") for b in ("linear", "squaredcos_cap_v2")]
    cases += [case(s, 10, prediction=p) for s in SAMPLERS for p in ("v_prediction", "sample")]
    cases += [case(s, 10, karras=True) for s in ("euler", "dpmpp_2m", "dpmpp_2m_sde", "dpmpp_3m_sde", "heun", "unipc", "deis")]
    cases += [case("deis", n, karras=True) for n in (3, 16)]  # lower_order_final below 15 steps, not above
    cases += [case("dpmpp_3m_sde", n, karras=True) for n in (3, 16)]  # lower_order_final below 15 steps, not above
    cases += [case("ddim", n, eta=1.0) for n in (4, 20)]
    cases += [case(s, 4, batch=2, seed=7) for s in SAMPLERS]
    # 1000 leading steps with SD 1.5's steps_offset 1 reach t=1000: diffusers indexes past its table there
    # (docs/fidelity.md); trailing and linspace are the 1000-step grids both can run.
    cases += [case("ddpm", 1000, spacing="trailing", hw=8), case("ddim", 1000, spacing="linspace", hw=8)]
    unique = []
    for c in cases:
        if supported(c) and c not in unique:
            unique.append(c)
    return unique + flow_matrix()


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
    return cases + flow_matrix()


REDUCED_CASES = 189  # docs/fidelity.md describes these: a matrix that shrinks is a check that stopped checking


def check_coverage(binary, cases, matrix):
    """Every sampler `diffbench list` shows has cases, and the reduced matrix has all its cases (#41)."""
    listing = json.loads(subprocess.run([binary, "list", "--json"], capture_output=True, text=True, check=True).stdout)
    missing = sorted({s["name"] for s in listing["samplers"]} - {c["sampler"] for c in cases})
    if missing:
        fail(f"no case for {', '.join(missing)}, which `diffbench list` shows: add them to "
             "reference.SAMPLERS / FLOW_SAMPLERS and the matrix")
    if matrix == "reduced" and len(cases) != REDUCED_CASES:
        fail(f"the reduced matrix has {len(cases)} cases, not {REDUCED_CASES}: update REDUCED_CASES and "
             "docs/fidelity.md together")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--diffbench", default=os.path.join(ROOT, "build", "diffbench"))
    p.add_argument("--unet", default=os.path.join(ROOT, "models", "tiny.pt"))
    p.add_argument("--diffusers", default="", help="a diffusers source folder (default: the installed package)")
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
        unet = torchscript.load(args.unet).eval()
    except (RuntimeError, ValueError, OSError) as e:
        fail(f"cannot load '{args.unet}': {str(e).splitlines()[0]}")
    try:
        cases = reduced_matrix() if args.matrix == "reduced" else full_matrix(
            [int(v) for v in args.steps.split(",")], args.schedules.split(","), args.predictions.split(","))
    except ValueError:
        fail(f"--steps '{args.steps}': expected integers separated by commas")
    check_coverage(args.diffbench, cases, args.matrix)
    torch.set_num_threads(1)
    worst, failures, both_nan, diffusers_errors = 0.0, 0, 0, 0
    with torch.no_grad():
        for c in cases:
            flow = c.get("flow", False)
            label = (f"flow {c['sampler']:10} shift={c['shift']:<3} mu={c['mu']} karras={int(c['karras'])} "
                     f"exponential={int(c['exponential'])} shift_terminal={c['shift_terminal']} "
                     f"flux_sigmas={int(c['flux_sigmas'])} steps={c['steps']:<3} batch={c['shape'][0]}" if flow else
                     f"{c['schedule']:17} {c['prediction']:12} {c['sampler']:9} {c['spacing']:9} steps={c['steps']:<4} "
                     f"eta={c['eta']:<3} karras={int(c['karras'])} batch={c['shape'][0]}")
            try:
                ref = diffusers_flow_latents(diffusers, c, unet) if flow else diffusers_latents(diffusers, c, unet)
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
