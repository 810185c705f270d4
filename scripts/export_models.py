#!/usr/bin/env python3
"""Export diffbench's deterministic stand-in models as TorchScript.

Run with Debian's /usr/bin/python3 (python3-torch). The weights are random but
seeded, so every export has the same weights (the zip container itself
is not byte-identical: it records archive metadata); the models have the shape of a real
latent-diffusion UNet (ResBlocks with GroupNorm + SiLU, sinusoidal time
embedding, self-attention at the lowest resolution, down/up sampling) so that
their cost per step behaves like a real one. They are timing models: their
samples are not images of anything.

    /usr/bin/python3 scripts/export_models.py --out models          # shipped set
    /usr/bin/python3 scripts/export_models.py --out /tmp/m --only tiny
    .venv/bin/python scripts/export_models.py --out /tmp/m --only tiny --format torchscript,aoti

Each file carries `diffbench.json` (torch.jit extra file) with its latent
shape, read by diffbench as the default `--shape`. `--format aoti` (torch 2.6+,
the main build's .venv/) also writes NAME.pt2, the same weights compiled by
AOTInductor for this machine at that shape (any batch): never commit one, it
holds machine code for the CPU it was made on (diffbench_tools/aoti.py).
"""
import argparse
import sys
import json
import math
import os
from typing import List, Optional

import torch
from torch import nn
import torch.nn.functional as F

from diffbench_tools.aoti import parse_formats
from diffbench_tools.cli import fail
from diffbench_tools.schedules import sd15_betas


