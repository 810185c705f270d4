#!/usr/bin/env python3
"""Export a diffusers pipeline (a folder with unet/, vae/ and scheduler/, or a hub id where this
machine can download) to what diffbench runs, in one folder:

    unet.pt                traced UNet: forward(sample, timestep, encoder_hidden_states) -> tensor;
                           SDXL's extra conditioning (text_embeds, time_ids for --height/--width)
                           is baked in as constants, so the contract stays three inputs
    vae_decoder.pt         traced VAE decoder: forward(latents) -> images in [-1, 1]
    scheduler_config.json  the pipeline's own, unchanged
    cond.npy, uncond.npy   prompt embeddings, when the pipeline's text encoder can be loaded
    unet.pt2, vae_decoder.pt2  with --format aoti (or torchscript,aoti): the same modules compiled
                           by AOTInductor (torch.compile's C++ form) for this machine, at
                           --height/--width and any batch: diffbench --unet DIR/unet.pt2
    diffbench.json         the manifest (also inside unet.pt): latent shape, VAE scaling factor,
                           prediction type, the files above, dtype, source, and the sampler, steps
                           and guidance the pipeline is meant for where it has them

    python3 scripts/export_diffusers.py PIPELINE_DIR --out DIR [--height 512 --width 512] [--dtype fp16]
    build/diffbench --model DIR --sampler ddim --steps 20

A trace keeps the dtype it was made in (diffusers casts the timestep embedding to the weights'
dtype, and the trace records that cast), so `diffbench --dtype bf16` cannot cast an fp32 export.
`--dtype fp32,bf16` writes every dtype named: the first as unet.pt and vae_decoder.pt, each other
as unet-DTYPE.pt and vae_decoder-DTYPE.pt with its own manifest, and every manifest lists them
(`dtype_models`), so `diffbench --dtype bf16` and `diffbench ablate` load the bf16 trace.

A flow-matching pipeline (transformer/ instead of unet/: SD3's SD3Transformer2DModel or Flux's
FluxTransformer2DModel) exports to the same contract: unet.pt takes (sample [B,C,H,W], timestep,
encoder_hidden_states) and returns the velocity, with the pooled text projection (zeros), Flux's
2x2 packing, position ids, timestep / 1000 and distilled guidance (--flux-guidance) baked in; the
manifest names flow_prediction, flow_euler, the patch size and, for Flux, the pipeline's
linspace sigmas (diffbench computes mu from the latent shape); the VAE decoder adds the VAE's
shift_factor (diffbench_tools/flow_export.py).

diffusers is the installed package (.venv/ from scripts/setup.sh), or a source folder given with
--diffusers. Without a loadable text encoder (`transformers` is not among the pinned packages of
scripts/requirements.txt: pip install it to export real prompts), the manifest gives `cond_shape` (zeros of the right shape: timing only) and the
script says so; give --cond/--uncond to diffbench, or export on a machine with transformers.
"""
import argparse
import copy
import json
import os
import sys
import warnings

import numpy as np
import torch

from diffbench_tools import flow_export
from diffbench_tools.aoti import parse_formats
from diffbench_tools.cli import fail
from diffbench_tools.pipeline_folder import DTYPES, load, pipeline_class, read_scheduler_config, write_export
from diffbench_tools.reference import import_diffusers


class UNetContract(torch.nn.Module):
    """diffbench's UNet contract around a UNet2DConditionModel; SDXL's added conditioning is a
    constant (buffers), expanded to the batch."""

    def __init__(self, unet, text_embeds=None, time_ids=None):
        super().__init__()
        self.unet = unet
        self.sdxl = text_embeds is not None
        if self.sdxl:
            self.register_buffer("text_embeds", text_embeds)
            self.register_buffer("time_ids", time_ids)

    def forward(self, sample, timestep, encoder_hidden_states):
        kwargs = {}
        if self.sdxl:
            b = sample.shape[0]
            kwargs["added_cond_kwargs"] = {"text_embeds": self.text_embeds.expand(b, -1),
                                           "time_ids": self.time_ids.expand(b, -1)}
        return self.unet(sample, timestep, encoder_hidden_states, return_dict=False, **kwargs)[0]


class VaeDecoder(torch.nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, latents):
        return self.vae.decode(latents, return_dict=False)[0]


def sdxl_constants(unet, height, width, dtype):
    """Zero pooled text embeddings and the (original size, crop, target size) time ids, or Nones."""
    if unet.config.get("addition_embed_type") != "text_time":
        return None, None
    time_dim = unet.config.addition_time_embed_dim
    pooled = unet.config.projection_class_embeddings_input_dim - 6 * time_dim
    time_ids = torch.tensor([[height, width, 0, 0, height, width]], dtype=dtype)
    return torch.zeros(1, pooled, dtype=dtype), time_ids


