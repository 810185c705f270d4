"""The flow-matching export round trip against diffusers itself: a small random-weight SD3-style
pipeline (SD3Transformer2DModel, an AutoencoderKL with a shift_factor, FlowMatchEulerDiscreteScheduler
with shift 3.0) and a Flux-style one (FluxTransformer2DModel with guidance embedding, dynamic
shifting) are saved as pipeline folders, exported by scripts/export_diffusers.py and run by
diffbench --model DIR. diffbench's final latents must equal diffusers' own loop on the untraced
modules within 1e-4 relative: SD3's with classifier-free guidance (flow_euler and flow_heun), Flux's
as FluxPipeline runs it (packed latents, ids, timestep / 1000, guidance 3.5, its linspace sigmas
and mu from the image's token count); and diffbench's decoded images must equal the VAE's decode of
diffusers' latents (latents / scaling + shift). Exits 77 (skipped) where diffusers is absent.

    DIFFBENCH_BIN=build/diffbench PYTHONPATH=scripts .venv/bin/python tests/python/test_export_flow_roundtrip.py
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

from diffbench_tools import reference
from diffbench_tools.flow_export import image_ids

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TOLERANCE = 1e-4
STEPS, GUIDANCE, SEED, BATCH, TOKENS, FLUX_GUIDANCE = 6, 3.0, 7, 2, 5, 3.5


def build_pipeline(diffusers, folder, flux):
    torch.manual_seed(0)
    if flux:
        transformer = diffusers.FluxTransformer2DModel(
            patch_size=1, in_channels=16, num_layers=1, num_single_layers=1, attention_head_dim=8,
            num_attention_heads=2, joint_attention_dim=32, pooled_projection_dim=16, guidance_embeds=True,
            axes_dims_rope=(2, 2, 4))
        scheduler = diffusers.FlowMatchEulerDiscreteScheduler(shift=3.0, use_dynamic_shifting=True)
    else:
        transformer = diffusers.SD3Transformer2DModel(
            sample_size=8, patch_size=2, in_channels=4, num_layers=2, attention_head_dim=8, num_attention_heads=2,
            joint_attention_dim=32, caption_projection_dim=16, pooled_projection_dim=16, out_channels=4,
            pos_embed_max_size=16)
        scheduler = diffusers.FlowMatchEulerDiscreteScheduler(shift=3.0)
    vae = diffusers.AutoencoderKL(
        in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2, block_out_channels=(32, 64), latent_channels=4,
        norm_num_groups=32, sample_size=16, scaling_factor=1.5305, shift_factor=0.0609)
    transformer.save_pretrained(os.path.join(folder, "transformer"), safe_serialization=False)
    vae.save_pretrained(os.path.join(folder, "vae"), safe_serialization=False)
    scheduler.save_pretrained(os.path.join(folder, "scheduler"))
    with open(os.path.join(folder, "model_index.json"), "w") as f:
        json.dump({"_class_name": "FluxPipeline" if flux else "StableDiffusion3Pipeline"}, f)


def sd3_loop(diffusers, sampler, transformer, config, cond, uncond):
    """StableDiffusion3Pipeline's CFG loop: [uncond; cond] in one batch, zero pooled projections."""
    scheduler = getattr(diffusers, reference.FLOW_SAMPLERS[sampler]).from_config(config)
    scheduler.set_timesteps(STEPS)
    latents = torch.randn((BATCH, 4, 8, 8), generator=torch.Generator().manual_seed(SEED))
    context, pooled = torch.cat([uncond, cond]), torch.zeros(2 * BATCH, 16)
    with torch.no_grad():
        for t in scheduler.timesteps:
            v_u, v_c = transformer(hidden_states=torch.cat([latents] * 2), encoder_hidden_states=context,
                                   pooled_projections=pooled, timestep=t.expand(2 * BATCH), return_dict=False)[0].chunk(2)
            latents = scheduler.step(v_u + GUIDANCE * (v_c - v_u), t, latents).prev_sample
    return latents


