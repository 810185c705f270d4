"""AOTInductor packages (.pt2), compiled here at test time (never committed: a package holds machine
code for the CPU it was made on), run by diffbench with the TorchScript contract and manifest:

1. scripts/export_diffusers.py --format torchscript,aoti on a small random-weight SD-1.5-shaped
   pipeline, with diffusers' default (fused scaled_dot_product_attention) processors: diffbench
   --unet unet.pt2 (its manifest names vae_decoder.pt2) against diffusers' own CFG loop on the
   untraced modules, latents within 1e-4 relative and decoded images within 1e-4, for ddim
   (integer timesteps) and euler_a (fractional ones, and noise).
2. scripts/export_models.py --format torchscript,aoti: the conditional tiny UNet and the VAE, the
   .pt2 against the .pt of the same weights (CFG doubles the batch the package was compiled at).
3. --compiled runs the package a trace's manifest names, and ablate's compile rung measures it
   against the trace, eager and frozen (compile supersedes freeze in the "all" row, said).
4. What a package cannot do is one line and exit 2: another latent size, another conditioning
   shape, --freeze, --dtype bf16 on an fp32 package; the report's context records the format and
   the compile time; the exporter refuses the gaussian model (a data-dependent lookup).

    DIFFBENCH_BIN=build/diffbench PYTHONPATH=scripts .venv/bin/python tests/python/test_aoti.py
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

import test_export_roundtrip as roundtrip  # the same pipeline and diffusers' own loop
from diffbench_tools import reference

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TOLERANCE = 1e-4


def relative(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def run(binary, args):
    done = subprocess.run([binary, "--warmup", "0", "--repeat", "1", "--threads", "1", "-q"] + args,
                          capture_output=True, text=True)
    return done.returncode, done.stderr


def against_diffusers(diffusers, binary, tmp):
    pipe, out = os.path.join(tmp, "sd15"), os.path.join(tmp, "sd15-out")
    roundtrip.build_pipeline(diffusers, pipe, False)
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "export_diffusers.py"), pipe, "--out", out,
                    "--batch", str(roundtrip.BATCH), "--format", "torchscript,aoti"], check=True)
    unet = diffusers.UNet2DConditionModel.from_pretrained(os.path.join(pipe, "unet"), use_safetensors=False).eval()
    vae = diffusers.AutoencoderKL.from_pretrained(os.path.join(pipe, "vae"), use_safetensors=False).eval()
    with open(os.path.join(pipe, "scheduler", "scheduler_config.json")) as f:
        config = json.load(f)
    gen = torch.Generator().manual_seed(1)
    cond, uncond = torch.randn(roundtrip.BATCH, 77, 32, generator=gen), torch.randn(roundtrip.BATCH, 77, 32, generator=gen)
    np.save(os.path.join(tmp, "cond.npy"), cond.numpy())
    np.save(os.path.join(tmp, "uncond.npy"), uncond.numpy())
    ok = True
    for sampler in ("ddim", "euler_a"):
        theirs = roundtrip.diffusers_loop(diffusers, sampler, unet, config, cond, uncond)
        saved, images = os.path.join(tmp, f"{sampler}.npy"), os.path.join(tmp, f"{sampler}-img")
        code, err = run(binary, ["--unet", os.path.join(out, "unet.pt2"), "--sampler", sampler, "--steps",
                                 str(roundtrip.STEPS), "--seed", str(roundtrip.SEED), "--guidance-scale",
                                 str(roundtrip.GUIDANCE), "--cond", os.path.join(tmp, "cond.npy"), "--uncond",
                                 os.path.join(tmp, "uncond.npy"), "--save-latents", saved, "--save-images", images])
        if code != 0:
            print(f"diffbench --unet unet.pt2 --sampler {sampler}: exit {code}: {err}")
            return False
        with torch.no_grad():
            wanted = vae.decode(theirs / vae.config.scaling_factor, return_dict=False)[0].numpy()
        rel = relative(np.load(saved), theirs.numpy())
        image_diff = float(np.abs(np.load(os.path.join(images, "images.npy")) - wanted).max())
        good = rel <= TOLERANCE and image_diff <= TOLERANCE
        ok = ok and good
        print(f"unet.pt2 + vae_decoder.pt2, {sampler}: latents {rel:.2e} relative to diffusers' loop, "
              f"images max |diff| {image_diff:.2e} {'ok' if good else 'FAIL'}")
    # diffusers' upsampler branches at a batch of 64, so the export holds for 63 at most: 40 images
    # under guidance are 80 latents a call, refused before any work.
    code, err = run(binary, ["--unet", os.path.join(out, "unet.pt2"), "--sampler", "ddim", "--steps", "2",
                             "--shape", "40,4,8,8", "--guidance-scale", "3"])
    capped = code == 2 and err.count("\n") == 1 and "compiled for batches up to 63" in err
    print(f"40 images with guidance: exit {code}, {err.strip()} {'ok' if capped else 'FAIL'}")
    return ok and capped


def against_torchscript(binary, tmp):
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "export_models.py"), "--out", tmp, "--only",
                    "tiny_cond", "--only", "vae_tiny", "--format", "torchscript,aoti"], check=True,
                   capture_output=True)
    ok = True
    for sampler in ("ddim", "euler"):
        results = {}
        for ext in ("pt", "pt2"):
            saved, images = os.path.join(tmp, f"t-{sampler}.{ext}.npy"), os.path.join(tmp, f"t-{sampler}-{ext}")
            code, err = run(binary, ["--unet", os.path.join(tmp, f"tiny_cond.{ext}"), "--vae",
                                     os.path.join(tmp, f"vae_tiny.{ext}"), "--sampler", sampler, "--steps", "6",
                                     "--guidance-scale", "3", "--shape", "2,4,16,16", "--save-latents", saved,
                                     "--save-images", images])
            if code != 0:
                print(f"tiny_cond.{ext} {sampler}: exit {code}: {err}")
                return False
            results[ext] = (np.load(saved), np.load(os.path.join(images, "images.npy")))
        rel = relative(results["pt2"][0], results["pt"][0])
        image_diff = float(np.abs(results["pt2"][1] - results["pt"][1]).max())
        good = rel <= TOLERANCE and image_diff <= TOLERANCE
        ok = ok and good
        print(f"tiny_cond.pt2 against tiny_cond.pt, {sampler}, CFG: latents {rel:.2e} relative, images "
              f"{image_diff:.2e} {'ok' if good else 'FAIL'}")
    return ok


def compiled_rungs(binary, tmp):
    """The trace names its package (manifest "packages"): --compiled runs it, and ablate's compile
    rung measures it against the trace, eager and frozen; in the "all" row compile supersedes
    freeze, which the row records. A trace without a package refuses --compiled in one line."""
    trace = os.path.join(tmp, "tiny_cond.pt")
    report = os.path.join(tmp, "compiled.json")
    code, err = run(binary, ["--unet", trace, "--compiled", "--sampler", "ddim", "--steps", "2", "--json", report])
    context = json.load(open(report))["context"] if code == 0 else {}
    ran = (context.get("models", {}).get("unet", {}).get("format") == "aoti"
           and any("its AOTInductor package" in item for item in context.get("from_manifest", [])))
    print(f"--compiled on the trace: exit {code}, ran {context.get('models')} {'ok' if ran else 'FAIL ' + err}")
    code, err = run(binary, ["--unet", os.path.join(ROOT, "models", "tiny.pt"), "--compiled", "--sampler", "ddim",
                             "--steps", "2"])
    refused = code == 2 and err.count("\n") == 1 and "names no AOTInductor package in fp32" in err
    print(f"--compiled on a trace without a package: exit {code}, {err.strip()} {'ok' if refused else 'FAIL'}")
    ladder = os.path.join(tmp, "ladder.json")
    done = subprocess.run([binary, "ablate", "--unet", trace, "--toggles", "freeze,compile", "--fast", "none",
                           "--sampler", "ddim", "--steps", "4", "--warmup", "1", "--repeat", "4", "--threads", "1", "-q",
                           "--json", ladder], capture_output=True, text=True)
    rows = {r["label"]: r for r in json.load(open(ladder))["ablation"]["rows"]} if done.returncode == 0 else {}
    compile_row, all_row = rows.get("compile", {}), rows.get("all", {})
    drift = (compile_row.get("drift") or {})
    rungs = (set(rows) == {"baseline", "freeze", "compile", "all"} and compile_row.get("status") == "ok"
             and (drift.get("identical") or (drift.get("psnr_db") or 0) > 80)
             and all_row.get("status") == "ok" and all_row.get("toggles") == ["compile"]
             and all_row.get("superseded") == ["freeze"])
    print(f"ablate --toggles freeze,compile: exit {done.returncode}, rows {sorted(rows)}, compile drift {drift}, "
          f"all superseded {all_row.get('superseded')} {'ok' if rungs else 'FAIL ' + done.stderr}")
    return ran and refused and rungs


def refusals(binary, tmp):
    package = os.path.join(tmp, "tiny_cond.pt2")
    base = ["--unet", package, "--sampler", "ddim", "--steps", "2"]
    cases = {"another latent size": (["--shape", "1,4,32,32"], "compiled for latents [B,4,16,16]"),
             "another conditioning": (["--cond-shape", "1,9,32"], "encoder_hidden_states has shape [2,9,32]"),
             "--freeze": (["--freeze"], "is an AOTInductor package, compiled already"),
             "--dtype bf16": (["--dtype", "bf16"], "was compiled in fp32"),
             "--vae-tiling on a package": (["--vae", os.path.join(tmp, "vae_tiny.pt2"), "--vae-tiling", "8:2"],
                                           "--vae-tiling needs a TorchScript VAE")}
    ok = True
    for name, (extra, says) in cases.items():
        code, err = run(binary, base + extra)
        good = code == 2 and err.startswith("error: ") and err.count("\n") == 1 and says in err
        ok = ok and good
        print(f"{name}: exit {code}, {err.strip()} {'ok' if good else 'FAIL'}")
    report = os.path.join(tmp, "r.json")
    code, _ = run(binary, base + ["--json", report])
    models = json.load(open(report))["context"]["models"] if code == 0 else {}
    unet = models.get("unet") or {}
    recorded = unet.get("format") == "aoti" and (unet.get("compile_s") or 0) > 0
    print(f"the report's context: {models} {'ok' if recorded else 'FAIL'}")
    gaussian = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "export_models.py"), "--out", tmp,
                               "--only", "gaussian", "--format", "aoti"], capture_output=True, text=True)
    refused = gaussian.returncode != 0 and "cannot be compiled" in gaussian.stderr
    print(f"export_models.py --only gaussian --format aoti: exit {gaussian.returncode} {'ok' if refused else 'FAIL'}")
    return ok and recorded and refused


def main():
    diffusers = reference.import_diffusers(None)
    if diffusers is None:
        return reference.SKIP
    binary = os.environ.get("DIFFBENCH_BIN", os.path.join(ROOT, "build", "diffbench"))
    with tempfile.TemporaryDirectory(prefix="diffbench-aoti-") as tmp:
        results = [against_diffusers(diffusers, binary, tmp), against_torchscript(binary, tmp),
                   compiled_rungs(binary, tmp), refusals(binary, tmp)]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
