"""Export a flow-matching transformer pipeline (SD3: SD3Transformer2DModel; Flux:
FluxTransformer2DModel; a folder with transformer/, vae/ and scheduler/) to diffbench's model
contract, forward(sample [B,C,H,W], timestep, encoder_hidden_states) -> velocity [B,C,H,W], with
what else the pipeline hands its transformer baked in as constants: the pooled text projection
(zeros: no text encoder here), and for Flux the packing of 2x2 latent patches into tokens and back,
the image and text position ids, its timestep / 1000 convention and its distilled guidance. The
VAE decoder adds the VAE's shift_factor (latents / scaling + shift, as both pipelines decode)."""
import json
import os

import torch

from diffbench_tools.cli import fail
from diffbench_tools.pipeline_folder import load, pipeline_class, read_scheduler_config, write_export

TEXT_TOKENS = {"SD3Transformer2DModel": 333, "FluxTransformer2DModel": 512}  # CLIP 77 + T5 256; T5 512
DEFAULT_GUIDANCE = {"SD3Transformer2DModel": 7.0, "FluxTransformer2DModel": 1.0}  # Flux: distilled, no CFG


class SD3Contract(torch.nn.Module):
    def __init__(self, transformer, pooled):
        super().__init__()
        self.transformer = transformer
        self.register_buffer("pooled", pooled)

    def forward(self, sample, timestep, encoder_hidden_states):
        b = sample.shape[0]
        return self.transformer(hidden_states=sample, encoder_hidden_states=encoder_hidden_states,
                                pooled_projections=self.pooled.expand(b, -1), timestep=timestep.expand(b),
                                return_dict=False)[0]