def recommended(source, scheduler_config):
    """The sampler, steps and guidance a pipeline is meant for, where its scheduler or name says."""
    name = os.path.basename(os.path.normpath(source)).lower()
    if scheduler_config.get("_class_name") == "LCMScheduler" or "lcm" in name:
        return {"sampler": "lcm", "steps": 4, "guidance_scale": 1.0}
    if "turbo" in name:
        return {"sampler": "turbo", "steps": 1, "guidance_scale": 0.0}
    return {}


def prompt_embeddings(diffusers, source, prompt, negative, batch):
    """(cond, uncond) from the pipeline's CLIP text encoder, or None when it cannot be loaded."""
    try:
        from transformers import CLIPTextModel, CLIPTokenizer
        tokenizer = CLIPTokenizer.from_pretrained(os.path.join(source, "tokenizer"))
        encoder = CLIPTextModel.from_pretrained(os.path.join(source, "text_encoder")).eval()
    except Exception as e:  # noqa: BLE001  (transformers missing, or a pipeline without one)
        print(f"export_diffusers.py: note: no text encoder ({type(e).__name__}: {e}); the manifest gives "
              "cond_shape (zeros: timing only); pass --cond/--uncond to diffbench for real prompts", file=sys.stderr)
        return None
    out = []
    for text in (prompt, negative):
        ids = tokenizer([text] * batch, padding="max_length", max_length=tokenizer.model_max_length,
                        truncation=True, return_tensors="pt").input_ids
        with torch.no_grad():
            out.append(encoder(ids)[0].float().numpy())
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("pipeline", help="a diffusers pipeline folder (unet/, vae/, scheduler/) or a hub id")
    p.add_argument("--out", required=True, help="folder to write (created)")
    p.add_argument("--force", action="store_true", help="replace an earlier export in --out")
    p.add_argument("--dtype", default="fp32",
                   help="fp32, bf16 or fp16, or several comma-separated (fp32,bf16): the first is unet.pt, "
                        "each other unet-DTYPE.pt, and the manifests name them all")
    p.add_argument("--height", type=int, help="image height (default: the UNet's sample_size x the VAE factor)")
    p.add_argument("--width", type=int)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                   help="where to trace (default: cuda when available); fp16 needs cuda")
    p.add_argument("--format", default="torchscript",
                   help="torchscript (unet.pt, vae_decoder.pt), aoti (unet.pt2, vae_decoder.pt2: AOTInductor, "
                        "compiled for this machine at --height/--width, any batch), or both comma-separated")
    p.add_argument("--attention", choices=["default", "classic"], default="default",
                   help="classic: diffusers' AttnProcessor (plain matmul-softmax), e.g. for older torch")
    p.add_argument("--prompt", default="a photograph of an astronaut riding a horse")
    p.add_argument("--negative-prompt", default="")
    p.add_argument("--flux-guidance", type=float, default=3.5,
                   help="Flux: the distilled guidance its transformer embeds (baked in; where its config has guidance_embeds)")
    p.add_argument("--diffusers", help="a diffusers source folder (default: the installed package)")
    p.add_argument("--verbose", action="store_true",
                   help="show diffusers' log and every tracer warning (by default: one summary line)")
    args = p.parse_args()
    if args.verbose:
        export(args)
        return
    # Quiet on success: the libraries' info and warning logs are hidden and the tracer's warnings
    # about Python values become one summary line.
    # The libraries read their level when first imported (after this), from these variables.
    os.environ.setdefault("DIFFUSERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        export(args)
    if caught:
        kinds = sorted({w.category.__name__ for w in caught})
        print(f"export_diffusers.py: {len(caught)} warning(s) while loading and tracing ({', '.join(kinds)}); "
              "--verbose shows them")


def export(args):
    hub_id = args.pipeline.count("/") == 1 and not args.pipeline.startswith((".", "/", "~"))
    if not os.path.isdir(args.pipeline) and (os.path.exists(args.pipeline) or not hub_id):
        fail(f"'{args.pipeline}' is neither a pipeline folder nor a hub id (ORG/NAME)")
    if os.path.exists(args.out) and os.path.realpath(args.out) == os.path.realpath(args.pipeline):
        fail(f"--out '{args.out}' is the pipeline folder itself; name another folder")
    if os.path.exists(os.path.join(args.out, "diffbench.json")) and not args.force:  # #41: replaced without a word
        fail(f"--out '{args.out}' holds an earlier export (diffbench.json); add --force to replace it, "
             "or name another folder")
    diffusers = import_diffusers(args.diffusers)  # from the fidelity check: the same search, the same message
    if diffusers is None:
        fail("diffusers is needed to export: scripts/setup.sh installs it into .venv/ (or pip install diffusers)")
    names = args.dtype.split(",")
    for name in names:
        if name not in DTYPES:
            fail(f"--dtype: unknown dtype '{name}'; use {', '.join(sorted(DTYPES))}, or several comma-separated")
        if name == "fp16" and not args.device.startswith("cuda"):
            fail("--dtype fp16 needs --device cuda (CPU torch has no fp16 kernels for these layers); use bf16 or fp32 on CPU")
    if len(set(names)) != len(names):
        fail(f"--dtype names a dtype twice: {args.dtype}")
    formats = parse_formats(args.format)
    if flow_export.is_transformer_pipeline(diffusers, args.pipeline):  # SD3, Flux: a flow-matching transformer
        if len(names) > 1:
            fail("--dtype: a transformer pipeline is exported in one dtype at a time (give one, and --out per dtype)")
        if formats != ["torchscript"]:
            fail("--format aoti: transformer pipelines are exported as TorchScript only (their AOTInductor export "
                 "is not checked against diffusers yet); use --format torchscript")
        flow_export.export(args, diffusers, DTYPES[names[0]])
        return
    unet = load(diffusers.UNet2DConditionModel, args.pipeline, "unet").eval().to(args.device)
    vae = load(diffusers.AutoencoderKL, args.pipeline, "vae").eval().to(args.device)
    scheduler_text = read_scheduler_config(diffusers, args.pipeline)
    scheduler_config = json.loads(scheduler_text)
    if args.attention == "classic":
        from diffusers.models.attention_processor import AttnProcessor
        unet.set_attn_processor(AttnProcessor())
    factor = 2 ** (len(vae.config.block_out_channels) - 1)
    height = args.height or unet.config.sample_size * factor
    width = args.width or unet.config.sample_size * factor
    if height % factor or width % factor:
        fail(f"--height/--width must be multiples of {factor} (the VAE's downsampling)")
    shape = [args.batch, unet.config.in_channels, height // factor, width // factor]
    context = unet.config.cross_attention_dim
    cond_shape = [args.batch, 77, context]
    os.makedirs(args.out, exist_ok=True)
    embeddings = prompt_embeddings(diffusers, args.pipeline, args.prompt, args.negative_prompt, args.batch)
    manifest = {"role": "unet", "sample_shape": shape,
                "vae_scaling_factor": float(vae.config.scaling_factor),
                "prediction_type": scheduler_config.get("prediction_type", "epsilon"),
                "scheduler_config": "scheduler_config.json",
                "source": {"pipeline": args.pipeline, "pipeline_class": pipeline_class(args.pipeline),
                           "diffusers": diffusers.__version__, "torch": torch.__version__,
                           "attention": args.attention, "height": height, "width": width,
                           "traced_on": args.device},
                **recommended(args.pipeline, scheduler_config)}
    if embeddings:
        np.save(os.path.join(args.out, "cond.npy"), embeddings[0])
        np.save(os.path.join(args.out, "uncond.npy"), embeddings[1])
        manifest.update(cond="cond.npy", uncond="uncond.npy")
    else:
        manifest["cond_shape"] = cond_shape
    files = {name: (f"unet-{name}.pt", f"vae_decoder-{name}.pt") for name in names}
    files[names[0]] = ("unet.pt", "vae_decoder.pt")
    if len(names) > 1:
        manifest["dtype_models"] = {name: files[name][0] for name in names}
    if "aoti" in formats:  # each trace names its package: diffbench --compiled, ablate's compile toggle
        manifest["packages"] = {name: files[name][0] + "2" for name in names}
    for name in names:  # each dtype traced from the fp32 weights, never from another low-precision copy
        dtype = DTYPES[name]
        unet_d, vae_d = unet, vae
        if dtype != torch.float32:
            unet_d, vae_d = copy.deepcopy(unet).to(dtype), copy.deepcopy(vae).to(dtype)
        text_embeds, time_ids = sdxl_constants(unet_d, height, width, dtype)
        if text_embeds is not None:
            text_embeds, time_ids = text_embeds.to(args.device), time_ids.to(args.device)
        d = args.device
        example = (torch.randn(shape, dtype=dtype, device=d), torch.tensor(999, device=d),
                   torch.randn(cond_shape, dtype=dtype, device=d))
        write_export(args.out, UNetContract(unet_d, text_embeds, time_ids).eval(), VaeDecoder(vae_d), example,
                     scheduler_text, {**manifest, "dtype": name, "vae": files[name][1]}, files[name], name == names[0],
                     formats)
    written = ", ".join(f.replace(".pt", ".pt2") if fmt == "aoti" else f
                        for fmt in formats for name in names for f in files[name])
    print(f"wrote {args.out}: {written}, scheduler_config.json, diffbench.json"
          f"{', cond.npy, uncond.npy' if embeddings else ''}; run: diffbench --model {args.out}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        fail("interrupted")
    except OSError as e:
        fail(str(e))
