"""What the two distilled students (lcm.py, turbo.py) share: the frozen teacher, the data latents,
the conditioning tables, the teacher's guided epsilon, and writing a student next to the teacher.

A student has the teacher's architecture (scripts/train.py teacher: DigitUNet) and starts from its
weights, so it costs the teacher's time per step and only its step count differs. It is sampled
with the teacher's conditioning tables (cond.npy, uncond.npy), its VAE and its quality files, which
its manifest names relative to itself, as the teacher's does.
"""
import json
import os

import numpy as np
import torch

from diffbench_tools import torchscript
from diffbench_tools.train import common
from diffbench_tools.train import teacher as teacher_module


class Setup:
    """The teacher (frozen TorchScript and an editable DigitUNet copy), the training latents and
    labels, the conditioning tables and the SD 1.5 schedule, for --quick or the real models."""

    def __init__(self, quick, teacher_dir=None):
        self.quick = quick
        self.teacher_dir = teacher_dir or (os.path.join(common.DATA, "quick") if quick else
                                           os.path.join(common.MODELS, "digits"))
        unet_path = os.path.join(self.teacher_dir, "unet.pt")
        vae_path = os.path.join(common.DATA, "digits_vae_quick.pt" if quick else "digits_vae.pt")
        for path, how in ((unet_path, "scripts/train.py teacher"), (vae_path, "scripts/train.py vae")):
            if not os.path.exists(path):
                common.fail(f"{path} is missing: run {how}{' --quick' if quick else ''} first")
        self.teacher = torchscript.load(unet_path).eval()
        for q in self.teacher.parameters():
            q.requires_grad_(False)
        self.meta = json.loads(_read_manifest(unet_path))
        x_train, self.labels = common.split(quick)["train"]
        self.mean, self.logvar, self.scaling = teacher_module.encode_latents(vae_path, x_train)
        self.cond = torch.from_numpy(np.load(os.path.join(self.teacher_dir, "cond.npy")))      # 10 x 1 x D
        self.uncond = torch.from_numpy(np.load(os.path.join(self.teacher_dir, "uncond.npy")))  # 1 x 1 x D
        self.alphas = teacher_module.sd15_alphas_cumprod()

    def student(self):
        """A trainable DigitUNet with the teacher's weights."""
        net = teacher_module.DigitUNet()
        net.load_state_dict(self.teacher.state_dict())
        return net

    def batch(self, size, gen):
        """Data latents z0 (sampled from the encoder's posterior, scaled as the teacher saw them),
        their labels and the matching encoder_hidden_states."""
        idx = torch.randint(0, len(self.mean), (size,), generator=gen)
        z0 = (self.mean[idx] + torch.randn(self.mean[idx].shape, generator=gen) * (0.5 * self.logvar[idx]).exp())
        labels = self.labels[idx]
        return z0 * self.scaling, labels, self.cond[labels]

    def guided_eps(self, z, t, hidden, guidance):
        """The teacher's classifier-free guided epsilon, eps_u + w (eps_c - eps_u), in one batched
        forward as diffbench runs it; w = 1 is the conditional model alone."""
        if guidance == 1.0:
            return self.teacher(z, t, hidden)
        n = z.shape[0]
        both = self.teacher(torch.cat([z, z]), torch.cat([t, t]), torch.cat([hidden, self.uncond.expand(n, -1, -1)]))
        eps_c, eps_u = both[:n], both[n:]
        return eps_u + guidance * (eps_c - eps_u)

    def finish(self, net, name, out, meta, card, log):
        """Save the student with its manifest, card and loss curve; name it in the teacher's manifest
        when it sits beside the teacher."""
        card = dict(card, wall_s=round(log.elapsed(), 1), final_loss=log.points[-1][1], loss_fell=bool(log.falling()))
        self.save(net, name, out, meta, card)
        log.save(out)
        if os.path.abspath(out) == os.path.abspath(self.teacher_dir):
            link_student(out, meta["sampler"], f"{name}.pt")
        print(f"{name}: {log.elapsed():.0f} s, final loss {log.points[-1][1]:.5f}; wrote {out}/{name}.pt")

    def save(self, net, name, out, meta, card):
        """Write out/NAME.pt with the teacher's manifest plus `meta`, and the model card."""
        manifest = dict(self.meta, **meta)
        hidden = self.cond.reshape(10, 1, -1)
        path = common.save_torchscript(net, os.path.join(out, f"{name}.pt"),
                                       (torch.zeros(10, 4, 8, 8), torch.tensor(999), hidden), manifest)
        common.write_card(out, name, dict(card, parameters=sum(q.numel() for q in net.parameters())))
        return path


def link_student(teacher_dir, sampler, file_name):
    """Name the student in the teacher's manifest (sampler_models), so that a bare `diffbench` on the
    default model runs `sampler` on it. Only the manifest changes: the TorchScript code and weights
    are saved back as they were."""
    path = os.path.join(teacher_dir, "unet.pt")
    meta = json.loads(_read_manifest(path))
    meta.setdefault("sampler_models", {})[sampler] = file_name
    module = torchscript.load(path)
    torch.jit.save(module, path, _extra_files={"diffbench.json": json.dumps(meta, sort_keys=True)})


def scheduler_config(name):
    """The manifest entries for a diffusers scheduler config of configs/: the config itself (so the
    model file is self-contained) and where it came from."""
    with open(os.path.join(common.ROOT, "configs", name)) as f:
        return {"scheduler_config": json.load(f), "scheduler_config_source": f"configs/{name}"}


def _read_manifest(path):
    files = {"diffbench.json": ""}
    torchscript.load(path, _extra_files=files)
    return files["diffbench.json"]
