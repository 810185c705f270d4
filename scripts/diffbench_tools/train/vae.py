"""Train the autoencoder that plays Stable Diffusion's VAE for the shipped digit models.

    .venv/bin/python scripts/train.py vae            # minutes on 2 cores (docs/models.md has the wall time)
    .venv/bin/python scripts/train.py vae --quick    # a few iterations on a few hundred digits

Images 1x32x32 in [-1, 1] <-> latents 4x8x8, a KL-regularised autoencoder as SD's (Rombach et
al. 2022), with a small KL weight so the latents stay close to a unit Gaussian's shape. The
scaling factor is computed as SD's was: 1 / std of the training latents (samples of the
posterior). Writes models/digits/vae_decoder.pt (TorchScript, forward(latents) -> images in
[-1, 1]), data/digits_vae.pt (the whole autoencoder, for the teacher's training; git-ignored) and
its model card next to the decoder.
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from diffbench_tools.train import common


class Res(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.n1, self.c1 = nn.GroupNorm(8, c), nn.Conv2d(c, c, 3, padding=1)
        self.n2, self.c2 = nn.GroupNorm(8, c), nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        h = self.c1(F.silu(self.n1(x)))
        return x + self.c2(F.silu(self.n2(h)))


class Encoder(nn.Module):
    def __init__(self, latent=4):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), Res(16), nn.Conv2d(16, 32, 3, stride=2, padding=1),  # 16x16
            Res(32), nn.Conv2d(32, 64, 3, stride=2, padding=1), Res(64),                       # 8x8
            nn.GroupNorm(8, 64), nn.SiLU(), nn.Conv2d(64, 2 * latent, 3, padding=1))

    def forward(self, x):
        mean, logvar = self.net(x).chunk(2, dim=1)
        return mean, logvar.clamp(-20, 10)


class Decoder(nn.Module):
    """forward(latents [B, 4, 8, 8]) -> images [B, 1, 32, 32] in [-1, 1] (the shipped VAE decoder)."""

    def __init__(self, latent=4):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(latent, 64, 3, padding=1), Res(64),
            nn.Upsample(scale_factor=2.0, mode="nearest"), nn.Conv2d(64, 32, 3, padding=1), Res(32),   # 16x16
            nn.Upsample(scale_factor=2.0, mode="nearest"), nn.Conv2d(32, 16, 3, padding=1), Res(16),   # 32x32
            nn.GroupNorm(8, 16), nn.SiLU(), nn.Conv2d(16, 1, 3, padding=1), nn.Tanh())

    def forward(self, latents):
        return self.net(latents)


class Autoencoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder, self.decoder = Encoder(), Decoder()


def main():
    p = common.training_parser(__doc__, quick="a few iterations on a few hundred digits (tests)", iterations=3000)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--kl-weight", type=float, default=1e-3)
    args = p.parse_args()
    iterations = 30 if args.quick else args.iterations
    common.start(args.seed)
    data = common.split(args.quick)
    x_train, _ = data["train"]
    x_held, _ = data["held_out"]
    model = Autoencoder()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, iterations)
    log = common.LossLog("vae")
    gen = torch.Generator().manual_seed(args.seed)
    for it in range(iterations):
        idx = torch.randint(0, len(x_train), (args.batch,), generator=gen)
        x = x_train[idx]
        mean, logvar = model.encoder(x)
        z = mean + torch.randn(mean.shape, generator=gen) * (0.5 * logvar).exp()
        recon = model.decoder(z)
        kl = 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar).mean()
        loss = F.mse_loss(recon, x) + args.kl_weight * kl
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        log.add(it, loss.item())
        if it % 500 == 0:
            print(f"vae: iteration {it}/{iterations} loss {loss.item():.4f} ({log.elapsed():.0f} s)", file=sys.stderr)
    model.eval()
    with torch.no_grad():
        mean, logvar = model.encoder(x_train)
        z = mean + torch.randn(mean.shape, generator=gen) * (0.5 * logvar).exp()
        scaling = float(1.0 / z.std())
        held_mse = float(F.mse_loss(model.decoder(model.encoder(x_held)[0]), x_held))
    out = args.out if not args.quick else os.path.join(common.DATA, "quick")
    os.makedirs(common.DATA, exist_ok=True)
    torch.save({"state_dict": model.state_dict(), "scaling_factor": scaling}, os.path.join(
        common.DATA, "digits_vae_quick.pt" if args.quick else "digits_vae.pt"))
    common.save_torchscript(model.decoder, os.path.join(out, "vae_decoder.pt"), (torch.zeros(1, 4, 8, 8),),
                            {"role": "vae_decoder", "latent_shape": [4, 8, 8], "image_shape": [1, 32, 32],
                             "vae_scaling_factor": scaling})
    log.save(out)
    common.write_card(out, "vae", {"iterations": iterations, "batch": args.batch, "kl_weight": args.kl_weight,
                                   "wall_s": round(log.elapsed(), 1), "vae_scaling_factor": scaling,
                                   "held_out_mse": held_mse, "final_loss": log.points[-1][1],
                                   "loss_fell": bool(log.falling())})
    print(f"vae: scaling factor {scaling:.4f}, held-out MSE {held_mse:.4f}, {log.elapsed():.0f} s; wrote {out}")

