"""The export round trip against diffusers itself: a small random-weight UNet2DConditionModel (SD
1.5's block types, narrowed) and AutoencoderKL are saved as a pipeline folder with an SD 1.5
scheduler config, exported by scripts/export_diffusers.py, and run by diffbench (--model DIR).
diffbench's final latents must equal diffusers' own denoising loop on the same untraced modules
(same seed, same conditioning, CFG) within 1e-4 relative, and the images its exported VAE decoder
makes from them (diffbench's own images.npy, decoded at the manifest's scaling factor, and again at
twice it with --vae-scaling-factor) must equal diffusers' decode of diffusers' latents within 1e-4, for ddim, dpmpp_2m
and euler_a. The same for an SDXL-shaped UNet (added text_time conditioning, which the export bakes
in as constants for its --height/--width), for ddim and euler_a. Then the dtype variants
(dtype_variants). Exits 77 (skipped) where diffusers is absent.

    DIFFBENCH_BIN=build/diffbench .venv/bin/python tests/python/test_export_roundtrip.py
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
from diffbench_tools import reference  # SD 1.5's config, the sampler classes, diffusers' import (PYTHONPATH=scripts)

TOLERANCE = 1e-4
STEPS, GUIDANCE, SEED, BATCH = 8, 3.0, 7, 2


POOLED, TIME_DIM, SIZE = 16, 8, 16  # the SDXL-shaped UNet's pooled text width, time-id embedding, image size


def build_pipeline(diffusers, folder, sdxl):
    torch.manual_seed(0)
    extra = {"addition_embed_type": "text_time", "addition_time_embed_dim": TIME_DIM,
             "projection_class_embeddings_input_dim": POOLED + 6 * TIME_DIM} if sdxl else {}
    unet = diffusers.UNet2DConditionModel(
        sample_size=8, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(32, 64),
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=32, attention_head_dim=8, norm_num_groups=32, **extra)
    vae = diffusers.AutoencoderKL(
        in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2, block_out_channels=(32, 64), latent_channels=4,
        norm_num_groups=32, sample_size=16,
        scaling_factor=0.13025 if sdxl else 0.18215)  # SDXL's own factor: not diffbench's default, so the
    # manifest's factor must reach the decode (a diffbench that ignored it failed only here)
    unet.save_pretrained(os.path.join(folder, "unet"), safe_serialization=False)
    vae.save_pretrained(os.path.join(folder, "vae"), safe_serialization=False)
    diffusers.DDIMScheduler.from_config(reference.SD15).save_pretrained(os.path.join(folder, "scheduler"))
    with open(os.path.join(folder, "model_index.json"), "w") as f:
        json.dump({"_class_name": "StableDiffusionXLPipeline" if sdxl else "StableDiffusionPipeline"}, f)


def diffusers_loop(diffusers, sampler, unet, config, cond, uncond):
    """diffusers' own CFG denoising loop, as StableDiffusionPipeline runs it."""
    cls_name, extra = reference.SAMPLERS[sampler]
    scheduler = getattr(diffusers, cls_name).from_config({**config, **extra})
    generator = torch.Generator().manual_seed(SEED)
    scheduler.set_timesteps(STEPS)
    latents = torch.randn((BATCH, 4, 8, 8), generator=generator, dtype=torch.float32) * scheduler.init_noise_sigma
    context = torch.cat([uncond, cond])
    added = {}
    if unet.config.addition_embed_type == "text_time":  # what the export bakes in: zero pooled text, the size
        added["added_cond_kwargs"] = {"text_embeds": torch.zeros(2 * BATCH, POOLED),
                                      "time_ids": torch.tensor([[SIZE, SIZE, 0, 0, SIZE, SIZE]] * 2 * BATCH).float()}
    with torch.no_grad():
        for t in scheduler.timesteps:
            x = scheduler.scale_model_input(torch.cat([latents] * 2), t)
            eps_u, eps_c = unet(x, t, context, return_dict=False, **added)[0].chunk(2)
            latents = scheduler.step(eps_u + GUIDANCE * (eps_c - eps_u), t, latents, generator=generator).prev_sample
    return latents