def flux_loop(diffusers, transformer, config, cond):
    """FluxPipeline's loop: latents drawn [B,C,H,W] and packed, sigmas linspace(1, 1/n, n), mu from
    the packed token count, timestep / 1000, the guidance embedding, no CFG."""
    scheduler = diffusers.FlowMatchEulerDiscreteScheduler.from_config(config)
    h = w = 8
    c = scheduler.config
    m = (c.max_shift - c.base_shift) / (c.max_image_seq_len - c.base_image_seq_len)
    mu = (h // 2) * (w // 2) * m + c.base_shift - m * c.base_image_seq_len  # calculate_shift
    scheduler.set_timesteps(STEPS, sigmas=np.linspace(1.0, 1 / STEPS, STEPS), mu=mu)
    latents = torch.randn((BATCH, 4, h, w), generator=torch.Generator().manual_seed(SEED))
    latents = latents.view(BATCH, 4, h // 2, 2, w // 2, 2).permute(0, 2, 4, 1, 3, 5).reshape(BATCH, h * w // 4, 16)
    ids, txt = image_ids(h // 2, w // 2), torch.zeros(TOKENS, 3)
    with torch.no_grad():
        for t in scheduler.timesteps:
            v = transformer(hidden_states=latents, timestep=t.expand(BATCH) / 1000,
                            guidance=torch.full([BATCH], FLUX_GUIDANCE), pooled_projections=torch.zeros(BATCH, 16),
                            encoder_hidden_states=cond, txt_ids=txt, img_ids=ids, return_dict=False)[0]
            latents = scheduler.step(v, t, latents).prev_sample
    return latents.view(BATCH, h // 2, w // 2, 4, 2, 2).permute(0, 3, 1, 4, 2, 5).reshape(BATCH, 4, h, w)


def round_trip(diffusers, binary, tmp, flux, samplers):
    kind = "flux" if flux else "sd3"
    pipe, out = os.path.join(tmp, kind), os.path.join(tmp, kind + "-out")
    build_pipeline(diffusers, pipe, flux)
    export = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "export_diffusers.py"), pipe, "--out", out,
                             "--batch", str(BATCH), "--height", "16", "--width", "16"], capture_output=True, text=True)
    if export.returncode != 0:
        print(f"export_diffusers.py failed ({export.returncode}):\n{export.stdout}{export.stderr}")
        return None
    cls = diffusers.FluxTransformer2DModel if flux else diffusers.SD3Transformer2DModel
    transformer = cls.from_pretrained(os.path.join(pipe, "transformer"), use_safetensors=False).eval()
    vae = diffusers.AutoencoderKL.from_pretrained(os.path.join(pipe, "vae"), use_safetensors=False).eval()
    # diffusers' loop reads the pipeline folder's own config, never the export's copy (#41).
    with open(os.path.join(pipe, "scheduler", "scheduler_config.json")) as f:
        config = json.load(f)
    gen = torch.Generator().manual_seed(1)
    cond, uncond = torch.randn(BATCH, TOKENS, 32, generator=gen), torch.randn(BATCH, TOKENS, 32, generator=gen)
    np.save(os.path.join(tmp, "cond.npy"), cond.numpy())
    np.save(os.path.join(tmp, "uncond.npy"), uncond.numpy())
    worst = 0.0
    for sampler in samplers:
        theirs = flux_loop(diffusers, transformer, config, cond) if flux else sd3_loop(
            diffusers, sampler, transformer, config, cond, uncond)
        saved, images = os.path.join(tmp, f"{kind}-{sampler}.npy"), os.path.join(tmp, f"{kind}-{sampler}-img")
        run = [binary, "--model", out, "--sampler", sampler, "--steps", str(STEPS), "--seed", str(SEED),
               "--cond", os.path.join(tmp, "cond.npy"), "--warmup", "0", "--repeat", "1", "--threads", "1", "-q",
               "--save-latents", saved, "--save-images", images]
        if not flux:
            run += ["--guidance-scale", str(GUIDANCE), "--uncond", os.path.join(tmp, "uncond.npy")]
        done = subprocess.run(run, capture_output=True, text=True)
        if done.returncode != 0:
            print(f"{kind} {sampler}: diffbench failed ({done.returncode}): {done.stderr}")
            return None
        ours = torch.from_numpy(np.load(saved))
        rel = float((ours - theirs).norm() / theirs.norm())
        with torch.no_grad():
            wanted = vae.decode(theirs / vae.config.scaling_factor + vae.config.shift_factor, return_dict=False)[0]
        image_diff = float((torch.from_numpy(np.load(os.path.join(images, "images.npy"))) - wanted).abs().max())
        ok = rel <= TOLERANCE and image_diff <= TOLERANCE
        print(f"{kind} {sampler}: latents relative error {rel:.2e}, images max |diff| {image_diff:.2e} "
              f"{'ok' if ok else 'FAIL'}")
        if not ok:
            return None
        worst = max(worst, rel, image_diff)
    return worst


def main():
    diffusers = reference.import_diffusers(None)
    if diffusers is None:
        return reference.SKIP
    binary = os.environ.get("DIFFBENCH_BIN", os.path.join(ROOT, "build", "diffbench"))
    with tempfile.TemporaryDirectory(prefix="diffbench-flow-export-") as tmp:
        worst = [round_trip(diffusers, binary, tmp, False, ("flow_euler", "flow_heun")),
                 round_trip(diffusers, binary, tmp, True, ("flow_euler",))]
    if None in worst:
        return 1
    print(f"flow export round trip: SD3-style (CFG {GUIDANCE}) and Flux-style pipelines, worst {max(worst):.2e} "
          f"(tolerance {TOLERANCE:g})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
