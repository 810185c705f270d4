"""An SD-1.5-shaped diffusers pipeline folder with random weights: UNet2DConditionModel with
Stable Diffusion 1.5's configuration (859.5M parameters, context 768), its AutoencoderKL
(83.7M) and its DDIM scheduler config; what the ladder at a real size is measured on
(bench/sd15_ladder.sh). Random weights time like trained ones; the pictures mean nothing.

    PYTHONPATH=scripts .venv/bin/python bench/sd15_pipeline.py FOLDER [--tiny] [--diffusers DIR]

--tiny: the same blocks at toy widths (a few MB), for the GPU kit's CPU dry run (bench/gpu/).
"""
import argparse
import json
import os
import sys

import torch

from diffbench_tools import reference


def main(folder, tiny, diffusers_dir):
    diffusers = reference.import_diffusers(diffusers_dir)
    if diffusers is None:
        print("error: diffusers is needed: scripts/setup.sh installs it into .venv/", file=sys.stderr)
        return 1
    torch.manual_seed(0)
    if tiny:
        unet = diffusers.UNet2DConditionModel(sample_size=8, cross_attention_dim=32, attention_head_dim=2,
                                              block_out_channels=(32, 64, 64, 64), layers_per_block=1,
                                              norm_num_groups=8)
        vae_widths, vae_layers = (8, 16, 16, 16), 1
    else:
        unet = diffusers.UNet2DConditionModel(sample_size=64, cross_attention_dim=768, attention_head_dim=8)
        vae_widths, vae_layers = (128, 256, 512, 512), 2
    vae = diffusers.AutoencoderKL(
        in_channels=3, out_channels=3, latent_channels=4, layers_per_block=vae_layers, sample_size=8 * unet.config.sample_size,
        block_out_channels=vae_widths, down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4, scaling_factor=0.18215, norm_num_groups=8 if tiny else 32)
    unet.save_pretrained(os.path.join(folder, "unet"), safe_serialization=False)
    vae.save_pretrained(os.path.join(folder, "vae"), safe_serialization=False)
    diffusers.DDIMScheduler.from_config(reference.SD15).save_pretrained(os.path.join(folder, "scheduler"))
    with open(os.path.join(folder, "model_index.json"), "w") as f:
        json.dump({"_class_name": "StableDiffusionPipeline"}, f)
    count = sum(p.numel() for p in unet.parameters()) / 1e6
    print(f"wrote {folder}: SD-1.5-shaped UNet ({count:.1f}M parameters), VAE, DDIM scheduler")
    return 0


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("folder")
    p.add_argument("--tiny", action="store_true", help="toy widths (the GPU kit's dry run)")
    p.add_argument("--diffusers", help="a diffusers source folder (default: the installed package)")
    a = p.parse_args()
    sys.exit(main(a.folder, a.tiny, a.diffusers))
