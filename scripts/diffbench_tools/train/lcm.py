"""Distil the LCM student from the teacher: latent consistency distillation (Luo et al. 2023,
Algorithm 1), so that diffbench's `lcm` sampler draws digits in 1-8 steps.

    .venv/bin/python scripts/train.py lcm            # ~25 minutes on 2 cores (the teacher must exist)
    .venv/bin/python scripts/train.py lcm --quick    # a few iterations on the --quick teacher (tests)

Each iteration takes data latents z0 and a point t_{n+k} of the DDIM grid LCMScheduler samples
from (original_inference_steps 50 of 1000: t = 19, 39, ..., 999, skipping interval k = 20),
noises z0 to it, and runs ONE DDIM step of the teacher's guided ODE (eps_u + w (eps_c - eps_u),
fixed w) to the adjacent point t_n. The student's consistency function at t_{n+k} is pulled
towards the target network's at t_n (an EMA of the student, 0.95, Algorithm 1's theta^-), with a
pseudo-Huber distance (c = 0.001). Both consistency functions use the boundary-condition
parameterisation diffusers' LCMScheduler applies at sampling time:
    f(z, t) = c_skip(t) z + c_out(t) x0(z, t),  c_skip = s^2 / ((10 t)^2 + s^2),
    c_out = 10 t / sqrt((10 t)^2 + s^2),  s = 0.5 (sigma_data), 10 = timestep_scaling,
so f(z, 0) = z. The student is initialised from the teacher and predicts epsilon like it.

Guidance is folded in: the student learns the teacher's w-guided ODE and is sampled with no CFG
(its manifest says guidance_scale 1). w defaults to 1.5: the teacher's own best FD is unguided
(docs/models.md), and every step of w above 1.5 cost it FD fast (20 DDIM steps: 43.0 at w = 1,
50.1 at 1.5, 85.8 at 2), so 1.5 exercises the folding LCM does at the least cost in quality.
Writes models/digits/lcm.pt with a manifest naming the lcm sampler, 4 steps and
configs/lcm-sd15.json, the loss curve and the model card (lcm-card.json).
"""
import copy
import os
import sys

import torch
import torch.nn as nn

from diffbench_tools.train import common
from diffbench_tools.train import students

SIGMA_DATA = 0.5
TIMESTEP_SCALING = 10.0  # configs/lcm-sd15.json and diffusers' LCMScheduler default
ORIGINAL_STEPS = 50       # LCMScheduler's original_inference_steps: the distillation grid
HUBER_C = 0.001


def boundary(t):
    """c_skip(t), c_out(t) of LCMScheduler's boundary condition, broadcast over latents."""
    scaled = t.double() * TIMESTEP_SCALING
    c_skip = SIGMA_DATA ** 2 / (scaled ** 2 + SIGMA_DATA ** 2)
    c_out = scaled / (scaled ** 2 + SIGMA_DATA ** 2).sqrt()
    return c_skip.float()[:, None, None, None], c_out.float()[:, None, None, None]


def consistency(net, z, t, hidden, alphas):
    """f(z, t) = c_skip z + c_out x0, x0 from the network's epsilon."""
    a = alphas[t][:, None, None, None]
    x0 = (z - (1 - a).sqrt() * net(z, t, hidden)) / a.sqrt()
    c_skip, c_out = boundary(t)
    return c_skip * z + c_out * x0


def ddim_step(eps, z, t, t_prev, alphas):
    """One DDIM (eta 0) step of the teacher's ODE from t to t_prev; t_prev < 0 is the end of the
    grid, where diffusers' DDIM solver uses alphas_cumprod[0]."""
    a = alphas[t][:, None, None, None]
    a_prev = alphas[t_prev.clamp(min=0)][:, None, None, None]
    x0 = (z - (1 - a).sqrt() * eps) / a.sqrt()
    return a_prev.sqrt() * x0 + (1 - a_prev).sqrt() * eps


def main():
    p = common.training_parser(__doc__, quick="a few iterations on the --quick teacher (tests)", iterations=4000)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--guidance", type=float, default=1.5, help="the teacher's CFG scale w folded into the student")
    p.add_argument("--ema", type=float, default=0.95, help="decay of the target network (Algorithm 1's mu)")
    args = p.parse_args()
    iterations, batch = (40, 32) if args.quick else (args.iterations, args.batch)
    out = os.path.join(common.DATA, "quick") if args.quick else args.out
    common.start(args.seed)
    setup = students.Setup(args.quick)
    student = setup.student()
    target = copy.deepcopy(student).eval()
    for q in target.parameters():
        q.requires_grad_(False)
    k = len(setup.alphas) // ORIGINAL_STEPS
    grid = torch.arange(1, ORIGINAL_STEPS + 1) * k - 1  # 19, 39, ..., 999
    opt = torch.optim.AdamW(student.parameters(), lr=args.lr if not args.quick else 1e-3, weight_decay=0.0)
    log = common.LossLog("lcm")
    gen = torch.Generator().manual_seed(args.seed)
    for it in range(iterations):
        z0, _, hidden = setup.batch(batch, gen)
        t = grid[torch.randint(0, ORIGINAL_STEPS, (batch,), generator=gen)]
        t_prev = t - k
        a = setup.alphas[t][:, None, None, None]
        z = a.sqrt() * z0 + (1 - a).sqrt() * torch.randn(z0.shape, generator=gen)
        with torch.no_grad():
            z_prev = ddim_step(setup.guided_eps(z, t, hidden, args.guidance), z, t, t_prev, setup.alphas)
            goal = consistency(target, z_prev, t_prev.clamp(min=0), hidden, setup.alphas)
        pred = consistency(student, z, t, hidden, setup.alphas)
        loss = (((pred - goal) ** 2).mean(dim=(1, 2, 3)) + HUBER_C ** 2).sqrt().mean() - HUBER_C
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            for pt, ps in zip(target.parameters(), student.parameters()):
                pt.mul_(args.ema).add_(ps, alpha=1 - args.ema)
        log.add(it, loss.item())
        if it % 250 == 0:
            print(f"lcm: iteration {it}/{iterations} loss {loss.item():.5f} ({log.elapsed():.0f} s)", file=sys.stderr)
    meta = {"name": "LCM student of the digit teacher", "sampler": "lcm", "steps": 4, "guidance_scale": 1.0,
            **students.scheduler_config("lcm-sd15.json"), "distilled_guidance": args.guidance,
            "distilled_from": "unet.pt"}
    setup.finish(target, "lcm", out, meta,
                 {"iterations": iterations, "batch": batch, "lr": args.lr, "target_ema": args.ema,
                  "guidance_folded": args.guidance, "skipping_interval": k, "timestep_scaling": TIMESTEP_SCALING,
                  "huber_c": HUBER_C}, log)
