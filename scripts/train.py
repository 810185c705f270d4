#!/usr/bin/env python3
"""Train the digit models diffbench ships, one stage at a time (docs/models.md: the recipe).

    .venv/bin/python scripts/train.py STAGE [--quick] [options]     # scripts/train.py STAGE --help

Stages, in the order they depend on each other:
  data        check the committed digits (datasets/mnist-10k.npz) and print their counts
  vae         the latent autoencoder (models/digits/vae_decoder.pt)
  teacher     the class-conditional epsilon UNet on SD 1.5's schedule (models/digits/unet.pt)
  classifier  the feature network and reference statistics for --quality fd
  lcm         the latent consistency student (4 steps)
  turbo       the adversarially distilled one-step student
  flow        the rectified-flow (velocity) model on the teacher's latents (models/digits/flow.pt)
  retrace     re-trace shipped models with this torch, checking their outputs are unchanged

--quick runs a few iterations on 400 of the committed digits (what the tests do); set
DIFFBENCH_TRAIN_DATA to a scratch folder to keep it out of data/.
"""
import importlib
import sys

from diffbench_tools.cli import fail, run

STAGES = ("data", "vae", "teacher", "classifier", "lcm", "turbo", "flow", "retrace")

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        sys.exit(0 if len(sys.argv) >= 2 else 2)
    stage = sys.argv[1]
    if stage not in STAGES:
        fail(f"unknown stage '{stage}'; one of: {', '.join(STAGES)}")
    sys.argv = [f"{sys.argv[0]} {stage}"] + sys.argv[2:]  # argparse and error lines say "train.py STAGE"
    run(importlib.import_module(f"diffbench_tools.train.{stage}").main)