def quiet_success(export):
    """A successful export says what it wrote, plus at most a note (no text encoder) and one line
    counting warnings: no library log, no pages of tracer warnings."""
    lines = (export.stdout + export.stderr).strip().splitlines()
    wrote = [line for line in lines if line.startswith("wrote ")]
    ok = (export.returncode == 0 and len(lines) <= 3 and len(wrote) == 1
          and all(line.startswith(("wrote ", "export_diffusers.py: ")) for line in lines))
    if not ok:
        print(f"export_diffusers.py (exit {export.returncode}) was not quiet on success:\n"
              f"{export.stdout}{export.stderr}")
    return ok


def round_trip(diffusers, binary, tmp, sdxl, samplers):
    """Export one pipeline and compare each sampler; returns the worst error, or None on a failure."""
    kind = "sdxl" if sdxl else "sd15"
    pipe, out = os.path.join(tmp, kind), os.path.join(tmp, kind + "-out")
    build_pipeline(diffusers, pipe, sdxl)
    export = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "export_diffusers.py"), pipe, "--out", out,
                             "--batch", str(BATCH), "--attention", "classic"], capture_output=True, text=True)
    if not quiet_success(export):
        return None
    unet = diffusers.UNet2DConditionModel.from_pretrained(os.path.join(pipe, "unet"), use_safetensors=False).eval()
    vae = diffusers.AutoencoderKL.from_pretrained(os.path.join(pipe, "vae"), use_safetensors=False).eval()
    # diffusers' loop reads the pipeline folder's own config (#41: the export's copy, if corrupted,
    # would have been the reference too, and passed).
    with open(os.path.join(pipe, "scheduler", "scheduler_config.json")) as f:
        config = json.load(f)
    gen = torch.Generator().manual_seed(1)
    cond, uncond = torch.randn(BATCH, 77, 32, generator=gen), torch.randn(BATCH, 77, 32, generator=gen)
    np.save(os.path.join(tmp, "cond.npy"), cond.numpy())
    np.save(os.path.join(tmp, "uncond.npy"), uncond.numpy())
    worst = 0.0
    for sampler in samplers:
        theirs = diffusers_loop(diffusers, sampler, unet, config, cond, uncond)
        saved, images = os.path.join(tmp, f"{kind}-{sampler}.npy"), os.path.join(tmp, f"{kind}-{sampler}-img")
        run = [binary, "--model", out, "--sampler", sampler, "--steps", str(STEPS), "--seed", str(SEED),
               "--guidance-scale", str(GUIDANCE), "--cond", os.path.join(tmp, "cond.npy"),
               "--uncond", os.path.join(tmp, "uncond.npy"), "--warmup", "0", "--repeat", "1", "--threads", "1", "-q"]
        subprocess.run(run + ["--save-latents", saved, "--save-images", images], check=True)
        ours = torch.from_numpy(np.load(saved))
        rel = float((ours - theirs).norm() / theirs.norm())
        scale = float(vae.config.scaling_factor)
        with torch.no_grad():
            reference_images = vae.decode(theirs / scale, return_dict=False)[0]
        # diffbench's own decode (the manifest's scaling factor, its exported decoder), not ours in Python.
        image_diff = float((torch.from_numpy(np.load(os.path.join(images, "images.npy"))) - reference_images).abs().max())
        ok = rel <= TOLERANCE and image_diff <= TOLERANCE
        if sampler == samplers[0]:  # --vae-scaling-factor overrides the manifest's: decode at twice the factor
            subprocess.run(run + ["--save-images", images + "-x2", "--vae-scaling-factor", str(2 * scale)], check=True)
            with torch.no_grad():
                wanted = vae.decode(theirs / (2 * scale), return_dict=False)[0]
            flag_diff = float((torch.from_numpy(np.load(os.path.join(images + "-x2", "images.npy"))) - wanted).abs().max())
            ok = ok and flag_diff <= TOLERANCE
            print(f"{kind} {sampler}: --vae-scaling-factor {2 * scale:g}: images max |diff| {flag_diff:.2e}")
        worst = max(worst, rel, image_diff)
        print(f"{kind} {sampler}: latents relative error {rel:.2e}, images max |diff| {image_diff:.2e} "
              f"{'ok' if ok else 'FAIL'}")
        if not ok:
            return None
    return worst


def run_ddim(binary, folder, extra, saved):
    """diffbench --model FOLDER, DDIM 4 steps, the final latents to `saved`; (exit code, stderr)."""
    run = subprocess.run([binary, "--model", folder, "--sampler", "ddim", "--steps", "4", "--timestep-spacing",
                          "trailing", "--warmup", "0", "--repeat", "1", "--threads", "1", "-q", "--save-latents",
                          saved] + extra, capture_output=True, text=True)
    return run.returncode, run.stderr


