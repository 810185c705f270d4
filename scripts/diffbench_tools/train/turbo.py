"""Distil the one-step Turbo student from the teacher: adversarial diffusion distillation (Sauer
et al. 2023) in miniature, so that ONE step of diffbench's `turbo` sampler draws a digit.

    .venv/bin/python scripts/train.py turbo            # ~25 minutes on 2 cores (the teacher must exist)
    .venv/bin/python scripts/train.py turbo --quick    # a few iterations on the --quick teacher (tests)

One turbo step (Euler Ancestral, trailing spacing, t = 999, sigma_max = 14.6) turns noise n into
    x0 = sigma n - sigma eps(sigma n / sqrt(sigma^2 + 1), 999, c),
and the student (the teacher's architecture, initialised from it, predicting epsilon) is trained on
exactly that expression, in two losses:

- distillation: mean squared error, in latent space, between the student's one-step x0 and the
  teacher's multi-step sample from the same noise and class (DDIM, 20 trailing steps, the
  teacher's recommended guidance 1: its best FD, docs/models.md). The pairs are drawn once, before
  training (the teacher is deterministic from the noise, so the map to learn is a function).
- adversarial: a hinge GAN loss from a small discriminator. As in ADD, its features are frozen and
  pretrained; as in Latent ADD, they are the teacher's own (its UNet down to the middle block, on the
  sample noised to a random t below 400), so they see latents, need no decoder and are not the
  feature network FD measures with (a discriminator on those would optimise the metric itself).
  Trainable heads on those features, with a projection on the class embedding, tell real data
  latents from the student's.

Loss weights: distillation 1; adversarial 0.05, off for the first 30% of iterations. Distillation
carries the student from the teacher's blurred one-step mean to the teacher's samples; the
adversarial term then only has to sharpen what regression averages out. ADD weighs its
distillation term 2.5 against an adversarial 1 on pixel distances of order 1; our latent MSE is of
order 0.1 and the hinge generator loss of order 1, so the same balance (adversarial a minority of
the gradient) is about 0.05 here. Writes models/digits/turbo.pt with a manifest naming the turbo
sampler, 1 step and configs/sdxl-turbo.json, the loss curve and the model card (turbo-card.json).
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from diffbench_tools.train import common
from diffbench_tools.train import students

FEATURE_T_MAX = 400


def teacher_samples(setup, noise, labels, steps, guidance, chunk=500):
    """The teacher's DDIM (eta 0) samples from `noise`, `steps` trailing timesteps from 999."""
    ts = [round(1000 - i * 1000 / steps) - 1 for i in range(steps)]
    outs = []
    for start in range(0, len(noise), chunk):
        z, hidden = noise[start:start + chunk], setup.cond[labels[start:start + chunk]]
        with torch.no_grad():
            for i, t in enumerate(ts):
                tt = torch.full((len(z),), t, dtype=torch.long)
                eps = setup.guided_eps(z, tt, hidden, guidance)
                a = setup.alphas[t]
                a_prev = setup.alphas[ts[i + 1]] if i + 1 < len(ts) else setup.alphas[0]
                x0 = (z - (1 - a).sqrt() * eps) / a.sqrt()
                z = a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps if i + 1 < len(ts) else x0
        outs.append(z)
    return torch.cat(outs)


class Discriminator(nn.Module):
    """Trainable heads on frozen teacher features (8x8 after the first level, 4x4 after the middle)
    with a class projection (Miyato & Koyama 2018)."""

    def __init__(self, features, base=64):
        super().__init__()
        self.features = features
        sn = nn.utils.spectral_norm
        self.head8 = nn.Sequential(sn(nn.Conv2d(base, base, 3, padding=1)), nn.LeakyReLU(0.2),
                                   sn(nn.Conv2d(base, base, 4, stride=2, padding=1)), nn.LeakyReLU(0.2))
        self.head4 = nn.Sequential(sn(nn.Conv2d(2 * base, base, 3, padding=1)), nn.LeakyReLU(0.2))
        self.out = sn(nn.Linear(2 * base * 16, 1))
        self.embed = nn.Embedding(10, 2 * base * 16)

    def forward(self, latents, t, hidden, labels):
        f8, f4 = mid_features(self.features, latents, t, hidden)
        h = torch.cat([self.head8(f8), self.head4(f4)], dim=1).flatten(1)
        return self.out(h).squeeze(1) + (self.embed(labels) * h).sum(1) / h.shape[1] ** 0.5