def group_norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, channels), channels)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int, temb: int):
        super().__init__()
        self.norm1 = group_norm(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.temb = nn.Linear(temb, cout)
        self.norm2 = group_norm(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb(F.silu(emb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class Attention(nn.Module):
    """Self-attention over pixels, plus cross-attention when context_dim > 0."""

    def __init__(self, channels: int, context_dim: int):
        super().__init__()
        self.norm = group_norm(channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)
        self.has_context = context_dim > 0
        kv_in = context_dim if context_dim > 0 else channels
        self.to_q = nn.Linear(channels, channels)
        self.to_kv = nn.Linear(kv_in, 2 * channels)
        self.scale = 1.0 / math.sqrt(channels)

    def forward(self, x: torch.Tensor, context: Optional[torch.Tensor]) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, c, h * w).unbind(1)
        att = torch.softmax(torch.einsum("bci,bcj->bij", q, k) * self.scale, dim=-1)
        out = torch.einsum("bij,bcj->bci", att, v).reshape(b, c, h, w)
        x = x + self.proj(out)
        if context is not None:
            tokens = x.reshape(b, c, h * w).transpose(1, 2)
            kq = self.to_q(tokens)
            ck, cv = self.to_kv(context).chunk(2, dim=-1)
            catt = torch.softmax(kq @ ck.transpose(1, 2) * self.scale, dim=-1)
            x = x + (catt @ cv).transpose(1, 2).reshape(b, c, h, w)
        return x


class UNetCore(nn.Module):
    def __init__(self, in_ch: int, base: int, mult: List[int], context_dim: int):
        super().__init__()
        self.base = base
        temb = 4 * base
        self.time1 = nn.Linear(base, temb)
        self.time2 = nn.Linear(temb, temb)
        self.conv_in = nn.Conv2d(in_ch, base, 3, padding=1)
        chans = [base * m for m in mult]
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        cin = base
        for i, c in enumerate(chans):
            self.down.append(ResBlock(cin, c, temb))
            last = i == len(chans) - 1
            self.downsample.append(nn.Identity() if last else nn.Conv2d(c, c, 3, stride=2, padding=1))
            cin = c
        self.mid1 = ResBlock(cin, cin, temb)
        self.mid_attn = Attention(cin, context_dim)
        self.mid2 = ResBlock(cin, cin, temb)
        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for i, c in reversed(list(enumerate(chans))):
            self.up.append(ResBlock(cin + c, c, temb))
            self.upsample.append(nn.Identity() if i == 0 else nn.Upsample(scale_factor=2.0, mode="nearest"))
            cin = c
        self.norm_out = group_norm(cin)
        self.conv_out = nn.Conv2d(cin, in_ch, 3, padding=1)

    def embed(self, timestep: torch.Tensor, batch: int) -> torch.Tensor:
        t = timestep.to(torch.float32).reshape(-1).expand(batch)
        half = self.base // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
        args = t[:, None] * freqs[None, :].to(t.device)
        emb = torch.cat([torch.sin(args), torch.cos(args)], dim=1).to(self.time1.weight.dtype)
        return self.time2(F.silu(self.time1(emb)))

    def run(self, x: torch.Tensor, timestep: torch.Tensor, context: Optional[torch.Tensor]) -> torch.Tensor:
        emb = self.embed(timestep, x.shape[0]).to(x.dtype)
        h = self.conv_in(x)
        skips: List[torch.Tensor] = []
        for block, down in zip(self.down, self.downsample):
            h = block(h, emb)
            skips.append(h)
            h = down(h)
        h = self.mid2(self.mid_attn(self.mid1(h, emb), context), emb)
        for block, up in zip(self.up, self.upsample):
            h = block(torch.cat([h, skips.pop()], dim=1), emb)
            h = up(h)
        return self.conv_out(F.silu(self.norm_out(h)))


class UNet(nn.Module):
    """forward(sample, timestep): an unconditional latent UNet."""

    def __init__(self, in_ch: int, base: int, mult: List[int]):
        super().__init__()
        self.core = UNetCore(in_ch, base, mult, 0)

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
        return self.core.run(sample, timestep, None)


class CondUNet(nn.Module):
    """forward(sample, timestep, encoder_hidden_states) -> (sample,): like diffusers' UNet2DConditionModel."""

    def __init__(self, in_ch: int, base: int, mult: List[int], context_dim: int):
        super().__init__()
        self.core = UNetCore(in_ch, base, mult, context_dim)

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor,
                encoder_hidden_states: torch.Tensor) -> tuple[torch.Tensor]:
        return (self.core.run(sample, timestep, encoder_hidden_states),)


class VaeDecoder(nn.Module):
    """forward(latents) -> images in [-1, 1], 8x the latent resolution."""

    def __init__(self, in_ch: int, base: int):
        super().__init__()
        self.conv_in = nn.Conv2d(in_ch, base, 3, padding=1)
        layers: List[nn.Module] = []
        c = base
        for _ in range(3):
            layers += [nn.Upsample(scale_factor=2.0, mode="nearest"), nn.Conv2d(c, c // 2, 3, padding=1),
                       group_norm(c // 2), nn.SiLU()]
            c //= 2
        self.body = nn.Sequential(*layers)
        self.conv_out = nn.Conv2d(c, 3, 3, padding=1)

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.conv_out(self.body(self.conv_in(latents))))


class GaussianDenoiser(nn.Module):
    """The exact noise prediction for data x0 ~ N(mu, s^2 I) under SD 1.5's schedule:
    eps*(x_t, t) = sqrt(1 - a) (x_t - sqrt(a) mu) / (a s^2 + 1 - a). Fractional timesteps (the
    Euler family's) interpolate sigma linearly, as those samplers do. A real denoiser with no
    weights: sampler accuracy (--reference) means something on it."""

    def __init__(self, mu: float = 0.5, s: float = 0.5):
        super().__init__()
        betas = sd15_betas(dtype=torch.float32)
        alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
        self.register_buffer("sigmas", ((1 - alphas_cumprod) / alphas_cumprod) ** 0.5)
        self.mu = mu
        self.s = s

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor) -> torch.Tensor:
        t = timestep.to(torch.float32).reshape(-1)[0].clamp(0.0, 999.0)
        low = t.floor().clamp(max=998.0)
        w = t - low
        i = int(low.item())
        sigma = self.sigmas[i] * (1.0 - w) + self.sigmas[i + 1] * w
        a = 1.0 / (1.0 + sigma * sigma)
        x = sample.to(torch.float32)
        eps = (1.0 - a).sqrt() * (x - a.sqrt() * self.mu) / (a * self.s * self.s + 1.0 - a)
        return eps.to(sample.dtype)


MODELS = {
    # name: (constructor, metadata)
    "tiny": (lambda: UNet(4, 16, [1, 2]), {"kind": "unet", "sample_shape": [1, 4, 16, 16]}),
    "tiny_cond": (lambda: CondUNet(4, 16, [1, 2], 32),
                  {"kind": "unet", "sample_shape": [1, 4, 16, 16], "cond_shape": [1, 8, 32]}),
    "small": (lambda: UNet(4, 32, [1, 2, 2]), {"kind": "unet", "sample_shape": [1, 4, 32, 32]}),
    "vae_tiny": (lambda: VaeDecoder(4, 32), {"kind": "vae", "scale": 8}),
    "gaussian": (lambda: GaussianDenoiser(), {"kind": "unet", "sample_shape": [1, 4, 16, 16]}),
}


def aoti_example(meta: dict) -> tuple:
    """The inputs a package is compiled for: the latent shape (a float32 timestep, which takes the
    integer timesteps of the discrete samplers exactly), and the conditioning of a 3-input UNet."""
    if meta["kind"] == "vae":
        return (torch.randn(1, 4, 16, 16),), (0,)
    example = (torch.randn(meta["sample_shape"]), torch.tensor(999.0))
    if "cond_shape" in meta:
        return example + (torch.randn(meta["cond_shape"]),), (0, 2)
    return example, (0,)


def export(name: str, out_dir: str, formats=("torchscript",)) -> list:
    build, meta = MODELS[name]
    torch.manual_seed(1234)
    model = build().eval()
    meta = dict(meta, name=name, parameters=sum(p.numel() for p in model.parameters()))
    paths = []
    if "aoti" in formats and "torchscript" in formats:  # the trace names its package: --compiled, ablate's compile
        meta["packages"] = {"fp32": f"{name}.pt2"}
    if "torchscript" in formats:
        paths.append(os.path.join(out_dir, f"{name}.pt"))
        torch.jit.save(torch.jit.script(model), paths[-1],
                       _extra_files={"diffbench.json": json.dumps(meta, sort_keys=True)})
    if "aoti" in formats:
        if name == "gaussian":
            fail("the gaussian model cannot be compiled (its sigma lookup reads a tensor value); export it as torchscript")
        from diffbench_tools.aoti import compile_package
        example, batch_inputs = aoti_example(meta)
        paths.append(os.path.join(out_dir, f"{name}.pt2"))
        seconds = compile_package(model, example, paths[-1], {k: v for k, v in meta.items() if k != "packages"},
                                  batch_inputs)
        print(f"{paths[-1]}: compiled in {seconds:.1f} s")
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="models", help="output directory")
    parser.add_argument("--only", action="append", choices=sorted(MODELS), help="export just these")
    parser.add_argument("--format", default="torchscript",
                        help="torchscript (NAME.pt), aoti (NAME.pt2: AOTInductor, torch 2.6+), or both comma-separated")
    args = parser.parse_args()
    formats = parse_formats(args.format)
    os.makedirs(args.out, exist_ok=True)
    for name in args.only or sorted(MODELS):
        for path in export(name, args.out, formats):
            print(f"{path}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("export_models.py: interrupted")
    except OSError as e:
        fail(f"{e}")
