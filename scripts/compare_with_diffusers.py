#!/usr/bin/env python3
"""Check diffbench's "same seed, same latents" contract against diffusers itself.

For every sampler, timestep spacing and step count, runs diffusers' pipeline loop (the one in
docs/fidelity.md) on the same TorchScript UNet and seed, runs `diffbench --save-latents`, and
prints the relative error ||diffbench - diffusers|| / ||diffusers||. Exits 1 if any exceeds
--tolerance (default 1e-5).

Needs torch and diffusers (pip install diffusers), which Debian does not package; this project's
own machines cannot install it, so this script is run by hand where diffusers is available:

    python3 scripts/compare_with_diffusers.py --diffbench build/diffbench --unet models/tiny.pt
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

SAMPLERS = {
    # name: (diffusers scheduler class name, config overrides)
    "ddpm": ("DDPMScheduler", {}),
    "ddim": ("DDIMScheduler", {}),
    "dpmpp_2m": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++", "solver_order": 2}),
    "euler_a": ("EulerAncestralDiscreteScheduler", {}),
    "euler": ("EulerDiscreteScheduler", {}),
    "lcm": ("LCMScheduler", {}),
    "turbo": ("EulerAncestralDiscreteScheduler", {"timestep_spacing": "trailing"}),
}

SD15 = {"num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
        "steps_offset": 1, "timestep_spacing": "leading", "clip_sample": False, "set_alpha_to_one": False,
        "prediction_type": "epsilon"}


def diffusers_latents(name, steps, seed, shape, unet, config, eta):
    import diffusers
    cls_name, extra = SAMPLERS[name]
    scheduler = getattr(diffusers, cls_name).from_config({**config, **extra})
    generator = torch.Generator().manual_seed(seed)
    scheduler.set_timesteps(steps)
    latents = torch.randn(shape, generator=generator, dtype=torch.float32) * scheduler.init_noise_sigma
    kwargs = {"eta": eta} if name == "ddim" else {}
    result = None
    for t in scheduler.timesteps:
        out = unet(scheduler.scale_model_input(latents, t), t)
        out = out[0] if isinstance(out, tuple) else out
        result = scheduler.step(out, t, latents, generator=generator, **kwargs)
        latents = result.prev_sample
    return (result.denoised if name == "lcm" else latents).numpy()


def diffbench_latents(binary, unet_path, name, steps, seed, shape, spacing, eta, schedule, prediction):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "x.npy")
        cmd = [binary, "--unet", unet_path, "--sampler", name, "--steps", str(steps), "--seed", str(seed),
               "--shape", ",".join(map(str, shape)), "--warmup", "0", "--repeat", "1", "-q",
               "--timestep-spacing", spacing, "--eta", str(eta), "--beta-schedule", schedule,
               "--prediction-type", prediction, "--save-latents", out]
        subprocess.run(cmd, check=True)
        return np.load(out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--diffbench", default="build/diffbench")
    p.add_argument("--unet", default="models/tiny.pt")
    p.add_argument("--steps", default="1,2,4,10,20,50")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--shape", default="1,4,16,16")
    p.add_argument("--tolerance", type=float, default=1e-5)
    p.add_argument("--schedules", default="scaled_linear,linear,squaredcos_cap_v2")
    p.add_argument("--predictions", default="epsilon,v_prediction,sample")
    args = p.parse_args()
    if not os.access(args.diffbench, os.X_OK):
        sys.exit(f"compare_with_diffusers.py: error: no diffbench binary at '{args.diffbench}'; build it or pass --diffbench")
    try:
        unet = torch.jit.load(args.unet).eval()
    except (RuntimeError, ValueError, OSError) as e:
        sys.exit(f"compare_with_diffusers.py: error: cannot load '{args.unet}': {str(e).splitlines()[0]}")
    try:
        shape = [int(v) for v in args.shape.split(",")]
    except ValueError:
        sys.exit(f"compare_with_diffusers.py: error: --shape '{args.shape}': expected B,C,H,W integers")
    worst = 0.0
    with torch.no_grad():
        for schedule in args.schedules.split(","):
            for prediction in args.predictions.split(","):
                for name in SAMPLERS:
                    if prediction == "sample" and name in ("euler_a", "turbo"):
                        continue  # diffusers' EulerAncestralDiscreteScheduler raises NotImplementedError
                    for spacing in ("leading", "trailing", "linspace"):
                        for steps in [int(s) for s in args.steps.split(",")]:
                            for eta in ([0.0, 1.0] if name == "ddim" else [0.0]):
                                config = dict(SD15, timestep_spacing=spacing, beta_schedule=schedule,
                                              prediction_type=prediction)
                                if name == "turbo":
                                    config["timestep_spacing"] = "trailing"  # turbo is trailing unless a flag says otherwise
                                ref = diffusers_latents(name, steps, args.seed, shape, unet, config, eta)
                                got = diffbench_latents(args.diffbench, args.unet, name, steps, args.seed, shape,
                                                        config["timestep_spacing"], eta, schedule, prediction)
                                err = float(np.linalg.norm(got - ref) / max(np.linalg.norm(ref), 1e-30))
                                worst = max(worst, err)
                                flag = "" if err <= args.tolerance else "  <-- over tolerance"
                                print(f"{schedule:17} {prediction:12} {name:9} {spacing:9} steps={steps:<4} eta={eta:<3} "
                                      f"rel.err={err:.2e}{flag}", flush=True)
    print(f"worst relative error {worst:.2e} (tolerance {args.tolerance:g})")
    return 0 if worst <= args.tolerance else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("compare_with_diffusers.py: interrupted")
    except subprocess.CalledProcessError as e:
        sys.exit(f"compare_with_diffusers.py: error: diffbench exited with {e.returncode}: {' '.join(e.cmd)}")