def mid_features(net, x, t, hidden):
    """The teacher's activations after its first level (8x8) and its middle block (4x4)."""
    emb = net.embed_time(t, x.shape[0]) + net.context(hidden.mean(dim=1))
    h = net.conv_in(x)
    for block in net.down1:
        h = block(h, emb)
    return h, net.mid2(net.attn(net.mid1(net.down(h), emb)), emb)


def one_step(student, noise, hidden, sigma):
    """The turbo sampler's single Euler step from t = 999 to sigma 0."""
    x = sigma * noise
    t = torch.full((len(noise),), 999, dtype=torch.long)
    return x - sigma * student(x / (sigma ** 2 + 1) ** 0.5, t, hidden)


def main():
    p = common.training_parser(__doc__, quick="a few iterations on the --quick teacher (tests)", iterations=4000)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--pairs", type=int, default=20000, help="teacher samples drawn before training")
    p.add_argument("--teacher-steps", type=int, default=20)
    p.add_argument("--guidance", type=float, default=1.0, help="the teacher's CFG scale for its samples")
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--adversarial-weight", type=float, default=0.05)
    p.add_argument("--adversarial-start", type=float, default=0.3, help="fraction of iterations before it is on")
    args = p.parse_args()
    iterations, batch, pairs, teacher_steps = (30, 16, 128, 4) if args.quick else (
        args.iterations, args.batch, args.pairs, args.teacher_steps)
    out = os.path.join(common.DATA, "quick") if args.quick else args.out
    common.start(args.seed)
    setup = students.Setup(args.quick)
    gen = torch.Generator().manual_seed(args.seed)
    log = common.LossLog("turbo")
    noise = torch.randn(pairs, 4, 8, 8, generator=gen)
    labels = torch.randint(0, 10, (pairs,), generator=gen)
    goals = teacher_samples(setup, noise, labels, teacher_steps, args.guidance)
    print(f"turbo: {pairs} teacher samples ({teacher_steps} DDIM steps) in {log.elapsed():.0f} s", file=sys.stderr)
    sigma = float(((1 - setup.alphas[999]) / setup.alphas[999]).sqrt())
    student = setup.student()
    frozen = setup.student().eval()
    for q in frozen.parameters():
        q.requires_grad_(False)
    disc = Discriminator(frozen)
    heads = [q for n, q in disc.named_parameters() if not n.startswith("features.")]
    opt_g = torch.optim.AdamW(student.parameters(), lr=args.lr if not args.quick else 1e-3, weight_decay=0.0)
    opt_d = torch.optim.AdamW(heads, lr=2e-4, betas=(0.0, 0.99), weight_decay=0.0)
    start_adv = int(args.adversarial_start * iterations)
    for it in range(iterations):
        idx = torch.randint(0, pairs, (batch,), generator=gen)
        hidden = setup.cond[labels[idx]]
        fake = one_step(student, noise[idx], hidden, sigma)
        loss_distill = F.mse_loss(fake, goals[idx])
        loss = loss_distill
        if it >= start_adv:
            t_d = torch.randint(0, FEATURE_T_MAX, (batch,), generator=gen)
            a = setup.alphas[t_d][:, None, None, None]
            n_d = torch.randn(fake.shape, generator=gen)
            real, real_labels, real_hidden = setup.batch(batch, gen)
            d_fake = disc(a.sqrt() * fake + (1 - a).sqrt() * n_d, t_d, hidden, labels[idx])
            loss = loss + args.adversarial_weight * (-d_fake.mean())
        opt_g.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        opt_g.step()
        if it >= start_adv:
            d_real = disc(a.sqrt() * real + (1 - a).sqrt() * n_d, t_d, real_hidden, real_labels)
            d_fake = disc(a.sqrt() * fake.detach() + (1 - a).sqrt() * n_d, t_d, hidden, labels[idx])
            loss_d = F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
        log.add(it, loss_distill.item())
        if it % 250 == 0:
            print(f"turbo: iteration {it}/{iterations} distillation {loss_distill.item():.4f} "
                  f"({log.elapsed():.0f} s)", file=sys.stderr)
    meta = {"name": "Turbo student of the digit teacher", "sampler": "turbo", "steps": 1, "guidance_scale": 1.0,
            **students.scheduler_config("sdxl-turbo.json"), "distilled_guidance": args.guidance,
            "distilled_from": "unet.pt"}
    setup.finish(student, "turbo", out, meta,
                 {"iterations": iterations, "batch": batch, "lr": args.lr, "pairs": pairs,
                  "teacher_steps": teacher_steps, "teacher_guidance": args.guidance,
                  "distillation_weight": 1.0, "adversarial_weight": args.adversarial_weight,
                  "adversarial_start": start_adv, "discriminator_t_max": FEATURE_T_MAX,
                  "loss_logged": "the distillation term"}, log)