def dtype_variants(binary, tmp):
    """A trace keeps its dtype: --dtype bf16 on the fp32 export is one line naming the fix (exit 2);
    an fp32,bf16 export runs --dtype bf16 on its bf16 files, near the fp32 result; a bf16-only
    export runs as bf16 with no flag (the manifest's dtype)."""
    export = os.path.join(ROOT, "scripts", "export_diffusers.py")
    fp32, both, bf16 = (os.path.join(tmp, name) for name in ("sd15-out", "both-out", "bf16-out"))
    code, err = run_ddim(binary, fp32, ["--dtype", "bf16"], os.path.join(tmp, "x.npy"))
    refused = code == 2 and err.startswith("error: ") and err.count("\n") == 1 and "bf16 variant" in err
    print(f"fp32 export, --dtype bf16: exit {code}, {err.strip()} {'ok' if refused else 'FAIL'}")
    # #41: an export onto an earlier one is refused unless --force (it replaced it without a word).
    again = subprocess.run([sys.executable, export, os.path.join(tmp, "sd15"), "--out", fp32, "--batch", str(BATCH)],
                           capture_output=True, text=True)
    kept = again.returncode != 0 and "holds an earlier export (diffbench.json); add --force" in again.stderr
    print(f"export onto an earlier export: exit {again.returncode} {'ok' if kept else 'FAIL ' + again.stderr}")
    refused = refused and kept
    for out, dtypes in ((both, "fp32,bf16"), (bf16, "bf16")):
        subprocess.run([sys.executable, export, os.path.join(tmp, "sd15"), "--out", out, "--batch", str(BATCH),
                        "--attention", "classic", "--dtype", dtypes], check=True, capture_output=True)
    files = all(os.path.exists(os.path.join(both, f)) for f in ("unet-bf16.pt", "vae_decoder-bf16.pt"))
    report = os.path.join(tmp, "both.json")
    code32, _ = run_ddim(binary, both, [], os.path.join(tmp, "fp32.npy"))
    code16, err = run_ddim(binary, both, ["--dtype", "bf16", "--json", report], os.path.join(tmp, "bf16.npy"))
    ours, theirs = (0, 1)
    if code16 == code32 == 0:
        ours, theirs = (np.load(os.path.join(tmp, f)) for f in ("bf16.npy", "fp32.npy"))
    rel = float(np.linalg.norm(ours - theirs) / np.linalg.norm(theirs))
    context = json.load(open(report))["context"] if code16 == 0 else {}
    picked = context.get("dtype") == "bf16" and any("unet-bf16.pt" in m for m in context.get("from_manifest", []))
    variants = files and picked and rel < 0.05
    print(f"fp32,bf16 export, --dtype bf16: ran {context.get('dtype')} from {context.get('from_manifest')}, "
          f"latents {rel:.2e} relative to fp32 {'ok' if variants else 'FAIL ' + err}")
    code, _ = run_ddim(binary, bf16, ["--json", report], os.path.join(tmp, "x.npy"))
    alone = code == 0 and json.load(open(report))["context"]["dtype"] == "bf16"
    print(f"bf16 export: diffbench ran it as bf16 with no --dtype {'ok' if alone else 'FAIL'}")
    return refused and variants and alone


def main():
    diffusers = reference.import_diffusers(None)
    if diffusers is None:
        return reference.SKIP
    binary = os.environ.get("DIFFBENCH_BIN", os.path.join(ROOT, "build", "diffbench"))
    with tempfile.TemporaryDirectory(prefix="diffbench-export-") as tmp:
        worst = [round_trip(diffusers, binary, tmp, False, ("ddim", "dpmpp_2m", "euler_a")),
                 round_trip(diffusers, binary, tmp, True, ("ddim", "euler_a"))]
        bf16 = dtype_variants(binary, tmp)
    if None in worst or not bf16:
        return 1
    print(f"export round trip: SD 1.5- and SDXL-shaped pipelines with CFG {GUIDANCE}, worst {max(worst):.2e} "
          f"(tolerance {TOLERANCE:g})")
    return 0

if __name__ == "__main__":
    sys.exit(main())