class FluxContract(torch.nn.Module):
    """Packs [B,C,H,W] latents into (H/2)(W/2) tokens of 4C, as FluxPipeline._pack_latents, calls
    the transformer at timestep / 1000 and unpacks its output. The image ids are the export's
    --height/--width; the text ids (zeros) follow the conditioning's length."""

    def __init__(self, transformer, pooled, img_ids, guidance):
        super().__init__()
        self.transformer = transformer
        self.register_buffer("pooled", pooled)
        self.register_buffer("img_ids", img_ids)
        self.guided = guidance is not None
        if self.guided:
            self.register_buffer("guidance", guidance)

    def forward(self, sample, timestep, encoder_hidden_states):
        b, c, h, w = sample.shape
        tokens = sample.view(b, c, h // 2, 2, w // 2, 2).permute(0, 2, 4, 1, 3, 5).reshape(b, (h // 2) * (w // 2), c * 4)
        out = self.transformer(hidden_states=tokens, timestep=timestep.expand(b) / 1000,
                               guidance=self.guidance.expand(b) if self.guided else None,
                               pooled_projections=self.pooled.expand(b, -1), encoder_hidden_states=encoder_hidden_states,
                               txt_ids=torch.zeros_like(encoder_hidden_states[0, :, :3]), img_ids=self.img_ids,
                               return_dict=False)[0]
        return out.view(b, h // 2, w // 2, c, 2, 2).permute(0, 3, 1, 4, 2, 5).reshape(b, c, h, w)


class ShiftedVaeDecoder(torch.nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.vae = vae
        self.shift = float(vae.config.get("shift_factor") or 0.0)

    def forward(self, latents):
        return self.vae.decode(latents + self.shift, return_dict=False)[0]


def image_ids(h, w):
    """FluxPipeline._prepare_latent_image_ids: (row, column) of each 2x2 patch, channel 0 zero."""
    ids = torch.zeros(h, w, 3)
    ids[..., 1] += torch.arange(h)[:, None]
    ids[..., 2] += torch.arange(w)[None, :]
    return ids.reshape(h * w, 3)


def is_transformer_pipeline(diffusers, source):
    """A folder with transformer/, or a hub id whose model_index.json names a transformer."""
    if os.path.isdir(source):
        return os.path.isdir(os.path.join(source, "transformer"))
    try:
        return "transformer" in diffusers.DiffusionPipeline.load_config(source)
    except Exception:  # noqa: BLE001  (no network here: the UNet path then says what failed)
        return False


def transformer_class(diffusers, source):
    try:
        if os.path.isdir(source):
            with open(os.path.join(source, "transformer", "config.json")) as f:
                name = json.load(f).get("_class_name")
        else:
            name = diffusers.ModelMixin.load_config(source, subfolder="transformer").get("_class_name")
    except (OSError, ValueError) as e:
        fail(f"cannot read the transformer config of '{source}': {e}")
    if name not in TEXT_TOKENS:
        fail(f"'{source}' has a {name} transformer; diffbench exports SD3Transformer2DModel and FluxTransformer2DModel")
    return name


def export(args, diffusers, dtype):
    name = transformer_class(diffusers, args.pipeline)
    flux = name == "FluxTransformer2DModel"
    transformer = load(getattr(diffusers, name), args.pipeline, "transformer").eval().to(args.device, dtype)
    vae = load(diffusers.AutoencoderKL, args.pipeline, "vae").eval().to(args.device, dtype)
    scheduler_text = read_scheduler_config(diffusers, args.pipeline)
    factor = 2 ** (len(vae.config.block_out_channels) - 1)
    cfg = transformer.config
    patch = 2 if flux else cfg.patch_size
    default = 1024 if flux else cfg.sample_size * factor
    height, width = args.height or default, args.width or default
    if height % (factor * patch) or width % (factor * patch):
        fail(f"--height/--width must be multiples of {factor * patch} (the VAE's downsampling x the patch size)")
    shape = [args.batch, cfg.in_channels // 4 if flux else cfg.in_channels, height // factor, width // factor]
    cond_shape = [args.batch, TEXT_TOKENS[name], cfg.joint_attention_dim]
    d = args.device
    pooled = torch.zeros(1, cfg.pooled_projection_dim, dtype=dtype, device=d)
    if flux:
        guidance = torch.tensor([args.flux_guidance], dtype=torch.float32, device=d) if cfg.guidance_embeds else None
        wrapper = FluxContract(transformer, pooled, image_ids(shape[2] // 2, shape[3] // 2).to(d, dtype), guidance)
    else:
        wrapper = SD3Contract(transformer, pooled)
    manifest = {"role": "unet", "sample_shape": shape, "cond_shape": cond_shape, "vae": "vae_decoder.pt",
                "vae_scaling_factor": float(vae.config.scaling_factor), "prediction_type": "flow_prediction",
                "scheduler_config": "scheduler_config.json", "dtype": args.dtype, "sampler": "flow_euler",
                "steps": 28, "guidance_scale": DEFAULT_GUIDANCE[name], "patch_size": patch,
                "flow_sigmas": "linspace" if flux else "scheduler",
                "source": {"pipeline": args.pipeline, "pipeline_class": pipeline_class(args.pipeline),
                           "transformer_class": name, "diffusers": diffusers.__version__, "torch": torch.__version__,
                           "height": height, "width": width, "traced_on": d,
                           "vae_shift_factor": ShiftedVaeDecoder(vae).shift, "text": "zeros (no text encoder)"}}
    if flux and cfg.guidance_embeds:
        manifest["source"]["flux_guidance"] = args.flux_guidance
    example = (torch.randn(shape, dtype=dtype, device=d), torch.tensor(1000.0, device=d),
               torch.randn(cond_shape, dtype=dtype, device=d))
    write_export(args.out, wrapper, ShiftedVaeDecoder(vae), example, scheduler_text, manifest)
    print(f"wrote {args.out}: unet.pt ({name}), vae_decoder.pt, scheduler_config.json, diffbench.json; "
          f"run: diffbench --model {args.out}")
